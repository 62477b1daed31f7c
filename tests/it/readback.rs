//! Our TMX read back by a real consumer: Debian's translate-toolkit
//! (`python3-translate`, run with `/usr/bin/python3`), in paragraph and in sentence
//! mode. It must find every unit, with its id, source, target, languages
//! and our props.
//!
//! Without `/usr/bin/python3` and its `translate` package the tests are skipped with a
//! printed reason, except when `CI` is set: then they fail.

use crate::common;

use std::path::PathBuf;
use std::process::Command;

use common::emulator::{Api, Emulator};
use common::harness::{JsonRow, Scratch, seed_names, seeds};
use serde::Deserialize;
use tarjama::model::{AlignedDoc, Kind, Row, SentencePair};
use tarjama::write::{Format, WriteOptions, render_with, tmx};

const PYTHON: &str = "/usr/bin/python3";

/// Parses each TMX file given with translate-toolkit; prints, per file, the header's
/// props and every unit as translate-toolkit sees it.
const READ_TMX: &str = r#"
import json, sys
from translate.storage import tmx
XML = "{http://www.w3.org/XML/1998/namespace}lang"
out = []
for path in sys.argv[1:]:
    store = tmx.tmxfile.parsefile(path)
    header = store.document.getroot().find("header")
    units = []
    for u in store.units:
        tuvs = u.xmlelement.findall("tuv")
        units.append({
            "id": u.getid(),
            "source": u.source,
            "target": u.target,
            "langs": [t.get(XML) for t in tuvs],
            "props": [[p.get("type"), p.text] for p in u.xmlelement.findall("prop")],
        })
    out.append({
        "srclang": header.get("srclang"),
        "props": [[p.get("type"), p.text] for p in header.findall("prop")],
        "units": units,
    })
print(json.dumps(out, ensure_ascii=False))
"#;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    srclang: String,
    props: Vec<(String, String)>,
    units: Vec<Unit>,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct Unit {
    id: String,
    source: String,
    target: String,
    langs: Vec<String>,
    props: Vec<(String, String)>,
}

