//! Background work of the terminal UI. Each worker owns what it uses and reports through one
//! channel of [`Report`]s, so the UI never waits on the library, the network or the model:
//!
//! - the engine: one library reader for searching and answering, on its own thread (the library
//!   is not `Sync`). Searches are debounced and only the newest one runs; an answer runs as a
//!   task beside them and is cancelled by dropping it. A request that fails, or panics, is
//!   reported and the engine goes on with the next (after a panic, with a fresh reader); should
//!   the thread itself stop, the UI is told and starts another.
//! - the catalog: document lists, conversations and chunk context, on its own thread, so they
//!   never queue behind a search or an answer. Every second it checks whether another process
//!   (or a write here) changed the catalog, and tells the UI, which lists the library again.
//! - writes (add files or web pages, delete, refresh feeds): a thread per job. The reader
//!   searches a point-in-time copy of the library's vector store, renewed in the background
//!   when the library changes, so a write opens the writer whatever the engine is doing.
//!   Fetching runs on a multi-threaded runtime on that thread.
//! - marking a news item read: a short thread with its own read-write catalog connection (not
//!   the library writer); when the catalog is busy it gives up quietly.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use futures::FutureExt;
use lore_agent::answer::AskEvent;
use lore_agent::prompt::PastTurn;
use lore_agent::{AnswerSession, AskOptions, ChatModel, Citation, SessionOptions, conversation};
use lore_index::catalog::{Catalog, chunk_id, doc_of_chunk};
use lore_index::{
    AddEvent, FeedEvent, ItemOutcome, Library, RefreshReport, SearchConfig, SearchRequest, VectorFilter,
    WaitNotice,
};
use tokio::sync::{mpsc, oneshot};

use super::app::{
    AnswerUpdate, ChunkContext, Command, FeedItems, IngestUpdate, Message, Report, SourceQuote,
};
use crate::context::{Context, retrieve_config, web_runtime};
use crate::output::plural;

/// Quiet time after the last keystroke before a live search runs.
pub const SEARCH_DEBOUNCE: Duration = Duration::from_millis(60);

/// Requests to the engine thread.
#[derive(Debug)]
enum EngineMsg {
    Search {
        seq: u64,
        query: String,
    },
    Ask(AskRequest),
    CancelAsk,
    /// The library changed: open the reader if there is none (there was no library yet, or
    /// opening failed); else renew its copy of the vector store in the background (the keyword
    /// index and the catalog are read as they are at each search).
    Reload,
}

#[derive(Debug)]
struct AskRequest {
    id: u64,
    question: String,
    history: Vec<PastTurn>,
    conversation: Option<i64>,
    research: bool,
}

/// Requests to the catalog thread.
#[derive(Debug, PartialEq)]
enum CatalogMsg {
    LoadLibrary,
    LoadConversations,
    LoadConversation(i64),
    Context(i64),
    FeedItems(i64),
    /// Check whether the catalog changed.
    Poll,
}

/// How often the catalog thread checks whether another process changed the catalog.
const POLL_EVERY: Duration = Duration::from_secs(1);

/// The running workers.
pub struct Workers {
    ctx: Arc<Context>,
    engine: mpsc::UnboundedSender<EngineMsg>,
    catalog: mpsc::UnboundedSender<CatalogMsg>,
    reports: mpsc::UnboundedSender<Report>,
}

impl Workers {
    /// Starts the engine and catalog threads; they report to `reports`.
    pub fn start(ctx: Arc<Context>, reports: mpsc::UnboundedSender<Report>) -> Result<Workers> {
        let engine = start_engine(&ctx, &reports)?;
        let (catalog, catalog_rx) = mpsc::unbounded_channel();
        {
            let (ctx, reports) = (ctx.clone(), reports.clone());
            std::thread::Builder::new().name("lore-catalog".into()).spawn(move || {
                guarded(&reports.clone(), "the catalog reader", || catalog_thread(&ctx, catalog_rx, &reports))
            })?;
        }
        {
            let catalog = catalog.clone();
            // Ends with the catalog thread.
            std::thread::Builder::new().name("lore-catalog-poll".into()).spawn(move || {
                while catalog.send(CatalogMsg::Poll).is_ok() {
                    std::thread::sleep(POLL_EVERY);
                }
            })?;
        }
        Ok(Workers { ctx, engine, catalog, reports })
    }

    /// Hands a request to the engine; when its thread has stopped, starts another first.
    fn send_engine(&mut self, msg: EngineMsg) {
        if let Err(unsent) = self.engine.send(msg) {
            self.restart_engine();
            let _ = self.engine.send(unsent.0);
        }
    }

    /// Starts a new engine thread unless the current one is running.
    fn restart_engine(&mut self) {
        if !self.engine.is_closed() {
            return;
        }
        match start_engine(&self.ctx, &self.reports) {
            Ok(engine) => self.engine = engine,
            Err(e) => {
                let reason = format!("cannot start the search engine: {e}");
                let _ = self.reports.send(Report::EngineUnavailable { reason, error: true });
            }
        }
    }

