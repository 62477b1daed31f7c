//! The coordinator's one door to the translation memory.
//!
//! Every cache access of a run goes through these few methods: look texts up under
//! the chain's keys ([`Memory::first_hits`]), look pieces up under one service's keys
//! ([`Memory::hits`]), store an answer ([`Memory::store`]), count characters sent
//! today ([`Memory::count_sent`], [`Memory::sent_today`]), and a connection for the reader thread's prepared
//! documents ([`Memory::for_reader`]). Keeping them in one place keeps the coordinator's
//! state machine apart from how the memory is reached.
//!
//! A run's memory is a [`Store`]: the local SQLite cache, and with `--cache URL` a
//! shared PostgreSQL memory behind it. Lookups when a document is admitted read the
//! local layer only (no round trip per document; the reviewed entries of the shared
//! memory were copied into it when the store opened). What crosses processes — the
//! shared memory's hits, leases, waiting for a paragraph another process holds — is
//! done just before sending, by the batch's future ([`super::claim`]), which also
//! stores the answers it gets in both layers. What the coordinator stores itself (the
//! whole text of a paragraph that was sent in pieces) is written to the local layer at
//! once and to the shared one at the next [`Memory::flush`], and so are the characters
//! sent, counted per service, key and UTC day in the store ([`Memory::daily_counts`]):
//! one count for every process using it, the one `--dry-run` reads.
//!
//! A dry run has a memory too: the existing cache opened read-only (or none at all
//! when there is no cache yet, which finds nothing). It is never written.

use std::borrow::Cow;

use unicode_normalization::{IsNormalized, is_nfc_quick};

use std::cell::RefCell;
use std::collections::HashMap;

use crate::cache::{
    Allowance, Bucket, Cache, CacheKey, Hit, Lookup, Origin, Probe, Store, normalize_key_text,
};
use crate::error::Result;
use crate::ingest::normalize::is_removable_control;

use super::Events;
use super::chain::{Chain, ServiceId};
use super::ids::TextId;

/// The translation memory as the coordinator sees it.
pub(super) struct Memory<'a> {
    cache: Option<&'a Cache>,
    events: &'a dyn Events,
    /// A dry run's: it only needs to know what is there.
    counting: bool,
    /// The run's store, whose local layer is `cache`.
    store: Option<Store>,
    /// Answers stored locally and still to be stored in the shared memory.
    unshared: RefCell<Vec<(CacheKey, String)>>,
    /// Each service's daily count in the store (by name), and what it held when the
    /// run began.
    counts: HashMap<String, (Allowance, u64)>,
    /// Characters sent and still to be counted, by service name.
    uncounted: RefCell<Vec<(String, u64)>>,
}

