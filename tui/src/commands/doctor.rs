//! `lore doctor`: checks the configuration, the embedding runtime and model, the library and
//! the chat model, one line each. The API key is reported as set or not, never shown.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Result;
use lore_agent::ChatModel;
use lore_index::catalog::doc_of_chunk;
use lore_index::{Engines, Library};
use serde::Serialize;

use crate::cli::DoctorArgs;
use crate::context::Context;
use crate::output::print_json;
use crate::output::{outln, plural};

#[derive(Serialize)]
struct Check {
    name: &'static str,
    status: &'static str,
    detail: String,
    /// Chunks in each store, for the library check.
    #[serde(skip_serializing_if = "Option::is_none")]
    stores: Option<StoreCounts>,
}

/// What the library check counted.
#[derive(Serialize)]
struct StoreCounts {
    documents: u64,
    catalog: usize,
    keyword: usize,
    vectors: usize,
    /// Documents an interrupted command left in the journal.
    pending: usize,
    /// Chunks searchable by keywords that still await their vectors.
    vectors_pending: usize,
}

fn ok(name: &'static str, detail: String) -> Check {
    Check { name, status: "ok", detail, stores: None }
}
fn fail(name: &'static str, detail: String) -> Check {
    Check { name, status: "fail", detail, stores: None }
}
fn skip(name: &'static str, detail: String) -> Check {
    Check { name, status: "off", detail, stores: None }
}
/// Works, but something wants the user's attention (a key others can read).
fn warn(name: &'static str, detail: String) -> Check {
    Check { name, status: "warn", detail, stores: None }
}
/// Nothing wrong, but something to do next (an empty library).
fn note(name: &'static str, detail: String) -> Check {
    Check { name, status: "note", detail, stores: None }
}

/// What the library check says of a library with nothing in it yet.
const EMPTY_LIBRARY: &str =
    "empty library: add something with `lore add PATH...` (files, folders or web pages)";

/// Runs `lore doctor`.
pub fn run(ctx: &Context, args: DoctorArgs) -> Result<ExitCode> {
    let mut checks = vec![ok("config", format!("library {}", ctx.paths.home.display()))];
    checks.extend(readable_credentials(&ctx.paths.config_files));
    if args.repair {
        checks.push(repair(ctx, args.wait));
    }

    let engine_opts = ctx.engine_options();
    let mut embedder = None;
    checks.push(match &engine_opts {
        Err(e) => fail("embedding", format!("{e:#}")),
        Ok(opts) => {
            let t = Instant::now();
            match Engines::embedder(opts).and_then(|e| Ok((e.embed_query("lore doctor")?, e))) {
                Ok((v, e)) => {
                    let why = match Context::model_choice_reason(&ctx.paths.home) {
                        Some(reason) if !ctx.model_configured() => format!("; {reason}"),
                        _ if ctx.model_configured() => "; set in the configuration".to_string(),
                        _ => String::new(),
                    };
                    let detail = format!(
                        "{} ({}-d) loaded and ran in {:.1} s{why}",
                        e.model_name(),
                        v.len(),
                        t.elapsed().as_secs_f64()
                    );
                    embedder = Some(e);
                    ok("embedding", detail)
                }
                Err(e) => fail("embedding", e.to_string()),
            }
        }
    });

    let library = match engine_opts.as_ref().ok().map(|o| Library::open_reader(&ctx.paths.home, Some(o))) {
        None => vec![skip("library", "not checked: the embedding settings are unusable".into())],
        Some(Err(lore_index::Error::NoLibrary(home))) => {
            vec![note("library", format!("{EMPTY_LIBRARY}; it will be created at {}", home.display()))]
        }
        Some(Err(e)) => vec![fail("library", e.to_string())],
        Some(Ok(lib)) => {
            let languages = embedder.as_ref().and_then(|e| languages_check(&lib, e));
            std::iter::once(library_check(ctx, &lib)).chain(languages).collect()
        }
    };
    checks.extend(library);

    let llm = &ctx.config.llm;
    let key_state = match llm.key_source() {
        Some(source) => format!("API key set in {source}"),
        None => format!("no API key in {}", llm.api_key_env),
    };
    checks.push(match llm.to_chat_config() {
        None => skip(
            "chat model",
            "not configured: `ask` quotes passages; set llm.base_url (and llm.model) for answers".into(),
        ),
        Some(cfg) => {
            let (url, model) = (cfg.shown_url(), cfg.model.clone());
            match ChatModel::new(cfg) {
                Err(e) => fail("chat model", e.to_string()),
                Ok(chat) => {
                    let t = Instant::now();
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                    match rt.block_on(chat.ping()) {
                        Ok(()) => ok(
                            "chat model",
                            format!(
                                "{model} at {url} answered in {:.1} s ({key_state})",
                                t.elapsed().as_secs_f64()
                            ),
                        ),
                        Err(e) => fail("chat model", format!("{e} ({key_state})")),
                    }
                }
            }
        }
    });

    let failed = checks.iter().any(|c| c.status == "fail");
    if args.json {
        print_json(&checks)?;
    } else {
        for c in &checks {
            outln!("{:<4} {:<10} {}", c.status, c.name, c.detail)?;
        }
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// A warning for each configuration file in `files` that holds a credential (an API key, a URL
/// with a password) and that other users can read, with the `chmod` that makes it private.
fn readable_credentials(files: &[std::path::PathBuf]) -> Vec<Check> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        files
            .iter()
            .filter_map(|path| {
                let mode = std::fs::metadata(path).ok().filter(|m| m.is_file())?.permissions().mode();
                if mode & 0o044 == 0 {
                    return None;
                }
                let table = std::fs::read_to_string(path).ok()?.parse::<toml::Table>().ok()?;
                let held = crate::config::credentials_in(&table);
                (!held.is_empty()).then(|| {
                    let path = path.display();
                    warn(
                        "config",
                        format!(
                            "{path} holds {} and other users can read it ({:o}): run `chmod 600 {path}`",
                            held.join(" and "),
                            mode & 0o777
                        ),
                    )
                })
            })
            .collect()
    }
    #[cfg(not(unix))]
    {
        let _ = files;
        Vec::new()
    }
}

