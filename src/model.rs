//! Plain data shared by every stage.
//!
//! Stages pass these values along the pipeline
//! (`ingest → segment → detect → pipeline → align → write`); none of them carries
//! behaviour beyond small accessors, so that a stage never needs another stage's
//! internals to read what it was handed.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// What a paragraph is, decided by the segment stage.
///
/// Only [`Kind::Text`], [`Kind::Heading`] and [`Kind::Caption`] are sent for
/// translation; the others are kept in every output, marked, untranslated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Body text of the article.
    Text,
    /// A headline or sub-heading: short, no final sentence punctuation.
    Heading,
    /// A photo caption or credit line.
    Caption,
    /// Page furniture: scripts, share buttons, widgets, ads, copyright, mastheads.
    Boilerplate,
    /// The same text as an earlier paragraph of the same document.
    Duplicate,
}

impl Kind {
    /// Whether paragraphs of this kind are sent for translation.
    #[must_use]
    pub fn is_content(self) -> bool {
        matches!(self, Kind::Text | Kind::Heading | Kind::Caption)
    }

    /// The name used in JSONL, HTML classes and reports.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Heading => "heading",
            Kind::Caption => "caption",
            Kind::Boilerplate => "boilerplate",
            Kind::Duplicate => "duplicate",
        }
    }
}

/// How an input file is to be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceFormat {
    /// `.txt`
    Text,
    /// `.md`
    Markdown,
    /// `.html` / `.htm`: only the article body's text is kept.
    Html,
}

/// One file found under an INPUT, before it is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputFile {
    /// Path to open.
    pub path: PathBuf,
    /// Path relative to the INPUT it came from, with `/` separators
    /// (for a single-file INPUT: its file name). Used for `doc` and output paths.
    pub rel: String,
    /// How to read it.
    pub format: SourceFormat,
}

/// A decoded and normalized document: UTF-8, `\n` line endings, HTML entities
/// decoded, Unicode NFC, bidi control characters removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceDoc {
    /// Path relative to its INPUT (see [`InputFile::rel`]).
    pub rel: String,
    /// Path it was read from.
    pub path: PathBuf,
    /// The encoding it was decoded from (`UTF-8`, `UTF-16LE`, `windows-1256` ...).
    pub encoding: &'static str,
    /// Normalized text.
    pub text: String,
}

/// A paragraph as cut by the segment stage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// What it is.
    pub kind: Kind,
    /// Its text, whitespace collapsed, lines of a hard-wrapped paragraph joined.
    pub text: String,
}

/// A paragraph ready for translation: segment plus language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paragraph {
    /// 0-based position in its document.
    pub index: usize,
    /// What it is.
    pub kind: Kind,
    /// Language code of the paragraph (`ar`, `fa`, `en`, other ISO 639-1, or `und`).
    pub src_lang: String,
    /// The text as normalized for translation.
    pub source: String,
}

/// A document after segmentation and language detection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedDoc {
    /// Path relative to its INPUT.
    pub rel: String,
    /// Language of the document as a whole (`ar`, `fa`, ...).
    pub src_lang: String,
    /// Its paragraphs in order.
    pub paragraphs: Vec<Paragraph>,
}

/// A language code as tarjama uses it: lowercase, ISO 639-1 where there is one (`ar`,
/// `fa`, `en`), or [`Lang::UND`] when the language cannot be told. Serialised as the
/// bare code.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Lang(String);

impl Lang {
    /// `und`: no language could be told (ISO 639-2's code for "undetermined").
    pub const UND: &'static str = "und";

    /// The code.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `code` is [`Lang::UND`].
    #[must_use]
    pub(crate) fn is_und(code: &str) -> bool {
        code == Lang::UND
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a language code given on the command line cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("needs a language code such as `en`")]
pub struct LangError;

impl std::str::FromStr for Lang {
    type Err = LangError;

