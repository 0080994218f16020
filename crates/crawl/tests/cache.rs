//! The on-disk response cache through the fetcher and the crawl tasks, with real files and real
//! HTTP on 127.0.0.1: expiry per kind of page, compression, old-format entries, damaged entries
//! and decompression bombs.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sofleet_crawl::{
    CrawlConfig, CrawlOutput, Fetcher, ListingTask, Lookup, Page, QuestionTask, ResponseCache,
    RetryConfig,
};
use sofleet_executor::{TaskContext, TaskKey};
use sofleet_mock_so::{MockSite, MockSiteConfig};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// A cache age every test page is younger than.
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Captures warnings process-wide (the fetcher logs on its own I/O threads, so a thread-local
/// subscriber would miss them).
mod warnings {
    use std::fmt::Write;
    use std::sync::{Mutex, Once};

    use tracing::field::{Field, Visit};
    use tracing::{Event, Level, Metadata, Subscriber, span};

    static EVENTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

    struct Capture;

    struct Fields(String);

    impl Visit for Fields {
        fn record_str(&mut self, field: &Field, value: &str) {
            let _ = write!(self.0, " {}={value}", field.name());
        }
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    impl Subscriber for Capture {
        fn enabled(&self, metadata: &Metadata<'_>) -> bool {
            *metadata.level() <= Level::WARN
        }
        fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
            span::Id::from_u64(1)
        }
        fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
        fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
        fn event(&self, event: &Event<'_>) {
            let mut fields = Fields(String::new());
            event.record(&mut fields);
            EVENTS.lock().unwrap().push(fields.0);
        }
        fn enter(&self, _: &span::Id) {}
        fn exit(&self, _: &span::Id) {}
    }

    /// Starts capturing (once per test binary).
    pub fn capture() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            tracing::subscriber::set_global_default(Capture).expect("no other subscriber");
        });
    }

    /// The warnings logged so far that mention `text`.
    pub fn mentioning(text: &str) -> Vec<String> {
        EVENTS
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.contains(text))
            .cloned()
            .collect()
    }
}

/// Answers 200 with a fixed body and counts the requests.
struct Counted {
    hits: Arc<AtomicUsize>,
    body: String,
}

impl Respond for Counted {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        self.hits.fetch_add(1, Ordering::SeqCst);
        ResponseTemplate::new(200).set_body_string(self.body.clone())
    }
}

/// A server without robots.txt (404: everything allowed).
async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/robots.txt"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    server
}

/// Serves `body` at `at`; returns the request counter.
async fn serve(server: &MockServer, at: &str, body: &str) -> Arc<AtomicUsize> {
    let hits = Arc::new(AtomicUsize::new(0));
    Mock::given(method("GET"))
        .and(path(at))
        .respond_with(Counted {
            hits: hits.clone(),
            body: body.to_owned(),
        })
        .mount(server)
        .await;
    hits
}

fn config(base: &str, dir: &Path) -> CrawlConfig {
    CrawlConfig {
        cache_dir: Some(dir.to_owned()),
        retry: RetryConfig {
            max_attempts: 2,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
        },
        ..CrawlConfig::for_local_site(base)
    }
}

fn fetcher(config: &CrawlConfig) -> Arc<Fetcher> {
    Arc::new(Fetcher::new(config).unwrap())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Sum of the sizes of every file under `dir`.
fn disk_usage(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let meta = entry.metadata().unwrap();
        total += if meta.is_dir() {
            disk_usage(&entry.path())
        } else {
            meta.len()
        };
    }
    total
}

