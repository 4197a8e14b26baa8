//! Source roots and what `lore sync` needs of the catalog: the documents under a root with their
//! recorded file stat and hash, moving a document to a new path, forgetting a root, and the
//! files that failed to load (so an unchanged bad file is not parsed again on every sync).

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::types::FileStat;
use super::{Catalog, CatalogError, Result, Root, now};

/// A document as `lore sync` sees it: where it came from and what version of the file it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedDoc {
    /// Document id.
    pub id: i64,
    /// Canonical source path.
    pub source: String,
    /// Kind name (`pdf`, `html`, ...).
    pub kind: String,
    /// BLAKE3 hash of the file's bytes.
    pub hash: String,
    /// The file's size and modification time when it was read.
    pub file: Option<FileStat>,
    /// Its tags.
    pub tags: Vec<String>,
    /// Whether the derived indexes may lag behind it (an interrupted ingest).
    pub pending: bool,
}

/// A file that could not be loaded, as remembered for the next sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedFile {
    /// The file's size when it failed.
    pub size: u64,
    /// Its modification time when it failed.
    pub mtime: i64,
    /// The error line.
    pub message: String,
    /// The lore version that tried it.
    pub version: String,
}

/// A tracked document from a row of (id, source, kind, hash, file_mtime, file_size, tags as a
/// JSON array, pending).
fn tracked_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<TrackedDoc>> {
    let tags: String = r.get(6)?;
    let tags = match serde_json::from_str(&tags) {
        Ok(t) => t,
        Err(e) => return Ok(Err(e.into())),
    };
    Ok(Ok(TrackedDoc {
        id: r.get(0)?,
        source: r.get(1)?,
        kind: r.get(2)?,
        hash: r.get(3)?,
        file: FileStat::from_columns(r.get(4)?, r.get(5)?),
        tags,
        pending: r.get(7)?,
    }))
}

/// A failed file from a row of (mtime, size, message, version).
fn failed_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FailedFile> {
    Ok(FailedFile {
        mtime: r.get(0)?,
        size: r.get::<_, i64>(1)?.max(0) as u64,
        message: r.get(2)?,
        version: r.get(3)?,
    })
}

/// The half-open range of source strings under the folder `root`: `[root/, root0)`, since `0`
/// follows `/` in byte order.
pub(super) fn under(root: &str) -> (String, String) {
    let prefix = if root.ends_with('/') { root.to_string() } else { format!("{root}/") };
    let mut upper = prefix.clone();
    upper.pop();
    upper.push('0');
    (prefix, upper)
}

impl Catalog {
    /// The root recorded with this exact path.
    pub fn root_by_path(&self, path: &str) -> Result<Option<Root>> {
        Ok(self.roots()?.into_iter().find(|r| r.path == path))
    }

    /// Forgets a root. Its documents stay (no longer tied to a root).
    pub fn remove_root(&self, root_id: i64) -> Result<bool> {
        let n = self
            .conn
            .execute("DELETE FROM roots WHERE id = ?1", [root_id])
            .map_err(CatalogError::classify)?;
        Ok(n > 0)
    }

