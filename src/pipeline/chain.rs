//! The chain: the services a run may use, in order, and which of them takes what.
//!
//! A run names one provider or several (`--provider a,b,c`, or `default_provider` as
//! a list). Each service of the chain gets its own [`Sender`] (provider and limiter,
//! so its own rate, concurrency, retries and breaker), built the first time it is
//! needed: a chain whose first service translates everything never builds the
//! others, and an offline run builds none.
//!
//! Paragraphs go to the first service that is still in the running for their source
//! language ([`Chain::service_for`]). A service leaves the chain for the rest of the
//! run when its breaker trips (its quota is spent, it refuses the key, it blocks us,
//! it cannot be reached), and it stops taking a source language it does not
//! translate. Either way the coordinator re-plans the paragraphs it held for the
//! next service (whole paragraphs, re-split to that service's limits); when no
//! service is left for a language, its paragraphs stay untranslated with the last
//! service's reason, and the run ends with one closing message naming every service
//! and what to do ([`Chain::closing`]).
//!
//! Cache keys carry the service's name and options, so a lookup tries each service's
//! key in chain order ([`Chain::key`]); a reviewed entry matches whichever.
//!
//! The chain also keeps, per service, the rows it translated and its characters sent
//! today (added to the cache's per-day counter after each batch), for `report.json`
//! and for `--dry-run`'s plan.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::SystemTime;

use crate::cache::CacheKey;
use crate::config::ProviderSettings;
use crate::error::{Error, Result};
use crate::limit::{self, Stats};
use crate::model::{Flag, ProviderReport, ProviderState};
use crate::provider::{self, BatchLimits, ProviderError};

use super::send::{Sender, failure_flag};

/// A service of the run's chain: its position in it. Only the chain makes them, so
/// one always names a member of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceId(usize);

impl ServiceId {
    /// The chain's first service (a chain is never empty).
    pub const FIRST: ServiceId = ServiceId(0);

    /// Its position in the chain, for tables with one entry per service.
    pub(super) fn index(self) -> usize {
        self.0
    }
}

/// One service of a chain: its config table name and settings (flags applied).
#[derive(Clone, Debug, PartialEq)]
pub struct Service {
    /// The `[providers.<name>]` table.
    pub name: String,
    /// Its settings, with `--endpoint`, `--rps`, `--concurrency` applied.
    pub settings: ProviderSettings,
}

/// Why a service left the chain.
#[derive(Clone, Debug)]
struct Left {
    state: ProviderState,
    /// When the service said its quota comes back.
    reset: Option<SystemTime>,
    /// The JSONL flag of the paragraphs it could not take.
    flag: Flag,
    /// Whether it had a key (to tell "no key" from "key refused").
    had_key: bool,
}

/// One service and what the run knows of it.
struct Member {
    name: String,
    settings: ProviderSettings,
    limits: BatchLimits,
    options: String,
    sender: Option<Arc<Sender>>,
    left: Option<Left>,
    /// Source languages it does not translate.
    refused: BTreeSet<String>,
    /// Rows of the outputs it translated (from the network or the cache).
    rows: usize,
    /// Characters already added to the cache's per-day counter.
    recorded: u64,
}

/// The services of a run, in order.
pub(super) struct Chain {
    members: Vec<Member>,
    to: String,
    /// Source languages no service was left for.
    spent: BTreeSet<String>,
}

impl Chain {
    /// The chain of `services` translating into `to`.
    ///
    /// # Errors
    /// `services` is empty.
    pub(super) fn new(services: &[Service], to: &str) -> Result<Chain> {
        if services.is_empty() {
            return Err(Error::Usage("no provider to translate with".into()));
        }
        let members = services
            .iter()
            .map(|s| Member {
                name: s.name.clone(),
                settings: s.settings.clone(),
                limits: provider::batch_limits(&s.settings),
                options: provider::cache_options(&s.settings),
                sender: None,
                left: None,
                refused: BTreeSet::new(),
                rows: 0,
                recorded: 0,
            })
            .collect();
        Ok(Chain {
            members,
            to: to.to_string(),
            spent: BTreeSet::new(),
        })
    }

