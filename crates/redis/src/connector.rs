//! `Client::connect("redis://…")`: the Redis backend's [`BackendConnector`], registered in
//! every binary that links this crate.

use futures::future::BoxFuture;
use sofleet_executor::{Backend, BackendConnector, BackendError};

use crate::{RedisBackend, RedisOptions};

/// Connects with the default [`RedisOptions`] (namespace and group match a default
/// [`WorkerOptions`](crate::WorkerOptions), so `sofleet::worker::main()` serves it).
fn connect(url: String) -> BoxFuture<'static, Result<Box<dyn Backend>, BackendError>> {
    Box::pin(async move {
        RedisBackend::connect(&url, RedisOptions::default())
            .await
            .map(|backend| Box::new(backend) as Box<dyn Backend>)
            .map_err(|e| BackendError::new(e.to_string()))
    })
}

sofleet_executor::register_backend!(
    BackendConnector::new(
        &["redis", "rediss"],
        "redis://[:PASSWORD@]HOST[:PORT][/DB] (rediss:// for TLS)",
        connect,
    )
    .on_tokio()
);
