//! Azure AI Translator v3 `POST /translate?api-version=3.0`: a JSON array of texts,
//! the key in a header.
//!
//! Owns the request (`from` always explicit, one `to`, `[{"Text": …}]`,
//! `Ocp-Apim-Subscription-Key`, and `Ocp-Apim-Subscription-Region` only when `region`
//! is set), the service limits (larger settings are clamped to [`MAX_ELEMENTS`] and
//! [`MAX_REQUEST_CHARS`]), the language-code table, and [`CODES`], the one table from
//! Microsoft's six-digit error codes to [`ProviderError`] classes (a code not in it is
//! classed by its first three digits, an answer without one by its HTTP status). The
//! codes, the `Retry-After` question and the sources are in `docs/providers.md`,
//! section "Azure AI Translator v3".

use std::collections::BTreeSet;

use reqwest::header::{CONTENT_TYPE, HeaderValue};
use serde::{Deserialize, Serialize};

use super::{
    About, Allowance, BatchLimits, Health, Http, KeyNeed, Languages, ProviderError, Reply, Sent,
    Service,
};
use crate::config::ProviderSettings;

/// Azure's most array elements per `/translate` request.
pub(super) const MAX_ELEMENTS: usize = 1_000;
/// Azure's most characters per request (all elements, one target language).
pub(super) const MAX_REQUEST_CHARS: usize = 50_000;
/// The stable API version.
const API_VERSION: &str = "3.0";

/// Our language codes that Azure spells differently; anything else is sent as is
/// (`ar`, `fa`, `prs` for Dari, `en`, …).
const CODE_TABLE: &[(&str, &str)] = &[
    ("zh-hans", "zh-Hans"),
    ("zh-cn", "zh-Hans"),
    ("zh", "zh-Hans"),
    ("zh-hant", "zh-Hant"),
    ("zh-tw", "zh-Hant"),
    ("pt-br", "pt"),
    ("pt-pt", "pt-PT"),
    ("fr-ca", "fr-CA"),
    ("sr-latn", "sr-Latn"),
    ("sr-cyrl", "sr-Cyrl"),
    ("mn-cyrl", "mn-Cyrl"),
    ("mn-mong", "mn-Mong"),
    ("iw", "he"),
    ("no", "nb"),
    ("tl", "fil"),
];

/// What the limiter does with an error class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Class {
    /// Stop: the key is wrong.
    Auth,
    /// Stop: the free quota is used up.
    Quota,
    /// Wait, then retry.
    RateLimited,
    /// Retry with backoff.
    Transient,
    /// Refused: split the batch.
    BadRequest,
    /// Refused: the language pair is not offered.
    UnsupportedPair,
}

/// Every documented six-digit error code (AZ-codes) and its class.
pub(super) const CODES: &[(u32, Class)] = &[
    (400_000, Class::BadRequest),
    (400_005, Class::BadRequest),
    (400_019, Class::UnsupportedPair),
    (400_023, Class::UnsupportedPair),
    (400_035, Class::UnsupportedPair),
    (400_036, Class::UnsupportedPair),
    (400_050, Class::BadRequest),
    (400_072, Class::BadRequest),
    (400_074, Class::BadRequest),
    (400_077, Class::BadRequest),
    (401_000, Class::Auth),
    (401_015, Class::Auth),
    (403_000, Class::Auth),
    (403_001, Class::Quota),
    (408_001, Class::Transient),
    (408_002, Class::Transient),
    (429_000, Class::RateLimited),
    (429_001, Class::RateLimited),
    (429_002, Class::RateLimited),
    (500_000, Class::Transient),
    (503_000, Class::Transient),
];

/// The class of an error: its code from [`CODES`], else the code's HTTP-status
/// prefix, else the HTTP status itself.
pub(super) fn class_of(code: Option<u32>, status: u16) -> Class {
    if let Some(c) = code {
        if let Some((_, class)) = CODES.iter().find(|(k, _)| *k == c) {
            return *class;
        }
        if (100_000..=599_999).contains(&c)
            && let Ok(prefix) = u16::try_from(c / 1000)
            && prefix >= 400
        {
            return class_of_status(prefix);
        }
    }
    class_of_status(status)
}

/// The class of an HTTP status without a usable error code.
fn class_of_status(status: u16) -> Class {
    match status {
        401 | 403 => Class::Auth,
        429 => Class::RateLimited,
        408 | 500..=599 => Class::Transient,
        _ => Class::BadRequest,
    }
}

/// The Azure wire format.
#[derive(Debug)]
pub(super) struct Azure {
    /// `Ocp-Apim-Subscription-Region`, when set.
    region: Option<String>,
}

