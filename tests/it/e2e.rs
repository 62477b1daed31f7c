//! The whole binary against local emulators of LibreTranslate and MyMemory: the
//! backbone's contract end to end.

use crate::common;

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use common::emulator::{Api, Behaviour, Emulator, fake_translate};
use common::harness::{Scratch, seed_names, seeds};
use common::{cachedb, wait};
use predicates::prelude::*;

fn lt(s: &Scratch, emu: &Emulator) -> assert_cmd::Command {
    let mut c = s.cmd(&[&seeds()]);
    c.args(["--provider", "libretranslate", "--endpoint", &emu.url()]);
    c
}

fn translate_requests(emu: &Emulator) -> Vec<common::emulator::Logged> {
    emu.requests()
        .into_iter()
        .filter(|r| r.path == "/translate" || r.path == "/get")
        .collect()
}

#[test]
fn libretranslate_seeds_end_to_end_then_offline_gives_the_same_jsonl() {
    let s = Scratch::new();
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    lt(&s, &emu).assert().code(0);

    for name in seed_names() {
        for ext in ["html", "md", "tmx", "jsonl", "xliff"] {
            assert!(s.output(&name, ext).is_file(), "{name} {ext}");
        }
    }
    assert!(s.out.join("index.html").is_file());
    let report = s.report();
    assert_eq!((report.documents, report.untranslated), (5, 0));
    assert!(report.translated > 60, "{report:?}");

    let rows = s.all_rows();
    let sent: Vec<String> = emu.texts_received();
    // Identical paragraphs are sent once; boilerplate and duplicates never.
    let unique: HashSet<&String> = sent.iter().collect();
    assert_eq!(unique.len(), sent.len(), "a text was sent twice");
    for r in &rows {
        if r.kind == "boilerplate" {
            assert!(r.target.is_none() && !sent.contains(&r.source), "{r:?}");
        }
        if r.kind == "duplicate" {
            assert!(r.target.is_none(), "{r:?}");
        }
        if let Some(t) = &r.target {
            assert_eq!(t, &fake_translate(&r.source), "{r:?}");
        }
    }
    // The English line pasted into seed 004 is content, already English: not sent.
    let en = rows
        .iter()
        .find(|r| r.source.starts_with("Summarize this content"))
        .unwrap();
    assert_eq!(
        (en.kind.as_str(), en.src_lang.as_str(), en.target.as_ref()),
        ("text", "en", None)
    );
    assert_eq!(en.flags, vec!["same_language"]);
    // The Persian seed is sent as Persian, the others as Arabic; never "auto".
    let sources: HashSet<String> = translate_requests(&emu)
        .iter()
        .map(|r| {
            r.body.as_ref().unwrap()["source"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(sources, HashSet::from(["ar".to_string(), "fa".to_string()]));

    // Offline, with the server gone: the same rows, now all from the cache.
    drop(emu);
    let first: Vec<String> = seed_names().iter().map(|n| s.jsonl_text(n)).collect();
    s.cmd(&[&seeds()])
        .args(["--provider", "libretranslate", "--offline"])
        .assert()
        .code(0);
    let offline = s.all_rows();
    assert_eq!(offline.len(), rows.len());
    for (a, b) in rows.iter().zip(&offline) {
        assert_eq!(
            (&a.doc, a.index, &a.source, &a.target, &a.flags),
            (&b.doc, b.index, &b.source, &b.target, &b.flags)
        );
        assert_eq!(b.cached, b.target.is_some());
    }
    // Two runs served from the cache are byte-identical.
    let second: Vec<String> = seed_names().iter().map(|n| s.jsonl_text(n)).collect();
    s.cmd(&[&seeds()])
        .args(["--provider", "libretranslate", "--offline"])
        .assert()
        .code(0);
    let third: Vec<String> = seed_names().iter().map(|n| s.jsonl_text(n)).collect();
    assert_eq!(second, third);
    assert_ne!(first, second, "the first run was not from the cache");
    let tmx: Vec<String> = seed_names()
        .iter()
        .map(|n| fs_err::read_to_string(s.output(n, "tmx")).unwrap())
        .collect();
    let md: Vec<String> = seed_names()
        .iter()
        .map(|n| fs_err::read_to_string(s.output(n, "md")).unwrap())
        .collect();
    s.cmd(&[&seeds()])
        .args(["--provider", "libretranslate", "--offline"])
        .assert()
        .code(0);
    for (i, n) in seed_names().iter().enumerate() {
        assert_eq!(tmx[i], fs_err::read_to_string(s.output(n, "tmx")).unwrap());
        assert_eq!(md[i], fs_err::read_to_string(s.output(n, "md")).unwrap());
    }
}

#[test]
fn libretranslate_batches_are_q_arrays_within_limits() {
    let s = Scratch::with_config(|c| c.replace("max_texts = 25", "max_texts = 7"));
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    lt(&s, &emu).assert().code(0);
    let reqs = translate_requests(&emu);
    let texts: usize = reqs.iter().map(|r| r.texts().len()).sum();
    assert!(
        reqs.iter()
            .all(|r| r.method == "POST" && r.texts().len() <= 7)
    );
    assert!(
        reqs.iter()
            .all(|r| r.body.as_ref().unwrap()["q"].is_array())
    );
    assert!(
        reqs.iter()
            .all(|r| r.body.as_ref().unwrap()["format"] == "text")
    );
    assert!(
        reqs.iter()
            .all(|r| r.body.as_ref().unwrap().get("api_key").is_none())
    );
    // Packing: at most one partly filled batch per source language.
    assert!(
        reqs.len() <= texts.div_ceil(7) + 2,
        "{} requests for {texts} texts",
        reqs.len()
    );
}

#[test]
fn mymemory_default_provider_sends_long_paragraphs_in_500_byte_pieces() {
    let s = Scratch::new();
    let emu = Emulator::spawn_blocking_runtime(Api::MyMemory);
    s.cmd(&[&seeds()])
        .args(["--endpoint", &emu.url()])
        .assert()
        .code(0);
    let reqs = translate_requests(&emu);
    assert!(
        reqs.iter()
            .all(|r| r.method == "GET" && r.query_param("q").unwrap().len() <= 500)
    );
    let pairs: HashSet<&str> = reqs
        .iter()
        .map(|r| r.query_param("langpair").unwrap())
        .collect();
    assert_eq!(pairs, HashSet::from(["ar|en", "fa|en"]));
    // A paragraph longer than 500 bytes came back whole, joined from its pieces.
    let rows = s.all_rows();
    let long = rows
        .iter()
        .find(|r| r.source.len() > 500 && r.target.is_some())
        .expect("a long paragraph");
    let words = |t: &str| t.split_whitespace().count();
    assert_eq!(
        words(long.target.as_ref().unwrap()),
        words(&fake_translate(&long.source))
    );
    assert_eq!(
        rows.iter().filter(|r| r.provider == "mymemory").count(),
        rows.len()
    );
}

#[test]
fn mymemory_quota_inside_http_200_stops_the_run_and_caches_nothing_bad() {
    let s = Scratch::with_config(|c| c.replace("concurrency = 32", "concurrency = 1"));
    let emu = Emulator::spawn_blocking_runtime(Api::MyMemory);
    emu.push_n(Behaviour::Normal, 3);
    emu.set_mode(Behaviour::QuotaExhausted);
    s.cmd(&[&seeds()])
        .args(["--endpoint", &emu.url()])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("quota exhausted"));
    // The breaker stops sending after the first quota answer.
    assert_eq!(translate_requests(&emu).len(), 4);
    let rows = s.all_rows();
    assert!(
        rows.iter()
            .any(|r| r.flags.contains(&"quota_exhausted".to_string()))
    );
    assert!(
        rows.iter()
            .all(|r| !r.target.as_deref().unwrap_or("").contains("MYMEMORY"))
    );
    let report = s.report();
    assert!(report.untranslated > 0 && report.translated > 0);
    // What was cached is exactly the three good answers' paragraphs.
    s.cmd(&[&seeds()]).arg("--offline").assert().code(3);
    let offline = s.all_rows();
    assert_eq!(
        offline
            .iter()
            .filter(|r| r.target.is_some() && r.cached)
            .count(),
        report.translated
    );
}

#[test]
fn http_429_with_retry_after_is_honoured_and_counted() {
    let s = Scratch::with_config(|c| c.replace("concurrency = 4", "concurrency = 1"));
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    emu.push(Behaviour::Status429 {
        retry_after: Some(1),
    });
    lt(&s, &emu).assert().code(0);
    let at: Vec<Instant> = translate_requests(&emu).iter().map(|r| r.at).collect();
    assert!(
        at[1] - at[0] >= Duration::from_millis(950),
        "retried after {:?}",
        at[1] - at[0]
    );
    let r = s.report();
    assert_eq!(r.http_429, 1);
    assert!(r.retries >= 1 && r.untranslated == 0);
}

#[test]
fn server_error_then_success_is_retried() {
    let s = Scratch::new();
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    emu.push(Behaviour::Status500);
    lt(&s, &emu).assert().code(0);
    assert!(s.report().retries >= 1);
}

#[test]
fn malformed_and_wrong_count_replies_are_never_cached() {
    let s = Scratch::new();
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    emu.push(Behaviour::Malformed);
    emu.push(Behaviour::WrongCount);
    emu.push(Behaviour::Echo);
    lt(&s, &emu).assert().code(0);
    for r in s.all_rows() {
        if let Some(t) = &r.target {
            assert_eq!(t, &fake_translate(&r.source));
        }
    }
    assert_eq!(s.report().untranslated, 0);
}

#[test]
fn a_hung_server_times_out_and_the_request_is_retried() {
    let s = Scratch::new();
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    emu.push(Behaviour::Hang);
    // The hung request never gets an answer: the run finishes within the command's
    // time limit only if the request timeout fires and the batch is sent again.
    lt(&s, &emu).assert().code(0);
    assert!(s.report().retries >= 1);
}

#[test]
fn an_unreachable_endpoint_ends_the_run_fast_with_every_output_written() {
    let s = Scratch::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    // "Fast": within the command's time limit, not after retries and backoff meant
    // for a live server.
    s.cmd(&[&seeds()])
        .args(["--provider", "libretranslate", "--endpoint", &url])
        .assert()
        .code(3)
        .stderr(
            predicate::str::contains(format!("127.0.0.1:{port}"))
                .and(predicate::str::contains("--offline")),
        );
    for name in seed_names() {
        assert!(s.output(&name, "html").is_file());
    }
    let r = s.report();
    // Nothing connected: no request and no character counts as sent.
    assert_eq!((r.requests, r.chars_sent), (0, 0), "{r:?}");
    assert!(
        s.all_rows()
            .iter()
            .any(|r| r.flags.contains(&"unreachable".to_string()))
    );
}

#[test]
fn dry_run_sends_nothing_and_writes_nothing() {
    let s = Scratch::new();
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    let out = lt(&s, &emu)
        .arg("--dry-run")
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("would send:"), "{out}");
    assert_eq!(emu.count(), 0);
    assert!(!s.out.exists() && !s.cache.exists());
    lt(&s, &emu).assert().code(0);
    let n = translate_requests(&emu).len();
    let out = lt(&s, &emu)
        .arg("--dry-run")
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    assert!(
        String::from_utf8(out)
            .unwrap()
            .contains("would send:          0 paragraphs, 0 characters, 0 requests")
    );
    assert_eq!(translate_requests(&emu).len(), n);
}

/// Start a run, let `answered` requests succeed, hang the next, kill -9 the process
/// once the cache holds those answers; return the texts the server answered before
/// the kill.
fn run_and_kill(s: &Scratch, api: Api, provider: &str, answered: usize) -> HashSet<String> {
    let emu = Emulator::spawn_blocking_runtime(api);
    emu.push_n(Behaviour::Normal, answered);
    emu.set_mode(Behaviour::Hang);
    let mut child = s
        .std_cmd(&[&seeds()])
        .args(["--provider", provider, "--endpoint", &emu.url(), "-q"])
        .spawn()
        .unwrap();
    wait::until("the run to reach the hung request", || {
        translate_requests(&emu).len() > answered
    });
    let texts: HashSet<String> = translate_requests(&emu)
        .iter()
        .take(answered)
        .flat_map(|r| r.texts())
        .collect();
    wait::until("the answers to be in the cache", || {
        let cached = cachedb::sources(&s.cache);
        texts.iter().all(|t| cached.contains(&cachedb::key_text(t)))
    });
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    texts
}

#[test]
fn a_killed_run_resumes_and_sends_only_what_is_missing() {
    let s = Scratch::with_config(|c| {
        c.replace("max_texts = 25", "max_texts = 1")
            .replace("concurrency = 4", "concurrency = 1")
    });
    let answered = run_and_kill(&s, Api::LibreTranslate, "libretranslate", 6);
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    lt(&s, &emu).assert().code(0);
    let resent: HashSet<String> = emu.texts_received().into_iter().collect();
    assert!(
        resent.is_disjoint(&answered),
        "answers received before the kill were requested again"
    );
    let fetched: HashSet<String> = s
        .all_rows()
        .into_iter()
        .filter(|r| r.target.is_some() && !r.cached)
        .map(|r| r.source)
        .collect();
    assert_eq!(resent.len(), fetched.len());
    assert_eq!(
        s.report().from_cache,
        s.all_rows().iter().filter(|r| r.cached).count()
    );
}

#[test]
fn a_killed_mymemory_run_never_asks_again_for_sentence_pieces_it_received() {
    let s = Scratch::with_config(|c| c.replace("concurrency = 32", "concurrency = 1"));
    // Seed 000's first long paragraph is over 500 bytes: it goes in several pieces.
    let answered = run_and_kill(&s, Api::MyMemory, "mymemory", 4);
    let emu = Emulator::spawn_blocking_runtime(Api::MyMemory);
    s.cmd(&[&seeds()])
        .args(["--endpoint", &emu.url()])
        .assert()
        .code(0);
    let resent: HashSet<String> = emu.texts_received().into_iter().collect();
    assert!(
        resent.is_disjoint(&answered),
        "pieces received before the kill were requested again"
    );
    assert_eq!(s.report().untranslated, 0);
}

#[test]
fn a_damaged_cache_entry_is_reported_and_fetched_again() {
    let s = Scratch::new();
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    lt(&s, &emu).assert().code(0);
    let before = translate_requests(&emu).len();
    let db = rusqlite::Connection::open(
        s.cache
            .join(tarjama::cache::FORMAT_DIR)
            .join(tarjama::cache::DB_FILE),
    )
    .unwrap();
    db.execute("UPDATE translations SET target = 'tampered' WHERE key = (SELECT key FROM translations LIMIT 1)", [])
        .unwrap();
    drop(db);
    lt(&s, &emu)
        .assert()
        .code(0)
        .stderr(predicate::str::contains("damaged"));
    let after = translate_requests(&emu);
    assert_eq!(after.len(), before + 1);
    assert_eq!(after.last().unwrap().texts().len(), 1);
    assert!(
        s.all_rows()
            .iter()
            .all(|r| r.target.as_deref() != Some("tampered"))
    );
}

#[test]
fn two_runs_at_once_share_one_cache_without_damage() {
    let s = Scratch::with_config(|c| c.replace("max_texts = 25", "max_texts = 2"));
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    emu.set_delay(Duration::from_millis(20));
    let out2 = s.dir.path().join("out2");
    let a = s
        .std_cmd(&[&seeds()])
        .args([
            "--provider",
            "libretranslate",
            "--endpoint",
            &emu.url(),
            "-q",
        ])
        .spawn()
        .unwrap();
    let b = s
        .std_cmd(&[&seeds()])
        .args([
            "--provider",
            "libretranslate",
            "--endpoint",
            &emu.url(),
            "-q",
            "--out",
        ])
        .arg(&out2)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    s.cmd(&[&seeds()])
        .args(["--provider", "libretranslate", "--offline"])
        .assert()
        .code(0);
}

#[test]
fn an_unreadable_input_is_reported_and_the_rest_is_written_with_exit_3() {
    let s = Scratch::new();
    let input = s.dir.path().join("in");
    fs_err::create_dir_all(input.join("sub")).unwrap();
    fs_err::copy(
        seeds().join("002_65b8ef3daf2c733c.txt"),
        input.join("sub/a.txt"),
    )
    .unwrap();
    fs_err::write(input.join("bad.txt"), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    fs_err::write(input.join(".hidden.txt"), "سلام").unwrap();
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    s.cmd(&[&input])
        .args(["--provider", "libretranslate", "--endpoint", &emu.url()])
        .assert()
        .code(3)
        .stderr(
            predicate::str::contains("bad.txt").and(predicate::str::contains("not a text file")),
        );
    assert!(
        s.out.join("sub/a.en.html").is_file(),
        "outputs mirror the input tree"
    );
    assert!(!s.out.join(".hidden.en.html").exists());
    let r = s.report();
    assert_eq!((r.documents, r.errors.len()), (1, 1));
    assert!(r.errors[0].file.ends_with("bad.txt"));
}

#[test]
fn a_single_file_input_and_an_out_dir_inside_the_input_dir() {
    let s = Scratch::new();
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    let docs = s.dir.path().join("docs");
    fs_err::create_dir_all(&docs).unwrap();
    fs_err::copy(seeds().join("000_2d74ac5e9dc5bed1.txt"), docs.join("a.txt")).unwrap();
    for _ in 0..2 {
        s.cmd(&[&docs])
            .args([
                "--provider",
                "libretranslate",
                "--endpoint",
                &emu.url(),
                "--out",
            ])
            .arg(&docs)
            .assert()
            .code(0);
    }
    assert!(docs.join("a.en.html").is_file());
    assert!(
        !docs.join("a.en.en.html").exists(),
        "outputs were read back as input"
    );
    let single = seeds().join("003_2afab63017fdb124.txt");
    s.cmd(&[single.as_path()])
        .args(["--provider", "libretranslate", "--endpoint", &emu.url()])
        .assert()
        .code(0);
    assert!(s.out.join("003_2afab63017fdb124.en.html").is_file());
    assert_eq!(s.jsonl("003_2afab63017fdb124.txt")[0].src_lang, "fa");
}

#[test]
fn an_article_with_markup_shows_it_as_text() {
    let s = Scratch::new();
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    let f = s.dir.path().join("x.txt");
    fs_err::write(
        &f,
        "قال المتحدث إن <script>alert(1)</script> و <img src=x onerror=alert(1)> ليست أوامر.\n",
    )
    .unwrap();
    s.cmd(&[f.as_path()])
        .args(["--provider", "libretranslate", "--endpoint", &emu.url()])
        .assert()
        .code(0);
    let html = fs_err::read_to_string(s.out.join("x.en.html")).unwrap();
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("<script>alert") && !html.contains("<img src=x"));
}

#[test]
fn an_api_key_never_reaches_outputs_cache_logs_or_errors() {
    const KEY: &str = "sk-test-SECRET-9876";
    let s = Scratch::new();
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    emu.require_api_key(KEY);
    let ok = lt(&s, &emu)
        .env("LIBRETRANSLATE_API_KEY", KEY)
        .arg("-vv")
        .assert()
        .code(0);
    let bodies: Vec<_> = translate_requests(&emu)
        .iter()
        .map(|r| r.body.clone().unwrap())
        .collect();
    assert!(
        bodies.iter().all(|b| b["api_key"] == KEY),
        "the key is sent in the api_key field"
    );
    let out = ok.get_output();
    let mut seen =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    // A wrong key: a clear message naming where the key comes from, without the key.
    let bad = lt(&s, &emu)
        .args(["--cache-dir"])
        .arg(s.dir.path().join("cache2"))
        .env("LIBRETRANSLATE_API_KEY", "sk-wrong-KEY-1234")
        .arg("-vv")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("LIBRETRANSLATE_API_KEY"));
    let bad_err = String::from_utf8_lossy(&bad.get_output().stderr).into_owned();
    assert!(!bad_err.contains("sk-wrong-KEY-1234"));
    seen += &bad_err;
    assert!(!seen.contains(KEY));
    for entry in walk(s.dir.path()) {
        let bytes = fs_err::read(&entry).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(KEY),
            "key found in {}",
            entry.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v = Vec::new();
    for e in fs_err::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            v.extend(walk(&p));
        } else {
            v.push(p);
        }
    }
    v
}

