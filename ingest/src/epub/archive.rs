//! Checks on the EPUB's zip container before any parser reads it: that it is a zip, that no
//! entry and not the whole archive decompresses to more than a cap (zip bombs), and that its
//! content documents are not DRM-encrypted.

use std::io::{Cursor, Read, Write};

use crate::error::{IngestError, Result};

/// Most bytes one entry may decompress to.
pub(crate) const MAX_ENTRY_BYTES: u64 = 256 * 1024 * 1024;
/// Most bytes all entries together may decompress to.
pub(crate) const MAX_TOTAL_BYTES: u64 = 512 * 1024 * 1024;
/// Most entries an archive may hold.
pub(crate) const MAX_ENTRIES: usize = 50_000;

/// Encryption algorithms used only to obfuscate embedded fonts; content under them is readable.
const FONT_OBFUSCATION: &[&str] = &["http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"];

/// A writer that only counts.
struct Counter(u64);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub(crate) fn corrupt(item: &str, reason: impl Into<String>) -> IngestError {
    IngestError::Corrupt { item: item.to_string(), format: "EPUB", reason: reason.into() }
}

/// Decompresses every entry to nowhere, counting, and fails when the archive is not a zip, holds
/// too many entries, or decompresses past [`MAX_ENTRY_BYTES`] or [`MAX_TOTAL_BYTES`]. Entries
/// that cannot be read are passed over here; reading them later fails on its own. The zip
/// reader's calls run under [`crate::guard::catch`].
pub(crate) fn check(bytes: &[u8], item: &str) -> Result<()> {
    let mut zip = crate::guard::catch(item, "EPUB parser", || zip::ZipArchive::new(Cursor::new(bytes)))?
        .map_err(|e| corrupt(item, format!("not a zip archive ({e})")))?;
    if zip.len() > MAX_ENTRIES {
        return Err(corrupt(
            item,
            format!("{} entries, more than the {MAX_ENTRIES} an EPUB may hold here", zip.len()),
        ));
    }
    let mut total = 0u64;
    let mut encryption_xml = None;
    for i in 0..zip.len() {
        let archive = &mut zip;
        let Ok(mut entry) = crate::guard::catch(item, "EPUB parser", move || archive.by_index(i))? else {
            continue;
        };
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        let is_encryption = name == "META-INF/encryption.xml";
        let mut counter = Counter(0);
        let mut keep = Vec::new();
        let copied = crate::guard::catch(item, "EPUB parser", || {
            if is_encryption {
                (&mut entry).take(MAX_ENTRY_BYTES + 1).read_to_end(&mut keep).map(|n| n as u64)
            } else {
                std::io::copy(&mut (&mut entry).take(MAX_ENTRY_BYTES + 1), &mut counter)
            }
        })?;
        let n = match copied {
            Ok(n) => n,
            // A damaged entry: it fails again if a chapter needs it.
            Err(_) => continue,
        };
        if n > MAX_ENTRY_BYTES {
            return Err(corrupt(
                item,
                format!("entry {name} decompresses to more than {} MB", MAX_ENTRY_BYTES >> 20),
            ));
        }
        total += n;
        if total > MAX_TOTAL_BYTES {
            return Err(corrupt(
                item,
                format!("decompresses to more than {} MB in all", MAX_TOTAL_BYTES >> 20),
            ));
        }
        if is_encryption {
            encryption_xml = Some(String::from_utf8_lossy(&keep).into_owned());
        }
    }
    if let Some(xml) = encryption_xml
        && encrypts_content(&xml)
    {
        return Err(IngestError::Encrypted { item: item.to_string() });
    }
    Ok(())
}

/// Whether `META-INF/encryption.xml` encrypts something other than fonts with a real cipher
/// (DRM), as opposed to the font obfuscation that many EPUBs use.
fn encrypts_content(xml: &str) -> bool {
    // Each <EncryptedData> names its algorithm and the file it covers.
    for block in xml.split("EncryptedData").skip(1) {
        let algorithm = attr_value(block, "Algorithm").unwrap_or_default();
        let uri =
            attr_value(block.split("CipherReference").nth(1).unwrap_or_default(), "URI").unwrap_or_default();
        if uri.is_empty() {
            continue;
        }
        let is_font =
            [".ttf", ".otf", ".woff", ".woff2"].iter().any(|e| uri.to_ascii_lowercase().ends_with(e));
        let obfuscated = FONT_OBFUSCATION.contains(&algorithm.as_str());
        if !is_font && !obfuscated {
            return true;
        }
    }
    false
}

fn attr_value(s: &str, name: &str) -> Option<String> {
    let start = s.find(&format!("{name}="))? + name.len() + 1;
    let rest = &s[start..];
    let quote = rest.chars().next()?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    let end = rest[1..].find(quote)?;
    Some(rest[1..1 + end].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn font_obfuscation_is_not_drm() {
        let fonts = r#"<encryption><EncryptedData><EncryptionMethod Algorithm="http://www.idpf.org/2008/embedding"/>
            <CipherData><CipherReference URI="fonts/a.otf"/></CipherData></EncryptedData></encryption>"#;
        assert!(!encrypts_content(fonts));
        let drm = r#"<encryption><EncryptedData><EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
            <CipherData><CipherReference URI="OEBPS/ch1.xhtml"/></CipherData></EncryptedData></encryption>"#;
        assert!(encrypts_content(drm));
    }
}