    /// Every service, in chain order.
    pub(super) fn ids(&self) -> impl Iterator<Item = ServiceId> + use<> {
        (0..self.members.len()).map(ServiceId)
    }

    /// The service at `index` in the chain, if there is one.
    pub(super) fn service(&self, index: usize) -> Option<ServiceId> {
        (index < self.members.len()).then_some(ServiceId(index))
    }

    fn member(&self, i: ServiceId) -> &Member {
        &self.members[i.0]
    }

    fn member_mut(&mut self, i: ServiceId) -> &mut Member {
        &mut self.members[i.0]
    }

    /// Service `i`'s config name.
    pub(super) fn name(&self, i: ServiceId) -> &str {
        &self.member(i).name
    }

    /// Service `i`'s request limits.
    pub(super) fn limits(&self, i: ServiceId) -> BatchLimits {
        self.member(i).limits
    }

    /// The most requests any service keeps in flight.
    pub(super) fn max_concurrency(&self) -> usize {
        (self.members.iter())
            .map(|m| limit::max_in_flight(&m.settings))
            .max()
            .unwrap_or(1)
    }

    /// The most texts any service takes per request.
    pub(super) fn max_texts(&self) -> usize {
        (self.members.iter())
            .map(|m| m.limits.max_texts)
            .max()
            .unwrap_or(1)
    }

    /// The cache key of `text` translated by service `i`.
    pub(super) fn key(&self, i: ServiceId, from: &str, text: &str) -> CacheKey {
        let m = self.member(i);
        CacheKey::new(&m.name, &m.options, from, &self.to, text)
    }

    /// The target language.
    pub(super) fn to(&self) -> &str {
        &self.to
    }

    /// `(name, options)` of every service, in chain order: what their cache keys are
    /// made of besides the languages and the text.
    pub(super) fn key_parts(&self) -> Vec<(String, String)> {
        (self.members.iter())
            .map(|m| (m.name.clone(), m.options.clone()))
            .collect()
    }

    /// The service that takes text in `from` now: the first one neither left nor
    /// known to refuse `from`.
    pub(super) fn service_for(&self, from: &str) -> Option<ServiceId> {
        self.members
            .iter()
            .position(|m| m.takes(from))
            .map(ServiceId)
    }

    /// Whether service `i` still takes text in `from`.
    pub(super) fn takes(&self, i: ServiceId, from: &str) -> bool {
        self.member(i).takes(from)
    }

    /// No service is left for `from`: remember it for the closing message, and
    /// return the flag its paragraphs get (the last service's reason).
    pub(super) fn give_up(&mut self, from: &str) -> Flag {
        self.spent.insert(from.to_string());
        let last = self.members.last();
        match last.and_then(|m| m.left.as_ref()) {
            Some(left) => left.flag,
            None if last.is_some_and(|m| m.refused.contains(from)) => Flag::UnsupportedPair,
            None => Flag::ProviderError,
        }
    }

    /// Service `i`'s sender, built (key resolved, client made) on first use.
    ///
    /// # Errors
    /// The provider cannot be built (a bad endpoint).
    /// `sent_today` tells, when it is first built, how many characters the cache
    /// counts as sent to it today (for a service with a daily allowance).
    pub(super) fn sender(
        &mut self,
        i: ServiceId,
        sent_today: impl FnOnce(&str) -> Result<u64>,
        store: Option<&crate::cache::Store>,
    ) -> Result<Arc<Sender>> {
        let to = self.to.clone();
        let m = self.member_mut(i);
        if let Some(s) = &m.sender {
            return Ok(Arc::clone(s));
        }
        let sent = sent_today(&m.name)?;
        let s = Arc::new(Sender::new(&m.name, &m.settings, &to, sent, store)?);
        m.sender = Some(Arc::clone(&s));
        Ok(s)
    }

    /// Service `i` does not translate `from` (its languages or a translate reply
    /// said so).
    pub(super) fn refuse(&mut self, i: ServiceId, from: &str) {
        self.member_mut(i).refused.insert(from.to_string());
    }

