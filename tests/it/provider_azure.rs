//! Azure AI Translator v3 against its local emulator (and a raw server for odd bodies):
//! request shape, limits, parsing, every error code, the languages reply, health,
//! the code table, and the binary splitting what the service finds too big. What
//! every provider shares (a hang, the pair check, the key never in a message, the
//! seeds, a spent quota) is checked over all of them in `tests/it/provider_matrix.rs`.

use crate::common;

use common::azure_emu::{AzureEmulator, Behaviour, fake_translate, texts as logged_texts};
use common::client::{class, texts};
use common::harness::{Scratch, seeds};
use common::server::{RawServer, Reply};
use serde_json::json;
use tarjama::config::ProviderSettings;
use tarjama::provider::{Provider, ProviderError};
use tarjama::secret::ApiKey;

const KEY: &str = "AzUrE-SeCrEt-0123456789abcdef";
const REGION: &str = "westeurope";

/// The shipped `[providers.azure]`, pointed at `endpoint`, with short timeouts.
fn settings(endpoint: &str) -> ProviderSettings {
    common::client::shipped("azure", endpoint)
}

fn provider(endpoint: &str, key: Option<&str>) -> Provider {
    Provider::new("azure", &settings(endpoint), key.map(ApiKey::new)).unwrap()
}

// ------------------------------------------------------------------ request shape

#[tokio::test]
async fn request_is_one_json_array_with_key_and_region_headers() {
    let emu = AzureEmulator::start().await;
    emu.require_key(KEY);
    emu.require_region(REGION);
    let mut s = settings(&emu.url());
    s.region = Some(REGION.into());
    let p = Provider::new("azure", &s, Some(ApiKey::new(KEY))).unwrap();
    let sent = texts(&["السلام عليكم", "کتاب خوب است", "already English"]);
    let got = p.translate("ar", "en", &sent).await.unwrap();
    let want: Vec<String> = sent.iter().map(|t| fake_translate(t)).collect();
    assert_eq!(got, want);

    let reqs = emu.requests();
    assert_eq!(reqs.len(), 1, "one exchange for the whole batch");
    let r = &reqs[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/translate"));
    let query: Vec<(&str, &str)> = (r.query.iter())
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        query,
        [("api-version", "3.0"), ("from", "ar"), ("to", "en")]
    );
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=UTF-8")
    );
    assert_eq!(r.header("ocp-apim-subscription-key"), Some(KEY));
    assert_eq!(r.header("ocp-apim-subscription-region"), Some(REGION));
    assert!(r.header("user-agent").unwrap().starts_with("tarjama/"));
    assert!(r.header("authorization").is_none());
    assert_eq!(
        r.body.as_ref().unwrap(),
        &json!([{"Text": "السلام عليكم"}, {"Text": "کتاب خوب است"}, {"Text": "already English"}])
    );
}

#[tokio::test]
async fn region_and_key_headers_are_sent_only_when_set() {
    let emu = AzureEmulator::start().await;
    for region in [None, Some(String::new()), Some("  ".to_string())] {
        let mut s = settings(&emu.url());
        s.region = region;
        let p = Provider::new("azure", &s, None).unwrap();
        p.translate("fa", "en", &texts(&["سلام"])).await.unwrap();
    }
    for r in emu.requests() {
        assert!(r.header("ocp-apim-subscription-region").is_none(), "{r:?}");
        assert!(r.header("ocp-apim-subscription-key").is_none(), "{r:?}");
        assert_eq!(r.query_param("from"), Some("fa"));
    }
}

#[tokio::test]
async fn missing_or_wrong_key_or_region_is_an_auth_failure() {
    let emu = AzureEmulator::start().await;
    emu.require_key(KEY);
    emu.require_region(REGION);
    let mut s = settings(&emu.url());
    s.region = Some(REGION.into());
    for key in [None, Some("wrong")] {
        let p = Provider::new("azure", &s, key.map(ApiKey::new)).unwrap();
        let e = p
            .translate("ar", "en", &texts(&["واحد"]))
            .await
            .unwrap_err();
        assert!(
            matches!(e, ProviderError::AuthFailed(ref m) if m.contains("401000")),
            "{e:?}"
        );
    }
    s.region = None;
    let p = Provider::new("azure", &s, Some(ApiKey::new(KEY))).unwrap();
    let e = p
        .translate("ar", "en", &texts(&["واحد"]))
        .await
        .unwrap_err();
    assert!(matches!(e, ProviderError::AuthFailed(_)), "{e:?}");
}

