//! A local emulator of Microsoft Edge's keyless page translator, in the style of
//! [`super::emulator`]: a [`Server`] (axum on `127.0.0.1:0`, scripted behaviours, a
//! request log) speaking the [`Edge`] protocol as its known clients use it (see
//! docs/providers.md for the sources).
//!
//! - `POST /translate/translatetext?from=ar&to=en&isEnterpriseClient=false`, JSON
//!   array of strings as the body → `[{"translations": [{"text", "to"}]}]`, one
//!   element per text, with `detectedLanguage` per element when `from` is empty (as
//!   Microsoft Translator v3, which serves it, does). The "translation" is
//!   [`fake_translate`].
//! - Microsoft Translator's checks and error bodies (`{"error": {"code": 6-digit,
//!   "message"}}`, HTTP status = code / 1000): `to` missing or unknown (400036),
//!   `from` unknown (400035), a body that is not an array of strings (400074), more
//!   than 1,000 texts (400072), more than 50,000 characters (400077).
//! - Modes: working; blocked, as Bing's and Edge's throttling answers
//!   (`{"StatusCode": 429, "ShowCaptcha": true}`, with HTTP 429 or 200); quota: what
//!   an undocumented service gives when its unpublished limit is reached, HTTP 429
//!   without `Retry-After` ([`Behaviour::Quota`]), also reached by itself once
//!   [`EdgeEmu::set_character_limit`] characters have been served; and the failures
//!   every emulator has (500, malformed, wrong count, echo, hang).

use std::time::Instant;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub use super::emulator::{Logged, fake_translate};
use super::server::{Core, Protocol, Request, Server, malformed};

/// The translate path.
pub const PATH: &str = "/translate/translatetext";
/// Microsoft Translator's most texts per request.
pub const MAX_TEXTS: usize = 1_000;
/// Microsoft Translator's most characters per request.
pub const MAX_CHARS: usize = 50_000;
/// Languages the emulator translates.
pub const LANGUAGES: &[&str] = &["ar", "de", "en", "es", "fa", "fr", "zh-Hans"];

/// What the emulator does with one translate request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Translate with [`fake_translate`].
    Normal,
    /// `{"StatusCode": 429, "ShowCaptcha": true}` with HTTP 429.
    Captcha429,
    /// The same with HTTP 200.
    Captcha200,
    /// HTTP 429 with Microsoft's 429001 body and no `Retry-After`.
    Quota,
    /// HTTP 500 (Microsoft's 500000).
    Status500,
    /// HTTP 200 with a body that is not JSON.
    Malformed,
    /// HTTP 200, one element fewer than sent.
    WrongCount,
    /// The texts back unchanged.
    Echo,
    /// Never answer (until the emulator drops).
    Hang,
}

/// A running emulator; stops when dropped.
pub type EdgeEmu = Server<Edge>;

/// The Edge protocol.
pub struct Edge;

/// Characters served, and the limit after which every request gets [`Behaviour::Quota`].
#[derive(Default)]
pub struct Usage {
    served: u64,
    limit: Option<u64>,
}

impl EdgeEmu {
    /// Start on the current tokio runtime.
    pub async fn start() -> EdgeEmu {
        Server::launch(Edge, Behaviour::Normal, Usage::default()).await
    }

    /// Start on a runtime of its own in a background thread (for tests that run the
    /// binary).
    pub fn spawn_blocking_runtime() -> EdgeEmu {
        Server::launch_blocking(Edge, Behaviour::Normal, Usage::default())
    }

    /// Answer [`Behaviour::Quota`] once a request would take the characters served
    /// past `limit` (`None`: no limit, the default).
    pub fn set_character_limit(&self, limit: Option<u64>) {
        self.core().script().settings.limit = limit;
    }

    /// Characters translated so far.
    pub fn characters_served(&self) -> u64 {
        self.core().script().settings.served
    }

    /// The translate requests only.
    pub fn translate_requests(&self) -> Vec<Logged> {
        (self.requests().into_iter())
            .filter(|r| r.path == PATH)
            .collect()
    }

