//! Google Cloud Translation Basic (v2) `POST /language/translate/v2`: a JSON `q`
//! array of up to 128 segments, the API key in the query string.
//!
//! Owns the request shape (`format` always `text`, the source always sent, nothing sent
//! without a key), the batch limits ([`MAX_SEGMENTS`], and [`MAX_CHARS`] under the
//! 100K-byte request cap, with the encoded body measured before sending), the
//! language-code table, keeping the key out of every message (it travels in the URL:
//! every server text is scrubbed of it, raw and percent-encoded), and the sorting of
//! answers into [`ProviderError`] classes from the status and the body's `reason`s
//! (`dailyLimitExceeded` stops, `userRateLimitExceeded` waits). The error shapes
//! clients of v2 have seen, and the sources, are in `docs/providers.md`, section
//! "Google Cloud Translation Basic v2".

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    About, Allowance, BatchLimits, Health, Http, KeyNeed, Languages, ProviderError, Reply, Sent,
    Service,
};
use crate::config::ProviderSettings;

/// Segments per request (Google's documented maximum).
pub(super) const MAX_SEGMENTS: usize = 128;
/// Request size Basic accepts, read as 100,000 bytes (the stricter reading of
/// "100K").
pub(super) const MAX_BODY_BYTES: usize = 100_000;
/// Characters per request: at 4 bytes each (the UTF-8 maximum) plus 3 bytes of JSON
/// per text, a full batch stays under [`MAX_BODY_BYTES`]: 24,000 × 4 + 128 × 3 + ~80
/// bytes of envelope = 96,464 ≤ 100,000.
pub(super) const MAX_CHARS: usize = 24_000;
/// The path of the translate method, relative to the endpoint.
const TRANSLATE_PATH: &str = "language/translate/v2";
/// The path of the languages method.
const LANGUAGES_PATH: &str = "language/translate/v2/languages";

/// The Google Basic v2 wire format. It has no state of its own.
#[derive(Debug)]
pub(super) struct Google;

/// The JSON request body.
#[derive(Serialize)]
struct Request<'a> {
    q: &'a [String],
    target: &'a str,
    source: &'a str,
    format: &'static str,
}

#[derive(Deserialize)]
struct Response {
    data: Translations,
}

#[derive(Deserialize)]
struct Translations {
    translations: Vec<Translation>,
}

#[derive(Deserialize)]
struct Translation {
    #[serde(rename = "translatedText")]
    translated_text: String,
}

#[derive(Deserialize)]
struct LanguagesResponse {
    data: LanguageList,
}

#[derive(Deserialize)]
struct LanguageList {
    languages: Vec<LanguageEntry>,
}

#[derive(Deserialize)]
struct LanguageEntry {
    language: String,
}

/// Characters a month free (Basic and Advanced together), then billed.
pub(super) const FREE_MONTHLY: u64 = 500_000;

impl Google {
    /// `GET /language/translate/v2/languages`: one list, every language both ways.
    async fn language_list(&self, http: &Http) -> Result<Languages, ProviderError> {
        let request = with_key(http, http.client.get(http.url(LANGUAGES_PATH)))?;
        let reply = http.exchange(request).await?;
        if reply.status != 200 {
            return classify(http, &reply, 0).map(|_| Languages::Any);
        }
        let list: LanguagesResponse = serde_json::from_str(&reply.body).map_err(|e| {
            ProviderError::Malformed(http.scrub(&format!(
                "GET /{LANGUAGES_PATH} did not return `data.languages`: {e}"
            )))
        })?;
        let codes: std::collections::BTreeSet<String> = list
            .data
            .languages
            .into_iter()
            .map(|l| l.language)
            .collect();
        Ok(Languages::Lists {
            sources: codes.clone(),
            targets: codes,
        })
    }
}

impl Service for Google {
    fn new(_settings: &ProviderSettings) -> Google {
        Google
    }

    /// Keyed (a billing-enabled project); the first 500,000 characters a month free.
    fn about(&self) -> About {
        About {
            unofficial: false,
            key: KeyNeed::Required,
            allowance: Allowance::Monthly(FREE_MONTHLY),
        }
    }

    /// The config's limits, never above 128 texts and [`MAX_CHARS`] characters.
    fn limits(&self, settings: &ProviderSettings) -> BatchLimits {
        BatchLimits::capped(settings, MAX_SEGMENTS, MAX_CHARS)
    }

