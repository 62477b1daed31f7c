//! Ingest as a user sees it: real seed articles in every encoding a newsroom exports,
//! files that are not text, HTML pages full of furniture, and folder walks.

use std::path::{Path, PathBuf};

use encoding_rs::{Encoding, ISO_8859_6, WINDOWS_1256};
use tarjama::ingest::{self, persian::respell_document};
use tarjama::model::{FileError, InputFile, SourceDoc, SourceFormat};
use tempfile::TempDir;

const ARABIC_SEEDS: &[&str] = &[
    "000_2d74ac5e9dc5bed1.txt",
    "001_3abe45b512f5c259.txt",
    "002_65b8ef3daf2c733c.txt",
    "004_b33c59889301da3a.txt",
];
const PERSIAN_SEED: &str = "003_2afab63017fdb124.txt";

fn seed_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("seeds")
        .join(name)
}

fn seed(name: &str) -> String {
    fs_err::read_to_string(seed_path(name)).expect("seed readable")
}

/// What ingest makes of a decoded text: normalized, and Persian spelling in a
/// Persian document (the Persian seed gains ZWNJs: `ماه‌ها`, `می‌داند`).
fn normalize(text: &str) -> String {
    respell_document(&ingest::normalize::normalize(text)).into_owned()
}

fn all_seeds() -> Vec<&'static str> {
    let mut names = ARABIC_SEEDS.to_vec();
    names.push(PERSIAN_SEED);
    names
}

fn input(path: &Path, format: SourceFormat) -> InputFile {
    InputFile {
        path: path.to_path_buf(),
        rel: path.file_name().unwrap().to_string_lossy().into_owned(),
        format,
    }
}

/// Write `bytes` to `dir/name` and read it back through ingest.
fn read_bytes(dir: &TempDir, name: &str, bytes: &[u8]) -> Result<SourceDoc, FileError> {
    let path = dir.path().join(name);
    fs_err::write(&path, bytes).unwrap();
    ingest::read(&input(&path, SourceFormat::Text))
}

fn utf16(text: &str, little_endian: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice(if little_endian {
            b"\xFF\xFE"
        } else {
            b"\xFE\xFF"
        });
    }
    for unit in text.encode_utf16() {
        let bytes = if little_endian {
            unit.to_le_bytes()
        } else {
            unit.to_be_bytes()
        };
        out.extend_from_slice(&bytes);
    }
    out
}

/// Encode with encoding_rs, insisting every character is representable.
fn legacy(text: &str, encoding: &'static Encoding) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding.encode(text);
    assert!(!unmappable, "{} cannot represent the text", encoding.name());
    bytes.into_owned()
}

#[test]
fn every_seed_decodes_as_utf8_and_normalizes() {
    for name in all_seeds() {
        let doc = ingest::read(&input(&seed_path(name), SourceFormat::Text)).unwrap();
        assert_eq!(doc.encoding, "UTF-8", "{name}");
        assert_eq!(doc.rel, name);
        assert_eq!(doc.text, normalize(&seed(name)), "{name}");
        assert!(!doc.text.contains('\r'));
    }
    let persian = ingest::read(&input(&seed_path(PERSIAN_SEED), SourceFormat::Text)).unwrap();
    assert!(!persian.text.contains("&ndash;"));
    assert!(persian.text.contains("شاخه خراسان داعش – که در افغانستان"));
}

#[test]
fn seed_in_unicode_encodings_reads_back_the_same() {
    let dir = TempDir::new().unwrap();
    for name in all_seeds() {
        let text = seed(name);
        let expected = normalize(&text);
        let variants = [
            (
                "utf8-bom",
                [b"\xEF\xBB\xBF", text.as_bytes()].concat(),
                "UTF-8",
            ),
            ("utf16le-bom", utf16(&text, true, true), "UTF-16LE"),
            ("utf16be-bom", utf16(&text, false, true), "UTF-16BE"),
            ("utf16le-nobom", utf16(&text, true, false), "UTF-16LE"),
            ("utf16be-nobom", utf16(&text, false, false), "UTF-16BE"),
        ];
        for (label, bytes, encoding) in variants {
            let doc = read_bytes(&dir, &format!("{label}-{name}"), &bytes).unwrap();
            assert_eq!(doc.encoding, encoding, "{label} {name}");
            assert_eq!(doc.text, expected, "{label} {name}");
        }
    }
}

