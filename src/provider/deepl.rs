//! DeepL API v2 `POST /v2/translate`: a JSON `text` array of up to 50 texts.
//!
//! Owns the request shape (the source always sent; the key in `Authorization:
//! DeepL-Auth-Key` only, nothing sent without one), the options that change the output
//! and so are part of the cache key ([`Deepl::cache_options`]: `split_sentences`,
//! `preserve_formatting`), the batch limits ([`MAX_TEXTS`], [`MAX_BODY_BYTES`], and
//! [`MAX_CHARS`], chosen so a full batch always fits, with the encoded body measured
//! before sending), the language-code table, the choice of host from the key
//! (`endpoint = "auto"`, [`Deepl::endpoint`](Service::endpoint)) and the sorting of
//! answers into [`ProviderError`] classes (456 is the spent quota). Why each choice,
//! the status codes and the sources are in `docs/providers.md`, section "DeepL".

use reqwest::header::{AUTHORIZATION, HeaderValue};
use serde::{Deserialize, Serialize};

use super::{
    About, Allowance, BatchLimits, Health, Http, KeyNeed, Languages, ProviderError, Reply, Sent,
    Service, mask_endpoint,
};
use crate::config::{DEEPL_AUTO_ENDPOINT, ProviderSettings};
use crate::secret::ApiKey;

/// Texts per request (DeepL's documented maximum).
pub(super) const MAX_TEXTS: usize = 50;
/// Request body size limit: 128 KiB.
pub(super) const MAX_BODY_BYTES: usize = 128 * 1024;
/// Characters per request: at 4 bytes each (the UTF-8 maximum) plus 3 bytes of JSON
/// per text, a full batch stays under [`MAX_BODY_BYTES`]: 32,000 × 4 + 50 × 3 + ~120
/// bytes of envelope = 128,270 ≤ 131,072.
pub(super) const MAX_CHARS: usize = 32_000;
/// `split_sentences` sent with every request: each text is one paragraph, and a
/// hard-wrapped one must not be cut at its line breaks (the default `1` would).
const SPLIT_SENTENCES: &str = "nonewlines";
/// `preserve_formatting` sent with every request (DeepL's default, sent explicitly):
/// Arabic script has no letter case to keep, and its punctuation should become the
/// target's.
const PRESERVE_FORMATTING: bool = false;

/// The DeepL wire format. It has no state of its own.
#[derive(Debug)]
pub(super) struct Deepl;

/// The JSON request body.
#[derive(Serialize)]
struct Request<'a> {
    text: &'a [String],
    target_lang: &'a str,
    source_lang: &'a str,
    split_sentences: &'static str,
    preserve_formatting: bool,
}

#[derive(Deserialize)]
struct Response {
    translations: Vec<Translation>,
}

#[derive(Deserialize)]
struct Translation {
    text: String,
}

/// One entry of `GET /v2/languages`.
#[derive(Deserialize)]
struct LanguageEntry {
    language: String,
}

/// `GET /v2/usage`; Pro adds fields we do not need.
#[derive(Deserialize)]
struct Usage {
    character_count: u64,
    character_limit: u64,
}

/// Characters a month on DeepL API Free.
pub(super) const FREE_MONTHLY: u64 = 500_000;

impl Deepl {
    async fn language_list(
        &self,
        http: &Http,
        kind: &str,
    ) -> Result<std::collections::BTreeSet<String>, ProviderError> {
        let request = http.client.get(http.url("v2/languages"));
        let reply = http
            .exchange(authorize(http, request)?.query(&[("type", kind)]))
            .await?;
        if reply.status != 200 {
            return classify(http, &reply, 0).map(|_| Default::default());
        }
        let list: Vec<LanguageEntry> = serde_json::from_str(&reply.body).map_err(|e| {
            ProviderError::Malformed(http.scrub(&format!(
                "GET /v2/languages?type={kind} did not return the documented list: {e}"
            )))
        })?;
        Ok(list
            .into_iter()
            .map(|l| l.language.to_ascii_uppercase())
            .collect())
    }
}

