//! Terminal output helpers: printing that survives a reader going away, error lines, tables
//! and truncation by display width.

use std::io::{IsTerminal, Write};

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Why something could not be printed to stdout.
#[derive(Debug)]
pub enum OutputError {
    /// The reader went away (`lore ls | head`): the command stops quietly.
    Closed,
    /// Another I/O error.
    Io(std::io::Error),
}

impl std::fmt::Display for OutputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutputError::Closed => f.write_str("standard output was closed"),
            OutputError::Io(e) => write!(f, "cannot write to standard output: {e}"),
        }
    }
}

impl std::error::Error for OutputError {}

/// What hides the configuration's credentials from everything lore prints (set once, when
/// the configuration is loaded); until then, the credentials of URLs only.
static REDACTOR: std::sync::OnceLock<lore_index::Redactor> = std::sync::OnceLock::new();

/// Hides the credentials `redactor` knows (the configured keys, the passwords of the configured
/// URLs) from every line printed from now on, and from the terminal UI's messages.
pub fn hide_credentials(redactor: lore_index::Redactor) {
    let _ = REDACTOR.set(redactor);
}

/// `text` with every credential hidden: the configured keys and passwords, and the user and
/// password of any URL in it.
pub fn shown(text: &str) -> String {
    match REDACTOR.get() {
        Some(r) => r.redact(text),
        None => lore_index::redact_urls(text),
    }
}

/// Writes to stdout. Unlike `print!`, which panics when the reader of a pipe has gone away,
/// this returns [`OutputError::Closed`] then, which `main` turns into a quiet exit. What it
/// writes goes through [`shown`].
pub fn write_out(args: std::fmt::Arguments<'_>) -> Result<(), OutputError> {
    let text = shown(&args.to_string());
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes()).map_err(|e| match e.kind() {
        std::io::ErrorKind::BrokenPipe => OutputError::Closed,
        _ => OutputError::Io(e),
    })
}

/// Whether `err` says that stdout was closed by its reader.
pub fn is_closed_output(err: &anyhow::Error) -> bool {
    err.chain().any(|c| matches!(c.downcast_ref::<OutputError>(), Some(OutputError::Closed)))
}

/// `print!` to stdout that returns an [`OutputError`] instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write_out(format_args!($($arg)*))
    };
}

