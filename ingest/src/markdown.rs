//! Markdown files: top-level headings cut the text into sections (heading path by level); each
//! section's text stays Markdown source, without its heading line, for the Markdown-aware
//! chunker. YAML (`---`) or TOML (`+++`) front matter gives title, authors, date and language
//! and is not indexed as text. The title is the front matter's, else the first `h1`.

use std::ops::Range;

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use crate::document::{Document, Kind, Section};
use crate::error::{IngestError, Result};
use crate::html::meta::{normalise_date, normalise_language};

/// Metadata read from front matter.
#[derive(Debug, Default, Clone, PartialEq)]
struct FrontMatter {
    title: Option<String>,
    authors: Vec<String>,
    date: Option<String>,
    language: Option<String>,
}

/// Loads Markdown text. `item` names it in errors and becomes the document's source.
pub fn load(text: &str, item: &str) -> Result<Document> {
    if text.trim().is_empty() {
        return Err(IngestError::Empty { item: item.to_string() });
    }
    load_inner(text, item)
}

fn load_inner(text: &str, item: &str) -> Result<Document> {
    let source = text.strip_prefix('\u{feff}').unwrap_or(text);
    let normalised;
    let source = if source.contains('\r') {
        normalised = source.replace("\r\n", "\n").replace('\r', "\n");
        normalised.as_str()
    } else {
        source
    };
    let (front, body) = split_front_matter(source);
    let first_line = source[..source.len() - body.len()].matches('\n').count() + 1;
    let (sections, first_h1) = sections(body, first_line, item)?;
    let title = front.title.clone().or(first_h1).unwrap_or_default();
    Ok(Document {
        source: item.to_string(),
        url: None,
        kind: Kind::Markdown,
        title,
        authors: front.authors,
        language: front.language.as_deref().and_then(normalise_language),
        published: front.date.as_deref().and_then(normalise_date),
        hash: String::new(),
        byte_len: text.len() as u64,
        page_count: None,
        site: None,
        sections,
    })
}

/// A top-level heading found by the parser: its level, text, id and byte range in the body.
struct HeadingSpan {
    level: u8,
    text: String,
    id: Option<String>,
    range: Range<usize>,
}

