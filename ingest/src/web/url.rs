//! Web addresses: only http and https, normalised to one canonical form per page so that the
//! same article reached through a tracking link is the same document.

use url::Url;

use crate::error::{IngestError, Result};

/// Query parameters that only track where a click came from; dropped by [`normalise_url`].
const TRACKING_PARAMS: &[&str] = &["fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid"];

/// Parses `s` as an absolute http or https URL; anything else (another scheme, a bare word, a
/// path) is refused with [`IngestError::NotWebUrl`].
pub fn parse_web_url(s: &str) -> Result<Url> {
    let refuse = || IngestError::NotWebUrl { item: s.trim().to_string() };
    let url = Url::parse(s.trim()).map_err(|_| refuse())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(refuse());
    }
    Ok(url)
}

/// The canonical form of a web address, used as a web page's identity: scheme and host in
/// lowercase, the default port dropped, the fragment dropped, and tracking parameters
/// (`utm_*`, `fbclid`, `gclid`, ...) dropped from the query; everything else is kept as given.
/// Only http and https URLs are accepted.
pub fn normalise_url(s: &str) -> Result<String> {
    let mut url = parse_web_url(s)?;
    url.set_fragment(None);
    if url.query().is_some() {
        let kept: Vec<&str> = url
            .query()
            .unwrap_or_default()
            .split('&')
            .filter(|pair| !pair.is_empty() && !is_tracking(pair.split('=').next().unwrap_or_default()))
            .collect();
        let query = kept.join("&");
        url.set_query((!query.is_empty()).then_some(query.as_str()));
    }
    // `Url` already lowercases scheme and host and drops the scheme's default port.
    Ok(url.to_string())
}

fn is_tracking(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("utm_") || TRACKING_PARAMS.contains(&name.as_str())
}

/// The host of a URL without a leading `www.`, e.g. `example.org`.
pub(crate) fn site_of(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    let host = host.strip_prefix("www.").unwrap_or(host);
    (!host.is_empty()).then(|| host.to_string())
}

/// A title of last resort for a page: its URL's last path segment without its extension
/// (percent-decoded, dashes and underscores as spaces), else its host.
pub(crate) fn title_from_url(url: &Url) -> String {
    let segment = url
        .path_segments()
        .and_then(|mut segs| segs.rfind(|s| !s.is_empty()))
        .map(percent_decode)
        .unwrap_or_default();
    let stem = match segment.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= 5 => stem.to_string(),
        _ => segment,
    };
    let stem = stem.replace(['-', '_'], " ").trim().to_string();
    if stem.is_empty() { url.host_str().unwrap_or_default().to_string() } else { stem }
}

/// Resolves `href` against `base` (a feed's or page's URL); an href that is already absolute is
/// returned as is. `None` when it resolves to nothing usable.
pub(crate) fn resolve(base: Option<&Url>, href: &str) -> Option<String> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    match Url::parse(href) {
        Ok(u) => Some(u.to_string()),
        Err(url::ParseError::RelativeUrlWithoutBase) => base?.join(href).ok().map(|u| u.to_string()),
        Err(_) => None,
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
        {
            let hex = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
            let b = hex(bytes[i + 1]) * 16 + hex(bytes[i + 2]);
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_port_fragment_and_tracking() {
        let n = normalise_url("HTTPS://Example.ORG:443/a/B?id=7&utm_source=x&UTM_Medium=y&fbclid=z&q=r#top")
            .unwrap();
        assert_eq!(n, "https://example.org/a/B?id=7&q=r");
        assert_eq!(normalise_url("http://example.org:80").unwrap(), "http://example.org/");
        assert_eq!(normalise_url("http://example.org:8080/x").unwrap(), "http://example.org:8080/x");
        assert_eq!(normalise_url("https://x.org/p?utm_source=a&gclid=b").unwrap(), "https://x.org/p");
        assert_eq!(normalise_url("  https://x.org/p?a=1&&b=2 ").unwrap(), "https://x.org/p?a=1&b=2");
    }

    #[test]
    fn refuses_what_is_not_a_web_address() {
        for bad in
            ["file:///etc/passwd", "ftp://x.org/a", "moby-dick", "/tmp/a.html", "mailto:a@b.c", "", "http://"]
        {
            let err = normalise_url(bad).unwrap_err();
            assert_eq!(err.reason_code(), "not_web_url", "{bad}");
            assert!(err.to_string().contains("lore adds http and https URLs"), "{err}");
        }
        assert_eq!(
            normalise_url("ftp://x.org/a").unwrap_err().to_string(),
            "not a web address: ftp://x.org/a (lore adds http and https URLs)"
        );
    }

    #[test]
    fn titles_and_sites_from_urls() {
        let u = Url::parse("https://www.example.org/news/2024/big-story_today.html?x=1").unwrap();
        assert_eq!(title_from_url(&u), "big story today");
        assert_eq!(site_of(&u).as_deref(), Some("example.org"));
        let u = Url::parse("https://example.org/").unwrap();
        assert_eq!(title_from_url(&u), "example.org");
        let u = Url::parse("https://example.org/caf%C3%A9/").unwrap();
        assert_eq!(title_from_url(&u), "café");
    }

    #[test]
    fn resolves_relative_links() {
        let base = Url::parse("https://example.org/feeds/main.xml").unwrap();
        assert_eq!(resolve(Some(&base), "/a/b").as_deref(), Some("https://example.org/a/b"));
        assert_eq!(resolve(Some(&base), "c.html").as_deref(), Some("https://example.org/feeds/c.html"));
        assert_eq!(resolve(Some(&base), "https://x.org/y").as_deref(), Some("https://x.org/y"));
        assert_eq!(resolve(None, "c.html"), None);
        assert_eq!(resolve(Some(&base), "  "), None);
    }
}
