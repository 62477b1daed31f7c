//! What every provider must do, checked once over every emulator
//! (`common::matrix`): a hung server times out as a retryable failure; the language
//! pair is checked before any text is sent; no message, log line or `Debug` ever
//! holds the key; the whole binary translates the seeds within the service's limits;
//! and a spent quota ends the run with exit 3 and a clear message, or, in a chain,
//! sends the paragraphs to the next service. What is particular to one API (its
//! request shape, its status table) stays in its own `tests/it/provider_*.rs`.

use crate::common;

use std::collections::HashSet;
use std::path::Path;

use common::client::{assert_hang_is_transient, closed_port, shipped, texts};
use common::emulator::{Api, Emulator, fake_translate};
use common::harness::{Scratch, seeds};
use common::matrix::{CASES, Case, Emu, Seen, case};
use common::server::{RawServer, Reply, Request};
use predicates::prelude::*;
use tarjama::config::Config;
use tarjama::model::ProviderState;
use tarjama::provider::{Provider, ProviderError, batch_limits};
use tarjama::secret::ApiKey;

/// Whitespace-collapsed, for a paragraph joined from its pieces.
fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn provider(case: Case, endpoint: &str, timeout: Option<f64>) -> Provider {
    let mut s = shipped(case.name, endpoint);
    if let Some(t) = timeout {
        s.timeout_secs = t;
    }
    Provider::new(case.name, &s, case.key.map(ApiKey::new)).unwrap()
}

// --------------------------------------------------------------------------- hang

/// A server that accepts the request and never answers: `Transient` (retried), in
/// bounded time, for every provider.
#[tokio::test]
async fn a_hung_server_times_out_as_transient() {
    for case in CASES {
        let emu = Emu::spawn(case);
        emu.hang();
        assert_hang_is_transient(
            case.name,
            shipped(case.name, &emu.url()),
            case.key,
            case.sample,
        )
        .await;
    }
}

// ---------------------------------------------------------------------- pair check

/// A languages request: method, path, and query pairs it must carry.
type Asked = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// One provider's pair check: what it accepts, what it refuses (and a word of the
/// refusal), and the languages requests it makes (method, path, query pairs it must
/// carry); once per run whatever the number of checks, never a translate request.
struct PairCheck {
    name: &'static str,
    ok: &'static [(&'static str, &'static str)],
    refused: &'static [(&'static str, &'static str, &'static str)],
    asked: &'static [Asked],
}

const PAIR_CHECKS: [PairCheck; 9] = [
    PairCheck {
        name: "mymemory",
        ok: &[("ar", "en"), ("fa", "en")],
        refused: &[],
        asked: &[],
    },
    PairCheck {
        name: "libretranslate",
        ok: &[("ar", "en"), ("fa", "en")],
        refused: &[("ar", "xx", "ar → xx")],
        asked: &[("GET", "/languages", &[])],
    },
    PairCheck {
        name: "deepl",
        ok: &[("ar", "en"), ("fa", "en")],
        refused: &[("ku", "en", "KU → EN-US"), ("ar", "ja", "→ JA")],
        asked: &[
            ("GET", "/v2/languages", &[("type", "source")]),
            ("GET", "/v2/languages", &[("type", "target")]),
        ],
    },
    PairCheck {
        name: "google",
        ok: &[("ar", "en"), ("fa", "en")],
        refused: &[("ku", "en", "ku → en")],
        asked: &[("GET", "/language/translate/v2/languages", &[])],
    },
    PairCheck {
        name: "azure",
        ok: &[("ar", "en"), ("fa", "en"), ("prs", "en"), ("ar", "zh-hans")],
        refused: &[("ar", "xx", "ar → xx")],
        asked: &[(
            "GET",
            "/languages",
            &[("api-version", "3.0"), ("scope", "translation")],
        )],
    },
    PairCheck {
        name: "apertium",
        ok: &[("es", "en"), ("en", "es")],
        refused: &[("ar", "en", "→ eng"), ("fa", "en", "→ eng")],
        asked: &[("GET", "/listPairs", &[])],
    },
    PairCheck {
        name: "openai",
        ok: &[("fa", "en"), ("ar", "xx")],
        refused: &[],
        asked: &[],
    },
    PairCheck {
        name: "edge",
        ok: &[("ar", "en"), ("fa", "en")],
        refused: &[],
        asked: &[],
    },
    PairCheck {
        name: "google-web",
        ok: &[("ar", "en"), ("fa", "en")],
        refused: &[],
        asked: &[],
    },
];