    /// A target language: trimmed and lowercased; empty and `auto` are refused.
    fn from_str(s: &str) -> Result<Lang, LangError> {
        let code = s.trim().to_ascii_lowercase();
        if code.is_empty() || code == "auto" {
            return Err(LangError);
        }
        Ok(Lang(code))
    }
}

/// A quality or status flag attached to a row. Its name (`snake_case`, as
/// [`Flag::as_str`] gives it) is part of the JSONL, report and XLIFF contract.
///
/// The variants are declared in the alphabetical order of their names, so that the
/// derived `Ord` sorts maps keyed by flag (the report's counts) exactly as it sorted
/// them by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// The provider refused this paragraph (a permanent error for this text).
    BadRequest,
    /// Quality: the translation is empty or blank.
    Empty,
    /// Quality: the translation's length is far outside what is usual for the
    /// language pair.
    LengthRatio,
    /// Boilerplate or duplicate: kept, not sent.
    NotSent,
    /// Quality: a number in the source is missing from the translation, or the other
    /// way round.
    NumberMismatch,
    /// `--offline` and the cache did not hold it.
    OfflineMiss,
    /// The provider kept failing (retries exhausted, auth failed, malformed replies).
    ProviderError,
    /// The provider's quota ran out before this paragraph was sent.
    QuotaExhausted,
    /// The provider's reply was rejected twice (empty, echoed, wrong script, warning
    /// text, wild length); nothing was cached.
    RejectedReply,
    /// The translation is a human correction (`translate import`), not machine output.
    Reviewed,
    /// The paragraph is already in the target language; nothing was sent.
    SameLanguage,
    /// Quality: another paragraph with a different source has the identical
    /// translation.
    SameTarget,
    /// Quality: the translation ends mid-sentence where the source does not.
    Truncated,
    /// The provider could not be reached.
    Unreachable,
    /// The provider does not translate this language pair; nothing was sent.
    UnsupportedPair,
    /// Quality: the translation still contains Arabic-script text, or equals the
    /// source.
    Untranslated,
}

impl Flag {
    /// Every quality flag, in the order they are documented. Quality flags are set by
    /// the align stage on rows that have a translation, for the reviewer's attention;
    /// they never stop a translation from being used or cached.
    pub const QUALITY: [Flag; 6] = [
        Flag::NumberMismatch,
        Flag::Untranslated,
        Flag::LengthRatio,
        Flag::Empty,
        Flag::Truncated,
        Flag::SameTarget,
    ];

    /// Every flag, in the order of their names.
    pub const ALL: [Flag; 16] = [
        Flag::BadRequest,
        Flag::Empty,
        Flag::LengthRatio,
        Flag::NotSent,
        Flag::NumberMismatch,
        Flag::OfflineMiss,
        Flag::ProviderError,
        Flag::QuotaExhausted,
        Flag::RejectedReply,
        Flag::Reviewed,
        Flag::SameLanguage,
        Flag::SameTarget,
        Flag::Truncated,
        Flag::Unreachable,
        Flag::UnsupportedPair,
        Flag::Untranslated,
    ];

    /// The flag's name as written in every output.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::BadRequest => "bad_request",
            Flag::Empty => "empty",
            Flag::LengthRatio => "length_ratio",
            Flag::NotSent => "not_sent",
            Flag::NumberMismatch => "number_mismatch",
            Flag::OfflineMiss => "offline_miss",
            Flag::ProviderError => "provider_error",
            Flag::QuotaExhausted => "quota_exhausted",
            Flag::RejectedReply => "rejected_reply",
            Flag::Reviewed => "reviewed",
            Flag::SameLanguage => "same_language",
            Flag::SameTarget => "same_target",
            Flag::Truncated => "truncated",
            Flag::Unreachable => "unreachable",
            Flag::UnsupportedPair => "unsupported_pair",
            Flag::Untranslated => "untranslated",
        }
    }

    /// Whether it is one of [`Flag::QUALITY`].
    #[must_use]
    pub fn is_quality(self) -> bool {
        Flag::QUALITY.contains(&self)
    }

    /// The flag named `name`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Flag> {
        Flag::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

impl std::fmt::Display for Flag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A source sentence (or run of sentences) aligned with its translation inside one
/// paragraph: one bead of the sentence aligner. Either side may be empty (a sentence
/// with no counterpart).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentencePair {
    /// Source sentence(s), as they appear in the paragraph.
    pub source: String,
    /// Their translation, as it appears in the translated paragraph.
    pub target: String,
}

/// One row of an aligned bilingual document: a source paragraph and its translation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// 0-based position in the document.
    pub index: usize,
    /// Paragraph kind.
    pub kind: Kind,
    /// Language of the source paragraph.
    pub src_lang: String,
    /// Source text as normalized for translation.
    pub source: String,
    /// Translation, `None` when untranslated.
    pub target: Option<String>,
    /// Served from the cache.
    pub cached: bool,
    /// Flags.
    pub flags: Vec<Flag>,
    /// The paragraph's sentences aligned with the translation's (empty when there is
    /// no translation). Concatenated in order, each side gives back the paragraph.
    pub sentences: Vec<SentencePair>,
}

