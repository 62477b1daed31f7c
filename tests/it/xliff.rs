//! The XLIFF output read back by a real consumer: the npm `xliff` package's XLIFF 2.0
//! parser (`xliff2js`, run by `tests/xliff/read.mjs`) must find every translated
//! paragraph of the seeds as a unit, with its target, its languages and its quality
//! flags. Needs `node` and `npm ci --prefix tests/xliff` (done by `.ci/run`); without
//! them the test fails on CI (env `CI` set) and is skipped with a reason elsewhere.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::emulator::{Api, Emulator};
use common::harness::{Scratch, seed_names, seeds};
use serde_json::Value;
use tarjama::cache::normalize_key_text;
use tarjama::model::Flag;

fn reader_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/xliff")
}

/// Whether node and the installed package are there; else why not.
fn node_ready() -> Result<(), String> {
    let node = std::process::Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Err("`node` is not installed".into());
    }
    if !reader_dir().join("node_modules/xliff").is_dir() {
        return Err(
            "the npm `xliff` package is not installed (run `npm ci --prefix tests/xliff`)".into(),
        );
    }
    Ok(())
}

/// Skip (outside CI) or fail (on CI) when node or the package is missing.
fn require_node() -> bool {
    match node_ready() {
        Ok(()) => true,
        Err(why) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must read XLIFF back: {why}"
            );
            eprintln!("skipped: {why}");
            false
        }
    }
}

