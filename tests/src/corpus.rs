//! Folders of small real-text documents for the crash and concurrency tests: many documents
//! make many moments to interrupt a writer at, and short ones keep the embedding cheap. The
//! text is Moby-Dick's, cut into sentences.

use std::path::{Path, PathBuf};

use crate::data;
use crate::rng::Rng;

/// The sentences of Moby-Dick of 40 to 300 characters, in reading order (chapters by number).
pub fn sentences() -> Vec<String> {
    let dir = data("docs/text/moby-dick");
    let mut chapters: Vec<(u32, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let n = p.file_stem()?.to_str()?.strip_prefix("chapter_")?.parse().ok()?;
            Some((n, p))
        })
        .collect();
    chapters.sort();
    let mut out = Vec::new();
    for (_, path) in chapters {
        let text = std::fs::read_to_string(path).unwrap().replace('\n', " ");
        let mut start = 0;
        for (i, c) in text.char_indices() {
            if matches!(c, '.' | '!' | '?') && text[i + 1..].starts_with(' ') {
                let s = text[start..=i].trim();
                if (40..=300).contains(&s.len()) && !s.starts_with("CHAPTER") {
                    out.push(s.to_string());
                }
                start = i + 1;
            }
        }
    }
    out
}

/// Writes `n` short notes (one or two sentences each, a few as Markdown with a heading) into
/// `dir`, plus `chapters` short chapters of the book as multi-chunk documents. Returns the files.
/// Each ends with a line naming its folder, so no two files, here or in another folder, share
/// their content.
pub fn write_notes(dir: &Path, n: usize, chapters: usize, rng: &mut Rng) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    let all = sentences();
    let mut files = Vec::new();
    for i in 0..n {
        let at = rng.range(0, all.len() as u64 - 3) as usize;
        let (name, text) = if i % 10 == 9 {
            (format!("note_{i:04}.md"), format!("# Note {i}\n\n{}\n\n{}\n", all[at], all[at + 1]))
        } else if i % 2 == 0 {
            (format!("note_{i:04}.txt"), format!("{} {}\n", all[at], all[at + 1]))
        } else {
            (format!("note_{i:04}.txt"), format!("{}\n", all[at]))
        };
        // Each note ends with its own tag, so no two notes share their content (lore keeps a
        // file with a document's content as another path of that document).
        let tag = folder_tag(dir, &i.to_string());
        let path = dir.join(name);
        std::fs::write(&path, format!("{text}\n{tag}\n")).unwrap();
        files.push(path);
    }
    for path in shortest_chapters(chapters) {
        let target = dir.join(path.file_name().unwrap());
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(&format!("\n{}\n", folder_tag(dir, "chapter")));
        std::fs::write(&target, text).unwrap();
        files.push(target);
    }
    files
}

/// A tag naming `dir` and `what`, which makes a file's content its own.
fn folder_tag(dir: &Path, what: &str) -> String {
    format!("{}-{what}", dir.file_name().map(|n| n.to_string_lossy()).unwrap_or_default())
}

/// The `n` shortest chapters of the book that still make several chunks (over 4 KB).
pub fn shortest_chapters(n: usize) -> Vec<PathBuf> {
    let mut sized: Vec<(u64, PathBuf)> = std::fs::read_dir(data("docs/text/moby-dick"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (std::fs::metadata(&p).unwrap().len(), p))
        .filter(|(len, _)| *len > 4096)
        .collect();
    sized.sort();
    sized.into_iter().take(n).map(|(_, p)| p).collect()
}

/// A document of `paragraphs` paragraphs of three sentences each, every sentence starting with
/// `marker`: whatever way it is cut into chunks, every chunk holds the marker, so a keyword
/// search for it finds all of the document's chunks that are indexed.
pub fn marked_text(marker: &str, paragraphs: usize, rng: &mut Rng) -> String {
    let all = sentences();
    let mut text = format!("# The {marker} papers\n\n");
    for _ in 0..paragraphs {
        let at = rng.range(0, all.len() as u64 - 4) as usize;
        let para: Vec<String> = all[at..at + 3].iter().map(|s| format!("{marker} {s}")).collect();
        text.push_str(&para.join(" "));
        text.push_str("\n\n");
    }
    text
}

/// The files under `dir` that `lore add` reads, in the order it reads them.
pub fn documents_in(dir: &Path) -> Vec<PathBuf> {
    lore_ingest::folder::scan(dir).files
}
