//! `lore mcp`: the library as a Model Context Protocol server on stdin and stdout, for the
//! assistants people already use (Claude Desktop and Code, Cursor, Zed, ...).
//!
//! Tools: `search`, `read`, `list_documents`, `related`, `ask` (only when a chat model is
//! configured) and `add` (only with `--allow-add ROOT`). The library is opened as a reader, once,
//! and kept: it takes no lock, so `lore add` in another terminal goes on while the server runs,
//! and its catalog and keyword index see what other processes commit. Library work runs on
//! tokio's blocking threads, one request at a time. Stdout carries only the protocol; notices go
//! to stderr.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use lore_index::catalog::{DocSummary, ListFilter, StoredChunk};
use lore_index::{Library, Mode, RelatedOptions, SearchRequest};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::model::{Implementation, ServerCapabilities, ServerConfig};
use rmcp::{ServerHandler, ServiceExt, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::cli::{FilterArgs, McpArgs};
use crate::context::{Context, retrieve_config};
use crate::output::warn_line;
use crate::selection::{build_filter, pick_one};

/// The most search hits (`k`) one call may ask for.
pub const MAX_K: usize = 50;
/// The most chunks `read` returns on each side of the one asked for.
pub const MAX_NEIGHBOURS: usize = 5;
/// The most documents one `list_documents` call returns.
pub const MAX_LIST: usize = 200;
/// How long the `add` tool waits for another writer (`lore add` in a terminal) to finish.
const ADD_WAIT: Duration = Duration::from_secs(60);

/// Runs `lore mcp` until the client closes the connection.
pub fn run(ctx: Context, args: McpArgs) -> Result<ExitCode> {
    let mut roots = Vec::new();
    for root in &args.allow_add {
        let canonical = std::fs::canonicalize(root)
            .with_context(|| format!("--allow-add {}: cannot read it", root.display()))?;
        if !canonical.is_dir() {
            bail!("--allow-add {}: not a folder", root.display());
        }
        roots.push(canonical);
    }
    let server = LoreServer::new(ctx, roots);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let outcome = rt.block_on(async {
        let running = server.serve(rmcp::transport::stdio()).await?;
        running.waiting().await?;
        anyhow::Ok(())
    });
    // Reading stdin is a blocking task tokio would otherwise wait for.
    rt.shutdown_background();
    outcome?;
    Ok(ExitCode::SUCCESS)
}

/// The MCP server: the context, the reader it keeps, and the tools it offers.
#[derive(Clone)]
struct LoreServer {
    inner: Arc<Inner>,
    tool_router: ToolRouter<LoreServer>,
}

/// What the tools share.
struct Inner {
    ctx: Context,
    /// The library opened for searching, opened at the first request that needs it and again
    /// after a request failed (the library may have been created, rebuilt or removed).
    lib: Mutex<Option<Library>>,
    /// Folders (canonical) the `add` tool may read under; empty when it is off.
    add_roots: Vec<PathBuf>,
}

impl Inner {
    /// The reader, opened when there is none.
    fn searcher(&self) -> Result<MutexGuard<'_, Option<Library>>> {
        let mut guard = self.lib.lock().unwrap_or_else(|poisoned| {
            // A request panicked while it held the reader: open it afresh.
            let mut g = poisoned.into_inner();
            *g = None;
            g
        });
        if guard.is_none() {
            let lib = self.ctx.searcher().map_err(|e| match e.downcast_ref::<lore_index::Error>() {
                Some(lore_index::Error::NoLibrary(_)) => {
                    anyhow!("the library is empty: add documents first (`lore add PATH`)")
                }
                _ => e,
            })?;
            *guard = Some(lib);
        }
        Ok(guard)
    }

    /// Runs `f` on the reader; a failure closes it, so the next request opens it again.
    fn with_library<T>(&self, f: impl FnOnce(&Library) -> Result<T>) -> Result<T> {
        let mut guard = self.searcher()?;
        let lib = guard.as_ref().ok_or_else(|| anyhow!("the library is not open"))?;
        let out = f(lib);
        if out.is_err() {
            *guard = None;
        }
        out
    }
}

