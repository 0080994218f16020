//! The shared backend test suite (feature `conformance`).
//!
//! Every check takes a fresh [`Client`](crate::Client) over the backend under test and a [`Config`], and
//! panics with a clear message on failure. The tasks it submits are the types in [`tasks`],
//! all serde-serialisable and registered by [`register_tasks`], so a remote backend's workers
//! can run them; no check relies on closures or in-process side channels: "ran once" is
//! counted from [`Event::Started`] events, concurrency from `Started`/terminal event order.
//!
//! Run the whole suite as one `#[tokio::test]` per check with [`conformance_tests!`](crate::conformance_tests):
//!
//! ```ignore
//! sofleet_executor::conformance_tests!(async {
//!     sofleet_executor::Client::new(sofleet_executor::ThreadsBackend::new(4))
//! });
//! ```
//!
//! The calling crate needs `tokio` (features `macros`, `rt-multi-thread`) as a dependency. A
//! backend needs at least 3 concurrent job slots (the resource-limit check runs 2 at once and a
//! cancelled 1 s sleeper may still occupy one on backends that cannot interrupt jobs).

mod checks;
mod manual;
pub mod tasks;

use std::time::Duration;

use futures::StreamExt;

pub use self::checks::*;
pub use self::manual::{ManualBackend, ManualHandle, manual_pair, manual_pair_serialized};
use crate::{Event, EventStream, SubmitOptions, TaskKey, TaskRegistry};

/// Sizes used by the checks.
#[derive(Debug, Clone)]
pub struct Config {
    /// Tasks in the panic-isolation check (10% of them panic).
    pub many: usize,
    /// Length of the dependency chain.
    pub chain: usize,
    /// Futures in the memory-bounded `as_completed` check.
    pub as_completed: usize,
    /// Inputs of the `map_bounded` check.
    pub map_bounded: usize,
    /// How long a check waits for an event before failing.
    pub event_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            many: 10_000,
            chain: 1_000,
            as_completed: 100_000,
            map_bounded: 20_000,
            event_timeout: Duration::from_secs(60),
        }
    }
}

/// Registers every task type in [`tasks`] (for remote workers).
pub fn register_tasks(registry: &mut TaskRegistry) {
    registry
        .register::<tasks::Echo>()
        .register::<tasks::ImpureEcho>()
        .register::<tasks::Add>()
        .register::<tasks::SumInputs>()
        .register::<tasks::AddOne>()
        .register::<tasks::Sleep>()
        .register::<tasks::Panicky>()
        .register::<tasks::Flaky>()
        .register::<tasks::Fail>();
}

/// Marker in the message of the suite's intentional panics.
pub const PANIC_MARKER: &str = "conformance: intentional panic";

/// Installs (once) a panic hook that keeps the suite's intentional panics off stderr and
/// forwards every other panic to the previous hook.
pub fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let msg = crate::backend::panic_message(info.payload());
            if !msg.contains(PANIC_MARKER) {
                prev(info);
            }
        }));
    });
}

/// Waits for the next event satisfying `pred`, failing the check after `timeout`.
pub async fn next_event(
    events: &mut EventStream,
    timeout: Duration,
    what: &str,
    mut pred: impl FnMut(&Event) -> bool,
) -> Event {
    let find = async {
        while let Some(e) = events.next().await {
            if pred(&e) {
                return Some(e);
            }
        }
        None
    };
    let delay = crate::timer::sleep(timeout);
    futures::pin_mut!(find);
    futures::pin_mut!(delay);
    match futures::future::select(find, delay).await {
        futures::future::Either::Left((Some(e), _)) => e,
        futures::future::Either::Left((None, _)) => panic!("event stream ended waiting for {what}"),
        futures::future::Either::Right(_) => panic!("no event for {what} within {timeout:?}"),
    }
}

fn count_started(events: &[Event], key: &TaskKey) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::Started { .. }) && e.key() == key)
        .count()
}

fn gated(tag: &str) -> SubmitOptions {
    SubmitOptions::new().pure(false).resource(tag)
}

// The one list of checks. `CHECKS`, `run_all` and `conformance_tests!` are all generated from it,
// so a new check is added here (and written in `checks/`) and nowhere else.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_for_each_check {
    ($mode:ident $($args:tt)*) => {
        $crate::__conformance_expand!(
            $mode ($($args)*)
            submit_and_result pure_dedup explicit_key dependencies dependency_failure
            cancel_pending drop_semantics gather_errors wait_variants as_completed_add
            as_completed_memory map_bounded retries panics_isolated events resource_limits
            status_transitions
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_expand {
    (names () $($name:ident)*) => {
        /// Names of every check, in the order [`run_all`] runs them.
        pub const CHECKS: &[&str] = &[$(stringify!($name)),*];
    };
    (run_all () $($name:ident)*) => {
        /// Runs every check in turn, each with a fresh client from `make`.
        pub async fn run_all<F, Fut>(make: F, cfg: &Config)
        where
            F: Fn() -> Fut,
            Fut: std::future::Future<Output = $crate::Client>,
        {
            $( $name(make().await, cfg).await; )*
        }
    };
    (tests ($make:expr, $cfg:expr) $($name:ident)*) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::conformance::quiet_panics();
                let cfg: $crate::conformance::Config = $cfg;
                let client: $crate::Client = $make.await;
                $crate::conformance::$name(client, &cfg).await;
            }
        )*
    };
}

crate::__conformance_for_each_check!(names);
crate::__conformance_for_each_check!(run_all);

/// Generates one `#[tokio::test]` per conformance check. `$make` is an expression evaluating
/// to a future of a fresh [`Client`](crate::Client) (evaluated once per test); `$cfg` an
/// optional [`Config`].
///
/// ```ignore
/// sofleet_executor::conformance_tests!(async { Client::new(TokioBackend::new()) });
/// sofleet_executor::conformance_tests!(async { make_remote().await }, Config { many: 1_000, ..Default::default() });
/// ```
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!($make, $crate::conformance::Config::default());
    };
    ($make:expr, $cfg:expr) => {
        $crate::__conformance_for_each_check!(tests $make, $cfg);
    };
}