#[test]
fn arabic_seeds_in_windows_1256_read_back_the_same() {
    let dir = TempDir::new().unwrap();
    for name in ARABIC_SEEDS {
        let text = seed(name);
        let doc = read_bytes(&dir, name, &legacy(&text, WINDOWS_1256)).unwrap();
        assert_eq!(doc.encoding, "windows-1256", "{name}");
        assert_eq!(doc.text, normalize(&text), "{name}");
    }
}

#[test]
fn arabic_paragraphs_in_iso_8859_6_read_back_the_same() {
    // ISO-8859-6 has no « » or curly quotes: keep the seed paragraphs it can hold.
    let dir = TempDir::new().unwrap();
    let mut tested = 0;
    for name in ARABIC_SEEDS {
        let full = seed(name);
        let text: Vec<&str> = full
            .split("\n\n")
            .filter(|p| !ISO_8859_6.encode(p).2 && p.chars().filter(|c| !c.is_ascii()).count() > 40)
            .collect();
        if text.is_empty() {
            continue;
        }
        let text = text.join("\n\n");
        let doc = read_bytes(&dir, name, &legacy(&text, ISO_8859_6)).unwrap();
        assert_eq!(doc.encoding, "ISO-8859-6", "{name}");
        assert_eq!(doc.text, normalize(&text), "{name}");
        tested += 1;
    }
    assert_eq!(tested, 3, "seeds 000, 001 and 002 have such paragraphs");
}

#[test]
fn a_short_windows_1256_paragraph_is_still_arabic() {
    let dir = TempDir::new().unwrap();
    let text = "روسيا تعترف رسمياً بحكومة طالبان في أفغانستان";
    let doc = read_bytes(&dir, "short.txt", &legacy(text, WINDOWS_1256)).unwrap();
    assert_eq!((doc.encoding, doc.text.as_str()), ("windows-1256", text));
}

fn assert_one_line_error(err: &FileError, path: &Path, message: &str) {
    assert_eq!(err.file, path.display().to_string());
    assert_eq!(err.message, message);
    assert!(!err.message.contains('\n'));
}

#[test]
fn png_disguised_as_text_is_rejected_naming_the_file() {
    let dir = TempDir::new().unwrap();
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10";
    let err = read_bytes(&dir, "photo.txt", png).unwrap_err();
    assert_one_line_error(
        &err,
        &dir.path().join("photo.txt"),
        "not a text file (PNG image)",
    );
}

#[test]
fn file_with_nul_bytes_is_rejected() {
    let dir = TempDir::new().unwrap();
    let bytes = b"\x00\x01\x02\x03\x00\x00\xA0\x10\x00\x07\x00\x00\x00";
    let err = read_bytes(&dir, "data.txt", bytes).unwrap_err();
    assert_one_line_error(
        &err,
        &dir.path().join("data.txt"),
        "not a text file (contains NUL bytes)",
    );
}

#[test]
fn empty_file_is_rejected() {
    let dir = TempDir::new().unwrap();
    let err = read_bytes(&dir, "empty.md", b"").unwrap_err();
    assert_one_line_error(&err, &dir.path().join("empty.md"), "empty file");
}

#[test]
fn unreadable_paths_give_the_io_reason_once() {
    let dir = TempDir::new().unwrap();
    let err = ingest::read(&input(dir.path(), SourceFormat::Text)).unwrap_err();
    assert_one_line_error(&err, dir.path(), "cannot read: is a directory");
    let missing = dir.path().join("gone.txt");
    let err = ingest::read(&input(&missing, SourceFormat::Text)).unwrap_err();
    assert_one_line_error(&err, &missing, "cannot read: no such file or directory");
}

#[cfg(unix)]
#[test]
fn permission_denied_is_reported() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("secret.txt");
    fs_err::write(&path, "نص").unwrap();
    fs_err::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    if fs_err::read(&path).is_ok() {
        // Running as root (as CI does): permissions are not enforced, so exercise the
        // same unreadable-file path with something root cannot read as a file either.
        let not_a_file = dir.path().join("folder.txt");
        fs_err::create_dir(&not_a_file).unwrap();
        let err = ingest::read(&input(&not_a_file, SourceFormat::Text)).unwrap_err();
        assert!(err.message.starts_with("cannot read"), "{err:?}");
        assert!(
            err.file.ends_with("folder.txt") && !err.message.contains('\n'),
            "{err:?}"
        );
        return;
    }
    let err = ingest::read(&input(&path, SourceFormat::Text)).unwrap_err();
    assert_one_line_error(&err, &path, "cannot read: permission denied");
}

