//! Markdown loading on a real Chinese blog post and on small samples.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use lore_ingest::{Kind, LoadOptions};

fn post_path() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/docs/multilingual/000_75d7b7a8fa86d89f.txt"
    ))
}

#[test]
fn chinese_post_splits_at_its_headings() {
    let text = std::fs::read_to_string(post_path()).unwrap();
    let doc = lore_ingest::markdown::load(&text, "post.md").unwrap();
    assert_eq!(doc.byte_len, text.len() as u64);
    let paths: Vec<String> = doc.sections.iter().map(|s| s.heading_path.join(" > ")).collect();
    assert_eq!(
        paths,
        vec![
            "1.背景介绍",
            "2.核心概念与联系",
            "3.核心算法原理具体操作步骤",
            "4.数学模型和公式详细讲解举例说明",
            "5.项目实践：代码实例和详细解释说明",
            "6.实际应用场景",
            "7.工具和资源推荐",
            "8.总结：未来发展趋势与挑战",
            "9.附录：常见问题与解答",
        ]
    );
    // No h1 and no front matter: no title of its own (the caller uses the file name).
    assert_eq!(doc.title, "");
    assert!(doc.sections[0].text.starts_with("人工智能（AI）已经在我们的日常生活中扮演了越来越重要的角色。"));
    // Text stays Markdown: list items and the fenced code block as written, heading lines gone.
    assert!(doc.sections[2].text.contains("1. 预训练：使用大量文本数据进行无监督学习"));
    let code = &doc.sections[4].text;
    assert!(code.contains("```python\nimport openai\n\nopenai.api_key = \"your-api-key\""), "{code}");
    assert!(doc.sections.iter().all(|s| !s.text.starts_with("## ")));
    assert_eq!(doc.sections[1].anchor.as_deref(), Some("2核心概念与联系"));
}

#[test]
fn chinese_post_through_load_bytes_gets_a_title_and_language() {
    let bytes = std::fs::read(post_path()).unwrap();
    let doc = lore_ingest::load_bytes(
        &bytes,
        "post",
        Kind::Markdown,
        "000_75d7b7a8fa86d89f",
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(doc.kind, Kind::Markdown);
    assert_eq!(doc.title, "000_75d7b7a8fa86d89f");
    assert_eq!(doc.language.as_deref(), Some("zh"));
}

#[test]
fn front_matter_title_author_date() {
    let md = "---\ntitle: Notes on Tail Calls\nauthor: Guy Steele\ndate: 1977-10-01T09:30:00Z\ntags: [lisp, scheme]\n---\n\
              # Tail calls\n\nA call in tail position.\n\n## In Scheme\n\nRequired by the standard.\n";
    let doc = lore_ingest::markdown::load(md, "n.md").unwrap();
    assert_eq!(doc.title, "Notes on Tail Calls");
    assert_eq!(doc.authors, vec!["Guy Steele"]);
    assert_eq!(doc.published.as_deref(), Some("1977-10-01T09:30:00+00:00"));
    assert_eq!(doc.sections.len(), 2);
    assert_eq!(doc.sections[0].heading_path, vec!["Tail calls"]);
    assert_eq!(doc.sections[1].heading_path, vec!["Tail calls", "In Scheme"]);
    assert!(doc.sections.iter().all(|s| !s.text.contains("lisp")));
    let no_front = lore_ingest::markdown::load("Text first.\n\n# Real Title\n\nMore.", "t.md").unwrap();
    assert_eq!(no_front.title, "Real Title");
    assert_eq!(no_front.sections[0].heading_path, Vec::<String>::new());
}

#[test]
fn junk_and_binary_like_text_never_panic() {
    let junk: String = (0..20_000u32)
        .map(|i| char::from_u32(1 + (i.wrapping_mul(2_654_435_761) >> 16) % 0x3000).unwrap_or('?'))
        .collect();
    lore_ingest::guard::install_quiet_panic_hook();
    if let Err(err) = lore_ingest::markdown::load(&junk, "junk.md") {
        assert_ne!(err.reason_code(), "internal", "{err}");
    }
    let nested_lists: String = (0..5_000).map(|i| format!("{}* x\n", " ".repeat(i % 4000))).collect();
    let _ = lore_ingest::markdown::load(&nested_lists, "lists.md").unwrap();
    let emphasis = "*_".repeat(50_000);
    let _ = lore_ingest::markdown::load(&emphasis, "em.md").unwrap();
    let html_in_md = format!("{}text{}", "<div>".repeat(50_000), "</div>".repeat(50_000));
    let _ = lore_ingest::markdown::load(&html_in_md, "html.md").unwrap();
}
