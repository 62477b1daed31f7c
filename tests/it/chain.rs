//! Provider chains end to end: the first run a new user makes with no account, the
//! whole chain spent, an explicit chain, MyMemory's e-mail, and the dry run's plan.
//!
//! Each service of the default chain runs as its own emulator (so each keeps its own
//! quota and state): MyMemory enforcing its 5,000-character day (50,000 with `de`),
//! Edge's `translatetext` and Google's `clients5` endpoint, working or blocked. The
//! config points the shipped tables at them; the binary runs without `--provider`
//! or `--endpoint`, as a new user would.

use crate::common;

use std::collections::{BTreeMap, HashSet};

use common::edge_emu::{self, EdgeEmu};
use common::emulator::{Api, Emulator, fake_translate};
use common::google_web_emu::{self, GoogleWebEmu};
use common::harness::{JsonRow, Scratch, seeds};
use predicates::prelude::*;
use tarjama::model::ProviderState;

/// The three services of the default chain, one emulator each.
struct Services {
    mymemory: Emulator,
    edge: EdgeEmu,
    google_web: GoogleWebEmu,
}

impl Services {
    /// Every service working; MyMemory with its documented day.
    fn start() -> Services {
        let mymemory = Emulator::spawn_blocking_runtime(Api::MyMemory);
        mymemory.set_daily_limit(5_000, 50_000);
        Services {
            mymemory,
            edge: EdgeEmu::spawn_blocking_runtime(),
            google_web: GoogleWebEmu::spawn_blocking_runtime(),
        }
    }

    /// A scratch directory whose config sends each shipped table to its emulator;
    /// `edit` changes the config further.
    fn scratch(&self, edit: impl Fn(String) -> String) -> Scratch {
        let (mm, edge, gw) = (self.mymemory.url(), self.edge.url(), self.google_web.url());
        Scratch::with_config(move |c| {
            edit(
                c.replace("https://api.mymemory.translated.net", &mm)
                    .replace("https://edge.microsoft.com", &edge)
                    .replace("https://clients5.google.com", &gw),
            )
        })
    }
}

