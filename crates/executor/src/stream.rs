//! [`wait`], [`as_completed`], [`gather`] and the backpressured [`MapBounded`] stream.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::stream::FuturesUnordered;
use futures::{Stream, StreamExt};

use crate::error::{ExecError, TaskStatus};
use crate::future::{AnyFuture, TaskFuture, Waitable};

/// When [`wait`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReturnWhen {
    /// When every future is done.
    #[default]
    AllCompleted,
    /// When any future is done.
    FirstCompleted,
    /// When any future fails or is cancelled, or when all are done.
    FirstException,
}

/// Options of [`wait`].
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct WaitOptions {
    /// The condition to wait for.
    pub return_when: ReturnWhen,
    /// Give up after this long and return what is done so far.
    pub timeout: Option<Duration>,
}

impl WaitOptions {
    /// Wait for all, no timeout.
    pub fn all() -> Self {
        Self::default()
    }

    /// Sets the condition.
    pub fn return_when(mut self, r: ReturnWhen) -> Self {
        self.return_when = r;
        self
    }

    /// Sets the timeout.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }
}

struct DoneSignal {
    any: AnyFuture,
}

impl Future for DoneSignal {
    type Output = TaskStatus;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<TaskStatus> {
        self.any.cell().poll_done(cx)
    }
}

/// Waits on `futures` (Dask's `wait`) until `opts.return_when` holds or `opts.timeout` passes,
/// and returns `(done, not_done)`, each in input order. Never fails: inspect the futures.
/// Works on any executor (the timeout uses the crate's own timer thread).
///
/// ```
/// use std::time::Duration;
/// use sofleet_executor::conformance_free_example::Double;
/// use sofleet_executor::{Client, ReturnWhen, SubmitOptions, ThreadsBackend, WaitOptions, wait};
///
/// let client = Client::new(ThreadsBackend::new(2));
/// client.set_resource_limit("paused", 0); // holds tagged tasks back
/// let quick = client.submit(Double { x: 1 });
/// let held = client.submit_with(Double { x: 2 }, SubmitOptions::new().resource("paused"));
/// let opts = WaitOptions::all()
///     .return_when(ReturnWhen::FirstCompleted)
///     .timeout(Duration::from_secs(10));
/// let (done, pending) = futures::executor::block_on(wait(&[quick.clone(), held.clone()], opts));
/// assert_eq!(done[0].key(), quick.key());
/// assert_eq!(pending[0].key(), held.key());
/// ```
pub async fn wait<F: Waitable>(futures: &[F], opts: WaitOptions) -> (Vec<F>, Vec<F>) {
    let mut signals: FuturesUnordered<DoneSignal> = futures
        .iter()
        .map(|f| DoneSignal {
            any: f.any_future().clone(),
        })
        .collect();
    let cond = async {
        while let Some(status) = signals.next().await {
            match opts.return_when {
                ReturnWhen::AllCompleted => {}
                ReturnWhen::FirstCompleted => return,
                ReturnWhen::FirstException => {
                    if status != TaskStatus::Finished {
                        return;
                    }
                }
            }
        }
    };
    match opts.timeout {
        Some(t) => {
            let delay = crate::timer::sleep(t);
            futures::pin_mut!(cond);
            futures::pin_mut!(delay);
            futures::future::select(cond, delay).await;
        }
        None => cond.await,
    }
    futures
        .iter()
        .cloned()
        .partition(|f| f.any_future().status().is_done())
}

/// What [`gather`] does with failed futures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Errors {
    /// Return the first error that occurs.
    #[default]
    Raise,
    /// Leave failed futures out of the result.
    Skip,
}

/// Waits for all `futures` and returns their outputs in input order; with
/// [`Errors::Raise`] the first failure (in completion order) is returned as soon as it happens,
/// with [`Errors::Skip`] failed futures are left out.
pub async fn gather<T>(
    futures: impl IntoIterator<Item = TaskFuture<T>>,
    errors: Errors,
) -> Result<Vec<T>, ExecError> {
    match errors {
        Errors::Raise => futures::future::try_join_all(futures).await,
        Errors::Skip => Ok(futures::future::join_all(futures)
            .await
            .into_iter()
            .filter_map(Result::ok)
            .collect()),
    }
}

struct Tagged<T> {
    fut: Option<TaskFuture<T>>,
}

