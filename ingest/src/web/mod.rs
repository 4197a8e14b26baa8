//! Web pages and news feeds.
//!
//! - [`url`]: only http and https; [`normalise_url`] gives a page's identity.
//! - [`fetch`]: [`Fetcher`] GETs with redirects, retries and backoff (honouring `Retry-After`;
//!   the policy is [`FETCH_RETRY`], see [`crate::retry`]),
//!   a few concurrent requests per host, conditional GETs ([`Validators`]), a size cap checked
//!   on the decompressed body while it streams in, and a total time limit per attempt. A URL
//!   the user gave may be at any address ([`Fetcher::get`]); a link or redirect a document or
//!   a server chose is refused at a loopback, private, link-local or unspecified address
//!   ([`Fetcher::get_linked`]) unless [`FetchOptions::allow_private`].
//! - `address`: which addresses are restricted, and the DNS resolver that pins a connection to
//!   the addresses it checked.
//! - `mime`: `Content-Type` values (media type, charset), read by the fetcher, the page loader
//!   and the feed parser.
//! - [`page`]: [`load_page`] turns a fetched [`Response`] into a [`Document`](crate::Document)
//!   of kind `web` with the loader its content type (or its bytes) calls for; [`fetch_page`]
//!   (a URL the user gave) and [`fetch_linked_page`] (a feed item's link) do both.
//! - [`feed`]: [`parse_feed`] reads RSS, Atom and JSON Feed into [`FeedItem`]s with stable keys
//!   and content hashes.
//! - [`item`]: [`item_document`] makes a `news` document of an item, from the fetched article
//!   or from the feed's own text.
//!
//! Every error is one line naming the URL. Nothing here prints.

mod address;
pub mod feed;
pub mod fetch;
pub mod item;
mod mime;
pub mod page;
pub mod url;

pub use feed::{FeedItem, ParsedFeed, parse_feed};
pub use fetch::{FETCH_RETRY, FetchOptions, Fetched, Fetcher, Response, Validators};
pub use item::{item_document, item_source};
pub use page::{fetch_linked_page, fetch_page, load_page};
pub use url::{normalise_url, parse_web_url};
