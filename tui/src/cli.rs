//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The footer of `lore --help`: the UI, and what the exit status means.
const MAIN_HELP: &str = "\
Run `lore` with no command to open the terminal UI: ask, search and browse the library there \
(press ? in it for every key, q to quit).

Exit status: 0 done; 1 an error. A failing item of add, sync, rm or feed is one `error:` line on \
stderr and the others go on; the status is then 1 when nothing could be added or synced, when \
every feed failed, or when a document to remove was not found. 2 a usage error; 130 interrupted \
(Ctrl-C); 141 the reader of the output went away (`lore ls | head`).

Colour: `--color auto` (the default) colours a terminal unless NO_COLOR is set; `always` or \
`never` decide for the command line and the UI.";

/// lore: your own books, pages and feeds, searchable and answerable from the terminal.
#[derive(Debug, Parser)]
#[command(
    name = "lore",
    version,
    about = "lore: your own books, pages and feeds, searchable and answerable (with citations) from the terminal",
    long_about = None,
    after_help = MAIN_HELP
)]
pub struct Cli {
    /// The library directory (default: $LORE_HOME, else ~/.local/share/lore).
    #[arg(long, global = true, value_name = "DIR")]
    pub library: Option<PathBuf>,
    /// When to colour the output: auto (a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    /// Show the details of internal errors: when a file's parser panics (a bug to report), the
    /// panic's message and the place it was raised, on a `note:` line.
    #[arg(long, short = 'v', global = true, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Say less: no progress bars, notes or warnings on stderr (errors and the results on
    /// stdout stay).
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// What to do; with none, the terminal UI opens.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add files, folders (recursively) and web pages (http/https URLs) to the library.
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
    /// Ask a question: an answer from your documents, streamed, every claim cited.
    Ask(AskArgs),
    /// Research a broad question: the chat model plans sub-questions, each is searched, and a
    /// report is written with every claim cited (`--out report.md` writes it as Markdown).
    Research(ResearchArgs),
    /// List past conversations, or show one.
    History(HistoryArgs),
    /// Check answers again, as `lore ask --json` prints them (edited or not): each sentence
    /// labelled supported, partly supported or unsupported by the texts of its citations.
    Verify(VerifyArgs),
    /// Check the configuration, embedding model, library and chat model, one line each.
    Doctor(DoctorArgs),
    /// Build the vector store's search index now (`add` starts this in the background after
    /// large ingests).
    Optimize(OptimizeArgs),
    /// Re-scan the source roots: add new files, update changed ones, drop deleted ones.
    Sync(SyncArgs),
    /// List the source roots that `lore sync` re-scans, or forget one.
    Roots(RootsArgs),
    /// Documents related to a document, with the passages that connect them.
    Related(RelatedArgs),
    /// Serve the library to AI assistants over the Model Context Protocol (JSON-RPC on stdin
    /// and stdout): search, read, list_documents, related, and ask when a chat model is set.
    Mcp(McpArgs),
    /// News feeds (RSS, Atom, JSON Feed): subscribe, list, unsubscribe, refresh.
    Feed(FeedArgs),
    /// Measure ingest throughput, search latency, memory and start-up times in temporary
    /// libraries (your library is not touched).
    Bench(BenchArgs),
    /// Show the effective configuration, each value with where it came from (default, file,
    /// environment), secrets hidden; `lore config path` prints the file's path.
    Config(ConfigArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish) to stdout.
    Completions(CompletionsArgs),
    /// Print lore's manual page (roff) to stdout, or write one page per command into a folder.
    Man(ManArgs),
}

/// `lore config`
#[derive(Debug, Args)]
#[command(after_help = "Values are set in the file (`lore config path`) as `[section]` tables, or by \
    LORE_<SECTION>_<KEY> environment variables, which win (LORE_LLM_MODEL=...).")]
pub struct ConfigArgs {
    /// `path`: print the configuration file's path.
    #[command(subcommand)]
    pub action: Option<ConfigAction>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// What `lore config` does besides showing the configuration.
#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Print the path of the configuration file in use (or the one lore would read).
    Path,
}

/// When output is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour a terminal, unless `NO_COLOR` is set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// `lore completions`
#[derive(Debug, Args)]
#[command(after_help = "Install, for example:\n  \
    bash: lore completions bash > ~/.local/share/bash-completion/completions/lore\n  \
    zsh:  lore completions zsh > ~/.zfunc/_lore   (with `fpath+=~/.zfunc` before compinit)\n  \
    fish: lore completions fish > ~/.config/fish/completions/lore.fish")]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `lore man`
#[derive(Debug, Args)]
#[command(after_help = "Install, for example: lore man --dir ~/.local/share/man/man1 (then `man lore`, \
    `man lore-add`).")]
