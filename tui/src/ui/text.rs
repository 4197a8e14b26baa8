//! Text helpers of the terminal UI, free of any terminal: a one-line editor, word wrapping of
//! styled text, query-term highlighting and short number and path formats.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

/// A one-line text editor: the text and a cursor counted in characters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineInput {
    text: String,
    cursor: usize,
}

impl LineInput {
    /// An editor holding `text`, the cursor at its end.
    #[cfg(test)]
    pub fn with_text(text: &str) -> LineInput {
        LineInput { text: text.to_string(), cursor: text.chars().count() }
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The cursor position, in characters from the start.
    #[cfg(test)]
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    fn byte_at(&self, char_index: usize) -> usize {
        self.text.char_indices().nth(char_index).map(|(i, _)| i).unwrap_or(self.text.len())
    }

    /// Inserts a character at the cursor.
    pub fn insert(&mut self, c: char) {
        if c == '\n' || c == '\r' {
            return;
        }
        let at = self.byte_at(self.cursor);
        self.text.insert(at, c);
        self.cursor += 1;
    }

    /// Inserts text at the cursor (line breaks become spaces).
    pub fn insert_str(&mut self, s: &str) {
        for c in s.chars() {
            self.insert(if c == '\n' || c == '\r' || c == '\t' { ' ' } else { c });
        }
    }

    /// Deletes the character before the cursor.
    pub fn backspace(&mut self) {
        if self.cursor == 0 {
            return;
        }
        self.cursor -= 1;
        let at = self.byte_at(self.cursor);
        self.text.remove(at);
    }

    /// Deletes the character under the cursor.
    pub fn delete(&mut self) {
        if self.cursor < self.text.chars().count() {
            let at = self.byte_at(self.cursor);
            self.text.remove(at);
        }
    }

    /// Deletes the word before the cursor.
    pub fn delete_word(&mut self) {
        while self.cursor > 0 && self.char_before().is_some_and(char::is_whitespace) {
            self.backspace();
        }
        while self.cursor > 0 && self.char_before().is_some_and(|c| !c.is_whitespace()) {
            self.backspace();
        }
    }

    fn char_before(&self) -> Option<char> {
        self.cursor.checked_sub(1).and_then(|i| self.text.chars().nth(i))
    }

    /// Moves the cursor one character left.
    pub fn left(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }

    /// Moves the cursor one character right.
    pub fn right(&mut self) {
        self.cursor = (self.cursor + 1).min(self.text.chars().count());
    }

    /// Moves the cursor to the start.
    pub fn home(&mut self) {
        self.cursor = 0;
    }

    /// Moves the cursor to the end.
    pub fn end(&mut self) {
        self.cursor = self.text.chars().count();
    }

    /// Empties the editor.
    pub fn clear(&mut self) {
        self.text.clear();
        self.cursor = 0;
    }

    /// The part of the text that fits `width` columns with the cursor visible, and the cursor's
    /// column within it.
    pub fn visible(&self, width: usize) -> (String, usize) {
        let width = width.max(1);
        let chars: Vec<char> = self.text.chars().collect();
        let col_of = |from: usize, to: usize| chars[from..to].iter().map(|c| char_width(*c)).sum::<usize>();
        let mut start = 0;
        while col_of(start, self.cursor) >= width && start < self.cursor {
            start += 1;
        }
        let mut shown = String::new();
        let mut used = 0;
        for c in &chars[start..] {
            let w = char_width(*c);
            if used + w > width {
                break;
            }
            used += w;
            shown.push(*c);
        }
        (shown, col_of(start, self.cursor))
    }
}

/// Display width of a character (control characters count as one column, shown as a space).
pub fn char_width(c: char) -> usize {
    c.width().unwrap_or(1)
}

/// Display width of a string.
pub fn str_width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

/// `s` cut to `width` columns, with `…` when cut.
pub fn truncate(s: &str, width: usize) -> String {
    if str_width(s) <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = char_width(c);
        if used + w + 1 > width {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// The tail of `s` that fits `width` columns, with a leading `…` when cut (for paths).
pub fn truncate_left(s: &str, width: usize) -> String {
    if str_width(s) <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut tail: Vec<char> = Vec::new();
    let mut used = 0;
    for c in s.chars().rev() {
        let w = char_width(c);
        if used + w + 1 > width {
            break;
        }
        used += w;
        tail.push(c);
    }
    let mut out = String::from("…");
    out.extend(tail.into_iter().rev());
    out
}

/// `n` with thousands separated by commas.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `n` and the noun, plural when `n` is not 1: `1 doc`, `1,204 docs`.
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{} {noun}s", thousands(n)) }
}

/// Text on one line: runs of whitespace (line breaks included) become one space.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Wraps a styled line into lines at most `width` columns wide, breaking at spaces (and inside
/// words longer than a line). Leading spaces of a continuation line are dropped.
pub fn wrap_line(line: &Line<'_>, width: usize) -> Vec<Line<'static>> {
    wrap_widths(line, width, width)
}

/// Wraps with the first line `first` columns wide and the others `rest`.
fn wrap_widths(line: &Line<'_>, first: usize, rest: usize) -> Vec<Line<'static>> {
    let (first, rest) = (first.max(1), rest.max(1));
    let cells: Vec<(char, Style)> = line
        .spans
        .iter()
        .flat_map(|s| {
            let style = line.style.patch(s.style);
            s.content.chars().map(move |c| (if c.is_control() { ' ' } else { c }, style))
        })
        .collect();
    if cells.is_empty() {
        return vec![Line::default()];
    }
    // Words are runs of non-spaces with the spaces that follow them; CJK text, written
    // without spaces, may also break between its characters.
    let mut words: Vec<&[(char, Style)]> = Vec::new();
    let mut start = 0;
    for i in 1..=cells.len() {
        let at_end = i == cells.len();
        if at_end || break_between(cells[i - 1].0, cells[i].0) {
            words.push(&cells[start..i]);
            start = i;
        }
    }
    let mut lines: Vec<Vec<(char, Style)>> = vec![Vec::new()];
    let mut used = 0;
    let limit = |lines: &Vec<Vec<(char, Style)>>| if lines.len() == 1 { first } else { rest };
    for word in words {
        let body: usize = word.iter().filter(|(c, _)| *c != ' ').map(|(c, _)| char_width(*c)).sum();
        if used > 0 && used + body > limit(&lines) {
            lines.push(Vec::new());
            used = 0;
        }
        for &(c, style) in word {
            let w = char_width(c);
            if used + w > limit(&lines) {
                if c == ' ' {
                    continue;
                }
                lines.push(Vec::new());
                used = 0;
            }
            if used == 0 && c == ' ' && lines.len() > 1 {
                continue;
            }
            if let Some(l) = lines.last_mut() {
                l.push((c, style));
            }
            used += w;
        }
    }
    lines.into_iter().map(|cells| line_of_cells(&cells)).collect()
}

/// Whether a line may break between `a` and `b`: after spaces, and around wide (CJK)
/// characters, except before closing punctuation or a citation marker and after opening
/// punctuation.
fn break_between(a: char, b: char) -> bool {
    if b == ' ' {
        return false;
    }
    if a == ' ' {
        return true;
    }
    (char_width(a) > 1 || char_width(b) > 1) && !NO_LINE_START.contains(b) && !NO_LINE_END.contains(a)
}

/// Characters that do not start a line (closing punctuation, small kana, `[` of a citation).
const NO_LINE_START: &str =
    "，。、；：！？）］｝〕〉》」』】〙〗’”…‥・ー々〻ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ)]},.;:!?%[";
/// Characters that do not end a line (opening punctuation).
const NO_LINE_END: &str = "（［｛〔〈《「『【〘〖‘“([{";

fn line_of_cells(cells: &[(char, Style)]) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut current = String::new();
    let mut style = cells.first().map(|c| c.1).unwrap_or_default();
    for &(c, s) in cells {
        if s != style && !current.is_empty() {
            spans.push(Span::styled(std::mem::take(&mut current), style));
        }
        style = s;
        current.push(c);
    }
    if !current.is_empty() {
        spans.push(Span::styled(current, style));
    }
    Line::from(spans)
}

/// Wraps a line whose continuation lines are indented by `indent` columns (for a line that
/// starts with a prompt or an indent of that width).
pub fn wrap_hanging(line: &Line<'_>, width: usize, indent: usize) -> Vec<Line<'static>> {
    let indent = indent.min(width.saturating_sub(1));
    let mut lines = wrap_widths(line, width, width - indent);
    for l in lines.iter_mut().skip(1) {
        l.spans.insert(0, Span::raw(" ".repeat(indent)));
    }
    lines
}

/// Wraps every line.
pub fn wrap_lines(lines: &[Line<'_>], width: usize) -> Vec<Line<'static>> {
    lines.iter().flat_map(|l| wrap_line(l, width)).collect()
}

/// Words too common to be worth highlighting.
const STOPWORDS: &[&str] = &[
    "the", "and", "for", "are", "but", "not", "you", "all", "any", "can", "had", "her", "was", "one", "our",
    "out", "has", "have", "how", "its", "may", "who", "why", "what", "when", "where", "which", "with",
    "this", "that", "from", "they", "will", "would", "there", "their", "does", "did", "about", "into",
    "than", "then", "them", "these", "those", "been", "were", "being", "your", "also", "more", "most",
    "some", "such", "only", "other", "should", "could", "use", "used", "using",
];

/// The words of a query worth highlighting: at least three characters, not a stopword,
/// lower-cased, without duplicates.
pub fn query_terms(query: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in query.split(|c: char| !c.is_alphanumeric() && c != '_') {
        let w = w.to_lowercase();
        if w.chars().count() >= 3 && !STOPWORDS.contains(&w.as_str()) && !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

/// Byte ranges of `text` where a word starts with one of `terms` (case-insensitive): a match of
/// "stem" also marks "stemming". Ranges are sorted and do not overlap.
pub fn term_ranges(text: &str, terms: &[String]) -> Vec<(usize, usize)> {
    if terms.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut word_start: Option<usize> = None;
    let mut push_word = |start: usize, end: usize| {
        let word = text[start..end].to_lowercase();
        if terms.iter().any(|t| word.starts_with(t.as_str()) || (t.len() > 4 && t.starts_with(&word))) {
            out.push((start, end));
        }
    };
    for (i, c) in text.char_indices() {
        let in_word = c.is_alphanumeric() || c == '_';
        match (in_word, word_start) {
            (true, None) => word_start = Some(i),
            (false, Some(s)) => {
                push_word(s, i);
                word_start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = word_start {
        push_word(s, text.len());
    }
    out
}

/// `text` as spans in `base` style with the byte `ranges` in `mark` style. Ranges out of
/// bounds or not on character boundaries are ignored.
pub fn highlighted(text: &str, ranges: &[(usize, usize)], base: Style, mark: Style) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    let mut at = 0;
    for &(a, b) in ranges {
        if a < at || b > text.len() || a >= b || !text.is_char_boundary(a) || !text.is_char_boundary(b) {
            continue;
        }
        if a > at {
            spans.push(Span::styled(text[at..a].to_string(), base));
        }
        spans.push(Span::styled(text[a..b].to_string(), mark));
        at = b;
    }
    if at < text.len() {
        spans.push(Span::styled(text[at..].to_string(), base));
    }
    spans
}

/// Splits answer text into spans, giving `[n]` citation markers the `cite` style.
pub fn with_citations(text: &str, base: Style, cite: Style) -> Vec<Span<'static>> {
    let mut ranges = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'[' {
            let mut j = i + 1;
            while j < bytes.len() && (bytes[j].is_ascii_digit() || bytes[j] == b',' || bytes[j] == b' ') {
                j += 1;
            }
            if j < bytes.len() && bytes[j] == b']' && j > i + 1 && bytes[i + 1].is_ascii_digit() {
                ranges.push((i, j + 1));
                i = j + 1;
                continue;
            }
        }
        i += 1;
    }
    highlighted(text, &ranges, base, cite)
}

/// The end of `s`, at most `max` columns of it, starting at a word; a `…` before it when cut.
pub fn tail_width(s: &str, max: usize) -> String {
    if str_width(s) <= max {
        return s.to_string();
    }
    let mut start = s.len();
    let mut used = 0;
    for (i, c) in s.char_indices().rev() {
        used += char_width(c);
        if used > max {
            break;
        }
        start = i;
    }
    let tail = &s[start..];
    let tail = match tail.find(char::is_whitespace) {
        Some(i) if str_width(&tail[..i]) < str_width(tail) / 2 => tail[i..].trim_start(),
        _ => tail,
    };
    format!("…{tail}")
}

/// The start of `s`, at most `max` columns of it, ending at a word; a `…` after it when cut.
pub fn head_width(s: &str, max: usize) -> String {
    if str_width(s) <= max {
        return s.to_string();
    }
    let mut end = 0;
    let mut used = 0;
    for (i, c) in s.char_indices() {
        used += char_width(c);
        if used > max {
            break;
        }
        end = i + c.len_utf8();
    }
    let head = &s[..end];
    let head = match head.rfind(char::is_whitespace) {
        Some(i) if str_width(&head[..i]) > str_width(head) / 2 => head[..i].trim_end(),
        _ => head,
    };
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(lines: &[Line<'_>]) -> Vec<String> {
        lines.iter().map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect()).collect()
    }

    #[test]
    fn line_input_edits_at_the_cursor() {
        let mut l = LineInput::default();
        for c in "helo".chars() {
            l.insert(c);
        }
        l.left();
        l.insert('l');
        assert_eq!(l.text(), "hello");
        l.home();
        l.delete();
        assert_eq!(l.text(), "ello");
        l.end();
        l.insert_str(" wörld");
        l.delete_word();
        assert_eq!(l.text(), "ello ");
        l.backspace();
        assert_eq!((l.text(), l.cursor()), ("ello", 4));
        l.clear();
        assert!(l.is_empty());
    }

    #[test]
    fn long_input_scrolls_to_keep_the_cursor_visible() {
        let l = LineInput::with_text("abcdefghij");
        let (shown, col) = l.visible(4);
        assert_eq!((shown.as_str(), col), ("hij", 3));
        let mut l = l;
        l.home();
        assert_eq!(l.visible(4), ("abcd".to_string(), 0));
    }

    #[test]
    fn wrapping_breaks_at_spaces_and_keeps_styles() {
        let bold = Style::default().add_modifier(ratatui::style::Modifier::BOLD);
        let line =
            Line::from(vec![Span::raw("the quick "), Span::styled("brown", bold), Span::raw(" fox jumps")]);
        let wrapped = wrap_line(&line, 10);
        assert_eq!(plain(&wrapped), vec!["the quick ", "brown fox ", "jumps"]);
        assert_eq!(wrapped[1].spans[0].style, bold);
        assert_eq!(plain(&wrap_line(&Line::from("abcdefghijkl"), 5)), vec!["abcde", "fghij", "kl"]);
        assert_eq!(plain(&wrap_line(&Line::from(""), 5)), vec![""]);
        assert_eq!(plain(&wrap_hanging(&Line::from("> aa bb cc"), 7, 2)), vec!["> aa bb", "  cc"]);
    }

    #[test]
    fn terms_and_citation_markers_are_found() {
        let terms = query_terms("How does the GIL work with threads?");
        assert_eq!(terms, vec!["gil", "work", "threads"]);
        let text = "The GIL stops threads; working threads wait.";
        let ranges = term_ranges(text, &terms);
        let found: Vec<&str> = ranges.iter().map(|&(a, b)| &text[a..b]).collect();
        assert_eq!(found, vec!["GIL", "threads", "working", "threads"]);
        let spans = with_citations("A lock [1] and [2, 3], not [x].", Style::default(), bold());
        let cited: Vec<&str> =
            spans.iter().filter(|s| s.style == bold()).map(|s| s.content.as_ref()).collect();
        assert_eq!(cited, vec!["[1]", "[2, 3]"]);
    }

    #[test]
    fn wide_characters_are_measured_in_columns() {
        // Two columns each: an odd width leaves a column blank rather than half a character.
        assert_eq!(truncate("全局解释器锁", 7), "全局解…");
        assert_eq!(truncate("全局解释器锁", 6), "全局…");
        assert_eq!(truncate("全局解释器锁", 12), "全局解释器锁");
        assert_eq!(truncate("全局", 1), "…");
        assert_eq!(truncate_left("/书籍/计算机.pdf", 9), "…算机.pdf");
        assert_eq!(tail_width("为什么不能在表达式中赋值", 7), "…中赋值");
        assert_eq!(head_width("我们能去掉全局解释器锁吗", 9), "我们能去…");
        let mut l = LineInput::with_text("全局解释器锁");
        assert_eq!(l.visible(13), ("全局解释器锁".to_string(), 12));
        // Six characters of two columns and the cursor at the end in 8 columns: the last three
        // show, the cursor after them.
        assert_eq!(l.visible(8), ("释器锁".to_string(), 6));
        l.home();
        l.right();
        assert_eq!(l.visible(5), ("全局".to_string(), 2));
    }

    #[test]
    fn cjk_text_breaks_between_characters_but_not_before_closing_punctuation() {
        let line = Line::from("GIL 保证同一时刻只有一个线程执行字节码[1]。去掉它会变慢。");
        let wrapped = wrap_line(&line, 12);
        assert_eq!(
            plain(&wrapped),
            vec!["GIL 保证同一", "时刻只有一个", "线程执行字节", "码[1]。去掉", "它会变慢。"]
        );
        // An odd width: a wide character never straddles the edge.
        assert_eq!(plain(&wrap_line(&Line::from("全局解释器锁"), 5)), vec!["全局", "解释", "器锁"]);
        // Opening punctuation stays with what follows it.
        assert_eq!(plain(&wrap_line(&Line::from("一二三（四五）"), 8)), vec!["一二三", "（四五）"]);
    }

    fn bold() -> Style {
        Style::default().add_modifier(ratatui::style::Modifier::BOLD)
    }

    #[test]
    fn short_forms() {
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(12), "12");
        assert_eq!(
            (count(1, "doc"), count(1500, "chunk")),
            ("1 doc".to_string(), "1,500 chunks".to_string())
        );
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate_left("/a/b/c.pdf", 6), "…c.pdf");
        assert_eq!(tail_width("one two three four", 10), "…three four");
        assert_eq!(head_width("one two three four", 10), "one two…");
        assert_eq!(one_line(" a\n b  c "), "a b c");
    }
}
