//! The segment stage's contract, checked on the five real seed articles.
//!
//! Each seed has an explicit table of the paragraphs a human reader draws: kind,
//! first words, last words (an empty "last words" means the first column is the
//! whole paragraph). The tables double as documentation of what the rules do on
//! messy input: repeated headlines, masthead and widget furniture, scripts, photo
//! credits, a hard-wrapped Persian article broken across blank lines, and a page
//! with no blank lines at all.

use tarjama::ingest::normalize::normalize;
use tarjama::model::{Kind, Segment};
use tarjama::segment::{chunk, segment, split_sentences};

const T: Kind = Kind::Text;
const H: Kind = Kind::Heading;
const C: Kind = Kind::Caption;
const B: Kind = Kind::Boilerplate;
const D: Kind = Kind::Duplicate;

/// One expected paragraph: kind, first words, last words ("" = first is exact).
type Row = (Kind, &'static str, &'static str);

const SEEDS: [&str; 5] = [
    "000_2d74ac5e9dc5bed1",
    "001_3abe45b512f5c259",
    "002_65b8ef3daf2c733c",
    "003_2afab63017fdb124",
    "004_b33c59889301da3a",
];

fn raw(name: &str) -> String {
    let path = format!("{}/seeds/{name}.txt", env!("CARGO_MANIFEST_DIR"));
    fs_err::read_to_string(path).expect("seed is readable")
}

fn normalized(name: &str) -> String {
    normalize(&raw(name))
}

fn segments(name: &str) -> Vec<Segment> {
    segment(&normalized(name))
}

fn dump(segs: &[Segment]) -> String {
    segs.iter()
        .enumerate()
        .map(|(i, s)| format!("{i:2} {:11} {}\n", s.kind.as_str(), s.text))
        .collect()
}

/// Assert the seed cuts into exactly `table`.
fn check(name: &str, table: &[Row]) -> Vec<Segment> {
    let segs = segments(name);
    assert_eq!(segs.len(), table.len(), "{name}:\n{}", dump(&segs));
    for (i, (seg, &(kind, first, last))) in segs.iter().zip(table).enumerate() {
        assert_eq!(seg.kind, kind, "{name} #{i}: {}", seg.text);
        if last.is_empty() {
            assert_eq!(seg.text, first, "{name} #{i}");
        } else {
            assert!(
                seg.text.starts_with(first) && seg.text.ends_with(last),
                "{name} #{i}: expected {first} … {last}, got {}",
                seg.text
            );
        }
    }
    segs
}

fn count(segs: &[Segment], kind: Kind) -> usize {
    segs.iter().filter(|s| s.kind == kind).count()
}

// ------------------------------------------------------------------ seed 000

/// One line per paragraph with blank lines between; the headline is repeated
/// twice after the lede.
#[rustfmt::skip]
const SEED_000: &[Row] = &[
    (H, "روسيا تعترف رسمياً بحكومة طالبان في أفغانستان كأول دولة تفعل ذلك", ""),
    (T, "أعلنت روسيا، اليوم", "في هذا البلد"),
    (D, "روسيا تعترف رسمياً بحكومة طالبان في أفغانستان كأول دولة تفعل ذلك", ""),
    (D, "روسيا تعترف رسمياً بحكومة طالبان في أفغانستان كأول دولة تفعل ذلك", ""),
    (T, "وقد اكتفى الممثل", "الروسية لوكالة “تاس”."),
    (T, "وأكدت وزارة الخارجية", "في مختلف المجالات”."),
    (H, "روسيا تدعم طالبان", ""),
    (T, "وفي وقت سابق،", "باسم «داعش خراسان»."),
    (T, "كما صرح الممثل", "مكافحة «داعش خراسان»"),
    (H, "أيديولوجية جهاد عالمي متطرفة", ""),
    (T, "وأضاف كابولوف “هذه", "مشتركاً لروسيا وأفغانستان”."),
    (T, "وتابع “سنقدم كل", "خلال هيئات متخصصة”."),
    (H, "الاعتراف الرسمي بحكومة طالبان", ""),
    (T, "تسلط تصريحات كابولوف", "في مكافحة الإرهاب."),
    (T, "كما قامت روسيا", "في عام 2003."),
    (T, "تعكس هذه الخطوة", "مع شركائه التقليديين."),
    (T, "وتعاني روسيا من", "والذي تبناه التنظيم."),
    (H, "هجوم داعش-خراسان على قاعة حفلات في موسكو", ""),
    (T, "أعلن داعش-خراسان مسؤوليته", "الحرب على الإرهاب."),
    (T, "وأكد الرئيس الروسي", "الحرب ضد الإرهاب."),
    (T, "تأتي تصريحات الرئيس", "نحو 200 آخرين."),
];