pub struct ManArgs {
    /// Write lore.1 and a lore-COMMAND.1 page for every command into this folder instead.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
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
    /// Restrictions.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Also search the query translated by the chat model into the library's main languages,
    /// when it is written in another (a Chinese question over English books).
    #[arg(long)]
    pub translate: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Restrictions of a search, shared by `search` and `ask`.
#[derive(Debug, Args, Default)]
pub struct FilterArgs {
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
    /// Only text in this language (ISO 639-1 code: en, zh, ja, de, ...).
    #[arg(long, value_name = "CODE")]
    pub lang: Option<String>,
}

/// `lore ask`
#[derive(Debug, Args)]
#[command(after_help = ASK_HELP)]
pub struct AskArgs {
    /// The question.
    #[arg(required = true, value_name = "QUESTION")]
    pub question: Vec<String>,
    /// Search hits considered (default: ask.k).
    #[arg(long, short = 'k')]
    pub k: Option<usize>,
    /// Restrictions.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Continue the last conversation.
    #[arg(long, short = 'c', conflicts_with = "conversation")]
    pub continue_last: bool,
    /// Continue this conversation.
    #[arg(long, value_name = "ID")]
    pub conversation: Option<i64>,
    /// Do not use a chat model: quote the best passages with their citations.
    #[arg(long)]
    pub no_llm: bool,
    /// Print the answer, its citations and the conversation id as JSON when done.
    #[arg(long)]
    pub json: bool,
    /// Print where the time went (search, request sent, first token, total) to stderr.
    #[arg(long)]
    pub timings: bool,
}

/// `lore research`.
#[derive(Debug, Args)]
pub struct ResearchArgs {
    /// The question.
    #[arg(required = true, value_name = "QUESTION")]
    pub question: Vec<String>,
    /// Write the report as Markdown to this file (the plan, the report, the numbered sources).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Most sub-questions researched (1-8).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u8).range(1..=8), value_name = "N")]
    pub max_questions: u8,
    /// Search hits considered per search (default: ask.k).
    #[arg(long, short = 'k')]
    pub k: Option<usize>,
    /// Restrictions for every search.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Print the plan, the report, its sources and checks as JSON when done.
    #[arg(long)]
    pub json: bool,
}

/// How `ask` finds a chat model, shown by `lore ask --help`.
const ASK_HELP: &str = "\
Chat model: any OpenAI-compatible endpoint, set in config.toml ($LORE_HOME/config.toml, else
~/.config/lore/config.toml) or the environment:

  [llm]
  base_url = \"http://127.0.0.1:8088/v1\"   # LORE_LLM_BASE_URL; Ollama: http://localhost:11434/v1
  model = \"qwen2.5-0.5b-instruct\"         # LORE_LLM_MODEL
  api_key_env = \"OPENAI_API_KEY\"          # the variable holding the key (local servers need none)

With an API key (llm.api_key, or OPENAI_API_KEY) and no base_url, OpenAI is used. scripts/chat-server.sh start runs a local
model (llama.cpp, set up by scripts/setup.sh) and prints its base_url. Without a chat model, ask
quotes the best passages with their citations (as --no-llm does). `lore doctor` checks the set-up.";

/// `lore history`
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Show this conversation's turns.
    #[arg(value_name = "ID")]
    pub conversation: Option<i64>,
    /// Most conversations listed.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `lore optimize`
#[derive(Debug, Args)]
pub struct OptimizeArgs {
    /// Wait this many seconds for another writer to finish.
    #[arg(long, default_value_t = 0, value_name = "SECS")]
    pub wait: u64,
}

/// `lore doctor`
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// First open the library for writing, which completes what an interrupted command left
    /// (any later write does it too).
    #[arg(long)]
    pub repair: bool,
    /// Wait this many seconds for another writer when repairing.
    #[arg(long, default_value_t = 0, value_name = "SECS")]
    pub wait: u64,
}

