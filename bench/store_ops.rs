//! How fast the store's protocol runs, per backend: `cargo run --release --example
//! store_ops [N]` (N paragraphs, default 2000). Four stores ("processes") work at once
//! on overlapping documents of 20 paragraphs: lookup, claim, pacer reserve, complete,
//! as a run does per request. Prints paragraphs per second for the SQLite file shared
//! by the four, and for PostgreSQL when `TARJAMA_TEST_PG` names a server (each store
//! then has a local cache of its own and the memory lives in a fresh schema).

#![allow(clippy::print_stdout)] // a benchmark prints what it measured

use std::time::{Duration, Instant};

use tarjama::cache::{Bucket, CacheKey, CacheUrl, Rate, Store};
use tarjama::secret::Keyring;

const STORES: usize = 4;
const DOC: usize = 20;

#[tokio::main]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    let tmp = tempfile::tempdir().expect("temp dir");
    let sqlite = measure(n, |i| {
        let _ = i;
        (tmp.path().join("shared"), None)
    })
    .await;
    println!("sqlite (one file, {STORES} stores): {sqlite}");
    if let Ok(base) = std::env::var("TARJAMA_TEST_PG") {
        let schema = format!("bench_{:08x}", rand::random::<u32>());
        let (client, conn) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(conn);
        client
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .await
            .expect("schema");
        let url =
            CacheUrl::parse(&format!("{base}?options=-csearch_path%3D{schema}")).expect("url");
        let pg = measure(n, |i| (tmp.path().join(format!("m{i}")), Some(url.clone()))).await;
        println!("postgresql ({STORES} machines): {pg}");
        client
            .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .await
            .expect("drop");
    } else {
        println!("postgresql: skipped (TARJAMA_TEST_PG is not set)");
    }
}

async fn measure(
    n: usize,
    place: impl Fn(usize) -> (std::path::PathBuf, Option<CacheUrl>),
) -> String {
    let keys: Vec<CacheKey> = (0..n)
        .map(|i| CacheKey::new("bench", "", "ar", "en", &format!("فقرة {i}")))
        .collect();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..STORES {
        let (dir, url) = place(s);
        let (store, _) = Store::open_with(
            &dir,
            url.as_ref(),
            &Keyring::mock(),
            Duration::from_secs(60),
        )
        .await
        .expect("open");
        // Each store works through the corpus from its own starting point, so every
        // paragraph is wanted by all four.
        let mut mine = keys.clone();
        mine.rotate_left(s * n / STORES);
        tasks.push(tokio::spawn(async move {
            let pacer = store.pacer(
                Bucket::new("bench", Some("key")),
                Rate { rps: 1e6, burst: 1 },
            );
            let (mut sent, mut ops) = (0usize, 0usize);
            for doc in mine.chunks(DOC) {
                let found = store.lookup(doc).await.expect("lookup");
                ops += 1;
                let misses: Vec<CacheKey> = doc
                    .iter()
                    .zip(&found)
                    .filter(|(_, f)| !matches!(f, tarjama::cache::Found::Hit(_)))
                    .map(|(k, _)| k.clone())
                    .collect();
                if misses.is_empty() {
                    continue;
                }
                let owned = store
                    .claim(&misses, Duration::from_secs(60))
                    .await
                    .expect("claim");
                ops += 1;
                let done: Vec<(CacheKey, String)> = misses
                    .iter()
                    .zip(owned)
                    .filter(|(_, o)| *o)
                    .map(|(k, _)| (k.clone(), format!("translation of {}", k.text)))
                    .collect();
                if done.is_empty() {
                    continue;
                }
                pacer.reserve().await.expect("pace");
                store.complete(&done).await.expect("complete");
                ops += 2;
                sent += done.len();
            }
            (sent, ops)
        }));
    }
    let (mut sent, mut ops) = (0, 0);
    for t in tasks {
        let (s, o) = t.await.expect("task");
        sent += s;
        ops += o;
    }
    let secs = started.elapsed().as_secs_f64();
    format!(
        "{n} paragraphs, {sent} sent (each once: {}), {ops} store operations in {secs:.2} s: \
         {:.0} paragraphs/s, {:.0} operations/s",
        sent == n,
        n as f64 / secs,
        ops as f64 / secs
    )
}
