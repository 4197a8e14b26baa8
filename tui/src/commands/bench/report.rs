//! What `lore bench` reports: the figures gathered at each library size, the targets
//! judged against them, the report printed as a table (or as JSON by the caller), and the
//! progress shown on stderr while it runs.

use std::io::Write;
use std::time::{Duration, Instant};

use lore_index::bench::{GrowFigures, IngestFigures, LatencyFigures};
use serde::{Deserialize, Serialize};

use super::Plan;
use crate::output::{OutputError, out, outln};

/// The size the first targets are stated at.
const TARGET_CHUNKS: usize = 100_000;
/// The size the targets of a library ten times larger are stated at.
const LARGE_CHUNKS: usize = 1_000_000;

/// Ingest figures with the rates derived from them.
#[derive(Debug, Serialize)]
pub(super) struct IngestReport {
    pub(super) folder: String,
    #[serde(flatten)]
    pub(super) figures: IngestFigures,
    pub(super) docs_per_s: f64,
    pub(super) chunks_per_s: f64,
    pub(super) mb_per_s: f64,
    pub(super) embed_share: f64,
}

/// The search child's figures for each question's first search in the process (hybrid mode),
/// timed before any other search.
pub(super) const FIRST_PASS: &str = "hybrid-first";

/// What the search child prints.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct SearchChild {
    /// Opening the library (catalog, model, indexes), in milliseconds.
    pub(super) open_ms: f64,
    /// The first search of the process (hybrid), before any other, in milliseconds.
    #[serde(default)]
    pub(super) first_query_ms: Option<f64>,
    /// Each question's first search ([`FIRST_PASS`]), one entry per mode, then the query
    /// embedding alone.
    pub(super) searches: Vec<LatencyFigures>,
    /// Peak resident memory of the process (VmHWM), in bytes.
    pub(super) peak_rss_bytes: Option<u64>,
    /// Resident memory at the end, in bytes.
    pub(super) rss_bytes: Option<u64>,
}

/// Medians of spawned start-ups, in milliseconds.
#[derive(Debug, Default, Serialize)]
pub(super) struct Startup {
    pub(super) runs: usize,
    pub(super) p50_ms: f64,
    pub(super) min_ms: f64,
    pub(super) max_ms: f64,
}

impl Startup {
    pub(super) fn of(samples: &[f64]) -> Startup {
        let f = LatencyFigures::of("", samples, 0);
        let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
        Startup {
            runs: f.runs,
            p50_ms: f.p50_ms,
            min_ms: if min.is_finite() { min } else { 0.0 },
            max_ms: f.max_ms,
        }
    }
}

/// The terminal UI's start-up: wall time of a run that quits after its first frame, and the
/// figures the UI records of itself (from its launch).
#[derive(Debug, Default, Serialize)]
pub(super) struct TuiStartup {
    pub(super) runs: usize,
    /// Spawn to exit of a UI that quits right after drawing its first frame.
    pub(super) first_frame_wall_p50_ms: f64,
    /// Launch to the first frame, as the UI measures it.
    pub(super) first_frame_p50_ms: f64,
    /// Launch to the library listed.
    pub(super) library_listed_p50_ms: f64,
    /// Launch to the engine (model and indexes) ready to search.
    pub(super) engine_ready_p50_ms: f64,
    /// Why it was not measured.
    pub(super) skipped: Option<String>,
}

/// Everything measured at one library size.
#[derive(Debug, Serialize)]
pub(super) struct SizeReport {
    pub(super) chunks: usize,
    pub(super) documents: usize,
    pub(super) build: GrowFigures,
    /// Vectors searched by brute force before any optimisation.
    pub(super) unindexed_vectors: u64,
    /// Seconds the HNSW build took, when the library was large enough for `lore add` to start it;
    /// on a Qdrant server, the seconds waited for the server's own build (its optimizer).
    pub(super) optimize_s: Option<f64>,
    pub(super) search_open_ms: f64,
    /// The first search of a new process, after it opened the library.
    pub(super) first_query_ms: Option<f64>,
    pub(super) searches: Vec<LatencyFigures>,
    pub(super) search_peak_rss_mb: Option<f64>,
    pub(super) ls: Startup,
    pub(super) tui: TuiStartup,
}

