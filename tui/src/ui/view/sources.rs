//! The sources pane: the sources of the last answer as `[n]` lines, and for the selected one (or
//! the selected search result, or a library document) its title, where it is, and the chunk with
//! the query's words marked and a little of the text around it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::{dim_line, focused, pane, styled_line};
use crate::ui::app::{App, Focus, Metrics, SourceQuote, Subject};
use crate::ui::text::{
    head_width, highlighted, query_terms, tail_width, term_ranges, thousands, truncate, wrap_lines,
};
use crate::ui::theme::Theme;

/// Most columns of the chunk before a cited chunk shown above it (at most one line).
const BEFORE_WIDTH: usize = 100;
/// Columns of the chunk after a cited chunk shown below it.
const AFTER_WIDTH: usize = 200;
/// Most `[n]` lines listed above the detail.
const LIST_ROWS: usize = 5;

pub(super) fn draw(frame: &mut Frame<'_>, app: &App, theme: &Theme, area: Rect, m: &mut Metrics) {
    let has_focus = focused(app, Focus::Sources);
    let block = pane(title(app), has_focus, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let list = list_lines(app, theme, width);
    let list_rows = if list.is_empty() { 0 } else { (list.len() + 1).min(inner.height as usize / 2) as u16 };
    let [list_area, detail_area] =
        Layout::vertical([Constraint::Length(list_rows), Constraint::Min(0)]).areas(inner);
    if list_rows > 0 {
        let mut shown = list;
        shown.truncate(list_rows.saturating_sub(1) as usize);
        shown.push(dim_line("─".repeat(width), theme));
        frame.render_widget(Paragraph::new(shown), list_area);
    }
    let (lines, quote_line) = detail_lines_and_quote(app, theme, width);
    let height = detail_area.height as usize;
    // A source just selected opens at its quote (the line before it kept for context), until
    // the user scrolls.
    let wanted = match quote_line {
        Some(l) if app.detail_at_quote => l.saturating_sub(1),
        _ => app.detail_scroll,
    };
    let top = wanted.min(lines.len().saturating_sub(height));
    let end = (top + height).min(lines.len());
    frame.render_widget(Paragraph::new(lines[top..end].to_vec()), detail_area);
    m.detail_lines = lines.len();
    m.detail_height = height;
    m.detail_top = top;
}

fn title(app: &App) -> Line<'static> {
    match app.subject {
        Subject::Citations => {
            let n = app.current_turn().map(|t| t.sources.len()).unwrap_or(0);
            if n == 0 {
                Line::from(" Sources ")
            } else {
                Line::from(format!(" Sources {}/{n} ", app.conversation.selected_source + 1))
            }
        }
        Subject::Hit => Line::from(" Source of the result "),
        Subject::Document(_) => Line::from(" Document "),
        Subject::Feed(_) => Line::from(" Feed "),
    }
}

/// The `[n]` lines of the last answer, the selected one marked, scrolled to keep it in view.
fn list_lines(app: &App, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    if app.subject != Subject::Citations {
        return Vec::new();
    }
    let Some(turn) = app.current_turn() else { return Vec::new() };
    let sel = app.conversation.selected_source;
    let first = sel.saturating_sub(LIST_ROWS - 1);
    turn.sources
        .iter()
        .enumerate()
        .skip(first)
        .take(LIST_ROWS)
        .map(|(i, c)| {
            let text = truncate(&format!("[{}] {}", c.n, c.title), width);
            let style = if i == sel { theme.selected } else { theme.text };
            styled_line(text, style)
        })
        .collect()
}

