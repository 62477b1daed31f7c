//! Quality flags: cheap checks that point a reviewer at translations worth a look.
//!
//! Every check compares one paragraph with its translation, except
//! [`flags::SAME_TARGET`], which looks across a document. They only flag: a flagged
//! translation is still used, written and cached. Rows without a translation get no
//! quality flag.
//!
//! - [`flags::EMPTY`]: the translation is blank. No other check runs on it.
//! - [`flags::NUMBER_MISMATCH`]: the numbers of the two sides differ as sets.
//!   Arabic-Indic (`٠-٩`) and Persian (`۰-۹`) digits count as ASCII ones; a `,` or
//!   `٬` followed by exactly three digits is a thousands separator (`1,500` =
//!   `١٥٠٠`); a single `.`, `٫` or other `,` between digits is a decimal point; a run
//!   with several points (`12.10.2024`) is several numbers. Leading zeros and a
//!   fraction's trailing zeros do not count. A number missing on one side is excused
//!   when the other side has it times a power of 1000 (`100 ألف` = `100,000`) or,
//!   for 0 to 12, writes it as a word (`ثلاثة` = `3`, `سوم` = `3rd`: English,
//!   Arabic and Persian cardinals and ordinals).
//! - [`flags::UNTRANSLATED`]: the translation equals the source (whitespace aside),
//!   or, for a target language not written in the Arabic script, contains two or
//!   more words in Arabic script. One such word is tolerated: translations often keep
//!   a name or term in the original beside its rendering.
//! - [`flags::LENGTH_RATIO`]: `r = len(translation) / len(source)` (characters as the
//!   sentence aligner counts them) is too far from the pair's usual ratio `c`
//!   ([`LengthModel::ratio`]): `|ln(r / c)| > A + B / √len(source)`, with
//!   [`RATIO_SLACK`] as `A` for measured pairs (plus [`GENERIC_SLACK`] for others)
//!   and [`SHORT_SLACK`] as `B`, so that short paragraphs, whose ratio varies more,
//!   get wider bounds.
//! - [`flags::TRUNCATED`]: the source ends with sentence punctuation (`. ! ? ؟ …
//!   ۔`, closing quotes and brackets aside) and the translation ends with none of
//!   them nor a colon.
//! - [`flags::SAME_TARGET`]: two rows of a document with different sources have the
//!   same translation (whitespace aside); every such row is flagged.

use std::collections::{BTreeMap, BTreeSet};

use super::sentence::{LengthModel, text_len};
use crate::model::{Row, flags};
use crate::segment::sentences::ends_with_terminal;

/// `A` of the length-ratio bound, for measured pairs: a long translation may be up
/// to e^0.6 ≈ 1.8 times longer or shorter than usual. The largest deviation in the
/// measured UDHR pairs is e^0.54.
pub const RATIO_SLACK: f64 = 0.6;

/// Extra `A` for pairs whose usual ratio was not measured (ratio 1 is assumed).
pub const GENERIC_SLACK: f64 = 0.4;

/// `B` of the length-ratio bound: the widening for short sources. At 20 characters
/// the bound is about e^1.5 (4.6 times), at 100 about e^1.0, at 1000 about e^0.73.
pub const SHORT_SLACK: f64 = 4.0;

/// Target languages written in the Arabic script (their translations are Arabic
/// script by nature).
const ARABIC_SCRIPT_TARGETS: &[&str] = &["ar", "fa", "ur", "ps", "ku", "sd", "ug", "prs"];

/// The quality flags of one translated paragraph, in [`flags::QUALITY`] order
/// (without [`flags::SAME_TARGET`], which [`mark_same_target`] sets).
#[must_use]
pub fn paragraph_flags(
    source: &str,
    target: &str,
    to: &str,
    model: LengthModel,
) -> Vec<&'static str> {
    if target.trim().is_empty() {
        return vec![flags::EMPTY];
    }
    let mut out = Vec::new();
    if number_mismatch(source, target) {
        out.push(flags::NUMBER_MISMATCH);
    }
    if untranslated(source, target, to) {
        out.push(flags::UNTRANSLATED);
    }
    if length_out_of_bounds(source, target, model) {
        out.push(flags::LENGTH_RATIO);
    }
    if ends_with_terminal(source)
        && !ends_with_terminal(target)
        && !target.trim_end().ends_with(':')
    {
        out.push(flags::TRUNCATED);
    }
    out
}

