//! The terminal UI end to end: the real `lore` binary in a real terminal (tmux), driven by keys
//! and read back from the screen. It opens on an empty library, adds a document, asks a
//! question of the local chat model, sees the answer with a citation and the cited source,
//! opens the source with the system opener (a script that records what it was given), quits,
//! and checks that the terminal is back in its ordinary mode.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lore_tests::tmux::{Tmux, WIDTH};
use lore_tests::{CHAT_MODEL_ENV, Lore, chat_server, data, lore_bin};

/// Columns of the conversation pane (58% of the width, as the UI lays it out).
const LEFT: usize = 58;

/// The columns of every screen line from `from` to `to`.
fn columns(screen: &str, from: usize, to: usize) -> String {
    screen
        .lines()
        .map(|l| l.chars().skip(from).take(to - from).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether `text` holds a citation marker `[n]`.
fn has_marker(text: &str) -> bool {
    let b = text.as_bytes();
    (0..b.len()).any(|i| {
        b[i] == b'[' && {
            let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            digits > 0 && b.get(i + 1 + digits) == Some(&b']')
        }
    })
}

/// A script for `$LORE_OPENER` that appends its argument to `log`.
fn opener_script(dir: &Path, log: &Path) -> PathBuf {
    let script = dir.join("opener.sh");
    std::fs::write(&script, format!("#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n", log.display())).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

#[test]
fn a_session_adds_asks_opens_the_source_and_quits() {
    let lore = Lore::new();
    let scratch = tempfile::tempdir().unwrap();
    let opened = scratch.path().join("opened.txt");
    let opener = opener_script(scratch.path(), &opened);
    let doc = data("docs/html/python3.11-faq/gui.html");
    let doc = std::fs::canonicalize(doc).unwrap();
    let mut env = vec![
        ("LORE_HOME", lore.home().display().to_string()),
        ("LORE_LLM_BASE_URL", chat_server()),
        ("LORE_OPENER", opener.display().to_string()),
        ("NO_COLOR", "1".to_string()),
    ];
    env.extend(CHAT_MODEL_ENV.map(|(k, v)| (k, v.to_string())));
    let t = Tmux::start(&env);
    t.wait_for("the shell's prompt", Duration::from_secs(10), |s| !s.trim().is_empty());
    t.type_text(&format!("{}; echo EXIT=$?", lore_bin().display()));
    t.keys(&["Enter"]);

    // Open: the empty library.
    t.wait_for("the first frame", Duration::from_secs(30), |s| {
        s.contains("Conversation") && s.contains("Library · 0 docs") && s.contains("Your library is empty")
    });

    // Add a document from the library pane.
    t.keys(&["Tab", "Tab", "a"]);
    t.wait_for("the add popup", Duration::from_secs(10), |s| s.contains("Add a file or folder"));
    t.type_text(&doc.display().to_string());
    t.keys(&["Enter"]);
    let s = t.wait_for("the document in the library", Duration::from_secs(120), |s| {
        s.contains("Library · 1 doc ·") && s.contains("added 1 document")
    });
    assert!(columns(&s, LEFT, WIDTH).contains("Graphic User Interface FAQ"), "{s}");

    // Ask a question against the local chat model.
    t.keys(&["Tab"]);
    t.type_text("Which GUI toolkits can I use with Python?");
    t.keys(&["Enter"]);
    t.wait_for("the answer to start", Duration::from_secs(60), |s| {
        s.contains("answering") || s.contains("Conversation #")
    });
    // Done when the answer is recorded: the pane title then names the conversation.
    let s = t.wait_for("the answer", Duration::from_secs(300), |s| {
        s.contains("Conversation #") && !s.contains("answering")
    });
    let conversation = columns(&s, 0, LEFT);
    let sources = columns(&s, LEFT, WIDTH);
    assert!(conversation.contains("› Which GUI toolkits can I use with Python?"), "{s}");
    assert!(has_marker(&conversation), "no [n] citation in the answer:\n{s}");
    assert!(sources.contains("] Graphic User Interface"), "the sources pane lists no cited source:\n{s}");

    // Open the cited source from the sources pane.
    t.keys(&["Tab", "o"]);
    let start = Instant::now();
    let target = loop {
        if let Ok(text) = std::fs::read_to_string(&opened)
            && !text.trim().is_empty()
        {
            break text;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "the opener was not run:\n{}", t.screen());
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(target.trim(), doc.display().to_string());

    // The answer was recorded as a conversation.
    let history = lore.run(&["history", "--json"]).ok().json();
    assert_eq!(history.as_array().map(Vec::len), Some(1), "{history}");

    // Quit: the shell is back, in cooked mode with echo, off the alternate screen.
    t.keys(&["q"]);
    t.wait_for("lore to exit", Duration::from_secs(20), |s| s.contains("EXIT=0"));
    assert_eq!(t.display("#{alternate_on}"), "0");
    assert_eq!(t.display("#{mouse_any_flag}"), "0");
    assert_eq!(t.display("#{cursor_flag}"), "1");
    t.type_text("echo MODES=$(stty -a | tr ' ;' '\\n\\n' | grep -cx -e icanon -e echo)");
    t.keys(&["Enter"]);
    t.wait_for("the terminal modes", Duration::from_secs(10), |s| s.contains("MODES=2"));
}

/// The UI keeps up with what happens around it: a search that fails (the keyword index is
/// unreadable for a moment) is reported and the next one is served; a document added from
/// another terminal shows in the library pane's count and in the next search.
#[test]
fn the_ui_survives_a_failed_search_and_follows_adds_made_elsewhere() {
    let lore = Lore::new();
    let scratch = tempfile::tempdir().unwrap();
    let first = scratch.path().join("whales.md");
    std::fs::write(
        &first,
        "# Whale migration notes\n\nHumpback whales migrate thousands of kilometres between feeding and \
         breeding grounds every year.\n",
    )
    .unwrap();
    lore.run(&["add", first.to_str().unwrap()]).ok();
    let env = [("LORE_HOME", lore.home().display().to_string()), ("NO_COLOR", "1".to_string())];
    let t = Tmux::start(&env);
    t.wait_for("the shell's prompt", Duration::from_secs(10), |s| !s.trim().is_empty());
    t.type_text(&format!("{}; echo EXIT=$?", lore_bin().display()));
    t.keys(&["Enter"]);
    t.wait_for("the library and the engine", Duration::from_secs(60), |s| {
        s.contains("Library · 1 doc ·") && s.contains(" ready")
    });

    // A search that works.
    t.keys(&["Escape", "/"]);
    t.type_text("humpback");
    t.wait_for("the results", Duration::from_secs(30), |s| s.contains("1. Whale migration notes"));

    // The keyword index cannot be read: the search fails, and says so.
    let meta = lore.home().join("tantivy/meta.json");
    let aside = lore.home().join("tantivy/meta.json.aside");
    std::fs::rename(&meta, &aside).unwrap();
    t.type_text(" whales");
    t.wait_for("the failure", Duration::from_secs(30), |s| s.contains("✗ ") && s.contains("meta.json"));
    // Readable again: the next search is served.
    std::fs::rename(&aside, &meta).unwrap();
    t.type_text(" migrate");
    t.wait_for("the results again", Duration::from_secs(30), |s| {
        s.contains("1. Whale migration notes") && !s.contains("✗ ")
    });

    // Another terminal adds a document: the library pane counts it, and a search finds it.
    let second = scratch.path().join("quokka.md");
    std::fs::write(
        &second,
        "# Quokkaplatypus husbandry\n\nA quokkaplatypus eats river weed at dawn and sleeps in a burrow by \
         the water.\n",
    )
    .unwrap();
    lore.run(&["add", second.to_str().unwrap()]).ok();
    t.wait_for("the new count", Duration::from_secs(30), |s| s.contains("Library · 2 docs ·"));
    for _ in 0.." humpback whales migrate".chars().count() {
        t.keys(&["BSpace"]);
    }
    t.type_text("quokkaplatypus river weed");
    t.wait_for("the new document in the results", Duration::from_secs(30), |s| {
        s.contains("1. Quokkaplatypus husbandry")
    });

    t.keys(&["C-c"]);
    t.wait_for("lore to exit", Duration::from_secs(20), |s| s.contains("EXIT=0"));
}

/// Builds a large library for measuring the UI (not a check of lore; run by hand):
/// `LORE_UI_BENCH_HOME=DIR [LORE_UI_BENCH_CHUNKS=100000] cargo test -p lore-tests --test tui --
/// --ignored build_a_large_library --nocapture`. Real documents of the shared data are chunked by
/// the real chunker and written to the real catalog, keyword index and vector store, copied under
/// new sources until the library holds the chunks asked for. The vectors are random unit vectors:
/// embedding 100k chunks takes hours on this machine, and a search costs the same either way.
#[test]
#[ignore = "builds a benchmark library; needs LORE_UI_BENCH_HOME"]
fn build_a_large_library() {
    use lore_index::catalog::{Catalog, NewDocument};
    use lore_index::{EngineOptions, Engines, Library};

    let home = PathBuf::from(std::env::var("LORE_UI_BENCH_HOME").expect("set LORE_UI_BENCH_HOME"));
    let target: usize =
        std::env::var("LORE_UI_BENCH_CHUNKS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    std::fs::create_dir_all(&home).unwrap();
    let started = Instant::now();
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in ["docs/html/python3.11-faq", "docs/html/debian-reference", "docs/text/moby-dick"] {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(data(dir)).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        files.extend(entries);
    }
    files.push(data("docs/pdf/R-intro.pdf"));
    files.push(data("docs/pdf/live-manual.portrait.en.a4.pdf"));
    let chunker = lore_ingest::Chunker::estimated(lore_ingest::ChunkConfig::default());
    let opts = lore_ingest::LoadOptions::default();
    let base: Vec<(lore_ingest::Document, Vec<lore_ingest::Chunk>)> = files
        .iter()
        .filter_map(|f| lore_ingest::load_path(f, &opts).ok())
        .filter_map(|d| chunker.chunk(&d).ok().filter(|c| !c.is_empty()).map(|c| (d, c)))
        .collect();
    let per_copy: usize = base.iter().map(|(_, c)| c.len()).sum();
    eprintln!(
        "{} documents, {per_copy} chunks per copy, loaded in {:.1}s",
        base.len(),
        started.elapsed().as_secs_f64()
    );

    let engine_opts =
        EngineOptions { runtime_dir: lore_index::default_runtime_dir().unwrap(), ..EngineOptions::default() };
    let mut catalog = Catalog::open(&home.join(lore_index::layout::CATALOG_FILE)).unwrap();
    let engines =
        Engines::open_writer(&home, Engines::embedder(&engine_opts).unwrap(), &engine_opts).unwrap();
    engines.check_model(&catalog).unwrap();
    let dim = engines.embedder.dim();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut random_unit = || {
        let mut v: Vec<f32> = (0..dim)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed >> 11) as f32 / (1u64 << 53) as f32 - 0.5
            })
            .collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
        v.iter_mut().for_each(|x| *x /= norm);
        v
    };
    let (mut total, mut pending, mut pending_chunks, mut copy) = (0usize, Vec::new(), 0usize, 0usize);
    'fill: loop {
        for (doc, chunks) in &base {
            let mut d = doc.clone();
            if copy > 0 {
                d.source = format!("{}#copy{copy}", doc.source);
                d.title = format!("{} (copy {copy})", doc.title);
                d.hash = format!("{}-{copy}", doc.hash);
            }
            let new = NewDocument { doc: &d, chunks, tags: &[], root_id: None, file: None };
            let id = catalog.begin_upsert(&new).unwrap().doc_id();
            let summary = catalog.get(id).unwrap().unwrap();
            let stored = catalog.chunks_of(id, 0, usize::MAX >> 1).unwrap();
            let vectors = stored.iter().map(|_| random_unit()).collect();
            engines.write_document(&summary, &stored, vectors).unwrap();
            pending.push(id);
            pending_chunks += stored.len();
            total += stored.len();
            if pending_chunks >= 5000 || total >= target {
                engines.commit().unwrap();
                for id in pending.drain(..) {
                    catalog.finish(id).unwrap();
                }
                pending_chunks = 0;
                eprintln!("{total} chunks, {:.0}s", started.elapsed().as_secs_f64());
            }
            if total >= target {
                break 'fill;
            }
        }
        copy += 1;
    }
    drop(engines);
    drop(catalog);
    // The library opens for searching and agrees with itself.
    let lib = Library::open_reader(&home, Some(&engine_opts)).unwrap();
    let (_, chunks) = lib.catalog().counts().unwrap();
    assert!(chunks as usize >= target);
    assert!(lib.consistency().unwrap().agrees());
    eprintln!("built {chunks} chunks in {:.0}s", started.elapsed().as_secs_f64());
}

/// Measures the UI on the library of `LORE_UI_BENCH_HOME` (run by hand after
/// [`build_a_large_library`]): launch to first frame over three launches, and keystroke to
/// frame while typing a live search, from the figures `LORE_UI_TIMINGS` writes.
#[test]
#[ignore = "measures the UI; needs LORE_UI_BENCH_HOME"]
fn measure_ui_timings() {
    let home = std::env::var("LORE_UI_BENCH_HOME").expect("set LORE_UI_BENCH_HOME");
    let scratch = tempfile::tempdir().unwrap();
    let log = scratch.path().join("timings.txt");
    for run in 0..3 {
        let env = [
            ("LORE_HOME", home.clone()),
            ("LORE_UI_TIMINGS", log.display().to_string()),
            ("NO_COLOR", "1".to_string()),
        ];
        let t = Tmux::start(&env);
        t.wait_for("the shell's prompt", Duration::from_secs(10), |s| !s.trim().is_empty());
        t.type_text(&format!("{}; echo EXIT=$?", lore_bin().display()));
        t.keys(&["Enter"]);
        t.wait_for("the search engine", Duration::from_secs(120), |s| s.contains(" ready · "));
        if run == 0 {
            t.keys(&["Escape", "/"]);
            // A steady typist: one key every 150 ms.
            for c in "how do i freeze tkinter applications".chars() {
                t.type_text(&c.to_string());
            }
            t.wait_for("the results", Duration::from_secs(30), |s| s.contains(" results · "));
            std::thread::sleep(Duration::from_secs(1));
        }
        t.keys(&["C-c"]);
        t.wait_for("lore to exit", Duration::from_secs(20), |s| s.contains("EXIT=0"));
    }
    let text = std::fs::read_to_string(&log).unwrap();
    let values = |name: &str| -> Vec<f64> {
        text.lines().filter_map(|l| l.strip_prefix(name)?.trim().parse().ok()).collect()
    };
    for name in [
        "first_frame_ms",
        "library_listed_ms",
        "engine_ready_ms",
        "key_to_frame_ms",
        "search_key_to_results_frame_ms",
        "search_engine_ms",
    ] {
        let mut v = values(name);
        assert!(!v.is_empty(), "no {name} in\n{text}");
        v.sort_by(|a, b| a.total_cmp(b));
        eprintln!(
            "{name}: n={} min {:.1} median {:.1} max {:.1}",
            v.len(),
            v[0],
            v[v.len() / 2],
            v[v.len() - 1]
        );
    }
}
