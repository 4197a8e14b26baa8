//! The keyword index's schema and text analyzers.

use tantivy::Index;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer};

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

/// True for the analyzers an index can be built with: tantivy's `default` (no stemming) and
/// every name in [`STEM_ANALYZERS`].
pub fn is_known_analyzer(name: &str) -> bool {
    name == "default" || STEM_ANALYZERS.iter().any(|(n, _)| *n == name)
}

/// Registers the stemming analyzers with an index (they live in memory, not in the index files,
/// so every open registers them again).
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
}

/// The fields of the schema.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    pub chunk_id: Field,
    pub doc_id: Field,
    pub title: Field,
    pub heading: Field,
    pub text: Field,
    pub kind: Field,
    pub tag: Field,
    pub lang: Field,
    pub published: Field,
    pub added: Field,
}

/// The schema for text analysed by `analyzer`.
pub(crate) fn build_schema(analyzer: &str) -> Schema {
    let analysed = |stored: bool| {
        let indexing = TextFieldIndexing::default()
            .set_tokenizer(analyzer)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions);
        let options = TextOptions::default().set_indexing_options(indexing);
        if stored { options.set_stored() } else { options }
    };
    let mut builder = Schema::builder();
    builder.add_i64_field(CHUNK_ID, INDEXED | STORED | FAST);
    builder.add_i64_field(DOC_ID, INDEXED | STORED | FAST);
    builder.add_text_field(TITLE, analysed(false));
    builder.add_text_field(HEADING, analysed(false));
    // The text is stored for snippets.
    builder.add_text_field(TEXT, analysed(true));
    builder.add_text_field(KIND, STRING);
    builder.add_text_field(TAG, STRING);
    builder.add_text_field(LANG, STRING);
    builder.add_i64_field(PUBLISHED, INDEXED | FAST);
    builder.add_i64_field(ADDED, INDEXED | FAST);
    builder.build()
}

/// Looks the fields up in `schema`; `None` if one is missing.
pub(crate) fn fields(schema: &Schema) -> Option<Fields> {
    let f = |name: &str| schema.get_field(name).ok();
    Some(Fields {
        chunk_id: f(CHUNK_ID)?,
        doc_id: f(DOC_ID)?,
        title: f(TITLE)?,
        heading: f(HEADING)?,
        text: f(TEXT)?,
        kind: f(KIND)?,
        tag: f(TAG)?,
        lang: f(LANG)?,
        published: f(PUBLISHED)?,
        added: f(ADDED)?,
    })
}

/// The analyzer the text fields of `schema` were built with.
pub(crate) fn schema_analyzer(schema: &Schema) -> Option<String> {
    let field = schema.get_field(TEXT).ok()?;
    match schema.get_field_entry(field).field_type() {
        tantivy::schema::FieldType::Str(options) => {
            options.get_indexing_options().map(|i| i.tokenizer().to_string())
        }
        _ => None,
    }
}
