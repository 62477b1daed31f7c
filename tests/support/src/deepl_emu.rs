//! A local emulator of the DeepL API v2, following its documented wire format.
//!
//! An axum server on `127.0.0.1:0` speaking:
//! - `POST /v2/translate`, JSON `{"text": [...], "target_lang", "source_lang"?, …}`
//!   → `{"translations": [{"detected_source_language", "text"}]}` in order;
//! - `GET /v2/usage` → `{"character_count", "character_limit"}` (characters
//!   translated so far against [`DeeplEmu::set_character_limit`], 500,000 by
//!   default: the Free quota);
//! - `GET /v2/languages?type=source|target` → `[{"language", "name"}]`.
//!
//! The server's checks, in order: the key (`Authorization: DeepL-Auth-Key <key>`;
//! missing or wrong → 403, the legacy `auth_key` parameter → 403), then the scripted
//! behaviour, then the request: body over 128 KiB or more than 50 texts → 413, a
//! missing `text` or an unknown `target_lang` / `source_lang` (bare `EN` is not a
//! target) → 400, the character quota → 456; then the "translation"
//! ([`fake_translate`]). Error bodies are `{"message": …}`.
//!
//! Scripted behaviours ([`Behaviour`]) are queued with [`DeeplEmu::push`] over a
//! default [`DeeplEmu::set_mode`]; only `POST /v2/translate` consumes them. Every
//! request is logged as a [`Logged`]. Use [`DeeplEmu::start`] in a tokio test or
//! [`DeeplEmu::spawn_blocking_runtime`] for tests that run the binary; the server
//! stops when the emulator drops, hanging requests included. The server machinery
//! (queue, log, runtime, shutdown) is the generic [`Server`] of `server.rs`.

use std::time::Instant;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub use super::emulator::Logged;
use super::emulator::fake_translate;
use super::server::{Core, Protocol, Request, Server, malformed};

/// DeepL's documented maximum texts per request.
pub const MAX_TEXTS: usize = 50;
/// DeepL's documented maximum request body: 128 KiB.
pub const MAX_BODY_BYTES: usize = 128 * 1024;
/// The Free plan's monthly characters.
pub const FREE_CHARACTER_LIMIT: u64 = 500_000;

/// Source languages the emulator knows.
pub const SOURCES: [(&str, &str); 7] = [
    ("AR", "Arabic"),
    ("DE", "German"),
    ("EN", "English"),
    ("FA", "Persian"),
    ("FR", "French"),
    ("PT", "Portuguese"),
    ("ZH", "Chinese"),
];
/// Target languages the emulator knows (no bare `EN` or `PT`: deprecated as targets).
pub const TARGETS: [(&str, &str); 10] = [
    ("AR", "Arabic"),
    ("DE", "German"),
    ("EN-GB", "English (British)"),
    ("EN-US", "English (American)"),
    ("FA", "Persian"),
    ("FR", "French"),
    ("PT-BR", "Portuguese (Brazilian)"),
    ("PT-PT", "Portuguese (European)"),
    ("ZH-HANS", "Chinese (simplified)"),
    ("ZH-HANT", "Chinese (traditional)"),
];

/// What the emulator does with one `POST /v2/translate` (after the key check).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Check the request and translate with [`fake_translate`].
    Normal,
    /// 429 `{"message": "Too many requests"}`, with `Retry-After` when given.
    Status429 {
        /// Seconds for `Retry-After`.
        retry_after: Option<u64>,
    },
    /// 456 `{"message": "Quota Exceeded"}`.
    Quota456,
    /// 529 `{"message": "Too many requests, DeepL servers are currently experiencing high load"}`.
    Busy529,
    /// 500 `{"message": "Internal server error"}`.
    Status500,
    /// Any status with `{"message": message}`.
    Status {
        /// HTTP status.
        code: u16,
        /// The `message` field.
        message: String,
    },
    /// HTTP 200 with an HTML body.
    Malformed,
    /// HTTP 200, valid JSON, one translation fewer than texts.
    WrongCount,
    /// Return the texts unchanged.
    Echo,
    /// Never answer (until the emulator drops).
    Hang,
}

