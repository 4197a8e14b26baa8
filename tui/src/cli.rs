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
