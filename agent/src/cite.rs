//! Citation markers in a streamed answer: `[n]` (also `[n, m]`, `[n-m]`, `[Source n]`) are
//! recognised as the text arrives, normalised to `[n]`, and dropped when they point at no source
//! ([`CitationTracker`]); then each sentence's citation is checked against the sources, moved to
//! the source that holds the sentence when the cited one does not, and added where the model
//! left a sentence taken from a source uncited ([`Attributor`]). Nothing is read or inserted
//! inside Markdown code ([`crate::code_spans`]).

use std::collections::{HashMap, HashSet};

use crate::code_spans::CodeScanner;
use crate::words::{content_words, stem};

/// Longest marker looked at, in bytes; a `[` without a `]` within it is plain text.
const MAX_MARKER: usize = 24;

/// Most numbers one range marker (`[1-5]`) may expand to.
const MAX_RANGE: usize = 10;

/// Tracks the citations of one answer as its text streams in.
#[derive(Debug, Clone)]
pub struct CitationTracker {
    sources: usize,
    code: CodeScanner,
    marker: Option<String>,
    text: String,
    cited: Vec<usize>,
    dropped: usize,
    /// A space held back after a dropped marker: dropped too when punctuation follows.
    space_held: bool,
}

impl CitationTracker {
    /// A tracker for an answer given `sources` numbered sources (1..=sources).
    pub fn new(sources: usize) -> Self {
        CitationTracker {
            sources,
            code: CodeScanner::new(),
            marker: None,
            text: String::new(),
            cited: Vec::new(),
            dropped: 0,
            space_held: false,
        }
    }

    /// Takes the next piece of the answer and returns the text that can be shown now (a possible
    /// marker cut in two is held back until its end arrives).
    pub fn push(&mut self, piece: &str) -> String {
        let mut out = String::new();
        for c in piece.chars() {
            self.step(c, &mut out);
        }
        self.text.push_str(&out);
        out
    }

    /// Ends the answer: returns whatever was held back.
    pub fn finish(&mut self) -> String {
        let mut out = String::new();
        if let Some(m) = self.marker.take() {
            out.push_str(&m);
        }
        self.space_held = false;
        self.text.push_str(&out);
        out
    }

    /// The cleaned answer so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Source numbers cited, in order of first citation.
    pub fn cited(&self) -> &[usize] {
        &self.cited
    }

    /// Number of markers dropped because they pointed at no source.
    pub fn dropped(&self) -> usize {
        self.dropped
    }

    fn step(&mut self, c: char, out: &mut String) {
        if let Some(mut m) = self.marker.take() {
            if c == ']' {
                self.close_marker(&m, out);
                return;
            }
            m.push(c);
            if c == '\n' || c == '[' || c == '`' || m.len() > MAX_MARKER {
                // Not a marker: give the text back, the `[` as it is, and read the rest again.
                out.push('[');
                for d in m.chars().skip(1) {
                    self.step(d, out);
                }
                return;
            }
            self.marker = Some(m);
            return;
        }
        let code = self.code.step(c);
        if self.space_held {
            self.space_held = false;
            if !matches!(c, '.' | ',' | ';' | ':' | '!' | '?' | ' ') {
                out.push(' ');
            }
        }
        if c == '[' && !code {
            self.marker = Some("[".to_string());
            return;
        }
        out.push(c);
    }

    fn close_marker(&mut self, marker: &str, out: &mut String) {
        let inner = &marker[1..];
        match parse_marker(inner) {
            Some(numbers) => {
                let valid: Vec<usize> =
                    numbers.into_iter().filter(|n| (1..=self.sources).contains(n)).collect();
                if valid.is_empty() {
                    self.dropped += 1;
                    // Keep "word [9]." from becoming "word .".
                    if out.ends_with(' ') {
                        out.pop();
                        self.space_held = true;
                    }
                }
                for n in valid {
                    out.push_str(&format!("[{n}]"));
                    if !self.cited.contains(&n) {
                        self.cited.push(n);
                    }
                }
            }
            None => {
                out.push_str(marker);
                out.push(']');
            }
        }
    }
}

