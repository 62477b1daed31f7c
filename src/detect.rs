//! Detect: the language of documents and paragraphs.
//!
//! This module owns the language codes the rest of the pipeline sees: `ar`, `fa`,
//! `en`, another ISO 639-1 code when the detector is confident, or `und`.
//!
//! - **Arabic-script text** (at least half of its letters) is decided by script
//!   evidence ([`evidence`]), because statistical detectors confuse Arabic and Persian
//!   on short or loan-word-heavy paragraphs. Letters only Persian uses (پ چ ژ گ) and
//!   frequent Persian-only words (است، این، را، از، می ...) count for `fa`; teh
//!   marbuta ة and Arabic-only function words (الذي، التي، في، هذا ...) count for
//!   `ar`. The yeh, kaf and digits of either keyboard (ي ى ك and Arabic-Indic digits;
//!   ی ک and Persian digits) are what a Persian writer on an Arabic keyboard, or in
//!   windows-1256, types too, and the other way round, so they decide only when no
//!   letter or word above does: Persian written with ي/ك is still `fa`, Arabic
//!   written with ی is still `ar`. Words are matched with ي/ك/ى folded to ی/ک. Urdu needs letters only Urdu uses (ٹ ڈ ڑ ں ے ۓ) and
//!   Pashto letters only Pashto uses (ټ ډ ړ ږ ښ ګ ڼ ې ۍ), at 2% of the letters or
//!   more; a statistical guess never makes a paragraph Urdu. On a tie `whatlang`
//!   decides between Persian and Arabic, and the answer is `ar` unless it says
//!   Persian.
//! - **Other text** goes to `whatlang` and its answer is kept at a confidence of
//!   [`MIN_CONFIDENCE`] or more. Short Latin fragments it cannot place (at most
//!   [`SHORT_WORDS`] words, ASCII only: "Smiley face", "banquemisr", "AFP") are `en`:
//!   in Arabic and Persian press pages they are English UI strings, credits and brand
//!   names, and `en` lets the pipeline treat them as already English rather than send
//!   them. Longer text it cannot place is `und`.
//! - Text without letters (digits, punctuation, dates) is `und`, and so is a short
//!   Arabic-script fragment (four words or fewer) with no letter or word of one
//!   language only (`قسمت الف`, `التنوین`): [`paragraph_languages`] gives such a
//!   paragraph the Arabic-script language that dominates its document. A document
//!   made only of those is decided by `whatlang` over their text.
//! - Text is Arabic-script when a third of its letters are, URLs not counted: an
//!   Arabic line naming `OS/2.usWinAscent` or a link is still Arabic.

use whatlang::Lang;

use crate::model::Lang as LangCode;

/// Confidence `whatlang` must reach for its answer to be used on non-Arabic text.
pub const MIN_CONFIDENCE: f64 = 0.5;

/// Up to this many words (of two letters or more), an Arabic-script fragment with nothing but shared letters
/// and keyboard letters is `und` (it takes its document's language).
pub(crate) const SHORT_FRAGMENT_WORDS: usize = 4;

/// Up to this many words, unplaceable ASCII text is labelled `en` (see module doc).
pub const SHORT_WORDS: usize = 3;

/// Language of one paragraph: `ar`, `fa`, `en`, another ISO 639-1 code, or `und`.
#[must_use]
pub fn detect(text: &str) -> String {
    let letters = Letters::count(&without_urls(text));
    let code = if letters.total == 0 {
        LangCode::UND
    } else if letters.arabic * 3 >= letters.total {
        arabic_script(text, letters.arabic)
    } else {
        other_script(text, &letters)
    };
    code.to_owned()
}

