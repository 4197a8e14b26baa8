//! Retrieval evaluation on BEIR-layout data sets (`corpus.jsonl`, `queries.jsonl`, `qrels.tsv`):
//! reading them, and the metrics (nDCG@10, Recall@10, Recall@100, MRR@10).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Why a data set could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A line is malformed.
    #[error("{path}:{line}: {reason}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// A corpus entry.
#[derive(Debug, Clone, Deserialize)]
pub struct CorpusDoc {
    /// Its id.
    #[serde(rename = "_id")]
    pub id: String,
    /// Its title (may be empty).
    #[serde(default)]
    pub title: String,
    /// Its text.
    pub text: String,
}

/// A query.
#[derive(Debug, Clone, Deserialize)]
pub struct Query {
    /// Its id.
    #[serde(rename = "_id")]
    pub id: String,
    /// Its text.
    pub text: String,
}

/// A BEIR data set.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The corpus.
    pub corpus: Vec<CorpusDoc>,
    /// Queries that have judgements.
    pub queries: Vec<Query>,
    /// Relevance judgements: query id -> corpus id -> grade.
    pub qrels: HashMap<String, HashMap<String, u32>>,
}

fn read(path: &Path) -> Result<String, EvalError> {
    std::fs::read_to_string(path).map_err(|source| EvalError::Io { path: path.to_path_buf(), source })
}

fn jsonl<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>, EvalError> {
    let text = read(path)?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let item = serde_json::from_str(line).map_err(|e| EvalError::Parse {
            path: path.to_path_buf(),
            line: i + 1,
            reason: e.to_string(),
        })?;
        out.push(item);
    }
    Ok(out)
}

/// Reads questions (`_id`, `text`) from a JSONL file, such as a set's `unanswerable.jsonl`.
pub fn read_queries(path: &Path) -> Result<Vec<Query>, EvalError> {
    jsonl(path)
}

impl Dataset {
    /// Reads a data set from a folder; `qrels.tsv` may also be at `qrels/test.tsv`.
    pub fn load(dir: &Path) -> Result<Dataset, EvalError> {
        let corpus: Vec<CorpusDoc> = jsonl(&dir.join("corpus.jsonl"))?;
        let queries: Vec<Query> = jsonl(&dir.join("queries.jsonl"))?;
        let qrels_path = [dir.join("qrels.tsv"), dir.join("qrels/test.tsv")]
            .into_iter()
            .find(|p| p.is_file())
            .unwrap_or_else(|| dir.join("qrels.tsv"));
        let text = read(&qrels_path)?;
        let mut qrels: HashMap<String, HashMap<String, u32>> = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() < 3 || (i == 0 && cols[2].trim().parse::<u32>().is_err()) {
                continue;
            }
            let grade = cols[2].trim().parse::<u32>().map_err(|e| EvalError::Parse {
                path: qrels_path.clone(),
                line: i + 1,
                reason: e.to_string(),
            })?;
            qrels.entry(cols[0].to_string()).or_default().insert(cols[1].to_string(), grade);
        }
        let queries = queries.into_iter().filter(|q| qrels.contains_key(&q.id)).collect();
        Ok(Dataset { corpus, queries, qrels })
    }
}

/// Metrics of one ranked list against its judgements.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Metrics {
    /// nDCG@10 (linear gain, as BEIR's pytrec_eval computes it).
    pub ndcg10: f64,
    /// Recall@10.
    pub recall10: f64,
    /// Recall@100.
    pub recall100: f64,
    /// MRR@10.
    pub mrr10: f64,
}

impl Metrics {
    /// Scores a ranked list of ids (best first, no duplicates) against graded judgements.
    pub fn of(ranked: &[String], judged: &HashMap<String, u32>) -> Metrics {
        let relevant = judged.values().filter(|g| **g > 0).count();
        if relevant == 0 {
            return Metrics::default();
        }
        let gain = |id: &String| f64::from(judged.get(id).copied().unwrap_or(0));
        let dcg: f64 =
            ranked.iter().take(10).enumerate().map(|(i, id)| gain(id) / ((i + 2) as f64).log2()).sum();
        let mut ideal: Vec<f64> = judged.values().map(|g| f64::from(*g)).collect();
        ideal.sort_by(|a, b| b.total_cmp(a));
        let idcg: f64 = ideal.iter().take(10).enumerate().map(|(i, g)| g / ((i + 2) as f64).log2()).sum();
        let hits_at = |n: usize| ranked.iter().take(n).filter(|id| gain(id) > 0.0).count() as f64;
        let mrr10 =
            ranked.iter().take(10).position(|id| gain(id) > 0.0).map(|p| 1.0 / (p + 1) as f64).unwrap_or(0.0);
        Metrics {
            ndcg10: if idcg > 0.0 { dcg / idcg } else { 0.0 },
            recall10: hits_at(10) / relevant as f64,
            recall100: hits_at(100) / relevant as f64,
            mrr10,
        }
    }

    /// The mean of many.
    pub fn mean(all: &[Metrics]) -> Metrics {
        let n = all.len().max(1) as f64;
        Metrics {
            ndcg10: all.iter().map(|m| m.ndcg10).sum::<f64>() / n,
            recall10: all.iter().map(|m| m.recall10).sum::<f64>() / n,
            recall100: all.iter().map(|m| m.recall100).sum::<f64>() / n,
            mrr10: all.iter().map(|m| m.mrr10).sum::<f64>() / n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn metrics_of_a_hand_made_ranking() {
        let judged: HashMap<String, u32> = [("a".to_string(), 1)].into_iter().collect();
        let m = Metrics::of(&ids(&["x", "a", "y"]), &judged);
        assert!((m.ndcg10 - 1.0 / 3f64.log2()).abs() < 1e-9);
        assert_eq!(m.recall10, 1.0);
        assert_eq!(m.mrr10, 0.5);
        let miss = Metrics::of(&ids(&["x"]), &judged);
        assert_eq!(miss, Metrics::default());
        let perfect = Metrics::of(&ids(&["a"]), &judged);
        assert_eq!(perfect.ndcg10, 1.0);
    }

    #[test]
    fn reads_the_pyfaq_set() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/eval/pyfaq");
        let ds = Dataset::load(&dir).unwrap();
        assert_eq!(ds.queries.len(), 175);
        assert_eq!(ds.corpus.len(), 179);
        assert!(ds.queries.iter().all(|q| ds.qrels.contains_key(&q.id)));
    }
}
