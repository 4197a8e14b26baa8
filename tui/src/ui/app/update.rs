//! Every change to the terminal UI's state: [`App::handle`] applies a user action,
//! [`App::apply`] a worker's report; both return the [`Command`]s to carry out.

use std::path::PathBuf;
use std::time::Instant;

use lore_agent::prompt::PastTurn;
use lore_index::catalog::{DocSummary, Feed};
use ratatui::layout::Position;

use crate::ui::text::LineInput;

use super::msg::*;
use super::state::*;

impl App {
    fn say(&mut self, text: impl Into<String>) {
        self.message = Some(Message { text: text.into(), error: false });
    }

    fn fail(&mut self, text: impl Into<String>) {
        self.message = Some(Message { text: text.into(), error: true });
    }

    /// Applies a user action.
    pub fn handle(&mut self, action: Action) -> Vec<Command> {
        let mut out = Vec::new();
        if self.popup.is_some() && !matches!(action, Action::Quit) {
            self.handle_popup(action, &mut out);
            return out;
        }
        match action {
            Action::Quit => {
                self.quit = true;
                if self.answering.is_some() {
                    out.push(Command::CancelAsk);
                }
            }
            Action::NextPane => self.set_focus(self.focus.next(), &mut out),
            Action::PrevPane => self.set_focus(self.focus.prev(), &mut out),
            Action::Help => self.popup = Some(Popup::Help { scroll: 0 }),
            Action::Escape => self.escape(&mut out),
            Action::NewConversation => {
                if self.answering.take().is_some() {
                    out.push(Command::CancelAsk);
                }
                self.conversation = Conversation::default();
                self.view = MainView::Conversation;
                self.subject = Subject::Citations;
                self.focus = Focus::Conversation;
                self.editing = Some(Editing::Question);
                self.detail_scroll = 0;
                self.detail_at_quote = false;
                self.say("new conversation");
            }
            Action::ToggleResearch => {
                self.research = !self.research;
                self.say(if self.research {
                    "research mode: a question gets a plan of sub-questions, a search for each and a cited report (Ctrl-R: back to answers)"
                } else {
                    "answer mode (Ctrl-R: research mode)"
                });
            }
            Action::PastConversations => {
                self.popup = Some(Popup::Conversations { items: None, selected: 0 });
                out.push(Command::LoadConversations);
            }
            Action::Up => self.step(-1, &mut out),
            Action::Down => self.step(1, &mut out),
            Action::PageUp => self.page(-1, &mut out),
            Action::PageDown => self.page(1, &mut out),
            Action::Top => self.ends(true, &mut out),
            Action::Bottom => self.ends(false, &mut out),
            Action::Enter => self.enter(&mut out),
            Action::Open => self.open(&mut out),
            Action::StartQuestion => {
                self.view = MainView::Conversation;
                self.focus = Focus::Conversation;
                self.editing = Some(Editing::Question);
                if self.subject == Subject::Hit {
                    self.show_citations(&mut out);
                }
            }
            Action::StartSearch => {
                self.view = MainView::Search;
                self.focus = Focus::Conversation;
                self.editing = Some(Editing::Search);
                self.subject = Subject::Hit;
                self.detail_scroll = 0;
                self.detail_at_quote = false;
                self.fetch_subject(&mut out);
            }
            Action::StartFilter => {
                self.focus = Focus::Library;
                self.editing = Some(Editing::Filter);
            }
            Action::SelectSource(n) => {
                let found = self.current_turn().and_then(|t| t.sources.iter().position(|c| c.n == n));
                match found {
                    Some(i) => {
                        self.conversation.selected_source = i;
                        self.show_citations(&mut out);
                    }
                    None => self.fail(format!("the last answer has no source [{n}]")),
                }
            }
            Action::DeleteDocument => {
                if self.ingest.is_some() {
                    self.fail("wait for the running add, removal or refresh to finish");
                } else if let Some(d) = self.library.selected_doc() {
                    self.popup = Some(Popup::ConfirmDelete { doc_id: d.id, title: d.title.clone() });
                } else if self.library.view == LibraryView::Feeds {
                    self.say("d deletes documents; `lore feed rm FEED` unsubscribes from a feed");
                }
            }
            Action::AddDocument => self.popup = Some(Popup::Add { input: LineInput::default() }),
            Action::RefreshFeeds => self.refresh_feeds(&mut out),
            Action::Left => self.library_left(&mut out),
            Action::Right => self.library_right(&mut out),
            Action::Confirm(_) => {}
            Action::Edit(edit) => self.edit(edit, &mut out),
            Action::Wheel { column, row, up } => self.wheel(column, row, up, &mut out),
        }
        out
    }

