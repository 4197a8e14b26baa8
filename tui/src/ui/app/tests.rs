//! State transitions, without a terminal.

use lore_agent::Citation;
use lore_index::SearchHit;
use lore_index::catalog::{DocSummary, StoredChunk};

use super::*;

pub(crate) fn settings() -> Settings {
    Settings {
        model: "qwen2.5-0.5b-instruct".into(),
        history_turns: 2,
        home: "/home/u/.local/share/lore".into(),
    }
}

pub(crate) fn doc(id: i64, title: &str, kind: &str, chunks: u32, tags: &[&str]) -> DocSummary {
    DocSummary {
        id,
        source: format!("/docs/{}.{kind}", title.to_lowercase().replace(' ', "-")),
        url: None,
        kind: kind.into(),
        title: title.into(),
        authors: vec![],
        language: Some("en".into()),
        published: None,
        hash: "h".into(),
        bytes: 1000,
        pages: None,
        sections: 3,
        chunks,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        added_at: "2026-11-29T10:00:00Z".into(),
        updated_at: "2026-11-29T10:00:00Z".into(),
    }
}

pub(crate) fn citation(n: usize, doc_id: i64, title: &str, text: &str) -> Citation {
    Citation {
        n,
        doc_id,
        title: title.into(),
        kind: "html".into(),
        page: None,
        section: Some("Threads".into()),
        url: None,
        source: format!("/docs/{doc_id}.html"),
        chunk_id: lore_index::catalog::chunk_id(doc_id, n as u32),
        text: text.into(),
        inferred: false,
    }
}

pub(crate) fn chunk(doc_id: i64, ordinal: u32, text: &str) -> StoredChunk {
    StoredChunk {
        id: lore_index::catalog::chunk_id(doc_id, ordinal),
        doc_id,
        ordinal,
        section: 0,
        text: text.into(),
        heading_path: vec!["Design".into(), "Threads".into()],
        anchor: None,
        page_start: None,
        page_end: None,
        char_start: 0,
        char_end: text.len() as u64,
        tokens: 20,
    }
}

pub(crate) fn hit(rank: usize, doc_id: i64, title: &str, text: &str) -> SearchHit {
    SearchHit {
        rank,
        score: 1.0 / rank as f32,
        chunk: chunk(doc_id, rank as u32, text),
        title: title.into(),
        kind: "html".into(),
        source: format!("/docs/{doc_id}.html"),
        url: None,
        snippet: text.into(),
        highlights: vec![],
        keyword_rank: Some(rank),
        vector_rank: None,
        similarity: None,
    }
}

fn app() -> App {
    App::new(settings())
}

fn typed(app: &mut App, text: &str) -> Vec<Command> {
    text.chars().flat_map(|c| app.handle(Action::Edit(Edit::Char(c)))).collect()
}

fn asked(app: &mut App, q: &str) -> u64 {
    typed(app, q);
    let cmds = app.handle(Action::Enter);
    match cmds.as_slice() {
        [Command::Ask { id, question, .. }] => {
            assert_eq!(question, q);
            *id
        }
        other => panic!("expected one Ask, got {other:?}"),
    }
}

