//! The terminal UI's state: the panes, the conversation, live search, the library lists, the
//! popups, progress and the sizes of the last frame, and the queries the view makes of them.
//! Changes to it are in [`super::update`].

use std::time::Instant;

use lore_agent::Citation;
use lore_index::SearchHit;
use lore_index::catalog::{ConversationSummary, DocSummary, Feed, StoredChunk};
use ratatui::layout::Rect;

use crate::ui::text::LineInput;

/// The panes, in `Tab` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// The conversation (or search results) and the input line.
    Conversation,
    /// The cited chunk of the selected source.
    Sources,
    /// The documents and feeds of the library.
    Library,
}

impl Focus {
    pub(super) fn next(self) -> Focus {
        match self {
            Focus::Conversation => Focus::Sources,
            Focus::Sources => Focus::Library,
            Focus::Library => Focus::Conversation,
        }
    }

    pub(super) fn prev(self) -> Focus {
        match self {
            Focus::Conversation => Focus::Library,
            Focus::Sources => Focus::Conversation,
            Focus::Library => Focus::Sources,
        }
    }
}

/// Which line is being typed into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Editing {
    /// The question.
    Question,
    /// The live search query.
    Search,
    /// The library filter.
    Filter,
}

/// What the main pane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MainView {
    /// The conversation.
    Conversation,
    /// Live search results.
    Search,
}

/// What the sources pane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// The sources of the last answer.
    Citations,
    /// The selected search result.
    Hit,
    /// A document of the library.
    Document(i64),
    /// A feed: its fetch status and its items.
    Feed(i64),
}

/// A popup over the panes.
#[derive(Debug, Clone, PartialEq)]
pub enum Popup {
    /// Every key.
    Help {
        /// First line shown.
        scroll: usize,
    },
    /// "Delete this document?"
    ConfirmDelete {
        /// The document.
        doc_id: i64,
        /// Its title.
        title: String,
    },
    /// A path or URL to add.
    Add {
        /// What is typed.
        input: LineInput,
    },
    /// Past conversations to continue.
    Conversations {
        /// The list, once loaded.
        items: Option<Vec<ConversationSummary>>,
        /// The selected row.
        selected: usize,
    },
}

/// How far an answer has come.
#[derive(Debug, Clone, PartialEq)]
pub enum TurnState {
    /// Rewriting the question and searching.
    Searching,
    /// Text is arriving.
    Streaming,
    /// Complete.
    Done,
    /// Stopped by the user.
    Cancelled,
    /// Failed with this error.
    Failed(String),
}

/// One question and its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    /// The question as asked.
    pub question: String,
    /// The search query, when the question was rewritten.
    pub query: Option<String>,
    /// The answer so far, with `[n]` markers.
    pub text: String,
    /// Its sources by number (every passage while streaming, the cited ones when done).
    pub sources: Vec<Citation>,
    /// How far it has come.
    pub state: TurnState,
    /// A note from the agent (e.g. the model was unreachable).
    pub notice: Option<String>,
    /// Titles of other documents near the cited passages ("related reading").
    pub related: Vec<String>,
    /// The parts of the cited sources that best support the answer's sentences citing them (from
    /// the answer's verification), shown underlined in the sources pane.
    pub quotes: Vec<SourceQuote>,
    /// The sentences checked while the answer streamed; their quotes are shown until the
    /// answer is done.
    pub checks: Vec<lore_agent::verify::SentenceCheck>,
    /// Asked in research mode: the report of a plan of sub-questions.
    pub research: bool,
    /// The research plan's sub-questions.
    pub plan: Vec<String>,
    /// Where the work stands while nothing has streamed yet (research: the searches).
    pub progress: Option<String>,
}

/// The part of source `[n]` that best supports a sentence of the answer citing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceQuote {
    /// The source's number.
    pub n: usize,
    /// The chunk the quote is in, when known.
    pub chunk_id: Option<i64>,
    /// The quote, as it stands in the chunk.
    pub text: String,
    /// Its span in the chunk, in characters, when known.
    pub span: Option<(usize, usize)>,
}

