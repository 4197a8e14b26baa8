//! Feeds (RSS 0.9x, 1.0 and 2.0, Atom, JSON Feed) parsed with `feed-rs` into items with a
//! stable key, an absolute link and a hash that changes exactly when the feed's description of
//! the item changes.

use std::io::Cursor;

use chrono::SecondsFormat;
use feed_rs::model::{Entry, Link, Text};
use feed_rs::parser::{ParseErrorKind, ParseFeedError};
use url::Url;

use super::mime::mime_of;
use super::url::resolve;
use crate::error::{IngestError, Result};
use crate::html::meta::collapse;

/// Characters of summary text below which an item without content is only a teaser.
pub const SHORT_SUMMARY_CHARS: usize = 500;

/// Longest parser message kept in an error, in characters.
const MAX_REASON_CHARS: usize = 160;

/// A parsed feed: its own metadata and its items in feed order.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedFeed {
    /// The feed's title.
    pub title: Option<String>,
    /// The site the feed belongs to (its `alternate` link), absolute.
    pub site_url: Option<String>,
    /// The feed's description, as text.
    pub description: Option<String>,
    /// The feed's language (ISO 639-1) when it names one.
    pub language: Option<String>,
    /// The items, in the order the feed lists them.
    pub items: Vec<FeedItem>,
}

/// One item (RSS) or entry (Atom, JSON Feed) of a feed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedItem {
    /// Identity within the feed: the GUID/id, else the link, else a hash of title and summary.
    pub key: String,
    /// The article's address, absolute (resolved against the feed URL and `xml:base`).
    pub link: Option<String>,
    /// The title as text (markup removed); empty when the item has none.
    pub title: String,
    /// Author names.
    pub authors: Vec<String>,
    /// Publication date (ISO 8601, UTC): published, else updated.
    pub published: Option<String>,
    /// Last update (ISO 8601, UTC) when the feed gives one.
    pub updated: Option<String>,
    /// The summary / description as HTML (plain text is escaped).
    pub summary_html: Option<String>,
    /// The full content as HTML (plain text is escaped), when the feed carries it.
    pub content_html: Option<String>,
    /// BLAKE3 (hex) over key, link, title, dates, summary and content: the item's version.
    pub hash: String,
}

impl FeedItem {
    /// Whether the item is only a teaser worth replacing by the article it links to: no
    /// content, a summary shorter than [`SHORT_SUMMARY_CHARS`] characters of text, and a link.
    pub fn needs_full_text(&self) -> bool {
        self.link.is_some()
            && self.content_html.as_deref().is_none_or(|c| html_text(c).is_empty())
            && self.summary_html.as_deref().map(|s| html_text(s).chars().count()).unwrap_or(0)
                < SHORT_SUMMARY_CHARS
    }
}

/// Parses a feed from its raw bytes (the encoding comes from the XML declaration, so pass the
/// body undecoded). `feed_url` resolves relative links and names the feed in errors: an HTML
/// page, an empty or unknown document is [`IngestError::NotAFeed`], broken XML or JSON is
/// [`IngestError::MalformedFeed`].
pub fn parse_feed(bytes: &[u8], feed_url: &str) -> Result<ParsedFeed> {
    let not_a_feed =
        |reason: &str| IngestError::NotAFeed { url: feed_url.to_string(), reason: reason.into() };
    let head = first_markup(bytes);
    if head.is_empty() {
        return Err(not_a_feed("the document is empty"));
    }
    if is_html(&head) {
        return Err(not_a_feed("the server sent an HTML page"));
    }
    // feed-rs runs under the guard (a panic in it is an internal error); its errors are read
    // by lore's own code outside it.
    let parse = |bytes: &[u8]| {
        crate::guard::catch(feed_url, "feed parser", || {
            feed_rs::parser::Builder::new()
                .base_uri(Some(feed_url))
                // Missing ids stay empty: the key then falls back to the link (see `item`).
                .id_generator(|_, _, _| String::new())
                .build()
                .parse(Cursor::new(bytes))
        })?
        .map_err(|e| parse_error(e, &head, feed_url))
    };
    let parsed = match parse(bytes) {
        // `<rss>` without a version attribute is read as RSS 2.0, as other readers do.
        Err(IngestError::NotAFeed { .. }) if let Some(patched) = with_rss_version(bytes) => parse(&patched)?,
        other => other?,
    };
    let base = Url::parse(feed_url).ok();
    let items = parsed.entries.iter().map(|e| item(e, base.as_ref())).collect();
    Ok(ParsedFeed {
        title: parsed.title.as_ref().map(text_of).filter(|t| !t.is_empty()),
        site_url: pick_link(&parsed.links, base.as_ref()),
        description: parsed.description.as_ref().map(text_of).filter(|t| !t.is_empty()),
        language: parsed.language.as_deref().and_then(crate::html::normalise_language),
        items,
    })
}

