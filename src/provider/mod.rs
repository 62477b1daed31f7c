//! Provider: each translation API's wire format behind one type.
//!
//! A [`Provider`] turns one batch of texts into **one** HTTP exchange and sorts the
//! answer into `Ok(translations)` or a [`ProviderError`] class. It never sleeps, loops
//! or retries: when and how often to ask again is [`limit`](crate::limit)'s job.
//!
//! Architecture:
//! - [`Provider`] is a struct holding what every API shares (the name, the masked
//!   endpoint, the [`BatchLimits`], one `reqwest::Client`, the key) and a private
//!   `Api` enum with one variant per wire format. The set of APIs is closed and chosen
//!   from the config's `kind`, so dispatch is a `match`, with no trait objects or
//!   async-trait (STYLE example 3). A struct outside the enum keeps the public
//!   signatures that other modules code against independent of which APIs exist.
//! - `libretranslate.rs` and `mymemory.rs` own their API's URL, parameters, key
//!   placement, limits and response classification; this file owns what they share:
//!   the client, transport-error classification, `Retry-After` parsing and scrubbing
//!   secrets out of every message.
//! - Every reply body is read in chunks, after decompression, up to
//!   [`MAX_REPLY_BYTES`]: a gzip bomb or an endless body is cut off, never buffered.
//!   The client's `timeout_secs` covers the whole exchange, body included, so a
//!   server trickling one byte a second ends in a timeout like one that never answers.
//!
//! Secrets: the key goes on the wire only (a header, a JSON body field or a query
//! parameter, as each API documents).
//! reqwest's error `Display` includes the request URL, query string and all, so
//! transport errors are stripped of their URL before they become messages, and every
//! message is scrubbed of the key as a second line of defence.

mod apertium;
mod azure;
mod deepl;
mod google;
mod libretranslate;
mod mymemory;
mod openai;

use std::collections::BTreeSet;
use std::error::Error as _;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::config::{ProviderKind, ProviderSettings};
use crate::secret::ApiKey;

/// The `User-Agent` sent with every request.
pub const USER_AGENT: &str = concat!("tarjama/", env!("CARGO_PKG_VERSION"));

/// Longest server message kept in a [`ProviderError`], in characters.
const MAX_MESSAGE_CHARS: usize = 300;

/// Most bytes of a reply body read, counted after decompression: 8 MiB. The largest
/// request any API takes is 50,000 characters (Azure); its translation, even three
/// times longer and every character escaped as a 6-byte `\uXXXX`, is under 1 MiB.
/// A longer body (a gzip bomb, a server streaming without end) is abandoned as
/// [`ProviderError::Malformed`]: never cached, the batch is split and retried.
pub const MAX_REPLY_BYTES: usize = 8 << 20;

/// How one exchange with an API failed. Providers classify; `limit` decides.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// Slow down (429 or equivalent); `retry_after` when the server said.
    #[error("rate limited: {message}")]
    RateLimited {
        /// Server-given wait.
        retry_after: Option<Duration>,
        /// What the server said.
        message: String,
    },
    /// The quota is used up: stop sending to this provider, no retry.
    #[error("quota exhausted: {0}")]
    QuotaExhausted(String),
    /// The key is missing, wrong or not allowed: no retry.
    #[error("authentication failed: {0}")]
    AuthFailed(String),
    /// The server refuses this request's content: no retry of the same texts.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 5xx, timeout, reset: retry with backoff.
    #[error("transient failure: {0}")]
    Transient(String),
    /// The endpoint cannot be reached (DNS failure, connection refused).
    #[error("cannot reach {0}")]
    Unreachable(String),
    /// The answer cannot be used (unparseable, wrong count): never cached.
    #[error("malformed reply: {0}")]
    Malformed(String),
    /// A setting is wrong (unknown model, wrong endpoint path): every request would
    /// fail the same way, so the provider is stopped; no retry.
    #[error("misconfigured: {0}")]
    Misconfigured(String),
    /// The provider does not translate this language pair: found before any text is
    /// sent, from its languages endpoint or its table, or (Azure, Apertium) from a
    /// translate reply that names the pair.
    #[error("unsupported language pair: {0}")]
    UnsupportedPair(String),
}

