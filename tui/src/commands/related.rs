//! `lore related`: the documents nearest to a document, with the passages that connect them.

use std::process::ExitCode;

use anyhow::Result;
use lore_index::{RelatedDoc, RelatedMethod, RelatedOptions};

use crate::cli::RelatedArgs;
use crate::context::Context;
use crate::output::{OutputError, outln};
use crate::output::{print_json, truncate};
use crate::selection::pick_one;

/// Runs `lore related`.
pub fn run(ctx: &Context, args: RelatedArgs) -> Result<ExitCode> {
    let lib = ctx.searcher()?;
    let doc = pick_one(lib.resolve(&args.doc)?, &args.doc)?;
    let method: RelatedMethod = match &args.method {
        Some(m) => m.parse().map_err(anyhow::Error::msg)?,
        None => RelatedMethod::default(),
    };
    let options = RelatedOptions { k: args.k, method, pairs: args.pairs };
    let related = lib.related(doc.id, &options)?;
    if args.json {
        print_json(&serde_json::json!({ "document": doc, "related": related }))?;
        return Ok(ExitCode::SUCCESS);
    }
    if related.is_empty() {
        outln!("Nothing else in the library is related to {}.", doc.title)?;
        return Ok(ExitCode::SUCCESS);
    }
    let color = crate::output::stdout_color();
    let (bold, dim, reset) = if color { ("\x1b[1m", "\x1b[2m", "\x1b[0m") } else { ("", "", "") };
    outln!("Related to {bold}{}{reset} ({}):", doc.title, doc.id)?;
    for r in &related {
        print_related(r, bold, dim, reset)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_related(r: &RelatedDoc, bold: &str, dim: &str, reset: &str) -> Result<(), OutputError> {
    outln!("{:>2}. {bold}{}{reset} {dim}[{} {:.3}] {}{reset}", r.rank, r.title, r.kind, r.score, r.doc_id)?;
    outln!("    {dim}{}{reset}", r.url.as_deref().unwrap_or(&r.source))?;
    for p in &r.pairs {
        // The last heading names the passage; the ones above it repeat the document's.
        let place = |heading: &str, pages: &Option<String>| match (heading.is_empty(), pages) {
            (_, Some(pg)) if !heading.is_empty() => format!("{pg} · {heading}"),
            (_, Some(pg)) => pg.clone(),
            (false, None) => heading.to_string(),
            (true, None) => String::new(),
        };
        outln!(
            "    {:.2}  {} ⇄ {}",
            p.similarity,
            truncate(&place(last(&p.from.heading), &p.from.pages), 40),
            truncate(&place(last(&p.to.heading), &p.to.pages), 40)
        )?;
        outln!("          {dim}“{}”{reset}", truncate(&p.to.snippet, 100))?;
    }
    Ok(())
}

/// The last part of a joined heading path.
fn last(heading: &str) -> &str {
    heading.rsplit(" > ").next().unwrap_or(heading)
}
