//! Bytes to text: BOMs, UTF-8, UTF-16, legacy Arabic code pages, and "not text".
//!
//! This module owns the decision "which encoding is this file in, and is it text at
//! all". The order of the checks matters and is:
//!
//! 1. empty input → [`DecodeError::Empty`];
//! 2. a known binary signature (PNG, JPEG, PDF, ZIP, gzip, ELF ...) →
//!    [`DecodeError::Binary`];
//! 3. a byte order mark (UTF-8, UTF-16LE, UTF-16BE) decides;
//! 4. BOM-less UTF-16, recognised by its pattern of zero bytes on one parity only;
//! 5. a high share (over 5%) of control bytes, NUL included → binary (`contains NUL
//!    bytes` when some are NUL). A few stray NULs in otherwise good text (a broken
//!    scrape) do not lose the article: [`normalize`](super::normalize) drops them;
//! 6. valid UTF-8 → `UTF-8`;
//! 7. *mostly* valid UTF-8 (a stray byte, a file cut mid-character: at least
//!    [`MIN_UTF8_EVIDENCE`] times more well-formed multi-byte characters than
//!    damaged spots) → `UTF-8` with the bad bytes replaced. Without this rule one
//!    bad byte sent a whole UTF-8 Arabic article to the legacy guesser, which read it
//!    as Chinese (GBK) mojibake;
//! 8. otherwise `chardetng` guesses a legacy encoding (windows-1256, ISO-8859-6,
//!    windows-1252 ...) and `encoding_rs` decodes it.
//!
//! Malformed sequences in a file whose encoding was decided by a BOM, by rule 7 or
//! guessed are replaced by U+FFFD rather than rejected: one bad byte should not lose
//! an article. [`decode_counted`] says how many were replaced, so the caller can warn
//! naming the file.

use encoding_rs::{DecoderResult, Encoding, UTF_8, UTF_16BE, UTF_16LE};

/// Why bytes could not be turned into text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The file is empty.
    #[error("empty file")]
    Empty,
    /// The bytes look like a binary file.
    #[error("not a text file ({0})")]
    Binary(String),
}

/// Text decoded from bytes, with what it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The text.
    pub text: String,
    /// The encoding it was read as (`encoding_rs`'s WHATWG name).
    pub encoding: &'static str,
    /// Malformed byte sequences replaced by U+FFFD.
    pub replaced: usize,
    /// NUL characters in the decoded text (stray ones; [`normalize`](super::normalize)
    /// drops them).
    pub nuls: usize,
}

/// Well-formed multi-byte UTF-8 characters needed per damaged spot for data
/// that is not valid UTF-8 to be read as UTF-8 anyway (rule 7 of the module doc).
/// Legacy Arabic code pages form a valid multi-byte sequence only by accident (a
/// lead byte followed by exactly the right continuation bytes), so their ratio is
/// far below this.
pub const MIN_UTF8_EVIDENCE: usize = 20;

/// Share of control bytes (other than tab, line feed, form feed, carriage return and
/// escape) above which data is considered binary.
const MAX_CONTROL_SHARE: f64 = 0.05;

/// Decode bytes, returning the text and the encoding name it was read as.
///
/// The name is `encoding_rs`'s (WHATWG) name: `UTF-8`, `UTF-16LE`, `UTF-16BE`,
/// `windows-1256`, `ISO-8859-6` ...
///
/// # Errors
/// See [`DecodeError`].
pub fn decode(bytes: &[u8]) -> Result<(String, &'static str), DecodeError> {
    decode_counted(bytes).map(|d| (d.text, d.encoding))
}

/// [`decode`], also counting the malformed sequences replaced by U+FFFD.
///
/// # Errors
/// See [`DecodeError`].
pub fn decode_counted(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    let mut decoded = decode_any(bytes)?;
    decoded.nuls = decoded.text.matches('\0').count();
    Ok(decoded)
}

fn decode_any(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    if let Some(kind) = binary_signature(bytes) {
        return Err(DecodeError::Binary(kind.to_owned()));
    }
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        return Ok(decode_with(encoding, &bytes[bom_len..]));
    }
    if let Some(encoding) = sniff_utf16(bytes) {
        return Ok(decode_with(encoding, bytes));
    }
    reject_binary(bytes)?;
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(Decoded {
            text: text.to_owned(),
            encoding: UTF_8.name(),
            replaced: 0,
            nuls: 0,
        });
    }
    if is_mostly_utf8(bytes) {
        return Ok(decode_with(UTF_8, bytes));
    }
    Ok(decode_with(guess_legacy(bytes), bytes))
}

