//! One question asked in a conversation, the way `lore ask` and the terminal UI ask it: the
//! conversation's history is loaded, the answer retrieved and streamed ([`crate::ask`]), the turn
//! recorded in the catalog ([`crate::conversation::record`]) and, when asked for, documents
//! offered as related reading.
//!
//! ```text
//! AnswerSession::open(lib, Continue::Last, history_turns)   (or ::with_history, the UI's turns)
//!     .ask(chat, question, &SessionOptions { ask, related_reading }, on_event).await
//!     ─> SessionAnswer { answer, recorded: Result<conversation id>, related }
//! ```
//!
//! Turns are written beside a running writer through a catalog connection of the session's own:
//! the catalog is SQLite in WAL mode, and a turn touches no index, so no writer lock is taken.

use lore_index::catalog::Catalog;
use lore_index::layout::catalog_path;
use lore_index::{Library, RelatedDoc, RelatedOptions};

use crate::answer::{Answer, AskEvent, AskOptions};
use crate::chat::ChatModel;
use crate::conversation;
use crate::error::{AgentError, Result};
use crate::prompt::PastTurn;

/// The conversation a question belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Continue {
    /// A new conversation, created when the answer is recorded.
    New,
    /// The most recent conversation (a new one when there is none).
    Last,
    /// The conversation with this id; it must exist ([`AgentError::NoConversation`]).
    Conversation(i64),
}

/// How a session answers.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    /// Retrieval, search and prompting settings of the answer.
    pub ask: AskOptions,
    /// Documents offered as related reading after the answer (none when 0).
    pub related_reading: usize,
}

/// What a session's question came to.
#[derive(Debug)]
pub struct SessionAnswer {
    /// The answer.
    pub answer: Answer,
    /// The conversation the turn was recorded in, or why it was not recorded (the answer stands
    /// either way; the caller decides whether that is an error).
    pub recorded: Result<i64>,
    /// Documents to read next: those nearest to the chunks the answer cited (or, when it cited
    /// none, to the first passages it was given), leaving out the documents cited. Empty when
    /// [`SessionOptions::related_reading`] is 0 or they could not be found.
    pub related: Vec<RelatedDoc>,
}

/// A question about to be asked in a conversation of a library.
#[derive(Debug)]
pub struct AnswerSession<'l> {
    lib: &'l Library,
    /// A read-write connection for recording the turn; opened when it is first needed.
    catalog: Option<Catalog>,
    conversation: Option<i64>,
    history: Vec<PastTurn>,
}

/// Passages whose chunks stand for an answer that cited nothing, when related reading is sought.
const RELATED_FROM_PASSAGES: usize = 3;

impl<'l> AnswerSession<'l> {
    /// Opens the conversation `which` in `lib`'s catalog and loads its last `history_turns` turns
    /// as the history of the question.
    pub fn open(lib: &'l Library, which: Continue, history_turns: usize) -> Result<AnswerSession<'l>> {
        let catalog = open_catalog(lib)?;
        let conversation = match which {
            Continue::New => None,
            Continue::Last => catalog.last_conversation()?,
            Continue::Conversation(id) => {
                if catalog.conversation(id)?.is_none() {
                    return Err(AgentError::NoConversation(id));
                }
                Some(id)
            }
        };
        let history = match conversation {
            Some(id) => conversation::history(&catalog, id, history_turns)?,
            None => Vec::new(),
        };
        Ok(AnswerSession { lib, catalog: Some(catalog), conversation, history })
    }

    /// A session whose history the caller holds (the terminal UI keeps the turns on screen):
    /// the question continues `conversation` (a new one when `None`), and the catalog is opened
    /// only to record the turn.
    pub fn with_history(
        lib: &'l Library,
        conversation: Option<i64>,
        history: Vec<PastTurn>,
    ) -> AnswerSession<'l> {
        AnswerSession { lib, catalog: None, conversation, history }
    }

    /// The conversation the question continues (`None`: a new one).
    pub fn conversation(&self) -> Option<i64> {
        self.conversation
    }

    /// The earlier turns the model is shown, oldest first.
    pub fn history(&self) -> &[PastTurn] {
        &self.history
    }

