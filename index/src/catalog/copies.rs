//! The other paths of a document: a file whose content (kind and BLAKE3 hash) is that of a
//! document already in the library is not loaded and embedded again; its path is remembered as a
//! copy of that document. The document's `source` is its first path; a copy takes its place when
//! that path is gone, and the document goes only when none of its paths is left.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::roots::under;
use super::{Catalog, CatalogError, FileStat, Result, now};

/// A second path of a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CopyPath {
    /// The file's canonical path.
    pub path: String,
    /// The document it holds.
    pub doc_id: i64,
    /// The source root it was found under.
    pub root_id: Option<i64>,
    /// The file's size and modification time when it was read.
    pub file: Option<FileStat>,
}

const COPY_SELECT: &str = "SELECT path, doc_id, root_id, file_mtime, file_size FROM copies";

fn copy_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CopyPath> {
    let file = FileStat::from_columns(r.get(3)?, r.get(4)?);
    Ok(CopyPath { path: r.get(0)?, doc_id: r.get(1)?, root_id: r.get(2)?, file })
}

impl Catalog {
    /// The document (id and source) with this content, of this kind, read from a local file and
    /// not being removed.
    pub fn same_content(&self, hash: &str, kind: &str) -> Result<Option<(i64, String)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, source FROM documents
                 WHERE hash = ?1 AND kind = ?2 AND url IS NULL AND file_size IS NOT NULL
                   AND id NOT IN (SELECT doc_id FROM journal WHERE op = 'delete')
                 ORDER BY id LIMIT 1",
                params![hash, kind],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// Remembers `path` as a copy of document `doc_id` (again, with a new stat, if it was one),
    /// and gives the document `tags`.
    pub fn add_copy(
        &self,
        doc_id: i64,
        path: &str,
        root_id: Option<i64>,
        file: Option<FileStat>,
        tags: &[String],
    ) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO copies(path, doc_id, root_id, file_mtime, file_size, added_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(path) DO UPDATE SET doc_id = excluded.doc_id,
                root_id = COALESCE(excluded.root_id, root_id),
                file_mtime = excluded.file_mtime, file_size = excluded.file_size",
            params![path, doc_id, root_id, file.map(|f| f.mtime), file.map(|f| f.size as i64), now()],
        )
        .map_err(CatalogError::classify)?;
        super::insert_tags(&tx, doc_id, tags)?;
        tx.commit().map_err(CatalogError::classify)?;
        Ok(())
    }

    /// The copy at this canonical path, if it is one.
    pub fn copy_at(&self, path: &str) -> Result<Option<CopyPath>> {
        let sql = format!("{COPY_SELECT} WHERE path = ?1");
        Ok(self.conn.query_row(&sql, [path], copy_from_row).optional()?)
    }

    /// The copies of a document, by path.
    pub fn copies_of(&self, doc_id: i64) -> Result<Vec<CopyPath>> {
        let sql = format!("{COPY_SELECT} WHERE doc_id = ?1 ORDER BY path");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([doc_id], copy_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The copies at `root` or under it (as a folder), by path.
    pub fn copies_under(&self, root: &str) -> Result<Vec<CopyPath>> {
        let (lo, hi) = under(root);
        let sql = format!("{COPY_SELECT} WHERE path = ?1 OR (path >= ?2 AND path < ?3) ORDER BY path");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![root, lo, hi], copy_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Forgets a copy; its document stays. True if there was one.
    pub fn remove_copy(&self, path: &str) -> Result<bool> {
        let n = self
            .conn
            .execute("DELETE FROM copies WHERE path = ?1", [path])
            .map_err(CatalogError::classify)?;
        Ok(n > 0)
    }

    /// Makes a copy its document's source (the document's first path is gone or now holds other
    /// content), keeping the document's id, chunks and vectors.
    pub fn promote_copy(&mut self, copy: &CopyPath) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE documents SET source = ?2, root_id = COALESCE(?3, root_id), file_mtime = ?4,
             file_size = ?5, updated_at = ?6 WHERE id = ?1",
            params![
                copy.doc_id,
                copy.path,
                copy.root_id,
                copy.file.map(|f| f.mtime),
                copy.file.map(|f| f.size as i64),
                now()
            ],
        )
        .map_err(CatalogError::classify)?;
        tx.execute("DELETE FROM copies WHERE path = ?1", [&copy.path])?;
        tx.commit().map_err(CatalogError::classify)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use lore_ingest::{Chunk, Document, Kind, Section};

    use super::*;
    use crate::catalog::NewDocument;

    fn add(cat: &mut Catalog, source: &str, hash: &str) -> i64 {
        let chunk = Chunk {
            ordinal: 0,
            section: 0,
            text: "some text".into(),
            heading_path: vec![],
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
            hash: hash.into(),
            byte_len: 9,
            page_count: None,
            site: None,
            sections: vec![Section::new(vec![], "some text")],
        };
        let new = NewDocument {
            doc: &doc,
            chunks: &[chunk],
            tags: &[],
            root_id: None,
            file: Some(FileStat { mtime: 1, size: 9 }),
        };
        let id = cat.begin_upsert(&new).unwrap().doc_id();
        cat.finish(id).unwrap();
        id
    }

    #[test]
    fn a_copy_is_found_by_content_and_can_take_the_documents_place() {
        let mut cat = Catalog::open_in_memory().unwrap();
        let a = add(&mut cat, "/lib/a.txt", "h1");
        add(&mut cat, "/lib/other.txt", "h2");
        assert_eq!(cat.same_content("h1", "text").unwrap(), Some((a, "/lib/a.txt".to_string())));
        assert_eq!(cat.same_content("h1", "markdown").unwrap(), None, "another kind is another document");
        assert_eq!(cat.same_content("h3", "text").unwrap(), None);

        let stat = Some(FileStat { mtime: 2, size: 9 });
        cat.add_copy(a, "/lib/sub/b.txt", None, stat, &["copied".into()]).unwrap();
        cat.add_copy(a, "/elsewhere/c.txt", None, None, &[]).unwrap();
        let copies = cat.copies_of(a).unwrap();
        assert_eq!(
            copies.iter().map(|c| c.path.as_str()).collect::<Vec<_>>(),
            ["/elsewhere/c.txt", "/lib/sub/b.txt"]
        );
        assert_eq!(cat.copy_at("/lib/sub/b.txt").unwrap().unwrap().file, stat);
        assert_eq!(cat.copies_under("/lib").unwrap().len(), 1);
        assert_eq!(cat.tags_of(a).unwrap(), ["copied"]);

        // The first path gone, a copy takes its place under the same id.
        let b = cat.copy_at("/lib/sub/b.txt").unwrap().unwrap();
        cat.promote_copy(&b).unwrap();
        assert_eq!(cat.lookup_source("/lib/sub/b.txt").unwrap().map(|(id, _)| id), Some(a));
        assert_eq!(cat.lookup_source("/lib/a.txt").unwrap(), None);
        assert_eq!(cat.copies_of(a).unwrap().len(), 1);
        assert!(cat.remove_copy("/elsewhere/c.txt").unwrap());
        assert!(!cat.remove_copy("/elsewhere/c.txt").unwrap());

        // Removing the document forgets its copies.
        cat.add_copy(a, "/x.txt", None, None, &[]).unwrap();
        cat.begin_remove(a).unwrap();
        cat.finish_remove(a).unwrap();
        assert_eq!(cat.copy_at("/x.txt").unwrap(), None);
    }
}