/// Languages of a document's paragraphs, in order: [`detect`] of each, except that a
/// short Arabic-script fragment with nothing to go on (`und`, see the module doc)
/// takes the Arabic-script language that dominates the document (by Arabic-script
/// letters, as in [`document_language_of`]). Text without Arabic-script letters
/// keeps its own answer.
#[must_use]
pub fn paragraph_languages(texts: &[&str]) -> Vec<String> {
    let mut langs: Vec<String> = texts.iter().map(|t| detect(t)).collect();
    let mut votes = Votes::default();
    for (text, lang) in texts.iter().zip(&langs) {
        if matches!(lang.as_str(), "ar" | "fa") {
            votes.add(lang, Letters::count(text).arabic);
        }
    }
    let Some(dominant) = votes.winner() else {
        return langs;
    };
    for (text, lang) in texts.iter().zip(langs.iter_mut()) {
        if LangCode::is_und(lang) && text.chars().any(|c| is_arabic_script(c) && is_letter(c)) {
            lang.clone_from(&dominant);
        }
    }
    langs
}

/// Language of a whole document from its content paragraphs' texts: the Arabic-script
/// language (`ar` or `fa`) that dominates, else the most common paragraph language.
///
/// "Dominates" is weighed by Arabic-script letters: a document whose letters are
/// mostly Arabic-script takes the Arabic-script language of the paragraphs holding
/// most of those letters, so a few English captions or a Persian quote in an Arabic
/// article do not change it. Otherwise the most frequent paragraph language other than
/// `und` wins (the earliest on a tie); `und` if there is none.
#[must_use]
pub fn document_language(texts: &[&str]) -> String {
    let detected: Vec<(&str, String)> = texts.iter().map(|t| (*t, detect(t))).collect();
    document_language_of(detected.iter().map(|(t, l)| (*t, l.as_str())))
}

/// [`document_language`] for paragraphs whose languages [`detect`] already gave:
/// `(text, language)` pairs, so nothing is detected twice.
#[must_use]
pub fn document_language_of<'a>(detected: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut arabic_votes = Votes::default();
    let mut paragraph_votes = Votes::default();
    let (mut arabic, mut total) = (0, 0);
    let mut all = String::new();
    for (text, lang) in detected {
        let letters = Letters::count(text);
        arabic += letters.arabic;
        total += letters.total;
        if LangCode::is_und(lang) && letters.arabic > 0 {
            all.push_str(text);
            all.push(' ');
        }
        if is_arabic_script_lang(lang) {
            arabic_votes.add(lang, letters.arabic);
        }
        if !LangCode::is_und(lang) {
            paragraph_votes.add(lang, 1);
        }
    }
    let winner = if arabic * 2 > total {
        arabic_votes.winner()
    } else {
        paragraph_votes.winner()
    };
    winner.unwrap_or_else(|| {
        if arabic * 2 > total {
            whatlang_arabic_script(&all).to_owned()
        } else {
            LangCode::UND.to_owned()
        }
    })
}

