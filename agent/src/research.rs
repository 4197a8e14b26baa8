//! Research mode (`lore research`): a question too broad for one search is planned into
//! sub-questions by the chat model, each is searched (a second round in other words when the
//! first finds little), and the model writes the report a section at a time: each sub-question
//! answered from the passages found for it, cited and checked as `ask` checks an answer (one
//! its passages do not support is withheld and the nearest passages named).
//!
//! Built for small local models: a plain numbered list for the plan (shown one example), the
//! answering prompt of `ask` for each section, no tool calling; the number of chat calls is
//! bounded (one plan, at most one rephrasing and one section per sub-question) and so is every
//! call's size.

use std::collections::HashSet;
use std::time::Instant;

use lore_index::Library;
use serde::Serialize;

use crate::answer::{AskOptions, Citation, passage_budget, verify_sources};
use crate::chat::{ChatModel, Message};
use crate::cite::{Attributor, markers_in, read_cited};
use crate::error::Result;
use crate::refusal::{self, Phrase};
use crate::retrieve::{self, Passage, estimate_tokens};
use crate::verify::{self, Verification};
use crate::{prompt, support};

/// The instructions for planning.
const PLAN_PROMPT: &str = "\
You plan research in the user's own documents. Split the user's question into 3 or 4 short \
sub-questions that together answer it; each must be answerable by searching the documents.
Write one sub-question per line, numbered, and nothing else.
Write the sub-questions in the language of the question.";

/// An example exchange shown to the model before the question: a 0.5B model given only the
/// instructions wrote one sub-question and stopped; with this example it splits the question
/// (its subjects appear in no question, and [`on_subject`] drops a line copied from it).
const PLAN_EXAMPLE: (&str, &str) = (
    "Question: How do Rust and Go handle errors, and which one is easier to learn?",
    "1. How does Rust handle errors?\n2. How does Go handle errors?\n3. Is Rust easy to learn?\n4. Is Go easy to learn?",
);

/// [`PLAN_EXAMPLE`] in Chinese, shown for a Chinese question: with the English example a 0.5B
/// model planned a Chinese question in English, and each section was then answered in English.
const PLAN_EXAMPLE_ZH: (&str, &str) = (
    "Question: Rust 和 Go 如何处理错误？哪一个更容易学？",
    "1. Rust 如何处理错误？\n2. Go 如何处理错误？\n3. Rust 容易学吗？\n4. Go 容易学吗？",
);

/// The instructions for rephrasing a sub-question whose search found little.
const REPHRASE_PROMPT: &str = "\
Rewrite the user's search question in other words, with the terms a document about it would use. \
Reply with the new question only, on one line, in the same language.";

/// Most tokens the model may write for a plan.
const PLAN_TOKENS: u32 = 160;
/// Most tokens the model may write for a rephrased sub-question.
const REPHRASE_TOKENS: u32 = 48;

/// Limits of one research run.
#[derive(Debug, Clone)]
pub struct ResearchOptions {
    /// Retrieval and search settings (the filters apply to every search).
    pub ask: AskOptions,
    /// Most sub-questions kept from the plan.
    pub max_subquestions: usize,
    /// Most passages kept for one sub-question.
    pub passages_per_subquestion: usize,
    /// Search rounds per sub-question: a round after the first runs only when the previous one
    /// found nothing relevant, with the sub-question rephrased by the model.
    pub rounds: usize,
    /// Most tokens the model may write for one section of the report (within
    /// `llm.max_answer_tokens`).
    pub tokens_per_section: u32,
}

impl Default for ResearchOptions {
    fn default() -> Self {
        ResearchOptions {
            ask: AskOptions::default(),
            max_subquestions: 4,
            passages_per_subquestion: 3,
            rounds: 2,
            tokens_per_section: 200,
        }
    }
}

