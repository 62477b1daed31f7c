//! The network side of a run: one provider (a service of the chain), its limiter, and
//! the handling of a batch that comes back wrong.

use crate::cache::{Bucket, Pacer, Rate, Store};
use crate::error::Result;
use crate::limit::Limiter;
use crate::model::Flag;
use crate::provider::{Provider, ProviderError};
use crate::secret;

use super::ids::PieceId;
use super::plan::{Batch, Piece};
use super::validate;
use crate::config::ProviderSettings;

/// A piece's fate: its id and its translation or the flag saying why not.
pub type PieceResult = (PieceId, Result<String, Flag>);

/// Sends batches to one service of the chain.
pub struct Sender {
    pub(super) provider: Provider,
    pub(super) limiter: Limiter,
    to: String,
    key_hint: String,
    has_key: bool,
    /// The problem reported at the end, and whether it stopped the provider (such a
    /// problem replaces one that did not).
    problem: std::sync::Mutex<Option<(bool, String)>>,
    /// Source languages checked, and whether the provider translates them.
    checked: tokio::sync::Mutex<std::collections::HashMap<String, bool>>,
}

impl Sender {
    /// Resolve the key of provider `name` (environment, then keyring) and build it,
    /// translating into `to`.
    ///
    /// # Errors
    /// The provider cannot be built (a bad endpoint).
    /// `sent_today`: characters the cache counts as sent to it today, for a service
    /// with a daily allowance. With a `store`, its requests take their slots from the
    /// store's pacer for this service (its name; its endpoint and key by a hash),
    /// shared with every process using it.
    pub fn new(
        name: &str,
        settings: &ProviderSettings,
        to: &str,
        sent_today: u64,
        store: Option<&Store>,
    ) -> Result<Sender> {
        let key = secret::resolve(name, settings.key_env()).map(|(k, _)| k);
        let pacer = store.map(|store| {
            // One server, one key: the same service at another endpoint (two
            // self-hosted servers) has a limit of its own. Both are hashed into the
            // bucket's account, never stored: an endpoint may carry a key too.
            let account = format!(
                "{}\n{}",
                settings.endpoint,
                key.as_ref().map_or("", |k| k.expose())
            );
            let bucket = Bucket::new(name, Some(&account));
            let rate = Rate {
                rps: settings.rps,
                burst: settings.burst,
            };
            store.pacer(bucket, rate)
        });
        let where_ = format!(
            "the OS keyring (service `{}`, user `{name}`)",
            secret::KEYRING_SERVICE
        );
        let key_hint = match settings.key_env() {
            Some(v) => format!(
                "the key is read from ${v}, then from {where_}; `translate auth set {name}` stores one"
            ),
            None => {
                format!("the key is read from {where_}; `translate auth set {name}` stores one")
            }
        };
        let has_key = key.as_ref().is_some_and(|k| !k.expose().is_empty());
        let provider = Provider::new(name, settings, key)?;
        Ok(Sender {
            provider,
            limiter: limiter(settings, sent_today, pacer),
            to: to.to_string(),
            key_hint,
            has_key,
            problem: std::sync::Mutex::new(None),
            checked: tokio::sync::Mutex::new(std::collections::HashMap::new()),
        })
    }

    /// Whether a key was found for the provider.
    pub fn has_key(&self) -> bool {
        self.has_key
    }

    /// Why the provider stopped being used, if it did.
    pub fn problem(&self) -> Option<String> {
        self.problem
            .lock()
            .ok()
            .and_then(|p| p.as_ref().map(|(_, m)| m.clone()))
    }

    /// Keep `msg` as the problem to report unless one is kept already; one that
    /// stopped the provider (`stopped`) replaces one that did not.
    fn keep_problem(&self, stopped: bool, msg: String) {
        if let Ok(mut p) = self.problem.lock()
            && p.as_ref().is_none_or(|(kept, _)| stopped && !kept)
        {
            *p = Some((stopped, msg));
        }
    }

    /// Whether the provider translates `from` into the target, asked once per
    /// language (later calls wait for and reuse the answer). Asked through the
    /// limiter (it counts as a request, and a failing languages endpoint is retried);
    /// an endpoint that keeps failing is not a verdict: the translation requests then
    /// meet whatever is wrong and are handled as usual.
    pub async fn supports(&self, from: &str) -> bool {
        let mut checked = self.checked.lock().await;
        if let Some(&ok) = checked.get(from) {
            return ok;
        }
        let ok = self.check(from).await;
        checked.insert(from.to_string(), ok);
        ok
    }

    async fn check(&self, from: &str) -> bool {
        let check = if self.provider.checks_pairs_online() {
            self.limiter
                .call(0, || self.provider.check_pair(from, &self.to))
                .await
        } else {
            // From a table: no request, nothing for the limiter to count.
            self.provider.check_pair(from, &self.to).await
        };
        match check {
            Ok(()) => true,
            Err(e @ ProviderError::UnsupportedPair(_)) => {
                self.note_problem(&e);
                false
            }
            Err(e) => {
                tracing::debug!("could not check {from} → {}: {e}", self.to);
                true
            }
        }
    }

