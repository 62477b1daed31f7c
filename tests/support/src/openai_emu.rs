//! A local emulator of an OpenAI-compatible server: OpenAI, Ollama,
//! llama.cpp and vLLM share its shapes.
//!
//! An [`OpenaiEmu`] is an axum server on `127.0.0.1:0` serving
//! - `POST /v1/chat/completions`: reads the numbered items of the user message (lines
//!   `<<<k>>>`, then the text, up to `<<<END>>>`; parsed here independently of the
//!   provider's parser) and answers a `chat.completion` object whose
//!   `choices[0].message.content` holds the items "translated" with
//!   [`fake_translate`], or does what the scripted [`Behaviour`] says;
//! - `GET /v1/models`: `{"object": "list", "data": [{"id", "object": "model", …}]}`,
//!   or a 404 when [`OpenaiEmu::set_models_endpoint`] turned it off;
//! - anything else: OpenAI's 404 `Invalid URL` error.
//!
//! Errors have OpenAI's shape `{"error": {"message", "type", "param", "code"}}`
//! (llama.cpp's numeric `code` for its 503). A key is checked only after
//! [`OpenaiEmu::require_key`] (401 `invalid_api_key`, like OpenAI; local servers accept
//! anything) and the model only after [`OpenaiEmu::serve_only`] (404
//! `model_not_found`).
//!
//! Every request is logged ([`Logged`]: path, headers, JSON body, the system and user
//! messages, the parsed items, the arrival [`Instant`]). What the next chat request
//! gets is scripted with [`OpenaiEmu::push`] over a default [`OpenaiEmu::set_mode`];
//! `GET /v1/models` never consumes the queue. Start it with [`OpenaiEmu::start`] in a
//! tokio test or [`OpenaiEmu::spawn_blocking_runtime`] for tests that run the binary.
//! The server machinery (queue, log, in-flight counts, runtime, shutdown) is the
//! generic [`Server`] of `server.rs`; this file holds the [`Openai`] protocol.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::server::{Core, Protocol, Request, Server};

pub use super::emulator::fake_translate;

/// Models listed by `GET /v1/models` unless told otherwise.
pub const DEFAULT_MODELS: [&str; 2] = ["gpt-4o-mini", "llama3.2:latest"];

/// What the emulator does with one chat request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// (a) Answer every item, translated, with the same markers.
    Honest,
    /// (b) Answer every item but the last.
    DropItem,
    /// (c) Honest items wrapped in chatter before and after.
    Commentary,
    /// (d) HTTP 429 `rate_limit_exceeded` with `retry-after-ms` and a whole-second
    /// `retry-after` rounded up, as OpenAI sends them.
    RateLimited {
        /// `retry-after-ms`.
        ms: u64,
    },
    /// (e) HTTP 429 `insufficient_quota`: the balance is used up.
    InsufficientQuota,
    /// (f) llama.cpp while loading: 503 `{"error":{"code":503,"message":"Loading model",…}}`.
    LoadingModel,
    /// Ollama with a full queue: 503 `server busy, please try again…`.
    ServerBusy,
    /// (g) The honest answer cut in half, `finish_reason: "length"`.
    Length,
    /// (h) A model that obeys instructions inside items: an item that says
    /// "Summarize" or "ignore previous instructions" is answered with what it asks
    /// ("OK", or a one-line summary) under its marker; the others are translated.
    Obedient,
    /// (h) Worse: when any item holds an instruction, the whole reply is the obeyed
    /// answer, without markers.
    Hijacked,
    /// Any status with an OpenAI-shaped error.
    Error {
        /// HTTP status.
        status: u16,
        /// `error.type`.
        kind: String,
        /// `error.code`.
        code: String,
        /// `error.message`.
        message: String,
    },
    /// Never answer (until the emulator drops).
    Hang,
}

