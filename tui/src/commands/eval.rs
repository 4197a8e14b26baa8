//! `lore eval`: retrieval quality on a BEIR-layout data set, through the real ingest, index and
//! search path, in a temporary library.

use std::collections::{HashMap, HashSet};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use lore_index::eval::{Dataset, Metrics, Query};
use lore_index::{Library, LibraryOptions, Mode, SearchHit, SearchRequest};
use lore_ingest::{Document, Kind, Section};
use serde::Serialize;

use crate::cli::EvalArgs;
use crate::context::Context;
use crate::output::outln;
use crate::output::print_json;

#[derive(Debug, Serialize)]
struct ModeResult {
    mode: &'static str,
    #[serde(flatten)]
    metrics: Metrics,
    p50_ms: f64,
    p95_ms: f64,
}

#[derive(Debug, Serialize)]
struct EvalReport {
    dataset: String,
    /// The embedding model the library was built with.
    model: String,
    documents: usize,
    queries: usize,
    chunks: usize,
    index_seconds: f64,
    chunks_per_second: f64,
    modes: Vec<ModeResult>,
    answers: ContextResult,
    /// With `--answers N`: answers of the chat model, judged (at the first of `--budgets`).
    #[serde(skip_serializing_if = "Option::is_none")]
    model_answers: Option<AnswerResult>,
    /// With `--answers N --budgets A,B,...`: the same questions answered at each passage budget.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    budgets: Vec<AnswerResult>,
}

/// How well `ask` would be served: the passages handed to the chat model (the ask defaults and
/// the configured context window) hold a relevant document for this share of the queries, and
/// how the relevance gate judges the queries (without a chat model).
#[derive(Debug, Serialize)]
struct ContextResult {
    context_recall: f64,
    /// Queries the relevance gate refused (nothing relevant enough to answer from).
    no_sources: Vec<String>,
    passages_mean: f64,
    tokens_mean: f64,
    budget_tokens: usize,
    /// Share of the judged queries whose top `ask.k` search hits hold a relevant document.
    hits_recall: f64,
    /// Judged queries with a reference answer (`answers.jsonl`).
    references: usize,
    /// Share of them whose passages hold their reference answer ([`holds_reference`]).
    context_reference: Option<f64>,
    /// Share of the judged queries the gate refuses.
    gate_false_refusal: f64,
    /// Unanswerable questions (`unanswerable.jsonl`) run through the gate.
    unanswerable: usize,
    /// Share of them the gate lets through to the model.
    gate_false_answer: Option<f64>,
    /// Each query's gate signals (JSON only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    signals: Vec<GateSignal>,
}

/// What the relevance gate saw for one query.
#[derive(Debug, Serialize)]
struct GateSignal {
    id: String,
    answerable: bool,
    evidence: f32,
    similarity: Option<f32>,
    passed: bool,
    /// The passages hold a relevant document (answerable queries).
    relevant_in_passages: bool,
}

/// The retrieval settings of `ask` for `question`, with the passage budget the configured
/// context window leaves.
fn ask_retrieve_config(ctx: &Context, question: &str) -> Result<lore_agent::RetrieveConfig> {
    let mut rcfg = crate::context::retrieve_config(ctx, None, Default::default())?;
    let llm = &ctx.config.llm;
    rcfg.budget_tokens = lore_agent::answer::passage_budget(
        llm.context_window,
        llm.max_answer_tokens as usize,
        0,
        question,
        rcfg.budget_tokens,
    );
    Ok(rcfg)
}

/// Whether `source` (a `beir:ID` document source) is judged relevant to the query `judged`.
fn is_relevant(judged: Option<&std::collections::HashMap<String, u32>>, source: &str) -> bool {
    let id = source.strip_prefix("beir:").unwrap_or(source);
    judged.and_then(|j| j.get(id)).is_some_and(|g| *g > 0)
}

/// Share of a reference answer's content words (stemmed) a passage must hold to hold the answer.
const REFERENCE_HELD: f64 = 0.6;

/// Whether `passage` holds the reference answer `reference`: at least [`REFERENCE_HELD`] of the
/// reference's content words. The references are the leads of FAQ answers
/// (`scripts/reference-answers.py`), so the passage with the start of the answering section holds
/// it, and a later chunk of the same long section does not.
fn holds_reference(passage: &str, reference: &str) -> bool {
    let wanted = lore_agent::words::stems(reference);
    if wanted.is_empty() {
        return false;
    }
    let held = lore_agent::words::stems(passage);
    wanted.iter().filter(|w| held.contains(*w)).count() as f64 / wanted.len() as f64 >= REFERENCE_HELD
}

