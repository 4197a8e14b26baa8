//! `lore ask`: an answer from the library, streamed, every claim cited; extractive without a chat
//! model or when it cannot be reached.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Result, anyhow, bail};
use lore_agent::answer::AskEvent;
use lore_agent::verify::{Label, Verification};
use lore_agent::{AgentError, AnswerSession, AskOptions, ChatModel, Continue, SessionOptions};
use serde::Serialize;

use crate::cli::AskArgs;
use crate::context::{Context, retrieve_config};
use crate::output::outln;
use crate::output::{error_line, print_json, warn_line};
use crate::selection::build_filter;

#[derive(Serialize)]
struct AskJson<'a> {
    answer: &'a str,
    citations: &'a [lore_agent::Citation],
    conversation: i64,
    mode: &'a str,
    model: Option<&'a str>,
    query: &'a str,
    notice: Option<&'a str>,
    /// True when lore says the library does not answer the question (the answer then lists the
    /// nearest passages, in `nearest` too).
    refused: bool,
    /// The model's answer that the passages did not support, when it was withheld.
    #[serde(skip_serializing_if = "Option::is_none")]
    withheld: Option<&'a str>,
    /// The nearest passages of a refused question.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    nearest: Vec<lore_agent::Citation>,
    /// Each sentence of the answer checked against its cited sources, with the counts (absent
    /// for extractive answers and refusals).
    #[serde(skip_serializing_if = "Option::is_none")]
    verification: Option<&'a Verification>,
    /// What a whole-document or chapter answer (map-reduce) cost: parts, cached parts, chat
    /// calls, tokens read (absent for answers from retrieved passages).
    #[serde(skip_serializing_if = "Option::is_none")]
    overview: Option<&'a lore_agent::overview::OverviewStats>,
    timings: &'a lore_agent::Timings,
    /// Chunks of the library that still await their vectors (searched by keywords alone).
    vectors_pending: u64,
}

