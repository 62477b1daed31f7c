//! Output files: HTML, Markdown, TMX, JSONL, index.html and report.json, written
//! from hand-built aligned documents with Arabic and Persian press text.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use quick_xml::events::Event;
use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use tarjama::error::Error;
use tarjama::model::{AlignedDoc, DocCounts, FileError, Flag, Kind, Row, RunReport, SentencePair};
use tarjama::write::{
    Format, WriteOptions, output_path, render_with, tmx, write_atomic, write_document, write_index,
    write_report,
};

const REL: &str = "seeds/000_2d74ac5e9dc5bed1.txt";
const XSS_SRC: &str =
    "قال المتحدث <script>alert(1)</script> ثم <img src=x onerror=alert(1)> & \"انتهى\"";
const XSS_TGT: &str =
    "The spokesman said <script>alert(1)</script> then <img src=x onerror=alert(1)> & \"done\"";
const MD_TGT: &str =
    "# Not a heading\n> not a quote\n- not a list\n1. not numbered\n*stars* and _under_";

fn row(index: usize, kind: Kind, lang: &str, source: &str, target: Option<&str>) -> Row {
    Row {
        index,
        kind,
        src_lang: lang.to_owned(),
        source: source.to_owned(),
        target: target.map(str::to_owned),
        cached: false,
        flags: Vec::new(),
        sentences: Vec::new(),
    }
}

fn flagged(mut r: Row, flag: Flag) -> Row {
    r.flags.push(flag);
    r
}

/// `r` with its sentence pairs: the source and target cut at the given word
/// boundaries (so each side's pairs, joined by a space, give the paragraph back).
fn with_sentences(mut r: Row, pairs: &[(&str, &str)]) -> Row {
    r.sentences = pairs
        .iter()
        .map(|(s, t)| SentencePair {
            source: (*s).to_owned(),
            target: (*t).to_owned(),
        })
        .collect();
    let join = |side: fn(&SentencePair) -> &str| {
        let parts: Vec<&str> = r
            .sentences
            .iter()
            .map(side)
            .filter(|s| !s.is_empty())
            .collect();
        parts.join(" ")
    };
    assert_eq!(join(|p| &p.source), r.source);
    assert_eq!(Some(join(|p| &p.target)), r.target);
    r
}

/// One document with every kind of row.
fn sample(rel: &str) -> AlignedDoc {
    let mut heading = row(
        0,
        Kind::Heading,
        "ar",
        "روسيا تعترف رسمياً بحكومة طالبان في أفغانستان كأول دولة تفعل ذلك",
        Some(
            "Russia officially recognises the Taliban government in Afghanistan, the first country to do so",
        ),
    );
    heading.cached = true;
    let rows = vec![
        heading,
        with_sentences(
            row(
                1,
                Kind::Text,
                "ar",
                "أعلنت روسيا، اليوم الخميس، أنها قبلت أوراق اعتماد سفير جديد لأفغانستان، مما يجعلها أول دولة تعترف بحكومة “طالبان” في هذا البلد",
                Some(
                    "Russia announced on Thursday that it had accepted the credentials of a new ambassador of Afghanistan, making it the first country to recognise the “Taliban” government there",
                ),
            ),
            &[
                (
                    "أعلنت روسيا، اليوم الخميس، أنها قبلت أوراق اعتماد سفير جديد لأفغانستان،",
                    "Russia announced on Thursday that it had accepted the credentials of a new ambassador of Afghanistan,",
                ),
                (
                    "مما يجعلها أول دولة تعترف بحكومة “طالبان” في هذا البلد",
                    "making it the first country to recognise the “Taliban” government there",
                ),
                ("", ""),
            ],
        ),
        flagged(
            row(
                2,
                Kind::Boilerplate,
                "ar",
                "24 نوفمبر 2024 22:56 22 جمادى أول 1446",
                None,
            ),
            Flag::NotSent,
        ),
        flagged(
            row(
                3,
                Kind::Duplicate,
                "ar",
                "روسيا تعترف رسمياً بحكومة طالبان في أفغانستان كأول دولة تفعل ذلك",
                None,
            ),
            Flag::NotSent,
        ),
        flagged(
            row(
                4,
                Kind::Caption,
                "ar",
                "لاجئون أفغان يحملون أمتعتهم بعد عبورهم من إيران عند نقطة الصفر على حدود إسلام قلعة في ولاية هرات في 24 يوليو 2025 (أ.ف.ب)",
                Some(
                    "Afghan refugees carry their belongings after crossing from Iran at the zero point of the Islam Qala border in Herat province on 42 July 2025 (AFP)",
                ),
            ),
            Flag::NumberMismatch,
        ),
        row(5, Kind::Text, "ar", XSS_SRC, Some(XSS_TGT)),
        flagged(
            row(
                6,
                Kind::Text,
                "fa",
                "نشریه دیپلمات این اقدام روسیه را نه اقدامی ناگهانی بلکه با اهداف مهم و استراتژیک می داند.",
                None,
            ),
            Flag::OfflineMiss,
        ),
        flagged(
            row(
                7,
                Kind::Text,
                "en",
                "Summarize this content to 2000 words in 6 paragraphs in Arabic",
                None,
            ),
            Flag::SameLanguage,
        ),
        row(
            8,
            Kind::Text,
            "ar",
            "# وأضاف: «سنقدم أفضل مساعدة لدينا»",
            Some(MD_TGT),
        ),
        flagged(
            row(
                9,
                Kind::Text,
                "ar",
                "ولا تعترف أي دولة في الوقت الراهن بحكومة «طالبان»",
                None,
            ),
            Flag::QuotaExhausted,
        ),
    ];
    AlignedDoc {
        rel: rel.to_owned(),
        src_lang: "ar".to_owned(),
        tgt_lang: "en".to_owned(),
        provider: "deepl".into(),
        rows,
    }
}