/// Chunks added to the largest library after its figures: what `lore add` writes (no index
/// build below `qdrant.optimize_after`), searches then, and the index update of a later
/// `lore optimize` beside the full build.
#[derive(Debug, Serialize)]
pub(super) struct Increment {
    /// Chunks added.
    pub(super) chunks: usize,
    /// Chunks in the library after.
    pub(super) library_chunks: usize,
    /// Seconds writing them took (catalog, tantivy, vector store; as `lore add` after embedding).
    pub(super) write_s: f64,
    /// Vectors outside the HNSW index after the write (searched exactly).
    pub(super) unindexed_vectors: u64,
    /// Whether `lore add` would start an index build after this write.
    pub(super) builds_index: bool,
    /// Hybrid searches of a new process after the write.
    pub(super) hybrid: Option<LatencyFigures>,
    /// Seconds the index update of `lore optimize` took after the write.
    pub(super) update_s: f64,
    /// Seconds the full HNSW build of the library took, when it was built.
    pub(super) full_build_s: Option<f64>,
}

/// The overhead of `ask`.
#[derive(Debug, Default, Serialize)]
pub(super) struct AskReport {
    /// Library size it was measured on.
    pub(super) chunks: usize,
    /// Question to passages ready (rewrite and retrieval), without a chat model.
    pub(super) retrieval: Option<LatencyFigures>,
    /// The chat model's base URL and name.
    pub(super) model: Option<String>,
    /// Question to the chat request leaving.
    pub(super) request_sent: Option<LatencyFigures>,
    /// Question to the first token of the answer.
    pub(super) first_token: Option<LatencyFigures>,
    /// Why the chat model figures are missing.
    pub(super) skipped: Option<String>,
}

/// One target of the issue and whether it is met.
#[derive(Debug, Serialize)]
pub(super) struct Target {
    pub(super) what: String,
    pub(super) limit: String,
    pub(super) value: Option<f64>,
    unit: &'static str,
    pub(super) met: Option<bool>,
}

/// The whole report.
#[derive(Debug, Serialize)]
pub(super) struct Report {
    pub(super) build: &'static str,
    /// Where the vectors were kept: the embedded store or a Qdrant server (its URL, credentials
    /// hidden, and collection).
    pub(super) vectors: String,
    pub(super) cores: usize,
    pub(super) model: String,
    pub(super) plan: Plan,
    pub(super) questions: usize,
    pub(super) ingest: IngestReport,
    pub(super) sizes: Vec<SizeReport>,
    pub(super) increment: Option<Increment>,
    pub(super) ask: AskReport,
    pub(super) bench_peak_rss_mb: Option<f64>,
    pub(super) targets: Vec<Target>,
    pub(super) kept: Option<String>,
}

/// The limits searching is judged by at one library size.
struct SearchLimits {
    p50_ms: f64,
    p95_ms: f64,
    rss_mb: f64,
}

