//! The store: one asynchronous API over the translation memory, whether it is the
//! local SQLite cache alone or a shared PostgreSQL memory with the local cache as a
//! write-through layer in front of it, with the same protocol on both:
//! - [`Store::lookup`]: hit (machine or reviewed), miss, or pending (another process
//!   holds the paragraph's lease; with the time left on it);
//! - [`Store::claim`]: take the lease of missing paragraphs before sending them; of
//!   several processes claiming one paragraph exactly one gets it, and a translated
//!   paragraph cannot be claimed;
//! - [`Store::complete`]: store answers; the first answer stored wins and a reviewed
//!   translation is never replaced by a machine one;
//! - [`Store::hold`] / [`Store::renew`] keep leases alive through a long request,
//!   [`Store::release`] gives them back; a lease whose process died expires and is
//!   taken over by exactly one waiter (its claim);
//! - [`Store::put_reviewed`]: human corrections, keyed without provider and options;
//! - [`Store::pacer`]: one request rate for every process using one service and key
//!   (GCRA in one row; a 429 slows every holder);
//! - [`Store::allowance`]: characters per service, key and UTC day.
//!
//! Without a URL every process sharing a `--cache-dir` goes through the SQLite file
//! ([`super::local`]); with one, leases, pacing and allowances live in PostgreSQL
//! ([`super::pg`]) and translations in both: a local hit costs no round trip, a shared
//! hit is copied into the local file, every answer is written to both, and the
//! reviewed entries changed in the shared memory since the last run are copied into
//! the local file when the store opens (so a correction made on another machine wins
//! over a machine translation this machine already had).
//!
//! # How a run is meant to use it
//!
//! ```text
//! let (store, notice) = Store::open(&cache_dir, url.as_ref()).await?;
//! let pacer = store.pacer(Bucket::new(&provider_name, key.as_deref()), Rate { rps, burst });
//! let quota = store.allowance(Bucket::new(..), Some(daily_chars));   // when there is one
//! for each document:
//!     found = store.lookup(&keys).await?            // 0 round trips for local hits
//!     Hit       -> use it (flag `reviewed` when origin is Reviewed)
//!     Repaired  -> warn, then treat as Miss
//!     Miss      -> to claim
//!     Pending   -> to the waiting list
//!     owned = store.claim(&misses, DEFAULT_LEASE).await?   // true: ours to send
//!     not owned -> to the waiting list (someone else is on it)
//!     for each request over owned keys:
//!         let held = store.hold(batch_keys, DEFAULT_LEASE); // renews every lease/3
//!         quota.take(chars) -> Exhausted: release, stop (quota_exhausted)
//!         let permit = pacer.until_ready().await?;           // sleeps the returned wait
//!         send
//!         429        -> pacer.throttled(&permit, retry_after).await?; retry (until_ready again)
//!         answers    -> store.complete(&answers).await?: Stored, or Kept(hit): use hit
//!         failure    -> quota.refund(chars); store.release(&batch_keys).await?
//!         drop(held)
//!     waiting list: sleep poll_after(remaining, n); lookup again:
//!         Hit -> use it; Pending -> keep waiting; Miss (lease expired or released) ->
//!         claim again: exactly one waiter gets it and sends.
//! ```
//!
//! A run with `--offline` should open the local store only ([`Store::open`] with no
//! URL): it makes no connection at all.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::dsn::CacheUrl;
use super::local;
use super::outage::PATIENCE;
use super::pg::Pg;
use super::{Cache, CacheKey, Hit, Lookup, Origin};
use crate::error::{Error, Result};
use crate::secret::Keyring;