/// Which language pairs a provider translates, in the provider's own codes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Languages {
    /// Anything (LLMs, or an API with no way to ask).
    Any,
    /// Every listed source to every listed target.
    Lists {
        /// Source codes.
        sources: BTreeSet<String>,
        /// Target codes.
        targets: BTreeSet<String>,
    },
    /// Exactly these `(source, target)` pairs.
    Pairs(BTreeSet<(String, String)>),
}

impl Languages {
    /// Whether `from → to` (provider codes) is supported. Codes compare
    /// case-insensitively; a target like `EN-US` also matches a listed `EN`.
    #[must_use]
    pub fn supports(&self, from: &str, to: &str) -> bool {
        let eq = |a: &str, b: &str| {
            a.eq_ignore_ascii_case(b)
                || a.split(['-', '_'])
                    .next()
                    .is_some_and(|p| p.eq_ignore_ascii_case(b))
        };
        match self {
            Languages::Any => true,
            Languages::Lists { sources, targets } => {
                sources.iter().any(|s| eq(from, s)) && targets.iter().any(|t| eq(to, t))
            }
            Languages::Pairs(pairs) => pairs.iter().any(|(s, t)| eq(from, s) && eq(to, t)),
        }
    }
}

/// What `translate providers --check` reports about one provider.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Health {
    /// One line on what was called and what came back.
    pub detail: String,
    /// Characters used and allowed in the current period, where the API tells.
    pub quota: Option<(u64, u64)>,
}

/// What one request may carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchLimits {
    /// Texts per request.
    pub max_texts: usize,
    /// Characters (code points) per request.
    pub max_chars: usize,
    /// UTF-8 bytes per text (`None`: no limit).
    pub max_bytes_per_text: Option<usize>,
}

impl BatchLimits {
    /// The config's limits (`max_bytes_per_text = 0`: none), capped at what the API
    /// documents (`usize::MAX`: no cap).
    fn capped(settings: &ProviderSettings, max_texts: usize, max_chars: usize) -> BatchLimits {
        BatchLimits {
            max_texts: settings.max_texts.clamp(1, max_texts.max(1)),
            max_chars: settings.max_chars.clamp(1, max_chars.max(1)),
            max_bytes_per_text: (settings.max_bytes_per_text > 0)
                .then_some(settings.max_bytes_per_text),
        }
    }
}

/// A configured provider.
#[derive(Debug)]
pub struct Provider {
    name: String,
    kind: ProviderKind,
    /// Base URL with credentials masked, for display.
    endpoint: String,
    limits: BatchLimits,
    settings: ProviderSettings,
    http: Http,
    api: Api,
    /// The languages endpoint's answer, asked once per run.
    languages: tokio::sync::OnceCell<Languages>,
}

/// One variant per wire format.
#[derive(Debug)]
enum Api {
    LibreTranslate(libretranslate::LibreTranslate),
    MyMemory(mymemory::MyMemory),
    Deepl(deepl::Deepl),
    Google(google::Google),
    Azure(azure::Azure),
    Apertium(apertium::Apertium),
    Openai(openai::Openai),
}

/// Call the same method on whichever API this is.
macro_rules! dispatch {
    ($api:expr, $a:ident => $call:expr) => {
        match $api {
            Api::LibreTranslate($a) => $call,
            Api::MyMemory($a) => $call,
            Api::Deepl($a) => $call,
            Api::Google($a) => $call,
            Api::Azure($a) => $call,
            Api::Apertium($a) => $call,
            Api::Openai($a) => $call,
        }
    };
}