// ----- parameters -----

/// Restrictions shared by `search` and `ask`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
struct Filters {
    /// Only documents of these kinds: pdf, epub, html, markdown, text, web, news.
    #[serde(default)]
    kind: Vec<String>,
    /// Only documents with any of these tags.
    #[serde(default)]
    tag: Vec<String>,
    /// Only these documents, each by id (from `list_documents` or a hit's `doc_id`), title or path.
    #[serde(default)]
    doc: Vec<String>,
    /// Only documents published on or after this date (YYYY-MM-DD).
    since: Option<String>,
    /// Only documents published on or before this date (YYYY-MM-DD).
    until: Option<String>,
    /// Only text in this language (ISO 639-1 code: en, zh, de, ...).
    lang: Option<String>,
}

impl Filters {
    fn args(&self) -> FilterArgs {
        FilterArgs {
            kind: self.kind.clone(),
            tag: self.tag.clone(),
            doc: self.doc.clone(),
            since: self.since.clone(),
            until: self.until.clone(),
            lang: self.lang.clone(),
        }
    }
}

/// Arguments of `search`.
#[derive(Debug, Deserialize, JsonSchema)]
struct SearchParams {
    /// What to look for: a question, keywords or an exact phrase in double quotes.
    query: String,
    /// How many hits to return, 1 to 50 (default 10).
    k: Option<usize>,
    /// "hybrid" (default: meaning and keywords), "keyword" (exact words, names, identifiers) or
    /// "vector" (meaning only).
    mode: Option<String>,
    /// Restrictions.
    #[serde(flatten)]
    filters: Filters,
}

/// Arguments of `read`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ReadParams {
    /// The chunk to read (a hit's `chunk_id`). Give this, or `doc`.
    chunk_id: Option<i64>,
    /// The document to read in (id, title or path), with `page` or `section`; alone, its start.
    doc: Option<String>,
    /// With `doc`: the page (PDF) to read from.
    page: Option<u32>,
    /// With `doc`: a section heading (or part of one) to read from.
    section: Option<String>,
    /// Chunks before it to include too, 0 to 5 (default 0).
    #[serde(default)]
    before: usize,
    /// Chunks after it to include too, 0 to 5 (default 0).
    #[serde(default)]
    after: usize,
}

/// Arguments of `list_documents`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ListParams {
    /// Only documents of this kind: pdf, epub, html, markdown, text, web, news.
    kind: Option<String>,
    /// Only documents with this tag.
    tag: Option<String>,
    /// Documents to skip (for the next page: the `next_offset` of the last answer).
    #[serde(default)]
    offset: usize,
    /// Documents to return, 1 to 200 (default 50).
    limit: Option<usize>,
}

/// Arguments of `related`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RelatedParams {
    /// The document (id, title or path).
    doc: String,
    /// How many related documents, 1 to 50 (default 5).
    k: Option<usize>,
}

/// Arguments of `ask`.
#[derive(Debug, Deserialize, JsonSchema)]
struct AskParams {
    /// The question, in any language the library holds.
    question: String,
    /// Search hits considered, 1 to 50 (default: the configured ask.k).
    k: Option<usize>,
    /// Restrictions.
    #[serde(flatten)]
    filters: Filters,
}

/// Arguments of `add`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct AddParams {
    /// Files or folders (under the folders the server allows) and http(s) URLs of web pages.
    sources: Vec<String>,
    /// Tags for the new documents.
    #[serde(default)]
    tags: Vec<String>,
}

// ----- results -----

/// A document as a result names it.
#[derive(Debug, Serialize, JsonSchema)]
struct DocRef {
    /// Document id.
    doc_id: i64,
    /// Title.
    title: String,
    /// Kind: pdf, epub, html, markdown, text, web, news.
    kind: String,
    /// Source path, or URL key.
    source: String,
    /// URL, for web pages and news.
    url: Option<String>,
}