/// A lease long enough for one request with its retries to finish in the common case;
/// [`Store::hold`] renews it every third of it, so a process that died is taken over
/// within about this long.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);
/// After this long without a 429, a slowed-down pacer speeds up by one step.
pub const RECOVER_AFTER: Duration = Duration::from_secs(3);
/// The speed-up step, as a share of the configured rate (additive increase).
pub const RECOVER_STEP: f64 = 0.05;
/// A 429 multiplies the shared interval by this (the rate falls to 80%): each process
/// also slows its own pace by its own 429s, so the shared rate only has to keep the
/// processes together from overrunning the server, and a halving there, slow to
/// recover, cost a four-process run 25% on one stray 429.
pub const SLOWDOWN: f64 = 1.25;
/// The slowest a pacer gets: this many times the configured interval.
pub(crate) const SLOWEST_FACTOR: f64 = 100.0;
/// How far back (ms) reviewed entries are read again when the store opens, for
/// entries committed late by a transaction that started before the last read.
const SYNC_MARGIN_MS: f64 = 10.0 * 60.0 * 1000.0;

/// What a lookup found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// A translation: use it.
    Hit(Hit),
    /// Nothing, or a lease that expired: claim it.
    Miss,
    /// Another process holds it; its lease runs this much longer. Wait, look again.
    Pending(Duration),
    /// A damaged local entry was deleted (the notice says so): claim it.
    Repaired(String),
}

/// What [`Store::complete`] did with one answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Completed {
    /// This answer is stored and is what lookups serve.
    Stored,
    /// The memory already had a translation (another process's earlier answer, or a
    /// reviewed one), which is what lookups serve: use it.
    Kept(Hit),
}

/// The memory: local alone, or shared with a local layer. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    local: Arc<Cache>,
    shared: Option<Pg>,
    owner: String,
}

impl Store {
    /// Open the cache under `dir` and, with `url`, the shared memory (connecting now, so
    /// a bad URL, password or schema stops the command before any work). The password
    /// comes from the URL, `PGPASSWORD`, the password file or the OS keyring. The
    /// notice says when a corrupt local file was set aside.
    ///
    /// # Errors
    /// The local cache cannot be opened; the shared one cannot be used (and, if it is
    /// unreachable, stayed so for [`PATIENCE`]).
    pub async fn open(dir: &Path, url: Option<&CacheUrl>) -> Result<(Store, Option<String>)> {
        Store::open_with(dir, url, &Keyring::os(), PATIENCE).await
    }

    /// [`Store::open`] with a given keyring (the mock in tests) and patience with an
    /// unreachable database.
    ///
    /// # Errors
    /// See [`Store::open`].
    pub async fn open_with(
        dir: &Path,
        url: Option<&CacheUrl>,
        keyring: &Keyring,
        patience: Duration,
    ) -> Result<(Store, Option<String>)> {
        let dir = dir.to_path_buf();
        let (cache, notice) = tokio::task::spawn_blocking(move || {
            let (cache, notice) = Cache::open_with_notice(&dir)?;
            local::init(&cache)?;
            Ok::<_, Error>((cache, notice))
        })
        .await
        .map_err(join_err)??;
        let shared = match url {
            Some(url) => {
                let connect = url.connect(&|k| std::env::var(k).ok(), keyring);
                let pg = Pg::new(url.clone(), connect, patience)?;
                pg.check().await?;
                Some(pg)
            }
            None => None,
        };
        let store = Store {
            inner: Arc::new(Inner {
                local: Arc::new(cache),
                shared,
                owner: owner_id(),
            }),
        };
        store.sync_reviewed().await?;
        Ok((store, notice))
    }

    /// The local cache, for what still uses the synchronous API.
    #[must_use]
    pub fn cache(&self) -> &Arc<Cache> {
        &self.inner.local
    }

    /// Whether a shared memory is in use.
    #[must_use]
    pub fn is_shared(&self) -> bool {
        self.inner.shared.is_some()
    }

    /// The shared memory's printable URL, or the local database file.
    #[must_use]
    pub fn describe(&self) -> String {
        match &self.inner.shared {
            Some(pg) => pg.url().to_string(),
            None => self.inner.local.path().display().to_string(),
        }
    }

    /// This process's lease owner id (`host:pid:random`).
    #[must_use]
    pub fn owner(&self) -> &str {
        &self.inner.owner
    }

