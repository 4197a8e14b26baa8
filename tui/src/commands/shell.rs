//! `lore completions` and `lore man`: a shell completion script and the manual pages, both
//! generated from the command line's own definition, so they never fall behind it.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::output::{OutputError, write_out};

/// Prints the completion script for `args.shell`.
pub fn completions(args: CompletionsArgs) -> Result<ExitCode> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "lore", &mut script);
    write_out(format_args!("{}", String::from_utf8_lossy(&script)))?;
    Ok(ExitCode::SUCCESS)
}

/// Prints `lore(1)`, or writes every page into `args.dir`.
pub fn man(args: ManArgs) -> Result<ExitCode> {
    let cmd = Cli::command();
    match args.dir {
        None => {
            let page = render(&cmd)?;
            write_out(format_args!("{}", String::from_utf8_lossy(&page)))?;
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
            let written = write_pages(&cmd, "lore", &dir)?;
            write_out(format_args!("Wrote {written} manual pages to {}\n", dir.display()))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The roff text of one command's page.
fn render(cmd: &clap::Command) -> Result<Vec<u8>> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut page).map_err(OutputError::Io)?;
    Ok(page)
}

/// Writes `NAME.1` for `cmd` and `NAME-SUB.1` for each of its visible subcommands, recursively;
/// returns how many pages were written.
fn write_pages(cmd: &clap::Command, name: &str, dir: &Path) -> Result<usize> {
    let cmd = cmd.clone().name(name.to_string()).bin_name(name.replace('-', " "));
    let path = dir.join(format!("{name}.1"));
    std::fs::write(&path, render(&cmd)?).with_context(|| format!("cannot write {}", path.display()))?;
    let mut written = 1;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
        written += write_pages(sub, &format!("{name}-{}", sub.get_name()), dir)?;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_gets_a_page_naming_its_options() {
        let dir = tempfile::tempdir().unwrap();
        let written = write_pages(&Cli::command(), "lore", dir.path()).unwrap();
        assert!(written >= 20, "{written}");
        let add = std::fs::read_to_string(dir.path().join("lore-add.1")).unwrap();
        assert!(add.starts_with(".ie") || add.contains(".TH"), "{add}");
        assert!(add.contains("lore\\-add") && add.contains("\\-\\-json"), "{add}");
        let main = std::fs::read_to_string(dir.path().join("lore.1")).unwrap();
        assert!(main.contains("Exit status"), "the footer is in the page");
        assert!(dir.path().join("lore-feed-add.1").is_file());
    }

    #[test]
    fn completions_know_every_command() {
        for shell in [clap_complete::Shell::Bash, clap_complete::Shell::Zsh, clap_complete::Shell::Fish] {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "lore", &mut script);
            let script = String::from_utf8(script).unwrap();
            for word in ["add", "search", "ask", "feed", "library", "color", "completions"] {
                assert!(script.contains(word), "{shell:?} lacks {word}");
            }
        }
    }
}
