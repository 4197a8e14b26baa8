//! Feeds in the catalog: the subscriptions, what each fetch returned (validators for conditional
//! GET, status, error), and the items each feed has delivered with the version of each item as the
//! feed described it, so a refresh adds only new or changed items.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Catalog, CatalogError, Result, now};

/// When a feed item's full article page is fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FullText {
    /// When the feed carries only a short summary and a link.
    #[default]
    Auto,
    /// For every item with a link.
    Always,
    /// Never: the item is what the feed carries.
    Never,
}

impl FullText {
    /// The name stored in the catalog and shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            FullText::Auto => "auto",
            FullText::Always => "always",
            FullText::Never => "never",
        }
    }
}

impl std::str::FromStr for FullText {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(FullText::Auto),
            "always" | "yes" | "on" => Ok(FullText::Always),
            "never" | "no" | "off" => Ok(FullText::Never),
            _ => Err(format!("unknown full-text mode {s:?} (one of auto, always, never)")),
        }
    }
}

/// What a user chooses for a feed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedSettings {
    /// Tags given to every item of the feed.
    pub tags: Vec<String>,
    /// When to fetch the full article page.
    pub full_text: FullText,
    /// Keep only the newest N items.
    pub keep_items: Option<u32>,
    /// Keep only items from the last D days.
    pub keep_days: Option<u32>,
}

/// A feed subscription as listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Feed {
    /// Feed id.
    pub id: i64,
    /// The feed's URL as subscribed.
    pub url: String,
    /// Title the feed gives itself, once fetched.
    pub title: Option<String>,
    /// The site the feed belongs to.
    pub site_url: Option<String>,
    /// Tags given to its items.
    pub tags: Vec<String>,
    /// When the full article page is fetched.
    pub full_text: FullText,
    /// Keep only the newest N items.
    pub keep_items: Option<u32>,
    /// Keep only items from the last D days.
    pub keep_days: Option<u32>,
    /// ETag of the last successful fetch.
    #[serde(skip)]
    pub etag: Option<String>,
    /// Last-Modified of the last successful fetch.
    #[serde(skip)]
    pub last_modified: Option<String>,
    /// When it was last fetched (RFC 3339).
    pub last_fetch_at: Option<String>,
    /// Outcome of the last fetch: `ok`, `not-modified` or `error`.
    pub last_status: Option<String>,
    /// The error line of the last fetch, when it failed.
    pub last_error: Option<String>,
    /// Items added by the last refresh.
    pub new: u32,
    /// Items of the feed in the library.
    pub items: u32,
    /// Items in the library not yet opened.
    pub unread: u32,
    /// When it was subscribed (RFC 3339).
    pub added_at: String,
}

impl Feed {
    /// The title, else the URL.
    pub fn display_name(&self) -> &str {
        self.title.as_deref().filter(|t| !t.trim().is_empty()).unwrap_or(&self.url)
    }

    /// The settings the feed was subscribed with.
    pub fn settings(&self) -> FeedSettings {
        FeedSettings {
            tags: self.tags.clone(),
            full_text: self.full_text,
            keep_items: self.keep_items,
            keep_days: self.keep_days,
        }
    }
}

/// An item a feed delivered, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedItemRecord {
    /// The item's key (GUID, else link).
    pub key: String,
    /// Its document, unless retention removed it.
    pub doc_id: Option<i64>,
    /// Version of the item as the feed described it.
    pub item_hash: String,
    /// Publication date, when the feed gave one.
    pub published: Option<String>,
    /// When lore first saw it (RFC 3339).
    pub first_seen: String,
}

/// What a fetch of a feed returned, to record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchRecord {
    /// `ok`, `not-modified` or `error`.
    pub status: String,
    /// The error line, when it failed.
    pub error: Option<String>,
    /// New validators (kept from the previous fetch when `None` and the status is not `ok`).
    pub etag: Option<String>,
    /// New validators (as `etag`).
    pub last_modified: Option<String>,
    /// Items added.
    pub new: u32,
    /// The feed's title, when it gave one.
    pub title: Option<String>,
    /// The feed's site, when it gave one.
    pub site_url: Option<String>,
}

const FEED_SELECT: &str =
    "SELECT f.id, f.url, f.title, f.site_url, f.tags, f.full_text, f.keep_items, f.keep_days,
    f.etag, f.last_modified, f.last_fetch_at, f.last_status, f.last_error, f.last_new, f.added_at,
    (SELECT COUNT(*) FROM feed_items i WHERE i.feed_id = f.id AND i.doc_id IS NOT NULL),
    (SELECT COUNT(*) FROM feed_items i WHERE i.feed_id = f.id AND i.doc_id IS NOT NULL AND i.read = 0)
    FROM feeds f";

