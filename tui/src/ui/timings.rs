//! Timing figures of the UI, written to the file named by `$LORE_UI_TIMINGS` (one
//! `name value_ms` line each): launch to first frame, to the library listed, to the engine
//! ready, and keystroke to frame (the typed character, and live search results).

use std::fs::File;
use std::io::Write;
use std::sync::OnceLock;
use std::time::Instant;

static LAUNCH: OnceLock<Instant> = OnceLock::new();

/// Notes the moment the program started; call first thing in `main`.
pub fn mark_launch() {
    LAUNCH.get_or_init(Instant::now);
}

/// Milliseconds since [`mark_launch`] (or since the first call of this).
pub fn since_launch_ms() -> f64 {
    LAUNCH.get_or_init(Instant::now).elapsed().as_secs_f64() * 1000.0
}

/// Milliseconds since `t`.
pub fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// Where figures go, if anywhere.
pub struct Timings {
    file: Option<File>,
}

impl Timings {
    /// Writes to `$LORE_UI_TIMINGS` when it is set.
    pub fn from_env() -> Timings {
        let file = std::env::var_os("LORE_UI_TIMINGS")
            .filter(|v| !v.is_empty())
            .and_then(|p| std::fs::OpenOptions::new().create(true).append(true).open(p).ok());
        Timings { file }
    }

    /// Whether figures are recorded.
    pub fn enabled(&self) -> bool {
        self.file.is_some()
    }

    /// Records one figure.
    pub fn log(&mut self, name: &str, ms: f64) {
        if let Some(f) = &mut self.file {
            let _ = writeln!(f, "{name} {ms:.1}");
        }
    }
}
