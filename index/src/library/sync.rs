//! `lore sync`: brings the library in step with its source roots (the files and folders given to
//! `add`) without a rebuild.
//!
//! A sync scans each root and sorts every file it finds:
//! - recorded with the same size and modification time: unchanged, not even read;
//! - recorded, but with another stat: read and hashed; a new hash replaces the document's
//!   chunks, the same hash only refreshes the recorded stat;
//! - not recorded, with the content (same kind, size and hash) of a recorded document whose file
//!   is gone: renamed or moved; the document takes the new path and keeps its id, chunks and
//!   vectors (the derived indexes hold ids, not paths, so nothing is embedded again);
//! - not recorded, with the content of a document already in the library at another path: kept
//!   once, its path remembered as one more path of that document;
//! - not recorded otherwise: added.
//!
//! A recorded document under a root whose file no longer exists is removed from the catalog and
//! both derived indexes in one journalled step, unless another of its paths still holds it: the
//! document then stays there, and only the gone path is forgotten. A folder root that is missing altogether (an
//! unmounted disk, a renamed folder) is reported and its documents are kept. Files that failed
//! to load are remembered with their stat and not parsed again until they change.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use lore_ingest::folder;
use serde::Serialize;

use super::{AddEvent, ItemOutcome, Library};
use crate::catalog::{CopyPath, FileStat, Root, TrackedDoc};
use crate::error::{Error, Result};

/// What a sync did to one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A new file was added.
    Added,
    /// A file's content changed; its chunks were replaced.
    Updated,
    /// A file is gone; its document was removed.
    Removed,
    /// A file was renamed or moved with its content unchanged; its document took the new path.
    Renamed,
    /// A new file has the content of a document already in the library; its path was added to
    /// that document, nothing was embedded.
    SameContent,
    /// A path of a document is gone; the document stays at its other paths.
    PathRemoved,
}

/// One change a sync made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncChange {
    /// What happened.
    pub change: ChangeKind,
    /// The file (for a rename, its new path).
    pub path: String,
    /// The old path of a renamed file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The document.
    pub doc_id: i64,
    /// Chunks written (added and updated documents).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunks: Option<usize>,
}

/// Totals of a sync.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    /// Roots scanned.
    pub roots: usize,
    /// New documents.
    pub added: usize,
    /// Documents whose content changed.
    pub updated: usize,
    /// Documents whose file is gone.
    pub removed: usize,
    /// Documents whose file was renamed or moved, content unchanged.
    pub renamed: usize,
    /// New files with the content of a document already in the library, kept once.
    pub same_content: usize,
    /// Gone paths of documents that other paths still hold.
    pub paths_removed: usize,
    /// Files found as they were.
    pub unchanged: usize,
    /// Files that could not be read or loaded, one line each.
    pub failed: Vec<String>,
    /// Folder roots that are missing (their documents are kept), one line each.
    pub missing_roots: Vec<String>,
    /// Chunks written.
    pub chunks: usize,
    /// Every change, in the order made.
    pub changes: Vec<SyncChange>,
    /// Time taken in seconds.
    pub seconds: f64,
}

impl SyncReport {
    /// Whether the sync changed the library.
    pub fn changed(&self) -> bool {
        self.added + self.updated + self.removed + self.renamed + self.same_content + self.paths_removed > 0
    }
}

/// What forgetting a root did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ForgetReport {
    /// The root's path.
    pub root: String,
    /// Documents removed (with `purge`).
    pub removed: usize,
    /// Documents under the root that stay (without `purge`, or under another root).
    pub kept: usize,
}

/// Whether `source` is the root at `root` or lies under it.
fn covers(root: &str, source: &str) -> bool {
    source == root
        || source.strip_prefix(root).is_some_and(|rest| rest.starts_with('/') || root.ends_with('/'))
}

/// A file to read: changed or new.
#[derive(Debug, Clone)]
struct Read {
    path: PathBuf,
    canonical: String,
    root: i64,
    stat: Option<FileStat>,
}

/// A document that takes a new path.
#[derive(Debug, Clone)]
struct Rename {
    doc: TrackedDoc,
    to: Read,
}

/// What a sync will do.
#[derive(Debug, Default)]
struct Plan {
    reads: Vec<Read>,
    renames: Vec<Rename>,
    removals: Vec<TrackedDoc>,
    /// Gone first paths of documents, each with the copy that takes its place.
    handovers: Vec<(TrackedDoc, CopyPath)>,
    /// Gone copies.
    lost_copies: Vec<CopyPath>,
}

