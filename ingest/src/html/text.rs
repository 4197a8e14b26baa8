//! HTML to text: one iterative walk over the DOM that keeps paragraphs, list items, table rows and
//! preformatted text, drops scripts, styles and navigation, and reports headings and marked ids so
//! that callers can cut the text into sections. Shared by the HTML and EPUB loaders.
//!
//! The walk never recurses, so arbitrarily deep markup cannot exhaust the stack.

use std::collections::HashSet;

use ego_tree::NodeRef;
use ego_tree::iter::Edge;
use scraper::node::Element;
use scraper::{ElementRef, Node};

/// One piece of the walked text, in document order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Piece {
    /// Text between two headings or markers, normalised: paragraphs separated by blank lines.
    Text(String),
    /// A heading `h1`..`h6` with its text on one line and its anchor, when it has one.
    Heading {
        /// 1 for `h1` to 6 for `h6`.
        level: u8,
        /// The heading's text.
        text: String,
        /// The heading's id, an id inside it, or the id of the section it opens.
        anchor: Option<String>,
    },
    /// An element whose id is one of the ids the caller asked to be told about.
    Marker(String),
}

/// What to leave out and what to report during a walk.
#[derive(Debug, Default, Clone)]
pub(crate) struct WalkOptions<'a> {
    /// Drop page layout: headers, footers and asides outside an `article` or `main`.
    pub strip_layout: bool,
    /// Drop elements whose role, class or id says they are navigation, sidebars, breadcrumbs,
    /// comments, sharing buttons or similar.
    pub strip_chrome: bool,
    /// Ids (of any element, or `a name`) to report as [`Piece::Marker`] when they open.
    pub markers: Option<&'a HashSet<String>>,
}

/// Elements whose content is never text.
const ALWAYS_SKIPPED: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "head", "title", "iframe", "object", "embed", "canvas",
    "select", "button", "input", "textarea", "nav", "audio", "video", "map", "dialog", "math", "link",
    "meta",
];

/// Elements that stand as paragraphs of their own.
const PARAGRAPH_BLOCKS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "aside",
    "blockquote",
    "table",
    "ul",
    "ol",
    "dl",
    "figure",
    "figcaption",
    "address",
    "hr",
    "fieldset",
    "details",
    "summary",
    "center",
    "body",
    "form",
    "legend",
    "hgroup",
];

/// Elements that start a line of their own.
const LINE_BLOCKS: &[&str] = &["li", "tr", "dt", "dd", "br", "caption", "option"];

/// Class or id words that mark page chrome when [`WalkOptions::strip_chrome`] is set.
const CHROME_WORDS: &[&str] = &[
    "sphinxsidebar",
    "sphinxsidebarwrapper",
    "related",
    "navheader",
    "navfooter",
    "breadcrumb",
    "breadcrumbs",
    "sidebar",
    "footer",
    "site-footer",
    "site-header",
    "masthead",
    "menu",
    "navbar",
    "navigation",
    "nav",
    "toc",
    "skip-link",
    "cookie",
    "cookies",
    "share",
    "social",
    "advert",
    "advertisement",
    "ad",
    "ads",
    "promo",
    "newsletter",
    "comments",
    "headerlink",
];

/// Pieces of class or id names that mark chrome wherever they appear in the name
/// (`sf_comment_list`, `share-buttons`), unless the name also says it is content.
const CHROME_PARTS: &[&str] = &[
    "comment",
    "disqus",
    "share",
    "social",
    "related",
    "sponsor",
    "newsletter",
    "breadcrumb",
    "sidebar",
    "skyscraper",
    "pagination",
    "cookie",
    "subscribe",
    "promo",
    "advert",
    "popup",
];

/// Pieces of class or id names that say an element holds content.
const CONTENT_PARTS: &[&str] = &["article", "content", "main", "body", "column", "story", "entry", "post"];

