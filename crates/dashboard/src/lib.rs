//! A live dashboard for sofleet, like the one Dask serves at `:8787`: progress per task name,
//! the task stream (one lane per place a task runs), the workers, the throughput over time,
//! and panels a program adds (the crawl adds its politeness state and latest failures). The
//! page updates itself (server-sent events) without reloading; `/api/status` serves the same
//! data as JSON for scripts and `/metrics` as Prometheus text.
//!
//! It watches a client through its [`Monitor`] (counters the scheduler keeps for it: no event
//! per task crosses a channel, so the executor's throughput is kept), a Redis fleet through a
//! [`WorkerSource`], or both. Everything is read-only, loopback by default, and a token is
//! required to bind any other address.
//!
//! ```no_run
//! use sofleet_executor::{Client, TokioBackend};
//!
//! # async fn example() -> Result<(), sofleet_dashboard::DashboardError> {
//! let client = Client::new(TokioBackend::new());
//! let dashboard = sofleet_dashboard::Dashboard::for_client(&client)
//!     .serve("127.0.0.1:8787".parse().unwrap())
//!     .await?;
//! println!("Dashboard: {}", dashboard.url());
//! // … submit work; the page shows it live …
//! dashboard.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! Pages: `/status` (the dashboard; `/status?live=0` renders once, without the live stream, for
//! screenshots), `/api/status` ([`Status`] as JSON), `/api/events` (the
//! same, as server-sent events, one per update), `/metrics` (Prometheus text).

mod error;
mod metrics;
mod sampler;
mod server;
mod sources;
mod status;
#[cfg(feature = "testing")]
pub mod testing;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sofleet_executor::{Client, Monitor};
use tokio::sync::{Notify, oneshot, watch};

pub use error::DashboardError;
pub use metrics::prometheus_text;
pub use sources::{LocalWorker, PanelSource, WorkerSource, Workers};
pub use status::{Panel, Progress, Span, Status, TaskStream, WorkerRow};

/// One update as readers get it: the status, and its JSON made once for every reader.
#[derive(Debug)]
pub(crate) struct Published {
    pub(crate) status: Arc<Status>,
    pub(crate) json: Arc<str>,
}

impl Published {
    pub(crate) fn new(status: Status) -> Published {
        let json = serde_json::to_string(&status).unwrap_or_default();
        Published {
            status: Arc::new(status),
            json: json.into(),
        }
    }
}

/// The default address: Dask's port, on loopback.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8787";

/// The environment variable holding the token (for binds other than loopback).
pub const TOKEN_ENV: &str = "SOFLEET_DASHBOARD_TOKEN";

/// What a dashboard shows and how it is served; [`serve`](Dashboard::serve) starts it.
pub struct Dashboard {
    title: String,
    monitor: Option<Monitor>,
    local: Option<LocalWorker>,
    sources: Vec<Arc<dyn WorkerSource>>,
    panels: Vec<Arc<dyn PanelSource>>,
    token: Option<String>,
    interval: Duration,
    window: Duration,
}

impl std::fmt::Debug for Dashboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dashboard")
            .field("title", &self.title)
            .field("monitor", &self.monitor)
            .field("sources", &self.sources.len())
            .field("panels", &self.panels.len())
            .field("token", &self.token.as_ref().map(|_| "(set)"))
            .finish_non_exhaustive()
    }
}

impl Dashboard {
    /// An empty dashboard titled `title`: add a monitor, workers and panels.
    ///
    /// ```
    /// let d = sofleet_dashboard::Dashboard::new("fleet");
    /// assert!(format!("{d:?}").contains("fleet"));
    /// ```
    pub fn new(title: impl Into<String>) -> Dashboard {
        Dashboard {
            title: title.into(),
            monitor: None,
            local: None,
            sources: Vec::new(),
            panels: Vec::new(),
            token: None,
            interval: Duration::from_millis(500),
            window: Duration::from_secs(120),
        }
    }

    /// A dashboard of `client`: its monitor, and this process as its one worker.
    pub fn for_client(client: &Client) -> Dashboard {
        let monitor = client.monitor();
        Dashboard::new(format!("sofleet ({})", monitor.backend()))
            .monitor(monitor)
            .local_worker(LocalWorker::default())
    }

    /// Sets the title.
    pub fn title(mut self, title: impl Into<String>) -> Dashboard {
        self.title = title.into();
        self
    }

    /// Watches a client's monitor (progress, task stream, throughput).
    pub fn monitor(mut self, monitor: Monitor) -> Dashboard {
        self.monitor = Some(monitor);
        self
    }

    /// Lists this process as a worker (with a monitor: its counters are the monitor's).
    pub fn local_worker(mut self, worker: LocalWorker) -> Dashboard {
        self.local = Some(worker);
        self
    }

    /// Adds workers from elsewhere (a Redis fleet).
    pub fn worker_source(mut self, source: Arc<dyn WorkerSource>) -> Dashboard {
        self.sources.push(source);
        self
    }

    /// Adds panels.
    pub fn panel_source(mut self, source: Arc<dyn PanelSource>) -> Dashboard {
        self.panels.push(source);
        self
    }