#[test]
fn a_question_streams_into_a_turn_with_its_sources() {
    let mut a = app();
    let id = asked(&mut a, "What is the GIL?");
    assert!(a.question.is_empty());
    assert_eq!(a.answering, Some(id));
    assert_eq!(a.current_turn().unwrap().state, TurnState::Searching);
    let sources =
        vec![citation(1, 3, "Design FAQ", "The GIL is a lock."), citation(2, 4, "Library FAQ", "x")];
    let cmds = a.apply(Report::Answer { id, update: AnswerUpdate::Sources(sources.clone()) });
    assert_eq!(cmds, vec![Command::FetchContext(sources[0].chunk_id)]);
    a.apply(Report::Answer { id, update: AnswerUpdate::Text("A lock".into()) });
    a.apply(Report::Answer { id, update: AnswerUpdate::Text(" [1].".into()) });
    let t = a.current_turn().unwrap();
    assert_eq!((t.text.as_str(), &t.state), ("A lock [1].", &TurnState::Streaming));
    a.apply(Report::Answer {
        id,
        update: AnswerUpdate::Done {
            text: "A lock [1].".into(),
            citations: vec![sources[0].clone()],
            conversation: Some(7),
            related: vec!["Programming FAQ".into()],
        },
    });
    assert_eq!(a.answering, None);
    assert_eq!(a.conversation.id, Some(7));
    let t = a.current_turn().unwrap();
    assert_eq!(t.state, TurnState::Done);
    assert_eq!(t.sources, vec![sources[0].clone()]);
    assert_eq!(t.related, vec!["Programming FAQ".to_string()]);
    assert_eq!(a.subject_chunk(), Some(sources[0].chunk_id));
}

#[test]
fn follow_ups_carry_history_and_the_conversation() {
    let mut a = app();
    for (i, q) in ["one?", "two?", "three?"].iter().enumerate() {
        let id = asked(&mut a, q);
        let done = AnswerUpdate::Done {
            text: format!("answer {i}"),
            citations: vec![],
            conversation: Some(5),
            related: vec![],
        };
        a.apply(Report::Answer { id, update: done });
    }
    typed(&mut a, "four?");
    let cmds = a.handle(Action::Enter);
    let Command::Ask { history, conversation, .. } = &cmds[0] else { panic!("{cmds:?}") };
    assert_eq!(*conversation, Some(5));
    // Only the last `history_turns` (2) turns.
    let qs: Vec<&str> = history.iter().map(|h| h.question.as_str()).collect();
    assert_eq!(qs, vec!["two?", "three?"]);
}

#[test]
fn escape_cancels_a_running_answer_before_anything_else() {
    let mut a = app();
    let id = asked(&mut a, "q?");
    a.message = Some(Message { text: "m".into(), error: false });
    assert_eq!(a.handle(Action::Escape), vec![Command::CancelAsk]);
    // The message stays until the answer is gone; reports of it still land.
    assert!(a.message.is_some());
    a.apply(Report::Answer { id, update: AnswerUpdate::Cancelled });
    assert_eq!(a.current_turn().unwrap().state, TurnState::Cancelled);
    assert_eq!(a.answering, None);
    a.handle(Action::Escape);
    assert!(a.message.is_none());
    assert_eq!(a.editing, Some(Editing::Question));
    a.handle(Action::Escape);
    assert_eq!(a.editing, None);
}

#[test]
fn a_second_question_waits_for_the_first() {
    let mut a = app();
    asked(&mut a, "q?");
    typed(&mut a, "again?");
    assert!(a.handle(Action::Enter).is_empty());
    assert!(a.message.as_ref().is_some_and(|m| m.error));
    assert_eq!(a.question.text(), "again?");
}

#[test]
fn a_new_conversation_drops_the_old_answer_and_its_late_reports() {
    let mut a = app();
    let id = asked(&mut a, "q?");
    assert_eq!(a.handle(Action::NewConversation), vec![Command::CancelAsk]);
    assert!(a.conversation.turns.is_empty());
    a.apply(Report::Answer { id, update: AnswerUpdate::Text("late".into()) });
    assert!(a.conversation.turns.is_empty());
    let id2 = asked(&mut a, "new?");
    assert_ne!(id, id2);
    a.apply(Report::Answer { id, update: AnswerUpdate::Text("late".into()) });
    assert_eq!(a.current_turn().unwrap().text, "");
}

