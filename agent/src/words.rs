//! Content words of a text, for comparing an answer's sentences with their sources and a
//! follow-up's rewrite with the question: lower-cased words of three or more letters without the
//! commonest English words, and single CJK characters without the commonest particles.

use std::collections::HashSet;

/// Words too common to show where a sentence came from.
const STOPWORDS: &[&str] = &[
    "the", "and", "for", "are", "but", "not", "you", "all", "any", "can", "had", "her", "was", "one", "our",
    "out", "has", "have", "been", "from", "that", "this", "with", "they", "will", "would", "there", "their",
    "what", "which", "when", "where", "who", "how", "why", "into", "than", "then", "them", "these", "those",
    "its", "also", "such", "may", "might", "could", "should", "use", "used", "using", "more", "most", "some",
    "other", "about", "only", "very", "just", "because", "each", "does", "did", "your",
];

/// CJK characters too common to show where a sentence came from (particles, pronouns,
/// question words).
const STOP_CHARS: &str = "的了是在呢吗么那这和与或也就都而及吧啊呀我你他她它们个把被给对从到为以之其于如何怎样什些哪のはがをにでともへやかなたてしするま";

/// The content words of a text, in order (see the module docs).
pub fn content_words(text: &str) -> Vec<String> {
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
            if !STOP_CHARS.contains(c) {
                out.push(c.to_string());
            }
        } else if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        } else {
            flush(&mut word, &mut out);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Whether `c` is a letter of a CJK script (Han, kana, Hangul).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF)
}

/// Whether `text` holds a CJK letter.
pub fn has_cjk(text: &str) -> bool {
    text.chars().any(is_cjk)
}

/// A crude English stem, so that `copying` matches `copy` and `files` matches `file`.
pub fn stem(word: &str) -> String {
    if !word.is_ascii() {
        return word.to_string();
    }
    for suffix in ["ing", "ed", "s", "ly"] {
        if let Some(base) = word.strip_suffix(suffix)
            && base.len() >= 3
        {
            return base.to_string();
        }
    }
    word.to_string()
}

/// The stems of the content words of `text`.
pub fn stems(text: &str) -> HashSet<String> {
    content_words(text).iter().map(|w| stem(w)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_words_skip_common_words_and_particles() {
        assert_eq!(content_words("Why are the strings immutable?"), ["strings", "immutable"]);
        assert_eq!(content_words("普通用户的软件包"), ["普", "通", "用", "户", "软", "件", "包"]);
        assert!(stems("copying files").contains("copy") && stems("copying files").contains("file"));
    }
}
