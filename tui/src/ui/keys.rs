//! Keys and mouse to [`Action`]s. What a key means depends only on whether a popup is open and
//! whether a line is being typed; what an action does in each pane is decided by the app.

use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind};

use super::app::{Action, App, Edit, Popup};

/// Every key, as the help popup lists them: (keys, what they do). Empty keys start a heading.
pub const HELP: &[(&str, &str)] = &[
    ("", "Everywhere"),
    ("Tab / Shift-Tab", "next / previous pane"),
    ("Esc", "cancel the answer, close a popup, dismiss the message, stop typing"),
    ("Ctrl-N", "new conversation"),
    ("Ctrl-P", "past conversations"),
    ("Ctrl-R", "research mode on / off (planned, cited reports)"),
    ("F1, ? (not typing)", "this help"),
    ("q (not typing), Ctrl-C", "quit"),
    ("/", "live search (not typing)"),
    ("i", "type a question (not typing)"),
    ("", "Typing a question or search"),
    ("Enter", "ask the question / go to the results"),
    ("Left / Right, Home / End", "move in the line"),
    ("Backspace / Del", "delete a character"),
    ("Ctrl-W / Ctrl-U", "delete a word / the line"),
    ("Up / Down, PgUp / PgDn", "scroll the answer / move in the results"),
    ("", "Moving (not typing)"),
    ("j / k, Down / Up", "down / up"),
    ("PgDn / PgUp", "a page down / up"),
    ("g / G, Home / End", "top / bottom"),
    ("Mouse wheel", "scroll the pane under the pointer"),
    ("", "Conversation"),
    ("Enter", "type a question (or open the selected result)"),
    ("1-9", "show source [n] in the sources pane"),
    ("o", "open the selected source"),
    ("", "Sources"),
    ("j / k", "previous / next source"),
    ("PgUp / PgDn", "scroll the passage"),
    ("Enter, o", "open the file or URL with the system opener"),
    ("", "Library"),
    ("h / l, Left / Right", "documents / feeds; l or Enter on a feed lists its items, h or Esc goes back"),
    ("f", "filter the list as you type (Esc clears)"),
    ("Enter, o", "open the document; opening a news item marks it read"),
    ("o (on a feed)", "open the feed's site"),
    ("a", "add a file, folder or http(s) URL (a web page)"),
    ("d", "delete the document (asks first)"),
    ("r", "refresh every feed, in the background (any pane)"),
    ("", "Popups"),
    ("y / n", "confirm / refuse"),
    ("Enter", "accept"),
];

/// The action of a terminal event, if it has one.
pub fn action_for(app: &App, event: &Event) -> Option<Action> {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => key_action(app, key),
        Event::Paste(text) => typing(app).then(|| Action::Edit(Edit::Paste(text.clone()))),
        Event::Mouse(m) => match m.kind {
            MouseEventKind::ScrollUp => Some(Action::Wheel { column: m.column, row: m.row, up: true }),
            MouseEventKind::ScrollDown => Some(Action::Wheel { column: m.column, row: m.row, up: false }),
            _ => None,
        },
        _ => None,
    }
}

/// Whether keys go into a line of text.
fn typing(app: &App) -> bool {
    match &app.popup {
        Some(Popup::Add { .. }) => true,
        Some(_) => false,
        None => app.editing.is_some(),
    }
}

fn key_action(app: &App, key: &KeyEvent) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Char('c') if ctrl => return Some(Action::Quit),
        KeyCode::Char('n') if ctrl && app.popup.is_none() => return Some(Action::NewConversation),
        KeyCode::Char('p') if ctrl => return Some(Action::PastConversations),
        KeyCode::Char('r') if ctrl && app.popup.is_none() => return Some(Action::ToggleResearch),
        KeyCode::F(1) => return Some(Action::Help),
        KeyCode::Esc => return Some(Action::Escape),
        KeyCode::Enter => return Some(Action::Enter),
        KeyCode::Tab if app.popup.is_none() => return Some(Action::NextPane),
        KeyCode::BackTab if app.popup.is_none() => return Some(Action::PrevPane),
        KeyCode::PageUp => return Some(Action::PageUp),
        KeyCode::PageDown => return Some(Action::PageDown),
        KeyCode::Up => return Some(Action::Up),
        KeyCode::Down => return Some(Action::Down),
        _ => {}
    }
    if typing(app) {
        return edit_action(key).map(Action::Edit);
    }
    if let Some(Popup::ConfirmDelete { .. }) = app.popup {
        return match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => Some(Action::Confirm(true)),
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Char('q') => Some(Action::Confirm(false)),
            _ => None,
        };
    }
    if ctrl {
        return None;
    }
    let popup = app.popup.is_some();
    Some(match key.code {
        KeyCode::Char('q') if popup => Action::Confirm(false),
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Char('j') => Action::Down,
        KeyCode::Char('k') => Action::Up,
        KeyCode::Char('g') | KeyCode::Home => Action::Top,
        KeyCode::Char('G') | KeyCode::End => Action::Bottom,
        _ if popup => return None,
        KeyCode::Char('/') => Action::StartSearch,
        KeyCode::Char('i') => Action::StartQuestion,
        KeyCode::Char('o') => Action::Open,
        KeyCode::Char(c @ '1'..='9') => Action::SelectSource(c as usize - '0' as usize),
        KeyCode::Char('f') => Action::StartFilter,
        KeyCode::Char('a') => Action::AddDocument,
        KeyCode::Char('d') => Action::DeleteDocument,
        KeyCode::Char('r') => Action::RefreshFeeds,
        KeyCode::Char('h') | KeyCode::Left => Action::Left,
        KeyCode::Char('l') | KeyCode::Right => Action::Right,
        _ => return None,
    })
}