#[test]
fn two_inputs_that_would_write_the_same_outputs_are_reported_not_clobbered() {
    let s = Scratch::new();
    let input = s.dir.path().join("in");
    fs_err::create_dir_all(&input).unwrap();
    fs_err::copy(
        seeds().join("000_2d74ac5e9dc5bed1.txt"),
        input.join("x.txt"),
    )
    .unwrap();
    fs_err::write(
        input.join("x.html"),
        "<html><body><article><p>مرحبا بكم في الموقع.</p></article></body></html>",
    )
    .unwrap();
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    s.cmd(&[&input])
        .args(["--provider", "libretranslate", "--endpoint", &emu.url()])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("would overwrite those of x.html"));
    // The first (x.html, by name order) keeps its outputs; x.txt's were not written over them.
    let rows = s.jsonl("x.html");
    assert!(rows.iter().all(|r| r.doc == "x.html"));
}

#[test]
fn an_input_with_no_articles_is_a_usage_error() {
    let s = Scratch::new();
    let empty = s.dir.path().join("empty");
    fs_err::create_dir_all(&empty).unwrap();
    fs_err::write(empty.join("notes.rtf"), "x").unwrap();
    s.cmd(&[&empty])
        .arg("--offline")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no .txt, .md, .html or .htm files",
        ));
}