    /// The documents whose source is `root` itself or lies under it (as a folder), leaving out
    /// those being removed.
    pub fn docs_under(&self, root: &str) -> Result<Vec<TrackedDoc>> {
        let (lo, hi) = under(root);
        let mut stmt = self.conn.prepare_cached(
            "SELECT d.id, d.source, d.kind, d.hash, d.file_mtime, d.file_size,
                    (SELECT json_group_array(tag) FROM tags t WHERE t.doc_id = d.id),
                    EXISTS (SELECT 1 FROM journal j WHERE j.doc_id = d.id)
             FROM documents d
             WHERE (d.source = ?1 OR (d.source >= ?2 AND d.source < ?3))
               AND d.id NOT IN (SELECT doc_id FROM journal WHERE op = 'delete')
             ORDER BY d.source",
        )?;
        let rows = stmt.query_map(params![root, lo, hi], tracked_from_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    /// Moves a document to a new source path (a file renamed or moved with its content
    /// unchanged), keeping its id, chunks and vectors. It joins `root_id` and gains `tags`. When
    /// that adds tags, the document is journalled for indexing (the derived indexes hold tags)
    /// and `true` is returned: the caller rewrites it there and calls [`Catalog::finish`].
    pub fn move_document(
        &mut self,
        doc_id: i64,
        new_source: &str,
        root_id: Option<i64>,
        file: Option<FileStat>,
        tags: &[String],
    ) -> Result<bool> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE documents SET source = ?2, root_id = COALESCE(?3, root_id), file_mtime = ?4, file_size = ?5,
             updated_at = ?6 WHERE id = ?1",
            params![doc_id, new_source, root_id, file.map(|f| f.mtime), file.map(|f| f.size as i64), now()],
        )
        .map_err(CatalogError::classify)?;
        let mut added = 0;
        {
            let mut stmt = tx.prepare_cached("INSERT OR IGNORE INTO tags(doc_id, tag) VALUES (?1, ?2)")?;
            for t in tags {
                added += stmt.execute(params![doc_id, t])?;
            }
        }
        if added > 0 {
            tx.execute(
                "INSERT INTO journal(doc_id, op, started_at) VALUES (?1, 'index', ?2)
                 ON CONFLICT(doc_id) DO UPDATE SET op = 'index', started_at = excluded.started_at",
                params![doc_id, now()],
            )?;
        }
        tx.commit().map_err(CatalogError::classify)?;
        Ok(added > 0)
    }

    /// Remembers that a file failed to load, with its stat, so that a sync can skip it while it
    /// stays the same.
    pub fn record_failure(&self, path: &str, file: FileStat, message: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO failed_files(path, mtime, size, message, version, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(path) DO UPDATE SET mtime = excluded.mtime, size = excluded.size,
                 message = excluded.message, version = excluded.version, at = excluded.at",
                params![path, file.mtime, file.size as i64, message, env!("CARGO_PKG_VERSION"), now()],
            )
            .map_err(CatalogError::classify)?;
        Ok(())
    }