impl DocRef {
    fn of(d: &DocSummary) -> DocRef {
        DocRef {
            doc_id: d.id,
            title: untrusted_label(&d.title),
            kind: d.kind.clone(),
            source: d.source.clone(),
            url: d.url.clone(),
        }
    }
}

/// One search hit.
#[derive(Debug, Serialize, JsonSchema)]
struct Hit {
    /// Rank, from 1.
    rank: usize,
    /// Score of the mode (fused for hybrid); compare within one result list only.
    score: f32,
    /// How to cite it: title, page or lines, section, URL, chunk id.
    citation: String,
    /// Document title.
    title: String,
    /// Document id.
    doc_id: i64,
    /// Chunk id: pass it to `read` for the full text and its neighbours.
    chunk_id: i64,
    /// Page or page span (PDF).
    page: Option<String>,
    /// Line span (text and Markdown).
    lines: Option<String>,
    /// Section heading path.
    section: Option<String>,
    /// URL, for web pages and news.
    url: Option<String>,
    /// Document kind.
    kind: String,
    /// Source path or URL key.
    source: String,
    /// The passage of the chunk that matched.
    snippet: String,
}

/// The result of `search`.
#[derive(Debug, Serialize, JsonSchema)]
struct SearchResult {
    /// The query searched.
    query: String,
    /// The mode used.
    mode: String,
    /// Hits, best first.
    hits: Vec<Hit>,
    /// Chunks still awaiting their vectors (found by keywords only, just after an add).
    vectors_pending: u64,
}

/// A chunk as `read` returns it.
#[derive(Debug, Serialize, JsonSchema)]
struct ChunkText {
    /// Chunk id.
    chunk_id: i64,
    /// Position in the document, from 0.
    ordinal: u32,
    /// How to cite it.
    citation: String,
    /// Page or page span (PDF).
    page: Option<String>,
    /// Line span (text and Markdown).
    lines: Option<String>,
    /// Section heading path.
    section: Option<String>,
    /// The text.
    text: String,
}

/// The result of `read`.
#[derive(Debug, Serialize, JsonSchema)]
struct ReadResult {
    /// The document.
    document: DocRef,
    /// The chunk asked for.
    chunk_id: i64,
    /// It and the neighbours asked for, in document order.
    chunks: Vec<ChunkText>,
    /// The document goes on before the first chunk returned.
    more_before: bool,
    /// The document goes on after the last chunk returned.
    more_after: bool,
}

/// A document as `list_documents` returns it.
#[derive(Debug, Serialize, JsonSchema)]
struct DocEntry {
    /// Document id.
    doc_id: i64,
    /// Title.
    title: String,
    /// Kind.
    kind: String,
    /// Source path or URL key.
    source: String,
    /// URL, for web pages and news.
    url: Option<String>,
    /// Authors.
    authors: Vec<String>,
    /// Language code.
    language: Option<String>,
    /// Publication date.
    published: Option<String>,
    /// Pages (PDF).
    pages: Option<u32>,
    /// Chunks.
    chunks: u32,
    /// Tags.
    tags: Vec<String>,
    /// When it was added (RFC 3339).
    added_at: String,
}

/// The result of `list_documents`.
#[derive(Debug, Serialize, JsonSchema)]
struct ListResult {
    /// Documents matching the filters, in all.
    total: usize,
    /// This page.
    documents: Vec<DocEntry>,
    /// The `offset` of the next page, when there is one.
    next_offset: Option<usize>,
}

/// A passage that connects two documents.
#[derive(Debug, Serialize, JsonSchema)]
struct Connection {
    /// Cosine similarity of the two passages.
    similarity: f32,
    /// Chunk id in the document asked about.
    from_chunk_id: i64,
    /// Chunk id in the related document.
    chunk_id: i64,
    /// How to cite the related document's passage.
    citation: String,
    /// The related document's passage.
    snippet: String,
}

