//! Several processes on one cache at once: two and four runs of the real
//! binary, started together, translating overlapping corpora into one cache
//! directory.
//!
//! Each process talks to its own emulator, so every request is attributed to the
//! run that sent it. Asserted:
//! - every run exits 0;
//! - **no corruption**: `PRAGMA integrity_check` says `ok`;
//! - **no lost entries**: every paragraph of every corpus is in the cache (read
//!   with SQLite directly), and an `--offline` rerun of each corpus translates
//!   everything from it;
//! - **no duplicate requests beyond the overlap window**: a paragraph found in one
//!   corpus only is requested exactly once; one found in `k` corpora at most `k`
//!   times, at most once per run; and two requests for the same paragraph arrive
//!   less than 2 s apart. A run looks each batch up in the cache just before
//!   sending it, so a paragraph is sent twice only when another run has it in
//!   flight (sent, not yet committed) at that moment: that is the overlap window.
//!   The test prints how often it happened and the widest gap (with `--nocapture`).

use crate::common;

use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;

use common::cachedb;
use common::corpus;
use common::emulator::{Api, Emulator};
use common::harness::Scratch;

fn scratch() -> Scratch {
    Scratch::with_config(|c| {
        c.replace("max_texts = 25", "max_texts = 2").replace(
            "concurrency = 4\nmax_texts = 2",
            "concurrency = 2\nmax_texts = 2",
        )
    })
}

/// Run `runs` processes at once; process `i` translates documents `corpora[i]`.
fn together(corpora: &[Vec<usize>]) {
    let s = scratch();
    let mut children = Vec::new();
    let mut emus = Vec::new();
    for (i, docs) in corpora.iter().enumerate() {
        let input = corpus::write(&s.dir.path().join(format!("in{i}")), docs.iter().copied());
        let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
        emu.set_delay(Duration::from_millis(10));
        let child = s
            .std_cmd(&[&input])
            .args([
                "--provider",
                "libretranslate",
                "--endpoint",
                &emu.url(),
                "-q",
            ])
            .arg("--out")
            .arg(s.dir.path().join(format!("out{i}")))
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        children.push(child);
        emus.push(emu);
    }
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    assert_eq!(cachedb::integrity(&s.cache), "ok");
    let cached = cachedb::sources(&s.cache);
    // How many corpora hold each paragraph.
    let mut holders: HashMap<String, usize> = HashMap::new();
    for docs in corpora {
        for t in corpus::texts(docs.iter().copied()) {
            *holders.entry(cachedb::key_text(&t)).or_default() += 1;
        }
    }
    for t in holders.keys() {
        assert!(cached.contains(t), "lost: {t}");
    }
    // Requests per paragraph, per run and in all; when each was sent.
    let mut sent_at: HashMap<String, Vec<std::time::Instant>> = HashMap::new();
    for emu in &emus {
        for r in emu.requests() {
            for t in r.texts() {
                sent_at.entry(cachedb::key_text(&t)).or_default().push(r.at);
            }
        }
    }
    let widest = (sent_at.values())
        .filter(|v| v.len() > 1)
        .map(|v| *v.iter().max().unwrap() - *v.iter().min().unwrap())
        .max()
        .unwrap_or_default();
    let mut total: HashMap<String, usize> = HashMap::new();
    for (i, emu) in emus.iter().enumerate() {
        let mut mine: HashMap<String, usize> = HashMap::new();
        for t in emu.texts_received() {
            *mine.entry(cachedb::key_text(&t)).or_default() += 1;
        }
        for (t, n) in mine {
            assert_eq!(n, 1, "run {i} requested a paragraph {n} times: {t}");
            *total.entry(t).or_default() += 1;
        }
    }
    let mut duplicated = 0;
    for (t, k) in &holders {
        let n = total.get(t).copied().unwrap_or(0);
        assert!(n >= 1, "never requested, yet cached: {t}");
        if *k == 1 {
            assert_eq!(
                n, 1,
                "a paragraph of one corpus only was requested {n} times"
            );
        }
        assert!(n <= *k, "requested {n} times, held by {k} corpora");
        duplicated += n - 1;
    }
    // The overlap window in time: two runs send the same paragraph only when both
    // have it in flight at once (each looks the cache up again just before
    // sending), which is a fraction of a second here; 2 s leaves room for a loaded
    // machine.
    assert!(
        widest < Duration::from_secs(2),
        "duplicates {widest:?} apart"
    );
    let shared = holders.values().filter(|k| **k > 1).count();
    eprintln!(
        "{} runs: {} paragraphs ({shared} in more than one corpus), {} requested, {duplicated} requested twice or more, at most {widest:?} apart",
        corpora.len(),
        holders.len(),
        total.values().sum::<usize>()
    );
    for (i, docs) in corpora.iter().enumerate() {
        let input = s.dir.path().join(format!("in{i}"));
        s.cmd(&[&input])
            .args(["--provider", "libretranslate", "--offline", "-q"])
            .arg("--out")
            .arg(s.dir.path().join(format!("off{i}")))
            .assert()
            .code(0);
        assert!(!docs.is_empty());
    }
}

#[test]
fn two_runs_with_overlapping_corpora_share_one_cache() {
    // 24 documents of 6 paragraphs: run 0 has 0..16, run 1 has 8..24.
    together(&[(0..16).collect(), (8..24).collect()]);
}

#[test]
fn four_runs_with_overlapping_corpora_share_one_cache() {
    // Run i has documents 6i .. 6i+12 (mod 24): every document is in two corpora.
    let corpora: Vec<Vec<usize>> = (0..4)
        .map(|i| (0..12).map(|k| (6 * i + k) % 24).collect())
        .collect();
    together(&corpora);
}

/// A run looks a document's paragraphs up when it admits the document; another run
/// may cache some of them before the first run sends them. Each batch is looked up
/// again just before it leaves, so those are not sent twice: run B admits one
/// document (3 batches of 2), its server takes 1.5 s per request; while its first
/// request is out, run A translates the same document into the same cache: A waits
/// for the two paragraphs B holds the lease of instead of sending them too, and B then
/// sends nothing more.
#[test]
fn a_batch_another_run_cached_meanwhile_is_not_sent() {
    let s = scratch();
    let input = corpus::write(&s.dir.path().join("in"), [0]);
    let slow = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    slow.set_delay(Duration::from_millis(1500));
    let b = s
        .std_cmd(&[&input])
        .args([
            "--provider",
            "libretranslate",
            "--endpoint",
            &slow.url(),
            "-q",
        ])
        .args(["--concurrency", "1", "--out"])
        .arg(s.dir.path().join("out-b"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = std::time::Instant::now();
    while slow.texts_received().is_empty() {
        assert!(t.elapsed() < Duration::from_secs(30), "run B did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    let fast = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    s.cmd(&[&input])
        .args([
            "--provider",
            "libretranslate",
            "--endpoint",
            &fast.url(),
            "-q",
        ])
        .assert()
        .code(0);
    assert_eq!(
        fast.texts_received().len(),
        corpus::PARAGRAPHS - 2,
        "run A sent paragraphs run B was sending"
    );
    let out = b.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        slow.texts_received().len(),
        2,
        "run B sent paragraphs run A had cached meanwhile"
    );
    let text = fs_err::read_to_string(s.dir.path().join("out-b/doc_000.en.jsonl")).unwrap();
    let rows: Vec<common::harness::JsonRow> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        rows.iter().filter(|r| r.cached).count(),
        corpus::PARAGRAPHS - 2
    );
}
