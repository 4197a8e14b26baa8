//! EPUB books: chapters in spine order as sections, titled from the table of contents.
//!
//! The container is checked first ([`archive::check`]: a zip, no zip bomb, no DRM), then read
//! with [`rbook`]. Each content document in the spine is read once, turned to text with the HTML
//! walker shared with the HTML loader, and cut into sections:
//!
//! - a chapter file's section takes its heading path from its TOC entry (nested entries give
//!   paths like `["Part I", "Chapter 2"]`), and its anchor is the file's path in the container;
//! - TOC entries that point into a file (`ch1.xhtml#s2`) start a section at that element;
//! - a heading at the very start of a TOC section that repeats its label is not repeated in the
//!   text; other headings start sub-sections (`[chapter title, heading]`);
//! - a spine file not in the TOC takes its own first heading as its title, else the title of
//!   the section before it;
//! - a heading path names each heading once: a TOC entry repeating its parent's label replaces
//!   it, and an outermost entry that is the book's title is left out (the title is the
//!   document's).

pub(crate) mod archive;
pub(crate) mod toc;

use std::collections::{HashMap, HashSet};
use std::io::Cursor;

use rbook::Epub;

use crate::document::{Document, Kind, Section};
use crate::error::{IngestError, Result};
use crate::html::meta::{collapse, normalise_date, normalise_language};
use crate::html::text::{Piece, WalkOptions};
use crate::html::{prepass, text};
use archive::corrupt;
use toc::TocMap;

/// Loads an EPUB from its bytes. `item` names it in errors and becomes the document's source.
pub fn load(bytes: &[u8], item: &str) -> Result<Document> {
    if bytes.is_empty() {
        return Err(IngestError::Empty { item: item.to_string() });
    }
    archive::check(bytes, item)?;
    let epub = crate::guard::catch(item, "EPUB parser", || {
        Epub::options().strict(false).read(Cursor::new(bytes.to_vec()))
    })?
    .map_err(|e| corrupt(item, one_line(&e.to_string())))?;
    build(&epub, item, bytes.len())
}

fn one_line(s: &str) -> String {
    collapse(s)
}

fn build(epub: &Epub, item: &str, byte_len: usize) -> Result<Document> {
    #[cfg(test)]
    crate::guard::bug_site("epub-build");
    let md = epub.metadata();
    let title = md.title().map(|t| collapse(t.value())).unwrap_or_default();
    let mut authors: Vec<String> = Vec::new();
    for c in md.creators() {
        let name = collapse(c.value());
        if !name.is_empty() && !authors.contains(&name) {
            authors.push(name);
        }
    }
    let language = md.language().and_then(|l| normalise_language(l.value()));
    let published = md.published_entry().and_then(|d| normalise_date(d.value()));

    let toc = TocMap::read(epub);
    let mut sections: Vec<Section> = Vec::new();
    let mut seen_files: HashSet<String> = HashSet::new();
    let mut previous_path: Vec<String> = Vec::new();
    let mut chapters = 0usize;
    let mut unreadable = 0usize;
    // A parser's panic on a chapter makes it unreadable; when none can be read, it is the error.
    let mut first_panic: Option<IngestError> = None;
    let mut panicked = |err: IngestError| {
        if first_panic.is_none() {
            first_panic = Some(err);
        }
    };
    for entry in epub.spine().iter() {
        let Some(manifest) = entry.manifest_entry() else { continue };
        let file = manifest.href().path().decode().into_owned();
        if !is_content_document(manifest.media_type(), &file) || !seen_files.insert(file.clone()) {
            continue;
        }
        chapters += 1;
        let bytes = match crate::guard::catch(item, "EPUB parser", || epub.read_resource_bytes(file.as_str()))
        {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(_)) => {
                unreadable += 1;
                continue;
            }
            Err(err) => {
                panicked(err);
                unreadable += 1;
                continue;
            }
        };
        let Ok(decoded) = crate::text::decode(&bytes, item) else {
            unreadable += 1;
            continue;
        };
        let chapter = Chapter::new(&file, &toc, &previous_path);
        let fragments = toc.fragments(&file);
        let markers: HashSet<String> = fragments.keys().cloned().collect();
        let html = prepass::prepare(&decoded.text, true);
        let doc = match crate::guard::catch(item, "EPUB parser", || scraper::Html::parse_document(&html)) {
            Ok(doc) => doc,
            Err(err) => {
                panicked(err);
                unreadable += 1;
                continue;
            }
        };
        let body = doc.root_element().descendent_elements().find(|e| e.value().name() == "body");
        let opts = WalkOptions { markers: Some(&markers), ..Default::default() };
        let pieces = match body {
            Some(b) => text::walk(*b, &opts),
            None => text::walk_html(&doc, &opts),
        };
        let mut chapter_sections = chapter.fold(pieces, &fragments);
        if let Some(last) = chapter_sections.last() {
            previous_path = last.heading_path.clone();
        } else if !chapter.path.is_empty() {
            previous_path = chapter.path.clone();
        }
        sections.append(&mut chapter_sections);
    }
    // A table of contents whose outermost entry is the book's title puts it in front of every
    // heading path; the title is the document's already.
    for section in &mut sections {
        if section.heading_path.len() > 1 && same_label(&section.heading_path[0], &title) {
            section.heading_path.remove(0);
        }
    }
    if chapters > 0 && unreadable == chapters {
        return Err(first_panic
            .unwrap_or_else(|| corrupt(item, format!("none of its {chapters} chapters could be read"))));
    }
    Ok(Document {
        source: item.to_string(),
        url: None,
        kind: Kind::Epub,
        title,
        authors,
        language,
        published,
        hash: String::new(),
        byte_len: byte_len as u64,
        page_count: None,
        site: None,
        sections,
    })
}

