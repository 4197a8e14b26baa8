//! `lore sync`: re-scan the source roots and apply what changed; with `--watch`, keep doing it
//! as files change until Ctrl-C.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context as _, Result};
use indicatif::{ProgressBar, ProgressDrawTarget};
use lore_index::catalog::Root;
use lore_index::{AddEvent, ChangeKind, ItemOutcome, RootWatcher, SyncReport, find_roots};

use crate::cli::SyncArgs;
use crate::context::Context;
use crate::output;
use crate::output::{OutputError, outln};

/// How long file-system events settle before a watched sync runs.
const DEBOUNCE: Duration = Duration::from_millis(500);
/// How often the watch loop looks for Ctrl-C.
const POLL: Duration = Duration::from_millis(250);
/// How long a watched sync waits for another writer (say, a `lore add` in another terminal).
const WATCH_LOCK_WAIT: Duration = Duration::from_secs(300);

/// Runs `lore sync`.
pub fn run(ctx: &Context, args: SyncArgs) -> Result<ExitCode> {
    let all = ctx.reader()?.catalog().roots()?;
    if all.is_empty() {
        outln!("No source roots yet: `lore add PATH` adds files and folders and remembers them.")?;
        return Ok(ExitCode::SUCCESS);
    }
    let roots = if args.roots.is_empty() {
        all
    } else {
        find_roots(&all, &args.roots).map_err(anyhow::Error::msg)?
    };
    if !args.watch {
        let report = sync_once(ctx, &roots, Duration::from_secs(args.wait), false)?;
        if args.json {
            output::print_json(&report)?;
        } else {
            print_report(&report, false)?;
        }
        let nothing_done = report.unchanged + report.added + report.updated + report.renamed == 0;
        return Ok(if nothing_done && !report.failed.is_empty() {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    }
    watch(ctx, &roots, &args)
}

/// One sync of `roots` with the writer held only for its duration. With `watching`, there is no
/// progress bar and files that fail are named as they fail (not in the summary).
fn sync_once(ctx: &Context, roots: &[Root], wait: Duration, watching: bool) -> Result<SyncReport> {
    let mut lib = ctx.writer(wait)?;
    let bar = ProgressBar::hidden();
    let mut on_event = |ev: AddEvent<'_>| match ev {
        AddEvent::Planned { total, .. } => {
            if !watching && total > 1 && output::stderr_is_tty() {
                bar.set_draw_target(ProgressDrawTarget::stderr());
                bar.set_length(total as u64);
                bar.set_style(super::add::bar_style());
            }
        }
        AddEvent::Started { path, .. } => {
            bar.set_message(path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        }
        AddEvent::Vectors { done, total } => {
            bar.set_message(format!("embedding {done}/{total} chunks (searchable by keywords meanwhile)"));
        }
        AddEvent::Ocr { path, page, .. } => {
            if !bar.is_hidden() {
                bar.set_message(super::add::ocr_message(path, &page));
            } else if !watching {
                super::add::ocr_line(path, &page);
            }
        }
        AddEvent::Finished { outcome, .. } => {
            if watching && let ItemOutcome::Failed { message, .. } = outcome {
                output::error_line(message);
            }
            bar.inc(1);
        }
    };
    let report = lib.sync(roots, &mut on_event)?;
    bar.finish_and_clear();
    super::optimize::start_in_background_if_needed(ctx, lib, watching);
    Ok(report)
}

/// Syncs, then watches the roots and syncs those touched as files change, until Ctrl-C.
fn watch(ctx: &Context, roots: &[Root], args: &SyncArgs) -> Result<ExitCode> {
    let stop = ctrl_c_flag()?;
    // Watching starts before the first sync, so that nothing written meanwhile is missed.
    let watcher = RootWatcher::new(roots, DEBOUNCE, &ctx.paths.home)?;
    for e in watcher.unwatched() {
        output::warn_line(&format!("{e}; changes there are not followed"));
    }
    let roots = watcher.roots();
    if roots.is_empty() {
        anyhow::bail!("none of the source roots can be watched");
    }
    let report = sync_once(ctx, roots, Duration::from_secs(args.wait), false)?;
    show(&report, args.json, false)?;
    outln!(
        "Watching {} source root{} for changes (Ctrl-C to stop).",
        roots.len(),
        if roots.len() == 1 { "" } else { "s" }
    )?;
    while !stop.load(Ordering::SeqCst) {
        let touched = match watcher.wait(POLL) {
            Ok(Some(ids)) if !ids.is_empty() => ids,
            Ok(_) => continue,
            Err(e) => {
                output::warn_line(&format!("{e}; syncing all watched roots"));
                roots.iter().map(|r| r.id).collect()
            }
        };
        let batch: Vec<Root> = roots.iter().filter(|r| touched.contains(&r.id)).cloned().collect();
        match sync_once(ctx, &batch, WATCH_LOCK_WAIT, true) {
            Ok(report) => show(&report, args.json, true)?,
            Err(e) => output::error_line(&format!("{e:#}")),
        }
    }
    outln!("Stopped watching.")?;
    Ok(ExitCode::SUCCESS)
}

/// A flag raised by the first Ctrl-C; a second one ends the process at once (the journal lets
/// the next writer finish whatever was under way).
fn ctrl_c_flag() -> Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().context("signal handler")?;
    std::thread::spawn(move || {
        rt.block_on(async {
            if tokio::signal::ctrl_c().await.is_ok() {
                flag.store(true, Ordering::SeqCst);
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(130);
                }
            }
        })
    });
    Ok(stop)
}

/// Prints a report: JSON (one line each while watching), or text; while watching, passes that
/// changed nothing print nothing.
fn show(report: &SyncReport, json: bool, watching: bool) -> Result<()> {
    if watching && !report.changed() {
        return Ok(());
    }
    if json {
        outln!("{}", serde_json::to_string(report)?)?;
    } else {
        print_report(report, watching)?;
    }
    Ok(())
}

fn print_report(r: &SyncReport, watching: bool) -> Result<(), OutputError> {
    for c in &r.changes {
        let what = match c.change {
            ChangeKind::Added => "added",
            ChangeKind::Updated => "updated",
            ChangeKind::Removed => "removed",
            ChangeKind::Renamed => "renamed",
            ChangeKind::SameContent => {
                outln!("  {:<8} {} (same content as document {}, kept once)", "same", c.path, c.doc_id)?;
                continue;
            }
            ChangeKind::PathRemoved => {
                outln!("  {:<8} {} (document {} stays at its other path)", "gone", c.path, c.doc_id)?;
                continue;
            }
        };
        match (&c.from, c.chunks) {
            (Some(from), _) => outln!("  {what:<8} {from} -> {}", c.path)?,
            (None, Some(n)) => outln!("  {what:<8} {} ({n} chunk{})", c.path, if n == 1 { "" } else { "s" })?,
            (None, None) => outln!("  {what:<8} {}", c.path)?,
        }
    }
    for m in &r.missing_roots {
        output::warn_line(&format!("root {m}; its documents are kept (`lore roots rm` forgets it)"));
    }
    if !watching {
        for f in &r.failed {
            output::error_line(f);
        }
    }
    outln!(
        "Synced {} root{}: {} added, {} updated, {} removed, {} renamed, {} unchanged, {} failed in {:.1}s.",
        r.roots,
        if r.roots == 1 { "" } else { "s" },
        r.added,
        r.updated,
        r.removed,
        r.renamed,
        r.unchanged,
        r.failed.len(),
        r.seconds
    )?;
    let _ = std::io::stdout().flush();
    Ok(())
}
