//! The output device given to pdf-extract: it records every glyph of a page with its position,
//! advance and size, for [`super::layout`] to turn into lines and paragraphs.

use pdf_extract::{MediaBox, OutputDev, OutputError, Transform};

/// One glyph as drawn on the page, in the page's user space (y grows upwards).
#[derive(Debug, Clone, PartialEq)]
pub struct Glyph {
    /// Origin x.
    pub x: f64,
    /// Origin y (the baseline).
    pub y: f64,
    /// Advance vector x: where the next glyph would start, relative to the origin.
    pub adv_x: f64,
    /// Advance vector y.
    pub adv_y: f64,
    /// Font size in user space units (the height of the em square).
    pub size: f64,
    /// Unit vector of the text's up direction, x component.
    pub up_x: f64,
    /// Unit vector of the text's up direction, y component.
    pub up_y: f64,
    /// The characters the glyph stands for; empty when the font does not say.
    pub text: String,
}

impl Glyph {
    /// Whether the glyph stands for white space only (a space character drawn as a glyph).
    pub fn is_space(&self) -> bool {
        !self.text.is_empty() && self.text.chars().all(char::is_whitespace)
    }
}

/// The glyphs of one page and its media box.
#[derive(Debug, Clone, Default)]
pub struct PageGlyphs {
    /// Glyphs in the order the content stream draws them.
    pub glyphs: Vec<Glyph>,
    /// Lower-left and upper-right corners of the media box: `[llx, lly, urx, ury]`.
    pub media_box: [f64; 4],
}

/// Collects the glyphs of the page being drawn.
#[derive(Debug, Default)]
pub struct GlyphCollector {
    page: PageGlyphs,
    /// Stop recording after this many glyphs on a page (defends against pathological pages).
    limit: usize,
}

/// Most glyphs recorded on one page; a dense page of small print has about 10 000.
const GLYPH_LIMIT: usize = 400_000;

impl GlyphCollector {
    /// An empty collector.
    pub fn new() -> Self {
        GlyphCollector { page: PageGlyphs::default(), limit: GLYPH_LIMIT }
    }

    /// Takes the glyphs recorded so far, leaving the collector empty.
    pub fn take(&mut self) -> PageGlyphs {
        std::mem::take(&mut self.page)
    }
}

impl OutputDev for GlyphCollector {
    fn begin_page(
        &mut self,
        _page_num: u32,
        media_box: &MediaBox,
        _art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        // lore's code, called back from inside pdf-extract: a panic here is lore's bug.
        crate::guard::own(|| {
            self.page = PageGlyphs {
                glyphs: Vec::new(),
                media_box: [media_box.llx, media_box.lly, media_box.urx, media_box.ury],
            };
        });
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        char: &str,
    ) -> Result<(), OutputError> {
        crate::guard::own(|| self.record(trm, width, font_size, char));
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}

impl GlyphCollector {
    /// Records one glyph of the page (pdf-extract's `output_character`).
    fn record(&mut self, trm: &Transform, width: f64, font_size: f64, char: &str) {
        #[cfg(test)]
        crate::guard::bug_site("pdf-glyph");
        if self.page.glyphs.len() >= self.limit {
            return;
        }
        // Text rendering matrix without the font size: a vector (vx, vy) in text space maps to
        // (vx*m11 + vy*m21, vx*m12 + vy*m22) in user space.
        let (up_x, up_y) = (font_size * trm.m21, font_size * trm.m22);
        let size = up_x.hypot(up_y);
        let advance = width * font_size;
        let glyph = Glyph {
            x: trm.m31,
            y: trm.m32,
            adv_x: advance * trm.m11,
            adv_y: advance * trm.m12,
            size,
            up_x: up_x / size,
            up_y: up_y / size,
            text: clean_glyph_text(char),
        };
        let finite = [glyph.x, glyph.y, glyph.adv_x, glyph.adv_y, glyph.size, glyph.up_x, glyph.up_y]
            .iter()
            .all(|v| v.is_finite());
        if finite && glyph.size > 0.0 {
            self.page.glyphs.push(glyph);
        }
    }
}

/// A glyph's text with ligatures spelt out and control characters dropped.
pub fn clean_glyph_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\u{FB00}' => out.push_str("ff"),
            '\u{FB01}' => out.push_str("fi"),
            '\u{FB02}' => out.push_str("fl"),
            '\u{FB03}' => out.push_str("ffi"),
            '\u{FB04}' => out.push_str("ffl"),
            '\u{FB05}' | '\u{FB06}' => out.push_str("st"),
            // Soft hyphens and zero-width characters carry no text.
            '\u{00AD}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{FEFF}' => {}
            '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{3000}' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ligatures_are_spelt_out_and_controls_dropped() {
        assert_eq!(clean_glyph_text("\u{FB01}\u{0}"), "fi");
        assert_eq!(clean_glyph_text("a\u{00AD}"), "a");
        assert_eq!(clean_glyph_text("\u{00A0}"), " ");
    }

    #[test]
    fn glyphs_record_position_advance_and_size() {
        let mut dev = GlyphCollector::new();
        let mb = MediaBox { llx: 0.0, lly: 0.0, urx: 612.0, ury: 792.0 };
        dev.begin_page(1, &mb, None).unwrap();
        // Scaled by 2 in the text matrix, font size 10: a 20 pt glyph at (100, 700).
        let trm = Transform::row_major(2.0, 0.0, 0.0, 2.0, 100.0, 700.0);
        dev.output_character(&trm, 0.5, 0.0, 10.0, "A").unwrap();
        dev.output_character(&trm, 0.5, 0.0, f64::NAN, "B").unwrap();
        let page = dev.take();
        assert_eq!(page.media_box, [0.0, 0.0, 612.0, 792.0]);
        assert_eq!(page.glyphs.len(), 1);
        let g = &page.glyphs[0];
        assert_eq!((g.x, g.y, g.size, g.adv_x, g.adv_y), (100.0, 700.0, 20.0, 10.0, 0.0));
        assert_eq!((g.up_x, g.up_y), (0.0, 1.0));
    }
}
