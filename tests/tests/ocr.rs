//! Scanned PDFs read by OCR (tesseract) through `lore add`: pages without a text layer come back
//! with their words and page numbers, marked as OCRed; a scanned book shows its progress, and
//! one killed mid-OCR resumes without reading its pages again; without tesseract, or with
//! `ingest.ocr = "never"`, the file gets one line saying what to do.
//!
//! The scanned PDFs are made here: pages of a real PDF rendered to JPEG by `pdftoppm` and wrapped
//! in image-only pages, or Chinese text drawn with the WenQuanYi font. Each test needs tesseract
//! (and `chi_sim` for Chinese) and skips without it unless `LORE_REQUIRE` names `ocr`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use lore_tests::scan::{PageImage, f1, image_pdf, render_jpeg_pages, tesseract_has, text_page};
use lore_tests::{Lore, data};

/// The lowest word F1 accepted for English pages of R-intro.pdf rendered at 150 dpi as JPEG
/// (measured: 0.95 on pages 12-13).
const EN_F1_MIN: f64 = 0.90;
/// The lowest character F1 accepted for Chinese text drawn at 28 px (measured: 0.97).
const ZH_F1_MIN: f64 = 0.85;

/// The text of page `page` of `pdf` by poppler's `pdftotext`.
fn pdftotext_page(pdf: &Path, page: u32) -> String {
    let out = std::process::Command::new("pdftotext")
        .args(["-f", &page.to_string(), "-l", &page.to_string(), "-layout"])
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The document of `lore show --json` for the only document whose source ends with `name`.
fn shown(lore: &Lore, name: &str) -> serde_json::Value {
    let docs = lore.docs();
    let doc =
        docs.iter().find(|d| d["source"].as_str().unwrap().ends_with(name)).expect("the document is listed");
    lore.run(&["show", &doc["id"].to_string(), "--json", "--chunks", "1000"]).ok().json()
}

/// Small chunks without overlap, so that most chunks lie on one page and the text is not
/// counted twice; scanned pages rendered at 200 dpi (the default, 300, reads these pages no
/// better and takes half as long again).
const SMALL_CHUNKS: [(&str, &str); 3] =
    [("LORE_INGEST_CHUNK_TOKENS", "64"), ("LORE_INGEST_CHUNK_OVERLAP", "0"), ("LORE_INGEST_OCR_DPI", "200")];

/// The text of the chunks that start on page `page`.
fn page_text(show: &serde_json::Value, page: u64) -> String {
    show["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["page_start"].as_u64() == Some(page))
        .map(|c| c["text"].as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_scanned_english_pdf_comes_back_with_its_words_on_their_pages() {
    if !tesseract_has("eng") {
        return;
    }
    let original = data("docs/pdf/R-intro.pdf");
    let dir = tempfile::tempdir().unwrap();
    let scanned = dir.path().join("scanned-r-intro.pdf");
    std::fs::write(&scanned, image_pdf(&render_jpeg_pages(&original, 12, 13, 150, None), 150.0)).unwrap();

    let lore = Lore::new();
    let started = Instant::now();
    let run = lore.cmd(&["add", scanned.to_str().unwrap()]).envs(SMALL_CHUNKS).output().expect("run lore");
    let run = lore_tests::Run::from_output(run).ok();
    let secs = started.elapsed().as_secs_f64();
    assert!(run.stderr.contains("OCR page 1 (1 of 2 scanned pages)"), "progress:\n{}", run.stderr);
    let show = shown(&lore, "scanned-r-intro.pdf");
    let chunks = show["chunks"].as_array().unwrap();
    assert!(chunks.iter().all(|c| c["ocr"] == true), "every chunk is marked OCRed: {chunks:?}");
    let mut scores = Vec::new();
    for (page, source_page) in [(1u64, 12u32), (2, 13)] {
        let got = page_text(&show, page);
        let own = f1(&got, &pdftotext_page(&original, source_page), false);
        let other = f1(&got, &pdftotext_page(&original, if source_page == 12 { 13 } else { 12 }), false);
        assert!(
            own > other,
            "page {page} holds the words of the source's page {source_page}: {own:.3} vs {other:.3}"
        );
        scores.push(own);
    }
    let all: String = chunks.iter().map(|c| c["text"].as_str().unwrap()).collect::<Vec<_>>().join("\n");
    let want = pdftotext_page(&original, 12) + &pdftotext_page(&original, 13);
    let score = f1(&all, &want, false);
    eprintln!(
        "English word F1 {score:.3} (pages {:.3}, {:.3}); 2 pages in {secs:.1} s",
        scores[0], scores[1]
    );
    assert!(score >= EN_F1_MIN, "word F1 {score:.3} below {EN_F1_MIN}");

    // `lore show` marks the chunks read by OCR.
    let id = lore.docs()[0]["id"].to_string();
    let text = lore.run(&["show", &id]).ok().stdout;
    assert!(text.lines().any(|l| l.contains("p. 1") && l.contains("OCR")), "{text}");
}

#[test]
fn a_scanned_chinese_pdf_is_read_in_the_librarys_languages() {
    if !tesseract_has("chi_sim") {
        return;
    }
    let font_path = Path::new("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc");
    let Ok(font) = std::fs::read(font_path) else {
        lore_tests::skip(
            "ocr",
            "the WenQuanYi Micro Hei font is not installed (scripts/setup.sh installs fonts-wqy-microhei)",
        );
        return;
    };
    // Chinese prose from the shared data, drawn 20 characters to a line, 6 lines to a page.
    let source =
        std::fs::read_to_string(data("docs/html/newspaper4k-0.9.6-tests-data/txt/chinese_article_001.txt"))
            .unwrap();
    let hanzi: Vec<char> =
        source.chars().filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c) || "，。".contains(*c)).collect();
    let lines: Vec<String> = hanzi.chunks(20).take(12).map(|c| c.iter().collect()).collect();
    let pages: Vec<Vec<&str>> = lines.chunks(6).map(|p| p.iter().map(String::as_str).collect()).collect();
    let images: Vec<PageImage> = pages.iter().map(|p| text_page(&font, p, 28.0, 640)).collect();
    let dir = tempfile::tempdir().unwrap();
    let scanned = dir.path().join("scanned-zh.pdf");
    std::fs::write(&scanned, image_pdf(&images, 150.0)).unwrap();
    // The library holds Chinese already, so OCR reads English and Chinese (its default).
    let text = dir.path().join("zh.txt");
    std::fs::write(&text, &source).unwrap();
    let lore = Lore::new();
    lore.run(&["add", text.to_str().unwrap()]).ok();

    let started = Instant::now();
    let run = lore.cmd(&["add", scanned.to_str().unwrap()]).envs(SMALL_CHUNKS).output().unwrap();
    lore_tests::Run::from_output(run).ok();
    let secs = started.elapsed().as_secs_f64();
    let show = shown(&lore, "scanned-zh.pdf");
    assert!(show["chunks"].as_array().unwrap().iter().all(|c| c["ocr"] == true));
    let mut scores = Vec::new();
    for (n, page) in pages.iter().enumerate() {
        let got = page_text(&show, n as u64 + 1);
        let want = page.join("");
        scores.push(f1(&got, &want, true));
        let other = pages[1 - n].join("");
        assert!(f1(&got, &want, true) > f1(&got, &other, true), "page {} holds its own text: {got}", n + 1);
    }
    let score = (scores[0] + scores[1]) / 2.0;
    eprintln!("Chinese character F1 {score:.3} ({:.3}, {:.3}); 2 pages in {secs:.1} s", scores[0], scores[1]);
    assert!(score >= ZH_F1_MIN, "character F1 {score:.3} below {ZH_F1_MIN}");
    let cache = lore.home().join(lore_index::layout::OCR_DIR);
    let names: Vec<String> =
        walk(&cache).iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert!(
        names.iter().all(|n| n.contains("eng+chi_sim")),
        "the cache is keyed by the languages: {names:?}"
    );
}

/// The files under `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_scanned_book_killed_mid_ocr_resumes_without_reading_its_pages_again() {
    if !tesseract_has("eng") {
        return;
    }
    // 50 small pages: the first paragraph block of pages 10-59 of R-intro.pdf at 100 dpi.
    let original = data("docs/pdf/R-intro.pdf");
    let images = render_jpeg_pages(&original, 10, 59, 100, Some((90, 120, 640, 120)));
    assert_eq!(images.len(), 50);
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("book.pdf");
    std::fs::write(&book, image_pdf(&images, 100.0)).unwrap();
    let lore = Lore::new();
    let env = [("LORE_INGEST_OCR_DPI", "150")];
    let cache = lore.home().join(lore_index::layout::OCR_DIR);

    let started = Instant::now();
    let running = lore.spawn_env(&["add", book.to_str().unwrap()], &env);
    while walk(&cache).iter().filter(|p| p.extension().is_some_and(|e| e == "txt")).count() < 12 {
        assert!(started.elapsed() < Duration::from_secs(240), "OCR made no progress");
        std::thread::sleep(Duration::from_millis(100));
    }
    let first = running.kill9();
    let killed_after = started.elapsed().as_secs_f64();
    assert!(first.stderr.contains("book.pdf: OCR page 1 (1 of 50 scanned pages)"), "{}", first.stderr);
    assert!(first.stderr.contains("(10 of 50 scanned pages)"), "progress every ten pages:\n{}", first.stderr);
    let done: Vec<(std::path::PathBuf, std::time::SystemTime)> = walk(&cache)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .map(|p| {
            let t = std::fs::metadata(&p).unwrap().modified().unwrap();
            (p, t)
        })
        .collect();
    assert!(done.len() >= 12 && done.len() < 50, "killed partway: {} pages read", done.len());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for (p, _) in &done {
            assert_eq!(std::fs::metadata(p).unwrap().permissions().mode() & 0o777, 0o600, "{}", p.display());
            let folder = p.parent().unwrap();
            assert_eq!(std::fs::metadata(folder).unwrap().permissions().mode() & 0o777, 0o700);
        }
    }

    let resumed_at = Instant::now();
    let second = lore.cmd(&["add", book.to_str().unwrap()]).envs(env).output().unwrap();
    let second = lore_tests::Run::from_output(second).ok();
    let resumed = resumed_at.elapsed().as_secs_f64();
    assert!(
        second.stderr.contains("(10 of 50 scanned pages, its text read before)"),
        "the pages read before come from the cache:\n{}",
        second.stderr
    );
    for (p, t) in &done {
        assert_eq!(std::fs::metadata(p).unwrap().modified().unwrap(), *t, "{} was read again", p.display());
    }
    let show = shown(&lore, "book.pdf");
    let pages: std::collections::BTreeSet<u64> = show["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["page_start"].as_u64().unwrap()..=c["page_end"].as_u64().unwrap())
        .collect();
    assert_eq!(show["document"]["pages"], 50);
    assert_eq!(pages, (1..=50).collect(), "every page's text is in the document");
    let fresh = 50 - done.len();
    eprintln!(
        "50-page book: {} pages read in {killed_after:.1} s before the kill ({:.2} pages/s), the other {fresh} in {resumed:.1} s after",
        done.len(),
        done.len() as f64 / killed_after,
    );
}

#[test]
fn without_ocr_a_scanned_pdf_gets_one_line_saying_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let scanned = dir.path().join("scan.pdf");
    std::fs::write(
        &scanned,
        image_pdf(&render_jpeg_pages(&data("docs/pdf/R-intro.pdf"), 5, 5, 50, None), 50.0),
    )
    .unwrap();
    let lore = Lore::new();

    // With OCR off.
    let run = lore.cmd(&["add", scanned.to_str().unwrap()]).env("LORE_INGEST_OCR", "never").output().unwrap();
    let run = lore_tests::Run::from_output(run);
    assert_eq!(run.code, 1);
    let errors: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{}", run.stderr);
    assert!(
        errors[0].contains("scan.pdf: no text found") && errors[0].contains("ingest.ocr = \"auto\""),
        "{}",
        errors[0]
    );

    // Without tesseract on the PATH (pdftoppm alone).
    let bin = tempfile::tempdir().unwrap();
    if let Ok(pdftoppm) = which("pdftoppm") {
        std::os::unix::fs::symlink(pdftoppm, bin.path().join("pdftoppm")).unwrap();
    }
    let run = lore.cmd(&["add", scanned.to_str().unwrap()]).env("PATH", bin.path()).output().unwrap();
    let run = lore_tests::Run::from_output(run);
    assert_eq!(run.code, 1);
    let errors: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{}", run.stderr);
    assert!(
        errors[0].contains("scan.pdf: no text found") && errors[0].contains("apt install tesseract-ocr"),
        "{}",
        errors[0]
    );
    assert!(lore.docs().is_empty());
}

fn which(program: &str) -> Result<std::path::PathBuf, ()> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
        .ok_or(())
}
