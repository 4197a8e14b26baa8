//! Verified citations: each sentence of an answer is checked against the sources it cites and
//! labelled [`Label::Supported`], [`Label::PartlySupported`] or [`Label::Unsupported`], with the
//! span of a source that supports it best (the quote).
//!
//! A sentence is compared with every sentence of its cited sources, and with every pair of
//! adjacent sentences (a claim may join two): by the share of its content words the span holds,
//! each word weighted by how rare it is among the sources' sentences ([`LEXICAL_SUPPORTED`],
//! [`LEXICAL_PARTLY`]), and, where the embedding model judges the language, by the cosine of the
//! sentence and the span's closest sentence ([`COSINE_SUPPORTED`], [`COSINE_PARTLY`], on the
//! all-MiniLM-L6-v2 scale; other models scale them by their [`lore_index::CosineScale`]). As in
//! [`crate::support`], a sentence naming code identifiers its source does not name is not
//! supported by it; one stating a number its source does not hold is at most partly supported.
//!
//! The cited sources are judged first; when none supports the sentence and another source given
//! to the model does better, that one is named ([`SentenceCheck::better_source`]) and the
//! sentence keeps the label its cited sources give it. A sentence citing nothing is judged by
//! every source. Sentences of code blocks are left out; sentences too short to check ("Yes.")
//! or in another language than every source are listed as [`Label::NotChecked`].
//!
//! A sentence's check depends on that sentence and the sources alone (its meaning is compared
//! with the source sentences sharing a word with it), so [`Streaming`] checks each sentence as
//! soon as it is complete while the answer streams, and after the stream only the sentences
//! not checked yet (the last, and any changed after the stream) are left; the result is what
//! [`verify`] gives on the final text. The check is local (no chat-model call), and nothing is
//! checked before the first sentence is complete, so the first token is not delayed.

use std::collections::{HashMap, HashSet};

use lore_index::ExactTerms;
use serde::{Deserialize, Serialize};

use crate::cite::markers_in;
use crate::code_spans::CodeScanner;
use crate::prompt::strip_citations;
use crate::support::{CLAIM_MIN_WORDS, Embed};
use crate::words::{content_words, stem};

/// Weighted share of a sentence's content words a source span must hold for the sentence to be
/// supported. The four thresholds were chosen on `tests/data/verify/labelled.jsonl` (answers of
/// the local Qwen2.5 0.5B model, judged by hand) with `scripts/verify-eval.py --grid`: the best
/// F1 for "unsupported" (see `tests/data/verify/README.md` for the figures).
pub const LEXICAL_SUPPORTED: f32 = 0.6;

/// Weighted share of a sentence's content words a source span must hold for it to be partly
/// supported.
pub const LEXICAL_PARTLY: f32 = 0.3;

/// Cosine of a sentence and a source sentence at or above which the sentence is supported
/// (all-MiniLM-L6-v2 scale, where [`crate::support::COSINE_MIN`] is "same meaning").
pub const COSINE_SUPPORTED: f32 = 0.75;

/// Cosine at or above which a sentence is partly supported (all-MiniLM-L6-v2 scale).
pub const COSINE_PARTLY: f32 = 0.65;

/// Most source sentences a sentence of an answer is compared with by meaning.
const MAX_EMBEDDED: usize = 96;

/// How far the sources back a sentence, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    /// A span of a cited source says it.
    Supported,
    /// A span of a cited source holds part of it.
    PartlySupported,
    /// No cited source says it.
    Unsupported,
    /// Nothing to check: too few content words ("Yes."), or in another language than every
    /// source (the lexical check cannot match it and meaning alone cannot tell).
    NotChecked,
}

impl Label {
    /// The label as written in JSON and in the terminal.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Supported => "supported",
            Label::PartlySupported => "partly supported",
            Label::Unsupported => "unsupported",
            Label::NotChecked => "not checked",
        }
    }
}

/// One source as the check reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// The number the answer cites it by.
    pub n: usize,
    /// The text the model was given.
    pub text: String,
    /// The chunks the text covers, the cited chunk first: quotes are located in them.
    pub chunks: Vec<ChunkText>,
}

/// A stored chunk's id and text.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkText {
    /// Chunk id.
    pub id: i64,
    /// Chunk text, as stored.
    pub text: String,
}

/// The span of a source that supports a sentence best.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    /// The number of the source it is in.
    pub passage: usize,
    /// The quoted text, a byte-exact substring of the source text (and of the chunk's text when
    /// `chunk_id` is set).
    pub text: String,
    /// The chunk that holds the quote (`None` when it spans two chunks).
    pub chunk_id: Option<i64>,
    /// Offset of the quote's first character in the chunk's text, in characters (Unicode
    /// scalar values), not bytes.
    pub start: Option<usize>,
    /// Offset just past the quote's last character in the chunk's text, in characters.
    pub end: Option<usize>,
}

/// The check of one sentence of an answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentenceCheck {
    /// The sentence as it is in the answer, citation markers included.
    pub text: String,
    /// Offset of its first character in the answer text, in characters.
    pub start: usize,
    /// Offset just past its last character in the answer text, in characters.
    pub end: usize,
    /// The source numbers it cites.
    pub citations: Vec<usize>,
    /// How far its cited sources (every source when it cites none) back it.
    pub label: Label,
    /// The span that backs it best (supported and partly supported sentences).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote: Option<Quote>,
    /// A source it does not cite that backs it better than those it cites.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub better_source: Option<usize>,
    /// Weighted share of its content words the best span holds (0 to 1).
    pub lexical: f32,
    /// Cosine of the sentence and the best span's closest sentence, when meaning was judged.
    pub cosine: Option<f32>,
}

/// Counts of a verification.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Sentences checked (all but [`Label::NotChecked`]).
    pub checked: usize,
    /// Supported sentences.
    pub supported: usize,
    /// Partly supported sentences.
    pub partly: usize,
    /// Unsupported sentences.
    pub unsupported: usize,
}

