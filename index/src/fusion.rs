//! Rank fusion of keyword and vector result lists.

use std::collections::HashMap;

/// How two ranked lists are fused.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FusionConfig {
    /// The `k` of reciprocal rank fusion: larger values flatten the advantage of top ranks.
    pub rrf_k: f32,
    /// Weight of the keyword list.
    pub keyword_weight: f32,
    /// Weight of the vector list.
    pub vector_weight: f32,
}

impl Default for FusionConfig {
    fn default() -> Self {
        FusionConfig { rrf_k: 60.0, keyword_weight: 1.0, vector_weight: 1.0 }
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
/// `d`. Ties keep the order of first appearance, keyword list first.
pub fn rrf(keyword: &[i64], vector: &[i64], cfg: &FusionConfig) -> Vec<Fused> {
    let mut order: Vec<i64> = Vec::new();
    let mut map: HashMap<i64, Fused> = HashMap::new();
    let mut add = |ids: &[i64], weight: f32, is_keyword: bool| {
        for (i, id) in ids.iter().enumerate() {
            let rank = i + 1;
            let entry = map.entry(*id).or_insert_with(|| {
                order.push(*id);
                Fused { id: *id, score: 0.0, keyword_rank: None, vector_rank: None }
            });
            let slot = if is_keyword { &mut entry.keyword_rank } else { &mut entry.vector_rank };
            if slot.is_none() {
                *slot = Some(rank);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_in_both_lists_rise_to_the_top() {
        // 7 is second in both lists; 1 and 9 top one list each but miss the other.
        let fused = rrf(&[1, 7, 3], &[9, 7, 4], &FusionConfig::default());
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
        let cfg = FusionConfig { rrf_k: 60.0, keyword_weight: 0.2, vector_weight: 1.0 };
        let fused = rrf(&[1, 2], &[2, 3], &cfg);
        assert_eq!(fused[0].id, 2);
        assert_eq!(fused[1].id, 3, "vector-only beats keyword-only when vectors weigh more");
    }

    #[test]
    fn duplicates_in_a_list_count_once() {
        let fused = rrf(&[5, 5], &[], &FusionConfig::default());
        assert_eq!(fused.len(), 1);
        assert_eq!(fused[0].keyword_rank, Some(1));
    }
}
