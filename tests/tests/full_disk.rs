//! A disk that fills up during `lore add`: no crash, a clear error naming the problem, a library
//! that still opens and is consistent, and a rerun that completes once there is room again.
//!
//! The library lives on a small ext4 file system the test makes in a file and mounts through a
//! loop device (it needs root; tmpfs would not do: reading a hole of a mapped file allocates
//! memory there, so it fills differently from a disk). Where mounting is not possible the test
//! says `skipped (needs fulldisk): ...` and returns, or fails when `LORE_REQUIRE` names `fulldisk`
//! (`.ci/run` sets it: CI runs as root with loop devices). `LORE_DISKFULL_RUNS` sets how many amounts of free space are
//! tried (2 by default); `LORE_DISKFULL_SEED` replays them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use lore_tests::corpus::write_notes;
use lore_tests::rng::{Rng, env_count};
use lore_tests::stores::StoreView;
use lore_tests::{Lore, Run};

const HANG: Duration = Duration::from_secs(1800);

/// The vector store keeps this much free below its writes (index/src/vector/edge.rs); the
/// interesting amounts of free space are around it.
const STORE_MARGIN: u64 = 32 << 20;

/// A file system mounted on a directory, unmounted when dropped.
struct Mount {
    dir: PathBuf,
}

impl Mount {
    /// Makes an ext4 file system of `megabytes` in `image` and mounts it on `dir`.
    fn ext4(image: &Path, dir: &Path, megabytes: u64) -> Result<Mount, String> {
        std::fs::File::create(image)
            .and_then(|f| f.set_len(megabytes << 20))
            .map_err(|e| format!("cannot make the image file: {e}"))?;
        run("mkfs.ext4", &["-q", "-F", "-m", "0", image.to_str().unwrap()])?;
        run("mount", &["-o", "loop", image.to_str().unwrap(), dir.to_str().unwrap()])?;
        Ok(Mount { dir: dir.to_path_buf() })
    }
}

fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(program).args(args).output().map_err(|e| format!("cannot run {program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{program} {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
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
    f.set_len(written.saturating_sub(free)).unwrap();
    f.sync_all().unwrap();
}

fn says_disk_full(line: &str) -> bool {
    let l = line.to_lowercase();
    l.contains("disk holding the library is full") || l.contains("no space left")
}

/// A library on a small disk of its own, or why there cannot be one here.
fn library_on_small_disk() -> Result<(Lore, tempfile::TempDir, Mount), String> {
    let lore = Lore::new();
    let scratch = tempfile::tempdir().unwrap();
    let mount = Mount::ext4(&scratch.path().join("disk.img"), lore.home(), 96)?;
    std::fs::write(lore.home().join("config.toml"), "[qdrant]\noptimize_after = 0\n").unwrap();
    Ok((lore, scratch, mount))
}

/// Adds `batch` with about `free` bytes left on the disk; returns the run.
fn add_on_full_disk(lore: &Lore, batch: &Path, free: u64) -> Run {
    fill(&lore.home().join("ballast"), free);
    lore.spawn(&["add", batch.to_str().unwrap()]).wait(HANG)
}

#[test]
fn a_full_disk_stops_add_cleanly_and_leaves_a_consistent_library() {
    let (lore, _scratch, mount) = match library_on_small_disk() {
        Ok(l) => l,
        Err(why) => {
            lore_tests::skip(
                "fulldisk",
                &format!("a full disk needs a small file system the test can mount ({why})"),
            );
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::from_env("LORE_DISKFULL_SEED");
    let first = dir.path().join("first");
    let mut expected = write_notes(&first, 5, 0, &mut rng).len();
    lore.run(&["add", first.to_str().unwrap()]).ok();

    let runs = env_count("LORE_DISKFULL_RUNS", 2);
    let mut saw_full = 0;
    for run in 0..runs {
        // Nearly nothing free; or just above the store's margin, so that the disk fills during
        // the add; or some room beyond it.
        let free = match if run < 2 { run as u64 } else { rng.range(0, 2) } {
            0 => rng.range(0, 1 << 20),
            1 => STORE_MARGIN + rng.range(0, 200 << 10),
            _ => STORE_MARGIN + rng.range(0, 4 << 20),
        };
        let what = format!("run {run} (LORE_DISKFULL_SEED={}), {} KB free", rng.seed(), free >> 10);
        let batch = dir.path().join(format!("batch{run}"));
        let added = write_notes(&batch, 150, 2, &mut rng).len();

        let full = add_on_full_disk(&lore, &batch, free);
        let errors: Vec<&str> = full.stderr.lines().filter(|l| l.starts_with("error:")).collect();
        eprintln!("{what}: exit {}, {} error lines, first: {:?}", full.code, errors.len(), errors.first());
        assert!(full.code >= 0, "{what}: lore was killed by a signal:\n{}", full.stderr);
        assert!(!full.stderr.contains("panicked"), "{what}: {}", full.stderr);
        if full.code != 0 || !errors.is_empty() {
            saw_full += 1;
            for line in &errors {
                assert!(says_disk_full(line), "{what}: an error that does not name the full disk: {line}");
            }
            assert!(!errors.is_empty(), "{what}: add failed without an error line:\n{}", full.stderr);
        }

        // Still full: the library opens for reading, searches work, documents are whole.
        let ls = lore.run(&["ls", "--json"]);
        assert_eq!(ls.code, 0, "{what}: the library does not open on a full disk:\n{}", ls.stderr);
        let search = lore.run(&["search", "whale"]);
        assert_eq!(search.code, 0, "{what}: search on a full disk:\n{}", search.stderr);
        StoreView::read(lore.home()).check_committed().unwrap_or_else(|e| panic!("{what}: {e}"));

        // Room again: a writer repairs it, and the rerun completes.
        std::fs::remove_file(lore.home().join("ballast")).unwrap();
        let repair = lore.run(&["doctor", "--repair"]);
        assert!(repair.stdout.lines().any(|l| l.starts_with("ok   repair")), "{what}: {}", repair.stdout);
        StoreView::read(lore.home())
            .check_exact()
            .unwrap_or_else(|e| panic!("{what}, after the repair: {e}"));
        let rerun = lore.spawn(&["add", batch.to_str().unwrap()]).wait(HANG);
        assert_eq!(rerun.code, 0, "{what}: the rerun failed:\n{}", rerun.stderr);
        expected += added;
        assert_eq!(lore.docs().len(), expected, "{what}: documents after the rerun");
        StoreView::read(lore.home()).check_exact().unwrap_or_else(|e| panic!("{what}, after the rerun: {e}"));
    }
    assert!(saw_full > 0, "the disk never filled up: nothing was tested");
    drop(mount);
}

/// A full disk stops the batch at once with one line, rather than failing every document that
/// follows with the same message.
#[test]
fn a_full_disk_is_reported_once() {
    let (lore, _scratch, mount) = match library_on_small_disk() {
        Ok(l) => l,
        Err(why) => {
            lore_tests::skip(
                "fulldisk",
                &format!("a full disk needs a small file system the test can mount ({why})"),
            );
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::from_env("LORE_DISKFULL_SEED");
    let first = dir.path().join("first");
    write_notes(&first, 5, 0, &mut rng);
    lore.run(&["add", first.to_str().unwrap()]).ok();
    let batch = dir.path().join("batch");
    write_notes(&batch, 150, 0, &mut rng);
    let full = add_on_full_disk(&lore, &batch, STORE_MARGIN + (100 << 10));
    let errors: Vec<&str> = full.stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_ne!(full.code, 0, "{}", full.stdout);
    assert_eq!(errors.len(), 1, "one line for a full disk:\n{}", full.stderr);
    assert!(says_disk_full(errors[0]), "{}", errors[0]);
    drop(mount);
}
