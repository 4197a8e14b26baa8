//! After a large ingest, `lore add` builds the embedded vector store's HNSW index in a background
//! `lore optimize`; searches work meanwhile and the next writer gets the library after it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lore_tests::{Lore, data};

#[test]
fn large_ingests_build_the_vector_index_in_the_background() {
    let lore = Lore::new();
    let faq = data("docs/html/python3.11-faq");
    let gui = faq.join("gui.html").display().to_string();
    let installed = faq.join("installed.html").display().to_string();
    // A threshold of one vector makes this small add "large".
    let out = lore.cmd(&["add", &gui]).env("LORE_QDRANT_OPTIMIZE_AFTER", "1").output().expect("run add");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("in the background (`lore optimize`)"), "{stderr}");
    // Searches work while the background run holds the store.
    let hits = lore.run(&["search", "GUI toolkits", "--json"]).ok().json();
    assert!(!hits.as_array().unwrap().is_empty());
    // The background run ends and hands the library to the next writer.
    lore.run(&["add", &installed, "--wait", "120"]).ok();
    let again = lore.run(&["optimize", "--wait", "120"]).ok();
    assert!(again.stdout.contains("Optimized") || again.stdout.contains("up to date"), "{}", again.stdout);
    // Below the threshold nothing starts.
    let quiet = lore.run(&["add", &faq.join("windows.html").display().to_string()]).ok();
    assert!(!quiet.stderr.contains("background"), "{}", quiet.stderr);
    let doctor = lore.run(&["doctor"]);
    assert!(
        doctor.stdout.lines().any(|l| l.starts_with("ok") && l.contains("indexes agree")),
        "{}",
        doctor.stdout
    );
}