    /// The recorded failure of a file, if any.
    pub fn failure(&self, path: &str) -> Result<Option<FailedFile>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT mtime, size, message, version FROM failed_files WHERE path = ?1")?;
        Ok(stmt.query_row([path], failed_from_row).optional()?)
    }

    /// Whether a file failed before in this very state (same size and modification time, same
    /// lore version): the message it failed with.
    pub fn failed_unchanged(&self, path: &str, file: FileStat) -> Result<Option<String>> {
        Ok(self.failure(path)?.and_then(|f| {
            (f.size == file.size && f.mtime == file.mtime && f.version == env!("CARGO_PKG_VERSION"))
                .then_some(f.message)
        }))
    }

    /// Forgets the failure of a file (it loaded, or it is gone).
    pub fn clear_failure(&self, path: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM failed_files WHERE path = ?1", [path])
            .map_err(CatalogError::classify)?;
        Ok(())
    }

    /// Forgets the failures of files under a folder (or of that file) that no longer exist.
    pub fn clear_failures_under(&self, root: &str, keep: &dyn Fn(&str) -> bool) -> Result<usize> {
        let (lo, hi) = under(root);
        let paths: Vec<String> = {
            let mut stmt = self.conn.prepare_cached(
                "SELECT path FROM failed_files WHERE path = ?1 OR (path >= ?2 AND path < ?3)",
            )?;
            let rows = stmt.query_map(params![root, lo, hi], |r| r.get(0))?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        let mut n = 0;
        for p in paths.iter().filter(|p| !keep(p)) {
            self.clear_failure(p)?;
            n += 1;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use lore_ingest::{Chunk, Document, Kind, Section};

    use super::*;
    use crate::catalog::NewDocument;

    fn add(cat: &mut Catalog, source: &str, root: Option<i64>, tags: &[String]) -> i64 {
        let section = Section::new(vec!["H".into()], "some text");
        let chunk = Chunk {
            ordinal: 0,
            section: 0,
            text: "some text".into(),
            heading_path: vec!["H".into()],
            anchor: None,
            page_start: None,
            page_end: None,
            char_start: 0,
            char_end: 9,
            tokens: 2,
            language: None,
            line_start: None,
            line_end: None,
            ocr: false,
        };
        let doc = Document {
            source: source.into(),
            url: None,
            kind: Kind::Text,
            title: "T".into(),
            authors: vec![],
            language: None,
            published: None,
            hash: format!("hash of {source}"),
            byte_len: 9,
            page_count: None,
            site: None,
            sections: vec![section],
        };
        let file = Some(FileStat { mtime: 7, size: 9 });
        let new = NewDocument { doc: &doc, chunks: &[chunk], tags, root_id: root, file };
        let id = cat.begin_upsert(&new).unwrap().doc_id();
        cat.finish(id).unwrap();
        id
    }

    #[test]
    fn docs_under_a_root_are_found_by_path_prefix() {
        let mut cat = Catalog::open_in_memory().unwrap();
        let a = add(&mut cat, "/lib/a.txt", None, &[]);
        let b = add(&mut cat, "/lib/sub/b.txt", None, &[]);
        add(&mut cat, "/library/c.txt", None, &[]);
        add(&mut cat, "/lib0.txt", None, &[]);
        let ids: Vec<i64> = cat.docs_under("/lib").unwrap().iter().map(|d| d.id).collect();
        assert_eq!(ids, vec![a, b]);
        assert_eq!(cat.docs_under("/lib/").unwrap().len(), 2);
        let one = cat.docs_under("/lib/a.txt").unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].file, Some(FileStat { mtime: 7, size: 9 }));
        assert!(!one[0].pending);
        cat.begin_remove(a).unwrap();
        assert_eq!(cat.docs_under("/lib").unwrap().len(), 1, "documents being removed are left out");
    }

    #[test]
    fn a_moved_document_keeps_its_id_and_is_journalled_only_for_new_tags() {
        let mut cat = Catalog::open_in_memory().unwrap();
        let root = cat.upsert_root("/lib", "folder", &["books".into()]).unwrap();
        let id = add(&mut cat, "/lib/a.txt", Some(root), &["books".into()]);
        let stat = FileStat { mtime: 9, size: 9 };
        assert!(!cat.move_document(id, "/lib/b.txt", Some(root), Some(stat), &["books".into()]).unwrap());
        assert!(cat.journal().unwrap().is_empty());
        assert_eq!(cat.lookup_source("/lib/b.txt").unwrap().map(|(i, _)| i), Some(id));
        assert!(cat.lookup_source("/lib/a.txt").unwrap().is_none());
        assert_eq!(cat.file_stat("/lib/b.txt").unwrap(), Some(stat));
        assert!(cat.move_document(id, "/lib/c.txt", Some(root), Some(stat), &["new".into()]).unwrap());
        assert_eq!(cat.journal().unwrap().len(), 1);
        assert_eq!(cat.tags_of(id).unwrap(), vec!["books".to_string(), "new".into()]);
    }

    #[test]
    fn failures_are_remembered_per_file_state() {
        let cat = Catalog::open_in_memory().unwrap();
        let stat = FileStat { mtime: 1, size: 2 };
        cat.record_failure("/lib/bad.pdf", stat, "bad.pdf: corrupt").unwrap();
        assert_eq!(cat.failed_unchanged("/lib/bad.pdf", stat).unwrap().as_deref(), Some("bad.pdf: corrupt"));
        assert_eq!(cat.failed_unchanged("/lib/bad.pdf", FileStat { mtime: 2, size: 2 }).unwrap(), None);
        assert_eq!(cat.clear_failures_under("/lib", &|_| true).unwrap(), 0);
        assert_eq!(cat.clear_failures_under("/lib", &|_| false).unwrap(), 1);
        assert!(cat.failure("/lib/bad.pdf").unwrap().is_none());
    }

    #[test]
    fn a_root_can_be_found_and_forgotten() {
        let mut cat = Catalog::open_in_memory().unwrap();
        let root = cat.upsert_root("/lib", "folder", &[]).unwrap();
        let id = add(&mut cat, "/lib/a.txt", Some(root), &[]);
        assert_eq!(cat.root_by_path("/lib").unwrap().map(|r| r.id), Some(root));
        assert!(cat.remove_root(root).unwrap());
        assert!(cat.roots().unwrap().is_empty());
        assert!(cat.get(id).unwrap().is_some(), "its documents stay");
    }
}
