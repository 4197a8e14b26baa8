//! Snapshots of the main screens, drawn with ratatui's `TestBackend` at the smallest supported
//! size (80x24) and one larger, in the colourless theme. The snapshots live in
//! `tui/src/ui/snapshots/`.

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::draw;
use crate::ui::app::tests::{chunk, citation, doc, feed, hit, news, settings};
use crate::ui::app::*;
use crate::ui::theme::Theme;

fn render(app: &mut App, width: u16, height: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(width, height)).unwrap();
    // Twice, as the runtime does: the second frame uses the sizes of the first.
    for _ in 0..2 {
        let mut m = app.metrics;
        term.draw(|f| m = draw(f, app, &Theme::plain())).unwrap();
        app.set_metrics(m);
    }
    term.backend().to_string()
}

macro_rules! snapshot {
    ($name:expr, $screen:expr) => {
        insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!($name, $screen);
        });
    };
}

fn library() -> Vec<lore_index::catalog::DocSummary> {
    vec![
        doc(3, "Design and History FAQ", "html", 42, &["python"]),
        doc(4, "Library and Extension FAQ", "html", 35, &["python"]),
        doc(5, "An Introduction to R", "pdf", 412, &[]),
        doc(6, "Moby-Dick; or, The Whale — Chapter 1. Loomings", "text", 12, &["novel", "melville"]),
    ]
}

fn with_library() -> App {
    let mut a = App::new(settings());
    a.apply(Report::LibraryLoaded { docs: library(), counts: (4, 501), feeds: vec![] });
    a.apply(Report::EngineReady);
    a
}

const GIL: &str = "The global interpreter lock (GIL) is used internally to ensure that only one thread \
runs in the Python VM at a time. In general, Python offers to switch among threads only between \
bytecode instructions.";

fn answered() -> App {
    let mut a = with_library();
    for c in "Why does Python have a global interpreter lock?".chars() {
        a.handle(Action::Edit(Edit::Char(c)));
    }
    a.handle(Action::Enter);
    let id = a.answering.unwrap();
    let mut design = citation(1, 3, "Design and History FAQ", GIL);
    design.section = Some("Can't we get rid of the Global Interpreter Lock?".into());
    let library = citation(2, 4, "Library and Extension FAQ", "Threads run one at a time under the GIL.");
    a.apply(Report::Answer { id, update: AnswerUpdate::Sources(vec![design.clone(), library]) });
    for piece in [
        "The GIL makes sure only one thread runs Python bytecode at a time [1]. ",
        "Removing it would slow down single-threaded code, ",
        "and extension modules rely on it [2].",
    ] {
        a.apply(Report::Answer { id, update: AnswerUpdate::Text(piece.into()) });
    }
    a.apply(Report::Context(ChunkContext {
        chunk_id: design.chunk_id,
        chunk: Some(chunk(3, 1, GIL)),
        before: Some(
            "Why can't I use an assignment in an expression? Starting in Python 3.8, you can!".into(),
        ),
        after: Some(
            "Can't we get rid of the Global Interpreter Lock? The GIL is often seen as a hindrance.".into(),
        ),
    }));
    a
}

#[test]
fn empty_library() {
    let mut a = App::new(settings());
    a.apply(Report::LibraryLoaded { docs: vec![], counts: (0, 0), feeds: vec![] });
    a.apply(Report::EngineUnavailable { reason: "no library yet".into(), error: false });
    snapshot!("empty_library", render(&mut a, 80, 24));
}

#[test]
fn streamed_answer_with_citations() {
    let mut a = answered();
    snapshot!("streamed_answer", render(&mut a, 80, 24));
}

#[test]
fn sources_pane() {
    let mut a = answered();
    let id = a.answering.unwrap();
    let text = a.current_turn().unwrap().text.clone();
    let cites = a.current_turn().unwrap().sources.clone();
    a.apply(Report::Answer {
        id,
        update: AnswerUpdate::Done {
            text,
            citations: cites,
            conversation: Some(12),
            related: vec!["Programming FAQ".into(), "Library and Extension FAQ".into()],
        },
    });
    a.handle(Action::NextPane);
    snapshot!("sources_pane", render(&mut a, 100, 30));
}

#[test]
fn search_results() {
    let mut a = with_library();
    a.handle(Action::Escape);
    a.handle(Action::StartSearch);
    for c in "interpreter lock".chars() {
        a.handle(Action::Edit(Edit::Char(c)));
    }
    let seq = a.search.seq;
    let mut h1 = hit(1, 3, "Design and History FAQ", GIL);
    h1.highlights = vec![(15, 26), (27, 31)];
    let h2 = hit(
        2,
        4,
        "Library and Extension FAQ",
        "Can I use threads? The interpreter lock means one thread at a time.",
    );
    let h3 = hit(3, 5, "An Introduction to R", "R is an interpreter for a language of statistics.");
    a.apply(Report::SearchDone { seq, hits: vec![h1, h2, h3], ms: 23.4 });
    snapshot!("search_results", render(&mut a, 80, 24));
}

