//! State transitions, without a terminal.

use lore_agent::Citation;
use lore_index::SearchHit;
use lore_index::catalog::{ConversationSummary, DocSummary, Feed, FullText, StoredChunk};
use ratatui::layout::Rect;

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
        byte_len: 1000,
        page_count: None,
        sections: 3,
        chunks,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        added_at: "2026-11-29T10:00:00Z".into(),
        updated_at: "2026-11-29T10:00:00Z".into(),
        site: None,
    }
}

/// A feed as the catalog lists it; `error` makes its last fetch a failure.
pub(crate) fn feed(id: i64, title: &str, items: u32, unread: u32, new: u32, error: Option<&str>) -> Feed {
    Feed {
        id,
        url: format!("https://{}.example/feed.xml", title.to_lowercase().replace(' ', "-")),
        title: Some(title.into()),
        site_url: None,
        tags: vec!["news".into()],
        full_text: FullText::Auto,
        keep_items: None,
        keep_days: None,
        etag: None,
        last_modified: None,
        last_fetch_at: Some("2026-11-29T09:30:00Z".into()),
        last_status: Some(if error.is_some() { "error" } else { "ok" }.into()),
        last_error: error.map(str::to_string),
        new,
        items,
        unread,
        added_at: "2026-11-01T08:00:00Z".into(),
    }
}

