//! The agent of lore: answers questions from the library with a chat model, every claim cited.
//!
//! - [`chat`]: any OpenAI-compatible chat endpoint through async-openai, streamed, with
//!   timeouts and retries ([`retry`]).
//! - [`retrieve`]: the passages for a question (hybrid search, neighbouring chunks, a token budget).
//! - [`prompt`]: the instructions, the fenced numbered sources, follow-up rewriting.
//! - [`cite`]: `[n]` markers recognised in the stream and mapped to sources.
//! - [`support`]: whether the passages support an answer's claims.
//! - [`verify`]: each sentence of an answer labelled by how far its cited sources back it,
//!   with the supporting quote.
//! - [`refusal`]: what is said, in the question's language, when the library has no answer.
//! - [`answer`]: the whole flow, and the extractive answer used without a model.
//! - [`research`]: `lore research`: a plan of sub-questions, a search for each, a cited report.
//! - [`scope`]: whether a question asks about a document or chapter as a whole, and which;
//!   [`overview`] answers those by map-reduce over its sections, summaries cached in the catalog.
//! - [`rewrite`]: a follow-up's rewrite checked before it is searched.
//! - [`conversation`]: conversations kept in the catalog.
//! - [`session`]: one question in a conversation, as `lore ask` and the UI ask it: history,
//!   answer, the recorded turn, related reading.

pub mod answer;
pub mod chat;
pub mod cite;
pub mod code_spans;
pub mod conversation;
pub mod error;
pub mod injection;
pub mod overview;
pub mod prompt;
pub mod refusal;
pub mod repeat;
pub mod research;
pub mod retrieve;
pub mod retry;
pub mod rewrite;
pub mod scope;
pub mod session;
pub mod support;
pub mod translate;
pub mod verify;
pub mod words;

pub use answer::{Answer, AnswerMode, AskEvent, AskOptions, Citation, Timings, ask};
pub use chat::{ChatConfig, ChatModel, Message, Role, Usage};
pub use error::{AgentError, Result};
pub use retrieve::{Passage, Retrieval, RetrieveConfig};
pub use session::{AnswerSession, Continue, SessionAnswer, SessionOptions};
