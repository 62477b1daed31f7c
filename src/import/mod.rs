//! Import: human corrections from files into the cache as reviewed translations.
//!
//! This module owns reading correction files and deciding which of their units are
//! corrections; the `translate import` command ([`crate::cli`]) only names the files
//! and prints what happened. Four formats are read, told apart by their content (not
//! their extension):
//! - our corrections file (`{"tarjama": "corrections", "version": 1, ...}`, written by
//!   the review page): every entry is a correction;
//! - XLIFF 2.0 ([`xliff`]), ours as edited in a CAT tool: whitespace reformatted,
//!   `<ignorable>` added, other namespaces, inline markup, states changed;
//! - TMX ([`tmx`]): ours (paragraph or sentence units) or another tool's;
//! - our JSONL ([`json`]), with edited `target` fields.
//!
//! The rule: a unit is a correction when the format says a human made it (a
//! corrections entry; an XLIFF segment whose `state` is `reviewed` or `final`; a JSONL
//! row flagged `reviewed`), or when its target differs from every machine translation
//! the cache holds for its source text, whichever provider made it (with none held,
//! every unit of a TMX from another tool is a correction). Texts are compared and
//! stored normalized exactly as cache keys are ([`normalize_key_text`]: bidi marks
//! removed, NFC, whitespace collapsed), so a source pasted with right-to-left marks
//! or reordered diacritics still finds its paragraph; the summary line counts the
//! corrections that match no paragraph the cache has seen. A file is imported whole or
//! not at all: one bad unit structure fails the file, with its line.

pub mod json;
pub mod tmx;
pub mod xliff;
pub mod xml;

use std::collections::{BTreeMap, HashMap};

use crate::cache::{Cache, CacheKey, Store, normalize_key_text};
use crate::error::Result;

/// What a file turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// Our corrections file.
    Corrections,
    /// XLIFF 2.x.
    Xliff,
    /// TMX.
    Tmx,
    /// Our JSONL output.
    Jsonl,
}

impl FileKind {
    /// Its name in messages.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Corrections => "corrections file",
            FileKind::Xliff => "XLIFF",
            FileKind::Tmx => "TMX",
            FileKind::Jsonl => "JSONL",
        }
    }
}

/// One translated unit read from a file: a paragraph and its (maybe corrected)
/// translation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    /// Where it is in the file, for messages (`unit p3`, `line 7`, ...).
    pub place: String,
    /// Source language code.
    pub src_lang: String,
    /// Target language code.
    pub tgt_lang: String,
    /// Source text, whitespace collapsed.
    pub source: String,
    /// Translation, whitespace collapsed.
    pub target: String,
    /// The file says a human made or approved it.
    pub marked: bool,
}

/// A file read: its units, and the units left out with the reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// What the file was (`None` only for [`Parsed::default`]).
    pub kind: Option<FileKind>,
    /// Units with a source and a translation.
    pub units: Vec<Unit>,
    /// Units that cannot be imported, one reason each (`no target`, ...).
    pub skipped: Vec<String>,
}

impl Parsed {
    fn new(kind: FileKind) -> Parsed {
        Parsed {
            kind: Some(kind),
            ..Parsed::default()
        }
    }

    /// Add a unit after collapsing whitespace; one with an empty side is skipped.
    fn push(&mut self, mut unit: Unit) {
        unit.source = normalize_key_text(&unit.source);
        unit.target = normalize_key_text(&unit.target);
        unit.src_lang = unit.src_lang.trim().to_ascii_lowercase();
        unit.tgt_lang = unit.tgt_lang.trim().to_ascii_lowercase();
        if unit.src_lang == "fa" {
            // Ingest gives Persian documents Persian spelling before they are sent.
            unit.source = crate::ingest::persian::respell_unless_arabic(&unit.source).into_owned();
        }
        if unit.src_lang.is_empty() || unit.tgt_lang.is_empty() {
            self.skipped.push("no language".into());
        } else if unit.source.is_empty() {
            self.skipped.push("empty source".into());
        } else if unit.target.is_empty() {
            self.skipped.push("empty target".into());
        } else {
            self.units.push(unit);
        }
    }
}

