//! Whole-document and chapter questions: whether a question asks about a document, chapter or
//! section as a whole ("summarise chapter 2 of X", "what is this book about", "第二章讲了什么",
//! "总结这本书"), which document it means, and which of its sections that scope covers.
//!
//! [`detect`] reads the question alone and is deliberately narrow: a lookup question ("what
//! does chapter 2 say about lists?", "how do I summarise a table?") is not a scope question.
//! [`resolve`] then finds the document (`--doc`, a title named in the question, or the one
//! document of the library) and the sections; without a document it gives nothing, and the
//! question is answered from retrieved passages as usual.

use lore_index::Library;
use lore_index::catalog::{DocSummary, ListFilter, SectionInfo};

use crate::error::{AgentError, Result};

/// What part of a document a scope question is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The whole document.
    Whole,
    /// A chapter (or part) by number, from 1.
    Chapter(u32),
    /// A numbered section within a chapter: `section 4.2` is `Section(4, 2)`.
    Section(u32, u32),
    /// A section named in quotes.
    Named(String),
}

/// A question about a document or a part of it as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeQuestion {
    /// The part asked about.
    pub target: Target,
    /// Whether the question points at a document without naming it ("this book", "本书").
    pub this_document: bool,
}

/// Words asking for a summary or an overview, matched as whole words in lowercase English.
const INTENT_WORDS_EN: &[&str] = &[
    "summarise",
    "summarize",
    "summarising",
    "summarizing",
    "summary",
    "overview",
    "outline",
    "gist",
    "tl;dr",
    "tldr",
    "recap",
];

/// Phrases asking for a summary or an overview, matched anywhere in lowercase English.
const INTENT_PHRASES_EN: &[&str] =
    &["main points", "key points", "main ideas", "key ideas", "main themes", "key takeaways", "main topics"];

/// What comes last in "what is chapter 2 about?", "what does this book cover?".
const ABOUT_ENDINGS_EN: &[&str] = &[
    "about",
    "cover",
    "covers",
    "discuss",
    "discusses",
    "say",
    "contain",
    "contains",
    "describe",
    "describes",
];

/// Openings that ask what a part holds: "what happens in chapter 3".
const WHAT_IN_EN: &[&str] =
    &["what happens in", "what is in", "what's in", "what is covered in", "what's covered in"];

/// Nouns that point at a document: "this book", "the whole document".
const DOC_NOUNS_EN: &[&str] =
    &["book", "document", "paper", "article", "manual", "guide", "text", "report", "ebook", "novel", "story"];

/// Chinese words asking for a summary or what a part says.
const INTENT_ZH: &[&str] = &[
    "总结",
    "概括",
    "概述",
    "摘要",
    "综述",
    "大意",
    "梗概",
    "主要内容",
    "讲了什么",
    "讲的是什么",
    "讲了些什么",
    "讲什么",
    "说了什么",
    "写了什么",
    "是关于什么",
    "内容是什么",
    "要点",
    "總結",
    "概述一下",
];

/// Chinese phrases pointing at a document: "这本书", "本书", "全书".
const DOC_NOUNS_ZH: &[&str] = &[
    "这本书",
    "本书",
    "全书",
    "整本书",
    "该书",
    "这篇文章",
    "本文",
    "这篇",
    "这个文档",
    "这份文档",
    "本文档",
    "這本書",
];

/// Reads `question` and says whether it asks about a document, chapter or section as a whole.
pub fn detect(question: &str) -> Option<ScopeQuestion> {
    let q = question.trim();
    if q.is_empty() {
        return None;
    }
    if let Some(found) = detect_zh(q) {
        return Some(found);
    }
    let lower = q.to_lowercase();
    let words = words_of(&lower);
    let intent = words.iter().any(|w| INTENT_WORDS_EN.contains(&w.as_str()))
        || INTENT_PHRASES_EN.iter().any(|p| lower.contains(p));
    let target = part_en(&words).or_else(|| quoted_section(q, &words));
    let this_document = doc_noun_en(&words);
    let ends_about = words.last().is_some_and(|w| ABOUT_ENDINGS_EN.contains(&w.as_str()))
        && words.first().is_some_and(|w| w == "what" || w == "what's");
    let what_in = WHAT_IN_EN.iter().any(|p| lower.starts_with(p));
    match target {
        // "summarise chapter 2", "what is chapter 2 about?", "what happens in chapter 3?"
        Some(target) if intent || ends_about || what_in => Some(ScopeQuestion { target, this_document }),
        Some(_) => None,
        // "summarise this book", "what is this book about?", "give an overview of X"
        None if (intent && (this_document || starts_with_intent(&words)))
            || (ends_about && this_document) =>
        {
            Some(ScopeQuestion { target: Target::Whole, this_document })
        }
        None => None,
    }
}

