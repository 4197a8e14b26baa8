//! Rebuilding a damaged or missing cross-reference table.
//!
//! lopdf needs a readable cross-reference table (or stream) to find a file's objects. Files that
//! were truncated, edited by hand or badly concatenated often have a broken one while their
//! objects are intact. As viewers do, the objects are found by scanning for `N G obj` headers; a
//! fresh table and trailer pointing at them are appended, and the result is parsed again.

/// Largest object number accepted when rebuilding (the table has one 20-byte line per number).
const MAX_OBJECT_NUMBER: u32 = 2_000_000;

/// An object header found by scanning: object number, generation, byte offset of the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    number: u32,
    generation: u16,
    offset: usize,
}

/// The file with a rebuilt cross-reference table and trailer appended, or `None` when no
/// objects or no document catalog can be found.
pub fn rebuild_xref(bytes: &[u8]) -> Option<Vec<u8>> {
    let headers = object_headers(bytes);
    let max = headers.iter().map(|h| h.number).max()?;
    if max > MAX_OBJECT_NUMBER {
        return None;
    }
    let size = max as usize + 1;
    // Later definitions win, as with incremental updates.
    let mut table: Vec<Option<Header>> = vec![None; size];
    for h in &headers {
        table[h.number as usize] = Some(*h);
    }
    let root = last_reference(bytes, b"/Root").or_else(|| catalog_object(bytes, &headers))?;
    let info = last_reference(bytes, b"/Info");
    let encrypt = last_reference(bytes, b"/Encrypt");
    let id = last_id_array(bytes);

    let mut out = Vec::with_capacity(bytes.len() + size * 20 + 200);
    out.extend_from_slice(bytes);
    out.push(b'\n');
    let xref_at = out.len();
    out.extend_from_slice(format!("xref\n0 {size}\n").as_bytes());
    for entry in &table {
        let line = match entry {
            Some(h) if h.number != 0 => format!("{:010} {:05} n \n", h.offset, h.generation),
            _ => "0000000000 65535 f \n".to_string(),
        };
        out.extend_from_slice(line.as_bytes());
    }
    let mut trailer = format!("trailer\n<< /Size {size} /Root {} {} R", root.0, root.1);
    if let Some((n, g)) = info {
        trailer.push_str(&format!(" /Info {n} {g} R"));
    }
    if let Some((n, g)) = encrypt {
        trailer.push_str(&format!(" /Encrypt {n} {g} R"));
    }
    if let Some(id) = id {
        trailer.push_str(" /ID ");
        trailer.push_str(&id);
    }
    trailer.push_str(&format!(" >>\nstartxref\n{xref_at}\n%%EOF\n"));
    out.extend_from_slice(trailer.as_bytes());
    Some(out)
}

fn is_white(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t' | b'\x0c' | b'\0')
}

fn is_delimiter(b: u8) -> bool {
    is_white(b) || matches!(b, b'<' | b'>' | b'[' | b']' | b'(' | b')' | b'/' | b'%' | b'{' | b'}')
}

/// Every `N G obj` header in the file, in file order.
fn object_headers(bytes: &[u8]) -> Vec<Header> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = find(&bytes[from..], b"obj") {
        let at = from + found;
        from = at + 3;
        if bytes.get(at + 3).is_some_and(|&b| !is_delimiter(b)) {
            continue;
        }
        if let Some(h) = header_before(bytes, at) {
            out.push(h);
        }
    }
    out
}

