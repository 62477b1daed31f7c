//! Synthetic Arabic corpora for tests that need many distinct paragraphs and
//! corpora that overlap by chosen documents (concurrent runs, the kill loop).
//!
//! Document `d` has [`PARAGRAPHS`] paragraphs; each paragraph is a numbered
//! sentence of news-like Arabic words picked by a hash of `(d, p)`, so every
//! paragraph of every document is distinct, and the same `d` always gives the same
//! text.

use std::path::{Path, PathBuf};

/// Paragraphs per document.
pub const PARAGRAPHS: usize = 6;

const WORDS: [&str; 40] = [
    "الحكومة",
    "أعلنت",
    "وزارة",
    "الخارجية",
    "اليوم",
    "اجتماع",
    "الوفد",
    "العاصمة",
    "المفاوضات",
    "الاقتصادي",
    "الأمني",
    "التعاون",
    "البلدين",
    "المنطقة",
    "الرئيس",
    "البرلمان",
    "القرار",
    "الأسبوع",
    "المقبل",
    "مصادر",
    "رسمية",
    "السفير",
    "الجديد",
    "الاتفاق",
    "التجاري",
    "الطاقة",
    "النفط",
    "الأسواق",
    "المحلية",
    "الدولية",
    "تقرير",
    "صحيفة",
    "المسؤولين",
    "الحدود",
    "الشمالية",
    "المساعدات",
    "الإنسانية",
    "اللاجئين",
    "المجلس",
    "الوطني",
];

fn arabic_number(mut n: usize) -> String {
    let mut digits = Vec::new();
    loop {
        digits.push(char::from_u32('٠' as u32 + (n % 10) as u32).unwrap());
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits.iter().rev().collect()
}

/// Paragraph `p` of document `d`.
pub fn paragraph(d: usize, p: usize) -> String {
    let mut h = (d as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ ((p as u64 + 1) * 0xBF58_476D);
    let mut words = Vec::new();
    for _ in 0..12 {
        h ^= h >> 31;
        h = h.wrapping_mul(0x94D0_49BB_1331_11EB);
        words.push(WORDS[(h % WORDS.len() as u64) as usize]);
    }
    format!(
        "الفقرة {} من التقرير {}: {}.",
        arabic_number(p + 1),
        arabic_number(d + 1),
        words.join(" ")
    )
}

/// Document `d`'s text.
pub fn document(d: usize) -> String {
    (0..PARAGRAPHS)
        .map(|p| paragraph(d, p))
        .collect::<Vec<_>>()
        .join("\n\n")
        + "\n"
}

/// Write documents `docs` into `dir` as `doc_<d>.txt`; returns `dir`.
pub fn write(dir: &Path, docs: impl IntoIterator<Item = usize>) -> PathBuf {
    fs_err::create_dir_all(dir).unwrap();
    for d in docs {
        fs_err::write(dir.join(format!("doc_{d:03}.txt")), document(d)).unwrap();
    }
    dir.to_path_buf()
}

/// Every paragraph of documents `docs`.
pub fn texts(docs: impl IntoIterator<Item = usize>) -> Vec<String> {
    docs.into_iter()
        .flat_map(|d| (0..PARAGRAPHS).map(move |p| paragraph(d, p)))
        .collect()
}
