//! Crash safety: `lore add`, `lore reindex`, `lore rm`, `lore sync` (files changed, added and
//! deleted), `lore feed refresh` (new and changed items from a local feed server), `lore
//! optimize` (the HNSW build of a library of about 8,000 vectors), the terminal UI's background add
//! (in tmux) and an add with the vectors on a Qdrant server (`QDRANT_URL`, else skipped) killed
//! with SIGKILL at random moments leave a library that opens; once a writer has opened it (here
//! `lore doctor --repair`; any write does the same) the catalog, the keyword index and the
//! vector store hold exactly the same chunks, none twice, with the same texts and each vector
//! the embedding of its chunk (`lore_tests::stores`); and running the command again completes
//! the work, ending where an uninterrupted run ends.
//!
//! `LORE_CRASH_RUNS` kill points per command (3 by default for add, rm and reindex, 1 for the
//! others; 20 for the full run);
//! `LORE_CRASH_SEED` replays the kill points of a failing run (the seed is printed);
//! `LORE_CRASH_CORPUS=docs` adds `../shared/data/docs` (plus notes up to 300 documents) instead
//! of 300 generated notes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use lore_tests::corpus::write_notes;
use lore_tests::rng::{Rng, env_count};
use lore_tests::stores::{StoreView, catalog_documents};
use lore_tests::tmux::Tmux;
use lore_tests::{Lore, Run, data};
use server::{Reply, Request, TestServer};

#[path = "../../ingest/tests/common/server.rs"]
#[allow(dead_code)]
mod server;

/// Longest any one command may take before the test calls it hung.
const HANG: Duration = Duration::from_secs(1800);

/// The documents every run adds, and a library that added them without interruption.
struct Corpus {
    _dir: tempfile::TempDir,
    roots: Vec<PathBuf>,
    documents: usize,
    baseline: Lore,
    /// Chunks of each source in the baseline.
    chunks: BTreeMap<String, u64>,
    /// How long an uninterrupted reindex of the baseline took (to spread kill points over).
    reindex: Duration,
}

fn corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let mut rng = Rng::new(7);
        let notes = dir.path().join("notes");
        let roots = if std::env::var("LORE_CRASH_CORPUS").is_ok_and(|v| v == "docs") {
            let docs = data("docs");
            let have = lore_tests::corpus::documents_in(&docs).len();
            write_notes(&notes, 300usize.saturating_sub(have).max(20), 0, &mut rng);
            vec![docs, notes]
        } else {
            write_notes(&notes, 295, 5, &mut rng);
            vec![notes]
        };
        let baseline = new_library();
        add(&baseline, &roots).ok();
        let chunks = chunks_by_source(&baseline);
        let view = StoreView::read(baseline.home());
        view.check_exact().expect("an uninterrupted add is consistent");
        eprintln!("lowest cosine of a stored vector with a fresh embedding: {:.5}", view.lowest_cosine());
        let copy = Lore::copy_of(&baseline);
        let started = Instant::now();
        copy.run(&["reindex"]).ok();
        let reindex = started.elapsed();
        StoreView::read(copy.home()).check_exact().expect("an uninterrupted reindex is consistent");
        assert_eq!(chunks_by_source(&copy), chunks, "reindex keeps every document");
        let documents = chunks.len();
        assert!(documents >= 300, "the corpus has {documents} documents");
        eprintln!("corpus: {documents} documents, {} chunks", chunks.values().sum::<u64>());
        Corpus { _dir: dir, roots, documents, baseline, chunks, reindex }
    })
}

/// A new library that never starts a background `lore optimize` (which would hold the writer
/// lock after a command returns).
fn new_library() -> Lore {
    let lore = Lore::new();
    std::fs::write(lore.home().join("config.toml"), "[qdrant]\noptimize_after = 0\n").unwrap();
    lore
}

fn add(lore: &Lore, roots: &[PathBuf]) -> Run {
    let mut args = vec!["add"];
    args.extend(roots.iter().map(|r| r.to_str().unwrap()));
    lore.spawn(&args).wait(HANG)
}

fn chunks_by_source(lore: &Lore) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for d in lore.docs() {
        let source = d["source"].as_str().unwrap().to_string();
        let previous = out.insert(source.clone(), d["chunks"].as_u64().unwrap());
        assert!(previous.is_none(), "{source} is listed twice");
    }
    out
}

