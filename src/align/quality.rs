//! Quality flags: cheap checks that point a reviewer at translations worth a look.
//!
//! Every check compares one paragraph with its translation, except
//! [`Flag::SameTarget`], which looks across a document. They only flag: a flagged
//! translation is still used, written and cached. Rows without a translation get no
//! quality flag.
//!
//! - [`Flag::Empty`]: the translation is blank. No other check runs on it.
//! - [`Flag::NumberMismatch`]: the numbers of the two sides differ as sets.
//!   Arabic-Indic (`٠-٩`) and Persian (`۰-۹`) digits count as ASCII ones; a `,` or
//!   `٬` followed by exactly three digits is a thousands separator (`1,500` =
//!   `١٥٠٠`); a single `.`, `٫` or other `,` between digits is a decimal point; a run
//!   with several points (`12.10.2024`) is several numbers. Leading zeros and a
//!   fraction's trailing zeros do not count. A number missing on one side is excused
//!   when the other side has it times a power of 1000 (`100 ألف` = `100,000`) or,
//!   for 0 to 12, writes it as a word (`ثلاثة` = `3`, `سوم` = `3rd`: English,
//!   Arabic and Persian cardinals and ordinals).
//! - [`Flag::Untranslated`]: the translation equals the source (whitespace aside),
//!   or, for a target language not written in the Arabic script, contains two or
//!   more words in Arabic script. One such word is tolerated: translations often keep
//!   a name or term in the original beside its rendering.
//! - [`Flag::LengthRatio`]: `r = len(translation) / len(source)` (characters as the
//!   sentence aligner counts them) is too far from the pair's usual ratio `c`
//!   ([`LengthModel::ratio`]): `|ln(r / c)| > A + B / √len(source)`, with
//!   [`RATIO_SLACK`] as `A` for measured pairs (plus [`GENERIC_SLACK`] for others)
//!   and [`SHORT_SLACK`] as `B`, so that short paragraphs, whose ratio varies more,
//!   get wider bounds.
//! - [`Flag::Truncated`]: the source ends with sentence punctuation (`. ! ? ؟ …
//!   ۔`, closing quotes and brackets aside) and the translation ends with none of
//!   them nor a colon.
//! - [`Flag::SameTarget`]: two rows of a document with different sources have the
//!   same translation (whitespace aside); every such row is flagged.

use std::collections::{BTreeMap, BTreeSet};

use super::sentence::{LengthModel, text_len};
use crate::model::{Flag, Row};
use crate::segment::sentences::ends_with_terminal;

/// `A` of the length-ratio bound, for measured pairs: a long translation may be up
/// to e^0.5 ≈ 1.65 times longer or shorter than usual. The largest deviation in the
/// measured UDHR pairs is e^0.54 on an 85-character unit, whose bound is e^0.83.
pub const RATIO_SLACK: f64 = 0.5;

/// Extra `A` for pairs whose usual ratio was not measured (ratio 1 is assumed).
pub const GENERIC_SLACK: f64 = 0.4;

/// `B` of the length-ratio bound: the widening for short sources. At 20 characters
/// the bound is about e^1.17 (3.2 times), at 150 e^0.74 (2.1 times), at 1000 e^0.6
/// (1.8 times). The ratio of a sentence varies with `√(s²/len)` in the Gale–Church
/// model, hence the square root.
pub const SHORT_SLACK: f64 = 3.0;

/// Target languages written in the Arabic script (their translations are Arabic
/// script by nature).
const ARABIC_SCRIPT_TARGETS: &[&str] = &["ar", "fa", "ur", "ps", "ku", "sd", "ug", "prs"];

/// The quality flags of one translated paragraph, in [`Flag::QUALITY`] order
/// (without [`Flag::SameTarget`], which [`mark_same_target`] sets).
#[must_use]
pub fn paragraph_flags(source: &str, target: &str, to: &str, model: LengthModel) -> Vec<Flag> {
    if target.trim().is_empty() {
        return vec![Flag::Empty];
    }
    let mut out = Vec::new();
    if number_mismatch(source, target) {
        out.push(Flag::NumberMismatch);
    }
    if untranslated(source, target, to) {
        out.push(Flag::Untranslated);
    }
    if length_out_of_bounds(source, target, model) {
        out.push(Flag::LengthRatio);
    }
    if ends_with_terminal(source)
        && !ends_with_terminal(target)
        && !target.trim_end().ends_with(':')
    {
        out.push(Flag::Truncated);
    }
    out
}