/// The source numbers of a marker's inside (`1`, `1, 2`, `2-4`, `Source 3`, `source: 3`), or
/// `None` when it is not a citation.
fn parse_marker(inner: &str) -> Option<Vec<usize>> {
    let mut s = inner.trim();
    for prefix in ["sources", "source", "src", "ref"] {
        if s.len() >= prefix.len()
            && s.is_char_boundary(prefix.len())
            && s[..prefix.len()].eq_ignore_ascii_case(prefix)
        {
            s = s[prefix.len()..].trim_start_matches([':', ' ', '#']);
            break;
        }
    }
    if s.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for part in s.split([',', ';']) {
        let part = part.trim();
        if let Some((a, b)) = part.split_once(['-', '–']) {
            let (a, b): (usize, usize) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
            if b < a || b - a >= MAX_RANGE {
                return None;
            }
            out.extend(a..=b);
        } else {
            out.push(part.parse().ok()?);
        }
    }
    Some(out)
}

/// The source numbers of the `[n]` markers of a cleaned answer, outside code, in order of first
/// appearance.
pub fn markers_in(text: &str) -> Vec<usize> {
    let mut code = CodeScanner::new();
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    for c in text.chars() {
        if let Some(m) = marker.as_mut() {
            if c == ']' {
                if let Ok(n) = m.parse::<usize>()
                    && !out.contains(&n)
                {
                    out.push(n);
                }
                marker = None;
            } else if c.is_ascii_digit() && m.len() < 6 {
                m.push(c);
            } else {
                marker = None;
            }
            continue;
        }
        if !code.step(c) && c == '[' {
            marker = Some(String::new());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pieces: &[&str], sources: usize) -> CitationTracker {
        let mut t = CitationTracker::new(sources);
        let mut shown = String::new();
        for p in pieces {
            shown.push_str(&t.push(p));
        }
        shown.push_str(&t.finish());
        assert_eq!(shown, t.text(), "what was shown is the answer");
        t
    }

    #[test]
    fn markers_split_across_pieces_are_found() {
        let t = run(&["Tail calls reuse the frame [", "2", "]. Python does not [1", "]."], 3);
        assert_eq!(t.text(), "Tail calls reuse the frame [2]. Python does not [1].");
        assert_eq!(t.cited(), &[2, 1]);
    }

    #[test]
    fn lists_ranges_and_labels_are_normalised() {
        let t = run(&["A [1, 3]. B [Source 2]. C [2-3]. D [source: 1]."], 3);
        assert_eq!(t.text(), "A [1][3]. B [2]. C [2][3]. D [1].");
        assert_eq!(t.cited(), &[1, 3, 2]);
    }

    #[test]
    fn markers_pointing_nowhere_are_dropped() {
        let t = run(&["True [7]. Also [0] here [2]."], 2);
        assert_eq!(t.text(), "True. Also here [2].");
        assert_eq!(t.cited(), &[2]);
        assert_eq!(t.dropped(), 2);
    }

    #[test]
    fn brackets_that_are_not_citations_stay() {
        let t = run(&["Use a[i] and [see below] or [", "x"], 2);
        assert_eq!(t.text(), "Use a[i] and [see below] or [x");
        assert!(t.cited().is_empty());
        let long = format!("[{}", "y".repeat(40));
        let t = run(&[&long, "]"], 2);
        assert_eq!(t.text(), format!("{long}]"));
    }

    #[test]
    fn brackets_in_code_are_not_citations() {
        let t = run(&["Use `arr[0]` and [1].\n```\nx = a[", "0] + a[1]\n```\n\n    b[0]\nok [3]"], 2);
        assert_eq!(t.text(), "Use `arr[0]` and [1].\n```\nx = a[0] + a[1]\n```\n\n    b[0]\nok");
        assert_eq!(t.cited(), &[1]);
        assert_eq!(markers_in(t.text()), vec![1]);
    }

    #[test]
    fn held_text_is_released_at_the_end() {
        let mut t = CitationTracker::new(1);
        assert_eq!(t.push("see [1"), "see ");
        assert_eq!(t.finish(), "[1");
        assert!(t.cited().is_empty());
    }
}

/// `text` with a marker added to each claim of `backing` that a passage supports but that carries
/// none: before the claim's final punctuation, or after it when it has none. `backing` holds the
/// claims in the order of the text, each with the index of its passage in `numbers` (the
/// passages' citation numbers). A claim not found as it is in the text is left alone.
pub fn mark_backed_claims(text: &str, backing: &[(String, Option<usize>)], numbers: &[usize]) -> String {
    let mut inserts: Vec<(usize, String)> = Vec::new();
    let mut from = 0;
    for (claim, passage) in backing {
        let Some(at) = text.get(from..).and_then(|rest| rest.find(claim.as_str())).map(|i| from + i) else {
            continue;
        };
        let end = at + claim.len();
        from = end;
        let Some(n) = passage.and_then(|p| numbers.get(p)) else { continue };
        let after = text[end..].trim_start();
        if after.starts_with('[') && after[1..].starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        let last = claim.chars().next_back();
        match last {
            Some(c) if ends_sentence(c) && c != '\n' => {
                let marker = if c.is_ascii() { format!(" [{n}]") } else { format!("[{n}]") };
                inserts.push((end - c.len_utf8(), marker));
            }
            _ => inserts.push((end, format!(" [{n}]"))),
        }
    }
    let mut out = text.to_string();
    for (at, marker) in inserts.into_iter().rev() {
        out.insert_str(at, &marker);
    }
    out
}

/// The marker of the first passage, for an answer that cites nothing and is written in another
/// language than every passage (a Chinese answer from English passages): neither the answer's
/// words nor the embedding model can tell which passage a sentence in translation comes from
/// (see [`crate::support::check`]), and a small model asked in one language about sources in
/// another drops the markers; the first passage is the one the search ranked best for the
/// question. The citation is marked as lore's (`inferred`), not the model's. `None` when the
/// answer cites something, shares a language with a passage, or there are no passages.
pub fn translated_answer_marker(text: &str, passages: &[crate::retrieve::Passage]) -> Option<String> {
    let first = passages.first()?;
    if !markers_in(text).is_empty() || text.trim().is_empty() {
        return None;
    }
    let language = lore_index::query_language(text);
    let across = passages.iter().all(|p| {
        crate::retrieve::across_languages(language.as_deref(), lore_index::query_language(&p.text).as_deref())
    });
    if !across {
        return None;
    }
    let space = if text.trim_end().chars().next_back().is_some_and(|c| c.is_ascii()) { " " } else { "" };
    Some(format!("{space}[{}]", first.n))
}

/// Weighted share of a sentence's content words a source must contain for the sentence to be
/// attributed to it, or for a citation to be moved to it.
const SUPPORT_MIN: f32 = 0.5;

/// How much better another source must hold a sentence than the cited one for the citation to
/// be moved to it.
const MOVE_MARGIN: f32 = 0.2;

/// Fewest content words a sentence needs to be judged (shorter ones say too little to tell).
const ATTRIBUTION_MIN_WORDS: usize = 3;

/// Characters that end a sentence.
fn ends_sentence(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '。' | '！' | '？' | '\n')
}

