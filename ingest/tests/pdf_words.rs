//! Word-level agreement of lore's PDF text with poppler's `pdftotext` on real documents.
//!
//! Metric: both texts are lowercased and split on white space; each token loses the punctuation
//! around it (leading and trailing characters that are not letters or digits) and is dropped if
//! nothing is left. The two token lists are compared as multisets (bags of words) over the whole
//! document: matched = sum over words of min(count in lore, count in pdftotext);
//! precision = matched / lore tokens, recall = matched / pdftotext tokens, F1 their harmonic mean.
//! Every document must reach F1 >= 0.97.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const PDF_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/docs/pdf");
const MIN_F1: f64 = 0.97;

fn bag(text: &str) -> HashMap<String, usize> {
    let mut bag = HashMap::new();
    for token in text.split_whitespace() {
        let lower = token.to_lowercase();
        let word = lower.trim_matches(|c: char| !c.is_alphanumeric());
        if !word.is_empty() {
            *bag.entry(word.to_string()).or_insert(0) += 1;
        }
    }
    bag
}

/// (precision, recall, F1) of `ours` against `reference`.
fn prf(ours: &HashMap<String, usize>, reference: &HashMap<String, usize>) -> (f64, f64, f64) {
    let matched: usize = ours.iter().map(|(w, n)| (*n).min(reference.get(w).copied().unwrap_or(0))).sum();
    let total_ours: usize = ours.values().sum();
    let total_ref: usize = reference.values().sum();
    let p = if total_ours == 0 { 0.0 } else { matched as f64 / total_ours as f64 };
    let r = if total_ref == 0 { 0.0 } else { matched as f64 / total_ref as f64 };
    let f = if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) };
    (p, r, f)
}

fn pdftotext(path: &Path) -> String {
    let out = Command::new("pdftotext").arg("-enc").arg("UTF-8").arg(path).arg("-").output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => panic!("pdftotext failed on {}: {}", path.display(), String::from_utf8_lossy(&o.stderr)),
        Err(e) => panic!(
            "cannot run pdftotext ({e}): install poppler-utils (apt-get install -y poppler-utils; scripts/setup.sh does it)"
        ),
    }
}

fn pdfs() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(PDF_DIR)
        .unwrap_or_else(|e| panic!("{PDF_DIR}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pdf"))
        .collect();
    files.sort();
    files
}

#[test]
fn metric_is_a_bag_of_words() {
    let a = bag("The cat, the HAT. -- (x)");
    assert_eq!(a.get("the"), Some(&2));
    assert_eq!(a.get("x"), Some(&1));
    assert!(!a.contains_key("--"));
    let (p, r, f) = prf(&bag("a b c d"), &bag("a b c e e"));
    assert_eq!((p, r), (0.75, 0.6));
    assert!((f - 2.0 * 0.75 * 0.6 / 1.35).abs() < 1e-12);
}

#[test]
fn words_agree_with_pdftotext() {
    let files = pdfs();
    assert_eq!(files.len(), 4, "expected the 4 PDFs of {PDF_DIR}");
    let mut failures = Vec::new();
    for path in files {
        let reference = bag(&pdftotext(&path));
        let bytes = std::fs::read(&path).unwrap();
        let started = std::time::Instant::now();
        let doc = lore_ingest::pdf::load(&bytes, &path.display().to_string()).unwrap();
        let secs = started.elapsed().as_secs_f64();
        let text: Vec<&str> = doc.sections.iter().map(|s| s.text.as_str()).collect();
        let ours = bag(&text.join("\n"));
        let (p, r, f) = prf(&ours, &reference);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        println!(
            "{name}: P {p:.4} R {r:.4} F1 {f:.4} ({} words, pdftotext {}; loaded in {secs:.2} s)",
            ours.values().sum::<usize>(),
            reference.values().sum::<usize>()
        );
        if f < MIN_F1 {
            failures.push(format!("{name}: F1 {f:.4} < {MIN_F1}"));
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}