/// `lore reindex`
#[derive(Debug, Args)]
pub struct ReindexArgs {
    /// Embed with this model from now on (a fastembed name, e.g. intfloat/multilingual-e5-small
    /// for text in any language and questions across languages); the library records it.
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
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
    /// Also ask the chat model N of the judged queries (and N of `unanswerable.jsonl`, when the
    /// folder has one), chosen deterministically: the share of answers citing a passage that
    /// holds the answer, false refusals and false answers.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub answers: usize,
    /// Reference answers for --answers: a JSON Lines file of `{"_id": query id, "answer": text}`
    /// [default: DIR/answers.jsonl, when there is one]. Adds the share of answers citing a
    /// passage that holds the reference answer (`scripts/reference-answers.py` writes one).
    #[arg(long, value_name = "FILE")]
    pub reference: Option<PathBuf>,
    /// With --answers: ask the same questions at each of these passage budgets (tokens,
    /// comma-separated) instead of `ask.budget_tokens`, and report each.
    #[arg(long, value_name = "TOKENS,...", value_delimiter = ',')]
    pub budgets: Vec<usize>,
    /// Base URL of the chat model for --answers [default: llm.base_url].
    #[arg(long, value_name = "URL")]
    pub llm_url: Option<String>,
    /// Also rank each query searched with its translations into the library's main languages
    /// by the chat model (mode `hybrid+translate`; the model of --llm-url or llm.base_url).
    #[arg(long)]
    pub translate: bool,
    /// Build the evaluation library in DIR and keep it; a later run with the same DIR finds the
    /// documents unchanged and does not index them again.
    #[arg(long, value_name = "DIR")]
    pub library: Option<PathBuf>,
    /// Write every query's ranked chunks in each mode to FILE, one TREC run line each:
    /// `query-id Q0 corpus-id#chunk-id rank score mode`.
    #[arg(long, value_name = "FILE")]
    pub runs: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `lore add`
#[derive(Debug, Args)]
pub struct AddArgs {
    /// Files, folders and web page URLs (http/https) to add.
    #[arg(required = true, value_name = "PATH|URL")]
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

/// `lore sync`
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Roots to sync, by id or path (default: all; see `lore roots`).
    #[arg(value_name = "ROOT")]
    pub roots: Vec<String>,
    /// Keep running and apply changes as files change (Ctrl-C stops).
    #[arg(long)]
    pub watch: bool,
    /// Print JSON (with --watch, one object per line for each change).
    #[arg(long)]
    pub json: bool,
    /// Wait this many seconds for another writer to finish instead of stopping at once.
    #[arg(long, default_value_t = 0, value_name = "SECS")]
    pub wait: u64,
}

/// `lore roots`
#[derive(Debug, Args)]
pub struct RootsArgs {
    /// `rm` forgets a root; with none, the roots are listed.
    #[command(subcommand)]
    pub command: Option<RootsCommand>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `lore roots` subcommands.
#[derive(Debug, Subcommand)]
pub enum RootsCommand {
    /// Forget source roots (their documents stay unless --purge).
    Rm(RootsRmArgs),
}

/// `lore roots rm`
#[derive(Debug, Args)]
pub struct RootsRmArgs {
    /// Roots, by id or path.
    #[arg(required = true, value_name = "ROOT")]
    pub roots: Vec<String>,
    /// Also remove the root's documents (those no other root covers).
    #[arg(long)]
    pub purge: bool,
    /// Wait this many seconds for another writer to finish instead of stopping at once.
    #[arg(long, default_value_t = 0, value_name = "SECS")]
    pub wait: u64,
}

/// `lore verify`
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A file of answers as `lore ask --json` prints them, one JSON value after another (`-`:
    /// standard input); `answer` and each citation's `n`, `chunk_id` and `text` are read.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Print JSON lines: one `{"sentences", "summary"}` object per answer.
    #[arg(long)]
    pub json: bool,
}

/// `lore mcp`
#[derive(Debug, Args)]
#[command(
    after_help = "A client starts it as {\"command\": \"lore\", \"args\": [\"mcp\"]} (Claude Desktop: \
    under \"mcpServers\"). Read-only unless --allow-add is given."
)]
pub struct McpArgs {
    /// Offer an `add` tool that adds files under this folder (repeatable) and http(s) URLs.
    #[arg(long, value_name = "ROOT")]
    pub allow_add: Vec<PathBuf>,
}

