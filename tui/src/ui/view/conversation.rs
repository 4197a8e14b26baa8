//! The conversation pane: the transcript with citations as `[n]`, or live search results; and
//! the input line below it.

use ratatui::Frame;
use ratatui::layout::Position;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::{Areas, dim_line, focused, pane, render_lines, spinner, styled_line};
use crate::ui::app::{App, Editing, Focus, MainView, Metrics, TurnState};
use crate::ui::text::{highlighted, one_line, str_width, truncate, with_citations, wrap_hanging, wrap_lines};
use crate::ui::theme::Theme;

pub(super) fn draw(frame: &mut Frame<'_>, app: &App, theme: &Theme, areas: &Areas, m: &mut Metrics) {
    let has_focus = focused(app, Focus::Conversation);
    let area = areas.conversation;
    let inner_width = area.width.saturating_sub(2) as usize;
    let height = area.height.saturating_sub(2) as usize;
    match app.view {
        MainView::Conversation => {
            let lines = transcript(app, theme, inner_width);
            let top = app.conversation.scroll.top_for(lines.len(), height);
            let mut title = vec![Span::raw(" Conversation ")];
            if let Some(id) = app.conversation.id {
                title.push(Span::styled(format!("#{id} "), theme.dim));
            }
            if !app.conversation.scroll.follow && lines.len() > height {
                title.push(Span::styled(format!("{}/{} ", top + height, lines.len()), theme.dim));
            }
            render_lines(frame, area, pane(Line::from(title), has_focus, theme), &lines, top);
            m.main_lines = lines.len();
        }
        MainView::Search => {
            let (lines, selected) = results(app, theme, inner_width);
            let top = match selected {
                Some((_, end)) if end > height => end - height,
                _ => 0,
            };
            render_lines(frame, area, pane(search_title(app), has_focus, theme), &lines, top);
            m.main_lines = lines.len();
        }
    }
    m.main_height = height;
    input(frame, app, theme, areas);
}

/// The transcript, wrapped to `width`.
pub(super) fn transcript(app: &App, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let mut raw: Vec<Line<'static>> = Vec::new();
    if app.conversation.turns.is_empty() {
        raw.push(Line::default());
        if app.library.loaded && app.library.docs.is_empty() {
            raw.push(styled_line("Your library is empty.", theme.title));
            raw.push(dim_line(format!("It lives in {}.", app.settings.home), theme));
            raw.push(Line::default());
            raw.push(dim_line(
                "Press Esc, then Tab twice to reach the library, and a to add a file, folder or web page.",
                theme,
            ));
        } else {
            raw.push(styled_line("Ask anything about your documents.", theme.title));
            raw.push(Line::default());
            raw.push(dim_line(
                "Type a question below and press Enter: the answer streams in, citing its sources as [n].",
                theme,
            ));
            raw.push(dim_line("Esc stops typing; then / searches, ? lists every key.", theme));
        }
        return wrap_lines(&raw, width);
    }
    let last = app.conversation.turns.len() - 1;
    let mut out: Vec<Line<'static>> = Vec::new();
    for (i, turn) in app.conversation.turns.iter().enumerate() {
        let question = Line::from(vec![
            Span::styled("› ", theme.question),
            Span::styled(turn.question.clone(), theme.question),
        ]);
        out.extend(wrap_lines(&std::mem::take(&mut raw), width));
        out.extend(wrap_hanging(&question, width, 2));
        if let Some(q) = &turn.query {
            raw.push(dim_line(format!("  searched for: {q}"), theme));
        }
        if turn.research && !turn.plan.is_empty() {
            raw.push(dim_line("  research plan:", theme));
            for (n, s) in turn.plan.iter().enumerate() {
                raw.push(dim_line(format!("    {}. {s}", n + 1), theme));
            }
        }
        if !turn.text.is_empty() {
            for para in turn.text.lines() {
                raw.push(Line::from(with_citations(para, theme.text, theme.citation)));
            }
        }
        match &turn.state {
            TurnState::Searching | TurnState::Streaming
                if turn.text.is_empty() && turn.progress.is_some() =>
            {
                let p = turn.progress.as_deref().unwrap_or_default();
                raw.push(dim_line(format!("{} {p}", spinner(app)), theme))
            }
            TurnState::Searching => {
                raw.push(dim_line(format!("{} searching the library…", spinner(app)), theme))
            }
            TurnState::Streaming if turn.text.is_empty() => {
                raw.push(dim_line(format!("{} waiting for the model…", spinner(app)), theme))
            }
            TurnState::Streaming => raw.push(dim_line(spinner(app), theme)),
            TurnState::Cancelled => raw.push(dim_line("(cancelled)", theme)),
            TurnState::Failed(e) => raw.push(styled_line(format!("✗ {e}"), theme.error)),
            TurnState::Done => {
                if i == last && !turn.sources.is_empty() && !turn.text.contains('[') {
                    raw.push(dim_line("(no source cited; the sources pane lists what was searched)", theme));
                }
                if !turn.related.is_empty() {
                    raw.push(dim_line(format!("  related reading: {}", turn.related.join(" · ")), theme));
                }
            }
        }
        if i != last {
            raw.push(Line::default());
        }
    }
    out.extend(wrap_lines(&raw, width));
    out
}