impl ResearchOptions {
    /// Most chat-model calls a run makes: the plan, a rephrasing per sub-question and round
    /// after the first, a section per sub-question.
    pub fn max_calls(&self) -> usize {
        1 + self.max_subquestions * self.rounds.max(1)
    }
}

/// What happens during a run, as it happens.
#[derive(Debug)]
pub enum ResearchEvent<'a> {
    /// The sub-questions planned.
    Plan(&'a [String]),
    /// A search starts: sub-question `index` (from 0), round `round` (from 1), the query.
    Searching {
        /// Which sub-question.
        index: usize,
        /// Which round.
        round: usize,
        /// What is searched.
        query: &'a str,
    },
    /// A sub-question's searches are done: how many passages it adds.
    Found {
        /// Which sub-question.
        index: usize,
        /// Passages found for it (not already found for an earlier one).
        passages: usize,
    },
    /// The report is being written from this many passages.
    Writing(usize),
    /// Section `index` (from 0) of `of` is being written.
    Section {
        /// Which section.
        index: usize,
        /// How many there are.
        of: usize,
    },
    /// A piece of the report's text.
    Text(&'a str),
    /// Something the user should know (sources holding instructions, a failed call).
    Notice(&'a str),
}

/// One sub-question of the plan and what its searches found.
#[derive(Debug, Clone, Serialize)]
pub struct SubQuestion {
    /// The sub-question.
    pub question: String,
    /// The queries searched, in order (the sub-question, then its rephrasings).
    pub queries: Vec<String>,
    /// Whether a search found a passage relevant enough to answer from.
    pub answerable: bool,
    /// The numbers of the passages found for it.
    pub passages: Vec<usize>,
    /// How its section of the report came out.
    pub outcome: Outcome,
    /// The model's answer for it, when its passages did not support it and it was withheld.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withheld: Option<String>,
}

/// How a sub-question's section of the report came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Not written yet.
    #[default]
    Pending,
    /// Answered from its passages, cited.
    Answered,
    /// The model's answer was not supported by its passages: withheld, the nearest passages named.
    Withheld,
    /// Nothing relevant was found for it.
    NotFound,
}

/// How long each stage took, in milliseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ResearchTimings {
    /// Planning.
    pub plan_ms: f64,
    /// Every search and rephrasing.
    pub search_ms: f64,
    /// Writing the report (until the last token).
    pub report_ms: f64,
    /// Checking every sentence against its sources.
    pub verify_ms: f64,
    /// The whole run.
    pub total_ms: f64,
}

/// A research report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The question researched.
    pub question: String,
    /// The plan.
    pub plan: Vec<SubQuestion>,
    /// Whether the plan is the model's (false: the question alone, when the model gave no
    /// usable plan).
    pub planned: bool,
    /// The report, with `[n]` markers.
    pub text: String,
    /// Every passage given to the model, numbered.
    pub passages: Vec<Passage>,
    /// The passages the report cites, by number.
    pub citations: Vec<Citation>,
    /// Each sentence checked against its cited sources.
    pub verification: Option<Verification>,
    /// Sections of the report (under a `##` heading) whose text cites no source.
    pub uncited_sections: Vec<String>,
    /// True when nothing relevant was found: the text then says so and lists the nearest
    /// passages, and the model wrote nothing.
    pub refused: bool,
    /// Chat-model calls made.
    pub calls: usize,
    /// Estimated tokens sent to the model, all calls together.
    pub tokens_sent: usize,
    /// The model's name.
    pub model: String,
    /// Why the report's generation stopped (`length`: cut at the answer limit).
    pub finish_reason: Option<String>,
    /// Stage timings.
    pub timings: ResearchTimings,
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// Reads a plan: one sub-question per line, numbering and bullets removed, duplicates and
/// lines too short to search dropped, at most `max`.
pub fn parse_plan(raw: &str, question: &str, max: usize) -> Vec<String> {
    let mut seen: HashSet<String> = HashSet::new();
    seen.insert(normalise(question));
    let mut out = Vec::new();
    for line in raw.lines() {
        let line = first_question(strip_bullet(line.trim()));
        let line = line.trim_matches(|c: char| c == '"' || c == '“' || c == '”' || c == '*').trim();
        if !searchable(line)
            || line.ends_with(':')
            || line.ends_with('：')
            || copies_the_example(line, question)
        {
            continue;
        }
        if seen.insert(normalise(line)) {
            out.push(line.to_string());
        }
        if out.len() == max {
            break;
        }
    }
    out
}