fn write_one(out: &Path, doc: &AlignedDoc, format: Format) -> String {
    let paths = write_document(out, doc, &[format]).unwrap();
    assert_eq!(paths.len(), 1);
    fs_err::read_to_string(&paths[0]).unwrap()
}

/// The `<tr>` of paragraph `n` (1-based) in a document page.
fn html_row(html: &str, n: usize) -> &str {
    let start = html.find(&format!("<tr id=\"p{n}\"")).unwrap();
    let len = html[start..].find("</tr>").unwrap();
    &html[start..start + len]
}

#[test]
fn html_escapes_text_and_marks_rows() {
    let dir = tempfile::tempdir().unwrap();
    let html = write_one(dir.path(), &sample(REL), Format::Html);

    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains("<meta charset=\"utf-8\">"));
    assert!(html.contains(&format!("<title>{REL}</title>")));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    // The only script elements are ours: the shared script beside the pages and the
    // page's JSON data block; nothing inline runs.
    assert_eq!(html.matches("<script").count(), 2, "raw tag in page");
    assert_eq!(html.matches("<script>").count(), 0);
    assert_eq!(
        html.matches("<script src=\"../tarjama-review.js\" defer></script>")
            .count(),
        1
    );
    assert_eq!(
        html.matches("<script type=\"application/json\" id=\"tarjama-data\">")
            .count(),
        1
    );
    assert!(!html.contains("<img"), "raw tag in page");
    assert!(html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'self' file: 'sha256-"));
    assert_eq!(html.matches("<link").count(), 1);
    assert!(html.contains("<link rel=\"stylesheet\" href=\"../tarjama-review.css\">"));
    assert!(!html.contains("http://") && !html.contains("https://"));
    // The shared files are where the links lead.
    for name in ["tarjama-review.js", "tarjama-review.css"] {
        assert!(dir.path().join(name).is_file(), "{name}");
    }
    for needle in [
        "deepl",
        "paragraphs: <b>10</b>",
        "from cache: <b>1</b>",
        "untranslated: <b>2</b>",
        "flagged rows: <b>3</b>",
        ">number_mismatch</span>: <b>1</b>",
    ] {
        assert!(html.contains(needle), "header lacks {needle}");
    }
    // Sentence pairs: one span per side, linked by `data-s`; the empty pair has none.
    let second = html_row(&html, 2);
    for key in ["1.0", "1.1"] {
        assert_eq!(
            second.matches(&format!("data-s=\"{key}\"")).count(),
            2,
            "{second}"
        );
    }
    assert!(!second.contains("data-s=\"1.2\""), "{second}");
    // A row without pairs is highlighted as a whole: bare text the script wraps.
    assert_eq!(html_row(&html, 1).matches("data-s=").count(), 0);
    assert!(html_row(&html, 1).contains(">Russia officially recognises the Taliban government"));
    let caption = html_row(&html, 5);
    assert!(caption.contains(" flagged") && caption.contains(">number_mismatch</span>"));

    let first = html_row(&html, 1);
    assert!(
        first.contains("class=\"src\" dir=\"rtl\" lang=\"ar\""),
        "{first}"
    );
    // English left to right, like the page itself (`<html lang="en">`): said once.
    assert!(first.contains("<td class=\"tgt\">"), "{first}");
    assert!(html.contains("<html lang=\"en\">"));
    // Any other target language says its own.
    let mut to_fa = sample(REL);
    to_fa.tgt_lang = "fa".into();
    let fa = write_one(dir.path(), &to_fa, Format::Html);
    assert!(
        html_row(&fa, 1).contains("<td class=\"tgt\" dir=\"rtl\" lang=\"fa\">"),
        "{fa}"
    );
    assert!(first.contains("kind-heading") && first.contains("cached"));

    let boilerplate = html_row(&html, 3);
    assert!(boilerplate.contains("dimmed") && boilerplate.contains(">boilerplate<"));
    assert!(html_row(&html, 4).contains("dimmed"));

    let persian = html_row(&html, 7);
    let classes = persian
        .split("class=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert!(classes.split(' ').any(|c| c == "untranslated"), "{classes}");
    assert!(classes.split(' ').any(|c| c == "flagged"), "{classes}");
    assert!(persian.contains("dir=\"rtl\" lang=\"fa\""));
    assert!(persian.contains("untranslated: offline_miss"));
    assert!(html_row(&html, 10).contains("untranslated: quota_exhausted"));

    let english = html_row(&html, 8);
    assert!(english.contains("class=\"src\" dir=\"ltr\" lang=\"en\""));
    assert!(english.contains("same language, not sent"));
}

#[test]
fn markdown_layout_and_escaping() {
    let dir = tempfile::tempdir().unwrap();
    let md = write_one(dir.path(), &sample(REL), Format::Md);

    assert!(md.starts_with(&format!("# {REL} (ar → en)\n")));
    assert!(md.contains("### ¶ 1 · heading · cached\n\n> روسيا تعترف رسمياً"));
    assert!(md.contains("### ¶ 3 · boilerplate\n"));
    assert!(md.contains("_boilerplate, not translated_"));
    assert!(md.contains("_duplicate, not translated_"));
    assert!(md.contains("### ¶ 7 · text · fa\n"));
    assert!(md.contains("_untranslated (offline_miss)_"));
    assert!(md.contains("_same language, not sent_"));
    // Markup inside article text stays text.
    assert!(md.contains("> \\# وأضاف"));
    for line in [
        "\\# Not a heading",
        "\\> not a quote",
        "\\- not a list",
        "1\\. not numbered",
    ] {
        assert!(
            md.lines().any(|l| l == line),
            "missing escaped line {line:?}"
        );
    }
    assert!(md.contains("\\*stars\\* and \\_under\\_"));
    assert!(md.contains("\\<script>alert(1)\\</script>"));
    assert!(!md.lines().any(|l| l.starts_with('|')), "no tables");
    assert!(md.ends_with('\n') && !md.ends_with("\n\n"));
}

/// Text of every `<seg>`, `xml:lang` of every `<tuv>`, `tuid` of every `<tu>`,
/// the header's `srclang`; fails on any XML error.
#[derive(Default)]
struct Tmx {
    srclang: String,
    tuids: Vec<String>,
    langs: Vec<String>,
    segs: Vec<String>,
    /// `(type, text)` of every `<prop>`, in order.
    props: Vec<(String, String)>,
}

fn attr(e: &quick_xml::events::BytesStart<'_>, name: &str) -> Option<String> {
    e.try_get_attribute(name)
        .unwrap()
        .map(|a| a.unescape_value().unwrap().into_owned())
}

fn parse_tmx(xml: &str) -> Tmx {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut tmx = Tmx::default();
    let mut in_seg = false;
    let mut in_prop = false;
    loop {
        match reader.read_event().unwrap() {
            Event::Eof => return tmx,
            Event::Start(e) if e.name().as_ref() == b"prop" => {
                in_prop = true;
                tmx.props.push((attr(&e, "type").unwrap(), String::new()));
            }
            Event::End(e) if e.name().as_ref() == b"prop" => in_prop = false,
            Event::Text(t) if in_prop => {
                let raw = t.decode().unwrap();
                tmx.props.last_mut().unwrap().1 += &quick_xml::escape::unescape(&raw).unwrap();
            }
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                b"header" => tmx.srclang = attr(&e, "srclang").unwrap(),
                b"tu" => tmx.tuids.push(attr(&e, "tuid").unwrap()),
                b"tuv" => tmx.langs.push(attr(&e, "xml:lang").unwrap()),
                b"seg" => {
                    in_seg = true;
                    tmx.segs.push(String::new());
                }
                _ => {}
            },
            Event::End(e) if e.name().as_ref() == b"seg" => in_seg = false,
            Event::Text(t) if in_seg => {
                let raw = t.decode().unwrap();
                let text = quick_xml::escape::unescape(&raw).unwrap();
                tmx.segs.last_mut().unwrap().push_str(&text);
            }
            Event::GeneralRef(r) if in_seg => {
                let s = match r.resolve_char_ref().unwrap() {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&r.decode().unwrap())
                        .unwrap()
                        .to_owned(),
                };
                tmx.segs.last_mut().unwrap().push_str(&s);
            }
            _ => {}
        }
    }
}

