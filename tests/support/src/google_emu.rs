//! A local emulator of Google Cloud Translation Basic (v2), following its
//! documented wire format.
//!
//! An axum server on `127.0.0.1:0` speaking:
//! - `POST /language/translate/v2?key=…`, JSON `{"q": [...] | "…", "target",
//!   "source"?, "format"?}` → `{"data": {"translations": [{"translatedText"}]}}`
//!   (plus `detectedSourceLanguage` when `source` is omitted);
//! - `GET /language/translate/v2/languages?key=…` → `{"data": {"languages":
//!   [{"language"}]}}`.
//!
//! The server's checks, in order: the key (missing → 403 `PERMISSION_DENIED`,
//! reason `forbidden`; wrong → 400 `INVALID_ARGUMENT`, "API key not valid", details
//! reason `API_KEY_INVALID`), then the scripted behaviour, then the request: body
//! over 100,000 bytes or more than 128 segments → 400, a missing or unknown
//! `target` / `source` → 400 "Invalid Value". `format` defaults to `html`, as
//! Google's does: the "translation" ([`fake_translate`]) is then HTML-escaped, so
//! `'` comes back as `&#39;` — a client that forgets `format=text` shows.
//!
//! Error bodies are Google's `{"error": {"code", "message", "errors": [{"message",
//! "domain", "reason"}], "status"}}`. Scripted behaviours ([`Behaviour`]) are
//! queued with [`GoogleEmu::push`] over a default [`GoogleEmu::set_mode`]; only
//! `POST /language/translate/v2` consumes them. Every request is logged as a
//! [`Logged`]. Use [`GoogleEmu::start`] in a tokio test or
//! [`GoogleEmu::spawn_blocking_runtime`] for tests that run the binary; the server
//! machinery (queue, log, runtime, shutdown) is the generic [`Server`] of
//! `server.rs`.

use std::time::Instant;

use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub use super::emulator::Logged;
use super::emulator::fake_translate;
use super::server::{Core, Protocol, Request, Server, malformed};

/// Google's documented maximum segments per request.
pub const MAX_SEGMENTS: usize = 128;
/// Google Basic's request size limit ("100K bytes"), read strictly.
pub const MAX_BODY_BYTES: usize = 100_000;
/// The translate path.
pub const TRANSLATE_PATH: &str = "/language/translate/v2";
/// The languages path.
pub const LANGUAGES_PATH: &str = "/language/translate/v2/languages";

/// Languages the emulator knows (both directions).
pub const LANGUAGES: [&str; 8] = ["ar", "de", "en", "fa", "fr", "pt", "zh-CN", "zh-TW"];

