//! The embedded vector store as a reader uses it, without ever locking a writer out.
//!
//! The store admits one open handle (its write-ahead log takes a file lock), so a reader that
//! kept it open would lock a writer out for as long as the reader lives: an answer being
//! streamed, a pager, the terminal UI. A reader here reads in one of two ways:
//!
//! - Per read (`lore search`, `lore ask`, `lore related`): every read opens the live store,
//!   reads, and closes it again; reads that overlap in one process share the open handle, and
//!   [`ReaderVectors::hold`] keeps it open across the several reads of one operation. While a
//!   writer has marked the store ([`VectorWriterMark`]), or holds it, reads go to a point-in-time
//!   copy instead, kept until something new becomes visible and no writer is left. A writer
//!   waits at most for the reads already running.
//! - From a copy (`copy_only`: the terminal UI, which searches as the user types and cannot
//!   open a large store for every keystroke): reads go to a point-in-time copy taken when the
//!   reader opens, and [`ReaderVectors::refresh`] replaces it in the background when the library
//!   has changed. The live store is never opened.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::lock::VectorWriterMark;
use crate::vector::{EdgeOptions, EdgeStore, VectorError, VectorFilter, VectorHit, VectorPoint, VectorStore};

/// While a writer works, a copy-only reader takes a new copy at most this often (copying a large
/// store is not free, and the writer may change the library every second).
const COPY_EVERY_WHILE_WRITING: Duration = Duration::from_secs(10);

/// Reads tried, each on a new copy, when a read fails on a copy.
const READS_PER_COPY_FAILURE: usize = 3;

/// The embedded store of a library, read on demand. Clones share one state.
#[derive(Clone)]
pub(crate) struct ReaderVectors {
    inner: Arc<Inner>,
}

struct Inner {
    /// The library directory (its catalog and the writer's mark).
    home: PathBuf,
    /// The store directory.
    dir: PathBuf,
    /// Dimension of the embedding model's vectors.
    dim: usize,
    options: EdgeOptions,
    /// Read a copy even when no writer holds the store.
    copy_only: bool,
    state: Mutex<State>,
    /// Told when a new copy is complete.
    copied: Condvar,
}

#[derive(Default)]
struct State {
    /// The live store while reads use it.
    live: Option<Arc<EdgeStore>>,
    /// Reads and holds using `live`.
    users: usize,
    /// The point-in-time copy reads go to, when they do.
    copy: Option<Arc<Copy>>,
    /// New copies are being taken in the background.
    refreshing: bool,
    /// One is being taken now.
    copying: bool,
    /// The library changed again while it was being taken.
    refresh_again: bool,
}

/// A point-in-time copy of the store in a temporary directory (removed when dropped, after the
/// store is closed: fields drop in order).
struct Copy {
    store: EdgeStore,
    /// The catalog's visibility sequence when the copy was taken.
    seq: i64,
    _dir: tempfile::TempDir,
}

/// What a read goes to.
enum Source {
    /// There is no store yet: nothing to find.
    Empty,
    Live(Arc<EdgeStore>),
    Copy(Arc<Copy>),
}

/// Keeps what reads go to (the live store open, or the copy) until dropped.
pub struct VectorHold<'a> {
    inner: Option<&'a Inner>,
    source: Source,
}

impl Drop for VectorHold<'_> {
    fn drop(&mut self) {
        let was_live = matches!(self.source, Source::Live(_));
        self.source = Source::Empty;
        if let (true, Some(inner)) = (was_live, self.inner) {
            let mut state = inner.lock();
            state.users = state.users.saturating_sub(1);
            if state.users == 0 {
                // The last user closes the store: a writer can open it from here on.
                state.live = None;
            }
        }
    }
}

impl VectorHold<'_> {
    /// A hold on nothing (stores other than the embedded one need none).
    pub(crate) fn none() -> VectorHold<'static> {
        VectorHold { inner: None, source: Source::Empty }
    }
}

impl ReaderVectors {
    /// The store of the library `home`, in its directory `dir`, for vectors of `dim`
    /// dimensions; `copy_only` reads a point-in-time copy even when no writer holds the store.
    pub(crate) fn new(home: &Path, dir: &Path, dim: usize, options: EdgeOptions, copy_only: bool) -> Self {
        ReaderVectors {
            inner: Arc::new(Inner {
                home: home.to_path_buf(),
                dir: dir.to_path_buf(),
                dim,
                options,
                copy_only,
                state: Mutex::new(State::default()),
                copied: Condvar::new(),
            }),
        }
    }