    /// Carries out a command of the app.
    pub fn dispatch(&mut self, cmd: Command) {
        // A send to the catalog thread fails only when it has stopped; it reported why.
        match cmd {
            Command::Search { seq, query } => self.send_engine(EngineMsg::Search { seq, query }),
            Command::Ask { id, question, history, conversation, research } => {
                self.send_engine(EngineMsg::Ask(AskRequest { id, question, history, conversation, research }))
            }
            Command::CancelAsk => self.send_engine(EngineMsg::CancelAsk),
            Command::RestartEngine => self.restart_engine(),
            Command::ReloadEngine => self.send_engine(EngineMsg::Reload),
            Command::LoadLibrary => {
                let _ = self.catalog.send(CatalogMsg::LoadLibrary);
            }
            Command::LoadConversations => {
                let _ = self.catalog.send(CatalogMsg::LoadConversations);
            }
            Command::LoadConversation(id) => {
                let _ = self.catalog.send(CatalogMsg::LoadConversation(id));
            }
            Command::FetchContext(id) => {
                let _ = self.catalog.send(CatalogMsg::Context(id));
            }
            Command::LoadFeedItems(id) => {
                let _ = self.catalog.send(CatalogMsg::FeedItems(id));
            }
            Command::Add(path) => self.write(WriteJob::Add(path)),
            Command::AddUrls(urls) => self.write(WriteJob::AddUrls(urls)),
            Command::RefreshFeeds => self.write(WriteJob::RefreshFeeds),
            Command::MarkRead(doc_id) => {
                let (home, reports) = (self.ctx.paths.home.clone(), self.reports.clone());
                // Without a thread the item stays unread; nothing else depends on it.
                let _ = std::thread::Builder::new()
                    .name("lore-mark-read".into())
                    .spawn(move || mark_read(&home, doc_id, &reports));
            }
            Command::Delete { doc_id, title } => self.write(WriteJob::Delete { doc_id, title }),
            Command::Open(target) => {
                if let Err(e) = super::opener::open(&target) {
                    let _ =
                        self.reports.send(Report::Message(Message { text: format!("{e:#}"), error: true }));
                }
            }
        }
    }

    fn write(&self, job: WriteJob) {
        let (ctx, reports) = (self.ctx.clone(), self.reports.clone());
        let spawned = std::thread::Builder::new().name("lore-writer".into()).spawn(move || {
            let failed = reports.clone();
            let done = guarded(&failed, "the library writer", || run_write(&ctx, &reports, job));
            if done.is_none() {
                let _ = failed.send(Report::Ingest(IngestUpdate::Failed(
                    "the write stopped on an internal error".into(),
                )));
            }
        });
        if let Err(e) = spawned {
            let _ = self
                .reports
                .send(Report::Ingest(IngestUpdate::Failed(format!("cannot start the writer: {e}"))));
        }
    }
}

/// Starts the engine thread. Should it stop on a panic, it reports the panic and
/// [`Report::EngineStopped`].
fn start_engine(
    ctx: &Arc<Context>,
    reports: &mpsc::UnboundedSender<Report>,
) -> std::io::Result<mpsc::UnboundedSender<EngineMsg>> {
    let (engine, engine_rx) = mpsc::unbounded_channel();
    let (ctx, reports) = (ctx.clone(), reports.clone());
    std::thread::Builder::new().name("lore-engine".into()).spawn(move || {
        let stopped = reports.clone();
        if guarded(&stopped, "the search engine", || engine_thread(ctx, engine_rx, reports)).is_none() {
            let _ = stopped.send(Report::EngineStopped);
        }
    })?;
    Ok(engine)
}

/// Runs `f`, turning a panic into a message line instead of a garbled screen.
fn guarded<T>(reports: &mpsc::UnboundedSender<Report>, what: &str, f: impl FnOnce() -> T) -> Option<T> {
    match catch_quietly(f) {
        Ok(v) => Some(v),
        Err(why) => {
            let text = format!("{what} stopped on an internal error: {why}");
            let _ = reports.send(Report::Message(Message { text, error: true }));
            None
        }
    }
}

/// Runs `f`; a panic inside it prints nothing and comes back as its message (with the place it
/// was raised, when the UI's panic hook saw it).
fn catch_quietly<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    let _quiet = super::terminal::QuietPanics::enter();
    std::panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| panic_text(payload.as_ref()))
}

/// What a caught panic says: the hook's record of it (message and place), else its payload.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    // The hook's record, when it is of this panic (it may have been raised on a thread the
    // code that panicked started, and carried over).
    match super::terminal::take_last_panic() {
        Some(seen) if seen.starts_with(&message) => seen,
        _ => message,
    }
}

/// The engine thread: a current-thread runtime whose tasks share the one reader.
fn engine_thread(
    ctx: Arc<Context>,
    rx: mpsc::UnboundedReceiver<EngineMsg>,
    reports: mpsc::UnboundedSender<Report>,
) {
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            let reason = format!("cannot start the engine: {e}");
            let _ = reports.send(Report::EngineUnavailable { reason, error: true });
            return;
        }
    };
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, Engine::new(ctx, reports).run(rx));
}

/// How the engine runs a search ([`Library::search`]; tests put a failing one in its place).
type SearchFn = fn(&Library, &SearchConfig, &SearchRequest) -> lore_index::Result<Vec<lore_index::SearchHit>>;

struct Engine {
    ctx: Arc<Context>,
    search_fn: SearchFn,
    reports: mpsc::UnboundedSender<Report>,
    lib: Option<Rc<Library>>,
    chat: Option<Rc<ChatModel>>,
    search: Option<SearchConfig>,
    pending_search: Option<(u64, String)>,
    search_due: tokio::time::Instant,
    asking: Option<u64>,
    cancel: Option<oneshot::Sender<()>>,
    /// An answer panicked: the reader may be left in a broken state, and is opened afresh.
    reader_broken: Rc<std::cell::Cell<bool>>,
}

impl Engine {
    fn new(ctx: Arc<Context>, reports: mpsc::UnboundedSender<Report>) -> Engine {
        let chat = match ctx.config.llm.to_chat_config().map(ChatModel::new).transpose() {
            Ok(c) => c.map(Rc::new),
            Err(e) => {
                let text = format!("the chat model is not usable ({e}); answers quote passages instead");
                let _ = reports.send(Report::Message(Message { text, error: true }));
                None
            }
        };
        let search = match ctx.config.search.to_search_config() {
            Ok(s) => Some(s),
            Err(e) => {
                let text = format!("bad [search] settings: {e:#}");
                let _ = reports.send(Report::Message(Message { text, error: true }));
                None
            }
        };
        Engine {
            ctx,
            search_fn: Library::search,
            reports,
            lib: None,
            chat,
            search,
            pending_search: None,
            search_due: tokio::time::Instant::now(),
            asking: None,
            cancel: None,
            reader_broken: Rc::default(),
        }
    }