    /// Run `f` on the local file in a blocking task.
    pub(crate) async fn blocking<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Cache) -> Result<T> + Send + 'static,
    {
        let cache = self.inner.local.clone();
        tokio::task::spawn_blocking(move || f(&cache))
            .await
            .map_err(join_err)?
    }

    /// Look `keys` up: one result per key, in order. Local hits cost no round trip.
    ///
    /// # Errors
    /// A cache cannot be read.
    pub async fn lookup(&self, keys: &[CacheKey]) -> Result<Vec<Found>> {
        let owned = keys.to_vec();
        let local = self.blocking(move |c| c.get_many(&owned)).await?;
        let mut found: Vec<Found> = local
            .into_iter()
            .map(|l| match l {
                Lookup::Hit(h) => Found::Hit(h),
                Lookup::Miss => Found::Miss,
                Lookup::Repaired(n) => Found::Repaired(n),
            })
            .collect();
        let misses: Vec<usize> = (0..keys.len())
            .filter(|&i| !matches!(found[i], Found::Hit(_)))
            .collect();
        if misses.is_empty() {
            return Ok(found);
        }
        match &self.inner.shared {
            None => {
                let wanted: Vec<CacheKey> = misses.iter().map(|&i| keys[i].clone()).collect();
                let left = self
                    .blocking(move |c| local::leased(c, &wanted.iter().collect::<Vec<_>>()))
                    .await?;
                for (i, left) in misses.into_iter().zip(left) {
                    if let (Some(d), Found::Miss) = (left, &found[i]) {
                        found[i] = Found::Pending(d);
                    }
                }
            }
            Some(pg) => {
                let ids: Vec<Vec<u8>> = misses
                    .iter()
                    .flat_map(|&i| {
                        let k = &keys[i];
                        [
                            k.id("machine").to_vec(),
                            k.reviewed().id("reviewed").to_vec(),
                        ]
                    })
                    .collect();
                let rows: HashMap<Vec<u8>, super::pg::Row> = pg
                    .lookup(&ids)
                    .await?
                    .into_iter()
                    .map(|r| (r.key.clone(), r))
                    .collect();
                let mut copies = Vec::new();
                for i in misses {
                    let shared = shared_found(&keys[i], &rows);
                    if let Found::Hit(h) = &shared {
                        copies.push((keys[i].clone(), h.clone()));
                    }
                    if !(matches!(shared, Found::Miss) && matches!(found[i], Found::Repaired(_))) {
                        found[i] = shared;
                    }
                }
                if !copies.is_empty() {
                    self.blocking(move |c| local::put_copies(c, &copies))
                        .await?;
                }
            }
        }
        Ok(found)
    }

    /// Claim `keys` for this process for `lease`: `true` for each key now ours to send
    /// (not translated, not held by a live lease of another process). Claiming a key
    /// this process already holds renews it, so a retried claim is safe.
    ///
    /// # Errors
    /// A cache cannot be written.
    pub async fn claim(&self, keys: &[CacheKey], lease: Duration) -> Result<Vec<bool>> {
        let order = sorted(keys);
        let owner = self.inner.owner.clone();
        let held: HashSet<Vec<u8>> = match &self.inner.shared {
            Some(pg) => pg
                .claim(&order.iter().collect::<Vec<_>>(), &owner, lease)
                .await?
                .into_iter()
                .collect(),
            None => {
                let order2 = order.clone();
                let got = self
                    .blocking(move |c| {
                        local::claim(c, &order2.iter().collect::<Vec<_>>(), &owner, lease)
                    })
                    .await?;
                order
                    .iter()
                    .zip(got)
                    .filter(|(_, g)| *g)
                    .map(|(k, _)| k.id("machine").to_vec())
                    .collect()
            }
        };
        Ok(keys
            .iter()
            .map(|k| held.contains(&k.id("machine")[..]))
            .collect())
    }

    /// Store machine answers `(key, translation)`: the first answer stored for a key
    /// wins, a reviewed translation always wins. One result per entry, in order.
    ///
    /// # Errors
    /// A cache cannot be written.
    pub async fn complete(&self, done: &[(CacheKey, String)]) -> Result<Vec<Completed>> {
        let Some(pg) = &self.inner.shared else {
            let owned = done.to_vec();
            let kept = self
                .blocking(move |c| {
                    let refs: Vec<(&CacheKey, &str)> =
                        owned.iter().map(|(k, t)| (k, t.as_str())).collect();
                    local::complete(c, &refs)
                })
                .await?;
            return Ok(kept
                .into_iter()
                .map(|k| k.map_or(Completed::Stored, Completed::Kept))
                .collect());
        };
        let refs: Vec<(&CacheKey, &str)> = done.iter().map(|(k, t)| (k, t.as_str())).collect();
        let rows: HashMap<Vec<u8>, (bool, Option<String>, Option<String>)> = pg
            .complete(&refs)
            .await?
            .into_iter()
            .map(|(k, ours, m, r)| (k, (ours, m, r)))
            .collect();
        let mut out = Vec::with_capacity(done.len());
        let mut unknown = Vec::new();
        for (i, (key, target)) in done.iter().enumerate() {
            let (ours, machine, reviewed) = rows
                .get(&key.id("machine")[..])
                .cloned()
                .unwrap_or_default();
            out.push(match (reviewed, ours, machine) {
                (Some(r), _, _) => Completed::Kept(Hit {
                    target: r,
                    origin: Origin::Reviewed,
                }),
                (None, true, _) => Completed::Stored,
                (None, false, Some(m)) if m != *target => Completed::Kept(Hit {
                    target: m,
                    origin: Origin::Machine,
                }),
                (None, false, Some(_)) => Completed::Stored,
                (None, false, None) => {
                    // Stored by another process after this statement's snapshot.
                    unknown.push(i);
                    Completed::Stored
                }
            });
        }
        if !unknown.is_empty() {
            let keys: Vec<CacheKey> = unknown.iter().map(|&i| done[i].0.clone()).collect();
            for (i, f) in unknown.into_iter().zip(self.lookup(&keys).await?) {
                if let Found::Hit(h) = f
                    && h.target != done[i].1
                {
                    out[i] = Completed::Kept(h);
                }
            }
        }
        let copies: Vec<(CacheKey, Hit)> = done
            .iter()
            .zip(&out)
            .map(|((k, t), c)| {
                let hit = match c {
                    Completed::Stored => Hit {
                        target: t.clone(),
                        origin: Origin::Machine,
                    },
                    Completed::Kept(h) => h.clone(),
                };
                (k.clone(), hit)
            })
            .collect();
        self.blocking(move |c| local::put_copies(c, &copies))
            .await?;
        Ok(out)
    }

    /// Extend this process's leases of `keys`; how many it still held.
    ///
    /// # Errors
    /// A cache cannot be written.
    pub async fn renew(&self, keys: &[CacheKey], lease: Duration) -> Result<usize> {
        let order = sorted(keys);
        let owner = self.inner.owner.clone();
        match &self.inner.shared {
            Some(pg) => {
                pg.renew(&order.iter().collect::<Vec<_>>(), &owner, lease)
                    .await
            }
            None => {
                self.blocking(move |c| {
                    local::renew(c, &order.iter().collect::<Vec<_>>(), &owner, lease)
                })
                .await
            }
        }
    }

    /// Give back this process's leases of `keys` (a request failed, the run stops):
    /// another process may claim them at once.
    ///
    /// # Errors
    /// A cache cannot be written.
    pub async fn release(&self, keys: &[CacheKey]) -> Result<()> {
        let order = sorted(keys);
        let owner = self.inner.owner.clone();
        match &self.inner.shared {
            Some(pg) => pg.release(&order.iter().collect::<Vec<_>>(), &owner).await,
            None => {
                self.blocking(move |c| local::release(c, &order.iter().collect::<Vec<_>>(), &owner))
                    .await
            }
        }
    }

    /// Keep this process's leases of `keys` alive in the background (renewed every
    /// third of `lease`) until the returned guard is dropped.
    ///
    /// # Panics
    /// Outside a tokio runtime (it spawns the renewing task).
    #[must_use]
    pub fn hold(&self, keys: Vec<CacheKey>, lease: Duration) -> Held {
        let store = self.clone();
        let every = lease / 3;
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                match store.renew(&keys, lease).await {
                    Ok(n) if n < keys.len() => {
                        tracing::debug!("{} of {} leases were lost", keys.len() - n, keys.len());
                    }
                    Ok(_) => {}
                    Err(e) => tracing::debug!("renewing leases: {e}"),
                }
            }
        });
        Held { task }
    }

    /// Store human corrections as reviewed translations (all or none), keyed without
    /// provider and options; a later correction of a text replaces an earlier one.
    ///
    /// # Errors
    /// A cache cannot be written.
    pub async fn put_reviewed(&self, entries: &[(CacheKey, String)]) -> Result<()> {
        if let Some(pg) = &self.inner.shared {
            pg.put_reviewed(entries).await?;
        }
        let owned = entries.to_vec();
        self.blocking(move |c| c.put_reviewed(&owned)).await
    }

    /// Every machine translation held for each `(from, to, text)`, in the local cache
    /// and the shared memory (see [`Cache::machine_targets`]).
    ///
    /// # Errors
    /// A cache cannot be read.
    pub async fn machine_targets(
        &self,
        texts: &[(String, String, String)],
    ) -> Result<Vec<Vec<String>>> {
        let owned = texts.to_vec();
        let mut found = self.blocking(move |c| c.machine_targets(&owned)).await?;
        if let Some(pg) = &self.inner.shared {
            let rkeys: Vec<Vec<u8>> = texts
                .iter()
                .map(|(f, t, x)| CacheKey::new("", "", f, t, x).id("reviewed").to_vec())
                .collect();
            let mut at: HashMap<&[u8], Vec<usize>> = HashMap::new();
            for (i, k) in rkeys.iter().enumerate() {
                at.entry(k.as_slice()).or_default().push(i);
            }
            for (rkey, target) in pg.machine_targets(&rkeys).await? {
                for &i in at.get(rkey.as_slice()).into_iter().flatten() {
                    if !found[i].contains(&target) {
                        found[i].push(target.clone());
                    }
                }
            }
        }
        Ok(found)
    }

    /// Copy the reviewed entries the shared memory changed since the last time into
    /// the local file; how many.
    async fn sync_reviewed(&self) -> Result<usize> {
        let Some(pg) = &self.inner.shared else {
            return Ok(0);
        };
        let source = pg.url().to_string();
        let src = source.clone();
        let since_ms = self.blocking(move |c| local::synced(c, &src)).await?;
        let mut since_us = ((since_ms - SYNC_MARGIN_MS).max(0.0) * 1000.0) as i64;
        let mut after: Vec<u8> = Vec::new();
        let mut total = 0;
        loop {
            let page = pg.reviewed_since(since_us, &after, 1000).await?;
            let Some((_, last_us, last_key)) = page.last() else {
                break;
            };
            (since_us, after) = (*last_us, last_key.clone());
            let full = page.len() == 1000;
            total += page.len();
            let copies: Vec<(CacheKey, Hit)> = page
                .into_iter()
                .map(|(e, _, _)| {
                    let hit = Hit {
                        target: e.target,
                        origin: Origin::Reviewed,
                    };
                    (e.key, hit)
                })
                .collect();
            let (src, upto) = (source.clone(), since_us as f64 / 1000.0);
            self.blocking(move |c| {
                local::put_copies(c, &copies)?;
                local::set_synced(c, &src, upto)
            })
            .await?;
            if !full {
                break;
            }
        }
        Ok(total)
    }

    /// A pacer for `bucket` at `rate`, shared by every process using the same store.
    #[must_use]
    pub fn pacer(&self, bucket: Bucket, rate: Rate) -> Pacer {
        Pacer {
            store: self.clone(),
            bucket,
            rate,
        }
    }

    /// A daily character allowance for `bucket` (`None`: count without a limit).
    #[must_use]
    pub fn allowance(&self, bucket: Bucket, daily_limit: Option<u64>) -> Allowance {
        Allowance {
            store: self.clone(),
            bucket,
            limit: daily_limit.unwrap_or(u64::MAX),
        }
    }

    pub(crate) fn shared(&self) -> Option<&Pg> {
        self.inner.shared.as_ref()
    }
}