#[tokio::test]
async fn the_pair_is_checked_before_any_text_is_sent() {
    for check in &PAIR_CHECKS {
        let case = case(check.name);
        let emu = Emu::spawn(case);
        let p = provider(case, &emu.url(), None);
        for (from, to, said) in check.refused {
            let e = p.check_pair(from, to).await.unwrap_err();
            assert!(
                matches!(&e, ProviderError::UnsupportedPair(m) if m.contains(said)),
                "{}: {from} → {to}: {e:?}",
                check.name
            );
        }
        for (from, to) in check.ok {
            p.check_pair(from, to)
                .await
                .unwrap_or_else(|e| panic!("{}: {from} → {to}: {e}", check.name));
        }
        let seen = emu.requests();
        assert_eq!(seen.len(), check.asked.len(), "{}: {seen:?}", check.name);
        for (r, (method, path, query)) in seen.iter().zip(check.asked) {
            assert_eq!((r.method.as_str(), r.path.as_str()), (*method, *path));
            for (k, v) in *query {
                assert_eq!(r.query_param(k), Some(*v), "{}: {r:?}", check.name);
            }
        }
        assert!(
            emu.translate_requests().is_empty(),
            "{}: translated",
            check.name
        );
        // Where the key goes on a languages call: DeepL's header, Google's query;
        // Azure's languages endpoint takes none.
        for r in &seen {
            match check.name {
                "deepl" => assert_eq!(
                    r.header("authorization"),
                    Some(format!("DeepL-Auth-Key {}", case.key.unwrap()).as_str())
                ),
                "google" => assert_eq!(r.query_param("key"), case.key),
                "azure" => assert!(r.header("ocp-apim-subscription-key").is_none()),
                _ => {}
            }
        }
    }
}

// ----------------------------------------------------------------------------- keys

/// What a server that echoes the whole request would put in its error: the method,
/// the URL (host, query and all), every other header and the body.
fn echo(req: &Request) -> String {
    let headers: Vec<String> = (req.headers.iter())
        .filter(|(k, _)| *k != "host")
        .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap_or("")))
        .collect();
    let host = (req.headers.get("host"))
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    format!(
        "you sent {} http://{host}{} {} {}",
        req.method,
        req.uri,
        headers.join(", "),
        String::from_utf8_lossy(&req.body)
    )
}

/// A server echoing the request into every field an error parser reads, with
/// `status`; with 200, a junk body where the echo straddles the 80-character excerpt
/// a `Malformed` message quotes.
async fn echo_server(status: u16) -> RawServer {
    RawServer::reply_with(move |req: &Request| {
        let said = echo(req);
        if status == 200 {
            return Reply::text(200, format!("{} {said}", ".".repeat(50)));
        }
        Reply::json(
            status,
            &serde_json::json!({
                "message": said,
                "error": {"code": u32::from(status) * 1000, "message": said},
                "responseDetails": said,
                "responseStatus": status,
                "explanation": said,
            }),
        )
    })
    .await
}

