//! The keyword index's schema and text analyzers.

use tantivy::Index;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer};

use super::analysis::{CjkSegmenter, CjkTokenizer};

pub(crate) const CHUNK_ID: &str = "chunk_id";
pub(crate) const DOC_ID: &str = "doc_id";
pub(crate) const TITLE: &str = "title";
pub(crate) const HEADING: &str = "heading";
pub(crate) const TEXT: &str = "text";
pub(crate) const KIND: &str = "kind";
pub(crate) const TAG: &str = "tag";
pub(crate) const LANG: &str = "lang";
pub(crate) const PUBLISHED: &str = "published";
pub(crate) const ADDED: &str = "added";

/// Stemming analyzers lore registers, by name: `<code>_stem` for each language tantivy can stem.
/// `en_stem` is tantivy's own and the default.
pub const STEM_ANALYZERS: [(&str, Language); 18] = [
    ("ar_stem", Language::Arabic),
    ("da_stem", Language::Danish),
    ("nl_stem", Language::Dutch),
    ("en_stem", Language::English),
    ("fi_stem", Language::Finnish),
    ("fr_stem", Language::French),
    ("de_stem", Language::German),
    ("el_stem", Language::Greek),
    ("hu_stem", Language::Hungarian),
    ("it_stem", Language::Italian),
    ("no_stem", Language::Norwegian),
    ("pt_stem", Language::Portuguese),
    ("ro_stem", Language::Romanian),
    ("ru_stem", Language::Russian),
    ("es_stem", Language::Spanish),
    ("sv_stem", Language::Swedish),
    ("ta_stem", Language::Tamil),
    ("tr_stem", Language::Turkish),
];

/// The analyzer of Chinese text: jieba's words (see [`super::analysis`]).
pub const ZH_ANALYZER: &str = "zh_jieba";
/// The analyzer of Japanese and Korean text: overlapping character pairs (see
/// [`super::analysis`]).
pub const CJK_ANALYZER: &str = "cjk_bigram";

/// The languages with an analyzer of their own besides the stemmers: Chinese, Japanese, Korean.
const CJK_GROUPS: [(&str, &str); 3] = [("zh", ZH_ANALYZER), ("ja", CJK_ANALYZER), ("ko", CJK_ANALYZER)];

/// True for the analyzers an index can be built with: tantivy's `default` (no stemming) and
/// every name in [`STEM_ANALYZERS`].
pub fn is_known_analyzer(name: &str) -> bool {
    name == "default" || STEM_ANALYZERS.iter().any(|(n, _)| *n == name)
}

/// Registers lore's analyzers with an index (they live in memory, not in the index files, so
/// every open registers them again): the stemmers, and the CJK analyzers, whose Latin words are
/// stemmed as English.
pub(crate) fn register_analyzers(index: &Index) {
    for (name, language) in STEM_ANALYZERS {
        if index.tokenizers().get(name).is_none() {
            let analyzer = TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(RemoveLongFilter::limit(40))
                .filter(LowerCaser)
                .filter(Stemmer::new(language))
                .build();
            index.tokenizers().register(name, analyzer);
        }
    }
    for (name, segmenter) in [(ZH_ANALYZER, CjkSegmenter::Jieba), (CJK_ANALYZER, CjkSegmenter::Bigrams)] {
        if index.tokenizers().get(name).is_none() {
            let analyzer = TextAnalyzer::builder(CjkTokenizer::new(segmenter))
                .filter(RemoveLongFilter::limit(40))
                .filter(LowerCaser)
                .filter(Stemmer::new(Language::English))
                .build();
            index.tokenizers().register(name, analyzer);
        }
    }
}

/// The analysis groups of a new index with `analyzer` configured: `(language, analyzer)`, the
/// first with language `""`, the default group, for text in the configured analyzer's language,
/// of unknown language, or of a language with no analyzer of its own. Then one group for each
/// other language tantivy can stem, and Chinese, Japanese and Korean.
pub(crate) fn layout(analyzer: &str) -> Vec<(String, String)> {
    let mut groups = vec![(String::new(), analyzer.to_string())];
    for (name, _) in STEM_ANALYZERS {
        if name != analyzer
            && let Some(code) = name.strip_suffix("_stem")
        {
            groups.push((code.to_string(), name.to_string()));
        }
    }
    groups.extend(CJK_GROUPS.iter().map(|(code, name)| (code.to_string(), name.to_string())));
    groups
}