const ARTICLE_PAGE: &str = r#"<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>روسيا تعترف بحكومة طالبان | جلوب تايم لاين</title>
<style>.x { color: red }</style>
<script>googletag.cmd.push(function() { googletag.display('div-gpt-ad'); });</script>
</head><body>
<header><a href="/">الرئيسية</a> <nav><ul><li><a href="/w">حالة الطقس</a></li><li>أسواق عالمية</li></ul></nav></header>
<div class="layout has-sidebar">
<article>
  <h1>روسيا تعترف رسمياً   بحكومة طالبان</h1>
  <div class="share-bar"><a>فيسبوك</a> <a>تويتر</a> شاركها.</div>
  <p>أعلنت روسيا، اليوم الخميس، أنها قبلت أوراق اعتماد سفير جديد لأفغانستان،
     مما يجعلها <b>أول دولة</b> تعترف بحكومة &ldquo;طالبان&rdquo;.</p>
  <script>var tracking = "يجب ألا يظهر";</script>
  <figure><img src="a.jpg" alt=""><figcaption>زامير كابولوف (أ.ف.ب)</figcaption></figure>
  <p>وأكدت وزارة الخارجية الروسية في بيانها أن الاعتراف سيعزز التعاون &amp; الشراكة.</p>
  <div id="comments"><p>تعليق: رائع</p></div>
</article>
<aside><h3>الأكثر قراءة</h3><p>خبر آخر</p></aside>
</div>
<footer>© 2025 جلوب تايم لاين. جميع الحقوق محفوظة.</footer>
</body></html>"#;

#[test]
fn html_article_keeps_only_the_article_paragraphs() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("article.html");
    fs_err::write(&path, ARTICLE_PAGE).unwrap();
    let doc = ingest::read(&input(&path, SourceFormat::Html)).unwrap();
    let paragraphs: Vec<&str> = doc.text.split("\n\n").collect();
    assert_eq!(
        paragraphs,
        [
            "روسيا تعترف رسمياً بحكومة طالبان",
            "أعلنت روسيا، اليوم الخميس، أنها قبلت أوراق اعتماد سفير جديد لأفغانستان، \
             مما يجعلها أول دولة تعترف بحكومة “طالبان”.",
            "زامير كابولوف (أ.ف.ب)",
            "وأكدت وزارة الخارجية الروسية في بيانها أن الاعتراف سيعزز التعاون & الشراكة.",
        ]
    );
}

#[test]
fn html_without_article_uses_body_and_puts_the_title_first() {
    let html = "<html><head><title>عنوان الخبر</title></head><body>\
                <nav>القائمة</nav><div>الفقرة الأولى<br>سطر ثان<br><br>الفقرة الثانية</div>\
                <ul class=\"social-links\"><li>تويتر</li></ul></body></html>";
    assert_eq!(
        ingest::html::extract_text(html),
        "عنوان الخبر\n\nالفقرة الأولى\nسطر ثان\n\nالفقرة الثانية"
    );
}

#[test]
fn entity_escaped_by_the_page_is_not_decoded_twice() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("code.htm");
    fs_err::write(&path, "<p>write &amp;ndash; for a dash, AT&amp;T</p>").unwrap();
    let doc = ingest::read(&input(&path, SourceFormat::Html)).unwrap();
    assert_eq!(doc.text, "write &ndash; for a dash, AT&T");
}

#[test]
fn deeply_nested_html_does_not_panic() {
    // 10,000 inline levels inside 2,000 block levels. (html5ever's parse time grows
    // with the square of the block depth: 10,000 nested divs take seconds in debug
    // builds, which is the parser's cost, not the walk's.)
    let html = format!(
        "<html><body>{}{}<p>عميق</p>{}{}</body></html>",
        "<div>".repeat(2_000),
        "<span>".repeat(10_000),
        "</span>".repeat(10_000),
        "</div>".repeat(2_000),
    );
    assert_eq!(ingest::html::extract_text(&html), "عميق");
    let unclosed = format!("<body>{}نص", "<div><i>".repeat(2_000));
    assert_eq!(ingest::html::extract_text(&unclosed), "نص");
}