/// Checks the citations of an answer's sentences as they stream, against the sources' texts.
/// A source's hold on a sentence is the share of the sentence's content words it contains, each
/// word weighted by how few of the sources contain it (a word every source holds, such as the
/// product all of them are about, tells nothing about which one a sentence came from):
/// - a sentence the model cited keeps its citation when the cited source holds it nearly as
///   well as the best source does, else the citation moves to the best source (of equals, the
///   one the search ranked higher): small local models often answer from one source and cite
///   another;
/// - a sentence the model left uncited is attributed to the source holding it best (at least
///   half of its weighted content words): small models often omit the markers.
///
/// Text passes through as it streams; from a sentence's first marker, or its final punctuation,
/// to the end of the sentence it is held, so its markers can be checked before they are shown.
#[derive(Debug, Clone)]
pub struct Attributor {
    sources: Vec<HashSet<String>>,
    /// How many sources hold each word.
    source_counts: HashMap<String, usize>,
    code: CodeScanner,
    /// The current sentence's text, without markers.
    sentence: String,
    /// Output held back (see the type's docs).
    held: String,
    /// Where in `held` the sentence's final punctuation is.
    punct_at: Option<usize>,
    /// Whitespace seen after the final punctuation.
    spaced: bool,
    /// A marker being read, after its `[`.
    marker: Option<String>,
    inferred: Vec<usize>,
    moved: usize,
    /// The question answered (see [`Attributor::with_question`]).
    question: String,
    /// Whether a sentence has been closed yet.
    after_first: bool,
}

