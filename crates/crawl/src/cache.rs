//! The on-disk response cache: one [cacache] entry per URL, zstd-compressed, with expiry.
//!
//! An entry is a single zstd frame holding one line of JSON (the URL, the HTTP status and when
//! the page was fetched) followed by the body as raw UTF-8: the body is not JSON-escaped, and a
//! Stack Overflow page shrinks about tenfold.
//!
//! Entries stay under the key `sofleet-crawl:v1:{url}` ([`ResponseCache::key`]) of the
//! uncompressed JSON entries written before; the format is told by the first byte instead (the
//! zstd magic number, or `{` for the old JSON). So a cache written by an older version is still
//! read, with one index lookup, and an old entry is replaced in place (its content file removed)
//! when its page is fetched again, which shrinks an old cache as it is used. An older version
//! reading a new entry takes it for undecodable and refetches the page: no error either way.
//!
//! Nothing read from disk is trusted: an entry that is unreadable, in neither format, for another
//! URL, or larger than the body limit once decompressed (decompression stops just past the
//! limit) is reported as [`Lookup::Unreadable`], which the fetcher treats as a miss.
//!
//! How long an entry is served is the caller's choice ([`ResponseCache::get`]'s `max_age`): the
//! fetcher passes [`CrawlConfig::listing_cache_ttl`](crate::CrawlConfig::listing_cache_ttl),
//! [`CrawlConfig::question_cache_ttl`](crate::CrawlConfig::question_cache_ttl) or
//! [`ROBOTS_CACHE_TTL`].

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::fetch::{Page, now_ms};

/// How long a cached robots.txt is used: 24 hours. RFC 9309, section 2.4: "crawlers SHOULD NOT
/// use the cached version for more than 24 hours, unless the robots.txt is unreachable".
pub const ROBOTS_CACHE_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// Room for the header line (URL, status, time) on top of the body limit.
const HEADER_MARGIN: u64 = 64 * 1024;

/// zstd's default level: fast, and about tenfold on HTML.
const ZSTD_LEVEL: i32 = 3;

/// Largest zstd window accepted when decoding (2^24 = 16 MiB); level [`ZSTD_LEVEL`] writes at
/// most 2^21. Bounds the decoder's memory whatever a frame header claims.
const WINDOW_LOG_MAX: u32 = 24;

/// The first bytes of every zstd frame.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// An entry dated this far in the future (clock changes) is treated as stale, not as fresh
/// forever.
const CLOCK_SKEW_MS: i64 = 60_000;