/// The reference answers of a data set: `answers.jsonl` lines `{"_id": query id, "answer": text}`.
fn read_references(path: &std::path::Path) -> Result<HashMap<String, String>> {
    #[derive(serde::Deserialize)]
    struct Line {
        #[serde(rename = "_id")]
        id: String,
        answer: String,
    }
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut out = HashMap::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let l: Line = serde_json::from_str(line)
            .map_err(|e| anyhow::anyhow!("{} line {}: {e}", path.display(), i + 1))?;
        out.insert(l.id, l.answer);
    }
    Ok(out)
}

/// Runs the agent's retrieval for every query and checks its passages against the judgements
/// and the reference answers, and the gate on the unanswerable questions.
fn answer_context(
    ctx: &Context,
    lib: &Library,
    ds: &Dataset,
    unanswerable: &[Query],
    references: &HashMap<String, String>,
    cfg: &lore_index::SearchConfig,
) -> Result<ContextResult> {
    let mut hit = 0usize;
    let (mut with_reference, mut reference_held) = (0usize, 0usize);
    let mut in_hits = 0usize;
    let (mut passages, mut tokens) = (0usize, 0usize);
    let mut budget = 0;
    let mut no_sources = Vec::new();
    let mut signals = Vec::new();
    for q in &ds.queries {
        let rcfg = ask_retrieve_config(ctx, &q.text)?;
        budget = rcfg.budget_tokens;
        let judged = ds.qrels.get(&q.id);
        let req =
            SearchRequest { query: q.text.clone(), k: rcfg.k, mode: rcfg.mode, filter: Default::default() };
        if lib.search(cfg, &req)?.iter().any(|h| is_relevant(judged, &h.source)) {
            in_hits += 1;
        }
        let found = lore_agent::retrieve::retrieve(lib, cfg, &q.text, &rcfg)?;
        if !found.answerable {
            no_sources.push(q.text.clone());
        }
        let held = found.answerable && found.passages.iter().any(|p| is_relevant(judged, &p.source));
        if found.answerable {
            passages += found.passages.len();
            tokens += found.passages.iter().map(|p| p.tokens).sum::<usize>();
        }
        if held {
            hit += 1;
        }
        if let Some(r) = references.get(&q.id) {
            with_reference += 1;
            if found.answerable && found.passages.iter().any(|p| holds_reference(&p.text, r)) {
                reference_held += 1;
            }
        }
        signals.push(GateSignal {
            id: q.id.clone(),
            answerable: true,
            evidence: found.evidence,
            similarity: found.similarity,
            passed: found.answerable,
            relevant_in_passages: held,
        });
    }
    let mut passed = 0usize;
    for q in unanswerable {
        let rcfg = ask_retrieve_config(ctx, &q.text)?;
        let found = lore_agent::retrieve::retrieve(lib, cfg, &q.text, &rcfg)?;
        if found.answerable {
            passed += 1;
        }
        signals.push(GateSignal {
            id: q.id.clone(),
            answerable: false,
            evidence: found.evidence,
            similarity: found.similarity,
            passed: found.answerable,
            relevant_in_passages: false,
        });
    }
    let n = ds.queries.len().max(1) as f64;
    let answered = (ds.queries.len() - no_sources.len()).max(1) as f64;
    Ok(ContextResult {
        context_recall: hit as f64 / n,
        gate_false_refusal: no_sources.len() as f64 / n,
        no_sources,
        passages_mean: passages as f64 / answered,
        tokens_mean: tokens as f64 / answered,
        budget_tokens: budget,
        hits_recall: in_hits as f64 / n,
        references: with_reference,
        context_reference: (with_reference > 0).then(|| reference_held as f64 / with_reference as f64),
        unanswerable: unanswerable.len(),
        gate_false_answer: (!unanswerable.is_empty()).then(|| passed as f64 / unanswerable.len() as f64),
        signals,
    })
}