    fn set_focus(&mut self, focus: Focus, out: &mut Vec<Command>) {
        self.focus = focus;
        self.editing = match (focus, self.view) {
            (Focus::Conversation, MainView::Conversation) => Some(Editing::Question),
            _ => None,
        };
        if focus == Focus::Library {
            self.show_selected(out);
        } else if matches!(self.subject, Subject::Document(_) | Subject::Feed(_))
            && focus == Focus::Conversation
        {
            match self.view {
                MainView::Conversation => self.show_citations(out),
                MainView::Search => {
                    self.subject = Subject::Hit;
                    self.fetch_subject(out);
                }
            }
        }
    }

    fn escape(&mut self, out: &mut Vec<Command>) {
        if self.answering.is_some() {
            out.push(Command::CancelAsk);
            return;
        }
        if self.message.take().is_some() {
            return;
        }
        match self.editing {
            Some(Editing::Search) => self.close_search(out),
            Some(Editing::Question) | Some(Editing::Filter) => self.editing = None,
            None if self.view == MainView::Search => self.close_search(out),
            None if self.focus == Focus::Library && !self.library.filter.is_empty() => {
                self.library.filter.clear();
                self.reset_library_positions();
                self.show_selected(out);
            }
            None if self.focus == Focus::Library && matches!(self.library.view, LibraryView::Items(_)) => {
                self.library_left(out)
            }
            None => {}
        }
    }

    fn close_search(&mut self, out: &mut Vec<Command>) {
        self.view = MainView::Conversation;
        self.focus = Focus::Conversation;
        self.editing = None;
        self.show_citations(out);
    }

    fn show_citations(&mut self, out: &mut Vec<Command>) {
        self.subject = Subject::Citations;
        self.detail_scroll = 0;
        self.detail_at_quote = true;
        self.fetch_subject(out);
    }

    /// Shows the selected document or feed of the library in the sources pane.
    fn show_selected(&mut self, out: &mut Vec<Command>) {
        let subject = match self.library.view {
            LibraryView::Feeds => self.library.selected_feed().map(|f| Subject::Feed(f.id)),
            _ => self.library.selected_doc().map(|d| Subject::Document(d.id)),
        };
        let Some(subject) = subject else { return };
        if self.subject != subject {
            self.subject = subject;
            self.detail_scroll = 0;
            self.detail_at_quote = false;
            self.fetch_subject(out);
        }
    }

    fn fetch_subject(&mut self, out: &mut Vec<Command>) {
        if let Subject::Feed(id) = self.subject {
            self.load_feed_items(id, out);
        }
        if let Some(id) = self.subject_chunk()
            && self.context.as_ref().is_none_or(|c| c.chunk_id != id)
        {
            out.push(Command::FetchContext(id));
        }
    }

    fn load_feed_items(&mut self, feed_id: i64, out: &mut Vec<Command>) {
        let lib = &mut self.library;
        if lib.feed_items.as_ref().is_none_or(|i| i.feed_id != feed_id) && lib.items_asked != Some(feed_id) {
            lib.items_asked = Some(feed_id);
            out.push(Command::LoadFeedItems(feed_id));
        }
    }

    fn reset_library_positions(&mut self) {
        let lib = &mut self.library;
        (lib.docs_pos, lib.feeds_pos, lib.items_pos) = Default::default();
    }

    /// Left in the library: from a feed's items back to the feeds, from the feeds to the
    /// documents.
    fn library_left(&mut self, out: &mut Vec<Command>) {
        if self.focus != Focus::Library {
            return;
        }
        let lib = &mut self.library;
        match lib.view {
            LibraryView::Documents => return,
            LibraryView::Feeds => lib.view = LibraryView::Documents,
            LibraryView::Items(id) => {
                lib.view = LibraryView::Feeds;
                // The feed whose items were shown stays selected.
                if let Some(i) = lib.visible_feeds().iter().position(|f| f.id == id) {
                    lib.feeds_pos.selected = i;
                }
            }
        }
        self.show_selected(out);
    }

