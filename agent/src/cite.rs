//! Citation markers in a streamed answer: `[n]` (also `[n, m]`, `[n-m]`, `[Source n]`) are
//! recognised as the text arrives, normalised to `[n]`, and dropped when they point at no source.

/// Longest marker looked at, in bytes; a `[` without a `]` within it is plain text.
const MAX_MARKER: usize = 24;

/// Most numbers one range marker (`[1-5]`) may expand to.
const MAX_RANGE: usize = 10;

/// Tracks the citations of one answer as its text streams in.
#[derive(Debug, Clone)]
pub struct CitationTracker {
    sources: usize,
    pending: String,
    text: String,
    cited: Vec<usize>,
    dropped: usize,
}

impl CitationTracker {
    /// A tracker for an answer given `sources` numbered sources (1..=sources).
    pub fn new(sources: usize) -> Self {
        CitationTracker {
            sources,
            pending: String::new(),
            text: String::new(),
            cited: Vec::new(),
            dropped: 0,
        }
    }

    /// Takes the next piece of the answer and returns the text that can be shown now (a possible
    /// marker cut in two is held back until its end arrives).
    pub fn push(&mut self, piece: &str) -> String {
        self.pending.push_str(piece);
        let out = self.drain(false);
        self.text.push_str(&out);
        out
    }

    /// Ends the answer: returns whatever was held back.
    pub fn finish(&mut self) -> String {
        let out = self.drain(true);
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

    fn drain(&mut self, at_end: bool) -> String {
        let mut out = String::new();
        loop {
            let Some(open) = self.pending.find('[') else {
                out.push_str(&self.pending);
                self.pending.clear();
                return out;
            };
            out.push_str(&self.pending[..open]);
            let rest = &self.pending[open + 1..];
            match rest.find(']') {
                Some(close) if close <= MAX_MARKER => {
                    let inner = rest[..close].to_string();
                    let after = open + 1 + close + 1;
                    match parse_marker(&inner) {
                        Some(numbers) => {
                            let valid: Vec<usize> =
                                numbers.into_iter().filter(|n| (1..=self.sources).contains(n)).collect();
                            if valid.is_empty() {
                                self.dropped += 1;
                                // Keep "word [9]." from becoming "word ." in the output.
                                if out.ends_with(' ')
                                    && self.pending[after..].starts_with(['.', ',', ';', ':', '!', '?', ' '])
                                {
                                    out.pop();
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
                            out.push('[');
                            out.push_str(&inner);
                            out.push(']');
                        }
                    }
                    self.pending.drain(..after);
                }
                None if !at_end && rest.len() <= MAX_MARKER => {
                    // Maybe a marker whose end has not arrived yet.
                    self.pending.drain(..open);
                    return out;
                }
                _ => {
                    out.push('[');
                    self.pending.drain(..open + 1);
                }
            }
        }
    }
}

/// The source numbers of a marker's inside (`1`, `1, 2`, `2-4`, `Source 3`, `source: 3`), or
/// `None` when it is not a citation.
fn parse_marker(inner: &str) -> Option<Vec<usize>> {
    let mut s = inner.trim();
    for prefix in ["sources", "source", "src", "ref"] {
        if s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix) {
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
    fn held_text_is_released_at_the_end() {
        let mut t = CitationTracker::new(1);
        assert_eq!(t.push("see [1"), "see ");
        assert_eq!(t.finish(), "[1");
        assert!(t.cited().is_empty());
    }
}

/// Words too common to show where a sentence came from.
const STOPWORDS: &[&str] = &[
    "the", "and", "for", "are", "but", "not", "you", "all", "any", "can", "had", "her", "was", "one", "our",
    "out", "has", "have", "been", "from", "that", "this", "with", "they", "will", "would", "there", "their",
    "what", "which", "when", "where", "who", "how", "why", "into", "than", "then", "them", "these", "those",
    "its", "also", "such", "may", "might", "could", "should", "use", "used", "using", "more", "most", "some",
    "other", "about", "only", "very", "just", "because", "each", "does", "did", "your",
];

/// The content words of a text: lower-cased runs of letters and digits, three or more
/// characters (or any CJK character), stop words left out.
fn content_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let flush = |w: &mut String, out: &mut Vec<String>| {
        if w.chars().count() >= 3 && !STOPWORDS.contains(&w.as_str()) {
            out.push(std::mem::take(w));
        }
        w.clear();
    };
    for c in text.chars() {
        if is_cjk(c) {
            flush(&mut word, &mut out);
            out.push(c.to_string());
        } else if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        } else {
            flush(&mut word, &mut out);
        }
    }
    flush(&mut word, &mut out);
    out
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF)
}

/// Share of a sentence's content words a source must contain for the sentence to be attributed to it.
const ATTRIBUTION_MIN_OVERLAP: f32 = 0.5;

/// Fewest content words a sentence needs to be attributed (shorter ones say too little to tell).
const ATTRIBUTION_MIN_WORDS: usize = 3;

/// Attributes sentences the model left uncited to the source they were taken from: the source
/// containing the largest share (at least half) of the sentence's content words. Small local
/// models often answer well from the sources but omit the markers; this keeps every claim
/// pointing at its source. Text passes through as it streams; only the punctuation that ends a
/// sentence is held until the next piece shows whether the model cites it itself.
#[derive(Debug, Clone)]
pub struct Attributor {
    sources: Vec<std::collections::HashSet<String>>,
    sentence: String,
    sentence_cited: bool,
    held: String,
    in_marker: bool,
    after_marker: bool,
    inferred: Vec<usize>,
}

impl Attributor {
    /// An attributor over the numbered sources' texts (`texts[0]` is source 1).
    pub fn new(texts: &[&str]) -> Self {
        Attributor {
            sources: texts.iter().map(|t| content_words(t).into_iter().collect()).collect(),
            sentence: String::new(),
            sentence_cited: false,
            held: String::new(),
            in_marker: false,
            after_marker: false,
            inferred: Vec::new(),
        }
    }

