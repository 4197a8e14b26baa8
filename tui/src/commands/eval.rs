//! `lore eval`: retrieval quality on a BEIR-layout data set, through the real ingest, index and
//! search path, in a temporary library.

use std::collections::HashSet;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use lore_index::eval::{Dataset, Metrics};
use lore_index::{Library, LibraryOptions, Mode, SearchHit, SearchRequest};
use lore_ingest::{Document, Kind, Section};
use serde::Serialize;

use super::Context;
use crate::cli::EvalArgs;
use crate::output::outln;
use crate::output::print_json;

#[derive(Debug, Serialize)]
struct ModeResult {
    mode: &'static str,
    #[serde(flatten)]
    metrics: Metrics,
    p50_ms: f64,
    p95_ms: f64,
}

#[derive(Debug, Serialize)]
struct EvalReport {
    dataset: String,
    documents: usize,
    queries: usize,
    chunks: usize,
    index_seconds: f64,
    chunks_per_second: f64,
    modes: Vec<ModeResult>,
    answers: ContextResult,
}

/// How well `ask` would be served: the passages handed to the chat model (the ask defaults and
/// the configured context window) hold a relevant document for this share of the queries.
#[derive(Debug, Serialize)]
struct ContextResult {
    context_recall: f64,
    /// Queries given no passages at all (nothing similar enough to the question).
    no_sources: Vec<String>,
    passages_mean: f64,
    tokens_mean: f64,
    budget_tokens: usize,
}

