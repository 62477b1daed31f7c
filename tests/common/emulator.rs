//! Local emulators of the translation APIs, following `../shared/PROVIDERS.md`.
//!
//! One [`Emulator`] is an axum server on `127.0.0.1:0` speaking one API:
//! - [`Api::LibreTranslate`]: `POST /translate` (JSON or form; `q` string or array;
//!   `api_key`), `GET /languages`, with the server's own error bodies
//!   (`{"error": msg}`) and check order: rate limit (429 `Slowdown: …`), IP ban (403),
//!   key (400 "Visit … to get an API key" when missing, 403 "Invalid API key" when
//!   wrong), parameters and `--batch-limit`, then translation.
//! - [`Api::MyMemory`]: `GET /get?q=&langpair=a|b[&de=][&key=]`, with errors inside
//!   HTTP 200 bodies (`responseStatus` 403 for bad pairs and over-500-byte queries,
//!   `quotaFinished` + `MYMEMORY WARNING…` for the daily quota).
//!
//! The "translation" is [`fake_translate`]: a deterministic transliteration of
//! Arabic and Persian letters into Latin letters, of similar length; Latin text comes
//! back unchanged.
//!
//! Every request is logged ([`Logged`]: method, path, query, parsed body, headers,
//! arrival [`Instant`]) and the server tracks requests in flight. What the next
//! translate request gets is scripted with [`Emulator::push`] (a queue consumed one
//! per request) over a default [`Emulator::set_mode`]. `GET /languages` is logged but
//! never consumes the queue.
//!
//! Optionally ([`Emulator::set_rate_limit`]) a server-side token bucket answers
//! translate requests that find it empty with HTTP 429 and `Retry-After` before any
//! scripted behaviour or delay, as LibreTranslate's Flask-Limiter does; counters of
//! requests served and 429s sent are in [`Emulator::stats`], also served as JSON at
//! `GET /stats` when [`Emulator::serve_stats`] is on (the benchmark server's use).
//!
//! Use [`Emulator::start`] inside a tokio test, or [`Emulator::spawn_blocking_runtime`]
//! from a plain `#[test]` that runs the real binary: the server then has its own
//! runtime on a background thread. Either way it stops when the `Emulator` drops.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::watch;

/// Which API an emulator speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    /// LibreTranslate `POST /translate`, `GET /languages`.
    LibreTranslate,
    /// MyMemory `GET /get`.
    MyMemory,
}

/// What the emulator does with one translate request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Translate with [`fake_translate`].
    Normal,
    /// HTTP 429, with `Retry-After: <seconds>` when given. LibreTranslate body
    /// `{"error": "Slowdown: …"}`; MyMemory a plain-text body (not a quota message).
    Status429 {
        /// Seconds for `Retry-After`.
        retry_after: Option<u64>,
    },
    /// HTTP 429 with `Retry-After` as an HTTP date this many seconds ahead.
    Status429Date {
        /// Seconds from now.
        secs: u64,
    },
    /// HTTP 500 (LibreTranslate `{"error": "Cannot translate text: …"}`).
    Status500,
    /// Any status with a message, in the API's error body shape (LibreTranslate
    /// `{"error": message}`; MyMemory `responseStatus`/`responseDetails`).
    Status {
        /// HTTP status.
        code: u16,
        /// Server message.
        message: String,
    },
    /// Quota used up. MyMemory: HTTP 200, `quotaFinished: true`, `responseStatus`
    /// 429 and the `MYMEMORY WARNING…` text. LibreTranslate: the IP ban, 403
    /// `Too many request limits violations`.
    QuotaExhausted,
    /// MyMemory's quota body with HTTP 429 (LibreTranslate: same as `QuotaExhausted`).
    QuotaExhaustedHttp429,
    /// HTTP 200 with a body that is not JSON.
    Malformed,
    /// HTTP 200, valid JSON, wrong number of translations (LibreTranslate: one
    /// fewer) or, for MyMemory, no `responseData.translatedText`.
    WrongCount,
    /// Return the source texts unchanged.
    Echo,
    /// Never answer (until the emulator drops).
    Hang,
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Logged {
    /// `GET`, `POST`, …
    pub method: String,
    /// Path, without the query.
    pub path: String,
    /// Query parameters in order, decoded.
    pub query: Vec<(String, String)>,
    /// A JSON body as JSON; a form body as an object of strings; otherwise `None`.
    pub body: Option<Value>,
    /// Request headers, names lower case.
    pub headers: Vec<(String, String)>,
    /// When it arrived.
    pub at: Instant,
}

