//! The fleet-wide rate budget against a real redis-server: several `RateBudget` instances
//! stand for separate processes sharing one key.

mod common;

use std::time::{Duration, Instant};

use common::{redis, redis_conn};
use sofleet_redis::{RateBudget, RedisError};

const INTERVAL: Duration = Duration::from_millis(100);
/// Allowance for the round trip between taking a local timestamp and Redis' clock.
const TOLERANCE: Duration = Duration::from_millis(20);

fn budget(url: &str) -> RateBudget {
    RateBudget::new(url, "sofleet", None).expect("open budget")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_reservers_share_one_schedule() {
    let server = redis();
    let budgets: Vec<RateBudget> = (0..4).map(|_| budget(&server.url())).collect();
    // Connect every instance first, so the measured calls are single round trips.
    for (i, b) in budgets.iter().enumerate() {
        b.reserve(&format!("warm-up-{i}"), INTERVAL).await.unwrap();
    }
    let origin = Instant::now();
    let calls = (0..12).map(|i| {
        let b = budgets[i % budgets.len()].clone();
        tokio::spawn(async move {
            let before = origin.elapsed();
            let wait = b.reserve("example.org|10.0.0.1", INTERVAL).await.unwrap();
            let after = origin.elapsed();
            // The slot on the local clock, within half a round trip.
            (wait, (before + after) / 2 + wait)
        })
    });
    let mut results = Vec::new();
    for c in calls {
        results.push(c.await.unwrap());
    }
    let mut waits: Vec<Duration> = results.iter().map(|r| r.0).collect();
    waits.sort();
    waits.dedup();
    assert_eq!(
        waits.len(),
        results.len(),
        "waits are not distinct: {results:?}"
    );
    assert_eq!(
        waits[0],
        Duration::ZERO,
        "the first reserver waits: {waits:?}"
    );
    let mut slots: Vec<Duration> = results.iter().map(|r| r.1).collect();
    slots.sort();
    for pair in slots.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap + TOLERANCE >= INTERVAL && gap <= INTERVAL + TOLERANCE,
            "slots {pair:?} are {gap:?} apart, expected {INTERVAL:?}: {slots:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_from_one_process_delays_another() {
    let server = redis();
    let (a, b) = (budget(&server.url()), budget(&server.url()));
    let key = "example.org|10.0.0.2";
    assert_eq!(b.reserve(key, INTERVAL).await.unwrap(), Duration::ZERO);
    a.pause(key, Duration::from_secs(5)).await.unwrap();
    let wait = b.reserve(key, INTERVAL).await.unwrap();
    assert!(
        wait > Duration::from_millis(4_900) && wait <= Duration::from_secs(5),
        "{wait:?}"
    );
    // The next slot comes one interval after the pause's end.
    let next = b.reserve(key, INTERVAL).await.unwrap();
    assert!(
        next >= wait + INTERVAL - TOLERANCE,
        "{wait:?} then {next:?}"
    );
    // Another key is not paused.
    assert_eq!(
        b.reserve("example.org|10.0.0.3", INTERVAL).await.unwrap(),
        Duration::ZERO
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_longest_interval_asked_for_spaces_every_reserver() {
    let server = redis();
    let (a, b) = (budget(&server.url()), budget(&server.url()));
    let key = "example.org|10.0.0.5";
    // `b` has not learned the site's Crawl-delay yet; `a` has (1 s).
    assert_eq!(b.reserve(key, INTERVAL).await.unwrap(), Duration::ZERO);
    // The stricter interval holds from the previous slot on.
    let a_wait = a.reserve(key, Duration::from_secs(1)).await.unwrap();
    assert!(
        a_wait + TOLERANCE >= Duration::from_secs(1) && a_wait <= Duration::from_secs(1),
        "{a_wait:?}"
    );
    // `b` still asks for 100 ms, but its next slot comes 1 s after `a`'s.
    let b_wait = b.reserve(key, INTERVAL).await.unwrap();
    assert!(
        b_wait + TOLERANCE >= a_wait + Duration::from_secs(1)
            && b_wait <= a_wait + Duration::from_secs(1),
        "{a_wait:?} then {b_wait:?}"
    );
    // Raising the interval takes no slot, and spaces everyone's next slot.
    let raised = "example.org|10.0.0.7";
    assert_eq!(b.reserve(raised, INTERVAL).await.unwrap(), Duration::ZERO);
    a.raise_interval(raised, Duration::from_secs(1))
        .await
        .unwrap();
    a.raise_interval(raised, INTERVAL).await.unwrap(); // never lowers it
    let wait = b.reserve(raised, INTERVAL).await.unwrap();
    assert!(
        wait + TOLERANCE >= Duration::from_secs(1) && wait <= Duration::from_secs(1),
        "{wait:?}"
    );
    // A key only raised (no slot yet) still expires.
    a.raise_interval("example.org|fresh", Duration::from_secs(2))
        .await
        .unwrap();
    let mut c = redis_conn(&server.url()).await;
    let ttl: i64 = ::redis::cmd("PTTL")
        .arg("sofleet:budget:example.org|fresh")
        .query_async(&mut c)
        .await
        .unwrap();
    assert!(ttl > 60_000 && ttl <= 62_100, "ttl {ttl} ms");
    // Another key keeps its own interval.
    let other = "example.org|10.0.0.6";
    assert_eq!(b.reserve(other, INTERVAL).await.unwrap(), Duration::ZERO);
    let next = b.reserve(other, INTERVAL).await.unwrap();
    assert!(next <= INTERVAL, "{next:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shorter_pause_does_not_shorten_a_longer_one() {
    let server = redis();
    let (a, b) = (budget(&server.url()), budget(&server.url()));
    let key = "example.org|10.0.0.4";
    a.pause(key, Duration::from_secs(10)).await.unwrap();
    b.pause(key, Duration::from_secs(1)).await.unwrap();
    b.pause(key, Duration::ZERO).await.unwrap();
    let wait = a.reserve(key, INTERVAL).await.unwrap();
    assert!(wait > Duration::from_millis(9_900), "{wait:?}");
    // A longer pause does extend it.
    b.pause(key, Duration::from_secs(20)).await.unwrap();
    let wait = b.reserve(key, INTERVAL).await.unwrap();
    assert!(wait > Duration::from_millis(19_900), "{wait:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn budget_keys_expire_after_they_stop_mattering() {
    let server = redis();
    let b = budget(&server.url());
    b.reserve("k", Duration::from_millis(10)).await.unwrap();
    b.pause("k", Duration::from_secs(2)).await.unwrap();
    let client = redis_conn(&server.url()).await;
    let mut c = client;
    let ttl: i64 = ::redis::cmd("PTTL")
        .arg("sofleet:budget:k")
        .query_async(&mut c)
        .await
        .unwrap();
    assert!(ttl > 60_000 && ttl <= 62_100, "ttl {ttl} ms");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_are_invalid_options() {
    let server = redis();
    let b = budget(&server.url());
    let bad_key = "k".repeat(513);
    let cases = [
        b.reserve("", INTERVAL).await,
        b.reserve(&bad_key, INTERVAL).await,
        b.reserve("k", Duration::ZERO).await,
        b.reserve("k", Duration::from_nanos(999)).await,
        b.reserve("k", Duration::from_secs(24 * 3600 + 1)).await,
        b.pause("k", Duration::from_secs(24 * 3600 + 1))
            .await
            .map(|()| Duration::ZERO),
        b.pause("", Duration::ZERO).await.map(|()| Duration::ZERO),
    ];
    for (i, r) in cases.into_iter().enumerate() {
        match r {
            Err(RedisError::InvalidOption { message, .. }) => {
                assert!(message.contains("127.0.0.1"), "case {i}: {message}")
            }
            other => panic!("case {i}: expected InvalidOption, got {other:?}"),
        }
    }
    // The limits themselves are accepted.
    b.reserve(&"k".repeat(512), Duration::from_micros(1))
        .await
        .unwrap();
    b.reserve("k", Duration::from_secs(24 * 3600))
        .await
        .unwrap();
    assert!(RateBudget::new("redis://127.0.0.1", "", None).is_err());
    let err = RateBudget::new("http://:pw@localhost", "sofleet", None).unwrap_err();
    assert!(!err.to_string().contains("pw"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_redis_fails_fast() {
    // Nothing listens on the port of a stopped server: connection refused.
    let port = {
        let mut s = redis();
        let port = s.port();
        s.kill();
        port
    };
    let b = RateBudget::new(&format!("redis://:hunter2@127.0.0.1:{port}"), "ns", None).unwrap();
    for _ in 0..3 {
        let start = Instant::now();
        let err = b.reserve("k", INTERVAL).await.unwrap_err();
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
        let msg = err.to_string();
        assert!(matches!(err, RedisError::Connect { .. }), "{msg}");
        assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
        assert!(!msg.contains("hunter2"), "password leaked: {msg}");
    }

    // A server that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    let held = std::thread::spawn(move || {
        let mut conns = Vec::new();
        for c in silent.incoming().take(4) {
            conns.push(c);
        }
        std::thread::sleep(Duration::from_secs(5));
    });
    let b = RateBudget::new(&format!("redis://{addr}"), "ns", None).unwrap();
    let start = Instant::now();
    let err = b.reserve("k", INTERVAL).await.unwrap_err();
    let took = start.elapsed();
    assert!(took < Duration::from_millis(2_500), "took {took:?}: {err}");
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
    // While it stays down, calls fail at once.
    let start = Instant::now();
    b.pause("k", INTERVAL).await.unwrap_err();
    assert!(start.elapsed() < Duration::from_millis(500));
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_survives_a_redis_restart() {
    let mut server = redis();
    let port = server.port();
    let b = budget(&server.url());
    b.reserve("k", INTERVAL).await.unwrap();
    server.kill();
    assert!(b.reserve("k", INTERVAL).await.is_err());
    let server = sofleet_redis::testing::RedisServer::start_on(port, None).unwrap();
    // Within the retry window calls may still fail fast; then the budget reconnects.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match b.reserve("k", INTERVAL).await {
            Ok(wait) => {
                assert_eq!(wait, Duration::ZERO);
                break;
            }
            Err(e) => assert!(Instant::now() < deadline, "no reconnect: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(server);
}
