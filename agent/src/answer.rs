//! Answering a question: rewrite a follow-up into a standalone query, retrieve passages, stream
//! the model's answer with its citations mapped back to the library, or quote the best passages
//! when there is no model (or it cannot be reached).

use std::time::{Duration, Instant};

use lore_index::{Library, SearchConfig};
use serde::Serialize;

use crate::chat::ChatModel;
use crate::cite::{self, Attributor};
use crate::error::{AgentError, Result};
use crate::prompt::{self, PastTurn};
use crate::refusal::{self, Phrase};
use crate::retrieve::{self, Passage, RetrieveConfig, estimate_tokens};
use crate::verify::{self, Verification};
use crate::{rewrite, support, translate};

/// One cited source of an answer.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Citation {
    /// The number the answer cites it by.
    pub n: usize,
    /// Document id.
    #[serde(rename = "doc")]
    pub doc_id: i64,
    /// Document title.
    pub title: String,
    /// Document kind.
    pub kind: String,
    /// Page or page span (PDF).
    pub page: Option<String>,
    /// Section heading path.
    pub section: Option<String>,
    /// URL (with the section anchor when there is one), for web pages and news.
    pub url: Option<String>,
    /// The document's source path or key.
    pub source: String,
    /// The cited chunk.
    pub chunk_id: i64,
    /// The cited chunk's text.
    pub text: String,
    /// True when the model did not cite this source itself and lore attributed sentences to it
    /// by their overlap with its text.
    #[serde(default)]
    pub inferred: bool,
}

impl Citation {
    /// The citation of a passage.
    pub fn of(p: &Passage) -> Citation {
        Citation {
            n: p.n,
            doc_id: p.doc_id,
            title: p.title.clone(),
            kind: p.kind.clone(),
            page: p.pages(),
            section: (!p.heading.is_empty() && p.heading != p.title).then(|| p.heading.clone()),
            url: p.url.as_ref().map(|u| match &p.anchor {
                Some(a) if !a.is_empty() && !u.contains('#') => format!("{u}#{a}"),
                _ => u.clone(),
            }),
            source: p.source.clone(),
            chunk_id: p.chunk_id,
            text: p.hit_text.clone(),
            inferred: false,
        }
    }

    /// One line for a source list: `[n] Title — p. 4 · Section · URL`.
    pub fn line(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(p) = &self.page {
            parts.push(p.clone());
        }
        if let Some(s) = &self.section {
            parts.push(s.clone());
        }
        match &self.url {
            Some(u) => parts.push(u.clone()),
            None if self.page.is_none() && self.section.is_none() => parts.push(self.source.clone()),
            None => {}
        }
        if parts.is_empty() {
            format!("[{}] {}", self.n, self.title)
        } else {
            format!("[{}] {} — {}", self.n, self.title, parts.join(" · "))
        }
    }
}

/// How an answer was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AnswerMode {
    /// Written by the chat model from the sources.
    Llm,
    /// The best passages, quoted.
    Extractive,
}

impl AnswerMode {
    /// The mode's name.
    pub fn as_str(self) -> &'static str {
        match self {
            AnswerMode::Llm => "llm",
            AnswerMode::Extractive => "extractive",
        }
    }
}

/// Where the time of an answer went, in milliseconds from the start of [`ask`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Timings {
    /// Rewriting the question (0 without history).
    pub rewrite_ms: f64,
    /// Searching and assembling the passages.
    pub retrieval_ms: f64,
    /// Until the chat request left.
    pub request_sent_ms: Option<f64>,
    /// Until the first piece of the answer arrived.
    pub first_token_ms: Option<f64>,
    /// Until the last piece of the answer arrived (the stream ended).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_token_ms: Option<f64>,
    /// Until the first sentence's check was told ([`AskEvent::Verified`]) while the answer
    /// streamed; `None` when no sentence was complete before the stream ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_verified_ms: Option<f64>,
    /// Checking sentences while the answer streamed ([`crate::verify::Streaming`]), in all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_verify_ms: Option<f64>,
    /// Verifying the answer's sentences against their sources after the stream ended
    /// ([`crate::verify`]): those not checked while it streamed (the last one, and any changed
    /// after the stream).
    pub verify_ms: Option<f64>,
    /// Until the answer was complete.
    pub total_ms: f64,
    /// Tokens of the prompt, as the chat model's endpoint counted them (when it says).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<u64>,
    /// Of them, the tokens the endpoint took from its prompt cache (the system prompt, which
    /// every answer shares byte for byte) instead of processing again, when it says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached_prompt_tokens: Option<u64>,
}

