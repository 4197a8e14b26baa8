//! Section summaries (table `section_summaries`): what a chat model wrote about a run of a
//! document's sections when a whole-document or chapter question was answered by map-reduce
//! (`lore_agent::overview`). They are a cache: each row names the document version it was made
//! from, [`Catalog::begin_upsert`] drops a changed document's rows, and removing a document
//! drops its rows with it.

use rusqlite::{OptionalExtension, params};

use super::{Catalog, CatalogError, Result, now};

/// One cached summary of a run of sections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionSummary<'a> {
    /// The document.
    pub doc_id: i64,
    /// The content hash of the document version summarised ([`super::DocSummary::hash`]).
    pub doc_hash: &'a str,
    /// What identifies the summary within the document: a hash of what the model was given.
    pub key: &'a str,
    /// First section of the run (ordinal).
    pub first_section: u32,
    /// Last section of the run (ordinal).
    pub last_section: u32,
    /// The chat model that wrote it.
    pub model: &'a str,
    /// The summary.
    pub summary: &'a str,
}

impl Catalog {
    /// The summary stored under `key` for document `doc_id`, when it was made from the version
    /// whose hash is `doc_hash`; `None` otherwise.
    pub fn section_summary(&self, doc_id: i64, doc_hash: &str, key: &str) -> Result<Option<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT summary FROM section_summaries WHERE doc_id = ?1 AND key = ?2 AND doc_hash = ?3",
        )?;
        Ok(stmt.query_row(params![doc_id, key, doc_hash], |r| r.get(0)).optional()?)
    }

    /// Stores a summary, replacing one under the same key, and drops the document's summaries
    /// of other versions. Nothing is stored when the document is gone or its version is no
    /// longer `doc_hash` (it changed while the summary was being written).
    pub fn put_section_summary(&self, s: &SectionSummary<'_>) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "DELETE FROM section_summaries WHERE doc_id = ?1 AND doc_hash <> ?2",
            params![s.doc_id, s.doc_hash],
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO section_summaries
               (doc_id, key, doc_hash, first_section, last_section, model, summary, created_at)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 FROM documents WHERE id = ?1 AND hash = ?3",
            params![s.doc_id, s.key, s.doc_hash, s.first_section, s.last_section, s.model, s.summary, now()],
        )?;
        tx.commit().map_err(CatalogError::classify)
    }

    /// How many summaries are stored for document `doc_id` (any version).
    pub fn section_summary_count(&self, doc_id: i64) -> Result<u64> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM section_summaries WHERE doc_id = ?1",
            [doc_id],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::doc;
    use super::*;
    use crate::catalog::{NewDocument, Upsert};

    fn summary<'a>(doc_id: i64, hash: &'a str, key: &'a str, text: &'a str) -> SectionSummary<'a> {
        SectionSummary {
            doc_id,
            doc_hash: hash,
            key,
            first_section: 0,
            last_section: 1,
            model: "m",
            summary: text,
        }
    }

    #[test]
    fn a_changed_document_loses_its_summaries_and_an_unchanged_one_keeps_them() {
        let mut cat = Catalog::open_in_memory().unwrap();
        let v1 = doc("/a.txt", "h1", &["one", "two"]);
        let id = cat
            .begin_upsert(&NewDocument { doc: &v1.0, chunks: &v1.1, tags: &[], root_id: None, file: None })
            .unwrap()
            .doc_id();
        cat.finish(id).unwrap();
        cat.put_section_summary(&summary(id, "h1", "k", "About one and two.")).unwrap();
        assert_eq!(cat.section_summary(id, "h1", "k").unwrap().as_deref(), Some("About one and two."));
        assert_eq!(cat.section_summary(id, "h1", "other").unwrap(), None, "another key misses");
        assert_eq!(cat.section_summary(id, "h2", "k").unwrap(), None, "another version misses");

        // Adding the same version again keeps the summary.
        cat.begin_upsert(&NewDocument { doc: &v1.0, chunks: &v1.1, tags: &[], root_id: None, file: None })
            .unwrap();
        assert_eq!(cat.section_summary(id, "h1", "k").unwrap().as_deref(), Some("About one and two."));

        // A new version drops it, even asked for under the old hash.
        let v2 = doc("/a.txt", "h2", &["one", "three"]);
        let again = cat
            .begin_upsert(&NewDocument { doc: &v2.0, chunks: &v2.1, tags: &[], root_id: None, file: None })
            .unwrap();
        assert_eq!(again, Upsert::Replaced(id));
        assert_eq!(cat.section_summary(id, "h1", "k").unwrap(), None);
        assert_eq!(cat.section_summary_count(id).unwrap(), 0);

        // A summary of a version that is no longer the document's is not stored.
        cat.put_section_summary(&summary(id, "h1", "k", "stale")).unwrap();
        assert_eq!(cat.section_summary_count(id).unwrap(), 0);
        cat.put_section_summary(&summary(id, "h2", "k", "About one and three.")).unwrap();
        assert_eq!(cat.section_summary(id, "h2", "k").unwrap().as_deref(), Some("About one and three."));

        // Removing the document removes its summaries.
        cat.begin_remove(id).unwrap();
        cat.finish_remove(id).unwrap();
        assert_eq!(cat.section_summary_count(id).unwrap(), 0);
    }
}
