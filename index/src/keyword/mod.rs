//! The keyword index: BM25 over chunk text, titles and headings, on tantivy.
//!
//! One writer at a time (tantivy's lock file in the index directory): [`KeywordIndex::open`]
//! takes it, [`KeywordIndex::open_reader`] does not and can search while another process writes;
//! searches see a writer's work after its [`commit`](KeywordIndex::commit) (at once in the
//! writing handle, within about a second elsewhere).
//!
//! Any text is a valid query: tantivy's query language is understood where it parses, and
//! anything it cannot parse is searched as plain words.
//!
//! Text is analysed by language: each chunk's title, headings and text go to the fields of its
//! language's analysis group (English and other languages tantivy can stem, stemmed; Chinese
//! segmented into words; Japanese and Korean into character pairs; anything else with the
//! configured analyzer), and a query is analysed by each group's analyzer for that group's
//! fields, so it meets every text cut the same way as itself. An index whose layout is not the
//! one this version builds (an older lore's, or another configured analyzer) is still searched
//! by a reader as it is; a writer recreates it empty and says so
//! ([`KeywordIndex::was_recreated`]), for its owner to fill again from the catalog.

mod analysis;
mod highlight;
mod query;
mod ranking;
mod schema;

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::directory::error::LockError;
use tantivy::indexer::IndexWriterOptions;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, TantivyError, Term};

pub use ranking::{KeywordRanking, RankedChunk};
use schema::is_known_analyzer;
use schema::{Fields, build_schema, fields, register_analyzers, schema_analyzer};

/// The filter of a keyword search: the same one the vector store takes, so a search can pass one
/// filter to both.
pub type KeywordFilter = crate::vector::VectorFilter;

/// Errors of the keyword index.
#[derive(Debug, thiserror::Error)]
pub enum KeywordError {
    /// Another writer (this process or another) holds the index.
    #[error("keyword index {} is in use by another lore process (one writer at a time)", .path.display())]
    Locked {
        /// The index directory.
        path: PathBuf,
    },
    /// A write on a handle opened with [`KeywordIndex::open_reader`].
    #[error("keyword index was opened read-only")]
    ReadOnly,
    /// The index on disk was built with another analyzer or an older schema, and cannot be read.
    #[error("keyword index {} was built differently ({reason}): run `lore reindex`", .path.display())]
    SchemaMismatch {
        /// The index directory.
        path: PathBuf,
        /// What differs.
        reason: String,
    },
    /// The configured analyzer is not one lore knows.
    #[error("unknown text analyzer '{0}' (use en_stem, default, or another <lang>_stem)")]
    UnknownAnalyzer(String),
    /// The index directory could not be created or read.
    #[error("keyword index {}: {source}", .path.display())]
    Io {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// tantivy reported an error.
    #[error("keyword index: {0}")]
    Engine(String),
}

pub(crate) fn engine(e: TantivyError) -> KeywordError {
    KeywordError::Engine(e.to_string().replace('\n', " "))
}

/// How the keyword index analyses and ranks text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KeywordConfig {
    /// Analyzer of the default group: text in its language, of unknown language, or in a
    /// language without an analyzer of its own. `en_stem` (English stemming), `default` (no
    /// stemming) or another `<code>_stem` of a language tantivy can stem (`de_stem`, `fr_stem`,
    /// ...; `STEM_ANALYZERS` in `keyword/schema.rs`). Fixed when the index is created.
    pub analyzer: String,
    /// Weight of a match in the document title relative to one in the text. The title is the
    /// same for every chunk of a document, so a strong boost ranks all of a document's chunks
    /// above the chunk that answers: on the Python FAQ set (document titles are page titles),
    /// nDCG@10 was 0.578 with 2.0, 0.644 with 1.0 and 0.677 with 0.1 (the default).
    pub title_boost: f32,
    /// Weight of a match in the heading path relative to one in the text.
    pub heading_boost: f32,
    /// Longest snippet, in characters.
    pub snippet_chars: usize,
    /// Memory the writer buffers before it writes a segment, in bytes.
    pub writer_memory: usize,
}

