//! Configuration: `config.toml` plus `LORE_<SECTION>_<KEY>` environment overrides.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use lore_index::layout::config_path;
use serde::{Deserialize, Serialize};

/// Everything a user can configure.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Loading and chunking.
    pub ingest: IngestConfig,
    /// The embedding model.
    pub embedding: EmbeddingConfig,
    /// Search defaults and fusion.
    pub search: SearchSection,
    /// The keyword index.
    pub keyword: KeywordSection,
    /// A Qdrant server for the vectors.
    pub qdrant: QdrantSection,
    /// The chat model.
    pub llm: LlmSection,
    /// Retrieval for answers.
    pub ask: AskSection,
    /// Fetching web pages and feeds.
    pub web: WebSection,
}

/// `[web]`: fetching web pages and feeds.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebSection {
    /// Seconds one request may take, from sending it to the last byte.
    pub timeout_secs: u64,
    /// Largest page or feed accepted, in MB (PDFs and EPUBs use ingest.max_book_mb).
    pub max_page_mb: u64,
    /// Requests in flight to one host at a time.
    pub per_host: usize,
    /// Attempts in all for one request (connection errors, timeouts, 408, 429, 5xx are retried).
    pub retries: u32,
    /// The User-Agent header; unset: lore's own.
    pub user_agent: Option<String>,
    /// Whether feed item links and redirects to another host (addresses a document or a server
    /// chose) may lead to loopback, private, link-local or unspecified addresses. Addresses typed
    /// on the command line are allowed either way.
    pub allow_private: bool,
    /// Article pages fetched at once in one feed refresh, whatever their hosts.
    pub item_fetches: usize,
}

impl Default for WebSection {
    fn default() -> Self {
        let d = lore_ingest::web::FetchOptions::default();
        WebSection {
            timeout_secs: d.timeout.as_secs(),
            max_page_mb: d.max_bytes / (1024 * 1024),
            per_host: d.per_host,
            retries: d.retries,
            user_agent: None,
            allow_private: d.allow_private,
            item_fetches: d.item_fetches,
        }
    }
}

impl WebSection {
    /// Fetch options from this section and the ingest limits.
    pub fn fetch_options(&self, ingest: &IngestConfig) -> lore_ingest::web::FetchOptions {
        let d = lore_ingest::web::FetchOptions::default();
        lore_ingest::web::FetchOptions {
            timeout: std::time::Duration::from_secs(self.timeout_secs.max(1)),
            max_bytes: self.max_page_mb.max(1) * 1024 * 1024,
            max_book_bytes: ingest.max_book_mb.max(1) * 1024 * 1024,
            per_host: self.per_host.max(1),
            retries: self.retries.max(1),
            user_agent: self
                .user_agent
                .clone()
                .filter(|u| !u.trim().is_empty())
                .unwrap_or(d.user_agent.clone()),
            allow_private: self.allow_private,
            item_fetches: self.item_fetches.max(1),
            ..d
        }
    }
}

/// `[search]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SearchSection {
    /// Default mode: hybrid, keyword or vector.
    pub mode: String,
    /// Default number of results.
    pub k: usize,
    /// Candidates taken from each engine before fusion.
    pub candidates: usize,
    /// Fusion method of hybrid search: rrf or convex.
    pub fusion: String,
    /// Weight of vector scores in convex fusion (0 to 1).
    pub alpha: f32,
    /// The k of reciprocal rank fusion.
    pub rrf_k: f32,
    /// Weight of keyword results in fusion.
    pub keyword_weight: f32,
    /// Weight of vector results in fusion.
    pub vector_weight: f32,
}

impl Default for SearchSection {
    fn default() -> Self {
        let d = lore_index::SearchConfig::default();
        SearchSection {
            mode: "hybrid".into(),
            k: 10,
            candidates: d.candidates,
            fusion: format!("{:?}", d.fusion.method).to_lowercase(),
            alpha: d.fusion.alpha,
            rrf_k: d.fusion.rrf_k,
            keyword_weight: d.fusion.keyword_weight,
            vector_weight: d.fusion.vector_weight,
        }
    }
}

