//! The whole binary against a real Apertium APY server (started by
//! `.ci/apertium-setup`, which installs Debian's `apertium-apy` and
//! `apertium-eng-spa`): a Spanish article translated to English for real, then the
//! same run offline from the cache with the server out of reach.
//!
//! The server is `APERTIUM_URL` (default `http://127.0.0.1:2737`). When it does not
//! answer with a `spa→eng` pair, the test fails under CI (`CI` set: CI must run it)
//! and otherwise says why and passes without checking anything.

use crate::common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::harness::{JsonRow, Scratch};

const DEFAULT_URL: &str = "http://127.0.0.1:2737";

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/apertium")
}

/// `GET /listPairs` over a plain socket: whether `spa→eng` is listed, or why not.
fn has_spanish_english(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("APERTIUM_URL `{url}`: {e}"))?;
    let host = parsed.host_str().ok_or("APERTIUM_URL has no host")?;
    let port = parsed.port_or_known_default().unwrap_or(80);
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("{host}:{port}: {e}"))?
        .next()
        .ok_or(format!("{host}:{port}: no address"))?;
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(3))
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let path = format!("{}/listPairs", parsed.path().trim_end_matches('/'));
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut reply = String::new();
    s.read_to_string(&mut reply).map_err(|e| e.to_string())?;
    let body = reply.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let json: serde_json::Value =
        serde_json::from_str(body).map_err(|e| format!("/listPairs is not JSON ({e})"))?;
    let pairs = json["responseData"].as_array().cloned().unwrap_or_default();
    let spa_eng = serde_json::json!({"sourceLanguage": "spa", "targetLanguage": "eng"});
    if pairs.contains(&spa_eng) {
        Ok(())
    } else {
        Err(format!("/listPairs has no spa→eng pair: {body}"))
    }
}

/// The server's URL, or `None` (after saying why) when it is not there outside CI.
fn server() -> Option<String> {
    let url = std::env::var("APERTIUM_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_URL.to_string());
    match has_spanish_english(&url) {
        Ok(()) => Some(url),
        Err(why) if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) => panic!(
            "CI must test against a real Apertium APY at {url}, but: {why}. \
             Run `.ci/apertium-setup` first (see .ci/run)."
        ),
        Err(why) => {
            eprintln!(
                "skipping the real-Apertium test: {why}. Run `.ci/apertium-setup` (as root) \
                 or set APERTIUM_URL to test against a real APY."
            );
            None
        }
    }
}

fn content(rows: &[JsonRow]) -> Vec<&JsonRow> {
    rows.iter()
        .filter(|r| matches!(r.kind.as_str(), "text" | "heading" | "caption"))
        .collect()
}

/// Words as lower-case ASCII tokens.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

#[test]
fn a_spanish_article_is_translated_by_real_apertium_then_served_offline() {
    let Some(url) = server() else { return };
    // The first request for a pair starts APY's pipeline: allow it time.
    let s = Scratch::with_config(|c| c.replace("timeout_secs = 1.5", "timeout_secs = 30.0"));
    let dir = fixture_dir();
    s.cmd(&[&dir])
        .args(["--from", "es", "--provider", "apertium", "--endpoint", &url])
        .assert()
        .code(0);

    let rows = s.jsonl("articulo.txt");
    let content = content(&rows);
    assert!(content.len() >= 4, "{rows:#?}");
    let mut english = Vec::new();
    for r in &content {
        assert_eq!(
            (
                r.provider.as_str(),
                r.src_lang.as_str(),
                r.tgt_lang.as_str()
            ),
            ("apertium", "es", "en"),
            "{r:?}"
        );
        let target = r.target.as_deref().unwrap_or_else(|| panic!("{r:?}"));
        assert_ne!(target.trim(), r.source.trim(), "{r:?}");
        assert!(!target.contains('*'), "markUnknown=no: {target}");
        english.extend(words(target));
    }
    // Words only an English translation of this article has.
    for w in [
        "the",
        "of",
        "government",
        "library",
        "city",
        "new",
        "week",
        "families",
    ] {
        assert!(
            english.iter().any(|e| e == w),
            "`{w}` missing from {english:?}"
        );
    }
    // And the Spanish function words are gone.
    for w in ["el", "la", "los", "de", "del", "una"] {
        assert!(!english.iter().any(|e| e == w), "`{w}` left in {english:?}");
    }

    // Offline, with the endpoint pointing at a closed port: the same targets, from the
    // cache.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    s.cmd(&[&dir])
        .args([
            "--from",
            "es",
            "--provider",
            "apertium",
            "--offline",
            "--endpoint",
            &closed,
        ])
        .assert()
        .code(0);
    let offline = s.jsonl("articulo.txt");
    assert_eq!(offline.len(), rows.len());
    for (a, b) in rows.iter().zip(&offline) {
        assert_eq!(
            (a.index, &a.source, &a.target),
            (b.index, &b.source, &b.target)
        );
        assert_eq!(b.cached, b.target.is_some(), "{b:?}");
    }
}
