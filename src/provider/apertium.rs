//! Apertium APY `/translate`: one text per request, no key.
//!
//! Owns the request (POST, form-encoded, so the text stays out of the URL: `q`,
//! `langpair` in ISO 639-3 codes, `markUnknown=no`, `format=txt`), the code table from
//! our two-letter codes to APY's three-letter ones, the installed pairs (`/listPairs`)
//! and the sorting of APY's answers and `explanation`s into [`ProviderError`] classes.
//! The wire contract, each status's class and the sources (APY's handlers) are in
//! `docs/providers.md`, section "Apertium APY".

use serde::Deserialize;

use super::{
    About, Allowance, BatchLimits, Health, Http, KeyNeed, Languages, ProviderError, Reply, Sent,
    Service,
};
use crate::config::ProviderSettings;

/// Our codes (ISO 639-1, a few with a region) → APY's ISO 639-3 codes. APY converts
/// some two-letter codes itself, but not all, and `/listPairs` answers in three
/// letters, so we convert on our side. `fa` is `pes` (Iranian Persian), as in APY's
/// own table.
pub(super) const CODE_TABLE: &[(&str, &str)] = &[
    ("af", "afr"),
    ("an", "arg"),
    ("ar", "ara"),
    ("be", "bel"),
    ("bg", "bul"),
    ("br", "bre"),
    ("ca", "cat"),
    ("cs", "ces"),
    ("cy", "cym"),
    ("da", "dan"),
    ("de", "deu"),
    ("el", "ell"),
    ("en", "eng"),
    ("en-us", "eng_US"),
    ("eo", "epo"),
    ("es", "spa"),
    ("eu", "eus"),
    ("fa", "pes"),
    ("fi", "fin"),
    ("fr", "fra"),
    ("ga", "gle"),
    ("gl", "glg"),
    ("he", "heb"),
    ("hi", "hin"),
    ("id", "ind"),
    ("is", "isl"),
    ("it", "ita"),
    ("kk", "kaz"),
    ("mk", "mkd"),
    ("ms", "msa"),
    ("mt", "mlt"),
    ("nb", "nob"),
    ("nl", "nld"),
    ("nn", "nno"),
    ("oc", "oci"),
    ("pl", "pol"),
    ("pt", "por"),
    ("pt-br", "por_BR"),
    ("ro", "ron"),
    ("ru", "rus"),
    ("sc", "srd"),
    ("sk", "slk"),
    ("sl", "slv"),
    ("sq", "sqi"),
    ("sv", "swe"),
    ("tr", "tur"),
    ("tt", "tat"),
    ("uk", "ukr"),
    ("ur", "urd"),
    ("uz", "uzb"),
];

/// The Apertium wire format. It has no state of its own.
#[derive(Debug)]
pub(super) struct Apertium;

/// `GET /listPairs`.
#[derive(Deserialize)]
struct PairsReply {
    #[serde(rename = "responseData")]
    response_data: Vec<Pair>,
}

#[derive(Deserialize)]
struct Pair {
    #[serde(rename = "sourceLanguage")]
    source: String,
    #[serde(rename = "targetLanguage")]
    target: String,
}

impl Apertium {
    /// `GET /listPairs`: the installed pairs in the server's order.
    async fn pairs(&self, http: &Http) -> Result<Vec<(String, String)>, ProviderError> {
        let reply = http
            .exchange(http.client.get(http.url("listPairs")))
            .await?;
        if reply.status != 200 {
            return Err(error(http, &reply));
        }
        let list: PairsReply = serde_json::from_str(&reply.body).map_err(|e| {
            ProviderError::Malformed(http.scrub(&format!(
                "GET /listPairs did not return the documented `responseData` list: {e}"
            )))
        })?;
        Ok(list
            .response_data
            .into_iter()
            .map(|p| (p.source, p.target))
            .collect())
    }
}

impl Service for Apertium {
    fn new(_settings: &ProviderSettings) -> Apertium {
        Apertium
    }

    /// Self-hosted and free; a key only for a proxy in front of a public instance.
    fn about(&self) -> About {
        About {
            unofficial: false,
            key: KeyNeed::Optional,
            allowance: Allowance::Unmetered,
        }
    }

    /// One text per request, whatever the config says.
    fn limits(&self, settings: &ProviderSettings) -> BatchLimits {
        BatchLimits::capped(settings, 1, usize::MAX)
    }

    /// Options that change the output.
    fn cache_options(&self) -> String {
        "markUnknown=no;format=txt".to_string()
    }

    /// APY's ISO 639-3 code for one of ours ([`CODE_TABLE`]); an unknown code (or one
    /// already in three letters) is sent as is.
    fn code(&self, ours: &str, _target: bool) -> String {
        let lower = ours.to_ascii_lowercase();
        CODE_TABLE
            .iter()
            .find(|(o, _)| *o == lower)
            .map_or_else(|| ours.to_string(), |(_, theirs)| (*theirs).to_string())
    }

