//! lore with its vectors on a real Qdrant server (`qdrant.url`), each test on a node of its own
//! (`lore_tests::qdrant::Node`: the upstream server on free ports, storage in a temporary
//! directory, killed when the test ends; without the binary the tests skip, or fail under
//! `LORE_REQUIRE=qdrant`):
//! - a library of a representative part of the docs folder on a node that requires an API key:
//!   add, search, ask (the local chat model), rm, sync, reindex back to the embedded store and
//!   into the server again; the key never printed; a wrong key, no key and a stopped server each
//!   one clear line;
//! - `lore eval` on the Python FAQ set: the same nDCG@10 on the server as in the embedded store;
//! - faults: the server killed with SIGKILL in the middle of an add (in its keyword phase and in
//!   its vector phase), a server that stalls (a proxy holding the traffic past
//!   `qdrant.timeout_secs`), and the collection recreated by someone else with another schema.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lore_tests::corpus::write_notes;
use lore_tests::qdrant::{Node, StallProxy};
use lore_tests::rng::Rng;
use lore_tests::stores::{StoreView, catalog_documents};
use lore_tests::{Lore, Run, data, small_chat_env};

/// The API key of the keyed node: long and unusual, so that any trace of it in an output is
/// found.
const KEY: &str = "lore-test-key-7f3a9c1e5b";

/// A new library, private from the start (so that no run warns that it was not).
fn library() -> Lore {
    use std::os::unix::fs::PermissionsExt;
    let lore = Lore::new();
    std::fs::set_permissions(lore.home(), std::fs::Permissions::from_mode(0o700)).unwrap();
    lore
}

/// A collection name no other run of the tests uses.
fn collection(what: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!("lore-{what}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

/// Writes the library's `config.toml`: the vectors in `collection` at `url` (or the embedded
/// store when `url` is `None`), plus `extra` lines of `[qdrant]`.
fn configure(lore: &Lore, url: Option<&str>, collection: &str, extra: &str) {
    let url = url.map(|u| format!("url = \"{u}\"\n")).unwrap_or_default();
    std::fs::write(
        lore.home().join("config.toml"),
        format!("[qdrant]\n{url}collection = \"{collection}\"\noptimize_after = 0\n{extra}"),
    )
    .unwrap();
}

/// How the tests read a library whose vectors are on the server.
fn server_options(url: &str, collection: &str, api_key: Option<&str>) -> lore_index::EngineOptions {
    lore_index::EngineOptions {
        server: Some(lore_index::ServerOptions {
            url: url.to_string(),
            collection: collection.to_string(),
            api_key: api_key.map(str::to_string),
            ..Default::default()
        }),
        ..lore_tests::stores::engine_options()
    }
}

/// The three stores hold the same chunks, none twice, and the collection as many points as the
/// catalog has chunks.
fn check_on_server(lore: &Lore, node: &Node, collection: &str, api_key: Option<&str>, when: &str) {
    let view = StoreView::open_with(lore.home(), &server_options(&node.url(), collection, api_key))
        .unwrap_or_else(|e| panic!("{when}: {e}"));
    view.check_exact().unwrap_or_else(|e| panic!("{when}: {e}"));
    assert_eq!(node.count(collection), view.catalog_ids().len() as u64, "{when}: points on the server");
}

/// The lines of `stderr` that are not empty.
fn lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| !l.trim().is_empty()).collect()
}

