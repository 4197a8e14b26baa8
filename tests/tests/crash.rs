//! Crash safety: `lore add`, `lore reindex` and `lore rm` killed with SIGKILL at random moments
//! leave a library that opens; once a writer has opened it (here `lore doctor --repair`; any
//! write does the same) the catalog, the keyword index and the vector store hold exactly the
//! same chunks, none twice; and running the command again completes the work, ending where an
//! uninterrupted run ends.
//!
//! `LORE_CRASH_RUNS` kill points per command (3 by default, 20 for the full run);
//! `LORE_CRASH_SEED` replays the kill points of a failing run (the seed is printed);
//! `LORE_CRASH_CORPUS=docs` adds `../shared/data/docs` (plus notes up to 300 documents) instead
//! of 300 generated notes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use lore_tests::corpus::write_notes;
use lore_tests::rng::{Rng, env_count};
use lore_tests::stores::{StoreView, catalog_documents};
use lore_tests::{Lore, Run, data};

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
        StoreView::read(baseline.home()).check_exact().expect("an uninterrupted add is consistent");
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
    match std::env::var("LORE_CRASH_RUN").ok().and_then(|v| v.trim().parse().ok()) {
        Some(run) => vec![run],
        None => (0..env_count("LORE_CRASH_RUNS", 3)).collect(),
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
