//! Test support: a throw-away `redis-server` process ([`RedisServer`]) and a few task types
//! ([`tasks`]) used by this crate's tests, its `sofleet-test-worker` binary and benchmarks.
//! Not meant for production code.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` process on a free loopback port, without persistence, killed on drop.
///
/// The binary is `redis-server` from `PATH`, or the path in the `SOFLEET_REDIS_SERVER`
/// environment variable.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    password: Option<String>,
    tls: bool,
}

/// A free TCP port on 127.0.0.1 (bound once, then released).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl RedisServer {
    /// Starts a server on a free port and waits until it answers.
    pub fn start() -> std::io::Result<Self> {
        Self::start_on(free_port()?, None)
    }

    /// Starts a server that requires `password` (`requirepass`).
    pub fn start_with_password(password: &str) -> std::io::Result<Self> {
        Self::start_on(free_port()?, Some(password.to_string()))
    }

    /// Starts a server on the given port (e.g. the port of a server that was stopped, to
    /// simulate a restart) and waits until it answers (up to 10 s).
    pub fn start_on(port: u16, password: Option<String>) -> std::io::Result<Self> {
        Self::spawn(port, password, &[])
    }

    /// Starts a TLS-only server (`rediss://`) on a free port with the given PEM server
    /// certificate, key and CA; clients are not asked for certificates.
    pub fn start_tls(
        cert: &std::path::Path,
        key: &std::path::Path,
        ca: &std::path::Path,
    ) -> std::io::Result<Self> {
        let port = free_port()?;
        let args = [
            "--port".to_string(),
            "0".to_string(),
            "--tls-port".to_string(),
            port.to_string(),
            "--tls-cert-file".to_string(),
            cert.display().to_string(),
            "--tls-key-file".to_string(),
            key.display().to_string(),
            "--tls-ca-cert-file".to_string(),
            ca.display().to_string(),
            "--tls-auth-clients".to_string(),
            "no".to_string(),
        ];
        Self::spawn(port, None, &args)
    }

    fn spawn(port: u16, password: Option<String>, extra: &[String]) -> std::io::Result<Self> {
        let tls = !extra.is_empty();
        let bin = std::env::var_os("SOFLEET_REDIS_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("redis-server"));
        let mut cmd = Command::new(&bin);
        if !tls {
            cmd.arg("--port").arg(port.to_string());
        }
        cmd.args(extra)
            .arg("--bind")
            .arg("127.0.0.1")
            .arg("--save")
            .arg("")
            .arg("--appendonly")
            .arg("no")
            .arg("--dir")
            .arg(std::env::temp_dir())
            .arg("--loglevel")
            .arg("warning");
        if let Some(pw) = &password {
            cmd.arg("--requirepass").arg(pw);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let child = cmd.spawn().map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!(
                    "cannot start {}: {e} (install redis-server or set SOFLEET_REDIS_SERVER)",
                    bin.display()
                ),
            )
        })?;
        let mut server = RedisServer {
            child: Some(child),
            port,
            password,
            tls,
        };
        server.wait_ready()?;
        Ok(server)
    }

    fn wait_ready(&mut self) -> std::io::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                return Err(std::io::Error::other(format!(
                    "redis-server on port {} exited with {status}: {err}",
                    self.port
                )));
            }
            if self.ping().is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "redis-server on port {} did not answer PING within 10 s",
                        self.port
                    ),
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn ping(&self) -> std::io::Result<()> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port))?;
        if self.tls {
            // Accepting connections is all that can be checked without a TLS client.
            return Ok(());
        }
        s.set_read_timeout(Some(Duration::from_secs(1)))?;
        let mut req = String::new();
        if let Some(pw) = &self.password {
            req.push_str(&format!("AUTH {pw}\r\n"));
        }
        req.push_str("PING\r\n");
        s.write_all(req.as_bytes())?;
        let mut buf = [0u8; 64];
        let mut got = Vec::new();
        while !String::from_utf8_lossy(&got).contains("PONG") {
            let n = s.read(&mut buf)?;
            if n == 0 {
                return Err(std::io::Error::other("closed"));
            }
            got.extend_from_slice(&buf[..n]);
            if got.starts_with(b"-") {
                return Err(std::io::Error::other(
                    String::from_utf8_lossy(&got).into_owned(),
                ));
            }
        }
        Ok(())
    }

    /// The server's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://[:PASSWORD@]127.0.0.1:PORT` (`rediss://` for a TLS server).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "rediss" } else { "redis" };
        match &self.password {
            Some(pw) => format!("{scheme}://:{pw}@127.0.0.1:{}", self.port),
            None => format!("{scheme}://127.0.0.1:{}", self.port),
        }
    }

    /// Kills the server (SIGKILL, like a crash) and waits for it to exit. All data is lost.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Whether the server process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Task types for tests and benchmarks of remote execution.
