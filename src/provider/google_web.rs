//! Google's browser-extension endpoint, `/translate_a/t?client=dict-chrome-ex`:
//! keyless, undocumented, several texts per request.
//!
//! Owns the request (`POST`, the texts as repeated `q` fields of a form body, so they
//! never travel in a URL), its limits (capped at [`MAX_TEXTS`] and [`MAX_CHARS`]) and
//! the sorting of answers: one JSON element per `q`, in order; a "Sorry… unusual
//! traffic" page or a 403 is `Blocked`. Google documents none of it: the service is
//! marked **unofficial**, may change or stop without notice, and a chain simply moves
//! on. Why this endpoint, how its clients use it, and the sources are in
//! `docs/providers.md`, section "Google's browser-extension endpoint".

use serde_json::Value;

use super::{
    About, Allowance, BatchLimits, Health, Http, KeyNeed, ProviderError, Reply, Sent, Service,
    google,
};
use crate::config::ProviderSettings;

/// Most texts per request (as Google Cloud's documented 128 segments).
pub(super) const MAX_TEXTS: usize = 128;
/// Most characters per request (what Google's web page takes at once).
pub(super) const MAX_CHARS: usize = 5_000;
/// The translate path, relative to the endpoint.
const PATH: &str = "translate_a/t";
/// The client the endpoint knows us as: Chrome's dictionary extension.
const CLIENT: &str = "dict-chrome-ex";

/// The google-web wire format. It has no state of its own.
#[derive(Debug)]
pub(super) struct GoogleWeb;

impl Service for GoogleWeb {
    fn new(_settings: &ProviderSettings) -> GoogleWeb {
        GoogleWeb
    }

    /// Keyless and undocumented: no known allowance.
    fn about(&self) -> About {
        About {
            unofficial: true,
            key: KeyNeed::NotUsed,
            allowance: Allowance::Unknown,
        }
    }

    /// The config's limits, never above 128 texts and 5,000 characters.
    fn limits(&self, settings: &ProviderSettings) -> BatchLimits {
        BatchLimits::capped(settings, MAX_TEXTS, MAX_CHARS)
    }

    /// Options that change the output: the client the endpoint serves.
    fn cache_options(&self) -> String {
        format!("client={CLIENT}")
    }

    /// Google's codes (`ar`, `fa`, `zh-CN` …), as Google Cloud spells them.
    fn code(&self, ours: &str, _target: bool) -> String {
        google::code(ours)
    }

    /// One form `POST /translate_a/t` with every text as a `q` field.
    fn request(
        &self,
        http: &Http,
        sent: &Sent<'_>,
    ) -> Result<reqwest::RequestBuilder, ProviderError> {
        let query = [("client", CLIENT), ("sl", sent.from), ("tl", sent.to)];
        let form: Vec<(&str, &str)> = sent.texts.iter().map(|t| ("q", t.as_str())).collect();
        Ok(http.client.post(http.url(PATH)).query(&query).form(&form))
    }

    fn classify(
        &self,
        http: &Http,
        reply: &Reply,
        sent: &Sent<'_>,
    ) -> Result<Vec<String>, ProviderError> {
        let said = || http.scrub(&reply.body);
        let with_status = || format!("HTTP {}: {}", reply.status, said());
        match reply.status {
            200 => parse(http, &reply.body, sent.texts.len()),
            403 => Err(ProviderError::Blocked(format!(
                "{}; this keyless service refused the request",
                with_status()
            ))),
            429 => Err(ProviderError::RateLimited {
                retry_after: reply.retry_after,
                message: with_status(),
            }),
            408 | 500..=599 => Err(ProviderError::Transient(with_status())),
            _ => Err(ProviderError::BadRequest(with_status())),
        }
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
                "POST /{PATH}?client={CLIENT} (5 characters, en → de): answered; an unofficial service that reports no quota"
            ),
            quota: None,
        })
    }
}

/// A 200 body: one element per text, a string or `[string, language]`.
fn parse(http: &Http, body: &str, sent: usize) -> Result<Vec<String>, ProviderError> {
    let malformed = |what: String| ProviderError::Malformed(http.scrub(&what));
    let items = match serde_json::from_str::<Value>(body) {
        Ok(Value::Array(items)) => items,
        Ok(_) => {
            return Err(malformed(format!(
                "HTTP 200 without an array of translations: {}",
                http.excerpt(body)
            )));
        }
        Err(e) => {
            return Err(malformed(format!(
                "HTTP 200 without JSON ({e}): {}",
                http.excerpt(body)
            )));
        }
    };
    if items.len() != sent {
        return Err(ProviderError::Malformed(format!(
            "sent {sent} texts, got {} translations",
            items.len()
        )));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::String(s) => Ok(s),
            Value::Array(pair) => match pair.as_slice() {
                [Value::String(text), Value::String(_lang)] => Ok(text.clone()),
                _ => Err(ProviderError::Malformed(format!(
                    "element {i} is neither a translation nor [translation, language]"
                ))),
            },
            _ => Err(ProviderError::Malformed(format!(
                "element {i} is not a translation"
            ))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(status: u16, body: &str, n: usize) -> Result<Vec<String>, ProviderError> {
        let settings = crate::config::Config::builtin().providers["google-web"].clone();
        let http = Http::new("google-web", &settings, None).unwrap();
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
        GoogleWeb.classify(&http, &reply, &sent)
    }

    /// Every answer shape and status through the classifier. Edit on purpose.
    #[test]
    fn answer_table() {
        let cases: &[(u16, &str, usize)] = &[
            (200, r#"["a"]"#, 1),
            (200, r#"["a","b"]"#, 2),
            (200, r#"[["a","ar"],["b","ar"]]"#, 2),
            (200, r#"["a"]"#, 2),
            (200, r#"[["a","b","c"]]"#, 1),
            (200, r#"[5]"#, 1),
            (200, r#"{"sentences":[{"trans":"a"}]}"#, 1),
            (200, "not json", 1),
            (400, "Bad Request", 1),
            (403, "Forbidden", 1),
            (413, "too large", 1),
            (429, "Too Many Requests", 1),
            (500, "oops", 1),
            (503, "unavailable", 1),
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
        let expected = r#"200 ["a"] -> Ok(["a"])
200 ["a","b"] -> Ok(["a", "b"])
200 [["a","ar"],["b","ar"]] -> Ok(["a", "b"])
200 ["a"] -> Malformed
200 [["a","b","c"]] -> Malformed
200 [5] -> Malformed
200 {"sentences":[{"trans":"a"}]} -> Malformed
200 not json -> Malformed
400 Bad Request -> BadRequest
403 Forbidden -> Blocked
413 too large -> BadRequest
429 Too Many Requests -> RateLimited
500 oops -> Transient
503 unavailable -> Transient
"#;
        assert_eq!(table, expected);
    }

    #[test]
    fn codes_are_googles() {
        for (ours, theirs) in [
            ("ar", "ar"),
            ("fa", "fa"),
            ("en", "en"),
            ("zh-hans", "zh-CN"),
        ] {
            assert_eq!(GoogleWeb.code(ours, true), theirs);
        }
    }
}