/// Whitespace-collapsed, for comparing a paragraph joined from pieces.
fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn content(rows: &[JsonRow]) -> Vec<&JsonRow> {
    rows.iter()
        .filter(|r| r.kind != "boilerplate" && r.kind != "duplicate")
        .filter(|r| !r.flags.contains(&"same_language".to_string()))
        .collect()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `(doc, index) → (target, provider)` of the translated rows.
fn translated(rows: &[JsonRow]) -> BTreeMap<(String, usize), (String, String)> {
    rows.iter()
        .filter_map(|r| {
            let t = r.target.clone()?;
            Some(((r.doc.clone(), r.index), (t, r.provider.clone())))
        })
        .collect()
}

/// The first run: MyMemory's day runs out part-way, Edge takes the rest, Google's
/// endpoint (blocked) is not needed. Every content paragraph is translated; rows say
/// which service translated them; an offline rerun with every server gone gives the
/// same targets and providers.
#[test]
fn the_first_run_without_an_account_finishes_through_the_chain() {
    let services = Services::start();
    services
        .google_web
        .set_mode(google_web_emu::Behaviour::Sorry429);
    let s = services.scratch(|c| c);
    let out = s.cmd(&[&seeds()]).assert().code(0).get_output().clone();
    let err = stderr(&out);

    let rows = s.all_rows();
    let content = content(&rows);
    assert!(content.len() > 60, "{} content rows", content.len());
    for r in &content {
        let target = r
            .target
            .as_deref()
            .unwrap_or_else(|| panic!("untranslated: {r:?}"));
        assert_eq!(squash(target), squash(&fake_translate(&r.source)), "{r:?}");
    }
    let by: HashSet<&str> = content.iter().map(|r| r.provider.as_str()).collect();
    assert_eq!(by, HashSet::from(["mymemory", "edge"]), "{err}");
    // MyMemory kept to its day and was not asked again after its warning (one
    // request in flight at the time is fine); the blocked service was asked at most
    // twice.
    assert!(services.mymemory.characters_today() <= 5_000);
    let refused = services.mymemory.quota_answers();
    assert!((1..=2).contains(&refused), "{refused} quota answers");
    assert!(services.google_web.translate_requests().len() <= 2);
    // Edge got whole paragraphs, each one in one text (no paragraph was cut for
    // MyMemory's 500 bytes and then sent to Edge in part).
    let edge_texts: HashSet<String> = services.edge.texts_received().into_iter().collect();
    for r in content.iter().filter(|r| r.provider == "edge") {
        assert!(edge_texts.contains(&r.source), "{r:?}");
    }
    // MyMemory's quota is a note, with what an e-mail would give.
    assert!(err.contains("note: mymemory"), "{err}");
    assert!(
        err.contains("quota exhausted") && err.contains("50,000"),
        "{err}"
    );
    assert!(!err.contains("error:"), "{err}");

    let report = s.report();
    assert_eq!(report.untranslated, 0);
    let states: Vec<(&str, ProviderState)> = (report.providers.iter())
        .map(|p| (p.name.as_str(), p.state))
        .collect();
    assert_eq!(
        states,
        [
            ("mymemory", ProviderState::Quota),
            ("edge", ProviderState::Ok),
            ("google-web", ProviderState::Ok)
        ]
    );
    let [mm, edge, gw] = &report.providers[..] else {
        panic!("{:?}", report.providers)
    };
    assert!(
        mm.reset_at.as_deref().is_some_and(|t| t.ends_with('Z')),
        "{mm:?}"
    );
    assert!(
        mm.rows > 0 && edge.rows > 0 && gw.rows == 0,
        "{:?}",
        report.providers
    );
    assert_eq!(
        mm.rows + edge.rows,
        rows.iter().filter(|r| r.target.is_some()).count()
    );
    assert_eq!(gw.requests, 0);
    assert_eq!(mm.characters + edge.characters, report.chars_sent);
    // The review page names both services.
    let html = fs_err::read_to_string(s.output("000_2d74ac5e9dc5bed1.txt", "html")).unwrap();
    assert!(html.contains("mymemory") || html.contains("edge"));

    // Offline, every server gone: the same targets and providers, from the cache.
    let first = translated(&rows);
    drop(services);
    s.cmd(&[&seeds()]).arg("--offline").assert().code(0);
    let again = s.all_rows();
    assert_eq!(translated(&again), first);
    assert!(again.iter().all(|r| r.cached == r.target.is_some()));
}

/// Every service spent: exit 3, one closing message naming each service with its
/// state and the ways to finish, and nothing lost: an offline rerun serves every row
/// that was translated.
#[test]
fn every_service_spent_ends_with_one_message_and_loses_nothing() {
    let services = Services::start();
    services.edge.set_character_limit(Some(2_000));
    services
        .google_web
        .set_mode(google_web_emu::Behaviour::Sorry200);
    let s = services.scratch(|c| c);
    let out = s.cmd(&[&seeds()]).assert().code(3).get_output().clone();
    let err = stderr(&out);
    assert_eq!(err.matches("error:").count(), 1, "{err}");
    for needle in [
        "paragraphs are left untranslated: no service of the chain (mymemory → edge → google-web)",
        "  mymemory: quota spent until ",
        " UTC (",
        "  edge: blocked (an unofficial service;",
        "  google-web: blocked (an unofficial service;",
        "rerun later: the cache keeps everything translated so far",
        "set `email = \"you@example.org\"` in [providers.mymemory]: MyMemory then allows 50,000 characters a day instead of 5,000",
        "DeepL API Free (500,000 characters a month",
        "Azure AI Translator F0 (2,000,000 a month",
        "Google Cloud Translation",
        "translate auth set",
    ] {
        assert!(err.contains(needle), "{needle:?} missing:\n{err}");
    }
    let report = s.report();
    assert!(report.untranslated > 0 && report.translated > 0);
    assert!(
        err.contains(&format!("{} paragraphs are left", report.untranslated)),
        "{err}"
    );
    let states: Vec<ProviderState> = report.providers.iter().map(|p| p.state).collect();
    assert_eq!(
        states,
        [
            ProviderState::Quota,
            ProviderState::Blocked,
            ProviderState::Blocked
        ]
    );
    // Bounded: Edge's three 429s in a row, Google's page once or twice (no retry).
    assert!(services.google_web.translate_requests().len() <= 2);
    assert!(services.mymemory.quota_answers() <= 2);
    let rows = s.all_rows();
    for r in &rows {
        if r.target.is_none() && r.kind != "boilerplate" && r.kind != "duplicate" {
            assert!(
                r.flags.contains(&"same_language".to_string())
                    || r.flags.contains(&"provider_error".to_string()),
                "{r:?}"
            );
        }
    }
    let first = translated(&rows);
    assert!(!first.is_empty());

    drop(services);
    s.cmd(&[&seeds()]).arg("--offline").assert().code(3);
    let again = translated(&s.all_rows());
    assert_eq!(
        again, first,
        "every translated row is served from the cache"
    );
}

/// `--provider edge,google-web` with Edge blocked: everything by Google's endpoint,
/// and no request to a service outside the chain.
#[test]
fn an_explicit_chain_uses_its_services_only() {
    let services = Services::start();
    services.edge.set_mode(edge_emu::Behaviour::Captcha429);
    let s = services.scratch(|c| c);
    s.cmd(&[&seeds()])
        .args(["--provider", "edge,google-web"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("note: edge: blocked"));
    let rows = s.all_rows();
    let content = content(&rows);
    assert!(content.len() > 60);
    for r in &content {
        assert_eq!(r.provider, "google-web", "{r:?}");
        assert_eq!(
            squash(r.target.as_deref().unwrap()),
            squash(&fake_translate(&r.source))
        );
    }
    assert_eq!(services.mymemory.count(), 0, "a service outside the chain");
    assert!(services.edge.translate_requests().len() <= 2);
    // Google's endpoint got every text in form bodies, never in the URL.
    for r in services.google_web.translate_requests() {
        assert_eq!(r.method, "POST");
        assert_eq!(r.query_param("q"), None);
        assert_eq!(r.query_param("client"), Some("dict-chrome-ex"));
        assert_eq!(r.query_param("tl"), Some("en"));
        assert!(!r.texts().is_empty() && r.texts().len() <= 25);
    }
    let report = s.report();
    let names: Vec<(&str, ProviderState)> = (report.providers.iter())
        .map(|p| (p.name.as_str(), p.state))
        .collect();
    assert_eq!(
        names,
        [
            ("edge", ProviderState::Blocked),
            ("google-web", ProviderState::Ok)
        ]
    );
}

/// `email` in `[providers.mymemory]` goes out as `de`, and MyMemory's day is then
/// 50,000 characters: the seeds fit in it.
#[test]
fn mymemory_email_is_sent_as_de() {
    let services = Services::start();
    let s = services.scratch(|c| c.replace("email = \"\"", "email = \"desk@example.org\""));
    s.cmd(&[&seeds()]).assert().code(0);
    let requests = services.mymemory.requests();
    assert!(requests.len() > 20);
    for r in &requests {
        assert_eq!(r.query_param("de"), Some("desk@example.org"), "{r:?}");
    }
    assert!(services.mymemory.characters_today() > 5_000);
    assert_eq!(services.edge.count(), 0);
    assert!(
        content(&s.all_rows())
            .iter()
            .all(|r| r.provider == "mymemory")
    );
}

/// `--dry-run` plans the chain from each service's daily allowance and what this
/// cache sent it today, and says whether the run can finish today.
#[test]
fn the_dry_run_plans_the_chain_for_today() {
    let services = Services::start();
    let s = services.scratch(|c| c);
    let plan = |args: &[&str]| {
        let out = s
            .cmd(&[&seeds()])
            .arg("--dry-run")
            .args(args)
            .assert()
            .code(0)
            .get_output()
            .stdout
            .clone();
        String::from_utf8(out).unwrap()
    };
    let fresh = plan(&[]);
    assert!(fresh.contains("plan for today ("), "{fresh}");
    assert!(
        fresh.contains(
            "mymemory    5,000 characters a day, 0 sent today by this cache → takes 5,000"
        ),
        "{fresh}"
    );
    assert!(
        fresh.contains(
            "edge        unofficial, no published limit; it may block at any time → takes "
        ),
        "{fresh}"
    );
    assert!(fresh.contains("google-web  unofficial"), "{fresh}");
    assert!(fresh.contains("→ takes 0\n"), "{fresh}");
    assert!(
        fresh.contains("can finish today: yes, if the unofficial services answer"),
        "{fresh}"
    );
    // MyMemory alone cannot finish the seeds in a day; after a run that sent it
    // characters, the plan counts them.
    let alone = plan(&["--provider", "mymemory"]);
    assert!(alone.contains("can finish today: no: about "), "{alone}");
    assert!(alone.contains("hint: set `email"), "{alone}");
    let one = s.dir.path().join("one");
    fs_err::create_dir_all(&one).unwrap();
    fs_err::copy(seeds().join("003_2afab63017fdb124.txt"), one.join("a.txt")).unwrap();
    s.cmd(&[&one])
        .args(["--provider", "mymemory"])
        .assert()
        .code(0);
    let sent = services.mymemory.characters_today();
    assert!(sent > 0);
    let after = plan(&["--provider", "mymemory"]);
    let sent_text = format!("{sent} sent today by this cache");
    let sent_text = if sent >= 1000 {
        format!(
            "{},{:03} sent today by this cache",
            sent / 1000,
            sent % 1000
        )
    } else {
        sent_text
    };
    assert!(after.contains(&sent_text), "{sent}: {after}");
}
