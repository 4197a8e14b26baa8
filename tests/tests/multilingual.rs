//! A mixed-language library through the `lore` binary: Chinese and Japanese documents beside
//! English ones are found by queries in their own language, `--lang` keeps one language, and
//! `lore show` names a document's language.
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

/// Two passages of the Chinese Debian Reference (on sudo and on systemd units), on which the
/// searches `普通用户` and `软件包管理系统是如何处理含有其他软件包的配置文件的软件包的？` once
/// crashed lore while making snippets.
const DEBREF_ZH: &str = "# echo \"penguin  ALL=(ALL) NOPASSWD:ALL\" >> /etc/sudoers\n\n这些技巧只对你管理的单用户工作站中那个唯一的用户有用。\n\n警告\n\n在多用户工作站中不要建立这样的普通用户账户，因为它会导致非常严重的系统安全问题。\n\n小心\n\n在上述例子中，用户 penguin 的密码及账号要有和 root 账号密码同样多的保护。\n\n在这种情况下，管理员权限被赋予那些有权对工作站进行系统管理任务的人。永远不要让你的公司行政管理部门或你的老板进行管理（例如给予他们权限），除非他们获得了授权并有这样的能力。\n\n单元配置文件从下列一系列路径中加载（参见 systemd-system.conf(5)）：\n\n• ”/lib/systemd/system”: OS 默认配置文件\n\n• ”/etc/systemd/system”: 系统管理员的配置文件，它将忽略操作系统默认的配置文件\n\n• ”/run/systemd/system”: 运行时产生的配置文件，它将忽略安装的配置文件\n\n他们的相互依赖关系通过”Wants=”, ”Requires=”, ”Before=”, ”After=”, …等指示来配置，(参见 systemd.unit(5)\n里的”MAPPING OF UNIT PROPERTIES TO THEIR INVERSES”)。资源控制也是被定义 (参见 systemd.resource-control(5)).\n根据单元配置文件的后缀来区分它们的类型：\n";

#[test]
fn chinese_searches_give_snippets_with_valid_highlights() {
    let lore = Lore::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("debian-reference-zh.txt");
    std::fs::write(&file, DEBREF_ZH).unwrap();
    lore.run(&["add", file.to_str().unwrap()]).ok();

    for query in ["普通用户", "软件包管理系统是如何处理含有其他软件包的配置文件的软件包的？"]
    {
        for mode in ["keyword", "hybrid"] {
            let hits = search(&lore, &["--mode", mode, query]);
            assert!(!hits.is_empty(), "{mode}: no hits for {query}");
            for hit in &hits {
                let snippet = hit["snippet"].as_str().unwrap();
                let mut at = 0;
                for pair in hit["highlights"].as_array().unwrap() {
                    let (a, b) = (pair[0].as_u64().unwrap() as usize, pair[1].as_u64().unwrap() as usize);
                    assert!(
                        a >= at && a < b,
                        "{mode} {query}: highlights {} in {snippet:?}",
                        hit["highlights"]
                    );
                    assert!(snippet.get(a..b).is_some(), "{mode} {query}: {a}..{b} off {snippet:?}");
                    at = b;
                }
            }
        }
        // The plain listing and an answer without a chat model take the same path.
        let shown = lore.run(&["search", query]).ok();
        assert!(shown.stdout.contains("debian-reference-zh.txt"), "{}", shown.stdout);
        lore.run(&["ask", "--no-llm", query]).ok();
    }
    // The query's two words, side by side in the text, are marked as one.
    let hits = search(&lore, &["--mode", "keyword", "普通用户"]);
    let snippet = hits[0]["snippet"].as_str().unwrap();
    let marked: Vec<&str> = hits[0]["highlights"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| snippet.get(p[0].as_u64()? as usize..p[1].as_u64()? as usize))
        .collect();
    assert!(marked.contains(&"普通用户"), "{marked:?} in {snippet}");
}
