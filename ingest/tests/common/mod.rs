//! Helpers shared by the web and feed tests: a local HTTP server and the shared data folder.
//! Each test binary uses a part of them.
#![allow(dead_code)]

#[path = "../../../tests/src/data_dir.rs"]
mod data_dir;
pub mod server;

use std::collections::HashMap;

#[allow(unused_imports)] // each test binary uses a part
pub use data_dir::{data, data_dir};

/// Tokens for the bag: lowercase whitespace-separated words, or for Chinese pages every
/// non-whitespace character (the text has no spaces between words).
pub fn tokens(text: &str, chars: bool) -> HashMap<String, usize> {
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

/// Bag-of-words F1 between what was extracted and what was expected.
pub fn f1(got: &HashMap<String, usize>, want: &HashMap<String, usize>) -> f64 {
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
