//! A quick look at what a set of sources is written in, before they are added: the main
//! language of the first few files lore would read under them.

use std::path::PathBuf;

use crate::document::{Document, Kind};
use crate::error::Result;
use crate::folder::scan;
use crate::lang::detect_language;
use crate::load::{LoadOptions, read_file};

/// Files larger than this are passed over by [`sample_languages`]; parsing a large book only to
/// look at its language would delay the add it precedes.
const MAX_SAMPLE_BYTES: u64 = 16 * 1024 * 1024;

/// Pages of a PDF read to tell its language: the language is told from the first 8 KiB of text
/// (see [`detect_language`]), and extracting every page of a book here would double the time
/// before the add that follows makes it searchable.
const SAMPLE_PDF_PAGES: usize = 12;

/// The main languages (ISO 639-1 codes, each once, in the order found) of up to `max_files`
/// files under `paths`, folders walked as `lore add` walks them. Files that cannot be read or
/// whose language is unsure are passed over; nothing is kept.
pub fn sample_languages(paths: &[PathBuf], opts: &LoadOptions, max_files: usize) -> Vec<String> {
    let mut languages: Vec<String> = Vec::new();
    let mut looked = 0;
    for root in paths {
        for file in scan(root).files {
            if looked >= max_files {
                return languages;
            }
            let small = std::fs::metadata(&file).is_ok_and(|m| m.len() <= MAX_SAMPLE_BYTES);
            if !small {
                continue;
            }
            looked += 1;
            let Ok(doc) = load_sample(&file, opts) else { continue };
            if let Some(lang) = doc.language.clone().or_else(|| detect_language(&doc))
                && !languages.contains(&lang)
            {
                languages.push(lang);
            }
        }
    }
    languages
}

/// Loads a file to look at its language: a PDF's first [`SAMPLE_PDF_PAGES`] pages, anything
/// else whole.
fn load_sample(file: &std::path::Path, opts: &LoadOptions) -> Result<Document> {
    let source = read_file(file, opts)?;
    match source.kind {
        Kind::Pdf => crate::pdf::load_first_pages(&source.bytes, &source.item, SAMPLE_PDF_PAGES),
        _ => source.load(opts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_language_once_and_stops_at_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let en = "The package manager keeps a list of installed packages and their versions. ".repeat(8);
        let zh = "软件包管理系统会记录已经安装的软件包以及它们的版本，并且可以自动处理依赖关系。".repeat(8);
        std::fs::write(dir.path().join("a.txt"), &en).unwrap();
        std::fs::write(dir.path().join("b.txt"), &zh).unwrap();
        std::fs::write(dir.path().join("c.txt"), &en).unwrap();
        let opts = LoadOptions::default();
        let all = sample_languages(&[dir.path().to_path_buf()], &opts, 10);
        assert_eq!(all, vec!["en".to_string(), "zh".to_string()]);
        let first = sample_languages(&[dir.path().to_path_buf()], &opts, 1);
        assert_eq!(first, vec!["en".to_string()]);
        let missing = sample_languages(&[dir.path().join("nothing-here.txt")], &opts, 3);
        assert!(missing.is_empty());
    }
}
