//! [`TaskFuture`] and its type-erased form [`AnyFuture`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use parking_lot::Mutex;
use std::task::{Context, Poll, Waker};

use crate::backend::JobValue;
use crate::error::{ExecError, TaskStatus};
use crate::key::{TaskKey, TaskName};
use crate::scheduler::Shared;

struct CellInner {
    status: TaskStatus,
    result: Option<Result<JobValue, ExecError>>,
    waker: Option<Waker>,
    more_wakers: Vec<Waker>,
}

/// State of one task shared by its handles and the scheduler.
pub(crate) struct Cell {
    pub(crate) id: u64,
    pub(crate) key: TaskKey,
    pub(crate) name: TaskName,
    inner: Mutex<CellInner>,
}

impl Cell {
    pub(crate) fn new(id: u64, key: TaskKey, name: TaskName) -> Self {
        Cell {
            id,
            key,
            name,
            inner: Mutex::new(CellInner {
                status: TaskStatus::Pending,
                result: None,
                waker: None,
                more_wakers: Vec::new(),
            }),
        }
    }

    fn lock(&self) -> parking_lot::MutexGuard<'_, CellInner> {
        self.inner.lock()
    }

    pub(crate) fn status(&self) -> TaskStatus {
        self.lock().status
    }

    pub(crate) fn set_status(&self, status: TaskStatus) {
        let mut g = self.lock();
        if g.result.is_none() {
            g.status = status;
        }
    }

    pub(crate) fn value(&self) -> Option<JobValue> {
        match &self.lock().result {
            Some(Ok(v)) => Some(v.clone()),
            _ => None,
        }
    }

    pub(crate) fn error(&self) -> Option<ExecError> {
        match &self.lock().result {
            Some(Err(e)) => Some(e.clone()),
            _ => None,
        }
    }

    /// Stores the final result; the wakers to call are appended to `wakers`.
    pub(crate) fn complete(
        &self,
        status: TaskStatus,
        result: Result<JobValue, ExecError>,
        wakers: &mut Wakers,
    ) {
        let mut g = self.lock();
        if g.result.is_some() {
            return;
        }
        g.status = status;
        g.result = Some(result);
        if let Some(w) = g.waker.take() {
            wakers.push(w);
        }
        for w in g.more_wakers.drain(..) {
            wakers.push(w);
        }
    }

    /// Polls for the final result.
    pub(crate) fn poll_result(&self, cx: &mut Context<'_>) -> Poll<Result<JobValue, ExecError>> {
        let mut g = self.lock();
        match &g.result {
            Some(r) => Poll::Ready(r.clone()),
            None => {
                register(&mut g, cx.waker());
                Poll::Pending
            }
        }
    }

    /// Polls for completion only (no value clone).
    pub(crate) fn poll_done(&self, cx: &mut Context<'_>) -> Poll<TaskStatus> {
        let mut g = self.lock();
        if g.result.is_some() {
            Poll::Ready(g.status)
        } else {
            register(&mut g, cx.waker());
            Poll::Pending
        }
    }
}

/// Wakers collected under the scheduler lock, woken after it is released (no allocation for
/// the usual single waker).
#[derive(Default)]
pub(crate) struct Wakers {
    one: Option<Waker>,
    more: Vec<Waker>,
}

impl Wakers {
    pub(crate) fn push(&mut self, w: Waker) {
        if self.one.is_none() {
            self.one = Some(w);
        } else {
            self.more.push(w);
        }
    }

    pub(crate) fn wake_all(self) {
        if let Some(w) = self.one {
            w.wake();
        }
        for w in self.more {
            w.wake();
        }
    }
}

fn register(g: &mut CellInner, w: &Waker) {
    match &g.waker {
        None => g.waker = Some(w.clone()),
        Some(x) if x.will_wake(w) => {}
        Some(_) => {
            if !g.more_wakers.iter().any(|x| x.will_wake(w)) {
                g.more_wakers.push(w.clone());
            }
        }
    }
}

/// One reference to a task; dropping the last reference releases it in the scheduler.
pub(crate) struct Handle {
    pub(crate) cell: Arc<Cell>,
    pub(crate) shared: Arc<Shared>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shared.release(self.cell.id);
    }
}

/// A type-erased, cheap-to-clone handle to a submitted task: use it as a dependency
/// ([`Client::submit_after`](crate::Client::submit_after)) or with [`wait`](crate::wait).
/// Awaiting it waits for completion and yields `Ok(())` or the task's error.
#[derive(Clone)]
pub struct AnyFuture {
    handle: Arc<Handle>,
}

impl AnyFuture {
    pub(crate) fn new(handle: Handle) -> Self {
        AnyFuture {
            handle: Arc::new(handle),
        }
    }

    pub(crate) fn handle(&self) -> &Handle {
        &self.handle
    }

    pub(crate) fn cell(&self) -> &Arc<Cell> {
        &self.handle.cell
    }

    /// The task's key.
    pub fn key(&self) -> &TaskKey {
        &self.handle.cell.key
    }

    /// The task's type name.
    pub fn name(&self) -> &str {
        &self.handle.cell.name
    }

    /// Current status.
    pub fn status(&self) -> TaskStatus {
        self.handle.cell.status()
    }

    /// Whether it is finished, failed or cancelled.
    pub fn done(&self) -> bool {
        self.status().is_done()
    }

    /// Cancels the task if it is not done; its dependents fail with
    /// [`ExecError::DependencyFailed`]. A running job is abandoned best-effort.
    pub fn cancel(&self) {
        self.handle.shared.cancel(self.handle.cell.id);
    }