/// About `len` bytes of listing-like HTML: repetitive markup, varied words and numbers.
fn html_like(len: usize) -> String {
    const WORDS: [&str; 12] = [
        "merge",
        "dataframe",
        "groupby",
        "parallel",
        "dask",
        "pandas",
        "index",
        "memory",
        "error",
        "partition",
        "compute",
        "delayed",
    ];
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut html = String::from("<!DOCTYPE html><html><body><div id=\"questions\">\n");
    while html.len() < len {
        let id = 10_000_000 + next() % 70_000_000;
        let (a, b, c) = (
            WORDS[(next() % 12) as usize],
            WORDS[(next() % 12) as usize],
            WORDS[(next() % 12) as usize],
        );
        html.push_str(&format!(
            "<div class=\"s-post-summary js-post-summary\" data-post-id=\"{id}\">\
             <div class=\"s-post-summary--stats\"><span class=\"s-post-summary--stats-item-number\">{}</span> votes</div>\
             <h3 class=\"s-post-summary--content-title\"><a href=\"/questions/{id}/how-to-{a}-{b}\" class=\"s-link\">How to {a} a {b} with {c}?</a></h3>\
             <div class=\"s-post-summary--meta\"><ul class=\"ml0 list-ls-none js-post-tag-list-wrapper\"><li><a class=\"post-tag\" href=\"/questions/tagged/{c}\">{c}</a></li></ul></div></div>\n",
            next() % 500,
        ));
    }
    html.push_str("</div></body></html>\n");
    html
}

/// A mock Stack Overflow with a handful of questions.
async fn site() -> MockSite {
    MockSite::start(MockSiteConfig {
        pages_per_tag: 2,
        questions_per_tag: Some(20),
        // `requests_to` reads the site's request log.
        record_requests: true,
        ..MockSiteConfig::default()
    })
    .await
}

/// Requests the site received for `path_and_query`.
async fn requests_to(site: &MockSite, path_and_query: &str) -> usize {
    site.requests()
        .await
        .iter()
        .filter(|r| r.path == path_and_query)
        .count()
}

