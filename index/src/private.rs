//! A library is its owner's alone: its directory and every folder in it 0700, every file 0600,
//! whatever the umask (the modes are set explicitly, not left to it). A new library is created
//! so; an existing one is tightened by the next writer ([`Library::open_writer`]), which reports
//! what it changed as a [`Tightened`] notice when others could read it, and again, silently,
//! when the writer closes (the indexes make files as they go). Unix only; elsewhere nothing is
//! done.
//!
//! [`Library::open_writer`]: crate::Library::open_writer

use std::path::{Path, PathBuf};

/// Permission bits of a library's folders.
pub const DIR_MODE: u32 = 0o700;
/// Permission bits of a library's files.
pub const FILE_MODE: u32 = 0o600;

/// A library that other users could read, made private by a writer: the notice the binary shows
/// once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tightened {
    /// The library directory.
    pub home: PathBuf,
    /// Folders and files whose permissions were narrowed.
    pub entries: usize,
    /// Why the library directory itself could not be made private, if it could not.
    pub failed: Option<String>,
}

impl std::fmt::Display for Tightened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let home = self.home.display();
        match &self.failed {
            None => write!(
                f,
                "the library {home} was readable by other users: {} folder{} and file{} made private \
                 (folders 0700, files 0600)",
                self.entries,
                if self.entries == 1 { "" } else { "s" },
                if self.entries == 1 { "" } else { "s" },
            ),
            Some(why) => write!(
                f,
                "the library {home} is readable by other users and could not be made private ({why}): \
                 run `chmod -R go-rwx {home}`"
            ),
        }
    }
}

/// Creates the library directory `home` (and its missing parents) for its owner alone; an
/// existing directory is left as it is (see [`make_private`]).
pub(crate) fn create_home(home: &Path) -> std::io::Result<()> {
    if home.is_dir() {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new().recursive(true).mode(DIR_MODE).create(home)?;
        // The umask may have taken bits away: set the mode itself.
        std::fs::set_permissions(home, std::fs::Permissions::from_mode(DIR_MODE))
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(home)
    }
}

/// Creates the empty file `path` for its owner alone unless it exists, so that a program that
/// opens it next (SQLite, which gives a database's `-wal` and `-shm` files the database's own
/// mode) keeps it private.
pub(crate) fn create_private_file(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(FILE_MODE).open(path) {
            Ok(_) => std::fs::set_permissions(path, std::fs::Permissions::from_mode(FILE_MODE)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(e),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

/// Narrows the permissions of `home` and everything under it (symbolic links are neither
/// followed nor changed) to its owner's: group and other bits are taken away, so folders become
/// 0700 and files 0600. Returns the notice to show when the directory itself was open to
/// others (an existing library made by an older lore, or loosened by hand); entries inside a
/// private directory are tightened silently, since nobody else could reach them.
pub(crate) fn make_private(home: &Path) -> Option<Tightened> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let home_open = std::fs::metadata(home).is_ok_and(|m| m.permissions().mode() & 0o077 != 0);
        let mut entries = 0;
        let mut failed = None;
        let mut todo = vec![home.to_path_buf()];
        while let Some(path) = todo.pop() {
            let is_home = path == home;
            let meta = match if is_home { std::fs::metadata(&path) } else { std::fs::symlink_metadata(&path) }
            {
                Ok(m) => m,
                // Gone meanwhile (an index's file replaced): nothing to protect.
                Err(_) => continue,
            };
            if meta.file_type().is_symlink() {
                continue;
            }
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                // The owner's bits stay as they are (rwx for a folder, rw for a file).
                match std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode & 0o700)) {
                    Ok(()) => entries += 1,
                    Err(e) if is_home => failed = Some(format!("chmod: {e}")),
                    Err(_) => {}
                }
            }
            if meta.is_dir()
                && let Ok(children) = std::fs::read_dir(&path)
            {
                todo.extend(children.flatten().map(|c| c.path()));
            }
        }
        (home_open && (entries > 0 || failed.is_some())).then(|| Tightened {
            home: home.to_path_buf(),
            entries,
            failed,
        })
    }
    #[cfg(not(unix))]
    {
        let _ = home;
        None
    }
}

/// Tightens what the indexes made inside `home` since it was made private, silently (a writer
/// closing its indexes, a reader that opened the vector store, which rewrites its
/// configuration files). A directory still open to others is left to the next writer, which
/// tells the user when it makes it private.
pub(crate) fn keep_private(home: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if std::fs::metadata(home).is_ok_and(|m| m.permissions().mode() & 0o077 == 0) {
            let _ = make_private(home);
        }
    }
    #[cfg(not(unix))]
    {
        let _ = home;
    }
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn set(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn a_new_home_and_catalog_are_private_whatever_the_umask() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("a").join("lib");
        create_home(&home).unwrap();
        assert_eq!(mode(&home), DIR_MODE);
        let file = home.join("catalog.sqlite");
        create_private_file(&file).unwrap();
        assert_eq!(mode(&file), FILE_MODE);
        // An existing file is left alone.
        std::fs::write(&file, b"x").unwrap();
        create_private_file(&file).unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"x");
        assert_eq!(make_private(&home), None);
    }

    #[test]
    fn an_open_library_is_tightened_once_with_a_notice() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("lib");
        std::fs::create_dir_all(home.join("tantivy")).unwrap();
        std::fs::write(home.join("catalog.sqlite"), b"").unwrap();
        std::fs::write(home.join("tantivy").join("meta.json"), b"{}").unwrap();
        let outside = tmp.path().join("elsewhere");
        std::fs::write(&outside, b"").unwrap();
        std::os::unix::fs::symlink(&outside, home.join("link")).unwrap();
        set(&outside, 0o644);
        for (p, m) in
            [(home.clone(), 0o755), (home.join("tantivy"), 0o775), (home.join("catalog.sqlite"), 0o644)]
        {
            set(&p, m);
        }
        set(&home.join("tantivy").join("meta.json"), 0o666);
        let notice = make_private(&home).expect("a notice");
        assert_eq!(notice.entries, 4);
        assert!(notice.to_string().contains("readable by other users"), "{notice}");
        assert_eq!(mode(&home), 0o700);
        assert_eq!(mode(&home.join("tantivy")), 0o700);
        assert_eq!(mode(&home.join("catalog.sqlite")), 0o600);
        assert_eq!(mode(&home.join("tantivy").join("meta.json")), 0o600);
        // A link is not followed: what it points to is not the library's.
        assert_eq!(mode(&outside), 0o644);
        assert_eq!(make_private(&home), None);
        // A loose file inside a private directory is tightened without a word.
        set(&home.join("catalog.sqlite"), 0o644);
        assert_eq!(make_private(&home), None);
        assert_eq!(mode(&home.join("catalog.sqlite")), 0o600);
        set(&home.join("catalog.sqlite"), 0o644);
        keep_private(&home);
        assert_eq!(mode(&home.join("catalog.sqlite")), 0o600);
        // ... but a directory open to others is left to the next writer, which tells of it.
        set(&home, 0o755);
        set(&home.join("catalog.sqlite"), 0o644);
        keep_private(&home);
        assert_eq!((mode(&home), mode(&home.join("catalog.sqlite"))), (0o755, 0o644));
    }
}
