//! The config file: its types, strict parsing, and the merge with command-line flags.
//!
//! `config/translate.toml` defines `default_provider` (one name, or a list: a chain of
//! providers tried in order) and one `[providers.<name>]` table per provider. The
//! built-in defaults *are* that file (embedded at compile time), so `--help`, the
//! shipped file and a run without any file always agree. Parsing is strict: an
//! unknown key or a bad value is an error naming the file, line and column.
//! Precedence is command line > config file > built-in defaults; the flags that
//! override a provider's settings are applied by [`Config::provider`] and
//! [`Config::chain`].
//! Keys never live here: a table only names the environment variable (`key_env`)
//! that holds one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// Where `translate` looks for its config when `--config` is not given.
pub(crate) const DEFAULT_CONFIG_PATH: &str = "config/translate.toml";

/// The shipped config file, used as built-in defaults.
pub(crate) const BUILTIN_CONFIG: &str = include_str!("../config/translate.toml");

/// DeepL `endpoint = "auto"`: the Free host for keys ending in `:fx`, else Pro.
pub(crate) const DEEPL_AUTO_ENDPOINT: &str = "auto";

/// Slowest request rate accepted (one request every 1,000 s).
pub(crate) const MIN_RPS: f64 = 0.001;
/// Fastest request rate accepted.
pub(crate) const MAX_RPS: f64 = 10_000.0;

/// The most requests in flight for a provider table without `concurrency`.
pub const DEFAULT_CONCURRENCY: usize = 16;

fn default_concurrency() -> usize {
    DEFAULT_CONCURRENCY
}

/// Which API a provider table talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// MyMemory `GET /get`.
    Mymemory,
    /// LibreTranslate `POST /translate`.
    Libretranslate,
    /// DeepL API v2 `POST /v2/translate`.
    Deepl,
    /// Google Cloud Translation Basic v2.
    Google,
    /// Azure AI Translator v3 `POST /translate?api-version=3.0`.
    Azure,
    /// Apertium APY `/translate`.
    Apertium,
    /// OpenAI-compatible `/v1/chat/completions` (OpenAI, Ollama, llama.cpp, vLLM).
    Openai,
    /// Microsoft Edge's keyless page translator (`/translate/translatetext`);
    /// undocumented.
    Edge,
    /// Google's keyless browser-extension endpoint (`/translate_a/t`); undocumented.
    #[serde(rename = "google-web")]
    GoogleWeb,
}

impl ProviderKind {
    /// The name used in the config file.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Mymemory => "mymemory",
            ProviderKind::Libretranslate => "libretranslate",
            ProviderKind::Deepl => "deepl",
            ProviderKind::Google => "google",
            ProviderKind::Azure => "azure",
            ProviderKind::Apertium => "apertium",
            ProviderKind::Openai => "openai",
            ProviderKind::Edge => "edge",
            ProviderKind::GoogleWeb => "google-web",
        }
    }
}

/// One `[providers.<name>]` table.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSettings {
    /// Which API.
    pub kind: ProviderKind,
    /// Base URL.
    pub endpoint: String,
    /// Environment variable holding the key; empty or absent: keyring only.
    #[serde(default)]
    pub key_env: Option<String>,
    /// MyMemory contact e-mail (`de=`); empty: none.
    #[serde(default)]
    pub email: Option<String>,
    /// Requests per second.
    pub rps: f64,
    /// Burst size of the request limiter.
    pub burst: u32,
    /// Characters per minute, 0 = unlimited.
    #[serde(default)]
    pub chars_per_minute: u32,
    /// The most requests in flight at once (the limiter keeps rate × latency in
    /// flight, up to this); [`DEFAULT_CONCURRENCY`] when absent.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Texts per request.
    pub max_texts: usize,
    /// Characters (code points) per request.
    pub max_chars: usize,
    /// UTF-8 bytes per text, 0 = unlimited.
    #[serde(default)]
    pub max_bytes_per_text: usize,
    /// Whole-request timeout in seconds.
    pub timeout_secs: f64,
    /// Connection timeout in seconds.
    pub connect_timeout_secs: f64,
    /// Retries of retryable failures.
    pub max_retries: u32,
    /// First backoff delay in milliseconds.
    pub retry_base_ms: u64,
    /// Longest backoff or Retry-After wait in milliseconds.
    pub retry_max_ms: u64,
    /// Our language code → the provider's.
    #[serde(default)]
    pub languages: BTreeMap<String, String>,
    /// (openai) model name; part of the cache key.
    #[serde(default)]
    pub model: Option<String>,
    /// (azure) resource region sent as `Ocp-Apim-Subscription-Region`.
    #[serde(default)]
    pub region: Option<String>,
    /// (openai) glossary: source term → required translation; part of the cache key.
    #[serde(default)]
    pub glossary: BTreeMap<String, String>,
}

