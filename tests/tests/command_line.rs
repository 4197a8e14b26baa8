//! The command line's manners, through the real binary: output into a pipe whose reader has
//! gone (`lore ls | head`) ends quietly; `lore ls` keeps its columns with Chinese titles;
//! `lore doctor` on a new library says what to do next instead of failing; `lore --help` says
//! that `lore` alone opens the terminal UI and `lore ask --help` how to set up a chat model; a
//! file that failed to load is not kept as a source root; EPUB hits name each heading once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Stdio;

use lore_tests::{Lore, Run, data};

/// A library of two Markdown notes, one with an English title and one with a Chinese one.
fn library(dir: &std::path::Path) -> Lore {
    let lore = Lore::new();
    std::fs::write(
        dir.join("pkg.md"),
        "# 软件包管理系统是如何处理含有其他软件包的配置文件的软件包的\n\n软件包管理系统在升级时保留用户修改过的配置文件，并提示用户选择。\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("apt.md"),
        "# Package management basics\n\nThe package manager keeps configuration files a user changed.\n",
    )
    .unwrap();
    lore.run(&["add", dir.to_str().unwrap()]).ok();
    lore
}

/// Runs `lore ARGS...` with its stdout a pipe whose reading end is already closed.
fn into_closed_pipe(lore: &Lore, args: &[&str]) -> Run {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let out = lore.cmd(args).stdin(Stdio::null()).stdout(writer).stderr(Stdio::piped()).output().unwrap();
    Run::from_output(out)
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let lore = library(dir.path());
    let pkg = std::fs::canonicalize(dir.path().join("pkg.md")).unwrap().display().to_string();
    let commands: Vec<Vec<&str>> = vec![
        vec!["ls"],
        vec!["ls", "--json"],
        vec!["show", &pkg],
        vec!["search", "package", "configuration"],
        vec!["search", "--json", "软件包"],
        vec!["roots"],
        vec!["history"],
    ];
    for args in commands {
        let run = into_closed_pipe(&lore, &args);
        // 141: what a shell reports for a command stopped by a closed pipe.
        assert!([0, 141].contains(&run.code), "lore {args:?} exited {}:\n{}", run.code, run.stderr);
        assert!(run.stderr.trim().is_empty(), "lore {args:?} said something:\n{}", run.stderr);
    }
}

/// Columns a string takes in a terminal: two for the wide characters of Chinese, Japanese and
/// Korean, one for the rest (enough for the titles here).
fn columns(s: &str) -> usize {
    s.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60 => 2,
            _ => 1,
        })
        .sum()
}

#[test]
fn ls_keeps_its_columns_with_chinese_titles() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("short.md"), "# 参考手册\n\n这是一本关于软件包管理的参考手册。\n")
        .unwrap();
    let lore = library(dir.path());
    let out = lore.run(&["ls"]).ok().stdout;
    let lines: Vec<&str> = out.lines().collect();
    let header = lines[0];
    let kind_at = columns(&header[..header.find("KIND").unwrap()]);
    let rows: Vec<&str> = lines.iter().copied().filter(|l| l.contains("markdown")).collect();
    assert_eq!(rows.len(), 3, "{out}");
    for row in &rows {
        let at = columns(&row[..row.find("markdown").unwrap()]);
        assert_eq!(at, kind_at, "the kind column moved in {row:?}:\n{out}");
    }
    // The long Chinese title is cut to its column, the short one shown whole.
    assert!(out.contains("软件包管理系统") && out.contains('…'), "{out}");
    assert!(out.contains("参考手册 "), "{out}");
}

#[test]
fn doctor_on_a_new_library_says_what_to_do_next() {
    let lore = Lore::new();
    let home = lore.home().join("new");
    let run = lore.cmd(&["doctor"]).env("LORE_HOME", &home).output().unwrap();
    let run = Run::from_output(run);
    assert_eq!(run.code, 0, "doctor failed on a new library:\n{}\n{}", run.stdout, run.stderr);
    let library: Vec<&str> =
        run.stdout.lines().filter(|l| l.split_whitespace().nth(1) == Some("library")).collect();
    assert_eq!(library.len(), 1, "{}", run.stdout);
    assert!(library[0].starts_with("note") && library[0].contains("lore add"), "{}", library[0]);
    assert!(!run.stdout.lines().any(|l| l.starts_with("fail")), "{}", run.stdout);
    assert!(!home.join("catalog.sqlite").exists(), "doctor created a library");
}

