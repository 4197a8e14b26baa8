//! Keyword evidence: how much of a query a chunk holds, measured with the keyword index's own
//! analysis, so it means the same in every language the index analyses (stemmed English and
//! German, Chinese words, Japanese character pairs, ...).
//!
//! The evidence of a chunk is the IDF-weighted share of the query's distinct analysed terms
//! that occur in the chunk's text or headings, from 0 (none) to 1 (all). Rare terms weigh most:
//! a question about `kubernetes` over a library that never uses the word scores low in every
//! chunk, however many common words match. Unlike the cosine of an embedding model, it does not
//! depend on the model covering the query's language.

use std::collections::HashMap;

use crate::catalog::StoredChunk;
use crate::error::Result;
use crate::keyword::KeywordIndex;
use crate::library::Library;

/// The weight of a term found in `df` of `n` chunks: BM25's inverse document frequency
/// (always positive; a term no chunk holds weighs most).
fn idf(n: u64, df: u64) -> f32 {
    let (n, df) = (n as f32, df.min(n) as f32);
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

/// Words that shape a question rather than name what it is about (question words, pronouns,
/// articles, particles, auxiliaries), in English and Chinese: they weigh nothing in the evidence.
/// A manual rarely writes `怎么` or `有没有`, and a small library may never write `how`, so as
/// rare terms they would weigh most and sink the evidence of every question; on the Debian
/// Reference's 60 Chinese questions they halved the share the gate let through. They are analysed
/// like the query, so each language group drops its own form of them (`does` stems to `doe`).
const QUESTION_SHAPING_WORDS: &str = "how what why when where which who whom whose do does did \
    done is are was were be been am can could should would will shall may might must i me my mine \
    we us our you your a an the of to in on at for with by from about into it its this that these \
    those there here any some please 什么 怎么 怎样 怎么样 如何 为什么 为何 哪 哪些 哪个 哪里 哪儿 \
    多少 几 是否 是不是 吗 呢 吧 啊 呀 嘛 有没有 能不能 能否 可不可以 可以 能够 能 会 该 应该 应当 \
    需要 要 想 想要 得 我 我们 你 你们 他 她 它 他们 自己 的 地 了 着 过 是 在 有 和 与 及 或 或者 还是 \
    把 被 让 给 用 对 从 到 向 为 以 于 就 都 也 还 又 再 才 只 这 那 这个 那个 这些 那些 一个 一下 一些 \
    些 时 时候 以后 之后 之前 里 中 上 下 如果 的话 办法 怎么办 请问 一般 通常 具体 到底 究竟 么";

/// The analysed query terms of one analysis group with their weights.
struct QueryTerms {
    terms: Vec<(String, f32)>,
    total: f32,
}

/// The keyword evidence of each of `chunks` for `query` (see the module docs), in order.
pub(crate) fn keyword_evidence(
    index: &KeywordIndex,
    query: &str,
    chunks: &[&StoredChunk],
) -> Result<Vec<f32>> {
    let mut by_language: HashMap<Option<String>, QueryTerms> = HashMap::new();
    let mut out = Vec::with_capacity(chunks.len());
    for chunk in chunks {
        let language = chunk.language.clone();
        let terms = match by_language.entry(language.clone()) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let shaping: std::collections::HashSet<String> =
                    index.analyse(language.as_deref(), QUESTION_SHAPING_WORDS)?.into_iter().collect();
                let mut analysed = index.analyse(language.as_deref(), query)?;
                analysed.retain(|t| !shaping.contains(t));
                let (n, dfs) = index.document_frequencies(language.as_deref(), &analysed)?;
                let terms: Vec<(String, f32)> =
                    analysed.into_iter().zip(dfs).map(|(t, df)| (t, idf(n, df))).collect();
                let total = terms.iter().map(|(_, w)| w).sum();
                e.insert(QueryTerms { terms, total })
            }
        };
        if terms.total <= 0.0 {
            out.push(0.0);
            continue;
        }
        let mut text = chunk.heading_path.join("\n");
        text.push('\n');
        text.push_str(&chunk.text);
        let held: std::collections::HashSet<String> =
            index.analyse(language.as_deref(), &text)?.into_iter().collect();
        let found: f32 = terms.terms.iter().filter(|(t, _)| held.contains(t)).map(|(_, w)| w).sum();
        out.push((found / terms.total).clamp(0.0, 1.0));
    }
    Ok(out)
}

/// Whether the library's embedding model can judge `query`: false for a query in a language
/// the model was not trained for (a Chinese question with the English all-MiniLM-L6-v2), whose
/// cosine similarities say nothing about relevance. True when the library has no engines.
pub fn vectors_judge(library: &Library, query: &str) -> bool {
    library.engines().map(|engines| engines.embedder.covers_query(query)).unwrap_or(true)
}

/// What the library's embedding model's cosine similarities mean; `None` when the library has
/// no engines.
pub fn cosine_scale(library: &Library) -> Option<crate::embed::CosineScale> {
    library.engines().ok().map(|engines| engines.embedder.cosine_scale())
}