/// The first question of a line that asks several ("What is X? How is it used?"): the rest
/// rephrases or widens it, and a search reads one question best.
fn first_question(line: &str) -> &str {
    match line.char_indices().find(|(_, c)| matches!(c, '?' | '？')) {
        Some((i, c)) if !line[i + c.len_utf8()..].trim().is_empty() => &line[..i + c.len_utf8()],
        _ => line,
    }
}

/// A line without its list marker: `1.`, `1)`, `(1)`, `-`, `*`, `•`, `一、`, `Sub-question 1:`.
fn strip_bullet(line: &str) -> &str {
    let mut s = line.trim_start_matches(['-', '*', '•', '·', '#', '(', '（']).trim_start();
    for prefix in ["Sub-question", "sub-question", "Subquestion", "Question", "子问题", "问题"] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest.trim_start();
        }
    }
    let digits =
        s.find(|c: char| !c.is_ascii_digit() && !"一二三四五六七八九十".contains(c)).unwrap_or(s.len());
    if digits > 0 {
        let rest = &s[digits..];
        if let Some(r) = rest.strip_prefix(['.', ')', ':', '、', '）', '：', '．']) {
            return r.trim_start();
        }
    }
    s
}

/// The words of [`PLAN_EXAMPLE`] that name its subjects.
const EXAMPLE_SUBJECTS: &[&str] = &["rust", "handle", "errors", "learn", "easier"];

/// Whether a sub-question was copied from [`PLAN_EXAMPLE`] rather than made from the question
/// (a small model sometimes does): it names a subject of the example the question does not, and
/// shares no word of four letters or more, nor a pair of CJK characters, with the question.
fn copies_the_example(line: &str, question: &str) -> bool {
    let words = |s: &str| -> HashSet<String> {
        s.split(|c: char| !c.is_alphanumeric() || crate::words::is_cjk(c))
            .filter(|w| w.chars().count() >= 4)
            .map(str::to_lowercase)
            .collect()
    };
    let (line_words, question_words) = (words(line), words(question));
    let from_example =
        EXAMPLE_SUBJECTS.iter().any(|w| line_words.contains(*w) && !question_words.contains(*w));
    let on_subject = line_words.intersection(&question_words).next().is_some()
        || cjk_bigrams(line).intersection(&cjk_bigrams(question)).next().is_some();
    from_example && !on_subject
}

/// Pairs of adjacent CJK characters in `text`, but those that only shape a question.
fn cjk_bigrams(text: &str) -> HashSet<String> {
    const SHAPING: &[&str] =
        &["如何", "什么", "怎么", "为什", "哪个", "是否", "可以", "一个", "这个", "那个", "容易"];
    let chars: Vec<char> = text.chars().collect();
    chars
        .windows(2)
        .filter(|w| w.iter().all(|c| crate::words::is_cjk(*c)))
        .map(|w| w.iter().collect::<String>())
        .filter(|b| !SHAPING.contains(&b.as_str()))
        .collect()
}

/// Whether a line says enough to be searched: three words, or four CJK characters.
fn searchable(line: &str) -> bool {
    let cjk = line.chars().filter(|c| crate::words::is_cjk(*c)).count();
    cjk >= 4 || line.split_whitespace().filter(|w| w.chars().any(char::is_alphanumeric)).count() >= 3
}

