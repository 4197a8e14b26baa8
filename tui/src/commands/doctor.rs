//! `lore doctor`: checks the configuration, the embedding runtime and model, the library and
//! the chat model, one line each. The API key is reported as set or not, never shown.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use lore_agent::ChatModel;
use lore_index::Library;
use lore_index::engines::Engines;
use serde::Serialize;

use super::Context;
use crate::cli::DoctorArgs;
use crate::output::print_json;

#[derive(Serialize)]
struct Check {
    name: &'static str,
    status: &'static str,
    detail: String,
}

fn ok(name: &'static str, detail: String) -> Check {
    Check { name, status: "ok", detail }
}
fn fail(name: &'static str, detail: String) -> Check {
    Check { name, status: "fail", detail }
}
fn skip(name: &'static str, detail: String) -> Check {
    Check { name, status: "off", detail }
}

/// Runs `lore doctor`.
pub fn run(ctx: &Context, args: DoctorArgs) -> Result<ExitCode> {
    let mut checks = vec![ok("config", format!("library {}", ctx.paths.home.display()))];

    let engine_opts = ctx.engine_options();
    checks.push(match &engine_opts {
        Err(e) => fail("embedding", format!("{e:#}")),
        Ok(opts) => {
            let t = Instant::now();
            match Engines::embedder(opts).and_then(|e| Ok((e.embed_query("lore doctor")?, e))) {
                Ok((v, e)) => ok(
                    "embedding",
                    format!(
                        "{} ({}-d) loaded and ran in {:.1} s",
                        e.model_name(),
                        v.len(),
                        t.elapsed().as_secs_f64()
                    ),
                ),
                Err(e) => fail("embedding", e.to_string()),
            }
        }
    });

    checks.push(match engine_opts.as_ref().ok().map(|o| Library::open_reader(&ctx.paths.home, Some(o))) {
        None => skip("library", "not checked: the embedding settings are unusable".into()),
        Some(Err(e)) => fail("library", e.to_string()),
        Some(Ok(lib)) => match (lib.catalog().counts(), lib.consistency()) {
            (Ok((docs, chunks)), Ok(c)) if c.agrees() => {
                let threshold = ctx.config.qdrant.optimize_after;
                let brute = match lib.unindexed_vectors() {
                    Ok(n) if threshold > 0 && n >= threshold => {
                        format!("; {n} vectors not yet in the HNSW index (`lore optimize`)")
                    }
                    _ => String::new(),
                };
                ok(
                    "library",
                    format!("{docs} documents, {chunks} chunks; catalog, keyword and vector indexes agree{brute}"),
                )
            }
            (Ok((docs, chunks)), Ok(c)) => fail(
                "library",
                format!(
                    "{docs} documents, {chunks} chunks, but the indexes disagree (catalog {}, keyword {}, vectors {}): run `lore reindex`",
                    c.catalog.len(),
                    c.keyword.len(),
                    c.vectors.len()
                ),
            ),
            (Err(e), _) => fail("library", e.to_string()),
            (_, Err(e)) => fail("library", e.to_string()),
        },
    });

    let llm = &ctx.config.llm;
    let key_state = if std::env::var(&llm.api_key_env).is_ok_and(|k| !k.trim().is_empty()) {
        format!("API key set in {}", llm.api_key_env)
    } else {
        format!("no API key in {}", llm.api_key_env)
    };
    checks.push(match llm.to_chat_config() {
        None => skip(
            "chat model",
            "not configured: `ask` quotes passages; set llm.base_url (and llm.model) for answers".into(),
        ),
        Some(cfg) => {
            let (url, model) = (cfg.base_url.clone(), cfg.model.clone());
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
            println!("{:<4} {:<10} {}", c.status, c.name, c.detail);
        }
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
