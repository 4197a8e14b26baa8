//! HTML pages: the main text (no navigation, scripts, styles, headers, footers or sidebars), cut
//! into sections at its `h1`..`h6` headings, with title, authors, date and language from the
//! markup.
//!
//! The main text comes from readability ([`dom_smoothie`]); when readability keeps too little of
//! a page (documentation pages with many short sections are the usual case) the body minus page
//! chrome is used instead. See [`main_text`]. The parser calls (html5ever through scraper, and
//! readability) run under [`crate::guard::catch`]; the walk and the sections are lore's own code
//! and run outside it.

pub(crate) mod main_text;
pub(crate) mod meta;
pub(crate) mod prepass;
pub(crate) mod text;

use crate::document::{Document, Kind, Section};
use crate::error::{IngestError, Result};

pub use meta::{normalise_date, normalise_language};
use text::Piece;

/// Loads an HTML page whose bytes the caller has decoded to text. `item` names it in errors and
/// becomes the document's source.
pub fn load(html: &str, item: &str) -> Result<Document> {
    load_with_url(html, item, None)
}

/// Loads an HTML page fetched from `url` (the final URL after redirects), which readability uses
/// to resolve relative links. A `url` that is not absolute http(s) is ignored.
pub fn load_with_url(html: &str, item: &str, url: Option<&str>) -> Result<Document> {
    if html.trim().is_empty() {
        return Err(IngestError::Empty { item: item.to_string() });
    }
    load_inner(html, item, url)
}

fn load_inner(original: &str, item: &str, url: Option<&str>) -> Result<Document> {
    let html = prepass::prepare(original, prepass::looks_like_xhtml(original));
    let html = html.as_ref();
    let doc = crate::guard::catch(item, "HTML parser", || scraper::Html::parse_document(html))?;
    let page_meta = meta::extract(&doc);
    let main = main_text::extract(html, &doc, item, url, page_meta.generator.as_deref())?;
    let title = choose_title(&page_meta, main.title.as_deref());
    let mut pieces = main.pieces;
    restore_title_heading(&mut pieces, &page_meta, &title);
    let sections = sections_from_pieces(pieces);

    let mut authors = page_meta.authors.clone();
    if authors.is_empty()
        && let Some(byline) = main.byline.as_deref()
    {
        authors = meta::split_authors(byline);
    }
    let published =
        page_meta.published.clone().or_else(|| main.published.as_deref().and_then(normalise_date));
    let language = page_meta.language.clone().or_else(|| main.lang.as_deref().and_then(normalise_language));
    Ok(Document {
        source: item.to_string(),
        url: None,
        kind: Kind::Html,
        title,
        authors,
        language,
        published,
        hash: String::new(),
        byte_len: original.len() as u64,
        page_count: None,
        site: page_meta.site_name.clone().or_else(|| page_meta.publisher.clone()),
        sections,
    })
}

/// The title: Open Graph / JSON-LD headline, else `<title>` without its site suffix, else
/// readability's, else the first `h1`. Empty when none is found (the caller then uses the file name).
fn choose_title(m: &meta::PageMeta, readable_title: Option<&str>) -> String {
    let site = m.site_name.as_deref();
    let candidates = [
        m.og_title.as_deref().map(|t| meta::strip_site_suffix(t, site)),
        m.title_tag.as_deref().map(|t| meta::strip_site_suffix(t, site)),
        readable_title.map(meta::collapse),
        m.first_h1.clone(),
    ];
    candidates.into_iter().flatten().find(|t| !t.is_empty()).unwrap_or_default()
}

/// Readability drops the `h1` that repeats the page title; put it back at the head of the text
/// so that heading paths start from it as they do in the page. Only an `h1` that matches the
/// title is restored (a page's first `h1` is sometimes the site's logo).
fn restore_title_heading(pieces: &mut Vec<Piece>, m: &meta::PageMeta, title: &str) {
    let Some(h1) = m.first_h1.as_deref() else { return };
    if pieces.iter().any(|p| matches!(p, Piece::Heading { level: 1, .. })) {
        return;
    }
    let norm =
        |s: &str| s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect::<String>();
    let (a, b) = (norm(h1), norm(title));
    if a.is_empty() || b.is_empty() || !(a == b || a.contains(&b) || b.contains(&a)) {
        return;
    }
    let heading = Piece::Heading { level: 1, text: h1.to_string(), anchor: m.first_h1_id.clone() };
    pieces.insert(0, heading);
}