/// A related document.
#[derive(Debug, Serialize, JsonSchema)]
struct Related {
    /// Rank, from 1.
    rank: usize,
    /// Similarity (higher is nearer).
    score: f32,
    /// The document.
    document: DocRef,
    /// The passages that connect them, best first.
    connections: Vec<Connection>,
}

/// The result of `related`.
#[derive(Debug, Serialize, JsonSchema)]
struct RelatedResult {
    /// The document asked about.
    document: DocRef,
    /// Documents nearest to it, nearest first.
    related: Vec<Related>,
}

/// A source an answer cites.
#[derive(Debug, Serialize, JsonSchema)]
struct Source {
    /// The number the answer cites it by (`[n]`).
    n: usize,
    /// How to cite it.
    citation: String,
    /// Document id.
    doc_id: i64,
    /// Chunk id.
    chunk_id: i64,
    /// Document title.
    title: String,
    /// Page or page span.
    page: Option<String>,
    /// Section heading path.
    section: Option<String>,
    /// URL.
    url: Option<String>,
    /// The passage's text.
    text: String,
}

/// The result of `ask`.
#[derive(Debug, Serialize, JsonSchema)]
struct AskResult {
    /// The answer, citing its sources as [n].
    answer: String,
    /// "llm" (written by the chat model) or "extractive" (the best passages, quoted, when the
    /// model could not be reached).
    mode: String,
    /// True when the library does not answer the question (the answer then names the nearest
    /// passages).
    refused: bool,
    /// The sources cited (for an extractive answer or a refusal: the passages quoted).
    sources: Vec<Source>,
    /// A notice about the answer (the model unreachable, an answer withheld).
    notice: Option<String>,
}

/// The result of `add`.
#[derive(Debug, Serialize, JsonSchema)]
struct AddResult {
    /// Documents added.
    added: usize,
    /// Documents updated.
    updated: usize,
    /// Documents already in the library, unchanged.
    unchanged: usize,
    /// Chunks written.
    chunks: usize,
    /// Sources that could not be added, each with the reason.
    failed: Vec<String>,
}

// ----- the tools -----

#[tool_router]
impl LoreServer {
    fn new(ctx: Context, add_roots: Vec<PathBuf>) -> LoreServer {
        let mut tool_router = Self::tool_router();
        if ctx.config.llm.to_chat_config().is_none() {
            tool_router.remove_route("ask");
        }
        if add_roots.is_empty() {
            tool_router.remove_route("add");
        }
        LoreServer { inner: Arc::new(Inner { ctx, lib: Mutex::new(None), add_roots }), tool_router }
    }

