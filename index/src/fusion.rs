//! Rank fusion of keyword and vector result lists.
//!
//! A chunk that is searchable by keywords but still awaits its vector (between the two phases of
//! an add) is ranked by its keyword score alone: both fusions count its keyword part in place of
//! the vector part it cannot have, so it is not buried under chunks with both.

use std::collections::{HashMap, HashSet};

/// The fusion method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FusionMethod {
    /// Weighted reciprocal rank fusion: uses ranks only.
    Rrf,
    /// A convex combination of min-max normalised scores: `alpha * vector + (1 - alpha) * keyword`.
    Convex,
}

impl std::str::FromStr for FusionMethod {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "rrf" => Ok(FusionMethod::Rrf),
            "convex" | "linear" => Ok(FusionMethod::Convex),
            other => Err(format!("unknown fusion method {other:?} (rrf or convex)")),
        }
    }
}

/// How two ranked lists are fused.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FusionConfig {
    /// Which method.
    pub method: FusionMethod,
    /// Weight of the vector scores in convex fusion (0 to 1).
    pub alpha: f32,
    /// The `k` of reciprocal rank fusion: larger values flatten the advantage of top ranks.
    pub rrf_k: f32,
    /// Weight of the keyword list.
    pub keyword_weight: f32,
    /// Weight of the vector list.
    pub vector_weight: f32,
}

impl Default for FusionConfig {
    fn default() -> Self {
        // Chosen on four sets of questions (`lore eval --sweep`, nDCG@10 with 50 candidates):
        // convex at alpha 0.8 against vectors alone, Python FAQ 0.891/0.875, Django FAQ
        // 0.699/0.685, SQLite FAQ 0.789/0.783, Git FAQ 0.729/0.722, the best worst case of alpha
        // 0.5 to 0.9 (0.75 ties vectors on SQLite; 0.9 falls to +0.001); RRF at any keyword weight
        // and `k` lost to vectors alone on every set. Exact matches are kept apart from this
        // (`crate::exact`).
        FusionConfig {
            method: FusionMethod::Convex,
            alpha: 0.8,
            rrf_k: 60.0,
            keyword_weight: 1.0,
            vector_weight: 1.0,
        }
    }
}

/// A fused result: the item, its fused score, and its rank (from 1) in each list it was in.
#[derive(Debug, Clone, PartialEq)]
pub struct Fused {
    /// The item id.
    pub id: i64,
    /// The fused score (higher is better).
    pub score: f32,
    /// Rank in the keyword list.
    pub keyword_rank: Option<usize>,
    /// Rank in the vector list.
    pub vector_rank: Option<usize>,
}

/// Weighted reciprocal rank fusion: `score(d) = Σ w_i / (k + rank_i(d))` over the lists that hold
/// `d`. Ties keep the order of first appearance, keyword list first. An item of `keyword_only`
/// (awaiting its vector) scores `(w_keyword + w_vector) / (k + rank_keyword(d))`.
pub fn rrf(keyword: &[i64], vector: &[i64], cfg: &FusionConfig, keyword_only: &HashSet<i64>) -> Vec<Fused> {
    let mut order: Vec<i64> = Vec::new();
    let mut map: HashMap<i64, Fused> = HashMap::new();
    let mut add = |ids: &[i64], weight: f32, is_keyword: bool| {
        for (i, id) in ids.iter().enumerate() {
            let rank = i + 1;
            let entry = map.entry(*id).or_insert_with(|| {
                order.push(*id);
                Fused { id: *id, score: 0.0, keyword_rank: None, vector_rank: None }
            });
            let alone = keyword_only.contains(id);
            let slot = if is_keyword { &mut entry.keyword_rank } else { &mut entry.vector_rank };
            if slot.is_none() {
                *slot = Some(rank);
                let weight = match (alone, is_keyword) {
                    (false, _) => weight,
                    (true, true) => cfg.keyword_weight + cfg.vector_weight,
                    (true, false) => 0.0,
                };
                entry.score += weight / (cfg.rrf_k + rank as f32);
            }
        }
    };
    add(keyword, cfg.keyword_weight, true);
    add(vector, cfg.vector_weight, false);
    let mut out: Vec<Fused> = order.into_iter().filter_map(|id| map.remove(&id)).collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out
}

