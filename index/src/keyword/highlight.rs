//! Snippets: the passage of a chunk's text where the query's terms meet, with every match
//! located.
//!
//! The text is cut into tokens by its field's analyzer, and a token that is one of the query's
//! terms is a match, weighted as tantivy's snippet generator weighs it (`1 / (1 + document
//! frequency)`: rare terms count more). The analyzers of Chinese, Japanese and Korean text hand
//! out tokens that overlap (character pairs; a word and the words inside it) and that come out of
//! order (jieba's search mode gives `中华人民共和国` after `中华` and `人民`), so nothing here
//! assumes the tokens are sorted or apart: matches are sorted, the best window is measured in
//! characters (a passage of Chinese is as long on screen as one of English), and the matched
//! ranges are merged. Offsets outside the text or off a character boundary are dropped.

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;

use tantivy::query::Query;
use tantivy::schema::Field;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Searcher, TantivyError};

use super::KeywordSnippet;

/// Finds the best passage of a text for one query in one field.
#[derive(Clone)]
pub(crate) struct Highlighter {
    /// The query's terms in the field: term text to (term number, weight).
    terms: HashMap<String, (usize, f32)>,
    analyzer: TextAnalyzer,
    max_chars: usize,
}

/// One match of a query term in the text: a byte range and its term.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Match {
    start: usize,
    end: usize,
    term: usize,
    weight: f32,
}

impl Highlighter {
    /// A highlighter for `query`'s terms in `field`, weighted by their document frequency in
    /// `searcher`, with passages of at most `max_chars` characters.
    pub(crate) fn create(
        searcher: &Searcher,
        query: &dyn Query,
        field: Field,
        max_chars: usize,
    ) -> Result<Highlighter, TantivyError> {
        let mut terms = BTreeSet::new();
        query.query_terms(&mut |term, _| {
            if term.field() == field {
                terms.insert(term.clone());
            }
        });
        let mut weighted = Vec::new();
        for term in terms {
            let Some(text) = term.value().as_str().map(str::to_string) else { continue };
            let doc_freq = searcher.doc_freq(&term)?;
            if doc_freq > 0 {
                weighted.push((text, 1.0 / (1.0 + doc_freq as f32)));
            }
        }
        let analyzer = searcher.index().tokenizer_for_field(field)?;
        Ok(Highlighter::new(weighted, analyzer, max_chars))
    }

    /// A highlighter for the given terms and weights, cutting text with `analyzer`.
    pub(crate) fn new(terms: Vec<(String, f32)>, analyzer: TextAnalyzer, max_chars: usize) -> Highlighter {
        let terms = terms.into_iter().enumerate().map(|(i, (text, weight))| (text, (i, weight))).collect();
        Highlighter { terms, analyzer, max_chars: max_chars.max(1) }
    }

    /// The best passage of `text`, or `None` when no term of the query is in it.
    pub(crate) fn snippet(&mut self, text: &str) -> Option<KeywordSnippet> {
        let matches = self.matches(text);
        if matches.is_empty() {
            return None;
        }
        Some(passage(text, matches, self.max_chars))
    }

    /// Every token of `text` that is a query term, in any order, with valid offsets only.
    fn matches(&mut self, text: &str) -> Vec<Match> {
        if self.terms.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut stream = self.analyzer.token_stream(text);
        while let Some(token) = stream.next() {
            let Some(&(term, weight)) = self.terms.get(&token.text) else { continue };
            let (start, end) = (token.offset_from, token.offset_to);
            if start < end && text.get(start..end).is_some() {
                out.push(Match { start, end, term, weight });
            }
        }
        out
    }
}