/// Runs the agent's retrieval for every query and checks its passages against the judgements.
fn answer_context(
    ctx: &Context,
    lib: &Library,
    ds: &Dataset,
    cfg: &lore_index::SearchConfig,
) -> Result<ContextResult> {
    let mut hit = 0usize;
    let (mut passages, mut tokens) = (0usize, 0usize);
    let mut budget = 0;
    let mut no_sources = Vec::new();
    for q in &ds.queries {
        let mut rcfg = super::ask::retrieve_config(ctx, None, Default::default())?;
        let llm = &ctx.config.llm;
        rcfg.budget_tokens = lore_agent::answer::passage_budget(
            llm.context_window,
            llm.max_answer_tokens as usize,
            0,
            &q.text,
            rcfg.budget_tokens,
        );
        budget = rcfg.budget_tokens;
        let found = lore_agent::retrieve::retrieve(lib, cfg, &q.text, &rcfg)?;
        passages += found.len();
        if found.is_empty() {
            no_sources.push(q.text.clone());
        }
        tokens += found.iter().map(|p| p.tokens).sum::<usize>();
        let judged = ds.qrels.get(&q.id);
        if found.iter().any(|p| {
            let id = p.source.strip_prefix("beir:").unwrap_or(&p.source);
            judged.and_then(|j| j.get(id)).is_some_and(|g| *g > 0)
        }) {
            hit += 1;
        }
    }
    let n = ds.queries.len().max(1) as f64;
    Ok(ContextResult {
        context_recall: hit as f64 / n,
        no_sources,
        passages_mean: passages as f64 / n,
        tokens_mean: tokens as f64 / n,
        budget_tokens: budget,
    })
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// The ranked corpus ids of a search, one per document.
fn ranked_ids(lib: &Library, cfg: &lore_index::SearchConfig, query: &str, mode: Mode) -> Result<Vec<String>> {
    Ok(corpus_ids(&ranked_hits(lib, cfg, query, mode)?))
}

/// The 100 best chunks of a search.
fn ranked_hits(
    lib: &Library,
    cfg: &lore_index::SearchConfig,
    query: &str,
    mode: Mode,
) -> Result<Vec<SearchHit>> {
    let req = SearchRequest { query: query.to_string(), k: 100, mode, filter: Default::default() };
    Ok(lib.search(cfg, &req)?)
}

/// The corpus ids of ranked hits, one per document.
fn corpus_ids(hits: &[SearchHit]) -> Vec<String> {
    let mut seen = HashSet::new();
    hits.iter()
        .filter_map(|h| h.source.strip_prefix("beir:").map(str::to_string))
        .filter(|id| seen.insert(id.clone()))
        .collect()
}

/// Hybrid search quality over a grid of fusion settings.
fn sweep(lib: &Library, ds: &Dataset, base: &lore_index::SearchConfig) -> Result<()> {
    use lore_index::fusion::{FusionConfig, FusionMethod};
    let mut grid = Vec::new();
    for kw in [1.0, 0.7, 0.5, 0.3] {
        for k in [60.0, 20.0] {
            grid.push(FusionConfig {
                method: FusionMethod::Rrf,
                keyword_weight: kw,
                rrf_k: k,
                ..base.fusion
            });
        }
    }
    for alpha in [0.5, 0.6, 0.7, 0.8, 0.9] {
        grid.push(FusionConfig { method: FusionMethod::Convex, alpha, ..base.fusion });
    }
    for fusion in grid {
        let cfg = lore_index::SearchConfig { fusion, ..base.clone() };
        let mut all = Vec::new();
        for q in &ds.queries {
            let ranked = ranked_ids(lib, &cfg, &q.text, Mode::Hybrid)?;
            if let Some(judged) = ds.qrels.get(&q.id) {
                all.push(Metrics::of(&ranked, judged));
            }
        }
        let m = Metrics::mean(&all);
        outln!(
            "sweep {:?} alpha {:.1} kw {:.1} k {:>3}: nDCG@10 {:.3} R@10 {:.3} MRR@10 {:.3}",
            fusion.method,
            fusion.alpha,
            fusion.keyword_weight,
            fusion.rrf_k,
            m.ndcg10,
            m.recall10,
            m.mrr10
        )?;
    }
    Ok(())
}

/// Runs `lore eval`.
pub fn run(ctx: &Context, args: EvalArgs) -> Result<ExitCode> {
    let modes: Vec<Mode> = match args.mode.as_str() {
        "all" => Mode::ALL.to_vec(),
        m => vec![m.parse().map_err(anyhow::Error::msg)?],
    };
    let ds = Dataset::load(&args.dir)?;
    if ds.queries.is_empty() {
        bail!("{} has no judged queries", args.dir.display());
    }
    let tmp = tempfile::tempdir()?;
    let home = args.library.as_deref().unwrap_or(tmp.path());
    let ing = &ctx.config.ingest;
    let options = LibraryOptions {
        chunk: lore_ingest::ChunkConfig {
            target_tokens: ing.chunk_tokens,
            overlap_tokens: ing.chunk_overlap,
        },
        engines: Some(ctx.engine_options()?),
        ..LibraryOptions::default()
    };
    let mut lib = Library::open_writer(home, options)?;
    let started = Instant::now();
    let mut chunks = 0;
    for d in &ds.corpus {
        let text = if d.text.trim().is_empty() { d.title.clone() } else { d.text.clone() };
        let doc = Document {
            source: format!("beir:{}", d.id),
            url: None,
            kind: Kind::Text,
            title: d.title.clone(),
            authors: Vec::new(),
            language: None,
            published: None,
            hash: lore_ingest::hash::content_hash(format!("{}\n{}", d.title, text).as_bytes()),
            byte_len: text.len() as u64,
            page_count: None,
            site: None,
            sections: vec![Section::new(Vec::new(), text)],
        };
        if let lore_index::ItemOutcome::Added { chunks: n, .. } = lib.add_document(&doc, &[], None, None)? {
            chunks += n;
        }
    }
    lib.commit()?;
    let index_seconds = started.elapsed().as_secs_f64();
    let cfg = ctx.config.search.to_search_config()?;
    let mut results = Vec::new();
    let mut runs = match &args.runs {
        Some(path) => Some(std::io::BufWriter::new(std::fs::File::create(path)?)),
        None => None,
    };
    if args.sweep {
        sweep(&lib, &ds, &cfg)?;
    }
    for mode in modes {
        let mut all = Vec::new();
        let mut times = Vec::new();
        for q in &ds.queries {
            let t = Instant::now();
            let hits = ranked_hits(&lib, &cfg, &q.text, mode)?;
            times.push(t.elapsed());
            if let Some(out) = &mut runs {
                use std::io::Write;
                for h in &hits {
                    let id = h.source.strip_prefix("beir:").unwrap_or(&h.source);
                    writeln!(
                        out,
                        "{} Q0 {id}#{} {} {} {}",
                        q.id,
                        h.chunk.id,
                        h.rank,
                        h.score,
                        mode.as_str()
                    )?;
                }
            }
            let ranked = corpus_ids(&hits);
            if let Some(judged) = ds.qrels.get(&q.id) {
                all.push(Metrics::of(&ranked, judged));
            }
        }
        times.sort();
        results.push(ModeResult {
            mode: mode.as_str(),
            metrics: Metrics::mean(&all),
            p50_ms: percentile(&times, 0.5),
            p95_ms: percentile(&times, 0.95),
        });
    }
    if let Some(out) = runs {
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    }
    let answers = answer_context(ctx, &lib, &ds, &cfg)?;
    let report = EvalReport {
        dataset: args.dir.display().to_string(),
        documents: ds.corpus.len(),
        queries: ds.queries.len(),
        chunks,
        index_seconds,
        chunks_per_second: chunks as f64 / index_seconds.max(1e-9),
        modes: results,
        answers,
    };
    if args.json {
        print_json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "{}: {} documents ({} chunks), {} queries",
        report.dataset,
        report.documents,
        report.chunks,
        report.queries
    )?;
    outln!("indexed in {:.1}s ({:.1} chunks/s)", report.index_seconds, report.chunks_per_second)?;
    outln!(
        "{:<8} {:>8} {:>8} {:>9} {:>7} {:>8} {:>8}",
        "mode",
        "nDCG@10",
        "R@10",
        "R@100",
        "MRR@10",
        "p50 ms",
        "p95 ms"
    )?;
    for r in &report.modes {
        outln!(
            "{:<8} {:>8.3} {:>8.3} {:>9.3} {:>7.3} {:>8.1} {:>8.1}",
            r.mode,
            r.metrics.ndcg10,
            r.metrics.recall10,
            r.metrics.recall100,
            r.metrics.mrr10,
            r.p50_ms,
            r.p95_ms
        )?;
    }
    let a = &report.answers;
    outln!(
        "ask: passages hold a relevant document for {:.1}% of queries ({:.1} passages, {:.0} tokens on average; budget {}); {} queries got no passages",
        a.context_recall * 100.0,
        a.passages_mean,
        a.tokens_mean,
        a.budget_tokens,
        a.no_sources.len()
    )?;
    Ok(ExitCode::SUCCESS)
}
