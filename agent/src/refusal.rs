//! What lore says, in the question's language, when the library does not answer a question:
//! a plain statement, and the nearest passages (title, location, a line of text) so the reader
//! can look for themselves.

use crate::retrieve::Passage;
use crate::words::content_words;

/// The phrases of a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phrase {
    /// Nothing in the library answers the question.
    NoAnswer,
    /// The model's answer is not supported by the passages found.
    Unsupported,
    /// The heading of the nearest passages.
    Nearest,
}

/// The languages with templates besides English, as the detector names them.
const TEMPLATED: [whatlang::Lang; 9] = [
    whatlang::Lang::Eng,
    whatlang::Lang::Deu,
    whatlang::Lang::Fra,
    whatlang::Lang::Spa,
    whatlang::Lang::Ita,
    whatlang::Lang::Por,
    whatlang::Lang::Rus,
    whatlang::Lang::Jpn,
    whatlang::Lang::Kor,
];

/// Least confidence of the detector, choosing among the languages with templates, for a question
/// it is not sure of on its own.
const MIN_CONFIDENCE: f64 = 0.5;

/// The language of `question` among those with templates: as search detects it, else as the
/// detector finds it when it only has to choose among them (short questions are seldom
/// "reliable" on their own).
fn detect(question: &str) -> Option<String> {
    if let Some(lang) = lore_index::query_language(question) {
        return Some(lang);
    }
    let info = whatlang::Detector::with_allowlist(TEMPLATED.to_vec()).detect(question)?;
    if info.confidence() < MIN_CONFIDENCE {
        return None;
    }
    Some(
        match info.lang() {
            whatlang::Lang::Deu => "de",
            whatlang::Lang::Fra => "fr",
            whatlang::Lang::Spa => "es",
            whatlang::Lang::Ita => "it",
            whatlang::Lang::Por => "pt",
            whatlang::Lang::Rus => "ru",
            whatlang::Lang::Jpn => "ja",
            whatlang::Lang::Kor => "ko",
            _ => "en",
        }
        .to_string(),
    )
}

/// The language the refusal is written in: the question's, when it has a template, else English.
pub fn language_of(question: &str) -> &'static str {
    match detect(question).as_deref() {
        Some("zh") => "zh",
        Some("ja") => "ja",
        Some("ko") => "ko",
        Some("de") => "de",
        Some("fr") => "fr",
        Some("es") => "es",
        Some("it") => "it",
        Some("pt") => "pt",
        Some("ru") => "ru",
        _ => "en",
    }
}

/// `phrase` in `language` (a code of [`language_of`]).
pub fn phrase(phrase: Phrase, language: &str) -> &'static str {
    use Phrase::*;
    match (language, phrase) {
        ("zh", NoAnswer) => "资料库中没有能回答这个问题的内容。",
        ("zh", Unsupported) => "找到的段落不能支持这个回答，资料库中可能没有答案。",
        ("zh", Nearest) => "最接近的段落：",
        ("ja", NoAnswer) => "ライブラリにはこの質問に答える内容がありません。",
        ("ja", Unsupported) => {
            "見つかった箇所はこの回答を裏付けていません。ライブラリに答えがない可能性があります。"
        }
        ("ja", Nearest) => "最も近い箇所：",
        ("ko", NoAnswer) => "라이브러리에 이 질문에 대한 답이 없습니다.",
        ("ko", Unsupported) => {
            "찾은 구절이 이 답변을 뒷받침하지 않습니다. 라이브러리에 답이 없을 수 있습니다."
        }
        ("ko", Nearest) => "가장 가까운 구절:",
        ("de", NoAnswer) => "Die Bibliothek enthält keine Antwort auf diese Frage.",
        ("de", Unsupported) => {
            "Die gefundenen Stellen stützen diese Antwort nicht; die Bibliothek enthält die Antwort wohl nicht."
        }
        ("de", Nearest) => "Nächstliegende Stellen:",
        ("fr", NoAnswer) => "La bibliothèque ne contient pas de réponse à cette question.",
        ("fr", Unsupported) => {
            "Les passages trouvés ne confirment pas cette réponse ; la bibliothèque ne la contient sans doute pas."
        }
        ("fr", Nearest) => "Passages les plus proches :",
        ("es", NoAnswer) => "La biblioteca no contiene una respuesta a esta pregunta.",
        ("es", Unsupported) => {
            "Los pasajes encontrados no respaldan esta respuesta; es probable que la biblioteca no la contenga."
        }
        ("es", Nearest) => "Pasajes más cercanos:",
        ("it", NoAnswer) => "La biblioteca non contiene una risposta a questa domanda.",
        ("it", Unsupported) => "I passaggi trovati non sostengono questa risposta.",
        ("it", Nearest) => "Passaggi più vicini:",
        ("pt", NoAnswer) => "A biblioteca não contém uma resposta para esta pergunta.",
        ("pt", Unsupported) => "Os trechos encontrados não sustentam esta resposta.",
        ("pt", Nearest) => "Trechos mais próximos:",
        ("ru", NoAnswer) => "В библиотеке нет ответа на этот вопрос.",
        ("ru", Unsupported) => "Найденные фрагменты не подтверждают этот ответ.",
        ("ru", Nearest) => "Ближайшие фрагменты:",
        (_, NoAnswer) => "The library does not contain an answer to this question.",
        (_, Unsupported) => {
            "The passages found do not support this answer; the library probably does not contain it."
        }
        (_, Nearest) => "Nearest passages:",
    }
}

