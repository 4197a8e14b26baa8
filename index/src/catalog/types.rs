//! Rows of the catalog as Rust types.

use lore_ingest::{Chunk, Document};
use serde::Serialize;

use super::Result;

/// A source root: a file or folder given to `lore add`, remembered for `lore sync`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Root {
    /// Root id.
    pub id: i64,
    /// Canonical path or URL.
    pub path: String,
    /// `file`, `folder` or `url`.
    pub kind: String,
    /// Tags given with the root, applied to every document under it.
    pub tags: Vec<String>,
    /// When it was first added (RFC 3339).
    pub added_at: String,
}

/// Size and modification time of a source file, for the cheap unchanged check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FileStat {
    /// Modification time, seconds since the epoch.
    pub mtime: i64,
    /// Size in bytes.
    pub size: u64,
}

impl FileStat {
    /// The stat of a file's metadata.
    pub fn of(meta: &std::fs::Metadata) -> Option<FileStat> {
        let mtime = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
        Some(FileStat { mtime: i64::try_from(mtime).ok()?, size: meta.len() })
    }

    /// The stat stored in a row's `file_mtime` and `file_size` columns (of `documents` or
    /// `copies`), when both are there and the size is not negative.
    pub(super) fn from_columns(mtime: Option<i64>, size: Option<i64>) -> Option<FileStat> {
        Some(FileStat { mtime: mtime?, size: u64::try_from(size?).ok()? })
    }
}

pub(super) const ROOT_SELECT: &str = "SELECT id, path, kind, tags, added_at FROM roots";

pub(super) fn root_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Root>> {
    let tags = match string_list_at(r, 3)? {
        Ok(t) => t,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(Root { id: r.get(0)?, path: r.get(1)?, kind: r.get(2)?, tags, added_at: r.get(4)? }))
}

/// A document to write, with its chunks.
#[derive(Debug, Clone, Copy)]
pub struct NewDocument<'a> {
    /// The document.
    pub doc: &'a Document,
    /// Its chunks.
    pub chunks: &'a [Chunk],
    /// Tags to give it.
    pub tags: &'a [String],
    /// The source root it was found under.
    pub root_id: Option<i64>,
    /// The file's stat, for local files.
    pub file: Option<FileStat>,
}

/// What [`super::Catalog::begin_upsert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upsert {
    /// A new document with this id.
    Added(i64),
    /// An existing document whose content changed; its chunks were replaced.
    Replaced(i64),
    /// The same content was already there; nothing to index.
    Unchanged(i64),
}

impl Upsert {
    /// The document id.
    pub fn doc_id(self) -> i64 {
        match self {
            Upsert::Added(id) | Upsert::Replaced(id) | Upsert::Unchanged(id) => id,
        }
    }
}

/// What an interrupted operation on a document was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JournalOp {
    /// The document's chunks were written to the catalog; the derived indexes may lag.
    Index,
    /// The document is being removed.
    Delete,
}

/// An entry of the ingest journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalEntry {
    /// The document.
    pub doc_id: i64,
    /// What was under way.
    pub op: JournalOp,
    /// When it started (RFC 3339).
    pub started_at: String,
}

pub(super) const JOURNAL_SELECT: &str = "SELECT doc_id, op, started_at FROM journal";

pub(super) fn journal_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<JournalEntry> {
    let op: String = r.get(1)?;
    let op = if op == "delete" { JournalOp::Delete } else { JournalOp::Index };
    Ok(JournalEntry { doc_id: r.get(0)?, op, started_at: r.get(2)? })
}

/// Filters for listing documents.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only this kind (`pdf`, `epub`, ...).
    pub kind: Option<String>,
    /// Only documents with this tag.
    pub tag: Option<String>,
}

/// A document as listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocSummary {
    /// Document id.
    pub id: i64,
    /// Canonical source.
    pub source: String,
    /// URL, for web pages and news.
    pub url: Option<String>,
    /// Kind name.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Authors.
    pub authors: Vec<String>,
    /// Language code.
    pub language: Option<String>,
    /// Publication date.
    pub published: Option<String>,
    /// BLAKE3 hash of the source bytes.
    pub hash: String,
    /// Size of the source in bytes (`bytes` in JSON).
    #[serde(rename = "bytes")]
    pub byte_len: u64,
    /// Number of pages (PDF) when known (`pages` in JSON).
    #[serde(rename = "pages")]
    pub page_count: Option<u32>,
    /// Number of sections (chapters for EPUB).
    pub sections: u32,
    /// Number of chunks.
    pub chunks: u32,
    /// Tags.
    pub tags: Vec<String>,
    /// When it was added (RFC 3339).
    pub added_at: String,
    /// When it last changed (RFC 3339).
    pub updated_at: String,
    /// The site a web page or news item belongs to.
    pub site: Option<String>,
}

pub(super) const SUMMARY_SELECT: &str =
    "SELECT d.id, d.source, d.url, d.kind, d.title, d.authors, d.language, d.published,
    d.hash, d.byte_len, d.page_count,
    (SELECT COUNT(*) FROM sections s WHERE s.doc_id = d.id),
    (SELECT COUNT(*) FROM chunks c WHERE c.doc_id = d.id),
    (SELECT json_group_array(tag) FROM (SELECT tag FROM tags t WHERE t.doc_id = d.id ORDER BY tag)),
    d.added_at, d.updated_at, d.site
    FROM documents d";

