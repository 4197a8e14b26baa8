//! Helpers shared by the end-to-end tests of lore: running the real `lore` binary against a
//! temporary library, and finding the shared test data.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub mod corpus;
pub mod data_dir;
pub mod junk;
pub mod process;
pub mod proxy;
pub mod qdrant;
pub mod rng;
pub mod scan;
pub mod stores;
pub mod tmux;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

pub use data_dir::data;

/// The `lore` binary built beside this test executable (`cargo test --workspace` builds it for
/// the `lore-tui` integration tests).
pub fn lore_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile> directory");
    let bin = profile_dir.join("lore");
    assert!(bin.is_file(), "{} is missing: run the tests with `cargo test --workspace`", bin.display());
    bin
}

/// The local chat model every test that asks it names, decoding greedily (temperature 0) so a
/// run answers as the last one did; set beside the server's URL ([`chat_server`]).
pub const CHAT_MODEL_ENV: [(&str, &str); 2] =
    [("LORE_LLM_MODEL", "qwen2.5-0.5b-instruct"), ("LORE_LLM_TEMPERATURE", "0.0")];

/// The settings of the tests that ask the local chat model: its server ([`chat_server`]) and
/// name ([`CHAT_MODEL_ENV`]), and prompts kept small so a 0.5B model on 2 cores answers in
/// seconds (160 answer tokens, a 700-token budget of at most 3 passages).
pub fn small_chat_env() -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("LORE_LLM_BASE_URL", chat_server()),
        ("LORE_LLM_MAX_ANSWER_TOKENS", "160".into()),
        ("LORE_ASK_BUDGET_TOKENS", "700".into()),
        ("LORE_ASK_MAX_PASSAGES", "3".into()),
    ];
    env.extend(CHAT_MODEL_ENV.map(|(k, v)| (k, v.to_string())));
    env
}

/// The base URL of the local chat model server the tests talk to: `$LORE_TEST_LLM` when set
/// (`.ci/run` starts the server and sets it), else the server of `scripts/chat-server.sh`,
/// started if it is not running (it keeps running for later test runs; `scripts/chat-server.sh
/// stop` stops it).
pub fn chat_server() -> String {
    static URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    URL.get_or_init(|| {
        if let Some(url) = std::env::var("LORE_TEST_LLM").ok().filter(|u| !u.trim().is_empty()) {
            return url.trim().to_string();
        }
        let out = Command::new("bash")
            .arg(workspace().join("scripts/chat-server.sh"))
            .arg("start")
            .output()
            .expect("run scripts/chat-server.sh");
        assert!(
            out.status.success(),
            "the local chat server did not start (run scripts/setup.sh first): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    })
    .clone()
}

/// A temporary library and a way to run `lore` against it.
pub struct Lore {
    home: tempfile::TempDir,
}

/// What a run of `lore` printed and how it exited.
#[derive(Debug)]
pub struct Run {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// The outcome of a finished command.
    pub fn from_output(out: Output) -> Run {
        Run::from(out)
    }

    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Asserts a zero exit and returns self.
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "lore failed:\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    /// Parses stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.stdout))
    }
}

impl Default for Lore {
    fn default() -> Self {
        Self::new()
    }
}

impl Lore {
    /// A new empty library in a temporary directory.
    pub fn new() -> Lore {
        Lore { home: tempfile::tempdir().expect("temp dir") }
    }

    /// The library directory.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// A `lore` command with this library, ready to run.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(lore_bin());
        c.args(args).env("LORE_HOME", self.home.path()).env("NO_COLOR", "1").current_dir(workspace());
        // The locale takes part in choosing a new library's embedding model: the tests run in
        // the C locale unless they set another.
        c.env("LANG", "C.UTF-8").env_remove("LC_ALL").env_remove("LC_MESSAGES");
        // The tests choose their chat model themselves.
        for (name, _) in std::env::vars_os() {
            let n = name.to_string_lossy();
            if n.starts_with("LORE_LLM_") || n == "OPENAI_API_KEY" {
                c.env_remove(&name);
            }
        }
        c
    }

    /// Runs `lore ARGS...` and waits for it.
    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.cmd(args).output().expect("run lore"))
    }

    /// A new library holding `files` of the data folder `dir` (relative to `../shared/data`),
    /// added in one `lore add` that must succeed.
    pub fn with_files(dir: &str, files: &[&str]) -> Lore {
        let lore = Lore::new();
        let dir = data_dir::data(dir);
        let paths: Vec<String> = files.iter().map(|p| dir.join(p).display().to_string()).collect();
        let mut args = vec!["add"];
        args.extend(paths.iter().map(String::as_str));
        lore.run(&args).ok();
        lore
    }

    /// `lore ls --json` as a list of documents.
    pub fn docs(&self) -> Vec<serde_json::Value> {
        match self.run(&["ls", "--json"]).ok().json() {
            serde_json::Value::Array(a) => a,
            other => panic!("ls --json is not a list: {other}"),
        }
    }
}

/// Whether `what` (e.g. `fulldisk`, `qdrant`) is named in `LORE_REQUIRE` (comma-separated): the
/// machine is said to have it, so a test needing it must run rather than skip.
pub fn required(what: &str) -> bool {
    std::env::var("LORE_REQUIRE").is_ok_and(|v| v.split(',').any(|w| w.trim().eq_ignore_ascii_case(what)))
}

/// A test that cannot run here because `what` is missing (`why`): says so on stderr (shown
/// even when output is captured) and returns, so the caller returns too; when `LORE_REQUIRE`
/// names `what` (`.ci/run` sets it for what CI provides) it fails instead, so a missing
/// facility is never counted as a pass there.
pub fn skip(what: &str, why: &str) {
    assert!(!required(what), "{what} is required here (LORE_REQUIRE) but unavailable: {why}");
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "skipped (needs {what}; LORE_REQUIRE={what} makes this a failure): {why}"
    );
}

/// The `[n]` citation markers of an answer, in order (`[ 2 ]` counts; `[a]` does not).
pub fn markers(text: &str) -> Vec<u64> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('[') {
        rest = &rest[i + 1..];
        if let Some(j) = rest.find(']')
            && let Ok(n) = rest[..j].trim().parse::<u64>()
        {
            out.push(n);
        }
    }
    out
}
