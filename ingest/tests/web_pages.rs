//! Real pages served over HTTP and loaded with `fetch_page`: newspaper4k's news pages (same text
//! as the HTML loader gives for the file, and the same bag-of-words F1 against the expected
//! text as `html_news.rs`), a PDF and EPUBs by content type and by sniffing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::server::{Reply, TestServer};
use common::{data_dir, f1, tokens};
use lore_ingest::web::{FetchOptions, Fetcher, fetch_page};
use lore_ingest::{Document, Kind, LoadOptions};

fn news_dir() -> PathBuf {
    data_dir().join("docs/html/newspaper4k-0.9.6-tests-data")
}

fn all_text(doc: &Document) -> String {
    doc.sections.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join("\n\n")
}

/// Serves every file of `dir` at `/{name}` with the content type `types` gives for it.
async fn serve_dir(dir: PathBuf, types: fn(&str) -> &'static str) -> TestServer {
    TestServer::start(move |req| {
        let name = req.path.trim_start_matches('/').split('?').next().unwrap_or_default().to_string();
        let path = dir.join(&name);
        if name.is_empty() || name.contains("..") || !path.is_file() {
            return Reply::status(404);
        }
        Reply::file(&path, types(&name))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn news_pages_over_http_match_the_file_loader() {
    let dir = news_dir();
    let server = serve_dir(dir.join("html"), |_| "text/html").await;
    let fetcher = Fetcher::new(FetchOptions::default()).unwrap();
    let opts = LoadOptions::default();
    let mut names: Vec<String> = std::fs::read_dir(dir.join("html"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".html"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 30);
    let mut scores = Vec::new();
    for name in &names {
        let url = server.url(&format!("/{name}"));
        let bytes = std::fs::read(dir.join("html").join(name)).unwrap();
        let html = lore_ingest::text::decode(&bytes, name).unwrap().text;
        let fetched = fetch_page(&fetcher, &url, &opts).await;
        let file_doc = match lore_ingest::html::load(&html, name) {
            Ok(d) if d.has_text() => d,
            // A page without text (google_meta_refresh.html is only a redirect script) fails
            // over HTTP too, with the same reason.
            Ok(_) => {
                assert_eq!(fetched.unwrap_err().reason_code(), "no_text", "{name}");
                continue;
            }
            Err(e) => {
                assert_eq!(fetched.unwrap_err().reason_code(), e.reason_code(), "{name}");
                continue;
            }
        };
        let doc = fetched.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(doc.kind, Kind::Web);
        assert_eq!(doc.url.as_deref(), Some(url.as_str()));
        assert_eq!(doc.source, url);
        assert_eq!(doc.hash, lore_ingest::hash::content_hash(&bytes));
        assert!(doc.site.as_deref().is_some_and(|s| !s.is_empty()), "{name}: no site");
        assert_eq!(doc.title, file_doc.title, "{name}");
        assert_eq!(all_text(&doc), all_text(&file_doc), "{name}: text differs from the file loader's");
        let stem = name.trim_end_matches(".html");
        let Ok(expected) = std::fs::read_to_string(dir.join("txt").join(format!("{stem}.txt"))) else {
            continue;
        };
        let chars = stem.starts_with("chinese_article");
        let score = f1(&tokens(&all_text(&doc), chars), &tokens(&expected, chars));
        println!("{score:.3}  {stem}  (title: {:?}, site: {:?})", doc.title, doc.site);
        scores.push(score);
    }
    let mean = scores.iter().sum::<f64>() / scores.len() as f64;
    let worst = scores.iter().copied().fold(f64::INFINITY, f64::min);
    println!("over HTTP: mean F1 over {} pages: {mean:.3}, worst {worst:.3}", scores.len());
    assert_eq!(scores.len(), 23, "pages with expected text");
    // The same floors as the file loader's test (html_news.rs), which measured 0.924.
    assert!(mean >= 0.90, "mean F1 {mean:.3} fell below 0.90");
    assert!(worst >= 0.60, "a page fell to F1 {worst:.3}");
}

fn book_type(name: &str) -> &'static str {
    if name.ends_with(".pdf") {
        "application/pdf"
    } else if name.ends_with(".epub") {
        "application/epub+zip"
    } else {
        "application/octet-stream"
    }
}

fn file_sections(path: &Path, kind: Kind) -> Document {
    let bytes = std::fs::read(path).unwrap();
    let name = path.file_stem().unwrap().to_string_lossy().into_owned();
    lore_ingest::load_bytes(&bytes, &path.display().to_string(), kind, &name, &LoadOptions::default())
        .unwrap()
}

#[tokio::test]
async fn pdf_served_over_http_loads_through_the_pdf_loader() {
    let dir = data_dir().join("docs/pdf");
    let server = serve_dir(dir.clone(), book_type).await;
    let fetcher = Fetcher::new(FetchOptions::default()).unwrap();
    let want = file_sections(&dir.join("R-data.pdf"), Kind::Pdf);
    let url = server.url("/R-data.pdf");
    let doc = fetch_page(&fetcher, &url, &LoadOptions::default()).await.unwrap();
    assert_eq!(doc.kind, Kind::Web);
    assert_eq!(doc.url.as_deref(), Some(url.as_str()));
    assert_eq!(doc.title, want.title);
    assert_eq!(doc.page_count, want.page_count);
    assert!(doc.page_count.is_some_and(|n| n > 10));
    assert_eq!(doc.sections, want.sections);
    assert!(doc.sections.iter().any(|s| !s.pages.is_empty()), "page marks kept");
}

#[tokio::test]
async fn epub_served_over_http_by_type_and_by_sniffing() {
    let dir = data_dir().join("docs/epub");
    let typed = serve_dir(dir.clone(), book_type).await;
    let untyped = serve_dir(dir.clone(), |_| "application/octet-stream").await;
    let fetcher = Fetcher::new(FetchOptions::default()).unwrap();
    let want = file_sections(&dir.join("calibre-quick-start-eng.epub"), Kind::Epub);
    for url in [typed.url("/calibre-quick-start-eng.epub"), untyped.url("/calibre-quick-start-eng.epub?dl=1")]
    {
        let doc = fetch_page(&fetcher, &url, &LoadOptions::default()).await.unwrap();
        assert_eq!(doc.kind, Kind::Web);
        assert_eq!(doc.title, want.title, "{url}");
        assert_eq!(doc.authors, want.authors, "{url}");
        assert_eq!(doc.sections, want.sections, "{url}");
    }
    // A PDF under a generic type and a URL without extension is found by its bytes.
    let pdfs = serve_dir(data_dir().join("docs/pdf"), |_| "application/octet-stream").await;
    let doc =
        fetch_page(&fetcher, &pdfs.url("/live-manual.portrait.en.a4.pdf?download"), &LoadOptions::default())
            .await
            .unwrap();
    assert!(doc.page_count.is_some());
}

#[tokio::test]
async fn a_missing_page_and_an_image_fail_with_one_line() {
    let server = TestServer::start(|req| match req.path.as_str() {
        "/logo.png" => Reply::ok("image/png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec()),
        _ => Reply::status(404),
    })
    .await;
    let fetcher = Fetcher::new(FetchOptions::default()).unwrap();
    let url = server.url("/gone.html");
    let err = fetch_page(&fetcher, &url, &LoadOptions::default()).await.unwrap_err();
    assert_eq!(err.to_string(), format!("{url}: HTTP 404 Not Found"));
    let url = server.url("/logo.png");
    let err = fetch_page(&fetcher, &url, &LoadOptions::default()).await.unwrap_err();
    assert_eq!(err.to_string(), format!("{url}: unsupported file type (image/png)"));
}
