//! The locks of a library directory: the single-writer lock (`write.lock`), and the vector
//! store's writer mark (`vectors.lock`), which tells readers to leave the live vector store to
//! the writer.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::layout::{VECTOR_WRITER_FILE, WRITER_LOCK_FILE};

/// Why the writer lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds it.
    #[error("another lore process{} is writing to the library at {dir}; wait for it to finish and try again", holder.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    Busy {
        /// The library directory.
        dir: PathBuf,
        /// The process id recorded by the holder, if readable.
        holder: Option<u32>,
    },
    /// The lock file could not be opened.
    #[error("cannot open the lock file {path}: {source}")]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// An exclusive lock on a library directory, released when dropped (or when the process dies).
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
}

impl WriterLock {
    /// Takes the lock on `dir`, waiting up to `wait` for another writer to finish.
    pub fn acquire(dir: &Path, wait: Duration) -> Result<WriterLock, LockError> {
        let path = dir.join(WRITER_LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|source| LockError::Io { path: path.clone(), source })?;
        let start = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if start.elapsed() < wait => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    let mut s = String::new();
                    let holder = file.read_to_string(&mut s).ok().and_then(|_| s.trim().parse().ok());
                    return Err(LockError::Busy { dir: dir.to_path_buf(), holder });
                }
                Err(std::fs::TryLockError::Error(source)) => return Err(LockError::Io { path, source }),
            }
        }
        // Record the holder for the message another writer prints.
        let _ = file
            .set_len(0)
            .and_then(|_| file.seek(SeekFrom::Start(0)))
            .and_then(|_| write!(file, "{}", std::process::id()));
        Ok(WriterLock { _file: file })
    }
}

/// Marks the library's embedded vector store as wanted by a writer, for as long as it lives.
///
/// The store admits one open handle. A reader opens it only for one search, and only while no
/// writer has marked it: from the mark on, new readers search a point-in-time copy instead, so
/// the writer waits at most for the searches already running, never for a stream of new ones.
#[derive(Debug)]
pub struct VectorWriterMark {
    _file: File,
}

impl VectorWriterMark {
    /// Takes the mark on the library `dir`, waiting up to `wait` for another holder (a reader
    /// checking for the mark holds it shared for an instant).
    pub fn acquire(dir: &Path, wait: Duration) -> Result<VectorWriterMark, LockError> {
        let path = dir.join(VECTOR_WRITER_FILE);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|source| LockError::Io { path: path.clone(), source })?;
        let start = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(VectorWriterMark { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) if start.elapsed() < wait => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(LockError::Busy { dir: dir.to_path_buf(), holder: None });
                }
                Err(std::fs::TryLockError::Error(source)) => return Err(LockError::Io { path, source }),
            }
        }
    }

    /// Whether a writer holds the mark on the library `dir`. Never waits and never creates the
    /// file; a mark that cannot be checked counts as absent (the reader then meets the writer's
    /// lock on the store itself and reads a copy).
    pub fn present(dir: &Path) -> bool {
        let Ok(file) = File::open(dir.join(VECTOR_WRITER_FILE)) else { return false };
        matches!(file.try_lock_shared(), Err(std::fs::TryLockError::WouldBlock))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_writer_is_refused_until_the_first_drops() {
        let dir = tempfile::tempdir().unwrap();
        let first = WriterLock::acquire(dir.path(), Duration::ZERO).unwrap();
        let err = WriterLock::acquire(dir.path(), Duration::from_millis(200)).unwrap_err();
        assert!(err.to_string().contains("another lore process"), "{err}");
        assert!(err.to_string().contains(&std::process::id().to_string()), "{err}");
        drop(first);
        WriterLock::acquire(dir.path(), Duration::ZERO).unwrap();
    }

    #[test]
    fn readers_see_the_vector_writer_mark_while_it_is_held() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!VectorWriterMark::present(dir.path()));
        let mark = VectorWriterMark::acquire(dir.path(), Duration::ZERO).unwrap();
        assert!(VectorWriterMark::present(dir.path()));
        assert!(VectorWriterMark::acquire(dir.path(), Duration::from_millis(50)).is_err());
        drop(mark);
        assert!(!VectorWriterMark::present(dir.path()));
        // Checking leaves the mark free for the next writer.
        VectorWriterMark::acquire(dir.path(), Duration::ZERO).unwrap();
    }
}
