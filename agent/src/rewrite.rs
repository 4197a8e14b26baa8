//! Checking the chat model's rewrite of a follow-up question before it is searched.
//!
//! A small model sometimes answers the rewrite request with something that is not the question
//! at all: code (`SELECT "CanCopyTextOut` for "stop people copying text?"), an answer, the
//! question in another language, or a fragment. Such a rewrite is rejected and the library is
//! searched with the previous question and the follow-up together ([`fallback_query`]).

use std::collections::HashSet;

use crate::prompt::PastTurn;
use crate::words::{content_words, has_cjk, stems};

/// Why a rewrite was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Too short to be a query.
    TooShort,
    /// Much longer than the question and the previous question together.
    TooLong,
    /// Looks like code, SQL or markup rather than a question.
    Code,
    /// Lost most of the follow-up's own words.
    LostQuestion,
    /// Holds nothing of the conversation (neither the follow-up's words nor the previous
    /// question's).
    LostContext,
    /// In another script or language than the question.
    WrongLanguage,
}

impl Rejection {
    /// A short reason, for logs and tests.
    pub fn as_str(self) -> &'static str {
        match self {
            Rejection::TooShort => "too short",
            Rejection::TooLong => "too long",
            Rejection::Code => "code, not a question",
            Rejection::LostQuestion => "lost the question's words",
            Rejection::LostContext => "lost the conversation's subject",
            Rejection::WrongLanguage => "in another language",
        }
    }
}

/// Share of `words` found in `pool` (1 when `words` is empty).
fn share(words: &HashSet<String>, pool: &HashSet<String>) -> f32 {
    if words.is_empty() {
        return 1.0;
    }
    words.iter().filter(|w| pool.contains(*w)).count() as f32 / words.len() as f32
}

/// SQL statements a rewrite must not start with (unless the question does).
const SQL_STARTS: &[&str] = &["select ", "insert ", "update ", "delete ", "create ", "drop ", "alter "];

/// Whether `rewrite` looks like code or markup that the conversation did not contain.
fn looks_like_code(rewrite: &str, context: &str) -> bool {
    let lower = rewrite.trim_start().to_lowercase();
    let context_lower = context.to_lowercase();
    if SQL_STARTS.iter().any(|s| lower.starts_with(s) && !context_lower.contains(s.trim())) {
        return true;
    }
    // Characters of code that no question needs, unless the conversation used them.
    for c in ['{', '}', ';', '`', '<', '>', '=', '$', '\\'] {
        if rewrite.contains(c) && !context.contains(c) {
            return true;
        }
    }
    // An unbalanced double quote: a string literal cut off.
    if rewrite.matches('"').count() % 2 == 1 {
        return true;
    }
    // Identifiers (`CanCopyTextOut`, `can_copy`, `doc.save()`) that nobody in the conversation
    // wrote.
    rewrite.split_whitespace().any(|token| {
        let token = token.trim_matches(|c: char| !c.is_alphanumeric() && c != '_');
        let inner_capital = token.chars().skip(1).any(|c| c.is_ascii_uppercase())
            && token.chars().any(|c| c.is_ascii_lowercase())
            && token.len() > 4;
        let snake = token.contains('_');
        (inner_capital || snake) && !context_lower.contains(&token.to_lowercase())
    })
}

/// Checks the model's `rewrite` of the follow-up `question` after `history` (oldest first);
/// `Ok(rewrite)` when it can be searched.
pub fn check(question: &str, history: &[PastTurn], rewrite: &str) -> Result<String, Rejection> {
    let rewrite = rewrite.trim();
    let previous = history.last().map(|t| t.question.as_str()).unwrap_or_default();
    let answer = history.last().map(|t| t.answer.as_str()).unwrap_or_default();
    if rewrite.chars().filter(|c| c.is_alphanumeric()).count() < 2 {
        return Err(Rejection::TooShort);
    }
    let (q, p, r) = (stems(question), stems(previous), stems(rewrite));
    let longest = (content_words(question).len() + content_words(previous).len()) * 2 + 8;
    if content_words(rewrite).len() > longest || rewrite.chars().count() > 400 {
        return Err(Rejection::TooLong);
    }
    let context = format!("{previous}\n{question}\n{answer}");
    if looks_like_code(rewrite, &context) {
        return Err(Rejection::Code);
    }
    if has_cjk(question) != has_cjk(rewrite) {
        return Err(Rejection::WrongLanguage);
    }
    if let (Some(a), Some(b)) = (lore_index::query_language(question), lore_index::query_language(rewrite))
        && a != b
    {
        return Err(Rejection::WrongLanguage);
    }
    // The follow-up's own words must mostly survive: they are what is asked now.
    if share(&q, &r) < 0.5 {
        return Err(Rejection::LostQuestion);
    }
    // Something of the conversation must be there: the follow-up's words, or the subject the
    // previous question or answer gave it.
    let mut conversation = p.clone();
    conversation.extend(stems(answer));
    if !q.iter().chain(p.iter()).any(|w| r.contains(w)) && !r.iter().any(|w| conversation.contains(w)) {
        return Err(Rejection::LostContext);
    }
    Ok(rewrite.to_string())
}

