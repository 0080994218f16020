//! One module per subcommand, plus what they share.

pub mod crawl;
pub mod dashboard;
pub mod extract;
pub mod fetch;
pub mod mock_site;
pub mod report;
pub mod status;
pub mod summary;
pub mod titles;
pub mod worker;

use std::sync::Arc;
use std::time::{Duration, Instant};

use sofleet_crawl::{CrawlConfig, CrawlWorker};
use sofleet_executor::{Client, Resources, ThreadsBackend, TokioBackend};
use sofleet_redis::{RedisBackend, redact_url};

use crate::args::BackendChoice;
use crate::exit::Failure;

/// Checks a crawl configuration built from flags; an invalid value is a usage error naming
/// the flag it came from.
pub(crate) fn check_config(config: &CrawlConfig) -> Result<(), Failure> {
    match config.validate() {
        Ok(_base_url) => Ok(()),
        Err(e) => Err(Failure::Usage(format!(
            "{e} (from {})",
            crawl::flags_of(&e)
        ))),
    }
}

/// A duration in whole milliseconds (saturating).
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A duration cut to whole milliseconds (saturating), the unit `CrawlConfig`'s durations
/// travel in: a flag's value means the same in a local crawl and on a remote worker.
pub(crate) fn whole_millis(d: Duration) -> Duration {
    Duration::from_millis(millis(d))
}

/// The multi-threaded tokio runtime every networked command runs on.
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Input(anyhow::anyhow!("cannot start the async runtime: {e}")))
}

/// A client over the chosen backend, and the fleet behind it for a Redis backend. Call inside
/// the runtime (the tokio backend spawns on it). A local backend gets a [`CrawlWorker`] with
/// exactly `config`'s policy (returned too, for the dashboard's politeness panel); remote
/// workers have their own. A Redis server that cannot be reached is a network failure.
pub async fn backend_client(
    choice: &BackendChoice,
    threads: usize,
    config: &CrawlConfig,
) -> Result<BackendClient, Failure> {
    let local_worker = || {
        CrawlWorker::local(config)
            .map(Arc::new)
            .map_err(|e| Failure::Input(anyhow::anyhow!("{e}")))
    };
    let resources = |worker: &Arc<CrawlWorker>| Resources::new().with_arc(worker.clone());
    Ok(match choice {
        BackendChoice::Tokio => {
            let worker = local_worker()?;
            BackendClient {
                client: Client::new(TokioBackend::new().with_resources(resources(&worker))),
                fleet: None,
                local_worker: Some(worker),
            }
        }
        BackendChoice::Threads => {
            let worker = local_worker()?;
            BackendClient {
                client: Client::new(
                    ThreadsBackend::new(threads.max(1)).with_resources(resources(&worker)),
                ),
                fleet: None,
                local_worker: Some(worker),
            }
        }
        BackendChoice::Redis(url) => {
            let backend = RedisBackend::connect(url, Default::default())
                .await
                .map_err(|e| {
                    Failure::Network(anyhow::anyhow!(
                        "{e} (is redis-server running, and are workers started with \
                         `sofleet worker --redis {}`?)",
                        redact_url(url)
                    ))
                })?;
            let backend = Arc::new(backend);
            BackendClient {
                client: Client::new(backend.clone()),
                fleet: Some(backend),
                local_worker: None,
            }
        }
    })
}

/// What [`backend_client`] makes.
pub struct BackendClient {
    /// The client.
    pub client: Client,
    /// The Redis fleet behind it, for a Redis backend.
    pub fleet: Option<Arc<RedisBackend>>,
    /// The local backend's crawl worker.
    pub local_worker: Option<Arc<CrawlWorker>>,
}

/// How often a client with no live worker says it is still waiting.
const NO_WORKER_NOTE_EVERY: Duration = Duration::from_secs(30);

/// Watches the fleet while a remote run goes on: when no worker is alive it says so (within
/// 5 s of the start, naming the Redis URL without its password and the command that starts a
/// worker), repeats a note every 30 s, and after `give_up_after` without a worker returns the
/// failure to exit with (code 3); the caller records it, then stops the run. Never returns
/// otherwise.
pub async fn watch_workers(
    fleet: Arc<RedisBackend>,
    url: &str,
    host: &str,
    give_up_after: Option<Duration>,
) -> Failure {
    let url = redact_url(url);
    let poll = Duration::from_millis(500);
    let first_note_after = Duration::from_secs(4);
    let mut alone_since: Option<Instant> = None;
    let mut last_note: Option<Instant> = None;
    loop {
        let live = match fleet.live_workers().await {
            Ok(workers) => !workers.is_empty(),
            // Redis trouble is reported by the backend itself; do not guess.
            Err(_) => true,
        };
        let now = Instant::now();
        if live {
            if last_note.is_some() {
                eprintln!("a worker is serving {url} now: continuing");
            }
            alone_since = None;
            last_note = None;
        } else {
            let since = *alone_since.get_or_insert(now);
            let waited = now.duration_since(since);
            let due = match last_note {
                None => waited >= first_note_after,
                Some(t) => now.duration_since(t) >= NO_WORKER_NOTE_EVERY,
            };
            if due {
                eprintln!(
                    "no live sofleet worker is serving {url} (waited {} s): start one with \
                     `sofleet worker --redis {url} --allow-host {host}`; {}",
                    waited.as_secs(),
                    match give_up_after {
                        Some(limit) => format!(
                            "giving up after {} without a worker (--worker-timeout)",
                            humantime::format_duration(limit)
                        ),
                        None => "still waiting (--worker-timeout to give up)".to_owned(),
                    }
                );
                last_note = Some(now);
            }
            if let Some(limit) = give_up_after
                && waited >= limit
            {
                return Failure::Network(anyhow::anyhow!(
                    "no worker served {url} for {} (--worker-timeout): start workers with \
                     `sofleet worker --redis {url} --allow-host {host}` and run the same command \
                     again to resume",
                    humantime::format_duration(limit)
                ));
            }
        }
        tokio::time::sleep(poll).await;
    }
}
