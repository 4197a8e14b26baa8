//! Title and authors: from the Info dictionary, else from XMP metadata, else (title only) from the
//! first heading-like line of the first page.

use lopdf::{Document, Object};

use super::layout::{Orientation, PageLines};
use super::outline::text_string;

/// Title and authors a PDF names for itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Meta {
    /// The title, when one is given and looks like a title.
    pub title: Option<String>,
    /// Authors in the order given.
    pub authors: Vec<String>,
}

/// Reads title and authors from the Info dictionary, filling gaps from XMP. `item` names the
/// file when a parser panics on its XMP stream (the stream is then ignored).
pub fn read(doc: &Document, item: &str) -> Meta {
    let mut meta = Meta::default();
    if let Some(info) = doc.trailer.get(b"Info").ok().and_then(|i| doc.dereference(i).ok()).map(|(_, i)| i)
        && let Ok(info) = info.as_dict()
    {
        let field = |key: &[u8]| info.get(key).ok().and_then(|v| text_string(doc, v));
        meta.title = field(b"Title").and_then(|t| meaningful_title(&t));
        meta.authors = field(b"Author").map(|a| split_authors(&a)).unwrap_or_default();
    }
    if (meta.title.is_none() || meta.authors.is_empty())
        && let Some(xmp) = xmp_packet(doc, item)
    {
        if meta.title.is_none() {
            meta.title = xmp_items(&xmp, "dc:title").into_iter().find_map(|t| meaningful_title(&t));
        }
        if meta.authors.is_empty() {
            meta.authors = xmp_items(&xmp, "dc:creator").iter().flat_map(|a| split_authors(a)).collect();
        }
    }
    meta
}

/// The document title set on the first page: its largest line(s), when clearly larger than the
/// body text.
pub fn title_from_first_page(page: &PageLines, body_size: Option<f64>) -> Option<String> {
    let candidates: Vec<_> = page
        .lines
        .iter()
        .filter(|l| {
            l.orientation == Orientation::Upright && l.text.chars().filter(|c| c.is_alphabetic()).count() >= 2
        })
        .collect();
    let largest = candidates.iter().map(|l| l.size).reduce(f64::max)?;
    if largest < 1.2 * body_size.unwrap_or(largest) {
        return None;
    }
    let first = candidates.iter().position(|l| l.size >= 0.95 * largest)?;
    // The first page of a report may open with its table of contents or abstract instead.
    let generic = ["contents", "table of contents", "abstract", "preface", "foreword", "index", "summary"];
    if generic.contains(&candidates[first].text.trim().trim_end_matches(':').to_lowercase().as_str()) {
        return None;
    }
    let mut title = String::new();
    for line in candidates[first..].iter().take(3).take_while(|l| (l.size - largest).abs() <= 0.05 * largest)
    {
        if !title.is_empty() {
            title.push(' ');
        }
        title.push_str(&line.text);
    }
    meaningful_title(&title)
}

/// The title cleaned up, or `None` when it is empty, a placeholder or a file name.
pub fn meaningful_title(raw: &str) -> Option<String> {
    let mut t = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    for prefix in ["Microsoft Word - ", "Microsoft PowerPoint - ", "Microsoft Excel - "] {
        if let Some(rest) = t.strip_prefix(prefix) {
            t = rest.to_string();
        }
    }
    let lower = t.to_lowercase();
    for ext in [".docx", ".doc", ".odt", ".rtf", ".pptx", ".ppt"] {
        if lower.ends_with(ext) && t.len() > ext.len() {
            t.truncate(t.len() - ext.len());
            break;
        }
    }
    let lower = t.to_lowercase();
    let letters = t.chars().filter(|c| c.is_alphabetic()).count();
    // "Untitled", "Untitled-3", "Document1", "Presentation 2", "title"...
    let placeholder =
        ["untitled", "document", "presentation", "book", "title", "no title", "none", "unknown", "slide"]
            .iter()
            .filter_map(|word| lower.strip_prefix(word))
            .any(|rest| rest.trim_start_matches(['-', ' ', '_']).chars().all(|c| c.is_ascii_digit()));
    let file_like = [".pdf", ".tex", ".dvi", ".ps", ".indd", ".qxd", ".txt", ".html", ".htm", ".xml", ".md"]
        .iter()
        .any(|ext| lower.ends_with(ext))
        || t.contains('\\')
        || t.starts_with('/');
    if letters < 2 || placeholder || file_like {
        return None;
    }
    Some(t)
}

/// Splits an author field into names: on `;`, else on " and " / "&", else on commas when every
/// part is a full name (so "Aoki, Osamu" stays one name). E-mail addresses in angle brackets go.
pub fn split_authors(raw: &str) -> Vec<String> {
    let clean = strip_angle_brackets(raw);
    let clean = clean.trim();
    let parts: Vec<String> = if clean.contains(';') {
        clean.split(';').map(str::to_string).collect()
    } else if clean.contains(" and ") || clean.contains('&') {
        clean
            .split(" and ")
            .flat_map(|p| p.split('&'))
            .flat_map(|p| p.split(','))
            .map(str::to_string)
            .collect()
    } else if clean.contains(',') && clean.split(',').all(|p| p.split_whitespace().count() >= 2) {
        clean.split(',').map(str::to_string).collect()
    } else {
        vec![clean.to_string()]
    };
    parts
        .into_iter()
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| p.chars().any(char::is_alphabetic))
        .filter(|p| {
            !["unknown", "user", "owner", "admin", "administrator", "author"]
                .contains(&p.to_lowercase().as_str())
        })
        .collect()
}