/// The key, as is or percent-encoded, never reaches an error message or a
/// provider's `Debug`, whether the server echoes the request (its header, its URL,
/// its body) in an error or a junk 200, or the transport fails (a hang, a closed
/// port); and the key's place shows as `****`.
#[tokio::test]
async fn no_message_ever_holds_the_key() {
    for case in CASES.iter().filter(|c| c.key.is_some()) {
        let key = case.key.unwrap();
        let encoded: String = url::form_urlencoded::byte_serialize(key.as_bytes()).collect();
        let mut messages = Vec::new();
        for status in [200, 400, 401, 403, 404, 413, 429, 456, 500, 502, 503, 529] {
            let server = echo_server(status).await;
            let p = provider(*case, &server.url(), None);
            let (from, text) = case.sample;
            messages.push(p.translate(from, "en", &texts(&[text])).await.unwrap_err());
            messages.extend(p.health().await.err());
            messages.extend(p.check_pair(from, "en").await.err());
            let debug = format!("{p:?}");
            assert!(
                !debug.contains(key) && debug.contains("ApiKey(****)"),
                "{}: {debug}",
                case.name
            );
        }
        let emu = Emu::spawn(*case);
        emu.hang();
        let closed = format!("http://127.0.0.1:{}", closed_port().await);
        for endpoint in [emu.url(), closed] {
            let p = provider(*case, &endpoint, Some(0.2));
            let (from, text) = case.sample;
            messages.push(p.translate(from, "en", &texts(&[text])).await.unwrap_err());
        }
        for e in &messages {
            for shown in [e.to_string(), format!("{e:?}")] {
                assert!(
                    !shown.contains(key) && !shown.contains(&encoded),
                    "{}: {shown}",
                    case.name
                );
                assert!(
                    !shown.contains("SeCrEt") && !shown.contains("5eCr3t"),
                    "{}: {shown}",
                    case.name
                );
            }
        }
        // The echo did reach the messages, with the key's place masked.
        let marker = match case.name {
            "deepl" => "DeepL-Auth-Key ****",
            "google" | "mymemory" => "key=****",
            "openai" => "Bearer ****",
            _ => "****",
        };
        assert!(
            messages.iter().any(|e| e.to_string().contains(marker)),
            "{}: no `{marker}` in {messages:?}",
            case.name
        );
    }
}

// ---------------------------------------------------------------------------- seeds

/// The whole binary on the seeds through `case` alone (`--provider`, `--endpoint`).
fn run(s: &Scratch, case: Case, emu: &Emu, inputs: &[&Path]) -> assert_cmd::Command {
    let mut c = s.cmd(inputs);
    c.args(["--provider", case.name, "--endpoint", &emu.url()]);
    if let (Some(env), Some(key)) = (case.key_env, case.key) {
        c.env(env, key);
    }
    c
}

/// What is particular to each service's requests on the seeds.
fn check_request(name: &str, r: &Seen, key: Option<&str>) {
    match name {
        "mymemory" => {
            assert_eq!(r.method, "GET");
            assert!(r.query_param("q").unwrap().len() <= 500);
            assert_eq!(r.query_param("key"), key);
        }
        "libretranslate" => {
            let body = r.body.as_ref().unwrap();
            assert!(body["q"].is_array() && body["format"] == "text");
            assert_eq!(body["api_key"].as_str(), key);
        }
        "deepl" => {
            assert_eq!(r.body.as_ref().unwrap()["target_lang"], "EN-US");
            assert_eq!(
                r.header("authorization"),
                Some(format!("DeepL-Auth-Key {}", key.unwrap()).as_str())
            );
        }
        "google" => {
            let body = r.body.as_ref().unwrap();
            assert_eq!(
                (body["format"].as_str(), body["target"].as_str()),
                (Some("text"), Some("en"))
            );
            assert_eq!(r.query_param("key"), key);
        }
        "azure" => {
            assert_eq!(r.header("ocp-apim-subscription-key"), key);
            assert!(r.header("ocp-apim-subscription-region").is_none());
            assert_eq!(r.query_param("to"), Some("en"));
        }
        "openai" => {
            assert!(r.system.as_ref().unwrap().contains("into English"));
            assert_eq!(
                r.header("authorization"),
                Some(format!("Bearer {}", key.unwrap()).as_str())
            );
        }
        "edge" => {
            assert_eq!(r.method, "POST");
            assert_eq!(r.query_param("to"), Some("en"));
            assert_eq!(r.query_param("isEnterpriseClient"), Some("false"));
            assert_eq!(r.header("content-type"), Some("application/json"));
        }
        "google-web" => {
            assert_eq!(r.method, "POST");
            assert_eq!(r.query_param("client"), Some("dict-chrome-ex"));
            assert_eq!(r.query_param("tl"), Some("en"));
            assert_eq!(r.query_param("q"), None, "a text in the URL");
        }
        other => panic!("{other}"),
    }
}