/// Whether an element's class or id names mark it as page chrome.
/// Ids are matched as whole words only: content sections often have ids made from their
/// headings (`how-do-i-share-global-variables`).
fn is_chrome_element(el: &Element) -> bool {
    let classes: Vec<String> = el.classes().map(str::to_ascii_lowercase).collect();
    let id = el.attr("id").map(str::to_ascii_lowercase);
    if classes.iter().chain(id.as_ref()).any(|n| CHROME_WORDS.contains(&n.as_str())) {
        return true;
    }
    let protected = classes.iter().any(|n| CONTENT_PARTS.iter().any(|p| n.contains(p)));
    !protected && classes.iter().any(|n| CHROME_PARTS.iter().any(|p| n.contains(p)))
}

/// ARIA roles of page chrome.
const CHROME_ROLES: &[&str] = &["navigation", "banner", "contentinfo", "complementary", "search", "menu"];

/// What separates the cells of a table row.
const CELL_SEPARATOR: &str = " | ";

/// How strong a break the text has waiting before its next visible character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Break {
    None,
    Space,
    Line,
    Paragraph,
}

/// Text under construction: whitespace collapsed, breaks merged, prefixes (list bullets, cell
/// separators) written only when text follows them.
#[derive(Debug)]
struct TextBuf {
    out: String,
    pending: Break,
    prefix: String,
}

impl TextBuf {
    fn new() -> Self {
        TextBuf { out: String::new(), pending: Break::None, prefix: String::new() }
    }

    fn brk(&mut self, b: Break) {
        if b > self.pending {
            self.pending = b;
        }
        if b >= Break::Line && self.prefix == CELL_SEPARATOR {
            self.prefix.clear();
        }
    }

    fn at_line_start(&self) -> bool {
        self.out.is_empty() || self.out.ends_with('\n') || self.pending >= Break::Line
    }

    fn flush_pending(&mut self) {
        if !self.out.is_empty() {
            match self.pending {
                Break::None => {}
                Break::Space => self.out.push(' '),
                Break::Line => self.out.push('\n'),
                Break::Paragraph => self.out.push_str("\n\n"),
            }
        }
        self.pending = Break::None;
        if !self.prefix.is_empty() {
            self.out.push_str(&self.prefix);
            self.prefix.clear();
        }
    }

    /// Appends text with runs of whitespace collapsed to one space.
    fn text(&mut self, s: &str) {
        for c in s.chars() {
            if c.is_whitespace() || c == '\u{200b}' {
                if !self.out.is_empty() {
                    self.brk(Break::Space);
                }
            } else if c.is_control() || c == '\u{ad}' {
                continue;
            } else {
                if self.pending > Break::None || !self.prefix.is_empty() {
                    self.flush_pending();
                }
                self.out.push(c);
            }
        }
    }

    /// Appends preformatted text as it is, line endings normalised.
    fn raw(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        if self.pending > Break::None || !self.prefix.is_empty() {
            self.flush_pending();
        }
        let s = s.replace("\r\n", "\n").replace('\r', "\n");
        self.out.push_str(&s);
    }

    /// Takes the text so far, normalised, leaving the buffer empty.
    fn take(&mut self) -> String {
        let text = normalise_block_text(&self.out);
        self.out.clear();
        self.pending = Break::None;
        self.prefix.clear();
        text
    }
}

/// Trims trailing spaces on each line, drops runs of more than one blank line and trims the ends.
pub(crate) fn normalise_block_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank_run = 0usize;
    for line in s.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    let trimmed = out.trim_matches(|c: char| c == '\n' || c == ' ');
    trimmed.to_string()
}

/// List context for numbering items.
#[derive(Debug)]
struct ListCtx {
    ordered: bool,
    next: u32,
}