/// Answers by the chat model, judged: for a sample of the judged queries, whether the answer
/// cites a passage of a relevant document; for a sample of the unanswerable questions, whether
/// lore answered anyway.
#[derive(Debug, Clone, Serialize)]
struct AnswerResult {
    model: String,
    /// The passage budget asked for (`ask.budget_tokens` or `--budgets`; `ask` lowers it to fit
    /// the model's context window).
    budget_tokens: usize,
    /// Mean tokens of the passages given to the model, over the answers the model wrote.
    passage_tokens_mean: f64,
    /// Judged queries asked.
    questions: usize,
    /// Share of them whose answer cites a passage of a relevant document (refusals count as
    /// not citing one).
    cites_answer: f64,
    /// Share of the passages given to the model holding the answer (the most `cites_answer`
    /// can reach).
    passages_hold_answer: f64,
    /// Share of the answers whose passages hold the answer that cite one of those passages.
    cites_answer_given: f64,
    /// Share of the citations of the answers given that point at a relevant document.
    citation_precision: f64,
    /// Judged queries asked that have a reference answer (`answers.jsonl`).
    references: usize,
    /// Share of them whose answer cites a passage holding the reference answer
    /// ([`holds_reference`]; refusals count as not citing one).
    cites_reference: Option<f64>,
    /// Share of them whose passages given to the model hold the reference answer.
    passages_hold_reference: Option<f64>,
    /// Sentences of the answers given that the verification checked ([`lore_agent::verify`]).
    sentences_checked: usize,
    /// Share of the checked sentences labelled supported by their cited sources.
    sentences_supported: f64,
    /// Share of the checked sentences labelled partly supported.
    sentences_partly: f64,
    /// The share of supported sentences of each answer given with a checked sentence, averaged
    /// over those answers (one long answer weighs as much as a short one).
    supported_per_answer: f64,
    /// Seconds from the question to the first token of the model's answer, median and 95th
    /// percentile, over the answers the model wrote (refusals before the model are left out).
    first_token_p50_s: f64,
    first_token_p95_s: f64,
    /// Mean prompt tokens of the answers the model wrote, and mean of them taken from the
    /// server's prompt cache (when the server reports them).
    prompt_tokens_mean: Option<f64>,
    cached_prompt_tokens_mean: Option<f64>,
    /// Share of them refused (by lore, or by the model saying the sources do not answer).
    false_refusal: f64,
    /// Unanswerable questions asked.
    unanswerable: usize,
    /// Share of them answered anyway.
    false_answer: Option<f64>,
    /// Answers withheld because the passages did not support them.
    withheld: usize,
    /// Questions whose request failed (left out of the figures).
    failed: usize,
    /// Seconds per question.
    seconds_mean: f64,
    /// Each question's outcome (JSON only).
    outcomes: Vec<AnswerOutcome>,
}

/// One question put to the chat model.
#[derive(Debug, Clone, Serialize)]
struct AnswerOutcome {
    id: String,
    answerable: bool,
    refused: bool,
    withheld: bool,
    cited: Vec<String>,
    cites_answer: bool,
    passages_hold_answer: bool,
    /// The numbers of the passages given to the model that hold the answer.
    answer_passages: Vec<usize>,
    /// The numbers of the passages the answer cites.
    cited_passages: Vec<usize>,
    /// The numbers of the passages given to the model that hold the reference answer (empty
    /// without one).
    reference_passages: Vec<usize>,
    /// The answer cites one of them (`None` without a reference answer).
    cites_reference: Option<bool>,
    /// Tokens of the passages given to the model.
    passage_tokens: usize,
    /// Seconds to the first token of the model's answer.
    first_token_s: Option<f64>,
    /// Prompt tokens, and those the server took from its cache (when it says).
    prompt_tokens: Option<u64>,
    cached_prompt_tokens: Option<u64>,
    /// Sources the verification found to back a sentence better than the ones it cites
    /// ([`lore_agent::verify::SentenceCheck::better_source`]).
    better_sources: Vec<usize>,
    /// The verification's count of sentences checked, supported and partly supported.
    checked: usize,
    supported: usize,
    partly: usize,
    answer: String,
}

/// Phrases of a model saying the sources do not answer (an answer without citations that says
/// one of these is counted as a refusal).
const SAYS_NO: &[&str] = &[
    "not contain",
    "does not provide",
    "do not provide",
    "doesn't provide",
    "no information",
    "not mention",
    "cannot answer",
    "can't answer",
    "unable to answer",
    "not enough information",
    "没有",
    "无法",
    "不包含",
    "未提及",
];

/// Whether an answer is a refusal: lore refused, or the model said the sources do not answer
/// and cited nothing.
fn is_refusal(a: &lore_agent::Answer) -> bool {
    let lower = a.text.to_lowercase();
    a.refused || (a.citations.is_empty() && SAYS_NO.iter().any(|p| lower.contains(p)))
}

/// A deterministic sample of `n` of `items` spread evenly over them in file order (the sets
/// follow their documents' order, so the sample covers every part of the documents): the middle
/// item of each of `n` equal stretches.
fn sample(items: &[Query], n: usize) -> Vec<&Query> {
    let len = items.len();
    if n >= len {
        return items.iter().collect();
    }
    (0..n).map(|i| &items[(2 * i + 1) * len / (2 * n)]).collect()
}

/// The passage budget and questions of one round of answers.
struct AnswerRound<'a> {
    /// Replaces `ask.budget_tokens` when set.
    budget: Option<usize>,
    n: usize,
    references: &'a HashMap<String, String>,
}

