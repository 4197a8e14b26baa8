//! lore on a three-node Qdrant cluster (the upstream server of `../shared/bin/qdrant.xz`, unpacked
//! by `scripts/qdrant.sh`), started by the test on free ports with storage in a temporary folder
//! and killed when the test ends: collections of 3 shards with 2 replicas each, one node killed
//! with SIGKILL while lore keeps talking to another.
//!
//! - Search and ask (`--no-llm`: the passages an answer is built from) give the same top 10
//!   before and during the outage.
//! - A write during the outage succeeds with `write_consistency_factor = 1` (the value the README
//!   gives for three nodes); with 2 it fails with one clear line per file naming the unreachable
//!   node, and the same `lore add` run again once the node is back completes.
//! - The node restarts, rejoins: every replica of every shard is active again and holds the same
//!   points, the collection is green, and the catalog, keyword index and vectors agree exactly.
//!
//! The binary is `$LORE_QDRANT_DIR/qdrant` (default `~/.cache/lore-qdrant/qdrant`); without it the
//! test says it skipped (a failure when `LORE_REQUIRE` names `qdrant`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use lore_tests::stores::{StoreView, engine_options};
use lore_tests::{Lore, Run, data};
use serde_json::{Value, json};

/// Longest wait for a node to start, for the cluster to form and for a replica to recover.
const WAIT: Duration = Duration::from_secs(90);

/// The Qdrant server binary `scripts/qdrant.sh` unpacks, if it is there.
fn qdrant_binary() -> Option<PathBuf> {
    let dir = match std::env::var_os("LORE_QDRANT_DIR") {
        Some(d) => PathBuf::from(d),
        None => std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?
            .join("lore-qdrant"),
    };
    Some(dir.join("qdrant")).filter(|b| b.is_file())
}

