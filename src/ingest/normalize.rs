//! Text normalization shared by every input format, and the one character-level
//! normalization every stage compares text with.
//!
//! Line endings become `\n`, HTML entities are decoded (`&ndash;` appears in a seed),
//! bidi control characters and stray zero-width characters that carry no meaning are
//! removed, NUL bytes are dropped, and the result is Unicode NFC. The zero-width
//! non-joiner (U+200C) is kept: it is part of Persian spelling.
//!
//! [`canonical`] is the character-level part alone (controls removed, NFC): cache keys
//! ([`crate::cache::normalize_key_text`]) and `translate import` go through it too, so
//! a correction whose source was pasted with right-to-left marks or with its Arabic
//! diacritics in another order keys to the same paragraph as the text ingest sent.
//! On text that ingest already normalized it changes nothing, so the keys of cached
//! paragraphs stay what they were.

use unicode_normalization::UnicodeNormalization;

/// Bidi controls (LRM, RLM, ALM, embeddings, overrides, isolates), BOM/ZWNBSP, and
/// zero-width space. U+200C (ZWNJ) and U+200D (ZWJ) are kept.
#[must_use]
pub fn is_removable_control(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{0000}'
    )
}

/// Normalize decoded text (see the module doc).
#[must_use]
pub fn normalize(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let decoded = html_escape::decode_html_entities(&text);
    canonical(&decoded)
}

/// The character-level normalization: removable controls dropped
/// ([`is_removable_control`]), then Unicode NFC (which also puts combining marks, such
/// as Arabic diacritics typed in any order, in their canonical order). Idempotent.
#[must_use]
pub fn canonical(text: &str) -> String {
    text.chars()
        .filter(|&c| !is_removable_control(c))
        .nfc()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_line_endings_controls_and_nfc() {
        assert_eq!(normalize("a &ndash; b\r\nc\rd"), "a – b\nc\nd");
        assert_eq!(normalize("\u{200F}سلام\u{202B}x\u{202C}"), "سلامx");
        // ZWNJ survives: Persian spelling.
        assert_eq!(normalize("می\u{200C}شود"), "می\u{200C}شود");
        // NFC: alef + hamza above composes to U+0623.
        assert_eq!(normalize("\u{0627}\u{0654}"), "\u{0623}");
    }

    #[test]
    fn canonical_orders_marks_and_is_idempotent() {
        // shadda + fatha typed either way round: one canonical order.
        let a = canonical("\u{200F}مُدَّة\u{202C}");
        assert_eq!(a, canonical("مُدَّة"));
        assert_eq!(
            canonical("م\u{064E}\u{0651}"),
            canonical("م\u{0651}\u{064E}")
        );
        assert_eq!(canonical(&a), a);
    }
}