#[tokio::test]
async fn config_language_map_comes_before_the_code_table() {
    let emu = AzureEmulator::start().await;
    let mut s = settings(&emu.url());
    s.languages.insert("fa".into(), "prs".into());
    let p = Provider::new("azure", &s, None).unwrap();
    p.translate("fa", "zh-hans", &texts(&["سلام"]))
        .await
        .unwrap();
    let r = &emu.requests()[0];
    assert_eq!(
        (r.query_param("from"), r.query_param("to")),
        (Some("prs"), Some("zh-Hans"))
    );
    assert_eq!(
        p.cache_options(),
        "api-version=3.0;textType=plain;languages=fa:prs"
    );
}

/// Our codes → Azure's, through the public `Provider::code`.
#[test]
fn code_table() {
    let p = provider("http://127.0.0.1:9", None);
    let table: Vec<(&str, String)> = [
        "ar", "fa", "prs", "en", "de", "zh-hans", "zh-hant", "zh-cn", "zh-tw", "pt-br", "pt-pt",
        "fr-ca", "sr-latn", "no", "iw", "ur",
    ]
    .into_iter()
    .map(|c| (c, p.code(c, false)))
    .collect();
    let expected: Vec<(&str, String)> = [
        ("ar", "ar"),
        ("fa", "fa"),
        ("prs", "prs"),
        ("en", "en"),
        ("de", "de"),
        ("zh-hans", "zh-Hans"),
        ("zh-hant", "zh-Hant"),
        ("zh-cn", "zh-Hans"),
        ("zh-tw", "zh-Hant"),
        ("pt-br", "pt"),
        ("pt-pt", "pt-PT"),
        ("fr-ca", "fr-CA"),
        ("sr-latn", "sr-Latn"),
        ("no", "nb"),
        ("iw", "he"),
        ("ur", "ur"),
    ]
    .into_iter()
    .map(|(a, b)| (a, b.to_string()))
    .collect();
    assert_eq!(table, expected);
    assert_eq!(p.code("en", true), "en");
}

// ------------------------------------------------------------------------ limits

#[test]
fn limits_are_clamped_to_the_service_limits() {
    let shipped = provider("http://127.0.0.1:9", None).limits();
    assert_eq!(
        (
            shipped.max_texts,
            shipped.max_chars,
            shipped.max_bytes_per_text
        ),
        (100, 10_000, None)
    );
    let mut s = settings("http://127.0.0.1:9");
    (s.max_texts, s.max_chars, s.max_bytes_per_text) = (5_000, 200_000, 3_000);
    let l = Provider::new("azure", &s, None).unwrap().limits();
    assert_eq!(
        (l.max_texts, l.max_chars, l.max_bytes_per_text),
        (1_000, 50_000, Some(3_000))
    );
    assert_eq!(
        tarjama::provider::batch_limits(&s),
        l,
        "the settings-only path agrees"
    );
    let p = Provider::new("azure", &s, None).unwrap();
    assert_eq!(p.cache_options(), "api-version=3.0;textType=plain");
}

/// What the service refuses for size is a `BadRequest`, so the pipeline splits.
#[tokio::test]
async fn oversized_requests_are_bad_requests() {
    let emu = AzureEmulator::start().await;
    emu.set_max_chars(10);
    let p = provider(&emu.url(), None);
    let cases: Vec<(Vec<String>, &str)> = vec![
        (texts(&["abcdefghijk"]), "400050"),
        (texts(&["abcdef", "ghijkl"]), "400077"),
        (vec!["a".to_string(); 1001], "400072"),
    ];
    for (sent, code) in cases {
        let e = p.translate("ar", "en", &sent).await.unwrap_err();
        assert!(
            matches!(e, ProviderError::BadRequest(ref m) if m.contains(code)),
            "{code}: {e:?}"
        );
    }
    assert_eq!(
        class(&p.translate("ar", "en", &texts(&["abcde", "fghij"])).await),
        "Ok(2)"
    );
}