impl Attributor {
    /// An attributor over the numbered sources' texts (`texts[0]` is source 1).
    pub fn new(texts: &[&str]) -> Self {
        let sources: Vec<HashSet<String>> =
            texts.iter().map(|t| content_words(t).iter().map(|w| stem(w)).collect()).collect();
        let mut source_counts: HashMap<String, usize> = HashMap::new();
        for word in sources.iter().flatten() {
            *source_counts.entry(word.clone()).or_default() += 1;
        }
        Attributor {
            sources,
            source_counts,
            code: CodeScanner::new(),
            sentence: String::new(),
            held: String::new(),
            punct_at: None,
            spaced: false,
            marker: None,
            inferred: Vec::new(),
            moved: 0,
            question: String::new(),
            after_first: false,
        }
    }

    /// The attributor for an answer to `question`: an uncited first sentence too short to judge
    /// alone ("No, this is not a bug.", "Yes.") is a claim about the question, and is judged
    /// with the question's words.
    pub fn with_question(mut self, question: &str) -> Self {
        self.question = question.trim().to_string();
        self
    }

    /// Source numbers attributed by this attributor (not by the model), in order of first use.
    pub fn inferred(&self) -> &[usize] {
        &self.inferred
    }

    /// How many of the model's citations were moved to another source.
    pub fn moved(&self) -> usize {
        self.moved
    }

    /// How much a word of a sentence tells which source it came from: `ln(1 + n / k)` for a word
    /// `k` of the `n` sources hold (a word none holds weighs as one held by a single source).
    fn weight(&self, word: &str) -> f32 {
        let n = self.sources.len().max(1) as f32;
        let k = self.source_counts.get(word).copied().unwrap_or(1).max(1) as f32;
        (1.0 + n / k).ln()
    }

    /// Each source's hold on `sentence`: the weighted share of its content words the source
    /// contains; `None` when the sentence has too few content words.
    fn support(&self, sentence: &str) -> Option<Vec<f32>> {
        let words: HashSet<String> = content_words(sentence).iter().map(|w| stem(w)).collect();
        if words.len() < ATTRIBUTION_MIN_WORDS {
            return None;
        }
        let weights: Vec<(&String, f32)> = words.iter().map(|w| (w, self.weight(w))).collect();
        let total: f32 = weights.iter().map(|(_, x)| x).sum();
        Some(
            self.sources
                .iter()
                .map(|s| weights.iter().filter(|(w, _)| s.contains(*w)).map(|(_, x)| x).sum::<f32>() / total)
                .collect(),
        )
    }

    /// The best source for a sentence, if one holds enough of it.
    pub fn source_of(&self, sentence: &str) -> Option<usize> {
        let support = self.support(sentence)?;
        let mut best: Option<(usize, f32)> = None;
        for (i, share) in support.into_iter().enumerate() {
            if share >= SUPPORT_MIN && best.is_none_or(|(_, b)| share > b) {
                best = Some((i + 1, share));
            }
        }
        best.map(|(n, _)| n)
    }

    /// The source a citation of `n` for a sentence should point at, given each source's hold
    /// on the sentence: `n` while it holds the sentence within [`MOVE_MARGIN`] of the best
    /// source, else the best source (the first of equals) when that holds at least
    /// [`SUPPORT_MIN`].
    fn checked(&self, n: usize, support: Option<&[f32]>) -> usize {
        let Some(support) = support else { return n };
        let cited = support.get(n - 1).copied().unwrap_or(0.0);
        let (best, share) = support
            .iter()
            .enumerate()
            .fold((n - 1, cited), |(bi, bs), (i, s)| if *s > bs { (i, *s) } else { (bi, bs) });
        if share >= SUPPORT_MIN && share > cited + MOVE_MARGIN { best + 1 } else { n }
    }