fn parse_error(e: ParseFeedError, head: &str, feed_url: &str) -> IngestError {
    #[cfg(test)]
    crate::guard::bug_site("feed-error");
    let url = feed_url.to_string();
    match e {
        ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot) => {
            let reason = match root_element(head) {
                Some(root) => format!("no RSS, Atom or JSON Feed in it; the document is <{root}>"),
                None if head.starts_with('{') => "JSON, but not a JSON Feed".to_string(),
                None => "neither XML nor JSON".to_string(),
            };
            IngestError::NotAFeed { url, reason }
        }
        ParseFeedError::JsonUnsupportedVersion(v) => {
            IngestError::NotAFeed { url, reason: format!("unsupported JSON Feed version {}", short(&v)) }
        }
        ParseFeedError::JsonSerde(e) if e.is_data() => IngestError::MalformedFeed {
            url,
            reason: format!("not a valid JSON Feed: {}", short(&e.to_string())),
        },
        other => IngestError::MalformedFeed { url, reason: short(&other.to_string()) },
    }
}

/// A parser message cut to one short line.
fn short(s: &str) -> String {
    let s = collapse(s);
    if s.chars().count() <= MAX_REASON_CHARS {
        return s;
    }
    let mut out: String = s.chars().take(MAX_REASON_CHARS).collect();
    out.push('…');
    out
}

/// The start of the document from its first markup or JSON character: past a byte-order mark,
/// whitespace, the XML declaration, comments and processing instructions. Lowercase, at most
/// 1 KiB, lossily decoded (enough to tell what the document is).
fn first_markup(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(8192)]).to_lowercase();
    let mut rest = head.trim_start();
    loop {
        if let Some(r) = rest.strip_prefix("<?") {
            rest = r.split_once("?>").map(|(_, r)| r).unwrap_or("").trim_start();
        } else if let Some(r) = rest.strip_prefix("<!--") {
            rest = r.split_once("-->").map(|(_, r)| r).unwrap_or("").trim_start();
        } else {
            break;
        }
    }
    rest.chars().take(1024).collect()
}

/// The document with `version="2.0"` added to its `<rss>` root element when that has no
/// version; `None` when the root is not such an element.
fn with_rss_version(bytes: &[u8]) -> Option<Vec<u8>> {
    let start = bytes.windows(4).position(|w| w == b"<rss")?;
    let after = *bytes.get(start + 4)?;
    if !(after.is_ascii_whitespace() || after == b'>') {
        return None;
    }
    let end = start + bytes[start..].iter().position(|&b| b == b'>')?;
    if bytes[start..end].windows(8).any(|w| w == b"version=") {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() + 16);
    out.extend_from_slice(&bytes[..start + 4]);
    out.extend_from_slice(b" version=\"2.0\"");
    out.extend_from_slice(&bytes[start + 4..]);
    Some(out)
}

fn is_html(head: &str) -> bool {
    head.starts_with("<!doctype html") || root_element(head).is_some_and(|r| r == "html")
}

/// The name of the root element (without namespace prefix) of markup that starts at `head`.
fn root_element(head: &str) -> Option<String> {
    let mut rest = head;
    if let Some(r) = rest.strip_prefix("<!doctype") {
        rest = r.split_once('>').map(|(_, r)| r)?.trim_start();
    }
    let r = rest.strip_prefix('<')?;
    let name: String =
        r.chars().take_while(|c| c.is_alphanumeric() || matches!(c, ':' | '-' | '_' | '.')).collect();
    let local = name.rsplit(':').next().unwrap_or_default().to_string();
    (!local.is_empty()).then_some(local)
}

