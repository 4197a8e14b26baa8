//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// lore: your own books, pages and feeds, searchable and answerable from the terminal.
#[derive(Debug, Parser)]
#[command(name = "lore", version, about, long_about = None)]
pub struct Cli {
    /// The library directory (default: $LORE_HOME, else ~/.local/share/lore).
    #[arg(long, global = true, value_name = "DIR")]
    pub library: Option<PathBuf>,
    /// What to do; with none, the terminal UI opens.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add files and folders (recursively) to the library.
    Add(AddArgs),
    /// List the documents in the library.
    Ls(LsArgs),
    /// Show one document: metadata, sections and its first chunks.
    Show(ShowArgs),
    /// Remove documents from the library.
    Rm(RmArgs),
    /// Search the library: keyword, vector or hybrid.
    Search(SearchArgs),
    /// Rebuild the search indexes from the catalog (after a model change, or to repair them).
    Reindex(ReindexArgs),
    /// Evaluate retrieval on a BEIR-layout data set (corpus.jsonl, queries.jsonl, qrels.tsv).
    Eval(EvalArgs),
}

/// `lore search`
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// What to look for.
    #[arg(required = true, value_name = "QUERY")]
    pub query: Vec<String>,
    /// Number of results (default: search.k, 10).
    #[arg(long, short = 'k')]
    pub k: Option<usize>,
    /// hybrid (default), keyword or vector.
    #[arg(long)]
    pub mode: Option<String>,
    /// Only this kind (repeatable): pdf, epub, html, markdown, text, web, news.
    #[arg(long)]
    pub kind: Vec<String>,
    /// Only documents with this tag (repeatable; any of them).
    #[arg(long)]
    pub tag: Vec<String>,
    /// Only this document (id, path or title; repeatable).
    #[arg(long)]
    pub doc: Vec<String>,
    /// Only documents published on or after this date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Only documents published on or before this date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `lore reindex`
#[derive(Debug, Args)]
pub struct ReindexArgs {
    /// Also build the vector store's HNSW graph now (otherwise search is exact brute force until
    /// the library is large).
    #[arg(long)]
    pub optimize: bool,
}

/// `lore eval`
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Folder with corpus.jsonl, queries.jsonl and qrels.tsv.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// all (default), hybrid, keyword or vector.
    #[arg(long, default_value = "all")]
    pub mode: String,
    /// Also try a grid of fusion settings for hybrid search and print each.
    #[arg(long)]
    pub sweep: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `lore add`
#[derive(Debug, Args)]
pub struct AddArgs {
    /// Files and folders to add.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Tag every added document (repeatable).
    #[arg(long = "tag", short = 't', value_name = "TAG")]
    pub tags: Vec<String>,
    /// Print the totals as JSON.
    #[arg(long)]
    pub json: bool,
    /// Wait this many seconds for another writer to finish instead of stopping at once.
    #[arg(long, default_value_t = 0, value_name = "SECS")]
    pub wait: u64,
}

/// `lore ls`
#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only documents of this kind (pdf, epub, html, markdown, text, web, news).
    #[arg(long)]
    pub kind: Option<String>,
    /// Only documents with this tag.
    #[arg(long)]
    pub tag: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `lore show`
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Document id, path or title.
    #[arg(value_name = "DOC")]
    pub doc: String,
    /// How many chunks to show.
    #[arg(long, default_value_t = 3)]
    pub chunks: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `lore rm`
#[derive(Debug, Args)]
pub struct RmArgs {
    /// Document ids, paths or titles.
    #[arg(required = true, value_name = "DOC")]
    pub docs: Vec<String>,
}