    /// Asks `question`: retrieves, streams the answer through `on_event`, records the turn and
    /// finds the related reading. An answer that fails is an error and records nothing; dropping
    /// the future cancels the answer (and records nothing either).
    pub async fn ask(
        mut self,
        chat: Option<&ChatModel>,
        question: &str,
        options: &SessionOptions,
        on_event: &mut dyn FnMut(AskEvent<'_>),
    ) -> Result<SessionAnswer> {
        let answer = crate::ask(self.lib, chat, question, &self.history, &options.ask, on_event).await?;
        let recorded = self.record(&answer);
        let related = related_reading(self.lib, &answer, options.related_reading);
        Ok(SessionAnswer { answer, recorded, related })
    }

    /// Records `answer` as the next turn of the conversation; returns the conversation's id.
    fn record(&mut self, answer: &Answer) -> Result<i64> {
        let catalog = match &mut self.catalog {
            Some(c) => c,
            None => self.catalog.insert(open_catalog(self.lib)?),
        };
        conversation::record(catalog, self.conversation, answer)
    }
}

/// The library's catalog, opened for writing turns.
fn open_catalog(lib: &Library) -> Result<Catalog> {
    let path = catalog_path(lib.home());
    Catalog::open(&path).map_err(|source| AgentError::Conversations { path, source })
}

/// Up to `k` documents to read after `answer` (see [`SessionAnswer::related`]).
fn related_reading(lib: &Library, answer: &Answer, k: usize) -> Vec<RelatedDoc> {
    if k == 0 {
        return Vec::new();
    }
    let mut chunks: Vec<i64> = answer.citations.iter().map(|c| c.chunk_id).collect();
    if chunks.is_empty() {
        chunks = answer.passages.iter().take(RELATED_FROM_PASSAGES).map(|p| p.chunk_id).collect();
    }
    if chunks.is_empty() {
        return Vec::new();
    }
    let options = RelatedOptions { k, pairs: 0, ..Default::default() };
    lib.related_to_chunks(&chunks, &options).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(q: &str, text: &str) -> Answer {
        crate::conversation::tests::answer(q, text, vec![])
    }

    #[test]
    fn a_session_continues_the_conversation_asked_for_and_records_its_turn() {
        let dir = tempfile::tempdir().unwrap();
        let mut cat = Catalog::open_home(dir.path()).unwrap();
        let first = conversation::record(&mut cat, None, &answer("What is the GIL?", "A lock.")).unwrap();
        let last = conversation::record(&mut cat, None, &answer("What is WAL?", "A journal.")).unwrap();
        conversation::record(&mut cat, Some(last), &answer("Why?", "Readers.")).unwrap();
        let lib = Library::open_reader(dir.path(), None).unwrap();

        let new = AnswerSession::open(&lib, Continue::New, 5).unwrap();
        assert_eq!((new.conversation(), new.history().len()), (None, 0));
        let s = AnswerSession::open(&lib, Continue::Last, 1).unwrap();
        assert_eq!(s.conversation(), Some(last));
        assert_eq!(s.history(), [PastTurn { question: "Why?".into(), answer: "Readers.".into() }]);
        let s = AnswerSession::open(&lib, Continue::Conversation(first), 5).unwrap();
        assert_eq!((s.conversation(), s.history().len()), (Some(first), 1));
        assert!(matches!(
            AnswerSession::open(&lib, Continue::Conversation(999), 5),
            Err(AgentError::NoConversation(999))
        ));

        // Recorded in the conversation of the session, or a new one.
        let mut s = AnswerSession::with_history(&lib, Some(first), Vec::new());
        assert_eq!(s.record(&answer("And the GIL?", "Still a lock.")).unwrap(), first);
        let mut s = AnswerSession::open(&lib, Continue::New, 5).unwrap();
        let id = s.record(&answer("Another?", "Yes.")).unwrap();
        assert!(![first, last].contains(&id));
        assert_eq!(cat.turns(first).unwrap().len(), 2);
        assert!(related_reading(&lib, &answer("q", "a"), 3).is_empty());
    }
}