    /// Runs `f` on a blocking thread; its error becomes the tool's error text.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Inner) -> Result<T> + Send + 'static,
    ) -> Result<T, String> {
        let inner = self.inner.clone();
        match tokio::task::spawn_blocking(move || f(&inner)).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(format!("{e:#}")),
            Err(e) => Err(format!("lore failed on this request (a bug): {e}")),
        }
    }

    #[tool(
        description = "Search the user's personal library (books, papers, notes, saved web pages) for passages. \
Returns ranked hits, each with a citation (title, page or lines, section, URL, chunk id) and a snippet. \
Use `read` with a hit's chunk_id for the full passage and its context. Cite hits by their citation.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn search(&self, Parameters(p): Parameters<SearchParams>) -> Result<Json<SearchResult>, String> {
        let k = bounded("k", p.k.unwrap_or(0), 1, MAX_K, p.k.is_none())?;
        if p.query.trim().is_empty() {
            return Err("the query is empty".into());
        }
        self.blocking(move |inner| {
            let ctx = &inner.ctx;
            let mode: Mode =
                p.mode.as_deref().unwrap_or(&ctx.config.search.mode).parse().map_err(anyhow::Error::msg)?;
            let search = ctx.config.search.to_search_config()?;
            let k = if p.k.is_none() { ctx.config.search.k.clamp(1, MAX_K) } else { k };
            inner.with_library(|lib| {
                let filter = build_filter(lib, &p.filters.args())?;
                let req = SearchRequest { query: p.query.clone(), k, mode, filter };
                let hits = lib.search(&search, &req)?;
                let hits = hits
                    .into_iter()
                    .map(|h| Hit {
                        rank: h.rank,
                        score: h.score,
                        citation: citation(&h.title, &h.chunk, h.url.as_deref()),
                        doc_id: h.chunk.doc_id,
                        chunk_id: h.chunk.id,
                        page: h.chunk.pages(),
                        lines: h.chunk.lines(),
                        section: section(&h.chunk),
                        url: h.url,
                        kind: h.kind,
                        source: h.source,
                        snippet: untrusted(&h.snippet).split_whitespace().collect::<Vec<_>>().join(" "),
                        title: untrusted_label(&h.title),
                    })
                    .collect();
                Ok(SearchResult {
                    query: req.query,
                    mode: mode.as_str().to_string(),
                    hits,
                    vectors_pending: lib.vectors_pending()?,
                })
            })
        })
        .await
        .map(Json)
    }

    #[tool(
        description = "Read the full text of a passage of the user's library: a chunk by its id (from `search`), \
or a document (id, title or path) at a page or section, with up to 5 neighbouring chunks before and after. \
Each chunk comes with its citation.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn read(&self, Parameters(p): Parameters<ReadParams>) -> Result<Json<ReadResult>, String> {
        bounded("before", p.before, 0, MAX_NEIGHBOURS, false)?;
        bounded("after", p.after, 0, MAX_NEIGHBOURS, false)?;
        self.blocking(move |inner| inner.with_library(|lib| read(lib, &p))).await.map(Json)
    }

    #[tool(
        description = "List the documents in the user's library with their ids, titles, kinds, sources and sizes, \
a page at a time (`offset`, `limit`; `next_offset` gives the next page). Filter by kind or tag.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn list_documents(
        &self,
        Parameters(p): Parameters<ListParams>,
    ) -> Result<Json<ListResult>, String> {
        let limit = bounded("limit", p.limit.unwrap_or(50), 1, MAX_LIST, false)?;
        if let Some(kind) = &p.kind {
            kind.parse::<lore_ingest::Kind>().map_err(|e| e.to_string())?;
        }
        self.blocking(move |inner| {
            let lib = match Library::open_reader(&inner.ctx.paths.home, None) {
                Ok(lib) => lib,
                Err(lore_index::Error::NoLibrary(_)) => {
                    return Ok(ListResult { total: 0, documents: Vec::new(), next_offset: None });
                }
                Err(e) => return Err(e.into()),
            };
            let docs = lib.catalog().list(&ListFilter { kind: p.kind.clone(), tag: p.tag.clone() })?;
            let total = docs.len();
            let documents: Vec<DocEntry> = docs
                .into_iter()
                .skip(p.offset)
                .take(limit)
                .map(|d| DocEntry {
                    doc_id: d.id,
                    title: untrusted_label(&d.title),
                    kind: d.kind,
                    source: d.source,
                    url: d.url,
                    authors: d.authors,
                    language: d.language,
                    published: d.published,
                    pages: d.page_count,
                    chunks: d.chunks,
                    tags: d.tags,
                    added_at: d.added_at,
                })
                .collect();
            let end = p.offset.saturating_add(documents.len());
            Ok(ListResult { total, documents, next_offset: (end < total).then_some(end) })
        })
        .await
        .map(Json)
    }

    #[tool(
        description = "Find the documents of the user's library nearest in content to one document (id, title or path), \
with the passages that connect them.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn related(&self, Parameters(p): Parameters<RelatedParams>) -> Result<Json<RelatedResult>, String> {
        let k = bounded("k", p.k.unwrap_or(5), 1, MAX_K, false)?;
        self.blocking(move |inner| {
            inner.with_library(|lib| {
                let doc = pick_one(lib.resolve(&p.doc)?, &p.doc).map_err(without_cli_hint)?;
                let options = RelatedOptions { k, pairs: 2, ..RelatedOptions::default() };
                let related = lib
                    .related(doc.id, &options)?
                    .into_iter()
                    .map(|r| {
                        let title = r.title.clone();
                        Related {
                            rank: r.rank,
                            score: r.score,
                            connections: r
                                .pairs
                                .iter()
                                .map(|pair| Connection {
                                    similarity: pair.similarity,
                                    from_chunk_id: pair.from.chunk_id,
                                    chunk_id: pair.to.chunk_id,
                                    citation: cite(
                                        &title,
                                        pair.to.pages.as_deref(),
                                        Some(untrusted_label(&pair.to.heading))
                                            .filter(|h| !h.is_empty())
                                            .as_deref(),
                                        r.url.as_deref(),
                                        pair.to.chunk_id,
                                    ),
                                    snippet: untrusted(&pair.to.snippet),
                                })
                                .collect(),
                            document: DocRef {
                                doc_id: r.doc_id,
                                title: untrusted_label(&r.title),
                                kind: r.kind,
                                source: r.source,
                                url: r.url,
                            },
                        }
                    })
                    .collect();
                Ok(RelatedResult { document: DocRef::of(&doc), related })
            })
        })
        .await
        .map(Json)
    }

    #[tool(
        description = "Ask the user's library a question: an answer written by lore's chat model from the library's \
passages, every claim cited [n], with the sources (citation, chunk id, text). When the library does not \
answer, it says so (`refused`). Prefer `search` and `read` when you can write the answer yourself.",
        annotations(read_only_hint = true, open_world_hint = true)
    )]
    async fn ask(&self, Parameters(p): Parameters<AskParams>) -> Result<Json<AskResult>, String> {
        if let Some(k) = p.k {
            bounded("k", k, 1, MAX_K, false)?;
        }
        if p.question.trim().is_empty() {
            return Err("the question is empty".into());
        }
        self.blocking(move |inner| inner.with_library(|lib| ask(&inner.ctx, lib, &p))).await.map(Json)
    }

    #[tool(
        description = "Add files, folders or web pages (http/https URLs) to the user's library. Files must be under \
the folders the user allowed when starting the server; anything else is refused.",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn add(&self, Parameters(p): Parameters<AddParams>) -> Result<Json<AddResult>, String> {
        if p.sources.is_empty() {
            return Err("give at least one source".into());
        }
        self.blocking(move |inner| add(inner, &p)).await.map(Json)
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for LoreServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("lore", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "lore is the user's personal library of books, papers, notes and web pages. Use `search` to find \
passages, `read` for a passage's full text and context, `list_documents` to see what the library holds, \
`related` for documents near one. Quote passages with their citation (title, page or section or URL, chunk id).",
            )
    }
}

