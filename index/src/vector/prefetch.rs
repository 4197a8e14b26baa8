//! Reading the small, randomly read files of an opened store into the page cache, in the
//! background.
//!
//! A search walks the HNSW graph (its links file) and reads the payload of each hit (the chunk
//! id) through memory maps of files the store keeps on disk. Cold, each is a random 4 KB read
//! from disk, in sequence: on a library of 100,000 chunks whose files the page cache no longer
//! held, the first search of each question took 14.6 ms at p50 against 12.4 ms with these
//! files read beforehand (`lore bench --search-child` on the bench library, the library's files
//! dropped from the page cache before each run). Read in one sequential pass while the
//! embedding model loads, they are about 25 MB at that size, held in the page cache and not in
//! the process until a search maps them. Only the written part of a sparse file is read.

use std::io::Read;
use std::path::{Path, PathBuf};

/// Names of the files and directories in a segment that are read at random by a search.
const HOT: [&str; 4] = ["vector_index-", "payload_storage", "id_tracker.", "mutable_id_tracker."];

/// Starts a thread that reads the hot files of every segment of the engine directory `dir`
/// (see [`HOT`]) and discards what it read. Errors (a file removed meanwhile) end the reading
/// of that file, nothing else: this only warms the page cache. Once per directory and process:
/// a reader opens the store for every search, and the page cache keeps what the first read.
pub(crate) fn prefetch_segments(dir: &Path) {
    static DONE: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    {
        let mut done = DONE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if done.iter().any(|d| d == dir) {
            return;
        }
        done.push(dir.to_path_buf());
    }
    let files = hot_files(&dir.join("segments"));
    if files.is_empty() {
        return;
    }
    let _ = std::thread::Builder::new().name("lore-prefetch".into()).spawn(move || {
        let mut buf = vec![0u8; 256 * 1024];
        for file in files {
            let Ok(f) = std::fs::File::open(&file) else { continue };
            let mut f = f.take(allocated_bytes(&file));
            while let Ok(n) = f.read(&mut buf) {
                if n == 0 {
                    break;
                }
            }
        }
    });
}

/// Bytes of `file` on disk: the engine's page files are sparse (32 MB apart from what is
/// written, from the start), and reading their holes would fill the cache with zeros.
#[cfg(unix)]
fn allocated_bytes(file: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(file).map(|m| m.len().min(m.blocks() * 512)).unwrap_or(0)
}

/// Bytes of `file`.
#[cfg(not(unix))]
fn allocated_bytes(file: &Path) -> u64 {
    std::fs::metadata(file).map(|m| m.len()).unwrap_or(0)
}

/// The hot files under `segments`, the HNSW links first (every search walks them).
fn hot_files(segments: &Path) -> Vec<PathBuf> {
    let (mut links, mut rest) = (Vec::new(), Vec::new());
    let Ok(entries) = std::fs::read_dir(segments) else { return links };
    for segment in entries.flatten() {
        let Ok(inner) = std::fs::read_dir(segment.path()) else { continue };
        for entry in inner.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(HOT[0]) {
                collect(&entry.path(), &mut links);
            } else if HOT.iter().any(|h| name.starts_with(h)) {
                collect(&entry.path(), &mut rest);
            }
        }
    }
    links.append(&mut rest);
    links
}

/// Every regular file at or under `path`.
fn collect(path: &Path, files: &mut Vec<PathBuf>) {
    match std::fs::read_dir(path) {
        Ok(entries) => {
            for entry in entries.flatten() {
                collect(&entry.path(), files);
            }
        }
        Err(_) if path.is_file() => files.push(path.to_path_buf()),
        Err(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_hot_files_links_first() {
        let dir = tempfile::tempdir().unwrap();
        let seg = dir.path().join("segments").join("s1");
        for sub in ["vector_index-dense", "payload_storage", "vector_storage-dense", "payload_index"] {
            std::fs::create_dir_all(seg.join(sub)).unwrap();
        }
        for file in [
            "payload_storage/page_0.dat",
            "vector_index-dense/links_compressed.bin",
            "vector_storage-dense/matrix.dat",
            "payload_index/data.bin",
            "id_tracker.mappings",
            "segment.json",
        ] {
            std::fs::write(seg.join(file), b"x").unwrap();
        }
        let files = hot_files(&dir.path().join("segments"));
        let names: Vec<String> =
            files.iter().map(|f| f.strip_prefix(&seg).unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names.len(), 3, "{names:?}");
        assert_eq!(names[0], "vector_index-dense/links_compressed.bin");
        assert!(names.contains(&"payload_storage/page_0.dat".to_string()));
        assert!(names.contains(&"id_tracker.mappings".to_string()));
        assert!(hot_files(&dir.path().join("missing")).is_empty());
        // Running it over the directory reads without failing.
        prefetch_segments(dir.path());
    }
}