fn item(e: &Entry, base: Option<&Url>) -> FeedItem {
    let base =
        e.base.as_deref().and_then(|b| resolve(base, b)).and_then(|b| Url::parse(&b).ok()).or(base.cloned());
    let base = base.as_ref();
    let id = e.id.trim();
    let mut link = pick_link(&e.links, base);
    if link.is_none() && (id.starts_with("http://") || id.starts_with("https://")) {
        // An RSS guid is a permalink unless it says otherwise.
        link = resolve(base, id);
    }
    let mut title = e.title.as_ref().map(text_of).unwrap_or_default();
    if title.is_empty() {
        title = e.media.iter().find_map(|m| m.title.as_ref().map(text_of)).unwrap_or_default();
    }
    let mut authors: Vec<String> = Vec::new();
    for p in &e.authors {
        let name = collapse(&p.name.clone().unwrap_or_default());
        let name = if name.is_empty() { p.email.clone().unwrap_or_default() } else { name };
        if !name.is_empty() && !authors.contains(&name) {
            authors.push(name);
        }
    }
    let summary_html = e
        .summary
        .as_ref()
        .and_then(html_of)
        .or_else(|| e.media.iter().find_map(|m| m.description.as_ref().and_then(html_of)));
    let content_html = e.content.as_ref().and_then(|c| {
        let body = c.body.as_deref()?.trim();
        let mime = mime_of(c.content_type.as_ref());
        if body.is_empty() {
            None
        } else if mime.contains("html") {
            Some(body.to_string())
        } else if mime.starts_with("text/") {
            Some(escape_text(body))
        } else {
            None
        }
    });
    let iso = |d: &chrono::DateTime<chrono::Utc>| d.to_rfc3339_opts(SecondsFormat::Secs, true);
    let published = e.published.as_ref().or(e.updated.as_ref()).map(iso);
    let updated = e.updated.as_ref().map(iso);
    let key = if !id.is_empty() {
        id.to_string()
    } else if let Some(l) = &link {
        l.clone()
    } else {
        let mut h = blake3::Hasher::new();
        for f in [title.as_str(), summary_html.as_deref().unwrap_or_default()] {
            field(&mut h, f);
        }
        format!("item-{}", &h.finalize().to_hex()[..32])
    };
    let mut h = blake3::Hasher::new();
    for f in [
        key.as_str(),
        link.as_deref().unwrap_or_default(),
        title.as_str(),
        published.as_deref().unwrap_or_default(),
        updated.as_deref().unwrap_or_default(),
        summary_html.as_deref().unwrap_or_default(),
        content_html.as_deref().unwrap_or_default(),
    ] {
        field(&mut h, f);
    }
    FeedItem {
        key,
        link,
        title,
        authors,
        published,
        updated,
        summary_html,
        content_html,
        hash: h.finalize().to_hex().to_string(),
    }
}

/// Hashes one field with its length first, so that moving text between fields changes the hash.
fn field(h: &mut blake3::Hasher, s: &str) {
    h.update(&(s.len() as u64).to_le_bytes());
    h.update(s.as_bytes());
}

/// The page a list of links points to: the first `alternate` (or unqualified) link that is not
/// a comments link, resolved against `base`.
fn pick_link(links: &[Link], base: Option<&Url>) -> Option<String> {
    let is_page = |l: &&Link| {
        l.target.is_none()
            && l.rel.as_deref().is_none_or(|r| r.eq_ignore_ascii_case("alternate"))
            && !l.href.trim().is_empty()
    };
    let html_first =
        links.iter().filter(is_page).find(|l| l.media_type.as_deref().is_none_or(|m| m.contains("html")));
    html_first.or_else(|| links.iter().find(is_page)).and_then(|l| resolve(base, &l.href))
}

/// A feed text as plain text: markup removed, entities decoded, whitespace collapsed.
fn text_of(t: &Text) -> String {
    if mime_of(t.content_type.as_ref()).contains("html") {
        html_text(&t.content)
    } else {
        collapse(&t.content)
    }
}

/// A feed text as HTML: HTML as is, plain text escaped with paragraphs kept.
fn html_of(t: &Text) -> Option<String> {
    let body = t.content.trim();
    if body.is_empty() {
        return None;
    }
    if mime_of(t.content_type.as_ref()).contains("html") {
        Some(body.to_string())
    } else {
        Some(escape_text(body))
    }
}

/// Plain text as HTML paragraphs.
fn escape_text(s: &str) -> String {
    let escaped = s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let paragraphs: Vec<String> = escaped
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{p}</p>"))
        .collect();
    paragraphs.join("\n")
}

