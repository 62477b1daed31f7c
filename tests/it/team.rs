//! Working as a team: several `translate` processes (the real binary) sharing one
//! translation memory and one key's rate, through a shared `--cache-dir` or a
//! PostgreSQL memory (`--cache URL`, each process with a cache directory of its own,
//! as separate machines would have).
//!
//! Every process talks to one LibreTranslate emulator (one server, one key) whose
//! request log says which texts were sent and whose token bucket answers 429 with
//! `Retry-After` when the processes together go faster than it allows. Asserted:
//! - four processes on four overlapping folders (every document in two of them), each
//!   told `--rps R` against a server allowing R requests a second: all exit 0, every
//!   paragraph is translated, no text is translated twice (only a request refused
//!   with 429 is sent again), at most 2 answers are 429;
//! - a correction imported on one machine is served, flagged `reviewed`, on another
//!   whose local cache is empty, and its paragraph is never sent;
//! - of two processes on one folder, one killed with SIGKILL mid-run, the other
//!   finishes everything and sends none of the texts whose answers the killed one had
//!   stored.
//!
//! The PostgreSQL tests need `TARJAMA_TEST_PG` (see tests/common/pg.rs): without it
//! they say why and pass, unless `CI` is set.

use crate::common;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::cachedb;
use common::corpus;
use common::emulator::{Api, Emulator, RateLimit};
use common::harness::Scratch;
use common::pg;

/// The rate the server allows and every process is told: low enough that the
/// scheduling jitter of four processes on a busy machine stays well under the
/// interval.
const RATE: f64 = 10.0;

/// The config: LibreTranslate sends two texts a request (so there are many requests to
/// pace), one request leaves at a time at most (burst 1), a few in flight.
fn scratch() -> Scratch {
    Scratch::with_config(|c| {
        c.replace("max_texts = 25", "max_texts = 2")
            .replace("rps = 500.0\nburst = 50", "rps = 500.0\nburst = 1")
            .replace("rps = 500.0\nburst = 5", "rps = 500.0\nburst = 1")
    })
}

/// Four folders: folder i has documents 6i .. 6i+12 (mod 24), so every document is in
/// two of them.
fn four_folders(s: &Scratch) -> Vec<(PathBuf, Vec<usize>)> {
    (0..4)
        .map(|i| {
            let docs: Vec<usize> = (0..12).map(|k| (6 * i + k) % 24).collect();
            let dir = corpus::write(&s.dir.path().join(format!("in{i}")), docs.iter().copied());
            (dir, docs)
        })
        .collect()
}

/// A server allowing `RATE` requests a second (a token bucket of 2, so the jitter of
/// four processes' clocks and threads is not counted as speeding).
fn limited_server() -> Emulator {
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    emu.set_rate_limit(Some(RateLimit {
        per_second: RATE,
        burst: 2,
    }));
    emu
}

/// Start `translate` on `input` against `emu`, writing to `out` with cache directory
/// `cache` and, when given, the shared memory `url`.
fn start(
    s: &Scratch,
    input: &Path,
    emu: &Emulator,
    out: &Path,
    cache: &Path,
    url: Option<&str>,
) -> Child {
    let mut cmd = s.std_cmd(&[input]);
    let quiet = if std::env::var_os("TEAM_DEBUG").is_some() {
        "-vv"
    } else {
        "-q"
    };
    cmd.args([
        "--provider",
        "libretranslate",
        "--endpoint",
        &emu.url(),
        quiet,
    ])
    .args(["--rps", &RATE.to_string()])
    .arg("--out")
    .arg(out)
    .arg("--cache-dir")
    .arg(cache)
    .env_remove("TARJAMA_CACHE")
    .stderr(Stdio::piped());
    if std::env::var_os("TEAM_DEBUG").is_some() {
        cmd.stderr(Stdio::inherit());
    }
    if let Some(url) = url {
        cmd.args(["--cache", url]);
    }
    cmd.spawn().unwrap()
}

fn report(out: &Path) -> tarjama::model::RunReport {
    serde_json::from_str(&fs_err::read_to_string(out.join("report.json")).unwrap()).unwrap()
}

