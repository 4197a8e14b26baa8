//! `Content-Type` values: the media type, whether it says anything, the charset. Used by the
//! fetcher (which size limit applies), the page loader (which loader) and the feed parser.

/// The media type of a `Content-Type` value, lowercase, without parameters.
pub(crate) fn mime_of(content_type: &str) -> String {
    content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
}

/// Media types that say nothing about the content (or none at all).
pub(crate) fn is_generic_mime(mime: &str) -> bool {
    matches!(
        mime,
        "" | "application/octet-stream"
            | "binary/octet-stream"
            | "application/binary"
            | "application/unknown"
            | "application/x-download"
            | "application/force-download"
            | "application/download"
    )
}

/// The `charset` parameter of a `Content-Type` value.
pub(crate) fn charset_of(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("charset").then(|| v.trim().trim_matches(['"', '\'']).to_string())
    })
}
