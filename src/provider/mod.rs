//! Provider: each translation service's wire format behind one trait.
//!
//! A [`Provider`] turns one batch of texts into **one** HTTP exchange and sorts the
//! answer into `Ok(translations)` or a [`ProviderError`] class. It never sleeps, loops
//! or retries: when and how often to ask again is [`limit`](crate::limit)'s job, and
//! which service of a chain takes which paragraphs is the
//! [`pipeline`](crate::pipeline)'s. Each service's wire contract, limits and error
//! signals, with their public sources, are in `docs/providers.md`.
//!
//! Architecture:
//! - The contract is one private trait, [`Service`]: what a service is ([`About`]:
//!   official or not, whether it needs a key, its free allowance), its request
//!   limits, the options that change its output (for the cache key), its language
//!   codes, its endpoint (DeepL resolves `auto` from the key), **building** one
//!   translate request, **classifying** one answer, its languages and a health check.
//!   Each service is one file implementing it (`mymemory.rs`, `libretranslate.rs`,
//!   `deepl.rs`, `google.rs`, `azure.rs`, `apertium.rs`, `openai.rs`, `edge.rs`,
//!   `google_web.rs`); a new service is one new file and one enum variant.
//! - Building and classifying are separate steps so that this file owns the HTTP
//!   exchange in between: the client, transport-error classification, the body cap,
//!   `Retry-After` parsing, the captcha pages that mean "blocked" whatever the
//!   service, and scrubbing secrets out of every message. The fuzz entry point is
//!   therefore just "classify this status and body" ([`fuzz`]).
//! - [`Provider`] is a struct holding what every service shares (the name, the masked
//!   endpoint, the [`BatchLimits`], one `reqwest::Client`, the key) and a private
//!   `Api` enum with one variant per service. The set of services is closed and
//!   chosen from the config's `kind`, so dispatch is a `match`, with no trait objects
//!   or async-trait. A struct outside the enum keeps the public signatures that other
//!   modules code against independent of which services exist.
//! - Every reply body is read in chunks, after decompression, up to
//!   [`MAX_REPLY_BYTES`]: a gzip bomb or an endless body is cut off, never buffered.
//!   The client's `timeout_secs` covers the whole exchange, body included, so a
//!   server trickling one byte a second ends in a timeout like one that never answers.
//!
//! Secrets: the key goes on the wire only (a header, a JSON body field or a query
//! parameter, as each API documents).
//! reqwest's error `Display` includes the request URL, query string and all, so
//! transport errors are stripped of their URL before they become messages, and every
//! message is scrubbed of the key (as is and percent-encoded) as a second line of
//! defence.

mod apertium;
mod azure;
mod deepl;
mod edge;
mod google;
mod google_web;
mod libretranslate;
mod mymemory;
mod openai;

use std::collections::BTreeSet;
use std::error::Error as _;
use std::future::Future;
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
    /// The service refuses automated use for now: a captcha or "unusual traffic"
    /// page where JSON was expected (whatever the status), a `ShowCaptcha` reply, or
    /// an undocumented service answering 429 without `Retry-After` again and again.
    /// Retrying only prolongs such a block: no retry, the service is left.
    #[error("blocked: {0}")]
    Blocked(String),
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

/// Whether a service needs a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyNeed {
    /// Nothing is sent without one (DeepL, Google Cloud, Azure).
    Required,
    /// Works without; a key adds something (MyMemory, Apertium behind a proxy).
    Optional,
    /// Self-hosted servers need none; hosted ones do (LibreTranslate, OpenAI).
    SelfHosted,
    /// The service takes no key at all (the browser services).
    NotUsed,
}

/// How many characters a service translates for free, as documented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allowance {
    /// Characters per UTC day (MyMemory).
    Daily(u64),
    /// Characters per month on the free tier (DeepL API Free, Azure F0, Google Cloud).
    Monthly(u64),
    /// Self-hosted or local: no quota but the machine's.
    Unmetered,
    /// Not documented (the browser services, OpenAI's billing).
    Unknown,
}

/// What a service is, for `translate providers`, the chain's closing message and the
/// dry-run plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct About {
    /// An undocumented browser service with no guarantee (`edge`, `google-web`).
    pub unofficial: bool,
    /// Whether it needs a key.
    pub key: KeyNeed,
    /// Its free allowance.
    pub allowance: Allowance,
}