pub mod tasks {
    use std::time::Duration;

    use serde::{Deserialize, Serialize};
    use sofleet_executor::{Task, TaskContext, TaskError, TaskRegistry};

    /// Returns `n` at once.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct Noop {
        /// The value returned.
        pub n: u64,
    }

    impl Task for Noop {
        type Output = u64;
        const NAME: &'static str = "redis-test-noop";
        const PURE: bool = false;
        async fn run(self, _ctx: TaskContext) -> Result<u64, TaskError> {
            Ok(self.n)
        }
    }

    /// Returns `x * x`.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct Square {
        /// The number squared.
        pub x: i64,
    }

    impl Task for Square {
        type Output = i64;
        const NAME: &'static str = "redis-test-square";
        async fn run(self, _ctx: TaskContext) -> Result<i64, TaskError> {
            self.x
                .checked_mul(self.x)
                .ok_or_else(|| TaskError::fatal("overflow"))
        }
    }

    /// Returns `extra` plus the sum of all its `i64` dependency inputs.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct SumInputs {
        /// Added to the sum.
        pub extra: i64,
    }

    impl Task for SumInputs {
        type Output = i64;
        const NAME: &'static str = "redis-test-sum-inputs";
        async fn run(self, ctx: TaskContext) -> Result<i64, TaskError> {
            let mut sum = self.extra;
            for i in 0..ctx.input_count() {
                sum += ctx.input::<i64>(i)?;
            }
            Ok(sum)
        }
    }

    /// Sleeps for `duration`, then returns `value`.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct Sleep {
        /// How long to sleep.
        pub duration: Duration,
        /// The value returned.
        pub value: u64,
    }

    impl Task for Sleep {
        type Output = u64;
        const NAME: &'static str = "redis-test-sleep";
        const PURE: bool = false;
        async fn run(self, _ctx: TaskContext) -> Result<u64, TaskError> {
            tokio::time::sleep(self.duration).await;
            Ok(self.value)
        }
    }

    /// Fails with `message`.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct Fail {
        /// The error message.
        pub message: String,
        /// Whether the error is retryable.
        pub retryable: bool,
    }

    impl Task for Fail {
        type Output = u64;
        const NAME: &'static str = "redis-test-fail";
        async fn run(self, _ctx: TaskContext) -> Result<u64, TaskError> {
            Err(if self.retryable {
                TaskError::retryable(self.message)
            } else {
                TaskError::fatal(self.message)
            })
        }
    }

    /// Panics with `message`.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct Panic {
        /// The panic message.
        pub message: String,
    }

    impl Task for Panic {
        type Output = u64;
        const NAME: &'static str = "redis-test-panic";
        async fn run(self, _ctx: TaskContext) -> Result<u64, TaskError> {
            panic!("{}", self.message)
        }
    }

    /// Kills the process running it (`std::process::abort`), like a worker crash. Only for
    /// worker processes in tests.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct KillWorker {
        /// Unused; distinguishes jobs.
        pub n: u64,
    }

    impl Task for KillWorker {
        type Output = u64;
        const NAME: &'static str = "redis-test-kill-worker";
        const PURE: bool = false;
        async fn run(self, _ctx: TaskContext) -> Result<u64, TaskError> {
            std::process::abort()
        }
    }

    /// Registers every task type of this module.
    pub fn register_all(registry: &mut TaskRegistry) {
        registry
            .register::<Noop>()
            .register::<Square>()
            .register::<SumInputs>()
            .register::<Sleep>()
            .register::<Fail>()
            .register::<Panic>()
            .register::<KillWorker>();
    }
}