impl SearchSection {
    /// The library's search settings.
    pub fn to_search_config(&self) -> anyhow::Result<lore_index::SearchConfig> {
        Ok(lore_index::SearchConfig {
            candidates: self.candidates,
            fusion: lore_index::FusionConfig {
                method: self.fusion.parse().map_err(anyhow::Error::msg)?,
                alpha: self.alpha,
                rrf_k: self.rrf_k,
                keyword_weight: self.keyword_weight,
                vector_weight: self.vector_weight,
            },
        })
    }
}

/// `[keyword]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeywordSection {
    /// Text analyzer: en_stem (English stemming), default (none), or another <lang>_stem.
    pub analyzer: String,
    /// Weight of a title match relative to a text match.
    pub title_boost: f32,
    /// Weight of a heading match relative to a text match.
    pub heading_boost: f32,
}

impl Default for KeywordSection {
    fn default() -> Self {
        let d = lore_index::KeywordConfig::default();
        KeywordSection { analyzer: d.analyzer, title_boost: d.title_boost, heading_boost: d.heading_boost }
    }
}

/// `[llm]`: the OpenAI-compatible chat endpoint.
#[derive(Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmSection {
    /// Base URL of the API, e.g. `http://127.0.0.1:8080/v1` (llama.cpp), `http://localhost:11434/v1`
    /// (Ollama); unset with an API key means OpenAI.
    pub base_url: Option<String>,
    /// Model name.
    pub model: Option<String>,
    /// API key; when unset, the variable `api_key_env` names holds it (if set).
    pub api_key: Option<String>,
    /// Name of the environment variable holding the API key.
    pub api_key_env: String,
    /// The model's context window in tokens.
    pub context_window: usize,
    /// Most tokens in an answer.
    pub max_answer_tokens: u32,
    /// Sampling temperature.
    pub temperature: f32,
    /// Seconds to wait for a connection.
    pub connect_timeout_secs: u64,
    /// Seconds of silence (before the first token or between tokens) before giving up.
    pub idle_timeout_secs: u64,
    /// Retries on connection errors, 429 and 5xx.
    pub retries: u32,
}

impl Default for LlmSection {
    fn default() -> Self {
        let d = lore_agent::ChatConfig::new("", "");
        LlmSection {
            base_url: None,
            model: None,
            api_key: None,
            api_key_env: "OPENAI_API_KEY".into(),
            context_window: d.context_window,
            max_answer_tokens: d.max_answer_tokens,
            temperature: d.temperature,
            connect_timeout_secs: d.connect_timeout.as_secs(),
            idle_timeout_secs: d.idle_timeout.as_secs(),
            retries: d.retry.max_retries,
        }
    }
}

impl std::fmt::Debug for LlmSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmSection")
            .field("base_url", &self.base_url.as_deref().map(lore_index::redact_url))
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| lore_index::HIDDEN))
            .field("api_key_env", &self.api_key_env)
            .field("context_window", &self.context_window)
            .field("max_answer_tokens", &self.max_answer_tokens)
            .field("temperature", &self.temperature)
            .field("connect_timeout_secs", &self.connect_timeout_secs)
            .field("idle_timeout_secs", &self.idle_timeout_secs)
            .field("retries", &self.retries)
            .finish()
    }
}

/// OpenAI's API, used when only an API key is configured.
pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

impl LlmSection {
    /// The API key: `api_key`, else the variable `api_key_env` names, when set and not blank.
    pub fn key(&self) -> Option<String> {
        self.api_key
            .clone()
            .or_else(|| std::env::var(&self.api_key_env).ok())
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty())
    }

    /// Where the API key comes from, for `lore doctor` (never the key itself).
    pub fn key_source(&self) -> Option<String> {
        match &self.api_key {
            Some(k) if !k.trim().is_empty() => Some("llm.api_key".into()),
            _ => self.key().map(|_| self.api_key_env.clone()),
        }
    }

    /// The chat model's settings, or `None` when no model is configured (extractive answers).
    pub fn to_chat_config(&self) -> Option<lore_agent::ChatConfig> {
        let key = self.key();
        let base_url = match (&self.base_url, &key) {
            (Some(u), _) if !u.trim().is_empty() => u.trim().to_string(),
            (_, Some(_)) => OPENAI_BASE_URL.to_string(),
            _ => return None,
        };
        let model = self.model.clone().unwrap_or_else(|| "gpt-4o-mini".to_string());
        let mut c = lore_agent::ChatConfig::new(base_url, model);
        c.api_key = key;
        c.context_window = self.context_window;
        c.max_answer_tokens = self.max_answer_tokens;
        c.temperature = self.temperature;
        c.connect_timeout = std::time::Duration::from_secs(self.connect_timeout_secs.max(1));
        c.idle_timeout = std::time::Duration::from_secs(self.idle_timeout_secs.max(1));
        c.retry.max_retries = self.retries;
        Some(c)
    }
}