#[test]
fn live_search_sends_every_change_and_shows_only_the_newest_results() {
    let mut a = app();
    a.handle(Action::Escape);
    a.handle(Action::StartSearch);
    assert_eq!((a.view, a.editing), (MainView::Search, Some(Editing::Search)));
    let cmds = typed(&mut a, "gil");
    let seqs: Vec<u64> = cmds
        .iter()
        .filter_map(|c| match c {
            Command::Search { seq, .. } => Some(*seq),
            _ => None,
        })
        .collect();
    assert_eq!(seqs, vec![1, 2, 3]);
    assert!(a.search.running());
    // A stale result is ignored.
    a.apply(Report::SearchDone { seq: 2, hits: vec![hit(1, 1, "Old", "gi")], ms: 3.0 });
    assert!(a.search.hits.is_empty() && a.search.running());
    let cmds = a.apply(Report::SearchDone {
        seq: 3,
        hits: vec![hit(1, 1, "A", "gil"), hit(2, 2, "B", "gil")],
        ms: 4.0,
    });
    assert!(!a.search.running());
    assert_eq!(a.search.hits.len(), 2);
    assert_eq!(cmds, vec![Command::FetchContext(a.search.hits[0].chunk.id)]);
    // Down selects the next result and asks for its context.
    let cmds = a.handle(Action::Down);
    assert_eq!(a.search.selected, 1);
    assert_eq!(cmds, vec![Command::FetchContext(a.search.hits[1].chunk.id)]);
    // Erasing the query clears the results without a search.
    for _ in 0..3 {
        a.handle(Action::Edit(Edit::Backspace));
    }
    assert!(a.search.hits.is_empty() && !a.search.running());
    // Esc closes the search.
    a.handle(Action::Escape);
    assert_eq!(a.view, MainView::Conversation);
}

#[test]
fn enter_on_a_result_list_opens_the_source() {
    let mut a = app();
    a.handle(Action::Escape);
    a.handle(Action::StartSearch);
    typed(&mut a, "x");
    a.apply(Report::SearchDone { seq: 1, hits: vec![hit(1, 9, "A", "x")], ms: 1.0 });
    a.handle(Action::Enter);
    assert_eq!(a.editing, None);
    assert_eq!(a.handle(Action::Enter), vec![Command::Open("/docs/9.html".into())]);
}

#[test]
fn tab_cycles_panes_and_typing_follows_the_conversation_pane() {
    let mut a = app();
    a.handle(Action::NextPane);
    assert_eq!((a.focus, a.editing), (Focus::Sources, None));
    a.handle(Action::NextPane);
    assert_eq!(a.focus, Focus::Library);
    a.handle(Action::NextPane);
    assert_eq!((a.focus, a.editing), (Focus::Conversation, Some(Editing::Question)));
    a.handle(Action::PrevPane);
    assert_eq!(a.focus, Focus::Library);
}

#[test]
fn the_library_filters_as_you_type_and_shows_the_selected_document() {
    let mut a = app();
    let docs = vec![doc(1, "Python FAQ", "html", 40, &["python"]), doc(2, "R intro", "pdf", 300, &[])];
    a.apply(Report::LibraryLoaded { docs, counts: (2, 340) });
    a.handle(Action::NextPane);
    let cmds = a.handle(Action::NextPane);
    assert_eq!(a.subject, Subject::Document(1));
    assert_eq!(cmds, vec![Command::FetchContext(lore_index::catalog::chunk_id(1, 0))]);
    a.handle(Action::Down);
    assert_eq!(a.subject, Subject::Document(2));
    a.handle(Action::StartFilter);
    typed(&mut a, "pyth");
    let titles: Vec<&str> = a.library.visible().iter().map(|d| d.title.as_str()).collect();
    assert_eq!(titles, vec!["Python FAQ"]);
    assert_eq!(a.subject, Subject::Document(1));
    a.handle(Action::Enter);
    assert_eq!(a.editing, None);
    assert_eq!(a.handle(Action::Open), vec![Command::Open("/docs/python-faq.html".into())]);
    // Esc first dismisses the "opening" message, then clears the filter.
    a.handle(Action::Escape);
    assert!(a.message.is_none());
    a.handle(Action::Escape);
    assert!(a.library.filter.is_empty());
    assert_eq!(a.library.visible().len(), 2);
}

