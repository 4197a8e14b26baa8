//! Terminal output helpers: error lines, tables, truncation.

use std::io::IsTerminal;

/// Prints one error line to stderr.
pub fn error_line(msg: &str) {
    eprintln!("error: {msg}");
}

/// Prints one warning line to stderr.
pub fn warn_line(msg: &str) {
    eprintln!("warning: {msg}");
}

/// Whether stderr is a terminal (progress bars only then).
pub fn stderr_is_tty() -> bool {
    std::io::stderr().is_terminal()
}

/// Cuts `s` to at most `max` characters, ending with an ellipsis when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Pads or cuts `s` to exactly `width` characters.
pub fn cell(s: &str, width: usize) -> String {
    let t = truncate(s, width);
    let n = t.chars().count();
    format!("{t}{}", " ".repeat(width.saturating_sub(n)))
}

/// Prints a value as pretty JSON to stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
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
}
