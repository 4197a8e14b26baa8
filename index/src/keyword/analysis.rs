//! Tokenizers for text in Chinese, Japanese and Korean, which write words without spaces.
//!
//! Text is cut into runs: CJK letters (Han, kana, Hangul), other letters and digits, and the
//! rest (spaces, punctuation), which separates. Runs of other letters and digits are words, as
//! tantivy's simple tokenizer makes them, so English names and commands inside CJK text are
//! found as in English text. CJK runs are segmented:
//! - [`CjkSegmenter::Jieba`]: into Chinese words with jieba's dictionary (shipped inside the
//!   `jieba-rs` crate), in its search mode, which also yields the dictionary words inside a long
//!   word (`中华人民共和国` also gives `中华`, `人民`, `共和国`);
//! - [`CjkSegmenter::Bigrams`]: into overlapping pairs of characters (`日本語` gives `日本`,
//!   `本語`), as Lucene's CJK analyzer does. It needs no dictionary and finds any word of two or
//!   more characters; a run of one character is kept as it is.
//!
//! The same tokenizer analyses the text and the query, so both are cut the same way.

use std::sync::OnceLock;

use jieba_rs::Jieba;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// How CJK runs are cut into terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CjkSegmenter {
    /// Chinese words from jieba's dictionary.
    Jieba,
    /// Overlapping character pairs.
    Bigrams,
}

/// A tokenizer for CJK text with Latin words in it (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct CjkTokenizer {
    segmenter: CjkSegmenter,
}

impl CjkTokenizer {
    /// A tokenizer that cuts CJK runs with `segmenter`.
    pub(crate) fn new(segmenter: CjkSegmenter) -> Self {
        CjkTokenizer { segmenter }
    }
}

/// The tokens of one text, handed out one by one.
#[derive(Debug)]
pub(crate) struct CjkTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

impl TokenStream for CjkTokenStream {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next.saturating_sub(1).min(self.tokens.len().saturating_sub(1))]
    }

    fn token_mut(&mut self) -> &mut Token {
        let at = self.next.saturating_sub(1).min(self.tokens.len().saturating_sub(1));
        &mut self.tokens[at]
    }
}

impl Tokenizer for CjkTokenizer {
    type TokenStream<'a> = CjkTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> CjkTokenStream {
        let mut tokens = Vec::new();
        for run in runs(text) {
            match run.class {
                Class::Word => push(&mut tokens, text, run.start, run.end),
                Class::Cjk => match self.segmenter {
                    CjkSegmenter::Bigrams => bigrams(&mut tokens, text, run.start, run.end),
                    CjkSegmenter::Jieba => jieba_words(&mut tokens, text, run.start, run.end),
                },
                Class::Separator => {}
            }
        }
        // A stream is never empty of slots: `token()` before the first `advance()` must not panic.
        if tokens.is_empty() {
            return CjkTokenStream { tokens: vec![Token::default()], next: 1 };
        }
        CjkTokenStream { tokens, next: 0 }
    }
}

/// Whether `c` is a letter of a CJK script: Han, hiragana, katakana or Hangul.
pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9D
        | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF
        | 0x1100..=0x11FF | 0x3130..=0x318F | 0xAC00..=0xD7AF)
        // The prolonged sound mark and iteration marks are letters of Japanese words.
        || matches!(c, 'ー' | '々' | '〆')
}

/// Whether `text` holds any CJK letter.
pub(crate) fn has_cjk(text: &str) -> bool {
    text.chars().any(is_cjk)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Cjk,
    Word,
    Separator,
}

#[derive(Debug, Clone, Copy)]
struct Run {
    class: Class,
    start: usize,
    end: usize,
}

fn class_of(c: char) -> Class {
    if is_cjk(c) {
        Class::Cjk
    } else if c.is_alphanumeric() {
        Class::Word
    } else {
        Class::Separator
    }
}