    fn send(&self, r: Report) {
        let _ = self.reports.send(r);
    }

    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<EngineMsg>) {
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<u64>();
        self.open();
        loop {
            let search_ready = self.pending_search.is_some();
            tokio::select! {
                biased;
                msg = rx.recv() => match msg {
                    None => break,
                    Some(m) => self.handle(m, &done_tx),
                },
                Some(id) = done_rx.recv() => self.ask_finished(id),
                _ = tokio::time::sleep_until(self.search_due), if search_ready => self.run_search(),
            }
        }
        if let Some(c) = self.cancel.take() {
            let _ = c.send(());
        }
    }

    /// Opens (or reopens) the reader.
    fn open(&mut self) {
        self.lib = None;
        // The engine is ready when it can search by meaning: the embedding model is loaded
        // here rather than by the first search.
        match self.ctx.snapshot_searcher().and_then(|lib| lib.warm_model().map(|()| lib).map_err(Into::into))
        {
            Ok(lib) => {
                self.lib = Some(Rc::new(lib));
                self.send(Report::EngineReady);
            }
            Err(e) => {
                let empty =
                    matches!(e.downcast_ref::<lore_index::Error>(), Some(lore_index::Error::NoLibrary(_)));
                let reason = if empty { "no library yet".to_string() } else { format!("{e:#}") };
                self.send(Report::EngineUnavailable { reason, error: !empty });
            }
        }
    }

    fn handle(&mut self, msg: EngineMsg, done: &mpsc::UnboundedSender<u64>) {
        match msg {
            EngineMsg::Search { seq, query } => {
                self.pending_search = Some((seq, query));
                self.search_due = tokio::time::Instant::now() + SEARCH_DEBOUNCE;
            }
            EngineMsg::Ask(req) => self.start_ask(req, done),
            EngineMsg::CancelAsk => {
                if let Some(c) = self.cancel.take() {
                    let _ = c.send(());
                }
            }
            EngineMsg::Reload => match &self.lib {
                Some(lib) => lib.refresh_snapshot(),
                None => self.open(),
            },
        }
    }

    fn ask_finished(&mut self, id: u64) {
        if self.asking == Some(id) {
            self.asking = None;
            self.cancel = None;
        }
        if self.reader_broken.take() {
            self.lib = None;
        }
    }

    fn run_search(&mut self) {
        let Some((seq, query)) = self.pending_search.take() else { return };
        if self.lib.is_none() {
            self.open();
        }
        let (Some(lib), Some(cfg)) = (&self.lib, &self.search) else {
            let error = "search is unavailable: add documents first, or see the message above".to_string();
            self.send(Report::SearchFailed { seq, error });
            return;
        };
        let s = &self.ctx.config.search;
        let mode = match s.mode.parse() {
            Ok(m) => m,
            Err(e) => {
                self.send(Report::SearchFailed { seq, error: format!("bad search.mode: {e}") });
                return;
            }
        };
        let req = SearchRequest { query, k: s.k, mode, filter: VectorFilter::default() };
        let started = Instant::now();
        let search = self.search_fn;
        let report = match catch_quietly(|| search(lib, cfg, &req)) {
            Ok(Ok(hits)) => Report::SearchDone { seq, hits, ms: started.elapsed().as_secs_f64() * 1000.0 },
            Ok(Err(e)) => Report::SearchFailed { seq, error: e.to_string() },
            Err(why) => {
                // A bug, in lore or below it: said as it is, and the next search gets a fresh
                // reader, whatever state this one was left in.
                self.lib = None;
                let error = format!("the search stopped on an internal error: {why}");
                self.send(Report::Message(Message { text: error.clone(), error: true }));
                Report::SearchFailed { seq, error }
            }
        };
        self.send(report);
    }

    fn start_ask(&mut self, req: AskRequest, done: &mpsc::UnboundedSender<u64>) {
        if let Some(c) = self.cancel.take() {
            let _ = c.send(());
        }
        if self.lib.is_none() {
            self.open();
        }
        let id = req.id;
        let fail = |e: String| Report::Answer { id, update: AnswerUpdate::Failed(e) };
        let Some(lib) = self.lib.clone() else {
            self.send(fail("the library cannot be searched yet: add documents first".into()));
            return;
        };
        let opts = match ask_options(&self.ctx) {
            Ok(o) => o,
            Err(e) => {
                self.send(fail(format!("{e:#}")));
                return;
            }
        };
        let (cancel_tx, cancel_rx) = oneshot::channel();
        self.cancel = Some(cancel_tx);
        self.asking = Some(id);
        let chat = self.chat.clone();
        let reports = self.reports.clone();
        let done = done.clone();
        if req.research {
            let body = research_body(lib, chat, req, self.ctx.clone(), reports.clone(), cancel_rx);
            self.spawn_answer(id, body.boxed_local(), done);
            return;
        }
        let body = async move {
            let update = |u: AnswerUpdate| {
                let _ = reports.send(Report::Answer { id, update: u });
            };
            let mut on_event = |e: AskEvent<'_>| match e {
                AskEvent::Rewritten(q) => update(AnswerUpdate::Rewritten(q.to_string())),
                AskEvent::Sources(p) => update(AnswerUpdate::Sources(p.iter().map(Citation::of).collect())),
                AskEvent::Notice(n) => update(AnswerUpdate::Notice(n.to_string())),
                AskEvent::Text(t) => update(AnswerUpdate::Text(t.to_string())),
                AskEvent::Verified(c) => update(AnswerUpdate::Verified(c.clone())),
                AskEvent::Progress(p) => update(AnswerUpdate::Progress(p.line())),
            };
            let session = AnswerSession::with_history(&lib, req.conversation, req.history);
            let outcome = tokio::select! {
                r = session.ask(chat.as_deref(), &req.question, &opts, &mut on_event) => Some(r),
                _ = cancel_rx => None,
            };
            match outcome {
                None => update(AnswerUpdate::Cancelled),
                Some(Err(e)) => update(AnswerUpdate::Failed(e.to_string())),
                Some(Ok(asked)) => {
                    let conversation = match asked.recorded {
                        Ok(id) => Some(id),
                        Err(e) => {
                            let e = anyhow::Error::new(e);
                            let text = format!("the answer was not saved in the history: {e:#}");
                            let _ = reports.send(Report::Message(Message { text, error: true }));
                            None
                        }
                    };
                    let quotes = asked
                        .answer
                        .verification
                        .as_ref()
                        .map(SourceQuote::of_verification)
                        .unwrap_or_default();
                    update(AnswerUpdate::Done {
                        text: asked.answer.text,
                        citations: asked.answer.citations,
                        conversation,
                        related: asked.related.into_iter().map(|d| d.title).collect(),
                        quotes,
                    });
                }
            }
        };
        self.spawn_answer(id, body.boxed_local(), done);
    }

    /// Runs an answer's work as a task beside the searches; a panic in it ends that answer, not
    /// the engine.
    fn spawn_answer(
        &self,
        id: u64,
        body: futures::future::LocalBoxFuture<'static, ()>,
        done: mpsc::UnboundedSender<u64>,
    ) {
        let (reports, broken) = (self.reports.clone(), self.reader_broken.clone());
        tokio::task::spawn_local(async move {
            // A panic inside the agent ends this answer, not the engine.
            if let Err(payload) = AssertUnwindSafe(body).catch_unwind().await {
                broken.set(true);
                let why = panic_text(payload.as_ref());
                let update = AnswerUpdate::Failed(format!("the answer stopped on an internal error: {why}"));
                let _ = reports.send(Report::Answer { id, update });
            }
            let _ = done.send(id);
        });
    }
}