/// Asks the chat model `n` judged queries and `n` unanswerable questions through `ask`.
fn answer_quality(
    ctx: &Context,
    lib: &Library,
    ds: &Dataset,
    unanswerable: &[Query],
    round: &AnswerRound<'_>,
    chat: &lore_agent::ChatModel,
) -> Result<AnswerResult> {
    let mut opts = lore_agent::AskOptions {
        retrieve: crate::context::retrieve_config(ctx, None, Default::default())?,
        search: ctx.config.search.to_search_config()?,
        ..lore_agent::AskOptions::default()
    };
    if let Some(b) = round.budget {
        opts.retrieve.budget_tokens = b;
    }
    let n = round.n;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let mut outcomes = Vec::new();
    let mut failed = 0usize;
    let started = Instant::now();
    let asked: Vec<(&Query, bool)> = sample(&ds.queries, n)
        .into_iter()
        .map(|q| (q, true))
        .chain(sample(unanswerable, n).into_iter().map(|q| (q, false)))
        .collect();
    for (i, (q, answerable)) in asked.iter().enumerate() {
        crate::output::info_line(&format!(
            "answer {}/{} (budget {}): {}",
            i + 1,
            asked.len(),
            opts.retrieve.budget_tokens,
            q.text
        ));
        let a = match rt.block_on(lore_agent::ask(lib, Some(chat), &q.text, &[], &opts, &mut |_| {})) {
            Ok(a) => a,
            Err(e) => {
                // One failed request (a busy server, a timeout) costs one question, not the run.
                crate::output::error_line(&format!("answer {}/{} failed: {e}", i + 1, asked.len()));
                failed += 1;
                continue;
            }
        };
        let judged = ds.qrels.get(&q.id);
        let refused = is_refusal(&a);
        let cited: Vec<String> = a.citations.iter().map(|c| c.source.clone()).collect();
        let reference = round.references.get(&q.id).filter(|_| *answerable);
        let reference_passages: Vec<usize> = match reference {
            Some(r) => a.passages.iter().filter(|p| holds_reference(&p.text, r)).map(|p| p.n).collect(),
            None => Vec::new(),
        };
        let cites_reference =
            reference.map(|_| !refused && a.citations.iter().any(|c| reference_passages.contains(&c.n)));
        let summary = a.verification.as_ref().filter(|_| !refused).map(|v| v.summary);
        outcomes.push(AnswerOutcome {
            id: q.id.clone(),
            answerable: *answerable,
            refused,
            withheld: a.withheld.is_some(),
            cites_answer: !refused && cited.iter().any(|s| is_relevant(judged, s)),
            passages_hold_answer: a.passages.iter().any(|p| is_relevant(judged, &p.source)),
            answer_passages: a
                .passages
                .iter()
                .filter(|p| is_relevant(judged, &p.source))
                .map(|p| p.n)
                .collect(),
            cited_passages: a.citations.iter().map(|c| c.n).collect(),
            reference_passages,
            cites_reference,
            passage_tokens: a.passages.iter().map(|p| p.tokens).sum(),
            first_token_s: a.timings.first_token_ms.map(|t| t / 1000.0),
            prompt_tokens: a.timings.prompt_tokens,
            cached_prompt_tokens: a.timings.cached_prompt_tokens,
            better_sources: a
                .verification
                .iter()
                .flat_map(|v| v.sentences.iter().filter_map(|s| s.better_source))
                .collect(),
            checked: summary.map_or(0, |s| s.checked),
            supported: summary.map_or(0, |s| s.supported),
            partly: summary.map_or(0, |s| s.partly),
            cited,
            answer: a.withheld.clone().unwrap_or(a.text.clone()),
        });
    }
    let yes = outcomes.iter().filter(|o| o.answerable).collect::<Vec<_>>();
    let no = outcomes.iter().filter(|o| !o.answerable).collect::<Vec<_>>();
    let share = |n: usize, d: usize| if d == 0 { 0.0 } else { n as f64 / d as f64 };
    let given: Vec<&&AnswerOutcome> = yes.iter().filter(|o| !o.refused).collect();
    let citations: usize = given.iter().map(|o| o.cited.len()).sum();
    let relevant_citations: usize =
        given.iter().map(|o| o.cited.iter().filter(|s| is_relevant(ds.qrels.get(&o.id), s)).count()).sum();
    let with_reference: Vec<&&AnswerOutcome> = yes.iter().filter(|o| o.cites_reference.is_some()).collect();
    let reference_share = |held: &dyn Fn(&AnswerOutcome) -> bool| {
        (!with_reference.is_empty())
            .then(|| share(with_reference.iter().filter(|o| held(o)).count(), with_reference.len()))
    };
    let written: Vec<&AnswerOutcome> = outcomes.iter().filter(|o| o.first_token_s.is_some()).collect();
    let mut first_tokens: Vec<Duration> = written
        .iter()
        .filter_map(|o| o.first_token_s)
        .filter_map(|s| Duration::try_from_secs_f64(s).ok())
        .collect();
    first_tokens.sort();
    let checked: usize = given.iter().map(|o| o.checked).sum();
    Ok(AnswerResult {
        model: format!("{} at {}", chat.config().model, chat.config().shown_url()),
        budget_tokens: opts.retrieve.budget_tokens,
        passage_tokens_mean: share(written.iter().map(|o| o.passage_tokens).sum(), written.len()),
        references: with_reference.len(),
        cites_reference: reference_share(&|o| o.cites_reference == Some(true)),
        passages_hold_reference: reference_share(&|o| !o.reference_passages.is_empty()),
        sentences_checked: checked,
        sentences_supported: share(given.iter().map(|o| o.supported).sum(), checked),
        sentences_partly: share(given.iter().map(|o| o.partly).sum(), checked),
        supported_per_answer: {
            let judged: Vec<f64> = given
                .iter()
                .filter(|o| o.checked > 0)
                .map(|o| o.supported as f64 / o.checked as f64)
                .collect();
            if judged.is_empty() { 0.0 } else { judged.iter().sum::<f64>() / judged.len() as f64 }
        },
        prompt_tokens_mean: mean_of(&written, |o| o.prompt_tokens),
        cached_prompt_tokens_mean: mean_of(&written, |o| o.cached_prompt_tokens),
        first_token_p50_s: percentile(&first_tokens, 0.5) / 1000.0,
        first_token_p95_s: percentile(&first_tokens, 0.95) / 1000.0,
        questions: yes.len(),
        cites_answer: share(yes.iter().filter(|o| o.cites_answer).count(), yes.len()),
        passages_hold_answer: share(yes.iter().filter(|o| o.passages_hold_answer).count(), yes.len()),
        cites_answer_given: share(
            yes.iter().filter(|o| o.passages_hold_answer && o.cites_answer).count(),
            yes.iter().filter(|o| o.passages_hold_answer).count(),
        ),
        citation_precision: share(relevant_citations, citations),
        false_refusal: share(yes.iter().filter(|o| o.refused).count(), yes.len()),
        unanswerable: no.len(),
        false_answer: (!no.is_empty()).then(|| share(no.iter().filter(|o| !o.refused).count(), no.len())),
        withheld: outcomes.iter().filter(|o| o.withheld).count(),
        failed,
        seconds_mean: started.elapsed().as_secs_f64() / outcomes.len().max(1) as f64,
        outcomes,
    })
}

