//! One writer at a time, and readers that never wait for it: a second `lore add` (or `rm`,
//! `reindex`) during a write stops with one clear line naming the writer, or waits its turn
//! with `--wait`; searches, `ask --no-llm` and `ls` during a long add keep working and show
//! each document whole (all of its chunks, of one version) or not at all.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use lore_tests::corpus::{marked_text, write_notes};
use lore_tests::rng::{Rng, env_flag};
use lore_tests::stores::{StoreView, catalog_documents};
use lore_tests::{Lore, Run};

const HANG: Duration = Duration::from_secs(1800);

/// Waits until the writer holds the lock and has written a document, or has exited.
fn wait_until_writing(lore: &Lore, writer: &mut lore_tests::process::Running) {
    let lock = lore.home().join("write.lock");
    let start = Instant::now();
    loop {
        let holder = std::fs::read_to_string(&lock).unwrap_or_default();
        if holder.trim() == writer.pid().to_string() && catalog_documents(lore.home()) > 0 {
            return;
        }
        assert!(!writer.finished(), "the writer exited before it wrote anything");
        assert!(start.elapsed() < HANG, "the writer never started writing");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn error_lines(run: &Run) -> Vec<&str> {
    run.stderr.lines().filter(|l| l.starts_with("error:")).collect()
}

#[test]
fn a_second_writer_stops_with_a_clear_message_or_waits_its_turn() {
    let lore = Lore::new();
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(11);
    let first_dir = dir.path().join("first");
    let second_dir = dir.path().join("second");
    let first = write_notes(&first_dir, 200, 0, &mut rng).len();
    let second = write_notes(&second_dir, 12, 0, &mut rng).len();

    let mut writer = lore.spawn(&["add", first_dir.to_str().unwrap()]);
    wait_until_writing(&lore, &mut writer);
    let pid = writer.pid().to_string();

    // Without --wait: one line naming the other writer, nothing written.
    for args in [vec!["add", second_dir.to_str().unwrap()], vec!["rm", "1"], vec!["reindex"]] {
        let run = lore.run(&args);
        assert_ne!(run.code, 0, "lore {args:?} ran beside the writer:\n{}", run.stdout);
        let errors = error_lines(&run);
        assert_eq!(errors.len(), 1, "lore {args:?}: one error line:\n{}", run.stderr);
        assert!(
            errors[0].contains("another lore process") && errors[0].contains(&format!("pid {pid}")),
            "lore {args:?} names the writer: {}",
            errors[0]
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    let doctor = lore.run(&["doctor", "--repair"]);
    assert_ne!(doctor.code, 0, "doctor --repair ran beside the writer:\n{}", doctor.stdout);
    let repair: Vec<&str> =
        doctor.stdout.lines().filter(|l| l.split_whitespace().nth(1) == Some("repair")).collect();
    assert!(
        repair.len() == 1 && repair[0].starts_with("fail") && repair[0].contains(&format!("pid {pid}")),
        "doctor --repair names the writer: {repair:?}"
    );
    assert!(!writer.finished(), "the writer finished before the refusals were checked: make it longer");

    // With --wait: it waits for the lock, then does its work.
    let waiting = lore.spawn(&["add", "--wait", "3600", second_dir.to_str().unwrap()]);
    let first_run = writer.wait(HANG);
    assert_eq!(first_run.code, 0, "{}", first_run.stderr);
    let second_run = waiting.wait(HANG);
    assert_eq!(second_run.code, 0, "the waiting writer failed:\n{}", second_run.stderr);
    assert!(second_run.stdout.contains(&format!("Added {second} documents")), "{}", second_run.stdout);

    let sources: BTreeSet<String> =
        lore.docs().iter().map(|d| d["source"].as_str().unwrap().to_string()).collect();
    assert_eq!(sources.len(), first + second);
    StoreView::read(lore.home()).check_exact().unwrap();
}

fn search(lore: &Lore, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["search", "--json"];
    all.extend_from_slice(args);
    let run = lore.run(&all);
    assert_eq!(run.code, 0, "a search during the write failed:\n{}", run.stderr);
    match run.json() {
        serde_json::Value::Array(a) => a,
        other => panic!("not a list: {other}"),
    }
}

/// Hits of a keyword search for all the markers, counted by the marker their text holds.
fn marker_counts(lore: &Lore, markers: &[&str]) -> BTreeMap<String, usize> {
    let query = markers.join(" ");
    let mut counts = BTreeMap::new();
    let mut docs_of: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    for hit in search(lore, &["--mode", "keyword", "-k", "500", &query]) {
        let text = hit["chunk"]["text"].as_str().unwrap();
        let found: Vec<&&str> = markers.iter().filter(|m| text.contains(**m)).collect();
        assert_eq!(found.len(), 1, "a chunk holds one document's marker: {found:?} in {text:?}");
        *counts.entry(found[0].to_string()).or_insert(0) += 1;
        docs_of.entry(found[0].to_string()).or_default().insert(hit["chunk"]["doc_id"].as_i64().unwrap());
    }
    for (marker, docs) in docs_of {
        assert_eq!(docs.len(), 1, "{marker} belongs to one document: {docs:?}");
    }
    counts
}

#[test]
fn readers_during_writes_keep_working_and_see_new_documents_whole() {
    readers_during_writes(false);
}

/// The same with a document replaced during the reads: each read shows all of its old version
/// or all of its new one. A search reads the keyword index, then the catalog's journal and
/// chunks: when the replacing writer commits in between, the hits are the old version's chunk
/// ids filled in with the new version's text.
#[test]
fn readers_during_writes_see_a_replaced_document_whole() {
    readers_during_writes(true);
}

/// Sets a flag to false when dropped, also when a panic unwinds.
struct Lower<'a>(&'a AtomicBool);

impl Drop for Lower<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// Waits until the writer holds the library's writer lock.
fn wait_for_lock(lore: &Lore, writer: &mut lore_tests::process::Running) {
    let lock = lore.home().join("write.lock");
    let start = Instant::now();
    while std::fs::read_to_string(&lock).unwrap_or_default().trim() != writer.pid().to_string() {
        assert!(!writer.finished(), "the writer exited before it took the lock");
        assert!(start.elapsed() < HANG, "the writer never took the lock");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn readers_during_writes(replace: bool) {
    let lore = Lore::new();
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(23);
    let base = dir.path().join("base");
    std::fs::create_dir_all(&base).unwrap();
    let replaced = base.join("replaced.md");
    std::fs::write(&replaced, marked_text("zebrafoo", 5, &mut rng)).unwrap();
    lore.run(&["add", base.to_str().unwrap()]).ok();
    let old = marker_counts(&lore, &["zebrafoo"]);
    let n_old = old["zebrafoo"];
    assert!(n_old > 1, "the replaced document has several chunks: {old:?}");

    // The first write: many notes and documents whose every chunk holds a marker.
    let batch = dir.path().join("batch");
    write_notes(&batch, 150, 3, &mut rng);
    // The full run writes enough chunks for the writer to commit several times on the way.
    let mut roots: Vec<String> = Vec::new();
    if env_flag("LORE_CONCURRENCY_FULL") {
        roots.push(lore_tests::data("docs").display().to_string());
    }
    roots.push(batch.display().to_string());
    let mut markers = vec!["quokkaone", "quokkatwo", "quokkathree", "quokkafour", "quokkafive", "quokkasix"];
    for (i, m) in markers.iter().enumerate() {
        std::fs::write(batch.join(format!("zz_{m}.md")), marked_text(m, 3 + i, &mut rng)).unwrap();
    }
    // The second write, queued behind the first: the new version of the replaced document, or
    // one more marked document.
    if replace {
        std::fs::write(&replaced, marked_text("zebrabar", 9, &mut rng)).unwrap();
    } else {
        std::fs::write(base.join("seventh.md"), marked_text("quokkaseven", 7, &mut rng)).unwrap();
        markers.push("quokkaseven");
    }
    let mut all_markers: Vec<&str> = markers.clone();
    all_markers.extend(["zebrafoo", "zebrabar"]);

    // A reader is running when the writer starts: the writer must not be locked out.
    let early = lore.spawn(&["search", "--json", "whale"]);
    let mut args = vec!["add"];
    args.extend(roots.iter().map(String::as_str));
    let mut writer = lore.spawn(&args);
    wait_for_lock(&lore, &mut writer);
    let mut second = lore.spawn(&["add", "--wait", "3600", base.to_str().unwrap()]);
    let early = early.wait(HANG);
    assert_eq!(early.code, 0, "{}", early.stderr);

    let writing = AtomicBool::new(true);
    let mut vector_seen: Vec<usize> = Vec::new();
    let mut rounds_during_write = 0;
    let mut round = 0;
    let seen: Vec<BTreeMap<String, usize>> = std::thread::scope(|scope| {
        let stop = Lower(&writing);
        // One reader looks for the marked documents without pause...
        let marker_reader = scope.spawn(|| {
            let mut seen = Vec::new();
            while writing.load(Ordering::SeqCst) {
                let counts = marker_counts(&lore, &all_markers);
                assert!(
                    !(counts.contains_key("zebrafoo") && counts.contains_key("zebrabar")),
                    "both versions of a document at once: {counts:?}"
                );
                seen.push(counts);
            }
            seen
        });
        // ...while another searches by vector, asks and lists.
        while !writer.finished() || !second.finished() {
            let hits = search(
                &lore,
                &["--mode", "vector", "-k", "100", "--doc", replaced.to_str().unwrap(), "papers"],
            );
            vector_seen.push(hits.len());
            match round % 3 {
                0 => {
                    let ask =
                        lore.run(&["ask", "--no-llm", "What did the zebrafoo papers say of the whale?"]);
                    assert_eq!(ask.code, 0, "ask during the write failed:\n{}", ask.stderr);
                }
                1 => {
                    for d in lore.docs() {
                        assert!(d["chunks"].as_u64().unwrap() > 0, "a listed document without chunks: {d}");
                    }
                }
                _ => {
                    search(&lore, &["--mode", "hybrid", "-k", "20", "whale ship captain"]);
                }
            }
            round += 1;
            if !writer.finished() || !second.finished() {
                rounds_during_write += 1;
            }
        }
        drop(stop);
        marker_reader.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
    });
    let done = writer.wait(HANG);
    assert_eq!(done.code, 0, "the writer failed:\n{}", done.stderr);
    let done = second.wait(HANG);
    assert_eq!(done.code, 0, "the second writer failed:\n{}", done.stderr);
    let expect = if replace { "updated 1" } else { "Added 1 document" };
    assert!(done.stdout.contains(expect), "the second writer's work: {}", done.stdout);
    assert!(rounds_during_write >= 2, "only {rounds_during_write} reader rounds ran during the write");

    // Every document seen was seen whole: as many chunks as it has, of one version.
    let last = marker_counts(&lore, &all_markers);
    for m in &markers {
        assert!(last[*m] > 1, "{m} has several chunks: {last:?}");
    }
    let n_new = if replace {
        assert!(!last.contains_key("zebrafoo"), "the old version is gone: {last:?}");
        last["zebrabar"]
    } else {
        n_old
    };
    for (i, counts) in seen.iter().enumerate() {
        for (marker, n) in counts {
            let whole = if marker == "zebrafoo" { n_old } else { last[marker] };
            assert_eq!(*n, whole, "round {i}: {marker} seen with {n} of its {whole} chunks: {counts:?}");
        }
    }
    for (i, n) in vector_seen.iter().enumerate() {
        assert!(
            [0, n_old, n_new].contains(n),
            "round {i}: vector search saw {n} chunks of the replaced document"
        );
    }
    eprintln!(
        "{round} reader rounds and {} keyword rounds, {rounds_during_write} during the writes; counts seen: {:?}",
        seen.len(),
        summarise(&seen)
    );
    StoreView::read(lore.home()).check_exact().unwrap();
}

fn summarise(seen: &[BTreeMap<String, usize>]) -> BTreeMap<String, BTreeSet<usize>> {
    let mut out: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    for counts in seen {
        for (m, n) in counts {
            out.entry(m.clone()).or_default().insert(*n);
        }
    }
    out
}

/// A reader that opens a library while the first `lore add` is creating it (`lore ls` or
/// `lore search` at that moment) must not break the add. The catalog's schema set-up reads the
/// schema version outside its transaction, and readers upgrade an older schema too: the two
/// set-ups race and one fails with "table meta already exists".
#[test]
fn a_reader_beside_the_first_add_does_not_break_it() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes");
    write_notes(&notes, 3, 0, &mut Rng::new(5));
    for attempt in 0..20 {
        let lore = Lore::new();
        let mut writer = lore.spawn(&["add", notes.to_str().unwrap()]);
        let path = lore.catalog_path();
        while !writer.finished() {
            if path.exists() {
                let _ = lore_index::catalog::Catalog::open_read_only(&path);
            }
        }
        let run = writer.wait(HANG);
        assert_eq!(run.code, 0, "attempt {attempt}: the add failed beside a reader:\n{}", run.stderr);
    }
}

/// A chat model server on 127.0.0.1 that answers every streaming request with the first words
/// of an answer and then holds the stream open until [`HeldChat::release`]: a `lore ask` talking
/// to it is in the middle of streaming its answer for as long as the test likes. Requests that
/// do not stream get a short answer at once.
struct HeldChat {
    url: String,
    streaming: std::sync::mpsc::Receiver<()>,
    released: std::sync::Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
}

/// The first words every held stream sends.
const HELD_WORDS: &str = "The zebrafoo protocol";

impl HeldChat {
    fn start() -> HeldChat {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        let (tx, streaming) = std::sync::mpsc::channel();
        let released = std::sync::Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
        let gate = released.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let (tx, gate) = (tx.clone(), gate.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn.try_clone().unwrap());
                    let mut length = 0usize;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let line = line.trim_end();
                        if line.is_empty() {
                            break;
                        }
                        if let Some((k, v)) = line.split_once(':')
                            && k.eq_ignore_ascii_case("content-length")
                        {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let chunk = |text: &str, finish: Option<&str>| {
                        let c = serde_json::json!({
                            "id": "held", "object": "chat.completion.chunk", "created": 0, "model": "held",
                            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}],
                        });
                        format!("data: {c}\n\n")
                    };
                    if String::from_utf8_lossy(&body).contains("\"stream\":true") {
                        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n";
                        let first = chunk(&format!("{HELD_WORDS} [1]"), None);
                        if conn
                            .write_all(head.as_bytes())
                            .and_then(|_| conn.write_all(first.as_bytes()))
                            .is_err()
                        {
                            return;
                        }
                        let _ = conn.flush();
                        let _ = tx.send(());
                        let (lock, cvar) = &*gate;
                        let mut open = lock.lock().unwrap();
                        while !*open {
                            open = cvar.wait(open).unwrap();
                        }
                        let last = format!(
                            "{}data: [DONE]\n\n",
                            chunk(" tells ships how to pass whales.", Some("stop"))
                        );
                        let _ = conn.write_all(last.as_bytes());
                    } else {
                        let answer = serde_json::json!({
                            "id": "held", "object": "chat.completion", "created": 0, "model": "held",
                            "choices": [{"index": 0, "message": {"role": "assistant", "content": "zebrafoo protocol"},
                                         "finish_reason": "stop"}],
                        })
                        .to_string();
                        let head = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            answer.len()
                        );
                        let _ =
                            conn.write_all(head.as_bytes()).and_then(|_| conn.write_all(answer.as_bytes()));
                    }
                });
            }
        });
        HeldChat { url, streaming, released }
    }

    /// Waits until a stream has started (the asking `lore` has searched and is now streaming).
    fn wait_streaming(&self, asking: &mut lore_tests::process::Running) {
        let start = Instant::now();
        while self.streaming.recv_timeout(Duration::from_millis(100)).is_err() {
            assert!(!asking.finished(), "lore ask ended before its answer streamed");
            assert!(start.elapsed() < HANG, "lore ask never started streaming");
        }
    }

    /// Lets every held stream finish.
    fn release(&self) {
        let (lock, cvar) = &*self.released;
        *lock.lock().unwrap() = true;
        cvar.notify_all();
    }
}

