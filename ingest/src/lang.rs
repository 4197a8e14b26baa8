//! Language detection: a document's main language, each chunk's, and a search query's, as
//! ISO 639-1 codes. Chinese, Japanese and Korean are told by script (a few characters are
//! enough), other languages by whatlang when it is sure.

use crate::document::Document;

/// Detects the main language of a document from a sample of its text (ISO 639-1 code).
pub fn detect_language(doc: &Document) -> Option<String> {
    let mut sample = String::new();
    for s in &doc.sections {
        let rest = 8192usize.saturating_sub(sample.len());
        if rest == 0 {
            break;
        }
        let mut end = rest.min(s.text.len());
        while !s.text.is_char_boundary(end) {
            end -= 1;
        }
        sample.push_str(&s.text[..end]);
        sample.push('\n');
    }
    let info = whatlang::detect(&sample)?;
    if !info.is_reliable() && info.confidence() < 0.5 {
        return None;
    }
    iso639_1(info.lang()).map(str::to_string)
}

/// Letters of the scripts that decide a CJK language, counted in a text.
#[derive(Debug, Default, Clone, Copy)]
struct ScriptCounts {
    /// Han ideographs.
    han: usize,
    /// Hiragana and katakana.
    kana: usize,
    /// Hangul syllables and jamo.
    hangul: usize,
    /// Every alphabetic character, these included.
    letters: usize,
}

fn script_counts(text: &str) -> ScriptCounts {
    let mut n = ScriptCounts::default();
    for c in text.chars() {
        match c as u32 {
            0x3040..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9D => n.kana += 1,
            0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF => n.han += 1,
            0x1100..=0x11FF | 0x3130..=0x318F | 0xAC00..=0xD7AF => n.hangul += 1,
            _ => {}
        }
        if c.is_alphabetic() {
            n.letters += 1;
        }
    }
    n
}

/// The CJK language a text's scripts say it is in, when at least a tenth of its letters are
/// Han, kana or Hangul: Japanese when it has kana, Korean when Hangul outnumbers Han, else
/// Chinese, except that Han alone in a Japanese or Korean document is taken to be that
/// document's language. Latin words inside CJK text (names, commands) do not change the answer.
fn cjk_language(text: &str, fallback: Option<&str>) -> Option<&'static str> {
    let n = script_counts(text);
    let cjk = n.han + n.kana + n.hangul;
    if cjk == 0 || cjk * 10 < n.letters {
        return None;
    }
    Some(if n.kana > 0 && n.kana * 20 >= cjk {
        "ja"
    } else if n.hangul > n.han {
        "ko"
    } else {
        match fallback {
            Some("ja") => "ja",
            Some("ko") => "ko",
            _ => "zh",
        }
    })
}

/// The language of one chunk of a document (ISO 639-1): decided by script for Chinese,
/// Japanese and Korean; otherwise detected when the detection is reliable, else the document's
/// language. A manual whose metadata says German but whose chunks are English text gets
/// English chunks.
pub fn chunk_language(text: &str, doc_language: Option<&str>) -> Option<String> {
    if let Some(lang) = cjk_language(text, doc_language) {
        return Some(lang.to_string());
    }
    if let Some(info) = whatlang::detect(text)
        && info.is_reliable()
        && let Some(code) = iso639_1(info.lang())
    {
        // A CJK document's chunk of Latin text (code, a quotation) is analysed as Latin text.
        return Some(code.to_string());
    }
    doc_language.map(str::to_string)
}

/// The language of a search query (ISO 639-1), when it can be told: Chinese, Japanese and
/// Korean by script (a query of two characters is enough), other languages only when the
/// detector is sure. Short Latin-script queries usually give `None`.
pub fn query_language(query: &str) -> Option<String> {
    if let Some(lang) = cjk_language(query, None) {
        return Some(lang.to_string());
    }
    let info = whatlang::detect(query)?;
    if !info.is_reliable() {
        return None;
    }
    iso639_1(info.lang()).map(str::to_string)
}

fn iso639_1(lang: whatlang::Lang) -> Option<&'static str> {
    use whatlang::Lang::*;
    Some(match lang {
        Eng => "en",
        Deu => "de",
        Fra => "fr",
        Spa => "es",
        Ita => "it",
        Por => "pt",
        Nld => "nl",
        Rus => "ru",
        Ukr => "uk",
        Pol => "pl",
        Ces => "cs",
        Swe => "sv",
        Dan => "da",
        Nob => "no",
        Fin => "fi",
        Tur => "tr",
        Cmn => "zh",
        Jpn => "ja",
        Kor => "ko",
        Ara => "ar",
        Heb => "he",
        Hin => "hi",
        Ell => "el",
        Hun => "hu",
        Ron => "ro",
        Vie => "vi",
        Tha => "th",
        Ind => "id",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_and_queries_get_their_script_language() {
        assert_eq!(chunk_language("我们使用人工智能来理解文档并回答问题。", None).as_deref(), Some("zh"));
        assert_eq!(chunk_language("このマニュアルについて説明します。", Some("en")).as_deref(), Some("ja"));
        assert_eq!(chunk_language("한국어 문서를 검색합니다", None).as_deref(), Some("ko"));
        // Han alone in a Japanese document is Japanese.
        assert_eq!(chunk_language("仮想機械試験", Some("ja")).as_deref(), Some("ja"));
        // Chinese text with English names in it is still Chinese.
        let mixed = "使用 ChatGPT 和 Midjourney 生成内容的方法和技巧";
        assert_eq!(chunk_language(mixed, Some("zh")).as_deref(), Some("zh"));
        // English text in a document whose metadata says German is English.
        let english = "When the Live Systems Project was initiated, there were already several \
                       Debian based live systems available and they were doing a great job.";
        assert_eq!(chunk_language(english, Some("de")).as_deref(), Some("en"));
        // Too little to tell: the document's language.
        assert_eq!(chunk_language("x = 1", Some("de")).as_deref(), Some("de"));
        assert_eq!(query_language("人工智能").as_deref(), Some("zh"));
        assert_eq!(query_language("ライブシステム").as_deref(), Some("ja"));
        assert_eq!(query_language("tail call"), None);
    }
}