/// Decode without BOM handling, replacing (and counting) malformed sequences.
fn decode_with(encoding: &'static Encoding, bytes: &[u8]) -> Decoded {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let capacity = decoder
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .unwrap_or(bytes.len());
    let mut text = String::with_capacity(capacity);
    let (mut rest, mut replaced) = (bytes, 0);
    loop {
        let (result, read) = decoder.decode_to_string_without_replacement(rest, &mut text, true);
        rest = &rest[read..];
        match result {
            DecoderResult::InputEmpty => break,
            DecoderResult::Malformed(..) => {
                replaced += 1;
                text.push('\u{FFFD}');
            }
            DecoderResult::OutputFull => text.reserve(rest.len().max(16) * 3),
        }
    }
    Decoded {
        text,
        encoding: encoding.name(),
        replaced,
        nuls: 0,
    }
}

/// Invalid UTF-8 that is nonetheless UTF-8 with a few damaged spots: many
/// well-formed multi-byte characters per damaged spot (a run of malformed bytes with
/// nothing valid between them counts once: a stray byte inside a character makes
/// three malformed sequences in a row).
fn is_mostly_utf8(bytes: &[u8]) -> bool {
    let (mut multibyte, mut damaged, mut in_damage) = (0_usize, 0_usize, false);
    for chunk in bytes.utf8_chunks() {
        multibyte += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        if !chunk.valid().is_empty() {
            in_damage = false;
        }
        if !chunk.invalid().is_empty() {
            damaged += usize::from(!in_damage);
            in_damage = true;
        }
    }
    multibyte >= MIN_UTF8_EVIDENCE * damaged
}

/// Ask `chardetng` for the most likely legacy (non-UTF-8) encoding.
fn guess_legacy(bytes: &[u8]) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    detector.guess(None, chardetng::Utf8Detection::Deny)
}

/// Name the file type when `bytes` start with a well-known binary signature.
#[must_use]
pub(crate) fn binary_signature(bytes: &[u8]) -> Option<&'static str> {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"\x89PNG\r\n\x1a\n", "PNG image"),
        (b"\xFF\xD8\xFF", "JPEG image"),
        (b"GIF87a", "GIF image"),
        (b"GIF89a", "GIF image"),
        (b"%PDF-", "PDF document"),
        (b"PK\x03\x04", "ZIP archive"),
        (b"PK\x05\x06", "ZIP archive"),
        (b"\x1F\x8B", "gzip archive"),
        (b"\xFD7zXZ\x00", "xz archive"),
        (b"\x28\xB5\x2F\xFD", "zstd archive"),
        (b"7z\xBC\xAF\x27\x1C", "7-Zip archive"),
        (b"Rar!\x1A\x07", "RAR archive"),
        (b"\x7FELF", "ELF executable"),
        (b"\xCA\xFE\xBA\xBE", "Java class or Mach-O binary"),
        (b"\xCF\xFA\xED\xFE", "Mach-O binary"),
        (b"\x00asm", "WebAssembly module"),
        (
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
            "OLE document (doc/xls)",
        ),
        (b"SQLite format 3\x00", "SQLite database"),
        (b"II*\x00", "TIFF image"),
        (b"MM\x00*", "TIFF image"),
    ];
    if let Some(&(_, kind)) = MAGIC.iter().find(|(magic, _)| bytes.starts_with(magic)) {
        return Some(kind);
    }
    riff_or_iso_media(bytes)
}

/// RIFF containers (WebP, WAV, AVI) and ISO media (MP4, MOV, HEIC): signature at 4/8.
fn riff_or_iso_media(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"RIFF") && bytes.len() >= 12 {
        return Some(match &bytes[8..12] {
            b"WEBP" => "WebP image",
            b"WAVE" => "WAV audio",
            _ => "RIFF media",
        });
    }
    let iso_media = bytes.len() >= 8 && bytes[0] == 0 && &bytes[4..8] == b"ftyp";
    iso_media.then_some("MP4/QuickTime media")
}

