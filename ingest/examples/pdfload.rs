//! Loads PDFs with lore's PDF loader and reports what came out and how long it took.
//!
//! `cargo run -p lore-ingest --example pdfload -- FILE.pdf... [--text] [--sections]`
//! `--text` prints the whole text (sections separated by a rule), `--sections` their heading paths
//! and pages.

use std::time::Instant;

fn main() {
    lore_ingest::guard::install_quiet_panic_hook();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let show_text = args.iter().any(|a| a == "--text");
    let show_sections = args.iter().any(|a| a == "--sections");
    for path in args.iter().filter(|a| !a.starts_with("--")) {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{path}: {e}");
                continue;
            }
        };
        let started = Instant::now();
        let result = lore_ingest::pdf::load(&bytes, path);
        let elapsed = started.elapsed();
        match result {
            Ok(doc) => {
                let words: usize = doc.sections.iter().map(|s| s.text.split_whitespace().count()).sum();
                println!(
                    "{path}: {:.2} s, {} pages, {} sections, {} words, title {:?}, authors {:?}",
                    elapsed.as_secs_f64(),
                    doc.page_count.unwrap_or(0),
                    doc.sections.len(),
                    words,
                    doc.title,
                    doc.authors
                );
                for s in &doc.sections {
                    if show_sections {
                        let first = s.pages.first().map_or(0, |m| m.page);
                        let last = s.pages.last().map_or(0, |m| m.page);
                        println!("  [{first}-{last}] {}", s.heading_path.join(" > "));
                    }
                    if show_text {
                        println!("===== {}\n{}", s.heading_path.join(" > "), s.text);
                    }
                }
            }
            Err(e) => println!("{e} ({:.2} s)", elapsed.as_secs_f64()),
        }
    }
}
