//! The terminal UI end to end: the real `lore` binary in a real terminal (tmux), driven by keys
//! and read back from the screen. It opens on an empty library, adds a document, asks a
//! question of the local chat model, sees the answer with a citation and the cited source,
//! opens the source with the system opener (a script that records what it was given), quits,
//! and checks that the terminal is back in its ordinary mode.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use lore_tests::{Lore, chat_server, data, lore_bin};

/// Terminal size of the session.
const WIDTH: usize = 100;
const HEIGHT: usize = 30;
/// Columns of the conversation pane (58% of the width, as the UI lays it out).
const LEFT: usize = 58;

/// A tmux server on its own socket with one session running `sh`; killed when dropped, also
/// when the test fails.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(env: &[(&str, String)]) -> Tmux {
        let socket = format!("lore-tui-test-{}-{}", std::process::id(), nonce());
        let tmux = Tmux { socket };
        let mut cmd = Command::new("tmux");
        cmd.args(["-L", &tmux.socket, "-f", "/dev/null", "new-session", "-d", "-s", "main"]);
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

    fn tmux(&self, args: &[&str]) -> Output {
        let out = Command::new("tmux").args(["-L", &self.socket]).args(args).output().expect("run tmux");
        assert!(out.status.success(), "tmux {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out
    }

    /// Sends keys by tmux name (`Enter`, `Tab`, `Escape`, `C-c`, or a single character).
    fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.tmux(&["send-keys", "-t", "main", k]);
            // Separate keys arrive as separate events (two quick Escapes would read as Alt-Esc).
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// Types text literally.
    fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "main", "-l", text]);
        std::thread::sleep(Duration::from_millis(150));
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "main"]).stdout).into_owned()
    }

    fn display(&self, format: &str) -> String {
        String::from_utf8_lossy(&self.tmux(&["display-message", "-p", "-t", "main", format]).stdout)
            .trim()
            .to_string()
    }

    /// Polls the screen until `ready` holds, or fails after `limit` showing the last screen.
    fn wait_for(&self, what: &str, limit: Duration, ready: impl Fn(&str) -> bool) -> String {
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
        let _ = Command::new("tmux").args(["-L", &self.socket, "kill-server"]).output();
    }
}

fn nonce() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

/// The columns of every screen line from `from` to `to`.
fn columns(screen: &str, from: usize, to: usize) -> String {
    screen
        .lines()
        .map(|l| l.chars().skip(from).take(to - from).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether `text` holds a citation marker `[n]`.
fn has_marker(text: &str) -> bool {
    let b = text.as_bytes();
    (0..b.len()).any(|i| {
        b[i] == b'[' && {
            let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            digits > 0 && b.get(i + 1 + digits) == Some(&b']')
        }
    })
}

/// A script for `$LORE_OPENER` that appends its argument to `log`.
fn opener_script(dir: &Path, log: &Path) -> PathBuf {
    let script = dir.join("opener.sh");
    std::fs::write(&script, format!("#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n", log.display())).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

#[test]
fn a_session_adds_asks_opens_the_source_and_quits() {
    let lore = Lore::new();
    let scratch = tempfile::tempdir().unwrap();
    let opened = scratch.path().join("opened.txt");
    let opener = opener_script(scratch.path(), &opened);
    let doc = data("docs/html/python3.11-faq/gui.html");
    let doc = std::fs::canonicalize(doc).unwrap();
    let env = [
        ("LORE_HOME", lore.home().display().to_string()),
        ("LORE_LLM_BASE_URL", chat_server()),
        ("LORE_LLM_MODEL", "qwen2.5-0.5b-instruct".to_string()),
        ("LORE_OPENER", opener.display().to_string()),
        ("NO_COLOR", "1".to_string()),
    ];
    let t = Tmux::start(&env);
    t.wait_for("the shell's prompt", Duration::from_secs(10), |s| !s.trim().is_empty());
    t.type_text(&format!("{}; echo EXIT=$?", lore_bin().display()));
    t.keys(&["Enter"]);

    // Open: the empty library.
    t.wait_for("the first frame", Duration::from_secs(30), |s| {
        s.contains("Conversation") && s.contains("Library · 0 docs") && s.contains("Your library is empty")
    });

    // Add a document from the library pane.
    t.keys(&["Tab", "Tab", "a"]);
    t.wait_for("the add popup", Duration::from_secs(10), |s| s.contains("Add a file or folder"));
    t.type_text(&doc.display().to_string());
    t.keys(&["Enter"]);
    let s = t.wait_for("the document in the library", Duration::from_secs(120), |s| {
        s.contains("Library · 1 doc ·") && s.contains("added 1 document")
    });
    assert!(columns(&s, LEFT, WIDTH).contains("Graphic User Interface FAQ"), "{s}");

    // Ask a question against the local chat model.
    t.keys(&["Tab"]);
    t.type_text("Which GUI toolkits can I use with Python?");
    t.keys(&["Enter"]);
    t.wait_for("the answer to start", Duration::from_secs(60), |s| {
        s.contains("answering") || s.contains("Conversation #")
    });
    // Done when the answer is recorded: the pane title then names the conversation.
    let s = t.wait_for("the answer", Duration::from_secs(300), |s| {
        s.contains("Conversation #") && !s.contains("answering")
    });
    let conversation = columns(&s, 0, LEFT);
    let sources = columns(&s, LEFT, WIDTH);
    assert!(conversation.contains("› Which GUI toolkits can I use with Python?"), "{s}");
    assert!(has_marker(&conversation), "no [n] citation in the answer:\n{s}");
    assert!(sources.contains("] Graphic User Interface FAQ"), "the sources pane lists no cited source:\n{s}");

    // Open the cited source from the sources pane.
    t.keys(&["Tab", "o"]);
    let start = Instant::now();
    let target = loop {
        if let Ok(text) = std::fs::read_to_string(&opened)
            && !text.trim().is_empty()
        {
            break text;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "the opener was not run:\n{}", t.screen());
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(target.trim(), doc.display().to_string());

    // The answer was recorded as a conversation.
    let history = lore.run(&["history", "--json"]).ok().json();
    assert_eq!(history.as_array().map(Vec::len), Some(1), "{history}");

    // Quit: the shell is back, in cooked mode with echo, off the alternate screen.
    t.keys(&["q"]);
    t.wait_for("lore to exit", Duration::from_secs(20), |s| s.contains("EXIT=0"));
    assert_eq!(t.display("#{alternate_on}"), "0");
    assert_eq!(t.display("#{mouse_any_flag}"), "0");
    assert_eq!(t.display("#{cursor_flag}"), "1");
    t.type_text("echo MODES=$(stty -a | tr ' ;' '\\n\\n' | grep -cx -e icanon -e echo)");
    t.keys(&["Enter"]);
    t.wait_for("the terminal modes", Duration::from_secs(10), |s| s.contains("MODES=2"));
}