/// Renews leases in the background while alive ([`Store::hold`]).
pub struct Held {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How long to wait before looking at a pending paragraph again, the `n`-th time
/// (from 0), when its lease runs `remaining` longer: a quarter second, doubling up to
/// 5 s, and never much past the lease's end, so a dead holder's paragraph is taken
/// over soon after its lease expires.
#[must_use]
pub fn poll_after(remaining: Duration, n: u32) -> Duration {
    let backoff = Duration::from_millis(250).saturating_mul(1 << n.min(5));
    backoff
        .min(Duration::from_secs(5))
        .min(remaining + Duration::from_millis(100))
}

/// Which pacer and allowance a request counts against: a service (the provider's name)
/// and an account, a hash of the API key (never the key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bucket {
    /// The service.
    pub service: String,
    /// 16 hex digits of a keyed BLAKE3 hash of the key; empty without a key.
    pub account: String,
}

impl Bucket {
    /// The bucket of `service` used with `key` (`None` for a keyless service).
    #[must_use]
    pub fn new(service: &str, key: Option<&str>) -> Bucket {
        let account = key
            .filter(|k| !k.is_empty())
            .map(|k| {
                let h = blake3::derive_key("tarjama 2025 shared pacer account", k.as_bytes());
                h[..8].iter().map(|b| format!("{b:02x}")).collect()
            })
            .unwrap_or_default();
        Bucket {
            service: service.to_string(),
            account,
        }
    }
}

