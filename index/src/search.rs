//! Search over a library: keyword (BM25), vector (dense) or hybrid (both, fused), with filters
//! applied inside each engine before its cut.
//!
//! A hybrid search for a query in a language the embedding model was not trained for (a Chinese
//! query with the English all-MiniLM-L6-v2) leans on the keyword results: the vector list is
//! weighted by [`UNCOVERED_VECTOR_WEIGHT`], since the nearest vectors of such a query are close
//! by chance, not by meaning.
//!
//! A chunk that is searchable by keywords but still awaits its vector (between the two phases
//! of an add, see `library/vectors.rs`) is ranked by its keyword score alone in a hybrid search
//! (see `fusion.rs`) and marked [`SearchHit::vector_pending`].

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use serde::Serialize;

use crate::catalog::{Catalog, DocSummary, StoredChunk};
use crate::engines::Engines;
use crate::error::Result;
use crate::exact::{self, ExactTerms};
use crate::fusion::{FusionConfig, FusionMethod, convex, rrf};
use crate::keyword::{KeywordRanking, KeywordSnippet};
use crate::vector::VectorFilter;

/// Which engines answer a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Keyword and vector results fused.
    Hybrid,
    /// BM25 over the keyword index only.
    Keyword,
    /// Dense vectors only.
    Vector,
}

impl Mode {
    /// Every mode.
    pub const ALL: [Mode; 3] = [Mode::Keyword, Mode::Vector, Mode::Hybrid];

    /// The mode's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Hybrid => "hybrid",
            Mode::Keyword => "keyword",
            Mode::Vector => "vector",
        }
    }
}

impl FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "hybrid" => Ok(Mode::Hybrid),
            "keyword" | "bm25" => Ok(Mode::Keyword),
            "vector" | "dense" => Ok(Mode::Vector),
            other => Err(format!("unknown search mode {other:?} (hybrid, keyword or vector)")),
        }
    }
}

/// The weight of the vector list, relative to its configured weight, in a hybrid search for a
/// query in a language the embedding model does not cover. Measured with all-MiniLM-L6-v2 on
/// 12 Chinese and 11 Japanese queries over a library of Chinese news and a blog post and the
/// Live manual in Japanese, German and English (nDCG@10 of the right document or section):
/// hybrid with the vectors at full weight 0.838 (Chinese) and 0.238 (Japanese), keyword alone
/// 1.000 and 0.904, vectors alone 0.730 and 0.136; a weight of 0.25 ranked as keyword alone
/// did. At 0 the vector search is skipped, unless the keyword search finds nothing.
pub const UNCOVERED_VECTOR_WEIGHT: f32 = 0.0;

/// `fusion` with the vector list weighted down by [`UNCOVERED_VECTOR_WEIGHT`].
fn leaning_on_keywords(fusion: &FusionConfig) -> FusionConfig {
    FusionConfig {
        alpha: fusion.alpha * UNCOVERED_VECTOR_WEIGHT,
        vector_weight: fusion.vector_weight * UNCOVERED_VECTOR_WEIGHT,
        ..*fusion
    }
}

/// Search settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchConfig {
    /// Candidates taken from each engine before fusion.
    pub candidates: usize,
    /// Fusion weights and `k`.
    pub fusion: FusionConfig,
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig { candidates: 50, fusion: FusionConfig::default() }
    }
}

/// One search request.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// The query text.
    pub query: String,
    /// How many results.
    pub k: usize,
    /// Which engines.
    pub mode: Mode,
    /// Restrictions, applied inside both engines.
    pub filter: VectorFilter,
}

/// One result: a chunk with its document and where it ranked.
#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    /// Rank in this result list, from 1.
    pub rank: usize,
    /// The score of the mode: BM25 for keyword, cosine similarity for vector, the fused score
    /// for hybrid.
    pub score: f32,
    /// The chunk.
    pub chunk: StoredChunk,
    /// Its document's title.
    pub title: String,
    /// Its document's kind.
    pub kind: String,
    /// Its document's source path or URL key.
    pub source: String,
    /// Its document's URL, for web pages and news.
    pub url: Option<String>,
    /// Passage of the chunk with the matched query terms located.
    pub snippet: String,
    /// Byte ranges of `snippet` that matched the query.
    pub highlights: Vec<(usize, usize)>,
    /// Rank in the keyword list, when it was there.
    pub keyword_rank: Option<usize>,
    /// Rank in the vector list, when it was there.
    pub vector_rank: Option<usize>,
    /// Cosine similarity of the chunk to the query, when it was in the vector list: an absolute
    /// measure of relevance, unlike the fused score.
    pub similarity: Option<f32>,
    /// Keyword evidence, 0 to 1: the IDF-weighted share of the query's distinct analysed terms
    /// that the chunk holds (see `evidence.rs`); a measure of relevance in any language the
    /// keyword index analyses.
    pub evidence: f32,
    /// The chunk still awaits its vector: a hybrid search ranked it by its keyword score alone.
    pub vector_pending: bool,
}