    /// Options that change the output: the v2 API (its default `nmt` model) in plain
    /// text mode.
    fn cache_options(&self) -> String {
        "v2;format=text".to_string()
    }

    /// Google's code for one of ours: ISO 639-1 as ours (`ar`, `fa`, `en`); Chinese
    /// scripts as `zh-CN` / `zh-TW`; a region upper case (`pt-PT`).
    fn code(&self, ours: &str, _target: bool) -> String {
        code(ours)
    }

    /// One `POST /language/translate/v2` with every text in `q`.
    fn request(
        &self,
        http: &Http,
        sent: &Sent<'_>,
    ) -> Result<reqwest::RequestBuilder, ProviderError> {
        let texts = sent.texts;
        if texts.len() > MAX_SEGMENTS {
            return Err(ProviderError::BadRequest(format!(
                "{} texts is over Google's {MAX_SEGMENTS} segments per request; the batch must be split",
                texts.len()
            )));
        }
        let body = Request {
            q: texts,
            target: sent.to,
            source: sent.from,
            format: "text",
        };
        let request = http.post_json(TRANSLATE_PATH, &body, MAX_BODY_BYTES, "Google")?;
        with_key(http, request)
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
        self.language_list(http).await
    }

    /// The languages call: reachability, the key, and how many languages.
    async fn health(&self, http: &Http) -> Result<Health, ProviderError> {
        let n = match self.language_list(http).await? {
            Languages::Lists { sources, .. } => sources.len(),
            _ => 0,
        };
        Ok(Health {
            detail: format!(
                "GET /{LANGUAGES_PATH}: {n} languages; Google does not report usage through this API"
            ),
            quota: None,
        })
    }
}

/// Google's code for one of ours (see [`Google::code`](Service::code)); shared with
/// the browser service `google-web`, which takes the same codes.
pub(super) fn code(ours: &str) -> String {
    let ours = ours.to_ascii_lowercase().replace('_', "-");
    match ours.as_str() {
        "zh-hans" | "zh-cn" => "zh-CN".to_string(),
        "zh-hant" | "zh-tw" => "zh-TW".to_string(),
        _ => match ours.split_once('-') {
            Some((lang, region)) if region.len() == 2 => {
                format!("{lang}-{}", region.to_ascii_uppercase())
            }
            _ => ours,
        },
    }
}

/// Add `key=<key>` to the query, or refuse locally when there is no key.
fn with_key(
    http: &Http,
    request: reqwest::RequestBuilder,
) -> Result<reqwest::RequestBuilder, ProviderError> {
    match &http.key {
        Some(key) => Ok(request.query(&[("key", key.expose())])),
        None => Err(ProviderError::AuthFailed(
            "no Google API key is set; nothing was sent".to_string(),
        )),
    }
}

/// Turn one answer into translations or an error class.
fn classify(http: &Http, reply: &Reply, sent: usize) -> Result<Vec<String>, ProviderError> {
    let status = reply.status;
    if status == 200 {
        return parse(http, &reply.body, sent);
    }
    let error = ErrorBody::read(&reply.body);
    let message = format!(
        "HTTP {status}{}: {}",
        error.reasons_label(),
        http.scrub(&error.message)
    );
    match status {
        403 | 429 if error.is_quota() => Err(ProviderError::QuotaExhausted(message)),
        403 | 429 if error.is_rate() || status == 429 => Err(ProviderError::RateLimited {
            retry_after: reply.retry_after,
            message,
        }),
        400 if error.is_bad_key() => Err(ProviderError::AuthFailed(format!(
            "{message}; Google refused the API key"
        ))),
        401 | 403 => Err(ProviderError::AuthFailed(format!(
            "{message}; Google refused the request for this key (is the Cloud Translation API enabled for its project, and the key allowed to call it?)"
        ))),
        408 | 500..=599 => Err(ProviderError::Transient(message)),
        _ => Err(ProviderError::BadRequest(message)),
    }
}

/// Parse a 200 body; the count must match what was sent.
fn parse(http: &Http, body: &str, sent: usize) -> Result<Vec<String>, ProviderError> {
    let response: Response = serde_json::from_str(body).map_err(|e| {
        ProviderError::Malformed(http.scrub(&format!(
            "HTTP 200 without `data.translations[].translatedText` ({e}): {}",
            http.excerpt(body)
        )))
    })?;
    let got = response.data.translations;
    if got.len() != sent {
        return Err(ProviderError::Malformed(format!(
            "sent {sent} texts, got {} translations",
            got.len()
        )));
    }
    Ok(got.into_iter().map(|t| t.translated_text).collect())
}