// ----------------------------------------------------------------------- parsing

/// `detectedLanguage` per element (sent when `from` is omitted) is accepted, and the
/// translation into the requested `to` is picked.
#[tokio::test]
async fn per_element_detected_language_and_several_translations_parse() {
    let server = RawServer::reply(Reply::json(
        200,
        &json!([
            {"detectedLanguage": {"language": "ar", "score": 1.0},
             "translations": [{"text": "Peace be upon you", "to": "en"}]},
            {"detectedLanguage": {"language": "fa", "score": 0.82},
             "translations": [{"text": "Buch", "to": "de"}, {"text": "Book", "to": "en"}]}
        ]),
    ))
    .await;
    let p = provider(&server.url(), None);
    let got = p
        .translate("ar", "en", &texts(&["السلام عليكم", "کتاب"]))
        .await
        .unwrap();
    assert_eq!(got, ["Peace be upon you", "Book"]);
}

#[tokio::test]
async fn odd_bodies_and_statuses_table() {
    let cases: Vec<(u16, &str, &str)> = vec![
        (
            200,
            r#"[{"translations":[{"text":"a","to":"en"}]}]"#,
            "Ok(1)",
        ),
        (200, r#"[{"translations":[]}]"#, "Malformed"),
        (200, r#"[{"translations":[{"text":"a"}]}]"#, "Ok(1)"),
        (200, r#"[]"#, "Malformed"),
        (200, r#"{"translations":[{"text":"a"}]}"#, "Malformed"),
        (
            200,
            r#"{"error":{"code":403001,"message":"quota"}}"#,
            "Malformed",
        ),
        (200, "<html>proxy</html>", "Malformed"),
        (
            403,
            r#"{"error":{"code":"403001","message":"quota"}}"#,
            "QuotaExhausted",
        ),
        (
            400,
            r#"{"error":{"code":400999,"message":"new"}}"#,
            "BadRequest",
        ),
        (
            429,
            r#"{"error":{"code":429999,"message":"new"}}"#,
            "RateLimited(None)",
        ),
        (503, r#"{"error":{"code":42,"message":"odd"}}"#, "Transient"),
        (401, "Unauthorized", "AuthFailed"),
        (403, "Forbidden", "AuthFailed"),
        (404, "<html>not found</html>", "BadRequest"),
        (408, "timeout", "Transient"),
        (413, "too large", "BadRequest"),
        (429, "slow down", "RateLimited(None)"),
        (502, "bad gateway", "Transient"),
    ];
    let mut table = String::new();
    let mut expected = String::new();
    for (status, body, want) in cases {
        let server = RawServer::reply(Reply::text(status, body)).await;
        let p = provider(&server.url(), None);
        let r = p.translate("ar", "en", &texts(&["واحد"])).await;
        table.push_str(&format!("{status} {body} -> {}\n", class(&r)));
        expected.push_str(&format!("{status} {body} -> {want}\n"));
    }
    assert_eq!(table, expected);
}

// ------------------------------------------------------------------- error codes

/// Every scripted answer of the emulator through the classifier, as one table: stop
/// (auth, quota), wait (429xxx, with `Retry-After` when sent), split (400xxx), refuse
/// the pair, retry (408001, 5xx), malformed.
#[tokio::test]
async fn every_error_code_is_classified() {
    let err = |code: u32, retry_after: Option<u64>| Behaviour::Error { code, retry_after };
    let cases: Vec<(Behaviour, &str)> = vec![
        (err(401_000, None), "AuthFailed"),
        (err(401_015, None), "AuthFailed"),
        (err(403_000, None), "AuthFailed"),
        (err(403_001, None), "QuotaExhausted"),
        (err(429_000, None), "RateLimited(None)"),
        (err(429_001, Some(7)), "RateLimited(Some(7))"),
        (err(429_002, Some(0)), "RateLimited(Some(0))"),
        (err(400_050, None), "BadRequest"),
        (err(400_072, None), "BadRequest"),
        (err(400_077, None), "BadRequest"),
        (err(400_000, None), "BadRequest"),
        (err(400_036, None), "UnsupportedPair"),
        (err(408_001, None), "Transient"),
        (err(500_000, None), "Transient"),
        (err(503_000, None), "Transient"),
        (Behaviour::Malformed, "Malformed"),
        (Behaviour::WrongCount, "Malformed"),
        (Behaviour::Normal, "Ok(2)"),
    ];
    let emu = AzureEmulator::start().await;
    let p = provider(&emu.url(), Some(KEY));
    let mut table = String::new();
    let mut expected = String::new();
    for (b, want) in cases {
        emu.push(b.clone());
        let r = p.translate("ar", "en", &texts(&["واحد", "اثنان"])).await;
        table.push_str(&format!("{b:?} -> {}\n", class(&r)));
        expected.push_str(&format!("{b:?} -> {want}\n"));
    }
    assert_eq!(table, expected);
    // The message keeps the code and the server's words.
    emu.push(Behaviour::code(403_001));
    let e = p
        .translate("ar", "en", &texts(&["واحد"]))
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains(
            "403001): The operation isn't allowed because the subscription exceeded its free quota"
        ),
        "{e}"
    );
}

#[tokio::test]
async fn an_unknown_language_sent_anyway_is_an_unsupported_pair() {
    let emu = AzureEmulator::start().await;
    let p = provider(&emu.url(), None);
    let e = p.translate("xx", "en", &texts(&["a"])).await.unwrap_err();
    assert!(
        matches!(e, ProviderError::UnsupportedPair(ref m) if m.contains("400035")),
        "{e:?}"
    );
}

// ------------------------------------------------------- languages and health

#[tokio::test]
async fn languages_reply_that_is_not_the_documented_object_is_malformed() {
    let server = RawServer::reply(Reply::json(200, &json!(["ar", "en"]))).await;
    let p = provider(&server.url(), None);
    let e = p.check_pair("ar", "en").await.unwrap_err();
    assert!(matches!(e, ProviderError::Malformed(_)), "{e:?}");
}

#[tokio::test]
async fn health_lists_languages_and_proves_the_key_with_one_tiny_translation() {
    let emu = AzureEmulator::start().await;
    emu.require_key(KEY);
    let p = provider(&emu.url(), Some(KEY));
    let h = p.health().await.unwrap();
    assert_eq!(h.quota, None);
    assert!(h.detail.contains("10 languages"), "{}", h.detail);
    assert!(
        h.detail.contains("does not report the remaining quota"),
        "{}",
        h.detail
    );
    let t = emu.translate_requests();
    assert_eq!(t.len(), 1);
    assert_eq!(
        (t[0].query_param("from"), t[0].query_param("to")),
        (Some("en"), Some("de"))
    );
    assert_eq!(logged_texts(&t[0]), ["hello"]);

    let wrong = provider(&emu.url(), Some("wrong"));
    assert!(matches!(
        wrong.health().await,
        Err(ProviderError::AuthFailed(_))
    ));
    emu.push(Behaviour::code(403_001));
    assert!(matches!(
        p.health().await,
        Err(ProviderError::QuotaExhausted(_))
    ));
}

// --------------------------------------------------------------------- secrets

// ---------------------------------------------------------------- whole binary

fn azure_cmd(s: &Scratch, emu: &AzureEmulator) -> assert_cmd::Command {
    let mut c = s.cmd(&[&seeds()]);
    c.env("AZURE_TRANSLATOR_KEY", KEY)
        .args(["--provider", "azure", "--endpoint", &emu.url()]);
    c
}

/// A request the service finds too big (400077) is split by the pipeline and the run
/// still translates everything.
#[test]
fn binary_splits_batches_the_service_refuses_as_too_big() {
    let s = Scratch::new();
    let emu = AzureEmulator::spawn_blocking_runtime();
    emu.set_max_chars(2_500);
    azure_cmd(&s, &emu).assert().code(0);
    let reqs = emu.translate_requests();
    let big = reqs
        .iter()
        .filter(|r| {
            logged_texts(r)
                .iter()
                .map(|t| t.chars().count())
                .sum::<usize>()
                > 2_500
        })
        .count();
    assert!(big > 0, "no batch was over the emulated limit");
    assert_eq!(s.report().untranslated, 0);
}
