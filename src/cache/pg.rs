//! The store's protocol on PostgreSQL: the shared translation memory, leases, pacer and
//! daily allowances of every machine that uses one `postgres://` URL.
//!
//! **Client.** tokio-postgres with rustls (ring as the one crypto provider, passed
//! explicitly, never the process default) through tokio-postgres-rustls; the server's
//! certificate is checked against the system's roots (rustls-platform-verifier, as the
//! HTTP client does) or the URL's `sslrootcert`. **One connection per process**: a
//! `tokio_postgres::Client` is shared by reference and pipelines the queries of every
//! task on it (<https://docs.rs/tokio-postgres/latest/tokio_postgres/#pipelining>), every
//! operation below is one statement, so nothing needs a connection of its own, and a
//! desk of machines costs the server one connection each instead of a pool's worth.
//! Statements are prepared once per connection, with their parameter types. A lost
//! connection is replaced (and its statements prepared again) by the next operation.
//!
//! **Schema**, created by the program in the first schema of the `search_path`
//! (`?options=-csearch_path%3Dname` in the URL picks another), versioned by the row of
//! `tarjama_schema`: a version newer than [`SCHEMA_VERSION`] is refused with an error
//! telling to upgrade tarjama; creation runs under a transaction-scoped advisory lock
//! so two machines starting at once do not race. A role that may not create tables
//! works once the tables exist.
//! - `tarjama_tm`: one row per translation, keyed like the local cache
//!   ([`CacheKey::id`]); `target IS NULL` while a process holds the row's lease
//!   (`lease_owner`, `lease_until`). Pending and finished share the key's row, so
//!   between "done" and another claim there is nothing to see but the finished row
//!   (a separate leases table would leave, under READ COMMITTED, a moment where a
//!   reader sees neither). `rkey` is the id of the text's reviewed key, indexed, so the
//!   machine translations of a text are found for `translate import`.
//! - `tarjama_pacer` (UNLOGGED: no WAL per request; emptied by a server crash, which
//!   only restarts pacing): GCRA per service and account.
//! - `tarjama_allowance`: characters per service, account and UTC day.
//!
//! Every time is the server's `clock_timestamp()` (not `now()`, which stands still for
//! a whole transaction): machines' clocks never matter, and a client only ever gets a
//! duration back, which it measures on its own monotonic clock.
//!
//! **Concurrency.** `INSERT … ON CONFLICT DO UPDATE … WHERE` locks the conflicting row
//! and checks the `WHERE` against its latest committed version under READ COMMITTED
//! (<https://www.postgresql.org/docs/current/sql-insert.html#SQL-ON-CONFLICT>,
//! <https://www.postgresql.org/docs/current/transaction-iso.html>), so of several
//! claims of one free or expired key exactly one gets it back from `RETURNING`, and a
//! completion with `WHERE target IS NULL` stores the first answer only. Rows are
//! locked in key order (`ORDER BY key`, `FOR UPDATE` in a key-ordered subquery), so two
//! multi-row statements cannot deadlock; one that does anyway is retried.
//!
//! **Outages** follow [`super::outage`]: an unreachable server makes the operation pause
//! and retry, with a warning, up to [`super::outage::PATIENCE`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_postgres::types::Type;
use tokio_postgres::{Client, Statement};

use super::dsn::{CacheUrl, Connect, PasswordSource, scrub};
use super::local::{Entry, PacerRow};
use super::outage::{self, Step, Trouble};
use super::{CacheKey, Origin};
use crate::error::{Error, Result};
use crate::secret::ApiKey;

/// The schema this build writes and reads.
pub const SCHEMA_VERSION: i32 = 1;
/// Longest wait for one statement before the connection is taken for dead.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(60);

/// A row of `tarjama_tm` as a lookup reads it.
#[derive(Debug)]
pub struct Row {
    /// Its key id.
    pub key: Vec<u8>,
    /// Machine or reviewed.
    pub origin: Origin,
    /// The key fields as stored.
    pub fields: CacheKey,
    /// The translation, `None` while pending.
    pub target: Option<String>,
    /// Milliseconds left on the lease (negative once expired); `None` when done.
    pub lease_left_ms: Option<f64>,
}

/// The shared memory of one URL.
pub struct Pg {
    url: CacheUrl,
    connect: tokio_postgres::Config,
    password: Option<PasswordSource>,
    secret: Option<ApiKey>,
    tls: tokio_postgres_rustls::MakeRustlsConnect,
    session: tokio::sync::Mutex<Option<Arc<Session>>>,
    patience: Duration,
}

struct Session {
    client: Client,
    st: Statements,
}

/// Why an attempt failed.
enum Failure {
    Pg(tokio_postgres::Error),
    Timeout,
    Refused(String),
}

