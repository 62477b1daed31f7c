//! `translate import` end to end: corrections made in each accepted format (the review
//! page's corrections file, XLIFF edited in a CAT tool, TMX, JSONL) survive every
//! later run, offline or against any provider, are marked as reviewed in the outputs,
//! and are never sent for translation again.

use crate::common;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use common::emulator::{Api, Emulator};
use common::harness::{Scratch, seed_names, seeds};
use serde_json::{Value, json};

/// A scratch with a second LibreTranslate table, `lt_other`: the same server kind
/// under another config name, so its machine cache entries are not the first one's.
fn scratch() -> Scratch {
    Scratch::with_config(|c| {
        let start = c.find("[providers.libretranslate]").unwrap();
        let end = c[start + 1..]
            .find("\n[")
            .map_or(c.len(), |i| start + 1 + i);
        let table = c[start..end].replace("[providers.libretranslate]", "[providers.lt_other]");
        format!("{c}\n{table}\n")
    })
}

fn rows(path: &Path) -> Vec<Value> {
    fs_err::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn all_rows(s: &Scratch) -> Vec<Value> {
    seed_names()
        .iter()
        .flat_map(|n| rows(&s.output(n, "jsonl")))
        .collect()
}

fn import(s: &Scratch, files: &[&Path]) -> std::process::Output {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("translate"));
    c.env("TARJAMA_NO_KEYRING", "1")
        .arg("import")
        .args(files)
        .arg("--cache-dir")
        .arg(&s.cache);
    c.output().unwrap()
}

fn has_flag(row: &Value, flag: &str) -> bool {
    row["flags"].as_array().unwrap().iter().any(|f| f == flag)
}

/// The `<unit id="p<index>">…</unit>` element of an XLIFF text.
fn unit_of(xliff: &str, index: u64) -> (usize, usize) {
    let start = xliff.find(&format!("<unit id=\"p{index}\"")).unwrap();
    let end = start + xliff[start..].find("</unit>").unwrap() + "</unit>".len();
    (start, end)
}

/// One correction per format, each on a paragraph of its own document.
struct Picked {
    doc: String,
    index: u64,
    source: String,
    corrected: String,
}

