//! A local emulator of Azure AI Translator v3, in the style of
//! [`super::emulator`]: a [`Server`] (axum on `127.0.0.1:0`, scripted behaviours, a
//! request log) speaking the [`Azure`] protocol.
//!
//! - `POST /translate?api-version=3.0&to=xx[&from=yy]`, body `[{"Text": "…"}]`,
//!   answered `[{"translations": [{"text", "to"}], "detectedLanguage"?}]`, where
//!   `detectedLanguage` is present per element only when `from` is omitted, as the
//!   service does. The "translation" is [`fake_translate`].
//! - `GET /languages?api-version=3.0&scope=translation` → `{"translation": {…}}`,
//!   no key needed; logged but never consumes the script.
//!
//! The service's own checks run in its order: `api-version` (400021), key and region
//! when required (401000), then the scripted behaviour, then `Content-Type` (415000),
//! the body (400074 / 400005), element count (400072), text length (400050), request
//! size (400077), and the languages (400035 / 400036). Errors are
//! `{"error": {"code": 6-digit, "message"}}` with HTTP status = code / 1000.

use std::time::Instant;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub use super::emulator::{Logged, fake_translate};
use super::server::{Core, Protocol, Request, Server, html_ok};

/// Azure's limits, as the emulator enforces them by default.
pub const MAX_ELEMENTS: usize = 1_000;
/// Characters per request (and per element).
pub const MAX_CHARS: usize = 50_000;

/// Languages the emulator translates: (code, English name).
pub const LANGUAGES: &[(&str, &str)] = &[
    ("ar", "Arabic"),
    ("de", "German"),
    ("en", "English"),
    ("es", "Spanish"),
    ("fa", "Persian"),
    ("fr", "French"),
    ("prs", "Dari"),
    ("ur", "Urdu"),
    ("zh-Hans", "Chinese Simplified"),
    ("zh-Hant", "Chinese Traditional"),
];

/// What the emulator does with one `/translate` request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Translate with [`fake_translate`].
    Normal,
    /// The error with this six-digit code: HTTP status `code / 1000`, the
    /// documented message, `Retry-After: <secs>` when given.
    Error {
        /// Six-digit Azure code, e.g. 403001.
        code: u32,
        /// Seconds for `Retry-After`.
        retry_after: Option<u64>,
    },
    /// HTTP 200 with a body that is not JSON.
    Malformed,
    /// HTTP 200, a valid array with one element fewer than sent.
    WrongCount,
    /// Never answer (until the emulator drops).
    Hang,
}

impl Behaviour {
    /// The error `code` without `Retry-After`.
    pub fn code(code: u32) -> Behaviour {
        Behaviour::Error {
            code,
            retry_after: None,
        }
    }
}

/// The documented message of an error code (AZ-codes).
pub fn message(code: u32) -> &'static str {
    match code {
        400_005 => "An input text is missing or invalid.",
        400_021 => "The API version parameter is missing or invalid.",
        400_035 => "The source language (\"From\" field) isn't valid.",
        400_036 => "The target language (\"To\" field) is missing or invalid.",
        400_050 => "The input text is too long. View request limits.",
        400_072 => "The array of input text has too many elements.",
        400_074 => "The body of the request isn't valid JSON.",
        400_077 => "The maximum request size is exceeded. View request limits.",
        401_000 => "The request isn't authorized because credentials are missing or invalid.",
        403_001 => "The operation isn't allowed because the subscription exceeded its free quota.",
        408_001 => "The translation system requested is being prepared. Retry in a few minutes.",
        415_000 => "The Content-Type header is missing or invalid.",
        429_000..=429_002 => {
            "The server rejected the request because the client exceeded request limits."
        }
        500_000 => "An unexpected error occurred.",
        503_000 => "Service is temporarily unavailable. Retry.",
        _ => "Emulated error.",
    }
}

/// A running emulator; stops when dropped.
pub type AzureEmulator = Server<Azure>;

/// The Azure protocol.
pub struct Azure;

/// What a request must carry, and the size limit.
pub struct Required {
    key: Option<String>,
    region: Option<String>,
    max_chars: usize,
}

impl AzureEmulator {
    fn required() -> Required {
        Required {
            key: None,
            region: None,
            max_chars: MAX_CHARS,
        }
    }

    /// Start on the current tokio runtime.
    pub async fn start() -> AzureEmulator {
        Server::launch(Azure, Behaviour::Normal, AzureEmulator::required()).await
    }

    /// Start on a runtime of its own in a background thread (for tests that run the
    /// binary).
    pub fn spawn_blocking_runtime() -> AzureEmulator {
        Server::launch_blocking(Azure, Behaviour::Normal, AzureEmulator::required())
    }

    /// Require `Ocp-Apim-Subscription-Key: key` on `/translate` (401000 otherwise).
    pub fn require_key(&self, key: &str) {
        self.core().script().settings.key = Some(key.to_string());
    }

    /// Require `Ocp-Apim-Subscription-Region: region` (a regional resource).
    pub fn require_region(&self, region: &str) {
        self.core().script().settings.region = Some(region.to_string());
    }

    /// Characters per request and per element (default [`MAX_CHARS`]).
    pub fn set_max_chars(&self, n: usize) {
        self.core().script().settings.max_chars = n;
    }

