//! Microsoft Edge's built-in page translator, `POST /translate/translatetext`: keyless,
//! undocumented, a JSON array of texts per request.
//!
//! Owns the request, the language codes (Microsoft's, shared with Azure), its limits
//! (capped at Microsoft Translator v3's, [`MAX_TEXTS`] and [`MAX_CHARS`]) and the
//! sorting of answers: Microsoft's six-digit error codes get the classes of Azure's
//! table, except that a refused "key" means this keyless service refuses us
//! (`Blocked`). Microsoft documents none of it: the service is marked **unofficial**,
//! may change or stop without notice, and a chain simply moves on. The endpoint as its
//! known clients use it, and the sources, are in `docs/providers.md`, section
//! "Microsoft Edge's page translator".

use serde::Deserialize;

use super::{
    About, Allowance, BatchLimits, Health, Http, KeyNeed, ProviderError, Reply, Sent, Service,
    azure,
};
use crate::config::ProviderSettings;

/// Most texts per request: Microsoft Translator v3's documented maximum.
pub(super) const MAX_TEXTS: usize = 1_000;
/// Most characters per request: Microsoft Translator v3's documented maximum.
pub(super) const MAX_CHARS: usize = 50_000;
/// The translate path, relative to the endpoint.
const PATH: &str = "translate/translatetext";

/// The Edge wire format. It has no state of its own.
#[derive(Debug)]
pub(super) struct Edge;

/// One answer element.
#[derive(Deserialize)]
struct Item {
    translations: Vec<Translation>,
}

#[derive(Deserialize)]
struct Translation {
    text: String,
}

impl Service for Edge {
    fn new(_settings: &ProviderSettings) -> Edge {
        Edge
    }

    /// Keyless and undocumented: no known allowance.
    fn about(&self) -> About {
        About {
            unofficial: true,
            key: KeyNeed::NotUsed,
            allowance: Allowance::Unknown,
        }
    }

    /// The config's limits, never above Microsoft Translator's 1,000 texts and 50,000
    /// characters.
    fn limits(&self, settings: &ProviderSettings) -> BatchLimits {
        BatchLimits::capped(settings, MAX_TEXTS, MAX_CHARS)
    }

    /// Options that change the output: this endpoint and its consumer mode.
    fn cache_options(&self) -> String {
        "translatetext;isEnterpriseClient=false".to_string()
    }

    /// Microsoft's codes (`ar`, `fa`, `zh-Hans` …), as Azure spells them.
    fn code(&self, ours: &str, _target: bool) -> String {
        azure::code(ours)
    }

    /// One `POST /translate/translatetext` with the texts as a JSON array.
    fn request(
        &self,
        http: &Http,
        sent: &Sent<'_>,
    ) -> Result<reqwest::RequestBuilder, ProviderError> {
        let query = [
            ("from", sent.from),
            ("to", sent.to),
            ("isEnterpriseClient", "false"),
        ];
        Ok(http
            .post_json(PATH, &sent.texts, usize::MAX, "Edge")?
            .query(&query))
    }

