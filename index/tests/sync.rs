//! `Library::sync` with the real engines on real documents: a folder is added, then changed on
//! disk (a file modified, one deleted, one renamed, one added), and a sync brings the catalog,
//! the vector store and the keyword index in step. Needs the embedding runtime that
//! `scripts/setup.sh` installs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use lore_index::{AddEvent, ChangeKind, Library, Mode, SearchConfig, SearchRequest, SyncReport};

mod common;

use common::{data, options};

/// Copies real documents into a fresh folder: three Python FAQ pages and three Moby-Dick
/// chapters.
fn source_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("faq")).unwrap();
    std::fs::create_dir_all(dir.path().join("moby")).unwrap();
    for f in ["gui.html", "installed.html", "windows.html"] {
        std::fs::copy(data(&format!("docs/html/python3.11-faq/{f}")), dir.path().join("faq").join(f))
            .unwrap();
    }
    for n in [111, 117, 120] {
        let f = format!("chapter_{n}.txt");
        std::fs::copy(data(&format!("docs/text/moby-dick/{f}")), dir.path().join("moby").join(&f)).unwrap();
    }
    dir
}

fn canonical(p: &Path) -> String {
    std::fs::canonicalize(p).unwrap().display().to_string()
}

/// The files a sync read (every file it read reports `Started`).
fn sync(lib: &mut Library) -> (SyncReport, Vec<PathBuf>) {
    let mut read = Vec::new();
    let roots = lib.catalog().roots().unwrap();
    let report = lib
        .sync(&roots, &mut |ev| {
            if let AddEvent::Started { path, .. } = ev {
                read.push(path.to_path_buf());
            }
        })
        .unwrap();
    (report, read)
}

fn sources(lib: &Library, query: &str, mode: Mode) -> Vec<String> {
    let req = SearchRequest { query: query.into(), k: 10, mode, filter: Default::default() };
    lib.search(&SearchConfig::default(), &req).unwrap().into_iter().map(|h| h.source).collect()
}

fn assert_in_step(lib: &Library) {
    let c = lib.consistency().unwrap();
    assert!(
        c.agrees() && !c.catalog.is_empty(),
        "catalog {} vectors {} keyword {}",
        c.catalog.len(),
        c.vectors.len(),
        c.keyword.len()
    );
}

#[test]
fn sync_applies_a_modify_a_delete_a_rename_and_an_add() {
    let src = source_folder();
    let home = tempfile::tempdir().unwrap();
    let mut lib = Library::open_writer(home.path(), options()).unwrap();
    let added = lib.add_paths(&[src.path().to_path_buf()], &["mine".into()], &mut |_| {}).unwrap();
    assert_eq!(added.added, 6, "{added:?}");
    assert_eq!(lib.catalog().roots().unwrap().len(), 1);

    // Nothing changed: nothing is read.
    let (report, read) = sync(&mut lib);
    assert_eq!((report.unchanged, report.changes.len()), (6, 0), "{report:?}");
    assert!(read.is_empty(), "unchanged files are not read: {read:?}");

    // A phrase only in the page that will be deleted is found first.
    let deleted_path = src.path().join("faq/installed.html");
    let deleted = canonical(&deleted_path);
    let phrase = "Perhaps another user on the computer wanted to learn programming and installed it";
    for mode in [Mode::Keyword, Mode::Vector] {
        assert_eq!(sources(&lib, phrase, mode).first(), Some(&deleted), "{mode:?}");
    }
    let gone_id = lib.catalog().lookup_source(&deleted).unwrap().unwrap().0;

    let renamed_path = src.path().join("moby/chapter_120.txt");
    let renamed_from = canonical(&renamed_path);
    let renamed_id = lib.catalog().lookup_source(&renamed_from).unwrap().unwrap().0;
    let renamed_chunks = lib.catalog().chunks_of(renamed_id, 0, 100).unwrap();
    let modified = src.path().join("moby/chapter_111.txt");
    let modified_id = lib.catalog().lookup_source(&canonical(&modified)).unwrap().unwrap().0;

    std::fs::remove_file(&deleted_path).unwrap();
    std::fs::create_dir(src.path().join("moby/later")).unwrap();
    let renamed_to = src.path().join("moby/later/the-first-night-watch.txt");
    std::fs::rename(&renamed_path, &renamed_to).unwrap();
    let mut text = std::fs::read_to_string(&modified).unwrap();
    text.push_str("\n\nA marginal note: the quadrant was smashed on a Tuesday by a xylophonist.\n");
    std::fs::write(&modified, text).unwrap();
    let new_file = src.path().join("moby/chapter_122.txt");
    std::fs::copy(data("docs/text/moby-dick/chapter_122.txt"), &new_file).unwrap();

    let (report, read) = sync(&mut lib);
    assert_eq!(
        (report.added, report.updated, report.removed, report.renamed, report.unchanged),
        (1, 1, 1, 1, 3),
        "{report:?}"
    );
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_in_step(&lib);
    let mut read: Vec<String> = read.iter().map(|p| canonical(p)).collect();
    read.sort();
    assert_eq!(read, vec![canonical(&modified), canonical(&new_file)], "only changed and new files are read");

    // The deleted page is gone from the catalog and both indexes.
    assert!(lib.catalog().get(gone_id).unwrap().is_none());
    for mode in [Mode::Keyword, Mode::Vector] {
        assert!(!sources(&lib, phrase, mode).contains(&deleted), "{mode:?}");
    }
    assert!(
        !lib.consistency().unwrap().vectors.iter().any(|&c| lore_index::catalog::doc_of_chunk(c) == gone_id)
    );

    // The renamed chapter kept its identity and chunks, and is found at its new path.
    let change = report.changes.iter().find(|c| c.change == ChangeKind::Renamed).unwrap();
    assert_eq!(change.doc_id, renamed_id);
    assert_eq!(change.from.as_deref(), Some(renamed_from.as_str()));
    assert_eq!(lib.catalog().lookup_source(&canonical(&renamed_to)).unwrap().unwrap().0, renamed_id);
    assert_eq!(lib.catalog().chunks_of(renamed_id, 0, 100).unwrap(), renamed_chunks);
    assert_eq!(lib.catalog().tags_of(renamed_id).unwrap(), vec!["mine".to_string()]);
    let q = "We must send down the main-top-sail yard, sir. The band is working loose";
    assert_eq!(sources(&lib, q, Mode::Vector).first(), Some(&canonical(&renamed_to)));

    // The modified chapter kept its id and its new words are found; the new one is there.
    let q = "quadrant smashed on a Tuesday by a xylophonist";
    assert_eq!(sources(&lib, q, Mode::Keyword).first(), Some(&canonical(&modified)));
    assert_eq!(lib.catalog().lookup_source(&canonical(&modified)).unwrap().unwrap().0, modified_id);
    assert_eq!(
        sources(&lib, "Midnight Aloft Thunder and Lightning", Mode::Keyword).first(),
        Some(&canonical(&new_file))
    );
    assert_eq!(
        lib.catalog().tags_of(lib.resolve(&canonical(&new_file)).unwrap()[0].id).unwrap(),
        vec!["mine"]
    );

    // A second sync finds everything as it is.
    let (report, read) = sync(&mut lib);
    assert_eq!((report.unchanged, report.changes.len()), (6, 0), "{report:?}");
    assert!(read.is_empty());
}

