//! `lore`: a local-first personal knowledge agent. This binary holds the command line and the
//! terminal UI; the work is done by the `lore-ingest`, `lore-index` and `lore-agent` crates.

mod cli;
mod commands;
mod config;
mod context;
mod output;
mod selection;
mod ui;

use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::{Mutex, PoisonError};

use clap::Parser;

fn main() -> ExitCode {
    ui::timings::mark_launch();
    let cli = cli::Cli::parse();
    // A third-party parser's panic that the guard catches prints nothing: it becomes the one
    // error line of its file ("internal error … please report it"), and with --verbose a note
    // line with the panic's message and place (once per file and place: a new library's first
    // PDFs are also sampled for their language). Every other panic is reported as usual.
    let verbose = cli.verbose;
    let shown: Mutex<HashSet<(String, String)>> = Mutex::new(HashSet::new());
    lore_ingest::guard::install_panic_hook(move |caught| {
        if !verbose {
            return;
        }
        let detail = caught.detail();
        let first = shown
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((caught.item.clone(), detail.clone()));
        if first {
            output::note_line(&format!("{}: the {} panicked: {detail}", caught.item, caught.parser));
        }
    });
    match commands::run(cli) {
        Ok(code) => code,
        // The reader of a pipe went away (`lore ls | head`): stop without a word, with the
        // status a shell gives a command that a closed pipe stopped (128 + SIGPIPE).
        Err(err) if output::is_closed_output(&err) => ExitCode::from(141),
        Err(err) => {
            output::error_line(&format!("{err:#}"));
            ExitCode::from(1)
        }
    }
}
