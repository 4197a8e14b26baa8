//! Loading a source into a [`Document`]: format detection, size limits, hashing, language.

use std::path::Path;

use crate::document::{Document, Kind};
use crate::error::{IngestError, Result};
use crate::hash::content_hash;

/// Limits and choices for loading.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Largest text, Markdown or HTML file accepted, in MB.
    pub max_text_mb: u64,
    /// Largest PDF or EPUB accepted, in MB.
    pub max_book_mb: u64,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions { max_text_mb: 16, max_book_mb: 512 }
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
        let mut doc = load_bytes(&self.bytes, &self.item, self.kind, &self.stem, opts)?;
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
    check_size(item, kind, bytes.len() as u64, opts)?;
    let mut doc = match kind {
        Kind::Pdf => crate::pdf::load(bytes, item)?,
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

/// Detects the main language of a document from a sample of its text (ISO 639-1 code).
pub fn detect_language(doc: &Document) -> Option<String> {
    let mut sample = String::new();
    for s in &doc.sections {
        let rest = 8192usize.saturating_sub(sample.len());
        if rest == 0 {
            break;
        }
        let mut end = rest.min(s.text.len());
        while !s.text.is_char_boundary(end) {
            end -= 1;
        }
        sample.push_str(&s.text[..end]);
        sample.push('\n');
    }
    let info = whatlang::detect(&sample)?;
    if !info.is_reliable() && info.confidence() < 0.5 {
        return None;
    }
    iso639_1(info.lang()).map(str::to_string)
}

/// Letters of the scripts that decide a CJK language, counted in a text.
#[derive(Debug, Default, Clone, Copy)]
struct ScriptCounts {
    /// Han ideographs.
    han: usize,
    /// Hiragana and katakana.
    kana: usize,
    /// Hangul syllables and jamo.
    hangul: usize,
    /// Every alphabetic character, these included.
    letters: usize,
}

fn script_counts(text: &str) -> ScriptCounts {
    let mut n = ScriptCounts::default();
    for c in text.chars() {
        match c as u32 {
            0x3040..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9D => n.kana += 1,
            0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF => n.han += 1,
            0x1100..=0x11FF | 0x3130..=0x318F | 0xAC00..=0xD7AF => n.hangul += 1,
            _ => {}
        }
        if c.is_alphabetic() {
            n.letters += 1;
        }
    }
    n
}

/// The CJK language a text's scripts say it is in, when at least a tenth of its letters are
/// Han, kana or Hangul: Japanese when it has kana, Korean when Hangul outnumbers Han, else
/// Chinese, except that Han alone in a Japanese or Korean document is taken to be that
/// document's language. Latin words inside CJK text (names, commands) do not change the answer.
fn cjk_language(text: &str, fallback: Option<&str>) -> Option<&'static str> {
    let n = script_counts(text);
    let cjk = n.han + n.kana + n.hangul;
    if cjk == 0 || cjk * 10 < n.letters {
        return None;
    }
    Some(if n.kana > 0 && n.kana * 20 >= cjk {
        "ja"
    } else if n.hangul > n.han {
        "ko"
    } else {
        match fallback {
            Some("ja") => "ja",
            Some("ko") => "ko",
            _ => "zh",
        }
    })
}

/// The language of one chunk of a document (ISO 639-1): decided by script for Chinese,
/// Japanese and Korean; otherwise detected when the detection is reliable, else the document's
/// language. A manual whose metadata says German but whose chunks are English text gets
/// English chunks.
pub fn chunk_language(text: &str, doc_language: Option<&str>) -> Option<String> {
    if let Some(lang) = cjk_language(text, doc_language) {
        return Some(lang.to_string());
    }
    if let Some(info) = whatlang::detect(text)
        && info.is_reliable()
        && let Some(code) = iso639_1(info.lang())
    {
        // A CJK document's chunk of Latin text (code, a quotation) is analysed as Latin text.
        return Some(code.to_string());
    }
    doc_language.map(str::to_string)
}

/// The language of a search query (ISO 639-1), when it can be told: Chinese, Japanese and
/// Korean by script (a query of two characters is enough), other languages only when the
/// detector is sure. Short Latin-script queries usually give `None`.
pub fn query_language(query: &str) -> Option<String> {
    if let Some(lang) = cjk_language(query, None) {
        return Some(lang.to_string());
    }
    let info = whatlang::detect(query)?;
    if !info.is_reliable() {
        return None;
    }
    iso639_1(info.lang()).map(str::to_string)
}

fn iso639_1(lang: whatlang::Lang) -> Option<&'static str> {
    use whatlang::Lang::*;
    Some(match lang {
        Eng => "en",
        Deu => "de",
        Fra => "fr",
        Spa => "es",
        Ita => "it",
        Por => "pt",
        Nld => "nl",
        Rus => "ru",
        Ukr => "uk",
        Pol => "pl",
        Ces => "cs",
        Swe => "sv",
        Dan => "da",
        Nob => "no",
        Fin => "fi",
        Tur => "tr",
        Cmn => "zh",
        Jpn => "ja",
        Kor => "ko",
        Ara => "ar",
        Heb => "he",
        Hin => "hi",
        Ell => "el",
        Hun => "hu",
        Ron => "ro",
        Vie => "vi",
        Tha => "th",
        Ind => "id",
        _ => return None,
    })
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
        let opts = LoadOptions { max_text_mb: 1, max_book_mb: 1 };
        let big = vec![b'a'; 2 * 1024 * 1024];
        let err = load_bytes(&big, "big.txt", Kind::Text, "big", &opts).unwrap_err();
        assert_eq!(err.reason_code(), "too_large");
        assert!(err.to_string().starts_with("big.txt: too large"));
    }

    #[test]
    fn chunks_and_queries_get_their_script_language() {
        assert_eq!(chunk_language("我们使用人工智能来理解文档并回答问题。", None).as_deref(), Some("zh"));
        assert_eq!(chunk_language("このマニュアルについて説明します。", Some("en")).as_deref(), Some("ja"));
        assert_eq!(chunk_language("한국어 문서를 검색합니다", None).as_deref(), Some("ko"));
        // Han alone in a Japanese document is Japanese.
        assert_eq!(chunk_language("仮想機械試験", Some("ja")).as_deref(), Some("ja"));
        // Chinese text with English names in it is still Chinese.
        let mixed = "使用 ChatGPT 和 Midjourney 生成内容的方法和技巧";
        assert_eq!(chunk_language(mixed, Some("zh")).as_deref(), Some("zh"));
        // English text in a document whose metadata says German is English.
        let english = "When the Live Systems Project was initiated, there were already several \
                       Debian based live systems available and they were doing a great job.";
        assert_eq!(chunk_language(english, Some("de")).as_deref(), Some("en"));
        // Too little to tell: the document's language.
        assert_eq!(chunk_language("x = 1", Some("de")).as_deref(), Some("de"));
        assert_eq!(query_language("人工智能").as_deref(), Some("zh"));
        assert_eq!(query_language("ライブシステム").as_deref(), Some("ja"));
        assert_eq!(query_language("tail call"), None);
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