/// The text without its URLs (words with `://` or starting with `www.`).
fn without_urls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("://") && !text.contains("www.") {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(
        text.split_whitespace()
            .filter(|w| !w.contains("://") && !w.starts_with("www."))
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// Letter counts of a text.
#[derive(Debug, Default)]
struct Letters {
    total: usize,
    arabic: usize,
    ascii: usize,
}

impl Letters {
    fn count(text: &str) -> Self {
        let mut letters = Letters::default();
        for c in text.chars().filter(|&c| is_letter(c)) {
            letters.total += 1;
            letters.arabic += usize::from(is_arabic_script(c));
            letters.ascii += usize::from(c.is_ascii());
        }
        letters
    }
}

/// Weighted votes for languages, remembering first appearance for ties.
#[derive(Default)]
struct Votes(Vec<(String, usize)>);

impl Votes {
    fn add(&mut self, lang: &str, weight: usize) {
        match self.0.iter_mut().find(|(l, _)| l == lang) {
            Some((_, w)) => *w += weight,
            None => self.0.push((lang.to_owned(), weight)),
        }
    }

    /// The heaviest language; the first one seen among equals.
    fn winner(self) -> Option<String> {
        let best = self.0.iter().map(|(_, w)| *w).max()?;
        self.0.into_iter().find(|(_, w)| *w == best).map(|(l, _)| l)
    }
}

/// Whether a character is a letter: `char::is_alphabetic`, answered from ranges for
/// ASCII and the Arabic blocks (nearly every character of this tool's input), where the
/// general Unicode table lookup is the slow path of the whole pipeline.
#[must_use]
pub(crate) fn is_letter(c: char) -> bool {
    static ARABIC_BLOCK: std::sync::LazyLock<[bool; 256]> = std::sync::LazyLock::new(|| {
        std::array::from_fn(|i| char::from_u32(0x0600 + i as u32).is_some_and(char::is_alphabetic))
    });
    match c {
        '\0'..='\u{7F}' => c.is_ascii_alphabetic(),
        '\u{0600}'..='\u{06FF}' => ARABIC_BLOCK[c as usize - 0x0600],
        _ => c.is_alphabetic(),
    }
}

/// Whether a character belongs to the Arabic script (letters, digits, marks,
/// presentation forms). The one definition every stage uses.
#[must_use]
pub(crate) fn is_arabic_script(c: char) -> bool {
    matches!(c,
        '\u{0600}'..='\u{06FF}' | '\u{0750}'..='\u{077F}' | '\u{08A0}'..='\u{08FF}'
        | '\u{FB50}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}')
}

fn is_arabic_script_lang(lang: &str) -> bool {
    matches!(lang, "ar" | "fa" | "ur" | "ps")
}

/// Letters (and digits) used by one Arabic-script language and not by the others.
/// Only Persian writes these.
const PERSIAN_CHARS: &str = "پچژگۀ\u{0654}";
/// Persian's yeh, kaf and digits, which Arabic typed on a Persian keyboard uses too.
const PERSIAN_KEYBOARD_CHARS: &str = "کی۰۱۲۳۴۵۶۷۸۹";
/// Only Arabic writes these.
const ARABIC_CHARS: &str = "ة";
/// Arabic's letters and digits, which Persian typed on an Arabic keyboard uses too.
const ARABIC_KEYBOARD_CHARS: &str = "يكى٠١٢٣٤٥٦٧٨٩";
const URDU_CHARS: &str = "ٹڈڑںےۓ";
const PASHTO_CHARS: &str = "ټډړږښګڼېۍ";

/// Frequent words of one language only, spelled with ی and ک (see [`fold_word`]).
const PERSIAN_WORDS: &[&str] = &[
    "است", "این", "را", "از", "می", "های", "ها", "برای", "شد", "شده", "کرد", "کند", "خود", "بود",
    "یک", "که", "نیز", "آنها", "باید", "شود", "اند", "دیگر", "گفت", "کنیم",
];
const ARABIC_WORDS: &[&str] = &[
    "فی",
    "وفی",
    "التی",
    "الذی",
    "الذین",
    "هذا",
    "هذه",
    "ذلک",
    "تلک",
    "إلی",
    "أن",
    "إن",
    "عن",
    "مع",
    "قد",
    "وقد",
    "کان",
    "لم",
    "لن",
    "حیث",
    "أو",
    "ثم",
    "قال",
    "وقال",
];

/// Weight of a word match relative to a letter.
const WORD_WEIGHT: usize = 3;

/// A word with Arabic yeh, kaf and alef maksura folded to their Persian forms.
fn fold_word(word: &str) -> String {
    word.chars()
        .map(|c| match c {
            'ي' | 'ى' => 'ی',
            'ك' => 'ک',
            c => c,
        })
        .collect()
}

/// Evidence for Persian and for Arabic in an Arabic-script text: letters one of the
/// two languages uses and the other does not, plus [`WORD_WEIGHT`] per frequent word
/// of one language only. Arabic yeh, alef maksura and kaf are not evidence (Persian
/// typed on an Arabic keyboard uses them); see the module doc.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Evidence {
    /// Persian-only letters and words.
    pub persian: usize,
    /// Arabic-only letters and words.
    pub arabic: usize,
    /// Letters of a Persian keyboard (ی ک, Persian digits): Persian when nothing
    /// else decides.
    pub persian_keyboard: usize,
    /// Letters of an Arabic keyboard (ي ى ك, Arabic-Indic digits): Arabic when
    /// nothing else decides.
    pub arabic_keyboard: usize,
}

/// The [`Evidence`] of a text.
#[must_use]
pub fn evidence(text: &str) -> Evidence {
    let mut e = Evidence::default();
    for c in text.chars().filter(|&c| is_arabic_script(c)) {
        e.persian += usize::from(PERSIAN_CHARS.contains(c));
        e.arabic += usize::from(ARABIC_CHARS.contains(c));
        e.persian_keyboard += usize::from(PERSIAN_KEYBOARD_CHARS.contains(c));
        e.arabic_keyboard += usize::from(ARABIC_KEYBOARD_CHARS.contains(c));
    }
    let (fa_words, ar_words) = word_evidence(text);
    e.persian += WORD_WEIGHT * fa_words;
    e.arabic += WORD_WEIGHT * ar_words;
    e
}

/// ar, fa, ur or ps for text that is mostly Arabic-script.
fn arabic_script(text: &str, arabic_letters: usize) -> &'static str {
    let (mut ps, mut ur) = (0, 0);
    for c in text.chars().filter(|&c| is_arabic_script(c)) {
        ps += usize::from(PASHTO_CHARS.contains(c));
        ur += usize::from(URDU_CHARS.contains(c));
    }
    // Urdu and Pashto letters decide when they are 2 % of the letters or more.
    let marked = |n: usize| n > 0 && n * 50 >= arabic_letters;
    if marked(ps) {
        return "ps";
    }
    if marked(ur) {
        return "ur";
    }
    let e = evidence(text);
    let words = text
        .split(|c: char| !is_letter(c))
        .filter(|w| w.chars().count() >= 2)
        .count();
    if e.persian + e.arabic == 0 && words <= SHORT_FRAGMENT_WORDS {
        // `قسمت الف`, `التنوین`: no letter or word of one language only; the
        // paragraph takes its document's language.
        return LangCode::UND;
    }
    let (persian, arabic) = if e.persian + e.arabic == 0 {
        (e.persian_keyboard, e.arabic_keyboard)
    } else {
        (e.persian, e.arabic)
    };
    match persian.cmp(&arabic) {
        std::cmp::Ordering::Greater => "fa",
        std::cmp::Ordering::Less => "ar",
        std::cmp::Ordering::Equal => whatlang_arabic_script(text),
    }
}

