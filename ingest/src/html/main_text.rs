//! Choosing a page's main text: readability's article, or the page body minus chrome when
//! readability keeps too little of it.
//!
//! Readability scores paragraphs and keeps the best-scoring container. On documentation pages,
//! made of many short sections under headings, it often keeps one section and drops the rest. The
//! fallback candidate is the page's main region (`<main>`, `[role=main]`, else `<body>`) walked
//! with chrome stripped. Readability's text is kept unless the fallback holds clearly more of the
//! page's sections: more headings, most of them missing from readability's text, and more words.

use scraper::{ElementRef, Html};

use super::text::{self, Piece, WalkOptions};

/// Deeper markup than this skips readability (its DOM code recurses) and uses the fallback.
const MAX_READABILITY_DEPTH: usize = 256;
/// More elements than this skip readability (it is quadratic on some pages).
const MAX_READABILITY_ELEMENTS: usize = 150_000;

/// The main text of a page and what readability found about it.
#[derive(Debug, Default)]
pub(crate) struct MainText {
    /// The walked main text.
    pub pieces: Vec<Piece>,
    /// Readability's title.
    pub title: Option<String>,
    /// Readability's byline.
    pub byline: Option<String>,
    /// Readability's publication time.
    pub published: Option<String>,
    /// Readability's language.
    pub lang: Option<String>,
}

/// Extracts the main text of `html` (already parsed as `doc`; `item` names it in errors).
/// `generator` is the page's generator meta tag: pages made by documentation generators
/// (Sphinx, DocBook, MkDocs, ...) are whole documents, and their body minus chrome is used.
/// When readability panics, the body minus chrome is used too.
pub(crate) fn extract(
    html: &str,
    doc: &Html,
    item: &str,
    url: Option<&str>,
    generator: Option<&str>,
) -> crate::error::Result<MainText> {
    let (depth, elements) = text::depth_and_size(doc);
    let region = main_region(doc);
    let fallback =
        text::walk(*region, &WalkOptions { strip_layout: true, strip_chrome: true, markers: None });
    let readable = (depth <= MAX_READABILITY_DEPTH
        && elements <= MAX_READABILITY_ELEMENTS
        && !generator.is_some_and(is_documentation_generator))
    .then(|| readability(html, item, url))
    .flatten();
    let Some(article) = readable else {
        return Ok(MainText { pieces: fallback, ..Default::default() });
    };
    let content = crate::guard::catch(item, "HTML parser", || Html::parse_document(&article.content))?;
    let pieces = text::walk_html(&content, &WalkOptions { strip_chrome: true, ..Default::default() });
    let use_fallback = prefer_fallback(&pieces, &fallback);
    Ok(MainText {
        pieces: if use_fallback { fallback } else { pieces },
        title: Some(article.title).filter(|t| !t.trim().is_empty()),
        byline: article.byline.filter(|b| !b.trim().is_empty()),
        published: article.published_time,
        lang: article.lang,
    })
}

/// Generators of documentation sites and books, whose pages are all content.
const DOC_GENERATORS: &[&str] = &[
    "docutils",
    "sphinx",
    "docbook",
    "mkdocs",
    "asciidoctor",
    "doxygen",
    "javadoc",
    "rustdoc",
    "mdbook",
    "texinfo",
    "makeinfo",
    "jsdoc",
    "pdoc",
    "godoc",
    "hevea",
    "latex2html",
    "readthedocs",
];

fn is_documentation_generator(generator: &str) -> bool {
    let g = generator.to_ascii_lowercase();
    DOC_GENERATORS.iter().any(|d| g.contains(d))
}

/// The element that holds the page's main content: the only `<main>` or `[role=main]`, else
/// `<body>`, else the root.
fn main_region(doc: &Html) -> ElementRef<'_> {
    let root = doc.root_element();
    let mut mains = root.descendent_elements().filter(|e| {
        e.value().name() == "main" || e.value().attr("role").is_some_and(|r| r.eq_ignore_ascii_case("main"))
    });
    if let (Some(m), None) = (mains.next(), mains.next())
        && word_count_el(m) > 0
    {
        return m;
    }
    root.descendent_elements().find(|e| e.value().name() == "body").unwrap_or(root)
}

fn word_count_el(el: ElementRef<'_>) -> usize {
    el.text().map(|t| t.split_whitespace().count()).sum()
}

/// Readability's article, if it finds one (a panic inside it counts as none).
fn readability(html: &str, item: &str, url: Option<&str>) -> Option<dom_smoothie::Article> {
    let url = url.filter(|u| u.starts_with("http://") || u.starts_with("https://"));
    // Classes are kept so that the walk can still drop chrome readability left in.
    let cfg = dom_smoothie::Config {
        max_elements_to_parse: MAX_READABILITY_ELEMENTS,
        keep_classes: true,
        ..Default::default()
    };
    crate::guard::catch(item, "HTML parser", || {
        let mut r = dom_smoothie::Readability::new(html, url, Some(cfg.clone()))
            .or_else(|_| dom_smoothie::Readability::new(html, None, Some(cfg)))
            .ok()?;
        r.parse().ok()
    })
    .ok()
    .flatten()
}

/// Words of text under a heading for it to count as a content section.
const MIN_SECTION_WORDS: usize = 25;

/// Counts of what a candidate text holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Stats {
    /// Words (whitespace-separated) or, for text without spaces, characters / 2.
    pub words: usize,
    /// Headings followed by at least [`MIN_SECTION_WORDS`] words of text (a list of a few
    /// links under a heading, as in footers, does not count).
    pub headings: usize,
}

pub(crate) fn stats(pieces: &[Piece]) -> Stats {
    let mut words = 0;
    let mut headings = 0;
    let mut last_heading = false;
    for p in pieces {
        match p {
            Piece::Text(t) => {
                let w = text_weight(t);
                words += w;
                if last_heading && w >= MIN_SECTION_WORDS {
                    headings += 1;
                }
                last_heading = false;
            }
            Piece::Heading { .. } => last_heading = true,
            Piece::Marker(_) => {}
        }
    }
    Stats { words, headings }
}

/// A size measure that works for scripts written without spaces too.
fn text_weight(t: &str) -> usize {
    let words = t.split_whitespace().count();
    let chars = t.chars().filter(|c| !c.is_whitespace()).count();
    words.max(chars / 6)
}

/// Whether the fallback holds clearly more of the page's sections than readability kept.
pub(crate) fn prefer_fallback(readable: &[Piece], fallback: &[Piece]) -> bool {
    let r = stats(readable);
    let f = stats(fallback);
    if r.words < 15 && f.words > 3 * r.words.max(1) {
        return true;
    }
    let missing_sections = f.headings >= 4 && (r.headings as f64) < 0.7 * f.headings as f64;
    let much_more_text = (r.words as f64) < 0.7 * f.words as f64;
    missing_sections && much_more_text
}