impl Summary {
    /// One line for the terminal: `7 of 8 sentences supported, 1 unsupported`.
    pub fn line(&self) -> String {
        let noun = if self.checked == 1 { "sentence" } else { "sentences" };
        let mut line = format!("{} of {} {noun} supported", self.supported, self.checked);
        if self.partly > 0 {
            line.push_str(&format!(", {} partly supported", self.partly));
        }
        if self.unsupported > 0 {
            line.push_str(&format!(", {} unsupported", self.unsupported));
        }
        line
    }
}

/// The verification of an answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    /// Every sentence of the answer outside code, in order.
    pub sentences: Vec<SentenceCheck>,
    /// The counts.
    pub summary: Summary,
}

impl Verification {
    /// The check of the sentence that holds the answer character at `offset`.
    pub fn sentence_at(&self, offset: usize) -> Option<&SentenceCheck> {
        self.sentences.iter().find(|s| s.start <= offset && offset < s.end)
    }
}

/// A span of text by byte offsets.
type Span = (usize, usize);

/// Abbreviations whose period does not end a sentence.
const ABBREVIATIONS: &[&str] = &["e.g", "i.e", "etc", "vs", "cf", "approx", "no"];

/// Lines of `text` inside code blocks (fences included), by byte span of the line.
fn block_lines(text: &str) -> Vec<bool> {
    let mut scan = CodeScanner::new();
    let mut out = Vec::new();
    let mut block = false;
    for c in text.chars() {
        let before = scan.in_block();
        let code = scan.step(c);
        block |= code && (before || scan.in_block());
        if c == '\n' {
            out.push(block);
            block = false;
        }
    }
    out.push(block);
    out
}

/// Byte length of a run of `[n]` markers (with the spaces before them) at the start of `rest`.
fn markers_len(rest: &str) -> usize {
    let mut len = 0;
    loop {
        let tail = &rest[len..];
        let lead = tail.len() - tail.trim_start_matches([' ', '\t']).len();
        let after = &tail[lead..];
        let Some(inner) = after.strip_prefix('[') else { return len };
        let digits = inner.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || !inner[digits..].starts_with(']') {
            return len;
        }
        len += lead + 1 + digits + 1;
    }
}

/// Whether the period at the end of `before` belongs to a list number (`1.`) or an
/// abbreviation (`e.g.`).
fn period_continues(before: &str) -> bool {
    let t = before.trim_start();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    let last = before.rsplit(|c: char| c.is_whitespace() || c == '(').next().unwrap_or("");
    ABBREVIATIONS.contains(&last.to_lowercase().as_str())
}

/// The sentences of `text` by byte span, trimmed; with `skip_code`, lines of code blocks are
/// left out. A run of `[n]` markers after a sentence's end belongs to that sentence.
fn sentence_spans(text: &str, skip_code: bool) -> Vec<Span> {
    let blocks = if skip_code { block_lines(text) } else { Vec::new() };
    let mut out = Vec::new();
    let mut push = |a: usize, b: usize| {
        let s = &text[a..b];
        let lead = s.len() - s.trim_start().len();
        let trimmed = s.trim();
        if !trimmed.is_empty() {
            out.push((a + lead, a + lead + trimmed.len()));
        }
    };
    let mut line_start = 0;
    for (li, line) in text.split('\n').enumerate() {
        let le = line_start + line.len();
        if !blocks.get(li).copied().unwrap_or(false) {
            let mut seg = line_start;
            let mut chars = line.char_indices().peekable();
            while let Some((i, c)) = chars.next() {
                let at = line_start + i;
                if at < seg {
                    continue;
                }
                let next = chars.peek().map(|(_, n)| *n);
                let ends = match c {
                    '。' | '！' | '？' => true,
                    '.' | '!' | '?' => {
                        next.is_none_or(|n| n.is_whitespace() || n == '[')
                            && !(c == '.' && period_continues(&text[seg..at]))
                    }
                    _ => false,
                };
                if ends {
                    let end = at + c.len_utf8();
                    let end = end + markers_len(&text[end..le]);
                    if c == '.' && next == Some('[') && end == at + 1 {
                        continue;
                    }
                    push(seg, end);
                    seg = end;
                }
            }
            push(seg, le);
        }
        line_start = le + 1;
    }
    out
}

/// A claim's words, each with its weight.
type Weighted = Vec<(String, f32)>;

/// Weighted share of `claim`'s words held in `words`.
fn coverage(claim: &Weighted, words: &HashSet<String>) -> f32 {
    let total: f32 = claim.iter().map(|(_, w)| w).sum();
    if total <= 0.0 {
        return 0.0;
    }
    claim.iter().filter(|(s, _)| words.contains(s)).map(|(_, w)| w).sum::<f32>() / total
}

/// Numbers of two or more digits in `text`.
fn numbers(text: &str) -> HashSet<String> {
    text.split(|c: char| !c.is_ascii_digit()).filter(|n| n.len() >= 2).map(str::to_string).collect()
}

/// One candidate span of a source: one sentence, or two adjacent ones.
#[derive(Debug, Clone)]
struct Window {
    source: usize,
    span: Span,
    /// Indices of its sentences in the list of all source sentences.
    sentences: Vec<usize>,
    words: HashSet<String>,
}

/// How a claim fares against one window.
#[derive(Debug, Clone, Copy)]
struct Fit {
    window: usize,
    label: Label,
    lexical: f32,
    cosine: Option<f32>,
}

/// How much more a span of two sentences must score than one of them to be the quote: a pair
/// holds every word of its sentences, so it would win ties it does not deserve.
const PAIR_MARGIN: f32 = 0.1;

impl Fit {
    fn score(&self, windows: &[Window]) -> f32 {
        let extra = windows[self.window].sentences.len().saturating_sub(1) as f32;
        self.lexical + self.cosine.unwrap_or(0.0) - PAIR_MARGIN * extra
    }

