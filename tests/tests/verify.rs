//! Verified citations end to end: a real answer of the local chat model (Qwen2.5 0.5B under
//! llama.cpp's server) on real Python FAQ pages, checked sentence by sentence with the real
//! embedding model; then the stored answer with a sentence copied from its source and a false
//! claim injected, checked again with `lore verify`. The first sentences are checked while the
//! answer still streams.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lore_tests::{Lore, small_chat_env};
use serde_json::Value;

/// The pages searched: small FAQ pages with distinct subjects.
const PAGES: &[&str] = &["gui.html", "installed.html", "design.html"];

fn library() -> Lore {
    Lore::with_files("docs/html/python3.11-faq", PAGES)
}

/// `lore ask --json QUESTION` with the local chat model, prompts kept small.
fn ask(lore: &Lore, question: &str) -> Value {
    let mut cmd = lore.cmd(&["ask", "--json", question]);
    cmd.envs(small_chat_env());
    let out = cmd.output().expect("run lore ask");
    assert!(out.status.success(), "lore ask failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// A sentence of `text` of eight words or more on one line, ending with a period.
fn copied_sentence(text: &str) -> Option<String> {
    text.lines()
        .flat_map(|l| l.split_inclusive(". "))
        .map(str::trim)
        .find(|s| s.ends_with('.') && s.split_whitespace().count() >= 8 && !s.contains(['[', '`']))
        .map(str::to_string)
}

#[test]
fn sentences_are_labelled_and_an_injected_false_claim_is_unsupported() {
    let lore = library();
    let a = ask(&lore, "Why are Python strings immutable?");
    assert_eq!(a["mode"], "llm", "{a}");
    let v = &a["verification"];
    let sentences = v["sentences"].as_array().unwrap_or_else(|| panic!("no verification: {a}"));
    assert!(!sentences.is_empty(), "{a}");
    let s = &v["summary"];
    let count = |label: &str| sentences.iter().filter(|x| x["label"] == label).count() as u64;
    assert_eq!(s["supported"], count("supported"));
    assert_eq!(s["unsupported"], count("unsupported"));
    assert_eq!(s["checked"], sentences.len() as u64 - count("not_checked"));
    let citations = a["citations"].as_array().unwrap();
    // Every quote is the text at its character span of the chunk it names.
    for x in sentences {
        let answer: Vec<char> = a["answer"].as_str().unwrap().chars().collect();
        let (start, end) = (x["start"].as_u64().unwrap() as usize, x["end"].as_u64().unwrap() as usize);
        assert_eq!(answer[start..end].iter().collect::<String>(), x["text"].as_str().unwrap());
        let Some(q) = x.get("quote") else { continue };
        let Some(c) = citations.iter().find(|c| c["chunk_id"] == q["chunk_id"]) else { continue };
        let chunk: Vec<char> = c["text"].as_str().unwrap().chars().collect();
        let (qs, qe) = (q["start"].as_u64().unwrap() as usize, q["end"].as_u64().unwrap() as usize);
        assert_eq!(chunk[qs..qe].iter().collect::<String>(), q["text"].as_str().unwrap(), "{x}");
    }

    // The stored answer, a sentence copied from its first source and a false claim added.
    let first = citations.first().unwrap_or_else(|| panic!("no citation: {a}"));
    let n = first["n"].as_u64().unwrap();
    let copied = copied_sentence(first["text"].as_str().unwrap()).expect("a sentence to copy");
    let copied_cited = format!("{} [{n}].", copied.trim_end_matches('.'));
    let false_claim = format!("The Python language was written in 1802 by Napoleon Bonaparte on Elba [{n}].");
    let mut stored = a.clone();
    stored["answer"] =
        Value::String(format!("{}\n\n{copied_cited} {false_claim}", a["answer"].as_str().unwrap()));
    let file = lore.home().join("stored-answer.json");
    std::fs::write(&file, serde_json::to_string_pretty(&stored).unwrap()).unwrap();

    let out = lore.run(&["verify", "--json", file.to_str().unwrap()]).ok();
    let again: Value = serde_json::from_str(out.stdout.trim()).expect("one JSON line");
    let label_of = |text: &str| {
        again["sentences"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["text"] == text)
            .unwrap_or_else(|| panic!("{text:?} not among {again}"))
            .clone()
    };
    let copied_check = label_of(&copied_cited);
    assert_eq!(copied_check["label"], "supported", "{copied_check}");
    assert_eq!(copied_check["quote"]["passage"], n);
    assert!(copied_check["quote"]["text"].as_str().unwrap().contains(copied.trim_end_matches('.')));
    let false_check = label_of(&false_claim);
    assert_eq!(false_check["label"], "unsupported", "{false_check}");
    assert!(false_check.get("quote").is_none());

    // The terminal names the unsupported sentence under the summary line.
    let out = lore.run(&["verify", file.to_str().unwrap()]).ok();
    assert!(out.stdout.contains("Verified: "), "{}", out.stdout);
    assert!(out.stdout.contains(&format!("⚠ unsupported: {false_claim}")), "{}", out.stdout);
}

#[test]
fn sentences_are_checked_while_the_answer_streams() {
    let lore = library();
    let a = ask(&lore, "What GUI toolkits exist for Python?");
    assert_eq!(a["mode"], "llm", "{a}");
    let sentences =
        a["verification"]["sentences"].as_array().unwrap_or_else(|| panic!("no verification: {a}"));
    assert!(sentences.len() >= 2, "an answer of several sentences: {a}");
    // The first sentence was checked (and told) before the last piece of the answer arrived.
    let t = &a["timings"];
    let first_verified =
        t["first_verified_ms"].as_f64().unwrap_or_else(|| panic!("nothing checked while streaming: {t}"));
    let last_token = t["last_token_ms"].as_f64().unwrap_or_else(|| panic!("no stream end: {t}"));
    assert!(first_verified < last_token, "the first check came after the stream: {t}");
    assert!(t["stream_verify_ms"].as_f64().is_some_and(|ms| ms > 0.0), "{t}");
    assert!(t["first_token_ms"].as_f64().is_some_and(|ms| ms < first_verified), "{t}");
}
