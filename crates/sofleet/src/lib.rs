//! Dask's futures for Rust: tasks are plain functions, one string picks where they run.
//!
//! This is the crate to depend on. It re-exports the executor ([`Client`], [`TaskFuture`],
//! [`wait`], [`as_completed`], [`gather`], …) and adds:
//!
//! * [`#[sofleet::task]`](macro@task): a plain function, sync or async, becomes a task; calling
//!   it builds the task (`client.submit(score(q))`), any argument may be a future of an earlier
//!   task, and the task registers itself so every worker built from the same code runs it;
//! * [`Client::connect`]: `"threads:4"`, `"tokio"` or `"redis://host:6379"` (cargo feature
//!   `redis`), or [`Client::from_env`] with `SOFLEET_BACKEND`;
//! * [`worker::main`] (feature `redis`): a fleet worker is
//!   `fn main() { sofleet::worker::main() }` in your own binary.
//!
//! | feature | adds |
//! |---------|------|
//! | (none)  | the executor, threads and tokio backends, `#[task]` |
//! | `redis` | `redis://` / `rediss://` in [`Client::connect`], [`worker`], [`redis`] |
//!
//! # Example: the lesson's flow
//!
//! Listing pages are fetched as tasks; as each listing completes, the questions it lists are
//! submitted and added to the same `as_completed` loop. Identical question tasks (a question on
//! two listing pages) share one key, so each question is fetched once. The Dask version is in
//! the README, side by side.
//!
//! ```
//! use futures::StreamExt;
//! use serde::{Deserialize, Serialize};
//! use sofleet::{Client, Errors, SubmitOptions, TaskError, as_completed, gather};
//!
//! #[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
//! pub enum Page {
//!     Listing { page: u32, questions: Vec<u32> },
//!     Question { id: u32, title: String },
//! }
//!
//! /// Pretend each listing shows three questions, overlapping the next page by one.
//! #[sofleet::task]
//! pub async fn fetch_listing(page: u32) -> Result<Page, TaskError> {
//!     let first = page * 2;
//!     Ok(Page::Listing { page, questions: vec![first, first + 1, first + 2] })
//! }
//!
//! #[sofleet::task]
//! pub async fn fetch_question(id: u32) -> Result<Page, TaskError> {
//!     Ok(Page::Question { id, title: format!("question {id}") })
//! }
//!
//! /// A synchronous function runs where blocking is allowed.
//! #[sofleet::task]
//! pub fn title_length(page: Page) -> Result<usize, TaskError> {
//!     match page {
//!         Page::Question { title, .. } => Ok(title.len()),
//!         Page::Listing { .. } => Err(TaskError::fatal("not a question")),
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! futures::executor::block_on(async {
//!     // `Client()` in Dask; "tokio" or "redis://host:6379" change nothing below.
//!     let client = Client::connect("threads:2").await?;
//!     client.set_resource_limit("host=example.org", 2); // at most 2 fetches at once
//!     let polite = SubmitOptions::new().resource("host=example.org");
//!
//!     let listings = (0..3).map(|p| client.submit_with(fetch_listing(p), polite.clone()));
//!     let mut questions = Vec::new();
//!     let mut done = as_completed(listings);
//!     while let Some((_future, page)) = done.next().await {
//!         if let Page::Listing { questions: ids, .. } = page? {
//!             for id in ids {
//!                 let q = client.submit_with(fetch_question(id), polite.clone());
//!                 questions.push(q.clone()); // same key => same future
//!                 done.add(q);
//!             }
//!         }
//!     }
//!     let pages = gather(questions.clone(), Errors::Raise).await?;
//!     assert_eq!(pages.len(), 9); // 3 listings x 3 questions (7 distinct, 2 shared)
//!
//!     // A future as an argument: the task starts when the question is fetched.
//!     let length = client.submit(title_length(&questions[0]));
//!     assert_eq!(length.await?, "question 0".len());
//!
//!     // map, like Dask's client.map(f, xs):
//!     let more = client.map((100..104).map(fetch_question));
//!     assert_eq!(more[0].value().await?, Page::Question { id: 100, title: "question 100".into() });
//!     Ok::<_, Box<dyn std::error::Error>>(())
//! })
//! # }
//! ```
//!
//! # The expanded form
//!
//! `#[sofleet::task]` writes the [`Task`] implementation a library user could write by hand:
//! `fetch_question` above becomes a `FetchQuestionTask` struct of [`Input`]s, a constructor
//! function, `impl Task` (`NAME` is the module path and function name, `VERSION` 1, pure) and a
//! [`register_task!`]. Writing `impl Task` yourself stays supported (see [`Task`]): it gives
//! control over the struct and its serialised form.

pub use sofleet_executor::*;

/// Turns a function into a task: see the [crate docs](crate) and [`sofleet_macros`].
///
/// ```
/// use sofleet::{Client, TaskError};
///
/// #[sofleet::task(version = 2, retries = 3)]
/// async fn add(a: u64, b: u64) -> Result<u64, TaskError> {
///     Ok(a + b)
/// }
///
/// let client = futures::executor::block_on(Client::connect("threads:2")).unwrap();
/// let three = client.submit(add(1, 2));
/// let seven = client.submit(add(&three, 4)); // a future as an argument
/// assert_eq!(seven.result().unwrap(), 7);
/// ```
pub use sofleet_macros::task;

/// The Redis fleet backend (feature `redis`): [`RedisBackend`](redis::RedisBackend) and its
/// options, for control beyond [`Client::connect`].
#[cfg(feature = "redis")]
pub use sofleet_redis as redis;

#[cfg(feature = "redis")]
pub mod worker;
