//! Local emulators of LibreTranslate and MyMemory, following their documented wire
//! formats (see docs/providers.md).
//!
//! One [`Emulator`] is an axum server on `127.0.0.1:0` speaking one API:
//! - [`Api::LibreTranslate`]: `POST /translate` (JSON or form; `q` string or array;
//!   `api_key`), `GET /languages`, with the server's own error bodies
//!   (`{"error": msg}`) and check order: rate limit (429 `Slowdown: …`), IP ban (403),
//!   key (400 "Visit … to get an API key" when missing, 403 "Invalid API key" when
//!   wrong), parameters and `--batch-limit`, then translation.
//! - [`Api::MyMemory`]: `GET /get?q=&langpair=a|b[&de=][&key=]`, with errors inside
//!   HTTP 200 bodies (`responseStatus` 403 for bad pairs and over-500-byte queries,
//!   `quotaFinished` + `MYMEMORY WARNING…` for the daily quota). With
//!   [`Emulator::set_daily_limit`] it enforces MyMemory's day: 5,000 characters
//!   anonymous, 50,000 for requests carrying an e-mail (`de`); a text that would go
//!   past it gets the quota answer.
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
//! `Emulator` is a [`Server`] (`server.rs`, which also holds the request log,
//! the queue and the in-flight counters) speaking the [`Wire`] protocol.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub use super::server::Logged;
use super::server::{Core, Protocol, Request, Server, form_body, json_body, malformed, text_body};

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

impl Logged {
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
pub type Emulator = Server<Wire>;

/// The LibreTranslate / MyMemory protocol: the API spoken and the translate-request
/// counters.
pub struct Wire {
    api: Api,
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

/// Settings changed while running.
pub struct Settings {
    api_key: Option<String>,
    batch_limit: Option<usize>,
    delay: Duration,
    bucket: Option<Bucket>,
    stats_endpoint: bool,
    daily: Option<Daily>,
}

/// MyMemory's day: characters allowed without and with an e-mail, and used so far.
struct Daily {
    anonymous: u64,
    with_email: u64,
    used: u64,
    /// Quota answers given.
    refused: u64,
}

impl Emulator {
    fn wire(api: Api) -> (Wire, Behaviour, Settings) {
        let wire = Wire {
            api,
            counters: Counters::default(),
        };
        let settings = Settings {
            api_key: None,
            batch_limit: None,
            delay: Duration::ZERO,
            bucket: None,
            stats_endpoint: false,
            daily: None,
        };
        (wire, Behaviour::Normal, settings)
    }

    /// Start on the current tokio runtime.
    pub async fn start(api: Api) -> Emulator {
        let (wire, mode, settings) = Emulator::wire(api);
        Server::launch(wire, mode, settings).await
    }

    /// Start on a runtime of its own in a background thread, for tests that are not
    /// async (e.g. running the binary with `assert_cmd`).
    pub fn spawn_blocking_runtime(api: Api) -> Emulator {
        let (wire, mode, settings) = Emulator::wire(api);
        Server::launch_blocking(wire, mode, settings)
    }

    /// The API it speaks.
    pub fn api(&self) -> Api {
        self.core().proto.api
    }

    /// LibreTranslate: require this `api_key` (400 when missing, 403 when wrong).
    pub fn require_api_key(&self, key: &str) {
        self.core().script().settings.api_key = Some(key.to_string());
    }

    /// LibreTranslate `--batch-limit`: a `q` array longer than `n` gets a 400.
    pub fn set_batch_limit(&self, n: Option<usize>) {
        self.core().script().settings.batch_limit = n;
    }

    /// Wait this long before answering each translate request.
    pub fn set_delay(&self, d: Duration) {
        self.core().script().settings.delay = d;
    }

    /// Put a token bucket in front of translate requests (`None`: no limit, the
    /// default). The bucket starts full.
    pub fn set_rate_limit(&self, limit: Option<RateLimit>) {
        self.core().script().settings.bucket = limit.map(|limit| Bucket {
            limit,
            tokens: f64::from(limit.burst.max(1)),
            at: Instant::now(),
        });
    }

    /// Answer `GET /stats` with [`Emulator::stats`] as JSON (off by default: the path
    /// is then a 404 like any unknown path).
    pub fn serve_stats(&self, on: bool) {
        self.core().script().settings.stats_endpoint = on;
    }

    /// MyMemory: allow `anonymous` characters a day, `with_email` for requests that
    /// carry `de`; a text that would go past the day gets the quota answer (HTTP 200,
    /// `quotaFinished`, the `MYMEMORY WARNING`).
    pub fn set_daily_limit(&self, anonymous: u64, with_email: u64) {
        self.core().script().settings.daily = Some(Daily {
            anonymous,
            with_email,
            used: 0,
            refused: 0,
        });
    }

    /// MyMemory: characters translated today under [`Emulator::set_daily_limit`].
    pub fn characters_today(&self) -> u64 {
        (self.core().script().settings.daily.as_ref()).map_or(0, |d| d.used)
    }

    /// MyMemory: quota answers given under [`Emulator::set_daily_limit`].
    pub fn quota_answers(&self) -> u64 {
        (self.core().script().settings.daily.as_ref()).map_or(0, |d| d.refused)
    }