/// Run four processes on four overlapping folders at once; `url` for process i's
/// shared memory (`None`: all share one `--cache-dir`).
fn four_together(url: Option<&str>) {
    let s = scratch();
    let folders = four_folders(&s);
    let emu = limited_server();
    let mut children = Vec::new();
    for (i, (input, _)) in folders.iter().enumerate() {
        let out = s.dir.path().join(format!("out{i}"));
        // Machines have caches of their own; processes of one machine share one.
        let cache = match url {
            Some(_) => s.dir.path().join(format!("cache{i}")),
            None => s.cache.clone(),
        };
        children.push((out.clone(), start(&s, input, &emu, &out, &cache, url)));
    }
    for (out, child) in children {
        let done = child.wait_with_output().unwrap();
        assert!(
            done.status.success(),
            "{}",
            String::from_utf8_lossy(&done.stderr)
        );
        let r = report(&out);
        assert_eq!(
            r.untranslated,
            0,
            "{}: paragraphs left untranslated",
            out.display()
        );
        assert_eq!(r.documents, 12);
    }
    // Every paragraph sent once: the server translated as many texts as there are
    // distinct paragraphs, and every one of them. (A request the server refused with
    // 429 is sent again as a retry: its texts appear twice in the log, translated once.)
    let mut sent: HashMap<String, usize> = HashMap::new();
    for t in emu.texts_received() {
        *sent.entry(cachedb::key_text(&t)).or_default() += 1;
    }
    let distinct: HashSet<String> = (folders.iter())
        .flat_map(|(_, docs)| corpus::texts(docs.iter().copied()))
        .map(|t| cachedb::key_text(&t))
        .collect();
    assert_eq!(sent.keys().cloned().collect::<HashSet<_>>(), distinct);
    let stats = emu.stats();
    eprintln!(
        "four processes ({}): {} distinct paragraphs, {} texts translated, {} texts received, {} requests, {} answers 429",
        if url.is_some() {
            "PostgreSQL"
        } else {
            "one --cache-dir"
        },
        distinct.len(),
        stats.texts,
        sent.values().sum::<usize>(),
        stats.requests,
        stats.http_429
    );
    assert_eq!(
        usize::try_from(stats.texts).unwrap(),
        distinct.len(),
        "texts translated more than once"
    );
    assert!(stats.http_429 <= 2, "{} answers were 429", stats.http_429);
}

#[test]
fn four_processes_sharing_a_cache_dir_send_each_paragraph_once_at_one_rate() {
    four_together(None);
}

/// A fresh schema of the test server, or `None` (said why) when there is none.
fn shared_url() -> Option<String> {
    let base = pg::base_url()?;
    let rt = tokio::runtime::Runtime::new().unwrap();
    Some(rt.block_on(pg::fresh_schema(&base)).0)
}

#[test]
fn four_machines_sharing_postgresql_send_each_paragraph_once_at_one_rate() {
    let Some(url) = shared_url() else { return };
    four_together(Some(&url));
}

#[test]
fn a_correction_imported_on_one_machine_is_served_reviewed_on_another() {
    let Some(url) = shared_url() else { return };
    let s = scratch();
    let input = corpus::write(&s.dir.path().join("in"), [0]);
    let corrected = corpus::paragraph(0, 2);
    let file = s.dir.path().join("doc.en.corrections.json");
    let corrections = serde_json::json!({
        "tarjama": "corrections",
        "version": 1,
        "corrections": [{
            "doc": "doc_000.txt",
            "index": 2,
            "src_lang": "ar",
            "tgt_lang": "en",
            "source": corrected,
            "machine": "a machine translation",
            "target": "The desk's own translation."
        }]
    });
    fs_err::write(&file, corrections.to_string()).unwrap();
    // Machine A imports it into the shared memory.
    let imported = std::process::Command::new(assert_cmd::cargo::cargo_bin("translate"))
        .env("TARJAMA_NO_KEYRING", "1")
        .env_remove("TARJAMA_CACHE")
        .arg("import")
        .arg(&file)
        .arg("--cache-dir")
        .arg(s.dir.path().join("cache-a"))
        .args(["--cache", &url])
        .output()
        .unwrap();
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    // Machine B, its local cache empty, translates the document.
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    let cache_b = s.dir.path().join("cache-b");
    assert!(!cache_b.exists());
    let done = start(&s, &input, &emu, &s.out, &cache_b, Some(&url))
        .wait_with_output()
        .unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let rows = s.jsonl("doc_000.txt");
    let row = rows
        .iter()
        .find(|r| r.source == corrected)
        .expect("the corrected paragraph's row");
    assert_eq!(row.target.as_deref(), Some("The desk's own translation."));
    assert!(row.flags.iter().any(|f| f == "reviewed"), "{:?}", row.flags);
    let sent: HashSet<String> = emu.texts_received().into_iter().collect();
    assert!(
        !sent.contains(&corrected),
        "the corrected paragraph was sent"
    );
    assert_eq!(sent.len(), corpus::PARAGRAPHS - 1);
}