/// Walks the subtree under `root` and returns its pieces.
pub(crate) fn walk(root: NodeRef<'_, Node>, opts: &WalkOptions<'_>) -> Vec<Piece> {
    #[cfg(test)]
    crate::guard::bug_site("html-walk");
    let mut pieces = Vec::new();
    let mut buf = TextBuf::new();
    // While inside a heading, its text goes here.
    let mut heading: Option<(ego_tree::NodeId, u8, Option<String>, TextBuf)> = None;
    let mut skip_until: Option<ego_tree::NodeId> = None;
    let mut pre_depth = 0usize;
    let mut article_depth = 0usize;
    let mut lists: Vec<ListCtx> = Vec::new();

    for edge in root.traverse() {
        match edge {
            Edge::Open(node) => {
                if skip_until.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Text(t) => {
                        let target = match heading.as_mut() {
                            Some((_, _, _, hb)) => hb,
                            None => &mut buf,
                        };
                        if pre_depth > 0 {
                            target.raw(t);
                        } else {
                            target.text(t);
                        }
                    }
                    Node::Element(el) => {
                        let name = el.name();
                        if should_skip(el, name, opts.strip_layout && article_depth == 0, opts.strip_chrome) {
                            skip_until = Some(node.id());
                            continue;
                        }
                        if let Some(markers) = opts.markers
                            && heading.is_none()
                        {
                            let id =
                                el.attr("id").or_else(|| if name == "a" { el.attr("name") } else { None });
                            if let Some(id) = id
                                && markers.contains(id)
                            {
                                push_text(&mut pieces, &mut buf);
                                pieces.push(Piece::Marker(id.to_string()));
                            }
                        }
                        if name == "article" || name == "main" {
                            article_depth += 1;
                        }
                        if let Some(level) = heading_level(name)
                            && heading.is_none()
                        {
                            push_text(&mut pieces, &mut buf);
                            heading = Some((node.id(), level, heading_anchor(node, el), TextBuf::new()));
                            continue;
                        }
                        let target = match heading.as_mut() {
                            Some((_, _, _, hb)) => hb,
                            None => &mut buf,
                        };
                        open_element(target, name, &mut lists, &mut pre_depth);
                    }
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if let Some(id) = skip_until {
                    if id == node.id() {
                        skip_until = None;
                    }
                    continue;
                }
                let Node::Element(el) = node.value() else { continue };
                let name = el.name();
                if let Some((hid, level, anchor, mut hb)) = heading.take() {
                    if hid == node.id() {
                        let text = heading_text(&hb.take());
                        if !text.is_empty() {
                            pieces.push(Piece::Heading { level, text, anchor });
                        }
                        buf.brk(Break::Paragraph);
                        continue;
                    }
                    close_element(&mut hb, name, &mut lists, &mut pre_depth);
                    heading = Some((hid, level, anchor, hb));
                    continue;
                }
                if name == "article" || name == "main" {
                    article_depth = article_depth.saturating_sub(1);
                }
                close_element(&mut buf, name, &mut lists, &mut pre_depth);
            }
        }
    }
    if let Some((_, level, anchor, mut hb)) = heading.take() {
        let text = heading_text(&hb.take());
        if !text.is_empty() {
            pieces.push(Piece::Heading { level, text, anchor });
        }
    }
    push_text(&mut pieces, &mut buf);
    pieces
}

/// Walks a whole parsed document (or fragment) from its root.
pub(crate) fn walk_html(html: &scraper::Html, opts: &WalkOptions<'_>) -> Vec<Piece> {
    walk(html.tree.root(), opts)
}

fn push_text(pieces: &mut Vec<Piece>, buf: &mut TextBuf) {
    let text = buf.take();
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
}

fn open_element(buf: &mut TextBuf, name: &str, lists: &mut Vec<ListCtx>, pre_depth: &mut usize) {
    match name {
        "pre" | "listing" | "xmp" | "plaintext" => {
            buf.brk(Break::Paragraph);
            *pre_depth += 1;
        }
        "ul" | "ol" | "menu" => {
            buf.brk(if lists.is_empty() { Break::Paragraph } else { Break::Line });
            lists.push(ListCtx { ordered: name == "ol", next: 1 });
        }
        "li" => {
            buf.brk(Break::Line);
            let depth = lists.len().saturating_sub(1).min(8);
            let indent = "  ".repeat(depth);
            let marker = match lists.last_mut() {
                Some(l) if l.ordered => {
                    let m = format!("{}. ", l.next);
                    l.next += 1;
                    m
                }
                _ => "- ".to_string(),
            };
            buf.prefix = format!("{indent}{marker}");
        }
        "td" | "th" if !buf.at_line_start() => {
            buf.pending = Break::None;
            buf.prefix = CELL_SEPARATOR.to_string();
        }
        "td" | "th" | "img" | "area" => {}
        _ if PARAGRAPH_BLOCKS.contains(&name) => buf.brk(Break::Paragraph),
        _ if LINE_BLOCKS.contains(&name) => buf.brk(Break::Line),
        _ => {}
    }
}

