//! A real PostgreSQL for the shared-cache tests: the server `.ci/postgres-setup`
//! starts, named by `TARJAMA_TEST_PG` (a superuser URL). Each test gets a schema of
//! its own (`search_path` in the URL's `options`), so tests run in parallel. Without
//! the variable a test says why and passes without checking anything, unless `CI` is
//! set, when it fails.

use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};

/// The environment variable with the server's URL.
pub const ENV: &str = "TARJAMA_TEST_PG";

/// The superuser URL, or `None` (after saying why) when there is no server outside CI.
pub fn base_url() -> Option<String> {
    match std::env::var(ENV).ok().filter(|u| !u.trim().is_empty()) {
        Some(u) => Some(u),
        None if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) => panic!(
            "CI must test the shared cache against a real PostgreSQL, but {ENV} is not set: \
             run `eval \"$(bash .ci/postgres-setup)\"` first (see .ci/run)"
        ),
        None => {
            eprintln!(
                "skipping a PostgreSQL test: {ENV} is not set. Run (as root) \
                 `eval \"$(bash .ci/postgres-setup)\"` to start a throwaway server."
            );
            None
        }
    }
}

/// A superuser client of the test server.
pub async fn admin(base: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(base, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {ENV}: {e}"));
    tokio::spawn(conn);
    client
}

/// A fresh, empty schema; the URL that works in it (`base` with its `search_path`).
pub async fn fresh_schema(base: &str) -> (String, String) {
    let schema = format!("t_{:016x}", rand::random::<u64>());
    admin(base)
        .await
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    (with_schema(base, &schema), schema)
}

/// `url` working in `schema`.
pub fn with_schema(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-csearch_path%3D{schema}")
}

/// `url` with its host and port replaced by `127.0.0.1:port`.
pub fn via_port(url: &str, port: u16) -> String {
    let u = url::Url::parse(url).unwrap();
    let old = format!("{}:{}", u.host_str().unwrap(), u.port().unwrap_or(5432));
    url.replacen(&old, &format!("127.0.0.1:{port}"), 1)
}

/// The server's address from its URL.
pub fn server_addr(url: &str) -> String {
    let u = url::Url::parse(url).unwrap();
    format!("{}:{}", u.host_str().unwrap(), u.port().unwrap_or(5432))
}

/// A loopback port nothing listens on (yet).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A TCP relay to the database that can be cut: the database "goes away" for whoever
/// connects through it.
pub struct Relay {
    task: tokio::task::JoinHandle<()>,
    conns: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Relay {
    /// Relay `127.0.0.1:port` to `target` until cut.
    pub async fn start(port: u16, target: String) -> Relay {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let conns: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let list = conns.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                let conn = tokio::spawn(async move {
                    if let Ok(mut out) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
                list.lock().unwrap().push(conn.abort_handle());
            }
        });
        Relay { task, conns }
    }

    /// Stop listening and drop every relayed connection.
    pub async fn cut(self) {
        self.task.abort();
        let _ = self.task.await;
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }
}
