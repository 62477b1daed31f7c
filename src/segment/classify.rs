//! Paragraph kinds: text, heading, caption, boilerplate or duplicate.
//!
//! Scraped press pages carry page furniture (scripts, share bars, widgets, ads,
//! mastheads, tag lists) that must be kept but not translated. No single signal
//! finds it, so classification runs in two stages:
//!
//! 1. **On its own**, each paragraph is checked against shapes that are furniture
//!    wherever they appear: no letters at all, code, copyright, Markdown markup
//!    (flagged by [`super::paragraphs`], plus link reference definitions and rules),
//!    calendar lines (only dates, times, month/day/prayer names), date lines with
//!    their publishing labels (`آخر تحديث`, `تاریخ انتشار`, `Updated`), bylines
//!    opened by a writer's label (`بقلم`, `كتب`, `نویسنده`, `By`), rows of
//!    `|`-separated links (not Markdown table rows), a site's notice naming two of
//!    comments, privacy and terms of use, or disclaiming its readers' views, lines
//!    made only of page-furniture, share-bar or widget labels, one phrase said three
//!    times, masthead titles, short Latin-only junk in an Arabic-script page, rows of
//!    side-by-side labels. Then photo credits make captions, and length plus final
//!    punctuation separate headings from text.
//! 2. **By position**: section labels count only above the first body paragraph;
//!    between the title and the first body paragraph, an unvocalized name of two or
//!    three words next to a date line, or a place with an agency, is a byline;
//!    heading-shaped lines after the last body paragraph that head nothing are tag
//!    lists, widget titles and ads, and so are two or more lines of one to three
//!    words ending a document; a very short line wedged between furniture belongs to
//!    its widget; a short question heads something only if body text follows.
//!    Marked structure (a `#` heading, a table row, a list item) is never furniture
//!    by position. Last, a repeated paragraph is a duplicate.
//!
//! Lexicon entries are compared after [`fold`] (hamza forms, alef maqsura, teh
//! marbuta, Persian yeh and kaf, diacritics, tatweel, ZWNJ, case), so spelling
//! variants need not be listed.

use std::collections::HashSet;
use std::sync::LazyLock;

use super::paragraphs::Para;
use super::sentences::{ends_with_sentence_punct, is_closer};
use crate::model::Kind;

/// A heading is at most this many words and characters.
const HEADING_MAX_WORDS: usize = 12;
const HEADING_MAX_CHARS: usize = 90;
/// Latin-only lines this short in an Arabic-script page are junk (alt texts,
/// buttons, brand names); longer ones are foreign-language content.
const LATIN_JUNK_MAX_WORDS: usize = 4;
/// A line this short between two furniture lines belongs to their widget.
const WIDGET_MEMBER_MAX_WORDS: usize = 3;
/// Mastheads and copyright notices are short; a long paragraph naming an editor
/// is news.
const NOTICE_MAX_WORDS: usize = 25;
/// Section labels are one or a few words.
const SECTION_LABEL_MAX_WORDS: usize = 4;
/// A site's notice about comments and privacy is a paragraph, not an essay.
const SITE_NOTICE_MAX_WORDS: usize = 80;
/// A labelled tag list fits on a line.
const TAG_LINE_MAX_WORDS: usize = 25;
/// Bylines are a label and a name or two.
const BYLINE_MAX_WORDS: usize = 8;
/// Items of a `|`-separated link bar are this short.
const LINK_BAR_ITEM_MAX_WORDS: usize = 6;
/// Tag lists: this many short lines or more after the last body paragraph.
const TAG_LIST_MIN_LINES: usize = 2;
/// A tag is one to three words.
const TAG_MAX_WORDS: usize = 3;
/// How far back from the end a photo credit may open.
const CREDIT_WINDOW_CHARS: usize = 40;

/// Classify every paragraph of one document (see the module doc).
#[must_use]
pub fn classify(paras: &[Para]) -> Vec<Kind> {
    let arabic_page = is_arabic_script_page(paras);
    let mut kinds: Vec<Kind> = paras.iter().map(|p| on_its_own(p, arabic_page)).collect();
    settle_questions(paras, &mut kinds);
    section_labels_at_top(paras, &mut kinds);
    notices_at_bottom(paras, &mut kinds);
    bylines_under_title(paras, &mut kinds);
    furniture_at_bottom(paras, &mut kinds);
    tag_lists(paras, &mut kinds);
    widget_members(paras, &mut kinds);
    mark_duplicates(paras, &mut kinds);
    kinds
}

// ---------------------------------------------------------------- stage 1

fn on_its_own(p: &Para, arabic_page: bool) -> Kind {
    let t = p.text.as_str();
    if p.markup || is_machinery(t) || is_furniture(p, arabic_page) {
        Kind::Boilerplate
    } else if is_caption(t) {
        Kind::Caption
    } else if arabic_page && is_latin_only(t) {
        Kind::Text
    } else if is_short(t) && (!ends_with_sentence_punct(t) || is_question(t)) {
        Kind::Heading
    } else {
        Kind::Text
    }
}

/// Not prose at all: no letters, script code, copyright notices.
fn is_machinery(t: &str) -> bool {
    !t.chars().any(crate::detect::is_letter)
        || looks_like_code(t)
        || is_copyright(t)
        || is_markdown_markup(t)
}

