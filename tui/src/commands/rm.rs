//! `lore rm`: remove documents.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;

use crate::cli::RmArgs;
use crate::context::Context;
use crate::output;
use crate::output::outln;
use crate::selection::pick_one;

/// Runs `lore rm`.
pub fn run(ctx: &Context, args: RmArgs) -> Result<ExitCode> {
    let mut lib = ctx.writer(Duration::ZERO)?;
    let mut failed = 0;
    for spec in &args.docs {
        // One path of a document kept at several: only that path goes.
        match lib.remove_path(spec) {
            Ok(Some(removed)) => {
                outln!(
                    "Removed path {} of {} ({}); the document stays at {}",
                    removed.path,
                    removed.title,
                    removed.doc_id,
                    removed.kept_at
                )?;
                continue;
            }
            Ok(None) => {}
            Err(e) => {
                output::error_line(&format!("{e:#}"));
                failed += 1;
                continue;
            }
        }
        match lib.resolve(spec).map_err(anyhow::Error::from).and_then(|found| pick_one(found, spec)) {
            Ok(doc) => {
                lib.remove(doc.id)?;
                outln!("Removed {} ({}, {} chunks)", doc.title, doc.id, doc.chunks)?;
            }
            Err(e) => {
                output::error_line(&format!("{e:#}"));
                failed += 1;
            }
        }
    }
    Ok(if failed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
