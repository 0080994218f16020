//! One module per subcommand, plus what they share.

pub mod crawl;
pub mod extract;
pub mod mock_site;
pub mod report;
pub mod titles;
pub mod worker;

use sofleet_executor::{Client, ThreadsBackend, TokioBackend};

use crate::args::BackendChoice;
use crate::exit::Failure;

/// The multi-threaded tokio runtime every networked command runs on.
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Input(anyhow::anyhow!("cannot start the async runtime: {e}")))
}

/// A client over the chosen backend. Call inside the runtime (the tokio
/// backend spawns on it). A Redis server that cannot be reached is a network
/// failure.
pub async fn backend_client(choice: &BackendChoice, threads: usize) -> Result<Client, Failure> {
    Ok(match choice {
        BackendChoice::Tokio => Client::new(TokioBackend::new()),
        BackendChoice::Threads => Client::new(ThreadsBackend::new(threads.max(1))),
        BackendChoice::Redis(url) => {
            let backend = sofleet_redis::RedisBackend::connect(url, Default::default())
                .await
                .map_err(|e| {
                    Failure::Network(anyhow::anyhow!(
                        "{e} (is redis-server running, and are workers started with \
                         `sofleet worker --redis {url}`?)"
                    ))
                })?;
            Client::new(backend)
        }
    })
}
