//! `lore` running in the background: started, watched, killed with SIGKILL or waited for with
//! a watchdog, its output kept in files so that it never blocks on a full pipe.

use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::{Lore, Run};

/// A `lore` process started by [`Lore::spawn`].
#[derive(Debug)]
pub struct Running {
    child: Child,
    out: tempfile::NamedTempFile,
    err: tempfile::NamedTempFile,
    /// What was run, for messages.
    pub what: String,
}

impl Lore {
    /// Starts `lore ARGS...` in the background.
    pub fn spawn(&self, args: &[&str]) -> Running {
        self.spawn_env(args, &[])
    }

    /// Starts `lore ARGS...` in the background with these environment variables set.
    pub fn spawn_env(&self, args: &[&str], env: &[(&str, &str)]) -> Running {
        let out = tempfile::NamedTempFile::new().expect("temp file");
        let err = tempfile::NamedTempFile::new().expect("temp file");
        let child = self
            .cmd(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::from(out.reopen().expect("reopen temp file")))
            .stderr(Stdio::from(err.reopen().expect("reopen temp file")))
            .spawn()
            .expect("start lore");
        Running { child, out, err, what: format!("lore {}", args.join(" ")) }
    }

    /// A new library holding a copy of `other`'s directory (the library must not be in use).
    pub fn copy_of(other: &Lore) -> Lore {
        let lore = Lore::new();
        copy_tree(other.home(), lore.home());
        lore
    }

    /// The library's catalog file.
    pub fn catalog_path(&self) -> PathBuf {
        self.home().join(lore_index::layout::CATALOG_FILE)
    }
}

/// Copies the files and folders under `from` into `to` (created as needed).
pub fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

impl Running {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it has exited.
    pub fn finished(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Kills it with SIGKILL (nothing if it has exited) and returns what it printed.
    pub fn kill9(mut self) -> Run {
        let _ = self.child.kill();
        self.collect()
    }

    /// Waits for it to exit; after `limit` it is killed and the test fails, naming what hung.
    pub fn wait(mut self, limit: Duration) -> Run {
        let start = Instant::now();
        loop {
            if let Ok(Some(_)) = self.child.try_wait() {
                return self.collect();
            }
            if start.elapsed() > limit {
                let what = self.what.clone();
                let run = self.kill9();
                panic!(
                    "{what} did not finish within {}s (killed):\nstdout:\n{}\nstderr:\n{}",
                    limit.as_secs(),
                    tail(&run.stdout, 40),
                    tail(&run.stderr, 40)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn collect(mut self) -> Run {
        let status = self.child.wait().expect("wait for lore");
        let read = |f: &tempfile::NamedTempFile| {
            String::from_utf8_lossy(&std::fs::read(f.path()).unwrap_or_default()).into_owned()
        };
        Run { code: status.code().unwrap_or(-1), stdout: read(&self.out), stderr: read(&self.err) }
    }
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
