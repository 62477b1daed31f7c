//! Prepared documents reused: an input whose bytes did not change since a run on the
//! same cache is not decoded, segmented and detected again.
//!
//! Preparing a document (decoding, HTML extraction, normalization, Persian spelling,
//! paragraphs and their kinds, language detection) is most of what a cached rerun
//! used to spend. Its result depends only on the input's bytes and format, `--from`,
//! `--to`, and the code that made it; so the reader keeps it in the cache
//! ([`Cache::put_prepared`]) under an id naming the input and the languages, with a
//! digest of all of those, and the next run that finds the same digest reads the
//! paragraphs back instead ([`Cache::prepared`]).
//!
//! "The code that made it" is the running executable: its size and modification
//! time (with the version) stand for the build, so a new build prepares everything
//! once again rather than trusting a version number someone must remember to raise.
//! Where the executable cannot be found, nothing is reused.
//!
//! The paragraphs' keys ([`ParaKeys`]: the text as keys normalize it and the ids of
//! its cache entries under each service of the chain) are kept with them, with the
//! fingerprint of what they were made for (the target language, every service's
//! name and options): a rerun with the same chain reads them back too, and hashes
//! nothing per paragraph; another chain makes its own (and keeps them instead).
//!
//! The body is a small length-prefixed encoding (a version tag, the keys'
//! fingerprint, then per paragraph its kind, language, text and keys); anything that
//! does not decode is prepared again. The input's own path (`rel`) is not stored: it
//! is the run's.

use std::path::Path;

use crate::cache::Cache;
use crate::ingest::{self, MAX_FILE_BYTES};
use crate::model::{FileError, InputFile, Kind, Paragraph, PreparedDoc, SourceFormat};

use super::memory::{KeyMaker, ParaKeys};
use super::{initial_outcome, prepare};

/// A document read, prepared and keyed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Admitted {
    /// The document.
    pub doc: PreparedDoc,
    /// The keys of each paragraph that needs a translation (`None` for the others:
    /// page furniture, text already in the target language).
    pub keys: Vec<Option<ParaKeys>>,
    /// A digest of everything the document and its keys were made from (the input's
    /// bytes, the languages, the build, the chain's keys); `None` when the reader
    /// keeps no cache and did not compute one.
    pub made_from: Option<[u8; 32]>,
}

/// Prepared documents written per transaction.
const PUT_BATCH: usize = 64;

/// The version tag of the body encoding.
const TAG: &[u8; 4] = b"TJP2";

/// Reads inputs into prepared documents, reusing those a cache holds.
pub(super) struct Preparer {
    from: Option<String>,
    to: String,
    keys: KeyMaker,
    reuse: Option<Reuse>,
}

/// Where prepared documents are kept.
struct Reuse {
    cache: Cache,
    build: [u8; 32],
    /// Prepared here, not stored yet.
    pending: Vec<(String, [u8; 32], Vec<u8>)>,
}

impl Preparer {
    /// A preparer for `--from`/`--to`, keying paragraphs with `keys`, reusing what
    /// `cache` holds (a connection of its own; a dry run's is read-only and stores
    /// nothing).
    pub(super) fn new(
        from: Option<String>,
        to: String,
        keys: KeyMaker,
        cache: Option<Cache>,
    ) -> Preparer {
        let reuse = cache.zip(build_identity()).map(|(cache, build)| Reuse {
            cache,
            build,
            pending: Vec::new(),
        });
        Preparer {
            from,
            to,
            keys,
            reuse,
        }
    }