impl Row {
    /// Content that should have been translated and was not (counts for exit code 3).
    #[must_use]
    pub(crate) fn is_untranslated(&self) -> bool {
        self.kind.is_content() && self.target.is_none() && !self.flags.contains(&Flag::SameLanguage)
    }

    /// Not sent for translation: boilerplate, duplicates, same-language paragraphs.
    #[must_use]
    pub(crate) fn is_skipped(&self) -> bool {
        !self.kind.is_content() || self.flags.contains(&Flag::SameLanguage)
    }
}

/// A document with every paragraph paired with its translation, ready to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlignedDoc {
    /// Path relative to its INPUT (`doc` in JSONL); output paths mirror it.
    pub rel: String,
    /// Document language.
    pub src_lang: String,
    /// Target language as given by `--to`.
    pub tgt_lang: String,
    /// Which provider (config table name) translated it: reads as the document's
    /// name for headers, and says per row which service of a chain translated it.
    pub provider: Provenance,
    /// Rows in document order.
    pub rows: Vec<Row>,
}

/// Which service translated the rows of a document.
///
/// A run with one provider has one name for everything. In a chain, rows translated
/// by another service than the first are listed by their index, and the name the
/// document shows (what it derefs to, for the review page's and the Markdown
/// header) lists every service that translated some row, in chain order. A row
/// without a translation (or with a human correction) carries the first service.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Provenance {
    /// The document's name: the services that translated rows, `, `-joined.
    shown: String,
    /// The first service of the chain: every row not listed in `rows`.
    first: String,
    /// Row index → the service that translated it, where it is not `first`.
    rows: BTreeMap<usize, String>,
}

impl Provenance {
    /// `first` for every row except those in `rows`; `shown` is the document's name.
    #[must_use]
    pub fn new(shown: String, first: String, rows: BTreeMap<usize, String>) -> Provenance {
        Provenance { shown, first, rows }
    }

    /// The service of row `index` (JSONL `provider`).
    #[must_use]
    pub(crate) fn of_row(&self, index: usize) -> &str {
        self.rows.get(&index).unwrap_or(&self.first)
    }
}

impl std::ops::Deref for Provenance {
    type Target = str;

    fn deref(&self) -> &str {
        &self.shown
    }
}

impl AsRef<str> for Provenance {
    fn as_ref(&self) -> &str {
        &self.shown
    }
}

impl std::fmt::Display for Provenance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

impl From<&str> for Provenance {
    fn from(name: &str) -> Provenance {
        Provenance::from(name.to_string())
    }
}

impl From<String> for Provenance {
    fn from(name: String) -> Provenance {
        Provenance {
            shown: name.clone(),
            first: name,
            rows: BTreeMap::new(),
        }
    }
}

/// Per-document counts, as in `report.json`'s `docs` list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocCounts {
    /// Path relative to its INPUT.
    pub doc: String,
    /// Document language.
    pub src_lang: String,
    /// All paragraphs.
    pub paragraphs: usize,
    /// Content paragraphs with a translation (from the cache or the network).
    pub translated: usize,
    /// Of those, served from the cache.
    pub from_cache: usize,
    /// Not sent: boilerplate, duplicates, paragraphs already in the target language.
    pub skipped: usize,
    /// Content paragraphs left without a translation.
    pub untranslated: usize,
    /// How many rows carry each flag (status and quality flags alike).
    #[serde(default)]
    pub flags: BTreeMap<Flag, usize>,
}

impl DocCounts {
    /// Count a document's rows.
    #[must_use]
    pub fn of(doc: &AlignedDoc) -> Self {
        let mut c = DocCounts {
            doc: doc.rel.clone(),
            src_lang: doc.src_lang.clone(),
            paragraphs: doc.rows.len(),
            ..DocCounts::default()
        };
        for row in &doc.rows {
            for flag in &row.flags {
                *c.flags.entry(*flag).or_default() += 1;
            }
            if row.target.is_some() {
                c.translated += 1;
                c.from_cache += usize::from(row.cached);
            } else if row.is_skipped() {
                c.skipped += 1;
            } else if row.is_untranslated() {
                c.untranslated += 1;
            }
        }
        c
    }
}