/// The window of at most `max_chars` characters of `text` that holds the most weight of
/// distinct query terms (then the most matches, then the earliest), widened with context on
/// both sides, with every match wholly inside it highlighted. `matches` is not empty; its
/// ranges lie on character boundaries of `text`.
fn passage(text: &str, mut matches: Vec<Match>, max_chars: usize) -> KeywordSnippet {
    matches.sort_by_key(|m| (m.start, m.end));
    // Character boundaries as byte offsets: char `i` spans `bounds[i]..bounds[i + 1]`.
    let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).chain(std::iter::once(text.len())).collect();
    let char_at = |byte: usize| bounds.partition_point(|&b| b < byte);
    let spans: Vec<(usize, usize)> = matches.iter().map(|m| (char_at(m.start), char_at(m.end))).collect();
    let total_chars = bounds.len() - 1;

    // The best window starts at a match.
    let mut best: Option<(f32, usize, usize)> = None;
    for (i, &(from, first_end)) in spans.iter().enumerate() {
        let limit = from + max_chars.max(first_end - from);
        let mut seen: Vec<usize> = Vec::new();
        let (mut weight, mut count) = (0.0f32, 0usize);
        for (m, &(start, end)) in matches[i..].iter().zip(&spans[i..]) {
            if start >= limit {
                break;
            }
            if end > limit {
                continue;
            }
            count += 1;
            if !seen.contains(&m.term) {
                seen.push(m.term);
                weight += m.weight;
            }
        }
        let better = match best {
            None => true,
            Some((w, c, _)) => weight > w || (weight == w && count > c),
        };
        if better {
            best = Some((weight, count, i));
        }
    }
    let first = best.map(|(_, _, i)| i).unwrap_or(0);
    let from = spans[first].0;
    let limit = from + max_chars.max(spans[first].1 - from);
    let last_end = spans[first..]
        .iter()
        .take_while(|(start, _)| *start < limit)
        .filter(|(_, end)| *end <= limit)
        .map(|(_, end)| *end)
        .max()
        .unwrap_or(spans[first].1);

    // Context: the room the matches leave, half before them, the rest after; at the end of the
    // text, all of it before.
    let room = max_chars.saturating_sub(last_end - from);
    let mut start = from.saturating_sub(room / 2);
    let mut end = (start + max_chars.max(last_end - start)).min(total_chars);
    start = start.min(end.saturating_sub(max_chars)).min(from);
    end = end.max(last_end);

    // Not in the middle of a word of a script that spaces its words.
    let chars: Vec<char> = text.chars().collect();
    let is_word = |c: char| c.is_alphanumeric() && !super::analysis::is_cjk(c);
    if start > 0 && is_word(chars[start - 1]) {
        let mut at = start;
        while at < from && is_word(chars[at]) {
            at += 1;
        }
        if at < from {
            start = at;
        }
    }
    if end < total_chars && is_word(chars[end]) {
        let mut at = end;
        while at > last_end && is_word(chars[at - 1]) {
            at -= 1;
        }
        if at > last_end {
            end = at;
        }
    }
    while start < from && chars[start].is_whitespace() {
        start += 1;
    }
    while end > last_end && chars[end - 1].is_whitespace() {
        end -= 1;
    }

    let (byte_start, byte_end) = (bounds[start], bounds[end]);
    let mut ranges: Vec<Range<usize>> = matches
        .iter()
        .filter(|m| m.start >= byte_start && m.end <= byte_end)
        .map(|m| m.start - byte_start..m.end - byte_start)
        .collect();
    ranges.sort_by_key(|r| (r.start, r.end));
    let mut highlights: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match highlights.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => highlights.push(range),
        }
    }
    KeywordSnippet { text: text[byte_start..byte_end].to_string(), highlights }
}

#[cfg(test)]
mod tests {
    use super::super::{KeywordConfig, KeywordDoc, KeywordFilter, KeywordHit, KeywordIndex};
    use super::{Match, passage};

