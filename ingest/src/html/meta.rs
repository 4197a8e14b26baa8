//! Document metadata from HTML: title, authors, publication date and language, read from
//! `<title>`, `<meta>` tags (Open Graph, article:*, Dublin Core), JSON-LD and `<html lang>`.
//! Also the normalising helpers for language tags and dates that the EPUB loader shares.

use scraper::Html;

/// Metadata found in a page's markup.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct PageMeta {
    /// `og:title`, else `twitter:title`, else JSON-LD headline.
    pub og_title: Option<String>,
    /// The `<title>` element's text.
    pub title_tag: Option<String>,
    /// The text of the first `h1`.
    pub first_h1: Option<String>,
    /// The id of the first `h1`.
    pub first_h1_id: Option<String>,
    /// Site name from `og:site_name` or `application-name`.
    pub site_name: Option<String>,
    /// Authors from `meta name=author`, `article:author`, `dc.creator`, JSON-LD.
    pub authors: Vec<String>,
    /// Publication date as written in the markup.
    pub published: Option<String>,
    /// Language from `<html lang>`, `content-language` or `og:locale`, normalised.
    pub language: Option<String>,
    /// The `generator` meta tag.
    pub generator: Option<String>,
    /// The publisher's name from JSON-LD (`publisher.name` of the article).
    pub publisher: Option<String>,
}

