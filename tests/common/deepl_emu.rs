//! A local emulator of the DeepL API v2, following `../shared/PROVIDERS.md` §2.
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
//! stops when the emulator drops, hanging requests included.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::watch;

pub use super::emulator::Logged;
use super::emulator::fake_translate;

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
pub struct DeeplEmu {
    addr: SocketAddr,
    shared: Arc<Shared>,
    closed: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct Shared {
    key: String,
    state: Mutex<Script>,
    closed: watch::Receiver<bool>,
}

struct Script {
    queue: VecDeque<Behaviour>,
    mode: Behaviour,
    character_count: u64,
    character_limit: u64,
    log: Vec<Logged>,
}

impl DeeplEmu {
    /// Start on the current tokio runtime, accepting `key`.
    pub async fn start(key: &str) -> DeeplEmu {
        let (closed, rx) = watch::channel(false);
        let shared = Arc::new(Shared::new(key, rx));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        tokio::spawn(serve(listener, shared.clone()));
        DeeplEmu {
            addr,
            shared,
            closed,
            thread: None,
        }
    }

    /// Start on a runtime of its own in a background thread, for tests that run
    /// the binary.
    pub fn spawn_blocking_runtime(key: &str) -> DeeplEmu {
        let (closed, rx) = watch::channel(false);
        let shared = Arc::new(Shared::new(key, rx));
        let (tx, ready) = std::sync::mpsc::channel();
        let for_thread = shared.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("emulator runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind 127.0.0.1:0");
                tx.send(listener.local_addr().expect("local address"))
                    .expect("report address");
                serve(listener, for_thread).await;
            });
            rt.shutdown_timeout(Duration::from_secs(1));
        });
        let addr = ready.recv().expect("emulator started");
        DeeplEmu {
            addr,
            shared,
            closed,
            thread: Some(thread),
        }
    }

    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queue a behaviour for the next translate request not yet scripted.
    pub fn push(&self, b: Behaviour) {
        self.shared.script().queue.push_back(b);
    }

    /// The behaviour once the queue is empty (initially [`Behaviour::Normal`]).
    pub fn set_mode(&self, b: Behaviour) {
        self.shared.script().mode = b;
    }

    /// The quota `GET /v2/usage` reports and `POST /v2/translate` enforces (456).
    pub fn set_character_limit(&self, limit: u64) {
        self.shared.script().character_limit = limit;
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Logged> {
        self.shared.script().log.clone()
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
        self.shared.script().character_count
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

impl Drop for DeeplEmu {
    fn drop(&mut self) {
        let _ = self.closed.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Shared {
    fn new(key: &str, closed: watch::Receiver<bool>) -> Shared {
        Shared {
            key: key.to_string(),
            state: Mutex::new(Script {
                queue: VecDeque::new(),
                mode: Behaviour::Normal,
                character_count: 0,
                character_limit: FREE_CHARACTER_LIMIT,
                log: Vec::new(),
            }),
            closed,
        }
    }

    fn script(&self) -> MutexGuard<'_, Script> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn next(&self) -> Behaviour {
        let mut s = self.script();
        s.queue.pop_front().unwrap_or_else(|| s.mode.clone())
    }

    async fn wait_closed(&self) {
        let mut rx = self.closed.clone();
        while !*rx.borrow_and_update() {
            if rx.changed().await.is_err() {
                return;
            }
        }
    }
}

async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    let app = Router::new().fallback(handle).with_state(shared.clone());
    tokio::select! {
        r = axum::serve(listener, app) => { let _ = r; }
        () = shared.wait_closed() => {}
    }
}

async fn handle(
    State(s): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let logged = log_entry(&method, &uri, &headers, &body);
    s.script().log.push(logged.clone());
    route(&s, &logged, body.len()).await
}

async fn route(s: &Shared, req: &Logged, body_len: usize) -> Response {
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
                "character_count": sc.character_count,
                "character_limit": sc.character_limit,
            }))
            .into_response()
        }
        "/v2/languages" => languages(req),
        _ => translate(s, req, body_len).await,
    }
}

/// 403 unless the request carries `Authorization: DeepL-Auth-Key <key>` and no
/// legacy `auth_key` parameter.
fn check_key(s: &Shared, req: &Logged) -> Option<Response> {
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
    let expected = format!("DeepL-Auth-Key {}", s.key);
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

async fn translate(s: &Shared, req: &Logged, body_len: usize) -> Response {
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
        if sc.character_count + chars > sc.character_limit {
            return error(456, "Quota Exceeded");
        }
        sc.character_count += chars;
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

fn malformed() -> Response {
    let mut r = (
        StatusCode::OK,
        "<html><body>Bad Gateway (emulated)</body></html>",
    )
        .into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    r
}

fn log_entry(method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Logged {
    let pairs = |s: &[u8]| -> Vec<(String, String)> {
        url::form_urlencoded::parse(s)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    };
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    let parsed = if body.is_empty() {
        None
    } else if is_json {
        Some(
            serde_json::from_slice(body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into())),
        )
    } else {
        Some(Value::String(String::from_utf8_lossy(body).into()))
    };
    Logged {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: pairs(uri.query().unwrap_or("").as_bytes()),
        body: parsed,
        headers: (headers.iter())
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into(),
                )
            })
            .collect(),
        at: Instant::now(),
    }
}