/// A configured request rate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    /// Requests per second.
    pub rps: f64,
    /// Requests that may leave at once after a quiet spell.
    pub burst: u32,
}

impl Rate {
    fn interval_ms(self) -> f64 {
        1000.0 / self.rps.max(crate::config::MIN_RPS)
    }
}

/// A reserved request slot.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Permit {
    /// How long to wait before sending.
    pub wait: Duration,
    /// When the slot is, in milliseconds since 1970 on the database's clock (for tests
    /// and logs; a client waits `wait` on its own clock).
    pub slot_ms: f64,
    /// The pacer's epoch when the slot was given: hand it back with a 429.
    pub epoch: i64,
}

/// The slot a pacer row gives (GCRA, "virtual scheduling", as a reservation):
/// the next request may leave `burst` intervals before the theoretical arrival time
/// (`tat`, already advanced by this request's interval), and not before now.
#[must_use]
pub fn slot((seen_ms, tat_ms, step_ms, epoch): local::PacerRow, burst: u32) -> Permit {
    let slot_ms = seen_ms.max(tat_ms - f64::from(burst.max(1)) * step_ms);
    Permit {
        wait: Duration::from_secs_f64(((slot_ms - seen_ms) / 1000.0).max(0.0)),
        slot_ms,
        epoch,
    }
}