impl Api {
    fn of(settings: &ProviderSettings) -> Api {
        match settings.kind {
            ProviderKind::Libretranslate => Api::LibreTranslate(libretranslate::LibreTranslate),
            ProviderKind::Mymemory => Api::MyMemory(mymemory::MyMemory::new(settings)),
            ProviderKind::Deepl => Api::Deepl(deepl::Deepl::new(settings)),
            ProviderKind::Google => Api::Google(google::Google::new(settings)),
            ProviderKind::Azure => Api::Azure(azure::Azure::new(settings)),
            ProviderKind::Apertium => Api::Apertium(apertium::Apertium::new(settings)),
            ProviderKind::Openai => Api::Openai(openai::Openai::new(settings)),
        }
    }

    fn limits(&self, settings: &ProviderSettings) -> BatchLimits {
        dispatch!(self, a => a.limits(settings))
    }

    fn cache_options(&self) -> String {
        dispatch!(self, a => a.cache_options())
    }

    /// The API's own code for one of ours (its mapping table); `target` for the
    /// target side (DeepL wants `EN-US`, not `EN`, as a target).
    fn code(&self, ours: &str, target: bool) -> String {
        dispatch!(self, a => a.code(ours, target))
    }
}

/// A provider's request limits from its settings alone (no client is built), e.g.
/// MyMemory's one text of at most 500 bytes. Same as [`Provider::limits`].
#[must_use]
pub fn batch_limits(settings: &ProviderSettings) -> BatchLimits {
    Api::of(settings).limits(settings)
}

/// Options that change the translation, for the cache key, from the settings alone (an
/// offline run builds no provider): the API's fixed options (`format=text`, `mt=1`)
/// and the language-code map when one is set. Never the key or the e-mail. Same as
/// [`Provider::cache_options`].
#[must_use]
pub fn cache_options(settings: &ProviderSettings) -> String {
    let mut options = Api::of(settings).cache_options();
    if !settings.languages.is_empty() {
        let map: Vec<String> = (settings.languages.iter())
            .map(|(ours, theirs)| format!("{ours}:{theirs}"))
            .collect();
        options.push_str(";languages=");
        options.push_str(&map.join(","));
    }
    options
}

impl Provider {
    /// Build a provider from its config table and key.
    ///
    /// # Errors
    /// The endpoint is not an http(s) URL, or the HTTP client cannot be built.
    pub fn new(
        name: &str,
        settings: &ProviderSettings,
        key: Option<ApiKey>,
    ) -> Result<Provider, crate::error::Error> {
        let settings = &deepl::resolve_endpoint(settings, key.as_ref());
        let http = Http::new(name, settings, key)?;
        let api = Api::of(settings);
        let limits = api.limits(settings);
        Ok(Provider {
            name: name.to_string(),
            kind: settings.kind,
            endpoint: mask_endpoint(&settings.endpoint),
            limits,
            settings: settings.clone(),
            http,
            api,
            languages: tokio::sync::OnceCell::new(),
        })
    }

    /// Config table name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// API kind.
    #[must_use]
    pub fn kind(&self) -> ProviderKind {
        self.kind
    }

    /// Base URL, credentials masked.
    #[must_use]
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Request limits.
    #[must_use]
    pub fn limits(&self) -> BatchLimits {
        self.limits
    }

    /// Options that change the translation, for the cache key: the API's fixed
    /// options (`format=text`, `mt=1`) and the language-code map when one is set.
    /// Never the key or the e-mail.
    #[must_use]
    pub fn cache_options(&self) -> String {
        cache_options(&self.settings)
    }