/// (attempts, fetched_at_ms) of a task's output.
fn fetched(out: &CrawlOutput) -> (u32, i64) {
    match out {
        CrawlOutput::Listing(l) => (l.attempts, l.fetched_at_ms),
        CrawlOutput::Question(q) => (q.attempts, q.fetched_at_ms),
        other => panic!("not a page: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_expire_after_their_ttl_and_questions_do_not() {
    let site = site().await;
    let dir = tempfile::tempdir().unwrap();
    let ttl = Duration::from_millis(1_500);
    let config = CrawlConfig {
        listing_cache_ttl: ttl,
        ..config(&site.base_url(), dir.path())
    };
    let listing_path = site.listing_path("dask", "votes", 1);
    let listing = ListingTask {
        config: config.for_job(),
        run_id: 1,
        url: site.url(&listing_path),
        tag: Some("dask".into()),
        page: Some(1),
    };
    let first = listing.clone().execute(&local(&config)).await.output;
    let question_url = match &first {
        CrawlOutput::Listing(l) => l.links[0].url.clone(),
        other => panic!("{other:?}"),
    };
    let question_path = question_url.trim_start_matches(&site.base_url()).to_owned();
    let question = QuestionTask {
        config: config.for_job(),
        run_id: 1,
        url: question_url,
    };
    let q_first = question.clone().execute(&local(&config)).await.output;
    let (listing_fetched, question_fetched) = (fetched(&first), fetched(&q_first));
    assert_eq!((listing_fetched.0, question_fetched.0), (1, 1));

    // Young: both are served from the cache.
    let again = listing.clone().execute(&local(&config)).await.output;
    let q_again = question.clone().execute(&local(&config)).await.output;
    assert!(
        now_ms() - listing_fetched.1 < ttl.as_millis() as i64,
        "the machine is too slow for this test's TTL"
    );
    assert_eq!(fetched(&again), (0, listing_fetched.1));
    assert_eq!(fetched(&q_again), (0, question_fetched.1));
    assert_eq!(requests_to(&site, &listing_path).await, 1);

    // Past the listing TTL: the listing is fetched again, the question is not.
    tokio::time::sleep(ttl + Duration::from_millis(100)).await;
    let expired = listing.clone().execute(&local(&config)).await.output;
    let (attempts, refetched_at) = fetched(&expired);
    assert_eq!(attempts, 1, "an expired listing was served from the cache");
    assert!(refetched_at > listing_fetched.1);
    assert_eq!(requests_to(&site, &listing_path).await, 2);
    assert_eq!(
        fetched(&question.execute(&local(&config)).await.output),
        (0, question_fetched.1)
    );
    assert_eq!(requests_to(&site, &question_path).await, 1);

    // The new page replaced the stale entry.
    assert_eq!(
        fetched(&listing.execute(&local(&config)).await.output),
        (0, refetched_at)
    );
    assert_eq!(requests_to(&site, &listing_path).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_ttl_of_zero_never_serves_from_the_cache() {
    let site = site().await;
    let dir = tempfile::tempdir().unwrap();
    let config = CrawlConfig {
        question_cache_ttl: Duration::from_millis(0),
        ..config(&site.base_url(), dir.path())
    };
    assert!(config.validate().is_ok(), "0 is a valid TTL");
    let id = site.content().question_ids()[0];
    let question_path = site.question_path(id);
    let question = QuestionTask {
        config: config.for_job(),
        run_id: 1,
        url: site.url(&question_path),
    };
    for run in 1..=3 {
        assert_eq!(
            fetched(&question.clone().execute(&local(&config)).await.output).0,
            1,
            "run {run}"
        );
        assert_eq!(requests_to(&site, &question_path).await, run);
    }
    // The pages were still written, for a later run that accepts them.
    let cache = ResponseCache::new(dir.path(), config.max_body_bytes);
    assert!(matches!(
        cache.get(&question.url, DAY).await,
        Lookup::Fresh(_)
    ));
}

#[tokio::test]
async fn cached_pages_are_compressed() {
    let server = server().await;
    let body = html_like(200_000);
    let hits = serve(&server, "/big", &body).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(&server.uri(), dir.path());
    let url = format!("{}/big", server.uri());
    let page = fetcher(&config).fetch(&url, Some(DAY)).await.unwrap();
    fetcher(&config).store(&page).await;
    let used = disk_usage(dir.path());
    assert!(
        used < body.len() as u64 / 3,
        "{used} bytes on disk for a {}-byte body",
        body.len()
    );
    let again = fetcher(&config).fetch(&url, Some(DAY)).await.unwrap();
    assert!(again.from_cache);
    assert_eq!(again.body, body);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn entries_of_the_old_format_are_still_read() {
    let server = server().await;
    let hits = serve(&server, "/old", "new body").await;
    let gone_hits = serve(&server, "/old-gone", "not gone after all").await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(&server.uri(), dir.path());
    let url = format!("{}/old", server.uri());
    let gone = format!("{}/old-gone", server.uri());
    // Exactly what the previous version wrote: uncompressed JSON.
    for (url, status, body) in [(&url, 200, "old <b>body</b>\n"), (&gone, 404, "")] {
        let json = serde_json::json!({
            "url": url, "status": status, "fetched_at_ms": now_ms() - 1_000, "body": body,
        });
        cacache::write(dir.path(), ResponseCache::key(url), json.to_string())
            .await
            .unwrap();
    }
    let fetcher = fetcher(&config);
    let page = fetcher.fetch(&url, Some(DAY)).await.unwrap();
    assert_eq!(
        (page.body.as_str(), page.from_cache, page.attempts),
        ("old <b>body</b>\n", true, 0)
    );
    let err = fetcher.fetch(&gone, Some(DAY)).await.unwrap_err();
    assert_eq!(err.http_status, Some(404));
    assert_eq!(
        hits.load(Ordering::SeqCst) + gone_hits.load(Ordering::SeqCst),
        0
    );
    assert_eq!(fetcher.stats().cache_hits, 2);
}

#[tokio::test]
async fn a_corrupt_entry_is_refetched_and_replaced() {
    warnings::capture();
    let server = server().await;
    let hits = serve(&server, "/corrupt", "good body").await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(&server.uri(), dir.path());
    let url = format!("{}/corrupt", server.uri());
    let mut garbage = vec![0x28, 0xB5, 0x2F, 0xFD]; // a zstd magic number, then nonsense
    garbage.extend((0..4_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    cacache::write(dir.path(), ResponseCache::key(&url), &garbage)
        .await
        .unwrap();

    let first = fetcher(&config);
    let page = first.fetch(&url, Some(DAY)).await.unwrap();
    assert_eq!((page.body.as_str(), page.from_cache), ("good body", false));
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert!(
        warnings::mentioning(&url)
            .iter()
            .any(|w| w.contains("unreadable cache entry")),
        "no warning naming {url}"
    );
    first.store(&page).await;

    let again = fetcher(&config).fetch(&url, Some(DAY)).await.unwrap();
    assert_eq!((again.body.as_str(), again.from_cache), ("good body", true));
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_entry_that_decompresses_past_the_limit_is_refused() {
    warnings::capture();
    let server = server().await;
    let hits = serve(&server, "/bomb", "small body").await;
    let dir = tempfile::tempdir().unwrap();
    let config = CrawlConfig {
        max_body_bytes: 64 * 1024,
        ..config(&server.uri(), dir.path())
    };
    let url = format!("{}/bomb", server.uri());
    // A well-formed entry, written by a cache with a roomier limit: 4 MiB in a few hundred bytes.
    let roomy = ResponseCache::new(dir.path(), 8 << 20);
    roomy
        .put(&Page {
            url: url.clone(),
            redirected_to: None,
            status: 200,
            body: "a".repeat(4 << 20),
            fetched_at_ms: now_ms(),
            attempts: 1,
            from_cache: false,
        })
        .await
        .unwrap();
    assert!(disk_usage(dir.path()) < 64 * 1024);

    let page = fetcher(&config).fetch(&url, Some(DAY)).await.unwrap();
    assert_eq!((page.body.as_str(), page.from_cache), ("small body", false));
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert!(
        warnings::mentioning(&url)
            .iter()
            .any(|w| w.contains("limit")),
        "no warning naming {url}: {:?}",
        warnings::mentioning("")
    );
}

#[tokio::test]
async fn robots_txt_is_used_for_a_day_then_fetched_again() {
    let server = MockServer::start().await;
    let hits = serve(
        &server,
        "/robots.txt",
        "User-agent: *\nDisallow: /private\n",
    )
    .await;
    let robots_url = format!("{}/robots.txt", server.uri());
    for (age_hours, expected_hits) in [(23, 0), (25, 1)] {
        let dir = tempfile::tempdir().unwrap();
        ResponseCache::new(dir.path(), 1 << 20)
            .put(&Page {
                url: robots_url.clone(),
                redirected_to: None,
                status: 200,
                body: "User-agent: *\nDisallow:\n".into(),
                fetched_at_ms: now_ms() - age_hours * 60 * 60 * 1000,
                attempts: 1,
                from_cache: false,
            })
            .await
            .unwrap();
        hits.store(0, Ordering::SeqCst);
        let fetcher = fetcher(&config(&server.uri(), dir.path()));
        fetcher.ensure_robots().await.unwrap();
        assert_eq!(
            hits.load(Ordering::SeqCst),
            expected_hits,
            "robots.txt cached {age_hours} h ago"
        );
        // The rules in force are the ones of the copy used.
        let private = fetcher
            .fetch(&format!("{}/private/x", server.uri()), None)
            .await;
        let disallowed = private
            .as_ref()
            .is_err_and(|f| f.kind == sofleet_records::FailureKind::DisallowedByRobots);
        assert_eq!(disallowed, expected_hits == 1, "{private:?}");
        if expected_hits == 1 {
            // The new copy replaced the stale one.
            let cache = ResponseCache::new(dir.path(), 1 << 20);
            match cache
                .get(&robots_url, sofleet_crawl::ROBOTS_CACHE_TTL)
                .await
            {
                Lookup::Fresh(page) => assert!(page.body.contains("/private")),
                other => panic!("{other:?}"),
            }
        }
    }
}

/// The context of a task run by a local worker with `config`'s policy (cache included).
fn local(config: &CrawlConfig) -> TaskContext {
    let worker = sofleet_crawl::CrawlWorker::local(config).unwrap();
    TaskContext::new(TaskKey::new("cache-test"), 0, Vec::new())
        .with_resources(worker.into_resources())
}