#[test]
fn deleting_asks_first() {
    let mut a = app();
    a.apply(Report::LibraryLoaded { docs: vec![doc(4, "Old notes", "text", 2, &[])], counts: (1, 2) });
    a.focus = Focus::Library;
    a.editing = None;
    assert!(a.handle(Action::DeleteDocument).is_empty());
    assert!(matches!(a.popup, Some(Popup::ConfirmDelete { doc_id: 4, .. })));
    assert!(a.handle(Action::Confirm(false)).is_empty());
    assert!(a.popup.is_none());
    a.handle(Action::DeleteDocument);
    let cmds = a.handle(Action::Confirm(true));
    assert_eq!(cmds, vec![Command::Delete { doc_id: 4, title: "Old notes".into() }]);
    assert_eq!(a.ingest.as_ref().map(|p| p.verb.as_str()), Some("removing"));
}

#[test]
fn adding_checks_the_path_and_reports_progress() {
    let mut a = app();
    a.handle(Action::AddDocument);
    for c in "/no/such/file.pdf".chars() {
        a.handle(Action::Edit(Edit::Char(c)));
    }
    assert!(a.handle(Action::Enter).is_empty());
    assert!(a.message.as_ref().is_some_and(|m| m.error && m.text.contains("/no/such/file.pdf")));
    a.handle(Action::AddDocument);
    a.handle(Action::Edit(Edit::Paste("https://example.org/post".into())));
    assert!(a.handle(Action::Enter).is_empty());
    assert_eq!(a.message.as_ref().map(|m| m.text.as_str()), Some(URL_HOOK));
    let dir = tempfile::tempdir().unwrap();
    a.handle(Action::AddDocument);
    a.handle(Action::Edit(Edit::Paste(dir.path().display().to_string())));
    assert_eq!(a.handle(Action::Enter), vec![Command::Add(dir.path().to_path_buf())]);
    a.apply(Report::Ingest(IngestUpdate::Planned { total: 2 }));
    a.apply(Report::Ingest(IngestUpdate::Started { index: 0, path: "a.pdf".into() }));
    a.apply(Report::Ingest(IngestUpdate::Embedding { done: 5, total: 10 }));
    let p = a.ingest.clone().unwrap();
    assert_eq!((p.total, p.done, p.current.as_str(), p.embedding), (2, 0, "a.pdf", Some((5, 10))));
    a.apply(Report::Ingest(IngestUpdate::Finished { index: 0, failed: Some("a.pdf: encrypted".into()) }));
    assert_eq!(a.ingest.as_ref().map(|p| (p.done, p.failed)), Some((1, 1)));
    let cmds = a.apply(Report::Ingest(IngestUpdate::Done { summary: "added 1".into(), failures: true }));
    assert_eq!(cmds, vec![Command::LoadLibrary]);
    assert!(a.ingest.is_none());
}

#[test]
fn feeds_are_a_named_hook() {
    let mut a = app();
    a.focus = Focus::Library;
    a.editing = None;
    a.handle(Action::RefreshFeeds);
    assert_eq!(a.message.as_ref().map(|m| m.text.as_str()), Some(FEEDS_HOOK));
}

#[test]
fn number_keys_pick_a_source() {
    let mut a = app();
    let id = asked(&mut a, "q?");
    let sources = vec![citation(1, 3, "A", "a"), citation(2, 4, "B", "b")];
    a.apply(Report::Answer { id, update: AnswerUpdate::Sources(sources.clone()) });
    a.handle(Action::Escape);
    a.handle(Action::Escape);
    let cmds = a.handle(Action::SelectSource(2));
    assert_eq!(a.selected_source().map(|c| c.n), Some(2));
    assert_eq!(cmds, vec![Command::FetchContext(sources[1].chunk_id)]);
    a.handle(Action::SelectSource(7));
    assert!(a.message.as_ref().is_some_and(|m| m.error));
    assert_eq!(a.handle(Action::Open), vec![Command::Open("/docs/4.html".into())]);
}

