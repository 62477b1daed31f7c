//! The store's protocol, the same test body on both backends: the local SQLite file
//! shared by several "processes" (stores opened on one `--cache-dir`, each with its
//! own connection and owner id) and a real PostgreSQL shared by several "machines"
//! (stores with a `--cache-dir` each and one URL, each test in a schema of its own).
//!
//! The PostgreSQL half needs `TARJAMA_TEST_PG` (`.ci/postgres-setup` starts a server);
//! without it those tests say why and pass, unless `CI` is set. Nothing here measures
//! wall-clock time: the pacer is checked on the schedule it returns, in the database's
//! clock.

use crate::common;

use std::collections::HashMap;
use std::time::Duration;

use common::pg;
use tarjama::cache::{
    Bucket, Cache, CacheKey, CacheUrl, Completed, Found, Hit, Lookup, Origin, Rate, SLOWDOWN,
    Store, Take,
};
use tarjama::secret::Keyring;

/// Patience with an unreachable database in these tests.
const PATIENCE: Duration = Duration::from_secs(20);

/// Where the stores of one test live.
struct Backend {
    /// `None`: SQLite only, every store on `dirs[0]`.
    url: Option<CacheUrl>,
    base: tempfile::TempDir,
    opened: std::sync::atomic::AtomicUsize,
}

impl Backend {
    fn sqlite() -> Backend {
        Backend {
            url: None,
            base: tempfile::tempdir().unwrap(),
            opened: Default::default(),
        }
    }

    async fn postgres() -> Option<Backend> {
        let base = pg::base_url()?;
        let (url, _) = pg::fresh_schema(&base).await;
        Some(Backend {
            url: Some(CacheUrl::parse(&url).unwrap()),
            base: tempfile::tempdir().unwrap(),
            opened: Default::default(),
        })
    }

    /// Another process: on SQLite the same cache directory; on PostgreSQL another
    /// machine, with a local cache of its own.
    async fn open(&self) -> Store {
        let n = self
            .opened
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = match self.url {
            None => self.base.path().join("cache"),
            Some(_) => self.base.path().join(format!("machine{n}")),
        };
        Store::open_with(&dir, self.url.as_ref(), &Keyring::mock(), PATIENCE)
            .await
            .unwrap()
            .0
    }
}

/// Run each test body on both backends.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::sqlite()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(b) = super::Backend::postgres().await {
                        super::$name(b).await;
                    }
                }
            )*
        }
    };
}

on_both_backends!(
    concurrent_claims_never_give_a_key_to_two_owners,
    a_translated_key_cannot_be_claimed,
    an_expired_lease_is_taken_over_by_exactly_one_waiter,
    first_answer_wins_and_reviewed_is_never_overwritten,
    pending_says_how_long_and_release_frees_at_once,
    pacer_gives_at_most_the_rate_to_concurrent_acquirers,
    a_429_slows_every_holder_of_the_bucket,
    daily_allowance_is_counted_across_processes,
);

fn key(i: usize) -> CacheKey {
    CacheKey::new(
        "libretranslate",
        "format=text",
        "ar",
        "en",
        &format!("فقرة رقم {i}"),
    )
}

fn hit(target: &str, origin: Origin) -> Found {
    Found::Hit(Hit {
        target: target.into(),
        origin,
    })
}

async fn concurrent_claims_never_give_a_key_to_two_owners(b: Backend) {
    const KEYS: usize = 120;
    let keys: Vec<CacheKey> = (0..KEYS).map(key).collect();
    let mut stores = Vec::new();
    for _ in 0..4 {
        stores.push(b.open().await);
    }
    let mut tasks = Vec::new();
    for (n, store) in stores.into_iter().enumerate() {
        let mut mine = keys.clone();
        // Each process claims every key, in its own order, in documents of 10.
        mine.rotate_left(n * 37 % KEYS);
        if n % 2 == 1 {
            mine.reverse();
        }
        tasks.push(tokio::spawn(async move {
            let mut owned = Vec::new();
            for doc in mine.chunks(10) {
                let got = store.claim(doc, Duration::from_secs(60)).await.unwrap();
                owned.extend(
                    doc.iter()
                        .zip(got)
                        .filter(|(_, g)| *g)
                        .map(|(k, _)| k.text.clone()),
                );
            }
            owned
        }));
    }
    let mut owner: HashMap<String, usize> = HashMap::new();
    for (n, t) in tasks.into_iter().enumerate() {
        for text in t.await.unwrap() {
            if let Some(other) = owner.insert(text.clone(), n) {
                panic!("{text} was given to processes {other} and {n}");
            }
        }
    }
    assert_eq!(owner.len(), KEYS, "every key has exactly one owner");
}