/// A failure told in one line: exit 1, one `error:` line holding every one of `holds`, no panic
/// and no backtrace.
fn one_clear_line(run: &Run, holds: &[&str]) -> String {
    assert_eq!(run.code, 1, "exit code:\nstdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    let lines = lines(&run.stderr);
    assert_eq!(lines.len(), 1, "not one line:\n{}", run.stderr);
    let line = lines[0];
    assert!(line.starts_with("error: "), "{line}");
    assert!(!run.stderr.contains("panicked") && !run.stderr.contains("backtrace"), "{}", run.stderr);
    for h in holds {
        assert!(line.contains(h), "{h:?} is not in: {line}");
    }
    line.to_string()
}

/// A copy of part of the shared docs folder: one EPUB, one PDF, three HTML pages and four text
/// files (about 100 chunks, four loaders), where sync may change files.
fn docs_part(tmp: &Path) -> PathBuf {
    let docs = data("docs");
    let dir = tmp.join("docs");
    for rel in [
        "epub/calibre-quick-start-eng.epub",
        "pdf/live-manual.portrait.en.a4.pdf",
        "html/python3.11-faq/gui.html",
        "html/python3.11-faq/installed.html",
        "html/python3.11-faq/index.html",
        "text/moby-dick/chapter_1.txt",
        "text/moby-dick/chapter_2.txt",
        "text/moby-dick/chapter_120.txt",
        "text/moby-dick/chapter_122.txt",
    ] {
        let to = dir.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(docs.join(rel), &to).unwrap();
        let mut perms = std::fs::metadata(&to).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        std::fs::set_permissions(&to, perms).unwrap();
    }
    dir
}

/// Sum of the chunks `lore ls` lists, and the number of documents.
fn listed(runs: &Keyed) -> (u64, usize) {
    let docs = runs.ok(&["ls", "--json"]).json();
    let docs = docs.as_array().unwrap();
    (docs.iter().map(|d| d["chunks"].as_u64().unwrap()).sum(), docs.len())
}

/// Runs `lore` with the API key in its environment and checks that no output shows it.
struct Keyed<'a> {
    lore: &'a Lore,
}

impl Keyed<'_> {
    fn run_env(&self, args: &[&str], env: &[(&str, String)]) -> Run {
        let mut cmd = self.lore.cmd(args);
        cmd.env("QDRANT_API_KEY", KEY).env("RUST_BACKTRACE", "1");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let run = Run::from_output(cmd.output().expect("run lore"));
        for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            assert!(!text.contains(KEY), "lore {} shows the API key on {name}:\n{text}", args.join(" "));
        }
        run
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    fn ok(&self, args: &[&str]) -> Run {
        self.run(args).ok()
    }
}