    /// Ends the current sentence: returns the held text with its markers checked, or with one
    /// added before its final punctuation.
    fn close(&mut self) -> String {
        let sentence = std::mem::take(&mut self.sentence);
        let held = std::mem::take(&mut self.held);
        let punct_at = self.punct_at.take();
        self.spaced = false;
        let support = self.support(&sentence);
        let mut out = String::with_capacity(held.len() + 4);
        let mut shown: Vec<usize> = Vec::new();
        let mut any = false;
        let mut scan = CodeScanner::new();
        let chars: Vec<char> = held.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let code = scan.step(c);
            if c == '[' && !code {
                let digits = chars[i + 1..].iter().take_while(|d| d.is_ascii_digit()).count();
                let close = i + 1 + digits;
                let number = (digits > 0 && chars.get(close) == Some(&']'))
                    .then(|| chars[i + 1..close].iter().collect::<String>().parse::<usize>().ok())
                    .flatten()
                    .filter(|n| *n >= 1);
                if let Some(n) = number {
                    any = true;
                    let m = if n <= self.sources.len() { self.checked(n, support.as_deref()) } else { n };
                    if m != n {
                        self.moved += 1;
                    }
                    if shown.contains(&m) {
                        // A repeat after moving: dropped, with the space before it.
                        if out.ends_with(' ')
                            && chars.get(close + 1).is_none_or(|d| matches!(d, '.' | ' ' | ',' | '['))
                        {
                            out.pop();
                        }
                    } else {
                        out.push_str(&format!("[{m}]"));
                        shown.push(m);
                    }
                    i = close + 1;
                    continue;
                }
            }
            out.push(c);
            i += 1;
        }
        let first = !std::mem::replace(&mut self.after_first, true);
        if any || sentence.trim().is_empty() {
            return out;
        }
        // A fragment cut at an abbreviation or an ellipsis ("(a.k.a", "SQLITE_OMIT_..") is not a
        // sentence of its own.
        let whole = sentence
            .split_whitespace()
            .next_back()
            .is_some_and(|w| !w.contains('.') && w.chars().filter(|c| c.is_alphanumeric()).count() > 1);
        let judged = if first
            && whole
            && !self.question.is_empty()
            && content_words(&sentence).len() < ATTRIBUTION_MIN_WORDS
        {
            format!("{sentence} {}", self.question)
        } else {
            sentence
        };
        match self.source_of(&judged) {
            Some(n) => {
                if !self.inferred.contains(&n) {
                    self.inferred.push(n);
                }
                let at = punct_at.filter(|a| *a <= out.len()).unwrap_or_else(|| out.trim_end().len());
                let (before, after) = out.split_at(at);
                format!("{before} [{n}]{after}")
            }
            None => out,
        }
    }

    fn emit(&mut self, c: char, out: &mut String) {
        if self.held.is_empty() && self.marker.is_none() {
            out.push(c);
        } else {
            self.held.push(c);
        }
    }

    /// Takes the next piece of cleaned answer text (markers already normalised to `[n]`) and
    /// returns what can be shown now.
    pub fn push(&mut self, piece: &str) -> String {
        let mut out = String::new();
        for c in piece.chars() {
            self.step(c, &mut out);
        }
        out
    }

    fn step(&mut self, c: char, out: &mut String) {
        if let Some(mut m) = self.marker.take() {
            if c == ']' {
                m.push(c);
                self.held.push_str(&m);
                return;
            }
            if c.is_ascii_digit() && m.len() < 8 {
                m.push(c);
                self.marker = Some(m);
                return;
            }
            // A bracket that is not a marker: held as text, and `c` read as usual.
            self.held.push_str(&m);
            self.sentence.push_str(&m[1..]);
        }
        let code = self.code.step(c);
        if self.punct_at.is_some() {
            // After a sentence's final punctuation: spaces and markers still belong to it.
            if c.is_whitespace() && !code {
                self.spaced = true;
                self.held.push(c);
                return;
            }
            if c == '[' && !code {
                self.marker = Some("[".into());
                return;
            }
            let punct = self.punct_at.and_then(|at| self.held[at..].chars().next());
            let boundary = self.spaced
                || code
                || self.held.contains('\n')
                || punct.is_some_and(|p| matches!(p, '。' | '！' | '？'));
            if boundary {
                out.push_str(&self.close());
            } else {
                // "3.14", "e.g.x": not the end of a sentence.
                let at = self.punct_at.take().unwrap_or(0);
                let tail = self.held[at..].to_string();
                self.sentence.push_str(&tail);
                if !self.held[..at].contains('[') {
                    out.push_str(&std::mem::take(&mut self.held));
                }
            }
        }
        if code {
            if self.code.in_block() && (!self.held.is_empty() || !self.sentence.trim().is_empty()) {
                out.push_str(&self.close());
            }
            if !self.code.in_block() {
                self.sentence.push(c);
            }
            self.emit(c, out);
            return;
        }
        if c == '[' {
            self.marker = Some("[".into());
            return;
        }
        if ends_sentence(c) && !self.sentence.trim().is_empty() {
            self.punct_at = Some(self.held.len());
            self.held.push(c);
            return;
        }
        self.sentence.push(c);
        self.emit(c, out);
    }

    /// Ends the answer: closes the last sentence.
    pub fn finish(&mut self) -> String {
        if let Some(m) = self.marker.take() {
            self.held.push_str(&m);
        }
        self.close()
    }
}

