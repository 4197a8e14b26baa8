//! From the lines of all pages to sections: cut at outline entries, words hyphenated across line
//! ends re-joined, paragraphs separated by blank lines, a page mark where each page starts.

use std::collections::HashSet;

use super::layout::{Orientation, PageLines};
use super::outline::Entry;
use crate::document::{PageMark, Section};

/// A line in reading order across the whole document.
#[derive(Debug, Clone, PartialEq)]
struct Flat {
    page: u32,
    text: String,
    para_start: bool,
    base: f64,
    upright: bool,
    ocr: bool,
}

/// Builds the document's sections from its pages' lines (page `i` of the slice is physical page
/// `i + 1`) and its outline. Text before the first outline entry goes to a section with an empty
/// heading path; without an outline the whole text is one such section. Sections without text are
/// left out.
pub fn sections(pages: &[PageLines], outline: &[Entry]) -> Vec<Section> {
    let mut flat = flatten(pages);
    let starts = section_starts(&flat, outline);
    let boundaries: HashSet<usize> = starts.iter().map(|(i, _)| *i).collect();
    dehyphenate(&mut flat, &boundaries);

    let mut out = Vec::new();
    for (k, (start, path)) in starts.iter().enumerate() {
        let end = starts.get(k + 1).map_or(flat.len(), |(i, _)| *i);
        if let Some(section) = section_text(&flat[*start..end], path.clone()) {
            out.push(section);
        }
    }
    out
}

fn flatten(pages: &[PageLines]) -> Vec<Flat> {
    let mut flat: Vec<Flat> = Vec::new();
    for (i, page) in pages.iter().enumerate() {
        let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
        for (j, line) in page.lines.iter().enumerate() {
            let para_start = if j == 0 {
                flat.last().is_none_or(|prev| !continues_across_pages(&prev.text, &line.text))
            } else {
                line.para_start
            };
            flat.push(Flat {
                page: number,
                text: line.text.clone(),
                para_start,
                base: line.base,
                upright: line.orientation == Orientation::Upright,
                ocr: page.ocr,
            });
        }
    }
    flat
}

/// Whether the first line of a page continues the paragraph the previous page ended with: it
/// starts in lower case, or the previous page ended in a hyphenated word.
fn continues_across_pages(prev: &str, next: &str) -> bool {
    let Some(first) = next.chars().next() else { return false };
    first.is_lowercase() || (ends_with_hyphenated_word(prev) && first.is_alphabetic())
}

/// The first line of each section and its heading path, in order, starting with the text before
/// the first entry.
fn section_starts(flat: &[Flat], outline: &[Entry]) -> Vec<(usize, Vec<String>)> {
    let mut starts: Vec<(usize, Vec<String>)> = vec![(0, Vec::new())];
    for entry in outline {
        let prev = starts.last().map_or(0, |(p, _)| *p);
        let on_page = |j: usize| j < flat.len() && flat[j].page == entry.page;
        let mut i = flat.partition_point(|l| l.page < entry.page).max(prev);
        if let Some(top) = entry.top {
            // The first line on the page at or below the destination's top.
            while on_page(i) && flat[i].upright && flat[i].base > top + 2.0 {
                i += 1;
            }
        }
        // Destinations are not always precise: prefer the line that reads as the entry's title,
        // from there to the end of the page.
        if let Some(title) = entry.path.last().map(|t| squeeze(t))
            && let Some(j) =
                (i..flat.len()).take_while(|&j| on_page(j)).find(|&j| is_heading_line(&flat[j].text, &title))
        {
            i = j;
        }
        starts.push((i.max(prev), entry.path.clone()));
    }
    starts
}

