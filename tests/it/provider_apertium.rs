//! Apertium APY against its local emulator (and a raw server for odd answers): request
//! shape, one text per request, the ISO 639-3 code table, every error class, and
//! health. The real server is tested in `tests/it/apertium_real.rs`; the hang and the
//! pair check before any translation, with every provider's, in `tests/it/provider_matrix.rs`.

use crate::common;

use common::apertium_emu::{ApertiumEmulator, Behaviour, text as logged_text};
use common::client::class;
use common::server::{RawServer, Reply};
use serde_json::json;
use tarjama::config::ProviderSettings;
use tarjama::provider::{Provider, ProviderError};

/// The shipped `[providers.apertium]`, pointed at `endpoint`, with short timeouts.
fn settings(endpoint: &str) -> ProviderSettings {
    common::client::shipped("apertium", endpoint)
}

fn provider(endpoint: &str) -> Provider {
    Provider::new("apertium", &settings(endpoint), None).unwrap()
}

fn one(t: &str) -> Vec<String> {
    vec![t.to_string()]
}

#[tokio::test]
async fn request_is_one_form_encoded_post_in_three_letter_codes() {
    let emu = ApertiumEmulator::start().await;
    let p = provider(&emu.url());
    let got = p
        .translate("es", "en", &one("El gobierno de la ciudad xyzzy"))
        .await
        .unwrap();
    // markUnknown=no: the unknown word comes back without APY's `*`.
    assert_eq!(got, ["The government of the city xyzzy"]);
    let reqs = emu.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/translate"));
    assert!(r.query.is_empty(), "nothing in the URL: {:?}", r.query);
    assert_eq!(
        r.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert!(r.header("user-agent").unwrap().starts_with("tarjama/"));
    assert_eq!(
        r.body.as_ref().unwrap(),
        &json!({
            "q": "El gobierno de la ciudad xyzzy",
            "langpair": "spa|eng",
            "markUnknown": "no",
            "format": "txt"
        })
    );
    assert_eq!(logged_text(r), Some("El gobierno de la ciudad xyzzy"));
}

#[tokio::test]
async fn one_text_per_request_whatever_the_config_says() {
    let emu = ApertiumEmulator::start().await;
    let mut s = settings(&emu.url());
    (s.max_texts, s.max_chars, s.max_bytes_per_text) = (25, 4000, 0);
    let p = Provider::new("apertium", &s, None).unwrap();
    let l = p.limits();
    assert_eq!(
        (l.max_texts, l.max_chars, l.max_bytes_per_text),
        (1, 4000, None)
    );
    assert_eq!(tarjama::provider::batch_limits(&s), l);
    assert_eq!(p.cache_options(), "markUnknown=no;format=txt");
    let e = p
        .translate("es", "en", &["la casa".to_string(), "el plan".to_string()])
        .await
        .unwrap_err();
    assert!(matches!(e, ProviderError::BadRequest(_)), "{e:?}");
    assert!(emu.requests().is_empty(), "nothing sent");
}

/// Our codes → APY's ISO 639-3 codes, through the public `Provider::code`.
#[test]
fn code_table() {
    let p = provider("http://127.0.0.1:9");
    let pairs = [
        ("ar", "ara"),
        ("fa", "pes"),
        ("en", "eng"),
        ("es", "spa"),
        ("fr", "fra"),
        ("de", "deu"),
        ("it", "ita"),
        ("pt", "por"),
        ("ca", "cat"),
        ("ru", "rus"),
        ("tr", "tur"),
        ("ur", "urd"),
        ("gl", "glg"),
        ("eu", "eus"),
        ("oc", "oci"),
        ("nb", "nob"),
        ("pt-br", "por_BR"),
        ("en-us", "eng_US"),
        ("spa", "spa"),
        ("xx", "xx"),
    ];
    let got: Vec<(&str, String)> = pairs.iter().map(|(o, _)| (*o, p.code(o, false))).collect();
    let want: Vec<(&str, String)> = pairs.iter().map(|(o, t)| (*o, t.to_string())).collect();
    assert_eq!(got, want);

    let mut s = settings("http://127.0.0.1:9");
    s.languages.insert("fa".into(), "fas".into());
    let p = Provider::new("apertium", &s, None).unwrap();
    assert_eq!(p.code("fa", false), "fas", "the config's map comes first");
    assert_eq!(
        p.cache_options(),
        "markUnknown=no;format=txt;languages=fa:fas"
    );
}

/// Every scripted answer through the classifier, as one table.
#[tokio::test]
async fn every_failure_is_classified() {
    let cases: Vec<(Behaviour, &str)> = vec![
        (Behaviour::not_installed(), "UnsupportedPair"),
        (
            Behaviour::Error {
                status: 400,
                explanation: "That pair is invalid, use e.g. eng|spa".into(),
            },
            "UnsupportedPair",
        ),
        (
            Behaviour::Error {
                status: 400,
                explanation: "Missing argument q".into(),
            },
            "BadRequest",
        ),
        (Behaviour::Status503, "Transient"),
        (
            Behaviour::Error {
                status: 500,
                explanation: "Unexpected condition on server.".into(),
            },
            "Transient",
        ),
        (Behaviour::Malformed, "Malformed"),
        (Behaviour::NoText, "Malformed"),
        (Behaviour::Normal, "Ok(1)"),
    ];
    let emu = ApertiumEmulator::start().await;
    let p = provider(&emu.url());
    let mut table = String::new();
    let mut expected = String::new();
    for (b, want) in cases {
        emu.push(b.clone());
        let r = p.translate("es", "en", &one("la casa")).await;
        table.push_str(&format!("{b:?} -> {}\n", class(&r)));
        expected.push_str(&format!("{b:?} -> {want}\n"));
    }
    assert_eq!(table, expected);
}

/// Asking for a pair the server lacks (Arabic: no Apertium pair to English) gets
/// APY's own 400, kept word for word.
#[tokio::test]
async fn a_pair_the_server_lacks_is_unsupported() {
    let emu = ApertiumEmulator::start().await;
    let p = provider(&emu.url());
    let e = p
        .translate("ar", "en", &one("السلام عليكم"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, ProviderError::UnsupportedPair(ref m) if m.contains("That pair is not installed")),
        "{e:?}"
    );
    let r = &emu.translate_requests()[0];
    assert_eq!(r.body.as_ref().unwrap()["langpair"], "ara|eng");
}

/// Answers APY itself never gives but a proxy in front of it might.
#[tokio::test]
async fn status_table() {
    let cases: Vec<(u16, &str, &str)> = vec![
        (
            200,
            r#"{"responseData":{"translatedText":"the house"},"responseStatus":200}"#,
            "Ok(1)",
        ),
        (200, r#"{"responseData":{"translatedText":5}}"#, "Malformed"),
        (200, "[]", "Malformed"),
        (
            400,
            r#"{"status":"error","code":400,"message":"That pair is not installed"}"#,
            "UnsupportedPair",
        ),
        (400, "bad", "BadRequest"),
        (401, "Unauthorized", "AuthFailed"),
        (403, "Forbidden", "AuthFailed"),
        (
            404,
            r#"{"status":"error","code":404,"message":"Not Found","explanation":"Resource requested does not exist. URL may have been mistyped"}"#,
            "BadRequest",
        ),
        (408, "timeout", "Transient"),
        (429, "Too Many Requests", "RateLimited(None)"),
        (502, "<html>bad gateway</html>", "Transient"),
        (
            503,
            r#"{"status":"error","code":503,"message":"Service Unavailable","explanation":"internal error"}"#,
            "Transient",
        ),
    ];
    let mut table = String::new();
    let mut expected = String::new();
    for (status, body, want) in cases {
        let server = RawServer::reply(Reply::text(status, body)).await;
        let r = provider(&server.url())
            .translate("es", "en", &one("la casa"))
            .await;
        table.push_str(&format!("{status} {body} -> {}\n", class(&r)));
        expected.push_str(&format!("{status} {body} -> {want}\n"));
    }
    assert_eq!(table, expected);
}

#[tokio::test]
async fn health_lists_the_pairs_briefly() {
    let emu = ApertiumEmulator::start().await;
    let p = provider(&emu.url());
    let h = p.health().await.unwrap();
    assert_eq!(h.detail, "GET /listPairs: 2 pairs: spa→eng, eng→spa");
    assert_eq!(h.quota, None);

    let many: Vec<(String, String)> = (0..12)
        .map(|i| (format!("l{i:02}"), "eng".into()))
        .collect();
    let refs: Vec<(&str, &str)> = many.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    emu.set_pairs(&refs);
    let h = p.health().await.unwrap();
    assert!(
        h.detail.starts_with("GET /listPairs: 12 pairs: l00→eng, "),
        "{}",
        h.detail
    );
    assert!(h.detail.ends_with("l07→eng, … 4 more"), "{}", h.detail);
    emu.set_pairs(&[]);
    assert_eq!(
        p.health().await.unwrap().detail,
        "GET /listPairs: 0 pairs: none"
    );
    assert!(
        emu.translate_requests().is_empty(),
        "health translates nothing"
    );
}

#[tokio::test]
async fn an_unreachable_server_is_reported_by_health() {
    let port = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    let p = provider(&format!("http://127.0.0.1:{port}"));
    assert_eq!(
        p.health().await.unwrap_err(),
        ProviderError::Unreachable(format!("127.0.0.1:{port}"))
    );
}
