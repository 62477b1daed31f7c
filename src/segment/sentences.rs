//! Sentence boundaries and byte-bounded chunks of a paragraph.
//!
//! Owns the punctuation vocabulary shared by the segment stage (what ends a
//! sentence, what closes a quote) and the cutters built on it:
//! [`split_sentences`], which is lossless (its pieces are slices that concatenate
//! back to the input, so callers can map results back to offsets), [`chunk`],
//! which packs whole sentences into requests no larger than a provider's byte limit
//! and only degrades to clause, word and character cuts when a sentence alone is too
//! big, and [`sentences`], the finer splitter the sentence aligner uses (cuts only
//! at whitespace, knows more abbreviations, and does not end a sentence at `؛`).
//! Everything is a slice of the input until the final packing, so no text can be
//! lost or duplicated on the way.
//!
//! [`chunk`] keeps the older [`split_sentences`] rules on purpose: its pieces are
//! part of MyMemory's cache keys, so changing where it cuts would orphan cached
//! translations.

/// Marks that end a sentence: `. ؟ ? ! ؛ …`. The colon is not one of them (it
/// introduces quotes and lists inside a sentence).
#[must_use]
pub(crate) fn is_sentence_end(c: char) -> bool {
    matches!(c, '.' | '؟' | '?' | '!' | '؛' | '…')
}

/// Closing quotes and brackets that stay with the sentence they close (`.»`, `”.`).
#[must_use]
pub(crate) fn is_closer(c: char) -> bool {
    matches!(
        c,
        '»' | '”' | '"' | '\'' | '’' | ')' | ']' | '}' | '›' | '〉' | '〕'
    )
}

/// Whether a line ends like a finished sentence: its last mark, ignoring closing
/// quotes and brackets, is a sentence end or a colon (a colon ends a line that
/// introduces what follows, so the line is not a fragment to be joined).
#[must_use]
pub(crate) fn ends_with_sentence_punct(line: &str) -> bool {
    let core = line.trim_end().trim_end_matches(is_closer);
    core.chars()
        .next_back()
        .is_some_and(|c| is_sentence_end(c) || c == ':')
}

/// Split a paragraph into sentences; see [`crate::segment::split_sentences`].
#[must_use]
pub fn split_sentences(text: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let byte_at = |k: usize| chars.get(k).map_or(text.len(), |&(b, _)| b);
    let mut pieces = Vec::new();
    // `start` and `i` index `chars`, not bytes.
    let (mut start, mut i) = (0, 0);
    while i < chars.len() {
        if !is_sentence_end(chars[i].1) {
            i += 1;
            continue;
        }
        let run_end = mark_run_end(&chars, i);
        match next_sentence_start(&chars, start, i, run_end) {
            Some(next) => {
                pieces.push(&text[byte_at(start)..byte_at(next)]);
                start = next;
                i = next;
            }
            None => i = run_end,
        }
    }
    if start < chars.len() {
        pieces.push(&text[byte_at(start)..]);
    }
    pieces
}

/// Index just past the run of sentence marks and closers that starts at `i`.
fn mark_run_end(chars: &[(usize, char)], i: usize) -> usize {
    let mut j = i;
    while j < chars.len() && (is_sentence_end(chars[j].1) || is_closer(chars[j].1)) {
        j += 1;
    }
    j
}

/// Where the next sentence starts when the mark run `run..run_end` ends the current
/// one (the sentence keeps the run and the whitespace after it).
fn next_sentence_start(
    chars: &[(usize, char)],
    start: usize,
    run: usize,
    run_end: usize,
) -> Option<usize> {
    if run_end >= chars.len() || !chars[run_end].1.is_whitespace() {
        return None;
    }
    let marks: String = chars[run..run_end]
        .iter()
        .map(|&(_, c)| c)
        .filter(|&c| is_sentence_end(c))
        .collect();
    if marks == ".." || (marks == "." && is_abbreviation(chars, start, run)) {
        return None;
    }
    let next = (run_end..chars.len()).find(|&k| !chars[k].1.is_whitespace())?;
    Some(next)
}

/// Latin and Arabic title abbreviations written with a single final dot.
const TITLE_ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "no", "vs", "gen", "sen", "rep", "gov",
    "col", "lt", "capt", "د", "أ",
];

/// Whether the dot at `dot` closes an abbreviation rather than a sentence: initials
/// (`U.S.`, `أ.ف.ب.`, `J.`), a title (`Dr.`, `د.`), or a list number at the start of
/// the sentence (`1.`).
fn is_abbreviation(chars: &[(usize, char)], start: usize, dot: usize) -> bool {
    let mut from = dot;
    while from > start && !chars[from - 1].1.is_whitespace() && !is_opener(chars[from - 1].1) {
        from -= 1;
    }
    let word: String = chars[from..dot].iter().map(|&(_, c)| c).collect();
    let at_sentence_start = chars[start..from].iter().all(|&(_, c)| c.is_whitespace());
    is_initials(&word)
        || TITLE_ABBREVIATIONS.contains(&word.to_lowercase().as_str())
        || (at_sentence_start && word.len() <= 2 && word.chars().all(|c| c.is_ascii_digit()))
}