impl Default for KeywordConfig {
    fn default() -> Self {
        KeywordConfig {
            analyzer: "en_stem".into(),
            title_boost: 0.1,
            heading_boost: 1.5,
            snippet_chars: 200,
            writer_memory: 50_000_000,
        }
    }
}

/// One chunk as the keyword index sees it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeywordDoc {
    /// The catalog's chunk id.
    pub chunk_id: i64,
    /// The catalog's document id.
    pub doc_id: i64,
    /// Title of the document.
    pub title: String,
    /// Headings above the chunk, outermost first.
    pub heading_path: Vec<String>,
    /// The chunk's text.
    pub text: String,
    /// Document kind (`pdf`, `epub`, `html`, ...).
    pub kind: String,
    /// Tags of the document.
    pub tags: Vec<String>,
    /// Language code of the chunk, if known: it picks the analysis group.
    pub lang: Option<String>,
    /// Publication time, seconds since the Unix epoch (UTC).
    pub published: Option<i64>,
    /// Time the document was added, seconds since the Unix epoch (UTC).
    pub added: i64,
}

/// A passage of a hit's text with the matched terms located.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeywordSnippet {
    /// The passage.
    pub text: String,
    /// Byte ranges of `text` that matched the query, in order, not overlapping.
    pub highlights: Vec<Range<usize>>,
}

impl KeywordSnippet {
    /// The passage with each match between `open` and `close`.
    pub fn marked_with(&self, open: &str, close: &str) -> String {
        let mut out =
            String::with_capacity(self.text.len() + self.highlights.len() * (open.len() + close.len()));
        let mut at = 0;
        for range in &self.highlights {
            let (Some(before), Some(matched)) =
                (self.text.get(at..range.start), self.text.get(range.clone()))
            else {
                continue;
            };
            out.push_str(before);
            out.push_str(open);
            out.push_str(matched);
            out.push_str(close);
            at = range.end;
        }
        out.push_str(self.text.get(at..).unwrap_or_default());
        out
    }

    /// The passage with each match in `**` (Markdown bold).
    pub fn marked(&self) -> String {
        self.marked_with("**", "**")
    }
}

/// One keyword search result.
#[derive(Debug, Clone, PartialEq)]
pub struct KeywordHit {
    /// The catalog's chunk id.
    pub chunk_id: i64,
    /// The chunk's document.
    pub doc_id: i64,
    /// BM25 score (higher is better; comparable only within one search).
    pub score: f32,
    /// The best passage of the chunk's text for the query.
    pub snippet: KeywordSnippet,
}

/// The keyword index in one directory.
pub struct KeywordIndex {
    path: PathBuf,
    index: Index,
    reader: IndexReader,
    writer: Option<Mutex<IndexWriter>>,
    fields: Fields,
    config: KeywordConfig,
    recreated: bool,
}

impl std::fmt::Debug for KeywordIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeywordIndex")
            .field("path", &self.path)
            .field("writable", &self.writer.is_some())
            .field("config", &self.config)
            .finish()
    }
}

impl KeywordIndex {
    /// Opens the index in `dir` for writing, creating it (and the directory) if there is none.
    /// Fails with [`KeywordError::Locked`] while another writer holds it.
    ///
    /// An index built with another layout is recreated empty (the catalog, not this index, is
    /// the source of truth): [`KeywordIndex::was_recreated`] then tells the caller to fill it.
    pub fn open(dir: &Path, config: &KeywordConfig) -> Result<KeywordIndex, KeywordError> {
        let options = IndexWriterOptions::builder()
            .num_worker_threads(1)
            .memory_budget_per_thread(config.writer_memory.max(15_000_000))
            .build();
        let (index, fields, recreated) = match open_index(dir, config, true)? {
            Opened::Current(index, fields) => (index, fields, false),
            Opened::Other(index, _) | Opened::Unreadable(index) => {
                // Take the writer's lock first: another process may still be writing it.
                let old = index.writer_with_options::<TantivyDocument>(options.clone());
                drop(old.map_err(|e| lock_error(dir, e))?);
                drop(index);
                recreate_dir(dir)?;
                match open_index(dir, config, true)? {
                    Opened::Current(index, fields) => (index, fields, true),
                    Opened::Other(..) | Opened::Unreadable(_) => {
                        return Err(KeywordError::Engine("a recreated index has another layout".into()));
                    }
                }
            }
        };
        let writer = index.writer_with_options(options).map_err(|e| lock_error(dir, e))?;
        let mut opened = Self::with_writer(dir, index, fields, config, Some(writer))?;
        opened.recreated = recreated;
        Ok(opened)
    }

