//! Entering and leaving the full-screen terminal mode, and a panic hook that leaves it before a
//! panic is reported, so a crash never leaves the terminal in raw mode or the alternate screen.

use std::cell::Cell;
use std::io::{Stdout, stdout};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once, OnceLock, PoisonError};
use std::thread::ThreadId;

use anyhow::Result;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::cursor::Show;
use ratatui::crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};

/// Whether the terminal is in the UI's mode.
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// The thread that draws the screen.
static UI_THREAD: OnceLock<ThreadId> = OnceLock::new();

/// The newest panic the hook kept quiet: its message and where it was raised, for the worker
/// that catches it to report.
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

thread_local! {
    /// Panics on this thread are caught and reported by the worker running here.
    static QUIET: Cell<u32> = const { Cell::new(0) };
}

/// While alive, panics on this thread are left to the caller, which catches them and shows a
/// message: the terminal stays as it is and nothing is printed over the screen.
pub struct QuietPanics(());

impl QuietPanics {
    /// Marks the current thread.
    pub fn enter() -> QuietPanics {
        QUIET.with(|q| q.set(q.get() + 1));
        QuietPanics(())
    }
}

impl Drop for QuietPanics {
    fn drop(&mut self) {
        QUIET.with(|q| q.set(q.get().saturating_sub(1)));
    }
}

/// Installs (once) the panic hook: panics that a parser guard catches print nothing; panics
/// on the background threads (workers, and the threads they start) print nothing either and are
/// kept for the worker that catches them to report on the message line ([`take_last_panic`]);
/// a panic of the thread that draws the screen first restores the terminal, then is reported
/// as usual.
pub fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    let _ = UI_THREAD.set(std::thread::current().id());
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if lore_ingest::guard::in_catch() {
                return;
            }
            let ui_thread = UI_THREAD.get().is_some_and(|id| *id == std::thread::current().id());
            if QUIET.with(Cell::get) > 0 || !ui_thread {
                let what = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                let text = match info.location() {
                    Some(at) => format!("{what} (at {}:{})", at.file(), at.line()),
                    None => what,
                };
                *LAST_PANIC.lock().unwrap_or_else(PoisonError::into_inner) = Some(text);
                return;
            }
            restore();
            previous(info);
        }));
    });
}

/// The message and place of the newest panic the hook kept quiet, once.
pub fn take_last_panic() -> Option<String> {
    LAST_PANIC.lock().unwrap_or_else(PoisonError::into_inner).take()
}

/// The terminal, in raw mode on the alternate screen with mouse reporting and bracketed paste.
pub fn setup() -> Result<Terminal<CrosstermBackend<Stdout>>> {
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    if let Err(e) = execute!(stdout(), EnterAlternateScreen, EnableMouseCapture, EnableBracketedPaste) {
        restore();
        return Err(e.into());
    }
    match Terminal::new(CrosstermBackend::new(stdout())) {
        Ok(t) => Ok(t),
        Err(e) => {
            restore();
            Err(e.into())
        }
    }
}

/// Leaves the UI's mode (once; later calls do nothing).
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let _ = execute!(stdout(), DisableBracketedPaste, DisableMouseCapture, LeaveAlternateScreen, Show);
        let _ = disable_raw_mode();
    }
}

/// Restores the terminal when dropped, on every way out of the UI.
pub struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}
