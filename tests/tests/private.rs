//! A library is private: its directory and every file in it are for its owner alone (0700
//! folders, 0600 files), a library left readable by others is tightened by the next write with
//! one notice, `lore doctor` warns of a configuration file holding a key that others can read,
//! and no credential (an API key, a password in a URL, an `Authorization` header a server echoes)
//! is ever shown. Unix only: the modes are Unix permissions.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use lore_tests::{Lore, Run, data};

const FAQ: &str = "docs/html/python3.11-faq";

/// Every folder and file under `home` (itself included) with its permission bits.
fn modes(home: &Path) -> Vec<(PathBuf, bool, u32)> {
    let mut out = Vec::new();
    let mut todo = vec![home.to_path_buf()];
    while let Some(path) = todo.pop() {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.file_type().is_symlink() {
            continue;
        }
        out.push((path.clone(), meta.is_dir(), meta.permissions().mode() & 0o777));
        if meta.is_dir() {
            todo.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        }
    }
    out
}

/// The entries of `home` whose mode is not 0700 (folders) or 0600 (files).
fn not_private(home: &Path) -> Vec<String> {
    modes(home)
        .into_iter()
        .filter(|(_, dir, mode)| *mode != if *dir { 0o700 } else { 0o600 })
        .map(|(p, _, mode)| format!("{} {mode:o}", p.display()))
        .collect()
}

/// Asserts that every folder under `home` is 0700 and every file 0600, naming the first few
/// that are not.
fn assert_private(home: &Path) {
    let open = not_private(home);
    assert!(
        open.is_empty(),
        "{} of {} entries not private, e.g. {:#?}",
        open.len(),
        modes(home).len(),
        &open[..open.len().min(8)]
    );
}

/// Sets every folder under `home` to 0755 and every file to 0644, as an older lore left them.
fn loosen(home: &Path) {
    for (path, dir, _) in modes(home) {
        let mode = if dir { 0o755 } else { 0o644 };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
}

/// Runs `lore ARGS` on the library at `home` under umask 022, the usual one, which would leave
/// new files readable by everyone.
fn lore_umask_022(lore: &Lore, home: &Path, args: &[&str]) -> Run {
    let mut cmd = lore.cmd(&[]);
    let program = cmd.get_program().to_owned();
    let mut sh = Command::new("sh");
    sh.arg("-c").arg("umask 022 && exec \"$0\" \"$@\"").arg(program).args(args);
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => sh.env(k, v),
            None => sh.env_remove(k),
        };
    }
    sh.env("LORE_HOME", home).current_dir(lore_tests::workspace());
    cmd = sh;
    Run::from_output(cmd.output().expect("run lore"))
}

fn faq(page: &str) -> String {
    data(FAQ).join(page).display().to_string()
}

/// The stderr lines that tell of a library made private.
fn privacy_notices(run: &Run) -> Vec<String> {
    run.stderr.lines().filter(|l| l.contains("readable by other users")).map(str::to_string).collect()
}

#[test]
fn a_new_library_and_everything_in_it_is_for_its_owner_alone() {
    let lore = Lore::new();
    // A library directory that does not exist yet: lore creates it.
    let home = lore.home().join("new").join("library");
    let run = lore_umask_022(&lore, &home, &["add", &faq("gui.html")]).ok();
    assert!(privacy_notices(&run).is_empty(), "a new library needs no notice: {}", run.stderr);
    let all = modes(&home);
    for name in ["catalog.sqlite", "tantivy", "qdrant", "write.lock"] {
        assert!(all.iter().any(|(p, _, _)| p.ends_with(name)), "no {name} in {all:?}");
    }
    assert!(all.len() > 10, "{all:?}");
    assert_private(&home);
    // Writing again (a second add, an answer recorded in a conversation) keeps it so, silently.
    let run = lore_umask_022(&lore, &home, &["add", &faq("installed.html")]).ok();
    assert!(privacy_notices(&run).is_empty(), "{}", run.stderr);
    lore_umask_022(&lore, &home, &["ask", "--no-llm", "What GUI toolkits exist for Python?"]).ok();
    assert_private(&home);
}

#[test]
fn a_library_readable_by_others_is_tightened_by_the_next_add_with_one_notice() {
    let lore = Lore::with_files(FAQ, &["gui.html"]);
    let home = lore.home().to_path_buf();
    std::fs::write(home.join("config.toml"), "[ask]\nk = 8\n").unwrap();
    loosen(&home);
    assert!(not_private(&home).len() > 10);
    let run = lore_umask_022(&lore, &home, &["add", &faq("installed.html")]).ok();
    let notices = privacy_notices(&run);
    assert_eq!(notices.len(), 1, "{}", run.stderr);
    assert!(notices[0].contains(&home.display().to_string()), "{}", notices[0]);
    assert_private(&home);
    // Once private, the next write says nothing.
    let run = lore_umask_022(&lore, &home, &["rm", "installed.html"]).ok();
    assert!(privacy_notices(&run).is_empty(), "{}", run.stderr);
    assert_private(&home);
}

/// `lore doctor`'s lines starting with `warn`.
fn doctor_warnings(run: &Run) -> Vec<String> {
    run.stdout.lines().filter(|l| l.starts_with("warn")).map(str::to_string).collect()
}

