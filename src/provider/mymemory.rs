//! MyMemory `GET /get`: one text of at most 500 bytes per request.
//!
//! Owns the query (`q`, `langpair=from|to`, `de=` when an e-mail is set, `key=` when a
//! key is set), the 500-byte cap (a longer text is refused locally, never sent) and the
//! classification of answers. MyMemory reports most failures **inside** the JSON body,
//! often with HTTP 200, so the body decides first: a quota warning in place of the
//! translation ([`QUOTA_WARNINGS`]) is `QuotaExhausted` whatever the status, with its
//! "NEXT AVAILABLE IN …" read as the time the quota is back, and a refusal
//! ([`REFUSALS`]) is `BadRequest`; these texts are recognised anywhere in the text and
//! in any case, so a warning is never taken, or cached, as a translation. The key and
//! the e-mail travel in the query string, so no message built here or in the transport
//! layer contains the URL. The allowance, the answers clients have seen and the sources
//! are in `docs/providers.md`, section "MyMemory".

use std::time::Duration;

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

    /// The warning's "NEXT AVAILABLE IN 10 HOURS 20 MINUTES 30 SECONDS".
    fn quota_reset(&self, message: &str) -> Option<Duration> {
        next_available(message)
    }

    /// Without `email`, the day is 5,000 characters; with one, 50,000.
    fn quota_hint(&self, name: &str) -> Option<String> {
        self.email.is_none().then(|| {
            format!(
                "set `email = \"you@example.org\"` in [providers.{name}]: MyMemory then allows \
                 {} characters a day instead of {}",
                thousands(DAILY_WITH_EMAIL),
                thousands(DAILY_ANONYMOUS)
            )
        })
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
        let warns = |s: Option<&str>| s.is_some_and(|s| says(s, QUOTA_WARNINGS));
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

/// The quota warnings MyMemory puts where the translation belongs.
const QUOTA_WARNINGS: &[&str] = &[
    "MYMEMORY WARNING",
    "YOU USED ALL AVAILABLE FREE TRANSLATIONS",
];

/// In-body refusals that have been seen in place of a translation, with
/// `responseStatus` 200.
const REFUSALS: &[&str] = &[
    "QUERY LENGTH LIMIT EXCEEDED",
    "INVALID LANGUAGE PAIR",
    "NO QUERY SPECIFIED",
    "PLEASE SELECT TWO DISTINCT LANGUAGES",
];

/// Whether `text` holds one of `markers`, in any case.
fn says(text: &str, markers: &[&str]) -> bool {
    let upper = text.to_uppercase();
    markers.iter().any(|m| upper.contains(m))
}

/// A refusal in place of the translation.
fn is_refusal(text: &str) -> bool {
    says(text, REFUSALS)
}

/// How long until the quota is back, from the warning's `NEXT AVAILABLE IN 10 HOURS
/// 20 MINUTES 30 SECONDS` (any of the three parts may be missing).
fn next_available(message: &str) -> Option<Duration> {
    let upper = message.to_uppercase();
    let (_, rest) = upper.split_once("NEXT AVAILABLE IN")?;
    let mut secs = 0u64;
    let mut found = false;
    let mut words = rest.split_whitespace().peekable();
    while let Some(word) = words.next() {
        let Ok(n) = word.parse::<u64>() else { break };
        let unit = match words.next().unwrap_or_default() {
            u if u.starts_with("HOUR") => 3600,
            u if u.starts_with("MINUTE") => 60,
            u if u.starts_with("SECOND") => 1,
            _ => break,
        };
        secs = secs.saturating_add(n.saturating_mul(unit));
        found = true;
    }
    found.then(|| Duration::from_secs(secs))
}

/// `50,000`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(body: serde_json::Value) -> Result<String, ProviderError> {
        let settings = crate::config::Config::builtin().providers["mymemory"].clone();
        let http = Http::new("mymemory", &settings, None).unwrap();
        let reply = Reply {
            status: 200,
            retry_after: None,
            body: body.to_string(),
        };
        super::classify(&http, &reply)
    }

    fn ok(text: &str) -> serde_json::Value {
        serde_json::json!({
            "responseData": {"translatedText": text, "match": 1},
            "quotaFinished": false, "responseDetails": "", "responseStatus": 200
        })
    }

    /// Warnings and refusals in place of a translation, anywhere in the text and in
    /// any case, are never a translation (they used to be caught only later, by the
    /// pipeline's reply check).
    #[test]
    fn warnings_in_place_of_a_translation_are_not_translations() {
        let warn = "MYMEMORY WARNING: YOU USED ALL AVAILABLE FREE TRANSLATIONS FOR TODAY. NEXT AVAILABLE IN 23 HOURS";
        let cases = [
            (warn, "QuotaExhausted"),
            (
                "  mymemory warning: you used all available free translations",
                "QuotaExhausted",
            ),
            (
                "Note: YOU USED ALL AVAILABLE FREE TRANSLATIONS FOR TODAY",
                "QuotaExhausted",
            ),
            (
                "QUERY LENGTH LIMIT EXCEEDED. MAX ALLOWED QUERY : 500 CHARS",
                "BadRequest",
            ),
            ("'AR' INVALID LANGUAGE PAIR SPECIFIED", "BadRequest"),
            ("PLEASE SELECT TWO DISTINCT LANGUAGES", "BadRequest"),
            (
                "NO QUERY SPECIFIED. EXAMPLE REQUEST: GET?Q=HELLO&LANGPAIR=EN|IT",
                "BadRequest",
            ),
            ("Russia announced that it accepted a new ambassador", "Ok"),
        ];
        for (text, want) in cases {
            let got = match classify(ok(text)) {
                Ok(_) => "Ok".to_string(),
                Err(e) => format!("{e:?}").split('(').next().unwrap().to_string(),
            };
            assert_eq!(got, want, "{text}");
        }
    }

    #[test]
    fn next_available_is_read_from_the_warning() {
        let cases = [
            (
                "MYMEMORY WARNING: YOU USED ALL AVAILABLE FREE TRANSLATIONS FOR TODAY. NEXT AVAILABLE IN  10 HOURS 20 MINUTES 30 SECONDS VISIT HTTPS://MYMEMORY.TRANSLATED.NET/DOC/USAGELIMITS.PHP TO TRANSLATE MORE",
                Some(37_230),
            ),
            (
                "quota exhausted: MYMEMORY WARNING: … NEXT AVAILABLE IN 23 HOURS",
                Some(82_800),
            ),
            ("NEXT AVAILABLE IN 1 HOUR 1 MINUTE 1 SECOND", Some(3_661)),
            ("next available in 45 minutes", Some(2_700)),
            (
                "MYMEMORY WARNING: YOU USED ALL AVAILABLE FREE TRANSLATIONS FOR TODAY.",
                None,
            ),
            ("NEXT AVAILABLE IN SOME HOURS", None),
        ];
        for (message, secs) in cases {
            assert_eq!(
                next_available(message),
                secs.map(Duration::from_secs),
                "{message}"
            );
        }
    }

    #[test]
    fn the_quota_hint_is_for_a_missing_email_only() {
        let mut settings = crate::config::Config::builtin().providers["mymemory"].clone();
        let hint = MyMemory::new(&settings).quota_hint("mymemory").unwrap();
        assert_eq!(
            hint,
            "set `email = \"you@example.org\"` in [providers.mymemory]: MyMemory then allows 50,000 characters a day instead of 5,000"
        );
        settings.email = Some("desk@example.org".into());
        assert_eq!(MyMemory::new(&settings).quota_hint("mymemory"), None);
        assert_eq!(
            MyMemory::new(&settings).about().allowance,
            Allowance::Daily(50_000)
        );
    }
}
