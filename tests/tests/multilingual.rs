//! A mixed-language library through the `lore` binary: Chinese and Japanese documents beside
//! English ones are found by queries in their own language, `--lang` keeps one language, and
//! `lore show` names a document's language; a new library gets the embedding model its
//! documents and its user's locale need, and a Chinese question over English documents is found
//! and answered (with the real chat model) in Chinese, citing them.
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

/// The check named `name` of `lore doctor --json`.
fn doctor_check(lore: &Lore, name: &str) -> serde_json::Value {
    let out = lore.cmd(&["doctor", "--json"]).output().expect("run lore doctor");
    let checks: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    checks
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == name))
        .cloned()
        .unwrap_or_else(|| panic!("no {name} check in {checks}"))
}

fn detail(check: &serde_json::Value) -> &str {
    check["detail"].as_str().unwrap_or_default()
}

/// The Python FAQ page that answers why Python uses indentation.
fn design_page() -> String {
    data("docs/html/python3.11-faq/design.html").display().to_string()
}

const INDENTATION_ZH: &str = "为什么 Python 用缩进来划分语句块？";

#[test]
fn a_new_library_gets_the_embedding_model_its_documents_and_locale_need() {
    // English documents in the C locale: the English model, chosen without a word.
    let en = Lore::new();
    let run = en.run(&["add", &design_page()]).ok();
    assert!(!run.stderr.contains("embedding model"), "{}", run.stderr);
    let embedding = doctor_check(&en, "embedding");
    assert!(detail(&embedding).contains("AllMiniLML6V2"), "{embedding}");
    assert!(detail(&embedding).contains("chosen for English documents"), "{embedding}");

    // A Chinese document: the multilingual model, said once, kept by the next add.
    let zh = Lore::new();
    let chinese = data("docs/multilingual/000_75d7b7a8fa86d89f.txt").display().to_string();
    let run = zh.run(&["add", &chinese]).ok();
    assert!(
        run.stderr.contains("embedding model intfloat/multilingual-e5-small: chosen for documents in zh"),
        "{}",
        run.stderr
    );
    let run = zh.run(&["add", &design_page()]).ok();
    assert!(!run.stderr.contains("embedding model"), "{}", run.stderr);
    let embedding = doctor_check(&zh, "embedding");
    assert!(detail(&embedding).contains("MultilingualE5Small"), "{embedding}");
    let languages = doctor_check(&zh, "languages");
    assert_eq!(languages["status"], "ok", "{languages}");
    assert!(detail(&languages).contains("zh"), "{languages}");

    // A configured model wins; the doctor then says which chunks are searched by keywords only,
    // and `lore reindex --model` switches the library.
    let configured = Lore::new();
    let mut add = configured.cmd(&["add", &chinese]);
    add.env("LORE_EMBEDDING_MODEL", "AllMiniLML6V2");
    let run = lore_tests::Run::from_output(add.output().expect("run lore add")).ok();
    assert!(!run.stderr.contains("chosen for"), "{}", run.stderr);
    assert!(run.stderr.contains("text in zh is searched by keywords only"), "{}", run.stderr);
    let languages = doctor_check(&configured, "languages");
    assert_eq!(languages["status"], "note", "{languages}");
    assert!(detail(&languages).contains("keywords only"), "{languages}");
    assert!(
        detail(&languages).contains("lore reindex --model intfloat/multilingual-e5-small"),
        "{languages}"
    );
    configured.run(&["reindex", "--model", "intfloat/multilingual-e5-small"]).ok();
    let embedding = doctor_check(&configured, "embedding");
    assert!(detail(&embedding).contains("MultilingualE5Small"), "{embedding}");
    assert!(detail(&embedding).contains("lore reindex --model"), "{embedding}");
    assert_eq!(doctor_check(&configured, "languages")["status"], "ok");
    assert_eq!(doctor_check(&configured, "library")["status"], "ok");

    // English documents for a reader with a Chinese locale: the multilingual model, and a
    // Chinese question finds the English section that answers it by meaning alone.
    let reader = Lore::new();
    let mut add = reader.cmd(&["add", &design_page()]);
    add.env("LANG", "zh_CN.UTF-8");
    let run = lore_tests::Run::from_output(add.output().expect("run lore add")).ok();
    assert!(run.stderr.contains("chosen for a zh locale"), "{}", run.stderr);
    let hits = search(&reader, &["--mode", "vector", INDENTATION_ZH]);
    let heading = hits[0]["chunk"]["heading_path"].to_string();
    assert!(heading.contains("Why does Python use indentation"), "{heading}");
    // With the English model the same question finds nothing by meaning.
    let hits = search(&en, &["--mode", "vector", INDENTATION_ZH]);
    let heading = hits[0]["chunk"]["heading_path"].to_string();
    assert!(!heading.contains("Why does Python use indentation"), "{heading}");
}

#[test]
fn a_chinese_question_over_english_sources_is_answered_in_chinese_citing_them() {
    let lore = Lore::new();
    let dir = data("docs/html/python3.11-faq");
    let pages: Vec<String> = ["design.html", "windows.html", "gui.html"]
        .iter()
        .map(|p| dir.join(p).display().to_string())
        .collect();
    let mut add =
        lore.cmd(&[&["add"], pages.iter().map(String::as_str).collect::<Vec<_>>().as_slice()].concat());
    add.env("LANG", "zh_CN.UTF-8");
    lore_tests::Run::from_output(add.output().expect("run lore add")).ok();

    let mut ask = lore.cmd(&["ask", "--json", INDENTATION_ZH]);
    ask.envs(lore_tests::small_chat_env());
    let run = lore_tests::Run::from_output(ask.output().expect("run lore ask")).ok();
    let answer = run.json();
    assert_eq!(answer["refused"], false, "{answer}");
    let text = answer["answer"].as_str().unwrap();
    let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
    let han = letters.iter().filter(|c| ('\u{4e00}'..='\u{9fff}').contains(*c)).count();
    assert!(han * 2 > letters.len(), "not answered in Chinese: {text}");
    let citations = answer["citations"].as_array().unwrap();
    assert!(!citations.is_empty(), "no citation: {answer}");
    for c in citations {
        assert!(c["source"].as_str().unwrap().ends_with("design.html"), "{c}");
        assert!(c["section"].as_str().unwrap_or_default().contains("indentation"), "{c}");
    }
}