/// `lore related`
#[derive(Debug, Args)]
pub struct RelatedArgs {
    /// Document id, path or title.
    #[arg(value_name = "DOC")]
    pub doc: String,
    /// Number of documents.
    #[arg(long, short = 'k', default_value_t = 10)]
    pub k: usize,
    /// How documents are compared: mean (default), mean-best-chunk or best-chunks.
    #[arg(long)]
    pub method: Option<String>,
    /// Connecting passage pairs shown per document.
    #[arg(long, default_value_t = 3)]
    pub pairs: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `lore feed`
#[derive(Debug, Args)]
pub struct FeedArgs {
    /// What to do with feeds.
    #[command(subcommand)]
    pub command: FeedCommand,
}

/// `lore feed` subcommands.
#[derive(Debug, Subcommand)]
pub enum FeedCommand {
    /// Subscribe to feeds (RSS, Atom or JSON Feed URLs) and fetch their items now.
    Add(FeedAddArgs),
    /// List the feeds with their item, unread and new counts and the last fetch.
    Ls(FeedLsArgs),
    /// Unsubscribe from feeds; their items leave the library unless --keep-items.
    Rm(FeedRmArgs),
    /// Fetch feeds (all, or the ones named) and add new or changed items.
    Refresh(FeedRefreshArgs),
}

/// `lore feed add`
#[derive(Debug, Args)]
pub struct FeedAddArgs {
    /// Feed URLs.
    #[arg(required = true, value_name = "URL")]
    pub urls: Vec<String>,
    /// Tag every item of the feed (repeatable).
    #[arg(long = "tag", short = 't', value_name = "TAG")]
    pub tags: Vec<String>,
    /// Fetch each item's article page: auto (when the feed has only a summary), always, never.
    #[arg(long, value_name = "MODE", default_value = "auto")]
    pub full_text: String,
    /// Keep only the newest N items of the feed.
    #[arg(long, value_name = "N")]
    pub keep: Option<u32>,
    /// Keep only items from the last D days.
    #[arg(long, value_name = "D")]
    pub keep_days: Option<u32>,
    /// Subscribe only; fetch at the next `lore feed refresh`.
    #[arg(long)]
    pub no_refresh: bool,
    /// Print the refresh report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Wait this many seconds for another writer to finish.
    #[arg(long, default_value_t = 0, value_name = "SECS")]
    pub wait: u64,
}

/// `lore feed ls`
#[derive(Debug, Args)]
pub struct FeedLsArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `lore feed rm`
#[derive(Debug, Args)]
pub struct FeedRmArgs {
    /// Feeds by id, URL, or part of the title or URL.
    #[arg(required = true, value_name = "FEED")]
    pub feeds: Vec<String>,
    /// Keep the feed's items in the library.
    #[arg(long)]
    pub keep_items: bool,
    /// Wait this many seconds for another writer to finish.
    #[arg(long, default_value_t = 0, value_name = "SECS")]
    pub wait: u64,
}

/// `lore feed refresh`
#[derive(Debug, Args)]
pub struct FeedRefreshArgs {
    /// Feeds by id, URL, or part of the title or URL; all when none are named.
    #[arg(value_name = "FEED")]
    pub feeds: Vec<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Wait this many seconds for another writer to finish.
    #[arg(long, default_value_t = 0, value_name = "SECS")]
    pub wait: u64,
}

/// `lore bench`
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Folder (or file) to ingest [default: ../shared/data/docs, from the current directory].
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// Ingest at most N files, spread evenly over the folder's files [default: 40; --quick: 6].
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Library sizes in chunks at which searches are timed [default: 10000,100000; --quick: 2000].
    #[arg(long, value_delimiter = ',', value_name = "N,N")]
    pub sizes: Vec<usize>,
    /// Small and fast: 6 files, one 2000-chunk library, fewer start-up runs.
    #[arg(long)]
    pub quick: bool,
    /// Timed searches per mode and size, after the warm-up [default: 200; --quick: 100].
    #[arg(long, value_name = "N")]
    pub runs: Option<usize>,
    /// Untimed searches per mode first [default: 20; --quick: 5].
    #[arg(long, value_name = "N")]
    pub warmup: Option<usize>,
    /// Questions searched for: JSONL with a "text" field, or one per line [default:
    /// ../shared/data/eval/pyfaq/queries.jsonl when present, else a built-in set].
    #[arg(long, value_name = "FILE")]
    pub queries: Option<PathBuf>,
    /// Questions put through `ask` and the chat model on the largest library (0: none)
    /// [default: 3; --quick: 1].
    #[arg(long, value_name = "N")]
    pub asks: Option<usize>,
    /// Base URL of the chat model for the ask figures [default: llm.base_url].
    #[arg(long, value_name = "URL")]
    pub llm_url: Option<String>,
    /// Where the temporary libraries are made [default: the system's temporary directory].
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
    /// Keep the libraries made (their folder is printed).
    #[arg(long)]
    pub keep: bool,
    /// Chunks added to the largest library after its searches are timed, as `lore add` writes
    /// them; searches are timed again and the index update a later `lore optimize` makes is
    /// set beside the full build (0: skip).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub increment: usize,
    /// Only compare lore's embedding throughput inside `lore add` of FILE with the bare model's
    /// on the same passages (same session settings, threads and runs), in alternating rounds.
    #[arg(long, value_name = "FILE")]
    pub embed: Option<PathBuf>,
    /// Rounds of the --embed comparison (each an add and a bare run) [default: 3; --quick: 1].
    #[arg(long, value_name = "N")]
    pub embed_rounds: Option<usize>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Times searches of the library in --library and prints them as JSON (run by `lore bench`
    /// in a process of its own, so that its memory is the searcher's alone).
    #[arg(long, hide = true)]
    pub search_child: bool,
}
