//! Chinese, Japanese and mixed-language libraries: chunk sizes of CJK text in the embedding
//! model's tokens, the language of each chunk, keyword search that segments Chinese and
//! Japanese, the language filter, hybrid search leaning on keywords for a query the model does
//! not cover, and a keyword index of another layout rebuilt from the catalog. Real documents,
//! the real tokenizer and model (`scripts/setup.sh` installs them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lore_index::{
    Embedder, KeywordConfig, KeywordDoc, KeywordFilter, KeywordIndex, Library, Mode, SearchConfig,
    SearchRequest, VectorFilter,
};
use lore_ingest::{Chunk, ChunkConfig, Chunker, Document, LoadOptions};

mod common;

use common::{data, engine_options, options};

const BLOG: &str = "docs/multilingual/000_75d7b7a8fa86d89f.txt";
const NEWS: [&str; 3] = [
    "docs/html/newspaper4k-0.9.6-tests-data/html/chinese_article.html",
    "docs/html/newspaper4k-0.9.6-tests-data/html/chinese_article_001.html",
    "docs/html/newspaper4k-0.9.6-tests-data/html/chinese_article_002.html",
];
const JA_MANUAL: &str = "docs/multilingual/live-manual.ja.epub";
const DE_MANUAL: &str = "docs/multilingual/live-manual.de.epub";
const EN_MANUAL: &str = "docs/epub/live-manual.en.epub";

/// Chinese queries written from the four Chinese documents (two to four each, phrased as a
/// reader would ask, without spaces, from the words of one paragraph), with the file that
/// answers each.
const ZH_QUERIES: [(&str, &str); 12] = [
    ("ChatGPT的训练过程分为哪几个阶段", "000_75d7b7a8fa86d89f.txt"),
    ("变分自编码器的概率分布公式", "000_75d7b7a8fa86d89f.txt"),
    ("如何使用OpenAI的API接入ChatGPT", "000_75d7b7a8fa86d89f.txt"),
    ("人工智能在语音助手和自动驾驶中的应用场景", "000_75d7b7a8fa86d89f.txt"),
    ("梁振英大宅违章建筑道歉", "chinese_article.html"),
    ("泛民主派议员要求行政长官辞职", "chinese_article.html"),
    ("选举呈请被终审法院驳回", "chinese_article.html"),
    ("中美元首会晤合作共赢", "chinese_article_001.html"),
    ("一带一路研究所副所长的看法", "chinese_article_001.html"),
    ("多极世界秩序", "chinese_article_001.html"),
    ("短缺药品监测预警", "chinese_article_002.html"),
    ("国家医保局监测药品价格和配送", "chinese_article_002.html"),
];

/// Japanese queries written from sections of the Japanese Live manual spread over its chapters
/// (a question in the section's words, not a sentence of it), with the section that answers.
const JA_QUERIES: [(&str, &str); 11] = [
    ("USBメモリの空きスペースを使うには", "4.5.3 USBメモリの空きスペースの利用"),
    ("QEMUでISOイメージをテストする方法", "4.6.1 QEMU でのISOイメージのテスト"),
    ("APTでプロキシを使う設定", "8.4.2 APTでのプロキシの利用"),
    ("ロケールとキーボードの言語設定", "10.2 ロケールと言語の独自化"),
    ("暗号化した保持先", "10.3.3 暗号化した保持先の利用"),
    ("ネットワーク経由でブートするためのDHCPサーバの設定", "4.8.1 DHCP サーバ"),
    ("バグを報告する前に集める情報", "14.4 情報収集"),
    ("シェルスクリプトのインデントはタブかスペースか", "15.2 インデント"),
    ("ウェブブートに必要なファイルの取得", "4.9.1 ウェブブートファイルの取得"),
    ("独自のカーネルをビルドして収録する", "8.2.10 独自のカーネル"),
    ("メタパッケージを使ってパッケージ一覧を指定する", "8.2.2 メタパッケージの利用"),
];

fn load(rel: &str) -> Document {
    lore_ingest::load_path(&data(rel), &LoadOptions::default()).unwrap()
}

