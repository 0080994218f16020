//! Unit tests of the scheduler, stepped through a [`ManualBackend`]: the test takes each job the
//! client dispatches and reports its outcome, so every step is deterministic and no test
//! waits on a clock.

use futures::FutureExt;
use futures::StreamExt;
use sofleet_executor::backend::{JobOutcome, JobValue, JobWork};
use sofleet_executor::conformance::tasks::{Add, Echo, SumInputs};
use sofleet_executor::conformance::{ManualHandle, manual_pair, manual_pair_serialized};
use sofleet_executor::{
    Client, Event, EventStream, ExecError, RetryPolicy, SubmitOptions, TaskError, TaskFuture,
    TaskStatus,
};
use std::time::Duration;

fn client() -> (Client, ManualHandle) {
    let (backend, jobs) = manual_pair();
    (Client::new(backend), jobs)
}

/// A task summing `dep`'s output, submitted after it.
fn sum_of(client: &Client, dep: &TaskFuture<u64>) -> TaskFuture<u64> {
    client.submit_after(&[dep.erase()], SumInputs { extra: 0 }, SubmitOptions::new())
}

fn retried(retries: u32) -> SubmitOptions {
    SubmitOptions::new().retry(RetryPolicy::fixed(retries, Duration::ZERO))
}

fn failed(message: &str) -> JobOutcome {
    JobOutcome::Failed(TaskError::retryable(message))
}

/// Events already emitted, without waiting for more.
fn drain(events: &mut EventStream) -> Vec<Event> {
    std::iter::from_fn(|| events.next().now_or_never().flatten()).collect()
}

#[test]
fn a_dependent_is_dispatched_only_when_its_inputs_are_done_and_receives_them_in_order() {
    let (client, jobs) = client();
    let a = client.submit(Add { a: 2, b: 3 });
    let b = client.submit(Add { a: 10, b: 0 });
    let total = client.submit_after(
        &[a.erase(), b.erase()],
        SumInputs { extra: 1 },
        SubmitOptions::new(),
    );
    assert_eq!(jobs.queued(), 2, "only the two inputs are ready");
    let (job_a, job_b) = (jobs.next(), jobs.next());
    jobs.run(job_b);
    assert_eq!(jobs.queued(), 0, "one input is still running");
    assert_eq!(total.status(), TaskStatus::Pending);
    jobs.run(job_a);
    let job_total = jobs.next();
    assert_eq!(job_total.inputs.len(), 2);
    assert_eq!(job_total.inputs[0].get::<u64>().unwrap(), 5);
    assert_eq!(job_total.inputs[1].get::<u64>().unwrap(), 10);
    jobs.run(job_total);
    assert_eq!(total.result().unwrap(), 16);
}

#[test]
fn a_failed_dependency_fails_its_dependents_without_dispatching_them() {
    let (client, jobs) = client();
    let a = client.submit(Echo { value: 1 });
    let b = sum_of(&client, &a);
    let c = sum_of(&client, &b);
    let job_a = jobs.next();
    jobs.complete(
        job_a.id,
        JobOutcome::Failed(TaskError::fatal("no such page")),
    );
    assert_eq!(
        jobs.queued(),
        0,
        "nothing depending on a failure is dispatched"
    );
    for f in [&b, &c] {
        match f.result() {
            Err(ExecError::DependencyFailed {
                dep_key,
                reason,
                dep_cancelled,
                ..
            }) => {
                assert_eq!(&dep_key, a.key(), "the root failure is named");
                assert!(reason.contains("no such page"), "{reason}");
                assert!(!dep_cancelled);
            }
            other => panic!("expected DependencyFailed, got {other:?}"),
        }
    }
}

#[test]
fn cancelling_a_running_job_asks_the_backend_and_ignores_its_late_report() {
    let (client, jobs) = client();
    let a = client.submit(Echo { value: 7 });
    let b = sum_of(&client, &a);
    let job_a = jobs.next();
    jobs.start(job_a.id);
    assert_eq!(a.status(), TaskStatus::Running);
    a.cancel();
    assert_eq!(jobs.cancelled(), vec![job_a.id]);
    assert!(matches!(a.result(), Err(ExecError::Cancelled { .. })));
    match b.result() {
        Err(e @ ExecError::DependencyFailed { .. }) => assert!(e.is_cancelled(), "{e:?}"),
        other => panic!("expected a cancelled dependency, got {other:?}"),
    }
    // The backend finished the job anyway: the report is ignored, nothing is dispatched.
    jobs.run(job_a);
    assert_eq!(jobs.queued(), 0);
    assert!(matches!(a.result(), Err(ExecError::Cancelled { .. })));
}

#[test]
fn dropping_the_last_handle_cancels_unless_a_dependent_still_needs_it() {
    let (client, jobs) = client();
    let a = client.submit(Echo { value: 1 });
    let b = sum_of(&client, &a);
    let job_a = jobs.next();
    drop(a);
    assert!(jobs.cancelled().is_empty(), "b still holds a");
    drop(b);
    assert_eq!(
        jobs.cancelled(),
        vec![job_a.id],
        "no handle and no dependent left"
    );
    jobs.complete(job_a.id, JobOutcome::Cancelled);
    assert_eq!(
        client.stats().live,
        0,
        "nothing is kept once the job is back"
    );
}

