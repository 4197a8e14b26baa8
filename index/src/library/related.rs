//! Related reading: the documents of the library nearest to a document (or to a set of chunks,
//! such as the passages an answer cites), each with the chunk pairs that connect them.
//!
//! Documents are compared through their chunk vectors, read back from the vector store (or
//! embedded again from the catalog when the store cannot return them). [`RelatedMethod`] names
//! the ways of turning chunk similarities into a document score; the default was chosen on the
//! dev sets (see its docs).

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::Library;
use crate::catalog::{DocSummary, StoredChunk};
use crate::engines::Engines;
use crate::error::Result;
use crate::vector::VectorFilter;

/// How chunk similarities make a document score.
///
/// Measured on two dev sets (MAP@10 of "same topic" over each document's ten nearest, by
/// `cargo test -p lore-index --test related -- --ignored`): the Python FAQ sections of
/// eval/pyfaq, related when from the same FAQ page (179 queries), and whole documents of
/// ../shared/data/docs, related within the Python FAQ, the Debian Reference and Moby-Dick
/// (52 queries among 238 documents):
///
/// | method | sections | documents | ms per query (documents) |
/// |---|---|---|---|
/// | mean | 0.236 | 0.912 | 87 |
/// | mean-best-chunk | 0.232 | 0.875 | 72 |
/// | best-chunks | 0.229 | 0.820 | 160 |
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RelatedMethod {
    /// Cosine of the two documents' mean chunk vectors; candidates come from a chunk search
    /// with the mean vector. The default: best on both dev sets.
    #[default]
    Mean,
    /// Chunk search with the mean vector; a document scores its best chunk's similarity.
    MeanBestChunk,
    /// Each chunk of the document (up to [`MAX_QUERY_CHUNKS`], evenly spread) looks for its
    /// nearest chunks; a document scores the mean, over those query chunks, of its best match
    /// (0 where it has none among the nearest). Only documents among some chunk's nearest are
    /// found.
    BestChunks,
}

impl std::str::FromStr for RelatedMethod {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "mean" => Ok(RelatedMethod::Mean),
            "mean-best-chunk" => Ok(RelatedMethod::MeanBestChunk),
            "best-chunks" => Ok(RelatedMethod::BestChunks),
            other => Err(format!("unknown method {other:?} (mean, mean-best-chunk or best-chunks)")),
        }
    }
}

impl RelatedMethod {
    /// Every method, for measuring them.
    pub const ALL: [RelatedMethod; 3] =
        [RelatedMethod::Mean, RelatedMethod::MeanBestChunk, RelatedMethod::BestChunks];
}

/// Query chunks used at most by [`RelatedMethod::BestChunks`].
pub const MAX_QUERY_CHUNKS: usize = 32;
/// Chunks of other documents each query chunk looks at.
const NEIGHBOURS_PER_CHUNK: usize = 20;
/// Chunks of other documents a mean-vector search looks at.
const NEIGHBOURS_OF_MEAN: usize = 200;
/// Chunks per side compared when looking for connecting pairs (evenly spread beyond that).
const MAX_PAIR_CHUNKS: usize = 512;
/// Characters of a chunk shown in a pair.
const SNIPPET_CHARS: usize = 240;

/// What to look for.
#[derive(Debug, Clone, Copy)]
pub struct RelatedOptions {
    /// Number of documents.
    pub k: usize,
    /// How chunk similarities make a document score.
    pub method: RelatedMethod,
    /// Connecting chunk pairs per document.
    pub pairs: usize,
}

impl Default for RelatedOptions {
    fn default() -> Self {
        RelatedOptions { k: 10, method: RelatedMethod::default(), pairs: 3 }
    }
}

/// One side of a connecting pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairEnd {
    /// Chunk id.
    pub chunk_id: i64,
    /// Position in its document.
    pub ordinal: u32,
    /// Heading path, joined.
    pub heading: String,
    /// Page span (PDF), e.g. `pp. 4-5`.
    pub pages: Option<String>,
    /// The start of the chunk's text.
    pub snippet: String,
}