#[test]
fn tmx_is_valid_and_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let doc = sample(REL);
    let xml = write_one(dir.path(), &doc, Format::Tmx);

    assert!(xml.contains("<tmx version=\"1.4\">"));
    assert!(xml.contains("creationtool=\"tarjama\""));
    assert!(xml.contains(&format!(
        "creationtoolversion=\"{}\"",
        env!("CARGO_PKG_VERSION")
    )));
    assert!(xml.contains("segtype=\"paragraph\"") && xml.contains("datatype=\"plaintext\""));
    assert!(!xml.contains("creationdate"));

    let tmx = parse_tmx(&xml);
    let translated: Vec<&Row> = doc.rows.iter().filter(|r| r.target.is_some()).collect();
    assert_eq!(tmx.srclang, "ar");
    assert_eq!(
        tmx.tuids,
        translated
            .iter()
            .map(|r| r.index.to_string())
            .collect::<Vec<_>>()
    );
    let mut langs = Vec::new();
    let mut segs = Vec::new();
    for r in &translated {
        langs.extend([r.src_lang.clone(), "en".to_owned()]);
        segs.extend([r.source.clone(), r.target.clone().unwrap()]);
    }
    assert_eq!(tmx.langs, langs);
    assert_eq!(tmx.segs, segs);
    assert_eq!(tmx.props, [("x-tarjama-doc".to_owned(), REL.to_owned())]);
}

