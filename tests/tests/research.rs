//! `lore research` end to end: the local chat model (Qwen2.5 0.5B under llama.cpp's server)
//! plans sub-questions over real Python FAQ pages, each is searched with the real embedding
//! model and indexes, and the report it writes cites a source in every section; `--out` writes
//! the Markdown report with its numbered source list.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lore_tests::{Lore, Run, markers, small_chat_env};
use serde_json::Value;

/// The pages researched.
const PAGES: &[&str] = &["design.html", "general.html", "programming.html"];

/// A broad question: three subjects the pages answer in different places.
const QUESTION: &str =
    "What does the Python FAQ say about indentation, why strings are immutable, and how memory is managed?";

#[test]
fn a_research_report_plans_sub_questions_and_cites_every_section() {
    let lore = Lore::with_files("docs/html/python3.11-faq", PAGES);
    let file = lore.home().join("report.md");
    let mut cmd = lore.cmd(&["research", "--json", "--out", file.to_str().unwrap(), QUESTION]);
    cmd.envs(small_chat_env());
    let run = Run::from_output(cmd.output().expect("run lore research")).ok();
    let r: Value = serde_json::from_str(run.stdout.trim()).expect("one JSON document");

    // The plan: the model's own sub-questions, each searched.
    assert_eq!(r["planned"], true, "{r}");
    let plan = r["plan"].as_array().unwrap();
    assert!(plan.len() >= 3, "fewer than 3 sub-questions: {}", r["plan"]);
    for s in plan {
        assert!(!s["queries"].as_array().unwrap().is_empty(), "{s}");
    }
    assert!(run.stderr.contains("plan: "), "the plan is shown: {}", run.stderr);
    assert!(r["calls"].as_u64().unwrap() <= 1 + 2 * 4, "calls past the bound: {}", r["calls"]);

    // The report: every section cites a source given to the model.
    assert_eq!(r["refused"], false, "{r}");
    let text = r["text"].as_str().unwrap();
    let given: Vec<u64> =
        r["passages"].as_array().unwrap().iter().map(|p| p["n"].as_u64().unwrap()).collect();
    for n in markers(text) {
        assert!(given.contains(&n), "[{n}] is no source given: {text}");
    }
    // A section per sub-question, in order; every paragraph of an answered one cites a source;
    // one whose answer was withheld names its nearest passages.
    let sections: Vec<&str> = text.split("## ").map(str::trim).filter(|s| !s.is_empty()).collect();
    assert_eq!(sections.len(), plan.len(), "{text}");
    let mut answered = 0;
    for (section, sub) in sections.iter().zip(plan) {
        let (heading, body) = section.split_once('\n').unwrap_or((section, ""));
        assert_eq!(heading.trim(), sub["question"].as_str().unwrap());
        match sub["outcome"].as_str().unwrap() {
            "answered" => {
                answered += 1;
                for p in body.split("\n\n").filter(|p| p.split_whitespace().count() >= 3) {
                    assert!(!markers(p).is_empty(), "a paragraph cites nothing: {p:?}\n\nreport:\n{text}");
                }
            }
            "withheld" => {
                assert!(body.contains("Nearest passages:") && !markers(body).is_empty(), "{body}");
                assert!(sub["withheld"].is_string(), "{sub}");
            }
            "not_found" => assert!(markers(body).is_empty(), "{body}"),
            other => panic!("outcome {other}: {sub}"),
        }
    }
    assert!(answered >= 2, "fewer than 2 sections answered:\n{text}\n{}", r["plan"]);
    let cited: Vec<u64> =
        r["citations"].as_array().unwrap().iter().map(|c| c["n"].as_u64().unwrap()).collect();
    let mut in_text = markers(text);
    in_text.sort_unstable();
    in_text.dedup();
    assert_eq!(cited, in_text, "the citations are the markers of the text");
    assert!(r["verification"]["sentences"].as_array().is_some_and(|s| !s.is_empty()), "{r}");

    // The Markdown report: title, plan, report, and one numbered line per cited source.
    let md = std::fs::read_to_string(&file).expect("the report file");
    assert!(md.starts_with(&format!("# {QUESTION}\n")), "{md}");
    for s in plan {
        assert!(md.contains(s["question"].as_str().unwrap()), "the plan is in the report: {md}");
    }
    let sources = md.split("\n## Sources\n").nth(1).unwrap_or_else(|| panic!("no source list: {md}"));
    for c in r["citations"].as_array().unwrap() {
        let line = format!("{}. **{}**", c["n"], c["title"].as_str().unwrap());
        assert!(sources.contains(&line), "{line:?} missing from the source list:\n{sources}");
    }
    assert!(run.stderr.contains("report written to"), "{}", run.stderr);
}

#[test]
fn research_without_a_chat_model_says_how_to_set_one() {
    let lore = Lore::with_files("docs/html/python3.11-faq", &["design.html"]);
    let run = lore.run(&["research", "Why is Python designed this way?"]);
    assert_eq!(run.code, 1, "{run:?}");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {}", run.stderr);
    assert!(lines[0].contains("needs a chat model") && lines[0].contains("llm.base_url"), "{}", run.stderr);
}