    /// One form-encoded `POST /translate` for the single text sent.
    fn request(
        &self,
        http: &Http,
        sent: &Sent<'_>,
    ) -> Result<reqwest::RequestBuilder, ProviderError> {
        let [text] = sent.texts else {
            return Err(ProviderError::BadRequest(format!(
                "Apertium takes one text per request, got {}",
                sent.texts.len()
            )));
        };
        let langpair = format!("{}|{}", sent.from, sent.to);
        let form = [
            ("q", text.as_str()),
            ("langpair", &langpair),
            ("markUnknown", "no"),
            ("format", "txt"),
        ];
        Ok(http.client.post(http.url("translate")).form(&form))
    }

    fn classify(
        &self,
        http: &Http,
        reply: &Reply,
        _sent: &Sent<'_>,
    ) -> Result<Vec<String>, ProviderError> {
        if reply.status != 200 {
            return Err(error(http, reply));
        }
        parse(http, &reply.body).map(|t| vec![t])
    }

    /// `GET /listPairs`: the installed `(source, target)` pairs.
    fn asks_languages(&self) -> bool {
        true
    }

    async fn languages(&self, http: &Http) -> Result<Languages, ProviderError> {
        let pairs = self.pairs(http).await?;
        Ok(Languages::Pairs(pairs.into_iter().collect()))
    }

    /// `/listPairs`, with the first few pairs in the detail.
    async fn health(&self, http: &Http) -> Result<Health, ProviderError> {
        const SHOWN: usize = 8;
        let pairs = self.pairs(http).await?;
        let mut shown: Vec<String> = (pairs.iter().take(SHOWN))
            .map(|(s, t)| format!("{s}→{t}"))
            .collect();
        if pairs.len() > SHOWN {
            shown.push(format!("… {} more", pairs.len() - SHOWN));
        }
        Ok(Health {
            detail: format!(
                "GET /listPairs: {} pairs: {}",
                pairs.len(),
                if shown.is_empty() {
                    "none".to_string()
                } else {
                    shown.join(", ")
                }
            ),
            quota: None,
        })
    }
}

/// A 200 body: `responseData.translatedText`.
fn parse(http: &Http, body: &str) -> Result<String, ProviderError> {
    let v: serde_json::Value = serde_json::from_str(body).map_err(|e| {
        ProviderError::Malformed(http.scrub(&format!(
            "HTTP 200 without JSON ({e}): {}",
            http.excerpt(body)
        )))
    })?;
    match v.pointer("/responseData/translatedText") {
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        _ => Err(ProviderError::Malformed(
            "HTTP 200 without a `responseData.translatedText` string".into(),
        )),
    }
}

/// A non-200 answer as an error class.
fn error(http: &Http, reply: &Reply) -> ProviderError {
    let said = http.scrub(&error_text(&reply.body));
    let text = format!("HTTP {}: {said}", reply.status);
    match reply.status {
        400 if is_pair_refusal(&said) => ProviderError::UnsupportedPair(text),
        401 | 403 => ProviderError::AuthFailed(text),
        429 => ProviderError::RateLimited {
            retry_after: reply.retry_after,
            message: text,
        },
        408 | 500..=599 => ProviderError::Transient(text),
        _ => ProviderError::BadRequest(text),
    }
}

/// `explanation` (the reason) and `message` (the reason phrase) of an APY error
/// body, or the body.
fn error_text(body: &str) -> String {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(body) else {
        return body.to_string();
    };
    let field = |name: &str| v.get(name).and_then(serde_json::Value::as_str);
    match (field("explanation"), field("message")) {
        (Some(e), Some(m)) if !e.is_empty() && e != m => format!("{e} ({m})"),
        (Some(e), _) if !e.is_empty() => e.to_string(),
        (_, Some(m)) => m.to_string(),
        _ => body.to_string(),
    }
}

/// APY's refusals of a language pair.
fn is_pair_refusal(text: &str) -> bool {
    let t = text.to_lowercase();
    t.contains("pair is not installed") || t.contains("pair is invalid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apy_error_bodies_are_read() {
        let body = r#"{"status": "error", "code": 400, "message": "Bad Request", "explanation": "That pair is not installed"}"#;
        assert_eq!(error_text(body), "That pair is not installed (Bad Request)");
        assert!(is_pair_refusal(&error_text(body)));
        let body = r#"{"status": "error", "code": 400, "message": "That pair is invalid, use e.g. eng|spa"}"#;
        assert!(is_pair_refusal(&error_text(body)));
        let body = r#"{"status": "error", "code": 400, "message": "Bad Request", "explanation": "Missing argument q"}"#;
        assert!(!is_pair_refusal(&error_text(body)));
        assert_eq!(error_text("<html>502</html>"), "<html>502</html>");
    }
}