/// Flag [`flags::SAME_TARGET`] on every row whose (non-blank) translation is shared
/// with a row of a different source.
pub fn mark_same_target(rows: &mut [Row]) {
    let mut sources: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in rows.iter() {
        if let Some(target) = row.target.as_deref().filter(|t| !t.trim().is_empty()) {
            sources
                .entry(collapse(target))
                .or_default()
                .insert(collapse(&row.source));
        }
    }
    for row in rows.iter_mut() {
        let shared = row
            .target
            .as_deref()
            .and_then(|t| sources.get(&collapse(t)))
            .is_some_and(|s| s.len() > 1);
        if shared {
            row.flags.push(flags::SAME_TARGET.into());
        }
    }
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// See the module doc.
fn length_out_of_bounds(source: &str, target: &str, model: LengthModel) -> bool {
    let (s, t) = (text_len(&collapse(source)), text_len(&collapse(target)));
    if s == 0 || t == 0 {
        return false;
    }
    #[allow(clippy::cast_precision_loss)]
    let (s, t) = (s as f64, t as f64);
    let slack = RATIO_SLACK + if model.measured { 0.0 } else { GENERIC_SLACK };
    ((t / s) / model.ratio).ln().abs() > slack + SHORT_SLACK / s.sqrt()
}

/// See the module doc.
fn untranslated(source: &str, target: &str, to: &str) -> bool {
    if collapse(source) == collapse(target) && source.chars().any(char::is_alphabetic) {
        return true;
    }
    let base = to
        .split(['-', '_'])
        .next()
        .unwrap_or(to)
        .to_ascii_lowercase();
    if ARABIC_SCRIPT_TARGETS.contains(&base.as_str()) {
        return false;
    }
    let arabic_words = target
        .split_whitespace()
        .filter(|w| {
            w.chars()
                .any(|c| c.is_alphabetic() && crate::detect::is_arabic_script(c))
        })
        .count();
    arabic_words >= 2
}

/// See the module doc.
fn number_mismatch(source: &str, target: &str) -> bool {
    let (ns, nt) = (numbers(source), numbers(target));
    let missing = |from: &BTreeSet<Number>, other: &BTreeSet<Number>, other_text: &str| {
        from.iter()
            .any(|n| !other.contains(n) && !excused(n, other, other_text))
    };
    missing(&ns, &nt, target) || missing(&nt, &ns, source)
}

/// A number as written, reduced to a canonical form: integer digits without
/// leading zeros, and fraction digits without trailing zeros.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Number {
    int: String,
    frac: String,
}

/// Whether `n`, missing from `other`, is there in another form.
fn excused(n: &Number, other: &BTreeSet<Number>, other_text: &str) -> bool {
    let scaled = other
        .iter()
        .any(|o| o.frac.is_empty() && scales(n, o) || n.frac.is_empty() && scales(o, n));
    let small = n.frac.is_empty() && n.int.len() <= 2 && n.int.parse::<u8>().is_ok_and(|v| v <= 12);
    scaled || (small && has_number_word(other_text, n.int.parse().unwrap_or(u8::MAX)))
}

/// Whether `big` is `small` times 1000, 1000² or 1000³ (`1.5` and `1500000`).
fn scales(small: &Number, big: &Number) -> bool {
    let digits = format!("{}{}", small.int.trim_start_matches('0'), small.frac);
    (1..=3).any(|k| {
        let zeros = 3 * k;
        zeros >= small.frac.len() && {
            let expected = format!("{digits}{}", "0".repeat(zeros - small.frac.len()));
            expected.trim_start_matches('0') == big.int
        }
    })
}

/// Every number in `text`; see the module doc for what counts as one.
fn numbers(text: &str) -> BTreeSet<Number> {
    let ascii: String = text.chars().map(ascii_digit).collect();
    let mut out = BTreeSet::new();
    let mut run = String::new();
    for c in ascii.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() || (matches!(c, ',' | '.') && !run.is_empty()) {
            run.push(c);
        } else if !run.is_empty() {
            out.extend(parse_run(run.trim_end_matches([',', '.'])));
            run.clear();
        }
    }
    out
}

