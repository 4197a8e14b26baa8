//! A fetched response to a [`Document`]: the loader chosen by content type (or by the bytes when
//! the type says nothing), the text decoded with the charset the server or the page declares,
//! and the web metadata filled in: normalised URL as source, final URL, site, title fallback.

use url::Url;

use super::fetch::{Fetched, Fetcher, Response};
use super::mime::{charset_of, is_generic_mime, mime_of};
use super::url::{normalise_url, parse_web_url, site_of, title_from_url};
use crate::document::{Document, Kind};
use crate::error::{IngestError, Result};
use crate::hash::content_hash;
use crate::lang::detect_language;
use crate::load::LoadOptions;
use crate::text::Decoded;

const MIB: u64 = 1024 * 1024;

/// What a response holds, by content type and bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Pdf,
    Epub,
    Html,
    Markdown,
    Text,
}

/// Whether the bytes are a PDF (a `%PDF-` header near the start).
fn sniff_pdf(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(1024)].windows(5).any(|w| w == b"%PDF-")
}

/// Whether the bytes are an EPUB: a zip whose first entry is `mimetype` holding
/// `application/epub+zip`, as the format asks; or, for books that do not follow that, a zip
/// with such a `mimetype` entry elsewhere or a `META-INF/container.xml`.
fn sniff_epub(bytes: &[u8]) -> bool {
    if !bytes.starts_with(b"PK\x03\x04") {
        return false;
    }
    if bytes.get(30..58) == Some(b"mimetypeapplication/epub+zip".as_slice()) {
        return true;
    }
    let Ok(mut archive) = zip::ZipArchive::new(std::io::Cursor::new(bytes)) else { return false };
    if archive.index_for_name("META-INF/container.xml").is_some() {
        return true;
    }
    let Ok(entry) = archive.by_name("mimetype") else { return false };
    let mut head = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(entry, 64), &mut head).is_ok()
        && head.trim_ascii() == b"application/epub+zip"
}

/// Whether decoded text looks like an HTML page rather than plain text.
fn looks_like_html(text: &str) -> bool {
    let head: String =
        text.trim_start_matches('\u{feff}').chars().take(2048).collect::<String>().to_lowercase();
    let head = head.trim_start();
    head.starts_with("<!doctype html")
        || head.starts_with("<html")
        || head.contains("<html")
        || head.contains("<head>")
        || head.contains("<body")
}

/// Whether decoded text is a feed (RSS, RDF or Atom root element), so not a page.
fn looks_like_feed(text: &str) -> bool {
    let head: String = text.chars().take(2048).collect::<String>().to_lowercase();
    ["<rss", "<rdf:rdf", "<feed"].iter().any(|t| head.contains(t))
}

fn choose_format(resp: &Response, item: &str) -> Result<Format> {
    let bytes = &resp.bytes;
    if sniff_pdf(bytes) {
        return Ok(Format::Pdf);
    }
    if sniff_epub(bytes) {
        return Ok(Format::Epub);
    }
    let mime = resp.content_type.as_deref().map(mime_of).unwrap_or_default();
    let unsupported =
        |detail: String| IngestError::Unsupported { item: item.to_string(), detail: Some(detail) };
    match mime.as_str() {
        "application/pdf" | "application/x-pdf" => Ok(Format::Pdf),
        "application/epub+zip" => Ok(Format::Epub),
        "text/html" | "application/xhtml+xml" => Ok(Format::Html),
        "text/markdown" | "text/x-markdown" => Ok(Format::Markdown),
        "text/plain" => Ok(Format::Text),
        m if is_generic_mime(m) || m.ends_with("/xml") || m.ends_with("+xml") => {
            if crate::text::looks_binary(bytes) {
                let what = if m.is_empty() { "no content type" } else { m };
                return Err(unsupported(format!("binary data, not a page ({what})")));
            }
            let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
            if looks_like_html(&head) {
                Ok(Format::Html)
            } else if looks_like_feed(&head) {
                Err(unsupported("a news feed, not a page; subscribe to it as a feed".into()))
            } else if m.contains("xml") {
                Err(unsupported(format!("an XML document ({m}), not a page")))
            } else {
                Ok(Format::Text)
            }
        }
        m if m.starts_with("text/") => Ok(Format::Text),
        m => Err(unsupported(m.to_string())),
    }
}

