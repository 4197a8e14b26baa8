//! Popups: the keys, delete confirmation, adding a path or URL, past conversations.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::{dim_line, styled_line};
use crate::ui::app::{App, Metrics, Popup};
use crate::ui::keys::HELP;
use crate::ui::text::{LineInput, str_width, truncate, wrap_hanging, wrap_lines};
use crate::ui::theme::Theme;

pub(super) fn draw(frame: &mut Frame<'_>, app: &App, theme: &Theme, m: &mut Metrics) {
    let Some(popup) = &app.popup else { return };
    let area = frame.area();
    let rect = match popup {
        Popup::Help { scroll } => {
            let width = area.width.saturating_sub(4).min(76);
            let lines = help_lines(theme, width.saturating_sub(2) as usize);
            let height = (lines.len() as u16 + 2).min(area.height.saturating_sub(2));
            let rect = centered(area, width, height);
            let block = popup_block(" Keys · j/k scroll · Esc closes ", theme);
            let inner = block.inner(rect);
            let top = (*scroll).min(lines.len().saturating_sub(inner.height as usize));
            let end = (top + inner.height as usize).min(lines.len());
            frame.render_widget(Clear, rect);
            frame.render_widget(Paragraph::new(lines[top..end].to_vec()).block(block), rect);
            m.help_lines = lines.len();
            m.help_height = inner.height as usize;
            rect
        }
        Popup::ConfirmDelete { title, .. } => {
            let width = area.width.saturating_sub(4).min(60);
            let text = vec![
                Line::from(vec![
                    Span::raw("Delete "),
                    Span::styled(title.clone(), theme.title),
                    Span::raw("?"),
                ]),
                dim_line("Its chunks leave the library and its indexes; the file itself stays.", theme),
                Line::default(),
                styled_line("y deletes · n or Esc keeps it", theme.title),
            ];
            let lines = wrap_lines(&text, width.saturating_sub(2) as usize);
            let rect = centered(area, width, lines.len() as u16 + 2);
            frame.render_widget(Clear, rect);
            frame.render_widget(Paragraph::new(lines).block(popup_block(" Delete ", theme)), rect);
            rect
        }
        Popup::Add { input } => {
            let width = area.width.saturating_sub(4).min(72);
            let rect = centered(area, width, 5);
            let block = popup_block(" Add a file or folder, or a web page's URL ", theme);
            let inner = block.inner(rect);
            frame.render_widget(Clear, rect);
            frame.render_widget(block, rect);
            draw_input(frame, input, inner);
            let hint = "Enter adds · Esc cancels · ~ is your home folder · http(s):// fetches";
            let hint_area = Rect { y: inner.y + 2, height: 1, ..inner };
            frame.render_widget(
                Paragraph::new(dim_line(truncate(hint, inner.width as usize), theme)),
                hint_area,
            );
            rect
        }
        Popup::Conversations { items, selected } => {
            let width = area.width.saturating_sub(4).min(90);
            let height = area.height.saturating_sub(4).min(20);
            let rect = centered(area, width, height);
            let block = popup_block(" Past conversations · Enter continues · Esc closes ", theme);
            let inner = block.inner(rect);
            let rows = inner.height as usize;
            m.popup_height = rows;
            let w = inner.width as usize;
            let lines: Vec<Line<'static>> = match items {
                None => vec![dim_line("reading…", theme)],
                Some(list) if list.is_empty() => vec![dim_line("No past conversations yet.", theme)],
                Some(list) => {
                    let first = selected.saturating_sub(rows.saturating_sub(1));
                    list.iter()
                        .enumerate()
                        .skip(first)
                        .take(rows)
                        .map(|(i, c)| {
                            let date = c.updated_at.get(..10).unwrap_or(&c.updated_at);
                            let right = format!("  {} · {date}", crate::ui::text::count(c.turns, "turn"));
                            let left = truncate(
                                &format!("#{} {}", c.id, c.title),
                                w.saturating_sub(str_width(&right)),
                            );
                            let pad = w.saturating_sub(str_width(&left) + str_width(&right));
                            let style = if i == *selected { theme.selected } else { theme.text };
                            Line::from(vec![
                                Span::styled(left, style),
                                Span::styled(" ".repeat(pad), style),
                                Span::styled(right, if i == *selected { theme.selected } else { theme.dim }),
                            ])
                        })
                        .collect()
                }
            };
            frame.render_widget(Clear, rect);
            frame.render_widget(Paragraph::new(lines).block(block), rect);
            rect
        }
    };
    blank_wide_left_of(frame, rect);
}

/// Blanks a wide character whose second half the popup's left border covered: the terminal
/// would draw the character over the border.
fn blank_wide_left_of(frame: &mut Frame<'_>, rect: Rect) {
    let Some(x) = rect.x.checked_sub(1) else { return };
    let buf = frame.buffer_mut();
    for y in rect.top()..rect.bottom() {
        if let Some(cell) = buf.cell_mut((x, y))
            && str_width(cell.symbol()) > 1
        {
            cell.set_symbol(" ");
        }
    }
}

/// The help text, wrapped to `width`.
pub(super) fn help_lines(theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let key_col = 26.min(width / 2);
    let mut raw = Vec::new();
    for (i, (keys, what)) in HELP.iter().enumerate() {
        if keys.is_empty() {
            if i > 0 {
                raw.push(Line::default());
            }
            raw.extend(wrap_lines(&[styled_line(*what, theme.title)], width));
        } else {
            let k = format!("  {keys:<w$}", w = key_col.saturating_sub(2));
            let line = Line::from(vec![Span::styled(k, theme.citation), Span::raw(format!(" {what}"))]);
            raw.extend(wrap_hanging(&line, width, key_col + 1));
        }
    }
    raw
}

fn draw_input(frame: &mut Frame<'_>, input: &LineInput, inner: Rect) {
    let prompt = "› ";
    let (shown, col) = input.visible((inner.width as usize).saturating_sub(str_width(prompt) + 1));
    let line_area = Rect { height: 1, ..inner };
    frame.render_widget(Paragraph::new(Line::from(vec![Span::raw(prompt), Span::raw(shown)])), line_area);
    frame.set_cursor_position(Position { x: inner.x + (str_width(prompt) + col) as u16, y: inner.y });
}

fn popup_block<'a>(title: &'a str, theme: &Theme) -> Block<'a> {
    Block::bordered().title(title).border_style(theme.focus_border).title_style(theme.focus_border)
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [row] =
        Layout::vertical([Constraint::Length(height.min(area.height))]).flex(Flex::Center).areas(area);
    let [rect] =
        Layout::horizontal([Constraint::Length(width.min(area.width))]).flex(Flex::Center).areas(row);
    rect
}