fn close_element(buf: &mut TextBuf, name: &str, lists: &mut Vec<ListCtx>, pre_depth: &mut usize) {
    match name {
        "pre" | "listing" | "xmp" | "plaintext" => {
            *pre_depth = pre_depth.saturating_sub(1);
            buf.brk(Break::Paragraph);
        }
        "ul" | "ol" | "menu" => {
            lists.pop();
            buf.brk(if lists.is_empty() { Break::Paragraph } else { Break::Line });
        }
        "td" | "th" => {}
        _ if PARAGRAPH_BLOCKS.contains(&name) => buf.brk(Break::Paragraph),
        _ if LINE_BLOCKS.contains(&name) => buf.brk(Break::Line),
        _ => {}
    }
}

/// The level of a heading element, if `name` is one.
pub(crate) fn heading_level(name: &str) -> Option<u8> {
    match name {
        "h1" => Some(1),
        "h2" => Some(2),
        "h3" => Some(3),
        "h4" => Some(4),
        "h5" => Some(5),
        "h6" => Some(6),
        _ => None,
    }
}

/// A heading's text on one line, without permalink signs.
fn heading_text(s: &str) -> String {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line
        .trim_end_matches(|c: char| c == '¶' || c == '#' || c == '§' || c.is_whitespace())
        .trim()
        .to_string()
}

fn should_skip(el: &Element, name: &str, chrome_blocks: bool, chrome_words: bool) -> bool {
    if ALWAYS_SKIPPED.contains(&name) {
        return true;
    }
    if el.attr("hidden").is_some() || el.attr("aria-hidden") == Some("true") {
        return true;
    }
    if let Some(style) = el.attr("style") {
        let style: String =
            style.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
        if style.contains("display:none") || style.contains("visibility:hidden") {
            return true;
        }
    }
    if el.has_class("headerlink", scraper::CaseSensitivity::AsciiCaseInsensitive) {
        return true;
    }
    if chrome_blocks && matches!(name, "header" | "footer" | "aside") {
        return true;
    }
    if chrome_words {
        if let Some(role) = el.attr("role")
            && CHROME_ROLES.iter().any(|r| role.eq_ignore_ascii_case(r))
        {
            return true;
        }
        if name != "body" && name != "html" && name != "main" && name != "article" && is_chrome_element(el) {
            return true;
        }
    }
    false
}

/// The anchor of a heading: its own id, else an id or `a name` inside it, else the id of an
/// enclosing element (up to three levels up) that the heading opens.
fn heading_anchor(node: NodeRef<'_, Node>, el: &Element) -> Option<String> {
    if let Some(id) = el.attr("id").filter(|s| !s.trim().is_empty()) {
        return Some(id.to_string());
    }
    for d in node.descendants().skip(1).take(64) {
        if let Node::Element(e) = d.value() {
            let id = e.attr("id").or_else(|| if e.name() == "a" { e.attr("name") } else { None });
            if let Some(id) = id.filter(|s| !s.trim().is_empty()) {
                return Some(id.to_string());
            }
        }
    }
    let mut cur = node.parent();
    for _ in 0..3 {
        let anc = cur?;
        let anc_el = ElementRef::wrap(anc)?;
        if matches!(anc_el.value().name(), "body" | "html") {
            return None;
        }
        if let Some(id) = anc_el.value().attr("id").filter(|s| !s.trim().is_empty()) {
            let first_heading = anc
                .descendants()
                .skip(1)
                .take(200)
                .find(|d| matches!(d.value(), Node::Element(e) if heading_level(e.name()).is_some()));
            if first_heading.map(|h| h.id()) == Some(node.id()) {
                return Some(id.to_string());
            }
            return None;
        }
        cur = anc.parent();
    }
    None
}

