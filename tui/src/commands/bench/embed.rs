//! `lore bench --embed FILE`: lore's embedding throughput inside `lore add` against the bare
//! model on the same chunks.
//!
//! Each round adds FILE to a new library through [`Library::add_paths`], the code `lore add`
//! runs, and reads how many passages the add embedded and for how long ([`passage_stats`]:
//! from the moment lore hands a document's passages to the embedder until their vectors come
//! back, so lore's own work on them, measuring, packing, prefixing, checking and normalising, is
//! in it). Then the bare model ([`Embedder::time_bare_model`]) embeds the same passages: the
//! same fastembed session settings (model file, threads, max length), the same runs, and
//! nothing else. The rounds alternate (lore, bare, lore, bare, ...) so that a change in the
//! machine's load falls on both; the medians are compared.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use lore_index::catalog::ListFilter;
use lore_index::{EmbedStats, EngineOptions, Engines, Library, LibraryOptions, passage_stats};
use lore_ingest::{ChunkConfig, LoadOptions};
use serde::Serialize;

use super::report::status;
use crate::context::Context;
use crate::output::{OutputError, outln};

/// The share of the bare model's throughput lore's embedding must reach inside `lore add`.
pub(super) const TARGET_SHARE: f64 = 0.95;

/// One round: an add, then the bare model on its passages.
#[derive(Debug, Serialize)]
pub(super) struct EmbedRound {
    /// Wall time of the whole add (parsing, chunking, embedding, writing).
    pub(super) add_s: f64,
    /// What the add embedded.
    pub(super) lore: EmbedStats,
    /// Passages per second of lore's embedding inside the add.
    pub(super) lore_passages_per_s: f64,
    /// Seconds of the bare model on the same passages.
    pub(super) bare_s: f64,
    /// Passages per second of the bare model.
    pub(super) bare_passages_per_s: f64,
}

/// The comparison.
#[derive(Debug, Serialize)]
pub(super) struct EmbedReport {
    pub(super) file: String,
    pub(super) model: String,
    /// ONNX Runtime intra-op threads (`embedding.threads`, else every core).
    pub(super) threads: usize,
    /// `embedding.batch_size`.
    pub(super) batch_size: usize,
    pub(super) passages: usize,
    pub(super) rounds: Vec<EmbedRound>,
    pub(super) lore_passages_per_s: f64,
    pub(super) bare_passages_per_s: f64,
    /// lore's median over the bare model's.
    pub(super) share: f64,
    pub(super) target_share: f64,
    pub(super) met: bool,
}

/// Runs `rounds` rounds on `file` in libraries made under `work`.
pub(super) fn compare(ctx: &Context, file: &Path, rounds: usize, work: &Path) -> Result<EmbedReport> {
    if !file.is_file() {
        bail!("{} is not a file", file.display());
    }
    let engine_options = ctx.engine_options()?;
    let ing = &ctx.config.ingest;
    let chunk = ChunkConfig { target_tokens: ing.chunk_tokens, overlap_tokens: ing.chunk_overlap };
    let load = ing.load_options();
    status("loading the embedding model for the bare runs");
    let bare_model = Engines::embedder(&engine_options)?;
    let mut texts: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for round in 0..rounds.max(1) {
        status(&format!("round {}: lore add {}", round + 1, file.display()));
        let home = work.join(format!("embed-{round}"));
        std::fs::create_dir_all(&home)?;
        let (add_s, lore, chunk_texts) =
            timed_add(&home, file, &engine_options, chunk.clone(), load.clone())?;
        if lore.passages == 0 {
            bail!("{} gave no passages to embed", file.display());
        }
        if texts.is_empty() {
            texts = chunk_texts;
        }
        status(&format!("round {}: the bare model on the same {} passages", round + 1, texts.len()));
        let bare = bare_model.time_bare_model(&texts)?;
        out.push(EmbedRound {
            add_s,
            lore_passages_per_s: lore.passages_per_s(),
            lore,
            bare_s: bare.as_secs_f64(),
            bare_passages_per_s: per_s(texts.len(), bare),
        });
        // Each round's library is removed before the next, so the disk holds one at a time.
        std::fs::remove_dir_all(&home).ok();
    }
    let lore_pps = median(out.iter().map(|r| r.lore_passages_per_s).collect());
    let bare_pps = median(out.iter().map(|r| r.bare_passages_per_s).collect());
    let share = if bare_pps > 0.0 { lore_pps / bare_pps } else { 0.0 };
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    Ok(EmbedReport {
        file: file.display().to_string(),
        model: bare_model.model_name().to_string(),
        threads: engine_options.embed.threads.unwrap_or(cores),
        batch_size: bare_model.batch_size(),
        passages: texts.len(),
        rounds: out,
        lore_passages_per_s: lore_pps,
        bare_passages_per_s: bare_pps,
        share,
        target_share: TARGET_SHARE,
        met: share >= TARGET_SHARE,
    })
}

