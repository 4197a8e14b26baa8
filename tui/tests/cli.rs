//! Command-line behaviour of the `lore` binary that needs no documents.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn lore(home: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lore")).args(args).env("LORE_HOME", home).output().unwrap()
}

#[test]
fn ls_on_an_empty_library_says_so() {
    let home = tempfile::tempdir().unwrap();
    let out = lore(home.path(), &["ls"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("The library is empty"));
    let out = lore(home.path(), &["ls", "--json"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
}

#[test]
fn add_of_nothing_readable_fails_with_one_line_per_item() {
    let home = tempfile::tempdir().unwrap();
    let out = lore(home.path(), &["add", "/nonexistent/book.pdf"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<_> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains("/nonexistent/book.pdf"), "{err}");
}

#[test]
fn show_of_an_unknown_document_is_an_error() {
    let home = tempfile::tempdir().unwrap();
    let doc = home.path().join("note.md");
    std::fs::write(&doc, "# A note\n\nSome words about lore.").unwrap();
    assert!(lore(home.path(), &["add", doc.to_str().unwrap()]).status.success());
    let out = lore(home.path(), &["show", "no such thing"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no document matches"));
}