/// A research report (`lore research`) for the UI: the plan and progress as updates, the
/// report streamed as text; not recorded in the conversation.
fn research_body(
    lib: Rc<Library>,
    chat: Option<Rc<ChatModel>>,
    req: AskRequest,
    ctx: Arc<Context>,
    reports: mpsc::UnboundedSender<Report>,
    cancel_rx: oneshot::Receiver<()>,
) -> impl std::future::Future<Output = ()> + 'static {
    use lore_agent::research::{ResearchEvent, ResearchOptions, research};
    let id = req.id;
    async move {
        let update = |u: AnswerUpdate| {
            let _ = reports.send(Report::Answer { id, update: u });
        };
        let Some(chat) = chat else {
            update(AnswerUpdate::Failed(
                "research needs a chat model: set llm.base_url in config.toml (see `lore ask --help`)".into(),
            ));
            return;
        };
        let opts = match ask_options(&ctx) {
            Ok(o) => ResearchOptions { ask: o.ask, ..ResearchOptions::default() },
            Err(e) => {
                update(AnswerUpdate::Failed(format!("{e:#}")));
                return;
            }
        };
        update(AnswerUpdate::Progress("planning the research…".into()));
        let mut subs = 0;
        let mut on_event = |e: ResearchEvent<'_>| match e {
            ResearchEvent::Plan(plan) => {
                subs = plan.len();
                update(AnswerUpdate::Plan(plan.to_vec()));
            }
            ResearchEvent::Searching { index, round, .. } => {
                let again = if round > 1 { " again, in other words" } else { "" };
                update(AnswerUpdate::Progress(format!("searching {}/{subs}{again}…", index + 1)));
            }
            ResearchEvent::Found { .. } => {}
            ResearchEvent::Section { index, of } => {
                update(AnswerUpdate::Progress(format!("writing section {}/{of}…", index + 1)))
            }
            ResearchEvent::Writing(n) => {
                update(AnswerUpdate::Progress(format!("writing the report from {n} passage{}…", plural(n))))
            }
            ResearchEvent::Notice(n) => update(AnswerUpdate::Notice(n.to_string())),
            ResearchEvent::Text(t) => update(AnswerUpdate::Text(t.to_string())),
        };
        let outcome = tokio::select! {
            r = research(&lib, &chat, &req.question, &opts, &mut on_event) => Some(r),
            _ = cancel_rx => None,
        };
        match outcome {
            None => update(AnswerUpdate::Cancelled),
            Some(Err(e)) => update(AnswerUpdate::Failed(e.to_string())),
            Some(Ok(report)) => {
                let quotes =
                    report.verification.as_ref().map(SourceQuote::of_verification).unwrap_or_default();
                update(AnswerUpdate::Done {
                    text: report.text,
                    citations: report.citations,
                    conversation: None,
                    related: Vec::new(),
                    quotes,
                });
            }
        }
    }
}

/// The settings of an answer, as `lore ask` builds them, with related reading.
fn ask_options(ctx: &Context) -> Result<SessionOptions> {
    Ok(SessionOptions {
        ask: AskOptions {
            retrieve: retrieve_config(ctx, None, VectorFilter::default())?,
            search: ctx.config.search.to_search_config()?,
            translate: ctx.config.ask.translate,
            ..AskOptions::default()
        },
        related_reading: RELATED_READING,
    })
}