/// The targets: searching at 100,000 chunks (or the largest size measured below a million) and
/// at 1,000,000 chunks when measured, with a new process's first query and the cost of adding
/// chunks there; the overhead of `ask` and the embedding share of ingest.
pub(super) fn targets(r: &Report) -> Vec<Target> {
    let mut out = Vec::new();
    let small = r
        .sizes
        .iter()
        .find(|s| s.chunks == TARGET_CHUNKS)
        .or_else(|| r.sizes.iter().rev().find(|s| s.chunks < LARGE_CHUNKS));
    let large = r.sizes.iter().find(|s| s.chunks >= LARGE_CHUNKS);
    if let Some(at) = small {
        search_targets(&mut out, at, &SearchLimits { p50_ms: 15.0, p95_ms: 40.0, rss_mb: 400.0 });
    }
    if let Some(at) = large {
        search_targets(&mut out, at, &SearchLimits { p50_ms: 20.0, p95_ms: 50.0, rss_mb: 1536.0 });
        out.push(check(
            format!("first search of a new process at {} chunks", at.chunks),
            "<= 100 ms",
            at.first_query_ms,
            "ms",
            &|v| v <= 100.0,
        ));
        if let Some(inc) = &r.increment {
            // Adding to a large library writes a small segment of its own: nothing is rebuilt
            // by the add, and the update a later `lore optimize` makes costs a fraction of the
            // full build.
            out.push(check(
                format!("{} chunks more at {} chunks: add builds no index", inc.chunks, at.chunks),
                "no build",
                Some(if inc.builds_index { 1.0 } else { 0.0 }),
                "builds",
                &|v| v == 0.0,
            ));
            out.push(check(
                "  index update after it, share of the full build".into(),
                "<= 10 %",
                inc.full_build_s.filter(|f| *f > 0.0).map(|f| 100.0 * inc.update_s / f),
                "%",
                &|v| v <= 10.0,
            ));
        }
    }
    out.push(check(
        "ask overhead (question to request sent, p50)".into(),
        "<= 50 ms",
        r.ask.request_sent.as_ref().map(|f| f.p50_ms),
        "ms",
        &|v| v <= 50.0,
    ));
    out.push(check(
        "ingest time inside the embedding model".into(),
        ">= 90 %",
        Some(r.ingest.embed_share * 100.0),
        "%",
        &|v| v >= 90.0,
    ));
    out
}

/// A target judged on `value` (none: not measured).
fn check(
    what: String,
    limit: &str,
    value: Option<f64>,
    unit: &'static str,
    ok: &dyn Fn(f64) -> bool,
) -> Target {
    Target { what, limit: limit.to_string(), value, unit, met: value.map(ok) }
}

/// The search targets at one size: hybrid p50 (all searches, and each question's first), p95,
/// and the searching process's peak RSS.
fn search_targets(out: &mut Vec<Target>, at: &SizeReport, limits: &SearchLimits) {
    let size = at.chunks;
    let hybrid = at.searches.iter().find(|f| f.mode == "hybrid");
    let first = at.searches.iter().find(|f| f.mode == FIRST_PASS);
    let p50 = limits.p50_ms;
    for (what, figures) in [("", hybrid), (", first of each question", first)] {
        out.push(check(
            format!("hybrid search p50 at {size} chunks{what}"),
            &format!("<= {p50:.0} ms"),
            figures.map(|h| h.p50_ms),
            "ms",
            &|v| v <= p50,
        ));
    }
    let p95 = limits.p95_ms;
    out.push(check(
        format!("hybrid search p95 at {size} chunks"),
        &format!("<= {p95:.0} ms"),
        hybrid.map(|h| h.p95_ms),
        "ms",
        &|v| v <= p95,
    ));
    let rss = limits.rss_mb;
    out.push(check(
        format!("peak RSS of the searching process at {size} chunks"),
        &format!("<= {rss:.0} MB"),
        at.search_peak_rss_mb,
        "MB",
        &|v| v <= rss,
    ));
}