/// What the npm package found in each file.
fn read_with_npm(files: &[PathBuf]) -> Vec<Value> {
    let out = std::process::Command::new("node")
        .arg(reader_dir().join("read.mjs"))
        .args(files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the npm xliff package could not read our XLIFF: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap()
}

fn jsonl_rows(path: &Path) -> Vec<Value> {
    fs_err::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The last sentence pair's `(source, target)` of a row, or the whole paragraph when
/// its sentences were not aligned: what `xliff2js`, which keeps one segment per unit,
/// reports for a unit.
fn last_segment(row: &Value) -> (String, String) {
    match row.get("sentences").and_then(Value::as_array) {
        Some(pairs) if !pairs.is_empty() => {
            let last = &pairs[pairs.len() - 1];
            (
                last["source"].as_str().unwrap().to_string(),
                last["target"].as_str().unwrap().to_string(),
            )
        }
        _ => (
            row["source"].as_str().unwrap().to_string(),
            row["target"].as_str().unwrap().to_string(),
        ),
    }
}

#[test]
fn npm_xliff_package_finds_every_translated_paragraph_of_the_seeds() {
    if !require_node() {
        return;
    }
    let s = Scratch::new();
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    s.cmd(&[&seeds()])
        .args(["--provider", "libretranslate", "--endpoint", &emu.url()])
        .assert()
        .code(0);
    let names = seed_names();
    let files: Vec<PathBuf> = names.iter().map(|n| s.output(n, "xliff")).collect();
    let read = read_with_npm(&files);
    assert_eq!(read.len(), names.len());
    let doc_lang: BTreeMap<String, String> = s
        .report()
        .docs
        .into_iter()
        .map(|d| (d.doc, d.src_lang))
        .collect();
    let mut units_total = 0;
    for (name, found) in names.iter().zip(&read) {
        let rows = jsonl_rows(&s.output(name, "jsonl"));
        let translated: Vec<&Value> = rows.iter().filter(|r| !r["target"].is_null()).collect();
        assert!(!translated.is_empty(), "{name}");
        assert_eq!(found["srcLang"], doc_lang[name].as_str(), "{name}");
        assert_eq!(found["trgLang"], "en", "{name}");
        let units: BTreeMap<String, &Value> = found["units"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| (u["id"].as_str().unwrap().to_string(), u))
            .collect();
        let expected: BTreeSet<String> = translated
            .iter()
            .map(|r| format!("p{}", r["index"]))
            .collect();
        assert_eq!(
            units.keys().cloned().collect::<BTreeSet<_>>(),
            expected,
            "{name}: units found by the npm package"
        );
        for row in &translated {
            let unit = units[&format!("p{}", row["index"])];
            assert_eq!(unit["file"], "f1");
            let (source, target) = last_segment(row);
            assert_eq!(
                unit["source"].as_str(),
                Some(source.as_str()),
                "{name} {row}"
            );
            assert_eq!(
                unit["target"].as_str(),
                Some(target.as_str()),
                "{name} {row}"
            );
            let quality: BTreeSet<&str> = row["flags"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .filter(|f| Flag::from_name(f).is_some_and(Flag::is_quality))
                .collect();
            let notes: BTreeSet<&str> = unit["notes"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            assert_eq!(notes, quality, "{name} {row}");
        }
        units_total += units.len();

        // Our own reader (translate import) gets every whole paragraph back.
        let parsed =
            tarjama::import::parse(&fs_err::read(s.output(name, "xliff")).unwrap()).unwrap();
        assert_eq!(parsed.units.len(), translated.len(), "{name}");
        for (unit, row) in parsed.units.iter().zip(&translated) {
            assert_eq!(
                unit.source,
                normalize_key_text(row["source"].as_str().unwrap())
            );
            assert_eq!(
                unit.target,
                normalize_key_text(row["target"].as_str().unwrap())
            );
            assert!(!unit.marked, "machine output is state=translated");
        }
    }
    eprintln!(
        "npm xliff package read {units_total} units from {} files",
        files.len()
    );
    assert!(units_total > 60, "{units_total}");
}

/// A hand-made document with aligned sentences, a correction, flags and characters
/// that need escaping: the package reads every unit, and the last segment of each.
#[test]
fn npm_xliff_package_reads_sentence_segments_and_escapes() {
    use tarjama::model::{AlignedDoc, Kind, Row, SentencePair};
    if !require_node() {
        return;
    }
    let pair = |s: &str, t: &str| SentencePair {
        source: s.into(),
        target: t.into(),
    };
    let row = |index, target: Option<&str>, flags: &[&str], sentences| Row {
        index,
        kind: Kind::Text,
        src_lang: "fa".into(),
        source: "گفت «سلام» & رفت. <script>alert(1)</script>".into(),
        target: target.map(Into::into),
        cached: true,
        flags: flags.iter().filter_map(|f| Flag::from_name(f)).collect(),
        sentences,
    };
    let doc = AlignedDoc {
        rel: "dir/x & y.txt".into(),
        src_lang: "fa".into(),
        tgt_lang: "en".into(),
        provider: "p".into(),
        rows: vec![
            row(
                0,
                Some("He said \"hello\" & left. <script>alert(1)</script>"),
                &["reviewed", "number_mismatch", "length_ratio"],
                vec![
                    pair("گفت «سلام» & رفت.", "He said \"hello\" & left."),
                    pair("<script>alert(1)</script>", "<script>alert(1)</script>"),
                ],
            ),
            row(1, None, &["offline_miss"], vec![]),
            row(2, Some("Whole 🙂"), &[], vec![]),
        ],
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.en.xliff");
    fs_err::write(
        &path,
        tarjama::write::render(&doc, tarjama::write::Format::Xliff).unwrap(),
    )
    .unwrap();
    let read = read_with_npm(&[path]);
    let units = read[0]["units"].as_array().unwrap();
    assert_eq!(
        (read[0]["srcLang"].as_str(), read[0]["trgLang"].as_str()),
        (Some("fa"), Some("en"))
    );
    let got: Vec<(&str, &str, &str)> = units
        .iter()
        .map(|u| {
            (
                u["id"].as_str().unwrap(),
                u["source"].as_str().unwrap(),
                u["target"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "p0",
                "<script>alert(1)</script>",
                "<script>alert(1)</script>"
            ),
            (
                "p2",
                "گفت «سلام» & رفت. <script>alert(1)</script>",
                "Whole 🙂"
            ),
        ]
    );
    assert_eq!(
        units[0]["notes"],
        serde_json::json!(["number_mismatch", "length_ratio"])
    );
    let xml =
        String::from_utf8(tarjama::write::render(&doc, tarjama::write::Format::Xliff).unwrap())
            .unwrap();
    assert_eq!(xml.matches("state=\"reviewed\"").count(), 2, "{xml}");
}