impl ProviderSettings {
    /// The environment variable to read the key from, if one is named.
    #[must_use]
    pub fn key_env(&self) -> Option<&str> {
        self.key_env.as_deref().filter(|s| !s.is_empty())
    }

    /// The provider's code for one of our language codes.
    #[must_use]
    pub fn map_lang<'a>(&'a self, lang: &'a str) -> &'a str {
        self.languages.get(lang).map_or(lang, String::as_str)
    }

    /// Check the values serde cannot; `Err((key, message))` names the offending key.
    fn check(&self) -> std::result::Result<(), (&'static str, String)> {
        if !(self.rps.is_finite() && (MIN_RPS..=MAX_RPS).contains(&self.rps)) {
            return Err((
                "rps",
                format!("rps must be between {MIN_RPS} and {MAX_RPS}"),
            ));
        }
        let at_least_one = [
            ("burst", self.burst as usize),
            ("concurrency", self.concurrency),
            ("max_texts", self.max_texts),
            ("max_chars", self.max_chars),
        ];
        if let Some((key, _)) = at_least_one.iter().find(|(_, v)| *v == 0) {
            return Err((key, format!("{key} must be at least 1")));
        }
        for (key, v) in [
            ("timeout_secs", self.timeout_secs),
            ("connect_timeout_secs", self.connect_timeout_secs),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err((key, format!("{key} must be a number of seconds above 0")));
            }
        }
        if self.kind == ProviderKind::Deepl && self.endpoint == DEEPL_AUTO_ENDPOINT {
            return Ok(());
        }
        match url::Url::parse(&self.endpoint) {
            Err(e) => Err((
                "endpoint",
                format!("endpoint `{}` is not a URL: {e}", self.endpoint),
            )),
            Ok(u) if !matches!(u.scheme(), "http" | "https") => Err((
                "endpoint",
                format!("endpoint `{}` must be an http or https URL", self.endpoint),
            )),
            Ok(_) => Ok(()),
        }
    }

    fn validate(&self, name: &str) -> Result<()> {
        self.check()
            .map_err(|(_, message)| Error::Usage(format!("[providers.{name}] {message}")))
    }
}

/// `line L, column C` of `key = …` inside `[providers.<table>]`, if the text has it.
fn key_position(text: &str, table: &str, key: &str) -> Option<(usize, usize)> {
    let header = format!("[providers.{table}]");
    let mut inside = false;
    for (n, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if t.starts_with('[') {
            inside = t.trim_end() == header;
            continue;
        }
        let is_key = t
            .strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with('='));
        if inside && is_key {
            return Some((n + 1, line.len() - t.len() + 1));
        }
    }
    None
}

/// The whole config file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The chain of providers used when `--provider` is not given, in order (a
    /// single name in the file is a chain of one).
    #[serde(deserialize_with = "one_or_many")]
    pub default_provider: Vec<String>,
    /// Provider tables by name.
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderSettings>,
    /// The `[cache]` table.
    #[serde(default)]
    pub cache: CacheSettings,
    /// Where it was read from (`None`: built-in).
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// The `[cache]` table: a shared translation memory. `TARJAMA_CACHE` and `--cache`
/// win over it (see `cli::cache::shared_url`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    /// `postgres://user@host/database`; absent: the local cache alone.
    #[serde(default)]
    pub url: Option<String>,
}

