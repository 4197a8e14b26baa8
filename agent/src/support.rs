//! Whether the passages support an answer: each claim (a sentence of the answer with enough
//! content words, outside code) is supported when one passage holds most of its content words,
//! or, where the embedding model can judge the language, when a sentence of a passage means
//! nearly the same; a claim naming code identifiers also needs a passage naming at least half of
//! them. An answer most of whose claims no passage supports was made up, not taken from the
//! library.

use std::collections::{HashMap, HashSet};

use lore_index::ExactTerms;

use crate::code_spans::CodeScanner;
use crate::prompt::strip_citations;
use crate::words::{content_words, stem, stems};

/// Share of a claim's content words one passage must hold for the claim to be supported.
pub const LEXICAL_MIN: f32 = 0.5;

/// Cosine of a claim and a passage sentence above which the claim is supported (all-MiniLM-L6-v2
/// scale; other models bring their own, see [`lore_index::CosineScale`]).
pub const COSINE_MIN: f32 = 0.6;

/// Share of an answer's claims that must be supported for the answer to stand.
pub const SUPPORTED_MIN: f32 = 0.5;

/// Fewest content words a sentence needs to count as a claim.
pub(crate) const CLAIM_MIN_WORDS: usize = 3;

/// Most passage sentences embedded for one answer.
const MAX_SOURCE_SENTENCES: usize = 48;

/// The verdict on an answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Support {
    /// Claims checked (those meaning cannot judge, in another language than the passages and
    /// not close to any of their sentences, are left out).
    pub claims: usize,
    /// Claims a passage supports.
    pub supported: usize,
    /// Each claim, with the passage that supports it (an index into the passages), if one does.
    pub backing: Vec<(String, Option<usize>)>,
}

impl Support {
    /// Whether the answer stands: it makes no checkable claim, or enough of its claims are
    /// supported.
    pub fn stands(&self) -> bool {
        self.claims == 0 || self.supported as f32 >= SUPPORTED_MIN * self.claims as f32
    }
}

/// The sentences of `text` outside code, without citation markers.
pub fn sentences(text: &str) -> Vec<String> {
    let mut scan = CodeScanner::new();
    let mut prose = String::with_capacity(text.len());
    for c in text.chars() {
        let code = scan.step(c);
        if !code || (!scan.in_block() && c != '`') {
            prose.push(c);
        } else if scan.in_block() && !prose.ends_with('\n') {
            prose.push('\n');
        }
    }
    let prose = strip_citations(&prose);
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = prose.chars().peekable();
    while let Some(c) = chars.next() {
        current.push(c);
        let end = match c {
            '。' | '！' | '？' | '\n' => true,
            '.' | '!' | '?' => chars.peek().is_none_or(|n| n.is_whitespace()),
            _ => false,
        };
        if end {
            let s = current.trim().to_string();
            if !s.is_empty() {
                out.push(s);
            }
            current.clear();
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out
}

/// Normalised embedding vectors of texts, one per text, when the embedding model can judge
/// their language (`None` otherwise, or on failure).
pub type Embed<'a> = dyn FnMut(&[String]) -> Option<Vec<Vec<f32>>> + 'a;

/// Embedding vectors kept by text: each distinct text is embedded once, however many checks of
/// one answer read it (the streaming checks of its sentences, [`check`] and
/// [`crate::verify::verify`] read the same passage sentences).
#[derive(Debug, Default)]
pub struct EmbedCache {
    known: HashMap<String, Vec<f32>>,
    embedded: usize,
}

impl EmbedCache {
    /// An empty cache.
    pub fn new() -> EmbedCache {
        EmbedCache::default()
    }

    /// The vectors of `texts`, from `embed` for those not kept already (`None` when `embed`
    /// gives none).
    pub fn get(&mut self, texts: &[String], embed: &mut Embed<'_>) -> Option<Vec<Vec<f32>>> {
        let mut missing: Vec<String> = Vec::new();
        for t in texts {
            if !self.known.contains_key(t) && !missing.contains(t) {
                missing.push(t.clone());
            }
        }
        if !missing.is_empty() {
            let vectors = embed(&missing).filter(|v| v.len() == missing.len())?;
            self.embedded += missing.len();
            self.known.extend(missing.into_iter().zip(vectors));
        }
        texts.iter().map(|t| self.known.get(t).cloned()).collect()
    }

    /// How many texts were embedded (each once).
    pub fn embedded(&self) -> usize {
        self.embedded
    }
}

/// `library`'s embedding model for checking one answer, its vectors kept in an [`EmbedCache`]
/// shared by every check of the answer.
pub struct LibraryEmbed<'a> {
    library: &'a lore_index::Library,
    cache: EmbedCache,
    /// Whether meaning was judged, for each call so far that asked.
    judged: HashSet<bool>,
}

impl<'a> LibraryEmbed<'a> {
    /// The embedder of `library`, nothing kept yet.
    pub fn new(library: &'a lore_index::Library) -> LibraryEmbed<'a> {
        LibraryEmbed { library, cache: EmbedCache::new(), judged: HashSet::new() }
    }

    /// An [`Embed`] for checking `answer` (or the part of it streamed so far): `None` when the
    /// model cannot judge the answer's language (decided at its first call, so nothing is
    /// spent on it until a check needs vectors) or has failed.
    pub fn for_answer<'b>(
        &'b mut self,
        answer: &'b str,
    ) -> impl FnMut(&[String]) -> Option<Vec<Vec<f32>>> + 'b {
        let mut judged: Option<bool> = None;
        move |texts: &[String]| {
            let library = self.library;
            let j = *judged.get_or_insert_with(|| lore_index::vectors_judge(library, answer));
            self.judged.insert(j);
            if !j {
                return None;
            }
            self.cache.get(texts, &mut |missing: &[String]| {
                lore_index::embed_texts(library, missing).ok().flatten()
            })
        }
    }

    /// Whether a call so far judged meaning otherwise than `judged` says.
    pub fn judged_otherwise(&self, judged: bool) -> bool {
        self.judged.contains(&!judged)
    }

    /// Whether the model judges `answer`'s language.
    pub fn judges(&self, answer: &str) -> bool {
        lore_index::vectors_judge(self.library, answer)
    }
}

