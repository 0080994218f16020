//! Remote sofleet executor backend: workers on other machines through Redis Streams consumer
//! groups.
//!
//! * The client side is [`RedisBackend`], an executor [`Backend`](sofleet_executor::Backend):
//!   `Client::new(RedisBackend::connect(url, RedisOptions::default()).await?)`, or
//!   `Client::connect("redis://host:6379").await?` in any binary linking this crate, and the
//!   client API stays the same.
//! * The worker side is [`run_worker`]: a process (e.g. `sofleet worker --redis URL`, or your
//!   own binary with `fn main() { sofleet::worker::main() }`) builds a
//!   [`TaskRegistry`](sofleet_executor::TaskRegistry) of the task types it can run (usually
//!   [`TaskRegistry::collected`](sofleet_executor::TaskRegistry::collected): every task in
//!   the binary) and calls it; [`shutdown_signal`] gives a graceful stop on SIGTERM.
//!
//! # Protocol
//!
//! * Jobs: `XADD {ns}:jobs` (pipelined batches) by clients; workers `XREADGROUP` them as the
//!   consumer group `{group}`, run them, then in one MULTI/EXEC `XADD` the result to the job's
//!   reply stream and `XACK` + `XDEL` the job entry.
//! * Results: every client reads only its own stream `{ns}:reply:{client id}` (`XREAD`), so
//!   several clients can share one Redis and one fleet.
//! * Recovery: a running job is confirmed by its worker every third of the visibility timeout;
//!   a job not confirmed for [`WorkerOptions::visibility_timeout`] is reclaimed by another
//!   worker (`XAUTOCLAIM`). Deliveries are counted; a job delivered more than
//!   [`WorkerOptions::max_deliveries`] times fails with "worker lost N times". A job may run
//!   twice, but the client reports each job exactly once.
//! * Consumers: a worker that stops gracefully leaves the group (`XGROUP DELCONSUMER`) once
//!   nothing is pending for it; consumers of killed workers (no pending job, no heartbeat,
//!   idle for [`WorkerOptions::consumer_idle_removal`]) are removed by live workers.
//! * Politeness across the fleet: [`RateBudget`] keeps one request schedule (and pauses) per
//!   key, e.g. per target host and source address, in Redis for every worker and client.
//! * Liveness: workers heartbeat `{ns}:worker:{name}` keys (listed by
//!   [`RedisBackend::live_workers`]; [`FleetReader`] reads them, with the queued and pending
//!   jobs, without a backend, for `sofleet status` and the dashboard); each client keeps a `{ns}:client:{id}` marker whose loss
//!   after a reconnect means Redis lost its data, and then resubmits every job in flight. If
//!   Redis stays unreachable for [`RedisOptions::reconnect_timeout`], jobs in flight fail with
//!   a clear error.
//!
//! * Security: `redis://:PASSWORD@HOST` URLs authenticate; `rediss://` uses TLS (web PKI
//!   roots, or a private CA via [`RedisOptions::tls_ca_file`] / [`WorkerOptions::tls_ca_file`]).
//!   Payloads plus inputs, and results, are limited in size (`max_payload_bytes`). Passwords
//!   are masked in every error and log line.
//!
//! The wire format (serde_json payloads, inputs and outputs) is described in the executor's
//! [`backend`](sofleet_executor::backend) module docs.
//!
//! # Example
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use sofleet_executor::Client;
//! use sofleet_redis::testing::tasks::Square;
//! use sofleet_redis::{RedisBackend, RedisOptions};
//!
//! // Workers elsewhere run `run_worker` with `Square` registered.
//! let backend = RedisBackend::connect("redis://:secret@10.0.0.5:6379", RedisOptions::default()).await?;
//! let client = Client::new(backend);
//! let squares = client.map((0..10).map(|x| Square { x }));
//! for f in squares {
//!     println!("{}", f.value().await?);
//! }
//! # Ok(()) }
//! ```

mod backend;
mod backoff;
mod budget;
mod conn;
mod connector;
mod error;
mod fleet;
mod keys;
mod options;
pub mod testing;
mod wire;
mod worker;

pub use backend::RedisBackend;
pub use budget::RateBudget;
pub use conn::redact_url;
pub use error::RedisError;
pub use fleet::{FleetReader, FleetStatus};
pub use options::{
    DEFAULT_GROUP, DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_NAMESPACE, ReadyHook, RedisOptions,
    WorkerOptions,
};
pub use worker::{WorkerInfo, WorkerStats, default_consumer_name, run_worker, shutdown_signal};