/// One kill point, for messages.
struct Point {
    what: String,
}

impl Point {
    fn fail(&self, msg: impl std::fmt::Display) -> ! {
        panic!("{}: {msg}", self.what)
    }

    /// Adds how the killed command ended to the description.
    fn killed(mut self, run: &Run) -> Point {
        self.what = format!(
            "{} [the killed command: exit {}, stderr: {:?}]",
            self.what,
            run.code,
            lore_tests::process::tail(&run.stderr, 5)
        );
        self
    }
}

/// The runs to make: 0..`LORE_CRASH_RUNS`, or only `LORE_CRASH_RUN` (to replay one).
fn runs() -> Vec<usize> {
    runs_by_default(3)
}

/// As [`runs`], with `default` runs when `LORE_CRASH_RUNS` is unset (the tests added since,
/// each slower per run, make one so that the file stays within CI's time).
fn runs_by_default(default: usize) -> Vec<usize> {
    match std::env::var("LORE_CRASH_RUN").ok().and_then(|v| v.trim().parse().ok()) {
        Some(run) => vec![run],
        None => (0..env_count("LORE_CRASH_RUNS", default)).collect(),
    }
}

/// After a kill: the library opens for reading and what it shows is whole; a writer's open
/// repairs it; then the three stores agree exactly.
fn check_after_kill(lore: &Lore, point: &Point, killed: &Run) {
    if killed.stderr.contains("panicked") {
        point.fail(format!("lore panicked before the kill:\n{}", killed.stderr));
    }
    let ls = lore.run(&["ls", "--json"]);
    if ls.code != 0 {
        point.fail(format!("the library does not open after the kill:\n{}", ls.stderr));
    }
    if let Err(e) = StoreView::open(lore.home()).and_then(|v| v.check_committed()) {
        point.fail(format!("after the kill, before any repair:\n{e}"));
    }
    let doctor = lore.run(&["doctor", "--json"]);
    let library = doctor_check(&doctor, "library");
    if library["status"] != "ok" {
        point.fail(format!("doctor before the repair: {library}"));
    }
    check_repair(lore, point);
}

/// A writer's open (`lore doctor --repair`) leaves the three stores in exact agreement.
fn check_repair(lore: &Lore, point: &Point) {
    let repair = lore.run(&["doctor", "--repair", "--json"]);
    let repaired = doctor_check(&repair, "repair");
    if repaired["status"] != "ok" {
        point.fail(format!("the repair failed: {repaired}\n{}", repair.stderr));
    }
    if let Err(e) = StoreView::open(lore.home()).and_then(|v| v.check_exact()) {
        point.fail(format!("after the repair:\n{e}"));
    }
}

fn doctor_check(run: &Run, name: &str) -> serde_json::Value {
    let checks = run.json();
    checks
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == name))
        .cloned()
        .unwrap_or_else(|| panic!("no {name} check in doctor's output:\n{}", run.stdout))
}