#[test]
fn scrolling_follows_the_end_until_moved_up() {
    let mut a = app();
    a.set_metrics(Metrics { main_lines: 100, main_height: 20, ..Metrics::default() });
    assert_eq!(a.conversation.scroll.top_for(100, 20), 80);
    a.handle(Action::PageUp);
    assert!(!a.conversation.scroll.follow);
    assert_eq!(a.conversation.scroll.top_for(100, 20), 61);
    a.handle(Action::Down);
    assert_eq!(a.conversation.scroll.top_for(100, 20), 62);
    a.handle(Action::PageDown);
    a.handle(Action::PageDown);
    assert!(a.conversation.scroll.follow);
    a.editing = None;
    a.handle(Action::Top);
    assert_eq!(a.conversation.scroll.top_for(100, 20), 0);
    a.handle(Action::Bottom);
    assert!(a.conversation.scroll.follow);
}

#[test]
fn the_wheel_scrolls_the_pane_under_the_pointer() {
    let mut a = app();
    a.apply(Report::LibraryLoaded {
        docs: vec![doc(1, "A", "pdf", 1, &[]), doc(2, "B", "pdf", 1, &[])],
        counts: (2, 2),
    });
    a.set_metrics(Metrics {
        conversation: Rect::new(0, 0, 40, 20),
        library: Rect::new(40, 10, 40, 10),
        main_lines: 50,
        main_height: 18,
        library_height: 8,
        ..Metrics::default()
    });
    a.handle(Action::Wheel { column: 5, row: 5, up: true });
    assert_eq!(a.conversation.scroll.top_for(50, 18), 29);
    a.handle(Action::Wheel { column: 50, row: 15, up: false });
    assert_eq!(a.library.selected, 1);
}

#[test]
fn past_conversations_load_into_the_transcript() {
    let mut a = app();
    assert_eq!(a.handle(Action::PastConversations), vec![Command::LoadConversations]);
    let list = vec![ConversationSummary {
        id: 3,
        title: "What is the GIL?".into(),
        created_at: "2026-11-28T10:00:00Z".into(),
        updated_at: "2026-11-28T10:05:00Z".into(),
        turns: 2,
    }];
    a.apply(Report::Conversations(list));
    assert_eq!(a.handle(Action::Enter), vec![Command::LoadConversation(3)]);
    assert!(a.popup.is_none());
    let cmds = a.apply(Report::ConversationLoaded {
        id: 3,
        turns: vec![("What is the GIL?".into(), "A lock [1].".into(), vec![citation(1, 3, "FAQ", "lock")])],
    });
    assert_eq!(a.conversation.id, Some(3));
    assert_eq!(a.conversation.turns.len(), 1);
    assert_eq!(cmds, vec![Command::FetchContext(citation(1, 3, "FAQ", "lock").chunk_id)]);
}

#[test]
fn help_opens_scrolls_and_closes() {
    let mut a = app();
    a.handle(Action::Help);
    a.set_metrics(Metrics { help_lines: 40, help_height: 10, ..Metrics::default() });
    a.handle(Action::PageDown);
    a.handle(Action::PageDown);
    a.handle(Action::PageDown);
    assert_eq!(a.popup, Some(Popup::Help { scroll: 30 }));
    a.handle(Action::Escape);
    assert!(a.popup.is_none());
    a.handle(Action::Help);
    assert!(a.handle(Action::Quit).is_empty());
    assert!(a.quit);
}

#[test]
fn the_engine_state_shows_errors_but_not_an_empty_library() {
    let mut a = app();
    a.apply(Report::EngineUnavailable { reason: "no library yet".into(), error: false });
    assert!(a.message.is_none());
    a.apply(Report::EngineUnavailable { reason: "model missing".into(), error: true });
    assert!(a.message.as_ref().is_some_and(|m| m.error && m.text.contains("model missing")));
    a.apply(Report::EngineReady);
    assert_eq!(a.engine, EngineState::Ready);
}
