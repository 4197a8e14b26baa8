//! Watching source roots for changes (`lore sync --watch`): file-system events, debounced, turned
//! into the roots that need a sync. The sync itself is [`Library::sync`](crate::Library::sync),
//! so a watched change gets the same treatment as a manual `lore sync`.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

use notify_debouncer_full::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};

use crate::catalog::Root;

/// Why watching failed.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// A root could not be watched.
    #[error("cannot watch {}: {reason}", .path.display())]
    Watch {
        /// The root.
        path: PathBuf,
        /// What the watcher said.
        reason: String,
    },
    /// The watcher reported errors while running (events may have been missed).
    #[error("file watcher: {0}")]
    Events(String),
    /// The watcher stopped.
    #[error("the file watcher stopped")]
    Stopped,
}

/// A watch over some source roots.
pub struct RootWatcher {
    _debouncer: Debouncer<RecommendedWatcher, RecommendedCache>,
    events: Receiver<DebounceEventResult>,
    roots: Vec<Root>,
    unwatched: Vec<WatchError>,
    ignore: PathBuf,
}

impl std::fmt::Debug for RootWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RootWatcher").field("roots", &self.roots.len()).finish_non_exhaustive()
    }
}

impl RootWatcher {
    /// Starts watching the local roots among `roots`: folders recursively, a file through its
    /// folder. Events settle for `debounce` before they are reported. Changes under `ignore` (the
    /// library directory, should it lie in a root) are left out. A root that cannot be watched (a
    /// missing folder) is left out and named by [`RootWatcher::unwatched`].
    pub fn new(roots: &[Root], debounce: Duration, ignore: &Path) -> Result<RootWatcher, WatchError> {
        let (tx, events) = channel();
        let mut debouncer = new_debouncer(debounce, None, tx)
            .map_err(|e| WatchError::Watch { path: PathBuf::new(), reason: e.to_string() })?;
        let mut watched = Vec::new();
        let mut unwatched = Vec::new();
        for root in roots.iter().filter(|r| crate::library::sync::is_local(r)) {
            let path = PathBuf::from(&root.path);
            let (target, mode) = if path.is_dir() {
                (path.clone(), RecursiveMode::Recursive)
            } else {
                (path.parent().map(Path::to_path_buf).unwrap_or_default(), RecursiveMode::NonRecursive)
            };
            match debouncer.watch(&target, mode) {
                Ok(()) => watched.push(root.clone()),
                Err(e) => unwatched.push(WatchError::Watch { path, reason: e.to_string() }),
            }
        }
        let ignore = std::fs::canonicalize(ignore).unwrap_or_else(|_| ignore.to_path_buf());
        Ok(RootWatcher { _debouncer: debouncer, events, roots: watched, unwatched, ignore })
    }

    /// The roots watched.
    pub fn roots(&self) -> &[Root] {
        &self.roots
    }

    /// The roots that could not be watched, and why.
    pub fn unwatched(&self) -> &[WatchError] {
        &self.unwatched
    }

    /// Waits up to `timeout` for changes. `None` when nothing happened; otherwise the ids of the
    /// roots touched (possibly none, when the events concerned nothing lore reads).
    pub fn wait(&self, timeout: Duration) -> Result<Option<Vec<i64>>, WatchError> {
        let first = match self.events.recv_timeout(timeout) {
            Ok(batch) => batch,
            Err(RecvTimeoutError::Timeout) => return Ok(None),
            Err(RecvTimeoutError::Disconnected) => return Err(WatchError::Stopped),
        };
        let mut batches = vec![first];
        batches.extend(self.events.try_iter());
        let mut touched: Vec<i64> = Vec::new();
        let mut errors: Vec<String> = Vec::new();
        for batch in batches {
            match batch {
                Ok(events) => {
                    for path in events.iter().flat_map(|e| e.event.paths.iter()) {
                        for id in self.roots_of(path) {
                            if !touched.contains(&id) {
                                touched.push(id);
                            }
                        }
                    }
                }
                Err(errs) => errors.extend(errs.iter().map(|e| e.to_string())),
            }
        }
        if !errors.is_empty() && touched.is_empty() {
            return Err(WatchError::Events(errors.join("; ")));
        }
        Ok(Some(touched))
    }

    /// The roots a changed path concerns.
    fn roots_of(&self, path: &Path) -> Vec<i64> {
        if path.starts_with(&self.ignore) {
            return Vec::new();
        }
        self.roots.iter().filter(|r| concerns(Path::new(&r.path), path)).map(|r| r.id).collect()
    }
}

/// Whether a change at `path` can matter to the root at `root`: the root itself, or something
/// under it that is not hidden and is not a file of a type lore does not read. (A path that no
/// longer exists may have been a folder, so it always counts.)
fn concerns(root: &Path, path: &Path) -> bool {
    if path == root {
        return true;
    }
    let Ok(rel) = path.strip_prefix(root) else { return false };
    let hidden = rel.components().any(|c| c.as_os_str().to_str().is_some_and(|s| s.starts_with('.')));
    if hidden {
        return false;
    }
    !(path.is_file() && lore_ingest::load::kind_for_path(path).is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_readable_unhidden_paths_under_a_root_concern_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("a.md"), "x").unwrap();
        std::fs::write(root.join("a.swp"), "x").unwrap();
        assert!(concerns(root, root));
        assert!(concerns(root, &root.join("a.md")));
        assert!(concerns(root, &root.join("gone-folder.d")), "a missing path may have been a folder");
        assert!(!concerns(root, &root.join("a.swp")));
        assert!(!concerns(root, &root.join(".git/index")));
        assert!(!concerns(root, Path::new("/elsewhere/a.md")));
    }

    #[test]
    fn a_new_file_is_reported_for_its_root() {
        let dir = tempfile::tempdir().unwrap();
        let folder = std::fs::canonicalize(dir.path()).unwrap().join("books");
        std::fs::create_dir(&folder).unwrap();
        let root = Root {
            id: 7,
            path: folder.display().to_string(),
            kind: "folder".into(),
            tags: vec![],
            added_at: String::new(),
        };
        let home = dir.path().join("home");
        let missing =
            Root { id: 8, path: dir.path().join("gone/away").display().to_string(), ..root.clone() };
        let watcher = RootWatcher::new(&[root, missing], Duration::from_millis(100), &home).unwrap();
        assert_eq!((watcher.roots().len(), watcher.unwatched().len()), (1, 1));
        std::fs::write(folder.join("new.md"), "# New").unwrap();
        let mut touched = Vec::new();
        for _ in 0..100 {
            if let Some(ids) = watcher.wait(Duration::from_millis(100)).unwrap() {
                touched.extend(ids);
                if !touched.is_empty() {
                    break;
                }
            }
        }
        assert_eq!(touched, vec![7]);
    }
}
