//! The terminal UI's state and every change to it. [`App::handle`] applies a user action and
//! [`App::apply`] a report from a background worker; both return the [`Command`]s the runtime
//! must carry out (searches, answers, library reads and writes, opening a file). Nothing here
//! touches the terminal, the library or the network, so each transition is tested on its own.

use std::path::PathBuf;
use std::time::Instant;

use lore_agent::Citation;
use lore_agent::prompt::PastTurn;
use lore_index::SearchHit;
use lore_index::catalog::{ConversationSummary, DocSummary, Feed, StoredChunk};
use ratatui::layout::{Position, Rect};

use super::text::LineInput;

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
    fn next(self) -> Focus {
        match self {
            Focus::Conversation => Focus::Sources,
            Focus::Sources => Focus::Library,
            Focus::Library => Focus::Conversation,
        }
    }

    fn prev(self) -> Focus {
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
}

impl Turn {
    fn new(question: &str) -> Turn {
        Turn {
            question: question.to_string(),
            query: None,
            text: String::new(),
            sources: Vec::new(),
            state: TurnState::Searching,
            notice: None,
            related: Vec::new(),
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

    fn by(&mut self, delta: isize, total: usize, height: usize) {
        let max = total.saturating_sub(height);
        let top = self.top_for(total, height) as isize + delta;
        let top = top.clamp(0, max as isize) as usize;
        self.top = top;
        self.follow = top >= max;
    }

    fn jump_top(&mut self) {
        self.top = 0;
        self.follow = false;
    }

    fn jump_bottom(&mut self) {
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
    fn move_by(&mut self, delta: isize, n: usize, height: usize) {
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
    fn clamp(&mut self, n: usize) {
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
    items_asked: Option<i64>,
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
}

impl LibraryState {
    fn filter_words(&self) -> Vec<String> {
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

    fn pos_mut(&mut self) -> &mut ListPos {
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
    fn clamp(&mut self) {
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
    /// Rows of the library list.
    pub library_height: usize,
    /// Lines of the help text.
    pub help_lines: usize,
    /// Rows of the help popup.
    pub help_height: usize,
    /// Rows of the conversations popup list.
    pub popup_height: usize,
}

/// Edits of a line being typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Insert a character.
    Char(char),
    /// Insert pasted text.
    Paste(String),
    /// Delete before the cursor.
    Backspace,
    /// Delete under the cursor.
    Delete,
    /// Delete the word before the cursor.
    DeleteWord,
    /// Empty the line.
    Clear,
    /// Cursor left.
    Left,
    /// Cursor right.
    Right,
    /// Cursor to the start.
    Home,
    /// Cursor to the end.
    End,
}

/// What the user asked for (see `keys` for the keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Leave.
    Quit,
    /// Next pane.
    NextPane,
    /// Previous pane.
    PrevPane,
    /// Show every key.
    Help,
    /// Close a popup, cancel the answer, dismiss the message, stop typing.
    Escape,
    /// Start a new conversation.
    NewConversation,
    /// Choose a past conversation.
    PastConversations,
    /// Up one.
    Up,
    /// Down one.
    Down,
    /// Up a page.
    PageUp,
    /// Down a page.
    PageDown,
    /// To the top.
    Top,
    /// To the bottom.
    Bottom,
    /// Ask, open or confirm.
    Enter,
    /// Open the selected source with the system opener.
    Open,
    /// Type a question.
    StartQuestion,
    /// Type a live search.
    StartSearch,
    /// Type a library filter.
    StartFilter,
    /// Select source `[n]`.
    SelectSource(usize),
    /// Delete the selected document (asks first).
    DeleteDocument,
    /// Add a file, folder or URL.
    AddDocument,
    /// Refresh the feeds.
    RefreshFeeds,
    /// Left (`h`): in the library, from a feed's items to the feeds, from the feeds to the
    /// documents.
    Left,
    /// Right (`l`): in the library, from the documents to the feeds, from a feed to its items.
    Right,
    /// Answer a yes/no question.
    Confirm(bool),
    /// Edit the line being typed.
    Edit(Edit),
    /// The mouse wheel turned over this cell.
    Wheel {
        /// Column.
        column: u16,
        /// Row.
        row: u16,
        /// Towards the top.
        up: bool,
    },
}

/// Work the runtime must do for the state.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Search the library; only the newest request matters.
    Search {
        /// Request number.
        seq: u64,
        /// The query.
        query: String,
    },
    /// Answer a question.
    Ask {
        /// Answer number.
        id: u64,
        /// The question.
        question: String,
        /// Earlier turns for a follow-up.
        history: Vec<PastTurn>,
        /// The conversation to record it in (a new one when `None`).
        conversation: Option<i64>,
    },
    /// Stop the running answer.
    CancelAsk,
    /// Start the search engine again after it stopped.
    RestartEngine,
    /// The library changed: the search engine opens it if it has not.
    ReloadEngine,
    /// Read the document list and counts.
    LoadLibrary,
    /// Read the past conversations.
    LoadConversations,
    /// Read one conversation's turns.
    LoadConversation(i64),
    /// Read a chunk and its neighbours.
    FetchContext(i64),
    /// Add a file or folder.
    Add(PathBuf),
    /// Fetch web pages and add them.
    AddUrls(Vec<String>),
    /// Refresh every feed.
    RefreshFeeds,
    /// Read the documents a feed delivered.
    LoadFeedItems(i64),
    /// Mark a news document read (in the background; quietly given up when the catalog is busy).
    MarkRead(i64),
    /// Remove a document.
    Delete {
        /// The document.
        doc_id: i64,
        /// Its title.
        title: String,
    },
    /// Open a file or URL with the system opener.
    Open(String),
}

/// Reports of the background workers.
#[derive(Debug, Clone)]
pub enum Report {
    /// The search engine is ready.
    EngineReady,
    /// The search engine's thread stopped (on an internal error, reported on the message line
    /// already); what it was doing has failed, and it must be started again.
    EngineStopped,
    /// Another process (or a write here) changed the library.
    LibraryChanged,
    /// The search engine cannot be used; `error` when it is a failure rather than an empty
    /// library.
    EngineUnavailable {
        /// Why.
        reason: String,
        /// Whether to show it as an error.
        error: bool,
    },
    /// Results of a search.
    SearchDone {
        /// Request number.
        seq: u64,
        /// The hits.
        hits: Vec<SearchHit>,
        /// Time taken in milliseconds.
        ms: f64,
    },
    /// A search failed.
    SearchFailed {
        /// Request number.
        seq: u64,
        /// Why.
        error: String,
    },
    /// Progress of an answer.
    Answer {
        /// Answer number.
        id: u64,
        /// What happened.
        update: AnswerUpdate,
    },
    /// The document list and the feeds.
    LibraryLoaded {
        /// Every document, newest first.
        docs: Vec<DocSummary>,
        /// Documents and chunks.
        counts: (u64, u64),
        /// The feed subscriptions.
        feeds: Vec<Feed>,
    },
    /// The feeds alone (their unread counts changed).
    FeedsLoaded(Vec<Feed>),
    /// The documents a feed delivered.
    FeedItems(FeedItems),
    /// Past conversations.
    Conversations(Vec<ConversationSummary>),
    /// A past conversation's turns.
    ConversationLoaded {
        /// Its id.
        id: i64,
        /// Its turns (question, answer, citations).
        turns: Vec<(String, String, Vec<Citation>)>,
    },
    /// A chunk and its neighbours.
    Context(ChunkContext),
    /// Progress of an add, a removal or a feed refresh.
    Ingest(IngestUpdate),
    /// Something to tell the user.
    Message(Message),
}

/// Progress of an answer.
#[derive(Debug, Clone)]
pub enum AnswerUpdate {
    /// The follow-up was searched as this query.
    Rewritten(String),
    /// The passages found, numbered.
    Sources(Vec<Citation>),
    /// A note (the model was unreachable, ...).
    Notice(String),
    /// More text.
    Text(String),
    /// The answer is complete.
    Done {
        /// The full text.
        text: String,
        /// The cited sources.
        citations: Vec<Citation>,
        /// The conversation it was recorded in.
        conversation: Option<i64>,
        /// Titles of other documents near the cited passages.
        related: Vec<String>,
    },
    /// It failed.
    Failed(String),
    /// It was cancelled.
    Cancelled,
}

/// Progress of an add, a removal or a feed refresh (whose steps are feeds).
#[derive(Debug, Clone)]
pub enum IngestUpdate {
    /// Waiting for a search to finish reading the vector store.
    Waiting,
    /// `total` files will be tried.
    Planned {
        /// Files.
        total: usize,
    },
    /// A file starts.
    Started {
        /// Its position, from 0.
        index: usize,
        /// The file.
        path: String,
    },
    /// Chunks of the current file embedded.
    Embedding {
        /// Done.
        done: usize,
        /// Of.
        total: usize,
    },
    /// Items of the current feed done.
    Items {
        /// Done.
        done: usize,
        /// Of.
        total: usize,
    },
    /// Something failed and the job goes on (a feed item that could not be added).
    Problem(String),
    /// A file is done.
    Finished {
        /// Its position, from 0.
        index: usize,
        /// Why it failed, if it did.
        failed: Option<String>,
    },
    /// All done.
    Done {
        /// One line for the user.
        summary: String,
        /// Whether something failed.
        failures: bool,
    },
    /// The whole job failed.
    Failed(String),
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
                self.say("new conversation");
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
        self.fetch_subject(out);
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
        self.conversation.turns.push(Turn::new(&question));
        self.conversation.scroll.jump_bottom();
        self.conversation.selected_source = 0;
        self.subject = Subject::Citations;
        self.detail_scroll = 0;
        self.message = None;
        out.push(Command::Ask { id: self.ask_seq, question, history, conversation: self.conversation.id });
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
            Report::LibraryLoaded { docs, counts, feeds } => {
                self.library.docs = docs;
                self.library.loaded = true;
                self.library.counts = Some(counts);
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
            AnswerUpdate::Text(t) => {
                turn.text.push_str(&t);
                turn.state = TurnState::Streaming;
            }
            AnswerUpdate::Done { text, citations, conversation, related } => {
                turn.text = text;
                turn.related = related;
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
            }
            IngestUpdate::Embedding { done, total } => p.embedding = Some((done, total)),
            IngestUpdate::Items { done, total } => p.items = Some((done, total)),
            IngestUpdate::Problem(text) => self.message = Some(Message { text, error: true }),
            IngestUpdate::Finished { index, failed } => {
                p.done = index + 1;
                p.embedding = None;
                p.items = None;
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

#[cfg(test)]
pub(crate) mod tests;