/// Adds `file` to a new library at `home` as `lore add` does: the add's wall time, what it
/// embedded, and the passage texts of its chunks (as they were embedded).
fn timed_add(
    home: &Path,
    file: &Path,
    engine_options: &EngineOptions,
    chunk: ChunkConfig,
    load: LoadOptions,
) -> Result<(f64, EmbedStats, Vec<String>)> {
    let options = LibraryOptions {
        load,
        chunk,
        tokenizer: None,
        lock_wait: Duration::ZERO,
        engines: Some(engine_options.clone()),
    };
    let mut lib = Library::open_writer(home, options)?;
    let before = passage_stats();
    let start = Instant::now();
    let report = lib.add_paths(&[PathBuf::from(file)], &[], &mut |_| {})?;
    let add_s = start.elapsed().as_secs_f64();
    let lore = passage_stats().since(&before);
    if let Some(failed) = report.failed.first() {
        bail!("lore add failed: {failed}");
    }
    let mut texts = Vec::new();
    for doc in lib.catalog().list(&ListFilter::default())? {
        let chunks = lib.catalog().chunks_of(doc.id, 0, usize::MAX >> 1)?;
        texts.extend(
            chunks.iter().map(|c| Engines::passage_text(engine_options.passage_context, &doc.title, c)),
        );
    }
    Ok((add_s, lore, texts))
}

fn per_s(n: usize, d: Duration) -> f64 {
    let s = d.as_secs_f64();
    if s > 0.0 { n as f64 / s } else { 0.0 }
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

/// Prints the comparison as a short table.
pub(super) fn print(r: &EmbedReport) -> Result<(), OutputError> {
    outln!("embedding throughput: lore add vs the bare model, {}", r.file)?;
    outln!(
        "  {} passages, model {}, {} thread(s), batch size {}",
        r.passages,
        r.model,
        r.threads,
        r.batch_size
    )?;
    outln!("  round   add s   lore passages/s   bare passages/s   lore/bare")?;
    for (i, round) in r.rounds.iter().enumerate() {
        let share = if round.bare_passages_per_s > 0.0 {
            round.lore_passages_per_s / round.bare_passages_per_s
        } else {
            0.0
        };
        outln!(
            "  {:>5} {:>7.1} {:>17.2} {:>17.2} {:>10.1}%",
            i + 1,
            round.add_s,
            round.lore_passages_per_s,
            round.bare_passages_per_s,
            share * 100.0
        )?;
    }
    outln!(
        "  median        {:>17.2} {:>17.2} {:>10.1}%   target >= {:.0}%: {}",
        r.lore_passages_per_s,
        r.bare_passages_per_s,
        r.share * 100.0,
        r.target_share * 100.0,
        if r.met { "met" } else { "missed" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(Vec::new()), 0.0);
    }

    #[test]
    fn rates_of_zero_time_are_zero() {
        assert_eq!(per_s(10, Duration::ZERO), 0.0);
        assert_eq!(per_s(10, Duration::from_secs(2)), 5.0);
    }
}
