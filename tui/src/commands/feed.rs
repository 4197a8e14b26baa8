//! `lore feed`: subscribe to news feeds, list them, unsubscribe, and refresh them for new items.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use lore_index::catalog::{Feed, FeedSettings};
use lore_index::{FeedEvent, FeedReport, ItemOutcome, Library, RefreshReport};

use crate::cli::{FeedAddArgs, FeedArgs, FeedCommand, FeedLsArgs, FeedRefreshArgs, FeedRmArgs};
use crate::context::{Context, web_runtime};
use crate::output::{self, cell, print_json};
use crate::output::{OutputError, outln};

/// Runs `lore feed …`.
pub fn run(ctx: &Context, args: FeedArgs) -> Result<ExitCode> {
    match args.command {
        FeedCommand::Add(a) => add(ctx, a),
        FeedCommand::Ls(a) => ls(ctx, a),
        FeedCommand::Rm(a) => rm(ctx, a),
        FeedCommand::Refresh(a) => refresh(ctx, a),
    }
}

fn add(ctx: &Context, args: FeedAddArgs) -> Result<ExitCode> {
    let settings = FeedSettings {
        tags: args.tags.clone(),
        full_text: args.full_text.parse().map_err(anyhow::Error::msg)?,
        keep_items: args.keep,
        keep_days: args.keep_days,
    };
    let mut lib = ctx.writer(Duration::from_secs(args.wait))?;
    let mut feeds = Vec::new();
    let mut refused = 0;
    for url in &args.urls {
        match lib.subscribe(url, &settings) {
            Ok((feed, created)) => {
                if !args.json {
                    let what = if created { "Subscribed to" } else { "Updated the subscription to" };
                    outln!("{what} {} (feed {}).", feed.url, feed.id)?;
                }
                feeds.push(feed);
            }
            Err(e) => {
                output::error_line(&e.to_string());
                refused += 1;
            }
        }
    }
    if feeds.is_empty() {
        return Ok(ExitCode::from(1));
    }
    if args.no_refresh {
        return Ok(if refused > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS });
    }
    let report = run_refresh(ctx, &mut lib, &feeds, args.json)?;
    Ok(exit_code(&report, refused))
}