/// The mean of a count the endpoint may leave out, over the outcomes that have it.
fn mean_of(outcomes: &[&AnswerOutcome], count: impl Fn(&AnswerOutcome) -> Option<u64>) -> Option<f64> {
    let known: Vec<u64> = outcomes.iter().filter_map(|o| count(o)).collect();
    (!known.is_empty()).then(|| known.iter().sum::<u64>() as f64 / known.len() as f64)
}

/// The chat model for `--answers`: the configured one, at `--llm-url` when given.
fn chat_model(ctx: &Context, llm_url: Option<&str>) -> Result<lore_agent::ChatModel> {
    let cfg = match (llm_url, ctx.config.llm.to_chat_config()) {
        (Some(url), Some(mut c)) => {
            c.base_url = url.to_string();
            c
        }
        (Some(url), None) => {
            let mut c = lore_agent::ChatConfig::new(
                url,
                ctx.config.llm.model.clone().unwrap_or_else(|| "local".into()),
            );
            c.context_window = ctx.config.llm.context_window;
            c.max_answer_tokens = ctx.config.llm.max_answer_tokens;
            c.temperature = ctx.config.llm.temperature;
            c.connect_timeout = std::time::Duration::from_secs(ctx.config.llm.connect_timeout_secs.max(1));
            c.idle_timeout = std::time::Duration::from_secs(ctx.config.llm.idle_timeout_secs.max(1));
            c.retry.max_retries = ctx.config.llm.retries;
            c
        }
        (None, Some(c)) => c,
        (None, None) => bail!(
            "--answers needs a chat model: set llm.base_url, or pass --llm-url (scripts/chat-server.sh start prints a local one)"
        ),
    };
    Ok(lore_agent::ChatModel::new(cfg)?)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// The ranked corpus ids of a search, one per document.
fn ranked_ids(lib: &Library, cfg: &lore_index::SearchConfig, query: &str, mode: Mode) -> Result<Vec<String>> {
    Ok(corpus_ids(&ranked_hits(lib, cfg, query, mode)?))
}

/// The 100 best chunks of a search.
fn ranked_hits(
    lib: &Library,
    cfg: &lore_index::SearchConfig,
    query: &str,
    mode: Mode,
) -> Result<Vec<SearchHit>> {
    let req = SearchRequest { query: query.to_string(), k: 100, mode, filter: Default::default() };
    Ok(lib.search(cfg, &req)?)
}

/// The corpus ids of ranked hits, one per document.
fn corpus_ids(hits: &[SearchHit]) -> Vec<String> {
    let mut seen = HashSet::new();
    hits.iter()
        .filter_map(|h| h.source.strip_prefix("beir:").map(str::to_string))
        .filter(|id| seen.insert(id.clone()))
        .collect()
}

/// Hybrid search quality over a grid of fusion settings.
fn sweep(lib: &Library, ds: &Dataset, base: &lore_index::SearchConfig) -> Result<()> {
    use lore_index::{FusionConfig, FusionMethod};
    let mut grid = Vec::new();
    for kw in [1.0, 0.7, 0.5, 0.3] {
        for k in [60.0, 20.0] {
            grid.push(FusionConfig {
                method: FusionMethod::Rrf,
                keyword_weight: kw,
                rrf_k: k,
                ..base.fusion
            });
        }
    }
    for alpha in [0.5, 0.6, 0.7, 0.8, 0.9] {
        grid.push(FusionConfig { method: FusionMethod::Convex, alpha, ..base.fusion });
    }
    for fusion in grid {
        let cfg = lore_index::SearchConfig { fusion, ..base.clone() };
        let mut all = Vec::new();
        for q in &ds.queries {
            let ranked = ranked_ids(lib, &cfg, &q.text, Mode::Hybrid)?;
            if let Some(judged) = ds.qrels.get(&q.id) {
                all.push(Metrics::of(&ranked, judged));
            }
        }
        let m = Metrics::mean(&all);
        outln!(
            "sweep {:?} alpha {:.1} kw {:.1} k {:>3}: nDCG@10 {:.3} R@10 {:.3} MRR@10 {:.3}",
            fusion.method,
            fusion.alpha,
            fusion.keyword_weight,
            fusion.rrf_k,
            m.ndcg10,
            m.recall10,
            m.mrr10
        )?;
    }
    Ok(())
}

/// Hybrid search of each query with its translations into the library's main languages (see
/// [`lore_agent::translate`]), fused: the mode `hybrid+translate`. Latency includes the
/// translation calls.
fn translated_hybrid(
    ctx: &Context,
    lib: &Library,
    ds: &Dataset,
    cfg: &lore_index::SearchConfig,
    chat: &lore_agent::ChatModel,
) -> Result<ModeResult> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let main = lore_agent::translate::main_languages(lib);
    let timeout = Duration::from_secs(ctx.config.llm.idle_timeout_secs.max(1));
    let mut all = Vec::new();
    let mut times = Vec::new();
    for q in &ds.queries {
        let t = Instant::now();
        let targets = lore_agent::translate::targets(lore_index::query_language(&q.text).as_deref(), &main);
        let mut queries = vec![q.text.clone()];
        queries.extend(rt.block_on(lore_agent::translate::translate(chat, &q.text, &targets, timeout)));
        let req =
            SearchRequest { query: q.text.clone(), k: 100, mode: Mode::Hybrid, filter: Default::default() };
        let hits = lore_agent::retrieve::search_all(lib, cfg, &queries, &req)?;
        times.push(t.elapsed());
        if let Some(judged) = ds.qrels.get(&q.id) {
            all.push(Metrics::of(&corpus_ids(&hits), judged));
        }
    }
    times.sort();
    Ok(ModeResult {
        mode: "hybrid+translate",
        metrics: Metrics::mean(&all),
        p50_ms: percentile(&times, 0.5),
        p95_ms: percentile(&times, 0.95),
    })
}

