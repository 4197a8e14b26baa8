//! `lore add`: files, folders and web pages into the library, with progress.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Result;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use lore_index::{AddEvent, ItemOutcome};

use crate::cli::AddArgs;
use crate::context::Context;
use crate::output;
use crate::output::{outln, plural};

/// The progress bar's message while a scanned page is read by OCR.
pub(crate) fn ocr_message(path: &std::path::Path, page: &lore_ingest::OcrProgress) -> String {
    let cached = if page.cached { " (done before)" } else { "" };
    format!("{}: OCR page {}/{}{cached}", item_name(path), page.done, page.total)
}

/// Without a terminal, OCR progress is a line on stderr for the first page read, every tenth
/// and the last (with `--quiet`, none).
pub(crate) fn ocr_line(path: &std::path::Path, page: &lore_ingest::OcrProgress) {
    if page.done == 1 || page.done.is_multiple_of(10) || page.done == page.total {
        let cached = if page.cached { ", its text read before" } else { "" };
        output::info_line(&format!(
            "{}: OCR page {} ({} of {} scanned pages{cached})",
            path.display(),
            page.page,
            page.done,
            page.total
        ));
    }
}

/// Runs `lore add`.
pub fn run(ctx: &Context, args: AddArgs) -> Result<ExitCode> {
    let started = Instant::now();
    // Arguments that look like addresses (`scheme://…`) are fetched; the rest are paths. Each is
    // checked before the library is opened: a path that does not exist, or an address that is
    // not a web page, gets one line at once, and the rest go on.
    let (urls, paths): (Vec<_>, Vec<_>) = args.paths.iter().partition(|p| is_address(p));
    let mut refused: Vec<String> = Vec::new();
    let mut refuse = |line: String| {
        output::error_line(&line);
        refused.push(line);
    };
    let urls: Vec<String> = urls
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .filter(|u| match lore_ingest::web::parse_web_url(u) {
            Ok(_) => true,
            Err(e) => {
                refuse(e.to_string());
                false
            }
        })
        .collect();
    let paths: Vec<std::path::PathBuf> = paths
        .into_iter()
        .filter(|p| match std::fs::metadata(p) {
            Ok(_) => true,
            Err(e) => {
                refuse(format!("{}: cannot read: {}", p.display(), path_error(&e)));
                false
            }
        })
        .cloned()
        .collect();
    if urls.is_empty() && paths.is_empty() {
        // Nothing to add: the library is not opened (nor created).
        if args.json {
            output::print_json(&lore_index::AddReport { failed: refused, ..Default::default() })?;
        }
        return Ok(ExitCode::from(1));
    }
    // A new library's embedding model is chosen from what its first documents are written in.
    if let Some(choice) = ctx.choose_model_for_sources(&paths)
        && (choice.model.is_some() || choice.multilingual_missing)
        && !args.json
    {
        let model = choice.model.as_deref().unwrap_or("all-MiniLM-L6-v2");
        output::note_line(&format!(
            "embedding model {model}: {} (set embedding.model to choose another)",
            choice.reason
        ));
    }
    let mut lib = ctx.writer(Duration::from_secs(args.wait))?;
    let uncovered_before: u64 = lore_index::uncovered_languages(&lib)?.iter().map(|(_, n)| n).sum();
    if ctx.tokenizer_file().is_none() {
        output::warn_line(
            "the embedding model's tokenizer is not installed; chunk sizes are estimated (run scripts/setup.sh)",
        );
    }
    let bar = ProgressBar::hidden();
    let mut bar_on = false;
    let mut on_event = |ev: AddEvent<'_>| match ev {
        AddEvent::Planned { total, .. } => {
            if bar_on {
                bar.inc_length(total as u64);
            } else if total > 1 && output::stderr_is_tty() {
                bar.set_draw_target(ProgressDrawTarget::stderr());
                bar.set_length(total as u64);
                bar.set_style(bar_style());
                bar_on = true;
            }
        }
        AddEvent::Started { path, .. } => bar.set_message(item_name(path)),
        AddEvent::Vectors { done, total } => {
            // A single large file shows its own progress too.
            if !bar_on && total > 128 && output::stderr_is_tty() {
                bar.set_draw_target(ProgressDrawTarget::stderr());
                bar.set_length(1);
                bar.set_position(1);
                bar.set_style(bar_style());
                bar_on = true;
            }
            bar.set_message(format!("embedding {done}/{total} chunks (searchable by keywords meanwhile)"));
        }
        AddEvent::Ocr { path, page, .. } => {
            // A scanned book is read by OCR page by page, slowly: it shows its own progress.
            if !bar_on && output::stderr_is_tty() {
                bar.set_draw_target(ProgressDrawTarget::stderr());
                bar.set_length(1);
                bar.set_style(bar_style());
                bar_on = true;
            }
            if bar_on {
                bar.set_message(ocr_message(path, &page));
            } else {
                ocr_line(path, &page);
            }
        }
        AddEvent::Finished { outcome, .. } => {
            if let ItemOutcome::Failed { message, .. } = outcome {
                bar.suspend(|| output::error_line(message));
            }
            bar.inc(1);
        }
    };
    let mut report = if paths.is_empty() {
        lore_index::AddReport::default()
    } else {
        lib.add_paths(&paths, &args.tags, &mut on_event)?
    };
    if !urls.is_empty() {
        let fetcher = ctx.fetcher()?;
        let runtime = crate::context::web_runtime()?;
        let web = runtime.block_on(lib.add_urls(&fetcher, &urls, &args.tags, &mut on_event))?;
        merge(&mut report, web);
    }
    if bar_on {
        bar.finish_and_clear();
    }
    report.failed.splice(0..0, refused);
    let uncovered = lore_index::uncovered_languages(&lib)?;
    if uncovered.iter().map(|(_, n)| n).sum::<u64>() > uncovered_before && !args.json {
        let names: Vec<&str> = uncovered.iter().map(|(l, _)| l.as_str()).collect();
        output::note_line(&format!(
            "text in {} is searched by keywords only with this library's embedding model; `lore reindex --model {}` \
             gives it vector search and questions across languages",
            names.join(", "),
            lore_index::MULTILINGUAL_MODEL
        ));
    }
    if args.json {
        output::print_json(&report)?;
    } else {
        print_summary(&report, started.elapsed())?;
    }
    let done = report.added + report.updated + report.unchanged + report.same_content.len();
    super::optimize::start_in_background_if_needed(ctx, lib, args.json);
    // Exit non-zero only when nothing could be added.
    Ok(if done == 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Why a path given to `add` cannot be read, in a few words.
fn path_error(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or folder".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// Whether an argument is a web address rather than a path: it has a URL scheme.
fn is_address(p: &std::path::Path) -> bool {
    let s = p.to_string_lossy();
    match s.split_once("://") {
        Some((scheme, _)) => {
            !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }
        None => false,
    }
}

/// A file's name, or a URL as given.
fn item_name(path: &std::path::Path) -> String {
    if is_address(path) {
        return path.to_string_lossy().into_owned();
    }
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn merge(into: &mut lore_index::AddReport, from: lore_index::AddReport) {
    into.added += from.added;
    into.updated += from.updated;
    into.unchanged += from.unchanged;
    into.chunks += from.chunks;
    into.failed.extend(from.failed);
    into.same_content.extend(from.same_content);
}

/// The progress bar of `add` and `sync`: files done of all, elapsed time, the current file.
pub(super) fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} files {elapsed} {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

fn print_summary(r: &lore_index::AddReport, elapsed: Duration) -> Result<(), output::OutputError> {
    if r.added + r.updated == 0 && r.unchanged > 0 {
        let failed = if r.failed.is_empty() { String::new() } else { format!("; {} failed", r.failed.len()) };
        outln!(
            "Nothing new: {} document{} already in the library, unchanged{failed}.",
            r.unchanged,
            plural(r.unchanged)
        )?;
    } else {
        outln!(
            "Added {} document{} ({} chunks), updated {}, unchanged {}, failed {} in {:.1}s.",
            r.added,
            plural(r.added),
            r.chunks,
            r.updated,
            r.unchanged,
            r.failed.len(),
            elapsed.as_secs_f64()
        )?;
    }
    for line in &r.same_content {
        outln!("Kept once: {line}.")?;
    }
    if !r.skipped_unsupported.is_empty() || r.skipped_hidden > 0 {
        let mut exts: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
        for p in &r.skipped_unsupported {
            let ext = std::path::Path::new(p)
                .extension()
                .map(|e| format!(".{}", e.to_string_lossy()))
                .unwrap_or_else(|| "no extension".into());
            *exts.entry(ext).or_default() += 1;
        }
        let detail: Vec<String> = exts.iter().map(|(e, n)| format!("{n} {e}")).collect();
        outln!(
            "Skipped {} file{} of unsupported types{}{}.",
            r.skipped_unsupported.len(),
            plural(r.skipped_unsupported.len()),
            if detail.is_empty() { String::new() } else { format!(" ({})", detail.join(", ")) },
            if r.skipped_hidden > 0 { format!(" and {} hidden", r.skipped_hidden) } else { String::new() }
        )?;
    }
    Ok(())
}
