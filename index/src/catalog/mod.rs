//! The library catalog in SQLite: the source of truth for roots, documents, sections, chunks,
//! tags, the ingest journal and library metadata. Tantivy and Qdrant are projections of it.
//!
//! The database runs in WAL mode, so readers never block on the one writer. Every change to a
//! document happens in one transaction that also records the document in the journal; the
//! derived indexes are brought in step afterwards and the journal entry is cleared last.

mod conversations;
mod copies;
mod error;
mod feeds;
mod pending;
mod roots;
mod schema;
mod summaries;
mod types;

use std::path::Path;

use lore_ingest::{Chunk, Document};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::layout;

pub use conversations::{ConversationSummary, NewTurn, Turn};
pub use copies::CopyPath;
pub use error::{CatalogError, Result};
pub use feeds::{Feed, FeedItemRecord, FeedSettings, FetchRecord, FullText};
pub use roots::{FailedFile, TrackedDoc};
pub use summaries::SectionSummary;
pub use types::{
    DocSummary, FileStat, JournalEntry, JournalOp, ListFilter, NewDocument, Root, SectionInfo, StoredChunk,
    Upsert,
};

/// Bits of a chunk id that hold the chunk's ordinal; the document id fills the bits above.
pub const ORDINAL_BITS: u32 = 24;

/// The deterministic id of chunk `ordinal` of document `doc_id`.
pub fn chunk_id(doc_id: i64, ordinal: u32) -> i64 {
    (doc_id << ORDINAL_BITS) | i64::from(ordinal & ((1 << ORDINAL_BITS) - 1))
}

/// The document id a chunk id belongs to.
pub fn doc_of_chunk(chunk_id: i64) -> i64 {
    chunk_id >> ORDINAL_BITS
}

/// The SQLite catalog.
pub struct Catalog {
    conn: Connection,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog").field("path", &self.conn.path()).finish()
    }
}

/// How long a connection waits for another process's lock before giving up.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Prepared statements kept per connection: every statement a search or a listing repeats stays
/// parsed.
const STATEMENT_CACHE: usize = 64;

