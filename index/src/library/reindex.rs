//! Rebuilding the derived indexes from the catalog so that an interruption (`kill -9`, a full
//! disk, a power cut) never leaves them half built for good.
//!
//! A rebuild empties both indexes and fills them again document by document, in ascending id
//! order. Before it empties anything it records in the catalog that a rebuild is under way,
//! and for what (model, dimension, vector store); after every commit of both indexes it
//! records the last document the commit covers. The record is cleared last. A writer that
//! opens the library and finds the record completes the rebuild before anything else: from
//! just after the recorded document when it rebuilds for the same model and store (everything
//! up to it is committed in both indexes, and writes are idempotent upserts, so documents past
//! it that were partly written are simply written again), from the start otherwise. There is
//! nothing to roll back to: the old indexes may already be emptied.

use std::collections::HashSet;
use std::time::Instant;

use super::Library;
use crate::catalog::{Catalog, JournalOp};
use crate::engines::{META_DIM, META_MODEL};
use crate::error::{Error, Result};

/// Catalog metadata key of a rebuild under way: its [`RebuildState`] as JSON, or empty when
/// none is under way.
pub const META_REINDEX: &str = "reindex.state";

/// What a reindex did.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct ReindexReport {
    /// Documents indexed.
    pub documents: usize,
    /// Chunks indexed.
    pub chunks: usize,
    /// Time taken in seconds.
    pub seconds: f64,
}

/// Chunks written between the rebuild's commits; each commit records how far it reaches.
const REBUILD_COMMIT_CHUNKS: usize = 256;

/// What the catalog records of a rebuild under way.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct RebuildState {
    /// Embedding model the indexes are being rebuilt with.
    model: String,
    /// Its vector dimension.
    dim: usize,
    /// The vector store being rebuilt (see [`crate::EngineOptions::vector_backend`]).
    backend: String,
    /// Every document with an id up to this one is committed in both indexes; `None` until
    /// the indexes have been emptied.
    done_through: Option<i64>,
}

impl RebuildState {
    fn same_target(&self, other: &RebuildState) -> bool {
        self.model == other.model && self.dim == other.dim && self.backend == other.backend
    }
}

/// The rebuild under way according to the catalog. A record that cannot be read (written by a
/// newer lore, or damaged) counts as a rebuild that has to start over.
fn read_state(catalog: &Catalog) -> Result<Option<RebuildState>> {
    match catalog.meta_get(META_REINDEX)? {
        None => Ok(None),
        Some(text) if text.trim().is_empty() => Ok(None),
        Some(text) => Ok(Some(serde_json::from_str(&text).unwrap_or_else(|_| RebuildState {
            model: String::new(),
            dim: 0,
            backend: String::new(),
            done_through: None,
        }))),
    }
}

fn write_state(catalog: &Catalog, state: Option<&RebuildState>) -> Result<()> {
    let text = match state {
        Some(s) => serde_json::to_string(s).map_err(crate::catalog::CatalogError::from)?,
        None => String::new(),
    };
    catalog.meta_set(META_REINDEX, &text)?;
    Ok(())
}

impl Library {
    /// Rebuilds both derived indexes from the catalog alone (after a model change, a backend
    /// switch or damage), reporting `(chunks done, chunks total)`. When opening the library
    /// has just completed a rebuild an interrupted command left, that rebuild is the one
    /// reported: the indexes were rebuilt from the catalog, and nothing has changed since.
    pub fn reindex(&mut self, progress: &mut dyn FnMut(usize, usize)) -> Result<ReindexReport> {
        if let Some(report) = self.resumed_reindex.take() {
            progress(report.chunks, report.chunks);
            return Ok(report);
        }
        self.rebuild(None, progress)
    }

    /// Whether the catalog records a rebuild of the indexes that an interrupted command left
    /// (or that a writer is running now).
    pub fn reindex_interrupted(&self) -> Result<bool> {
        Ok(read_state(&self.catalog)?.is_some())
    }

