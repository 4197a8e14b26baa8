//! Shared helpers of the engine tests: the pyfaq retrieval set and nDCG.

#![allow(dead_code)]

use std::collections::HashMap;

/// The Python FAQ retrieval set (BEIR layout) from the shared test data.
pub struct Pyfaq {
    /// `(id, title, text)` of each FAQ answer.
    pub corpus: Vec<(String, String, String)>,
    /// `(id, text)` of each question.
    pub queries: Vec<(String, String)>,
    /// Query id -> the corpus ids judged relevant.
    pub qrels: HashMap<String, Vec<String>>,
}

pub fn pyfaq() -> Pyfaq {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/eval/pyfaq");
    let read = |name: &str| {
        std::fs::read_to_string(format!("{dir}/{name}")).unwrap_or_else(|e| panic!("{dir}/{name}: {e}"))
    };
    let json_lines = |name: &str| -> Vec<serde_json::Value> {
        read(name)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let s = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
    let corpus =
        json_lines("corpus.jsonl").iter().map(|v| (s(v, "_id"), s(v, "title"), s(v, "text"))).collect();
    let queries = json_lines("queries.jsonl").iter().map(|v| (s(v, "_id"), s(v, "text"))).collect();
    let mut qrels: HashMap<String, Vec<String>> = HashMap::new();
    for line in read("qrels.tsv").lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() >= 3 && cols[2].trim() != "0" {
            qrels.entry(cols[0].to_string()).or_default().push(cols[1].to_string());
        }
    }
    Pyfaq { corpus, queries, qrels }
}

/// nDCG@k of one ranking with binary relevance.
pub fn ndcg_at(k: usize, ranked: &[String], relevant: &[String]) -> f64 {
    let dcg: f64 = ranked
        .iter()
        .take(k)
        .enumerate()
        .filter(|(_, id)| relevant.contains(id))
        .map(|(i, _)| 1.0 / ((i + 2) as f64).log2())
        .sum();
    let ideal: f64 = (0..relevant.len().min(k)).map(|i| 1.0 / ((i + 2) as f64).log2()).sum();
    if ideal == 0.0 { 0.0 } else { dcg / ideal }
}
