//! MyMemory `GET /get`: one text of at most 500 bytes per request.
//!
//! Owns the query (`q`, `langpair=from|to`, `de=` when an e-mail is set, `key=` when
//! a key is set), the 500-byte cap (a longer text is refused locally, never sent) and
//! the classification of answers. MyMemory reports most failures **inside** the JSON
//! body, often with HTTP 200 (see docs/providers.md), so the body decides first:
//! - `quotaFinished: true`, a `MYMEMORY WARNING…` text, or body `responseStatus` 429
//!   → `QuotaExhausted`, whatever the HTTP status;
//! - `QUERY LENGTH LIMIT EXCEEDED`, `INVALID LANGUAGE PAIR`, body `responseStatus` 403
//!   → `BadRequest`;
//! - HTTP 429 without a quota body → `RateLimited`; 5xx → `Transient`;
//! - `responseStatus` may be a number or a string; anything not `200` is a failure.
//!
//! The key and the e-mail travel in the query string, so no message built here or in
//! the transport layer contains the URL.

use serde_json::Value;

use super::{
    About, Allowance, BatchLimits, Health, Http, KeyNeed, ProviderError, Reply, Sent, Service,
};
use crate::config::ProviderSettings;

/// MyMemory's documented cap on `q`, in UTF-8 bytes.
pub(super) const MAX_QUERY_BYTES: usize = 500;

/// Characters a day without an e-mail, and with one (`de`), per MyMemory's usage
/// limits page.
pub(super) const DAILY_ANONYMOUS: u64 = 5_000;
/// See [`DAILY_ANONYMOUS`].
pub(super) const DAILY_WITH_EMAIL: u64 = 50_000;

/// The MyMemory wire format.
#[derive(Debug)]
pub(super) struct MyMemory {
    /// Contact e-mail sent as `de=`, when set.
    email: Option<String>,
    /// Byte cap per text: the config's, never above [`MAX_QUERY_BYTES`].
    max_bytes: usize,
}

impl Service for MyMemory {
    fn new(settings: &ProviderSettings) -> MyMemory {
        let configured = settings.max_bytes_per_text;
        MyMemory {
            email: (settings.email.as_deref().map(str::trim))
                .filter(|e| !e.is_empty())
                .map(str::to_string),
            max_bytes: if configured == 0 {
                MAX_QUERY_BYTES
            } else {
                configured.min(MAX_QUERY_BYTES)
            },
        }
    }

    /// Keyless; 5,000 characters a day, 50,000 with `email` set.
    fn about(&self) -> About {
        About {
            unofficial: false,
            key: KeyNeed::Optional,
            allowance: Allowance::Daily(if self.email.is_some() {
                DAILY_WITH_EMAIL
            } else {
                DAILY_ANONYMOUS
            }),
        }
    }

    /// One text per request, at most 500 bytes, whatever the config says.
    fn limits(&self, settings: &ProviderSettings) -> BatchLimits {
        BatchLimits {
            max_texts: 1,
            max_chars: settings.max_chars.min(self.max_bytes),
            max_bytes_per_text: Some(self.max_bytes),
        }
    }

    /// Options that change the output: machine translation is on (the default).
    fn cache_options(&self) -> String {
        "mt=1".to_string()
    }

    /// MyMemory takes ISO 639-1 or RFC 3066 codes as they are (`ar`, `fa`, `fa-IR`).
    fn code(&self, ours: &str, _target: bool) -> String {
        ours.to_string()
    }

    /// One `GET /get` for the single text sent: `q`, `langpair`, `de` when an
    /// e-mail is set, `key` when a key is set.
    fn request(
        &self,
        http: &Http,
        sent: &Sent<'_>,
    ) -> Result<reqwest::RequestBuilder, ProviderError> {
        let [text] = sent.texts else {
            return Err(ProviderError::BadRequest(format!(
                "MyMemory takes one text per request, got {}",
                sent.texts.len()
            )));
        };
        if text.len() > self.max_bytes {
            return Err(ProviderError::BadRequest(format!(
                "text of {} bytes is over MyMemory's {}-byte limit; it must be split",
                text.len(),
                self.max_bytes
            )));
        }
        let mut query: Vec<(&str, &str)> = Vec::with_capacity(4);
        let langpair = format!("{}|{}", sent.from, sent.to);
        query.push(("q", text));
        query.push(("langpair", &langpair));
        if let Some(email) = &self.email {
            query.push(("de", email));
        }
        if let Some(key) = &http.key {
            query.push(("key", key.expose()));
        }
        Ok(http.client.get(http.url("get")).query(&query))
    }

    fn classify(
        &self,
        http: &Http,
        reply: &Reply,
        _sent: &Sent<'_>,
    ) -> Result<Vec<String>, ProviderError> {
        classify(http, reply).map(|t| vec![t])
    }