/// Markdown that is markup, not text: a link reference definition
/// (`[1]: http://… "title"`), a setext underline or a rule (`====`, `----`, `***`).
fn is_markdown_markup(t: &str) -> bool {
    let t = t.trim();
    let link_definition = t.starts_with('[')
        && t.split_once("]:").is_some_and(|(label, rest)| {
            !label.contains(']') && rest.split_whitespace().next().is_some_and(is_url)
        });
    let rule = t.len() >= 3 && t.chars().all(|c| matches!(c, '=' | '-' | '*' | '_' | ' '));
    link_definition || rule
}

fn is_url(w: &str) -> bool {
    let w = w.trim_matches(|c| c == '<' || c == '>');
    w.starts_with("http://") || w.starts_with("https://") || w.starts_with("www.")
}

/// Longest paragraph the furniture tests look at: widgets, share bars, tag lists,
/// mastheads and repeated "click here" lines are all far shorter. Body text, the
/// bulk of every document, skips the lexicon matching.
const FURNITURE_MAX_WORDS: usize = 40;

/// Page furniture recognisable on its own.
fn is_furniture(p: &Para, arabic_page: bool) -> bool {
    let t = p.text.as_str();
    if word_count(t) > FURNITURE_MAX_WORDS {
        return false;
    }
    let words = letter_words(t);
    let bare = !ends_with_sentence_punct(t);
    is_calendar_line(t)
        || is_dateline(&words, t)
        || is_byline(&words, t)
        || is_link_bar(t)
        || is_tag_line(&words, t)
        || made_of(&words, &FURNITURE)
        || made_of(&words, &WIDGETS)
        || is_share_bar(&words)
        || is_repetition(&words)
        || (bare && word_count(t) <= NOTICE_MAX_WORDS && contains_phrase(&words, &MASTHEAD))
        || (arabic_page && bare && is_latin_only(t) && word_count(t) <= LATIN_JUNK_MAX_WORDS)
        || (p.columns && bare && is_short(t))
}

const CODE_MARKERS: &[&str] = &[
    "function(",
    "function (",
    "();",
    "});",
    "googletag",
    "adsbygoogle",
    "document.write",
    "window.",
    ".push(",
    "<script",
    "javascript:",
];

/// A script or ad snippet: code markers in a paragraph that is not prose. An
/// article that *quotes* code (`<script>` inside an Arabic sentence) stays content:
/// a paragraph whose letters are mostly Arabic script is never code.
fn looks_like_code(t: &str) -> bool {
    let lower = t.to_lowercase();
    CODE_MARKERS.iter().any(|m| lower.contains(m)) && !mostly_arabic_script(t)
}

fn mostly_arabic_script(t: &str) -> bool {
    let letters = t.chars().filter(|&c| crate::detect::is_letter(c)).count();
    let arabic = t.chars().filter(|&c| is_arabic_letter(c)).count();
    letters > 0 && arabic * 2 > letters
}

fn is_copyright(t: &str) -> bool {
    word_count(t) <= NOTICE_MAX_WORDS
        && (t.contains('©') || contains_phrase(&letter_words(t), &COPYRIGHT))
}

/// Only numbers, times and calendar words (months, weekdays, prayer names, era
/// marks), with at least one number: date bars and prayer-time rows.
fn is_calendar_line(t: &str) -> bool {
    let tokens: Vec<&str> = t
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .collect();
    tokens.iter().any(|w| is_number(w))
        && tokens
            .iter()
            .all(|w| is_number(w) || CALENDAR.contains(&fold(w)))
}

/// A date line with its labels: `الأربعاء، 28 آب/اغسطس 2013، آخر تحديث 14:00
/// (GMT+0400)`, `Updated: 3 May 2025`, `تاریخ انتشار: ۱۴ فروردین ۱۴۰۳`: only numbers,
/// calendar words and publishing labels, with a number.
fn is_dateline(words: &[String], t: &str) -> bool {
    t.split_whitespace().any(|w| {
        w.trim_matches(|c: char| !c.is_alphanumeric())
            .chars()
            .any(|c| c.is_numeric())
    }) && words.iter().any(|w| DATELINE.contains(w))
        && words
            .iter()
            .all(|w| DATELINE.contains(w) || CALENDAR.contains(w) || w.chars().count() == 1)
}

/// A byline: a writer's or translator's label opening a short line, followed by a
/// colon or a dash (`كتب - …`, `نویسنده: …`, `ترجمه: …`), or `بقلم …`, `By …`.
fn is_byline(words: &[String], t: &str) -> bool {
    let Some(first) = words.first() else {
        return false;
    };
    // `كتب`, `گزارش`, `by` open headlines too: they need a `:` or a dash after them;
    // `بقلم` ("by the pen of") and a capitalised `By` do not.
    let t = t.trim_start();
    let label = t.split_whitespace().next().unwrap_or_default();
    let after = t[label.len()..].trim_start();
    let marked = label.ends_with(':') || after.starts_with([':', '-', '–', '—', '|']);
    let unambiguous = matches!(first.as_str(), "بقلم" | "بواسطة") || t.starts_with("By ");
    word_count(t) <= BYLINE_MAX_WORDS
        && !ends_with_sentence_punct(t.trim_end_matches(':'))
        && BYLINE.contains(first)
        && (marked || unambiguous)
}