fn normalise(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// The first line of a rephrasing that can be searched.
fn parse_rephrase(raw: &str) -> Option<String> {
    raw.lines()
        .map(|l| strip_bullet(l.trim()).trim_matches('"').trim())
        .find(|l| searchable(l))
        .map(str::to_string)
}

/// The messages asking for a plan.
pub fn plan_messages(question: &str) -> Vec<Message> {
    let example = if refusal::language_of(question) == "zh" { PLAN_EXAMPLE_ZH } else { PLAN_EXAMPLE };
    vec![
        Message::system(PLAN_PROMPT),
        Message::user(example.0),
        Message::assistant(example.1),
        Message::user(format!("Question: {}", question.trim())),
    ]
}

/// Sections (`## heading` and its text) whose text cites nothing; the text before the first
/// heading counts as a section when it holds a sentence.
pub fn uncited_sections(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut heading = String::new();
    let mut body = String::new();
    let close = |heading: &str, body: &str, out: &mut Vec<String>| {
        if searchable(body) && markers_in(body).is_empty() {
            out.push(if heading.is_empty() {
                body.trim().chars().take(60).collect()
            } else {
                heading.to_string()
            });
        }
    };
    for line in text.lines() {
        if let Some(h) = line.trim_start().strip_prefix('#') {
            close(&heading, &body, &mut out);
            heading = h.trim_start_matches('#').trim().to_string();
            body.clear();
        } else {
            body.push_str(line);
            body.push('\n');
        }
    }
    close(&heading, &body, &mut out);
    out
}

/// Researches `question` in `library` with `chat` (see the module's docs), reporting progress
/// and the report's text through `on_event`.
pub async fn research(
    library: &Library,
    chat: &ChatModel,
    question: &str,
    opts: &ResearchOptions,
    on_event: &mut dyn FnMut(ResearchEvent<'_>),
) -> Result<Report> {
    let start = Instant::now();
    let question = question.trim();
    let cfg = chat.config();
    let mut calls = 0;
    let mut tokens_sent = 0;

    // Plan.
    let messages = plan_messages(question);
    tokens_sent += messages.iter().map(|m| estimate_tokens(&m.content)).sum::<usize>();
    calls += 1;
    let raw = chat.complete(&messages, PLAN_TOKENS).await?;
    let mut subs = parse_plan(&raw, question, opts.max_subquestions.max(1));
    let planned = !subs.is_empty();
    if !planned {
        on_event(ResearchEvent::Notice("the model gave no usable plan; researching the question as asked"));
        subs.push(question.to_string());
    }
    on_event(ResearchEvent::Plan(&subs));
    let plan_ms = ms(start);

    // Search each sub-question, with the passage budget of one answer (each section is one).
    let section_tokens = opts.tokens_per_section.min(cfg.max_answer_tokens).max(64);
    let mut rcfg = opts.ask.retrieve.clone();
    rcfg.max_passages = opts.passages_per_subquestion.max(1);
    rcfg.budget_tokens =
        passage_budget(cfg.context_window, section_tokens as usize, 0, question, rcfg.budget_tokens).max(200);
    let mut passages: Vec<Passage> = Vec::new();
    let mut plan: Vec<SubQuestion> = Vec::new();
    let mut nearest: Vec<Passage> = Vec::new();
    for (index, sub) in subs.iter().enumerate() {
        let mut entry = SubQuestion {
            question: sub.clone(),
            queries: Vec::new(),
            answerable: false,
            passages: Vec::new(),
            outcome: Outcome::Pending,
            withheld: None,
        };
        let mut query = sub.clone();
        let before = passages.len();
        for round in 1..=opts.rounds.max(1) {
            on_event(ResearchEvent::Searching { index, round, query: &query });
            entry.queries.push(query.clone());
            let found = retrieve::retrieve(library, &opts.ask.search, &query, &rcfg)?;
            if found.answerable {
                entry.answerable = true;
                for mut p in found.passages {
                    if let Some(q) = passages.iter().find(|q| overlaps(q, &p)) {
                        if !entry.passages.contains(&q.n) {
                            entry.passages.push(q.n);
                        }
                        continue;
                    }
                    p.n = passages.len() + 1;
                    entry.passages.push(p.n);
                    passages.push(p);
                }
                break;
            }
            if nearest.len() < refusal::NEAREST {
                nearest.extend(found.passages.into_iter().take(refusal::NEAREST - nearest.len()));
            }
            if round == opts.rounds.max(1) {
                break;
            }
            let messages = vec![Message::system(REPHRASE_PROMPT), Message::user(sub.clone())];
            tokens_sent += messages.iter().map(|m| estimate_tokens(&m.content)).sum::<usize>();
            calls += 1;
            match chat.complete(&messages, REPHRASE_TOKENS).await.ok().as_deref().and_then(parse_rephrase) {
                Some(q) if normalise(&q) != normalise(&query) => query = q,
                _ => break,
            }
        }
        let added = passages.len() - before;
        on_event(ResearchEvent::Found { index, passages: added });
        plan.push(entry);
    }
    let search_ms = ms(start) - plan_ms;

    if passages.is_empty() {
        let text = refusal::refusal(question, Phrase::NoAnswer, &nearest);
        on_event(ResearchEvent::Text(&text));
        return Ok(Report {
            question: question.to_string(),
            plan,
            planned,
            text,
            passages: nearest,
            citations: Vec::new(),
            verification: None,
            uncited_sections: Vec::new(),
            refused: true,
            calls,
            tokens_sent,
            model: cfg.model.clone(),
            finish_reason: None,
            timings: ResearchTimings {
                plan_ms,
                search_ms,
                total_ms: ms(start),
                ..ResearchTimings::default()
            },
        });
    }

    // Write the report: a section per sub-question, each answered from the passages found for
    // it (a small model cites far better from three sources than from twelve) and checked as
    // `ask` checks its answers; an answer its passages do not support is withheld.
    on_event(ResearchEvent::Writing(passages.len()));
    if let Some(n) = crate::answer::injection_notice(&passages) {
        on_event(ResearchEvent::Notice(&n));
    }
    let writing = Instant::now();
    let lang = refusal::language_of(question);
    let cosine = verify::same_meaning(library);
    let all_texts: Vec<&str> = passages.iter().map(|p| p.text.as_str()).collect();
    let proto = Attributor::new(&all_texts);
    let limit = section_tokens;
    let mut finish_reason = None;
    let mut text = String::new();
    let sections = plan.len();
    for (index, entry) in plan.iter_mut().enumerate() {
        on_event(ResearchEvent::Section { index, of: sections });
        let own: Vec<Passage> = passages.iter().filter(|p| entry.passages.contains(&p.n)).cloned().collect();
        let body = if own.is_empty() {
            entry.outcome = Outcome::NotFound;
            refusal::phrase(Phrase::NoAnswer, lang).to_string()
        } else {
            let messages = prompt::answer_messages(&own, &entry.question, &[], 0);
            tokens_sent += messages.iter().map(|m| estimate_tokens(&m.content)).sum::<usize>();
            calls += 1;
            let mut stream = chat.stream_limited(&messages, limit).await?;
            let attributor = proto.clone().with_question(&entry.question);
            let (raw, _) =
                read_cited(&mut stream, passages.len(), attributor, &mut || {}, &mut |_| {}).await?;
            if stream.finish_reason.as_deref() == Some("length") || finish_reason.is_none() {
                finish_reason = stream.finish_reason.clone();
            }
            let own_texts: Vec<&str> = own.iter().map(|p| p.text.as_str()).collect();
            let mut embed = support::library_embed(library, &raw);
            let verdict = support::check(&raw, &own_texts, &mut embed, cosine);
            let numbers: Vec<usize> = own.iter().map(|p| p.n).collect();
            let marked = crate::cite::mark_backed_claims(&raw, &verdict.backing, &numbers);
            if verdict.stands() && !markers_in(&marked).is_empty() {
                entry.outcome = Outcome::Answered;
                marked
            } else {
                entry.outcome = Outcome::Withheld;
                entry.withheld = Some(raw);
                let nearest: Vec<String> =
                    numbers.iter().take(refusal::NEAREST).map(|n| format!("[{n}]")).collect();
                format!(
                    "{} {} {}",
                    refusal::phrase(Phrase::Unsupported, lang),
                    nearest_label(lang),
                    nearest.join(" ")
                )
            }
        };
        let section = format!("## {}\n\n{}\n\n", entry.question, body.trim());
        on_event(ResearchEvent::Text(&section));
        text.push_str(&section);
    }
    let report_ms = ms(writing);
    let text = text.trim().to_string();
    let mut citations: Vec<Citation> = markers_in(&text)
        .into_iter()
        .filter_map(|n| passages.iter().find(|p| p.n == n))
        .map(Citation::of)
        .collect();
    citations.sort_by_key(|c| c.n);
    citations.dedup_by_key(|c| c.n);

    let verifying = Instant::now();
    let mut embed = support::library_embed(library, &text);
    let sources = verify_sources(library, &passages);
    // Headings restate sub-questions: no claims. Blanked (same length, so every sentence keeps
    // its place in the text), they are not checked.
    let claims = without_headings(&text);
    let verification = verify::verify(&claims, &sources, &mut embed, cosine);
    let verify_ms = ms(verifying);
    Ok(Report {
        question: question.to_string(),
        uncited_sections: uncited_sections(&text),
        plan,
        planned,
        text,
        passages,
        citations,
        verification: Some(verification),
        refused: false,
        calls,
        tokens_sent,
        model: cfg.model.clone(),
        finish_reason,
        timings: ResearchTimings { plan_ms, search_ms, report_ms, verify_ms, total_ms: ms(start) },
    })
}

/// `text` with every heading line (`## ...`) replaced by as many spaces as it has characters.
fn without_headings(text: &str) -> String {
    text.split_inclusive('\n')
        .map(|line| {
            if line.trim_start().starts_with('#') {
                let end = line.trim_end_matches('\n');
                format!("{}{}", " ".repeat(end.chars().count()), &line[end.len()..])
            } else {
                line.to_string()
            }
        })
        .collect()
}

/// What introduces the nearest passages of a withheld section.
fn nearest_label(lang: &str) -> &'static str {
    match lang {
        "zh" => "最接近的段落：",
        "ja" => "最も近い段落：",
        _ => "Nearest passages:",
    }
}

/// Whether two passages share a chunk.
fn overlaps(a: &Passage, b: &Passage) -> bool {
    a.chunk_ids.iter().any(|id| b.chunk_ids.contains(id)) || a.chunk_id == b.chunk_id
}

/// The report as Markdown: the question as title, the plan, the report, and the numbered list
/// of the sources it cites (title, page or section, URL).
pub fn markdown(report: &Report) -> String {
    let mut out = format!("# {}\n\n", report.question.replace('\n', " "));
    if report.planned {
        out.push_str("Sub-questions researched:\n\n");
        for (i, s) in report.plan.iter().enumerate() {
            out.push_str(&format!("{}. {}\n", i + 1, s.question));
        }
        out.push('\n');
    }
    out.push_str(report.text.trim());
    out.push_str("\n\n## Sources\n\n");
    let cited: Vec<&Citation> = report.citations.iter().collect();
    if cited.is_empty() {
        out.push_str("No source was cited.\n");
    }
    for c in cited {
        let mut parts = vec![format!("**{}**", c.title.replace('\n', " "))];
        if let Some(p) = &c.page {
            parts.push(p.clone());
        }
        if let Some(s) = &c.section {
            parts.push(format!("§ {s}"));
        }
        match &c.url {
            Some(u) => parts.push(format!("<{u}>")),
            None => parts.push(format!("`{}`", c.source)),
        }
        out.push_str(&format!("{}. {}\n", c.n, parts.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_numbered_plan_is_read_line_by_line() {
        let raw = "Here are the sub-questions:\n1. What is a chroot in Debian?\n2) How is debootstrap used to create one?\n- What packages does schroot need?\n\n3. What is a chroot in Debian?\n4. Why?";
        let plan = parse_plan(raw, "How do I make a chroot?", 5);
        assert_eq!(
            plan,
            vec![
                "What is a chroot in Debian?",
                "How is debootstrap used to create one?",
                "What packages does schroot need?"
            ]
        );
    }

    #[test]
    fn a_chinese_plan_and_the_limit() {
        let raw = "1、什么是软件包管理系统？\n2．如何安装软件包？\n（3）如何删除软件包？\n4. 软件包的配置文件在哪里？";
        let plan = parse_plan(raw, "比较 apt 和 dpkg", 3);
        assert_eq!(plan, vec!["什么是软件包管理系统？", "如何安装软件包？", "如何删除软件包？"]);
    }

    #[test]
    fn lines_off_the_questions_subject_are_dropped() {
        let raw = "1. Rust and Go are both popular package managers.\n2. 这两本书如何描述软件包管理？\n3. How does Rust handle errors?\n4. How does debootstrap work?";
        assert_eq!(
            parse_plan(raw, "比较这两本书对软件包管理的说法", 4),
            vec!["这两本书如何描述软件包管理？", "How does debootstrap work?"]
        );
    }

    #[test]
    fn headings_are_blanked_in_place_for_the_check() {
        let text = "## What is A?\n\nA is a letter [1].\n## 什么是 B？\nB 是字母 [2]。";
        let blanked = without_headings(text);
        assert_eq!(blanked.chars().count(), text.chars().count());
        assert!(!blanked.contains('#') && !blanked.contains("What is A") && !blanked.contains("什么"));
        assert!(blanked.contains("\n\nA is a letter [1].\n") && blanked.ends_with("\nB 是字母 [2]。"));
    }

    #[test]
    fn a_copied_chinese_example_line_is_dropped() {
        let raw = "1. Rust 如何处理错误？\n2. Debian 如何升级系统？\n3. 升级前要备份什么？";
        assert_eq!(
            parse_plan(raw, "Debian 如何升级整个系统？", 4),
            vec!["Debian 如何升级系统？", "升级前要备份什么？"]
        );
    }

    #[test]
    fn a_chinese_question_is_planned_with_the_chinese_example() {
        let m = plan_messages("Debian 如何升级整个系统？");
        assert!(m[2].content.contains("如何处理错误"), "{:?}", m[2].content);
        let m = plan_messages("How do I upgrade Debian?");
        assert!(m[2].content.contains("How does Rust handle errors?"));
    }

    #[test]
    fn the_question_itself_is_no_sub_question() {
        let plan = parse_plan("1. How do I make a chroot?\n", "How do I make a chroot?", 4);
        assert!(plan.is_empty());
    }

    #[test]
    fn a_line_asking_twice_keeps_its_first_question() {
        let plan = parse_plan(
            "1. How does Python manage memory? What are common ways to do it?\n2. 什么是垃圾回收？它如何工作？",
            "q",
            4,
        );
        assert_eq!(plan, vec!["How does Python manage memory?", "什么是垃圾回收？"]);
    }

    #[test]
    fn sections_without_a_citation_are_named() {
        let text = "## What is X?\nX is a tool [1].\n\n## What is Y?\nY is a library that does many things.\n\n## What is Z?\nThe sources do not say [2].";
        assert_eq!(uncited_sections(text), vec!["What is Y?".to_string()]);
    }

    #[test]
    fn the_call_bound_counts_rephrasings() {
        let o = ResearchOptions::default();
        assert_eq!(o.max_calls(), 1 + 4 * 2);
    }
}