    /// Right in the library: from the documents to the feeds, from a feed to its items.
    fn library_right(&mut self, out: &mut Vec<Command>) {
        if self.focus != Focus::Library {
            return;
        }
        match self.library.view {
            LibraryView::Documents => {
                self.library.view = LibraryView::Feeds;
                self.show_selected(out);
            }
            LibraryView::Feeds => self.open_feed_items(out),
            LibraryView::Items(_) => {}
        }
    }

    /// Lists the selected feed's items in the library pane.
    fn open_feed_items(&mut self, out: &mut Vec<Command>) {
        let Some(id) = self.library.selected_feed().map(|f| f.id) else { return };
        self.library.view = LibraryView::Items(id);
        self.library.items_pos = ListPos::default();
        self.load_feed_items(id, out);
        self.show_selected(out);
    }

    fn refresh_feeds(&mut self, out: &mut Vec<Command>) {
        if self.ingest.is_some() {
            self.fail("wait for the running add, removal or refresh to finish");
        } else if self.library.feeds.is_empty() {
            self.say(NO_FEEDS);
        } else {
            self.ingest = Some(IngestProgress {
                verb: "refreshing".into(),
                total: self.library.feeds.len(),
                current: "feeds".into(),
                ..Default::default()
            });
            out.push(Command::RefreshFeeds);
        }
    }

    /// Where up/down/page keys act: `Main`, `Detail`, `Library`, `Hits` or `Sources`.
    fn nav_target(&self) -> Nav {
        match (self.editing, self.focus, self.view) {
            (Some(Editing::Search), _, _) => Nav::Hits,
            (Some(Editing::Filter), _, _) => Nav::Library,
            (Some(Editing::Question), _, _) => Nav::Transcript,
            (None, Focus::Conversation, MainView::Search) => Nav::Hits,
            (None, Focus::Conversation, MainView::Conversation) => Nav::Transcript,
            (None, Focus::Sources, MainView::Search) => Nav::Hits,
            (None, Focus::Sources, MainView::Conversation) => Nav::Sources,
            (None, Focus::Library, _) => Nav::Library,
        }
    }

    fn step(&mut self, delta: isize, out: &mut Vec<Command>) {
        match self.nav_target() {
            Nav::Transcript => {
                let m = self.metrics;
                self.conversation.scroll.by(delta, m.main_lines, m.main_height);
            }
            Nav::Hits => self.move_hit(delta, out),
            Nav::Sources => self.move_source(delta, out),
            Nav::Library => self.move_row(delta, out),
        }
    }

    fn page(&mut self, dir: isize, out: &mut Vec<Command>) {
        let m = self.metrics;
        match self.nav_target() {
            Nav::Transcript => {
                let page = m.main_height.saturating_sub(1).max(1) as isize;
                self.conversation.scroll.by(dir * page, m.main_lines, m.main_height);
            }
            Nav::Hits => self.move_hit(dir * (m.main_height / 3).max(1) as isize, out),
            Nav::Sources => {
                self.scroll_detail_from_drawn();
                let page = m.detail_height.saturating_sub(1).max(1) as isize;
                let max = m.detail_lines.saturating_sub(m.detail_height) as isize;
                self.detail_scroll = (self.detail_scroll as isize + dir * page).clamp(0, max.max(0)) as usize;
            }
            Nav::Library => self.move_row(dir * m.library_height.max(1) as isize, out),
        }
    }

    fn ends(&mut self, top: bool, out: &mut Vec<Command>) {
        let big = if top { isize::MIN / 2 } else { isize::MAX / 2 };
        match self.nav_target() {
            Nav::Transcript if top => self.conversation.scroll.jump_top(),
            Nav::Transcript => self.conversation.scroll.jump_bottom(),
            Nav::Hits => self.move_hit(big, out),
            Nav::Sources => self.move_source(big, out),
            Nav::Library => self.move_row(big, out),
        }
    }

