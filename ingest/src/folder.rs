//! Folders: the files lore would read under a path, recursively.

use std::path::{Path, PathBuf};

use crate::load::kind_for_path;

/// What a walk of a folder found.
#[derive(Debug, Default, Clone)]
pub struct Scan {
    /// Files of a kind lore reads, sorted by path.
    pub files: Vec<PathBuf>,
    /// Files skipped because lore does not read their type.
    pub skipped_unsupported: Vec<PathBuf>,
    /// Hidden files and folders skipped (names starting with a dot).
    pub skipped_hidden: usize,
    /// Entries that could not be read while walking, with the reason.
    pub errors: Vec<(PathBuf, String)>,
}

/// Walks `root` recursively (following no symlinked folders), skipping hidden entries and files
/// of unsupported types. A file given as `root` is returned as it is, whatever its type, so the
/// loader can name the reason it is refused.
pub fn scan(root: &Path) -> Scan {
    let mut out = Scan::default();
    if !root.is_dir() {
        out.files.push(root.to_path_buf());
        return out;
    }
    let walker = walkdir::WalkDir::new(root).follow_links(false).sort_by_file_name().into_iter();
    for entry in walker.filter_entry(|e| e.depth() == 0 || !is_hidden(e.file_name())) {
        match entry {
            Ok(e) => {
                if e.depth() == 0 {
                    continue;
                }
                let ft = e.file_type();
                if ft.is_dir() {
                    continue;
                }
                let path = e.into_path();
                if ft.is_symlink() && path.is_dir() {
                    continue;
                }
                if kind_for_path(&path).is_some() {
                    out.files.push(path);
                } else {
                    out.skipped_unsupported.push(path);
                }
            }
            Err(err) => {
                let path = err.path().map(Path::to_path_buf).unwrap_or_else(|| root.to_path_buf());
                out.errors.push((path, err.to_string()));
            }
        }
    }
    out.skipped_hidden = count_hidden(root);
    out
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_str().is_some_and(|n| n.starts_with('.') && n != "." && n != "..")
}

fn count_hidden(root: &Path) -> usize {
    walkdir::WalkDir::new(root)
        .min_depth(1)
        .into_iter()
        .filter_entry(|e| {
            !e.path()
                .ancestors()
                .skip(1)
                .any(|a| a != root && a.file_name().is_some_and(is_hidden) && a.starts_with(root))
        })
        .filter_map(|e| e.ok())
        .filter(|e| is_hidden(e.file_name()))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_recursively_and_skips_hidden_and_unsupported() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join("a/b/one.md"), "# One").unwrap();
        std::fs::write(root.join("two.txt"), "two").unwrap();
        std::fs::write(root.join("three.exe"), "x").unwrap();
        std::fs::write(root.join(".hidden.md"), "x").unwrap();
        std::fs::write(root.join(".git/config.txt"), "x").unwrap();
        let s = scan(root);
        let names: Vec<_> = s.files.iter().map(|p| p.strip_prefix(root).unwrap().to_path_buf()).collect();
        assert_eq!(names, vec![PathBuf::from("a/b/one.md"), PathBuf::from("two.txt")]);
        assert_eq!(s.skipped_unsupported.len(), 1);
        assert_eq!(s.skipped_hidden, 2);
    }
}