/// A news item of a feed.
pub(crate) fn news(id: i64, title: &str, published: &str) -> DocSummary {
    let mut d = doc(id, title, "news", 3, &["news"]);
    d.url = Some(format!("https://blog.example/{id}"));
    d.source = d.url.clone().unwrap();
    d.published = Some(published.into());
    d
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
        line_start: None,
        line_end: None,
        ocr: false,
        language: None,
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
        evidence: 0.0,
        vector_pending: false,
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
            quotes: vec![],
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
fn sentences_checked_while_streaming_underline_their_quotes_at_once() {
    use lore_agent::verify::{Label, Quote, SentenceCheck};
    let mut a = app();
    let id = asked(&mut a, "What is the GIL?");
    let sources = vec![citation(1, 3, "Design FAQ", "The GIL is a lock. It is global.")];
    a.apply(Report::Answer { id, update: AnswerUpdate::Sources(sources.clone()) });
    a.apply(Report::Answer { id, update: AnswerUpdate::Text("The GIL is a lock [1]. It".into()) });
    let check = SentenceCheck {
        text: "The GIL is a lock [1].".into(),
        start: 0,
        end: 22,
        citations: vec![1],
        label: Label::Supported,
        quote: Some(Quote {
            passage: 1,
            text: "The GIL is a lock.".into(),
            chunk_id: Some(3),
            start: Some(0),
            end: Some(18),
        }),
        better_source: None,
        lexical: 1.0,
        cosine: None,
    };
    a.apply(Report::Answer { id, update: AnswerUpdate::Verified(check.clone()) });
    let t = a.current_turn().unwrap();
    assert_eq!(t.state, TurnState::Streaming);
    assert_eq!(
        t.quotes,
        vec![SourceQuote { n: 1, chunk_id: Some(3), text: "The GIL is a lock.".into(), span: Some((0, 18)) }]
    );
    // An unsupported sentence has no quote to show.
    let unsupported = SentenceCheck { label: Label::Unsupported, quote: None, ..check };
    a.apply(Report::Answer { id, update: AnswerUpdate::Verified(unsupported) });
    assert_eq!(a.current_turn().unwrap().quotes.len(), 1);
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
            quotes: vec![],
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
fn a_stopped_engine_ends_the_running_search_and_answer_and_is_started_again() {
    let mut a = app();
    a.apply(Report::EngineReady);
    // An answer and a search are running when the engine's thread stops on a panic.
    asked(&mut a, "why?");
    assert!(a.answering.is_some());
    a.handle(Action::Escape);
    a.handle(Action::StartSearch);
    typed(&mut a, "gil");
    assert!(a.search.running());
    let internal = "the search engine stopped on an internal error: boom (at index/src/x.rs:1)";
    a.apply(Report::Message(Message { text: internal.into(), error: true }));
    let cmds = a.apply(Report::EngineStopped);
    assert_eq!(cmds, vec![Command::RestartEngine]);
    // Neither waits for ever: both say why they ended, and the message line keeps the panic.
    assert!(!a.search.running());
    assert!(a.search.error.as_deref().is_some_and(|e| e.contains("stopped")), "{:?}", a.search.error);
    assert!(a.answering.is_none());
    assert!(matches!(a.conversation.turns.last().map(|t| &t.state), Some(TurnState::Failed(_))));
    assert_eq!(a.message.as_ref().map(|m| m.text.as_str()), Some(internal));
    assert_eq!(a.engine, EngineState::Opening);
    // The next search goes to the new engine.
    let cmds = typed(&mut a, "d");
    assert!(cmds.iter().any(|c| matches!(c, Command::Search { .. })), "{cmds:?}");
    assert!(a.search.running());
}

#[test]
fn another_process_changing_the_library_lists_it_again_and_reloads_the_engine() {
    let mut a = app();
    assert_eq!(a.apply(Report::LibraryChanged), vec![Command::LoadLibrary, Command::ReloadEngine]);
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
    a.apply(Report::LibraryLoaded { vectors_pending: 0, docs, counts: (2, 340), feeds: vec![] });
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
    a.apply(Report::LibraryLoaded {
        vectors_pending: 0,
        docs: vec![doc(4, "Old notes", "text", 2, &[])],
        counts: (1, 2),
        feeds: vec![],
    });
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
    assert_eq!(cmds, vec![Command::LoadLibrary, Command::ReloadEngine]);
    assert!(a.ingest.is_none());
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
        vectors_pending: 0,
        docs: vec![doc(1, "A", "pdf", 1, &[]), doc(2, "B", "pdf", 1, &[])],
        counts: (2, 2),
        feeds: vec![],
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
    assert_eq!(a.library.docs_pos.selected, 1);
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

fn with_feeds() -> App {
    let mut a = app();
    let docs = vec![
        news(10, "Rust 1.95 released", "2026-11-28T12:00:00Z"),
        news(11, "A new borrow checker", "2026-11-20T12:00:00Z"),
        doc(1, "Python FAQ", "html", 40, &["python"]),
    ];
    let feeds = vec![
        feed(1, "Rust Blog", 2, 1, 1, None),
        feed(2, "Broken Feed", 0, 0, 0, Some("HTTP 404 Not Found")),
        feed(3, "Python Insider", 0, 0, 0, None),
    ];
    a.apply(Report::LibraryLoaded { vectors_pending: 0, docs, counts: (3, 46), feeds });
    a.handle(Action::Escape);
    a
}

#[test]
fn r_refreshes_the_feeds_in_the_background_and_reports_progress() {
    // No feeds: nothing runs.
    let mut a = app();
    a.apply(Report::LibraryLoaded { vectors_pending: 0, docs: vec![], counts: (0, 0), feeds: vec![] });
    a.handle(Action::Escape);
    assert!(a.handle(Action::RefreshFeeds).is_empty());
    assert_eq!(a.message.as_ref().map(|m| (m.text.as_str(), m.error)), Some((NO_FEEDS, false)));
    assert!(a.ingest.is_none());

    let mut a = with_feeds();
    assert_eq!(a.handle(Action::RefreshFeeds), vec![Command::RefreshFeeds]);
    assert_eq!(a.ingest.as_ref().map(|p| p.verb.as_str()), Some("refreshing"));
    assert!(a.busy());
    // One job at a time.
    assert!(a.handle(Action::RefreshFeeds).is_empty());
    assert!(a.message.as_ref().is_some_and(|m| m.error));
    a.handle(Action::Escape);
    a.apply(Report::Ingest(IngestUpdate::Planned { total: 3 }));
    a.apply(Report::Ingest(IngestUpdate::Started { index: 0, path: "Rust Blog".into() }));
    a.apply(Report::Ingest(IngestUpdate::Items { done: 1, total: 4 }));
    let p = a.ingest.clone().unwrap();
    assert_eq!((p.total, p.done, p.current.as_str(), p.items), (3, 0, "Rust Blog", Some((1, 4))));
    // A failing item is a message; the refresh goes on.
    a.apply(Report::Ingest(IngestUpdate::Problem("Rust Blog: https://blog.example/3: HTTP 500".into())));
    assert!(a.message.as_ref().is_some_and(|m| m.error && m.text.contains("HTTP 500")));
    assert!(a.ingest.is_some());
    a.apply(Report::Ingest(IngestUpdate::Finished { index: 0, failed: None }));
    let p = a.ingest.clone().unwrap();
    assert_eq!((p.done, p.items, p.failed), (1, None, 0));
    a.apply(Report::Ingest(IngestUpdate::Finished {
        index: 1,
        failed: Some("Broken Feed: HTTP 404 Not Found".into()),
    }));
    assert_eq!(a.ingest.as_ref().map(|p| (p.done, p.failed)), Some((2, 1)));
    assert_eq!(a.message.as_ref().map(|m| m.text.as_str()), Some("Broken Feed: HTTP 404 Not Found"));
    a.apply(Report::Ingest(IngestUpdate::Finished { index: 2, failed: None }));
    let summary = "3 feeds: 5 new, 1 updated, 1 failed (Broken Feed: HTTP 404 Not Found)";
    let cmds = a.apply(Report::Ingest(IngestUpdate::Done { summary: summary.into(), failures: true }));
    assert_eq!(cmds, vec![Command::LoadLibrary, Command::ReloadEngine]);
    assert!(a.ingest.is_none());
    assert_eq!(a.message, Some(Message { text: summary.into(), error: true }));
}

#[test]
fn a_url_in_the_add_popup_adds_the_web_page() {
    let mut a = app();
    a.handle(Action::AddDocument);
    a.handle(Action::Edit(Edit::Paste("https://example.org/post".into())));
    assert_eq!(a.handle(Action::Enter), vec![Command::AddUrls(vec!["https://example.org/post".into()])]);
    assert_eq!(a.ingest.as_ref().map(|p| p.current.as_str()), Some("https://example.org/post"));
    a.apply(Report::Ingest(IngestUpdate::Done {
        summary: "added 1 document (4 chunks)".into(),
        failures: false,
    }));
    // Several URLs at once.
    a.handle(Action::AddDocument);
    a.handle(Action::Edit(Edit::Paste("HTTPS://a.example/1  http://b.example/2".into())));
    let cmds = a.handle(Action::Enter);
    assert_eq!(cmds, vec![Command::AddUrls(vec!["HTTPS://a.example/1".into(), "http://b.example/2".into()])]);
    assert_eq!(a.ingest.as_ref().map(|p| p.total), Some(2));
    a.apply(Report::Ingest(IngestUpdate::Done { summary: "added 2".into(), failures: false }));
    // Other schemes are refused, naming what was refused.
    for typed in ["ftp://example.org/file.pdf", "https://a.example/1 ftp://b.example/2", "file:///etc/hosts"]
    {
        a.handle(Action::AddDocument);
        a.handle(Action::Edit(Edit::Paste(typed.into())));
        assert!(a.handle(Action::Enter).is_empty(), "{typed}");
        let refused = typed.split_whitespace().find(|u| !u.starts_with("https")).unwrap();
        let m = a.message.clone().unwrap();
        assert!(m.error && m.text.starts_with(refused) && m.text.contains("only http and https"), "{m:?}");
        assert!(a.ingest.is_none());
    }
}

#[test]
fn the_feeds_list_is_filtered_and_shows_the_selected_feed() {
    let mut a = with_feeds();
    a.focus = Focus::Library;
    assert_eq!(a.library.view, LibraryView::Documents);
    // Right switches to the feeds, which show in the sources pane with their items.
    let cmds = a.handle(Action::Right);
    assert_eq!(a.library.view, LibraryView::Feeds);
    assert_eq!(a.subject, Subject::Feed(1));
    assert_eq!(cmds, vec![Command::LoadFeedItems(1)]);
    let cmds = a.handle(Action::Down);
    assert_eq!((a.subject, cmds), (Subject::Feed(2), vec![Command::LoadFeedItems(2)]));
    // The filter applies to the feeds shown: name, URL or tag.
    a.handle(Action::StartFilter);
    let cmds = typed(&mut a, "python");
    let names: Vec<&str> = a.library.visible_feeds().iter().map(|f| f.display_name()).collect();
    assert_eq!(names, vec!["Python Insider"]);
    assert_eq!(a.subject, Subject::Feed(3));
    assert!(cmds.contains(&Command::LoadFeedItems(3)), "{cmds:?}");
    // ... and to the documents when they are shown.
    a.handle(Action::Enter);
    a.handle(Action::Left);
    assert_eq!(a.library.view, LibraryView::Documents);
    let titles: Vec<&str> = a.library.visible().iter().map(|d| d.title.as_str()).collect();
    assert_eq!(titles, vec!["Python FAQ"]);
    a.handle(Action::Right);
    a.handle(Action::StartFilter);
    a.handle(Action::Edit(Edit::Clear));
    typed(&mut a, "rust-blog.example");
    assert_eq!(a.library.visible_feeds().len(), 1);
    a.handle(Action::Edit(Edit::Clear));
    assert_eq!(a.library.visible_feeds().len(), 3);
    // d on a feed deletes nothing.
    a.handle(Action::Enter);
    assert!(a.handle(Action::DeleteDocument).is_empty());
    assert!(a.popup.is_none());
}

#[test]
fn a_feed_lists_its_items_and_opening_a_news_item_marks_it_read() {
    let mut a = with_feeds();
    a.focus = Focus::Library;
    a.handle(Action::Right);
    // Enter on a feed lists its items once read.
    assert_eq!(a.handle(Action::Enter), Vec::<Command>::new(), "the items were asked for already");
    assert_eq!(a.library.view, LibraryView::Items(1));
    assert_eq!(a.library.visible_items(1), None);
    a.apply(Report::FeedItems(FeedItems { feed_id: 1, docs: vec![10, 11] }));
    let titles: Vec<&str> = a.library.visible_items(1).unwrap().iter().map(|d| d.title.as_str()).collect();
    assert_eq!(titles, vec!["Rust 1.95 released", "A new borrow checker"]);
    assert_eq!(a.subject, Subject::Document(10));
    a.handle(Action::Down);
    assert_eq!(a.library.selected_doc().map(|d| d.id), Some(11));
    // Opening a news item marks it read.
    assert_eq!(
        a.handle(Action::Enter),
        vec![Command::Open("https://blog.example/11".into()), Command::MarkRead(11)]
    );
    a.apply(Report::FeedsLoaded(vec![
        feed(1, "Rust Blog", 2, 0, 1, None),
        feed(2, "Broken Feed", 0, 0, 0, Some("HTTP 404 Not Found")),
        feed(3, "Python Insider", 0, 0, 0, None),
    ]));
    assert_eq!(a.library.feed(1).map(|f| f.unread), Some(0));
    assert_eq!(a.library.view, LibraryView::Items(1));
    // Esc dismisses the message, then goes back to the feeds with the feed still selected.
    a.handle(Action::Escape);
    a.handle(Action::Escape);
    assert_eq!(a.library.view, LibraryView::Feeds);
    assert_eq!(a.subject, Subject::Feed(1));
    // o on a feed opens its URL; nothing is marked.
    assert_eq!(a.handle(Action::Open), vec![Command::Open("https://rust-blog.example/feed.xml".into())]);
    // A feed that is gone leaves its items.
    a.handle(Action::Enter);
    a.apply(Report::FeedsLoaded(vec![feed(2, "Broken Feed", 0, 0, 0, None)]));
    assert_eq!(a.library.view, LibraryView::Feeds);
    assert_eq!(a.library.selected_feed().map(|f| f.id), Some(2));
    // Opening a news item from search results marks it too.
    let mut b = app();
    b.handle(Action::Escape);
    b.handle(Action::StartSearch);
    typed(&mut b, "rust");
    let mut h = hit(1, 10, "Rust 1.95 released", "rust");
    h.kind = "news".into();
    b.apply(Report::SearchDone { seq: b.search.seq, hits: vec![h], ms: 1.0 });
    b.handle(Action::Enter);
    assert_eq!(b.handle(Action::Open), vec![Command::Open("/docs/10.html".into()), Command::MarkRead(10)]);
}

#[test]
fn a_reload_keeps_the_feed_items_fresh() {
    let mut a = with_feeds();
    a.focus = Focus::Library;
    a.handle(Action::Right);
    a.handle(Action::Enter);
    a.apply(Report::FeedItems(FeedItems { feed_id: 1, docs: vec![10, 11] }));
    let cmds = a.apply(Report::LibraryLoaded {
        vectors_pending: 0,
        docs: a.library.docs.clone(),
        counts: (3, 46),
        feeds: a.library.feeds.clone(),
    });
    assert_eq!(cmds, vec![Command::LoadFeedItems(1)]);
    // The old items stay shown until the new ones arrive.
    assert_eq!(a.library.visible_items(1).map(|v| v.len()), Some(2));
}

#[test]
fn research_mode_asks_for_a_report_and_shows_its_plan_and_progress() {
    let mut a = app();
    a.handle(Action::ToggleResearch);
    assert!(a.research);
    typed(&mut a, "Compare A and B");
    let cmds = a.handle(Action::Enter);
    let [Command::Ask { id, research: true, .. }] = cmds.as_slice() else { panic!("{cmds:?}") };
    let id = *id;
    assert!(a.current_turn().unwrap().research);
    a.apply(Report::Answer { id, update: AnswerUpdate::Progress("planning the research…".into()) });
    a.apply(Report::Answer {
        id,
        update: AnswerUpdate::Plan(vec!["What is A?".into(), "What is B?".into()]),
    });
    a.apply(Report::Answer { id, update: AnswerUpdate::Progress("searching 2/2…".into()) });
    let t = a.current_turn().unwrap();
    assert_eq!((t.plan.len(), t.progress.as_deref()), (2, Some("searching 2/2…")));
    a.apply(Report::Answer { id, update: AnswerUpdate::Text("## What is A?\n".into()) });
    assert_eq!(a.current_turn().unwrap().progress, None, "text replaces the progress line");
    // Back to answers: the next question is no research.
    a.apply(Report::Answer {
        id,
        update: AnswerUpdate::Done {
            text: "## What is A?\nA is a letter [1].".into(),
            citations: vec![citation(1, 3, "Letters", "A is a letter.")],
            conversation: None,
            related: vec![],
            quotes: vec![],
        },
    });
    a.handle(Action::ToggleResearch);
    typed(&mut a, "What is A?");
    let cmds = a.handle(Action::Enter);
    assert!(matches!(cmds.as_slice(), [Command::Ask { research: false, .. }]), "{cmds:?}");
}

#[test]
fn a_summary_in_progress_shows_its_progress_and_esc_stops_it() {
    let mut a = app();
    let id = asked(&mut a, "Summarise chapter 4 of An Introduction to R");
    let line = "summarising \"4 Ordered and unordered factors\": 1/2 parts".to_string();
    a.apply(Report::Answer { id, update: AnswerUpdate::Progress(line.clone()) });
    let shown = a.message.as_ref().expect("a status line");
    assert!(
        !shown.error && shown.text.starts_with(&line) && shown.text.contains("Esc stops"),
        "{}",
        shown.text
    );
    assert_eq!(a.handle(Action::Escape), vec![Command::CancelAsk]);
}