/// Waits until `done()` or the process exits, then sleeps `jitter` and kills it.
fn kill_when(
    mut running: lore_tests::process::Running,
    done: impl Fn() -> bool,
    jitter: Duration,
) -> (Run, bool) {
    let start = Instant::now();
    while !done() && !running.finished() {
        if start.elapsed() > HANG {
            running.kill9();
            panic!("the command neither reached its kill point nor finished");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(jitter);
    let finished = running.finished();
    (running.kill9(), finished)
}

#[test]
fn add_killed_at_random_moments_is_repaired_and_completed() {
    let corpus = corpus();
    let master = Rng::from_env("LORE_CRASH_SEED");
    let runs = runs();
    let mut finished_early = 0;
    for &run in &runs {
        let mut rng = master.fork(run as u64);
        let lore = new_library();
        let target = rng.range(0, corpus.documents as u64);
        let jitter = Duration::from_millis(rng.range(0, 50));
        let point = Point {
            what: format!(
                "add, run {run} (LORE_CRASH_SEED={}): killed at {target} documents in the catalog + {} ms",
                master.seed(),
                jitter.as_millis()
            ),
        };
        let mut args = vec!["add"];
        args.extend(corpus.roots.iter().map(|r| r.to_str().unwrap()));
        let home = lore.home().to_path_buf();
        let (killed, finished) = kill_when(lore.spawn(&args), || catalog_documents(&home) >= target, jitter);
        finished_early += usize::from(finished);
        eprintln!("{}{}", point.what, if finished { " (it had finished)" } else { "" });
        let point = point.killed(&killed);
        check_after_kill(&lore, &point, &killed);

        // Sometimes the rerun is killed too, while it repairs and resumes.
        if rng.chance(0.5) {
            let delay = Duration::from_millis(rng.range(0, 3000));
            let second = Point {
                what: format!("{}, then the rerun killed after {} ms", point.what, delay.as_millis()),
            };
            eprintln!("{}", second.what);
            let (killed, _) = kill_when(lore.spawn(&args), || true, delay);
            check_after_kill(&lore, &second.killed(&killed), &killed);
        }

        let rerun = add(&lore, &corpus.roots);
        if rerun.code != 0 {
            point.fail(format!("the rerun failed:\n{}", rerun.stderr));
        }
        if let Err(e) = StoreView::read(lore.home()).check_exact() {
            point.fail(format!("after the rerun:\n{e}"));
        }
        let chunks = chunks_by_source(&lore);
        if chunks != corpus.chunks {
            point.fail(format!(
                "the rerun ends with {} documents ({} chunks), an uninterrupted add with {} ({} chunks)",
                chunks.len(),
                chunks.values().sum::<u64>(),
                corpus.chunks.len(),
                corpus.chunks.values().sum::<u64>()
            ));
        }
    }
    assert!(
        runs.len() < 2 || finished_early < runs.len(),
        "every add finished before its kill point: nothing was tested"
    );
}

#[test]
fn rm_killed_at_random_moments_is_repaired_and_completed() {
    let corpus = corpus();
    let master = Rng::from_env("LORE_CRASH_SEED");
    let runs = runs();
    let all = corpus.baseline.docs();
    for &run in &runs {
        let mut rng = master.fork(1000 + run as u64);
        let lore = Lore::copy_of(&corpus.baseline);
        // Remove about half of the documents.
        let doomed: Vec<&serde_json::Value> = all.iter().filter(|_| rng.chance(0.5)).collect();
        let ids: Vec<String> = doomed.iter().map(|d| d["id"].to_string()).collect();
        let target = rng.range(0, ids.len() as u64);
        let jitter = Duration::from_millis(rng.range(0, 50));
        let point = Point {
            what: format!(
                "rm of {} documents, run {run} (LORE_CRASH_SEED={}): killed after {target} removals + {} ms",
                ids.len(),
                master.seed(),
                jitter.as_millis()
            ),
        };
        let mut args = vec!["rm"];
        args.extend(ids.iter().map(String::as_str));
        let home = lore.home().to_path_buf();
        let before = catalog_documents(&home);
        let (killed, _) =
            kill_when(lore.spawn(&args), || catalog_documents(&home) + target <= before, jitter);
        eprintln!("{}", point.what);
        let point = point.killed(&killed);
        check_after_kill(&lore, &point, &killed);

        // The rerun removes what is left.
        let listed: Vec<String> = lore.docs().iter().map(|d| d["id"].to_string()).collect();
        let left: Vec<&str> = ids.iter().filter(|id| listed.contains(id)).map(String::as_str).collect();
        if !left.is_empty() {
            let mut args = vec!["rm"];
            args.extend(left.iter());
            let rerun = lore.spawn(&args).wait(HANG);
            if rerun.code != 0 {
                point.fail(format!("the rerun failed:\n{}", rerun.stderr));
            }
        }
        if let Err(e) = StoreView::read(lore.home()).check_exact() {
            point.fail(format!("after the rerun:\n{e}"));
        }
        let mut expected = corpus.chunks.clone();
        for d in &doomed {
            expected.remove(d["source"].as_str().unwrap());
        }
        if chunks_by_source(&lore) != expected {
            point.fail("the documents left are not those an uninterrupted rm leaves");
        }
    }
}

/// Killing `lore reindex` leaves the library opening, a `lore doctor` that says what to do
/// rather than "ok", and a rerun of `lore reindex` that restores it exactly.
#[test]
fn reindex_killed_at_random_moments_is_completed_by_a_rerun() {
    let corpus = corpus();
    let master = Rng::from_env("LORE_CRASH_SEED");
    let runs = runs();
    for &run in &runs {
        let mut rng = master.fork(2000 + run as u64);
        let lore = Lore::copy_of(&corpus.baseline);
        let delay = Duration::from_millis(rng.range(0, corpus.reindex.as_millis() as u64));
        let point = Point {
            what: format!(
                "reindex, run {run} (LORE_CRASH_SEED={}): killed after {} ms of about {} ms",
                master.seed(),
                delay.as_millis(),
                corpus.reindex.as_millis()
            ),
        };
        eprintln!("{}", point.what);
        let (killed, _) = kill_when(lore.spawn(&["reindex"]), || true, delay);
        if killed.stderr.contains("panicked") {
            point.fail(format!("lore panicked before the kill:\n{}", killed.stderr));
        }
        let ls = lore.run(&["ls", "--json"]);
        if ls.code != 0 {
            point.fail(format!("the library does not open after the kill:\n{}", ls.stderr));
        }
        let view = StoreView::read(lore.home());
        let doctor = lore.run(&["doctor", "--json"]);
        let library = doctor_check(&doctor, "library");
        match view.check_exact() {
            Ok(()) => assert_eq!(library["status"], "ok", "{}: {library}", point.what),
            Err(_) => {
                // The indexes were being rebuilt: doctor must not call that healthy.
                assert_eq!(library["status"], "fail", "{}: {library}", point.what);
                assert!(library["detail"].as_str().unwrap().contains("lore reindex"), "{library}");
            }
        }
        let rerun = lore.spawn(&["reindex"]).wait(HANG);
        if rerun.code != 0 {
            point.fail(format!("the rerun failed:\n{}", rerun.stderr));
        }
        if let Err(e) = StoreView::read(lore.home()).check_exact() {
            point.fail(format!("after the rerun:\n{e}"));
        }
        if chunks_by_source(&lore) != corpus.chunks {
            point.fail("documents changed");
        }
    }
}

/// What DESIGN.md §3 asks: after `kill -9` at any moment, the next command repairs the library
/// by itself. For an interrupted reindex that means the next writer (here `lore doctor
/// --repair`) completes the rebuild, rather than leaving partial indexes (searches missing
/// documents) until `lore reindex` is run again by hand.
#[test]
fn reindex_killed_midway_is_repaired_by_the_next_writer() {
    let corpus = corpus();
    let master = Rng::from_env("LORE_CRASH_SEED");
    let runs = runs();
    for &run in &runs {
        let mut rng = master.fork(3000 + run as u64);
        let lore = Lore::copy_of(&corpus.baseline);
        let delay = Duration::from_millis(rng.range(0, corpus.reindex.as_millis() as u64));
        let point = Point {
            what: format!(
                "reindex, run {run} (LORE_CRASH_SEED={}): killed after {} ms of about {} ms",
                master.seed(),
                delay.as_millis(),
                corpus.reindex.as_millis()
            ),
        };
        let (killed, _) = kill_when(lore.spawn(&["reindex"]), || true, delay);
        assert!(!killed.stderr.contains("panicked"), "{}: {}", point.what, killed.stderr);
        lore.run(&["ls", "--json"]).ok();
        check_repair(&lore, &point);
    }
}

/// Copies of the files of a folder, to lay it out again as it was.
type Tree = Vec<(String, Vec<u8>)>;

fn read_tree(dir: &Path) -> Tree {
    let mut files: Tree = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    files.sort();
    files
}

/// Makes `dir` hold exactly `tree`.
fn lay_out(dir: &Path, tree: &Tree) {
    if dir.exists() {
        std::fs::remove_dir_all(dir).unwrap();
    }
    std::fs::create_dir_all(dir).unwrap();
    for (name, bytes) in tree {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

/// Runs `args` to the end on `lore`, which must succeed; returns the run and how long it took.
fn timed(lore: &Lore, args: &[&str]) -> (Run, Duration) {
    let started = Instant::now();
    let run = lore.spawn(args).wait(HANG);
    assert_eq!(run.code, 0, "lore {args:?} failed:\n{}", run.stderr);
    (run, started.elapsed())
}

/// One run of a command killed after a random delay within `about` (how long an uninterrupted
/// run takes) on a copy of `start`: the library opens and a writer repairs it; sometimes the
/// rerun is killed too; then the command run to its end leaves the three stores in exact
/// agreement and the documents (chunks by source) of `expected`. Returns the rerun.
#[allow(clippy::too_many_arguments)]
fn kill_and_rerun(
    name: &str,
    run: usize,
    master: &Rng,
    salt: u64,
    start: &Lore,
    args: &[&str],
    about: Duration,
    expected: &BTreeMap<String, u64>,
) -> Run {
    let mut rng = master.fork(salt + run as u64);
    let lore = Lore::copy_of(start);
    let delay = Duration::from_millis(rng.range(0, about.as_millis() as u64 + 1));
    let point = Point {
        what: format!(
            "{name}, run {run} (LORE_CRASH_SEED={}): killed after {} ms of about {} ms",
            master.seed(),
            delay.as_millis(),
            about.as_millis()
        ),
    };
    eprintln!("{}", point.what);
    let (killed, _) = kill_when(lore.spawn(args), || true, delay);
    let point = point.killed(&killed);
    check_after_kill(&lore, &point, &killed);
    if rng.chance(0.5) {
        let delay = Duration::from_millis(rng.range(0, about.as_millis() as u64 + 1));
        let second =
            Point { what: format!("{}, then the rerun killed after {} ms", point.what, delay.as_millis()) };
        eprintln!("{}", second.what);
        let (killed, _) = kill_when(lore.spawn(args), || true, delay);
        check_after_kill(&lore, &second.killed(&killed), &killed);
    }
    let rerun = lore.spawn(args).wait(HANG);
    if rerun.code != 0 {
        point.fail(format!("the rerun failed:\n{}", rerun.stderr));
    }
    if let Err(e) = StoreView::read(lore.home()).check_exact() {
        point.fail(format!("after the rerun:\n{e}"));
    }
    let chunks = chunks_by_source(&lore);
    if &chunks != expected {
        let differ: Vec<_> = chunks
            .iter()
            .filter(|(s, n)| expected.get(*s) != Some(n))
            .chain(expected.iter().filter(|(s, _)| !chunks.contains_key(*s)))
            .take(5)
            .collect();
        point.fail(format!(
            "the rerun ends with {} documents ({} chunks), an uninterrupted run with {} ({} chunks); e.g. {differ:?}",
            chunks.len(),
            chunks.values().sum::<u64>(),
            expected.len(),
            expected.values().sum::<u64>()
        ));
    }
    rerun
}

/// `lore sync` killed while it applies changed, added and deleted files under a synced root.
#[test]
fn sync_killed_at_random_moments_is_repaired_and_completed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("synced");
    let mut rng = Rng::new(11);
    write_notes(&root, 150, 3, &mut rng);
    let before = read_tree(&root);
    // Between the runs: a fifth of the files change, a fifth go, 60 new ones come.
    let mut after: Tree = Vec::new();
    for (i, (name, bytes)) in before.iter().enumerate() {
        match i % 5 {
            0 => {
                let mut changed = bytes.clone();
                changed.extend_from_slice(format!("\nA line added to {name} between the runs.\n").as_bytes());
                after.push((name.clone(), changed));
            }
            1 => {}
            _ => after.push((name.clone(), bytes.clone())),
        }
    }
    let fresh = dir.path().join("fresh");
    write_notes(&fresh, 60, 0, &mut rng);
    after.extend(read_tree(&fresh).into_iter().map(|(name, bytes)| (format!("new_{name}"), bytes)));

    lay_out(&root, &before);
    let start = new_library();
    add(&start, std::slice::from_ref(&root)).ok();
    let baseline = Lore::copy_of(&start);
    lay_out(&root, &after);
    let (_, about) = timed(&baseline, &["sync"]);
    StoreView::read(baseline.home()).check_exact().expect("an uninterrupted sync is consistent");
    let expected = chunks_by_source(&baseline);
    assert_eq!(expected.len(), after.len(), "the uninterrupted sync holds every file of the root");
    eprintln!(
        "sync: {} files before, {} after; an uninterrupted sync took {} ms",
        before.len(),
        after.len(),
        about.as_millis()
    );
    let master = Rng::from_env("LORE_CRASH_SEED");
    for run in runs_by_default(1) {
        kill_and_rerun("sync", run, &master, 4000, &start, &["sync"], about, &expected);
    }
}

/// An RSS feed of Moby-Dick chapters `chapters`, each item carrying `paras` paragraphs of its
/// chapter as full content (no article is fetched), changed items `changed` one more.
fn moby_feed(chapters: std::ops::Range<usize>, paras: usize, changed: std::ops::Range<usize>) -> String {
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\" \
         xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"><channel><title>Crash News</title>\
         <link>http://example.org/</link><description>test feed</description>",
    );
    for n in chapters {
        let take = if changed.contains(&n) { paras + 1 } else { paras };
        let text = std::fs::read_to_string(data(&format!("docs/text/moby-dick/chapter_{n}.txt"))).unwrap();
        let html: String = text
            .split("\n\n")
            .map(str::trim)
            .filter(|p| p.len() > 40)
            .take(take)
            .map(|p| format!("<p>{}</p>", escape(p)))
            .collect();
        out.push_str(&format!(
            "<item><title>Chapter {n}</title><guid isPermaLink=\"false\">moby-{n}</guid>\
             <pubDate>Sun, {:02} Nov 2026 10:00:00 GMT</pubDate><content:encoded>{}</content:encoded></item>",
            1 + n % 28,
            escape(&html)
        ));
    }
    out.push_str("</channel></rss>");
    out
}

/// `lore feed refresh` killed while it adds new items and replaces changed ones; the feed's
/// server answers with an `ETag` and honours `If-None-Match`, so a refresh that recorded the
/// new tag before its items were written would never finish them.
#[test]
fn feed_refresh_killed_at_random_moments_is_repaired_and_completed() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let feed: Arc<Mutex<(String, String)>> = Arc::default();
    let served = feed.clone();
    let site = rt.block_on(TestServer::start(move |req: &Request| {
        let (xml, etag) = served.lock().unwrap().clone();
        if req.header("if-none-match") == Some(etag.as_str()) {
            return Reply::status(304).header("ETag", &etag);
        }
        Reply::ok("application/rss+xml", xml.into_bytes()).header("ETag", &etag)
    }));
    let url = site.url("/feed.xml");
    *feed.lock().unwrap() = (moby_feed(1..31, 3, 0..0), "\"v1\"".into());
    let start = new_library();
    let added = start.spawn(&["feed", "add", &url]).wait(HANG);
    assert_eq!(added.code, 0, "{}", added.stderr);
    assert_eq!(chunks_by_source(&start).len(), 30, "{}", added.stdout);
    // The feed gains 20 items and 8 of its items change.
    *feed.lock().unwrap() = (moby_feed(1..51, 3, 1..9), "\"v2\"".into());
    let baseline = Lore::copy_of(&start);
    let (refresh, about) = timed(&baseline, &["feed", "refresh"]);
    StoreView::read(baseline.home()).check_exact().expect("an uninterrupted refresh is consistent");
    let expected = chunks_by_source(&baseline);
    assert_eq!(expected.len(), 50, "{}", refresh.stdout);
    let changed = (1..9).filter(|n| {
        let source = expected.keys().find(|s| s.ends_with(&format!("#moby-{n}"))).unwrap();
        chunks_by_source(&start)[source] != expected[source]
    });
    assert!(changed.count() > 0, "the changed items have other chunks");
    eprintln!(
        "feed refresh: 30 items, then 50 with 8 changed; an uninterrupted refresh took {} ms",
        about.as_millis()
    );
    let master = Rng::from_env("LORE_CRASH_SEED");
    for run in runs_by_default(1) {
        kill_and_rerun("feed refresh", run, &master, 5000, &start, &["feed", "refresh"], about, &expected);
    }
}

/// What `lore optimize` printed: vectors outside the HNSW index before and after.
fn optimized(stdout: &str) -> Option<(u64, u64)> {
    let line = stdout.lines().find(|l| l.starts_with("Optimized the vector store"))?;
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|w| !w.is_empty())
        .filter_map(|w| w.parse().ok())
        .collect();
    // "in 1.2s: N vectors ..., M are now": the seconds come first, as two numbers.
    match numbers.as_slice() {
        [.., before, after] => Some((*before, *after)),
        _ => None,
    }
}

