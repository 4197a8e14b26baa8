//! `lore sync`, `lore roots` and `lore related` through the real binary, on a folder of real
//! documents that changes on disk; and `lore sync --watch` picking up a file written while it
//! runs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use lore_tests::{Lore, data};

/// A folder with three Python FAQ pages and three Moby-Dick chapters.
fn source_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("faq")).unwrap();
    std::fs::create_dir_all(dir.path().join("moby")).unwrap();
    for f in ["gui.html", "installed.html", "windows.html"] {
        std::fs::copy(data(&format!("docs/html/python3.11-faq/{f}")), dir.path().join("faq").join(f))
            .unwrap();
    }
    for n in [111, 117, 120] {
        let f = format!("chapter_{n}.txt");
        std::fs::copy(data(&format!("docs/text/moby-dick/{f}")), dir.path().join("moby").join(&f)).unwrap();
    }
    dir
}

fn canonical(p: &Path) -> String {
    std::fs::canonicalize(p).unwrap().display().to_string()
}

fn search_sources(lore: &Lore, mode: &str, query: &str) -> Vec<String> {
    let run = lore.run(&["search", "--json", "--mode", mode, query]).ok();
    run.json().as_array().unwrap().iter().map(|h| h["source"].as_str().unwrap().to_string()).collect()
}

fn doc_id(lore: &Lore, source: &str) -> Option<i64> {
    lore.docs().iter().find(|d| d["source"] == source).map(|d| d["id"].as_i64().unwrap())
}

#[test]
fn sync_follows_a_changing_folder_and_related_finds_faq_pages() {
    let lore = Lore::new();
    let src = source_folder();
    let dir = src.path().to_str().unwrap();
    lore.run(&["add", dir, "--tag", "mine"]).ok();
    assert_eq!(lore.docs().len(), 6);

    // Related reading for a FAQ page: the other FAQ pages come before the novel.
    let gui = canonical(&src.path().join("faq/gui.html"));
    let run = lore.run(&["related", &gui, "--json", "--k", "5"]).ok();
    let related = run.json()["related"].as_array().unwrap().clone();
    let sources: Vec<&str> = related.iter().map(|r| r["source"].as_str().unwrap()).collect();
    assert_eq!(sources.len(), 5, "{sources:?}");
    assert!(sources[..2].iter().all(|s| s.contains("/faq/")), "FAQ pages first: {sources:?}");
    assert!(!sources.contains(&gui.as_str()), "not itself");
    assert!(!related[0]["pairs"].as_array().unwrap().is_empty(), "connecting passages are given");
    let text = lore.run(&["related", &gui]).ok().stdout;
    assert!(text.contains("Related to Graphic User Interface FAQ"), "{text}");

    // No change: everything unchanged.
    let report = lore.run(&["sync", "--json"]).ok().json();
    assert_eq!(report["unchanged"], 6, "{report}");
    assert_eq!(report["changes"].as_array().unwrap().len(), 0, "{report}");

    // Modify one, delete one, rename one, add one.
    let deleted = canonical(&src.path().join("faq/installed.html"));
    let phrase = "Perhaps another user on the computer wanted to learn programming and installed it";
    assert_eq!(search_sources(&lore, "keyword", phrase).first(), Some(&deleted));
    let renamed_from = canonical(&src.path().join("moby/chapter_120.txt"));
    let renamed_id = doc_id(&lore, &renamed_from).unwrap();
    let modified = src.path().join("moby/chapter_111.txt");
    std::fs::remove_file(&deleted).unwrap();
    let renamed_to = src.path().join("moby/night-watch.txt");
    std::fs::rename(&renamed_from, &renamed_to).unwrap();
    let mut text = std::fs::read_to_string(&modified).unwrap();
    text.push_str("\n\nA pencilled note: the xylophonist repaired the quadrant.\n");
    std::fs::write(&modified, text).unwrap();
    let added = src.path().join("moby/chapter_122.txt");
    std::fs::copy(data("docs/text/moby-dick/chapter_122.txt"), &added).unwrap();

    let report = lore.run(&["sync", "--json"]).ok().json();
    let counts: Vec<i64> = ["added", "updated", "removed", "renamed", "unchanged"]
        .iter()
        .map(|k| report[k].as_i64().unwrap())
        .collect();
    assert_eq!(counts, vec![1, 1, 1, 1, 3], "{report}");
    assert!(report["failed"].as_array().unwrap().is_empty(), "{report}");

    // Each change shows in searches and the listing.
    for mode in ["keyword", "vector"] {
        assert!(!search_sources(&lore, mode, phrase).contains(&deleted), "{mode}: the deleted page is gone");
    }
    assert_eq!(
        doc_id(&lore, &canonical(&renamed_to)),
        Some(renamed_id),
        "the renamed file keeps its identity"
    );
    assert_eq!(doc_id(&lore, &renamed_from), None);
    let renamed = report["changes"].as_array().unwrap().iter().find(|c| c["change"] == "renamed").unwrap();
    assert!(renamed.get("chunks").is_none(), "a rename writes no chunks: {renamed}");
    assert_eq!(
        search_sources(&lore, "keyword", "xylophonist repaired the quadrant").first(),
        Some(&canonical(&modified))
    );
    assert_eq!(
        search_sources(&lore, "hybrid", "Midnight Aloft Thunder and Lightning").first(),
        Some(&canonical(&added))
    );
    let text = lore.run(&["sync"]).ok().stdout;
    assert!(text.contains("0 added, 0 updated, 0 removed, 0 renamed, 6 unchanged"), "{text}");

    // The root is listed; removing it with --purge removes its documents.
    let roots = lore.run(&["roots", "--json"]).ok().json();
    let roots = roots.as_array().unwrap();
    assert_eq!(roots.len(), 1);
    assert_eq!(roots[0]["path"], canonical(src.path()));
    assert_eq!(roots[0]["documents"], 6);
    assert_eq!(roots[0]["tags"][0], "mine");
    let out = lore.run(&["roots", "rm", dir, "--purge"]).ok().stdout;
    assert!(out.contains("removed its 6 documents"), "{out}");
    assert!(lore.docs().is_empty());
    assert!(lore.run(&["roots", "--json"]).ok().json().as_array().unwrap().is_empty());
    let err = lore.run(&["roots", "rm", "/no/such/root"]);
    assert_ne!(err.code, 0);
    assert!(err.stderr.contains("not a source root"), "{}", err.stderr);
}

