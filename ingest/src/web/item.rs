//! A feed item as a news [`Document`]: its text from the fetched article when there is one,
//! else from the feed's content or summary, with the item's metadata over the page's.

use super::feed::{FeedItem, ParsedFeed};
use super::url::normalise_url;
use crate::document::{Document, Kind};
use crate::error::{IngestError, Result};
use crate::hash::content_hash;
use crate::html::text::{self, WalkOptions};
use crate::html::{prepass, sections_from_pieces};
use crate::lang::detect_language;

/// The identity of an item's document: its normalised link, else `{feed_url}#{key}`.
pub fn item_source(feed_url: &str, item: &FeedItem) -> String {
    item.link
        .as_deref()
        .and_then(|l| normalise_url(l).ok())
        .unwrap_or_else(|| format!("{feed_url}#{}", item.key))
}

/// Builds the news document for `item` of `feed` (fetched from `feed_url`). With `page` (the
/// full article fetched from the item's link, see [`FeedItem::needs_full_text`]) the text is the
/// page's; without, it is the item's content, else its summary, turned from HTML into sections.
/// Title, authors and date come from the item, else the page; the site is the feed's title.
/// The hash is the item's hash, combined with the page's when a page was used. An item with no
/// text at all is [`IngestError::NoText`].
pub fn item_document(
    feed: &ParsedFeed,
    feed_url: &str,
    item: &FeedItem,
    page: Option<Document>,
) -> Result<Document> {
    let source = item_source(feed_url, item);
    let mut doc = match page {
        Some(page) => {
            let hash = content_hash(format!("{}{}", item.hash, page.hash).as_bytes());
            Document { hash, ..page }
        }
        None => {
            let html = item.content_html.as_deref().or(item.summary_html.as_deref()).unwrap_or_default();
            let sections = html_sections(html);
            Document {
                source: String::new(),
                url: None,
                kind: Kind::News,
                title: String::new(),
                authors: Vec::new(),
                language: None,
                published: None,
                hash: item.hash.clone(),
                byte_len: html.len() as u64,
                page_count: None,
                site: None,
                sections,
            }
        }
    };
    if !doc.has_text() {
        return Err(IngestError::NoText { item: source, hint: Some("the feed item has no text".into()) });
    }
    doc.kind = Kind::News;
    doc.url = item.link.clone().or(doc.url.take());
    if !item.title.trim().is_empty() {
        doc.title = item.title.clone();
    }
    if doc.title.trim().is_empty() {
        doc.title = first_words(&doc);
    }
    if !item.authors.is_empty() {
        doc.authors = item.authors.clone();
    }
    if item.published.is_some() {
        doc.published = item.published.clone();
    }
    if let Some(site) = feed.title.as_deref().filter(|t| !t.trim().is_empty()) {
        doc.site = Some(site.to_string());
    }
    if doc.language.is_none() {
        doc.language = detect_language(&doc).or_else(|| feed.language.clone());
    }
    doc.source = source;
    Ok(doc)
}

/// HTML from a feed (already the article, no page chrome) as sections at its headings.
fn html_sections(html: &str) -> Vec<crate::document::Section> {
    if html.trim().is_empty() {
        return Vec::new();
    }
    let prepared = prepass::prepare(html, false);
    let frag = scraper::Html::parse_fragment(&prepared);
    let pieces = text::walk_html(&frag, &WalkOptions { strip_chrome: true, ..Default::default() });
    sections_from_pieces(pieces)
}

/// The start of the text as a title of last resort: up to ten words.
fn first_words(doc: &Document) -> String {
    let text = doc.sections.iter().find(|s| !s.text.trim().is_empty()).map(|s| s.text.as_str()).unwrap_or("");
    let words: Vec<&str> = text.split_whitespace().take(10).collect();
    let mut title = words.join(" ");
    if text.split_whitespace().count() > 10 {
        title.push('…');
    }
    title
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::feed::parse_feed;

    const FEED: &str = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Town News</title>
<item><title>Fair opens</title><link>https://news.example.org/fair?utm_source=rss</link><guid>fair-1</guid>
<description>The fair opened on Monday.</description><pubDate>Mon, 01 Jul 2024 09:00:00 GMT</pubDate></item>
<item><title>Council report</title><guid isPermaLink="false">council-7</guid>
<description>Summary.</description>
<content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/"><![CDATA[<h2>Budget</h2><p>The budget passed by five votes to two after a long debate.</p><h2>Roads</h2><p>Two roads will be repaired this summer.</p>]]></content:encoded></item>
<item><title>Empty</title><guid>e-1</guid></item>
</channel></rss>"#;
    const URL: &str = "https://news.example.org/feed.xml";

    #[test]
    fn content_item_keeps_its_sections() {
        let feed = parse_feed(FEED.as_bytes(), URL).unwrap();
        let doc = item_document(&feed, URL, &feed.items[1], None).unwrap();
        assert_eq!(doc.kind, Kind::News);
        assert_eq!(doc.source, "https://news.example.org/feed.xml#council-7");
        assert_eq!(doc.url, None);
        assert_eq!(doc.title, "Council report");
        assert_eq!(doc.site.as_deref(), Some("Town News"));
        assert_eq!(doc.hash, feed.items[1].hash);
        let paths: Vec<_> = doc.sections.iter().map(|s| s.heading_path.join(">")).collect();
        assert_eq!(paths, vec!["Budget", "Roads"]);
        assert_eq!(doc.sections[0].text, "The budget passed by five votes to two after a long debate.");
    }

    #[test]
    fn summary_item_with_and_without_page() {
        let feed = parse_feed(FEED.as_bytes(), URL).unwrap();
        let item = &feed.items[0];
        let bare = item_document(&feed, URL, item, None).unwrap();
        assert_eq!(bare.source, "https://news.example.org/fair");
        assert_eq!(bare.url.as_deref(), Some("https://news.example.org/fair?utm_source=rss"));
        assert_eq!(bare.sections[0].text, "The fair opened on Monday.");
        assert_eq!(bare.published.as_deref(), Some("2024-07-01T09:00:00Z"));
        let page = Document {
            source: "https://news.example.org/fair".into(),
            url: Some("https://news.example.org/fair".into()),
            kind: Kind::Web,
            title: "Fair opens at last | Town News".into(),
            authors: vec!["Ann Lee".into()],
            language: Some("en".into()),
            published: Some("2024-06-30".into()),
            hash: content_hash(b"page"),
            byte_len: 4,
            page_count: None,
            site: Some("news.example.org".into()),
            sections: vec![crate::document::Section::new(vec![], "The whole article about the fair.")],
        };
        let full = item_document(&feed, URL, item, Some(page)).unwrap();
        assert_eq!(full.kind, Kind::News);
        assert_eq!(full.source, bare.source);
        assert_eq!(full.title, "Fair opens");
        assert_eq!(full.authors, vec!["Ann Lee"]);
        assert_eq!(full.published.as_deref(), Some("2024-07-01T09:00:00Z"));
        assert_eq!(full.site.as_deref(), Some("Town News"));
        assert_eq!(full.sections[0].text, "The whole article about the fair.");
        assert_ne!(full.hash, bare.hash);
        assert_ne!(full.hash, content_hash(b"page"));
    }

    #[test]
    fn item_without_text_is_refused() {
        let feed = parse_feed(FEED.as_bytes(), URL).unwrap();
        let err = item_document(&feed, URL, &feed.items[2], None).unwrap_err();
        assert_eq!(err.reason_code(), "no_text");
        assert!(err.to_string().starts_with("https://news.example.org/feed.xml#e-1: no text found"), "{err}");
    }
}
