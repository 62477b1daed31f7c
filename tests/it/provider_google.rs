//! Google Cloud Translation Basic (v2) against the local emulator (and a raw server for
//! odd bodies): request shape (`format=text`, the key in the query), batching
//! limits, parsing, every error class (the 403 reasons told apart), `health`, and the
//! key masked where a server echoes the URL. What every provider shares (a hang, the
//! pair check, the key never in a message, the seeds, a spent quota) is checked over
//! all of them in `tests/it/provider_matrix.rs`.

use crate::common;

use common::client::{class, texts};
use common::emulator::fake_translate;
use common::google_emu::{self, Behaviour, GoogleEmu};
use common::server::{RawServer, Reply};
use tarjama::config::ProviderSettings;
use tarjama::provider::{Provider, ProviderError, batch_limits};
use tarjama::secret::ApiKey;

/// A key with characters that the query string percent-encodes.
const KEY: &str = "AIzaSeCrEt/KeY+0123==";
/// [`KEY`] as it appears in the URL.
const KEY_IN_URL: &str = "AIzaSeCrEt%2FKeY%2B0123%3D%3D";

/// The shipped `[providers.google]`, pointed at `endpoint`, with short timeouts.
fn settings(endpoint: &str) -> ProviderSettings {
    common::client::shipped("google", endpoint)
}

fn provider(endpoint: &str, key: Option<&str>) -> Provider {
    Provider::new("google", &settings(endpoint), key.map(ApiKey::new)).unwrap()
}

// ------------------------------------------------------------------ wire format

#[tokio::test]
async fn sends_one_json_batch_as_plain_text_with_the_key_in_the_query() {
    let emu = GoogleEmu::start(KEY).await;
    let p = provider(&emu.url(), Some(KEY));
    // `ع` comes back as `'`: in html mode it would be `&#39;`.
    let sent = texts(&["عين الشمس", "کتاب <خوب> است", "already English"]);
    let got = p.translate("ar", "en", &sent).await.unwrap();
    assert_eq!(
        got,
        sent.iter().map(|t| fake_translate(t)).collect::<Vec<_>>()
    );
    assert!(
        got[0].starts_with('\'') && got[1].contains("<khwb>"),
        "{got:?}"
    );

    let reqs = emu.requests();
    assert_eq!(reqs.len(), 1, "one exchange for the whole batch");
    let r = &reqs[0];
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("POST", "/language/translate/v2")
    );
    assert_eq!(r.query, [("key".to_string(), KEY.to_string())]);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(r.header("authorization").is_none());
    assert!(r.header("user-agent").unwrap().starts_with("tarjama/"));
    assert_eq!(
        r.body.as_ref().unwrap(),
        &serde_json::json!({"q": sent, "target": "en", "source": "ar", "format": "text"})
    );
}

/// Without `format=text` the same server escapes the output: why it is always sent.
#[tokio::test]
async fn the_emulator_defaults_to_html_like_google() {
    let emu = GoogleEmu::start(KEY).await;
    let r = common::client::http()
        .post(format!("{}/language/translate/v2", emu.url()))
        .query(&[("key", KEY)])
        .json(&serde_json::json!({"q": ["عين"], "target": "en", "source": "ar"}))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["data"]["translations"][0]["translatedText"], "&#39;yn");
}

#[tokio::test]
async fn persian_and_chinese_codes() {
    let emu = GoogleEmu::start(KEY).await;
    let p = provider(&emu.url(), Some(KEY));
    p.translate("fa", "zh-hans", &texts(&["سلام"]))
        .await
        .unwrap();
    let body = emu.requests()[0].body.clone().unwrap();
    assert_eq!(
        (body["source"].as_str(), body["target"].as_str()),
        (Some("fa"), Some("zh-CN"))
    );
    let table: Vec<String> = ["ar", "fa", "en", "zh-hans", "zh-hant", "pt-pt"]
        .iter()
        .map(|c| format!("{c}:{}", p.code(c, true)))
        .collect();
    assert_eq!(
        table,
        [
            "ar:ar",
            "fa:fa",
            "en:en",
            "zh-hans:zh-CN",
            "zh-hant:zh-TW",
            "pt-pt:pt-PT"
        ]
    );
    assert_eq!(p.cache_options(), "v2;format=text");
}

// ------------------------------------------------------------------- limits

#[test]
fn limits_are_clamped_to_128_segments_and_a_body_under_100k_bytes() {
    let mut s = settings("http://127.0.0.1:9");
    s.max_texts = 500;
    s.max_chars = 1_000_000;
    assert_eq!(
        (batch_limits(&s).max_texts, batch_limits(&s).max_chars),
        (128, 24_000)
    );
    let shipped = batch_limits(&settings("http://127.0.0.1:9"));
    assert_eq!(
        (shipped.max_texts, shipped.max_chars),
        (128, 5_000),
        "the recommended 5K"
    );
}