/// Convex fusion: each list's scores are min-max normalised to 0..1 over the list, then
/// `alpha * vector + (1 - alpha) * keyword`; an item missing from a list gets 0 from it. An item
/// of `keyword_only` (awaiting its vector) scores its normalised keyword score alone.
pub fn convex(
    keyword: &[(i64, f32)],
    vector: &[(i64, f32)],
    alpha: f32,
    keyword_only: &HashSet<i64>,
) -> Vec<Fused> {
    fn normalised(list: &[(i64, f32)]) -> Vec<(i64, f32)> {
        let (lo, hi) = list.iter().fold((f32::MAX, f32::MIN), |(lo, hi), (_, s)| (lo.min(*s), hi.max(*s)));
        let span = hi - lo;
        list.iter().map(|(id, s)| (*id, if span > f32::EPSILON { (s - lo) / span } else { 1.0 })).collect()
    }
    let alpha = alpha.clamp(0.0, 1.0);
    let mut order: Vec<i64> = Vec::new();
    let mut map: HashMap<i64, Fused> = HashMap::new();
    for (is_keyword, list, weight) in [(true, keyword, 1.0 - alpha), (false, vector, alpha)] {
        for (i, (id, s)) in normalised(list).into_iter().enumerate() {
            let entry = map.entry(id).or_insert_with(|| {
                order.push(id);
                Fused { id, score: 0.0, keyword_rank: None, vector_rank: None }
            });
            let slot = if is_keyword { &mut entry.keyword_rank } else { &mut entry.vector_rank };
            if slot.is_none() {
                *slot = Some(i + 1);
                let weight = match (keyword_only.contains(&id), is_keyword) {
                    (false, _) => weight,
                    (true, true) => 1.0,
                    (true, false) => 0.0,
                };
                entry.score += weight * s;
            }
        }
    }
    let mut out: Vec<Fused> = order.into_iter().filter_map(|id| map.remove(&id)).collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> HashSet<i64> {
        HashSet::new()
    }

    #[test]
    fn a_chunk_awaiting_its_vector_that_matches_best_by_keywords_comes_first() {
        // 1 is the best keyword match but has no vector yet; 2 and 3 have both.
        let keyword = [(1, 12.0), (2, 8.0), (3, 2.0)];
        let vector = [(2, 0.9), (3, 0.85), (4, 0.5)];
        let pending = HashSet::from([1]);
        let before = convex(&keyword, &vector, 0.8, &none());
        assert_ne!(before[0].id, 1, "without the rule it is buried under 0 vector score");
        let fused = convex(&keyword, &vector, 0.8, &pending);
        assert_eq!(fused[0].id, 1);
        assert!((fused[0].score - 1.0).abs() < 1e-6, "its keyword score alone: {}", fused[0].score);
        assert_eq!(fused[0].vector_rank, None);
        // The others are fused as before.
        let two = fused.iter().find(|f| f.id == 2).unwrap();
        assert!((two.score - (0.2 * 0.6 + 0.8)).abs() < 1e-5, "{}", two.score);
        let cfg = FusionConfig::default();
        let ranked = rrf(&[1, 2, 3], &[2, 3, 4], &cfg, &pending);
        assert_eq!(ranked[0].id, 1);
        assert!((ranked[0].score - 2.0 / 61.0).abs() < 1e-6);
        assert_ne!(rrf(&[1, 2, 3], &[2, 3, 4], &cfg, &none())[0].id, 1);
        // A vector it has already (written, its record not yet cleared) is not counted twice.
        let fused = convex(&keyword, &[(1, 0.9), (2, 0.8)], 0.8, &pending);
        assert!((fused[0].score - 1.0).abs() < 1e-6);
        assert_eq!(fused[0].vector_rank, Some(1));
    }

    #[test]
    fn items_in_both_lists_rise_to_the_top() {
        // 7 is second in both lists; 1 and 9 top one list each but miss the other.
        let fused = rrf(&[1, 7, 3], &[9, 7, 4], &FusionConfig::default(), &none());
        assert_eq!(fused[0].id, 7);
        assert_eq!(fused[0].keyword_rank, Some(2));
        assert_eq!(fused[0].vector_rank, Some(2));
        let ids: Vec<i64> = fused.iter().map(|f| f.id).collect();
        assert_eq!(ids, [7, 1, 9, 3, 4]);
        let expected = 2.0 / 62.0;
        assert!((fused[0].score - expected).abs() < 1e-6);
    }

    #[test]
    fn weights_tilt_the_fusion() {
        let cfg = FusionConfig { keyword_weight: 0.2, ..FusionConfig::default() };
        let fused = rrf(&[1, 2], &[2, 3], &cfg, &none());
        assert_eq!(fused[0].id, 2);
        assert_eq!(fused[1].id, 3, "vector-only beats keyword-only when vectors weigh more");
    }

    #[test]
    fn duplicates_in_a_list_count_once() {
        let fused = rrf(&[5, 5], &[], &FusionConfig::default(), &none());
        assert_eq!(fused.len(), 1);
        assert_eq!(fused[0].keyword_rank, Some(1));
    }

    #[test]
    fn convex_fusion_mixes_normalised_scores() {
        let keyword = [(1, 12.0), (2, 6.0), (3, 2.0)];
        let vector = [(2, 0.9), (3, 0.85), (4, 0.5)];
        let fused = convex(&keyword, &vector, 0.7, &none());
        // 2: 0.3 * 0.4 + 0.7 * 1.0 = 0.82; 3: 0 + 0.7 * 0.875 = 0.6125; 1: 0.3.
        let ids: Vec<i64> = fused.iter().map(|f| f.id).collect();
        assert_eq!(ids, [2, 3, 1, 4]);
        assert!((fused[0].score - 0.82).abs() < 1e-5);
        assert_eq!(convex(&keyword, &vector, 0.0, &none())[0].id, 1, "alpha 0 is keyword alone");
    }
}