/// One translate request as the service sees it: its own language codes.
#[derive(Clone, Copy, Debug)]
struct Sent<'a> {
    /// Source language, the service's code.
    from: &'a str,
    /// Target language, the service's code.
    to: &'a str,
    /// The texts, in order.
    texts: &'a [String],
}

/// The contract of one translation service (see the module doc). Implemented once
/// per file; [`Provider`] dispatches to it through the private `Api` enum.
trait Service: std::fmt::Debug + Send + Sync + Sized {
    /// The service for a config table (cheap: no client, no key).
    fn new(settings: &ProviderSettings) -> Self;

    /// What the service is.
    fn about(&self) -> About;

    /// Request limits: the config's, capped at what the service takes.
    fn limits(&self, settings: &ProviderSettings) -> BatchLimits;

    /// Options that change the output, for the cache key (never a key or e-mail).
    fn cache_options(&self) -> String;

    /// The service's code for one of ours; `target` for the target side (DeepL wants
    /// `EN-US`, not `EN`, as a target).
    fn code(&self, ours: &str, target: bool) -> String;

    /// The base URL requests go to: the config's, unless the service resolves it.
    fn endpoint(&self, settings: &ProviderSettings, _key: Option<&ApiKey>) -> String {
        settings.endpoint.clone()
    }

    /// The endpoint as `translate providers` shows it.
    fn endpoint_shown(&self, settings: &ProviderSettings) -> String {
        mask_endpoint(&settings.endpoint)
    }

    /// One translate request for `sent`, or why it cannot be sent (refused locally:
    /// too big, no key), in which case nothing goes on the wire.
    fn request(
        &self,
        http: &Http,
        sent: &Sent<'_>,
    ) -> Result<reqwest::RequestBuilder, ProviderError>;

    /// One answer to [`Service::request`]: exactly one translation per text sent, or
    /// the error class.
    fn classify(
        &self,
        http: &Http,
        reply: &Reply,
        sent: &Sent<'_>,
    ) -> Result<Vec<String>, ProviderError>;

    /// Whether [`Service::languages`] asks the service (a request) rather than
    /// answering from a table.
    fn asks_languages(&self) -> bool {
        false
    }

    /// The pairs it translates: its languages endpoint, or its table.
    fn languages(
        &self,
        _http: &Http,
    ) -> impl Future<Output = Result<Languages, ProviderError>> + Send {
        async { Ok(Languages::Any) }
    }

    /// One cheap call for `translate providers --check`.
    fn health(&self, http: &Http) -> impl Future<Output = Result<Health, ProviderError>> + Send;

    /// When a quota message of this service says how long until the quota is back.
    fn quota_reset(&self, _message: &str) -> Option<Duration> {
        None
    }

    /// What to tell a user whose run this service's quota stopped, beyond "rerun
    /// later" (MyMemory: set `email`); `name` is the config table.
    fn quota_hint(&self, _name: &str) -> Option<String> {
        None
    }
}

/// Build, send and classify one translate request.
async fn send<S: Service>(
    service: &S,
    http: &Http,
    sent: &Sent<'_>,
) -> Result<Vec<String>, ProviderError> {
    let request = service.request(http, sent)?;
    let reply = http.exchange(request).await?;
    service.classify(http, &reply, sent)
}

/// One variant per service.
#[derive(Debug)]
enum Api {
    LibreTranslate(libretranslate::LibreTranslate),
    MyMemory(mymemory::MyMemory),
    Deepl(deepl::Deepl),
    Google(google::Google),
    Azure(azure::Azure),
    Apertium(apertium::Apertium),
    Openai(openai::Openai),
    Edge(edge::Edge),
    GoogleWeb(google_web::GoogleWeb),
}

/// Call the same [`Service`] method on whichever service this is.
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
            Api::Edge($a) => $call,
            Api::GoogleWeb($a) => $call,
        }
    };
}

impl Api {
    fn of(settings: &ProviderSettings) -> Api {
        match settings.kind {
            ProviderKind::Libretranslate => Api::LibreTranslate(Service::new(settings)),
            ProviderKind::Mymemory => Api::MyMemory(Service::new(settings)),
            ProviderKind::Deepl => Api::Deepl(Service::new(settings)),
            ProviderKind::Google => Api::Google(Service::new(settings)),
            ProviderKind::Azure => Api::Azure(Service::new(settings)),
            ProviderKind::Apertium => Api::Apertium(Service::new(settings)),
            ProviderKind::Openai => Api::Openai(Service::new(settings)),
            ProviderKind::Edge => Api::Edge(Service::new(settings)),
            ProviderKind::GoogleWeb => Api::GoogleWeb(Service::new(settings)),
        }
    }
}