impl SourceQuote {
    /// The quotes of an answer's verification, each source's in the answer's order: those of the
    /// sentences they support, then of those they partly support. A source spans several chunks;
    /// the sources pane shows the first of its quotes that is in the chunk it shows.
    pub fn of_verification(v: &lore_agent::verify::Verification) -> Vec<SourceQuote> {
        use lore_agent::verify::Label;
        let mut out: Vec<SourceQuote> = Vec::new();
        for wanted in [Label::Supported, Label::PartlySupported] {
            for s in v.sentences.iter().filter(|s| s.label == wanted) {
                let Some(q) = &s.quote else { continue };
                let known = out.iter().any(|o| o.n == q.passage && o.text == q.text);
                if known || !s.citations.contains(&q.passage) {
                    continue;
                }
                out.push(SourceQuote {
                    n: q.passage,
                    chunk_id: q.chunk_id,
                    text: q.text.clone(),
                    span: q.start.zip(q.end),
                });
            }
        }
        out
    }
}

impl Turn {
    pub(super) fn new(question: &str) -> Turn {
        Turn {
            question: question.to_string(),
            query: None,
            text: String::new(),
            sources: Vec::new(),
            state: TurnState::Searching,
            notice: None,
            related: Vec::new(),
            quotes: Vec::new(),
            checks: Vec::new(),
            research: false,
            plan: Vec::new(),
            progress: None,
        }
    }

    /// What the library was searched with.
    pub fn search_query(&self) -> &str {
        self.query.as_deref().unwrap_or(&self.question)
    }
}

/// A scroll position that can follow the end of growing text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scroll {
    /// First line shown, when not following.
    pub top: usize,
    /// Keep the last line in view.
    pub follow: bool,
}

impl Default for Scroll {
    fn default() -> Self {
        Scroll { top: 0, follow: true }
    }
}

impl Scroll {
    /// The first line shown for `total` lines in `height` rows.
    pub fn top_for(&self, total: usize, height: usize) -> usize {
        let max = total.saturating_sub(height);
        if self.follow { max } else { self.top.min(max) }
    }

    pub(super) fn by(&mut self, delta: isize, total: usize, height: usize) {
        let max = total.saturating_sub(height);
        let top = self.top_for(total, height) as isize + delta;
        let top = top.clamp(0, max as isize) as usize;
        self.top = top;
        self.follow = top >= max;
    }

    pub(super) fn jump_top(&mut self) {
        self.top = 0;
        self.follow = false;
    }

    pub(super) fn jump_bottom(&mut self) {
        self.follow = true;
    }
}

/// The conversation on screen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Conversation {
    /// Its id in the catalog, once an answer was recorded.
    pub id: Option<i64>,
    /// The turns, oldest first.
    pub turns: Vec<Turn>,
    /// Scroll position of the transcript.
    pub scroll: Scroll,
    /// Index of the selected source of the last turn.
    pub selected_source: usize,
}

/// Live search.
#[derive(Debug, Clone, Default)]
pub struct SearchState {
    /// The query being typed.
    pub input: LineInput,
    /// Number of the newest request.
    pub seq: u64,
    /// Number of the request whose results are shown.
    pub shown_seq: u64,
    /// The results shown.
    pub hits: Vec<SearchHit>,
    /// The selected result.
    pub selected: usize,
    /// The error of the newest request, if it failed.
    pub error: Option<String>,
    /// Time the shown search took, in milliseconds.
    pub took_ms: Option<f64>,
    /// When the key that made the newest request arrived, and when its results arrived.
    pub key_at: Option<Instant>,
    /// When the results of the newest request arrived, until they are drawn.
    pub results_at: Option<Instant>,
}

impl SearchState {
    /// Whether a request newer than the shown results is under way.
    pub fn running(&self) -> bool {
        self.seq > self.shown_seq && !self.input.text().trim().is_empty()
    }

    /// The selected result.
    pub fn selected_hit(&self) -> Option<&SearchHit> {
        self.hits.get(self.selected)
    }
}

/// What the library pane lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LibraryView {
    /// Every document.
    #[default]
    Documents,
    /// The feed subscriptions.
    Feeds,
    /// The items of one feed.
    Items(i64),
}

/// The selected row of a list and the first row shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListPos {
    /// The selected row.
    pub selected: usize,
    /// First row shown.
    pub offset: usize,
}