/// Opens the library for writing, which completes or rolls back what an interrupted command
/// left in the journal, then embeds the chunks that await their vectors, and says how much there
/// was.
fn repair(ctx: &Context, wait: u64) -> Check {
    if !Library::exists(&ctx.paths.home) {
        return ok("repair", "no library yet: nothing to repair".into());
    }
    let pending = Library::open_reader(&ctx.paths.home, None)
        .and_then(|lib| Ok(lib.catalog().journal()?.len()))
        .unwrap_or(0);
    let embedded = ctx.writer(Duration::from_secs(wait)).and_then(|mut lib| {
        let n = lib.embed_pending(&mut |_, _| {})?;
        drop(lib);
        Ok(n)
    });
    match embedded {
        Ok(embedded) => {
            let mut done = Vec::new();
            if pending > 0 {
                done.push(format!(
                    "completed {pending} document{} an interrupted command left",
                    plural(pending)
                ));
            }
            if embedded > 0 {
                done.push(format!("embedded {embedded} chunk{} that awaited vectors", plural(embedded)));
            }
            if done.is_empty() {
                ok("repair", "nothing to repair".into())
            } else {
                ok("repair", done.join("; "))
            }
        }
        Err(e) => fail("repair", format!("{e:#}")),
    }
}

/// The library's languages against the embedding model's: which chunks get vector search and
/// which are searched by keywords only. `None` for an empty library.
fn languages_check(lib: &Library, embedder: &lore_index::Embedder) -> Option<Check> {
    let counts = lib.catalog().chunk_languages().ok()?;
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    let mix: Vec<String> = counts
        .iter()
        .take(5)
        .map(|(lang, n)| {
            format!("{} {:.0}%", lang.as_deref().unwrap_or("unknown"), *n as f64 * 100.0 / total as f64)
        })
        .collect();
    let uncovered = lore_index::uncovered_languages(lib).ok()?;
    if uncovered.is_empty() {
        return Some(ok("languages", format!("{}; {} covers them", mix.join(", "), embedder.model_name())));
    }
    let n: u64 = uncovered.iter().map(|(_, n)| n).sum();
    let names: Vec<&str> = uncovered.iter().map(|(lang, _)| lang.as_str()).collect();
    Some(note(
        "languages",
        format!(
            "{}; {n} chunk{} in {} searched by keywords only ({} was not trained on them): `lore reindex \
             --model {}` gives them vector search and questions across languages",
            mix.join(", "),
            plural(n as usize),
            names.join(", "),
            embedder.model_name(),
            lore_index::MULTILINGUAL_MODEL
        ),
    ))
}