/// Lowercase words of an English question (letters, digits, `;` and `'` kept inside words).
fn words_of(lower: &str) -> Vec<String> {
    lower
        .split(|c: char| !(c.is_alphanumeric() || c == ';' || c == '\'' || c == '.'))
        .map(|w| w.trim_matches(|c| c == '.' || c == ';' || c == '\''))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// "Summarise X", "Give me an overview of X", "TL;DR of X": the question is the request itself.
fn starts_with_intent(words: &[String]) -> bool {
    let skip =
        ["please", "can", "could", "you", "give", "me", "a", "an", "the", "short", "brief", "quick", "write"];
    words.iter().find(|w| !skip.contains(&w.as_str())).is_some_and(|w| INTENT_WORDS_EN.contains(&w.as_str()))
}

/// "this book", "the whole document", "the paper" (the word before the noun is a determiner).
fn doc_noun_en(words: &[String]) -> bool {
    words.windows(2).any(|w| {
        DOC_NOUNS_EN.contains(&w[1].as_str())
            && ["this", "the", "whole", "entire", "that", "my"].contains(&w[0].as_str())
    })
}

/// "chapter 2", "chapter two", "chapter iv", "part 3", "ch. 2", "section 4.2", "the first
/// chapter".
fn part_en(words: &[String]) -> Option<Target> {
    for (i, w) in words.iter().enumerate() {
        let next = words.get(i + 1).map(String::as_str);
        match w.as_str() {
            "chapter" | "ch" | "part" | "chap" => {
                if let Some(n) = next.and_then(number_en) {
                    return Some(Target::Chapter(n));
                }
                if let Some(n) = i.checked_sub(1).and_then(|j| ordinal_en(&words[j])) {
                    return Some(Target::Chapter(n));
                }
            }
            "section" | "sect" | "§" => {
                if let Some((a, b)) = next.and_then(|n| n.split_once('.'))
                    && let (Some(a), Some(b)) = (number_en(a), number_en(b))
                {
                    return Some(Target::Section(a, b));
                }
                if let Some(n) = next.and_then(number_en) {
                    return Some(Target::Chapter(n));
                }
            }
            _ => {}
        }
    }
    None
}

/// A section named in quotes: `summarise the section "Ordered factors"`.
fn quoted_section(q: &str, words: &[String]) -> Option<Target> {
    if !words.iter().any(|w| w == "section" || w == "chapter") {
        return None;
    }
    let open = q.find(['"', '“', '«'])?;
    let rest = &q[open + q[open..].chars().next()?.len_utf8()..];
    let close = rest.find(['"', '”', '»'])?;
    let name = rest[..close].trim();
    (!name.is_empty()).then(|| Target::Named(name.to_string()))
}

/// A number written as digits, an English word or a Roman numeral (up to 99).
fn number_en(w: &str) -> Option<u32> {
    let w = w.trim_end_matches([':', ',', '?', '.']);
    if let Ok(n) = w.parse::<u32>() {
        return (1..100).contains(&n).then_some(n);
    }
    const WORDS: [&str; 20] = [
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
    ];
    if let Some(i) = WORDS.iter().position(|x| *x == w) {
        return Some(i as u32 + 1);
    }
    roman(w)
}

/// "first" .. "tenth".
fn ordinal_en(w: &str) -> Option<u32> {
    const ORDINALS: [&str; 10] =
        ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"];
    ORDINALS.iter().position(|x| *x == w).map(|i| i as u32 + 1)
}

/// A Roman numeral from i to xxxix, lowercase.
fn roman(w: &str) -> Option<u32> {
    if w.is_empty() || !w.chars().all(|c| matches!(c, 'i' | 'v' | 'x')) {
        return None;
    }
    let value = |c: char| match c {
        'i' => 1,
        'v' => 5,
        _ => 10,
    };
    let chars: Vec<u32> = w.chars().map(value).collect();
    let mut total = 0i64;
    for (i, v) in chars.iter().enumerate() {
        if chars.get(i + 1).is_some_and(|next| next > v) {
            total -= i64::from(*v);
        } else {
            total += i64::from(*v);
        }
    }
    (1..40).contains(&total).then_some(total as u32)
}

/// Chinese: "第二章讲了什么", "总结这本书", "概括一下第3节".
fn detect_zh(q: &str) -> Option<ScopeQuestion> {
    let intent = INTENT_ZH.iter().any(|w| q.contains(w));
    if !intent {
        return None;
    }
    let this_document = DOC_NOUNS_ZH.iter().any(|w| q.contains(w));
    if let Some(target) = part_zh(q) {
        return Some(ScopeQuestion { target, this_document });
    }
    // "总结这本书", "本书的主要内容是什么"
    this_document.then_some(ScopeQuestion { target: Target::Whole, this_document })
}

/// "第二章", "第3章", "第十二节", "第一部分", "第2篇".
fn part_zh(q: &str) -> Option<Target> {
    let mut rest = q;
    while let Some(at) = rest.find('第') {
        let after = &rest[at + '第'.len_utf8()..];
        let digits: String = after
            .chars()
            .take_while(|c| c.is_ascii_digit() || "一二三四五六七八九十两〇零".contains(*c))
            .collect();
        let tail = &after[digits.len()..];
        if !digits.is_empty()
            && ["章", "节", "部分", "篇", "卷", "節"].iter().any(|u| tail.starts_with(u))
            && let Some(n) = number_zh(&digits)
        {
            return Some(Target::Chapter(n));
        }
        rest = after;
    }
    None
}

/// A number in digits or Chinese numerals, 1 to 99.
fn number_zh(s: &str) -> Option<u32> {
    if let Ok(n) = s.parse::<u32>() {
        return (1..100).contains(&n).then_some(n);
    }
    let digit = |c: char| {
        "〇一二三四五六七八九".chars().position(|d| d == c).map(|i| i as u32).or((c == '两').then_some(2))
    };
    let chars: Vec<char> = s.chars().collect();
    let n = match chars.as_slice() {
        ['十'] => 10,
        [d] => digit(*d)?,
        ['十', d] => 10 + digit(*d)?,
        [t, '十'] => digit(*t)? * 10,
        [t, '十', d] => digit(*t)? * 10 + digit(*d)?,
        _ => return None,
    };
    (1..100).contains(&n).then_some(n)
}

/// The document and sections a scope question covers.
#[derive(Debug, Clone)]
pub struct Scope {
    /// The document.
    pub doc: DocSummary,
    /// What was asked for.
    pub target: Target,
    /// The sections covered, in order (all of them for [`Target::Whole`]).
    pub sections: Vec<SectionInfo>,
    /// How the scope is named to the user and the model: the document's title, or the chapter's
    /// heading.
    pub label: String,
}

/// What [`resolve`] found.
#[derive(Debug)]
pub enum Resolved {
    /// The document and sections to summarise.
    Scope(Box<Scope>),
    /// The question is a scope question, but no one document is meant: why, for the user.
    NoDocument(String),
}

/// Finds the document and sections of a scope question: the one document of `doc_ids`
/// (`--doc`), else the document whose title the question names (the longest such title), else
/// the library's only document. A chapter or section the document lacks is
/// [`AgentError::NoScope`], naming the chapters it has.
pub fn resolve(
    library: &Library,
    question: &str,
    asked: &ScopeQuestion,
    doc_ids: &[i64],
) -> Result<Resolved> {
    let catalog = library.catalog();
    let doc = match doc_ids {
        [one] => catalog.get(*one)?,
        [] => {
            let all = catalog.list(&ListFilter::default())?;
            named_in(question, &all).cloned().or_else(|| (all.len() == 1).then(|| all[0].clone()))
        }
        _ => {
            return Ok(Resolved::NoDocument(
                "several documents were named; a summary covers one (name it with --doc)".into(),
            ));
        }
    };
    let Some(doc) = doc else {
        let why = if asked.this_document {
            "which document? name it with --doc (answering from the best passages instead)"
        } else {
            "no document of the library is named in the question; name it with --doc (answering from the best passages instead)"
        };
        return Ok(Resolved::NoDocument(why.into()));
    };
    let sections = catalog.sections(doc.id)?;
    let (sections, label) = sections_of(&doc, sections, &asked.target)?;
    Ok(Resolved::Scope(Box::new(Scope { doc, target: asked.target.clone(), sections, label })))
}

/// The document whose title the question names, the longest title first (so "An Introduction
/// to R" wins over "R"); titles shorter than 4 characters are not matched.
fn named_in<'a>(question: &str, docs: &'a [DocSummary]) -> Option<&'a DocSummary> {
    let q = question.to_lowercase();
    docs.iter()
        .filter(|d| {
            let t = d.title.trim().to_lowercase();
            t.chars().count() >= 4 && q.contains(&t)
        })
        .max_by_key(|d| d.title.len())
}

