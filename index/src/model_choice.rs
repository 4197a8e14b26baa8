//! The embedding model a new library gets when none is configured. all-MiniLM-L6-v2 ranks
//! English best of the models lore can install offline, but its vectors of Chinese or Japanese
//! text are noise and it cannot match a question to a passage in another language;
//! multilingual-e5-small serves every language at some cost in English (nDCG@10 on the Python
//! FAQ, hybrid: 0.886 against 0.838). So a library whose first documents, or whose user's
//! locale, are in a language all-MiniLM-L6-v2 was not trained for gets multilingual-e5-small
//! when it is installed; an English library keeps the English model. The choice is recorded in
//! the catalog with the model and stays until `lore reindex --model` changes it.

use std::path::Path;

use crate::embed::{DEFAULT_MODEL, EmbedConfig, installed_tokenizer, model_languages};

/// The multilingual model chosen for libraries that are not English-only.
pub const MULTILINGUAL_MODEL: &str = "intfloat/multilingual-e5-small";

/// Catalog metadata key of why the library's embedding model was chosen.
pub const META_MODEL_CHOICE: &str = "embedding.choice";

/// The model picked for a new library, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelChoice {
    /// The model name to embed with (`None`: the default model).
    pub model: Option<String>,
    /// Why, in a few words (`lore add` tells it once, `lore doctor` repeats it).
    pub reason: String,
    /// Whether a multilingual model was wanted but is not installed.
    pub multilingual_missing: bool,
}

/// Chooses the embedding model of a new library from the languages of its first documents and
/// of the person's locale (ISO 639-1 codes, in any order, repeats allowed). `runtime_dir` is
/// where the models are installed.
pub fn choose_model(documents: &[String], locale: Option<&str>, runtime_dir: &Path) -> ModelChoice {
    let covered = model_languages(&DEFAULT_MODEL).unwrap_or(&[]);
    let mut docs: Vec<&str> = Vec::new();
    for lang in documents.iter().map(String::as_str) {
        if !covered.contains(&lang) && !docs.contains(&lang) {
            docs.push(lang);
        }
    }
    let locale = locale.filter(|l| !covered.contains(l));
    let why = match (docs.is_empty(), locale) {
        (true, None) => {
            return ModelChoice {
                model: None,
                reason: "chosen for English documents".into(),
                multilingual_missing: false,
            };
        }
        (false, Some(l)) => format!("documents in {} and a {l} locale", docs.join(", ")),
        (false, None) => format!("documents in {}", docs.join(", ")),
        (true, Some(l)) => format!("a {l} locale (questions in {l} find passages in any language)"),
    };
    let multilingual = EmbedConfig { model: Some(MULTILINGUAL_MODEL.into()), ..EmbedConfig::default() };
    if installed_tokenizer(&multilingual, runtime_dir).is_some() {
        ModelChoice {
            model: Some(MULTILINGUAL_MODEL.into()),
            reason: format!("chosen for {why}"),
            multilingual_missing: false,
        }
    } else {
        let mut uncovered = docs;
        if let Some(l) = locale.filter(|l| !uncovered.contains(l)) {
            uncovered.push(l);
        }
        ModelChoice {
            model: None,
            reason: format!(
                "{why}, but {MULTILINGUAL_MODEL} is not installed (scripts/setup.sh installs it), so text in \
                 {} is searched by keywords only",
                uncovered.join(", ")
            ),
            multilingual_missing: true,
        }
    }
}

/// The language of a locale name (`zh_CN.UTF-8` -> `zh`); `None` for the C and POSIX locales.
pub fn locale_language(locale: &str) -> Option<String> {
    let lang = locale.split(['_', '.', '@', '-']).next().unwrap_or("").trim().to_ascii_lowercase();
    if lang.is_empty() || lang == "c" || lang == "posix" || !lang.chars().all(|c| c.is_ascii_lowercase()) {
        return None;
    }
    Some(lang)
}

#[cfg(test)]
mod tests {
    use fastembed::ModelTrait;

    use super::*;

    fn langs(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn english_documents_and_locale_keep_the_english_model() {
        let dir = tempfile::tempdir().unwrap();
        let c = choose_model(&langs(&["en"]), Some("en"), dir.path());
        assert_eq!(c.model, None);
        assert!(!c.multilingual_missing);
        assert_eq!(choose_model(&[], None, dir.path()).model, None);
    }

    #[test]
    fn other_languages_without_the_multilingual_model_say_so() {
        let dir = tempfile::tempdir().unwrap();
        let c = choose_model(&langs(&["en", "zh"]), None, dir.path());
        assert_eq!(c.model, None);
        assert!(c.multilingual_missing);
        assert!(c.reason.contains("documents in zh"), "{}", c.reason);
        assert!(c.reason.contains("keywords only"), "{}", c.reason);
        let c = choose_model(&langs(&["en"]), Some("ja"), dir.path());
        assert!(c.reason.contains("a ja locale"), "{}", c.reason);
    }

    #[test]
    fn other_languages_get_the_installed_multilingual_model() {
        let dir = tempfile::tempdir().unwrap();
        // The files fastembed's cache layout needs, as the set-up lays them out.
        let repo = crate::embed::hf_cache_dir(dir.path()).join("models--intfloat--multilingual-e5-small");
        let snapshot = repo.join("snapshots").join("0000");
        std::fs::create_dir_all(&snapshot).unwrap();
        std::fs::create_dir_all(repo.join("refs")).unwrap();
        std::fs::write(repo.join("refs").join("main"), "0000").unwrap();
        let info = fastembed::EmbeddingModel::get_model_info(&fastembed::EmbeddingModel::MultilingualE5Small)
            .unwrap();
        let files =
            std::iter::once(info.model_file.clone()).chain(info.additional_files.iter().cloned()).chain(
                ["tokenizer.json", "config.json", "special_tokens_map.json", "tokenizer_config.json"]
                    .map(String::from),
            );
        for f in files {
            let path = snapshot.join(f);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, b"x").unwrap();
        }
        let c = choose_model(&langs(&["zh"]), None, dir.path());
        assert_eq!(c.model.as_deref(), Some(MULTILINGUAL_MODEL));
        assert_eq!(c.reason, "chosen for documents in zh");
        let c = choose_model(&langs(&["en"]), Some("ja"), dir.path());
        assert_eq!(c.model.as_deref(), Some(MULTILINGUAL_MODEL));
    }

    #[test]
    fn locale_names_give_their_language() {
        assert_eq!(locale_language("zh_CN.UTF-8").as_deref(), Some("zh"));
        assert_eq!(locale_language("ja_JP").as_deref(), Some("ja"));
        assert_eq!(locale_language("en_US.utf8").as_deref(), Some("en"));
        assert_eq!(locale_language("C.UTF-8"), None);
        assert_eq!(locale_language("POSIX"), None);
        assert_eq!(locale_language(""), None);
    }
}
