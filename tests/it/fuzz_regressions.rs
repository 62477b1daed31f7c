//! Every crash `cargo fuzz` found (`fuzz/run.sh`), fed back as an ordinary test. Each
//! input is the artifact's bytes, decoded as the fuzz target does (`fuzz/src/lib.rs`:
//! byte 0 the status, byte 1 the number of texts, byte 2 unused, the rest the body).

use tarjama::provider::ProviderError;
use tarjama::provider::fuzz::{self, KEY};

/// `fuzz_reply` of one provider.
type Classify = fn(u16, &str, &[String]) -> Result<Vec<String>, ProviderError>;

fn texts(n: usize) -> Vec<String> {
    (1..=n).map(|k| format!("نص رقم {k}")).collect()
}

fn assert_no_key(classify: Classify, status: u16, body: &str, sent: usize) {
    let e = classify(status, body, &texts(sent)).expect_err("not a translation");
    let message = e.to_string();
    assert!(!message.contains(KEY), "{message}");
    assert!(
        message.contains("****"),
        "the key's place is marked: {message}"
    );
}

/// fuzz/artifacts/reply_deepl/crash-0f8c2add…: a 200 body that is a JSON string
/// holding the key. serde's error quotes the string, and the message was not
/// scrubbed, so the key reached the error (and the terminal and logs).
#[test]
fn deepl_malformed_200_quoting_the_key() {
    let body = format!("a \"mess&l<th{KEY}ink>e\":\"}}");
    assert_no_key(fuzz::deepl, 200, &body, 1);
}

/// fuzz/artifacts/reply_google/crash-b3c34401…: the same through Google's parser.
#[test]
fn google_malformed_200_quoting_the_key() {
    let body = format!("\"dranslation{KEY}st\":\"Hel\u{FFFD}\"Hello\",\"de\"error\"\0d\"}}]}}}}");
    assert_no_key(fuzz::google, 200, &body, 2);
}

/// The same shape for every other parser that quotes serde errors.
#[test]
fn no_parser_quotes_the_key_from_a_malformed_200() {
    let body = format!("\"{KEY}\"");
    for (name, classify) in [
        ("libretranslate", fuzz::libretranslate as Classify),
        ("deepl", fuzz::deepl),
        ("google", fuzz::google),
        ("azure", fuzz::azure),
        ("apertium", fuzz::apertium),
        ("openai", fuzz::openai),
        ("edge", fuzz::edge),
        ("google-web", fuzz::google_web),
    ] {
        let message = classify(200, &body, &texts(1)).unwrap_err().to_string();
        assert!(!message.contains(KEY), "{name}: {message}");
    }
}

/// fuzz/artifacts/reply_mymemory/crash-eadadafc…: HTTP status 0 with a body saying
/// `responseStatus: 200` was taken as a translation. Only HTTP 200 is a success.
#[test]
fn mymemory_in_body_200_does_not_make_a_non_200_answer_a_success() {
    let body = r#"{"responseData":{"translatedText":"Hello","match":1},"quotaFinished":false,"responseDetails":"","responseStatus":200,"matches":[]}"#;
    assert_eq!(
        fuzz::mymemory(200, body, &texts(1)),
        Ok(vec!["Hello".to_owned()])
    );
    for status in [0, 204, 302, 403, 404] {
        assert!(
            fuzz::mymemory(status, body, &texts(1)).is_err(),
            "HTTP {status}"
        );
    }
}
