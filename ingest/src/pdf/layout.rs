//! From positioned glyphs to lines and paragraphs.
//!
//! Many PDFs (LaTeX and DocBook output among them) draw words without space characters and
//! leave the gaps to glyph positioning, so spaces are recovered from geometry: glyphs follow
//! each other on a line while they share a baseline; a gap wider than a fraction of the font
//! size between one glyph's advance and the next glyph's origin is a word space. Lines keep the
//! order in which the content stream draws them (the author's reading order for the documents
//! lore meets); a paragraph starts where the vertical gap to the previous line is clearly larger
//! than the page's usual line spacing, where the font size changes, or where the text turns back
//! up the page (a new column or block).

use super::device::{Glyph, PageGlyphs};

/// A gap wider than this fraction of the font size between two glyphs is a word space.
pub const SPACE_GAP: f64 = 0.12;
/// A glyph whose baseline is within this fraction of the font size of a line's baseline joins it
/// (superscripts and subscripts stay on their line).
const BASELINE_TOLERANCE: f64 = 0.5;
/// A glyph this far (in font sizes) behind the end of the line starts a new line.
const BACKWARD_LIMIT: f64 = 0.8;
/// A vertical gap larger than this many times the usual line spacing starts a paragraph.
const PARAGRAPH_GAP: f64 = 1.4;
/// Font sizes differing by more than this ratio start a paragraph (headings).
const SIZE_CHANGE: f64 = 1.18;
/// How many recent glyphs are compared to drop glyphs drawn twice (fake bold, shadows).
const DUPLICATE_WINDOW: usize = 8;

/// Orientation of a line of text, by the direction its "up" points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Orientation {
    /// Ordinary text: left to right, up is up the page.
    Upright,
    /// Rotated a quarter turn anticlockwise: reads bottom to top.
    Left,
    /// Upside down.
    Down,
    /// Rotated a quarter turn clockwise: reads top to bottom.
    Right,
}

impl Orientation {
    /// The orientation nearest to an up vector.
    fn of(up_x: f64, up_y: f64) -> Self {
        if up_y.abs() >= up_x.abs() {
            if up_y >= 0.0 { Orientation::Upright } else { Orientation::Down }
        } else if up_x < 0.0 {
            Orientation::Left
        } else {
            Orientation::Right
        }
    }

    /// Unit vectors `(along, up)` of the orientation's frame.
    fn axes(self) -> ((f64, f64), (f64, f64)) {
        match self {
            Orientation::Upright => ((1.0, 0.0), (0.0, 1.0)),
            Orientation::Left => ((0.0, 1.0), (-1.0, 0.0)),
            Orientation::Down => ((-1.0, 0.0), (0.0, -1.0)),
            Orientation::Right => ((0.0, -1.0), (1.0, 0.0)),
        }
    }
}

/// A line of text on a page.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// The text, words separated by single spaces, no leading or trailing space.
    pub text: String,
    /// Which way the text runs.
    pub orientation: Orientation,
    /// Position along the text direction where the line starts.
    pub start: f64,
    /// Position along the text direction where the line ends.
    pub end: f64,
    /// Position of the baseline across the text direction (for upright text, y in user space).
    pub base: f64,
    /// The line's main font size (the largest glyph on it).
    pub size: f64,
    /// Whether a paragraph starts with this line.
    pub para_start: bool,
}

/// The lines of one page.
#[derive(Debug, Clone, Default)]
pub struct PageLines {
    /// Lines in drawing order.
    pub lines: Vec<Line>,
    /// `[llx, lly, urx, ury]` of the media box.
    pub media_box: [f64; 4],
    /// The lines were read by OCR from the page's image.
    pub ocr: bool,
}

/// The lines of a page read by OCR: tesseract's lines top to bottom, a paragraph after each
/// blank line, laid out evenly down the page in one font size (OCR gives no geometry that
/// later steps need).
pub fn ocr_page(text: &str, media_box: [f64; 4]) -> PageLines {
    let raw: Vec<&str> = text.lines().map(str::trim).collect();
    let count = raw.iter().filter(|l| !l.is_empty()).count().max(1);
    let [llx, lly, urx, ury] = media_box;
    let (left, right) = if urx > llx { (llx, urx) } else { (0.0, 612.0) };
    let (bottom, top) = if ury > lly { (lly, ury) } else { (0.0, 792.0) };
    let step = (top - bottom) / (count as f64 + 1.0);
    let mut lines = Vec::with_capacity(count);
    let mut para_start = true;
    for l in raw {
        if l.is_empty() {
            para_start = true;
            continue;
        }
        let base = top - step * (lines.len() as f64 + 1.0);
        lines.push(Line {
            text: l.to_string(),
            orientation: Orientation::Upright,
            start: left,
            end: right,
            base,
            size: 10.0,
            para_start,
        });
        para_start = false;
    }
    PageLines { lines, media_box: [left, bottom, right, top], ocr: true }
}

