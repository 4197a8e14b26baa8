//! A model caught in a loop: small models sometimes write the same line again and again
//! (`4. **Use apt-mark** [1]`, `5. **Use apt-mark** [1]`, ...) until the answer's token limit.
//! [`RepeatGuard`] watches the answer's lines as they stream and tells when one has come back
//! [`REPEATS`] times, so the stream can be stopped there instead of running on for minutes.
//!
//! Lines are compared without their list numbers, bullets, `[n]` markers, emphasis and spacing;
//! lines shorter than [`MIN_CHARS`] after that ("```", "- yes") and lines inside code blocks
//! (where repeated lines are normal) do not count.

use std::collections::HashMap;

use crate::code_spans::CodeScanner;

/// The `finish_reason` of an answer stopped because the model looped.
pub const FINISH_REASON: &str = "repetition";

/// Times a line must appear for the answer to count as looping.
pub const REPEATS: usize = 3;

/// Characters a line keeps after normalising, at least, to count.
pub const MIN_CHARS: usize = 16;

/// Watches streamed text for a line written [`REPEATS`] times.
#[derive(Debug, Default)]
pub struct RepeatGuard {
    code: CodeScanner,
    line: String,
    line_in_code: bool,
    /// Bytes of text seen before the current line.
    offset: usize,
    /// Each normalised line: where its occurrences start, in bytes of the text pushed.
    seen: HashMap<String, Vec<usize>>,
    /// Where the text should be cut once a loop is found: the start of the looping line's
    /// second occurrence.
    cut: Option<usize>,
}

impl RepeatGuard {
    /// A guard over an empty answer.
    pub fn new() -> Self {
        RepeatGuard::default()
    }

    /// Reads the next piece of the answer; true once a line has appeared [`REPEATS`] times.
    pub fn push(&mut self, piece: &str) -> bool {
        for c in piece.chars() {
            let before = self.code.in_block();
            self.code.step(c);
            if c == '\n' {
                self.end_line();
                self.offset += c.len_utf8();
                continue;
            }
            self.line_in_code |= before || self.code.in_block();
            self.line.push(c);
        }
        self.cut.is_some()
    }

    /// Where to cut the answer so it keeps one copy of the looping line, once a loop is found.
    pub fn cut(&self) -> Option<usize> {
        self.cut
    }

    fn end_line(&mut self) {
        let line = std::mem::take(&mut self.line);
        let start = self.offset;
        self.offset += line.len();
        let in_code = std::mem::take(&mut self.line_in_code);
        if in_code || self.cut.is_some() {
            return;
        }
        let key = normalise(&line);
        if key.chars().count() < MIN_CHARS {
            return;
        }
        let starts = self.seen.entry(key).or_default();
        starts.push(start);
        if starts.len() >= REPEATS {
            self.cut = starts.get(1).copied();
        }
    }
}

/// A line without its list number or bullet, `[n]` markers, emphasis and spacing, lowercased.
fn normalise(line: &str) -> String {
    let t = line.trim_start().trim_start_matches(|c: char| {
        c.is_ascii_digit() || matches!(c, '.' | ')' | '-' | '*' | '+' | '#' | '>' | ' ' | '\t')
    });
    let t = crate::prompt::strip_citations(t);
    t.chars()
        .filter(|c| !matches!(c, '*' | '_' | '`'))
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pushes `text` in pieces of `size` characters; the byte offset of the cut when a loop is
    /// found.
    fn run(text: &str, size: usize) -> Option<usize> {
        let mut g = RepeatGuard::new();
        let chars: Vec<char> = text.chars().collect();
        for piece in chars.chunks(size) {
            if g.push(&piece.iter().collect::<String>()) {
                return g.cut();
            }
        }
        None
    }

    #[test]
    fn a_numbered_line_written_again_and_again_is_a_loop() {
        let text = "查看手动安装的软件包：\n\n1. **使用 apt-mark**：\n   - 可以使用 `apt-get -s autoremove|less` 来查看哪些包是未使用。\n\n\
                    2. **使用 `apt-get -s autoremove|less`**： [1]\n   - 可以使用 `apt-get -s autoremove|less` 来查看哪些包是未使用。\n\n\
                    3. **使用 `apt-get -s autoremove|less`**： [1]\n   - 可以使用 `apt-get -s autoremove|less` 来查看哪些包是未使用。\n\n\
                    4. **使用 `apt-get -s autoremove|less`**： [1]\n";
        for size in [1, 5, 40, 1000] {
            let cut = run(text, size).unwrap_or_else(|| panic!("no loop found in pieces of {size}"));
            // The answer keeps the first copy of the bullet and stops before the second.
            let kept = &text[..cut];
            assert_eq!(kept.matches("来查看哪些包是未使用").count(), 1, "{kept}");
            assert!(kept.ends_with("2. **使用 `apt-get -s autoremove|less`**： [1]\n"), "{kept:?}");
        }
    }

    #[test]
    fn an_answer_that_repeats_a_line_in_code_or_twice_is_no_loop() {
        let code = "Write it like this:\n\n```python\nprint(\"a long line of output here\")\nprint(\"a long line of output here\")\nprint(\"a long line of output here\")\n```\n\nThat prints it three times.\n";
        assert_eq!(run(code, 3), None);
        let twice = "Use apt-mark showmanual to list them [1].\nUse apt-mark showmanual to list them [2].\nThen check each.\n";
        assert_eq!(run(twice, 7), None);
        let short = "- yes\n- yes\n- yes\n- yes\n";
        assert_eq!(run(short, 2), None);
    }
}