/// Flags that override a provider's settings.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--endpoint`
    pub endpoint: Option<String>,
    /// `--rps`
    pub rps: Option<f64>,
    /// `--concurrency`
    pub concurrency: Option<usize>,
}

impl Config {
    /// The built-in defaults (the shipped `config/translate.toml`).
    ///
    /// # Panics
    /// Never in a released binary: a test parses the embedded file.
    #[must_use]
    pub fn builtin() -> Config {
        Config::parse(BUILTIN_CONFIG, Path::new("<built-in config>"))
            .expect("the built-in config parses")
    }

    /// Load `--config FILE`, or `config/translate.toml` when it exists, or the built-in
    /// defaults.
    ///
    /// # Errors
    /// The file cannot be read, or does not parse, or has a bad value.
    pub fn load(explicit: Option<&Path>) -> Result<Config> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None if Path::new(DEFAULT_CONFIG_PATH).is_file() => PathBuf::from(DEFAULT_CONFIG_PATH),
            None => return Ok(Config::builtin()),
        };
        let text = fs_err::read_to_string(&path).map_err(|e| Error::Config {
            path: path.clone(),
            what: "cannot read config".into(),
            source: Some(Box::new(std::io::Error::from(e.kind()))),
        })?;
        Config::parse(&text, &path)
    }

    /// Parse and validate config text; `path` is used in messages only.
    ///
    /// # Errors
    /// A syntax error, an unknown key, a missing key or a bad value, with line and
    /// column where the parser knows them.
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let mut config: Config = toml::from_str(text).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            what: locate(text, &e),
            source: None,
        })?;
        config.source = Some(path.to_path_buf());
        for (name, p) in &config.providers {
            p.check().map_err(|(key, message)| Error::Config {
                path: path.to_path_buf(),
                source: None,
                what: match key_position(text, name, key) {
                    Some((line, col)) => {
                        format!("line {line}, column {col}: [providers.{name}] {message}")
                    }
                    None => format!("[providers.{name}] {message}"),
                },
            })?;
        }
        let bad = |what: String| Error::Config {
            path: path.to_path_buf(),
            what,
            source: None,
        };
        if config.default_provider.is_empty() {
            return Err(bad("default_provider names no provider".into()));
        }
        for (i, name) in config.default_provider.iter().enumerate() {
            if !config.providers.contains_key(name) {
                return Err(bad(format!(
                    "default_provider `{name}` has no [providers.{name}] table"
                )));
            }
            if config.default_provider[..i].contains(name) {
                return Err(bad(format!("default_provider names `{name}` twice")));
            }
        }
        Ok(config)
    }

    /// The chain a run uses: `spec` (`--provider a,b,c`, or one name) or
    /// `default_provider`, each with the command-line overrides applied. `--rps`
    /// and `--concurrency` apply to every service of the chain. `--endpoint` points
    /// one server: with the default chain it applies to its first service, which
    /// then runs alone; with an explicit chain of several it is refused, since it
    /// could only be meant for one of them.
    ///
    /// # Errors
    /// An unknown or repeated provider, an empty name, `--endpoint` with an explicit
    /// chain of several, or an override with a bad value.
    pub fn chain(
        &self,
        spec: Option<&str>,
        overrides: &Overrides,
    ) -> Result<Vec<(String, ProviderSettings)>> {
        let mut names: Vec<String> = match spec {
            Some(spec) => spec.split(',').map(|n| n.trim().to_string()).collect(),
            None => self.default_provider.clone(),
        };
        if names.iter().any(String::is_empty) {
            return Err(Error::Usage(format!(
                "--provider `{}` has an empty name",
                spec.unwrap_or_default()
            ))
            .with_hint("write a name or a chain such as `mymemory,edge`"));
        }
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) {
                return Err(Error::Usage(format!("--provider names `{name}` twice")));
            }
        }
        if overrides.endpoint.is_some() && names.len() > 1 {
            if spec.is_some() {
                return Err(Error::Usage(format!(
                    "--endpoint points one server, but --provider names a chain of {} ({})",
                    names.len(),
                    names.join(", ")
                ))
                .with_hint("set each one's endpoint in its [providers.NAME] table instead"));
            }
            names.truncate(1);
        }
        names
            .iter()
            .map(|name| self.provider(Some(name), overrides))
            .collect()
    }

    /// The named provider's settings (default: `default_provider`) with the
    /// command-line overrides applied.
    ///
    /// # Errors
    /// No such provider, or an override with a bad value.
    pub fn provider(
        &self,
        name: Option<&str>,
        overrides: &Overrides,
    ) -> Result<(String, ProviderSettings)> {
        let name = name.unwrap_or(&self.default_provider[0]);
        let Some(settings) = self.providers.get(name) else {
            let known: Vec<&str> = self.providers.keys().map(String::as_str).collect();
            return Err(
                Error::Usage(format!("unknown provider `{name}`")).with_hint(format!(
                    "the config defines: {} (`translate providers` lists them)",
                    known.join(", ")
                )),
            );
        };
        let mut s = settings.clone();
        if let Some(e) = &overrides.endpoint {
            s.endpoint.clone_from(e);
        }
        if let Some(r) = overrides.rps {
            s.rps = r;
        }
        if let Some(c) = overrides.concurrency {
            s.concurrency = c;
        }
        s.validate(name)?;
        Ok((name.to_string(), s))
    }
}

