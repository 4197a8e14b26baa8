//! Feed bytes through the feed parser, then every item through the news document builder, as
//! `lore news` reads a feed whose items carry their text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lore_ingest::web::{item_document, parse_feed};

const FEED_URL: &str = "https://example.com/blog/feed.xml";

fuzz_target!(|data: &[u8]| {
    // Panics contained by `lore_ingest::guard` are results, not crashes.
    lore_ingest::guard::install_quiet_panic_hook();
    let Ok(feed) = parse_feed(data, FEED_URL) else { return };
    for item in &feed.items {
        let _ = item.needs_full_text();
        let _ = item_document(&feed, FEED_URL, item, None);
    }
});
