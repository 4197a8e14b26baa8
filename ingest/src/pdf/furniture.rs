//! Running headers, footers and page numbers: the page furniture that repeats on every page and
//! would otherwise interrupt the text (and pollute search) once a page.
//!
//! The candidates are the top-most and bottom-most upright lines of each page. A candidate is
//! furniture when it is a bare page number ("12", "xiv", "Page 3 of 9", "- 4 -"), or when the same
//! line, with numbers normalised away, sits at the same edge of at least [`MIN_REPEATS`] pages and
//! is not set larger than the body text (chapter openings are big and must stay).

use std::collections::HashMap;

use super::layout::{Orientation, PageLines, body_size};

/// How many pages a line must repeat on, at the same edge, to count as a running header/footer.
pub const MIN_REPEATS: usize = 3;
/// Lines whose baselines are this close (in points) to the page's extreme one share its edge.
const EDGE_TOLERANCE: f64 = 2.0;
/// Fraction of the page height at the top and at the bottom where running heads and feet sit.
const EDGE_ZONE: f64 = 0.2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Edge {
    Top,
    Bottom,
}

/// Removes running headers, footers and page numbers from the pages' lines, in place. Returns how
/// many lines were removed.
pub fn strip(pages: &mut [PageLines]) -> usize {
    let body = body_size(pages);
    let mut candidates: Vec<Vec<(usize, Edge)>> = Vec::with_capacity(pages.len());
    let mut seen: HashMap<(Edge, String), usize> = HashMap::new();
    for page in pages.iter() {
        let edge_lines = edge_lines(page);
        let mut keys_here: Vec<(Edge, String)> = Vec::new();
        for &(i, edge) in &edge_lines {
            let key = (edge, normalise(&page.lines[i].text));
            if !keys_here.contains(&key) {
                keys_here.push(key);
            }
        }
        for key in keys_here {
            *seen.entry(key).or_default() += 1;
        }
        candidates.push(edge_lines);
    }
    let drops: Vec<Vec<usize>> = pages
        .iter()
        .zip(candidates)
        .map(|(page, edge_lines)| {
            let mut drop: Vec<usize> = edge_lines
                .into_iter()
                .filter(|&(i, edge)| {
                    let line = &page.lines[i];
                    if is_page_number(&line.text) {
                        return true;
                    }
                    let repeats = seen.get(&(edge, normalise(&line.text))).copied().unwrap_or(0);
                    repeats >= MIN_REPEATS && body.is_none_or(|b| line.size <= 1.3 * b)
                })
                .map(|(i, _)| i)
                .collect();
            drop.sort_unstable();
            drop
        })
        .collect();
    // A document that is nothing but what looks like furniture keeps it.
    let total: usize = pages.iter().map(|p| p.lines.len()).sum();
    if drops.iter().map(Vec::len).sum::<usize>() >= total {
        return 0;
    }
    let mut removed = 0;
    for (page, drop) in pages.iter_mut().zip(drops) {
        for i in drop.into_iter().rev() {
            page.lines.remove(i);
            removed += 1;
        }
        if let Some(first) = page.lines.first_mut() {
            first.para_start = true;
        }
    }
    removed
}

/// The indices of the upright lines at the top and bottom edges of a page.
fn edge_lines(page: &PageLines) -> Vec<(usize, Edge)> {
    let upright = || page.lines.iter().enumerate().filter(|(_, l)| l.orientation == Orientation::Upright);
    let Some(top) = upright().map(|(_, l)| l.base).reduce(f64::max) else {
        return Vec::new();
    };
    let bottom = upright().map(|(_, l)| l.base).fold(top, f64::min);
    // Furniture sits in the page's margins: the top or bottom fifth of the media box.
    let [_, lly, _, ury] = page.media_box;
    let height = ury - lly;
    let (top_zone, bottom_zone) = if height > 0.0 {
        (ury - EDGE_ZONE * height, lly + EDGE_ZONE * height)
    } else {
        (f64::MIN, f64::MAX)
    };
    let mut out = Vec::new();
    for (i, l) in upright() {
        if l.base >= top - EDGE_TOLERANCE && l.base >= top_zone {
            out.push((i, Edge::Top));
        } else if l.base <= bottom + EDGE_TOLERANCE && l.base <= bottom_zone {
            out.push((i, Edge::Bottom));
        }
    }
    // A page with a single baseline has no header or footer to tell apart from its text.
    if top - bottom <= EDGE_TOLERANCE {
        out.retain(|(i, _)| is_page_number(&page.lines[*i].text));
    }
    out
}

/// A line with numbers (Arabic or Roman) replaced by `#`, lowercased, spaces collapsed.
fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        let lower = word.to_lowercase();
        let core = lower.trim_matches(|c: char| !c.is_alphanumeric());
        if !core.is_empty() && is_roman(core) {
            out.push('#');
            continue;
        }
        let mut in_digits = false;
        for c in lower.chars() {
            if c.is_ascii_digit() {
                if !in_digits {
                    out.push('#');
                }
                in_digits = true;
            } else {
                out.push(c);
                in_digits = false;
            }
        }
    }
    out
}