fn search_title(app: &App) -> Line<'static> {
    let s = &app.search;
    let mut t = String::from(" Search ");
    if s.running() {
        t.push_str(&format!("{} searching… ", spinner(app)));
    } else if !s.input.text().trim().is_empty() && s.error.is_none() {
        t.push_str(&format!("· {} results ", s.hits.len()));
        if let Some(ms) = s.took_ms {
            t.push_str(&format!("· {ms:.0} ms "));
        }
    }
    Line::from(t)
}

/// The results, wrapped to `width`, and the line span of the selected one.
pub(super) fn results(
    app: &App,
    theme: &Theme,
    width: usize,
) -> (Vec<Line<'static>>, Option<(usize, usize)>) {
    let s = &app.search;
    let mut lines: Vec<Line<'static>> = Vec::new();
    if s.input.text().trim().is_empty() {
        lines.push(dim_line(
            "Type to search the library: keyword and meaning together, updated as you type.",
            theme,
        ));
        lines
            .push(dim_line("Up/Down choose a result, Enter goes to the list, Esc closes the search.", theme));
        return (wrap_lines(&lines, width), None);
    }
    if let Some(e) = &s.error {
        lines.push(styled_line(format!("✗ {e}"), theme.error));
        return (wrap_lines(&lines, width), None);
    }
    if s.hits.is_empty() {
        let text = if s.running() { "searching…" } else { "No results." };
        lines.push(dim_line(text, theme));
        return (lines, None);
    }
    let mut selected = None;
    for (i, hit) in s.hits.iter().enumerate() {
        let start = lines.len();
        let mut head = format!("{:>2}. {}", hit.rank, hit.title);
        // Where in the document: the page, else the innermost heading.
        let section = hit.chunk.heading_path.last().filter(|h| **h != hit.title).cloned();
        let loc = hit.chunk.location().or(section);
        if let Some(loc) = loc {
            head.push_str(&format!(" — {loc}"));
        }
        let style = if i == s.selected { theme.selected } else { theme.title };
        lines.push(styled_line(truncate(&head, width), style));
        let snippet = one_line(&s.hits[i].snippet);
        let ranges = shift_ranges(&hit.snippet, &snippet, &hit.highlights);
        let body = Line::from(
            std::iter::once(Span::raw("    "))
                .chain(highlighted(&snippet, &ranges, theme.text, theme.mark))
                .collect::<Vec<_>>(),
        );
        let mut wrapped = wrap_hanging(&body, width, 4);
        wrapped.truncate(2);
        lines.extend(wrapped);
        if i == s.selected {
            selected = Some((start, lines.len()));
        }
    }
    (lines, selected)
}

/// Highlight ranges of `original` moved onto its one-line form `flat` (whitespace runs
/// collapsed, ends trimmed).
fn shift_ranges(original: &str, flat: &str, ranges: &[(usize, usize)]) -> Vec<(usize, usize)> {
    // Map every byte offset of `original` to the offset in `flat`.
    let mut map = vec![0usize; original.len() + 1];
    let mut out_len = 0usize;
    let mut pending_space = false;
    let mut started = false;
    for (i, c) in original.char_indices() {
        if c.is_whitespace() {
            if started {
                pending_space = true;
            }
            map[i] = out_len;
            continue;
        }
        if pending_space {
            out_len += 1;
            pending_space = false;
        }
        started = true;
        for k in 0..c.len_utf8() {
            map[i + k] = out_len + k;
        }
        out_len += c.len_utf8();
    }
    map[original.len()] = out_len;
    ranges
        .iter()
        .filter(|&&(a, b)| a < b && b <= original.len())
        .map(|&(a, b)| (map[a], map[b].min(flat.len())))
        .filter(|&(a, b)| a < b)
        .collect()
}

fn input(frame: &mut Frame<'_>, app: &App, theme: &Theme, areas: &Areas) {
    let area = areas.input;
    let typing =
        app.popup.is_none() && matches!(app.editing, Some(Editing::Question) | Some(Editing::Search));
    let searching = app.view == MainView::Search;
    let title = if searching {
        " Search "
    } else if app.research {
        " Research (Ctrl-R: answers) "
    } else {
        " Ask "
    };
    let block: Block<'_> = pane(title, typing, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let (prompt, line) = if searching { ("/ ", &app.search.input) } else { ("› ", &app.question) };
    let width = (inner.width as usize).saturating_sub(str_width(prompt));
    if line.is_empty() && !typing {
        let hint = if searching {
            "Enter opens the result · / edits the search · Esc closes it"
        } else if app.library.loaded && app.library.docs.is_empty() {
            "add documents first (library pane, a)"
        } else {
            "Enter to type a question · / to search"
        };
        let text = format!("{prompt}{}", truncate(hint, width));
        frame.render_widget(Paragraph::new(Line::styled(text, theme.dim)), inner);
        return;
    }
    let (shown, col) = line.visible(width);
    frame.render_widget(
        Paragraph::new(Line::from(vec![Span::styled(prompt, theme.dim), Span::raw(shown)])),
        inner,
    );
    if typing {
        frame.set_cursor_position(Position { x: inner.x + (str_width(prompt) + col) as u16, y: inner.y });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_follow_whitespace_collapsing() {
        let original = "  The  GIL\nis a   lock ";
        let flat = one_line(original);
        assert_eq!(flat, "The GIL is a lock");
        let gil = original.find("GIL").unwrap();
        let lock = original.find("lock").unwrap();
        let r = shift_ranges(original, &flat, &[(gil, gil + 3), (lock, lock + 4)]);
        let found: Vec<&str> = r.iter().map(|&(a, b)| &flat[a..b]).collect();
        assert_eq!(found, vec!["GIL", "lock"]);
    }
}
