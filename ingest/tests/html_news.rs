//! Main-text extraction on real news pages (newspaper4k's test pages with their expected text):
//! a bag-of-words F1 between all section text and the expected text, per page and on average.

use std::collections::HashMap;
use std::path::PathBuf;

fn data_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/docs/html/newspaper4k-0.9.6-tests-data"))
}

/// Tokens for the bag: lowercase whitespace-separated words, or for Chinese pages every
/// non-whitespace character (the text has no spaces between words).
fn tokens(text: &str, chars: bool) -> HashMap<String, usize> {
    let mut bag = HashMap::new();
    let lower = text.to_lowercase();
    if chars {
        for c in lower.chars().filter(|c| !c.is_whitespace()) {
            *bag.entry(c.to_string()).or_insert(0) += 1;
        }
    } else {
        for w in lower.split_whitespace() {
            *bag.entry(w.to_string()).or_insert(0) += 1;
        }
    }
    bag
}

fn f1(got: &HashMap<String, usize>, want: &HashMap<String, usize>) -> f64 {
    let overlap: usize = got.iter().map(|(k, n)| (*n).min(want.get(k).copied().unwrap_or(0))).sum();
    let got_n: usize = got.values().sum();
    let want_n: usize = want.values().sum();
    if overlap == 0 || got_n == 0 || want_n == 0 {
        return 0.0;
    }
    let p = overlap as f64 / got_n as f64;
    let r = overlap as f64 / want_n as f64;
    2.0 * p * r / (p + r)
}

#[test]
fn news_main_text_f1() {
    let dir = data_dir();
    let mut names: Vec<String> = std::fs::read_dir(dir.join("html"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".html"))
        .collect();
    names.sort();
    let mut scores = Vec::new();
    for name in &names {
        let stem = name.trim_end_matches(".html");
        let txt = dir.join("txt").join(format!("{stem}.txt"));
        let Ok(expected) = std::fs::read_to_string(&txt) else { continue };
        let bytes = std::fs::read(dir.join("html").join(name)).unwrap();
        let html = lore_ingest::text::decode(&bytes, name).unwrap().text;
        let doc = lore_ingest::html::load(&html, name).unwrap();
        let got: String = doc.sections.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join("\n\n");
        let chars = stem.starts_with("chinese_article");
        let score = f1(&tokens(&got, chars), &tokens(&expected, chars));
        println!("{score:.3}  {stem}  (title: {:?})", doc.title);
        scores.push(score);
    }
    let mean = scores.iter().sum::<f64>() / scores.len() as f64;
    println!("mean F1 over {} pages: {mean:.3}", scores.len());
    assert_eq!(scores.len(), 23, "pages with expected text");
    assert!(mean >= 0.85, "mean F1 {mean:.3} fell below 0.85");
}
