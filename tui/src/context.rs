//! What the subcommands and the terminal UI share: the configuration and the paths in use
//! ([`Context`]), and the library, search, answer and web settings made from them.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use lore_agent::RetrieveConfig;
use lore_index::{EmbedConfig, KeywordConfig, WaitNotice};
use lore_index::{EngineOptions, Library, LibraryOptions};
use lore_ingest::{ChunkConfig, LoadOptions};

use crate::config::{Config, Paths};

/// What every command needs: the configuration and where things are.
pub struct Context {
    /// The configuration.
    pub config: Config,
    /// Paths in use.
    pub paths: Paths,
}

impl Context {
    /// Opens the library for writing, waiting up to `wait` for another writer. Waiting for a
    /// search to finish reading the vector store is told on stderr.
    pub fn writer(&self, wait: Duration) -> Result<Library> {
        let notice = WaitNotice(std::sync::Arc::new(|m: &str| crate::output::warn_line(m)));
        self.writer_telling(wait, notice)
    }

    /// Opens the library for writing, waiting up to `wait` for another writer; `notice` is told
    /// when it waits for a search to finish reading the vector store.
    pub fn writer_telling(&self, wait: Duration, notice: WaitNotice) -> Result<Library> {
        let ing = &self.config.ingest;
        let options = LibraryOptions {
            load: LoadOptions { max_text_mb: ing.max_text_mb, max_book_mb: ing.max_book_mb },
            chunk: ChunkConfig { target_tokens: ing.chunk_tokens, overlap_tokens: ing.chunk_overlap },
            tokenizer: None,
            lock_wait: wait,
            engines: Some(EngineOptions { wait_notice: Some(notice), ..self.engine_options()? }),
        };
        Ok(Library::open_writer(&self.paths.home, options)?)
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

    /// The embedding model and index settings.
    pub fn engine_options(&self) -> Result<EngineOptions> {
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
                model: e.model.clone(),
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