    fn move_hit(&mut self, delta: isize, out: &mut Vec<Command>) {
        let n = self.search.hits.len();
        if n == 0 {
            return;
        }
        self.search.selected =
            (self.search.selected as isize).saturating_add(delta).clamp(0, n as isize - 1) as usize;
        self.subject = Subject::Hit;
        self.detail_scroll = 0;
        self.detail_at_quote = false;
        self.fetch_subject(out);
    }

    /// The user scrolls the source detail: from where it was drawn (at the quote, maybe), no
    /// longer held at the quote.
    fn scroll_detail_from_drawn(&mut self) {
        if self.detail_at_quote {
            self.detail_scroll = self.metrics.detail_top;
            self.detail_at_quote = false;
        }
    }

    fn move_source(&mut self, delta: isize, out: &mut Vec<Command>) {
        let n = self.current_turn().map(|t| t.sources.len()).unwrap_or(0);
        if n == 0 {
            return;
        }
        let s = &mut self.conversation.selected_source;
        *s = (*s as isize).saturating_add(delta).clamp(0, n as isize - 1) as usize;
        self.show_citations(out);
    }

    /// Moves in the list the library pane shows.
    fn move_row(&mut self, delta: isize, out: &mut Vec<Command>) {
        let n = self.library.rows();
        let height = self.metrics.library_height;
        self.library.pos_mut().move_by(delta, n, height);
        self.show_selected(out);
    }

    fn enter(&mut self, out: &mut Vec<Command>) {
        match (self.editing, self.focus, self.view) {
            (Some(Editing::Question), _, _) => self.ask(out),
            (Some(Editing::Search), _, _) => {
                self.editing = None;
                self.focus = Focus::Conversation;
            }
            (Some(Editing::Filter), _, _) => self.editing = None,
            (None, Focus::Conversation, MainView::Conversation) => self.editing = Some(Editing::Question),
            (None, Focus::Library, _) if self.library.view == LibraryView::Feeds => self.open_feed_items(out),
            (None, _, _) => self.open(out),
        }
    }

    fn ask(&mut self, out: &mut Vec<Command>) {
        let question = self.question.text().trim().to_string();
        if question.is_empty() {
            return;
        }
        if self.answering.is_some() {
            self.fail("an answer is still running; Esc cancels it");
            return;
        }
        self.question.clear();
        let skip = self.conversation.turns.len().saturating_sub(self.settings.history_turns);
        let history = self.conversation.turns[skip..]
            .iter()
            .filter(|t| t.state == TurnState::Done)
            .map(|t| PastTurn { question: t.question.clone(), answer: t.text.clone() })
            .collect();
        self.ask_seq += 1;
        self.answering = Some(self.ask_seq);
        let mut turn = Turn::new(&question);
        turn.research = self.research;
        self.conversation.turns.push(turn);
        self.conversation.scroll.jump_bottom();
        self.conversation.selected_source = 0;
        self.subject = Subject::Citations;
        self.detail_scroll = 0;
        self.detail_at_quote = false;
        self.message = None;
        out.push(Command::Ask {
            id: self.ask_seq,
            question,
            history,
            conversation: self.conversation.id,
            research: self.research,
        });
    }

    /// The file or URL of what is selected where the user is, and the document when it is a
    /// news item (opening it marks it read).
    fn open_target(&self) -> Option<(String, Option<i64>)> {
        let of = |url: &Option<String>, source: &str| url.clone().unwrap_or_else(|| source.to_string());
        let news = |kind: &str, id: i64| (kind == NEWS_KIND).then_some(id);
        let doc = |d: &DocSummary| (of(&d.url, &d.source), news(&d.kind, d.id));
        let feed = |f: &Feed| (f.site_url.clone().unwrap_or_else(|| f.url.clone()), None);
        if self.focus == Focus::Library {
            return match self.library.view {
                LibraryView::Feeds => self.library.selected_feed().map(feed),
                _ => self.library.selected_doc().map(doc),
            };
        }
        match self.subject {
            Subject::Citations => {
                self.selected_source().map(|c| (of(&c.url, &c.source), news(&c.kind, c.doc_id)))
            }
            Subject::Hit => {
                self.search.selected_hit().map(|h| (of(&h.url, &h.source), news(&h.kind, h.chunk.doc_id)))
            }
            Subject::Document(id) => self.library.docs.iter().find(|d| d.id == id).map(doc),
            Subject::Feed(id) => self.library.feed(id).map(feed),
        }
    }

