//! The machinery every local API emulator shares, generic over the API spoken.
//!
//! A [`Server`] is an axum server on `127.0.0.1:0` that logs every request, counts
//! the requests in flight, and hands each one to a [`Protocol`]: the emulator's own
//! routes and handlers, its behaviour type, its log entry and its settings. What the
//! next scripted request gets is queued with [`Server::push`] (consumed one per
//! request through [`Core::next`]) over a default [`Server::set_mode`]; which
//! requests consume the queue is the protocol's choice.
//!
//! Use [`Server::launch`] inside a tokio test, or [`Server::launch_blocking`] from a
//! plain `#[test]` that runs the real binary: the server then has its own runtime on
//! a background thread. Either way it stops when the `Server` drops, and handlers
//! waiting in [`Core::wait_closed`] (a hanging request) return then.
//!
//! [`Logged`] is the request log entry most emulators use. [`RawServer`] is the core
//! with no API of its own: it answers with a raw status, headers and body the test
//! gives ([`Reply`]), for the odd answers no emulator produces by itself.

use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::sync::watch;

/// One emulated API: what a [`Server`] needs besides its shared machinery.
pub trait Protocol: Sized + Send + Sync + 'static {
    /// A scripted behaviour.
    type Behaviour: Clone + Send + 'static;
    /// One logged request.
    type Log: Clone + Send + Sync + 'static;
    /// Settings changed while running (keys, limits, …), under the script's lock.
    type Settings: Send + 'static;

    /// The log entry for a request, made as it arrives.
    fn log(req: &Request) -> Self::Log;

    /// When a logged request arrived, if it counts in [`Server::arrivals`].
    fn arrived(log: &Self::Log) -> Option<Instant>;

    /// Answer a request (already logged and counted in flight).
    fn handle(
        core: &Core<Self>,
        req: &Request,
        log: &Self::Log,
    ) -> impl Future<Output = Response> + Send;
}

/// A request as received.
pub struct Request {
    /// The method.
    pub method: Method,
    /// The URI (path and query).
    pub uri: Uri,
    /// The headers.
    pub headers: HeaderMap,
    /// The raw body.
    pub body: Bytes,
}

