//! Scope detection measured on the dev questions: no question of the evaluation sets (lookup
//! questions in English, Chinese and Japanese: `tests/data/eval/*` and the Python FAQ set in
//! `../shared/data/eval/pyfaq`) is taken for a whole-document or chapter question, while the
//! scope phrasings below, in English and Chinese, all are. Prints the counts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../tests/src/data_dir.rs"]
mod data_dir;

use std::path::{Path, PathBuf};

use lore_agent::scope::{Target, detect};

/// The questions of a BEIR-layout set: `queries.jsonl` and `unanswerable.jsonl`.
fn questions(set: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for file in ["queries.jsonl", "unanswerable.jsonl"] {
        let Ok(text) = std::fs::read_to_string(set.join(file)) else { continue };
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            out.push(v["text"].as_str().unwrap().to_string());
        }
    }
    out
}

fn dev_sets() -> Vec<PathBuf> {
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/eval");
    let mut sets: Vec<PathBuf> = std::fs::read_dir(&local)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("queries.jsonl").exists())
        .collect();
    sets.sort();
    sets.push(data_dir::data("eval/pyfaq"));
    sets
}

#[test]
fn no_dev_question_is_routed_to_map_reduce() {
    let mut total = 0;
    let mut routed = Vec::new();
    for set in dev_sets() {
        let qs = questions(&set);
        assert!(!qs.is_empty(), "{} has no questions", set.display());
        total += qs.len();
        routed.extend(qs.into_iter().filter(|q| detect(q).is_some()));
    }
    println!("dev questions taken for scope questions: {} of {total}", routed.len());
    assert!(total > 500, "only {total} dev questions were read");
    assert!(routed.is_empty(), "lookup questions taken for scope questions: {routed:#?}");
}

#[test]
fn scope_phrasings_in_english_and_chinese_are_routed() {
    let cases: &[(&str, Target)] = &[
        ("Summarise chapter 2 of Structure and Interpretation of Computer Programs", Target::Chapter(2)),
        ("summarize chapter 4", Target::Chapter(4)),
        ("What is chapter 3 about?", Target::Chapter(3)),
        ("What does chapter two cover?", Target::Chapter(2)),
        ("What happens in chapter III?", Target::Chapter(3)),
        ("Give me a summary of part 1", Target::Chapter(1)),
        ("Key points of chapter 7, please", Target::Chapter(7)),
        ("Summarise the last section \"Ordered factors\"", Target::Named("Ordered factors".into())),
        ("What is this book about?", Target::Whole),
        ("Summarise this book", Target::Whole),
        ("Give me an overview of the document", Target::Whole),
        ("Summarize An Introduction to R", Target::Whole),
        ("What are the main ideas of this paper?", Target::Whole),
        ("第二章讲了什么", Target::Chapter(2)),
        ("第二章讲了什么？", Target::Chapter(2)),
        ("请总结第3章", Target::Chapter(3)),
        ("概括一下第十章的主要内容", Target::Chapter(10)),
        ("总结这本书", Target::Whole),
        ("这本书讲了什么？", Target::Whole),
        ("本书的主要内容是什么", Target::Whole),
    ];
    let mut missed = Vec::new();
    for (q, want) in cases {
        if detect(q).map(|s| s.target) != Some(want.clone()) {
            missed.push(*q);
        }
    }
    println!("scope phrasings routed: {} of {}", cases.len() - missed.len(), cases.len());
    assert!(missed.is_empty(), "not taken for scope questions as expected: {missed:?}");
}
