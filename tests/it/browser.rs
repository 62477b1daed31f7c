//! The review pages in a real browser: Debian's chromium, headless, driven
//! by playwright-core from the scripts in `tests/browser/`.
//!
//! The pages are made the way a user makes them: the real `translate` binary over the
//! seeds and a crafted article containing `<script>` and `<img onerror>`, against the
//! local LibreTranslate emulator. A page with known sentence pairs and quality flags
//! (which the emulator's transliteration cannot produce) is written through the
//! library's own writer. Each script prints what it saw as JSON; the assertions are
//! here.
//!
//! Screenshots and the pages themselves are kept in `target/browser-artifacts/`
//! (below the crate root, whatever `CARGO_TARGET_DIR` says).
//!
//! Needs `node`, `/usr/bin/chromium` (or `TARJAMA_CHROMIUM`) and
//! `npm ci` in `tests/browser`. Without them the tests are skipped with a printed
//! reason, except when `CI` is set: then they fail.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use common::emulator::{Api, Emulator};
use common::harness::{Scratch, seeds};
use serde_json::{Value, json};
use tarjama::model::{AlignedDoc, Flag, Kind, Row, SentencePair};
use tarjama::write::{Format, write_document};

const XSS_ARTICLE: &str = "قال المتحدث <script>alert(1)</script> إن الاجتماع انتهى.\n\n\
     ثم كتب <img src=x onerror=alert(1)> في البيان الذي نشرته وكالة رويترز يوم 12 مارس 2024.\n";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scripts_dir() -> PathBuf {
    root().join("tests/browser")
}

/// `target/browser-artifacts/` below the crate root.
fn artifacts() -> PathBuf {
    let dir = root().join("target/browser-artifacts");
    fs_err::create_dir_all(&dir).unwrap();
    dir
}

