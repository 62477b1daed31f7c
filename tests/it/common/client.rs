//! Helpers for tests that call a provider directly, not through the binary.

use tarjama::config::{Config, ProviderSettings};
use tarjama::provider::ProviderError;

/// The shipped `[providers.<name>]`, pointed at `endpoint`, with short timeouts.
pub fn shipped(name: &str, endpoint: &str) -> ProviderSettings {
    let mut s = Config::builtin().providers[name].clone();
    assert_eq!(
        s.kind.as_str(),
        name,
        "shipped tables are named after their kind"
    );
    s.endpoint = endpoint.to_string();
    s.timeout_secs = 2.0;
    s.connect_timeout_secs = 1.0;
    s
}

/// Owned texts.
pub fn texts(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Which class a result is, for tables: `Ok(n)`, `RateLimited(Some(secs))`, or the
/// error variant's name.
pub fn class(r: &Result<Vec<String>, ProviderError>) -> String {
    match r {
        Ok(v) => format!("Ok({})", v.len()),
        Err(ProviderError::RateLimited { retry_after, .. }) => {
            format!("RateLimited({:?})", retry_after.map(|d| d.as_secs()))
        }
        Err(e) => format!("{e:?}").split('(').next().unwrap().to_string(),
    }
}

/// A port with nothing listening on it.
pub async fn closed_port() -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().port()
}

/// Against a server that never answers, one request with a 0.3 s timeout fails as
/// `Transient` (retryable) when its timeout fires. `settings` point at that server.
pub async fn assert_hang_is_transient(
    name: &str,
    mut settings: ProviderSettings,
    key: Option<&str>,
    (from, text): (&str, &str),
) {
    settings.timeout_secs = 0.3;
    let p =
        tarjama::provider::Provider::new(name, &settings, key.map(tarjama::secret::ApiKey::new))
            .unwrap();
    // The server never answers: only the request's own timeout ends this, so the
    // guard (far longer) fails only when that timeout does not fire.
    let e = super::wait::finishes(
        "the request timeout ending a hung request",
        p.translate(from, "en", &texts(&[text])),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, ProviderError::Transient(_)), "{e:?}");
}

/// A plain HTTP client for a test that talks to an emulator itself. The crate builds
/// rustls with ring as its only crypto provider and reqwest needs a process default,
/// which the library installs when it builds a provider; a test's own client must not
/// depend on another test having done so first.
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