/// Whether a spine item is an (X)HTML content document.
fn is_content_document(media_type: &str, file: &str) -> bool {
    let mt = media_type.to_ascii_lowercase();
    if mt.contains("html") {
        return true;
    }
    let lower = file.to_ascii_lowercase();
    mt.is_empty() && [".xhtml", ".html", ".htm"].iter().any(|e| lower.ends_with(e))
}

/// One chapter file and what the TOC says about it.
struct Chapter {
    /// The file's path inside the container, without the leading slash: the sections' anchor.
    href: String,
    /// The heading path of the file's own TOC entry, or the path it inherits.
    path: Vec<String>,
    /// Whether `path` comes from the TOC (else it is inherited from the section before).
    in_toc: bool,
}

impl Chapter {
    fn new(file: &str, toc: &TocMap, previous: &[String]) -> Chapter {
        let href = file.trim_start_matches('/').to_string();
        match toc.file_path(file) {
            Some(p) => Chapter { href, path: p.to_vec(), in_toc: true },
            None => Chapter { href, path: previous.to_vec(), in_toc: false },
        }
    }

    /// Folds a chapter's walked pieces into sections.
    fn fold(&self, pieces: Vec<Piece>, fragments: &HashMap<String, Vec<String>>) -> Vec<Section> {
        let mut out = Vec::new();
        // The path of the latest TOC target (the chapter's, then each fragment's).
        let mut base = self.path.clone();
        let mut current = Section {
            heading_path: base.clone(),
            anchor: Some(self.href.clone()),
            pages: Vec::new(),
            text: String::new(),
            line: None,
        };
        // A TOC-titled section whose title heading may still come.
        let mut title_pending = self.in_toc;
        // A spine file outside the TOC takes its own first heading as its title.
        let mut own_title_pending = !self.in_toc;
        // Sub-headings under the current TOC target: (level, text).
        let mut sub: Vec<(u8, String)> = Vec::new();
        for piece in pieces {
            match piece {
                Piece::Marker(id) => {
                    let Some(path) = fragments.get(&id) else { continue };
                    push_if_text(&mut out, &mut current);
                    base = path.clone();
                    sub.clear();
                    current = Section {
                        heading_path: base.clone(),
                        anchor: Some(format!("{}#{id}", self.href)),
                        pages: Vec::new(),
                        text: String::new(),
                        line: None,
                    };
                    title_pending = true;
                    own_title_pending = false;
                }
                Piece::Heading { level, text, anchor } => {
                    let empty = current.text.trim().is_empty();
                    if empty && title_pending && base.last().is_some_and(|label| same_title(label, &text)) {
                        title_pending = false;
                        continue;
                    }
                    if empty && own_title_pending {
                        own_title_pending = false;
                        base = vec![text];
                        current.heading_path = base.clone();
                        continue;
                    }
                    title_pending = false;
                    own_title_pending = false;
                    push_if_text(&mut out, &mut current);
                    while sub.last().is_some_and(|(l, _)| *l >= level) {
                        sub.pop();
                    }
                    sub.push((level, text));
                    let mut path = base.clone();
                    path.extend(sub.iter().map(|(_, t)| t.clone()));
                    let anchor = match anchor {
                        Some(a) => format!("{}#{a}", self.href),
                        None => self.href.clone(),
                    };
                    current = Section {
                        heading_path: path,
                        anchor: Some(anchor),
                        pages: Vec::new(),
                        text: String::new(),
                        line: None,
                    };
                }
                Piece::Text(t) => {
                    let empty = current.text.trim().is_empty();
                    // Paragraph numbers or ornaments before a section's title are not its text.
                    if empty && is_ornament(&t) {
                        continue;
                    }
                    let mut t = t.as_str();
                    // A title set as a plain paragraph ("1.1 For the impatient" in a <p>).
                    if empty && title_pending {
                        let (first, rest) = t.split_once("\n\n").unwrap_or((t, ""));
                        if first.len() < 200 && base.last().is_some_and(|label| same_words(label, first)) {
                            t = rest;
                        }
                    }
                    title_pending = false;
                    own_title_pending = false;
                    if t.trim().is_empty() {
                        continue;
                    }
                    if !current.text.is_empty() {
                        current.text.push_str("\n\n");
                    }
                    current.text.push_str(t);
                }
            }
        }
        push_if_text(&mut out, &mut current);
        out
    }
}