/// A labelled tag list on one line: `برچسب‌ها: ایران، روسیه`, `الوسوم: …`, `Tags: …`
/// (the label, then a colon or nothing but the tags).
fn is_tag_line(words: &[String], t: &str) -> bool {
    let label = letter_words(t.split(':').next().unwrap_or_default());
    word_count(t) <= TAG_LINE_MAX_WORDS
        && !ends_with_sentence_punct(t.trim_end_matches(':'))
        && (TAG_LABELS.contains(&label) || TAG_LABELS.iter().any(|l| l.as_slice() == words))
}

/// A row of links separated by `|` (a menu or a footer): two separators or more and
/// every item a few words; not a Markdown table row (which opens with `|`).
fn is_link_bar(t: &str) -> bool {
    let items: Vec<&str> = t.split('|').map(str::trim).collect();
    let table_row = t.trim_start().starts_with('|');
    !table_row
        && items.len() >= 3
        && items
            .iter()
            .all(|i| word_count(i) <= LINK_BAR_ITEM_MAX_WORDS)
}

/// A site's notice about comments, privacy or the views of readers: a paragraph
/// naming two of those things, or a disclaimer of the site's views.
fn is_site_notice(words: &[String]) -> bool {
    let named = SITE_NOTICE
        .iter()
        .filter(|p| contains_phrase(words, std::slice::from_ref(p)))
        .count();
    named >= 2 || contains_phrase(words, &DISCLAIMER)
}

/// Digits with date/time separators: `1446`, `22:56`, `24/11/2024`, `۱۴۰۳`.
fn is_number(w: &str) -> bool {
    w.chars().any(char::is_numeric) && w.chars().all(|c| c.is_numeric() || ":/.-".contains(c))
}

/// Share buttons: share verbs and network names, possibly with `on`/`via`.
fn is_share_bar(words: &[String]) -> bool {
    words.iter().any(|w| SHARE.contains(w))
        && words
            .iter()
            .all(|w| SHARE.contains(w) || SHARE_FILLERS.contains(w))
}

/// One phrase of up to four words said three or more times (`click here click here
/// click here`).
fn is_repetition(words: &[String]) -> bool {
    (1..=4).any(|k| {
        words.len().is_multiple_of(k)
            && words.len() / k >= 3
            && words.chunks(k).all(|c| c == &words[..k])
    })
}

// ---------------------------------------------------------------- captions

/// Photo captions and credit lines.
fn is_caption(t: &str) -> bool {
    ends_with_credit(t) || starts_with_credit_label(t)
}

/// Ends with a bracketed or quoted agency/photo credit: `(أ.ف.ب)`, `” أ.ب”أ )`,
/// `(رويترز)`, `(Getty Images)`.
pub(crate) fn ends_with_credit(t: &str) -> bool {
    let t = t.trim_end();
    if !t.chars().next_back().is_some_and(is_closer) {
        return false;
    }
    let window = t.char_indices().rev().take(CREDIT_WINDOW_CHARS).skip(1);
    window
        .filter(|&(_, c)| is_credit_opener(c))
        .any(|(i, c)| is_credit(&t[i + c.len_utf8()..]))
}

fn is_credit_opener(c: char) -> bool {
    matches!(c, '(' | '[' | '«' | '“' | '”' | '"' | '‘' | '’' | '\'')
}

/// A credit body: one or more agencies separated by `/`, `,`, `،`, `-`, `|`, `+`.
fn is_credit(body: &str) -> bool {
    let parts: Vec<Vec<String>> = body
        .split(['/', ',', '،', '-', '–', '|', '+'])
        .map(letter_words)
        .filter(|w| !w.is_empty())
        .collect();
    !parts.is_empty() && parts.iter().all(|words| is_credit_part(words))
}

/// An agency, its initials written with dots (`أ.ف.ب` → `افب`), or several agencies
/// around filler words (`AFP via Getty Images`).
fn is_credit_part(words: &[String]) -> bool {
    let kept: Vec<&String> = words
        .iter()
        .filter(|w| !CREDIT_FILLERS.contains(*w))
        .collect();
    let joined: String = kept.iter().map(|w| w.as_str()).collect();
    !kept.is_empty() && (CREDITS.contains(&joined) || kept.iter().all(|w| CREDITS.contains(*w)))
}

/// `تصوير: ...`, `Photo: ...`.
fn starts_with_credit_label(t: &str) -> bool {
    t.split_once(':').is_some_and(|(head, _)| {
        let words = letter_words(head);
        words.len() <= 2 && words.iter().any(|w| CREDIT_LABELS.contains(w))
    })
}

// ---------------------------------------------------------------- stage 2

/// A short question is a heading only when body text follows it.
fn settle_questions(paras: &[Para], kinds: &mut [Kind]) {
    let last_text = kinds.iter().rposition(|&k| k == Kind::Text);
    for (i, p) in paras.iter().enumerate() {
        if kinds[i] == Kind::Heading && is_question(&p.text) && last_text.is_none_or(|l| l < i) {
            kinds[i] = Kind::Text;
        }
    }
}

