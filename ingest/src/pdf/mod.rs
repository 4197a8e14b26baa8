//! PDF loader: text page by page, with word spaces recovered from glyph positions, running heads
//! and page numbers dropped, sections cut at the outline's entries, and title and authors from
//! the document's metadata.
//!
//! The text comes from pdf-extract driving [`device::GlyphCollector`], one page at a time, so
//! every line knows its physical page and one broken page does not lose the others. The calls
//! into lopdf and pdf-extract that parse the file run under [`crate::guard::catch`]: they panic
//! on some malformed files, and such a panic becomes [`IngestError::Internal`] (for the page,
//! when it is one page's text). lore's own code (the glyph collector pdf-extract calls back,
//! layout, outline, metadata) runs outside it, so a bug there is not mistaken for a damaged file.

mod assemble;
mod device;
mod furniture;
mod layout;
mod meta;
mod outline;
mod repair;
mod sanity;

use std::collections::HashMap;

use lopdf::ObjectId;

use crate::document::{Document, Kind};
use crate::error::{IngestError, Result};
use crate::guard;
use crate::ocr::{self, OcrFailure, OcrMode, OcrOptions, OcrProgress};

use self::device::GlyphCollector;
use self::layout::PageLines;

/// The hint given when a PDF has pages but no text and OCR is off (`ingest.ocr = "never"`).
pub const NO_TEXT_HINT: &str =
    "no text layer (scanned pages?); set ingest.ocr = \"auto\" to read them by OCR";

/// The hint given when a PDF loaded without OCR ([`load`]: a PDF fetched from the web) has pages
/// but no text.
pub const NO_TEXT_HINT_WITHOUT_OCR: &str =
    "no text layer (scanned pages?); lore reads scanned pages by OCR in files: download it and add the file";

/// Loads a PDF from its bytes, without OCR. `item` names it in errors and becomes the
/// document's source; the caller fills in the hash.
pub fn load(bytes: &[u8], item: &str) -> Result<Document> {
    let never = OcrOptions { mode: OcrMode::Never, ..OcrOptions::default() };
    load_pages(bytes, item, usize::MAX, &never, &mut |_| {}).map_err(|e| match e {
        IngestError::NoText { item, hint: Some(h) } if h == NO_TEXT_HINT => {
            IngestError::NoText { item, hint: Some(NO_TEXT_HINT_WITHOUT_OCR.into()) }
        }
        other => other,
    })
}

/// Loads a PDF from its bytes, reading pages by OCR as `ocr` says and reporting each page read
/// to `progress`.
pub fn load_with_ocr(
    bytes: &[u8],
    item: &str,
    ocr: &OcrOptions,
    progress: &mut dyn FnMut(OcrProgress),
) -> Result<Document> {
    load_pages(bytes, item, usize::MAX, ocr, progress)
}

/// Loads only the first `max_pages` pages of a PDF: enough to tell what it is written in
/// without extracting a whole book (see `sample.rs`). No page is read by OCR.
pub(crate) fn load_first_pages(bytes: &[u8], item: &str, max_pages: usize) -> Result<Document> {
    let never = OcrOptions { mode: OcrMode::Never, ..OcrOptions::default() };
    load_pages(bytes, item, max_pages, &never, &mut |_| {})
}

fn corrupt(item: &str, reason: impl Into<String>) -> IngestError {
    IngestError::Corrupt { item: item.to_string(), format: "PDF", reason: reason.into() }
}

