//! What the subcommands and the terminal UI share: the configuration and the paths in use
//! ([`Context`]), and the library, search, answer and web settings made from them.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::Result;
use lore_agent::RetrieveConfig;
use lore_index::{EmbedConfig, KeywordConfig, WaitNotice};
use lore_index::{EngineOptions, Library, LibraryOptions, META_MODEL, META_MODEL_CHOICE, ModelChoice};
use lore_ingest::{ChunkConfig, LoadOptions};

use crate::config::{Config, Paths};

/// What every command needs: the configuration and where things are.
pub struct Context {
    /// The configuration.
    pub config: Config,
    /// Paths in use.
    pub paths: Paths,
    /// The embedding model chosen for a library this command creates (see
    /// [`Context::choose_model_for_sources`]).
    chosen_model: OnceLock<ModelChoice>,
}

/// Documents looked at to choose a new library's embedding model.
const SAMPLED_SOURCES: usize = 4;

impl Context {
    /// A context for `config` and `paths`.
    pub fn new(config: Config, paths: Paths) -> Context {
        Context { config, paths, chosen_model: OnceLock::new() }
    }

    /// Whether the configuration names the embedding model (`embedding.model` or
    /// `embedding.model_dir`, in the file or the environment).
    pub fn model_configured(&self) -> bool {
        self.config.embedding.model.is_some() || self.config.embedding.model_dir.is_some()
    }

    /// The embedding model the catalog at `home` records, if the library exists and has one.
    pub fn recorded_model(home: &Path) -> Option<String> {
        catalog_meta(home, META_MODEL)
    }

    /// Why the library at `home` has the embedding model it has, when lore chose it.
    pub fn model_choice_reason(home: &Path) -> Option<String> {
        catalog_meta(home, META_MODEL_CHOICE)
    }

    /// Chooses the embedding model of a library at `home` that has none yet, when the
    /// configuration names none, from `languages` (of its first documents, or questions) and the
    /// locale's language (`locale`); later engine options use it. `None` when the model is
    /// configured, the library has one, or a choice was made already.
    pub fn choose_model(
        &self,
        home: &Path,
        languages: &[String],
        locale: Option<&str>,
    ) -> Option<&ModelChoice> {
        if self.model_configured()
            || Self::recorded_model(home).is_some()
            || self.chosen_model.get().is_some()
        {
            return None;
        }
        let choice = lore_index::choose_model(languages, locale, &self.paths.runtime);
        self.chosen_model.set(choice).ok()?;
        self.chosen_model.get()
    }

    /// [`Context::choose_model`] for the library of this context, from the languages of the
    /// first few files under `sources` and of the locale.
    pub fn choose_model_for_sources(&self, sources: &[PathBuf]) -> Option<&ModelChoice> {
        if self.model_configured() || Self::recorded_model(&self.paths.home).is_some() {
            return None;
        }
        let languages = lore_ingest::sample_languages(sources, &self.load_options(), SAMPLED_SOURCES);
        self.choose_model(&self.paths.home, &languages, locale_language().as_deref())
    }

    /// The embedding model for the library at `home`: the configured one, else the one its
    /// catalog records, else the one chosen for it now, else the default (`None`).
    fn embedding_model(&self, home: &Path) -> Option<String> {
        if self.model_configured() {
            return self.config.embedding.model.clone();
        }
        Self::recorded_model(home).or_else(|| self.chosen_model.get().and_then(|c| c.model.clone()))
    }

    /// How files are read.
    fn load_options(&self) -> LoadOptions {
        self.config.ingest.load_options()
    }

    /// Opens the library for writing, waiting up to `wait` for another writer. Waiting for a
    /// search to finish reading the vector store, and a library that others could read made
    /// private, are told on stderr.
    pub fn writer(&self, wait: Duration) -> Result<Library> {
        let notice = WaitNotice(std::sync::Arc::new(|m: &str| crate::output::warn_line(m)));
        let mut lib = self.writer_telling(wait, notice)?;
        if let Some(tightened) = lib.take_tightened() {
            crate::output::warn_line(&tightened.to_string());
        }
        Ok(lib)
    }

    /// Opens the library for writing, waiting up to `wait` for another writer; `notice` is told
    /// when it waits for a search to finish reading the vector store. A library that others
    /// could read is made private, which the caller tells ([`Library::take_tightened`]).
    pub fn writer_telling(&self, wait: Duration, notice: WaitNotice) -> Result<Library> {
        // A library created without a look at its documents (the UI, feeds) goes by the locale.
        self.choose_model(&self.paths.home, &[], locale_language().as_deref());
        let ing = &self.config.ingest;
        let options = LibraryOptions {
            load: self.load_options(),
            chunk: ChunkConfig { target_tokens: ing.chunk_tokens, overlap_tokens: ing.chunk_overlap },
            tokenizer: None,
            lock_wait: wait,
            engines: Some(EngineOptions { wait_notice: Some(notice), ..self.engine_options()? }),
        };
        let lib = Library::open_writer(&self.paths.home, options)?;
        if let Some(choice) = self.chosen_model.get()
            && lib.catalog().meta_get(META_MODEL_CHOICE)?.is_none()
        {
            lib.catalog().meta_set(META_MODEL_CHOICE, &choice.reason)?;
        }
        Ok(lib)
    }

