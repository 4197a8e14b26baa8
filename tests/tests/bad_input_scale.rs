//! Bad input at scale: one `lore add` over the pypdf test suite, real documents and generated
//! junk (random bytes under document extensions, truncated and corrupted books, zip bombs in
//! EPUBs, PDFs that loop or nest without end, deeply nested HTML, a million-line text file).
//! Nothing panics or hangs; every file that fails gets one line naming it and the reason; and
//! every file that loads on its own is added.
//!
//! CI uses a sample of `../shared/data/docs`; `LORE_BAD_INPUT_FULL=1` uses all of it and the
//! expensive junk too (a million lines of words, an EPUB that inflates to 100 MB of text).
//! `LORE_BAD_INPUT_SEED` replays the random junk.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use lore_ingest::{ChunkConfig, Chunker, LoadOptions};
use lore_tests::junk::{Size, write_junk};
use lore_tests::rng::{Rng, env_flag};
use lore_tests::stores::StoreView;
use lore_tests::{Lore, data};

/// How long one file may take to load and chunk on its own before the test calls it a hang.
const FILE_BUDGET: Duration = Duration::from_secs(300);

/// What loading a file on its own gave.
#[derive(Debug, Clone)]
enum Alone {
    /// Loaded, with text to chunk.
    Good,
    /// Refused, for this reason.
    Bad(String),
    /// Still running after [`FILE_BUDGET`].
    Hung,
}

/// Loads and chunks `path` the way `lore add` does, on a thread with a time budget.
fn load_alone(path: &Path) -> Alone {
    let (tx, rx) = mpsc::channel();
    let p = path.to_path_buf();
    std::thread::spawn(move || {
        let chunker = Chunker::estimated(ChunkConfig::default());
        let result = lore_ingest::load_path(&p, &LoadOptions::default()).and_then(|doc| chunker.chunk(&doc));
        let _ = tx.send(match result {
            Ok(chunks) if !chunks.is_empty() => Alone::Good,
            Ok(_) => Alone::Bad("no text".into()),
            Err(e) => Alone::Bad(e.to_string()),
        });
    });
    rx.recv_timeout(FILE_BUDGET).unwrap_or(Alone::Hung)
}

fn run_batch(roots: &[PathBuf], limit: Duration) {
    lore_ingest::guard::install_quiet_panic_hook();
    let mut files: Vec<PathBuf> = Vec::new();
    for r in roots {
        files.extend(lore_ingest::folder::scan(r).files);
    }
    let started = Instant::now();
    let alone: BTreeMap<PathBuf, Alone> = files.iter().map(|f| (f.clone(), load_alone(f))).collect();
    let hung: Vec<&PathBuf> =
        alone.iter().filter(|(_, a)| matches!(a, Alone::Hung)).map(|(f, _)| f).collect();
    eprintln!(
        "{} files: {} load alone, {} refused, {} hang ({:.0}s)",
        files.len(),
        alone.values().filter(|a| matches!(a, Alone::Good)).count(),
        alone.values().filter(|a| matches!(a, Alone::Bad(_))).count(),
        hung.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(hung.is_empty(), "loading alone took over {}s: {hung:?}", FILE_BUDGET.as_secs());

    let lore = Lore::new();
    let mut args = vec!["add".to_string()];
    args.extend(roots.iter().map(|r| r.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let started = Instant::now();
    let run = lore.spawn(&args).wait(limit);
    eprintln!(
        "lore add: exit {} in {:.0}s; {}",
        run.code,
        started.elapsed().as_secs_f64(),
        run.stdout.trim()
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert_eq!(run.code, 0, "{}", run.stderr);

    // One line for each failing file, naming it and the reason; none for the others.
    let mut lines_of: BTreeMap<&PathBuf, Vec<&str>> = BTreeMap::new();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for line in run.stderr.lines().filter(|l| l.starts_with("error:")) {
        let named: Vec<&PathBuf> =
            files.iter().filter(|f| line.contains(&format!("{}: ", f.display()))).collect();
        assert_eq!(named.len(), 1, "an error line names one file of the batch: {line}");
        let reason =
            line.split_once(&format!("{}: ", named[0].display())).map(|(_, r)| r.trim()).unwrap_or("");
        assert!(!reason.is_empty(), "an error line gives the reason: {line}");
        lines_of.entry(named[0]).or_default().push(line);
        let short: String = reason.split([':', '(']).next().unwrap_or(reason).trim().to_string();
        *reasons.entry(short).or_insert(0) += 1;
    }
    eprintln!("failures by reason: {reasons:#?}");
    for (file, a) in &alone {
        let lines = lines_of.get(file).cloned().unwrap_or_default();
        match a {
            Alone::Good => {
                assert!(lines.is_empty(), "{} loads alone but failed in the batch: {lines:?}", file.display())
            }
            Alone::Bad(why) => assert_eq!(
                lines.len(),
                1,
                "{} fails alone ({why}) and must be named once in the batch:\n{}",
                file.display(),
                lore_tests::process::tail(&run.stderr, 30)
            ),
            Alone::Hung => unreachable!(),
        }
    }

    // Every file that loads alone is in the library, and nothing else.
    let good: BTreeSet<String> = alone
        .iter()
        .filter(|(_, a)| matches!(a, Alone::Good))
        .map(|(f, _)| std::fs::canonicalize(f).unwrap().display().to_string())
        .collect();
    let listed: BTreeSet<String> =
        lore.docs().iter().map(|d| d["source"].as_str().unwrap().to_string()).collect();
    let missing: Vec<&String> = good.difference(&listed).collect();
    let extra: Vec<&String> = listed.difference(&good).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing from the library: {missing:?}\nunexpected: {extra:?}"
    );
    StoreView::read(lore.home()).check_exact().unwrap();
}

#[test]
#[ignore = "issue 7 in progress: not yet verified within the CI budget; run with --ignored"]
fn every_bad_file_is_named_and_every_good_one_added() {
    let full = env_flag("LORE_BAD_INPUT_FULL");
    let junk = tempfile::tempdir().unwrap();
    let mut rng = Rng::from_env("LORE_BAD_INPUT_SEED");
    let size = if full { Size::Full } else { Size::Ci };
    write_junk(junk.path(), size, &mut rng);
    let mut roots = vec![data("bad"), junk.path().to_path_buf()];
    if full {
        roots.push(data("docs"));
    } else {
        roots.extend([data("docs/epub"), data("docs/multilingual"), data("docs/html/python3.11-faq")]);
    }
    run_batch(&roots, Duration::from_secs(if full { 4 * 3600 } else { 1800 }));
}

/// The expensive junk alone: a million lines of words and an EPUB whose one chapter inflates
/// to 100 MB of short paragraphs. Each must be added, or refused with a reason, in bounded time.
#[test]
#[ignore = "hangs: splitting one huge section is quadratic in text_splitter (ingest/src/chunk.rs)"]
fn huge_texts_are_added_or_refused_without_hanging() {
    let junk = tempfile::tempdir().unwrap();
    let mut rng = Rng::from_env("LORE_BAD_INPUT_SEED");
    write_junk(junk.path(), Size::Full, &mut rng);
    let only = junk.path().join("only");
    std::fs::create_dir_all(&only).unwrap();
    for name in ["million_lines.txt", "zip_text_bomb.epub"] {
        std::fs::rename(junk.path().join(name), only.join(name)).unwrap();
    }
    run_batch(&[only], Duration::from_secs(1800));
}