/// The detail of what is shown, wrapped to `width`, and the line where the selected source's
/// quote (the part supporting the answer) starts, when one is shown.
fn detail_lines_and_quote(app: &App, theme: &Theme, width: usize) -> (Vec<Line<'static>>, Option<usize>) {
    let mut raw: Vec<Line<'static>> = Vec::new();
    let mut quote_at: Option<usize> = None;
    let ctx = app.subject_context();
    match app.subject {
        Subject::Citations => {
            let Some(c) = app.selected_source() else {
                raw.push(dim_line(
                    "No sources yet. Ask a question, or press / (after Esc) to search.",
                    theme,
                ));
                return (wrap_lines(&raw, width), None);
            };
            // The title is on the selected [n] line above.
            let mut loc: Vec<String> = Vec::new();
            loc.extend(c.page.clone());
            let prefix = format!("{} > ", c.title);
            loc.extend(c.section.as_ref().map(|s| s.strip_prefix(&prefix).unwrap_or(s).to_string()));
            raw.extend((!loc.is_empty()).then(|| dim_line(loc.join(" · "), theme)));
            raw.push(dim_line(c.url.clone().unwrap_or_else(|| c.source.clone()), theme));
            if c.inferred {
                raw.push(dim_line(
                    "(the model did not cite this source; lore attributed it by overlap)",
                    theme,
                ));
            }
            let terms = app.current_turn().map(|t| query_terms(t.search_query())).unwrap_or_default();
            let shown = ctx.and_then(|x| x.chunk.as_ref());
            let text = shown.map(|ch| ch.text.clone()).unwrap_or_else(|| c.text.clone());
            let shown_id = shown.map_or(c.chunk_id, |ch| ch.id);
            let quote = app.current_turn().and_then(|t| {
                let mine = || t.quotes.iter().filter(|q| q.n == c.n);
                // A quote recorded in the chunk shown first, then any found in its text.
                mine()
                    .filter(|q| q.chunk_id == Some(shown_id))
                    .chain(mine())
                    .find_map(|q| quote_range(&text, q, shown_id))
            });
            if quote.is_some() {
                raw.push(dim_line("(underlined: what supports the answer's sentences citing it)", theme));
            }
            quote_at = passage(
                &mut raw,
                theme,
                width,
                ctx.and_then(|x| x.before.as_deref()),
                &text,
                ctx.and_then(|x| x.after.as_deref()),
                &terms,
                quote,
            );
        }
        Subject::Hit => {
            let Some(h) = app.search.selected_hit() else {
                raw.push(dim_line("No result selected.", theme));
                return (wrap_lines(&raw, width), None);
            };
            raw.push(styled_line(h.title.clone(), theme.title));
            let mut loc: Vec<String> = Vec::new();
            loc.extend(h.chunk.location());
            let path: Vec<&str> =
                h.chunk.heading_path.iter().map(String::as_str).skip_while(|p| *p == h.title).collect();
            if !path.is_empty() {
                loc.push(path.join(" > "));
            }
            raw.extend((!loc.is_empty()).then(|| dim_line(loc.join(" · "), theme)));
            raw.push(dim_line(h.url.clone().unwrap_or_else(|| h.source.clone()), theme));
            let terms = query_terms(app.search.input.text());
            passage(
                &mut raw,
                theme,
                width,
                ctx.and_then(|x| x.before.as_deref()),
                &h.chunk.text,
                ctx.and_then(|x| x.after.as_deref()),
                &terms,
                None,
            );
        }
        Subject::Document(id) => {
            let Some(d) = app.library.docs.iter().find(|d| d.id == id) else {
                raw.push(dim_line("The document is no longer in the library.", theme));
                return (wrap_lines(&raw, width), None);
            };
            raw.push(styled_line(d.title.clone(), theme.title));
            let mut facts = vec![d.kind.clone()];
            facts.extend(d.page_count.map(|p| format!("{p} pages")));
            facts.push(format!("{} chunks", thousands(u64::from(d.chunks))));
            facts.push(format!("{} sections", d.sections));
            raw.push(dim_line(facts.join(" · "), theme));
            if !d.authors.is_empty() {
                raw.push(dim_line(format!("by {}", d.authors.join(", ")), theme));
            }
            if !d.tags.is_empty() {
                raw.push(dim_line(
                    d.tags.iter().map(|t| format!("#{t}")).collect::<Vec<_>>().join(" "),
                    theme,
                ));
            }
            raw.push(dim_line(d.url.clone().unwrap_or_else(|| d.source.clone()), theme));
            let day = |t: &str| t.get(..10).unwrap_or(t).to_string();
            let mut dates = Vec::new();
            dates.extend(d.published.as_deref().map(|p| format!("published {}", day(p))));
            dates.push(format!("added {}", day(&d.added_at)));
            raw.push(dim_line(dates.join(" · "), theme));
            raw.push(Line::default());
            match ctx.and_then(|x| x.chunk.as_ref()) {
                Some(ch) => {
                    for l in ch.text.lines() {
                        raw.push(Line::raw(l.to_string()));
                    }
                }
                None => raw.push(dim_line("…", theme)),
            }
        }
        Subject::Feed(id) => feed_lines(app, theme, id, &mut raw),
    }
    let quote_line = quote_at.map(|i| wrap_lines(&raw[..i.min(raw.len())], width).len());
    (wrap_lines(&raw, width), quote_line)
}

/// Where `quote` stands in `text` (the chunk `chunk_id`, or the source's own text), as a byte
/// range: at its recorded character span when that is this chunk and still holds the quote,
/// else wherever the quote's text is found.
fn quote_range(text: &str, quote: &SourceQuote, chunk_id: i64) -> Option<(usize, usize)> {
    if quote.text.is_empty() {
        return None;
    }
    let byte_at = |chars: usize| text.char_indices().map(|(b, _)| b).chain([text.len()]).nth(chars);
    let at_span = quote
        .span
        .filter(|_| quote.chunk_id == Some(chunk_id))
        .and_then(|(a, b)| Some((byte_at(a)?, byte_at(b)?)))
        .filter(|&(a, b)| text.get(a..b) == Some(quote.text.as_str()));
    at_span.or_else(|| text.find(&quote.text).map(|a| (a, a + quote.text.len())))
}

