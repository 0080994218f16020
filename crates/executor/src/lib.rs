//! Dask-style futures for Rust: submit, map, wait, as_completed and gather over pluggable
//! backends.
//!
//! * [`Client::submit`] returns a [`TaskFuture`] at once; the task runs on the client's
//!   [`Backend`]: [`ThreadsBackend`] (OS threads, for blocking/CPU work; no runtime needed) or
//!   [`TokioBackend`] (tokio tasks, for async I/O). A remote backend plugs into the same trait.
//! * Tasks are typed, named, serde-serialisable structs implementing [`Task`], so they can cross
//!   processes. Most users write plain functions under `#[sofleet::task]` (crate `sofleet`,
//!   which re-exports this one), which generates exactly such a struct; this crate's examples
//!   show the hand-written form. [`Client::submit_fn`] takes a closure as a local-only
//!   convenience.
//! * Backends by name: [`Client::connect`] (`"threads:4"`, `"tokio"`, a URL a backend crate
//!   registered) and [`Client::from_env`] (`SOFLEET_BACKEND`).
//! * Keys: pure tasks get a content key, so identical submissions share one future and run once;
//!   see [`key`] for the exact rule. [`SubmitOptions`] sets purity, an explicit key, retries
//!   with backoff ([`RetryPolicy`]), resource tags (limited with
//!   [`Client::set_resource_limit`]) and fire-and-forget.
//! * Dependencies: [`Client::submit_after`] starts a task when its dependencies finish and hands
//!   their outputs over ([`TaskContext::input`]); a task whose arguments are [`Input`]s takes
//!   futures as arguments directly ([`Task::dependencies`]); a failure reaches every dependent as
//!   [`ExecError::DependencyFailed`] naming the failed key.
//! * Collecting: [`wait`], [`as_completed`] (with [`AsCompleted::add`] and
//!   [`AsCompleted::batches`]), [`gather`], and the backpressured [`Client::map_bounded`].
//! * Lifetime: dropping every handle of an unfinished future cancels it (unless
//!   fire-and-forget); a finished result is freed when its last handle is dropped.
//! * Progress: [`Client::events`] streams [`Event`]s for progress bars.
//!
//! Writing a backend: the protocol and what only an implementer needs ([`backend::Job`],
//! [`backend::CompletionSink`], [`backend::run_job`], ...) live in [`backend`]; the shared test
//! suite, and a `ManualBackend` to step the scheduler by hand, in `conformance` (cargo feature
//! `conformance`).
//!
//! # Example: the lesson's flow (hand-written tasks)
//!
//! List pages are fetched as tasks; as each listing completes, question tasks are submitted
//! for the questions it lists and added to the same `as_completed` loop. Identical question
//! tasks (a question on two listing pages) share one key, so each question is fetched once.
//!
//! ```
//! use futures::StreamExt;
//! use serde::{Deserialize, Serialize};
//! use sofleet_executor::{
//!     Client, Errors, SubmitOptions, Task, TaskContext, TaskError, ThreadsBackend,
//!     as_completed, gather,
//! };
//!
//! #[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
//! enum Page {
//!     Listing { page: u32, questions: Vec<u32> },
//!     Question { id: u32, title: String },
//! }
//!
//! #[derive(Serialize, Deserialize)]
//! struct FetchListing { page: u32 }
//! impl Task for FetchListing {
//!     type Output = Page;
//!     const NAME: &'static str = "fetch-listing";
//!     async fn run(self, _ctx: TaskContext) -> Result<Page, TaskError> {
//!         // Pretend each listing shows three questions, overlapping the next page by one.
//!         let first = self.page * 2;
//!         Ok(Page::Listing { page: self.page, questions: vec![first, first + 1, first + 2] })
//!     }
//! }
//!
//! #[derive(Serialize, Deserialize)]
//! struct FetchQuestion { id: u32 }
//! impl Task for FetchQuestion {
//!     type Output = Page;
//!     const NAME: &'static str = "fetch-question";
//!     async fn run(self, _ctx: TaskContext) -> Result<Page, TaskError> {
//!         Ok(Page::Question { id: self.id, title: format!("question {}", self.id) })
//!     }
//! }
//!
//! // Plain synchronous code: the threads backend needs no async runtime.
//! let client = Client::new(ThreadsBackend::new(2));
//! client.set_resource_limit("host=example.org", 2); // at most 2 fetches at once
//! let polite = SubmitOptions::new().resource("host=example.org");
//!
//! let listings: Vec<_> = (0..3)
//!     .map(|p| client.submit_with(FetchListing { page: p }, polite.clone()))
//!     .collect();
//!
//! let titles = futures::executor::block_on(async {
//!     let mut questions = Vec::new();
//!     let mut done = as_completed(listings);
//!     while let Some((_future, result)) = done.next().await {
//!         match result.expect("fetch failed") {
//!             Page::Listing { questions: ids, .. } => {
//!                 for id in ids {
//!                     let q = client.submit_with(FetchQuestion { id }, polite.clone());
//!                     questions.push(q.clone()); // keep the handle: same key => same future
//!                     done.add(q);
//!                 }
//!             }
//!             Page::Question { .. } => {}
//!         }
//!     }
//!     gather(questions, Errors::Raise).await.expect("all questions fetched")
//! });
//! assert_eq!(titles.len(), 9); // 3 listings x 3 questions (7 distinct, 2 shared)
//!
//! // client.map + blocking result() from sync code:
//! let futures = client.map((0..4).map(|id| FetchQuestion { id: id + 100 }));
//! let first = futures[0].result().unwrap();
//! assert_eq!(first, Page::Question { id: 100, title: "question 100".into() });
//! ```

