//! The config file: its types, strict parsing, and the merge with command-line flags.
//!
//! `config/translate.toml` defines `default_provider` and one `[providers.<name>]`
//! table per provider. The built-in defaults *are* that file (embedded at compile
//! time), so `--help`, the shipped file and a run without any file always agree.
//! Parsing is strict: an unknown key or a bad value is an error naming the file,
//! line and column. Precedence is command line > config file > built-in defaults;
//! the flags that override a provider's settings are applied by [`Config::provider`].
//! Keys never live here: a table only names the environment variable (`key_env`)
//! that holds one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// Where `translate` looks for its config when `--config` is not given.
pub const DEFAULT_CONFIG_PATH: &str = "config/translate.toml";

/// The shipped config file, used as built-in defaults.
pub const BUILTIN_CONFIG: &str = include_str!("../config/translate.toml");

/// DeepL `endpoint = "auto"`: the Free host for keys ending in `:fx`, else Pro.
pub const DEEPL_AUTO_ENDPOINT: &str = "auto";

/// Slowest request rate accepted (one request every 1,000 s).
pub const MIN_RPS: f64 = 0.001;
/// Fastest request rate accepted.
pub const MAX_RPS: f64 = 10_000.0;

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

    fn validate(&self, name: &str) -> std::result::Result<(), String> {
        self.check()
            .map_err(|(_, message)| format!("[providers.{name}] {message}"))
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
    /// Provider used when `--provider` is not given.
    pub default_provider: String,
    /// Provider tables by name.
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderSettings>,
    /// Where it was read from (`None`: built-in).
    #[serde(skip)]
    pub source: Option<PathBuf>,
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
            message: format!("cannot read config: {}", e.kind()),
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
            message: locate(text, &e),
        })?;
        config.source = Some(path.to_path_buf());
        for (name, p) in &config.providers {
            p.check().map_err(|(key, message)| Error::Config {
                path: path.to_path_buf(),
                message: match key_position(text, name, key) {
                    Some((line, col)) => {
                        format!("line {line}, column {col}: [providers.{name}] {message}")
                    }
                    None => format!("[providers.{name}] {message}"),
                },
            })?;
        }
        if !config.providers.contains_key(&config.default_provider) {
            return Err(Error::Config {
                path: path.to_path_buf(),
                message: format!(
                    "default_provider `{}` has no [providers.{}] table",
                    config.default_provider, config.default_provider
                ),
            });
        }
        Ok(config)
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
        let name = name.unwrap_or(&self.default_provider);
        let Some(settings) = self.providers.get(name) else {
            let known: Vec<&str> = self.providers.keys().map(String::as_str).collect();
            return Err(Error::Usage(format!(
                "unknown provider `{name}`; the config defines: {}",
                known.join(", ")
            )));
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
        s.validate(name).map_err(Error::Usage)?;
        Ok((name.to_string(), s))
    }
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
        assert_eq!(c.default_provider, "mymemory");
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