/// A line being built.
struct Acc {
    line: Line,
    pending_space: bool,
    recent: Vec<(f64, f64, String)>,
}

/// Lays out the glyphs of a page as lines and marks where paragraphs start.
pub fn lay_out(page: &PageGlyphs) -> PageLines {
    #[cfg(test)]
    crate::guard::bug_site("pdf-layout");
    let mut lines = Vec::new();
    let mut cur: Option<Acc> = None;
    for g in &page.glyphs {
        add_glyph(&mut lines, &mut cur, g);
    }
    if let Some(acc) = cur.take() {
        finish(&mut lines, acc);
    }
    mark_paragraphs(&mut lines);
    PageLines { lines, media_box: page.media_box, ocr: false }
}

fn add_glyph(lines: &mut Vec<Line>, cur: &mut Option<Acc>, g: &Glyph) {
    let orientation = Orientation::of(g.up_x, g.up_y);
    let ((ax, ay), (upx, upy)) = orientation.axes();
    let u = g.x * ax + g.y * ay;
    let v = g.x * upx + g.y * upy;
    let mut advance = g.adv_x * ax + g.adv_y * ay;
    if advance <= 0.0 && !g.text.is_empty() && !g.text.chars().all(is_combining) {
        // Fonts without widths report zero; assume an average glyph so that the gap to the next
        // glyph does not look like a word space.
        advance = 0.5 * g.size * g.text.chars().count() as f64;
    }
    let size = g.size;

    if let Some(acc) = cur.as_mut() {
        let l = &acc.line;
        let same_line = l.orientation == orientation
            && (v - l.base).abs() <= BASELINE_TOLERANCE * size.max(l.size)
            && u >= l.end - BACKWARD_LIMIT * size.max(l.size);
        if same_line {
            if acc.recent.iter().any(|(ru, rv, rt)| {
                *rt == g.text && (ru - u).abs() < 0.15 * size && (rv - v).abs() < 0.15 * size
            }) && !g.text.is_empty()
                && !g.is_space()
            {
                return;
            }
            if g.is_space() {
                if !acc.line.text.is_empty() {
                    acc.pending_space = true;
                }
                acc.line.end = acc.line.end.max(u + advance);
                return;
            }
            let gap = u - acc.line.end;
            if (acc.pending_space || gap > SPACE_GAP * size.min(acc.line.size))
                && !acc.line.text.is_empty()
                && !acc.line.text.ends_with(' ')
            {
                acc.line.text.push(' ');
            }
            acc.pending_space = false;
            acc.line.text.push_str(&g.text);
            acc.line.end = u + advance;
            if size > acc.line.size * 1.05 {
                // A larger glyph sets the line's baseline and size (the line may have started with
                // a superscript).
                acc.line.size = size;
                acc.line.base = v;
            }
            acc.recent.push((u, v, g.text.clone()));
            if acc.recent.len() > DUPLICATE_WINDOW {
                acc.recent.remove(0);
            }
            return;
        }
    }
    if let Some(acc) = cur.take() {
        finish(lines, acc);
    }
    if g.is_space() {
        return;
    }
    *cur = Some(Acc {
        line: Line {
            text: g.text.clone(),
            orientation,
            start: u,
            end: u + advance,
            base: v,
            size,
            para_start: false,
        },
        pending_space: false,
        recent: vec![(u, v, g.text.clone())],
    });
}

fn finish(lines: &mut Vec<Line>, acc: Acc) {
    let mut line = acc.line;
    let trimmed = line.text.trim();
    if trimmed.is_empty() {
        return;
    }
    if trimmed.contains(". . .") || trimmed.contains("....") {
        line.text = collapse_leaders(trimmed);
    } else if trimmed.len() != line.text.len() {
        line.text = trimmed.to_string();
    }
    lines.push(line);
}

