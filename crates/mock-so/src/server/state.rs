//! What the server remembers between requests: the request log and count,
//! per-client rate-limit and captcha windows, and which faulty URLs already
//! failed once. Nothing here grows with the number of requests unless the
//! configuration records them.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use crate::config::MockSiteConfig;
use crate::rng::Rng;
use crate::server::RecordedRequest;

/// One client's rate-limit and captcha windows.
#[derive(Default)]
pub(super) struct ClientState {
    /// Accepted requests within the last second (rate limit window).
    pub(super) accepted: VecDeque<Instant>,
    /// All requests within the last second (captcha burst window).
    pub(super) burst: VecDeque<Instant>,
    pub(super) blocked_until: Option<Instant>,
    pub(super) captcha_until: Option<Instant>,
}

impl ClientState {
    /// Nothing left that could change how the next request is answered: the
    /// windows hold only expired entries and no block or cool-down runs.
    fn is_idle(&self, now: Instant) -> bool {
        let expired = |t: &Instant| now.duration_since(*t) >= Duration::from_secs(1);
        self.accepted.iter().all(expired)
            && self.burst.iter().all(expired)
            && self.blocked_until.is_none_or(|until| now >= until)
            && self.captcha_until.is_none_or(|until| now >= until)
    }
}

/// How often idle clients are swept from the state.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// The server's mutable state, behind one lock.
pub(super) struct State {
    /// `Some` when the configuration records requests.
    pub(super) log: Option<Vec<RecordedRequest>>,
    pub(super) received: u64,
    pub(super) clients: HashMap<String, ClientState>,
    next_sweep: Instant,
    /// Hashes of the `server_errors` URLs whose first attempt already failed.
    pub(super) failed_once: HashSet<u64>,
    pub(super) latency_rng: Rng,
    pub(super) captcha_seq: u64,
}

impl State {
    pub(super) fn new(config: &MockSiteConfig) -> State {
        State {
            log: config.record_requests.then(Vec::new),
            received: 0,
            clients: HashMap::new(),
            next_sweep: Instant::now() + SWEEP_EVERY,
            failed_once: HashSet::new(),
            latency_rng: Rng::derive(config.seed, 0x01A7_E2C7),
            captcha_seq: 0,
        }
    }

    /// Drops the clients that are idle, at most once per [`SWEEP_EVERY`].
    pub(super) fn sweep_clients(&mut self, now: Instant) {
        if now < self.next_sweep {
            return;
        }
        self.next_sweep = now + SWEEP_EVERY;
        self.clients.retain(|_, cs| !cs.is_idle(now));
        if self.clients.capacity() > 64 && self.clients.capacity() > 4 * self.clients.len() {
            self.clients.shrink_to_fit();
        }
    }
}
