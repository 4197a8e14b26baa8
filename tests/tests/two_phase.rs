//! The two phases of `lore add`: a document is searchable by keywords as soon as it is read,
//! its vectors follow in the same add; killed between the phases (`kill -9` once the catalog
//! shows the document committed and its chunks awaiting vectors), the library searches it by
//! keywords, says how many chunks await vectors (`lore search`, `lore doctor`), and the next
//! `lore add` or `lore sync` embeds them, each chunk once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use lore_index::catalog::Catalog;
use lore_tests::stores::StoreView;
use lore_tests::{Lore, Run, data};

/// Longest any one command may take before the test calls it hung.
const HANG: Duration = Duration::from_secs(1200);

/// A document of a few hundred chunks: its embedding takes long enough to kill the add in it.
const MANUAL: &str = "docs/pdf/live-manual.portrait.en.a4.pdf";

/// A question the manual answers, with no exact term for the search to anchor on.
const QUESTION: &str = "how can I change the boot parameters of the live system when it starts";

/// A new library that never starts a background `lore optimize` (which would hold the writer
/// lock after a command returns).
fn new_library() -> Lore {
    let lore = Lore::new();
    std::fs::write(lore.home().join("config.toml"), "[qdrant]\noptimize_after = 0\n").unwrap();
    lore
}

fn search(lore: &Lore, args: &[&str]) -> (Vec<serde_json::Value>, Run) {
    let mut all = vec!["search", "--json"];
    all.extend_from_slice(args);
    let run = lore.run(&all).ok();
    match run.json() {
        serde_json::Value::Array(a) => (a, run),
        other => panic!("not a list: {other}"),
    }
}

/// The catalog's view: documents, journal entries, chunks awaiting vectors (`None` while the
/// library is being created).
fn catalog_state(home: &Path) -> Option<(u64, usize, u64)> {
    if !home.join(lore_index::layout::KEYWORD_DIR).join("meta.json").exists() {
        return None;
    }
    let cat = Catalog::open_read_only(&home.join(lore_index::layout::CATALOG_FILE)).ok()?;
    Some((cat.counts().ok()?.0, cat.journal().ok()?.len(), cat.vectors_pending().ok()?))
}

fn doctor_library(lore: &Lore) -> serde_json::Value {
    let run = lore.run(&["doctor", "--json"]);
    run.json()
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == "library"))
        .cloned()
        .unwrap_or_else(|| panic!("no library check:\n{}", run.stdout))
}