/// `v` when it is within `min..=max` (or `default` says it was not given), else a clear error.
fn bounded(name: &str, v: usize, min: usize, max: usize, default: bool) -> Result<usize, String> {
    if default || (min..=max).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{name} must be between {min} and {max} (got {v})"))
    }
}

/// `pick_one`'s error without its pointer to the command line.
fn without_cli_hint(e: anyhow::Error) -> anyhow::Error {
    anyhow!("{}", e.to_string().replace(" (try `lore ls`)", " (see list_documents)"))
}

/// A chunk's section heading path, when it has one.
fn section(c: &StoredChunk) -> Option<String> {
    (!c.heading_path.is_empty())
        .then(|| c.heading_path.iter().map(|h| untrusted_label(h)).collect::<Vec<_>>().join(" > "))
}

/// How to cite a chunk of the document titled `title`.
fn citation(title: &str, c: &StoredChunk, url: Option<&str>) -> String {
    cite(title, c.location().as_deref(), section(c).as_deref(), url, c.id)
}

/// Document text on its way to the client's model: a paragraph that instructs a model is left out,
/// as it is from lore's own prompts ([`lore_agent::injection`]).
fn untrusted(text: &str) -> String {
    lore_agent::injection::defuse(text).map_or_else(|| text.to_string(), |(t, _)| t)
}