/// `U.S`, `أ.ف.ب`, `e.g` (letters of one or two in dotted groups) or a lone capital.
fn is_initials(word: &str) -> bool {
    let mut single = word.chars();
    if let (Some(c), None) = (single.next(), single.next()) {
        return c.is_uppercase();
    }
    word.contains('.')
        && word.split('.').all(|part| {
            let n = part.chars().count();
            (1..=2).contains(&n) && part.chars().all(char::is_alphabetic)
        })
}

/// Opening quotes and brackets (the left edge of a word before a dot).
fn is_opener(c: char) -> bool {
    matches!(c, '«' | '“' | '"' | '\'' | '‘' | '(' | '[' | '{' | '‹')
}

/// Marks that end a sentence for [`sentences`]: `. ! ? ؟ … ۔` (and the combined
/// `‼ ⁇ ⁈ ⁉`). Unlike [`is_sentence_end`], the Arabic semicolon `؛` is not one of
/// them: it joins clauses inside a sentence.
#[must_use]
pub(crate) fn is_terminal(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '؟' | '…' | '۔' | '‼' | '⁇' | '⁈' | '⁉')
}

/// Whether `text` ends like a finished sentence for [`sentences`]: its last mark,
/// ignoring closing quotes and brackets, is one of [`is_terminal`].
#[must_use]
pub(crate) fn ends_with_terminal(text: &str) -> bool {
    text.trim_end()
        .trim_end_matches(is_closer)
        .chars()
        .next_back()
        .is_some_and(is_terminal)
}

/// Split a paragraph into sentences for alignment; see [the module](mod@crate::segment::sentences).
#[must_use]
pub fn sentences(text: &str) -> Vec<&str> {
    let words: Vec<(usize, &str)> = word_spans(text);
    let mut out = Vec::new();
    let mut first = 0;
    for k in 0..words.len() {
        let next = words.get(k + 1).map(|&(_, w)| w);
        if next.is_none() || ends_sentence(&words[first..=k], next.unwrap_or_default()) {
            let start = words[first].0;
            let end = words[k].0 + words[k].1.len();
            out.push(&text[start..end]);
            first = k + 1;
        }
    }
    out
}

/// The whitespace-separated words of `text` with their byte offsets.
fn word_spans(text: &str) -> Vec<(usize, &str)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                spans.push((s, &text[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, &text[s..]));
    }
    spans
}

/// Abbreviations that are never the last word of a sentence: titles before a name
/// and Latin abbreviations that introduce what follows (compared lowercased, final
/// dot removed).
const NEVER_FINAL: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "st", "gen", "sen", "rep", "gov", "col", "lt", "capt", "sgt",
    "maj", "adm", "pres", "rev", "hon", "mt", "ft", "vs", "cf", "approx", "fig", "vol", "pp",
    "art", "e.g", "i.e", "viz",
];

/// Abbreviations that may end a sentence: they do when the next word starts with a
/// capital letter or is not written in the Latin script.
const MAYBE_FINAL: &[&str] = &[
    "etc", "a.m", "p.m", "inc", "ltd", "co", "corp", "jr", "sr", "bros", "al",
];

/// Whether the sentence made of `words` ends after its last word, `next` being the
/// word that follows.
fn ends_sentence(words: &[(usize, &str)], next: &str) -> bool {
    let last = words[words.len() - 1].1;
    let core = last.trim_end_matches(is_closer);
    let Some(mark) = core.chars().next_back().filter(|&c| is_terminal(c)) else {
        return false;
    };
    let body = core.trim_end_matches(is_terminal);
    let run = &core[body.len()..];
    let stem = body.trim_start_matches(is_opener);
    let next_first = next.trim_start_matches(is_opener).chars().next();
    let next_lower = next_first.is_some_and(|c| c.is_lowercase());
    let next_latin_lower = next_lower && next_first.is_some_and(|c| c.is_ascii_alphabetic());
    if run == ".." {
        // A headline's `..` pause ("جديدة.. ماذا وراء").
        return false;
    }
    if mark == '.' && run == "." && core.len() == last.len() {
        return !is_word_abbreviation(words, stem, next) && !next_latin_lower;
    }
    if mark == '…' || run.ends_with("...") {
        return !next_lower;
    }
    true
}