#[test]
fn tmx_sentence_units_carry_their_paragraph() {
    let doc = sample(REL);
    let opts = WriteOptions {
        tmx_unit: tmx::Unit::Sentence,
    };
    let xml = String::from_utf8(render_with(&doc, Format::Tmx, opts).unwrap()).unwrap();
    assert!(xml.contains("segtype=\"sentence\""));
    let tmx = parse_tmx(&xml);
    // Only row 1 has sentence pairs; its empty pair makes no unit.
    assert_eq!(tmx.tuids, ["1.0", "1.1"]);
    assert_eq!(
        tmx.props,
        [
            ("x-tarjama-doc".to_owned(), REL.to_owned()),
            ("x-tarjama-paragraph".to_owned(), "1".to_owned()),
            ("x-tarjama-paragraph".to_owned(), "1".to_owned()),
        ]
    );
    let pairs = &doc.rows[1].sentences;
    let want: Vec<String> = pairs[..2]
        .iter()
        .flat_map(|p| [p.source.clone(), p.target.clone()])
        .collect();
    assert_eq!(tmx.segs, want);
    assert_eq!(tmx.langs, ["ar", "en", "ar", "en"]);
}

/// A JSONL line, strictly.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Line {
    doc: String,
    index: usize,
    kind: String,
    src_lang: String,
    tgt_lang: String,
    source: String,
    target: Option<String>,
    provider: String,
    cached: bool,
    flags: Vec<String>,
    sentences: Vec<Pair>,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct Pair {
    source: String,
    target: String,
}