/// Reads a model's streamed answer through a [`CitationTracker`] (markers normalised, those
/// naming no source dropped) and `attributor` (citations checked, uncited claims attributed):
/// each piece that can be shown goes to `on_text`, `first_token` is called once, at the first
/// piece. Returns the whole answer, trimmed, and the sources the model cited itself. A model
/// that starts writing the same line over and over ([`crate::repeat`]) is stopped there: the
/// answer is kept up to the loop and `stream.finish_reason` is
/// [`crate::repeat::FINISH_REASON`].
pub async fn read_cited(
    stream: &mut crate::chat::TokenStream,
    sources: usize,
    mut attributor: Attributor,
    first_token: &mut dyn FnMut(),
    on_text: &mut dyn FnMut(&str),
) -> crate::error::Result<(String, Vec<usize>)> {
    let mut tracker = CitationTracker::new(sources);
    let mut text = String::new();
    let mut first = true;
    let mut guard = crate::repeat::RepeatGuard::new();
    while let Some(piece) = stream.next().await {
        let piece = piece?;
        if std::mem::take(&mut first) {
            first_token();
        }
        let shown = attributor.push(&tracker.push(&piece));
        if !shown.is_empty() {
            text.push_str(&shown);
            on_text(&shown);
            if guard.push(&shown) {
                // The model is looping: stop reading (the request ends when the stream is
                // dropped) and keep the answer up to the loop.
                text.truncate(guard.cut().unwrap_or(text.len()));
                stream.finish_reason = Some(crate::repeat::FINISH_REASON.to_string());
                return Ok((text.trim().to_string(), tracker.cited().to_vec()));
            }
        }
    }
    let mut rest = attributor.push(&tracker.finish());
    rest.push_str(&attributor.finish());
    if !rest.is_empty() {
        text.push_str(&rest);
        on_text(&rest);
    }
    Ok((text.trim().to_string(), tracker.cited().to_vec()))
}

#[cfg(test)]
mod backed_claim_tests {
    use super::*;

    #[test]
    fn unmarked_backed_claims_get_their_passages_marker() {
        let text = "Python 用缩进来划分语句块。这样代码更清楚。 It also reads well. Braces are kept [2].";
        let backing = vec![
            ("Python 用缩进来划分语句块。".to_string(), Some(0)),
            ("这样代码更清楚。".to_string(), None),
            ("It also reads well.".to_string(), Some(1)),
            ("Braces are kept.".to_string(), Some(1)),
        ];
        let out = mark_backed_claims(text, &backing, &[1, 2]);
        assert_eq!(
            out,
            "Python 用缩进来划分语句块[1]。这样代码更清楚。 It also reads well [2]. Braces are kept [2]."
        );
        assert_eq!(
            mark_backed_claims("No end here", &[("No end here".into(), Some(0))], &[3]),
            "No end here [3]"
        );
        assert_eq!(mark_backed_claims("Other text.", &[("Missing.".into(), Some(0))], &[1]), "Other text.");
    }