impl Failure {
    fn trouble(&self) -> Trouble {
        match self {
            Failure::Timeout => Trouble::Unreachable,
            Failure::Refused(_) => Trouble::Fatal,
            Failure::Pg(e) => {
                if let Some(code) = e.code() {
                    return outage::classify_sqlstate(code.code());
                }
                if e.is_closed() {
                    return Trouble::Unreachable;
                }
                match e.to_string().as_str() {
                    "timeout waiting for server" | "error communicating with the server" => {
                        Trouble::Unreachable
                    }
                    "error connecting to server" => std::error::Error::source(e)
                        .and_then(|s| s.downcast_ref::<std::io::Error>())
                        .map_or(Trouble::Unreachable, |io| outage::classify_io(io.kind())),
                    _ => Trouble::Fatal,
                }
            }
        }
    }

    /// The error and its causes on one line.
    fn describe(&self) -> String {
        match self {
            Failure::Timeout => format!("no answer within {} s", STATEMENT_TIMEOUT.as_secs()),
            Failure::Refused(m) => m.clone(),
            Failure::Pg(e) => {
                let mut text = e.to_string();
                let mut cause = std::error::Error::source(e);
                while let Some(c) = cause {
                    text.push_str(": ");
                    text.push_str(&c.to_string());
                    cause = c.source();
                }
                text
            }
        }
    }
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Failure {
        Failure::Pg(e)
    }
}

impl Pg {
    /// Prepare to use the shared memory at `url` (no connection yet: the first
    /// operation connects). `connect` carries the password.
    ///
    /// # Errors
    /// The TLS settings cannot be built (an unreadable `sslrootcert`).
    pub(crate) fn new(url: CacheUrl, connect: Connect, patience: Duration) -> Result<Pg> {
        for w in &connect.warnings {
            tracing::warn!("{w}");
        }
        let tls = tls(&url).map_err(|e| Error::Cache {
            path: std::path::PathBuf::from(url.shown()),
            what: "cannot set up TLS".into(),
            source: Some(Box::new(e)),
            hint: None,
        })?;
        Ok(Pg {
            connect: connect.config,
            password: connect.password,
            secret: connect.secret,
            url,
            tls,
            session: tokio::sync::Mutex::new(None),
            patience,
        })
    }

    /// The URL, printable.
    #[must_use]
    pub(crate) fn url(&self) -> &CacheUrl {
        &self.url
    }

    /// Connect now (and create or check the schema), so a bad URL, password or schema
    /// is reported before any work starts.
    ///
    /// # Errors
    /// As any operation.
    pub(crate) async fn check(&self) -> Result<()> {
        self.run("connect", |_| async { Ok(()) }).await
    }