/// Runs a search and resolves the hits against the catalog. A search never sees half a
/// document or a mix of two versions: chunks whose document is being written or removed (in the
/// journal) are left out, and so are those of documents made visible after the indexes were
/// read (their ids may now name the chunks of a new version).
pub fn search(
    engines: &Engines,
    catalog: &Catalog,
    cfg: &SearchConfig,
    req: &SearchRequest,
) -> Result<Vec<SearchHit>> {
    if req.k == 0 || req.query.trim().is_empty() {
        return Ok(Vec::new());
    }
    // The indexes are read after this point, so they hold at least what was visible at it.
    let mut seen_at = catalog.visible_seq()?;
    if let Some(copy) = engines.snapshot_seq() {
        seen_at = seen_at.min(copy);
    }
    let n = cfg.candidates.max(req.k);
    let wants_vectors = matches!(req.mode, Mode::Vector | Mode::Hybrid);
    let wants_keywords = matches!(req.mode, Mode::Keyword | Mode::Hybrid);
    // A hybrid search runs its keyword search on another thread while this one embeds the query
    // and searches the vectors, so it takes the longer of the two, not their sum. The keyword
    // side is the shorter one and is the side that waits for a thread to start. A query the
    // model cannot judge has its vectors searched afterwards, and only if the keyword search
    // found nothing.
    let keyword_side = || -> Result<KeywordRanking> {
        engines.keyword.refresh()?;
        Ok(engines.keyword.rank(&req.query, n, &req.filter)?)
    };
    let vector_side = || -> Result<(Vec<f32>, bool, Option<Ranked>)> {
        let q = engines.embedder.embed_query(&req.query)?;
        let covered = engines.embedder.covers_query(&req.query);
        let hits = if covered { Some(vector_search(engines, &q, n, req)?) } else { None };
        Ok((q, covered, hits))
    };
    let (ranking, vectors) = if wants_keywords && wants_vectors {
        std::thread::scope(|scope| -> Result<_> {
            let keywords = scope.spawn(keyword_side);
            let vectors = vector_side();
            match keywords.join() {
                Ok(ranking) => Ok((Some(ranking?), Some(vectors?))),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })?
    } else if wants_keywords {
        (Some(keyword_side()?), None)
    } else {
        (None, Some(vector_side()?))
    };
    let keyword_hits: Vec<(i64, f32)> = match &ranking {
        Some(ranked) => ranked.hits().map(|hit| (hit.chunk_id, hit.score)).collect(),
        None => Vec::new(),
    };
    let (embedded, covered, vector_list) = match vectors {
        Some((q, covered, hits)) => (Some(q), covered, hits),
        None => (None, false, None),
    };
    // A query the model cannot judge leans on the keyword results; when they are empty, the
    // vectors are all there is.
    let lean = req.mode == Mode::Hybrid && !keyword_hits.is_empty() && !covered;
    let fusion = if lean { leaning_on_keywords(&cfg.fusion) } else { cfg.fusion };
    let vectors_count = !lean || UNCOVERED_VECTOR_WEIGHT > 0.0;
    let vector_hits: Vec<(i64, f32)> = match (vector_list, &embedded) {
        (Some(hits), _) => hits,
        (None, Some(q)) if vectors_count => vector_search(engines, q, n, req)?,
        _ => Vec::new(),
    };
    let vector_scores: HashMap<i64, f32> = vector_hits.iter().copied().collect();
    let keyword_scores: HashMap<i64, f32> = keyword_hits.iter().copied().collect();
    let ids = |l: &[(i64, f32)]| l.iter().map(|(id, _)| *id).collect::<Vec<_>>();
    // Keyword hits still awaiting their vectors are ranked by keywords alone.
    let awaiting = if req.mode == Mode::Hybrid && vectors_count {
        catalog.pending_among(&ids(&keyword_hits))?
    } else {
        HashSet::new()
    };
    let none = HashSet::new();
    let mut fused = match (req.mode, fusion.method) {
        (Mode::Hybrid, FusionMethod::Rrf) => rrf(&ids(&keyword_hits), &ids(&vector_hits), &fusion, &awaiting),
        (Mode::Hybrid, FusionMethod::Convex) => convex(&keyword_hits, &vector_hits, fusion.alpha, &awaiting),
        (Mode::Keyword, _) => rrf(&ids(&keyword_hits), &[], &fusion, &none),
        (Mode::Vector, _) => rrf(&[], &ids(&vector_hits), &fusion, &none),
    };
    if req.mode == Mode::Hybrid
        && let Some(exact) = ExactTerms::of(&req.query)
        && let Some(anchor) = exact_match(catalog, &keyword_hits, &exact)?
    {
        exact::keep_within_top(&mut fused, anchor, |f| f.id, |f| &mut f.score);
    }
    // One moment of the catalog: the journal, what changed and the chunks read apart could
    // straddle a writer's commit. Only the hits shown are read, best first: a chunk's row holds
    // its text, and a search keeps `k` of up to twice `candidates` fused ids.
    let found = catalog.read_consistent(|catalog| {
        let mut busy: HashSet<i64> = catalog.journal()?.into_iter().map(|e| e.doc_id).collect();
        busy.extend(catalog.visible_after(seen_at)?);
        let mut docs: HashMap<i64, Option<DocSummary>> = HashMap::new();
        let mut found = Vec::with_capacity(req.k);
        for f in fused {
            if found.len() >= req.k {
                break;
            }
            let Some(chunk) = catalog.chunk(f.id)? else { continue };
            if busy.contains(&chunk.doc_id) {
                continue;
            }
            let doc = match docs.entry(chunk.doc_id) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => e.insert(catalog.get(chunk.doc_id)?),
            };
            if let Some(doc) = doc {
                found.push((f, chunk, doc.clone()));
            }
        }
        Ok(found)
    })?;
    let mut hits = Vec::with_capacity(found.len());
    for (f, chunk, doc) in found {
        let score = match req.mode {
            Mode::Vector => vector_scores.get(&f.id).copied().unwrap_or(f.score),
            Mode::Keyword => keyword_scores.get(&f.id).copied().unwrap_or(f.score),
            Mode::Hybrid => f.score,
        };
        hits.push(SearchHit {
            rank: hits.len() + 1,
            score,
            title: doc.title,
            kind: doc.kind,
            source: doc.source,
            url: doc.url,
            snippet: String::new(),
            highlights: Vec::new(),
            keyword_rank: f.keyword_rank,
            vector_rank: f.vector_rank,
            similarity: vector_scores.get(&f.id).copied(),
            evidence: 0.0,
            vector_pending: false,
            chunk,
        });
    }
    let shown: Vec<i64> = hits.iter().map(|h| h.chunk.id).collect();
    let awaiting = catalog.pending_among(&shown)?;
    for hit in &mut hits {
        hit.vector_pending = awaiting.contains(&hit.chunk.id);
    }
    let chunks: Vec<&StoredChunk> = hits.iter().map(|h| &h.chunk).collect();
    let evidence = crate::evidence::keyword_evidence(&engines.keyword, &req.query, &chunks)?;
    for (hit, e) in hits.iter_mut().zip(evidence) {
        hit.evidence = e;
    }
    // Snippets only for the hits shown: loading a chunk's stored text and finding its best
    // passage costs more than ranking it.
    let mut snippets: HashMap<i64, KeywordSnippet> = match &ranking {
        Some(ranking) => ranking.snippets(&shown)?,
        None => HashMap::new(),
    };
    for hit in &mut hits {
        (hit.snippet, hit.highlights) = match snippets.remove(&hit.chunk.id) {
            Some(s) if !s.text.is_empty() => {
                (s.text, s.highlights.into_iter().map(|r| (r.start, r.end)).collect())
            }
            _ => (lead(&hit.chunk.text, 200), Vec::new()),
        };
    }
    Ok(hits)
}

