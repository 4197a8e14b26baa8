//! Whether the passages support an answer: each claim (a sentence of the answer with enough
//! content words, outside code) is supported when one passage holds most of its content words,
//! or, where the embedding model can judge the language, when a sentence of a passage means
//! nearly the same; a claim naming code identifiers also needs a passage naming at least half of
//! them. An answer most of whose claims no passage supports was made up, not taken from the
//! library.

use std::collections::HashSet;

use lore_index::ExactTerms;

use crate::code_spans::CodeScanner;
use crate::prompt::strip_citations;
use crate::words::{content_words, stem, stems};

/// Share of a claim's content words one passage must hold for the claim to be supported.
pub const LEXICAL_MIN: f32 = 0.5;

/// Cosine of a claim and a passage sentence above which the claim is supported (all-MiniLM-L6-v2
/// scale).
pub const COSINE_MIN: f32 = 0.6;

/// Share of an answer's claims that must be supported for the answer to stand.
pub const SUPPORTED_MIN: f32 = 0.5;

/// Fewest content words a sentence needs to count as a claim.
const CLAIM_MIN_WORDS: usize = 3;

/// Most passage sentences embedded for one answer.
const MAX_SOURCE_SENTENCES: usize = 48;

/// The verdict on an answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Support {
    /// Claims checked.
    pub claims: usize,
    /// Claims a passage supports.
    pub supported: usize,
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

/// Checks `answer` against the `passages` texts, with `embed` for meaning (see [`Embed`]).
pub fn check(answer: &str, passages: &[&str], embed: &mut Embed<'_>) -> Support {
    let claims: Vec<String> =
        sentences(answer).into_iter().filter(|s| content_words(s).len() >= CLAIM_MIN_WORDS).collect();
    if claims.is_empty() {
        return Support::default();
    }
    let sources: Vec<HashSet<String>> = passages.iter().map(|p| stems(p)).collect();
    let lexical = |claim: &str| -> f32 {
        let words: HashSet<String> = content_words(claim).iter().map(|w| stem(w)).collect();
        if words.is_empty() {
            return 0.0;
        }
        sources
            .iter()
            .map(|s| words.iter().filter(|w| s.contains(*w)).count() as f32 / words.len() as f32)
            .fold(0.0, f32::max)
    };
    // A claim naming code identifiers needs a passage naming at least half of them: otherwise
    // it is about something the passages never mention (`octet_length()` answered from a
    // passage on `length()`), however many other words or how much meaning they share.
    let names_held = |claim: &str| match ExactTerms::code_terms(claim) {
        None => true,
        Some(names) => passages.iter().any(|p| 2 * names.held_in(p) >= names.terms().len()),
    };
    let named: Vec<bool> = claims.iter().map(|c| names_held(c)).collect();
    let mut supported = vec![false; claims.len()];
    for (i, claim) in claims.iter().enumerate() {
        supported[i] = named[i] && lexical(claim) >= LEXICAL_MIN;
    }
    let doubtful: Vec<usize> = (0..claims.len()).filter(|i| !supported[*i] && named[*i]).collect();
    if !doubtful.is_empty() {
        // Passage sentences that share a word with a doubtful claim, as many as are embedded.
        let wanted: HashSet<String> =
            doubtful.iter().flat_map(|i| content_words(&claims[*i])).map(|w| stem(&w)).collect();
        let candidates: Vec<String> = passages
            .iter()
            .flat_map(|p| sentences(p))
            .filter(|s| content_words(s).iter().any(|w| wanted.contains(&stem(w))))
            .take(MAX_SOURCE_SENTENCES)
            .collect();
        if !candidates.is_empty() {
            let mut texts: Vec<String> = doubtful.iter().map(|i| claims[*i].clone()).collect();
            texts.extend(candidates.iter().cloned());
            if let Some(vectors) = embed(&texts) {
                let (claim_vecs, source_vecs) = vectors.split_at(doubtful.len().min(vectors.len()));
                for (k, i) in doubtful.iter().enumerate() {
                    let Some(c) = claim_vecs.get(k) else { continue };
                    let best = source_vecs
                        .iter()
                        .map(|s| s.iter().zip(c).map(|(a, b)| a * b).sum::<f32>())
                        .fold(f32::MIN, f32::max);
                    supported[*i] = best >= COSINE_MIN;
                }
            }
        }
    }
    Support { claims: claims.len(), supported: supported.iter().filter(|s| **s).count() }
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
        );
        assert_eq!(s, Support { claims: 2, supported: 2 });
        assert!(s.stands());
    }

    #[test]
    fn invented_answers_do_not_stand() {
        let s = check(
            "To install an ingress controller, run kubectl apply with the manifest. Then create a TLS secret with kubectl create secret. Finally annotate the service for the load balancer.",
            &PASSAGES,
            &mut no_embed,
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
        let s = check("You can fetch software with the install utility.", &PASSAGES, &mut embed);
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
        );
        assert_eq!(s, Support { claims: 1, supported: 0 });
        let s = check(
            "The length() function returns the number of characters of a string.",
            &passages,
            &mut close,
        );
        assert_eq!(s, Support { claims: 1, supported: 1 });
        let s = check(
            "There is no chomp() in Python, but the length() function returns the number of characters.",
            &passages,
            &mut close,
        );
        assert_eq!(s.supported, 1, "half the names held is enough: {s:?}");
    }

    #[test]
    fn code_and_short_sentences_are_not_claims() {
        let s = check(
            "Yes.\n\n```sh\nkubectl apply -f ingress.yaml now please\n```\nOk.",
            &PASSAGES,
            &mut no_embed,
        );
        assert_eq!(s.claims, 0);
        assert!(s.stands());
        assert_eq!(sentences("A b c [1]. D e f.\n```\ncode here\n```"), vec!["A b c.", "D e f."]);
    }
}