#[test]
fn seed_000_headline_kept_once_and_repeats_marked_duplicate() {
    let segs = check(SEEDS[0], SEED_000);
    let headline = &segs[0].text;
    let same: Vec<Kind> = segs
        .iter()
        .filter(|s| &s.text == headline)
        .map(|s| s.kind)
        .collect();
    assert_eq!(same, [H, D, D]);
    assert_eq!(
        [T, H, D].map(|k| count(&segs, k)),
        [14, 5, 2],
        "{}",
        dump(&segs)
    );
}

// ------------------------------------------------------------------ seed 001

/// Date bar, masthead and section label on top; a `؟` headline with `..` inside;
/// a repeated tag; a tag list, prayer-time widget, `click here` and bank ads below.
#[rustfmt::skip]
const SEED_001: &[Row] = &[
    (B, "24 نوفمبر 2024 22:56 22 جمادى أول 1446", ""),
    (B, "مصر 2030رئيس مجلسي الإدارة والتحرير أحمد عامر", ""),
    (B, "تقارير وملفات", ""),
    (H, "تحركات دبلوماسية جديدة.. ماذا وراء تقرّب روسيا لـ«طالبان»؟", ""),
    (H, "حركة طالبان", ""),
    (D, "حركة طالبان", ""),
    (T, "في سياق تحركاتها", "جديدة مضادة للغرب."),
    (T, "ويتمثل جزء من", "التعاون الدولي معها."),
    (T, "كما تأتي هذه", "أفغانستان في الثمانينيات."),
    (T, "ومنذ ذلك الحين،", "في التواصل معها."),
    (T, "وفي هذا السياق،", "بين روسيا وطالبان."),
    (T, "وتمثل الدعوة لحضور", "السياسة الخارجية للكرملين."),
    (T, "وبالنسبة لحركة طالبان،", "سفارة في كابول."),
    (T, "وفي إطار سعيها", "المتحدة على الرحيل."),
    (T, "ووصف سيرغي لافروف،", "موسكو تجاه الحركة."),
    (T, "وعلى الرغم من", "الفعلية في أفغانستان\"."),
    (T, "ومنذ عودة طالبان", "العالم بزعامتها لأفغانستان."),
    (T, "وخلال فترة حكمها", "حقوق المرأة وحرياتها."),
    (T, "وفي رده على", "ونحن نرحب بها\"."),
    (T, "وأضاف: \"نريد بناء", "للقدوم والاستثمار هنا\"."),
    (T, "\"فكما تعلمون، عندما", "الاقتصادية\"، أضاف بيسكوف."),
    (T, "بالإضافة إلى روسيا،", "الأفغان \"أسبوعيًا تقريبًا\"."),
    (T, "ولم يحدد بيسكوف", "مقتل 144 شخصًا."),
    (T, "وكانت طالبان قد", "هجمات خارج حدودها."),
    (T, "ويُعتبر تنظيم داعش", "وروسيا والولايات المتحدة."),
    (B, "حركة طالبان أخبار روسيا طالبان وروسيا بوتين", ""),
    (B, "مواقيت الصلاة", ""),
    (B, "الأحد 10:56 مـ", ""),
    (B, "22 جمادى أول 1446 هـ 24 نوفمبر 2024 م", ""),
    (B, "مصر", ""),
    (B, "الفجر 04:57", ""),
    (B, "الشروق 06:28", ""),
    (B, "الظهر 11:42", ""),
    (B, "العصر 14:36", ""),
    (B, "المغرب 16:56", ""),
    (B, "العشاء 18:17", ""),
    (B, "click here click here click here click here click here click here", ""),
    (B, "البنك الزراعى المصرى", ""),
    (B, "banquemisr", ""),
];

#[test]
fn seed_001_furniture_above_and_below_the_article() {
    let segs = check(SEEDS[1], SEED_001);
    assert_eq!(
        [T, H, B, D].map(|k| count(&segs, k)),
        [19, 2, 17, 1],
        "{}",
        dump(&segs)
    );
}

// ------------------------------------------------------------------ seed 002

/// Two photo captions with credits, a script block and share/mobile links.
#[rustfmt::skip]
const SEED_002: &[Row] = &[
    (T, "قالت وزارة الخارجية", "الاقتصادي ومكافحة الإرهاب."),
    (C, "لاجئون أفغان يحملون", "يوليو 2025 (أ.ف.ب)"),
    (T, "وأصبحت روسيا، هذا", "فوضوي، من البلاد."),
    (T, "وذكرت الوزارة، في", "الإرهاب وتهريب المخدرات»."),
    (C, "لقاء سابق بين", "في موسكو (متداولة)"),
    (T, "وكان مبعوث الرئيس", "القانونية اللازمة لذلك."),
    (T, "وقال كابولوف، في", "المجال القانوني الروسي»."),
    (T, "يشار إلى أنّ", "في ذلك الوقت."),
    (T, "ومع ذلك، واصلت", "سنوياً في روسيا."),
    (B, "“);", ""),
    (B, "googletag.cmd.push(function() { onDvtagReady(function", "googletag.display(‘div-gpt-ad-3341368-4’); }); });"),
    (B, "}", ""),
    (B, "شاركها.", ""),
    (B, "Exit mobile version", ""),
];