/// Whether `stem.` (the last word without its dot) is an abbreviation that does not
/// end the sentence before `next`.
fn is_word_abbreviation(words: &[(usize, &str)], stem: &str, next: &str) -> bool {
    let lower = stem.to_lowercase();
    let next_starts = |f: fn(char) -> bool| {
        next.trim_start_matches(is_opener)
            .chars()
            .next()
            .is_some_and(f)
    };
    if NEVER_FINAL.contains(&lower.as_str()) {
        return true;
    }
    if lower == "no" {
        return next_starts(|c| c.is_ascii_digit());
    }
    if MAYBE_FINAL.contains(&lower.as_str()) {
        return !next_starts(|c| c.is_uppercase() || !c.is_ascii());
    }
    let arabic_letter = |c: char| c.is_alphabetic() && !c.is_ascii();
    // A clitic conjunction or preposition may be written onto the title (`وأ.`).
    let stem = match stem.strip_prefix(['و', 'ف', 'ب', 'ل']) {
        Some(rest) if rest.chars().count() == 1 => rest,
        _ => stem,
    };
    let mut chars = stem.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        // A lone capital is an initial (`J. Smith`); a lone Arabic letter a title
        // (`د.` doctor, `أ.` professor), except `م.`/`هـ.` after a year, which may
        // end the sentence.
        let after_number =
            words.len() >= 2 && words[words.len() - 2].1.chars().any(|c| c.is_numeric());
        return c.is_uppercase() || (arabic_letter(c) && !after_number);
    }
    if stem == "هـ" {
        return false;
    }
    // Dotted initials: `U.S`, `أ.ف.ب`, `ه.ش` (groups of one or two letters).
    let initials = stem.contains('.')
        && stem.split('.').all(|part| {
            let n = part.chars().count();
            (1..=2).contains(&n) && part.chars().all(char::is_alphabetic)
        });
    // A list number opening the sentence (`1. ...`).
    let list_number =
        words.len() == 1 && stem.chars().count() <= 2 && stem.chars().all(char::is_numeric);
    initials || list_number
}

/// The smallest byte limit [`chunk`] honours: one character of up to four bytes
/// must always fit.
pub const MIN_CHUNK_BYTES: usize = 4;

/// Cut a paragraph into pieces; see [`crate::segment::chunk`].
#[must_use]
pub fn chunk(text: &str, max_bytes: usize) -> Vec<String> {
    let max = max_bytes.max(MIN_CHUNK_BYTES);
    let collapsed = collapse_whitespace(text);
    let mut units = Vec::new();
    for sentence in split_sentences(&collapsed) {
        push_units(sentence.trim(), max, Level::Clause, &mut units);
    }
    pack(&units, max)
}

/// Whitespace runs (NBSP included) become one space; ends are trimmed.
#[must_use]
pub(crate) fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The next, finer way to cut a piece that is still too big.
#[derive(Clone, Copy)]
enum Level {
    Clause,
    Word,
    Char,
}

/// Push `piece` as one unit if it fits, else cut it at the next finer level.
fn push_units<'a>(piece: &'a str, max: usize, level: Level, units: &mut Vec<&'a str>) {
    if piece.is_empty() {
        return;
    }
    if piece.len() <= max {
        units.push(piece);
        return;
    }
    match level {
        Level::Clause => {
            for part in split_after_marks(piece, |c| matches!(c, '،' | ',' | '؛' | ':')) {
                push_units(part, max, Level::Word, units);
            }
        }
        Level::Word => {
            for word in piece.split(' ') {
                push_units(word, max, Level::Char, units);
            }
        }
        Level::Char => units.extend(split_chars(piece, max)),
    }
}

/// Cut a collapsed piece after every clause mark that is followed by a space.
fn split_after_marks(piece: &str, is_mark: impl Fn(char) -> bool) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut prev = None;
    for (i, c) in piece.char_indices() {
        if c == ' ' && prev.is_some_and(&is_mark) {
            parts.push(&piece[start..i]);
            start = i + 1;
        }
        prev = Some(c);
    }
    parts.push(&piece[start..]);
    parts
}

/// Cut a word that alone exceeds `max` bytes at character boundaries.
fn split_chars(word: &str, max: usize) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, c) in word.char_indices() {
        if i + c.len_utf8() - start > max {
            parts.push(&word[start..i]);
            start = i;
        }
    }
    parts.push(&word[start..]);
    parts
}