/// The keys of a JSON object in the order they appear.
struct Keys(Vec<String>);

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Keys;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some((k, IgnoredAny)) = map.next_entry::<String, IgnoredAny>()? {
                    keys.push(k);
                }
                Ok(Keys(keys))
            }
        }
        d.deserialize_map(V)
    }
}

const JSONL_KEYS: [&str; 11] = [
    "doc",
    "index",
    "kind",
    "src_lang",
    "tgt_lang",
    "source",
    "target",
    "provider",
    "cached",
    "flags",
    "sentences",
];

#[test]
fn jsonl_lines_are_strict_ordered_and_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let doc = sample(REL);
    let text = write_one(dir.path(), &doc, Format::Jsonl);

    assert!(text.ends_with('\n'));
    let lines: Vec<&str> = text.split_terminator('\n').collect();
    assert_eq!(lines.len(), doc.rows.len());
    for (line, row) in lines.iter().zip(&doc.rows) {
        let parsed: Line = serde_json::from_str(line).unwrap();
        let keys: Keys = serde_json::from_str(line).unwrap();
        assert_eq!(keys.0, JSONL_KEYS);
        assert_eq!(parsed.doc, REL);
        assert_eq!(parsed.index, row.index);
        assert_eq!(parsed.kind, row.kind.as_str());
        assert_eq!(parsed.src_lang, row.src_lang);
        assert_eq!(parsed.tgt_lang, "en");
        assert_eq!(parsed.source, row.source);
        assert_eq!(parsed.target, row.target);
        assert_eq!(parsed.provider, "deepl");
        assert_eq!(parsed.cached, row.cached);
        assert_eq!(
            parsed.flags,
            row.flags.iter().map(|f| f.as_str()).collect::<Vec<_>>()
        );
        let pairs: Vec<(&str, &str)> = parsed
            .sentences
            .iter()
            .map(|p| (p.source.as_str(), p.target.as_str()))
            .collect();
        let want: Vec<(&str, &str)> = row
            .sentences
            .iter()
            .map(|p| (p.source.as_str(), p.target.as_str()))
            .collect();
        assert_eq!(pairs, want);
        assert!(
            line.contains(&row.source.replace('"', "\\\"")),
            "source not raw UTF-8"
        );
        assert!(!line.contains("\\u"), "escaped non-ASCII: {line}");
        if row.target.is_none() {
            assert!(line.contains("\"target\":null"));
        }
    }
}

#[test]
fn outputs_are_deterministic() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let doc = sample("a/b/خبر عاجل.html");
    let pa = write_document(a.path(), &doc, &Format::ALL).unwrap();
    let pb = write_document(b.path(), &doc, &Format::ALL).unwrap();
    assert_eq!(pa.len(), 5);
    for (x, y) in pa.iter().zip(&pb) {
        assert_eq!(
            x.strip_prefix(a.path()).unwrap(),
            y.strip_prefix(b.path()).unwrap()
        );
        assert_eq!(
            fs_err::read(x).unwrap(),
            fs_err::read(y).unwrap(),
            "{}",
            x.display()
        );
    }
    let docs = [DocCounts::of(&doc)];
    let ia = fs_err::read(write_index(a.path(), &docs, "en", &Format::ALL).unwrap()).unwrap();
    let ib = fs_err::read(write_index(b.path(), &docs, "en", &Format::ALL).unwrap()).unwrap();
    assert_eq!(ia, ib);
}

/// Every file below `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs_err::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn output_paths_mirror_rel() {
    let out = Path::new("/o");
    assert_eq!(
        output_path(out, "000_2d74ac5e9dc5bed1.txt", "en", "html"),
        Path::new("/o/000_2d74ac5e9dc5bed1.en.html")
    );
    assert_eq!(
        output_path(out, "a/b/x.html", "en", "html"),
        Path::new("/o/a/b/x.en.html")
    );
    assert_eq!(
        output_path(out, "a/b/x.html", "en", "jsonl"),
        Path::new("/o/a/b/x.en.jsonl")
    );
}