    fn better_than(&self, other: &Fit, windows: &[Window]) -> bool {
        self.label < other.label || (self.label == other.label && self.score(windows) > other.score(windows))
    }
}

/// Checks each sentence of `answer` (with `[n]` markers) against `sources`, with `embed` for
/// meaning (see [`Embed`]) and `cosine_scale` the embedding model's
/// [`lore_index::CosineScale::same_meaning`] ([`crate::support::COSINE_MIN`] for
/// all-MiniLM-L6-v2; the cosine thresholds are moved to it, see [`cosine_thresholds`]).
pub fn verify(answer: &str, sources: &[Source], embed: &mut Embed<'_>, cosine_scale: f32) -> Verification {
    Checker::new(sources, cosine_scale).verify(answer, embed)
}

/// The sources of one answer as the check reads them, made once and used for every sentence:
/// their sentences, the windows over them, and how rare each word is among them. A sentence's
/// check depends on that sentence and the sources alone, so [`Checker::check`] gives a sentence
/// the label [`Checker::verify`] gives it in any answer.
pub struct Checker<'s> {
    sources: &'s [Source],
    source_sentences: Vec<(usize, Span)>,
    windows: Vec<Window>,
    df: HashMap<String, usize>,
    source_languages: Vec<Option<String>>,
    cos_supported: f32,
    cos_partly: f32,
}

/// A sentence read for its check: its claim, weighted words, and the source sentences its
/// meaning is compared with.
struct Prepared {
    text: String,
    claim: String,
    weighted: Weighted,
    checkable: bool,
    /// Indices of the source sentences sharing a word with the claim (at most [`MAX_EMBEDDED`]).
    candidates: Vec<usize>,
}

