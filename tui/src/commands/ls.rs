//! `lore ls`: the documents in the library.

use std::process::ExitCode;

use anyhow::Result;
use lore_index::catalog::ListFilter;

use crate::cli::LsArgs;
use crate::context::Context;
use crate::output::outln;
use crate::output::{cell, print_json};

/// Runs `lore ls`.
pub fn run(ctx: &Context, args: LsArgs) -> Result<ExitCode> {
    let docs = match lore_index::Library::open_reader(&ctx.paths.home, None) {
        Ok(lib) => lib.catalog().list(&ListFilter { kind: args.kind.clone(), tag: args.tag.clone() })?,
        Err(lore_index::Error::NoLibrary(_)) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    if args.json {
        print_json(&docs)?;
        return Ok(ExitCode::SUCCESS);
    }
    if docs.is_empty() {
        outln!("The library is empty. Add books and documents with `lore add PATH...`.")?;
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "{} {} {} {} {} {} TAGS",
        cell("ID", 5),
        cell("TITLE", 44),
        cell("KIND", 8),
        cell("PAGES/CH", 8),
        cell("CHUNKS", 6),
        cell("ADDED", 10)
    )?;
    for d in &docs {
        let extent = match (d.kind.as_str(), d.page_count) {
            (_, Some(p)) => format!("{p} pp"),
            ("epub", _) => format!("{} ch", d.sections),
            _ => format!("{} sec", d.sections),
        };
        outln!(
            "{} {} {} {} {} {} {}",
            cell(&d.id.to_string(), 5),
            cell(&d.title, 44),
            cell(&d.kind, 8),
            cell(&extent, 8),
            cell(&d.chunks.to_string(), 6),
            cell(d.added_at.get(..10).unwrap_or(&d.added_at), 10),
            d.tags.join(",")
        )?;
    }
    let chunks: u64 = docs.iter().map(|d| u64::from(d.chunks)).sum();
    outln!("{} documents, {} chunks", docs.len(), chunks)?;
    Ok(ExitCode::SUCCESS)
}