#[test]
fn watch_picks_up_a_file_written_after_it_started() {
    let lore = Lore::new();
    let src = tempfile::tempdir().unwrap();
    std::fs::copy(data("docs/text/moby-dick/chapter_122.txt"), src.path().join("chapter_122.txt")).unwrap();
    lore.run(&["add", src.path().to_str().unwrap()]).ok();

    let mut child =
        lore.cmd(&["sync", "--watch"]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // Generous limits: they only keep a broken watcher from hanging the test.
    let wait_for = |what: &dyn Fn(&str) -> bool| -> Vec<String> {
        let mut seen = Vec::new();
        while let Ok(line) = lines.recv_timeout(Duration::from_secs(120)) {
            let done = what(&line);
            seen.push(line);
            if done {
                return seen;
            }
        }
        panic!("not seen; the watcher printed:\n{}", seen.join("\n"));
    };
    wait_for(&|l| l.starts_with("Watching 1 source root"));

    let new: PathBuf = src.path().join("chapter_117.txt");
    std::fs::copy(data("docs/text/moby-dick/chapter_117.txt"), &new).unwrap();
    wait_for(&|l| l.contains("added") && l.contains("chapter_117.txt"));
    wait_for(&|l| l.starts_with("Synced 1 root: 1 added"));

    let interrupted =
        std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(interrupted.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "Ctrl-C stops it cleanly: {status:?}");
    wait_for(&|l| l == "Stopped watching.");

    let docs = lore.docs();
    assert_eq!(docs.len(), 2);
    assert!(docs.iter().any(|d| d["source"] == canonical(&new)));
    let hits =
        search_sources(&lore, "keyword", "the waif-pole was thrust upright into the dead whale's spout-hole");
    assert_eq!(hits.first(), Some(&canonical(&new)));
}

fn show_json(lore: &Lore, doc: &str) -> serde_json::Value {
    lore.run(&["show", "--json", doc]).ok().json()
}

fn paths_of(shown: &serde_json::Value) -> Vec<String> {
    shown["paths"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_string()).collect()
}

#[test]
fn an_identical_file_at_a_second_path_is_kept_once_while_any_path_remains() {
    let lore = Lore::new();
    let src = tempfile::tempdir().unwrap();
    let chapter = data("docs/text/moby-dick/chapter_117.txt");
    std::fs::create_dir_all(src.path().join("a")).unwrap();
    std::fs::create_dir_all(src.path().join("b")).unwrap();
    let first = src.path().join("a/watch.txt");
    let second = src.path().join("b/watch-copy.txt");
    std::fs::copy(&chapter, &first).unwrap();
    std::fs::copy(&chapter, &second).unwrap();
    std::fs::copy(data("docs/text/moby-dick/chapter_111.txt"), src.path().join("a/other.txt")).unwrap();
    let (first, second) = (canonical(&first), canonical(&second));

    // Added once, with both paths remembered; `add` says which document it is the same as.
    let added = lore.run(&["add", src.path().to_str().unwrap()]).ok();
    assert!(added.stdout.contains("same content as"), "{}", added.stdout);
    let docs = lore.docs();
    assert_eq!(docs.len(), 2, "{docs:?}");
    let id = doc_id(&lore, &first).unwrap().to_string();
    let shown = show_json(&lore, &id);
    assert_eq!(paths_of(&shown), [first.clone(), second.clone()]);
    let text = lore.run(&["show", &id]).ok().stdout;
    assert!(text.contains(&first) && text.contains(&second), "{text}");
    // Adding the copy again embeds nothing and names the document.
    let again = lore.run(&["add", &second]).ok();
    assert!(
        again.stdout.contains(&format!("same content as {}", shown["document"]["title"].as_str().unwrap())),
        "{}",
        again.stdout
    );
    assert_eq!(lore.docs().len(), 2);

    // Removing one path keeps the document at the other.
    let removed = lore.run(&["rm", &first]).ok();
    assert!(removed.stdout.contains("stays at"), "{}", removed.stdout);
    let shown = show_json(&lore, &id);
    assert_eq!(paths_of(&shown), vec![second.clone()]);
    assert_eq!(lore.docs().len(), 2);
    let hits = search_sources(&lore, "keyword", "waif-pole spout-hole lantern");
    assert!(hits.contains(&second), "{hits:?}");
    std::fs::remove_file(&first).unwrap();

    // A sync: a new copy joins the document; its first path gone, the copy keeps it; the last
    // path gone, it goes.
    let third = src.path().join("a/watch-again.txt");
    std::fs::copy(&chapter, &third).unwrap();
    let third = canonical(&third);
    let report = lore.run(&["sync", "--json"]).ok().json();
    assert_eq!(report["same_content"], 1, "{report}");
    assert_eq!(report["changes"][0]["change"], "same_content", "{report}");
    assert_eq!(paths_of(&show_json(&lore, &id)), [second.clone(), third.clone()]);
    std::fs::remove_file(&second).unwrap();
    let report = lore.run(&["sync", "--json"]).ok().json();
    assert_eq!(
        (report["paths_removed"].as_u64(), report["removed"].as_u64()),
        (Some(1), Some(0)),
        "{report}"
    );
    assert_eq!(paths_of(&show_json(&lore, &id)), vec![third.clone()]);
    std::fs::remove_file(&third).unwrap();
    let report = lore.run(&["sync", "--json"]).ok().json();
    assert_eq!(report["removed"], 1, "{report}");
    assert_eq!(lore.docs().len(), 1);
}