/// Replaces dot leaders (". . . . ." or "......", as in tables of contents) with one ellipsis.
fn collapse_leaders(text: &str) -> String {
    fn flush(out: &mut Vec<String>, dots: &mut usize) {
        if *dots >= 3 {
            out.push("…".to_string());
        } else {
            out.extend(std::iter::repeat_n(".".to_string(), *dots));
        }
        *dots = 0;
    }
    let mut out: Vec<String> = Vec::new();
    let mut dots = 0usize;
    for word in text.split_whitespace() {
        if word.chars().all(|c| c == '.' || c == '…') {
            dots += word.chars().map(|c| if c == '…' { 3 } else { 1 }).sum::<usize>();
            continue;
        }
        flush(&mut out, &mut dots);
        // A word glued to its leader ("Contents......") keeps the word.
        let core = word.trim_end_matches('.');
        if word.len() - core.len() >= 4 && !core.is_empty() {
            out.push(core.to_string());
            dots = 3;
        } else {
            out.push(word.to_string());
        }
    }
    flush(&mut out, &mut dots);
    out.join(" ")
}

fn is_combining(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}')
        || matches!(
            c,
            '\u{00B4}' | '\u{02C6}' | '\u{02DC}' | '\u{00A8}' | '\u{02D8}' | '\u{02C7}' | '\u{00B8}'
        )
}

/// The font size most of the text is set in (weighted by characters), to the nearest quarter point.
pub fn body_size(pages: &[PageLines]) -> Option<f64> {
    let mut by_size: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
    for line in pages.iter().flat_map(|p| &p.lines) {
        *by_size.entry((line.size * 4.0).round() as i64).or_default() += line.text.len();
    }
    by_size.into_iter().max_by_key(|&(size, n)| (n, size)).map(|(size, _)| size as f64 / 4.0)
}

/// The usual distance between consecutive baselines on the page, when it can be told.
fn usual_leading(lines: &[Line]) -> Option<f64> {
    let mut gaps: Vec<f64> = lines
        .windows(2)
        .filter(|w| w[0].orientation == w[1].orientation)
        .filter(|w| (w[0].size - w[1].size).abs() <= 0.05 * w[0].size.max(w[1].size))
        .map(|w| (w[0].base - w[1].base, w[0].size))
        .filter(|(d, size)| *d > 0.6 * size && *d < 3.0 * size)
        .map(|(d, _)| d)
        .collect();
    if gaps.is_empty() {
        return None;
    }
    gaps.sort_by(f64::total_cmp);
    Some(gaps[gaps.len() / 2])
}

/// Where most lines end: the 90th percentile of line ends.
fn usual_right_edge(lines: &[Line]) -> Option<f64> {
    let mut ends: Vec<f64> = lines.iter().map(|l| l.end).collect();
    if ends.len() < 3 {
        return None;
    }
    ends.sort_by(f64::total_cmp);
    Some(ends[(ends.len() * 9 / 10).min(ends.len() - 1)])
}

