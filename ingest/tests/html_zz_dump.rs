//! Temporary: dumps a loaded file given by LORE_DUMP.
#[test]
#[ignore]
fn dump() {
    let path = std::env::var("LORE_DUMP").unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let doc = if path.ends_with(".epub") {
        lore_ingest::epub::load(&bytes, &path).unwrap()
    } else if path.ends_with(".md") || path.ends_with(".txt") {
        lore_ingest::markdown::load(&lore_ingest::text::decode(&bytes, &path).unwrap().text, &path).unwrap()
    } else {
        lore_ingest::html::load(&lore_ingest::text::decode(&bytes, &path).unwrap().text, &path).unwrap()
    };
    println!("TITLE {:?}\nAUTHORS {:?}\nLANG {:?}\nPUB {:?}\nSECTIONS {}", doc.title, doc.authors, doc.language, doc.published, doc.sections.len());
    let full = std::env::var("LORE_FULL").is_ok();
    for s in &doc.sections {
        let t: String = if full { s.text.clone() } else { s.text.chars().take(300).collect() };
        println!("=== {:?} @ {:?} ({} bytes)\n{}", s.heading_path, s.anchor, s.text.len(), t);
    }
}
