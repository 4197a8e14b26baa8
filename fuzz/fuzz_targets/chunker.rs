//! Arbitrary sections through the chunker (the character-estimate sizer), checking the
//! invariants every chunk keeps: its text is the byte span `char_start..char_end` of its
//! section, spans move forward through a section, and ordinals count up from 0.
//!
//! Input layout: byte 0 picks the document kind (Markdown-aware or plain splitting), byte 1 the
//! target size in tokens; the rest, read as UTF-8 (lossily), is cut into sections at NUL bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lore_ingest::{ChunkConfig, Chunker, Document, Kind, PageMark, Section};

fuzz_target!(|data: &[u8]| {
    let [kind, size, rest @ ..] = data else { return };
    let kind = if kind & 1 == 0 { Kind::Text } else { Kind::Markdown };
    let target_tokens = 16 + usize::from(*size) * 2;
    let text = String::from_utf8_lossy(rest);
    let sections: Vec<Section> = text
        .split('\0')
        .map(|t| {
            let mut s = Section::new(vec!["h".into()], t);
            // A page mark at the start and one in the middle (on a character boundary).
            let mut mid = t.len() / 2;
            while !t.is_char_boundary(mid) {
                mid -= 1;
            }
            s.pages = vec![PageMark { offset: 0, page: 1, ocr: false }, PageMark { offset: mid, page: 2, ocr: false }];
            s
        })
        .collect();
    let doc = Document {
        source: "fuzz".into(),
        url: None,
        kind,
        title: "fuzz".into(),
        authors: vec![],
        language: None,
        published: None,
        hash: String::new(),
        byte_len: data.len() as u64,
        page_count: None,
        site: None,
        sections,
    };
    let config = ChunkConfig { target_tokens, overlap_tokens: target_tokens / 6 };
    // No quiet panic hook: a panic text-splitter raises (caught by the guard: an internal error)
    // or lore's own code raises is a crash, as is any error.
    let chunks = Chunker::estimated(config).chunk(&doc).expect("the estimate sizer never fails");
    let mut last: Option<(u32, usize)> = None;
    for (i, c) in chunks.iter().enumerate() {
        assert_eq!(c.ordinal as usize, i);
        let section = &doc.sections[c.section as usize];
        assert!(c.char_start < c.char_end && c.char_end <= section.text.len());
        assert_eq!(section.text.get(c.char_start..c.char_end), Some(c.text.as_str()));
        assert!(!c.text.trim().is_empty(), "a blank chunk");
        if let Some((s, start)) = last {
            assert!(c.section > s || (c.section == s && c.char_start > start), "chunks out of order");
        }
        last = Some((c.section, c.char_start));
    }
});
