//! Google: stub, to be written (issue 3).

use super::{BatchLimits, Health, Http, Languages, ProviderError};
use crate::config::ProviderSettings;

/// The Google wire format.
#[derive(Debug)]
pub(super) struct Google;

impl Google {
    pub(super) fn new(settings: &ProviderSettings) -> Google {
        let _ = settings;
        Google
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
            "google is not implemented yet".into(),
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
