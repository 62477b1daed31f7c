//! LibreTranslate's and MyMemory's wire formats against the local emulators (and
//! a raw server for odd bodies): request shape, batching, parsing, every error class.
//! What every provider shares (a hang, the pair check, the key never in a message,
//! the seeds, a spent quota) is checked over all of them in `tests/it/provider_matrix.rs`.

use crate::common;

use common::client::{class, closed_port, texts};
use common::emulator::{Api, Behaviour, Emulator, MYMEMORY_QUOTA_WARNING, fake_translate};
use common::server::{RawServer, Reply};
use common::wait;
use tarjama::config::{ProviderKind, ProviderSettings};
use tarjama::provider::{Provider, ProviderError};
use tarjama::secret::ApiKey;

const KEY: &str = "SeCrEt-KeY-0123456789";

/// The shipped settings of `kind`, pointed at `endpoint`, with short timeouts.
fn settings(kind: ProviderKind, endpoint: &str) -> ProviderSettings {
    common::client::shipped(kind.as_str(), endpoint)
}

fn provider(kind: ProviderKind, endpoint: &str, key: Option<&str>) -> Provider {
    Provider::new("test", &settings(kind, endpoint), key.map(ApiKey::new)).unwrap()
}

// ---------------------------------------------------------------- LibreTranslate

