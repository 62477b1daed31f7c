//! LibreTranslate `POST /translate`: JSON body, batching through the `q` array.
//!
//! Owns the request shape (`q`, `source` always explicit, `target`, `format`, and
//! `api_key` only when a key is set, the only place the key goes) and the sorting of
//! answers into [`ProviderError`] classes (a key-only server answers 400, not 401; 403
//! `Too many request limits violations` is an IP ban). The statuses, following the
//! server's own handlers, and the sources are in `docs/providers.md`, section
//! "LibreTranslate".

use serde::{Deserialize, Serialize};

use super::{
    About, Allowance, BatchLimits, Health, Http, KeyNeed, Languages, ProviderError, Reply, Sent,
    Service, error_message,
};
use crate::config::ProviderSettings;

/// The LibreTranslate wire format. It has no state of its own.
#[derive(Debug)]
pub(super) struct LibreTranslate;

/// The JSON request body.
#[derive(Serialize)]
struct Request<'a> {
    q: &'a [String],
    source: &'a str,
    target: &'a str,
    format: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_key: Option<&'a str>,
}

/// `translatedText`: an array for an array `q`; a string for a string `q`.
#[derive(Deserialize)]
#[serde(untagged)]
enum Translated {
    Many(Vec<String>),
    One(String),
}

/// One entry of `GET /languages`.
#[derive(Deserialize)]
struct LanguageEntry {
    code: String,
    #[serde(default)]
    targets: Vec<String>,
}

#[derive(Deserialize)]
struct Response {
    #[serde(rename = "translatedText")]
    translated_text: Translated,
}

impl LibreTranslate {
    /// `GET /languages`: `[{"code", "name", "targets": [codes]}]`, exempt from rate
    /// limits.
    async fn pairs(&self, http: &Http) -> Result<Languages, ProviderError> {
        let reply = http
            .exchange(http.client.get(http.url("languages")))
            .await?;
        if reply.status != 200 {
            return classify(http, &reply, 0).map(|_| Languages::Any);
        }
        let list: Vec<LanguageEntry> = serde_json::from_str(&reply.body).map_err(|e| {
            ProviderError::Malformed(http.scrub(&format!(
                "GET /languages did not return the documented list: {e}"
            )))
        })?;
        let pairs = list
            .into_iter()
            .flat_map(|l| {
                let code = l.code;
                l.targets.into_iter().map(move |t| (code.clone(), t))
            })
            .collect();
        Ok(Languages::Pairs(pairs))
    }
}

impl Service for LibreTranslate {
    fn new(_settings: &ProviderSettings) -> LibreTranslate {
        LibreTranslate
    }

    /// Self-hosted: no quota, no key (a hosted instance wants one).
    fn about(&self) -> About {
        About {
            unofficial: false,
            key: KeyNeed::SelfHosted,
            allowance: Allowance::Unmetered,
        }
    }

    /// Limits straight from the config (`max_bytes_per_text = 0`: none).
    fn limits(&self, settings: &ProviderSettings) -> BatchLimits {
        BatchLimits::capped(settings, usize::MAX, usize::MAX)
    }

    /// Options that change the output.
    fn cache_options(&self) -> String {
        "format=text".to_string()
    }

    /// LibreTranslate uses ISO 639-1 codes like ours (`ar`, `fa`, `en`); its aliases
    /// (`zh` for `zh-Hans`, `zt` for `zh-Hant`, `pb` for `pt-BR`) are its own.
    fn code(&self, ours: &str, _target: bool) -> String {
        match ours {
            "zh-hant" | "zh-tw" => "zt".to_string(),
            "pt-br" => "pb".to_string(),
            "zh-hans" | "zh-cn" => "zh".to_string(),
            other => other.to_string(),
        }
    }