/// `lore optimize` killed while it builds the HNSW index of the embedded vector store: a library
/// with enough vectors (short chunks of Moby-Dick) that the index is really built, and
/// `qdrant.optimize_after` at 1 vector.
#[test]
fn optimize_killed_at_random_moments_is_repaired_and_completed() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("book");
    std::fs::create_dir_all(&book).unwrap();
    for n in 1..=40 {
        let name = format!("chapter_{n}.txt");
        std::fs::copy(data(&format!("docs/text/moby-dick/{name}")), book.join(&name)).unwrap();
    }
    let start = Lore::new();
    // Short chunks make many vectors from little text; no background optimize during the add.
    let config = "[ingest]\nchunk_tokens = 16\nchunk_overlap = 0\n\n[qdrant]\noptimize_after = 0\n";
    std::fs::write(start.home().join("config.toml"), config).unwrap();
    add(&start, std::slice::from_ref(&book)).ok();
    std::fs::write(
        start.home().join("config.toml"),
        config.replace("optimize_after = 0", "optimize_after = 1"),
    )
    .unwrap();
    let expected = chunks_by_source(&start);
    let baseline = Lore::copy_of(&start);
    let (run, about) = timed(&baseline, &["optimize"]);
    let (before, after) = optimized(&run.stdout).unwrap_or_else(|| panic!("no figures: {}", run.stdout));
    assert!(after < before, "the HNSW index was not built: {}", run.stdout);
    StoreView::read(baseline.home()).check_exact().expect("an uninterrupted optimize is consistent");
    eprintln!(
        "optimize: {} chunks; an uninterrupted optimize took {} ms: {}",
        expected.values().sum::<u64>(),
        about.as_millis(),
        run.stdout.trim()
    );
    let master = Rng::from_env("LORE_CRASH_SEED");
    for run in runs_by_default(1) {
        let rerun = kill_and_rerun("optimize", run, &master, 6000, &start, &["optimize"], about, &expected);
        // The rerun finished the index whatever the killed run had done.
        let done =
            rerun.stdout.contains("up to date") || optimized(&rerun.stdout).is_some_and(|(b, a)| a < b);
        assert!(done, "optimize run {run}: the rerun did not build the index: {}", rerun.stdout);
    }
}

