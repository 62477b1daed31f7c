//! Bad network: the real binary against servers that fail in every way a
//! network and a server can, from a refused connection to a gzip bomb.
//!
//! Each case asserts the same three things:
//! - **no wrong translation is cached**: a rerun with `--offline` serves only
//!   translations equal to the emulator's ([`fake_translate`] of the source), and
//!   exactly as many as the faulty run translated;
//! - **completed paragraphs are kept**: every document's outputs are written, with
//!   what was translated before the fault;
//! - **the message says what to do**: the last `error:` line names the provider or
//!   endpoint and a remedy (rerun, `--offline`, the key's variable, the config).
//!
//! Byte-level faults (reset mid-body, 1 byte/s, truncated JSON, gzip bomb, endless
//! body) come from [`Faulty`], a raw TCP server; status-level ones from the axum
//! emulators. Cases already covered elsewhere: one hung request then success
//! (`e2e::a_hung_server_times_out_and_the_request_is_retried`), one malformed and one
//! wrong-count reply then success (`e2e::malformed_and_wrong_count_replies_are_never_cached`),
//! MyMemory's in-200 quota (`e2e::mymemory_quota_inside_http_200_…`), per-provider
//! classification tables (`tests/it/provider_*.rs`).

use crate::common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::deepl_emu::DeeplEmu;
use common::emulator::{Api, Behaviour, Emulator, fake_translate};
use common::faulty::{Fault, Faulty};
use common::harness::{JsonRow, Scratch, seeds};
use common::wait;

/// Test config: LibreTranslate batches of 4, one request at a time (so "the first
/// `n` requests succeed" means the same paragraphs every run), 1 s timeouts, 2
/// retries.
fn scratch() -> Scratch {
    Scratch::with_config(|c| {
        c.replace("max_texts = 25", "max_texts = 4")
            .replace(
                "concurrency = 4\nmax_texts = 4",
                "concurrency = 1\nmax_texts = 4",
            )
            .replace("timeout_secs = 3.0", "timeout_secs = 1.0")
            .replace("max_retries = 4", "max_retries = 2")
    })
}

