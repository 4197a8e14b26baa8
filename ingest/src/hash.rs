//! Content hashing: a document's version is the BLAKE3 hash of its bytes.

/// BLAKE3 hash of `bytes` as lowercase hex.
pub fn content_hash(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn hash_is_stable_hex() {
        let h = super::content_hash(b"lore");
        assert_eq!(h.len(), 64);
        assert_eq!(h, super::content_hash(b"lore"));
        assert_ne!(h, super::content_hash(b"lore "));
    }
}