impl ListPos {
    /// Moves the selection by `delta` among `n` rows, keeping it within `height` rows of the
    /// first shown.
    pub(super) fn move_by(&mut self, delta: isize, n: usize, height: usize) {
        if n == 0 {
            return;
        }
        let s = (self.selected as isize).saturating_add(delta).clamp(0, n as isize - 1) as usize;
        self.selected = s;
        let h = height.max(1);
        if s < self.offset {
            self.offset = s;
        } else if s >= self.offset + h {
            self.offset = s + 1 - h;
        }
    }

    /// Keeps the selection within `n` rows.
    pub(super) fn clamp(&mut self, n: usize) {
        self.selected = self.selected.min(n.saturating_sub(1));
        self.offset = self.offset.min(self.selected);
    }
}

/// The documents one feed has delivered, as read from the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedItems {
    /// The feed.
    pub feed_id: i64,
    /// Its documents, newest first.
    pub docs: Vec<i64>,
}

/// The library pane.
#[derive(Debug, Clone, Default)]
pub struct LibraryState {
    /// Every document, newest first.
    pub docs: Vec<DocSummary>,
    /// The feed subscriptions, in the order they were added.
    pub feeds: Vec<Feed>,
    /// The items of the feed last read.
    pub feed_items: Option<FeedItems>,
    /// The feed whose items were asked for and have not arrived.
    pub(super) items_asked: Option<i64>,
    /// What the pane lists.
    pub view: LibraryView,
    /// The filter typed; it applies to whichever list is shown.
    pub filter: LineInput,
    /// Position in the documents.
    pub docs_pos: ListPos,
    /// Position in the feeds.
    pub feeds_pos: ListPos,
    /// Position in a feed's items.
    pub items_pos: ListPos,
    /// Whether the list was loaded.
    pub loaded: bool,
    /// Documents and chunks in the library.
    pub counts: Option<(u64, u64)>,
    /// Chunks searchable by keywords that still await their vectors.
    pub vectors_pending: u64,
}

impl LibraryState {
    pub(super) fn filter_words(&self) -> Vec<String> {
        self.filter.text().split_whitespace().map(str::to_lowercase).collect()
    }

    /// The documents the filter lets through: every word of the filter appears in the title,
    /// source, kind or a tag.
    pub fn visible(&self) -> Vec<&DocSummary> {
        let words = self.filter_words();
        self.docs.iter().filter(|d| doc_matches(d, &words)).collect()
    }

    /// The feeds the filter lets through: every word appears in the name, URL or a tag.
    pub fn visible_feeds(&self) -> Vec<&Feed> {
        let words = self.filter_words();
        self.feeds
            .iter()
            .filter(|f| {
                words.is_empty() || {
                    let hay = format!("{} {} {}", f.display_name(), f.url, f.tags.join(" ")).to_lowercase();
                    words.iter().all(|w| hay.contains(w.as_str()))
                }
            })
            .collect()
    }

    /// The items of feed `feed_id` the filter lets through, newest first; `None` until they
    /// are read.
    pub fn visible_items(&self, feed_id: i64) -> Option<Vec<&DocSummary>> {
        let items = self.feed_items.as_ref().filter(|i| i.feed_id == feed_id)?;
        let by_id: std::collections::HashMap<i64, &DocSummary> =
            self.docs.iter().map(|d| (d.id, d)).collect();
        let words = self.filter_words();
        Some(
            items
                .docs
                .iter()
                .filter_map(|id| by_id.get(id).copied())
                .filter(|d| doc_matches(d, &words))
                .collect(),
        )
    }

    /// Rows of the list shown.
    pub fn rows(&self) -> usize {
        match self.view {
            LibraryView::Documents => self.visible().len(),
            LibraryView::Feeds => self.visible_feeds().len(),
            LibraryView::Items(id) => self.visible_items(id).map(|v| v.len()).unwrap_or(0),
        }
    }

    /// The position in the list shown.
    pub fn pos(&self) -> ListPos {
        match self.view {
            LibraryView::Documents => self.docs_pos,
            LibraryView::Feeds => self.feeds_pos,
            LibraryView::Items(_) => self.items_pos,
        }
    }

