//! Where Markdown code is in a streamed answer: fenced blocks (```` ``` ```` or `~~~`), indented
//! blocks (four spaces or a tab, after a blank line) and inline spans (`` `...` ``). Citation
//! markers are neither read nor inserted there: `a[1]` in code is an index, not a citation.

/// Tells, one character at a time, whether a character of Markdown text is code.
#[derive(Debug, Clone)]
pub struct CodeScanner {
    fence: Option<char>,
    inline: bool,
    indented: bool,
    line_started: bool,
    leading: usize,
    line_blank: bool,
    prev_blank: bool,
    prev_code: bool,
    run_char: Option<char>,
    run: usize,
    run_at_line_start: bool,
}

impl Default for CodeScanner {
    fn default() -> Self {
        CodeScanner {
            fence: None,
            inline: false,
            indented: false,
            line_started: false,
            leading: 0,
            line_blank: true,
            // The start of the text counts as after a blank line.
            prev_blank: true,
            prev_code: false,
            run_char: None,
            run: 0,
            run_at_line_start: false,
        }
    }
}

impl CodeScanner {
    /// A scanner at the start of a text.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the text is inside a fenced or indented block now.
    pub fn in_block(&self) -> bool {
        self.fence.is_some() || self.indented
    }

    /// Takes the next character; true when it is code (or a code delimiter).
    pub fn step(&mut self, c: char) -> bool {
        // A run of backticks or tildes ends at the first other character.
        if self.run_char.is_some_and(|r| r != c) {
            self.end_run();
        }
        if c == '\n' {
            let code = self.in_block();
            self.prev_blank = self.line_blank;
            self.prev_code = self.indented;
            self.line_started = false;
            self.leading = 0;
            self.line_blank = true;
            self.inline = false;
            self.indented = false;
            return code;
        }
        let first_on_line = !self.line_started && c != ' ' && c != '\t';
        if !self.line_started {
            match c {
                ' ' => self.leading += 1,
                '\t' => self.leading += 4,
                _ => {
                    self.line_started = true;
                    self.line_blank = false;
                }
            }
            if self.fence.is_none() && self.leading >= 4 && (self.prev_blank || self.prev_code) {
                self.indented = true;
            }
            if !self.line_started {
                return self.in_block();
            }
        }
        if self.indented {
            return true;
        }
        if c == '`' || c == '~' {
            if self.run_char.is_none() {
                self.run_at_line_start = first_on_line && self.leading <= 3;
            }
            self.run_char = Some(c);
            self.run += 1;
            return true;
        }
        self.fence.is_some() || self.inline
    }

    fn end_run(&mut self) {
        let (Some(ch), n) = (self.run_char.take(), std::mem::take(&mut self.run)) else { return };
        if n >= 3 && self.run_at_line_start {
            match self.fence {
                Some(open) if open == ch => self.fence = None,
                None => self.fence = Some(ch),
                Some(_) => {}
            }
            self.inline = false;
        } else if ch == '`' && self.fence.is_none() {
            self.inline = !self.inline;
        }
        self.run_at_line_start = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The characters of `text` that are code, as a string of `c` (code) and `.` (text).
    fn classes(text: &str) -> String {
        let mut s = CodeScanner::new();
        text.chars().map(|c| if s.step(c) { 'c' } else { '.' }).collect()
    }

    fn code_of(text: &str) -> String {
        let mut s = CodeScanner::new();
        text.chars().filter(|c| s.step(*c)).collect()
    }

    #[test]
    fn fenced_blocks_are_code_until_they_close() {
        let text = "Run:\n```sh\napt install x[1]\n```\nThen [2].";
        assert_eq!(code_of(text), "```sh\napt install x[1]\n```");
        assert!(classes(text).ends_with("........."), "{}", classes(text));
    }

    #[test]
    fn inline_spans_and_indented_blocks_are_code() {
        assert_eq!(code_of("Use `a[1]` here [2]."), "`a[1]`");
        // The fourth space makes the line code.
        assert_eq!(code_of("Example:\n\n    x = a[1]\n\nDone [1]."), " x = a[1]\n");
        // Indented text right after a line of prose is a continuation, not code.
        assert_eq!(code_of("1. First\n    more [1]."), "");
        assert_eq!(code_of("~~~\nb[0]\n~~~\nok"), "~~~\nb[0]\n~~~");
    }
}
