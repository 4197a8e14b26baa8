//! The normalised document model every loader produces.

use serde::{Deserialize, Serialize};

/// What kind of source a document came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A PDF file.
    Pdf,
    /// An EPUB book.
    Epub,
    /// A local HTML file.
    Html,
    /// A Markdown file.
    Markdown,
    /// A plain text file.
    Text,
    /// A web page fetched by URL.
    Web,
    /// A news item from a feed.
    News,
}

impl Kind {
    /// The lowercase name used in the catalog, filters and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Pdf => "pdf",
            Kind::Epub => "epub",
            Kind::Html => "html",
            Kind::Markdown => "markdown",
            Kind::Text => "text",
            Kind::Web => "web",
            Kind::News => "news",
        }
    }

    /// Every kind, in display order.
    pub const ALL: [Kind; 7] =
        [Kind::Pdf, Kind::Epub, Kind::Html, Kind::Markdown, Kind::Text, Kind::Web, Kind::News];
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == lower || (lower == "md" && *k == Kind::Markdown))
            .ok_or_else(|| format!("unknown kind {s:?} (one of pdf, epub, html, markdown, text, web, news)"))
    }
}

/// Where a page starts inside a section's text: from byte `offset` on, the text is on `page`
/// (1-based, as printed in a PDF viewer's page counter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageMark {
    /// Byte offset into [`Section::text`].
    pub offset: usize,
    /// 1-based page number.
    pub page: u32,
    /// The page's text was read by OCR from its image.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ocr: bool,
}

/// A run of text under one heading path.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Section {
    /// Headings from the outermost to this section's own, e.g. `["Chapter 3", "Tail calls"]`.
    pub heading_path: Vec<String>,
    /// Anchor or fragment id in the source (HTML id, EPUB chapter href), when there is one.
    pub anchor: Option<String>,
    /// Page starts within `text`, sorted by offset; empty for sources without pages. When present
    /// the first mark is at offset 0.
    pub pages: Vec<PageMark>,
    /// The section's text, normalised: paragraphs separated by blank lines.
    pub text: String,
    /// For sources read as lines (plain text, Markdown): the 1-based line of the source where
    /// `text` starts; its lines follow the source's one for one from there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

impl Section {
    /// A section with a heading path and text and no pages or anchor.
    pub fn new(heading_path: Vec<String>, text: impl Into<String>) -> Self {
        Section { heading_path, anchor: None, pages: Vec::new(), text: text.into(), line: None }
    }

    /// Whether any of the text in bytes `start..end` is on a page read by OCR.
    pub fn ocr_in(&self, start: usize, end: usize) -> bool {
        let first = self.pages.partition_point(|m| m.offset <= start).saturating_sub(1);
        self.pages[first.min(self.pages.len())..]
            .iter()
            .take_while(|m| m.offset < end.max(start + 1))
            .any(|m| m.ocr)
    }

    /// The page that holds byte `offset` of the text, if the section has pages.
    pub fn page_at(&self, offset: usize) -> Option<u32> {
        let idx = self.pages.partition_point(|m| m.offset <= offset);
        if idx == 0 { self.pages.first().map(|m| m.page) } else { Some(self.pages[idx - 1].page) }
    }
}

/// A normalised document: metadata and sections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// Canonical source: absolute file path, normalised URL, or feed item key.
    pub source: String,
    /// The URL the document was fetched from, after redirects, for web pages and news.
    pub url: Option<String>,
    /// What kind of source it is.
    pub kind: Kind,
    /// Title from metadata, else the first heading, else the file name.
    pub title: String,
    /// Authors, in the order the source names them.
    pub authors: Vec<String>,
    /// ISO 639-1 language code when known (from metadata or detection).
    pub language: Option<String>,
    /// Publication date (ISO 8601, date or date-time) when known.
    pub published: Option<String>,
    /// BLAKE3 hash (hex) of the source bytes: the document's version.
    pub hash: String,
    /// Size of the source in bytes.
    pub byte_len: u64,
    /// Number of pages (PDF) when known.
    pub page_count: Option<u32>,
    /// The site a web page or news item belongs to (Open Graph `site_name`, JSON-LD publisher,
    /// or the feed's title), when known.
    #[serde(default)]
    pub site: Option<String>,
    /// The text, in reading order.
    pub sections: Vec<Section>,
}

