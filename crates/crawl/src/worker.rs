//! [`CrawlWorker`]: what a process that runs crawl tasks owns — its policy ([`WorkerPolicy`]),
//! its I/O runtime and the fetchers of the runs it serves — lent to every crawl task as an
//! executor resource ([`sofleet_executor::Resources`]). A job asks; the worker decides.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use sofleet_executor::Resources;
use url::Url;

use crate::budget::SharedBudget;
use crate::config::CrawlConfig;
use crate::error::CrawlError;
use crate::fetch::{Fetcher, WorkerLink};

/// Runs a worker keeps fetchers for at once; past it the least recently used is dropped (its
/// tasks still running keep theirs), so a worker serving any number of runs has flat memory.
pub const MAX_RUNS_KEPT: usize = 64;

/// A run's fetcher unused this long is dropped: its run has ended.
pub const RUN_IDLE_RELEASE: Duration = Duration::from_secs(120);

/// What a crawl worker may do, set by whoever starts it (`sofleet worker` flags), never by a
/// job. A job's [`CrawlConfig`] is checked against it: another host, skipping robots.txt or
/// naming a cache directory is refused with an error naming the rule; its body limit,
/// timeouts and rate are capped by the worker's.
///
/// ```
/// use sofleet_crawl::{CrawlConfig, WorkerPolicy};
///
/// let policy = WorkerPolicy::new(["stackoverflow.com"]);
/// let job = CrawlConfig { base_url: "https://internal.example".into(), ..CrawlConfig::default() };
/// let refused = policy.admit(&job).unwrap_err().to_string();
/// assert!(refused.contains("only crawls stackoverflow.com"), "{refused}");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WorkerPolicy {
    /// The worker's name, for messages and per-worker statistics.
    pub name: String,
    /// Hosts the worker crawls: `host` (any port) or `host:port`.
    pub allowed_hosts: Vec<String>,
    /// Whether the worker may skip robots.txt when a job asks (only if started so).
    pub ignore_robots: bool,
    /// The worker's own response cache; jobs cannot name one.
    pub cache_dir: Option<PathBuf>,
    /// Largest response body the worker reads, bytes (a job's larger limit is lowered to it).
    pub max_body_bytes: u64,
    /// The worker's request timeout (a job's longer one is lowered to it).
    pub timeout: Duration,
    /// The worker's connect timeout (a job's longer one is lowered to it).
    pub connect_timeout: Duration,
    /// The fastest rate the worker sends at to one host, requests per second; a job asking
    /// for more (or for no limit) gets this. `None`: the job's rate.
    pub max_requests_per_second: Option<f64>,
    /// The source address of the worker's requests (`--bind-ip`); `None` for the default.
    pub local_address: Option<IpAddr>,
}

impl WorkerPolicy {
    /// A policy crawling `allowed_hosts`, obeying robots.txt, without a cache, with the
    /// default body limit and timeouts and no rate ceiling of its own.
    pub fn new<S: Into<String>>(allowed_hosts: impl IntoIterator<Item = S>) -> WorkerPolicy {
        let defaults = CrawlConfig::default();
        WorkerPolicy {
            name: "local".to_owned(),
            allowed_hosts: allowed_hosts.into_iter().map(Into::into).collect(),
            ignore_robots: false,
            cache_dir: None,
            max_body_bytes: defaults.max_body_bytes,
            timeout: defaults.timeout,
            connect_timeout: defaults.connect_timeout,
            max_requests_per_second: None,
            local_address: None,
        }
    }