/// Why a cache entry could not be used (or stored).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// cacache could not read or write (I/O, broken index, content failing its integrity check).
    #[error("cache storage: {0}")]
    Storage(#[from] cacache::Error),
    /// The entry is larger than the limit (on disk, or once decompressed): refused unread.
    #[error("entry is larger than the {limit}-byte limit")]
    TooLarge {
        /// The limit, bytes.
        limit: u64,
    },
    /// The bytes start like a zstd frame but do not decompress.
    #[error("entry does not decompress: {0}")]
    Decompress(#[source] std::io::Error),
    /// The entry's header line (or the old format's JSON) does not parse.
    #[error("entry header is invalid: {0}")]
    Header(#[source] serde_json::Error),
    /// The entry is neither a zstd frame nor old-format JSON.
    #[error("entry is neither zstd-compressed nor JSON")]
    UnknownFormat,
    /// The body is not UTF-8.
    #[error("entry body is not UTF-8")]
    NotUtf8,
    /// The entry names another URL than the one looked up.
    #[error("entry is for {found:?}, not the URL looked up")]
    WrongUrl {
        /// The URL the entry names.
        found: String,
    },
    /// The page could not be encoded (compression failed).
    #[error("could not encode the entry: {0}")]
    Encode(#[source] std::io::Error),
}

/// What [`ResponseCache::get`] found.
#[derive(Debug)]
pub enum Lookup {
    /// A usable entry younger than the age asked for (`from_cache` set, `attempts` 0).
    Fresh(Page),
    /// An entry older than the age asked for (or dated more than a minute in the future): not to
    /// be served; fetch the page again.
    Stale {
        /// When the entry's page was fetched, Unix ms.
        fetched_at_ms: i64,
    },
    /// No entry for the URL.
    Missing,
    /// An entry exists but cannot be used; treat it as missing (and say so).
    Unreadable(CacheError),
}

/// The header line of an entry, and (with `body`) the whole old-format entry.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    url: String,
    /// Where a redirected request ended (absent in entries written before redirects were
    /// recorded, and when there was no redirect).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    redirected_to: Option<String>,
    status: u16,
    fetched_at_ms: i64,
}

/// An entry of the old format: uncompressed JSON.
#[derive(Debug, Deserialize)]
struct LegacyEntry {
    url: String,
    status: u16,
    fetched_at_ms: i64,
    body: String,
}

/// The on-disk response cache of a crawl: a cacache directory of compressed pages, keyed by URL.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use std::time::Duration;
/// use sofleet_crawl::{Lookup, Page, ResponseCache};
///
/// let dir = tempfile::tempdir().unwrap();
/// let cache = ResponseCache::new(dir.path(), 1 << 20);
/// let page = Page {
///     url: "https://stackoverflow.com/questions/1".into(),
///     redirected_to: None,
///     status: 200,
///     body: "<html>…</html>".into(),
///     fetched_at_ms: 1_700_000_000_000, // long ago
///     attempts: 1,
///     from_cache: false,
/// };
/// cache.put(&page).await.unwrap();
/// let old = cache.get(&page.url, Duration::from_secs(3600)).await;
/// assert!(matches!(old, Lookup::Stale { .. }));
/// let Lookup::Fresh(hit) = cache.get(&page.url, Duration::MAX).await else { panic!() };
/// assert_eq!((hit.body.as_str(), hit.from_cache), (page.body.as_str(), true));
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct ResponseCache {
    dir: PathBuf,
    max_body_bytes: u64,
}

/// Whether a page fetched at `fetched_at_ms` is younger than `max_age` at `now_ms`.
fn is_fresh(fetched_at_ms: i64, now_ms: i64, max_age: Duration) -> bool {
    let age = i128::from(now_ms) - i128::from(fetched_at_ms);
    if age < -i128::from(CLOCK_SKEW_MS) {
        return false;
    }
    (age.max(0) as u128) < max_age.as_millis()
}

impl ResponseCache {
    /// A cache in `dir` (created on first write) for bodies of at most `max_body_bytes`
    /// (the crawl's [`CrawlConfig::max_body_bytes`](crate::CrawlConfig::max_body_bytes)).
    pub fn new(dir: impl Into<PathBuf>, max_body_bytes: u64) -> ResponseCache {
        ResponseCache {
            dir: dir.into(),
            max_body_bytes,
        }
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The cacache key of `url`'s entry (the same in both formats, see the module docs).
    ///
    /// ```
    /// assert_eq!(
    ///     sofleet_crawl::ResponseCache::key("https://stackoverflow.com/robots.txt"),
    ///     "sofleet-crawl:v1:https://stackoverflow.com/robots.txt"
    /// );
    /// ```
    pub fn key(url: &str) -> String {
        format!("sofleet-crawl:v1:{url}")
    }

    /// Largest decompressed entry accepted: the body limit plus room for the header.
    fn entry_limit(&self) -> u64 {
        self.max_body_bytes.saturating_add(HEADER_MARGIN)
    }

    /// Looks `url` up; the entry is [`Lookup::Fresh`] if its page was fetched less than
    /// `max_age` ago (so a zero `max_age` never is). Never panics, whatever is on disk.
    pub async fn get(&self, url: &str, max_age: Duration) -> Lookup {
        let key = Self::key(url);
        let meta = match cacache::metadata(&self.dir, &key).await {
            Ok(Some(meta)) => meta,
            Ok(None) => return Lookup::Missing,
            Err(e) => return Lookup::Unreadable(e.into()),
        };
        // Old entries are JSON, whose escapes can make a body up to six times longer.
        let raw_limit = self.entry_limit().saturating_mul(6);
        if meta.size as u64 > raw_limit {
            return Lookup::Unreadable(CacheError::TooLarge { limit: raw_limit });
        }
        let bytes = match cacache::read_hash(&self.dir, &meta.integrity).await {
            Ok(bytes) => bytes,
            Err(e) => return Lookup::Unreadable(e.into()),
        };
        let page = match self.decode(&bytes) {
            Ok(page) => page,
            Err(e) => return Lookup::Unreadable(e),
        };
        if page.url != url {
            return Lookup::Unreadable(CacheError::WrongUrl { found: page.url });
        }
        if is_fresh(page.fetched_at_ms, now_ms(), max_age) {
            Lookup::Fresh(page)
        } else {
            Lookup::Stale {
                fetched_at_ms: page.fetched_at_ms,
            }
        }
    }

    /// Stores `page` under its URL, replacing (and deleting the content of) any older entry.
    ///
    /// # Errors
    /// [`CacheError::TooLarge`] for a body over the limit (it could not be read back),
    /// [`CacheError::Encode`] or [`CacheError::Storage`].
    pub async fn put(&self, page: &Page) -> Result<(), CacheError> {
        let bytes = self.encode(page)?;
        let key = Self::key(&page.url);
        // The entry being replaced, if any (an unreadable index just means nothing to delete).
        let previous = cacache::metadata(&self.dir, &key).await.ok().flatten();
        let written = cacache::write(&self.dir, &key, bytes).await?;
        if let Some(previous) = previous
            && previous.integrity != written
            && let Err(e) = cacache::remove_hash(&self.dir, &previous.integrity).await
        {
            tracing::debug!(url = %page.url, error = %e, "could not delete a replaced cache entry");
        }
        Ok(())
    }

    /// The stored form of `page`: a zstd frame of the header line, `\n` and the body.
    fn encode(&self, page: &Page) -> Result<Vec<u8>, CacheError> {
        let header = Header {
            url: page.url.clone(),
            redirected_to: page.redirected_to.clone(),
            status: page.status,
            fetched_at_ms: page.fetched_at_ms,
        };
        // Compact JSON never contains a raw newline, so the first `\n` ends the header.
        let mut plain = serde_json::to_vec(&header).map_err(CacheError::Header)?;
        plain.push(b'\n');
        plain.extend_from_slice(page.body.as_bytes());
        if page.body.len() as u64 > self.max_body_bytes || plain.len() as u64 > self.entry_limit() {
            return Err(CacheError::TooLarge {
                limit: self.max_body_bytes,
            });
        }
        zstd::bulk::compress(&plain, ZSTD_LEVEL).map_err(CacheError::Encode)
    }

    /// Reads an entry in either format.
    fn decode(&self, bytes: &[u8]) -> Result<Page, CacheError> {
        let (header, body) = if bytes.starts_with(&ZSTD_MAGIC) {
            let mut plain = self.decompress(bytes)?;
            let end = plain
                .iter()
                .position(|&b| b == b'\n')
                .ok_or(CacheError::UnknownFormat)?;
            let header: Header =
                serde_json::from_slice(&plain[..end]).map_err(CacheError::Header)?;
            plain.drain(..=end);
            let body = String::from_utf8(plain).map_err(|_| CacheError::NotUtf8)?;
            (header, body)
        } else if bytes.first() == Some(&b'{') {
            let old: LegacyEntry = serde_json::from_slice(bytes).map_err(CacheError::Header)?;
            let header = Header {
                url: old.url,
                redirected_to: None,
                status: old.status,
                fetched_at_ms: old.fetched_at_ms,
            };
            (header, old.body)
        } else {
            return Err(CacheError::UnknownFormat);
        };
        if body.len() as u64 > self.max_body_bytes {
            return Err(CacheError::TooLarge {
                limit: self.max_body_bytes,
            });
        }
        Ok(Page {
            url: header.url,
            redirected_to: header.redirected_to,
            status: header.status,
            body,
            fetched_at_ms: header.fetched_at_ms,
            attempts: 0,
            from_cache: true,
        })
    }

    /// Decompresses `bytes`, up to the entry limit.
    fn decompress(&self, bytes: &[u8]) -> Result<Vec<u8>, CacheError> {
        decompress_bounded(bytes, self.entry_limit())
    }
}

/// Decompresses zstd frames from `input`, stopping one byte past `limit` (so a bomb costs at most
/// that much memory and the input it takes to produce it).
fn decompress_bounded(input: impl BufRead, limit: u64) -> Result<Vec<u8>, CacheError> {
    let mut decoder =
        zstd::stream::read::Decoder::with_buffer(input).map_err(CacheError::Decompress)?;
    decoder
        .window_log_max(WINDOW_LOG_MAX)
        .map_err(CacheError::Decompress)?;
    let mut plain = Vec::new();
    decoder
        .take(limit.saturating_add(1))
        .read_to_end(&mut plain)
        .map_err(CacheError::Decompress)?;
    if plain.len() as u64 > limit {
        return Err(CacheError::TooLarge { limit });
    }
    Ok(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR_MS: i64 = 60 * 60 * 1000;
    const ROBOTS: &str = "https://stackoverflow.com/robots.txt";

    fn page(url: &str, body: &str, fetched_at_ms: i64) -> Page {
        Page {
            url: url.to_owned(),
            redirected_to: None,
            status: 200,
            body: body.to_owned(),
            fetched_at_ms,
            attempts: 1,
            from_cache: false,
        }
    }

    #[tokio::test]
    async fn robots_older_than_a_day_is_stale() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ResponseCache::new(dir.path(), 1 << 20);
        let fetched = now_ms() - 25 * HOUR_MS;
        let body = "User-agent: *\nDisallow: /search\n";
        cache.put(&page(ROBOTS, body, fetched)).await.unwrap();
        match cache.get(ROBOTS, ROBOTS_CACHE_TTL).await {
            Lookup::Stale { fetched_at_ms } => assert_eq!(fetched_at_ms, fetched),
            other => panic!("a 25-hour-old robots.txt was not stale: {other:?}"),
        }
    }

    #[tokio::test]
    async fn robots_younger_than_a_day_is_fresh() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ResponseCache::new(dir.path(), 1 << 20);
        let fetched = now_ms() - 23 * HOUR_MS;
        let body = "User-agent: *\nDisallow: /search\n";
        cache.put(&page(ROBOTS, body, fetched)).await.unwrap();
        match cache.get(ROBOTS, ROBOTS_CACHE_TTL).await {
            Lookup::Fresh(hit) => {
                assert_eq!(hit.body, body);
                assert_eq!((hit.status, hit.fetched_at_ms), (200, fetched));
                assert_eq!((hit.attempts, hit.from_cache), (0, true));
            }
            other => panic!("a 23-hour-old robots.txt was not fresh: {other:?}"),
        }
    }

    #[test]
    fn freshness_is_strict_and_distrusts_the_future() {
        let now = 1_000_000_000;
        assert!(is_fresh(now - 999, now, Duration::from_secs(1)));
        assert!(!is_fresh(now - 1000, now, Duration::from_secs(1)));
        assert!(!is_fresh(now, now, Duration::ZERO), "0 means never");
        assert!(
            is_fresh(now + 1000, now, Duration::from_secs(1)),
            "small skew"
        );
        assert!(!is_fresh(now + 2 * CLOCK_SKEW_MS, now, Duration::MAX));
        assert!(!is_fresh(i64::MIN, i64::MAX, Duration::from_secs(1)));
    }

    #[tokio::test]
    async fn a_decompression_bomb_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let url = "https://stackoverflow.com/questions/1/bomb";
        // A well-formed entry whose body is far over the limit, compressed to a few kilobytes.
        let header = serde_json::to_vec(&Header {
            url: url.to_owned(),
            redirected_to: None,
            status: 200,
            fetched_at_ms: now_ms(),
        })
        .unwrap();
        let mut plain = header;
        plain.push(b'\n');
        plain.resize(plain.len() + (16 << 20), b'a');
        let bomb = zstd::bulk::compress(&plain, 3).unwrap();
        assert!(bomb.len() < 64 * 1024, "{} bytes", bomb.len());
        cacache::write(dir.path(), ResponseCache::key(url), &bomb)
            .await
            .unwrap();
        let cache = ResponseCache::new(dir.path(), 1 << 20);
        match cache.get(url, Duration::MAX).await {
            Lookup::Unreadable(CacheError::TooLarge { limit }) => {
                assert_eq!(limit, (1 << 20) + HEADER_MARGIN);
            }
            other => panic!("a bomb was not refused: {other:?}"),
        }
        // Within the limit the same entry is readable: the limit, not the format, refused it.
        let roomy = ResponseCache::new(dir.path(), 17 << 20);
        assert!(matches!(
            roomy.get(url, Duration::MAX).await,
            Lookup::Fresh(p) if p.body.len() == 16 << 20
        ));
    }

    /// Counts the bytes read through it.
    struct Counting<'a> {
        inner: &'a [u8],
        read: &'a std::cell::Cell<usize>,
    }

    impl Read for Counting<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.read.set(self.read.get() + n);
            Ok(n)
        }
    }

    #[test]
    fn decompression_stops_at_the_limit() {
        // 16 MiB of one byte: zstd stores it as 128 run-length blocks of 4 bytes each.
        let bomb = zstd::bulk::compress(&vec![b'a'; 16 << 20], 3).unwrap();
        let read = std::cell::Cell::new(0);
        let input = std::io::BufReader::with_capacity(
            16,
            Counting {
                inner: &bomb,
                read: &read,
            },
        );
        let got = decompress_bounded(input, 64 * 1024);
        assert!(
            matches!(got, Err(CacheError::TooLarge { limit: 65_536 })),
            "{got:?}"
        );
        // It stopped near the start, not after producing all 16 MiB.
        assert!(
            read.get() < bomb.len() / 2,
            "read {} of {} bytes",
            read.get(),
            bomb.len()
        );
    }

    #[tokio::test]
    async fn damaged_entries_are_unreadable_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ResponseCache::new(dir.path(), 1 << 20);
        let url = "https://stackoverflow.com/questions/2/x";
        let good = cache
            .encode(&page(url, "<html>body</html>", now_ms()))
            .unwrap();
        let other = cache
            .encode(&page(
                "https://stackoverflow.com/questions/3/y",
                "b",
                now_ms(),
            ))
            .unwrap();
        let mut bad_utf8 = b"{\"url\":\"u\",\"status\":200,\"fetched_at_ms\":1}\n".to_vec();
        bad_utf8.extend_from_slice(&[0xff, 0xfe]);
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("garbage", b"\x00\x01garbage".to_vec()),
            ("empty", Vec::new()),
            ("truncated frame", good[..good.len() / 2].to_vec()),
            (
                "trailing garbage",
                [good.clone(), b"junk".to_vec()].concat(),
            ),
            ("broken JSON", b"{\"url\": ".to_vec()),
            (
                "no header line",
                zstd::bulk::compress(b"no newline", 3).unwrap(),
            ),
            ("not UTF-8", zstd::bulk::compress(&bad_utf8, 3).unwrap()),
            ("another URL", other),
        ];
        for (what, bytes) in cases {
            cacache::write(dir.path(), ResponseCache::key(url), bytes)
                .await
                .unwrap();
            let got = cache.get(url, Duration::MAX).await;
            assert!(matches!(got, Lookup::Unreadable(_)), "{what}: {got:?}");
        }
        cacache::write(dir.path(), ResponseCache::key(url), good)
            .await
            .unwrap();
        assert!(matches!(
            cache.get(url, Duration::MAX).await,
            Lookup::Fresh(_)
        ));
    }

    #[tokio::test]
    async fn replacing_an_entry_deletes_the_old_content() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ResponseCache::new(dir.path(), 1 << 20);
        let url = "https://stackoverflow.com/questions/4/z";
        cache
            .put(&page(url, "first", now_ms() - 1000))
            .await
            .unwrap();
        let first = cacache::metadata(dir.path(), ResponseCache::key(url))
            .await
            .unwrap()
            .unwrap();
        cache.put(&page(url, "second", now_ms())).await.unwrap();
        assert!(!cacache::exists(dir.path(), &first.integrity).await);
        let Lookup::Fresh(hit) = cache.get(url, Duration::MAX).await else {
            panic!("the new entry is not readable");
        };
        assert_eq!(hit.body, "second");
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_not_stored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ResponseCache::new(dir.path(), 10);
        let url = "https://stackoverflow.com/questions/5/w";
        let err = cache.put(&page(url, "eleven char", now_ms())).await;
        assert!(
            matches!(err, Err(CacheError::TooLarge { limit: 10 })),
            "{err:?}"
        );
        assert!(matches!(
            cache.get(url, Duration::MAX).await,
            Lookup::Missing
        ));
    }
}