#[test]
fn help_popup() {
    let mut a = with_library();
    a.handle(Action::Help);
    snapshot!("help_popup", render(&mut a, 80, 24));
    snapshot!("help_popup_large", render(&mut a, 100, 45));
}

#[test]
fn an_error() {
    let mut a = with_library();
    for c in "What is a closure?".chars() {
        a.handle(Action::Edit(Edit::Char(c)));
    }
    a.handle(Action::Enter);
    let id = a.answering.unwrap();
    let e = "cannot reach the chat model at http://127.0.0.1:9/v1: connection refused";
    a.apply(Report::Answer { id, update: AnswerUpdate::Failed(e.into()) });
    snapshot!("error", render(&mut a, 80, 24));
}

#[test]
fn ingest_progress_and_library_focus() {
    let mut a = with_library();
    a.handle(Action::PrevPane);
    a.apply(Report::Ingest(IngestUpdate::Planned { total: 12 }));
    a.apply(Report::Ingest(IngestUpdate::Started { index: 4, path: "/home/u/books/sicp.pdf".into() }));
    a.apply(Report::Ingest(IngestUpdate::Embedding { done: 128, total: 512 }));
    snapshot!("ingest_progress", render(&mut a, 80, 24));
}

#[test]
fn delete_confirmation() {
    let mut a = with_library();
    a.handle(Action::PrevPane);
    a.handle(Action::Down);
    a.handle(Action::DeleteDocument);
    snapshot!("delete_confirmation", render(&mut a, 80, 24));
}

fn with_feeds() -> App {
    let mut a = App::new(settings());
    let mut docs = vec![
        news(10, "Rust 1.95 released", "2026-11-28T12:00:00Z"),
        news(11, "A new borrow checker for everyone", "2026-11-20T12:00:00Z"),
        news(12, "This week in Rust 600", "2026-11-18T12:00:00Z"),
    ];
    docs.extend(library());
    // Subscribed and never fetched: known by its URL only.
    let mut untitled = feed(4, "x", 0, 0, 0, None);
    untitled.url = "https://news.example.org/category/science/feed/".into();
    (untitled.title, untitled.last_fetch_at, untitled.last_status) = (None, None, None);
    let feeds = vec![
        feed(1, "Rust Blog", 3, 2, 1, None),
        feed(2, "Broken Feed", 12, 0, 0, Some("https://broken-feed.example/feed.xml: HTTP 404 Not Found")),
        feed(3, "Python Insider", 25, 10, 3, None),
        untitled,
    ];
    a.apply(Report::LibraryLoaded { docs, counts: (7, 510), feeds });
    a.apply(Report::EngineReady);
    a
}

#[test]
fn feeds_with_one_failing() {
    let mut a = with_feeds();
    a.handle(Action::PrevPane);
    a.handle(Action::Right);
    a.handle(Action::Down);
    a.apply(Report::FeedItems(FeedItems { feed_id: 2, docs: vec![] }));
    snapshot!("feeds", render(&mut a, 80, 24));
}

#[test]
fn a_feeds_items_while_refreshing() {
    let mut a = with_feeds();
    a.handle(Action::PrevPane);
    a.handle(Action::Right);
    a.handle(Action::Enter);
    a.apply(Report::FeedItems(FeedItems { feed_id: 1, docs: vec![10, 11, 12] }));
    a.handle(Action::Down);
    a.handle(Action::RefreshFeeds);
    a.apply(Report::Ingest(IngestUpdate::Planned { total: 3 }));
    a.apply(Report::Ingest(IngestUpdate::Started { index: 2, path: "Python Insider".into() }));
    a.apply(Report::Ingest(IngestUpdate::Items { done: 1, total: 4 }));
    snapshot!("feed_items_refreshing", render(&mut a, 100, 30));
}

#[test]
fn small_screens_do_not_panic() {
    let mut a = answered();
    for (w, h) in [(1, 1), (10, 5), (40, 12), (79, 23)] {
        render(&mut a, w, h);
    }
    a.handle(Action::Help);
    render(&mut a, 20, 8);
    let mut a = with_feeds();
    a.handle(Action::PrevPane);
    a.handle(Action::Right);
    a.handle(Action::StartFilter);
    for (w, h) in [(1, 1), (10, 5), (40, 12), (79, 23)] {
        render(&mut a, w, h);
    }
}