/// `println!` to stdout that returns an [`OutputError`] instead of panicking.
macro_rules! outln {
    () => {
        $crate::output::write_out(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write_out(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {out, outln};

/// Prints one error line to stderr (nothing when stderr is closed).
pub fn error_line(msg: &str) {
    let _ = writeln!(std::io::stderr(), "error: {}", shown(msg));
}

/// Whether `--quiet` was given ([`set_quiet`]).
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Records `--quiet`: no progress bars, notes or warnings from then on.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, std::sync::atomic::Ordering::Relaxed);
}

/// Whether `--quiet` was given.
pub fn quiet() -> bool {
    QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

/// Prints one warning line to stderr (nothing when stderr is closed, or with `--quiet`).
pub fn warn_line(msg: &str) {
    if !quiet() {
        let _ = writeln!(std::io::stderr(), "warning: {}", shown(msg));
    }
}

/// Prints one line to stderr as it is (nothing when stderr is closed, or with `--quiet`): a
/// command's own commentary, such as `lore ask`'s footer or a long run's progress.
pub fn info_line(msg: &str) {
    if !quiet() {
        let _ = writeln!(std::io::stderr(), "{}", shown(msg));
    }
}

/// A progress line on stderr: on a terminal one line rewritten in place, elsewhere one line per
/// step (a log keeps each); nothing with `--quiet`.
#[derive(Debug, Default)]
pub struct ProgressLine {
    /// Whether a line is on screen, not yet ended.
    open: bool,
}

impl ProgressLine {
    /// A progress line with nothing shown yet.
    pub fn new() -> Self {
        ProgressLine::default()
    }

    /// Shows `msg` as the current step.
    pub fn show(&mut self, msg: &str) {
        if quiet() {
            return;
        }
        if std::io::stderr().is_terminal() {
            let _ = write!(std::io::stderr(), "\r\x1b[2K{}", shown(msg));
            let _ = std::io::stderr().flush();
            self.open = true;
        } else {
            info_line(msg);
        }
    }

    /// Ends a line left open (before an error or a cancellation is told).
    pub fn close(&mut self) {
        if self.open {
            let _ = writeln!(std::io::stderr());
            self.open = false;
        }
    }

    /// Shows `msg` as the last step and ends the line.
    pub fn finish(&mut self, msg: &str) {
        if quiet() {
            return;
        }
        if self.open {
            let _ = writeln!(std::io::stderr(), "\r\x1b[2K{}", shown(msg));
            self.open = false;
        } else {
            info_line(msg);
        }
    }
}

/// Prints one informational line to stderr (nothing when stderr is closed, or with `--quiet`).
pub fn note_line(msg: &str) {
    if !quiet() {
        let _ = writeln!(std::io::stderr(), "note: {}", shown(msg));
    }
}

/// What the commands say of chunks that are searchable by keywords but still await their vectors
/// (`lore search`, the footer of `lore ask`, `lore doctor`).
pub fn vectors_pending_note(n: u64) -> String {
    format!(
        "{n} chunk{} still await{} {} vector{}: searched by keywords alone until a running `lore add` or \
         `lore sync` embeds them, else the next one (or `lore doctor --repair`)",
        plural(n as usize),
        if n == 1 { "s" } else { "" },
        if n == 1 { "its" } else { "their" },
        plural(n as usize),
    )
}

/// The `--color` choice of this run ([`set_color`]; `auto` until set).
static COLOR: std::sync::OnceLock<crate::cli::ColorChoice> = std::sync::OnceLock::new();

/// Records the `--color` choice; the first call wins.
pub fn set_color(choice: crate::cli::ColorChoice) {
    let _ = COLOR.set(choice);
}

/// Whether colour is wanted where the output is a terminal (`is_tty`): `--color always` or
/// `never` decide; `auto` colours a terminal unless `NO_COLOR` is set to anything non-empty.
pub fn color_for(is_tty: bool) -> bool {
    match COLOR.get().copied().unwrap_or(crate::cli::ColorChoice::Auto) {
        crate::cli::ColorChoice::Always => true,
        crate::cli::ColorChoice::Never => false,
        crate::cli::ColorChoice::Auto => is_tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

/// Whether stdout is coloured ([`color_for`] a terminal stdout).
pub fn stdout_color() -> bool {
    color_for(std::io::stdout().is_terminal())
}

/// Whether progress bars are shown: stderr is a terminal and `--quiet` was not given.
pub fn stderr_is_tty() -> bool {
    !quiet() && std::io::stderr().is_terminal()
}

/// Cuts `s` to at most `max` terminal columns (a Chinese or Japanese character takes two),
/// ending with an ellipsis when cut. Control characters (a tab, a newline) count as a column.
pub fn truncate(s: &str, max: usize) -> String {
    if UnicodeWidthStr::width(s) <= max && !s.chars().any(char::is_control) {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    let total: usize = s.chars().map(columns).sum();
    if total <= max {
        return s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    }
    for c in s.chars() {
        let w = columns(c);
        if used + w + 1 > max {
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
        used += w;
    }
    if max > 0 {
        out.push('…');
    }
    out
}

/// Columns a character takes in a terminal; control characters are shown as one space.
fn columns(c: char) -> usize {
    if c.is_control() { 1 } else { c.width().unwrap_or(0) }
}

/// Pads or cuts `s` to exactly `width` terminal columns.
pub fn cell(s: &str, width: usize) -> String {
    let t = truncate(s, width);
    let n: usize = t.chars().map(columns).sum();
    format!("{t}{}", " ".repeat(width.saturating_sub(n)))
}

/// Prints a value as pretty JSON to stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string_pretty(value)?)?;
    Ok(())
}

/// `"s"` after a count other than one: `format!("{n} file{}", plural(n))`.
pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_on_characters() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("äöü", 3), "äöü");
        assert_eq!(cell("ab", 4), "ab  ");
    }

    #[test]
    fn cells_are_as_wide_as_asked_on_screen_with_wide_characters() {
        use unicode_width::UnicodeWidthStr;
        // Two columns per Chinese character: cut between characters, padded to the width.
        assert_eq!(cell("软件包管理系统", 8), "软件包… ");
        assert_eq!(cell("软件包", 8), "软件包  ");
        assert_eq!(cell("Debian 参考手册 第二版", 12), "Debian 参考…");
        for (s, w) in [("软件包管理系统", 8), ("软件包", 7), ("a软b件", 4), ("Debian 参考手册", 44)]
        {
            assert_eq!(UnicodeWidthStr::width(cell(s, w).as_str()), w, "{s:?} in {w}");
        }
        // A tab or newline in a title takes one column, shown as a space.
        assert_eq!(cell("a\tb", 4), "a b ");
    }
}
