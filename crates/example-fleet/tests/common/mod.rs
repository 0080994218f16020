//! Shared by the example's tests: worker processes built from the example's tasks.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A `sofleet-example-worker` process, stopped (SIGTERM, then killed) on drop.
pub struct Worker {
    child: Child,
}

impl Worker {
    /// Starts a worker on `redis_url` and waits (up to 30 s) until it says it is connected.
    pub fn start(redis_url: &str, name: &str) -> Worker {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sofleet-example-worker"))
            .args(["--redis", redis_url, "--name", name, "--concurrency", "4"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sofleet-example-worker");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        loop {
            match rx.recv_timeout(Duration::from_secs(30)) {
                Ok(line) if line.contains("connected to") => break,
                Ok(_) => continue,
                Err(e) => panic!("worker {name} did not connect: {e}"),
            }
        }
        Worker { child }
    }

    /// The worker's process id (used by `backends.rs`, not by every test file).
    #[allow(dead_code)]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
