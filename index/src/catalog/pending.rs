//! The chunks that still lack their vector (table `vectors_pending`): the second phase of an
//! add. [`Catalog::begin_upsert`] records every chunk of a document it writes; the writer makes
//! the document keyword-searchable first, then embeds the recorded chunks in batches read back
//! from here and clears each batch once its vectors are flushed. A crash between or during the
//! phases therefore loses nothing: the rows say what is left to embed, and any later writer
//! embeds it (`Library::embed_pending`).

use std::collections::HashSet;

use rusqlite::params;

use super::{Catalog, CatalogError, Result, StoredChunk, types};

impl Catalog {
    /// How many chunks lack their vector.
    pub fn vectors_pending(&self) -> Result<u64> {
        let n: i64 = self.conn.query_row("SELECT COUNT(*) FROM vectors_pending", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// How many documents have chunks that lack their vector.
    pub fn documents_pending_vectors(&self) -> Result<u64> {
        let sql = format!("SELECT COUNT(DISTINCT chunk_id >> {}) FROM vectors_pending", super::ORDINAL_BITS);
        let n: i64 = self.conn.query_row(&sql, [], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// Which of `ids` are chunks that lack their vector (cheap when none do).
    pub fn pending_among(&self, ids: &[i64]) -> Result<HashSet<i64>> {
        let mut out = HashSet::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let any: bool =
            self.conn.query_row("SELECT EXISTS(SELECT 1 FROM vectors_pending)", [], |r| r.get(0))?;
        if !any {
            return Ok(out);
        }
        let mut stmt = self.conn.prepare_cached("SELECT 1 FROM vectors_pending WHERE chunk_id = ?1")?;
        for &id in ids {
            if stmt.exists([id])? {
                out.insert(id);
            }
        }
        Ok(out)
    }

    /// Every chunk id that lacks its vector, sorted.
    pub fn pending_chunk_ids(&self) -> Result<Vec<i64>> {
        let mut stmt = self.conn.prepare("SELECT chunk_id FROM vectors_pending ORDER BY chunk_id")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Up to `limit` chunks lacking their vector with ids above `after`, in id order (so a
    /// document's chunks come together, in order). What the second phase of an add reads, one
    /// batch at a time, so that a folder's chunks are never all in memory at once.
    pub fn pending_chunks(&self, after: i64, limit: usize) -> Result<Vec<StoredChunk>> {
        let sql = format!(
            "{} WHERE id IN (SELECT chunk_id FROM vectors_pending WHERE chunk_id > ?1 ORDER BY chunk_id LIMIT ?2)
             ORDER BY id",
            types::CHUNK_SELECT
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![after, limit as i64], types::chunk_from_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    /// Records every chunk of a document as lacking its vector (its vectors were dropped, and
    /// are to be made again).
    pub fn mark_vectors_pending(&self, doc_id: i64) -> Result<()> {
        self.conn
            .execute(
                "INSERT OR IGNORE INTO vectors_pending(chunk_id) SELECT id FROM chunks WHERE doc_id = ?1",
                [doc_id],
            )
            .map_err(CatalogError::classify)?;
        Ok(())
    }

    /// Clears chunks whose vectors are now flushed to the vector store, in one transaction. It
    /// raises the visibility sequence (without stamping any document, so no search leaves
    /// anything out for it): a reader searching a point-in-time copy of the vector store then
    /// takes a new one that holds the new vectors.
    pub fn clear_vectors_pending(&self, chunk_ids: &[i64]) -> Result<()> {
        if chunk_ids.is_empty() {
            return Ok(());
        }
        let tx = self.conn.unchecked_transaction()?;
        {
            let mut stmt = tx.prepare_cached("DELETE FROM vectors_pending WHERE chunk_id = ?1")?;
            for id in chunk_ids {
                stmt.execute([id])?;
            }
        }
        tx.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'visible_seq'", [])?;
        tx.commit().map_err(CatalogError::classify)?;
        Ok(())
    }

    /// Clears every row: the vector store was rebuilt from the whole catalog.
    pub fn clear_all_vectors_pending(&self) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        let cleared = tx.execute("DELETE FROM vectors_pending", [])?;
        if cleared > 0 {
            tx.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'visible_seq'", [])?;
        }
        tx.commit().map_err(CatalogError::classify)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::doc;
    use super::*;
    use crate::catalog::{NewDocument, Upsert, chunk_id};

    fn begin(cat: &mut Catalog, d: &(lore_ingest::Document, Vec<lore_ingest::Chunk>)) -> Upsert {
        let new = NewDocument { doc: &d.0, chunks: &d.1, tags: &[], root_id: None, file: None };
        cat.begin_upsert(&new).unwrap()
    }

    #[test]
    fn a_written_document_awaits_its_vectors_until_they_are_cleared() {
        let mut cat = Catalog::open_in_memory().unwrap();
        let a = doc("/a.txt", "h1", &["one", "two", "three"]);
        let id = begin(&mut cat, &a).doc_id();
        cat.finish(id).unwrap();
        assert_eq!(cat.vectors_pending().unwrap(), 3);
        assert_eq!(cat.documents_pending_vectors().unwrap(), 1);
        let first = cat.pending_chunks(i64::MIN, 2).unwrap();
        let ids: Vec<i64> = first.iter().map(|c| c.id).collect();
        assert_eq!(ids, [chunk_id(id, 0), chunk_id(id, 1)]);
        assert_eq!(first[1].text, "two");
        let seq = cat.visible_seq().unwrap();
        cat.clear_vectors_pending(&ids).unwrap();
        assert!(cat.visible_seq().unwrap() > seq, "a snapshot reader is told to take a new copy");
        assert!(cat.visible_after(seq).unwrap().is_empty(), "no document is left out of searches for it");
        let rest = cat.pending_chunks(ids[1], 10).unwrap();
        assert_eq!(rest.iter().map(|c| c.id).collect::<Vec<_>>(), [chunk_id(id, 2)]);
        let among = cat.pending_among(&[chunk_id(id, 0), chunk_id(id, 2), 12345]).unwrap();
        assert_eq!(among, HashSet::from([chunk_id(id, 2)]));
        cat.clear_vectors_pending(&[chunk_id(id, 2)]).unwrap();
        assert_eq!(cat.vectors_pending().unwrap(), 0);
        assert!(cat.pending_among(&[chunk_id(id, 2)]).unwrap().is_empty());
    }

    #[test]
    fn replacing_or_removing_a_document_replaces_or_drops_its_rows() {
        let mut cat = Catalog::open_in_memory().unwrap();
        let a = doc("/a.txt", "h1", &["one", "two", "three"]);
        let b = doc("/b.txt", "h9", &["other"]);
        let id = begin(&mut cat, &a).doc_id();
        cat.finish(id).unwrap();
        let other = begin(&mut cat, &b).doc_id();
        cat.finish(other).unwrap();
        cat.clear_vectors_pending(&[chunk_id(id, 0), chunk_id(id, 1), chunk_id(id, 2)]).unwrap();
        // A changed file: its new chunks all await vectors, the old ones are gone.
        let a2 = doc("/a.txt", "h2", &["uno", "dos"]);
        assert_eq!(begin(&mut cat, &a2), Upsert::Replaced(id));
        cat.finish(id).unwrap();
        assert_eq!(cat.pending_chunk_ids().unwrap(), [chunk_id(id, 0), chunk_id(id, 1), chunk_id(other, 0)]);
        // The same content again: nothing to embed.
        assert_eq!(begin(&mut cat, &a2), Upsert::Unchanged(id));
        assert_eq!(cat.vectors_pending().unwrap(), 3);
        cat.begin_remove(id).unwrap();
        cat.finish_remove(id).unwrap();
        assert_eq!(cat.pending_chunk_ids().unwrap(), [chunk_id(other, 0)]);
        cat.mark_vectors_pending(other).unwrap();
        assert_eq!(cat.vectors_pending().unwrap(), 1, "marking twice keeps one row");
        cat.clear_all_vectors_pending().unwrap();
        assert_eq!(cat.vectors_pending().unwrap(), 0);
    }
}
