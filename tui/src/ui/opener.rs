//! Opening a file or URL with the system opener: `$LORE_OPENER` (a program, optionally with
//! arguments, given the target as its last argument), else `xdg-open` (`open` on macOS).

use std::process::{Command, Stdio};

use anyhow::{Context as _, Result, bail};

/// The opener command: program and arguments.
pub fn opener() -> Vec<String> {
    let configured = std::env::var("LORE_OPENER").ok().filter(|v| !v.trim().is_empty());
    match configured {
        Some(v) => v.split_whitespace().map(str::to_string).collect(),
        None if cfg!(target_os = "macos") => vec!["open".into()],
        None => vec!["xdg-open".into()],
    }
}

/// Starts the opener on `target` without waiting for it; its output is discarded so it cannot
/// draw over the screen.
pub fn open(target: &str) -> Result<()> {
    let cmd = opener();
    let Some((program, args)) = cmd.split_first() else { bail!("no opener configured") };
    let mut child = Command::new(program)
        .args(args)
        .arg(target)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot run {program} to open {target} (set LORE_OPENER to your opener)"))?;
    // Reaped in the background so no zombie is left.
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(())
}
