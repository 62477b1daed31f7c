//! A local emulator of Google's keyless browser-extension endpoint, in the style of
//! [`super::emulator`]: a [`Server`] (axum on `127.0.0.1:0`, scripted behaviours, a
//! request log) speaking the [`GoogleWeb`] protocol as its known clients use it (see
//! docs/providers.md for the sources).
//!
//! - `GET` or `POST /translate_a/t?client=dict-chrome-ex&sl=ar&tl=en`, the texts as
//!   `q` parameters of the query string or of a form body (several `q` for several
//!   texts) → a JSON array with one element per `q`, in order: the translation as a
//!   string, or `[translation, detected language]` when `sl=auto`. The
//!   "translation" is [`fake_translate`].
//! - Its checks: another `client` → 403 (the endpoint serves the extension only), no
//!   `q` or no `tl` → 400, a URL over 16 KiB → 414 (Google's front end refuses longer
//!   ones).
//! - Modes: working; blocked, Google's "Sorry… unusual traffic" page (a captcha
//!   form) with HTTP 429 or with HTTP 200; quota: HTTP 429 without `Retry-After` (an
//!   unpublished limit), also reached by itself once
//!   [`GoogleWebEmu::set_character_limit`] characters have been served; and the
//!   failures every emulator has (500, malformed, wrong count, echo, hang).
//!
//! The log keeps the texts of a request, wherever they came from, as
//! `{"q": [..]}` in [`Logged::body`], so [`Logged::texts`] reads them.

use std::time::Instant;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub use super::emulator::{Logged, fake_translate};
use super::server::{Core, Protocol, Request, Server, malformed, pairs};

/// The translate path.
pub const PATH: &str = "/translate_a/t";
/// The only client the endpoint serves.
pub const CLIENT: &str = "dict-chrome-ex";
/// Longest request URL accepted, in bytes.
pub const MAX_URL_BYTES: usize = 16 * 1024;

/// Google's "Sorry…" page, as blocked clients receive it (abridged).
pub const SORRY_PAGE: &str = "<html><head><meta http-equiv=\"content-type\" content=\"text/html; charset=utf-8\"><title>Sorry...</title></head><body><div><h1>Sorry...</h1><p>We're sorry...</p><p>... but your computer or network may be sending automated queries. To protect our users, we can't process your request right now.</p></div><div>Our systems have detected unusual traffic from your computer network. This page checks to see if it's really you sending the requests, and not a robot.</div><form id=\"captcha-form\" action=\"index\" method=\"post\"></form><div>The block will expire shortly after those requests stop.</div></body></html>";

/// What the emulator does with one translate request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Translate with [`fake_translate`].
    Normal,
    /// The "Sorry…" page with HTTP 429.
    Sorry429,
    /// The "Sorry…" page with HTTP 200.
    Sorry200,
    /// HTTP 429 without `Retry-After`, a plain-text body.
    Quota,
    /// HTTP 500.
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
pub type GoogleWebEmu = Server<GoogleWeb>;

/// The google-web protocol.
pub struct GoogleWeb;

/// Characters served, and the limit after which every request gets [`Behaviour::Quota`].
#[derive(Default)]
pub struct Usage {
    served: u64,
    limit: Option<u64>,
}

impl GoogleWebEmu {
    /// Start on the current tokio runtime.
    pub async fn start() -> GoogleWebEmu {
        Server::launch(GoogleWeb, Behaviour::Normal, Usage::default()).await
    }

    /// Start on a runtime of its own in a background thread (for tests that run the
    /// binary).
    pub fn spawn_blocking_runtime() -> GoogleWebEmu {
        Server::launch_blocking(GoogleWeb, Behaviour::Normal, Usage::default())
    }

    /// Answer [`Behaviour::Quota`] once a request would take the characters served
    /// past `limit` (`None`: no limit, the default).
    pub fn set_character_limit(&self, limit: Option<u64>) {
        self.core().script().settings.limit = limit;
    }

    /// The translate requests only.
    pub fn translate_requests(&self) -> Vec<Logged> {
        (self.requests().into_iter())
            .filter(|r| r.path == PATH)
            .collect()
    }