fn chromium() -> PathBuf {
    std::env::var_os("TARJAMA_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// Why the browser tests cannot run here, if they cannot.
fn missing_tools() -> Option<String> {
    if Command::new("node").arg("--version").output().is_err() {
        return Some("`node` is not installed".into());
    }
    if !chromium().is_file() {
        return Some(format!("{} is not installed", chromium().display()));
    }
    if !scripts_dir().join("node_modules/playwright-core").is_dir() {
        return Some("playwright-core is missing: run `npm ci` in tests/browser".into());
    }
    None
}

/// `true` when the tests can run; skips (prints why) or, on CI, fails.
fn tools_ready() -> bool {
    let Some(why) = missing_tools() else {
        return true;
    };
    assert!(
        std::env::var_os("CI").is_none_or(|v| v.is_empty()),
        "browser tests cannot run on CI: {why}"
    );
    eprintln!("skipping the browser test: {why}");
    false
}

/// The pages every test looks at, built once.
struct Pages {
    _scratch: Scratch,
    out: PathBuf,
    review: PathBuf,
    review_doc: AlignedDoc,
}

fn pages() -> &'static Pages {
    static PAGES: OnceLock<Pages> = OnceLock::new();
    PAGES.get_or_init(build_pages)
}

fn build_pages() -> Pages {
    let scratch = Scratch::new();
    let xss_dir = scratch.dir.path().join("crafted");
    fs_err::create_dir_all(&xss_dir).unwrap();
    fs_err::write(xss_dir.join("xss.txt"), XSS_ARTICLE).unwrap();
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    let status = scratch
        .std_cmd(&[&seeds(), &xss_dir])
        .args([
            "--provider",
            "libretranslate",
            "--endpoint",
            &emu.url(),
            "-q",
        ])
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let review_doc = review_doc();
    let review_dir = scratch.dir.path().join("review");
    let review = write_document(&review_dir, &review_doc, &[Format::Html])
        .unwrap()
        .remove(0);
    // Keep the pages next to the screenshots, for a human to open.
    let keep = artifacts().join("pages");
    let _ = fs_err::remove_dir_all(&keep);
    copy_dir(&scratch.out, &keep);
    fs_err::copy(&review, artifacts().join("review-sample.en.html")).unwrap();
    Pages {
        out: scratch.out.clone(),
        _scratch: scratch,
        review,
        review_doc,
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs_err::create_dir_all(to).unwrap();
    for e in fs_err::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            fs_err::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn row(index: usize, kind: Kind, lang: &str, pairs: &[(&str, &str)], row_flags: &[Flag]) -> Row {
    let side = |second: bool| {
        let texts = pairs.iter().map(|p| if second { p.1 } else { p.0 });
        texts
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let target = side(true);
    Row {
        index,
        kind,
        src_lang: lang.into(),
        source: side(false),
        target: Some(target),
        cached: false,
        flags: row_flags.to_vec(),
        sentences: Vec::new(),
    }
}

fn with_pairs(mut r: Row, pairs: &[(&str, &str)]) -> Row {
    r.sentences = pairs
        .iter()
        .map(|(s, t)| SentencePair {
            source: (*s).into(),
            target: (*t).into(),
        })
        .collect();
    r
}

/// A document with known sentence pairs and flags. Flagged rows: ¶3
/// (number_mismatch), ¶5 (untranslated: offline_miss), ¶6 (length_ratio, reviewed).
fn review_doc() -> AlignedDoc {
    let p1: &[(&str, &str)] = &[(
        "روسيا تعترف رسمياً بحكومة طالبان",
        "Russia officially recognises the Taliban government",
    )];
    let p2: &[(&str, &str)] = &[
        (
            "قالت وكالة Reuters إن 12 شخصاً قتلوا يوم 3 مارس 2024.",
            "Reuters said 12 people were killed on 3 March 2024.",
        ),
        (
            "وأضافت أن الحكومة لم تعلق على الحادث.",
            "It added that the government did not comment on the incident.",
        ),
        (
            "ورفض المتحدث باسم الوزارة، John Smith، الإدلاء بتصريح.",
            "The ministry spokesman, John Smith, declined to comment.",
        ),
    ];
    let p3: &[(&str, &str)] = &[
        (
            "عبر 1500 لاجئ الحدود أمس.",
            "150 refugees crossed the border yesterday.",
        ),
        (
            "وقالت الأمم المتحدة إن العدد سيرتفع.",
            "The UN said the number would rise.",
        ),
    ];
    let p6: &[(&str, &str)] = &[(
        "وأكد الوزير أن المحادثات ستستمر الأسبوع المقبل في الدوحة.",
        "Talks.",
    )];
    let p7: &[(&str, &str)] = &[
        (
            "نشریه دیپلمات این اقدام را مهم می داند.",
            "The Diplomat considers this move important.",
        ),
        (
            "به گفته این نشریه، روسیه اهداف استراتژیک دارد.",
            "According to the magazine, Russia has strategic aims.",
        ),
    ];
    let mut boiler = row(
        3,
        Kind::Boilerplate,
        "ar",
        &[("شارك هذا المقال", "")],
        &[Flag::NotSent],
    );
    boiler.target = None;
    let mut missing = row(
        4,
        Kind::Text,
        "ar",
        &[("ولا تعترف أي دولة في الوقت الراهن بحكومة طالبان.", "")],
        &[Flag::OfflineMiss],
    );
    missing.target = None;
    let rows = vec![
        with_pairs(row(0, Kind::Heading, "ar", p1, &[]), p1),
        with_pairs(row(1, Kind::Text, "ar", p2, &[]), p2),
        with_pairs(row(2, Kind::Text, "ar", p3, &[Flag::NumberMismatch]), p3),
        boiler,
        missing,
        with_pairs(
            row(
                5,
                Kind::Text,
                "ar",
                p6,
                &[Flag::Reviewed, Flag::LengthRatio],
            ),
            p6,
        ),
        with_pairs(row(6, Kind::Text, "fa", p7, &[]), p7),
        // No sentence pairs: highlighted as a whole paragraph.
        row(
            7,
            Kind::Caption,
            "ar",
            &[(
                "لاجئون أفغان عند معبر إسلام قلعة (أ.ف.ب)",
                "Afghan refugees at the Islam Qala crossing (AFP)",
            )],
            &[],
        ),
    ];
    AlignedDoc {
        rel: "review/sample.txt".into(),
        src_lang: "ar".into(),
        tgt_lang: "en".into(),
        provider: "libretranslate".into(),
        rows,
    }
}

/// Run `node <script> <args>` in `tests/browser` (one browser at a time) and parse
/// its JSON line.
fn node(script: &str, args: &[&Path]) -> Value {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _guard = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let out = Command::new("node")
        .arg(script)
        .args(args)
        .current_dir(scripts_dir())
        .env("TARJAMA_CHROMIUM", chromium())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "node {script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Shown only when the test fails: everything the script saw.
    eprintln!("node {script} reported: {stdout}");
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("node {script}: {e}: {stdout}"))
}

/// A page had no console error or warning, no uncaught error, no failed request and
/// no dialog.
fn assert_clean(v: &Value, what: &str) {
    for key in ["console", "pageErrors", "failedRequests", "dialogs"] {
        assert_eq!(v["problems"][key], json!([]), "{what}: {key}");
    }
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn seed_pages_load_clean_and_arabic_reads_right_to_left() {
    if !tools_ready() {
        return;
    }
    let p = pages();
    let report: tarjama::model::RunReport =
        serde_json::from_str(&fs_err::read_to_string(p.out.join("report.json")).unwrap()).unwrap();
    let mut files: Vec<PathBuf> = report
        .docs
        .iter()
        .map(|d| tarjama::write::output_path(&p.out, &d.doc, "en", "html"))
        .collect();
    files.push(p.review.clone());
    let art = artifacts();
    let mut args: Vec<&Path> = vec![&art];
    args.extend(files.iter().map(PathBuf::as_path));
    let v = node("pages.mjs", &args);
    let pages = v["pages"].as_array().unwrap();
    assert_eq!(pages.len(), files.len());
    let mut rtl_checked = 0;
    for (page, doc) in pages.iter().zip(
        report
            .docs
            .iter()
            .map(|d| d.src_lang.as_str())
            .chain(["ar"]),
    ) {
        let file = page["file"].as_str().unwrap();
        assert_clean(page, file);
        assert_eq!(
            page["controlsShown"],
            json!(true),
            "{file}: our script did not run"
        );
        assert!(page["rows"].as_u64().unwrap() > 0, "{file}");
        if doc == "ar" || doc == "fa" {
            let rtl = &page["rtl"];
            assert_eq!(rtl["direction"], "rtl", "{file}: {rtl}");
            let (first, last) = (&rtl["first"], &rtl["last"]);
            assert!(
                first["left"].as_f64().unwrap() > last["right"].as_f64().unwrap(),
                "{file}: the first word is not right of the last: {rtl}"
            );
            rtl_checked += 1;
        }
    }
    assert!(
        rtl_checked >= 3,
        "{rtl_checked} right-to-left pages checked"
    );
    assert_eq!(pages[0]["printHidesControls"], json!(true));
    // Hovering a seed's source sentence (a paragraph while nothing fills the pairs)
    // lights it and its counterpart in the translation, nothing else.
    let key = pages[0]["hovered"].as_str().unwrap();
    assert_eq!(
        strs(&pages[0]["highlighted"]),
        [format!("src:{key}"), format!("tgt:{key}")]
    );
    assert!(art.join("seed-page-full.png").is_file());
    assert!(art.join("seed-page-print.png").is_file());
}

/// A page copied on its own, without the shared script and style beside it, still
/// reads right (every row, Arabic right to left, the reading style it carries
/// inline); only the reviewer's tools, which need the script, are missing.
#[test]
fn a_page_on_its_own_still_reads_without_the_shared_files() {
    if !tools_ready() {
        return;
    }
    let p = pages();
    let alone_dir = artifacts().join("alone");
    let _ = fs_err::remove_dir_all(&alone_dir);
    fs_err::create_dir_all(&alone_dir).unwrap();
    let seed = tarjama::write::output_path(&p.out, "000_2d74ac5e9dc5bed1.txt", "en", "html");
    let alone = alone_dir.join("000_2d74ac5e9dc5bed1.en.html");
    fs_err::copy(&seed, &alone).unwrap();
    // The first page gets the screenshots and control checks; the copy is second.
    let art = artifacts();
    let v = node("pages.mjs", &[&art, &seed, &alone]);
    let page = &v["pages"][1];
    assert_eq!(page["controlsShown"], json!(false), "{page}");
    assert_eq!(page["rtl"]["direction"], "rtl", "{page}");
    let (first, last) = (&page["rtl"]["first"], &page["rtl"]["last"]);
    assert!(
        first["left"].as_f64().unwrap() > last["right"].as_f64().unwrap(),
        "{page}"
    );
    assert!(page["rows"].as_u64().unwrap() > 10, "{page}");
    assert_eq!(page["problems"]["pageErrors"], json!([]));
    assert_eq!(page["problems"]["dialogs"], json!([]));
    // What failed to load is exactly the two shared files.
    let failed = strs(&page["problems"]["failedRequests"]).join("\n");
    assert!(
        failed.contains("tarjama-review.js") && failed.contains("tarjama-review.css"),
        "{failed}"
    );
    assert_eq!(
        page["problems"]["failedRequests"].as_array().unwrap().len(),
        2
    );
}

#[test]
fn review_page_highlights_filters_navigates_and_downloads_corrections() {
    if !tools_ready() {
        return;
    }
    let p = pages();
    let v = node("review.mjs", &[&artifacts(), &p.review]);
    assert_clean(&v, "review page");

    // Hovering a source sentence lights it and its translation, nothing else.
    assert_eq!(strs(&v["hover"]), ["src:1.1", "tgt:1.1"]);
    assert_ne!(v["hoverBackground"], v["otherBackground"]);
    assert_eq!(strs(&v["afterLeave"]), Vec::<String>::new());
    assert_eq!(strs(&v["hoverParagraph"]), ["src:7", "tgt:7"]);
    assert_eq!(strs(&v["focus"]), ["src:6.1", "tgt:6.1"]);

    // The filter.
    let all: Vec<String> = (1..=8).map(|n| format!("p{n}")).collect();
    assert_eq!(strs(&v["visibleBefore"]), all);
    assert_eq!(strs(&v["visibleFiltered"]), ["p3", "p5", "p6"]);
    assert_eq!(strs(&v["visibleAfter"]), all);

    // n/j forward, k/p back, wrapping around.
    assert_eq!(strs(&v["nav"]), ["p3", "p5", "p6", "p3", "p6", "p5"]);
    assert_eq!(v["navStatus"], "flagged row 2 of 3");

    // Editing and the corrections file.
    assert_eq!(strs(&v["edited"]), ["p2", "p5"]);
    assert!(v["editedText"].as_str().unwrap().contains("EDITED."), "{v}");
    assert_eq!(v["editedBadge"], json!(true));
    assert_eq!(v["downloadLabel"], "Download corrections (2)");
    assert_eq!(v["downloadName"], "sample.en.corrections.json");
    let doc = &p.review_doc;
    let entry = |i: usize, target: &str| {
        let r = &doc.rows[i];
        json!({
            "doc": doc.rel, "index": i, "src_lang": r.src_lang, "tgt_lang": doc.tgt_lang,
            "source": r.source, "machine": r.target, "target": target,
        })
    };
    let want = json!({
        "tarjama": "corrections",
        "version": 1,
        "corrections": [
            entry(1, "Reuters said twelve people were killed. EDITED."),
            entry(4, "A reviewer's own translation of a missing paragraph."),
        ],
    });
    assert_eq!(v["download"], want);
    assert_eq!(v["download"]["corrections"][1]["machine"], Value::Null);
    assert_eq!(strs(&v["editedAfterReload"]), ["p2", "p5"]);
    assert_eq!(v["downloadLabelAfterReload"], "Download corrections (2)");
}

#[test]
fn crafted_article_shows_markup_as_text_and_runs_nothing() {
    if !tools_ready() {
        return;
    }
    let page = pages().out.join("xss.en.html");
    let v = node("xss.mjs", &[&page]);
    assert_clean(&v, "xss page");
    let text = v["text"].as_str().unwrap();
    assert!(text.contains("<script>alert(1)</script>"), "{text}");
    assert!(text.contains("<img src=x onerror=alert(1)>"), "{text}");
    assert_eq!(v["imgs"], 0);
    assert_eq!(strs(&v["scripts"]), ["classic", "application/json"]);
    assert_eq!(v["ours"], json!(true));
    assert_eq!(v["injected"], json!(false));
}

/// Were an escape ever missed, the page's CSP would still run nothing: the same page
/// with the article's markup put back raw.
#[test]
fn a_missed_escape_would_still_run_nothing() {
    if !tools_ready() {
        return;
    }
    let page = pages().out.join("xss.en.html");
    let html = fs_err::read_to_string(&page).unwrap();
    let raw = html
        .replace(
            "&lt;script&gt;alert(1)&lt;/script&gt;",
            "<script>window.tarjamaInjected = true; alert(1)</script>",
        )
        .replace(
            "&lt;img src=x onerror=alert(1)&gt;",
            "<img src=x onerror=\"window.tarjamaInjected = true; alert(1)\">",
        );
    assert!(
        raw.matches("tarjamaInjected").count() >= 2,
        "nothing to inject"
    );
    // Beside the page, so that it finds the shared script as the page does; a copy
    // is kept with the artifacts.
    let broken = pages().out.join("xss-unescaped.html");
    fs_err::write(&broken, &raw).unwrap();
    fs_err::write(artifacts().join("xss-unescaped.html"), raw).unwrap();
    let v = node("xss.mjs", &[&broken]);
    assert_eq!(v["problems"]["dialogs"], json!([]));
    assert_eq!(v["problems"]["pageErrors"], json!([]));
    assert_eq!(v["injected"], json!(false));
    assert_eq!(v["ours"], json!(true), "our own script still runs");
    let console = strs(&v["problems"]["console"]).join("\n");
    assert!(console.contains("Content Security Policy"), "{console}");
}

#[test]
fn index_sorts_by_the_clicked_column() {
    if !tools_ready() {
        return;
    }
    let index = pages().out.join("index.html");
    let v = node("index.mjs", &[&artifacts(), &index]);
    assert_clean(&v, "index.html");
    let docs = |s: &Value| -> Vec<String> {
        s["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["doc"].as_str().unwrap().to_owned())
            .collect()
    };
    let counts = |s: &Value| -> Vec<u64> {
        s["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["paragraphs"].as_u64().unwrap())
            .collect()
    };
    let initial = docs(&v["initial"]);
    assert_eq!(initial.len(), 6, "five seeds and the crafted article");
    let mut sorted = initial.clone();
    sorted.sort();
    assert_eq!(initial, sorted);
    assert_eq!(v["initial"]["ariaSort"]["Document"], "ascending");

    let up = counts(&v["ascending"]);
    assert!(up.windows(2).all(|w| w[0] <= w[1]), "{up:?}");
    assert!(up.first() < up.last(), "the seeds differ in length: {up:?}");
    assert_eq!(v["ascending"]["ariaSort"]["paragraphs"], "ascending");
    assert_eq!(v["ascending"]["ariaSort"]["Document"], "none");
    let down = counts(&v["descending"]);
    assert!(down.windows(2).all(|w| w[0] >= w[1]), "{down:?}");
    assert_eq!(v["descending"]["ariaSort"]["paragraphs"], "descending");
    assert_eq!(docs(&v["byDoc"]), sorted);
    assert!(artifacts().join("index.png").is_file());
}
