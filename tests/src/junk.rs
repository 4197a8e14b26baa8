//! Generated bad input for the bad-input tests: random bytes under document extensions,
//! truncated and corrupted copies of real PDFs and EPUBs, zip bombs inside EPUBs, PDFs whose
//! structure loops or nests without end, deeply nested HTML and very long text files.

use std::io::Write;
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::data;
use crate::rng::Rng;

/// How much junk to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// Every kind of junk, at sizes that keep a CI run short.
    Ci,
    /// Also the expensive cases: a million lines of real text, an EPUB that inflates to a
    /// hundred megabytes of paragraphs, a 2 MB line without a break.
    Full,
}

/// Writes the junk files into `dir` (created if needed) and returns them.
pub fn write_junk(dir: &Path, size: Size, rng: &mut Rng) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    let mut files = Vec::new();
    let mut put = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        files.push(path);
    };

    // Random bytes under every extension lore reads, bare and behind the right magic bytes.
    for ext in ["pdf", "epub", "html", "htm", "txt", "md", "markdown", "xhtml"] {
        for len in [1usize, 700, 64 * 1024] {
            put(&format!("random_{len}.{ext}"), &rng.bytes(len));
        }
    }
    for (name, magic) in [
        ("magic_pdf.pdf", &b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"[..]),
        ("magic_zip.epub", b"PK\x03\x04"),
        ("magic_html.html", b"<!DOCTYPE html><html><head><title>x</title></head><body>"),
        ("magic_bom.txt", b"\xef\xbb\xbf"),
    ] {
        let mut bytes = magic.to_vec();
        bytes.extend(rng.bytes(32 * 1024));
        put(name, &bytes);
    }
    put("nul_bytes.txt", &vec![0u8; 100_000]);
    put("only_whitespace.md", " \n\t\n   \n".repeat(1000).as_bytes());
    put("bom_only.txt", b"\xef\xbb\xbf");
    put("invalid_utf8.md", b"# Title\n\nvalid start \xff\xfe\xc3\x28 then \xa0\xa1 broken sequences\n");
    let utf16: Vec<u8> = "A note written in UTF-16 about the whale and the sea, long enough to read."
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .fold(vec![0xff, 0xfe], |mut v, b| {
            v.push(b);
            v
        });
    put("utf16_bom.txt", &utf16);
    put("script_only.html", b"<html><body><script>var a = 1;</script><style>p{}</style></body></html>");
    // One "word" without a break, like a base64 image pasted into a note.
    let long_word = if size == Size::Full { 2 << 20 } else { 64 << 10 };
    put("long_word.txt", &vec![b'x'; long_word]);

    // Truncated and corrupted copies of real books.
    for (src, stem) in [
        ("docs/pdf/live-manual.portrait.en.a4.pdf", "live_manual"),
        ("docs/pdf/R-data.pdf", "r_data"),
        ("docs/epub/calibre-quick-start-eng.epub", "calibre"),
        ("docs/epub/fatbf.epub", "fatbf"),
    ] {
        let bytes = std::fs::read(data(src)).unwrap();
        let ext = Path::new(src).extension().unwrap().to_str().unwrap();
        for pct in [2usize, 30, 70, 98] {
            put(&format!("truncated_{pct}pct_{stem}.{ext}"), &bytes[..bytes.len() * pct / 100]);
        }
        let mut flipped = bytes.clone();
        for _ in 0..64 {
            let at = rng.range(bytes.len() as u64 / 10, bytes.len() as u64 - 1) as usize;
            flipped[at] = rng.next_u64() as u8;
        }
        put(&format!("corrupted_{stem}.{ext}"), &flipped);
    }

    // PDFs whose structure never ends: a page tree that contains itself, arrays and
    // dictionaries nested a hundred thousand deep, a stream that claims to be huge.
    let page = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
                /Resources << /Font << /F1 5 0 R >> >> >>";
    let font = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>";
    let content = stream("BT /F1 12 Tf 72 712 Td (The whale and the sea.) Tj ET");
    put(
        "pdf_page_tree_cycle.pdf",
        &pdf(&[
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
            page,
            &content,
            font,
        ]),
    );
    let deep_array = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_dict = format!("{}{}", "<< /A ".repeat(100_000), ">>".repeat(100_000));
    for (name, extra) in [("pdf_deep_array.pdf", deep_array), ("pdf_deep_dict.pdf", deep_dict)] {
        put(
            name,
            &pdf(&[
                "<< /Type /Catalog /Pages 2 0 R >>",
                "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                &page.replace(">> >> >>", ">> >> /Junk 6 0 R >>"),
                &content,
                font,
                &extra,
            ]),
        );
    }
    put(
        "pdf_huge_length.pdf",
        &pdf(&[
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            page,
            "<< /Length 9999999999 >>\nstream\nBT ET\nendstream",
            font,
        ]),
    );

    // Zip bombs and broken containers.
    let mut bomb = epub_writer();
    bomb.start_file("OEBPS/c1.xhtml", deflated()).unwrap();
    bomb.write_all(b"<html xmlns=\"http://www.w3.org/1999/xhtml\"><body><p>").unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..300 {
        bomb.write_all(&zeros).unwrap();
    }
    bomb.write_all(b"</p></body></html>").unwrap();
    put("zip_bomb.epub", &bomb.finish().unwrap().into_inner());

    let mut many = epub_writer();
    for i in 0..60_000 {
        many.start_file(format!("OEBPS/x{i}.txt"), SimpleFileOptions::default()).unwrap();
    }
    many.start_file("OEBPS/c1.xhtml", deflated()).unwrap();
    many.write_all(chapter("<p>Too many entries.</p>").as_bytes()).unwrap();
    put("zip_many_entries.epub", &many.finish().unwrap().into_inner());

    let mut no_opf = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    no_opf.start_file("mimetype", SimpleFileOptions::default()).unwrap();
    no_opf.write_all(b"application/epub+zip").unwrap();
    put("epub_without_package.epub", &no_opf.finish().unwrap().into_inner());

    let mut missing = epub_writer();
    missing.start_file("OEBPS/other.xhtml", deflated()).unwrap();
    missing.write_all(chapter("<p>Not in the spine.</p>").as_bytes()).unwrap();
    put("epub_missing_chapter.epub", &missing.finish().unwrap().into_inner());

    let mut garbage_opf = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    garbage_opf.start_file("mimetype", SimpleFileOptions::default()).unwrap();
    garbage_opf.write_all(b"application/epub+zip").unwrap();
    garbage_opf.start_file("META-INF/container.xml", deflated()).unwrap();
    garbage_opf.write_all(CONTAINER.as_bytes()).unwrap();
    garbage_opf.start_file("OEBPS/content.opf", deflated()).unwrap();
    garbage_opf.write_all(&rng.bytes(4000)).unwrap();
    put("epub_garbage_package.epub", &garbage_opf.finish().unwrap().into_inner());

    let mut deep_epub = epub_writer();
    deep_epub.start_file("OEBPS/c1.xhtml", deflated()).unwrap();
    deep_epub
        .write_all(chapter(&nested("div", 100_000, "A chapter at the bottom of the nest.")).as_bytes())
        .unwrap();
    put("epub_deep_nesting.epub", &deep_epub.finish().unwrap().into_inner());

    // Deeply nested HTML, closed and not.
    let page = |body: &str| format!("<html><head><title>Deep</title></head><body>{body}</body></html>");
    put("deep_divs.html", page(&nested("div", 100_000, "The whale at the bottom of the divs.")).as_bytes());
    put("deep_spans.html", page(&nested("span", 100_000, "The whale inside the spans.")).as_bytes());
    put("deep_bold.html", page(&nested("b", 100_000, "The whale in bold.")).as_bytes());
    put("deep_tables.html", page(&nested("table><tr><td", 20_000, "The whale in a cell.")).as_bytes());
    put(
        "deep_unclosed.html",
        page(&format!("{}The whale, never closed.", "<div><p>".repeat(100_000))).as_bytes(),
    );

    // A million lines. In CI they are mostly blank (the splitting of a million lines is what is
    // tested, not the embedding of them); the full run has a million lines of words.
    let mut lines = String::with_capacity(12 * 1_000_000);
    let words = ["whale", "sea", "ship", "captain", "harpoon", "ocean", "deck", "mast", "sail", "storm"];
    for i in 0..1_000_000u32 {
        match size {
            Size::Ci if i % 20_000 == 0 => {
                lines.push_str(&format!("Line {i} of a long file that speaks of whales and ships.\n"))
            }
            Size::Ci => lines.push('\n'),
            Size::Full => {
                lines.push_str(rng.pick::<&str>(&words));
                lines.push(' ');
                lines.push_str(rng.pick::<&str>(&words));
                lines.push('\n');
            }
        }
    }
    put("million_lines.txt", lines.as_bytes());

    if size == Size::Full {
        let mut big = epub_writer();
        big.start_file("OEBPS/c1.xhtml", deflated().large_file(true)).unwrap();
        big.write_all(b"<html xmlns=\"http://www.w3.org/1999/xhtml\"><body>").unwrap();
        let block = "<p>The whale swam on and on across the grey and endless sea.</p>\n".repeat(10_000);
        for _ in 0..150 {
            big.write_all(block.as_bytes()).unwrap();
        }
        big.write_all(b"</body></html>").unwrap();
        put("zip_text_bomb.epub", &big.finish().unwrap().into_inner());
    }
    files
}