/// Recognise BOM-less UTF-16: every zero byte sits on the same parity (the high byte
/// of ASCII code units), there are enough of them, no code unit is 0x0000, and the
/// data decodes without errors.
fn sniff_utf16(bytes: &[u8]) -> Option<&'static Encoding> {
    if bytes.len() < 4 || !bytes.len().is_multiple_of(2) {
        return None;
    }
    let units = bytes.len() / 2;
    let zeros_at = |parity: usize| {
        bytes
            .iter()
            .skip(parity)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    let (even, odd) = (zeros_at(0), zeros_at(1));
    let encoding = match (even, odd) {
        (0, odd) if odd * 20 >= units => UTF_16LE,
        (even, 0) if even * 20 >= units => UTF_16BE,
        _ => return None,
    };
    let text = encoding.decode_without_bom_handling_and_without_replacement(bytes)?;
    (control_share(text.chars().map(u32::from)) <= MAX_CONTROL_SHARE).then_some(encoding)
}

/// Reject data with too many control bytes (NUL included).
fn reject_binary(bytes: &[u8]) -> Result<(), DecodeError> {
    if control_share(bytes.iter().map(|&b| u32::from(b))) > MAX_CONTROL_SHARE {
        let what = if bytes.contains(&0) {
            "contains NUL bytes"
        } else {
            "mostly control characters"
        };
        return Err(DecodeError::Binary(what.to_owned()));
    }
    Ok(())
}

/// Share of C0 control characters and DEL (other than `\t \n \x0C \r \x1B`) in a
/// sequence of code points or bytes.
fn control_share(values: impl Iterator<Item = u32>) -> f64 {
    let (mut total, mut controls) = (0_u32, 0_u32);
    for v in values {
        total += 1;
        let is_control = (v < 0x20 && !matches!(v, 0x09 | 0x0A | 0x0C | 0x0D | 0x1B)) || v == 0x7F;
        controls += u32::from(is_control);
    }
    if total == 0 {
        return 0.0;
    }
    f64::from(controls) / f64::from(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_bom_utf8() {
        assert_eq!(decode("سلام".as_bytes()).unwrap(), ("سلام".into(), "UTF-8"));
        let bom = [b"\xEF\xBB\xBF".as_slice(), "سلام".as_bytes()].concat();
        assert_eq!(decode(&bom).unwrap(), ("سلام".into(), "UTF-8"));
    }

    #[test]
    fn utf16_without_bom_needs_zero_pattern() {
        let le: Vec<u8> = "مرحبا بكم في"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(decode(&le).unwrap(), ("مرحبا بكم في".into(), "UTF-16LE"));
        let be: Vec<u8> = "hello world"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(decode(&be).unwrap(), ("hello world".into(), "UTF-16BE"));
    }

    #[test]
    fn utf8_with_a_stray_byte_stays_utf8() {
        let text = "مرحبا بكم في هذا المقال الطويل عن الأخبار. ".repeat(3);
        let mut bytes = text.as_bytes().to_vec();
        bytes.insert(40, 0xFF);
        let d = decode_counted(&bytes).unwrap();
        assert_eq!((d.encoding, d.replaced), ("UTF-8", 1));
        assert_eq!(d.text.replace('\u{FFFD}', ""), text);
        // Cut mid-character at the end.
        let cut = &text.as_bytes()[..text.len() - 3]; // into the last `ر`
        let d = decode_counted(cut).unwrap();
        assert_eq!((d.encoding, d.replaced), ("UTF-8", 1));
        assert!(d.text.starts_with(&text[..text.len() - 4]));
    }

    #[test]
    fn legacy_arabic_is_not_mistaken_for_damaged_utf8() {
        // Persian in windows-1256 forms a few valid UTF-8 pairs by accident.
        let text = "گزارش شگفت\u{200C}انگيز پژوهشگران درباره گرمايش زمين. ".repeat(3);
        let (bytes, _, lossy) = encoding_rs::WINDOWS_1256.encode(&text);
        assert!(!lossy);
        let d = decode_counted(&bytes).unwrap();
        assert_eq!(
            (d.text.as_str(), d.encoding, d.replaced),
            (text.as_str(), "windows-1256", 0)
        );
    }

    #[test]
    fn not_text() {
        assert_eq!(decode(b""), Err(DecodeError::Empty));
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(decode(png), Err(DecodeError::Binary("PNG image".into())));
        assert_eq!(
            decode(b"abc\0\0\0def\0"),
            Err(DecodeError::Binary("contains NUL bytes".into()))
        );
        let stray_nul = [
            &b"a stray NUL "[..],
            b"\0",
            &b"in a long enough line of text"[..],
        ]
        .concat();
        assert!(decode(&stray_nul).unwrap().0.contains('\0'));
        assert_eq!(
            decode(b"\x01\x02\x03\x04abc"),
            Err(DecodeError::Binary("mostly control characters".into()))
        );
    }
}