fn feed_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Feed, String)> {
    let tags: String = r.get(4)?;
    let full_text: String = r.get(5)?;
    let feed = Feed {
        id: r.get(0)?,
        url: r.get(1)?,
        title: r.get(2)?,
        site_url: r.get(3)?,
        tags: Vec::new(),
        full_text: full_text.parse().unwrap_or_default(),
        keep_items: r.get(6)?,
        keep_days: r.get(7)?,
        etag: r.get(8)?,
        last_modified: r.get(9)?,
        last_fetch_at: r.get(10)?,
        last_status: r.get(11)?,
        last_error: r.get(12)?,
        new: r.get(13)?,
        added_at: r.get(14)?,
        items: r.get(15)?,
        unread: r.get(16)?,
    };
    Ok((feed, tags))
}

/// An item record from a row of (key, doc_id, item_hash, published, first_seen).
fn item_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FeedItemRecord> {
    Ok(FeedItemRecord {
        key: r.get(0)?,
        doc_id: r.get(1)?,
        item_hash: r.get(2)?,
        published: r.get(3)?,
        first_seen: r.get(4)?,
    })
}

impl Catalog {
    /// Subscribes to a feed, or updates the settings of an existing subscription (tags are merged).
    /// Returns the feed and whether it is new.
    pub fn add_feed(&self, url: &str, settings: &FeedSettings) -> Result<(Feed, bool)> {
        let existing = self.feed_by_url(url)?;
        let created = existing.is_none();
        let mut tags = existing.as_ref().map(|f| f.tags.clone()).unwrap_or_default();
        for t in &settings.tags {
            if !tags.contains(t) {
                tags.push(t.clone());
            }
        }
        tags.sort();
        self.conn
            .execute(
                "INSERT INTO feeds(url, tags, full_text, keep_items, keep_days, added_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(url) DO UPDATE SET tags = excluded.tags, full_text = excluded.full_text,
                   keep_items = excluded.keep_items, keep_days = excluded.keep_days",
                params![
                    url,
                    serde_json::to_string(&tags)?,
                    settings.full_text.as_str(),
                    settings.keep_items,
                    settings.keep_days,
                    now()
                ],
            )
            .map_err(CatalogError::classify)?;
        let feed = self.feed_by_url(url)?.ok_or_else(|| CatalogError::NotFound(url.to_string()))?;
        Ok((feed, created))
    }

    /// All feeds, in the order they were added.
    pub fn feeds(&self) -> Result<Vec<Feed>> {
        self.query_feeds(&format!("{FEED_SELECT} ORDER BY f.id"), &[])
    }

    /// The feed with this id.
    pub fn feed(&self, id: i64) -> Result<Option<Feed>> {
        Ok(self.query_feeds(&format!("{FEED_SELECT} WHERE f.id = ?1"), &[id.into()])?.into_iter().next())
    }

    /// The feed subscribed at exactly this URL.
    pub fn feed_by_url(&self, url: &str) -> Result<Option<Feed>> {
        Ok(self
            .query_feeds(&format!("{FEED_SELECT} WHERE f.url = ?1"), &[url.to_string().into()])?
            .into_iter()
            .next())
    }

    /// Feeds matching a user's spec: an id, an exact URL, else a case-insensitive part of the
    /// title or URL.
    pub fn find_feeds(&self, spec: &str) -> Result<Vec<Feed>> {
        let spec = spec.trim();
        if let Ok(id) = spec.parse::<i64>()
            && let Some(f) = self.feed(id)?
        {
            return Ok(vec![f]);
        }
        if let Some(f) = self.feed_by_url(spec)? {
            return Ok(vec![f]);
        }
        let needle = spec.to_lowercase();
        Ok(self
            .feeds()?
            .into_iter()
            .filter(|f| {
                f.url.to_lowercase().contains(&needle)
                    || f.title.as_deref().is_some_and(|t| t.to_lowercase().contains(&needle))
            })
            .collect())
    }

