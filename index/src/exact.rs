//! Exact matches kept in hybrid results.
//!
//! Convex fusion weighs the vectors at 0.8 (the natural-language questions of every evaluation
//! set score best there), so a chunk only the keyword search finds, however exactly, can fall out
//! of the hybrid top 10: `apt-mark showmanual` over the Debian Reference ranked its only exact
//! match 9th. A query that asks for something verbatim (a quoted phrase, a code identifier such as
//! `Py_BuildValue()`, `list.sort`, `--symbolic-full-name` or `ManyToManyField`, or a short
//! keyword-style query such as `apt-mark showmanual`) names [`ExactTerms`]; the best keyword hit
//! holding all of them is then kept within the first [`ANCHOR_RANK`] hybrid results. Questions
//! without such terms are fused unchanged.

/// The rank (from 1) a hybrid search keeps the best exact keyword match at or above.
pub const ANCHOR_RANK: usize = 3;

/// How many of the keyword list's first hits are looked at for an exact match.
pub const ANCHOR_CANDIDATES: usize = 10;

/// A query of at most this many words, not a question, is a keyword-style query: all its words
/// are asked for verbatim.
const SHORT_QUERY_WORDS: usize = 4;

/// Words that open an English question: a query starting with one is a question, not a list of
/// keywords.
const QUESTION_WORDS: &[&str] = &[
    "how", "what", "why", "when", "where", "which", "who", "whom", "whose", "can", "could", "should",
    "would", "is", "are", "do", "does", "did", "will", "may", "might", "i", "my",
];

/// What a query asks to find verbatim, lowercased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExactTerms(Vec<String>);

impl ExactTerms {
    /// The terms a query asks for verbatim, or `None` when it asks for nothing verbatim: its
    /// quoted phrases and code identifiers; failing those, all its words when it is a short
    /// keyword-style query (at most four words, no question mark, not opening with a question
    /// word).
    pub fn of(query: &str) -> Option<ExactTerms> {
        let mut terms = quoted(query);
        let unquoted = without_quotes(query);
        terms.extend(
            unquoted.split_whitespace().map(trim_word).filter(|w| is_identifier(w)).map(str::to_string),
        );
        if terms.is_empty() {
            let words: Vec<&str> =
                unquoted.split_whitespace().map(trim_word).filter(|w| !w.is_empty()).collect();
            let question = query.contains(['?', '？'])
                || words.first().is_some_and(|w| QUESTION_WORDS.contains(&w.to_lowercase().as_str()));
            if !words.is_empty() && words.len() <= SHORT_QUERY_WORDS && !question {
                terms = words.iter().map(|w| w.to_string()).collect();
            }
        }
        let mut terms: Vec<String> =
            terms.into_iter().map(|t| squash(&t.to_lowercase())).filter(|t| !t.is_empty()).collect();
        terms.sort();
        terms.dedup();
        (!terms.is_empty()).then_some(ExactTerms(terms))
    }

    /// The code identifiers `text` names (`snake_case`, `call()`, `module.name`, `--option`,
    /// `camelCase`, ...; see [`ExactTerms::of`]), lowercased, or `None` when it names none. A
    /// claim naming identifiers is about those things: a passage that names none of them does not
    /// support it, however many other words they share.
    pub fn code_terms(text: &str) -> Option<ExactTerms> {
        let mut terms: Vec<String> = text
            .split(|c: char| c.is_whitespace() || is_wide(c))
            .map(trim_word)
            .filter(|w| is_identifier(w) && w.chars().any(char::is_alphabetic) && !is_word_pair(w))
            .map(str::to_lowercase)
            .collect();
        terms.sort();
        terms.dedup();
        (!terms.is_empty()).then_some(ExactTerms(terms))
    }

    /// How many of the terms `text` holds (as [`ExactTerms::held_by`] reads them).
    pub fn held_in(&self, text: &str) -> usize {
        let text = squash(&text.to_lowercase());
        self.0.iter().filter(|t| holds(&text, t)).count()
    }

    /// The terms.
    pub fn terms(&self) -> &[String] {
        &self.0
    }

    /// Whether `text` holds every term, ignoring case and runs of white space; a term that
    /// starts or ends with a letter or digit must start or end a word there.
    pub fn held_by(&self, text: &str) -> bool {
        let text = squash(&text.to_lowercase());
        self.0.iter().all(|t| holds(&text, t))
    }
}