/// Two seed articles (Arabic and Persian) copied into the scratch directory.
fn corpus(s: &Scratch) -> PathBuf {
    let dir = s.dir.path().join("in");
    fs_err::create_dir_all(&dir).unwrap();
    for name in ["000_2d74ac5e9dc5bed1.txt", "003_2afab63017fdb124.txt"] {
        fs_err::copy(seeds().join(name), dir.join(name)).unwrap();
    }
    dir
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs_err::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// What a run printed and how it ended.
struct Run {
    code: i32,
    stderr: String,
}

/// One run of the binary, under the time limit of [`Scratch::cmd`] (two minutes): a
/// run that waits out a trickled reply (minutes at a byte a second), a hung server or
/// a backoff meant for a live one hits it and fails the test. So "in bounded time"
/// is checked without measuring a duration.
fn run(s: &Scratch, input: &Path, provider: &str, endpoint: &str, extra: &[&str]) -> Run {
    let out = s
        .cmd(&[input])
        .args(["--provider", provider, "--endpoint", endpoint])
        .args(extra)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn rows(s: &Scratch, input: &Path) -> Vec<JsonRow> {
    names(input).iter().flat_map(|n| s.jsonl(n)).collect()
}

/// The three checks every case makes. Returns the rows of the faulty run.
fn kept_and_nothing_wrong_cached(s: &Scratch, input: &Path, provider: &str) -> Vec<JsonRow> {
    for n in names(input) {
        for ext in ["html", "md", "tmx", "jsonl"] {
            assert!(s.output(&n, ext).is_file(), "{n}: no .{ext} written");
        }
    }
    let faulty = rows(s, input);
    for r in &faulty {
        if let Some(t) = &r.target {
            assert_eq!(
                t,
                &fake_translate(&r.source),
                "wrong translation kept: {r:?}"
            );
        }
    }
    let translated = faulty.iter().filter(|r| r.target.is_some()).count();
    let offline = s
        .cmd(&[input])
        .args(["--provider", provider, "--offline", "-q"])
        .output()
        .unwrap();
    assert!(matches!(offline.status.code(), Some(0 | 3)), "{offline:?}");
    let served = rows(s, input);
    for r in &served {
        if let Some(t) = &r.target {
            assert!(r.cached, "{r:?}");
            assert_eq!(
                t,
                &fake_translate(&r.source),
                "wrong translation cached: {r:?}"
            );
        }
    }
    assert_eq!(
        served.iter().filter(|r| r.target.is_some()).count(),
        translated,
        "the cache does not hold exactly what the faulty run translated"
    );
    faulty
}

fn error_line(stderr: &str) -> &str {
    (stderr.lines().rev())
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("no error line in:\n{stderr}"))
}

fn flagged(rows: &[JsonRow], flag: &str) -> usize {
    rows.iter()
        .filter(|r| r.flags.iter().any(|f| f == flag))
        .count()
}

/// A persistent fault after `ok` good answers: the run ends with exit 3, what was
/// answered is kept and cached, the rest is flagged `flag`, and the error line
/// contains every one of `says`.
fn persistent(fault: Fault, ok: usize, flag: &str, says: &[&str]) -> (Run, Vec<JsonRow>, usize) {
    let s = scratch();
    let input = corpus(&s);
    let server = Faulty::start();
    server.push_n(Fault::Normal, ok);
    server.set_mode(fault.clone());
    let r = run(&s, &input, "libretranslate", &server.url(), &[]);
    assert_eq!(r.code, 3, "{fault:?}: {}", r.stderr);
    let rows = kept_and_nothing_wrong_cached(&s, &input, "libretranslate");
    let answered = server.answered_texts();
    let translated = rows.iter().filter(|r| r.target.is_some()).count();
    assert!(
        translated >= answered.len().min(ok),
        "{fault:?}: answers lost"
    );
    assert!(
        flagged(&rows, flag) > 0,
        "{fault:?}: nothing flagged {flag}"
    );
    let line = error_line(&r.stderr);
    // Shown with --nocapture: what the user sees.
    eprintln!(
        "{fault:?} after {ok} good answers: exit {}, {translated} translated, {line}",
        r.code
    );
    for word in says {
        assert!(
            line.contains(word),
            "{fault:?}: `{word}` missing from: {line}"
        );
    }
    let sent = server.requests().len();
    (r, rows, sent)
}

/// A server that keeps failing transiently (timeouts, resets) is given up on after
/// `EXHAUSTED_TRIP` batches in a row used up their retries: with one request at a
/// time and 2 retries, `ok` good requests and 3 × 3 failed ones, then nothing.
fn assert_given_up(fault: &Fault, ok: usize, sent: usize) {
    let bound = ok + tarjama::limit::EXHAUSTED_TRIP as usize * 3;
    assert!(
        sent <= bound,
        "{fault:?}: {sent} requests sent, more than {bound}"
    );
}

/// One fault, then normal answers: the run retries and ends with everything
/// translated (exit 0) and an honest cache.
fn once_then_normal(fault: Fault) -> (Run, Faulty, Scratch) {
    let s = scratch();
    let input = corpus(&s);
    let server = Faulty::start();
    server.push_n(Fault::Normal, 1);
    server.push_n(fault.clone(), 1);
    let r = run(&s, &input, "libretranslate", &server.url(), &[]);
    assert_eq!(r.code, 0, "{fault:?}: {}", r.stderr);
    let rows = kept_and_nothing_wrong_cached(&s, &input, "libretranslate");
    assert!(
        rows.iter()
            .all(|r| r.flags.is_empty() || r.target.is_none())
    );
    assert_eq!(
        flagged(&rows, "provider_error") + flagged(&rows, "rejected_reply"),
        0
    );
    (r, server, s)
}

// ------------------------------------------------------------------ transport

#[test]
fn connection_refused_keeps_what_the_cache_has_and_names_the_endpoint() {
    let s = scratch();
    let input = corpus(&s);
    // A first run translates one of the two articles.
    let server = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    let first = s.dir.path().join("in").join("000_2d74ac5e9dc5bed1.txt");
    s.cmd(&[&first])
        .args(["--provider", "libretranslate", "--endpoint", &server.url()])
        .assert()
        .code(0);
    drop(server);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let r = run(&s, &input, "libretranslate", &url, &[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    let line = error_line(&r.stderr);
    assert!(
        line.contains(&format!("127.0.0.1:{port}")) && line.contains("--offline"),
        "{line}"
    );
    let rows = kept_and_nothing_wrong_cached(&s, &input, "libretranslate");
    let from_cache = rows.iter().filter(|r| r.cached).count();
    assert!(
        from_cache > 0,
        "the first article's translations were not served"
    );
    assert!(flagged(&rows, "unreachable") > 0);
}

#[test]
fn dns_failure_is_unreachable_fast_and_says_what_to_do() {
    let s = scratch();
    let input = corpus(&s);
    let r = run(
        &s,
        &input,
        "libretranslate",
        "http://tarjama-test.invalid:5000",
        &[],
    );
    assert_eq!(r.code, 3, "{}", r.stderr);
    let line = error_line(&r.stderr);
    assert!(
        line.contains("tarjama-test.invalid:5000") && line.contains("--offline"),
        "{line}"
    );
    let rows = kept_and_nothing_wrong_cached(&s, &input, "libretranslate");
    assert!(flagged(&rows, "unreachable") > 0);
    assert!(rows.iter().all(|r| r.target.is_none()));
}

#[test]
fn a_reset_mid_body_is_retried() {
    let (r, server, _s) = once_then_normal(Fault::ResetMidBody);
    let seen = server.requests();
    assert_eq!(
        seen[2].texts, seen[1].texts,
        "the reset batch was not sent again"
    );
    assert!(!r.stderr.contains("error:"), "{}", r.stderr);
}

#[test]
fn resets_that_never_stop_end_the_run_with_a_hint() {
    let (_, _, sent) = persistent(
        Fault::ResetMidBody,
        2,
        "provider_error",
        &["libretranslate", "Rerun", "max_retries"],
    );
    assert_given_up(&Fault::ResetMidBody, 2, sent);
}

#[test]
fn a_server_trickling_one_byte_a_second_times_out_and_is_retried() {
    // Timed out at the 1 s timeout and retried, not after the minutes the reply
    // would take (past the time limit of `run`).
    let (_, server, _s) = once_then_normal(Fault::Trickle);
    let seen = server.requests();
    assert_eq!(seen[2].texts, seen[1].texts);
}

#[test]
fn a_server_that_stays_slow_ends_the_run_in_bounded_time() {
    let (_, _, sent) = persistent(
        Fault::Trickle,
        1,
        "provider_error",
        &["libretranslate", "no answer in time", "timeout_secs"],
    );
    assert_given_up(&Fault::Trickle, 1, sent);
    // 1 s timeout, 3 attempts, with backoff: a few seconds per batch in flight, not
    // the reply's length in seconds (past the time limit of `run`).
}

#[test]
fn a_body_trickling_one_byte_a_second_ends_the_run_in_bounded_time() {
    let (_, _, sent) = persistent(
        Fault::TrickleBody,
        1,
        "provider_error",
        &["libretranslate", "timed out", "timeout_secs"],
    );
    assert_given_up(&Fault::TrickleBody, 1, sent);
}

#[test]
fn a_server_that_stays_hung_ends_the_run_in_bounded_time() {
    let (_, _, sent) = persistent(
        Fault::Hang,
        1,
        "provider_error",
        &["libretranslate", "no answer in time", "timeout_secs"],
    );
    assert_given_up(&Fault::Hang, 1, sent);
}

// ------------------------------------------------------------------ bodies

#[test]
fn truncated_json_is_never_cached_and_is_retried_smaller() {
    once_then_normal(Fault::TruncatedJson);
}

#[test]
fn truncated_json_for_ever_is_rejected_with_a_hint() {
    persistent(
        Fault::TruncatedJson,
        2,
        "rejected_reply",
        &["libretranslate", "malformed", "--endpoint"],
    );
}

#[test]
fn an_html_error_page_with_status_200_is_never_cached() {
    once_then_normal(Fault::HtmlOk);
    persistent(
        Fault::HtmlOk,
        1,
        "rejected_reply",
        &["libretranslate", "Rerun", "--endpoint"],
    );
}

/// Peak resident memory of a process (kB), polled until it exits.
fn run_measuring_memory(mut c: std::process::Command) -> (std::process::Output, u64) {
    let child = c
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let p = peak.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let st = stop.clone();
    let poll = std::thread::spawn(move || {
        while !st.load(std::sync::atomic::Ordering::SeqCst) {
            if let Ok(text) = fs_err::read_to_string(&status)
                && let Some(kb) = text
                    .lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse::<u64>().ok())
            {
                p.fetch_max(kb, std::sync::atomic::Ordering::SeqCst);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    let out = child.wait_with_output().unwrap();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    poll.join().unwrap();
    (out, peak.load(std::sync::atomic::Ordering::SeqCst))
}

/// A reply body that would expand to 16 GiB (or is 16 GiB long) is abandoned at
/// the 8 MiB cap: the process stays small, the reply is not used, the batch is
/// sent again and translated.
fn bounded_body(fault: Fault) {
    let s = scratch();
    let input = corpus(&s);
    let server = Faulty::start();
    server.push_n(Fault::Normal, 1);
    server.push_n(fault.clone(), 1);
    let mut c = s.std_cmd(&[&input]);
    c.args(["--provider", "libretranslate", "--endpoint", &server.url()]);
    let (out, peak_kb) = wait::finishes_blocking("a run against an endless body", move || {
        run_measuring_memory(c)
    });
    eprintln!(
        "{fault:?}: peak RSS {peak_kb} kB, server got {} bytes out",
        server.streamed()
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        peak_kb > 0 && peak_kb < 150 * 1024,
        "{fault:?}: peak RSS {peak_kb} kB"
    );
    assert!(
        server.streamed() >= (8 << 20),
        "{fault:?}: the server got only {} bytes out",
        server.streamed()
    );
    kept_and_nothing_wrong_cached(&s, &input, "libretranslate");
    let seen = server.requests();
    assert!(seen.len() > 2 && seen[2].texts.iter().all(|t| seen[1].texts.contains(t)));
}

#[test]
fn a_gzip_bomb_is_cut_off_at_the_cap() {
    bounded_body(Fault::GzipBomb(16 << 30));
}

#[test]
fn a_reply_larger_than_any_translation_is_cut_off_at_the_cap() {
    bounded_body(Fault::Huge(16 << 30));
}

/// The cap through the library: the error says what happened.
#[tokio::test]
async fn the_cap_is_reported_as_a_malformed_reply() {
    let server = Faulty::start();
    let settings = common::client::shipped("libretranslate", &server.url());
    let p = tarjama::provider::Provider::new("lt", &settings, None).unwrap();
    for fault in [Fault::GzipBomb(1 << 30), Fault::Huge(1 << 30)] {
        server.push_n(fault.clone(), 1);
        let e = p
            .translate("ar", "en", &common::client::texts(&["واحد"]))
            .await
            .unwrap_err();
        assert!(
            matches!(&e, tarjama::provider::ProviderError::Malformed(m) if m.contains("8 MiB")),
            "{fault:?}: {e:?}"
        );
    }
    assert_eq!(tarjama::provider::MAX_REPLY_BYTES, 8 << 20);
}

// ------------------------------------------------------------------ content

#[test]
fn wrong_counts_for_ever_are_rejected_and_nothing_is_cached_from_them() {
    persistent(
        Fault::WrongCount,
        2,
        "rejected_reply",
        &["libretranslate", "malformed", "Rerun"],
    );
}

#[test]
fn source_echoed_back_is_never_cached() {
    let (_, rows, _) = persistent(
        Fault::Echo,
        2,
        "rejected_reply",
        &["libretranslate", "not translations", "--provider"],
    );
    assert!(
        rows.iter()
            .all(|r| r.target.as_deref() != Some(r.source.as_str()))
    );
}

// ------------------------------------------------------------------ status

/// 401 and 403: the key is wrong. One request, no retry, the message names the
/// provider and where the key is read from.
#[test]
fn a_rejected_key_stops_at_once_and_names_where_the_key_comes_from() {
    for code in [401, 403] {
        let s = scratch();
        let input = corpus(&s);
        let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
        emu.push_n(Behaviour::Normal, 1);
        emu.set_mode(Behaviour::Status {
            code,
            message: "Invalid API key".into(),
        });
        let r = run(&s, &input, "libretranslate", &emu.url(), &[]);
        assert_eq!(r.code, 3, "{}", r.stderr);
        let translate: Vec<_> = (emu.requests().into_iter())
            .filter(|l| l.path == "/translate")
            .collect();
        assert_eq!(translate.len(), 2, "{code}: retried a refused key");
        let line = error_line(&r.stderr);
        assert!(
            line.contains("libretranslate")
                && line.contains("authentication failed")
                && line.contains("LIBRETRANSLATE_API_KEY")
                && line.contains("keyring"),
            "{line}"
        );
        let rows = kept_and_nothing_wrong_cached(&s, &input, "libretranslate");
        assert_eq!(rows.iter().filter(|r| r.target.is_some()).count(), 4);
    }
}

/// DeepL's 456: the quota is used up. The provider is stopped (no request after
/// the 456), what was translated is kept, exit 3.
#[test]
fn deepl_quota_456_stops_the_provider_and_keeps_what_was_done() {
    const KEY: &str = "test-key-456:fx";
    let s = Scratch::with_config(|c| {
        c.replace(
            "concurrency = 4\nmax_texts = 50",
            "concurrency = 1\nmax_texts = 4",
        )
    });
    let input = corpus(&s);
    let emu = DeeplEmu::spawn_blocking_runtime(KEY);
    emu.set_character_limit(700);
    let out = s
        .cmd(&[&input])
        .env("DEEPL_AUTH_KEY", KEY)
        .args(["--provider", "deepl", "--endpoint", &emu.url()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}"); // not killed at the time limit
    let requests = emu.translate_requests();
    assert!(
        requests.len() >= 2,
        "the quota was not reached: {}",
        requests.len()
    );
    let line = error_line(&stderr);
    assert!(
        line.contains("deepl") && line.contains("quota") && line.contains("Rerun later"),
        "{line}"
    );
    let served = emu.character_count();
    assert!(served > 0 && served <= 700, "{served}");
    let rows = kept_and_nothing_wrong_cached(&s, &input, "deepl");
    assert!(flagged(&rows, "quota_exhausted") > 0);
    // Stopped: every request but the last was answered; the last got the 456 and
    // nothing was sent after it.
    let translated = rows
        .iter()
        .filter(|r| r.target.is_some() && !r.cached)
        .count();
    let sent = emu.texts_received().len();
    let last = common::deepl_emu::texts(requests.last().unwrap()).len();
    assert_eq!(sent, translated + last, "requests went on after the 456");
}
