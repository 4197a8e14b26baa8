//! Splitting documents into chunks sized in tokens of the embedding model's tokenizer.
//!
//! Chunks never cross a section boundary: each section is split on its own with `text-splitter`
//! (Markdown-aware for Markdown and HTML-derived text), and every chunk keeps its section's
//! heading path and the page span of its text.

use std::path::Path;

use text_splitter::{ChunkCapacity, ChunkConfig as SplitConfig, ChunkSizer, MarkdownSplitter, TextSplitter};
use tokenizers::Tokenizer;

use crate::document::{Chunk, Document, Kind, Section};
use crate::error::{IngestError, Result};

/// Chunk sizing settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkConfig {
    /// Target chunk size in tokens: chunks fill up to this size.
    pub target_tokens: usize,
    /// Overlap between neighbouring chunks of a section, in tokens.
    pub overlap_tokens: usize,
}

impl Default for ChunkConfig {
    fn default() -> Self {
        ChunkConfig { target_tokens: 256, overlap_tokens: 38 }
    }
}

/// How chunk sizes are counted.
#[derive(Clone)]
enum Sizer {
    /// Tokens of a Hugging Face tokenizer (the embedding model's).
    Tokens(Box<Tokenizer>),
    /// An estimate of tokens from characters (about four characters a token for Latin script),
    /// for use without a tokenizer.
    Estimate,
}

/// Sizes text by an estimate of its token count (about one token per four characters, and one
/// per character for CJK scripts, which carry a word in one or two characters) scaled to a
/// tokenizer's counts: `scale` is the tokenizer's count of a sample of the section divided by
/// the estimate of it. Tokenizers differ most on CJK text: a BERT-style vocabulary gives about a
/// token a character, one that holds whole CJK words fewer, which would leave chunks part
/// empty; and an estimate a little low makes pieces a little over the target, each of which the
/// re-split by real counts cuts into a full chunk and a scrap.
#[derive(Debug, Clone, Copy)]
struct ScaledEstimate {
    scale: f64,
}

impl ChunkSizer for ScaledEstimate {
    fn size(&self, chunk: &str) -> usize {
        // lore's code, called back from inside text-splitter: a panic here is lore's bug.
        crate::guard::own(|| {
            #[cfg(test)]
            crate::guard::bug_site("chunk-estimate");
            (estimate_tokens(chunk) as f64 * self.scale).ceil() as usize
        })
    }
}

/// Bytes of a section the tokenizer counts to calibrate the estimate.
const CALIBRATION_BYTES: usize = 16 * 1024;

/// An estimate of the token count of `text` without a tokenizer.
pub fn estimate_tokens(text: &str) -> usize {
    let (mut wide, mut other) = (0usize, 0usize);
    for c in text.chars() {
        if is_cjk(c) {
            wide += 1;
        } else {
            other += 1;
        }
    }
    wide + other.div_ceil(4)
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0xAC00..=0xD7AF | 0x20000..=0x2FFFF)
}

/// Splits documents into [`Chunk`]s.
#[derive(Clone)]
pub struct Chunker {
    config: ChunkConfig,
    sizer: Sizer,
}

impl std::fmt::Debug for Chunker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sizer = match self.sizer {
            Sizer::Tokens(_) => "tokenizer",
            Sizer::Estimate => "estimate",
        };
        f.debug_struct("Chunker").field("config", &self.config).field("sizer", &sizer).finish()
    }
}

impl Chunker {
    /// A chunker that estimates token counts from characters, for use without a tokenizer.
    pub fn estimated(config: ChunkConfig) -> Self {
        Chunker { config, sizer: Sizer::Estimate }
    }

