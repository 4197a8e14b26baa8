//! `lore optimize`: builds the embedded vector store's HNSW index now; and the background run of
//! it that `lore add` and `lore sync` start after large ingests.

use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::Result;
use lore_index::Library;

use crate::cli::OptimizeArgs;
use crate::context::Context;
use crate::output;
use crate::output::outln;

/// Runs `lore optimize`.
pub fn run(ctx: &Context, args: OptimizeArgs) -> Result<ExitCode> {
    let started = Instant::now();
    // The background run is started with --quiet: it prints nothing at all.
    let quiet = output::quiet();
    let lib = ctx.writer(Duration::from_secs(args.wait))?;
    let before = lib.unindexed_vectors()?;
    let outdated = lib.outdated_vectors()?;
    if before == 0 && outdated == 0 {
        if !quiet {
            outln!("The vector index is up to date.")?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    lib.optimize()?;
    if !quiet && outdated > 0 {
        outln!("Moved {outdated} vectors into the vector store's in-memory layout.")?;
    }
    if !quiet {
        // Qdrant builds HNSW only for segments above its indexing threshold (about 10 MB of
        // vectors); smaller ones are searched exactly.
        outln!(
            "Optimized the vector store in {:.1}s: {} vectors were outside the HNSW index, {} are now \
             (small segments are searched exactly).",
            started.elapsed().as_secs_f64(),
            before,
            lib.unindexed_vectors()?
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// After a writer is done: when the embedded store holds `qdrant.optimize_after` or more vectors
/// outside its HNSW index (or in its earlier layout), starts `lore optimize` as a detached
/// background process (it waits for the write lock; searches keep working meanwhile on a copy of
/// the store) and says so.
pub fn start_in_background_if_needed(ctx: &Context, lib: Library, quiet: bool) {
    let threshold = ctx.config.qdrant.optimize_after;
    let (unindexed, outdated) = match (lib.unindexed_vectors(), lib.outdated_vectors()) {
        (Ok(n), Ok(outdated)) => (n, outdated),
        _ => return,
    };
    drop(lib);
    if threshold == 0 || unindexed.max(outdated) < threshold {
        return;
    }
    let Ok(exe) = std::env::current_exe() else { return };
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("--library")
        .arg(&ctx.paths.home)
        .args(["optimize", "--quiet", "--wait", "3600"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Its own process group: Ctrl-C in the terminal that ran `add` does not stop it.
        cmd.process_group(0);
    }
    match cmd.spawn() {
        Ok(_) if !quiet && outdated >= threshold => output::warn_line(&format!(
            "moving {outdated} vectors into the vector store's in-memory layout and indexing them in the \
             background (`lore optimize`)"
        )),
        Ok(_) if !quiet => output::warn_line(&format!(
            "building the vector index for {unindexed} new vectors in the background (`lore optimize`)"
        )),
        Ok(_) => {}
        Err(e) => output::warn_line(&format!("could not start `lore optimize` in the background: {e}")),
    }
}