/// Why a file cannot be imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl ParseError {
    /// An error at a line.
    #[must_use]
    pub fn at(line: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            line: Some(line),
            message: message.into(),
        }
    }

    /// An error of the whole file.
    #[must_use]
    pub fn file(message: impl Into<String>) -> ParseError {
        ParseError {
            line: None,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Read a correction file of any supported format from its bytes.
///
/// UTF-8 (with or without a byte order mark) and UTF-16 with a byte order mark are
/// accepted.
///
/// # Errors
/// Not text, not a supported format, or malformed (with the line when known).
pub fn parse(bytes: &[u8]) -> std::result::Result<Parsed, ParseError> {
    let text = decode(bytes)?;
    let text = text.trim_start_matches('\u{feff}');
    match text.trim_start().chars().next() {
        Some('<') => {
            let doc = xml::parse(text)?;
            let root = doc.root_element();
            match root.tag_name().name() {
                "xliff" => xliff::read(root),
                "tmx" => tmx::read(root),
                other => Err(ParseError::at(
                    xml::line(root),
                    format!("an XML file whose root is <{other}>, neither XLIFF 2.0 nor TMX"),
                )),
            }
        }
        Some('{') => json::read(text),
        Some(_) => Err(ParseError::file(
            "not a corrections file, XLIFF 2.0, TMX or JSONL (it starts with neither `<` nor `{`)",
        )),
        None => Err(ParseError::file("the file is empty")),
    }
}

fn decode(bytes: &[u8]) -> std::result::Result<String, ParseError> {
    if let Some((enc, _)) = encoding_rs::Encoding::for_bom(bytes)
        && enc != encoding_rs::UTF_8
    {
        let (text, _, bad) = enc.decode(bytes);
        if bad {
            return Err(ParseError::file(format!("invalid {} text", enc.name())));
        }
        return Ok(text.into_owned());
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            Err(ParseError::at(
                line,
                "not UTF-8 text (save the file as UTF-8)",
            ))
        }
    }
}

/// What importing one file did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Reviewed translations stored (distinct source texts).
    pub corrections: usize,
    /// Units whose translation is a machine translation the cache already holds.
    pub unchanged: usize,
    /// Units left out, counted by reason.
    pub skipped: BTreeMap<String, usize>,
    /// Corrections stored whose source text matches no paragraph the cache has seen
    /// (no machine translation of it from any provider): a typo in a source, a
    /// different language code, or a memory of texts not run yet.
    pub unseen: usize,
}

impl Summary {
    /// Units left out.
    #[must_use]
    pub(crate) fn skipped_total(&self) -> usize {
        self.skipped.values().sum()
    }

    /// `imported N corrections from FILE (M unchanged, K skipped: reasons)`, followed by
    /// `; U of them match no paragraph the cache has seen` when some do.
    #[must_use]
    pub fn line(&self, file: &str) -> String {
        let k = self.skipped_total();
        let reasons = if k == 0 {
            String::new()
        } else {
            let r: Vec<String> = self
                .skipped
                .iter()
                .map(|(reason, n)| format!("{n} {reason}"))
                .collect();
            format!(": {}", r.join(", "))
        };
        let unseen = if self.unseen == 0 {
            String::new()
        } else {
            format!(
                "; {} of them match{} no paragraph the cache has seen",
                self.unseen,
                if self.unseen == 1 { "es" } else { "" }
            )
        };
        format!(
            "imported {} correction{} from {file} ({} unchanged, {k} skipped{reasons}){unseen}",
            self.corrections,
            if self.corrections == 1 { "" } else { "s" },
            self.unchanged
        )
    }
}

/// Apply the correction rule to a file's units and store the corrections in `cache`
/// as reviewed translations, in one transaction. A later unit for the same text wins.
///
/// # Errors
/// The cache cannot be read or written; then nothing of this file was stored.
pub fn store(cache: &Cache, parsed: &Parsed) -> Result<Summary> {
    let machine = cache.machine_targets(&texts(parsed))?;
    let (summary, entries) = corrections(parsed, &machine);
    cache.put_reviewed(&entries)?;
    Ok(summary)
}

/// [`store`] through a [`Store`]: with a shared memory, the machine translations of
/// every machine count, and the corrections are stored there (and locally).
///
/// # Errors
/// A cache cannot be read or written; then nothing of this file was stored.
pub(crate) async fn store_in(store: &Store, parsed: &Parsed) -> Result<Summary> {
    let machine = store.machine_targets(&texts(parsed)).await?;
    let (summary, entries) = corrections(parsed, &machine);
    store.put_reviewed(&entries).await?;
    Ok(summary)
}