    /// Opens what reads go to and keeps it until the hold is dropped.
    pub(crate) fn hold(&self) -> Result<VectorHold<'_>, VectorError> {
        self.inner.hold()
    }

    /// The catalog's visibility sequence when the copy now read was taken, if reads go to one
    /// (after waiting for a copy being taken, as a read does).
    pub(crate) fn snapshot_seq(&self) -> Option<i64> {
        self.inner.settled().copy.as_ref().map(|c| c.seq)
    }

    /// For a copy-only reader: when documents became visible since its copy was taken, takes a
    /// new copy in the background. Reads go to it once it is complete; a read meanwhile waits for
    /// it, unless a writer is still at work (then it reads the old copy: the writer may go on for
    /// long, and the library keep changing). Other readers decide at every read.
    pub(crate) fn refresh(&self) {
        if !self.inner.copy_only {
            return;
        }
        let mut state = self.inner.lock();
        let Some(copy) = &state.copy else { return };
        if copy.seq == super::visible_seq_of(&self.inner.home) {
            return;
        }
        if state.refreshing {
            state.refresh_again = true;
            return;
        }
        // Reads from here on wait for the new copy (see `Inner::hold`).
        state.refreshing = true;
        state.copying = true;
        drop(state);
        let inner = self.inner.clone();
        let started =
            std::thread::Builder::new().name("lore-copy".into()).spawn(move || inner.refresh_copy());
        if started.is_err() {
            let mut state = self.inner.lock();
            (state.refreshing, state.copying) = (false, false);
            self.inner.copied.notify_all();
        }
    }

    /// Whether the live store is open now (some read or hold is using it).
    #[cfg(test)]
    pub(crate) fn is_open(&self) -> bool {
        self.inner.lock().live.is_some()
    }

    /// Whether a new copy is being taken.
    #[cfg(test)]
    pub(crate) fn is_refreshing(&self) -> bool {
        self.inner.lock().refreshing
    }

    /// Runs `read` on what reads go to; with no store yet, the result is empty. A copy is taken
    /// while the writer changes the store's files, and can hold a point whose payload was not
    /// written yet: a read that fails on a copy takes a new copy and tries again.
    fn read<T: Default>(
        &self,
        read: impl Fn(&EdgeStore) -> Result<T, VectorError>,
    ) -> Result<T, VectorError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let hold = self.inner.hold()?;
            let (store, copy) = match &hold.source {
                Source::Empty => return Ok(T::default()),
                Source::Live(store) => (store.as_ref(), None),
                Source::Copy(copy) => (&copy.store, Some(copy)),
            };
            match (read(store), copy) {
                (Err(VectorError::Engine(_)), Some(copy)) if attempt < READS_PER_COPY_FAILURE => {
                    let mut state = self.inner.lock();
                    if state.copy.as_ref().is_some_and(|c| Arc::ptr_eq(c, copy)) {
                        state.copy = None;
                    }
                }
                (result, _) => return result,
            }
        }
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The state once a copy being taken of a complete change is there: a change is read
    /// whole once its copy is. While a writer works, no read waits for a copy.
    fn settled(&self) -> MutexGuard<'_, State> {
        let mut state = self.lock();
        while state.copying && !VectorWriterMark::present(&self.home) {
            state = self.copied.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
        state
    }

    fn hold(&self) -> Result<VectorHold<'_>, VectorError> {
        let mut state = self.settled();
        if let Some(copy) = &state.copy {
            if self.copy_only || !self.copy_outdated(copy) {
                return Ok(VectorHold { inner: Some(self), source: Source::Copy(copy.clone()) });
            }
            state.copy = None;
        }
        if let Some(live) = state.live.clone() {
            state.users += 1;
            return Ok(VectorHold { inner: Some(self), source: Source::Live(live) });
        }
        if !EdgeStore::exists(&self.dir) {
            return Ok(VectorHold { inner: Some(self), source: Source::Empty });
        }
        if !self.copy_only && !VectorWriterMark::present(&self.home) {
            match EdgeStore::open(&self.dir, self.dim, self.options.clone()) {
                Ok(store) => {
                    let live = Arc::new(store);
                    state.live = Some(live.clone());
                    state.users = 1;
                    return Ok(VectorHold { inner: Some(self), source: Source::Live(live) });
                }
                // A writer took it meanwhile; and when the library's disk is too full to open
                // the live store, the copy goes to the temporary directory, usually another disk.
                Err(VectorError::Locked { .. } | VectorError::DiskFull { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let copy = self.take_copy()?;
        state.copy = Some(copy.clone());
        Ok(VectorHold { inner: Some(self), source: Source::Copy(copy) })
    }

    /// A point-in-time copy of the live store.
    fn take_copy(&self) -> Result<Arc<Copy>, VectorError> {
        // Noted before the copy: whatever became visible later is left out of its results.
        let seq = super::visible_seq_of(&self.home);
        let (dir, store) = super::copy_of_live_store(&self.dir, &self.options)?;
        Ok(Arc::new(Copy { store, seq, _dir: dir }))
    }

    /// Takes new copies until no change is left unseen, then ends (on its own thread).
    fn refresh_copy(&self) {
        loop {
            let started = Instant::now();
            self.lock().copying = true;
            // A copy that fails (the disk is full) leaves the old one in use; the next change
            // tries again.
            let copy = self.take_copy();
            {
                let mut state = self.lock();
                if let Ok(copy) = copy {
                    state.copy = Some(copy);
                }
                state.copying = false;
                self.copied.notify_all();
                if !state.refresh_again {
                    state.refreshing = false;
                    return;
                }
                state.refresh_again = false;
            }
            // While a writer works, no more than one copy every few seconds; when it is done,
            // the last change is copied at once.
            while started.elapsed() < COPY_EVERY_WHILE_WRITING && VectorWriterMark::present(&self.home) {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }

    /// Whether a copy should give way to the live store (or a newer copy): documents became
    /// visible since it was taken and no writer has the store any more. While a writer works,
    /// the copy stays, so reads see one moment and the store is not copied again and again.
    fn copy_outdated(&self, copy: &Copy) -> bool {
        !VectorWriterMark::present(&self.home) && super::visible_seq_of(&self.home) != copy.seq
    }
}

impl VectorStore for ReaderVectors {
    fn backend(&self) -> &'static str {
        "qdrant-edge"
    }

    /// The embedding model's dimension: opening the store checks that it holds vectors of it.
    fn dim(&self) -> usize {
        self.inner.dim
    }

    fn upsert(&self, _points: &[VectorPoint]) -> Result<(), VectorError> {
        Err(read_only())
    }

    fn delete_doc(&self, _doc_id: i64) -> Result<(), VectorError> {
        Err(read_only())
    }

    fn delete_points(&self, _chunk_ids: &[i64]) -> Result<(), VectorError> {
        Err(read_only())
    }

    fn search(&self, query: &[f32], k: usize, filter: &VectorFilter) -> Result<Vec<VectorHit>, VectorError> {
        self.read(|s| s.search(query, k, filter))
    }

    fn count(&self) -> Result<u64, VectorError> {
        self.read(|s| s.count())
    }

    fn all_ids(&self) -> Result<Vec<i64>, VectorError> {
        self.read(|s| s.all_ids())
    }

    fn doc_vectors(&self, doc_id: i64) -> Result<Vec<(i64, Vec<f32>)>, VectorError> {
        self.read(|s| s.doc_vectors(doc_id))
    }

    fn flush(&self) -> Result<(), VectorError> {
        Ok(())
    }

    fn optimize(&self) -> Result<(), VectorError> {
        Err(read_only())
    }

    fn unindexed(&self) -> Result<u64, VectorError> {
        self.read(|s| s.unindexed())
    }

    fn outdated(&self) -> Result<u64, VectorError> {
        self.read(|s| s.outdated())
    }

    fn recreate(&self, _dim: usize) -> Result<(), VectorError> {
        Err(read_only())
    }
}

fn read_only() -> VectorError {
    VectorError::Engine("the vector store was opened for searching, not for writing".into())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::catalog::{Catalog, NewDocument};

    const DIM: usize = 4;

    fn point(chunk_id: i64, axis: usize) -> VectorPoint {
        let mut vector = vec![0.0; DIM];
        vector[axis] = 1.0;
        VectorPoint {
            chunk_id,
            doc_id: 1,
            ordinal: chunk_id,
            vector,
            kind: "text".into(),
            tags: vec![],
            published: None,
            added: 0,
            lang: None,
        }
    }

    /// A store in the library `home` holding chunk 1 along the first axis.
    fn store(home: &Path) -> PathBuf {
        let dir = home.join("qdrant");
        let writer = EdgeStore::open(&dir, DIM, EdgeOptions::default()).unwrap();
        writer.upsert(&[point(1, 0)]).unwrap();
        writer.flush().unwrap();
        dir
    }

    fn nearest(r: &ReaderVectors, axis: usize) -> Option<i64> {
        let mut q = vec![0.0; DIM];
        q[axis] = 1.0;
        r.search(&q, 1, &VectorFilter::default()).unwrap().first().map(|h| h.chunk_id)
    }

    fn writer_opens(dir: &Path) -> bool {
        match EdgeStore::open(dir, DIM, EdgeOptions::default()) {
            Ok(_) => true,
            Err(VectorError::Locked { .. }) => false,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_reader_holds_the_store_only_while_it_reads() {
        let home = tempfile::tempdir().unwrap();
        let dir = store(home.path());
        let reader = ReaderVectors::new(home.path(), &dir, DIM, EdgeOptions::default(), false);
        assert_eq!(nearest(&reader, 0), Some(1));
        assert!(!reader.is_open());
        assert_eq!(reader.snapshot_seq(), None, "the live store was read");
        assert!(writer_opens(&dir), "a writer opens the store right after a search");
        // A hold keeps it open across several reads, and no longer.
        let hold = reader.hold().unwrap();
        assert_eq!(nearest(&reader, 0), Some(1));
        assert_eq!(reader.all_ids().unwrap(), vec![1]);
        assert!(reader.is_open());
        assert!(!writer_opens(&dir));
        drop(hold);
        assert!(!reader.is_open());
        assert!(writer_opens(&dir));
    }

    #[test]
    fn beside_a_writer_a_reader_reads_a_copy_and_goes_back_to_the_store_after_it() {
        let home = tempfile::tempdir().unwrap();
        let dir = store(home.path());
        let mut catalog = Catalog::open_home(home.path()).unwrap();
        let reader = ReaderVectors::new(home.path(), &dir, DIM, EdgeOptions::default(), false);

        // A writer marks the store and opens it: the reader reads a copy, never the store.
        let mark = VectorWriterMark::acquire(home.path(), Duration::ZERO).unwrap();
        let writer = EdgeStore::open(&dir, DIM, EdgeOptions::default()).unwrap();
        assert_eq!(nearest(&reader, 0), Some(1));
        assert_eq!(reader.snapshot_seq(), Some(0));
        // The writer adds a chunk and makes a document visible; while it works, the copy
        // stays what it was.
        writer.upsert(&[point(2, 1)]).unwrap();
        writer.flush().unwrap();
        let text = home.path().join("note.txt");
        std::fs::write(&text, "A note about copies of vector stores.\n").unwrap();
        let doc = lore_ingest::load_path(&text, &Default::default()).unwrap();
        let chunks = lore_ingest::Chunker::estimated(Default::default()).chunk(&doc).unwrap();
        let new = NewDocument { doc: &doc, chunks: &chunks, tags: &[], root_id: None, file: None };
        let id = catalog.begin_upsert(&new).unwrap().doc_id();
        catalog.finish(id).unwrap();
        assert_eq!(nearest(&reader, 1), Some(1), "the copy does not hold the new chunk");
        // The writer is done: the next read goes to the store, new chunk and all.
        drop(writer);
        drop(mark);
        assert_eq!(nearest(&reader, 1), Some(2));
        assert_eq!(reader.snapshot_seq(), None);
        assert!(!reader.is_open());
    }

    #[test]
    fn a_copy_only_reader_never_opens_the_store_and_renews_its_copy_in_the_background() {
        let home = tempfile::tempdir().unwrap();
        let dir = store(home.path());
        let mut catalog = Catalog::open_home(home.path()).unwrap();
        let reader = ReaderVectors::new(home.path(), &dir, DIM, EdgeOptions::default(), true);
        assert_eq!(nearest(&reader, 0), Some(1));
        assert_eq!(reader.snapshot_seq(), Some(0));
        assert!(!reader.is_open() && writer_opens(&dir));
        // Nothing changed: nothing to renew.
        reader.refresh();
        assert!(!reader.is_refreshing());
        // A writer adds a chunk of a document that becomes visible.
        let writer = EdgeStore::open(&dir, DIM, EdgeOptions::default()).unwrap();
        writer.upsert(&[point(2, 1)]).unwrap();
        writer.flush().unwrap();
        drop(writer);
        let text = home.path().join("note.txt");
        std::fs::write(&text, "A note about copies of vector stores.\n").unwrap();
        let doc = lore_ingest::load_path(&text, &Default::default()).unwrap();
        let chunks = lore_ingest::Chunker::estimated(Default::default()).chunk(&doc).unwrap();
        let new = NewDocument { doc: &doc, chunks: &chunks, tags: &[], root_id: None, file: None };
        let id = catalog.begin_upsert(&new).unwrap().doc_id();
        catalog.finish(id).unwrap();
        // Reads stay on the copy until it is renewed; once the writer is gone, a read during
        // the renewal waits for it.
        assert_eq!(nearest(&reader, 1), Some(1));
        reader.refresh();
        // A search notes the copy's sequence before it reads: that waits as well, so the new
        // document is not left out as "made visible after the copy".
        assert_eq!(reader.snapshot_seq(), Some(1));
        assert_eq!(nearest(&reader, 1), Some(2));
        let started = std::time::Instant::now();
        while reader.is_refreshing() {
            assert!(started.elapsed() < Duration::from_secs(60), "the renewal never ended");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(!reader.is_open());
    }

    #[test]
    fn a_reader_of_a_library_without_a_store_finds_nothing_and_creates_nothing() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("qdrant");
        let reader = ReaderVectors::new(home.path(), &dir, DIM, EdgeOptions::default(), false);
        assert_eq!(nearest(&reader, 0), None);
        assert_eq!(reader.count().unwrap(), 0);
        assert!(!dir.exists());
    }
}