/// `[ask]`: what answers are built from.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AskSection {
    /// Search hits considered.
    pub k: usize,
    /// Chunks added on each side of a hit, within its section.
    pub neighbours: u32,
    /// Most passages given to the model.
    pub max_passages: usize,
    /// Upper bound of the passages' tokens (also limited by `llm.context_window`).
    pub budget_tokens: usize,
    /// The question counts as answerable when a hit is at least this similar to it (cosine of
    /// the embedding model, in the languages the model covers; unset: the model's own cut, see
    /// `lore_index::CosineScale`)...
    pub min_similarity: Option<f32>,
    /// ... or holds at least this share of its words (IDF-weighted keyword evidence, any
    /// language).
    pub min_evidence: f32,
    /// Earlier turns of a conversation given to the model.
    pub history_turns: usize,
    /// Translate a question in another language than the library's main ones into them with
    /// the chat model and search each version too. On by default: hybrid nDCG@10 of Chinese
    /// questions over the English Debian Reference went from 0.522 to 0.854 with
    /// all-MiniLM-L6-v2 and from 0.678 to 0.781 with multilingual-e5-small (Japanese questions:
    /// 0.399 to 0.701 and 0.654 to 0.769), for one short call to the local model per question.
    pub translate: bool,
}

impl Default for AskSection {
    fn default() -> Self {
        let d = lore_agent::RetrieveConfig::default();
        AskSection {
            k: d.k,
            neighbours: d.neighbours,
            max_passages: d.max_passages,
            budget_tokens: d.budget_tokens,
            min_similarity: d.min_similarity,
            min_evidence: d.min_evidence,
            history_turns: 3,
            translate: true,
        }
    }
}

/// `[qdrant]`: a Qdrant server or cluster that keeps the vectors instead of the embedded store.
#[derive(Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct QdrantSection {
    /// gRPC URL of the server, `http://host:6334` or `https://host:6334` (TLS); unset or empty:
    /// the embedded store in the library directory.
    pub url: Option<String>,
    /// API key; when unset, the variable `api_key_env` names holds it (if set).
    pub api_key: Option<String>,
    /// Name of the environment variable holding the API key.
    pub api_key_env: String,
    /// Collection of this library's vectors (one collection per library).
    pub collection: String,
    /// Seconds one request may take.
    pub timeout_secs: u64,
    /// Points per write request.
    pub batch_size: usize,
    /// Shards of the collection when lore creates it; unset: the server's default (one per
    /// node of a cluster).
    pub shards: Option<u32>,
    /// Copies of each shard, on different nodes, when lore creates the collection; unset: the
    /// server's default (1).
    pub replication_factor: Option<u32>,
    /// Copies of a shard that must have applied a write before it succeeds, when lore creates
    /// the collection; unset: the server's default (1).
    pub write_consistency_factor: Option<u32>,
    /// Embedded store: once this many vectors are searched by brute force, `lore add` and
    /// `lore sync` build the HNSW index in the background (`lore optimize`); 0 never does.
    pub optimize_after: u64,
}

impl Default for QdrantSection {
    fn default() -> Self {
        let d = lore_index::ServerOptions::default();
        QdrantSection {
            url: None,
            api_key: None,
            api_key_env: "QDRANT_API_KEY".into(),
            collection: d.collection,
            timeout_secs: d.timeout.as_secs(),
            batch_size: d.batch_size,
            shards: d.shards,
            replication_factor: d.replication_factor,
            write_consistency_factor: d.write_consistency_factor,
            optimize_after: 20_000,
        }
    }
}

