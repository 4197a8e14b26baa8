//! `lore bench`: ingest throughput, search latency and memory at given library sizes, the
//! overhead of `ask`, and the start-up of `lore ls` and of the terminal UI, measured in temporary
//! libraries. The measuring is in [`lore_index::bench`]; this module plans the runs, spawns the
//! processes that are timed from outside, and prints the figures.
//!
//! Searches are timed in a child process (`lore --library DIR bench --search-child`) so that the
//! peak memory reported is that of a process that opened the library and searched it, not of the
//! one that built it.
//!
//! The figures gathered, the targets judged on them and their printing are in [`report`].

mod embed;
mod report;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use lore_index::bench::{BenchLibrary, LatencyFigures};
use lore_index::layout::config_path;
use lore_index::{Library, Mode};
use lore_ingest::ChunkConfig;
use serde::Serialize;

use crate::cli::BenchArgs;
use crate::context::{Context, retrieve_config};
use crate::output::print_json;
use report::{
    AskReport, Bar, FIRST_PASS, Increment, IngestReport, Report, SearchChild, SizeReport, Startup,
    TuiStartup, print_report, status, targets,
};

/// The folder ingested when none is given, from the current directory.
const DEFAULT_FOLDER: &str = "../shared/data/docs";
/// The questions searched for when none are given, from the current directory.
const DEFAULT_QUERIES: &str = "../shared/data/eval/pyfaq/queries.jsonl";
/// Questions used when no question file is found.
const BUILT_IN_QUERIES: &[&str] = &[
    "Why does Python use indentation for grouping of statements?",
    "How do I install a package from source?",
    "What is the difference between a list and a tuple?",
    "How are exceptions handled in a web application?",
    "Where is the network configuration of a Debian system kept?",
    "How do I read a CSV file into a data frame?",
    "What does the white whale stand for?",
    "How can I make a live system boot from USB?",
    "Why are floating-point calculations so inaccurate?",
    "How do I convert a string to a number?",
    "What happened to Gregor Samsa?",
    "How do I keep my system up to date with security updates?",
];
/// Longest a timed start-up may take before it counts as hung.
const STARTUP_LIMIT: Duration = Duration::from_secs(180);

/// Run sizes: the defaults, `--quick`, and what was given.
#[derive(Debug, Clone, Serialize)]
struct Plan {
    folder: PathBuf,
    limit: usize,
    sizes: Vec<usize>,
    runs: usize,
    warmup: usize,
    ls_runs: usize,
    tui_runs: usize,
    asks: usize,
    ask_retrieval_runs: usize,
}

impl Plan {
    fn of(args: &BenchArgs) -> Plan {
        let q = args.quick;
        let mut sizes = if args.sizes.is_empty() {
            if q { vec![2000] } else { vec![10_000, 100_000] }
        } else {
            args.sizes.clone()
        };
        sizes.retain(|&s| s > 0);
        sizes.sort_unstable();
        sizes.dedup();
        Plan {
            folder: args.path.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_FOLDER)),
            limit: args.limit.unwrap_or(if q { 6 } else { 40 }).max(1),
            sizes,
            runs: args.runs.unwrap_or(if q { 100 } else { 200 }).max(1),
            warmup: args.warmup.unwrap_or(if q { 5 } else { 20 }),
            ls_runs: if q { 3 } else { 7 },
            tui_runs: if q { 1 } else { 5 },
            asks: args.asks.unwrap_or(if q { 1 } else { 3 }),
            ask_retrieval_runs: if q { 10 } else { 50 },
        }
    }
}