/// Reads a page's metadata in one pass over its elements.
pub(crate) fn extract(doc: &Html) -> PageMeta {
    let mut m = PageMeta::default();
    let mut twitter_title = None;
    let mut lang_meta = None;
    let mut published_candidates: Vec<(u8, String)> = Vec::new();
    let mut jsonld = Vec::new();
    let root = doc.root_element();
    if let Some(lang) = root.value().attr("lang").or_else(|| root.value().attr("xml:lang")) {
        m.language = normalise_language(lang);
    }
    for el in root.descendent_elements() {
        let v = el.value();
        match v.name() {
            "title" if m.title_tag.is_none() => {
                let t = collapse(&el.text().collect::<String>());
                if !t.is_empty() {
                    m.title_tag = Some(t);
                }
            }
            "h1" if m.first_h1.is_none() => {
                let t = collapse(&el.text().collect::<String>());
                let t = t.trim_end_matches(['¶', '#']).trim().to_string();
                if !t.is_empty() {
                    m.first_h1 = Some(t);
                    m.first_h1_id = v.attr("id").map(str::to_string);
                }
            }
            "script" if v.attr("type").is_some_and(|t| t.eq_ignore_ascii_case("application/ld+json")) => {
                jsonld.push(el.text().collect::<String>());
            }
            "time" => {
                let itemprop = v.attr("itemprop").unwrap_or_default();
                if itemprop.eq_ignore_ascii_case("datePublished")
                    && let Some(dt) = v.attr("datetime")
                {
                    published_candidates.push((2, dt.to_string()));
                }
            }
            "meta" => {
                let key = v
                    .attr("property")
                    .or_else(|| v.attr("name"))
                    .or_else(|| v.attr("itemprop"))
                    .or_else(|| v.attr("http-equiv"))
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                let Some(content) = v.attr("content").map(collapse).filter(|c| !c.is_empty()) else {
                    continue;
                };
                match key.as_str() {
                    "og:title" => {
                        m.og_title.get_or_insert(content);
                    }
                    "twitter:title" => {
                        twitter_title.get_or_insert(content);
                    }
                    "og:site_name" | "application-name" => {
                        m.site_name.get_or_insert(content);
                    }
                    "author" | "article:author" | "dc.creator" | "dcterms.creator" | "byl"
                    | "sailthru.author" | "parsely-author"
                        if !content.starts_with("http") =>
                    {
                        for a in split_authors(&content) {
                            if !m.authors.contains(&a) {
                                m.authors.push(a);
                            }
                        }
                    }
                    "article:published_time" | "datepublished" => published_candidates.push((0, content)),
                    "og:published_time" | "dc.date" | "dcterms.date" | "dc.date.issued"
                    | "dcterms.issued" | "publishdate" | "publish-date" | "pubdate" | "date"
                    | "sailthru.date" | "parsely-pub-date" | "article.published" | "published_time" => {
                        published_candidates.push((1, content))
                    }
                    "content-language" | "dc.language" => {
                        lang_meta.get_or_insert(content);
                    }
                    "og:locale" => {
                        lang_meta.get_or_insert(content);
                    }
                    "generator" => {
                        m.generator.get_or_insert(content);
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    for block in &jsonld {
        read_json_ld(block, &mut m, &mut published_candidates);
    }
    if m.og_title.is_none() {
        m.og_title = twitter_title;
    }
    if m.language.is_none() {
        m.language = lang_meta.as_deref().and_then(normalise_language);
    }
    published_candidates.sort_by_key(|(rank, _)| *rank);
    m.published = published_candidates.iter().find_map(|(_, d)| normalise_date(d));
    m
}

/// Reads headline, authors and datePublished from a JSON-LD block (an object, an array, or an
/// object with `@graph`).
fn read_json_ld(block: &str, m: &mut PageMeta, published: &mut Vec<(u8, String)>) {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(block.trim()) else { return };
    let mut stack = vec![&value];
    let mut seen = 0;
    while let Some(v) = stack.pop() {
        seen += 1;
        if seen > 200 {
            break;
        }
        match v {
            serde_json::Value::Array(items) => stack.extend(items.iter().rev()),
            serde_json::Value::Object(obj) => {
                if let Some(g) = obj.get("@graph") {
                    stack.push(g);
                }
                let ty = obj.get("@type").map(|t| t.to_string()).unwrap_or_default();
                let is_article =
                    ["Article", "NewsArticle", "BlogPosting", "Report", "WebPage", "TechArticle"]
                        .iter()
                        .any(|t| ty.contains(t));
                if !is_article {
                    continue;
                }
                if m.publisher.is_none() {
                    let name = match obj.get("publisher") {
                        Some(serde_json::Value::String(s)) => Some(s.as_str()),
                        Some(serde_json::Value::Object(o)) => o.get("name").and_then(|n| n.as_str()),
                        _ => None,
                    };
                    m.publisher = name.map(collapse).filter(|n| !n.is_empty() && !n.starts_with("http"));
                }
                if let Some(d) = obj.get("datePublished").and_then(|d| d.as_str()) {
                    published.push((1, d.to_string()));
                }
                if m.og_title.is_none()
                    && let Some(h) = obj.get("headline").and_then(|h| h.as_str())
                {
                    let h = collapse(h);
                    if !h.is_empty() {
                        m.og_title = Some(h);
                    }
                }
                if m.authors.is_empty()
                    && let Some(a) = obj.get("author")
                {
                    let list: Vec<&serde_json::Value> = match a {
                        serde_json::Value::Array(xs) => xs.iter().collect(),
                        other => vec![other],
                    };
                    for a in list {
                        let name = match a {
                            serde_json::Value::String(s) => Some(s.as_str()),
                            serde_json::Value::Object(o) => o.get("name").and_then(|n| n.as_str()),
                            _ => None,
                        };
                        if let Some(name) =
                            name.map(collapse).filter(|n| !n.is_empty() && !n.starts_with("http"))
                            && !m.authors.contains(&name)
                        {
                            m.authors.push(name);
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// Collapses runs of whitespace to single spaces and trims.
pub(crate) fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Splits a byline into author names: drops a leading "By", splits on commas and "and".
pub(crate) fn split_authors(byline: &str) -> Vec<String> {
    let mut s = collapse(byline);
    for prefix in ["By ", "by ", "BY ", "Written by ", "Posted by "] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest.to_string();
        }
    }
    let s = s.replace(" and ", ",").replace(" & ", ",").replace(';', ",").replace(" | ", ",");
    let mut out: Vec<String> = Vec::new();
    for part in s.split(',') {
        let p = part.trim().trim_end_matches('.').trim();
        // A long piece is a sentence, not a name.
        if p.is_empty() || p.split_whitespace().count() > 5 || p.chars().count() > 60 {
            continue;
        }
        let p = p.to_string();
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// Normalises a language tag or name to an ISO 639-1 code: `en-US` -> `en`, `eng` -> `en`,
/// `English` -> `en`, `zh_CN` -> `zh`.
pub fn normalise_language(tag: &str) -> Option<String> {
    let tag = tag.trim();
    let primary = tag.split(['-', '_', ' ', ';', ',']).next()?.trim().to_ascii_lowercase();
    if primary.len() == 2 && primary.chars().all(|c| c.is_ascii_alphabetic()) {
        return Some(primary);
    }
    const THREE: &[(&str, &str)] = &[
        ("eng", "en"),
        ("deu", "de"),
        ("ger", "de"),
        ("fra", "fr"),
        ("fre", "fr"),
        ("spa", "es"),
        ("ita", "it"),
        ("por", "pt"),
        ("nld", "nl"),
        ("dut", "nl"),
        ("rus", "ru"),
        ("ukr", "uk"),
        ("pol", "pl"),
        ("ces", "cs"),
        ("cze", "cs"),
        ("swe", "sv"),
        ("dan", "da"),
        ("nor", "no"),
        ("nob", "nb"),
        ("fin", "fi"),
        ("tur", "tr"),
        ("zho", "zh"),
        ("chi", "zh"),
        ("cmn", "zh"),
        ("jpn", "ja"),
        ("kor", "ko"),
        ("ara", "ar"),
        ("heb", "he"),
        ("hin", "hi"),
        ("ell", "el"),
        ("gre", "el"),
        ("hun", "hu"),
        ("ron", "ro"),
        ("rum", "ro"),
        ("vie", "vi"),
        ("tha", "th"),
        ("ind", "id"),
        ("lat", "la"),
        ("cat", "ca"),
        ("lav", "lv"),
        ("ben", "bn"),
        ("mya", "my"),
        ("bur", "my"),
        ("nep", "ne"),
        ("fas", "fa"),
        ("per", "fa"),
    ];
    const NAMES: &[(&str, &str)] = &[
        ("english", "en"),
        ("german", "de"),
        ("deutsch", "de"),
        ("french", "fr"),
        ("français", "fr"),
        ("spanish", "es"),
        ("español", "es"),
        ("italian", "it"),
        ("portuguese", "pt"),
        ("dutch", "nl"),
        ("russian", "ru"),
        ("chinese", "zh"),
        ("japanese", "ja"),
        ("korean", "ko"),
        ("arabic", "ar"),
    ];
    THREE.iter().chain(NAMES).find(|(k, _)| *k == primary).map(|(_, v)| (*v).to_string())
}

/// Normalises a date to ISO 8601 (`YYYY-MM-DD` or an RFC 3339 date-time): accepts RFC 3339,
/// RFC 2822, `YYYY-MM-DD` with anything after it, `YYYY-MM` and `YYYY`. Anything else is `None`.
pub fn normalise_date(s: &str) -> Option<String> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(dt.to_rfc3339());
    }
    if let Ok(dt) = chrono::DateTime::parse_from_rfc2822(s) {
        return Some(dt.to_rfc3339());
    }
    let bytes = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| bytes.get(r.clone()).is_some_and(|b| b.iter().all(u8::is_ascii_digit));
    if digits(0..4) {
        let year = &s[..4];
        if bytes.get(4) == Some(&b'-') && digits(5..7) {
            if bytes.get(7) == Some(&b'-') && digits(8..10) {
                let date = &s[..10];
                if chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok() {
                    // A date-time without a zone, or with a space: keep the date.
                    if let Ok(dt) =
                        chrono::NaiveDateTime::parse_from_str(&s.replace(' ', "T"), "%Y-%m-%dT%H:%M:%S")
                    {
                        return Some(dt.format("%Y-%m-%dT%H:%M:%S").to_string());
                    }
                    return Some(date.to_string());
                }
                return None;
            }
            if s.len() == 7 {
                return Some(s.to_string());
            }
        }
        if s.len() == 4 {
            return Some(year.to_string());
        }
    }
    None
}

/// Cuts a site name off a page title: `"Programming FAQ — Python 3.11.4 documentation"` ->
/// `"Programming FAQ"`. The longest part around ` | `, ` — `, ` – `, ` - `, ` :: `, ` » ` is kept
/// when the others look like a site name (shorter, or equal to `site_name`).
pub(crate) fn strip_site_suffix(title: &str, site_name: Option<&str>) -> String {
    let title = collapse(title);
    for sep in [" | ", " — ", " – ", " :: ", " » ", " · ", " - "] {
        if !title.contains(sep) {
            continue;
        }
        let parts: Vec<&str> = title.split(sep).map(str::trim).filter(|p| !p.is_empty()).collect();
        if parts.len() < 2 {
            continue;
        }
        if let Some(site) = site_name {
            let kept: Vec<&str> = parts.iter().copied().filter(|p| !p.eq_ignore_ascii_case(site)).collect();
            if kept.len() < parts.len() && !kept.is_empty() {
                return kept.join(sep);
            }
        }
        // The first part is the title when it has at least a few words; a short lead piece (a
        // section name) gives way to the longest part.
        let first = parts[0];
        if first.split_whitespace().count() >= 2 || parts.len() == 2 {
            return first.to_string();
        }
        if let Some(longest) = parts.iter().max_by_key(|p| p.chars().count()) {
            return (*longest).to_string();
        }
    }
    title
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_normalise_to_two_letters() {
        assert_eq!(normalise_language("en-US").as_deref(), Some("en"));
        assert_eq!(normalise_language("zh_CN").as_deref(), Some("zh"));
        assert_eq!(normalise_language("eng").as_deref(), Some("en"));
        assert_eq!(normalise_language("German").as_deref(), Some("de"));
        assert_eq!(normalise_language("x-klingon"), None);
        assert_eq!(normalise_language(""), None);
    }

    #[test]
    fn dates_normalise_to_iso() {
        assert_eq!(normalise_date("2015-09-22").as_deref(), Some("2015-09-22"));
        assert_eq!(normalise_date("2023-11-06T10:00:00Z").as_deref(), Some("2023-11-06T10:00:00+00:00"));
        assert_eq!(normalise_date("2013-12-18 10:12:00").as_deref(), Some("2013-12-18T10:12:00"));
        assert_eq!(
            normalise_date("Tue, 1 Jul 2003 10:52:37 +0200").as_deref(),
            Some("2003-07-01T10:52:37+02:00")
        );
        assert_eq!(normalise_date("1915").as_deref(), Some("1915"));
        assert_eq!(normalise_date("2001-13-45"), None);
        assert_eq!(normalise_date("yesterday"), None);
    }

    #[test]
    fn site_suffixes_are_cut() {
        assert_eq!(
            strip_site_suffix("Programming FAQ — Python 3.11.4 documentation", None),
            "Programming FAQ"
        );
        assert_eq!(
            strip_site_suffix("Big news today | CNN Politics", Some("CNN Politics")),
            "Big news today"
        );
        assert_eq!(strip_site_suffix("No separator here", None), "No separator here");
    }

    #[test]
    fn bylines_split_into_names() {
        assert_eq!(split_authors("By Jane Doe and John Roe"), vec!["Jane Doe", "John Roe"]);
        assert_eq!(split_authors("Ann Lee, Bo Chan"), vec!["Ann Lee", "Bo Chan"]);
    }

    #[test]
    fn meta_tags_and_json_ld_are_read() {
        let doc = Html::parse_document(
            r#"<html lang="en-GB"><head><title>Story - Site</title>
            <meta property="og:title" content="The Story">
            <meta name="author" content="By Jane Doe">
            <script type="application/ld+json">{"@type":"NewsArticle","datePublished":"2020-01-02T03:04:05Z",
              "author":{"@type":"Person","name":"Jane Doe"}}</script></head><body><h1>Head</h1></body></html>"#,
        );
        let m = extract(&doc);
        assert_eq!(m.og_title.as_deref(), Some("The Story"));
        assert_eq!(m.title_tag.as_deref(), Some("Story - Site"));
        assert_eq!(m.first_h1.as_deref(), Some("Head"));
        assert_eq!(m.authors, vec!["Jane Doe"]);
        assert_eq!(m.published.as_deref(), Some("2020-01-02T03:04:05+00:00"));
        assert_eq!(m.language.as_deref(), Some("en"));
    }
}