    /// A passage of the Chinese Debian Reference (chapter 1, on sudo) and the query `普通用户`
    /// that crashed tantivy's snippet generator on it.
    const SUDO: &str = "# echo \"penguin  ALL=(ALL) NOPASSWD:ALL\" >> /etc/sudoers\n\n这些技巧只对你管理的单用户工作站中那个唯一的用户有用。\n\n警告\n\n在多用户工作站中不要建立这样的普通用户账户，因为它会导致非常严重的系统安全问题。\n\n小心\n\n在上述例子中，用户 penguin 的密码及账号要有和 root 账号密码同样多的保护。\n\n在这种情况下，管理员权限被赋予那些有权对工作站进行系统管理任务的人。永远不要让你的公司行政管理部门或你的老板进行管理（例如给予他们权限），除非他们获得了授权并有这样的能力。";
    /// A passage of the same manual (on systemd units) and the question that crashed on it.
    const UNITS: &str = "单元配置文件从下列一系列路径中加载（参见 systemd-system.conf(5)）：\n\n• ”/lib/systemd/system”: OS 默认配置文件\n\n• ”/etc/systemd/system”: 系统管理员的配置文件，它将忽略操作系统默认的配置文件\n\n• ”/run/systemd/system”: 运行时产生的配置文件，它将忽略安装的配置文件\n\n他们的相互依赖关系通过”Wants=”, ”Requires=”, ”Before=”, ”After=”, …等指示来配置，(参见 systemd.unit(5)\n里的”MAPPING OF UNIT PROPERTIES TO THEIR INVERSES”)。资源控制也是被定义 (参见 systemd.resource-control(5)).\n根据单元配置文件的后缀来区分它们的类型：";

    fn index_of(docs: &[KeywordDoc]) -> (tempfile::TempDir, KeywordIndex) {
        let dir = tempfile::tempdir().unwrap();
        let index = KeywordIndex::open(&dir.path().join("kw"), &KeywordConfig::default()).unwrap();
        index.add(docs).unwrap();
        index.commit().unwrap();
        (dir, index)
    }

    fn doc(chunk_id: i64, text: &str, lang: Option<&str>) -> KeywordDoc {
        KeywordDoc {
            chunk_id,
            doc_id: chunk_id,
            text: text.to_string(),
            lang: lang.map(str::to_string),
            ..KeywordDoc::default()
        }
    }

    /// The snippet of a hit is a passage of its chunk's text, at most `max_chars` characters,
    /// with its matches sorted, apart, non-empty, inside it and on character boundaries.
    fn check_snippet(hit: &KeywordHit, chunk_text: &str, max_chars: usize, context: &str) {
        let s = &hit.snippet;
        assert!(chunk_text.contains(s.text.as_str()), "{context}: {s:?} is not a passage of the chunk");
        assert!(s.text.chars().count() <= max_chars, "{context}: {} chars: {s:?}", s.text.chars().count());
        let mut at = 0;
        for range in &s.highlights {
            assert!(range.start < range.end, "{context}: empty highlight in {s:?}");
            assert!(range.start >= at, "{context}: highlights out of order or overlapping in {s:?}");
            assert!(
                s.text.get(range.clone()).is_some(),
                "{context}: highlight {range:?} off the text in {s:?}"
            );
            at = range.end;
        }
    }

    #[test]
    fn chinese_passages_that_crashed_the_snippets_give_valid_ones() {
        let (_dir, index) = index_of(&[doc(1, SUDO, Some("zh")), doc(2, UNITS, Some("zh"))]);
        let texts = [(1, SUDO), (2, UNITS)];
        for query in ["普通用户", "软件包管理系统是如何处理含有其他软件包的配置文件的软件包的？"]
        {
            let hits = index.search(query, 10, &KeywordFilter::default()).unwrap();
            assert!(!hits.is_empty(), "{query}");
            for hit in &hits {
                let text = texts.iter().find(|(id, _)| *id == hit.chunk_id).map(|(_, t)| *t).unwrap();
                check_snippet(hit, text, 200, query);
                assert!(!hit.snippet.highlights.is_empty(), "{query}: {:?}", hit.snippet);
            }
        }
        // The query's two words, side by side in the text, are marked as one.
        let hits = index.search("普通用户", 10, &KeywordFilter::default()).unwrap();
        assert_eq!(hits[0].chunk_id, 1);
        assert!(hits[0].snippet.marked().contains("**普通用户**"), "{:?}", hits[0].snippet.marked());
        // A Chinese passage is as long in characters as the limit allows, not a third of it.
        assert!(hits[0].snippet.text.chars().count() >= 150, "{:?}", hits[0].snippet.text);
    }

