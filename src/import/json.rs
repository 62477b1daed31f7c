//! Reading our JSON formats for `translate import`: the corrections file the review
//! page writes, and the JSONL output with edited `target` fields.
//!
//! A corrections file is one JSON object with `"tarjama": "corrections"` and
//! `"version": 1`; every entry of its `corrections` list is a correction. JSONL is one
//! row object per line; a row whose `target` is null carries no translation and is
//! passed over; a row flagged `reviewed` is marked as human work.

use serde::Deserialize;
use serde_json::Value;

use super::{FileKind, ParseError, Parsed, Unit};

/// The corrections file version this build reads.
pub(crate) const CORRECTIONS_VERSION: u64 = 1;

#[derive(Deserialize)]
struct CorrectionsFile {
    tarjama: String,
    version: u64,
    corrections: Vec<Correction>,
}

#[derive(Deserialize)]
struct Correction {
    #[serde(default)]
    doc: Option<String>,
    #[serde(default)]
    index: Option<usize>,
    src_lang: String,
    tgt_lang: String,
    source: String,
    target: String,
}

#[derive(Deserialize)]
struct JsonlRow {
    #[serde(default)]
    doc: Option<String>,
    #[serde(default)]
    index: Option<usize>,
    src_lang: String,
    tgt_lang: String,
    source: String,
    target: Option<String>,
    #[serde(default)]
    flags: Vec<String>,
}

/// Read a corrections file or JSONL from text starting with `{`.
///
/// # Errors
/// Malformed JSON (with its line), a missing field, a newer corrections version.
pub fn read(text: &str) -> Result<Parsed, ParseError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(o)) if o.contains_key("tarjama") => corrections(text),
        Ok(_) => jsonl(text),
        Err(whole) => {
            // Several lines each holding an object: JSONL. Otherwise report the whole
            // file's error (a corrections file spans lines).
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            if serde_json::from_str::<Value>(first).is_ok_and(|v| v.is_object()) {
                jsonl(text)
            } else {
                Err(ParseError::at(
                    whole.line(),
                    format!("malformed JSON: {whole}"),
                ))
            }
        }
    }
}

fn corrections(text: &str) -> Result<Parsed, ParseError> {
    let file: CorrectionsFile = serde_json::from_str(text)
        .map_err(|e| ParseError::at(e.line(), format!("not a valid corrections file: {e}")))?;
    if file.tarjama != "corrections" {
        return Err(ParseError::file(format!(
            "`\"tarjama\": \"{}\"` is not a corrections file",
            file.tarjama
        )));
    }
    if file.version > CORRECTIONS_VERSION {
        return Err(ParseError::file(format!(
            "corrections file version {} is newer than this translate reads \
             ({CORRECTIONS_VERSION}); update translate",
            file.version
        )));
    }
    let mut parsed = Parsed::new(FileKind::Corrections);
    for (i, c) in file.corrections.into_iter().enumerate() {
        parsed.push(Unit {
            place: place(c.doc.as_deref(), c.index, &format!("correction {}", i + 1)),
            src_lang: c.src_lang,
            tgt_lang: c.tgt_lang,
            source: c.source,
            target: c.target,
            marked: true,
        });
    }
    Ok(parsed)
}

fn jsonl(text: &str) -> Result<Parsed, ParseError> {
    let mut parsed = Parsed::new(FileKind::Jsonl);
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row: JsonlRow = serde_json::from_str(line)
            .map_err(|e| ParseError::at(n + 1, format!("not a JSONL row: {e}")))?;
        let Some(target) = row.target else {
            continue;
        };
        parsed.push(Unit {
            place: place(row.doc.as_deref(), row.index, &format!("line {}", n + 1)),
            src_lang: row.src_lang,
            tgt_lang: row.tgt_lang,
            source: row.source,
            target,
            marked: row
                .flags
                .iter()
                .any(|f| f == crate::model::Flag::Reviewed.as_str()),
        });
    }
    Ok(parsed)
}

fn place(doc: Option<&str>, index: Option<usize>, fallback: &str) -> String {
    match (doc, index) {
        (Some(d), Some(i)) => format!("{d} paragraph {i}"),
        _ => fallback.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    #[test]
    fn corrections_file_every_entry_counts() {
        let f = r#"{
  "tarjama": "corrections",
  "version": 1,
  "corrections": [
    { "doc": "001.txt", "index": 3, "src_lang": "ar", "tgt_lang": "en",
      "source": "قال  الوزير.", "machine": "The minister said.", "target": "The minister said." },
    { "doc": "001.txt", "index": 4, "src_lang": "ar", "tgt_lang": "en",
      "source": "غادر.", "machine": null, "target": "He left." }
  ]
}"#;
        let p = parse(f.as_bytes()).unwrap();
        assert_eq!(p.kind, Some(FileKind::Corrections));
        assert_eq!(p.units.len(), 2);
        assert!(p.units.iter().all(|u| u.marked));
        assert_eq!(p.units[0].source, "قال الوزير.");
        assert_eq!(p.units[1].place, "001.txt paragraph 4");
    }

    #[test]
    fn broken_corrections_files() {
        let e = parse(b"{\n\"tarjama\": \"corrections\",\n\"version\": 1,\n\"corrections\": [\n{\"src_lang\": \"ar\"}\n]\n}").unwrap_err();
        assert!(e.message.contains("missing field"), "{e}");
        assert_eq!(e.line, Some(5), "{e}");
        let e =
            parse(br#"{"tarjama": "corrections", "version": 2, "corrections": []}"#).unwrap_err();
        assert!(e.message.contains("newer"), "{e}");
        let e = parse(b"{\n\"tarjama\": \"corrections\",\n\"version\": 1,\n\"corrections\": [\n")
            .unwrap_err();
        assert!(
            e.message.contains("JSON") || e.message.contains("corrections"),
            "{e}"
        );
        assert!(e.line.is_some(), "{e}");
    }

    #[test]
    fn jsonl_rows_with_targets() {
        let rows = concat!(
            r#"{"doc":"a.txt","index":0,"kind":"heading","src_lang":"ar","tgt_lang":"en","source":"عنوان","target":"Title","provider":"p","cached":false,"flags":[],"sentences":[]}"#,
            "\n",
            r#"{"doc":"a.txt","index":1,"kind":"boilerplate","src_lang":"ar","tgt_lang":"en","source":"شارك","target":null,"provider":"p","cached":false,"flags":["not_sent"]}"#,
            "\n\n",
            r#"{"doc":"a.txt","index":2,"kind":"text","src_lang":"ar","tgt_lang":"en","source":"نص","target":"Text","provider":"p","cached":true,"flags":["reviewed"]}"#,
            "\n"
        );
        let p = parse(rows.as_bytes()).unwrap();
        assert_eq!(p.kind, Some(FileKind::Jsonl));
        assert_eq!(p.units.len(), 2);
        assert!(!p.units[0].marked && p.units[1].marked);
        // One line alone is JSONL too.
        let one = rows.lines().next().unwrap();
        assert_eq!(parse(one.as_bytes()).unwrap().units.len(), 1);
        let broken = rows.replace(r#""source":"نص","#, r#""source":"نص"#);
        let e = parse(broken.as_bytes()).unwrap_err();
        assert_eq!(e.line, Some(4), "{e}");
        let missing = rows.replace(
            r#""src_lang":"ar","tgt_lang":"en","source":"نص""#,
            r#""source":"نص""#,
        );
        let e = parse(missing.as_bytes()).unwrap_err();
        assert!(e.message.contains("src_lang") && e.line == Some(4), "{e}");
    }
}
