//! `lore mcp` driven by the official MCP SDK's client (rmcp) over the child's stdin and stdout:
//! the tools it lists, each tool's results on a small real library (citations a model can quote),
//! clear errors for bad arguments, a writer in another process while it runs, and the `add` tool
//! only under the folders `--allow-add` names.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use lore_tests::{Lore, data};
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};

type Client = RunningService<RoleClient, ()>;

const FILES: [&str; 4] = [
    "text/moby-dick/chapter_1.txt",
    "text/moby-dick/chapter_2.txt",
    "text/moby-dick/chapter_3.txt",
    "pdf/live-manual.portrait.en.a4.pdf",
];

/// Starts `lore mcp ARGS` on `lore`'s library with the environment `env`, and connects to it.
async fn connect(lore: &Lore, args: &[&str], env: &[(&str, String)]) -> Client {
    let mut all = vec!["mcp"];
    all.extend_from_slice(args);
    let mut cmd = lore.cmd(&all);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let transport = TokioChildProcess::new(tokio::process::Command::from(cmd)).expect("start lore mcp");
    ().serve(transport).await.expect("initialize")
}

fn args(v: Value) -> serde_json::Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

/// Calls `tool`; the transport and protocol must succeed (a tool error is in the result).
async fn call(client: &Client, tool: &'static str, arguments: Value) -> CallToolResult {
    client
        .call_tool(CallToolRequestParams::new(tool).with_arguments(args(arguments)))
        .await
        .unwrap_or_else(|e| panic!("{tool}: protocol error {e}"))
}

/// The structured result of a successful call.
async fn ok(client: &Client, tool: &'static str, arguments: Value) -> Value {
    let r = call(client, tool, arguments.clone()).await;
    assert_ne!(r.is_error, Some(true), "{tool} {arguments} failed: {:?}", r.content);
    r.structured_content.unwrap_or_else(|| panic!("{tool}: no structured content"))
}

/// The text of a call that must fail as a tool error.
async fn tool_error(client: &Client, tool: &'static str, arguments: Value) -> String {
    let r = call(client, tool, arguments.clone()).await;
    assert_eq!(r.is_error, Some(true), "{tool} {arguments} should fail: {:?}", r.structured_content);
    r.content.iter().filter_map(|c| c.as_text()).map(|t| t.text.clone()).collect::<Vec<_>>().join("\n")
}

async fn tool_names(client: &Client) -> Vec<String> {
    let mut names: Vec<String> =
        client.list_all_tools().await.expect("list tools").into_iter().map(|t| t.name.to_string()).collect();
    names.sort();
    names
}

