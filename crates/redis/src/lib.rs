//! Remote sofleet executor backend: workers on other machines through Redis Streams consumer
//! groups.
//!
//! * The client side is [`RedisBackend`], an executor [`Backend`](sofleet_executor::Backend):
//!   `Client::new(RedisBackend::connect(url, RedisOptions::default()).await?)` and the client
//!   API stays the same.
//! * The worker side is [`run_worker`]: a process (e.g. `sofleet worker --redis URL`) builds a
//!   [`TaskRegistry`](sofleet_executor::TaskRegistry) of the task types it can run and calls
//!   it; [`shutdown_signal`] gives a graceful stop on SIGTERM.
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
//! * Liveness: workers heartbeat `{ns}:worker:{name}` keys (listed by
//!   [`RedisBackend::live_workers`]); each client keeps a `{ns}:client:{id}` marker whose loss
//!   after a reconnect means Redis lost its data, and then resubmits every job in flight. If
//!   Redis stays unreachable for [`RedisOptions::reconnect_timeout`], jobs in flight fail with
//!   a clear error.
//!
//! The wire format (serde_json payloads, inputs and outputs) is described in the executor's
//! [`backend`](sofleet_executor::backend) module docs.

mod backend;
mod conn;
mod error;
mod keys;
pub mod testing;
mod wire;
mod worker;

pub use backend::{RedisBackend, RedisOptions};
pub use error::RedisError;
pub use worker::{
    DEFAULT_GROUP, DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_NAMESPACE, WorkerInfo, WorkerOptions,
    WorkerStats, run_worker, shutdown_signal,
};
