//! DeepL API v2 against the local emulator (and a raw server for odd bodies): request
//! shape, batching limits, parsing, every error class, the language table, the
//! Free/Pro host choice, `health`, and the binary's batch limit and missing key. What
//! every provider shares (a hang, the pair check, the key never in a message, the
//! seeds, a spent quota) is checked over all of them in `tests/it/provider_matrix.rs`.

use crate::common;

use std::path::Path;

use common::client::{class, texts};
use common::deepl_emu::{self, Behaviour, DeeplEmu};
use common::emulator::fake_translate;
use common::harness::{Scratch, seeds};
use common::server::{RawServer, Reply};
use predicates::prelude::*;
use tarjama::config::{Config, ProviderSettings};
use tarjama::provider::{Health, Provider, ProviderError, batch_limits};
use tarjama::secret::ApiKey;

/// A Free-plan-shaped key (ends in `:fx`).
const KEY: &str = "5eCr3t-KeY-0123-4567-89ab:fx";

/// The shipped `[providers.deepl]`, pointed at `endpoint`, with short timeouts.
fn settings(endpoint: &str) -> ProviderSettings {
    common::client::shipped("deepl", endpoint)
}

fn provider(endpoint: &str, key: Option<&str>) -> Provider {
    Provider::new("deepl", &settings(endpoint), key.map(ApiKey::new)).unwrap()
}

// ------------------------------------------------------------------ wire format

#[tokio::test]
async fn sends_one_json_batch_with_the_key_in_the_header_only() {
    let emu = DeeplEmu::start(KEY).await;
    let p = provider(&emu.url(), Some(KEY));
    let sent = texts(&["السلام عليكم", "عين الشمس", "already English"]);
    let got = p.translate("ar", "en", &sent).await.unwrap();
    assert_eq!(
        got,
        sent.iter().map(|t| fake_translate(t)).collect::<Vec<_>>()
    );

    let reqs = emu.requests();
    assert_eq!(reqs.len(), 1, "one exchange for the whole batch");
    let r = &reqs[0];
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("POST", "/v2/translate")
    );
    assert!(r.query.is_empty(), "nothing in the query: {:?}", r.query);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.header("authorization"),
        Some(format!("DeepL-Auth-Key {KEY}").as_str())
    );
    assert!(r.header("user-agent").unwrap().starts_with("tarjama/"));
    let body = r.body.as_ref().unwrap();
    assert_eq!(
        body,
        &serde_json::json!({
            "text": sent,
            "target_lang": "EN-US",
            "source_lang": "AR",
            "split_sentences": "nonewlines",
            "preserve_formatting": false
        })
    );
    assert!(
        !body.to_string().contains(KEY),
        "the key is not in the body"
    );
}

#[tokio::test]
async fn persian_source_and_a_configured_en_gb_target() {
    let emu = DeeplEmu::start(KEY).await;
    let mut s = settings(&emu.url());
    s.languages.insert("en".into(), "EN-GB".into());
    let p = Provider::new("deepl", &s, Some(ApiKey::new(KEY))).unwrap();
    p.translate("fa", "en", &texts(&["کتاب خوب است"]))
        .await
        .unwrap();
    let body = emu.requests()[0].body.clone().unwrap();
    assert_eq!(
        (body["source_lang"].as_str(), body["target_lang"].as_str()),
        (Some("FA"), Some("EN-GB"))
    );
    assert_eq!(
        p.cache_options(),
        "v2;split_sentences=nonewlines;preserve_formatting=false;languages=en:EN-GB"
    );
    assert_eq!(
        provider(&emu.url(), Some(KEY)).cache_options(),
        "v2;split_sentences=nonewlines;preserve_formatting=false"
    );
}

/// The mapping table through the public API (the config map comes first).
#[test]
fn language_code_table() {
    let p = provider("http://127.0.0.1:9", Some(KEY));
    let table: Vec<String> = [
        "ar", "fa", "en", "en-gb", "pt", "pt-pt", "zh-hans", "zh-hant", "de",
    ]
    .iter()
    .map(|c| format!("{c}: {} / {}", p.code(c, false), p.code(c, true)))
    .collect();
    assert_eq!(
        table,
        [
            "ar: AR / AR",
            "fa: FA / FA",
            "en: EN / EN-US",
            "en-gb: EN / EN-GB",
            "pt: PT / PT-BR",
            "pt-pt: PT / PT-PT",
            "zh-hans: ZH / ZH-HANS",
            "zh-hant: ZH / ZH-HANT",
            "de: DE / DE",
        ]
    );
}

