//! Loading a source into a [`Document`]: format detection, size limits, hashing; the document's
//! language comes from [`crate::lang`].

use std::path::Path;

use crate::document::{Document, Kind};
use crate::error::{IngestError, Result};
use crate::hash::content_hash;
use crate::lang::detect_language;
use crate::ocr::{OcrOptions, OcrProgress};

/// Limits and choices for loading.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Largest text, Markdown or HTML file accepted, in MB.
    pub max_text_mb: u64,
    /// Largest PDF or EPUB accepted, in MB.
    pub max_book_mb: u64,
    /// When and how PDF pages without text are read by OCR.
    pub ocr: OcrOptions,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions { max_text_mb: 16, max_book_mb: 512, ocr: OcrOptions::default() }
    }
}

/// The kind a file name's extension says it is, if lore reads that kind.
pub fn kind_for_path(path: &Path) -> Option<Kind> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "pdf" => Some(Kind::Pdf),
        "epub" => Some(Kind::Epub),
        "html" | "htm" | "xhtml" => Some(Kind::Html),
        "md" | "markdown" | "mdown" | "mkd" => Some(Kind::Markdown),
        "txt" | "text" | "rst" | "org" | "adoc" => Some(Kind::Text),
        _ => None,
    }
}

/// A local file read into memory, checked against the size limits, not yet parsed.
#[derive(Debug, Clone)]
pub struct FileSource {
    /// The path as given, for messages.
    pub item: String,
    /// The canonical absolute path: the document's identity.
    pub canonical: String,
    /// The kind its extension names.
    pub kind: Kind,
    /// The file name without extension: the title of last resort.
    pub stem: String,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// The file's metadata.
    pub meta: std::fs::Metadata,
}

impl FileSource {
    /// Parses the bytes into a document whose source is the canonical path.
    pub fn load(&self, opts: &LoadOptions) -> Result<Document> {
        self.load_reporting(opts, &mut |_| {})
    }

    /// Parses the bytes like [`FileSource::load`], telling `on_ocr` of each PDF page read by OCR.
    pub fn load_reporting(
        &self,
        opts: &LoadOptions,
        on_ocr: &mut dyn FnMut(OcrProgress),
    ) -> Result<Document> {
        let mut doc = load_bytes_reporting(&self.bytes, &self.item, self.kind, &self.stem, opts, on_ocr)?;
        doc.source = self.canonical.clone();
        Ok(doc)
    }

    /// BLAKE3 hash of the bytes.
    pub fn hash(&self) -> String {
        content_hash(&self.bytes)
    }
}

/// Reads the file at `path` after checking its type and size.
pub fn read_file(path: &Path, opts: &LoadOptions) -> Result<FileSource> {
    let item = path.display().to_string();
    let meta =
        std::fs::metadata(path).map_err(|source| IngestError::Io { path: path.to_path_buf(), source })?;
    if meta.is_dir() {
        return Err(IngestError::Unsupported {
            item,
            detail: Some("a folder where a file was expected".into()),
        });
    }
    let kind = kind_for_path(path).ok_or_else(|| IngestError::Unsupported {
        item: item.clone(),
        detail: path.extension().map(|e| format!(".{} files are not read", e.to_string_lossy())),
    })?;
    check_size(&item, kind, meta.len(), opts)?;
    let bytes = std::fs::read(path).map_err(|source| IngestError::Io { path: path.to_path_buf(), source })?;
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()).display().to_string();
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| item.clone());
    Ok(FileSource { item, canonical, kind, stem, bytes, meta })
}

/// Loads the file at `path`. The document's source is the canonical absolute path.
pub fn load_path(path: &Path, opts: &LoadOptions) -> Result<Document> {
    read_file(path, opts)?.load(opts)
}

