//! A polite fleet (issue 12), with a real redis-server and in-process workers: resources
//! lent to tasks, consumers removed when their worker leaves or dies, oversized jobs refused
//! without being read.

mod common;

use std::time::Duration;

use common::*;
use redis::aio::MultiplexedConnection;
use serde::{Deserialize, Serialize};
use sofleet_executor::{Client, Resources, Task, TaskContext, TaskError, TaskRegistry};
use sofleet_redis::testing::tasks::{self, Noop};
use sofleet_redis::{WorkerOptions, run_worker};

/// A worker resource.
struct Greeting(String);

/// Reads the worker's [`Greeting`].
#[derive(Serialize, Deserialize)]
struct Greet {
    name: String,
}

impl Task for Greet {
    type Output = String;
    const NAME: &'static str = "fleet-test-greet";
    async fn run(self, ctx: TaskContext) -> Result<String, TaskError> {
        let greeting = ctx.resource::<Greeting>()?;
        Ok(format!("{}, {}", greeting.0, self.name))
    }
}

/// Asks for a resource no worker has.
#[derive(Serialize, Deserialize)]
struct NeedsPool;

impl Task for NeedsPool {
    type Output = u64;
    const NAME: &'static str = "fleet-test-needs-pool";
    async fn run(self, ctx: TaskContext) -> Result<u64, TaskError> {
        Ok(*ctx.resource::<u64>()?)
    }
}

/// An in-process worker with the test tasks plus [`Greet`] and [`NeedsPool`].
fn start_worker(opts: WorkerOptions) -> InProcessWorker {
    let mut registry = TaskRegistry::new();
    tasks::register_all(&mut registry);
    registry.register::<Greet>().register::<NeedsPool>();
    InProcessWorker::start_with(opts, registry)
}

fn opts(url: &str, name: &str) -> WorkerOptions {
    let mut o = WorkerOptions::new(url);
    o.consumer_name = Some(name.to_string());
    o.block_timeout = Duration::from_millis(100);
    o.heartbeat_interval = Duration::from_millis(100);
    o
}