/// Two chunks that connect a document to a related one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChunkPair {
    /// Cosine similarity of the two chunks.
    pub similarity: f32,
    /// The chunk of the document asked about.
    pub from: PairEnd,
    /// The chunk of the related document.
    pub to: PairEnd,
}

/// A related document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RelatedDoc {
    /// Rank, from 1.
    pub rank: usize,
    /// Score of the method (higher is nearer).
    pub score: f32,
    /// Document id.
    pub doc_id: i64,
    /// Title.
    pub title: String,
    /// Kind.
    pub kind: String,
    /// Source path or URL key.
    pub source: String,
    /// URL, for web pages and news.
    pub url: Option<String>,
    /// The chunk pairs that connect it, best first.
    pub pairs: Vec<ChunkPair>,
}

/// Chunk ids with their vectors.
type Vectors = Vec<(i64, Vec<f32>)>;

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The normalised mean of some vectors.
fn mean(vectors: &[(i64, Vec<f32>)]) -> Vec<f32> {
    let dim = vectors.first().map(|(_, v)| v.len()).unwrap_or(0);
    let mut m = vec![0f32; dim];
    for (_, v) in vectors {
        for (a, b) in m.iter_mut().zip(v) {
            *a += b;
        }
    }
    let norm = dot(&m, &m).sqrt();
    if norm > 0.0 {
        m.iter_mut().for_each(|x| *x /= norm);
    }
    m
}

/// Up to `n` items evenly spread over `items`.
fn spread<T: Clone>(items: &[T], n: usize) -> Vec<T> {
    if items.len() <= n || n == 0 {
        return items.to_vec();
    }
    (0..n).map(|i| items[i * items.len() / n].clone()).collect()
}

/// The best pairs between two sets of chunk vectors, no chunk used twice: `(from, to, sim)`.
fn best_pairs(from: &[(i64, Vec<f32>)], to: &[(i64, Vec<f32>)], n: usize) -> Vec<(i64, i64, f32)> {
    let (from, to) = (spread(from, MAX_PAIR_CHUNKS), spread(to, MAX_PAIR_CHUNKS));
    let mut all: Vec<(f32, usize, usize)> = Vec::with_capacity(from.len() * to.len());
    for (i, (_, a)) in from.iter().enumerate() {
        for (j, (_, b)) in to.iter().enumerate() {
            all.push((dot(a, b), i, j));
        }
    }
    all.sort_by(|x, y| y.0.total_cmp(&x.0));
    let (mut used_from, mut used_to) = (HashSet::new(), HashSet::new());
    let mut out = Vec::new();
    for (s, i, j) in all {
        if out.len() >= n {
            break;
        }
        if used_from.contains(&i) || used_to.contains(&j) {
            continue;
        }
        used_from.insert(i);
        used_to.insert(j);
        out.push((from[i].0, to[j].0, s));
    }
    out
}

/// Ranks candidate documents for the query vectors, best first: `(doc id, score)`.
fn rank_docs(
    engines: &Engines,
    query: &[(i64, Vec<f32>)],
    exclude: &HashSet<i64>,
    excluded_chunks: usize,
    method: RelatedMethod,
    k: usize,
    vectors_of: &mut dyn FnMut(i64) -> Result<Vectors>,
) -> Result<Vec<(i64, f32)>> {
    let all = VectorFilter::default();
    let mut scores: HashMap<i64, f32> = HashMap::new();
    match method {
        RelatedMethod::Mean | RelatedMethod::MeanBestChunk => {
            let centroid = mean(query);
            let hits = engines.vectors.search(&centroid, excluded_chunks + NEIGHBOURS_OF_MEAN, &all)?;
            for h in hits.iter().filter(|h| !exclude.contains(&h.doc_id)) {
                let best = scores.entry(h.doc_id).or_insert(f32::MIN);
                *best = best.max(h.score);
            }
            if method == RelatedMethod::Mean {
                // Re-score the best candidates by the cosine of the two means.
                let mut candidates: Vec<(i64, f32)> = scores.into_iter().collect();
                candidates.sort_by(|a, b| b.1.total_cmp(&a.1));
                candidates.truncate((4 * k).max(20));
                scores = HashMap::new();
                for (id, _) in candidates {
                    let theirs = vectors_of(id)?;
                    if !theirs.is_empty() {
                        scores.insert(id, dot(&centroid, &mean(&theirs)));
                    }
                }
            }
        }
        RelatedMethod::BestChunks => {
            let queries = spread(query, MAX_QUERY_CHUNKS);
            for (_, v) in &queries {
                let hits = engines.vectors.search(v, excluded_chunks + NEIGHBOURS_PER_CHUNK, &all)?;
                let mut best: HashMap<i64, f32> = HashMap::new();
                for h in hits.iter().filter(|h| !exclude.contains(&h.doc_id)) {
                    let b = best.entry(h.doc_id).or_insert(f32::MIN);
                    *b = b.max(h.score);
                }
                for (id, s) in best {
                    *scores.entry(id).or_insert(0.0) += s.max(0.0) / queries.len() as f32;
                }
            }
        }
    }
    let mut ranked: Vec<(i64, f32)> = scores.into_iter().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(ranked)
}