    fn open(&mut self, out: &mut Vec<Command>) {
        match self.open_target() {
            Some((target, news)) => {
                self.say(format!("opening {target}"));
                out.push(Command::Open(target));
                out.extend(news.map(Command::MarkRead));
            }
            None => self.fail("nothing selected to open"),
        }
    }

    fn edit(&mut self, edit: Edit, out: &mut Vec<Command>) {
        let target = match self.editing {
            Some(Editing::Question) => &mut self.question,
            Some(Editing::Search) => &mut self.search.input,
            Some(Editing::Filter) => &mut self.library.filter,
            None => return,
        };
        let before = target.text().to_string();
        apply_edit(target, edit);
        if target.text() == before {
            return;
        }
        match self.editing {
            Some(Editing::Search) => {
                self.search.seq += 1;
                self.search.key_at = Some(Instant::now());
                let query = self.search.input.text().trim().to_string();
                if query.is_empty() {
                    self.search.hits.clear();
                    self.search.shown_seq = self.search.seq;
                    self.search.error = None;
                    self.search.took_ms = None;
                } else {
                    out.push(Command::Search { seq: self.search.seq, query });
                }
            }
            Some(Editing::Filter) => {
                self.reset_library_positions();
                self.show_selected(out);
            }
            _ => {}
        }
    }

    fn wheel(&mut self, column: u16, row: u16, up: bool, out: &mut Vec<Command>) {
        let at = Position { x: column, y: row };
        let m = self.metrics;
        let delta: isize = if up { -3 } else { 3 };
        if m.conversation.contains(at) {
            if self.view == MainView::Search {
                self.move_hit(delta.signum(), out);
            } else {
                self.conversation.scroll.by(delta, m.main_lines, m.main_height);
            }
        } else if m.sources.contains(at) {
            self.scroll_detail_from_drawn();
            let max = m.detail_lines.saturating_sub(m.detail_height) as isize;
            self.detail_scroll = (self.detail_scroll as isize + delta).clamp(0, max.max(0)) as usize;
        } else if m.library.contains(at) {
            self.move_row(delta.signum(), out);
        }
    }

