//! Entering and leaving the full-screen terminal mode, and a panic hook that leaves it before a
//! panic is reported, so a crash never leaves the terminal in raw mode or the alternate screen.

use std::cell::Cell;
use std::io::{Stdout, stdout};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

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

/// Installs (once) the panic hook: panics that a worker or a parser guard catches print
/// nothing; any other panic first restores the terminal, then is reported as usual.
pub fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if lore_ingest::guard::in_catch() || QUIET.with(Cell::get) > 0 {
                return;
            }
            restore();
            previous(info);
        }));
    });
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