/// Starts `lore add PATH` and kills it with SIGKILL once `docs` documents are committed (none
/// in the journal) and chunks await their vectors: between the two phases.
fn add_killed_between_phases(lore: &Lore, path: &Path, docs: u64) -> u64 {
    let mut running = lore.spawn(&["add", path.to_str().unwrap()]);
    let started = Instant::now();
    loop {
        if let Some((n, 0, pending)) = catalog_state(lore.home())
            && n >= docs
            && pending > 0
        {
            let killed = running.kill9();
            assert!(!killed.stderr.contains("panicked"), "{}", killed.stderr);
            return pending;
        }
        assert!(!running.finished(), "the add finished before its second phase could be interrupted");
        assert!(started.elapsed() < HANG, "the add never reached its second phase");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// What a library killed between the phases shows: the manual is searchable by keywords, its
/// best keyword match ranks first in a hybrid search although it has no vector, and both
/// `lore search` and `lore doctor` say how many chunks await vectors.
fn check_between_phases(lore: &Lore) {
    let view = StoreView::read(lore.home());
    view.check_committed().unwrap_or_else(|e| panic!("between the phases: {e}"));
    assert!(view.journal.is_empty(), "the first phase was committed: {:?}", view.journal);
    let pending = view.vectors_pending.len();
    assert!(pending > 0);

    let (keyword, _) = search(lore, &["--mode", "keyword", "--k", "5", QUESTION]);
    let top = &keyword[0];
    assert!(top["source"].as_str().unwrap().ends_with(".pdf"), "keyword search finds the manual: {top}");
    assert_eq!(top["vector_pending"], true, "{top}");
    // The other document has vectors and the manual none: fused as if its missing vector
    // scored 0, the manual's best match would sink below the other document's chunks.
    let (hybrid, run) = search(lore, &["--k", "5", QUESTION]);
    assert_eq!(hybrid[0]["chunk"]["id"], top["chunk"]["id"], "hybrid ranks it by keywords: {:#}", hybrid[0]);
    assert_eq!(hybrid[0]["vector_pending"], true);
    assert!(
        run.stderr.contains(&format!("note: {pending} chunks still await their vectors")),
        "search says how many chunks await vectors: {}",
        run.stderr
    );

    let library = doctor_library(lore);
    assert_eq!(library["status"], "ok", "{library}");
    assert_eq!(library["stores"]["vectors_pending"], pending, "{library}");
    let detail = library["detail"].as_str().unwrap();
    assert!(detail.contains(&format!("{pending} chunks still await their vectors")), "{detail}");
}

/// What a library shows once the vectors are made: every chunk in all three stores once, none
/// awaiting vectors, and the manual found by vectors alone.
fn check_complete(lore: &Lore) {
    StoreView::read(lore.home()).check_exact().unwrap_or_else(|e| panic!("after the vectors were made: {e}"));
    let library = doctor_library(lore);
    assert_eq!(library["status"], "ok", "{library}");
    assert_eq!(library["stores"]["vectors_pending"], 0, "{library}");
    let (vector, run) = search(lore, &["--mode", "vector", "--k", "5", QUESTION]);
    assert!(vector[0]["source"].as_str().unwrap().ends_with(".pdf"), "{}", vector[0]);
    assert!(!run.stderr.contains("await"), "{}", run.stderr);
    let (hybrid, _) = search(lore, &["--k", "5", QUESTION]);
    assert!(hybrid.iter().all(|h| h["vector_pending"] == false));
    assert!(hybrid[0]["similarity"].is_number(), "{}", hybrid[0]);
}

#[test]
fn a_document_is_searchable_by_keywords_first_and_its_vectors_follow() {
    let lore = new_library();
    let manual = data(MANUAL);
    let mut running = lore.spawn(&["add", manual.to_str().unwrap()]);
    // The manual is found by keywords while the add may still be embedding it.
    let started = Instant::now();
    let found_running = loop {
        let finished = running.finished();
        if catalog_state(lore.home()).is_some_and(|(docs, journal, _)| docs > 0 && journal == 0) {
            let (hits, _) = search(&lore, &["--mode", "keyword", "--k", "3", QUESTION]);
            if !hits.is_empty() {
                assert!(hits[0]["source"].as_str().unwrap().ends_with(".pdf"));
                break !finished;
            }
        }
        assert!(!finished, "the add finished and its document is not searchable");
        assert!(started.elapsed() < HANG, "the document never became searchable");
        std::thread::sleep(Duration::from_millis(20));
    };
    eprintln!("found by keywords while the add was running: {found_running}");
    let add = running.wait(HANG);
    assert_eq!(add.code, 0, "{}", add.stderr);
    check_complete(&lore);
}

#[test]
fn killed_between_the_phases_the_next_add_or_sync_makes_the_vectors() {
    let lore = new_library();
    lore.run(&["add", data("docs/text/moby-dick/chapter_1.txt").to_str().unwrap()]).ok();
    let manual = data(MANUAL);

    // Killed between the phases; `lore sync` completes the vectors.
    add_killed_between_phases(&lore, &manual, 2);
    check_between_phases(&lore);
    let sync = lore.spawn(&["sync"]).wait(HANG);
    assert_eq!(sync.code, 0, "{}", sync.stderr);
    check_complete(&lore);

    // Removed and added again, killed between the phases again; the rerun of the add, which
    // finds the file unchanged, completes the vectors.
    lore.run(&["rm", manual.to_str().unwrap()]).ok();
    add_killed_between_phases(&lore, &manual, 2);
    check_between_phases(&lore);
    let rerun = lore.spawn(&["add", manual.to_str().unwrap()]).wait(HANG);
    assert_eq!(rerun.code, 0, "{}", rerun.stderr);
    assert!(rerun.stdout.contains("Nothing new"), "{}", rerun.stdout);
    check_complete(&lore);
}