#[test]
fn an_unsupported_pair_is_refused_before_any_text_is_sent() {
    let s = Scratch::new();
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    let out = s
        .cmd(&[&seeds()])
        .args([
            "--provider",
            "libretranslate",
            "--endpoint",
            &emu.url(),
            "--to",
            "xx",
        ])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("does not translate"))
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("--provider"));
    assert!(
        translate_requests(&emu).is_empty(),
        "text was sent for an unsupported pair"
    );
    let rows: Vec<_> = seed_names()
        .iter()
        .flat_map(|n| {
            let stem = n.trim_end_matches(".txt");
            let text = fs_err::read_to_string(s.out.join(format!("{stem}.xx.jsonl"))).unwrap();
            text.lines()
                .map(|l| serde_json::from_str::<common::harness::JsonRow>(l).unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(rows.iter().any(|r| r.flags == ["unsupported_pair"]));
}

/// Outputs that cannot be written halfway through a run (a file stands where the
/// directory of the later documents' outputs must go): each of those documents is
/// named on stderr and in `report.json` `errors` and is not counted as written; the
/// documents before it are written and counted; the exit code is 1; every
/// translation is in the cache, so a rerun with the way cleared writes the rest
/// without sending anything.
#[test]
fn documents_whose_outputs_cannot_be_written_are_reported_not_counted() {
    let s = Scratch::new();
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    let input = s.dir.path().join("in");
    common::corpus::write(&input.join("a"), 0..3);
    common::corpus::write(&input.join("b"), 3..5);
    fs_err::create_dir_all(&s.out).unwrap();
    fs_err::write(s.out.join("b"), "in the way\n").unwrap();
    let run = || {
        s.cmd(&[&input])
            .args(["--provider", "libretranslate", "--endpoint", &emu.url()])
            .output()
            .unwrap()
    };
    let out = run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for d in 3..5 {
        let doc = format!("b/doc_{d:03}.txt");
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with(&format!("error: {doc}: cannot write its outputs"))),
            "{doc} is not named: {stderr}"
        );
    }
    assert!(
        stderr.contains("2 of 5 documents could not be written"),
        "{stderr}"
    );
    let report = s.report();
    assert_eq!(report.documents, 3, "{report:?}");
    let counted: Vec<&str> = report.docs.iter().map(|d| d.doc.as_str()).collect();
    assert_eq!(counted, ["a/doc_000.txt", "a/doc_001.txt", "a/doc_002.txt"]);
    let failed: Vec<&str> = (report.errors.iter())
        .map(|e| e.file.as_str())
        .filter(|f| f.starts_with("b/"))
        .collect();
    assert_eq!(failed, ["b/doc_003.txt", "b/doc_004.txt"]);
    for d in 0..3 {
        assert!(s.output(&format!("a/doc_{d:03}.txt"), "jsonl").is_file());
    }
    // Out of the way, a rerun writes the rest from the cache alone.
    let sent = translate_requests(&emu).len();
    fs_err::remove_file(s.out.join("b")).unwrap();
    let out = run();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(translate_requests(&emu).len(), sent, "nothing sent again");
    assert_eq!(s.report().documents, 5);
    assert!(s.output("b/doc_004.txt", "jsonl").is_file());
}

