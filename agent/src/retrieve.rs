//! Retrieval for a question: hybrid search, each hit widened with its neighbouring chunks of the
//! same section, overlapping and duplicate passages merged, and the best passages packed into a
//! token budget in order of relevance.

use std::collections::{BTreeMap, HashSet};

use lore_index::catalog::StoredChunk;
use lore_index::{Library, Mode, SearchConfig, SearchHit, SearchRequest, VectorFilter};
use serde::Serialize;

use crate::error::Result;

/// How much to retrieve.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrieveConfig {
    /// Search hits considered.
    pub k: usize,
    /// Search mode.
    pub mode: Mode,
    /// Restrictions (kind, tag, document, dates, language).
    pub filter: VectorFilter,
    /// Chunks taken on each side of a hit, within its section.
    pub neighbours: u32,
    /// Token budget of all passages together. The default, 1600, was chosen with
    /// `lore eval --answers N --budgets`: the smallest budget whose passages hold the answer as
    /// often as 2400 did on the Python and SQLite FAQ sets, for a quarter fewer prompt tokens
    /// (the README's "Time to first token").
    pub budget_tokens: usize,
    /// Most passages handed to the model.
    pub max_passages: usize,
    /// The library answers the question when a hit is at least this similar to it (cosine of
    /// the embedding model; counted only for questions in a language the model covers; 0 gates
    /// nothing). The scale depends on the embedding model: `None` takes the model's own, for a
    /// passage in the question's language and in another (see [`lore_index::CosineScale`]).
    pub min_similarity: Option<f32>,
    /// ... or when a hit holds at least this share of the question's words (keyword evidence,
    /// see [`lore_index::SearchHit::evidence`]; any language the keyword index analyses).
    pub min_evidence: f32,
}

impl Default for RetrieveConfig {
    fn default() -> Self {
        RetrieveConfig {
            k: 12,
            mode: Mode::Hybrid,
            filter: VectorFilter::default(),
            neighbours: 1,
            budget_tokens: 1600,
            max_passages: 8,
            // The cosine cut is the embedding model's (all-MiniLM-L6-v2: 0.35). Chosen on five
            // sets (all-MiniLM-L6-v2; `lore eval`, gate false refusal / false
            // answer): the Python, Django, SQLite and Git FAQs in English, 0.01, 0.02/0.78,
            // 0.00/0.75, 0.00/0.78, and 60 Chinese questions (30 unanswerable) over the Chinese
            // Debian Reference, 0.18/0.33, where only the evidence counts. English questions with
            // answers score cosine 0.3-0.9 with their best hit, near misses (features of later
            // versions, neighbouring tools) up to 0.75, so no cut tells those apart: near misses
            // are left to the check of the answer against the passages. Evidence 0.4 refused 30%
            // of the Chinese questions (0.27 false answers) and changed no English figure by
            // more than 0.03; evidence 0.5 or cosine 0.6 refused 21% of the Python FAQ questions.
            min_similarity: None,
            min_evidence: 0.35,
        }
    }
}

/// One numbered source handed to the model: one or more consecutive chunks of one section.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Passage {
    /// Its number in the prompt, from 1.
    pub n: usize,
    /// Document id.
    pub doc_id: i64,
    /// Document title.
    pub title: String,
    /// Document kind.
    pub kind: String,
    /// The document's canonical source (path or URL key).
    pub source: String,
    /// The document's URL, for web pages and news.
    pub url: Option<String>,
    /// Heading path of the section.
    pub heading: String,
    /// Section anchor (HTML), if any.
    pub anchor: Option<String>,
    /// First page (PDF).
    pub page_start: Option<u32>,
    /// Last page (PDF).
    pub page_end: Option<u32>,
    /// The chunk that matched best (the one a citation points at).
    pub chunk_id: i64,
    /// Every chunk the passage covers, in order.
    pub chunk_ids: Vec<i64>,
    /// The passage text.
    pub text: String,
    /// The text of the best-matching chunk alone.
    pub hit_text: String,
    /// Search score of its best hit.
    pub score: f32,
    /// Estimated size in chat-model tokens.
    pub tokens: usize,
}

impl Passage {
    /// The page span for display: `p. 4` or `pp. 4-5`.
    pub fn pages(&self) -> Option<String> {
        match (self.page_start, self.page_end) {
            (Some(a), Some(b)) if a != b => Some(format!("pp. {a}-{b}")),
            (Some(a), _) => Some(format!("p. {a}")),
            _ => None,
        }
    }

