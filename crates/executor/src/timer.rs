//! A runtime-independent timer thread, so retries and timeouts work without a tokio runtime.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

type Callback = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct TimerState {
    heap: BinaryHeap<Reverse<(Instant, u64)>>,
    callbacks: HashMap<u64, Callback>,
    seq: u64,
}

struct Timer {
    state: Mutex<TimerState>,
    cond: Condvar,
}

fn timer() -> &'static Timer {
    static TIMER: OnceLock<&'static Timer> = OnceLock::new();
    TIMER.get_or_init(|| {
        let t: &'static Timer = Box::leak(Box::new(Timer {
            state: Mutex::new(TimerState::default()),
            cond: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("sofleet-timer".into())
            .spawn(move || run(t))
            .expect("cannot spawn the executor timer thread");
        t
    })
}

fn run(t: &'static Timer) {
    let mut st = t.state.lock();
    loop {
        let now = Instant::now();
        let mut due = Vec::new();
        while let Some(Reverse((when, id))) = st.heap.peek().copied() {
            if when > now {
                break;
            }
            st.heap.pop();
            if let Some(cb) = st.callbacks.remove(&id) {
                due.push(cb);
            }
        }
        if !due.is_empty() {
            drop(st);
            for cb in due {
                // A panicking callback must not kill the timer thread.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(cb));
            }
            st = t.state.lock();
            continue;
        }
        match st.heap.peek().copied() {
            Some(Reverse((when, _))) => {
                t.cond
                    .wait_for(&mut st, when.saturating_duration_since(now));
            }
            None => t.cond.wait(&mut st),
        }
    }
}

/// Runs `f` on the timer thread after `delay`. `f` must be quick.
pub(crate) fn schedule(delay: Duration, f: impl FnOnce() + Send + 'static) {
    let t = timer();
    let when = Instant::now() + delay;
    let mut st = t.state.lock();
    st.seq += 1;
    let id = st.seq;
    st.callbacks.insert(id, Box::new(f));
    st.heap.push(Reverse((when, id)));
    drop(st);
    t.cond.notify_one();
}

#[derive(Default)]
struct DelayState {
    fired: bool,
    waker: Option<Waker>,
}

/// A future that completes after a duration, on any executor.
pub(crate) struct Delay {
    state: Arc<Mutex<DelayState>>,
}

/// A [`Delay`] of `d`.
pub(crate) fn sleep(d: Duration) -> Delay {
    let state = Arc::new(Mutex::new(DelayState::default()));
    let s2 = state.clone();
    schedule(d, move || {
        let waker = {
            let mut s = s2.lock();
            s.fired = true;
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    });
    Delay { state }
}

impl Future for Delay {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.state.lock();
        if s.fired {
            Poll::Ready(())
        } else {
            s.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_fire_in_order_without_a_runtime() {
        let order = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        for (i, ms) in [(2u32, 220u64), (1, 20), (3, 420)] {
            let order = order.clone();
            let tx = tx.clone();
            schedule(Duration::from_millis(ms), move || {
                order.lock().push(i);
                tx.send(()).unwrap();
            });
        }
        for _ in 0..3 {
            rx.recv_timeout(Duration::from_secs(10)).unwrap();
        }
        assert_eq!(*order.lock(), vec![1, 2, 3]);
        futures::executor::block_on(sleep(Duration::from_millis(5)));
    }
}
