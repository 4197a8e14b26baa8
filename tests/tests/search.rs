//! `lore search` over real documents of every kind: each kind is found by a query about its
//! content, and a distinctive phrase from a known PDF page comes back first with that page.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lore_tests::{Lore, data};

fn search(lore: &Lore, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["search", "--json"];
    all.extend_from_slice(args);
    match lore.run(&all).ok().json() {
        serde_json::Value::Array(a) => a,
        other => panic!("not a list: {other}"),
    }
}

#[test]
fn every_kind_is_found_and_pdf_hits_know_their_page() {
    let lore = Lore::new();
    let files = [
        data("docs/pdf/R-intro.pdf"),
        data("docs/epub/Metamorphosis-jackson.epub"),
        data("docs/html/python3.11-faq/programming.html"),
        data("docs/text/moby-dick/chapter_1.txt"),
        data("docs/multilingual/000_75d7b7a8fa86d89f.txt"),
    ];
    let mut args = vec!["add"];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    lore.run(&args).ok();

    for (kind, query, expect) in [
        (
            "pdf",
            "special assignment operator that changes a variable in an enclosing environment",
            "R-intro.pdf",
        ),
        ("epub", "Gregor Samsa wakes up transformed into a monstrous insect", "Metamorphosis-jackson.epub"),
        ("html", "function with output parameters call by reference", "programming.html"),
        ("text", "Call me Ishmael, I thought I would sail about a little", "chapter_1.txt"),
    ] {
        for mode in ["hybrid", "keyword", "vector"] {
            let hits = search(&lore, &["--mode", mode, "--k", "3", query]);
            assert!(!hits.is_empty(), "{mode}: no hits for {query:?}");
            let top = &hits[0];
            assert!(
                top["source"].as_str().unwrap().ends_with(expect),
                "{mode}: {query:?} found {}",
                top["source"]
            );
            assert_eq!(top["kind"], kind);
        }
        let filtered = search(&lore, &["--kind", kind, query]);
        assert!(filtered.iter().all(|h| h["kind"] == kind), "the kind filter holds");
    }

    // A phrase from physical page 57 of R-intro.pdf, as pdftotext shows it.
    for mode in ["hybrid", "keyword"] {
        let hits = search(
            &lore,
            &[
                "--mode",
                mode,
                "This operator looks back in enclosing environments for an environment that contains the symbol total",
            ],
        );
        let chunk = &hits[0]["chunk"];
        assert!(hits[0]["source"].as_str().unwrap().ends_with("R-intro.pdf"));
        let (a, b) = (chunk["page_start"].as_u64().unwrap(), chunk["page_end"].as_u64().unwrap());
        assert!(a <= 57 && 57 <= b, "{mode}: first hit spans pages {a}-{b}");
    }
    let text = lore.run(&["search", "--mode", "keyword", "symbol total enclosing environments"]).ok().stdout;
    assert!(text.contains("p. 57") || text.contains("pp. 5"), "page shown:\n{text}");
    assert!(text.contains("**"), "matched terms are marked:\n{text}");

    // The Chinese post is found by its own words.
    let hits = search(&lore, &["--mode", "keyword", "人工智能"]);
    assert!(hits.iter().any(|h| h["source"].as_str().unwrap().ends_with("000_75d7b7a8fa86d89f.txt")));

    // Reindex from the catalog alone gives the same answers.
    lore.run(&["reindex"]).ok();
    let hits = search(&lore, &["--mode", "hybrid", "function with output parameters call by reference"]);
    assert!(hits[0]["source"].as_str().unwrap().ends_with("programming.html"));
}

#[test]
fn text_and_markdown_hits_give_the_lines_they_come_from() {
    let lore = Lore::new();
    let dir = tempfile::tempdir().unwrap();
    let chapter = data("docs/text/moby-dick/chapter_1.txt");
    let source = std::fs::read_to_string(&chapter).unwrap();
    let notes = dir.path().join("notes.md");
    let md = "# Packages\n\nSome intro.\n\n## Holding\n\nTo keep a package at its version,\nrun apt-mark hold on it.\n\nThat is all.\n";
    std::fs::write(&notes, md).unwrap();
    lore.run(&["add", chapter.to_str().unwrap(), notes.to_str().unwrap()]).ok();

    let lines: Vec<&str> = source.lines().collect();
    let hits = search(&lore, &["--mode", "keyword", "damp drizzly November in my soul"]);
    let chunk = &hits[0]["chunk"];
    let (a, b) =
        (chunk["line_start"].as_u64().unwrap() as usize, chunk["line_end"].as_u64().unwrap() as usize);
    assert!(a <= b && b <= lines.len(), "{a}-{b}");
    let span = lines[a - 1..b].join("\n");
    assert!(span.contains("drizzly November in my soul"), "lines {a}-{b}: {span}");
    assert!(span.contains(chunk["text"].as_str().unwrap().trim()), "the chunk is those lines");
    let text = lore.run(&["search", "--mode", "keyword", "damp drizzly November in my soul"]).ok().stdout;
    assert!(text.contains(&format!("lines {a}-{b}")), "{text}");

    let hits = search(&lore, &["--mode", "keyword", "apt-mark hold"]);
    assert!(hits[0]["source"].as_str().unwrap().ends_with("notes.md"));
    assert_eq!(
        (hits[0]["chunk"]["line_start"].as_u64(), hits[0]["chunk"]["line_end"].as_u64()),
        (Some(7), Some(10))
    );
}

/// A keyword-style query naming a command (`apt-mark showmanual`, one of the Debian Reference's
/// command tables) keeps its exact keyword match among the first three hybrid hits, although
/// the vectors rank that chunk low; a natural-language question is fused as before.
#[test]
fn exact_keyword_matches_survive_hybrid_fusion() {
    let lore = Lore::new();
    let chapters: Vec<String> = ["ch02", "ch03", "ch04"]
        .iter()
        .map(|c| data(&format!("docs/html/debian-reference/{c}.en.html")).to_string_lossy().into_owned())
        .collect();
    let mut args = vec!["add"];
    args.extend(chapters.iter().map(String::as_str));
    lore.run(&args).ok();

    let chunk_id = |hit: &serde_json::Value| hit["chunk"]["id"].as_i64().unwrap();
    for query in ["apt-mark showmanual", "\"apt-mark showmanual\""] {
        let keyword = search(&lore, &["--mode", "keyword", "--k", "1", query]);
        let top = keyword.first().unwrap_or_else(|| panic!("no keyword hit for {query}"));
        let text = top["chunk"]["text"].as_str().unwrap().to_lowercase();
        assert!(text.contains("apt-mark showmanual"), "{query}: the keyword hit holds the command");
        let hybrid = search(&lore, &["--k", "10", query]);
        let at = hybrid.iter().position(|h| chunk_id(h) == chunk_id(top));
        assert!(matches!(at, Some(0..=2)), "{query}: the exact match is at {at:?} of the hybrid list");
        let vector = search(&lore, &["--mode", "vector", "--k", "3", query]);
        assert!(
            vector.iter().all(|h| chunk_id(h) != chunk_id(top)),
            "the vectors alone rank it below the top three, so fusion is what keeps it"
        );
    }
}
