//! Snapshots of the main screens, drawn with ratatui's `TestBackend` at the smallest supported
//! size (80x24) and one larger, in the colourless theme. The snapshots live in
//! `tui/src/ui/snapshots/`.

use ratatui::Terminal;
use ratatui::backend::{Backend, TestBackend};
use ratatui::buffer::Buffer;

use super::draw;
use crate::ui::app::tests::{chunk, citation, doc, feed, hit, news, settings};
use crate::ui::app::*;
use crate::ui::text::str_width;
use crate::ui::theme::Theme;

fn render(app: &mut App, width: u16, height: u16) -> String {
    render_with_cursor(app, width, height).0
}

/// The screen and where the terminal's cursor is (after the last frame).
fn render_with_cursor(app: &mut App, width: u16, height: u16) -> (String, (u16, u16)) {
    let mut term = Terminal::new(TestBackend::new(width, height)).unwrap();
    // Twice, as the runtime does: the second frame uses the sizes of the first.
    for _ in 0..2 {
        let mut m = app.metrics;
        term.draw(|f| m = draw(f, app, &Theme::plain())).unwrap();
        app.set_metrics(m);
    }
    let at = term.backend_mut().get_cursor_position().unwrap();
    (screen(term.backend().buffer()), (at.x, at.y))
}