/// `depth` nested `tag` elements around `text`.
fn nested(tag: &str, depth: usize, text: &str) -> String {
    let closing: String =
        tag.split("><").collect::<Vec<_>>().iter().rev().map(|t| format!("</{t}>")).collect();
    format!("{}{text}{}", format!("<{tag}>").repeat(depth), closing.repeat(depth))
}

const CONTAINER: &str = r#"<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>"#;

const PACKAGE: &str = r#"<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">junk</dc:identifier><dc:title>Junk</dc:title><dc:language>en</dc:language></metadata><manifest><item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/></manifest><spine><itemref idref="c1"/></spine></package>"#;

fn deflated() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(CompressionMethod::Deflated)
}

/// An EPUB container with its mimetype, container and package files written; the caller adds
/// the chapter `OEBPS/c1.xhtml`.
fn epub_writer() -> ZipWriter<std::io::Cursor<Vec<u8>>> {
    let mut z = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    z.start_file("mimetype", SimpleFileOptions::default()).unwrap();
    z.write_all(b"application/epub+zip").unwrap();
    z.start_file("META-INF/container.xml", deflated()).unwrap();
    z.write_all(CONTAINER.as_bytes()).unwrap();
    z.start_file("OEBPS/content.opf", deflated()).unwrap();
    z.write_all(PACKAGE.as_bytes()).unwrap();
    z
}

fn chapter(body: &str) -> String {
    format!(
        "<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>c</title></head><body>{body}</body></html>"
    )
}

fn stream(content: &str) -> String {
    format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len())
}

/// A PDF of the given objects (numbered from 1) with a correct cross-reference table.
fn pdf(objects: &[&str]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for o in offsets {
        out.extend(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1)
            .as_bytes(),
    );
    out
}