/// The text of an HTML fragment, whitespace collapsed.
pub(crate) fn html_text(html: &str) -> String {
    if !html.contains('<') && !html.contains('&') {
        return collapse(html);
    }
    let frag = scraper::Html::parse_fragment(html);
    collapse(&frag.root_element().text().collect::<Vec<_>>().join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSS: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Town &amp; Country</title><link>https://news.example.org/</link>
<description>Local news</description><language>en-gb</language>
<item><title>Fair opens</title><link>/2024/fair.html</link><guid isPermaLink="false">fair-1</guid>
<description>&lt;p&gt;The &lt;b&gt;fair&lt;/b&gt; opened.&lt;/p&gt;</description>
<pubDate>Mon, 01 Jul 2024 09:00:00 GMT</pubDate><author>ann@example.org (Ann Lee)</author></item>
<item><title>Bridge closed</title><link>https://news.example.org/bridge</link>
<description>Short.</description></item>
<item><description>No title, no link.</description></item>
</channel></rss>"#;

    #[test]
    fn rss_items_get_keys_links_and_dates() {
        let f = parse_feed(RSS.as_bytes(), "https://news.example.org/feed.xml").unwrap();
        assert_eq!(f.title.as_deref(), Some("Town & Country"));
        assert_eq!(f.site_url.as_deref(), Some("https://news.example.org/"));
        assert_eq!(f.language.as_deref(), Some("en"));
        assert_eq!(f.items.len(), 3);
        let a = &f.items[0];
        assert_eq!(a.key, "fair-1");
        assert_eq!(a.link.as_deref(), Some("https://news.example.org/2024/fair.html"));
        assert_eq!(a.title, "Fair opens");
        assert_eq!(a.published.as_deref(), Some("2024-07-01T09:00:00Z"));
        assert_eq!(a.summary_html.as_deref(), Some("<p>The <b>fair</b> opened.</p>"));
        assert!(!a.authors.is_empty(), "{:?}", a.authors);
        assert!(a.needs_full_text());
        let b = &f.items[1];
        assert_eq!(b.key, "https://news.example.org/bridge");
        let c = &f.items[2];
        assert!(c.key.starts_with("item-"), "{}", c.key);
        assert!(c.link.is_none() && !c.needs_full_text());
        let again = parse_feed(RSS.as_bytes(), "https://news.example.org/feed.xml").unwrap();
        assert_eq!(f, again);
        let edited = RSS.replace("The &lt;b&gt;fair&lt;/b&gt; opened.", "The fair opened late.");
        let edited = parse_feed(edited.as_bytes(), "https://news.example.org/feed.xml").unwrap();
        assert_eq!(edited.items[0].key, a.key);
        assert_ne!(edited.items[0].hash, a.hash);
        assert_eq!(edited.items[1].hash, b.hash);
    }

    #[test]
    fn not_feeds_and_broken_feeds_are_named() {
        let url = "https://x.org/feed";
        let html = "<!DOCTYPE html><html><head><title>Home</title></head><body>hi</body></html>";
        let e = parse_feed(html.as_bytes(), url).unwrap_err();
        assert_eq!(e.to_string(), "https://x.org/feed: not a feed (the server sent an HTML page)");
        let xhtml =
            "<?xml version=\"1.0\"?>\n<!-- c --><html xmlns=\"http://www.w3.org/1999/xhtml\"><body/></html>";
        assert_eq!(parse_feed(xhtml.as_bytes(), url).unwrap_err().reason_code(), "not_a_feed");
        let e = parse_feed(b"  \n", url).unwrap_err();
        assert_eq!(e.to_string(), "https://x.org/feed: not a feed (the document is empty)");
        let e = parse_feed(b"<catalog><book/></catalog>", url).unwrap_err();
        assert!(e.to_string().contains("the document is <catalog>"), "{e}");
        let e = parse_feed(b"just words", url).unwrap_err();
        assert_eq!(e.reason_code(), "not_a_feed");
        let e = parse_feed(br#"{"a": 1}"#, url).unwrap_err();
        assert!(e.to_string().starts_with("https://x.org/feed: "), "{e}");
        let bare =
            parse_feed(b"<rss><channel><title>x</title><item><title>y</title></item></channel></rss>", url);
        assert_eq!(bare.unwrap().items[0].title, "y", "an <rss> without version is RSS 2.0");
        let e =
            parse_feed(b"<rss version=\"2.0\"><channel><title>x</title><item><title>y</ti", url).unwrap_err();
        assert_eq!(e.reason_code(), "malformed_feed", "{e}");
        assert!(!e.to_string().contains('\n'));
    }

    #[test]
    fn atom_with_xml_base_and_html_title() {
        let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example.org/posts/">
<title type="html">A &lt;em&gt;blog&lt;/em&gt;</title><id>urn:x</id>
<link rel="alternate" href="https://blog.example.org/"/><link rel="self" href="https://blog.example.org/atom.xml"/>
<entry><id>urn:e1</id><title>One</title><link rel="replies" href="one#comments"/><link href="one.html"/>
<updated>2024-02-03T04:05:06+01:00</updated><content type="html">&lt;h2&gt;Part&lt;/h2&gt;&lt;p&gt;Body.&lt;/p&gt;</content>
<author><name>Bo</name></author></entry></feed>"#;
        let f = parse_feed(atom.as_bytes(), "https://blog.example.org/atom.xml").unwrap();
        assert_eq!(f.title.as_deref(), Some("A blog"));
        assert_eq!(f.site_url.as_deref(), Some("https://blog.example.org/"));
        let e = &f.items[0];
        assert_eq!(e.link.as_deref(), Some("https://blog.example.org/posts/one.html"));
        assert_eq!(e.published.as_deref(), Some("2024-02-03T03:05:06Z"));
        assert_eq!(e.authors, vec!["Bo"]);
        assert_eq!(e.content_html.as_deref(), Some("<h2>Part</h2><p>Body.</p>"));
        assert!(!e.needs_full_text());
    }
}
