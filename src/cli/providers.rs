//! `translate providers [--check [NAME]]`: what is configured, and whether it answers.
//!
//! The list shows the default chain, then each provider's kind, endpoint (credentials
//! masked), where its key comes from (never the key), rate and batch limits; the
//! undocumented browser services are marked `unofficial`. `--check` makes one cheap call per
//! provider (its languages or usage endpoint) and reports reachability, whether the
//! key is accepted, and the remaining quota where the API tells it.

use std::io::Write;

use crate::config::{Config, Overrides, ProviderSettings};
use crate::error::Error;
use crate::provider::{KeyNeed, Provider, ProviderError, about, batch_limits, endpoint_shown};
use crate::secret::{self, Keyring};

use super::{Args, ExitStatus};

/// List the providers, or check them.
///
/// # Errors
/// Unreadable config, unknown provider name.
pub async fn run(args: &Args, check: Option<&str>) -> Result<ExitStatus, Error> {
    let config = Config::load(args.config.as_deref())?;
    match check {
        None => {
            let text = list(&config, &Keyring::os());
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            Ok(ExitStatus::Success)
        }
        Some(name) => {
            let names: Vec<String> = if name.is_empty() {
                config.providers.keys().cloned().collect()
            } else {
                config.provider(Some(name), &Overrides::default())?;
                vec![name.to_string()]
            };
            let mut all_ok = true;
            for name in names {
                let (_, settings) = config.provider(Some(&name), &Overrides::default())?;
                let (line, ok) = check_one(&name, &settings).await;
                all_ok &= ok;
                let _ = writeln!(std::io::stdout().lock(), "{line}");
            }
            Ok(if all_ok {
                ExitStatus::Success
            } else {
                ExitStatus::Incomplete
            })
        }
    }
}

/// The provider table as text.
#[must_use]
pub fn list(config: &Config, keyring: &Keyring) -> String {
    let mut out = format!(
        "default chain: {} (tried in order; --provider a,b,c for another)\n\n",
        config.default_provider.join(" → ")
    );
    let mut unofficial = false;
    for (name, s) in &config.providers {
        let mut marks = Vec::new();
        if config.default_provider.contains(name) {
            marks.push("default");
        }
        if about(s).unofficial {
            marks.push("unofficial");
            unofficial = true;
        }
        let marks = if marks.is_empty() {
            String::new()
        } else {
            format!(" ({})", marks.join(", "))
        };
        out.push_str(&format!("{name}{marks}\n"));
        out.push_str(&format!("  kind:      {}\n", s.kind.as_str()));
        out.push_str(&format!("  endpoint:  {}\n", endpoint_shown(s)));
        out.push_str(&format!("  key:       {}\n", key_source(name, s, keyring)));
        out.push_str(&format!("  rate:      {}\n", rate(s)));
        out.push_str(&format!("  batches:   {}\n", batches(s)));
    }
    if unofficial {
        out.push_str(
            "\nunofficial: an undocumented browser service, used without any agreement or \
             guarantee; it may change, block or stop at any time, and a chain then moves on \
             to its next service.\n",
        );
    }
    out
}

fn key_source(name: &str, s: &ProviderSettings, keyring: &Keyring) -> String {
    let env = s.key_env();
    let env_part = env.map(|v| {
        let set = std::env::var(v).is_ok_and(|x| !x.trim().is_empty());
        format!("${v} ({})", if set { "set" } else { "unset" })
    });
    let ring = if keyring.disabled() {
        "OS keyring off".to_string()
    } else {
        match keyring.get(name) {
            Ok(Some(_)) => "OS keyring (has a key)".to_string(),
            Ok(None) => "OS keyring (none)".to_string(),
            Err(_) => "OS keyring (not available)".to_string(),
        }
    };
    let needed = match about(s).key {
        KeyNeed::Optional => "; optional",
        KeyNeed::SelfHosted => "; optional for self-hosted servers",
        KeyNeed::NotUsed => "; not used by this service",
        KeyNeed::Required => "",
    };
    match env_part {
        Some(e) => format!("{e}, then {ring}{needed}"),
        None => format!("{ring}{needed}"),
    }
}

fn rate(s: &ProviderSettings) -> String {
    let cpm = if s.chars_per_minute > 0 {
        format!(", {} characters/min", s.chars_per_minute)
    } else {
        String::new()
    };
    format!(
        "{} requests/s (burst {}){cpm}, {} in flight",
        s.rps, s.burst, s.concurrency
    )
}

fn batches(s: &ProviderSettings) -> String {
    let l = batch_limits(s);
    let per_text = l
        .max_bytes_per_text
        .map_or(String::new(), |b| format!(", {b} bytes per text"));
    format!(
        "{} texts, {} characters per request{per_text}",
        l.max_texts, l.max_chars
    )
}

/// One provider's check line and whether it passed.
pub async fn check_one(name: &str, settings: &ProviderSettings) -> (String, bool) {
    let key = secret::resolve(name, settings.key_env()).map(|(k, _)| k);
    let provider = match Provider::new(name, settings, key) {
        Ok(p) => p,
        Err(e) => return (format!("{name}: cannot check: {e}"), false),
    };
    match provider.health().await {
        Ok(h) => {
            let quota = h.quota.map_or(String::new(), |(used, limit)| {
                let left = limit.saturating_sub(used);
                format!("; quota: {used} of {limit} characters used, {left} left")
            });
            (
                format!("{name}: ok ({}) {}{quota}", provider.endpoint(), h.detail),
                true,
            )
        }
        Err(e) => {
            let hint = match &e {
                ProviderError::AuthFailed(_) => match settings.key_env() {
                    Some(v) => format!("; hint: set ${v} or run `translate auth set {name}`"),
                    None => format!("; hint: run `translate auth set {name}`"),
                },
                ProviderError::Unreachable(_) => {
                    "; hint: is the server running? --endpoint overrides the URL".into()
                }
                ProviderError::Blocked(_) => {
                    "; hint: the service refuses automated use from this machine for now; it usually lifts within hours".into()
                }
                _ => String::new(),
            };
            (
                format!("{name}: FAILED ({}) {e}{hint}", provider.endpoint()),
                false,
            )
        }
    }
}