/// Whether a lowercase word is a Roman numeral in canonical form (i to mmmcmxcix).
fn is_roman(word: &str) -> bool {
    const DIGITS: [(u32, &str); 13] = [
        (1000, "m"),
        (900, "cm"),
        (500, "d"),
        (400, "cd"),
        (100, "c"),
        (90, "xc"),
        (50, "l"),
        (40, "xl"),
        (10, "x"),
        (9, "ix"),
        (5, "v"),
        (4, "iv"),
        (1, "i"),
    ];
    if word.is_empty() || word.len() > 12 {
        return false;
    }
    let mut rest = word;
    let mut value = 0u32;
    for (n, s) in DIGITS {
        while let Some(r) = rest.strip_prefix(s) {
            rest = r;
            value += n;
        }
    }
    if !rest.is_empty() || value == 0 || value >= 4000 {
        return false;
    }
    // Canonical form only: re-render and compare ("iiii" and "vx" are not numerals).
    let mut rendered = String::new();
    let mut v = value;
    for (n, s) in DIGITS {
        while v >= n {
            rendered.push_str(s);
            v -= n;
        }
    }
    rendered == word
}

/// Whether a line is only a page number: "12", "xiv", "- 12 -", "[12]", "Page 12", "12 of 40",
/// "12/40".
pub fn is_page_number(text: &str) -> bool {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == '/')
        .map(|w| w.trim_matches(|c: char| matches!(c, '-' | '–' | '—' | '[' | ']' | '(' | ')' | '|' | '.')))
        .filter(|w| !w.is_empty())
        .collect();
    let number = |w: &str| w.len() <= 5 && w.chars().all(|c| c.is_ascii_digit());
    let roman = |w: &str| is_roman(w);
    match words.as_slice() {
        [n] => number(n) || roman(n),
        ["page" | "p" | "seite" | "página" | "pagina", n] => number(n) || roman(n),
        [n, "of", m] => number(n) && number(m),
        [n, m] => number(n) && number(m) && text.contains('/'),
        ["page", n, "of", m] => number(n) && number(m),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::layout::Line;
    use super::*;

    fn line(text: &str, base: f64, size: f64) -> Line {
        Line {
            text: text.into(),
            orientation: Orientation::Upright,
            start: 72.0,
            end: 500.0,
            base,
            size,
            para_start: false,
        }
    }

    fn book_page(n: usize, chapter_start: bool) -> PageLines {
        let mut lines = Vec::new();
        if chapter_start {
            lines.push(line(&format!("Chapter {n}"), 760.0, 24.0));
        } else {
            lines.push(line(&format!("Debian Reference {n}"), 760.0, 10.0));
        }
        lines.push(line(&format!("Body text of page {n} begins here."), 700.0, 10.0));
        lines.push(line("and goes on.", 688.0, 10.0));
        lines.push(line(&n.to_string(), 40.0, 10.0));
        PageLines { lines, media_box: [0.0, 0.0, 612.0, 792.0], ocr: false }
    }

    #[test]
    fn running_heads_and_page_numbers_go_chapter_openings_stay() {
        let mut pages: Vec<PageLines> = (1..=6).map(|n| book_page(n, n % 3 == 1)).collect();
        let removed = strip(&mut pages);
        assert_eq!(removed, 4 + 6);
        let first: Vec<&str> = pages[0].lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(first, ["Chapter 1", "Body text of page 1 begins here.", "and goes on."]);
        let second: Vec<&str> = pages[1].lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(second, ["Body text of page 2 begins here.", "and goes on."]);
        assert!(pages[1].lines[0].para_start);
    }

    #[test]
    fn a_document_of_only_page_numbers_keeps_them() {
        let mut pages: Vec<PageLines> = (1..=2)
            .map(|n| PageLines {
                lines: vec![line(&n.to_string(), 700.0, 10.0)],
                media_box: [0.0, 0.0, 612.0, 792.0],
                ocr: false,
            })
            .collect();
        assert_eq!(strip(&mut pages), 0);
        assert_eq!(pages[1].lines[0].text, "2");
    }

    #[test]
    fn lines_repeated_on_too_few_pages_stay() {
        let mut pages: Vec<PageLines> = (1..=2).map(|n| book_page(n, false)).collect();
        strip(&mut pages);
        assert_eq!(pages[0].lines[0].text, "Debian Reference 1");
    }

    #[test]
    fn page_number_shapes() {
        for yes in ["12", "xiv", "- 12 -", "[12]", "Page 12", "12 of 40", "12/40", "— 3 —"] {
            assert!(is_page_number(yes), "{yes}");
        }
        for no in ["12 apples", "Chapter 3", "1999 and 2000", "Introduction", ""] {
            assert!(!is_page_number(no), "{no}");
        }
    }

    #[test]
    fn roman_numerals_are_canonical() {
        for yes in ["i", "iv", "xix", "xlii", "mcmxcix"] {
            assert!(is_roman(yes), "{yes}");
        }
        for no in ["iiii", "vx", "dim", "civil", "", "mid"] {
            assert!(!is_roman(no), "{no}");
        }
    }

    #[test]
    fn numbers_are_normalised() {
        assert_eq!(normalise("Debian Reference  xix"), "debian reference #");
        assert_eq!(normalise("Chapter 12. Setup 245"), "chapter #. setup #");
    }
}