#[test]
fn broken_html_does_not_panic() {
    let cases = [
        "",
        "<",
        "</div></div><p>نص",
        "<p>غير مغلق<div><table><td>خلية<p>فقرة</table>",
        "<article><script>if (a < b) {</article>",
        "<html><body><svg><foreignObject><p>x</svg></body>",
    ];
    for html in cases {
        let _ = ingest::html::extract_text(html);
    }
    assert_eq!(
        ingest::html::extract_text("</div></div><p>نص"),
        "نص",
        "stray closing tags are ignored"
    );
}

/// `root/` with nested inputs, ignored files, hidden entries and an output dir.
fn tree() -> TempDir {
    let dir = TempDir::new().unwrap();
    let files = [
        "a.txt",
        "B.MD",
        "notes.pdf",
        "image.png",
        ".hidden.txt",
        ".git/config.txt",
        "sub/c.html",
        "sub/deeper/d.HTM",
        "sub/.cache/e.txt",
        "out/a.html",
    ];
    for rel in files {
        let path = dir.path().join(rel);
        fs_err::create_dir_all(path.parent().unwrap()).unwrap();
        fs_err::write(&path, "نص").unwrap();
    }
    dir
}

fn rels(walk: &ingest::Walk) -> Vec<&str> {
    walk.files.iter().map(|f| f.rel.as_str()).collect()
}

#[test]
fn walk_finds_inputs_recursively_skipping_hidden_and_excluded() {
    let dir = tree();
    let out = dir.path().join("out");
    let walk = ingest::collect(&[dir.path().to_path_buf()], &[out]);
    assert_eq!(
        rels(&walk),
        ["B.MD", "a.txt", "sub/c.html", "sub/deeper/d.HTM"]
    );
    let formats: Vec<SourceFormat> = walk.files.iter().map(|f| f.format).collect();
    use SourceFormat::{Html, Markdown, Text};
    assert_eq!(formats, [Markdown, Text, Html, Html]);
    assert!(walk.errors.is_empty(), "{:?}", walk.errors);
    assert_eq!(walk.files[2].path, dir.path().join("sub/c.html"));
}

#[test]
fn walk_excludes_by_canonical_path_and_ignores_missing_excludes() {
    let dir = tree();
    let roundabout = dir.path().join("sub/../out");
    let not_yet = dir.path().join("cache-not-created");
    let walk = ingest::collect(&[dir.path().to_path_buf()], &[roundabout, not_yet]);
    assert!(!rels(&walk).contains(&"out/a.html"));
    let walk = ingest::collect(&[dir.path().to_path_buf()], &[]);
    assert!(rels(&walk).contains(&"out/a.html"));
}

#[test]
fn file_input_is_read_whatever_its_extension_with_its_bare_name() {
    let dir = tree();
    let inputs = [
        dir.path().join("sub/deeper/d.HTM"),
        dir.path().join("notes.pdf"),
    ];
    let walk = ingest::collect(&inputs, &[]);
    assert_eq!(rels(&walk), ["d.HTM", "notes.pdf"]);
    assert_eq!(walk.files[0].format, SourceFormat::Html);
    assert_eq!(walk.files[1].format, SourceFormat::Text);
}

#[test]
fn walk_reports_a_missing_input_and_goes_on() {
    let dir = tree();
    let missing = dir.path().join("seeds/x");
    let walk = ingest::collect(&[missing.clone(), dir.path().join("a.txt")], &[]);
    assert_eq!(
        walk.errors,
        [FileError {
            file: missing.display().to_string(),
            message: "no such file or directory".into(),
        }]
    );
    assert_eq!(rels(&walk), ["a.txt"]);
}

#[test]
fn the_same_file_reached_twice_is_listed_once() {
    let dir = tree();
    let root = dir.path().to_path_buf();
    let walk = ingest::collect(&[root.clone(), root.join("a.txt"), root.clone()], &[]);
    assert_eq!(
        rels(&walk),
        [
            "B.MD",
            "a.txt",
            "out/a.html",
            "sub/c.html",
            "sub/deeper/d.HTM"
        ]
    );
}