async fn a_translated_key_cannot_be_claimed(b: Backend) {
    let (a, c) = (b.open().await, b.open().await);
    let k = key(1);
    assert_eq!(
        a.claim(std::slice::from_ref(&k), Duration::from_secs(60))
            .await
            .unwrap(),
        [true]
    );
    assert_eq!(
        a.complete(&[(k.clone(), "paragraph one".into())])
            .await
            .unwrap(),
        [Completed::Stored]
    );
    for s in [&a, &c] {
        assert_eq!(
            s.claim(std::slice::from_ref(&k), Duration::from_secs(60))
                .await
                .unwrap(),
            [false]
        );
        assert_eq!(
            s.lookup(std::slice::from_ref(&k)).await.unwrap(),
            [hit("paragraph one", Origin::Machine)]
        );
    }
}

async fn an_expired_lease_is_taken_over_by_exactly_one_waiter(b: Backend) {
    let dead = b.open().await;
    let keys: Vec<CacheKey> = (0..5).map(key).collect();
    let lease = Duration::from_millis(400);
    assert_eq!(dead.claim(&keys, lease).await.unwrap(), [true; 5]);
    let mut waiters = Vec::new();
    for _ in 0..4 {
        waiters.push(b.open().await);
    }
    // The holder "dies": nobody renews its leases. The waiters look until they expire.
    let mut n = 0;
    loop {
        let found = waiters[0].lookup(&keys).await.unwrap();
        if found.iter().all(|f| *f == Found::Miss) {
            break;
        }
        for f in &found {
            let Found::Pending(left) = f else {
                panic!("expected pending, got {f:?}")
            };
            assert!(*left <= lease, "{left:?}");
        }
        tokio::time::sleep(tarjama::cache::store::poll_after(
            Duration::from_millis(100),
            n,
        ))
        .await;
        n += 1;
    }
    let tasks: Vec<_> = waiters
        .iter()
        .cloned()
        .map(|w| {
            let keys = keys.clone();
            tokio::spawn(async move { w.claim(&keys, Duration::from_secs(60)).await.unwrap() })
        })
        .collect();
    let mut winners = vec![0; keys.len()];
    for t in tasks {
        for (i, got) in t.await.unwrap().into_iter().enumerate() {
            winners[i] += usize::from(got);
        }
    }
    assert_eq!(
        winners, [1; 5],
        "each expired key goes to exactly one waiter"
    );
    // The "dead" holder was only slow: its late answer is the first stored and wins;
    // the waiter's answer that comes after it is not stored.
    assert_eq!(
        dead.complete(&[(keys[0].clone(), "late but first".into())])
            .await
            .unwrap(),
        [Completed::Stored]
    );
    for w in &waiters {
        let got = w
            .complete(&[(keys[0].clone(), "second".into())])
            .await
            .unwrap();
        assert_eq!(
            got,
            [Completed::Kept(Hit {
                target: "late but first".into(),
                origin: Origin::Machine
            })]
        );
    }
}

async fn first_answer_wins_and_reviewed_is_never_overwritten(b: Backend) {
    let (a, c) = (b.open().await, b.open().await);
    let k = key(7);
    // Two processes answer the same paragraph (neither claimed it): the first stored wins.
    assert_eq!(
        a.complete(&[(k.clone(), "first".into())]).await.unwrap(),
        [Completed::Stored]
    );
    assert_eq!(
        c.complete(&[(k.clone(), "second".into())]).await.unwrap(),
        [Completed::Kept(Hit {
            target: "first".into(),
            origin: Origin::Machine
        })]
    );
    // A correction, stored without provider and options, beats every machine answer.
    c.put_reviewed(&[(k.clone(), "Reviewed.".into())])
        .await
        .unwrap();
    let other_provider = CacheKey::new("deepl", "formality=default", "ar", "en", &k.text);
    for s in [&a, &c] {
        assert_eq!(
            s.complete(&[(other_provider.clone(), "machine again".into())])
                .await
                .unwrap(),
            [Completed::Kept(Hit {
                target: "Reviewed.".into(),
                origin: Origin::Reviewed
            })]
        );
    }
    let fresh = b.open().await;
    for s in [&a, &c, &fresh] {
        assert_eq!(
            s.lookup(&[k.clone(), other_provider.clone()])
                .await
                .unwrap(),
            [
                hit("Reviewed.", Origin::Reviewed),
                hit("Reviewed.", Origin::Reviewed)
            ]
        );
        assert_eq!(
            s.claim(std::slice::from_ref(&k), Duration::from_secs(60))
                .await
                .unwrap(),
            [false]
        );
    }
    // Import's rule sees the machine answers of every provider, wherever stored.
    let mut seen = fresh
        .machine_targets(&[("ar".into(), "en".into(), k.text.clone())])
        .await
        .unwrap()
        .remove(0);
    seen.sort();
    assert_eq!(seen, ["first", "machine again"]);
}

