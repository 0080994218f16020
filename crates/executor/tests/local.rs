//! Behaviour specific to the in-process backends and to synchronous use.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sofleet_executor::backend::{JobOutcome, JobValue};
use sofleet_executor::conformance::tasks::{Add, Echo, Sleep};
use sofleet_executor::{
    Client, ExecError, ReturnWhen, SubmitOptions, Task, TaskContext, TaskError, TaskKey,
    TaskRegistry, TaskStatus, ThreadsBackend, TokioBackend, WaitOptions, as_completed, wait,
};

#[test]
fn sync_code_with_threads_backend_needs_no_runtime() {
    assert!(tokio::runtime::Handle::try_current().is_err());
    let client = Client::new(ThreadsBackend::new(2));
    assert_eq!(client.submit(Add { a: 1, b: 2 }).result().unwrap(), 3);
    let sq = client.submit_fn("square", || 12u64 * 12);
    assert_eq!(sq.result().unwrap(), 144);
    assert!(sq.key().as_str().starts_with("square-"));
    let fs = client.map((0..20).map(|i| Echo { value: i }));
    let total: u64 = futures::executor::block_on(async {
        let mut ac = as_completed(fs);
        let mut t = 0;
        while let Some((_, r)) = ac.next().await {
            t += r.unwrap();
        }
        t
    });
    assert_eq!(total, 190);
    client.set_resource_limit("gate", 0);
    let held = client.submit_with(Echo { value: 1 }, SubmitOptions::new().resource("gate"));
    let (done, pending) = futures::executor::block_on(wait(
        std::slice::from_ref(&held),
        WaitOptions::all().timeout(Duration::from_millis(20)),
    ));
    assert!(done.is_empty() && pending.len() == 1);
    assert!(matches!(
        held.result_timeout(Duration::from_millis(20)),
        Err(ExecError::Timeout)
    ));
    client.set_resource_limit("gate", 1);
    assert_eq!(held.result().unwrap(), 1);
}