fn strip_angle_brackets(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0usize;
    for c in s.chars() {
        match c {
            '<' => depth += 1,
            '>' => depth = depth.saturating_sub(1),
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// The XMP packet of the document catalog, as text.
fn xmp_packet(doc: &Document, item: &str) -> Option<String> {
    let catalog = doc.catalog().ok()?;
    let (_, obj) = doc.dereference(catalog.get(b"Metadata").ok()?).ok()?;
    let Object::Stream(stream) = obj else { return None };
    let bytes = crate::guard::catch(item, "PDF parser", || stream.decompressed_content()).ok()?.ok()?;
    if bytes.len() > 4 * 1024 * 1024 {
        return None;
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The `rdf:li` values inside an XMP element (`dc:title`, `dc:creator`), or its plain text.
fn xmp_items(xmp: &str, element: &str) -> Vec<String> {
    let open = format!("<{element}");
    let close = format!("</{element}>");
    let Some(start) = xmp.find(&open) else { return Vec::new() };
    let after_open = &xmp[start..];
    let Some(body_start) = after_open.find('>') else { return Vec::new() };
    if after_open[..body_start].ends_with('/') {
        return Vec::new();
    }
    let body = &after_open[body_start + 1..];
    let body = &body[..body.find(&close).unwrap_or(body.len())];
    let mut items = Vec::new();
    let mut rest = body;
    while let Some(i) = rest.find("<rdf:li") {
        let li = &rest[i..];
        let Some(gt) = li.find('>') else { break };
        let content = &li[gt + 1..];
        if li[..gt].ends_with('/') {
            // <rdf:li xml:lang="x-default"/>: an empty item.
            rest = content;
            continue;
        }
        let end = content.find("</rdf:li>").unwrap_or(content.len());
        let value = &content[..end];
        if !value.contains('<') {
            items.push(xml_unescape(value));
        }
        rest = &content[end..];
    }
    if items.is_empty() && !body.contains('<') {
        items.push(xml_unescape(body));
    }
    items
        .into_iter()
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
        .collect()
}

fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::layout::Line;

    #[test]
    fn placeholder_and_file_name_titles_are_rejected() {
        assert_eq!(meaningful_title("  Debian   Reference "), Some("Debian Reference".into()));
        assert_eq!(meaningful_title("Microsoft Word - Thesis final.docx"), Some("Thesis final".into()));
        assert_eq!(meaningful_title("Documentation"), Some("Documentation".into()));
        for bad in ["", "untitled", "Untitled-3", "Document1", "report.pdf", "C:\\x\\y", "12", "—", "Slide 1"]
        {
            assert_eq!(meaningful_title(bad), None, "{bad}");
        }
    }

    #[test]
    fn authors_split_sensibly() {
        assert_eq!(split_authors("Osamu Aoki"), ["Osamu Aoki"]);
        assert_eq!(split_authors("Aoki, Osamu"), ["Aoki, Osamu"]);
        assert_eq!(split_authors("Ada Lovelace, Charles Babbage"), ["Ada Lovelace", "Charles Babbage"]);
        assert_eq!(split_authors("A. One; B. Two"), ["A. One", "B. Two"]);
        assert_eq!(split_authors("Kernighan and Ritchie"), ["Kernighan", "Ritchie"]);
        assert_eq!(
            split_authors("Live Systems Project <debian-live@lists.debian.org>"),
            ["Live Systems Project"]
        );
        assert!(split_authors("Unknown").is_empty());
    }

    #[test]
    fn xmp_title_and_creators() {
        let xmp = r#"<x:xmpmeta><rdf:RDF><rdf:Description>
            <dc:title><rdf:Alt><rdf:li xml:lang="x-default">Caf&amp;e notes</rdf:li></rdf:Alt></dc:title>
            <dc:creator><rdf:Seq><rdf:li>Ann Author</rdf:li><rdf:li>Bob Writer</rdf:li></rdf:Seq></dc:creator>
            </rdf:Description></rdf:RDF></x:xmpmeta>"#;
        assert_eq!(xmp_items(xmp, "dc:title"), ["Caf&e notes"]);
        assert_eq!(xmp_items(xmp, "dc:creator"), ["Ann Author", "Bob Writer"]);
        assert!(xmp_items(xmp, "dc:subject").is_empty());
        let empty = r#"<dc:title><rdf:Alt><rdf:li xml:lang="x-default"/></rdf:Alt></dc:title>"#;
        assert!(xmp_items(empty, "dc:title").is_empty());
    }

    #[test]
    fn first_page_title_is_its_largest_text() {
        let line = |text: &str, base: f64, size: f64| Line {
            text: text.into(),
            orientation: Orientation::Upright,
            start: 72.0,
            end: 400.0,
            base,
            size,
            para_start: true,
        };
        let page = PageLines {
            lines: vec![
                line("1", 780.0, 10.0),
                line("An Introduction", 700.0, 24.0),
                line("to R", 670.0, 24.0),
                line("Notes on R: A Programming Environment", 600.0, 14.0),
            ],
            media_box: [0.0, 0.0, 612.0, 792.0],
            ocr: false,
        };
        assert_eq!(title_from_first_page(&page, Some(10.0)), Some("An Introduction to R".into()));
        assert_eq!(title_from_first_page(&page, Some(22.0)), None);
    }
}