    /// A chunker sized by the tokenizer in a `tokenizer.json` file (the embedding model's).
    pub fn from_tokenizer_file(path: &Path, config: ChunkConfig) -> Result<Self> {
        let mut tok = Tokenizer::from_file(path)
            .map_err(|e| IngestError::Tokenizer { path: path.to_path_buf(), reason: e.to_string() })?;
        // Chunk sizes must reflect the whole text, not a truncated or padded encoding.
        tok.with_truncation(None)
            .map_err(|e| IngestError::Tokenizer { path: path.to_path_buf(), reason: e.to_string() })?;
        tok.with_padding(None);
        Ok(Chunker { config, sizer: Sizer::Tokens(Box::new(tok)) })
    }

    /// The sizing settings.
    pub fn config(&self) -> &ChunkConfig {
        &self.config
    }

    /// Whether chunk sizes are counted by a real tokenizer rather than estimated.
    pub fn uses_tokenizer(&self) -> bool {
        matches!(self.sizer, Sizer::Tokens(_))
    }

    /// Counts the tokens of `text` the way chunk sizes are counted.
    pub fn count_tokens(&self, text: &str) -> usize {
        match &self.sizer {
            Sizer::Tokens(tok) => tok.size(text),
            Sizer::Estimate => estimate_tokens(text),
        }
    }

    /// How many of the sizing tokenizer's tokens one estimated token of `text` is worth,
    /// measured on up to [`CALIBRATION_BYTES`] of it (1 without a tokenizer).
    fn calibration(&self, text: &str) -> f64 {
        let Sizer::Tokens(tok) = &self.sizer else { return 1.0 };
        let mut end = text.len().min(CALIBRATION_BYTES);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let sample = &text[..end];
        let estimated = estimate_tokens(sample);
        if estimated < 32 {
            return 1.0;
        }
        let counted = tok.size(sample);
        (counted as f64 / estimated as f64).clamp(0.25, 4.0)
    }

    /// Splits a document into chunks, numbered from 0 in reading order. Each chunk carries its
    /// language (see [`crate::lang::chunk_language`]).
    pub fn chunk(&self, doc: &Document) -> Result<Vec<Chunk>> {
        let mut chunks = self.split_document(doc)?;
        for c in &mut chunks {
            c.language = crate::lang::chunk_language(&c.text, doc.language.as_deref());
        }
        Ok(chunks)
    }

    fn split_document(&self, doc: &Document) -> Result<Vec<Chunk>> {
        let markdown = matches!(doc.kind, Kind::Markdown | Kind::Html | Kind::Web | Kind::News | Kind::Epub);
        let target = self.config.target_tokens.max(16);
        let overlap = self.config.overlap_tokens.min(target / 2);
        let mut chunks = Vec::new();
        for (index, section) in doc.sections.iter().enumerate() {
            if section.text.trim().is_empty() {
                continue;
            }
            // Splitting sizes many candidate pieces; the estimate does that fast. Each piece is
            // then counted with the real tokenizer, and the rare piece over the target is split
            // again by real token counts, so every chunk fits the model's tokens.
            let sizer = ScaledEstimate { scale: self.calibration(&section.text) };
            let pieces = split_windows(&section.text, markdown, sizer, target, overlap, &doc.source)?;
            // (byte span in the section, tokens) of the section's chunks.
            let mut spans: Vec<(usize, usize, usize)> = Vec::new();
            for (start, piece) in pieces {
                let tokens = self.count_tokens(piece);
                match &self.sizer {
                    Sizer::Tokens(tok) if tokens > target => {
                        for (sub_start, sub) in
                            split(piece, markdown, tok.as_ref(), target, overlap, &doc.source)?
                        {
                            let from = start + sub_start;
                            spans.push((from, from + sub.len(), self.count_tokens(sub)));
                        }
                    }
                    _ => spans.push((start, start + piece.len(), tokens)),
                }
            }
            let lines = LineIndex::of(section);
            for (start, end, tokens) in self.merge_scraps(&section.text, spans, target) {
                let ordinal = u32::try_from(chunks.len()).unwrap_or(u32::MAX);
                let text = section.text.get(start..end).unwrap_or_default();
                let mut chunk = make_chunk(section, index, ordinal, start, text, tokens);
                if let Some(lines) = &lines {
                    // The last line is the one the text ends on, not the one after its newline.
                    let last = start + text.trim_end().len().max(1) - 1;
                    (chunk.line_start, chunk.line_end) =
                        (lines.line_at(start), lines.line_at(last.max(start)));
                }
                chunks.push(chunk);
            }
        }
        Ok(chunks)
    }
}