    /// MyMemory has no usage endpoint: one five-character translation (`hello`,
    /// en → it) shows reachability and whether today's quota is already used up.
    /// (No languages endpoint either: an unsupported pair comes back as an in-body
    /// `INVALID LANGUAGE PAIR` for the first text, classified `BadRequest`.)
    async fn health(&self, http: &Http) -> Result<Health, ProviderError> {
        let texts = ["hello".to_string()];
        let sent = Sent {
            from: "en",
            to: "it",
            texts: &texts,
        };
        super::send(self, http, &sent).await?;
        Ok(Health {
            detail: "GET /get (5 characters, en → it): answered; MyMemory does not report the remaining quota".into(),
            quota: None,
        })
    }
}

/// Turn one answer into a translation or an error class.
fn classify(http: &Http, reply: &Reply) -> Result<String, ProviderError> {
    let json: Option<Value> = serde_json::from_str(&reply.body).ok();
    let body = json.as_ref().map(Body::read);
    let detail = || match &body {
        Some(b) => http.scrub(b.message()),
        None => http.scrub(&reply.body),
    };
    if let Some(b) = &body
        && b.is_quota()
    {
        return Err(ProviderError::QuotaExhausted(detail()));
    }
    let status = reply.status;
    match status {
        200 => {}
        429 => {
            return Err(ProviderError::RateLimited {
                retry_after: reply.retry_after,
                message: format!("HTTP 429: {}", detail()),
            });
        }
        408 | 500..=599 => {
            return Err(ProviderError::Transient(format!(
                "HTTP {status}: {}",
                detail()
            )));
        }
        401 => return Err(ProviderError::AuthFailed(format!("HTTP 401: {}", detail()))),
        // An in-body error explains a non-200 answer; an in-body 200 cannot make a
        // success of one (fuzzing found HTTP 0 with `responseStatus: 200` accepted).
        _ if body
            .as_ref()
            .is_some_and(|b| b.status.is_some_and(|s| s != 200)) => {}
        _ => {
            return Err(ProviderError::BadRequest(format!(
                "HTTP {status}: {}",
                detail()
            )));
        }
    }
    let Some(b) = body else {
        // Scrub before cutting: a key cut in half would no longer be recognised.
        let start: String = http.scrub(&reply.body).chars().take(80).collect();
        return Err(ProviderError::Malformed(format!(
            "HTTP {status} without a JSON body: {start}"
        )));
    };
    b.result(http)
}

/// The fields of a `/get` answer that decide its fate.
struct Body<'a> {
    /// `responseData.translatedText`, when a string.
    text: Option<&'a str>,
    /// `responseStatus`, number or numeric string.
    status: Option<u16>,
    quota_finished: bool,
    details: Option<&'a str>,
}

impl<'a> Body<'a> {
    fn read(v: &'a Value) -> Body<'a> {
        let status = match v.get("responseStatus") {
            Some(Value::Number(n)) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        Body {
            text: v
                .pointer("/responseData/translatedText")
                .and_then(Value::as_str),
            status,
            quota_finished: v.get("quotaFinished").and_then(Value::as_bool) == Some(true),
            details: v
                .get("responseDetails")
                .and_then(Value::as_str)
                .filter(|d| !d.is_empty()),
        }
    }

    /// The daily quota is used up.
    fn is_quota(&self) -> bool {
        let warns =
            |s: Option<&str>| s.is_some_and(|s| s.trim_start().starts_with("MYMEMORY WARNING"));
        self.quota_finished || warns(self.text) || warns(self.details) || self.status == Some(429)
    }

    /// What the server said, for a message.
    fn message(&self) -> &'a str {
        self.details.or(self.text).unwrap_or("no details")
    }

    /// A 200-or-structured body: the translation, or its in-body error.
    fn result(&self, http: &Http) -> Result<String, ProviderError> {
        let detail = || http.scrub(self.message());
        match self.status {
            Some(200) => {}
            Some(403) => return Err(ProviderError::BadRequest(detail())),
            Some(401) => return Err(ProviderError::AuthFailed(detail())),
            Some(s @ 500..=599) => {
                return Err(ProviderError::Transient(format!(
                    "status {s}: {}",
                    detail()
                )));
            }
            Some(s) => {
                return Err(ProviderError::BadRequest(format!(
                    "status {s}: {}",
                    detail()
                )));
            }
            None => {
                return Err(ProviderError::Malformed(
                    "no numeric `responseStatus` in the answer".to_string(),
                ));
            }
        }
        let Some(text) = self.text else {
            return Err(ProviderError::Malformed(
                "no `responseData.translatedText` string in the answer".to_string(),
            ));
        };
        if is_refusal(text) {
            return Err(ProviderError::BadRequest(http.scrub(text)));
        }
        Ok(text.to_string())
    }
}

/// In-body refusals that have been seen with `responseStatus` 200.
fn is_refusal(text: &str) -> bool {
    const REFUSALS: [&str; 3] = [
        "QUERY LENGTH LIMIT EXCEEDED",
        "INVALID LANGUAGE PAIR",
        "NO QUERY SPECIFIED",
    ];
    let t = text.trim_start();
    REFUSALS.iter().any(|r| t.starts_with(r))
}
