//! `translate cache copy` and `translate import --cache` end to end, through the
//! binary: a local cache seeds a shared memory and is copied back to an empty one with
//! reviewed entries still reviewed and machine entries under their provider; a
//! correction imported on one machine is served, reviewed, on another; a wrong
//! password, from the URL or `PGPASSWORD`, never shows.
//!
//! The shared memory is a real PostgreSQL (`TARJAMA_TEST_PG`, see tests/support/src/pg.rs);
//! without it those tests say why and pass, unless `CI` is set.

use crate::common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::pg;
use tarjama::cache::{Cache, CacheKey, CacheUrl, Found, Hit, Lookup, Origin, Store};
use tarjama::secret::Keyring;

fn translate() -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("translate"));
    c.env("TARJAMA_NO_KEYRING", "1")
        .env_remove("TARJAMA_CACHE")
        .env_remove("PGPASSWORD")
        .env("PGPASSFILE", "/nonexistent/pgpass");
    c
}

fn run(c: &mut Command) -> (i32, String, String) {
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const TEXT: &str = "قال المتحدث باسم الحكومة إن المفاوضات ستستأنف الأسبوع المقبل";

/// A cache with two machine answers for one text (two providers) and a correction of
/// another.
fn seed_cache(dir: &Path) -> (CacheKey, CacheKey, CacheKey) {
    let c = Cache::open(dir).unwrap();
    let lt = CacheKey::new("libretranslate", "format=text", "ar", "en", TEXT);
    let dl = CacheKey::new("deepl", "formality=default", "ar", "en", TEXT);
    let rv = CacheKey::new("libretranslate", "format=text", "fa", "en", "سلام دنیا");
    c.put(&lt, "LibreTranslate's answer", Origin::Machine)
        .unwrap();
    c.put(&dl, "DeepL's answer", Origin::Machine).unwrap();
    c.put_reviewed(&[(rv.clone(), "Hello, world (reviewed).".into())])
        .unwrap();
    (lt, dl, rv)
}

fn assert_same_entries(dir: &Path, keys: &(CacheKey, CacheKey, CacheKey)) {
    let c = Cache::open(dir).unwrap();
    let hit = |t: &str, origin| {
        Lookup::Hit(Hit {
            target: t.into(),
            origin,
        })
    };
    assert_eq!(
        c.get(&keys.0).unwrap(),
        hit("LibreTranslate's answer", Origin::Machine)
    );
    assert_eq!(
        c.get(&keys.1).unwrap(),
        hit("DeepL's answer", Origin::Machine)
    );
    // Reviewed: for every provider, even one never used.
    let other = CacheKey::new("mymemory", "", "fa", "en", &keys.2.text);
    assert_eq!(
        c.get(&other).unwrap(),
        hit("Hello, world (reviewed).", Origin::Reviewed)
    );
    assert_eq!(c.len().unwrap(), 3);
}

#[test]
fn copy_between_directories_keeps_every_entry_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let keys = seed_cache(&a);
    let (code, out, err) = run(translate().args(["cache", "copy"]).arg(&a).arg(&b));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("copied 3 entries (1 reviewed, 2 machine)")
            && out.contains("3 added, 0 already there"),
        "{out}"
    );
    assert_same_entries(&b, &keys);
    let (code, out, _) = run(translate().args(["cache", "copy"]).arg(&a).arg(&b));
    assert_eq!(code, 0);
    assert!(out.contains("0 added, 3 already there"), "{out}");
    // No cache to copy from: a usage error naming it.
    let (code, _, err) = run(translate()
        .args(["cache", "copy"])
        .arg(tmp.path().join("nothing"))
        .arg(&b));
    assert!(code == 2 && err.contains("no cache there"), "{code} {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_to_a_shared_memory_and_back() {
    let Some(base) = pg::base_url() else { return };
    let (url, _) = pg::fresh_schema(&base).await;
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("analyst"), tmp.path().join("desk"));
    let keys = seed_cache(&a);
    let shown = format!("postgres://postgres@{}/tarjama_test", pg::server_addr(&url));
    let (code, out, err) = run(translate().args(["cache", "copy"]).arg(&a).arg(&url));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("copied 3 entries (1 reviewed, 2 machine)")
            && out.contains(&format!("to {shown}: 3 added")),
        "{out}"
    );
    // The shared memory serves them to a machine with an empty cache.
    let (store, _) = Store::open_with(
        &tmp.path().join("fresh"),
        Some(&CacheUrl::parse(&url).unwrap()),
        &Keyring::mock(),
        Duration::from_secs(30),
    )
    .await
    .unwrap();
    assert_eq!(
        store.lookup(std::slice::from_ref(&keys.2)).await.unwrap(),
        [Found::Hit(Hit {
            target: "Hello, world (reviewed).".into(),
            origin: Origin::Reviewed
        })]
    );
    // And back into an empty directory, as they were.
    let (code, out, err) = run(translate().args(["cache", "copy"]).arg(&url).arg(&b));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("from {shown} to")) && out.contains("3 added"),
        "{out}"
    );
    assert_same_entries(&b, &keys);
    let (code, out, _) = run(translate().args(["cache", "copy"]).arg(&a).arg(&url));
    assert_eq!(code, 0);
    assert!(out.contains("0 added, 3 already there"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correction_imported_on_one_machine_is_served_on_another() {
    let Some(base) = pg::base_url() else { return };
    let (url, _) = pg::fresh_schema(&base).await;
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("001.en.corrections.json");
    let corrections = serde_json::json!({
        "tarjama": "corrections", "version": 1,
        "corrections": [{"doc": "001.txt", "index": 0, "src_lang": "ar", "tgt_lang": "en",
                         "source": TEXT, "machine": null,
                         "target": "The government spokesman said talks resume next week."}]
    });
    fs_err::write(&file, corrections.to_string()).unwrap();
    // Through TARJAMA_CACHE here; `--cache` would win over it.
    let (code, _, err) = run(translate()
        .arg("import")
        .arg(&file)
        .arg("--cache-dir")
        .arg(tmp.path().join("machine-a"))
        .env("TARJAMA_CACHE", &url));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("imported 1 correction from"), "{err}");
    let (store, _) = Store::open_with(
        &tmp.path().join("machine-b"),
        Some(&CacheUrl::parse(&url).unwrap()),
        &Keyring::mock(),
        Duration::from_secs(30),
    )
    .await
    .unwrap();
    let any_provider = CacheKey::new("deepl", "formality=default", "ar", "en", TEXT);
    assert_eq!(
        store.lookup(&[any_provider]).await.unwrap(),
        [Found::Hit(Hit {
            target: "The government spokesman said talks resume next week.".into(),
            origin: Origin::Reviewed
        })]
    );
    // A bad URL in the flag is a usage error that names it without its password.
    let (code, _, err) = run(translate()
        .arg("import")
        .arg(&file)
        .arg("--cache-dir")
        .arg(tmp.path().join("machine-a"))
        .args(["--cache", "postgres://x:Flag-Pw-77@h:badport/db"]));
    assert!(
        code == 2 && err.contains("--cache:") && !err.contains("Flag-Pw-77"),
        "{code} {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_from_the_url_or_pgpassword_never_shows() {
    let Some(base) = pg::base_url() else { return };
    let (url, schema) = pg::fresh_schema(&base).await;
    let role = format!("r_{schema}");
    pg::admin(&base)
        .await
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN PASSWORD 'Right-Pass-3141'; GRANT ALL ON SCHEMA {schema} TO {role};"
        ))
        .await
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    seed_cache(&a);
    let shown = format!("postgres://{role}@{}/tarjama_test", pg::server_addr(&url));
    let in_url = url.replacen("postgres@", &format!("{role}:Url-Wrong-2718@"), 1);
    let (code, out, err) = run(translate().args(["cache", "copy"]).arg(&a).arg(&in_url));
    assert_eq!(code, 1, "{out} {err}");
    assert!(
        !err.contains("Url-Wrong-2718") && !out.contains("Url-Wrong-2718"),
        "{err}"
    );
    assert!(
        err.contains(&shown) && err.contains("password authentication failed"),
        "{err}"
    );
    let no_pw = url.replacen("postgres@", &format!("{role}@"), 1);
    let (code, _, err) = run(translate()
        .args(["cache", "copy"])
        .arg(&a)
        .arg(&no_pw)
        .env("PGPASSWORD", "Env-Wrong-1618"));
    assert_eq!(code, 1, "{err}");
    assert!(
        !err.contains("Env-Wrong-1618") && err.contains("came from PGPASSWORD"),
        "{err}"
    );
    let (code, out, err) = run(translate()
        .args(["cache", "copy"])
        .arg(&a)
        .arg(&no_pw)
        .env("PGPASSWORD", "Right-Pass-3141"));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("3 added") && !out.contains("Right-Pass"),
        "{out}"
    );
}
