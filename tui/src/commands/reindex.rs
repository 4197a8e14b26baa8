//! `lore reindex`: rebuild tantivy and Qdrant from the catalog alone.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::ReindexArgs;
use crate::context::Context;
use crate::output;
use crate::output::outln;

/// Runs `lore reindex`.
pub fn run(ctx: &Context, args: ReindexArgs) -> Result<ExitCode> {
    let switched;
    let ctx = match &args.model {
        Some(model) => {
            if let Some(configured) = ctx.config.embedding.model.as_deref()
                && configured != model.as_str()
            {
                output::warn_line(&format!(
                    "embedding.model is set to {configured} in the configuration; set it to {model} too, \
                     or later commands will ask for another reindex"
                ));
            }
            let mut config = ctx.config.clone();
            config.embedding.model = Some(model.clone());
            switched = Context::new(config, ctx.paths.clone());
            &switched
        }
        None => ctx,
    };
    let mut lib = ctx.writer(Duration::ZERO)?;
    if let Some(model) = &args.model {
        lib.catalog().meta_set(
            lore_index::META_MODEL_CHOICE,
            &format!("chosen with `lore reindex --model {model}`"),
        )?;
    }
    let bar = ProgressBar::hidden();
    if output::stderr_is_tty() {
        bar.set_draw_target(ProgressDrawTarget::stderr());
        let style =
            ProgressStyle::with_template("reindexing [{bar:30}] {pos}/{len} chunks {elapsed} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
        bar.set_style(style);
    }
    let report = lib.reindex(&mut |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })?;
    bar.finish_and_clear();
    outln!(
        "Reindexed {} documents ({} chunks) in {:.1}s ({:.0} chunks/s).",
        report.documents,
        report.chunks,
        report.seconds,
        report.chunks as f64 / report.seconds.max(1e-9)
    )?;
    if args.optimize {
        let t = std::time::Instant::now();
        lib.optimize()?;
        outln!("Built the vector index in {:.1}s.", t.elapsed().as_secs_f64())?;
    }
    Ok(ExitCode::SUCCESS)
}