    fn handle_popup(&mut self, action: Action, out: &mut Vec<Command>) {
        let Some(popup) = self.popup.as_mut() else { return };
        match popup {
            Popup::Help { scroll } => {
                let m = self.metrics;
                let max = m.help_lines.saturating_sub(m.help_height);
                let page = m.help_height.max(1);
                match action {
                    Action::Up => *scroll = scroll.saturating_sub(1),
                    Action::Down => *scroll = (*scroll + 1).min(max),
                    Action::PageUp => *scroll = scroll.saturating_sub(page),
                    Action::PageDown => *scroll = (*scroll + page).min(max),
                    Action::Top => *scroll = 0,
                    Action::Bottom => *scroll = max,
                    Action::Escape | Action::Help | Action::Enter | Action::Confirm(false) => {
                        self.popup = None
                    }
                    _ => {}
                }
            }
            Popup::ConfirmDelete { doc_id, title } => match action {
                Action::Confirm(true) | Action::Enter => {
                    out.push(Command::Delete { doc_id: *doc_id, title: title.clone() });
                    self.ingest = Some(IngestProgress {
                        verb: "removing".into(),
                        current: title.clone(),
                        ..Default::default()
                    });
                    self.popup = None;
                }
                Action::Confirm(false) | Action::Escape => self.popup = None,
                _ => {}
            },
            Popup::Add { input } => match action {
                Action::Edit(e) => apply_edit(input, e),
                Action::Escape => self.popup = None,
                Action::Enter => {
                    let typed = input.text().trim().to_string();
                    self.popup = None;
                    self.add(&typed, out);
                }
                _ => {}
            },
            Popup::Conversations { items, selected } => {
                let n = items.as_ref().map(Vec::len).unwrap_or(0);
                let page = self.metrics.popup_height.max(1);
                let last = n.saturating_sub(1);
                match action {
                    Action::Up => *selected = selected.saturating_sub(1),
                    Action::Down => *selected = (*selected + 1).min(last),
                    Action::PageUp => *selected = selected.saturating_sub(page),
                    Action::PageDown => *selected = (*selected + page).min(last),
                    Action::Top => *selected = 0,
                    Action::Bottom => *selected = last,
                    Action::Escape | Action::Confirm(false) | Action::PastConversations => self.popup = None,
                    Action::Enter => {
                        if let Some(c) = items.as_ref().and_then(|i| i.get(*selected)) {
                            out.push(Command::LoadConversation(c.id));
                            self.popup = None;
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn add(&mut self, typed: &str, out: &mut Vec<Command>) {
        if typed.is_empty() {
            return;
        }
        if self.ingest.is_some() {
            self.fail("an add, removal or refresh is already running; wait for it to finish");
            return;
        }
        if let Some(scheme) = url_scheme(typed) {
            // One URL or several, separated by spaces.
            let urls: Vec<String> = typed.split_whitespace().map(str::to_string).collect();
            let refused = if is_web(&scheme) {
                urls.iter().find(|u| url_scheme(u).is_none_or(|s| !is_web(&s)))
            } else {
                urls.first()
            };
            if let Some(u) = refused {
                self.fail(format!("{u}: only http and https URLs can be added"));
                return;
            }
            self.ingest = Some(IngestProgress {
                verb: "adding".into(),
                total: urls.len(),
                current: urls[0].clone(),
                ..Default::default()
            });
            out.push(Command::AddUrls(urls));
            return;
        }
        let path = expand_home(typed);
        if !path.exists() {
            self.fail(format!("{}: no such file or folder", path.display()));
            return;
        }
        self.ingest = Some(IngestProgress {
            verb: "adding".into(),
            current: path.display().to_string(),
            ..Default::default()
        });
        out.push(Command::Add(path));
    }

    /// Applies a report of a background worker.
    pub fn apply(&mut self, report: Report) -> Vec<Command> {
        let mut out = Vec::new();
        match report {
            Report::EngineReady => self.engine = EngineState::Ready,
            Report::EngineStopped => {
                const STOPPED: &str = "the search engine stopped on an internal error; it is starting again";
                if self.search.running() {
                    self.search.shown_seq = self.search.seq;
                    self.search.hits.clear();
                    self.search.error = Some(STOPPED.into());
                }
                // The message line keeps the internal error the engine reported.
                let reported = self.message.take().filter(|m| m.error);
                if let Some(id) = self.answering {
                    self.answer_update(id, AnswerUpdate::Failed(STOPPED.into()), &mut out);
                }
                self.message = Some(reported.unwrap_or(Message { text: STOPPED.into(), error: true }));
                self.engine = EngineState::Opening;
                out.push(Command::RestartEngine);
            }
            Report::LibraryChanged => {
                out.push(Command::LoadLibrary);
                out.push(Command::ReloadEngine);
            }
            Report::EngineUnavailable { reason, error } => {
                if error {
                    self.fail(format!("search is unavailable: {reason}"));
                }
                self.engine = EngineState::Unavailable(reason);
            }
            Report::SearchDone { seq, hits, ms } => {
                if seq == self.search.seq {
                    self.search.shown_seq = seq;
                    self.search.hits = hits;
                    self.search.selected = 0;
                    self.search.error = None;
                    self.search.took_ms = Some(ms);
                    self.search.results_at = Some(Instant::now());
                    if self.view == MainView::Search {
                        self.subject = Subject::Hit;
                        self.detail_scroll = 0;
                        self.detail_at_quote = false;
                        self.fetch_subject(&mut out);
                    }
                }
            }
            Report::SearchFailed { seq, error } => {
                if seq == self.search.seq {
                    self.search.shown_seq = seq;
                    self.search.hits.clear();
                    self.search.error = Some(error);
                }
            }
            Report::Answer { id, update } => self.answer_update(id, update, &mut out),
            Report::LibraryLoaded { docs, counts, vectors_pending, feeds } => {
                self.library.docs = docs;
                self.library.loaded = true;
                self.library.counts = Some(counts);
                self.library.vectors_pending = vectors_pending;
                self.feeds_loaded(feeds, &mut out);
                // The feed's items may have changed with the library: read them again.
                if let Some(id) = self.library.feed_items.as_ref().map(|i| i.feed_id) {
                    self.library.items_asked = Some(id);
                    out.push(Command::LoadFeedItems(id));
                }
                self.library.clamp();
                let gone = match self.subject {
                    Subject::Document(id) => !self.library.docs.iter().any(|d| d.id == id),
                    _ => false,
                };
                if gone {
                    self.subject = Subject::Citations;
                }
                if self.focus == Focus::Library {
                    self.show_selected(&mut out);
                }
            }
            Report::FeedsLoaded(feeds) => self.feeds_loaded(feeds, &mut out),
            Report::FeedItems(items) => {
                if self.library.items_asked == Some(items.feed_id) {
                    self.library.items_asked = None;
                }
                self.library.feed_items = Some(items);
                self.library.clamp();
                if self.focus == Focus::Library {
                    self.show_selected(&mut out);
                }
            }
            Report::Conversations(list) => {
                if let Some(Popup::Conversations { items, selected }) = &mut self.popup {
                    *selected = (*selected).min(list.len().saturating_sub(1));
                    *items = Some(list);
                }
            }
            Report::ConversationLoaded { id, turns } => {
                if self.answering.take().is_some() {
                    out.push(Command::CancelAsk);
                }
                self.conversation = Conversation {
                    id: Some(id),
                    turns: turns
                        .into_iter()
                        .map(|(question, text, sources)| Turn {
                            question,
                            query: None,
                            text,
                            sources,
                            state: TurnState::Done,
                            notice: None,
                            related: Vec::new(),
                            // Verification is not stored with a turn.
                            quotes: Vec::new(),
                            checks: Vec::new(),
                            research: false,
                            plan: Vec::new(),
                            progress: None,
                        })
                        .collect(),
                    scroll: Scroll::default(),
                    selected_source: 0,
                };
                self.view = MainView::Conversation;
                self.focus = Focus::Conversation;
                self.editing = Some(Editing::Question);
                self.show_citations(&mut out);
                self.say(format!("continuing conversation {id}"));
            }
            Report::Context(ctx) => self.context = Some(ctx),
            Report::Ingest(update) => self.ingest_update(update, &mut out),
            Report::Message(m) => self.message = Some(m),
        }
        out
    }

    /// Takes a new list of feeds, leaving a feed's items when the feed is gone.
    fn feeds_loaded(&mut self, feeds: Vec<Feed>, out: &mut Vec<Command>) {
        self.library.feeds = feeds;
        let lib = &mut self.library;
        if let LibraryView::Items(id) = lib.view
            && lib.feed(id).is_none()
        {
            lib.view = LibraryView::Feeds;
        }
        self.library.clamp();
        if let Subject::Feed(id) = self.subject
            && self.library.feed(id).is_none()
        {
            self.subject = Subject::Citations;
            self.fetch_subject(out);
        }
    }

    fn answer_update(&mut self, id: u64, update: AnswerUpdate, out: &mut Vec<Command>) {
        // Reports of an answer that was replaced (new conversation, another one loaded) are
        // dropped.
        if self.answering != Some(id) {
            return;
        }
        let Some(turn) = self.conversation.turns.last_mut() else { return };
        match update {
            AnswerUpdate::Rewritten(q) => turn.query = Some(q),
            AnswerUpdate::Sources(sources) => {
                turn.sources = sources;
                turn.state = TurnState::Streaming;
                self.conversation.selected_source = 0;
                if self.view == MainView::Conversation {
                    self.show_citations(out);
                }
            }
            AnswerUpdate::Notice(n) => {
                turn.notice = Some(n.clone());
                self.fail(n);
            }
            AnswerUpdate::Plan(plan) => turn.plan = plan,
            AnswerUpdate::Progress(line) => {
                turn.progress = Some(line.clone());
                self.say(format!("{line} · Esc stops"));
            }
            AnswerUpdate::Text(t) => {
                turn.progress = None;
                turn.text.push_str(&t);
                turn.state = TurnState::Streaming;
            }
            AnswerUpdate::Verified(check) => {
                turn.checks.push(check);
                let so_far = lore_agent::verify::Verification::of(turn.checks.clone());
                turn.quotes = SourceQuote::of_verification(&so_far);
            }
            AnswerUpdate::Done { text, citations, conversation, related, quotes } => {
                turn.progress = None;
                turn.text = text;
                turn.related = related;
                turn.quotes = quotes;
                if !citations.is_empty() {
                    let selected = turn.sources.get(self.conversation.selected_source).map(|c| c.n);
                    turn.sources = citations;
                    self.conversation.selected_source =
                        selected.and_then(|n| turn.sources.iter().position(|c| c.n == n)).unwrap_or(0);
                }
                turn.state = TurnState::Done;
                if conversation.is_some() {
                    self.conversation.id = conversation;
                }
                self.answering = None;
                if self.view == MainView::Conversation {
                    self.show_citations(out);
                }
            }
            AnswerUpdate::Failed(e) => {
                turn.state = TurnState::Failed(e.clone());
                self.answering = None;
                self.fail(e);
            }
            AnswerUpdate::Cancelled => {
                turn.state = TurnState::Cancelled;
                self.answering = None;
            }
        }
    }

    fn ingest_update(&mut self, update: IngestUpdate, out: &mut Vec<Command>) {
        let p =
            self.ingest.get_or_insert_with(|| IngestProgress { verb: "adding".into(), ..Default::default() });
        match update {
            IngestUpdate::Waiting => p.waiting = true,
            IngestUpdate::Planned { total } => {
                p.waiting = false;
                p.total = total;
            }
            IngestUpdate::Started { index, path } => {
                p.waiting = false;
                p.done = index;
                p.current = path;
                p.embedding = None;
                p.items = None;
                p.ocr = None;
            }
            IngestUpdate::Embedding { done, total } => p.embedding = Some((done, total)),
            IngestUpdate::Ocr { done, total } => p.ocr = Some((done, total)),
            IngestUpdate::Items { done, total } => p.items = Some((done, total)),
            IngestUpdate::Problem(text) => self.message = Some(Message { text, error: true }),
            IngestUpdate::Finished { index, failed } => {
                p.done = index + 1;
                p.embedding = None;
                p.items = None;
                p.ocr = None;
                if let Some(f) = failed {
                    p.failed += 1;
                    self.message = Some(Message { text: f, error: true });
                }
            }
            IngestUpdate::Done { summary, failures } => {
                self.ingest = None;
                self.message = Some(Message { text: summary, error: failures });
                out.push(Command::LoadLibrary);
                out.push(Command::ReloadEngine);
            }
            IngestUpdate::Failed(e) => {
                self.ingest = None;
                self.fail(e);
                out.push(Command::LoadLibrary);
                out.push(Command::ReloadEngine);
            }
        }
    }
}

/// What `r` says when there is no feed to refresh.
pub const NO_FEEDS: &str = "no feeds to refresh: subscribe with `lore feed add URL` in a shell";

/// The kind of the documents feeds deliver; opening one marks it read.
pub const NEWS_KIND: &str = "news";

/// The scheme of a typed URL (`scheme://…`), lowercased.
fn url_scheme(typed: &str) -> Option<String> {
    let (scheme, _) = typed.trim().split_once("://")?;
    let mut chars = scheme.chars();
    let well_formed = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    well_formed.then(|| scheme.to_ascii_lowercase())
}

fn is_web(scheme: &str) -> bool {
    scheme == "http" || scheme == "https"
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Nav {
    Transcript,
    Hits,
    Sources,
    Library,
}

fn apply_edit(input: &mut LineInput, edit: Edit) {
    match edit {
        Edit::Char(c) => input.insert(c),
        Edit::Paste(s) => input.insert_str(&s),
        Edit::Backspace => input.backspace(),
        Edit::Delete => input.delete(),
        Edit::DeleteWord => input.delete_word(),
        Edit::Clear => input.clear(),
        Edit::Left => input.left(),
        Edit::Right => input.right(),
        Edit::Home => input.home(),
        Edit::End => input.end(),
    }
}

/// A typed path with a leading `~` made absolute.
fn expand_home(typed: &str) -> PathBuf {
    let typed = typed.trim_matches(|c| c == '"' || c == '\'');
    match typed.strip_prefix("~/").or(if typed == "~" { Some("") } else { None }) {
        Some(rest) => dirs::home_dir().map(|h| h.join(rest)).unwrap_or_else(|| PathBuf::from(typed)),
        None => PathBuf::from(typed),
    }
}