/// Longest line of passage text shown in a refusal, in characters.
const LINE_CHARS: usize = 160;

/// The line of `text` that shares the most content words with `question` (the first line when
/// none does), flattened and cut to [`LINE_CHARS`].
pub fn best_line(text: &str, question: &str) -> String {
    let wanted: std::collections::HashSet<String> = content_words(question).into_iter().collect();
    let mut best: Option<(usize, &str)> = None;
    for line in text.split(['\n', '。']).flat_map(|l| l.split(". ")).map(str::trim).filter(|l| !l.is_empty())
    {
        let score = content_words(line).iter().filter(|w| wanted.contains(*w)).count();
        if best.is_none_or(|(s, _)| score > s) {
            best = Some((score, line));
        }
    }
    let line = best.map(|(_, l)| l).unwrap_or_default();
    let flat = line.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= LINE_CHARS {
        return flat;
    }
    let cut: String = flat.chars().take(LINE_CHARS).collect();
    format!("{}…", cut.trim_end())
}

/// Most nearest passages listed in a refusal.
pub const NEAREST: usize = 3;

/// A refusal of `question`: `lead` in the question's language, then the nearest of `passages`.
pub fn refusal(question: &str, lead: Phrase, passages: &[Passage]) -> String {
    let lang = language_of(question);
    let mut out = phrase(lead, lang).to_string();
    if !passages.is_empty() {
        out.push_str("\n\n");
        out.push_str(phrase(Phrase::Nearest, lang));
        for (i, p) in passages.iter().take(NEAREST).enumerate() {
            let location = p.location();
            out.push_str(&format!("\n{}. {}", i + 1, p.title));
            if !location.is_empty() {
                out.push_str(&format!(" — {location}"));
            }
            out.push_str(&format!("\n   “{}”", best_line(&p.hit_text, question)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_speak_the_questions_language() {
        assert_eq!(language_of("普通用户如何安装软件包？"), "zh");
        assert_eq!(language_of("How do I install a package?"), "en");
        assert_eq!(language_of("Wie kann ich als normaler Benutzer ein Paket installieren?"), "de");
        assert_eq!(language_of("Comment puis-je installer un paquet sans être administrateur ?"), "fr");
        assert_eq!(language_of("¿Cómo puedo instalar un paquete sin ser administrador del sistema?"), "es");
        assert_eq!(language_of("パッケージをインストールするにはどうすればいいですか？"), "ja");
        assert!(refusal("普通用户如何安装软件包？", Phrase::NoAnswer, &[]).starts_with("资料库中没有"));
        for english in [
            "How do I set up a Kubernetes ingress controller with TLS?",
            "Why are Python strings immutable?",
            "What is the GIL?",
            "Can I use Git LFS with this?",
            "stop people copying text?",
        ] {
            assert_eq!(language_of(english), "en", "{english}");
        }
    }

    #[test]
    fn the_best_line_is_the_one_sharing_the_questions_words() {
        let text = "Chapter one.\nThe apt tool installs packages from the archive. Other tools exist.";
        assert_eq!(
            best_line(text, "Which tool installs packages?"),
            "The apt tool installs packages from the archive"
        );
        assert!(best_line(&"word ".repeat(100), "x").chars().count() <= LINE_CHARS + 1);
    }
}