// ------------------------------------------------------------------- limits

#[test]
fn limits_are_clamped_to_50_texts_and_a_body_that_fits_128_kib() {
    let mut s = settings("http://127.0.0.1:9");
    s.max_texts = 60;
    s.max_chars = 500_000;
    let p = Provider::new("deepl", &s, Some(ApiKey::new(KEY))).unwrap();
    assert_eq!((p.limits().max_texts, p.limits().max_chars), (50, 32_000));
    assert_eq!(batch_limits(&s), p.limits());
    // Smaller settings stand.
    s.max_texts = 10;
    s.max_chars = 4_000;
    assert_eq!(
        (batch_limits(&s).max_texts, batch_limits(&s).max_chars),
        (10, 4_000)
    );
    // The shipped table is within the limits already.
    let shipped = batch_limits(&settings("http://127.0.0.1:9"));
    assert_eq!((shipped.max_texts, shipped.max_chars), (50, 32_000));
}

#[tokio::test]
async fn oversized_batches_are_refused_before_sending() {
    let emu = DeeplEmu::start(KEY).await;
    let p = provider(&emu.url(), Some(KEY));
    let sixty: Vec<String> = (0..60).map(|i| format!("نص رقم {i}")).collect();
    let e = p.translate("ar", "en", &sixty).await.unwrap_err();
    assert!(
        matches!(e, ProviderError::BadRequest(ref m) if m.contains("60 texts")),
        "{e:?}"
    );
    // Control characters are 6 bytes each in JSON: 25,000 of them overflow 128 KiB.
    let controls = vec!["\u{1}".repeat(25_000)];
    let e = p.translate("ar", "en", &controls).await.unwrap_err();
    assert!(
        matches!(e, ProviderError::BadRequest(ref m) if m.contains("131072")),
        "{e:?}"
    );
    assert_eq!(emu.requests().len(), 0, "nothing was sent");
}

