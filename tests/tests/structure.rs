//! Document structure survives the whole path to the catalog: PDF page spans and EPUB chapter
//! titles, checked on real books through the real `lore` binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lore_index::catalog::Catalog;
use lore_tests::{Lore, data};

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn catalog(lore: &Lore) -> Catalog {
    Catalog::open_read_only(&lore.home().join("catalog.sqlite")).unwrap()
}

/// Every chunk that holds `phrase` has a page span containing `page`, and there is one.
fn assert_phrase_on_page(cat: &Catalog, doc_id: i64, phrase: &str, page: u32) {
    let chunks = cat.chunks_of(doc_id, 0, 100_000).unwrap();
    let holding: Vec<_> = chunks.iter().filter(|c| squash(&c.text).contains(phrase)).collect();
    assert!(!holding.is_empty(), "no chunk holds {phrase:?}");
    for c in holding {
        let (a, b) = (c.page_start.unwrap(), c.page_end.unwrap());
        assert!(a <= page && page <= b, "{phrase:?} is on page {page}, chunk {} spans {a}-{b}", c.ordinal);
    }
}

/// (The Debian Reference, whose words carry no spaces, is checked page by page at the ingest
/// level, in `ingest/tests/pdf_pages.rs`: its 900 chunks would add minutes of embedding here.)
#[test]
fn pdf_chunks_know_their_pages() {
    let lore = Lore::new();
    let intro = data("docs/pdf/R-intro.pdf");
    lore.run(&["add", intro.to_str().unwrap()]).ok();
    let cat = catalog(&lore);
    let (intro_id, _) =
        cat.lookup_source(&std::fs::canonicalize(&intro).unwrap().display().to_string()).unwrap().unwrap();
    // Phrases and pages as `pdftotext -f N -l N` shows them (physical page numbers).
    assert_phrase_on_page(&cat, intro_id, "This operator looks back in enclosing environments", 57);
    assert_phrase_on_page(&cat, intro_id, "Data which is saved will be available in future R sessions.", 10);
    assert_phrase_on_page(
        &cat,
        intro_id,
        "All points are inside the unit circle, but the distribution is not uniform.",
        97,
    );
    let doc = cat.get(intro_id).unwrap().unwrap();
    assert_eq!(doc.page_count, Some(113));
    assert_eq!(doc.title, "An Introduction to R");
}

#[test]
fn epub_chapters_are_titled_from_the_table_of_contents() {
    let lore = Lore::new();
    let book = data("docs/epub/Metamorphosis-jackson.epub");
    lore.run(&["add", book.to_str().unwrap()]).ok();
    let docs = lore.docs();
    assert_eq!(docs.len(), 1);
    let shown = lore.run(&["show", &docs[0]["id"].to_string(), "--json"]).ok().json();
    assert_eq!(shown["document"]["title"], "Metamorphosis");
    assert_eq!(shown["document"]["authors"][0], "Franz Kafka");
    assert_eq!(shown["document"]["language"], "en");
    let titles: Vec<String> = shown["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["heading_path"][0].as_str().unwrap_or("").to_string())
        .collect();
    let chapters: Vec<&String> = titles.iter().filter(|t| t.starts_with("CHAPTER")).collect();
    assert_eq!(chapters, ["CHAPTER I", "CHAPTER II", "CHAPTER III"], "all titles: {titles:?}");
    let cat = catalog(&lore);
    let id = docs[0]["id"].as_i64().unwrap();
    let chunks = cat.chunks_of(id, 0, 10_000).unwrap();
    let awakening = chunks.iter().find(|c| c.text.contains("Gregor Samsa woke")).expect("chapter I text");
    assert_eq!(awakening.heading_path.first().map(String::as_str), Some("CHAPTER I"));
}