/// Lowercase letters and digits only: "4.1 A specific example" -> "41aspecificexample".
fn squeeze(text: &str) -> String {
    text.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// Whether a line is the heading whose squeezed title is `title`: it holds the title and little
/// else (a number, "Chapter 4").
fn is_heading_line(line: &str, title: &str) -> bool {
    if title.is_empty() {
        return false;
    }
    let line = squeeze(line);
    line.len() <= title.len() + 12 && line.contains(title)
}

fn ends_with_hyphenated_word(text: &str) -> bool {
    let mut rev = text.chars().rev();
    rev.next() == Some('-') && rev.next().is_some_and(char::is_alphanumeric)
}

/// Re-joins words split by a hyphen at a line end, not across a section boundary or paragraph
/// break. Before a lower-case letter the hyphen goes ("inter-" + "national"), unless the document
/// spells the word with a hyphen elsewhere and never without ("well-known"), so that the join does
/// not invent words; before a capital or after a digit it stays ("Addison-Wesley"). The first word of the next line moves up, so every word stays whole on
/// one line (and one page).
fn dehyphenate(flat: &mut [Flat], boundaries: &HashSet<usize>) {
    let mut vocabulary: HashSet<String> = HashSet::new();
    for line in flat.iter() {
        for word in line.text.split_whitespace() {
            let w = word.trim_matches(|c: char| !c.is_alphanumeric());
            if !w.is_empty() {
                vocabulary.insert(w.to_lowercase());
            }
        }
    }
    for i in 0..flat.len().saturating_sub(1) {
        let next = i + 1;
        if boundaries.contains(&next) || flat[next].para_start || !ends_with_hyphenated_word(&flat[i].text) {
            continue;
        }
        let Some(first) = flat[next].text.split_whitespace().next().map(str::to_string) else { continue };
        let Some(initial) = first.chars().next() else { continue };
        if !initial.is_alphabetic() {
            continue;
        }
        let head = flat[i].text.trim_end_matches('-');
        let prefix = head.rsplit(char::is_whitespace).next().unwrap_or(head);
        let prefix = prefix.trim_start_matches(|c: char| !c.is_alphanumeric());
        let suffix = first.trim_end_matches(|c: char| !c.is_alphanumeric());
        let plain = format!("{prefix}{suffix}").to_lowercase();
        let hyphenated = format!("{prefix}-{suffix}").to_lowercase();
        // Hyphenation breaks a word before a lower-case letter and after a letter; before a
        // capital ("Addison-Wesley") or after a digit ("3-dimensional") the hyphen is real.
        let keep_hyphen = !initial.is_lowercase()
            || prefix.ends_with(|c: char| c.is_ascii_digit())
            || (vocabulary.contains(&hyphenated) && !vocabulary.contains(&plain));

        let mut joined = head.to_string();
        if keep_hyphen {
            joined.push('-');
        }
        joined.push_str(&first);
        flat[i].text = joined;
        let rest = flat[next].text.trim_start()[first.len()..].trim_start().to_string();
        flat[next].text = rest;
    }
}

/// The text of a run of lines with its page marks, or `None` when it holds no text.
fn section_text(lines: &[Flat], heading_path: Vec<String>) -> Option<Section> {
    let mut text = String::new();
    let mut pages: Vec<PageMark> = Vec::new();
    let mut para_pending = false;
    for line in lines {
        para_pending |= line.para_start;
        if line.text.is_empty() {
            continue;
        }
        if !text.is_empty() {
            text.push_str(if para_pending { "\n\n" } else { "\n" });
        }
        para_pending = false;
        if pages.last().is_none_or(|m| m.page != line.page) {
            pages.push(PageMark { offset: text.len(), page: line.page, ocr: line.ocr });
        }
        text.push_str(&line.text);
    }
    if text.trim().is_empty() {
        return None;
    }
    Some(Section { heading_path, anchor: None, pages, text, line: None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::layout::Line;

    fn page(lines: &[(&str, f64, bool)]) -> PageLines {
        PageLines {
            lines: lines
                .iter()
                .map(|(t, base, para)| Line {
                    text: (*t).into(),
                    orientation: Orientation::Upright,
                    start: 72.0,
                    end: 500.0,
                    base: *base,
                    size: 10.0,
                    para_start: *para,
                })
                .collect(),
            media_box: [0.0, 0.0, 612.0, 792.0],
            ocr: false,
        }
    }

    #[test]
    fn no_outline_one_section_with_page_marks() {
        let pages = [
            page(&[("Title", 700.0, true), ("First para goes", 650.0, true), ("on here.", 638.0, false)]),
            page(&[]),
            page(&[("and ends on page three.", 700.0, true), ("New para.", 670.0, true)]),
        ];
        let s = sections(&pages, &[]);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].text, "Title\n\nFirst para goes\non here.\nand ends on page three.\n\nNew para.");
        assert!(s[0].heading_path.is_empty());
        let at = s[0].text.find("and ends").unwrap();
        assert_eq!(
            s[0].pages,
            vec![PageMark { offset: 0, page: 1, ocr: false }, PageMark { offset: at, page: 3, ocr: false }]
        );
        assert_eq!(s[0].page_at(at + 3), Some(3));
        assert_eq!(s[0].page_at(at - 1), Some(1));
    }

    #[test]
    fn outline_entries_cut_sections_mid_page() {
        let pages = [
            page(&[("Preface text.", 700.0, true)]),
            page(&[
                ("1 Intro", 700.0, true),
                ("Intro text.", 680.0, true),
                ("1.1 Detail", 600.0, true),
                ("Detail text", 580.0, true),
            ]),
            page(&[("continues.", 700.0, true)]),
        ];
        let outline = [
            Entry { path: vec!["1 Intro".into()], page: 2, top: Some(712.0) },
            Entry { path: vec!["1 Intro".into(), "1.1 Detail".into()], page: 2, top: Some(612.0) },
        ];
        let s = sections(&pages, &outline);
        let got: Vec<(Vec<String>, &str)> =
            s.iter().map(|s| (s.heading_path.clone(), s.text.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (vec![], "Preface text."),
                (vec!["1 Intro".to_string()], "1 Intro\n\nIntro text."),
                (
                    vec!["1 Intro".to_string(), "1.1 Detail".to_string()],
                    "1.1 Detail\n\nDetail text\ncontinues."
                ),
            ]
        );
        assert_eq!(s[1].pages, vec![PageMark { offset: 0, page: 2, ocr: false }]);
        let at = s[2].text.find("continues").unwrap();
        assert_eq!(
            s[2].pages,
            vec![PageMark { offset: 0, page: 2, ocr: false }, PageMark { offset: at, page: 3, ocr: false }]
        );
    }

    #[test]
    fn an_imprecise_destination_is_corrected_by_the_heading_line() {
        let pages = [page(&[
            ("4 Factors", 700.0, true),
            ("Factors classify things.", 680.0, true),
            ("4.1 A specific example", 650.0, true),
            ("Suppose we have", 630.0, true),
        ])];
        // Both entries point to the top of the page.
        let outline = [
            Entry { path: vec!["4 Factors".into()], page: 1, top: Some(720.0) },
            Entry { path: vec!["4 Factors".into(), "A specific example".into()], page: 1, top: Some(720.0) },
        ];
        let s = sections(&pages, &outline);
        let texts: Vec<&str> = s.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(
            texts,
            ["4 Factors\n\nFactors classify things.", "4.1 A specific example\n\nSuppose we have"]
        );
    }

    #[test]
    fn hyphenated_line_ends_are_joined() {
        let pages = [
            page(&[
                ("the inter-", 700.0, true),
                ("national well-", 688.0, false),
                ("known and well-known way; Debian-", 676.0, false),
                ("Based", 664.0, false),
                ("a multi-", 652.0, false),
            ]),
            page(&[("page word ends here.", 700.0, true)]),
        ];
        let s = sections(&pages, &[]);
        assert_eq!(
            s[0].text,
            "the international\nwell-known\nand well-known way; Debian-Based\na multipage\nword ends here."
        );
        // The word moved up stays on page 1; page 2 starts with the rest of its line.
        assert_eq!(s[0].page_at(s[0].text.find("multipage").unwrap()), Some(1));
        assert_eq!(s[0].page_at(s[0].text.find("word ends").unwrap()), Some(2));
    }
}