    /// Take note of what service `i`'s last batch showed: when its breaker has
    /// tripped it leaves the chain. Returns whether it is out.
    pub(super) fn note_batch(&mut self, i: ServiceId) -> bool {
        let m = self.member_mut(i);
        if m.left.is_some() {
            return true;
        }
        let Some(sender) = &m.sender else {
            return false;
        };
        let Some(error) = sender.limiter.tripped() else {
            return false;
        };
        let reset = match error {
            ProviderError::QuotaExhausted(message) => sender
                .provider
                .quota_reset(message)
                .map(|d| SystemTime::now() + d),
            _ => None,
        };
        tracing::info!("{} leaves the chain: {error}", m.name);
        m.left = Some(Left {
            state: state_of(error),
            reset,
            flag: failure_flag(error),
            had_key: sender.has_key(),
        });
        true
    }

    /// One row translated by service `i`.
    pub(super) fn add_row(&mut self, i: ServiceId) {
        self.member_mut(i).rows += 1;
    }

    /// The characters service `i` sent since the last call, for the cache's count of
    /// characters sent to it today (taken once: the next call counts from here).
    pub(super) fn take_usage(&mut self, i: ServiceId) -> u64 {
        let m = self.member_mut(i);
        let Some(sender) = &m.sender else {
            return 0;
        };
        let sent = sender.limiter.stats().chars_sent;
        let new = sent.saturating_sub(m.recorded);
        m.recorded = m.recorded.max(sent);
        new
    }

    /// The counters of every service together.
    pub(super) fn stats(&self) -> Stats {
        let mut total = Stats::default();
        for s in self.members.iter().filter_map(|m| m.sender.as_ref()) {
            let st = s.limiter.stats();
            total.requests += st.requests;
            total.chars_sent += st.chars_sent;
            total.retries += st.retries;
            total.http_429 += st.http_429;
        }
        total
    }

    /// `(service, configured, worked)` requests per second, for the first service
    /// whose server's 429s made it slow down.
    pub(super) fn adapted_rate(&self) -> Option<(String, f64, f64)> {
        self.members.iter().find_map(|m| {
            let (configured, worked) = m.sender.as_ref()?.limiter.adapted_rate()?;
            Some((m.name.clone(), configured, worked))
        })
    }

    /// One `report.json` entry per service.
    pub(super) fn report(&self) -> Vec<ProviderReport> {
        self.members
            .iter()
            .map(|m| {
                let stats = m.sender.as_ref().map(|s| s.limiter.stats());
                let state = match &m.left {
                    Some(left) => left.state,
                    None if !m.refused.is_empty() => ProviderState::UnsupportedPair,
                    None => ProviderState::Ok,
                };
                ProviderReport {
                    name: m.name.clone(),
                    requests: stats.map_or(0, |s| s.requests),
                    characters: stats.map_or(0, |s| s.chars_sent),
                    rows: m.rows,
                    state,
                    reset_at: m.left.as_ref().and_then(|l| l.reset).map(rfc3339),
                }
            })
            .collect()
    }

    /// When some language's paragraphs found no service left: the closing message,
    /// naming each service with its state and what was said, how many paragraphs
    /// are left (`left`), and the ways to finish.
    pub(super) fn closing(&self, left: usize) -> Option<String> {
        if self.spent.is_empty() {
            return None;
        }
        let mut out = match self.members.as_slice() {
            // One provider: its state and what it said on the one `error:` line.
            [m] => format!(
                "{left} paragraphs are left untranslated: {}: {}",
                m.name,
                m.describe(&self.spent)
            ),
            members => {
                let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
                let mut out = format!(
                    "{left} paragraphs are left untranslated: no service of the chain ({}) can take them now",
                    names.join(" → ")
                );
                for m in members {
                    out.push_str(&format!("\n  {}: {}", m.name, m.describe(&self.spent)));
                }
                out
            }
        };
        out.push_str(&format!("\nto finish the {left} paragraphs left:"));
        out.push_str(
            "\n  - rerun later: the cache keeps everything translated so far, and only what \
             is left is sent",
        );
        for m in &self.members {
            let quota = m
                .left
                .as_ref()
                .is_some_and(|l| l.state == ProviderState::Quota);
            if let Some(hint) = provider::quota_hint(&m.name, &m.settings).filter(|_| quota) {
                out.push_str(&format!("\n  - {hint}"));
            }
        }
        let offers: Vec<&str> = KEYED_FREE_TIERS
            .iter()
            .filter(|(kind, _)| {
                !self
                    .members
                    .iter()
                    .any(|m| m.settings.kind.as_str() == *kind)
            })
            .map(|(_, offer)| *offer)
            .collect();
        if !offers.is_empty() {
            out.push_str(&format!(
                "\n  - or add a key: {}; store it with `translate auth set NAME` and run with \
                 --provider NAME (or put it in default_provider)",
                offers.join(", ")
            ));
        }
        Some(out)
    }