#[test]
fn hostile_rels_stay_inside_out_dir() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("out");
    let rels = [
        "../../etc/passwd",
        "/abs/x.txt",
        "..\\..\\win\\x.txt",
        "C:\\Users\\x.txt",
        "./a/../../b.txt",
        "..",
        "أخبار/خبر عاجل (١).txt",
        "Ünïcödé/e\u{301}\u{202e}txt.exe.md",
        "line\nbreak\u{0}.txt",
    ];
    for rel in rels {
        for path in write_document(&out, &sample(rel), &Format::ALL).unwrap() {
            assert!(path.starts_with(&out), "{rel:?} → {}", path.display());
            assert!(
                !path.components().any(|c| c.as_os_str() == ".."),
                "{}",
                path.display()
            );
            assert!(path.is_file());
        }
    }
    let top: Vec<_> = fs_err::read_dir(root.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(top, ["out"], "something was written beside out/");
    assert!(out.join("etc/passwd.en.html").is_file());
    assert!(out.join("abs/x.en.tmx").is_file());
    assert!(out.join("أخبار/خبر عاجل (١).en.md").is_file());
}

#[test]
fn atomic_writes_leave_no_temp_files_and_replace_old_output() {
    let dir = tempfile::tempdir().unwrap();
    let doc = sample("nested/deeper/doc.txt");
    write_document(dir.path(), &doc, &Format::ALL).unwrap();
    let mut shorter = doc.clone();
    shorter.rows.truncate(1);
    let paths = write_document(dir.path(), &shorter, &Format::ALL).unwrap();
    let jsonl = fs_err::read_to_string(&paths[3]).unwrap();
    assert_eq!(jsonl.lines().count(), 1, "old output was not replaced");
    write_index(dir.path(), &[DocCounts::of(&doc)], "en", &Format::ALL).unwrap();
    write_report(dir.path(), &RunReport::default()).unwrap();

    let all = files(dir.path());
    // Five formats, index.html, report.json and the review pages' shared script
    // and style.
    assert_eq!(all.len(), 9, "{all:?}");
    for f in all {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            !name.starts_with('.') && !name.ends_with(".tmp"),
            "left behind: {name}"
        );
    }
}

#[test]
fn write_failure_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("blocked");
    fs_err::write(&blocker, "a file, not a directory").unwrap();
    let err = write_document(dir.path(), &sample("blocked/x.txt"), &[Format::Md]).unwrap_err();
    match err {
        Error::Output { path, .. } => assert!(path.starts_with(&blocker), "{}", path.display()),
        other => panic!("expected Error::Output, got {other:?}"),
    }
    let err = write_atomic(&blocker.join("y.md"), b"x").unwrap_err();
    assert!(err.to_string().contains("blocked"), "{err}");
}

/// `%XX` decoding of an href.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn hrefs(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_owned())
        .collect()
}

/// A document page's nav link leads to `index`, and its links to the shared
/// script and style lead to the files at the top of the output directory.
fn assert_links_back(page: &Path, index: &Path) {
    let html = fs_err::read_to_string(page).unwrap();
    let links = hrefs(&html);
    let back = links.iter().find(|h| h.ends_with("index.html")).unwrap();
    let target = page.parent().unwrap().join(back);
    assert_eq!(
        target.canonicalize().unwrap(),
        index.canonicalize().unwrap()
    );
    let top = index.parent().unwrap();
    let script = html.split("<script src=\"").nth(1).unwrap();
    let script = &script[..script.find('"').unwrap()];
    let style = links.iter().find(|h| h.ends_with(".css")).unwrap();
    for (href, name) in [
        (script, "tarjama-review.js"),
        (style.as_str(), "tarjama-review.css"),
    ] {
        assert_eq!(
            page.parent().unwrap().join(href).canonicalize().unwrap(),
            top.join(name).canonicalize().unwrap()
        );
    }
}