    /// Opens the index in `dir` for searching only, without taking the writer's lock. The
    /// index must exist. One built with another layout is searched as it was built.
    pub fn open_reader(dir: &Path, config: &KeywordConfig) -> Result<KeywordIndex, KeywordError> {
        let (index, fields) = match open_index(dir, config, false)? {
            Opened::Current(index, fields) | Opened::Other(index, fields) => (index, fields),
            Opened::Unreadable(index) => {
                let reason = match schema_analyzer(&index.schema()) {
                    Some(stored) if stored != config.analyzer => {
                        format!("analyzer {stored}, configured {}", config.analyzer)
                    }
                    _ => "an unknown schema".to_string(),
                };
                return Err(KeywordError::SchemaMismatch { path: dir.to_path_buf(), reason });
            }
        };
        Self::with_writer(dir, index, fields, config, None)
    }

    /// True when [`KeywordIndex::open`] found an index of another layout and recreated it
    /// empty: whatever it held must be added again.
    pub fn was_recreated(&self) -> bool {
        self.recreated
    }

    /// Names the layout of the index: the analyzers of its groups. Two indexes with the same
    /// layout analyse every text alike.
    pub fn layout(&self) -> String {
        let groups: Vec<String> = self
            .fields
            .groups
            .iter()
            .map(|g| {
                if g.language.is_empty() {
                    g.analyzer.clone()
                } else {
                    format!("{}={}", g.language, g.analyzer)
                }
            })
            .collect();
        format!("chunk-language groups: {}", groups.join(","))
    }

    /// The layout [`KeywordIndex::open`] builds for `config` (see [`KeywordIndex::layout`]).
    pub fn layout_for(config: &KeywordConfig) -> String {
        let groups: Vec<String> = schema::layout(&config.analyzer)
            .into_iter()
            .map(
                |(language, analyzer)| {
                    if language.is_empty() { analyzer } else { format!("{language}={analyzer}") }
                },
            )
            .collect();
        format!("chunk-language groups: {}", groups.join(","))
    }