/// Folds walked pieces into sections: each heading starts a section whose heading path is the
/// chain of enclosing headings by level. Headings with no text of their own before the next
/// heading add no section; they remain in the paths of the sections under them.
pub(crate) fn sections_from_pieces(pieces: Vec<Piece>) -> Vec<Section> {
    #[cfg(test)]
    crate::guard::bug_site("html-sections");
    let mut stack: Vec<(u8, String)> = Vec::new();
    let mut sections = Vec::new();
    let mut current = Section::default();
    for piece in pieces {
        match piece {
            Piece::Text(t) => {
                if !current.text.is_empty() {
                    current.text.push_str("\n\n");
                }
                current.text.push_str(&t);
            }
            Piece::Heading { level, text, anchor } => {
                if !current.text.trim().is_empty() {
                    sections.push(std::mem::take(&mut current));
                }
                while stack.last().is_some_and(|(l, _)| *l >= level) {
                    stack.pop();
                }
                stack.push((level, text));
                current = Section {
                    heading_path: stack.iter().map(|(_, t)| t.clone()).collect(),
                    anchor,
                    pages: Vec::new(),
                    text: String::new(),
                    line: None,
                };
            }
            Piece::Marker(_) => {}
        }
    }
    if !current.text.trim().is_empty() {
        sections.push(current);
    }
    sections
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_nest_into_paths() {
        let html = "<html lang=\"de\"><head><title>Handbuch | Beispiel</title></head><body>\
            <h1 id=\"top\">Handbuch</h1><p>Einleitung.</p>\
            <h2 id=\"a\">Teil A</h2><h3 id=\"a1\">A eins</h3><p>Text A1.</p>\
            <h2 id=\"b\">Teil B</h2><p>Text B.</p></body></html>";
        let d = load(html, "x.html").unwrap();
        assert_eq!(d.title, "Handbuch");
        assert_eq!(d.language.as_deref(), Some("de"));
        let paths: Vec<Vec<String>> = d.sections.iter().map(|s| s.heading_path.clone()).collect();
        assert_eq!(
            paths,
            vec![
                vec!["Handbuch".to_string()],
                vec!["Handbuch".into(), "Teil A".into(), "A eins".into()],
                vec!["Handbuch".into(), "Teil B".into()],
            ]
        );
        assert_eq!(d.sections[1].anchor.as_deref(), Some("a1"));
        assert_eq!(d.sections[1].text, "Text A1.");
        assert_eq!(d.byte_len, html.len() as u64);
    }

    #[test]
    fn empty_and_junk_input_fail_cleanly() {
        assert_eq!(load("", "e.html").unwrap_err().reason_code(), "empty");
        assert_eq!(load("  \n ", "e.html").unwrap_err().reason_code(), "empty");
        let junk: String =
            (0..5000u32).map(|i| char::from_u32(0x20 + (i * 7919) % 0x5000).unwrap_or('x')).collect();
        let _ = load(&junk, "junk.html");
        let broken = "<html><body><p>Unclosed <b>bold <i>italic <table><tr><td>cell</p></div></span>";
        let d = load(broken, "broken.html").unwrap();
        assert!(d.sections.iter().any(|s| s.text.contains("cell")));
    }

    #[test]
    fn deeply_nested_divs_load_without_overflow() {
        let n = 100_000;
        let html = format!(
            "<html><body>{}<p>Deep paragraph text.</p>{}</body></html>",
            "<div>".repeat(n),
            "</div>".repeat(n)
        );
        let d = load(&html, "deep.html").unwrap();
        assert!(d.sections.iter().any(|s| s.text.contains("Deep paragraph text.")));
    }
}
