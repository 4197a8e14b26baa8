//! A library is private: its directory and every file in it are for its owner alone (0700
//! folders, 0600 files), a library left readable by others is tightened by the next write with
//! one notice, `lore doctor` warns of a configuration file holding a key that others can read,
//! and no credential (an API key, a password in a URL, an `Authorization` header a server echoes)
//! is ever shown. Unix only: the modes are Unix permissions.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use lore_tests::{Lore, Run, data};

const FAQ: &str = "docs/html/python3.11-faq";

/// Every folder and file under `home` (itself included) with its permission bits.
fn modes(home: &Path) -> Vec<(PathBuf, bool, u32)> {
    let mut out = Vec::new();
    let mut todo = vec![home.to_path_buf()];
    while let Some(path) = todo.pop() {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.file_type().is_symlink() {
            continue;
        }
        out.push((path.clone(), meta.is_dir(), meta.permissions().mode() & 0o777));
        if meta.is_dir() {
            todo.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        }
    }
    out
}

/// The entries of `home` whose mode is not 0700 (folders) or 0600 (files).
fn not_private(home: &Path) -> Vec<String> {
    modes(home)
        .into_iter()
        .filter(|(_, dir, mode)| *mode != if *dir { 0o700 } else { 0o600 })
        .map(|(p, _, mode)| format!("{} {mode:o}", p.display()))
        .collect()
}

/// Sets every folder under `home` to 0755 and every file to 0644, as an older lore left them.
fn loosen(home: &Path) {
    for (path, dir, _) in modes(home) {
        let mode = if dir { 0o755 } else { 0o644 };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
}

/// Runs `lore ARGS` on the library at `home` under umask 022, the usual one, which would leave
/// new files readable by everyone.
fn lore_umask_022(lore: &Lore, home: &Path, args: &[&str]) -> Run {
    let mut cmd = lore.cmd(&[]);
    let program = cmd.get_program().to_owned();
    let mut sh = Command::new("sh");
    sh.arg("-c").arg("umask 022 && exec \"$0\" \"$@\"").arg(program).args(args);
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => sh.env(k, v),
            None => sh.env_remove(k),
        };
    }
    sh.env("LORE_HOME", home).current_dir(lore_tests::workspace());
    cmd = sh;
    Run::from_output(cmd.output().expect("run lore"))
}

fn faq(page: &str) -> String {
    data(FAQ).join(page).display().to_string()
}

/// The stderr lines that tell of a library made private.
fn privacy_notices(run: &Run) -> Vec<String> {
    run.stderr.lines().filter(|l| l.contains("readable by other users")).map(str::to_string).collect()
}

#[test]
fn a_new_library_and_everything_in_it_is_for_its_owner_alone() {
    let lore = Lore::new();
    // A library directory that does not exist yet: lore creates it.
    let home = lore.home().join("new").join("library");
    let run = lore_umask_022(&lore, &home, &["add", &faq("gui.html")]).ok();
    assert!(privacy_notices(&run).is_empty(), "a new library needs no notice: {}", run.stderr);
    let all = modes(&home);
    for name in ["catalog.sqlite", "tantivy", "qdrant", "write.lock"] {
        assert!(all.iter().any(|(p, _, _)| p.ends_with(name)), "no {name} in {all:?}");
    }
    assert!(all.len() > 10, "{all:?}");
    assert_eq!(not_private(&home), Vec::<String>::new());
    // Writing again (a second add, an answer recorded in a conversation) keeps it so, silently.
    let run = lore_umask_022(&lore, &home, &["add", &faq("installed.html")]).ok();
    assert!(privacy_notices(&run).is_empty(), "{}", run.stderr);
    lore_umask_022(&lore, &home, &["ask", "--no-llm", "What GUI toolkits exist for Python?"]).ok();
    assert_eq!(not_private(&home), Vec::<String>::new());
}

#[test]
fn a_library_readable_by_others_is_tightened_by_the_next_add_with_one_notice() {
    let lore = Lore::with_files(FAQ, &["gui.html"]);
    let home = lore.home().to_path_buf();
    std::fs::write(home.join("config.toml"), "[ask]\nk = 8\n").unwrap();
    loosen(&home);
    assert!(not_private(&home).len() > 10);
    let run = lore_umask_022(&lore, &home, &["add", &faq("installed.html")]).ok();
    let notices = privacy_notices(&run);
    assert_eq!(notices.len(), 1, "{}", run.stderr);
    assert!(notices[0].contains(&home.display().to_string()), "{}", notices[0]);
    assert_eq!(not_private(&home), Vec::<String>::new());
    // Once private, the next write says nothing.
    let run = lore_umask_022(&lore, &home, &["rm", "installed.html"]).ok();
    assert!(privacy_notices(&run).is_empty(), "{}", run.stderr);
    assert_eq!(not_private(&home), Vec::<String>::new());
}
