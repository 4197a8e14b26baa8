//! The single-writer lock of a library directory.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

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
        let path = dir.join("write.lock");
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
}