/// The top-level heading of a section ("" for text before the first heading).
fn top(s: &SectionInfo) -> &str {
    s.heading_path.first().map(String::as_str).unwrap_or("")
}

/// Whether a heading stands for chapter `n`: "4 Ordered factors", "4. Lists", "Chapter 4",
/// "Chapter IV: ...", "Part 2", "IV", "第四章".
fn heading_is_number(heading: &str, n: u32) -> bool {
    let lower = heading.trim().to_lowercase();
    let mut words = lower.split(|c: char| c.is_whitespace() || c == ':' || c == '—' || c == '-');
    let first = words.next().unwrap_or("");
    let number = |w: &str| number_en(w.trim_end_matches('.')) == Some(n);
    if number(first) && (first.chars().all(|c| c.is_ascii_digit() || c == '.') || lower == first) {
        return true;
    }
    if ["chapter", "part", "book", "ch."].contains(&first) {
        return words.next().is_some_and(number);
    }
    part_zh(heading.trim()) == Some(Target::Chapter(n)) && heading.trim().starts_with('第')
}

/// The sections `target` covers in `doc`, and the scope's label.
fn sections_of(
    doc: &DocSummary,
    sections: Vec<SectionInfo>,
    target: &Target,
) -> Result<(Vec<SectionInfo>, String)> {
    let chapters: Vec<String> = {
        let mut seen: Vec<String> = Vec::new();
        for s in &sections {
            let t = top(s);
            if !t.is_empty() && !seen.iter().any(|x| x == t) {
                seen.push(t.to_string());
            }
        }
        seen
    };
    let missing = |what: String| {
        let list: Vec<&str> = chapters.iter().take(12).map(String::as_str).collect();
        let more = if chapters.len() > 12 { ", ..." } else { "" };
        AgentError::NoScope(format!(
            "{:?} has no {what} (its chapters: {}{more})",
            doc.title,
            if list.is_empty() { "none".to_string() } else { list.join("; ") }
        ))
    };
    let chapter = |n: u32| -> Option<String> {
        chapters
            .iter()
            .find(|h| heading_is_number(h, n))
            .or_else(|| chapters.get(n as usize - 1).filter(|_| !chapters.iter().any(|h| starts_numbered(h))))
            .cloned()
    };
    match target {
        Target::Whole => {
            let label = doc.title.clone();
            Ok((sections, label))
        }
        Target::Chapter(n) => {
            let Some(h) = chapter(*n) else { return Err(missing(format!("chapter {n}"))) };
            let within: Vec<SectionInfo> = sections.into_iter().filter(|s| top(s) == h).collect();
            Ok((within, h))
        }
        Target::Section(c, k) => {
            let Some(h) = chapter(*c) else { return Err(missing(format!("chapter {c}"))) };
            let mut subs: Vec<String> = Vec::new();
            for s in sections.iter().filter(|s| top(s) == h) {
                if let Some(sub) = s.heading_path.get(1)
                    && !subs.contains(sub)
                {
                    subs.push(sub.clone());
                }
            }
            let Some(sub) = subs.get(*k as usize - 1).cloned() else {
                return Err(missing(format!("section {c}.{k}")));
            };
            let within: Vec<SectionInfo> =
                sections.into_iter().filter(|s| top(s) == h && s.heading_path.get(1) == Some(&sub)).collect();
            Ok((within, format!("{h} > {sub}")))
        }
        Target::Named(name) => {
            let needle = name.to_lowercase();
            let Some(at) = sections.iter().find_map(|s| {
                s.heading_path
                    .iter()
                    .position(|h| h.to_lowercase().contains(&needle))
                    .map(|i| s.heading_path[..=i].to_vec())
            }) else {
                return Err(missing(format!("section named {name:?}")));
            };
            let within: Vec<SectionInfo> =
                sections.into_iter().filter(|s| s.heading_path.starts_with(&at)).collect();
            Ok((within, at.join(" > ")))
        }
    }
}

