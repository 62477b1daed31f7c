//! Persian spelling: the letters and zero-width non-joiners of a Persian document,
//! made standard before it is segmented, detected and sent.
//!
//! Persian typed on an Arabic keyboard (or saved in windows-1256) uses the Arabic
//! letters ي, ى and ك where Persian writes ی and ک, and much Persian text leaves out
//! the zero-width non-joiner (ZWNJ, U+200C) that Persian morphology puts between a
//! word and its prefix or suffix (`می‌شود`, `کتاب‌ها`): the word is then run together
//! (`میشود`). Translation engines and the cache see the standard spelling more often,
//! and a reviewer reads it more easily. [`respell_document`] decides whether a
//! document is Persian (by [`crate::detect`]'s letter and word evidence, for which
//! ي/ك/ى count for neither language) and then, line by line, leaves alone lines that
//! are clearly Arabic (a quotation: more Arabic-only than Persian-only evidence) and
//! respells the others ([`respell`]):
//!
//! 1. **Letters**: ي and ى become ی, ك becomes ک.
//! 2. **ZWNJ**, only inside a word written without one, the way established Persian
//!    normalizers do it (hazm's `Normalizer` is the reference; its lexicon is ours):
//!    - a compound the lexicon lists with a ZWNJ (`پیش‌فرض`);
//!    - the verb prefixes می/نمی before a verb form: a present stem with a person
//!      ending, or a past stem with or without one (`میکند` → `می‌کند`, but `میز`,
//!      `میدان`, `میلاد` are no verb forms and stay); a lone `می`/`نمی` followed by a
//!      verb form is joined to it the same way;
//!    - the plural and its extensions (ها، های، هایی، هایم …) after a known word or a
//!      word ending in silent heh, and only after a joining letter: after ا د ذ ر ز ژ و
//!      the ZWNJ changes nothing on screen and careful writers leave it out;
//!      `Xهای` whose `Xه` is a more frequent word than `X` is `Xه‌ای` (`ویژه‌ای`);
//!      words ending in ها that are no plurals (تنها، انتها …) and the pronouns
//!      آنها/اینها (written both ways) are left as they are;
//!    - ای، ام، اند، است … after silent heh, when the word before is a past participle
//!      (`کردهاند` → `کرده‌اند`) or a known word while the whole is not;
//!    - تر/ترین after a known word that does not end in a non-joining letter, when
//!      the whole is not a word of its own (`دفتر`, `بهترین` stay).
//!
//! The lexicon (`src/ingest/lexicon/`) is derived from hazm 0.10.0's data (MIT
//! licence): its verb stems, its 30,000 most frequent words and its compounds written
//! with a ZWNJ (`tests/fixtures/real/persian_lexicon.py` rebuilds it). Measured on
//! real Persian text with its ZWNJs removed, the repair restores them with a
//! precision of 0.96 and a recall of 0.82 (`cargo test --test it real_corpus::`).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

/// The zero-width non-joiner.
pub const ZWNJ: char = '\u{200C}';

/// Letters after which a ZWNJ changes nothing (they never join the next letter).
const NON_JOINING: &str = "اآأإدذرزژوؤۀة";

/// Plural suffixes, longest first.
const PLURAL: &[&str] = &[
    "هایشان",
    "هایتان",
    "هایمان",
    "هایش",
    "هایت",
    "هایم",
    "هایی",
    "های",
    "ها",
];

/// Words ending like a plural that are not one, and the pronouns written both ways.
const NOT_PLURAL: &[&str] = &[
    "تنها",
    "انتها",
    "اشتها",
    "منتها",
    "تنهای",
    "انتهای",
    "تنهایی",
    "انتهایی",
    "آنها",
    "اینها",
    "آنهایی",
    "اینهایی",
    "آنهای",
    "اینهای",
];

/// Enclitics after silent heh.
const AFTER_HEH: &[&str] = &["ایم", "اید", "اند", "است", "ای", "ام", "ات", "اش"];

/// Comparative and superlative.
const COMPARATIVE: &[&str] = &["ترین", "تر"];

/// Person endings after a present stem (with the glide after a vowel-final stem).
const PRESENT_ENDINGS: &[&str] = &["م", "ی", "د", "یم", "ید", "ند", "یی", "ییم", "یید", "یند"];
/// Person endings after a past stem (the third person singular has none).
const PAST_ENDINGS: &[&str] = &["", "م", "ی", "یم", "ید", "ند"];