pub(super) fn print_report(r: &Report) -> Result<(), OutputError> {
    let i = &r.ingest;
    let f = &i.figures;
    outln!("lore bench: {} build, {} cores, embedding model {}", r.build, r.cores, r.model)?;
    outln!("vectors in: {}", r.vectors)?;
    outln!()?;
    outln!(
        "Ingest of {} ({} of its files): {} documents, {} failed, {} chunks, {:.1} MB",
        i.folder,
        f.files,
        f.documents,
        f.failed,
        f.chunks,
        f.bytes as f64 / 1e6
    )?;
    let share = |s: f64| if f.total_s > 0.0 { 100.0 * s / f.total_s } else { 0.0 };
    outln!("  {:<22}{:>9.2} s", "model load (apart)", f.model_load_s)?;
    outln!("  {:<22}{:>9.2} s {:>6.1} %", "parse", f.parse_s, share(f.parse_s))?;
    outln!("  {:<22}{:>9.2} s {:>6.1} %", "chunk", f.chunk_s, share(f.chunk_s))?;
    outln!("  {:<22}{:>9.2} s {:>6.1} %   inside the embedding model", "embed", f.embed_s, share(f.embed_s))?;
    outln!(
        "  {:<22}{:>9.2} s {:>6.1} %   catalog {:.2} s, tantivy + Qdrant {:.2} s",
        "index",
        f.index_s,
        share(f.index_s),
        f.catalog_s,
        f.engines_s
    )?;
    outln!("  {:<22}{:>9.2} s", "total", f.total_s)?;
    outln!(
        "  {:<22}{:.2} documents/s, {:.1} chunks/s, {:.3} MB/s",
        "throughput",
        i.docs_per_s,
        i.chunks_per_s,
        i.mb_per_s
    )?;
    outln!()?;

    let w = 26;
    out!("{:<24}", "Library size")?;
    for s in &r.sizes {
        out!("{:>w$}", format!("{} chunks", s.chunks))?;
    }
    outln!()?;
    let row = |label: &str, cell: &dyn Fn(&SizeReport) -> String| -> Result<(), OutputError> {
        out!("{label:<24}")?;
        for s in &r.sizes {
            out!("{:>w$}", cell(s))?;
        }
        outln!()
    };
    row("  documents", &|s| s.documents.to_string())?;
    row("  built by copying in", &|s| format!("{:.1} s", s.build.seconds))?;
    row("  HNSW index", &|s| match s.optimize_s {
        Some(t) => format!("built in {t:.1} s"),
        None => format!("none ({} brute force)", s.unindexed_vectors),
    })?;
    row("  search process open", &|s| format!("{:.0} ms", s.search_open_ms))?;
    row("  its first search", &|s| {
        s.first_query_ms.map(|m| format!("{m:.1} ms")).unwrap_or_else(|| "-".into())
    })?;
    outln!(
        "Search latency, p50 / p95 / p99 ms ({} runs per mode after {} warm-up, {} questions, query embedding included)",
        r.plan.runs,
        r.plan.warmup,
        r.questions
    )?;
    for mode in ["keyword", "vector", "hybrid", FIRST_PASS, "embed-query"] {
        let label = match mode {
            "embed-query" => "  (query embedding)".to_string(),
            FIRST_PASS => "  hybrid, first of each".to_string(),
            _ => format!("  {mode}"),
        };
        row(&label, &|s| {
            s.searches
                .iter()
                .find(|f| f.mode == mode)
                .map(|f| format!("{:.1} / {:.1} / {:.1}", f.p50_ms, f.p95_ms, f.p99_ms))
                .unwrap_or_else(|| "-".into())
        })?;
    }
    row("  peak RSS (VmHWM)", &|s| {
        s.search_peak_rss_mb.map(|m| format!("{m:.0} MB")).unwrap_or_else(|| "-".into())
    })?;
    outln!(
        "  (first of each: each question once, before all else; the index pages it reads come from disk unless the page cache holds them)"
    )?;
    outln!("Start-up, median ms")?;
    row("  lore ls", &|s| format!("{:.0}", s.ls.p50_ms))?;
    row("  TUI first frame (wall)", &|s| tui_cell(&s.tui, s.tui.first_frame_wall_p50_ms))?;
    row("  TUI first frame (own)", &|s| tui_cell(&s.tui, s.tui.first_frame_p50_ms))?;
    row("  TUI library listed", &|s| tui_cell(&s.tui, s.tui.library_listed_p50_ms))?;
    row("  TUI engine ready", &|s| tui_cell(&s.tui, s.tui.engine_ready_p50_ms))?;
    for s in &r.sizes {
        if let Some(why) = &s.tui.skipped {
            outln!("  TUI at {} chunks skipped: {why}", s.chunks)?;
        }
    }
    outln!()?;

    if let Some(inc) = &r.increment {
        outln!("{} chunks more, to {} chunks", inc.chunks, inc.library_chunks)?;
        outln!(
            "  written in {:.1} s; {} vectors searched exactly; {}",
            inc.write_s,
            inc.unindexed_vectors,
            if inc.builds_index { "lore add would start an index build" } else { "no index build started" }
        )?;
        if let Some(h) = &inc.hybrid {
            outln!("  hybrid search then: p50 {:.1} ms, p95 {:.1} ms", h.p50_ms, h.p95_ms)?;
        }
        let full = inc.full_build_s.map(|f| format!(" (full build: {f:.1} s)")).unwrap_or_default();
        outln!("  index update of a later lore optimize: {:.1} s{full}", inc.update_s)?;
        outln!()?;
    }
    let a = &r.ask;
    outln!("Ask on the {}-chunk library", a.chunks)?;
    if let Some(f) = &a.retrieval {
        outln!(
            "  question to passages (no chat model): p50 {:.1} ms, p95 {:.1} ms ({} runs)",
            f.p50_ms,
            f.p95_ms,
            f.runs
        )?;
    }
    match (&a.request_sent, &a.first_token, &a.skipped) {
        (Some(s), Some(t), _) => {
            outln!("  chat model: {}", a.model.as_deref().unwrap_or("-"))?;
            outln!(
                "  question to request sent: p50 {:.1} ms, max {:.1} ms ({} runs)",
                s.p50_ms,
                s.max_ms,
                s.runs
            )?;
            outln!("  question to first token:  p50 {:.0} ms, max {:.0} ms", t.p50_ms, t.max_ms)?;
        }
        (_, _, Some(why)) => outln!("  chat model figures skipped: {why}")?,
        _ => outln!("  chat model figures skipped")?,
    }
    outln!()?;
    outln!("Targets")?;
    for t in &r.targets {
        let mark = match t.met {
            Some(true) => "met   ",
            Some(false) => "MISSED",
            None => "n/a   ",
        };
        let value = t.value.map(|v| format!("{v:.1} {}", t.unit)).unwrap_or_else(|| "not measured".into());
        outln!("  {mark} {:<52} {:<10} {value}", t.what, t.limit)?;
    }
    if let Some(m) = r.bench_peak_rss_mb {
        outln!()?;
        outln!("Peak RSS of this process (ingest and building): {m:.0} MB")?;
    }
    if let Some(dir) = &r.kept {
        outln!("Libraries kept in {dir}")?;
    }
    Ok(())
}

