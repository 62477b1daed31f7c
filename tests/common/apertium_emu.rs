//! A local emulator of Apertium APY (PROVIDERS.md §6, checked against APY 0.11.7),
//! in the style of [`super::emulator`]: axum on `127.0.0.1:0`, scripted behaviours,
//! a request log.
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
pub struct ApertiumEmulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    closed: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct Shared {
    state: Mutex<Script>,
    closed: watch::Receiver<bool>,
}

struct Script {
    queue: VecDeque<Behaviour>,
    mode: Behaviour,
    pairs: Vec<(String, String)>,
    log: Vec<Logged>,
}

impl ApertiumEmulator {
    /// Start on the current tokio runtime, with the pairs `spa→eng` and `eng→spa`.
    pub async fn start() -> ApertiumEmulator {
        let (closed, rx) = watch::channel(false);
        let shared = Arc::new(Shared::new(rx));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(serve(listener, shared.clone()));
        ApertiumEmulator {
            addr,
            shared,
            closed,
            thread: None,
        }
    }

    /// Start on a runtime of its own in a background thread.
    pub fn spawn_blocking_runtime() -> ApertiumEmulator {
        let (closed, rx) = watch::channel(false);
        let shared = Arc::new(Shared::new(rx));
        let (tx, ready) = std::sync::mpsc::channel();
        let for_thread = shared.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                serve(listener, for_thread).await;
            });
            rt.shutdown_timeout(Duration::from_secs(1));
        });
        let addr = ready.recv().unwrap();
        ApertiumEmulator {
            addr,
            shared,
            closed,
            thread: Some(thread),
        }
    }

    /// Base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queue a behaviour for the next `/translate` request.
    pub fn push(&self, b: Behaviour) {
        self.shared.script().queue.push_back(b);
    }

    /// The behaviour once the queue is empty (initially [`Behaviour::Normal`]).
    pub fn set_mode(&self, b: Behaviour) {
        self.shared.script().mode = b;
    }

    /// Replace the installed pairs (three-letter codes).
    pub fn set_pairs(&self, pairs: &[(&str, &str)]) {
        self.shared.script().pairs = pairs
            .iter()
            .map(|(s, t)| ((*s).to_string(), (*t).to_string()))
            .collect();
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Logged> {
        self.shared.script().log.clone()
    }

    /// The `/translate` requests only.
    pub fn translate_requests(&self) -> Vec<Logged> {
        (self.requests().into_iter())
            .filter(|r| r.path == "/translate")
            .collect()
    }
}

impl Drop for ApertiumEmulator {
    fn drop(&mut self) {
        let _ = self.closed.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Shared {
    fn new(closed: watch::Receiver<bool>) -> Shared {
        Shared {
            state: Mutex::new(Script {
                queue: VecDeque::new(),
                mode: Behaviour::Normal,
                pairs: vec![("spa".into(), "eng".into()), ("eng".into(), "spa".into())],
                log: Vec::new(),
            }),
            closed,
        }
    }

    fn script(&self) -> MutexGuard<'_, Script> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
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
    let req = log_entry(&method, &uri, &headers, &body);
    s.script().log.push(req.clone());
    match (method.as_str(), uri.path()) {
        ("GET", "/listPairs") => list_pairs(&s),
        ("GET" | "POST", "/translate") => translate(&s, &req).await,
        _ => apy_error(
            404,
            "Resource requested does not exist. URL may have been mistyped",
        ),
    }
}

fn list_pairs(s: &Shared) -> Response {
    let pairs: Vec<Value> = (s.script().pairs.iter())
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

async fn translate(s: &Shared, req: &Logged) -> Response {
    let (behaviour, pairs) = {
        let mut sc = s.script();
        let b = sc.queue.pop_front().unwrap_or_else(|| sc.mode.clone());
        (b, sc.pairs.clone())
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
            let mut r = (StatusCode::OK, "<html>proxy error</html>").into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
            return r;
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

fn log_entry(method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Logged {
    let pairs = |s: &[u8]| -> Vec<(String, String)> {
        url::form_urlencoded::parse(s)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    };
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let parsed = if body.is_empty() {
        None
    } else if form {
        let map: serde_json::Map<String, Value> = pairs(body)
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        Some(Value::Object(map))
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