    /// One `POST /translate` with every text in `q`.
    fn request(
        &self,
        http: &Http,
        sent: &Sent<'_>,
    ) -> Result<reqwest::RequestBuilder, ProviderError> {
        let body = Request {
            q: sent.texts,
            source: sent.from,
            target: sent.to,
            format: "text",
            api_key: http.key.as_ref().map(|k| k.expose()),
        };
        Ok(http.client.post(http.url("translate")).json(&body))
    }

    fn classify(
        &self,
        http: &Http,
        reply: &Reply,
        sent: &Sent<'_>,
    ) -> Result<Vec<String>, ProviderError> {
        classify(http, reply, sent.texts.len())
    }

    fn asks_languages(&self) -> bool {
        true
    }

    async fn languages(&self, http: &Http) -> Result<Languages, ProviderError> {
        self.pairs(http).await
    }

    /// The languages call: reachability and the number of language pairs.
    async fn health(&self, http: &Http) -> Result<Health, ProviderError> {
        let n = match self.pairs(http).await? {
            Languages::Pairs(p) => p.len(),
            _ => 0,
        };
        Ok(Health {
            detail: format!("GET /languages: {n} language pairs"),
            quota: None,
        })
    }
}

/// Turn one answer into translations or an error class.
fn classify(http: &Http, reply: &Reply, sent: usize) -> Result<Vec<String>, ProviderError> {
    let message = || http.scrub(&error_message(&reply.body));
    let with_status = || format!("HTTP {}: {}", reply.status, message());
    match reply.status {
        200 => parse(http, &reply.body, sent),
        400 if asks_for_key(&message()) => Err(ProviderError::AuthFailed(with_status())),
        401 => Err(ProviderError::AuthFailed(with_status())),
        403 if is_ban(&message()) => Err(ProviderError::QuotaExhausted(with_status())),
        403 => Err(ProviderError::AuthFailed(with_status())),
        429 => Err(ProviderError::RateLimited {
            retry_after: reply.retry_after,
            message: with_status(),
        }),
        408 | 500..=599 => Err(ProviderError::Transient(with_status())),
        _ => Err(ProviderError::BadRequest(with_status())),
    }
}

/// Parse a 200 body; the count must match what was sent.
fn parse(http: &Http, body: &str, sent: usize) -> Result<Vec<String>, ProviderError> {
    let response: Response = serde_json::from_str(body).map_err(|e| {
        ProviderError::Malformed(http.scrub(&format!(
            "HTTP 200 without a `translatedText` string or array ({e}): {}",
            http.excerpt(body)
        )))
    })?;
    let texts = match response.translated_text {
        Translated::Many(v) => v,
        Translated::One(s) if sent == 1 => vec![s],
        Translated::One(_) => {
            return Err(ProviderError::Malformed(format!(
                "sent {sent} texts, got one `translatedText` string"
            )));
        }
    };
    if texts.len() != sent {
        return Err(ProviderError::Malformed(format!(
            "sent {sent} texts, got {} translations",
            texts.len()
        )));
    }
    Ok(texts)
}

/// Whether a 400 message is the "key required" answer of a key-only server.
fn asks_for_key(message: &str) -> bool {
    let m = message.to_lowercase();
    m.contains("api key")
        || m.contains("api_key")
        || m.contains("key required")
        || m.contains("server operator")
}

/// Whether a 403 message is the IP ban after repeated rate-limit violations.
fn is_ban(message: &str) -> bool {
    let m = message.to_lowercase();
    m.contains("too many request") || m.contains("limits violations")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_required_messages_are_recognised() {
        assert!(asks_for_key(
            "Visit https://portal.libretranslate.com to get an API key"
        ));
        assert!(asks_for_key(
            "Please contact the server operator to get an API key"
        ));
        assert!(asks_for_key("Key required"));
        assert!(!asks_for_key("Invalid request: missing q parameter"));
        assert!(!asks_for_key(
            "Invalid request: request (30) exceeds text limit (25)"
        ));
    }

    #[test]
    fn ban_is_told_apart_from_a_bad_key() {
        assert!(is_ban("Too many request limits violations"));
        assert!(!is_ban("Invalid API key"));
    }
}