/// Every provider that translates Arabic and Persian (all but Apertium, which has no
/// such pair; `tests/it/apertium_real.rs` runs a real server) translates the seeds end
/// to end: every content paragraph, each request within the service's limits, the
/// Persian seed sent as Persian, the English line not sent, the key nowhere in what
/// the run prints.
#[test]
fn the_seeds_are_translated_through_every_provider() {
    for case in CASES.iter().copied().filter(|c| c.name != "apertium") {
        let s = Scratch::new();
        let emu = Emu::spawn(case);
        let out = run(&s, case, &emu, &[&seeds()])
            .assert()
            .code(0)
            .get_output()
            .clone();
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if let Some(key) = case.key {
            assert!(!printed.contains(key), "{}: {printed}", case.name);
        }
        let report = s.report();
        assert_eq!(
            (report.documents, report.untranslated),
            (5, 0),
            "{}: {report:?}",
            case.name
        );
        assert!(report.translated > 60, "{}: {report:?}", case.name);
        let rows = s.all_rows();
        assert_eq!(
            rows.iter().filter(|r| r.target.is_some()).count(),
            report.translated
        );
        for r in &rows {
            assert_eq!(r.provider, case.name, "{r:?}");
            if let Some(t) = &r.target {
                assert_eq!(squash(t), squash(&fake_translate(&r.source)), "{r:?}");
            }
        }
        let en = rows
            .iter()
            .find(|r| r.source.starts_with("Summarize this content to 2000 words"))
            .unwrap();
        assert_eq!((en.src_lang.as_str(), en.target.as_ref()), ("en", None));
        assert_eq!(en.flags, ["same_language"]);

        let requests = emu.translate_requests();
        assert!(!requests.is_empty(), "{}", case.name);
        let limits = batch_limits(&Config::builtin().providers[case.name]);
        let mut sources = HashSet::new();
        for r in &requests {
            let chars: usize = r.texts.iter().map(|t| t.chars().count()).sum();
            assert!(
                !r.texts.is_empty()
                    && r.texts.len() <= limits.max_texts
                    && chars <= limits.max_chars,
                "{}: {} texts, {chars} characters",
                case.name,
                r.texts.len()
            );
            assert!(!r.texts.iter().any(|t| t.contains("Summarize")));
            sources.insert(r.from.clone().unwrap_or_default());
            check_request(case.name, r, case.key);
        }
        assert_eq!(
            sources,
            HashSet::from(["ar".to_string(), "fa".to_string()]),
            "{}",
            case.name
        );
    }
}

// ---------------------------------------------------------------------------- quota

