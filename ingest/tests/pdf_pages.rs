//! Page marks, sections and metadata of real PDFs.
//!
//! Each phrase below is printed on the given page by `pdftotext -f N -l N` (and appears once in
//! the document); the loader must put it in a section whose page marks map its offset to page N.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lore_ingest::{Document, Kind};

const PDF_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/docs/pdf");

fn load(name: &str) -> Document {
    let path = format!("{PDF_DIR}/{name}");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    lore_ingest::pdf::load(&bytes, &path).unwrap()
}

/// Text with white space runs collapsed to one space, and for each byte of it the byte offset in
/// the original.
fn collapse(text: &str) -> (String, Vec<usize>) {
    let mut out = String::new();
    let mut map = Vec::new();
    let mut in_space = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if !in_space && !out.is_empty() {
                out.push(' ');
                map.push(i);
            }
            in_space = true;
            continue;
        }
        in_space = false;
        out.push(c);
        map.extend(std::iter::repeat_n(i, c.len_utf8()));
    }
    (out, map)
}

/// The page of the single place `phrase` occurs in the document (white space normalised).
fn page_of(doc: &Document, phrase: &str) -> u32 {
    let mut found = Vec::new();
    for section in &doc.sections {
        let (flat, map) = collapse(&section.text);
        for (at, _) in flat.match_indices(phrase) {
            found.push(section.page_at(map[at]).expect("sections of a PDF have page marks"));
        }
    }
    assert_eq!(found.len(), 1, "{phrase:?} found {} times", found.len());
    found[0]
}

#[test]
fn phrases_land_on_their_pages_in_r_intro() {
    let doc = load("R-intro.pdf");
    assert_eq!(doc.kind, Kind::Pdf);
    assert_eq!(doc.page_count, Some(113));
    for (phrase, page) in [
        ("Data which is saved will be available in future R sessions.", 10),
        ("See the help facility for further details.", 50),
        ("All points are inside the unit circle, but the distribution is not uniform.", 97),
    ] {
        assert_eq!(page_of(&doc, phrase), page, "{phrase}");
    }
}

#[test]
fn phrases_land_on_their_pages_in_debian_reference() {
    let doc = load("debian-reference.en.pdf");
    assert_eq!(doc.page_count, Some(261));
    for (phrase, page) in [
        ("I tried to elucidate hierarchical aspects and lower levels of the system.", 25),
        ("Generic network optimization is beyond the scope of this documentation.", 130),
        ("Section 9.11.4 to understand basic chroot techniques", 259),
    ] {
        assert_eq!(page_of(&doc, phrase), page, "{phrase}");
    }
}

#[test]
fn sections_follow_the_outline_and_marks_are_well_formed() {
    let doc = load("debian-reference.en.pdf");
    assert_eq!(doc.title, "Debian Reference");
    assert_eq!(doc.authors, ["Osamu Aoki"]);
    assert!(doc.sections.len() > 100, "{} sections", doc.sections.len());
    // A section cut mid-page at its heading: it starts with the heading line and its own text.
    let gui = doc
        .sections
        .iter()
        .find(|s| s.heading_path.last().is_some_and(|h| h == "The shell prompt under GUI"))
        .expect("section from the outline");
    assert_eq!(gui.heading_path.len(), 3, "{:?}", gui.heading_path);
    assert!(gui.text.starts_with("1.1.2 The shell prompt under GUI"), "{}", &gui.text[..80]);
    assert!(gui.text.contains("If you installed a GUI environment"));
    assert!(!gui.text.contains("The root account is also called superuser"));
    for s in &doc.sections {
        assert_eq!(s.pages.first().map(|m| m.offset), Some(0), "{:?}", s.heading_path);
        assert!(s.pages.windows(2).all(|w| w[0].offset < w[1].offset && w[0].page < w[1].page));
        assert!(s.pages.iter().all(|m| s.text.is_char_boundary(m.offset) && m.page >= 1 && m.page <= 261));
    }
    // Pages run forward through the document.
    let firsts: Vec<u32> = doc.sections.iter().filter_map(|s| s.pages.first().map(|m| m.page)).collect();
    assert!(firsts.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn words_are_spaced_and_furniture_is_gone() {
    let doc = load("debian-reference.en.pdf");
    let text: String = doc.sections.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join("\n");
    // The document draws words without space characters.
    assert!(text.contains("List of ps command styles"));
    assert!(!text.contains("Listofpscommandstyles"));
    // "Debian Reference" heads every page and "N / 233" numbers them; neither stays.
    assert!(text.matches("Debian Reference").count() < 50, "{}", text.matches("Debian Reference").count());
    assert!(!text.contains("/ 233"));
}

#[test]
fn title_falls_back_to_the_first_page() {
    // R-intro's Info dictionary has no title.
    let doc = load("R-intro.pdf");
    assert_eq!(doc.title, "An Introduction to R");
    assert!(doc.authors.is_empty());
}