struct Lexicon {
    past: HashSet<&'static str>,
    present: HashSet<&'static str>,
    /// Frequency rank (0 = most frequent) of words written without a ZWNJ.
    rank: HashMap<&'static str, usize>,
    /// Glued form → the compound written with its ZWNJ.
    compounds: HashMap<String, &'static str>,
}

fn data_lines(text: &'static str) -> impl Iterator<Item = &'static str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

static LEXICON: LazyLock<Lexicon> = LazyLock::new(|| {
    let (mut past, mut present) = (HashSet::new(), HashSet::new());
    for line in data_lines(include_str!("lexicon/verbs.txt")) {
        let mut parts = line.split(' ');
        let (Some(pa), Some(pr)) = (parts.next(), parts.next()) else {
            continue;
        };
        if pa != "-" {
            past.insert(pa);
        }
        if pr != "-" {
            present.insert(pr);
        }
    }
    let rank = data_lines(include_str!("lexicon/words.txt"))
        .enumerate()
        .map(|(i, w)| (w, i))
        .collect();
    let compounds = data_lines(include_str!("lexicon/zwnj.txt"))
        .map(|w| (w.replace(ZWNJ, ""), w))
        .collect();
    Lexicon {
        past,
        present,
        rank,
        compounds,
    }
});

/// Arabic yeh, alef maksura and kaf as Persian writes them.
#[must_use]
pub(crate) fn persian_letters(text: &str) -> Cow<'_, str> {
    if !text.contains(['ي', 'ى', 'ك']) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| match c {
                'ي' | 'ى' => 'ی',
                'ك' => 'ک',
                c => c,
            })
            .collect(),
    )
}

/// Respell a Persian text: Persian letters, then ZWNJs restored (see the module doc).
#[must_use]
pub fn respell(text: &str) -> String {
    repair_zwnj(&persian_letters(text))
}

/// Respell a whole document when it is Persian; lines that are clearly Arabic
/// (quotations) are left as written. A document in another language comes back
/// unchanged (borrowed).
#[must_use]
pub fn respell_document(text: &str) -> Cow<'_, str> {
    if crate::detect::detect(text) != "fa" {
        return Cow::Borrowed(text);
    }
    let lines: Vec<Cow<'_, str>> = text.split('\n').map(respell_unless_arabic).collect();
    Cow::Owned(lines.join("\n"))
}

/// [`respell`] a line or paragraph of a Persian text, unless it is clearly Arabic (a
/// quotation: more Arabic-only than Persian-only evidence), which stays as written.
/// `translate import` keys a `fa` correction with this, as ingest spelled it.
#[must_use]
pub(crate) fn respell_unless_arabic(text: &str) -> Cow<'_, str> {
    let e = crate::detect::evidence(text);
    if e.arabic > e.persian {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(respell(text))
    }
}

/// Restore the ZWNJs of Persian words written without them (see the module doc).
/// Only ZWNJs are added (and a space between می/نمی and its verb becomes one); every
/// other character stays in place.
#[must_use]
pub fn repair_zwnj(text: &str) -> String {
    let pieces = runs(text);
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    let mut i = 0;
    while i < pieces.len() {
        let (is_word, piece) = pieces[i];
        if !is_word {
            out.push_str(piece);
            i += 1;
            continue;
        }
        if matches!(piece, "می" | "نمی")
            && let Some(&[(false, " "), (true, verb)]) = pieces.get(i + 1..i + 3)
            && is_verb_form(verb)
        {
            out.push_str(&join(piece, verb));
            i += 3;
            continue;
        }
        match fix_word(piece) {
            Some(fixed) => out.push_str(&fixed),
            None => out.push_str(piece),
        }
        i += 1;
    }
    out
}

/// `text` cut into alternating runs of word characters (`true`) and the rest.
fn runs(text: &str) -> Vec<(bool, &str)> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut current = None;
    for (i, c) in text.char_indices() {
        let w = is_word_char(c);
        if current.is_some_and(|k| k != w) {
            pieces.push((current.unwrap_or(false), &text[start..i]));
            start = i;
        }
        current = Some(w);
    }
    if let Some(k) = current {
        pieces.push((k, &text[start..]));
    }
    pieces
}

/// Letters of Persian words (and the ZWNJ inside them); punctuation, digits and
/// diacritics end a word.
fn is_word_char(c: char) -> bool {
    matches!(c, '\u{0621}'..='\u{063A}' | '\u{0641}'..='\u{064A}' | '\u{0671}'..='\u{06D3}')
        || c == ZWNJ
}

fn known(w: &str) -> bool {
    LEXICON.rank.contains_key(w)
}

