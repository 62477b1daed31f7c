//! Hostile and broken inputs through the real binary: each bad
//! file gets one line naming it, the run goes on with the others, the exit code says
//! so (3), and every output stays inside `--out`.
//!
//! Cases covered elsewhere and not repeated here: an unreadable (PNG) file among good
//! ones and outputs mirroring the tree (`e2e.rs`,
//! `an_unreadable_input_is_reported_and_the_rest_is_written_with_exit_3`); per-encoding
//! decoding of every seed, permission denied, and the walk's symlink and hidden-file
//! rules (`ingest.rs`); hostile `rel` strings given straight to the writer
//! (`outputs.rs`, `hostile_rels_stay_inside_out_dir`).

use crate::common;

use std::path::{Path, PathBuf};

use common::emulator::{Api, Emulator, fake_translate};
use common::harness::{JsonRow, Scratch, seeds};
use encoding_rs::{Encoding, ISO_8859_6, WINDOWS_1256};

/// One run's result.
struct Run {
    code: i32,
    stderr: String,
}

/// `translate <inputs> --provider libretranslate --endpoint <emu>` plus `extra`.
fn run(s: &Scratch, emu: &Emulator, inputs: &[&Path], extra: &[&str]) -> Run {
    let out = s
        .cmd(inputs)
        .args(["--provider", "libretranslate", "--endpoint", &emu.url()])
        .args(extra)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The stderr lines that mention `needle`.
fn lines_with<'a>(stderr: &'a str, needle: &str) -> Vec<&'a str> {
    stderr.lines().filter(|l| l.contains(needle)).collect()
}

/// Exactly one stderr line names `file`, and it is `error: <file>: <message>`.
fn assert_error_line(run: &Run, file: &Path, message: &str) {
    let shown = file.display().to_string();
    let lines = lines_with(&run.stderr, &shown);
    assert_eq!(
        lines,
        [format!("error: {shown}: {message}")],
        "{}",
        run.stderr
    );
}

fn input_dir(s: &Scratch) -> PathBuf {
    let dir = s.dir.path().join("in");
    fs_err::create_dir_all(&dir).unwrap();
    dir
}

fn seed_text(name: &str) -> String {
    fs_err::read_to_string(seeds().join(name)).unwrap()
}

const SEED_002: &str = "002_65b8ef3daf2c733c.txt";

/// Deterministic bytes that look like a compressed or encrypted blob.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x9E37_79B9;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x.to_le_bytes()[0]
        })
        .collect()
}

fn content_rows(rows: &[JsonRow]) -> impl Iterator<Item = &JsonRow> {
    rows.iter()
        .filter(|r| matches!(r.kind.as_str(), "text" | "heading" | "caption"))
}