/// A rerun of an unchanged corpus renders nothing: the writer's record at the top of
/// `--out` says what each document's files were made from, with their size and
/// modification time, and a document whose files are all still so is skipped, its
/// counts read back. A deleted file, or one whose time changed, is written again.
#[test]
fn a_rerun_of_an_unchanged_corpus_renders_only_what_changed_on_disk() {
    let s = Scratch::new();
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    lt(&s, &emu).assert().code(0);
    // The second run marks the rows `cached` and rewrites the files that show it.
    lt(&s, &emu).assert().code(0);
    let sent = translate_requests(&emu).len();
    assert!(s.out.join(".tarjama-outputs.json").is_file());
    let before = s.report();
    let name = &seed_names()[0];
    let (md, jsonl) = (s.output(name, "md"), s.output(name, "jsonl"));
    let (want_md, want_jsonl) = (fs_err::read(&md).unwrap(), fs_err::read(&jsonl).unwrap());

    // Size and time are the check, as rsync's quick check: a same-size edit whose
    // time is put back is not seen, which shows the document was not rendered.
    let time = fs_err::metadata(&jsonl).unwrap().modified().unwrap();
    let mut edited = want_jsonl.clone();
    edited[2] = if edited[2] == b'x' { b'y' } else { b'x' };
    fs_err::write(&jsonl, &edited).unwrap();
    let f = std::fs::File::options().write(true).open(&jsonl).unwrap();
    f.set_modified(time).unwrap();
    drop(f);
    lt(&s, &emu).assert().code(0);
    assert_eq!(fs_err::read(&jsonl).unwrap(), edited);
    assert_eq!(
        s.report().docs,
        before.docs,
        "counts read back from the record"
    );

    // A deleted file and an edited one (its time changed) are written again.
    fs_err::remove_file(&md).unwrap();
    fs_err::write(&jsonl, &edited).unwrap();
    let f = std::fs::File::options().write(true).open(&jsonl).unwrap();
    f.set_modified(time + Duration::from_secs(1)).unwrap();
    drop(f);
    lt(&s, &emu).assert().code(0);
    assert_eq!(fs_err::read(&md).unwrap(), want_md);
    assert_eq!(fs_err::read(&jsonl).unwrap(), want_jsonl);
    assert_eq!(s.report().docs, before.docs);
    assert_eq!(
        translate_requests(&emu).len(),
        sent,
        "nothing sent on a rerun"
    );
}