fn id_of(docs: &[Value], suffix: &str) -> i64 {
    docs.iter().find(|d| d["source"].as_str().unwrap().ends_with(suffix)).unwrap()["id"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_answers_from_the_library_with_citations() {
    let lore = Lore::with_files("docs", &FILES);
    let docs = lore.docs();
    let chapter1 = id_of(&docs, "chapter_1.txt");
    let manual = id_of(&docs, "live-manual.portrait.en.a4.pdf");
    let client = connect(&lore, &[], &[]).await;

    let info = client.peer_info().expect("server info");
    assert_eq!(info.server_info.as_ref().unwrap().name, "lore");
    // Read-only, and no chat model: neither `add` nor `ask`.
    assert_eq!(tool_names(&client).await, ["list_documents", "read", "related", "search"]);
    let tools = client.list_all_tools().await.unwrap();
    let search_tool = tools.iter().find(|t| t.name == "search").unwrap();
    let schema = serde_json::to_value(search_tool.input_schema.as_ref()).unwrap();
    for field in ["query", "k", "mode", "kind", "tag", "doc", "since", "until", "lang"] {
        assert!(schema["properties"].get(field).is_some(), "search takes {field}: {schema}");
    }
    assert!(search_tool.description.as_deref().unwrap().contains("chunk_id"));

    // search: the known passage, with its title, lines, chunk id and a quotable citation.
    let found = ok(&client, "search", json!({"query": "\"Call me Ishmael\"", "k": 3})).await;
    let hit = &found["hits"][0];
    let title = docs.iter().find(|d| d["id"] == chapter1).unwrap()["title"].as_str().unwrap();
    assert_eq!(hit["doc_id"], chapter1, "{found}");
    assert_eq!(hit["title"], title);
    assert!(hit["lines"].as_str().unwrap().starts_with("line"), "{hit}");
    assert!(hit["snippet"].as_str().unwrap().contains("Ishmael"), "{hit}");
    let chunk_id = hit["chunk_id"].as_i64().unwrap();
    let citation = hit["citation"].as_str().unwrap();
    assert!(citation.contains(title) && citation.ends_with(&format!("[chunk {chunk_id}]")), "{citation}");
    // Filters are those of `lore search`.
    let pdf_only = ok(&client, "search", json!({"query": "Call me Ishmael", "kind": ["pdf"]})).await;
    assert!(pdf_only["hits"].as_array().unwrap().iter().all(|h| h["doc_id"] == manual), "{pdf_only}");
    let manual_hits =
        ok(&client, "search", json!({"query": "live-build configuration", "doc": [manual.to_string()]}))
            .await;
    let first = &manual_hits["hits"][0];
    assert_eq!(first["doc_id"], manual);
    let page = first["page"].as_str().expect("a PDF hit names its page");
    assert!(first["citation"].as_str().unwrap().contains(page));

    // read: the chunk's text, and its neighbours when asked.
    let read = ok(&client, "read", json!({"chunk_id": chunk_id})).await;
    assert_eq!(read["chunks"].as_array().unwrap().len(), 1);
    assert!(read["chunks"][0]["text"].as_str().unwrap().contains("Call me Ishmael"));
    assert_eq!(read["document"]["doc_id"], chapter1);
    let around = ok(&client, "read", json!({"chunk_id": chunk_id, "after": 2})).await;
    let chunks = around["chunks"].as_array().unwrap();
    assert_eq!(chunks.len(), 3, "{around}");
    assert_eq!(chunks[0]["chunk_id"].as_i64(), Some(chunk_id));
    assert!(
        chunks.windows(2).all(|w| w[0]["ordinal"].as_u64().unwrap() + 1 == w[1]["ordinal"].as_u64().unwrap())
    );
    // A document at a page.
    let page_no: u32 =
        page.trim_start_matches("pp. ").trim_start_matches("p. ").split('-').next().unwrap().parse().unwrap();
    let at_page = ok(&client, "read", json!({"doc": manual.to_string(), "page": page_no})).await;
    let first_page = at_page["chunks"][0]["page"].as_str().unwrap();
    assert!(first_page.contains(&page_no.to_string()), "{first_page} for page {page_no}");

    // list_documents: all four, a page at a time.
    let listed = ok(&client, "list_documents", json!({})).await;
    assert_eq!(listed["total"], 4);
    let mut ids: Vec<i64> =
        listed["documents"].as_array().unwrap().iter().map(|d| d["doc_id"].as_i64().unwrap()).collect();
    ids.sort();
    let mut want: Vec<i64> = docs.iter().map(|d| d["id"].as_i64().unwrap()).collect();
    want.sort();
    assert_eq!(ids, want);
    let page1 = ok(&client, "list_documents", json!({"limit": 3})).await;
    assert_eq!(page1["documents"].as_array().unwrap().len(), 3);
    assert_eq!(page1["next_offset"], 3);
    let page2 = ok(&client, "list_documents", json!({"limit": 3, "offset": 3})).await;
    assert_eq!(page2["documents"].as_array().unwrap().len(), 1);
    assert!(page2["next_offset"].is_null());
    let pdfs = ok(&client, "list_documents", json!({"kind": "pdf"})).await;
    assert_eq!(pdfs["total"], 1);

    // related: the other documents, with connecting passages.
    let related = ok(&client, "related", json!({"doc": chapter1.to_string(), "k": 3})).await;
    assert_eq!(related["document"]["doc_id"], chapter1);
    let rel = related["related"].as_array().unwrap();
    assert!(!rel.is_empty(), "{related}");
    assert!(
        rel.iter().all(|r| r["document"]["doc_id"] != chapter1
            && want.contains(&r["document"]["doc_id"].as_i64().unwrap()))
    );
    assert!(rel[0]["connections"][0]["citation"].as_str().unwrap().contains("[chunk "), "{related}");

    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_arguments_get_errors_and_the_server_goes_on() {
    let lore = Lore::with_files("docs", &FILES[..1]);
    let client = connect(&lore, &[], &[]).await;

    let huge = tool_error(&client, "search", json!({"query": "whale", "k": 1_000_000})).await;
    assert!(huge.contains("k must be between 1 and 50"), "{huge}");
    let mode = tool_error(&client, "search", json!({"query": "whale", "mode": "psychic"})).await;
    assert!(mode.contains("psychic"), "{mode}");
    let empty = tool_error(&client, "search", json!({"query": "  "})).await;
    assert!(empty.contains("empty"), "{empty}");
    let missing = tool_error(&client, "related", json!({"doc": "The Book That Is Not There"})).await;
    assert!(missing.contains("no document matches") && missing.contains("list_documents"), "{missing}");
    let no_chunk = tool_error(&client, "read", json!({"chunk_id": 987_654_321})).await;
    assert!(no_chunk.contains("no chunk 987654321"), "{no_chunk}");
    let too_near = tool_error(&client, "read", json!({"chunk_id": 1, "before": 50})).await;
    assert!(too_near.contains("before must be between 0 and 5"), "{too_near}");
    let nothing = tool_error(&client, "read", json!({})).await;
    assert!(nothing.contains("chunk_id"), "{nothing}");

    // Arguments that do not fit the schema: a tool error the model can read (rmcp's way).
    let wrong_type = tool_error(&client, "search", json!({"query": "whale", "k": "ten"})).await;
    assert!(wrong_type.contains("invalid type") && wrong_type.contains("ten"), "{wrong_type}");
    let no_query = tool_error(&client, "search", json!({})).await;
    assert!(no_query.contains("query"), "{no_query}");
    // A tool that is not there: a JSON-RPC error.
    let add = client
        .call_tool(
            CallToolRequestParams::new("add").with_arguments(args(json!({"sources": ["/etc/passwd"]}))),
        )
        .await;
    let add_error = format!("{:?}", add.expect_err("no add tool without --allow-add"));
    assert!(add_error.contains("-32602") && add_error.contains("tool not found"), "{add_error}");

    // Still serving.
    let found = ok(&client, "search", json!({"query": "Call me Ishmael"})).await;
    assert!(!found["hits"].as_array().unwrap().is_empty());
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_in_another_process_works_while_it_serves_and_is_seen() {
    let lore = Lore::with_files("docs", &FILES[..1]);
    let client = connect(&lore, &[], &[]).await;
    let query = json!({"query": "Queequeg harpooneer Spouter-Inn landlord", "k": 5, "mode": "keyword"});
    let before = ok(&client, "search", query.clone()).await;
    assert!(before["hits"].as_array().unwrap().is_empty(), "{before}");

    // `lore add` in another process, without waiting for a lock, while the server holds its reader.
    let chapter3 = data("docs/text/moby-dick/chapter_3.txt");
    let added = lore.run(&["add", chapter3.to_str().unwrap()]);
    assert_eq!(added.code, 0, "lore add beside lore mcp: {}", added.stderr);

    // The next searches see it (the keyword index is re-read within a second of a commit).
    let started = Instant::now();
    loop {
        let after = ok(&client, "search", query.clone()).await;
        let hits = after["hits"].as_array().unwrap();
        if hits.iter().any(|h| h["source"].as_str().unwrap().ends_with("chapter_3.txt")) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "never seen: {after}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let listed = ok(&client, "list_documents", json!({})).await;
    assert_eq!(listed["total"], 2);
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_is_offered_with_a_chat_model_and_quotes_passages_when_it_is_unreachable() {
    let lore = Lore::with_files("docs", &FILES[..2]);
    // A chat model configured at an address where nothing listens.
    let env =
        [("LORE_LLM_BASE_URL", "http://127.0.0.1:9/v1".to_string()), ("LORE_LLM_MODEL", "none".to_string())];
    let client = connect(&lore, &[], &env).await;
    assert_eq!(tool_names(&client).await, ["ask", "list_documents", "read", "related", "search"]);
    let answer =
        ok(&client, "ask", json!({"question": "What does Ishmael do when he feels grim about the mouth?"}))
            .await;
    assert_eq!(answer["mode"], "extractive", "{answer}");
    let sources = answer["sources"].as_array().unwrap();
    assert!(!sources.is_empty(), "{answer}");
    assert!(sources.iter().any(|s| s["text"].as_str().unwrap().contains("grim about the mouth")), "{answer}");
    assert!(sources.iter().all(|s| s["citation"].as_str().unwrap().contains("[chunk ")));
    let huge = tool_error(&client, "ask", json!({"question": "whales?", "k": 500})).await;
    assert!(huge.contains("k must be between 1 and 50"), "{huge}");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_answers_with_the_local_chat_model_citing_the_library() {
    let lore = Lore::with_files("docs", &FILES[..2]);
    let client = connect(&lore, &[], &lore_tests::small_chat_env()).await;
    let answer = ok(
        &client,
        "ask",
        json!({"question": "What does Ishmael do whenever it is a damp, drizzly November in his soul?"}),
    )
    .await;
    assert_eq!(answer["mode"], "llm", "{answer}");
    assert!(!answer["answer"].as_str().unwrap().trim().is_empty(), "{answer}");
    let sources = answer["sources"].as_array().unwrap();
    assert!(!sources.is_empty(), "{answer}");
    assert!(
        sources
            .iter()
            .all(|s| s["chunk_id"].as_i64().is_some() && s["citation"].as_str().unwrap().contains("[chunk "))
    );
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_takes_files_under_the_allowed_folders_and_web_addresses_only() {
    let lore = Lore::with_files("docs", &FILES[..1]);
    let allowed = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let note = allowed.path().join("note.txt");
    std::fs::write(
        &note,
        "The zebrafish aquarium on the third floor needs its filter cleaned every Tuesday.\n",
    )
    .unwrap();
    let secret = outside.path().join("secret.txt");
    std::fs::write(&secret, "Outside the allowed folder.\n").unwrap();
    let root = allowed.path().to_str().unwrap();
    let client = connect(&lore, &["--allow-add", root], &[]).await;
    assert!(tool_names(&client).await.contains(&"add".to_string()));

    let refused = tool_error(&client, "add", json!({"sources": [secret.to_str().unwrap()]})).await;
    assert!(refused.contains("not under a folder the server may add from"), "{refused}");
    let escape = allowed.path().join("../").join(outside.path().file_name().unwrap()).join("secret.txt");
    let refused = tool_error(&client, "add", json!({"sources": [escape.to_str().unwrap()]})).await;
    assert!(refused.contains("not under a folder"), "{refused}");
    let relative = tool_error(&client, "add", json!({"sources": ["note.txt"]})).await;
    assert!(relative.contains("absolute path"), "{relative}");
    let ftp = tool_error(&client, "add", json!({"sources": ["ftp://example.com/book.pdf"]})).await;
    assert!(ftp.contains("refused") && ftp.contains("ftp"), "{ftp}");
    assert_eq!(lore.docs().len(), 1, "nothing refused was added");

    let added = ok(&client, "add", json!({"sources": [note.to_str().unwrap()], "tags": ["fish"]})).await;
    assert_eq!(added["added"], 1, "{added}");
    let found = ok(&client, "search", json!({"query": "zebrafish aquarium filter", "tag": ["fish"]})).await;
    assert!(found["hits"][0]["source"].as_str().unwrap().ends_with("note.txt"), "{found}");
    client.cancel().await.unwrap();
}

/// Document text handed to the client's model is handled like lore's own prompts: a paragraph or
/// title that instructs a model is left out (tests/data/injection), the rest of the text stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instructions_inside_documents_never_reach_the_clients_model() {
    let lore = Lore::new();
    let dir = lore_tests::workspace().join("tests/data/injection");
    for f in ["greenhouse-notes.md", "beekeeping-log.md", "zh-notes.md"] {
        lore.run(&["add", dir.join(f).to_str().unwrap()]).ok();
    }
    let client = connect(&lore, &[], &[]).await;
    let mut seen = String::new();
    for query in ["orchids temperature at night", "honey 2025 hives", "番茄 收获"] {
        let found = ok(&client, "search", json!({"query": query, "k": 5})).await;
        seen.push_str(&found.to_string());
        for hit in found["hits"].as_array().unwrap() {
            let read = ok(&client, "read", json!({"chunk_id": hit["chunk_id"]})).await;
            seen.push_str(&read.to_string());
        }
    }
    let docs = ok(&client, "list_documents", json!({})).await;
    seen.push_str(&docs.to_string());
    assert!(!seen.contains("PWNED") && !seen.contains("ignore all previous"), "{seen}");
    assert!(
        seen.contains("18 degrees") && seen.contains("42 kilograms") && seen.contains("七月收获"),
        "{seen}"
    );
    assert!(seen.contains("[lore left out"), "the client is told something was left out: {seen}");
    client.cancel().await.expect("stop the server");
}