    fn with_writer(
        dir: &Path,
        index: Index,
        fields: Fields,
        config: &KeywordConfig,
        writer: Option<IndexWriter>,
    ) -> Result<KeywordIndex, KeywordError> {
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::OnCommitWithDelay)
            .try_into()
            .map_err(engine)?;
        Ok(KeywordIndex {
            path: dir.to_path_buf(),
            index,
            reader,
            writer: writer.map(Mutex::new),
            fields,
            config: config.clone(),
            recreated: false,
        })
    }

    /// The index directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True for a handle that can write.
    pub fn is_writable(&self) -> bool {
        self.writer.is_some()
    }

    fn with_writer_locked<T>(
        &self,
        f: impl FnOnce(&mut IndexWriter) -> Result<T, KeywordError>,
    ) -> Result<T, KeywordError> {
        let writer = self.writer.as_ref().ok_or(KeywordError::ReadOnly)?;
        let mut guard = writer.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut guard)
    }

    /// Adds chunks, replacing any indexed chunk with the same chunk id. Visible to searches
    /// after [`commit`](Self::commit).
    pub fn add(&self, docs: &[KeywordDoc]) -> Result<(), KeywordError> {
        let f = &self.fields;
        self.with_writer_locked(|writer| {
            for d in docs {
                writer.delete_term(Term::from_field_i64(f.chunk_id, d.chunk_id));
                let group = f.group_for(d.lang.as_deref());
                let mut doc = TantivyDocument::new();
                doc.add_i64(f.chunk_id, d.chunk_id);
                doc.add_i64(f.doc_id, d.doc_id);
                doc.add_text(group.title, &d.title);
                for heading in &d.heading_path {
                    doc.add_text(group.heading, heading);
                }
                doc.add_text(group.text, &d.text);
                doc.add_text(f.kind, &d.kind);
                for tag in &d.tags {
                    doc.add_text(f.tag, tag);
                }
                if let Some(lang) = &d.lang {
                    doc.add_text(f.lang, lang);
                }
                if let Some(published) = d.published {
                    doc.add_i64(f.published, published);
                }
                doc.add_i64(f.added, d.added);
                writer.add_document(doc).map_err(engine)?;
            }
            Ok(())
        })
    }

    /// Removes every chunk of a document (at the next commit).
    pub fn delete_doc(&self, doc_id: i64) -> Result<(), KeywordError> {
        let field = self.fields.doc_id;
        self.with_writer_locked(|writer| {
            writer.delete_term(Term::from_field_i64(field, doc_id));
            Ok(())
        })
    }

    /// Removes chunks by id (at the next commit); unknown ids are ignored.
    pub fn delete_chunks(&self, chunk_ids: &[i64]) -> Result<(), KeywordError> {
        let field = self.fields.chunk_id;
        self.with_writer_locked(|writer| {
            for id in chunk_ids {
                writer.delete_term(Term::from_field_i64(field, *id));
            }
            Ok(())
        })
    }

    /// Makes searches see the last commit, also one made by another process a moment ago.
    pub fn refresh(&self) -> Result<(), KeywordError> {
        self.reader.reload().map_err(engine)
    }

    /// Makes every change so far durable and visible to searches.
    pub fn commit(&self) -> Result<(), KeywordError> {
        self.with_writer_locked(|writer| writer.commit().map(|_| ()).map_err(engine))?;
        self.reader.reload().map_err(engine)
    }

    /// Drops changes made since the last commit.
    pub fn rollback(&self) -> Result<(), KeywordError> {
        self.with_writer_locked(|writer| writer.rollback().map(|_| ()).map_err(engine))
    }

    /// Removes every chunk and commits.
    pub fn clear(&self) -> Result<(), KeywordError> {
        self.with_writer_locked(|writer| writer.delete_all_documents().map(|_| ()).map_err(engine))?;
        self.commit()
    }

    /// Number of committed chunks.
    pub fn count(&self) -> Result<u64, KeywordError> {
        Ok(self.reader.searcher().num_docs())
    }

    /// Chunk ids of all committed chunks, ascending (for consistency checks).
    pub fn all_ids(&self) -> Result<Vec<i64>, KeywordError> {
        let searcher = self.reader.searcher();
        let mut ids = Vec::new();
        for segment in searcher.segment_readers() {
            let column = segment.fast_fields().i64(schema::CHUNK_ID).map_err(engine)?;
            ids.extend(segment.doc_ids_alive().filter_map(|doc| column.first(doc)));
        }
        ids.sort_unstable();
        Ok(ids)
    }

    /// The stored text of every committed chunk as `(chunk id, text)`, ascending by chunk id,
    /// duplicates kept (for checks that the index holds what the catalog holds).
    pub fn stored_texts(&self) -> Result<Vec<(i64, String)>, KeywordError> {
        let searcher = self.reader.searcher();
        let mut out = Vec::new();
        for (ordinal, segment) in searcher.segment_readers().iter().enumerate() {
            let column = segment.fast_fields().i64(schema::CHUNK_ID).map_err(engine)?;
            for doc in segment.doc_ids_alive() {
                let Some(id) = column.first(doc) else { continue };
                let address = tantivy::DocAddress::new(ordinal as u32, doc);
                let stored: TantivyDocument = searcher.doc(address).map_err(engine)?;
                let text = self
                    .fields
                    .groups
                    .iter()
                    .find_map(|g| stored.get_first(g.text).and_then(|v| tantivy::schema::Value::as_str(&v)))
                    .unwrap_or_default();
                out.push((id, text.to_string()));
            }
        }
        out.sort_by_key(|(id, _)| *id);
        Ok(out)
    }

    /// The `k` best chunks for `query` among those `filter` keeps, best first, with snippets.
    /// Never fails on the query's syntax.
    pub fn search(
        &self,
        query: &str,
        k: usize,
        filter: &KeywordFilter,
    ) -> Result<Vec<KeywordHit>, KeywordError> {
        let ranking = self.rank(query, k, filter)?;
        let ids: Vec<i64> = ranking.hits().map(|h| h.chunk_id).collect();
        let mut snippets = ranking.snippets(&ids)?;
        Ok(ranking
            .hits()
            .map(|h| KeywordHit {
                chunk_id: h.chunk_id,
                doc_id: h.doc_id,
                score: h.score,
                snippet: snippets.remove(&h.chunk_id).unwrap_or_default(),
            })
            .collect())
    }

    /// The `k` best chunks for `query` among those `filter` keeps, best first, without their
    /// snippets (ask the ranking for those of the hits shown). Never fails on the query's syntax.
    pub fn rank(
        &self,
        query: &str,
        k: usize,
        filter: &KeywordFilter,
    ) -> Result<KeywordRanking, KeywordError> {
        let searcher = self.reader.searcher();
        let groups = query::populated_groups(&self.fields, &searcher);
        let parsed = query::user_query(&self.index, &groups, &self.config, query)?;
        let mut hits = Vec::new();
        if k > 0 {
            let full = query::filtered(parsed.box_clone(), &self.fields, filter);
            let top =
                searcher.search(full.as_ref(), &TopDocs::with_limit(k).order_by_score()).map_err(engine)?;
            let mut columns = HashMap::new();
            for (score, address) in top {
                let (chunk_column, doc_column) = match columns.entry(address.segment_ord) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        let fast = searcher.segment_reader(address.segment_ord).fast_fields();
                        let chunk = fast.i64(schema::CHUNK_ID).map_err(engine)?;
                        let doc = fast.i64(schema::DOC_ID).map_err(engine)?;
                        e.insert((chunk, doc))
                    }
                };
                let (Some(chunk_id), Some(doc_id)) =
                    (chunk_column.first(address.doc_id), doc_column.first(address.doc_id))
                else {
                    return Err(KeywordError::Engine("indexed chunk without its ids".into()));
                };
                hits.push((RankedChunk { chunk_id, doc_id, score }, address));
            }
        }
        Ok(KeywordRanking {
            searcher,
            query: parsed,
            fields: self.fields.clone(),
            snippet_chars: self.config.snippet_chars,
            hits,
        })
    }
}

