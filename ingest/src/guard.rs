//! Containment of panics raised by third-party parsers.
//!
//! Some parsers lore relies on panic on malformed input instead of returning an error:
//! pdf-extract (and the font and CMap parsers under it), lopdf, rbook and zip, html5ever and
//! readability, feed-rs. [`catch`] runs one such call and turns a panic inside it into
//! [`IngestError::Internal`]: one bad file never takes a batch down, and the error says that a
//! parser failed (a bug to report), not that the file is damaged.
//!
//! Only the third-party call runs inside [`catch`]; lore's own code runs outside it. Where a
//! parser calls back into lore (pdf-extract drives lore's glyph collector; text-splitter calls
//! lore's size estimate), the callback runs under [`own`]: a panic there is lore's bug, and it
//! leaves the enclosing [`catch`] or [`quietly`] as the panic it is.
//!
//! The default panic hook would print a caught panic to stderr. A binary calls
//! [`install_panic_hook`] once at start: a panic caught by [`catch`] prints nothing and goes to
//! the binary's reporter instead (with the item, the parser, the message and the place it was
//! raised), panics inside [`quietly`] print nothing, and every other panic reaches the previous
//! hook as usual. Each panic [`catch`] turned into an error is also kept on its thread for
//! [`take_caught`].

use std::any::Any;
use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use crate::error::{IngestError, Result};

/// Longest panic message kept in an error, in characters.
const MAX_MESSAGE_CHARS: usize = 200;

/// Most caught panics kept on a thread for [`take_caught`]; later ones are reported but not kept.
const MAX_KEPT: usize = 256;

/// A panic that [`catch`] turned into [`IngestError::Internal`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaughtPanic {
    /// The file or URL being read.
    pub item: String,
    /// What panicked, e.g. `"PDF parser"`.
    pub parser: &'static str,
    /// The panic message, on one line and bounded in length.
    pub message: String,
    /// Where the panic was raised (`crate-version/src/file.rs:line:column`), when the hook of
    /// [`install_panic_hook`] saw it.
    pub place: Option<String>,
}

impl CaughtPanic {
    /// The message followed by the place, e.g. `"index out of bounds (at lopdf-0.42.0/src/x.rs:1:2)"`.
    pub fn detail(&self) -> String {
        match &self.place {
            Some(place) => format!("{} (at {place})", self.message),
            None => self.message.clone(),
        }
    }
}

/// What the code running on a thread is, innermost last.
#[derive(Debug, Clone)]
enum Zone {
    /// A third-party parser call under [`catch`].
    Parser { item: String, parser: &'static str },
    /// Third-party code under [`quietly`].
    Quiet,
    /// lore's own code called back from inside one of those ([`own`]).
    Own,
}

thread_local! {
    /// The zones this thread is in, innermost last.
    static ZONES: RefCell<Vec<Zone>> = const { RefCell::new(Vec::new()) };
    /// Where the panic being unwound on this thread was raised, as the hook saw it.
    static LAST_PLACE: RefCell<Option<String>> = const { RefCell::new(None) };
    /// Panics [`catch`] turned into errors on this thread, for [`take_caught`].
    static CAUGHT: RefCell<Vec<CaughtPanic>> = const { RefCell::new(Vec::new()) };
}

/// The payload a panic in lore's own code carries through a [`catch`] or [`quietly`], which
/// raise the original payload again.
struct OwnPanic(Box<dyn Any + Send>);

/// Runs the third-party parser call `f` for `item`; a panic inside it becomes
/// [`IngestError::Internal`] naming `parser` (e.g. `"PDF parser"`), with the panic's message and place.
/// A panic in lore's own code called back from `f` under [`own`] is raised again, not caught.
pub fn catch<T>(item: &str, parser: &'static str, f: impl FnOnce() -> T) -> Result<T> {
    let outcome = {
        let _zone = ZoneScope::enter(Zone::Parser { item: item.to_string(), parser });
        panic::catch_unwind(AssertUnwindSafe(f))
    };
    let payload = match outcome {
        Ok(value) => return Ok(value),
        Err(payload) => reraise_own(payload),
    };
    let caught = CaughtPanic {
        item: item.to_string(),
        parser,
        message: panic_message(payload.as_ref()),
        place: LAST_PLACE.with(|p| p.borrow_mut().take()),
    };
    let panic = caught.detail();
    CAUGHT.with(|c| {
        let mut kept = c.borrow_mut();
        if kept.len() < MAX_KEPT {
            kept.push(caught);
        }
    });
    Err(IngestError::Internal { item: item.to_string(), parser, panic })
}

/// Runs `f`, turning a panic inside it into `Err` with the panic message (on one line,
/// bounded). Like [`catch`], the panic prints nothing: for third-party code outside the loaders
/// that panics instead of returning errors (e.g. a storage engine's flush on a full disk). A
/// panic in lore's own code under [`own`] is raised again.
pub fn quietly<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    let outcome = {
        let _zone = ZoneScope::enter(Zone::Quiet);
        panic::catch_unwind(AssertUnwindSafe(f))
    };
    outcome.map_err(|payload| {
        LAST_PLACE.with(|p| p.borrow_mut().take());
        panic_message(reraise_own(payload).as_ref())
    })
}

