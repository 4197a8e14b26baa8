//! `lore`: a local-first personal knowledge agent. This binary holds the command line and the
//! terminal UI; the work is done by the `lore-ingest`, `lore-index` and `lore-agent` crates.

mod cli;
mod commands;
mod config;
mod output;
mod ui;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    ui::timings::mark_launch();
    lore_ingest::guard::install_quiet_panic_hook();
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            output::error_line(&format!("{err:#}"));
            ExitCode::from(1)
        }
    }
}