/// A port nothing listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One node of the cluster: its ports, its storage and its process (killed on drop).
struct Node {
    name: String,
    http: u16,
    grpc: u16,
    p2p: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl Node {
    fn new(root: &Path, name: &str) -> Node {
        let dir = root.join(name);
        std::fs::create_dir_all(dir.join("storage")).unwrap();
        std::fs::create_dir_all(dir.join("snapshots")).unwrap();
        Node { name: name.into(), http: free_port(), grpc: free_port(), p2p: free_port(), dir, child: None }
    }

    /// The gRPC URL lore is given.
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.grpc)
    }

    /// Starts the node (again, on the same storage and ports), joining through `bootstrap`'s
    /// peer port unless it is the first node.
    fn start(&mut self, binary: &Path, bootstrap: Option<u16>) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.join("log")).unwrap();
        let mut cmd = Command::new(binary);
        cmd.current_dir(&self.dir)
            .env("QDRANT__STORAGE__STORAGE_PATH", self.dir.join("storage"))
            .env("QDRANT__STORAGE__SNAPSHOTS_PATH", self.dir.join("snapshots"))
            .env("QDRANT__SERVICE__HOST", "127.0.0.1")
            .env("QDRANT__SERVICE__HTTP_PORT", self.http.to_string())
            .env("QDRANT__SERVICE__GRPC_PORT", self.grpc.to_string())
            .env("QDRANT__CLUSTER__ENABLED", "true")
            .env("QDRANT__CLUSTER__P2P__PORT", self.p2p.to_string())
            .env("QDRANT__TELEMETRY_DISABLED", "true")
            .env_remove("QDRANT__SERVICE__API_KEY")
            .args(["--uri", &format!("http://127.0.0.1:{}", self.p2p)])
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log));
        if let Some(port) = bootstrap {
            cmd.args(["--bootstrap", &format!("http://127.0.0.1:{port}")]);
        }
        self.child = Some(cmd.spawn().expect("start a Qdrant node"));
        self.wait_until(&format!("{} ready", self.name), |node| {
            http(node.http, "GET", "/readyz", None).is_some_and(|(status, _)| status == 200)
        });
    }

    /// SIGKILL, and waits for the process to end.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Polls `done` every 250 ms until it holds; fails the test with the node's log after
    /// [`WAIT`] or when the node's process ended.
    fn wait_until(&mut self, what: &str, done: impl Fn(&Node) -> bool) {
        let start = Instant::now();
        loop {
            if done(self) {
                return;
            }
            let ended = self.child.as_mut().is_some_and(|c| c.try_wait().ok().flatten().is_some());
            if ended || start.elapsed() > WAIT {
                let log = std::fs::read_to_string(self.dir.join("log")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(30).collect();
                panic!(
                    "{what}: not reached in {} s (process ended: {ended}); the log ends with:\n{}",
                    WAIT.as_secs(),
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// A GET of the node's REST API, as JSON `result`.
    fn get(&self, path: &str) -> Option<Value> {
        let (status, body) = http(self.http, "GET", path, None)?;
        (status == 200).then(|| body["result"].clone())
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A request to the REST API on `port`: the status and the body, as JSON when it is JSON (else
/// a string); `None` when the node does not answer.
fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> Option<(u16, Value)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let text = String::from_utf8_lossy(&response);
    let (head, rest) = text.split_once("\r\n\r\n")?;
    let status: u16 = head.split_whitespace().nth(1)?.parse().ok()?;
    let payload = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        unchunk(rest)
    } else {
        rest.to_string()
    };
    Some((status, serde_json::from_str(&payload).unwrap_or(Value::String(payload))))
}

/// The body of a chunked HTTP response.
fn unchunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { break };
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}

/// Three nodes, the first the one lore talks to.
struct Cluster {
    nodes: Vec<Node>,
    binary: PathBuf,
    _dir: tempfile::TempDir,
}

impl Cluster {
    fn start(binary: PathBuf) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let mut nodes: Vec<Node> = (1..=3).map(|i| Node::new(dir.path(), &format!("node{i}"))).collect();
        nodes[0].start(&binary, None);
        let first = nodes[0].p2p;
        for node in &mut nodes[1..] {
            node.start(&binary, Some(first));
        }
        nodes[0].wait_until("three peers in the cluster", |n| {
            n.get("/cluster").is_some_and(|c| c["peers"].as_object().is_some_and(|p| p.len() == 3))
        });
        Cluster { nodes, binary, _dir: dir }
    }

    /// Restarts node `i` on its storage, joining through the first node.
    fn restart(&mut self, i: usize) {
        let first = self.nodes[0].p2p;
        let binary = self.binary.clone();
        self.nodes[i].start(&binary, Some(first));
    }

    /// The state of every replica of `collection`'s shards as the running nodes report their own
    /// (local) replicas: `(shard, node, state, points)`, and the shard transfers under way.
    fn replicas(&self, collection: &str) -> (Vec<(u64, String, String, u64)>, usize) {
        let mut replicas = Vec::new();
        let mut transfers = 0;
        for node in self.nodes.iter().filter(|n| n.child.is_some()) {
            let Some(info) = node.get(&format!("/collections/{collection}/cluster")) else { continue };
            transfers += info["shard_transfers"].as_array().map_or(0, Vec::len);
            for shard in info["local_shards"].as_array().into_iter().flatten() {
                replicas.push((
                    shard["shard_id"].as_u64().unwrap(),
                    node.name.clone(),
                    shard["state"].as_str().unwrap_or("?").to_string(),
                    shard["points_count"].as_u64().unwrap_or(0),
                ));
            }
        }
        replicas.sort();
        (replicas, transfers)
    }

    /// Whether every node runs and holds its replicas of `collection` active, with nothing being
    /// transferred: 3 shards with 2 active replicas each, on two different nodes.
    fn all_active(&self, collection: &str) -> bool {
        let (replicas, transfers) = self.replicas(collection);
        let mut per_shard = std::collections::BTreeMap::<u64, Vec<&str>>::new();
        for (shard, node, state, _) in &replicas {
            if state != "Active" {
                return false;
            }
            per_shard.entry(*shard).or_default().push(node);
        }
        transfers == 0 && per_shard.len() == 3 && per_shard.values().all(|nodes| nodes.len() == 2)
    }

    /// The status (`green`, `yellow`, ...) and exact point count of `collection`, asked of node `i`.
    fn status(&self, i: usize, collection: &str) -> (String, u64) {
        let info = self.nodes[i].get(&format!("/collections/{collection}")).unwrap_or(Value::Null);
        let count = http(
            self.nodes[i].http,
            "POST",
            &format!("/collections/{collection}/points/count"),
            Some(&json!({"exact": true})),
        )
        .map_or(0, |(_, v)| v["result"]["count"].as_u64().unwrap_or(0));
        (info["status"].as_str().unwrap_or("none").to_string(), count)
    }
}

/// A library whose vectors are in `collection` on the cluster, created with 3 shards, 2
/// replicas and `write_consistency_factor`.
fn library(cluster: &Cluster, collection: &str, write_consistency_factor: u32) -> Lore {
    let lore = Lore::new();
    std::fs::write(
        lore.home().join("config.toml"),
        format!(
            "[qdrant]\nurl = \"{}\"\ncollection = \"{collection}\"\nshards = 3\nreplication_factor = 2\n\
             write_consistency_factor = {write_consistency_factor}\ntimeout_secs = 10\n",
            cluster.nodes[0].url()
        ),
    )
    .unwrap();
    lore
}

fn faq(name: &str) -> String {
    data("docs/html/python3.11-faq").join(name).display().to_string()
}

fn add(lore: &Lore, files: &[&str]) -> Run {
    let paths: Vec<String> = files.iter().map(|f| faq(f)).collect();
    let mut args = vec!["add"];
    args.extend(paths.iter().map(String::as_str));
    lore.run(&args)
}

const QUESTIONS: [&str; 3] = [
    "How do I make a Python script executable?",
    "How can I embed Python in a C program?",
    "Why does Python use indentation for grouping statements?",
];

/// The top 10 of `lore search` for each question (chunk ids by rank) and the passages `lore
/// ask --no-llm` quotes with their citations.
fn answers(lore: &Lore) -> Vec<(Vec<i64>, Value)> {
    QUESTIONS
        .iter()
        .map(|q| {
            let hits = lore.run(&["search", "--json", "-k", "10", q]).ok().json();
            let ids: Vec<i64> = hits
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["chunk"]["id"].as_i64().expect("a chunk id"))
                .collect();
            assert_eq!(ids.len(), 10, "{q}: {hits}");
            let ask = lore.run(&["ask", "--no-llm", "--json", q]).ok().json();
            assert!(ask["answer"].as_str().is_some_and(|a| !a.is_empty()), "{q}: {ask}");
            (ids, json!({"answer": ask["answer"], "citations": ask["citations"]}))
        })
        .collect()
}

/// The catalog, keyword index and the cluster's vectors hold exactly the same chunks, none
/// twice, each vector its chunk's embedding.
fn check_exact(lore: &Lore, cluster: &Cluster, collection: &str) {
    let options = lore_index::EngineOptions {
        server: Some(lore_index::ServerOptions {
            url: cluster.nodes[0].url(),
            collection: collection.into(),
            ..Default::default()
        }),
        ..engine_options()
    };
    StoreView::open_with(lore.home(), &options).and_then(|v| v.check_exact()).unwrap();
}

#[test]
fn a_three_node_cluster_answers_through_a_node_outage_and_heals() {
    let Some(binary) = qdrant_binary() else {
        lore_tests::skip("qdrant", "no Qdrant server binary (scripts/qdrant.sh start unpacks it)");
        return;
    };
    let started = Instant::now();
    let mut cluster = Cluster::start(binary);
    let (a, b) = ("lore-cluster-a", "lore-cluster-b");
    // `a` as the README advises for three nodes; `b` asking both copies of a shard to apply a write.
    let lib = library(&cluster, a, 1);
    let strict = library(&cluster, b, 2);
    add(&lib, &["windows.html", "library.html", "general.html", "extending.html"]).ok();
    add(&strict, &["gui.html"]).ok();
    for c in [a, b] {
        let start = Instant::now();
        while !cluster.all_active(c) {
            assert!(start.elapsed() < WAIT, "{c}: replicas not all active: {:?}", cluster.replicas(c));
            std::thread::sleep(Duration::from_millis(250));
        }
    }
    let (replicas, _) = cluster.replicas(a);
    assert_eq!(replicas.len(), 6, "3 shards of 2 replicas: {replicas:?}");
    let before = answers(&lib);
    eprintln!(
        "cluster up and {} chunks added in {:.1} s",
        cluster.status(0, a).1,
        started.elapsed().as_secs_f64()
    );

    // Node 3 dies; lore keeps talking to node 1.
    cluster.nodes[2].kill();
    let during = answers(&lib);
    for ((q, (ids_before, ask_before)), (ids_during, ask_during)) in
        QUESTIONS.iter().zip(&before).zip(&during)
    {
        assert_eq!(ids_before, ids_during, "{q}: the top 10 changed when a node died");
        assert_eq!(ask_before, ask_during, "{q}: ask quoted other passages when a node died");
    }

    // A write during the outage: one copy of each shard suffices for `a`...
    let written = add(&lib, &["installed.html"]);
    assert_eq!(written.code, 0, "a write with one replica down failed:\n{}", written.stderr);
    // ...while `b` needs both: one clear line (the batch stops there, the rest stays journalled),
    // saying a node of the cluster could not reach another, and naming it when the node's answer
    // does.
    let refused = add(&strict, &["installed.html", "index.html"]);
    assert_ne!(refused.code, 0, "{refused:?}");
    let errors: Vec<&str> = refused.stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{}", refused.stderr);
    let dead = format!("127.0.0.1:{}", cluster.nodes[2].p2p);
    let line = errors[0];
    assert!(line.contains("a node of the cluster could not reach another node"), "{line}");
    assert!(
        !line.contains("(http") || line.contains(&dead),
        "another node than the dead {dead} is named: {line}"
    );
    assert!(line.contains("once the node is back") && !line.contains("cannot connect"), "{line}");
    assert!(!refused.stderr.contains("panicked"), "{}", refused.stderr);
    eprintln!("the write refused during the outage:\n{}", refused.stderr.trim_end());

    // The node comes back, rejoins and catches up.
    let back = Instant::now();
    cluster.restart(2);
    for c in [a, b] {
        while !cluster.all_active(c) {
            assert!(back.elapsed() < WAIT, "{c}: not healed: {:?}", cluster.replicas(c));
            std::thread::sleep(Duration::from_millis(250));
        }
    }
    eprintln!("node 3 rejoined, every replica active, in {:.1} s", back.elapsed().as_secs_f64());
    // The rerun of the refused write completes.
    add(&strict, &["installed.html", "index.html"]).ok();
    for (c, lore) in [(a, &lib), (b, &strict)] {
        let chunks: u64 = lore.docs().iter().map(|d| d["chunks"].as_u64().unwrap()).sum();
        for i in 0..3 {
            let start = Instant::now();
            loop {
                let (status, count) = cluster.status(i, c);
                if status == "green" && count == chunks {
                    break;
                }
                assert!(
                    start.elapsed() < WAIT,
                    "{c} on node {}: {status}, {count} of {chunks} points",
                    i + 1
                );
                std::thread::sleep(Duration::from_millis(250));
            }
        }
        // Both replicas of each shard hold the same points.
        let (replicas, _) = cluster.replicas(c);
        for pair in replicas.chunks(2) {
            assert!(pair.len() == 2 && pair[0].0 == pair[1].0 && pair[0].3 == pair[1].3, "{c}: {replicas:?}");
        }
        check_exact(lore, &cluster, c);
    }
    eprintln!("whole test: {:.1} s", started.elapsed().as_secs_f64());
}