fn pair_end(chunk: &StoredChunk) -> PairEnd {
    let flat: String = chunk.text.split_whitespace().collect::<Vec<_>>().join(" ");
    let snippet = if flat.chars().count() > SNIPPET_CHARS {
        let mut s: String = flat.chars().take(SNIPPET_CHARS - 1).collect();
        s.push('…');
        s
    } else {
        flat
    };
    PairEnd {
        chunk_id: chunk.id,
        ordinal: chunk.ordinal,
        heading: chunk.heading(),
        pages: chunk.pages(),
        snippet,
    }
}

impl Library {
    /// The chunk vectors of a document, in chunk order: read back from the vector store, or
    /// embedded again from the catalog when the store cannot return them all.
    pub fn doc_vectors(&self, doc_id: i64) -> Result<Vec<(i64, Vec<f32>)>> {
        let engines = self.engines()?;
        let chunks = self.catalog().chunks_of(doc_id, 0, usize::MAX >> 1)?;
        if let Ok(stored) = engines.vectors.doc_vectors(doc_id)
            && stored.iter().map(|(c, _)| *c).eq(chunks.iter().map(|c| c.id))
        {
            return Ok(stored);
        }
        let Some(doc) = self.catalog().get(doc_id)? else { return Ok(Vec::new()) };
        let texts: Vec<String> =
            chunks.iter().map(|c| Engines::passage_text(engines.passage_context, &doc.title, c)).collect();
        let vectors = engines.embedder.embed_passages(&texts)?;
        Ok(chunks.iter().map(|c| c.id).zip(vectors).collect())
    }

    /// The documents nearest to a document, excluding itself, with the chunk pairs that connect
    /// them.
    pub fn related(&self, doc_id: i64, options: &RelatedOptions) -> Result<Vec<RelatedDoc>> {
        self.indexes_usable()?;
        if self.catalog().get(doc_id)?.is_none() {
            return Err(crate::catalog::CatalogError::NotFound(doc_id.to_string()).into());
        }
        // One opening of the vector store for the many reads that follow.
        let _hold = self.engines()?.hold_vectors()?;
        let query = self.doc_vectors(doc_id)?;
        self.related_to(&query, &HashSet::from([doc_id]), options)
    }

    /// The documents nearest to some chunks (say, the passages an answer cites), excluding the
    /// documents the chunks belong to.
    pub fn related_to_chunks(&self, chunk_ids: &[i64], options: &RelatedOptions) -> Result<Vec<RelatedDoc>> {
        self.indexes_usable()?;
        let docs: HashSet<i64> = chunk_ids.iter().map(|&c| crate::catalog::doc_of_chunk(c)).collect();
        let wanted: HashSet<i64> = chunk_ids.iter().copied().collect();
        let _hold = self.engines()?.hold_vectors()?;
        let mut query = Vec::new();
        for &d in &docs {
            query.extend(self.doc_vectors(d)?.into_iter().filter(|(c, _)| wanted.contains(c)));
        }
        self.related_to(&query, &docs, options)
    }

