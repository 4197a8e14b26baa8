//! Documentation pages (Sphinx: the Python 3.11 FAQ; DocBook: the Debian Reference) keep all
//! their sections: every heading of the page's content is a section heading, with its anchor,
//! and the section text holds the page's words.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../tests/src/data_dir.rs"]
mod data_dir;

use std::collections::HashSet;
use std::path::PathBuf;

use data_dir::data;
use lore_ingest::Document;
use scraper::{ElementRef, Html, Selector};

fn load(path: &PathBuf) -> (String, Document) {
    let bytes = std::fs::read(path).unwrap();
    let html = lore_ingest::text::decode(&bytes, "t").unwrap().text;
    let doc = lore_ingest::html::load(&html, &path.display().to_string()).unwrap();
    (html, doc)
}

fn clean(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").trim_end_matches('¶').trim().to_string()
}

/// A heading of the page: its text and the anchor a reader would link to.
struct Heading {
    text: String,
    anchor: Option<String>,
}

/// Closes XHTML's empty anchors (`<a id="x"/>`), which an HTML parser would leave open.
fn close_empty_anchors(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(p) = rest.find("<a id=\"") {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        let end = rest.find('>').unwrap();
        if rest[..end].ends_with('/') {
            out.push_str(&rest[..end - 1]);
            out.push_str("></a>");
        } else {
            out.push_str(&rest[..=end]);
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The headings that `selector` finds, without those of empty sections (a heading directly
/// followed by a subsection or another heading: it holds no text of its own).
fn headings(
    html: &str,
    selector: &str,
    skip_empty: bool,
    anchor_of: impl Fn(ElementRef) -> Option<String>,
) -> Vec<Heading> {
    let page = Html::parse_document(&close_empty_anchors(html));
    let sel = Selector::parse(selector).unwrap();
    page.select(&sel)
        .filter(|h| {
            if !skip_empty {
                return true;
            }
            let next = h.next_siblings().filter_map(ElementRef::wrap).next();
            next.is_some_and(|n| {
                !matches!(n.value().name(), "section" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
            })
        })
        .map(|h| Heading {
            text: clean(&h.text().filter(|t| t.trim() != "¶").collect::<String>()),
            anchor: anchor_of(h),
        })
        .filter(|h| !h.text.is_empty())
        .collect()
}

fn words(s: &str) -> HashSet<String> {
    s.split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

/// Checks that each heading heads a section with its anchor, or (a heading with no text of its
/// own before the next one) is in the heading path of a section under it.
fn check_headings(name: &str, doc: &Document, hs: &[Heading]) {
    for h in hs {
        let own = doc.sections.iter().find(|s| s.heading_path.last() == Some(&h.text));
        match own {
            Some(s) => assert_eq!(s.anchor, h.anchor, "{name}: anchor of {:?}", h.text),
            None => assert!(
                doc.sections.iter().any(|s| s.heading_path.contains(&h.text)),
                "{name}: heading {:?} is in no section's heading path",
                h.text
            ),
        }
    }
}

fn section_anchor(h: ElementRef) -> Option<String> {
    h.parent().and_then(ElementRef::wrap).and_then(|p| p.value().attr("id")).map(str::to_string)
}

#[test]
fn python_faq_programming_keeps_every_question() {
    let path = data("docs/html/python3.11-faq/programming.html");
    let (html, doc) = load(&path);
    assert_eq!(doc.title, "Programming FAQ");
    assert_eq!(doc.language.as_deref(), Some("en"));
    let hs = headings(&html, "div.body h2, div.body h3", true, section_anchor);
    assert!(hs.len() > 60, "{} headings", hs.len());
    check_headings("programming.html", &doc, &hs);
    let q = "How do I write a function with output parameters (call by reference)?";
    let s = doc.sections.iter().find(|s| s.heading_path.last().map(String::as_str) == Some(q)).unwrap();
    assert_eq!(s.heading_path, vec!["Programming FAQ", "Core Language", q]);
    assert_eq!(
        s.anchor.as_deref(),
        Some("how-do-i-write-a-function-with-output-parameters-call-by-reference")
    );
    assert!(s.text.contains("By returning a tuple of the results"), "{}", s.text);
    assert!(s.text.contains("This is almost always the clearest solution."));
    assert!(s.text.contains(">>> def func1(a, b):"), "code kept as written: {}", s.text);
    // No sidebar or navigation bar text.
    assert!(doc.sections.iter().all(|s| !s.text.contains("Previous topic") && !s.text.contains("This Page")));
}

#[test]
fn python_faq_pages_keep_their_text() {
    for name in ["design", "extending", "general", "gui", "installed", "library", "programming", "windows"] {
        let path = data(&format!("docs/html/python3.11-faq/{name}.html"));
        let (html, doc) = load(&path);
        let hs = headings(&html, "div.body h1, div.body h2, div.body h3, div.body h4", true, section_anchor);
        check_headings(name, &doc, &hs);
        let page = Html::parse_document(&html);
        let body = page.select(&Selector::parse("div.body").unwrap()).next().unwrap();
        let want = words(&body.text().collect::<String>());
        let got = words(
            &doc.sections
                .iter()
                .map(|s| format!("{}\n{}", s.heading_path.join(" "), s.text))
                .collect::<String>(),
        );
        let kept = want.iter().filter(|w| got.contains(*w)).count() as f64 / want.len() as f64;
        println!("{name}: {} sections, {:.3} of the body's distinct words", doc.sections.len(), kept);
        assert!(kept > 0.97, "{name}: kept {kept:.3} of the words");
    }
}

#[test]
fn debian_reference_keeps_every_section() {
    let mut names: Vec<_> =
        std::fs::read_dir(data("docs/html/debian-reference")).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    let docbook_anchor = |h: ElementRef| {
        h.descendent_elements()
            .find_map(|e| e.value().attr("id"))
            .or_else(|| h.value().attr("id"))
            .map(str::to_string)
    };
    for path in names {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (html, doc) = load(&path);
        let hs = headings(&html, "h1.title, h2.title, h3.title, h4.title", false, docbook_anchor);
        check_headings(&name, &doc, &hs);
        let all = doc.sections.iter().map(|s| s.text.as_str()).collect::<String>();
        assert!(!all.contains("Prev") || !all.contains("Next\u{a0}"), "{name}: navigation kept");
        println!(
            "{name}: {} headings, {} sections, {} bytes of text",
            hs.len(),
            doc.sections.len(),
            all.len()
        );
    }
    let (_, ch3) = load(&data("docs/html/debian-reference/ch03.en.html"));
    assert_eq!(ch3.title, "Chapter 3. The system initialization");
    let s = ch3
        .sections
        .iter()
        .find(|s| s.heading_path.last().map(String::as_str) == Some("3.1.1. Stage 1: the UEFI"))
        .unwrap();
    assert_eq!(s.heading_path[0], "Chapter 3. The system initialization");
    assert_eq!(s.anchor.as_deref(), Some("_stage_1_the_uefi"));
    assert!(s.text.contains("UEFI"));
}