fn check_size(item: &str, kind: Kind, len: u64, opts: &LoadOptions) -> Result<()> {
    let (limit, name) = match kind {
        Kind::Pdf | Kind::Epub => (opts.max_book_mb, "book"),
        _ => (opts.max_text_mb, "text"),
    };
    if len > limit * 1024 * 1024 {
        return Err(IngestError::TooLarge {
            item: item.to_string(),
            size_mb: len as f64 / (1024.0 * 1024.0),
            limit_mb: limit,
            kind: name,
        });
    }
    if len == 0 {
        return Err(IngestError::Empty { item: item.to_string() });
    }
    Ok(())
}

/// Loads a source from its bytes. `item` names it in errors and becomes the document's source;
/// `fallback_title` is used when the source names no title.
pub fn load_bytes(
    bytes: &[u8],
    item: &str,
    kind: Kind,
    fallback_title: &str,
    opts: &LoadOptions,
) -> Result<Document> {
    load_bytes_reporting(bytes, item, kind, fallback_title, opts, &mut |_| {})
}

/// Loads a source from its bytes like [`load_bytes`], telling `on_ocr` of each PDF page read by
/// OCR.
pub fn load_bytes_reporting(
    bytes: &[u8],
    item: &str,
    kind: Kind,
    fallback_title: &str,
    opts: &LoadOptions,
    on_ocr: &mut dyn FnMut(OcrProgress),
) -> Result<Document> {
    check_size(item, kind, bytes.len() as u64, opts)?;
    let mut doc = match kind {
        Kind::Pdf => crate::pdf::load_with_ocr(bytes, item, &opts.ocr, on_ocr)?,
        Kind::Epub => crate::epub::load(bytes, item)?,
        Kind::Html | Kind::Web | Kind::News => {
            let decoded = crate::text::decode(bytes, item)?;
            crate::html::load(&decoded.text, item)?
        }
        Kind::Markdown => {
            let decoded = crate::text::decode(bytes, item)?;
            crate::markdown::load(&decoded.text, item)?
        }
        Kind::Text => {
            let decoded = crate::text::decode(bytes, item)?;
            crate::text::load(&decoded.text, item, fallback_title)?
        }
    };
    if matches!(kind, Kind::Web | Kind::News) {
        doc.kind = kind;
    }
    if doc.title.trim().is_empty() {
        doc.title = fallback_title.to_string();
    }
    if !doc.has_text() {
        return Err(IngestError::NoText { item: item.to_string(), hint: None });
    }
    doc.source = item.to_string();
    doc.hash = content_hash(bytes);
    doc.byte_len = bytes.len() as u64;
    if doc.language.is_none() {
        doc.language = detect_language(&doc);
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_extension() {
        assert_eq!(kind_for_path(Path::new("a/B.PDF")), Some(Kind::Pdf));
        assert_eq!(kind_for_path(Path::new("x.md")), Some(Kind::Markdown));
        assert_eq!(kind_for_path(Path::new("x.exe")), None);
        assert_eq!(kind_for_path(Path::new("README")), None);
    }

    #[test]
    fn size_limits_name_the_file() {
        let opts = LoadOptions { max_text_mb: 1, max_book_mb: 1, ..LoadOptions::default() };
        let big = vec![b'a'; 2 * 1024 * 1024];
        let err = load_bytes(&big, "big.txt", Kind::Text, "big", &opts).unwrap_err();
        assert_eq!(err.reason_code(), "too_large");
        assert!(err.to_string().starts_with("big.txt: too large"));
    }

    #[test]
    fn text_document_gets_hash_and_language() {
        let text = "The quick brown fox jumps over the lazy dog, and then it runs far away into the forest.";
        let doc = load_bytes(text.as_bytes(), "fox.txt", Kind::Text, "fox", &LoadOptions::default()).unwrap();
        assert_eq!(doc.hash, content_hash(text.as_bytes()));
        assert_eq!(doc.language.as_deref(), Some("en"));
        assert_eq!(doc.source, "fox.txt");
    }
}