/// A finished answer.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// The question as asked.
    pub question: String,
    /// The query the library was searched with.
    pub query: String,
    /// The answer text, with `[n]` markers.
    pub text: String,
    /// The cited sources, by number.
    pub citations: Vec<Citation>,
    /// Every passage the model was given.
    #[serde(skip)]
    pub passages: Vec<Passage>,
    /// How it was made.
    pub mode: AnswerMode,
    /// The chat model, if one answered.
    pub model: Option<String>,
    /// Why the model stopped (`stop`, `length`), if it said.
    pub finish_reason: Option<String>,
    /// A note for the user (e.g. the model was unreachable and passages are shown instead).
    pub notice: Option<String>,
    /// True when lore said the library does not answer the question instead of answering:
    /// nothing relevant was found, or the passages did not support the model's answer. The
    /// text then lists the nearest passages.
    pub refused: bool,
    /// The model's answer that the passages did not support, when it was withheld.
    pub withheld: Option<String>,
    /// Each sentence of a model's answer checked against its cited sources ([`crate::verify`]);
    /// `None` for extractive answers and refusals. Not stored with the turn.
    pub verification: Option<Verification>,
    /// What a whole-document or chapter answer (map-reduce, [`crate::overview`]) cost; `None`
    /// for answers from retrieved passages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overview: Option<crate::overview::OverviewStats>,
    /// Timings.
    pub timings: Timings,
}