impl<T> Future for Tagged<T> {
    type Output = (TaskFuture<T>, Result<T, ExecError>);
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(f) = self.fut.as_mut() else {
            return Poll::Pending;
        };
        match Pin::new(f).poll(cx) {
            Poll::Ready(r) => {
                let f = self.fut.take().expect("checked");
                Poll::Ready((f, r))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Yields futures as they complete, with their results (Dask's `as_completed(..,
/// with_results=True)`). Futures can be added while iterating with [`AsCompleted::add`]; the
/// stream ends when every added future has been yielded. It keeps no handle or result after
/// yielding it, so memory stays proportional to the futures not yet yielded.
pub struct AsCompleted<T> {
    inner: FuturesUnordered<Tagged<T>>,
}

impl<T> std::fmt::Debug for AsCompleted<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AsCompleted({} pending)", self.inner.len())
    }
}

/// Makes an [`AsCompleted`] stream over `futures`.
pub fn as_completed<T>(futures: impl IntoIterator<Item = TaskFuture<T>>) -> AsCompleted<T> {
    AsCompleted {
        inner: futures
            .into_iter()
            .map(|f| Tagged { fut: Some(f) })
            .collect(),
    }
}

impl<T> AsCompleted<T> {
    /// Adds a future to the set being waited on.
    pub fn add(&mut self, future: TaskFuture<T>) {
        self.inner.push(Tagged { fut: Some(future) });
    }

    /// Adds several futures.
    pub fn update(&mut self, futures: impl IntoIterator<Item = TaskFuture<T>>) {
        for f in futures {
            self.add(f);
        }
    }

    /// Number of futures not yielded yet.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether every future has been yielded.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// Turns the stream into one that yields everything completed so far as a batch (a
    /// non-empty `Vec`) each time (Dask's `as_completed(...).batches()`).
    pub fn batches(self) -> Batches<T> {
        Batches { inner: self }
    }
}

impl<T> Stream for AsCompleted<T> {
    type Item = (TaskFuture<T>, Result<T, ExecError>);
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.inner.len(), None)
    }
}

/// Batched form of [`AsCompleted`]; see [`AsCompleted::batches`].
pub struct Batches<T> {
    inner: AsCompleted<T>,
}

impl<T> std::fmt::Debug for Batches<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Batches({:?})", self.inner)
    }
}

impl<T> Batches<T> {
    /// Adds a future to the set being waited on.
    pub fn add(&mut self, future: TaskFuture<T>) {
        self.inner.add(future)
    }

    /// Number of futures not yielded yet.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether every future has been yielded.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }
}

impl<T> Stream for Batches<T> {
    type Item = Vec<(TaskFuture<T>, Result<T, ExecError>)>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut batch = Vec::new();
        loop {
            match self.inner.poll_next_unpin(cx) {
                Poll::Ready(Some(item)) => batch.push(item),
                Poll::Ready(None) => {
                    return Poll::Ready(if batch.is_empty() { None } else { Some(batch) });
                }
                Poll::Pending => {
                    return if batch.is_empty() {
                        Poll::Pending
                    } else {
                        Poll::Ready(Some(batch))
                    };
                }
            }
        }
    }
}

type Source<T> = Box<dyn FnMut() -> Option<TaskFuture<T>> + Send>;

/// The stream returned by [`Client::map_bounded`](crate::Client::map_bounded): at most
/// `max_in_flight` tasks submitted and not yet yielded; results in completion order.
pub struct MapBounded<T> {
    source: Option<Source<T>>,
    in_flight: FuturesUnordered<TaskFuture<T>>,
    max: usize,
}

impl<T> std::fmt::Debug for MapBounded<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "MapBounded({} in flight, max {})",
            self.in_flight.len(),
            self.max
        )
    }
}

impl<T> MapBounded<T> {
    pub(crate) fn new(source: Source<T>, max: usize) -> Self {
        MapBounded {
            source: Some(source),
            in_flight: FuturesUnordered::new(),
            max,
        }
    }

    /// Number of tasks submitted and not yet yielded.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }
}

impl<T> Stream for MapBounded<T> {
    type Item = Result<T, ExecError>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        while this.in_flight.len() < this.max {
            let Some(src) = this.source.as_mut() else {
                break;
            };
            match src() {
                Some(f) => this.in_flight.push(f),
                None => this.source = None,
            }
        }
        match this.in_flight.poll_next_unpin(cx) {
            Poll::Ready(None) if this.source.is_some() => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            other => other,
        }
    }
}
