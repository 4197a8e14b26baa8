//! `lore`: a local-first personal knowledge agent. This binary holds the command line and the
//! terminal UI; the work is done by the `lore-ingest`, `lore-index` and `lore-agent` crates.

mod cli;
mod commands;
mod config;
mod context;
mod output;
mod selection;
mod ui;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    ui::timings::mark_launch();
    lore_ingest::guard::install_quiet_panic_hook();
    let cli = cli::Cli::parse();
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