/// The encoding a page declares in a `<meta charset>` or `<meta http-equiv>` tag, or an XML
/// declaration, within its first 4 KiB.
fn declared_in_markup(bytes: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let head = &bytes[..bytes.len().min(4096)];
    let lower: Vec<u8> = head.to_ascii_lowercase();
    let mut from = 0;
    while let Some(pos) = find(&lower[from..], b"<meta").map(|p| p + from) {
        let end = find(&lower[pos..], b">").map(|e| pos + e).unwrap_or(lower.len());
        let tag = &lower[pos..end];
        if let Some(c) = find(tag, b"charset") {
            let rest = &tag[c + 7..];
            let rest = rest.trim_ascii_start();
            if let Some(rest) = rest.strip_prefix(b"=") {
                let rest = rest.trim_ascii_start();
                let rest = rest.strip_prefix(b"\"").or_else(|| rest.strip_prefix(b"'")).unwrap_or(rest);
                let label: Vec<u8> = rest
                    .iter()
                    .copied()
                    .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.'))
                    .collect();
                if let Some(enc) = encoding_rs::Encoding::for_label(&label) {
                    return Some(enc);
                }
            }
        }
        from = end;
    }
    if lower.starts_with(b"<?xml")
        && let Some(e) = find(&lower, b"encoding=")
    {
        let rest = &lower[e + 9..];
        let rest = rest.strip_prefix(b"\"").or_else(|| rest.strip_prefix(b"'")).unwrap_or(rest);
        let label: Vec<u8> = rest
            .iter()
            .copied()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
            .collect();
        return encoding_rs::Encoding::for_label(&label);
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Decodes a text body: a byte-order mark wins; bytes that are valid UTF-8 are UTF-8 (servers
/// often declare a default charset the page does not use); otherwise the charset from the
/// `Content-Type` header, else from the markup, else the most likely legacy encoding
/// ([`crate::text::decode`]).
fn decode_body(bytes: &[u8], content_type: Option<&str>, item: &str) -> Result<Decoded> {
    if encoding_rs::Encoding::for_bom(bytes).is_some() || std::str::from_utf8(bytes).is_ok() {
        return crate::text::decode(bytes, item);
    }
    let declared = content_type
        .and_then(charset_of)
        .and_then(|l| encoding_rs::Encoding::for_label(l.as_bytes()))
        .or_else(|| declared_in_markup(bytes))
        // A page cannot be UTF-16 without a byte-order mark; the label is a mistake.
        .filter(|e| *e != encoding_rs::UTF_8 && *e != encoding_rs::UTF_16LE && *e != encoding_rs::UTF_16BE);
    match declared {
        Some(enc) if !crate::text::looks_binary(bytes) => {
            let (text, _) = enc.decode_without_bom_handling(bytes);
            Ok(Decoded { text: text.into_owned(), encoding: Some(enc.name()) })
        }
        _ => crate::text::decode(bytes, item),
    }
}

fn check_size(item: &str, len: u64, limit_mb: u64, kind: &'static str) -> Result<()> {
    if len > limit_mb.saturating_mul(MIB) {
        return Err(IngestError::TooLarge {
            item: item.to_string(),
            size_mb: len as f64 / MIB as f64,
            limit_mb,
            kind,
        });
    }
    if len == 0 {
        return Err(IngestError::Empty { item: item.to_string() });
    }
    Ok(())
}

/// Loads a fetched response as a web page. The loader is chosen by content type, or by the
/// bytes when the type is missing or generic: PDF and EPUB go to their loaders, HTML to the
/// readability extractor (with the final URL for relative links), text and Markdown to theirs.
///
/// The document's kind is [`Kind::Web`], its source the normalised final URL, its `url` the
/// final URL, its hash the BLAKE3 of the body; the title falls back to the URL's last path
/// segment or host, the site to the host name.
pub fn load_page(resp: &Response, opts: &LoadOptions) -> Result<Document> {
    let item = resp.final_url.as_str();
    let url = parse_web_url(item)?;
    let source = normalise_url(item)?;
    let format = choose_format(resp, item)?;
    let bytes = &resp.bytes;
    let mut doc = match format {
        Format::Pdf => {
            check_size(item, bytes.len() as u64, opts.max_book_mb, "book")?;
            crate::pdf::load(bytes, item)?
        }
        Format::Epub => {
            check_size(item, bytes.len() as u64, opts.max_book_mb, "book")?;
            crate::epub::load(bytes, item)?
        }
        Format::Html | Format::Markdown | Format::Text => {
            check_size(item, bytes.len() as u64, opts.max_text_mb, "text")?;
            let decoded = decode_body(bytes, resp.content_type.as_deref(), item)?;
            match format {
                Format::Html => crate::html::load_with_url(&decoded.text, item, Some(item))?,
                Format::Markdown => crate::markdown::load(&decoded.text, item)?,
                _ => crate::text::load(&decoded.text, item, &title_from_url(&url))?,
            }
        }
    };
    if !doc.has_text() {
        let hint = matches!(format, Format::Pdf).then(|| crate::pdf::NO_TEXT_HINT_WITHOUT_OCR.to_string());
        return Err(IngestError::NoText { item: item.to_string(), hint });
    }
    finish(&mut doc, &url, source, bytes);
    Ok(doc)
}

/// Fills in what every fetched page has: kind, identity, hash, size, title and site fallbacks,
/// language.
fn finish(doc: &mut Document, url: &Url, source: String, bytes: &[u8]) {
    doc.kind = Kind::Web;
    doc.source = source;
    doc.url = Some(url.to_string());
    doc.hash = content_hash(bytes);
    doc.byte_len = bytes.len() as u64;
    if doc.title.trim().is_empty() {
        doc.title = title_from_url(url);
    }
    if doc.site.as_deref().is_none_or(|s| s.trim().is_empty()) {
        doc.site = site_of(url);
    }
    if doc.language.is_none() {
        doc.language = detect_language(doc);
    }
}

/// Fetches `url`, an address the user gave, with [`Fetcher::get`] and loads it with
/// [`load_page`].
pub async fn fetch_page(fetcher: &Fetcher, url: &str, opts: &LoadOptions) -> Result<Document> {
    loaded(fetcher.get(url, None).await?, url, opts)
}

/// Fetches `url`, a link a document at `from` chose (a feed item's article, `from` being the
/// feed's URL), with [`Fetcher::get_linked`], which refuses private addresses, and loads it with
/// [`load_page`].
pub async fn fetch_linked_page(
    fetcher: &Fetcher,
    url: &str,
    from: &str,
    opts: &LoadOptions,
) -> Result<Document> {
    loaded(fetcher.get_linked(url, None, from).await?, url, opts)
}

fn loaded(fetched: Fetched, url: &str, opts: &LoadOptions) -> Result<Document> {
    match fetched {
        Fetched::Body(resp) => load_page(&resp, opts),
        Fetched::NotModified { .. } => {
            Err(IngestError::HttpStatus { url: url.to_string(), status: 304, reason: "Not Modified".into() })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(content_type: Option<&str>, bytes: &[u8]) -> Response {
        Response {
            final_url: "https://www.example.org/news/a-story.html#top".into(),
            status: 200,
            content_type: content_type.map(str::to_string),
            etag: None,
            last_modified: None,
            bytes: bytes.to_vec(),
        }
    }

    const PAGE: &str = "<html><head><title>A story</title></head><body><article><h1>A story</h1>\
        <p>The first paragraph of the story tells what happened in the town on Monday, and who was there.</p>\
        <p>The second paragraph adds what the mayor said about it afterwards, at some length.</p>\
        </article></body></html>";

    #[test]
    fn html_page_gets_web_identity() {
        let doc =
            load_page(&resp(Some("text/html; charset=utf-8"), PAGE.as_bytes()), &LoadOptions::default())
                .unwrap();
        assert_eq!(doc.kind, Kind::Web);
        assert_eq!(doc.source, "https://www.example.org/news/a-story.html");
        assert_eq!(doc.url.as_deref(), Some("https://www.example.org/news/a-story.html#top"));
        assert_eq!(doc.title, "A story");
        assert_eq!(doc.site.as_deref(), Some("example.org"));
        assert_eq!(doc.hash, content_hash(PAGE.as_bytes()));
        assert_eq!(doc.language.as_deref(), Some("en"));
        assert!(doc.sections.iter().any(|s| s.text.contains("mayor said")));
    }

    #[test]
    fn charset_from_header_or_meta_for_legacy_bytes() {
        let body = "<html><head><meta charset=\"windows-1251\"><title>Новости</title></head><body>\
            <p>Сегодня в городе прошёл большой праздник, и все жители вышли на улицы.</p></body></html>";
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(body);
        let doc = load_page(&resp(Some("text/html"), &bytes), &LoadOptions::default()).unwrap();
        assert_eq!(doc.title, "Новости");
        let header_only = body.replace("<meta charset=\"windows-1251\">", "");
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(&header_only);
        let doc = load_page(&resp(Some("text/html; charset=windows-1251"), &bytes), &LoadOptions::default())
            .unwrap();
        assert!(doc.sections.iter().any(|s| s.text.contains("праздник")), "{:?}", doc.sections);
    }

    #[test]
    fn generic_types_are_sniffed() {
        let opts = LoadOptions::default();
        let doc = load_page(&resp(Some("application/octet-stream"), PAGE.as_bytes()), &opts).unwrap();
        assert_eq!(doc.title, "A story");
        let text = "Plain words about a story, long enough to be a document of its own right here.";
        let doc = load_page(&resp(None, text.as_bytes()), &opts).unwrap();
        assert_eq!(doc.title, "a story");
        assert!(doc.sections[0].text.starts_with("Plain words"));
        let feed = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>x</title></channel></rss>";
        let err = load_page(&resp(Some("application/xml"), feed.as_bytes()), &opts).unwrap_err();
        assert!(err.to_string().contains("a news feed, not a page"), "{err}");
        let err = load_page(&resp(Some("image/png"), b"\x89PNG\r\n\x1a\n\0\0"), &opts).unwrap_err();
        assert_eq!(err.reason_code(), "unsupported");
        assert!(err.to_string().starts_with("https://www.example.org/news/a-story.html#top: "), "{err}");
        let err = load_page(&resp(Some("text/html"), b""), &opts).unwrap_err();
        assert_eq!(err.reason_code(), "empty");
    }

    #[test]
    fn sniffs_pdf_and_epub_magic() {
        assert!(sniff_pdf(b"\n%PDF-1.7\n..."));
        assert!(!sniff_pdf(b"<html>"));
        let mut epub = b"PK\x03\x04".to_vec();
        epub.extend_from_slice(&[0u8; 26]);
        epub.extend_from_slice(b"mimetypeapplication/epub+zip");
        assert!(sniff_epub(&epub));
        assert!(!sniff_epub(b"PK\x03\x04"));
    }
}