    /// Where the passage is, for a citation: pages and section, or the URL with its anchor.
    pub fn location(&self) -> String {
        let mut parts = Vec::new();
        if let Some(p) = self.pages() {
            parts.push(p);
        }
        if !self.heading.is_empty() && self.heading != self.title {
            parts.push(self.heading.clone());
        }
        if let Some(url) = &self.url {
            match &self.anchor {
                Some(a) if !a.is_empty() => parts.push(format!("{url}#{a}")),
                _ => parts.push(url.clone()),
            }
        }
        parts.join(" · ")
    }
}

/// Estimated tokens of `text` for a chat model: about 3.5 bytes per token, which over-counts
/// English a little (about 4) and counts CJK (3 bytes a character) near one per character.
pub fn estimate_tokens(text: &str) -> usize {
    (text.len() * 2).div_ceil(7)
}

/// What the search found for a question, and whether it can answer it.
#[derive(Debug, Clone, Default)]
pub struct Retrieval {
    /// The passages, numbered, best first: the sources of an answer when `answerable`, else the
    /// nearest passages to show instead of an answer.
    pub passages: Vec<Passage>,
    /// Whether a hit is relevant enough to answer from (see [`RetrieveConfig::min_similarity`]
    /// and [`RetrieveConfig::min_evidence`]).
    pub answerable: bool,
    /// The best keyword evidence among the hits.
    pub evidence: f32,
    /// The best cosine similarity among the hits, when the embedding model can judge the
    /// question's language.
    pub similarity: Option<f32>,
}

/// Runs the search for `query` and assembles the passages for the model.
pub fn retrieve(
    library: &Library,
    search: &SearchConfig,
    query: &str,
    cfg: &RetrieveConfig,
) -> Result<Retrieval> {
    retrieve_all(library, search, std::slice::from_ref(&query.to_string()), cfg)
}

/// [`retrieve`] for several versions of one question (the question and its translations): each
/// is searched, the question is answerable when the gate passes any version's hits, and the
/// hits are fused by their ranks in each list ([`fuse_lists`]).
pub fn retrieve_all(
    library: &Library,
    search: &SearchConfig,
    queries: &[String],
    cfg: &RetrieveConfig,
) -> Result<Retrieval> {
    let cut = similarity_cut(cfg, lore_index::cosine_scale(library));
    let (mut answerable, mut evidence, mut similarity) = (false, 0.0f32, None::<f32>);
    let mut lists = Vec::with_capacity(queries.len());
    for (i, query) in queries.iter().enumerate() {
        let req =
            SearchRequest { query: query.to_string(), k: cfg.k, mode: cfg.mode, filter: cfg.filter.clone() };
        let hits = library.search(search, &req)?;
        let judged = cfg.mode != Mode::Keyword && lore_index::vectors_judge(library, query);
        let weight = list_weight(i, queries.len());
        let language = lore_index::query_language(query);
        let (a, e, s) = gate(&hits, cfg.min_evidence, cut, judged, language.as_deref());
        answerable |= a;
        evidence = evidence.max(e);
        similarity = match (similarity, s) {
            (Some(x), Some(y)) => Some(x.max(y)),
            (x, y) => x.or(y),
        };
        lists.push((weight, hits));
    }
    let hits = fuse_lists(lists, cfg.k);
    let catalog = library.catalog();
    let n = cfg.neighbours;
    let groups = group_hits(&hits, |hit| {
        let c = &hit.chunk;
        let from = c.ordinal.saturating_sub(n);
        let want = (c.ordinal - from + n + 1) as usize;
        let mut window = catalog.chunks_of(c.doc_id, from, want)?;
        window.retain(|w| w.section == c.section);
        if window.is_empty() {
            window.push(c.clone());
        }
        Ok(window)
    })?;
    Ok(Retrieval { passages: pack(groups, cfg), answerable, evidence, similarity })
}

/// Searches each of `queries` and fuses the hits ([`fuse_lists`]): `lore search --translate`.
pub fn search_all(
    library: &Library,
    search: &SearchConfig,
    queries: &[String],
    req: &SearchRequest,
) -> Result<Vec<SearchHit>> {
    let mut lists = Vec::with_capacity(queries.len());
    for (i, query) in queries.iter().enumerate() {
        let hits = library.search(search, &SearchRequest { query: query.clone(), ..req.clone() })?;
        lists.push((list_weight(i, queries.len()), hits));
    }
    Ok(fuse_lists(lists, req.k))
}