/// The catalog thread: answers requests in order, keeping only the newest of repeated ones.
fn catalog_thread(
    ctx: &Context,
    mut rx: mpsc::UnboundedReceiver<CatalogMsg>,
    reports: &mpsc::UnboundedSender<Report>,
) {
    let home = &ctx.paths.home;
    let mut catalog: Option<Catalog> = None;
    // The catalog's `data_version` when last checked.
    let mut version: Option<i64> = None;
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while let Ok(m) = rx.try_recv() {
            batch.push(m);
        }
        // Only the newest context request matters; the same request twice is done once.
        let newest_context = batch.iter().rposition(|m| matches!(m, CatalogMsg::Context(_)));
        let mut seen: Vec<&CatalogMsg> = Vec::new();
        for (i, msg) in batch.iter().enumerate() {
            if matches!(msg, CatalogMsg::Context(_)) && Some(i) != newest_context || seen.contains(&msg) {
                continue;
            }
            seen.push(msg);
            let polling = *msg == CatalogMsg::Poll;
            if catalog.is_none() && Library::exists(home) {
                match Catalog::open_read_only_home(home) {
                    Ok(c) => {
                        version = c.data_version().ok();
                        catalog = Some(c);
                        if polling {
                            // The library appeared since the UI started.
                            let _ = reports.send(Report::LibraryChanged);
                            continue;
                        }
                    }
                    // A catalog being created by a writer this very moment: the next poll opens it.
                    Err(_) if polling => continue,
                    Err(e) => {
                        let text = format!("cannot read the library at {}: {e}", ctx.paths.home.display());
                        let _ = reports.send(Report::Message(Message { text, error: true }));
                    }
                }
            }
            if polling {
                if let Some(cat) = &catalog
                    && let Ok(now) = cat.data_version()
                    && version.replace(now).is_some_and(|before| before != now)
                {
                    let _ = reports.send(Report::LibraryChanged);
                }
                continue;
            }
            let report = match catalog_request(catalog.as_ref(), msg) {
                Ok(r) => r,
                Err(e) => Report::Message(Message { text: format!("{e:#}"), error: true }),
            };
            let _ = reports.send(report);
        }
    }
}

fn catalog_request(catalog: Option<&Catalog>, msg: &CatalogMsg) -> Result<Report> {
    let Some(cat) = catalog else {
        return Ok(match msg {
            CatalogMsg::LoadLibrary => Report::LibraryLoaded {
                docs: Vec::new(),
                counts: (0, 0),
                vectors_pending: 0,
                feeds: Vec::new(),
            },
            CatalogMsg::LoadConversations => Report::Conversations(Vec::new()),
            CatalogMsg::LoadConversation(id) => anyhow::bail!("no conversation {id}"),
            CatalogMsg::Context(id) => {
                Report::Context(ChunkContext { chunk_id: *id, chunk: None, before: None, after: None })
            }
            CatalogMsg::FeedItems(id) => Report::FeedItems(FeedItems { feed_id: *id, docs: Vec::new() }),
            CatalogMsg::Poll => Report::LibraryChanged,
        });
    };
    Ok(match msg {
        CatalogMsg::LoadLibrary => {
            let docs = cat.list(&Default::default())?;
            // A catalog written by an older lore has no feeds table until its next write.
            let feeds = cat.feeds().unwrap_or_default();
            // A catalog written by an older lore has no record of pending vectors until its next write.
            let vectors_pending = cat.vectors_pending().unwrap_or(0);
            Report::LibraryLoaded { counts: cat.counts()?, vectors_pending, docs, feeds }
        }
        CatalogMsg::FeedItems(id) => {
            Report::FeedItems(FeedItems { feed_id: *id, docs: cat.feed_documents(*id)? })
        }
        CatalogMsg::LoadConversations => Report::Conversations(cat.conversations(500)?),
        CatalogMsg::LoadConversation(id) => {
            let turns = cat
                .turns(*id)?
                .into_iter()
                .map(|t| {
                    let cites = conversation::citations_of(&t);
                    (t.question, t.answer, cites)
                })
                .collect();
            Report::ConversationLoaded { id: *id, turns }
        }
        CatalogMsg::Context(id) => Report::Context(context_of(cat, *id)?),
        CatalogMsg::Poll => Report::LibraryChanged,
    })
}

/// A chunk with the end of the one before and the start of the one after.
fn context_of(cat: &Catalog, id: i64) -> Result<ChunkContext> {
    let chunk = cat.chunk(id)?;
    let (mut before, mut after) = (None, None);
    if let Some(c) = &chunk {
        let doc = doc_of_chunk(id);
        if c.ordinal > 0 {
            before = cat.chunk(chunk_id(doc, c.ordinal - 1))?.map(|c| c.text);
        }
        after = cat.chunk(chunk_id(doc, c.ordinal + 1))?.map(|c| c.text);
    }
    Ok(ChunkContext { chunk_id: id, chunk, before, after })
}

/// Marks a news document read with a connection of its own (the UI's reader cannot write, and
/// the library writer may be busy with a refresh), then reports the feeds' new unread counts.
/// Every failure (no catalog, the database busy past its timeout) leaves the item unread,
/// quietly: the next opening tries again.
fn mark_read(home: &Path, doc_id: i64, reports: &mpsc::UnboundedSender<Report>) {
    if !Library::exists(home) {
        return;
    }
    let Ok(cat) = Catalog::open_home(home) else { return };
    if cat.mark_read(doc_id).is_ok()
        && let Ok(feeds) = cat.feeds()
    {
        let _ = reports.send(Report::FeedsLoaded(feeds));
    }
}

/// A write to the library.
#[derive(Debug)]
enum WriteJob {
    Add(PathBuf),
    AddUrls(Vec<String>),
    RefreshFeeds,
    Delete { doc_id: i64, title: String },
}