/// Flag [`Flag::SameTarget`] on every row whose (non-blank) translation is shared
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
            row.flags.push(Flag::SameTarget);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::align::sentence::length_model;

    /// Seed 000, paragraph on the attacks (real text).
    const SEED_145: &str = "وتعاني روسيا من تداعيات هجمات متعددة مرتبطة بتنظيم «داعش خراسان»، بما في ذلك الهجوم الذي أسفر عن مقتل 145 شخصاً في مارس (آذار) الماضي، والذي تبناه التنظيم.";
    const EN_145: &str = "Russia is suffering the fallout of several attacks linked to ISIS-Khorasan, including the attack that killed 145 people last March, which the group claimed.";
    /// Seed 003 (Persian digits), lines 20–24 joined.
    const SEED_FA: &str = "دیپلمات درباره انگیزه های اصلی این اقدام گفته است ضدیت مشترک با داعش عامل کلیدی این چرخش دیپلماتیک است. پس از حمله خونین به تالار کرکوس در مارس ۲۰۲۴ که بیش از ۱۵۰ کشته برجای گذاشت، مقامات روسی معتقدند شاخه خراسان داعش – که در افغانستان فعال است – تهدید اصلی امنیت ملی آنها محسوب می شود.";
    const EN_FA: &str = "The Diplomat said the shared hostility to ISIS is the key factor in this diplomatic turn. After the bloody attack on Crocus Hall in March 2024, which left more than 150 dead, Russian officials believe the Khorasan branch of ISIS, which is active in Afghanistan, is the main threat to their national security.";
    /// Seed 000, first line (a headline).
    const SEED_TITLE: &str = "روسيا تعترف رسمياً بحكومة طالبان في أفغانستان كأول دولة تفعل ذلك";
    const EN_TITLE: &str = "Russia officially recognizes the Taliban government in Afghanistan, the first country to do so";
    /// Seed 000, the 2003 paragraph.
    const SEED_2003: &str = "كما قامت روسيا الشهر الماضي بحذف حركة «طالبان» رسمياً من قائمة المنظمات الإرهابية التي أدرجتها في عام 2003.";
    const EN_2003: &str = "Last month Russia also officially removed the Taliban from the list of terrorist organizations on which it had placed it in 2003.";

    fn check(source: &str, target: &str, from: &str) -> Vec<Flag> {
        paragraph_flags(source, target, "en", length_model(from, "en"))
    }

    #[test]
    fn correct_translations_of_seed_paragraphs_get_no_flag() {
        assert_eq!(check(SEED_145, EN_145, "ar"), Vec::<Flag>::new());
        assert_eq!(check(SEED_FA, EN_FA, "fa"), Vec::<Flag>::new());
        assert_eq!(check(SEED_TITLE, EN_TITLE, "ar"), Vec::<Flag>::new());
        assert_eq!(check(SEED_2003, EN_2003, "ar"), Vec::<Flag>::new());
    }

    #[test]
    fn number_mismatch_on_a_wrong_or_missing_number() {
        let wrong = EN_145.replace("145", "154");
        assert_eq!(check(SEED_145, &wrong, "ar"), vec![Flag::NumberMismatch]);
        // Persian digits: ۲۰۲۴ must be 2024, ۱۵۰ must be 150.
        let wrong_year = EN_FA.replace("2024", "2023");
        assert_eq!(
            check(SEED_FA, &wrong_year, "fa"),
            vec![Flag::NumberMismatch]
        );
        // A number added by the translation counts too.
        let added = EN_2003.replace("Last month", "On 3 June");
        assert_eq!(check(SEED_2003, &added, "ar"), vec![Flag::NumberMismatch]);
    }

    #[test]
    fn numbers_are_compared_across_scripts_separators_and_words() {
        assert!(!number_mismatch(
            "بلغ ١٬٥٠٠ دولار في ٢٠٢٤",
            "It reached 1,500 dollars in 2024"
        ));
        assert!(!number_mismatch("بلغ 1,500 دولار", "It reached ١٥٠٠"));
        assert!(!number_mismatch("نما ١٫٥ في المئة", "grew 1.50 percent"));
        assert!(!number_mismatch("نحو 100 ألف شخص", "about 100,000 people"));
        assert!(!number_mismatch("يوم 12.10.2024", "on 12.10.2024."));
        // Seed 003: "روز سه شنبه سوم جولای" (Tuesday the third of July).
        assert!(!number_mismatch(
            "روز سه شنبه سوم جولای",
            "on Tuesday, July 3"
        ));
        assert!(!number_mismatch(
            "وأعلنت ثلاثة دول",
            "and 3 countries announced"
        ));
        assert!(number_mismatch("نما ١٫٥ في المئة", "grew 15 percent"));
        assert!(number_mismatch(
            "بلغ 1,500 دولار",
            "It reached 1,600 dollars"
        ));
    }

    #[test]
    fn untranslated_when_echoed_or_left_in_arabic_script() {
        assert_eq!(
            check(SEED_TITLE, SEED_TITLE, "ar"),
            vec![Flag::Untranslated]
        );
        let half =
            "Russia officially recognizes حكومة طالبان in Afghanistan, the first country to do so";
        assert_eq!(check(SEED_TITLE, half, "ar"), vec![Flag::Untranslated]);
        // One word kept in the original beside its rendering is tolerated.
        let kept = "Russia officially recognizes the Taliban (طالبان) government in Afghanistan, the first country to do so";
        assert_eq!(check(SEED_TITLE, kept, "ar"), Vec::<Flag>::new());
        // Into an Arabic-script language only the echo counts.
        let fa = "روسیه رسماً دولت طالبان در افغانستان را به رسمیت می شناسد";
        let model = length_model("ar", "fa");
        assert_eq!(
            paragraph_flags(SEED_TITLE, fa, "fa", model),
            Vec::<Flag>::new()
        );
    }

    #[test]
    fn length_ratio_far_outside_the_pair() {
        let short = "Russia is suffering from attacks.";
        assert!(check(SEED_145, short, "ar").contains(&Flag::LengthRatio));
        let long = format!("{EN_145} {EN_145} {EN_145}");
        assert!(check(SEED_145, &long, "ar").contains(&Flag::LengthRatio));
        // A short headline may be rendered much longer or shorter without a flag.
        assert_eq!(
            check(
                "روسيا تدعم طالبان",
                "Russia supports the Taliban movement",
                "ar"
            ),
            Vec::<Flag>::new()
        );
        assert_eq!(
            check("روسيا تدعم طالبان", "Russia backs Taliban", "ar"),
            Vec::<Flag>::new()
        );
    }

    #[test]
    fn empty_translation_gets_only_empty() {
        assert_eq!(check(SEED_145, "  ", "ar"), vec![Flag::Empty]);
        assert_eq!(check(SEED_145, "", "ar"), vec![Flag::Empty]);
    }

    #[test]
    fn truncated_when_the_translation_stops_mid_sentence() {
        let cut = "Last month Russia also officially removed the Taliban from the list of terrorist organizations on which it had placed it in 2003 and";
        assert_eq!(check(SEED_2003, cut, "ar"), vec![Flag::Truncated]);
        // Closing quotes after the full stop still end the sentence (seed 004).
        let quote = "وأضاف: «سنقدم أفضل مساعدة لدينا للسلطات (الأفغانية) من خلال هياكل متخصصة».";
        let en = "He added: \"We will provide our best help to the (Afghan) authorities through specialized structures.\"";
        assert_eq!(check(quote, en, "ar"), Vec::<Flag>::new());
        // A headline without final punctuation may be translated without one.
        assert_eq!(check(SEED_TITLE, EN_TITLE, "ar"), Vec::<Flag>::new());
    }
}