/// A title or heading on its way to the client's model ([`untrusted`]).
fn untrusted_label(label: &str) -> String {
    lore_agent::injection::defuse_label(label).to_string()
}

/// `"Title", p. 4, Part > Chapter, https://… [chunk 123]`.
fn cite(title: &str, place: Option<&str>, section: Option<&str>, url: Option<&str>, chunk_id: i64) -> String {
    let mut parts = vec![format!("\"{}\"", untrusted_label(title))];
    parts.extend(place.map(str::to_string));
    parts.extend(section.map(untrusted_label));
    parts.extend(url.map(str::to_string));
    format!("{} [chunk {chunk_id}]", parts.join(", "))
}

/// The `read` tool's work.
fn read(lib: &Library, p: &ReadParams) -> Result<ReadResult> {
    let catalog = lib.catalog();
    let (doc, target) = match (p.chunk_id, &p.doc) {
        (Some(_), Some(_)) => bail!("give chunk_id or doc, not both"),
        (None, None) => bail!("give chunk_id (from a search hit) or doc"),
        (Some(id), None) => {
            let chunk = catalog
                .chunk(id)?
                .ok_or_else(|| anyhow!("no chunk {id} in the library (chunk ids come from search hits)"))?;
            let doc = catalog.get(chunk.doc_id)?.ok_or_else(|| anyhow!("no chunk {id} in the library"))?;
            (doc, chunk.ordinal)
        }
        (None, Some(spec)) => {
            let doc = pick_one(lib.resolve(spec)?, spec).map_err(without_cli_hint)?;
            let chunks = catalog.chunks_of(doc.id, 0, doc.chunks as usize)?;
            let found = if let Some(page) = p.page {
                chunks
                    .iter()
                    .find(|c| c.page_start.is_some_and(|a| a <= page && page <= c.page_end.unwrap_or(a)))
                    .ok_or_else(|| match doc.page_count {
                        Some(n) => anyhow!("{:?} has no text on page {page} (it has {n} pages)", doc.title),
                        None => anyhow!("{:?} has no pages (give section instead)", doc.title),
                    })?
            } else if let Some(section) = &p.section {
                let want = section.to_lowercase();
                chunks
                    .iter()
                    .find(|c| c.heading_path.iter().any(|h| h.to_lowercase().contains(&want)))
                    .ok_or_else(|| anyhow!("{:?} has no section headed {section:?}", doc.title))?
            } else {
                chunks.first().ok_or_else(|| anyhow!("{:?} has no text", doc.title))?
            };
            (doc, found.ordinal)
        }
    };
    let from = target.saturating_sub(p.before as u32);
    let count = (target - from) as usize + 1 + p.after;
    let chunks = catalog.chunks_of(doc.id, from, count)?;
    let chunk_id = lore_index::catalog::chunk_id(doc.id, target);
    let more_after = chunks.last().is_some_and(|c| c.ordinal + 1 < doc.chunks);
    Ok(ReadResult {
        chunk_id,
        more_before: from > 0,
        more_after,
        chunks: chunks
            .iter()
            .map(|c| ChunkText {
                chunk_id: c.id,
                ordinal: c.ordinal,
                citation: citation(&doc.title, c, doc.url.as_deref()),
                page: c.pages(),
                lines: c.lines(),
                section: section(c),
                text: untrusted(&c.text),
            })
            .collect(),
        document: DocRef::of(&doc),
    })
}