/// Cuts the body into sections at top-level headings (headings inside block quotes or lists do
/// not cut); returns them and the first `h1`'s text. The body starts on line `first_line` of the
/// file. Only pulldown-cmark's parse runs under [`crate::guard::catch`]; its events are read
/// outside it.
fn sections(body: &str, first_line: usize, item: &str) -> Result<(Vec<Section>, Option<String>)> {
    let opts = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_MATH;
    let mut headings: Vec<HeadingSpan> = Vec::new();
    let mut depth = 0usize;
    let mut open: Option<HeadingSpan> = None;
    let events: Vec<(Event<'_>, Range<usize>)> = crate::guard::catch(item, "Markdown parser", || {
        Parser::new_ext(body, opts).into_offset_iter().collect()
    })?;
    for (event, range) in events {
        match event {
            Event::Start(Tag::Heading { level, id, .. }) if depth == 0 => {
                open = Some(HeadingSpan {
                    level: heading_level(level),
                    text: String::new(),
                    id: id.map(|i| i.to_string()),
                    range,
                });
                depth += 1;
            }
            Event::Start(_) => depth += 1,
            Event::End(TagEnd::Heading(_)) if depth == 1 && open.is_some() => {
                depth -= 1;
                if let Some(h) = open.take() {
                    headings.push(h);
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Text(t) | Event::Code(t) | Event::InlineMath(t) => {
                if let Some(h) = open.as_mut() {
                    h.text.push_str(&t);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some(h) = open.as_mut() {
                    h.text.push(' ');
                }
            }
            _ => {}
        }
    }

    let newlines: Vec<usize> = body.match_indices('\n').map(|(i, _)| i).collect();
    #[cfg(test)]
    crate::guard::bug_site("markdown-sections");
    let line_at = |offset: usize| u32::try_from(first_line + newlines.partition_point(|&n| n < offset)).ok();
    let mut out = Vec::new();
    let mut first_h1 = None;
    let mut stack: Vec<(u8, String)> = Vec::new();
    let mut current = Section::default();
    let mut from = 0usize;
    for h in headings {
        let text = h.text.split_whitespace().collect::<Vec<_>>().join(" ");
        push_section(&mut out, &mut current, body, from..h.range.start, &line_at);
        from = h.range.end;
        if text.is_empty() {
            continue;
        }
        if h.level == 1 && first_h1.is_none() {
            first_h1 = Some(text.clone());
        }
        while stack.last().is_some_and(|(l, _)| *l >= h.level) {
            stack.pop();
        }
        let anchor = h.id.clone().unwrap_or_else(|| slug(&text));
        stack.push((h.level, text));
        current = Section {
            heading_path: stack.iter().map(|(_, t)| t.clone()).collect(),
            anchor: Some(anchor).filter(|a| !a.is_empty()),
            pages: Vec::new(),
            text: String::new(),
            line: None,
        };
    }
    push_section(&mut out, &mut current, body, from..body.len(), &line_at);
    Ok((out, first_h1))
}

/// Ends the current section with the body's text in `range`, which starts on the line that
/// `line_at` gives for its offset.
fn push_section(
    out: &mut Vec<Section>,
    current: &mut Section,
    body: &str,
    range: Range<usize>,
    line_at: &dyn Fn(usize) -> Option<u32>,
) {
    let raw = body.get(range.clone()).unwrap_or_default();
    let text = raw.trim_start_matches('\n');
    let start = range.start + (raw.len() - text.len());
    let text = text.trim_end();
    // Keep leading indentation of the first line (an indented code block), drop blank lines.
    if text.trim().is_empty() {
        return;
    }
    let mut s = std::mem::take(current);
    s.text = text.to_string();
    s.line = line_at(start);
    out.push(s);
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// A GitHub-style anchor for a heading: lowercase, spaces to hyphens, punctuation dropped.
fn slug(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Splits YAML (`---`) or TOML (`+++`) front matter off the start of the text.
fn split_front_matter(text: &str) -> (FrontMatter, &str) {
    let (fence, toml) = if text.starts_with("---\n") {
        ("---", false)
    } else if text.starts_with("+++\n") {
        ("+++", true)
    } else {
        return (FrontMatter::default(), text);
    };
    let rest = &text[4..];
    let mut offset = 0usize;
    for line in rest.split_inclusive('\n') {
        let trimmed = line.trim_end();
        if trimmed == fence || (!toml && trimmed == "...") {
            let block = &rest[..offset];
            let body = &rest[offset + line.len()..];
            return (parse_front_matter(block, toml), body);
        }
        offset += line.len();
    }
    (FrontMatter::default(), text)
}

/// Reads `title`, `author`/`authors`, `date` and `lang`/`language` from front matter: scalar
/// values (quoted or not), inline lists `[a, b]` and YAML block lists of `- item` lines.
fn parse_front_matter(block: &str, toml: bool) -> FrontMatter {
    let sep = if toml { '=' } else { ':' };
    let mut fm = FrontMatter::default();
    let mut lines = block.lines().peekable();
    while let Some(line) = lines.next() {
        if line.starts_with([' ', '\t', '-', '#']) {
            continue;
        }
        let Some((key, value)) = line.split_once(sep) else { continue };
        let key = key.trim().trim_matches('"').to_ascii_lowercase();
        let value = value.trim();
        let mut values: Vec<String> = Vec::new();
        if value.is_empty() {
            while let Some(next) = lines.peek() {
                let t = next.trim_start();
                if let Some(item) = t.strip_prefix("- ") {
                    values.push(unquote(item));
                    lines.next();
                } else if t.starts_with("name:") && next.starts_with([' ', '\t']) {
                    values.push(unquote(t.trim_start_matches("name:")));
                    lines.next();
                } else if next.starts_with([' ', '\t']) {
                    lines.next();
                } else {
                    break;
                }
            }
        } else if let Some(inner) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
            values.extend(inner.split(',').map(unquote));
        } else {
            values.push(unquote(value));
        }
        values.retain(|v| !v.is_empty());
        match key.as_str() {
            "title" if fm.title.is_none() => fm.title = values.into_iter().next(),
            "author" | "authors" | "creator" => {
                for v in values {
                    if !fm.authors.contains(&v) {
                        fm.authors.push(v);
                    }
                }
            }
            "date" | "published" | "pubdate" if fm.date.is_none() => fm.date = values.into_iter().next(),
            "lang" | "language" if fm.language.is_none() => fm.language = values.into_iter().next(),
            _ => {}
        }
    }
    fm
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    let s = s.split(" #").next().unwrap_or(s).trim();
    let s = s
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| s.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(s);
    s.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_make_sections_with_markdown_text() {
        let md = "Intro line.\n\n# Guide\n\nSome *text*.\n\n## Install\n\n```sh\n# not a heading\ncargo build\n```\n\n\
                  ### Linux {#linux}\n\n- a\n- b\n\n## Use\n\n> # quoted heading\n> stays\n\nSetext\n------\n\nend\n";
        let d = load(md, "g.md").unwrap();
        assert_eq!(d.title, "Guide");
        let paths: Vec<String> = d.sections.iter().map(|s| s.heading_path.join(" > ")).collect();
        assert_eq!(
            paths,
            vec!["", "Guide", "Guide > Install", "Guide > Install > Linux", "Guide > Use", "Guide > Setext"]
        );
        assert_eq!(d.sections[0].text, "Intro line.");
        assert_eq!(d.sections[1].text, "Some *text*.");
        assert_eq!(d.sections[2].text, "```sh\n# not a heading\ncargo build\n```");
        assert_eq!(d.sections[3].anchor.as_deref(), Some("linux"));
        assert_eq!(d.sections[2].anchor.as_deref(), Some("install"));
        assert_eq!(d.sections[4].text, "> # quoted heading\n> stays");
        assert_eq!(d.sections[5].text, "end");
    }

    #[test]
    fn sections_know_the_line_they_start_on() {
        let md =
            "---\ntitle: T\n---\n\nIntro.\n\n# One\n\n\nFirst line.\nSecond line.\n\n## Two\r\n\r\nThird.\n";
        let d = load(md, "l.md").unwrap();
        let lines: Vec<(Option<u32>, &str)> = d.sections.iter().map(|s| (s.line, s.text.as_str())).collect();
        assert_eq!(
            lines,
            vec![(Some(5), "Intro."), (Some(10), "First line.\nSecond line."), (Some(15), "Third.")]
        );
    }

    #[test]
    fn front_matter_gives_metadata_and_is_not_text() {
        let md = "---\ntitle: \"My Post\"\nauthor:\n  - Ann Lee\n  - Bo Chan\ndate: 2023-04-05\nlang: en-US\n---\n\n# Heading\n\nBody.\n";
        let d = load(md, "p.md").unwrap();
        assert_eq!(d.title, "My Post");
        assert_eq!(d.authors, vec!["Ann Lee", "Bo Chan"]);
        assert_eq!(d.published.as_deref(), Some("2023-04-05"));
        assert_eq!(d.language.as_deref(), Some("en"));
        assert!(d.sections.iter().all(|s| !s.text.contains("title:")));
        let toml = "+++\ntitle = 'T'\nauthors = [\"X\", \"Y\"]\n+++\nText.";
        let d = load(toml, "t.md").unwrap();
        assert_eq!(d.title, "T");
        assert_eq!(d.authors, vec!["X", "Y"]);
        assert_eq!(d.sections[0].text, "Text.");
    }

    #[test]
    fn odd_input_does_not_panic() {
        assert_eq!(load("", "e.md").unwrap_err().reason_code(), "empty");
        let _ = load("---\ntitle: never closed\n", "x.md").unwrap();
        let deep = format!("{}deep", ">".repeat(50_000));
        let d = load(&deep, "deep.md").unwrap();
        assert!(d.sections[0].text.ends_with("deep"));
        let brackets = format!("{}x{}", "[".repeat(50_000), "](".repeat(20_000));
        let _ = load(&brackets, "b.md").unwrap();
        let lists = (0..2_000).map(|i| format!("{}- item\n", "  ".repeat(i))).collect::<String>();
        let _ = load(&lists, "l.md").unwrap();
        let _ = load("#\n\n#    \n##", "h.md").unwrap();
        let _ = load("\r\n# Title\r\n\r\ntext\r\n", "crlf.md").unwrap();
    }
}
