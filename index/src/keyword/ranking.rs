//! Keyword results in two steps: the ranking of every candidate (chunk ids and scores, read from
//! fast fields), then snippets for only the few hits that are shown. Loading a chunk's stored
//! text and finding its best passage costs far more than ranking it, and a hybrid search ranks
//! several times as many candidates as it shows.

use std::collections::HashMap;

use tantivy::query::Query;
use tantivy::schema::Value;
use tantivy::{DocAddress, Searcher, TantivyDocument};

use super::highlight::Highlighter;
use super::schema::Fields;
use super::{KeywordError, KeywordSnippet, engine, leading_text};

/// One chunk of a keyword ranking.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankedChunk {
    /// The catalog's chunk id.
    pub chunk_id: i64,
    /// The chunk's document.
    pub doc_id: i64,
    /// BM25 score (higher is better; comparable only within one search).
    pub score: f32,
}

/// The ranking of one keyword search, best first. It keeps the index snapshot it was read from,
/// so snippets made afterwards come from the same version of each chunk.
pub struct KeywordRanking {
    pub(super) searcher: Searcher,
    pub(super) query: Box<dyn Query>,
    pub(super) fields: Fields,
    pub(super) snippet_chars: usize,
    pub(super) hits: Vec<(RankedChunk, DocAddress)>,
}

impl std::fmt::Debug for KeywordRanking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeywordRanking").field("hits", &self.hits.len()).finish_non_exhaustive()
    }
}

impl KeywordRanking {
    /// The ranked chunks, best first.
    pub fn hits(&self) -> impl Iterator<Item = RankedChunk> + '_ {
        self.hits.iter().map(|(hit, _)| *hit)
    }

    /// How many chunks were ranked.
    pub fn len(&self) -> usize {
        self.hits.len()
    }

    /// Whether nothing matched.
    pub fn is_empty(&self) -> bool {
        self.hits.is_empty()
    }

    /// The best passage for the query of each of `chunk_ids` that this ranking holds (others
    /// are left out of the map).
    pub fn snippets(&self, chunk_ids: &[i64]) -> Result<HashMap<i64, KeywordSnippet>, KeywordError> {
        let at: HashMap<i64, DocAddress> = self.hits.iter().map(|(h, a)| (h.chunk_id, *a)).collect();
        // One highlighter for each group a hit comes from: each knows its group's terms.
        let mut highlighters: Vec<Option<Highlighter>> = self.fields.groups.iter().map(|_| None).collect();
        let mut out = HashMap::new();
        for id in chunk_ids {
            let Some(address) = at.get(id) else { continue };
            let doc: TantivyDocument = self.searcher.doc(*address).map_err(engine)?;
            let stored = self
                .fields
                .groups
                .iter()
                .enumerate()
                .find_map(|(i, g)| doc.get_first(g.text).and_then(|v| v.as_str()).map(|text| (i, text)));
            let (group, text) = stored.unwrap_or((0, ""));
            let highlighter = match &mut highlighters[group] {
                Some(highlighter) => highlighter,
                slot => {
                    let field = self.fields.groups[group].text;
                    let highlighter =
                        Highlighter::create(&self.searcher, self.query.as_ref(), field, self.snippet_chars)
                            .map_err(engine)?;
                    slot.insert(highlighter)
                }
            };
            let snippet = highlighter.snippet(text).unwrap_or_else(|| KeywordSnippet {
                text: leading_text(text, self.snippet_chars),
                highlights: Vec::new(),
            });
            out.insert(*id, snippet);
        }
        Ok(out)
    }
}
