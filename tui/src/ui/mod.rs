//! The terminal UI that `lore` opens without arguments: conversation, sources and library panes
//! over ratatui. The state and its transitions are in [`app`], keys in [`keys`], drawing in
//! [`view`], background work in [`workers`]. The loop here only moves events between them and
//! draws when something changed; it never waits on the library, the network or the model.

pub mod app;
pub mod keys;
pub mod opener;
pub mod terminal;
pub mod text;
pub mod theme;
pub mod timings;
pub mod view;
pub mod workers;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use futures::StreamExt;
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::crossterm::event::{Event, EventStream};
use tokio::sync::mpsc;

use self::app::{AnswerUpdate, App, Command, EngineState, IngestUpdate, Message, Report, Settings};
use self::theme::Theme;
use self::timings::{Timings, ms_since, since_launch_ms};
use self::workers::Workers;
use crate::context::Context;

/// How often the busy spinner turns.
const TICK: Duration = Duration::from_millis(100);

/// Runs the terminal UI until the user quits.
pub fn run(ctx: &Context) -> Result<ExitCode> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        bail!("the terminal UI needs a terminal; see `lore --help` for the commands");
    }
    let ctx = Arc::new(Context::new(ctx.config.clone(), ctx.paths.clone()));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    terminal::install_panic_hook();
    let mut term = terminal::setup()?;
    let _restore = terminal::Guard;
    rt.block_on(event_loop(&mut term, ctx))?;
    Ok(ExitCode::SUCCESS)
}

/// What the status line says about the chat model.
fn model_label(ctx: &Context) -> String {
    match ctx.config.llm.to_chat_config() {
        Some(c) => c.model,
        None => "no chat model (quoting passages)".to_string(),
    }
}

async fn event_loop<B: Backend>(term: &mut Terminal<B>, ctx: Arc<Context>) -> Result<()>
where
    B::Error: Send + Sync + 'static,
{
    let mut timings = Timings::from_env();
    let theme = Theme::from_env();
    let settings = Settings {
        model: model_label(&ctx),
        history_turns: ctx.config.ask.history_turns,
        home: ctx.paths.home.display().to_string(),
    };
    let mut app = App::new(settings);
    draw(term, &mut app, &theme)?;
    timings.log("first_frame_ms", since_launch_ms());
    // `lore bench` times the start-up: `LORE_UI_EXIT_AFTER=first-frame` quits here, `ready`
    // once the library is listed and the engine opened (with `$LORE_UI_TIMINGS` set).
    let exit_after = std::env::var("LORE_UI_EXIT_AFTER").unwrap_or_default();
    if exit_after == "first-frame" {
        return Ok(());
    }

    let (tx, mut reports) = mpsc::unbounded_channel();
    let mut workers = Workers::start(ctx, tx)?;
    workers.dispatch(Command::LoadLibrary);
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let (mut library_logged, mut engine_logged) = (false, false);
    loop {
        let mut key_at: Option<Instant> = None;
        let dirty = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => {
                    if matches!(ev, Event::Key(_)) {
                        key_at = Some(Instant::now());
                    }
                    if let Some(action) = keys::action_for(&app, &ev) {
                        for c in app.handle(action) {
                            workers.dispatch(c);
                        }
                    }
                    true
                }
                Some(Err(e)) => return Err(anyhow::Error::new(e).context("cannot read the terminal")),
                None => break,
            },
            Some(first) = reports.recv() => {
                let mut next = Some(first);
                while let Some(r) = next {
                    for c in app.apply(shown(r)) {
                        workers.dispatch(c);
                    }
                    next = reports.try_recv().ok();
                }
                true
            },
            _ = tick.tick() => {
                if app.busy() {
                    app.tick();
                }
                app.busy()
            }
        };
        if app.quit {
            break;
        }
        if dirty {
            draw(term, &mut app, &theme)?;
            if timings.enabled() {
                if let Some(t) = key_at {
                    timings.log("key_to_frame_ms", ms_since(t));
                }
                if app.search.results_at.take().is_some()
                    && let Some(t) = app.search.key_at
                {
                    timings.log("search_key_to_results_frame_ms", ms_since(t));
                    timings.log("search_engine_ms", app.search.took_ms.unwrap_or(0.0));
                }
                if !library_logged && app.library.loaded {
                    library_logged = true;
                    timings.log("library_listed_ms", since_launch_ms());
                }
                if !engine_logged && app.engine != EngineState::Opening {
                    engine_logged = true;
                    timings.log("engine_ready_ms", since_launch_ms());
                }
                if exit_after == "ready" && library_logged && engine_logged {
                    break;
                }
            }
        }
    }
    Ok(())
}

fn draw<B: Backend>(term: &mut Terminal<B>, app: &mut App, theme: &Theme) -> Result<()>
where
    B::Error: Send + Sync + 'static,
{
    let mut metrics = app.metrics;
    term.draw(|f| metrics = view::draw(f, app, theme))?;
    app.set_metrics(metrics);
    Ok(())
}

/// `report` with every credential hidden from the texts it carries (a failure of the chat
/// model or of a Qdrant server, a notice), as [`crate::output::shown`] hides them from printed
/// lines.
fn shown(report: Report) -> Report {
    use crate::output::shown as hide;
    match report {
        Report::Message(m) => Report::Message(Message { text: hide(&m.text), ..m }),
        Report::EngineUnavailable { reason, error } => {
            Report::EngineUnavailable { reason: hide(&reason), error }
        }
        Report::SearchFailed { seq, error } => Report::SearchFailed { seq, error: hide(&error) },
        Report::Answer { id, update: AnswerUpdate::Failed(e) } => {
            Report::Answer { id, update: AnswerUpdate::Failed(hide(&e)) }
        }
        Report::Answer { id, update: AnswerUpdate::Notice(n) } => {
            Report::Answer { id, update: AnswerUpdate::Notice(hide(&n)) }
        }
        Report::Ingest(IngestUpdate::Failed(e)) => Report::Ingest(IngestUpdate::Failed(hide(&e))),
        Report::Ingest(IngestUpdate::Problem(e)) => Report::Ingest(IngestUpdate::Problem(hide(&e))),
        other => other,
    }
}
