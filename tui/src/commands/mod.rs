//! The subcommands.

mod add;
mod ask;
mod bench;
mod doctor;
mod eval;
mod feed;
mod history;
mod ls;
mod mcp;
mod optimize;
mod reindex;
mod related;
mod research;
mod rm;
mod roots;
mod search;
mod settings;
mod shell;
mod show;
mod sync;
mod verify;

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::config;
use crate::context::Context;

/// Runs the command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    crate::output::set_color(cli.color);
    crate::output::set_quiet(cli.quiet);
    // These need no library and no configuration (a broken config.toml must not stop them).
    match cli.command {
        Some(Command::Completions(args)) => return shell::completions(args),
        Some(Command::Man(args)) => return shell::man(args),
        _ => {}
    }
    let home = config::home_dir(cli.library.as_deref());
    let (config, paths) = config::load(&home)?;
    crate::output::hide_credentials(config.redactor());
    let ctx = Context::new(config, paths);
    match cli.command {
        Some(Command::Add(args)) => add::run(&ctx, args),
        Some(Command::Ls(args)) => ls::run(&ctx, args),
        Some(Command::Show(args)) => show::run(&ctx, args),
        Some(Command::Rm(args)) => rm::run(&ctx, args),
        Some(Command::Search(args)) => search::run(&ctx, args),
        Some(Command::Reindex(args)) => reindex::run(&ctx, args),
        Some(Command::Eval(args)) => eval::run(&ctx, args),
        Some(Command::Ask(args)) => ask::run(&ctx, args),
        Some(Command::Research(args)) => research::run(&ctx, args),
        Some(Command::History(args)) => history::run(&ctx, args),
        Some(Command::Doctor(args)) => doctor::run(&ctx, args),
        Some(Command::Optimize(args)) => optimize::run(&ctx, args),
        Some(Command::Sync(args)) => sync::run(&ctx, args),
        Some(Command::Roots(args)) => roots::run(&ctx, args),
        Some(Command::Related(args)) => related::run(&ctx, args),
        Some(Command::Verify(args)) => verify::run(&ctx, args),
        Some(Command::Feed(args)) => feed::run(&ctx, args),
        Some(Command::Bench(args)) => bench::run(&ctx, args),
        Some(Command::Config(args)) => settings::run(&ctx, args),
        Some(Command::Mcp(args)) => mcp::run(ctx, args),
        Some(Command::Completions(args)) => shell::completions(args),
        Some(Command::Man(args)) => shell::man(args),
        None => crate::ui::run(&ctx),
    }
}