#[test]
fn a_retry_is_a_new_dispatch_and_a_stale_report_of_the_old_one_is_ignored() {
    let (client, jobs) = client();
    let mut events = client.events();
    let f = client.submit_with(Echo { value: 3 }, retried(2));
    let first = jobs.next();
    assert_eq!(first.attempt, 0);
    jobs.complete(first.id, failed("busy"));
    let second = jobs.next();
    assert_eq!(second.attempt, 1);
    assert_ne!(second.id, first.id, "a retry has its own job id");
    assert!(
        drain(&mut events).iter().any(|e| matches!(
            e,
            Event::Retried { attempt: 1, error, .. } if error == "busy"
        )),
        "a Retried event names the attempt and the error"
    );
    jobs.succeed(&first, 999_u64);
    assert!(!f.done(), "a report for the first dispatch is stale");
    jobs.run(second);
    assert_eq!(f.result().unwrap(), 3);
    assert_eq!(client.stats().dispatched, 2);
}

#[test]
fn exhausted_retries_fail_with_the_number_of_attempts() {
    let (client, jobs) = client();
    let f = client.submit_with(Echo { value: 3 }, retried(1));
    for _ in 0..2 {
        let job = jobs.next();
        jobs.complete(job.id, failed("still busy"));
    }
    assert_eq!(jobs.queued(), 0);
    match f.result() {
        Err(ExecError::Task {
            attempts,
            retryable,
            message,
            ..
        }) => {
            assert_eq!(attempts, 2);
            assert!(retryable);
            assert_eq!(message, "still busy");
        }
        other => panic!("expected a task error, got {other:?}"),
    }
}

#[test]
fn a_fatal_error_is_not_retried() {
    let (client, jobs) = client();
    let f = client.submit_with(Echo { value: 3 }, retried(5));
    let job = jobs.next();
    jobs.complete(job.id, JobOutcome::Failed(TaskError::fatal("bad input")));
    assert_eq!(jobs.queued(), 0);
    assert!(matches!(
        f.result(),
        Err(ExecError::Task { attempts: 1, .. })
    ));
}

#[test]
fn a_resource_limit_holds_tagged_jobs_back_until_a_slot_frees() {
    let (client, jobs) = client();
    client.set_resource_limit("host=a", 1);
    let tagged = SubmitOptions::new().pure(false).resource("host=a");
    let fs: Vec<_> = (0..3)
        .map(|i| client.submit_with(Echo { value: i }, tagged.clone()))
        .collect();
    let untagged = client.submit(Echo { value: 100 });
    assert_eq!(jobs.queued(), 2, "one tagged job and the untagged one");
    let mut ready = jobs.take_all();
    ready.retain(|j| j.key != *untagged.key());
    assert_eq!(ready.len(), 1);
    jobs.run(ready.remove(0));
    assert_eq!(
        jobs.queued(),
        1,
        "the freed slot starts the next tagged job"
    );
    client.set_resource_limit("host=a", 0);
    jobs.run(jobs.next());
    assert_eq!(jobs.queued(), 0, "a limit of 0 holds the rest");
    client.clear_resource_limit("host=a");
    jobs.run(jobs.next());
    assert_eq!(
        fs.iter().map(|f| f.result().unwrap()).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
}

#[test]
fn a_pure_task_submitted_twice_is_dispatched_once() {
    let (client, jobs) = client();
    let a = client.submit(Add { a: 1, b: 1 });
    let b = client.submit(Add { a: 1, b: 1 });
    assert_eq!(a.key(), b.key());
    assert_eq!(jobs.queued(), 1);
    jobs.run(jobs.next());
    assert_eq!((a.result().unwrap(), b.result().unwrap()), (2, 2));
    let stats = client.stats();
    assert_eq!((stats.submitted, stats.deduplicated), (1, 1));
}

#[test]
fn an_out_of_process_backend_gets_serialized_tasks_and_never_a_closure() {
    let (backend, jobs) = manual_pair_serialized();
    let client = Client::new(backend);
    let closure = client.submit_fn("local-closure", || 5_u32);
    assert_eq!(jobs.queued(), 0, "the closure is refused before dispatch");
    let msg = closure.result().unwrap_err().to_string();
    assert!(
        msg.contains("local closure task and cannot run on the manual backend"),
        "{msg}"
    );
    let f = client.submit(Echo { value: 4 });
    let job = jobs.next();
    match &job.work {
        JobWork::Serialized(bytes) => assert_eq!(&bytes[..], br#"{"value":4}"#),
        JobWork::Local(_) => panic!("an out-of-process backend got an in-process runner"),
    }
    let value = JobValue::Bytes(b"4".as_slice().into());
    jobs.complete(job.id, JobOutcome::Success(value));
    assert_eq!(f.result().unwrap(), 4);
}