/// The emulator itself enforces DeepL's documented limits with 413.
#[tokio::test]
async fn emulator_answers_413_over_the_limits() {
    let emu = DeeplEmu::start(KEY).await;
    let client = common::client::http();
    let post = |body: serde_json::Value| {
        client
            .post(format!("{}/v2/translate", emu.url()))
            .header("authorization", format!("DeepL-Auth-Key {KEY}"))
            .json(&body)
            .send()
    };
    let many: Vec<String> = (0..51).map(|i| i.to_string()).collect();
    let r = post(serde_json::json!({"text": many, "target_lang": "EN-US"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let big = vec!["x".repeat(deepl_emu::MAX_BODY_BYTES)];
    let r = post(serde_json::json!({"text": big, "target_lang": "EN-US"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let r = post(serde_json::json!({"text": ["a"], "target_lang": "EN"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "bare EN is not a target");
    let r = post(serde_json::json!({"text": ["a"], "target_lang": "EN-US", "source_lang": "AR"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
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
                retry_after: Some(3),
            },
            "RateLimited(Some(3))",
        ),
        (Behaviour::Quota456, "QuotaExhausted"),
        (Behaviour::Busy529, "Transient"),
        (Behaviour::Status500, "Transient"),
        (
            Behaviour::Status {
                code: 504,
                message: "Gateway Timeout".into(),
            },
            "Transient",
        ),
        (
            Behaviour::Status {
                code: 400,
                message: "Bad request".into(),
            },
            "BadRequest",
        ),
        (
            Behaviour::Status {
                code: 413,
                message: "Request Entity Too Large".into(),
            },
            "BadRequest",
        ),
        (Behaviour::Malformed, "Malformed"),
        (Behaviour::WrongCount, "Malformed"),
        (Behaviour::Echo, "Ok(2)"),
        (Behaviour::Normal, "Ok(2)"),
    ];
    let emu = DeeplEmu::start(KEY).await;
    let p = provider(&emu.url(), Some(KEY));
    for (b, expected) in cases {
        emu.push(b.clone());
        let r = p.translate("ar", "en", &texts(&["واحد", "اثنان"])).await;
        assert_eq!(class(&r), expected, "{b:?}: {r:?}");
    }
}

#[tokio::test]
async fn quota_and_refused_key_messages_say_what_happened() {
    let emu = DeeplEmu::start(KEY).await;
    emu.push(Behaviour::Quota456);
    let p = provider(&emu.url(), Some(KEY));
    let e = p
        .translate("ar", "en", &texts(&["واحد"]))
        .await
        .unwrap_err();
    let m = e.to_string();
    assert!(
        m.starts_with("quota exhausted: HTTP 456: Quota Exceeded"),
        "{m}"
    );
    assert!(m.contains("character quota is used up"), "{m}");

    let wrong = provider(&emu.url(), Some("not-the-key:fx"));
    let e = wrong
        .translate("ar", "en", &texts(&["واحد"]))
        .await
        .unwrap_err();
    assert!(matches!(e, ProviderError::AuthFailed(_)), "{e:?}");
    assert!(e.to_string().contains("DeepL refused the key"), "{e}");

    // No key: refused locally, nothing sent.
    let before = emu.requests().len();
    let none = provider(&emu.url(), None);
    let e = none
        .translate("ar", "en", &texts(&["واحد"]))
        .await
        .unwrap_err();
    assert!(
        matches!(e, ProviderError::AuthFailed(ref m) if m.contains("no DeepL key")),
        "{e:?}"
    );
    assert!(matches!(
        none.health().await,
        Err(ProviderError::AuthFailed(_))
    ));
    assert_eq!(emu.requests().len(), before);
}

#[tokio::test]
async fn the_character_quota_is_enforced_with_456() {
    let emu = DeeplEmu::start(KEY).await;
    emu.set_character_limit(10);
    let p = provider(&emu.url(), Some(KEY));
    assert_eq!(
        class(&p.translate("ar", "en", &texts(&["واحد"])).await),
        "Ok(1)"
    );
    let r = p
        .translate("ar", "en", &texts(&["هذا نص أطول من الحد"]))
        .await;
    assert_eq!(class(&r), "QuotaExhausted");
    assert_eq!(emu.character_count(), 4);
}

/// Every status through the classifier, as one table. Edit on purpose.
#[tokio::test]
async fn status_table() {
    let cases: &[(u16, &str)] = &[
        (200, r#"{"translations": [{"text": 5}]}"#),
        (200, r#"{"translations": []}"#),
        (200, "<html>proxy</html>"),
        (
            400,
            r#"{"message": "Value for 'target_lang' not supported."}"#,
        ),
        (401, ""),
        (
            403,
            r#"{"message": "Wrong endpoint. Use https://api-free.deepl.com"}"#,
        ),
        (404, r#"{"message": "Not found"}"#),
        (408, "timeout"),
        (413, r#"{"message": "Request Entity Too Large"}"#),
        (414, "URI Too Long"),
        (429, r#"{"message": "Too many requests"}"#),
        (456, r#"{"message": "Quota Exceeded"}"#),
        (500, r#"{"message": "Internal error"}"#),
        (502, "bad gateway"),
        (503, "unavailable"),
        (504, "gateway timeout"),
        (529, r#"{"message": "Too many requests"}"#),
    ];
    let mut table = String::new();
    for (status, body) in cases {
        let server = RawServer::reply(Reply::text(*status, *body)).await;
        let p = provider(&server.url(), Some(KEY));
        let r = p.translate("ar", "en", &texts(&["واحد"])).await;
        table.push_str(&format!("{status} {body} -> {}\n", class(&r)));
    }
    let expected = r#"200 {"translations": [{"text": 5}]} -> Malformed
200 {"translations": []} -> Malformed
200 <html>proxy</html> -> Malformed
400 {"message": "Value for 'target_lang' not supported."} -> BadRequest
401  -> AuthFailed
403 {"message": "Wrong endpoint. Use https://api-free.deepl.com"} -> AuthFailed
404 {"message": "Not found"} -> BadRequest
408 timeout -> Transient
413 {"message": "Request Entity Too Large"} -> BadRequest
414 URI Too Long -> BadRequest
429 {"message": "Too many requests"} -> RateLimited(None)
456 {"message": "Quota Exceeded"} -> QuotaExhausted
500 {"message": "Internal error"} -> Transient
502 bad gateway -> Transient
503 unavailable -> Transient
504 gateway timeout -> Transient
529 {"message": "Too many requests"} -> Transient
"#;
    assert_eq!(table, expected);
}

// ---------------------------------------------------- languages, health, hosts

#[tokio::test]
async fn health_reports_the_character_quota() {
    let emu = DeeplEmu::start(KEY).await;
    let p = provider(&emu.url(), Some(KEY));
    p.translate("ar", "en", &texts(&["سلام", "مرحبا"]))
        .await
        .unwrap();
    let Health { detail, quota } = p.health().await.unwrap();
    assert_eq!(quota, Some((9, 500_000)));
    assert!(
        detail.starts_with("GET /v2/usage on a DeepL-compatible server at http://127.0.0.1:"),
        "{detail}"
    );
    assert!(
        detail.ends_with("9 of 500000 characters used this period"),
        "{detail}"
    );
    let last = emu.requests().pop().unwrap();
    assert_eq!(
        (last.method.as_str(), last.path.as_str()),
        ("GET", "/v2/usage")
    );

    let wrong = provider(&emu.url(), Some("other"));
    assert!(matches!(
        wrong.health().await,
        Err(ProviderError::AuthFailed(_))
    ));
}

/// `endpoint = "auto"` (the shipped value) picks the host from the key.
#[test]
fn auto_endpoint_picks_free_or_pro_from_the_key() {
    let shipped = Config::builtin().providers["deepl"].clone();
    assert_eq!(shipped.endpoint, "auto");
    let host = |key: Option<&str>| {
        Provider::new("deepl", &shipped, key.map(ApiKey::new))
            .unwrap()
            .endpoint()
            .to_string()
    };
    assert_eq!(host(Some("0123-4567:fx")), "https://api-free.deepl.com");
    assert_eq!(host(Some("0123-4567:fx\n")), "https://api-free.deepl.com");
    assert_eq!(host(Some("0123-4567")), "https://api.deepl.com");
    assert_eq!(host(None), "https://api.deepl.com");
    // An explicit endpoint is kept whatever the key.
    let p = provider("http://127.0.0.1:9", Some("0123:fx"));
    assert_eq!(p.endpoint(), "http://127.0.0.1:9");
}

// ------------------------------------------------------------------ secrets

// ------------------------------------------------------------ the whole binary

fn deepl_cmd(s: &Scratch, emu: &DeeplEmu, inputs: &[&Path]) -> assert_cmd::Command {
    let mut c = s.cmd(inputs);
    c.env("DEEPL_AUTH_KEY", KEY)
        .args(["--provider", "deepl", "--endpoint", &emu.url()]);
    c
}

/// `max_texts = 60` in the config: 120 paragraphs still go 50 at most per request.
#[test]
fn binary_never_sends_more_than_50_texts_in_one_request() {
    let s = Scratch::with_config(|c| c.replace("max_texts = 50", "max_texts = 60"));
    let input = s.dir.path().join("in");
    fs_err::create_dir_all(&input).unwrap();
    let words = [
        "الاقتصاد",
        "السياسة",
        "الثقافة",
        "الرياضة",
        "العلوم",
        "الصحة",
    ];
    let paragraphs: Vec<String> = (0..120)
        .map(|i| {
            format!(
                "هذه هي الفقرة {i} من المقال، وهي تتحدث عن {} و{} في المنطقة العربية اليوم.",
                words[i % 6],
                words[(i / 6) % 6]
            )
        })
        .collect();
    fs_err::write(input.join("long.txt"), paragraphs.join("\n\n")).unwrap();
    let emu = DeeplEmu::spawn_blocking_runtime(KEY);
    deepl_cmd(&s, &emu, &[&input]).assert().code(0);

    let sizes: Vec<usize> = emu
        .translate_requests()
        .iter()
        .map(|r| deepl_emu::texts(r).len())
        .collect();
    assert_eq!(sizes.iter().sum::<usize>(), 120, "{sizes:?}");
    assert_eq!(sizes.iter().max(), Some(&50), "{sizes:?}");
    assert_eq!(sizes.len(), 3, "{sizes:?}");
    assert_eq!(s.report().untranslated, 0);
}

#[test]
fn binary_without_a_key_sends_nothing_and_names_the_variable() {
    let s = Scratch::new();
    let emu = DeeplEmu::spawn_blocking_runtime(KEY);
    let mut c = s.cmd(&[&seeds()]);
    c.env_remove("DEEPL_AUTH_KEY")
        .args(["--provider", "deepl", "--endpoint", &emu.url()])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("DEEPL_AUTH_KEY"));
    assert_eq!(emu.requests().len(), 0);
}
