//! Embedder tests against the real ONNX Runtime and all-MiniLM-L6-v2 files.
//!
//! They need the runtime laid out by `scripts/setup-embedding.sh` (in `$LORE_RUNTIME`, else
//! `$LORE_HOME/runtime`, else `~/.local/share/lore/runtime`) and fail, not skip, without it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use lore_index::{EmbedConfig, Embedder, default_runtime_dir, hf_cache_dir};

fn runtime_dir() -> PathBuf {
    let dir = default_runtime_dir().expect("no home directory to find lore's runtime directory in");
    assert!(
        dir.join("ort").is_dir() && dir.join("hf").is_dir(),
        "lore's embedding runtime is missing from {}: run scripts/setup-embedding.sh first",
        dir.display()
    );
    dir
}

/// One embedder for the whole test binary: loading the model takes a while in a debug build.
fn embedder() -> Arc<Embedder> {
    static EMBEDDER: OnceLock<Arc<Embedder>> = OnceLock::new();
    EMBEDDER
        .get_or_init(|| {
            let dir = runtime_dir();
            let config = EmbedConfig { threads: Some(2), ..EmbedConfig::default() };
            Arc::new(Embedder::new(&config, &dir).unwrap_or_else(|e| panic!("embedder: {e}")))
        })
        .clone()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    dot(a, b) / (dot(a, a).sqrt() * dot(b, b).sqrt())
}

struct Reference {
    sentence: String,
    vector: Vec<f32>,
}

fn reference() -> Reference {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/minilm_reference.json");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    Reference {
        sentence: json["sentence"].as_str().unwrap().to_string(),
        vector: json["vector"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect(),
    }
}

#[test]
fn default_model_is_minilm_with_384_dimensions() {
    let e = embedder();
    assert_eq!(e.model_name(), "AllMiniLML6V2");
    assert_eq!(e.dim(), 384);
    let tokenizer = e.tokenizer_json_path();
    assert!(tokenizer.is_file(), "{}", tokenizer.display());
    assert!(tokenizer.starts_with(hf_cache_dir(&runtime_dir())));
}

#[test]
fn an_installed_model_loads_on_first_use_and_once() {
    // An embedder of its own: the shared one may have been used already.
    let config = EmbedConfig { threads: Some(1), ..EmbedConfig::default() };
    let e = Arc::new(Embedder::new(&config, &runtime_dir()).unwrap());
    assert!(!e.is_loaded(), "the model was loaded before anything was embedded");
    assert_eq!(e.dim(), 384);
    // Several threads asking at once share one load.
    let threads: Vec<_> = (0..3)
        .map(|i| {
            let e = e.clone();
            std::thread::spawn(move || e.embed_query(&format!("question {i}")).unwrap())
        })
        .collect();
    let vectors: Vec<Vec<f32>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(e.is_loaded());
    assert!(vectors.iter().all(|v| v.len() == 384));
    e.warm().unwrap();
    let again = e.embed_query("question 0").unwrap();
    assert!(cosine(&again, &vectors[0]) > 0.9999);
}

#[test]
fn passage_vector_matches_the_python_reference() {
    let r = reference();
    assert_eq!(r.vector.len(), 384);
    let got = embedder().embed_passages(std::slice::from_ref(&r.sentence)).unwrap();
    assert_eq!(got.len(), 1);
    let c = cosine(&got[0], &r.vector);
    assert!(c > 1.0 - 1e-4, "cosine to the reference vector is {c}");
    let max_diff = got[0].iter().zip(&r.vector).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    assert!(max_diff < 1e-3, "largest component difference {max_diff}");
}

#[test]
fn the_tokenizer_counts_without_padding_or_truncation() {
    let e = embedder();
    let t = e.tokenizer().unwrap();
    assert_eq!(t.encode("hello world", true).unwrap().len(), 4);
    let long = "word ".repeat(600);
    assert_eq!(t.encode(long.as_str(), true).unwrap().len(), 602);
    // The file itself pads and cuts to 128 tokens: that is why `tokenizer()` exists.
    let raw = tokenizers::Tokenizer::from_file(e.tokenizer_json_path()).unwrap();
    assert_eq!(raw.encode("hello world", true).unwrap().len(), 128);
}