async fn pending_says_how_long_and_release_frees_at_once(b: Backend) {
    let (a, c) = (b.open().await, b.open().await);
    let keys = [key(1), key(2)];
    assert_eq!(
        a.claim(&keys, Duration::from_secs(60)).await.unwrap(),
        [true, true]
    );
    // Claiming again (a retried call) keeps what it holds.
    assert_eq!(
        a.claim(&keys, Duration::from_secs(60)).await.unwrap(),
        [true, true]
    );
    for f in c.lookup(&keys).await.unwrap() {
        let Found::Pending(left) = f else {
            panic!("{f:?}")
        };
        assert!(
            left > Duration::from_secs(30) && left <= Duration::from_secs(60),
            "{left:?}"
        );
    }
    assert_eq!(
        c.claim(&keys, Duration::from_secs(60)).await.unwrap(),
        [false, false]
    );
    assert_eq!(a.renew(&keys, Duration::from_secs(90)).await.unwrap(), 2);
    assert_eq!(
        c.renew(&keys, Duration::from_secs(90)).await.unwrap(),
        0,
        "not c's to renew"
    );
    c.release(&keys).await.unwrap(); // not c's: nothing happens
    assert!(matches!(
        c.lookup(&keys).await.unwrap()[0],
        Found::Pending(_)
    ));
    a.release(&keys[..1]).await.unwrap();
    assert_eq!(c.lookup(&keys).await.unwrap()[0], Found::Miss);
    assert_eq!(
        c.claim(&keys, Duration::from_secs(60)).await.unwrap(),
        [true, false]
    );
}

async fn pacer_gives_at_most_the_rate_to_concurrent_acquirers(b: Backend) {
    const RPS: f64 = 20.0;
    let bucket = Bucket::new("deepl", Some("the-same-key:fx"));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let pacer = b
            .open()
            .await
            .pacer(bucket.clone(), Rate { rps: RPS, burst: 1 });
        tasks.push(tokio::spawn(async move {
            let mut slots = Vec::new();
            for _ in 0..10 {
                slots.push(pacer.reserve().await.unwrap().slot_ms);
            }
            slots
        }));
    }
    let mut slots = Vec::new();
    for t in tasks {
        slots.extend(t.await.unwrap());
    }
    slots.sort_by(f64::total_cmp);
    let interval = 1000.0 / RPS;
    for w in slots.windows(2) {
        assert!(
            w[1] - w[0] >= interval - 0.01,
            "slots {} and {} closer than {interval} ms",
            w[0],
            w[1]
        );
    }
    for (i, s) in slots.iter().enumerate() {
        let in_a_second = slots[i..].iter().take_while(|t| **t < s + 1000.0).count();
        assert!(
            in_a_second as f64 <= RPS,
            "{in_a_second} slots in one second"
        );
    }
    // Another key is another bucket: not queued behind these.
    let other = b.open().await.pacer(
        Bucket::new("deepl", Some("another-key")),
        Rate { rps: RPS, burst: 1 },
    );
    assert_eq!(other.reserve().await.unwrap().wait, Duration::ZERO);
}