/// `default_provider`: one name, or a list of names.
fn one_or_many<'de, D>(deserializer: D) -> std::result::Result<Vec<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(name) => vec![name],
        OneOrMany::Many(names) => names,
    })
}

/// Turn a toml error into one line: `line L, column C: message`.
fn locate(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {col}: {msg}")
        }
        None => msg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_config_parses_and_defaults_to_mymemory() {
        let c = Config::builtin();
        assert_eq!(c.default_provider[0], "mymemory");
        assert_eq!(c.default_provider, ["mymemory", "edge", "google-web"]);
        assert_eq!(c.providers["mymemory"].kind, ProviderKind::Mymemory);
        assert_eq!(
            c.providers["libretranslate"].kind,
            ProviderKind::Libretranslate
        );
        assert_eq!(c.providers["mymemory"].max_bytes_per_text, 500);
    }

    #[test]
    fn unknown_key_is_rejected_with_line_and_column() {
        let text = "default_provider = \"x\"\n[providers.x]\nkind = \"mymemory\"\nbogus = 1\n";
        let err = Config::parse(text, Path::new("t.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("t.toml: line 4, column 1:"), "{err}");
        assert!(err.contains("bogus"), "{err}");
    }

    #[test]
    fn bad_value_is_rejected() {
        let text = BUILTIN_CONFIG.replace("rps = 2.0", "rps = 0.0");
        let err = Config::parse(&text, Path::new("t.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("[providers.mymemory] rps"), "{err}");
        let text = BUILTIN_CONFIG.replace("rps = 2.0", "rps = 1e-20");
        assert!(Config::parse(&text, Path::new("t.toml")).is_err());
        let text = BUILTIN_CONFIG.replace("https://api.mymemory", "ftp://api.mymemory");
        let err = Config::parse(&text, Path::new("t.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("http or https"), "{err}");
        let text = BUILTIN_CONFIG.replace("rps = 2.0", "rps = \"fast\"");
        let err = Config::parse(&text, Path::new("t.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("line "), "{err}");
    }

    #[test]
    fn cache_table_is_optional_and_strict() {
        assert_eq!(Config::builtin().cache.url, None);
        let text = format!("{BUILTIN_CONFIG}\n[cache]\nurl = \"postgres://desk@db/tm\"\n");
        let c = Config::parse(&text, Path::new("t.toml")).unwrap();
        assert_eq!(c.cache.url.as_deref(), Some("postgres://desk@db/tm"));
        let text = format!("{BUILTIN_CONFIG}\n[cache]\nuri = \"x\"\n");
        let err = Config::parse(&text, Path::new("t.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("uri") && err.contains("line "), "{err}");
    }

    #[test]
    fn default_provider_is_a_name_or_a_chain() {
        let one = BUILTIN_CONFIG.replace(
            "default_provider = [\"mymemory\", \"edge\", \"google-web\"]",
            "default_provider = \"deepl\"",
        );
        assert_eq!(
            Config::parse(&one, Path::new("t.toml"))
                .unwrap()
                .default_provider,
            ["deepl"]
        );
        for (bad, why) in [
            ("default_provider = []", "names no provider"),
            (
                "default_provider = [\"mymemory\", \"nope\"]",
                "`nope` has no [providers.nope]",
            ),
            (
                "default_provider = [\"edge\", \"edge\"]",
                "names `edge` twice",
            ),
        ] {
            let text = BUILTIN_CONFIG.replace(
                "default_provider = [\"mymemory\", \"edge\", \"google-web\"]",
                bad,
            );
            let err = Config::parse(&text, Path::new("t.toml"))
                .unwrap_err()
                .to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn chains_from_the_flag_or_the_default() {
        let c = Config::builtin();
        let none = Overrides::default();
        let names = |chain: Vec<(String, ProviderSettings)>| -> Vec<String> {
            chain.into_iter().map(|(n, _)| n).collect()
        };
        assert_eq!(
            names(c.chain(None, &none).unwrap()),
            ["mymemory", "edge", "google-web"]
        );
        assert_eq!(
            names(c.chain(Some("edge, google-web"), &none).unwrap()),
            ["edge", "google-web"]
        );
        assert_eq!(names(c.chain(Some("deepl"), &none).unwrap()), ["deepl"]);
        for (spec, why) in [
            ("edge,,deepl", "empty name"),
            ("edge,edge", "twice"),
            ("edge,nope", "unknown provider `nope`"),
        ] {
            let err = c.chain(Some(spec), &none).unwrap_err().to_string();
            assert!(err.contains(why), "{spec}: {err}");
        }
        let o = Overrides {
            endpoint: Some("http://127.0.0.1:9".into()),
            rps: Some(7.0),
            concurrency: None,
        };
        // The default chain narrows to its first service; an explicit chain refuses.
        let chain = c.chain(None, &o).unwrap();
        assert_eq!(chain.len(), 1);
        assert_eq!(
            (
                chain[0].0.as_str(),
                chain[0].1.endpoint.as_str(),
                chain[0].1.rps
            ),
            ("mymemory", "http://127.0.0.1:9", 7.0)
        );
        let err = c
            .chain(Some("edge,google-web"), &o)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--endpoint points one server"), "{err}");
        let no_endpoint = Overrides {
            endpoint: None,
            ..o
        };
        assert!(
            c.chain(None, &no_endpoint)
                .unwrap()
                .iter()
                .all(|(_, s)| s.rps == 7.0)
        );
    }

    #[test]
    fn overrides_apply_over_the_file() {
        let c = Config::builtin();
        let o = Overrides {
            endpoint: Some("http://127.0.0.1:9".into()),
            rps: Some(7.0),
            concurrency: Some(3),
        };
        let (name, p) = c.provider(Some("libretranslate"), &o).unwrap();
        assert_eq!(name, "libretranslate");
        assert_eq!(
            (p.endpoint.as_str(), p.rps, p.concurrency),
            ("http://127.0.0.1:9", 7.0, 3)
        );
        assert!(c.provider(Some("nope"), &o).is_err());
    }
}
