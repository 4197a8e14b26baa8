//! Styles of the terminal UI. Text keeps the terminal's own colours (so it reads on dark and
//! light backgrounds alike); accents use the basic ANSI colours with bold, and highlighted text
//! sets both its colours. With `NO_COLOR` set there is no colour at all: only bold, dim, reverse
//! and underline.

use ratatui::style::{Color, Modifier, Style};

/// The styles the views draw with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Theme {
    /// Ordinary text.
    pub text: Style,
    /// Secondary text: context, hints, metadata.
    pub dim: Style,
    /// Titles and headings.
    pub title: Style,
    /// The border of the focused pane.
    pub focus_border: Style,
    /// Borders of the other panes.
    pub border: Style,
    /// The user's questions.
    pub question: Style,
    /// `[n]` markers in answers.
    pub citation: Style,
    /// Query terms found in a passage.
    pub mark: Style,
    /// The part of a source that best supports the answer's sentences citing it.
    pub quote: Style,
    /// The selected row of a list.
    pub selected: Style,
    /// Error messages.
    pub error: Style,
    /// Notices and other messages.
    pub notice: Style,
    /// The filled part of a progress gauge.
    pub gauge: Style,
    /// The status line.
    pub status: Style,
}

impl Theme {
    /// The theme for this terminal: colourless with `--color never`, or with `--color auto` (the
    /// default) when `NO_COLOR` is set to anything non-empty.
    pub fn from_env() -> Theme {
        if crate::output::color_for(true) { Theme::colored() } else { Theme::plain() }
    }

    /// Colours from the basic ANSI palette.
    pub fn colored() -> Theme {
        let bold = Style::default().add_modifier(Modifier::BOLD);
        Theme {
            text: Style::default(),
            dim: Style::default().add_modifier(Modifier::DIM),
            title: bold,
            focus_border: Style::default().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            border: Style::default().add_modifier(Modifier::DIM),
            question: Style::default().fg(Color::Blue).add_modifier(Modifier::BOLD),
            citation: Style::default().fg(Color::Magenta).add_modifier(Modifier::BOLD),
            mark: Style::default().fg(Color::Black).bg(Color::Yellow),
            quote: Style::default().fg(Color::Green).add_modifier(Modifier::UNDERLINED),
            selected: Style::default().add_modifier(Modifier::REVERSED),
            error: Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
            notice: Style::default().fg(Color::Magenta),
            gauge: Style::default().fg(Color::Cyan),
            status: Style::default().add_modifier(Modifier::REVERSED),
        }
    }

    /// No colour, only text attributes.
    pub fn plain() -> Theme {
        let bold = Style::default().add_modifier(Modifier::BOLD);
        Theme {
            text: Style::default(),
            dim: Style::default().add_modifier(Modifier::DIM),
            title: bold,
            focus_border: bold,
            border: Style::default().add_modifier(Modifier::DIM),
            question: bold,
            citation: bold,
            mark: Style::default().add_modifier(Modifier::REVERSED),
            quote: Style::default().add_modifier(Modifier::UNDERLINED),
            selected: Style::default().add_modifier(Modifier::REVERSED),
            error: bold,
            notice: Style::default().add_modifier(Modifier::ITALIC),
            gauge: Style::default().add_modifier(Modifier::REVERSED),
            status: Style::default().add_modifier(Modifier::REVERSED),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_theme_has_no_colour() {
        let t = Theme::plain();
        for s in [
            t.text,
            t.dim,
            t.title,
            t.focus_border,
            t.border,
            t.question,
            t.citation,
            t.mark,
            t.selected,
            t.error,
            t.notice,
            t.gauge,
            t.status,
        ] {
            assert_eq!((s.fg, s.bg), (None, None), "{s:?}");
        }
        assert_ne!(Theme::colored(), t);
    }
}
