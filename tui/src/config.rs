//! Configuration: `config.toml` plus `LORE_<SECTION>_<KEY>` environment overrides.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

/// Everything a user can configure.
#[derive(Debug, Clone, Default, Deserialize)]
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
}

/// `[search]`
#[derive(Debug, Clone, Deserialize)]
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
            fusion: lore_index::fusion::FusionConfig {
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
#[derive(Debug, Clone, Deserialize)]
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
        let d = lore_index::keyword::KeywordConfig::default();
        KeywordSection { analyzer: d.analyzer, title_boost: d.title_boost, heading_boost: d.heading_boost }
    }
}

/// `[ingest]`
#[derive(Debug, Clone, Deserialize)]
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
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig { max_text_mb: 16, max_book_mb: 512, chunk_tokens: 256, chunk_overlap: 38 }
    }
}

/// `[embedding]`
#[derive(Debug, Clone, Default, Deserialize)]
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
    /// Threads the model may use.
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
    lore_index::embed::default_runtime_dir().unwrap_or_else(|| PathBuf::from("runtime"))
}

/// Loads the configuration for the library at `home`: `$home/config.toml`, else
/// `~/.config/lore/config.toml`, then environment overrides.
pub fn load(home: &Path) -> Result<(Config, Paths)> {
    let candidates =
        [Some(home.join("config.toml")), dirs::config_dir().map(|d| d.join("lore").join("config.toml"))];
    let file = candidates.into_iter().flatten().find(|p| p.is_file());
    let mut table = match &file {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            text.parse::<toml::Table>().with_context(|| format!("{} is not valid TOML", path.display()))?
        }
        None => toml::Table::new(),
    };
    apply_env(&mut table, std::env::vars());
    let cfg: Config = toml::Value::Table(table).try_into().with_context(|| {
        format!(
            "bad configuration{}",
            file.as_ref().map(|f| format!(" in {}", f.display())).unwrap_or_default()
        )
    })?;
    let paths = Paths { home: home.to_path_buf(), runtime: runtime_dir(&cfg) };
    Ok((cfg, paths))
}

/// Sections whose keys can be set from the environment as `LORE_<SECTION>_<KEY>`.
const SECTIONS: &[&str] = &["ingest", "embedding", "keyword", "qdrant", "search", "llm"];

/// Applies `LORE_<SECTION>_<KEY>=value` overrides to a config table. Values that parse as
/// integers, floats or booleans are stored as such.
fn apply_env(table: &mut toml::Table, vars: impl Iterator<Item = (String, String)>) {
    for (name, value) in vars {
        let Some(rest) = name.strip_prefix("LORE_") else { continue };
        let rest = rest.to_ascii_lowercase();
        let Some(section) = SECTIONS.iter().find(|s| rest.starts_with(&format!("{s}_"))) else { continue };
        let key = &rest[section.len() + 1..];
        let parsed = if let Ok(i) = value.parse::<i64>() {
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
    fn unknown_keys_are_refused() {
        let t: toml::Table = "[ingest]\nmax_txt_mb = 3\n".parse().unwrap();
        assert!(toml::Value::Table(t).try_into::<Config>().is_err());
    }
}