#[test]
fn corrections_in_every_format_survive_reruns_and_are_never_sent_again() {
    let s = scratch();
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    s.cmd(&[&seeds()])
        .args(["--provider", "libretranslate", "--endpoint", &emu.url()])
        .assert()
        .code(0);
    drop(emu);
    let first = all_rows(&s);
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &first {
        *count.entry(r["source"].as_str().unwrap()).or_default() += 1;
    }
    // A text paragraph whose source occurs once in the whole run, in each of four docs.
    let names = seed_names();
    let picked: Vec<Picked> = names[..4]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let r = first
                .iter()
                .find(|r| {
                    r["doc"] == name.as_str()
                        && r["kind"] == "text"
                        && !r["target"].is_null()
                        && count[r["source"].as_str().unwrap()] == 1
                })
                .unwrap_or_else(|| panic!("no unique text paragraph in {name}"));
            Picked {
                doc: name.clone(),
                index: r["index"].as_u64().unwrap(),
                source: r["source"].as_str().unwrap().to_string(),
                corrected: format!("Corrected by a reviewer, format {i}: {}.", r["index"]),
            }
        })
        .collect();
    let dir = s.dir.path().join("edits");
    fs_err::create_dir_all(&dir).unwrap();

    // 1. The review page's corrections file.
    let p = &picked[0];
    let machine = first
        .iter()
        .find(|r| r["doc"] == p.doc.as_str() && r["index"] == p.index)
        .unwrap()["target"]
        .clone();
    let corrections = dir.join("a.en.corrections.json");
    let body = json!({
        "tarjama": "corrections",
        "version": 1,
        "corrections": [{
            "doc": p.doc, "index": p.index, "src_lang": "ar", "tgt_lang": "en",
            "source": p.source, "machine": machine, "target": p.corrected,
        }]
    });
    let src_lang = |doc: &str| {
        first.iter().find(|r| r["doc"] == doc).unwrap()["src_lang"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let mut body = body;
    body["corrections"][0]["src_lang"] = json!(src_lang(&p.doc));
    fs_err::write(&corrections, serde_json::to_string_pretty(&body).unwrap()).unwrap();

    // 2. XLIFF as a CAT tool leaves it: the unit approved (`final`) with a new
    //    target, re-indented with tabs.
    let p = &picked[1];
    let xliff = fs_err::read_to_string(s.output(&p.doc, "xliff")).unwrap();
    let units_in_xliff = xliff.matches("<unit ").count();
    let (a, b) = unit_of(&xliff, p.index);
    let mut unit = xliff[a..b].replace("state=\"translated\"", "state=\"final\"");
    let mut first_target = true;
    while let Some(t) = unit.find("<target>") {
        let end = unit[t..].find("</target>").unwrap() + t;
        let new = if first_target {
            p.corrected.as_str()
        } else {
            ""
        };
        first_target = false;
        unit = format!(
            "{}<TARGET>{new}</TARGET>{}",
            &unit[..t],
            &unit[end + "</target>".len()..]
        );
    }
    let unit = unit.replace("TARGET>", "target>");
    let edited = format!("{}{unit}{}", &xliff[..a], &xliff[b..]).replace("\n  ", "\n\t");
    let edited_xliff = dir.join("b.en.xliff");
    fs_err::write(&edited_xliff, edited).unwrap();

    // 3. TMX with an edited target.
    let p = &picked[2];
    let tmx = fs_err::read_to_string(s.output(&p.doc, "tmx")).unwrap();
    let tus_in_tmx = tmx.matches("<tu ").count();
    let tu = tmx.find(&format!("<tu tuid=\"{}\">", p.index)).unwrap();
    let second_seg = tu + tmx[tu..].match_indices("<seg>").nth(1).unwrap().0 + "<seg>".len();
    let seg_end = second_seg + tmx[second_seg..].find("</seg>").unwrap();
    let edited = format!("{}{}{}", &tmx[..second_seg], p.corrected, &tmx[seg_end..]);
    let edited_tmx = dir.join("c.en.tmx");
    fs_err::write(&edited_tmx, edited).unwrap();

    // 4. JSONL with an edited target.
    let p = &picked[3];
    let mut jrows = rows(&s.output(&p.doc, "jsonl"));
    let translated_in_jsonl = jrows.iter().filter(|r| !r["target"].is_null()).count();
    for r in &mut jrows {
        if r["index"] == p.index {
            r["target"] = json!(p.corrected);
        }
    }
    let edited_jsonl = dir.join("d.en.jsonl");
    let text: String = jrows.iter().map(|r| format!("{r}\n")).collect();
    fs_err::write(&edited_jsonl, text).unwrap();

    // A broken file among them: reported, the others still imported.
    let broken = dir.join("broken.xliff");
    fs_err::write(&broken, "<?xml version=\"1.0\"?>\n<xliff xmlns=\"urn:oasis:names:tc:xliff:document:2.0\" version=\"2.0\" srcLang=\"ar\">\n<file id=\"f1\">\n<unit id=\"p0\">\n").unwrap();

    let out = import(
        &s,
        &[
            &corrections,
            &edited_xliff,
            &edited_tmx,
            &edited_jsonl,
            &broken,
        ],
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    let d = |p: &PathBuf| p.display().to_string();
    assert_eq!(
        lines,
        vec![
            format!(
                "imported 1 correction from {} (0 unchanged, 0 skipped)",
                d(&corrections)
            ),
            format!(
                "imported 1 correction from {} ({} unchanged, 0 skipped)",
                d(&edited_xliff),
                units_in_xliff - 1
            ),
            format!(
                "imported 1 correction from {} ({} unchanged, 0 skipped)",
                d(&edited_tmx),
                tus_in_tmx - 1
            ),
            format!(
                "imported 1 correction from {} ({} unchanged, 0 skipped)",
                d(&edited_jsonl),
                translated_in_jsonl - 1
            ),
            format!(
                "error: {}: line 5: malformed XML: the file ends inside <unit>; nothing imported from it",
                d(&broken)
            ),
        ],
        "{stderr}"
    );

    let check = |s: &Scratch, provider: &str| {
        let now = all_rows(s);
        assert_eq!(now.len(), first.len());
        let mut reviewed = 0;
        for r in &now {
            let p = picked
                .iter()
                .find(|p| r["doc"] == p.doc.as_str() && r["index"] == p.index);
            match p {
                Some(p) => {
                    assert_eq!(r["target"], p.corrected.as_str(), "{provider}: {r}");
                    assert!(
                        has_flag(r, "reviewed") && r["cached"] == true,
                        "{provider}: {r}"
                    );
                    reviewed += 1;
                }
                None => assert!(!has_flag(r, "reviewed"), "{provider}: {r}"),
            }
        }
        assert_eq!(reviewed, 4, "{provider}");
        for p in &picked {
            let x = fs_err::read_to_string(s.output(&p.doc, "xliff")).unwrap();
            let (a, b) = unit_of(&x, p.index);
            assert!(
                x[a..b].contains("state=\"reviewed\""),
                "{provider}: {}",
                &x[a..b]
            );
            assert!(
                !x[a..b].contains("state=\"translated\""),
                "{provider}: {}",
                &x[a..b]
            );
            assert_eq!(
                x.matches("state=\"reviewed\"").count(),
                x[a..b].matches("state=\"reviewed\"").count(),
                "only the corrected unit is reviewed"
            );
        }
    };

    // Offline, same provider: the corrections, marked.
    s.cmd(&[&seeds()])
        .args(["--provider", "libretranslate", "--offline"])
        .assert()
        .code(0);
    check(&s, "libretranslate offline");

    // Another provider, against a live server: the corrections are never sent; the
    // rest is (that provider has nothing cached).
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    s.cmd(&[&seeds()])
        .args(["--provider", "lt_other", "--endpoint", &emu.url()])
        .assert()
        .code(0);
    let sent: HashSet<String> = emu.texts_received().into_iter().collect();
    assert!(
        !sent.is_empty(),
        "lt_other had nothing cached and sent nothing"
    );
    for p in &picked {
        assert!(
            !sent.contains(&p.source),
            "a corrected paragraph was sent: {}",
            p.source
        );
    }
    check(&s, "lt_other");

    // And the first provider, online: still the corrections, nothing sent at all.
    s.cmd(&[&seeds()])
        .args(["--provider", "libretranslate", "--endpoint", &emu.url()])
        .assert()
        .code(0);
    assert_eq!(
        emu.texts_received().len(),
        sent.len(),
        "a cached rerun sent text"
    );
    check(&s, "libretranslate online");

    // Importing the outputs of a run again changes nothing: the reviewed units come
    // back as corrections, every other unit is unchanged.
    let out = import(&s, &[&s.output(&picked[1].doc, "xliff")]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap().trim_end(),
        format!(
            "imported 1 correction from {} ({} unchanged, 0 skipped)",
            s.output(&picked[1].doc, "xliff").display(),
            units_in_xliff - 1
        )
    );
}

/// MyMemory sends a long paragraph in 500-byte pieces; a correction of the whole
/// paragraph, imported before any run, means none of its pieces is ever sent.
#[test]
fn a_corrected_long_paragraph_is_not_sent_in_pieces() {
    let s = scratch();
    // An offline run into an empty cache writes the rows (untranslated) to learn the
    // sources from.
    s.cmd(&[&seeds()]).arg("--offline").assert().code(3);
    let before = all_rows(&s);
    let long = before
        .iter()
        .filter(|r| r["kind"] == "text")
        .max_by_key(|r| r["source"].as_str().unwrap().len())
        .unwrap();
    let source = long["source"].as_str().unwrap();
    assert!(source.len() > 500, "{}", source.len());
    let corrections = s.dir.path().join("long.corrections.json");
    let body = json!({
        "tarjama": "corrections", "version": 1,
        "corrections": [{
            "doc": long["doc"], "index": long["index"], "src_lang": long["src_lang"],
            "tgt_lang": "en", "source": source, "machine": null,
            "target": "The whole paragraph, translated by a person.",
        }]
    });
    fs_err::write(&corrections, body.to_string()).unwrap();
    let out = import(&s, &[&corrections]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let emu = Emulator::spawn_blocking_runtime(Api::MyMemory);
    s.cmd(&[&seeds()])
        .args(["--provider", "mymemory", "--endpoint", &emu.url()])
        .assert()
        .code(0);
    let sent = emu.texts_received();
    assert!(!sent.is_empty());
    // A text that is another paragraph (a heading quoted in it) may be sent.
    let others: HashSet<&str> = before
        .iter()
        .map(|r| r["source"].as_str().unwrap())
        .filter(|t| *t != source)
        .collect();
    for t in &sent {
        assert!(
            !source.contains(t.as_str()) || others.contains(t.as_str()),
            "a piece of the corrected paragraph was sent: {t}"
        );
    }
    let row = all_rows(&s)
        .into_iter()
        .find(|r| r["doc"] == long["doc"] && r["index"] == long["index"])
        .unwrap();
    assert_eq!(
        row["target"],
        "The whole paragraph, translated by a person."
    );
    assert!(has_flag(&row, "reviewed"));
}

#[test]
fn import_usage_and_unreadable_files() {
    let s = scratch();
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("translate"))
        .arg("import")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let missing = s.dir.path().join("nope.xliff");
    let junk = s.dir.path().join("notes.txt");
    fs_err::write(&junk, "just some notes\n").unwrap();
    let out = import(&s, &[&missing, &junk]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(
        lines[0].starts_with(&format!("error: {}: no such file", missing.display())),
        "{stderr}"
    );
    assert!(
        lines[1].starts_with(&format!(
            "error: {}: not a corrections file",
            junk.display()
        )),
        "{stderr}"
    );
}

/// A source as a user pastes it from another tool: right-to-left marks around it and
/// between words, hamza letters decomposed (NFD) and runs of combining marks in
/// reverse order. None of it is text; all of it changed the key before import
/// shared ingest's normalization.
fn as_pasted(source: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let decomposed: Vec<char> = source.nfd().collect();
    let mut out = String::from("\u{200F}");
    let mut i = 0;
    while i < decomposed.len() {
        let run = decomposed[i..]
            .iter()
            .take_while(|c| matches!(**c, '\u{064B}'..='\u{065F}' | '\u{0670}'))
            .count();
        if run > 1 {
            out.extend(decomposed[i..i + run].iter().rev());
            i += run;
            continue;
        }
        out.push(decomposed[i]);
        if decomposed[i] == ' ' && i % 3 == 0 {
            out.push('\u{200F}');
        }
        i += 1;
    }
    out.push('\u{202C}');
    out
}

#[test]
fn corrections_pasted_with_bidi_marks_and_decomposed_letters_are_used_by_the_rerun() {
    let s = scratch();
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    s.cmd(&[&seeds()])
        .args(["--provider", "libretranslate", "--endpoint", &emu.url()])
        .assert()
        .code(0);
    drop(emu);
    let first = all_rows(&s);
    let picked: Vec<&Value> = first
        .iter()
        .filter(|r| r["kind"] == "text" && r["src_lang"] == "ar" && !r["target"].is_null())
        .collect();
    assert!(picked.len() >= 20, "{} Arabic text rows", picked.len());
    let pasted: Vec<String> = picked
        .iter()
        .map(|r| as_pasted(r["source"].as_str().unwrap()))
        .collect();
    assert!(
        pasted
            .iter()
            .zip(&picked)
            .all(|(p, r)| p.as_str() != r["source"].as_str().unwrap()),
        "every pasted source differs from the paragraph as written"
    );
    let mut jsonl = String::new();
    for (r, source) in picked.iter().zip(&pasted) {
        let row = json!({
            "src_lang": "ar", "tgt_lang": "en", "source": source,
            "target": format!("Reviewed: {}", r["index"]), "flags": ["reviewed"],
        });
        jsonl.push_str(&format!("{row}\n"));
    }
    // One correction of a paragraph no run has seen.
    let unseen = json!({
        "src_lang": "ar", "tgt_lang": "en", "source": "فقرة لم يرها أي تشغيل من قبل.",
        "target": "A paragraph no run has seen.", "flags": ["reviewed"],
    });
    jsonl.push_str(&format!("{unseen}\n"));
    let file = s.dir.path().join("pasted.jsonl");
    fs_err::write(&file, jsonl).unwrap();

    let out = import(&s, &[&file]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let distinct: std::collections::HashSet<&str> = picked
        .iter()
        .map(|r| r["source"].as_str().unwrap())
        .collect();
    assert!(
        stderr.contains(&format!(
            "imported {} corrections from {} (0 unchanged, 0 skipped); \
             1 of them matches no paragraph the cache has seen",
            distinct.len() + 1,
            file.display()
        )),
        "{stderr}"
    );

    s.cmd(&[&seeds()])
        .args(["--provider", "libretranslate", "--offline"])
        .assert()
        .code(0);
    let rerun = all_rows(&s);
    for r in &picked {
        let again = rerun
            .iter()
            .find(|x| x["doc"] == r["doc"] && x["index"] == r["index"])
            .unwrap();
        assert!(has_flag(again, "reviewed"), "{again}");
        assert!(
            again["target"].as_str().unwrap().starts_with("Reviewed: "),
            "{again}"
        );
    }
}