impl KeywordIndex {
    /// The distinct terms of `text` as the text field of `language`'s analysis group analyses
    /// them (the default group's for an unknown language), in order of first appearance.
    pub(crate) fn analyse(&self, language: Option<&str>, text: &str) -> Result<Vec<String>, KeywordError> {
        use tantivy::tokenizer::TokenStream as _;
        let field = self.fields.group_for(language).text;
        let mut analyzer = self.index.tokenizer_for_field(field).map_err(engine)?;
        let mut stream = analyzer.token_stream(text);
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        while stream.advance() {
            let term = &stream.token().text;
            if !term.is_empty() && seen.insert(term.clone()) {
                out.push(term.clone());
            }
        }
        Ok(out)
    }

    /// The number of indexed chunks, and how many of them hold each of `terms` (analysed as
    /// [`KeywordIndex::analyse`] gives them) in the text field of `language`'s group.
    pub(crate) fn document_frequencies(
        &self,
        language: Option<&str>,
        terms: &[String],
    ) -> Result<(u64, Vec<u64>), KeywordError> {
        let searcher = self.reader.searcher();
        let field = self.fields.group_for(language).text;
        let mut out = Vec::with_capacity(terms.len());
        for term in terms {
            out.push(searcher.doc_freq(&Term::from_field_text(field, term)).map_err(engine)?);
        }
        Ok((searcher.num_docs(), out))
    }
}

/// An index opened: in the layout the configuration asks for, in another that can be read, or
/// in one this version cannot search.
enum Opened {
    Current(Index, Fields),
    Other(Index, Fields),
    Unreadable(Index),
}

fn lock_error(dir: &Path, e: TantivyError) -> KeywordError {
    match e {
        TantivyError::LockFailure(LockError::LockBusy, _) => KeywordError::Locked { path: dir.to_path_buf() },
        other => engine(other),
    }
}

/// Empties the index directory (its files are all tantivy's).
fn recreate_dir(dir: &Path) -> Result<(), KeywordError> {
    let io = |e| KeywordError::Io { path: dir.to_path_buf(), source: e };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let removed =
            if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
        removed.map_err(|e| KeywordError::Io { path: path.clone(), source: e })?;
    }
    Ok(())
}