    async fn session(&self) -> Result<Arc<Session>, Failure> {
        let mut slot = self.session.lock().await;
        if let Some(s) = slot.as_ref().filter(|s| !s.client.is_closed()) {
            return Ok(s.clone());
        }
        *slot = None;
        let connecting = self.connect.connect(self.tls.clone());
        let (mut client, connection) = tokio::time::timeout(STATEMENT_TIMEOUT, connecting)
            .await
            .map_err(|_| Failure::Timeout)??;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("shared cache connection ended: {e}");
            }
        });
        ensure_schema(&mut client).await?;
        let st = Statements::prepare(&client).await?;
        let s = Arc::new(Session { client, st });
        *slot = Some(s.clone());
        Ok(s)
    }

    async fn forget(&self, dead: &Arc<Session>) {
        let mut slot = self.session.lock().await;
        if slot.as_ref().is_some_and(|s| Arc::ptr_eq(s, dead)) {
            *slot = None;
        }
    }

    /// Run one operation, pausing and retrying while the server is unreachable.
    async fn run<T, F, Fut>(&self, what: &str, op: F) -> Result<T>
    where
        F: Fn(Arc<Session>) -> Fut,
        Fut: std::future::Future<Output = Result<T, tokio_postgres::Error>>,
    {
        let mut attempt = 0u32;
        let mut down_since: Option<Instant> = None;
        let mut reported: Option<Instant> = None;
        loop {
            let failure = match self.session().await {
                Ok(s) => match tokio::time::timeout(STATEMENT_TIMEOUT, op(s.clone())).await {
                    Ok(Ok(v)) => {
                        if let Some(since) = down_since.filter(|_| reported.is_some()) {
                            tracing::warn!(
                                "shared cache {} answers again (away for {} s)",
                                self.url,
                                since.elapsed().as_secs()
                            );
                        }
                        return Ok(v);
                    }
                    Ok(Err(e)) => {
                        let f = Failure::Pg(e);
                        if f.trouble() == Trouble::Unreachable {
                            self.forget(&s).await;
                        }
                        f
                    }
                    Err(_) => {
                        self.forget(&s).await;
                        Failure::Timeout
                    }
                },
                Err(f) => f,
            };
            attempt += 1;
            let trouble = failure.trouble();
            let down_for = down_since.get_or_insert_with(Instant::now).elapsed();
            match outage::next(trouble, attempt, down_for, self.patience) {
                Step::GiveUp => return Err(self.error(what, &failure, down_for)),
                Step::Retry(pause) => {
                    if trouble == Trouble::Unreachable
                        && outage::report(attempt, reported.map(|r| r.elapsed()))
                    {
                        reported = Some(Instant::now());
                        let reason = scrub(&failure.describe(), self.secret.as_ref());
                        tracing::warn!(
                            "{}",
                            outage::waiting_message(self.url.shown(), &reason, pause, down_for)
                        );
                    }
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }

    fn error(&self, what: &str, failure: &Failure, down_for: Duration) -> Error {
        let mut message = format!("{what}: {}", failure.describe());
        if failure.trouble() == Trouble::Unreachable {
            message.push_str(&format!(
                " (unreachable for {} s; nothing was lost: rerun when the database is back)",
                down_for.as_secs()
            ));
        }
        if message.contains("password") || message.contains("28P01") {
            message.push_str(&match &self.password {
                Some(source) => format!(
                    " (the password came from {source}; tarjama takes the first of: the URL, \
                     PGPASSWORD, ~/.pgpass, `translate auth set cache`)"
                ),
                None => " (no password found in the URL, PGPASSWORD, ~/.pgpass or the OS \
                          keyring: see `translate auth set cache`)"
                    .to_string(),
            });
        }
        shared_err(&self.url, &scrub(&message, self.secret.as_ref()))
    }

    /// Rows of `ids` (machine and reviewed ids mixed).
    ///
    /// # Errors
    /// The database failed, and kept failing past the patience.
    pub(crate) async fn lookup(&self, ids: &[Vec<u8>]) -> Result<Vec<Row>> {
        let rows = self
            .run("lookup", |s| async move {
                let ids: Vec<&[u8]> = ids.iter().map(Vec::as_slice).collect();
                s.client.query(&s.st.lookup, &[&ids]).await
            })
            .await?;
        rows.iter()
            .map(|r| {
                let origin = match r.get::<_, &str>(1) {
                    "reviewed" => Origin::Reviewed,
                    _ => Origin::Machine,
                };
                Ok(Row {
                    key: r.get(0),
                    origin,
                    fields: CacheKey {
                        provider: r.get(2),
                        options: r.get(3),
                        from: r.get(4),
                        to: r.get(5),
                        text: r.get(6),
                    },
                    target: r.get(7),
                    lease_left_ms: r.get(8),
                })
            })
            .collect()
    }

    /// Claim machine keys (sorted, distinct) for `owner`; the ids now held.
    ///
    /// # Errors
    /// See [`Pg::lookup`].
    pub(crate) async fn claim(
        &self,
        keys: &[&CacheKey],
        owner: &str,
        lease: Duration,
    ) -> Result<Vec<Vec<u8>>> {
        let cols = Columns::of(keys.iter().map(|k| (*k, Origin::Machine, "")));
        let lease_ms = lease.as_secs_f64() * 1000.0;
        let rows = self
            .run("claim", |s| {
                let cols = &cols;
                async move {
                    let (ids, rkeys) = (cols.ids(), cols.rkeys());
                    s.client
                        .query(
                            &s.st.claim,
                            &[
                                &ids,
                                &rkeys,
                                &cols.provider,
                                &cols.options,
                                &cols.src,
                                &cols.tgt,
                                &cols.source,
                                &owner,
                                &lease_ms,
                            ],
                        )
                        .await
                }
            })
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Store machine answers, first writer wins: per entry `(ours, machine, reviewed)`:
    /// whether this answer was stored, the machine target the row held before, the
    /// reviewed translation of the text.
    ///
    /// # Errors
    /// See [`Pg::lookup`].
    pub(crate) async fn complete(
        &self,
        done: &[(&CacheKey, &str)],
    ) -> Result<Vec<(Vec<u8>, bool, Option<String>, Option<String>)>> {
        let cols = Columns::of(done.iter().map(|(k, t)| (*k, Origin::Machine, *t)));
        let rows = self
            .run("store", |s| {
                let cols = &cols;
                async move {
                    let (ids, rkeys) = (cols.ids(), cols.rkeys());
                    s.client
                        .query(
                            &s.st.complete,
                            &[
                                &ids,
                                &rkeys,
                                &cols.provider,
                                &cols.options,
                                &cols.src,
                                &cols.tgt,
                                &cols.source,
                                &cols.target,
                            ],
                        )
                        .await
                }
            })
            .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect())
    }

    /// Extend `owner`'s leases; how many it still held.
    ///
    /// # Errors
    /// See [`Pg::lookup`].
    pub(crate) async fn renew(
        &self,
        keys: &[&CacheKey],
        owner: &str,
        lease: Duration,
    ) -> Result<usize> {
        let ids: Vec<Vec<u8>> = keys.iter().map(|k| k.id("machine").to_vec()).collect();
        let lease_ms = lease.as_secs_f64() * 1000.0;
        let rows = self
            .run("renew leases", |s| {
                let ids = &ids;
                async move {
                    let ids: Vec<&[u8]> = ids.iter().map(Vec::as_slice).collect();
                    s.client
                        .query(&s.st.renew, &[&ids, &owner, &lease_ms])
                        .await
                }
            })
            .await?;
        Ok(rows.len())
    }

    /// Drop `owner`'s leases of `keys`.
    ///
    /// # Errors
    /// See [`Pg::lookup`].
    pub(crate) async fn release(&self, keys: &[&CacheKey], owner: &str) -> Result<()> {
        let ids: Vec<Vec<u8>> = keys.iter().map(|k| k.id("machine").to_vec()).collect();
        self.run("release leases", |s| {
            let ids = &ids;
            async move {
                let ids: Vec<&[u8]> = ids.iter().map(Vec::as_slice).collect();
                s.client.execute(&s.st.release, &[&ids, &owner]).await
            }
        })
        .await?;
        Ok(())
    }

    /// Store reviewed translations (distinct texts), replacing older reviewed ones.
    ///
    /// # Errors
    /// See [`Pg::lookup`].
    pub(crate) async fn put_reviewed(&self, entries: &[(CacheKey, String)]) -> Result<()> {
        // The last correction of a text wins: `Columns` keeps the first of each id.
        let last: Vec<&(CacheKey, String)> = entries.iter().rev().collect();
        let cols = Columns::of(last.iter().map(|(k, t)| (k, Origin::Reviewed, t.as_str())));
        self.run("store reviewed translations", |s| {
            let cols = &cols;
            async move {
                let ids = cols.ids();
                s.client
                    .execute(
                        &s.st.reviewed,
                        &[&ids, &cols.src, &cols.tgt, &cols.source, &cols.target],
                    )
                    .await
            }
        })
        .await?;
        Ok(())
    }

    /// Machine targets of the texts whose reviewed ids are `rkeys`: `(rkey, target)`.
    ///
    /// # Errors
    /// See [`Pg::lookup`].
    pub(crate) async fn machine_targets(
        &self,
        rkeys: &[Vec<u8>],
    ) -> Result<Vec<(Vec<u8>, String)>> {
        let rows = self
            .run("read machine translations", |s| async move {
                let ids: Vec<&[u8]> = rkeys.iter().map(Vec::as_slice).collect();
                s.client.query(&s.st.machine_targets, &[&ids]).await
            })
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Reviewed entries changed after `(since_us, after_key)` in that order, at most
    /// `limit`: `(entry, updated_us, key)`.
    ///
    /// # Errors
    /// See [`Pg::lookup`].
    pub(crate) async fn reviewed_since(
        &self,
        since_us: i64,
        after_key: &[u8],
        limit: i64,
    ) -> Result<Vec<(Entry, i64, Vec<u8>)>> {
        let rows = self
            .run("read reviewed translations", |s| async move {
                s.client
                    .query(&s.st.reviewed_since, &[&since_us, &after_key, &limit])
                    .await
            })
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let key = CacheKey::new("", "", r.get(0), r.get(1), r.get(2));
                let entry = Entry {
                    origin: Origin::Reviewed,
                    key,
                    target: r.get(3),
                };
                (entry, r.get(4), r.get(5))
            })
            .collect())
    }

    /// Reserve the next slot of a pacer bucket.
    ///
    /// # Errors
    /// See [`Pg::lookup`].
    pub(crate) async fn pace(
        &self,
        service: &str,
        account: &str,
        floor_ms: f64,
    ) -> Result<PacerRow> {
        let (after, step) = (
            super::store::RECOVER_AFTER.as_secs_f64() * 1000.0,
            super::store::RECOVER_STEP,
        );
        let row = self
            .run("pace", |s| async move {
                s.client
                    .query_one(&s.st.pace, &[&service, &account, &floor_ms, &after, &step])
                    .await
            })
            .await?;
        Ok((row.get(0), row.get(1), row.get(2), row.get(3)))
    }

    /// A 429 for a request of `epoch`.
    ///
    /// # Errors
    /// See [`Pg::lookup`].
    pub(crate) async fn throttled(
        &self,
        service: &str,
        account: &str,
        floor_ms: f64,
        epoch: i64,
        pause: Duration,
    ) -> Result<()> {
        let pause_ms = pause.as_secs_f64() * 1000.0;
        self.run("slow the pacer down", |s| async move {
            s.client
                .execute(
                    &s.st.throttled,
                    &[&service, &account, &epoch, &floor_ms, &pause_ms],
                )
                .await
        })
        .await?;
        Ok(())
    }

    /// Count characters against today's allowance when they fit under `limit`.
    ///
    /// # Errors
    /// See [`Pg::lookup`].
    pub(crate) async fn take(
        &self,
        service: &str,
        account: &str,
        chars: u64,
        limit: u64,
    ) -> Result<Option<u64>> {
        let (chars, limit) = (clamp(chars), clamp(limit));
        let row = self
            .run("count characters", |s| async move {
                s.client
                    .query_opt(&s.st.take, &[&service, &account, &chars, &limit])
                    .await
            })
            .await?;
        Ok(row.map(|r| r.get::<_, i64>(0).max(0).unsigned_abs()))
    }

    /// Give characters back to today's allowance.
    ///
    /// # Errors
    /// See [`Pg::lookup`].
    pub(crate) async fn refund(&self, service: &str, account: &str, chars: u64) -> Result<()> {
        let chars = clamp(chars);
        self.run("give characters back", |s| async move {
            s.client
                .execute(&s.st.refund, &[&service, &account, &chars])
                .await
        })
        .await?;
        Ok(())
    }

    /// Characters counted today.
    ///
    /// # Errors
    /// See [`Pg::lookup`].
    pub(crate) async fn used(&self, service: &str, account: &str) -> Result<u64> {
        let row = self
            .run("read the character count", |s| async move {
                s.client.query_opt(&s.st.used, &[&service, &account]).await
            })
            .await?;
        Ok(row.map_or(0, |r| r.get::<_, i64>(0).max(0).unsigned_abs()))
    }

    /// Up to `limit` finished entries with a key after `after`, in key order.
    ///
    /// # Errors
    /// See [`Pg::lookup`].
    pub(crate) async fn entries(&self, after: &[u8], limit: i64) -> Result<Vec<(Vec<u8>, Entry)>> {
        let rows = self
            .run("read entries", |s| async move {
                s.client.query(&s.st.export, &[&after, &limit]).await
            })
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let origin = match r.get::<_, &str>(1) {
                    "reviewed" => Origin::Reviewed,
                    _ => Origin::Machine,
                };
                let key = CacheKey::new(r.get(2), r.get(3), r.get(4), r.get(5), r.get(6));
                (
                    r.get(0),
                    Entry {
                        origin,
                        key,
                        target: r.get(7),
                    },
                )
            })
            .collect())
    }

    /// Add entries whose keys are free or pending (kept as they are: machine with
    /// provider and options, reviewed without); how many were added.
    ///
    /// # Errors
    /// See [`Pg::lookup`].
    pub(crate) async fn add_entries(&self, entries: &[Entry]) -> Result<usize> {
        let cols = Columns::of(
            entries
                .iter()
                .map(|e| (&e.key, e.origin, e.target.as_str())),
        );
        let n = self
            .run("add entries", |s| {
                let cols = &cols;
                async move {
                    let (ids, rkeys) = (cols.ids(), cols.rkeys());
                    s.client
                        .execute(
                            &s.st.import,
                            &[
                                &ids,
                                &rkeys,
                                &cols.origin,
                                &cols.provider,
                                &cols.options,
                                &cols.src,
                                &cols.tgt,
                                &cols.source,
                                &cols.target,
                            ],
                        )
                        .await
                }
            })
            .await?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// An error of the shared cache, naming it by its printable URL.
///
/// `message` is the failure with its causes already on one line and the password
/// scrubbed from it: tokio-postgres' errors are not kept as sources, since their text
/// may quote the server's reply, which the scrubbing must see first.
pub(crate) fn shared_err(url: &CacheUrl, message: &str) -> Error {
    Error::Cache {
        path: std::path::PathBuf::from(url.shown()),
        what: message.to_string(),
        source: None,
        hint: None,
    }
}

/// Why the TLS settings for the shared cache cannot be built.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TlsError {
    /// rustls refuses the protocol versions or the platform verifier.
    #[error("TLS settings")]
    Settings(#[source] rustls::Error),
    /// The `sslrootcert` file cannot be read or holds a bad certificate.
    #[error("sslrootcert {}", path.display())]
    RootCert {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Key columns for the `unnest` statements, sorted by id (the lock order), one row per
/// distinct id (the first given), with each row's origin and translation.
struct Columns {
    ids: Vec<Vec<u8>>,
    rkeys: Vec<Vec<u8>>,
    origin: Vec<&'static str>,
    provider: Vec<String>,
    options: Vec<String>,
    src: Vec<String>,
    tgt: Vec<String>,
    source: Vec<String>,
    target: Vec<String>,
}

impl Columns {
    fn of<'a>(rows: impl Iterator<Item = (&'a CacheKey, Origin, &'a str)>) -> Columns {
        let mut rows: Vec<(Vec<u8>, CacheKey, Origin, &str)> = rows
            .map(|(k, o, t)| {
                let k = o.key(k).into_owned();
                (k.id(o.as_str()).to_vec(), k, o, t)
            })
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        rows.dedup_by(|a, b| a.0 == b.0);
        let mut c = Columns {
            ids: Vec::new(),
            rkeys: Vec::new(),
            origin: Vec::new(),
            provider: Vec::new(),
            options: Vec::new(),
            src: Vec::new(),
            tgt: Vec::new(),
            source: Vec::new(),
            target: Vec::new(),
        };
        for (id, k, o, t) in rows {
            c.ids.push(id);
            c.rkeys.push(k.reviewed().id("reviewed").to_vec());
            c.origin.push(o.as_str());
            c.provider.push(k.provider);
            c.options.push(k.options);
            c.src.push(k.from);
            c.tgt.push(k.to);
            c.source.push(k.text);
            c.target.push(t.to_string());
        }
        c
    }

    fn ids(&self) -> Vec<&[u8]> {
        self.ids.iter().map(Vec::as_slice).collect()
    }

    fn rkeys(&self) -> Vec<&[u8]> {
        self.rkeys.iter().map(Vec::as_slice).collect()
    }
}

/// rustls with ring, and the system's roots or the URL's `sslrootcert`.
fn tls(url: &CacheUrl) -> Result<tokio_postgres_rustls::MakeRustlsConnect, TlsError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Settings)?;
    let config = match url.root_cert() {
        Some(path) => {
            let bad = |e: Box<dyn std::error::Error + Send + Sync>| TlsError::RootCert {
                path: path.to_path_buf(),
                source: e,
            };
            let mut roots = rustls::RootCertStore::empty();
            let certs = CertificateDer::pem_file_iter(path).map_err(|e| bad(Box::new(e)))?;
            for cert in certs {
                let cert = cert.map_err(|e| bad(Box::new(e)))?;
                roots.add(cert).map_err(|e| bad(Box::new(e)))?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        None => builder
            .with_platform_verifier()
            .map_err(TlsError::Settings)?
            .with_no_client_auth(),
    };
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// Create the schema when it is missing; refuse one newer than this build's.
async fn ensure_schema(client: &mut Client) -> Result<(), Failure> {
    if let Some(v) = schema_version(client).await? {
        return check_version(v);
    }
    let tx = client.transaction().await?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext('tarjama_schema:' || coalesce(current_schema(), '')))",
        &[],
    )
    .await?;
    if let Some(v) = schema_version(&tx).await? {
        return check_version(v);
    }
    // The advisory lock does not make this session read the catalog afresh: the
    // check above may miss tables another process created and committed while we
    // waited for the lock, so every statement here tolerates them, and the version
    // row is read back.
    tx.batch_execute(SCHEMA).await?;
    tx.execute(
        "INSERT INTO tarjama_schema (id, version, written_by) VALUES (1, $1, $2)
         ON CONFLICT (id) DO NOTHING",
        &[
            &SCHEMA_VERSION,
            &concat!("tarjama ", env!("CARGO_PKG_VERSION")),
        ],
    )
    .await?;
    let found = schema_version(&tx).await?;
    tx.commit().await?;
    check_version(found.unwrap_or(SCHEMA_VERSION))
}

async fn schema_version(
    client: &impl tokio_postgres::GenericClient,
) -> Result<Option<i32>, Failure> {
    let exists: bool = client
        .query_one("SELECT to_regclass('tarjama_schema') IS NOT NULL", &[])
        .await?
        .get(0);
    if !exists {
        return Ok(None);
    }
    let row = client
        .query_opt("SELECT version FROM tarjama_schema WHERE id = 1", &[])
        .await?;
    Ok(row.map(|r| r.get(0)))
}

fn check_version(found: i32) -> Result<(), Failure> {
    if found == SCHEMA_VERSION {
        Ok(())
    } else if found > SCHEMA_VERSION {
        Err(Failure::Refused(format!(
            "the shared cache's schema is version {found}, newer than this tarjama's \
             ({SCHEMA_VERSION}); it was written by a newer tarjama: upgrade tarjama on this machine"
        )))
    } else {
        Err(Failure::Refused(format!(
            "the shared cache's schema is version {found}, which this tarjama cannot upgrade \
             to version {SCHEMA_VERSION}"
        )))
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tarjama_schema (
    id         int PRIMARY KEY CHECK (id = 1),
    version    int NOT NULL,
    written_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE IF NOT EXISTS tarjama_tm (
    key         bytea PRIMARY KEY,
    rkey        bytea NOT NULL,
    origin      text NOT NULL CHECK (origin IN ('machine', 'reviewed')),
    provider    text NOT NULL,
    options     text NOT NULL,
    src         text NOT NULL,
    tgt         text NOT NULL,
    source      text NOT NULL,
    target      text,
    lease_owner text,
    lease_until timestamptz,
    attempts    int NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT tarjama_tm_done_or_leased CHECK ((target IS NULL) = (lease_until IS NOT NULL)),
    CONSTRAINT tarjama_tm_reviewed_done CHECK (origin = 'machine' OR target IS NOT NULL)
);
CREATE INDEX IF NOT EXISTS tarjama_tm_rkey ON tarjama_tm (rkey);
CREATE INDEX IF NOT EXISTS tarjama_tm_reviewed ON tarjama_tm (updated_at) WHERE origin = 'reviewed';
CREATE UNLOGGED TABLE IF NOT EXISTS tarjama_pacer (
    service     text NOT NULL,
    account     text NOT NULL,
    tat         timestamptz NOT NULL,
    interval_ms float8 NOT NULL,
    step_ms     float8 NOT NULL,
    epoch       bigint NOT NULL DEFAULT 0,
    changed_at  timestamptz NOT NULL,
    seen_at     timestamptz NOT NULL,
    PRIMARY KEY (service, account)
);
CREATE TABLE IF NOT EXISTS tarjama_allowance (
    service text NOT NULL,
    account text NOT NULL DEFAULT '',
    day     date NOT NULL,
    chars   bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (service, account, day)
);
";

/// The statements, prepared once per connection.
struct Statements {
    lookup: Statement,
    claim: Statement,
    complete: Statement,
    renew: Statement,
    release: Statement,
    reviewed: Statement,
    machine_targets: Statement,
    reviewed_since: Statement,
    pace: Statement,
    throttled: Statement,
    take: Statement,
    refund: Statement,
    used: Statement,
    export: Statement,
    import: Statement,
}

const UNNEST_KEYS: &str =
    "unnest($1::bytea[], $2::bytea[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])";

impl Statements {
    async fn prepare(c: &Client) -> Result<Statements, tokio_postgres::Error> {
        let (b, ba, t, ta, f, i) = (
            Type::BYTEA,
            Type::BYTEA_ARRAY,
            Type::TEXT,
            Type::TEXT_ARRAY,
            Type::FLOAT8,
            Type::INT8,
        );
        let key_cols = [
            ba.clone(),
            ba.clone(),
            ta.clone(),
            ta.clone(),
            ta.clone(),
            ta.clone(),
            ta.clone(),
        ];
        let recover = "(p.interval_ms > $3 AND EXCLUDED.seen_at - p.changed_at >= $4 * interval '1 millisecond')";
        let new_interval = format!(
            "CASE WHEN {recover} THEN GREATEST($3, 1000.0 / (1000.0 / p.interval_ms + $5 * 1000.0 / $3)) ELSE p.interval_ms END"
        );
        let slowed = format!(
            "LEAST(GREATEST(interval_ms, $4) * {}, $4 * {})",
            super::store::SLOWDOWN,
            super::store::SLOWEST_FACTOR
        );
        Ok(Statements {
            lookup: c
                .prepare_typed(
                    "SELECT key, origin, provider, options, src, tgt, source, target,
                            (extract(epoch FROM lease_until - clock_timestamp()) * 1000)::float8
                     FROM tarjama_tm WHERE key = ANY($1)",
                    std::slice::from_ref(&ba),
                )
                .await?,
            claim: c
                .prepare_typed(
                    &format!(
                        "INSERT INTO tarjama_tm AS t (key, rkey, origin, provider, options, src, tgt, source,
                                                      lease_owner, lease_until, attempts)
                         SELECT u.key, u.rkey, 'machine', u.provider, u.options, u.src, u.tgt, u.source,
                                $8, clock_timestamp() + $9 * interval '1 millisecond', 1
                         FROM {UNNEST_KEYS} AS u(key, rkey, provider, options, src, tgt, source)
                         ORDER BY u.key
                         ON CONFLICT (key) DO UPDATE SET lease_owner = EXCLUDED.lease_owner,
                             lease_until = EXCLUDED.lease_until, attempts = t.attempts + 1,
                             updated_at = clock_timestamp()
                         WHERE t.target IS NULL
                           AND (t.lease_until < clock_timestamp() OR t.lease_owner = EXCLUDED.lease_owner)
                         RETURNING t.key"
                    ),
                    &[&key_cols[..], &[t.clone(), f.clone()]].concat(),
                )
                .await?,
            complete: c
                .prepare_typed(
                    "WITH u AS (
                         SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::text[], $4::text[], $5::text[],
                                              $6::text[], $7::text[], $8::text[])
                             AS u(key, rkey, provider, options, src, tgt, source, target)),
                     ins AS (
                         INSERT INTO tarjama_tm AS t (key, rkey, origin, provider, options, src, tgt, source, target)
                         SELECT key, rkey, 'machine', provider, options, src, tgt, source, target
                         FROM u ORDER BY key
                         ON CONFLICT (key) DO UPDATE SET target = EXCLUDED.target, lease_owner = NULL,
                             lease_until = NULL, updated_at = clock_timestamp()
                         WHERE t.target IS NULL
                         RETURNING t.key)
                     SELECT u.key, ins.key IS NOT NULL, m.target, r.target
                     FROM u LEFT JOIN ins ON ins.key = u.key
                            LEFT JOIN tarjama_tm m ON m.key = u.key
                            LEFT JOIN tarjama_tm r ON r.key = u.rkey",
                    &[&key_cols[..], std::slice::from_ref(&ta)].concat(),
                )
                .await?,
            renew: c
                .prepare_typed(
                    "UPDATE tarjama_tm SET lease_until = clock_timestamp() + $3 * interval '1 millisecond',
                                           updated_at = clock_timestamp()
                     WHERE key IN (SELECT key FROM tarjama_tm
                                   WHERE key = ANY($1) AND lease_owner = $2 AND target IS NULL
                                   ORDER BY key FOR UPDATE)
                       AND lease_owner = $2 AND target IS NULL
                     RETURNING key",
                    &[ba.clone(), t.clone(), f.clone()],
                )
                .await?,
            release: c
                .prepare_typed(
                    "DELETE FROM tarjama_tm
                     WHERE key IN (SELECT key FROM tarjama_tm
                                   WHERE key = ANY($1) AND lease_owner = $2 AND target IS NULL
                                   ORDER BY key FOR UPDATE)
                       AND lease_owner = $2 AND target IS NULL",
                    &[ba.clone(), t.clone()],
                )
                .await?,
            reviewed: c
                .prepare_typed(
                    "INSERT INTO tarjama_tm AS t (key, rkey, origin, provider, options, src, tgt, source, target)
                     SELECT key, key, 'reviewed', '', '', src, tgt, source, target
                     FROM unnest($1::bytea[], $2::text[], $3::text[], $4::text[], $5::text[])
                         AS u(key, src, tgt, source, target)
                     ORDER BY key
                     ON CONFLICT (key) DO UPDATE SET target = EXCLUDED.target, updated_at = clock_timestamp()",
                    &[ba.clone(), ta.clone(), ta.clone(), ta.clone(), ta.clone()],
                )
                .await?,
            machine_targets: c
                .prepare_typed(
                    "SELECT rkey, target FROM tarjama_tm
                     WHERE rkey = ANY($1) AND origin = 'machine' AND target IS NOT NULL",
                    std::slice::from_ref(&ba),
                )
                .await?,
            reviewed_since: c
                .prepare_typed(
                    "SELECT src, tgt, source, target, us, key FROM (
                         SELECT src, tgt, source, target, key,
                                (extract(epoch FROM updated_at) * 1000000)::int8 AS us
                         FROM tarjama_tm WHERE origin = 'reviewed') r
                     WHERE (us, key) > ($1, $2)
                     ORDER BY us, key LIMIT $3",
                    &[i.clone(), b.clone(), i.clone()],
                )
                .await?,
            pace: c
                .prepare_typed(
                    &format!(
                        "WITH c AS (SELECT clock_timestamp() AS now)
                         INSERT INTO tarjama_pacer AS p (service, account, tat, interval_ms, step_ms, epoch,
                                                         changed_at, seen_at)
                         SELECT $1, $2, c.now + $3 * interval '1 millisecond', $3, $3, 0, c.now, c.now FROM c
                         ON CONFLICT (service, account) DO UPDATE SET
                             interval_ms = {new_interval},
                             changed_at = CASE WHEN {recover} THEN EXCLUDED.seen_at ELSE p.changed_at END,
                             step_ms = GREATEST($3, {new_interval}),
                             tat = GREATEST(p.tat, EXCLUDED.seen_at)
                                   + GREATEST($3, {new_interval}) * interval '1 millisecond',
                             seen_at = EXCLUDED.seen_at
                         RETURNING (extract(epoch FROM p.seen_at) * 1000)::float8,
                                   (extract(epoch FROM p.tat) * 1000)::float8, p.step_ms, p.epoch"
                    ),
                    &[t.clone(), t.clone(), f.clone(), f.clone(), f.clone()],
                )
                .await?,
            throttled: c
                .prepare_typed(
                    &format!(
                        "UPDATE tarjama_pacer SET
                             interval_ms = CASE WHEN epoch = $3 THEN {slowed} ELSE interval_ms END,
                             changed_at = CASE WHEN epoch = $3 THEN clock_timestamp() ELSE changed_at END,
                             tat = GREATEST(tat, clock_timestamp() + GREATEST($5,
                                   CASE WHEN epoch = $3 THEN {slowed} ELSE interval_ms END) * interval '1 millisecond'),
                             epoch = CASE WHEN epoch = $3 THEN epoch + 1 ELSE epoch END
                         WHERE service = $1 AND account = $2"
                    ),
                    &[t.clone(), t.clone(), i.clone(), f.clone(), f.clone()],
                )
                .await?,
            take: c
                .prepare_typed(
                    "INSERT INTO tarjama_allowance AS a (service, account, day, chars)
                     SELECT $1, $2, (clock_timestamp() AT TIME ZONE 'UTC')::date, $3 WHERE $3 <= $4
                     ON CONFLICT (service, account, day) DO UPDATE SET chars = a.chars + EXCLUDED.chars
                     WHERE a.chars + EXCLUDED.chars <= $4
                     RETURNING chars",
                    &[t.clone(), t.clone(), i.clone(), i.clone()],
                )
                .await?,
            refund: c
                .prepare_typed(
                    "UPDATE tarjama_allowance SET chars = GREATEST(0, chars - $3)
                     WHERE service = $1 AND account = $2
                       AND day = (clock_timestamp() AT TIME ZONE 'UTC')::date",
                    &[t.clone(), t.clone(), i.clone()],
                )
                .await?,
            used: c
                .prepare_typed(
                    "SELECT chars FROM tarjama_allowance
                     WHERE service = $1 AND account = $2
                       AND day = (clock_timestamp() AT TIME ZONE 'UTC')::date",
                    &[t.clone(), t.clone()],
                )
                .await?,
            export: c
                .prepare_typed(
                    "SELECT key, origin, provider, options, src, tgt, source, target FROM tarjama_tm
                     WHERE key > $1 AND target IS NOT NULL ORDER BY key LIMIT $2",
                    &[b.clone(), i.clone()],
                )
                .await?,
            import: c
                .prepare_typed(
                    "INSERT INTO tarjama_tm AS t (key, rkey, origin, provider, options, src, tgt, source, target)
                     SELECT key, rkey, origin, provider, options, src, tgt, source, target
                     FROM unnest($1::bytea[], $2::bytea[], $3::text[], $4::text[], $5::text[], $6::text[],
                                 $7::text[], $8::text[], $9::text[])
                         AS u(key, rkey, origin, provider, options, src, tgt, source, target)
                     ORDER BY key
                     ON CONFLICT (key) DO UPDATE SET target = EXCLUDED.target, lease_owner = NULL,
                         lease_until = NULL, updated_at = clock_timestamp()
                     WHERE t.target IS NULL",
                    &[ba.clone(), ba, ta.clone(), ta.clone(), ta.clone(), ta.clone(), ta.clone(), ta.clone(), ta],
                )
                .await?,
        })
    }
}