#[test]
fn seed_002_captions_and_script_tail() {
    let segs = check(SEEDS[2], SEED_002);
    assert_eq!(
        [T, C, B].map(|k| count(&segs, k)),
        [7, 2, 5],
        "{}",
        dump(&segs)
    );
}

// ------------------------------------------------------------------ seed 003

/// Persian, hard-wrapped, with sentences broken across blank lines (and some
/// lines' words scrambled by a bad right-to-left copy, which we keep as is).
#[rustfmt::skip]
const SEED_003: &[Row] = &[
    (H, "انگیزه های امنیتی", "رسمی حکومت طالبان"),
    (T, "نشریه دیپلمات در", "ویژه داعش است."),
    (T, "به گزارش آران", "قبال کابل است."),
    (T, "نشریه دیپلمات این", "استراتژیک می داند."),
    (T, "با پذیرش باره", "تروریستی حذف کند."),
    (T, "دیپلمات درباره انگیزه", "محسوب می شود."),
    (T, "افغانستان، در نشست", "طالبان سخن گفت."),
    (T, "را به رسمیت", "را افزایش دهد."),
    (T, "به گفته دیپلمات", "آینده گسترش یابد."),
    (T, "با این حال،", "آسیای مرکزی بینجامد."),
];

#[test]
fn seed_003_wrapped_lines_joined_across_blank_lines() {
    let segs = check(SEEDS[3], SEED_003);
    assert_eq!([T, H].map(|k| count(&segs, k)), [9, 1], "{}", dump(&segs));
    // Each fragment that starts a line after a wrap is inside a paragraph,
    // glued to the line before it with one space.
    for seam in [
        "دیپلماتیک توسط روسیه",
        "به ویژه داعش است.",
        "به رسمیت شناخت. این تصمیم",
        "روسیه در امور افغانستان",
        "از فهرست سازمان های",
        "در افغانستان فعال است",
        "از امکان ارسال تسلیحات",
        "امنیتی خود، نفوذش",
        "گروه های تکفیری در",
    ] {
        assert_eq!(
            segs.iter().filter(|s| s.text.contains(seam)).count(),
            1,
            "seam {seam} not joined:\n{}",
            dump(&segs)
        );
    }
    for s in &segs[1..] {
        assert!(s.text.ends_with('.'), "unfinished paragraph: {}", s.text);
    }
}

// ------------------------------------------------------------------ seed 004

/// No blank lines inside the article: every line is its own paragraph. An English
/// instruction pasted into the page is article content, not an instruction.
#[rustfmt::skip]
const SEED_004: &[Row] = &[
    (B, "Smiley face", ""),
    (B, "حالة الطقس أسواق عالمية", ""),
    (T, "Summarize this content", "paragraphs in Arabic"),
    (H, "بوصفه «العدو المشترك» لموسكو وكابل", ""),
    (T, "قال المبعوث الروسي", "تنظيم «داعش» هناك."),
    (C, "يقف أحد أفراد", "” أ.ب”أ )"),
    (T, "وأشار زامير كابولوف،", "المشترك» لموسكو وكابل."),
    (T, "وقال كابولوف في", "الأفغاني لتنظيم (داعش)»."),
    (T, "وأضاف: «سنقدم أفضل", "خلال هياكل متخصصة»."),
    (T, "ولا تعترف أي", "عاماً من الحرب."),
    (T, "وتسلط تصريحات كابولوف", "في مكافحة الإرهاب."),
    (T, "وحذفت روسيا، الشهر", "إليها في 2003."),
    (T, "وتعاني روسيا من", "الذي تبناه التنظيم."),
    (T, "وقال الرئيس الروسي", "الحرب ضد الإرهاب»."),
    (C, "قف أفراد أمن", "2025 (أ.ب.أ )"),
    (T, "وتأتي تصريحات الرئيس", "ونحو 200 جريح."),
    (B, "“);", ""),
    (B, "googletag.cmd.push(function() { googletag.display(‘div-gpt-ad-3341368-4’); });", ""),
    (B, "}", ""),
    (B, "شاركها.", ""),
    (B, "© 2025 جلوب", "جميع الحقوق محفوظة."),
];