    /// What the services that reported a problem said: first, those that left while
    /// others took their paragraphs (the run may still be complete); second, the
    /// first problem of a service still in the chain (rejected replies, timeouts that
    /// outlasted the retries), which left paragraphs untranslated.
    pub(super) fn problems(&self) -> (Vec<String>, Option<String>) {
        let mut left = Vec::new();
        let mut staying = None;
        for (i, m) in self.members.iter().enumerate() {
            let Some(problem) = m.sender.as_ref().and_then(|s| s.problem()) else {
                continue;
            };
            if let Some(gone) = &m.left {
                let next = (self.members.iter().skip(i + 1))
                    .find(|n| n.rows > 0)
                    .map_or(String::new(), |n| format!(" ({} took over)", n.name));
                let hint = provider::quota_hint(&m.name, &m.settings)
                    .filter(|_| gone.state == ProviderState::Quota)
                    .map_or(String::new(), |h| format!("; hint: {h}"));
                left.push(format!("{problem}{next}{hint}"));
            } else if staying.is_none() {
                staying = Some(problem);
            }
        }
        (left, staying)
    }
}

impl Member {
    fn takes(&self, from: &str) -> bool {
        self.left.is_none() && !self.refused.contains(from)
    }

    /// `quota spent until 04:12 UTC (quota exhausted: …)` and the like.
    fn describe(&self, spent: &BTreeSet<String>) -> String {
        let prefix = format!("{}: ", self.name);
        let detail = (self.sender.as_ref().and_then(|s| s.problem()))
            .map(|d| d.strip_prefix(&prefix).map(str::to_string).unwrap_or(d));
        let state = match &self.left {
            Some(left) => match left.state {
                ProviderState::Quota => match left.reset {
                    Some(at) => format!("quota spent until {} UTC", hh_mm(at)),
                    None => "quota spent".to_string(),
                },
                ProviderState::Blocked => "blocked".to_string(),
                ProviderState::Unreachable => "unreachable".to_string(),
                ProviderState::Auth if !left.had_key => "no key".to_string(),
                ProviderState::Auth => "key refused".to_string(),
                ProviderState::UnsupportedPair | ProviderState::Ok => "stopped".to_string(),
            },
            None => {
                let langs: Vec<&str> = (spent.iter())
                    .filter(|l| self.refused.contains(*l))
                    .map(String::as_str)
                    .collect();
                if langs.is_empty() {
                    "in the running".to_string()
                } else {
                    format!("does not translate {}", langs.join(", "))
                }
            }
        };
        let unofficial = provider::about(&self.settings).unofficial;
        match (detail, unofficial) {
            (Some(d), false) => format!("{state} ({d})"),
            (Some(d), true) => format!("{state} (an unofficial service; {d})"),
            (None, false) => state,
            (None, true) => format!("{state} (an unofficial service)"),
        }
    }
}

/// The keyed services with a free tier, as the closing message offers them.
const KEYED_FREE_TIERS: &[(&str, &str)] = &[
    (
        "deepl",
        "DeepL API Free (500,000 characters a month; `deepl`)",
    ),
    (
        "azure",
        "Azure AI Translator F0 (2,000,000 a month; `azure`)",
    ),
    (
        "google",
        "Google Cloud Translation (500,000 a month free, billing enabled; `google`)",
    ),
];

/// The report state of the error that tripped a service's breaker.
fn state_of(error: &ProviderError) -> ProviderState {
    match error {
        ProviderError::QuotaExhausted(_) => ProviderState::Quota,
        ProviderError::AuthFailed(_) => ProviderState::Auth,
        ProviderError::Blocked(_) => ProviderState::Blocked,
        ProviderError::UnsupportedPair(_) => ProviderState::UnsupportedPair,
        // Unreachable, a wrong endpoint path or model, or a server that stopped
        // answering: nothing more can be asked of it in this run.
        _ => ProviderState::Unreachable,
    }
}