#[test]
fn closure_panic_is_an_error_and_pool_survives() {
    let client = Client::new(ThreadsBackend::new(1));
    let bad = client.submit_fn("bad", || -> u64 { panic!("closure exploded") });
    match bad.result() {
        Err(ExecError::Panicked { message, key, .. }) => {
            assert_eq!(message, "closure exploded");
            assert_eq!(&key, bad.key());
        }
        other => panic!("expected panic error, got {other:?}"),
    }
    assert_eq!(client.submit_fn("ok", || 5u8).result().unwrap(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closures_on_tokio_run_on_blocking_threads() {
    let client = Client::new(TokioBackend::new());
    let f = client.submit_fn("blocking", || {
        std::thread::sleep(Duration::from_millis(5));
        String::from("done")
    });
    assert_eq!(f.clone().await.unwrap(), "done");
    // Blocking result() inside a multi-threaded runtime is allowed.
    let g = client.submit(Add { a: 2, b: 2 });
    assert_eq!(g.result().unwrap(), 4);
    let p = client.submit_fn("blocking-panic", || -> u32 { panic!("blocking boom") });
    assert!(matches!(p.await, Err(ExecError::Panicked { .. })));
}

#[tokio::test(flavor = "current_thread")]
async fn blocking_result_on_current_thread_runtime_errors_instead_of_hanging() {
    let client = Client::new(TokioBackend::new());
    let f = client.submit(Sleep { ms: 50, value: 1 });
    assert!(matches!(f.result(), Err(ExecError::BlockingInAsync { .. })));
    assert_eq!(f.clone().await.unwrap(), 1);
    assert_eq!(f.result().unwrap(), 1, "a finished future can be read");
}

#[test]
fn tokio_backend_outside_runtime_is_a_clear_error() {
    let err = TokioBackend::try_new().unwrap_err();
    assert!(err.to_string().contains("inside a tokio runtime"), "{err}");
}

#[test]
fn closures_are_rejected_by_serialising_backends() {
    let client = Client::new(ThreadsBackend::serialized(1, TaskRegistry::new()));
    let f = client.submit_fn("local-only", || 1u8);
    match f.result() {
        Err(ExecError::Backend(e)) => {
            assert!(e.message.contains("local closure"), "{e}");
            assert_eq!(e.key.as_ref(), Some(f.key()));
        }
        other => panic!("expected backend error, got {other:?}"),
    }
    // A task type the worker did not register.
    let g = client.submit(Add { a: 1, b: 1 });
    match g.result() {
        Err(ExecError::Backend(e)) => {
            assert!(
                e.message.contains("unknown task type conformance-add v1"),
                "{e}"
            )
        }
        other => panic!("expected backend error, got {other:?}"),
    }
}

#[derive(Serialize, Deserialize)]
struct WantsString {}
impl Task for WantsString {
    type Output = String;
    const NAME: &'static str = "wants-string";
    async fn run(self, ctx: TaskContext) -> Result<String, TaskError> {
        ctx.input::<String>(0)
    }
}

#[derive(Serialize, Deserialize)]
struct BadArgs {
    map: HashMap<(u32, u32), u32>,
}
impl Task for BadArgs {
    type Output = u32;
    const NAME: &'static str = "bad-args";
    async fn run(self, _ctx: TaskContext) -> Result<u32, TaskError> {
        Ok(self.map.len() as u32)
    }
}

#[test]
fn typed_errors_for_bad_inputs() {
    let client = Client::new(ThreadsBackend::new(2));
    let n = client.submit(Echo { value: 3 });
    let s = client.submit_after(&[n.erase()], WantsString {}, SubmitOptions::new());
    match s.result() {
        Err(ExecError::Task { message, .. }) => {
            assert!(message.contains("input 0"), "{message}");
            assert!(message.contains("String"), "{message}");
        }
        other => panic!("expected a task error, got {other:?}"),
    }
    let mut map = HashMap::new();
    map.insert((1, 2), 3);
    let b = client.submit(BadArgs { map });
    assert!(
        matches!(b.result(), Err(ExecError::Serialization { .. })),
        "{:?}",
        b.result()
    );
    assert_eq!(b.status(), TaskStatus::Error);

    let other = Client::new(ThreadsBackend::new(1));
    let foreign = other.submit(Echo { value: 1 });
    let d = client.submit_after(&[foreign.erase()], WantsString {}, SubmitOptions::new());
    assert!(matches!(d.result(), Err(ExecError::ForeignFuture { .. })));

    let a = client.submit_with(Echo { value: 1 }, SubmitOptions::new().key("shared"));
    a.result().unwrap();
    let w = client.submit_with(WantsString {}, SubmitOptions::new().key("shared"));
    assert!(matches!(w.result(), Err(ExecError::TypeMismatch { .. })));
}

#[test]
fn registry_runs_serialised_jobs() {
    let mut reg = TaskRegistry::new();
    reg.register::<Add>();
    assert!(reg.contains("conformance-add", 1));
    assert_eq!(reg.tasks(), vec![("conformance-add".to_string(), 1)]);
    let payload = serde_json::to_vec(&Add { a: 20, b: 22 }).unwrap();
    let ctx = TaskContext::new(TaskKey::new("k"), 0, vec![]);
    match futures::executor::block_on(reg.run_serialized("conformance-add", 1, ctx, &payload)) {
        JobOutcome::Success(v) => assert_eq!(v.get::<u64>().unwrap(), 42),
        other => panic!("{other:?}"),
    }
    let ctx = TaskContext::new(TaskKey::new("k"), 0, vec![]);
    match futures::executor::block_on(reg.run_serialized("conformance-add", 1, ctx, b"{oops")) {
        JobOutcome::Failed(e) => {
            assert!(!e.is_retryable());
            assert!(e.message().contains("cannot deserialise payload"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    // Values convert between the in-process and serialised forms.
    let v = JobValue::local(7u64);
    assert_eq!(&*v.to_bytes().unwrap(), b"7");
    assert!(JobValue::local_only(7u64).to_bytes().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_exception_reports_failure_among_running_tasks() {
    let client = Client::new(ThreadsBackend::new(2));
    let slow = client.submit(Sleep { ms: 200, value: 1 });
    let bad = client.submit(sofleet_executor::conformance::tasks::Fail {
        message: "x".into(),
    });
    let (done, pending) = wait(
        &[slow.erase(), bad.erase()],
        WaitOptions::all().return_when(ReturnWhen::FirstException),
    )
    .await;
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].key(), bad.key());
    assert_eq!(pending[0].key(), slow.key());
}

#[test]
fn handles_are_thread_safe() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Client>();
    send_sync::<sofleet_executor::TaskFuture<u64>>();
    send_sync::<sofleet_executor::AnyFuture>();
    send::<sofleet_executor::AsCompleted<u64>>();
    send::<sofleet_executor::MapBounded<u64>>();
    send::<sofleet_executor::EventStream>();
    send::<sofleet_executor::backend::Job>();
    send_sync::<sofleet_executor::backend::CompletionSink>();
    send_sync::<ExecError>();
}

/// A backend that runs each dispatched batch on a thread and reports it with one
/// `completed_many` (or `started_and_completed_many`) call, as a pipelining remote backend does.
struct BatchReporting {
    sink: std::sync::OnceLock<sofleet_executor::backend::CompletionSink>,
    with_start: bool,
}

impl sofleet_executor::Backend for BatchReporting {
    fn name(&self) -> &str {
        "batch-reporting"
    }
    fn attach(&self, sink: sofleet_executor::backend::CompletionSink) {
        let _ = self.sink.set(sink);
    }
    fn dispatch(&self, jobs: Vec<sofleet_executor::backend::Job>) {
        let sink = self.sink.get().expect("attached").clone();
        let with_start = self.with_start;
        std::thread::spawn(move || {
            let reports: Vec<_> = jobs
                .into_iter()
                .map(|j| {
                    let id = j.id;
                    if !with_start {
                        sink.started(id);
                    }
                    (
                        id,
                        futures::executor::block_on(sofleet_executor::backend::run_job(j, None)),
                    )
                })
                .collect();
            if with_start {
                sink.started_and_completed_many(reports);
            } else {
                sink.completed_many(reports);
            }
        });
    }
}

#[test]
fn batched_completion_reports_settle_every_future() {
    for with_start in [false, true] {
        let client = Client::new(BatchReporting {
            sink: std::sync::OnceLock::new(),
            with_start,
        });
        let mut events = client.events();
        let fs = client.map((0..50u64).map(|i| Echo { value: i }));
        let chained =
            client.submit_after(&[fs[3].erase()], Add { a: 1, b: 2 }, SubmitOptions::new());
        for (i, f) in fs.iter().enumerate() {
            assert_eq!(f.result().unwrap(), i as u64);
        }
        assert_eq!(chained.result().unwrap(), 3);
        let evs = events.drain();
        let count =
            |pred: fn(&sofleet_executor::Event) -> bool| evs.iter().filter(|e| pred(e)).count();
        assert_eq!(
            count(|e| matches!(e, sofleet_executor::Event::Started { .. })),
            51
        );
        assert_eq!(
            count(|e| matches!(e, sofleet_executor::Event::Finished { .. })),
            51
        );
        drop((fs, chained));
        assert_eq!(client.stats().live, 0);
    }
}