/// Compares the chunks of the catalog, the keyword index and the vector store. Documents in the
/// journal (an interrupted command's) may differ: searches leave them out and the next write
/// completes them.
fn library_check(ctx: &Context, lib: &Library) -> Check {
    let (docs, chunks) = match lib.catalog().counts() {
        Ok(c) => c,
        Err(e) => return fail("library", e.to_string()),
    };
    if docs == 0 && lib.catalog().journal().is_ok_and(|j| j.is_empty()) {
        return note("library", EMPTY_LIBRARY.into());
    }
    // One opening of the vector store for the reads below.
    let _hold = lib.hold_vectors();
    let c = match lib.consistency() {
        Ok(c) => c,
        Err(e) => return fail("library", e.to_string()),
    };
    let journal: BTreeSet<i64> = match lib.catalog().journal() {
        Ok(j) => j.into_iter().map(|e| e.doc_id).collect(),
        Err(e) => return fail("library", e.to_string()),
    };
    let stores = StoreCounts {
        documents: docs,
        catalog: c.catalog.len(),
        keyword: c.keyword.len(),
        vectors: c.vectors.len(),
        pending: journal.len(),
        vectors_pending: c.vectors_pending.len(),
    };
    let awaiting: BTreeSet<i64> = c.vectors_pending.iter().copied().collect();
    let settled = |ids: &[i64]| -> Vec<i64> {
        ids.iter().copied().filter(|id| !journal.contains(&doc_of_chunk(*id))).collect()
    };
    // Chunks awaiting vectors may or may not be in the vector store yet.
    let with_vectors =
        |ids: &[i64]| -> Vec<i64> { settled(ids).into_iter().filter(|id| !awaiting.contains(id)).collect() };
    let mut check = if c.agrees() || {
        let catalog = settled(&c.catalog);
        catalog == settled(&c.keyword) && with_vectors(&c.catalog) == with_vectors(&c.vectors)
    } {
        let threshold = ctx.config.qdrant.optimize_after;
        let brute = match lib.unindexed_vectors() {
            Ok(n) if threshold > 0 && n >= threshold => {
                format!("; {n} vectors not yet in the HNSW index (`lore optimize`)")
            }
            _ => String::new(),
        };
        let outdated = match lib.outdated_vectors() {
            Ok(n) if n > 0 => {
                format!(
                    "; {n} vectors in the vector store's earlier on-disk layout (`lore optimize` moves them)"
                )
            }
            _ => String::new(),
        };
        let pending = match journal.len() {
            0 => String::new(),
            n => format!(
                "; {n} document{} being written, or left by an interrupted command, and left out of \
                 searches until complete (the next write completes what was interrupted; `lore doctor \
                 --repair` does it now)",
                plural(n)
            ),
        };
        let awaiting = match awaiting.len() {
            0 => String::new(),
            n => {
                let docs: BTreeSet<i64> = awaiting.iter().map(|id| doc_of_chunk(*id)).collect();
                format!(
                    "; {} (of {} document{})",
                    crate::output::vectors_pending_note(n as u64),
                    docs.len(),
                    plural(docs.len())
                )
            }
        };
        ok(
            "library",
            format!(
                "{docs} documents, {chunks} chunks; catalog, keyword and vector indexes agree{brute}{outdated}{pending}{awaiting}"
            ),
        )
    } else {
        fail(
            "library",
            format!(
                "{docs} documents, {chunks} chunks, but the indexes disagree (catalog {}, keyword {}, vectors {}): run `lore reindex`",
                c.catalog.len(),
                c.keyword.len(),
                c.vectors.len()
            ),
        )
    };
    check.stores = Some(stores);
    check
}
