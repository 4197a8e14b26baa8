//! The library pane: a tab row (documents │ feeds), then the list it names, filtered as the user
//! types: documents with kind, chunk count and tags; feeds with their items, unread and new
//! counts and a mark when the last fetch failed; or the items of one feed.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{dim_line, focused, pane};
use crate::ui::app::{App, Editing, Focus, LibraryView, ListPos, Metrics};
use crate::ui::text::{count, str_width, thousands, truncate, wrap_line};
use crate::ui::theme::Theme;
use lore_index::catalog::{DocSummary, Feed};

/// Marks a feed whose last fetch failed.
const FAILED: &str = "✗ ";

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
    let mut rows: Vec<Line<'static>> = vec![tabs(app, theme, width)];
    let filtering = app.editing == Some(Editing::Filter) && app.popup.is_none();
    if filtering || !lib.filter.is_empty() {
        let (shown, col) = lib.filter.visible(width.saturating_sub(8));
        rows.push(Line::from(vec![Span::styled("filter: ", theme.dim), Span::raw(shown)]));
        if filtering {
            let y = inner.y + rows.len() as u16 - 1;
            if y < inner.y + inner.height {
                frame.set_cursor_position(Position { x: inner.x + 8 + col as u16, y });
            }
        }
    }
    if lib.view == LibraryView::Feeds && !lib.visible_feeds().is_empty() {
        rows.push(feed_header(theme, width));
    }
    let list_height = (inner.height as usize).saturating_sub(rows.len());
    m.library_height = list_height;
    let pos = lib.pos();
    let list: Vec<Line<'static>> = if !lib.loaded {
        vec![dim_line("reading the library…", theme)]
    } else {
        match lib.view {
            LibraryView::Documents => {
                let visible = lib.visible();
                if lib.docs.is_empty() {
                    wrap_line(&dim_line("Empty. Press a to add a file, folder or web page.", theme), width)
                } else if visible.is_empty() {
                    nothing_matches(theme, width)
                } else {
                    window(&visible, pos, list_height)
                        .map(|(selected, d)| doc_row(d, &doc_right(d), selected, theme, width))
                        .collect()
                }
            }
            LibraryView::Feeds => {
                let visible = lib.visible_feeds();
                if lib.feeds.is_empty() {
                    wrap_line(
                        &dim_line("No feeds. Subscribe in a shell with `lore feed add URL`.", theme),
                        width,
                    )
                } else if visible.is_empty() {
                    nothing_matches(theme, width)
                } else {
                    window(&visible, pos, list_height)
                        .map(|(selected, f)| feed_row(f, selected, theme, width))
                        .collect()
                }
            }
            LibraryView::Items(id) => match lib.visible_items(id) {
                None => vec![dim_line("reading the feed's items…", theme)],
                Some(items) if items.is_empty() && lib.filter.is_empty() => {
                    wrap_line(&dim_line("No items yet: r refreshes the feeds.", theme), width)
                }
                Some(items) if items.is_empty() => nothing_matches(theme, width),
                Some(items) => window(&items, pos, list_height)
                    .map(|(selected, d)| doc_row(d, &item_right(d), selected, theme, width))
                    .collect(),
            },
        }
    };
    rows.extend(list);
    rows.truncate(inner.height as usize);
    frame.render_widget(Paragraph::new(rows), inner);
}

/// The rows of `items` that fit in `height` rows, keeping the selected one in view, each with
/// whether it is selected.
fn window<'a, T>(items: &'a [T], pos: ListPos, height: usize) -> impl Iterator<Item = (bool, &'a T)> + 'a {
    let sel = pos.selected.min(items.len().saturating_sub(1));
    // No blank rows below the last item while earlier ones are hidden.
    let mut offset = pos.offset.min(sel).min(items.len().saturating_sub(height));
    if height > 0 && sel >= offset + height {
        offset = sel + 1 - height;
    }
    items.iter().enumerate().skip(offset).take(height).map(move |(i, t)| (i == sel, t))
}

fn nothing_matches(theme: &Theme, width: usize) -> Vec<Line<'static>> {
    wrap_line(&dim_line("Nothing matches the filter (Esc clears it).", theme), width)
}