/// The terminal UI (in tmux) killed while it adds a folder in the background: the library opens
/// and is repaired, and `lore add` of the same folder completes it.
#[test]
fn ui_add_killed_at_random_moments_is_repaired_and_completed() {
    let corpus = corpus();
    let root = &corpus.roots[0];
    let prefix = std::fs::canonicalize(root).unwrap().display().to_string();
    let expected: BTreeMap<String, u64> =
        corpus.chunks.iter().filter(|(s, _)| s.starts_with(&prefix)).map(|(s, n)| (s.clone(), *n)).collect();
    let master = Rng::from_env("LORE_CRASH_SEED");
    for run in runs_by_default(1) {
        let mut rng = master.fork(7000 + run as u64);
        let lore = new_library();
        let target = rng.range(0, expected.len() as u64);
        let jitter = Duration::from_millis(rng.range(0, 50));
        let point = Point {
            what: format!(
                "UI add, run {run} (LORE_CRASH_SEED={}): killed at {target} documents in the catalog + {} ms",
                master.seed(),
                jitter.as_millis()
            ),
        };
        eprintln!("{}", point.what);
        let t = Tmux::start(&[("LORE_HOME", lore.home().display().to_string()), ("NO_COLOR", "1".into())]);
        t.wait_for("the shell's prompt", Duration::from_secs(10), |s| !s.trim().is_empty());
        t.type_text(&format!("exec {}", lore_tests::lore_bin().display()));
        t.keys(&["Enter"]);
        t.wait_for("the first frame", Duration::from_secs(60), |s| s.contains("Library · 0 docs"));
        let pid = t.display("#{pane_pid}");
        t.keys(&["Tab", "Tab", "a"]);
        t.wait_for("the add popup", Duration::from_secs(10), |s| s.contains("Add a file or folder"));
        t.type_text(&root.display().to_string());
        t.keys(&["Enter"]);
        let started = Instant::now();
        let home = lore.home().to_path_buf();
        while catalog_documents(&home) < target && !t.screen().contains("added ") {
            assert!(started.elapsed() < HANG, "{}: the UI's add never got there", point.what);
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(jitter);
        let screen = t.screen();
        let kill = std::process::Command::new("kill").args(["-9", &pid]).output().unwrap();
        assert!(kill.status.success(), "kill -9 {pid}: {}", String::from_utf8_lossy(&kill.stderr));
        drop(t);
        let killed = Run { code: -1, stdout: String::new(), stderr: screen };
        check_after_kill(&lore, &point, &killed);
        let rerun = add(&lore, std::slice::from_ref(root));
        if rerun.code != 0 {
            point.fail(format!("the rerun failed:\n{}", rerun.stderr));
        }
        if let Err(e) = StoreView::read(lore.home()).check_exact() {
            point.fail(format!("after the rerun:\n{e}"));
        }
        if chunks_by_source(&lore) != expected {
            point.fail("the rerun does not end where an uninterrupted add ends");
        }
    }
}

/// `lore add` killed at random moments with the vectors on a Qdrant server (`QDRANT_URL`; each
/// run its own collection).
#[test]
fn server_backed_add_killed_at_random_moments_is_repaired_and_completed() {
    let Some(url) = std::env::var("QDRANT_URL").ok().filter(|u| !u.trim().is_empty()) else {
        lore_tests::skip("qdrant", "QDRANT_URL is not set (scripts/qdrant.sh start prints it)");
        return;
    };
    let corpus = corpus();
    let master = Rng::from_env("LORE_CRASH_SEED");
    for run in runs_by_default(1) {
        let mut rng = master.fork(8000 + run as u64);
        let lore = Lore::new();
        let collection = format!("lore-crash-{}-{run}-{}", std::process::id(), master.seed());
        std::fs::write(
            lore.home().join("config.toml"),
            format!("[qdrant]\noptimize_after = 0\nurl = \"{url}\"\ncollection = \"{collection}\"\n"),
        )
        .unwrap();
        let options = lore_index::EngineOptions {
            server: Some(lore_index::ServerOptions {
                url: url.clone(),
                collection: collection.clone(),
                ..Default::default()
            }),
            ..lore_tests::stores::engine_options()
        };
        let target = rng.range(0, corpus.documents as u64);
        let jitter = Duration::from_millis(rng.range(0, 50));
        let point = Point {
            what: format!(
                "server-backed add, run {run} (LORE_CRASH_SEED={}): killed at {target} documents in the catalog + {} ms",
                master.seed(),
                jitter.as_millis()
            ),
        };
        eprintln!("{}", point.what);
        let mut args = vec!["add"];
        args.extend(corpus.roots.iter().map(|r| r.to_str().unwrap()));
        let home = lore.home().to_path_buf();
        let (killed, _) = kill_when(lore.spawn(&args), || catalog_documents(&home) >= target, jitter);
        let point = point.killed(&killed);
        if killed.stderr.contains("panicked") {
            point.fail(format!("lore panicked before the kill:\n{}", killed.stderr));
        }
        if let Err(e) = StoreView::open_with(lore.home(), &options).and_then(|v| v.check_committed()) {
            point.fail(format!("after the kill, before any repair:\n{e}"));
        }
        let repair = lore.run(&["doctor", "--repair", "--json"]);
        if doctor_check(&repair, "repair")["status"] != "ok" {
            point.fail(format!("the repair failed:\n{}\n{}", repair.stdout, repair.stderr));
        }
        if let Err(e) = StoreView::open_with(lore.home(), &options).and_then(|v| v.check_exact()) {
            point.fail(format!("after the repair:\n{e}"));
        }
        let rerun = add(&lore, &corpus.roots);
        if rerun.code != 0 {
            point.fail(format!("the rerun failed:\n{}", rerun.stderr));
        }
        if let Err(e) = StoreView::open_with(lore.home(), &options).and_then(|v| v.check_exact()) {
            point.fail(format!("after the rerun:\n{e}"));
        }
        if chunks_by_source(&lore) != corpus.chunks {
            point.fail("the rerun does not end where an uninterrupted add ends");
        }
    }
}