impl<'s> Checker<'s> {
    /// The checker of answers from `sources`, on the embedding model's `cosine_scale` (see
    /// [`verify`]).
    pub fn new(sources: &'s [Source], cosine_scale: f32) -> Checker<'s> {
        let (cos_supported, cos_partly) = cosine_thresholds(cosine_scale);
        let mut source_sentences: Vec<(usize, Span)> = Vec::new();
        let mut windows: Vec<Window> = Vec::new();
        for (si, s) in sources.iter().enumerate() {
            let spans = sentence_spans(&s.text, false);
            let first = source_sentences.len();
            for (k, span) in spans.iter().enumerate() {
                source_sentences.push((si, *span));
                let words = |sp: Span| content_words(&s.text[sp.0..sp.1]).iter().map(|w| stem(w)).collect();
                windows.push(Window {
                    source: si,
                    span: *span,
                    sentences: vec![first + k],
                    words: words(*span),
                });
                if let Some(next) = spans.get(k + 1) {
                    let pair = (span.0, next.1);
                    windows.push(Window {
                        source: si,
                        span: pair,
                        sentences: vec![first + k, first + k + 1],
                        words: words(pair),
                    });
                }
            }
        }
        // Rare words weigh more: inverse document frequency over the source sentences.
        let mut df: HashMap<String, usize> = HashMap::new();
        for w in windows.iter().filter(|w| w.sentences.len() == 1) {
            for s in &w.words {
                *df.entry(s.clone()).or_default() += 1;
            }
        }
        let source_languages = sources.iter().map(|s| lore_index::query_language(&s.text)).collect();
        Checker { sources, source_sentences, windows, df, source_languages, cos_supported, cos_partly }
    }

    fn weight(&self, s: &str) -> f32 {
        let n_sentences = self.source_sentences.len() as f32;
        ((n_sentences + 1.0) / (self.df.get(s).copied().unwrap_or(0) as f32 + 1.0)).ln() + 1.0
    }

    fn source_sentence(&self, k: usize) -> &str {
        let (si, (a, b)) = self.source_sentences[k];
        &self.sources[si].text[a..b]
    }

    fn prepare(&self, text: &str) -> Prepared {
        let claim = strip_citations(text).replace(['*', '`'], "").trim().to_string();
        let words = content_words(&claim);
        let mut seen = HashSet::new();
        let weighted: Weighted = words
            .iter()
            .map(|w| stem(w))
            .filter(|s| seen.insert(s.clone()))
            .map(|s| {
                let w = self.weight(&s);
                (s, w)
            })
            .collect();
        let checkable = words.len() >= CLAIM_MIN_WORDS;
        let candidates = if checkable {
            // The one-sentence windows hold each source sentence's stems, in sentence order.
            self.windows
                .iter()
                .filter(|w| w.sentences.len() == 1 && weighted.iter().any(|(s, _)| w.words.contains(s)))
                .map(|w| w.sentences[0])
                .take(MAX_EMBEDDED)
                .collect()
        } else {
            Vec::new()
        };
        Prepared { text: text.to_string(), claim, weighted, checkable, candidates }
    }

    /// Checks one sentence of an answer (with its `[n]` markers); its `start` and `end` are 0
    /// (the caller knows where it stands).
    pub fn check(&self, sentence: &str, embed: &mut Embed<'_>) -> SentenceCheck {
        let p = self.prepare(sentence);
        let mut checks = self.judge_all(std::slice::from_ref(&p), embed);
        checks.pop().unwrap_or_else(|| self.judge(&p, &HashMap::new()))
    }

    /// Checks each sentence of `answer` outside code (see [`verify`]); the claims and the source
    /// sentences are embedded in one call.
    pub fn verify(&self, answer: &str, embed: &mut Embed<'_>) -> Verification {
        let spans = sentence_spans(answer, true);
        let prepared: Vec<Prepared> = spans.iter().map(|(a, b)| self.prepare(&answer[*a..*b])).collect();
        let checks = self.judge_all(&prepared, embed);
        let sentences = spans
            .iter()
            .zip(checks)
            .map(|((a, _), check)| placed(check, answer[..*a].chars().count()))
            .collect();
        Verification::of(sentences)
    }

    /// The checks of `prepared` sentences, with one call of `embed` for all their claims and
    /// source sentences.
    fn judge_all(&self, prepared: &[Prepared], embed: &mut Embed<'_>) -> Vec<SentenceCheck> {
        let judged: Vec<usize> = (0..prepared.len())
            .filter(|i| prepared[*i].checkable && !prepared[*i].candidates.is_empty())
            .collect();
        let mut all: Vec<usize> =
            judged.iter().flat_map(|i| prepared[*i].candidates.iter().copied()).collect();
        all.sort_unstable();
        all.dedup();
        let mut vectors_of: HashMap<usize, Vec<f32>> = HashMap::new();
        let mut claim_vectors: HashMap<usize, Vec<f32>> = HashMap::new();
        if !judged.is_empty() {
            let mut texts: Vec<String> = judged.iter().map(|i| prepared[*i].claim.clone()).collect();
            texts.extend(all.iter().map(|k| self.source_sentence(*k).to_string()));
            if let Some(vectors) = embed(&texts).filter(|v| v.len() == texts.len()) {
                let (claims, sources) = vectors.split_at(judged.len());
                claim_vectors = judged.iter().copied().zip(claims.iter().cloned()).collect();
                vectors_of = all.iter().copied().zip(sources.iter().cloned()).collect();
            }
        }
        prepared
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut cosines: HashMap<usize, f32> = HashMap::new();
                if let Some(cv) = claim_vectors.get(&i) {
                    for k in &p.candidates {
                        if let Some(sv) = vectors_of.get(k) {
                            cosines.insert(*k, cv.iter().zip(sv).map(|(a, b)| a * b).sum());
                        }
                    }
                }
                self.judge(p, &cosines)
            })
            .collect()
    }

    /// The check of a prepared sentence given the cosines of its claim and its candidate source
    /// sentences (by index; none when meaning was not judged).
    fn judge(&self, p: &Prepared, cosines: &HashMap<usize, f32>) -> SentenceCheck {
        let (sources, windows) = (self.sources, &self.windows);
        let mut check = SentenceCheck {
            text: p.text.clone(),
            start: 0,
            end: 0,
            citations: markers_in(&p.text),
            label: Label::NotChecked,
            quote: None,
            better_source: None,
            lexical: 0.0,
            cosine: None,
        };
        if !p.checkable {
            return check;
        }
        let names = ExactTerms::code_terms(&p.claim);
        let claim_numbers = numbers(&p.claim);
        let fit = |w: usize| -> Fit {
            let win = &windows[w];
            let source_text = &sources[win.source].text;
            let lexical = coverage(&p.weighted, &win.words);
            let cosine = win
                .sentences
                .iter()
                .filter_map(|k| cosines.get(k).copied())
                .fold(None, |m: Option<f32>, c| Some(m.map_or(c, |m| m.max(c))));
            let mut label = if lexical >= LEXICAL_SUPPORTED || cosine.is_some_and(|c| c >= self.cos_supported)
            {
                Label::Supported
            } else if lexical >= LEXICAL_PARTLY || cosine.is_some_and(|c| c >= self.cos_partly) {
                Label::PartlySupported
            } else {
                Label::Unsupported
            };
            if names.as_ref().is_some_and(|n| 2 * n.held_in(source_text) < n.terms().len()) {
                label = Label::Unsupported;
            } else if label == Label::Supported
                && !claim_numbers.iter().all(|n| numbers(source_text).contains(n))
            {
                label = Label::PartlySupported;
            }
            Fit { window: w, label, lexical, cosine }
        };
        let best_of = |pick: &dyn Fn(usize) -> bool| -> Option<Fit> {
            (0..windows.len()).filter(|w| pick(windows[*w].source)).map(fit).fold(
                None,
                |best, f| match best {
                    Some(b) if !f.better_than(&b, windows) => Some(b),
                    _ => Some(f),
                },
            )
        };
        let cited: Vec<usize> =
            (0..sources.len()).filter(|si| check.citations.contains(&sources[*si].n)).collect();
        let best = if cited.is_empty() {
            best_of(&|_| true)
        } else {
            let own = best_of(&|si| cited.contains(&si));
            if own.is_none_or(|f| f.label != Label::Supported) {
                let other = best_of(&|si| !cited.contains(&si));
                if let Some(o) = other
                    && o.label < own.map_or(Label::Unsupported, |f| f.label)
                {
                    check.better_source = Some(sources[windows[o.window].source].n);
                }
            }
            own
        };
        let Some(best) = best else {
            check.label = Label::Unsupported;
            return check;
        };
        check.label = best.label;
        check.lexical = best.lexical;
        check.cosine = best.cosine;
        // A claim in another language than every source, that no word ties to one, is beyond
        // the check (see crate::support on meaning across languages).
        if best.label == Label::Unsupported && best.lexical == 0.0 {
            let lang = lore_index::query_language(&p.claim);
            if !self.source_languages.is_empty()
                && self
                    .source_languages
                    .iter()
                    .all(|s| crate::retrieve::across_languages(lang.as_deref(), s.as_deref()))
            {
                check.label = Label::NotChecked;
            }
        }
        if matches!(check.label, Label::Supported | Label::PartlySupported) {
            check.quote = Some(quote(
                &sources[windows[best.window].source],
                &windows[best.window],
                &self.source_sentences,
            ));
        }
        check
    }
}

/// `check` placed at character `start` of its answer.
fn placed(mut check: SentenceCheck, start: usize) -> SentenceCheck {
    check.start = start;
    check.end = start + check.text.chars().count();
    check
}

impl Verification {
    /// The verification made of these sentence checks, with their counts.
    pub fn of(sentences: Vec<SentenceCheck>) -> Verification {
        let count = |l: Label| sentences.iter().filter(|s| s.label == l).count();
        let summary = Summary {
            checked: sentences.len() - count(Label::NotChecked),
            supported: count(Label::Supported),
            partly: count(Label::PartlySupported),
            unsupported: count(Label::Unsupported),
        };
        Verification { sentences, summary }
    }
}