/// One bucket's shared request rate.
#[derive(Clone)]
pub struct Pacer {
    store: Store,
    bucket: Bucket,
    rate: Rate,
}

impl std::fmt::Debug for Pacer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pacer")
            .field("bucket", &self.bucket)
            .field("rate", &self.rate)
            .finish_non_exhaustive()
    }
}

impl Pacer {
    /// Reserve the next slot: one round trip (or one SQLite write); returns how long
    /// to wait, on the database's clock only.
    ///
    /// # Errors
    /// A cache cannot be written.
    pub async fn reserve(&self) -> Result<Permit> {
        let floor = self.rate.interval_ms();
        let (service, account) = (self.bucket.service.clone(), self.bucket.account.clone());
        let row = match self.store.shared() {
            Some(pg) => pg.pace(&service, &account, floor).await?,
            None => {
                self.store
                    .blocking(move |c| local::pace(c, &service, &account, floor))
                    .await?
            }
        };
        Ok(slot(row, self.rate.burst))
    }

    /// Reserve the next slot and sleep until it.
    ///
    /// # Errors
    /// A cache cannot be written.
    pub async fn until_ready(&self) -> Result<Permit> {
        let permit = self.reserve().await?;
        tokio::time::sleep(permit.wait).await;
        Ok(permit)
    }

