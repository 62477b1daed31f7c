//! Is a reply a translation? The checks that keep bad answers out of the cache.
//!
//! A reply is rejected when it is empty, the source echoed back, still in Arabic script
//! although the target language is written in another script, or of a length wildly
//! off the source's. A service's own warning text returned as if it were a
//! translation (MyMemory's quota warning) is that service's to recognise: its
//! provider file classifies it as an error, so it never gets here.
//!
//! Length: a source of 40 characters or more (counted as written: Arabic short-vowel
//! marks and tatweel do not count) is not translated by a reply more than five times
//! longer, nor by one less than half as long, except into Chinese, Japanese or Korean,
//! whose scripts are that compact (then a fifth). Between the European languages,
//! Arabic and Persian a translation is 0.8 to 1.5 times its source; an answer of
//! half is a summary or an obeyed instruction ("Summarize this…" in an article), not a
//! translation, and must not be cached.

/// Why a reply was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// Nothing but whitespace.
    Empty,
    /// The source came back unchanged.
    Echo,
    /// Arabic-script letters in a reply whose target language uses another script.
    WrongScript,
    /// Far shorter or longer than any translation of the source could be.
    WildLength,
}

/// Target languages written in the Arabic script: replies in Arabic script are normal.
const ARABIC_SCRIPT_TARGETS: &[&str] = &["ar", "fa", "ur", "ps", "ku", "sd", "ug", "prs"];

fn is_arabic_letter(c: char) -> bool {
    c.is_alphabetic() && crate::detect::is_arabic_script(c)
}

/// Check one reply against its source.
///
/// # Errors
/// The reason the reply is not a translation.
pub fn check(source: &str, reply: &str, to: &str) -> Result<(), Rejection> {
    let reply_t = reply.trim();
    if reply_t.is_empty() {
        return Err(Rejection::Empty);
    }
    let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    if squash(reply_t) == squash(source) && source.chars().any(char::is_alphabetic) {
        return Err(Rejection::Echo);
    }
    let base = to
        .split(['-', '_'])
        .next()
        .unwrap_or(to)
        .to_ascii_lowercase();
    if !ARABIC_SCRIPT_TARGETS.contains(&base.as_str()) {
        let letters = reply_t.chars().filter(|c| c.is_alphabetic()).count();
        let arabic = reply_t.chars().filter(|&c| is_arabic_letter(c)).count();
        if letters > 0 && arabic * 10 > letters * 3 {
            return Err(Rejection::WrongScript);
        }
    }
    let s = source.chars().filter(|&c| !is_mark(c)).count();
    let r = reply_t.chars().filter(|&c| !is_mark(c)).count();
    let shortest = if COMPACT_TARGETS.contains(&base.as_str()) {
        5
    } else {
        2
    };
    if s >= 40 && (r * shortest < s || r > s * 5) {
        return Err(Rejection::WildLength);
    }
    Ok(())
}

/// Target languages whose script says in a few characters what others say in many.
const COMPACT_TARGETS: &[&str] = &["zh", "ja", "ko", "yue"];

/// Arabic short vowels and other combining marks, tatweel, zero-width joiners: not
/// counted in a length (fully vowelled text is twice as long as the same text bare).
fn is_mark(c: char) -> bool {
    matches!(
        c,
        '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{0640}' | '\u{200C}' | '\u{200D}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "أعلنت روسيا، اليوم الخميس، أنها قبلت أوراق اعتماد سفير جديد لأفغانستان";

    #[test]
    fn accepts_a_translation() {
        let en =
            "Russia announced on Thursday that it had accepted the credentials of a new ambassador";
        assert_eq!(check(SRC, en, "en"), Ok(()));
        let fa = "روسیه روز پنجشنبه اعلام کرد که استوارنامه سفیر جدید افغانستان را پذیرفته است";
        assert_eq!(check(SRC, fa, "fa"), Ok(()));
    }

    #[test]
    fn length_is_counted_as_written_and_allows_compact_scripts() {
        // Fully vowelled, the source is twice as long; the translation still fits.
        let vowelled = "أَعْلَنَتْ رُوسِيَا، اَلْيَوْمَ اَلْخَمِيسَ، أَنَّهَا قَبِلَتْ أَوْرَاقَ اِعْتِمَادِ سَفِيرٍ جَدِيدٍ لِأَفْغَانِسْتَانَ";
        let en = "Russia said on Thursday it accepted a new Afghan envoy's credentials";
        assert_eq!(check(vowelled, en, "en"), Ok(()));
        assert_eq!(
            check(SRC, "俄罗斯周四宣布接受阿富汗新任大使的国书", "zh"),
            Ok(())
        );
    }

    #[test]
    fn rejects_bad_replies() {
        assert_eq!(check(SRC, "  ", "en"), Err(Rejection::Empty));
        assert_eq!(check(SRC, SRC, "en"), Err(Rejection::Echo));
        assert_eq!(
            check(SRC, "Russia أعلنت اليوم الخميس أنها قبلت", "en"),
            Err(Rejection::WrongScript)
        );
        assert_eq!(check(SRC, "Yes.", "en"), Err(Rejection::WildLength));
        // A one-line summary in place of a paragraph.
        assert_eq!(
            check(SRC, "Russia accepted an envoy.", "en"),
            Err(Rejection::WildLength)
        );
        assert_eq!(
            check(SRC, &"word ".repeat(100), "en"),
            Err(Rejection::WildLength)
        );
    }
}
