//! Plain text: decoding bytes of unknown encoding and loading `.txt` files.

use crate::document::{Document, Kind, Section};
use crate::error::{IngestError, Result};

/// Text decoded from bytes, with the legacy encoding used when the bytes were not UTF-8.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The text.
    pub text: String,
    /// The encoding name when the bytes were not UTF-8 (e.g. `windows-1252`).
    pub encoding: Option<&'static str>,
}

/// Whether `bytes` look like binary data rather than text: NUL bytes, or many control
/// characters outside tab, newline, carriage return and form feed.
pub fn looks_binary(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(64 * 1024)];
    if sample.is_empty() {
        return false;
    }
    if sample.contains(&0) {
        // UTF-16 text has NULs too; it starts with a byte-order mark.
        return !(sample.starts_with(&[0xFF, 0xFE]) || sample.starts_with(&[0xFE, 0xFF]));
    }
    let control = sample.iter().filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C)).count();
    control * 100 > sample.len()
}

/// Whether decoded text is mostly not text: over 1% of a 64 KB sample are replacement
/// characters (undecodable bytes) or control characters other than tab, newlines and form feed.
fn decoded_looks_binary(text: &str) -> bool {
    let (mut total, mut bad) = (0usize, 0usize);
    for c in text.chars().take(64 * 1024) {
        total += 1;
        if c == char::REPLACEMENT_CHARACTER || (c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0C')) {
            bad += 1;
        }
    }
    bad * 100 > total
}

/// Decodes text bytes: UTF-8 (with or without BOM), UTF-16 with a BOM, else the legacy encoding
/// that `chardetng` finds most likely. Binary data is refused with [`IngestError::Unsupported`].
pub fn decode(bytes: &[u8], item: &str) -> Result<Decoded> {
    if bytes.is_empty() {
        return Err(IngestError::Empty { item: item.to_string() });
    }
    let binary =
        || IngestError::Unsupported { item: item.to_string(), detail: Some("binary data, not text".into()) };
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        // A byte-order mark in front of binary data decodes to undecodable sequences and
        // control characters.
        if decoded_looks_binary(&text) {
            return Err(binary());
        }
        let encoding = (enc != encoding_rs::UTF_8).then(|| enc.name());
        return Ok(Decoded { text: text.into_owned(), encoding });
    }
    if looks_binary(bytes) {
        return Err(binary());
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(Decoded { text: s.to_string(), encoding: None }),
        Err(_) => {
            let mut det = chardetng::EncodingDetector::new();
            det.feed(bytes, true);
            let enc = det.guess(None, true);
            let (text, _, _) = enc.decode(bytes);
            Ok(Decoded { text: text.into_owned(), encoding: Some(enc.name()) })
        }
    }
}

/// Normalises line endings and trims trailing spaces on each line, and the text as a whole.
pub fn normalise(text: &str) -> String {
    normalise_lines(text).trim().to_string()
}

/// Normalises line endings and trims trailing spaces on each line, keeping every line.
fn normalise_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.replace("\r\n", "\n").replace('\r', "\n").lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Loads a plain text file: one section; the title is the first short non-empty line when it
/// looks like a title, else `fallback_title`.
pub fn load(text: &str, item: &str, fallback_title: &str) -> Result<Document> {
    let lines = normalise_lines(text);
    let body = lines.trim();
    if body.is_empty() {
        return Err(IngestError::NoText { item: item.to_string(), hint: None });
    }
    // The blank lines trimmed off the start are lines of the file all the same.
    let skipped = lines[..lines.len() - lines.trim_start().len()].matches('\n').count();
    let line = u32::try_from(skipped + 1).ok();
    let body = body.to_string();
    let title = first_title_line(&body).unwrap_or_else(|| fallback_title.to_string());
    let section = Section { line, ..Section::new(Vec::new(), body) };
    Ok(Document {
        source: item.to_string(),
        url: None,
        kind: Kind::Text,
        title,
        authors: Vec::new(),
        language: None,
        published: None,
        hash: String::new(),
        byte_len: text.len() as u64,
        page_count: None,
        site: None,
        sections: vec![section],
    })
}

/// The first non-empty line when it is short and not a sentence: a plausible title.
fn first_title_line(body: &str) -> Option<String> {
    let line = body.lines().map(str::trim).find(|l| !l.is_empty())?;
    let line = line.trim_start_matches('#').trim();
    let words = line.split_whitespace().count();
    let short = (1..=14).contains(&words) && line.chars().count() <= 100;
    if !short || line.ends_with([',', ';', ':']) {
        return None;
    }
    match line.strip_suffix('.') {
        Some(stripped) if words <= 8 => Some(stripped.to_string()),
        Some(_) => None,
        None => Some(line.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_utf8_latin1_and_utf16() {
        assert_eq!(decode("héllo".as_bytes(), "a").unwrap().encoding, None);
        let latin1 = b"caf\xe9 cr\xe8me br\xfbl\xe9e, une tr\xe8s bonne id\xe9e";
        let d = decode(latin1, "b").unwrap();
        assert!(d.text.contains("café"), "{}", d.text);
        assert!(d.encoding.is_some());
        let mut utf16 = vec![0xFF, 0xFE];
        for u in "hi there".encode_utf16() {
            utf16.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(decode(&utf16, "c").unwrap().text, "hi there");
    }

    #[test]
    fn refuses_binary_and_empty() {
        let junk: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        let err = decode(&junk, "junk.md").unwrap_err();
        assert_eq!(err.reason_code(), "unsupported");
        assert!(err.to_string().starts_with("junk.md: "));
        assert_eq!(decode(b"", "e").unwrap_err().reason_code(), "empty");
        let mut behind_bom = vec![0xEF, 0xBB, 0xBF];
        behind_bom.extend(&junk);
        assert_eq!(decode(&behind_bom, "bom.txt").unwrap_err().reason_code(), "unsupported");
        let mut utf16_junk = vec![0xFF, 0xFE];
        utf16_junk.extend(&junk);
        assert_eq!(decode(&utf16_junk, "bom16.txt").unwrap_err().reason_code(), "unsupported");
    }

    #[test]
    fn the_text_knows_its_first_line() {
        let d = load("\n\n  \r\n  Title\n\nBody.\n", "x", "y").unwrap();
        assert_eq!(d.sections[0].line, Some(4));
        assert!(d.sections[0].text.starts_with("Title"));
        assert_eq!(load("Body.", "x", "y").unwrap().sections[0].line, Some(1));
    }

    #[test]
    fn title_from_first_line_or_fallback() {
        let d = load("CHAPTER 1. Loomings.\n\nCall me Ishmael.", "x", "chapter_1").unwrap();
        assert_eq!(d.title, "CHAPTER 1. Loomings");
        let d = load("Call me Ishmael. Some years ago, never mind how long.", "x", "chapter_1").unwrap();
        assert_eq!(d.title, "chapter_1");
        assert!(load(" \n\n ", "x", "y").is_err());
    }
}