    /// Read, prepare and key `file`, from the cache when its bytes are those it was
    /// prepared from.
    ///
    /// # Errors
    /// The file cannot be used (the same one-line errors as [`ingest::read`]).
    pub(super) fn read(&mut self, file: &InputFile) -> Result<Admitted, FileError> {
        let (from, to) = (self.from.as_deref(), self.to.as_str());
        // Anything unusual (not a regular file, too large, unreadable) is left to
        // ingest, which says what is wrong with it.
        let bytes = self.reuse.as_ref().and_then(|_| small_file(&file.path));
        let (Some(reuse), Some(bytes)) = (&mut self.reuse, bytes) else {
            let doc = ingest::read(file).map(|doc| prepare(doc, from, to))?;
            return Ok(key(&self.keys, to, doc));
        };
        let id = format!("{to}\t{}\t{}", from.unwrap_or("auto"), file.path.display());
        let digest = digest(&reuse.build, file.format, from, to, &bytes);
        let stored = reuse.cache.prepared(&id, &digest).unwrap_or_else(|e| {
            tracing::debug!("prepared document of {}: {e}", file.path.display());
            None
        });
        let fingerprint = self.keys.fingerprint();
        let made_from = Some(made_from(&digest, fingerprint));
        let admitted = match stored.and_then(|body| decode(&body, &file.rel)) {
            Some((admitted, keyed_for)) if keyed_for == *fingerprint => {
                return Ok(Admitted {
                    made_from,
                    ..admitted
                });
            }
            // Prepared for another chain: keyed again, and kept so.
            Some((admitted, _)) => key(&self.keys, to, admitted.doc),
            None => {
                let doc =
                    ingest::read_from_bytes(file, &bytes).map(|doc| prepare(doc, from, to))?;
                key(&self.keys, to, doc)
            }
        };
        reuse
            .pending
            .push((id, digest, encode(&admitted, fingerprint)));
        if reuse.pending.len() >= PUT_BATCH {
            reuse.store();
        }
        Ok(Admitted {
            made_from,
            ..admitted
        })
    }
}

/// What a document prepared from `digest` and keyed for `fingerprint` is made from.
fn made_from(digest: &[u8; 32], fingerprint: &[u8; 32]) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(b"tarjama-admitted-v1");
    h.update(digest);
    h.update(fingerprint);
    *h.finalize().as_bytes()
}

/// `doc` with the keys of each paragraph that needs a translation into `to`.
fn key(keys: &KeyMaker, to: &str, doc: PreparedDoc) -> Admitted {
    let keys = (doc.paragraphs.iter())
        .map(|p| {
            initial_outcome(p, to)
                .is_none()
                .then(|| keys.keys(&p.src_lang, &p.source))
        })
        .collect();
    Admitted {
        doc,
        keys,
        made_from: None,
    }
}

impl Reuse {
    /// Store what was prepared. Failing to is no error: it is prepared again next
    /// time.
    fn store(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        if let Err(e) = self.cache.put_prepared(&pending) {
            tracing::debug!("prepared documents not kept: {e}");
        }
    }
}

impl Drop for Preparer {
    fn drop(&mut self) {
        if let Some(reuse) = &mut self.reuse {
            reuse.store();
        }
    }
}

/// The bytes of a regular file within ingest's size limit; `None` for anything else
/// (ingest then reads it and reports what is wrong).
fn small_file(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read as _;
    let meta = fs_err::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_FILE_BYTES {
        return None;
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).ok()?);
    let f = fs_err::File::open(path).ok()?;
    f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).ok()?;
    (bytes.len() as u64 <= MAX_FILE_BYTES).then_some(bytes)
}

/// The running build: the executable's size and modification time, and the version.
pub(super) fn build_identity() -> Option<[u8; 32]> {
    let exe = std::env::current_exe().ok()?;
    let meta = fs_err::metadata(exe).ok()?;
    let modified = meta.modified().ok()?;
    let since = modified.duration_since(std::time::UNIX_EPOCH).ok()?;
    let mut h = blake3::Hasher::new();
    h.update(b"tarjama-build");
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(&meta.len().to_le_bytes());
    h.update(&since.as_nanos().to_le_bytes());
    Some(*h.finalize().as_bytes())
}