async fn a_429_slows_every_holder_of_the_bucket(b: Backend) {
    let bucket = Bucket::new("libretranslate", Some("shared-key"));
    let rate = Rate {
        rps: 10.0,
        burst: 1,
    };
    let (a, c) = (
        b.open().await.pacer(bucket.clone(), rate),
        b.open().await.pacer(bucket, rate),
    );
    let p1 = a.reserve().await.unwrap();
    let p2 = c.reserve().await.unwrap();
    assert!(p2.slot_ms - p1.slot_ms >= 99.99);
    // a's request gets 429 with Retry-After: 2.
    a.throttled(&p1, Some(Duration::from_secs(2)))
        .await
        .unwrap();
    // c's next slot is two seconds on (less what c already waited in the queue), and
    // from then on slots are SLOWDOWN times as far apart, for both.
    let p3 = c.reserve().await.unwrap();
    assert!(
        p3.slot_ms - p2.slot_ms >= 1900.0,
        "{} then {}",
        p2.slot_ms,
        p3.slot_ms
    );
    let p4 = a.reserve().await.unwrap();
    assert!(
        p4.slot_ms - p3.slot_ms >= 100.0 * SLOWDOWN - 0.01,
        "{} then {}",
        p3.slot_ms,
        p4.slot_ms
    );
    // c's 429 for a request of the same epoch is the same problem: no second slowdown.
    c.throttled(&p2, None).await.unwrap();
    let p5 = c.reserve().await.unwrap();
    let p6 = a.reserve().await.unwrap();
    assert!(
        (p6.slot_ms - p5.slot_ms - 100.0 * SLOWDOWN).abs() < 0.5,
        "{} then {}",
        p5.slot_ms,
        p6.slot_ms
    );
    assert!(p6.epoch > p1.epoch);
}

async fn daily_allowance_is_counted_across_processes(b: Backend) {
    let bucket = Bucket::new("mymemory", None);
    let (a, c) = (
        b.open().await.allowance(bucket.clone(), Some(100)),
        b.open().await.allowance(bucket, Some(100)),
    );
    assert_eq!(a.take(30).await.unwrap(), Take::Taken { used: 30 });
    assert_eq!(c.take(60).await.unwrap(), Take::Taken { used: 90 });
    assert_eq!(a.take(20).await.unwrap(), Take::Exhausted { used: 90 });
    c.refund(60).await.unwrap();
    assert_eq!(a.take(20).await.unwrap(), Take::Taken { used: 50 });
    assert_eq!(c.used().await.unwrap(), 50);
    let other = b
        .open()
        .await
        .allowance(Bucket::new("mymemory", Some("k")), None);
    assert_eq!(
        other.take(1_000_000).await.unwrap(),
        Take::Taken { used: 1_000_000 }
    );
    assert_eq!(a.take(101).await.unwrap(), Take::Exhausted { used: 50 });
}

// ---- PostgreSQL only ----

/// A shared hit is copied into the local file, and from then on served with the
/// database out of reach; a correction made elsewhere reaches a machine that already
/// had the machine translation when its store opens again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_hits_are_copied_locally_and_corrections_reach_every_machine() {
    let Some(base) = pg::base_url() else { return };
    let (url, _) = pg::fresh_schema(&base).await;
    let port = pg::free_port();
    let relay = pg::Relay::start(port, pg::server_addr(&url)).await;
    let relayed = CacheUrl::parse(&pg::via_port(&url, port)).unwrap();
    let direct = CacheUrl::parse(&url).unwrap();
    let dirs = tempfile::tempdir().unwrap();
    let (a_dir, b_dir) = (dirs.path().join("a"), dirs.path().join("b"));
    let kr = Keyring::mock();
    let (a, _) = Store::open_with(&a_dir, Some(&direct), &kr, PATIENCE)
        .await
        .unwrap();
    let k = key(3);
    a.complete(&[(k.clone(), "machine".into())]).await.unwrap();
    let (b, _) = Store::open_with(&b_dir, Some(&relayed), &kr, Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(
        b.lookup(std::slice::from_ref(&k)).await.unwrap(),
        [hit("machine", Origin::Machine)]
    );
    relay.cut().await;
    // Served from b's own file: no round trip, so no error with the database away.
    assert_eq!(
        b.lookup(std::slice::from_ref(&k)).await.unwrap(),
        [hit("machine", Origin::Machine)]
    );
    assert_eq!(
        Cache::open(&b_dir).unwrap().get(&k).unwrap(),
        Lookup::Hit(Hit {
            target: "machine".into(),
            origin: Origin::Machine
        })
    );
    drop(b);
    // A correction made on machine a ...
    a.put_reviewed(&[(k.clone(), "Corrected.".into())])
        .await
        .unwrap();
    // ... is what machine b serves once its store opens again.
    let (b, _) = Store::open_with(&b_dir, Some(&direct), &kr, PATIENCE)
        .await
        .unwrap();
    assert_eq!(
        b.lookup(std::slice::from_ref(&k)).await.unwrap(),
        [hit("Corrected.", Origin::Reviewed)]
    );
}