#[test]
fn files_that_are_not_text_get_one_line_each_and_the_rest_is_translated() {
    let s = Scratch::new();
    let dir = input_dir(&s);
    fs_err::copy(seeds().join(SEED_002), dir.join("good.txt")).unwrap();
    let bad: [(&str, Vec<u8>, &str); 5] = [
        ("empty.txt", Vec::new(), "empty file"),
        (
            "photo.html",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
            "not a text file (PNG image)",
        ),
        (
            "blob.txt",
            noise(4096),
            "not a text file (contains NUL bytes)",
        ),
        (
            "zeros.md",
            vec![0; 1000],
            "not a text file (contains NUL bytes)",
        ),
        (
            "controls.txt",
            b"\x01\x02\x03\x04\x05\x06 abc".to_vec(),
            "not a text file (mostly control characters)",
        ),
    ];
    for (name, bytes, _) in &bad {
        fs_err::write(dir.join(name), bytes).unwrap();
    }
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    let r = run(&s, &emu, &[&dir], &[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    for (name, _, message) in &bad {
        assert_error_line(&r, &dir.join(name), message);
    }
    let rows = s.jsonl("good.txt");
    assert!(content_rows(&rows).all(|row| row.target.is_some()));
    let report = s.report();
    assert_eq!((report.documents, report.errors.len()), (1, bad.len()));
    for (name, _, _) in &bad {
        assert!(!s.output(name, "html").exists(), "{name}");
    }
}

/// A short Arabic article that every encoding under test can represent
/// (ISO-8859-6 has no « », curly quotes or Persian letters).
fn iso_8859_6_article() -> String {
    let text = "أعلنت وزارة الخارجية، يوم الخميس، أنها قبلت أوراق اعتماد سفير جديد \
                للبلاد، مما يجعلها أول دولة تعترف بالحكومة الجديدة.\n\n\
                وقال المتحدث باسم الوزارة إن الاعتراف سيعزز التعاون الاقتصادي \
                والأمني بين البلدين في السنوات المقبلة.\n\n\
                هل يتبع هذا القرار اعتراف دول أخرى؟ يرى المراقبون أن ذلك ممكن.";
    assert!(!ISO_8859_6.encode(text).2);
    text.to_owned()
}

fn encode(text: &str, encoding: &'static Encoding) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding.encode(text);
    assert!(!unmappable, "{}", encoding.name());
    bytes.into_owned()
}

fn utf16(text: &str, little_endian: bool, bom: bool) -> Vec<u8> {
    let mut out: Vec<u8> = match (bom, little_endian) {
        (false, _) => Vec::new(),
        (true, true) => vec![0xFF, 0xFE],
        (true, false) => vec![0xFE, 0xFF],
    };
    for unit in text.encode_utf16() {
        out.extend(if little_endian {
            unit.to_le_bytes()
        } else {
            unit.to_be_bytes()
        });
    }
    out
}

#[test]
fn an_article_in_every_encoding_reads_as_the_same_text_and_is_sent_once() {
    let s = Scratch::new();
    let dir = input_dir(&s);
    let text = iso_8859_6_article();
    let variants: Vec<(&str, Vec<u8>)> = vec![
        ("utf8.txt", text.as_bytes().to_vec()),
        (
            "utf8_bom.txt",
            [&b"\xEF\xBB\xBF"[..], text.as_bytes()].concat(),
        ),
        ("utf16le_bom.txt", utf16(&text, true, true)),
        ("utf16be_bom.txt", utf16(&text, false, true)),
        ("utf16le.txt", utf16(&text, true, false)),
        ("utf16be.txt", utf16(&text, false, false)),
        ("cp1256.txt", encode(&text, WINDOWS_1256)),
        ("iso8859_6.txt", encode(&text, ISO_8859_6)),
    ];
    for (name, bytes) in &variants {
        fs_err::write(dir.join(name), bytes).unwrap();
    }
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    let r = run(&s, &emu, &[&dir], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let reference = s.jsonl("utf8.txt");
    assert!(reference.iter().all(|row| row.src_lang == "ar"));
    for (name, _) in &variants {
        let rows = s.jsonl(name);
        let sources =
            |rows: &[JsonRow]| -> Vec<String> { rows.iter().map(|r| r.source.clone()).collect() };
        assert_eq!(sources(&rows), sources(&reference), "{name}");
        assert!(rows.iter().all(|r| r.target.is_some()), "{name}");
    }
    // Same text after decoding: each paragraph went over the wire once.
    let sent = emu.texts_received();
    let mut unique = sent.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(sent.len(), unique.len());
    assert_eq!(sent.len(), reference.len());
}

#[test]
fn damaged_utf8_and_stray_nul_bytes_keep_the_article_with_a_warning() {
    let s = Scratch::new();
    let dir = input_dir(&s);
    let text = iso_8859_6_article();
    let mut damaged = text.as_bytes().to_vec();
    damaged.insert(text.find(' ').unwrap(), 0xFF); // after the first word
    fs_err::write(dir.join("damaged.txt"), &damaged).unwrap();
    let mut nul = text.as_bytes().to_vec();
    nul.insert(text.find(' ').unwrap(), 0);
    fs_err::write(dir.join("nul.txt"), &nul).unwrap();
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    let r = run(&s, &emu, &[&dir], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let damaged_path = dir.join("damaged.txt").display().to_string();
    assert_eq!(
        lines_with(&r.stderr, &damaged_path).len(),
        1,
        "one warning: {}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("1 malformed byte sequence(s) replaced by U+FFFD (read as UTF-8)")
    );
    assert!(r.stderr.contains("nul.txt: 1 NUL byte(s) dropped"));
    let first = &s.jsonl("damaged.txt")[0];
    assert_eq!(first.src_lang, "ar", "not read as a legacy code page");
    assert!(first.source.contains('\u{FFFD}'));
    assert_eq!(
        first.source.replace('\u{FFFD}', ""),
        s.jsonl("nul.txt")[0].source
    );
    assert_eq!(
        s.jsonl("nul.txt")[0].source,
        s.jsonl("nul.txt")[0].source.replace('\0', "")
    );
    assert!(s.jsonl("nul.txt").iter().all(|r| r.target.is_some()));
}

#[test]
fn a_file_over_the_size_limit_is_refused_before_it_is_read() {
    let s = Scratch::new();
    let dir = input_dir(&s);
    fs_err::copy(seeds().join(SEED_002), dir.join("good.txt")).unwrap();
    // Sparse files: no disk used. At the limit the file is read (and is all NULs);
    // one byte over, it is refused by size; 200 MB, likewise, at once.
    let limit = tarjama::ingest::MAX_FILE_BYTES;
    for (name, len) in [
        ("at_limit.txt", limit),
        ("over.txt", limit + 1),
        ("huge.txt", 200 * 1024 * 1024),
    ] {
        fs_err::File::create(dir.join(name))
            .unwrap()
            .set_len(len)
            .unwrap();
    }
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    let r = run(&s, &emu, &[&dir], &[]); // a hang hits the time limit of `Scratch::cmd`
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_error_line(
        &r,
        &dir.join("at_limit.txt"),
        "not a text file (contains NUL bytes)",
    );
    assert_error_line(
        &r,
        &dir.join("over.txt"),
        "too large (16.0 MiB; the limit is 16 MiB)",
    );
    assert_error_line(
        &r,
        &dir.join("huge.txt"),
        "too large (200.0 MiB; the limit is 16 MiB)",
    );
    assert!(s.jsonl("good.txt").iter().any(|r| r.target.is_some()));
}

#[cfg(unix)]
#[test]
fn a_named_pipe_a_symlink_loop_and_an_unreadable_file_do_not_stop_the_run() {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let s = Scratch::new();
    let dir = input_dir(&s);
    fs_err::copy(seeds().join(SEED_002), dir.join("good.txt")).unwrap();
    let fifo = dir.join("pipe.txt");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    fs_err::create_dir(dir.join("loop")).unwrap();
    symlink(&dir, dir.join("loop/back")).unwrap();
    let locked = dir.join("locked.txt");
    fs_err::write(&locked, "نص").unwrap();
    fs_err::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let root = fs_err::read(&locked).is_ok(); // root reads it anyway
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    let r = run(&s, &emu, &[&dir], &[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_error_line(&r, &fifo, "not a regular file (a named pipe)");
    let back = dir.join("loop/back");
    assert_error_line(
        &r,
        &back,
        &format!("symlink loop (back to {})", dir.display()),
    );
    if !root {
        assert_error_line(&r, &locked, "cannot read: permission denied");
    }
    assert!(s.jsonl("good.txt").iter().any(|r| r.target.is_some()));
}

#[test]
fn a_one_megabyte_line_without_punctuation_is_cut_to_the_provider_limits() {
    let s = Scratch::new();
    let dir = input_dir(&s);
    let words = ["كلمة", "عربية", "طويلة", "جدا", "بدون", "ترقيم", "أبدا"];
    let mut line = String::new();
    let mut i = 0;
    while line.len() < 1024 * 1024 {
        line.push_str(words[i % words.len()]);
        line.push(' ');
        i += 1;
    }
    fs_err::write(dir.join("line.txt"), &line).unwrap();
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    let r = run(&s, &emu, &[&dir], &[]); // a hang hits the time limit of `Scratch::cmd`
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The shipped LibreTranslate limits: 25 texts and 5,000 characters a request.
    for req in emu.requests().iter().filter(|r| r.path == "/translate") {
        let texts = req.texts();
        let chars: usize = texts.iter().map(|t| t.chars().count()).sum();
        assert!(
            texts.len() <= 25 && chars <= 5000,
            "{} texts, {chars} chars",
            texts.len()
        );
    }
    let rows = s.jsonl("line.txt");
    assert_eq!(rows.len(), 1);
    let words_out = |t: &str| t.split_whitespace().count();
    let target = rows[0].target.as_deref().expect("translated");
    assert_eq!(target, fake_translate(line.trim()));
    assert_eq!(words_out(target), i);
}

#[test]
fn text_in_neither_arabic_nor_persian_is_labelled_not_forced() {
    let s = Scratch::new();
    let dir = input_dir(&s);
    fs_err::write(
        dir.join("english.txt"),
        "The minister said on Thursday that talks would resume next week.\n\n\
         Negotiators from both sides are expected to meet in Geneva.",
    )
    .unwrap();
    fs_err::write(
        dir.join("chinese.txt"),
        "外交部长星期四表示，谈判将于下周恢复。双方谈判代表预计将在日内瓦会面。",
    )
    .unwrap();
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    let r = run(&s, &emu, &[&dir.join("english.txt")], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for row in s.jsonl("english.txt") {
        assert_eq!((row.src_lang.as_str(), row.target), ("en", None));
        assert!(row.flags.contains(&"same_language".to_owned()));
    }
    assert!(emu.texts_received().is_empty(), "English is not sent");
    // Chinese is labelled Chinese, not forced through as Arabic. The emulated
    // server lists no Chinese, so nothing is sent and the reason is named.
    let r = run(&s, &emu, &[&dir.join("chinese.txt")], &[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    let rows = s.jsonl("chinese.txt");
    assert!(!rows.is_empty());
    for row in &rows {
        assert_eq!((row.src_lang.as_str(), &row.target), ("zh", &None));
        assert_eq!(row.flags, ["unsupported_pair"]);
    }
    assert!(emu.texts_received().is_empty());
    assert!(
        r.stderr.contains("does not translate zh → en"),
        "{}",
        r.stderr
    );
}

#[test]
fn bidi_marks_and_zero_width_characters_never_reach_the_provider() {
    let s = Scratch::new();
    let dir = input_dir(&s);
    let article = "\u{200F}أعلنت\u{200B} الحكومة \u{202B}اليوم\u{202C} عن خطة \u{2067}جديدة\u{2069}.\u{FEFF}\n\n\
                   ناقش الوزراء Россия و China و\u{200E}USA\u{200E} في الاجتماع.\n\n\
                   این گزارش می\u{200C}گوید که \u{061C}همه چیز خوب است.";
    fs_err::write(dir.join("bidi.txt"), article).unwrap();
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    let r = run(&s, &emu, &[&dir], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let sources: Vec<String> = s.jsonl("bidi.txt").into_iter().map(|r| r.source).collect();
    assert_eq!(
        sources,
        [
            "أعلنت الحكومة اليوم عن خطة جديدة.",
            "ناقش الوزراء Россия و China وUSA في الاجتماع.",
            "این گزارش می\u{200C}گوید که همه چیز خوب است.",
        ]
    );
    let controls = |c: char| matches!(c, '\u{200B}' | '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}');
    let sent = emu.texts_received();
    assert_eq!(sent.len(), 3);
    assert!(sent.iter().all(|t| !t.chars().any(controls)), "{sent:?}");
    // Requests may be answered in any order: find the Persian one.
    let persian = sent
        .iter()
        .find(|t| t.contains("گوید"))
        .expect("the Persian text");
    assert!(
        persian.contains("می\u{200C}گوید"),
        "ZWNJ is Persian spelling: {persian}"
    );
}

#[test]
fn deeply_nested_and_broken_html_is_read_in_bounded_time() {
    let s = Scratch::new();
    let dir = input_dir(&s);
    let n = 100_000;
    let deep = "<html><body>".to_owned()
        + &"<div>".repeat(n)
        + "<p>أعلنت الحكومة اليوم عن خطة جديدة للنقل العام في العاصمة.</p>"
        + &"</div>".repeat(n);
    fs_err::write(dir.join("deep.html"), deep).unwrap();
    let broken = "<html><body><article><p>أعلنت الحكومة <b>اليوم <i>عن خطة</p></div></span>\
                  <table><td>جديدة للنقل<tr></article><p>العام في العاصمة <!-- غير مغلق";
    fs_err::write(dir.join("broken.htm"), broken).unwrap();
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    let r = run(&s, &emu, &[&dir], &[]); // a hang hits the time limit of `Scratch::cmd`
    assert_eq!(r.code, 0, "{}", r.stderr);
    let deep_rows = s.jsonl("deep.html");
    assert_eq!(
        deep_rows
            .iter()
            .map(|r| r.source.as_str())
            .collect::<Vec<_>>(),
        ["أعلنت الحكومة اليوم عن خطة جديدة للنقل العام في العاصمة."]
    );
    let broken_text: String = s
        .jsonl("broken.htm")
        .iter()
        .map(|r| r.source.clone())
        .collect::<Vec<_>>()
        .join(" ");
    for word in ["أعلنت", "اليوم", "خطة", "جديدة", "العاصمة"] {
        assert!(broken_text.contains(word), "{word} in {broken_text}");
    }
    assert!(
        !broken_text.contains("غير مغلق"),
        "an open comment is not text"
    );
}

/// Every regular file below `dir`, canonical.
fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs_err::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_below(&p));
        } else {
            out.push(fs_err::canonicalize(&p).unwrap());
        }
    }
    out
}

#[cfg(unix)]
#[test]
fn names_that_would_climb_out_of_out_stay_inside_it() {
    let s = Scratch::new();
    let dir = input_dir(&s);
    let article = seed_text(SEED_002);
    let names = [
        "a\\..\\..\\..\\escape.txt",
        "line\nbreak.txt",
        "\u{202E}txt.exe.txt",
        "dots..txt",
        "-flag.txt",
        "C:evil.txt",
        "cafe\u{301}.txt",
    ];
    let sub = dir.join("up..").join("deeper");
    fs_err::create_dir_all(&sub).unwrap();
    for name in names {
        fs_err::write(dir.join(name), &article).unwrap();
    }
    fs_err::write(sub.join("x.txt"), &article).unwrap();
    // An INPUT spelled with `..` and as an absolute path.
    let dotted = s.dir.path().join("in/../in");
    let outside = s.dir.path().join("elsewhere.txt");
    fs_err::write(&outside, &article).unwrap();
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    let r = run(&s, &emu, &[&dotted, &outside], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = fs_err::canonicalize(&s.out).unwrap();
    let written = files_below(s.dir.path());
    for f in &written {
        let input = f.starts_with(fs_err::canonicalize(&dir).unwrap())
            || f.ends_with("elsewhere.txt")
            || f.ends_with("test.toml")
            || f.starts_with(fs_err::canonicalize(&s.cache).unwrap());
        assert!(input || f.starts_with(&out), "written outside --out: {f:?}");
    }
    let report = s.report();
    assert_eq!(report.documents, names.len() + 2, "{:?}", report.errors);
    let htmls = written
        .iter()
        .filter(|f| f.starts_with(&out) && f.to_string_lossy().ends_with(".en.html"))
        .count();
    assert_eq!(htmls, report.documents);
}

#[test]
fn out_and_cache_inside_the_input_folder_are_never_read_back() {
    let s = Scratch::new();
    let docs = input_dir(&s);
    fs_err::copy(seeds().join(SEED_002), docs.join("a.txt")).unwrap();
    fs_err::copy(seeds().join("003_2afab63017fdb124.txt"), docs.join("b.md")).unwrap();
    fs_err::write(
        docs.join("c.html"),
        format!("<html><body><p>{}</p></body></html>", iso_8859_6_article()),
    )
    .unwrap();
    let emu = Emulator::spawn_blocking_runtime(Api::LibreTranslate);
    let cache = docs.join("cache");
    let cache = cache.to_str().unwrap();
    let mut firsts = Vec::new();
    for (out, run_no) in [
        (docs.clone(), 0),
        (docs.clone(), 1),
        (docs.join("out"), 0),
        (docs.join("out"), 1),
    ] {
        let r = run(
            &s,
            &emu,
            &[&docs],
            &["--out", out.to_str().unwrap(), "--cache-dir", cache],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        let report: tarjama::model::RunReport =
            serde_json::from_str(&fs_err::read_to_string(out.join("report.json")).unwrap())
                .unwrap();
        let docs_read: Vec<String> = report.docs.iter().map(|d| d.doc.clone()).collect();
        assert_eq!(
            docs_read,
            ["a.txt", "b.md", "c.html"],
            "run {run_no} into {out:?}"
        );
        if run_no == 0 {
            firsts.push(report.requests);
        } else {
            assert_eq!(report.requests, 0, "the rerun is served from the cache");
        }
    }
    let all: Vec<String> = files_below(&docs)
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    assert!(
        all.iter().all(|p| !p.contains(".en.en.")),
        "an output was translated again: {all:?}"
    );
}