/// Runs lore's own code `f` that a third-party parser calls back from inside [`catch`] or
/// [`quietly`]: a panic in it is a bug in lore, reported by the usual panic hook and raised
/// through the enclosing guard unchanged.
pub fn own<T>(f: impl FnOnce() -> T) -> T {
    if !guarded() {
        return f();
    }
    let outcome = {
        let _zone = ZoneScope::enter(Zone::Own);
        panic::catch_unwind(AssertUnwindSafe(f))
    };
    match outcome {
        Ok(value) => value,
        Err(payload) if payload.is::<OwnPanic>() => panic::resume_unwind(payload),
        Err(payload) => panic::resume_unwind(Box::new(OwnPanic(payload))),
    }
}

/// Whether the current thread is inside [`catch`] or [`quietly`] (at any depth).
fn guarded() -> bool {
    ZONES.with(|z| z.borrow().iter().any(|zone| !matches!(zone, Zone::Own)))
}

/// Raises a panic of lore's own code again: as it is while an outer guard remains, else with
/// its original payload. Returns any other payload.
fn reraise_own(payload: Box<dyn Any + Send>) -> Box<dyn Any + Send> {
    if !payload.is::<OwnPanic>() {
        return payload;
    }
    if guarded() {
        panic::resume_unwind(payload);
    }
    match payload.downcast::<OwnPanic>() {
        Ok(own) => panic::resume_unwind(own.0),
        Err(other) => other,
    }
}

/// Whether the current thread is running third-party code inside [`catch`] or [`quietly`] (and
/// not lore's own code called back from it).
pub fn in_catch() -> bool {
    ZONES.with(|z| z.borrow().last().is_some_and(|zone| !matches!(zone, Zone::Own)))
}

/// The panics [`catch`] turned into errors on this thread since the last call (at most 256),
/// oldest first, including those a loader then got past (a PDF page that
/// failed while the others loaded).
pub fn take_caught() -> Vec<CaughtPanic> {
    CAUGHT.with(|c| std::mem::take(&mut *c.borrow_mut()))
}

/// Installs the panic hook, once (later calls do nothing): a panic inside [`catch`] prints
/// nothing and is handed to `on_caught` with the item, the parser, its message and the place it
/// was raised (a binary shows it in verbose mode); a panic inside [`quietly`] prints nothing;
/// every other panic, lore's own code called back under [`own`] included, goes to the previous
/// hook.
pub fn install_panic_hook(on_caught: impl Fn(&CaughtPanic) + Send + Sync + 'static) {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let zone = ZONES.with(|z| z.borrow().last().cloned());
            let place = || info.location().map(|l| short_place(l.file(), l.line(), l.column()));
            match zone {
                Some(Zone::Parser { item, parser }) => {
                    let place = place();
                    LAST_PLACE.with(|p| *p.borrow_mut() = place.clone());
                    let message = panic_message(info.payload());
                    on_caught(&CaughtPanic { item, parser, message, place });
                }
                Some(Zone::Quiet) => LAST_PLACE.with(|p| *p.borrow_mut() = place()),
                Some(Zone::Own) | None => previous(info),
            }
        }));
    });
}

/// [`install_panic_hook`] without a reporter: caught panics print nothing (their message and
/// place are in the [`IngestError::Internal`] they become, and in [`take_caught`]).
pub fn install_quiet_panic_hook() {
    install_panic_hook(|_| {});
}

/// A panic's place with the path up to a crate's directory left out: a dependency's
/// `~/.cargo/registry/src/index…/lopdf-0.42.0/src/x.rs` becomes `lopdf-0.42.0/src/x.rs`.
fn short_place(file: &str, line: u32, column: u32) -> String {
    let file = match file.find("/registry/src/") {
        Some(at) => {
            let rest = &file[at + "/registry/src/".len()..];
            rest.split_once('/').map_or(rest, |(_, path)| path)
        }
        None => file,
    };
    format!("{file}:{line}:{column}")
}

