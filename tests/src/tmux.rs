//! A real terminal for the tests of the terminal UI: a tmux server on its own socket, driven by
//! keys and read back from the screen.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Terminal width of a session.
pub const WIDTH: usize = 100;
/// Terminal height of a session.
pub const HEIGHT: usize = 30;

/// A tmux server on its own socket (in a temporary directory) with one session running `sh`;
/// killed when dropped, also when the test fails.
pub struct Tmux {
    socket: String,
    _dir: tempfile::TempDir,
}

impl Tmux {
    /// Starts the server and its session of [`WIDTH`] by [`HEIGHT`] with exactly the `LORE_`
    /// variables (and `NO_COLOR`, `OPENAI_API_KEY`) given in `env`.
    pub fn start(env: &[(&str, String)]) -> Tmux {
        let dir = tempfile::tempdir().expect("temp dir");
        let socket = dir.path().join("tmux.sock").display().to_string();
        let tmux = Tmux { socket, _dir: dir };
        let mut cmd = Command::new("tmux");
        cmd.args(["-S", &tmux.socket, "-f", "/dev/null", "new-session", "-d", "-s", "main"]);
        cmd.args(["-x", &WIDTH.to_string(), "-y", &HEIGHT.to_string()]);
        for (k, v) in env {
            cmd.args(["-e", &format!("{k}={v}")]);
        }
        cmd.arg("sh");
        // The session's environment is exactly what the test gives it.
        for (name, _) in std::env::vars_os() {
            let n = name.to_string_lossy();
            if n.starts_with("LORE_") || n == "OPENAI_API_KEY" || n == "NO_COLOR" {
                cmd.env_remove(&name);
            }
        }
        let out = cmd.output().expect("run tmux");
        assert!(out.status.success(), "tmux did not start: {}", String::from_utf8_lossy(&out.stderr));
        tmux
    }

    /// Runs a tmux command on this server; it must succeed.
    pub fn tmux(&self, args: &[&str]) -> Output {
        let out = Command::new("tmux").args(["-S", &self.socket]).args(args).output().expect("run tmux");
        assert!(out.status.success(), "tmux {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out
    }

    /// Sends keys by tmux name (`Enter`, `Tab`, `Escape`, `C-c`, or a single character).
    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.tmux(&["send-keys", "-t", "main", k]);
            // Separate keys arrive as separate events (two quick Escapes would read as Alt-Esc).
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// Types text literally.
    pub fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "main", "-l", text]);
        std::thread::sleep(Duration::from_millis(150));
    }

    /// The screen's text.
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "main"]).stdout).into_owned()
    }

    /// A tmux format expanded for the session's pane (`#{pane_pid}`, `#{cursor_flag}`, ...).
    pub fn display(&self, format: &str) -> String {
        String::from_utf8_lossy(&self.tmux(&["display-message", "-p", "-t", "main", format]).stdout)
            .trim()
            .to_string()
    }

    /// Polls the screen until `ready` holds, or fails after `limit` showing the last screen.
    pub fn wait_for(&self, what: &str, limit: Duration, ready: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            assert!(start.elapsed() < limit, "timed out waiting for {what}; the screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-S", &self.socket, "kill-server"]).output();
    }
}