/// Whether a path is certainly gone (not merely unreadable).
fn is_gone(path: &str) -> bool {
    matches!(std::fs::metadata(path), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
}

/// Whether a root is a local file or folder (the roots a sync scans).
pub fn is_local(root: &Root) -> bool {
    root.kind == "file" || root.kind == "folder"
}

/// The roots that a user's words name: a root id, or a path (as given or made absolute).
/// Every word must name a root.
pub fn find_roots(all: &[Root], specs: &[String]) -> std::result::Result<Vec<Root>, String> {
    let mut out: Vec<Root> = Vec::new();
    for spec in specs {
        let by_id = spec.trim().parse::<i64>().ok().and_then(|id| all.iter().find(|r| r.id == id));
        let canonical = std::fs::canonicalize(spec).ok().map(|p| p.display().to_string());
        let trimmed = spec.trim_end_matches('/');
        let found = by_id.or_else(|| {
            all.iter().find(|r| r.path == trimmed || r.path == *spec || Some(&r.path) == canonical.as_ref())
        });
        match found {
            Some(r) => {
                if !out.iter().any(|o| o.id == r.id) {
                    out.push(r.clone());
                }
            }
            None => return Err(format!("{spec:?} is not a source root (see `lore roots`)")),
        }
    }
    Ok(out)
}

impl Library {
    /// Re-scans `roots` (say, all of [`Catalog::roots`](crate::catalog::Catalog::roots); those
    /// that are not local files or folders are left out) and applies what changed: new files are
    /// added, changed ones updated, gone ones removed, renamed ones moved. Progress is reported
    /// as for an add, for the files that have to be read. One failing file never stops the sync.
    pub fn sync(&mut self, roots: &[Root], progress: &mut dyn FnMut(AddEvent<'_>)) -> Result<SyncReport> {
        self.indexes_usable()?;
        let started = Instant::now();
        let roots: Vec<Root> = roots.iter().filter(|r| is_local(r)).cloned().collect();
        let mut report = SyncReport { roots: roots.len(), ..Default::default() };
        let plan = self.plan_sync(&roots, &mut report)?;
        let tags: HashMap<i64, Vec<String>> = roots.iter().map(|r| (r.id, r.tags.clone())).collect();
        self.apply_renames(&plan.renames, &tags, &mut report)?;
        self.apply_path_removals(&plan, &mut report)?;
        self.apply_removals(&plan.removals, &mut report)?;
        self.apply_reads(&plan.reads, &tags, &mut report, progress)?;
        self.commit()?;
        for root in &roots {
            self.catalog().clear_failures_under(&root.path, &|p| !is_gone(p))?;
        }
        self.embed_pending(&mut |done, total| progress(AddEvent::Vectors { done, total }))?;
        report.seconds = started.elapsed().as_secs_f64();
        Ok(report)
    }

    /// Forgets a source root: `lore sync` no longer scans it. With `purge`, the documents under
    /// it are removed too, except those that another root also covers.
    pub fn forget_root(&mut self, root: &Root, purge: bool) -> Result<ForgetReport> {
        let others: Vec<Root> = self.catalog().roots()?.into_iter().filter(|r| r.id != root.id).collect();
        let docs = self.catalog().docs_under(&root.path)?;
        let (shared, alone): (Vec<TrackedDoc>, Vec<TrackedDoc>) =
            docs.into_iter().partition(|d| others.iter().any(|r| covers(&r.path, &d.source)));
        let mut report = ForgetReport { root: root.path.clone(), removed: 0, kept: shared.len() };
        if purge {
            self.indexes_usable()?;
            // A document that a copy outside the root still holds stays there.
            let mut removals = Vec::new();
            for doc in alone {
                let outside = self.surviving_copy(doc.id, &doc.hash)?.filter(|c| {
                    !covers(&root.path, &c.path) || others.iter().any(|r| covers(&r.path, &c.path))
                });
                match outside {
                    Some(copy) => {
                        self.catalog_mut().promote_copy(&copy)?;
                        report.kept += 1;
                    }
                    None => removals.push(doc),
                }
            }
            for copy in self.catalog().copies_under(&root.path)? {
                if !others.iter().any(|r| covers(&r.path, &copy.path)) {
                    self.catalog().remove_copy(&copy.path)?;
                }
            }
            let mut sync = SyncReport::default();
            self.apply_removals(&removals, &mut sync)?;
            report.removed = sync.removed;
        } else {
            report.kept += alone.len();
        }
        self.catalog().remove_root(root.id)?;
        if !others.iter().any(|r| covers(&r.path, &root.path)) {
            self.catalog().clear_failures_under(&root.path, &|_| false)?;
        }
        Ok(report)
    }

    /// Scans the roots and sorts what it finds (see the module docs).
    fn plan_sync(&self, roots: &[Root], report: &mut SyncReport) -> Result<Plan> {
        let catalog = self.catalog();
        let mut known: HashMap<String, TrackedDoc> = HashMap::new();
        let mut copies: HashMap<String, CopyPath> = HashMap::new();
        let mut scanned: Vec<&Root> = Vec::new();
        for root in roots {
            let path = Path::new(&root.path);
            match std::fs::metadata(path) {
                Ok(_) => scanned.push(root),
                // A file root whose folder is still there was deleted: its document goes.
                Err(e)
                    if e.kind() == std::io::ErrorKind::NotFound
                        && root.kind == "file"
                        && path.parent().is_some_and(Path::is_dir) => {}
                Err(e) => {
                    report.missing_roots.push(format!("{}: {e}", root.path));
                    continue;
                }
            }
            for doc in catalog.docs_under(&root.path)? {
                known.insert(doc.source.clone(), doc);
            }
            for copy in catalog.copies_under(&root.path)? {
                copies.insert(copy.path.clone(), copy);
            }
        }

        let mut plan = Plan::default();
        let mut seen: HashSet<String> = HashSet::new();
        let mut new_files: Vec<Read> = Vec::new();
        for root in scanned {
            let scan = folder::scan(Path::new(&root.path));
            for (path, why) in scan.errors {
                report.failed.push(format!("{}: cannot read: {why}", path.display()));
            }
            for path in scan.files {
                let canonical = match std::fs::canonicalize(&path) {
                    Ok(c) => c.display().to_string(),
                    Err(e) => {
                        report.failed.push(format!("{}: cannot read: {e}", path.display()));
                        continue;
                    }
                };
                if !seen.insert(canonical.clone()) {
                    continue;
                }
                let stat = match std::fs::metadata(&path) {
                    Ok(meta) => FileStat::of(&meta),
                    Err(e) => {
                        report.failed.push(format!("{}: cannot read: {e}", path.display()));
                        continue;
                    }
                };
                let doc = known.get(&canonical);
                if let Some(doc) = doc
                    && !doc.pending
                    && stat.is_some()
                    && doc.file == stat
                {
                    report.unchanged += 1;
                    continue;
                }
                let copy = copies.get(&canonical);
                if copy.is_some_and(|c| stat.is_some() && c.file == stat) {
                    report.unchanged += 1;
                    continue;
                }
                if let Some(stat) = stat
                    && let Some(message) = catalog.failed_unchanged(&canonical, stat)?
                {
                    report.failed.push(message);
                    continue;
                }
                let read = Read { path, canonical, root: root.id, stat };
                if doc.is_some() || copy.is_some() { plan.reads.push(read) } else { new_files.push(read) }
            }
        }

        let mut gone: Vec<TrackedDoc> = Vec::new();
        for doc in known.into_values().filter(|d| !seen.contains(&d.source) && is_gone(&d.source)) {
            match self.surviving_copy(doc.id, &doc.hash)? {
                Some(copy) => plan.handovers.push((doc, copy)),
                None => gone.push(doc),
            }
        }
        gone.sort_by(|a, b| a.source.cmp(&b.source));
        plan.handovers.sort_by(|a, b| a.0.source.cmp(&b.0.source));
        let handed: HashSet<&str> = plan.handovers.iter().map(|(_, c)| c.path.as_str()).collect();
        plan.lost_copies = copies
            .into_values()
            .filter(|c| !seen.contains(&c.path) && !handed.contains(c.path.as_str()) && is_gone(&c.path))
            .collect();
        plan.lost_copies.sort_by(|a, b| a.path.cmp(&b.path));
        let mut claimed = vec![false; gone.len()];
        for read in new_files {
            match rename_of(&read, &gone, &claimed) {
                Some(i) => {
                    claimed[i] = true;
                    plan.renames.push(Rename { doc: gone[i].clone(), to: read });
                }
                None => plan.reads.push(read),
            }
        }
        plan.removals = gone.into_iter().zip(claimed).filter(|(_, c)| !c).map(|(d, _)| d).collect();
        Ok(plan)
    }

    /// Moves renamed documents to their new paths. Those that gained tags from a new root are
    /// written to the derived indexes again, from their stored vectors when the store has them.
    fn apply_renames(
        &mut self,
        renames: &[Rename],
        tags: &HashMap<i64, Vec<String>>,
        report: &mut SyncReport,
    ) -> Result<()> {
        let mut retag = Vec::new();
        for r in renames {
            let root_tags = tags.get(&r.to.root).map(Vec::as_slice).unwrap_or_default();
            let moved = self.catalog_mut().move_document(
                r.doc.id,
                &r.to.canonical,
                Some(r.to.root),
                r.to.stat,
                root_tags,
            )?;
            if moved {
                retag.push(r.doc.id);
            }
            self.catalog().clear_failure(&r.to.canonical)?;
            report.renamed += 1;
            report.changes.push(SyncChange {
                change: ChangeKind::Renamed,
                path: r.to.canonical.clone(),
                from: Some(r.doc.source.clone()),
                doc_id: r.doc.id,
                chunks: None,
            });
        }
        if retag.is_empty() {
            return Ok(());
        }
        if let Ok(engines) = self.engines() {
            for &id in &retag {
                let Some(doc) = self.catalog().get(id)? else { continue };
                let chunks = self.catalog().chunks_of(id, 0, usize::MAX >> 1)?;
                match engines.vectors.doc_vectors(id) {
                    Ok(stored) if stored.iter().map(|(c, _)| *c).eq(chunks.iter().map(|c| c.id)) => {
                        engines.write_document(&doc, &chunks, stored.into_iter().map(|(_, v)| v).collect())?
                    }
                    // Some chunks await their vectors: all are made again in the second phase.
                    _ => {
                        engines.write_keywords(&doc, &chunks)?;
                        self.catalog().mark_vectors_pending(id)?;
                    }
                }
            }
            engines.commit()?;
        }
        for id in retag {
            self.catalog().finish(id)?;
        }
        Ok(())
    }

    /// Forgets the gone paths of documents that other paths still hold: a gone first path hands
    /// its document to a copy, a gone copy is dropped.
    fn apply_path_removals(&mut self, plan: &Plan, report: &mut SyncReport) -> Result<()> {
        for (doc, copy) in &plan.handovers {
            self.catalog_mut().promote_copy(copy)?;
            report.paths_removed += 1;
            report.changes.push(SyncChange {
                change: ChangeKind::PathRemoved,
                path: doc.source.clone(),
                from: None,
                doc_id: doc.id,
                chunks: None,
            });
        }
        for copy in &plan.lost_copies {
            self.catalog().remove_copy(&copy.path)?;
            report.paths_removed += 1;
            report.changes.push(SyncChange {
                change: ChangeKind::PathRemoved,
                path: copy.path.clone(),
                from: None,
                doc_id: copy.doc_id,
                chunks: None,
            });
        }
        Ok(())
    }

    /// Removes the documents whose files are gone: journalled in the catalog first, then taken
    /// out of both derived indexes with one commit, then deleted from the catalog.
    fn apply_removals(&mut self, gone: &[TrackedDoc], report: &mut SyncReport) -> Result<()> {
        if gone.is_empty() {
            return Ok(());
        }
        for doc in gone {
            self.catalog().begin_remove(doc.id)?;
        }
        if let Ok(engines) = self.engines() {
            for doc in gone {
                engines.remove_document(doc.id)?;
            }
            engines.commit()?;
        }
        for doc in gone {
            self.catalog_mut().finish_remove(doc.id)?;
            report.removed += 1;
            report.changes.push(SyncChange {
                change: ChangeKind::Removed,
                path: doc.source.clone(),
                from: None,
                doc_id: doc.id,
                chunks: None,
            });
        }
        Ok(())
    }

    /// Reads the changed and new files through the same path as `add`.
    fn apply_reads(
        &mut self,
        reads: &[Read],
        tags: &HashMap<i64, Vec<String>>,
        report: &mut SyncReport,
        progress: &mut dyn FnMut(AddEvent<'_>),
    ) -> Result<()> {
        progress(AddEvent::Planned { total: reads.len(), skipped: 0 });
        self.note_ocr_languages()?;
        for (index, read) in reads.iter().enumerate() {
            let path = read.path.as_path();
            progress(AddEvent::Started { index, path });
            let root_tags = tags.get(&read.root).map(Vec::as_slice).unwrap_or_default();
            let added = self.add_file(path, Some(read.root), root_tags, &mut |page| {
                progress(AddEvent::Ocr { index, path, page })
            });
            let outcome = match added {
                Ok(o) => o,
                Err(Error::Ingest(e)) => {
                    ItemOutcome::Failed { code: e.reason_code(), message: e.to_string() }
                }
                Err(e) if e.stops_batch() => return Err(e),
                Err(e) => ItemOutcome::Failed { code: "error", message: format!("{}: {e}", path.display()) },
            };
            let change = |change, doc_id: i64, chunks: usize| SyncChange {
                change,
                path: read.canonical.clone(),
                from: None,
                doc_id,
                chunks: Some(chunks),
            };
            match &outcome {
                ItemOutcome::Added { doc_id, chunks, .. } => {
                    report.added += 1;
                    report.chunks += chunks;
                    report.changes.push(change(ChangeKind::Added, *doc_id, *chunks));
                }
                ItemOutcome::Updated { doc_id, chunks, .. } => {
                    report.updated += 1;
                    report.chunks += chunks;
                    report.changes.push(change(ChangeKind::Updated, *doc_id, *chunks));
                }
                ItemOutcome::Unchanged { .. } => report.unchanged += 1,
                ItemOutcome::SameContent { doc_id, .. } => {
                    report.same_content += 1;
                    report.changes.push(SyncChange {
                        change: ChangeKind::SameContent,
                        path: read.canonical.clone(),
                        from: None,
                        doc_id: *doc_id,
                        chunks: None,
                    });
                }
                ItemOutcome::Failed { message, .. } => {
                    report.failed.push(message.clone());
                    if let Some(stat) = read.stat {
                        self.catalog().record_failure(&read.canonical, stat, message)?;
                    }
                }
            }
            if !matches!(outcome, ItemOutcome::Failed { .. }) {
                self.catalog().clear_failure(&read.canonical)?;
            }
            progress(AddEvent::Finished { index, path, outcome: &outcome });
        }
        Ok(())
    }
}

/// The gone document (not yet claimed) that a new file is a rename of: same kind, size and
/// content hash. Only files whose size matches a gone document are read to hash them.
fn rename_of(read: &Read, gone: &[TrackedDoc], claimed: &[bool]) -> Option<usize> {
    let stat = read.stat?;
    let kind = lore_ingest::load::kind_for_path(&read.path)?.as_str();
    let candidates: Vec<usize> = (0..gone.len())
        .filter(|&i| !claimed[i] && gone[i].kind == kind && gone[i].file.is_some_and(|f| f.size == stat.size))
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let bytes = std::fs::read(&read.path).ok()?;
    let hash = lore_ingest::hash::content_hash(&bytes);
    candidates.into_iter().find(|&i| gone[i].hash == hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(id: i64, path: &str) -> Root {
        Root { id, path: path.into(), kind: "folder".into(), tags: vec![], added_at: String::new() }
    }

    #[test]
    fn roots_are_named_by_id_or_path() {
        let all = vec![root(1, "/books"), root(2, "/notes")];
        let found = find_roots(&all, &["2".into(), "/books/".into(), "/notes".into()]).unwrap();
        assert_eq!(found.iter().map(|r| r.id).collect::<Vec<_>>(), vec![2, 1]);
        let err = find_roots(&all, &["/elsewhere".into()]).unwrap_err();
        assert!(err.contains("/elsewhere"), "{err}");
    }

    #[test]
    fn a_root_covers_itself_and_what_lies_under_it() {
        assert!(covers("/books", "/books"));
        assert!(covers("/books", "/books/a.pdf"));
        assert!(covers("/", "/books/a.pdf"));
        assert!(!covers("/books", "/books2/a.pdf"));
        assert!(!covers("/books/a.pdf", "/books"));
    }

    #[test]
    fn a_rename_needs_the_same_kind_size_and_content() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("new.md");
        std::fs::write(&new, "# Same\n\ntext").unwrap();
        let meta = std::fs::metadata(&new).unwrap();
        let stat = FileStat::of(&meta);
        let read = Read { path: new.clone(), canonical: new.display().to_string(), root: 1, stat };
        let doc = |kind: &str, hash: String, size: u64| TrackedDoc {
            id: 1,
            source: "/gone/old.md".into(),
            kind: kind.into(),
            hash,
            file: Some(FileStat { mtime: 0, size }),
            tags: vec![],
            pending: false,
        };
        let hash = lore_ingest::hash::content_hash(b"# Same\n\ntext");
        let size = meta.len();
        assert_eq!(rename_of(&read, &[doc("markdown", hash.clone(), size)], &[false]), Some(0));
        assert_eq!(rename_of(&read, &[doc("markdown", hash.clone(), size)], &[true]), None);
        assert_eq!(rename_of(&read, &[doc("text", hash.clone(), size)], &[false]), None);
        assert_eq!(rename_of(&read, &[doc("markdown", hash, size + 1)], &[false]), None);
        assert_eq!(rename_of(&read, &[doc("markdown", "other".into(), size)], &[false]), None);
    }
}