/// Moves the entry of `ranked` with id `anchor` up to index `ANCHOR_RANK - 1` when it sits lower,
/// giving it the score of the entry it passes so the scores stay in order. `id` and `score` read
/// and write an entry's id and score.
pub fn keep_within_top<T>(
    ranked: &mut Vec<T>,
    anchor: i64,
    id: impl Fn(&T) -> i64,
    score: impl Fn(&mut T) -> &mut f32,
) {
    let slot = ANCHOR_RANK - 1;
    let Some(at) = ranked.iter().position(|x| id(x) == anchor) else { return };
    if at <= slot || slot >= ranked.len() {
        return;
    }
    let mut item = ranked.remove(at);
    *score(&mut item) = *score(&mut ranked[slot]);
    ranked.insert(slot, item);
}

/// The texts between straight or curly double quotes.
fn quoted(query: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut open: Option<usize> = None;
    for (i, c) in query.char_indices() {
        match (c, open) {
            ('"' | '“', None) => open = Some(i + c.len_utf8()),
            ('"' | '”', Some(start)) => {
                out.push(query[start..i].trim().to_string());
                open = None;
            }
            _ => {}
        }
    }
    out
}

/// `query` with its quoted phrases left out.
fn without_quotes(query: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in query.chars() {
        match c {
            '"' => inside = !inside,
            '“' => inside = true,
            '”' => inside = false,
            _ if !inside => out.push(c),
            _ => {}
        }
    }
    out
}