pub(super) fn summary_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<DocSummary>> {
    let authors: String = r.get(5)?;
    let tags: String = r.get(13)?;
    let build = |authors: Vec<String>, tags: Vec<String>| -> rusqlite::Result<DocSummary> {
        Ok(DocSummary {
            id: r.get(0)?,
            source: r.get(1)?,
            url: r.get(2)?,
            kind: r.get(3)?,
            title: r.get(4)?,
            authors,
            language: r.get(6)?,
            published: r.get(7)?,
            hash: r.get(8)?,
            byte_len: r.get::<_, i64>(9)? as u64,
            page_count: r.get(10)?,
            sections: r.get(11)?,
            chunks: r.get(12)?,
            tags,
            added_at: r.get(14)?,
            updated_at: r.get(15)?,
            site: r.get(16)?,
        })
    };
    let parsed = serde_json::from_str::<Vec<String>>(&authors)
        .and_then(|a| serde_json::from_str::<Vec<String>>(&tags).map(|t| (a, t)));
    match parsed {
        Ok((a, t)) => build(a, t).map(Ok),
        Err(e) => Ok(Err(e.into())),
    }
}

/// A section of a stored document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SectionInfo {
    /// Position in the document.
    pub ordinal: u32,
    /// Heading path.
    pub heading_path: Vec<String>,
    /// Anchor in the source.
    pub anchor: Option<String>,
    /// First page (PDF).
    pub page_start: Option<u32>,
    /// Last page (PDF).
    pub page_end: Option<u32>,
    /// Length of its text in bytes.
    pub chars: u64,
}

/// The JSON list of strings in column `idx` (tags, authors, a heading path); a malformed one is
/// the inner error.
fn string_list_at(r: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<Result<Vec<String>>> {
    let heading: String = r.get(idx)?;
    Ok(serde_json::from_str(&heading).map_err(Into::into))
}

pub(super) const SECTION_SELECT: &str =
    "SELECT ordinal, heading_path, anchor, page_start, page_end, chars FROM sections";

pub(super) fn section_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<SectionInfo>> {
    let heading_path = match string_list_at(r, 1)? {
        Ok(h) => h,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(SectionInfo {
        ordinal: r.get(0)?,
        heading_path,
        anchor: r.get(2)?,
        page_start: r.get(3)?,
        page_end: r.get(4)?,
        chars: r.get::<_, i64>(5)? as u64,
    }))
}

/// A chunk as stored in the catalog.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredChunk {
    /// Chunk id (deterministic from document id and ordinal).
    pub id: i64,
    /// Document id.
    pub doc_id: i64,
    /// Position in the document.
    pub ordinal: u32,
    /// Section index.
    pub section: u32,
    /// Text.
    pub text: String,
    /// Heading path of its section.
    pub heading_path: Vec<String>,
    /// Anchor of its section.
    pub anchor: Option<String>,
    /// First page.
    pub page_start: Option<u32>,
    /// Last page.
    pub page_end: Option<u32>,
    /// Byte span start within the section.
    pub char_start: u64,
    /// Byte span end within the section.
    pub char_end: u64,
    /// Size in tokens.
    pub tokens: u32,
    /// ISO 639-1 language code of its text, when known.
    pub language: Option<String>,
    /// First line of the source file it is on (plain text and Markdown).
    pub line_start: Option<u32>,
    /// Last line of the source file it is on.
    pub line_end: Option<u32>,
    /// Some of its text was read by OCR from a scanned page.
    pub ocr: bool,
}

impl StoredChunk {
    /// The heading path joined for display.
    pub fn heading(&self) -> String {
        self.heading_path.join(" > ")
    }

    /// The page span for display: `p. 4` or `pp. 4-5`.
    pub fn pages(&self) -> Option<String> {
        match (self.page_start, self.page_end) {
            (Some(a), Some(b)) if a != b => Some(format!("pp. {a}-{b}")),
            (Some(a), _) => Some(format!("p. {a}")),
            _ => None,
        }
    }

    /// The line span for display: `line 12` or `lines 120-134`.
    pub fn lines(&self) -> Option<String> {
        match (self.line_start, self.line_end) {
            (Some(a), Some(b)) if a != b => Some(format!("lines {a}-{b}")),
            (Some(a), _) => Some(format!("line {a}")),
            _ => None,
        }
    }

    /// Where the chunk is in its source for display: its pages, else its lines.
    pub fn location(&self) -> Option<String> {
        self.pages().or_else(|| self.lines())
    }
}

pub(super) const CHUNK_SELECT: &str =
    "SELECT id, doc_id, ordinal, section, text, heading_path, anchor, page_start,
    page_end, char_start, char_end, tokens, language, line_start, line_end, ocr FROM chunks";

pub(super) fn chunk_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<StoredChunk>> {
    let heading_path = match string_list_at(r, 5)? {
        Ok(h) => h,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(StoredChunk {
        id: r.get(0)?,
        doc_id: r.get(1)?,
        ordinal: r.get(2)?,
        section: r.get(3)?,
        text: r.get(4)?,
        heading_path,
        anchor: r.get(6)?,
        page_start: r.get(7)?,
        page_end: r.get(8)?,
        char_start: r.get::<_, i64>(9)? as u64,
        char_end: r.get::<_, i64>(10)? as u64,
        tokens: r.get(11)?,
        language: r.get(12)?,
        line_start: r.get(13)?,
        line_end: r.get(14)?,
        ocr: r.get(15)?,
    }))
}
