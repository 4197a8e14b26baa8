//! A light pass over raw markup before the HTML parser sees it:
//!
//! - **Depth clamp.** The HTML tree builder checks scopes by scanning its stack of open elements,
//!   so markup nested tens of thousands deep costs quadratic time. Start tags beyond
//!   [`MAX_DEPTH`] open elements are dropped together with their end tags; their text stays.
//! - **XHTML self-closing tags.** EPUB chapters are XHTML, where `<div/>` or `<title/>` is an
//!   empty element; an HTML parser reads it as a start tag and swallows what follows. With
//!   `xhtml` set, self-closing non-void tags are written as a start and an end tag.
//!
//! The pass never fails: anything it does not understand is copied as it is.

use std::borrow::Cow;

/// Open elements kept before start tags are dropped.
pub(crate) const MAX_DEPTH: usize = 1000;

/// Elements without content.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track",
    "wbr", "basefont", "bgsound", "frame", "keygen",
];

/// Elements whose end tag may be left out, so they do not nest in practice.
const OPTIONAL_END: &[&str] = &[
    "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "thead", "tbody", "tfoot", "colgroup",
    "rb", "rt", "rp", "caption", "html", "head", "body",
];

/// Elements whose content is raw text up to their end tag.
const RAW_TEXT: &[&str] =
    &["script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "plaintext"];

fn is_one_of(name: &str, list: &[&str]) -> bool {
    list.iter().any(|n| name.eq_ignore_ascii_case(n))
}

/// Returns `html` with nesting clamped (and, for `xhtml`, self-closing tags expanded); borrowed
/// when nothing had to change.
pub(crate) fn prepare(html: &str, xhtml: bool) -> Cow<'_, str> {
    let (out, changed) = rewrite(html, xhtml, MAX_DEPTH);
    if changed { Cow::Owned(out) } else { Cow::Borrowed(html) }
}

/// Whether a page is serialised as XHTML (an XML declaration or the XHTML namespace near its
/// start), where `<a id="x"/>` is an empty element.
pub(crate) fn looks_like_xhtml(html: &str) -> bool {
    let mut end = html.len().min(2048);
    while !html.is_char_boundary(end) {
        end -= 1;
    }
    let head = &html[..end];
    head.trim_start_matches('\u{feff}').trim_start().starts_with("<?xml")
        || head.contains("http://www.w3.org/1999/xhtml")
}

fn rewrite(html: &str, xhtml: bool, max_depth: usize) -> (String, bool) {
    let b = html.as_bytes();
    let mut out = String::with_capacity(html.len());
    let mut changed = false;
    // Open elements: (name, kept in the output).
    let mut stack: Vec<(&str, bool)> = Vec::new();
    let mut i = 0usize;
    let mut copied = 0usize;
    while i < b.len() {
        if b[i] != b'<' {
            i += 1;
            continue;
        }
        let next = b.get(i + 1).copied().unwrap_or(0);
        if next == b'!' {
            let end = if html[i..].starts_with("<!--") {
                html[i + 4..].find("-->").map(|p| i + 4 + p + 3)
            } else {
                html[i..].find('>').map(|p| i + p + 1)
            };
            i = end.unwrap_or(b.len());
            continue;
        }
        if next == b'/' {
            let name_start = i + 2;
            let name_end = scan_name(b, name_start);
            let tag_end = html[i..].find('>').map(|p| i + p + 1).unwrap_or(b.len());
            if name_end == name_start {
                i = tag_end;
                continue;
            }
            let name = &html[name_start..name_end];
            if let Some(pos) = stack.iter().rposition(|(n, _)| n.eq_ignore_ascii_case(name))
                && stack.len() - pos <= 64
            {
                let kept = stack[pos].1;
                stack.truncate(pos);
                if !kept {
                    out.push_str(&html[copied..i]);
                    copied = tag_end;
                    changed = true;
                }
            }
            i = tag_end;
            continue;
        }
        if !next.is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        let name_start = i + 1;
        let name_end = scan_name(b, name_start);
        let name = &html[name_start..name_end];
        let tag_end = find_tag_end(b, name_end);
        let self_closing = tag_end >= 2 && b[tag_end - 2] == b'/';
        if is_one_of(name, RAW_TEXT) && !self_closing {
            let close = find_ci(html, tag_end, &format!("</{name}"));
            i = close.unwrap_or(b.len());
            continue;
        }
        if is_one_of(name, VOID) || is_one_of(name, OPTIONAL_END) {
            i = tag_end;
            continue;
        }
        if self_closing {
            if xhtml {
                out.push_str(&html[copied..i]);
                let inner = html[i..tag_end - 2].trim_end();
                out.push_str(inner);
                out.push_str("></");
                out.push_str(name);
                out.push('>');
                copied = tag_end;
                changed = true;
            }
            i = tag_end;
            continue;
        }
        let kept = stack.len() < max_depth;
        if !kept {
            out.push_str(&html[copied..i]);
            copied = tag_end;
            changed = true;
        }
        stack.push((name, kept));
        i = tag_end;
    }
    if changed {
        out.push_str(&html[copied.min(html.len())..]);
    }
    (out, changed)
}

/// End of a tag or attribute name starting at `start`.
fn scan_name(b: &[u8], start: usize) -> usize {
    let mut j = start;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || matches!(b[j], b'-' | b':' | b'_' | b'.')) {
        j += 1;
    }
    j
}

/// Index just past the `>` that ends a start tag, skipping quoted attribute values.
fn find_tag_end(b: &[u8], from: usize) -> usize {
    let mut j = from;
    let mut quote: Option<u8> = None;
    while j < b.len() {
        let c = b[j];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'"' || c == b'\'' => quote = Some(c),
            None if c == b'>' => return j + 1,
            None => {}
        }
        j += 1;
    }
    b.len()
}

/// Position of `needle` (ASCII, matched case-insensitively) in `hay` at or after `from`.
fn find_ci(hay: &str, from: usize, needle: &str) -> Option<usize> {
    let h = hay.as_bytes();
    let n = needle.as_bytes();
    if n.is_empty() || from >= h.len() {
        return None;
    }
    (from..=h.len().saturating_sub(n.len())).find(|&p| h[p..p + n.len()].eq_ignore_ascii_case(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_markup_is_untouched() {
        let html =
            "<html><body><div><p>One<p>Two<br><img src=x></div><script>if (a<b) {}</script></body></html>";
        assert!(matches!(prepare(html, false), Cow::Borrowed(_)));
    }

    #[test]
    fn deep_nesting_is_clamped_and_text_kept() {
        let html = format!("{}text{}", "<div>".repeat(3000), "</div>".repeat(3000));
        let (out, changed) = rewrite(&html, false, 10);
        assert!(changed);
        assert_eq!(out, format!("{}text{}", "<div>".repeat(10), "</div>".repeat(10)));
    }

    #[test]
    fn xhtml_self_closing_tags_expand() {
        let html = "<head><title/></head><body><a id=\"x\"/>Text<br/><div class='a>b'/></body>";
        let out = prepare(html, true);
        assert_eq!(
            out,
            "<head><title></title></head><body><a id=\"x\"></a>Text<br/><div class='a>b'></div></body>"
        );
        assert!(matches!(prepare(html, false), Cow::Borrowed(_)));
    }
}