/// A feed: where it is, how its last fetch went (the whole error line when it failed), its
/// counts and settings, and its newest items.
fn feed_lines(app: &App, theme: &Theme, id: i64, raw: &mut Vec<Line<'static>>) {
    let Some(f) = app.library.feed(id) else {
        raw.push(dim_line("The feed is no longer subscribed.", theme));
        return;
    };
    raw.push(styled_line(f.display_name().to_string(), theme.title));
    if f.display_name() != f.url {
        raw.push(dim_line(f.url.clone(), theme));
    }
    if let Some(site) = f.site_url.as_ref().filter(|s| **s != f.url) {
        raw.push(dim_line(site.clone(), theme));
    }
    raw.push(dim_line(
        format!("{} items · {} unread · {} new in the last refresh", f.items, f.unread, f.new),
        theme,
    ));
    if !f.tags.is_empty() {
        raw.push(dim_line(f.tags.iter().map(|t| format!("#{t}")).collect::<Vec<_>>().join(" "), theme));
    }
    let mut settings = vec![format!("full text: {}", f.full_text.as_str())];
    settings.extend(f.keep_items.map(|n| format!("keeps {n} items")));
    settings.extend(f.keep_days.map(|d| format!("keeps {d} days")));
    raw.push(dim_line(settings.join(" · "), theme));
    match (f.last_fetch_at.as_deref(), f.last_status.as_deref()) {
        (None, _) => raw.push(dim_line("never fetched: r refreshes", theme)),
        (Some(at), status) => {
            // To the minute.
            let at = at.get(..16).unwrap_or(at).replace('T', " ");
            if status == Some("error") {
                let error = f.last_error.as_deref().unwrap_or("unknown error");
                raw.push(styled_line(format!("✗ last fetch {at} failed: {error}"), theme.error));
            } else {
                let how = if status == Some("not-modified") { "not modified" } else { "ok" };
                raw.push(dim_line(format!("last fetch {at}: {how}"), theme));
            }
        }
    }
    raw.push(Line::default());
    let items = app.library.feed_items.as_ref().filter(|i| i.feed_id == id);
    match items {
        None => raw.push(dim_line("…", theme)),
        Some(items) if items.docs.is_empty() => raw.push(dim_line("No items in the library.", theme)),
        Some(items) => {
            raw.push(styled_line("Newest items (Enter lists them):", theme.title));
            let titles = items
                .docs
                .iter()
                .filter_map(|d| app.library.docs.iter().find(|x| x.id == *d))
                .take(FEED_ITEMS_SHOWN)
                .map(|d| Line::raw(format!("· {}", d.title)));
            raw.extend(titles);
        }
    }
}

/// Items of a feed listed in the sources pane.
const FEED_ITEMS_SHOWN: usize = 20;

/// The chunk with the query's words marked, between the end of the chunk before and the start
/// of the chunk after (dimmed).
/// `quote` (a byte range of `text`) is underlined; returns the index in `raw` of the line where
/// it starts.
#[allow(clippy::too_many_arguments)]
fn passage(
    raw: &mut Vec<Line<'static>>,
    theme: &Theme,
    width: usize,
    before: Option<&str>,
    text: &str,
    after: Option<&str>,
    terms: &[String],
    quote: Option<(usize, usize)>,
) -> Option<usize> {
    raw.push(Line::default());
    if let Some(b) = before.filter(|b| !b.trim().is_empty()) {
        for l in tail_width(b.trim(), BEFORE_WIDTH.min(width.saturating_sub(2))).lines() {
            raw.push(dim_line(l.to_string(), theme));
        }
    }
    let mut quote_at = None;
    let mut offset = 0;
    for line in text.split('\n') {
        let (start, end) = (offset, offset + line.len());
        offset = end + 1;
        let l = line.strip_suffix('\r').unwrap_or(line);
        // The part of this line inside the quote, relative to the line.
        let inside = quote
            .map(|(a, b)| (a.max(start) - start, b.min(start + l.len()).saturating_sub(start)))
            .filter(|(a, b)| a < b && l.is_char_boundary(*a) && l.is_char_boundary(*b));
        let spans = match inside {
            Some((a, b)) => {
                quote_at.get_or_insert(raw.len());
                let mut spans = Vec::new();
                for (piece, base) in [(&l[..a], theme.text), (&l[a..b], theme.quote), (&l[b..], theme.text)] {
                    spans.extend(highlighted(piece, &term_ranges(piece, terms), base, theme.mark));
                }
                spans
            }
            None => highlighted(l, &term_ranges(l, terms), theme.text, theme.mark),
        };
        raw.push(Line::from(spans));
    }
    if let Some(a) = after.filter(|a| !a.trim().is_empty()) {
        for l in head_width(a.trim(), AFTER_WIDTH).lines() {
            raw.push(dim_line(l.to_string(), theme));
        }
    }
    quote_at
}
