//! The second phase of an add: embedding the chunks that are searchable by keywords but still
//! lack their vectors (recorded in the catalog, see [`crate::catalog::Catalog::vectors_pending`]).
//!
//! The chunks are read back from the catalog a batch at a time, in id order, so a folder's
//! chunks are never all in memory. Vectors are upserted as they are made; the vector store is
//! flushed, and only then are those chunks' records cleared, at the first document boundary
//! after [`FLUSH_EVERY_CHUNKS`] chunks and at the end, never within a document. A kill at any
//! point leaves records for every chunk whose vector is not durable (and perhaps for a few whose
//! vector is: they are embedded again and upserted under the same point id), so the next writer
//! finishes the work and no chunk is ever held twice.
//!
//! Why a reader never sees part of a document's vectors: a reader of the embedded store reads
//! either the live store with no writer at work (everything flushed) or a point-in-time copy,
//! which holds what was flushed when it was taken (the engine's log is not copied). The first
//! phase dropped the document's old vectors and flushed that before the document became visible
//! (`Library::commit`), and a copy taken before then leaves the document out altogether (the
//! visibility sequence). After it, flushes fall between documents only, so a copy holds none of
//! a document's new vectors or all of them. The price: a kill while a long book is embedded
//! embeds that book again from its first chunk.

use std::collections::HashSet;

use super::Library;
use crate::catalog::DocSummary;
use crate::error::Result;

/// Chunks read back from the catalog at a time.
const READ_BATCH: usize = 256;

/// Chunks whose vectors are flushed, and records cleared, together (at a document boundary:
/// a long document is flushed whole, however many chunks it has).
const FLUSH_EVERY_CHUNKS: usize = 512;

impl Library {
    /// Commits what the first phase wrote, then embeds every chunk that awaits its vector (this
    /// run's and any an interrupted run left), reporting `(chunks embedded, chunks awaiting)`.
    /// Returns how many it embedded. Without engines, or with indexes that need a rebuild, it
    /// leaves the records alone (a rebuild embeds everything).
    pub fn embed_pending(&mut self, progress: &mut dyn FnMut(usize, usize)) -> Result<usize> {
        self.commit()?;
        if self.engines.is_none() || self.indexes_usable().is_err() {
            return Ok(0);
        }
        let total = self.catalog.vectors_pending()? as usize;
        if total == 0 {
            return Ok(0);
        }
        self.resumed_reindex = None;
        let engines = self.engines()?;
        // Documents still in the journal (being removed, or written by a run whose repair has
        // not happened) are left to the journal's repair.
        let journalled: HashSet<i64> = self.catalog.journal()?.into_iter().map(|e| e.doc_id).collect();
        let (mut after, mut done) = (i64::MIN, 0usize);
        let mut unflushed: Vec<i64> = Vec::new();
        let mut doc: Option<DocSummary> = None;
        let flush = |unflushed: &mut Vec<i64>| -> Result<()> {
            engines.vectors.flush()?;
            self.catalog.clear_vectors_pending(unflushed)?;
            unflushed.clear();
            Ok(())
        };
        progress(0, total);
        loop {
            let batch = self.catalog.pending_chunks(after, READ_BATCH)?;
            let Some(last) = batch.last() else { break };
            after = last.id;
            for group in batch.chunk_by(|a, b| a.doc_id == b.doc_id) {
                let doc_id = group[0].doc_id;
                if journalled.contains(&doc_id) {
                    continue;
                }
                // A group continuing the document of the previous batch is never flushed apart
                // from it: a reader's copy of the store must hold all of a document's new
                // vectors or none.
                let same_doc = doc.as_ref().map(|d| d.id) == Some(doc_id);
                if !same_doc {
                    if unflushed.len() >= FLUSH_EVERY_CHUNKS {
                        flush(&mut unflushed)?;
                    }
                    doc = self.catalog.get(doc_id)?;
                }
                let Some(d) = &doc else { continue };
                let total_seen = total.max(done + group.len());
                engines.embed_and_upsert(d, group, &mut |n, _| progress(done + n, total_seen))?;
                done += group.len();
                unflushed.extend(group.iter().map(|c| c.id));
            }
        }
        if !unflushed.is_empty() {
            flush(&mut unflushed)?;
        }
        Ok(done)
    }
}