/// Everything a prepared document is made from.
fn digest(
    build: &[u8; 32],
    format: SourceFormat,
    from: Option<&str>,
    to: &str,
    bytes: &[u8],
) -> [u8; 32] {
    let format = match format {
        SourceFormat::Text => "txt",
        SourceFormat::Markdown => "md",
        SourceFormat::Html => "html",
    };
    let mut h = blake3::Hasher::new();
    h.update(b"tarjama-prepared-v1");
    h.update(build);
    for field in [format, from.unwrap_or(""), to] {
        h.update(&(field.len() as u64).to_le_bytes());
        h.update(field.as_bytes());
    }
    h.update(bytes);
    *h.finalize().as_bytes()
}

fn kind_code(kind: Kind) -> u8 {
    match kind {
        Kind::Text => 0,
        Kind::Heading => 1,
        Kind::Caption => 2,
        Kind::Boilerplate => 3,
        Kind::Duplicate => 4,
    }
}

fn kind_of(code: u8) -> Option<Kind> {
    Some(match code {
        0 => Kind::Text,
        1 => Kind::Heading,
        2 => Kind::Caption,
        3 => Kind::Boilerplate,
        4 => Kind::Duplicate,
        _ => return None,
    })
}

/// The body stored for `admitted`, its keys made for `fingerprint`.
fn encode(admitted: &Admitted, fingerprint: &[u8; 32]) -> Vec<u8> {
    let doc = &admitted.doc;
    let size: usize = (doc.paragraphs.iter())
        .map(|p| p.source.len() + p.src_lang.len() + 9 + 3 * 32)
        .sum();
    let mut out = Vec::with_capacity(size + 64);
    out.extend_from_slice(TAG);
    out.extend_from_slice(fingerprint);
    put_str(&mut out, &doc.src_lang);
    put_len(&mut out, doc.paragraphs.len());
    for (i, p) in doc.paragraphs.iter().enumerate() {
        out.push(kind_code(p.kind));
        put_str(&mut out, &p.src_lang);
        put_str(&mut out, &p.source);
        match admitted.keys.get(i).and_then(Option::as_ref) {
            None => out.push(0),
            Some(keys) => {
                match &keys.normalized {
                    None => out.push(1),
                    Some(text) => {
                        out.push(2);
                        put_str(&mut out, text);
                    }
                }
                put_len(&mut out, keys.ids.len());
                for id in &keys.ids {
                    out.extend_from_slice(id);
                }
            }
        }
    }
    out
}