    fn passage(n: usize, text: &str) -> crate::retrieve::Passage {
        crate::retrieve::Passage { n, text: text.into(), ..Default::default() }
    }

    #[test]
    fn an_uncited_answer_in_another_language_cites_the_best_passage() {
        let english = [
            passage(1, "Python uses indentation to group statements, which keeps programs clear."),
            passage(2, "Strings in Python are immutable, which lets them be keys of dictionaries."),
        ];
        let zh = "Python 用缩进来划分语句块，这样代码更清楚。";
        assert_eq!(translated_answer_marker(zh, &english).as_deref(), Some("[1]"));
        assert_eq!(translated_answer_marker("Python 用缩进来划分语句块 [2]。", &english), None, "cited");
        let english_answer = "Python groups statements by indentation.";
        assert_eq!(translated_answer_marker(english_answer, &english), None, "same language");
        let chinese = [passage(3, "Python 用缩进来划分语句块，这是它的设计。")];
        assert_eq!(translated_answer_marker(zh, &chinese), None);
        assert_eq!(translated_answer_marker(zh, &[]), None);
    }
}

#[cfg(test)]
mod attribution_tests {
    use super::*;

    const SOURCES: [&str; 2] = [
        "Strings are immutable so that their storage can be allocated once, at creation time.",
        "Tkinter is the standard GUI toolkit and is included with most binary distributions of Python.",
    ];

    fn run(pieces: &[&str]) -> (String, Attributor) {
        let mut a = Attributor::new(&SOURCES);
        let mut out = String::new();
        for p in pieces {
            out.push_str(&a.push(p));
        }
        out.push_str(&a.finish());
        (out, a)
    }

    #[test]
    fn uncited_sentences_get_the_source_they_came_from() {
        let (out, a) = run(&[
            "Strings are immutable so storage is allocated",
            " once at creation. Tkinter is ",
            "included with Python distributions.",
        ]);
        assert_eq!(
            out,
            "Strings are immutable so storage is allocated once at creation [1]. Tkinter is included with Python distributions [2]."
        );
        assert_eq!(a.inferred(), &[1, 2]);
    }

    #[test]
    fn the_models_own_citations_are_kept_when_their_source_holds_the_sentence() {
        let (out, a) = run(&[
            "Strings are immutable so storage is allocated once [1]. ",
            "Tkinter is included with Python. [2]",
        ]);
        assert_eq!(
            out,
            "Strings are immutable so storage is allocated once [1]. Tkinter is included with Python. [2]"
        );
        assert!(a.inferred().is_empty());
        assert_eq!(a.moved(), 0);
    }

    #[test]
    fn citations_move_to_the_source_that_holds_the_sentence() {
        let (out, a) = run(&[
            "Strings are immutable so storage is allocated once [2]. ",
            "Tkinter is included with Python [1][2].",
        ]);
        assert_eq!(
            out,
            "Strings are immutable so storage is allocated once [1]. Tkinter is included with Python [2]."
        );
        assert_eq!(a.moved(), 2);
        // A sentence no source holds keeps the model's citation: lore cannot tell better.
        let (out, _) = run(&["The moon orbits the earth monthly [2]."]);
        assert_eq!(out, "The moon orbits the earth monthly [2].");
    }

    #[test]
    fn words_every_source_holds_do_not_decide_where_a_citation_points() {
        let sources = [
            "SQLite supports the ALTER TABLE command to rename a table or add, rename and drop columns.",
            "SQLite is a library; the ALTER TABLE command of SQLite is described in its SQL reference.",
            "SQLite stores the schema as text in the sqlite_schema table.",
        ];
        let mut a = Attributor::new(&sources);
        // The model cited 2, which holds "SQLite", "ALTER", "TABLE" and "command" like source 1,
        // but not what the sentence says of them.
        let out = a.push("In SQLite the ALTER TABLE command can rename and drop columns [2].") + &a.finish();
        assert_eq!(out, "In SQLite the ALTER TABLE command can rename and drop columns [1].");
        assert_eq!(a.moved(), 1);
        // A citation of a source holding the sentence about as well as the best one stands.
        let mut a = Attributor::new(&sources);
        let out = a.push("The ALTER TABLE command is described in the SQL reference [2].") + &a.finish();
        assert_eq!(out, "The ALTER TABLE command is described in the SQL reference [2].");
        assert_eq!(a.moved(), 0);
    }