impl Service for Deepl {
    fn new(_settings: &ProviderSettings) -> Deepl {
        Deepl
    }

    /// Keyed; DeepL API Free gives 500,000 characters a month.
    fn about(&self) -> About {
        About {
            unofficial: false,
            key: KeyNeed::Required,
            allowance: Allowance::Monthly(FREE_MONTHLY),
        }
    }

    /// The config's limits, never above 50 texts and [`MAX_CHARS`] characters.
    fn limits(&self, settings: &ProviderSettings) -> BatchLimits {
        BatchLimits::capped(settings, MAX_TEXTS, MAX_CHARS)
    }

    /// Options that change the output ([`SPLIT_SENTENCES`], [`PRESERVE_FORMATTING`]).
    fn cache_options(&self) -> String {
        format!("v2;split_sentences={SPLIT_SENTENCES};preserve_formatting={PRESERVE_FORMATTING}")
    }

    /// DeepL's code for one of ours: upper case; as a target, English is `EN-US`,
    /// Portuguese `PT-BR` and Chinese `ZH-HANS` (the bare codes are deprecated
    /// there); as a source, only the language (`EN`, `PT`, `ZH`). A config
    /// `languages = { en = "EN-GB" }` is applied before this table.
    fn code(&self, ours: &str, target: bool) -> String {
        let ours = ours.to_ascii_lowercase();
        let base = ours.split(['-', '_']).next().unwrap_or_default();
        if !target {
            return match base {
                "no" => "NB".to_string(),
                other => other.to_ascii_uppercase(),
            };
        }
        match ours.as_str() {
            "en" => "EN-US".to_string(),
            "pt" => "PT-BR".to_string(),
            "zh" | "zh-hans" | "zh-cn" => "ZH-HANS".to_string(),
            "zh-hant" | "zh-tw" => "ZH-HANT".to_string(),
            "no" => "NB".to_string(),
            other => other.replace('_', "-").to_ascii_uppercase(),
        }
    }

    /// `endpoint = "auto"` resolved from the key: the Free host for keys ending in
    /// `:fx`, the Pro host otherwise (and with no key, where the call fails with an
    /// auth error anyway). An explicit endpoint is kept.
    fn endpoint(&self, settings: &ProviderSettings, key: Option<&ApiKey>) -> String {
        if settings.endpoint != DEEPL_AUTO_ENDPOINT {
            return settings.endpoint.clone();
        }
        let free = key.is_some_and(|k| k.expose().trim_end().ends_with(":fx"));
        if free { FREE_HOST } else { PRO_HOST }.to_string()
    }

    fn endpoint_shown(&self, settings: &ProviderSettings) -> String {
        if settings.endpoint == DEEPL_AUTO_ENDPOINT {
            return "auto (api-free.deepl.com for keys ending in :fx, else api.deepl.com)".into();
        }
        mask_endpoint(&settings.endpoint)
    }

    /// One `POST /v2/translate` with every text in `text`.
    fn request(
        &self,
        http: &Http,
        sent: &Sent<'_>,
    ) -> Result<reqwest::RequestBuilder, ProviderError> {
        let texts = sent.texts;
        if texts.len() > MAX_TEXTS {
            return Err(ProviderError::BadRequest(format!(
                "{} texts is over DeepL's {MAX_TEXTS} per request; the batch must be split",
                texts.len()
            )));
        }
        let body = Request {
            text: texts,
            target_lang: sent.to,
            source_lang: sent.from,
            split_sentences: SPLIT_SENTENCES,
            preserve_formatting: PRESERVE_FORMATTING,
        };
        let request = http.post_json("v2/translate", &body, MAX_BODY_BYTES, "DeepL")?;
        authorize(http, request)
    }

    fn classify(
        &self,
        http: &Http,
        reply: &Reply,
        sent: &Sent<'_>,
    ) -> Result<Vec<String>, ProviderError> {
        classify(http, reply, sent.texts.len())
    }