/// `text` cut into maximal runs of one class, as byte ranges.
fn runs(text: &str) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    for (i, c) in text.char_indices() {
        let class = class_of(c);
        let end = i + c.len_utf8();
        match out.last_mut() {
            Some(run) if run.class == class => run.end = end,
            _ => out.push(Run { class, start: i, end }),
        }
    }
    out
}

fn push(tokens: &mut Vec<Token>, text: &str, start: usize, end: usize) {
    let Some(word) = text.get(start..end) else { return };
    tokens.push(Token {
        offset_from: start,
        offset_to: end,
        position: tokens.len(),
        text: word.to_string(),
        position_length: 1,
    });
}

/// Overlapping character pairs of the CJK run `text[start..end]`; a single character alone.
fn bigrams(tokens: &mut Vec<Token>, text: &str, start: usize, end: usize) {
    let Some(run) = text.get(start..end) else { return };
    let bounds: Vec<usize> = run.char_indices().map(|(i, _)| start + i).chain(std::iter::once(end)).collect();
    if bounds.len() <= 2 {
        push(tokens, text, start, end);
        return;
    }
    for pair in bounds.windows(3) {
        push(tokens, text, pair[0], pair[2]);
    }
}

/// jieba's dictionary, loaded on first use (it takes a moment, and text without Chinese never
/// needs it).
fn jieba() -> &'static Jieba {
    static JIEBA: OnceLock<Jieba> = OnceLock::new();
    JIEBA.get_or_init(Jieba::new)
}

/// The words jieba finds in the CJK run `text[start..end]`, in its search mode.
fn jieba_words(tokens: &mut Vec<Token>, text: &str, start: usize, end: usize) {
    let Some(run) = text.get(start..end) else { return };
    let base = run.as_ptr() as usize;
    for word in jieba().cut_for_search(run, true) {
        // jieba's words are slices of the run: their place in it is their address's distance.
        let from = (word.as_ptr() as usize).wrapping_sub(base);
        if from > run.len() || word.is_empty() {
            continue;
        }
        push(tokens, text, start + from, start + from + word.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(segmenter: CjkSegmenter, text: &str) -> Vec<String> {
        let mut tok = CjkTokenizer::new(segmenter);
        let mut stream = tok.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            let t = stream.token();
            assert_eq!(&text[t.offset_from..t.offset_to], t.text, "offsets must locate the term");
            out.push(t.text.clone());
        }
        out
    }

    #[test]
    fn bigrams_pair_characters_and_keep_latin_words() {
        assert_eq!(terms(CjkSegmenter::Bigrams, "日本語の文書"), ["日本", "本語", "語の", "の文", "文書"]);
        assert_eq!(terms(CjkSegmenter::Bigrams, "本"), ["本"]);
        assert_eq!(
            terms(CjkSegmenter::Bigrams, "lb config を実行、ISOを作る"),
            ["lb", "config", "を実", "実行", "ISO", "を作", "作る"]
        );
        assert!(terms(CjkSegmenter::Bigrams, "、。 ！").is_empty());
    }

    #[test]
    fn jieba_finds_chinese_words_and_their_parts() {
        let t = terms(CjkSegmenter::Jieba, "我们使用人工智能来理解文档");
        for word in ["我们", "使用", "人工", "智能", "人工智能", "理解", "文档"] {
            assert!(t.contains(&word.to_string()), "{word} missing from {t:?}");
        }
        let t = terms(CjkSegmenter::Jieba, "用ChatGPT写作");
        assert!(t.contains(&"ChatGPT".to_string()) && t.contains(&"写作".to_string()), "{t:?}");
    }

    #[test]
    fn an_empty_stream_does_not_panic() {
        let mut tok = CjkTokenizer::new(CjkSegmenter::Bigrams);
        let mut stream = tok.token_stream("");
        assert!(!stream.advance());
        let _ = stream.token();
    }
}