/// Greedily join units with single spaces into pieces of at most `max` bytes.
fn pack(units: &[&str], max: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    for unit in units {
        if current.is_empty() {
            current.push_str(unit);
        } else if current.len() + 1 + unit.len() <= max {
            current.push(' ');
            current.push_str(unit);
        } else {
            pieces.push(std::mem::replace(&mut current, (*unit).to_owned()));
        }
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_after_marks_and_keeps_closers() {
        let t = "قال «نعم.» ثم ذهب؟ وعاد! انتهى";
        assert_eq!(
            split_sentences(t),
            vec!["قال «نعم.» ", "ثم ذهب؟ ", "وعاد! ", "انتهى"]
        );
        assert_eq!(
            split_sentences("وتابع “سنقدم”. ثم"),
            vec!["وتابع “سنقدم”. ", "ثم"]
        );
    }

    #[test]
    fn keeps_numbers_initials_and_double_dots() {
        for t in [
            "نما 2.5 في المئة",
            "صورة (أ.ف.ب) هنا",
            "وقالت أ.ف.ب. إن",
            "the U.S. army",
            "Dr. Smith came",
            "قال د. محمد",
            "جديدة.. ماذا وراء",
            "قال: نعم",
        ] {
            assert_eq!(split_sentences(t), vec![t], "{t}");
        }
    }

    #[test]
    fn abbreviations_in_later_sentences_of_multibyte_text() {
        // Regression: the sentence start was a byte offset used as a char index.
        assert_eq!(
            split_sentences("أولى. قال د. محمد كلاما. ثم"),
            vec!["أولى. ", "قال د. محمد كلاما. ", "ثم"]
        );
        assert_eq!(split_sentences("ج؟؛ .\tچ").concat(), "ج؟؛ .\tچ");
    }

    #[test]
    fn sentence_end_ignores_closers_and_counts_colon() {
        assert!(ends_with_sentence_punct("هذا «كلام.»"));
        assert!(ends_with_sentence_punct("“تاس”. "));
        assert!(ends_with_sentence_punct("وأضاف:"));
        assert!(!ends_with_sentence_punct("حركة (طالبان)"));
    }

    #[test]
    fn chunk_falls_back_to_clauses_words_and_chars() {
        assert_eq!(chunk("أ، ب، ج", 9), vec!["أ، ب،", "ج"]);
        assert_eq!(chunk("abcdefgh ij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(chunk("  ", 10), Vec::<String>::new());
        assert_eq!(chunk("One. Two. Three.", 10), vec!["One. Two.", "Three."]);
    }

    #[test]
    fn sentences_cut_after_arabic_and_persian_marks_only_at_spaces() {
        assert_eq!(
            sentences("قال «نعم.» ثم ذهب؟ وعاد! انتهى"),
            vec!["قال «نعم.»", "ثم ذهب؟", "وعاد!", "انتهى"]
        );
        assert_eq!(sentences("اول۔ دوم"), vec!["اول۔", "دوم"]);
        // `؛` joins clauses; a colon introduces a quote.
        assert_eq!(sentences("أ؛ ب: «ج»"), vec!["أ؛ ب: «ج»"]);
        // A closing quote or bracket after the full stop stays with its sentence.
        assert_eq!(
            sentences("He said “yes.” Then (he left.) Done"),
            vec!["He said “yes.”", "Then (he left.)", "Done"]
        );
        assert_eq!(sentences("  "), Vec::<&str>::new());
    }

    #[test]
    fn sentences_keep_numbers_and_abbreviations_whole() {
        for t in [
            "نما 3.5 في المئة و1,000 دولار و١٫٥ مليون في 12.10.2024 تقريبا",
            "Mr. Smith and Dr. Jones met Gen. Lee.",
            "the U.S. army and e.g. the navy",
            "Resolution No. 2254 passed",
            "Meet at 10 a.m. on Monday",
            "J. R. Smith spoke",
            "قال د. محمد وأ. أحمد",
            "وقالت أ.ف.ب. إن",
            "جديدة.. ماذا وراء",
            "1. first item",
            "a. b. c. lower case after a dot",
        ] {
            assert_eq!(sentences(t), vec![t], "{t}");
        }
    }

    #[test]
    fn sentences_end_after_abbreviations_that_can_end_one() {
        assert_eq!(
            sentences("It starts at 10 a.m. The minister came."),
            vec!["It starts at 10 a.m.", "The minister came."]
        );
        assert_eq!(
            sentences("apples, pears etc. Then more"),
            vec!["apples, pears etc.", "Then more"]
        );
        assert_eq!(
            sentences("He said no. Then left"),
            vec!["He said no.", "Then left"]
        );
        assert_eq!(
            sentences("في عام 1990 م. وقال"),
            vec!["في عام 1990 م.", "وقال"]
        );
        assert_eq!(
            sentences("in 2024. The end… Really... yes"),
            vec!["in 2024.", "The end…", "Really... yes"]
        );
    }

    #[test]
    fn sentences_join_back_to_the_collapsed_text() {
        for t in [
            "أعلنت روسيا. «تم الاعتراف». وتابع “سنقدم”.",
            "a\u{a0}b.  c\td? e",
        ] {
            let collapsed = collapse_whitespace(t);
            assert_eq!(sentences(&collapsed).join(" "), collapsed);
            assert!(sentences(t).iter().all(|s| s.trim() == *s && !s.is_empty()));
        }
    }
}