/// Whether a heading begins with a number ("4 Ordered factors", "Chapter 4"), so chapters are
/// found by number rather than by position.
fn starts_numbered(h: &str) -> bool {
    (1..100).any(|n| heading_is_number(h, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(q: &str) -> Option<Target> {
        detect(q).map(|s| s.target)
    }

    #[test]
    fn scope_phrases_in_english_are_detected() {
        assert_eq!(target("Summarise chapter 2 of SICP"), Some(Target::Chapter(2)));
        assert_eq!(target("summarize chapter two"), Some(Target::Chapter(2)));
        assert_eq!(target("What is chapter IV about?"), Some(Target::Chapter(4)));
        assert_eq!(target("What happens in chapter 3?"), Some(Target::Chapter(3)));
        assert_eq!(target("Give me an overview of part 1"), Some(Target::Chapter(1)));
        assert_eq!(target("Summarise the first chapter"), Some(Target::Chapter(1)));
        assert_eq!(target("summary of section 4.2"), Some(Target::Section(4, 2)));
        assert_eq!(
            target("Summarise the section \"Ordered factors\""),
            Some(Target::Named("Ordered factors".into()))
        );
        assert_eq!(target("What is this book about?"), Some(Target::Whole));
        assert_eq!(target("Summarise this book"), Some(Target::Whole));
        assert_eq!(target("Summarize An Introduction to R"), Some(Target::Whole));
        assert_eq!(target("Give me a brief overview of the Metamorphosis"), Some(Target::Whole));
        assert_eq!(target("What are the main points of the document?"), Some(Target::Whole));
        assert_eq!(target("TL;DR of this paper"), Some(Target::Whole));
        assert!(detect("What does this book cover?").is_some_and(|s| s.this_document));
    }

    #[test]
    fn scope_phrases_in_chinese_are_detected() {
        assert_eq!(target("第二章讲了什么"), Some(Target::Chapter(2)));
        assert_eq!(target("第3章讲了什么？"), Some(Target::Chapter(3)));
        assert_eq!(target("总结一下第十二章"), Some(Target::Chapter(12)));
        assert_eq!(target("概括第二十一节的内容"), Some(Target::Chapter(21)));
        assert_eq!(target("总结这本书"), Some(Target::Whole));
        assert_eq!(target("这本书的主要内容是什么？"), Some(Target::Whole));
        assert_eq!(target("本文讲了什么"), Some(Target::Whole));
    }

    #[test]
    fn lookup_questions_are_not_scope_questions() {
        for q in [
            "What does chapter 2 say about tail calls?",
            "How do I summarise a data frame in R?",
            "What is a tuple?",
            "What is the GIL about?",
            "Which chapter explains closures?",
            "How do I write a summary() method for my class?",
            "Where is the outline view in the editor?",
            "What is the section 5 of the GPL about licensing fees?",
            "第二章中提到的 sudo 配置文件在哪里？",
            "怎样让普通用户执行 sudo 时不用输入密码？",
            "这个命令的输出是什么意思",
            "What does the document say about umask?",
            "",
        ] {
            assert_eq!(detect(q), None, "{q}");
        }
    }

    #[test]
    fn numbers_in_words_and_numerals() {
        assert_eq!(number_en("iv"), Some(4));
        assert_eq!(number_en("xii"), Some(12));
        assert_eq!(number_en("twelve"), Some(12));
        assert_eq!(number_en("0"), None);
        assert_eq!(number_en("x1"), None);
        assert_eq!(number_zh("十"), Some(10));
        assert_eq!(number_zh("二十一"), Some(21));
        assert_eq!(number_zh("两"), Some(2));
        assert_eq!(number_zh("十二十"), None);
    }

    fn section(ordinal: u32, path: &[&str]) -> SectionInfo {
        SectionInfo {
            ordinal,
            heading_path: path.iter().map(|s| s.to_string()).collect(),
            anchor: None,
            page_start: Some(ordinal + 1),
            page_end: Some(ordinal + 1),
            chars: 100,
        }
    }

    fn book(sections: &[SectionInfo]) -> DocSummary {
        DocSummary {
            id: 1,
            source: "/b.pdf".into(),
            url: None,
            kind: "pdf".into(),
            title: "A Book".into(),
            authors: vec![],
            language: None,
            published: None,
            hash: "h".into(),
            byte_len: 1,
            page_count: None,
            sections: sections.len() as u32,
            chunks: 0,
            tags: vec![],
            added_at: String::new(),
            updated_at: String::new(),
            site: None,
        }
    }

    #[test]
    fn chapters_are_found_by_number_then_by_position() {
        let numbered = vec![
            section(0, &[]),
            section(1, &["Preface"]),
            section(2, &["1 Introduction"]),
            section(3, &["1 Introduction", "The environment"]),
            section(4, &["2 Vectors"]),
            section(5, &["2 Vectors", "Assignment"]),
            section(6, &["2 Vectors", "Arithmetic"]),
            section(7, &["10 Functions"]),
        ];
        let doc = book(&numbered);
        let (s, label) = sections_of(&doc, numbered.clone(), &Target::Chapter(2)).unwrap();
        assert_eq!(s.iter().map(|s| s.ordinal).collect::<Vec<_>>(), [4, 5, 6]);
        assert_eq!(label, "2 Vectors");
        let (s, _) = sections_of(&doc, numbered.clone(), &Target::Chapter(10)).unwrap();
        assert_eq!(s.iter().map(|s| s.ordinal).collect::<Vec<_>>(), [7]);
        let (s, label) = sections_of(&doc, numbered.clone(), &Target::Section(2, 2)).unwrap();
        assert_eq!(
            (s.iter().map(|s| s.ordinal).collect::<Vec<_>>(), label.as_str()),
            (vec![6], "2 Vectors > Arithmetic")
        );
        let (s, _) = sections_of(&doc, numbered.clone(), &Target::Named("assignment".into())).unwrap();
        assert_eq!(s.iter().map(|s| s.ordinal).collect::<Vec<_>>(), [5]);
        let err = sections_of(&doc, numbered.clone(), &Target::Chapter(3)).unwrap_err().to_string();
        assert!(err.contains("\"A Book\" has no chapter 3") && err.contains("2 Vectors"), "{err}");
        let (s, _) = sections_of(&doc, numbered, &Target::Whole).unwrap();
        assert_eq!(s.len(), 8);

        let roman =
            vec![section(0, &["Title page"]), section(1, &["I"]), section(2, &["II"]), section(3, &["III"])];
        let (s, _) = sections_of(&book(&roman), roman.clone(), &Target::Chapter(2)).unwrap();
        assert_eq!(s.iter().map(|s| s.ordinal).collect::<Vec<_>>(), [2]);
        let plain = vec![section(0, &["Getting started"]), section(1, &["Usage"])];
        let (s, _) = sections_of(&book(&plain), plain.clone(), &Target::Chapter(2)).unwrap();
        assert_eq!(s.iter().map(|s| s.ordinal).collect::<Vec<_>>(), [1], "by position without numbers");
        let zh = vec![section(0, &["前言"]), section(1, &["第一章 开始"]), section(2, &["第二章 使用"])];
        let (s, _) = sections_of(&book(&zh), zh.clone(), &Target::Chapter(2)).unwrap();
        assert_eq!(s.iter().map(|s| s.ordinal).collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn a_title_named_in_the_question_picks_the_document() {
        let mut r = book(&[]);
        r.title = "R".into();
        let mut intro = book(&[]);
        intro.title = "An Introduction to R".into();
        intro.id = 2;
        let docs = vec![r, intro];
        assert_eq!(named_in("Summarise chapter 4 of An Introduction to R", &docs).map(|d| d.id), Some(2));
        assert!(named_in("Summarise chapter 4", &docs).is_none());
    }
}