#[tokio::test]
async fn oversized_batches_are_refused_before_sending() {
    let emu = GoogleEmu::start(KEY).await;
    let p = provider(&emu.url(), Some(KEY));
    let many: Vec<String> = (0..129).map(|i| format!("نص {i}")).collect();
    let e = p.translate("ar", "en", &many).await.unwrap_err();
    assert!(
        matches!(e, ProviderError::BadRequest(ref m) if m.contains("129 texts")),
        "{e:?}"
    );
    let big = vec!["ب".repeat(50_001)];
    let e = p.translate("ar", "en", &big).await.unwrap_err();
    assert!(
        matches!(e, ProviderError::BadRequest(ref m) if m.contains("100000-byte")),
        "{e:?}"
    );
    assert_eq!(emu.requests().len(), 0, "nothing was sent");
}

/// The emulator enforces Google's documented limits with 400.
#[tokio::test]
async fn emulator_answers_400_over_the_limits() {
    let emu = GoogleEmu::start(KEY).await;
    let client = common::client::http();
    let post = |body: serde_json::Value| {
        client
            .post(format!("{}/language/translate/v2", emu.url()))
            .query(&[("key", KEY)])
            .json(&body)
            .send()
    };
    let many: Vec<String> = (0..129).map(|i| i.to_string()).collect();
    let r = post(serde_json::json!({"q": many, "target": "en", "format": "text"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("Too many text segments"));
    let big = vec!["x".repeat(google_emu::MAX_BODY_BYTES)];
    let r = post(serde_json::json!({"q": big, "target": "en"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = post(serde_json::json!({"q": ["a"], "target": "xx"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

// ------------------------------------------------------------ classification

#[tokio::test]
async fn scripted_failures_are_classified() {
    let cases: Vec<(Behaviour, &str)> = vec![
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
        (Behaviour::DailyLimit403, "QuotaExhausted"),
        (Behaviour::UserRateLimit403, "RateLimited(None)"),
        (Behaviour::RateLimit403, "RateLimited(None)"),
        (Behaviour::Billing403, "QuotaExhausted"),
        (Behaviour::AccessNotConfigured403, "AuthFailed"),
        (Behaviour::Status500, "Transient"),
        (Behaviour::Status503, "Transient"),
        (Behaviour::EchoUrl { code: 400 }, "BadRequest"),
        (Behaviour::Malformed, "Malformed"),
        (Behaviour::WrongCount, "Malformed"),
        (Behaviour::Echo, "Ok(2)"),
        (Behaviour::Normal, "Ok(2)"),
    ];
    let emu = GoogleEmu::start(KEY).await;
    let p = provider(&emu.url(), Some(KEY));
    for (b, expected) in cases {
        emu.push(b.clone());
        let r = p.translate("ar", "en", &texts(&["واحد", "اثنان"])).await;
        assert_eq!(class(&r), expected, "{b:?}: {r:?}");
    }
}

#[tokio::test]
async fn key_problems_are_auth_failures() {
    let emu = GoogleEmu::start(KEY).await;
    let wrong = provider(&emu.url(), Some("AIzaWrongKey"));
    let e = wrong
        .translate("ar", "en", &texts(&["واحد"]))
        .await
        .unwrap_err();
    assert!(matches!(e, ProviderError::AuthFailed(_)), "{e:?}");
    assert!(e.to_string().contains("API key not valid"), "{e}");
    assert!(e.to_string().contains("API_KEY_INVALID"), "{e}");
    // No key: refused locally, nothing sent.
    let before = emu.requests().len();
    let none = provider(&emu.url(), None);
    let e = none
        .translate("ar", "en", &texts(&["واحد"]))
        .await
        .unwrap_err();
    assert!(
        matches!(e, ProviderError::AuthFailed(ref m) if m.contains("no Google API key")),
        "{e:?}"
    );
    assert!(matches!(
        none.check_pair("ar", "en").await,
        Err(ProviderError::AuthFailed(_))
    ));
    assert_eq!(emu.requests().len(), before);
}

/// Every status and body through the classifier, as one table. Edit on purpose.
#[tokio::test]
async fn status_table() {
    let google = |code: u16, reason: &str, message: &str| {
        format!(
            r#"{{"error":{{"code":{code},"message":"{message}","errors":[{{"message":"{message}","domain":"usageLimits","reason":"{reason}"}}]}}}}"#
        )
    };
    let cases: Vec<(u16, String)> = vec![
        (
            200,
            r#"{"data":{"translations":[{"translatedText":5}]}}"#.into(),
        ),
        (200, r#"{"translations":[{"translatedText":"hi"}]}"#.into()),
        (200, r#"{"data":{"translations":[]}}"#.into()),
        (
            400,
            google(
                400,
                "badRequest",
                "API key not valid. Please pass a valid API key.",
            ),
        ),
        (400, google(400, "keyInvalid", "Bad Request")),
        (400, google(400, "invalid", "Invalid Value")),
        (
            400,
            google(
                400,
                "invalid",
                "Request payload size exceeds the limit: 102400 bytes.",
            ),
        ),
        (401, "Unauthorized".into()),
        (
            403,
            google(403, "forbidden", "The request is missing a valid API key."),
        ),
        (
            403,
            google(403, "dailyLimitExceeded", "Daily Limit Exceeded"),
        ),
        (403, google(403, "quotaExceeded", "Quota Exceeded")),
        (
            403,
            google(403, "userRateLimitExceeded", "User Rate Limit Exceeded"),
        ),
        (403, google(403, "rateLimitExceeded", "Rate Limit Exceeded")),
        (403, google(403, "accessNotConfigured", "API not enabled")),
        (404, "<html>Not Found</html>".into()),
        (408, "timeout".into()),
        (413, "too large".into()),
        (
            429,
            google(
                429,
                "rateLimitExceeded",
                "Quota exceeded for limit characters per minute",
            ),
        ),
        (
            429,
            google(
                429,
                "rateLimitExceeded",
                "Quota exceeded for limit characters per day",
            ),
        ),
        (
            500,
            google(500, "backendError", "Internal error encountered."),
        ),
        (502, "bad gateway".into()),
        (
            503,
            google(503, "backendError", "The service is currently unavailable."),
        ),
    ];
    let mut table = String::new();
    for (status, body) in &cases {
        let server = RawServer::reply(Reply::text(*status, body.clone())).await;
        let p = provider(&server.url(), Some(KEY));
        let r = p.translate("ar", "en", &texts(&["واحد"])).await;
        let shown = body
            .split("\"message\":\"")
            .nth(1)
            .map_or(body.as_str(), |m| m.split('"').next().unwrap());
        table.push_str(&format!("{status} {shown} -> {}\n", class(&r)));
    }
    let expected = r#"200 {"data":{"translations":[{"translatedText":5}]}} -> Malformed
200 {"translations":[{"translatedText":"hi"}]} -> Malformed
200 {"data":{"translations":[]}} -> Malformed
400 API key not valid. Please pass a valid API key. -> AuthFailed
400 Bad Request -> AuthFailed
400 Invalid Value -> BadRequest
400 Request payload size exceeds the limit: 102400 bytes. -> BadRequest
401 Unauthorized -> AuthFailed
403 The request is missing a valid API key. -> AuthFailed
403 Daily Limit Exceeded -> QuotaExhausted
403 Quota Exceeded -> QuotaExhausted
403 User Rate Limit Exceeded -> RateLimited(None)
403 Rate Limit Exceeded -> RateLimited(None)
403 API not enabled -> AuthFailed
404 <html>Not Found</html> -> BadRequest
408 timeout -> Transient
413 too large -> BadRequest
429 Quota exceeded for limit characters per minute -> RateLimited(None)
429 Quota exceeded for limit characters per day -> QuotaExhausted
500 Internal error encountered. -> Transient
502 bad gateway -> Transient
503 The service is currently unavailable. -> Transient
"#;
    assert_eq!(table, expected);
}

// ------------------------------------------------------- languages and health

#[tokio::test]
async fn health_counts_the_languages() {
    let emu = GoogleEmu::start(KEY).await;
    let p = provider(&emu.url(), Some(KEY));
    let h = p.health().await.unwrap();
    assert_eq!(h.quota, None);
    assert_eq!(
        h.detail,
        format!(
            "GET /language/translate/v2/languages: {} languages; Google does not report usage through this API",
            google_emu::LANGUAGES.len()
        )
    );
    let wrong = provider(&emu.url(), Some("AIzaWrong"));
    assert!(matches!(
        wrong.health().await,
        Err(ProviderError::AuthFailed(_))
    ));
}

// ------------------------------------------------------------------ secrets

/// The emulator's own echo of the URL (what a proxy or a server error might quote)
/// reaches no message: the key is masked where it stood, raw or percent-encoded.
/// (Every provider's messages, transport failures and `Debug` are checked in
/// `tests/it/provider_matrix.rs`.)
#[tokio::test]
async fn an_echoed_url_is_masked() {
    let emu = GoogleEmu::start(KEY).await;
    let p = provider(&emu.url(), Some(KEY));
    // The emulator does echo the key as it appears in the URL.
    emu.push(Behaviour::EchoUrl { code: 500 });
    let raw = common::client::http()
        .post(format!("{}/language/translate/v2", emu.url()))
        .query(&[("key", KEY)])
        .json(&serde_json::json!({"q": ["a"], "target": "en"}))
        .send()
        .await
        .unwrap();
    assert!(raw.text().await.unwrap().contains(KEY_IN_URL));
    let mut messages = Vec::new();
    for code in [400, 401, 403, 404, 429, 500, 503] {
        emu.push(Behaviour::EchoUrl { code });
        messages.push(
            p.translate("ar", "en", &texts(&["واحد"]))
                .await
                .unwrap_err(),
        );
    }
    for e in &messages {
        let (display, debug) = (e.to_string(), format!("{e:?}"));
        for shown in [&display, &debug] {
            assert!(
                !shown.contains(KEY) && !shown.contains(KEY_IN_URL),
                "{shown}"
            );
            assert!(!shown.contains("SeCrEt"), "{shown}");
        }
    }
    assert!(
        messages.iter().all(|e| e.to_string().contains("key=****")),
        "{messages:?}"
    );
}

// ------------------------------------------------------------ the whole binary
