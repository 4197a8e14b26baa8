//! Turning what a user typed, and a filter, into a tantivy query that cannot fail to parse.

use std::collections::BTreeSet;
use std::ops::Bound;

use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, Occur, Query, QueryParser, RangeQuery, TermQuery,
    TermSetQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TokenStream;
use tantivy::{Index, Searcher, Term};

use super::schema::{Fields, Group};
use super::{KeywordConfig, KeywordError, KeywordFilter};

/// The weight of the CJK groups of the languages a CJK query is not in (the Japanese group for a
/// Chinese query). BM25 weighs a term by its rarity within its own field, so one character pair
/// that is rare among Japanese chunks (`要求`) outscored five Chinese words found together in a
/// Chinese chunk: on the 12 Chinese queries of the multilingual tests, a weight of 1 put the
/// Japanese manual first for 3 of them, 0.25 put the right document first for all 12.
const OTHER_CJK_WEIGHT: f32 = 0.25;

/// The languages of the CJK groups.
const CJK_LANGUAGES: [&str; 3] = ["zh", "ja", "ko"];

/// The analysis groups that hold any text in `searcher`'s snapshot, the default group first; the
/// default group alone when none does. A query is analysed and looked up only in these: a library
/// in one language fills one group of the twenty-one, and each group searched costs a term lookup
/// per query word in its three fields in every segment.
pub(crate) fn populated_groups<'a>(fields: &'a Fields, searcher: &Searcher) -> Vec<&'a Group> {
    let holds_text = |field: Field| {
        searcher.segment_readers().iter().any(|segment| {
            segment.inverted_index(field).is_ok_and(|inverted| inverted.terms().num_terms() > 0)
        })
    };
    let mut groups: Vec<&Group> =
        fields.groups.iter().filter(|g| [g.text, g.title, g.heading].into_iter().any(holds_text)).collect();
    if groups.is_empty() {
        groups.push(&fields.groups[0]);
    }
    groups
}

/// The text fields searched, with their boosts: title, headings and text of each of `groups`,
/// each of which analyses the query with its own analyzer. For a query in Chinese, Japanese or
/// Korean, the other two's groups weigh [`OTHER_CJK_WEIGHT`].
fn boosted_fields(
    groups: &[&Group],
    config: &KeywordConfig,
    query_language: Option<&str>,
) -> Vec<(Field, f32)> {
    let query_cjk = query_language.filter(|l| CJK_LANGUAGES.contains(l));
    groups
        .iter()
        .flat_map(|g| {
            let other =
                query_cjk.is_some_and(|q| CJK_LANGUAGES.contains(&g.language.as_str()) && g.language != q);
            let w = if other { OTHER_CJK_WEIGHT } else { 1.0 };
            [(g.title, config.title_boost * w), (g.heading, config.heading_boost * w), (g.text, w)]
        })
        .collect()
}

/// Parses `text` with tantivy's query language (phrases, `+must`, `-not`, `AND`/`OR`, `field:`)
/// over the title, headings and text of `groups` with their boosts. Input the parser finds
/// fault with is taken as plain words instead, so no input is an error.
///
/// A query with Chinese, Japanese or Korean in it is taken as plain words: the parser would make
/// a run of CJK characters, which has no spaces, one phrase of all its words, and find only
/// text with those words side by side in that order.
pub(crate) fn user_query(
    index: &Index,
    groups: &[&Group],
    config: &KeywordConfig,
    text: &str,
) -> Result<Box<dyn Query>, KeywordError> {
    if super::analysis::has_cjk(text) {
        return plain_query(index, groups, config, text);
    }
    let boosts = boosted_fields(groups, config, None);
    let mut parser = QueryParser::for_index(index, boosts.iter().map(|(f, _)| *f).collect());
    for (field, boost) in boosts {
        parser.set_field_boost(field, boost);
    }
    // The parser is meant never to panic; should it, the plain-word reading is used.
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parser.parse_query_lenient(text)));
    match parsed {
        Ok((query, errors)) if errors.is_empty() => Ok(query),
        _ => plain_query(index, groups, config, text),
    }
}

/// Every word of `text` as an optional term in each field of `groups`, boosted per field.
pub(crate) fn plain_query(
    index: &Index,
    groups: &[&Group],
    config: &KeywordConfig,
    text: &str,
) -> Result<Box<dyn Query>, KeywordError> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let language = lore_ingest::query_language(text);
    for (field, boost) in boosted_fields(groups, config, language.as_deref()) {
        let mut analyzer = index.tokenizer_for_field(field).map_err(super::engine)?;
        let mut tokens = BTreeSet::new();
        let mut stream = analyzer.token_stream(text);
        while stream.advance() {
            tokens.insert(stream.token().text.clone());
        }
        for token in tokens {
            let term = TermQuery::new(Term::from_field_text(field, &token), IndexRecordOption::WithFreqs);
            clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(term), boost))));
        }
    }
    if clauses.is_empty() {
        return Ok(Box::new(EmptyQuery));
    }
    Ok(Box::new(BooleanQuery::new(clauses)))
}

/// `query` restricted by `filter`; the filter does not change scores.
pub(crate) fn filtered(query: Box<dyn Query>, fields: &Fields, filter: &KeywordFilter) -> Box<dyn Query> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut require = |q: Box<dyn Query>| clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0))));
    let text_terms = |field: Field, values: &[String]| {
        values.iter().map(|v| Term::from_field_text(field, v)).collect::<Vec<_>>()
    };
    if !filter.kinds.is_empty() {
        require(Box::new(TermSetQuery::new(text_terms(fields.kind, &filter.kinds))));
    }
    if !filter.tags.is_empty() {
        require(Box::new(TermSetQuery::new(text_terms(fields.tag, &filter.tags))));
    }
    if !filter.doc_ids.is_empty() {
        let terms = filter.doc_ids.iter().map(|id| Term::from_field_i64(fields.doc_id, *id));
        require(Box::new(TermSetQuery::new(terms)));
    }
    if filter.date_from.is_some() || filter.date_to.is_some() {
        let bound = |t: Option<i64>| match t {
            Some(t) => Bound::Included(Term::from_field_i64(fields.published, t)),
            None => Bound::Unbounded,
        };
        let lower = match filter.date_from {
            Some(t) => bound(Some(t)),
            // An open lower end still requires a date to be present.
            None => Bound::Included(Term::from_field_i64(fields.published, i64::MIN)),
        };
        require(Box::new(RangeQuery::new(lower, bound(filter.date_to))));
    }
    if let Some(lang) = &filter.lang {
        require(Box::new(TermQuery::new(Term::from_field_text(fields.lang, lang), IndexRecordOption::Basic)));
    }
    if clauses.is_empty() {
        return query;
    }
    clauses.insert(0, (Occur::Must, query));
    Box::new(BooleanQuery::new(clauses))
}
