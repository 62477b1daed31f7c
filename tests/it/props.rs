//! Properties over generated input: what segmentation promises about
//! every character of a document, and what the cache key promises about whitespace
//! and text changes.
//!
//! Segmentation (`read_bytes` then `segment`), precisely: let the document's *lines*
//! be its normalized text split on `\n`, blank ones (whitespace only) left out. Then
//! the paragraphs, in order and of every kind (boilerplate and duplicates included),
//! are a partition of those lines into consecutive runs, each paragraph being its run
//! joined with spaces and whitespace-collapsed. So no character but whitespace is
//! lost, added, duplicated or reordered, and no line is cut. (`segment_props.rs`
//! checks the weaker non-whitespace equality on raw strings, plus sentences and
//! chunks.)
//!
//! Cache key (`CacheKey::new(..).id(origin)`): equal for two texts that differ only
//! in whitespace (runs of any Unicode whitespace, leading or trailing), and different
//! whenever the whitespace-collapsed texts differ, or any other field differs.

use proptest::prelude::*;
use tarjama::cache::{CacheKey, normalize_key_text};
use tarjama::ingest::read_bytes;
use tarjama::model::SourceFormat;
use tarjama::segment::segment;

/// Unicode whitespace a document may hold (NBSP, em space, ideographic space, line
/// separator, tab, carriage return, line feed).
const SPACES: &[char] = &[
    ' ', ' ', ' ', '\t', '\n', '\n', '\r', '\u{a0}', '\u{2003}', '\u{3000}', '\u{2028}',
];

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Words of Arabic, Persian (with ZWNJ), Latin letters, digits and punctuation the
/// segmenter looks at, including furniture-like tokens.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ابتجحدرزسشصعفقكلمنهويءأإآةى]{1,8}",
        "[پچژگکی]{1,3}\u{200c}[ابتد]{1,4}",
        "[a-zA-Z]{1,8}",
        "[0-9٠-٩]{1,4}",
        "[.،,؟?!؛:…«»()©|-]{1,2}",
        Just("©".to_owned()),
        Just("شارك".to_owned()),
        Just("});".to_owned()),
    ]
}

fn space_run() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(SPACES), 1..4).prop_map(String::from_iter)
}

/// Documents: lines of words and whitespace, some repeated (duplicates), some long
/// and unpunctuated (hard-wrap shaped), with blank and whitespace-only lines.
fn document() -> impl Strategy<Value = String> {
    let line = prop::collection::vec((word(), space_run()), 0..14)
        .prop_map(|ws| ws.into_iter().map(|(w, s)| w + &s).collect::<String>());
    prop::collection::vec(line, 0..24)
        .prop_flat_map(|lines| {
            let n = lines.len();
            (Just(lines), prop::collection::vec(0..n.max(1), 0..4))
        })
        .prop_map(|(mut lines, repeats)| {
            for i in repeats {
                if let Some(l) = lines.get(i).cloned() {
                    lines.push(l);
                }
            }
            lines.join("\n")
        })
}

/// Check the partition property on one normalized text.
fn assert_partition(text: &str) -> Result<(), TestCaseError> {
    let lines: Vec<String> = text
        .split('\n')
        .filter(|l| !l.trim().is_empty())
        .map(collapse)
        .collect();
    let segs = segment(text);
    let mut next = 0;
    for seg in &segs {
        prop_assert!(!seg.text.is_empty());
        let start = next;
        let mut joined = String::new();
        while next < lines.len() && joined.len() < seg.text.len() {
            if !joined.is_empty() {
                joined.push(' ');
            }
            joined.push_str(&lines[next]);
            next += 1;
        }
        prop_assert_eq!(
            &joined,
            &seg.text,
            "paragraph {} is not lines {}..{}",
            seg.text,
            start,
            next
        );
    }
    prop_assert_eq!(next, lines.len(), "lines left over");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn paragraphs_partition_the_lines_of_a_text_file(doc in document()) {
        let text = read_bytes(doc.as_bytes(), SourceFormat::Text).map_or(String::new(), |d| d.text);
        assert_partition(&text)?;
    }

    #[test]
    fn paragraphs_partition_the_lines_of_any_string(doc in any::<String>()) {
        assert_partition(&doc)?;
    }

}