    /// `GET /v2/languages?type=source` and `?type=target`.
    fn asks_languages(&self) -> bool {
        true
    }

    async fn languages(&self, http: &Http) -> Result<Languages, ProviderError> {
        Ok(Languages::Lists {
            sources: self.language_list(http, "source").await?,
            targets: self.language_list(http, "target").await?,
        })
    }

    /// `GET /v2/usage`: characters used and allowed this billing period.
    async fn health(&self, http: &Http) -> Result<Health, ProviderError> {
        let request = authorize(http, http.client.get(http.url("v2/usage")))?;
        let reply = http.exchange(request).await?;
        if reply.status != 200 {
            return classify(http, &reply, 0).map(|_| Health::default());
        }
        let usage: Usage = serde_json::from_str(&reply.body).map_err(|e| {
            ProviderError::Malformed(http.scrub(&format!(
                "GET /v2/usage without `character_count` and `character_limit`: {e}"
            )))
        })?;
        Ok(Health {
            detail: format!(
                "GET /v2/usage on {}: {} of {} characters used this period",
                plan(&http.base),
                usage.character_count,
                usage.character_limit
            ),
            quota: Some((usage.character_count, usage.character_limit)),
        })
    }
}

/// Add `Authorization: DeepL-Auth-Key <key>` (marked sensitive, so it never shows in
/// a `Debug` of the request), or refuse locally when there is no usable key.
fn authorize(
    http: &Http,
    request: reqwest::RequestBuilder,
) -> Result<reqwest::RequestBuilder, ProviderError> {
    let Some(key) = &http.key else {
        return Err(ProviderError::AuthFailed(
            "no DeepL key is set; nothing was sent".to_string(),
        ));
    };
    let mut value =
        HeaderValue::from_str(&format!("DeepL-Auth-Key {}", key.expose())).map_err(|_| {
            ProviderError::AuthFailed(
                "the DeepL key has characters an HTTP header cannot carry".to_string(),
            )
        })?;
    value.set_sensitive(true);
    Ok(request.header(AUTHORIZATION, value))
}

/// Which DeepL plan an endpoint is, for `providers --check`.
fn plan(base: &str) -> String {
    let host = url::Url::parse(base)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string));
    match host.as_deref() {
        Some("api-free.deepl.com") => "DeepL API Free (api-free.deepl.com)".to_string(),
        Some("api.deepl.com") => "DeepL API Pro (api.deepl.com)".to_string(),
        _ => format!("a DeepL-compatible server at {}", mask_endpoint(base)),
    }
}

/// Turn one answer into translations or an error class.
fn classify(http: &Http, reply: &Reply, sent: usize) -> Result<Vec<String>, ProviderError> {
    let with_status = || {
        format!(
            "HTTP {}: {}",
            reply.status,
            http.scrub(&message(&reply.body))
        )
    };
    match reply.status {
        200 => parse(http, &reply.body, sent),
        456 => Err(ProviderError::QuotaExhausted(format!(
            "{}; DeepL's character quota is used up (Free: 500,000 a month; Pro: the cost-control limit)",
            with_status()
        ))),
        429 => Err(ProviderError::RateLimited {
            retry_after: reply.retry_after,
            message: with_status(),
        }),
        401 | 403 => Err(ProviderError::AuthFailed(format!(
            "{}; DeepL refused the key (a Free key, ending in `:fx`, works only on api-free.deepl.com, a Pro key only on api.deepl.com)",
            with_status()
        ))),
        413 => Err(ProviderError::BadRequest(format!(
            "{}; the request is too large for DeepL",
            with_status()
        ))),
        408 | 500..=599 => Err(ProviderError::Transient(with_status())),
        _ => Err(ProviderError::BadRequest(with_status())),
    }
}