fn ls(ctx: &Context, args: FeedLsArgs) -> Result<ExitCode> {
    let feeds = match Library::open_reader(&ctx.paths.home, None) {
        Ok(lib) => lib.catalog().feeds()?,
        Err(lore_index::Error::NoLibrary(_)) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    if args.json {
        print_json(&feeds)?;
        return Ok(ExitCode::SUCCESS);
    }
    if feeds.is_empty() {
        outln!("No feeds yet: `lore feed add URL` subscribes to an RSS, Atom or JSON feed.")?;
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "{} {} {} {} {} LAST FETCH",
        cell("ID", 4),
        cell("FEED", 44),
        cell("ITEMS", 6),
        cell("UNREAD", 7),
        cell("NEW", 4)
    )?;
    for f in &feeds {
        outln!(
            "{} {} {} {} {} {}",
            cell(&f.id.to_string(), 4),
            cell(f.display_name(), 44),
            cell(&f.items.to_string(), 6),
            cell(&f.unread.to_string(), 7),
            cell(&f.new.to_string(), 4),
            last_fetch(f)
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// When a feed was last fetched and how it went, in a few words.
pub(crate) fn last_fetch(f: &Feed) -> String {
    let Some(at) = f.last_fetch_at.as_deref() else { return "never".into() };
    let at = at.replace('T', " ").trim_end_matches('Z').to_string();
    match (f.last_status.as_deref(), f.last_error.as_deref()) {
        (Some("error"), Some(e)) => format!("{at} failed: {}", output::truncate(e, 80)),
        (Some("not-modified"), _) => format!("{at} not modified"),
        _ => format!("{at} ok"),
    }
}

fn rm(ctx: &Context, args: FeedRmArgs) -> Result<ExitCode> {
    let mut lib = ctx.writer(Duration::from_secs(args.wait))?;
    let feeds = resolve(&lib, &args.feeds)?;
    for feed in feeds {
        let removed = lib.unsubscribe(&feed, args.keep_items)?;
        if args.keep_items {
            outln!(
                "Unsubscribed from {}; its {} items stay in the library.",
                feed.display_name(),
                feed.items
            )?;
        } else {
            outln!("Unsubscribed from {} and removed {removed} of its items.", feed.display_name())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn refresh(ctx: &Context, args: FeedRefreshArgs) -> Result<ExitCode> {
    let mut lib = ctx.writer(Duration::from_secs(args.wait))?;
    let feeds = if args.feeds.is_empty() { lib.catalog().feeds()? } else { resolve(&lib, &args.feeds)? };
    if feeds.is_empty() {
        if args.json {
            print_json(&RefreshReport::default())?;
        } else {
            outln!("No feeds yet: `lore feed add URL` subscribes to an RSS, Atom or JSON feed.")?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let report = run_refresh(ctx, &mut lib, &feeds, args.json)?;
    Ok(exit_code(&report, 0))
}

/// Feeds matching each spec; a spec matching none is an error, as is one matching several.
fn resolve(lib: &Library, specs: &[String]) -> Result<Vec<Feed>> {
    let mut out: Vec<Feed> = Vec::new();
    for spec in specs {
        let found = lib.catalog().find_feeds(spec)?;
        match found.len() {
            0 => bail!("no feed matches {spec:?} (`lore feed ls` lists them)"),
            1 => {
                if !out.iter().any(|f| f.id == found[0].id) {
                    out.extend(found);
                }
            }
            n => {
                let names: Vec<String> =
                    found.iter().map(|f| format!("{} {}", f.id, f.display_name())).collect();
                bail!("{spec:?} matches {n} feeds ({}); name one by id", names.join("; "))
            }
        }
    }
    Ok(out)
}

/// Refreshes `feeds` with a progress bar, prints a line per feed and the totals (or JSON).
fn run_refresh(ctx: &Context, lib: &mut Library, feeds: &[Feed], json: bool) -> Result<RefreshReport> {
    let started = Instant::now();
    let fetcher = ctx.fetcher()?;
    let bar = ProgressBar::hidden();
    if feeds.len() > 1 && output::stderr_is_tty() && !json {
        bar.set_draw_target(ProgressDrawTarget::stderr());
        bar.set_length(feeds.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} feeds {elapsed} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
    }
    let mut on_event = |ev: FeedEvent<'_>| match ev {
        FeedEvent::Planned { .. } => {}
        FeedEvent::Fetched { feed, changed, .. } => {
            bar.set_message(format!("{}: {changed} new or changed", feed.display_name()));
        }
        FeedEvent::Item { feed, outcome } => {
            if let ItemOutcome::Failed { message, .. } = outcome {
                bar.suspend(|| output::error_line(message));
            } else {
                bar.set_message(feed.display_name().to_string());
            }
        }
        FeedEvent::Done { report } => {
            if !json {
                // Should stdout be closed, the refresh still completes; its last line says so.
                let _ = bar.suspend(|| print_feed(report));
            }
            bar.inc(1);
        }
    };
    let runtime = web_runtime()?;
    let report = runtime.block_on(lib.refresh_feeds(&fetcher, feeds, &mut on_event))?;
    bar.finish_and_clear();
    if json {
        print_json(&report)?;
    } else {
        let feeds_n = report.feeds.len();
        outln!(
            "Refreshed {feeds_n} feed{} in {:.1}s: {} new, {} updated, {} item{} failed, {} feed{} failed.",
            if feeds_n == 1 { "" } else { "s" },
            started.elapsed().as_secs_f64(),
            report.added,
            report.updated,
            report.failed_items,
            if report.failed_items == 1 { "" } else { "s" },
            report.failed_feeds,
            if report.failed_feeds == 1 { "" } else { "s" },
        )?;
    }
    Ok(report)
}

fn print_feed(r: &FeedReport) -> Result<(), OutputError> {
    let name = r.title.as_deref().filter(|t| !t.trim().is_empty()).unwrap_or(&r.url);
    match r.status.as_str() {
        "error" => output::error_line(r.error.as_deref().unwrap_or("failed")),
        "not-modified" => outln!("{name}: not modified since the last fetch")?,
        _ => {
            let mut line = format!(
                "{name}: {} new, {} updated, {} unchanged of {} items",
                r.added, r.updated, r.unchanged, r.listed
            );
            if r.expired > 0 {
                line.push_str(&format!(", {} expired", r.expired));
            }
            outln!("{line}")?;
        }
    }
    for w in &r.warnings {
        output::warn_line(w);
    }
    Ok(())
}

/// Non-zero when every feed failed or a subscription was refused.
fn exit_code(report: &RefreshReport, refused: usize) -> ExitCode {
    let all_failed = !report.feeds.is_empty() && report.failed_feeds == report.feeds.len();
    if all_failed || refused > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS }
}
