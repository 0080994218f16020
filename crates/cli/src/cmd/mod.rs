//! One module per subcommand, plus what they share.

pub mod crawl;
pub mod extract;
pub mod mock_site;
pub mod report;
pub mod titles;

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
/// backend spawns on it).
pub fn backend_client(choice: &BackendChoice, threads: usize) -> Client {
    match choice {
        BackendChoice::Tokio => Client::new(TokioBackend::new()),
        BackendChoice::Threads => Client::new(ThreadsBackend::new(threads.max(1))),
    }
}
