//! `lore verify`: answers checked again against the texts of their citations, as
//! `lore ask --json` printed them, edited or not (a sentence changed or added is judged like the
//! model's own); see [`lore_agent::verify`].

use std::io::Read;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use lore_agent::verify::{ChunkText, Source, verify_in_library};
use serde::Deserialize;

use crate::cli::VerifyArgs;
use crate::commands::ask::print_verification;
use crate::context::Context;
use crate::output::outln;

/// What is read of an answer printed by `lore ask --json`.
#[derive(Debug, Deserialize)]
struct StoredAnswer {
    answer: String,
    #[serde(default)]
    citations: Vec<StoredCitation>,
}

/// What is read of one of its citations.
#[derive(Debug, Deserialize)]
struct StoredCitation {
    n: usize,
    chunk_id: i64,
    text: String,
}

/// Runs `lore verify`.
pub fn run(ctx: &Context, args: VerifyArgs) -> Result<ExitCode> {
    let mut input = String::new();
    if args.file.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut input).context("reading standard input")?;
    } else {
        input = std::fs::read_to_string(&args.file)
            .with_context(|| format!("reading {}", args.file.display()))?;
    }
    let lib = ctx.searcher()?;
    let answers = serde_json::Deserializer::from_str(&input).into_iter::<StoredAnswer>();
    for (i, answer) in answers.enumerate() {
        let answer = answer.with_context(|| {
            format!("answer {} of {} is not an answer of `lore ask --json`", i + 1, args.file.display())
        })?;
        let sources: Vec<Source> = answer
            .citations
            .into_iter()
            .map(|c| Source {
                n: c.n,
                text: c.text.clone(),
                chunks: vec![ChunkText { id: c.chunk_id, text: c.text }],
            })
            .collect();
        let v = verify_in_library(&lib, &answer.answer, &sources);
        if args.json {
            outln!("{}", serde_json::to_string(&v)?)?;
        } else {
            if i > 0 {
                outln!()?;
            }
            outln!("{}", answer.answer.trim())?;
            print_verification(&v)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
