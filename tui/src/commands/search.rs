//! `lore search`: hybrid, keyword or vector search with highlighted snippets.

use std::process::ExitCode;

use anyhow::{Result, bail};
use lore_index::{Mode, SearchHit, SearchRequest};

use crate::cli::SearchArgs;
use crate::context::Context;
use crate::output::print_json;
use crate::output::{OutputError, outln};
use crate::selection::build_filter;

/// Runs `lore search`.
pub fn run(ctx: &Context, args: SearchArgs) -> Result<ExitCode> {
    let lib = ctx.searcher()?;
    let mode: Mode =
        args.mode.as_deref().unwrap_or(&ctx.config.search.mode).parse().map_err(anyhow::Error::msg)?;
    let filter = build_filter(&lib, &args.filter)?;
    let query = args.query.join(" ");
    if query.trim().is_empty() {
        bail!("the query is empty");
    }
    let req = SearchRequest { query, k: args.k.unwrap_or(ctx.config.search.k), mode, filter };
    let search = ctx.config.search.to_search_config()?;
    let hits = if args.translate {
        let queries = translations(ctx, &lib, &req.query)?;
        if queries.len() > 1 && !args.json {
            crate::output::note_line(&format!("searching for: {}", queries.join(" / ")));
        }
        lore_agent::retrieve::search_all(&lib, &search, &queries, &req)?
    } else {
        lib.search(&search, &req)?
    };
    // Chunks between the two phases of an add: said on stderr, and per hit in the JSON.
    let pending = lib.vectors_pending()?;
    if pending > 0 {
        crate::output::note_line(&crate::output::vectors_pending_note(pending));
    }
    if args.json {
        print_json(&hits)?;
        return Ok(ExitCode::SUCCESS);
    }
    if hits.is_empty() {
        outln!("No results for {:?}.", req.query)?;
        return Ok(ExitCode::SUCCESS);
    }
    let color = crate::output::stdout_color();
    for hit in &hits {
        print_hit(hit, color)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The query and its translations into the library's main languages it is not written in, by
/// the configured chat model.
fn translations(ctx: &Context, lib: &lore_index::Library, query: &str) -> Result<Vec<String>> {
    let Some(cfg) = ctx.config.llm.to_chat_config() else {
        bail!("--translate needs a chat model: set llm.base_url (and llm.model)");
    };
    let chat = lore_agent::ChatModel::new(cfg)?;
    let targets = lore_agent::translate::targets(
        lore_index::query_language(query).as_deref(),
        &lore_agent::translate::main_languages(lib),
    );
    let mut queries = vec![query.to_string()];
    if !targets.is_empty() {
        let runtime = crate::context::web_runtime()?;
        let timeout = std::time::Duration::from_secs(ctx.config.llm.idle_timeout_secs.max(1));
        queries.extend(runtime.block_on(lore_agent::translate::translate(&chat, query, &targets, timeout)));
    }
    Ok(queries)
}

/// Where in its document a hit is: page or line span and heading path.
pub fn place(hit: &SearchHit) -> String {
    let mut parts = Vec::new();
    if let Some(p) = hit.chunk.location() {
        parts.push(p);
    }
    if !hit.chunk.heading_path.is_empty() {
        parts.push(hit.chunk.heading());
    }
    parts.join(" · ")
}

fn print_hit(hit: &SearchHit, color: bool) -> Result<(), OutputError> {
    let (bold, dim, mark, reset) =
        if color { ("\x1b[1m", "\x1b[2m", "\x1b[1;33m", "\x1b[0m") } else { ("", "", "", "") };
    let place = place(hit);
    let sep = if place.is_empty() { "" } else { " — " };
    outln!(
        "{:>2}. {bold}{}{reset}{sep}{place} {dim}[{} {:.4}]{reset}",
        hit.rank,
        hit.title,
        hit.kind,
        hit.score
    )?;
    let mut snippet = String::new();
    let mut at = 0;
    for &(a, b) in &hit.highlights {
        let (Some(before), Some(m)) = (hit.snippet.get(at..a), hit.snippet.get(a..b)) else { continue };
        snippet.push_str(before);
        if color {
            snippet.push_str(&format!("{mark}{m}{reset}"));
        } else {
            snippet.push_str(&format!("**{m}**"));
        }
        at = b;
    }
    snippet.push_str(hit.snippet.get(at..).unwrap_or_default());
    let flat: String = snippet.split_whitespace().collect::<Vec<_>>().join(" ");
    outln!("    {flat}")?;
    outln!("    {dim}{}{reset}", hit.url.as_deref().unwrap_or(&hit.source))
}
