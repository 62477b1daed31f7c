//! A local emulator of Apertium APY (checked against APY 0.11.7),
//! in the style of [`super::emulator`]: a [`Server`] (axum on `127.0.0.1:0`, scripted
//! behaviours, a request log) speaking the [`Apertium`] protocol.
//!
//! - `GET|POST /translate` with `q`, `langpair=src|tgt` (three-letter codes, or the
//!   two-letter ones APY converts), `markUnknown` (default `yes`: unknown words come
//!   back as `*word`), `format`; arguments are read from the query string and, for
//!   POST, a form body, as Tornado's `get_argument` does. Answer
//!   `{"responseData": {"translatedText"}, "responseDetails": null, "responseStatus": 200}`.
//! - `GET /listPairs` → `{"responseData": [{"sourceLanguage", "targetLanguage"}], …}`;
//!   logged but never consumes the script.
//!
//! Errors are APY's `{"status": "error", "code", "message": <reason phrase>,
//! "explanation"}`: 400 "Missing argument q", "That pair is invalid, use e.g.
//! eng|spa", "That pair is not installed"; 503 "internal error". The "translation" is a
//! small word-for-word Spanish ↔ English dictionary, the way Apertium leaves unknown
//! words untranslated.

use std::time::Instant;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::server::{Core, Protocol, Request, Server, form_body, html_ok, text_body};

pub use super::emulator::Logged;

/// Spanish → English words the emulator knows (and the reverse for eng → spa).
const WORDS: &[(&str, &str)] = &[
    ("el", "the"),
    ("la", "the"),
    ("los", "the"),
    ("las", "the"),
    ("de", "of"),
    ("del", "of the"),
    ("gobierno", "government"),
    ("ciudad", "city"),
    ("casa", "house"),
    ("nuevo", "new"),
    ("plan", "plan"),
    ("y", "and"),
    ("en", "in"),
    ("un", "a"),
    ("una", "a"),
    ("hoy", "today"),
];

/// What the emulator does with one `/translate` request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Translate word by word.
    Normal,
    /// APY's error body with this status and explanation.
    Error {
        /// HTTP status.
        status: u16,
        /// APY's `explanation`.
        explanation: String,
    },
    /// 503 "internal error": the pipeline timed out.
    Status503,
    /// HTTP 200 with a body that is not JSON.
    Malformed,
    /// HTTP 200, JSON without `responseData.translatedText`.
    NoText,
    /// Never answer (until the emulator drops).
    Hang,
}

impl Behaviour {
    /// 400 "That pair is not installed" for whatever pair is asked.
    pub fn not_installed() -> Behaviour {
        Behaviour::Error {
            status: 400,
            explanation: "That pair is not installed".into(),
        }
    }
}

/// A running emulator; stops when dropped.
pub type ApertiumEmulator = Server<Apertium>;

/// The APY protocol.
pub struct Apertium;

/// The installed pairs (three-letter codes).
pub type Pairs = Vec<(String, String)>;

impl ApertiumEmulator {
    fn pairs() -> Pairs {
        vec![("spa".into(), "eng".into()), ("eng".into(), "spa".into())]
    }

    /// Start on the current tokio runtime, with the pairs `spa→eng` and `eng→spa`.
    pub async fn start() -> ApertiumEmulator {
        Server::launch(Apertium, Behaviour::Normal, ApertiumEmulator::pairs()).await
    }

    /// Start on a runtime of its own in a background thread (for tests that run the
    /// binary).
    pub fn spawn_blocking_runtime() -> ApertiumEmulator {
        Server::launch_blocking(Apertium, Behaviour::Normal, ApertiumEmulator::pairs())
    }

    /// Replace the installed pairs (three-letter codes).
    pub fn set_pairs(&self, pairs: &[(&str, &str)]) {
        self.core().script().settings = pairs
            .iter()
            .map(|(s, t)| ((*s).to_string(), (*t).to_string()))
            .collect();
    }

    /// The `/translate` requests only.
    pub fn translate_requests(&self) -> Vec<Logged> {
        (self.requests().into_iter())
            .filter(|r| r.path == "/translate")
            .collect()
    }
}

impl Protocol for Apertium {
    type Behaviour = Behaviour;
    type Log = Logged;
    type Settings = Pairs;

    fn log(req: &Request) -> Logged {
        let body = &req.body;
        let parsed = if body.is_empty() {
            None
        } else if (req.content_type()).starts_with("application/x-www-form-urlencoded") {
            Some(form_body(body))
        } else {
            Some(text_body(body))
        };
        Logged::new(req, parsed)
    }

    fn arrived(log: &Logged) -> Option<Instant> {
        Some(log.at)
    }