/// Section labels (`تقارير وملفات`) above the first body paragraph.
fn section_labels_at_top(paras: &[Para], kinds: &mut [Kind]) {
    let first_text = kinds
        .iter()
        .position(|&k| k == Kind::Text)
        .unwrap_or(kinds.len());
    for i in 0..first_text {
        if kinds[i] == Kind::Heading && is_section_label(&paras[i].text) {
            kinds[i] = Kind::Boilerplate;
        }
    }
}

fn is_section_label(t: &str) -> bool {
    let words = letter_words(t);
    (1..=SECTION_LABEL_MAX_WORDS).contains(&words.len()) && words.iter().all(|w| is_section_word(w))
}

/// A section name, possibly with the conjunction `و` and/or the article `ال`.
fn is_section_word(w: &str) -> bool {
    let bare = w
        .strip_prefix('و')
        .filter(|r| r.chars().count() > 2)
        .unwrap_or(w);
    let bare = bare.strip_prefix("ال").unwrap_or(bare);
    SECTIONS.contains(w) || SECTIONS.contains(bare)
}

/// Below the article, a site's notice about comments, privacy and terms, or a
/// disclaimer of its readers' views ([`is_site_notice`]): body-shaped paragraphs
/// followed by nothing but headings and furniture. Only there: an article may well
/// discuss a privacy policy.
fn notices_at_bottom(paras: &[Para], kinds: &mut [Kind]) {
    for i in (0..kinds.len()).rev() {
        if kinds[i] != Kind::Text {
            continue;
        }
        let t = paras[i].text.as_str();
        if word_count(t) <= SITE_NOTICE_MAX_WORDS && is_site_notice(&letter_words(t)) {
            kinds[i] = Kind::Boilerplate;
        } else {
            break;
        }
    }
}

/// Between the title and the first body paragraph, a line of two or three words
/// without punctuation next to a date line (an author's name alone, over or under
/// the date), or a place and an agency (`دمشق (CNN)`, `طهران - ایرنا`), is a byline
/// or dateline, not a heading.
fn bylines_under_title(paras: &[Para], kinds: &mut [Kind]) {
    let Some(first_text) = kinds.iter().position(|&k| k == Kind::Text) else {
        return;
    };
    let Some(title) = kinds[..first_text].iter().position(|&k| k == Kind::Heading) else {
        return;
    };
    for i in title + 1..first_text {
        let t = paras[i].text.as_str();
        if kinds[i] != Kind::Heading
            || ends_with_sentence_punct(t)
            || t.ends_with(':')
            || is_structured(t)
            || t.contains(['(', ')', '[', ']', '`', '|', '*'])
        {
            continue;
        }
        let words = letter_words(t);
        // Names in bylines are not vocalized; scripture and verse, short lines too, are.
        let vocalized = t.chars().any(|c| matches!(c, '\u{064B}'..='\u{0652}'));
        let by_a_date = [i.checked_sub(1), Some(i + 1)]
            .into_iter()
            .flatten()
            .filter_map(|j| paras.get(j))
            .any(|p| is_calendar_line(&p.text) || is_dateline(&letter_words(&p.text), &p.text));
        let name_alone = (2..=TAG_MAX_WORDS).contains(&words.len())
            && by_a_date
            && !vocalized
            && !t.contains(['?', '؟', '«', '"']);
        let agency =
            words.len() <= SECTION_LABEL_MAX_WORDS + 1 && words.iter().any(|w| CREDITS.contains(w));
        if name_alone || agency {
            kinds[i] = Kind::Boilerplate;
        }
    }
}

/// Two or more short lines (one to three words, even punctuated: `ایران،`) as the
/// only content after the last body paragraph, furniture between them or not, are a
/// tag list.
fn tag_lists(paras: &[Para], kinds: &mut [Kind]) {
    let Some(last_text) = kinds.iter().rposition(|&k| k == Kind::Text) else {
        return;
    };
    let short = |i: usize| {
        !is_structured(&paras[i].text)
            && (1..=TAG_MAX_WORDS).contains(&letter_words(&paras[i].text).len())
    };
    let content: Vec<usize> = (last_text + 1..kinds.len())
        .filter(|&i| kinds[i].is_content())
        .collect();
    if content.len() >= TAG_LIST_MIN_LINES && content.iter().all(|&i| short(i)) {
        for i in content {
            kinds[i] = Kind::Boilerplate;
        }
    }
}

/// After the last body paragraph, unpunctuated heading-shaped lines that head
/// nothing (no content line follows them) are tag lists, widget titles, brand names.
/// Marked structure ([`is_structured`]: a list item, a table row, a `#` heading) is
/// content, and so is a heading above it.
fn furniture_at_bottom(paras: &[Para], kinds: &mut [Kind]) {
    let Some(last_text) = kinds.iter().rposition(|&k| k == Kind::Text) else {
        return;
    };
    let mut content_after = false;
    for i in (last_text + 1..kinds.len()).rev() {
        let t = paras[i].text.as_str();
        if kinds[i] == Kind::Heading
            && !ends_with_sentence_punct(t)
            && !is_structured(t)
            && !content_after
        {
            kinds[i] = Kind::Boilerplate;
        }
        content_after |= kinds[i].is_content();
    }
}

/// Document structure that position rules leave alone: a Markdown heading (`#`), a
/// table row (`| … |`), or a marked list item (`- …`, `1. …`); tag lists and widget
/// lines come without such marks.
fn is_structured(t: &str) -> bool {
    let t = t.trim();
    t.starts_with('#') || (t.starts_with('|') && t.ends_with('|')) || is_list_item(t)
}