    pub(super) fn pos_mut(&mut self) -> &mut ListPos {
        match self.view {
            LibraryView::Documents => &mut self.docs_pos,
            LibraryView::Feeds => &mut self.feeds_pos,
            LibraryView::Items(_) => &mut self.items_pos,
        }
    }

    /// The selected document, when the list shown is of documents.
    pub fn selected_doc(&self) -> Option<&DocSummary> {
        match self.view {
            LibraryView::Documents => self.visible().get(self.docs_pos.selected).copied(),
            LibraryView::Feeds => None,
            LibraryView::Items(id) => self.visible_items(id)?.get(self.items_pos.selected).copied(),
        }
    }

    /// The selected feed, when the feeds are shown.
    pub fn selected_feed(&self) -> Option<&Feed> {
        match self.view {
            LibraryView::Feeds => self.visible_feeds().get(self.feeds_pos.selected).copied(),
            _ => None,
        }
    }

    /// The feed with this id.
    pub fn feed(&self, id: i64) -> Option<&Feed> {
        self.feeds.iter().find(|f| f.id == id)
    }

    /// Keeps every selection within its list.
    pub(super) fn clamp(&mut self) {
        let (docs, feeds) = (self.visible().len(), self.visible_feeds().len());
        self.docs_pos.clamp(docs);
        self.feeds_pos.clamp(feeds);
        if let LibraryView::Items(id) = self.view {
            let n = self.visible_items(id).map(|v| v.len()).unwrap_or(0);
            self.items_pos.clamp(n);
        }
    }
}

fn doc_matches(d: &DocSummary, words: &[String]) -> bool {
    words.is_empty() || {
        let hay = format!("{} {} {} {}", d.title, d.source, d.kind, d.tags.join(" ")).to_lowercase();
        words.iter().all(|w| hay.contains(w.as_str()))
    }
}

/// A chunk with a little of the text around it, for the sources pane.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkContext {
    /// The chunk asked for.
    pub chunk_id: i64,
    /// The chunk, if it is (still) in the library.
    pub chunk: Option<StoredChunk>,
    /// The end of the chunk before it.
    pub before: Option<String>,
    /// The start of the chunk after it.
    pub after: Option<String>,
}

/// Progress of an add, a removal or a feed refresh.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IngestProgress {
    /// What is done: `adding`, `removing`, `refreshing`.
    pub verb: String,
    /// Files (or feeds) to do.
    pub total: usize,
    /// Files (or feeds) done.
    pub done: usize,
    /// The current file, URL or feed.
    pub current: String,
    /// Chunks of the current file embedded, and its chunks.
    pub embedding: Option<(usize, usize)>,
    /// Items of the current feed done, and its new or changed items.
    pub items: Option<(usize, usize)>,
    /// Scanned pages of the current file read by OCR, and its scanned pages.
    pub ocr: Option<(usize, usize)>,
    /// Files that failed.
    pub failed: usize,
    /// Waiting for a search to finish reading the vector store before writing.
    pub waiting: bool,
}

/// State of the search engine worker.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineState {
    /// Loading the embedding model and the indexes.
    Opening,
    /// Ready to search and answer.
    Ready,
    /// Cannot search: no library yet, or an error.
    Unavailable(String),
}

/// A line at the bottom telling the user something, dismissed with `Esc`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The text.
    pub text: String,
    /// Whether it reports a failure.
    pub error: bool,
}

/// Sizes of what the last frame drew, for scrolling and the mouse.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Metrics {
    /// The conversation pane.
    pub conversation: Rect,
    /// The sources pane.
    pub sources: Rect,
    /// The library pane.
    pub library: Rect,
    /// Lines of the transcript (or results) and rows to show them.
    pub main_lines: usize,
    /// Rows of the transcript area.
    pub main_height: usize,
    /// Lines of the source detail.
    pub detail_lines: usize,
    /// Rows of the source detail area.
    pub detail_height: usize,
    /// The first line of the source detail drawn.
    pub detail_top: usize,
    /// Rows of the library list.
    pub library_height: usize,
    /// Lines of the help text.
    pub help_lines: usize,
    /// Rows of the help popup.
    pub help_height: usize,
    /// Rows of the conversations popup list.
    pub popup_height: usize,
}