/// Runs `lore bench`.
pub fn run(ctx: &Context, args: BenchArgs) -> Result<ExitCode> {
    if args.search_child {
        return search_child(ctx, &args);
    }
    let plan = Plan::of(&args);
    if plan.sizes.is_empty() {
        bail!("--sizes needs at least one size above 0");
    }
    let base = args.work_dir.clone().unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&base).with_context(|| format!("cannot create {}", base.display()))?;
    let work = tempfile::Builder::new()
        .prefix("lore-bench-")
        .tempdir_in(&base)
        .with_context(|| format!("cannot make a folder in {}", base.display()))?;
    if let Some(file) = &args.embed {
        let rounds = args.embed_rounds.unwrap_or(if args.quick { 1 } else { 3 });
        let report = embed::compare(ctx, file, rounds, work.path())?;
        if args.json {
            print_json(&report)?;
        } else {
            embed::print(&report)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let queries = load_queries(args.queries.as_deref())?;
    let exe = std::env::current_exe().context("cannot find the lore binary")?;
    let home = work.path().join("library");
    std::fs::create_dir_all(&home)?;
    // The children read the same configuration as this run.
    let config_file = config_path(&ctx.paths.home);
    if config_file.is_file() {
        std::fs::copy(&config_file, config_path(&home))
            .with_context(|| format!("cannot copy {}", config_file.display()))?;
    }
    let queries_file = work.path().join("queries.txt");
    std::fs::write(&queries_file, queries.join("\n"))?;

    // 1. Ingest.
    let scan = lore_ingest::folder::scan(&plan.folder);
    if scan.files.is_empty() {
        bail!("no files lore reads in {}", plan.folder.display());
    }
    let files = spread(&scan.files, plan.limit);
    let ing = &ctx.config.ingest;
    let chunk = ChunkConfig { target_tokens: ing.chunk_tokens, overlap_tokens: ing.chunk_overlap };
    let load = ing.load_options();
    let mut options = ctx.engine_options()?;
    // On a server, the bench writes into a collection of its own, which the children use too
    // and which is deleted at the end (unless kept).
    let server = options.server.as_mut().map(|server| {
        server.collection = format!("{}-bench-{}", server.collection, std::process::id());
        server.clone()
    });
    let _ = BENCH_COLLECTION.set(server.as_ref().map(|s| s.collection.clone()));
    let _cleanup = ServerCleanup { server: server.clone().filter(|_| !args.keep) };
    let vectors = match &server {
        Some(s) => format!("Qdrant server {} (collection {})", lore_index::redact_url(&s.url), s.collection),
        None => "embedded Qdrant".to_string(),
    };
    status(&format!("vectors in: {vectors}"));
    status("loading the embedding model");
    let mut lib = BenchLibrary::create(&home, &options, chunk)?;
    let mut bar = Bar::new("ingest", "files");
    let figures = lib.ingest(&files, &load, &mut |d, t| bar.show(d, t))?;
    bar.done();
    if figures.chunks == 0 {
        bail!("nothing could be ingested from {}", plan.folder.display());
    }
    let ingest = IngestReport {
        folder: plan.folder.display().to_string(),
        docs_per_s: figures.docs_per_s(),
        chunks_per_s: figures.chunks_per_s(),
        mb_per_s: figures.mb_per_s(),
        embed_share: figures.embed_share(),
        figures,
    };

    // 2. Searches, memory and start-up at each size.
    let mut sizes = Vec::new();
    for &size in &plan.sizes {
        let mut bar = Bar::new(&format!("library of {size}"), "chunks");
        let build = lib.grow_to(size, &mut |d, t| bar.show(d, t))?;
        bar.done();
        let unindexed = lib.unindexed()?;
        let optimize_s = if let Some(server) = &server {
            status("waiting for the server to index the collection");
            Some(wait_for_server_index(server)?)
        } else if ctx.config.qdrant.optimize_after > 0 && unindexed >= ctx.config.qdrant.optimize_after {
            status(&format!("building the HNSW index of {unindexed} vectors (as `lore optimize` does)"));
            Some(lib.optimize()?)
        } else {
            None
        };
        status(&format!("timing searches at {} chunks", lib.chunks()));
        let child = run_search_child(&exe, &home, &queries_file, &plan)?;
        status(&format!("timing start-ups at {} chunks", lib.chunks()));
        let ls = time_ls(&exe, &home, plan.ls_runs)?;
        let tui = time_tui(&exe, &home, work.path(), plan.tui_runs);
        sizes.push(SizeReport {
            chunks: lib.chunks(),
            documents: lib.documents(),
            build,
            unindexed_vectors: unindexed,
            optimize_s,
            search_open_ms: child.open_ms,
            first_query_ms: child.first_query_ms,
            searches: child.searches,
            search_peak_rss_mb: child.peak_rss_bytes.map(mb),
            ls,
            tui,
        });
    }

    // 3. A thousand chunks more on the largest library: what `lore add` writes, and what the
    // index update after it costs next to the full build.
    let increment = match sizes.last() {
        Some(last) if args.increment > 0 => {
            Some(measure_increment(ctx, &mut lib, last, args.increment, &exe, &home, &queries_file, &plan)?)
        }
        _ => None,
    };

    // 4. Ask, on the largest library.
    status("timing ask");
    let ask = time_ask(ctx, &lib, &queries, &plan, args.llm_url.as_deref())?;

    let model = lib.engine_options().embed.model.clone().unwrap_or_else(|| "AllMiniLML6V2".to_string());
    let mut report = Report {
        build: if cfg!(debug_assertions) { "debug" } else { "release" },
        vectors,
        cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        model,
        questions: queries.len(),
        targets: Vec::new(),
        ingest,
        sizes,
        increment,
        ask,
        bench_peak_rss_mb: lore_index::bench::peak_rss_bytes().map(mb),
        plan,
        kept: None,
    };
    report.targets = targets(&report);
    drop(lib);
    if args.keep {
        report.kept = Some(work.keep().display().to_string());
    }
    if args.json {
        print_json(&report)?;
    } else {
        print_report(&report)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Adds `n` chunks to the bench library as `lore add` would write them (no index build: fewer
/// than `qdrant.optimize_after` vectors stay outside the HNSW index and are searched exactly),
/// times hybrid searches in a new process, then times the index update a later `lore optimize`
/// makes, to set beside the full build of `last`.
#[allow(clippy::too_many_arguments)]
fn measure_increment(
    ctx: &Context,
    lib: &mut BenchLibrary,
    last: &SizeReport,
    n: usize,
    exe: &Path,
    home: &Path,
    queries: &Path,
    plan: &Plan,
) -> Result<Increment> {
    let mut bar = Bar::new(&format!("{n} chunks more"), "chunks");
    let write = lib.grow_to(lib.chunks() + n, &mut |d, t| bar.show(d, t))?;
    bar.done();
    let unindexed = lib.unindexed()?;
    let optimize_after = ctx.config.qdrant.optimize_after;
    status(&format!("timing searches at {} chunks ({unindexed} searched exactly)", lib.chunks()));
    let child = run_search_child(exe, home, queries, plan)?;
    status(&format!("timing the index update after {n} chunks more"));
    let update_s = lib.optimize()?;
    Ok(Increment {
        chunks: write.written,
        library_chunks: lib.chunks(),
        write_s: write.seconds,
        unindexed_vectors: unindexed,
        builds_index: optimize_after > 0 && unindexed >= optimize_after,
        hybrid: child.searches.into_iter().find(|f| f.mode == "hybrid"),
        update_s,
        full_build_s: last.optimize_s,
    })
}

/// The Qdrant collection the bench writes into when the vectors are on a server (set once, at
/// the start of a run); its children are told to use it.
static BENCH_COLLECTION: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

/// A `lore` child process of the bench, using the bench's collection when there is one.
fn lore_child(exe: &Path) -> Command {
    let mut cmd = Command::new(exe);
    if let Some(Some(collection)) = BENCH_COLLECTION.get() {
        cmd.env("LORE_QDRANT_COLLECTION", collection);
    }
    cmd
}

/// Deletes the bench's collection on the server when dropped.
struct ServerCleanup {
    server: Option<lore_index::ServerOptions>,
}

impl Drop for ServerCleanup {
    fn drop(&mut self) {
        if let Some(server) = &self.server
            && let Err(e) = lore_index::ServerStore::remove(server)
        {
            status(&format!("could not delete the bench's collection {}: {e}", server.collection));
        }
    }
}

/// Waits until the server has done optimizing the collection (its HNSW index built), so that
/// searches are timed on the index, as they are on an embedded store that `lore optimize` built;
/// returns the seconds waited. The status is read every half second and must say so twice in a
/// row a second apart (the optimizer starts a moment after the writes); at most an hour.
fn wait_for_server_index(server: &lore_index::ServerOptions) -> Result<f64> {
    let t = Instant::now();
    let mut settled = 0;
    while settled < 2 {
        std::thread::sleep(Duration::from_millis(500));
        if lore_index::ServerStore::optimizing(server)? {
            settled = 0;
        } else {
            settled += 1;
        }
        if t.elapsed() > Duration::from_secs(3600) {
            bail!("the Qdrant server was still optimizing the bench's collection after an hour");
        }
    }
    Ok(t.elapsed().as_secs_f64())
}

/// Megabytes (2^20 bytes) of a byte count.
fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// `n` of `files`, spread evenly over them (all when there are no more).
fn spread(files: &[PathBuf], n: usize) -> Vec<PathBuf> {
    if files.len() <= n {
        return files.to_vec();
    }
    (0..n).map(|i| files[i * files.len() / n].clone()).collect()
}

/// The questions to search for: the file given, else the default file when present, else the
/// built-in ones. A JSONL line's `text` field is its question; other lines are taken whole.
fn load_queries(file: Option<&Path>) -> Result<Vec<String>> {
    let path = match file {
        Some(p) => Some(p.to_path_buf()),
        None => Some(PathBuf::from(DEFAULT_QUERIES)).filter(|p| p.is_file()),
    };
    let Some(path) = path else { return Ok(BUILT_IN_QUERIES.iter().map(|q| q.to_string()).collect()) };
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let queries: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .ok()
                .and_then(|v| v.get("text").and_then(|t| t.as_str()).map(str::to_string))
                .unwrap_or_else(|| l.to_string())
        })
        .filter(|q| !q.trim().is_empty())
        .collect();
    if queries.is_empty() {
        bail!("no questions in {}", path.display());
    }
    Ok(queries)
}

/// The hidden `--search-child`: opens the library, times the searches, prints JSON.
fn search_child(ctx: &Context, args: &BenchArgs) -> Result<ExitCode> {
    let plan = Plan::of(args);
    let queries = load_queries(args.queries.as_deref())?;
    let t = Instant::now();
    let lib = ctx.searcher()?;
    // One process searching many times keeps the vector store open, as a searching process
    // of its own would: opening it is part of `open_ms`, not of the first search.
    let _hold = lib.hold_vectors()?;
    // A process that searches by meaning loads the model before its first search too (the
    // terminal UI does, while it draws; `lore search` as the query comes in).
    lib.warm_model()?;
    let open_ms = t.elapsed().as_secs_f64() * 1000.0;
    let cfg = ctx.config.search.to_search_config()?;
    let k = ctx.config.search.k;
    let mut searches = Vec::new();
    // The very first search of the process, before anything else has been read.
    let first_query_ms = match queries.first() {
        Some(q) => Some(
            lore_index::bench::time_searches(&lib, &cfg, std::slice::from_ref(q), Mode::Hybrid, k, 0, 1)?
                .max_ms,
        ),
        None => None,
    };
    // First, each question once in hybrid mode, before this process has read the index pages
    // the question needs: what a new process (and a question new to it) meets.
    let mut first = lore_index::bench::time_searches(
        &lib,
        &cfg,
        &queries,
        Mode::Hybrid,
        k,
        0,
        queries.len().min(plan.runs),
    )?;
    first.mode = FIRST_PASS.to_string();
    searches.push(first);
    for mode in Mode::ALL {
        searches.push(lore_index::bench::time_searches(
            &lib,
            &cfg,
            &queries,
            mode,
            k,
            plan.warmup,
            plan.runs,
        )?);
    }
    searches.push(lore_index::bench::time_query_embedding(&lib, &queries, plan.warmup, plan.runs)?);
    print_json(&SearchChild {
        open_ms,
        first_query_ms,
        searches,
        peak_rss_bytes: lore_index::bench::peak_rss_bytes(),
        rss_bytes: lore_index::bench::rss_bytes(),
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Runs the search child on the library at `home`.
fn run_search_child(exe: &Path, home: &Path, queries: &Path, plan: &Plan) -> Result<SearchChild> {
    let out = lore_child(exe)
        .arg("--library")
        .arg(home)
        .args(["bench", "--search-child", "--json", "--runs", &plan.runs.to_string()])
        .args(["--warmup", &plan.warmup.to_string()])
        .arg("--queries")
        .arg(queries)
        .stdin(Stdio::null())
        .output()
        .context("cannot start the search process")?;
    if !out.status.success() {
        bail!("the search process failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    serde_json::from_slice(&out.stdout).context("the search process printed no figures")
}

/// Times `lore ls` on the library at `home`, spawned `runs` times (after one untimed run).
fn time_ls(exe: &Path, home: &Path, runs: usize) -> Result<Startup> {
    let mut samples = Vec::new();
    for i in 0..=runs {
        let t = Instant::now();
        let out = lore_child(exe)
            .arg("--library")
            .arg(home)
            .arg("ls")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .context("cannot start lore ls")?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        if !out.status.success() {
            bail!("lore ls failed: {}", String::from_utf8_lossy(&out.stderr).trim());
        }
        if i > 0 {
            samples.push(ms);
        }
    }
    Ok(Startup::of(&samples))
}

/// Quotes `s` for a POSIX shell.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Runs the terminal UI on the library at `home` in a pseudo-terminal (`script`), quitting at
/// `exit_after`; returns the wall time and the figures it recorded.
fn run_tui(
    exe: &Path,
    home: &Path,
    timings: &Path,
    exit_after: &str,
) -> std::result::Result<(f64, Vec<(String, f64)>), String> {
    let _ = std::fs::remove_file(timings);
    let cmd = format!(
        "stty rows 40 cols 120 2>/dev/null; exec {} --library {}",
        sh_quote(&exe.display().to_string()),
        sh_quote(&home.display().to_string())
    );
    let t = Instant::now();
    // stdin stays open (and silent) until the UI quits, so no end of input reaches it.
    let mut script = Command::new("script");
    if let Some(Some(collection)) = BENCH_COLLECTION.get() {
        script.env("LORE_QDRANT_COLLECTION", collection);
    }
    let mut child = script
        .args(["-qec", &cmd, "/dev/null"])
        .env("LORE_UI_TIMINGS", timings)
        .env("LORE_UI_EXIT_AFTER", exit_after)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run script(1) for a pseudo-terminal: {e}"))?;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if t.elapsed() > STARTUP_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "the UI did not reach {exit_after} within {} s",
                    STARTUP_LIMIT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => return Err(format!("waiting for the UI: {e}")),
        }
    };
    let wall = t.elapsed().as_secs_f64() * 1000.0;
    if !status.success() {
        return Err(format!("the UI exited with {status}"));
    }
    let text = std::fs::read_to_string(timings).map_err(|e| format!("the UI recorded no timings: {e}"))?;
    let figures = text
        .lines()
        .filter_map(|l| {
            let (name, v) = l.split_once(' ')?;
            Some((name.to_string(), v.trim().parse().ok()?))
        })
        .collect();
    Ok((wall, figures))
}

/// Times the terminal UI's start-up `runs` times (after one untimed run); skipped, with the
/// reason, when it cannot run.
fn time_tui(exe: &Path, home: &Path, dir: &Path, runs: usize) -> TuiStartup {
    if runs == 0 {
        return TuiStartup { skipped: Some("no runs asked for".into()), ..Default::default() };
    }
    let timings = dir.join("ui-timings.txt");
    let (mut wall, mut first, mut listed, mut ready) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let pick =
        |figures: &[(String, f64)], name: &str| figures.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
    for i in 0..=runs {
        let frame = run_tui(exe, home, &timings, "first-frame");
        let full = frame.and_then(|f| run_tui(exe, home, &timings, "ready").map(|r| (f, r)));
        let ((w, ff), (_, rf)) = match full {
            Ok(v) => v,
            Err(reason) => return TuiStartup { skipped: Some(reason), ..Default::default() },
        };
        if i == 0 {
            continue;
        }
        wall.push(w);
        first.extend(pick(&ff, "first_frame_ms"));
        listed.extend(pick(&rf, "library_listed_ms"));
        ready.extend(pick(&rf, "engine_ready_ms"));
    }
    let p50 = |s: &[f64]| LatencyFigures::of("", s, 0).p50_ms;
    TuiStartup {
        runs,
        first_frame_wall_p50_ms: p50(&wall),
        first_frame_p50_ms: p50(&first),
        library_listed_p50_ms: p50(&listed),
        engine_ready_p50_ms: p50(&ready),
        skipped: None,
    }
}

/// Times `ask` on the library: without a chat model (the retrieval overhead), then through the
/// configured (or given) chat model.
fn time_ask(
    ctx: &Context,
    bench: &BenchLibrary,
    queries: &[String],
    plan: &Plan,
    llm_url: Option<&str>,
) -> Result<AskReport> {
    let lib = Library::open_reader(bench.home(), Some(bench.engine_options()))?;
    // The figures are the ask's own overhead, as a `lore ask` process meets it once its
    // library is open: the vector store stays open across the timed asks (no writer uses this
    // temporary library), so its opening is not counted in every question.
    let _hold = lib.hold_vectors()?;
    let opts = lore_agent::AskOptions {
        retrieve: retrieve_config(ctx, None, Default::default())?,
        search: ctx.config.search.to_search_config()?,
        ..lore_agent::AskOptions::default()
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let mut report = AskReport { chunks: bench.chunks(), ..Default::default() };
    let ask_one = |chat: Option<&lore_agent::ChatModel>, q: &str| {
        rt.block_on(lore_agent::ask(&lib, chat, q, &[], &opts, &mut |_| {}))
    };

    // Without a model: question to passages.
    let mut samples = Vec::new();
    for i in 0..plan.ask_retrieval_runs + 1 {
        let a = ask_one(None, &queries[i % queries.len()])?;
        if i > 0 {
            samples.push(a.timings.rewrite_ms + a.timings.retrieval_ms);
        }
    }
    report.retrieval = Some(LatencyFigures::of("ask-retrieval", &samples, 0));

    let mut cfg = match (llm_url, ctx.config.llm.to_chat_config()) {
        (Some(url), Some(mut c)) => {
            c.base_url = url.to_string();
            Some(c)
        }
        (Some(url), None) => Some(lore_agent::ChatConfig::new(
            url,
            ctx.config.llm.model.clone().unwrap_or_else(|| "local".into()),
        )),
        (None, c) => c,
    };
    if plan.asks == 0 {
        report.skipped = Some("no asks asked for (--asks 0)".into());
        return Ok(report);
    }
    let Some(cfg) = cfg.take() else {
        report.skipped =
            Some("no chat model configured (set llm.base_url, or pass --llm-url; scripts/chat-server.sh start prints one)".into());
        return Ok(report);
    };
    report.model = Some(format!("{} at {}", cfg.model, cfg.shown_url()));
    let chat = lore_agent::ChatModel::new(cfg)?;
    let (mut sent, mut first) = (Vec::new(), Vec::new());
    for i in 0..plan.asks {
        let mut bar = Bar::new("ask", "questions");
        bar.show(i, plan.asks);
        let a = ask_one(Some(&chat), &queries[(i * 7) % queries.len()])?;
        if a.mode != lore_agent::AnswerMode::Llm {
            report.skipped = Some(a.notice.unwrap_or_else(|| "the chat model did not answer".into()));
            return Ok(report);
        }
        sent.extend(a.timings.request_sent_ms);
        first.extend(a.timings.first_token_ms);
    }
    report.request_sent = Some(LatencyFigures::of("request-sent", &sent, 0));
    report.first_token = Some(LatencyFigures::of("first-token", &first, 0));
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_spread_over_the_folder() {
        let files: Vec<PathBuf> = (0..10).map(|i| PathBuf::from(format!("{i}"))).collect();
        let picked = spread(&files, 3);
        assert_eq!(picked, vec![PathBuf::from("0"), PathBuf::from("3"), PathBuf::from("6")]);
        assert_eq!(spread(&files, 20).len(), 10);
    }

    #[test]
    fn shell_quoting_survives_quotes() {
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
    }
}