fn file_name(source: &str) -> String {
    Path::new(source).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// The embedding model's tokenizer file.
fn tokenizer_file() -> PathBuf {
    let options = engine_options();
    Embedder::new(&options.embed, &options.runtime_dir).unwrap().tokenizer_json_path()
}

fn chunker() -> Chunker {
    Chunker::from_tokenizer_file(&tokenizer_file(), ChunkConfig::default()).unwrap()
}

#[test]
fn chunks_of_chinese_and_japanese_text_fall_in_the_token_range() {
    let chunker = chunker();
    let target = ChunkConfig::default().target_tokens;
    for rel in [BLOG, NEWS[0], NEWS[1], NEWS[2], JA_MANUAL] {
        let doc = load(rel);
        let chunks = chunker.chunk(&doc).unwrap();
        assert!(!chunks.is_empty(), "{rel}");
        let text_of = |c: &Chunk| doc.sections[c.section as usize].text.clone();
        for (i, c) in chunks.iter().enumerate() {
            // Counted by the model's own tokenizer, never over the target.
            assert_eq!(c.tokens as usize, chunker.count_tokens(&c.text), "{rel} chunk {i}");
            assert!(c.tokens as usize <= target, "{rel} chunk {i}: {} tokens", c.tokens);
            // A chunk under a quarter of the target is alone only where joining it to the next
            // chunk of its section would go over the target.
            if let Some(next) = chunks.get(i + 1).filter(|n| n.section == c.section)
                && (c.tokens as usize) < target / 4
            {
                let joined = &text_of(c)[c.char_start..next.char_end];
                assert!(
                    chunker.count_tokens(joined) > target,
                    "{rel} chunk {i} could join the next: {joined:?}"
                );
            }
        }
        // Chunks that do not end their section are filled: half of them reach 3/4 of the target.
        let inner: Vec<u32> =
            chunks.windows(2).filter(|w| w[0].section == w[1].section).map(|w| w[0].tokens).collect();
        if inner.len() >= 4 {
            let full = inner.iter().filter(|&&t| t as usize >= target * 3 / 4).count();
            assert!(full * 2 >= inner.len(), "{rel}: {full} of {} inner chunks filled", inner.len());
        }
    }
}

#[test]
fn chunks_carry_the_language_of_their_text() {
    let chunker = chunker();
    let count = |doc: &Document| -> BTreeMap<String, usize> {
        let mut by_lang = BTreeMap::new();
        for c in chunker.chunk(doc).unwrap() {
            *by_lang.entry(c.language.unwrap_or_default()).or_insert(0) += 1;
        }
        by_lang
    };
    let blog = count(&load(BLOG));
    assert_eq!(blog.keys().collect::<Vec<_>>(), ["zh"], "{blog:?}");
    let ja = count(&load(JA_MANUAL));
    let total: usize = ja.values().sum();
    assert!(ja.get("ja").copied().unwrap_or(0) * 10 >= total * 8, "{ja:?}");
    // The German manual's metadata says German, but most of its text is the untranslated
    // English: those chunks are English.
    let de = load(DE_MANUAL);
    assert_eq!(de.language.as_deref(), Some("de"));
    let de = count(&de);
    let total: usize = de.values().sum();
    assert!(de.get("en").copied().unwrap_or(0) * 2 > total, "{de:?}");
}

/// The chunks of `rels` as the keyword index takes them, each with its language.
fn keyword_docs(rels: &[&str]) -> Vec<(KeywordDoc, Chunk, String)> {
    let chunker = chunker();
    let mut out = Vec::new();
    for (d, rel) in rels.iter().enumerate() {
        let doc = load(rel);
        for c in chunker.chunk(&doc).unwrap() {
            let kdoc = KeywordDoc {
                chunk_id: (d * 10_000 + c.ordinal as usize) as i64,
                doc_id: d as i64,
                title: doc.title.clone(),
                heading_path: c.heading_path.clone(),
                text: c.text.clone(),
                kind: doc.kind.as_str().into(),
                tags: vec![],
                lang: c.language.clone(),
                published: None,
                added: 0,
            };
            out.push((kdoc, c, file_name(&doc.source)));
        }
    }
    out
}

#[test]
fn keyword_search_finds_chinese_and_japanese_documents_by_their_words() {
    let rels = [BLOG, NEWS[0], NEWS[1], NEWS[2], JA_MANUAL, EN_MANUAL];
    let docs = keyword_docs(&rels);
    let dir = tempfile::tempdir().unwrap();
    let index = KeywordIndex::open(&dir.path().join("kw"), &KeywordConfig::default()).unwrap();
    index.add(&docs.iter().map(|(k, _, _)| k.clone()).collect::<Vec<_>>()).unwrap();
    index.commit().unwrap();
    let by_id: BTreeMap<i64, (&Chunk, &str)> =
        docs.iter().map(|(k, c, f)| (k.chunk_id, (c, f.as_str()))).collect();

    // Every Chinese query finds its document first.
    for (query, file) in ZH_QUERIES {
        let hits = index.search(query, 10, &KeywordFilter::default()).unwrap();
        let top = hits.first().map(|h| by_id[&h.chunk_id].1);
        assert_eq!(top, Some(file), "{query}");
        // The snippet marks words of the query.
        let marked = hits[0].snippet.marked();
        assert!(marked.contains("**"), "{query}: {marked}");
    }

    // The Japanese queries find their section: first for most, in the top ten for all.
    let mut first = 0;
    let mut reciprocal = 0.0;
    for (query, section) in JA_QUERIES {
        let hits = index.search(query, 10, &KeywordFilter::default()).unwrap();
        let mut sections: Vec<String> = Vec::new();
        for h in &hits {
            let (chunk, file) = by_id[&h.chunk_id];
            let name = if file == "live-manual.ja.epub" { chunk.heading_path.last() } else { None };
            let name = name.cloned().unwrap_or_else(|| format!("other: {file}"));
            if !sections.contains(&name) {
                sections.push(name);
            }
        }
        let rank = sections.iter().position(|s| s == section).map(|i| i + 1);
        assert!(rank.is_some(), "{query}: {sections:?}");
        first += usize::from(rank == Some(1));
        reciprocal += rank.map_or(0.0, |r| 1.0 / r as f64);
    }
    let mrr = reciprocal / JA_QUERIES.len() as f64;
    assert!(first >= 8 && mrr >= 0.8, "first {first} of {}, MRR {mrr:.3}", JA_QUERIES.len());

    // English queries still find the English manual's text, stemmed as before.
    let hits = index.search("installing live-build from snapshots", 5, &KeywordFilter::default()).unwrap();
    let (chunk, file) = by_id[&hits[0].chunk_id];
    assert_eq!(file, "live-manual.en.epub");
    assert!(chunk.heading().contains("snapshots"), "{}", chunk.heading());

    // The language filter keeps only chunks of that language.
    let ja_only = KeywordFilter { lang: Some("ja".into()), ..Default::default() };
    let hits = index.search("live-build", 10, &ja_only).unwrap();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| by_id[&h.chunk_id].0.language.as_deref() == Some("ja")));
}