/// The terminal's screen as text, a quoted line a row, each wide character covering the cell
/// after it. Only what ratatui sent to the terminal is there: a border drawn into the cell a
/// wide character covers is missing, as it would be on the screen.
fn screen(buffer: &Buffer) -> String {
    let mut view = String::new();
    for cells in buffer.content.chunks(buffer.area.width as usize) {
        let mut covered = 0;
        view.push('"');
        for c in cells {
            if covered == 0 {
                view.push_str(c.symbol());
            }
            covered = covered.max(str_width(c.symbol())).saturating_sub(1);
        }
        view.push_str("\"\n");
    }
    view
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
    a.apply(Report::LibraryLoaded { vectors_pending: 0, docs: library(), counts: (4, 501), feeds: vec![] });
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
    a.apply(Report::LibraryLoaded { vectors_pending: 0, docs: vec![], counts: (0, 0), feeds: vec![] });
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
            quotes: vec![],
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
    a.apply(Report::LibraryLoaded { vectors_pending: 0, docs, counts: (7, 510), feeds });
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

// Chinese (and Japanese) documents and answers: wide characters must be measured in columns,
// never cut in half at a border or a truncation point, and the cursor must follow them.

fn zh_library() -> Vec<lore_index::catalog::DocSummary> {
    vec![
        doc(21, "深入理解计算机系统（原书第3版）第一章：计算机系统漫游", "pdf", 1204, &["教材"]),
        doc(22, "全局解释器锁的设计与历史", "html", 42, &["python"]),
        doc(23, "吾輩は猫である　第一章　夏目漱石", "text", 88, &[]),
        doc(24, "Rust 程序设计语言 — 所有权与借用", "html", 310, &["rust"]),
        doc(25, "短标题", "markdown", 7, &["笔记"]),
    ]
}

fn with_zh_library() -> App {
    let mut a = App::new(settings());
    a.apply(Report::LibraryLoaded {
        vectors_pending: 0,
        docs: zh_library(),
        counts: (5, 1651),
        feeds: vec![],
    });
    a.apply(Report::EngineReady);
    a
}

fn typed(a: &mut App, text: &str) {
    for c in text.chars() {
        a.handle(Action::Edit(Edit::Char(c)));
    }
}

const GIL_ZH: &str = "全局解释器锁（GIL）用于在内部确保同一时刻只有一个线程在 Python 虚拟机中运行。\
一般来说，Python 只在字节码指令之间切换线程；I/O 操作会释放这把锁。";

fn answered_zh() -> App {
    let mut a = with_zh_library();
    typed(&mut a, "为什么 Python 需要全局解释器锁？去掉它会怎样？");
    a.handle(Action::Enter);
    let id = a.answering.unwrap();
    let mut design = citation(1, 22, "全局解释器锁的设计与历史", GIL_ZH);
    design.section = Some("全局解释器锁的设计与历史 > 我们能去掉全局解释器锁吗？".into());
    let mut rust =
        citation(2, 24, "Rust 程序设计语言 — 所有权与借用", "扩展模块依赖这把锁来保护自己的状态。");
    rust.section = Some("线程".into());
    a.apply(Report::Answer { id, update: AnswerUpdate::Sources(vec![design.clone(), rust]) });
    for piece in [
        "全局解释器锁（GIL）保证同一时刻只有一个线程执行 Python 字节码[1]。",
        "去掉它会让单线程代码变慢，",
        "而且许多扩展模块依赖它来保护内部状态[2]。",
    ] {
        a.apply(Report::Answer { id, update: AnswerUpdate::Text(piece.into()) });
    }
    a.apply(Report::Context(ChunkContext {
        chunk_id: design.chunk_id,
        chunk: Some(chunk(22, 1, GIL_ZH)),
        before: Some("为什么不能在表达式中赋值？从 Python 3.8 开始，你可以使用海象运算符了！".into()),
        after: Some(
            "我们能去掉全局解释器锁吗？全局解释器锁常被视为一种障碍，它让多线程程序无法充分利用多核处理器。"
                .into(),
        ),
    }));
    a
}

#[test]
fn zh_library_with_long_titles() {
    let mut a = with_zh_library();
    a.handle(Action::PrevPane);
    a.handle(Action::Down);
    a.handle(Action::Down);
    let id = a.library.selected_doc().unwrap().id;
    a.apply(Report::Context(ChunkContext {
        chunk_id: lore_index::catalog::chunk_id(id, 0),
        chunk: Some(chunk(id, 0, "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している。")),
        before: None,
        after: None,
    }));
    snapshot!("zh_library", render(&mut a, 80, 24));
    snapshot!("zh_library_large", render(&mut a, 120, 30));
}

#[test]
fn zh_search_results() {
    let mut a = with_zh_library();
    a.handle(Action::Escape);
    a.handle(Action::StartSearch);
    typed(&mut a, "全局解释器锁");
    let seq = a.search.seq;
    let mut h1 = hit(1, 22, "全局解释器锁的设计与历史", GIL_ZH);
    h1.chunk.heading_path = vec!["全局解释器锁的设计与历史".into(), "我们能去掉全局解释器锁吗？".into()];
    let start = GIL_ZH.find("全局解释器锁").unwrap();
    h1.highlights = vec![(start, start + "全局解释器锁".len())];
    let mut h2 = hit(
        2,
        21,
        "深入理解计算机系统（原书第3版）第一章：计算机系统漫游",
        "线程是运行在进程上下文中的逻辑流。多个线程共享同一个虚拟地址空间，\n  因此需要锁来保护共享数据。",
    );
    h2.chunk.heading_path = vec!["第一章".into(), "1.9 重要主题".into(), "1.9.2 并发和并行".into()];
    let mut h3 = hit(3, 23, "吾輩は猫である　第一章　夏目漱石", "吾輩は猫である。名前はまだ無い。");
    h3.chunk.heading_path = vec![];
    a.apply(Report::SearchDone { seq, hits: vec![h1, h2, h3], ms: 31.0 });
    let (shot, cursor) = render_with_cursor(&mut a, 80, 24);
    // After "/ " and six characters of two columns each, inside the input box's border.
    assert_eq!(cursor, (1 + 2 + 12, 21));
    snapshot!("zh_search_results", shot);
}

#[test]
fn zh_streamed_answer_with_citations() {
    let mut a = answered_zh();
    snapshot!("zh_streamed_answer", render(&mut a, 80, 24));
}

#[test]
fn zh_sources_pane() {
    let mut a = answered_zh();
    let id = a.answering.unwrap();
    let text = a.current_turn().unwrap().text.clone();
    let cites = a.current_turn().unwrap().sources.clone();
    a.apply(Report::Answer {
        id,
        update: AnswerUpdate::Done {
            text,
            citations: cites,
            conversation: Some(7),
            related: vec!["编程常见问题".into(), "深入理解计算机系统（原书第3版）".into()],
            quotes: vec![],
        },
    });
    a.handle(Action::NextPane);
    snapshot!("zh_sources_pane", render(&mut a, 80, 24));
    snapshot!("zh_sources_pane_large", render(&mut a, 100, 30));
}

#[test]
fn zh_past_conversations_and_history() {
    let mut a = with_zh_library();
    a.handle(Action::Escape);
    a.handle(Action::PastConversations);
    let summary = |id: i64, title: &str, turns: u64| lore_index::catalog::ConversationSummary {
        id,
        title: title.into(),
        created_at: "2026-11-28T10:00:00Z".into(),
        updated_at: "2026-11-28T10:05:00Z".into(),
        turns,
    };
    a.apply(Report::Conversations(vec![
        summary(9, "为什么 Python 需要全局解释器锁？去掉它以后单线程程序会变慢多少？", 3),
        summary(8, "所有权与借用", 1),
        summary(7, "吾輩は猫であるの名前は？", 12),
    ]));
    snapshot!("zh_past_conversations", render(&mut a, 80, 24));
    a.handle(Action::Enter);
    a.apply(Report::ConversationLoaded {
        id: 9,
        turns: vec![
            (
                "为什么 Python 需要全局解释器锁？".into(),
                "为了保证同一时刻只有一个线程执行字节码[1]。".into(),
                vec![citation(1, 22, "全局解释器锁的设计与历史", GIL_ZH)],
            ),
            (
                "去掉它以后单线程程序会变慢多少？".into(),
                "早期的实验表明，去掉全局解释器锁会让单线程程序慢大约百分之三十到百分之四十[1]。".into(),
                vec![citation(1, 22, "全局解释器锁的设计与历史", GIL_ZH)],
            ),
        ],
    });
    snapshot!("zh_conversation_history", render(&mut a, 80, 24));
}

#[test]
fn zh_question_being_typed() {
    let mut a = with_zh_library();
    typed(&mut a, "请用中文解释一下全局解释器锁为什么会影响多线程程序的性能");
    let (shot, cursor) = render_with_cursor(&mut a, 80, 24);
    // The question is wider than the box: it scrolls to keep the cursor, at the end, in view,
    // and the cursor sits right after the last shown character.
    let input_line = shot.lines().nth(21).unwrap();
    let shown = input_line.trim_matches('"').split('│').nth(1).unwrap().trim_end();
    assert_eq!(cursor, (1 + str_width(shown) as u16, 21));
    snapshot!("zh_question_typed", shot);
    for _ in 0..10 {
        a.handle(Action::Edit(Edit::Left));
    }
    let (shot, cursor) = render_with_cursor(&mut a, 80, 24);
    assert_eq!(cursor.1, 21);
    let input_line = shot.lines().nth(21).unwrap();
    let shown = input_line.trim_matches('"').split('│').nth(1).unwrap();
    // Ten characters from the end: before 影 of 影响多线程程序的性能.
    let before: String = shown.chars().take_while(|c| *c != '影').collect();
    assert_eq!(cursor.0, 1 + str_width(&before) as u16);
}

#[test]
fn zh_error_and_message() {
    let mut a = with_zh_library();
    typed(&mut a, "什么是闭包？");
    a.handle(Action::Enter);
    let id = a.answering.unwrap();
    let e = "无法连接到聊天模型 http://127.0.0.1:9/v1：连接被拒绝（请检查模型服务是否已经启动）";
    a.apply(Report::Answer { id, update: AnswerUpdate::Failed(e.into()) });
    a.apply(Report::Message(Message {
        text: "无法读取《深入理解计算机系统（原书第3版）》：文件已被移动或删除，请重新添加。".into(),
        error: true,
    }));
    snapshot!("zh_error", render(&mut a, 80, 24));
}

#[test]
fn zh_delete_confirmation() {
    // Over a Chinese answer: the popup's left border falls on the second half of a character.
    let mut a = answered_zh();
    let id = a.answering.unwrap();
    let more = "\n另外，自由线程构建（PEP 703）允许在编译时关闭全局解释器锁，但代价是单线程性能下降，\
而且一些扩展模块需要重新编译才能在没有全局解释器锁的解释器中安全运行。";
    a.apply(Report::Answer { id, update: AnswerUpdate::Text(more.into()) });
    a.handle(Action::PrevPane);
    a.handle(Action::DeleteDocument);
    let shot = render(&mut a, 80, 24);
    // The popup spans columns 10 to 69 and rows 8 to 15: its left border is whole.
    for row in shot.lines().skip(8).take(8) {
        let mut col = 0;
        let at_10 = row.trim_start_matches('"').chars().find(|c| {
            col += str_width(&c.to_string());
            col > 10
        });
        assert!(matches!(at_10, Some('┌' | '│' | '└')), "{row}");
    }
    snapshot!("zh_delete_confirmation", shot);
}

#[test]
fn zh_ingest_progress() {
    let mut a = with_zh_library();
    a.handle(Action::PrevPane);
    a.apply(Report::Ingest(IngestUpdate::Planned { total: 3 }));
    a.apply(Report::Ingest(IngestUpdate::Started {
        index: 1,
        path: "/home/u/书籍/计算机科学/深入理解计算机系统（原书第3版）.pdf".into(),
    }));
    a.apply(Report::Ingest(IngestUpdate::Embedding { done: 64, total: 1204 }));
    snapshot!("zh_ingest_progress", render(&mut a, 80, 24));
}

#[test]
fn zh_feeds() {
    let mut a = App::new(settings());
    let mut docs = vec![
        news(30, "Rust 1.95 发布：更快的编译与全新的借用检查器", "2026-11-28T12:00:00Z"),
        news(31, "本周 Rust 第 600 期", "2026-11-20T12:00:00Z"),
    ];
    docs.extend(zh_library());
    let feeds = vec![
        feed(1, "Rust 中文社区周报与官方博客精选", 3, 2, 1, None),
        feed(2, "少数派", 12, 0, 0, Some("https://sspai.example/feed: HTTP 404 未找到")),
    ];
    a.apply(Report::LibraryLoaded { vectors_pending: 0, docs, counts: (7, 1657), feeds });
    a.apply(Report::EngineReady);
    a.handle(Action::PrevPane);
    a.handle(Action::Right);
    snapshot!("zh_feeds", render(&mut a, 80, 24));
    a.handle(Action::Enter);
    a.apply(Report::FeedItems(FeedItems { feed_id: 1, docs: vec![30, 31] }));
    snapshot!("zh_feed_items", render(&mut a, 80, 24));
}

#[test]
fn zh_library_filter_and_add_popup() {
    let mut a = with_zh_library();
    a.handle(Action::PrevPane);
    a.handle(Action::StartFilter);
    typed(&mut a, "计算机");
    let (shot, cursor) = render_with_cursor(&mut a, 80, 24);
    // After "filter: " and three characters of two columns, on the row below the tabs.
    assert_eq!(cursor, (47 + 8 + 6, 15));
    snapshot!("zh_library_filter", shot);
    a.handle(Action::Escape);
    a.handle(Action::AddDocument);
    typed(&mut a, "~/书籍/计算机科学/经典教材/深入理解计算机系统（原书第3版）第一章：计算机系统漫游.pdf");
    let (shot, cursor) = render_with_cursor(&mut a, 80, 24);
    let input_line = shot.lines().find(|l| l.contains("› ")).unwrap();
    let shown = input_line.split("› ").nth(1).unwrap().trim_end_matches(['"', '│', ' ']);
    // The popup is 72 columns wide, centred: its inside starts at column 5.
    assert_eq!(cursor.0, 5 + 2 + str_width(shown) as u16);
    snapshot!("zh_add_popup", shot);
}

#[test]
fn the_status_line_counts_chunks_awaiting_vectors() {
    let mut a = App::new(settings());
    a.apply(Report::LibraryLoaded {
        vectors_pending: 1234,
        docs: library(),
        counts: (4, 1501),
        feeds: vec![],
    });
    let screen = render(&mut a, 160, 20);
    assert!(screen.contains("1,234 chunks awaiting vectors"), "{screen}");
    a.apply(Report::LibraryLoaded { vectors_pending: 0, docs: library(), counts: (4, 1501), feeds: vec![] });
    assert!(!render(&mut a, 160, 20).contains("awaiting"));
}

#[test]
fn a_source_opens_at_the_quote_that_supports_the_answer_until_scrolled() {
    let mut a = with_library();
    for c in "Why does Python have a global interpreter lock?".chars() {
        a.handle(Action::Edit(Edit::Char(c)));
    }
    a.handle(Action::Enter);
    let id = a.answering.unwrap();
    // A long chunk whose supporting sentence is far below the first screen.
    let filler: Vec<String> = (1..=40).map(|i| format!("Filler line {i} about something else.")).collect();
    let quote = "Only one thread runs in the Python VM at a time, ensured by the GIL.";
    let text = format!("{}\n{quote} The rest of the line.\n{}", filler.join("\n"), filler[..5].join("\n"));
    let design = citation(1, 3, "Design and History FAQ", &text);
    a.apply(Report::Answer { id, update: AnswerUpdate::Sources(vec![design.clone()]) });
    let span_start = text.chars().count() - text[text.find(quote).unwrap()..].chars().count();
    a.apply(Report::Answer {
        id,
        update: AnswerUpdate::Done {
            text: "The GIL lets one thread run at a time [1].".into(),
            citations: vec![design.clone()],
            conversation: Some(3),
            related: vec![],
            quotes: vec![
                // The source's first quote is in a neighbouring chunk the pane does not show.
                SourceQuote {
                    n: 1,
                    chunk_id: Some(design.chunk_id - 1),
                    text: "A sentence of the chunk before.".into(),
                    span: Some((3, 34)),
                },
                SourceQuote {
                    n: 1,
                    chunk_id: Some(design.chunk_id),
                    text: quote.into(),
                    span: Some((span_start, span_start + quote.chars().count())),
                },
            ],
        },
    });
    a.apply(Report::Context(ChunkContext {
        chunk_id: design.chunk_id,
        chunk: Some(chunk(3, 1, &text)),
        before: None,
        after: None,
    }));
    a.handle(Action::NextPane);
    assert!(a.detail_at_quote);
    let mut term = Terminal::new(TestBackend::new(100, 30)).unwrap();
    let mut draw_once = |a: &mut App| {
        let mut m = a.metrics;
        term.draw(|f| m = draw(f, a, &Theme::plain())).unwrap();
        a.set_metrics(m);
        term.backend().buffer().clone()
    };
    draw_once(&mut a);
    let buffer = draw_once(&mut a);
    let shown = screen(&buffer);
    assert!(shown.contains("Only one thread runs in the Python VM"), "{shown}");
    assert!(!shown.contains("Filler line 20 about"), "the pane did not open at the quote:\n{shown}");
    // The quote's cells are underlined; the rest of its line is not.
    let width = buffer.area.width as usize;
    let underlined_at = |needle: &str| {
        let row = shown.lines().position(|l| l.contains(needle)).unwrap();
        let cells = &buffer.content[row * width..(row + 1) * width];
        let line: String = cells.iter().map(|c| c.symbol()).collect();
        // Cells, not bytes: the borders are box-drawing characters.
        let col = line[..line.find(needle).unwrap()].chars().count();
        cells[col].modifier.contains(ratatui::style::Modifier::UNDERLINED)
    };
    assert!(underlined_at("Only one thread"));
    assert!(!underlined_at("The rest"));
    // Scrolling starts from where the quote was shown, and the pane no longer holds it.
    let top = a.metrics.detail_top;
    assert!(top > 0);
    a.handle(Action::PageUp);
    assert!(!a.detail_at_quote);
    assert!(a.detail_scroll < top, "{} {top}", a.detail_scroll);
}

#[test]
fn research_mode_shows_its_title_plan_and_progress() {
    let mut a = App::new(settings());
    a.apply(Report::LibraryLoaded { vectors_pending: 0, docs: library(), counts: (3, 0), feeds: vec![] });
    a.handle(Action::ToggleResearch);
    for c in "Compare A and B".chars() {
        a.handle(Action::Edit(Edit::Char(c)));
    }
    let screen = render(&mut a, 80, 24);
    assert!(screen.contains("Research (Ctrl-R: answers)"), "{screen}");
    let cmds = a.handle(Action::Enter);
    let [Command::Ask { id, .. }] = cmds.as_slice() else { panic!("{cmds:?}") };
    let id = *id;
    a.apply(Report::Answer {
        id,
        update: AnswerUpdate::Plan(vec!["What is A?".into(), "What is B?".into()]),
    });
    a.apply(Report::Answer { id, update: AnswerUpdate::Progress("searching 2/2…".into()) });
    let screen = render(&mut a, 80, 24);
    for want in ["research plan:", "1. What is A?", "2. What is B?", "searching 2/2…"] {
        assert!(screen.contains(want), "{want:?} missing:\n{screen}");
    }
    assert!(!screen.contains("searching the library…"), "{screen}");
}