    #[test]
    fn the_window_with_most_distinct_terms_wins_and_overlaps_merge() {
        let m = |start, end, term, weight| Match { start, end, term, weight };
        // "aa bb cc" early, "cc dd cc" later: the later window holds two terms, so it wins, and
        // overlapping or touching ranges handed out of order become one.
        let text = "aa bb cc xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx cc dd cc yyyy";
        let matches =
            vec![m(40, 42, 2, 0.5), m(6, 8, 2, 0.5), m(43, 45, 3, 0.5), m(40, 45, 4, 0.1), m(46, 48, 2, 0.5)];
        let s = passage(text, matches, 12);
        assert_eq!(s.text, "cc dd cc");
        assert_eq!(s.highlights, vec![0..5, 6..8]);
        assert_eq!(s.marked(), "**cc dd** **cc**");
        // Context goes on both sides, and a cut never splits a word.
        let s = passage("one two three four five six seven", vec![m(14, 18, 0, 1.0)], 16);
        assert_eq!(s.marked(), "three **four** five");
    }

    /// A small random generator (SplitMix64): the property test's inputs are the same on every
    /// run.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len())]
        }
    }

    /// Pieces of text that CJK analyzers cut into overlapping, out-of-order tokens (long
    /// dictionary words hold shorter ones), Latin words and identifiers, and separators.
    const PIECES: &[&str] = &[
        "中华人民共和国",
        "软件包管理系统",
        "配置文件",
        "行政管理部门",
        "普通用户",
        "管理员权限",
        "操作系统",
        "计算机科学技术",
        "人工智能",
        "自然语言处理",
        "北京大学生命科学学院",
        "的",
        "是",
        "在",
        "了",
        "日本語の文書",
        "プロキシを使う設定",
        "ソフトウェアパッケージ",
        "東京都庁",
        "한국어 문서",
        "설정 파일",
        "apt-get",
        "systemd",
        "Config",
        "CONFIG_FOO",
        "sys.path",
        "1.5",
        "café",
        "e\u{301}",
        "🚀",
        "ＡＢＣ",
        "，",
        "。",
        "：",
        "（",
        "）",
        " ",
        " ",
        "\n",
        "\n\n",
        "\"",
        "tail call",
    ];

    #[test]
    fn random_cjk_and_latin_mixes_give_valid_snippets() {
        let mut rng = Rng(0x5EED_2024);
        let langs = [Some("zh"), Some("ja"), Some("ko"), Some("en"), None];
        let mut texts: Vec<String> = Vec::new();
        let mut docs = Vec::new();
        for id in 0..240i64 {
            let pieces = 5 + rng.below(250);
            let text: String = (0..pieces).map(|_| rng.pick(PIECES)).collect();
            docs.push(doc(id, &text, langs[rng.below(langs.len())]));
            texts.push(text);
        }
        let (_dir, index) = index_of(&docs);
        let mut with_highlights = 0;
        for round in 0..300 {
            // A stretch of a text, a few pieces, or a phrase in quotes.
            let query: String = match round % 3 {
                0 => {
                    let chars: Vec<char> = texts[rng.below(texts.len())].chars().collect();
                    let from = rng.below(chars.len());
                    chars[from..(from + 1 + rng.below(12)).min(chars.len())].iter().collect()
                }
                1 => (0..1 + rng.below(4)).map(|_| rng.pick(PIECES)).collect::<Vec<_>>().join(" "),
                _ => format!("\"{} {}\"", rng.pick(PIECES), rng.pick(PIECES)),
            };
            let hits = index.search(&query, 20, &KeywordFilter::default()).unwrap();
            for hit in &hits {
                check_snippet(hit, &texts[hit.chunk_id as usize], 200, &query);
                with_highlights += usize::from(!hit.snippet.highlights.is_empty());
            }
        }
        assert!(with_highlights > 1000, "only {with_highlights} snippets had highlights");
    }
}
