//! The coordinator's one door to the translation memory.
//!
//! Every cache access of a run goes through these few methods: look texts up under
//! the chain's keys ([`Memory::first_hits`]), look pieces up under one service's keys
//! ([`Memory::hits`]), store an answer ([`Memory::store`]), count characters sent
//! today ([`Memory::count_sent`]). Keeping them in one place keeps the coordinator's
//! state machine apart from how the memory is reached: today the synchronous SQLite
//! [`Cache`]; when runs share a memory and claim paragraphs with leases through the
//! asynchronous [`crate::cache::Store`], these methods are what changes (each becomes
//! a call to the store, and a lookup can also answer "pending": another process is
//! translating it), not the coordinator.
//!
//! A dry run has a memory too: the existing cache opened read-only (or none at all
//! when there is no cache yet, which finds nothing). It is never written.

use crate::cache::{Cache, CacheKey, Hit, Lookup, Origin};
use crate::error::Result;

use super::Events;
use super::chain::{Chain, ServiceId};

/// The translation memory as the coordinator sees it.
pub(super) struct Memory<'a> {
    cache: Option<&'a Cache>,
    events: &'a dyn Events,
}

impl<'a> Memory<'a> {
    /// The memory of a run: `cache`, or nothing (a dry run without a cache).
    pub(super) fn new(cache: Option<&'a Cache>, events: &'a dyn Events) -> Memory<'a> {
        Memory { cache, events }
    }

    /// For each text `(from, key_text)` (`key_text` normalized as keys are), the
    /// translation the memory holds and the service of the chain it is served as:
    /// the first service in chain order with an entry, a reviewed entry (served as the
    /// chain's first service) before any. A damaged entry is reported and counts as
    /// missing.
    ///
    /// # Errors
    /// The cache cannot be read.
    pub(super) fn first_hits(
        &self,
        chain: &Chain,
        texts: &[(&str, &str)],
    ) -> Result<Vec<Option<(Hit, ServiceId)>>> {
        let Some(cache) = self.cache else {
            return Ok(vec![None; texts.len()]);
        };
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let services: Vec<ServiceId> = chain.ids().collect();
        let keys: Vec<CacheKey> = (texts.iter())
            .flat_map(|&(from, text)| {
                (services.iter()).map(move |&s| chain.key_of_normalized(s, from, text))
            })
            .collect();
        let found = cache.get_first_many(&keys, services.len())?;
        Ok(found
            .into_iter()
            .map(|first| {
                for notice in &first.repaired {
                    self.events.warn(notice);
                }
                let (hit, at) = first.hit?;
                let service = match hit.origin {
                    Origin::Reviewed => ServiceId::FIRST,
                    Origin::Machine => services.get(at).copied().unwrap_or(ServiceId::FIRST),
                };
                Some((hit, service))
            })
            .collect())
    }

    /// What the memory holds under each of `keys` (a reviewed entry first); a
    /// damaged entry is reported and counts as missing.
    ///
    /// # Errors
    /// The cache cannot be read.
    pub(super) fn hits(&self, keys: &[CacheKey]) -> Result<Vec<Option<Hit>>> {
        let Some(cache) = self.cache else {
            return Ok(vec![None; keys.len()]);
        };
        Ok(cache
            .get_many(keys)?
            .into_iter()
            .map(|lookup| match lookup {
                Lookup::Hit(hit) => Some(hit),
                Lookup::Miss => None,
                Lookup::Repaired(notice) => {
                    self.events.warn(&notice);
                    None
                }
            })
            .collect())
    }

    /// Store a machine translation.
    ///
    /// # Errors
    /// The cache cannot be written.
    pub(super) fn store(&self, key: &CacheKey, target: &str) -> Result<()> {
        match self.cache {
            Some(cache) => cache.put(key, target, Origin::Machine),
            None => Ok(()),
        }
    }

    /// Count `chars` more characters sent to the service named `name` today.
    ///
    /// # Errors
    /// The cache cannot be written.
    pub(super) fn count_sent(&self, name: &str, chars: u64) -> Result<()> {
        match self.cache {
            Some(cache) if chars > 0 => cache.add_chars_today(name, chars),
            _ => Ok(()),
        }
    }
}
