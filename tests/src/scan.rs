//! "Scanned" PDFs for the OCR tests: pages that are one image each and no text layer, made from
//! the pages of a real PDF rendered by poppler's `pdftoppm` (JPEG, kept as DCTDecode), or from
//! text drawn with a TrueType font (raw grey pixels).

use std::path::Path;
use std::process::Command;

use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, Stream, dictionary};

/// One page's image.
pub enum PageImage {
    /// A JPEG file's bytes.
    Jpeg(Vec<u8>),
    /// 8-bit grey pixels, row by row.
    Gray {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// `width * height` bytes.
        pixels: Vec<u8>,
    },
}

impl PageImage {
    fn size(&self) -> (u32, u32) {
        match self {
            PageImage::Jpeg(bytes) => jpeg_size(bytes).expect("a JPEG with a frame header"),
            PageImage::Gray { width, height, .. } => (*width, *height),
        }
    }
}

/// The width and height of a JPEG, from its first start-of-frame marker.
fn jpeg_size(b: &[u8]) -> Option<(u32, u32)> {
    let mut i = 2;
    while i + 9 < b.len() {
        if b[i] != 0xFF {
            return None;
        }
        let marker = b[i + 1];
        let len = usize::from(b[i + 2]) << 8 | usize::from(b[i + 3]);
        if matches!(marker, 0xC0..=0xC3) {
            let h = u32::from(b[i + 5]) << 8 | u32::from(b[i + 6]);
            let w = u32::from(b[i + 7]) << 8 | u32::from(b[i + 8]);
            return Some((w, h));
        }
        i += 2 + len;
    }
    None
}

/// An image-only PDF: each page is its image drawn at `dpi`, nothing else (no fonts, no text).
pub fn image_pdf(pages: &[PageImage], dpi: f64) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let mut kids = Vec::new();
    for page in pages {
        let (w, h) = page.size();
        let image = match page {
            PageImage::Jpeg(bytes) => Stream::new(
                dictionary! {
                    "Type" => "XObject", "Subtype" => "Image", "Width" => w, "Height" => h,
                    "ColorSpace" => "DeviceRGB", "BitsPerComponent" => 8, "Filter" => "DCTDecode",
                },
                bytes.clone(),
            ),
            PageImage::Gray { pixels, .. } => Stream::new(
                dictionary! {
                    "Type" => "XObject", "Subtype" => "Image", "Width" => w, "Height" => h,
                    "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8,
                },
                pixels.clone(),
            ),
        };
        let image_id = doc.add_object(image);
        let (pw, ph) = (f64::from(w) * 72.0 / dpi, f64::from(h) * 72.0 / dpi);
        let ops = vec![
            Operation::new("q", vec![]),
            Operation::new("cm", vec![pw.into(), 0.into(), 0.into(), ph.into(), 0.into(), 0.into()]),
            Operation::new("Do", vec!["Im1".into()]),
            Operation::new("Q", vec![]),
        ];
        let content = Content { operations: ops }.encode().unwrap();
        let content_id = doc.add_object(Stream::new(dictionary! {}, content));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
            "MediaBox" => vec![0.into(), 0.into(), pw.into(), ph.into()],
            "Resources" => dictionary! { "XObject" => dictionary! { "Im1" => image_id } },
        });
        kids.push(Object::Reference(page_id));
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// Renders pages `first..=last` of `pdf` to JPEG with `pdftoppm` at `dpi`, optionally cropped to
/// the box `(x, y, w, h)` in pixels.
pub fn render_jpeg_pages(
    pdf: &Path,
    first: u32,
    last: u32,
    dpi: u32,
    crop: Option<(u32, u32, u32, u32)>,
) -> Vec<PageImage> {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new("pdftoppm");
    cmd.args(["-f", &first.to_string(), "-l", &last.to_string(), "-r", &dpi.to_string(), "-jpeg"]);
    if let Some((x, y, w, h)) = crop {
        cmd.args(["-x", &x.to_string(), "-y", &y.to_string(), "-W", &w.to_string(), "-H", &h.to_string()]);
    }
    let status = cmd.arg(pdf).arg(dir.path().join("p")).status().expect("pdftoppm runs");
    assert!(status.success(), "pdftoppm failed on {}", pdf.display());
    let mut files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files.into_iter().map(|f| PageImage::Jpeg(std::fs::read(f).unwrap())).collect()
}