/// The tab row: `Documents │ Feeds 3 · 7 unread`, the list shown highlighted; or, in a feed's
/// items, `‹ Feeds │ name · 12 items`.
fn tabs(app: &App, theme: &Theme, width: usize) -> Line<'static> {
    let lib = &app.library;
    let style = |on: bool| if on { theme.selected } else { theme.dim };
    let sep = Span::styled(" │ ", theme.dim);
    let spans = match lib.view {
        LibraryView::Items(id) => {
            let name = lib.feed(id).map(|f| f.display_name().to_string()).unwrap_or_default();
            let n = lib.visible_items(id).map(|v| format!(" · {}", count(v.len() as u64, "item")));
            let back = "‹ Feeds";
            let room = width.saturating_sub(str_width(back) + 3);
            let label = format!("{name}{}", n.unwrap_or_default());
            let label = if str_width(&label) <= room { label } else { truncate(&name, room) };
            vec![Span::styled(back, theme.dim), sep, Span::styled(label, theme.selected)]
        }
        view => {
            let docs = view == LibraryView::Documents;
            let unread: u64 = lib.feeds.iter().map(|f| u64::from(f.unread)).sum();
            let failed = lib.feeds.iter().any(failed);
            let docs_label = "Documents";
            let mut feeds_label = format!("Feeds {}", lib.feeds.len());
            let room = width.saturating_sub(str_width(docs_label) + 3 + if failed { 2 } else { 0 });
            let with_unread = format!("{feeds_label} · {unread} unread");
            if unread > 0 && str_width(&with_unread) <= room {
                feeds_label = with_unread;
            }
            let mut spans =
                vec![Span::styled(docs_label, style(docs)), sep, Span::styled(feeds_label, style(!docs))];
            if failed {
                spans.push(Span::styled(format!(" {}", FAILED.trim_end()), theme.error));
            }
            spans
        }
    };
    truncate_spans(spans, width)
}

/// The spans cut to `width` columns.
fn truncate_spans(spans: Vec<Span<'static>>, width: usize) -> Line<'static> {
    let mut out = Vec::new();
    let mut room = width;
    for s in spans {
        let w = str_width(&s.content);
        if w <= room {
            room -= w;
            out.push(s);
        } else {
            out.push(Span::styled(truncate(&s.content, room), s.style));
            break;
        }
    }
    Line::from(out)
}

/// The columns of a feed row, right of its name.
fn feed_right(f: &Feed) -> String {
    format!(" {:>5} {:>6} {:>3}", thousands(u64::from(f.items)), thousands(u64::from(f.unread)), f.new)
}

fn feed_header(theme: &Theme, width: usize) -> Line<'static> {
    let right = " items unread new";
    let left = "feed";
    let pad = width.saturating_sub(str_width(left) + str_width(right));
    dim_line(truncate(&format!("{left}{}{right}", " ".repeat(pad)), width), theme)
}

fn failed(f: &Feed) -> bool {
    f.last_status.as_deref() == Some("error")
}

fn feed_row(f: &Feed, selected: bool, theme: &Theme, width: usize) -> Line<'static> {
    let right = feed_right(f);
    let mark = if failed(f) { FAILED } else { "" };
    let room = width.saturating_sub(str_width(&right) + str_width(mark));
    // An untitled feed (never fetched) goes by its URL, without the scheme.
    let name = match f.display_name() {
        name if name == f.url => f.url.split_once("://").map(|(_, rest)| rest).unwrap_or(name),
        name => name,
    };
    let name = truncate(name, room);
    let pad = room.saturating_sub(str_width(&name));
    let (t, dim) = if selected { (theme.selected, theme.selected) } else { (theme.text, theme.dim) };
    let mark_style = if selected { theme.selected } else { theme.error };
    Line::from(vec![
        Span::styled(mark, mark_style),
        Span::styled(name, t),
        Span::styled(" ".repeat(pad), t),
        Span::styled(right, dim),
    ])
}

/// Kind and chunk count, for the documents list.
fn doc_right(d: &DocSummary) -> String {
    format!(" {:<5}{:>7}", d.kind, thousands(u64::from(d.chunks)))
}

/// The date, for a feed's items.
fn item_right(d: &DocSummary) -> String {
    let date = d.published.as_deref().unwrap_or(&d.added_at);
    format!("  {}", date.get(..10).unwrap_or(date))
}

fn doc_row(d: &DocSummary, right: &str, selected: bool, theme: &Theme, width: usize) -> Line<'static> {
    let room = width.saturating_sub(str_width(right));
    let tags = if d.tags.is_empty() {
        String::new()
    } else {
        format!("  {}", d.tags.iter().map(|t| format!("#{t}")).collect::<Vec<_>>().join(" "))
    };
    let title = truncate(&d.title, room);
    // Tags only when they fit whole.
    let tags = if str_width(&title) + str_width(&tags) <= room { tags } else { String::new() };
    let pad = room.saturating_sub(str_width(&title) + str_width(&tags));
    let (t, dim): (Style, Style) =
        if selected { (theme.selected, theme.selected) } else { (theme.text, theme.dim) };
    Line::from(vec![
        Span::styled(title, t),
        Span::styled(tags, dim),
        Span::styled(" ".repeat(pad), t),
        Span::styled(right.to_string(), dim),
    ])
}
