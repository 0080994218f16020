//! The fleet's status on a real redis-server: what workers publish in their heartbeats
//! (failures, memory, source addresses) and what [`FleetReader`] counts on the job stream
//! (queued and pending jobs), with and without workers, on a fresh Redis and on a stream
//! whose entries were deleted out of order.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use redis::aio::MultiplexedConnection;
use sofleet_executor::Client;
use sofleet_redis::testing::tasks::{Fail, Noop, Sleep};
use sofleet_redis::{FleetReader, FleetStatus, RedisOptions, WorkerOptions};

fn worker_opts(url: &str, name: &str) -> WorkerOptions {
    let mut o = WorkerOptions::new(url);
    o.consumer_name = Some(name.to_string());
    o.block_timeout = Duration::from_millis(100);
    o.heartbeat_interval = Duration::from_millis(100);
    o
}

async fn reader(url: &str) -> FleetReader {
    FleetReader::connect(url, &client_opts())
        .await
        .expect("connect fleet reader")
}

/// Polls the reader until `check` holds for its status; returns that status.
async fn status_when(
    reader: &mut FleetReader,
    what: &str,
    check: impl Fn(&FleetStatus) -> bool,
) -> FleetStatus {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let status = reader.status().await.expect("status");
        if check(&status) {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting: {what}: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_carry_failures_memory_and_addresses() {
    let server = redis();
    let mut o = worker_opts(&server.url(), "addressed");
    o.addresses = vec!["127.0.0.2".into()];
    o.concurrency = 3;
    let addressed = InProcessWorker::start(o);
    let plain = InProcessWorker::start(worker_opts(&server.url(), "plain"));
    let backend = Arc::new(backend(&server.url()).await);
    wait_workers(&backend, 2).await;
    let client = Client::new(backend.clone());
    assert_eq!(client.submit(Noop { n: 1 }).value().await.unwrap(), 1);
    let failed = client.submit(Fail {
        message: "on purpose".into(),
        retryable: false,
    });
    assert!(failed.value().await.is_err());

    let mut fleet = reader(&server.url()).await;
    let status = status_when(&mut fleet, "the failure in a heartbeat", |s| {
        s.workers.len() == 2 && s.total_failed() == 1 && s.total_completed() == 2
    })
    .await;
    let [a, p] = &status.workers[..] else {
        panic!("{status:?}")
    };
    assert_eq!((a.name.as_str(), p.name.as_str()), ("addressed", "plain"));
    assert_eq!(a.addresses, ["127.0.0.2"]);
    assert!(p.addresses.is_empty());
    assert_eq!((a.concurrency, p.concurrency), (3, 16));
    assert_eq!(status.total_concurrency(), 19);
    assert_eq!(status.total_running(), 0);
    if cfg!(target_os = "linux") {
        // This test process's resident memory: more than a megabyte, less than 64 GiB.
        for w in [a, p] {
            let rss = w.rss_bytes.expect("rss_bytes on Linux");
            assert!((1 << 20..64 << 30).contains(&rss), "{rss}");
        }
    }
    assert!(status.heartbeat_age(a) < Duration::from_secs(5));

    // The backend reads the same on its control connection.
    let same = backend.fleet_status().await.unwrap();
    assert_eq!(same.workers.len(), 2);
    assert_eq!(
        (same.redis.as_str(), same.queued),
        (status.redis.as_str(), 0)
    );
    client.shutdown().await.unwrap();
    let (sa, sp) = (addressed.stop().await, plain.stop().await);
    assert_eq!(sa.failed + sp.failed, 1);
}

/// The job stream's entries, in order, read as the group by a consumer that never acknowledges.
async fn deliver(c: &mut MultiplexedConnection, count: usize) -> Vec<String> {
    let reply: redis::streams::StreamReadReply = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("workers")
        .arg("ghost")
        .arg("COUNT")
        .arg(count)
        .arg("STREAMS")
        .arg("sofleet:jobs")
        .arg(">")
        .query_async(c)
        .await
        .unwrap();
    reply.keys[0].ids.iter().map(|e| e.id.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_and_pending_jobs_are_counted_without_a_worker() {
    let server = redis();
    let url = server.url();

    // Nobody connected yet: no stream, no group, no error.
    let mut fleet = reader(&url).await;
    let status = fleet.status().await.unwrap();
    assert_eq!((status.queued, status.pending), (0, 0));
    assert!(status.workers.is_empty());
    assert_eq!(status.redis, url);
    assert_eq!(
        (status.namespace.as_str(), status.group.as_str()),
        ("sofleet", "workers")
    );
    let mut c = redis_conn(&url).await;
    let exists: bool = redis::cmd("EXISTS")
        .arg("sofleet:jobs")
        .query_async(&mut c)
        .await
        .unwrap();
    assert!(!exists, "the reader must not create the stream");

    // A client submits 6 jobs and no worker takes them.
    let client = Client::new(backend(&url).await);
    let futures: Vec<_> = (0..6)
        .map(|n| {
            client.submit(Sleep {
                duration: Duration::from_millis(1),
                value: n,
            })
        })
        .collect();
    let status = status_when(&mut fleet, "6 queued jobs", |s| s.queued == 6).await;
    assert_eq!(status.pending, 0);
    assert!(status.workers.is_empty());

    // A consumer takes 3 of them and never acknowledges them: pending, not queued.
    let ids = deliver(&mut c, 3).await;
    assert_eq!(ids.len(), 3);
    let status = fleet.status().await.unwrap();
    assert_eq!((status.queued, status.pending), (3, 3));

    // The newest delivered entry is acknowledged and deleted first (out of order): Redis
    // gives up on its lag count, the reader falls back on length minus pending.
    let () = redis::pipe()
        .cmd("XACK")
        .arg("sofleet:jobs")
        .arg("workers")
        .arg(&ids[2])
        .ignore()
        .cmd("XDEL")
        .arg("sofleet:jobs")
        .arg(&ids[2])
        .ignore()
        .query_async(&mut c)
        .await
        .unwrap();
    let groups: Vec<Vec<redis::Value>> = redis::cmd("XINFO")
        .arg("GROUPS")
        .arg("sofleet:jobs")
        .query_async(&mut c)
        .await
        .unwrap();
    let lag = groups[0]
        .chunks(2)
        .find(|kv| redis::from_redis_value_ref::<String>(&kv[0]).unwrap() == "lag");
    // Redis 7+ says nil; older ones have no lag at all.
    assert!(
        lag.is_none_or(|kv| kv[1] == redis::Value::Nil),
        "{groups:?}"
    );
    let status = fleet.status().await.unwrap();
    assert_eq!((status.queued, status.pending), (3, 2));

    drop(futures);
    client.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_without_the_group_counts_every_entry_as_queued() {
    let server = redis();
    let mut c = redis_conn(&server.url()).await;
    for n in 0..4 {
        let _: String = redis::cmd("XADD")
            .arg("sofleet:jobs")
            .arg("*")
            .arg("n")
            .arg(n)
            .query_async(&mut c)
            .await
            .unwrap();
    }
    let mut fleet = reader(&server.url()).await;
    let status = fleet.status().await.unwrap();
    assert_eq!((status.queued, status.pending), (4, 0));

    // Another namespace on the same Redis sees nothing of it.
    let mut opts = RedisOptions::default();
    opts.namespace = "other".into();
    let mut other = FleetReader::connect(&server.url(), &opts).await.unwrap();
    let status = other.status().await.unwrap();
    assert_eq!(
        (status.queued, status.pending, status.namespace.as_str()),
        (0, 0, "other")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reader_survives_a_redis_restart_and_bounds_its_connect() {
    let mut server = redis();
    let port = server.port();
    let mut fleet = reader(&server.url()).await;
    fleet.status().await.unwrap();
    server.kill();
    let err = fleet.status().await.unwrap_err().to_string();
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    let _server = sofleet_redis::testing::RedisServer::start_on(port, None).unwrap();
    let status = fleet.status().await.unwrap();
    assert_eq!(status.queued, 0);

    // Nothing listens: a connect error within the timeout, naming the URL.
    let mut opts = RedisOptions::default();
    opts.connect_timeout = Duration::from_millis(300);
    let started = std::time::Instant::now();
    let url = format!(
        "redis://127.0.0.1:{}",
        sofleet_redis::testing::free_port().unwrap()
    );
    let err = FleetReader::connect(&url, &opts).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(err, sofleet_redis::RedisError::Connect { .. }),
        "{err}"
    );
    assert!(err.to_string().contains(&url), "{err}");
}
