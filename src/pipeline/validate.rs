//! Is a reply a translation? The checks that keep bad answers out of the cache.
//!
//! A reply is rejected when it is empty, the source echoed back, still in Arabic script
//! although the target language is written in another script, a provider's warning text
//! returned as if it were a translation (MyMemory does this when its quota runs out), or
//! of a length wildly off the source's.

/// Why a reply was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// Nothing but whitespace.
    Empty,
    /// The source came back unchanged.
    Echo,
    /// Arabic-script letters in a reply whose target language uses another script.
    WrongScript,
    /// A provider's warning or error text.
    Warning,
    /// Far shorter or longer than any translation of the source could be.
    WildLength,
}

/// Target languages written in the Arabic script: replies in Arabic script are normal.
const ARABIC_SCRIPT_TARGETS: &[&str] = &["ar", "fa", "ur", "ps", "ku", "sd", "ug", "prs"];

/// Texts providers return in place of a translation.
const WARNING_MARKERS: &[&str] = &[
    "MYMEMORY WARNING",
    "YOU USED ALL AVAILABLE FREE TRANSLATIONS",
    "QUERY LENGTH LIMIT EXCEEDED",
    "INVALID LANGUAGE PAIR",
    "PLEASE SELECT TWO DISTINCT LANGUAGES",
];

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
    let upper = reply_t.to_uppercase();
    if WARNING_MARKERS.iter().any(|m| upper.contains(m)) {
        return Err(Rejection::Warning);
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
    let (s, r) = (source.chars().count(), reply_t.chars().count());
    if s >= 40 && (r * 5 < s || r > s * 5) {
        return Err(Rejection::WildLength);
    }
    Ok(())
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
    fn rejects_bad_replies() {
        assert_eq!(check(SRC, "  ", "en"), Err(Rejection::Empty));
        assert_eq!(check(SRC, SRC, "en"), Err(Rejection::Echo));
        assert_eq!(
            check(SRC, "Russia أعلنت اليوم الخميس أنها قبلت", "en"),
            Err(Rejection::WrongScript)
        );
        let warn = "MYMEMORY WARNING: YOU USED ALL AVAILABLE FREE TRANSLATIONS FOR TODAY. NEXT AVAILABLE IN 23 HOURS";
        assert_eq!(check(SRC, warn, "en"), Err(Rejection::Warning));
        assert_eq!(check(SRC, "Yes.", "en"), Err(Rejection::WildLength));
        assert_eq!(
            check(SRC, &"word ".repeat(100), "en"),
            Err(Rejection::WildLength)
        );
    }
}