fn load_pages(
    bytes: &[u8],
    item: &str,
    max_pages: usize,
    ocr: &OcrOptions,
    progress: &mut dyn FnMut(OcrProgress),
) -> Result<Document> {
    if bytes.is_empty() {
        return Err(IngestError::Empty { item: item.to_string() });
    }
    let head = &bytes[..bytes.len().min(1024)];
    if !head.windows(5).any(|w| w == b"%PDF-") {
        return Err(corrupt(item, "no %PDF- header"));
    }
    let doc = open(bytes, item)?;
    let mut page_ids: Vec<(u32, ObjectId)> =
        guard::catch(item, "PDF parser", || doc.get_pages())?.into_iter().collect();
    if page_ids.is_empty() {
        return Err(corrupt(item, "no pages found"));
    }
    let page_count = u32::try_from(page_ids.len()).unwrap_or(u32::MAX);
    page_ids.truncate(max_pages);

    let extracted = extract_pages(&doc, &page_ids, item);
    let mut pages = extracted.pages;
    let glyph_total: usize = extracted.glyphs;
    let scanned: Vec<usize> = match ocr.mode {
        OcrMode::Never => Vec::new(),
        OcrMode::Always => (0..pages.len()).collect(),
        OcrMode::Auto => (0..pages.len())
            .filter(|&i| {
                pages[i].lines.is_empty() && sanity::has_images(&doc, std::iter::once(page_ids[i].1))
            })
            .collect(),
    };
    let had_text = pages.iter().any(|p| !p.lines.is_empty());
    let mut ocr_note = None;
    if !scanned.is_empty() {
        match read_by_ocr(bytes, &page_ids, &scanned, &mut pages, ocr, progress) {
            Ok(()) => {
                if pages.iter().all(|p| p.lines.is_empty()) {
                    ocr_note = Some(match scanned.len() {
                        1 => "OCR found no words on its scanned page".to_string(),
                        n => format!("OCR found no words on its {n} scanned pages"),
                    });
                }
            }
            // Without tesseract the pages that have text are kept; a file of scanned pages
            // alone is refused with the way to install it.
            Err(OcrFailure::Missing(why)) if !had_text => {
                return Err(IngestError::NoText {
                    item: item.to_string(),
                    hint: Some(format!("no text layer (scanned pages?), and {why}")),
                });
            }
            Err(OcrFailure::Missing(_)) => {}
            Err(OcrFailure::Failed(why)) => {
                return Err(IngestError::Ocr { item: item.to_string(), reason: why });
            }
        }
    }
    if pages.iter().all(|p| p.lines.is_empty()) {
        if let Some(err) = extracted.first_failure {
            return Err(err);
        }
        let hint = if let Some(note) = ocr_note {
            note
        } else if glyph_total > 0 {
            "its characters are all blank".into()
        } else if sanity::has_images(&doc, page_ids.iter().map(|(_, id)| *id)) {
            NO_TEXT_HINT.into()
        } else {
            "its pages draw no text".into()
        };
        return Err(IngestError::NoText { item: item.to_string(), hint: Some(hint) });
    }

    let body_size = layout::body_size(&pages);
    let title_line = pages.first().and_then(|p| meta::title_from_first_page(p, body_size));
    furniture::strip(&mut pages);

    let page_of: HashMap<ObjectId, u32> = page_ids.iter().map(|&(n, id)| (id, n)).collect();
    let entries = outline::read(&doc, &page_of);
    let sections = assemble::sections(&pages, &entries);
    if sections.is_empty() {
        return Err(IngestError::NoText { item: item.to_string(), hint: None });
    }

    let info = meta::read(&doc, item);
    Ok(Document {
        source: item.to_string(),
        url: None,
        kind: Kind::Pdf,
        title: info.title.or(title_line).unwrap_or_default(),
        authors: info.authors,
        language: None,
        published: None,
        hash: String::new(),
        byte_len: bytes.len() as u64,
        page_count: Some(page_count),
        site: None,
        sections,
    })
}

/// Parses the file (decrypting it when it opens with the empty password). A file whose
/// cross-reference table is broken, or leads to no pages, is parsed again with a rebuilt table.
fn open(bytes: &[u8], item: &str) -> Result<lopdf::Document> {
    let is_encryption = |e: &lopdf::Error| {
        matches!(
            e,
            lopdf::Error::Decryption(_)
                | lopdf::Error::InvalidPassword
                | lopdf::Error::UnsupportedSecurityHandler(_)
        )
    };
    let parse = |bytes: &[u8]| guard::catch(item, "PDF parser", || lopdf::Document::load_mem(bytes));
    let has_pages = |doc: &lopdf::Document| guard::catch(item, "PDF parser", || !doc.get_pages().is_empty());
    let repaired = || -> Result<Option<lopdf::Document>> {
        let Some(fixed) = repair::rebuild_xref(bytes) else { return Ok(None) };
        match parse(&fixed)? {
            Ok(doc) if has_pages(&doc)? => Ok(Some(doc)),
            _ => Ok(None),
        }
    };
    let doc = match parse(bytes)? {
        Ok(doc) if !has_pages(&doc)? && !doc.is_encrypted() => repaired()?.unwrap_or(doc),
        Ok(doc) => doc,
        Err(e) if is_encryption(&e) => return Err(IngestError::Encrypted { item: item.to_string() }),
        Err(e) => match repaired()? {
            Some(doc) => doc,
            None => return Err(corrupt(item, one_line(&e.to_string()))),
        },
    };
    // lopdf decrypts with the empty password while loading; the Encrypt entry stays only when
    // that failed.
    if doc.is_encrypted() {
        return Err(IngestError::Encrypted { item: item.to_string() });
    }
    Ok(doc)
}