fn tui_cell(t: &TuiStartup, v: f64) -> String {
    if t.skipped.is_some() { "skipped".into() } else { format!("{v:.0}") }
}

/// Prints a phase on stderr.
pub(super) fn status(msg: &str) {
    crate::output::info_line(&format!("bench: {msg}"));
}

/// Progress of a long phase on stderr: redrawn in place on a terminal, a line every few
/// seconds otherwise.
pub(super) struct Bar {
    what: String,
    pub(super) unit: &'static str,
    tty: bool,
    last: Option<Instant>,
}

impl Bar {
    pub(super) fn new(what: &str, unit: &'static str) -> Bar {
        Bar { what: what.to_string(), unit, tty: crate::output::stderr_is_tty(), last: None }
    }

    pub(super) fn show(&mut self, done: usize, total: usize) {
        let every = if self.tty { Duration::from_millis(100) } else { Duration::from_secs(5) };
        if self.last.is_some_and(|t| t.elapsed() < every) && done < total {
            return;
        }
        self.last = Some(Instant::now());
        let mut err = std::io::stderr();
        if self.tty {
            let _ = write!(err, "\rbench: {} {done}/{total} {}\x1b[K", self.what, self.unit);
        } else {
            let _ = writeln!(err, "bench: {} {done}/{total} {}", self.what, self.unit);
        }
        let _ = err.flush();
    }

    pub(super) fn done(&mut self) {
        if self.tty && self.last.is_some() {
            eprintln!();
        }
    }
}