    /// Every text received for translation, in order.
    pub fn texts_received(&self) -> Vec<String> {
        self.translate_requests().iter().flat_map(texts).collect()
    }
}

/// The texts of a logged translate request (its JSON array body).
pub fn texts(r: &Logged) -> Vec<String> {
    match r.body.as_ref() {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

impl Protocol for Edge {
    type Behaviour = Behaviour;
    type Log = Logged;
    type Settings = Usage;

    fn log(req: &Request) -> Logged {
        Logged::json(req)
    }

    fn arrived(log: &Logged) -> Option<Instant> {
        Some(log.at)
    }

    async fn handle(s: &Core<Edge>, _req: &Request, logged: &Logged) -> Response {
        match (logged.method.as_str(), logged.path.as_str()) {
            ("POST", PATH) => translate(s, logged).await,
            _ => (StatusCode::NOT_FOUND, "Not Found").into_response(),
        }
    }
}

async fn translate(s: &Core<Edge>, req: &Logged) -> Response {
    let b = s.next();
    match b {
        Behaviour::Hang => {
            s.wait_closed().await;
            return error(503_000, "emulator closed");
        }
        Behaviour::Captcha429 => return captcha(StatusCode::TOO_MANY_REQUESTS),
        Behaviour::Captcha200 => return captcha(StatusCode::OK),
        Behaviour::Quota => return quota(),
        Behaviour::Status500 => return error(500_000, "An unexpected error occurred."),
        Behaviour::Malformed => return malformed(),
        Behaviour::Normal | Behaviour::WrongCount | Behaviour::Echo => {}
    }
    let known = |c: &str| LANGUAGES.iter().any(|l| l.eq_ignore_ascii_case(c));
    match req.query_param("to") {
        Some(to) if known(to) => {}
        _ => {
            return error(
                400_036,
                "The target language (\"To\" field) is missing or invalid.",
            );
        }
    }
    let from = req.query_param("from").unwrap_or("");
    if !from.is_empty() && !known(from) {
        return error(400_035, "The source language (\"From\" field) isn't valid.");
    }
    let Some(Value::Array(items)) = req.body.as_ref() else {
        return error(400_074, "The body of the request isn't valid JSON.");
    };
    if !items.iter().all(Value::is_string) {
        return error(400_074, "The body of the request isn't valid JSON.");
    }
    let sent = texts(req);
    if sent.len() > MAX_TEXTS {
        return error(400_072, "The array of input text has too many elements.");
    }
    let chars: u64 = sent.iter().map(|t| t.chars().count() as u64).sum();
    if chars as usize > MAX_CHARS {
        return error(400_077, "The maximum request size is exceeded.");
    }
    {
        let mut script = s.script();
        let usage = &mut script.settings;
        if usage.limit.is_some_and(|l| usage.served + chars > l) {
            return quota();
        }
        usage.served += chars;
    }
    let to = req.query_param("to").unwrap_or("en");
    let mut out: Vec<Value> = sent
        .iter()
        .map(|t| {
            let text = if b == Behaviour::Echo {
                t.clone()
            } else {
                fake_translate(t)
            };
            let mut item = json!({"translations": [{"text": text, "to": to}]});
            if from.is_empty() {
                item["detectedLanguage"] = json!({"language": "ar", "score": 1.0});
            }
            item
        })
        .collect();
    if b == Behaviour::WrongCount {
        out.pop();
    }
    axum::Json(Value::Array(out)).into_response()
}

/// Bing's and Edge's throttling answer.
fn captcha(status: StatusCode) -> Response {
    (
        status,
        axum::Json(json!({"StatusCode": 429, "ShowCaptcha": true})),
    )
        .into_response()
}

/// An unpublished limit reached: 429 without `Retry-After`.
fn quota() -> Response {
    error(
        429_001,
        "The server rejected the request because the client has exceeded request limits.",
    )
}

/// Microsoft Translator's error body; HTTP status = code / 1000.
fn error(code: u32, message: &str) -> Response {
    let status = u16::try_from(code / 1000)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        axum::Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}
