//! Align: each source paragraph next to its translation, or its reason for having none.
//!
//! The pipeline hands over a prepared document and one [`Outcome`] per paragraph; this
//! stage turns them into the [`AlignedDoc`] every writer renders, in document order,
//! with `cached`, `flags` and `sentences` set the same way for every output format.
//!
//! - this file: pairing paragraphs with outcomes (status flags such as `not_sent`).
//! - [`sentence`]: the sentences of a translated paragraph aligned with those of its
//!   translation (Gale–Church), filling [`Row::sentences`].
//! - [`quality`]: the quality flags of translated rows (`number_mismatch`,
//!   `untranslated`, `length_ratio`, `empty`, `truncated`, `same_target`).

pub mod quality;
pub mod sentence;

use crate::model::{AlignedDoc, Flag, Lang, PreparedDoc, Row};

/// What happened to one paragraph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Boilerplate or duplicate: kept, not sent.
    NotSent,
    /// Already in the target language: not sent.
    SameLanguage,
    /// Translated.
    Translated {
        /// The translation.
        target: String,
        /// Served from the cache.
        cached: bool,
        /// A human correction from the cache.
        reviewed: bool,
    },
    /// Left untranslated, with the flag saying why (see [`Flag`]).
    Failed(Flag),
}

/// Pair every paragraph of `doc` with its outcome.
///
/// # Panics
/// If `outcomes` does not have one entry per paragraph (a pipeline bug).
#[must_use]
pub fn align(doc: &PreparedDoc, outcomes: Vec<Outcome>, to: &str, provider: &str) -> AlignedDoc {
    assert_eq!(
        doc.paragraphs.len(),
        outcomes.len(),
        "one outcome per paragraph"
    );
    let mut rows = doc
        .paragraphs
        .iter()
        .zip(outcomes)
        .map(|(p, outcome)| {
            let mut row = Row {
                index: p.index,
                kind: p.kind,
                src_lang: p.src_lang.clone(),
                source: p.source.clone(),
                target: None,
                cached: false,
                flags: Vec::new(),
                sentences: Vec::new(),
            };
            match outcome {
                Outcome::NotSent => row.flags.push(Flag::NotSent),
                Outcome::SameLanguage => row.flags.push(Flag::SameLanguage),
                Outcome::Translated {
                    target,
                    cached,
                    reviewed,
                } => {
                    let lang = if Lang::is_und(&p.src_lang) {
                        &doc.src_lang
                    } else {
                        &p.src_lang
                    };
                    let model = sentence::length_model(lang, to);
                    row.sentences = sentence::align_text(&p.source, &target, model);
                    row.cached = cached;
                    if reviewed {
                        row.flags.push(Flag::Reviewed);
                    }
                    let quality = quality::paragraph_flags(&p.source, &target, to, model);
                    row.flags.extend(quality);
                    row.target = Some(target);
                }
                Outcome::Failed(flag) => row.flags.push(flag),
            }
            row
        })
        .collect::<Vec<_>>();
    quality::mark_same_target(&mut rows);
    AlignedDoc {
        rel: doc.rel.clone(),
        src_lang: doc.src_lang.clone(),
        tgt_lang: to.to_string(),
        provider: provider.into(),
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::normalize_key_text;
    use crate::model::{Kind, Paragraph, SentencePair};

    #[test]
    fn rows_follow_paragraphs_and_outcomes() {
        let para = |index, kind, text: &str| Paragraph {
            index,
            kind,
            src_lang: "ar".into(),
            source: text.into(),
        };
        let doc = PreparedDoc {
            rel: "a.txt".into(),
            src_lang: "ar".into(),
            paragraphs: vec![
                para(0, Kind::Heading, "عنوان"),
                para(1, Kind::Boilerplate, "شاركها."),
                para(2, Kind::Text, "نص"),
            ],
        };
        let out = align(
            &doc,
            vec![
                Outcome::Translated {
                    target: "Title".into(),
                    cached: true,
                    reviewed: false,
                },
                Outcome::NotSent,
                Outcome::Failed(Flag::OfflineMiss),
            ],
            "en",
            "libretranslate",
        );
        assert_eq!(out.rows[0].target.as_deref(), Some("Title"));
        assert!(out.rows[0].cached);
        assert_eq!(out.rows[1].flags, vec![Flag::NotSent]);
        assert!(out.rows[2].is_untranslated());
        assert_eq!(out.rows[2].flags, vec![Flag::OfflineMiss]);
    }

    fn translated(target: &str) -> Outcome {
        Outcome::Translated {
            target: target.into(),
            cached: false,
            reviewed: false,
        }
    }

    fn doc_of(texts: &[&str]) -> PreparedDoc {
        PreparedDoc {
            rel: "000.txt".into(),
            src_lang: "ar".into(),
            paragraphs: texts
                .iter()
                .enumerate()
                .map(|(index, t)| Paragraph {
                    index,
                    kind: Kind::Text,
                    src_lang: "fa".into(),
                    source: (*t).into(),
                })
                .collect(),
        }
    }

    #[test]
    fn translated_rows_get_sentence_pairs_that_join_back() {
        // Seed 003 (hard-wrapped there; segment joins the lines).
        let source = "به گزارش آران نیوز به نقل از ایراف، مسکو در اقدامی بی سابقه، حکومت طالبان را به رسمیت\nشناخت. این تصمیم که پس از سومین دور نشست دوحه و در پی اظهارات نماینده ویژه روسیه در امور افغانستان اعلام شد، نشانگر تغییر استراتژیک کرملین در قبال کابل است.";
        let target = "According to Aran News, citing IRAF, Moscow officially recognized the Taliban government in an unprecedented move.  This decision, announced after the third round of the Doha meeting and following statements by Russia's special envoy for Afghan affairs, marks a strategic shift in the Kremlin's policy towards Kabul.";
        let out = align(
            &doc_of(&[source, "متن"]),
            vec![translated(target), Outcome::Failed(Flag::OfflineMiss)],
            "en",
            "deepl",
        );
        let row = &out.rows[0];
        assert_eq!(row.sentences.len(), 2);
        assert!(row.sentences[0].source.ends_with("شناخت."));
        assert!(row.sentences[0].target.ends_with("unprecedented move."));
        let join = |f: fn(&SentencePair) -> &str| {
            let parts: Vec<&str> = row
                .sentences
                .iter()
                .map(f)
                .filter(|s| !s.is_empty())
                .collect();
            parts.join(" ")
        };
        assert_eq!(join(|p| &p.source), normalize_key_text(source));
        assert_eq!(join(|p| &p.target), normalize_key_text(target));
        assert!(row.flags.is_empty(), "{:?}", row.flags);
        assert!(out.rows[1].sentences.is_empty());
    }

    #[test]
    fn same_target_flags_every_row_sharing_a_translation() {
        // Two different seed 000 sub-headings rendered identically, and one repeated
        // source (identical translations of identical sources are fine).
        let out = align(
            &doc_of(&[
                "روسيا تدعم طالبان",
                "الاعتراف الرسمي بحكومة طالبان",
                "أيديولوجية جهاد عالمي متطرفة",
                "أيديولوجية جهاد عالمي متطرفة",
            ]),
            vec![
                translated("Russia backs the Taliban"),
                translated("Russia  backs the Taliban"),
                translated("An extremist global jihad ideology"),
                translated("An extremist global jihad ideology"),
            ],
            "en",
            "deepl",
        );
        let has = |i: usize| out.rows[i].flags.contains(&Flag::SameTarget);
        assert!(has(0) && has(1));
        assert!(!has(2) && !has(3));
    }

    #[test]
    fn reviewed_rows_still_get_quality_flags() {
        let out = align(
            &doc_of(&["قتل 145 شخصاً في مارس."]),
            vec![Outcome::Translated {
                target: "154 people were killed in March.".into(),
                cached: true,
                reviewed: true,
            }],
            "en",
            "deepl",
        );
        assert_eq!(
            out.rows[0].flags,
            vec![Flag::Reviewed, Flag::NumberMismatch]
        );
    }
}