/// Parse a 200 body; the count must match what was sent.
fn parse(http: &Http, body: &str, sent: usize) -> Result<Vec<String>, ProviderError> {
    let response: Response = serde_json::from_str(body).map_err(|e| {
        ProviderError::Malformed(http.scrub(&format!(
            "HTTP 200 without a `translations` array of `text` strings ({e}): {}",
            http.excerpt(body)
        )))
    })?;
    if response.translations.len() != sent {
        return Err(ProviderError::Malformed(format!(
            "sent {sent} texts, got {} translations",
            response.translations.len()
        )));
    }
    Ok(response.translations.into_iter().map(|t| t.text).collect())
}

/// DeepL's error body `{"message", "detail"?}` as one line, or the body itself.
fn message(body: &str) -> String {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(body) else {
        return if body.trim().is_empty() {
            "no message".to_string()
        } else {
            body.to_string()
        };
    };
    let field = |name: &str| v.get(name).and_then(serde_json::Value::as_str);
    match (field("message"), field("detail")) {
        (Some(m), Some(d)) if !d.is_empty() => format!("{m} ({d})"),
        (Some(m), _) => m.to_string(),
        _ => body.to_string(),
    }
}

/// DeepL's Pro host.
pub(super) const PRO_HOST: &str = "https://api.deepl.com";
/// DeepL's Free host (keys ending in `:fx`).
pub(super) const FREE_HOST: &str = "https://api-free.deepl.com";

#[cfg(test)]
mod tests {
    use super::*;

    /// Our code → DeepL's, as source and as target. Edit on purpose.
    #[test]
    fn language_code_table() {
        let cases = [
            ("ar", "AR", "AR"),
            ("fa", "FA", "FA"),
            ("en", "EN", "EN-US"),
            ("en-gb", "EN", "EN-GB"),
            ("en-US", "EN", "EN-US"),
            ("pt", "PT", "PT-BR"),
            ("pt-pt", "PT", "PT-PT"),
            ("zh", "ZH", "ZH-HANS"),
            ("zh-hans", "ZH", "ZH-HANS"),
            ("zh-hant", "ZH", "ZH-HANT"),
            ("no", "NB", "NB"),
            ("de", "DE", "DE"),
            ("es-419", "ES", "ES-419"),
        ];
        for (ours, source, target) in cases {
            assert_eq!(Deepl.code(ours, false), source, "{ours} as source");
            assert_eq!(Deepl.code(ours, true), target, "{ours} as target");
        }
    }

    /// The arithmetic of [`MAX_CHARS`]: a full batch of 4-byte characters fits.
    #[test]
    fn a_full_batch_of_the_widest_characters_fits_the_body_limit() {
        let per_text = MAX_CHARS / MAX_TEXTS;
        let texts: Vec<String> = (0..MAX_TEXTS).map(|_| "𝔸".repeat(per_text)).collect();
        let body = serde_json::to_vec(&Request {
            text: &texts,
            target_lang: "EN-US",
            source_lang: "AR",
            split_sentences: SPLIT_SENTENCES,
            preserve_formatting: PRESERVE_FORMATTING,
        })
        .unwrap();
        assert!(body.len() <= MAX_BODY_BYTES, "{} bytes", body.len());
        assert!(body.len() > MAX_CHARS * 4, "{} bytes", body.len());
    }

    #[test]
    fn error_bodies_are_read() {
        assert_eq!(message(r#"{"message":"Quota Exceeded"}"#), "Quota Exceeded");
        assert_eq!(
            message(
                r#"{"message":"Bad request","detail":"Value for 'target_lang' not supported."}"#
            ),
            "Bad request (Value for 'target_lang' not supported.)"
        );
        assert_eq!(message(""), "no message");
        assert_eq!(message("<html>busy</html>"), "<html>busy</html>");
    }

    #[test]
    fn plan_names_the_host() {
        assert_eq!(plan(FREE_HOST), "DeepL API Free (api-free.deepl.com)");
        assert_eq!(plan(PRO_HOST), "DeepL API Pro (api.deepl.com)");
        assert_eq!(
            plan("http://127.0.0.1:9"),
            "a DeepL-compatible server at http://127.0.0.1:9"
        );
    }
}