impl Logged {
    /// The first query parameter called `name`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        (self.query.iter())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The header called `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        (self.headers.iter())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The texts this request asked to translate.
    pub fn texts(&self) -> Vec<String> {
        if self.path == "/get" {
            return self
                .query_param("q")
                .map(str::to_string)
                .into_iter()
                .collect();
        }
        match self.body.as_ref().and_then(|b| b.get("q")) {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// A server-side rate limit: a token bucket of `burst` tokens refilled at
/// `per_second` tokens a second, full at start. A translate request that finds less
/// than one token gets HTTP 429 with `Retry-After` (whole seconds until a token is
/// back, rounded up, at least 1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    /// Tokens added per second.
    pub per_second: f64,
    /// Bucket size (requests accepted at once after a pause).
    pub burst: u32,
}

/// What the server saw of translate requests (`GET /languages` is not counted).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ServerStats {
    /// Translate requests that arrived.
    pub requests: u64,
    /// Of those, answered with a 2xx status.
    pub served: u64,
    /// Answers with status 429 (the token bucket's and scripted ones).
    pub http_429: u64,
    /// Texts in the requests served.
    pub texts: u64,
    /// Characters (Unicode code points) in the texts served.
    pub chars: u64,
    /// Arrival of the first translate request, milliseconds since the Unix epoch.
    pub first_arrival_unix_ms: Option<u64>,
    /// Arrival of the last translate request, milliseconds since the Unix epoch.
    pub last_arrival_unix_ms: Option<u64>,
    /// Arrival of the last translate request that was served.
    pub last_served_arrival_unix_ms: Option<u64>,
    /// The most requests handled at once.
    pub max_in_flight: u64,
    /// When the first (up to [`MAX_429_TIMES`]) 429 answers were sent, milliseconds
    /// since the Unix epoch: shows whether rate-limit hits come at the start, after
    /// pauses, or all along.
    pub http_429_unix_ms: Vec<u64>,
}

/// How many 429 times [`ServerStats::http_429_unix_ms`] keeps.
pub const MAX_429_TIMES: usize = 1000;

/// A running emulator; stops when dropped.
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    closed: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct Shared {
    api: Api,
    state: Mutex<Script>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    closed: watch::Receiver<bool>,
    counters: Counters,
}

/// Translate-request counters, for [`ServerStats`].
#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    served: AtomicU64,
    http_429: AtomicU64,
    texts: AtomicU64,
    chars: AtomicU64,
    first_arrival_unix_ms: AtomicU64,
    last_arrival_unix_ms: AtomicU64,
    last_served_arrival_unix_ms: AtomicU64,
    http_429_unix_ms: Mutex<Vec<u64>>,
}

/// The token bucket's state.
struct Bucket {
    limit: RateLimit,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    /// Take a token, or say how many whole seconds until one is back.
    fn take(&mut self, now: Instant) -> Result<(), u64> {
        let rate = self.limit.per_second.max(f64::MIN_POSITIVE);
        let burst = f64::from(self.limit.burst.max(1));
        let refill = now.saturating_duration_since(self.at).as_secs_f64() * rate;
        self.tokens = (self.tokens + refill).min(burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - self.tokens) / rate).ceil();
            // At least 1; a float too large for u64 saturates.
            Err((wait as u64).max(1))
        }
    }
}

struct Script {
    queue: VecDeque<Behaviour>,
    mode: Behaviour,
    api_key: Option<String>,
    batch_limit: Option<usize>,
    delay: Duration,
    log: Vec<Logged>,
    bucket: Option<Bucket>,
    stats_endpoint: bool,
}