/// Checks an answer's sentences while it streams, each as soon as it is complete: when a later
/// sentence has begun on its line (not a citation marker, which may still belong to it), or its
/// line has ended. Code blocks are skipped as [`verify`] skips them. [`Streaming::finish`] then
/// checks only the sentences of the final text not checked already (the last one, and any
/// changed after the stream), and gives what [`verify`] gives on the final text.
pub struct Streaming<'s> {
    checker: Checker<'s>,
    /// The answer so far.
    text: String,
    /// Byte offset in `text` of the end of the last sentence checked.
    done: usize,
    /// Each sentence checked, by its text.
    checked: HashMap<String, SentenceCheck>,
    /// Sentences [`Streaming::finish`] had to check.
    after: usize,
}

impl<'s> Streaming<'s> {
    /// A streaming check of an answer from `sources` (see [`verify`] for `cosine_scale`).
    pub fn new(sources: &'s [Source], cosine_scale: f32) -> Streaming<'s> {
        Streaming {
            checker: Checker::new(sources, cosine_scale),
            text: String::new(),
            done: 0,
            checked: HashMap::new(),
            after: 0,
        }
    }

    /// Adds the next piece of the answer; returns the checks of the sentences it completed, in
    /// order, placed (`start`, `end`) in the text streamed so far. `embed` is called only when a
    /// sentence is complete.
    pub fn push(&mut self, piece: &str, embed: &mut Embed<'_>) -> Vec<SentenceCheck> {
        self.text.push_str(piece);
        let mut out = Vec::new();
        for (a, b) in self.complete() {
            let sentence = &self.text[a..b];
            let check = match self.checked.get(sentence) {
                Some(c) => c.clone(),
                None => {
                    let c = self.checker.check(sentence, embed);
                    self.checked.insert(sentence.to_string(), c.clone());
                    c
                }
            };
            out.push(placed(check, self.text[..a].chars().count()));
            self.done = b;
        }
        out
    }

    /// The complete sentences of the text not yet checked, by byte span.
    fn complete(&self) -> Vec<Span> {
        let text = &self.text;
        let spans: Vec<Span> =
            sentence_spans(text, true).into_iter().filter(|(a, _)| *a >= self.done).collect();
        let mut out = Vec::new();
        for (i, (a, b)) in spans.iter().enumerate() {
            let line_ended = |to: usize| text[*b..to].contains('\n');
            let done = match spans.get(i + 1) {
                Some((next, _)) => line_ended(*next) || !text[*next..].starts_with('['),
                None => line_ended(text.len()),
            };
            if !done {
                break;
            }
            out.push((*a, *b));
        }
        out
    }

    /// Forgets every check made so far ([`Streaming::finish`] checks every sentence again): for
    /// when `embed` judged meaning while streaming and would not for the final text, or the
    /// other way round.
    pub fn forget(&mut self) {
        self.checked.clear();
    }

    /// The verification of the `answer` as it ended (what [`verify`] gives on it): sentences
    /// checked while streaming keep their checks, the others are checked now, with one call of
    /// `embed`.
    pub fn finish(&mut self, answer: &str, embed: &mut Embed<'_>) -> Verification {
        let spans = sentence_spans(answer, true);
        let missing: Vec<Prepared> = spans
            .iter()
            .map(|(a, b)| &answer[*a..*b])
            .filter(|s| !self.checked.contains_key(*s))
            .map(|s| self.checker.prepare(s))
            .collect();
        self.after = missing.len();
        for check in self.checker.judge_all(&missing, embed) {
            self.checked.insert(check.text.clone(), check);
        }
        let sentences = spans
            .iter()
            .filter_map(|(a, b)| {
                let c = self.checked.get(&answer[*a..*b])?.clone();
                Some(placed(c, answer[..*a].chars().count()))
            })
            .collect();
        Verification::of(sentences)
    }

    /// How many sentences [`Streaming::finish`] checked (the others were checked while
    /// streaming).
    pub fn checked_after(&self) -> usize {
        self.after
    }
}

/// [`verify`] with `library`'s embedding model judging meaning (where it covers the answer's
/// language) on its cosine scale.
pub fn verify_in_library(library: &lore_index::Library, answer: &str, sources: &[Source]) -> Verification {
    let mut embed = crate::support::library_embed(library, answer);
    verify(answer, sources, &mut embed, same_meaning(library))
}

/// `library`'s same-meaning cosine ([`crate::support::COSINE_MIN`] without engines).
pub fn same_meaning(library: &lore_index::Library) -> f32 {
    lore_index::cosine_scale(library).map_or(crate::support::COSINE_MIN, |s| s.same_meaning)
}

/// The cosine thresholds (supported, partly supported) for a model whose same-meaning cut is
/// `same_meaning`: [`COSINE_SUPPORTED`] and [`COSINE_PARTLY`] were measured with all-MiniLM-L6-v2
/// (same-meaning cut [`crate::support::COSINE_MIN`]); another model keeps their place in the room
/// between its own cut and 1 (multiplying them by the ratio of the cuts put the multilingual E5
/// model's above 1, where no cosine reaches).
pub fn cosine_thresholds(same_meaning: f32) -> (f32, f32) {
    let base = crate::support::COSINE_MIN;
    let cut = same_meaning.clamp(0.0, 0.999);
    let moved = |t: f32| cut + (t - base) / (1.0 - base) * (1.0 - cut);
    (moved(COSINE_SUPPORTED), moved(COSINE_PARTLY))
}

/// The quote of `window` of `source`, located in the chunk that holds it (a window of two
/// sentences no chunk holds whole falls back to its first sentence a chunk holds).
fn quote(source: &Source, window: &Window, sentences: &[(usize, Span)]) -> Quote {
    let text_of = |(a, b): Span| source.text[a..b].to_string();
    let mut tries = vec![window.span];
    if window.sentences.len() > 1 {
        tries.extend(window.sentences.iter().map(|k| sentences[*k].1));
    }
    for span in &tries {
        let text = text_of(*span);
        for chunk in &source.chunks {
            if let Some(at) = chunk.text.find(&text) {
                let start = chunk.text[..at].chars().count();
                return Quote {
                    passage: source.n,
                    end: Some(start + text.chars().count()),
                    start: Some(start),
                    chunk_id: Some(chunk.id),
                    text,
                };
            }
        }
    }
    Quote { passage: source.n, text: text_of(window.span), chunk_id: None, start: None, end: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_embed(_: &[String]) -> Option<Vec<Vec<f32>>> {
        None
    }

    fn source(n: usize, id: i64, text: &str) -> Source {
        Source { n, text: text.to_string(), chunks: vec![ChunkText { id, text: text.to_string() }] }
    }

    fn run(answer: &str, sources: &[Source]) -> Verification {
        verify(answer, sources, &mut no_embed, crate::support::COSINE_MIN)
    }

    const WAL: &str = "SQLite supports several journal modes. In WAL mode, readers do not block writers and a writer does not block readers. The WAL file is checkpointed into the database automatically.";
    const VACUUM: &str =
        "The VACUUM command rebuilds the database file, repacking it into a minimal amount of disk space.";

    #[test]
    fn a_sentence_copied_from_a_source_is_supported_with_its_exact_quote() {
        let v = run(
            "In WAL mode, readers do not block writers and a writer does not block readers [1].",
            &[source(1, 7, WAL)],
        );
        let s = &v.sentences[0];
        assert_eq!(s.label, Label::Supported, "{s:?}");
        assert_eq!(s.citations, vec![1]);
        let q = s.quote.as_ref().expect("quote");
        assert_eq!(q.text, "In WAL mode, readers do not block writers and a writer does not block readers.");
        assert_eq!((q.chunk_id, q.passage), (Some(7), 1));
        let (start, end) = (q.start.unwrap(), q.end.unwrap());
        assert_eq!(WAL.chars().skip(start).take(end - start).collect::<String>(), q.text);
        assert_eq!(v.summary, Summary { checked: 1, supported: 1, partly: 0, unsupported: 0 });
        assert_eq!(v.summary.line(), "1 of 1 sentence supported");
    }

    #[test]
    fn quote_offsets_count_characters_not_bytes() {
        let chunk = "“Smart” quotes — and 中文 — come first. The VACUUM command rebuilds the database file, repacking it into minimal space.";
        let v = run("The VACUUM command rebuilds the database file [1].", &[source(1, 3, chunk)]);
        let q = v.sentences[0].quote.as_ref().expect("quote");
        assert_eq!(q.text, "The VACUUM command rebuilds the database file, repacking it into minimal space.");
        let byte_at = chunk.find("The VACUUM").unwrap();
        assert_eq!(q.start, Some(chunk[..byte_at].chars().count()));
        assert_ne!(q.start, Some(byte_at), "char and byte offsets differ here");
        let (start, end) = (q.start.unwrap(), q.end.unwrap());
        assert_eq!(chunk.chars().skip(start).take(end - start).collect::<String>(), q.text);
        // The answer's own spans are in characters too.
        let answer = "“Quoted” intro words here. The VACUUM command rebuilds the database file [1].";
        let v = run(answer, &[source(1, 3, chunk)]);
        let s = &v.sentences[1];
        assert_eq!(answer.chars().skip(s.start).take(s.end - s.start).collect::<String>(), s.text);
    }

    #[test]
    fn a_paraphrase_is_at_least_partly_supported() {
        let v = run("Readers and writers do not block each other in WAL mode [1].", &[source(1, 1, WAL)]);
        assert!(matches!(v.sentences[0].label, Label::Supported | Label::PartlySupported), "{v:?}");
        // Meaning alone can back a paraphrase with few shared words.
        let mut close = |texts: &[String]| -> Option<Vec<Vec<f32>>> {
            Some(
                texts
                    .iter()
                    .map(|t| {
                        if t.contains("block") || t.contains("concurrently") {
                            vec![1.0, 0.0]
                        } else {
                            vec![0.0, 1.0]
                        }
                    })
                    .collect(),
            )
        };
        let v = verify(
            "With the write-ahead log, readers proceed concurrently with writers [1].",
            &[source(1, 1, WAL)],
            &mut close,
            crate::support::COSINE_MIN,
        );
        assert_eq!(v.sentences[0].label, Label::Supported, "{v:?}");
        assert_eq!(v.sentences[0].cosine, Some(1.0));
    }

    #[test]
    fn an_invented_claim_is_unsupported() {
        let v = run(
            "In WAL mode, readers do not block writers [1]. SQLite was written in 1802 by Napoleon Bonaparte [1].",
            &[source(1, 1, WAL)],
        );
        assert_eq!(v.sentences.len(), 2);
        assert_eq!(v.sentences[0].label, Label::Supported);
        assert_eq!(v.sentences[1].label, Label::Unsupported, "{v:?}");
        assert!(v.sentences[1].quote.is_none());
        assert_eq!(v.summary.line(), "1 of 2 sentences supported, 1 unsupported");
    }

    #[test]
    fn a_wrong_number_is_at_most_partly_supported() {
        let v = run(
            "The VACUUM command rebuilds the database file since version 3.12 [1].",
            &[source(1, 1, VACUUM)],
        );
        assert_ne!(v.sentences[0].label, Label::Supported, "{v:?}");
    }

    #[test]
    fn a_sentence_citing_the_wrong_source_names_the_better_one() {
        let v = run(
            "The VACUUM command rebuilds the database file into a minimal amount of disk space [1].",
            &[source(1, 1, WAL), source(2, 2, VACUUM)],
        );
        let s = &v.sentences[0];
        assert_eq!(s.label, Label::Unsupported, "judged by the source it cites: {s:?}");
        assert_eq!(s.better_source, Some(2));
        // Uncited, every source judges it.
        let v = run(
            "The VACUUM command rebuilds the database file into a minimal amount of disk space.",
            &[source(1, 1, WAL), source(2, 2, VACUUM)],
        );
        assert_eq!(v.sentences[0].label, Label::Supported);
        assert_eq!(v.sentences[0].quote.as_ref().map(|q| q.passage), Some(2));
    }

    #[test]
    fn code_blocks_and_short_sentences_are_not_claims() {
        let answer = "Yes.\n\n```sql\nVACUUM INTO 'rebuilds the database file minimal';\n```\n\nThe VACUUM command rebuilds the database file [1].";
        let v = run(answer, &[source(1, 1, VACUUM)]);
        let texts: Vec<&str> = v.sentences.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, ["Yes.", "The VACUUM command rebuilds the database file [1]."]);
        assert_eq!(v.sentences[0].label, Label::NotChecked);
        assert_eq!(v.summary.checked, 1);
    }

    #[test]
    fn sentences_keep_their_markers_and_list_numbers() {
        let text = "First, e.g. this one. [1] Second one [2].\n1. A listed item here.\n中文句子。第二句！";
        let spans: Vec<&str> = sentence_spans(text, true).into_iter().map(|(a, b)| &text[a..b]).collect();
        assert_eq!(
            spans,
            [
                "First, e.g. this one. [1]",
                "Second one [2].",
                "1. A listed item here.",
                "中文句子。",
                "第二句！"
            ]
        );
        assert_eq!(markers_len(" [1][2] x"), 7);
    }

    #[test]
    fn chinese_sentences_are_checked_by_their_characters() {
        let passage = "ChatGPT的训练过程分为三个阶段。预训练使用大量文本数据进行无监督学习。";
        let v = run("预训练使用大量文本数据进行无监督学习[1]。", &[source(1, 1, passage)]);
        assert_eq!(v.sentences[0].label, Label::Supported, "{v:?}");
        let q = v.sentences[0].quote.as_ref().unwrap();
        assert_eq!(q.text, "预训练使用大量文本数据进行无监督学习。");
        assert_eq!(q.start, Some(passage.chars().position(|c| c == '。').unwrap() + 1));
        let v = run("量子计算机可以破解所有的密码系统[1]。", &[source(1, 1, passage)]);
        assert_eq!(v.sentences[0].label, Label::Unsupported, "{v:?}");
    }

    /// A fake embedding: each text points along the axis of the first of `topics` it names (a
    /// last axis for none), so sentences about one topic have cosine 1.
    fn topic_embed(topics: &'static [&'static str]) -> impl FnMut(&[String]) -> Option<Vec<Vec<f32>>> {
        move |texts: &[String]| {
            Some(
                texts
                    .iter()
                    .map(|t| {
                        let axis = topics.iter().position(|k| t.contains(k)).unwrap_or(topics.len());
                        (0..=topics.len()).map(|i| if i == axis { 1.0 } else { 0.0 }).collect()
                    })
                    .collect(),
            )
        }
    }

