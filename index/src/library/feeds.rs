//! Web pages and feeds into the library: `lore add URL`, subscriptions, and feed refresh that
//! adds only new or changed items.
//!
//! Fetching runs on tokio tasks (so a slow host never holds up the others, and requests keep
//! going while the library embeds what already arrived); writing to the library happens on the
//! caller's task, one document at a time, as for files. These functions need a multi-threaded
//! tokio runtime.

use std::path::Path;
use std::sync::Arc;

use lore_ingest::web::{self, Fetched, Fetcher, ParsedFeed, Validators};
use lore_ingest::{Document, IngestError};
use serde::Serialize;
use tokio::sync::Semaphore;

use super::{AddEvent, AddReport, ItemOutcome, Library};
use crate::catalog::{Feed, FeedSettings, FetchRecord, FullText};
use crate::{Error, Result};

/// Progress of a feed refresh.
#[derive(Debug, Clone)]
pub enum FeedEvent<'a> {
    /// The refresh starts on this many feeds.
    Planned {
        /// Feeds to refresh.
        feeds: usize,
    },
    /// A feed was fetched and compared with what the library holds.
    Fetched {
        /// The feed.
        feed: &'a Feed,
        /// Items to add or update.
        changed: usize,
        /// Items the feed lists in all.
        listed: usize,
    },
    /// One item is done.
    Item {
        /// The feed.
        feed: &'a Feed,
        /// What happened.
        outcome: &'a ItemOutcome,
    },
    /// A feed is done.
    Done {
        /// Its report.
        report: &'a FeedReport,
    },
}

/// What a refresh did to one feed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FeedReport {
    /// Feed id.
    pub feed: i64,
    /// The feed's URL.
    pub url: String,
    /// The feed's title, when known.
    pub title: Option<String>,
    /// `ok`, `not-modified` or `error`.
    pub status: String,
    /// The error line, when the feed failed.
    pub error: Option<String>,
    /// Items the feed lists.
    pub listed: usize,
    /// New items added.
    pub added: usize,
    /// Changed items updated.
    pub updated: usize,
    /// Items listed and already in the library unchanged.
    pub unchanged: usize,
    /// Items that could not be added, one line each.
    pub failed: Vec<String>,
    /// Items added from the feed's summary because their page could not be fetched.
    pub warnings: Vec<String>,
    /// Items removed by the feed's retention.
    pub expired: usize,
}

/// Totals of a refresh.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RefreshReport {
    /// Per feed, in the order given.
    pub feeds: Vec<FeedReport>,
    /// New items across feeds.
    pub added: usize,
    /// Updated items across feeds.
    pub updated: usize,
    /// Feeds that failed.
    pub failed_feeds: usize,
    /// Items that failed across feeds.
    pub failed_items: usize,
}

impl Library {
    /// Subscribes to the feed at `url` (normalised; only http and https), or updates the settings
    /// of an existing subscription. Nothing is fetched: call [`Library::refresh_feeds`].
    pub fn subscribe(&self, url: &str, settings: &FeedSettings) -> Result<(Feed, bool)> {
        let url = web::normalise_url(url)?;
        Ok(self.catalog().add_feed(&url, settings)?)
    }

    /// Unsubscribes from a feed. Its items are removed from the library too, unless `keep_items`
    /// or another feed also holds them. Returns the number of documents removed.
    pub fn unsubscribe(&mut self, feed: &Feed, keep_items: bool) -> Result<usize> {
        let orphaned = self.catalog().remove_feed(feed.id)?;
        if keep_items {
            return Ok(0);
        }
        for doc in &orphaned {
            self.remove(*doc)?;
        }
        Ok(orphaned.len())
    }