fn run_write(ctx: &Context, reports: &mpsc::UnboundedSender<Report>, job: WriteJob) {
    let ingest = |u: IngestUpdate| {
        let _ = reports.send(Report::Ingest(u));
    };
    // A search reading the vector store at this moment finishes first: the status line says so
    // when that takes a while.
    let waiting = reports.clone();
    let notice = WaitNotice(Arc::new(move |_: &str| {
        let _ = waiting.send(Report::Ingest(IngestUpdate::Waiting));
    }));
    if let WriteJob::Add(path) = &job {
        // A new library's embedding model is chosen from what its first documents are written in.
        ctx.choose_model_for_sources(std::slice::from_ref(path));
    }
    let lib = ctx.writer_telling(Duration::from_secs(0), notice);
    let mut lib = match lib {
        Ok(l) => l,
        Err(e) => return ingest(IngestUpdate::Failed(format!("cannot write to the library: {e:#}"))),
    };
    if let Some(tightened) = lib.take_tightened() {
        let _ = reports.send(Report::Message(Message { text: tightened.to_string(), error: false }));
    }
    let last = match job {
        WriteJob::Add(path) => {
            let mut on_event = add_progress(&ingest);
            match lib.add_paths(std::slice::from_ref(&path), &[], &mut on_event) {
                Ok(r) => {
                    let nothing = format!("{}: nothing to add (no supported files)", path.display());
                    add_summary(&r, nothing)
                }
                Err(e) => IngestUpdate::Failed(format!("{}: {e}", path.display())),
            }
        }
        WriteJob::AddUrls(urls) => {
            let added = web_job(ctx).and_then(|(runtime, fetcher)| {
                let mut on_event = add_progress(&ingest);
                Ok(runtime.block_on(lib.add_urls(&fetcher, &urls, &[], &mut on_event))?)
            });
            match added {
                Ok(r) => add_summary(&r, format!("{}: nothing added", urls.join(" "))),
                Err(e) => IngestUpdate::Failed(format!("cannot add {}: {e:#}", urls.join(" "))),
            }
        }
        WriteJob::RefreshFeeds => match refresh(ctx, &mut lib, &ingest) {
            Ok(Some(r)) => {
                let (summary, failures) = refresh_summary(&r);
                IngestUpdate::Done { summary, failures }
            }
            Ok(None) => IngestUpdate::Done { summary: super::app::NO_FEEDS.into(), failures: false },
            Err(e) => IngestUpdate::Failed(format!("the feed refresh failed: {e:#}")),
        },
        WriteJob::Delete { doc_id, title } => {
            ingest(IngestUpdate::Started { index: 0, path: title.clone() });
            match lib.remove(doc_id) {
                Ok(()) => IngestUpdate::Done { summary: format!("deleted {title}"), failures: false },
                Err(e) => IngestUpdate::Failed(format!("cannot delete {title}: {e}")),
            }
        }
    };
    // The writer lets go of the library (and its mark on the vector store) before the UI hears
    // that it is done: what the UI reads next sees the write whole.
    drop(lib);
    ingest(last);
}

/// Progress of an add (of files or web pages) as ingest updates.
fn add_progress(ingest: &impl Fn(IngestUpdate)) -> impl FnMut(AddEvent<'_>) + '_ {
    move |ev: AddEvent<'_>| match ev {
        AddEvent::Planned { total, .. } => ingest(IngestUpdate::Planned { total }),
        AddEvent::Started { index, path } => {
            ingest(IngestUpdate::Started { index, path: path.display().to_string() })
        }
        AddEvent::Vectors { done, total } => ingest(IngestUpdate::Embedding { done, total }),
        AddEvent::Ocr { page, .. } => ingest(IngestUpdate::Ocr { done: page.done, total: page.total }),
        AddEvent::Finished { index, outcome, .. } => {
            let failed = match outcome {
                ItemOutcome::Failed { message, .. } => Some(message.clone()),
                _ => None,
            };
            ingest(IngestUpdate::Finished { index, failed })
        }
    }
}

/// The line that ends an add; `nothing` when nothing was added, updated or found unchanged and
/// nothing failed.
fn add_summary(r: &lore_index::AddReport, nothing: String) -> IngestUpdate {
    let mut parts = vec![format!(
        "added {} document{} ({} chunk{})",
        r.added,
        plural(r.added),
        r.chunks,
        plural(r.chunks)
    )];
    if r.updated > 0 {
        parts.push(format!("updated {}", r.updated));
    }
    if r.unchanged > 0 {
        parts.push(format!("{} unchanged", r.unchanged));
    }
    if !r.failed.is_empty() {
        parts.push(format!("{} failed", r.failed.len()));
    }
    if !r.skipped_unsupported.is_empty() {
        parts.push(format!("{} of unsupported types skipped", r.skipped_unsupported.len()));
    }
    let none = r.added + r.updated + r.unchanged == 0;
    let summary = if none && r.failed.is_empty() {
        nothing
    } else if none && r.failed.len() == 1 {
        // The one failure says more than "0 added, 1 failed".
        r.failed[0].clone()
    } else {
        parts.join(", ")
    };
    IngestUpdate::Done { summary, failures: !r.failed.is_empty() || none }
}

/// A runtime for fetching (several workers, so requests go on while the library embeds) and
/// the configured web client.
fn web_job(ctx: &Context) -> Result<(tokio::runtime::Runtime, lore_ingest::web::Fetcher)> {
    let runtime = web_runtime()?;
    Ok((runtime, ctx.fetcher()?))
}