/// Fixed settings of the session.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The chat model's name, or what answers without one.
    pub model: String,
    /// Earlier turns sent with a follow-up.
    pub history_turns: usize,
    /// The library directory, for display.
    pub home: String,
}

/// The whole state of the terminal UI.
#[derive(Debug, Clone)]
pub struct App {
    /// Fixed settings.
    pub settings: Settings,
    /// The focused pane.
    pub focus: Focus,
    /// The line being typed into, if any.
    pub editing: Option<Editing>,
    /// What the main pane shows.
    pub view: MainView,
    /// What the sources pane shows.
    pub subject: Subject,
    /// The question being typed.
    pub question: LineInput,
    /// The conversation.
    pub conversation: Conversation,
    /// Live search.
    pub search: SearchState,
    /// The library.
    pub library: LibraryState,
    /// The chunk shown in the sources pane, with context.
    pub context: Option<ChunkContext>,
    /// Scroll position of the source detail.
    pub detail_scroll: usize,
    /// Whether the source detail shows the selected source's quote (set when a source of an
    /// answer is shown, cleared when the user scrolls it or something else is shown).
    pub detail_at_quote: bool,
    /// Research mode (Ctrl-R): questions get a planned report from several searches
    /// (`lore research`) instead of an answer.
    pub research: bool,
    /// The running answer's number.
    pub answering: Option<u64>,
    /// Number of the last answer asked.
    pub ask_seq: u64,
    /// A running add or removal.
    pub ingest: Option<IngestProgress>,
    /// The search engine.
    pub engine: EngineState,
    /// The message line.
    pub message: Option<Message>,
    /// The popup shown.
    pub popup: Option<Popup>,
    /// Frame of the busy spinner.
    pub spinner: usize,
    /// Sizes of the last frame.
    pub metrics: Metrics,
    /// Set when the user quits.
    pub quit: bool,
}

impl App {
    /// A fresh session: the question line is active.
    pub fn new(settings: Settings) -> App {
        App {
            settings,
            focus: Focus::Conversation,
            editing: Some(Editing::Question),
            view: MainView::Conversation,
            subject: Subject::Citations,
            question: LineInput::default(),
            conversation: Conversation::default(),
            search: SearchState::default(),
            library: LibraryState::default(),
            context: None,
            detail_scroll: 0,
            detail_at_quote: false,
            research: false,
            answering: None,
            ask_seq: 0,
            ingest: None,
            engine: EngineState::Opening,
            message: None,
            popup: None,
            spinner: 0,
            metrics: Metrics::default(),
            quit: false,
        }
    }

    /// Whether background work is under way (the spinner turns).
    pub fn busy(&self) -> bool {
        self.answering.is_some()
            || self.ingest.is_some()
            || self.engine == EngineState::Opening
            || (self.view == MainView::Search && self.search.running())
    }

    /// Advances the spinner.
    pub fn tick(&mut self) {
        self.spinner = self.spinner.wrapping_add(1);
    }

    /// The last turn.
    pub fn current_turn(&self) -> Option<&Turn> {
        self.conversation.turns.last()
    }

    /// The selected source of the last answer.
    pub fn selected_source(&self) -> Option<&Citation> {
        self.current_turn().and_then(|t| t.sources.get(self.conversation.selected_source))
    }

    /// The chunk the sources pane shows.
    pub fn subject_chunk(&self) -> Option<i64> {
        match self.subject {
            Subject::Citations => self.selected_source().map(|c| c.chunk_id),
            Subject::Hit => self.search.selected_hit().map(|h| h.chunk.id),
            Subject::Document(id) => Some(lore_index::catalog::chunk_id(id, 0)),
            Subject::Feed(_) => None,
        }
    }

    /// The context of the shown chunk, once read.
    pub fn subject_context(&self) -> Option<&ChunkContext> {
        let id = self.subject_chunk()?;
        self.context.as_ref().filter(|c| c.chunk_id == id)
    }

    /// Records the sizes of a drawn frame.
    pub fn set_metrics(&mut self, m: Metrics) {
        self.metrics = m;
        let max_detail = m.detail_lines.saturating_sub(m.detail_height);
        self.detail_scroll = self.detail_scroll.min(max_detail);
    }
}