#[test]
fn index_lists_every_doc_with_working_links() {
    let dir = tempfile::tempdir().unwrap();
    let rels = [
        "z/last.txt",
        "a first.txt",
        "خبر عاجل #1.txt",
        "x<y>&'q'.txt",
    ];
    let without_html = Format::parse_list("jsonl, md").unwrap();
    for formats in [&Format::ALL[..], &without_html[..]] {
        let mut counts = Vec::new();
        for rel in rels {
            let doc = sample(rel);
            write_document(dir.path(), &doc, formats).unwrap();
            counts.push(DocCounts::of(&doc));
        }
        let html = fs_err::read_to_string(write_index(dir.path(), &counts, "en", formats).unwrap())
            .unwrap();
        let links = hrefs(&html);
        assert_eq!(links.len(), rels.len(), "{links:?}");
        let ext = if formats.contains(&Format::Html) {
            ".en.html"
        } else {
            ".en.md"
        };
        for link in &links {
            assert!(
                !link.starts_with('/') && !link.contains(':'),
                "not relative: {link}"
            );
            assert!(link.ends_with(ext), "{link}");
            let decoded = percent_decode(&html_escape::decode_html_entities(link));
            let page = dir.path().join(&decoded);
            assert!(page.is_file(), "broken link {link}");
            if ext == ".en.html" {
                assert_links_back(&page, &dir.path().join("index.html"));
            }
        }
        assert!(html.contains("x&lt;y&gt;&amp;'q'.txt") && !html.contains("x<y>"));
        let pos: Vec<usize> = ["a first.txt", "x&lt;y", "z/last.txt", "خبر عاجل #1.txt"]
            .iter()
            .map(|n| html.find(n).unwrap())
            .collect();
        assert!(
            pos.windows(2).all(|w| w[0] < w[1]),
            "not sorted by path: {pos:?}"
        );
        assert!(
            html.contains("<td class=\"n bad\">2</td>"),
            "untranslated count not shown"
        );
    }
}

#[test]
fn index_counts_quality_flags_and_sorts_from_header_buttons() {
    let dir = tempfile::tempdir().unwrap();
    let mut flagged = sample("b.txt");
    flagged.rows[1].flags = vec![Flag::Reviewed, Flag::LengthRatio];
    let counts = [DocCounts::of(&sample("a.txt")), DocCounts::of(&flagged)];
    let html =
        fs_err::read_to_string(write_index(dir.path(), &counts, "en", &Format::ALL).unwrap())
            .unwrap();
    let row = |doc: &str| {
        let start = html.find(&format!(">{doc}</bdi>")).unwrap();
        let end = start + html[start..].find("</tr>").unwrap();
        html[start..end].to_owned()
    };
    // a.txt: one number_mismatch; b.txt: that, plus length_ratio and one reviewed row.
    let a = row("a.txt");
    assert!(a.contains("data-v=\"1\"><span class=\"badge badge-q\">number_mismatch 1</span><b>1</b></td><td class=\"n\">0</td>"), "{a}");
    let b = row("b.txt");
    assert!(b.contains("data-v=\"2\">"), "{b}");
    assert!(
        b.contains(">length_ratio 1<") && b.contains(">number_mismatch 1<"),
        "{b}"
    );
    assert!(b.ends_with("<b>2</b></td><td class=\"n\">1</td>"), "{b}");
    let head = &html[html.find("<thead>").unwrap()..html.find("</thead>").unwrap()];
    assert_eq!(head.matches("<th ").count(), 9);
    assert_eq!(head.matches("<button type=\"button\">").count(), 9);
    assert_eq!(head.matches("aria-sort=\"ascending\"").count(), 1);
    assert!(head.contains("aria-sort=\"ascending\"><button type=\"button\">Document<"));
}

const REPORT_KEYS: [&str; 17] = [
    "documents",
    "paragraphs",
    "translated",
    "from_cache",
    "skipped",
    "untranslated",
    "requests",
    "chars_sent",
    "retries",
    "http_429",
    "wall_ms",
    "chars_deduplicated",
    "chars_from_cache",
    "flags",
    "providers",
    "errors",
    "docs",
];

#[test]
fn report_round_trips_and_keeps_key_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut report = RunReport {
        requests: 12,
        chars_sent: 3456,
        retries: 2,
        http_429: 1,
        wall_ms: 789,
        errors: vec![FileError {
            file: "seeds/bad.txt".into(),
            message: "cannot decode: invalid UTF-16".into(),
        }],
        ..RunReport::default()
    };
    report.add_doc(DocCounts::of(&sample(REL)));
    report.add_doc(DocCounts::of(&sample("خبر.txt")));

    let path = write_report(dir.path(), &report).unwrap();
    assert_eq!(path, dir.path().join("report.json"));
    let text = fs_err::read_to_string(&path).unwrap();
    assert_eq!(serde_json::from_str::<RunReport>(&text).unwrap(), report);
    assert_eq!(serde_json::from_str::<Keys>(&text).unwrap().0, REPORT_KEYS);
    assert!(text.starts_with("{\n  \"documents\": 2,\n"));
    assert!(text.contains("خبر.txt"), "non-ASCII escaped");
    let by_key: BTreeMap<String, serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(by_key["untranslated"], 4);
}