proptest! {
    // Each case parses a page: fewer cases keep this under a few seconds.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn paragraphs_partition_the_text_of_an_html_page(
        blocks in prop::collection::vec((prop::sample::select(&["p", "div", "li", "h2", "td", "b"][..]), document()), 0..8)
    ) {
        let page: String = blocks
            .iter()
            .map(|(tag, text)| format!("<{tag}>{}</{tag}>", text.replace('<', "&lt;")))
            .collect();
        let text = read_bytes(page.as_bytes(), SourceFormat::Html).map_or(String::new(), |d| d.text);
        assert_partition(&text)?;
    }
}

fn id(text: &str) -> [u8; 32] {
    CacheKey::new("libretranslate", "", "ar", "en", text).id("")
}

/// `words` with `seps[i]` before word `i` (for `i > 0`), an optional leading run and
/// `seps[0]` trailing.
fn lay_out(words: &[String], seps: &[String], edge: Option<String>) -> String {
    let mut s = edge.unwrap_or_default();
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            s.push_str(&seps[i]);
        }
        s.push_str(w);
    }
    s + &seps[0]
}

/// The same words laid out with different whitespace.
fn two_layouts() -> impl Strategy<Value = (String, String)> {
    prop::collection::vec(word(), 0..12).prop_flat_map(|words| {
        let n = words.len() + 1;
        let layout = || {
            (
                prop::collection::vec(space_run(), n),
                prop::option::of(space_run()),
            )
        };
        (layout(), layout())
            .prop_map(move |((a, ea), (b, eb))| (lay_out(&words, &a, ea), lay_out(&words, &b, eb)))
    })
}

/// A text and an edit of it that changes more than whitespace.
fn real_edit() -> impl Strategy<Value = (String, String)> {
    (
        prop::collection::vec(word(), 1..10),
        any::<prop::sample::Index>(),
        0..5_u8,
        word(),
    )
        .prop_map(|(words, at, how, other)| {
            let text = words.join(" ");
            let chars: Vec<char> = text.chars().collect();
            let i = at.index(chars.len());
            let mut edited = chars.clone();
            match how {
                // Insert a letter, or a ZWNJ (it changes Persian spelling).
                0 => edited.insert(i, 'ب'),
                1 => edited.insert(i, '\u{200c}'),
                // Replace a character by a different non-whitespace one.
                2 => edited[i] = if chars[i] == 'x' { 'y' } else { 'x' },
                // Delete a character.
                3 => {
                    edited.remove(i);
                }
                // Append another word.
                _ => edited.extend(format!(" {other}").chars()),
            }
            (text, edited.into_iter().collect())
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn cache_key_ignores_whitespace_layout((a, b) in two_layouts()) {
        prop_assert_eq!(normalize_key_text(&a), normalize_key_text(&b));
        prop_assert_eq!(id(&a), id(&b));
    }

    #[test]
    fn cache_key_changes_with_any_real_text_change((a, b) in real_edit()) {
        // Deleting a lone space-free character can join two words: still a change.
        prop_assume!(collapse(&a) != collapse(&b));
        prop_assert_ne!(id(&a), id(&b), "{:?} vs {:?}", a, b);
    }

    #[test]
    fn cache_keys_are_equal_exactly_when_collapsed_texts_are(a in "[ab \\t\\n\u{a0}]{0,8}", b in "[ab \\t\\n\u{a0}]{0,8}") {
        prop_assert_eq!(id(&a) == id(&b), collapse(&a) == collapse(&b));
    }

    #[test]
    fn cache_key_fields_never_run_into_each_other(
        f in prop::collection::vec("[ab]{0,3}", 5),
        g in prop::collection::vec("[ab]{0,3}", 5),
    ) {
        let key = |f: &[String]| CacheKey::new(&f[0], &f[1], &f[2], &f[3], &f[4]).id("");
        prop_assert_eq!(key(&f) == key(&g), f == g);
    }
}