    const TOPICS: &[&str] = &["concurrently", "block", "repack", "VACUUM", "检查点", "并发"];

    /// Streams `answer` in pieces of `size` characters through a [`Streaming`] check; returns
    /// what it told while streaming and its final verification of `final_text`.
    fn stream(
        answer: &str,
        final_text: &str,
        size: usize,
        sources: &[Source],
        embed: &mut Embed<'_>,
    ) -> (Vec<SentenceCheck>, Verification, usize) {
        let mut s = Streaming::new(sources, crate::support::COSINE_MIN);
        let chars: Vec<char> = answer.chars().collect();
        let mut told = Vec::new();
        for piece in chars.chunks(size) {
            told.extend(s.push(&piece.iter().collect::<String>(), embed));
        }
        let v = s.finish(final_text, embed);
        (told, v, s.checked_after())
    }

    const ZH_WAL: &str =
        "WAL 模式下读者不会阻塞写者，写者也不会阻塞读者。WAL 文件会自动执行检查点写回数据库。";

    #[test]
    fn a_streamed_answer_is_verified_as_verify_verifies_it() {
        let sources = [source(1, 1, WAL), source(2, 2, VACUUM), source(3, 3, ZH_WAL)];
        let answers = [
            "In WAL mode, readers do not block writers [1]. The VACUUM command rebuilds the database file [2]. SQLite was written in 1802 by Napoleon Bonaparte [1].",
            "Yes.\n\nWith the write-ahead log, readers proceed concurrently with writers [1].\n\n```sql\nVACUUM INTO 'rebuilds the database file';\n```\n\nThe VACUUM command repacks the file, e.g. into a minimal amount of disk space [2][1]. It runs since version 3.12 [2].",
            "WAL 模式下读者不会阻塞写者[3]。WAL 文件会自动执行检查点写回数据库[3]。量子计算机可以破解所有的密码系统[3]。",
            "1. In WAL mode, readers do not block writers [1].\n2. The WAL file is checkpointed automatically [1]\n\nThe database file is rebuilt by VACUUM",
        ];
        for answer in answers {
            for size in [1, 3, 7, 500] {
                let mut lexical = no_embed;
                let (told, v, _) = stream(answer, answer, size, &sources, &mut lexical);
                assert_eq!(v, run(answer, &sources), "{answer:?} in pieces of {size}");
                let mut meaning = topic_embed(TOPICS);
                let (told_m, v_m, after) = stream(answer, answer, size, &sources, &mut meaning);
                let mut meaning = topic_embed(TOPICS);
                assert_eq!(
                    v_m,
                    verify(answer, &sources, &mut meaning, crate::support::COSINE_MIN),
                    "{answer:?}"
                );
                // Every sentence told while streaming is checked as the final text checks it,
                // at the same place; only the rest is checked after the stream.
                for t in &told {
                    assert!(v.sentences.contains(t), "{t:?} of {answer:?}");
                }
                for t in &told_m {
                    assert!(v_m.sentences.contains(t), "{t:?} of {answer:?}");
                }
                assert_eq!(told_m.len() + after, v_m.sentences.len(), "{answer:?} in pieces of {size}");
                assert!(after <= 1, "only the last sentence is left: {after} of {answer:?}");
            }
        }
    }