/// A running DeepL emulator; stops when dropped.
pub type DeeplEmu = Server<Deepl>;

/// The DeepL protocol: the key it accepts.
pub struct Deepl {
    key: String,
}

/// The character quota.
pub struct Quota {
    character_count: u64,
    character_limit: u64,
}

impl DeeplEmu {
    fn parts(key: &str) -> (Deepl, Behaviour, Quota) {
        let quota = Quota {
            character_count: 0,
            character_limit: FREE_CHARACTER_LIMIT,
        };
        let deepl = Deepl {
            key: key.to_string(),
        };
        (deepl, Behaviour::Normal, quota)
    }

    /// Start on the current tokio runtime, accepting `key`.
    pub async fn start(key: &str) -> DeeplEmu {
        let (deepl, mode, quota) = DeeplEmu::parts(key);
        Server::launch(deepl, mode, quota).await
    }

    /// Start on a runtime of its own in a background thread, for tests that run
    /// the binary.
    pub fn spawn_blocking_runtime(key: &str) -> DeeplEmu {
        let (deepl, mode, quota) = DeeplEmu::parts(key);
        Server::launch_blocking(deepl, mode, quota)
    }

    /// The quota `GET /v2/usage` reports and `POST /v2/translate` enforces (456).
    pub fn set_character_limit(&self, limit: u64) {
        self.core().script().settings.character_limit = limit;
    }

    /// `POST /v2/translate` requests so far.
    pub fn translate_requests(&self) -> Vec<Logged> {
        (self.requests().into_iter())
            .filter(|r| r.path == "/v2/translate")
            .collect()
    }

    /// Every text received for translation, in order.
    pub fn texts_received(&self) -> Vec<String> {
        self.translate_requests().iter().flat_map(texts).collect()
    }

    /// Characters counted against the quota so far.
    pub fn character_count(&self) -> u64 {
        self.core().script().settings.character_count
    }
}

/// The `text` array of a logged `POST /v2/translate`.
pub fn texts(r: &Logged) -> Vec<String> {
    match r.body.as_ref().and_then(|b| b.get("text")) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

impl Protocol for Deepl {
    type Behaviour = Behaviour;
    type Log = Logged;
    type Settings = Quota;

    fn log(req: &Request) -> Logged {
        Logged::json(req)
    }

    fn arrived(log: &Logged) -> Option<Instant> {
        Some(log.at)
    }

    async fn handle(s: &Core<Deepl>, req: &Request, logged: &Logged) -> Response {
        route(s, logged, req.body.len()).await
    }
}

async fn route(s: &Core<Deepl>, req: &Logged, body_len: usize) -> Response {
    let known = matches!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/v2/translate") | ("GET", "/v2/usage") | ("GET", "/v2/languages")
    );
    if !known {
        return error(404, "Not found");
    }
    if let Some(refused) = check_key(s, req) {
        return refused;
    }
    match req.path.as_str() {
        "/v2/usage" => {
            let sc = s.script();
            axum::Json(json!({
                "character_count": sc.settings.character_count,
                "character_limit": sc.settings.character_limit,
            }))
            .into_response()
        }
        "/v2/languages" => languages(req),
        _ => translate(s, req, body_len).await,
    }
}

/// 403 unless the request carries `Authorization: DeepL-Auth-Key <key>` and no
/// legacy `auth_key` parameter.
fn check_key(s: &Core<Deepl>, req: &Logged) -> Option<Response> {
    let legacy = req.query_param("auth_key").is_some()
        || req
            .body
            .as_ref()
            .is_some_and(|b| b.get("auth_key").is_some());
    if legacy {
        return Some(error(
            403,
            "Authenticating with auth_key is no longer supported; use the Authorization header",
        ));
    }
    let expected = format!("DeepL-Auth-Key {}", s.proto.key);
    match req.header("authorization") {
        Some(h) if h == expected => None,
        Some(_) => Some(error(
            403,
            "Authorization failed: invalid authentication key",
        )),
        None => Some(error(
            403,
            "Authorization failed: missing authentication key",
        )),
    }
}