    /// The policy of a local crawl: exactly what `config` asks for (its host and redirect
    /// hosts, its robots.txt choice, cache, limits). [`CrawlConfig::for_job`] is what its tasks
    /// then carry.
    ///
    /// ```
    /// use sofleet_crawl::{CrawlConfig, WorkerPolicy};
    /// let config = CrawlConfig::default();
    /// let policy = WorkerPolicy::for_config(&config);
    /// assert!(policy.admit(&config.for_job()).is_ok());
    /// ```
    pub fn for_config(config: &CrawlConfig) -> WorkerPolicy {
        let mut hosts: Vec<String> = Url::parse(&config.base_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .into_iter()
            .collect();
        hosts.extend(config.redirect_hosts.iter().cloned());
        WorkerPolicy {
            ignore_robots: config.ignore_robots,
            cache_dir: config.cache_dir.clone(),
            max_body_bytes: config.max_body_bytes,
            timeout: config.timeout,
            connect_timeout: config.connect_timeout,
            ..WorkerPolicy::new(hosts)
        }
    }

    /// Whether `url`'s host is one the worker crawls.
    pub fn allows_host(&self, url: &Url) -> bool {
        let Some(host) = url.host_str() else {
            return false;
        };
        let with_port = url
            .port_or_known_default()
            .map(|p| format!("{host}:{p}"))
            .unwrap_or_default();
        self.allowed_hosts.iter().any(|allowed| {
            allowed.eq_ignore_ascii_case(host) || allowed.eq_ignore_ascii_case(&with_port)
        })
    }

    /// The configuration the worker actually crawls with for a job's `config`: the job's
    /// preferences within the worker's limits.
    ///
    /// # Errors
    /// [`CrawlError::Refused`] when the job asks for another host (or redirect host), to skip
    /// robots.txt without the worker allowing it, or for a cache directory;
    /// [`CrawlError::InvalidConfig`] when the job's configuration is invalid.
    pub fn admit(&self, config: &CrawlConfig) -> Result<CrawlConfig, CrawlError> {
        let refuse = |rule: String| CrawlError::Refused {
            worker: self.name.clone(),
            rule,
        };
        let base = config.validate()?;
        if !self.allows_host(&base) {
            return Err(refuse(format!(
                "it only crawls {} (its --allow-host); the job asks for {}",
                self.hosts_text(),
                base.host_str().unwrap_or_default()
            )));
        }
        if let Some(host) = config
            .redirect_hosts
            .iter()
            .find(|h| !self.allowed_hosts.iter().any(|a| a.eq_ignore_ascii_case(h)))
        {
            return Err(refuse(format!(
                "it only crawls {} (its --allow-host); the job asks to follow redirects to {host}",
                self.hosts_text()
            )));
        }
        if config.ignore_robots && !self.ignore_robots {
            return Err(refuse(
                "it always obeys robots.txt (it was not started with --ignore-robots); the job \
                 asks to skip it"
                    .to_owned(),
            ));
        }
        if let Some(dir) = &config.cache_dir {
            return Err(refuse(format!(
                "a job cannot choose where a worker writes (it asks for cache directory {}); \
                 the worker caches in its own (--cache-dir when it is started)",
                dir.display()
            )));
        }
        let mut effective = config.clone();
        effective.cache_dir = self.cache_dir.clone();
        effective.max_body_bytes = config.max_body_bytes.min(self.max_body_bytes);
        effective.timeout = config.timeout.min(self.timeout);
        effective.connect_timeout = config.connect_timeout.min(self.connect_timeout);
        if let Some(ceiling) = self.max_requests_per_second {
            effective.requests_per_second = Some(
                config
                    .requests_per_second
                    .map_or(ceiling, |asked| asked.min(ceiling)),
            );
        }
        Ok(effective)
    }

    fn hosts_text(&self) -> String {
        if self.allowed_hosts.is_empty() {
            "no host".to_owned()
        } else {
            self.allowed_hosts.join(", ")
        }
    }

    /// Where the worker's requests leave from, for budget keys and reports: the `--bind-ip`
    /// address, or `host:NAME` (the machine's default address) without one.
    pub fn source(&self) -> String {
        match self.local_address {
            Some(ip) => ip.to_string(),
            None => format!(
                "host:{}",
                sofleet_executor::machine::host_name().unwrap_or_else(|| "localhost".to_owned())
            ),
        }
    }
}

/// A worker's I/O runtime: every request runs on it, whatever executor backend runs the
/// calling task (a `reqwest` connection pool must stay on the runtime that made its
/// connections, and tasks on the threads backend each run on a short-lived runtime).
struct IoRuntime(Option<tokio::runtime::Runtime>);

impl Drop for IoRuntime {
    fn drop(&mut self) {
        // Never blocks, so a worker may be dropped inside async code.
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// A run's fetcher and when a task last asked for it.
struct RunEntry {
    fetcher: Arc<Fetcher>,
    last_used: Instant,
}

/// What a crawl worker owns: its [`WorkerPolicy`], an I/O runtime, an optional
/// [`SharedBudget`] and the fetchers of the runs it serves (one per run, holding the run's
/// rate limiter, host pauses, robots.txt and counters; dropped when the run has been idle for
/// [`RUN_IDLE_RELEASE`] or more than [`MAX_RUNS_KEPT`] runs are kept).
///
/// Give it to the backend that runs the crawl tasks as a resource:
///
/// ```
/// use sofleet_crawl::{CrawlConfig, CrawlWorker};
/// use sofleet_executor::{Client, ThreadsBackend};
///
/// let config = CrawlConfig::default();
/// let worker = CrawlWorker::local(&config).unwrap();
/// let client = Client::new(ThreadsBackend::new(4).with_resources(worker.into_resources()));
/// # drop(client);
/// ```
pub struct CrawlWorker {
    policy: WorkerPolicy,
    budget: Option<Arc<dyn SharedBudget>>,
    runs: Mutex<HashMap<(String, u64), RunEntry>>,
    http: Mutex<HashMap<String, reqwest::Client>>,
    // Declared last: dropped after the fetchers that hold its handle.
    io: IoRuntime,
}

impl std::fmt::Debug for CrawlWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrawlWorker")
            .field("policy", &self.policy)
            .field("shared_budget", &self.budget.is_some())
            .finish_non_exhaustive()
    }
}

impl CrawlWorker {
    /// A worker with `policy`, starting its I/O runtime (two threads).
    ///
    /// # Errors
    /// [`CrawlError::Client`] if the runtime cannot start.
    pub fn new(policy: WorkerPolicy) -> Result<CrawlWorker, CrawlError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("sofleet-crawl-io")
            .enable_all()
            .build()
            .map_err(|e| CrawlError::Client(format!("could not start the I/O runtime: {e}")))?;
        Ok(CrawlWorker {
            policy,
            budget: None,
            runs: Mutex::new(HashMap::new()),
            http: Mutex::new(HashMap::new()),
            io: IoRuntime(Some(rt)),
        })
    }