/// Puts the database in WAL mode unless it already is.
///
/// Switching needs the database to itself, and SQLite reports a busy database at once here
/// instead of calling the busy handler; so while another process has a new catalog open (a
/// reader looking at the library the first `lore add` is creating) the switch is retried until
/// [`BUSY_TIMEOUT`]. The mode is stored in the file, so only the first opener ever switches.
fn use_wal(conn: &Connection) -> Result<()> {
    let started = std::time::Instant::now();
    let mut pause = std::time::Duration::from_millis(1);
    loop {
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        if mode.eq_ignore_ascii_case("wal") {
            return Ok(());
        }
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Ok(()) => return Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && started.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(std::time::Duration::from_millis(50));
            }
            Err(e) => return Err(CatalogError::classify(e)),
        }
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Catalog {
    /// Opens (creating and migrating as needed) the catalog at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        // Created for its owner alone (SQLite gives the `-wal` and `-shm` files the same mode);
        // if this fails, opening it reports why.
        let _ = crate::private::create_private_file(path);
        let conn = Connection::open(path)
            .map_err(|source| CatalogError::Open { path: path.to_path_buf(), source })?;
        Self::setup(conn)
    }

    /// Opens the catalog at `path` for reading only; it must exist.
    pub fn open_read_only(path: &Path) -> Result<Self> {
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)
            .map_err(|source| CatalogError::Open { path: path.to_path_buf(), source })?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "foreign_keys", true)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let supported = schema::MIGRATIONS.len() as i64;
        if version > supported {
            return Err(CatalogError::TooNew { found: version, supported });
        }
        if version < supported {
            // A catalog written by an older lore: bring its schema up to date (small additive
            // migrations in one transaction, safe beside another process), then read.
            drop(conn);
            Self::open(path).map_err(|e| CatalogError::TooOld { found: version, reason: e.to_string() })?;
            return Self::open_read_only(path);
        }
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(Catalog { conn })
    }

    /// Opens (creating if needed) the catalog of the library directory `home` (see
    /// [`crate::layout`]).
    pub fn open_home(home: &Path) -> Result<Self> {
        Self::open(&layout::catalog_path(home))
    }

    /// Opens the catalog of the library directory `home` for reading only; it must exist.
    pub fn open_read_only_home(home: &Path) -> Result<Self> {
        Self::open_read_only(&layout::catalog_path(home))
    }

    /// An in-memory catalog, for tests.
    pub fn open_in_memory() -> Result<Self> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(mut conn: Connection) -> Result<Self> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        use_wal(&conn)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let supported = schema::MIGRATIONS.len() as i64;
        if version > supported {
            return Err(CatalogError::TooNew { found: version, supported });
        }
        if version < supported {
            // Another process may be setting up the same catalog (a reader opening a library
            // the first `lore add` is creating): take the write lock first, then read the
            // version again under it.
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(version as usize) {
                tx.execute_batch(sql)?;
                tx.pragma_update(None, "user_version", i as i64 + 1)?;
            }
            tx.commit().map_err(CatalogError::classify)?;
        }
        Ok(Catalog { conn })
    }

    /// A value from the metadata table.
    pub fn meta_get(&self, key: &str) -> Result<Option<String>> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    /// Sets a value in the metadata table.
    pub fn meta_set(&self, key: &str, value: &str) -> Result<()> {
        self.conn
            .execute("INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])
            .map_err(CatalogError::classify)?;
        Ok(())
    }

    /// Records a source root (a file or folder given to `add`), merging tags; returns its id.
    pub fn upsert_root(&self, path: &str, kind: &str, tags: &[String]) -> Result<i64> {
        let existing: Option<(i64, String)> = self
            .conn
            .query_row("SELECT id, tags FROM roots WHERE path = ?1", [path], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((id, old)) = existing {
            let mut all: Vec<String> = serde_json::from_str(&old)?;
            for t in tags {
                if !all.contains(t) {
                    all.push(t.clone());
                }
            }
            self.conn.execute(
                "UPDATE roots SET tags = ?1 WHERE id = ?2",
                params![serde_json::to_string(&all)?, id],
            )?;
            return Ok(id);
        }
        self.conn
            .execute(
                "INSERT INTO roots(path, kind, tags, added_at) VALUES (?1, ?2, ?3, ?4)",
                params![path, kind, serde_json::to_string(tags)?, now()],
            )
            .map_err(CatalogError::classify)?;
        Ok(self.conn.last_insert_rowid())
    }

    /// All source roots.
    pub fn roots(&self) -> Result<Vec<Root>> {
        let mut stmt = self.conn.prepare(&format!("{} ORDER BY path", types::ROOT_SELECT))?;
        let rows = stmt.query_map([], types::root_from_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    /// The id and content hash of the document with this canonical source, if present.
    pub fn lookup_source(&self, source: &str) -> Result<Option<(i64, String)>> {
        id_and_hash(&self.conn, source)
    }

    /// The file size and modification time recorded for a source, for a cheap unchanged check.
    pub fn file_stat(&self, source: &str) -> Result<Option<FileStat>> {
        let row: Option<(Option<i64>, Option<i64>)> = self
            .conn
            .query_row("SELECT file_mtime, file_size FROM documents WHERE source = ?1", [source], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        Ok(row.and_then(|(mtime, size)| FileStat::from_columns(mtime, size)))
    }

    /// Writes a document and its chunks in one transaction and journals it for indexing; its
    /// chunks are recorded as awaiting their vectors (see [`Catalog::vectors_pending`]).
    ///
    /// A source already present with the same content hash (and not awaiting repair) is left as
    /// it is, gaining any new tags; a changed one keeps its id and has its sections and chunks
    /// replaced. The caller indexes the document and then calls [`Catalog::finish`].
    pub fn begin_upsert(&mut self, new: &NewDocument<'_>) -> Result<Upsert> {
        let tx = self.conn.transaction()?;
        let existing = id_and_hash(&tx, &new.doc.source)?;
        let pending: bool = match existing {
            Some((id, _)) => {
                tx.query_row("SELECT COUNT(*) FROM journal WHERE doc_id = ?1", [id], |r| r.get::<_, i64>(0))?
                    > 0
            }
            None => false,
        };
        let outcome = match existing {
            Some((id, hash)) if hash == new.doc.hash && !pending => {
                insert_tags(&tx, id, new.tags)?;
                if let Some(stat) = new.file {
                    tx.execute(
                        "UPDATE documents SET file_mtime = ?1, file_size = ?2 WHERE id = ?3",
                        params![stat.mtime, stat.size as i64, id],
                    )?;
                }
                tx.commit().map_err(CatalogError::classify)?;
                return Ok(Upsert::Unchanged(id));
            }
            Some((id, _)) => {
                update_document(&tx, id, new)?;
                tx.execute("DELETE FROM sections WHERE doc_id = ?1", [id])?;
                tx.execute("DELETE FROM chunks WHERE doc_id = ?1", [id])?;
                // Summaries of the old version no longer describe the document.
                tx.execute("DELETE FROM section_summaries WHERE doc_id = ?1", [id])?;
                Upsert::Replaced(id)
            }
            None => Upsert::Added(insert_document(&tx, new)?),
        };
        let id = outcome.doc_id();
        insert_tags(&tx, id, new.tags)?;
        insert_sections(&tx, id, new.doc)?;
        insert_chunks(&tx, id, new.chunks)?;
        // Every chunk awaits its vector until the second phase of the add embeds it.
        tx.execute(
            "INSERT OR IGNORE INTO vectors_pending(chunk_id) SELECT id FROM chunks WHERE doc_id = ?1",
            [id],
        )?;
        tx.execute(
            "INSERT INTO journal(doc_id, op, started_at) VALUES (?1, 'index', ?2)
             ON CONFLICT(doc_id) DO UPDATE SET op = 'index', started_at = excluded.started_at",
            params![id, now()],
        )?;
        tx.commit().map_err(CatalogError::classify)?;
        Ok(outcome)
    }

    /// Clears a document's journal entry once the derived indexes hold it, making its new
    /// version visible at the next [`Catalog::visible_seq`].
    pub fn finish(&self, doc_id: i64) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        let cleared = tx.execute("DELETE FROM journal WHERE doc_id = ?1 AND op = 'index'", [doc_id])?;
        if cleared > 0 {
            tx.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'visible_seq'", [])?;
            tx.execute(
                "UPDATE documents SET visible_seq = (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'visible_seq')
                 WHERE id = ?1",
                [doc_id],
            )?;
        }
        tx.commit().map_err(CatalogError::classify)?;
        Ok(())
    }

    /// The library's visibility sequence: raised each time a document's new version becomes
    /// visible. A reader notes it before it reads the derived indexes.
    pub fn visible_seq(&self) -> Result<i64> {
        let v: Option<i64> = self
            .conn
            .query_row("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'visible_seq'", [], |r| r.get(0))
            .optional()?;
        Ok(v.unwrap_or(0))
    }

    /// A number that changes whenever another connection (another process) has committed a
    /// change to the catalog since this connection last asked (SQLite's `data_version`): what a
    /// long-lived reader polls to notice writes made elsewhere.
    pub fn data_version(&self) -> Result<i64> {
        Ok(self.conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }

    /// Documents made visible after sequence `seq` (see [`Catalog::visible_seq`]).
    pub fn visible_after(&self, seq: i64) -> Result<std::collections::HashSet<i64>> {
        let mut stmt = self.conn.prepare_cached("SELECT id FROM documents WHERE visible_seq > ?1")?;
        let rows = stmt.query_map([seq], |r| r.get(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Runs `read` in one read transaction, so everything it reads is of one moment even while
    /// a writer commits.
    pub fn read_consistent<T>(&self, read: impl FnOnce(&Catalog) -> Result<T>) -> Result<T> {
        let tx = self.conn.unchecked_transaction()?;
        let out = read(self)?;
        tx.commit()?;
        Ok(out)
    }

    /// Journals a document for removal; it disappears from listings at once. The caller removes it
    /// from the derived indexes and then calls [`Catalog::finish_remove`].
    pub fn begin_remove(&self, doc_id: i64) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO journal(doc_id, op, started_at) VALUES (?1, 'delete', ?2)
                 ON CONFLICT(doc_id) DO UPDATE SET op = 'delete', started_at = excluded.started_at",
                params![doc_id, now()],
            )
            .map_err(CatalogError::classify)?;
        Ok(())
    }

    /// Deletes a document, its sections, chunks and tags, and its journal entry, in one transaction.
    pub fn finish_remove(&mut self, doc_id: i64) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM documents WHERE id = ?1", [doc_id])?;
        tx.execute("DELETE FROM journal WHERE doc_id = ?1", [doc_id])?;
        tx.commit().map_err(CatalogError::classify)?;
        Ok(())
    }

    /// Documents whose change did not reach the derived indexes (an interrupted ingest or removal).
    pub fn journal(&self) -> Result<Vec<JournalEntry>> {
        let mut stmt = self.conn.prepare(&format!("{} ORDER BY doc_id", types::JOURNAL_SELECT))?;
        let rows = stmt.query_map([], types::journal_from_row)?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Documents matching a filter, newest first, leaving out those being removed.
    pub fn list(&self, filter: &ListFilter) -> Result<Vec<DocSummary>> {
        let mut sql = String::from(types::SUMMARY_SELECT);
        sql.push_str(" WHERE d.id NOT IN (SELECT doc_id FROM journal WHERE op = 'delete')");
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if let Some(kind) = &filter.kind {
            sql.push_str(" AND d.kind = ?");
            args.push(kind.clone().into());
        }
        if let Some(tag) = &filter.tag {
            sql.push_str(" AND d.id IN (SELECT doc_id FROM tags WHERE tag = ?)");
            args.push(tag.clone().into());
        }
        sql.push_str(" ORDER BY d.added_at DESC, d.id DESC");
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args), types::summary_from_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    /// One document by id.
    pub fn get(&self, doc_id: i64) -> Result<Option<DocSummary>> {
        let sql = format!("{} WHERE d.id = ?1", types::SUMMARY_SELECT);
        let mut stmt = self.conn.prepare_cached(&sql)?;
        stmt.query_row([doc_id], types::summary_from_row).optional()?.transpose()
    }

    /// Documents matching what a user typed: an id, a source path or URL, or a title (exact, then
    /// a case-insensitive substring).
    pub fn resolve(&self, spec: &str) -> Result<Vec<DocSummary>> {
        if let Ok(id) = spec.trim().parse::<i64>()
            && let Some(doc) = self.get(id)?
        {
            return Ok(vec![doc]);
        }
        let mut candidates = vec![spec.to_string()];
        if let Ok(abs) = std::fs::canonicalize(spec) {
            candidates.push(abs.display().to_string());
        }
        for c in &candidates {
            if let Some((id, _)) = self.lookup_source(c)?
                && let Some(doc) = self.get(id)?
            {
                return Ok(vec![doc]);
            }
        }
        let all = self.list(&ListFilter::default())?;
        let exact: Vec<_> = all.iter().filter(|d| d.title.eq_ignore_ascii_case(spec)).cloned().collect();
        if !exact.is_empty() {
            return Ok(exact);
        }
        let needle = spec.to_lowercase();
        Ok(all
            .into_iter()
            .filter(|d| d.title.to_lowercase().contains(&needle) || d.source.ends_with(spec))
            .collect())
    }

    /// The sections of a document, in order.
    pub fn sections(&self, doc_id: i64) -> Result<Vec<SectionInfo>> {
        let sql = format!("{} WHERE doc_id = ?1 ORDER BY ordinal", types::SECTION_SELECT);
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([doc_id], types::section_from_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    /// Up to `limit` chunks of a document from ordinal `from` on.
    pub fn chunks_of(&self, doc_id: i64, from: u32, limit: usize) -> Result<Vec<StoredChunk>> {
        let sql =
            format!("{} WHERE doc_id = ?1 AND ordinal >= ?2 ORDER BY ordinal LIMIT ?3", types::CHUNK_SELECT);
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params![doc_id, from, limit as i64], types::chunk_from_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    /// One chunk by id; `None` when there is no such chunk.
    pub fn chunk(&self, id: i64) -> Result<Option<StoredChunk>> {
        let sql = format!("{} WHERE id = ?1", types::CHUNK_SELECT);
        let mut stmt = self.conn.prepare_cached(&sql)?;
        stmt.query_row([id], types::chunk_from_row).optional()?.transpose()
    }

    /// Chunks by id, in the order asked; ids not in the catalog are left out.
    pub fn chunks_by_ids(&self, ids: &[i64]) -> Result<Vec<StoredChunk>> {
        ids.iter().filter_map(|&id| self.chunk(id).transpose()).collect()
    }

    /// Every chunk id in the catalog, sorted (for consistency checks with the derived indexes).
    pub fn all_chunk_ids(&self) -> Result<Vec<i64>> {
        let mut stmt = self.conn.prepare("SELECT id FROM chunks ORDER BY id")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Ids of every document, including those in the journal.
    pub fn all_doc_ids(&self) -> Result<Vec<i64>> {
        let mut stmt = self.conn.prepare("SELECT id FROM documents ORDER BY id")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Number of documents and chunks.
    pub fn counts(&self) -> Result<(u64, u64)> {
        let docs: i64 = self.conn.query_row("SELECT COUNT(*) FROM documents", [], |r| r.get(0))?;
        let chunks: i64 = self.conn.query_row("SELECT COUNT(*) FROM chunks", [], |r| r.get(0))?;
        Ok((docs as u64, chunks as u64))
    }

    /// How many chunks are in each language (the chunk's, else its document's; `None` when
    /// neither is known), most first.
    pub fn chunk_languages(&self) -> Result<Vec<(Option<String>, u64)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT COALESCE(c.language, d.language) AS lang, COUNT(*) AS n
             FROM chunks c JOIN documents d ON d.id = c.doc_id
             GROUP BY lang ORDER BY n DESC, lang",
        )?;
        let rows =
            stmt.query_map([], |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, i64>(1)? as u64)))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// The tags of a document.
    pub fn tags_of(&self, doc_id: i64) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached("SELECT tag FROM tags WHERE doc_id = ?1 ORDER BY tag")?;
        let rows = stmt.query_map([doc_id], |r| r.get(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }
}

/// The id and content hash of the document with this canonical source, if present.
fn id_and_hash(conn: &Connection, source: &str) -> Result<Option<(i64, String)>> {
    Ok(conn
        .query_row("SELECT id, hash FROM documents WHERE source = ?1", [source], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?)
}

fn update_document(tx: &Transaction<'_>, id: i64, new: &NewDocument<'_>) -> Result<()> {
    let d = new.doc;
    tx.execute(
        "UPDATE documents SET root_id = COALESCE(?2, root_id), url = ?3, kind = ?4, title = ?5, authors = ?6, language = ?7,
         published = ?8, hash = ?9, byte_len = ?10, page_count = ?11, file_mtime = ?12, file_size = ?13, updated_at = ?14,
         site = ?15
         WHERE id = ?1",
        params![
            id,
            new.root_id,
            d.url,
            d.kind.as_str(),
            d.title,
            serde_json::to_string(&d.authors)?,
            d.language,
            d.published,
            d.hash,
            d.byte_len as i64,
            d.page_count,
            new.file.map(|f| f.mtime),
            new.file.map(|f| f.size as i64),
            now(),
            d.site
        ],
    )?;
    Ok(())
}

fn insert_document(tx: &Transaction<'_>, new: &NewDocument<'_>) -> Result<i64> {
    let d = new.doc;
    let at = now();
    tx.execute(
        "INSERT INTO documents(source, root_id, url, kind, title, authors, language, published, hash, byte_len,
                               page_count, file_mtime, file_size, added_at, updated_at, site)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14, ?15)",
        params![
            d.source,
            new.root_id,
            d.url,
            d.kind.as_str(),
            d.title,
            serde_json::to_string(&d.authors)?,
            d.language,
            d.published,
            d.hash,
            d.byte_len as i64,
            d.page_count,
            new.file.map(|f| f.mtime),
            new.file.map(|f| f.size as i64),
            at,
            d.site
        ],
    )
    .map_err(CatalogError::classify)?;
    Ok(tx.last_insert_rowid())
}

fn insert_tags(tx: &Transaction<'_>, id: i64, tags: &[String]) -> Result<()> {
    let mut stmt = tx.prepare_cached("INSERT OR IGNORE INTO tags(doc_id, tag) VALUES (?1, ?2)")?;
    for t in tags {
        stmt.execute(params![id, t])?;
    }
    Ok(())
}

fn insert_sections(tx: &Transaction<'_>, id: i64, doc: &Document) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO sections(doc_id, ordinal, heading_path, anchor, page_start, page_end, chars) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for (i, s) in doc.sections.iter().enumerate() {
        let page_start = s.pages.first().map(|p| p.page);
        let page_end = s.pages.last().map(|p| p.page);
        stmt.execute(params![
            id,
            i as i64,
            serde_json::to_string(&s.heading_path)?,
            s.anchor,
            page_start,
            page_end,
            s.text.len() as i64
        ])
        .map_err(CatalogError::classify)?;
    }
    Ok(())
}

fn insert_chunks(tx: &Transaction<'_>, id: i64, chunks: &[Chunk]) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO chunks(id, doc_id, ordinal, section, text, heading_path, anchor, page_start, page_end,
                            char_start, char_end, tokens, language, line_start, line_end, ocr)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )?;
    for c in chunks {
        stmt.execute(params![
            chunk_id(id, c.ordinal),
            id,
            c.ordinal,
            c.section,
            c.text,
            serde_json::to_string(&c.heading_path)?,
            c.anchor,
            c.page_start,
            c.page_end,
            c.char_start as i64,
            c.char_end as i64,
            c.tokens,
            c.language,
            c.line_start,
            c.line_end,
            c.ocr
        ])
        .map_err(CatalogError::classify)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
