//! `lore research`: a plan of sub-questions, a search for each, and a report with every claim
//! cited, streamed; `--out FILE` writes it as Markdown with a numbered source list.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use lore_agent::research::{self, Report, ResearchEvent, ResearchOptions};
use lore_agent::{AskOptions, ChatModel};

use crate::cli::ResearchArgs;
use crate::commands::ask::print_verification;
use crate::context::{Context, retrieve_config};
use crate::output::{error_line, info_line, note_line, outln, print_json, warn_line};
use crate::selection::build_filter;

/// Runs `lore research`.
pub fn run(ctx: &Context, args: ResearchArgs) -> Result<ExitCode> {
    let question = args.question.join(" ");
    if question.trim().is_empty() {
        bail!("the question is empty");
    }
    let Some(chat_cfg) = ctx.config.llm.to_chat_config() else {
        bail!(
            "lore research needs a chat model: set llm.base_url (or an API key) in config.toml; `lore ask --help` says how"
        );
    };
    let chat = ChatModel::new(chat_cfg)?;
    let lib = ctx.searcher()?;
    let opts = ResearchOptions {
        ask: AskOptions {
            retrieve: retrieve_config(ctx, args.k, build_filter(&lib, &args.filter)?)?,
            search: ctx.config.search.to_search_config()?,
            ..AskOptions::default()
        },
        max_subquestions: usize::from(args.max_questions),
        ..ResearchOptions::default()
    };

    let stream_text = !args.json;
    let mut stdout = std::io::stdout();
    let mut printed_any = false;
    let mut subs: Vec<String> = Vec::new();
    let mut on_event = |event: ResearchEvent<'_>| match event {
        ResearchEvent::Plan(plan) => {
            subs = plan.to_vec();
            info_line(&format!("plan: {} sub-question{}", plan.len(), crate::output::plural(plan.len())));
            for (i, s) in plan.iter().enumerate() {
                info_line(&format!("  {}. {s}", i + 1));
            }
        }
        ResearchEvent::Searching { index, round, query } => {
            if round > 1 {
                info_line(&format!("  searching {}/{} again, as: {query}", index + 1, subs.len()));
            }
        }
        ResearchEvent::Found { index, passages } => {
            info_line(&format!(
                "  searched {}/{}: {passages} new passage{}",
                index + 1,
                subs.len(),
                crate::output::plural(passages)
            ));
        }
        ResearchEvent::Writing(n) => {
            info_line(&format!("writing the report from {n} passage{}…", crate::output::plural(n)))
        }
        ResearchEvent::Section { index, of } => info_line(&format!("  writing section {}/{of}…", index + 1)),
        ResearchEvent::Notice(n) => warn_line(n),
        ResearchEvent::Text(t) if stream_text => {
            printed_any = true;
            let _ = write!(stdout, "{t}");
            let _ = stdout.flush();
        }
        ResearchEvent::Text(_) => {}
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let outcome = rt.block_on(async {
        tokio::select! {
            r = research::research(&lib, &chat, &question, &opts, &mut on_event) => Some(r),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    let report = match outcome {
        None => {
            if printed_any {
                outln!()?;
            }
            error_line("cancelled");
            return Ok(ExitCode::from(130));
        }
        Some(Err(e)) => {
            if printed_any {
                outln!()?;
            }
            return Err(e.into());
        }
        Some(Ok(report)) => report,
    };
    if let Some(path) = &args.out {
        write_report(path, &research::markdown(&report))?;
    }
    if args.json {
        print_json(&report)?;
    } else {
        print_tail(&report)?;
    }
    if let Some(path) = &args.out {
        info_line(&format!("report written to {}", path.display()));
    }
    Ok(ExitCode::SUCCESS)
}

/// What follows the streamed report: a cut warning, the verification, the sources cited and
/// the cost.
fn print_tail(report: &Report) -> Result<()> {
    outln!()?;
    if report.refused {
        return Ok(());
    }
    if report.finish_reason.as_deref() == Some("length") {
        warn_line("a section of the report was cut at its token limit (llm.max_answer_tokens)");
    }
    if let Some(v) = &report.verification {
        print_verification(v)?;
    }
    if !report.uncited_sections.is_empty() {
        note_line(&format!("sections citing no source: {}", report.uncited_sections.join("; ")));
    }
    if report.citations.is_empty() {
        outln!("\n(no source cited)")?;
    } else {
        outln!("\nSources:")?;
        for c in &report.citations {
            outln!("{}", c.line())?;
        }
    }
    info_line(&format!(
        "{} chat call{}, ~{} tokens sent, {:.0} s",
        report.calls,
        crate::output::plural(report.calls),
        report.tokens_sent,
        report.timings.total_ms / 1000.0
    ));
    Ok(())
}

/// Writes `text` to `path` whole or not at all (a temporary file beside it, then renamed).
fn write_report(path: &Path, text: &str) -> Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().with_context(|| format!("{}: not a file name", path.display()))?;
    let tmp = dir.join(format!(".{}.part", name.to_string_lossy()));
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