    /// The error, if the task failed or was cancelled.
    pub fn error(&self) -> Option<ExecError> {
        self.handle.cell.error()
    }
}

impl fmt::Debug for AnyFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AnyFuture({}, {})", self.key(), self.status())
    }
}

impl Future for AnyFuture {
    type Output = Result<(), ExecError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.handle.cell.poll_done(cx) {
            Poll::Ready(TaskStatus::Finished) => Poll::Ready(Ok(())),
            Poll::Ready(_) => Poll::Ready(Err(self.handle.cell.error().unwrap_or(
                ExecError::Cancelled {
                    key: self.key().clone(),
                },
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A handle to the eventual output of a submitted task. Cheap to clone (all clones are one
/// reference-counted handle); awaitable (`fut.clone().await` or `(&fut).await` via
/// [`TaskFuture::value`]), or read with the blocking [`TaskFuture::result`] from sync code.
///
/// Dropping every handle of an unfinished task cancels it (unless submitted with
/// `fire_and_forget`); a finished result is freed when the last handle is dropped.
pub struct TaskFuture<T> {
    any: AnyFuture,
    extract: fn(&JobValue) -> Result<T, String>,
}

impl<T> Clone for TaskFuture<T> {
    fn clone(&self) -> Self {
        TaskFuture {
            any: self.any.clone(),
            extract: self.extract,
        }
    }
}

impl<T> fmt::Debug for TaskFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TaskFuture({}, {})", self.key(), self.status())
    }
}

impl<T> TaskFuture<T> {
    pub(crate) fn from_any(any: AnyFuture, extract: fn(&JobValue) -> Result<T, String>) -> Self {
        TaskFuture { any, extract }
    }

    /// The task's key.
    pub fn key(&self) -> &TaskKey {
        self.any.key()
    }

    /// The task's type name.
    pub fn name(&self) -> &str {
        self.any.name()
    }

    /// Current status.
    pub fn status(&self) -> TaskStatus {
        self.any.status()
    }

    /// Whether it is finished, failed or cancelled.
    pub fn done(&self) -> bool {
        self.any.done()
    }

    /// Cancels the task (see [`AnyFuture::cancel`]).
    pub fn cancel(&self) {
        self.any.cancel()
    }

    /// The type-erased handle (for dependencies and [`wait`](crate::wait)).
    pub fn erase(&self) -> AnyFuture {
        self.any.clone()
    }

    /// A reference to the type-erased handle.
    pub fn as_any(&self) -> &AnyFuture {
        &self.any
    }

    /// Waits for the output without consuming the handle.
    pub async fn value(&self) -> Result<T, ExecError> {
        self.clone().await
    }

    fn read(&self, r: Result<JobValue, ExecError>) -> Result<T, ExecError> {
        let v = r?;
        (self.extract)(&v).map_err(|message| ExecError::TypeMismatch {
            key: self.key().clone(),
            message,
        })
    }

    /// Blocks the calling thread until the task is done and returns its output (for sync
    /// code). Inside a multi-threaded tokio runtime it uses `block_in_place`; inside a
    /// current-thread runtime it returns [`ExecError::BlockingInAsync`] instead of
    /// deadlocking: `.await` the future there.
    pub fn result(&self) -> Result<T, ExecError> {
        if let Ok(h) = tokio::runtime::Handle::try_current() {
            return match h.runtime_flavor() {
                tokio::runtime::RuntimeFlavor::CurrentThread => {
                    if self.done() {
                        futures::executor::block_on(self.clone())
                    } else {
                        Err(ExecError::BlockingInAsync {
                            key: self.key().clone(),
                        })
                    }
                }
                _ => tokio::task::block_in_place(|| futures::executor::block_on(self.clone())),
            };
        }
        futures::executor::block_on(self.clone())
    }

    /// Like [`result`](TaskFuture::result) but gives up after `timeout` with
    /// [`ExecError::Timeout`] (the task keeps running).
    pub fn result_timeout(&self, timeout: std::time::Duration) -> Result<T, ExecError> {
        let fut = self.clone();
        let run = async move {
            let delay = crate::timer::sleep(timeout);
            futures::pin_mut!(delay);
            match futures::future::select(fut, delay).await {
                futures::future::Either::Left((r, _)) => r,
                futures::future::Either::Right(_) => Err(ExecError::Timeout),
            }
        };
        if let Ok(h) = tokio::runtime::Handle::try_current() {
            if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread {
                return Err(ExecError::BlockingInAsync {
                    key: self.key().clone(),
                });
            }
            return tokio::task::block_in_place(|| futures::executor::block_on(run));
        }
        futures::executor::block_on(run)
    }
}

impl<T> Future for TaskFuture<T> {
    type Output = Result<T, ExecError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.any.cell().poll_result(cx) {
            Poll::Ready(r) => Poll::Ready(self.read(r)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> From<TaskFuture<T>> for AnyFuture {
    fn from(f: TaskFuture<T>) -> Self {
        f.any
    }
}

impl<T> From<&TaskFuture<T>> for AnyFuture {
    fn from(f: &TaskFuture<T>) -> Self {
        f.any.clone()
    }
}

/// Anything [`wait`](crate::wait) can wait on: [`AnyFuture`] and every [`TaskFuture`].
pub trait Waitable: Clone {
    /// The type-erased handle.
    fn any_future(&self) -> &AnyFuture;
}

impl Waitable for AnyFuture {
    fn any_future(&self) -> &AnyFuture {
        self
    }
}

impl<T> Waitable for TaskFuture<T> {
    fn any_future(&self) -> &AnyFuture {
        &self.any
    }
}
