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
//! The check is local (no chat-model call) and runs once the answer is complete, so streaming
//! is not slowed.

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

/// Most source sentences embedded for one answer.
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
    let (cos_supported, cos_partly) = cosine_thresholds(cosine_scale);

    // The sentences of the sources, and the windows over them.
    let mut source_sentences: Vec<(usize, Span)> = Vec::new();
    let mut windows: Vec<Window> = Vec::new();
    for (si, s) in sources.iter().enumerate() {
        let spans = sentence_spans(&s.text, false);
        let first = source_sentences.len();
        for (k, span) in spans.iter().enumerate() {
            source_sentences.push((si, *span));
            let words = |sp: Span| content_words(&s.text[sp.0..sp.1]).iter().map(|w| stem(w)).collect();
            windows.push(Window { source: si, span: *span, sentences: vec![first + k], words: words(*span) });
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
    let n_sentences = source_sentences.len() as f32;
    let weight = |s: &str| ((n_sentences + 1.0) / (df.get(s).copied().unwrap_or(0) as f32 + 1.0)).ln() + 1.0;

    // The answer's sentences and their claims.
    let answer_spans = sentence_spans(answer, true);
    let claims: Vec<String> = answer_spans
        .iter()
        .map(|(a, b)| strip_citations(&answer[*a..*b]).replace(['*', '`'], "").trim().to_string())
        .collect();
    let weighted: Vec<Weighted> = claims
        .iter()
        .map(|c| {
            let mut seen = HashSet::new();
            content_words(c)
                .iter()
                .map(|w| stem(w))
                .filter(|s| seen.insert(s.clone()))
                .map(|s| {
                    let w = weight(&s);
                    (s, w)
                })
                .collect()
        })
        .collect();
    let checkable: Vec<bool> = claims.iter().map(|c| content_words(c).len() >= CLAIM_MIN_WORDS).collect();

    // Meaning: the claims and the source sentences that share a word with one of them.
    let mut cosines: HashMap<(usize, usize), f32> = HashMap::new();
    let wanted: HashSet<&String> = weighted
        .iter()
        .zip(&checkable)
        .filter(|(_, c)| **c)
        .flat_map(|(w, _)| w.iter().map(|(s, _)| s))
        .collect();
    let candidates: Vec<usize> = (0..source_sentences.len())
        .filter(|k| {
            let (si, (a, b)) = source_sentences[*k];
            content_words(&sources[si].text[a..b]).iter().any(|w| wanted.contains(&stem(w)))
        })
        .take(MAX_EMBEDDED)
        .collect();
    let judged: Vec<usize> = (0..claims.len()).filter(|i| checkable[*i]).collect();
    if !judged.is_empty() && !candidates.is_empty() {
        let mut texts: Vec<String> = judged.iter().map(|i| claims[*i].clone()).collect();
        texts.extend(candidates.iter().map(|k| {
            let (si, (a, b)) = source_sentences[*k];
            sources[si].text[a..b].to_string()
        }));
        if let Some(vectors) = embed(&texts).filter(|v| v.len() == texts.len()) {
            let (claim_vecs, source_vecs) = vectors.split_at(judged.len());
            for (ci, cv) in judged.iter().zip(claim_vecs) {
                for (k, sv) in candidates.iter().zip(source_vecs) {
                    cosines.insert((*ci, *k), cv.iter().zip(sv).map(|(a, b)| a * b).sum());
                }
            }
        }
    }

    let source_languages: Vec<Option<String>> =
        sources.iter().map(|s| lore_index::query_language(&s.text)).collect();
    let mut sentences = Vec::with_capacity(claims.len());
    for (i, (a, b)) in answer_spans.iter().enumerate() {
        let text = &answer[*a..*b];
        let start = answer[..*a].chars().count();
        let mut check = SentenceCheck {
            text: text.to_string(),
            start,
            end: start + text.chars().count(),
            citations: markers_in(text),
            label: Label::NotChecked,
            quote: None,
            better_source: None,
            lexical: 0.0,
            cosine: None,
        };
        if !checkable[i] {
            sentences.push(check);
            continue;
        }
        let names = ExactTerms::code_terms(&claims[i]);
        let claim_numbers = numbers(&claims[i]);
        let fit = |w: usize| -> Fit {
            let win = &windows[w];
            let source_text = &sources[win.source].text;
            let lexical = coverage(&weighted[i], &win.words);
            let cosine = win
                .sentences
                .iter()
                .filter_map(|k| cosines.get(&(i, *k)).copied())
                .fold(None, |m: Option<f32>, c| Some(m.map_or(c, |m| m.max(c))));
            let mut label = if lexical >= LEXICAL_SUPPORTED || cosine.is_some_and(|c| c >= cos_supported) {
                Label::Supported
            } else if lexical >= LEXICAL_PARTLY || cosine.is_some_and(|c| c >= cos_partly) {
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
                    Some(b) if !f.better_than(&b, &windows) => Some(b),
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
            sentences.push(check);
            continue;
        };
        check.label = best.label;
        check.lexical = best.lexical;
        check.cosine = best.cosine;
        // A claim in another language than every source, that no word ties to one, is beyond
        // the check (see crate::support on meaning across languages).
        if best.label == Label::Unsupported && best.lexical == 0.0 {
            let lang = lore_index::query_language(&claims[i]);
            if !source_languages.is_empty()
                && source_languages
                    .iter()
                    .all(|s| crate::retrieve::across_languages(lang.as_deref(), s.as_deref()))
            {
                check.label = Label::NotChecked;
            }
        }
        if matches!(check.label, Label::Supported | Label::PartlySupported) {
            check.quote =
                Some(quote(&sources[windows[best.window].source], &windows[best.window], &source_sentences));
        }
        sentences.push(check);
    }
    let count = |l: Label| sentences.iter().filter(|s| s.label == l).count();
    let summary = Summary {
        checked: sentences.len() - count(Label::NotChecked),
        supported: count(Label::Supported),
        partly: count(Label::PartlySupported),
        unsupported: count(Label::Unsupported),
    };
    Verification { sentences, summary }
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

    #[test]
    fn cosine_thresholds_keep_their_place_on_every_model_scale() {
        let (s, p) = cosine_thresholds(crate::support::COSINE_MIN);
        assert!((s - COSINE_SUPPORTED).abs() < 1e-6 && (p - COSINE_PARTLY).abs() < 1e-6);
        // The multilingual E5 scale: both between its same-meaning cut (0.95) and 1, in order.
        let (s, p) = cosine_thresholds(0.95);
        assert!(0.95 < p && p < s && s < 1.0, "{p} {s}");
    }
}