#[tokio::test]
async fn libretranslate_sends_one_json_batch_with_explicit_source() {
    let emu = Emulator::start(Api::LibreTranslate).await;
    let p = provider(ProviderKind::Libretranslate, &emu.url(), None);
    let sent = texts(&["السلام عليكم", "کتاب خوب است", "already English"]);
    let got = p.translate("ar", "en", &sent).await.unwrap();
    assert_eq!(
        got,
        sent.iter().map(|t| fake_translate(t)).collect::<Vec<_>>()
    );
    assert_eq!(got[2], "already English");

    let reqs = emu.requests();
    assert_eq!(reqs.len(), 1, "one exchange for the whole batch");
    let r = &reqs[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/translate"));
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    assert!(r.header("user-agent").unwrap().starts_with("tarjama/"));
    let body = r.body.as_ref().unwrap();
    assert_eq!(body["q"], serde_json::json!(sent));
    assert_eq!(body["source"], "ar");
    assert_eq!(body["target"], "en");
    assert_eq!(body["format"], "text");
    assert!(
        body.get("api_key").is_none(),
        "no api_key field without a key: {body}"
    );
    assert!(r.query.is_empty());
}

#[tokio::test]
async fn libretranslate_key_goes_in_the_body_only_when_set() {
    let emu = Emulator::start(Api::LibreTranslate).await;
    emu.require_api_key(KEY);
    let p = provider(ProviderKind::Libretranslate, &emu.url(), Some(KEY));
    p.translate("fa", "en", &texts(&["سلام"])).await.unwrap();
    let r = &emu.requests()[0];
    assert_eq!(r.body.as_ref().unwrap()["api_key"], KEY);
    assert!(r.query.is_empty() && r.header("authorization").is_none());

    let without = provider(ProviderKind::Libretranslate, &emu.url(), None);
    let e = without
        .translate("fa", "en", &texts(&["سلام"]))
        .await
        .unwrap_err();
    assert!(
        matches!(e, ProviderError::AuthFailed(ref m) if m.contains("400")),
        "{e:?}"
    );
    let wrong = provider(ProviderKind::Libretranslate, &emu.url(), Some("wrong-key"));
    let e = wrong
        .translate("fa", "en", &texts(&["سلام"]))
        .await
        .unwrap_err();
    assert!(
        matches!(e, ProviderError::AuthFailed(ref m) if m.contains("Invalid API key")),
        "{e:?}"
    );
}

#[tokio::test]
async fn libretranslate_language_codes_are_mapped() {
    let emu = Emulator::start(Api::LibreTranslate).await;
    let mut s = settings(ProviderKind::Libretranslate, &emu.url());
    s.languages.insert("fa".into(), "ar".into());
    let p = Provider::new("lt", &s, None).unwrap();
    p.translate("fa", "en", &texts(&["سلام"])).await.unwrap();
    assert_eq!(emu.requests()[0].body.as_ref().unwrap()["source"], "ar");
    assert_eq!(p.cache_options(), "format=text;languages=fa:ar");
}

#[tokio::test]
async fn libretranslate_failures_are_classified() {
    let cases: Vec<(Behaviour, &str)> = vec![
        (
            Behaviour::Status429 { retry_after: None },
            "RateLimited(None)",
        ),
        (
            Behaviour::Status429 {
                retry_after: Some(3),
            },
            "RateLimited(Some(3))",
        ),
        (Behaviour::Status500, "Transient"),
        (
            Behaviour::Status {
                code: 503,
                message: "down".into(),
            },
            "Transient",
        ),
        (Behaviour::QuotaExhausted, "QuotaExhausted"),
        (Behaviour::Malformed, "Malformed"),
        (Behaviour::WrongCount, "Malformed"),
        (
            Behaviour::Status {
                code: 400,
                message: "xx is not supported".into(),
            },
            "BadRequest",
        ),
        (Behaviour::Echo, "Ok(2)"),
        (Behaviour::Normal, "Ok(2)"),
    ];
    let emu = Emulator::start(Api::LibreTranslate).await;
    let p = provider(ProviderKind::Libretranslate, &emu.url(), None);
    for (b, expected) in cases {
        emu.push(b.clone());
        let r = p.translate("ar", "en", &texts(&["واحد", "اثنان"])).await;
        assert_eq!(class(&r), expected, "{b:?}: {r:?}");
    }
}

#[tokio::test]
async fn libretranslate_retry_after_as_http_date() {
    let emu = Emulator::start(Api::LibreTranslate).await;
    emu.push(Behaviour::Status429Date { secs: 30 });
    let p = provider(ProviderKind::Libretranslate, &emu.url(), None);
    match p.translate("ar", "en", &texts(&["واحد"])).await {
        Err(ProviderError::RateLimited {
            retry_after: Some(d),
            ..
        }) => assert!((28..=30).contains(&d.as_secs()), "{d:?}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn libretranslate_batch_limit_is_a_bad_request() {
    let emu = Emulator::start(Api::LibreTranslate).await;
    emu.set_batch_limit(Some(2));
    let p = provider(ProviderKind::Libretranslate, &emu.url(), None);
    let e = p
        .translate("ar", "en", &texts(&["a", "b", "c"]))
        .await
        .unwrap_err();
    assert!(
        matches!(e, ProviderError::BadRequest(ref m) if m.contains("exceeds text limit (2)")),
        "{e:?}"
    );
    assert_eq!(
        class(&p.translate("ar", "en", &texts(&["a", "b"])).await),
        "Ok(2)"
    );
}

/// A single `translatedText` string is accepted for one text, refused for several.
#[tokio::test]
async fn libretranslate_accepts_a_string_for_one_text() {
    let server = RawServer::reply(Reply::json(
        200,
        &serde_json::json!({"translatedText": "hello"}),
    ))
    .await;
    let p = provider(ProviderKind::Libretranslate, &server.url(), None);
    assert_eq!(
        p.translate("ar", "en", &texts(&["مرحبا"])).await.unwrap(),
        vec!["hello"]
    );
    let e = p
        .translate("ar", "en", &texts(&["مرحبا", "هلا"]))
        .await
        .unwrap_err();
    assert!(matches!(e, ProviderError::Malformed(_)), "{e:?}");
}

/// Every status through the LibreTranslate classifier, as one table.
#[tokio::test]
async fn libretranslate_status_table() {
    let cases: &[(u16, &str)] = &[
        (200, r#"{"translatedText": 5}"#),
        (200, r#"{"error": "oops"}"#),
        (400, r#"{"error": "Invalid request: missing q parameter"}"#),
        (
            400,
            r#"{"error": "Visit https://portal.libretranslate.com to get an API key"}"#,
        ),
        (
            400,
            r#"{"error": "Please contact the server operator to get an API key"}"#,
        ),
        (401, r#"{"error": "Unauthorized"}"#),
        (403, r#"{"error": "Invalid API key"}"#),
        (403, r#"{"error": "Too many request limits violations"}"#),
        (404, "<html>not found</html>"),
        (408, "timeout"),
        (413, "too large"),
        (429, r#"{"error": "Slowdown: 10 per 1 minute"}"#),
        (500, r#"{"error": "Cannot translate text: boom"}"#),
        (502, "bad gateway"),
        (503, "unavailable"),
        (504, "gateway timeout"),
    ];
    let mut table = String::new();
    for (status, body) in cases {
        let server = RawServer::reply(Reply::text(*status, *body)).await;
        let p = provider(ProviderKind::Libretranslate, &server.url(), None);
        let r = p.translate("ar", "en", &texts(&["واحد"])).await;
        table.push_str(&format!("{status} {body} -> {}\n", class(&r)));
    }
    let expected = r#"200 {"translatedText": 5} -> Malformed
200 {"error": "oops"} -> Malformed
400 {"error": "Invalid request: missing q parameter"} -> BadRequest
400 {"error": "Visit https://portal.libretranslate.com to get an API key"} -> AuthFailed
400 {"error": "Please contact the server operator to get an API key"} -> AuthFailed
401 {"error": "Unauthorized"} -> AuthFailed
403 {"error": "Invalid API key"} -> AuthFailed
403 {"error": "Too many request limits violations"} -> QuotaExhausted
404 <html>not found</html> -> BadRequest
408 timeout -> Transient
413 too large -> BadRequest
429 {"error": "Slowdown: 10 per 1 minute"} -> RateLimited(None)
500 {"error": "Cannot translate text: boom"} -> Transient
502 bad gateway -> Transient
503 unavailable -> Transient
504 gateway timeout -> Transient
"#;
    assert_eq!(table, expected);
}

// ---------------------------------------------------------------------- MyMemory

#[tokio::test]
async fn mymemory_sends_one_get_with_langpair_email_and_key() {
    let emu = Emulator::start(Api::MyMemory).await;
    let mut s = settings(ProviderKind::Mymemory, &emu.url());
    s.email = Some("desk@example.org".into());
    let p = Provider::new("mm", &s, Some(ApiKey::new(KEY))).unwrap();
    let got = p
        .translate("ar", "en", &texts(&["صباح الخير"]))
        .await
        .unwrap();
    assert_eq!(got, vec![fake_translate("صباح الخير")]);
    let r = &emu.requests()[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/get"));
    assert_eq!(r.query_param("q"), Some("صباح الخير"));
    assert_eq!(r.query_param("langpair"), Some("ar|en"));
    assert_eq!(r.query_param("de"), Some("desk@example.org"));
    assert_eq!(r.query_param("key"), Some(KEY));
    assert!(r.body.is_none());
}

#[tokio::test]
async fn mymemory_sends_no_de_or_key_when_unset_and_maps_languages() {
    let emu = Emulator::start(Api::MyMemory).await;
    let mut s = settings(ProviderKind::Mymemory, &emu.url());
    s.email = Some(String::new());
    s.languages.insert("fa".into(), "fa-IR".into());
    let p = Provider::new("mm", &s, None).unwrap();
    p.translate("fa", "en", &texts(&["سلام"])).await.unwrap();
    let r = &emu.requests()[0];
    assert_eq!(r.query_param("langpair"), Some("fa-IR|en"));
    let names: Vec<&str> = r.query.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["q", "langpair"]);
}

#[tokio::test]
async fn mymemory_failures_are_classified() {
    let cases: Vec<(Behaviour, &str)> = vec![
        (Behaviour::QuotaExhausted, "QuotaExhausted"),
        (Behaviour::QuotaExhaustedHttp429, "QuotaExhausted"),
        (
            Behaviour::Status429 { retry_after: None },
            "RateLimited(None)",
        ),
        (
            Behaviour::Status429 {
                retry_after: Some(2),
            },
            "RateLimited(Some(2))",
        ),
        (Behaviour::Status500, "Transient"),
        (
            Behaviour::Status {
                code: 502,
                message: "bad gateway".into(),
            },
            "Transient",
        ),
        (Behaviour::Malformed, "Malformed"),
        (Behaviour::WrongCount, "Malformed"),
        (Behaviour::Echo, "Ok(1)"),
        (Behaviour::Normal, "Ok(1)"),
    ];
    let emu = Emulator::start(Api::MyMemory).await;
    let p = provider(ProviderKind::Mymemory, &emu.url(), None);
    for (b, expected) in cases {
        emu.push(b.clone());
        let r = p.translate("ar", "en", &texts(&["واحد"])).await;
        assert_eq!(class(&r), expected, "{b:?}: {r:?}");
    }
    // An invalid pair is refused inside an HTTP 200 (responseStatus 403).
    let e = p
        .translate("ar", "ar", &texts(&["واحد"]))
        .await
        .unwrap_err();
    assert!(
        matches!(e, ProviderError::BadRequest(ref m) if m.starts_with("INVALID LANGUAGE PAIR")),
        "{e:?}"
    );
    // The quota message is kept for the user.
    emu.push(Behaviour::QuotaExhausted);
    let e = p
        .translate("ar", "en", &texts(&["واحد"]))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("MYMEMORY WARNING"), "{e}");
}

/// Odd but seen bodies: string `responseStatus`, a warning without `quotaFinished`.
#[tokio::test]
async fn mymemory_body_table() {
    let ok = |status: serde_json::Value, text: &str, quota: serde_json::Value| {
        serde_json::json!({
            "responseData": {"translatedText": text, "match": 1},
            "quotaFinished": quota, "responseDetails": "", "responseStatus": status
        })
    };
    let cases: Vec<(u16, serde_json::Value, &str)> = vec![
        (200, ok(200.into(), "hello", false.into()), "Ok(1)"),
        (
            200,
            ok("200".into(), "hello", serde_json::Value::Null),
            "Ok(1)",
        ),
        (
            200,
            ok(
                "403".into(),
                "INVALID LANGUAGE PAIR SPECIFIED",
                false.into(),
            ),
            "BadRequest",
        ),
        (
            200,
            ok(
                403.into(),
                "'XX' IS AN INVALID TARGET LANGUAGE",
                false.into(),
            ),
            "BadRequest",
        ),
        (
            200,
            ok(
                200.into(),
                "QUERY LENGTH LIMIT EXCEEDED. MAX ALLOWED QUERY : 500 CHARS",
                false.into(),
            ),
            "BadRequest",
        ),
        (
            200,
            ok(200.into(), MYMEMORY_QUOTA_WARNING, false.into()),
            "QuotaExhausted",
        ),
        (200, ok(200.into(), "hello", true.into()), "QuotaExhausted"),
        (
            200,
            ok("429".into(), "slow", false.into()),
            "QuotaExhausted",
        ),
        (
            429,
            ok(429.into(), MYMEMORY_QUOTA_WARNING, true.into()),
            "QuotaExhausted",
        ),
        (
            403,
            ok(403.into(), "INVALID LANGUAGE PAIR SPECIFIED", false.into()),
            "BadRequest",
        ),
        (200, ok(500.into(), "oops", false.into()), "Transient"),
        (200, serde_json::json!({"responseStatus": 200}), "Malformed"),
        (200, serde_json::json!([1, 2]), "Malformed"),
        (404, serde_json::json!("nope"), "BadRequest"),
    ];
    let mut table = String::new();
    let mut expected = String::new();
    for (status, body, want) in cases {
        let server = RawServer::reply(Reply::json(status, &body)).await;
        let p = provider(ProviderKind::Mymemory, &server.url(), None);
        let r = p.translate("ar", "en", &texts(&["واحد"])).await;
        table.push_str(&format!("{status} {body} -> {}\n", class(&r)));
        expected.push_str(&format!("{status} {body} -> {want}\n"));
    }
    assert_eq!(table, expected);
}

#[tokio::test]
async fn mymemory_refuses_long_or_several_texts_without_sending() {
    let emu = Emulator::start(Api::MyMemory).await;
    let p = provider(ProviderKind::Mymemory, &emu.url(), None);
    let long = "ب".repeat(251); // 502 bytes
    let e = p.translate("ar", "en", &[long]).await.unwrap_err();
    assert!(
        matches!(e, ProviderError::BadRequest(ref m) if m.contains("502 bytes")),
        "{e:?}"
    );
    let e = p
        .translate("ar", "en", &texts(&["a", "b"]))
        .await
        .unwrap_err();
    assert!(matches!(e, ProviderError::BadRequest(_)), "{e:?}");
    assert_eq!(emu.count(), 0);
    // Exactly 500 bytes is fine.
    assert_eq!(
        class(&p.translate("ar", "en", &["ب".repeat(250)]).await),
        "Ok(1)"
    );
}

// ------------------------------------------------------------- both: shared parts

#[tokio::test]
async fn limits_endpoint_and_cache_options() {
    let mut lt = settings(
        ProviderKind::Libretranslate,
        "https://user:pw@lt.example.org/api/",
    );
    lt.max_bytes_per_text = 0;
    let p = Provider::new("lt", &lt, Some(ApiKey::new(KEY))).unwrap();
    assert_eq!(p.name(), "lt");
    assert_eq!(p.kind(), ProviderKind::Libretranslate);
    assert_eq!(p.endpoint(), "https://****:****@lt.example.org/api/");
    assert_eq!(p.limits().max_texts, lt.max_texts);
    assert_eq!(p.limits().max_chars, lt.max_chars);
    assert_eq!(p.limits().max_bytes_per_text, None);
    assert_eq!(p.cache_options(), "format=text");
    assert!(!format!("{p:?}").contains(KEY));

    let mut mm = settings(
        ProviderKind::Mymemory,
        "https://api.mymemory.translated.net",
    );
    (mm.max_texts, mm.max_chars, mm.max_bytes_per_text) = (25, 5000, 2000);
    mm.email = Some("desk@example.org".into());
    let p = Provider::new("mm", &mm, Some(ApiKey::new(KEY))).unwrap();
    assert_eq!(p.endpoint(), "https://api.mymemory.translated.net");
    let l = p.limits();
    assert_eq!(
        (l.max_texts, l.max_chars, l.max_bytes_per_text),
        (1, 500, Some(500))
    );
    assert_eq!(p.cache_options(), "mt=1");
    assert!(!p.cache_options().contains("desk@"));
    mm.max_bytes_per_text = 300;
    let l = Provider::new("mm", &mm, None).unwrap().limits();
    assert_eq!(l.max_bytes_per_text, Some(300));

    let mut bad = mm.clone();
    bad.endpoint = "ftp://example.org".into();
    assert!(Provider::new("mm", &bad, None).is_err());
}

#[tokio::test]
async fn empty_input_sends_nothing() {
    let emu = Emulator::start(Api::LibreTranslate).await;
    let p = provider(ProviderKind::Libretranslate, &emu.url(), None);
    assert_eq!(
        p.translate("ar", "en", &[]).await.unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(emu.count(), 0);
}

#[tokio::test]
async fn closed_port_is_unreachable() {
    let port = closed_port().await;
    for kind in [ProviderKind::Libretranslate, ProviderKind::Mymemory] {
        let p = provider(kind, &format!("http://127.0.0.1:{port}"), Some(KEY));
        let e = p
            .translate("ar", "en", &texts(&["واحد"]))
            .await
            .unwrap_err();
        assert_eq!(e, ProviderError::Unreachable(format!("127.0.0.1:{port}")));
    }
}

#[tokio::test]
async fn unknown_host_is_unreachable() {
    let p = provider(
        ProviderKind::Mymemory,
        "http://tarjama-test.invalid:8080",
        Some(KEY),
    );
    let e = wait::finishes(
        "a name that cannot resolve failing",
        p.translate("ar", "en", &texts(&["واحد"])),
    )
    .await
    .unwrap_err();
    assert_eq!(
        e,
        ProviderError::Unreachable("tarjama-test.invalid:8080".into())
    );
}

/// The emulator on its own runtime serves plain (non-async) tests, as the binary's
/// integration tests need, and stops on drop even with a request left hanging.
#[test]
fn emulator_runs_on_a_background_runtime() {
    use std::io::{Read, Write};
    let emu = Emulator::spawn_blocking_runtime(Api::MyMemory);
    let get = |path: &str| {
        let mut c = std::net::TcpStream::connect(emu.addr()).unwrap();
        write!(
            c,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut reply = String::new();
        c.read_to_string(&mut reply).unwrap();
        reply
    };
    let reply = get("/get?q=%D8%B3%D9%84%D8%A7%D9%85&langpair=ar%7Cen");
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains(r#""translatedText":"slam""#), "{reply}");
    assert_eq!(emu.texts_received(), ["سلام"]);

    emu.set_mode(Behaviour::Hang);
    let addr = emu.addr();
    let mut hanging = std::net::TcpStream::connect(addr).unwrap();
    write!(
        hanging,
        "GET /get?q=x&langpair=ar%7Cen HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    .unwrap();
    wait::until("the hanging request to arrive", || emu.in_flight() > 0);
    wait::finishes_blocking("dropping the emulator with a request hanging", move || {
        drop(emu)
    });
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "still listening after drop"
    );
}
