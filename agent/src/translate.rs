//! Questions across languages: a question in another language than the library's (a Chinese
//! question over English books) matches no keyword, so it is translated into the library's main
//! languages with one short call to the chat model and each version is searched
//! ([`crate::retrieve::retrieve_all`]). Used by `ask` with `ask.translate` and by
//! `lore search --translate`.

use std::time::Duration;

use lore_index::Library;

use crate::chat::{ChatModel, Message};
use crate::words::has_cjk;

/// A library language counts as a main one from this share of its chunks.
const MAIN_SHARE: f64 = 0.2;

/// Most languages a question is translated into.
const MAX_TARGETS: usize = 2;

/// Longest translation kept, in characters (a model that answers instead of translating writes
/// more).
const MAX_CHARS: usize = 300;

/// The English name of a language the chat model is asked to translate into.
pub fn language_name(code: &str) -> Option<&'static str> {
    Some(match code {
        "en" => "English",
        "zh" => "Simplified Chinese",
        "ja" => "Japanese",
        "ko" => "Korean",
        "de" => "German",
        "fr" => "French",
        "es" => "Spanish",
        "it" => "Italian",
        "pt" => "Portuguese",
        "ru" => "Russian",
        "nl" => "Dutch",
        _ => return None,
    })
}

/// The library's main languages: those of at least a fifth of its chunks, most first.
pub fn main_languages(library: &Library) -> Vec<String> {
    let Ok(counts) = library.catalog().chunk_languages() else { return Vec::new() };
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    counts
        .into_iter()
        .filter(|(_, n)| total > 0 && *n as f64 / total as f64 >= MAIN_SHARE)
        .filter_map(|(lang, _)| lang)
        .collect()
}

/// The languages to translate a question in `question_language` into: the `main` languages it
/// is not in, those the model can be asked for, at most two. None when the question's language
/// is not known or is a main one.
pub fn targets(question_language: Option<&str>, main: &[String]) -> Vec<String> {
    let Some(q) = question_language else { return Vec::new() };
    if main.iter().any(|m| m == q) {
        return Vec::new();
    }
    main.iter().filter(|m| language_name(m).is_some()).take(MAX_TARGETS).cloned().collect()
}

/// The request for a translation of `question` into `language` (a name).
pub fn translation_messages(question: &str, language: &str) -> Vec<Message> {
    vec![
        Message::system(format!(
            "Translate the user's search question into {language}. Keep names, commands and code as they \
             are. Reply with the translation only, on one line."
        )),
        Message::user(question.trim().to_string()),
    ]
}

/// The translation in a model's reply: its first line, without quotes or a label; `None` when
/// it is empty, too long, the question unchanged, or still in a CJK script when asked for a
/// language that is not.
pub fn clean_translation(raw: &str, question: &str, target: &str) -> Option<String> {
    let line = raw.lines().map(str::trim).find(|l| !l.is_empty())?;
    let line = line
        .split_once(':')
        .filter(|(label, _)| label.chars().count() <= 12 && label.to_lowercase().contains("translation"))
        .map_or(line, |(_, rest)| rest)
        .trim()
        .trim_matches(|c| matches!(c, '"' | '\'' | '`' | '“' | '”' | '「' | '」'))
        .trim();
    if line.is_empty() || line.chars().count() > MAX_CHARS || line == question.trim() {
        return None;
    }
    let cjk_target = matches!(target, "zh" | "ja" | "ko");
    if !cjk_target && has_cjk(line) {
        return None;
    }
    Some(line.to_string())
}

/// `question` translated into each of `targets` (ISO 639-1 codes) by `chat`, each within
/// `timeout`; a translation that fails or is unusable is left out.
pub async fn translate(
    chat: &ChatModel,
    question: &str,
    targets: &[String],
    timeout: Duration,
) -> Vec<String> {
    let mut out = Vec::new();
    for target in targets {
        let Some(name) = language_name(target) else { continue };
        let messages = translation_messages(question, name);
        if let Ok(Ok(raw)) = tokio::time::timeout(timeout, chat.complete(&messages, 96)).await
            && let Some(t) = clean_translation(&raw, question, target)
        {
            out.push(t);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_question_is_translated_into_the_main_languages_it_is_not_in() {
        let main = vec!["en".to_string(), "de".to_string(), "xx".to_string()];
        assert_eq!(targets(Some("zh"), &main), vec!["en", "de"]);
        assert!(targets(Some("en"), &main).is_empty());
        assert!(targets(None, &main).is_empty());
        assert!(targets(Some("zh"), &[]).is_empty());
    }

    #[test]
    fn replies_are_cleaned_or_refused() {
        let q = "为什么 Python 用缩进来划分语句块？";
        assert_eq!(
            clean_translation("\"Why does Python use indentation to group statements?\"\n", q, "en")
                .as_deref(),
            Some("Why does Python use indentation to group statements?")
        );
        assert_eq!(
            clean_translation("Translation: Why does Python use indentation?", q, "en").as_deref(),
            Some("Why does Python use indentation?")
        );
        assert_eq!(clean_translation(q, q, "en"), None, "unchanged");
        assert_eq!(clean_translation("为什么用缩进", q, "en"), None, "still Chinese");
        assert_eq!(clean_translation("", q, "en"), None);
        assert_eq!(clean_translation(&"x".repeat(400), q, "en"), None);
        assert_eq!(
            clean_translation("なぜ Python はインデントを使うのか", q, "ja").as_deref(),
            Some("なぜ Python はインデントを使うのか")
        );
    }
}
