//! What goes into the terminal UI's state and what comes out of it: the user's [`Action`]s (and
//! line [`Edit`]s), the workers' [`Report`]s (with [`AnswerUpdate`] and [`IngestUpdate`]), and the
//! [`Command`]s the runtime carries out.

use std::path::PathBuf;

use lore_agent::Citation;
use lore_agent::prompt::PastTurn;
use lore_index::SearchHit;
use lore_index::catalog::{ConversationSummary, DocSummary, Feed};

use super::state::*;

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
    /// Switch between answers and research reports for the next questions.
    ToggleResearch,
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
        /// Research mode: a planned report instead of an answer (not recorded).
        research: bool,
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
        /// Chunks searchable by keywords that still await their vectors.
        vectors_pending: u64,
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
    /// The sub-questions of a research plan.
    Plan(Vec<String>),
    /// Where the work stands, one line (research: which search runs; a whole-document or
    /// chapter summary: how many parts are read), shown in the turn and the message line.
    Progress(String),
    /// More text.
    Text(String),
    /// A sentence of the answer checked against its sources while the answer streams.
    Verified(lore_agent::verify::SentenceCheck),
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
        /// The part of each cited source that best supports the answer.
        quotes: Vec<SourceQuote>,
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
    /// Scanned pages of the current file read by OCR.
    Ocr {
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