    /// Completes the rebuild an interrupted command left, if any, with the engines in use.
    /// Without engines it leaves the record alone.
    pub(super) fn complete_interrupted_reindex(&mut self) -> Result<()> {
        let Some(state) = read_state(&self.catalog)? else { return Ok(()) };
        if self.engines.is_none() {
            return Ok(());
        }
        let from = if state.same_target(&self.rebuild_target()?) { state.done_through } else { None };
        let report = self.rebuild(from, &mut |_, _| {})?;
        self.resumed_reindex = Some(report);
        Ok(())
    }

    /// What a rebuild with the engines in use makes.
    fn rebuild_target(&self) -> Result<RebuildState> {
        let engines = self.engines()?;
        let backend = self.options.engines.as_ref().map(|o| o.vector_backend()).unwrap_or_default();
        Ok(RebuildState {
            model: engines.embedder.model_name().to_string(),
            dim: engines.embedder.dim(),
            backend,
            done_through: None,
        })
    }

    /// Rebuilds the indexes: from scratch with `from` `None`, else only the documents after
    /// `from` (those up to it are committed in both indexes by an earlier, interrupted run).
    fn rebuild(
        &mut self,
        from: Option<i64>,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<ReindexReport> {
        let started = Instant::now();
        let mut state = self.rebuild_target()?;
        let engines =
            self.engines.as_ref().ok_or_else(|| Error::NeedsReindex("no engines configured".into()))?;
        let done_through = match from {
            Some(id) => id,
            None => {
                // Recorded before anything is emptied: from here on, an interruption leaves a
                // rebuild for the next writer to complete.
                write_state(&self.catalog, Some(&state))?;
                engines.vectors.recreate(engines.embedder.dim())?;
                engines.keyword.clear()?;
                engines.keyword.commit()?;
                // The indexes are now the new model's and store's, however far they are filled.
                self.catalog.meta_set(META_MODEL, engines.embedder.model_name())?;
                self.catalog.meta_set(META_DIM, &engines.embedder.dim().to_string())?;
                engines.record_backend(&self.catalog)?;
                state.done_through = Some(0);
                write_state(&self.catalog, Some(&state))?;
                0
            }
        };
        let journal = self.catalog.journal()?;
        let removing: HashSet<i64> =
            journal.iter().filter(|e| e.op == JournalOp::Delete).map(|e| e.doc_id).collect();
        let (_, total) = self.catalog.counts()?;
        let total = total as usize;
        let (mut docs, mut done, mut batch) = (0usize, 0usize, 0usize);
        progress(0, total);
        for id in self.catalog.all_doc_ids()? {
            if removing.contains(&id) {
                continue;
            }
            let Some(doc) = self.catalog.get(id)? else { continue };
            docs += 1;
            if id <= done_through {
                done += doc.chunks as usize;
                continue;
            }
            let chunks = self.catalog.chunks_of(id, 0, usize::MAX >> 1)?;
            engines.index_document(&doc, &chunks, &mut |n, _| progress(done + n, total))?;
            done += chunks.len();
            batch += chunks.len();
            progress(done, total);
            if batch >= REBUILD_COMMIT_CHUNKS {
                engines.commit()?;
                state.done_through = Some(id);
                write_state(&self.catalog, Some(&state))?;
                batch = 0;
            }
        }
        engines.commit()?;
        engines.record_backend(&self.catalog)?;
        // Every chunk now has its vector, whatever awaited one.
        self.catalog.clear_all_vectors_pending()?;
        // Every document is now in the indexes as the catalog holds it, and none of those being
        // removed is: the journal's work is done too.
        for e in journal {
            match e.op {
                JournalOp::Index => self.catalog.finish(e.doc_id)?,
                JournalOp::Delete => self.catalog.finish_remove(e.doc_id)?,
            }
        }
        write_state(&self.catalog, None)?;
        Ok(ReindexReport { documents: docs, chunks: done, seconds: started.elapsed().as_secs_f64() })
    }
}
