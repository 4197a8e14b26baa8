//! The collection schema every backend shares: the name of the dense vector, the payload fields
//! and which of them are indexed, so a collection written by one backend is laid out as one
//! written by another.
//!
//! Payload of a point: `chunk_id`, `doc_id`, `ordinal` and `added` (integers), `kind` (string),
//! `tags` (list of strings), `published` (integer or null) and `lang` (string or null). Times are
//! seconds since the Unix epoch (UTC).

/// Name of the dense vector in the collection (cosine distance).
pub const VECTOR: &str = "dense";
/// Payload field: the catalog's chunk id.
pub const CHUNK_ID: &str = "chunk_id";
/// Payload field: the catalog's document id.
pub const DOC_ID: &str = "doc_id";
/// Payload field: the chunk's position in its document.
pub const ORDINAL: &str = "ordinal";
/// Payload field: the document kind (`pdf`, `html`, ...).
pub const KIND: &str = "kind";
/// Payload field: the document's tags.
pub const TAGS: &str = "tags";
/// Payload field: the publication time, when known.
pub const PUBLISHED: &str = "published";
/// Payload field: the time the document was added.
pub const ADDED: &str = "added";
/// Payload field: the language code, when known.
pub const LANG: &str = "lang";

/// Every payload field of a point (the stores' tests check their payload indexes against it).
#[cfg(test)]
pub const FIELDS: [&str; 8] = [CHUNK_ID, DOC_ID, ORDINAL, KIND, TAGS, PUBLISHED, ADDED, LANG];

/// Type of a payload index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexType {
    /// Integer values (exact match and ranges).
    Integer,
    /// Keywords (exact string match).
    Keyword,
}

/// Indexed payload fields: those searches filter on and those deletes select by.
pub const INDEXES: [(&str, IndexType); 7] = [
    (CHUNK_ID, IndexType::Integer),
    (DOC_ID, IndexType::Integer),
    (KIND, IndexType::Keyword),
    (TAGS, IndexType::Keyword),
    (PUBLISHED, IndexType::Integer),
    (ADDED, IndexType::Integer),
    (LANG, IndexType::Keyword),
];

/// Points per write: keeps each request (and each write-ahead-log record) small.
pub const UPSERT_BATCH: usize = 256;
/// Ids per delete-by-filter and per scroll page.
pub const ID_BATCH: usize = 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_indexed_field_is_a_payload_field() {
        for (field, _) in INDEXES {
            assert!(FIELDS.contains(&field), "{field}");
        }
        // The ordinal is the one field no search or delete selects by.
        assert_eq!(FIELDS.len(), INDEXES.len() + 1);
    }
}