impl<'a> Memory<'a> {
    /// The memory of a run: `cache`, or nothing (a dry run without a cache).
    pub(super) fn new(cache: Option<&'a Cache>, events: &'a dyn Events) -> Memory<'a> {
        Memory {
            cache,
            events,
            counting: false,
            store: None,
            unshared: RefCell::default(),
            counts: HashMap::new(),
            uncounted: RefCell::default(),
        }
    }

    /// The memory of a run through `store` (its local layer is what lookups read);
    /// `counts`: the daily count of each service of the chain, by name, with what it
    /// held when the run began ([`Memory::daily_counts`]).
    pub(super) fn of_store(
        store: &'a Store,
        events: &'a dyn Events,
        counts: HashMap<String, (Allowance, u64)>,
    ) -> Memory<'a> {
        Memory {
            store: Some(store.clone()),
            counts,
            ..Memory::new(Some(store.cache()), events)
        }
    }

    /// The daily character count of each service of `services` in `store`: one count
    /// per service, key (a hash of it) and UTC day, shared by every process using the
    /// store, with what it holds now.
    ///
    /// # Errors
    /// The store cannot be read.
    pub(super) async fn daily_counts(
        store: &Store,
        services: &[super::Service],
    ) -> Result<HashMap<String, (Allowance, u64)>> {
        let mut counts = HashMap::new();
        for s in services {
            let key = crate::secret::resolve(&s.name, s.settings.key_env()).map(|(k, _)| k);
            let bucket = Bucket::new(&s.name, key.as_ref().map(|k| k.expose()));
            let allowance = store.allowance(bucket, None);
            let used = allowance.used().await?;
            counts.insert(s.name.clone(), (allowance, used));
        }
        Ok(counts)
    }

    /// The version of what admitting a document reads (the local layer's entries,
    /// [`Cache::version`]), when there is one: the same version means every lookup
    /// finds what it found before. `None` for a run without a cache, or one whose
    /// cache cannot say.
    pub(super) fn version(&self) -> Option<[u8; 16]> {
        let cache = self.cache?;
        cache.version().unwrap_or_else(|e| {
            tracing::debug!("cache version: {e}");
            None
        })
    }

    /// The run's store, when it has one (a dry run has none).
    pub(super) fn store(&self) -> Option<&Store> {
        self.store.as_ref()
    }

    /// Store in the shared memory what was stored only locally so far.
    ///
    /// # Errors
    /// The shared memory cannot be written (after its patience with an absent one).
    pub(super) async fn flush(&self) -> Result<()> {
        let Some(store) = self.store.as_ref() else {
            return Ok(());
        };
        let done = std::mem::take(&mut *self.unshared.borrow_mut());
        if !done.is_empty() && store.is_shared() {
            store.complete(&done).await?;
        }
        let sent = std::mem::take(&mut *self.uncounted.borrow_mut());
        for (name, chars) in sent {
            if let Some((allowance, _)) = self.counts.get(&name) {
                allowance.take(chars).await?;
            }
        }
        Ok(())
    }

    /// The memory of a dry run, which counts what a run would send and shows no
    /// translation: [`Memory::first_hits`] says which entries are there, from the key
    /// index alone (their translations come back empty, and a damaged entry, which a
    /// run would fetch again, counts as there).
    pub(super) fn counting(cache: Option<&'a Cache>, events: &'a dyn Events) -> Memory<'a> {
        Memory {
            cache,
            events,
            counting: true,
            store: None,
            unshared: RefCell::default(),
            counts: HashMap::new(),
            uncounted: RefCell::default(),
        }
    }

    /// For each text, the translation the memory holds and the service of the chain
    /// it is served as: the first service in chain order with an entry, a reviewed
    /// entry (served as the chain's first service) before any. A damaged entry is
    /// reported and counts as missing.
    ///
    /// # Errors
    /// The cache cannot be read.
    pub(super) fn first_hits(
        &self,
        chain: &Chain,
        texts: &[(&str, &str, &ParaKeys)],
    ) -> Result<Vec<Option<(Hit, ServiceId)>>> {
        let Some(cache) = self.cache else {
            return Ok(vec![None; texts.len()]);
        };
        let services: Vec<ServiceId> = chain.ids().collect();
        if self.counting {
            return present(cache, &services, texts);
        }
        let parts = chain.key_parts();
        let providers: Vec<(&str, &str)> = (parts.iter())
            .map(|(p, o)| (p.as_str(), o.as_str()))
            .collect();
        let to = chain.to();
        let probes: Vec<Probe<'_>> = (texts.iter())
            .map(|&(from, source, keys)| Probe {
                from,
                to,
                text: keys.text(source),
                providers: &providers,
                ids: &keys.ids,
            })
            .collect();
        let found = cache.get_first(&probes)?;
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

    /// Store a machine translation: at once in the local cache, and in the shared
    /// memory (if any) at the next [`Memory::flush`].
    ///
    /// # Errors
    /// The cache cannot be written.
    pub(super) fn put(&self, key: &CacheKey, target: &str) -> Result<()> {
        if self.store.as_ref().is_some_and(Store::is_shared) {
            (self.unshared.borrow_mut()).push((key.clone(), target.to_string()));
        }
        match self.cache {
            Some(cache) => cache.put(key, target, Origin::Machine),
            None => Ok(()),
        }
    }

    /// Whether answers that come back from a request are stored by the request's
    /// future already ([`super::claim`]), so the coordinator need not store them.
    pub(super) fn stores_answers(&self) -> bool {
        self.store.is_some()
    }

    /// A connection of its own for the reader thread, which keeps prepared documents
    /// in the cache ([`super::prepared`]); `None` without a cache (or when it cannot
    /// be opened again: then every input is prepared afresh).
    pub(super) fn for_reader(&self) -> Option<Cache> {
        let cache = self.cache?;
        cache
            .reopen()
            .inspect_err(|e| tracing::debug!("no prepared documents this run: {e}"))
            .ok()
    }

    /// Characters the memory counts as sent to the service named `name` today.
    ///
    /// # Errors
    /// The cache cannot be read.
    pub(super) fn sent_today(&self, name: &str) -> Result<u64> {
        if self.store.is_some() {
            return Ok(self.counts.get(name).map_or(0, |(_, used)| *used));
        }
        match self.cache {
            Some(cache) => cache.chars_today(name),
            None => Ok(0),
        }
    }

    /// Count `chars` more characters sent to the service named `name` today.
    ///
    /// # Errors
    /// The cache cannot be written.
    pub(super) fn count_sent(&self, name: &str, chars: u64) -> Result<()> {
        if self.store.is_some() {
            if chars > 0 {
                (self.uncounted.borrow_mut()).push((name.to_string(), chars));
            }
            return Ok(());
        }
        match self.cache {
            Some(cache) if chars > 0 => cache.add_chars_today(name, chars),
            _ => Ok(()),
        }
    }
}