fn edit_action(key: &KeyEvent) -> Option<Edit> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    Some(match key.code {
        KeyCode::Char('u') if ctrl => Edit::Clear,
        KeyCode::Char('w') if ctrl => Edit::DeleteWord,
        KeyCode::Char('a') if ctrl => Edit::Home,
        KeyCode::Char('e') if ctrl => Edit::End,
        KeyCode::Char('h') if ctrl => Edit::Backspace,
        KeyCode::Char(_) if ctrl => return None,
        KeyCode::Char(c) => Edit::Char(c),
        KeyCode::Backspace => Edit::Backspace,
        KeyCode::Delete => Edit::Delete,
        KeyCode::Left => Edit::Left,
        KeyCode::Right => Edit::Right,
        KeyCode::Home => Edit::Home,
        KeyCode::End => Edit::End,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::app::{Editing, Settings};

    fn app() -> App {
        App::new(Settings { model: "m".into(), history_turns: 3, home: "/lib".into() })
    }

    fn key(code: KeyCode) -> Event {
        Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    #[test]
    fn letters_type_while_typing_and_command_otherwise() {
        let mut a = app();
        assert_eq!(a.editing, Some(Editing::Question));
        assert_eq!(action_for(&a, &key(KeyCode::Char('q'))), Some(Action::Edit(Edit::Char('q'))));
        assert_eq!(action_for(&a, &key(KeyCode::Char('?'))), Some(Action::Edit(Edit::Char('?'))));
        a.editing = None;
        assert_eq!(action_for(&a, &key(KeyCode::Char('q'))), Some(Action::Quit));
        assert_eq!(action_for(&a, &key(KeyCode::Char('?'))), Some(Action::Help));
        assert_eq!(action_for(&a, &key(KeyCode::Char('/'))), Some(Action::StartSearch));
        assert_eq!(action_for(&a, &key(KeyCode::Char('3'))), Some(Action::SelectSource(3)));
        assert_eq!(action_for(&a, &key(KeyCode::Char('r'))), Some(Action::RefreshFeeds));
        assert_eq!(action_for(&a, &key(KeyCode::Char('l'))), Some(Action::Right));
        assert_eq!(action_for(&a, &key(KeyCode::Left)), Some(Action::Left));
        // Typing, the arrows move in the line.
        a.editing = Some(Editing::Filter);
        assert_eq!(action_for(&a, &key(KeyCode::Left)), Some(Action::Edit(Edit::Left)));
        assert_eq!(action_for(&a, &key(KeyCode::Char('l'))), Some(Action::Edit(Edit::Char('l'))));
    }

    #[test]
    fn control_keys_work_everywhere() {
        let a = app();
        let ctrl = |c| Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
        assert_eq!(action_for(&a, &ctrl('c')), Some(Action::Quit));
        assert_eq!(action_for(&a, &ctrl('n')), Some(Action::NewConversation));
        assert_eq!(action_for(&a, &ctrl('p')), Some(Action::PastConversations));
        assert_eq!(action_for(&a, &ctrl('r')), Some(Action::ToggleResearch));
        assert_eq!(action_for(&a, &ctrl('w')), Some(Action::Edit(Edit::DeleteWord)));
        assert_eq!(action_for(&a, &key(KeyCode::F(1))), Some(Action::Help));
        assert_eq!(action_for(&a, &key(KeyCode::Tab)), Some(Action::NextPane));
        assert_eq!(
            action_for(&a, &Event::Key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT))),
            Some(Action::PrevPane)
        );
    }

    #[test]
    fn popups_take_their_own_keys() {
        let mut a = app();
        a.editing = None;
        a.popup = Some(Popup::ConfirmDelete { doc_id: 1, title: "t".into() });
        assert_eq!(action_for(&a, &key(KeyCode::Char('y'))), Some(Action::Confirm(true)));
        assert_eq!(action_for(&a, &key(KeyCode::Char('n'))), Some(Action::Confirm(false)));
        assert_eq!(action_for(&a, &key(KeyCode::Char('d'))), None);
        a.popup = Some(Popup::Help { scroll: 0 });
        assert_eq!(action_for(&a, &key(KeyCode::Char('j'))), Some(Action::Down));
        assert_eq!(action_for(&a, &key(KeyCode::Char('a'))), None);
        a.popup = Some(Popup::Add { input: Default::default() });
        assert_eq!(action_for(&a, &key(KeyCode::Char('j'))), Some(Action::Edit(Edit::Char('j'))));
    }
}
