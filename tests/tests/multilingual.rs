//! A mixed-language library through the `lore` binary: Chinese and Japanese documents beside
//! English ones are found by queries in their own language, `--lang` keeps one language, and
//! `lore show` names a document's language.

use lore_tests::{Lore, data};

fn search(lore: &Lore, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["search", "--json"];
    all.extend_from_slice(args);
    match lore.run(&all).ok().json() {
        serde_json::Value::Array(a) => a,
        other => panic!("not a list: {other}"),
    }
}

fn source(hit: &serde_json::Value) -> &str {
    hit["source"].as_str().unwrap_or_default()
}

#[test]
fn chinese_and_japanese_documents_are_found_in_their_own_language() {
    let lore = Lore::new();
    let files = [
        data("docs/multilingual/000_75d7b7a8fa86d89f.txt"),
        data("docs/html/newspaper4k-0.9.6-tests-data/html/chinese_article.html"),
        data("docs/html/newspaper4k-0.9.6-tests-data/html/chinese_article_002.html"),
        data("docs/multilingual/live-manual.ja.epub"),
        data("docs/html/python3.11-faq/design.html"),
    ];
    let mut args = vec!["add"];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    lore.run(&args).ok();

    // Chinese queries of words from one document find it first, by keyword and hybrid search.
    for (query, expect) in [
        ("ChatGPT的训练过程分为哪几个阶段", "000_75d7b7a8fa86d89f.txt"),
        ("泛民主派议员要求行政长官辞职", "chinese_article.html"),
        ("短缺药品监测预警", "chinese_article_002.html"),
    ] {
        for mode in ["keyword", "hybrid"] {
            let hits = search(&lore, &["--mode", mode, "-k", "5", query]);
            assert!(!hits.is_empty(), "{mode}: no hits for {query}");
            assert!(source(&hits[0]).ends_with(expect), "{mode}: {query} found {}", source(&hits[0]));
        }
    }

    // A Japanese query finds the section of the Japanese manual that answers it.
    let hits = search(&lore, &["--mode", "keyword", "-k", "3", "APTでプロキシを使う設定"]);
    assert!(source(&hits[0]).ends_with("live-manual.ja.epub"));
    let heading = hits[0]["chunk"]["heading_path"].as_array().and_then(|h| h.last()).cloned();
    assert_eq!(
        heading.and_then(|h| h.as_str().map(str::to_string)).as_deref(),
        Some("8.4.2 APTでのプロキシの利用")
    );

    // `--lang` keeps one language: an English word found in Japanese text only.
    let hits = search(&lore, &["--lang", "ja", "-k", "10", "live-build"]);
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h["chunk"]["language"] == "ja"), "{hits:?}");
    let hits = search(&lore, &["--lang", "en", "--mode", "keyword", "梁振英"]);
    assert!(hits.iter().all(|h| source(h).ends_with("design.html")), "{hits:?}");
    let bad = lore.run(&["search", "--lang", "chinese", "x"]);
    assert_ne!(bad.code, 0);
    assert!(bad.stderr.contains("language code"), "{}", bad.stderr);

    // `lore show` names the language the document was detected in.
    let shown =
        lore.run(&["show", data("docs/multilingual/000_75d7b7a8fa86d89f.txt").to_str().unwrap()]).ok();
    assert!(shown.stdout.contains("language  zh"), "{}", shown.stdout);
}