    /// Counters of translate requests so far.
    pub fn stats(&self) -> ServerStats {
        stats(self.core())
    }

    /// Every text received for translation, in order.
    pub fn texts_received(&self) -> Vec<String> {
        self.requests().iter().flat_map(Logged::texts).collect()
    }
}

fn stats(s: &Core<Wire>) -> ServerStats {
    let c = &s.proto.counters;
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
        max_in_flight: s.max_in_flight() as u64,
        http_429_unix_ms: (c.http_429_unix_ms.lock())
            .unwrap_or_else(|p| p.into_inner())
            .clone(),
    }
}

/// Count a translate request's arrival; `Err(seconds)` when the token bucket is
/// empty.
fn admit(s: &Core<Wire>) -> Result<u64, u64> {
    let now_ms = unix_ms();
    let c = &s.proto.counters;
    c.requests.fetch_add(1, Ordering::SeqCst);
    let _ = c
        .first_arrival_unix_ms
        .compare_exchange(0, now_ms, Ordering::SeqCst, Ordering::SeqCst);
    c.last_arrival_unix_ms.fetch_max(now_ms, Ordering::SeqCst);
    match s.script().settings.bucket.as_mut() {
        Some(b) => b.take(Instant::now()).map(|()| now_ms),
        None => Ok(now_ms),
    }
}

/// Count a translate request's answer.
fn answered(s: &Core<Wire>, status: StatusCode, arrived_ms: u64, req: &Logged) {
    let c = &s.proto.counters;
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

impl Protocol for Wire {
    type Behaviour = Behaviour;
    type Log = Logged;
    type Settings = Settings;

    fn log(req: &Request) -> Logged {
        let content_type = req.content_type();
        let body = &req.body;
        let parsed = if content_type.starts_with("application/json") {
            Some(json_body(body))
        } else if content_type.starts_with("application/x-www-form-urlencoded") {
            Some(form_body(body))
        } else if body.is_empty() {
            None
        } else {
            Some(text_body(body))
        };
        Logged::new(req, parsed)
    }

    fn arrived(log: &Logged) -> Option<Instant> {
        Some(log.at)
    }

    async fn handle(s: &Core<Wire>, req: &Request, logged: &Logged) -> Response {
        let stats_endpoint = s.script().settings.stats_endpoint;
        match (s.proto.api, req.method.as_str(), req.uri.path()) {
            (_, "GET", "/stats") if stats_endpoint => axum::Json(stats(s)).into_response(),
            (Api::LibreTranslate, "GET", "/languages") => lt_languages(),
            (Api::LibreTranslate, "POST", "/translate") | (Api::MyMemory, "GET", "/get") => {
                translate(s, logged).await
            }
            (Api::LibreTranslate, _, _) => lt_error(404, "Not Found"),
            (Api::MyMemory, _, _) => (StatusCode::NOT_FOUND, "Not Found").into_response(),
        }
    }
}

/// A translate request: the token bucket first, then the script and the delay.
async fn translate(s: &Core<Wire>, logged: &Logged) -> Response {
    let arrived_ms = match admit(s) {
        Ok(at) => at,
        Err(retry_after) => {
            let r = rate_limited(s, retry_after);
            answered(s, r.status(), 0, logged);
            return r;
        }
    };
    let b = s.next();
    let delay = s.script().settings.delay;
    tokio::time::sleep(delay).await;
    let r = match s.proto.api {
        Api::LibreTranslate => lt_translate(s, b, logged).await,
        Api::MyMemory => mm_get(s, b, logged).await,
    };
    answered(s, r.status(), arrived_ms, logged);
    r
}

/// The token bucket's 429: LibreTranslate's Flask-Limiter body, MyMemory plain text.
fn rate_limited(s: &Core<Wire>, retry_after: u64) -> Response {
    let per_second = (s.script().settings.bucket.as_ref()).map_or(0.0, |b| b.limit.per_second);
    let mut r = match s.proto.api {
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

async fn lt_translate(s: &Core<Wire>, b: Behaviour, req: &Logged) -> Response {
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
    let expected_key = s.script().settings.api_key.clone();
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
    let limit = s.script().settings.batch_limit;
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
        // One detection for the whole batch, repeated.
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

/// MyMemory's quota answer: HTTP 200, `quotaFinished`, the warning as the text.
fn mm_quota() -> Response {
    mm_reply(
        200,
        mm_body(
            Some(MYMEMORY_QUOTA_WARNING),
            429,
            MYMEMORY_QUOTA_WARNING,
            true,
        ),
    )
}

/// Count `q` against the day when one is set; false when it would go past it.
fn mm_within_day(s: &Core<Wire>, q: &str, email: bool) -> bool {
    let mut script = s.script();
    let Some(day) = script.settings.daily.as_mut() else {
        return true;
    };
    let limit = if email { day.with_email } else { day.anonymous };
    let chars = q.chars().count() as u64;
    if day.used + chars > limit {
        day.refused += 1;
        return false;
    }
    day.used += chars;
    true
}

async fn mm_get(s: &Core<Wire>, b: Behaviour, req: &Logged) -> Response {
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
        Behaviour::QuotaExhausted => return mm_quota(),
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
    if !mm_within_day(s, q, req.query_param("de").is_some()) {
        return mm_quota();
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
