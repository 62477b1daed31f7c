//! Properties of the segment stage over arbitrary text: nothing but whitespace is
//! ever lost or reordered, sentence pieces concatenate back to their input, and
//! chunks respect their byte limit and rejoin to the whitespace-collapsed input.

use proptest::prelude::*;
use tarjama::segment::{chunk, segment, split_sentences};

/// Arabic, Persian and Latin letters, digits, whitespace (NBSP, em space, tab,
/// newline) and the punctuation the rules look at.
const MIXED: &str = "[ابتجحدرزسشصعفقكلمنهويءأإآةىپچژگکی a-zA-Z0-9٠-٩۰-۹\n\n\t\\x{a0}\\x{2003}.،,؟?!؛:…«»“”()\"'©{};-]{0,400}";

fn non_whitespace(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Documents of lines of words, some long and unpunctuated (hard-wrap shaped),
/// some ending in punctuation, with blank lines sprinkled in.
fn line_docs() -> impl Strategy<Value = String> {
    let word = "[ابتجحدرسعفقلمنهوي]{1,9}|[a-z]{1,8}|[0-9]{1,4}";
    let line = (
        prop::collection::vec(word, 0..16),
        prop::option::of("[.؟:!»”]{1,2}"),
    )
        .prop_map(|(words, end)| words.join(" ") + end.as_deref().unwrap_or(""));
    prop::collection::vec(line, 0..30).prop_map(|lines| lines.join("\n"))
}

fn assert_lossless(text: &str) {
    let segs = segment(text);
    let joined: String = segs.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(non_whitespace(&joined), non_whitespace(text));
    for s in &segs {
        assert!(!s.text.is_empty());
        assert_eq!(s.text, collapse(&s.text));
    }
}

proptest! {
    #[test]
    fn segment_loses_nothing_on_mixed_text(text in MIXED) {
        assert_lossless(&text);
    }

    #[test]
    fn segment_loses_nothing_on_line_documents(text in line_docs()) {
        assert_lossless(&text);
    }

    #[test]
    fn segment_loses_nothing_on_any_string(text in any::<String>()) {
        assert_lossless(&text);
    }

    #[test]
    fn sentences_concatenate_back(text in MIXED) {
        let pieces = split_sentences(&text);
        prop_assert_eq!(pieces.concat(), text.as_str());
        prop_assert!(pieces.iter().all(|p| !p.is_empty()));
    }

    #[test]
    fn sentences_concatenate_back_on_any_string(text in any::<String>()) {
        prop_assert_eq!(split_sentences(&text).concat(), text);
    }

    #[test]
    fn chunks_fit_and_rejoin(text in MIXED, max in 4usize..600) {
        let pieces = chunk(&text, max);
        for p in &pieces {
            prop_assert!(p.len() <= max, "{} > {max}", p.len());
            prop_assert!(!p.is_empty());
            prop_assert_eq!(p.trim(), p.as_str());
        }
        prop_assert_eq!(non_whitespace(&pieces.concat()), non_whitespace(&text));
        // Only a single word longer than the limit is cut inside (adding a space).
        if text.split_whitespace().all(|w| w.len() <= max) {
            prop_assert_eq!(pieces.join(" "), collapse(&text));
        }
    }

    #[test]
    fn chunks_honour_tiny_limits(text in "\\PC{0,60}", max in 0usize..8) {
        for p in chunk(&text, max) {
            prop_assert!(p.len() <= max.max(4));
            prop_assert!(!p.is_empty());
        }
    }
}