/// `true` when translate-toolkit is there; skips (prints why) or, on CI, fails.
fn toolkit_ready() -> bool {
    let ok = Command::new(PYTHON)
        .args(["-c", "import translate.storage.tmx"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let why = format!("{PYTHON} with translate-toolkit (python3-translate) is not installed");
        assert!(
            std::env::var_os("CI").is_none_or(|v| v.is_empty()),
            "cannot read TMX back on CI: {why}"
        );
        eprintln!("skipping the TMX readback: {why}");
    }
    ok
}

fn read_tmx(files: &[PathBuf]) -> Vec<File> {
    let out = Command::new(PYTHON)
        .arg("-c")
        .arg(READ_TMX)
        .args(files)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "translate-toolkit failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// What a unit of paragraph mode must hold, from a JSONL row.
fn paragraph_unit(r: &JsonRow, target: &str) -> Unit {
    Unit {
        id: r.index.to_string(),
        source: r.source.clone(),
        target: target.to_owned(),
        langs: vec![r.src_lang.clone(), r.tgt_lang.clone()],
        props: Vec::new(),
    }
}

/// The units of sentence mode for one row: its pairs with both sides non-empty.
fn sentence_units(index: usize, src: &str, tgt: &str, pairs: &[(&str, &str)]) -> Vec<Unit> {
    pairs
        .iter()
        .filter(|(s, t)| !s.is_empty() && !t.is_empty())
        .enumerate()
        .map(|(n, (s, t))| Unit {
            id: format!("{index}.{n}"),
            source: (*s).to_owned(),
            target: (*t).to_owned(),
            langs: vec![src.to_owned(), tgt.to_owned()],
            props: vec![("x-tarjama-paragraph".to_owned(), index.to_string())],
        })
        .collect()
}

/// Translate the seeds with `--tmx-unit unit`; each seed's TMX and JSONL rows.
fn seed_run(unit: &str) -> (Scratch, Vec<(PathBuf, Vec<JsonRow>)>) {
    let s = Scratch::new();
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    let status = s
        .std_cmd(&[&seeds()])
        .args(["--provider", "libretranslate", "--endpoint", &emu.url()])
        .args(["--format", "tmx,jsonl", "--tmx-unit", unit, "-q"])
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let docs = seed_names()
        .into_iter()
        .map(|name| (s.output(&name, "tmx"), s.jsonl(&name)))
        .collect();
    (s, docs)
}

fn doc_prop(rel: &str) -> Vec<(String, String)> {
    vec![("x-tarjama-doc".to_owned(), rel.to_owned())]
}

#[test]
fn translate_toolkit_reads_every_paragraph_unit_of_the_seeds() {
    if !toolkit_ready() {
        return;
    }
    let (s, docs) = seed_run("paragraph");
    let report = s.report();
    let files: Vec<PathBuf> = docs.iter().map(|(p, _)| p.clone()).collect();
    let read = read_tmx(&files);
    let mut units = 0;
    for ((path, rows), file) in docs.iter().zip(&read) {
        let want: Vec<Unit> = rows
            .iter()
            .filter_map(|r| r.target.as_deref().map(|t| paragraph_unit(r, t)))
            .collect();
        assert!(!want.is_empty(), "{}", path.display());
        assert_eq!(file.units, want, "{}", path.display());
        let counts = report.docs.iter().find(|d| d.doc == rows[0].doc).unwrap();
        assert_eq!(file.srclang, counts.src_lang);
        assert_eq!(file.props, doc_prop(&rows[0].doc));
        units += want.len();
    }
    assert!(units > 60, "{units} units");
}

#[test]
fn translate_toolkit_reads_every_sentence_unit_of_the_seeds() {
    if !toolkit_ready() {
        return;
    }
    let (_s, docs) = seed_run("sentence");
    let files: Vec<PathBuf> = docs.iter().map(|(p, _)| p.clone()).collect();
    let read = read_tmx(&files);
    for ((path, rows), file) in docs.iter().zip(&read) {
        let want: Vec<Unit> = rows
            .iter()
            .filter(|r| r.target.is_some())
            .flat_map(|r| {
                let pairs: Vec<(&str, &str)> = r
                    .sentences
                    .iter()
                    .map(|p| (p.source.as_str(), p.target.as_str()))
                    .collect();
                sentence_units(r.index, &r.src_lang, &r.tgt_lang, &pairs)
            })
            .collect();
        assert_eq!(file.units, want, "{}", path.display());
        assert_eq!(file.props, doc_prop(&rows[0].doc));
    }
}

/// Sentence units of a document whose pairs are known (including a 1-0 bead, which
/// makes no unit, and a two-sentence source bead), written by the library.
#[test]
fn translate_toolkit_reads_known_sentence_units() {
    if !toolkit_ready() {
        return;
    }
    let pairs: [(&str, &str); 4] = [
        (
            "قالت وكالة Reuters إن 12 شخصاً قتلوا.",
            "Reuters said 12 people were killed.",
        ),
        (
            "وأضافت أن الحكومة لم تعلق. ولم يصدر بيان.",
            "It added that the government made no statement.",
        ),
        ("وهذه جملة بلا ترجمة.", ""),
        (
            "ورفض المتحدث <b>&amp;</b> التعليق.",
            "The spokesman <b>&amp;</b> declined to comment.",
        ),
    ];
    let join = |second: bool| {
        let v: Vec<&str> = pairs
            .iter()
            .map(|p| if second { p.1 } else { p.0 })
            .filter(|s| !s.is_empty())
            .collect();
        v.join(" ")
    };
    let doc = AlignedDoc {
        rel: "a/خبر.txt".into(),
        src_lang: "ar".into(),
        tgt_lang: "en".into(),
        provider: "p".into(),
        rows: vec![Row {
            index: 3,
            kind: Kind::Text,
            src_lang: "ar".into(),
            source: join(false),
            target: Some(join(true)),
            cached: false,
            flags: Vec::new(),
            sentences: pairs
                .iter()
                .map(|(s, t)| SentencePair {
                    source: (*s).into(),
                    target: (*t).into(),
                })
                .collect(),
        }],
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.tmx");
    let opts = WriteOptions {
        tmx_unit: tmx::Unit::Sentence,
    };
    fs_err::write(&path, render_with(&doc, Format::Tmx, opts).unwrap()).unwrap();
    let read = read_tmx(std::slice::from_ref(&path));
    assert_eq!(read[0].units, sentence_units(3, "ar", "en", &pairs));
    assert_eq!(read[0].units.len(), 3);
    assert_eq!(read[0].props, doc_prop("a/خبر.txt"));
}