/// The text of a panic payload, on one line and bounded in length.
fn panic_message(payload: &(dyn Any + Send)) -> String {
    let raw = if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        String::new()
    };
    let one_line = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.is_empty() {
        return "panic without a message".to_string();
    }
    if one_line.chars().count() > MAX_MESSAGE_CHARS {
        let cut: String = one_line.chars().take(MAX_MESSAGE_CHARS).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}

/// Puts the current thread in a [`Zone`] until dropped (also while a panic unwinds).
struct ZoneScope;

impl ZoneScope {
    fn enter(zone: Zone) -> Self {
        ZONES.with(|z| z.borrow_mut().push(zone));
        ZoneScope
    }
}

impl Drop for ZoneScope {
    fn drop(&mut self) {
        ZONES.with(|z| z.borrow_mut().pop());
    }
}

/// Panics when a test planted a bug at `site` on this thread (see [`plant_bug`]): a stand-in for a
/// bug in lore's own code at that place, to check that such a panic is not caught.
#[cfg(test)]
pub(crate) fn bug_site(site: &'static str) {
    if PLANTED.with(std::cell::Cell::get) == Some(site) {
        panic!("a bug planted at {site}");
    }
}

#[cfg(test)]
thread_local! {
    /// The site where [`bug_site`] panics on this thread.
    static PLANTED: std::cell::Cell<Option<&'static str>> = const { std::cell::Cell::new(None) };
}