fn search(lib: &Library, query: &str, mode: Mode, filter: VectorFilter) -> Vec<lore_index::SearchHit> {
    let req = SearchRequest { query: query.into(), k: 10, mode, filter };
    lib.search(&SearchConfig::default(), &req).unwrap()
}

fn small_library(home: &Path) -> Library {
    let mut lib = Library::open_writer(home, options()).unwrap();
    let mut paths: Vec<PathBuf> = [BLOG, NEWS[0], NEWS[1], NEWS[2]].iter().map(|r| data(r)).collect();
    paths.push(data("docs/html/python3.11-faq/design.html"));
    let report = lib.add_paths(&paths, &[], &mut |_| {}).unwrap();
    assert_eq!(report.added, 5, "{report:?}");
    lib
}

#[test]
fn hybrid_search_leans_on_keywords_for_a_language_the_model_does_not_cover() {
    let home = tempfile::tempdir().unwrap();
    let lib = small_library(home.path());
    let embedder = Embedder::new(&engine_options().embed, &engine_options().runtime_dir).unwrap();
    assert!(embedder.covers_language("en") && !embedder.covers_language("zh"));
    for (query, file) in ZH_QUERIES {
        let hits = search(&lib, query, Mode::Hybrid, VectorFilter::default());
        assert_eq!(file_name(&hits[0].source), file, "{query}");
        // The English model's vectors were left out of the ranking.
        assert!(hits.iter().all(|h| h.vector_rank.is_none()), "{query}");
    }
    // An English query is still ranked by both.
    let hits = search(&lib, "Why are Python strings immutable?", Mode::Hybrid, VectorFilter::default());
    assert!(file_name(&hits[0].source) == "design.html" && hits[0].vector_rank.is_some());

    // The language filter applies inside both engines.
    for mode in Mode::ALL {
        let zh = VectorFilter { lang: Some("zh".into()), ..Default::default() };
        let hits = search(&lib, "ChatGPT", mode, zh);
        assert!(!hits.is_empty(), "{mode:?}");
        assert!(hits.iter().all(|h| h.chunk.language.as_deref() == Some("zh")), "{mode:?}");
        let en = VectorFilter { lang: Some("en".into()), ..Default::default() };
        let hits = search(&lib, "梁振英大宅违章建筑道歉", mode, en);
        assert!(hits.iter().all(|h| file_name(&h.source) == "design.html"), "{mode:?}");
    }
}

#[test]
fn a_keyword_index_of_another_layout_is_rebuilt_from_the_catalog() {
    let home = tempfile::tempdir().unwrap();
    drop(small_library(home.path()));
    // Replace the keyword index with one of another layout (another default analyzer), as an
    // older lore or another configuration leaves it: empty, and analysed differently.
    let other = KeywordConfig { analyzer: "default".into(), ..KeywordConfig::default() };
    let kw = home.path().join(lore_index::layout::KEYWORD_DIR);
    let index = KeywordIndex::open(&kw, &other).unwrap();
    assert!(index.was_recreated());
    drop(index);
    // The next writer rebuilds it from the catalog.
    let lib = Library::open_writer(home.path(), options()).unwrap();
    assert!(lib.consistency().unwrap().agrees());
    let hits = search(&lib, "梁振英大宅违章建筑道歉", Mode::Keyword, VectorFilter::default());
    assert_eq!(file_name(&hits[0].source), "chinese_article.html");
    drop(lib);
    // Once rebuilt, it is not rebuilt again.
    let index = KeywordIndex::open(&kw, &KeywordConfig::default()).unwrap();
    assert!(!index.was_recreated());
}
