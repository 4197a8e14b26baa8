//! Hiding credentials from every message lore shows: the user name and password of a URL
//! (`http://user:pass@host`) and the literal value of a configured key, wherever it appears (a
//! server that echoes `Authorization: Bearer sk-...` or the key in its error body). One
//! [`Redactor`] holds the secrets of a configuration; the chat client, the Qdrant client and the
//! binary each redact with one before a message leaves them.

/// What a hidden credential is replaced with.
pub const HIDDEN: &str = "<hidden>";

/// Secrets shorter than this are not hidden by value: replacing every occurrence of a one- or
/// two-character "key" would garble messages without hiding anything worth hiding.
const MIN_SECRET_CHARS: usize = 4;

/// The secrets of one configuration (API keys, passwords of URLs) to hide from messages.
#[derive(Clone, Default)]
pub struct Redactor {
    /// Literal values to hide, longest first (so a secret containing another is hidden whole).
    secrets: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor").field("secrets", &self.secrets.len()).finish()
    }
}

impl Redactor {
    /// A redactor that hides the credentials of URLs only (no secret values yet).
    pub fn new() -> Self {
        Redactor::default()
    }

    /// Also hides `value` (an API key) wherever it appears. An empty or very short value is
    /// ignored.
    pub fn with_secret(mut self, value: Option<&str>) -> Self {
        if let Some(v) = value.map(str::trim)
            && v.chars().count() >= MIN_SECRET_CHARS
            && !self.secrets.iter().any(|s| s == v)
        {
            self.secrets.push(v.to_string());
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
        self
    }

    /// Also hides the credentials of `url` wherever they appear, even outside a URL: its user
    /// name and password as written and percent-decoded, and the `user:password` pair as an
    /// HTTP Basic `Authorization` header carries it (base64).
    pub fn with_url(mut self, url: Option<&str>) -> Self {
        let Some(url) = url.map(str::trim) else { return self };
        let Some(userinfo) = userinfo_of(url) else { return self };
        let (user, password) = match userinfo.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            None => (userinfo, None),
        };
        // The user name alone is hidden only when it is the whole credential (a token as in
        // `https://TOKEN@host`); beside a password it is often a common word ("user").
        let mut values = vec![userinfo.to_string()];
        match password {
            Some(p) => {
                values.push(p.to_string());
                values.push(percent_decoded(p));
                values.push(base64(format!("{}:{}", percent_decoded(user), percent_decoded(p)).as_bytes()));
            }
            None => {
                values.push(percent_decoded(user));
                values.push(base64(format!("{}:", percent_decoded(user)).as_bytes()));
            }
        }
        for v in values {
            self = self.with_secret(Some(&v));
        }
        self
    }

    /// Whether this redactor hides any value besides the credentials of URLs.
    pub fn has_secrets(&self) -> bool {
        !self.secrets.is_empty()
    }

    /// `text` with the credentials of every URL in it and every secret value replaced by
    /// [`HIDDEN`].
    pub fn redact(&self, text: &str) -> String {
        let mut out = redact_urls(text);
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), HIDDEN);
            }
        }
        out
    }
}

/// The user name and password part of `url` (between `://` and the last `@` of the host part),
/// if it has one.
fn userinfo_of(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let at = authority.rfind('@')?;
    Some(&authority[..at]).filter(|u| !u.is_empty())
}

/// `url` with its user name and password, if any, replaced by [`HIDDEN`]:
/// `https://user:pass@host/x` becomes `https://<hidden>@host/x`.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) if scheme.is_empty() => format!("{HIDDEN}@{}", &rest[at + 1..]),
        Some(at) => format!("{scheme}://{HIDDEN}@{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// Whether a character can be part of a URL's authority (user, password, host, port) as it
/// appears in running text.
fn in_authority(c: char) -> bool {
    !(c.is_whitespace()
        || matches!(
            c,
            '/' | '?' | '#' | '"' | '\'' | '<' | '>' | '`' | '(' | ')' | '[' | ']' | '{' | '}' | '\\' | ','
        ))
}

/// `text` with the user name and password of every `scheme://user:pass@host` in it replaced by
/// [`HIDDEN`].
pub fn redact_urls(text: &str) -> String {
    if !text.contains("://") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let start = i + 3;
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let end = after.find(|c: char| !in_authority(c)).unwrap_or(after.len());
        match after[..end].rfind('@') {
            Some(at) if at > 0 => {
                out.push_str(HIDDEN);
                out.push_str(&after[at..end]);
            }
            _ => out.push_str(&after[..end]),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// `s` with its `%XX` escapes decoded (as a URL's user name and password are sent).
fn percent_decoded(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Standard base64 with padding, as an HTTP Basic `Authorization` header carries credentials.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(redact_url("http://localhost:6334"), "http://localhost:6334");
        assert_eq!(redact_url("https://a:b@host:1/x@y"), "https://<hidden>@host:1/x@y");
        assert_eq!(redact_url("https://token@host/v1"), "https://<hidden>@host/v1");
        assert_eq!(redact_url("http://host/v1?u=a@b"), "http://host/v1?u=a@b");
    }

    #[test]
    fn credentials_of_urls_in_running_text_are_hidden() {
        assert_eq!(
            redact_urls("chat model at http://me:pw@127.0.0.1:8/v1 answered 401 (see https://x.org/a@b)"),
            "chat model at http://<hidden>@127.0.0.1:8/v1 answered 401 (see https://x.org/a@b)"
        );
        assert_eq!(redact_urls("\"https://u:p@h\", mail a@b.c"), "\"https://<hidden>@h\", mail a@b.c");
        assert_eq!(redact_urls("no url: a@b"), "no url: a@b");
        assert_eq!(redact_urls("x://"), "x://");
    }

    #[test]
    fn secret_values_are_hidden_wherever_they_appear() {
        let r = Redactor::new().with_secret(Some("sk-abc123")).with_url(Some("http://me:p%40ss@host:1/v1"));
        let text = "You sent Authorization: Bearer sk-abc123 and Basic bWU6cEBzcw== for me:p%40ss, \
                    i.e. p@ss; {\"key\":\"sk-abc123\"}";
        let shown = r.redact(text);
        for secret in ["sk-abc123", "p%40ss", "p@ss", "bWU6cEBzcw=="] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("Bearer <hidden>"), "{shown}");
        // The user name beside a password is no secret: the word stays readable elsewhere.
        let r = Redactor::new().with_url(Some("http://user:s3cret-pw@h/"));
        assert_eq!(r.redact("other users; s3cret-pw"), "other users; <hidden>");
        let r = Redactor::new().with_url(Some("https://tok-123456@h/"));
        assert_eq!(r.redact("token tok-123456"), "token <hidden>");
        assert!(r.has_secrets());
        // Short values are not hidden by value; nothing at all is not a secret.
        let r = Redactor::new().with_secret(Some("ab")).with_secret(Some("  ")).with_secret(None);
        assert!(!r.has_secrets());
        assert_eq!(r.redact("a b ab"), "a b ab");
        assert!(!format!("{:?}", Redactor::new().with_secret(Some("sk-abc123"))).contains("sk-abc"));
    }

    #[test]
    fn base64_is_standard() {
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64(b"me:p@ss"), "bWU6cEBzcw==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b""), "");
    }
}