/// The chunks in each language the library's embedding model was not trained for (vector search
/// cannot judge them; keyword search still finds them), most first. Empty without engines.
pub fn uncovered_languages(library: &Library) -> Result<Vec<(String, u64)>> {
    let Ok(engines) = library.engines() else { return Ok(Vec::new()) };
    Ok(library
        .catalog()
        .chunk_languages()?
        .into_iter()
        .filter_map(|(lang, n)| lang.filter(|l| !engines.embedder.covers_language(l)).map(|l| (l, n)))
        .collect())
}

/// The embedding model's vectors of `texts` as passages, normalised, for comparing an answer's
/// sentences with their sources; `None` when the library has no engines.
pub fn embed_texts(library: &Library, texts: &[String]) -> Result<Option<Vec<Vec<f32>>>> {
    let Ok(engines) = library.engines() else { return Ok(None) };
    let mut vectors = engines.embedder.embed_passages(texts)?;
    for v in &mut vectors {
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= norm);
        }
    }
    Ok(Some(vectors))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyword::{KeywordConfig, KeywordDoc};

    fn chunk(id: i64, text: &str, language: Option<&str>) -> StoredChunk {
        StoredChunk {
            id,
            doc_id: id,
            ordinal: 0,
            section: 0,
            text: text.to_string(),
            heading_path: vec![],
            anchor: None,
            page_start: None,
            page_end: None,
            line_start: None,
            line_end: None,
            ocr: false,
            char_start: 0,
            char_end: text.len() as u64,
            tokens: 10,
            language: language.map(str::to_string),
        }
    }

    fn index_of(chunks: &[StoredChunk]) -> (tempfile::TempDir, KeywordIndex) {
        let dir = tempfile::tempdir().unwrap();
        let index = KeywordIndex::open(dir.path(), &KeywordConfig::default()).unwrap();
        let docs: Vec<KeywordDoc> = chunks
            .iter()
            .map(|c| KeywordDoc {
                chunk_id: c.id,
                doc_id: c.doc_id,
                text: c.text.clone(),
                lang: c.language.clone(),
                kind: "text".into(),
                ..KeywordDoc::default()
            })
            .collect();
        index.add(&docs).unwrap();
        index.commit().unwrap();
        (dir, index)
    }

    #[test]
    fn rare_missing_terms_weigh_most_in_every_language() {
        let chunks = vec![
            chunk(1, "The package manager apt installs packages and their configuration files.", Some("en")),
            chunk(2, "Use the package manager to remove a package.", Some("en")),
            chunk(3, "The network is configured in the interfaces file.", Some("en")),
            chunk(4, "软件包管理系统会处理软件包的配置文件。", Some("zh")),
            chunk(5, "普通用户不能安装软件包。", Some("zh")),
        ];
        let (_dir, index) = index_of(&chunks);
        let refs: Vec<&StoredChunk> = chunks.iter().collect();
        let e = keyword_evidence(&index, "How does apt install configuration files?", &refs).unwrap();
        assert!(e[0] > 0.5 && e[0] > e[1] && e[0] > e[2], "{e:?}");
        // A question about something the library never mentions: its rare words are missing.
        let k =
            keyword_evidence(&index, "How does kubernetes install an ingress controller?", &refs).unwrap();
        assert!(k.iter().all(|x| *x < e[0] / 2.0), "{k:?} vs {e:?}");
        // Chinese: jieba's words, not the English analyzer's runs.
        let z = keyword_evidence(&index, "软件包管理系统如何处理配置文件？", &refs).unwrap();
        assert!(z[3] > 0.6 && z[3] > z[4], "{z:?}");
        assert!(z[0] < 0.1, "English text holds no Chinese words: {z:?}");
    }

    #[test]
    fn chinese_question_words_weigh_nothing() {
        let chunks = vec![
            chunk(1, "普通用户不能安装软件包，管理员才可以。", Some("zh")),
            chunk(2, "网络接口在配置文件中设置。", Some("zh")),
        ];
        let (_dir, index) = index_of(&chunks);
        let refs: Vec<&StoredChunk> = chunks.iter().collect();
        // `为什么`, `怎么` and `呢` are in no chunk: as content they would weigh most.
        let e = keyword_evidence(&index, "为什么普通用户安装软件包呢？", &refs).unwrap();
        assert!(e[0] > 0.99, "{e:?}");
        let plain = keyword_evidence(&index, "普通用户安装软件包", &refs).unwrap();
        assert!((e[0] - plain[0]).abs() < 1e-6, "{e:?} vs {plain:?}");
        let missing = keyword_evidence(&index, "怎么在普通用户下编译内核？", &refs).unwrap();
        assert!(missing[0] < 0.7, "the content words still count: {missing:?}");
    }

    #[test]
    fn an_empty_query_has_no_evidence() {
        let chunks = vec![chunk(1, "some text", Some("en"))];
        let (_dir, index) = index_of(&chunks);
        let e = keyword_evidence(&index, " ? ", &[&chunks[0]]).unwrap();
        assert_eq!(e, vec![0.0]);
    }
}