/// The weight of the hits of the `i`th of `n` versions of a question in [`fuse_lists`]: the
/// question itself (the first) counts half beside its translations. Hybrid nDCG@10 of Chinese and
/// Japanese questions over the English Debian Reference, translated: all-MiniLM-L6-v2 (which
/// cannot judge them, so their own list is keywords in a language the library is not written
/// in) 0.743 and 0.588 at equal weights, 0.854 and 0.701 at half; multilingual-e5-small 0.773 and
/// 0.763, 0.781 and 0.769.
fn list_weight(i: usize, n: usize) -> f32 {
    if i == 0 && n > 1 { 0.5 } else { 1.0 }
}

/// Rank constant of [`fuse_lists`] (reciprocal rank fusion's usual 60).
const FUSE_RANK_CONSTANT: f32 = 60.0;

/// Weighted hit lists of several versions of one question, fused: each chunk scores the sum of
/// `weight / (60 + rank)` over the lists it is in, and keeps the hit of the list where it ranked
/// best (its snippet, evidence and similarity); the best `k`, ranked anew. One list is returned
/// as it is.
pub fn fuse_lists(mut lists: Vec<(f32, Vec<SearchHit>)>, k: usize) -> Vec<SearchHit> {
    if lists.len() <= 1 {
        return lists.pop().map(|(_, hits)| hits).unwrap_or_default();
    }
    let mut best: BTreeMap<i64, (f32, usize, SearchHit)> = BTreeMap::new();
    for (weight, list) in lists {
        for (i, hit) in list.into_iter().enumerate() {
            let rank = i + 1;
            let gain = weight / (FUSE_RANK_CONSTANT + rank as f32);
            match best.get_mut(&hit.chunk.id) {
                Some((score, best_rank, kept)) => {
                    *score += gain;
                    if rank < *best_rank {
                        *best_rank = rank;
                        *kept = hit;
                    }
                }
                None => {
                    best.insert(hit.chunk.id, (gain, rank, hit));
                }
            }
        }
    }
    let mut fused: Vec<(f32, usize, SearchHit)> = best.into_values().collect();
    fused.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.chunk.id.cmp(&b.2.chunk.id)));
    fused
        .into_iter()
        .take(k)
        .enumerate()
        .map(|(i, (score, _, hit))| SearchHit { rank: i + 1, score, ..hit })
        .collect()
}

/// The cosine a hit needs to count as relevant to a question, in the question's language and in
/// another.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimilarityCut {
    /// A passage in the question's language (or either language unknown).
    pub same: f32,
    /// A passage in another language.
    pub across: f32,
}

/// The cut `cfg` asks for: its `min_similarity` for every passage, else the model's `scale`.
/// `None` when neither gives one (the gate then goes by words alone).
pub fn similarity_cut(cfg: &RetrieveConfig, scale: Option<lore_index::CosineScale>) -> Option<SimilarityCut> {
    match cfg.min_similarity {
        Some(v) => Some(SimilarityCut { same: v, across: v }),
        None => scale.map(|s| SimilarityCut { same: s.relevant, across: s.relevant_across }),
    }
}

/// Whether two texts of detected languages `a` and `b` (ISO 639-1; `None` when unsure) are in
/// different languages: both known and different, or one Chinese, Japanese or Korean and the
/// other not known (text in those scripts is always told, so the other is in another script).
pub fn across_languages(a: Option<&str>, b: Option<&str>) -> bool {
    let cjk = |l: &str| matches!(l, "zh" | "ja" | "ko");
    match (a, b) {
        (Some(a), Some(b)) => a != b,
        (Some(l), None) | (None, Some(l)) => cjk(l),
        (None, None) => false,
    }
}