fn push_if_text(out: &mut Vec<Section>, current: &mut Section) {
    if !current.text.trim().is_empty() {
        let next = Section {
            heading_path: current.heading_path.clone(),
            anchor: current.anchor.clone(),
            ..Default::default()
        };
        out.push(std::mem::replace(current, next));
    }
}

/// Short text without letters: a paragraph number, a dingbat, a lone punctuation mark.
fn is_ornament(t: &str) -> bool {
    t.chars().count() <= 8 && !t.chars().any(char::is_alphabetic)
}

/// Whether two titles are the same ignoring case, punctuation and spacing.
fn same_words(a: &str, b: &str) -> bool {
    let norm =
        |s: &str| s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect::<String>();
    let a = norm(a);
    !a.is_empty() && a == norm(b)
}

/// Whether two labels name the same heading: the same words ignoring case, punctuation, spacing
/// and a leading section number (`"About this manual"` and `"1. About this manual"`).
pub(crate) fn same_label(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        let all: String = s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
        let words = all.trim_start_matches(|c: char| c.is_ascii_digit());
        if words.is_empty() { all } else { words.to_string() }
    };
    let a = norm(a);
    !a.is_empty() && a == norm(b)
}

/// Whether a heading repeats a TOC label: equal, or one contains the other, ignoring case,
/// punctuation and spacing (`"1. About this manual"` and `"About this manual"`).
fn same_title(label: &str, heading: &str) -> bool {
    let norm =
        |s: &str| s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect::<String>();
    let (a, b) = (norm(label), norm(heading));
    if a.is_empty() || b.is_empty() {
        return false;
    }
    a == b || a.contains(&b) || b.contains(&a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heading(level: u8, text: &str) -> Piece {
        Piece::Heading { level, text: text.into(), anchor: None }
    }

    #[test]
    fn chapter_title_heading_is_absorbed_and_subheadings_nest() {
        let ch = Chapter {
            href: "OEBPS/c1.xhtml".into(),
            path: vec!["Part I".into(), "Chapter 1".into()],
            in_toc: true,
        };
        let pieces = vec![
            heading(1, "CHAPTER 1"),
            Piece::Text("Opening.".into()),
            heading(2, "A scene"),
            Piece::Text("Scene text.".into()),
        ];
        let s = ch.fold(pieces, &HashMap::new());
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].heading_path, vec!["Part I", "Chapter 1"]);
        assert_eq!(s[0].text, "Opening.");
        assert_eq!(s[0].anchor.as_deref(), Some("OEBPS/c1.xhtml"));
        assert_eq!(s[1].heading_path, vec!["Part I", "Chapter 1", "A scene"]);
    }

    #[test]
    fn labels_match_apart_from_section_numbers() {
        assert!(same_label("About this manual", "1. About this manual"));
        assert!(same_label("インストール", "3. インストール"));
        assert!(same_label("CHAPTER I", "Chapter I"));
        assert!(!same_label("Chapter 1", "Chapter 10"));
        assert!(!same_label("Metadata", "SiSU Metadata, document information"));
        assert!(!same_label("1.", "2."));
        assert!(same_label("2.", "2"));
    }

    #[test]
    fn fragments_start_sections_and_untitled_files_inherit() {
        let ch = Chapter { href: "a.xhtml".into(), path: vec!["1. About".into()], in_toc: true };
        let frags: HashMap<String, Vec<String>> =
            [("o8".to_string(), vec!["1. About".to_string(), "1.1 Terms".to_string()])].into();
        let pieces = vec![
            heading(1, "1. About"),
            Piece::Text("Intro.".into()),
            Piece::Marker("o8".into()),
            heading(2, "1.1 Terms"),
            Piece::Text("Terms text.".into()),
        ];
        let s = ch.fold(pieces, &frags);
        assert_eq!(s.len(), 2);
        assert_eq!(s[1].heading_path, vec!["1. About", "1.1 Terms"]);
        assert_eq!(s[1].anchor.as_deref(), Some("a.xhtml#o8"));
        assert_eq!(s[1].text, "Terms text.");

        let orphan = Chapter { href: "b.xhtml".into(), path: vec!["Chapter 3".into()], in_toc: false };
        let s = orphan.fold(vec![Piece::Text("More of chapter 3.".into())], &HashMap::new());
        assert_eq!(s[0].heading_path, vec!["Chapter 3"]);
        let s = orphan.fold(vec![heading(1, "Afterword"), Piece::Text("Thanks.".into())], &HashMap::new());
        assert_eq!(s[0].heading_path, vec!["Afterword"]);
    }
}
