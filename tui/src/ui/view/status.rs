//! The bottom lines: the progress gauge of an add, a removal or a feed refresh, the message line,
//! and the status line (what runs, the model, the library's size, the keys to know).

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph};

use super::{Areas, spinner};
use crate::ui::app::{App, EngineState, Focus, LibraryView, MainView, TurnState};
use crate::ui::text::{count, str_width, truncate, truncate_left};
use crate::ui::theme::Theme;

pub(super) fn draw(frame: &mut Frame<'_>, app: &App, theme: &Theme, areas: &Areas) {
    if let (Some(area), Some(p)) = (areas.gauge, &app.ingest) {
        let ratio = if p.total == 0 {
            0.0
        } else {
            let part = p
                .embedding
                .or(p.items)
                .or(p.ocr)
                .map(|(d, t)| if t == 0 { 0.0 } else { d as f64 / t as f64 })
                .unwrap_or(0.0);
            ((p.done as f64 + part) / p.total as f64).clamp(0.0, 1.0)
        };
        let label = if p.waiting {
            format!("{} · waiting for a search to finish", p.verb)
        } else if p.total == 0 {
            format!("{} {}", p.verb, p.current)
        } else {
            let mut l = format!("{} {}/{} · ", p.verb, (p.done + 1).min(p.total), p.total);
            if let Some((d, t)) = p.embedding {
                l.push_str(&format!("embedding {d}/{t} · "));
            }
            if let Some((d, t)) = p.ocr {
                l.push_str(&format!("OCR page {d}/{t} · "));
            }
            if let Some((d, t)) = p.items {
                l.push_str(&format!("items {d}/{t} · "));
            }
            if p.failed > 0 {
                l.push_str(&format!("{} failed · ", p.failed));
            }
            let room = (area.width as usize).saturating_sub(str_width(&l) + 2);
            l.push_str(&truncate_left(&p.current, room));
            l
        };
        frame.render_widget(
            Gauge::default().ratio(ratio).label(label).gauge_style(theme.gauge).use_unicode(true),
            area,
        );
    }
    if let (Some(area), Some(msg)) = (areas.message, &app.message) {
        let (mark, style) = if msg.error { ("✗ ", theme.error) } else { ("· ", theme.notice) };
        let hint = " (Esc)";
        let room = (area.width as usize).saturating_sub(str_width(mark) + hint.len());
        let text = truncate(&crate::ui::text::one_line(&msg.text), room);
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(mark, style),
                Span::styled(text, style),
                Span::styled(hint, theme.dim),
            ])),
            area,
        );
    }
    status_line(frame, app, theme, areas);
}

fn activity(app: &App) -> String {
    if let Some(turn) = app.answering.and_then(|_| app.current_turn()) {
        return match turn.state {
            TurnState::Searching => format!("{} searching the library", spinner(app)),
            _ => format!("{} answering (Esc cancels)", spinner(app)),
        };
    }
    if let Some(p) = &app.ingest {
        return format!(
            "{} {} {}/{}",
            spinner(app),
            p.verb,
            (p.done + 1).min(p.total.max(1)),
            p.total.max(1)
        );
    }
    if app.view == MainView::Search && app.search.running() {
        return format!("{} searching", spinner(app));
    }
    match &app.engine {
        EngineState::Opening => format!("{} opening the library", spinner(app)),
        EngineState::Ready => "ready".to_string(),
        EngineState::Unavailable(_) if app.library.loaded && app.library.docs.is_empty() => {
            "library empty".into()
        }
        EngineState::Unavailable(_) => "search unavailable".into(),
    }
}

fn status_line(frame: &mut Frame<'_>, app: &App, theme: &Theme, areas: &Areas) {
    let width = areas.status.width as usize;
    let mut left = format!(" {} · {}", activity(app), app.settings.model);
    if let Some((docs, chunks)) = app.library.counts {
        left.push_str(&format!(" · {}, {}", count(docs, "doc"), count(chunks, "chunk")));
    }
    if app.library.vectors_pending > 0 {
        // Between the two phases of an add: these are searched by keywords alone.
        left.push_str(&format!(" · {} awaiting vectors", count(app.library.vectors_pending, "chunk")));
    }
    let keys = match (app.popup.is_some(), app.editing.is_some(), app.focus) {
        (true, _, _) => "Esc closes ",
        (false, true, _) => "Esc stop typing · ^C quit ",
        (false, false, Focus::Library) => match app.library.view {
            LibraryView::Documents => "a add · d delete · f filter · l feeds · ? keys ",
            LibraryView::Feeds => "Enter items · r refresh · h documents · ? keys ",
            LibraryView::Items(_) => "Enter open · h feeds · ? keys ",
        },
        (false, false, _) => "? keys · / search · q quit ",
    };
    let room = width.saturating_sub(str_width(keys) + 1);
    let left = truncate(&left, room);
    let pad = width.saturating_sub(str_width(&left) + str_width(keys));
    let line =
        Line::from(vec![Span::raw(left), Span::raw(" ".repeat(pad)), Span::raw(keys)]).style(theme.status);
    frame.render_widget(Paragraph::new(line).style(theme.status), areas.status);
}