    /// Translate `texts` (our language codes `from`, `to`) in one request.
    ///
    /// Returns exactly `texts.len()` translations in order; an empty `texts` sends
    /// nothing.
    ///
    /// # Errors
    /// See [`ProviderError`].
    pub async fn translate(
        &self,
        from: &str,
        to: &str,
        texts: &[String],
    ) -> Result<Vec<String>, ProviderError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let (from, to) = (self.code(from, false), self.code(to, true));
        let http = &self.http;
        dispatch!(&self.api, a => a.translate(http, &from, &to, texts).await)
    }

    /// The provider's code for one of our language codes: the config's `languages`
    /// map first, then the API's own table.
    #[must_use]
    pub fn code(&self, ours: &str, target: bool) -> String {
        match self.settings.languages.get(ours) {
            Some(theirs) => theirs.clone(),
            None => self.api.code(ours, target),
        }
    }

    /// Fail before any text is sent when the provider does not translate
    /// `from → to` (our codes). Asks the provider's languages endpoint once per run
    /// (later calls use the answer); a provider without one answers from its table.
    ///
    /// # Errors
    /// [`ProviderError::UnsupportedPair`], or the languages call's own failure.
    pub async fn check_pair(&self, from: &str, to: &str) -> Result<(), ProviderError> {
        let http = &self.http;
        let languages = self
            .languages
            .get_or_try_init(|| async { dispatch!(&self.api, a => a.languages(http).await) })
            .await?;
        let (f, t) = (self.code(from, false), self.code(to, true));
        if languages.supports(&f, &t) {
            Ok(())
        } else {
            Err(ProviderError::UnsupportedPair(format!(
                "{} does not translate {from} → {to} ({f} → {t})",
                self.name
            )))
        }
    }

    /// One cheap call (languages or usage endpoint) for `translate providers --check`.
    ///
    /// # Errors
    /// The call's failure, classified.
    pub async fn health(&self) -> Result<Health, ProviderError> {
        let http = &self.http;
        dispatch!(&self.api, a => a.health(http).await)
    }
}

/// What every API shares: the client, where to send, the key, and how to turn
/// transport failures and server messages into safe [`ProviderError`]s.
#[derive(Debug)]
struct Http {
    client: reqwest::Client,
    /// Base URL as configured, trailing `/` removed. Not for display.
    base: String,
    /// `host:port` of the endpoint, for [`ProviderError::Unreachable`].
    host_port: String,
    key: Option<ApiKey>,
}

