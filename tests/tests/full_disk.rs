//! A disk that fills up during `lore add`: one clear error naming the problem, a library that
//! still opens and is consistent, and a rerun that completes once there is room again.
//!
//! The library lives on a small tmpfs the test mounts (it needs root). Where mounting is not
//! possible the test says `skipped: ...` and passes. `LORE_DISKFULL_RUNS` sets how many amounts
//! of free space are tried (2 by default); `LORE_DISKFULL_SEED` replays them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use lore_tests::corpus::write_notes;
use lore_tests::rng::{Rng, env_count};
use lore_tests::stores::StoreView;
use lore_tests::{Lore, Run};

const HANG: Duration = Duration::from_secs(1800);

/// A tmpfs mounted on a directory, unmounted when dropped.
struct Mount {
    dir: PathBuf,
}

impl Mount {
    fn tmpfs(dir: &Path, megabytes: u64) -> Result<Mount, String> {
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!("mount -t tmpfs failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
        }
        Ok(Mount { dir: dir.to_path_buf() })
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

/// Fills the file system of `path` with a ballast file, leaving about `free` bytes.
fn fill(path: &Path, free: u64) {
    let mut f = std::fs::File::create(path).unwrap();
    let block = vec![0x5au8; 64 * 1024];
    let mut written = 0u64;
    loop {
        match f.write(&block) {
            Ok(0) => break,
            Ok(n) => written += n as u64,
            Err(e) if e.raw_os_error() == Some(28) => break,
            Err(e) => panic!("filling the disk: {e}"),
        }
    }
    let _ = f.sync_all();
    f.set_len(written.saturating_sub(free)).unwrap();
    f.sync_all().unwrap();
}

fn says_disk_full(line: &str) -> bool {
    let l = line.to_lowercase();
    l.contains("no space left")
        || l.contains("disk full")
        || l.contains("disk is full")
        || l.contains("full disk")
}

#[test]
fn a_full_disk_stops_add_with_one_clear_error_and_leaves_a_consistent_library() {
    let lore = Lore::new();
    let mount = match Mount::tmpfs(lore.home(), 24) {
        Ok(m) => m,
        Err(why) => {
            eprintln!("skipped: a full disk needs a tmpfs the test can mount ({why})");
            return;
        }
    };
    std::fs::write(lore.home().join("config.toml"), "[qdrant]\noptimize_after = 0\n").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::from_env("LORE_DISKFULL_SEED");
    let first = dir.path().join("first");
    let mut expected = write_notes(&first, 5, 0, &mut rng).len();
    lore.run(&["add", first.to_str().unwrap()]).ok();

    let ballast = lore.home().join("ballast");
    let runs = env_count("LORE_DISKFULL_RUNS", 2);
    let mut saw_full = 0;
    for run in 0..runs {
        let free = rng.range(16 * 1024, 400 * 1024);
        let what = format!("run {run} (LORE_DISKFULL_SEED={}), {free} bytes free", rng.seed());
        let batch = dir.path().join(format!("batch{run}"));
        let added = write_notes(&batch, 120, 2, &mut rng).len();
        fill(&ballast, free);

        let full = lore.spawn(&["add", batch.to_str().unwrap()]).wait(HANG);
        eprintln!("{what}: exit {}\n{}", full.code, full.stderr);
        assert!(full.code >= 0, "{what}: lore was killed by a signal:\n{}", full.stderr);
        assert!(!full.stderr.contains("panicked"), "{what}: {}", full.stderr);
        let errors: Vec<&str> = full.stderr.lines().filter(|l| l.starts_with("error:")).collect();
        if full.code != 0 || !errors.is_empty() {
            saw_full += 1;
            let about_space: Vec<&&str> = errors.iter().filter(|l| says_disk_full(l)).collect();
            assert!(!about_space.is_empty(), "{what}: no error says the disk is full:\n{}", full.stderr);
            assert_eq!(
                errors.len(),
                1,
                "{what}: one error line for a full disk, not one per document:\n{}",
                full.stderr
            );
        }

        // Still full: the library opens for reading and shows whole documents.
        let ls = lore.run(&["ls", "--json"]);
        assert_eq!(ls.code, 0, "{what}: the library does not open on a full disk:\n{}", ls.stderr);
        StoreView::read(lore.home()).check_committed().unwrap_or_else(|e| panic!("{what}: {e}"));

        // Room again: a writer repairs it, and the rerun completes.
        std::fs::remove_file(&ballast).unwrap();
        let repair = lore.run(&["doctor", "--repair"]);
        assert!(repair.stdout.contains("repair"), "{what}: {}", repair.stdout);
        StoreView::read(lore.home())
            .check_exact()
            .unwrap_or_else(|e| panic!("{what}, after the repair: {e}"));
        let rerun: Run = lore.spawn(&["add", batch.to_str().unwrap()]).wait(HANG);
        assert_eq!(rerun.code, 0, "{what}: the rerun failed:\n{}", rerun.stderr);
        expected += added;
        assert_eq!(lore.docs().len(), expected, "{what}: documents after the rerun");
        StoreView::read(lore.home()).check_exact().unwrap_or_else(|e| panic!("{what}, after the rerun: {e}"));
    }
    assert!(saw_full > 0, "the disk never filled up: nothing was tested");
    drop(mount);
}