/// `library`'s embedding model as an [`Embed`] for checking `answer`: `None` when the model
/// cannot judge the answer's language (or has failed); each distinct text is embedded once, so
/// the support check and the verification of one answer, which read the same passage sentences,
/// share their vectors.
pub fn library_embed<'a>(
    library: &'a lore_index::Library,
    answer: &str,
) -> impl FnMut(&[String]) -> Option<Vec<Vec<f32>>> + 'a {
    let judged = lore_index::vectors_judge(library, answer);
    let mut cache = EmbedCache::new();
    move |texts: &[String]| {
        if !judged {
            return None;
        }
        cache.get(texts, &mut |missing: &[String]| lore_index::embed_texts(library, missing).ok().flatten())
    }
}

/// Checks `answer` against the `passages` texts, with `embed` for meaning (see [`Embed`]) and
/// `cosine_min` for how close in meaning a claim and a passage sentence must be (the embedding
/// model's [`lore_index::CosineScale::same_meaning`]; [`COSINE_MIN`] for all-MiniLM-L6-v2).
pub fn check(answer: &str, passages: &[&str], embed: &mut Embed<'_>, cosine_min: f32) -> Support {
    let claims: Vec<String> =
        sentences(answer).into_iter().filter(|s| content_words(s).len() >= CLAIM_MIN_WORDS).collect();
    if claims.is_empty() {
        return Support::default();
    }
    let sources: Vec<HashSet<String>> = passages.iter().map(|p| stems(p)).collect();
    // The passage holding the largest share of a claim's content words, with the share.
    let lexical = |claim: &str| -> (Option<usize>, f32) {
        let words: HashSet<String> = content_words(claim).iter().map(|w| stem(w)).collect();
        if words.is_empty() {
            return (None, 0.0);
        }
        sources
            .iter()
            .map(|s| words.iter().filter(|w| s.contains(*w)).count() as f32 / words.len() as f32)
            .enumerate()
            .fold((None, 0.0), |(bi, bs), (i, share)| if share > bs { (Some(i), share) } else { (bi, bs) })
    };
    // A claim naming code identifiers needs a passage naming at least half of them: otherwise
    // it is about something the passages never mention (`octet_length()` answered from a
    // passage on `length()`), however many other words or how much meaning they share.
    let names_held = |claim: &str| match ExactTerms::code_terms(claim) {
        None => true,
        Some(names) => passages.iter().any(|p| 2 * names.held_in(p) >= names.terms().len()),
    };
    let named: Vec<bool> = claims.iter().map(|c| names_held(c)).collect();
    let mut backing: Vec<Option<usize>> = vec![None; claims.len()];
    let mut unjudged = vec![false; claims.len()];
    for (i, claim) in claims.iter().enumerate() {
        let (best, share) = lexical(claim);
        if named[i] && share >= LEXICAL_MIN {
            backing[i] = best;
        }
    }
    // A claim in another language than every passage (a Chinese answer from English passages)
    // shares no word with them, and meaning cannot judge it either: a summary in translation
    // scores no higher than unrelated sentences do (multilingual-e5-small, Debian Reference
    // sentences: a paraphrase 0.83 against the 90th percentile of unrelated pairs 0.833), nor
    // tell which passage it comes from. It is left out of the verdict: the gate judged the
    // question across languages.
    let passage_languages: Vec<Option<String>> =
        passages.iter().map(|p| lore_index::query_language(p)).collect();
    for (i, claim) in claims.iter().enumerate() {
        // A claim naming identifiers no passage names is judged by them, in any language.
        if backing[i].is_none() && named[i] && !passage_languages.is_empty() {
            let lang = lore_index::query_language(claim);
            unjudged[i] = passage_languages
                .iter()
                .all(|p| crate::retrieve::across_languages(lang.as_deref(), p.as_deref()));
        }
    }
    let doubtful: Vec<usize> =
        (0..claims.len()).filter(|i| backing[*i].is_none() && named[*i] && !unjudged[*i]).collect();
    if !doubtful.is_empty() {
        // Passage sentences that share a word with a doubtful claim, as many as are embedded.
        let wanted: HashSet<String> =
            doubtful.iter().flat_map(|i| content_words(&claims[*i])).map(|w| stem(&w)).collect();
        let candidates: Vec<(usize, String)> = passages
            .iter()
            .enumerate()
            .flat_map(|(p, text)| sentences(text).into_iter().map(move |s| (p, s)))
            .filter(|(_, s)| content_words(s).iter().any(|w| wanted.contains(&stem(w))))
            .take(MAX_SOURCE_SENTENCES)
            .collect();
        if !candidates.is_empty() {
            let mut texts: Vec<String> = doubtful.iter().map(|i| claims[*i].clone()).collect();
            texts.extend(candidates.iter().map(|(_, s)| s.clone()));
            if let Some(vectors) = embed(&texts) {
                let (claim_vecs, source_vecs) = vectors.split_at(doubtful.len().min(vectors.len()));
                for (k, i) in doubtful.iter().enumerate() {
                    let Some(c) = claim_vecs.get(k) else { continue };
                    let best = source_vecs
                        .iter()
                        .zip(&candidates)
                        .map(|(v, (p, _))| (*p, v.iter().zip(c).map(|(a, b)| a * b).sum::<f32>()))
                        .fold(
                            None,
                            |b: Option<(usize, f32)>, x| {
                                if b.is_none_or(|b| x.1 > b.1) { Some(x) } else { b }
                            },
                        );
                    backing[*i] = best.filter(|(_, cos)| *cos >= cosine_min).map(|(p, _)| p);
                }
            }
        }
    }
    let judged = |i: &usize| !unjudged[*i];
    Support {
        claims: (0..claims.len()).filter(judged).count(),
        supported: (0..claims.len()).filter(|i| judged(i) && backing[*i].is_some()).count(),
        backing: claims.into_iter().zip(backing).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSAGES: [&str; 2] = [
        "The apt-get command installs packages. Use apt-get install followed by the package name.",
        "Debian keeps configuration files in /etc. Files changed by the administrator are kept on upgrade.",
    ];

    fn no_embed(_: &[String]) -> Option<Vec<Vec<f32>>> {
        None
    }

    #[test]
    fn answers_taken_from_the_passages_stand() {
        let s = check(
            "Use apt-get install followed by the package name [1]. Configuration files changed by the administrator are kept [2].",
            &PASSAGES,
            &mut no_embed,
            COSINE_MIN,
        );
        assert_eq!((s.claims, s.supported), (2, 2));
        assert!(s.stands());
    }

    #[test]
    fn invented_answers_do_not_stand() {
        let s = check(
            "To install an ingress controller, run kubectl apply with the manifest. Then create a TLS secret with kubectl create secret. Finally annotate the service for the load balancer.",
            &PASSAGES,
            &mut no_embed,
            COSINE_MIN,
        );
        assert_eq!(s.claims, 3);
        assert_eq!(s.supported, 0);
        assert!(!s.stands());
    }

    #[test]
    fn paraphrases_stand_on_embedding_similarity() {
        let mut embed = |texts: &[String]| -> Option<Vec<Vec<f32>>> {
            // Claim 0 and the source sentence about installing point the same way.
            Some(
                texts
                    .iter()
                    .map(|t| if t.contains("install") { vec![1.0, 0.0] } else { vec![0.0, 1.0] })
                    .collect(),
            )
        };
        let s = check("You can fetch software with the install utility.", &PASSAGES, &mut embed, COSINE_MIN);
        assert_eq!(s.supported, 1, "{s:?}");
    }

    #[test]
    fn claims_about_identifiers_no_passage_names_do_not_stand() {
        let passages =
            ["The length() function returns the number of characters of a string, or of bytes of a blob."];
        // Lexically close and near in meaning, but about another function.
        let mut close =
            |texts: &[String]| -> Option<Vec<Vec<f32>>> { Some(texts.iter().map(|_| vec![1.0]).collect()) };
        let s = check(
            "The octet_length() function returns the number of bytes of a string.",
            &passages,
            &mut close,
            COSINE_MIN,
        );
        assert_eq!((s.claims, s.supported), (1, 0));
        let s = check(
            "The length() function returns the number of characters of a string.",
            &passages,
            &mut close,
            COSINE_MIN,
        );
        assert_eq!((s.claims, s.supported), (1, 1));
        let s = check(
            "There is no chomp() in Python, but the length() function returns the number of characters.",
            &passages,
            &mut close,
            COSINE_MIN,
        );
        assert_eq!(s.supported, 1, "half the names held is enough: {s:?}");
    }

    #[test]
    fn claims_in_another_language_than_every_passage_are_not_judged() {
        let passages = ["Python uses indentation to group statements. Braces are not used."];
        let mut close =
            |texts: &[String]| -> Option<Vec<Vec<f32>>> { Some(texts.iter().map(|_| vec![1.0]).collect()) };
        let s = check("Python 使用缩进来划分语句块，而不是花括号。", &passages, &mut close, COSINE_MIN);
        assert_eq!((s.claims, s.supported, s.backing[0].1), (0, 0, None), "{s:?}");
        assert!(s.stands());
        // Beside a Chinese passage the same claim is judged (and here unsupported).
        let mixed = [passages[0], "这一段讲的是别的事情，和问题没有关系。"];
        let s = check("Python 使用缩进来划分语句块，而不是花括号。", &mixed, &mut no_embed, COSINE_MIN);
        assert_eq!((s.claims, s.supported), (1, 0), "{s:?}");
    }

    #[test]
    fn a_chinese_answer_naming_a_product_stands_on_its_chinese_passage() {
        let passage = "ChatGPT使用了基于变分自编码器（VAE）和Transformer架构的深度学习技术。它的训练过程分为三个阶段：\n\n1. 预训练：使用大量文本数据进行无监督学习。\n2. 微调：使用有监督学习方法。\n3. 生成回馈：让模型生成回馈以优化其表现。";
        let s = check(
            "ChatGPT的训练过程分为三个阶段：预训练、微调和生成回馈 [1]。",
            &[passage],
            &mut no_embed,
            COSINE_MIN,
        );
        assert_eq!((s.claims, s.supported), (1, 1), "{s:?}");
    }

    #[test]
    fn code_and_short_sentences_are_not_claims() {
        let s = check(
            "Yes.\n\n```sh\nkubectl apply -f ingress.yaml now please\n```\nOk.",
            &PASSAGES,
            &mut no_embed,
            COSINE_MIN,
        );
        assert_eq!(s.claims, 0);
        assert!(s.stands());
        assert_eq!(sentences("A b c [1]. D e f.\n```\ncode here\n```"), vec!["A b c.", "D e f."]);
    }
}