/// An input that could not be used, as reported in `report.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileError {
    /// The path as the user would recognise it.
    pub file: String,
    /// One-line description of the problem.
    pub message: String,
}

/// Where a service of the chain stands at the end of a run (`report.json`
/// `providers[].state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderState {
    /// Still in the chain (or never needed).
    Ok,
    /// Left: its quota is spent.
    Quota,
    /// Left: it refuses automated use for now (captcha, repeated bare 429s).
    Blocked,
    /// Left: it cannot be reached, or stopped answering.
    Unreachable,
    /// Left: its key is missing or refused.
    Auth,
    /// It does not translate a language pair of the run; others took those
    /// paragraphs.
    UnsupportedPair,
}

/// One service of the chain in `report.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderReport {
    /// The `[providers.<name>]` table.
    pub name: String,
    /// Requests sent to it (retries included; one that could not connect is not).
    pub requests: u64,
    /// Characters sent to it (retries included; as for `requests`).
    pub characters: u64,
    /// Rows of the outputs it translated (from the network or the cache).
    pub rows: usize,
    /// Where it stands.
    pub state: ProviderState,
    /// When its quota comes back, when it said (RFC 3339, UTC).
    pub reset_at: Option<String>,
}

/// The whole run, written as `report.json`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunReport {
    /// Documents written.
    pub documents: usize,
    /// All paragraphs.
    pub paragraphs: usize,
    /// Content paragraphs with a translation.
    pub translated: usize,
    /// Of those, served from the cache.
    pub from_cache: usize,
    /// Not sent (boilerplate, duplicates, same language).
    pub skipped: usize,
    /// Content paragraphs left untranslated.
    pub untranslated: usize,
    /// HTTP requests sent to the provider (retries included; a request that could
    /// not connect sent nothing and is not counted).
    pub requests: u64,
    /// Characters sent (Unicode code points, retries included; as for `requests`).
    pub chars_sent: u64,
    /// Requests that were retries.
    pub retries: u64,
    /// HTTP 429 answers received.
    pub http_429: u64,
    /// Wall-clock duration of the run in milliseconds.
    pub wall_ms: u64,
    /// Characters not sent because the same paragraph occurs elsewhere in the run.
    #[serde(default)]
    pub chars_deduplicated: u64,
    /// Characters not sent because the cache held their translation.
    #[serde(default)]
    pub chars_from_cache: u64,
    /// How many rows of the whole run carry each flag (status and quality flags).
    #[serde(default)]
    pub flags: BTreeMap<Flag, usize>,
    /// One entry per service of the chain, in order.
    #[serde(default)]
    pub providers: Vec<ProviderReport>,
    /// Inputs that could not be read, decoded or written.
    pub errors: Vec<FileError>,
    /// Per-document counts.
    pub docs: Vec<DocCounts>,
}

impl RunReport {
    /// Add one document's counts to the totals.
    pub fn add_doc(&mut self, c: DocCounts) {
        self.documents += 1;
        self.paragraphs += c.paragraphs;
        self.translated += c.translated;
        self.from_cache += c.from_cache;
        self.skipped += c.skipped;
        self.untranslated += c.untranslated;
        for (flag, n) in &c.flags {
            *self.flags.entry(*flag).or_default() += n;
        }
        self.docs.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_names_are_the_serialised_ones_and_sort_like_them() {
        for f in Flag::ALL {
            assert_eq!(serde_json::to_string(&f).unwrap(), format!("\"{f}\""));
            assert_eq!(Flag::from_name(f.as_str()), Some(f));
        }
        // The report's counts are keyed by flag: their order must stay the names'.
        let mut by_name = Flag::ALL;
        by_name.sort_by_key(|f| f.as_str());
        let mut by_ord = Flag::ALL;
        by_ord.sort();
        assert_eq!(by_name, by_ord);
        assert_eq!(by_ord, Flag::ALL);
    }

    #[test]
    fn a_target_language_is_trimmed_lowercased_and_never_auto() {
        assert_eq!("  EN ".parse::<Lang>().unwrap().as_str(), "en");
        assert!("auto".parse::<Lang>().is_err());
        assert!(" ".parse::<Lang>().is_err());
        assert!(Lang::is_und(Lang::UND));
    }
}