/// A rerun whose cache did not change finds each unchanged document current in the
/// output directory's record and looks nothing up: an entry damaged behind the
/// cache's back, with the cache's version put back as it was, is not even read.
/// Any change to the cache's entries (the damage itself, a correction imported)
/// changes the version, and the next run looks up and renders again.
#[test]
fn a_rerun_looks_nothing_up_until_the_cache_changes() {
    let s = Scratch::new();
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    lt(&s, &emu).assert().code(0);
    // Every row served from the cache: the record now keeps what it came from.
    lt(&s, &emu).assert().code(0);
    let before = s.report();
    // A dry run counts the documents the record shows current as one without the
    // record counts them.
    let dry = |out: &Path| {
        let o = std::process::Command::new(assert_cmd::cargo::cargo_bin("translate"))
            .env("TARJAMA_NO_KEYRING", "1")
            .arg(seeds())
            .args(["--to", "en", "--dry-run", "--out"])
            .arg(out)
            .arg("--cache-dir")
            .arg(&s.cache)
            .arg("--config")
            .arg(&s.config)
            .args(["--provider", "libretranslate", "--endpoint", &emu.url()])
            .output()
            .unwrap();
        assert!(o.status.success(), "{o:?}");
        String::from_utf8(o.stdout).unwrap()
    };
    let elsewhere = s.dir.path().join("elsewhere");
    assert_eq!(dry(&s.out), dry(&elsewhere));
    assert!(dry(&s.out).contains("would send:          0 paragraphs"));
    let sent = translate_requests(&emu).len();
    let name = &seed_names()[0];
    let jsonl = s.output(name, "jsonl");
    let want = fs_err::read_to_string(&jsonl).unwrap();
    let row = (s.all_rows().into_iter())
        .find(|r| &r.doc == name && r.kind == "text" && r.target.is_some())
        .unwrap();
    let key = cachedb::key_text(&row.source);

    let db = rusqlite::Connection::open(cachedb::db(&s.cache)).unwrap();
    let version = |db: &rusqlite::Connection| -> Vec<u8> {
        db.query_row("SELECT value FROM meta WHERE name = 'version'", [], |r| {
            r.get(0)
        })
        .unwrap()
    };
    let damage = "UPDATE translations SET target = 'damaged' WHERE source = ?1";
    let v0 = version(&db);
    assert_eq!(db.execute(damage, [&key]).unwrap(), 1, "one machine entry");
    assert_ne!(version(&db), v0, "an edit changes the version");
    db.execute("UPDATE meta SET value = ?1 WHERE name = 'version'", [&v0])
        .unwrap();
    lt(&s, &emu)
        .assert()
        .code(0)
        .stderr(predicate::str::contains("damaged").not());
    assert_eq!(fs_err::read_to_string(&jsonl).unwrap(), want);
    let mut again = s.report();
    again.wall_ms = before.wall_ms;
    assert_eq!(again, before, "the same report as the run that looked up");
    assert_eq!(translate_requests(&emu).len(), sent);

    // The version as an edit leaves it: the damaged entry is read, dropped and
    // fetched again.
    db.execute(damage, [&key]).unwrap();
    lt(&s, &emu)
        .assert()
        .code(0)
        .stderr(predicate::str::contains("damaged"));
    assert!(translate_requests(&emu).len() > sent, "fetched again");
    let fetched = (s.all_rows().into_iter())
        .find(|r| &r.doc == name && r.index == row.index)
        .unwrap();
    assert_eq!(fetched.target, row.target);

    // Once more, so the record knows the entries as they are now; then a
    // correction imported is shown by the next run.
    lt(&s, &emu).assert().code(0);
    let corrected = "Corrected by a reviewer.";
    let edited: String = (want.lines())
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            if v["index"] == row.index {
                v["target"] = corrected.into();
            }
            format!("{v}\n")
        })
        .collect();
    let file = s.dir.path().join("edited.jsonl");
    fs_err::write(&file, edited).unwrap();
    assert_cmd::Command::cargo_bin("translate")
        .unwrap()
        .env("TARJAMA_NO_KEYRING", "1")
        .arg("import")
        .arg(&file)
        .arg("--cache-dir")
        .arg(&s.cache)
        .assert()
        .code(0);
    lt(&s, &emu).assert().code(0);
    let shown = (s.all_rows().into_iter())
        .find(|r| &r.doc == name && r.index == row.index)
        .unwrap();
    assert_eq!(shown.target.as_deref(), Some(corrected));
    assert!(
        shown.flags.iter().any(|f| f == "reviewed"),
        "{:?}",
        shown.flags
    );
}