/// A Markdown or plain-text list item (`- …`, `* …`, `• …`, `1. …`).
fn is_list_item(t: &str) -> bool {
    let first = t.split_whitespace().next().unwrap_or_default();
    matches!(first, "-" | "*" | "+" | "•")
        || (first.len() <= 4
            && first.ends_with(['.', ')'])
            && first[..first.len() - 1].chars().all(char::is_numeric)
            && first.len() > 1)
}

/// A very short line between two furniture lines (`مصر` inside a prayer-time
/// widget) is part of that widget.
fn widget_members(paras: &[Para], kinds: &mut [Kind]) {
    for i in 1..kinds.len().saturating_sub(1) {
        if kinds[i] == Kind::Heading
            && !is_structured(&paras[i].text)
            && word_count(&paras[i].text) <= WIDGET_MEMBER_MAX_WORDS
            && kinds[i - 1] == Kind::Boilerplate
            && kinds[i + 1] == Kind::Boilerplate
        {
            kinds[i] = Kind::Boilerplate;
        }
    }
}

/// Repeats of an earlier paragraph; the first occurrence keeps its kind.
fn mark_duplicates(paras: &[Para], kinds: &mut [Kind]) {
    let mut seen = HashSet::new();
    for (i, p) in paras.iter().enumerate() {
        if !seen.insert(p.text.as_str()) {
            kinds[i] = Kind::Duplicate;
        }
    }
}

// ---------------------------------------------------------------- text helpers

fn word_count(t: &str) -> usize {
    t.split_whitespace().count()
}

fn is_short(t: &str) -> bool {
    word_count(t) <= HEADING_MAX_WORDS && t.chars().count() <= HEADING_MAX_CHARS
}

fn is_question(t: &str) -> bool {
    let core = t.trim_end().trim_end_matches(is_closer);
    core.ends_with(['?', '؟'])
}

fn is_arabic_letter(c: char) -> bool {
    crate::detect::is_arabic_script(c) && crate::detect::is_letter(c)
}

fn is_latin_letter(c: char) -> bool {
    c.is_ascii_alphabetic() || matches!(c, '\u{00C0}'..='\u{024F}')
}

/// Latin letters and no Arabic-script letters.
fn is_latin_only(t: &str) -> bool {
    t.chars().any(is_latin_letter) && !t.chars().any(is_arabic_letter)
}

/// Whether the page is mostly Arabic script (Arabic, Persian, Urdu ...).
fn is_arabic_script_page(paras: &[Para]) -> bool {
    let chars = paras.iter().flat_map(|p| p.text.chars());
    let (arabic, latin) = chars.fold((0usize, 0usize), |(a, l), c| {
        (
            a + usize::from(is_arabic_letter(c)),
            l + usize::from(is_latin_letter(c)),
        )
    });
    arabic > latin
}