fn put_len(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_len(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

/// The document `body` holds, as the input `rel`, and the fingerprint its keys
/// were made for; `None` when it does not decode.
fn decode(body: &[u8], rel: &str) -> Option<(Admitted, [u8; 32])> {
    let mut r = Bytes(body.strip_prefix(TAG)?);
    let fingerprint: [u8; 32] = r.take(32)?.try_into().ok()?;
    let src_lang = r.str()?;
    let n = r.len()?;
    let mut paragraphs = Vec::with_capacity(n.min(body.len()));
    let mut keys = Vec::with_capacity(n.min(body.len()));
    for index in 0..n {
        let kind = kind_of(r.byte()?)?;
        let src_lang = r.str()?;
        let source = r.str()?;
        paragraphs.push(Paragraph {
            index,
            kind,
            src_lang,
            source,
        });
        let normalized = match r.byte()? {
            0 => {
                keys.push(None);
                continue;
            }
            1 => None,
            2 => Some(r.str()?),
            _ => return None,
        };
        let count = r.len()?;
        let ids = (0..count)
            .map(|_| r.take(32)?.try_into().ok())
            .collect::<Option<Vec<[u8; 32]>>>()?;
        keys.push(Some(ParaKeys { normalized, ids }));
    }
    let doc = PreparedDoc {
        rel: rel.to_string(),
        src_lang,
        paragraphs,
    };
    r.0.is_empty().then_some((
        Admitted {
            doc,
            keys,
            made_from: None,
        },
        fingerprint,
    ))
}

/// A reader over a body.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn byte(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn len(&mut self) -> Option<usize> {
        let n = u32::from_le_bytes(self.take(4)?.try_into().ok()?);
        usize::try_from(n).ok()
    }

    fn str(&mut self) -> Option<String> {
        let n = self.len()?;
        let bytes = self.take(n)?;
        simdutf8::basic::from_utf8(bytes).ok().map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Service;
    use crate::pipeline::chain::Chain;

    fn file(dir: &Path, name: &str, text: &str) -> InputFile {
        let path = dir.join(name);
        fs_err::write(&path, text).unwrap();
        InputFile {
            path,
            rel: name.to_string(),
            format: SourceFormat::Text,
        }
    }

    fn maker(names: &[&str]) -> KeyMaker {
        let config = crate::config::Config::builtin();
        let services: Vec<Service> = (names.iter())
            .map(|n| Service {
                name: (*n).to_string(),
                settings: config.providers[*n].clone(),
            })
            .collect();
        KeyMaker::new(&Chain::new(&services, "en").unwrap())
    }

    fn preparer(cache: Option<Cache>) -> Preparer {
        Preparer::new(None, "en".into(), maker(&["libretranslate"]), cache)
    }

    /// `a` without what it is made from (which only a reader with a cache says).
    fn unmade(a: Admitted) -> Admitted {
        Admitted {
            made_from: None,
            ..a
        }
    }

    /// What a run without any cache makes of `f`.
    fn fresh(f: &InputFile, keys: &KeyMaker) -> Admitted {
        key(keys, "en", prepare(ingest::read(f).unwrap(), None, "en"))
    }

    const ARTICLE: &str = "روسيا تعترف بطالبان\n\nأعلنت روسيا، اليوم الخميس، أنها قبلت أوراق اعتماد سفير جديد لأفغانستان.\n\nShare this\n\nThis line is English.\n\nقال  المتحدث\u{200F} اليوم\n";

    #[test]
    fn a_body_decodes_to_the_document_it_encodes() {
        let dir = tempfile::tempdir().unwrap();
        let f = file(dir.path(), "a.txt", ARTICLE);
        let keys = maker(&["libretranslate"]);
        let admitted = fresh(&f, &keys);
        assert!(admitted.doc.paragraphs.len() >= 4);
        assert!(
            admitted.keys.iter().any(Option::is_none),
            "English is not keyed"
        );
        let body = encode(&admitted, keys.fingerprint());
        assert_eq!(
            decode(&body, "a.txt"),
            Some((admitted.clone(), *keys.fingerprint()))
        );
        // Another run's path for the same bytes.
        assert_eq!(decode(&body, "b/a.txt").unwrap().0.doc.rel, "b/a.txt");
        // Cut short, or with something after it, or another tag: not a document.
        assert_eq!(decode(&body[..body.len() - 1], "a.txt"), None);
        assert_eq!(decode(&[body.clone(), vec![0]].concat(), "a.txt"), None);
        assert_eq!(decode(&[b"TJP9", &body[4..]].concat(), "a.txt"), None);
    }

    /// A second run over the same bytes reads the prepared document back; a changed
    /// file, other languages or another build are prepared again; another chain keys
    /// it again; a dry run's read-only cache stores nothing.
    #[test]
    fn prepared_documents_are_reused_only_for_the_same_bytes_and_options() {
        let dir = tempfile::tempdir().unwrap();
        let cache_dir = dir.path().join("cache");
        let cache = Cache::open(&cache_dir).unwrap();
        let f = file(dir.path(), "a.txt", ARTICLE);
        let lt = maker(&["libretranslate"]);
        let fresh_doc = fresh(&f, &lt);
        let mut p = preparer(Some(cache.reopen().unwrap()));
        let first = p.read(&f).unwrap();
        let made_from = first.made_from.expect("what it is made from");
        assert_eq!(unmade(first), fresh_doc);
        drop(p); // stores what it prepared
        let id = format!("en\tauto\t{}", f.path.display());
        let build = build_identity().unwrap();
        let d = digest(&build, f.format, None, "en", ARTICLE.as_bytes());
        let body = cache.prepared(&id, &d).unwrap().expect("stored");
        assert_eq!(
            decode(&body, "a.txt"),
            Some((fresh_doc.clone(), *lt.fingerprint()))
        );
        // Another build, other options, other bytes: other digests.
        let other_build = digest(&[0; 32], f.format, None, "en", ARTICLE.as_bytes());
        assert_eq!(cache.prepared(&id, &other_build).unwrap(), None);
        assert_ne!(
            d,
            digest(&build, f.format, Some("fa"), "en", ARTICLE.as_bytes())
        );
        assert_ne!(
            d,
            digest(
                &build,
                SourceFormat::Markdown,
                None,
                "en",
                ARTICLE.as_bytes()
            )
        );
        // Served from the cache: a body that says something else is believed, which
        // shows it is read back (and not prepared again) when the digest matches.
        let mut other = fresh_doc.clone();
        other.doc.paragraphs.truncate(1);
        other.keys.truncate(1);
        cache
            .put_prepared(&[(id.clone(), d, encode(&other, lt.fingerprint()))])
            .unwrap();
        let mut p = preparer(Some(cache.reopen().unwrap()));
        let read = p.read(&f).unwrap();
        assert_eq!(
            read.made_from,
            Some(made_from),
            "the same bytes, chain, build"
        );
        assert_eq!(unmade(read), other);
        drop(p);
        // Another chain: the same paragraphs, keyed for it, and kept so.
        let two = maker(&["mymemory", "edge"]);
        let mut p = Preparer::new(
            None,
            "en".into(),
            two.clone(),
            Some(cache.reopen().unwrap()),
        );
        let rekeyed = p.read(&f).unwrap();
        assert_ne!(rekeyed.made_from, Some(made_from), "another chain");
        let rekeyed = unmade(rekeyed);
        drop(p);
        assert_eq!(rekeyed.doc, other.doc);
        assert_eq!(rekeyed, key(&two, "en", other.doc.clone()));
        let body = cache.prepared(&id, &d).unwrap().unwrap();
        assert_eq!(decode(&body, "a.txt").unwrap().1, *two.fingerprint());
        // The file changes: prepared again, and kept for next time.
        let edited = format!("{ARTICLE}\nسطر جديد في المقال.\n");
        fs_err::write(&f.path, &edited).unwrap();
        let mut p = preparer(Some(cache.reopen().unwrap()));
        let read = p.read(&f).unwrap();
        assert!(
            read.made_from.is_some_and(|m| m != made_from),
            "other bytes"
        );
        assert_eq!(unmade(read), fresh(&f, &lt));
        drop(p);
        let d2 = digest(&build, f.format, None, "en", edited.as_bytes());
        assert!(cache.prepared(&id, &d2).unwrap().is_some());
        assert_eq!(cache.prepared(&id, &d).unwrap(), None, "one row per input");
        // A dry run's cache reads but never stores.
        let g = file(dir.path(), "g.txt", ARTICLE);
        let ro = Cache::open_existing(&cache_dir).unwrap().unwrap();
        let mut p = preparer(Some(ro));
        assert_eq!(p.read(&g).unwrap().doc.paragraphs, fresh_doc.doc.paragraphs);
        drop(p);
        let gid = format!("en\tauto\t{}", g.path.display());
        assert_eq!(cache.prepared(&gid, &d).unwrap(), None);
    }

    /// Inputs ingest refuses are refused with ingest's own message.
    #[test]
    fn unusable_inputs_get_ingests_errors() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("cache")).unwrap();
        let mut p = preparer(Some(cache));
        let empty = file(dir.path(), "empty.txt", "");
        let missing = InputFile {
            path: dir.path().join("missing.txt"),
            rel: "missing.txt".into(),
            format: SourceFormat::Text,
        };
        for f in [&empty, &missing] {
            assert_eq!(p.read(f).unwrap_err(), ingest::read(f).unwrap_err());
        }
    }
}