    async fn handle(s: &Core<Apertium>, req: &Request, logged: &Logged) -> Response {
        match (req.method.as_str(), req.uri.path()) {
            ("GET", "/listPairs") => list_pairs(s),
            ("GET" | "POST", "/translate") => translate(s, logged).await,
            _ => apy_error(
                404,
                "Resource requested does not exist. URL may have been mistyped",
            ),
        }
    }
}

fn list_pairs(s: &Core<Apertium>) -> Response {
    let pairs: Vec<Value> = (s.script().settings.iter())
        .map(|(a, b)| json!({"sourceLanguage": a, "targetLanguage": b}))
        .collect();
    let body = json!({"responseData": pairs, "responseDetails": null, "responseStatus": 200});
    axum::Json(body).into_response()
}

/// An argument from the query string or, for POST, the form body.
fn argument<'a>(req: &'a Logged, name: &str) -> Option<&'a str> {
    req.query_param(name).or_else(|| {
        req.body
            .as_ref()
            .and_then(|b| b.get(name))
            .and_then(Value::as_str)
    })
}

/// The text a logged `/translate` request asked for.
pub fn text(req: &Logged) -> Option<&str> {
    argument(req, "q")
}

async fn translate(s: &Core<Apertium>, req: &Logged) -> Response {
    let (behaviour, pairs) = {
        let mut sc = s.script();
        let b = sc.queue.pop_front().unwrap_or_else(|| sc.mode.clone());
        (b, sc.settings.clone())
    };
    let Some(langpair) = argument(req, "langpair") else {
        return apy_error(400, "Missing argument langpair");
    };
    let Some(q) = argument(req, "q") else {
        return apy_error(400, "Missing argument q");
    };
    let codes: Vec<String> = langpair.split('|').map(alpha3).collect();
    let [from, to] = codes.as_slice() else {
        return apy_error(400, "That pair is invalid, use e.g. eng|spa");
    };
    if !pairs.iter().any(|(a, b)| a == from && b == to) {
        return apy_error(400, "That pair is not installed");
    }
    match behaviour {
        Behaviour::Error {
            status,
            explanation,
        } => return apy_error(status, &explanation),
        Behaviour::Status503 => return apy_error(503, "internal error"),
        Behaviour::Hang => {
            s.wait_closed().await;
            return apy_error(503, "internal error");
        }
        Behaviour::Malformed => {
            return html_ok("<html>proxy error</html>");
        }
        Behaviour::NoText => {
            return axum::Json(json!({"responseData": {}, "responseStatus": 200})).into_response();
        }
        Behaviour::Normal => {}
    }
    let mark = argument(req, "markUnknown")
        .is_none_or(|m| ["yes", "true", "1"].contains(&m.to_ascii_lowercase().as_str()));
    let translated = word_for_word(q, from == "spa", mark);
    let body = json!({
        "responseData": {"translatedText": translated},
        "responseDetails": null,
        "responseStatus": 200
    });
    axum::Json(body).into_response()
}

/// APY's two → three letter conversion for the codes the emulator knows.
fn alpha3(code: &str) -> String {
    match code {
        "es" => "spa",
        "en" => "eng",
        "ar" => "ara",
        "fa" => "pes",
        other => other,
    }
    .to_string()
}

/// Each word through [`WORDS`]; unknown words kept, marked `*` when `mark`.
fn word_for_word(text: &str, spa_to_eng: bool, mark: bool) -> String {
    let words: Vec<String> = text
        .split(' ')
        .map(|w| {
            let core = w.trim_matches(|c: char| !c.is_alphanumeric());
            if core.is_empty() {
                return w.to_string();
            }
            let lower = core.to_lowercase();
            let found = WORDS.iter().find_map(|(es, en)| {
                let (from, to) = if spa_to_eng { (es, en) } else { (en, es) };
                (*from == lower).then_some(*to)
            });
            match found {
                Some(t) if core.starts_with(char::is_uppercase) => {
                    let mut chars = t.chars();
                    let capital: String = chars
                        .next()
                        .into_iter()
                        .flat_map(char::to_uppercase)
                        .chain(chars)
                        .collect();
                    w.replacen(core, &capital, 1)
                }
                Some(t) => w.replacen(core, t, 1),
                None if mark => w.replacen(core, &format!("*{core}"), 1),
                None => w.to_string(),
            }
        })
        .collect();
    words.join(" ")
}

/// APY's error body (`base.py` `write_error`).
pub fn apy_error(status: u16, explanation: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({
        "status": "error",
        "code": status,
        "message": code.canonical_reason().unwrap_or("Unknown"),
        "explanation": explanation,
    });
    (code, axum::Json(body)).into_response()
}