fn texts(parsed: &Parsed) -> Vec<(String, String, String)> {
    parsed
        .units
        .iter()
        .map(|u| (u.src_lang.clone(), u.tgt_lang.clone(), u.source.clone()))
        .collect()
}

/// The rule: which units are corrections, given the machine translations held for
/// each unit's source.
fn corrections(parsed: &Parsed, machine: &[Vec<String>]) -> (Summary, Vec<(CacheKey, String)>) {
    let mut summary = Summary::default();
    for reason in &parsed.skipped {
        *summary.skipped.entry(reason.clone()).or_default() += 1;
    }
    let mut chosen: HashMap<(String, String, String), usize> = HashMap::new();
    let mut order: Vec<((String, String, String), String)> = Vec::new();
    for (unit, machine) in parsed.units.iter().zip(machine) {
        let edited = !machine.iter().any(|m| normalize_key_text(m) == unit.target);
        if unit.marked || edited {
            let k = (
                unit.src_lang.clone(),
                unit.tgt_lang.clone(),
                unit.source.clone(),
            );
            match chosen.get(&k) {
                Some(&i) => order[i].1 = unit.target.clone(),
                None => {
                    chosen.insert(k.clone(), order.len());
                    order.push((k, unit.target.clone()));
                    summary.unseen += usize::from(machine.is_empty());
                }
            }
        } else {
            summary.unchanged += 1;
        }
    }
    let entries: Vec<(CacheKey, String)> = order
        .into_iter()
        .map(|((from, to, text), target)| (CacheKey::new("", "", &from, &to, &text), target))
        .collect();
    summary.corrections = entries.len();
    (summary, entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::{Lookup, Origin};

    fn unit(source: &str, target: &str, marked: bool) -> Unit {
        Unit {
            place: "unit".into(),
            src_lang: "ar".into(),
            tgt_lang: "en".into(),
            source: source.into(),
            target: target.into(),
            marked,
        }
    }

    #[test]
    fn the_rule_edited_or_marked_is_a_correction() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let k = |t: &str| CacheKey::new("mymemory", "", "ar", "en", t);
        cache.put(&k("أ"), "A machine", Origin::Machine).unwrap();
        cache
            .put(
                &CacheKey::new("deepl", "x", "ar", "en", "ب"),
                "B deepl",
                Origin::Machine,
            )
            .unwrap();
        cache.put(&k("ب"), "B mymemory", Origin::Machine).unwrap();
        cache.put(&k("ج"), "C machine", Origin::Machine).unwrap();
        let mut parsed = Parsed::new(FileKind::Xliff);
        parsed.push(unit("أ", " A   machine ", false)); // unchanged (whitespace only)
        parsed.push(unit("ب", "B deepl", false)); // another provider's: unchanged
        parsed.push(unit("ج", "C, corrected", false)); // edited
        parsed.push(unit("أ", "A machine", true)); // approved as is: a correction
        parsed.push(unit("د", "D from a human TM", false)); // nothing to compare: new
        parsed.push(unit("ه", "  ", false)); // skipped
        let s = store(&cache, &parsed).unwrap();
        assert_eq!((s.corrections, s.unchanged, s.skipped_total()), (3, 2, 1));
        assert_eq!(
            s.line("x.xliff"),
            "imported 3 corrections from x.xliff (2 unchanged, 1 skipped: 1 empty target); \
             1 of them matches no paragraph the cache has seen"
        );
        let got = |t: &str| match cache.get(&CacheKey::new("any", "", "ar", "en", t)).unwrap() {
            Lookup::Hit(h) => Some((h.target, h.origin)),
            _ => None,
        };
        assert_eq!(got("ج"), Some(("C, corrected".into(), Origin::Reviewed)));
        assert_eq!(got("أ"), Some(("A machine".into(), Origin::Reviewed)));
        assert_eq!(
            got("د"),
            Some(("D from a human TM".into(), Origin::Reviewed))
        );
        assert_eq!(got("ب"), None, "an unchanged unit is not stored");
    }

    #[test]
    fn formats_are_told_by_content_and_junk_is_refused() {
        assert!(parse(b"").unwrap_err().message.contains("empty"));
        assert!(parse(b"hello").unwrap_err().message.contains("neither"));
        assert!(
            parse(b"<html><body/></html>")
                .unwrap_err()
                .message
                .contains("<html>")
        );
        let e = parse(b"{\"a\":\n\xff}").unwrap_err();
        assert_eq!((e.line, e.message.contains("UTF-8")), (Some(2), true));
    }
}