impl std::fmt::Debug for QdrantSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QdrantSection")
            .field("url", &self.url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<hidden>"))
            .field("api_key_env", &self.api_key_env)
            .field("collection", &self.collection)
            .field("timeout_secs", &self.timeout_secs)
            .field("batch_size", &self.batch_size)
            .field("shards", &self.shards)
            .field("replication_factor", &self.replication_factor)
            .field("write_consistency_factor", &self.write_consistency_factor)
            .field("optimize_after", &self.optimize_after)
            .finish()
    }
}

impl QdrantSection {
    /// The server to keep the vectors in, or `None` for the embedded store.
    pub fn server_options(&self) -> Option<lore_index::ServerOptions> {
        self.server_options_with(|name| std::env::var(name).ok())
    }

    fn server_options_with(&self, env: impl Fn(&str) -> Option<String>) -> Option<lore_index::ServerOptions> {
        let url = self.url.as_deref().map(str::trim).filter(|u| !u.is_empty())?;
        let api_key = self
            .api_key
            .clone()
            .or_else(|| env(&self.api_key_env))
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty());
        Some(lore_index::ServerOptions {
            url: url.to_string(),
            api_key,
            collection: self.collection.trim().to_string(),
            timeout: std::time::Duration::from_secs(self.timeout_secs.max(1)),
            batch_size: self.batch_size.max(1),
            shards: self.shards,
            replication_factor: self.replication_factor,
            write_consistency_factor: self.write_consistency_factor,
            ..Default::default()
        })
    }
}

/// `[ingest]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    /// Largest text/Markdown/HTML file, in MB.
    pub max_text_mb: u64,
    /// Largest PDF/EPUB, in MB.
    pub max_book_mb: u64,
    /// Target chunk size in tokens.
    pub chunk_tokens: usize,
    /// Overlap between chunks in tokens.
    pub chunk_overlap: usize,
    /// When PDF pages are read by OCR: `auto` (pages without text, when tesseract is
    /// installed), `never`, `always` (every page).
    pub ocr: lore_ingest::OcrMode,
    /// OCR languages, as ISO 639-1 codes or tesseract's names (`eng`, `chi_sim`); empty: English
    /// and the languages the library holds. From the environment, a comma-separated list.
    #[serde(deserialize_with = "string_or_list")]
    pub ocr_languages: Vec<String>,
    /// Longest run of pdftoppm or tesseract on one page, in seconds.
    pub ocr_timeout_secs: u64,
    /// Resolution scanned pages are rendered at for OCR, in dots per inch.
    pub ocr_dpi: u32,
}

impl Default for IngestConfig {
    fn default() -> Self {
        let ocr = lore_ingest::OcrOptions::default();
        IngestConfig {
            max_text_mb: 16,
            max_book_mb: 512,
            chunk_tokens: 256,
            chunk_overlap: 38,
            ocr: ocr.mode,
            ocr_languages: Vec::new(),
            ocr_timeout_secs: ocr.timeout.as_secs(),
            ocr_dpi: ocr.dpi,
        }
    }
}

impl IngestConfig {
    /// How files are read: the size limits and OCR.
    pub fn load_options(&self) -> lore_ingest::LoadOptions {
        lore_ingest::LoadOptions {
            max_text_mb: self.max_text_mb,
            max_book_mb: self.max_book_mb,
            ocr: lore_ingest::OcrOptions {
                mode: self.ocr,
                languages: self.ocr_languages.clone(),
                timeout: std::time::Duration::from_secs(self.ocr_timeout_secs.max(1)),
                dpi: self.ocr_dpi.clamp(50, 1200),
                ..Default::default()
            },
        }
    }
}

/// A list given as a TOML array or as one comma- or plus-separated string (as an environment
/// variable gives it).
fn string_or_list<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => {
            s.split([',', '+']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
        }
        OneOrMany::Many(v) => v,
    })
}

/// `[embedding]`
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmbeddingConfig {
    /// A fastembed model name; the default is all-MiniLM-L6-v2.
    pub model: Option<String>,
    /// A folder with local ONNX model and tokenizer files.
    pub model_dir: Option<PathBuf>,
    /// Where the ONNX Runtime library and cached models live.
    pub runtime_dir: Option<PathBuf>,
    /// Texts per model run.
    pub batch_size: Option<usize>,
    /// Threads the model may use (default: every core when adding, one when searching).
    pub threads: Option<usize>,
    /// Never download a model.
    pub offline: bool,
    /// Context embedded with each chunk: full (title and headings), headings, or none.
    pub passage_context: Option<String>,
}