/// Documents and questions looked at for their languages.
const SAMPLED: usize = 40;

/// The languages of a sample of the data set's documents and of its questions, each counted
/// when it is at least a fifth of its sample (a section of code or a quotation does not make an
/// English manual multilingual).
fn dataset_languages(ds: &Dataset) -> Vec<String> {
    let documents: Vec<String> =
        ds.corpus.iter().take(SAMPLED).filter_map(|d| lore_ingest::chunk_language(&d.text, None)).collect();
    let questions: Vec<String> =
        ds.queries.iter().take(SAMPLED).filter_map(|q| lore_ingest::query_language(&q.text)).collect();
    let mut languages: Vec<String> = Vec::new();
    for sample in [documents, questions] {
        for lang in &sample {
            let share = sample.iter().filter(|l| *l == lang).count() as f64 / sample.len() as f64;
            if share >= 0.2 && !languages.contains(lang) {
                languages.push(lang.clone());
            }
        }
    }
    languages
}

/// Runs `lore eval`.
pub fn run(ctx: &Context, args: EvalArgs) -> Result<ExitCode> {
    let modes: Vec<Mode> = match args.mode.as_str() {
        "all" => Mode::ALL.to_vec(),
        m => vec![m.parse().map_err(anyhow::Error::msg)?],
    };
    let ds = Dataset::load(&args.dir)?;
    if ds.queries.is_empty() {
        bail!("{} has no judged queries", args.dir.display());
    }
    let unanswerable_path = args.dir.join("unanswerable.jsonl");
    let unanswerable: Vec<Query> = if unanswerable_path.is_file() {
        lore_index::eval::read_queries(&unanswerable_path)?
    } else {
        Vec::new()
    };
    let references = match &args.reference {
        Some(path) => read_references(path)?,
        None if args.dir.join("answers.jsonl").is_file() => read_references(&args.dir.join("answers.jsonl"))?,
        None => HashMap::new(),
    };
    let chat = if args.answers > 0 { Some(chat_model(ctx, args.llm_url.as_deref())?) } else { None };
    let tmp = tempfile::tempdir()?;
    let home = args.library.as_deref().unwrap_or(tmp.path());
    let ing = &ctx.config.ingest;
    // The model a user adding these documents and asking these questions would get.
    ctx.choose_model(home, &dataset_languages(&ds), None);
    let engine_options = ctx.engine_options_at(home)?;
    let model = engine_options.embed.model.clone().unwrap_or_else(|| "AllMiniLML6V2".to_string());
    let options = LibraryOptions {
        chunk: lore_ingest::ChunkConfig {
            target_tokens: ing.chunk_tokens,
            overlap_tokens: ing.chunk_overlap,
        },
        engines: Some(engine_options),
        ..LibraryOptions::default()
    };
    let mut lib = Library::open_writer(home, options)?;
    let started = Instant::now();
    let mut chunks = 0;
    for d in &ds.corpus {
        let text = if d.text.trim().is_empty() { d.title.clone() } else { d.text.clone() };
        let doc = Document {
            source: format!("beir:{}", d.id),
            url: None,
            kind: Kind::Text,
            title: d.title.clone(),
            authors: Vec::new(),
            language: None,
            published: None,
            hash: lore_ingest::hash::content_hash(format!("{}\n{}", d.title, text).as_bytes()),
            byte_len: text.len() as u64,
            page_count: None,
            site: None,
            sections: vec![Section::new(Vec::new(), text)],
        };
        if let lore_index::ItemOutcome::Added { chunks: n, .. } = lib.add_document(&doc, &[], None, None)? {
            chunks += n;
        }
    }
    lib.embed_pending(&mut |_, _| {})?;
    let index_seconds = started.elapsed().as_secs_f64();
    let cfg = ctx.config.search.to_search_config()?;
    let mut results = Vec::new();
    let mut runs = match &args.runs {
        Some(path) => Some(std::io::BufWriter::new(std::fs::File::create(path)?)),
        None => None,
    };
    if args.sweep {
        sweep(&lib, &ds, &cfg)?;
    }
    for mode in modes {
        let mut all = Vec::new();
        let mut times = Vec::new();
        for q in &ds.queries {
            let t = Instant::now();
            let hits = ranked_hits(&lib, &cfg, &q.text, mode)?;
            times.push(t.elapsed());
            if let Some(out) = &mut runs {
                use std::io::Write;
                for h in &hits {
                    let id = h.source.strip_prefix("beir:").unwrap_or(&h.source);
                    writeln!(
                        out,
                        "{} Q0 {id}#{} {} {} {}",
                        q.id,
                        h.chunk.id,
                        h.rank,
                        h.score,
                        mode.as_str()
                    )?;
                }
            }
            let ranked = corpus_ids(&hits);
            if let Some(judged) = ds.qrels.get(&q.id) {
                all.push(Metrics::of(&ranked, judged));
            }
        }
        times.sort();
        results.push(ModeResult {
            mode: mode.as_str(),
            metrics: Metrics::mean(&all),
            p50_ms: percentile(&times, 0.5),
            p95_ms: percentile(&times, 0.95),
        });
    }
    if let Some(out) = runs {
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    }
    if args.translate {
        let translator = match &chat {
            Some(c) => c.clone(),
            None => chat_model(ctx, args.llm_url.as_deref())?,
        };
        results.push(translated_hybrid(ctx, &lib, &ds, &cfg, &translator)?);
    }
    let answers = answer_context(ctx, &lib, &ds, &unanswerable, &references, &cfg)?;
    let mut budgets = Vec::new();
    if let Some(chat) = &chat {
        let rounds: Vec<Option<usize>> = if args.budgets.is_empty() {
            vec![None]
        } else {
            args.budgets.iter().map(|b| Some(*b)).collect()
        };
        for budget in rounds {
            let round = AnswerRound { budget, n: args.answers, references: &references };
            budgets.push(answer_quality(ctx, &lib, &ds, &unanswerable, &round, chat)?);
        }
    }
    let model_answers = budgets.first().cloned();
    if budgets.len() == 1 {
        budgets.clear();
    }
    let report = EvalReport {
        dataset: args.dir.display().to_string(),
        model,
        documents: ds.corpus.len(),
        queries: ds.queries.len(),
        chunks,
        index_seconds,
        chunks_per_second: chunks as f64 / index_seconds.max(1e-9),
        modes: results,
        answers,
        model_answers,
        budgets,
    };
    if args.json {
        print_json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "{}: {} documents ({} chunks), {} queries",
        report.dataset,
        report.documents,
        report.chunks,
        report.queries
    )?;
    outln!(
        "indexed with {} in {:.1}s ({:.1} chunks/s)",
        report.model,
        report.index_seconds,
        report.chunks_per_second
    )?;
    outln!(
        "{:<8} {:>8} {:>8} {:>9} {:>7} {:>8} {:>8}",
        "mode",
        "nDCG@10",
        "R@10",
        "R@100",
        "MRR@10",
        "p50 ms",
        "p95 ms"
    )?;
    for r in &report.modes {
        outln!(
            "{:<8} {:>8.3} {:>8.3} {:>9.3} {:>7.3} {:>8.1} {:>8.1}",
            r.mode,
            r.metrics.ndcg10,
            r.metrics.recall10,
            r.metrics.recall100,
            r.metrics.mrr10,
            r.p50_ms,
            r.p95_ms
        )?;
    }
    let a = &report.answers;
    outln!(
        "ask: search hits hold a relevant document for {:.1}% of queries; the passages for {:.1}% ({:.1} passages, {:.0} tokens on average; budget {})",
        a.hits_recall * 100.0,
        a.context_recall * 100.0,
        a.passages_mean,
        a.tokens_mean,
        a.budget_tokens,
    )?;
    match a.gate_false_answer {
        Some(f) => outln!(
            "relevance gate: refuses {:.1}% of answerable queries, lets {:.1}% of {} unanswerable ones through",
            a.gate_false_refusal * 100.0,
            f * 100.0,
            a.unanswerable
        )?,
        None => outln!("relevance gate: refuses {:.1}% of answerable queries", a.gate_false_refusal * 100.0)?,
    }
    if let Some(r) = a.context_reference {
        outln!(
            "ask: the passages hold the reference answer for {:.1}% of {} queries",
            r * 100.0,
            a.references
        )?;
    }
    let rounds: Vec<&AnswerResult> = if report.budgets.is_empty() {
        report.model_answers.iter().collect()
    } else {
        report.budgets.iter().collect()
    };
    for m in rounds {
        outln!(
            "answers ({}; {} answerable questions, {:.0} s each): cite a passage holding the answer {:.1}% (the passages given hold it for {:.1}%; of those, {:.1}% cite it), citation precision {:.1}%, false refusals {:.1}%",
            m.model,
            m.questions,
            m.seconds_mean,
            m.cites_answer * 100.0,
            m.passages_hold_answer * 100.0,
            m.cites_answer_given * 100.0,
            m.citation_precision * 100.0,
            m.false_refusal * 100.0
        )?;
        outln!(
            "  budget {} tokens (given {:.0} on average): first token after {:.1} s (p50), {:.1} s (p95); sentences supported {:.1}%, partly {:.1}% of {} checked ({:.1}% per answer)",
            m.budget_tokens,
            m.passage_tokens_mean,
            m.first_token_p50_s,
            m.first_token_p95_s,
            m.sentences_supported * 100.0,
            m.sentences_partly * 100.0,
            m.sentences_checked,
            m.supported_per_answer * 100.0
        )?;
        if let (Some(p), Some(c)) = (m.prompt_tokens_mean, m.cached_prompt_tokens_mean) {
            outln!("  prompt {p:.0} tokens on average, {c:.0} of them from the server's prompt cache")?;
        }
        if let (Some(c), Some(p)) = (m.cites_reference, m.passages_hold_reference) {
            outln!(
                "  reference answers ({}): cited {:.1}% (the passages given hold it for {:.1}%)",
                m.references,
                c * 100.0,
                p * 100.0
            )?;
        }
        if let Some(f) = m.false_answer {
            outln!(
                "answers to {} unanswerable questions: {:.1}% answered anyway ({} answers withheld as unsupported in all)",
                m.unanswerable,
                f * 100.0,
                m.withheld
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passage_holds_a_reference_answer_by_its_words() {
        let reference =
            "SQLite uses dynamic typing. Content can be stored as INTEGER, REAL, TEXT, BLOB, or as NULL.";
        // The section's start, reworded a little: held.
        assert!(holds_reference(
            "Datatypes. SQLite uses dynamic typing: content may be stored as an INTEGER, REAL, TEXT, BLOB or NULL value.",
            reference
        ));
        // The same page's later paragraph: not held.
        assert!(!holds_reference(
            "Type affinity is recommended for columns; a column with TEXT affinity stores all data using storage classes.",
            reference
        ));
        assert!(!holds_reference("anything at all", "the and of"));
    }

    #[test]
    fn reference_answers_are_read_by_query_id_and_a_bad_line_is_named() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("answers.jsonl");
        std::fs::write(
            &path,
            "{\"_id\": \"q1\", \"answer\": \"Yes.\"}\n\n{\"_id\": \"q2\", \"answer\": \"No.\"}\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let refs = read_references(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(refs.len(), 2);
        assert_eq!(refs["q2"], "No.");
        std::fs::write(&path, "{\"_id\": \"q1\"}\n").unwrap_or_else(|e| panic!("{e}"));
        let err = read_references(&path).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("answers.jsonl line 1"), "{err}");
    }
}