    /// A 429 for the request sent with `permit`: the first one of its epoch
    /// multiplies the interval by [`SLOWDOWN`] for every process (multiplicative decrease; the rate creeps back
    /// by [`RECOVER_STEP`] of the configured one every [`RECOVER_AFTER`] without one),
    /// and the next slot is at least `retry_after` away.
    ///
    /// # Errors
    /// A cache cannot be written.
    pub async fn throttled(&self, permit: &Permit, retry_after: Option<Duration>) -> Result<()> {
        let floor = self.rate.interval_ms();
        let pause = retry_after.unwrap_or_default();
        let epoch = permit.epoch;
        let (service, account) = (self.bucket.service.clone(), self.bucket.account.clone());
        match self.store.shared() {
            Some(pg) => pg.throttled(&service, &account, floor, epoch, pause).await,
            None => {
                self.store
                    .blocking(move |c| local::throttled(c, &service, &account, floor, epoch, pause))
                    .await
            }
        }
    }
}

/// What counting characters against an allowance gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Take {
    /// Counted; this many are used today.
    Taken {
        /// Characters used today, these included.
        used: u64,
    },
    /// Not counted: they do not fit in what is left today.
    Exhausted {
        /// Characters used today.
        used: u64,
    },
}

/// One bucket's characters per UTC day, shared by every process using the store.
#[derive(Clone)]
pub struct Allowance {
    store: Store,
    bucket: Bucket,
    limit: u64,
}

impl Allowance {
    /// Count `chars` if they fit under today's limit.
    ///
    /// # Errors
    /// A cache cannot be written.
    pub async fn take(&self, chars: u64) -> Result<Take> {
        let (service, account, limit) = (
            self.bucket.service.clone(),
            self.bucket.account.clone(),
            self.limit,
        );
        let got = match self.store.shared() {
            Some(pg) => pg.take(&service, &account, chars, limit).await?,
            None => {
                self.store
                    .blocking(move |c| local::take(c, &service, &account, chars, limit))
                    .await?
            }
        };
        Ok(match got {
            Some(used) => Take::Taken { used },
            None => Take::Exhausted {
                used: self.used().await?,
            },
        })
    }

    /// Give back `chars` counted for a request that failed.
    ///
    /// # Errors
    /// A cache cannot be written.
    pub async fn refund(&self, chars: u64) -> Result<()> {
        let (service, account) = (self.bucket.service.clone(), self.bucket.account.clone());
        match self.store.shared() {
            Some(pg) => pg.refund(&service, &account, chars).await,
            None => {
                self.store
                    .blocking(move |c| local::refund(c, &service, &account, chars))
                    .await
            }
        }
    }

    /// Characters counted today (UTC).
    ///
    /// # Errors
    /// A cache cannot be read.
    pub async fn used(&self) -> Result<u64> {
        let (service, account) = (self.bucket.service.clone(), self.bucket.account.clone());
        match self.store.shared() {
            Some(pg) => pg.used(&service, &account).await,
            None => {
                self.store
                    .blocking(move |c| local::used(c, &service, &account))
                    .await
            }
        }
    }
}