/// What happens while answering, in order, for display as it streams.
#[derive(Debug)]
pub enum AskEvent<'a> {
    /// The follow-up question was rewritten into this search query.
    Rewritten(&'a str),
    /// The passages found (numbered as the answer will cite them).
    Sources(&'a [Passage]),
    /// The chat model could not be used; the answer is extractive instead.
    Notice(&'a str),
    /// The next piece of the answer text.
    Text(&'a str),
    /// A sentence of the answer, complete, checked against its sources while the answer
    /// streams ([`crate::verify::Streaming`]); `start` and `end` count characters of the text
    /// streamed so far. The final [`Answer::verification`] holds every sentence's check.
    Verified(&'a crate::verify::SentenceCheck),
    /// How far a whole-document or chapter answer has got ([`crate::overview`]): told before
    /// the first part is summarised, after each, and when the answer is being written.
    Progress(&'a crate::overview::Progress),
}

/// Settings of [`ask`].
#[derive(Debug, Clone)]
pub struct AskOptions {
    /// What to retrieve; its `budget_tokens` is an upper bound, lowered to fit the model's
    /// context window.
    pub retrieve: RetrieveConfig,
    /// Search settings.
    pub search: SearchConfig,
    /// Most tokens of earlier turns given to the model.
    pub history_tokens: usize,
    /// Longest wait for a follow-up rewrite before searching the raw question.
    pub rewrite_timeout: Duration,
    /// Translate a question in another language than the library's main ones into them and
    /// search each version too (one short chat-model call per language; see
    /// [`crate::translate`]).
    pub translate: bool,
    /// Answer whole-document and chapter questions ("summarise chapter 2 of X", "what is this
    /// book about") by map-reduce over the scope's sections ([`crate::scope`],
    /// [`crate::overview`]) when a chat model is at hand.
    pub overview: bool,
}

impl Default for AskOptions {
    fn default() -> Self {
        AskOptions {
            retrieve: RetrieveConfig::default(),
            search: SearchConfig::default(),
            history_tokens: 800,
            rewrite_timeout: Duration::from_secs(30),
            translate: false,
            overview: true,
        }
    }
}

/// Token budget for the passages given a model's context window.
pub fn passage_budget(
    context_window: usize,
    max_answer: usize,
    history: usize,
    question: &str,
    cap: usize,
) -> usize {
    let fixed = estimate_tokens(prompt::SYSTEM_PROMPT) + estimate_tokens(question) + 150;
    context_window.saturating_sub(max_answer + history + fixed).min(cap)
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// Rewrites a follow-up into a standalone query. Without history it is the question itself;
/// without a model, or when the model fails, is slow or gives a rewrite that
/// [`rewrite::check`] rejects, it is the previous question and the follow-up together.
pub async fn standalone_query(
    chat: Option<&ChatModel>,
    history: &[PastTurn],
    question: &str,
    timeout: Duration,
) -> String {
    if history.is_empty() {
        return question.trim().to_string();
    }
    let fallback = || rewrite::fallback_query(question, history);
    let Some(chat) = chat else { return fallback() };
    let messages = prompt::rewrite_messages(history, question);
    match tokio::time::timeout(timeout, chat.complete(&messages, 64)).await {
        Ok(Ok(raw)) => prompt::clean_rewrite(&raw)
            .and_then(|r| rewrite::check(question, history, &r).ok())
            .unwrap_or_else(fallback),
        _ => fallback(),
    }
}

/// Answers `question`: rewrites it with the conversation `history`, retrieves passages from
/// `library`, and streams the chat model's answer through `on_event`; without a model, or when
/// it cannot be reached, answers with the best passages quoted.
///
/// When no passage is relevant enough (see [`RetrieveConfig`]) the model is not asked: the
/// answer says, in the question's language, that the library does not answer it, and lists the
/// nearest passages. When the passages do not support the model's answer
/// ([`support::check`]), it is withheld the same way (it has streamed already; the refusal
/// follows it and replaces it in the final [`Answer`]).
///
/// A question about a document, chapter or section as a whole ([`crate::scope::detect`]) is
/// answered by map-reduce over that scope's sections instead ([`crate::overview::answer`]),
/// when [`AskOptions::overview`] is set, a chat model is given and the document is known
/// ([`crate::scope::resolve`]; otherwise a notice says why and the question is searched).
pub async fn ask(
    library: &Library,
    chat: Option<&ChatModel>,
    question: &str,
    history: &[PastTurn],
    opts: &AskOptions,
    on_event: &mut dyn FnMut(AskEvent<'_>),
) -> Result<Answer> {
    if opts.overview
        && let Some(chat) = chat
        && let Some(asked) = crate::scope::detect(question)
    {
        match crate::scope::resolve(library, question, &asked, &opts.retrieve.filter.doc_ids)? {
            crate::scope::Resolved::Scope(scope) => {
                match crate::overview::answer(library, chat, question, &scope, on_event).await {
                    // The model cannot be reached: the passages a search finds, quoted, as for
                    // any question (below).
                    Err(e) if e.is_unreachable() => {
                        on_event(AskEvent::Notice(&format!("{e}; cannot summarise {:?}", scope.label)));
                    }
                    other => return other,
                }
            }
            crate::scope::Resolved::NoDocument(why) => on_event(AskEvent::Notice(&why)),
        }
    }
    let start = Instant::now();
    let query = standalone_query(chat, history, question, opts.rewrite_timeout).await;
    let mut queries = vec![query.clone()];
    if opts.translate
        && let Some(chat) = chat
    {
        let targets = translate::targets(
            lore_index::query_language(&query).as_deref(),
            &translate::main_languages(library),
        );
        if !targets.is_empty() {
            queries.extend(translate::translate(chat, &query, &targets, opts.rewrite_timeout).await);
        }
    }
    let rewrite_ms = ms(start);
    if queries.len() > 1 || query != question.trim() {
        on_event(AskEvent::Rewritten(&queries.join(" / ")));
    }
    let mut rcfg = opts.retrieve.clone();
    let history_tokens = if chat.is_some() { opts.history_tokens } else { 0 };
    if let Some(chat) = chat {
        let c = chat.config();
        rcfg.budget_tokens = passage_budget(
            c.context_window,
            c.max_answer_tokens as usize,
            history_tokens,
            question,
            rcfg.budget_tokens,
        );
    }
    let found = retrieve::retrieve_all(library, &opts.search, &queries, &rcfg)?;
    let retrieval_ms = ms(start) - rewrite_ms;
    let passages = found.passages;
    on_event(AskEvent::Sources(&passages));
    let timings = Timings { rewrite_ms, retrieval_ms, ..Timings::default() };

    if !found.answerable {
        let text = refusal::refusal(question, Phrase::NoAnswer, &passages);
        on_event(AskEvent::Text(&text));
        let answer = Answer {
            question: question.trim().to_string(),
            query,
            text,
            citations: Vec::new(),
            passages,
            mode: AnswerMode::Extractive,
            model: None,
            finish_reason: None,
            notice: None,
            refused: true,
            withheld: None,
            verification: None,
            overview: None,
            timings: Timings { total_ms: ms(start), ..timings },
        };
        return Ok(answer);
    }
    let Some(chat) = chat else {
        let answer = extractive(question, &query, passages, None, timings, start);
        on_event(AskEvent::Text(&answer.text));
        return Ok(answer);
    };
    let messages = prompt::answer_messages(&passages, question, history, history_tokens);
    let notice = injection_notice(&passages);
    if let Some(n) = &notice {
        on_event(AskEvent::Notice(n));
    }
    let request_sent = ms(start);
    let mut stream = match chat.stream(&messages).await {
        Ok(s) => s,
        Err(e) if e.is_unreachable() => {
            let notice = format!("{e}; showing the best passages instead");
            on_event(AskEvent::Notice(&notice));
            let answer = extractive(question, &query, passages, Some(notice), timings, start);
            on_event(AskEvent::Text(&answer.text));
            return Ok(answer);
        }
        Err(e) => return Err(e),
    };
    let mut timings = Timings { request_sent_ms: Some(request_sent), ..timings };
    let texts: Vec<&str> = passages.iter().map(|p| p.text.as_str()).collect();
    let attributor = Attributor::new(&texts).with_question(&query);
    // Read while the server reads the prompt: the sentences are checked as they complete.
    let sources = verify_sources(library, &passages);
    let cosine_min = verify::same_meaning(library);
    let mut streaming = verify::Streaming::new(&sources, cosine_min);
    // One embedder, its vectors kept, for the checks while streaming, the support check and the
    // verification below: they read the same passage sentences.
    let mut library_embed = support::LibraryEmbed::new(library);
    let mut streamed = String::new();
    let (mut first_token, mut last_token, mut first_verified) = (None, None, None);
    let mut stream_verify = Duration::ZERO;
    let (text, model_cited) = cite::read_cited(
        &mut stream,
        passages.len(),
        attributor,
        &mut || first_token = Some(ms(start)),
        &mut |t| {
            last_token = Some(ms(start));
            on_event(AskEvent::Text(t));
            streamed.push_str(t);
            let checking = Instant::now();
            let mut embed = library_embed.for_answer(&streamed);
            let checks = streaming.push(t, &mut embed);
            for check in &checks {
                // The support check's claims and passage sentences, embedded now (its verdict
                // needs the whole answer).
                support::check(&check.text, &texts, &mut embed, cosine_min);
            }
            if !checks.is_empty() {
                stream_verify += checking.elapsed();
            }
            for check in &checks {
                first_verified.get_or_insert_with(|| ms(start));
                on_event(AskEvent::Verified(check));
            }
        },
    )
    .await?;
    timings.first_token_ms = first_token;
    if let Some(u) = stream.usage {
        timings.prompt_tokens = u.prompt_tokens;
        timings.cached_prompt_tokens = u.cached_tokens;
    }
    timings.last_token_ms = last_token;
    timings.first_verified_ms = first_verified;
    timings.stream_verify_ms = first_verified.map(|_| stream_verify.as_secs_f64() * 1000.0);
    // Checks made while streaming with meaning judged otherwise than the whole answer's
    // language says are made again.
    if library_embed.judged_otherwise(library_embed.judges(&text)) {
        streaming.forget();
    }
    let whole = text.clone();
    let mut embed = library_embed.for_answer(&whole);
    let verdict = support::check(&text, &texts, &mut embed, cosine_min);
    let model = Some(chat.config().model.clone());
    let finish_reason = stream.finish_reason.clone();
    if !verdict.stands() {
        let refusal = refusal::refusal(question, Phrase::Unsupported, &passages);
        on_event(AskEvent::Text(&format!("\n\n{refusal}")));
        timings.total_ms = ms(start);
        return Ok(Answer {
            question: question.trim().to_string(),
            query,
            text: refusal,
            citations: Vec::new(),
            passages,
            mode: AnswerMode::Llm,
            model,
            finish_reason,
            notice: None,
            refused: true,
            withheld: Some(text),
            verification: None,
            overview: None,
            timings,
        });
    }
    // Claims left without a marker that a passage supports by meaning (a Chinese sentence from
    // an English passage shares no word with it) get that passage's marker.
    let numbers: Vec<usize> = passages.iter().map(|p| p.n).collect();
    let mut text = cite::mark_backed_claims(&text, &verdict.backing, &numbers);
    if let Some(marker) = cite::translated_answer_marker(&text, &passages) {
        // Told after the answer: it has streamed already.
        on_event(AskEvent::Text(&marker));
        text.push_str(&marker);
    }
    let citations = cite::markers_in(&text)
        .into_iter()
        .filter_map(|n| passages.iter().find(|p| p.n == n))
        .map(|p| Citation { inferred: !model_cited.contains(&p.n), ..Citation::of(p) })
        .collect::<Vec<_>>();
    let mut citations = citations;
    citations.sort_by_key(|c| c.n);
    let verify_start = Instant::now();
    let verification = streaming.finish(&text, &mut embed);
    timings.verify_ms = Some(ms(verify_start));
    timings.total_ms = ms(start);
    Ok(Answer {
        question: question.trim().to_string(),
        query,
        text,
        citations,
        passages,
        mode: AnswerMode::Llm,
        model,
        finish_reason,
        notice,
        refused: false,
        withheld: None,
        verification: Some(verification),
        overview: None,
        timings,
    })
}

/// What the user is told when sources gave instructions to the model that were left out of the
/// prompt ([`crate::injection`]).
pub(crate) fn injection_notice(passages: &[Passage]) -> Option<String> {
    let marked: Vec<String> = passages
        .iter()
        .filter(|p| {
            crate::injection::holds_instructions(&p.text)
                || crate::injection::instructs_a_model(&p.title)
                || crate::injection::instructs_a_model(&p.location())
        })
        .map(|p| format!("[{}]", p.n))
        .collect();
    match marked.len() {
        0 => None,
        1 => Some(format!(
            "source {} contains instructions to an AI model; lore left them out of the prompt",
            marked[0]
        )),
        _ => Some(format!(
            "sources {} contain instructions to an AI model; lore left them out of the prompt",
            marked.join(", ")
        )),
    }
}

/// The passages as [`verify::verify`] reads them: the text the model was given, and the chunks
/// it covers (read from the catalog; the cited chunk alone when they cannot be read).
pub(crate) fn verify_sources(library: &Library, passages: &[Passage]) -> Vec<verify::Source> {
    passages
        .iter()
        .map(|p| {
            let mut chunks = vec![verify::ChunkText { id: p.chunk_id, text: p.hit_text.clone() }];
            let others: Vec<i64> = p.chunk_ids.iter().copied().filter(|id| *id != p.chunk_id).collect();
            if let Ok(stored) = library.catalog().chunks_by_ids(&others) {
                chunks.extend(stored.into_iter().map(|c| verify::ChunkText { id: c.id, text: c.text }));
            }
            verify::Source { n: p.n, text: p.text.clone(), chunks }
        })
        .collect()
}

/// Longest quote of a passage in an extractive answer, in characters.
const QUOTE_CHARS: usize = 700;

fn quote(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= QUOTE_CHARS {
        return flat;
    }
    let cut: String = flat.chars().take(QUOTE_CHARS).collect();
    // End at a sentence when one ends in the second half, else at a word.
    let sentence = cut.rfind(". ").filter(|i| *i > QUOTE_CHARS / 2).map(|i| i + 1);
    let at = sentence.or_else(|| cut.rfind(' ')).unwrap_or(cut.len());
    format!("{} …", cut[..at].trim_end())
}

/// The extractive answer: each passage's best chunk quoted under its citation.
pub fn extractive(
    question: &str,
    query: &str,
    passages: Vec<Passage>,
    notice: Option<String>,
    timings: Timings,
    start: Instant,
) -> Answer {
    let citations: Vec<Citation> = passages.iter().map(Citation::of).collect();
    let passages_empty = citations.is_empty();
    let text = if citations.is_empty() {
        refusal::phrase(Phrase::NoAnswer, refusal::language_of(question)).to_string()
    } else {
        citations
            .iter()
            .map(|c| format!("{}\n> {}", c.line(), quote(&c.text)))
            .collect::<Vec<_>>()
            .join("\n\n")
    };
    Answer {
        question: question.trim().to_string(),
        query: query.to_string(),
        text,
        citations,
        passages,
        mode: AnswerMode::Extractive,
        model: None,
        finish_reason: None,
        notice,
        refused: passages_empty,
        withheld: None,
        verification: None,
        overview: None,
        timings: Timings { total_ms: ms(start), ..timings },
    }
}

impl From<tokio::task::JoinError> for AgentError {
    fn from(e: tokio::task::JoinError) -> Self {
        AgentError::Task(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_leaves_room_for_the_answer_and_history() {
        let b = passage_budget(4096, 700, 800, "What is a tail call?", 10_000);
        assert!(b < 4096 - 700 - 800 && b > 1500, "{b}");
        assert_eq!(passage_budget(4096, 700, 800, "q", 1000), 1000, "capped");
        assert_eq!(passage_budget(500, 700, 0, "q", 1000), 0, "no room");
    }

    #[test]
    fn quotes_are_flat_and_bounded() {
        assert_eq!(quote("a\n b  c"), "a b c");
        let long = "Sentence one is here. ".repeat(60);
        let q = quote(&long);
        assert!(q.chars().count() <= QUOTE_CHARS + 2);
        assert!(q.ends_with(". …"), "{q}");
    }

    #[test]
    fn citation_lines_name_page_section_or_url() {
        let c = Citation {
            n: 2,
            doc_id: 1,
            title: "FAQ".into(),
            kind: "html".into(),
            page: None,
            section: Some("Why?".into()),
            url: Some("https://e.org/faq#why".into()),
            source: "https://e.org/faq".into(),
            chunk_id: 5,
            text: String::new(),
            inferred: false,
        };
        assert_eq!(c.line(), "[2] FAQ — Why? · https://e.org/faq#why");
        let bare = Citation { section: None, url: None, source: "/notes/a.md".into(), ..c };
        assert_eq!(bare.line(), "[2] FAQ — /notes/a.md");
    }

    #[test]
    fn extractive_without_passages_says_so() {
        let a = extractive("q", "q", vec![], None, Timings::default(), Instant::now());
        assert_eq!(a.mode, AnswerMode::Extractive);
        assert!(a.citations.is_empty());
        assert!(a.refused);
        assert!(a.text.contains("does not contain an answer"), "{}", a.text);
    }
}