    /// Requires `token` on every request (`?token=` or `Authorization: Bearer`). Needed to
    /// bind an address other than loopback.
    pub fn token(mut self, token: Option<String>) -> Dashboard {
        self.token = token;
        self
    }

    /// How often the page updates (default 500 ms; kept within 50 ms ..= 10 s).
    pub fn update_interval(mut self, interval: Duration) -> Dashboard {
        self.interval = interval.clamp(Duration::from_millis(50), Duration::from_secs(10));
        self
    }

    /// How much time the task stream shows (default 2 minutes; kept within 5 s ..= 1 h).
    pub fn stream_window(mut self, window: Duration) -> Dashboard {
        self.window = window.clamp(Duration::from_secs(5), Duration::from_secs(3600));
        self
    }

    /// Serves the dashboard on `addr` (the next free port if that one is busy; port 0 for any)
    /// from the current tokio runtime, and returns once it listens.
    ///
    /// # Errors
    /// [`DashboardError::TokenRequired`] for an address other than loopback without a token,
    /// [`DashboardError::BadToken`], [`DashboardError::Bind`], [`DashboardError::NoRuntime`].
    pub async fn serve(self, addr: SocketAddr) -> Result<DashboardHandle, DashboardError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(DashboardError::NoRuntime);
        }
        if let Some(token) = &self.token {
            check_token(token)?;
        } else if !addr.ip().is_loopback() {
            return Err(DashboardError::TokenRequired { addr });
        }
        let listener = server::bind(addr).await?;
        let local_addr = listener.local_addr().map_err(|e| DashboardError::Bind {
            addr,
            message: e.to_string(),
        })?;
        let mut sampler = sampler::Sampler::new(sampler::Inputs {
            title: self.title,
            monitor: self.monitor,
            local: self.local,
            sources: self.sources,
            panels: self.panels,
            interval: self.interval,
            window: self.window,
        });
        let first = sampler.update().await;
        let (tx, rx) = watch::channel(Arc::new(Published::new(first)));
        let now = Arc::new(Notify::new());
        let (stop_sampler, stop_rx) = oneshot::channel();
        let sampler_task = tokio::spawn(sampler.run(tx, now.clone(), stop_rx));
        let app = server::router(server::AppState {
            latest: rx.clone(),
            token: self.token.as_deref().map(Arc::from),
        });
        let (stop_server, stopped) = oneshot::channel::<()>();
        let server_task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::warn!("the dashboard's server stopped: {e}");
            }
        });
        Ok(DashboardHandle {
            addr: local_addr,
            needs_token: self.token.is_some(),
            latest: rx,
            now,
            stop: Some((stop_sampler, stop_server)),
            tasks: Some((sampler_task, server_task)),
        })
    }
}

/// A token must be 8 to 256 characters a URL keeps as they are.
fn check_token(token: &str) -> Result<(), DashboardError> {
    let reason = if token.len() < 8 {
        "it is shorter than 8 characters"
    } else if token.len() > 256 {
        "it is longer than 256 characters"
    } else if !token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        "it has a character other than A-Z a-z 0-9 - _ ."
    } else {
        return Ok(());
    };
    Err(DashboardError::BadToken {
        reason: reason.to_string(),
    })
}

/// A running dashboard. Dropping it stops it too, without waiting.
#[derive(Debug)]
pub struct DashboardHandle {
    addr: SocketAddr,
    needs_token: bool,
    latest: watch::Receiver<Arc<Published>>,
    now: Arc<Notify>,
    stop: Option<(oneshot::Sender<()>, oneshot::Sender<()>)>,
    tasks: Option<(tokio::task::JoinHandle<()>, tokio::task::JoinHandle<()>)>,
}

impl DashboardHandle {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The page's URL, without the token (`http://127.0.0.1:8787/status`).
    pub fn url(&self) -> String {
        format!("http://{}/status", self.addr)
    }

    /// Whether requests need the token.
    pub fn needs_token(&self) -> bool {
        self.needs_token
    }

    /// The latest status.
    pub fn status(&self) -> Arc<Status> {
        self.latest.borrow().status.clone()
    }

    /// Makes an update now and returns it (for final figures at the end of a run).
    pub async fn refresh(&self) -> Arc<Status> {
        let mut rx = self.latest.clone();
        let before = rx.borrow_and_update().status.seq;
        self.now.notify_one();
        loop {
            if rx.changed().await.is_err() {
                return self.status();
            }
            let s = rx.borrow_and_update().status.clone();
            if s.seq > before {
                return s;
            }
        }
    }

    /// Stops the server (open pages see their stream end) and waits for it.
    pub async fn shutdown(mut self) {
        self.stop_now();
        if let Some((sampler, server)) = self.tasks.take() {
            let _ = sampler.await;
            let _ = server.await;
        }
    }

    fn stop_now(&mut self) {
        if let Some((sampler, server)) = self.stop.take() {
            let _ = sampler.send(());
            let _ = server.send(());
        }
    }
}

impl Drop for DashboardHandle {
    fn drop(&mut self) {
        self.stop_now();
    }
}