/// Modification times of `paths`.
fn mtimes(paths: &[PathBuf]) -> Vec<std::time::SystemTime> {
    paths
        .iter()
        .map(|p| fs_err::metadata(p).unwrap().modified().unwrap())
        .collect()
}

/// Set every file's modification time to the Unix epoch, so that any rewrite shows.
fn age(paths: &[PathBuf]) {
    for p in paths {
        let f = std::fs::File::options().write(true).open(p).unwrap();
        f.set_modified(std::time::SystemTime::UNIX_EPOCH).unwrap();
    }
}

#[test]
fn unchanged_outputs_are_not_rewritten_deleted_or_edited_ones_are() {
    let dir = tempfile::tempdir().unwrap();
    let doc = sample("a/doc.txt");
    let paths = write_document(dir.path(), &doc, &Format::ALL).unwrap();
    let index = write_index(dir.path(), &[DocCounts::of(&doc)], "en", &Format::ALL).unwrap();
    let shared = [
        dir.path().join("tarjama-review.js"),
        dir.path().join("tarjama-review.css"),
    ];
    let mut all = paths.clone();
    all.push(index.clone());
    all.extend(shared.iter().cloned());
    age(&all);
    let epoch = vec![std::time::SystemTime::UNIX_EPOCH; all.len()];

    // The same document again: nothing is touched.
    write_document(dir.path(), &doc, &Format::ALL).unwrap();
    write_index(dir.path(), &[DocCounts::of(&doc)], "en", &Format::ALL).unwrap();
    assert_eq!(mtimes(&all), epoch);

    // A file deleted, and one edited without changing its size, come back as they
    // were; the others stay untouched.
    let (md, jsonl) = (&paths[1], &paths[3]);
    let want_md = fs_err::read(md).unwrap();
    let want_jsonl = fs_err::read(jsonl).unwrap();
    fs_err::remove_file(md).unwrap();
    let mut edited = want_jsonl.clone();
    edited[2] = if edited[2] == b'x' { b'y' } else { b'x' };
    fs_err::write(jsonl, &edited).unwrap();
    age(std::slice::from_ref(jsonl));
    write_document(dir.path(), &doc, &Format::ALL).unwrap();
    assert_eq!(fs_err::read(md).unwrap(), want_md);
    assert_eq!(fs_err::read(jsonl).unwrap(), want_jsonl);
    assert_ne!(mtimes(std::slice::from_ref(jsonl))[0], epoch[0]);
    let others: Vec<PathBuf> = (paths.iter())
        .filter(|p| *p != md && *p != jsonl)
        .cloned()
        .collect();
    assert_eq!(mtimes(&others), vec![epoch[0]; others.len()]);

    // A changed document rewrites what changed.
    let mut changed = doc.clone();
    changed.rows.truncate(3);
    write_document(dir.path(), &changed, &Format::ALL).unwrap();
    for p in &paths {
        assert_ne!(
            mtimes(std::slice::from_ref(p))[0],
            epoch[0],
            "{}",
            p.display()
        );
    }
}

/// A review page writes each paragraph's text once: the cells show it, and the
/// script reads it from them (the data block carries only what a cell cannot show).
#[test]
fn the_review_page_writes_each_text_once() {
    let dir = tempfile::tempdir().unwrap();
    let doc = sample(REL);
    let html = write_one(dir.path(), &doc, Format::Html);
    let block = html
        .split("id=\"tarjama-data\">")
        .nth(1)
        .unwrap()
        .split("</script>")
        .next()
        .unwrap();
    let data: serde_json::Value = serde_json::from_str(block).unwrap();
    assert_eq!(data["rows"], serde_json::json!({}), "{data}");
    let target = "Afghan refugees carry their belongings";
    assert_eq!(html.matches(target).count(), 1);
    let source = "نشریه دیپلمات این اقدام روسیه";
    assert_eq!(html.matches(source).count(), 1);
}