/// The first of the keyword list's leading hits whose chunk (its text or headings) holds every
/// exact term.
fn exact_match(catalog: &Catalog, keyword_hits: &[(i64, f32)], exact: &ExactTerms) -> Result<Option<i64>> {
    for (id, _) in keyword_hits.iter().take(exact::ANCHOR_CANDIDATES) {
        let Some(chunk) = catalog.chunk(*id)? else { continue };
        if exact.held_by(&chunk.text) || exact.held_by(&chunk.heading_path.join("\n")) {
            return Ok(Some(*id));
        }
    }
    Ok(None)
}

/// Chunk ids with their scores, best first.
type Ranked = Vec<(i64, f32)>;

/// The `n` nearest chunks to the query vector `q` among those the request's filter keeps.
fn vector_search(engines: &Engines, q: &[f32], n: usize, req: &SearchRequest) -> Result<Ranked> {
    Ok(engines.vectors.search(q, n, &req.filter)?.into_iter().map(|hit| (hit.chunk_id, hit.score)).collect())
}

/// The first `max` characters of `text` on one line, cut at a word.
fn lead(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max).collect();
    let at = cut.rfind(' ').unwrap_or(cut.len());
    format!("{}…", &cut[..at])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse() {
        assert_eq!("Hybrid".parse::<Mode>(), Ok(Mode::Hybrid));
        assert_eq!("bm25".parse::<Mode>(), Ok(Mode::Keyword));
        assert!("fuzzy".parse::<Mode>().is_err());
    }

    #[test]
    fn lead_cuts_at_a_word() {
        assert_eq!(lead("one two\nthree", 100), "one two three");
        assert_eq!(lead("alpha beta gamma", 12), "alpha beta…");
    }
}