    fn note_problem(&self, e: &ProviderError) {
        let name = self.provider.name();
        let msg = match e {
            ProviderError::UnsupportedPair(_) => format!(
                "{e}; nothing was sent for these paragraphs. hint: `translate providers` lists the configured providers; choose one with --provider NAME"
            ),
            ProviderError::Unreachable(_) => format!(
                "{e} ({name}); hint: use --offline to serve from the cache only, --endpoint URL for another server, or --provider NAME"
            ),
            ProviderError::QuotaExhausted(_) => format!(
                "{name}: {e}; stopped sending to it. Rerun later (the cache keeps everything done so far) or use --provider NAME"
            ),
            ProviderError::AuthFailed(_) => format!("{name}: {e}; {}", self.key_hint),
            ProviderError::Blocked(_) => format!(
                "{name}: {e}; stopped sending to it for this run (such a block usually lifts within hours)"
            ),
            ProviderError::Misconfigured(_) => {
                format!("{name}: {e}; check [providers.{name}] in the config (or --endpoint)")
            }
            ProviderError::Transient(_) | ProviderError::RateLimited { .. } => {
                return self.keep_problem(
                    false,
                    format!(
                        "{name}: {e}; gave up after the configured retries. Rerun to fetch \
                         what is missing (the cache keeps everything done so far); if it keeps \
                         happening, raise timeout_secs or max_retries in [providers.{name}]"
                    ),
                );
            }
            ProviderError::Malformed(_) => {
                return self.keep_problem(
                    false,
                    format!(
                        "{name}: {e}; nothing of it was used or cached. Rerun to try again; if \
                         it keeps happening, check that {} is a {} server (--endpoint)",
                        self.provider.endpoint(),
                        self.provider.kind().as_str()
                    ),
                );
            }
            ProviderError::BadRequest(_) => return,
        };
        self.keep_problem(true, msg);
    }

    /// One batch, with the failure handling that needs no retry policy: a malformed
    /// answer or a refused batch is split in halves down to single texts; a reply that
    /// is not a translation is retried once on its own.
    pub async fn send_batch(&self, batch: Batch) -> Vec<PieceResult> {
        let mut out = Vec::new();
        let mut stack: Vec<(Vec<Piece>, bool)> = vec![(batch.pieces, false)];
        while let Some((group, is_retry)) = stack.pop() {
            let texts: Vec<String> = group.iter().map(|p| p.text.clone()).collect();
            let chars = group.iter().map(|p| p.chars).sum();
            let from = batch.from.as_str();
            let reply = self
                .limiter
                .call(chars, || self.provider.translate(from, &self.to, &texts))
                .await;
            let reply = match reply {
                Ok(t) if t.len() != group.len() => Err(ProviderError::Malformed(format!(
                    "{} translations for {} texts",
                    t.len(),
                    group.len()
                ))),
                other => other,
            };
            match reply {
                Ok(translations) => {
                    for (piece, t) in group.into_iter().zip(translations) {
                        match validate::check(&piece.text, &t, &self.to) {
                            Ok(()) => out.push((piece.id, Ok(t.trim().to_string()))),
                            Err(_) if !is_retry => stack.push((vec![piece], true)),
                            Err(why) => {
                                tracing::warn!(
                                    "rejected reply ({why:?}) for a {}-character text",
                                    piece.chars
                                );
                                self.keep_problem(
                                    false,
                                    format!(
                                        "{}: some replies were not translations (empty, the \
                                         source echoed back, the wrong script or a wildly wrong \
                                         length) and were not cached. Rerun to try again, or use \
                                         --provider NAME",
                                        self.provider.name()
                                    ),
                                );
                                out.push((piece.id, Err(Flag::RejectedReply)));
                            }
                        }
                    }
                }
                Err(ProviderError::Malformed(_) | ProviderError::BadRequest(_))
                    if group.len() > 1 =>
                {
                    let mut a = group;
                    let b = a.split_off(a.len() / 2);
                    stack.push((b, is_retry));
                    stack.push((a, is_retry));
                }
                Err(e) => {
                    self.note_problem(&e);
                    let flag = failure_flag(&e);
                    out.extend(group.into_iter().map(|p| (p.id, Err(flag))));
                }
            }
        }
        out
    }
}

/// The JSONL flag for a provider failure.
pub fn failure_flag(e: &ProviderError) -> Flag {
    match e {
        ProviderError::QuotaExhausted(_) => Flag::QuotaExhausted,
        ProviderError::Unreachable(_) => Flag::Unreachable,
        ProviderError::BadRequest(_) => Flag::BadRequest,
        ProviderError::Malformed(_) => Flag::RejectedReply,
        ProviderError::UnsupportedPair(_) => Flag::UnsupportedPair,
        _ => Flag::ProviderError,
    }
}

/// The limiter of a service, told of its daily allowance when it documents one.
fn limiter(settings: &ProviderSettings, sent_today: u64, pacer: Option<Pacer>) -> Limiter {
    let limiter = match pacer {
        Some(pacer) => Limiter::new(settings).with_shared_pacer(pacer),
        None => Limiter::new(settings),
    };
    match crate::provider::about(settings).allowance {
        crate::provider::Allowance::Daily(allowance) => {
            limiter.with_daily_allowance(crate::limit::Daily {
                allowance,
                sent_before: sent_today,
            })
        }
        _ => limiter,
    }
}