/// A word without the punctuation around it; a leading `-` or `--` (an option) stays.
fn trim_word(w: &str) -> &str {
    let w = w.trim_end_matches(|c: char| !(c.is_alphanumeric() || c == ')' || c == '_'));
    let w = w.trim_start_matches(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_'));
    // A closing parenthesis stays only as part of `()`.
    if w.ends_with(')') && !w.ends_with("()") { w.trim_end_matches(')') } else { w }
}

/// Whether a word reads as code: `snake_case`, `call()`, `a::b`, `path/to`, `module.name`,
/// `--option`, `camelCase` or `PascalCase` with an inner capital.
/// Whether `c` is a CJK letter or full-width punctuation: Chinese and Japanese write no spaces,
/// so these end a word (`ChatGPT的训练过程` names `ChatGPT`).
fn is_wide(c: char) -> bool {
    matches!(c as u32, 0x2E80..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFFEF)
}

fn is_identifier(w: &str) -> bool {
    let chars: Vec<char> = w.chars().collect();
    if chars.len() < 2 {
        return false;
    }
    let inner = |c: char| {
        chars
            .windows(3)
            .any(|x| x[1] == c && x[0].is_alphanumeric() && (x[2].is_alphanumeric() || x[2] == '_'))
    };
    let option = w.starts_with('-')
        && w.trim_start_matches('-').chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    let inner_capital = chars.windows(2).any(|x| x[0].is_lowercase() && x[1].is_uppercase());
    // A dotted name has parts of two or more characters (`os.path`, not `e.g` or `1.2`).
    let dotted = inner('.') && {
        let parts: Vec<&str> = w.trim_end_matches("()").split('.').collect();
        parts.iter().all(|p| p.chars().count() >= 2)
            && parts.iter().any(|p| p.chars().any(char::is_alphabetic))
    };
    w.contains('_')
        || w.ends_with("()")
        || w.contains("::")
        || inner('/')
        || dotted
        || option
        || inner_capital
}

/// Whether `w` is two words joined by a slash ("tables/indices", "read/write", "C/C++"): prose
/// in a claim, not a path or a name.
fn is_word_pair(w: &str) -> bool {
    let word = |p: &str| {
        let letters = p.trim_end_matches('+');
        !letters.is_empty() && letters.chars().all(char::is_alphabetic)
    };
    matches!(w.split_once('/'), Some((a, b)) if word(a) && word(b))
}

/// `s` with every run of white space made one space, trimmed.
fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether `text` holds `term` with word edges where the term has them.
fn holds(text: &str, term: &str) -> bool {
    let edge = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
    let word_start = term.chars().next().is_some_and(char::is_alphanumeric);
    let word_end = term.chars().last().is_some_and(char::is_alphanumeric);
    // Scripts written without spaces (Chinese, Japanese) have no word edges to ask for.
    let spaced = |c: char| c.is_ascii() || !c.is_alphabetic() || is_spaced_script(c);
    let mut from = 0;
    while let Some(at) = text[from..].find(term).map(|i| i + from) {
        let before = text[..at].chars().next_back();
        let after = text[at + term.len()..].chars().next();
        let start_ok = !word_start || before.is_none_or(|c| !spaced(c)) || edge(before);
        let end_ok = !word_end || after.is_none_or(|c| !spaced(c)) || edge(after);
        if start_ok && end_ok {
            return true;
        }
        from = at + text[at..].chars().next().map_or(1, char::len_utf8);
    }
    false
}

/// Whether `c` belongs to a script that separates words with spaces (Latin, Greek, Cyrillic and
/// the like), as opposed to CJK ideographs, kana and Thai.
fn is_spaced_script(c: char) -> bool {
    !matches!(c as u32,
        0x0E00..=0x0EFF // Thai, Lao
        | 0x3040..=0x30FF // kana
        | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF // ideographs
        | 0xAC00..=0xD7AF // Hangul syllables: spaced, but often matched inside compounds
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(q: &str) -> Vec<String> {
        ExactTerms::of(q).map(|t| t.terms().to_vec()).unwrap_or_default()
    }

    #[test]
    fn quoted_phrases_identifiers_and_keyword_queries_are_asked_for_verbatim() {
        assert_eq!(terms("apt-mark showmanual"), ["apt-mark", "showmanual"]);
        assert_eq!(terms("how to list \"manually installed\" packages"), ["manually installed"]);
        assert_eq!(terms("How do I use Py_BuildValue() to create a tuple?"), ["py_buildvalue()"]);
        assert_eq!(terms("Why doesn’t list.sort() return the sorted list?"), ["list.sort()"]);
        assert_eq!(terms("what does git rev-parse --symbolic-full-name do?"), ["--symbolic-full-name"]);
        assert_eq!(terms("My “list_filter” contains a ManyToManyField"), ["list_filter", "manytomanyfield"]);
        assert_eq!(terms("普通用户"), ["普通用户"]);
    }

    #[test]
    fn questions_and_prose_ask_for_nothing_verbatim() {
        assert!(ExactTerms::of("Why are floating-point calculations so inaccurate?").is_none());
        assert!(ExactTerms::of("How do I install packages").is_none());
        assert!(ExactTerms::of("does Django scale").is_none());
        assert!(ExactTerms::of("the dynamically-generated admin site is too slow to use").is_none());
        assert!(ExactTerms::of("I think I've found a bug. What should I do?").is_none());
        assert!(ExactTerms::of("   ").is_none());
        assert!(
            ExactTerms::of("the end of a sentence. then more words").is_none(),
            "a full stop is not a dotted name"
        );
    }

    #[test]
    fn claims_name_code_identifiers() {
        let t = ExactTerms::code_terms(
            "Use `jsonb_extract()` with the jsonb_extract_path function, e.g. like os.path does.",
        )
        .unwrap();
        assert_eq!(t.terms(), ["jsonb_extract()", "jsonb_extract_path", "os.path"]);
        assert_eq!(t.held_in("json_extract() reads JSON; os.path joins paths"), 1);
        assert!(ExactTerms::code_terms("Version 3.11 is out, i.e. now.").is_none());
        assert!(ExactTerms::code_terms("To list all tables/indices, read/write them from C/C++.").is_none());
        assert_eq!(ExactTerms::code_terms("Edit usr/local/bin and src/main.rs").unwrap().terms().len(), 2);
        // Chinese writes no spaces: the identifier ends where the Chinese text starts.
        let zh = ExactTerms::code_terms("ChatGPT的训练过程分为三个阶段：预训练、微调和 os.path。").unwrap();
        assert_eq!(zh.terms(), ["chatgpt", "os.path"]);
        assert_eq!(zh.held_in("ChatGPT使用了基于变分自编码器的技术"), 1);
    }

    #[test]
    fn terms_are_held_as_words_ignoring_case_and_spacing() {
        let t = ExactTerms::of("apt-mark showmanual").unwrap();
        assert!(t.held_by("Use `apt-mark\n  ShowManual` to list them."));
        assert!(!t.held_by("apt-mark showmanually"), "a longer word is not the term");
        assert!(!t.held_by("apt-mark only"));
        let p = ExactTerms::of("\"tail  call\"").unwrap();
        assert!(p.held_by("A tail\ncall is..."));
        assert!(!p.held_by("tail calls"));
        let zh = ExactTerms::of("普通用户").unwrap();
        assert!(zh.held_by("以普通用户身份登录"), "no word edges in Chinese text");
        let opt = ExactTerms::of("--symbolic-full-name").unwrap();
        assert!(opt.held_by("git rev-parse --symbolic-full-name HEAD"));
    }

    #[test]
    fn an_anchor_moves_up_to_the_third_place_with_the_score_it_passes() {
        let mut ranked = vec![(1, 0.9f32), (2, 0.8), (3, 0.7), (4, 0.6), (5, 0.5)];
        keep_within_top(&mut ranked, 5, |x| x.0, |x| &mut x.1);
        assert_eq!(ranked, [(1, 0.9), (2, 0.8), (5, 0.7), (3, 0.7), (4, 0.6)]);
        let before = ranked.clone();
        keep_within_top(&mut ranked, 2, |x| x.0, |x| &mut x.1);
        assert_eq!(ranked, before, "an anchor already in the top three stays");
        keep_within_top(&mut ranked, 42, |x| x.0, |x| &mut x.1);
        assert_eq!(ranked, before, "an id not in the list changes nothing");
    }
}