/// The name of a group's field: `title`, `heading` and `text` for the default group,
/// `text_zh` and so on for the others.
fn group_field(base: &str, language: &str) -> String {
    if language.is_empty() { base.to_string() } else { format!("{base}_{language}") }
}

/// The text fields of one analysis group: a chunk's title, headings and text go to the group of
/// its language.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    /// ISO 639-1 code; empty for the default group.
    pub language: String,
    /// The analyzer of its fields.
    pub analyzer: String,
    pub title: Field,
    pub heading: Field,
    pub text: Field,
}

/// The fields of the schema.
#[derive(Debug, Clone)]
pub(crate) struct Fields {
    pub chunk_id: Field,
    pub doc_id: Field,
    /// The analysis groups, the default one first.
    pub groups: Vec<Group>,
    pub kind: Field,
    pub tag: Field,
    pub lang: Field,
    pub published: Field,
    pub added: Field,
}

impl Fields {
    /// The group that analyses text in `language`: its own, else the default group.
    pub(crate) fn group_for(&self, language: Option<&str>) -> &Group {
        let own =
            language.and_then(|l| self.groups.iter().find(|g| !g.language.is_empty() && g.language == l));
        own.unwrap_or(&self.groups[0])
    }
}

/// The schema for the groups of [`layout`] with `analyzer` configured.
pub(crate) fn build_schema(analyzer: &str) -> Schema {
    let analysed = |analyzer: &str, stored: bool| {
        let indexing = TextFieldIndexing::default()
            .set_tokenizer(analyzer)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions);
        let options = TextOptions::default().set_indexing_options(indexing);
        if stored { options.set_stored() } else { options }
    };
    let mut builder = Schema::builder();
    builder.add_i64_field(CHUNK_ID, INDEXED | STORED | FAST);
    builder.add_i64_field(DOC_ID, INDEXED | STORED | FAST);
    for (language, analyzer) in layout(analyzer) {
        builder.add_text_field(&group_field(TITLE, &language), analysed(&analyzer, false));
        builder.add_text_field(&group_field(HEADING, &language), analysed(&analyzer, false));
        // The text is stored for snippets.
        builder.add_text_field(&group_field(TEXT, &language), analysed(&analyzer, true));
    }
    builder.add_text_field(KIND, STRING);
    builder.add_text_field(TAG, STRING);
    builder.add_text_field(LANG, STRING);
    builder.add_i64_field(PUBLISHED, INDEXED | FAST);
    builder.add_i64_field(ADDED, INDEXED | FAST);
    builder.build()
}

/// Looks the fields up in `schema`; `None` if one is missing. The groups are whatever the
/// schema has, so an index built with another layout (an older lore's, with one group) can
/// still be searched.
pub(crate) fn fields(schema: &Schema) -> Option<Fields> {
    let f = |name: &str| schema.get_field(name).ok();
    let group = |language: &str| -> Option<Group> {
        let text = f(&group_field(TEXT, language))?;
        Some(Group {
            language: language.to_string(),
            analyzer: field_analyzer(schema, text)?,
            title: f(&group_field(TITLE, language))?,
            heading: f(&group_field(HEADING, language))?,
            text,
        })
    };
    let mut groups = vec![group("")?];
    for (_, entry) in schema.fields() {
        if let Some(language) = entry.name().strip_prefix("text_") {
            groups.push(group(language)?);
        }
    }
    Some(Fields {
        chunk_id: f(CHUNK_ID)?,
        doc_id: f(DOC_ID)?,
        groups,
        kind: f(KIND)?,
        tag: f(TAG)?,
        lang: f(LANG)?,
        published: f(PUBLISHED)?,
        added: f(ADDED)?,
    })
}

fn field_analyzer(schema: &Schema, field: Field) -> Option<String> {
    match schema.get_field_entry(field).field_type() {
        tantivy::schema::FieldType::Str(options) => {
            options.get_indexing_options().map(|i| i.tokenizer().to_string())
        }
        _ => None,
    }
}

/// The analyzer the default group's fields of `schema` were built with.
pub(crate) fn schema_analyzer(schema: &Schema) -> Option<String> {
    field_analyzer(schema, schema.get_field(TEXT).ok()?)
}