/// A provider's request limits from its settings alone (no client is built), e.g.
/// MyMemory's one text of at most 500 bytes. Same as [`Provider::limits`].
#[must_use]
pub fn batch_limits(settings: &ProviderSettings) -> BatchLimits {
    dispatch!(&Api::of(settings), a => a.limits(settings))
}

/// What the service of these settings is. Same as [`Provider::about`].
#[must_use]
pub fn about(settings: &ProviderSettings) -> About {
    dispatch!(&Api::of(settings), a => a.about())
}

/// The endpoint as `translate providers` shows it: credentials masked, DeepL's `auto`
/// explained.
#[must_use]
pub fn endpoint_shown(settings: &ProviderSettings) -> String {
    dispatch!(&Api::of(settings), a => a.endpoint_shown(settings))
}

/// What to tell a user whose run the quota of provider `name` stopped, beyond "rerun
/// later" (MyMemory without `email`: that an e-mail raises the day from 5,000 to
/// 50,000 characters).
#[must_use]
pub fn quota_hint(name: &str, settings: &ProviderSettings) -> Option<String> {
    dispatch!(&Api::of(settings), a => a.quota_hint(name))
}

/// Options that change the translation, for the cache key, from the settings alone (an
/// offline run builds no provider): the API's fixed options (`format=text`, `mt=1`)
/// and the language-code map when one is set. Never the key or the e-mail. Same as
/// [`Provider::cache_options`].
#[must_use]
pub fn cache_options(settings: &ProviderSettings) -> String {
    let mut options = dispatch!(&Api::of(settings), a => a.cache_options());
    if !settings.languages.is_empty() {
        let map: Vec<String> = (settings.languages.iter())
            .map(|(ours, theirs)| format!("{ours}:{theirs}"))
            .collect();
        options.push_str(";languages=");
        options.push_str(&map.join(","));
    }
    options
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
        let api = Api::of(settings);
        let mut resolved = settings.clone();
        resolved.endpoint = dispatch!(&api, a => a.endpoint(settings, key.as_ref()));
        let http = Http::new(name, &resolved, key)?;
        let limits = dispatch!(&api, a => a.limits(&resolved));
        Ok(Provider {
            name: name.to_string(),
            kind: resolved.kind,
            endpoint: mask_endpoint(&resolved.endpoint),
            limits,
            settings: resolved,
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

    /// What the service is.
    #[must_use]
    pub fn about(&self) -> About {
        dispatch!(&self.api, a => a.about())
    }

    /// Options that change the translation, for the cache key: the API's fixed
    /// options (`format=text`, `mt=1`) and the language-code map when one is set.
    /// Never the key or the e-mail.
    #[must_use]
    pub fn cache_options(&self) -> String {
        cache_options(&self.settings)
    }

    /// How long until the quota is back, when the service's quota message says.
    #[must_use]
    pub fn quota_reset(&self, message: &str) -> Option<Duration> {
        dispatch!(&self.api, a => a.quota_reset(message))
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
        let sent = Sent {
            from: &from,
            to: &to,
            texts,
        };
        let http = &self.http;
        dispatch!(&self.api, a => send(a, http, &sent).await)
    }

    /// The provider's code for one of our language codes: the config's `languages`
    /// map first, then the API's own table.
    #[must_use]
    pub fn code(&self, ours: &str, target: bool) -> String {
        match self.settings.languages.get(ours) {
            Some(theirs) => theirs.clone(),
            None => dispatch!(&self.api, a => a.code(ours, target)),
        }
    }

    /// Whether [`Provider::check_pair`] makes a request (the first time): the service
    /// has a languages endpoint to ask.
    #[must_use]
    pub fn checks_pairs_online(&self) -> bool {
        self.languages.get().is_none() && dispatch!(&self.api, a => a.asks_languages())
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
                crate::error::Error::other(
                    format!("cannot build the HTTP client for provider `{name}`"),
                    e.without_url(),
                )
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
        let reply = Reply {
            status,
            retry_after,
            body,
        };
        match blocked(self, &reply) {
            Some(e) => Err(e),
            None => Ok(reply),
        }
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

    /// A server-supplied or error text made safe for a message: no key (neither as
    /// is nor percent-encoded as a query string carries it), one line, bounded
    /// length.
    fn scrub(&self, text: &str) -> String {
        let mut s: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if let Some(k) = &self.key {
            s = s.replace(k.expose(), "****");
            let encoded: String =
                url::form_urlencoded::byte_serialize(k.expose().as_bytes()).collect();
            if !encoded.is_empty() {
                s = s.replace(&encoded, "****");
            }
        }
        if s.chars().count() > MAX_MESSAGE_CHARS {
            s = s.chars().take(MAX_MESSAGE_CHARS).collect::<String>() + "…";
        }
        s
    }

    /// The first characters of a body that is not what was expected, for a
    /// `Malformed` message. Scrubbed before cutting: a key cut in half would no
    /// longer be recognised.
    fn excerpt(&self, body: &str) -> String {
        self.scrub(body).chars().take(80).collect()
    }
}

/// Entry points for the fuzz targets in `fuzz/`, not an API: each service's answer
/// classified exactly as [`Provider::translate`] classifies it (`fuzz::deepl(status,
/// body, texts sent)`), with a client whose key is [`KEY`](fuzz::KEY), texts sent from `ar` to
/// the service's code for `en`.
#[doc(hidden)]
pub mod fuzz {
    use super::{Api, ProviderError, Reply, Sent};

    /// The key the fuzzing clients hold: no message may ever contain it.
    pub const KEY: &str = "fuzz-key-0123456789abcdef";

    /// Classify `status` and `body` as the answer of the built-in service `name` to
    /// a request carrying `texts`.
    ///
    /// # Panics
    /// `name` is not a table of the built-in config.
    pub fn reply(
        name: &'static str,
        status: u16,
        body: &str,
        texts: &[String],
    ) -> Result<Vec<String>, ProviderError> {
        let (http, api) = client(name);
        let reply = Reply {
            status,
            retry_after: None,
            body: body.to_owned(),
        };
        if let Some(e) = super::blocked(http, &reply) {
            return Err(e);
        }
        let to = dispatch!(api, a => super::Service::code(a, "en", true));
        let from = dispatch!(api, a => super::Service::code(a, "ar", false));
        let sent = Sent {
            from: &from,
            to: &to,
            texts,
        };
        dispatch!(api, a => super::Service::classify(a, http, &reply, &sent))
    }

    /// The fuzzing client of service `name` (its built-in settings with a local
    /// endpoint and [`KEY`], built once and kept for the process).
    fn client(name: &'static str) -> (&'static super::Http, &'static Api) {
        type Clients =
            std::collections::BTreeMap<&'static str, (&'static super::Http, &'static Api)>;
        static CLIENTS: std::sync::Mutex<Clients> = std::sync::Mutex::new(Clients::new());
        *CLIENTS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(name)
            .or_insert_with(|| {
                let mut settings = crate::config::Config::builtin().providers[name].clone();
                settings.endpoint = "http://127.0.0.1:9".to_owned();
                let key = Some(crate::secret::ApiKey::new(KEY));
                let http = super::Http::new(name, &settings, key)
                    .expect("the built-in settings are valid");
                (
                    Box::leak(Box::new(http)),
                    Box::leak(Box::new(Api::of(&settings))),
                )
            })
    }

    /// One named entry point per service, for the fuzz targets.
    macro_rules! entry {
        ($($f:ident => $name:literal),* $(,)?) => {$(
            #[doc = concat!("`", $name, "`'s answer classified (see [`reply`]).")]
            pub fn $f(status: u16, body: &str, texts: &[String]) -> Result<Vec<String>, ProviderError> {
                reply($name, status, body, texts)
            }
        )*};
    }

    entry! {
        apertium => "apertium",
        azure => "azure",
        deepl => "deepl",
        edge => "edge",
        google => "google",
        google_web => "google-web",
        libretranslate => "libretranslate",
        mymemory => "mymemory",
        openai => "openai",
    }
}

/// One HTTP answer, fully read.
#[derive(Debug)]
struct Reply {
    status: u16,
    retry_after: Option<Duration>,
    body: String,
}

/// Words of the pages a service serves instead of an answer when it has decided that
/// the traffic is automated: Google's "Sorry…" page ("Our systems have detected
/// unusual traffic from your computer network", a `captcha-form`), Bing's and
/// others' captcha pages. Compared case-insensitively.
const BLOCK_PAGE_MARKERS: &[&str] = &[
    "unusual traffic",
    "automated queries",
    "captcha",
    "<title>sorry",
    "/sorry/index",
];

/// The [`ProviderError::Blocked`] an answer means, whatever its status and whichever
/// service sent it: a captcha or "unusual traffic" HTML page where JSON was
/// expected, or a JSON `ShowCaptcha: true` (Bing's and Edge's throttling answer).
fn blocked(http: &Http, reply: &Reply) -> Option<ProviderError> {
    let body = reply.body.trim_start();
    let head: String = body.chars().take(4096).collect::<String>().to_lowercase();
    let html = head.starts_with('<') || head.contains("<html");
    if html && BLOCK_PAGE_MARKERS.iter().any(|m| head.contains(m)) {
        let title = head
            .split_once("<title>")
            .and_then(|(_, t)| t.split_once("</title>"))
            .map_or("a captcha page", |(t, _)| t.trim());
        return Some(ProviderError::Blocked(http.scrub(&format!(
            "HTTP {} with a page saying the traffic looks automated (\"{title}\") instead of a translation",
            reply.status
        ))));
    }
    let captcha = (body.starts_with('{'))
        .then(|| serde_json::from_str::<serde_json::Value>(body).ok())
        .flatten()
        .and_then(|v| {
            v.as_object()?
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("showcaptcha"))
                .map(|(_, v)| v.as_bool() == Some(true))
        })
        .unwrap_or(false);
    captcha.then(|| {
        ProviderError::Blocked(format!(
            "HTTP {} asking for a captcha (ShowCaptcha) instead of a translation",
            reply.status
        ))
    })
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

    /// Captcha pages and `ShowCaptcha` are blocks whatever the status; other HTML
    /// (a proxy's error page) and JSON are left to the service's classifier.
    #[test]
    fn block_pages_are_recognised_whatever_the_status() {
        let settings = crate::config::Config::builtin().providers["libretranslate"].clone();
        let http = Http::new("t", &settings, None).unwrap();
        let sorry = "<html><head><title>Sorry...</title></head><body><div>Our systems have detected unusual traffic from your computer network.</div><form id=\"captcha-form\"></form></body></html>";
        let cases = [
            (429, sorry, true),
            (200, sorry, true),
            (503, sorry, true),
            (
                200,
                "<!DOCTYPE html><html><body>Please solve this CAPTCHA</body></html>",
                true,
            ),
            (200, r#"{"StatusCode":429,"ShowCaptcha":true}"#, true),
            (429, r#"{"statusCode":429,"showCaptcha":true}"#, true),
            (200, r#"{"ShowCaptcha":false}"#, false),
            (502, "<html><body>Bad Gateway</body></html>", false),
            (200, r#"["unusual traffic"]"#, false),
            (200, r#"[{"translations":[{"text":"captcha"}]}]"#, false),
        ];
        for (status, body, expected) in cases {
            let reply = Reply {
                status,
                retry_after: None,
                body: body.to_owned(),
            };
            let got = blocked(&http, &reply);
            assert_eq!(got.is_some(), expected, "{status} {body}: {got:?}");
        }
        let reply = Reply {
            status: 429,
            retry_after: None,
            body: sorry.to_owned(),
        };
        assert_eq!(
            blocked(&http, &reply).unwrap().to_string(),
            "blocked: HTTP 429 with a page saying the traffic looks automated (\"sorry...\") instead of a translation"
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

    /// The facts `translate providers`, the chain and the dry-run plan read, per
    /// built-in service. Edit on purpose.
    #[test]
    fn about_every_service() {
        let config = crate::config::Config::builtin();
        let mut table = String::new();
        for (name, settings) in &config.providers {
            let a = about(settings);
            table.push_str(&format!(
                "{name}: unofficial={} key={:?} allowance={:?}\n",
                a.unofficial, a.key, a.allowance
            ));
        }
        let expected = "\
apertium: unofficial=false key=Optional allowance=Unmetered
azure: unofficial=false key=Required allowance=Monthly(2000000)
deepl: unofficial=false key=Required allowance=Monthly(500000)
edge: unofficial=true key=NotUsed allowance=Unknown
google: unofficial=false key=Required allowance=Monthly(500000)
google-web: unofficial=true key=NotUsed allowance=Unknown
libretranslate: unofficial=false key=SelfHosted allowance=Unmetered
mymemory: unofficial=false key=Optional allowance=Daily(5000)
openai: unofficial=false key=SelfHosted allowance=Unknown
";
        assert_eq!(table, expected);
    }
}