    /// The `/translate` requests only.
    pub fn translate_requests(&self) -> Vec<Logged> {
        (self.requests().into_iter())
            .filter(|r| r.path == "/translate")
            .collect()
    }

    /// Every text received for translation, in order.
    pub fn texts_received(&self) -> Vec<String> {
        self.translate_requests().iter().flat_map(texts).collect()
    }
}

/// The `Text` fields of a logged `/translate` body.
pub fn texts(r: &Logged) -> Vec<String> {
    match r.body.as_ref() {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.get("Text").and_then(Value::as_str).map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

impl Protocol for Azure {
    type Behaviour = Behaviour;
    type Log = Logged;
    type Settings = Required;

    fn log(req: &Request) -> Logged {
        Logged::json(req)
    }

    fn arrived(log: &Logged) -> Option<Instant> {
        Some(log.at)
    }

    async fn handle(s: &Core<Azure>, req: &Request, logged: &Logged) -> Response {
        if logged.query_param("api-version") != Some("3.0") {
            return error(400_021, None);
        }
        match (req.method.as_str(), req.uri.path()) {
            ("GET", "/languages") => languages(),
            ("POST", "/translate") => translate(s, logged).await,
            _ => (StatusCode::NOT_FOUND, axum::Json(json!({"error": {"code": 404_000, "message": "The requested resource was not found."}}))).into_response(),
        }
    }
}

fn languages() -> Response {
    let map: serde_json::Map<String, Value> = LANGUAGES
        .iter()
        .map(|(code, name)| {
            let dir = if matches!(*code, "ar" | "fa" | "prs" | "ur") {
                "rtl"
            } else {
                "ltr"
            };
            (
                (*code).to_string(),
                json!({"name": name, "nativeName": name, "dir": dir}),
            )
        })
        .collect();
    axum::Json(json!({ "translation": map })).into_response()
}

async fn translate(s: &Core<Azure>, req: &Logged) -> Response {
    let (behaviour, key, region, max_chars) = {
        let mut sc = s.script();
        let b = sc.queue.pop_front().unwrap_or_else(|| sc.mode.clone());
        (
            b,
            sc.settings.key.clone(),
            sc.settings.region.clone(),
            sc.settings.max_chars,
        )
    };
    let header_is = |name: &str, want: &Option<String>| {
        want.as_deref().is_none_or(|w| req.header(name) == Some(w))
    };
    if !header_is("ocp-apim-subscription-key", &key)
        || !header_is("ocp-apim-subscription-region", &region)
    {
        return error(401_000, None);
    }
    match &behaviour {
        Behaviour::Error { code, retry_after } => return error(*code, *retry_after),
        Behaviour::Hang => {
            s.wait_closed().await;
            return error(503_000, None);
        }
        Behaviour::Malformed => {
            return html_ok("<html>Gateway (emulated)</html>");
        }
        Behaviour::Normal | Behaviour::WrongCount => {}
    }
    let json_type = req
        .header("content-type")
        .is_some_and(|t| t.to_ascii_lowercase().starts_with("application/json"));
    if !json_type {
        return error(415_000, None);
    }
    let Some(Value::Array(items)) = &req.body else {
        return error(400_074, None);
    };
    let Some(input) = items
        .iter()
        .map(|i| i.get("Text").and_then(Value::as_str))
        .collect::<Option<Vec<&str>>>()
        .filter(|v| !v.is_empty())
    else {
        return error(400_005, None);
    };
    if input.len() > MAX_ELEMENTS {
        return error(400_072, None);
    }
    let chars: Vec<usize> = input.iter().map(|t| t.chars().count()).collect();
    if chars.iter().any(|&c| c > max_chars) {
        return error(400_050, None);
    }
    if chars.iter().sum::<usize>() > max_chars {
        return error(400_077, None);
    }
    let known = |l: &str| LANGUAGES.iter().any(|(c, _)| c.eq_ignore_ascii_case(l));
    let from = req.query_param("from");
    if from.is_some_and(|f| !known(f)) {
        return error(400_035, None);
    }
    let Some(to) = req.query_param("to").filter(|t| known(t)) else {
        return error(400_036, None);
    };
    let mut out: Vec<Value> = input
        .iter()
        .map(|t| {
            let mut item = json!({"translations": [{"text": fake_translate(t), "to": to}]});
            if from.is_none() {
                item["detectedLanguage"] = json!({"language": detect(t), "score": 1.0});
            }
            item
        })
        .collect();
    if behaviour == Behaviour::WrongCount {
        out.pop();
    }
    axum::Json(Value::Array(out)).into_response()
}

/// The emulator's language detection: Persian letters → `fa`, other Arabic-script
/// letters → `ar`, else `en`.
fn detect(text: &str) -> &'static str {
    if text
        .chars()
        .any(|c| matches!(c, 'پ' | 'چ' | 'ژ' | 'گ' | 'ک' | 'ی'))
    {
        "fa"
    } else if text.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)) {
        "ar"
    } else {
        "en"
    }
}

/// Azure's error body for `code`, HTTP status `code / 1000`.
pub fn error(code: u32, retry_after: Option<u64>) -> Response {
    let status = StatusCode::from_u16(u16::try_from(code / 1000).unwrap_or(500))
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({"error": {"code": code, "message": message(code)}});
    let mut r = (status, axum::Json(body)).into_response();
    if let Some(secs) = retry_after {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    r
}