/// What each service's spent quota says (for the undocumented services, what their
/// repeated bare 429s become: a block), and the flag its rows get.
fn quota_words(name: &str) -> (&'static [&'static str], ProviderState, &'static str) {
    const QUOTA: ProviderState = ProviderState::Quota;
    const BLOCKED: ProviderState = ProviderState::Blocked;
    match name {
        "mymemory" => (
            &["quota exhausted", "MYMEMORY WARNING", "50,000"],
            QUOTA,
            "quota_exhausted",
        ),
        "libretranslate" => (
            &["quota exhausted", "Too many request limits violations"],
            QUOTA,
            "quota_exhausted",
        ),
        "deepl" => (
            &["quota exhausted", "character quota is used up"],
            QUOTA,
            "quota_exhausted",
        ),
        "google" => (
            &["quota exhausted", "dailyLimitExceeded"],
            QUOTA,
            "quota_exhausted",
        ),
        "azure" => (&["quota exhausted", "403001"], QUOTA, "quota_exhausted"),
        "openai" => (
            &["quota exhausted", "insufficient_quota"],
            QUOTA,
            "quota_exhausted",
        ),
        "edge" | "google-web" => (
            &["blocked", "429 without Retry-After"],
            BLOCKED,
            "provider_error",
        ),
        other => panic!("{other}"),
    }
}

/// Alone, a provider whose quota is spent stops at once (a request or two in flight
/// at most), keeps nothing it did not translate, and the run exits 3 with one
/// message saying so; in a chain, the next service takes its paragraphs and the run
/// exits 0.
#[test]
fn a_spent_quota_ends_in_exit_3_or_goes_to_the_next_service() {
    for case in CASES.iter().copied().filter(|c| c.name != "apertium") {
        let (words, state, flag) = quota_words(case.name);
        let s = Scratch::new();
        let emu = Emu::spawn(case);
        assert!(emu.spend_quota());
        let out = run(&s, case, &emu, &[&seeds()])
            .assert()
            .code(3)
            .get_output()
            .clone();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(stderr.matches("error:").count(), 1, "{stderr}");
        // The closing message: the `error:` line and the ways to finish after it.
        let message = &stderr[stderr.find("error:").unwrap()..];
        assert!(
            message.starts_with("error: 72 paragraphs are left untranslated"),
            "{message}"
        );
        assert!(message.contains("rerun later"), "{message}");
        for word in words {
            assert!(
                message.contains(word),
                "{}: `{word}` missing: {message}",
                case.name
            );
        }
        if let Some(key) = case.key {
            assert!(!stderr.contains(key), "{stderr}");
        }
        let sent = emu.translate_requests().len();
        let most = if case.name == "openai" { 2 } else { 4 };
        assert!((1..=most).contains(&sent), "{}: {sent} requests", case.name);
        let rows = s.all_rows();
        assert!(rows.iter().all(|r| r.target.is_none()), "{}", case.name);
        assert!(
            rows.iter().any(|r| r.flags.iter().any(|f| f == flag)),
            "{}: no `{flag}` row",
            case.name
        );
        let report = s.report();
        assert_eq!(report.translated, 0);
        assert_eq!(report.providers.len(), 1);
        assert_eq!(
            (report.providers[0].name.as_str(), report.providers[0].state),
            (case.name, state)
        );

        // The same, with LibreTranslate (or MyMemory, after LibreTranslate) next in
        // the chain: it takes every paragraph.
        let next = if case.name == "libretranslate" {
            (Api::MyMemory, "mymemory")
        } else {
            (Api::LibreTranslate, "libretranslate")
        };
        let other = Emulator::spawn_blocking_runtime(next.0);
        let shipped_at = |name: &str| Config::builtin().providers[name].endpoint.clone();
        let (mine, theirs) = (emu.url(), other.url());
        let (mine_at, theirs_at) = (shipped_at(case.name), shipped_at(next.1));
        let s = Scratch::with_config(move |c| {
            c.replace(
                &format!("endpoint = \"{mine_at}\""),
                &format!("endpoint = \"{mine}\""),
            )
            .replace(
                &format!("endpoint = \"{theirs_at}\""),
                &format!("endpoint = \"{theirs}\""),
            )
        });
        let mut c = s.cmd(&[&seeds()]);
        c.args(["--provider", &format!("{},{}", case.name, next.1)]);
        if let (Some(env), Some(key)) = (case.key_env, case.key) {
            c.env(env, key);
        }
        c.assert()
            .code(0)
            .stderr(predicates::str::contains(format!("note: {}", case.name)));
        let rows = s.all_rows();
        assert!(rows.iter().filter(|r| r.target.is_some()).count() > 60);
        assert!(
            rows.iter()
                .filter(|r| r.target.is_some())
                .all(|r| r.provider == next.1),
            "{}",
            case.name
        );
        let states: Vec<(String, ProviderState)> = (s.report().providers.into_iter())
            .map(|p| (p.name, p.state))
            .collect();
        assert_eq!(
            states,
            [
                (case.name.to_string(), state),
                (next.1.to_string(), ProviderState::Ok)
            ]
        );
    }
}