async fn consumers(c: &mut MultiplexedConnection) -> Vec<String> {
    let v: Vec<redis::Value> = redis::cmd("XINFO")
        .arg("CONSUMERS")
        .arg("sofleet:jobs")
        .arg("workers")
        .query_async(c)
        .await
        .unwrap();
    let mut names = Vec::new();
    for item in v {
        let fields: Vec<redis::Value> = redis::from_redis_value(item).unwrap();
        let mut it = fields.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            if redis::from_redis_value::<String>(k).unwrap() == "name" {
                names.push(redis::from_redis_value(v).unwrap());
            }
        }
    }
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_read_the_resources_given_to_their_worker() {
    let server = redis();
    let mut o = opts(&server.url(), "lender");
    o.resources = Resources::new().with(Greeting("hello".into()));
    let worker = start_worker(o);
    let client = Client::new(backend(&server.url()).await);
    let greetings = client.map(["ann", "bob"].map(|n| Greet { name: n.into() }));
    let mut got = Vec::new();
    for f in greetings {
        got.push(f.value().await.unwrap());
    }
    assert_eq!(got, ["hello, ann", "hello, bob"]);
    let err = client
        .submit(NeedsPool)
        .value()
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("u64") && err.contains("Greeting"), "{err}");
    client.shutdown().await.unwrap();
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_stops_gracefully_leaves_the_group() {
    let server = redis();
    let worker = start_worker(opts(&server.url(), "leaver"));
    let client = Client::new(backend(&server.url()).await);
    assert_eq!(client.submit(Noop { n: 7 }).value().await.unwrap(), 7);
    let mut c = redis_conn(&server.url()).await;
    assert_eq!(consumers(&mut c).await, ["leaver"]);
    let stats = worker.stop().await;
    assert_eq!(stats.completed, 1);
    assert!(
        stats
            .to_string()
            .starts_with("worker leaver: 1 jobs done (0 failed"),
        "{stats}"
    );
    assert!(consumers(&mut c).await.is_empty());
    client.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_workers_remove_consumers_of_dead_workers() {
    let server = redis();
    let mut c = redis_conn(&server.url()).await;
    let _: () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg("sofleet:jobs")
        .arg("workers")
        .arg("0")
        .arg("MKSTREAM")
        .query_async(&mut c)
        .await
        .unwrap();
    // A job taken by a worker that then died ("holder"), and consumers of workers that died
    // idle ("ghost") or are alive but idle ("sleeper", with a heartbeat key).
    let reply = "sofleet:reply:fleet-test";
    for (j, name) in [(1, "holder"), (2, "ghost"), (3, "sleeper")] {
        let _: String = redis::cmd("XADD")
            .arg("sofleet:jobs")
            .arg("*")
            .arg(job_fields(reply, j, &json(&Noop { n: 40 + j })))
            .query_async(&mut c)
            .await
            .unwrap();
        let read: redis::streams::StreamReadReply = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg("workers")
            .arg(name)
            .arg("COUNT")
            .arg(1)
            .arg("STREAMS")
            .arg("sofleet:jobs")
            .arg(">")
            .query_async(&mut c)
            .await
            .unwrap();
        let id = read.keys[0].ids[0].id.clone();
        if name != "holder" {
            // Finished its job (as if answered), then died or went idle.
            let _: () = redis::pipe()
                .cmd("XACK")
                .arg("sofleet:jobs")
                .arg("workers")
                .arg(&id)
                .ignore()
                .cmd("XDEL")
                .arg("sofleet:jobs")
                .arg(&id)
                .ignore()
                .query_async(&mut c)
                .await
                .unwrap();
        }
    }
    let _: () = redis::cmd("SET")
        .arg("sofleet:worker:sleeper")
        .arg("{}")
        .arg("PX")
        .arg(60_000)
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(consumers(&mut c).await, ["ghost", "holder", "sleeper"]);

    let mut o = opts(&server.url(), "live");
    o.visibility_timeout = Duration::from_millis(300);
    o.consumer_idle_removal = Duration::from_millis(600);
    o.reclaim_interval = Some(Duration::from_millis(50));
    let worker = start_worker(o);
    let url = server.url();
    eventually("the dead workers' consumers are removed", || {
        let url = url.clone();
        async move { consumers(&mut redis_conn(&url).await).await == ["live", "sleeper"] }
    })
    .await;
    // The holder's job was reclaimed and answered before its consumer went.
    let replies: Vec<redis::Value> = redis::cmd("XRANGE")
        .arg(reply)
        .arg("-")
        .arg("+")
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(replies.len(), 1);
    let stats = worker.stop().await;
    assert_eq!((stats.reclaimed, stats.completed), (1, 1), "{stats}");
    assert_eq!(consumers(&mut c).await, ["sleeper"]);

    // The window may not be shorter than the visibility timeout.
    let mut o = opts(&server.url(), "bad");
    o.consumer_idle_removal = Duration::from_secs(1);
    let err = run_worker(o, TaskRegistry::new(), std::future::pending())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("WorkerOptions::consumer_idle_removal"),
        "{err}"
    );
}

/// Fields of a job entry as a sofleet client writes it.
fn job_fields(reply: &str, job: u64, payload: &[u8]) -> Vec<(String, Vec<u8>)> {
    let s = |v: &str| v.as_bytes().to_vec();
    vec![
        ("r".into(), s(reply)),
        ("j".into(), s(&job.to_string())),
        ("k".into(), s(&format!("job-{job}"))),
        ("n".into(), s(Noop::NAME)),
        ("v".into(), s(&Noop::VERSION.to_string())),
        ("a".into(), s("0")),
        ("p".into(), payload.to_vec()),
    ]
}

/// Redis' `total_net_output_bytes`: everything it has sent to clients.
async fn output_bytes(c: &mut MultiplexedConnection) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("stats")
        .query_async(c)
        .await
        .unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("total_net_output_bytes:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("total_net_output_bytes in INFO stats")
}