impl Request {
    /// The `Content-Type` header, or `""`.
    pub fn content_type(&self) -> &str {
        (self.headers.get(header::CONTENT_TYPE))
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// The script: queued behaviours over a default, the request log, and settings.
pub struct Script<P: Protocol> {
    /// Behaviours for the next scripted requests, in order.
    pub queue: VecDeque<P::Behaviour>,
    /// The behaviour once the queue is empty.
    pub mode: P::Behaviour,
    /// Every request so far, in arrival order.
    pub log: Vec<P::Log>,
    /// The protocol's own settings.
    pub settings: P::Settings,
}

/// What the handlers share: the protocol, the script, in-flight counters, shutdown.
pub struct Core<P: Protocol> {
    /// The protocol's fixed state.
    pub proto: P,
    state: Mutex<Script<P>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    closed: watch::Receiver<bool>,
}

impl<P: Protocol> Core<P> {
    /// The script, locked (a poisoned lock is taken over).
    pub fn script(&self) -> MutexGuard<'_, Script<P>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next behaviour: the queue's head, else the mode.
    pub fn next(&self) -> P::Behaviour {
        let mut s = self.script();
        s.queue.pop_front().unwrap_or_else(|| s.mode.clone())
    }

    /// Return once the server is closing.
    pub async fn wait_closed(&self) {
        let mut rx = self.closed.clone();
        while !*rx.borrow_and_update() {
            if rx.changed().await.is_err() {
                return;
            }
        }
    }

    /// The most requests that were being handled at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }
}

/// A running emulator; stops when dropped.
pub struct Server<P: Protocol> {
    addr: SocketAddr,
    core: Arc<Core<P>>,
    closed: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl<P: Protocol> Server<P> {
    fn core_for(
        proto: P,
        mode: P::Behaviour,
        settings: P::Settings,
    ) -> (Arc<Core<P>>, watch::Sender<bool>) {
        let (closed, rx) = watch::channel(false);
        let core = Arc::new(Core {
            proto,
            state: Mutex::new(Script {
                queue: VecDeque::new(),
                mode,
                log: Vec::new(),
                settings,
            }),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            closed: rx,
        });
        (core, closed)
    }

    /// Start on the current tokio runtime.
    pub async fn launch(proto: P, mode: P::Behaviour, settings: P::Settings) -> Server<P> {
        let (core, closed) = Server::core_for(proto, mode, settings);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        tokio::spawn(serve(listener, core.clone()));
        Server {
            addr,
            core,
            closed,
            thread: None,
        }
    }

    /// Start on a runtime of its own in a background thread, for tests that are not
    /// async (e.g. running the binary with `assert_cmd`).
    pub fn launch_blocking(proto: P, mode: P::Behaviour, settings: P::Settings) -> Server<P> {
        let (core, closed) = Server::core_for(proto, mode, settings);
        let (tx, ready) = std::sync::mpsc::channel();
        let for_thread = core.clone();
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
        Server {
            addr,
            core,
            closed,
            thread: Some(thread),
        }
    }

    /// What the handlers share.
    pub fn core(&self) -> &Core<P> {
        &self.core
    }

    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queue a behaviour for the next scripted request not yet scripted.
    pub fn push(&self, b: P::Behaviour) {
        self.core.script().queue.push_back(b);
    }

    /// Queue `b` for the next `n` scripted requests.
    pub fn push_n(&self, b: P::Behaviour, n: usize) {
        let mut s = self.core.script();
        s.queue.extend(std::iter::repeat_n(b, n));
    }

    /// The behaviour once the queue is empty.
    pub fn set_mode(&self, b: P::Behaviour) {
        self.core.script().mode = b;
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<P::Log> {
        self.core.script().log.clone()
    }

    /// How many requests arrived.
    pub fn count(&self) -> usize {
        self.core.script().log.len()
    }

    /// Arrival times of the requests the protocol counts (all, unless it says
    /// otherwise).
    pub fn arrivals(&self) -> Vec<Instant> {
        self.core
            .script()
            .log
            .iter()
            .filter_map(P::arrived)
            .collect()
    }

    /// The most requests that were being handled at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.core.max_in_flight()
    }

    /// Requests being handled right now.
    pub fn in_flight(&self) -> usize {
        self.core.in_flight.load(Ordering::SeqCst)
    }
}

impl<P: Protocol> Drop for Server<P> {
    fn drop(&mut self) {
        let _ = self.closed.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Accept until the server drops. Connection tasks left behind end with their
/// runtime; hanging handlers return when the server closes.
async fn serve<P: Protocol>(listener: tokio::net::TcpListener, core: Arc<Core<P>>) {
    let app = Router::new().fallback(handle::<P>).with_state(core.clone());
    tokio::select! {
        r = axum::serve(listener, app) => { let _ = r; }
        () = core.wait_closed() => {}
    }
}

/// Counts a request in flight while alive.
struct InFlight<'a, P: Protocol>(&'a Core<P>);

impl<'a, P: Protocol> InFlight<'a, P> {
    fn enter(c: &'a Core<P>) -> InFlight<'a, P> {
        let now = c.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        c.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(c)
    }
}

impl<P: Protocol> Drop for InFlight<'_, P> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn handle<P: Protocol>(
    State(core): State<Arc<Core<P>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let _in_flight = InFlight::enter(&core);
    let req = Request {
        method,
        uri,
        headers,
        body,
    };
    let logged = P::log(&req);
    core.script().log.push(logged.clone());
    P::handle(&core, &req, &logged).await
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
    /// The body as the emulator parsed it (JSON as JSON, a form as an object of
    /// strings, other text as a string), `None` when there is none.
    pub body: Option<Value>,
    /// Request headers, names lower case.
    pub headers: Vec<(String, String)>,
    /// When it arrived.
    pub at: Instant,
}

impl Logged {
    /// The entry for `req` with the body as parsed, arriving now.
    pub fn new(req: &Request, body: Option<Value>) -> Logged {
        Logged {
            method: req.method.to_string(),
            path: req.uri.path().to_string(),
            query: pairs(req.uri.query().unwrap_or("").as_bytes()),
            body,
            headers: (req.headers.iter())
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

    /// The entry for `req`, its body JSON when so typed, else text (`None` when
    /// empty).
    pub fn json(req: &Request) -> Logged {
        let body = &req.body;
        let parsed = if body.is_empty() {
            None
        } else if req.content_type().starts_with("application/json") {
            Some(json_body(body))
        } else {
            Some(text_body(body))
        };
        Logged::new(req, parsed)
    }

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
}

/// URL-encoded pairs, decoded, in order.
pub fn pairs(s: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(s)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// A body as text.
pub fn text_body(body: &[u8]) -> Value {
    Value::String(String::from_utf8_lossy(body).into())
}

/// A body as JSON, or as text when it is not JSON.
pub fn json_body(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|_| text_body(body))
}

/// A URL-encoded form body as an object of strings.
pub fn form_body(body: &[u8]) -> Value {
    let map: serde_json::Map<String, Value> = pairs(body)
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    Value::Object(map)
}

/// HTTP 200 with this HTML body, where the client expects JSON.
pub fn html_ok(body: &'static str) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    r
}

/// [`html_ok`] with a gateway's error page.
pub fn malformed() -> Response {
    html_ok("<html><body>Bad Gateway (emulated)</body></html>")
}

/// A server with no API of its own: every request gets a [`Reply`] the test chose
/// (raw status, headers and body), fixed or computed from the request. For the odd
/// answers no emulator gives on its own: junk bodies, wrong shapes, a proxy's error
/// page, a server echoing the request. Requests are logged as [`Logged::json`].
pub struct Raw;

/// A server answering with canned replies.
pub type RawServer = Server<Raw>;

/// One raw answer: a status, headers and a body, sent as they are.
#[derive(Clone, Debug)]
pub struct Reply {
    status: StatusCode,
    headers: Vec<(header::HeaderName, HeaderValue)>,
    body: Bytes,
}

impl Reply {
    /// `status` with no headers and an empty body.
    pub fn new(status: u16) -> Reply {
        Reply {
            status: StatusCode::from_u16(status).expect("a valid HTTP status"),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// `status` with this body as `text/plain`.
    pub fn text(status: u16, body: impl Into<String>) -> Reply {
        Reply::new(status)
            .header("content-type", "text/plain")
            .body(body.into())
    }

    /// `status` with this value serialised as `application/json`.
    pub fn json(status: u16, body: &Value) -> Reply {
        Reply::new(status)
            .header("content-type", "application/json")
            .body(body.to_string())
    }

    /// The same, with this header added (sent as given).
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        let name = header::HeaderName::from_bytes(name.as_bytes()).expect("a valid header name");
        let value = HeaderValue::from_str(value).expect("a valid header value");
        self.headers.push((name, value));
        self
    }

    /// The same, with this body (raw bytes, not checked).
    pub fn body(mut self, body: impl Into<Bytes>) -> Reply {
        self.body = body.into();
        self
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut r = (self.status, self.body).into_response();
        r.headers_mut().remove(header::CONTENT_TYPE);
        for (name, value) in self.headers {
            r.headers_mut().append(name, value);
        }
        r
    }
}

/// What a [`RawServer`] answers: one reply, or a reply made from each request.
#[derive(Clone)]
pub enum Answer {
    /// This reply, to every request.
    Fixed(Reply),
    /// The reply this function makes from the request.
    Computed(Arc<dyn Fn(&Request) -> Reply + Send + Sync>),
}

impl Protocol for Raw {
    type Behaviour = Answer;
    type Log = Logged;
    type Settings = ();

    fn log(req: &Request) -> Logged {
        Logged::json(req)
    }

    fn arrived(log: &Logged) -> Option<Instant> {
        Some(log.at)
    }

    async fn handle(core: &Core<Self>, req: &Request, _: &Logged) -> Response {
        match core.next() {
            Answer::Fixed(reply) => reply.into_response(),
            Answer::Computed(make) => make(req).into_response(),
        }
    }
}

impl Server<Raw> {
    /// Start on the current tokio runtime, answering every request with `reply`.
    pub async fn reply(reply: Reply) -> RawServer {
        Server::launch(Raw, Answer::Fixed(reply), ()).await
    }

    /// Start on the current tokio runtime, answering each request with what `make`
    /// returns for it.
    pub async fn reply_with(make: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> RawServer {
        Server::launch(Raw, Answer::Computed(Arc::new(make)), ()).await
    }
}