impl Document {
    /// Total characters of text across sections.
    pub fn text_len(&self) -> usize {
        self.sections.iter().map(|s| s.text.len()).sum()
    }

    /// Whether the document has any non-whitespace text.
    pub fn has_text(&self) -> bool {
        self.sections.iter().any(|s| s.text.chars().any(|c| !c.is_whitespace()))
    }
}

/// A piece of a document sized for embedding and retrieval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chunk {
    /// Position of the chunk in its document, from 0.
    pub ordinal: u32,
    /// Index of the section the chunk comes from.
    pub section: u32,
    /// The chunk's text.
    pub text: String,
    /// Heading path of its section.
    pub heading_path: Vec<String>,
    /// Anchor of its section, when there is one.
    pub anchor: Option<String>,
    /// First page the chunk's text is on (PDF).
    pub page_start: Option<u32>,
    /// Last page the chunk's text is on (PDF).
    pub page_end: Option<u32>,
    /// Byte span of the chunk within its section's text.
    pub char_start: usize,
    /// End (exclusive) of the byte span within its section's text.
    pub char_end: usize,
    /// Size in tokens of the sizing tokenizer.
    pub tokens: u32,
    /// ISO 639-1 language code of the chunk's text when known: the document's language, unless
    /// the chunk's own text is clearly in another (see [`crate::lang::chunk_language`]).
    #[serde(default)]
    pub language: Option<String>,
    /// First line of the source the chunk's text is on (plain text and Markdown, 1-based).
    #[serde(default)]
    pub line_start: Option<u32>,
    /// Last line of the source the chunk's text is on.
    #[serde(default)]
    pub line_end: Option<u32>,
    /// Some of the chunk's text was read by OCR from a page's image (a scanned PDF page).
    #[serde(default)]
    pub ocr: bool,
}

impl Chunk {
    /// The heading path joined for display, e.g. `Chapter 3 > Tail calls`.
    pub fn heading(&self) -> String {
        self.heading_path.join(" > ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_at_maps_offsets_to_pages() {
        let s = Section {
            pages: vec![
                PageMark { offset: 0, page: 4, ocr: false },
                PageMark { offset: 10, page: 5, ocr: false },
            ],
            ..Section::new(vec![], "0123456789abcdef")
        };
        assert_eq!(s.page_at(0), Some(4));
        assert_eq!(s.page_at(9), Some(4));
        assert_eq!(s.page_at(10), Some(5));
        assert_eq!(s.page_at(15), Some(5));
        assert_eq!(Section::new(vec![], "x").page_at(0), None);
    }

    #[test]
    fn ocr_in_tells_whether_a_span_touches_a_page_read_by_ocr() {
        let s = Section {
            pages: vec![
                PageMark { offset: 0, page: 1, ocr: false },
                PageMark { offset: 10, page: 2, ocr: true },
                PageMark { offset: 20, page: 3, ocr: false },
            ],
            ..Section::new(vec![], "0123456789abcdefghijklmnopqrstuvwxyz")
        };
        assert!(!s.ocr_in(0, 10));
        assert!(s.ocr_in(5, 11));
        assert!(s.ocr_in(12, 15));
        assert!(s.ocr_in(15, 25));
        assert!(!s.ocr_in(20, 30));
        assert!(!Section::new(vec![], "x").ocr_in(0, 1));
    }

    #[test]
    fn kind_round_trips_through_its_name() {
        for k in Kind::ALL {
            assert_eq!(k.as_str().parse::<Kind>(), Ok(k));
        }
        assert_eq!("md".parse::<Kind>(), Ok(Kind::Markdown));
        assert!("exe".parse::<Kind>().is_err());
    }
}