/// One request element.
#[derive(Serialize)]
struct Text<'a> {
    #[serde(rename = "Text")]
    text: &'a str,
}

/// One answer element.
#[derive(Debug, Deserialize)]
struct Item {
    translations: Vec<Translation>,
    #[serde(rename = "detectedLanguage", default)]
    detected_language: Option<Detected>,
}

#[derive(Debug, Deserialize)]
struct Translation {
    text: String,
    #[serde(default)]
    to: Option<String>,
}

/// Azure's guess of an element's language.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub(super) struct Detected {
    pub(super) language: String,
    #[serde(default)]
    pub(super) score: Option<f64>,
}

/// One parsed element: the translation and, when Azure sent it, the detection.
#[derive(Debug, PartialEq)]
pub(super) struct Parsed {
    pub(super) text: String,
    pub(super) detected: Option<Detected>,
}

/// `GET /languages?scope=translation`.
#[derive(Deserialize)]
struct LanguagesReply {
    translation: std::collections::BTreeMap<String, serde_json::Value>,
}

/// Characters a month on the free F0 tier.
pub(super) const FREE_MONTHLY: u64 = 2_000_000;

impl Azure {
    /// `GET /languages?api-version=3.0&scope=translation` (no key needed): every
    /// listed language translates to every other.
    async fn language_list(&self, http: &Http) -> Result<Languages, ProviderError> {
        let query = [("api-version", API_VERSION), ("scope", "translation")];
        let request = http.client.get(http.url("languages")).query(&query);
        let reply = http.exchange(request).await?;
        if reply.status != 200 {
            return Err(error(http, &reply));
        }
        let list: LanguagesReply = serde_json::from_str(&reply.body).map_err(|e| {
            ProviderError::Malformed(http.scrub(&format!(
                "GET /languages did not return the documented `translation` object: {e}"
            )))
        })?;
        let codes: BTreeSet<String> = list.translation.into_keys().collect();
        Ok(Languages::Lists {
            sources: codes.clone(),
            targets: codes,
        })
    }
}

impl Service for Azure {
    fn new(settings: &ProviderSettings) -> Azure {
        Azure {
            region: (settings.region.as_deref().map(str::trim))
                .filter(|r| !r.is_empty())
                .map(str::to_string),
        }
    }

    /// Keyed; the free F0 tier gives 2,000,000 characters a month.
    fn about(&self) -> About {
        About {
            unofficial: false,
            key: KeyNeed::Required,
            allowance: Allowance::Monthly(FREE_MONTHLY),
        }
    }

    /// The config's limits, never above Azure's 1,000 elements and 50,000 characters.
    fn limits(&self, settings: &ProviderSettings) -> BatchLimits {
        BatchLimits::capped(settings, MAX_ELEMENTS, MAX_REQUEST_CHARS)
    }

    /// Options that change the output: the API version and plain-text mode.
    fn cache_options(&self) -> String {
        format!("api-version={API_VERSION};textType=plain")
    }

    /// Azure's spelling of one of our codes ([`CODE_TABLE`]), else the code as is.
    fn code(&self, ours: &str, _target: bool) -> String {
        code(ours)
    }

    /// One `POST /translate` with every text as an array element.
    fn request(
        &self,
        http: &Http,
        sent: &Sent<'_>,
    ) -> Result<reqwest::RequestBuilder, ProviderError> {
        let body: Vec<Text<'_>> = sent.texts.iter().map(|t| Text { text: t }).collect();
        let body = serde_json::to_vec(&body)
            .map_err(|e| ProviderError::BadRequest(format!("cannot encode the texts: {e}")))?;
        let query = [
            ("api-version", API_VERSION),
            ("from", sent.from),
            ("to", sent.to),
        ];
        let mut request = (http.client.post(http.url("translate")))
            .query(&query)
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=UTF-8"),
            )
            .body(body);
        if let Some(key) = &http.key {
            let mut value = HeaderValue::from_str(key.expose()).map_err(|_| {
                ProviderError::AuthFailed(
                    "the key holds characters that cannot go in an HTTP header".into(),
                )
            })?;
            value.set_sensitive(true);
            request = request.header("Ocp-Apim-Subscription-Key", value);
        }
        if let Some(region) = &self.region {
            request = request.header("Ocp-Apim-Subscription-Region", region.as_str());
        }
        Ok(request)
    }

    fn classify(
        &self,
        http: &Http,
        reply: &Reply,
        sent: &Sent<'_>,
    ) -> Result<Vec<String>, ProviderError> {
        if reply.status != 200 {
            return Err(error(http, reply));
        }
        let parsed = parse(http, &reply.body, sent.texts.len(), sent.to)?;
        Ok(parsed
            .into_iter()
            .enumerate()
            .map(|(i, p)| {
                if let Some(d) = p
                    .detected
                    .filter(|d| !d.language.eq_ignore_ascii_case(sent.from))
                {
                    tracing::debug!(
                        "azure detected `{}` (score {:?}) for text {i}, sent as `{}`",
                        d.language,
                        d.score,
                        sent.from
                    );
                }
                p.text
            })
            .collect())
    }

    fn asks_languages(&self) -> bool {
        true
    }

    async fn languages(&self, http: &Http) -> Result<Languages, ProviderError> {
        self.language_list(http).await
    }

    /// The languages call, then one five-character translation (`hello`, en → de)
    /// to prove the key and region work. Azure reports no remaining quota.
    async fn health(&self, http: &Http) -> Result<Health, ProviderError> {
        let n = match self.language_list(http).await? {
            Languages::Lists { sources, .. } => sources.len(),
            _ => 0,
        };
        let texts = ["hello".to_string()];
        let sent = Sent {
            from: "en",
            to: "de",
            texts: &texts,
        };
        super::send(self, http, &sent).await?;
        Ok(Health {
            detail: format!(
                "GET /languages: {n} languages; POST /translate (5 characters, en → de): \
                 answered; Azure does not report the remaining quota"
            ),
            quota: None,
        })
    }
}