#[test]
fn a_library_on_a_server_with_an_api_key_from_add_to_reindex() {
    let Some(mut node) = Node::start(Some(KEY)) else { return };
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let docs = docs_part(tmp.path());
    let lore = library();
    let coll = collection("e2e");
    configure(&lore, Some(&node.url()), &coll, "");
    let keyed = Keyed { lore: &lore };

    // Add: every document, every chunk's vector on the server.
    let add = keyed.ok(&["add", docs.to_str().unwrap()]);
    eprintln!("{}", add.stdout.trim());
    let (chunks, documents) = listed(&keyed);
    assert_eq!(documents, 9, "{}", add.stdout);
    check_on_server(&lore, &node, &coll, Some(KEY), "after the add");
    eprintln!("added {documents} documents, {chunks} chunks in {:.1}s", started.elapsed().as_secs_f64());

    // Search: the vector side alone comes from the server.
    let hits =
        keyed.ok(&["search", "--mode", "vector", "--json", "toolkits for graphical user interfaces"]).json();
    let first = hits.as_array().unwrap().first().cloned().unwrap_or_default();
    assert!(first["source"].as_str().unwrap_or_default().ends_with("gui.html"), "{hits}");
    let hits = keyed.ok(&["-v", "search", "--json", "How do I install calibre?"]).json();
    assert!(
        hits.as_array().unwrap().iter().take(3).any(|h| h["source"].as_str().unwrap().ends_with(".epub")),
        "{hits}"
    );

    // Ask: the local chat model answers from passages the server found.
    // The model's server answers one request at a time and other tests use it too: a long
    // wait for the first token is queueing, not a fault of this test.
    let mut chat = small_chat_env();
    chat.push(("LORE_LLM_IDLE_TIMEOUT_SECS", "900".into()));
    let ask = keyed.run_env(&["ask", "--json", "What GUI toolkits exist for Python?"], &chat);
    let answer = ask.ok().json();
    assert_eq!(answer["mode"], "llm", "{answer}");
    let cited: Vec<&str> =
        answer["citations"].as_array().unwrap().iter().filter_map(|c| c["source"].as_str()).collect();
    assert!(cited.iter().any(|s| s.ends_with("gui.html")), "{answer}");

    // The key is never shown: not by doctor, config, --verbose, --json nor in errors.
    let doctor = keyed.ok(&["doctor", "--json"]).json();
    let library = doctor.as_array().unwrap().iter().find(|c| c["name"] == "library").unwrap();
    assert_eq!(library["status"], "ok", "{doctor}");
    keyed.ok(&["doctor"]);
    let config = keyed.run_env(&["config"], &[("LORE_QDRANT_API_KEY", KEY.to_string())]).ok();
    assert!(config.stdout.contains("api_key"), "{}", config.stdout);

    // rm: the document's points leave the server.
    let before = node.count(&coll);
    let gui = lore.docs().into_iter().find(|d| d["source"].as_str().unwrap().ends_with("gui.html")).unwrap();
    keyed.ok(&["rm", &gui["id"].to_string()]);
    assert_eq!(node.count(&coll), before - gui["chunks"].as_u64().unwrap());
    check_on_server(&lore, &node, &coll, Some(KEY), "after rm");

    // sync: a changed file is written again, a deleted one removed.
    let chapter = docs.join("text/moby-dick/chapter_1.txt");
    let mut text = std::fs::read_to_string(&chapter).unwrap();
    text.push_str("\n\nA new paragraph about the harpooneer's breakfast, written for the sync test.\n");
    std::fs::write(&chapter, text).unwrap();
    std::fs::remove_file(docs.join("text/moby-dick/chapter_2.txt")).unwrap();
    keyed.ok(&["sync"]);
    let (_, documents) = listed(&keyed);
    // gui.html was removed by rm and comes back with the folder's sync; chapter 2 is gone.
    assert_eq!(documents, 8);
    check_on_server(&lore, &node, &coll, Some(KEY), "after sync");
    let hits = keyed.ok(&["search", "--json", "harpooneer's breakfast written for the sync test"]).json();
    assert!(hits[0]["source"].as_str().unwrap().ends_with("chapter_1.txt"), "{hits}");

    // Back to the embedded store: the library asks for a reindex, which moves every vector.
    configure(&lore, None, &coll, "");
    let refused = keyed.run(&["search", "whale"]);
    one_clear_line(&refused, &["lore reindex"]);
    keyed.ok(&["reindex"]);
    StoreView::read(lore.home()).check_exact().expect("after the reindex into the embedded store");
    let hits =
        keyed.ok(&["search", "--mode", "vector", "--json", "toolkits for graphical user interfaces"]).json();
    assert!(hits[0]["source"].as_str().unwrap().ends_with("gui.html"), "{hits}");

    // And into the server again, into a new collection.
    let coll2 = collection("e2e-back");
    configure(&lore, Some(&node.url()), &coll2, "");
    one_clear_line(&keyed.run(&["search", "whale"]), &["lore reindex"]);
    keyed.ok(&["reindex"]);
    check_on_server(&lore, &node, &coll2, Some(KEY), "after the reindex into the server");
    let hits =
        keyed.ok(&["search", "--mode", "vector", "--json", "toolkits for graphical user interfaces"]).json();
    assert!(hits[0]["source"].as_str().unwrap().ends_with("gui.html"), "{hits}");

    // A wrong key and no key: one line each, naming what to check.
    let wrong = keyed.run_env(&["search", "whale"], &[("QDRANT_API_KEY", "not-the-key".into())]);
    let line = one_clear_line(&wrong, &["check the API key", &node.url()]);
    assert!(!line.contains("not-the-key"), "{line}");
    let none = keyed.run_env(&["add", docs.to_str().unwrap()], &[("QDRANT_API_KEY", String::new())]);
    one_clear_line(&none, &["needs an API key"]);

    // A stopped server: one line, for a search and for an add.
    node.kill9();
    let down = keyed.run(&["-v", "search", "--json", "whale"]);
    one_clear_line(&down, &["cannot connect", &node.url()]);
    one_clear_line(&keyed.run(&["add", docs.to_str().unwrap()]), &["cannot connect"]);
    eprintln!("the whole test took {:.1}s", started.elapsed().as_secs_f64());
}