impl Behaviour {
    /// An OpenAI-shaped error answer.
    pub fn error(status: u16, kind: &str, code: &str, message: &str) -> Behaviour {
        Behaviour::Error {
            status,
            kind: kind.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Logged {
    /// `GET`, `POST`.
    pub method: String,
    /// Path.
    pub path: String,
    /// Request headers, names lower case.
    pub headers: Vec<(String, String)>,
    /// The JSON body, when there is one.
    pub body: Option<Value>,
    /// The `system` message.
    pub system: Option<String>,
    /// The `user` message.
    pub user: Option<String>,
    /// The numbered items of the user message, in order.
    pub items: Vec<(usize, String)>,
    /// When it arrived.
    pub at: Instant,
}

impl Logged {
    /// The header called `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        (self.headers.iter())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The item texts, in order.
    pub fn texts(&self) -> Vec<String> {
        self.items.iter().map(|(_, t)| t.clone()).collect()
    }

    /// Whether this is a chat-completions request.
    pub fn is_chat(&self) -> bool {
        self.method == "POST" && self.path == "/v1/chat/completions"
    }
}

/// A running emulator; stops when dropped.
pub type OpenaiEmu = Server<Openai>;

/// The OpenAI-compatible protocol.
pub struct Openai;

/// What the server accepts and lists.
pub struct Settings {
    key: Option<String>,
    served: Option<Vec<String>>,
    models: Vec<String>,
    models_endpoint: bool,
}

impl OpenaiEmu {
    fn settings() -> Settings {
        Settings {
            key: None,
            served: None,
            models: DEFAULT_MODELS.iter().map(|m| m.to_string()).collect(),
            models_endpoint: true,
        }
    }

    /// Start on the current tokio runtime.
    pub async fn start() -> OpenaiEmu {
        Server::launch(Openai, Behaviour::Honest, OpenaiEmu::settings()).await
    }

    /// Start on a runtime of its own in a background thread, for tests that run the
    /// binary.
    pub fn spawn_blocking_runtime() -> OpenaiEmu {
        Server::launch_blocking(Openai, Behaviour::Honest, OpenaiEmu::settings())
    }

    /// The provider endpoint, `/v1` included: `http://127.0.0.1:40123/v1`.
    pub fn endpoint(&self) -> String {
        format!("http://{}/v1", self.addr())
    }

    /// The server root, without `/v1`.
    pub fn root(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// Require `Authorization: Bearer <key>` (401 otherwise), as OpenAI does.
    pub fn require_key(&self, key: &str) {
        self.core().script().settings.key = Some(key.to_string());
    }

    /// Answer 404 `model_not_found` for any other model.
    pub fn serve_only(&self, models: &[&str]) {
        self.core().script().settings.served = Some(models.iter().map(|m| m.to_string()).collect());
    }

    /// What `GET /v1/models` lists.
    pub fn set_models(&self, models: &[&str]) {
        self.core().script().settings.models = models.iter().map(|m| m.to_string()).collect();
    }

    /// `false`: `GET /v1/models` answers 404, like a gateway without it.
    pub fn set_models_endpoint(&self, on: bool) {
        self.core().script().settings.models_endpoint = on;
    }

    /// The chat requests so far.
    pub fn chats(&self) -> Vec<Logged> {
        self.requests()
            .into_iter()
            .filter(Logged::is_chat)
            .collect()
    }

    /// Every item text received, in order.
    pub fn texts_received(&self) -> Vec<String> {
        self.chats().iter().flat_map(Logged::texts).collect()
    }
}

impl Protocol for Openai {
    type Behaviour = Behaviour;
    type Log = Logged;
    type Settings = Settings;

    fn log(req: &Request) -> Logged {
        let body: Option<Value> = serde_json::from_slice(&req.body).ok();
        let message = |role: &str| {
            body.as_ref()
                .and_then(|b| b["messages"].as_array())
                .and_then(|m| m.iter().find(|m| m["role"] == role))
                .and_then(|m| m["content"].as_str())
                .map(str::to_string)
        };
        let (system, user) = (message("system"), message("user"));
        Logged {
            method: req.method.to_string(),
            path: req.uri.path().to_string(),
            headers: (req.headers.iter())
                .map(|(k, v)| {
                    let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
                    (k.as_str().to_string(), v)
                })
                .collect(),
            items: user.as_deref().map(parse_items).unwrap_or_default(),
            body,
            system,
            user,
            at: Instant::now(),
        }
    }

    /// Only chat requests count as arrivals.
    fn arrived(log: &Logged) -> Option<Instant> {
        Some(log.at).filter(|_| log.is_chat())
    }

    async fn handle(s: &Core<Openai>, req: &Request, logged: &Logged) -> Response {
        match (req.method.as_str(), req.uri.path()) {
            ("POST", "/v1/chat/completions") => chat(s, logged).await,
            ("GET", "/v1/models") => match key_refusal(s, logged) {
                Some(r) => r,
                None => models(s),
            },
            (m, p) => error(
                404,
                "invalid_request_error",
                "",
                &format!("Invalid URL ({m} {p})"),
            ),
        }
    }
}

/// The items of a user message: a line `<<<k>>>` opens item k, `<<<END>>>` ends.
pub fn parse_items(user: &str) -> Vec<(usize, String)> {
    let mut items: Vec<(usize, Vec<&str>)> = Vec::new();
    for line in user.lines() {
        let marker = line.strip_prefix("<<<").and_then(|l| l.strip_suffix(">>>"));
        match marker {
            Some("END") => break,
            Some(k) if k.parse::<usize>().is_ok() => items.push((k.parse().unwrap(), vec![])),
            _ => {
                if let Some((_, lines)) = items.last_mut() {
                    lines.push(line);
                }
            }
        }
    }
    (items.into_iter())
        .map(|(k, lines)| (k, lines.join("\n")))
        .collect()
}

/// An OpenAI error answer; `code` empty → `null`.
fn error(status: u16, kind: &str, code: &str, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let code = if code.is_empty() {
        Value::Null
    } else {
        json!(code)
    };
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": code}});
    (status, axum::Json(body)).into_response()
}

fn models(s: &Core<Openai>) -> Response {
    let script = s.script();
    if !script.settings.models_endpoint {
        return error(
            404,
            "invalid_request_error",
            "",
            "Invalid URL (GET /v1/models)",
        );
    }
    let data: Vec<Value> = (script.settings.models.iter())
        .map(|m| json!({"id": m, "object": "model", "created": 1_700_000_000, "owned_by": "emulator"}))
        .collect();
    axum::Json(json!({"object": "list", "data": data})).into_response()
}

/// The key check, as OpenAI does it on every endpoint; `None` when the key is right
/// or none is required.
fn key_refusal(s: &Core<Openai>, req: &Logged) -> Option<Response> {
    let script = s.script();
    if let Some(key) = &script.settings.key {
        match req
            .header("authorization")
            .and_then(|a| a.strip_prefix("Bearer "))
        {
            Some(k) if k == key => {}
            Some(_) => {
                return Some(error(
                    401,
                    "invalid_request_error",
                    "invalid_api_key",
                    "Incorrect API key provided: sk-****. You can find your API key at https://platform.openai.com/account/api-keys.",
                ));
            }
            None => {
                return Some(error(
                    401,
                    "invalid_request_error",
                    "",
                    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                ));
            }
        }
    }
    None
}

/// Key and model checks; `None` when the request may proceed.
fn refusal(s: &Core<Openai>, req: &Logged) -> Option<Response> {
    if let Some(r) = key_refusal(s, req) {
        return Some(r);
    }
    let script = s.script();
    let model = req.body.as_ref().and_then(|b| b["model"].as_str());
    if let (Some(served), Some(m)) = (&script.settings.served, model)
        && !served.iter().any(|x| x == m)
    {
        return Some(error(
            404,
            "invalid_request_error",
            "model_not_found",
            &format!("The model `{m}` does not exist or you do not have access to it."),
        ));
    }
    None
}

async fn chat(s: &Core<Openai>, req: &Logged) -> Response {
    if let Some(r) = refusal(s, req) {
        return r;
    }
    if req.items.is_empty() {
        return error(
            400,
            "invalid_request_error",
            "",
            "emulator: no <<<k>>> items",
        );
    }
    let model = (req.body.as_ref())
        .and_then(|b| b["model"].as_str())
        .unwrap_or("default")
        .to_string();
    match s.next() {
        Behaviour::Honest => completion(&model, &honest(&req.items), "stop"),
        Behaviour::DropItem => {
            let items = &req.items[..req.items.len() - 1];
            completion(&model, &honest(items), "stop")
        }
        Behaviour::Commentary => {
            let text = format!(
                "Sure! Here are the translations:\n\n{}\n\nLet me know if you need anything else.",
                honest(&req.items)
            );
            completion(&model, &text, "stop")
        }
        Behaviour::RateLimited { ms } => {
            let mut r = error(
                429,
                "requests",
                "rate_limit_exceeded",
                &format!(
                    "Rate limit reached for {model} in organization org-emu on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in {ms}ms."
                ),
            );
            let h = r.headers_mut();
            h.insert("retry-after-ms", HeaderValue::from(ms));
            h.insert("retry-after", HeaderValue::from(ms.div_ceil(1000)));
            r
        }
        Behaviour::InsufficientQuota => error(
            429,
            "insufficient_quota",
            "insufficient_quota",
            "You exceeded your current quota, please check your plan and billing details.",
        ),
        Behaviour::LoadingModel => {
            let body = json!({"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}});
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response()
        }
        Behaviour::ServerBusy => error(
            503,
            "api_error",
            "",
            "server busy, please try again.  maximum pending requests exceeded",
        ),
        Behaviour::Length => {
            let full = honest(&req.items);
            let half: String = full.chars().take(full.chars().count() / 2).collect();
            completion(&model, &half, "length")
        }
        Behaviour::Obedient => completion(&model, &obedient(&req.items), "stop"),
        Behaviour::Hijacked => {
            let obeyed = req.items.iter().find_map(|(_, t)| obey(t));
            match obeyed {
                Some(answer) => completion(&model, &answer, "stop"),
                None => completion(&model, &honest(&req.items), "stop"),
            }
        }
        Behaviour::Error {
            status,
            kind,
            code,
            message,
        } => error(status, &kind, &code, &message),
        Behaviour::Hang => {
            s.wait_closed().await;
            error(503, "api_error", "", "emulator closed")
        }
    }
}

/// The answer of a well-behaved model: every item translated under its marker.
fn honest(items: &[(usize, String)]) -> String {
    answer(items, fake_translate)
}

/// The answer of a model that carries out instructions found in items.
fn obedient(items: &[(usize, String)]) -> String {
    answer(items, |t| obey(t).unwrap_or_else(|| fake_translate(t)))
}

fn answer(items: &[(usize, String)], f: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    for (k, t) in items {
        out.push_str(&format!("<<<{k}>>>\n{}\n", f(t)));
    }
    out.push_str("<<<END>>>");
    out
}

/// What an obedient model answers to an item holding an instruction.
fn obey(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    // The same two instructions in Arabic: "ignore the previous instructions", "summarize".
    if lower.contains("تجاهل") && lower.contains("التعليمات") {
        return Some("OK".to_string());
    }
    if lower.contains("لخص") || lower.contains("لخّص") {
        return Some("Summary: Russia will help the Taliban against ISIS.".to_string());
    }
    if lower.contains("ignore previous instructions") {
        Some(if lower.contains("reply with ok") {
            "OK".to_string()
        } else {
            "Understood.".to_string()
        })
    } else if lower.contains("summarize") {
        Some("Summary: Russia will help the Taliban against ISIS.".to_string())
    } else {
        None
    }
}

fn completion(model: &str, content: &str, finish_reason: &str) -> Response {
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let body = json!({
        "id": "chatcmpl-emulator",
        "object": "chat.completion",
        "created": created,
        "model": model,
        "system_fingerprint": "fp_emulator",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": null},
            "logprobs": null,
            "finish_reason": finish_reason
        }],
        "usage": {"prompt_tokens": 100, "completion_tokens": content.len() / 4, "total_tokens": 100 + content.len() / 4}
    });
    axum::Json(body).into_response()
}