pub mod backend;
mod client;
#[cfg(feature = "conformance")]
pub mod conformance;
mod connect;
mod error;
mod events;
mod future;
mod id_hash;
pub mod input;
pub mod key;
pub mod machine;
pub mod monitor;
mod options;
mod resources;
mod scheduler;
mod stream;
pub mod task;
mod threads;
mod timer;
mod tokio_backend;

// The two backend items every user names; what only backend implementers need (`Job`,
// `JobId`, `JobOutcome`, `CompletionSink`, `run_job`, ...) stays under `backend::`.
pub use backend::{Backend, BackendError};
pub use client::{Client, ClientStats};
pub use connect::{BACKEND_ENV, BackendConnector, ConnectError, ConnectFn, accepted_forms};
pub use error::{ExecError, TaskStatus};
pub use events::{Event, EventStream};
pub use future::{AnyFuture, TaskFuture, Waitable};
pub use input::{Input, IntoInput, input_base};
pub use key::{TaskKey, TaskName};
pub use monitor::Monitor;
pub use options::{RetryPolicy, SubmitOptions};
pub use resources::Resources;
pub use stream::{
    AsCompleted, Batches, Errors, MapBounded, ReturnWhen, WaitOptions, as_completed, gather, wait,
};
pub use task::{
    DuplicateTask, ErasedValue, Task, TaskContext, TaskError, TaskRegistration, TaskRegistry,
};
pub use threads::ThreadsBackend;
pub use tokio_backend::{NoRuntime, TokioBackend};

/// A tiny task used by the documentation examples.
#[doc(hidden)]
pub mod conformance_free_example {
    use serde::{Deserialize, Serialize};

    /// Returns `2 * x`.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct Double {
        /// Input.
        pub x: u64,
    }

    impl crate::Task for Double {
        type Output = u64;
        const NAME: &'static str = "double";
        async fn run(self, _ctx: crate::TaskContext) -> Result<u64, crate::TaskError> {
            Ok(2 * self.x)
        }
    }
}

/// Re-export of `serde`, for crates that define tasks without depending on serde directly
/// (derive with `#[serde(crate = "sofleet_executor::serde")]`).
pub use serde;

/// What the `register_task!` / `register_backend!` macros and `#[sofleet::task]` expand to;
/// not a public API.
#[doc(hidden)]
pub mod __private {
    pub use inventory;
}