/// Whether `a` is a more frequent word than `b` (an unknown word is the rarest).
fn more_frequent(a: &str, b: &str) -> bool {
    match (LEXICON.rank.get(a), LEXICON.rank.get(b)) {
        (Some(x), Some(y)) => x < y,
        (Some(_), None) => true,
        _ => false,
    }
}

/// A verb form after می/نمی: present stem + person ending, or past stem + ending.
fn is_verb_form(rest: &str) -> bool {
    let stem_with = |endings: &[&str], stems: &HashSet<&'static str>| {
        endings.iter().any(|e| {
            rest.strip_suffix(e)
                .is_some_and(|s| !s.is_empty() && stems.contains(s))
        })
    };
    stem_with(PRESENT_ENDINGS, &LEXICON.present) || stem_with(PAST_ENDINGS, &LEXICON.past)
}

fn char_len(s: &str) -> usize {
    s.chars().count()
}

fn last_is_non_joining(s: &str) -> bool {
    s.chars()
        .next_back()
        .is_some_and(|c| NON_JOINING.contains(c))
}

fn join(a: &str, b: &str) -> String {
    format!("{a}{ZWNJ}{b}")
}

/// The word with its ZWNJ restored, or `None` when it stays as written.
fn fix_word(w: &str) -> Option<String> {
    if w.contains(ZWNJ) {
        return None;
    }
    if let Some(&c) = LEXICON.compounds.get(w) {
        return Some(c.to_owned());
    }
    let prefix = if w.starts_with("نمی") {
        "نمی"
    } else {
        "می"
    };
    if let Some(rest) = w.strip_prefix(prefix)
        && char_len(rest) >= 2
        && is_verb_form(rest)
    {
        return Some(join(prefix, rest));
    }
    if let Some(s) = PLURAL.iter().find(|s| w.ends_with(**s)) {
        return fix_plural(w, s);
    }
    for s in AFTER_HEH {
        if let Some(x) = w.strip_suffix(s)
            && char_len(x) >= 3
            && let Some(stem) = x.strip_suffix('ه')
            && (LEXICON.past.contains(stem) || (known(x) && !known(w)))
        {
            return Some(join(x, s));
        }
    }
    for s in COMPARATIVE {
        if let Some(x) = w.strip_suffix(s)
            && char_len(x) >= 2
            && !known(w)
            && known(x)
            && !last_is_non_joining(x)
        {
            return Some(join(x, s));
        }
    }
    None
}

/// `w` ends with the plural suffix `s`.
fn fix_plural(w: &str, s: &str) -> Option<String> {
    let x = w.strip_suffix(s)?;
    if char_len(x) < 2 || NOT_PLURAL.contains(&w) {
        return None;
    }
    if let Some(enclitic) = s.strip_prefix('ه')
        && s.starts_with("های")
        && !x.ends_with('ه')
    {
        let with_heh = format!("{x}ه");
        if more_frequent(&with_heh, x) {
            return Some(join(&with_heh, enclitic));
        }
    }
    if last_is_non_joining(x) {
        return None;
    }
    (known(x) || x.ends_with('ه')).then(|| join(x, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_and_prefixes() {
        assert_eq!(persian_letters("يك كتاب"), "یک کتاب");
        assert_eq!(repair_zwnj("او میشود و نمیکند"), "او می‌شود و نمی‌کند");
        assert_eq!(repair_zwnj("میز و میدان"), "میز و میدان");
        assert_eq!(repair_zwnj("او می رود."), "او می‌رود.");
        assert_eq!(repair_zwnj("ماه می و"), "ماه می و");
    }

    #[test]
    fn suffixes() {
        assert_eq!(repair_zwnj("فرمانهای"), "فرمان‌های");
        assert_eq!(repair_zwnj("کارها"), "کارها");
        assert_eq!(repair_zwnj("گروههای"), "گروه‌های");
        assert_eq!(repair_zwnj("تنها"), "تنها");
        assert_eq!(repair_zwnj("کردهاند"), "کرده‌اند");
        assert_eq!(repair_zwnj("دفتر"), "دفتر");
        // Punctuation ends a word; existing ZWNJs are left alone.
        assert_eq!(repair_zwnj("میشود،"), "می‌شود،");
        assert_eq!(repair_zwnj("می‌شود"), "می‌شود");
    }

    #[test]
    fn only_zwnj_is_added() {
        let t = "این متن، برای آزمایش است: کتابهایی که میخوانیم 12 بار!";
        let r = repair_zwnj(t);
        assert_eq!(r.replace(ZWNJ, ""), t);
    }
}