/// The greatest element nesting depth and the number of elements of a parsed document, counted
/// without recursion.
pub(crate) fn depth_and_size(html: &scraper::Html) -> (usize, usize) {
    let mut depth = 0usize;
    let mut max = 0usize;
    let mut elements = 0usize;
    for edge in html.tree.root().traverse() {
        match edge {
            Edge::Open(n) if n.value().is_element() => {
                depth += 1;
                elements += 1;
                max = max.max(depth);
            }
            Edge::Close(n) if n.value().is_element() => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    (max, elements)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain text of pieces joined, headings included as their own paragraphs.
    fn pieces_to_text(pieces: &[Piece]) -> String {
        let mut parts = Vec::new();
        for p in pieces {
            match p {
                Piece::Text(t) => parts.push(t.as_str()),
                Piece::Heading { text, .. } => parts.push(text.as_str()),
                Piece::Marker(_) => {}
            }
        }
        parts.join("\n\n")
    }

    fn text_of(html: &str) -> String {
        let doc = scraper::Html::parse_document(html);
        pieces_to_text(&walk_html(&doc, &WalkOptions::default()))
    }

    #[test]
    fn paragraphs_lists_tables_and_pre() {
        let t = text_of(
            "<html><head><title>T</title><style>p{}</style></head><body>\
             <p>One   two\nthree.</p><p>Four <b>five</b>.</p>\
             <ul><li>alpha</li><li>beta <i>b</i></li></ul>\
             <ol><li>first</li><li>second</li></ol>\
             <table><tr><th>k</th><th>v</th></tr><tr><td>a</td><td>1</td></tr></table>\
             <pre>x  = 1\n  y = 2</pre><script>var no = 1;</script><nav>menu</nav></body></html>",
        );
        assert_eq!(
            t,
            "One two three.\n\nFour five.\n\n- alpha\n- beta b\n\n1. first\n2. second\n\nk | v\na | 1\n\nx  = 1\n  y = 2"
        );
    }

    #[test]
    fn headings_come_out_with_anchors() {
        let doc = scraper::Html::parse_document(
            "<body><section id=\"intro\"><h2>Intro<a class=\"headerlink\" href=\"#intro\">¶</a></h2>\
             <p>Hello.</p></section><h3><a id=\"deep\"></a>Deep</h3><p>x</p><h4 id=\"own\">Own</h4></body>",
        );
        let pieces = walk_html(&doc, &WalkOptions::default());
        assert_eq!(
            pieces,
            vec![
                Piece::Heading { level: 2, text: "Intro".into(), anchor: Some("intro".into()) },
                Piece::Text("Hello.".into()),
                Piece::Heading { level: 3, text: "Deep".into(), anchor: Some("deep".into()) },
                Piece::Text("x".into()),
                Piece::Heading { level: 4, text: "Own".into(), anchor: Some("own".into()) },
            ]
        );
    }

    #[test]
    fn chrome_is_dropped_when_asked() {
        let doc = scraper::Html::parse_document(
            "<body><header>Site</header><div class=\"sphinxsidebar\">side</div>\
             <div role=\"main\"><p>Body text.</p></div><footer>foot</footer></body>",
        );
        let t = pieces_to_text(&walk_html(
            &doc,
            &WalkOptions { strip_layout: true, strip_chrome: true, markers: None },
        ));
        assert_eq!(t, "Body text.");
    }

    #[test]
    fn markers_are_reported() {
        let ids: HashSet<String> = ["b".to_string()].into();
        let doc = scraper::Html::parse_document("<p id=\"a\">one</p><p id=\"b\">two</p>");
        let pieces = walk_html(&doc, &WalkOptions { markers: Some(&ids), ..Default::default() });
        assert_eq!(
            pieces,
            vec![Piece::Text("one".into()), Piece::Marker("b".into()), Piece::Text("two".into())]
        );
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let n = 5_000;
        let html = format!("{}deep text{}", "<div>".repeat(n), "</div>".repeat(n));
        let doc = scraper::Html::parse_document(&html);
        assert!(text_of(&html).contains("deep text"));
        let (depth, _) = depth_and_size(&doc);
        assert!(depth > n);
    }
}