    fn classify(
        &self,
        http: &Http,
        reply: &Reply,
        sent: &Sent<'_>,
    ) -> Result<Vec<String>, ProviderError> {
        if reply.status != 200 {
            return Err(match azure::error(http, reply) {
                ProviderError::AuthFailed(m) => {
                    ProviderError::Blocked(format!("{m}; this keyless service refused the request"))
                }
                other => other,
            });
        }
        let items: Vec<Item> = serde_json::from_str(&reply.body).map_err(|e| {
            ProviderError::Malformed(http.scrub(&format!(
                "HTTP 200 without an array of `translations` ({e}): {}",
                http.excerpt(&reply.body)
            )))
        })?;
        let sent = sent.texts.len();
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
                item.translations
                    .into_iter()
                    .next()
                    .map(|t| t.text)
                    .ok_or_else(|| {
                        ProviderError::Malformed(format!("element {i} has no translation"))
                    })
            })
            .collect()
    }

    /// One five-character translation (`hello`, en → de): the service has no other
    /// endpoint to ask.
    async fn health(&self, http: &Http) -> Result<Health, ProviderError> {
        let texts = ["hello".to_string()];
        let sent = Sent {
            from: "en",
            to: "de",
            texts: &texts,
        };
        super::send(self, http, &sent).await?;
        Ok(Health {
            detail: format!(
                "POST /{PATH} (5 characters, en → de): answered; an unofficial service that reports no quota"
            ),
            quota: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http() -> Http {
        let settings = crate::config::Config::builtin().providers["edge"].clone();
        Http::new("edge", &settings, None).unwrap()
    }

    fn classify(status: u16, body: &str, n: usize) -> Result<Vec<String>, ProviderError> {
        let texts: Vec<String> = (0..n).map(|i| format!("نص {i}")).collect();
        let reply = Reply {
            status,
            retry_after: None,
            body: body.to_owned(),
        };
        let sent = Sent {
            from: "ar",
            to: "en",
            texts: &texts,
        };
        Edge.classify(&http(), &reply, &sent)
    }

    /// Every answer shape and status through the classifier. Edit on purpose.
    #[test]
    fn answer_table() {
        let cases: &[(u16, &str, usize)] = &[
            (200, r#"[{"translations":[{"text":"a","to":"en"}]}]"#, 1),
            (
                200,
                r#"[{"detectedLanguage":{"language":"ar","score":1.0},"translations":[{"text":"a","to":"en"}]},{"translations":[{"text":"b"}]}]"#,
                2,
            ),
            (200, r#"[{"translations":[{"text":"a"}]}]"#, 2),
            (200, r#"[{"translations":[]}]"#, 1),
            (200, r#"{"translations":[{"text":"a"}]}"#, 1),
            (200, r#"["a"]"#, 1),
            (
                403,
                r#"{"error":{"code":403001,"message":"quota exceeded"}}"#,
                1,
            ),
            (
                401,
                r#"{"error":{"code":401000,"message":"unauthorized"}}"#,
                1,
            ),
            (403, "Forbidden", 1),
            (429, r#"{"error":{"code":429001,"message":"slow down"}}"#, 1),
            (400, r#"{"error":{"code":400050,"message":"too long"}}"#, 1),
            (400, r#"{"error":{"code":400035,"message":"bad from"}}"#, 1),
            (500, "oops", 1),
            (503, r#"{"error":{"code":503000,"message":"later"}}"#, 1),
        ];
        let mut table = String::new();
        for (status, body, n) in cases {
            let got = match classify(*status, body, *n) {
                Ok(v) => format!("Ok({v:?})"),
                Err(e) => format!("{e:?}")
                    .split([' ', '('])
                    .next()
                    .unwrap()
                    .to_string(),
            };
            table.push_str(&format!("{status} {body} -> {got}\n"));
        }
        let expected = r#"200 [{"translations":[{"text":"a","to":"en"}]}] -> Ok(["a"])
200 [{"detectedLanguage":{"language":"ar","score":1.0},"translations":[{"text":"a","to":"en"}]},{"translations":[{"text":"b"}]}] -> Ok(["a", "b"])
200 [{"translations":[{"text":"a"}]}] -> Malformed
200 [{"translations":[]}] -> Malformed
200 {"translations":[{"text":"a"}]} -> Malformed
200 ["a"] -> Malformed
403 {"error":{"code":403001,"message":"quota exceeded"}} -> QuotaExhausted
401 {"error":{"code":401000,"message":"unauthorized"}} -> Blocked
403 Forbidden -> Blocked
429 {"error":{"code":429001,"message":"slow down"}} -> RateLimited
400 {"error":{"code":400050,"message":"too long"}} -> BadRequest
400 {"error":{"code":400035,"message":"bad from"}} -> UnsupportedPair
500 oops -> Transient
503 {"error":{"code":503000,"message":"later"}} -> Transient
"#;
        assert_eq!(table, expected);
    }

    #[test]
    fn codes_are_microsofts() {
        for (ours, theirs) in [
            ("ar", "ar"),
            ("fa", "fa"),
            ("en", "en"),
            ("zh-hans", "zh-Hans"),
        ] {
            assert_eq!(Edge.code(ours, true), theirs);
        }
    }
}