    fn query_feeds(&self, sql: &str, args: &[rusqlite::types::Value]) -> Result<Vec<Feed>> {
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), feed_from_row)?;
        let mut out = Vec::new();
        for row in rows {
            let (mut feed, tags) = row?;
            feed.tags = serde_json::from_str(&tags)?;
            out.push(feed);
        }
        Ok(out)
    }

    /// Items the feed has delivered, by key.
    pub fn feed_items(&self, feed_id: i64) -> Result<HashMap<String, FeedItemRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT key, doc_id, item_hash, published, first_seen FROM feed_items WHERE feed_id = ?1",
        )?;
        let rows = stmt.query_map([feed_id], item_from_row)?;
        let mut out = HashMap::new();
        for row in rows {
            let row = row?;
            out.insert(row.key.clone(), row);
        }
        Ok(out)
    }

    /// Records an item a feed delivered and the document it became. A changed item keeps the time
    /// it was first seen and becomes unread again.
    pub fn record_feed_item(
        &self,
        feed_id: i64,
        key: &str,
        doc_id: i64,
        item_hash: &str,
        published: Option<&str>,
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO feed_items(feed_id, key, doc_id, item_hash, published, first_seen)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(feed_id, key) DO UPDATE SET doc_id = excluded.doc_id,
                   item_hash = excluded.item_hash, published = excluded.published, read = 0",
                params![feed_id, key, doc_id, item_hash, published, now()],
            )
            .map_err(CatalogError::classify)?;
        Ok(())
    }

    /// Records the outcome of a fetch of a feed.
    pub fn record_feed_fetch(&self, feed_id: i64, rec: &FetchRecord) -> Result<()> {
        let keep_validators = rec.status != "ok";
        self.conn
            .execute(
                "UPDATE feeds SET last_fetch_at = ?2, last_status = ?3, last_error = ?4,
                   etag = CASE WHEN ?9 THEN etag ELSE ?5 END,
                   last_modified = CASE WHEN ?9 THEN last_modified ELSE ?6 END,
                   last_new = ?7,
                   title = COALESCE(?8, title),
                   site_url = COALESCE(?10, site_url)
                 WHERE id = ?1",
                params![
                    feed_id,
                    now(),
                    rec.status,
                    rec.error,
                    rec.etag,
                    rec.last_modified,
                    rec.new,
                    rec.title,
                    keep_validators,
                    rec.site_url
                ],
            )
            .map_err(CatalogError::classify)?;
        Ok(())
    }

    /// Applies a feed's retention: items beyond the newest `keep_items`, or first seen (or
    /// published) more than `keep_days` ago, lose their document. Their records stay, so a
    /// later refresh does not add them again. Returns the documents no other feed holds, for the
    /// caller to remove from the library.
    pub fn expire_feed_items(&self, feed: &Feed) -> Result<Vec<i64>> {
        if feed.keep_items.is_none() && feed.keep_days.is_none() {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare(
            "SELECT key, doc_id, COALESCE(published, first_seen) FROM feed_items
             WHERE feed_id = ?1 AND doc_id IS NOT NULL
             ORDER BY COALESCE(published, first_seen) DESC, first_seen DESC, key",
        )?;
        let rows: Vec<(String, i64, String)> = stmt
            .query_map([feed.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<std::result::Result<_, _>>()?;
        let cutoff = feed
            .keep_days
            .map(|d| chrono::Utc::now() - chrono::Duration::days(i64::from(d)))
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        let mut expired = Vec::new();
        for (i, (key, doc_id, date)) in rows.into_iter().enumerate() {
            let too_many = feed.keep_items.is_some_and(|n| i >= n as usize);
            let too_old = cutoff.as_deref().is_some_and(|c| date.as_str() < c);
            if too_many || too_old {
                expired.push((key, doc_id));
            }
        }
        let mut orphaned = Vec::new();
        for (key, doc_id) in expired {
            self.conn.execute(
                "UPDATE feed_items SET doc_id = NULL WHERE feed_id = ?1 AND key = ?2",
                params![feed.id, key],
            )?;
            if !self.doc_in_feeds(doc_id)? {
                orphaned.push(doc_id);
            }
        }
        Ok(orphaned)
    }

    /// Unsubscribes from a feed. Returns its documents that no other feed holds, for the caller
    /// to remove from the library (or keep).
    pub fn remove_feed(&self, feed_id: i64) -> Result<Vec<i64>> {
        let docs: Vec<i64> = {
            let mut stmt = self.conn.prepare(
                "SELECT DISTINCT doc_id FROM feed_items WHERE feed_id = ?1 AND doc_id IS NOT NULL",
            )?;
            stmt.query_map([feed_id], |r| r.get(0))?.collect::<std::result::Result<_, _>>()?
        };
        self.conn.execute("DELETE FROM feeds WHERE id = ?1", [feed_id]).map_err(CatalogError::classify)?;
        let mut orphaned = Vec::new();
        for doc_id in docs {
            if !self.doc_in_feeds(doc_id)? {
                orphaned.push(doc_id);
            }
        }
        Ok(orphaned)
    }

    fn doc_in_feeds(&self, doc_id: i64) -> Result<bool> {
        Ok(self
            .conn
            .query_row("SELECT 1 FROM feed_items WHERE doc_id = ?1 LIMIT 1", [doc_id], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Marks the feed items held by a document as read.
    pub fn mark_read(&self, doc_id: i64) -> Result<()> {
        self.conn
            .execute("UPDATE feed_items SET read = 1 WHERE doc_id = ?1 AND read = 0", [doc_id])
            .map_err(CatalogError::classify)?;
        Ok(())
    }

    /// The ids of documents that came from feed `feed_id`, newest first.
    pub fn feed_documents(&self, feed_id: i64) -> Result<Vec<i64>> {
        let mut stmt = self.conn.prepare(
            "SELECT doc_id FROM feed_items WHERE feed_id = ?1 AND doc_id IS NOT NULL
             ORDER BY COALESCE(published, first_seen) DESC",
        )?;
        Ok(stmt.query_map([feed_id], |r| r.get(0))?.collect::<std::result::Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog_with_doc(source: &str) -> (Catalog, i64) {
        let mut cat = Catalog::open_in_memory().unwrap();
        let d = super::super::tests::doc(source, "h", &["text"]);
        let id = super::super::tests::add(&mut cat, &d, &[]).doc_id();
        (cat, id)
    }

    #[test]
    fn subscribing_twice_merges_tags_and_keeps_one_feed() {
        let cat = Catalog::open_in_memory().unwrap();
        let s = FeedSettings { tags: vec!["news".into()], ..Default::default() };
        let (a, created) = cat.add_feed("https://example.org/feed.xml", &s).unwrap();
        assert!(created);
        let s2 = FeedSettings { tags: vec!["tech".into()], keep_items: Some(5), ..Default::default() };
        let (b, created) = cat.add_feed("https://example.org/feed.xml", &s2).unwrap();
        assert!(!created);
        assert_eq!(a.id, b.id);
        assert_eq!(b.tags, vec!["news".to_string(), "tech".to_string()]);
        assert_eq!(b.keep_items, Some(5));
        assert_eq!(cat.feeds().unwrap().len(), 1);
        assert_eq!(cat.find_feeds("example.org").unwrap().len(), 1);
        assert_eq!(cat.find_feeds(&a.id.to_string()).unwrap()[0].id, a.id);
        assert!(cat.find_feeds("nothing-like-it").unwrap().is_empty());
    }

    #[test]
    fn items_fetches_unread_counts_and_validators() {
        let (cat, doc) = catalog_with_doc("https://example.org/a");
        let (feed, _) = cat.add_feed("https://example.org/feed.xml", &FeedSettings::default()).unwrap();
        cat.record_feed_item(feed.id, "guid-a", doc, "h1", Some("2026-11-01")).unwrap();
        let ok = FetchRecord {
            status: "ok".into(),
            etag: Some("\"v1\"".into()),
            last_modified: Some("Sun, 01 Nov 2026 10:00:00 GMT".into()),
            new: 1,
            title: Some("Example".into()),
            ..Default::default()
        };
        cat.record_feed_fetch(feed.id, &ok).unwrap();
        let f = cat.feed(feed.id).unwrap().unwrap();
        assert_eq!((f.items, f.unread, f.new), (1, 1, 1));
        assert_eq!(f.etag.as_deref(), Some("\"v1\""));
        assert_eq!(f.display_name(), "Example");
        // A failed fetch keeps the validators and the title.
        let err =
            FetchRecord { status: "error".into(), error: Some("HTTP 500".into()), ..Default::default() };
        cat.record_feed_fetch(feed.id, &err).unwrap();
        let f = cat.feed(feed.id).unwrap().unwrap();
        assert_eq!(f.etag.as_deref(), Some("\"v1\""));
        assert_eq!(f.title.as_deref(), Some("Example"));
        assert_eq!(f.last_error.as_deref(), Some("HTTP 500"));
        cat.mark_read(doc).unwrap();
        assert_eq!(cat.feed(feed.id).unwrap().unwrap().unread, 0);
        let items = cat.feed_items(feed.id).unwrap();
        assert_eq!(items["guid-a"].item_hash, "h1");
        // A changed item is unread again.
        cat.record_feed_item(feed.id, "guid-a", doc, "h2", Some("2026-11-01")).unwrap();
        assert_eq!(cat.feed(feed.id).unwrap().unwrap().unread, 1);
    }

    #[test]
    fn retention_and_removal_spare_documents_other_feeds_hold() {
        let (cat, doc) = catalog_with_doc("https://example.org/a");
        let (one, _) = cat.add_feed("https://example.org/one.xml", &FeedSettings::default()).unwrap();
        let (two, _) = cat.add_feed("https://example.org/two.xml", &FeedSettings::default()).unwrap();
        cat.record_feed_item(one.id, "a", doc, "h", Some("2020-01-01")).unwrap();
        cat.record_feed_item(two.id, "a", doc, "h", Some("2020-01-01")).unwrap();
        let mut one = cat.feed(one.id).unwrap().unwrap();
        one.keep_days = Some(30);
        assert!(cat.expire_feed_items(&one).unwrap().is_empty(), "the other feed still holds it");
        assert_eq!(cat.feed_items(one.id).unwrap()["a"].doc_id, None, "the record stays");
        assert_eq!(cat.remove_feed(two.id).unwrap(), vec![doc]);
        assert!(cat.feed(two.id).unwrap().is_none());
    }
}