/// Persian-only and Arabic-only word counts.
fn word_evidence(text: &str) -> (usize, usize) {
    let (mut fa, mut ar) = (0, 0);
    for word in text
        .split(|c: char| !is_letter(c))
        .filter(|w| !w.is_empty() && w.len() <= 12)
    {
        let word = fold_word(word);
        fa += usize::from(PERSIAN_WORDS.contains(&word.as_str()));
        ar += usize::from(ARABIC_WORDS.contains(&word.as_str()));
    }
    (fa, ar)
}

/// The tie-breaker: whatlang's answer between Persian and Arabic, `ar` unless it
/// says Persian (its Urdu guess on text without Urdu letters is no evidence).
fn whatlang_arabic_script(text: &str) -> &'static str {
    match whatlang::detect_lang(text) {
        Some(Lang::Pes) => "fa",
        _ => "ar",
    }
}

/// Latin, Cyrillic, CJK ... text: whatlang when confident, else `en`/`und`.
fn other_script(text: &str, letters: &Letters) -> &'static str {
    let info = whatlang::detect(text);
    let ascii_only = letters.ascii == letters.total;
    let short = text.split_whitespace().count() <= SHORT_WORDS;
    if let Some(info) = info {
        let needed = if short && ascii_only && info.lang() != Lang::Eng {
            0.9 // a short fragment needs a reliable answer to be anything but `en`
        } else {
            MIN_CONFIDENCE
        };
        if info.confidence() >= needed {
            return iso639_1(info.lang());
        }
    }
    if short && ascii_only {
        "en"
    } else {
        LangCode::UND
    }
}

