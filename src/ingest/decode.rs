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
//! 5. other NUL bytes, or a high share of control characters → binary;
//! 6. valid UTF-8 → `UTF-8`;
//! 7. otherwise `chardetng` guesses a legacy encoding (windows-1256, ISO-8859-6,
//!    windows-1252 ...) and `encoding_rs` decodes it.
//!
//! Malformed sequences in a file whose encoding was decided by a BOM or guessed are
//! replaced by U+FFFD rather than rejected: one bad byte should not lose an article.

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE};

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
        return Ok((text.to_owned(), UTF_8.name()));
    }
    Ok(decode_with(guess_legacy(bytes), bytes))
}

/// Decode without BOM handling, replacing malformed sequences.
fn decode_with(encoding: &'static Encoding, bytes: &[u8]) -> (String, &'static str) {
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    if had_errors {
        tracing::warn!(
            encoding = encoding.name(),
            "malformed byte sequences replaced by U+FFFD"
        );
    }
    (text.into_owned(), encoding.name())
}

/// Ask `chardetng` for the most likely legacy (non-UTF-8) encoding.
fn guess_legacy(bytes: &[u8]) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    detector.guess(None, chardetng::Utf8Detection::Deny)
}

/// Name the file type when `bytes` start with a well-known binary signature.
#[must_use]
pub fn binary_signature(bytes: &[u8]) -> Option<&'static str> {
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

/// Reject data with NUL bytes or too many control bytes.
fn reject_binary(bytes: &[u8]) -> Result<(), DecodeError> {
    if bytes.contains(&0) {
        return Err(DecodeError::Binary("contains NUL bytes".to_owned()));
    }
    if control_share(bytes.iter().map(|&b| u32::from(b))) > MAX_CONTROL_SHARE {
        return Err(DecodeError::Binary("mostly control characters".to_owned()));
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
    fn not_text() {
        assert_eq!(decode(b""), Err(DecodeError::Empty));
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(decode(png), Err(DecodeError::Binary("PNG image".into())));
        assert_eq!(
            decode(b"abc\0\0\0def\0"),
            Err(DecodeError::Binary("contains NUL bytes".into()))
        );
        assert_eq!(
            decode(b"\x01\x02\x03\x04abc"),
            Err(DecodeError::Binary("mostly control characters".into()))
        );
    }
}