/// Whether the hits can answer the question: some hit holds at least `min_evidence` of its
/// words, or (where the embedding model can judge the question, `judged`) is similar enough to
/// it, by the cut for its language against the question's (`language`). Below the best hit
/// the ranking decides (a per-hit cut lost answer sections whose chunks score lower than their
/// neighbours: 93.7% against 95.4% of the Python FAQ questions kept their answer). A cut and an
/// evidence of 0 or less gate nothing. Returns the verdict with the best evidence and similarity.
fn gate(
    hits: &[SearchHit],
    min_evidence: f32,
    cut: Option<SimilarityCut>,
    judged: bool,
    language: Option<&str>,
) -> (bool, f32, Option<f32>) {
    let evidence = hits.iter().map(|h| h.evidence).fold(0.0f32, f32::max);
    let similarity = if judged { hits.iter().filter_map(|h| h.similarity).reduce(f32::max) } else { None };
    if hits.is_empty() {
        return (false, evidence, similarity);
    }
    let cut = cut.filter(|c| c.same > 0.0);
    if cut.is_none() && min_evidence <= 0.0 {
        return (true, evidence, similarity);
    }
    let by_words = min_evidence > 0.0 && evidence >= min_evidence;
    let by_meaning = judged
        && cut.is_some_and(|c| {
            hits.iter().any(|h| {
                let across = across_languages(language, h.chunk.language.as_deref());
                h.similarity.is_some_and(|s| s >= if across { c.across } else { c.same })
            })
        });
    (by_words || by_meaning, evidence, similarity)
}

/// Consecutive chunks of one section, gathered around one or more hits.
#[derive(Debug)]
struct Group {
    hit: SearchHit,
    chunks: BTreeMap<u32, StoredChunk>,
    hit_ordinals: Vec<u32>,
}

impl Group {
    fn touches(&self, doc_id: i64, section: u32, window: &[StoredChunk]) -> bool {
        if self.hit.chunk.doc_id != doc_id || self.hit.chunk.section != section {
            return false;
        }
        let (Some(lo), Some(hi)) = (self.chunks.keys().next(), self.chunks.keys().next_back()) else {
            return false;
        };
        window.iter().any(|c| c.ordinal + 1 >= *lo && c.ordinal <= hi + 1)
    }
}

/// Widens each hit with its window of neighbours, merging windows that touch one already taken
/// and skipping hits that an earlier window already covers. Keeps the order of relevance.
fn group_hits(
    hits: &[SearchHit],
    mut window_of: impl FnMut(&SearchHit) -> Result<Vec<StoredChunk>>,
) -> Result<Vec<Group>> {
    let mut groups: Vec<Group> = Vec::new();
    for hit in hits {
        let c = &hit.chunk;
        if let Some(g) =
            groups.iter_mut().find(|g| g.hit.chunk.doc_id == c.doc_id && g.chunks.contains_key(&c.ordinal))
        {
            g.hit_ordinals.push(c.ordinal);
            continue;
        }
        let window = window_of(hit)?;
        if let Some(g) = groups.iter_mut().find(|g| g.touches(c.doc_id, c.section, &window)) {
            for w in window {
                g.chunks.entry(w.ordinal).or_insert(w);
            }
            g.hit_ordinals.push(c.ordinal);
            continue;
        }
        let mut chunks = BTreeMap::new();
        for w in window {
            chunks.insert(w.ordinal, w);
        }
        chunks.entry(c.ordinal).or_insert_with(|| c.clone());
        groups.push(Group { hit: hit.clone(), chunks, hit_ordinals: vec![c.ordinal] });
    }
    Ok(groups)
}

/// The text of consecutive chunks of one section with their overlaps removed (chunk texts are
/// slices of the section text at their byte spans).
fn merge_text<'a>(chunks: impl IntoIterator<Item = &'a StoredChunk>) -> String {
    let mut text = String::new();
    let mut end: Option<u64> = None;
    for c in chunks {
        match end {
            None => text.push_str(&c.text),
            Some(e) if c.char_start < e => {
                let skip = (e - c.char_start) as usize;
                if let Some(rest) = c.text.get(skip..) {
                    text.push_str(rest);
                } else if skip < c.text.len() {
                    text.push('\n');
                    text.push_str(&c.text);
                }
            }
            Some(e) => {
                text.push_str(if c.char_start == e { "" } else { "\n" });
                text.push_str(&c.text);
            }
        }
        end = Some(end.map_or(c.char_end, |e| e.max(c.char_end)));
    }
    text.trim().to_string()
}