#[cfg(unix)]
#[test]
fn symlink_loop_is_reported_without_failing_the_walk() {
    let dir = tree();
    std::os::unix::fs::symlink(dir.path().join("sub"), dir.path().join("sub/deeper/loop")).unwrap();
    let walk = ingest::collect(&[dir.path().to_path_buf()], &[]);
    assert_eq!(walk.errors.len(), 1, "{:?}", walk.errors);
    let err = &walk.errors[0];
    assert_eq!(
        err.file,
        dir.path().join("sub/deeper/loop").display().to_string()
    );
    assert!(err.message.starts_with("symlink loop"), "{}", err.message);
    assert!(rels(&walk).contains(&"sub/deeper/d.HTM"));
}

#[cfg(unix)]
#[test]
fn symlinked_file_is_followed_and_read_once() {
    let dir = tree();
    std::os::unix::fs::symlink(dir.path().join("a.txt"), dir.path().join("sub/link.txt")).unwrap();
    let walk = ingest::collect(&[dir.path().to_path_buf()], &[]);
    let rels = rels(&walk);
    assert!(
        rels.contains(&"a.txt") && !rels.contains(&"sub/link.txt"),
        "{rels:?}"
    );
}

#[test]
fn every_walked_file_reads() {
    let dir = tree();
    let walk = ingest::collect(&[dir.path().to_path_buf()], &[]);
    for file in &walk.files {
        let doc = ingest::read(file).unwrap();
        assert_eq!(
            (doc.rel.as_str(), doc.text.as_str()),
            (file.rel.as_str(), "نص")
        );
    }
}

/// Read `text` as a file of `format` and segment it as a run does.
fn segmented(dir: &TempDir, name: &str, text: &str, format: SourceFormat) -> Vec<(String, String)> {
    let path = dir.path().join(name);
    fs_err::write(&path, text).unwrap();
    let doc = ingest::read(&input(&path, format)).unwrap();
    tarjama::segment::segment(&doc.text)
        .into_iter()
        .map(|s| (s.kind.as_str().to_owned(), s.text))
        .collect()
}

#[test]
fn bidi_controls_and_stray_boms_never_split_a_sentence_nor_are_sent() {
    let dir = TempDir::new().unwrap();
    let text = "قال المتحدث\u{202B} باسم\u{202C} الوزارة\u{2067} إن\u{2069} الاجتماع \u{FEFF}انتهى. \
                ثم غادر\u{200F} الوفد.\n";
    let rows = segmented(&dir, "a.txt", text, SourceFormat::Text);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        tarjama::segment::sentences(&rows[0].1),
        [
            "قال المتحدث باسم الوزارة إن الاجتماع انتهى.",
            "ثم غادر الوفد."
        ]
    );
}

#[test]
fn markdown_code_front_matter_html_and_conflict_markers_are_kept_but_not_sent() {
    let dir = TempDir::new().unwrap();
    let md = "---\ntitle: \"درس\"\n---\n\n# راهنمای نصب\n\nبرای نصب این دستور را اجرا کنید.\n\n\
              ```bash header=\"نصب\"\nnpm install شکر\n```\n\n<p align=\"center\">\n<img src=\"a.png\">\n</p>\n\n\
              <<<<<<< HEAD\nمتن نسخهٔ اول است.\n=======\nمتن نسخهٔ دوم است.\n>>>>>>> feature\n";
    let rows = segmented(&dir, "a.md", md, SourceFormat::Markdown);
    let kind = |needle: &str| {
        rows.iter()
            .find(|(_, t)| t.contains(needle))
            .unwrap_or_else(|| panic!("{needle} in {rows:?}"))
            .0
            .as_str()
    };
    assert_eq!(kind("title:"), "boilerplate");
    assert_eq!(kind("npm install"), "boilerplate");
    assert_eq!(kind("<img"), "boilerplate");
    assert_eq!(kind("<<<<<<< HEAD"), "boilerplate");
    assert_eq!(kind(">>>>>>> feature"), "boilerplate");
    assert_eq!(kind("راهنمای نصب"), "heading");
    assert_eq!(kind("برای نصب"), "text");
    assert_eq!(kind("نسخهٔ اول"), "text");
    assert_eq!(kind("نسخهٔ دوم"), "text");
}