/// ISO 639-1 code of a whatlang language.
#[rustfmt::skip]
fn iso639_1(lang: Lang) -> &'static str {
    use Lang::*;
    match lang {
        Epo => "eo", Eng => "en", Rus => "ru", Cmn => "zh", Spa => "es", Por => "pt",
        Ita => "it", Ben => "bn", Fra => "fr", Deu => "de", Ukr => "uk", Kat => "ka",
        Ara => "ar", Hin => "hi", Jpn => "ja", Heb => "he", Yid => "yi", Pol => "pl",
        Amh => "am", Jav => "jv", Kor => "ko", Nob => "nb", Dan => "da", Swe => "sv",
        Fin => "fi", Tur => "tr", Nld => "nl", Hun => "hu", Ces => "cs", Ell => "el",
        Bul => "bg", Bel => "be", Mar => "mr", Kan => "kn", Ron => "ro", Slv => "sl",
        Hrv => "hr", Srp => "sr", Mkd => "mk", Lit => "lt", Lav => "lv", Est => "et",
        Tam => "ta", Vie => "vi", Urd => "ur", Tha => "th", Guj => "gu", Uzb => "uz",
        Pan => "pa", Aze => "az", Ind => "id", Tel => "te", Pes => "fa", Mal => "ml",
        Ori => "or", Mya => "my", Nep => "ne", Sin => "si", Khm => "km", Tuk => "tk",
        Aka => "ak", Zul => "zu", Sna => "sn", Afr => "af", Lat => "la", Slk => "sk",
        Cat => "ca", Tgl => "tl", Hye => "hy", Cym => "cy",
    }
}

#[cfg(test)]
mod letter_tests {
    use super::is_letter;

    #[test]
    fn is_letter_agrees_with_is_alphabetic() {
        for c in ('\0'..='\u{0800}')
            .chain('\u{08A0}'..='\u{0900}')
            .chain('\u{FB50}'..='\u{FEFF}')
        {
            assert_eq!(is_letter(c), c.is_alphabetic(), "{c:?} U+{:04X}", c as u32);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_whatlang_language_has_a_two_letter_code() {
        for lang in Lang::all() {
            assert_eq!(iso639_1(*lang).len(), 2, "{lang:?}");
        }
    }

    #[test]
    fn arabic_keyboard_persian_is_persian_and_urdu_needs_its_letters() {
        // Persian typed with Arabic yeh and kaf.
        assert_eq!(detect("اين يك شبكه است كه كار مي كند"), "fa");
        assert_eq!(detect("اين شبكه‌ها را مي‌بينيم"), "fa");
        // Arabic with heh goal or a stray Urdu-looking guess is not Urdu.
        assert_eq!(detect("هذا كتاب جميل في المكتبة"), "ar");
        assert_eq!(detect("یہ ایک کتاب ہے اور وہ بڑی ہے"), "ur");
        assert_eq!(detect("مدينة كبيرة"), "ar");
        // Arabic typed with Farsi yeh.
        assert_eq!(
            detect("یهدف مشروع الخط إلى إحیاء تقالید الطباعة العربیة"),
            "ar"
        );
        // Short fragments with nothing but keyboard letters take their document's.
        assert_eq!(detect("روسیه و طالبان"), "und");
        assert_eq!(detect("روسيا تدعم طالبان"), "und");
        assert_eq!(detect("روسیه طالبان را به رسمیت شناخت"), "fa");
    }

    #[test]
    fn folded_words() {
        assert_eq!(fold_word("الذي"), "الذی");
        assert_eq!(fold_word("إلى"), "إلی");
        assert_eq!(fold_word("يك"), "یک");
    }
}