/// Where things are.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The library directory.
    pub home: PathBuf,
    /// The embedding runtime directory.
    pub runtime: PathBuf,
    /// The configuration files lore looks for, in order: the library's own, then the user's.
    pub config_files: Vec<PathBuf>,
}

/// The library directory: `--library`/`$LORE_HOME`, else the platform data dir.
pub fn home_dir(flag: Option<&Path>) -> PathBuf {
    if let Some(p) = flag {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os("LORE_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(p);
    }
    dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("lore")
}

/// The embedding runtime directory: `embedding.runtime_dir`, else `$LORE_RUNTIME`, else
/// `<data dir>/lore/runtime`, the place `scripts/setup.sh` fills.
pub fn runtime_dir(cfg: &Config) -> PathBuf {
    if let Some(p) = &cfg.embedding.runtime_dir {
        return p.clone();
    }
    lore_index::default_runtime_dir().unwrap_or_else(|| PathBuf::from("runtime"))
}

/// The configuration files looked at for the library at `home`, in order: the first that exists
/// is read.
pub fn candidate_files(home: &Path) -> Vec<PathBuf> {
    [
        Some(config_path(home)),
        dirs::config_dir().map(|d| d.join("lore").join(lore_index::layout::CONFIG_FILE)),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The configuration file read for the library at `home`, if any.
pub fn file_in_use(home: &Path) -> Option<PathBuf> {
    candidate_files(home).into_iter().find(|p| p.is_file())
}

/// Where a configured value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// lore's default.
    Default,
    /// The configuration file.
    File(PathBuf),
    /// An environment variable (its name).
    Env(String),
}

/// Where the value of `section.key` came from, given the file read (`file`, with its parsed
/// table) and the environment (`vars`).
pub fn origin_of(
    section: &str,
    key: &str,
    file: Option<(&Path, &toml::Table)>,
    vars: &[(String, String)],
) -> Origin {
    let name = format!("LORE_{}_{}", section.to_ascii_uppercase(), key.to_ascii_uppercase());
    if vars.iter().any(|(k, _)| *k == name) {
        return Origin::Env(name);
    }
    match file {
        Some((path, table)) if table.get(section).and_then(|s| s.get(key)).is_some() => {
            Origin::File(path.to_path_buf())
        }
        _ => Origin::Default,
    }
}

/// The configuration file's table, as read (empty without a file).
pub fn file_table(file: Option<&Path>) -> Result<toml::Table> {
    match file {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            // A syntax error quotes the line: a key or a URL's password on it is hidden.
            text.parse::<toml::Table>().map_err(|e| {
                anyhow::anyhow!(
                    "{} is not valid TOML: {}",
                    path.display(),
                    raw_redactor(&text).redact(&e.to_string())
                )
            })
        }
        None => Ok(toml::Table::new()),
    }
}

/// Loads the configuration for the library at `home`: `$home/config.toml`, else
/// `~/.config/lore/config.toml`, then environment overrides.
pub fn load(home: &Path) -> Result<(Config, Paths)> {
    let candidates = candidate_files(home);
    let file = candidates.iter().find(|p| p.is_file()).cloned();
    let mut table = file_table(file.as_deref())?;
    apply_env(&mut table, std::env::vars());
    // An unknown key or a wrong type is reported with the line it is on: the keys and
    // passwords of the file are hidden from it.
    let hide = table_redactor(&table);
    let cfg: Config = toml::Value::Table(table).try_into().map_err(|e: toml::de::Error| {
        anyhow::anyhow!(
            "bad configuration{}: {}",
            file.as_ref().map(|f| format!(" in {}", f.display())).unwrap_or_default(),
            hide.redact(&e.to_string())
        )
    })?;
    let paths = Paths { home: home.to_path_buf(), runtime: runtime_dir(&cfg), config_files: candidates };
    Ok((cfg, paths))
}

/// The keys and URLs a configuration file may hold a credential in (`[section] key`).
pub const SECRET_KEYS: &[(&str, &str)] =
    &[("llm", "api_key"), ("llm", "base_url"), ("qdrant", "api_key"), ("qdrant", "url")];

/// The settings of `table` that hold a credential: an API key, or a URL with a user name or
/// password; as `section.key`.
pub fn credentials_in(table: &toml::Table) -> Vec<String> {
    SECRET_KEYS
        .iter()
        .filter(|(section, key)| {
            let value = table.get(*section).and_then(|s| s.get(*key)).and_then(|v| v.as_str()).unwrap_or("");
            if key.ends_with("api_key") {
                !value.trim().is_empty()
            } else {
                lore_index::redact_url(value.trim()) != value.trim()
            }
        })
        .map(|(section, key)| format!("{section}.{key}"))
        .collect()
}

/// What hides the keys of a configuration file that is not valid TOML: the quoted value of
/// every `api_key = "..."` line (URLs' passwords are hidden anyway).
fn raw_redactor(text: &str) -> lore_index::Redactor {
    text.lines()
        .filter_map(|line| {
            let (key, value) = line.split_once('=')?;
            key.trim().ends_with("api_key").then(|| value.trim().trim_matches(['"', '\'']).to_string())
        })
        .fold(lore_index::Redactor::new(), |r, v| r.with_secret(Some(&v)))
}

/// What hides the credentials a configuration table holds (see [`SECRET_KEYS`]).
fn table_redactor(table: &toml::Table) -> lore_index::Redactor {
    SECRET_KEYS.iter().fold(lore_index::Redactor::new(), |r, (section, key)| {
        let value = table.get(*section).and_then(|s| s.get(*key)).and_then(|v| v.as_str());
        if key.ends_with("api_key") { r.with_secret(value) } else { r.with_url(value) }
    })
}

impl Config {
    /// What hides every credential of this configuration (the chat model's and the Qdrant
    /// server's keys, the user and password of their URLs) from a message.
    pub fn redactor(&self) -> lore_index::Redactor {
        let qdrant = self.qdrant.server_options();
        lore_index::Redactor::new()
            .with_secret(self.llm.key().as_deref())
            .with_url(self.llm.base_url.as_deref())
            .with_secret(self.qdrant.api_key.as_deref())
            .with_secret(qdrant.as_ref().and_then(|o| o.api_key.as_deref()))
            .with_url(self.qdrant.url.as_deref())
    }
}

/// Sections whose keys can be set from the environment as `LORE_<SECTION>_<KEY>`.
const SECTIONS: &[&str] = &["ingest", "embedding", "keyword", "qdrant", "search", "llm", "ask", "web"];

/// `<section>_<key>`s whose environment values are strings whatever they look like (an API key
/// or a collection name may be all digits).
const STRING_KEYS: &[&str] = &[
    "qdrant_url",
    "qdrant_api_key",
    "qdrant_api_key_env",
    "qdrant_collection",
    "web_user_agent",
    "llm_base_url",
    "llm_api_key",
    "llm_api_key_env",
];

/// Applies `LORE_<SECTION>_<KEY>=value` overrides to a config table. Values that parse as
/// integers, floats or booleans are stored as such, except for the [`STRING_KEYS`].
fn apply_env(table: &mut toml::Table, vars: impl Iterator<Item = (String, String)>) {
    for (name, value) in vars {
        let Some(rest) = name.strip_prefix("LORE_") else { continue };
        let rest = rest.to_ascii_lowercase();
        let Some(section) = SECTIONS.iter().find(|s| rest.starts_with(&format!("{s}_"))) else { continue };
        let key = &rest[section.len() + 1..];
        let parsed = if STRING_KEYS.contains(&rest.as_str()) {
            toml::Value::String(value)
        } else if let Ok(i) = value.parse::<i64>() {
            toml::Value::Integer(i)
        } else if let Ok(f) = value.parse::<f64>() {
            toml::Value::Float(f)
        } else if let Ok(b) = value.parse::<bool>() {
            toml::Value::Boolean(b)
        } else {
            toml::Value::String(value)
        };
        if let Some(t) = table
            .entry(section.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
        {
            t.insert(key.to_string(), parsed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_allow_private_and_item_fetches_reach_the_fetcher() {
        let d = Config::default().web.fetch_options(&IngestConfig::default());
        assert!(!d.allow_private);
        assert_eq!(d.item_fetches, 4);
        let mut t: toml::Table = "[web]\nitem_fetches = 3\n".parse().unwrap();
        apply_env(&mut t, [("LORE_WEB_ALLOW_PRIVATE".to_string(), "true".to_string())].into_iter());
        let cfg: Config = toml::Value::Table(t).try_into().unwrap();
        let opts = cfg.web.fetch_options(&cfg.ingest);
        assert!(opts.allow_private);
        assert_eq!(opts.item_fetches, 3);
    }

    #[test]
    fn ocr_settings_come_from_the_file_or_the_environment() {
        let d = Config::default().ingest.load_options().ocr;
        assert_eq!((d.mode, d.languages.len(), d.dpi), (lore_ingest::OcrMode::Auto, 0, 300));
        let t: toml::Table =
            "[ingest]\nocr = \"always\"\nocr_languages = [\"eng\", \"chi_sim\"]\nocr_dpi = 200\n"
                .parse()
                .unwrap();
        let cfg: Config = toml::Value::Table(t).try_into().unwrap();
        let o = cfg.ingest.load_options().ocr;
        assert_eq!(
            (o.mode, o.languages, o.dpi),
            (lore_ingest::OcrMode::Always, vec!["eng".into(), "chi_sim".into()], 200)
        );
        let mut t = toml::Table::new();
        let vars = [
            ("LORE_INGEST_OCR", "never"),
            ("LORE_INGEST_OCR_LANGUAGES", "en, zh"),
            ("LORE_INGEST_OCR_TIMEOUT_SECS", "9"),
        ];
        apply_env(&mut t, vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let cfg: Config = toml::Value::Table(t).try_into().unwrap();
        let o = cfg.ingest.load_options().ocr;
        assert_eq!(o.mode, lore_ingest::OcrMode::Never);
        assert_eq!(o.languages, ["en", "zh"]);
        assert_eq!(o.timeout, std::time::Duration::from_secs(9));
        let bad: toml::Table = "[ingest]\nocr = \"sometimes\"\n".parse().unwrap();
        assert!(toml::Value::Table(bad).try_into::<Config>().is_err());
    }

    #[test]
    fn env_overrides_config_values() {
        let mut t: toml::Table = "[ingest]\nmax_text_mb = 3\n".parse().unwrap();
        let vars = vec![
            ("LORE_INGEST_CHUNK_TOKENS".to_string(), "128".to_string()),
            ("LORE_EMBEDDING_MODEL".to_string(), "BAAI/bge-small-en-v1.5".to_string()),
            ("LORE_HOME".to_string(), "/x".to_string()),
        ];
        apply_env(&mut t, vars.into_iter());
        let cfg: Config = toml::Value::Table(t).try_into().unwrap();
        assert_eq!(cfg.ingest.max_text_mb, 3);
        assert_eq!(cfg.ingest.chunk_tokens, 128);
        assert_eq!(cfg.embedding.model.as_deref(), Some("BAAI/bge-small-en-v1.5"));
    }

    #[test]
    fn qdrant_section_selects_a_server_with_its_key() {
        let cfg: Config = toml::Value::Table(Default::default()).try_into().unwrap();
        assert!(cfg.qdrant.server_options().is_none(), "no url: the embedded store");
        let mut t: toml::Table =
            "[qdrant]\nurl = \"https://q.example:6334\"\ncollection = \"books\"\n".parse().unwrap();
        let vars = vec![
            ("LORE_QDRANT_API_KEY".to_string(), "12345".to_string()),
            ("LORE_QDRANT_TIMEOUT_SECS".to_string(), "7".to_string()),
        ];
        apply_env(&mut t, vars.into_iter());
        let cfg: Config = toml::Value::Table(t).try_into().unwrap();
        let server = cfg.qdrant.server_options_with(|_| Some("from-env".into())).unwrap();
        assert_eq!(server.url, "https://q.example:6334");
        assert_eq!(server.collection, "books");
        assert_eq!(server.api_key.as_deref(), Some("12345"), "an all-digit key stays a string");
        assert_eq!(server.timeout, std::time::Duration::from_secs(7));
        let shown = format!("{:?} {server:?}", cfg.qdrant);
        assert!(!shown.contains("12345"), "{shown}");

        // Without `api_key`, the variable `api_key_env` names holds it.
        let t: toml::Table =
            "[qdrant]\nurl = \"http://localhost:6334\"\napi_key_env = \"MY_KEY\"\n".parse().unwrap();
        let cfg: Config = toml::Value::Table(t).try_into().unwrap();
        let env = |name: &str| (name == "MY_KEY").then(|| "k".to_string());
        let server = cfg.qdrant.server_options_with(env).unwrap();
        assert_eq!(server.api_key.as_deref(), Some("k"));
        assert_eq!(server.collection, "lore");
        assert!(cfg.qdrant.server_options_with(|_| None).unwrap().api_key.is_none());
        // An empty URL (e.g. `LORE_QDRANT_URL=`) means the embedded store.
        let t: toml::Table = "[qdrant]\nurl = \" \"\n".parse().unwrap();
        let cfg: Config = toml::Value::Table(t).try_into().unwrap();
        assert!(cfg.qdrant.server_options_with(|_| None).is_none());
    }

    #[test]
    fn qdrant_shards_and_replicas_reach_the_server_options() {
        let server = Config::default().qdrant;
        let server = QdrantSection { url: Some("http://q:6334".into()), ..server };
        let o = server.server_options_with(|_| None).unwrap();
        assert_eq!((o.shards, o.replication_factor, o.write_consistency_factor), (None, None, None));
        let mut t: toml::Table =
            "[qdrant]\nurl = \"http://q:6334\"\nshards = 3\nreplication_factor = 2\n".parse().unwrap();
        apply_env(
            &mut t,
            [("LORE_QDRANT_WRITE_CONSISTENCY_FACTOR".to_string(), "1".to_string())].into_iter(),
        );
        let cfg: Config = toml::Value::Table(t).try_into().unwrap();
        let o = cfg.qdrant.server_options_with(|_| None).unwrap();
        assert_eq!((o.shards, o.replication_factor, o.write_consistency_factor), (Some(3), Some(2), Some(1)));
    }

    #[test]
    fn the_chat_models_key_and_the_credentials_of_a_file_are_known_and_hidden() {
        let t: toml::Table = "[llm]\nbase_url = \"http://me:pw-1234@h:1/v1\"\napi_key = \"sk-cfg-5678\"\n\
                              [qdrant]\nurl = \"http://q:6334\"\n"
            .parse()
            .unwrap();
        assert_eq!(credentials_in(&t), ["llm.api_key", "llm.base_url"]);
        let cfg: Config = toml::Value::Table(t).try_into().unwrap();
        assert_eq!(cfg.llm.key().as_deref(), Some("sk-cfg-5678"));
        assert_eq!(cfg.llm.key_source().as_deref(), Some("llm.api_key"));
        assert_eq!(cfg.llm.to_chat_config().unwrap().api_key.as_deref(), Some("sk-cfg-5678"));
        let shown = format!("{:?} {:?}", cfg.llm, cfg.llm.to_chat_config().unwrap());
        assert!(!shown.contains("sk-cfg-5678") && !shown.contains("pw-1234"), "{shown}");
        let hidden = cfg.redactor().redact("Bearer sk-cfg-5678 for http://me:pw-1234@h:1/v1 (pw-1234)");
        assert_eq!(hidden, "Bearer <hidden> for http://<hidden>@h:1/v1 (<hidden>)");
        // A file that is not TOML: the key on a quoted line is hidden all the same.
        let text = "[llm]\napi_key = \"sk-raw-0000\"\nbase_url = \"http://me:pw-9@h\n";
        let err = text.parse::<toml::Table>().unwrap_err().to_string();
        assert!(!raw_redactor(text).redact(&format!("{err} sk-raw-0000")).contains("sk-raw-0000"));
        let none: toml::Table = "[llm]\nbase_url = \"http://h:1/v1\"\napi_key_env = \"K\"\n".parse().unwrap();
        assert!(credentials_in(&none).is_empty());
    }

    #[test]
    fn unknown_keys_are_refused() {
        let t: toml::Table = "[ingest]\nmax_txt_mb = 3\n".parse().unwrap();
        assert!(toml::Value::Table(t).try_into::<Config>().is_err());
    }
}
