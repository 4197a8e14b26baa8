//! Containment of panics raised by third-party parsers.
//!
//! Some parsers lore relies on (pdf-extract, lopdf) panic on malformed input instead of returning
//! an error. [`catch`] runs such code and turns a panic into [`IngestError::Corrupt`] naming the
//! item, so one bad file never takes the program down. The default panic hook would still print
//! the panic to stderr; a binary calls [`install_quiet_panic_hook`] once at start to keep panics
//! raised inside [`catch`] silent while every other panic is reported as usual.

use std::any::Any;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use crate::error::{IngestError, Result};

thread_local! {
    /// How many [`catch`] calls are running on this thread (they may nest).
    static CATCH_DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Longest panic message kept in an error, in characters.
const MAX_MESSAGE_CHARS: usize = 200;

/// Runs `f`, turning a panic inside it into [`IngestError::Corrupt`] for `item` in `format`
/// (e.g. `"PDF"`), with the panic message as the reason.
pub fn catch<T>(item: &str, format: &'static str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let _inside = CatchScope::enter();
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => Err(IngestError::Corrupt {
            item: item.to_string(),
            format,
            reason: format!("the {format} parser failed ({})", panic_message(payload.as_ref())),
        }),
    }
}

/// Runs `f`, turning a panic inside it into `Err` with the panic message (on one line,
/// bounded). Like [`catch`], the panic prints nothing: for third-party code outside ingest that
/// panics instead of returning errors (e.g. a storage engine's flush on a full disk).
pub fn quietly<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    let _inside = CatchScope::enter();
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| panic_message(payload.as_ref()))
}

/// Whether the current thread is inside [`catch`].
pub fn in_catch() -> bool {
    CATCH_DEPTH.with(|d| d.get() > 0)
}

/// Wraps the current panic hook so that panics raised inside [`catch`] on the same thread print
/// nothing; all other panics go to the previous hook. Call once at program start; later calls do
/// nothing.
pub fn install_quiet_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !in_catch() {
                previous(info);
            }
        }));
    });
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

/// Marks the current thread as inside [`catch`] until dropped.
struct CatchScope;

impl CatchScope {
    fn enter() -> Self {
        CATCH_DEPTH.with(|d| d.set(d.get() + 1));
        CatchScope
    }
}

impl Drop for CatchScope {
    fn drop(&mut self) {
        CATCH_DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_corrupt_error_naming_the_item() {
        install_quiet_panic_hook();
        let err =
            catch::<()>("books/x.pdf", "PDF", || panic!("index out of bounds:\n the len is 3")).unwrap_err();
        assert_eq!(err.reason_code(), "corrupt");
        let shown = err.to_string();
        assert!(shown.starts_with("books/x.pdf: not a valid PDF file"), "{shown}");
        assert!(shown.contains("index out of bounds: the len is 3"), "{shown}");
        assert!(!shown.contains('\n'));
        assert!(!in_catch());
    }

    #[test]
    fn results_pass_through_and_nesting_is_tracked() {
        let inner_seen = catch("a", "PDF", || {
            assert!(in_catch());
            let nested = catch::<u8>("b", "PDF", || panic!("{}", String::from("boom")));
            assert!(nested.unwrap_err().to_string().contains("boom"));
            Ok(in_catch())
        });
        assert!(inner_seen.unwrap());
        assert!(!in_catch());
        let err = catch::<()>("c", "PDF", || Err(IngestError::Empty { item: "c".into() })).unwrap_err();
        assert_eq!(err.reason_code(), "empty");
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
    fn long_messages_are_cut() {
        let long = "x".repeat(1000);
        let err = catch::<()>("d", "PDF", || panic!("{long}")).unwrap_err();
        assert!(err.to_string().len() < 400);
    }
}