    /// The worker of a local crawl with `config` ([`WorkerPolicy::for_config`]).
    ///
    /// # Errors
    /// As [`CrawlWorker::new`].
    pub fn local(config: &CrawlConfig) -> Result<CrawlWorker, CrawlError> {
        CrawlWorker::new(WorkerPolicy::for_config(config))
    }

    /// The worker with a fleet-wide rate budget shared with every worker on the same
    /// (host, source address).
    pub fn with_budget(mut self, budget: Arc<dyn SharedBudget>) -> CrawlWorker {
        self.budget = Some(budget);
        self
    }

    /// The worker as executor resources (what crawl tasks read).
    pub fn into_resources(self) -> Resources {
        Resources::new().with(self)
    }

    /// The worker's policy.
    pub fn policy(&self) -> &WorkerPolicy {
        &self.policy
    }

    /// How many runs the worker holds a fetcher for now.
    pub fn runs_kept(&self) -> usize {
        self.runs.lock().len()
    }

    /// The fetcher of run `run_id` for a job's `config`, made on first use (after checking the
    /// job against the policy) and shared by every task of the run on this worker.
    ///
    /// # Errors
    /// As [`WorkerPolicy::admit`], or [`CrawlError::Client`] if the HTTP client cannot be built.
    pub fn fetcher(&self, config: &CrawlConfig, run_id: u64) -> Result<Arc<Fetcher>, CrawlError> {
        let key = (config.digest(), run_id);
        let now = Instant::now();
        let mut runs = self.runs.lock();
        if let Some(entry) = runs.get_mut(&key) {
            entry.last_used = now;
            return Ok(entry.fetcher.clone());
        }
        let effective = self.policy.admit(config)?;
        runs.retain(|_, e| now.duration_since(e.last_used) < RUN_IDLE_RELEASE);
        while runs.len() >= MAX_RUNS_KEPT {
            let oldest = runs
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => runs.remove(&k),
                None => break,
            };
        }
        let link = WorkerLink {
            io: self.io_handle()?,
            http: self.http_client(&effective)?,
            budget: self.budget.clone(),
            source: self.policy.source(),
            worker: self.policy.name.clone(),
        };
        let fetcher = Arc::new(Fetcher::with_link(&effective, link)?);
        runs.insert(
            key,
            RunEntry {
                fetcher: fetcher.clone(),
                last_used: now,
            },
        );
        Ok(fetcher)
    }

    /// The fetchers of the runs kept now.
    pub(crate) fn fetchers(&self) -> Vec<Arc<Fetcher>> {
        self.runs
            .lock()
            .values()
            .map(|e| e.fetcher.clone())
            .collect()
    }

    /// Drops the fetcher of a finished run (tasks still holding it keep working).
    pub fn release(&self, run_id: u64) {
        self.runs.lock().retain(|(_, id), _| *id != run_id);
    }

    fn io_handle(&self) -> Result<tokio::runtime::Handle, CrawlError> {
        self.io
            .0
            .as_ref()
            .map(|rt| rt.handle().clone())
            .ok_or_else(|| CrawlError::Client("the worker's I/O runtime has stopped".to_owned()))
    }

    /// One HTTP client (connection pool) per set of client settings, shared by every run.
    fn http_client(&self, config: &CrawlConfig) -> Result<reqwest::Client, CrawlError> {
        let key = format!(
            "{}|{}|{}|{}",
            config.user_agent,
            crate::config::as_millis(config.connect_timeout),
            crate::config::as_millis(config.timeout),
            config.max_concurrency_per_host
        );
        let mut clients = self.http.lock();
        if let Some(c) = clients.get(&key) {
            return Ok(c.clone());
        }
        if clients.len() >= MAX_RUNS_KEPT {
            clients.clear();
        }
        let io = self.io_handle()?;
        let client = crate::fetch::http_client(config, &io, self.policy.local_address)?;
        clients.insert(key, client.clone());
        Ok(client)
    }
}