#[test]
fn vectors_are_unit_length_and_batches_agree_with_single_runs() {
    let e = embedder();
    let texts: Vec<String> = [
        "Structure and Interpretation of Computer Programs",
        "A short one.",
        "Recursion is when a procedure calls itself; iteration keeps its state in a fixed set of variables, \
         which is why an iterative process needs constant space while a recursive one grows.",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let batch = e.embed_passages(&texts).unwrap();
    assert_eq!(batch.len(), 3);
    for (text, v) in texts.iter().zip(&batch) {
        assert!((dot(v, v).sqrt() - 1.0).abs() < 1e-4);
        // Padding inside a batch must not change a text's vector.
        let single = e.embed_passages(std::slice::from_ref(text)).unwrap();
        assert!(cosine(v, &single[0]) > 0.9999, "{text}");
    }
    assert!(e.embed_passages(&[]).unwrap().is_empty());
}

#[test]
fn a_query_is_closest_to_the_passage_that_answers_it() {
    let e = embedder();
    let passages: Vec<String> = [
        "An iterative process carries its state in a fixed number of variables and runs in constant space.",
        "Bake the bread at 220 degrees for forty minutes until the crust is brown.",
        "The treaty was signed in 1648 and ended the Thirty Years' War.",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let vectors = e.embed_passages(&passages).unwrap();
    let q = e.embed_query("Which processes need only constant memory?").unwrap();
    let scores: Vec<f32> = vectors.iter().map(|v| dot(&q, v)).collect();
    assert!(scores[0] > scores[1] + 0.1 && scores[0] > scores[2] + 0.1, "{scores:?}");
}

#[test]
fn async_embedding_reports_progress_per_batch() {
    let e = embedder();
    let texts: Vec<String> = (0..70).map(|i| format!("sentence number {i} about lore")).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let mut seen = Vec::new();
    let vectors = runtime
        .block_on(e.embed_passages_async(texts.clone(), |done, total| seen.push((done, total))))
        .unwrap();
    assert_eq!(vectors.len(), 70);
    // One report before each run and one at the end: from 0 to 70, rising. Short texts of
    // similar length are packed many to a run (at most 64), so 70 of them take more than one.
    assert_eq!(seen.first(), Some(&(0, 70)), "{seen:?}");
    assert_eq!(seen.last(), Some(&(70, 70)), "{seen:?}");
    assert!(seen.len() >= 3, "several runs: {seen:?}");
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0 && w[1].0 - w[0].0 <= 64), "{seen:?}");
    assert!(seen.iter().all(|(_, total)| *total == 70), "{seen:?}");
    let sync = e.embed_passages(&texts[65..66]).unwrap();
    assert!(cosine(&sync[0], &vectors[65]) > 0.9999);
    let q = runtime.block_on(e.embed_query_async("lore".to_string())).unwrap();
    assert_eq!(q.len(), 384);
}

#[test]
fn a_local_model_directory_gives_the_same_vectors() {
    let e = embedder();
    let snapshot = e.tokenizer_json_path().parent().unwrap().to_path_buf();
    let config = EmbedConfig {
        model: Some("minilm-local".into()),
        model_dir: Some(snapshot),
        threads: Some(1),
        ..EmbedConfig::default()
    };
    let local = Embedder::new(&config, &runtime_dir()).unwrap();
    assert_eq!(local.model_name(), "minilm-local");
    assert_eq!(local.dim(), 384);
    let r = reference();
    let v = local.embed_passages(std::slice::from_ref(&r.sentence)).unwrap();
    assert!(cosine(&v[0], &r.vector) > 1.0 - 1e-4);
}

#[test]
fn a_local_model_directory_without_files_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = EmbedConfig { model_dir: Some(dir.path().to_path_buf()), ..EmbedConfig::default() };
    let err = Embedder::new(&config, &runtime_dir()).unwrap_err().to_string();
    assert!(err.contains("model.onnx") && err.contains(&dir.path().display().to_string()), "{err}");
}

#[test]
fn an_uncached_model_is_reported_not_downloaded_when_offline() {
    // A model that the set-up script does not install, looked up in an empty cache.
    let runtime = runtime_dir();
    let empty = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(empty.path().join("ort")).unwrap();
    for entry in std::fs::read_dir(runtime.join("ort")).unwrap() {
        let entry = entry.unwrap();
        std::os::unix::fs::symlink(entry.path(), empty.path().join("ort").join(entry.file_name())).unwrap();
    }
    let config =
        EmbedConfig { model: Some("BAAI/bge-small-en-v1.5".into()), offline: true, ..EmbedConfig::default() };
    let err = Embedder::new(&config, empty.path()).unwrap_err().to_string();
    assert!(err.contains("BGESmallENV15") && err.contains("HF_HUB_OFFLINE"), "{err}");
}

/// Throughput on 256-token chunks in batches of 32. Run with
/// `cargo test -p lore-index --test engines_embed throughput -- --ignored --nocapture`.
#[test]
#[ignore = "measurement without a target: prints embedding throughput (-- --ignored --nocapture)"]
fn throughput() {
    let e = embedder();
    let tokenizer = e.tokenizer().unwrap();
    let base = "The evaluator, which determines the meaning of expressions in a programming language, \
                is just another program. Procedures are abstractions of compound operations, and the \
                processes they generate may be recursive or iterative in shape. ";
    let mut long = String::new();
    while tokenizer.encode(long.as_str(), false).unwrap().len() < 300 {
        long.push_str(base);
    }
    // 254 tokens of text plus [CLS] and [SEP].
    let encoding = tokenizer.encode(long.as_str(), false).unwrap();
    let chunk = &long[..encoding.get_offsets()[253].1];
    let tokens = tokenizer.encode(chunk, true).unwrap().len();
    let texts: Vec<String> = (0..128).map(|_| chunk.to_string()).collect();
    e.embed_passages(&texts[..32]).unwrap();
    let start = std::time::Instant::now();
    e.embed_passages(&texts).unwrap();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{} chunks of {tokens} tokens, batch {}: {:.1} chunks/s",
        texts.len(),
        e.batch_size(),
        texts.len() as f64 / secs
    );
}

#[test]
fn the_embedder_can_be_shared_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Embedder>();
}