/// `2026-10-02T04:12:30Z`.
fn rfc3339(at: SystemTime) -> String {
    // An HTTP date (`Fri, 02 Oct 2026 04:12:30 GMT`) rearranged.
    let http = httpdate::fmt_http_date(at);
    let parts: Vec<&str> = http.split_whitespace().collect();
    let month = |m: &str| {
        [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ]
        .iter()
        .position(|x| *x == m)
        .map_or(0, |i| i + 1)
    };
    match parts.as_slice() {
        [_, day, mon, year, time, _] => format!("{year}-{:02}-{day}T{time}Z", month(mon)),
        _ => http,
    }
}

/// `04:12`, in UTC.
fn hh_mm(at: SystemTime) -> String {
    let t = rfc3339(at);
    t.get(11..16).unwrap_or(&t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(names: &[&str]) -> Chain {
        let config = crate::config::Config::builtin();
        let services: Vec<Service> = (names.iter())
            .map(|n| Service {
                name: (*n).to_string(),
                settings: config.providers[*n].clone(),
            })
            .collect();
        Chain::new(&services, "en").unwrap()
    }

    fn id(i: usize) -> ServiceId {
        ServiceId(i)
    }

    /// Texts go to the first service still taking their language; one that refuses
    /// a language keeps the others; with none left, the paragraphs get the last
    /// service's reason and the closing message names every service.
    #[test]
    fn each_language_goes_to_the_first_service_that_takes_it() {
        let mut c = chain(&["mymemory", "edge"]);
        assert_eq!(c.service_for("ar"), Some(id(0)));
        c.refuse(id(0), "fa");
        assert_eq!(
            (c.service_for("ar"), c.service_for("fa")),
            (Some(id(0)), Some(id(1)))
        );
        assert!(c.takes(id(0), "ar") && !c.takes(id(0), "fa"));
        c.refuse(id(1), "fa");
        assert_eq!(c.service_for("fa"), None);
        assert_eq!(c.closing(3), None, "nothing was given up yet");
        assert_eq!(c.give_up("fa"), Flag::UnsupportedPair);
        let closing = c.closing(3).unwrap();
        assert!(
            closing.starts_with(
                "3 paragraphs are left untranslated: no service of the chain (mymemory → edge)"
            ),
            "{closing}"
        );
        assert!(
            closing.contains("\n  mymemory: does not translate fa"),
            "{closing}"
        );
        assert!(
            closing.contains("\n  edge: does not translate fa (an unofficial service)"),
            "{closing}"
        );
        assert!(closing.contains("rerun later"), "{closing}");
        // No quota was spent: no e-mail hint; the keyed free tiers are offered.
        assert!(!closing.contains("email"), "{closing}");
        assert!(closing.contains("DeepL API Free"), "{closing}");
        let states: Vec<ProviderState> = c.report().iter().map(|p| p.state).collect();
        assert_eq!(
            states,
            [
                ProviderState::UnsupportedPair,
                ProviderState::UnsupportedPair
            ]
        );
    }

    #[test]
    fn keys_are_each_services_own() {
        let c = chain(&["mymemory", "edge"]);
        let (a, b) = (c.key(id(0), "ar", "نص"), c.key(id(1), "ar", "نص"));
        assert_eq!(
            (a.provider.as_str(), b.provider.as_str()),
            ("mymemory", "edge")
        );
        assert_ne!(a.id("machine"), b.id("machine"));
        assert_eq!(a.reviewed(), b.reviewed(), "a correction holds for both");
    }

    #[test]
    fn an_empty_chain_is_a_usage_error() {
        assert!(matches!(Chain::new(&[], "en"), Err(Error::Usage(_))));
    }

    #[test]
    fn times_are_written_in_utc() {
        let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_790_914_350);
        assert_eq!(rfc3339(at), "2026-10-02T04:12:30Z");
        assert_eq!(hh_mm(at), "04:12");
        assert_eq!(rfc3339(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00Z");
    }
}