#[test]
fn help_says_that_lore_alone_opens_the_terminal_ui() {
    let lore = Lore::new();
    for flag in ["--help", "-h"] {
        let out = lore.run(&[flag]).ok().stdout;
        assert!(out.contains("`lore` with no command to open the terminal UI"), "lore {flag}:\n{out}");
        assert!(out.contains("press ?"), "lore {flag}:\n{out}");
    }
}

#[test]
fn a_file_that_fails_to_load_is_not_kept_as_a_source_root() {
    let lore = Lore::new();
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.pdf");
    std::fs::write(&broken, b"%PDF-1.7\nthis is not really a PDF\n").unwrap();
    let good = dir.path().join("good.md");
    std::fs::write(&good, "# Good\n\nA file that loads.\n").unwrap();
    let run = lore.run(&["add", broken.to_str().unwrap(), good.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("broken.pdf"), "the failure is named: {}", run.stderr);
    let roots = lore.run(&["roots", "--json"]).ok().json();
    let paths: Vec<&str> = roots.as_array().unwrap().iter().map(|r| r["path"].as_str().unwrap()).collect();
    let good = std::fs::canonicalize(&good).unwrap().display().to_string();
    assert_eq!(paths, vec![good.as_str()], "only the file that was added is a root");
    // Alone, it fails the add and leaves no root either.
    let run = lore.run(&["add", broken.to_str().unwrap()]);
    assert_ne!(run.code, 0);
    assert_eq!(lore.run(&["roots", "--json"]).ok().json().as_array().unwrap().len(), 1);
}

#[test]
fn ask_help_says_how_to_set_up_a_chat_model() {
    let lore = Lore::new();
    let out = lore.run(&["ask", "--help"]).ok().stdout;
    for needle in [
        "base_url",
        "LORE_LLM_BASE_URL",
        "LORE_LLM_MODEL",
        "api_key_env",
        "scripts/chat-server.sh",
        "--no-llm",
    ] {
        assert!(out.contains(needle), "ask --help does not name {needle}:\n{out}");
    }
}

#[test]
fn epub_hits_name_each_heading_once() {
    let lore = Lore::new();
    lore.run(&["add", data("docs/epub/live-manual.en.epub").to_str().unwrap()]).ok();
    let hits =
        lore.run(&["search", "--json", "--k", "20", "build a live system image with lb build"]).ok().json();
    let hits = hits.as_array().unwrap();
    assert!(!hits.is_empty());
    for hit in hits {
        let path: Vec<&str> =
            hit["chunk"]["heading_path"].as_array().unwrap().iter().map(|h| h.as_str().unwrap()).collect();
        assert!(!path.is_empty(), "{hit}");
        let mut seen = std::collections::HashSet::new();
        assert!(path.iter().all(|h| seen.insert(h.to_lowercase())), "a heading repeats: {path:?}");
        assert_ne!(path.first().copied(), hit["title"].as_str(), "the book title leads the path: {path:?}");
    }
}

#[test]
fn completions_and_manual_pages_need_no_library_and_no_valid_config() {
    let lore = Lore::new();
    // A broken configuration stops the commands that read it, not these two.
    std::fs::write(lore.home().join("config.toml"), "[ingest\n").unwrap();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let run = lore.run(&["completions", shell]).ok();
        assert!(run.stdout.contains("lore") && run.stdout.contains("search"), "{shell}: {}", run.stdout);
    }
    let page = lore.run(&["man"]).ok().stdout;
    assert!(page.contains(".TH lore 1") && page.contains("Exit status"), "{page}");
    let dir = tempfile::tempdir().unwrap();
    let run = lore.run(&["man", "--dir", dir.path().to_str().unwrap()]).ok();
    assert!(run.stdout.starts_with("Wrote "), "{}", run.stdout);
    let add = std::fs::read_to_string(dir.path().join("lore-add.1")).unwrap();
    assert!(add.contains("lore\\-add"), "{add}");
    assert_ne!(lore.run(&["completions", "tcsh"]).code, 0, "an unknown shell is a usage error");
    assert_ne!(lore.run(&["ls"]).code, 0, "the broken configuration still stops a command that reads it");
}