    /// Source numbers attributed by this attributor (not by the model), in order of first use.
    pub fn inferred(&self) -> &[usize] {
        &self.inferred
    }

    /// The best source for a sentence, if one holds enough of it.
    pub fn source_of(&self, sentence: &str) -> Option<usize> {
        let words = content_words(sentence);
        if words.len() < ATTRIBUTION_MIN_WORDS {
            return None;
        }
        let mut best: Option<(usize, f32)> = None;
        for (i, s) in self.sources.iter().enumerate() {
            let share = words.iter().filter(|w| s.contains(*w)).count() as f32 / words.len() as f32;
            if share >= ATTRIBUTION_MIN_OVERLAP && best.is_none_or(|(_, b)| share > b) {
                best = Some((i + 1, share));
            }
        }
        best.map(|(n, _)| n)
    }

    /// Ends the current sentence: the marker to insert before its final punctuation, if any.
    fn close(&mut self) -> String {
        let sentence = std::mem::take(&mut self.sentence);
        let cited = std::mem::replace(&mut self.sentence_cited, false);
        if cited {
            return String::new();
        }
        match self.source_of(&sentence) {
            Some(n) => {
                if !self.inferred.contains(&n) {
                    self.inferred.push(n);
                }
                format!(" [{n}]")
            }
            None => String::new(),
        }
    }

    /// Takes the next piece of cleaned answer text (markers already normalised to `[n]`) and
    /// returns what can be shown now.
    pub fn push(&mut self, piece: &str) -> String {
        let mut out = String::new();
        for c in piece.chars() {
            if self.in_marker {
                // A marker after the end of a sentence: it belongs to that sentence.
                out.push(c);
                self.in_marker = c != ']';
                self.after_marker = !self.in_marker;
                continue;
            }
            if !self.held.is_empty() {
                if c.is_whitespace() {
                    self.held.push(c);
                    continue;
                }
                let held = std::mem::take(&mut self.held);
                let boundary = held.ends_with(char::is_whitespace)
                    || held.contains('\n')
                    || held.starts_with(['。', '！', '？']);
                if c == '[' {
                    // The model cites after the punctuation: the sentence is cited.
                    out.push_str(&held);
                    self.sentence.clear();
                    self.sentence_cited = false;
                    self.in_marker = true;
                    out.push(c);
                    continue;
                } else if boundary {
                    let (punct, space) = split_trailing_space(&held);
                    out.push_str(&self.close());
                    out.push_str(punct);
                    out.push_str(space);
                } else {
                    // "3.14", "e.g.x": not the end of a sentence.
                    out.push_str(&held);
                    self.sentence.push_str(&held);
                }
            }
            if self.after_marker && c == '[' {
                // More markers right after a cited sentence ("[1][2]" or "[1] [2]").
                self.in_marker = true;
                out.push(c);
                continue;
            }
            if !c.is_whitespace() {
                self.after_marker = false;
            }
            if matches!(c, '.' | '!' | '?' | '。' | '！' | '？' | '\n') && !self.sentence.trim().is_empty()
            {
                self.held.push(c);
                continue;
            }
            if c == ']' && self.sentence.ends_with(|d: char| d.is_ascii_digit()) {
                self.sentence_cited = true;
            }
            out.push(c);
            self.sentence.push(c);
        }
        out
    }

    /// Ends the answer: closes the last sentence.
    pub fn finish(&mut self) -> String {
        let held = std::mem::take(&mut self.held);
        let (punct, space) = split_trailing_space(&held);
        let mut out = self.close();
        out.push_str(punct);
        out.push_str(space);
        out
    }
}

fn split_trailing_space(s: &str) -> (&str, &str) {
    let cut = s.find(char::is_whitespace).unwrap_or(s.len());
    s.split_at(cut)
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
    fn the_models_own_citations_are_kept() {
        let (out, a) = run(&[
            "Strings are immutable so storage is allocated once [2]. ",
            "Tkinter is included with Python. [2]",
        ]);
        assert_eq!(
            out,
            "Strings are immutable so storage is allocated once [2]. Tkinter is included with Python. [2]"
        );
        assert!(a.inferred().is_empty());
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
            "Tkinter ships with Python. [2][1] Strings are immutable, storage allocated at creation [1]."
        );
        assert_eq!(a.inferred(), &[1]);
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