/// Refreshes every feed, reporting feeds as the steps of the job and each feed's new or changed
/// items within it. `None` when there is no feed.
fn refresh(
    ctx: &Context,
    lib: &mut Library,
    ingest: &impl Fn(IngestUpdate),
) -> Result<Option<RefreshReport>> {
    let feeds = lib.catalog().feeds()?;
    if feeds.is_empty() {
        return Ok(None);
    }
    let (runtime, fetcher) = web_job(ctx)?;
    let (mut index, mut items) = (0usize, (0usize, 0usize));
    let mut on_event = |ev: FeedEvent<'_>| match ev {
        FeedEvent::Planned { feeds } => ingest(IngestUpdate::Planned { total: feeds }),
        FeedEvent::Fetched { feed, changed, .. } => {
            ingest(IngestUpdate::Started { index, path: feed.display_name().to_string() });
            items = (0, changed);
            if changed > 0 {
                ingest(IngestUpdate::Items { done: 0, total: changed });
            }
        }
        FeedEvent::Item { feed, outcome } => {
            items.0 += 1;
            ingest(IngestUpdate::Items { done: items.0, total: items.1 });
            if let ItemOutcome::Failed { message, .. } = outcome {
                ingest(IngestUpdate::Problem(format!("{}: {message}", feed.display_name())));
            }
        }
        FeedEvent::Done { report } => {
            let failed = report.error.as_deref().map(|e| feed_error(report, e));
            ingest(IngestUpdate::Finished { index, failed });
            index += 1;
        }
    };
    Ok(Some(runtime.block_on(lib.refresh_feeds(&fetcher, &feeds, &mut on_event))?))
}

/// A feed's error line, named by the feed unless it names its URL already.
fn feed_error(r: &lore_index::FeedReport, error: &str) -> String {
    if error.contains(&r.url) {
        return error.to_string();
    }
    let name = r.title.as_deref().filter(|t| !t.trim().is_empty()).unwrap_or(&r.url);
    format!("{name}: {error}")
}

/// The line that ends a refresh (`3 feeds: 5 new, 1 updated, 1 failed`), and whether something
/// failed. A single failing feed is named, with its error.
pub(crate) fn refresh_summary(r: &RefreshReport) -> (String, bool) {
    let n = r.feeds.len();
    let mut line = format!("{n} feed{}: {} new, {} updated", plural(n), r.added, r.updated);
    if r.failed_feeds > 0 {
        line.push_str(&format!(", {} failed", r.failed_feeds));
    }
    if r.failed_items > 0 {
        line.push_str(&format!(", {} item{} failed", r.failed_items, plural(r.failed_items)));
    }
    let failed: Vec<_> = r.feeds.iter().filter(|f| f.status == "error").collect();
    if let [one] = failed.as_slice() {
        line.push_str(&format!(" ({})", feed_error(one, one.error.as_deref().unwrap_or("failed"))));
    }
    (line, r.failed_feeds + r.failed_items > 0)
}

/// Documents listed as related reading under an answer.
const RELATED_READING: usize = 3;

#[cfg(test)]
mod tests {
    use lore_index::FeedReport;
    use lore_index::catalog::{FeedSettings, NewDocument};

    use super::*;

    /// A library `dir` whose catalog holds one news document delivered by one feed:
    /// (home, doc, feed).
    fn catalog_with_news(dir: &Path) -> (PathBuf, i64, i64) {
        let text = dir.join("item.txt");
        std::fs::write(&text, "A news item about borrow checking in the compiler.\n").unwrap();
        let doc = lore_ingest::load_path(&text, &Default::default()).unwrap();
        let chunks = lore_ingest::Chunker::estimated(Default::default()).chunk(&doc).unwrap();
        let mut cat = Catalog::open_home(dir).unwrap();
        let new = NewDocument { doc: &doc, chunks: &chunks, tags: &[], root_id: None, file: None };
        let id = cat.begin_upsert(&new).unwrap().doc_id();
        cat.finish(id).unwrap();
        let (feed, _) = cat.add_feed("https://blog.example/feed.xml", &FeedSettings::default()).unwrap();
        cat.record_feed_item(feed.id, "guid-1", id, "h1", None).unwrap();
        (dir.to_path_buf(), id, feed.id)
    }

