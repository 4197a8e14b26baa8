//! The library pane: the documents (filtered as the user types), with kind, chunk count and
//! tags; and the feeds, which come with the feed commands.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{dim_line, focused, pane, styled_line};
use crate::ui::app::{App, Editing, FEEDS_HOOK, Focus, Metrics};
use crate::ui::text::{count, str_width, thousands, truncate, wrap_line};
use crate::ui::theme::Theme;

pub(super) fn draw(frame: &mut Frame<'_>, app: &App, theme: &Theme, area: Rect, m: &mut Metrics) {
    let has_focus = focused(app, Focus::Library);
    let lib = &app.library;
    let title = match lib.counts {
        Some((docs, chunks)) => format!(" Library · {} · {} ", count(docs, "doc"), count(chunks, "chunk")),
        None => " Library ".to_string(),
    };
    let block = pane(title, has_focus, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let mut rows: Vec<Line<'static>> = Vec::new();
    let filtering = app.editing == Some(Editing::Filter) && app.popup.is_none();
    if filtering || !lib.filter.is_empty() {
        let (shown, col) = lib.filter.visible(width.saturating_sub(8));
        rows.push(Line::from(vec![Span::styled("filter: ", theme.dim), Span::raw(shown)]));
        if filtering {
            frame.set_cursor_position(Position { x: inner.x + 8 + col as u16, y: inner.y });
        }
    }
    // The last row belongs to the feeds.
    let list_height = (inner.height as usize).saturating_sub(rows.len() + 1);
    m.library_height = list_height;
    let visible = lib.visible();
    if !lib.loaded {
        rows.push(dim_line("reading the library…", theme));
    } else if lib.docs.is_empty() {
        rows.extend(wrap_line(&dim_line("Empty. Press a to add a file or folder.", theme), width));
    } else if visible.is_empty() {
        rows.extend(wrap_line(&dim_line("Nothing matches the filter (Esc clears it).", theme), width));
    } else {
        let sel = lib.selected.min(visible.len() - 1);
        let mut offset = lib.offset.min(sel);
        if sel >= offset + list_height {
            offset = sel + 1 - list_height;
        }
        for (i, d) in visible.iter().enumerate().skip(offset).take(list_height) {
            let right = format!(" {:<5}{:>7}", d.kind, thousands(u64::from(d.chunks)));
            let room = width.saturating_sub(str_width(&right));
            let tags = if d.tags.is_empty() {
                String::new()
            } else {
                format!("  {}", d.tags.iter().map(|t| format!("#{t}")).collect::<Vec<_>>().join(" "))
            };
            let title = truncate(&d.title, room);
            // Tags only when they fit whole.
            let tags = if str_width(&title) + str_width(&tags) <= room { tags } else { String::new() };
            let pad = room.saturating_sub(str_width(&title) + str_width(&tags));
            let selected = i == sel;
            let (t, dim) = if selected { (theme.selected, theme.selected) } else { (theme.text, theme.dim) };
            rows.push(Line::from(vec![
                Span::styled(title, t),
                Span::styled(tags, dim),
                Span::styled(" ".repeat(pad), t),
                Span::styled(right, dim),
            ]));
        }
    }
    let list_end = (inner.height as usize).saturating_sub(1);
    rows.truncate(list_end);
    while rows.len() < list_end {
        rows.push(Line::default());
    }
    if inner.height > 0 {
        rows.push(styled_line(truncate(&format!("Feeds: {FEEDS_HOOK}"), width), theme.dim));
    }
    frame.render_widget(Paragraph::new(rows), inner);
}
