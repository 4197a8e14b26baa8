//! `lore history`: past conversations, or the turns of one.

use std::process::ExitCode;

use anyhow::{Result, bail};
use lore_agent::conversation::citations_of;
use serde::Serialize;

use crate::cli::HistoryArgs;
use crate::context::Context;
use crate::output::outln;
use crate::output::{cell, print_json, truncate};

#[derive(Serialize)]
struct TurnJson {
    question: String,
    query: String,
    answer: String,
    mode: String,
    model: Option<String>,
    created_at: String,
    citations: Vec<lore_agent::Citation>,
}

/// Runs `lore history`.
pub fn run(ctx: &Context, args: HistoryArgs) -> Result<ExitCode> {
    // Read-write, so a library made before conversations existed gets their tables.
    ctx.reader()?;
    let catalog = &lore_index::catalog::Catalog::open_home(&ctx.paths.home)?;
    let Some(id) = args.conversation else {
        let list = catalog.conversations(args.limit)?;
        if args.json {
            print_json(&list)?;
        } else if list.is_empty() {
            outln!("No conversations yet: `lore ask QUESTION` starts one.")?;
        } else {
            outln!("{} {} {} TITLE", cell("ID", 5), cell("UPDATED", 20), cell("TURNS", 5))?;
            for c in &list {
                outln!(
                    "{} {} {} {}",
                    cell(&c.id.to_string(), 5),
                    cell(&c.updated_at, 20),
                    cell(&c.turns.to_string(), 5),
                    truncate(&c.title, 80)
                )?;
            }
        }
        return Ok(ExitCode::SUCCESS);
    };
    let Some(summary) = catalog.conversation(id)? else { bail!("no conversation {id}") };
    let turns = catalog.turns(id)?;
    if args.json {
        let turns: Vec<TurnJson> = turns
            .iter()
            .map(|t| TurnJson {
                question: t.question.clone(),
                query: t.query.clone(),
                answer: t.answer.clone(),
                mode: t.mode.clone(),
                model: t.model.clone(),
                created_at: t.created_at.clone(),
                citations: citations_of(t),
            })
            .collect();
        print_json(&serde_json::json!({ "conversation": summary, "turns": turns }))?;
        return Ok(ExitCode::SUCCESS);
    }
    outln!("Conversation {id}: {}", summary.title)?;
    for t in &turns {
        outln!("\n> {}\n", t.question)?;
        outln!("{}", t.answer)?;
        let cites = citations_of(t);
        if t.mode == "llm" && !cites.is_empty() {
            outln!()?;
            for c in &cites {
                outln!("{}", c.line())?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
