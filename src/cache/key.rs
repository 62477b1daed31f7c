//! Cache keys from an explicit, stable serialization.
//!
//! The key covers the provider (its config name), the provider options that change
//! the output, the source and target language and the normalized source text
//! ([`normalize_key_text`]: ingest's character normalization, whitespace runs
//! collapsed, trimmed). It never includes an API key. The fields are
//! length-prefixed before hashing so that no two field lists serialize alike.
//!
//! A reviewed translation (a human correction, `translate import`) is keyed without
//! provider and options ([`CacheKey::reviewed`]): it holds for every provider.

/// Everything that decides a translation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CacheKey {
    /// Provider config name.
    pub provider: String,
    /// Provider options that change the output (model, formality, prompt version ...).
    pub options: String,
    /// Source language code as sent.
    pub from: String,
    /// Target language code.
    pub to: String,
    /// Normalized source text.
    pub text: String,
}

impl CacheKey {
    /// Build a key; `text` is normalized (whitespace collapsed, trimmed).
    #[must_use]
    pub fn new(provider: &str, options: &str, from: &str, to: &str, text: &str) -> CacheKey {
        CacheKey {
            provider: provider.to_string(),
            options: options.to_string(),
            from: from.to_string(),
            to: to.to_string(),
            text: normalize_key_text(text),
        }
    }

    /// The key of a reviewed translation of the same text: without provider and
    /// options, because a human correction holds whichever provider a later run uses.
    #[must_use]
    pub fn reviewed(&self) -> CacheKey {
        CacheKey {
            provider: String::new(),
            options: String::new(),
            from: self.from.clone(),
            to: self.to.clone(),
            text: self.text.clone(),
        }
    }

    fn hasher(&self, domain: &str, origin: &str) -> blake3::Hasher {
        let mut h = blake3::Hasher::new();
        for field in [
            domain,
            origin,
            &self.provider,
            &self.options,
            &self.from,
            &self.to,
            &self.text,
        ] {
            h.update(&(field.len() as u64).to_le_bytes());
            h.update(field.as_bytes());
        }
        h
    }

    /// The row id for this key and origin.
    #[must_use]
    pub fn id(&self, origin: &str) -> [u8; 32] {
        *self
            .hasher("tarjama-cache-v1-key", origin)
            .finalize()
            .as_bytes()
    }

    /// Checksum over the key fields and the stored translation.
    #[must_use]
    pub(crate) fn checksum(&self, origin: &str, target: &str) -> [u8; 32] {
        let mut h = self.hasher("tarjama-cache-v1-sum", origin);
        h.update(&(target.len() as u64).to_le_bytes());
        h.update(target.as_bytes());
        *h.finalize().as_bytes()
    }
}

/// The one normalization of a source text for keys and comparisons: ingest's
/// character normalization ([`crate::ingest::normalize::canonical`]: bidi controls,
/// stray BOMs and zero-width spaces removed, Unicode NFC), then whitespace runs
/// collapsed to one space and trimmed. Text that came through ingest is already
/// canonical, so its keys are the same as before this normalization was shared;
/// a correction pasted with right-to-left marks or diacritics in another order
/// gets the key of the paragraph it corrects.
#[must_use]
pub fn normalize_key_text(text: &str) -> String {
    let canonical = crate::ingest::normalize::canonical(text);
    canonical.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_under_whitespace_distinct_for_real_changes() {
        let a = CacheKey::new("p", "o", "ar", "en", "  مرحبا \n بالعالم ");
        let b = CacheKey::new("p", "o", "ar", "en", "مرحبا بالعالم");
        assert_eq!(a.id("machine"), b.id("machine"));
        for other in [
            CacheKey::new("p", "o", "ar", "en", "مرحبا بالعالم!"),
            CacheKey::new("q", "o", "ar", "en", "مرحبا بالعالم"),
            CacheKey::new("p", "o2", "ar", "en", "مرحبا بالعالم"),
            CacheKey::new("p", "o", "fa", "en", "مرحبا بالعالم"),
            CacheKey::new("p", "o", "ar", "fr", "مرحبا بالعالم"),
        ] {
            assert_ne!(a.id("machine"), other.id("machine"));
        }
        assert_ne!(a.id("machine"), a.id("reviewed"));
        // Field boundaries matter: ("ab","c") is not ("a","bc").
        let x = CacheKey::new("ab", "c", "ar", "en", "t");
        let y = CacheKey::new("a", "bc", "ar", "en", "t");
        assert_ne!(x.id("machine"), y.id("machine"));
    }

    #[test]
    fn bidi_marks_and_mark_order_do_not_change_the_key() {
        let a = CacheKey::new("p", "o", "ar", "en", "\u{200F}شدّة الحرب\u{200E}");
        let b = CacheKey::new("p", "o", "ar", "en", "شد\u{0651}ة الحرب");
        assert_eq!(a.id("machine"), b.id("machine"));
        // Text ingest produced is already canonical: its key text is unchanged.
        assert_eq!(normalize_key_text("  مرحبا \n بالعالم "), "مرحبا بالعالم");
    }
}