/// The reply entries (type, data) of `reply`, by job id.
async fn replies(
    c: &mut MultiplexedConnection,
    reply: &str,
) -> std::collections::BTreeMap<u64, (String, String)> {
    let entries: Vec<(String, std::collections::HashMap<String, Vec<u8>>)> = redis::cmd("XRANGE")
        .arg(reply)
        .arg("-")
        .arg("+")
        .query_async(c)
        .await
        .unwrap();
    let text = |f: &std::collections::HashMap<String, Vec<u8>>, k: &str| {
        String::from_utf8_lossy(f.get(k).map_or(&[][..], |v| v)).into_owned()
    };
    entries
        .into_iter()
        .filter(|(_, f)| text(f, "t") != "s")
        .map(|(_, f)| {
            (
                text(&f, "j").parse().unwrap(),
                (text(&f, "t"), text(&f, "d")),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_jobs_are_refused_without_being_read() {
    let server = redis();
    let mut c = redis_conn(&server.url()).await;
    let reply = "sofleet:reply:fleet-test";
    const BIG: usize = 3 << 20;
    let limit = 64 << 10;
    // Jobs 0..6 are 3 MiB each; jobs 10..14 are small. All wait before the worker starts.
    let big = json(&format!("{{\"n\":1,\"pad\":\"{}\"}}", "x".repeat(BIG)));
    for j in 0..6 {
        let _: String = redis::cmd("XADD")
            .arg("sofleet:jobs")
            .arg("*")
            .arg(job_fields(reply, j, &big))
            .query_async(&mut c)
            .await
            .unwrap();
    }
    for j in 10..14 {
        let _: String = redis::cmd("XADD")
            .arg("sofleet:jobs")
            .arg("*")
            .arg(job_fields(reply, j, &json(&Noop { n: j })))
            .query_async(&mut c)
            .await
            .unwrap();
    }
    let sent_before = output_bytes(&mut c).await;
    let mut o = opts(&server.url(), "small");
    o.max_payload_bytes = limit;
    let worker = start_worker(o);
    eventually("all ten jobs are answered", || {
        let url = server.url();
        async move { replies(&mut redis_conn(&url).await, reply).await.len() == 10 }
    })
    .await;
    let sent = output_bytes(&mut c).await - sent_before;
    assert!(
        sent < (1 << 20) as u64,
        "Redis sent {sent} bytes: the oversized payloads were read"
    );
    let got = replies(&mut c, reply).await;
    for j in 0..6 {
        let (t, d) = &got[&j];
        assert_eq!(t, "be", "job {j}: {d}");
        assert!(
            d.contains("bytes, over the worker's limit of 65536") && d.contains("job is"),
            "job {j}: {d}"
        );
    }
    for j in 10..14 {
        assert_eq!(got[&j], ("ok".to_string(), j.to_string()), "job {j}");
    }

    // One oversized job arriving while the worker waits is read (a single entry) and refused.
    let _: String = redis::cmd("XADD")
        .arg("sofleet:jobs")
        .arg("*")
        .arg(job_fields(reply, 20, &big))
        .query_async(&mut c)
        .await
        .unwrap();
    eventually("the late oversized job is refused", || {
        let url = server.url();
        async move {
            replies(&mut redis_conn(&url).await, reply)
                .await
                .contains_key(&20)
        }
    })
    .await;
    let got = replies(&mut c, reply).await;
    assert_eq!(got[&20].0, "be", "{}", got[&20].1);
    assert!(
        got[&20].1.contains("over the worker's limit"),
        "{}",
        got[&20].1
    );
    let stats = worker.stop().await;
    assert_eq!((stats.completed, stats.failed), (11, 7), "{stats}");
    // Refused entries are acknowledged and deleted like any other.
    let len: u64 = redis::cmd("XLEN")
        .arg("sofleet:jobs")
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(len, 0);
}
