//! `lore bench --quick` on a small folder: it ingests, grows a library to the size asked for,
//! times searches and start-ups, and prints figures that hold together; the user's library is
//! not touched and the temporary libraries are removed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use lore_tests::{Lore, data};

fn num(v: &serde_json::Value, key: &str) -> f64 {
    v.get(key).and_then(|x| x.as_f64()).unwrap_or_else(|| panic!("no number {key} in {v}"))
}

#[test]
fn a_quick_bench_prints_sane_figures() {
    let lore = Lore::new();
    let work = tempfile::tempdir().unwrap();
    let faq = data("docs/html/python3.11-faq");
    let run = lore
        .spawn(&[
            "bench",
            "--quick",
            "--limit",
            "3",
            "--json",
            "--work-dir",
            &work.path().display().to_string(),
            &faq.display().to_string(),
        ])
        .wait(Duration::from_secs(600))
        .ok();
    let r = run.json();

    let ing = &r["ingest"];
    assert_eq!(num(ing, "files"), 3.0, "{ing}");
    assert!(num(ing, "documents") >= 1.0 && num(ing, "chunks") >= num(ing, "documents"), "{ing}");
    for rate in ["docs_per_s", "chunks_per_s", "mb_per_s", "embed_s", "parse_s", "index_s"] {
        assert!(num(ing, rate) > 0.0, "{rate} is not positive: {ing}");
    }
    let stages = num(ing, "parse_s") + num(ing, "chunk_s") + num(ing, "embed_s") + num(ing, "index_s");
    assert!((stages - num(ing, "total_s")).abs() < 1e-6, "{ing}");
    let share = num(ing, "embed_share");
    assert!(share > 0.0 && share <= 1.0, "{ing}");

    let sizes = r["sizes"].as_array().unwrap();
    assert_eq!(sizes.len(), 1, "{r}");
    let s = &sizes[0];
    // The library was grown to exactly the quick size from the ingested chunks.
    assert_eq!(num(s, "chunks"), 2000.0, "{s}");
    assert!(num(s, "documents") > num(ing, "documents"), "{s}");
    let searches = s["searches"].as_array().unwrap();
    let modes: Vec<&str> = searches.iter().map(|f| f["mode"].as_str().unwrap()).collect();
    assert_eq!(modes, ["hybrid-first", "keyword", "vector", "hybrid", "embed-query"]);
    for f in searches {
        if f["mode"] == "hybrid-first" {
            // Each question once, at most as many as the runs of a mode.
            assert!(num(f, "runs") >= 1.0 && num(f, "runs") <= 100.0, "{f}");
        } else {
            assert_eq!(num(f, "runs"), 100.0, "{f}");
        }
        let (p50, p95, p99, max) = (num(f, "p50_ms"), num(f, "p95_ms"), num(f, "p99_ms"), num(f, "max_ms"));
        assert!(0.0 < p50 && p50 <= p95 && p95 <= p99 && p99 <= max, "{f}");
        if f["mode"] != "embed-query" {
            // The questions are about the Python FAQ: every mode finds something.
            assert!(num(f, "hits_mean") > 0.0, "{f}");
        }
    }
    assert!(num(s, "search_peak_rss_mb") > 10.0, "{s}");
    assert!(num(s, "first_query_ms") > 0.0, "{s}");
    assert!(num(&s["ls"], "p50_ms") > 0.0, "{s}");
    let tui = &s["tui"];
    if tui["skipped"].is_null() {
        let first = num(tui, "first_frame_p50_ms");
        assert!(first > 0.0 && num(tui, "first_frame_wall_p50_ms") >= first, "{tui}");
        assert!(num(tui, "engine_ready_p50_ms") >= first, "{tui}");
    }

    // A thousand chunks more, written as `lore add` writes them: below `qdrant.optimize_after`
    // no index build starts, and the new vectors are searched exactly.
    let inc = &r["increment"];
    assert_eq!(num(inc, "chunks"), 1000.0, "{inc}");
    assert_eq!(num(inc, "library_chunks"), 3000.0, "{inc}");
    assert_eq!(inc["builds_index"], false, "{inc}");
    assert!(num(inc, "unindexed_vectors") >= 1000.0, "{inc}");
    assert!(num(&inc["hybrid"], "hits_mean") > 0.0, "{inc}");
    assert!(num(inc, "write_s") > 0.0 && num(inc, "update_s") >= 0.0, "{inc}");
    // The quick library is too small for an HNSW index: there is no full build to compare with.
    assert!(inc["full_build_s"].is_null(), "{inc}");

    // The tests configure no chat model: the retrieval overhead is measured, the rest skipped.
    let ask = &r["ask"];
    assert!(num(&ask["retrieval"], "p50_ms") > 0.0, "{ask}");
    assert!(ask["skipped"].as_str().unwrap().contains("no chat model"), "{ask}");
    assert!(ask["request_sent"].is_null(), "{ask}");

    let targets = r["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 6, "{r}");
    assert!(targets.iter().all(|t| t["met"].is_boolean() || t["value"].is_null()), "{r}");

    // Nothing was written to the user's library, and the temporary libraries are gone.
    assert!(!lore.catalog_path().exists());
    assert_eq!(std::fs::read_dir(work.path()).unwrap().count(), 0);
}

/// With `qdrant.url` set, `lore bench` keeps the vectors on that server, in a collection of its
/// own that it deletes at the end: the library's collection is never written.
#[test]
fn a_bench_on_a_qdrant_server_uses_a_collection_of_its_own_and_deletes_it() {
    let Some(url) = std::env::var("QDRANT_URL").ok().filter(|u| !u.trim().is_empty()) else {
        lore_tests::skip("qdrant", "QDRANT_URL is not set (scripts/qdrant.sh start prints it)");
        return;
    };
    let lore = Lore::new();
    let collection = format!("lore-bench-test-{}", std::process::id());
    std::fs::write(
        lore.home().join("config.toml"),
        format!("[qdrant]\nurl = \"{url}\"\ncollection = \"{collection}\"\n"),
    )
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    let faq = data("docs/html/python3.11-faq");
    let args = ["--quick", "--limit", "2", "--sizes", "400", "--runs", "10", "--warmup", "1"];
    let mut argv = vec!["bench", "--json", "--asks", "0", "--increment", "0", "--work-dir"];
    let work_dir = work.path().display().to_string();
    let folder = faq.display().to_string();
    argv.push(&work_dir);
    argv.extend(args);
    argv.push(&folder);
    let r = lore.spawn(&argv).wait(Duration::from_secs(600)).ok().json();

    let vectors = r["vectors"].as_str().unwrap();
    let prefix = format!("Qdrant server {url} (collection {collection}-bench-");
    assert!(vectors.starts_with(&prefix), "{vectors}");
    let used = vectors.trim_start_matches(&format!("Qdrant server {url} (collection ")).trim_end_matches(')');
    let s = &r["sizes"][0];
    assert_eq!(num(s, "chunks"), 400.0, "{s}");
    // The searches were timed once the server had indexed the collection.
    assert!(num(s, "optimize_s") >= 1.0, "{s}");
    let vector = s["searches"].as_array().unwrap().iter().find(|f| f["mode"] == "vector").unwrap();
    assert_eq!(num(vector, "runs"), 10.0, "{vector}");
    assert!(num(vector, "hits_mean") >= 1.0 && num(vector, "p50_ms") > 0.0, "{vector}");
    for name in [collection.as_str(), used] {
        let options =
            lore_index::ServerOptions { url: url.clone(), collection: name.into(), ..Default::default() };
        assert!(!lore_index::ServerStore::exists(&options).unwrap(), "collection {name} is on the server");
    }
}