    #[test]
    fn nothing_is_read_or_inserted_inside_code() {
        let text = "Install the toolkit with Python distributions:\n\n```python\nimport tkinter\nx = a[2]\nprint(strings, immutable, storage)\n```\n\n    y = b[1]. Tkinter included with Python distributions.\n\nUse `a[1]` for Tkinter included Python distributions.";
        let (out, _) = run(&[text]);
        assert!(
            out.contains("```python\nimport tkinter\nx = a[2]\nprint(strings, immutable, storage)\n```"),
            "{out}"
        );
        assert!(out.contains("    y = b[1]. Tkinter included with Python distributions.\n"), "{out}");
        assert!(out.contains("Use `a[1]` for Tkinter included Python distributions [2]."), "{out}");
        assert!(
            out.starts_with("Install the toolkit with Python distributions [2]:")
                || out.starts_with("Install the toolkit with Python distributions:"),
            "{out}"
        );
    }

    #[test]
    fn unsupported_and_short_sentences_stay_uncited() {
        let (out, a) = run(&["Yes. The moon orbits the earth every month.\nOk"]);
        assert_eq!(out, "Yes. The moon orbits the earth every month.\nOk");
        assert!(a.inferred().is_empty());
    }

    #[test]
    fn a_marker_after_the_period_does_not_leak_into_the_next_sentence() {
        let (out, a) =
            run(&["Tkinter ships with Python. [2][1] Strings are immutable, storage allocated at creation."]);
        assert_eq!(
            out,
            "Tkinter ships with Python. [2] Strings are immutable, storage allocated at creation [1]."
        );
        assert_eq!(a.inferred(), &[1]);
    }

    #[test]
    fn a_short_first_sentence_is_judged_with_the_question() {
        let question = "Why are strings immutable, and is their storage allocated once?";
        let mut a = Attributor::new(&SOURCES).with_question(question);
        let out = a.push("Yes, it is. Tkinter is included with Python distributions.") + &a.finish();
        assert_eq!(out, "Yes, it is [1]. Tkinter is included with Python distributions [2].");
        // Without the question, or after the first sentence, a short sentence stays uncited.
        let (out, _) = run(&["Yes, it is. Tkinter is included with Python distributions."]);
        assert_eq!(out, "Yes, it is. Tkinter is included with Python distributions [2].");
        let mut a = Attributor::new(&SOURCES).with_question(question);
        let out = a.push("Tkinter is included with Python distributions. Yes, it is.") + &a.finish();
        assert_eq!(out, "Tkinter is included with Python distributions [2]. Yes, it is.");
        // A fragment cut at an abbreviation is not a short sentence.
        let mut a = Attributor::new(&SOURCES).with_question(question);
        let out = a.push("Strings (a.k.a. text) are immutable.") + &a.finish();
        assert!(!out.contains("a.k.a [1]"), "{out}");
    }

    #[test]
    fn cjk_sentences_end_without_spaces() {
        let a = Attributor::new(&["字符串是不可变的。"]);
        assert_eq!(a.source_of("字符串是不可变的"), Some(1));
    }

    #[test]
    fn decimals_do_not_end_sentences() {
        let (out, _) = run(&["Version 3.11 has strings immutable, storage allocated at creation."]);
        assert_eq!(out, "Version 3.11 has strings immutable, storage allocated at creation [1].");
    }

    #[test]
    fn list_items_end_at_newlines() {
        let (out, _) = run(&["Options:\n- Tkinter, included with Python distributions\n- others"]);
        assert_eq!(out, "Options:\n- Tkinter, included with Python distributions [2]\n- others");
    }
}