/// What the shared memory says about `key`, from its rows: a reviewed translation of
/// the text first, then the machine row (done, leased, or expired).
fn shared_found(key: &CacheKey, rows: &HashMap<Vec<u8>, super::pg::Row>) -> Found {
    let rkey = key.reviewed();
    if let Some(r) = rows.get(&rkey.id("reviewed")[..])
        && r.fields == rkey
        && let Some(t) = &r.target
    {
        return Found::Hit(Hit {
            target: t.clone(),
            origin: Origin::Reviewed,
        });
    }
    let Some(r) = rows
        .get(&key.id("machine")[..])
        .filter(|r| r.fields == *key)
    else {
        return Found::Miss;
    };
    match (&r.target, r.lease_left_ms) {
        (Some(t), _) if !t.trim().is_empty() => Found::Hit(Hit {
            target: t.clone(),
            origin: Origin::Machine,
        }),
        (None, Some(ms)) if ms > 0.0 => Found::Pending(Duration::from_secs_f64(ms / 1000.0)),
        _ => Found::Miss,
    }
}

/// The distinct keys in key-id order (the lock order).
fn sorted(keys: &[CacheKey]) -> Vec<CacheKey> {
    let mut v: Vec<([u8; 32], CacheKey)> =
        keys.iter().map(|k| (k.id("machine"), k.clone())).collect();
    v.sort_by_key(|a| a.0);
    v.dedup_by(|a, b| a.0 == b.0);
    v.into_iter().map(|(_, k)| k).collect()
}

/// `host:pid:random`: who holds a lease, readable by whoever looks at the table.
fn owner_id() -> String {
    format!(
        "{}:{}:{:08x}",
        host_name(),
        std::process::id(),
        rand::random::<u32>()
    )
}

fn host_name() -> String {
    fs_err::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into())
}

/// Whether the lease owner `owner` ([`owner_id`]) is a process of this machine that
/// is gone (killed, crashed): its leases need not run out before another process
/// takes them over. Known only where `/proc` lists processes (Linux); elsewhere, and
/// for another machine's process, `false`: its lease runs out.
pub(crate) fn owner_is_gone(owner: &str) -> bool {
    let mut parts = owner.rsplitn(3, ':');
    let (Some(_), Some(pid), Some(host)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    let proc = Path::new("/proc");
    host == host_name()
        && pid != std::process::id()
        && proc.join("self").exists()
        && !proc.join(pid.to_string()).exists()
}

fn join_err(e: tokio::task::JoinError) -> Error {
    Error::other("a cache task stopped", e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_follow_gcra() {
        // A fresh row: the first request goes now.
        let p = slot((1000.0, 1100.0, 100.0, 0), 1);
        assert_eq!((p.wait, p.slot_ms), (Duration::ZERO, 1000.0));
        // Queued behind four others at 10/s, burst 1: 400 ms later.
        let p = slot((1000.0, 1500.0, 100.0, 3), 1);
        assert_eq!(
            (p.wait, p.slot_ms, p.epoch),
            (Duration::from_millis(400), 1400.0, 3)
        );
        // Burst 3: two of those four could leave at once.
        assert_eq!(
            slot((1000.0, 1500.0, 100.0, 0), 3).wait,
            Duration::from_millis(200)
        );
    }

    #[test]
    fn pending_paragraphs_are_polled_sooner_than_their_lease_ends() {
        let s = Duration::from_secs;
        assert_eq!(poll_after(s(60), 0), Duration::from_millis(250));
        assert_eq!(poll_after(s(60), 3), s(2));
        assert_eq!(poll_after(s(60), 30), s(5));
        assert_eq!(
            poll_after(Duration::from_millis(50), 4),
            Duration::from_millis(150)
        );
    }

    #[test]
    fn buckets_name_the_key_by_a_hash() {
        let a = Bucket::new("deepl", Some("secret-key-1234:fx"));
        assert_eq!((a.service.as_str(), a.account.len()), ("deepl", 16));
        assert!(!a.account.contains("1234"));
        assert_eq!(a, Bucket::new("deepl", Some("secret-key-1234:fx")));
        assert_ne!(a.account, Bucket::new("deepl", Some("other")).account);
        assert_eq!(Bucket::new("mymemory", None).account, "");
    }
}
