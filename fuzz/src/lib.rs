//! The checks the fuzz targets run, shared so each target file is one line.
//!
//! - [`check_ingest`]: arbitrary bytes read as a `.txt` and as an `.html` file
//!   (decode, HTML extraction, normalization), then segmented, classified and
//!   language-tagged (`pipeline::prepare`), sentence-split and chunked. Besides "no
//!   panic, no hang", it asserts what the segment stage promises: no character but
//!   whitespace lost or added, sentences concatenate back, chunks fit their limit.
//! - [`check_reply`]: one provider's answer classifier on an arbitrary status and
//!   body. It asserts that a success has exactly one translation per text sent, only
//!   comes with HTTP 200, and that an error is one line that never holds the key.

use std::path::PathBuf;

use tarjama::model::{SourceDoc, SourceFormat};
use tarjama::provider::ProviderError;
use tarjama::segment::{chunk, split_sentences};

fn non_whitespace(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Read `data` as text and as HTML, then segment, tag and chunk it.
pub fn check_ingest(data: &[u8]) {
    for format in [SourceFormat::Text, SourceFormat::Html] {
        let Ok(decoded) = tarjama::ingest::read_bytes(data, format) else {
            continue;
        };
        let doc = SourceDoc {
            rel: "fuzz.txt".to_owned(),
            path: PathBuf::from("fuzz.txt"),
            encoding: decoded.encoding,
            text: decoded.text.clone(),
        };
        let prepared = tarjama::pipeline::prepare(doc, None, "en");
        let joined: String = prepared.paragraphs.iter().map(|p| p.source.as_str()).collect();
        assert_eq!(non_whitespace(&joined), non_whitespace(&decoded.text));
        for p in &prepared.paragraphs {
            assert!(!p.source.is_empty());
            assert_eq!(split_sentences(&p.source).concat(), p.source);
            for max in [16, 500] {
                let pieces = chunk(&p.source, max);
                assert!(pieces.iter().all(|c| !c.is_empty() && c.len() <= max));
                assert_eq!(non_whitespace(&pieces.concat()), non_whitespace(&p.source));
            }
        }
    }
}

/// HTTP statuses the APIs give meaning to; the first input byte picks one (or, at
/// 0xF0 and above, the next two bytes are any status).
const STATUSES: &[u16] = &[
    200, 200, 200, 200, 200, 200, 400, 401, 402, 403, 404, 408, 409, 413, 414, 429, 456, 500,
    502, 503, 529,
];

/// A provider's `fuzz_reply`.
pub type Classify = fn(u16, &str, &[String]) -> Result<Vec<String>, ProviderError>;

/// Classify `data` as an answer: byte 0 the status, byte 1 how many texts were sent
/// (1 to `max_texts`), the rest the body.
pub fn check_reply(data: &[u8], max_texts: usize, classify: Classify) {
    let [a, b, c, body @ ..] = data else {
        return;
    };
    let status = if *a >= 0xF0 {
        u16::from_le_bytes([*b, *c])
    } else {
        STATUSES[usize::from(*a) % STATUSES.len()]
    };
    let sent = usize::from(*b) % max_texts + 1;
    let texts: Vec<String> = (1..=sent).map(|k| format!("نص رقم {k}")).collect();
    let body = String::from_utf8_lossy(body);
    match classify(status, &body, &texts) {
        Ok(translations) => {
            assert_eq!(status, 200, "a success without HTTP 200");
            assert_eq!(translations.len(), sent, "one translation per text sent");
        }
        Err(e) => {
            let message = e.to_string();
            assert!(!message.contains('\n'), "a message of several lines: {message:?}");
            assert!(
                !message.contains(tarjama::provider::fuzz::KEY),
                "the key in a message: {message:?}"
            );
        }
    }
}