/// What the emulator does with one `POST /language/translate/v2` (after the key
/// check).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Check the request and translate with [`fake_translate`].
    Normal,
    /// 429 `RESOURCE_EXHAUSTED` (per-minute quota), `Retry-After` when given.
    Status429 {
        /// Seconds for `Retry-After`.
        retry_after: Option<u64>,
    },
    /// 403 `dailyLimitExceeded` (domain `usageLimits`).
    DailyLimit403,
    /// 403 `userRateLimitExceeded` (domain `usageLimits`).
    UserRateLimit403,
    /// 403 `rateLimitExceeded` (domain `usageLimits`).
    RateLimit403,
    /// 403 billing not enabled on the project.
    Billing403,
    /// 403 the API is not enabled for the key's project.
    AccessNotConfigured403,
    /// 500 `INTERNAL`.
    Status500,
    /// 503 `UNAVAILABLE`.
    Status503,
    /// This status with an error body that quotes the request URL, key included,
    /// as some proxies and servers do.
    EchoUrl {
        /// HTTP status.
        code: u16,
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

/// A running emulator; stops when dropped.
pub type GoogleEmu = Server<Google>;

/// The Google protocol: the key it accepts.
pub struct Google {
    key: String,
}

impl GoogleEmu {
    fn google(key: &str) -> Google {
        Google {
            key: key.to_string(),
        }
    }

    /// Start on the current tokio runtime, accepting `key`.
    pub async fn start(key: &str) -> GoogleEmu {
        Server::launch(GoogleEmu::google(key), Behaviour::Normal, ()).await
    }

    /// Start on a runtime of its own in a background thread, for tests that run
    /// the binary.
    pub fn spawn_blocking_runtime(key: &str) -> GoogleEmu {
        Server::launch_blocking(GoogleEmu::google(key), Behaviour::Normal, ())
    }

    /// `POST /language/translate/v2` requests so far.
    pub fn translate_requests(&self) -> Vec<Logged> {
        (self.requests().into_iter())
            .filter(|r| r.path == TRANSLATE_PATH)
            .collect()
    }

    /// Every text received for translation, in order.
    pub fn texts_received(&self) -> Vec<String> {
        (self.translate_requests().iter())
            .flat_map(Logged::texts)
            .collect()
    }
}

impl Protocol for Google {
    type Behaviour = Behaviour;
    type Log = Logged;
    type Settings = ();

    fn log(req: &Request) -> Logged {
        Logged::json(req)
    }

    fn arrived(log: &Logged) -> Option<Instant> {
        Some(log.at)
    }

    async fn handle(s: &Core<Google>, req: &Request, logged: &Logged) -> Response {
        match (logged.method.as_str(), logged.path.as_str()) {
            ("POST", TRANSLATE_PATH) | ("GET", LANGUAGES_PATH) => {}
            _ => return error(404, "NOT_FOUND", "Not Found", "global", "notFound"),
        }
        if let Some(refused) = check_key(s, logged) {
            return refused;
        }
        if logged.path == LANGUAGES_PATH {
            let all: Vec<Value> = LANGUAGES.iter().map(|l| json!({"language": l})).collect();
            return axum::Json(json!({"data": {"languages": all}})).into_response();
        }
        translate(s, logged, &req.uri, req.body.len()).await
    }
}

/// Google's answers to a missing key (403) and a wrong one (400).
fn check_key(s: &Core<Google>, req: &Logged) -> Option<Response> {
    match req.query_param("key") {
        Some(k) if k == s.proto.key => None,
        Some(_) => {
            let message = "API key not valid. Please pass a valid API key.";
            Some(reply(
                400,
                json!({"error": {
                    "code": 400,
                    "message": message,
                    "errors": [{"message": message, "domain": "global", "reason": "badRequest"}],
                    "status": "INVALID_ARGUMENT",
                    "details": [{
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "API_KEY_INVALID",
                        "domain": "googleapis.com",
                        "metadata": {"service": "translate.googleapis.com"}
                    }]
                }}),
            ))
        }
        None => Some(error(
            403,
            "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
            "global",
            "forbidden",
        )),
    }
}

async fn translate(s: &Core<Google>, req: &Logged, uri: &Uri, body_len: usize) -> Response {
    let b = s.next();
    if let Some(r) = scripted(s, &b, uri).await {
        return r;
    }
    if body_len > MAX_BODY_BYTES {
        return invalid(&format!(
            "Request payload size exceeds the limit: {MAX_BODY_BYTES} bytes."
        ));
    }
    let (q, source, html) = match read_request(req) {
        Ok(parts) => parts,
        Err(r) => return *r,
    };
    let mut out: Vec<Value> = q
        .iter()
        .map(|t| {
            let mut text = if b == Behaviour::Echo {
                t.clone()
            } else {
                fake_translate(t)
            };
            if html {
                text = escape_html(&text);
            }
            match &source {
                Some(_) => json!({"translatedText": text}),
                None => json!({"translatedText": text, "detectedSourceLanguage": "ar"}),
            }
        })
        .collect();
    if b == Behaviour::WrongCount {
        out.pop();
    }
    axum::Json(json!({"data": {"translations": out}})).into_response()
}

/// The response of a scripted failure, or `None` to handle the request normally.
async fn scripted(s: &Core<Google>, b: &Behaviour, uri: &Uri) -> Option<Response> {
    let usage = |code, message: &str, reason: &str| {
        error(code, "PERMISSION_DENIED", message, "usageLimits", reason)
    };
    Some(match b {
        Behaviour::Hang => {
            s.wait_closed().await;
            error(
                503,
                "UNAVAILABLE",
                "emulator closed",
                "global",
                "backendError",
            )
        }
        Behaviour::Status429 { retry_after } => {
            let mut r = error(
                429,
                "RESOURCE_EXHAUSTED",
                "Quota exceeded for quota metric 'v2 and v3 general model characters' and limit 'v2 and v3 general model characters per minute' of service 'translate.googleapis.com'",
                "global",
                "rateLimitExceeded",
            );
            if let Some(v) = retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        Behaviour::DailyLimit403 => usage(403, "Daily Limit Exceeded", "dailyLimitExceeded"),
        Behaviour::UserRateLimit403 => {
            usage(403, "User Rate Limit Exceeded", "userRateLimitExceeded")
        }
        Behaviour::RateLimit403 => usage(403, "Rate Limit Exceeded", "rateLimitExceeded"),
        Behaviour::Billing403 => error(
            403,
            "PERMISSION_DENIED",
            "This API method requires billing to be enabled. Please enable billing on project #123 and retry.",
            "global",
            "forbidden",
        ),
        Behaviour::AccessNotConfigured403 => error(
            403,
            "PERMISSION_DENIED",
            "Cloud Translation API has not been used in project 123 before or it is disabled.",
            "usageLimits",
            "accessNotConfigured",
        ),
        Behaviour::Status500 => error(
            500,
            "INTERNAL",
            "Internal error encountered.",
            "global",
            "backendError",
        ),
        Behaviour::Status503 => error(
            503,
            "UNAVAILABLE",
            "The service is currently unavailable.",
            "global",
            "backendError",
        ),
        Behaviour::EchoUrl { code } => {
            let message = format!("Request to http://translation.example{uri} failed");
            error(
                *code,
                "FAILED_PRECONDITION",
                &message,
                "global",
                "failedPrecondition",
            )
        }
        Behaviour::Malformed => malformed(),
        Behaviour::Normal | Behaviour::WrongCount | Behaviour::Echo => return None,
    })
}

/// The texts, source and html mode of a translate request, or Google's 400.
fn read_request(req: &Logged) -> Result<(Vec<String>, Option<String>, bool), Box<Response>> {
    let Some(body @ Value::Object(_)) = req.body.as_ref() else {
        return Err(Box::new(invalid("Invalid JSON payload received.")));
    };
    let q: Vec<String> = match body.get("q") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) if a.iter().all(Value::is_string) => a
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .collect(),
        _ => return Err(Box::new(invalid("Required Text"))),
    };
    if q.is_empty() {
        return Err(Box::new(invalid("Required Text")));
    }
    if q.len() > MAX_SEGMENTS {
        return Err(Box::new(invalid("Too many text segments")));
    }
    let field = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_string);
    let known = |code: &str| LANGUAGES.iter().any(|l| l.eq_ignore_ascii_case(code));
    if !field("target").is_some_and(|t| known(&t)) {
        return Err(Box::new(invalid("Invalid Value")));
    }
    let source = field("source");
    if source.as_deref().is_some_and(|s| !known(s)) {
        return Err(Box::new(invalid("Invalid Value")));
    }
    let html = match field("format").as_deref() {
        None | Some("html") => true,
        Some("text") => false,
        Some(_) => return Err(Box::new(invalid("Invalid Value"))),
    };
    Ok((q, source, html))
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn invalid(message: &str) -> Response {
    error(400, "INVALID_ARGUMENT", message, "global", "invalid")
}

fn error(code: u16, status: &str, message: &str, domain: &str, reason: &str) -> Response {
    reply(
        code,
        json!({"error": {
            "code": code,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
            "status": status
        }}),
    )
}

fn reply(code: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(body)).into_response()
}