impl Drop for HeldChat {
    fn drop(&mut self) {
        self.release();
    }
}

/// While `lore ask` streams its answer, writers go on: `lore add` of a real file completes and
/// the file is found by the next search, and `lore add` of a path that does not exist fails at
/// once, naming it, without touching the library. The answer then completes.
#[test]
fn a_streaming_answer_does_not_lock_out_add() {
    let lore = Lore::new();
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("zebrafoo.md");
    std::fs::write(
        &first,
        "# The zebrafoo protocol\n\nThe zebrafoo protocol tells ships how to pass whales at sea: slow \
         down to ten knots, keep a hundred metres away, and never cross a whale's path.\n",
    )
    .unwrap();
    lore.run(&["add", first.to_str().unwrap()]).ok();

    let chat = HeldChat::start();
    let mut asking = lore.spawn_env(
        &["ask", "What does the zebrafoo protocol tell ships about whales?"],
        &[("LORE_LLM_BASE_URL", chat.url.as_str()), ("LORE_LLM_MODEL", "held")],
    );
    chat.wait_streaming(&mut asking);

    // A path that does not exist: one line naming it, and nothing written.
    let listed_before = lore.docs();
    let missing = dir.path().join("no-such-book.pdf");
    let bad = lore.run(&["add", missing.to_str().unwrap()]);
    assert_ne!(bad.code, 0, "adding a missing file succeeded:\n{}", bad.stdout);
    let errors = error_lines(&bad);
    assert_eq!(errors.len(), 1, "one error line:\n{}", bad.stderr);
    assert!(
        errors[0].contains(missing.to_str().unwrap()) && errors[0].contains("no such file"),
        "the error names the missing path: {}",
        errors[0]
    );
    assert!(!bad.stderr.contains("in use"), "{}", bad.stderr);

    // A real file: added and searchable while the answer is still streaming.
    let second = dir.path().join("quokka.md");
    std::fs::write(
        &second,
        "# Quokkaplatypus husbandry\n\nA quokkaplatypus eats river weed at dawn and sleeps in a burrow \
         by the water for most of the day.\n",
    )
    .unwrap();
    let added = lore.run(&["add", second.to_str().unwrap()]);
    assert_eq!(added.code, 0, "add beside a streaming answer failed:\n{}", added.stderr);
    assert!(added.stdout.contains("Added 1 document"), "{}", added.stdout);
    assert_eq!(lore.docs().len(), listed_before.len() + 1);
    for mode in ["hybrid", "vector"] {
        let hits = search(&lore, &["--mode", mode, "what does a quokkaplatypus eat at dawn"]);
        assert_eq!(
            hits.first().and_then(|h| h["title"].as_str()),
            Some("Quokkaplatypus husbandry"),
            "{mode} search finds the new document first: {hits:?}"
        );
    }
    assert!(!asking.finished(), "the answer stopped streaming before the writes were checked");

    chat.release();
    let answer = asking.wait(HANG);
    assert_eq!(answer.code, 0, "the answer failed:\n{}", answer.stderr);
    assert!(answer.stdout.contains(HELD_WORDS), "{}", answer.stdout);
}
