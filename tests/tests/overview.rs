//! Whole-document and chapter questions end to end, with the local chat model behind a
//! recording proxy: a chapter summary of a real book (chapter 4 of *An Introduction to R*, pp.
//! 23-25) is made by map-reduce over that chapter's sections alone and cites only its pages and
//! sections; asking again reads the section summaries from the catalog, so the only chat call
//! left is the one writing the answer. A chapter the book lacks is one error line naming the book;
//! a chat model that cannot be reached leaves the question to the search, quoted as usual.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use lore_tests::proxy::{RecordingProxy, last_user_message};
use lore_tests::{Lore, Run, data, small_chat_env};

const QUESTION: &str = "Summarise chapter 4 of An Introduction to R";
const CHAPTER: &str = "4 Ordered and unordered factors";

/// Runs `lore ask --json QUESTION` with the local model behind `proxy`.
fn ask(lore: &Lore, proxy: &RecordingProxy, question: &str) -> Run {
    let mut cmd = lore.cmd(&["ask", "--json", question]);
    for (k, v) in small_chat_env() {
        cmd.env(k, if k == "LORE_LLM_BASE_URL" { proxy.url.clone() } else { v });
    }
    // The server answers one request at a time: a map call may wait behind other tests' asks.
    cmd.env("LORE_LLM_IDLE_TIMEOUT_SECS", "600");
    Run::from_output(cmd.output().unwrap())
}

#[test]
fn a_chapter_summary_cites_that_chapter_and_a_second_ask_reads_the_cache() {
    let lore = Lore::new();
    lore.run(&["add", data("docs/pdf/R-intro.pdf").to_str().unwrap()]).ok();
    let proxy = RecordingProxy::start(&lore_tests::chat_server());

    let started = Instant::now();
    let first = ask(&lore, &proxy, QUESTION).ok();
    let first_secs = started.elapsed().as_secs_f64();
    let json = first.json();
    let requests = proxy.requests();
    let stats = &json["overview"];
    let parts = stats["parts"].as_u64().unwrap() as usize;
    assert!(parts >= 1, "{json:#}");
    assert_eq!(stats["scope"], CHAPTER, "{json:#}");
    assert_eq!((stats["cached"].as_u64(), stats["chat_calls"].as_u64()), (Some(0), Some(parts as u64 + 1)));
    assert_eq!(requests.len(), parts + 1, "one call per part and one for the answer");
    // Each map call reads chapter 4 and nothing of the chapters around it.
    for r in &requests[..parts] {
        let text = last_user_message(r);
        assert!(text.contains(&format!("## {CHAPTER}")), "{text}");
        for other in ["## 3 Objects", "## 5 Arrays and matrices"] {
            assert!(!text.contains(other), "a map call read {other}: {text}");
        }
    }
    // The answer cites chapter 4's sections and pages only.
    assert_eq!(json["refused"], false, "{json:#}");
    let answer = json["answer"].as_str().unwrap();
    assert!(!answer.trim().is_empty());
    let citations = json["citations"].as_array().unwrap();
    assert!(!citations.is_empty(), "no citation: {json:#}");
    for c in citations {
        let section = c["section"].as_str().unwrap_or_default();
        assert!(section.starts_with(CHAPTER), "cites outside the chapter: {c:#}");
        let page = c["page"].as_str().unwrap();
        let numbers: Vec<u32> = page
            .trim_start_matches("pp. ")
            .trim_start_matches("p. ")
            .split('-')
            .map(|p| p.trim().parse().unwrap())
            .collect();
        assert!(numbers.iter().all(|p| (23..=25).contains(p)), "cites page {page}: {c:#}");
    }
    // Progress was told (stderr is not a terminal: one line per step).
    assert!(first.stderr.contains(&format!("summarising \"{CHAPTER}\"")), "{}", first.stderr);

    // Asked again: every part comes from the cache; only the answer is asked for.
    let started = Instant::now();
    let second = ask(&lore, &proxy, QUESTION).ok();
    let second_secs = started.elapsed().as_secs_f64();
    let again = second.json();
    assert_eq!(proxy.requests().len(), requests.len() + 1, "{again:#}");
    assert_eq!(again["overview"]["cached"].as_u64(), Some(parts as u64), "{again:#}");
    assert_eq!(again["overview"]["chat_calls"].as_u64(), Some(1));
    println!(
        "chapter 4: {parts} part(s), {} chat calls, {first_secs:.0} s; again: 1 chat call, {second_secs:.0} s",
        parts + 1
    );

    // A chapter the book does not have: one error line naming the book, no chat call.
    let before = proxy.requests().len();
    let missing = ask(&lore, &proxy, "Summarise chapter 40 of An Introduction to R");
    assert_eq!(missing.code, 1, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("\"An Introduction to R\" has no chapter 40")
            && missing.stderr.contains(CHAPTER)
            && missing.stderr.lines().count() == 1,
        "{}",
        missing.stderr
    );
    assert_eq!(proxy.requests().len(), before);
}

#[test]
fn a_chapter_question_without_a_reachable_model_quotes_the_best_passages() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("garden.md");
    std::fs::write(
        &notes,
        "# 1 Soil\n\nThe beds get compost every March.\n\n\
         # 2 Watering\n\nThe tomatoes are watered at dawn from the rain barrel.\n",
    )
    .unwrap();
    let lore = Lore::new();
    lore.run(&["add", notes.to_str().unwrap()]).ok();
    // Port 1 on the loopback: nothing listens, the connection is refused at once.
    let mut cmd = lore.cmd(&["ask", "--json", "Summarise chapter 2"]);
    for (k, v) in small_chat_env() {
        cmd.env(k, if k == "LORE_LLM_BASE_URL" { "http://127.0.0.1:1/v1".to_string() } else { v });
    }
    cmd.env("LORE_LLM_RETRIES", "0");
    let run = Run::from_output(cmd.output().unwrap()).ok();
    let json = run.json();
    assert!(
        run.stderr.contains("unreachable") && run.stderr.contains("cannot summarise \"2 Watering\""),
        "{json:#}\n{}",
        run.stderr
    );
    assert_eq!(json["mode"], "extractive", "{json:#}");
    assert!(json.get("overview").is_none());
}