    /// Fetches web pages and adds them, tagged with `tags`; one failing URL never stops the
    /// others. Progress is reported as for files, with the URL as the path.
    pub async fn add_urls(
        &mut self,
        fetcher: &Fetcher,
        urls: &[String],
        tags: &[String],
        progress: &mut dyn FnMut(AddEvent<'_>),
    ) -> Result<AddReport> {
        self.indexes_usable()?;
        let mut report = AddReport::default();
        progress(AddEvent::Planned { total: urls.len(), skipped: 0 });
        let tasks: Vec<_> = urls
            .iter()
            .map(|url| {
                let (fetcher, url, load) = (fetcher.clone(), url.clone(), self.load_options().clone());
                tokio::spawn(async move { web::fetch_page(&fetcher, &url, &load).await })
            })
            .collect();
        for (index, (url, task)) in urls.iter().zip(tasks).enumerate() {
            let path = Path::new(url.as_str());
            progress(AddEvent::Started { index, path });
            let loaded = task.await.unwrap_or_else(|e| Err(panicked(url, e)));
            let outcome = match loaded {
                Ok(doc) => self.add_item(&doc, tags)?,
                Err(e) => ItemOutcome::Failed { code: e.reason_code(), message: e.to_string() },
            };
            report.count(&outcome);
            progress(AddEvent::Finished { index, path, outcome: &outcome });
        }
        self.embed_pending(&mut |done, total| progress(AddEvent::Vectors { done, total }))?;
        Ok(report)
    }

    /// Refreshes feeds: a conditional GET of each (all fetched at once, a few per host), then new
    /// and changed items are added (with their full article page when the feed carries only a
    /// summary and the feed's setting asks for it), the fetch is recorded, and retention applied.
    /// A failing feed is reported and the others go on.
    ///
    /// Article pages are links the feed chose: they are fetched with
    /// [`Fetcher::get_linked`](lore_ingest::web::Fetcher::get_linked), so a private address is
    /// refused (the item keeps the feed's summary, with a warning), and at most
    /// [`FetchOptions::item_fetches`](lore_ingest::web::FetchOptions::item_fetches) at once.
    pub async fn refresh_feeds(
        &mut self,
        fetcher: &Fetcher,
        feeds: &[Feed],
        progress: &mut dyn FnMut(FeedEvent<'_>),
    ) -> Result<RefreshReport> {
        self.indexes_usable()?;
        progress(FeedEvent::Planned { feeds: feeds.len() });
        let fetches: Vec<_> = feeds
            .iter()
            .map(|feed| {
                let fetcher = fetcher.clone();
                let url = feed.url.clone();
                let validators =
                    Validators { etag: feed.etag.clone(), last_modified: feed.last_modified.clone() };
                tokio::spawn(async move {
                    let fetched = fetcher.get(&url, Some(&validators)).await?;
                    match fetched {
                        Fetched::NotModified { .. } => Ok(None),
                        Fetched::Body(resp) => {
                            let parsed = web::parse_feed(&resp.bytes, &url)?;
                            Ok(Some((parsed, resp.etag, resp.last_modified)))
                        }
                    }
                })
            })
            .collect();
        // Article pages fetched at once across the refresh, whatever their hosts.
        let item_gate = Arc::new(Semaphore::new(fetcher.options().item_fetches.max(1)));
        let mut total = RefreshReport::default();
        for (feed, task) in feeds.iter().zip(fetches) {
            let fetched: std::result::Result<_, IngestError> =
                task.await.unwrap_or_else(|e| Err(panicked(&feed.url, e)));
            let report = match fetched {
                Ok(Some((parsed, etag, last_modified))) => {
                    let fetched = (parsed, etag, last_modified);
                    self.refresh_items(fetcher, &item_gate, feed, fetched, progress).await?
                }
                Ok(None) => {
                    let rec = FetchRecord { status: "not-modified".into(), ..Default::default() };
                    self.catalog().record_feed_fetch(feed.id, &rec)?;
                    let mut report = FeedReport::for_feed(feed, "not-modified");
                    report.expired = self.apply_retention(feed)?;
                    report
                }
                Err(e) => {
                    let line = e.to_string();
                    let rec = FetchRecord {
                        status: "error".into(),
                        error: Some(line.clone()),
                        ..Default::default()
                    };
                    self.catalog().record_feed_fetch(feed.id, &rec)?;
                    let mut report = FeedReport::for_feed(feed, "error");
                    report.error = Some(line);
                    report
                }
            };
            total.added += report.added;
            total.updated += report.updated;
            total.failed_items += report.failed.len();
            total.failed_feeds += usize::from(report.status == "error");
            progress(FeedEvent::Done { report: &report });
            total.feeds.push(report);
        }
        self.embed_pending(&mut |_, _| {})?;
        Ok(total)
    }

    /// Adds a fetched feed's new and changed items (the feed, its `ETag` and `Last-Modified`),
    /// fetching their article pages as links the feed chose, at most `item_gate`'s permits at once.
    async fn refresh_items(
        &mut self,
        fetcher: &Fetcher,
        item_gate: &Arc<Semaphore>,
        feed: &Feed,
        (parsed, etag, last_modified): (ParsedFeed, Option<String>, Option<String>),
        progress: &mut dyn FnMut(FeedEvent<'_>),
    ) -> Result<FeedReport> {
        let mut report = FeedReport::for_feed(feed, "ok");
        report.title = parsed.title.clone().or(report.title);
        report.listed = parsed.items.len();
        let known = self.catalog().feed_items(feed.id)?;
        // Items the library does not hold in this version. An item whose document retention or
        // the user removed stays removed.
        let mut seen = std::collections::HashSet::new();
        let changed: Vec<_> = parsed
            .items
            .iter()
            .filter(|item| seen.insert(item.key.clone()))
            .filter(|item| match known.get(&item.key) {
                Some(rec) => rec.doc_id.is_some() && rec.item_hash != item.hash,
                None => true,
            })
            .collect();
        report.unchanged = seen.len() - changed.len();
        progress(FeedEvent::Fetched { feed, changed: changed.len(), listed: parsed.items.len() });
        let pages: Vec<_> = changed
            .iter()
            .map(|item| {
                let wanted = match feed.full_text {
                    FullText::Always => item.link.is_some(),
                    FullText::Auto => item.needs_full_text(),
                    FullText::Never => false,
                };
                let link = item.link.clone().filter(|_| wanted);
                let (fetcher, load) = (fetcher.clone(), self.load_options().clone());
                let (gate, from) = (item_gate.clone(), feed.url.clone());
                link.map(|link| {
                    tokio::spawn(async move {
                        let _permit = gate.acquire_owned().await;
                        web::fetch_linked_page(&fetcher, &link, &from, &load).await
                    })
                })
            })
            .collect();
        for (item, page) in changed.into_iter().zip(pages) {
            let page = match page {
                Some(task) => {
                    let link = item.link.as_deref().unwrap_or(&feed.url);
                    match task.await.unwrap_or_else(|e| Err(panicked(link, e))) {
                        Ok(doc) => Some(doc),
                        Err(e) => {
                            report.warnings.push(format!("{e} (kept the feed's summary)"));
                            None
                        }
                    }
                }
                None => None,
            };
            let outcome = match web::item_document(&parsed, &feed.url, item, page) {
                Ok(doc) => {
                    let outcome = self.add_item(&doc, &feed.tags)?;
                    if let ItemOutcome::Added { doc_id, .. }
                    | ItemOutcome::Updated { doc_id, .. }
                    | ItemOutcome::Unchanged { doc_id } = &outcome
                    {
                        self.catalog().record_feed_item(
                            feed.id,
                            &item.key,
                            *doc_id,
                            &item.hash,
                            item.published.as_deref(),
                        )?;
                    }
                    outcome
                }
                Err(e) => ItemOutcome::Failed { code: e.reason_code(), message: e.to_string() },
            };
            match &outcome {
                // An item new to this feed whose document another feed (or `lore add`) brought.
                ItemOutcome::Added { .. } => report.added += 1,
                ItemOutcome::Unchanged { .. } if !known.contains_key(&item.key) => report.added += 1,
                ItemOutcome::Updated { .. }
                | ItemOutcome::Unchanged { .. }
                | ItemOutcome::SameContent { .. } => report.updated += 1,
                ItemOutcome::Failed { message, .. } => report.failed.push(message.clone()),
            }
            progress(FeedEvent::Item { feed, outcome: &outcome });
        }
        let rec = FetchRecord {
            status: "ok".into(),
            error: None,
            etag,
            last_modified,
            new: report.added as u32,
            title: parsed.title.clone(),
            site_url: parsed.site_url.clone(),
        };
        self.catalog().record_feed_fetch(feed.id, &rec)?;
        report.expired = self.apply_retention(feed)?;
        Ok(report)
    }

    /// Adds a fetched document; an ingest failure becomes a failed outcome, a library failure an
    /// error.
    fn add_item(&mut self, doc: &Document, tags: &[String]) -> Result<ItemOutcome> {
        match self.add_loaded(doc, tags, None, None) {
            Ok(o) => Ok(o),
            Err(Error::Ingest(e)) => {
                Ok(ItemOutcome::Failed { code: e.reason_code(), message: e.to_string() })
            }
            Err(e) => Err(e),
        }
    }

    fn apply_retention(&mut self, feed: &Feed) -> Result<usize> {
        let expired = self.catalog().expire_feed_items(feed)?;
        self.commit()?;
        for doc in &expired {
            self.remove(*doc)?;
        }
        Ok(expired.len())
    }
}

impl FeedReport {
    fn for_feed(feed: &Feed, status: &str) -> FeedReport {
        FeedReport {
            feed: feed.id,
            url: feed.url.clone(),
            title: feed.title.clone(),
            status: status.into(),
            ..Default::default()
        }
    }
}

impl AddReport {
    /// Counts one item's outcome.
    pub(crate) fn count(&mut self, outcome: &ItemOutcome) {
        match outcome {
            ItemOutcome::Added { chunks, .. } => {
                self.added += 1;
                self.chunks += chunks;
            }
            ItemOutcome::Updated { chunks, .. } => {
                self.updated += 1;
                self.chunks += chunks;
            }
            ItemOutcome::Unchanged { .. } => self.unchanged += 1,
            ItemOutcome::SameContent { title, source, .. } => {
                self.same_content.push(format!("same content as {title} ({source})"))
            }
            ItemOutcome::Failed { message, .. } => self.failed.push(message.clone()),
        }
    }
}

/// A fetch task that panicked (a bug, reported by the panic hook as it happened), as an internal
/// error naming the URL: not a damaged page.
fn panicked(url: &str, e: tokio::task::JoinError) -> IngestError {
    IngestError::Internal { item: url.to_string(), parser: "web page fetch", panic: e.to_string() }
}