impl Emulator {
    /// Start on the current tokio runtime.
    pub async fn start(api: Api) -> Emulator {
        let (closed, rx) = watch::channel(false);
        let shared = Arc::new(Shared::new(api, rx));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        tokio::spawn(serve(listener, shared.clone()));
        Emulator {
            addr,
            shared,
            closed,
            thread: None,
        }
    }

    /// Start on a runtime of its own in a background thread, for tests that are not
    /// async (e.g. running the binary with `assert_cmd`).
    pub fn spawn_blocking_runtime(api: Api) -> Emulator {
        let (closed, rx) = watch::channel(false);
        let shared = Arc::new(Shared::new(api, rx));
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
        Emulator {
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

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API it speaks.
    pub fn api(&self) -> Api {
        self.shared.api
    }

    /// Queue a behaviour for the next translate request not yet scripted.
    pub fn push(&self, b: Behaviour) {
        self.shared.script().queue.push_back(b);
    }

    /// Queue `b` for the next `n` translate requests.
    pub fn push_n(&self, b: Behaviour, n: usize) {
        let mut s = self.shared.script();
        s.queue.extend(std::iter::repeat_n(b, n));
    }

    /// The behaviour once the queue is empty (initially [`Behaviour::Normal`]).
    pub fn set_mode(&self, b: Behaviour) {
        self.shared.script().mode = b;
    }

    /// LibreTranslate: require this `api_key` (400 when missing, 403 when wrong).
    pub fn require_api_key(&self, key: &str) {
        self.shared.script().api_key = Some(key.to_string());
    }

    /// LibreTranslate `--batch-limit`: a `q` array longer than `n` gets a 400.
    pub fn set_batch_limit(&self, n: Option<usize>) {
        self.shared.script().batch_limit = n;
    }

    /// Wait this long before answering each translate request.
    pub fn set_delay(&self, d: Duration) {
        self.shared.script().delay = d;
    }

    /// Put a token bucket in front of translate requests (`None`: no limit, the
    /// default). The bucket starts full.
    pub fn set_rate_limit(&self, limit: Option<RateLimit>) {
        self.shared.script().bucket = limit.map(|limit| Bucket {
            limit,
            tokens: f64::from(limit.burst.max(1)),
            at: Instant::now(),
        });
    }

    /// Answer `GET /stats` with [`Emulator::stats`] as JSON (off by default: the path
    /// is then a 404 like any unknown path).
    pub fn serve_stats(&self, on: bool) {
        self.shared.script().stats_endpoint = on;
    }

    /// Counters of translate requests so far.
    pub fn stats(&self) -> ServerStats {
        self.shared.stats()
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Logged> {
        self.shared.script().log.clone()
    }

    /// How many requests arrived.
    pub fn count(&self) -> usize {
        self.shared.script().log.len()
    }

    /// Every text received for translation, in order.
    pub fn texts_received(&self) -> Vec<String> {
        self.requests().iter().flat_map(Logged::texts).collect()
    }

    /// Arrival times of all requests.
    pub fn arrivals(&self) -> Vec<Instant> {
        self.requests().iter().map(|r| r.at).collect()
    }

    /// The most requests that were being handled at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// Requests being handled right now.
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight.load(Ordering::SeqCst)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.closed.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Shared {
    fn new(api: Api, closed: watch::Receiver<bool>) -> Shared {
        Shared {
            api,
            state: Mutex::new(Script {
                queue: VecDeque::new(),
                mode: Behaviour::Normal,
                api_key: None,
                batch_limit: None,
                delay: Duration::ZERO,
                log: Vec::new(),
                bucket: None,
                stats_endpoint: false,
            }),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            closed,
            counters: Counters::default(),
        }
    }

    fn stats(&self) -> ServerStats {
        let c = &self.counters;
        let time = |a: &AtomicU64| Some(a.load(Ordering::SeqCst)).filter(|&t| t > 0);
        ServerStats {
            requests: c.requests.load(Ordering::SeqCst),
            served: c.served.load(Ordering::SeqCst),
            http_429: c.http_429.load(Ordering::SeqCst),
            texts: c.texts.load(Ordering::SeqCst),
            chars: c.chars.load(Ordering::SeqCst),
            first_arrival_unix_ms: time(&c.first_arrival_unix_ms),
            last_arrival_unix_ms: time(&c.last_arrival_unix_ms),
            last_served_arrival_unix_ms: time(&c.last_served_arrival_unix_ms),
            max_in_flight: self.max_in_flight.load(Ordering::SeqCst) as u64,
            http_429_unix_ms: (c.http_429_unix_ms.lock())
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        }
    }

    /// Count a translate request's arrival; `Err(seconds)` when the token bucket is
    /// empty.
    fn admit(&self) -> Result<u64, u64> {
        let now_ms = unix_ms();
        let c = &self.counters;
        c.requests.fetch_add(1, Ordering::SeqCst);
        let _ =
            c.first_arrival_unix_ms
                .compare_exchange(0, now_ms, Ordering::SeqCst, Ordering::SeqCst);
        c.last_arrival_unix_ms.fetch_max(now_ms, Ordering::SeqCst);
        match self.script().bucket.as_mut() {
            Some(b) => b.take(Instant::now()).map(|()| now_ms),
            None => Ok(now_ms),
        }
    }

    /// Count a translate request's answer.
    fn answered(&self, status: StatusCode, arrived_ms: u64, req: &Logged) {
        let c = &self.counters;
        if status == StatusCode::TOO_MANY_REQUESTS {
            c.http_429.fetch_add(1, Ordering::SeqCst);
            let mut times = (c.http_429_unix_ms.lock()).unwrap_or_else(|p| p.into_inner());
            if times.len() < MAX_429_TIMES {
                times.push(unix_ms());
            }
        }
        if status.is_success() {
            let texts = req.texts();
            c.served.fetch_add(1, Ordering::SeqCst);
            c.texts.fetch_add(texts.len() as u64, Ordering::SeqCst);
            let chars: usize = texts.iter().map(|t| t.chars().count()).sum();
            c.chars.fetch_add(chars as u64, Ordering::SeqCst);
            c.last_served_arrival_unix_ms
                .fetch_max(arrived_ms, Ordering::SeqCst);
        }
    }

    fn script(&self) -> MutexGuard<'_, Script> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn next(&self) -> (Behaviour, Duration) {
        let mut s = self.script();
        let b = s.queue.pop_front().unwrap_or_else(|| s.mode.clone());
        (b, s.delay)
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

/// Accept until the emulator drops. Connection tasks left behind end with their
/// runtime; hanging handlers return when the emulator closes.
async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    let app = Router::new().fallback(handle).with_state(shared.clone());
    tokio::select! {
        r = axum::serve(listener, app) => { let _ = r; }
        () = shared.wait_closed() => {}
    }
}

/// Counts a request in flight while alive.
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn enter(s: &'a Shared) -> InFlight<'a> {
        let now = s.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        s.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(s)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn handle(
    State(s): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let _in_flight = InFlight::enter(&s);
    let logged = log_entry(&method, &uri, &headers, &body);
    s.script().log.push(logged.clone());
    let stats_endpoint = s.script().stats_endpoint;
    match (s.api, method.as_str(), uri.path()) {
        (_, "GET", "/stats") if stats_endpoint => axum::Json(s.stats()).into_response(),
        (Api::LibreTranslate, "GET", "/languages") => lt_languages(),
        (Api::LibreTranslate, "POST", "/translate") | (Api::MyMemory, "GET", "/get") => {
            translate(&s, &logged).await
        }
        (Api::LibreTranslate, _, _) => lt_error(404, "Not Found"),
        (Api::MyMemory, _, _) => (StatusCode::NOT_FOUND, "Not Found").into_response(),
    }
}

/// A translate request: the token bucket first, then the script and the delay.
async fn translate(s: &Shared, logged: &Logged) -> Response {
    let arrived_ms = match s.admit() {
        Ok(at) => at,
        Err(retry_after) => {
            let r = rate_limited(s, retry_after);
            s.answered(r.status(), 0, logged);
            return r;
        }
    };
    let (b, delay) = s.next();
    tokio::time::sleep(delay).await;
    let r = match s.api {
        Api::LibreTranslate => lt_translate(s, b, logged).await,
        Api::MyMemory => mm_get(s, b, logged).await,
    };
    s.answered(r.status(), arrived_ms, logged);
    r
}

/// The token bucket's 429: LibreTranslate's Flask-Limiter body, MyMemory plain text.
fn rate_limited(s: &Shared, retry_after: u64) -> Response {
    let per_second = (s.script().bucket.as_ref()).map_or(0.0, |b| b.limit.per_second);
    let mut r = match s.api {
        Api::LibreTranslate => lt_error(429, &format!("Slowdown: {per_second} per 1 second")),
        Api::MyMemory => (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests").into_response(),
    };
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    r
}

fn unix_ms() -> u64 {
    let since = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}

fn log_entry(method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Logged {
    let pairs = |s: &[u8]| -> Vec<(String, String)> {
        url::form_urlencoded::parse(s)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let parsed = if content_type.starts_with("application/json") {
        Some(
            serde_json::from_slice(body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into())),
        )
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        let map: serde_json::Map<String, Value> = pairs(body)
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        Some(Value::Object(map))
    } else if body.is_empty() {
        None
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

// ---------------------------------------------------------------- LibreTranslate

/// Languages the LibreTranslate emulator has models for.
const LT_LANGUAGES: [(&str, &str); 3] = [("ar", "Arabic"), ("en", "English"), ("fa", "Persian")];

fn lt_languages() -> Response {
    let all: Vec<Value> = LT_LANGUAGES
        .iter()
        .map(|(code, name)| {
            let targets: Vec<&str> = LT_LANGUAGES
                .iter()
                .map(|(c, _)| *c)
                .filter(|c| c != code)
                .collect();
            json!({"code": code, "name": name, "targets": targets})
        })
        .collect();
    axum::Json(Value::Array(all)).into_response()
}

fn lt_error(code: u16, message: &str) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(json!({ "error": message }))).into_response()
}

async fn lt_translate(s: &Shared, b: Behaviour, req: &Logged) -> Response {
    // Flask-Limiter runs first, then access_check (ban, key), then the handler.
    match &b {
        Behaviour::Hang => {
            s.wait_closed().await;
            return lt_error(503, "emulator closed");
        }
        Behaviour::Status429 { .. } | Behaviour::Status429Date { .. } => {
            let mut r = lt_error(429, "Slowdown: 1 per 1 second");
            add_retry_after(&mut r, &b);
            return r;
        }
        Behaviour::QuotaExhausted | Behaviour::QuotaExhaustedHttp429 => {
            return lt_error(403, "Too many request limits violations");
        }
        _ => {}
    }
    let empty = Value::Null;
    let body = req.body.as_ref().unwrap_or(&empty);
    let field = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_string);
    let expected_key = s.script().api_key.clone();
    if let Some(expected) = expected_key {
        match field("api_key") {
            Some(k) if k == expected => {}
            Some(_) => return lt_error(403, "Invalid API key"),
            None => {
                return lt_error(
                    400,
                    "Visit https://portal.libretranslate.com to get an API key",
                );
            }
        }
    }
    match &b {
        Behaviour::Status500 => {
            return lt_error(500, "Cannot translate text: emulated model failure");
        }
        Behaviour::Status { code, message } => return lt_error(*code, message),
        _ => {}
    }
    let (q, batch) = match body.get("q") {
        Some(Value::String(s)) if !s.is_empty() => (vec![s.clone()], false),
        Some(Value::Array(a)) if !a.is_empty() => (
            a.iter()
                .map(|v| v.as_str().unwrap_or_default().to_string())
                .collect(),
            true,
        ),
        _ => return lt_error(400, "Invalid request: missing q parameter"),
    };
    let (Some(source), Some(target)) = (field("source"), field("target")) else {
        let missing = if field("source").is_none() {
            "source"
        } else {
            "target"
        };
        return lt_error(
            400,
            &format!("Invalid request: missing {missing} parameter"),
        );
    };
    let limit = s.script().batch_limit;
    if let Some(limit) = limit.filter(|l| batch && q.len() > *l) {
        return lt_error(
            400,
            &format!(
                "Invalid request: request ({}) exceeds text limit ({limit})",
                q.len()
            ),
        );
    }
    let known = |l: &str| LT_LANGUAGES.iter().any(|(c, _)| *c == l);
    if source != "auto" && !known(&source) {
        return lt_error(400, &format!("{source} is not supported"));
    }
    if !known(&target) {
        return lt_error(400, &format!("{target} is not supported"));
    }
    let format = field("format").unwrap_or_else(|| "text".into());
    if format != "text" && format != "html" {
        return lt_error(400, &format!("{format} format is not supported"));
    }
    let mut out: Vec<String> = match b {
        Behaviour::Echo => q.clone(),
        Behaviour::Malformed => return malformed(),
        _ => q.iter().map(|t| fake_translate(t)).collect(),
    };
    if b == Behaviour::WrongCount {
        out.pop();
    }
    let mut reply = serde_json::Map::new();
    if batch {
        reply.insert("translatedText".into(), json!(out));
    } else {
        reply.insert(
            "translatedText".into(),
            json!(out.first().cloned().unwrap_or_default()),
        );
    }
    if source == "auto" {
        // One detection for the whole batch, repeated (PROVIDERS.md §1).
        let detected = json!({"confidence": 90.0, "language": "ar"});
        let value = if batch {
            json!(vec![detected; q.len()])
        } else {
            detected
        };
        reply.insert("detectedLanguage".into(), value);
    }
    axum::Json(Value::Object(reply)).into_response()
}

// ---------------------------------------------------------------------- MyMemory

/// The warning MyMemory puts in place of the translation when the quota is used up.
pub const MYMEMORY_QUOTA_WARNING: &str = "MYMEMORY WARNING: YOU USED ALL AVAILABLE FREE TRANSLATIONS FOR TODAY. NEXT AVAILABLE IN  10 HOURS 20 MINUTES 30 SECONDS VISIT HTTPS://MYMEMORY.TRANSLATED.NET/DOC/USAGELIMITS.PHP TO TRANSLATE MORE";

fn mm_body(text: Option<&str>, status: u16, details: &str, quota: bool) -> Value {
    json!({
        "responseData": {"translatedText": text, "match": if status == 200 { 0.85 } else { 0.0 }},
        "quotaFinished": quota,
        "mtLangSupported": null,
        "responseDetails": details,
        "responseStatus": status,
        "responderId": null,
        "exceptionCode": null,
        "matches": []
    })
}

fn mm_reply(http: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(http).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(body)).into_response()
}

/// An in-body refusal: HTTP 200, `responseStatus` 403.
fn mm_refusal(message: &str) -> Response {
    mm_reply(200, mm_body(Some(message), 403, message, false))
}

/// `xx`, `xxx`, `xx-YY` or `autodetect`.
fn mm_lang_ok(code: &str) -> bool {
    let mut parts = code.split('-');
    let base = parts.next().unwrap_or("");
    let region_ok = parts
        .next()
        .is_none_or(|r| (2..=4).contains(&r.len()) && r.chars().all(|c| c.is_ascii_alphanumeric()));
    code.eq_ignore_ascii_case("autodetect")
        || ((2..=3).contains(&base.len())
            && base.chars().all(|c| c.is_ascii_alphabetic())
            && region_ok
            && parts.next().is_none())
}

async fn mm_get(s: &Shared, b: Behaviour, req: &Logged) -> Response {
    match &b {
        Behaviour::Hang => {
            s.wait_closed().await;
            return (StatusCode::SERVICE_UNAVAILABLE, "emulator closed").into_response();
        }
        Behaviour::Status429 { .. } | Behaviour::Status429Date { .. } => {
            let mut r = (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests").into_response();
            add_retry_after(&mut r, &b);
            return r;
        }
        Behaviour::Status500 => {
            return (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response();
        }
        Behaviour::Status { code, message } => {
            return mm_reply(*code, mm_body(None, *code, message, false));
        }
        Behaviour::QuotaExhausted => {
            return mm_reply(
                200,
                mm_body(
                    Some(MYMEMORY_QUOTA_WARNING),
                    429,
                    MYMEMORY_QUOTA_WARNING,
                    true,
                ),
            );
        }
        Behaviour::QuotaExhaustedHttp429 => {
            return mm_reply(
                429,
                mm_body(
                    Some(MYMEMORY_QUOTA_WARNING),
                    429,
                    MYMEMORY_QUOTA_WARNING,
                    true,
                ),
            );
        }
        Behaviour::Malformed => return malformed(),
        _ => {}
    }
    let Some(q) = req.query_param("q").filter(|q| !q.is_empty()) else {
        return mm_refusal("NO QUERY SPECIFIED. EXAMPLE REQUEST: GET?Q=HELLO&LANGPAIR=EN|IT");
    };
    let pair: Vec<&str> = req
        .query_param("langpair")
        .unwrap_or("")
        .split('|')
        .collect();
    let valid = matches!(pair.as_slice(), [a, b] if mm_lang_ok(a) && mm_lang_ok(b) && !a.eq_ignore_ascii_case(b));
    if !valid {
        return mm_refusal(
            "INVALID LANGUAGE PAIR SPECIFIED. EXAMPLE: LANGPAIR=EN|IT USING 2 LETTER ISO OR RFC3066 LIKE ZH-CN. ALMOST ALL LANGUAGES SUPPORTED BUT SOME MAY HAVE NO CONTENT",
        );
    }
    if q.len() > 500 {
        return mm_refusal("QUERY LENGTH LIMIT EXCEEDED. MAX ALLOWED QUERY : 500 CHARS");
    }
    match b {
        Behaviour::WrongCount => mm_reply(
            200,
            json!({"responseData": {"match": 1}, "responseStatus": 200}),
        ),
        Behaviour::Echo => mm_reply(200, mm_body(Some(q), 200, "", false)),
        _ => mm_reply(200, mm_body(Some(&fake_translate(q)), 200, "", false)),
    }
}

// ------------------------------------------------------------------------ shared

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

fn add_retry_after(r: &mut Response, b: &Behaviour) {
    let value = match b {
        Behaviour::Status429 {
            retry_after: Some(s),
        } => s.to_string(),
        Behaviour::Status429Date { secs } => {
            httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(*secs))
        }
        _ => return,
    };
    if let Ok(v) = HeaderValue::from_str(&value) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
}

/// The emulators' "translation": Arabic and Persian letters transliterated to Latin
/// (a readable Buckwalter-like scheme), Arabic-Indic digits to ASCII, Arabic
/// punctuation to Latin, short vowels and tatweel dropped. Deterministic, similar in
/// length, Latin-script; text with no Arabic-script letters comes back unchanged.
pub fn fake_translate(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{064B}'..='\u{0652}' | '\u{0640}' | '\u{200C}' | '\u{200F}' => {}
            '٠'..='٩' => out.push(char::from(b'0' + (c as u32 - '٠' as u32) as u8)),
            '۰'..='۹' => out.push(char::from(b'0' + (c as u32 - '۰' as u32) as u8)),
            _ => match translit(c) {
                Some(latin) => out.push_str(latin),
                None => out.push(c),
            },
        }
    }
    out
}

fn translit(c: char) -> Option<&'static str> {
    Some(match c {
        'ا' | 'أ' | 'آ' | 'ى' => "a",
        'إ' => "i",
        'ء' | 'ع' => "'",
        'ب' => "b",
        'ت' | 'ط' => "t",
        'ث' => "th",
        'ج' => "j",
        'ح' | 'ه' | 'ة' | 'ۀ' => "h",
        'خ' => "kh",
        'د' | 'ض' => "d",
        'ذ' => "dh",
        'ر' => "r",
        'ز' | 'ظ' => "z",
        'س' | 'ص' => "s",
        'ش' => "sh",
        'غ' => "gh",
        'ف' => "f",
        'ق' => "q",
        'ك' | 'ک' => "k",
        'ل' => "l",
        'م' => "m",
        'ن' => "n",
        'و' | 'ؤ' => "w",
        'ي' | 'ی' | 'ئ' => "y",
        'پ' => "p",
        'چ' => "ch",
        'ژ' => "zh",
        'گ' => "g",
        '،' => ",",
        '؛' => ";",
        '؟' => "?",
        '«' => "\"",
        '»' => "\"",
        _ => return None,
    })
}