    /// Opens the library's catalog for reading.
    pub fn reader(&self) -> Result<Library> {
        Ok(Library::open_reader(&self.paths.home, None)?)
    }

    /// Opens the library for searching: the catalog and the derived indexes. It holds the
    /// vector store only while a search reads it, so it may live as long as it likes (an answer
    /// being streamed) without locking a writer out.
    pub fn searcher(&self) -> Result<Library> {
        Ok(Library::open_reader(&self.paths.home, Some(&self.engine_options()?))?)
    }

    /// The embedding model and index settings of this context's library.
    pub fn engine_options(&self) -> Result<EngineOptions> {
        self.engine_options_at(&self.paths.home)
    }

    /// The embedding model and index settings of the library at `home`.
    pub fn engine_options_at(&self, home: &Path) -> Result<EngineOptions> {
        let e = &self.config.embedding;
        let defaults = EmbedConfig::default();
        let k = &self.config.keyword;
        let passage_context = match &e.passage_context {
            Some(c) => c.parse().map_err(anyhow::Error::msg)?,
            None => Default::default(),
        };
        Ok(EngineOptions {
            passage_context,
            embed: EmbedConfig {
                model: self.embedding_model(home),
                model_dir: e.model_dir.clone(),
                batch_size: e.batch_size.unwrap_or(defaults.batch_size),
                threads: e.threads,
                offline: e.offline,
                ..defaults
            },
            runtime_dir: self.paths.runtime.clone(),
            keyword: KeywordConfig {
                analyzer: k.analyzer.clone(),
                title_boost: k.title_boost,
                heading_boost: k.heading_boost,
                ..KeywordConfig::default()
            },
            edge: Default::default(),
            server: self.config.qdrant.server_options(),
            snapshot_reader: false,
            wait_notice: None,
        })
    }

    /// Opens the library for searching often over a long time (the terminal UI): the vector
    /// store is read from a point-in-time copy, renewed in the background when the library
    /// changes ([`Library::refresh_snapshot`]), so writers are never locked out and no search
    /// waits for the store to open.
    pub fn snapshot_searcher(&self) -> Result<Library> {
        let options = EngineOptions { snapshot_reader: true, ..self.engine_options()? };
        Ok(Library::open_reader(&self.paths.home, Some(&options))?)
    }

    /// A web client with the configured limits, for pages and feeds.
    pub fn fetcher(&self) -> Result<lore_ingest::web::Fetcher> {
        let opts = self.config.web.fetch_options(&self.config.ingest);
        Ok(lore_ingest::web::Fetcher::new(opts)?)
    }

    /// The embedding model's `tokenizer.json`, which sizes chunks, when it is installed.
    pub fn tokenizer_file(&self) -> Option<PathBuf> {
        let embed = self.engine_options().ok()?.embed;
        lore_index::installed_tokenizer(&embed, &self.paths.runtime)
    }
}

/// The retrieval settings of `ask` from the configuration.
pub fn retrieve_config(
    ctx: &Context,
    k: Option<usize>,
    filter: lore_index::VectorFilter,
) -> Result<RetrieveConfig> {
    let a = &ctx.config.ask;
    Ok(RetrieveConfig {
        k: k.unwrap_or(a.k),
        mode: ctx.config.search.mode.parse().map_err(anyhow::Error::msg)?,
        filter,
        neighbours: a.neighbours,
        budget_tokens: a.budget_tokens,
        max_passages: a.max_passages,
        min_similarity: a.min_similarity,
        min_evidence: a.min_evidence,
    })
}

/// A runtime for fetching: several workers so requests go on while the library embeds.
pub fn web_runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?)
}

/// A value of the catalog's metadata at `home`, read without creating the library.
fn catalog_meta(home: &Path, key: &str) -> Option<String> {
    if !Library::exists(home) {
        return None;
    }
    lore_index::catalog::Catalog::open_read_only_home(home).ok()?.meta_get(key).ok()?
}

/// The language of the person's locale (`LC_ALL`, else `LC_MESSAGES`, else `LANG`), unless it is
/// the C or POSIX locale.
pub fn locale_language() -> Option<String> {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|value| !value.is_empty())
        .and_then(|value| lore_index::locale_language(&value))
}