#[test]
fn doctor_warns_of_a_config_file_holding_a_key_that_others_can_read() {
    let lore = Lore::new();
    let file = lore.home().join("config.toml");
    let secret = "qd-doctor-secret-4711";
    std::fs::write(&file, format!("[qdrant]\napi_key = \"{secret}\"\n")).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = lore.run(&["doctor"]);
    let warnings = doctor_warnings(&run);
    assert_eq!(warnings.len(), 1, "{}", run.stdout);
    assert!(warnings[0].contains("qdrant.api_key"), "{}", warnings[0]);
    assert!(warnings[0].contains(&format!("chmod 600 {}", file.display())), "{}", warnings[0]);
    assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
    let json = lore.run(&["doctor", "--json"]).json();
    let warned: Vec<&serde_json::Value> =
        json.as_array().unwrap().iter().filter(|c| c["status"] == "warn").collect();
    assert_eq!(warned.len(), 1, "{json}");

    // The same file for its owner alone: no warning.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(doctor_warnings(&lore.run(&["doctor"])), Vec::<String>::new());

    // A password in a URL is a key too, in the user's own configuration as well; a file
    // without one is no concern.
    let user = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(user.path().join("lore")).unwrap();
    let user_file = user.path().join("lore").join("config.toml");
    std::fs::write(&user_file, "[llm]\nbase_url = \"http://me:pw-doctor-0815@127.0.0.1:1/v1\"\n").unwrap();
    std::fs::set_permissions(&user_file, std::fs::Permissions::from_mode(0o640)).unwrap();
    // The library has no configuration file of its own now: the user's is read.
    std::fs::remove_file(&file).unwrap();
    let mut cmd = lore.cmd(&["doctor"]);
    cmd.env("XDG_CONFIG_HOME", user.path()).env("LORE_LLM_RETRIES", "0");
    let run = Run::from_output(cmd.output().unwrap());
    let warnings = doctor_warnings(&run);
    assert_eq!(warnings.len(), 1, "{}", run.stdout);
    assert!(warnings[0].contains("llm.base_url"), "{}", warnings[0]);
    assert!(warnings[0].contains(&format!("chmod 600 {}", user_file.display())), "{}", warnings[0]);
    assert!(!run.stdout.contains("pw-doctor-0815") && !run.stderr.contains("pw-doctor-0815"), "{run:?}");
}

/// What the fake chat endpoint received.
#[derive(Default)]
struct Seen {
    requests: usize,
    authorization: Vec<String>,
}

/// A chat endpoint that refuses every request with `status`, echoing the request's headers (the
/// `Authorization` header with the key) in the error body: in OpenAI's JSON error shape for 401,
/// as plain text otherwise.
fn echoing_server(status: u16) -> (u16, Arc<Mutex<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = Vec::new();
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if lower.starts_with("authorization:") {
                    log.lock().unwrap().authorization.push(line.trim().to_string());
                }
                head.push(line.trim().to_string());
            }
            let mut body = vec![0u8; length];
            let _ = reader.read_exact(&mut body);
            log.lock().unwrap().requests += 1;
            let echoed = head.join("; ");
            let (reason, content_type, text) = if status == 401 {
                let message = format!("Incorrect API key provided. You sent {echoed}");
                (
                    "Unauthorized",
                    "application/json",
                    serde_json::json!({"error": {"message": message}}).to_string(),
                )
            } else {
                ("Internal Server Error", "text/plain", format!("upstream failed for request {echoed}"))
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    (port, seen)
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn credentials_a_chat_server_echoes_are_never_shown() {
    let lore = Lore::with_files(FAQ, &["gui.html"]);
    let key = "sk-lore-echo-9f8e7d6c5b4a";
    let (user, password) = ("lore-user", "pa55-echo-s3cret");
    let basic = base64(format!("{user}:{password}").as_bytes());
    for status in [401u16, 500] {
        let (port, seen) = echoing_server(status);
        let base_url = format!("http://{user}:{password}@127.0.0.1:{port}/v1");
        // The key in the library's configuration file, and in the environment.
        let config =
            format!("[llm]\nbase_url = \"{base_url}\"\nmodel = \"m\"\nretries = 1\napi_key = \"{key}\"\n");
        std::fs::write(lore.home().join("config.toml"), &config).unwrap();
        let mut runs = Vec::new();
        for args in [
            &["ask"][..],
            &["ask", "--json"],
            &["-v", "ask"],
            &["doctor"],
            &["doctor", "--json"],
            &["-v", "doctor"],
        ] {
            let mut args = args.to_vec();
            if args.contains(&"ask") {
                args.push("What GUI toolkits exist for Python?");
            }
            runs.push((args.join(" "), lore.run(&args)));
        }
        std::fs::write(
            lore.home().join("config.toml"),
            config.replace(&format!("api_key = \"{key}\"\n"), ""),
        )
        .unwrap();
        let mut cmd = lore.cmd(&["ask", "What GUI toolkits exist for Python?"]);
        cmd.env("OPENAI_API_KEY", key);
        runs.push(("ask, key in OPENAI_API_KEY".into(), Run::from_output(cmd.output().unwrap())));

        let seen = seen.lock().unwrap();
        assert!(seen.requests >= 5, "the server was asked {} times", seen.requests);
        assert!(
            seen.authorization.iter().any(|h| h.contains(key)),
            "the key never reached the server: {:?}",
            seen.authorization
        );
        for (what, run) in &runs {
            for secret in [key, password, basic.as_str()] {
                assert!(
                    !run.stdout.contains(secret) && !run.stderr.contains(secret),
                    "`lore {what}` against a {status} showed {secret:?}:\nstdout:\n{}\nstderr:\n{}",
                    run.stdout,
                    run.stderr
                );
            }
            // The server's answer is reported (its status), with the secrets hidden.
            let all = format!("{}{}", run.stdout, run.stderr);
            assert!(all.contains(&status.to_string()), "`lore {what}`: no {status} in {all}");
        }
    }
}