/// Runs `f` with a bug planted at `site` and checks that its panic escapes: not turned into an
/// error by a guard, with its own message. Returns what `f` returned when it did not panic.
#[cfg(test)]
pub(crate) fn assert_bug_escapes<T: std::fmt::Debug>(site: &'static str, f: impl FnOnce() -> T) {
    install_quiet_panic_hook();
    PLANTED.with(|p| p.set(Some(site)));
    let outcome = panic::catch_unwind(AssertUnwindSafe(f));
    PLANTED.with(|p| p.set(None));
    match outcome {
        Ok(value) => {
            let shown: String = format!("{value:?}").chars().take(300).collect();
            panic!("the bug planted at {site} was hidden: {shown}")
        }
        Err(payload) => {
            assert_eq!(panic_message(payload.as_ref()), format!("a bug planted at {site}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parser_panic_becomes_an_internal_error_naming_the_item() {
        install_quiet_panic_hook();
        take_caught();
        let err = catch::<()>("books/x.pdf", "PDF parser", || panic!("index out of bounds:\n the len is 3"))
            .unwrap_err();
        assert_eq!(err.reason_code(), "internal");
        let shown = err.to_string();
        assert_eq!(
            shown,
            "books/x.pdf: internal error while reading it (PDF parser): please report it (--verbose shows the details)"
        );
        let IngestError::Internal { parser, panic, .. } = &err else { panic!("{err:?}") };
        assert_eq!(*parser, "PDF parser");
        assert!(panic.starts_with("index out of bounds: the len is 3 (at ingest/src/guard.rs:"), "{panic}");
        let caught = take_caught();
        assert_eq!(caught.len(), 1);
        assert_eq!(caught[0].item, "books/x.pdf");
        assert_eq!(caught[0].detail(), *panic);
        assert!(take_caught().is_empty());
        assert!(!in_catch());
    }

    #[test]
    fn results_pass_through_and_nesting_is_tracked() {
        let inner_seen = catch("a", "PDF parser", || {
            assert!(in_catch());
            let nested = catch::<u8>("b", "PDF parser", || panic!("{}", String::from("boom")));
            assert!(matches!(nested, Err(IngestError::Internal { ref panic, .. }) if panic.contains("boom")));
            own(|| assert!(!in_catch()));
            in_catch()
        });
        assert!(inner_seen.unwrap());
        assert!(!in_catch());
        let err = catch("c", "PDF parser", || Err::<(), _>(IngestError::Empty { item: "c".into() }))
            .unwrap()
            .unwrap_err();
        assert_eq!(err.reason_code(), "empty");
        take_caught();
    }

    #[test]
    fn a_panic_in_own_code_leaves_the_guards_unchanged() {
        install_quiet_panic_hook();
        let escaped = panic::catch_unwind(|| {
            catch("a", "PDF parser", || quietly(|| own(|| -> u8 { panic!("lore's own bug") })))
        });
        let payload = escaped.unwrap_err();
        assert_eq!(panic_message(payload.as_ref()), "lore's own bug");
        assert!(take_caught().is_empty());
        assert!(!in_catch());
        // Guards and own code nested in each other: the panic still leaves them all.
        let escaped = panic::catch_unwind(|| {
            catch("a", "PDF parser", || {
                own(|| catch("b", "PDF parser", || own(|| -> u8 { panic!("a deeper bug") })))
            })
        });
        assert_eq!(panic_message(escaped.unwrap_err().as_ref()), "a deeper bug");
        assert!(take_caught().is_empty());
        // Outside any guard, `own` is the call itself.
        assert_eq!(own(|| 5), 5);
    }

    #[test]
    fn quietly_returns_the_panic_message() {
        install_quiet_panic_hook();
        assert_eq!(quietly(|| 7), Ok(7));
        let err = quietly(|| -> u8 { panic!("disk\nfull") }).unwrap_err();
        assert_eq!(err, "disk full");
        assert!(!in_catch());
    }

    #[test]
    fn long_messages_are_cut_and_places_shortened() {
        let long = "x".repeat(1000);
        let err = catch::<()>("d", "PDF parser", || panic!("{long}")).unwrap_err();
        assert!(err.to_string().len() < 100);
        let IngestError::Internal { panic, .. } = err else { panic!() };
        assert!(panic.chars().count() < 300, "{panic}");
        take_caught();
        assert_eq!(
            short_place(
                "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/lopdf-0.42.0/src/a.rs",
                3,
                4
            ),
            "lopdf-0.42.0/src/a.rs:3:4"
        );
        assert_eq!(short_place("ingest/src/pdf/mod.rs", 1, 2), "ingest/src/pdf/mod.rs:1:2");
    }
}

/// Bugs planted in lore's own code (loaders, layout, chunker) are not caught by the guards
/// around the third-party parsers that call or surround that code.
#[cfg(test)]
mod own_code_tests {
    use std::io::{Cursor, Write};

    use super::assert_bug_escapes;
    use crate::{ChunkConfig, Chunker};

    /// A two-chapter EPUB 2, stored without compression.
    fn tiny_epub() -> Vec<u8> {
        let container = br#"<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>"#;
        let opf = br#"<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="2.0" unique-identifier="id">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Tiny</dc:title><dc:identifier id="id">x</dc:identifier></metadata>
<manifest><item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/></manifest>
<spine><itemref idref="c1"/></spine></package>"#;
        let chapter =
            b"<html><body><h1>One</h1><p>The first chapter has a few words of text.</p></body></html>";
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts =
            zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for (name, content) in [
            ("mimetype", &b"application/epub+zip"[..]),
            ("META-INF/container.xml", container),
            ("OEBPS/content.opf", opf),
            ("OEBPS/c1.xhtml", chapter),
        ] {
            w.start_file(name, opts).unwrap();
            w.write_all(content).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn a_bug_in_the_pdf_loader_is_not_a_corrupt_pdf() {
        let pdf = crate::pdf::tests::sample_pdf();
        assert!(crate::pdf::load(&pdf, "q3.pdf").is_ok());
        // Called back by pdf-extract for every glyph, then lore's own layout and outline code.
        for site in ["pdf-glyph", "pdf-layout", "pdf-outline"] {
            assert_bug_escapes(site, || crate::pdf::load(&pdf, "q3.pdf"));
        }
    }

    #[test]
    fn a_bug_in_the_epub_loader_is_not_a_corrupt_epub() {
        let epub = tiny_epub();
        assert!(crate::epub::load(&epub, "t.epub").is_ok());
        for site in ["epub-build", "html-walk"] {
            assert_bug_escapes(site, || crate::epub::load(&epub, "t.epub"));
        }
    }

    #[test]
    fn a_bug_in_the_html_loader_is_not_a_corrupt_page() {
        let html = "<html><head><title>T</title></head><body><h1>T</h1>\
                    <p>Some text on the page, long enough to keep.</p></body></html>";
        assert!(crate::html::load(html, "t.html").is_ok());
        for site in ["html-walk", "html-sections"] {
            assert_bug_escapes(site, || crate::html::load(html, "t.html"));
        }
    }

    #[test]
    fn a_bug_in_the_markdown_loader_or_the_chunker_is_not_caught() {
        let md = "# Title\n\nSome text under the title.\n";
        let doc = crate::markdown::load(md, "t.md").unwrap();
        assert_bug_escapes("markdown-sections", || crate::markdown::load(md, "t.md"));
        assert_bug_escapes("chunk-estimate", || Chunker::estimated(ChunkConfig::default()).chunk(&doc));
    }

    #[test]
    fn a_bug_in_lores_feed_code_is_not_a_malformed_feed() {
        let broken = b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>x</title><item><title>y</";
        assert!(crate::web::parse_feed(broken, "https://example.com/feed.xml").is_err());
        assert_bug_escapes("feed-error", || crate::web::parse_feed(broken, "https://example.com/feed.xml"));
    }
}