/// [`Memory::first_hits`] for a dry run: which entry is there, by id alone.
fn present(
    cache: &Cache,
    services: &[ServiceId],
    texts: &[(&str, &str, &ParaKeys)],
) -> Result<Vec<Option<(Hit, ServiceId)>>> {
    let ids: Vec<[u8; 32]> = (texts.iter())
        .flat_map(|(_, _, keys)| keys.ids.iter().copied())
        .collect();
    let there = cache.present(&ids)?;
    Ok(texts
        .iter()
        .map(|(_, _, keys)| {
            let at = keys.ids.iter().position(|id| there.contains(id))?;
            let (origin, service) = match at.checked_sub(1) {
                None => (Origin::Reviewed, ServiceId::FIRST),
                Some(i) => (Origin::Machine, *services.get(i)?),
            };
            let hit = Hit {
                target: String::new(),
                origin,
            };
            Some((hit, service))
        })
        .collect())
}

/// Makes the keys of paragraphs, on the reader thread: what looking a paragraph up
/// needs (its text as keys normalize it, the entry ids of every service of the
/// chain, its identity in the run) is normalizing and hashing, done there so the
/// coordinator only looks up. Prepared documents keep their paragraphs' keys
/// ([`super::prepared`]), so an unchanged input with the same chain is not hashed
/// again.
#[derive(Clone, Debug)]
pub(super) struct KeyMaker {
    to: String,
    /// `(name, options)` of each service, in chain order.
    providers: Vec<(String, String)>,
    fingerprint: [u8; 32],
}

/// What looking one paragraph up needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ParaKeys {
    /// The text as keys normalize it, when that is not the paragraph's source
    /// itself (it nearly always is).
    pub normalized: Option<String>,
    /// Its entry ids: the reviewed entry's, then each service's machine entry's.
    pub ids: Vec<[u8; 32]>,
}

impl ParaKeys {
    /// The text as keys normalize it, for the paragraph whose source is `source`.
    pub(super) fn text<'a>(&'a self, source: &'a str) -> &'a str {
        self.normalized.as_deref().unwrap_or(source)
    }

    /// Its identity in the run: its first service's machine entry id.
    pub(super) fn id(&self) -> TextId {
        TextId::of_entry(self.ids.get(1).or(self.ids.first()).unwrap_or(&[0; 32]))
    }
}

impl KeyMaker {
    /// The key maker of `chain`.
    pub(super) fn new(chain: &Chain) -> KeyMaker {
        let to = chain.to().to_string();
        let providers = chain.key_parts();
        let mut h = blake3::Hasher::new();
        h.update(b"tarjama-key-maker");
        for field in std::iter::once(&to).chain(providers.iter().flat_map(|(p, o)| [p, o])) {
            h.update(&(field.len() as u64).to_le_bytes());
            h.update(field.as_bytes());
        }
        KeyMaker {
            to,
            providers,
            fingerprint: *h.finalize().as_bytes(),
        }
    }

    /// What the keys depend on besides the paragraph: the target language and every
    /// service's name and options. Keys kept with a prepared document are used only
    /// by a run with the same fingerprint.
    pub(super) fn fingerprint(&self) -> &[u8; 32] {
        &self.fingerprint
    }

    /// The keys of a paragraph `source` in `from`.
    pub(super) fn keys(&self, from: &str, source: &str) -> ParaKeys {
        let normalized = match key_text(source) {
            Cow::Borrowed(_) => None,
            Cow::Owned(text) => Some(text),
        };
        let text = normalized.as_deref().unwrap_or(source);
        let providers: Vec<(&str, &str)> = (self.providers.iter())
            .map(|(p, o)| (p.as_str(), o.as_str()))
            .collect();
        let ids = Probe::ids_of(from, &self.to, text, &providers);
        ParaKeys { normalized, ids }
    }
}

/// `text` as cache keys normalize it ([`normalize_key_text`]), without the work when
/// it already is: a paragraph that came through ingest and segmentation is in NFC,
/// without removable controls, its whitespace single spaces, and normalizing it
/// again (a full NFC pass over every paragraph of a rerun) changes nothing. The check
/// is exact: whitespace and controls by character, NFC by `unicode-normalization`'s
/// quick check (<https://unicode.org/reports/tr15/#Detecting_Normalization_Forms>),
/// the same crate [`crate::ingest::normalize::canonical`] normalizes with. Anything
/// it cannot vouch for (`Maybe` included) is normalized.
pub(super) fn key_text(text: &str) -> Cow<'_, str> {
    if is_key_text(text) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(normalize_key_text(text))
    }
}