/// Opens (or with `create`, creates) the index and compares its schema with the configured one.
fn open_index(dir: &Path, config: &KeywordConfig, create: bool) -> Result<Opened, KeywordError> {
    if !is_known_analyzer(&config.analyzer) {
        return Err(KeywordError::UnknownAnalyzer(config.analyzer.clone()));
    }
    let expected = build_schema(&config.analyzer);
    let exists = dir.join("meta.json").is_file();
    let index = if exists {
        Index::open_in_dir(dir).map_err(engine)?
    } else if create {
        std::fs::create_dir_all(dir).map_err(|e| KeywordError::Io { path: dir.to_path_buf(), source: e })?;
        Index::create_in_dir(dir, expected.clone()).map_err(engine)?
    } else {
        return Err(KeywordError::Io {
            path: dir.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no keyword index here"),
        });
    };
    let schema = index.schema();
    register_analyzers(&index);
    let Some(fields) = fields(&schema) else { return Ok(Opened::Unreadable(index)) };
    if fields.groups.iter().any(|g| index.tokenizers().get(&g.analyzer).is_none()) {
        return Ok(Opened::Unreadable(index));
    }
    Ok(if schema == expected { Opened::Current(index, fields) } else { Opened::Other(index, fields) })
}

/// The start of `text`, cut at a word boundary near `max_chars` characters.
fn leading_text(text: &str, max_chars: usize) -> String {
    let end = text.char_indices().nth(max_chars).map(|(i, _)| i).unwrap_or(text.len());
    if end == text.len() {
        return text.to_string();
    }
    let cut = text[..end].rfind(char::is_whitespace).filter(|&i| i > end / 2).unwrap_or(end);
    text[..cut].trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marked_puts_markers_around_matches() {
        let s = KeywordSnippet { text: "a tail call here".into(), highlights: vec![2..6, 7..11] };
        assert_eq!(s.marked(), "a **tail** **call** here");
        assert_eq!(s.marked_with("[", "]"), "a [tail] [call] here");
        let none = KeywordSnippet { text: "plain".into(), highlights: vec![] };
        assert_eq!(none.marked(), "plain");
    }

    #[test]
    fn leading_text_cuts_at_a_word() {
        assert_eq!(leading_text("short", 10), "short");
        assert_eq!(leading_text("one two three four", 10), "one two");
        assert_eq!(leading_text("ééééé ééééé", 7), "ééééé");
    }

    #[test]
    fn stored_texts_are_the_committed_chunks_texts_in_any_language_group() {
        let dir = tempfile::tempdir().unwrap();
        let index = KeywordIndex::open(&dir.path().join("kw"), &KeywordConfig::default()).unwrap();
        let doc = |chunk_id: i64, text: &str, lang: Option<&str>| KeywordDoc {
            chunk_id,
            doc_id: chunk_id >> 20,
            title: "t".into(),
            heading_path: vec![],
            text: text.into(),
            kind: "text".into(),
            tags: vec![],
            lang: lang.map(str::to_string),
            published: None,
            added: 0,
        };
        let whale = "\u{9cb8}\u{9c7c}".to_string();
        index.add(&[doc(3, "whales of the south", Some("en")), doc(1, &whale, Some("zh"))]).unwrap();
        index.commit().unwrap();
        // Uncommitted work is not stored yet; a replaced chunk shows its new text once.
        index.add(&[doc(3, "whales of the north", Some("en")), doc(5, "pending", None)]).unwrap();
        assert_eq!(
            index.stored_texts().unwrap(),
            vec![(1, whale.clone()), (3, "whales of the south".into())]
        );
        index.commit().unwrap();
        assert_eq!(
            index.stored_texts().unwrap(),
            vec![(1, whale), (3, "whales of the north".into()), (5, "pending".into())]
        );
    }

    #[test]
    fn analyzers_are_known() {
        assert!(is_known_analyzer("en_stem"));
        assert!(is_known_analyzer("de_stem"));
        assert!(is_known_analyzer("default"));
        assert!(!is_known_analyzer("klingon"));
    }
}