fn passage_of<'a>(group: &Group, chunks: impl IntoIterator<Item = &'a StoredChunk> + Clone) -> Passage {
    let text = merge_text(chunks.clone());
    let chunk_ids: Vec<i64> = chunks.clone().into_iter().map(|c| c.id).collect();
    let page_start = chunks.clone().into_iter().filter_map(|c| c.page_start).min();
    let page_end = chunks.into_iter().filter_map(|c| c.page_end).max();
    let hit = &group.hit;
    Passage {
        n: 0,
        doc_id: hit.chunk.doc_id,
        title: hit.title.clone(),
        kind: hit.kind.clone(),
        source: hit.source.clone(),
        url: hit.url.clone(),
        heading: hit.chunk.heading(),
        anchor: hit.chunk.anchor.clone(),
        page_start,
        page_end,
        chunk_id: hit.chunk.id,
        chunk_ids,
        tokens: estimate_tokens(&text),
        text,
        hit_text: hit.chunk.text.clone(),
        score: hit.score,
    }
}

/// Picks passages in order of relevance while they fit the budget; a widened passage that does
/// not fit is cut back to its hits alone. Identical texts (the same file added twice) are kept once.
fn pack(groups: Vec<Group>, cfg: &RetrieveConfig) -> Vec<Passage> {
    let mut out: Vec<Passage> = Vec::new();
    let mut used = 0usize;
    let mut seen: HashSet<String> = HashSet::new();
    for g in groups {
        if out.len() >= cfg.max_passages {
            break;
        }
        let whole = passage_of(&g, g.chunks.values());
        let candidate = if used + whole.tokens <= cfg.budget_tokens {
            Some(whole)
        } else {
            // Cut back to the hits, the most relevant first, as many as fit: a group that
            // gathered many hits must not lose its best one for being long.
            let mut best: Option<Passage> = None;
            for n in 1..=g.hit_ordinals.len() {
                let keep = &g.hit_ordinals[..n];
                let core: Vec<&StoredChunk> =
                    g.chunks.iter().filter(|(o, _)| keep.contains(o)).map(|(_, c)| c).collect();
                let p = passage_of(&g, core.iter().copied());
                if used + p.tokens > cfg.budget_tokens {
                    break;
                }
                best = Some(p);
            }
            best
        };
        let Some(mut p) = candidate else { continue };
        let key: String = p.text.split_whitespace().collect::<Vec<_>>().join(" ");
        if !seen.insert(key) {
            continue;
        }
        used += p.tokens;
        p.n = out.len() + 1;
        out.push(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECTION: &str = "Alpha beta gamma. Delta epsilon zeta. Eta theta iota. Kappa lambda mu.";

    fn chunk(doc: i64, ordinal: u32, section: u32, start: usize, end: usize) -> StoredChunk {
        StoredChunk {
            id: doc * 1000 + i64::from(ordinal),
            doc_id: doc,
            ordinal,
            section,
            text: SECTION[start..end].to_string(),
            heading_path: vec!["Greek".into()],
            anchor: None,
            page_start: Some(ordinal + 1),
            page_end: Some(ordinal + 1),
            char_start: start as u64,
            char_end: end as u64,
            tokens: 5,
            language: None,
            line_start: None,
            line_end: None,
            ocr: false,
        }
    }

    fn hit(c: StoredChunk, score: f32, similarity: Option<f32>) -> SearchHit {
        SearchHit {
            rank: 1,
            score,
            title: format!("Doc {}", c.doc_id),
            kind: "pdf".into(),
            source: format!("/d/{}", c.doc_id),
            url: None,
            snippet: String::new(),
            highlights: vec![],
            keyword_rank: None,
            vector_rank: Some(1),
            similarity,
            evidence: 0.0,
            vector_pending: false,
            chunk: c,
        }
    }

    // Overlapping chunks of SECTION: [0,37) [30,53) [46,70).
    fn doc_chunks(doc: i64) -> Vec<StoredChunk> {
        vec![chunk(doc, 0, 0, 0, 37), chunk(doc, 1, 0, 30, 53), chunk(doc, 2, 0, 46, 70)]
    }

    fn windows(all: &[StoredChunk], n: u32) -> impl FnMut(&SearchHit) -> Result<Vec<StoredChunk>> + '_ {
        move |h| {
            Ok(all
                .iter()
                .filter(|c| {
                    c.doc_id == h.chunk.doc_id
                        && c.section == h.chunk.section
                        && c.ordinal + n >= h.chunk.ordinal
                        && c.ordinal <= h.chunk.ordinal + n
                })
                .cloned()
                .collect())
        }
    }

    #[test]
    fn overlapping_chunks_merge_without_repeating_text() {
        let all = doc_chunks(1);
        assert_eq!(merge_text(all.iter()), SECTION);
        assert_eq!(merge_text(all[1..].iter()), &SECTION[30..70]);
    }

    #[test]
    fn neighbours_widen_and_hits_inside_a_window_are_not_repeated() {
        let all = doc_chunks(1);
        let hits = vec![hit(all[1].clone(), 0.9, Some(0.8)), hit(all[2].clone(), 0.7, Some(0.7))];
        let groups = group_hits(&hits, windows(&all, 1)).unwrap();
        assert_eq!(groups.len(), 1, "second hit lies inside the first one's window");
        let ps = pack(groups, &RetrieveConfig::default());
        assert_eq!(ps.len(), 1);
        assert_eq!(ps[0].text, SECTION);
        assert_eq!(ps[0].chunk_id, all[1].id);
        assert_eq!(ps[0].chunk_ids, all.iter().map(|c| c.id).collect::<Vec<_>>());
        assert_eq!(ps[0].pages().as_deref(), Some("pp. 1-3"));
    }

    #[test]
    fn budget_cuts_back_to_the_hit_then_skips() {
        let all = doc_chunks(1);
        let other = doc_chunks(2);
        let hits = vec![hit(all[1].clone(), 0.9, Some(0.8)), hit(other[0].clone(), 0.5, Some(0.6))];
        let whole = estimate_tokens(SECTION);
        let core = estimate_tokens(&SECTION[30..53]);
        // Room for the first hit's chunk alone and nothing more.
        let cfg = RetrieveConfig { budget_tokens: core + 1, ..RetrieveConfig::default() };
        assert!(whole > cfg.budget_tokens);
        let mut all2 = all.clone();
        all2.extend(other.clone());
        let ps = pack(group_hits(&hits, windows(&all2, 1)).unwrap(), &cfg);
        assert_eq!(ps.len(), 1);
        assert_eq!(ps[0].text, &SECTION[30..53]);
        assert_eq!(ps[0].n, 1);
    }

    #[test]
    fn a_long_group_of_hits_keeps_its_best_hit() {
        let all = doc_chunks(1);
        // Three hits merge into one group longer than the budget; the best hit (chunk 0) must
        // survive even though all three hits together do not fit.
        let hits = vec![
            hit(all[0].clone(), 0.9, Some(0.8)),
            hit(all[2].clone(), 0.6, Some(0.5)),
            hit(all[1].clone(), 0.5, Some(0.4)),
        ];
        let groups = group_hits(&hits, windows(&all, 0)).unwrap();
        assert_eq!(groups.len(), 2, "chunk 2 does not touch chunk 0 without neighbours");
        let cfg = RetrieveConfig {
            budget_tokens: estimate_tokens(&SECTION[0..37]) + 1,
            ..RetrieveConfig::default()
        };
        let ps = pack(groups, &cfg);
        assert_eq!(ps.len(), 1);
        assert_eq!(ps[0].text, &SECTION[0..37]);
    }

    #[test]
    fn duplicates_across_documents_are_kept_once_and_numbered_in_order() {
        let a = doc_chunks(1);
        let b = doc_chunks(2);
        let hits = vec![hit(a[0].clone(), 0.9, Some(0.9)), hit(b[0].clone(), 0.8, Some(0.9))];
        let mut all = a.clone();
        all.extend(b);
        let ps = pack(group_hits(&hits, windows(&all, 0)).unwrap(), &RetrieveConfig::default());
        assert_eq!(ps.len(), 1, "same text twice");
        assert_eq!(ps[0].doc_id, 1);
    }

    #[test]
    fn the_gate_takes_words_in_any_language_and_meaning_where_the_model_judges() {
        let a = doc_chunks(1);
        let cut = Some(SimilarityCut { same: 0.3, across: 0.3 });
        let mut weak = vec![hit(a[0].clone(), 0.9, Some(0.2)), hit(a[2].clone(), 0.5, Some(0.1))];
        weak[0].evidence = 0.3;
        assert!(!gate(&weak, 0.5, cut, true, None).0, "neither enough words nor meaning");
        let mut similar = weak.clone();
        similar[1].similarity = Some(0.6);
        assert_eq!(gate(&similar, 0.5, cut, true, None), (true, 0.3, Some(0.6)));
        // A question the model cannot judge (a Chinese one with an English model): its cosine
        // does not count, its words do.
        assert_eq!(gate(&similar, 0.5, cut, false, None), (false, 0.3, None));
        let mut worded = weak.clone();
        worded[1].evidence = 0.7;
        assert!(gate(&worded, 0.5, cut, false, None).0);
        assert!(!gate(&[], 0.5, cut, true, None).0, "no hits, nothing to answer from");
        let open = Some(SimilarityCut { same: 0.0, across: 0.0 });
        assert!(gate(&weak, 0.0, open, true, None).0);
    }

    #[test]
    fn lists_of_several_versions_of_a_question_are_fused_by_rank() {
        let a = doc_chunks(1);
        let b = doc_chunks(2);
        // Chunk b0 is second in both lists, a0 first in one only, b1 first in the other.
        let first = vec![hit(a[0].clone(), 0.9, None), hit(b[0].clone(), 0.8, None)];
        let second =
            vec![hit(b[1].clone(), 0.7, None), hit(b[0].clone(), 0.6, None), hit(a[2].clone(), 0.5, None)];
        let fused = fuse_lists(vec![(1.0, first.clone()), (1.0, second.clone())], 3);
        let ids: Vec<i64> = fused.iter().map(|h| h.chunk.id).collect();
        assert_eq!(ids, vec![b[0].id, a[0].id, b[1].id]);
        assert_eq!(fused.iter().map(|h| h.rank).collect::<Vec<_>>(), vec![1, 2, 3]);
        // The first list at half weight: the second list's first hit leads a0.
        let fused = fuse_lists(vec![(0.5, first.clone()), (1.0, second)], 3);
        assert_eq!(fused[0].chunk.id, b[0].id);
        assert_eq!(fused[1].chunk.id, b[1].id);
        assert_eq!(fuse_lists(vec![(1.0, first)], 3).len(), 2, "one list as it is");
        assert!(fuse_lists(Vec::new(), 3).is_empty());
        assert_eq!((list_weight(0, 2), list_weight(1, 2), list_weight(0, 1)), (0.5, 1.0, 1.0));
    }

    #[test]
    fn a_passage_in_another_language_is_judged_by_the_cut_across_languages() {
        let mut a = doc_chunks(1);
        a[0].language = Some("en".into());
        let cut = Some(SimilarityCut { same: 0.89, across: 0.85 });
        let hits = vec![hit(a[0].clone(), 0.9, Some(0.86))];
        assert!(gate(&hits, 0.35, cut, true, Some("zh")).0, "a Chinese question, an English passage");
        assert!(!gate(&hits, 0.35, cut, true, Some("en")).0, "an English question takes the higher cut");
        assert!(!gate(&hits, 0.35, cut, true, None).0, "a question of unknown language too");
        assert!(across_languages(Some("zh"), None), "Chinese against text of unknown language");
        assert!(!across_languages(Some("en"), None));
        assert!(!across_languages(None, None));
        let cfg = RetrieveConfig { min_similarity: Some(0.5), ..RetrieveConfig::default() };
        let scale = lore_index::CosineScale { relevant: 0.89, relevant_across: 0.85, same_meaning: 0.95 };
        assert_eq!(similarity_cut(&cfg, Some(scale)), Some(SimilarityCut { same: 0.5, across: 0.5 }));
        let model = RetrieveConfig::default();
        assert_eq!(similarity_cut(&model, Some(scale)), Some(SimilarityCut { same: 0.89, across: 0.85 }));
        assert_eq!(similarity_cut(&model, None), None);
    }

    #[test]
    fn locations_name_pages_sections_and_urls() {
        let mut p = Passage {
            n: 1,
            doc_id: 1,
            title: "Book".into(),
            kind: "pdf".into(),
            source: "/b.pdf".into(),
            url: None,
            heading: "Ch 1 > Tail calls".into(),
            anchor: None,
            page_start: Some(4),
            page_end: Some(4),
            chunk_id: 1,
            chunk_ids: vec![1],
            text: "x".into(),
            hit_text: "x".into(),
            score: 1.0,
            tokens: 1,
        };
        assert_eq!(p.location(), "p. 4 · Ch 1 > Tail calls");
        p.page_start = None;
        p.page_end = None;
        p.url = Some("https://e.org/faq".into());
        p.anchor = Some("why".into());
        assert_eq!(p.location(), "Ch 1 > Tail calls · https://e.org/faq#why");
    }
}