impl Chunker {
    /// Joins each chunk under a quarter of the target to the chunk after it in the section (the
    /// last one to the chunk before), where the two together still fit the target. The splitter
    /// keeps a short paragraph alone when the paragraph after it is too long to join whole: in
    /// Japanese text, whose paragraphs are long runs without line breaks, that left a paragraph
    /// number or a one-line lead-in as a chunk of its own before every long paragraph.
    fn merge_scraps(
        &self,
        text: &str,
        spans: Vec<(usize, usize, usize)>,
        target: usize,
    ) -> Vec<(usize, usize, usize)> {
        let small = target / 4;
        let mut out: Vec<(usize, usize, usize)> = Vec::with_capacity(spans.len());
        let mut pending: Option<(usize, usize, usize)> = None;
        for span in spans {
            let Some(scrap) = pending.take() else {
                if span.2 < small {
                    pending = Some(span)
                } else {
                    out.push(span)
                }
                continue;
            };
            match self.joined(text, scrap, span, target) {
                Some(joined) if joined.2 < small => pending = Some(joined),
                Some(joined) => out.push(joined),
                None => {
                    out.push(scrap);
                    if span.2 < small { pending = Some(span) } else { out.push(span) }
                }
            }
        }
        if let Some(scrap) = pending {
            match out.pop() {
                Some(before) => match self.joined(text, before, scrap, target) {
                    Some(joined) => out.push(joined),
                    None => out.extend([before, scrap]),
                },
                None => out.push(scrap),
            }
        }
        out
    }

    /// The span from `a`'s start to `b`'s end with its token count, if it fits `target`.
    fn joined(
        &self,
        text: &str,
        a: (usize, usize, usize),
        b: (usize, usize, usize),
        target: usize,
    ) -> Option<(usize, usize, usize)> {
        if a.2 + b.2 > target + target / 4 {
            return None;
        }
        let (start, end) = (a.0.min(b.0), a.1.max(b.1));
        let tokens = self.count_tokens(text.get(start..end)?);
        (tokens <= target).then_some((start, end, tokens))
    }
}

fn make_chunk(
    section: &Section,
    index: usize,
    ordinal: u32,
    start: usize,
    text: &str,
    tokens: usize,
) -> Chunk {
    let end = start + text.len();
    Chunk {
        ordinal,
        section: u32::try_from(index).unwrap_or(u32::MAX),
        text: text.to_string(),
        heading_path: section.heading_path.clone(),
        anchor: section.anchor.clone(),
        page_start: section.page_at(start),
        page_end: section.page_at(end.saturating_sub(1).max(start)),
        char_start: start,
        char_end: end,
        tokens: u32::try_from(tokens).unwrap_or(u32::MAX),
        language: None,
        line_start: None,
        line_end: None,
        ocr: section.ocr_in(start, end),
    }
}

/// The source lines of a section read as lines: where each of its lines starts.
struct LineIndex {
    first: u32,
    newlines: Vec<usize>,
}

impl LineIndex {
    /// The index of a section with a first line, else `None`.
    fn of(section: &Section) -> Option<LineIndex> {
        let first = section.line?;
        Some(LineIndex { first, newlines: section.text.match_indices('\n').map(|(i, _)| i).collect() })
    }

    /// The source line that byte `offset` of the section's text is on.
    fn line_at(&self, offset: usize) -> Option<u32> {
        let before = u32::try_from(self.newlines.partition_point(|&n| n < offset)).ok()?;
        self.first.checked_add(before)
    }
}

