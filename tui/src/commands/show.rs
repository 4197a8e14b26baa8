//! `lore show`: one document in detail.

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::ShowArgs;
use crate::context::Context;
use crate::output::outln;
use crate::output::{print_json, truncate};
use crate::selection::pick_one;

/// Runs `lore show`.
pub fn run(ctx: &Context, args: ShowArgs) -> Result<ExitCode> {
    let lib = ctx.reader()?;
    let doc = pick_one(lib.resolve(&args.doc)?, &args.doc)?;
    let sections = lib.catalog().sections(doc.id)?;
    let chunks = lib.catalog().chunks_of(doc.id, 0, args.chunks)?;
    let copies: Vec<String> = lib.catalog().copies_of(doc.id)?.into_iter().map(|c| c.path).collect();
    if args.json {
        let paths: Vec<&str> =
            std::iter::once(doc.source.as_str()).chain(copies.iter().map(String::as_str)).collect();
        print_json(
            &serde_json::json!({ "document": doc, "paths": paths, "sections": sections, "chunks": chunks }),
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    outln!("{}", doc.title)?;
    outln!("  id        {}", doc.id)?;
    outln!("  kind      {}", doc.kind)?;
    outln!("  source    {}", doc.source)?;
    for copy in &copies {
        outln!("  also at   {copy}")?;
    }
    if let Some(url) = &doc.url {
        outln!("  url       {url}")?;
    }
    if !doc.authors.is_empty() {
        outln!("  authors   {}", doc.authors.join(", "))?;
    }
    if let Some(l) = &doc.language {
        outln!("  language  {l}")?;
    }
    if let Some(p) = &doc.published {
        outln!("  published {p}")?;
    }
    if let Some(p) = doc.page_count {
        outln!("  pages     {p}")?;
    }
    outln!("  sections  {}", doc.sections)?;
    outln!("  chunks    {}", doc.chunks)?;
    outln!("  size      {} bytes", doc.byte_len)?;
    outln!("  hash      {}", doc.hash)?;
    outln!("  added     {}", doc.added_at)?;
    if !doc.tags.is_empty() {
        outln!("  tags      {}", doc.tags.join(", "))?;
    }
    outln!("\nSections:")?;
    for s in sections.iter().take(200) {
        let pages = match (s.page_start, s.page_end) {
            (Some(a), Some(b)) if a != b => format!("pp. {a}-{b}  "),
            (Some(a), _) => format!("p. {a}  "),
            _ => String::new(),
        };
        let heading =
            if s.heading_path.is_empty() { "(untitled)".to_string() } else { s.heading_path.join(" > ") };
        outln!("  {:>3}. {pages}{}", s.ordinal + 1, truncate(&heading, 100))?;
    }
    if sections.len() > 200 {
        outln!("  … {} more", sections.len() - 200)?;
    }
    outln!("\nFirst chunks:")?;
    for c in &chunks {
        let mut place = Vec::new();
        if let Some(p) = c.pages() {
            place.push(p);
        }
        if !c.heading_path.is_empty() {
            place.push(c.heading());
        }
        if c.ocr {
            place.push("OCR".into());
        }
        outln!("  [{}] {} ({} tokens)", c.ordinal, place.join(", "), c.tokens)?;
        outln!("      {}", truncate(&c.text.replace('\n', " "), 300))?;
    }
    Ok(ExitCode::SUCCESS)
}