/// Reads `N G ` backwards from the `obj` keyword at `at`.
fn header_before(bytes: &[u8], at: usize) -> Option<Header> {
    let mut i = at;
    let skip_white = |i: &mut usize| -> bool {
        let start = *i;
        while *i > 0 && is_white(bytes[*i - 1]) {
            *i -= 1;
        }
        *i < start
    };
    let digits = |i: &mut usize| -> Option<(usize, usize)> {
        let end = *i;
        while *i > 0 && bytes[*i - 1].is_ascii_digit() && end - *i < 10 {
            *i -= 1;
        }
        (*i < end).then_some((*i, end))
    };
    if !skip_white(&mut i) {
        return None;
    }
    let (gs, ge) = digits(&mut i)?;
    if !skip_white(&mut i) {
        return None;
    }
    let (ns, ne) = digits(&mut i)?;
    if ns > 0 && !is_delimiter(bytes[ns - 1]) {
        return None;
    }
    let number: u32 = std::str::from_utf8(&bytes[ns..ne]).ok()?.parse().ok()?;
    let generation: u16 = std::str::from_utf8(&bytes[gs..ge]).ok()?.parse().ok()?;
    Some(Header { number, generation, offset: ns })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// The reference after the last `key` (`/Root 1 0 R`) in the file.
fn last_reference(bytes: &[u8], key: &[u8]) -> Option<(u32, u16)> {
    let mut end = bytes.len();
    while let Some(at) = rfind(&bytes[..end], key) {
        end = at;
        if let Some(r) = reference_at(&bytes[at + key.len()..]) {
            return Some(r);
        }
    }
    None
}

/// Parses ` N G R` at the start of `rest`.
fn reference_at(rest: &[u8]) -> Option<(u32, u16)> {
    let text = String::from_utf8_lossy(&rest[..rest.len().min(32)]);
    if !text.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let mut parts = text
        .split(|c: char| c.is_ascii_whitespace() || matches!(c, '/' | '>' | '<'))
        .filter(|p| !p.is_empty());
    let n = parts.next()?.parse().ok()?;
    let g = parts.next()?.parse().ok()?;
    (parts.next()? == "R").then_some((n, g))
}

/// The object holding `/Type /Catalog`, for files whose trailer is lost.
fn catalog_object(bytes: &[u8], headers: &[Header]) -> Option<(u32, u16)> {
    let mut end = bytes.len();
    for _ in 0..100 {
        let Some(at) = rfind(&bytes[..end], b"/Catalog") else { break };
        end = at;
        let before = &bytes[..at];
        let Some(type_at) = rfind(before, b"/Type") else { continue };
        if !before[type_at + 5..].iter().all(|&b| is_white(b)) {
            continue;
        }
        if let Some(h) = headers.iter().rev().find(|h| h.offset < at) {
            return Some((h.number, h.generation));
        }
    }
    None
}

/// The text of the last `/ID [...]` array, when it is short and plain.
fn last_id_array(bytes: &[u8]) -> Option<String> {
    let at = rfind(bytes, b"/ID")?;
    let rest = &bytes[at + 3..];
    let open = rest.iter().position(|&b| !is_white(b))?;
    if rest[open] != b'[' {
        return None;
    }
    let close = rest[open..].iter().take(300).position(|&b| b == b']')?;
    let array = &rest[open..open + close + 1];
    array.is_ascii().then(|| String::from_utf8_lossy(array).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BROKEN: &[u8] = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n\
2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n\
3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>\nendobj\n\
xref\n0 4\nthis table is garbage\ntrailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n9999\n%%EOF\n";

    #[test]
    fn headers_are_found_and_endobj_is_not_one() {
        let h = object_headers(BROKEN);
        let numbers: Vec<u32> = h.iter().map(|h| h.number).collect();
        assert_eq!(numbers, [1, 2, 3]);
        assert_eq!(&BROKEN[h[1].offset..h[1].offset + 7], b"2 0 obj");
    }

    #[test]
    fn a_garbled_table_is_rebuilt_and_the_file_parses() {
        assert!(lopdf::Document::load_mem(BROKEN).is_err());
        let fixed = rebuild_xref(BROKEN).unwrap();
        let doc = lopdf::Document::load_mem(&fixed).unwrap();
        assert_eq!(doc.get_pages().len(), 1);
    }

    #[test]
    fn without_a_trailer_the_catalog_is_found_by_type() {
        let cut = &BROKEN[..BROKEN.windows(4).position(|w| w == b"xref").unwrap()];
        assert_eq!(last_reference(cut, b"/Root"), None);
        let fixed = rebuild_xref(cut).unwrap();
        let doc = lopdf::Document::load_mem(&fixed).unwrap();
        assert_eq!(doc.get_pages().len(), 1);
    }

    #[test]
    fn no_objects_no_rebuild() {
        assert_eq!(rebuild_xref(b"%PDF-1.4\nnothing here"), None);
    }
}