impl Http {
    fn new(
        name: &str,
        settings: &ProviderSettings,
        key: Option<ApiKey>,
    ) -> Result<Http, crate::error::Error> {
        let bad = |what: String| crate::error::Error::Usage(format!("[providers.{name}] {what}"));
        let url = url::Url::parse(&settings.endpoint)
            .map_err(|e| bad(format!("endpoint is not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(bad("endpoint must be an http:// or https:// URL".into()));
        }
        let host_port = match (url.host_str(), url.port_or_known_default()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => String::new(),
        };
        // ring is the only rustls crypto provider built in (see Cargo.toml); make it
        // the process default (a second call finds it installed, which is fine).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .tls_backend_rustls()
            .user_agent(USER_AGENT)
            .gzip(true)
            .timeout(secs(settings.timeout_secs))
            .connect_timeout(secs(settings.connect_timeout_secs))
            .build()
            .map_err(|e| {
                crate::error::Error::Other(format!(
                    "cannot build the HTTP client for provider `{name}`: {}",
                    e.without_url()
                ))
            })?;
        Ok(Http {
            client,
            base: settings.endpoint.trim_end_matches('/').to_string(),
            host_port,
            key: key.filter(|k| !k.expose().is_empty()),
        })
    }

    /// `{base}/{path}`.
    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    /// `POST {base}/{path}` with `value` as its JSON body, refused locally as
    /// `BadRequest` (the pipeline then splits the batch) when the encoded body is over
    /// the API's `max_bytes`.
    fn post_json(
        &self,
        path: &str,
        value: &impl serde::Serialize,
        max_bytes: usize,
        api: &str,
    ) -> Result<reqwest::RequestBuilder, ProviderError> {
        let body = serde_json::to_vec(value)
            .map_err(|e| ProviderError::BadRequest(format!("cannot encode the request: {e}")))?;
        if body.len() > max_bytes {
            return Err(ProviderError::BadRequest(format!(
                "request body of {} bytes is over {api}'s {max_bytes}-byte limit; the batch must be split",
                body.len()
            )));
        }
        Ok(self
            .client
            .post(self.url(path))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body))
    }

    /// Send a request and read the answer, at most [`MAX_REPLY_BYTES`] of it.
    async fn exchange(&self, request: reqwest::RequestBuilder) -> Result<Reply, ProviderError> {
        let response = request.send().await.map_err(|e| self.transport(e))?;
        let status = response.status().as_u16();
        let retry_after = retry_after(response.headers(), SystemTime::now());
        let body = self.read_capped(response, MAX_REPLY_BYTES).await?;
        Ok(Reply {
            status,
            retry_after,
            body,
        })
    }

    /// The body as text (invalid UTF-8 replaced), read chunk by chunk after
    /// decompression and abandoned as [`ProviderError::Malformed`] once it is over
    /// `cap` bytes: neither a gzip bomb nor an endless body can fill the memory. A
    /// slow body ends with the request's timeout like a slow header.
    async fn read_capped(
        &self,
        mut response: reqwest::Response,
        cap: usize,
    ) -> Result<String, ProviderError> {
        let too_big = || {
            ProviderError::Malformed(format!(
                "the reply is over {} MiB, more than any translation could be; not read further",
                cap >> 20
            ))
        };
        if response.content_length().is_some_and(|n| n > cap as u64) {
            return Err(too_big());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.transport(e))? {
            if body.len() + chunk.len() > cap {
                return Err(too_big());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(match String::from_utf8(body) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }

    /// Classify a transport failure; the message never carries the URL or the key.
    fn transport(&self, e: reqwest::Error) -> ProviderError {
        let e = e.without_url();
        let message = self.scrub(&error_chain(&e));
        if e.is_connect() || e.is_dns() {
            // Connection refused, DNS failure, connect timeout, TLS handshake: the
            // endpoint cannot be reached at all; `limit` stops asking quickly.
            tracing::debug!("cannot reach {}: {message}", self.host_port);
            ProviderError::Unreachable(self.host_port.clone())
        } else if e.is_timeout() {
            ProviderError::Transient(format!("no answer in time: {message}"))
        } else if e.is_builder() {
            ProviderError::BadRequest(message)
        } else {
            ProviderError::Transient(message)
        }
    }

    /// A server-supplied or error text made safe for a message: no key, one line,
    /// bounded length.
    fn scrub(&self, text: &str) -> String {
        let mut s: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if let Some(k) = &self.key {
            s = s.replace(k.expose(), "****");
        }
        if s.chars().count() > MAX_MESSAGE_CHARS {
            s = s.chars().take(MAX_MESSAGE_CHARS).collect::<String>() + "…";
        }
        s
    }
}

/// Entry points for the fuzz targets in `fuzz/`, not an API: each provider's
/// `fuzz_reply(status, body, texts sent)` classifies one answer exactly as its
/// `translate` does, with a client whose key is [`fuzz::KEY`](self::fuzz::KEY).
#[doc(hidden)]
pub mod fuzz {
    pub use super::apertium::fuzz_reply as apertium;
    pub use super::azure::fuzz_reply as azure;
    pub use super::deepl::fuzz_reply as deepl;
    pub use super::google::fuzz_reply as google;
    pub use super::libretranslate::fuzz_reply as libretranslate;
    pub use super::mymemory::fuzz_reply as mymemory;
    pub use super::openai::fuzz_reply as openai;

    /// The key the fuzzing clients hold: no message may ever contain it.
    pub const KEY: &str = "fuzz-key-0123456789abcdef";

    /// The fuzzing client of provider `name` (its built-in settings with a local
    /// endpoint and [`KEY`], built once and kept for the process) and `status` and
    /// `body` as the answer it received.
    pub(super) fn reply(
        name: &'static str,
        status: u16,
        body: &str,
    ) -> (&'static super::Http, super::Reply) {
        static CLIENTS: std::sync::Mutex<
            std::collections::BTreeMap<&'static str, &'static super::Http>,
        > = std::sync::Mutex::new(std::collections::BTreeMap::new());
        let http = *CLIENTS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(name)
            .or_insert_with(|| Box::leak(Box::new(http(name))));
        let reply = super::Reply {
            status,
            retry_after: None,
            body: body.to_owned(),
        };
        (http, reply)
    }

    /// The built-in settings of provider `name` with a local endpoint and [`KEY`].
    fn http(name: &str) -> super::Http {
        let mut settings = crate::config::Config::builtin().providers[name].clone();
        settings.endpoint = "http://127.0.0.1:9".to_owned();
        let key = Some(crate::secret::ApiKey::new(KEY));
        super::Http::new(name, &settings, key).expect("the built-in settings are valid")
    }
}

/// One HTTP answer, fully read.
#[derive(Debug)]
struct Reply {
    status: u16,
    retry_after: Option<Duration>,
    body: String,
}

/// A reqwest error and its sources, joined with `: `.
fn error_chain(e: &reqwest::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// `Retry-After` as a wait from `now`: delta-seconds or an HTTP date (RFC 9110 §10.2.3).
/// A date in the past is a zero wait; anything unparseable is ignored.
fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    // OpenAI-style servers send milliseconds too; the finer value wins.
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A positive number of seconds from the config as a `Duration`, capped at a day.
fn secs(value: f64) -> Duration {
    const DAY: f64 = 86_400.0;
    Duration::from_secs_f64(if value.is_finite() {
        value.clamp(0.001, DAY)
    } else {
        DAY
    })
}

/// The endpoint for display: userinfo and query values replaced by `****`.
#[must_use]
pub fn mask_endpoint(endpoint: &str) -> String {
    let Ok(mut url) = url::Url::parse(endpoint) else {
        return "<invalid endpoint>".to_string();
    };
    if !url.username().is_empty() {
        let _ = url.set_username("****");
    }
    if url.password().is_some() {
        let _ = url.set_password(Some("****"));
    }
    if url.query().is_some() {
        let masked: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, _)| (k.into_owned(), "****".to_string()))
            .collect();
        url.query_pairs_mut().clear().extend_pairs(masked);
    }
    let shown = url.to_string();
    if endpoint.ends_with('/') || url.path() != "/" {
        shown
    } else {
        shown.trim_end_matches('/').to_string()
    }
}

/// The `error` field of a JSON error body, or the body itself.
fn error_message(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| match v.get("error") {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(other) => Some(other.to_string()),
            None => None,
        })
        .unwrap_or_else(|| body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            retry_after(&headers("7"), now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(retry_after(&headers(" 0 "), now), Some(Duration::ZERO));
        let mut h = headers("7");
        h.insert("retry-after-ms", HeaderValue::from_static("1500"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_millis(1500)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            retry_after(&headers(&later), now),
            Some(Duration::from_secs(30))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(retry_after(&headers(&earlier), now), Some(Duration::ZERO));
        assert_eq!(retry_after(&headers("soon"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn endpoint_credentials_are_masked() {
        assert_eq!(
            mask_endpoint("http://127.0.0.1:5000"),
            "http://127.0.0.1:5000"
        );
        assert_eq!(
            mask_endpoint("http://127.0.0.1:5000/"),
            "http://127.0.0.1:5000/"
        );
        assert_eq!(
            mask_endpoint("https://user:pw@example.org/lt/"),
            "https://****:****@example.org/lt/"
        );
        assert_eq!(
            mask_endpoint("https://example.org/x?api_key=secret"),
            "https://example.org/x?api_key=****"
        );
    }

    #[test]
    fn error_field_is_extracted() {
        assert_eq!(
            error_message(r#"{"error":"Slowdown: 1 per minute"}"#),
            "Slowdown: 1 per minute"
        );
        assert_eq!(
            error_message("<html>bad gateway</html>"),
            "<html>bad gateway</html>"
        );
    }
}