fn mark_paragraphs(lines: &mut [Line]) {
    let leading = usual_leading(lines);
    let right_edge = usual_right_edge(lines);
    if let Some(first) = lines.first_mut() {
        first.para_start = true;
    }
    for i in 1..lines.len() {
        let (a, b) = (&lines[i - 1], &lines[i]);
        let size = a.size.max(b.size);
        let small = a.size.min(b.size);
        let drop = a.base - b.base;
        let expected = match leading {
            Some(l) if l <= 2.0 * size => l.max(small),
            _ => 1.2 * size,
        };
        // A line that stops well short of the right edge ends a paragraph when the next line
        // starts at another indentation (a paragraph indent, an example, a new list item).
        let short = right_edge.is_some_and(|r| a.end < r - 1.5 * size);
        let shifted = (b.start - a.start).abs() > 0.8 * small;
        let para = a.orientation != b.orientation
            || drop < 0.3 * small
            || drop > PARAGRAPH_GAP * expected
            || size > SIZE_CHANGE * small
            || (short && shifted);
        lines[i].para_start = para;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glyph(x: f64, y: f64, size: f64, width_em: f64, text: &str) -> Glyph {
        Glyph { x, y, adv_x: width_em * size, adv_y: 0.0, size, up_x: 0.0, up_y: 1.0, text: text.into() }
    }

    /// Glyphs of `words` set at `y` with 0.5 em glyphs and a gap of `gap_em` between words.
    fn words(y: f64, x0: f64, words: &[&str], gap_em: f64) -> Vec<Glyph> {
        let mut out = Vec::new();
        let mut x = x0;
        for w in words {
            for c in w.chars() {
                out.push(glyph(x, y, 10.0, 0.5, &c.to_string()));
                x += 5.0;
            }
            x += gap_em * 10.0;
        }
        out
    }

    fn page(glyphs: Vec<Glyph>) -> PageGlyphs {
        PageGlyphs { glyphs, media_box: [0.0, 0.0, 612.0, 792.0] }
    }

    #[test]
    fn spaces_come_from_gaps_not_space_glyphs() {
        let mut g = words(700.0, 72.0, &["List", "of", "ps"], 0.3);
        // Kerning-sized gaps inside a word are not spaces.
        g.extend(words(688.0, 72.0, &["co", "mmand"], 0.05));
        let out = lay_out(&page(g));
        let texts: Vec<&str> = out.lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["List of ps", "command"]);
        assert!(out.lines[0].para_start && !out.lines[1].para_start);
    }

    #[test]
    fn space_glyphs_and_gaps_give_one_space() {
        let mut g = words(700.0, 72.0, &["a"], 0.0);
        g.push(glyph(77.0, 700.0, 10.0, 0.3, " "));
        g.extend(words(700.0, 85.0, &["b"], 0.0));
        assert_eq!(lay_out(&page(g)).lines[0].text, "a b");
    }

    #[test]
    fn superscripts_stay_on_the_line_and_duplicates_go() {
        let mut g = words(700.0, 72.0, &["x"], 0.0);
        g.push(glyph(77.0, 704.0, 7.0, 0.5, "2"));
        g.push(glyph(77.0, 704.0, 7.0, 0.5, "2"));
        assert_eq!(lay_out(&page(g)).lines[0].text, "x2");
    }

    #[test]
    fn big_vertical_gaps_and_size_changes_start_paragraphs() {
        let mut g = vec![glyph(72.0, 740.0, 20.0, 0.5, "H")];
        for (i, y) in [700.0, 688.0, 676.0, 650.0, 638.0].iter().enumerate() {
            g.extend(words(*y, 72.0, &[&format!("l{i}")], 0.3));
        }
        let out = lay_out(&page(g));
        let starts: Vec<bool> = out.lines.iter().map(|l| l.para_start).collect();
        assert_eq!(starts, [true, true, false, false, true, false]);
    }

    #[test]
    fn dot_leaders_collapse() {
        assert_eq!(collapse_leaders("1.2 Setup . . . . . . . 14"), "1.2 Setup … 14");
        assert_eq!(collapse_leaders("Contents........ iii"), "Contents … iii");
        assert_eq!(collapse_leaders("see . . . and e.g. this"), "see … and e.g. this");
        assert_eq!(collapse_leaders("a . b"), "a . b");
    }

    #[test]
    fn a_short_line_then_an_indent_starts_a_paragraph() {
        let mut g = words(700.0, 72.0, &["a", "full", "line", "of", "text", "reaching", "the", "edge"], 0.3);
        g.extend(words(688.0, 72.0, &["short", "end."], 0.3));
        g.extend(words(676.0, 87.0, &["Indented", "new", "paragraph", "that", "runs", "long"], 0.3));
        g.extend(words(664.0, 72.0, &["and", "goes", "on", "at", "the", "margin", "to", "the", "edge"], 0.3));
        let out = lay_out(&page(g));
        let starts: Vec<bool> = out.lines.iter().map(|l| l.para_start).collect();
        assert_eq!(starts, [true, false, true, false]);
    }

    #[test]
    fn rotated_text_reads_along_its_direction() {
        // Text running up the page: advance (0, 5), up (-1, 0).
        let g: Vec<Glyph> = "up"
            .chars()
            .enumerate()
            .map(|(i, c)| Glyph {
                x: 50.0,
                y: 100.0 + 5.0 * i as f64,
                adv_x: 0.0,
                adv_y: 5.0,
                size: 10.0,
                up_x: -1.0,
                up_y: 0.0,
                text: c.to_string(),
            })
            .collect();
        let out = lay_out(&page(g));
        assert_eq!(out.lines.len(), 1);
        assert_eq!(out.lines[0].text, "up");
        assert_eq!(out.lines[0].orientation, Orientation::Left);
    }
}