/// Smallest window a long section is cut into before splitting, in bytes.
const MIN_WINDOW_BYTES: usize = 64 * 1024;

/// Bytes of window per token of the target size: a window holds some 64 chunks of Latin text.
const WINDOW_BYTES_PER_TOKEN: usize = 256;

/// The fraction of a window cut from a run of text without any break.
const HARD_CUT_FRACTION: usize = 8;

/// The longest text handed to the splitter in one piece for chunks of `target` tokens.
fn window_bytes(target: usize) -> usize {
    target.saturating_mul(WINDOW_BYTES_PER_TOKEN).max(MIN_WINDOW_BYTES)
}

/// Splits one section's text into (byte offset, piece) pairs, a window at a time (see
/// [`windows`]): `text-splitter` rescans the rest of its text for every chunk it makes, which
/// takes time quadratic in the text's length on a long section (a million lines without a
/// heading, megabytes without a break). No chunk crosses a window's end; the scraps windows may
/// leave at their ends are joined to their neighbours afterwards (`merge_scraps`).
fn split_windows<'t, S: ChunkSizer + Copy>(
    text: &'t str,
    markdown: bool,
    sizer: S,
    target: usize,
    overlap: usize,
    item: &str,
) -> Result<Vec<(usize, &'t str)>> {
    let mut pieces = Vec::new();
    for (start, window) in windows(text, window_bytes(target)) {
        let found = split(window, markdown, sizer, target, overlap, item)?;
        pieces.extend(found.into_iter().map(|(offset, piece)| (start + offset, piece)));
    }
    Ok(pieces)
}

/// Cuts `text` into consecutive (byte offset, slice) windows of at most `max` bytes (a single
/// character longer than that aside), each ending at the best break in its second half: a blank
/// line, else a line break, else a space, else a CJK full stop; else after the last space of its
/// first half; else (a run without any break) at a character boundary an eighth of `max` in.
/// Text of at most `max` bytes is one window.
fn windows(text: &str, max: usize) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    while text.len() - start > max {
        let end = window_end(text, start, max);
        out.push((start, &text[start..end]));
        start = end;
    }
    if start < text.len() {
        out.push((start, &text[start..]));
    }
    out
}

/// Where the window starting at byte `start` of `text` (longer than `max` bytes from there) ends.
fn window_end(text: &str, start: usize, max: usize) -> usize {
    let mut limit = start + max;
    while !text.is_char_boundary(limit) {
        limit -= 1;
    }
    if limit <= start {
        // A character longer than the window is a window of its own.
        return text[start..].chars().next().map_or(text.len(), |c| start + c.len_utf8());
    }
    let mut floor = start + max / 2;
    while !text.is_char_boundary(floor) {
        floor -= 1;
    }
    let tail = &text[floor..limit];
    let after = |at: usize, len: usize| floor + at + len;
    if let Some(at) = tail.rfind("\n\n") {
        return after(at, 2);
    }
    if let Some(at) = tail.rfind('\n') {
        return after(at, 1);
    }
    if let Some((at, c)) = tail.char_indices().rev().find(|(_, c)| c.is_whitespace()) {
        return after(at, c.len_utf8());
    }
    if let Some((at, c)) = tail.char_indices().rev().find(|(_, c)| matches!(c, '。' | '！' | '？' | '．'))
    {
        return after(at, c.len_utf8());
    }
    if let Some((at, c)) = text[start..floor].char_indices().rev().find(|(_, c)| c.is_whitespace()) {
        return start + at + c.len_utf8();
    }
    // A run without a break: the splitter rescans the whole run for words and sentences for
    // every chunk, so it gets a smaller window.
    let mut hard = start + max / HARD_CUT_FRACTION;
    while !text.is_char_boundary(hard) {
        hard -= 1;
    }
    if hard > start {
        hard
    } else {
        text[start..].chars().next().map_or(text.len(), |c| start + c.len_utf8())
    }
}

