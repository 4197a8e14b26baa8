//! The table of contents (EPUB 3 nav or EPUB 2 NCX, as rbook reads it) flattened into heading
//! paths per chapter file and fragment. An entry whose label repeats its parent's (apart from a
//! section number) takes its parent's place in the path.

use std::collections::HashMap;

use rbook::Epub;

use crate::html::meta::collapse;

/// Most TOC entries read; a larger TOC is cut off here.
const MAX_ENTRIES: usize = 20_000;

/// A TOC entry: where it points and its heading path from the outermost entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TocTarget {
    /// Fragment id inside the file, if the entry points into it.
    pub fragment: Option<String>,
    /// Labels from the outermost entry down to this one.
    pub path: Vec<String>,
}

/// TOC targets by chapter file path (absolute inside the container, percent-decoded, e.g.
/// `/OEBPS/ch1.xhtml`), each file's targets in TOC order.
#[derive(Debug, Default)]
pub(crate) struct TocMap {
    pub by_file: HashMap<String, Vec<TocTarget>>,
}

impl TocMap {
    /// Reads the book's table of contents.
    pub(crate) fn read(epub: &Epub) -> TocMap {
        let mut map = TocMap::default();
        let Some(root) = epub.toc().contents() else { return map };
        // Depth-first, in order: a stack of (entry, parent path) with children pushed reversed.
        let mut stack: Vec<(rbook::epub::toc::EpubTocEntry<'_>, Vec<String>)> =
            root.iter().collect::<Vec<_>>().into_iter().rev().map(|e| (e, Vec::new())).collect();
        let mut seen = 0usize;
        while let Some((entry, parent)) = stack.pop() {
            seen += 1;
            if seen > MAX_ENTRIES {
                break;
            }
            let label = collapse(entry.label());
            let mut path = parent;
            if !label.is_empty() {
                // An entry that repeats its parent's label ("About this manual" holding only
                // "1. About this manual") names one heading, not two.
                if path.last().is_some_and(|parent| super::same_label(parent, &label)) {
                    path.pop();
                }
                path.push(label);
            }
            if let Some(href) = entry.href() {
                let file = href.path().decode().into_owned();
                let fragment = href.fragment().filter(|f| !f.is_empty()).map(str::to_string);
                if !file.is_empty() && !path.is_empty() {
                    map.by_file.entry(file).or_default().push(TocTarget { fragment, path: path.clone() });
                }
            }
            let children: Vec<_> = entry.iter().collect();
            for child in children.into_iter().rev() {
                stack.push((child, path.clone()));
            }
        }
        map
    }

    /// The heading path of a chapter file as a whole (its first entry without a fragment, else
    /// its first entry).
    pub(crate) fn file_path(&self, file: &str) -> Option<&[String]> {
        let targets = self.by_file.get(file)?;
        targets.iter().find(|t| t.fragment.is_none()).map(|t| t.path.as_slice())
    }

    /// Fragment ids of a file with their heading paths.
    pub(crate) fn fragments(&self, file: &str) -> HashMap<String, Vec<String>> {
        let mut out = HashMap::new();
        for t in self.by_file.get(file).map(Vec::as_slice).unwrap_or_default() {
            if let Some(f) = &t.fragment {
                out.entry(f.clone()).or_insert_with(|| t.path.clone());
            }
        }
        out
    }
}