#[test]
fn seed_004_every_line_is_its_own_paragraph() {
    let segs = check(SEEDS[4], SEED_004);
    let lines: Vec<String> = normalized(SEEDS[4])
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect();
    let texts: Vec<&str> = segs.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(texts, lines);
    assert_eq!(
        [T, H, C, B].map(|k| count(&segs, k)),
        [11, 1, 2, 7],
        "{}",
        dump(&segs)
    );
}

#[test]
fn seed_004_pasted_english_prompt_is_plain_text() {
    let segs = segments(SEEDS[4]);
    let prompt = "Summarize this content to 2000 words in 6 paragraphs in Arabic";
    let found: Vec<&Segment> = segs.iter().filter(|s| s.text == prompt).collect();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].kind, Kind::Text);
}

// ------------------------------------------------------------------ all seeds

fn non_whitespace(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn no_content_lost_in_any_seed() {
    for name in SEEDS {
        let input = normalized(name);
        let joined: String = segments(name).iter().map(|s| s.text.as_str()).collect();
        assert_eq!(non_whitespace(&joined), non_whitespace(&input), "{name}");
    }
}

#[test]
fn paragraphs_are_trimmed_and_single_spaced() {
    for name in SEEDS {
        for s in segments(name) {
            assert!(!s.text.is_empty(), "{name}");
            assert_eq!(
                s.text,
                s.text.split_whitespace().collect::<Vec<_>>().join(" ")
            );
        }
    }
}

/// Page furniture seen in the seeds, by its whole text ...
const FURNITURE_LINES: &[&str] = &["“);", "}", "شاركها.", "مصر", "banquemisr"];

/// ... or by a fragment of it. None of it may be sent for translation.
const FURNITURE: &[&str] = &[
    "googletag",
    "Exit mobile version",
    "©",
    "مواقيت الصلاة",
    "click here",
    "البنك الزراعى",
    "جمادى",
    "رئيس مجلسي الإدارة",
    "تقارير وملفات",
    "حركة طالبان أخبار روسيا",
    "Smiley face",
    "حالة الطقس",
    "الفجر 04:57",
    "الشروق 06:28",
    "الظهر 11:42",
    "العصر 14:36",
    "المغرب 16:56",
    "العشاء 18:17",
    "10:56 مـ",
];

#[test]
fn no_boilerplate_classified_as_content() {
    let mut found = 0;
    for name in SEEDS {
        for s in segments(name) {
            let furniture = FURNITURE_LINES.contains(&s.text.as_str())
                || FURNITURE.iter().any(|f| s.text.contains(f));
            if furniture {
                found += 1;
                assert!(!s.kind.is_content(), "{name}: {}", s.text);
            }
        }
    }
    // Seeds 001, 002 and 004 carry 17 + 5 + 7 furniture paragraphs.
    assert_eq!(found, 29);
}

#[test]
fn sentences_round_trip_on_every_seed_paragraph() {
    for name in SEEDS {
        for s in segments(name) {
            let pieces = split_sentences(&s.text);
            assert_eq!(pieces.concat(), s.text, "{name}");
            assert!(pieces.iter().all(|p| !p.is_empty()));
        }
    }
}

#[test]
fn sentence_splits_respect_initials_and_double_dots() {
    let headline = &segments(SEEDS[1])[3].text;
    assert_eq!(split_sentences(headline), [headline.as_str()]);
    let caption = &segments(SEEDS[2])[1].text;
    assert_eq!(split_sentences(caption).len(), 1, "{caption}");
    let two = &segments(SEEDS[4])[13].text;
    let pieces = split_sentences(two);
    assert_eq!(pieces.len(), 2, "{pieces:?}");
    assert!(pieces[0].ends_with("ضد الإرهاب. "));
    assert!(pieces[1].ends_with("الإرهاب»."));
}

#[test]
fn chunks_fit_and_rejoin_on_every_seed_paragraph() {
    for name in SEEDS {
        for s in segments(name) {
            for max in [500, 120] {
                let pieces = chunk(&s.text, max);
                assert!(!pieces.is_empty(), "{name}");
                for p in &pieces {
                    assert!(p.len() <= max, "{name} {max}: {} bytes", p.len());
                    assert!(!p.is_empty() && p.trim() == p);
                }
                assert_eq!(pieces.join(" "), s.text, "{name} {max}");
            }
        }
    }
}

#[test]
fn long_seed_paragraphs_chunk_at_sentence_ends_when_they_can() {
    // Seed 004's Putin paragraph: 2 sentences, ~580 bytes.
    let text = &segments(SEEDS[4])[13].text;
    assert!(text.len() > 500);
    let pieces = chunk(text, 500);
    assert_eq!(pieces.len(), 2, "{pieces:?}");
    assert!(pieces[0].ends_with("ضد الإرهاب."));
}