/// Azure's spelling of one of our codes ([`CODE_TABLE`]), else the code as is; shared
/// with the browser service `edge`, which is Microsoft's translator too.
pub(super) fn code(ours: &str) -> String {
    let lower = ours.to_ascii_lowercase();
    CODE_TABLE
        .iter()
        .find(|(o, _)| *o == lower)
        .map_or_else(|| ours.to_string(), |(_, theirs)| (*theirs).to_string())
}

/// A 200 body: one element per text sent, each with a translation into `to` (or
/// the first one given).
pub(super) fn parse(
    http: &Http,
    body: &str,
    sent: usize,
    to: &str,
) -> Result<Vec<Parsed>, ProviderError> {
    let items: Vec<Item> = serde_json::from_str(body).map_err(|e| {
        ProviderError::Malformed(http.scrub(&format!(
            "HTTP 200 without the documented array of translations ({e}): {}",
            http.excerpt(body)
        )))
    })?;
    if items.len() != sent {
        return Err(ProviderError::Malformed(format!(
            "sent {sent} texts, got {} translations",
            items.len()
        )));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let mut translations = item.translations.into_iter();
            let first = translations.next();
            let wanted =
                |t: &Translation| t.to.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(to));
            let chosen = match first {
                Some(f) if wanted(&f) => Some(f),
                Some(f) => translations.find(wanted).or(Some(f)),
                None => None,
            };
            let Some(t) = chosen else {
                return Err(ProviderError::Malformed(format!(
                    "element {i} has no translation"
                )));
            };
            Ok(Parsed {
                text: t.text,
                detected: item.detected_language,
            })
        })
        .collect()
}

/// A non-200 answer as an error class, with the server's message (scrubbed).
pub(super) fn error(http: &Http, reply: &Reply) -> ProviderError {
    let (code, message) = error_body(&reply.body);
    let message = http.scrub(&message);
    let text = match code {
        Some(c) => format!("HTTP {} (code {c}): {message}", reply.status),
        None => format!("HTTP {}: {message}", reply.status),
    };
    match class_of(code, reply.status) {
        Class::Auth => ProviderError::AuthFailed(text),
        Class::Quota => ProviderError::QuotaExhausted(text),
        Class::RateLimited => ProviderError::RateLimited {
            retry_after: reply.retry_after,
            message: text,
        },
        Class::Transient => ProviderError::Transient(text),
        Class::BadRequest => ProviderError::BadRequest(text),
        Class::UnsupportedPair => ProviderError::UnsupportedPair(text),
    }
}