    /// Every text received for translation, in order.
    pub fn texts_received(&self) -> Vec<String> {
        (self.translate_requests().iter())
            .flat_map(Logged::texts)
            .collect()
    }
}

impl Protocol for GoogleWeb {
    type Behaviour = Behaviour;
    type Log = Logged;
    type Settings = Usage;

    /// The texts from the query and from a form body, in that order, as `{"q": [..]}`.
    fn log(req: &Request) -> Logged {
        let mut q: Vec<Value> = pairs(req.uri.query().unwrap_or("").as_bytes())
            .into_iter()
            .filter(|(k, _)| k == "q")
            .map(|(_, v)| Value::String(v))
            .collect();
        if req
            .content_type()
            .starts_with("application/x-www-form-urlencoded")
        {
            q.extend(
                pairs(&req.body)
                    .into_iter()
                    .filter(|(k, _)| k == "q")
                    .map(|(_, v)| Value::String(v)),
            );
        }
        Logged::new(req, Some(json!({ "q": q })))
    }

    fn arrived(log: &Logged) -> Option<Instant> {
        Some(log.at)
    }

    async fn handle(s: &Core<GoogleWeb>, req: &Request, logged: &Logged) -> Response {
        match (logged.method.as_str(), logged.path.as_str()) {
            ("GET" | "POST", PATH) => translate(s, req, logged).await,
            _ => (StatusCode::NOT_FOUND, "Not Found").into_response(),
        }
    }
}

async fn translate(s: &Core<GoogleWeb>, req: &Request, logged: &Logged) -> Response {
    if req.uri.to_string().len() > MAX_URL_BYTES {
        return (
            StatusCode::URI_TOO_LONG,
            "414. The requested URL is too large.",
        )
            .into_response();
    }
    if logged.query_param("client") != Some(CLIENT) {
        return (StatusCode::FORBIDDEN, "403. That's an error.").into_response();
    }
    let b = s.next();
    match b {
        Behaviour::Hang => {
            s.wait_closed().await;
            return (StatusCode::SERVICE_UNAVAILABLE, "emulator closed").into_response();
        }
        Behaviour::Sorry429 => return sorry(StatusCode::TOO_MANY_REQUESTS),
        Behaviour::Sorry200 => return sorry(StatusCode::OK),
        Behaviour::Quota => return quota(),
        Behaviour::Status500 => {
            return (StatusCode::INTERNAL_SERVER_ERROR, "500. That's an error.").into_response();
        }
        Behaviour::Malformed => return malformed(),
        Behaviour::Normal | Behaviour::WrongCount | Behaviour::Echo => {}
    }
    let sent = logged.texts();
    let (Some(sl), Some(tl)) = (logged.query_param("sl"), logged.query_param("tl")) else {
        return (StatusCode::BAD_REQUEST, "400. That's an error.").into_response();
    };
    if sent.is_empty() || tl.is_empty() {
        return (StatusCode::BAD_REQUEST, "400. That's an error.").into_response();
    }
    let chars: u64 = sent.iter().map(|t| t.chars().count() as u64).sum();
    {
        let mut script = s.script();
        let usage = &mut script.settings;
        if usage.limit.is_some_and(|l| usage.served + chars > l) {
            return quota();
        }
        usage.served += chars;
    }
    let auto = sl == "auto";
    let mut out: Vec<Value> = sent
        .iter()
        .map(|t| {
            let text = if b == Behaviour::Echo {
                t.clone()
            } else {
                fake_translate(t)
            };
            if auto {
                json!([text, "ar"])
            } else {
                json!(text)
            }
        })
        .collect();
    if b == Behaviour::WrongCount {
        out.pop();
    }
    axum::Json(Value::Array(out)).into_response()
}

/// The "Sorry…" page with `status`.
fn sorry(status: StatusCode) -> Response {
    let mut r = (status, SORRY_PAGE).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=UTF-8"),
    );
    r
}

/// An unpublished limit reached: 429 without `Retry-After`.
fn quota() -> Response {
    (StatusCode::TOO_MANY_REQUESTS, "429. That's an error.").into_response()
}