/// Arabic-Indic and Persian digits as ASCII; `٫` as `.`, `٬` as `,`.
fn ascii_digit(c: char) -> char {
    match c {
        '\u{0660}'..='\u{0669}' => char::from(b'0' + (u32::from(c) - 0x0660) as u8),
        '\u{06F0}'..='\u{06F9}' => char::from(b'0' + (u32::from(c) - 0x06F0) as u8),
        '٫' => '.',
        '٬' => ',',
        _ => c,
    }
}

/// One run of digits and separators (`1,500.25`, `12.10.2024`) as numbers.
fn parse_run(run: &str) -> Vec<Number> {
    let bytes = run.as_bytes();
    let mut kept = String::new();
    for (i, &b) in bytes.iter().enumerate() {
        let thousands = b == b','
            && bytes.len() >= i + 4
            && bytes[i + 1..i + 4].iter().all(u8::is_ascii_digit)
            && bytes.get(i + 4).is_none_or(|c| !c.is_ascii_digit());
        if !thousands {
            kept.push(char::from(b));
        }
    }
    let parts: Vec<&str> = kept.split([',', '.']).collect();
    let number = |int: &str, frac: &str| Number {
        int: match int.trim_start_matches('0') {
            "" => "0".to_string(),
            s => s.to_string(),
        },
        frac: frac.trim_end_matches('0').to_string(),
    };
    match parts.as_slice() {
        [int] => vec![number(int, "")],
        [int, frac] => vec![number(int, frac)],
        many => many.iter().map(|p| number(p, "")).collect(),
    }
}

/// Words for 0–12 (cardinal and ordinal) in English, Arabic and Persian.
const NUMBER_WORDS: [&[&str]; 13] = [
    &["zero", "صفر"],
    &[
        "one",
        "first",
        "واحد",
        "واحدة",
        "أول",
        "أولى",
        "الأول",
        "الأولى",
        "یک",
        "اول",
        "نخست",
        "یکم",
    ],
    &[
        "two",
        "second",
        "اثنان",
        "اثنين",
        "اثنتان",
        "اثنتين",
        "ثاني",
        "ثانية",
        "دو",
        "دوم",
    ],
    &[
        "three",
        "third",
        "ثلاث",
        "ثلاثة",
        "ثالث",
        "ثالثة",
        "سه",
        "سوم",
    ],
    &[
        "four",
        "fourth",
        "أربع",
        "أربعة",
        "رابع",
        "رابعة",
        "چهار",
        "چهارم",
    ],
    &[
        "five",
        "fifth",
        "خمس",
        "خمسة",
        "خامس",
        "خامسة",
        "پنج",
        "پنجم",
    ],
    &["six", "sixth", "ست", "ستة", "سادس", "سادسة", "شش", "ششم"],
    &[
        "seven",
        "seventh",
        "سبع",
        "سبعة",
        "سابع",
        "سابعة",
        "هفت",
        "هفتم",
    ],
    &[
        "eight",
        "eighth",
        "ثماني",
        "ثمانية",
        "ثمان",
        "ثامن",
        "ثامنة",
        "هشت",
        "هشتم",
    ],
    &["nine", "ninth", "تسع", "تسعة", "تاسع", "تاسعة", "نه", "نهم"],
    &["ten", "tenth", "عشر", "عشرة", "عاشر", "عاشرة", "ده", "دهم"],
    &["eleven", "eleventh", "یازده", "یازدهم"],
    &["twelve", "twelfth", "دوازده", "دوازدهم"],
];

/// Whether `text` writes `n` (0–12) as a word. Arabic words may carry the clitics
/// `و ف ب ل` and the article `ال`.
fn has_number_word(text: &str, n: u8) -> bool {
    let Some(words) = NUMBER_WORDS.get(usize::from(n)) else {
        return false;
    };
    text.split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .any(|w| {
            let lower = w.to_lowercase();
            let bare = lower.strip_prefix(['و', 'ف', 'ب', 'ل']).unwrap_or(&lower);
            let bare_article = bare.strip_prefix("ال").unwrap_or(bare);
            let whole_article = lower.strip_prefix("ال").unwrap_or(&lower);
            [lower.as_str(), bare, bare_article, whole_article]
                .iter()
                .any(|w| words.contains(w))
        })
}