    #[test]
    fn a_sentence_is_checked_once_it_is_complete() {
        let sources = [source(1, 1, WAL), source(2, 2, VACUUM)];
        let mut s = Streaming::new(&sources, crate::support::COSINE_MIN);
        let mut push = |p: &str| -> Vec<String> {
            s.push(p, &mut no_embed).into_iter().map(|c| c.text).collect::<Vec<_>>()
        };
        assert!(push("In WAL mode, readers do not block writers.").is_empty(), "it may go on");
        // A marker may still follow it.
        assert!(push(" [").is_empty());
        assert!(push("1").is_empty());
        assert!(push("] ").is_empty());
        assert_eq!(push("The"), ["In WAL mode, readers do not block writers. [1]"]);
        assert!(push(" version is 3.").is_empty(), "3.12 may follow");
        assert!(push("12 now").is_empty());
        // A line break ends a sentence, even without a period.
        assert_eq!(push("\n"), ["The version is 3.12 now"]);
        // Nothing inside a code block is checked, and the block's lines end no sentence.
        assert!(push("```sql\nVACUUM the database file;\n").is_empty());
        assert!(push("```\nThe VACUUM command rebuilds the database file.").is_empty());
        assert_eq!(push("\n\n"), ["The VACUUM command rebuilds the database file."]);
        assert!(push("e.g. the").is_empty(), "an abbreviation ends no sentence");
    }