/// The query searched when there is no usable rewrite of a follow-up: the previous question
/// followed by the follow-up (the follow-up alone when there is no history).
pub fn fallback_query(question: &str, history: &[PastTurn]) -> String {
    match history.last() {
        Some(t) if !t.question.trim().is_empty() => format!("{} {}", t.question.trim(), question.trim()),
        _ => question.trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(q: &str, a: &str) -> Vec<PastTurn> {
        vec![PastTurn { question: q.into(), answer: a.into() }]
    }

    #[test]
    fn sql_and_identifiers_nobody_wrote_are_rejected() {
        let h = turn("How do I encrypt a PDF with a password?", "Use the encrypt option of the canvas [1].");
        // What the local model answered for this follow-up.
        assert_eq!(check("stop people copying text?", &h, "SELECT \"CanCopyTextOut"), Err(Rejection::Code));
        assert_eq!(check("stop people copying text?", &h, "SELECT canCopy FROM pdf"), Err(Rejection::Code));
        assert_eq!(check("and tuples?", &h, "x = tuple(); print(x)"), Err(Rejection::Code));
        assert!(
            check("stop people copying text?", &h, "how to stop people copying text from an encrypted PDF")
                .is_ok()
        );
    }

    #[test]
    fn what_the_local_model_answered_is_rejected() {
        // Rewrites Qwen2.5-0.5B-Instruct gave for these conversations.
        let h = turn(
            "How do I encrypt a PDF with a password in ReportLab?",
            "Use pdfencrypt.StandardEncryption with userPassword and ownerPassword; canCopy controls copying [1].",
        );
        assert_eq!(
            check("stop people copying text?", &h, "pdfencrypt.StandardEncryption"),
            Err(Rejection::LostQuestion)
        );
        let h = turn("普通用户如何安装软件包？", "普通用户不能安装软件包，需要使用 sudo apt install [1]。");
        assert_eq!(check("那删除呢？", &h, "sudo apt remove [1]"), Err(Rejection::WrongLanguage));
        let h = turn("How do I undo the last commit in git?", "Use git reset --soft HEAD~1 [1].");
        assert_eq!(
            check("and if I already pushed it?", &h, "git reset --soft HEAD~1"),
            Err(Rejection::LostQuestion)
        );
        let h = turn("What is the GIL?", "The global interpreter lock lets one thread run bytecode [1].");
        assert_eq!(check("can I remove it?", &h, "`global interpreter lock`"), Err(Rejection::Code));
        assert!(check("can I remove it?", &h, "Can I remove the global interpreter lock?").is_ok());
    }

    #[test]
    fn rewrites_that_lose_the_question_are_rejected() {
        let h = turn("Why are Python strings immutable?", "For performance and as dictionary keys [1].");
        assert_eq!(
            check("And tuples?", &h, "Why are Python strings immutable?"),
            Err(Rejection::LostQuestion)
        );
        assert_eq!(
            check("Which toolkits work on Windows?", &h, "Python is a programming language."),
            Err(Rejection::LostQuestion)
        );
        assert!(check("And tuples?", &h, "Why are Python tuples immutable?").is_ok());
        assert_eq!(check("And tuples?", &h, "?"), Err(Rejection::TooShort));
        let rambling = "Tuples are immutable sequences in Python which means that their elements cannot be changed after creation and this is useful for many reasons including hashing dictionary keys performance memory safety and more";
        assert_eq!(check("And tuples?", &h, rambling), Err(Rejection::TooLong));
    }

    #[test]
    fn rewrites_in_another_language_are_rejected() {
        let h = turn("普通用户如何安装软件包？", "使用 sudo [1]。");
        assert_eq!(
            check("那么删除呢？", &h, "How do ordinary users remove packages?"),
            Err(Rejection::WrongLanguage)
        );
        assert!(check("那么删除呢？", &h, "普通用户如何删除软件包？").is_ok());
    }

    #[test]
    fn the_fallback_joins_the_previous_question() {
        let h = turn("How do I encrypt a PDF?", "x");
        assert_eq!(fallback_query(" stop copying? ", &h), "How do I encrypt a PDF? stop copying?");
        assert_eq!(fallback_query("q", &[]), "q");
    }
}