#[test]
fn a_file_that_fails_is_not_read_again_until_it_changes() {
    let src = tempfile::tempdir().unwrap();
    std::fs::copy(data("docs/text/moby-dick/chapter_122.txt"), src.path().join("good.txt")).unwrap();
    let bad = src.path().join("bad.pdf");
    std::fs::write(&bad, b"%PDF-1.4 this is not really a PDF").unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut lib = Library::open_writer(home.path(), options()).unwrap();
    let added = lib.add_paths(&[src.path().to_path_buf()], &[], &mut |_| {}).unwrap();
    assert_eq!((added.added, added.failed.len()), (1, 1), "{added:?}");

    // The first sync tries it and remembers the failure; the next one does not read it.
    let (report, read) = sync(&mut lib);
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(read.len(), 1);
    let (report, read) = sync(&mut lib);
    assert_eq!(report.failed.len(), 1, "still reported: {report:?}");
    assert!(read.is_empty(), "not read again: {read:?}");

    // Once it changes it is tried again; once it is gone its failure is forgotten.
    std::fs::write(&bad, b"%PDF-1.4 still not a PDF, but changed").unwrap();
    let (_, read) = sync(&mut lib);
    assert_eq!(read.len(), 1);
    std::fs::remove_file(&bad).unwrap();
    let (report, _) = sync(&mut lib);
    assert!(report.failed.is_empty(), "{report:?}");
    assert!(lib.catalog().failure(&format!("{}/bad.pdf", canonical(src.path()))).unwrap().is_none());
}

#[test]
fn missing_roots_deleted_file_roots_and_forgetting_roots() {
    let src = source_folder();
    let single = tempfile::tempdir().unwrap();
    let lone = single.path().join("chapter_122.txt");
    std::fs::copy(data("docs/text/moby-dick/chapter_122.txt"), &lone).unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut lib = Library::open_writer(home.path(), options()).unwrap();
    let moby = src.path().join("moby");
    lib.add_paths(&[moby.clone(), lone.clone()], &[], &mut |_| {}).unwrap();
    assert_eq!(lib.catalog().counts().unwrap().0, 4);

    // A folder root that is gone altogether keeps its documents; a deleted file root goes.
    let moved = src.path().join("moby-elsewhere");
    std::fs::rename(&moby, &moved).unwrap();
    std::fs::remove_file(&lone).unwrap();
    let (report, _) = sync(&mut lib);
    assert_eq!(report.missing_roots.len(), 1, "{report:?}");
    assert!(report.missing_roots[0].contains("moby"), "{report:?}");
    assert_eq!(report.removed, 1, "{report:?}");
    assert_eq!(lib.catalog().counts().unwrap().0, 3);
    assert_in_step(&lib);

    // Back in place, nothing changed.
    std::fs::rename(&moved, &moby).unwrap();
    let (report, _) = sync(&mut lib);
    assert_eq!((report.unchanged, report.changes.len()), (3, 0), "{report:?}");

    // Forgetting a root keeps its documents; purging removes those no other root covers.
    let roots = lib.catalog().roots().unwrap();
    let folder = roots.iter().find(|r| r.kind == "folder").unwrap().clone();
    let r = lib.forget_root(&folder, false).unwrap();
    assert_eq!((r.removed, r.kept), (0, 3));
    assert_eq!(lib.catalog().counts().unwrap().0, 3);
    let root = lib.catalog().root_by_path(&folder.path).unwrap();
    assert!(root.is_none());
    let root = lib.add_paths(std::slice::from_ref(&moby), &[], &mut |_| {}).unwrap();
    assert_eq!(root.unchanged, 3);
    let folder = lib.catalog().root_by_path(&canonical(&moby)).unwrap().unwrap();
    let r = lib.forget_root(&folder, true).unwrap();
    assert_eq!((r.removed, r.kept), (3, 0));
    assert_eq!(lib.catalog().counts().unwrap().0, 0);
    let c = lib.consistency().unwrap();
    assert!(c.agrees() && c.vectors.is_empty(), "{c:?}");
}