    #[test]
    fn the_library_load_brings_the_feeds_and_a_feed_brings_its_items() {
        let dir = tempfile::tempdir().unwrap();
        let (home, doc, feed) = catalog_with_news(dir.path());
        let cat = Catalog::open_read_only_home(&home).unwrap();
        match catalog_request(Some(&cat), &CatalogMsg::LoadLibrary).unwrap() {
            Report::LibraryLoaded { docs, counts, feeds, .. } => {
                assert_eq!(docs.iter().map(|d| d.id).collect::<Vec<_>>(), vec![doc]);
                assert_eq!(counts.0, 1);
                assert_eq!(
                    feeds.iter().map(|f| (f.id, f.items, f.unread)).collect::<Vec<_>>(),
                    vec![(feed, 1, 1)]
                );
            }
            other => panic!("{other:?}"),
        }
        match catalog_request(Some(&cat), &CatalogMsg::FeedItems(feed)).unwrap() {
            Report::FeedItems(items) => assert_eq!(items, FeedItems { feed_id: feed, docs: vec![doc] }),
            other => panic!("{other:?}"),
        }
        // No library yet: no feeds.
        match catalog_request(None, &CatalogMsg::LoadLibrary).unwrap() {
            Report::LibraryLoaded { feeds, .. } => assert!(feeds.is_empty()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn marking_read_writes_beside_an_open_reader_and_reports_the_feeds() {
        let dir = tempfile::tempdir().unwrap();
        let (home, doc, feed) = catalog_with_news(dir.path());
        // The UI keeps a read-only connection open meanwhile.
        let reader = Catalog::open_read_only_home(&home).unwrap();
        let (tx, mut rx) = mpsc::unbounded_channel();
        mark_read(&home, doc, &tx);
        match rx.try_recv() {
            Ok(Report::FeedsLoaded(feeds)) => assert_eq!(feeds[0].unread, 0),
            other => panic!("{other:?}"),
        }
        assert_eq!(reader.feed(feed).unwrap().unwrap().unread, 0);
        // Without a library nothing is reported, and no catalog is created.
        let missing = dir.path().join("none");
        mark_read(&missing, doc, &tx);
        assert!(rx.try_recv().is_err());
        assert!(!lore_index::layout::catalog_path(&missing).exists());
    }

    fn feed_report(
        title: &str,
        status: &str,
        added: usize,
        updated: usize,
        error: Option<&str>,
    ) -> FeedReport {
        FeedReport {
            feed: 1,
            url: format!("https://{title}.example/feed.xml"),
            title: Some(title.into()),
            status: status.into(),
            error: error.map(str::to_string),
            added,
            updated,
            ..Default::default()
        }
    }

    #[test]
    fn a_refresh_ends_with_one_line_naming_a_single_failure() {
        let mut r = RefreshReport {
            feeds: vec![
                feed_report("rust", "ok", 4, 1, None),
                feed_report("python", "not-modified", 1, 0, None),
                feed_report("broken", "error", 0, 0, Some("HTTP 404 Not Found")),
            ],
            added: 5,
            updated: 1,
            failed_feeds: 1,
            failed_items: 0,
        };
        assert_eq!(
            refresh_summary(&r),
            ("3 feeds: 5 new, 1 updated, 1 failed (broken: HTTP 404 Not Found)".to_string(), true)
        );
        r.feeds.truncate(1);
        (r.added, r.updated, r.failed_feeds, r.failed_items) = (4, 1, 0, 2);
        assert_eq!(refresh_summary(&r), ("1 feed: 4 new, 1 updated, 2 items failed".to_string(), true));
        r.failed_items = 0;
        assert_eq!(refresh_summary(&r), ("1 feed: 4 new, 1 updated".to_string(), false));
        // An error that names the feed's URL is not named twice.
        let e = "https://broken.example/feed.xml: HTTP 404";
        let broken = feed_report("broken", "error", 0, 0, Some(e));
        assert_eq!(feed_error(&broken, e), e);
        assert_eq!(feed_error(&broken, "HTTP 404"), "broken: HTTP 404");
    }

    /// The context of a UI on a library in `dir` holding one document about the zebrafoo
    /// protocol, added with the real embedding model.
    fn context_with_a_library(dir: &Path) -> Arc<Context> {
        let home = dir.join("library");
        let (config, paths) = crate::config::load(&home).unwrap();
        let ctx = Context::new(config, paths);
        let note = dir.join("zebrafoo.md");
        let text =
            "# The zebrafoo protocol\n\nThe zebrafoo protocol tells ships how to pass whales at sea.\n";
        std::fs::write(&note, text).unwrap();
        let mut lib = ctx.writer(Duration::ZERO).unwrap();
        let report = lib.add_paths(&[note], &[], &mut |_| {}).unwrap();
        assert_eq!(report.added, 1, "{report:?}");
        drop(lib);
        Arc::new(ctx)
    }

    /// The next report about search `seq` (others, such as the engine being ready, are passed).
    async fn search_report(reports: &mut mpsc::UnboundedReceiver<Report>, seq: u64) -> Report {
        let wait = async {
            loop {
                match reports.recv().await {
                    Some(r @ (Report::SearchDone { seq: s, .. } | Report::SearchFailed { seq: s, .. }))
                        if s == seq =>
                    {
                        return r;
                    }
                    Some(_) => {}
                    None => panic!("the engine stopped reporting"),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(120), wait)
            .await
            .unwrap_or_else(|_| panic!("no answer to search {seq}: the engine hangs"))
    }

    #[test]
    fn a_search_that_panics_is_reported_and_the_next_one_is_served() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = context_with_a_library(dir.path());
        let (tx, mut reports) = mpsc::unbounded_channel();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let local = tokio::task::LocalSet::new();
        local.block_on(&rt, async {
            let mut engine = Engine::new(ctx, tx);
            // A bug below the engine, met by one query.
            engine.search_fn = |lib, cfg, req| {
                if req.query == "boom" {
                    panic!("a bug met by this query");
                }
                lib.search(cfg, req)
            };
            let (requests, rx) = mpsc::unbounded_channel();
            let running = tokio::task::spawn_local(engine.run(rx));
            requests.send(EngineMsg::Search { seq: 1, query: "boom".into() }).unwrap();
            match search_report(&mut reports, 1).await {
                Report::SearchFailed { error, .. } => {
                    assert!(
                        error.contains("internal error") && error.contains("a bug met by this query"),
                        "{error}"
                    )
                }
                other => panic!("{other:?}"),
            }
            requests.send(EngineMsg::Search { seq: 2, query: "zebrafoo whales".into() }).unwrap();
            match search_report(&mut reports, 2).await {
                Report::SearchDone { hits, .. } => {
                    assert!(hits.iter().any(|h| h.title == "The zebrafoo protocol"), "{hits:?}")
                }
                other => panic!("{other:?}"),
            }
            drop(requests);
            running.await.expect("the engine ends when the UI does, not before");
        });
    }

    #[test]
    fn an_add_that_only_failed_ends_with_the_failure() {
        let r = lore_index::AddReport {
            failed: vec!["https://a.example/: HTTP 404".into()],
            ..Default::default()
        };
        let IngestUpdate::Done { summary, failures } = add_summary(&r, "nothing".into()) else { panic!() };
        assert_eq!((summary.as_str(), failures), ("https://a.example/: HTTP 404", true));
        let r = lore_index::AddReport { added: 1, chunks: 4, ..Default::default() };
        let IngestUpdate::Done { summary, failures } = add_summary(&r, "nothing".into()) else { panic!() };
        assert_eq!((summary.as_str(), failures), ("added 1 document (4 chunks)", false));
    }
}
