//! No error or debug output of this crate shows a Redis password, whatever the URL holds.

use std::time::Duration;

use sofleet_redis::{
    FleetReader, RateBudget, RedisBackend, RedisOptions, WorkerOptions, run_worker,
};

/// URLs with a password (or a user name alone) and where nothing listens (port 1).
const URLS: [(&str, &str); 6] = [
    // A '/' in the password: not a parseable URL, the redis client refuses it.
    ("redis://:pa/ss@127.0.0.1:1", "pa/ss"),
    ("redis://user:s3cr3t@127.0.0.1:1", "s3cr3t"),
    ("redis://:p@ss:w@rd@127.0.0.1:1", "ss:w"),
    ("redis://:pa%2Fss@127.0.0.1:1", "pa%2Fss"),
    ("redis://:pässwörd@127.0.0.1:1", "rd@"),
    ("redis://lonely-secret@127.0.0.1:1", "lonely-secret"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_errors_never_show_the_password() {
    for (url, secret) in URLS {
        let mut opts = RedisOptions::default();
        opts.connect_timeout = Duration::from_millis(200);
        let err = FleetReader::connect(url, &opts).await.unwrap_err();
        let msg = format!("{err} / {err:?}");
        assert!(!msg.contains(secret), "{url}: {msg}");
        assert!(msg.contains("***"), "{url}: {msg}");
        let err = RedisBackend::connect(url, opts).await.unwrap_err();
        let msg = format!("{err} / {err:?}");
        assert!(!msg.contains(secret), "{url}: {msg}");
        assert!(msg.contains("***"), "{url}: {msg}");

        let mut wopts = WorkerOptions::new(url);
        wopts.connect_timeout = Duration::from_millis(200);
        assert!(!format!("{wopts:?}").contains(secret), "{url}");
        let err = run_worker(wopts, Default::default(), std::future::pending())
            .await
            .unwrap_err();
        let msg = format!("{err} / {err:?}");
        assert!(!msg.contains(secret), "{url}: {msg}");

        match RateBudget::new(url, "sofleet", None) {
            Ok(budget) => {
                assert!(!format!("{budget:?}").contains(secret), "{url}");
                let err = budget
                    .reserve("k", Duration::from_millis(10))
                    .await
                    .unwrap_err();
                let msg = format!("{err} / {err:?}");
                assert!(!msg.contains(secret), "{url}: {msg}");
            }
            Err(err) => {
                let msg = format!("{err} / {err:?}");
                assert!(!msg.contains(secret), "{url}: {msg}");
            }
        }
    }
}