/// The parts of a Google error body that decide its class.
struct ErrorBody {
    message: String,
    /// `errors[].reason` and `details[].reason`, as sent.
    reasons: Vec<String>,
}

impl ErrorBody {
    fn read(body: &str) -> ErrorBody {
        let json: Option<Value> = serde_json::from_str(body).ok();
        let error = json.as_ref().and_then(|v| v.get("error"));
        let message = match error {
            Some(Value::Object(e)) => e.get("message").and_then(Value::as_str).map(str::to_string),
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        }
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| {
            if body.trim().is_empty() {
                "no message".into()
            } else {
                body.to_string()
            }
        });
        let reasons = ["errors", "details"]
            .iter()
            .filter_map(|list| error.and_then(|e| e.get(list)).and_then(Value::as_array))
            .flatten()
            .filter_map(|item| item.get("reason").and_then(Value::as_str))
            .map(str::to_string)
            .collect();
        ErrorBody { message, reasons }
    }

    fn has_reason(&self, names: &[&str]) -> bool {
        self.reasons
            .iter()
            .any(|r| names.iter().any(|n| r.eq_ignore_ascii_case(n)))
    }

    /// The daily quota is used up, or billing stops the project: no retry helps.
    fn is_quota(&self) -> bool {
        let m = self.message.to_ascii_lowercase();
        self.has_reason(&[
            "dailyLimitExceeded",
            "quotaExceeded",
            "billingNotEnabled",
            "BILLING_DISABLED",
        ]) || m.contains("per day")
            || m.contains("daily limit")
            || m.contains("billing")
    }

    /// Going too fast: wait and retry.
    fn is_rate(&self) -> bool {
        self.has_reason(&[
            "userRateLimitExceeded",
            "rateLimitExceeded",
            "RATE_LIMIT_EXCEEDED",
        ])
    }

    /// The key itself is wrong.
    fn is_bad_key(&self) -> bool {
        self.has_reason(&["keyInvalid", "API_KEY_INVALID", "keyExpired"])
            || self
                .message
                .to_ascii_lowercase()
                .contains("api key not valid")
    }

    /// ` (reason, reason)` for the message, or nothing.
    fn reasons_label(&self) -> String {
        if self.reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.reasons.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_code_table() {
        let cases = [
            ("ar", "ar"),
            ("fa", "fa"),
            ("en", "en"),
            ("zh-hans", "zh-CN"),
            ("zh-hant", "zh-TW"),
            ("zh-cn", "zh-CN"),
            ("zh", "zh"),
            ("pt-pt", "pt-PT"),
            ("pt", "pt"),
            ("he", "he"),
            ("mni-mtei", "mni-mtei"),
        ];
        for (ours, theirs) in cases {
            assert_eq!(Google.code(ours, true), theirs, "{ours}");
            assert_eq!(Google.code(ours, false), theirs, "{ours}");
        }
    }

    #[test]
    fn a_full_batch_of_the_widest_characters_fits_the_body_limit() {
        let per_text = MAX_CHARS / MAX_SEGMENTS;
        let texts: Vec<String> = (0..MAX_SEGMENTS).map(|_| "𝔸".repeat(per_text)).collect();
        let body = serde_json::to_vec(&Request {
            q: &texts,
            target: "en",
            source: "ar",
            format: "text",
        })
        .unwrap();
        assert!(body.len() <= MAX_BODY_BYTES, "{} bytes", body.len());
    }

    #[test]
    fn error_bodies_are_read() {
        let e = ErrorBody::read(
            r#"{"error":{"code":403,"message":"Daily Limit Exceeded","errors":[{"message":"Daily Limit Exceeded","domain":"usageLimits","reason":"dailyLimitExceeded"}]}}"#,
        );
        assert!(e.is_quota() && !e.is_rate());
        assert_eq!(e.reasons_label(), " (dailyLimitExceeded)");
        let e = ErrorBody::read(
            r#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","errors":[{"domain":"global","reason":"badRequest"}],"status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}"#,
        );
        assert!(e.is_bad_key() && !e.is_quota());
        assert_eq!(e.reasons, ["badRequest", "API_KEY_INVALID"]);
        let e = ErrorBody::read("<html>Bad Gateway</html>");
        assert_eq!(e.message, "<html>Bad Gateway</html>");
        assert!(e.reasons.is_empty());
        assert_eq!(ErrorBody::read("").message, "no message");
    }
}
