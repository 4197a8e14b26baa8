//! Drawing the state: one module per pane and for the popups. Views only read the [`App`]; the
//! sizes they drew with come back as [`Metrics`] for scrolling and the mouse.

mod conversation;
mod library;
mod popup;
mod sources;
mod status;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};

use super::app::{App, Focus, Metrics};
use super::theme::Theme;

/// Where each part of the screen goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    /// The conversation pane (transcript or results).
    pub conversation: Rect,
    /// The input box below it.
    pub input: Rect,
    /// The sources pane.
    pub sources: Rect,
    /// The library pane.
    pub library: Rect,
    /// The progress gauge, while something is added or removed.
    pub gauge: Option<Rect>,
    /// The message line, while there is a message.
    pub message: Option<Rect>,
    /// The status line.
    pub status: Rect,
}

/// Splits the screen: the conversation on the left with the input below it, sources above the
/// library on the right, then the gauge, message and status lines.
pub fn layout(area: Rect, app: &App) -> Areas {
    let gauge_rows = u16::from(app.ingest.is_some());
    let message_rows = u16::from(app.message.is_some());
    let [main, gauge, message, status] = Layout::vertical([
        Constraint::Min(0),
        Constraint::Length(gauge_rows),
        Constraint::Length(message_rows),
        Constraint::Length(1),
    ])
    .areas(area);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)]).areas(main);
    let [conversation, input] = Layout::vertical([Constraint::Min(3), Constraint::Length(3)]).areas(left);
    let [sources, library] =
        Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(right);
    Areas {
        conversation,
        input,
        sources,
        library,
        gauge: (gauge_rows > 0).then_some(gauge),
        message: (message_rows > 0).then_some(message),
        status,
    }
}

/// Draws the whole screen.
pub fn draw(frame: &mut Frame<'_>, app: &App, theme: &Theme) -> Metrics {
    let areas = layout(frame.area(), app);
    let mut m = Metrics {
        conversation: areas.conversation,
        sources: areas.sources,
        library: areas.library,
        ..Metrics::default()
    };
    conversation::draw(frame, app, theme, &areas, &mut m);
    sources::draw(frame, app, theme, areas.sources, &mut m);
    library::draw(frame, app, theme, areas.library, &mut m);
    status::draw(frame, app, theme, &areas);
    popup::draw(frame, app, theme, &mut m);
    m
}

/// A bordered pane, its border bright when focused.
fn pane<'a>(title: impl Into<Line<'a>>, focused: bool, theme: &Theme) -> Block<'a> {
    let style = if focused { theme.focus_border } else { theme.border };
    Block::bordered().border_style(style).title(title).title_style(if focused {
        theme.focus_border
    } else {
        theme.title
    })
}

fn focused(app: &App, focus: Focus) -> bool {
    app.popup.is_none() && app.focus == focus
}

/// Renders `lines[top..]` into the inside of `block` at `area`.
fn render_lines(frame: &mut Frame<'_>, area: Rect, block: Block<'_>, lines: &[Line<'static>], top: usize) {
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let end = (top + inner.height as usize).min(lines.len());
    let shown: Vec<Line<'static>> = lines.get(top.min(end)..end).map(<[_]>::to_vec).unwrap_or_default();
    frame.render_widget(Paragraph::new(shown), inner);
}

/// Frames of the busy spinner.
const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

fn spinner(app: &App) -> &'static str {
    SPINNER[app.spinner % SPINNER.len()]
}

fn dim_line(text: impl Into<String>, theme: &Theme) -> Line<'static> {
    Line::styled(text.into(), theme.dim)
}

fn styled_line(text: impl Into<String>, style: Style) -> Line<'static> {
    Line::styled(text.into(), style)
}

#[cfg(test)]
mod tests;