#[test]
fn a_persian_document_gets_persian_letters_and_its_zwnjs_before_it_is_sent() {
    let dir = TempDir::new().unwrap();
    // Typed on an Arabic keyboard, without ZWNJ; a quoted Arabic line keeps its letters.
    let text = "اين كتابها را مي خوانيم و نميدانيم كه چه ميشود.\n\n\
                اين كار براي ما بسيار مهم است و بايد آن را از امروز شروع كنيم.\n\n\
                قال الذي في المدينة: هذا كتابي.\n";
    let path = dir.path().join("fa.txt");
    fs_err::write(&path, text).unwrap();
    let doc = ingest::read(&input(&path, SourceFormat::Text)).unwrap();
    let mut lines = doc.text.lines().filter(|l| !l.is_empty());
    assert_eq!(
        lines.next().unwrap(),
        "این کتاب\u{200C}ها را می\u{200C}خوانیم و نمی\u{200C}دانیم که چه می\u{200C}شود."
    );
    assert!(lines.next().unwrap().starts_with("این کار برای"));
    assert_eq!(lines.next().unwrap(), "قال الذي في المدينة: هذا كتابي.");
    // An Arabic document is left as written.
    let arabic = "قال الوزير إن الحكومة ستعمل في الأسابيع المقبلة على تنفيذ الخطة.\n";
    let path = dir.path().join("ar.txt");
    fs_err::write(&path, arabic).unwrap();
    assert_eq!(
        ingest::read(&input(&path, SourceFormat::Text))
            .unwrap()
            .text,
        arabic
    );
}

#[test]
fn a_saved_page_without_article_markup_starts_at_its_headline() {
    let dir = TempDir::new().unwrap();
    let body = "قال المسؤول في بيان رسمي اليوم إن الحكومة قررت تمديد العمل بالإجراءات الجديدة حتى نهاية العام الحالي.";
    let html = format!(
        "<html><head><title>الحكومة تمدد الإجراءات - موقع الأخبار</title></head><body>\
         <div><h1><a href=\"/\">الموقع</a></h1><div>الرئيسية</div><div>سياسة</div><div>رياضة</div></div>\
         <div><h1>الحكومة تمدد الإجراءات</h1><div>الأربعاء، 28 آب 2013، آخر تحديث 14:00</div>\
         <p>{body}</p><p>{body}</p>\
         <p>الآراء الواردة أدناه لا تعبر عن رأي الموقع، بل تعكس وجهات نظر أصحابها فقط.</p>\
         <div>الأكثر قراءة</div><div>خبر آخر عن الاقتصاد</div><div>خبر ثالث عن الرياضة</div>\
         <div>الرئيسية | سياسة | رياضة | من نحن</div></div></body></html>"
    );
    let rows = segmented(&dir, "page.html", &html, SourceFormat::Html);
    let sent: Vec<&str> = rows
        .iter()
        .filter(|(k, _)| matches!(k.as_str(), "text" | "heading" | "caption"))
        .map(|(_, t)| t.as_str())
        .collect();
    assert_eq!(sent, ["الحكومة تمدد الإجراءات", body], "{rows:?}");
    assert!(
        !rows.iter().any(|(_, t)| t == "الموقع" || t == "سياسة"),
        "{rows:?}"
    );
}

#[test]
fn an_article_header_with_prose_is_kept() {
    let dir = TempDir::new().unwrap();
    let preamble = "از آنجا که شناسائی حیثیت ذاتی کلیه اعضای خانواده بشری اساس آزادی و عدالت و صلح در جهان است،";
    let html = format!(
        "<html><body><header><nav>خانه</nav></header><h1>اعلامیه</h1>\
         <header><h2>مقدمه</h2><p>{preamble}</p></header><p>مادهٔ اول متن است.</p></body></html>"
    );
    let rows = segmented(&dir, "d.html", &html, SourceFormat::Html);
    assert!(
        rows.iter().any(|(_, t)| t.contains("شناسائی حیثیت")),
        "{rows:?}"
    );
    assert!(!rows.iter().any(|(_, t)| t == "خانه"), "{rows:?}");
}
