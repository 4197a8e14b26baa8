//! Files with the same content at more than one path: the document is kept once, with every
//! path remembered (see [`crate::catalog::CopyPath`]), and stays while any of its paths exists.

use lore_ingest::Kind;

use super::{ItemOutcome, Library};
use crate::catalog::{CopyPath, FileStat};
use crate::error::Result;

/// What removing one path of a document did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RemovedPath {
    /// The document.
    pub doc_id: i64,
    /// Its title.
    pub title: String,
    /// The path forgotten.
    pub path: String,
    /// The path the document stays at.
    pub kept_at: String,
}

/// Whether a copy's file is still there with the content `hash` (its stat as recorded, or its
/// bytes hashing the same).
fn still_holds(copy: &CopyPath, hash: &str) -> bool {
    let Ok(meta) = std::fs::metadata(&copy.path) else { return false };
    if copy.file.is_some() && FileStat::of(&meta) == copy.file {
        return true;
    }
    std::fs::read(&copy.path).is_ok_and(|bytes| lore_ingest::hash::content_hash(&bytes) == hash)
}

impl Library {
    /// Sorts out a file read at `canonical` whose content may be in the library under another
    /// path. A file with the content of another document becomes (or stays) a path of it:
    /// [`ItemOutcome::SameContent`]. A copy whose content changed is a copy no more, and a
    /// document's first path that now holds other content hands the document to one of its
    /// copies; both are then added as any file is (`None`).
    pub(crate) fn same_content(
        &mut self,
        canonical: &str,
        kind: Kind,
        hash: &str,
        root: Option<i64>,
        file: Option<FileStat>,
        tags: &[String],
    ) -> Result<Option<ItemOutcome>> {
        if let Some(copy) = self.catalog.copy_at(canonical)? {
            match self.catalog.get(copy.doc_id)? {
                Some(doc) if doc.hash == hash => {
                    self.catalog.add_copy(doc.id, canonical, root, file, tags)?;
                    return Ok(Some(ItemOutcome::SameContent {
                        doc_id: doc.id,
                        title: doc.title,
                        source: doc.source,
                    }));
                }
                _ => {
                    self.catalog.remove_copy(canonical)?;
                }
            }
        }
        match self.catalog.lookup_source(canonical)? {
            Some((_, old)) if old == hash => return Ok(None),
            Some((id, old)) => {
                let copies = self.catalog.copies_of(id)?;
                let Some(copy) = copies.iter().find(|c| still_holds(c, &old)) else { return Ok(None) };
                self.catalog.promote_copy(copy)?;
            }
            None => {}
        }
        let Some((doc_id, first)) = self.catalog.same_content(hash, kind.as_str())? else { return Ok(None) };
        if first == canonical {
            return Ok(None);
        }
        self.catalog.add_copy(doc_id, canonical, root, file, tags)?;
        let title = self.catalog.get(doc_id)?.map(|d| d.title).unwrap_or_default();
        Ok(Some(ItemOutcome::SameContent { doc_id, title, source: first }))
    }

    /// Forgets one path of a document that has others: a copy, or its first path when one of its
    /// copies is still there (that copy becomes its first path). `None` when `spec` names no
    /// document's path or names the only path left of one: removing that is removing the
    /// document ([`Library::remove`]).
    pub fn remove_path(&mut self, spec: &str) -> Result<Option<RemovedPath>> {
        self.indexes_usable()?;
        let mut candidates = vec![spec.to_string()];
        if let Ok(abs) = std::fs::canonicalize(spec) {
            candidates.push(abs.display().to_string());
        } else if let Ok(abs) = std::path::absolute(spec) {
            candidates.push(abs.display().to_string());
        }
        for path in &candidates {
            if let Some(copy) = self.catalog.copy_at(path)? {
                self.catalog.remove_copy(path)?;
                let doc = self.catalog.get(copy.doc_id)?;
                let (title, kept_at) = doc.map(|d| (d.title, d.source)).unwrap_or_default();
                return Ok(Some(RemovedPath { doc_id: copy.doc_id, title, path: path.clone(), kept_at }));
            }
            let Some((id, hash)) = self.catalog.lookup_source(path)? else { continue };
            let copies = self.catalog.copies_of(id)?;
            let Some(copy) = copies.iter().find(|c| still_holds(c, &hash)) else { return Ok(None) };
            self.catalog.promote_copy(copy)?;
            let title = self.catalog.get(id)?.map(|d| d.title).unwrap_or_default();
            return Ok(Some(RemovedPath {
                doc_id: id,
                title,
                path: path.clone(),
                kept_at: copy.path.clone(),
            }));
        }
        Ok(None)
    }

    /// A copy of document `doc_id` (whose content is `hash`) that is still there, to take the
    /// place of its first path.
    pub(crate) fn surviving_copy(&self, doc_id: i64, hash: &str) -> Result<Option<CopyPath>> {
        Ok(self.catalog.copies_of(doc_id)?.into_iter().find(|c| still_holds(c, hash)))
    }
}
