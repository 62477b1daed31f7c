//! Deepl: stub, to be written (issue 3).

use super::{BatchLimits, Health, Http, Languages, ProviderError};
use crate::config::ProviderSettings;

/// The Deepl wire format.
#[derive(Debug)]
pub(super) struct Deepl;

impl Deepl {
    pub(super) fn new(settings: &ProviderSettings) -> Deepl {
        let _ = settings;
        Deepl
    }

    pub(super) fn limits(&self, settings: &ProviderSettings) -> BatchLimits {
        BatchLimits {
            max_texts: settings.max_texts,
            max_chars: settings.max_chars,
            max_bytes_per_text: (settings.max_bytes_per_text > 0)
                .then_some(settings.max_bytes_per_text),
        }
    }

    pub(super) fn cache_options(&self) -> String {
        String::new()
    }

    pub(super) fn code(&self, ours: &str, _target: bool) -> String {
        ours.to_string()
    }

    pub(super) async fn translate(
        &self,
        http: &Http,
        from: &str,
        to: &str,
        texts: &[String],
    ) -> Result<Vec<String>, ProviderError> {
        let _ = (http, from, to, texts);
        Err(ProviderError::BadRequest(
            "deepl is not implemented yet".into(),
        ))
    }

    pub(super) async fn languages(&self, http: &Http) -> Result<Languages, ProviderError> {
        let _ = http;
        Ok(Languages::Any)
    }

    pub(super) async fn health(&self, http: &Http) -> Result<Health, ProviderError> {
        let _ = http;
        Ok(Health::default())
    }
}

/// DeepL's Pro host.
pub(super) const PRO_HOST: &str = "https://api.deepl.com";
/// DeepL's Free host (keys ending in `:fx`).
pub(super) const FREE_HOST: &str = "https://api-free.deepl.com";

/// Settings with `endpoint = "auto"` resolved from the key: Free host for keys ending
/// in `:fx`, Pro host otherwise (and with no key, where the call fails with an auth
/// error anyway). Other kinds and explicit endpoints pass through.
pub(super) fn resolve_endpoint(
    settings: &ProviderSettings,
    key: Option<&crate::secret::ApiKey>,
) -> ProviderSettings {
    let mut s = settings.clone();
    if s.kind == crate::config::ProviderKind::Deepl
        && s.endpoint == crate::config::DEEPL_AUTO_ENDPOINT
    {
        let free = key.is_some_and(|k| k.expose().trim_end().ends_with(":fx"));
        s.endpoint = if free { FREE_HOST } else { PRO_HOST }.to_string();
    }
    s
}