/// Reads the pages at the indexes `scanned` by OCR, replacing their lines, in the languages
/// `ocr` asks for (resolved against what tesseract has), reporting each page to `progress`.
fn read_by_ocr(
    bytes: &[u8],
    page_ids: &[(u32, ObjectId)],
    scanned: &[usize],
    pages: &mut [PageLines],
    ocr: &OcrOptions,
    progress: &mut dyn FnMut(OcrProgress),
) -> std::result::Result<(), OcrFailure> {
    let installed = ocr::installed_languages(ocr)?;
    let languages = ocr::choose_languages(ocr, &installed)?;
    let hash = crate::hash::content_hash(bytes);
    let reader = ocr::PageReader::new(ocr, bytes, &hash, languages)?;
    for (done, &i) in scanned.iter().enumerate() {
        let number = page_ids[i].0;
        let (text, cached) = reader.read(number).map_err(|f| match f {
            OcrFailure::Failed(why) => OcrFailure::Failed(format!("page {number}: {why}")),
            missing => missing,
        })?;
        let media_box = pages[i].media_box;
        pages[i] = layout::ocr_page(&text, media_box);
        progress(OcrProgress { page: number, done: done + 1, total: scanned.len(), cached });
    }
    Ok(())
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The laid-out pages and what went wrong on the way.
struct Extracted {
    /// One entry per page, empty for pages that failed.
    pages: Vec<PageLines>,
    /// Glyphs seen in the whole document.
    glyphs: usize,
    /// Why the first failed page failed.
    first_failure: Option<IngestError>,
}

/// Runs pdf-extract on each page, each under its own guard, and lays out the glyphs.
fn extract_pages(doc: &lopdf::Document, page_ids: &[(u32, ObjectId)], item: &str) -> Extracted {
    let mut out = Extracted { pages: Vec::with_capacity(page_ids.len()), glyphs: 0, first_failure: None };
    let mut collector = GlyphCollector::new();
    let mut forms = sanity::FormCache::default();
    for &(number, id) in page_ids {
        let result = sanity::check_page(doc, id, &mut forms, item)
            .map_err(|why| corrupt(item, format!("page {number} cannot be read: {why}")))
            .and_then(|()| {
                guard::catch(item, "PDF parser", || pdf_extract::output_doc_page(doc, &mut collector, number))
            })
            .and_then(|extracted| {
                extracted.map_err(|e| corrupt(item, format!("page {number}: {}", one_line(&e.to_string()))))
            })
            .map(|()| collector.take());
        match result {
            Ok(glyphs) => {
                out.glyphs += glyphs.glyphs.len();
                out.pages.push(layout::lay_out(&glyphs));
            }
            Err(err) => {
                if out.first_failure.is_none() {
                    out.first_failure = Some(err);
                }
                collector.take();
                out.pages.push(PageLines::default());
            }
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use lopdf::content::{Content, Operation};
    use lopdf::{Object, Stream, dictionary};

    use super::*;

    /// A four-page PDF: a running head and a page number on every page, body text, an Info
    /// title and an outline entry pointing to page 3.
    pub(crate) fn sample_pdf() -> Vec<u8> {
        let mut doc = lopdf::Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let font_id = doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
            "FirstChar" => 32, "LastChar" => 126,
            "Widths" => (32..=126).map(|_| Object::Integer(500)).collect::<Vec<_>>(),
        });
        let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
        let text = |x: i64, y: i64, s: &str| {
            vec![
                Operation::new("BT", vec![]),
                Operation::new("Tf", vec!["F1".into(), 10.into()]),
                Operation::new("Td", vec![x.into(), y.into()]),
                Operation::new("Tj", vec![Object::string_literal(s)]),
                Operation::new("ET", vec![]),
            ]
        };
        let mut kids = Vec::new();
        for n in 1..=4 {
            let mut ops = text(72, 760, "Quarterly Report");
            ops.extend(text(72, 700, &format!("Body of page {n} goes on")));
            ops.extend(text(72, 688, "to a second line."));
            ops.extend(text(300, 40, &n.to_string()));
            let content = Content { operations: ops }.encode().unwrap();
            let content_id = doc.add_object(Stream::new(dictionary! {}, content));
            let page_id = doc.add_object(dictionary! {
                "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
                "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
            });
            kids.push(Object::Reference(page_id));
        }
        let third = kids[2].clone();
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! {
                "Type" => "Pages", "Kids" => kids, "Count" => 4, "Resources" => resources_id,
            }),
        );
        let outlines_id = doc.new_object_id();
        let entry_id = doc.add_object(dictionary! {
            "Title" => Object::string_literal("Results"),
            "Parent" => outlines_id,
            "Dest" => vec![third, "Fit".into()],
        });
        doc.objects.insert(
            outlines_id,
            Object::Dictionary(dictionary! { "Type" => "Outlines", "First" => entry_id, "Last" => entry_id }),
        );
        let catalog_id = doc.add_object(dictionary! {
            "Type" => "Catalog", "Pages" => pages_id, "Outlines" => outlines_id,
        });
        let info_id = doc.add_object(dictionary! {
            "Title" => Object::string_literal("Q3 Report"), "Author" => Object::string_literal("Ann Author; Bob Writer"),
        });
        doc.trailer.set("Root", catalog_id);
        doc.trailer.set("Info", info_id);
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        out
    }

    #[test]
    fn a_small_pdf_loads_with_sections_pages_and_metadata() {
        let doc = load(&sample_pdf(), "q3.pdf").unwrap();
        assert_eq!(doc.kind, Kind::Pdf);
        assert_eq!(doc.title, "Q3 Report");
        assert_eq!(doc.authors, ["Ann Author", "Bob Writer"]);
        assert_eq!(doc.page_count, Some(4));
        assert_eq!(doc.byte_len, sample_pdf().len() as u64);
        let paths: Vec<Vec<String>> = doc.sections.iter().map(|s| s.heading_path.clone()).collect();
        assert_eq!(paths, vec![vec![], vec!["Results".to_string()]]);
        let first = &doc.sections[0];
        assert!(!first.text.contains("Quarterly Report"), "running head kept: {}", first.text);
        assert!(first.text.starts_with("Body of page 1 goes on\nto a second line."), "{}", first.text);
        let at = first.text.find("Body of page 2").unwrap();
        assert_eq!(first.page_at(at), Some(2));
        assert_eq!(first.page_at(at - 1), Some(1));
        let results = &doc.sections[1];
        assert!(results.text.starts_with("Body of page 3"));
        assert_eq!(results.pages.first().map(|m| (m.offset, m.page)), Some((0, 3)));
        assert_eq!(results.page_at(results.text.len() - 1), Some(4));
    }

    #[test]
    fn the_first_pages_alone_are_read_when_asked() {
        let doc = load_first_pages(&sample_pdf(), "q3.pdf", 2).unwrap();
        let text: String = doc.sections.iter().map(|s| s.text.as_str()).collect();
        assert!(text.contains("Body of page 1") && text.contains("Body of page 2"), "{text}");
        assert!(!text.contains("Body of page 3") && !text.contains("Body of page 4"), "{text}");
        assert_eq!(doc.page_count, Some(4), "the page count is the file's");
    }

    /// Whether tesseract with English is here; without it an OCR test passes vacuously, saying
    /// so, unless `LORE_REQUIRE` names `ocr`.
    fn tesseract_here() -> bool {
        let ok = ocr::installed_languages(&OcrOptions::default()).is_ok_and(|l| l.iter().any(|l| l == "eng"));
        let required = std::env::var("LORE_REQUIRE").is_ok_and(|r| r.split(',').any(|w| w.trim() == "ocr"));
        assert!(ok || !required, "tesseract with English is required here (LORE_REQUIRE) but missing");
        if !ok {
            eprintln!("skipped (needs ocr): tesseract with English is not installed");
        }
        ok
    }

    /// A PDF of one page that draws an 8×8 grey image and no text.
    fn image_only_pdf() -> Vec<u8> {
        let mut doc = lopdf::Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let image = doc.add_object(Stream::new(
            dictionary! {
                "Type" => "XObject", "Subtype" => "Image", "Width" => 8, "Height" => 8,
                "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8,
            },
            vec![128u8; 64],
        ));
        let ops = vec![
            Operation::new("q", vec![]),
            Operation::new("cm", vec![100.into(), 0.into(), 0.into(), 100.into(), 0.into(), 0.into()]),
            Operation::new("Do", vec!["Im1".into()]),
            Operation::new("Q", vec![]),
        ];
        let content =
            doc.add_object(Stream::new(dictionary! {}, Content { operations: ops }.encode().unwrap()));
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content,
            "MediaBox" => vec![0.into(), 0.into(), 100.into(), 100.into()],
            "Resources" => dictionary! { "XObject" => dictionary! { "Im1" => image } },
        });
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 }),
        );
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog);
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        out
    }

    #[test]
    fn always_reads_every_page_by_ocr_marks_it_and_caches_it() {
        if !tesseract_here() {
            return;
        }
        let cache = tempfile::tempdir().unwrap();
        let ocr = OcrOptions {
            mode: OcrMode::Always,
            dpi: 150,
            cache_dir: Some(cache.path().to_path_buf()),
            ..Default::default()
        };
        let mut seen = Vec::new();
        let doc = load_with_ocr(&sample_pdf(), "q3.pdf", &ocr, &mut |p| {
            seen.push((p.page, p.done, p.total, p.cached))
        })
        .unwrap();
        assert_eq!(seen, [(1, 1, 4, false), (2, 2, 4, false), (3, 3, 4, false), (4, 4, 4, false)]);
        let text: String = doc.sections.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join("\n");
        assert!(text.contains("Body of page 2 goes on"), "{text}");
        assert!(doc.sections.iter().all(|s| !s.pages.is_empty() && s.pages.iter().all(|m| m.ocr)));
        let at = doc.sections[0].text.find("Body of page 2").unwrap();
        assert_eq!(doc.sections[0].page_at(at), Some(2));
        assert_eq!(doc.page_count, Some(4));

        // Read again: every page comes from the cache, the same text.
        seen.clear();
        let again = load_with_ocr(&sample_pdf(), "q3.pdf", &ocr, &mut |p| {
            seen.push((p.page, p.done, p.total, p.cached))
        })
        .unwrap();
        assert!(seen.iter().all(|s| s.3), "{seen:?}");
        assert_eq!(again.sections, doc.sections);

        // Auto leaves pages with a text layer alone.
        let auto = OcrOptions { mode: OcrMode::Auto, ..ocr.clone() };
        let doc =
            load_with_ocr(&sample_pdf(), "q3.pdf", &auto, &mut |_| panic!("no page needs OCR")).unwrap();
        assert!(doc.sections.iter().all(|s| s.pages.iter().all(|m| !m.ocr)));
    }

    #[test]
    fn ocr_that_fails_or_is_missing_is_one_line_naming_the_file() {
        if !tesseract_here() {
            return;
        }
        let broken = OcrOptions { pdftoppm: "false".into(), ..Default::default() };
        let err = load_with_ocr(&image_only_pdf(), "scan.pdf", &broken, &mut |_| {}).unwrap_err();
        assert_eq!(err.to_string(), "scan.pdf: OCR failed: page 1: pdftoppm failed with status 1");
        assert_eq!(err.reason_code(), "ocr");

        let missing = OcrOptions { tesseract: "/nonexistent/tesseract".into(), ..Default::default() };
        let err = load_with_ocr(&image_only_pdf(), "scan.pdf", &missing, &mut |_| {}).unwrap_err();
        assert!(
            err.to_string().starts_with("scan.pdf: no text found (no text layer (scanned pages?), and tesseract is not installed: install tesseract"),
            "{err}"
        );

        let never = OcrOptions { mode: OcrMode::Never, ..Default::default() };
        let err = load_with_ocr(&image_only_pdf(), "scan.pdf", &never, &mut |_| {}).unwrap_err();
        assert_eq!(err.to_string(), format!("scan.pdf: no text found ({NO_TEXT_HINT})"));
        let err = load(&image_only_pdf(), "scan.pdf").unwrap_err();
        assert_eq!(err.to_string(), format!("scan.pdf: no text found ({NO_TEXT_HINT_WITHOUT_OCR})"));

        // A grey square holds no words.
        let err =
            load_with_ocr(&image_only_pdf(), "scan.pdf", &OcrOptions::default(), &mut |_| {}).unwrap_err();
        assert_eq!(err.to_string(), "scan.pdf: no text found (OCR found no words on its scanned page)");
    }

    #[test]
    fn garbage_empty_and_headerless_input_fail_with_reasons() {
        let err = load(b"", "e.pdf").unwrap_err();
        assert_eq!(err.reason_code(), "empty");
        let err = load(b"hello world", "h.pdf").unwrap_err();
        assert_eq!(err.to_string(), "h.pdf: not a valid PDF file: no %PDF- header");
        let mut cut = sample_pdf();
        cut.truncate(cut.len() / 3);
        let err = load(&cut, "cut.pdf").unwrap_err();
        assert!(err.to_string().starts_with("cut.pdf: "), "{err}");
    }
}