#[test]
fn color_follows_the_flag_and_no_color() {
    let dir = tempfile::tempdir().unwrap();
    let lore = library(dir.path());
    let colored = lore.run(&["--color", "always", "search", "package manager"]).ok().stdout;
    assert!(colored.contains("\x1b["), "--color always colours even a pipe: {colored}");
    let mut cmd = lore.cmd(&["--color", "always", "search", "package manager"]);
    cmd.env("NO_COLOR", "1");
    let run = Run::from_output(cmd.output().unwrap()).ok();
    assert!(run.stdout.contains("\x1b["), "an explicit --color always wins over NO_COLOR");
    for args in [&["search", "package manager"][..], &["--color", "never", "search", "package manager"][..]] {
        let plain = lore.run(args).ok().stdout;
        assert!(!plain.contains('\x1b') && plain.contains("Package management"), "{args:?}: {plain}");
    }
    let help = lore.run(&["--help"]).ok().stdout;
    assert!(help.contains("Exit status: 0 done; 1 an error") && help.contains("130 interrupted"), "{help}");
}

#[test]
fn config_shows_each_value_with_its_origin_and_hides_secrets() {
    let lore = Lore::new();
    let file = lore.home().join("config.toml");
    std::fs::write(
        &file,
        "[search]\nk = 7\n[llm]\nbase_url = \"http://bob:hunter2@127.0.0.1:9/v1\"\n[qdrant]\napi_key = \"qk-secret-1\"\n",
    )
    .unwrap();
    let mut cmd = lore.cmd(&["config", "--json"]);
    cmd.env("LORE_LLM_MODEL", "qwen-test");
    let run = Run::from_output(cmd.output().unwrap()).ok();
    assert!(!run.stdout.contains("hunter2") && !run.stdout.contains("qk-secret-1"), "{}", run.stdout);
    let shown = run.json();
    assert_eq!(shown["file"].as_str(), Some(file.to_str().unwrap()));
    let setting = |s: &str, k: &str| {
        shown["settings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["section"] == s && x["key"] == k)
            .unwrap()
            .clone()
    };
    assert_eq!(setting("search", "k")["origin"], "file");
    assert_eq!(setting("search", "k")["value"], 7);
    assert_eq!(setting("llm", "model")["origin"], "env");
    assert_eq!(setting("llm", "model")["from"], "LORE_LLM_MODEL");
    assert_eq!(setting("search", "mode")["origin"], "default");
    assert_eq!(setting("llm", "base_url")["value"], "http://<hidden>@127.0.0.1:9/v1");
    let text = lore.run(&["config"]).ok().stdout;
    assert!(text.contains("k = 7  # file") && text.contains("[qdrant]"), "{text}");
    assert!(!text.contains("hunter2") && !text.contains("qk-secret-1"), "{text}");
    assert_eq!(lore.run(&["config", "path"]).ok().stdout.trim(), file.to_str().unwrap());
}

#[test]
fn quiet_keeps_errors_and_results_and_drops_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.md"), "# 菜园\n\n番茄七月收获。\n").unwrap();
    std::fs::write(dir.path().join("bad.pdf"), "not a pdf").unwrap();
    let loud = Lore::new();
    let run = loud.run(&["add", dir.path().to_str().unwrap()]);
    assert!(run.stderr.contains("note: ") && run.stderr.contains("error: "), "{}", run.stderr);
    let lore = Lore::new();
    let run = lore.run(&["--quiet", "add", dir.path().to_str().unwrap()]).ok();
    assert!(run.stderr.contains("error: ") && run.stderr.contains("bad.pdf"), "errors stay: {}", run.stderr);
    assert!(!run.stderr.contains("note: ") && !run.stderr.contains("warning: "), "{}", run.stderr);
    assert!(run.stdout.contains("Added 1 document"), "the result stays: {}", run.stdout);
    // -q after the subcommand too, and never with -v.
    let run = lore.run(&["search", "-q", "番茄"]).ok();
    assert!(run.stdout.contains("菜园") && run.stderr.is_empty(), "{} | {}", run.stdout, run.stderr);
    assert_eq!(lore.run(&["-q", "-v", "ls"]).code, 2);
    assert!(lore.run(&["optimize", "--quiet"]).ok().stdout.is_empty());
}