/// Splits one section's text of `item` into (byte offset, piece) pairs. text-splitter, and a
/// tokenizer sizing the pieces, run under [`crate::guard::catch`]: a panic in them on odd text
/// is an internal error; lore's own estimate runs under [`crate::guard::own`].
fn split<'t, S: ChunkSizer>(
    text: &'t str,
    markdown: bool,
    sizer: S,
    target: usize,
    overlap: usize,
    item: &str,
) -> Result<Vec<(usize, &'t str)>> {
    let err = |reason: String| IngestError::Chunking { item: item.to_string(), reason };
    let capacity = ChunkCapacity::new(target * 3 / 4).with_max(target).map_err(|e| err(e.to_string()))?;
    let config =
        SplitConfig::new(capacity).with_sizer(sizer).with_overlap(overlap).map_err(|e| err(e.to_string()))?;
    crate::guard::catch(item, "text splitter", || {
        if markdown {
            MarkdownSplitter::new(config).chunk_indices(text).collect::<Vec<_>>()
        } else {
            TextSplitter::new(config).chunk_indices(text).collect::<Vec<_>>()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::PageMark;

    fn doc(kind: Kind, sections: Vec<Section>) -> Document {
        Document {
            source: "t".into(),
            url: None,
            kind,
            title: "T".into(),
            authors: vec![],
            language: None,
            published: None,
            hash: String::new(),
            byte_len: 0,
            page_count: None,
            site: None,
            sections,
        }
    }

    fn prose(words: usize, seed: &str) -> String {
        (0..words)
            .map(|i| format!("{seed}{i}"))
            .collect::<Vec<_>>()
            .chunks(12)
            .map(|s| s.join(" ") + ".")
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn chunks_stay_inside_sections_and_carry_headings() {
        let a = Section::new(vec!["Ch 1".into()], prose(600, "alpha"));
        let b = Section::new(vec!["Ch 1".into(), "Part b".into()], prose(50, "beta"));
        let chunks =
            Chunker::estimated(ChunkConfig::default()).chunk(&doc(Kind::Text, vec![a.clone(), b])).unwrap();
        assert!(chunks.len() >= 3, "{}", chunks.len());
        for (i, c) in chunks.iter().enumerate() {
            assert_eq!(c.ordinal as usize, i);
            assert!(c.tokens as usize <= 256, "{}", c.tokens);
            let mixed = c.text.contains("alpha") && c.text.contains("beta");
            assert!(!mixed, "a chunk crossed a section boundary");
        }
        let last = chunks.last().unwrap();
        assert_eq!(last.heading(), "Ch 1 > Part b");
        let first = &chunks[0];
        assert_eq!(&a.text[first.char_start..first.char_end], first.text);
    }

    #[test]
    fn neighbouring_chunks_overlap() {
        let s = Section::new(vec![], prose(800, "w"));
        let chunks = Chunker::estimated(ChunkConfig::default()).chunk(&doc(Kind::Text, vec![s])).unwrap();
        assert!(chunks.len() > 2);
        assert!(chunks[1].char_start < chunks[0].char_end, "no overlap");
    }

    #[test]
    fn chunks_of_text_files_know_their_source_lines() {
        let source = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/data/docs/text/moby-dick/chapter_1.txt"
        ))
        .unwrap();
        let d = crate::text::load(&source, "chapter_1.txt", "chapter_1").unwrap();
        let chunks = Chunker::estimated(ChunkConfig::default()).chunk(&d).unwrap();
        assert!(chunks.len() > 3, "{} chunks", chunks.len());
        let lines: Vec<&str> = source.lines().collect();
        let mut previous = 1;
        for c in &chunks {
            let (a, b) = (c.line_start.unwrap() as usize, c.line_end.unwrap() as usize);
            assert!(previous <= a && a <= b && b <= lines.len(), "{a}-{b} after {previous}");
            // The chunk's first and last lines are those lines of the file.
            let first = c.text.lines().next().unwrap().trim();
            let last = c.text.trim_end().lines().last().unwrap().trim();
            assert!(lines[a - 1].contains(first), "line {a}: {:?} vs {first:?}", lines[a - 1]);
            assert!(lines[b - 1].contains(last), "line {b}: {:?} vs {last:?}", lines[b - 1]);
            previous = a;
        }
        // Formats without lines have none.
        let pdf = Chunker::estimated(ChunkConfig::default())
            .chunk(&doc(Kind::Pdf, vec![Section::new(vec![], prose(300, "p"))]))
            .unwrap();
        assert!(pdf.iter().all(|c| c.line_start.is_none() && c.line_end.is_none()));
    }

    #[test]
    fn page_spans_follow_page_marks() {
        let text = prose(900, "p");
        let mid = text.len() / 2;
        let mid = text[mid..].find(' ').map(|i| mid + i + 1).unwrap();
        let s = Section {
            pages: vec![
                PageMark { offset: 0, page: 7, ocr: false },
                PageMark { offset: mid, page: 8, ocr: false },
            ],
            ..Section::new(vec![], text)
        };
        let chunks = Chunker::estimated(ChunkConfig::default()).chunk(&doc(Kind::Pdf, vec![s])).unwrap();
        assert_eq!(chunks.first().unwrap().page_start, Some(7));
        assert_eq!(chunks.last().unwrap().page_end, Some(8));
        assert!(chunks.iter().any(|c| c.page_start == Some(7) && c.page_end == Some(8)));
        for c in &chunks {
            let expected_start = if c.char_start < mid { 7 } else { 8 };
            assert_eq!(c.page_start, Some(expected_start));
        }
    }

    #[test]
    fn a_short_paragraph_before_a_long_one_is_not_a_chunk_of_its_own() {
        // A paragraph number, then a Japanese paragraph longer than the target, without breaks.
        let text = format!("160\n\n{}", "この章ではビルドの手順について簡単に述べます。".repeat(40));
        let chunks = Chunker::estimated(ChunkConfig::default())
            .chunk(&doc(Kind::Epub, vec![Section::new(vec![], text.clone())]))
            .unwrap();
        assert!(chunks.len() >= 2, "{}", chunks.len());
        assert!(chunks[0].text.starts_with("160\n\n"), "{:?}", chunks[0].text);
        for c in &chunks {
            assert!(c.tokens >= 64 && c.tokens <= 256, "{} tokens: {:?}", c.tokens, c.text);
            assert_eq!(&text[c.char_start..c.char_end], c.text);
        }
    }

    /// Chunks `doc` on another thread, failing if that takes longer than a budget far above
    /// what linear work needs (a quadratic split of the same text takes hours).
    fn chunk_within_budget(chunker: Chunker, doc: Document) -> (Document, Vec<Chunk>) {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let chunks = chunker.chunk(&doc);
            let _ = tx.send((doc, chunks));
        });
        match rx.recv_timeout(std::time::Duration::from_secs(120)) {
            Ok((doc, chunks)) => (doc, chunks.unwrap()),
            Err(e) => panic!("chunking did not finish within 120 s ({e})"),
        }
    }

    /// Checks every chunk of a one-section document: its text is its span of the section, it
    /// fits the target, spans move forward, and only whitespace lies outside all chunks.
    fn assert_valid_chunks(section: &str, chunks: &[Chunk], target: usize) {
        assert!(!chunks.is_empty());
        let mut covered = 0;
        for (i, c) in chunks.iter().enumerate() {
            assert_eq!(c.ordinal as usize, i);
            assert_eq!(section.get(c.char_start..c.char_end), Some(c.text.as_str()), "chunk {i}");
            assert!(c.tokens >= 1 && c.tokens as usize <= target, "chunk {i}: {} tokens", c.tokens);
            if i > 0 {
                assert!(c.char_start > chunks[i - 1].char_start, "chunk {i} does not move forward");
            }
            let gap = section.get(covered.min(c.char_start)..c.char_start).unwrap();
            assert!(gap.trim().is_empty(), "text before chunk {i} is in no chunk: {gap:?}");
            covered = covered.max(c.char_end);
        }
        assert!(section[covered..].trim().is_empty(), "the end of the section is in no chunk");
    }

    #[test]
    fn a_million_lines_without_headings_chunk_in_bounded_time() {
        let text: String = (0..1_000_000).map(|i| format!("line {i} of words\n")).collect();
        for kind in [Kind::Text, Kind::Markdown] {
            let d = doc(kind, vec![Section::new(vec![], text.clone())]);
            let (d, chunks) = chunk_within_budget(Chunker::estimated(ChunkConfig::default()), d);
            assert_valid_chunks(&d.sections[0].text, &chunks, 256);
            // Windows only add a few short chunks at their ends: nearly all chunks are full.
            let small = chunks.iter().filter(|c| c.tokens < 64).count();
            assert!(small * 100 < chunks.len(), "{small} of {} chunks under 64 tokens", chunks.len());
        }
    }

    #[test]
    fn a_two_megabyte_word_chunks_in_bounded_time() {
        let word: String = "abcdefghijklmnopqrstuvwxyz".chars().cycle().take(2 * 1024 * 1024).collect();
        for kind in [Kind::Text, Kind::Markdown] {
            let d = doc(kind, vec![Section::new(vec![], word.clone())]);
            let (d, chunks) = chunk_within_budget(Chunker::estimated(ChunkConfig::default()), d);
            assert_valid_chunks(&d.sections[0].text, &chunks, 256);
            assert!(chunks.len() >= word.len() / 1024, "{} chunks", chunks.len());
        }
    }

    #[test]
    fn windows_cut_long_text_at_the_best_break() {
        let max = 64;
        // Blank lines first, then line breaks, then spaces, then CJK full stops, else anywhere.
        for (text, cut) in [
            (format!("{}\n\n{}\n{}", "a".repeat(40), "b".repeat(10), "c".repeat(40)), "\n\n"),
            (format!("{}\n{} {}", "a".repeat(40), "b".repeat(10), "c".repeat(40)), "\n"),
            (format!("{} {}。{}", "a".repeat(40), "b".repeat(10), "c".repeat(40)), " "),
            (format!("{}。{}", "語".repeat(15), "語".repeat(20)), "。"),
        ] {
            let w = windows(&text, max);
            assert!(w[0].1.ends_with(cut), "{cut:?}: {:?}", w[0].1);
        }
        // A break in the first half only; none at all.
        let text = format!("{} {}", "a".repeat(20), "b".repeat(60));
        assert_eq!(windows(&text, max)[0], (0, &text[..21]));
        let word = "é".repeat(100);
        let w = windows(&word, max);
        assert_eq!(w[0], (0, "éééé"));
        assert_eq!(w.iter().map(|(_, s)| *s).collect::<String>(), word);
        for (start, s) in &w {
            assert!(s.len() <= max && !s.is_empty());
            assert_eq!(&word[*start..*start + s.len()], *s);
        }
        assert_eq!(windows("short", max), vec![(0, "short")]);
        assert_eq!(windows("", max), vec![]);
        // A character longer than the window is a window of its own.
        assert_eq!(windows("語語", 2), vec![(0, "語"), (3, "語")]);
    }

    #[test]
    fn cjk_text_is_split_without_spaces() {
        let han: String = "我们使用人工智能来理解文档并回答问题。".repeat(200);
        let chunks = Chunker::estimated(ChunkConfig::default())
            .chunk(&doc(Kind::Text, vec![Section::new(vec![], han)]))
            .unwrap();
        assert!(chunks.len() > 5);
        assert!(chunks.iter().all(|c| c.tokens <= 256));
    }
}