/// Runs `lore ask`.
pub fn run(ctx: &Context, args: AskArgs) -> Result<ExitCode> {
    let question = args.question.join(" ");
    if question.trim().is_empty() {
        bail!("the question is empty");
    }
    let lib = ctx.searcher()?;
    let which = if args.continue_last {
        Continue::Last
    } else if let Some(id) = args.conversation {
        Continue::Conversation(id)
    } else {
        Continue::New
    };
    let session = AnswerSession::open(&lib, which, ctx.config.ask.history_turns).map_err(|e| match e {
        AgentError::NoConversation(id) => anyhow!("no conversation {id} (see `lore history`)"),
        e => e.into(),
    })?;
    let chat = match (args.no_llm, ctx.config.llm.to_chat_config()) {
        (false, Some(cfg)) => Some(ChatModel::new(cfg)?),
        _ => None,
    };
    let opts = SessionOptions {
        ask: AskOptions {
            retrieve: retrieve_config(ctx, args.k, build_filter(&lib, &args.filter)?)?,
            search: ctx.config.search.to_search_config()?,
            translate: ctx.config.ask.translate,
            ..AskOptions::default()
        },
        related_reading: 0,
    };

    let stream_text = !args.json;
    let mut stdout = std::io::stdout();
    let mut printed_any = false;
    let mut progress = crate::output::ProgressLine::new();
    let mut on_event = |event: AskEvent<'_>| match event {
        AskEvent::Rewritten(q) if stream_text => warn_line(&format!("searching for: {q}")),
        AskEvent::Notice(n) => warn_line(n),
        AskEvent::Progress(p) => {
            if p.writing {
                progress.finish(&p.line());
            } else {
                progress.show(&format!("{} · Ctrl-C stops", p.line()));
            }
        }
        AskEvent::Text(t) if stream_text => {
            printed_any = true;
            let _ = write!(stdout, "{t}");
            let _ = stdout.flush();
        }
        _ => {}
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let outcome = rt.block_on(async {
        tokio::select! {
            r = session.ask(chat.as_ref(), &question, &opts, &mut on_event) => Some(r),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    let asked = match outcome {
        None => {
            progress.close();
            if printed_any {
                outln!()?;
            }
            error_line("cancelled");
            return Ok(ExitCode::from(130));
        }
        Some(Err(e)) => {
            progress.close();
            if printed_any {
                outln!()?;
            }
            return Err(e.into());
        }
        Some(Ok(asked)) => asked,
    };
    let id = asked.recorded?;
    let answer = asked.answer;
    let vectors_pending = lib.vectors_pending()?;

    if args.json {
        print_json(&AskJson {
            answer: &answer.text,
            citations: &answer.citations,
            conversation: id,
            mode: answer.mode.as_str(),
            model: answer.model.as_deref(),
            query: &answer.query,
            notice: answer.notice.as_deref(),
            refused: answer.refused,
            withheld: answer.withheld.as_deref(),
            nearest: if answer.refused {
                answer
                    .passages
                    .iter()
                    .take(lore_agent::refusal::NEAREST)
                    .map(lore_agent::Citation::of)
                    .collect()
            } else {
                Vec::new()
            },
            verification: answer.verification.as_ref(),
            overview: answer.overview.as_ref(),
            timings: &answer.timings,
            vectors_pending,
        })?;
    } else {
        outln!()?;
        if answer.mode == lore_agent::AnswerMode::Llm && !answer.refused {
            match answer.finish_reason.as_deref() {
                Some("length") => warn_line("the answer was cut at llm.max_answer_tokens"),
                Some(lore_agent::repeat::FINISH_REASON) => {
                    warn_line("the model began writing the same line again and again; lore stopped it there")
                }
                _ => {}
            }
            if let Some(v) = &answer.verification {
                print_verification(v)?;
            }
            if !answer.citations.is_empty() {
                outln!("\nSources:")?;
                for c in &answer.citations {
                    outln!("{}", c.line())?;
                }
            } else if answer.passages.is_empty() {
                outln!("\n(nothing in the library matched the question)")?;
            } else {
                outln!("\n(no source cited; searched: {})", passages_list(&answer.passages))?;
            }
        }
        crate::output::info_line(&format!("conversation {id} · continue with `lore ask -c ...`"));
        if vectors_pending > 0 {
            crate::output::note_line(&crate::output::vectors_pending_note(vectors_pending));
        }
    }
    if args.timings {
        let t = &answer.timings;
        let opt = |v: Option<f64>| v.map(|v| format!("{v:.0} ms")).unwrap_or_else(|| "-".into());
        let prompt = match (t.prompt_tokens, t.cached_prompt_tokens) {
            (Some(p), Some(c)) => format!(", prompt {p} tokens ({c} from the server's cache)"),
            (Some(p), None) => format!(", prompt {p} tokens"),
            _ => String::new(),
        };
        eprintln!(
            "timings: rewrite {:.0} ms, retrieval {:.0} ms, request sent {}, first token {}, last token {}, verifying after it {}, total {:.0} ms{prompt}",
            t.rewrite_ms,
            t.retrieval_ms,
            opt(t.request_sent_ms),
            opt(t.first_token_ms),
            opt(t.last_token_ms),
            opt(t.verify_ms),
            t.total_ms
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The summary line of a verification (`Verified: 7 of 8 sentences supported, 1 unsupported`),
/// then each sentence not supported, marked: `⚠ unsupported` or `~ partly supported`.
pub(crate) fn print_verification(v: &Verification) -> Result<()> {
    if v.summary.checked == 0 {
        return Ok(());
    }
    outln!("\nVerified: {}", v.summary.line())?;
    for s in &v.sentences {
        let mark = match s.label {
            Label::Unsupported => "⚠",
            Label::PartlySupported => "~",
            _ => continue,
        };
        let better = s.better_source.map(|n| format!(" ([{n}] backs it better)")).unwrap_or_default();
        outln!("  {mark} {}: {}{better}", s.label.as_str(), s.text.replace('\n', " "))?;
    }
    Ok(())
}

fn passages_list(passages: &[lore_agent::Passage]) -> String {
    let mut titles: Vec<&str> = Vec::new();
    for p in passages {
        if !titles.contains(&p.title.as_str()) {
            titles.push(&p.title);
        }
    }
    titles.join("; ")
}