/// Spelling-insensitive form for lexicon lookups (see the module doc).
#[must_use]
pub fn fold(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            'أ' | 'إ' | 'آ' | 'ٱ' => Some('ا'),
            'ى' | 'ی' | 'ې' => Some('ي'),
            'ة' | 'ۀ' => Some('ه'),
            'ک' => Some('ك'),
            '\u{0640}' | '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{200C}' => None,
            c => Some(c),
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Folded runs of letters; digits and punctuation separate words
/// (`2030رئيس` → `رئيس`, `أ.ف.ب` → `ا`, `ف`, `ب`).
fn letter_words(t: &str) -> Vec<String> {
    fold(t)
        .split(|c: char| !crate::detect::is_letter(c))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether `words` is one or more lexicon phrases back to back.
fn made_of(words: &[String], phrases: &[Vec<String>]) -> bool {
    let mut reach = vec![false; words.len() + 1];
    reach[0] = true;
    for i in 0..words.len() {
        if !reach[i] {
            continue;
        }
        for p in phrases {
            if words[i..].starts_with(p) {
                reach[i + p.len()] = true;
            }
        }
    }
    !words.is_empty() && reach[words.len()]
}

fn contains_phrase(words: &[String], phrases: &[Vec<String>]) -> bool {
    phrases
        .iter()
        .any(|p| words.windows(p.len()).any(|w| w == p.as_slice()))
}

// ---------------------------------------------------------------- lexicons
//
// Kept compact on purpose (one theme per row); entries are folded before use, so
// write them in any common spelling.

fn phrases(entries: &[&str]) -> Vec<Vec<String>> {
    entries.iter().map(|e| letter_words(e)).collect()
}

fn word_set(entries: &[&str]) -> HashSet<String> {
    entries.iter().map(|e| fold(e)).collect()
}

/// Lines that are furniture when they consist of nothing else.
#[rustfmt::skip]
static FURNITURE: LazyLock<Vec<Vec<String>>> = LazyLock::new(|| phrases(&[
    "Exit mobile version", "Smiley face", "click here", "read more", "skip to content",
    "back to top", "advertisement", "sponsored",
    "اقرأ أيضا", "اقرأ المزيد", "المزيد", "إعلان", "محتوى مدعوم", "إلى الأعلى", "الرئيسية",
    "تابعونا", "تابعنا", "اشترك في النشرة البريدية", "أضف تعليق", "التعليقات",
    "اترك تعليقا", "أضف تعليقك", "اكتب تعليقك", "الاسم", "البريد الإلكتروني", "إرسال", "أرسل",
    "لن يتم نشر عنوان بريدك الإلكتروني", "الحقول المطلوبة", "مطلوب",
    "ادامه مطلب", "بیشتر بخوانید", "صفحه اصلی", "ارسال نظر", "ارسال", "نظر شما", "نام",
    "ایمیل", "پست الکترونیک", "نظرات", "دیدگاه", "دیدگاه خود را بنویسید", "تعليقات", "تعليق",
    "leave a comment", "leave a reply", "comments", "name", "email", "website", "submit",
    "post comment",
]));

/// Labels of date lines (published, updated).
#[rustfmt::skip]
static DATELINE: LazyLock<HashSet<String>> = LazyLock::new(|| word_set(&[
    "تحديث", "التحديث", "نشر", "النشر", "تاريخ", "بتاريخ", "منشور", "محدث", "في", "الساعة",
    "ساعة", "مدة", "القراءة", "قراءة", "دقيقة", "دقائق", "مشاهدة", "مشاهدات",
    "انتشار", "بروزرسانی", "به‌روزرسانی", "تاریخ", "منتشر", "شده", "آخرین", "در", "ساعت",
    "کد", "خبر", "شناسه", "زمان", "مطالعه", "دقیقه", "بازدید",
    "updated", "published", "posted", "last", "update", "on", "at", "reading", "min",
    "read", "views",
]));

/// Labels of tag lists.
#[rustfmt::skip]
static TAG_LABELS: LazyLock<Vec<Vec<String>>> = LazyLock::new(|| phrases(&[
    "الوسوم", "وسوم", "كلمات مفتاحية", "الكلمات المفتاحية", "كلمات دلالية", "برچسب‌ها",
    "برچسب ها", "برچسب", "کلیدواژه‌ها", "کلیدواژه", "کلید واژه ها", "کلمات کلیدی", "tags",
    "tag", "keywords", "topics",
]));

/// Labels that open a byline.
#[rustfmt::skip]
static BYLINE: LazyLock<HashSet<String>> = LazyLock::new(|| word_set(&[
    "بقلم", "كتب", "كتبت", "كتبه", "إعداد", "اعداد", "تحرير", "ترجمة", "بواسطة", "المحرر",
    "نویسنده", "نوشته", "گزارش", "گزارشگر", "خبرنگار", "مترجم", "ترجمه", "به‌قلم",
    "by", "author", "written", "reporter",
]));

/// What a site's notice names: comments, privacy, terms of use.
#[rustfmt::skip]
static SITE_NOTICE: LazyLock<Vec<Vec<String>>> = LazyLock::new(|| phrases(&[
    "التعليقات", "تعليقك", "تعليقات", "سياسة الخصوصية", "شروط الاستخدام", "شروط استخدام",
    "إرشادات الاستخدام", "قواعد النشر",
    "نظرات", "دیدگاه", "حریم خصوصی", "قوانین", "شرایط استفاده",
    "comments", "privacy policy", "terms of use", "terms of service",
]));

/// A site disclaiming the views of its readers or writers.
#[rustfmt::skip]
static DISCLAIMER: LazyLock<Vec<Vec<String>>> = LazyLock::new(|| phrases(&[
    "لا تعبر عن رأي", "لا تعبر بالضرورة عن", "الآراء الواردة", "لا يعبر عن رأي",
    "لن يتم نشر عنوان بريدك", "منعکس کننده دیدگاه", "لزوما بیانگر", "بیانگر دیدگاه",
    "منتشر نخواهد شد", "do not necessarily reflect", "does not necessarily reflect",
    "will not be published",
]));

/// Widget titles (weather, markets, prayer times, most-read boxes).
#[rustfmt::skip]
static WIDGETS: LazyLock<Vec<Vec<String>>> = LazyLock::new(|| phrases(&[
    "مواقيت الصلاة", "أوقات الصلاة", "حالة الطقس", "الطقس", "أسواق عالمية", "أسعار العملات",
    "الأكثر قراءة", "الأكثر مشاهدة", "الأكثر تداولا", "الأكثر تصفحا", "الأكثر تعليقا",
    "الأكثر شعبية", "پربیننده‌ترین", "پربحث‌ترین",
    "اوقات شرعی", "پربازدیدترین", "most read", "most popular", "weather",
]));

/// Masthead titles: the editor's and the board's names under the logo.
#[rustfmt::skip]
static MASTHEAD: LazyLock<Vec<Vec<String>>> = LazyLock::new(|| phrases(&[
    "رئيس التحرير", "رئيس مجلس الإدارة", "رئيس مجلسي الإدارة", "مدير التحرير",
    "سردبیر", "مدیر مسئول", "صاحب امتیاز", "editor in chief",
]));

#[rustfmt::skip]
static COPYRIGHT: LazyLock<Vec<Vec<String>>> = LazyLock::new(|| phrases(&[
    "جميع الحقوق محفوظة", "كل الحقوق محفوظة", "الحقوق محفوظة", "تمامی حقوق", "کلیه حقوق",
    "all rights reserved", "copyright",
]));

/// Share verbs and network names.
#[rustfmt::skip]
static SHARE: LazyLock<HashSet<String>> = LazyLock::new(|| word_set(&[
    "شاركها", "شارك", "مشاركة", "طباعة", "واتساب", "فيسبوك", "تويتر", "تلغرام", "تليجرام",
    "اشتراک", "اشتراکگذاری", "بازنشر", "تلگرام",
    "share", "tweet", "email", "print", "whatsapp", "facebook", "twitter", "telegram",
    "linkedin", "messenger", "reddit", "pinterest",
]));

#[rustfmt::skip]
static SHARE_FILLERS: LazyLock<HashSet<String>> = LazyLock::new(|| word_set(&[
    "on", "via", "this", "على", "عبر", "در", "الخبر", "المقال",
]));

/// Month names (Gregorian in Arabic, Levantine and Persian spellings, Hijri,
/// Persian solar), weekdays, prayer names and era/time marks.
#[rustfmt::skip]
static CALENDAR: LazyLock<HashSet<String>> = LazyLock::new(|| word_set(&[
    // Gregorian, Egyptian/Gulf and Levantine spellings.
    "يناير", "فبراير", "مارس", "أبريل", "إبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر",
    "أكتوبر", "نوفمبر", "ديسمبر",
    "كانون", "شباط", "آذار", "نيسان", "أيار", "حزيران", "تموز", "آب", "أيلول", "تشرين",
    // Hijri, with the qualifiers of its double names.
    "محرم", "صفر", "ربيع", "جمادى", "رجب", "شعبان", "رمضان", "شوال", "ذو", "القعدة", "الحجة",
    "أول", "الأول", "الأولى", "ثاني", "الثاني", "آخر", "الآخر", "الآخرة",
    // Persian solar and Gregorian.
    "فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان", "آذر", "دی",
    "بهمن", "اسفند",
    "ژانویه", "فوریه", "آوریل", "ژوئن", "ژوئیه", "جولای", "اوت", "سپتامبر", "اکتبر",
    "نوامبر", "دسامبر",
    // Weekdays.
    "السبت", "الأحد", "الاثنين", "الإثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة",
    "شنبه", "یکشنبه", "دوشنبه", "سه‌شنبه", "چهارشنبه", "پنجشنبه", "جمعه",
    // Prayer times.
    "الفجر", "الشروق", "الظهر", "العصر", "المغرب", "العشاء",
    "اذان", "صبح", "طلوع", "آفتاب", "ظهر", "عصر", "غروب", "مغرب", "عشاء", "نیمه", "شب",
    // Era and time-of-day marks.
    "هـ", "م", "مـ", "ص", "ق", "ظ", "am", "pm", "gmt", "utc",
]));

/// Newspaper section names (Arabic and Persian).
#[rustfmt::skip]
static SECTIONS: LazyLock<HashSet<String>> = LazyLock::new(|| word_set(&[
    "تقارير", "تقرير", "ملفات", "أخبار", "سياسة", "اقتصاد", "رياضة", "محليات", "منوعات",
    "ثقافة", "فن", "فنون", "تحقيقات", "حوادث", "مقالات", "آراء", "رأي", "متابعات", "حوارات",
    "عربي", "دولي", "عالمي", "عربية", "دولية", "تكنولوجيا", "صحة", "مجتمع", "عاجل", "قسم",
    "سیاسی", "اقتصادی", "بین‌الملل", "فرهنگی", "ورزشی", "اجتماعی", "گزارش", "سرویس",
    "گروه",
]));

/// Agencies and photo sources, keyed by their letters run together
/// (`أ.ف.ب` → `افب`).
#[rustfmt::skip]
static CREDITS: LazyLock<HashSet<String>> = LazyLock::new(|| [
    "أ.ف.ب", "أ.ب", "أ.ب.أ", "إ.ب.أ", "د.ب.أ", "رويترز", "متداولة", "أرشيفية", "أرشيف",
    "وكالات", "الأناضول", "سانا", "واس", "وام", "قنا", "كونا", "بترا", "شينخوا", "سبوتنيك",
    "تاس", "الإنترنت", "مواقع التواصل", "مواقع التواصل الاجتماعي",
    "ایرنا", "ایسنا", "تسنیم", "مهر", "فارس",
    "سي إن إن", "بي بي سي", "الجزيرة", "فرانس برس", "د ب أ", "أ ش أ", "ایلنا", "ایبنا",
    "AFP", "AP", "EPA", "Reuters", "Getty", "Anadolu", "Xinhua", "TASS", "Sputnik", "IRNA",
    "CNN", "BBC", "DPA", "UPI", "ANSA", "MENA",
    "Shutterstock", "Alamy", "Bloomberg",
].iter().map(|e| letter_words(e).concat()).collect());

#[rustfmt::skip]
static CREDIT_FILLERS: LazyLock<HashSet<String>> = LazyLock::new(|| word_set(&[
    "via", "images", "image", "photo", "photos", "pictures", "عبر", "صورة", "صور",
]));

#[rustfmt::skip]
static CREDIT_LABELS: LazyLock<HashSet<String>> = LazyLock::new(|| word_set(&[
    "تصوير", "الصورة", "صورة", "عکس", "photo", "credit", "image",
]));

#[cfg(test)]
mod code_tests {
    use super::looks_like_code;

    #[test]
    fn script_snippets_are_code_but_prose_quoting_code_is_not() {
        assert!(looks_like_code(
            "googletag.cmd.push(function() { googletag.display('div-gpt-ad-3341368-4'); });"
        ));
        assert!(!looks_like_code(
            "قال الباحث إن المهاجمين زرعوا الشيفرة <script>alert(1)</script> في موقع الوزارة الرسمي لسرقة بيانات الزوار."
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(lines: &[&str]) -> Vec<Kind> {
        let paras: Vec<Para> = lines
            .iter()
            .map(|t| Para {
                text: (*t).to_owned(),
                columns: false,
                markup: false,
            })
            .collect();
        classify(&paras)
    }

    #[test]
    fn credits_make_captions() {
        for t in [
            "صورة للاجئين (أ.ف.ب)",
            "صورة ” أ.ب”أ )",
            "مشهد من المدينة (رويترز / أ.ف.ب)",
            "A street (AFP via Getty Images)",
            "تصوير: فلان",
        ] {
            assert!(is_caption(t), "{t}");
        }
        assert!(!is_caption("حركة (طالبان)"));
        assert!(!is_caption("قال «داعش خراسان»"));
    }

    #[test]
    fn calendar_lines_and_share_bars() {
        assert!(is_calendar_line("الفجر 04:57"));
        assert!(is_calendar_line("۱۴ فروردین ۱۴۰۳"));
        assert!(is_calendar_line("سه‌شنبه ۱۴ فروردین ۱۴۰۳"));
        assert!(is_calendar_line("اذان صبح ۰۵:۱۲"));
        assert!(!is_calendar_line("في 24 نوفمبر"));
        assert!(is_share_bar(&letter_words("Share on Facebook")));
        assert!(!is_share_bar(&letter_words("على")));
    }

    #[test]
    fn position_rules() {
        let body = "هذا نص طويل بما يكفي ليكون فقرة من متن المقال وهو ينتهي بنقطة في آخره.";
        assert_eq!(
            kinds(&["أخبار", "عنوان المقال", body, "وسوم المقال هنا"]),
            [
                Kind::Boilerplate,
                Kind::Heading,
                Kind::Text,
                Kind::Boilerplate
            ]
        );
        assert_eq!(
            kinds(&["سرویس سیاسی", "روسیه و طالبان", body]),
            [Kind::Boilerplate, Kind::Heading, Kind::Text]
        );
        assert_eq!(
            kinds(&["هل تنجح؟", body, body, "فهل تنجح؟"]),
            [Kind::Heading, Kind::Text, Kind::Duplicate, Kind::Text]
        );
    }

    #[test]
    fn bylines_datelines_notices_and_tags() {
        let body = "هذا نص طويل بما يكفي ليكون فقرة من متن المقال وهو ينتهي بنقطة في آخره.";
        let notice =
            "ترحب إدارة الموقع بتعليقاتكم، وننصحك بقراءة سياسة الخصوصية وشروط الاستخدام قبل النشر.";
        assert_eq!(
            kinds(&[
                "عنوان المقال هنا",
                "كتب - أحمد علي",
                "الأربعاء، 28 آب 2013، آخر تحديث 14:00",
                body,
                notice,
                body,
                "الآراء الواردة أدناه لا تعبر عن رأي الموقع بل تعكس وجهات نظر أصحابها فقط.",
                "الرئيسية | سياسة | رياضة | من نحن",
                "إيران",
                "روسيا",
                "طالبان",
            ]),
            [
                Kind::Heading,
                Kind::Boilerplate,
                Kind::Boilerplate,
                Kind::Text,
                Kind::Text, // a notice inside the article is the article's
                Kind::Duplicate,
                Kind::Boilerplate,
                Kind::Boilerplate,
                Kind::Boilerplate,
                Kind::Boilerplate,
                Kind::Boilerplate,
            ]
        );
        assert!(is_tag_line(
            &letter_words("برچسب‌ها: ایران، روسیه، طالبان"),
            "برچسب‌ها: ایران، روسیه، طالبان"
        ));
        assert!(!is_tag_line(
            &letter_words("كلمات الرئيس في المؤتمر"),
            "كلمات الرئيس في المؤتمر"
        ));
        // Headlines that start like a byline label are headlines.
        assert_eq!(
            kinds(&[
                "گزارش سازمان ملل درباره افغانستان",
                "كتب جديدة في المعرض",
                body
            ]),
            [Kind::Heading, Kind::Heading, Kind::Text]
        );
        // A name alone under the title, over the date line.
        assert_eq!(
            kinds(&["عنوان المقال", "أحمد علي", "24 نوفمبر 2024", body]),
            [
                Kind::Heading,
                Kind::Boilerplate,
                Kind::Boilerplate,
                Kind::Text
            ]
        );
        // Markdown structure at the end of a document is content.
        assert_eq!(
            kinds(&[body, "**پیش‌نیازها**", "- کارت گرافیک", "| الف | ب |"]),
            [Kind::Text, Kind::Heading, Kind::Heading, Kind::Heading]
        );
    }

    #[test]
    fn fold_unifies_spellings() {
        assert_eq!(fold("البنك الزراعى المصرى"), fold("البنك الزراعي المصري"));
        assert_eq!(fold("جمادى"), fold("جمادي"));
        assert_eq!(fold("Share"), "share");
    }
}