// ------------------------------------------------------------------------ listing

/// `translate providers` lists all nine built-in services, the default chain first,
/// the two undocumented ones marked `unofficial`, and no key.
#[test]
fn providers_lists_all_nine_and_marks_the_unofficial_ones() {
    let out = assert_cmd::Command::cargo_bin("translate")
        .unwrap()
        .env("TARJAMA_NO_KEYRING", "1")
        .env("DEEPL_AUTH_KEY", "sk-list-TOPSECRET-1")
        .arg("providers")
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.starts_with("default chain: mymemory → edge → google-web"),
        "{text}"
    );
    for case in CASES {
        assert!(
            text.contains(&format!("\n  kind:      {}\n", case.name)),
            "{} missing:\n{text}",
            case.name
        );
    }
    for line in [
        "\nmymemory (default)\n",
        "\nedge (default, unofficial)\n",
        "\ngoogle-web (default, unofficial)\n",
        "\ndeepl\n",
        "\nopenai\n",
    ] {
        assert!(text.contains(line), "{line:?} missing:\n{text}");
    }
    assert_eq!(text.matches("unofficial)").count(), 2, "{text}");
    assert!(text.contains("\nunofficial: an undocumented browser service"));
    assert!(text.contains("; not used by this service"));
    assert!(!text.contains("TOPSECRET"));
}

/// `translate providers --check NAME` answers for every service against its
/// emulator (one cheap call: a languages, usage or models endpoint, or a
/// five-character translation), and says `FAILED` with a hint when the service
/// blocks us.
#[test]
fn providers_check_answers_for_every_service() {
    for case in CASES {
        let emu = Emu::spawn(case);
        let shipped = Config::builtin().providers[case.name].endpoint.clone();
        let s = Scratch::with_config(|c| {
            c.replace(
                &format!("endpoint = \"{shipped}\""),
                &format!("endpoint = \"{}\"", emu.url()),
            )
        });
        let mut c = assert_cmd::Command::cargo_bin("translate").unwrap();
        c.env("TARJAMA_NO_KEYRING", "1")
            .args(["providers", "--check", case.name, "--config"])
            .arg(&s.config);
        if let (Some(env), Some(key)) = (case.key_env, case.key) {
            c.env(env, key);
        }
        let out = c.assert().code(0).get_output().stdout.clone();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with(&format!("{}: ok (", case.name)),
            "{}: {text}",
            case.name
        );
    }
    let emu = Emu::spawn(case("google-web"));
    if let Emu::GoogleWeb(e) = &emu {
        e.set_mode(common::google_web_emu::Behaviour::Sorry429);
    }
    let s = Scratch::with_config(|c| c.replace("https://clients5.google.com", &emu.url()));
    assert_cmd::Command::cargo_bin("translate")
        .unwrap()
        .env("TARJAMA_NO_KEYRING", "1")
        .args(["providers", "--check", "google-web", "--config"])
        .arg(&s.config)
        .assert()
        .code(3)
        .stdout(
            predicates::str::contains("google-web: FAILED")
                .and(predicates::str::contains("blocked"))
                .and(predicates::str::contains("hint:")),
        );
}
