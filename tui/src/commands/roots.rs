//! `lore roots`: the source roots (files and folders given to `add`) that `lore sync` re-scans;
//! `lore roots rm` forgets one.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use lore_index::find_roots;

use crate::cli::{RootsArgs, RootsCommand, RootsRmArgs};
use crate::context::Context;
use crate::output::outln;
use crate::output::{self, cell, plural, print_json};

/// A root as listed.
#[derive(Debug, serde::Serialize)]
struct Listed {
    #[serde(flatten)]
    root: lore_index::catalog::Root,
    /// Documents under it.
    documents: usize,
    /// Whether the file or folder is there.
    present: bool,
}

/// Runs `lore roots`.
pub fn run(ctx: &Context, args: RootsArgs) -> Result<ExitCode> {
    if let Some(RootsCommand::Rm(rm_args)) = args.command {
        return rm(ctx, rm_args);
    }
    let roots = match lore_index::Library::open_reader(&ctx.paths.home, None) {
        Ok(lib) => {
            let mut out = Vec::new();
            for root in lib.catalog().roots()? {
                let documents = lib.catalog().docs_under(&root.path)?.len();
                let present = std::path::Path::new(&root.path).exists();
                out.push(Listed { root, documents, present });
            }
            out
        }
        Err(lore_index::Error::NoLibrary(_)) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    if args.json {
        print_json(&roots)?;
        return Ok(ExitCode::SUCCESS);
    }
    if roots.is_empty() {
        outln!("No source roots yet: `lore add PATH` adds files and folders and remembers them.")?;
        return Ok(ExitCode::SUCCESS);
    }
    outln!("{} {} {} {} TAGS", cell("ID", 4), cell("PATH", 56), cell("KIND", 6), cell("DOCS", 6))?;
    for r in &roots {
        let path = if r.present { r.root.path.clone() } else { format!("{} (missing)", r.root.path) };
        outln!(
            "{} {} {} {} {}",
            cell(&r.root.id.to_string(), 4),
            cell(&path, 56),
            cell(&r.root.kind, 6),
            cell(&r.documents.to_string(), 6),
            r.root.tags.join(",")
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `lore roots rm`.
fn rm(ctx: &Context, args: RootsRmArgs) -> Result<ExitCode> {
    let mut lib = ctx.writer(Duration::from_secs(args.wait))?;
    let all = lib.catalog().roots()?;
    let roots = find_roots(&all, &args.roots).map_err(anyhow::Error::msg)?;
    for root in roots {
        let r = lib.forget_root(&root, args.purge)?;
        if args.purge {
            let kept =
                if r.kept > 0 { format!("; {} kept (under another root)", r.kept) } else { String::new() };
            outln!("Forgot {} and removed its {} document{}{kept}.", r.root, r.removed, plural(r.removed))?;
        } else {
            outln!(
                "Forgot {}; its {} document{} stay{} (`--purge` removes them).",
                r.root,
                r.kept,
                plural(r.kept),
                if r.kept == 1 { "s" } else { "" }
            )?;
        }
    }
    if lib.catalog().roots()?.is_empty() {
        output::warn_line("no source roots are left; `lore sync` has nothing to scan");
    }
    Ok(ExitCode::SUCCESS)
}