/// nDCG@10 of each mode of `lore eval` on the Python FAQ set, with this library's config.
fn ndcg(lore: &Lore, env: &[(&str, String)]) -> Vec<(String, f64)> {
    let dir = data("eval/pyfaq");
    let mut cmd = lore.cmd(&["eval", dir.to_str().unwrap(), "--json"]);
    cmd.envs(env.iter().map(|(k, v)| (k, v.as_str())));
    let report = Run::from_output(cmd.output().unwrap()).ok().json();
    report["modes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["mode"].as_str().unwrap().to_string(), m["ndcg10"].as_f64().unwrap()))
        .collect()
}

#[test]
fn eval_on_a_server_ranks_as_the_embedded_store_does() {
    let Some(node) = Node::start(None) else { return };
    let lore = library();
    let started = Instant::now();
    let embedded = ndcg(&lore, &[]);
    let coll = collection("eval");
    let server = ndcg(&lore, &[("LORE_QDRANT_URL", node.url()), ("LORE_QDRANT_COLLECTION", coll.clone())]);
    eprintln!("nDCG@10 embedded {embedded:?}, server {server:?} ({:.0}s)", started.elapsed().as_secs_f64());
    assert_eq!(embedded.len(), 3);
    assert!(node.count(&coll) > 0, "the eval did not write to the server");
    for ((mode, e), (mode2, s)) in embedded.iter().zip(&server) {
        assert_eq!(mode, mode2);
        assert!((e - s).abs() <= 0.005, "{mode}: embedded {e:.4}, server {s:.4}");
    }
}

/// A folder of `n` short notes and two chapters.
fn notes(tmp: &Path, n: usize) -> PathBuf {
    let dir = tmp.join("notes");
    write_notes(&dir, n, 2, &mut Rng::new(26));
    dir
}

#[test]
fn a_server_killed_during_an_add_loses_nothing() {
    let Some(mut node) = Node::start(None) else { return };
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let notes = notes(tmp.path(), 150);
    let files = lore_tests::corpus::documents_in(&notes).len();
    // Killed in the keyword phase (documents in the catalog, no vector yet), then in the vector
    // phase (vectors arriving on the server).
    for phase in ["keyword", "vector"] {
        let lore = library();
        let coll = collection(&format!("kill-{phase}"));
        configure(&lore, Some(&node.url()), &coll, "");
        let add = lore.spawn(&["add", notes.to_str().unwrap()]);
        let home = lore.home().to_path_buf();
        let at = Instant::now();
        loop {
            let reached = match phase {
                "keyword" => catalog_documents(&home) >= 20,
                _ => node.count(&coll) > 0,
            };
            if reached {
                break;
            }
            assert!(at.elapsed() < Duration::from_secs(300), "the add never reached its {phase} phase");
            std::thread::sleep(Duration::from_millis(10));
        }
        let in_catalog = catalog_documents(&home);
        node.kill9();
        let run = add.wait(Duration::from_secs(120));
        eprintln!(
            "killed in the {phase} phase ({in_catalog} documents in the catalog): {}",
            run.stderr.trim()
        );
        let line = one_clear_line(&run, &["Qdrant server", &node.url(), "cannot connect"]);
        assert!(catalog_documents(&home) < files as u64 || phase == "vector", "{line}");
        node.restart();
        let rerun = lore.run(&["add", notes.to_str().unwrap()]).ok();
        assert!(lines(&rerun.stderr).iter().all(|l| !l.starts_with("error")), "{}", rerun.stderr);
        assert_eq!(lore.docs().len(), files);
        check_on_server(
            &lore,
            &node,
            &coll,
            None,
            &format!("after the rerun of an add killed in its {phase} phase"),
        );
    }
    eprintln!("took {:.1}s", started.elapsed().as_secs_f64());
}

#[test]
fn a_stalling_server_is_retried_then_reported() {
    let Some(node) = Node::start(None) else { return };
    let started = Instant::now();
    let proxy = StallProxy::start(node.grpc);
    let tmp = tempfile::tempdir().unwrap();
    let notes = notes(tmp.path(), 60);
    let lore = library();
    let coll = collection("stall");
    configure(&lore, Some(&proxy.url()), &coll, "timeout_secs = 1\n");

    // Stalls of 2.5 s, each past the 1 s limit, every 4 s while the add runs: the requests they
    // catch time out and are sent again until they pass.
    proxy.stall(true);
    let mut add = lore.spawn(&["add", notes.to_str().unwrap()]);
    let mut stalls = 0;
    while !add.finished() {
        std::thread::sleep(Duration::from_millis(2500));
        proxy.stall(false);
        stalls += 1;
        std::thread::sleep(Duration::from_millis(1500));
        if !add.finished() {
            proxy.stall(true);
        }
        assert!(started.elapsed() < Duration::from_secs(600), "the add did not finish");
    }
    proxy.stall(false);
    let run = add.wait(Duration::from_secs(1));
    eprintln!("{stalls} stalls, {} reads held, {} connections", proxy.held(), proxy.connections());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(proxy.held() > 0, "no request met a stall");
    check_on_server(&lore, &node, &coll, None, "after an add through stalls");

    // A server that stays silent: the request is tried 5 times, then reported in one line.
    proxy.stall(true);
    let at = Instant::now();
    let run = lore.run(&["search", "whale"]);
    let took = at.elapsed();
    proxy.stall(false);
    let line = one_clear_line(&run, &["Qdrant server", "time limit", "tried 5 times"]);
    eprintln!("a silent server: {line} (after {:.1}s)", took.as_secs_f64());
    assert!(took < Duration::from_secs(60), "{took:?}");
    eprintln!("took {:.1}s", started.elapsed().as_secs_f64());
}

#[test]
fn a_collection_recreated_with_another_schema_asks_for_a_reindex_which_fixes_it() {
    let Some(node) = Node::start(None) else { return };
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let notes = notes(tmp.path(), 12);
    let lore = library();
    let coll = collection("schema");
    configure(&lore, Some(&node.url()), &coll, "");
    lore.run(&["add", notes.to_str().unwrap()]).ok();
    check_on_server(&lore, &node, &coll, None, "after the add");
    for (what, vectors) in [
        ("another size", r#"{"dense":{"size":128,"distance":"Cosine"}}"#),
        ("one unnamed vector", r#"{"size":384,"distance":"Cosine"}"#),
        ("another vector name", r#"{"text":{"size":384,"distance":"Cosine"}}"#),
        ("another distance", r#"{"dense":{"size":384,"distance":"Dot"}}"#),
    ] {
        node.recreate(&coll, vectors);
        for args in [&["search", "whale"][..], &["add", notes.to_str().unwrap()], &["doctor"]] {
            let run = lore.run(args);
            let said = if args[0] == "doctor" {
                assert_ne!(run.code, 0, "{}", run.stdout);
                run.stdout.lines().find(|l| l.starts_with("fail")).unwrap_or_default().to_string()
            } else {
                one_clear_line(&run, &[])
            };
            assert!(said.contains("lore reindex"), "{what}, lore {}: {said}", args[0]);
            eprintln!("{what}, lore {}: {said}", args[0]);
        }
        lore.run(&["reindex"]).ok();
        check_on_server(&lore, &node, &coll, None, &format!("after the reindex of a collection with {what}"));
        lore.run(&["search", "whale"]).ok();
    }
    // The same schema, emptied: doctor finds the missing vectors and says what to do.
    node.recreate(&coll, r#"{"dense":{"size":384,"distance":"Cosine"}}"#);
    let doctor = lore.run(&["doctor"]);
    assert!(
        doctor.stdout.lines().any(|l| l.starts_with("fail") && l.contains("lore reindex")),
        "{}",
        doctor.stdout
    );
    lore.run(&["reindex"]).ok();
    check_on_server(&lore, &node, &coll, None, "after the reindex of an emptied collection");
    eprintln!("took {:.1}s", started.elapsed().as_secs_f64());
}
