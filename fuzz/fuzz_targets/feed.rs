//! Feed bytes through the feed parser, then every item through the news document builder, as
//! `lore news` reads a feed whose items carry their text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lore_ingest::web::{item_document, parse_feed};

const FEED_URL: &str = "https://example.com/blog/feed.xml";

/// Panics on an internal error: a caught parser panic is a crash.
fn no_internal<T>(result: &lore_ingest::Result<T>) {
    if let Err(err) = result
        && err.reason_code() == "internal"
    {
        panic!("{err:?}");
    }
}

// No quiet panic hook: libFuzzer's hook aborts on every panic, one the guard catches in a
// third-party parser included. A caught panic is a crash, and so is its internal error.
fuzz_target!(|data: &[u8]| {
    let parsed = parse_feed(data, FEED_URL);
    no_internal(&parsed);
    let Ok(feed) = parsed else { return };
    for item in &feed.items {
        let _ = item.needs_full_text();
        no_internal(&item_document(&feed, FEED_URL, item, None));
    }
    let caught = lore_ingest::guard::take_caught();
    assert!(caught.is_empty(), "a parser panicked: {caught:?}");
});