/// `error.code` (a number or a numeric string) and `error.message`, or the body.
fn error_body(body: &str) -> (Option<u32>, String) {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(body) else {
        return (None, body.to_string());
    };
    let error = v.get("error").unwrap_or(&v);
    let code = match error.get("code") {
        Some(serde_json::Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let message = match error.get("message") {
        Some(serde_json::Value::String(s)) => s.clone(),
        _ => body.to_string(),
    };
    (code, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole code table, one line per code, plus the fallbacks. Edit the
    /// expected text when the policy changes on purpose.
    #[test]
    fn error_code_table() {
        let mut table = String::new();
        for (code, _) in CODES {
            let status = u16::try_from(code / 1000).unwrap();
            table.push_str(&format!("{code} -> {:?}\n", class_of(Some(*code), status)));
        }
        for (code, status) in [
            (Some(400_999), 400),
            (Some(401_999), 401),
            (Some(403_999), 403),
            (Some(404_000), 404),
            (Some(405_000), 405),
            (Some(415_000), 415),
            (Some(429_999), 429),
            (Some(502_000), 502),
            (Some(7), 503),
            (Some(7), 429),
            (Some(7), 400),
            (None, 401),
            (None, 403),
            (None, 408),
            (None, 413),
            (None, 429),
            (None, 500),
            (None, 504),
        ] {
            table.push_str(&format!(
                "{code:?}/{status} -> {:?}\n",
                class_of(code, status)
            ));
        }
        let expected = "\
400000 -> BadRequest
400005 -> BadRequest
400019 -> UnsupportedPair
400023 -> UnsupportedPair
400035 -> UnsupportedPair
400036 -> UnsupportedPair
400050 -> BadRequest
400072 -> BadRequest
400074 -> BadRequest
400077 -> BadRequest
401000 -> Auth
401015 -> Auth
403000 -> Auth
403001 -> Quota
408001 -> Transient
408002 -> Transient
429000 -> RateLimited
429001 -> RateLimited
429002 -> RateLimited
500000 -> Transient
503000 -> Transient
Some(400999)/400 -> BadRequest
Some(401999)/401 -> Auth
Some(403999)/403 -> Auth
Some(404000)/404 -> BadRequest
Some(405000)/405 -> BadRequest
Some(415000)/415 -> BadRequest
Some(429999)/429 -> RateLimited
Some(502000)/502 -> Transient
Some(7)/503 -> Transient
Some(7)/429 -> RateLimited
Some(7)/400 -> BadRequest
None/401 -> Auth
None/403 -> Auth
None/408 -> Transient
None/413 -> BadRequest
None/429 -> RateLimited
None/500 -> Transient
None/504 -> Transient
";
        assert_eq!(table, expected);
    }

    #[test]
    fn error_bodies_are_read() {
        assert_eq!(
            error_body(r#"{"error":{"code":403001,"message":"free quota"}}"#),
            (Some(403_001), "free quota".to_string())
        );
        assert_eq!(
            error_body(r#"{"error":{"code":"429001","message":"slow"}}"#),
            (Some(429_001), "slow".to_string())
        );
        assert_eq!(
            error_body("<html>oops</html>"),
            (None, "<html>oops</html>".into())
        );
    }

    #[test]
    fn codes_are_mapped() {
        let a = Azure { region: None };
        for (ours, theirs) in [
            ("ar", "ar"),
            ("fa", "fa"),
            ("prs", "prs"),
            ("en", "en"),
            ("zh-hans", "zh-Hans"),
            ("zh-hant", "zh-Hant"),
            ("zh-Hans", "zh-Hans"),
            ("pt-br", "pt"),
            ("sr-latn", "sr-Latn"),
        ] {
            assert_eq!(a.code(ours, false), theirs, "{ours}");
        }
    }

    fn http() -> Http {
        let settings = crate::config::Config::builtin().providers["azure"].clone();
        Http::new("azure", &settings, None).unwrap()
    }

    #[test]
    fn detected_language_is_kept_per_element() {
        let body = r#"[
            {"detectedLanguage": {"language": "ar", "score": 1.0},
             "translations": [{"text": "Peace", "to": "en"}]},
            {"detectedLanguage": {"language": "fa", "score": 0.87},
             "translations": [{"text": "Book", "to": "en"}]},
            {"translations": [{"text": "Hallo", "to": "de"}, {"text": "Hello", "to": "en"}]}
        ]"#;
        let got = parse(&http(), body, 3, "en").unwrap();
        let texts: Vec<&str> = got.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(texts, ["Peace", "Book", "Hello"]);
        let langs: Vec<Option<&str>> = (got.iter())
            .map(|p| p.detected.as_ref().map(|d| d.language.as_str()))
            .collect();
        assert_eq!(langs, [Some("ar"), Some("fa"), None]);
        assert_eq!(got[1].detected.as_ref().unwrap().score, Some(0.87));
    }

    #[test]
    fn count_and_shape_are_checked() {
        let one = r#"[{"translations": [{"text": "Peace", "to": "en"}]}]"#;
        assert!(matches!(
            parse(&http(), one, 2, "en"),
            Err(ProviderError::Malformed(m)) if m.contains("sent 2 texts, got 1")
        ));
        let empty = r#"[{"translations": []}]"#;
        assert!(matches!(
            parse(&http(), empty, 1, "en"),
            Err(ProviderError::Malformed(_))
        ));
        let object = r#"{"translations": [{"text": "Peace", "to": "en"}]}"#;
        assert!(matches!(
            parse(&http(), object, 1, "en"),
            Err(ProviderError::Malformed(_))
        ));
    }
}