/// The database away at start and in mid-run: operations pause and carry on once it
/// is back; away past the patience, the error says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_pauses_operations_until_it_is_back() {
    let Some(base) = pg::base_url() else { return };
    let (url, _) = pg::fresh_schema(&base).await;
    let port = pg::free_port();
    let relayed = CacheUrl::parse(&pg::via_port(&url, port)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let opening = {
        let (relayed, dir) = (relayed.clone(), dir.path().to_path_buf());
        tokio::spawn(async move {
            Store::open_with(&dir, Some(&relayed), &Keyring::mock(), PATIENCE).await
        })
    };
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(!opening.is_finished(), "the store waits for the database");
    let relay = pg::Relay::start(port, pg::server_addr(&url)).await;
    let (store, _) = opening.await.unwrap().unwrap();
    let k = key(9);
    assert_eq!(
        store
            .claim(std::slice::from_ref(&k), Duration::from_secs(60))
            .await
            .unwrap(),
        [true]
    );
    // Mid-run: every connection dropped; the next operation reconnects after a pause.
    relay.cut().await;
    let completing = {
        let (store, k) = (store.clone(), k.clone());
        tokio::spawn(async move { store.complete(&[(k, "after the outage".into())]).await })
    };
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let relay = pg::Relay::start(port, pg::server_addr(&url)).await;
    assert_eq!(completing.await.unwrap().unwrap(), [Completed::Stored]);
    relay.cut().await;
    // Away for good: after the patience, an error naming the URL without password.
    let (short, _) = {
        let relay = pg::Relay::start(port, pg::server_addr(&url)).await;
        let s = Store::open_with(
            dir.path(),
            Some(&relayed),
            &Keyring::mock(),
            Duration::from_secs(1),
        )
        .await
        .unwrap();
        relay.cut().await;
        s
    };
    let err = short
        .claim(&[key(10)], Duration::from_secs(60))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unreachable") && err.contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
}

/// A schema written by a newer tarjama is refused with a clear error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_schema_is_refused() {
    let Some(base) = pg::base_url() else { return };
    let (url, schema) = pg::fresh_schema(&base).await;
    let url = CacheUrl::parse(&url).unwrap();
    let dir = tempfile::tempdir().unwrap();
    Store::open_with(dir.path(), Some(&url), &Keyring::mock(), PATIENCE)
        .await
        .unwrap();
    pg::admin(&base)
        .await
        .batch_execute(&format!("UPDATE {schema}.tarjama_schema SET version = 99"))
        .await
        .unwrap();
    let err = match Store::open_with(dir.path(), Some(&url), &Keyring::mock(), PATIENCE).await {
        Ok(_) => panic!("a version 99 schema was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("version 99") && err.contains("upgrade tarjama"),
        "{err}"
    );
}

/// A wrong password is refused with an error that shows neither it nor the URL's
/// password part; the right one (from the URL or the keyring) works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_never_appears_in_the_error() {
    let Some(base) = pg::base_url() else { return };
    let (url, schema) = pg::fresh_schema(&base).await;
    let role = format!("r_{schema}");
    pg::admin(&base)
        .await
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN PASSWORD 'Right-Pass-4417';
             GRANT ALL ON SCHEMA {schema} TO {role};
             GRANT CONNECT ON DATABASE tarjama_test TO {role};"
        ))
        .await
        .unwrap();
    let as_role = |password: &str| {
        let u = url.replacen("postgres@", &format!("{role}{password}@"), 1);
        CacheUrl::parse(&u).unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let wrong = as_role(":Wrong-Pass-9921");
    assert_eq!(
        wrong.to_string(),
        format!("postgres://{role}@{}/tarjama_test", pg::server_addr(&url))
    );
    let err = match Store::open_with(dir.path(), Some(&wrong), &Keyring::mock(), PATIENCE).await {
        Ok(_) => panic!("a wrong password was accepted"),
        Err(e) => format!("{e} {e:?}"),
    };
    assert!(
        !err.contains("Wrong-Pass-9921") && !err.contains("Right-Pass"),
        "{err}"
    );
    assert!(
        err.contains("password authentication failed") && err.contains("the URL"),
        "{err}"
    );
    Store::open_with(
        dir.path(),
        Some(&as_role(":Right-Pass-4417")),
        &Keyring::mock(),
        PATIENCE,
    )
    .await
    .unwrap();
    let kr = Keyring::mock();
    kr.set(
        tarjama::secret::CACHE_USER,
        &tarjama::secret::ApiKey::new("Right-Pass-4417"),
    )
    .unwrap();
    let (store, _) = Store::open_with(dir.path(), Some(&as_role("")), &kr, PATIENCE)
        .await
        .unwrap();
    assert!(!store.describe().contains("Right-Pass"));
}