    /// The documents nearest to the query chunk vectors, leaving out `exclude` and documents
    /// being written or removed.
    fn related_to(
        &self,
        query: &[(i64, Vec<f32>)],
        exclude: &HashSet<i64>,
        options: &RelatedOptions,
    ) -> Result<Vec<RelatedDoc>> {
        if query.is_empty() || options.k == 0 {
            return Ok(Vec::new());
        }
        let engines = self.engines()?;
        let mut exclude = exclude.clone();
        exclude.extend(self.catalog().journal()?.into_iter().map(|e| e.doc_id));
        // Searches ask for enough chunks to see past the excluded documents' own.
        let mut excluded_chunks = 0usize;
        for &id in &exclude {
            excluded_chunks += self.catalog().get(id)?.map(|d| d.chunks as usize).unwrap_or(0);
        }
        let mut cache: HashMap<i64, Vectors> = HashMap::new();
        let mut vectors_of = |id: i64| -> Result<Vectors> {
            if let Some(v) = cache.get(&id) {
                return Ok(v.clone());
            }
            let v = self.doc_vectors(id)?;
            cache.insert(id, v.clone());
            Ok(v)
        };
        let ranked =
            rank_docs(engines, query, &exclude, excluded_chunks, options.method, options.k, &mut vectors_of)?;
        let mut out = Vec::new();
        for (doc_id, score) in ranked {
            if out.len() >= options.k {
                break;
            }
            let Some(doc) = self.catalog().get(doc_id)? else { continue };
            let pairs = self.connecting_pairs(query, &vectors_of(doc_id)?, options.pairs)?;
            out.push(related_doc(out.len() + 1, score, doc, pairs));
        }
        Ok(out)
    }

    fn connecting_pairs(
        &self,
        from: &[(i64, Vec<f32>)],
        to: &[(i64, Vec<f32>)],
        n: usize,
    ) -> Result<Vec<ChunkPair>> {
        let pairs = best_pairs(from, to, n);
        let ids: Vec<i64> = pairs.iter().flat_map(|&(a, b, _)| [a, b]).collect();
        let chunks: HashMap<i64, StoredChunk> =
            self.catalog().chunks_by_ids(&ids)?.into_iter().map(|c| (c.id, c)).collect();
        Ok(pairs
            .into_iter()
            .filter_map(|(a, b, s)| {
                Some(ChunkPair {
                    similarity: s,
                    from: pair_end(chunks.get(&a)?),
                    to: pair_end(chunks.get(&b)?),
                })
            })
            .collect())
    }
}

fn related_doc(rank: usize, score: f32, doc: DocSummary, pairs: Vec<ChunkPair>) -> RelatedDoc {
    RelatedDoc {
        rank,
        score,
        doc_id: doc.id,
        title: doc.title,
        kind: doc.kind,
        source: doc.source,
        url: doc.url,
        pairs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_use_each_chunk_once_best_first() {
        let from = vec![(1, vec![1.0, 0.0]), (2, vec![0.0, 1.0])];
        let to = vec![(10, vec![1.0, 0.0]), (11, vec![0.8, 0.6])];
        let pairs = best_pairs(&from, &to, 3);
        assert_eq!(pairs.len(), 2);
        assert_eq!((pairs[0].0, pairs[0].1), (1, 10));
        assert_eq!((pairs[1].0, pairs[1].1), (2, 11));
        assert!((pairs[1].2 - 0.6).abs() < 1e-6);
    }

    #[test]
    fn mean_is_unit_length_and_spread_keeps_the_ends() {
        let m = mean(&[(1, vec![1.0, 0.0]), (2, vec![0.0, 1.0])]);
        assert!((dot(&m, &m) - 1.0).abs() < 1e-6);
        assert_eq!(spread(&[0, 1, 2, 3, 4, 5, 6, 7], 4), vec![0, 2, 4, 6]);
        assert_eq!(spread(&[0, 1], 4), vec![0, 1]);
    }

    #[test]
    fn methods_parse_by_name() {
        for m in RelatedMethod::ALL {
            let name = serde_json::to_value(m).unwrap();
            assert_eq!(name.as_str().unwrap().parse::<RelatedMethod>().unwrap(), m);
        }
        assert!("nearest".parse::<RelatedMethod>().is_err());
    }
}