/// A page of `lines` drawn black on white with the font file `font` (a `.ttf` or the first face
/// of a `.ttc`), `px` pixels high, `width` pixels wide.
pub fn text_page(font: &[u8], lines: &[&str], px: f32, width: u32) -> PageImage {
    use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
    let font = FontRef::try_from_slice_and_index(font, 0).expect("a TrueType font");
    let scaled = font.as_scaled(PxScale::from(px));
    let line_h = (scaled.height() + scaled.line_gap()).ceil() * 1.4;
    let margin = px;
    let height = (line_h * lines.len() as f32 + 2.0 * margin).ceil() as u32;
    let mut pixels = vec![255u8; (width * height) as usize];
    for (n, line) in lines.iter().enumerate() {
        let mut x = margin;
        let baseline = margin + scaled.ascent() + line_h * n as f32;
        for c in line.chars() {
            let id = scaled.glyph_id(c);
            let glyph = id.with_scale_and_position(PxScale::from(px), ab_glyph::point(x, baseline));
            x += scaled.h_advance(id);
            if let Some(outlined) = font.outline_glyph(glyph) {
                let b = outlined.px_bounds();
                outlined.draw(|gx, gy, cover| {
                    let (px_x, px_y) = (b.min.x as i64 + i64::from(gx), b.min.y as i64 + i64::from(gy));
                    if px_x >= 0 && px_y >= 0 && (px_x as u32) < width && (px_y as u32) < height {
                        let i = (px_y as u32 * width + px_x as u32) as usize;
                        let v = 255.0 * (1.0 - cover.clamp(0.0, 1.0));
                        pixels[i] = pixels[i].min(v as u8);
                    }
                });
            }
        }
    }
    PageImage::Gray { width, height, pixels }
}

/// Word F1 of `got` against `want`: words are runs of letters and digits, lower-cased, compared
/// as multisets. With `chars`, every non-space character is a "word" (for Chinese).
pub fn f1(got: &str, want: &str, chars: bool) -> f64 {
    use std::collections::HashMap;
    let tokens = |s: &str| -> HashMap<String, usize> {
        let mut m = HashMap::new();
        if chars {
            for c in s.chars().filter(|c| c.is_alphanumeric()) {
                *m.entry(c.to_lowercase().collect()).or_default() += 1;
            }
        } else {
            for w in s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
                *m.entry(w.to_lowercase()).or_default() += 1;
            }
        }
        m
    };
    let (g, w) = (tokens(got), tokens(want));
    let common: usize = g.iter().map(|(k, n)| (*n).min(*w.get(k).unwrap_or(&0))).sum();
    let (ng, nw): (usize, usize) = (g.values().sum(), w.values().sum());
    if common == 0 || ng == 0 || nw == 0 {
        return 0.0;
    }
    let (p, r) = (common as f64 / ng as f64, common as f64 / nw as f64);
    2.0 * p * r / (p + r)
}

/// Whether tesseract is installed with the language `lang`; otherwise the test skips through
/// [`crate::skip`] naming `ocr` (a failure under `LORE_REQUIRE=ocr`).
pub fn tesseract_has(lang: &str) -> bool {
    let out = Command::new("tesseract").arg("--list-langs").output();
    let ok = out.as_ref().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).lines().any(|l| l.trim() == lang));
    if !ok {
        crate::skip(
            "ocr",
            &format!("tesseract with the {lang} language is not installed (scripts/setup.sh installs it)"),
        );
    }
    ok
}