    #[test]
    fn a_sentence_changed_after_the_stream_is_checked_again() {
        let sources = [source(1, 1, WAL), source(2, 2, VACUUM)];
        let streamed = "Readers do not block writers in WAL mode. The VACUUM command rebuilds the database file [2]. It repacks the file [2].";
        // A marker added to the first sentence after the stream (cite::mark_backed_claims).
        let marked = "Readers do not block writers in WAL mode [1]. The VACUUM command rebuilds the database file [2]. It repacks the file [2].";
        let mut meaning = topic_embed(TOPICS);
        let (told, v, after) = stream(streamed, marked, 4, &sources, &mut meaning);
        assert_eq!(told.len(), 2);
        assert_eq!(after, 2, "the changed first sentence and the last");
        let mut meaning = topic_embed(TOPICS);
        assert_eq!(v, verify(marked, &sources, &mut meaning, crate::support::COSINE_MIN));
        // The second sentence kept its check, moved to where it now stands.
        assert_eq!(v.sentences[1].text, told[1].text);
        assert_eq!(v.sentences[1].start, told[1].start + 4);
        // Checks made while meaning was judged otherwise are made again when forgotten.
        let mut s = Streaming::new(&sources, crate::support::COSINE_MIN);
        s.push(streamed, &mut meaning);
        s.forget();
        let v = s.finish(streamed, &mut no_embed);
        assert_eq!(s.checked_after(), 3);
        assert_eq!(v, run(streamed, &sources));
    }

    #[test]
    fn source_sentences_are_embedded_once_per_answer() {
        let sources = [source(1, 1, WAL), source(2, 2, VACUUM)];
        let passages: Vec<&str> = sources.iter().map(|s| s.text.as_str()).collect();
        let answer = "Readers proceed concurrently with writers in WAL mode [1]. The database file gets repacked by VACUUM [2]. Writers never block the readers in that mode [1].";
        let asked: std::cell::RefCell<Vec<String>> = Default::default();
        let mut inner = |texts: &[String]| {
            asked.borrow_mut().extend(texts.iter().cloned());
            topic_embed(TOPICS)(texts)
        };
        let mut cache = crate::support::EmbedCache::new();
        let mut embed = |texts: &[String]| cache.get(texts, &mut inner);
        let mut s = Streaming::new(&sources, crate::support::COSINE_MIN);
        let mut told = 0;
        for piece in answer.split_inclusive(' ') {
            let checks = s.push(piece, &mut embed);
            for c in &checks {
                crate::support::check(&c.text, &passages, &mut embed, crate::support::COSINE_MIN);
            }
            told += checks.len();
            if told == 0 {
                assert!(asked.borrow().is_empty(), "nothing is embedded before the first sentence ends");
            }
        }
        assert_eq!(told, 2);
        let support = crate::support::check(answer, &passages, &mut embed, crate::support::COSINE_MIN);
        assert_eq!(support.claims, 3);
        let v = s.finish(answer, &mut embed);
        assert_eq!(s.checked_after(), 1);
        let mut fresh = topic_embed(TOPICS);
        assert_eq!(v, verify(answer, &sources, &mut fresh, crate::support::COSINE_MIN));
        let asked = asked.into_inner();
        let mut once = asked.clone();
        once.sort();
        once.dedup();
        assert_eq!(asked.len(), once.len(), "each text embedded once: {asked:?}");
        assert!(asked.iter().any(|t| WAL.contains(t.as_str())), "source sentences were embedded");
        assert_eq!(cache.embedded(), asked.len());
    }

    #[test]
    fn cosine_thresholds_keep_their_place_on_every_model_scale() {
        let (s, p) = cosine_thresholds(crate::support::COSINE_MIN);
        assert!((s - COSINE_SUPPORTED).abs() < 1e-6 && (p - COSINE_PARTLY).abs() < 1e-6);
        // The multilingual E5 scale: both between its same-meaning cut (0.95) and 1, in order.
        let (s, p) = cosine_thresholds(0.95);
        assert!(0.95 < p && p < s && s < 1.0, "{p} {s}");
    }
}