fn is_key_text(text: &str) -> bool {
    let mut after_space = true; // no leading space
    for c in text.chars() {
        if c.is_ascii() {
            if c == ' ' && after_space || c != ' ' && c.is_ascii_whitespace() || c == '\0' {
                return false;
            }
            after_space = c == ' ';
            continue;
        }
        after_space = false;
        if c.is_whitespace() || is_removable_control(c) {
            return false;
        }
    }
    (text.is_empty() || !after_space)
        && (text.is_ascii() || is_nfc_quick(text.chars()) == IsNormalized::Yes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn text_already_normal_is_borrowed_and_other_text_normalized() {
        for normal in [
            "",
            "روسیه روز پنجشنبه",
            "Café 12 % ok",
            "قال: «لا»؛ ۱۲۳ مي‌شود",
        ] {
            assert!(matches!(key_text(normal), Cow::Borrowed(_)), "{normal}");
        }
        for text in [
            " نص",
            "نص ",
            "نص  نص",
            "نص\nنص",
            "نص\u{00A0}نص",
            "\u{200F}نص",
            "Cafe\u{0301}",
            "ا\u{0653}",
            "م\u{0651}\u{064E}",
        ] {
            assert_eq!(key_text(text), normalize_key_text(text), "{text:?}");
            assert!(matches!(key_text(text), Cow::Owned(_)), "{text:?}");
        }
    }

    /// The reader's keys are the chain's: the ids of the reviewed entry and of each
    /// service's machine entry, whatever the whitespace of the source; the identity
    /// tells texts and languages apart.
    #[test]
    fn paragraph_keys_are_the_chains_cache_keys() {
        let config = crate::config::Config::builtin();
        let services: Vec<super::super::Service> = (["mymemory", "edge"].iter())
            .map(|n| super::super::Service {
                name: (*n).to_string(),
                settings: config.providers[*n].clone(),
            })
            .collect();
        let chain = Chain::new(&services, "en").unwrap();
        let maker = KeyMaker::new(&chain);
        let source = "قال  المتحدث\u{200F} اليوم";
        let keys = maker.keys("ar", source);
        let [first, second] = [ServiceId::FIRST, chain.ids().nth(1).unwrap()];
        assert_eq!(
            keys.ids,
            [
                chain.key(first, "ar", source).entry_id(Origin::Reviewed),
                chain.key(first, "ar", source).entry_id(Origin::Machine),
                chain.key(second, "ar", source).entry_id(Origin::Machine),
            ]
        );
        assert_eq!(keys.text(source), "قال المتحدث اليوم");
        let same = maker.keys("ar", "قال المتحدث اليوم");
        assert_eq!(same.ids, keys.ids);
        assert_eq!(same.text("قال المتحدث اليوم"), "قال المتحدث اليوم");
        assert_eq!(same.id(), keys.id());
        assert_ne!(maker.keys("fa", source).id(), keys.id());
        assert_ne!(maker.keys("ar", "قال المتحدث أمس").id(), keys.id());
        // Another chain (or target) makes other keys, told by the fingerprint.
        let alone = Chain::new(&services[..1], "en").unwrap();
        assert_ne!(KeyMaker::new(&alone).fingerprint(), maker.fingerprint());
        let fr = Chain::new(&services, "fr").unwrap();
        assert_ne!(KeyMaker::new(&fr).fingerprint(), maker.fingerprint());
        assert_eq!(KeyMaker::new(&chain).fingerprint(), maker.fingerprint());
    }

    proptest! {
        /// Whatever the text, the shortcut gives what normalizing gives.
        #[test]
        fn key_text_is_normalize_key_text(
            chars in prop::collection::vec(
                prop::sample::select(vec![
                    'ا', 'ب', 'م', 'ی', 'ک', 'آ', 'أ', '\u{0653}', '\u{0654}', '\u{064E}',
                    '\u{0651}', '\u{0650}', '\u{0670}', '\u{200C}', '\u{200F}', '\u{FEFF}',
                    ' ', '\n', '\u{00A0}', 'e', '\u{0301}', 'é', '1', '۱', '٫', '\0', '\u{0640}',
                    '\u{064B}', '\u{064F}', '\u{0652}', '«', '»', '“', '–', '\t',
                ]),
                0..12,
            )
        ) {
            let text: String = chars.into_iter().collect();
            prop_assert_eq!(key_text(&text).into_owned(), normalize_key_text(&text));
        }
    }
}