/// Two processes on one folder and one cache directory, each request answered after
/// a pause; once the first has had some answers stored, it is killed with SIGKILL.
/// The second finishes everything, and sends none of the texts whose answers were in
/// the cache when the first died (the killed process's leases are taken over at once
/// on its own machine).
#[test]
fn when_one_of_two_processes_is_killed_the_other_finishes_and_resends_nothing_stored() {
    let s = Scratch::with_config(|c| {
        c.replace("max_texts = 25", "max_texts = 1")
            .replace("concurrency = 4", "concurrency = 1")
    });
    let input = corpus::write(&s.dir.path().join("in"), 0..4);
    let slow = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    slow.set_delay(Duration::from_millis(100));
    let other = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    other.set_delay(Duration::from_millis(100));
    let out_a = s.dir.path().join("out-a");
    let mut a = start(&s, &input, &slow, &out_a, &s.cache, None);
    let t = Instant::now();
    while slow.count() < 6 {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "run A did not get going"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let b = start(&s, &input, &other, &s.out, &s.cache, None);
    while other.count() < 2 {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "run B did not get going"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    a.kill().unwrap(); // SIGKILL
    a.wait().unwrap();
    let killed = Instant::now();
    let stored = cachedb::sources(&s.cache);
    let done = b.wait_with_output().unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert_eq!(report(&s.out).untranslated, 0);
    assert_eq!(report(&s.out).documents, 4);
    let after: Vec<String> = (other.requests().iter())
        .filter(|r| r.at > killed)
        .flat_map(|r| r.texts())
        .map(|t| cachedb::key_text(&t))
        .collect();
    let again: Vec<&String> = after.iter().filter(|t| stored.contains(*t)).collect();
    assert!(again.is_empty(), "sent again after the kill: {again:?}");
    // Between them, nothing was sent twice while both ran either.
    let mut all: Vec<String> = (slow.texts_received().into_iter())
        .chain(other.texts_received())
        .collect();
    let n = all.len();
    all.sort();
    all.dedup();
    assert!(
        n - all.len() <= 1,
        "{} texts sent twice (only the one in flight when A died may be)",
        n - all.len()
    );
}

/// A password in the URL reaches no output: a role the server refuses stops the run
/// with an error naming the URL without it.
#[test]
fn a_refused_password_stops_the_run_and_is_never_printed() {
    let Some(base) = pg::base_url() else { return };
    let s = scratch();
    let input = corpus::write(&s.dir.path().join("in"), [0]);
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    let u = url::Url::parse(&base).unwrap();
    let url = format!(
        "postgres://desk:pw-team-secret@{}:{}{}",
        u.host_str().unwrap(),
        u.port().unwrap_or(5432),
        u.path()
    );
    let done = start(&s, &input, &emu, &s.out, &s.cache, Some(&url))
        .wait_with_output()
        .unwrap();
    let err = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(1), "{err}");
    assert!(!err.contains("pw-team-secret"), "{err}");
    assert!(err.contains("postgres://desk@"), "{err}");
    assert!(
        emu.texts_received().is_empty(),
        "sent without the shared memory"
    );
}