/// The `ask` tool's work: [`lore_agent::answer::ask`] as `lore ask` runs it, without recording
/// a conversation (the server writes nothing).
fn ask(ctx: &Context, lib: &Library, p: &AskParams) -> Result<AskResult> {
    let chat = match ctx.config.llm.to_chat_config() {
        Some(cfg) => Some(lore_agent::ChatModel::new(cfg)?),
        None => None,
    };
    let opts = lore_agent::AskOptions {
        retrieve: retrieve_config(ctx, p.k, build_filter(lib, &p.filters.args())?)?,
        search: ctx.config.search.to_search_config()?,
        translate: ctx.config.ask.translate,
        ..lore_agent::AskOptions::default()
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let mut on_event = |_: lore_agent::answer::AskEvent<'_>| {};
    let answer =
        rt.block_on(lore_agent::answer::ask(lib, chat.as_ref(), &p.question, &[], &opts, &mut on_event))?;
    let quoted = answer.citations.is_empty() || answer.refused;
    let sources: Vec<lore_agent::Citation> = if quoted {
        let shown = if answer.refused { lore_agent::refusal::NEAREST } else { answer.passages.len() };
        answer.passages.iter().take(shown).map(lore_agent::Citation::of).collect()
    } else {
        answer.citations.clone()
    };
    Ok(AskResult {
        mode: answer.mode.as_str().to_string(),
        refused: answer.refused,
        notice: answer.notice.clone().or_else(|| {
            answer
                .withheld
                .as_ref()
                .map(|_| "the model's answer was withheld: the passages did not support it".to_string())
        }),
        sources: sources
            .into_iter()
            .map(|c| Source {
                citation: cite(
                    &c.title,
                    c.page.as_deref(),
                    c.section.as_deref(),
                    c.url.as_deref(),
                    c.chunk_id,
                ),
                n: c.n,
                doc_id: c.doc_id,
                chunk_id: c.chunk_id,
                title: untrusted_label(&c.title),
                page: c.page,
                section: c.section,
                url: c.url,
                text: untrusted(&c.text),
            })
            .collect(),
        answer: answer.text,
    })
}

/// The `add` tool's work: every source checked first (an address must be an http(s) URL, a
/// path must lie under an allowed folder), then one writer adds them all.
fn add(inner: &Inner, p: &AddParams) -> Result<AddResult> {
    let mut urls = Vec::new();
    let mut paths = Vec::new();
    for source in &p.sources {
        if source.contains("://") {
            lore_ingest::web::parse_web_url(source).map_err(|e| anyhow!("refused {source:?}: {e}"))?;
            urls.push(source.clone());
        } else {
            paths.push(allowed_path(&inner.add_roots, Path::new(source))?);
        }
    }
    let ctx = &inner.ctx;
    ctx.choose_model_for_sources(&paths);
    // The server's reader is closed while it writes, and opened again by the next request.
    let mut guard = inner.lib.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    *guard = None;
    let notice = lore_index::WaitNotice(Arc::new(|m: &str| warn_line(m)));
    let mut lib = ctx.writer_telling(ADD_WAIT, notice)?;
    let mut report = if paths.is_empty() {
        lore_index::AddReport::default()
    } else {
        lib.add_paths(&paths, &p.tags, &mut |_| {})?
    };
    if !urls.is_empty() {
        let fetcher = ctx.fetcher()?;
        let runtime = crate::context::web_runtime()?;
        let web = runtime.block_on(lib.add_urls(&fetcher, &urls, &p.tags, &mut |_| {}))?;
        report.added += web.added;
        report.updated += web.updated;
        report.unchanged += web.unchanged;
        report.chunks += web.chunks;
        report.failed.extend(web.failed);
    }
    Ok(AddResult {
        added: report.added,
        updated: report.updated,
        unchanged: report.unchanged + report.same_content.len(),
        chunks: report.chunks,
        failed: report.failed,
    })
}

/// `path`, canonical, when it exists under one of `roots`; otherwise why it is refused.
fn allowed_path(roots: &[PathBuf], path: &Path) -> Result<PathBuf> {
    if !path.is_absolute() {
        bail!("refused {}: give an absolute path", path.display());
    }
    let canonical = std::fs::canonicalize(path)
        .map_err(|e| anyhow!("refused {}: cannot read it ({e})", path.display()))?;
    if roots.iter().any(|r| canonical.starts_with(r)) {
        Ok(canonical)
    } else {
        let allowed: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
        bail!(
            "refused {}: not under a folder the server may add from ({})",
            path.display(),
            allowed.join(", ")
        )
    }
}