fn languages(req: &Logged) -> Response {
    let list: &[(&str, &str)] = match req.query_param("type") {
        Some("target") => &TARGETS,
        Some("source") | None => &SOURCES,
        Some(other) => {
            return error(400, &format!("Value for 'type' not supported: {other}"));
        }
    };
    let all: Vec<Value> = list
        .iter()
        .map(|(code, name)| json!({"language": code, "name": name}))
        .collect();
    axum::Json(Value::Array(all)).into_response()
}

async fn translate(s: &Core<Deepl>, req: &Logged, body_len: usize) -> Response {
    let b = s.next();
    match &b {
        Behaviour::Hang => {
            s.wait_closed().await;
            return error(503, "emulator closed");
        }
        Behaviour::Status429 { retry_after } => {
            let mut r = error(429, "Too many requests");
            if let Some(v) = retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return r;
        }
        Behaviour::Quota456 => return error(456, "Quota Exceeded"),
        Behaviour::Busy529 => {
            return error(
                529,
                "Too many requests, DeepL servers are currently experiencing high load",
            );
        }
        Behaviour::Status500 => return error(500, "Internal server error"),
        Behaviour::Status { code, message } => return error(*code, message),
        Behaviour::Malformed => return malformed(),
        _ => {}
    }
    if body_len > MAX_BODY_BYTES {
        return error(413, "Request Entity Too Large");
    }
    let (texts, source) = match read_request(req) {
        Ok(parts) => parts,
        Err(r) => return *r,
    };
    let chars: u64 = texts.iter().map(|t| t.chars().count() as u64).sum();
    {
        let mut sc = s.script();
        if sc.settings.character_count + chars > sc.settings.character_limit {
            return error(456, "Quota Exceeded");
        }
        sc.settings.character_count += chars;
    }
    let mut out: Vec<Value> = texts
        .iter()
        .map(|t| {
            let text = if b == Behaviour::Echo {
                t.clone()
            } else {
                fake_translate(t)
            };
            json!({"detected_source_language": source.as_deref().unwrap_or("AR"), "text": text})
        })
        .collect();
    if b == Behaviour::WrongCount {
        out.pop();
    }
    axum::Json(json!({ "translations": out })).into_response()
}

/// The texts and source of a translate request, or the server's 400/413.
fn read_request(req: &Logged) -> Result<(Vec<String>, Option<String>), Box<Response>> {
    let json = |what: &str| error(400, &format!("Bad request: {what}"));
    let Some(body @ Value::Object(_)) = req.body.as_ref() else {
        return Err(Box::new(json("expected a JSON object body")));
    };
    let texts = match body.get("text") {
        Some(Value::Array(a)) if !a.is_empty() && a.iter().all(Value::is_string) => a
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .collect::<Vec<_>>(),
        _ => return Err(Box::new(error(400, "Parameter 'text' not specified."))),
    };
    if texts.len() > MAX_TEXTS {
        return Err(Box::new(error(
            413,
            &format!("Request Entity Too Large: at most {MAX_TEXTS} texts per request"),
        )));
    }
    let field = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .map(str::to_uppercase)
    };
    let known = |list: &[(&str, &str)], code: &str| list.iter().any(|(c, _)| *c == code);
    if !field("target_lang").is_some_and(|t| known(&TARGETS, &t)) {
        return Err(Box::new(error(
            400,
            "Value for 'target_lang' not supported.",
        )));
    }
    let source = field("source_lang");
    if source.as_deref().is_some_and(|s| !known(&SOURCES, s)) {
        return Err(Box::new(error(
            400,
            "Value for 'source_lang' not supported.",
        )));
    }
    Ok((texts, source))
}

fn error(code: u16, message: &str) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(json!({ "message": message }))).into_response()
}
