//! The switchable behaviours that answer instead of the page: latency, the
//! captcha burst detector, the per-client rate limit, `Retry-After` text and
//! the intermittent 500/503 of faulty URLs.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use super::reply::{Reply, html};
use super::state::{ClientState, State};
use crate::config::{Latency, MAX_REMEMBERED_FAULTS, MockSiteConfig};
use crate::render::error_page;
use crate::rng::hash_str;
use crate::text::encode_tag;

/// The latency to add to this response.
pub(super) fn latency(config: &MockSiteConfig, state: &mut State) -> Duration {
    match config.latency {
        Latency::None => Duration::ZERO,
        Latency::Fixed(d) => d,
        Latency::Random { min, max } => {
            let span = (max - min).as_micros() as u64;
            min + Duration::from_micros(state.latency_rng.below(span + 1))
        }
    }
}

/// A 429 whose `Retry-After` is the configured raw text, else `computed`.
pub(super) fn too_many_requests(
    config: &MockSiteConfig,
    computed: impl FnOnce() -> String,
) -> Reply {
    let text = match &config.retry_after_header {
        Some(raw) => raw.clone(),
        None => computed(),
    };
    html(429, error_page(429)).header("retry-after", &text)
}

/// Captcha and rate-limit decisions for one request; `Some` short-circuits.
pub(super) fn gate(
    config: &MockSiteConfig,
    state: &mut State,
    client: &str,
    now: Instant,
    path: &str,
) -> Option<Reply> {
    if config.captcha_after.is_none() && config.rate_limit.is_none() {
        return None;
    }
    state.sweep_clients(now);
    if !state.clients.contains_key(client) {
        state
            .clients
            .insert(client.to_string(), ClientState::default());
    }
    let cs = state.clients.get_mut(client).expect("inserted above");
    if let Some(limit) = config.captcha_after {
        let redirect = match cs.captcha_until {
            Some(until) if now < until => true,
            _ => {
                cs.captcha_until = None;
                cs.burst.push_back(now);
                while cs
                    .burst
                    .front()
                    .is_some_and(|&t| now.duration_since(t) >= Duration::from_secs(1))
                {
                    cs.burst.pop_front();
                }
                if cs.burst.len() > limit as usize {
                    cs.captcha_until = Some(now + config.captcha_cooldown);
                    cs.burst.clear();
                    cs.burst.shrink_to_fit();
                    true
                } else {
                    false
                }
            }
        };
        if redirect {
            state.captcha_seq += 1;
            // Like the real site, `s` carries the blocked URL (percent-encoded).
            let token = encode_tag(path);
            return Some(
                html(302, String::new()).header("location", &format!("/nocaptcha?s={token}")),
            );
        }
    }
    if let Some(limit) = config.rate_limit {
        let retry = |remaining: Duration| {
            too_many_requests(config, || {
                let secs = remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0);
                secs.to_string()
            })
        };
        if let Some(until) = cs.blocked_until {
            if now < until {
                return Some(retry(until - now));
            }
            cs.blocked_until = None;
        }
        while cs
            .accepted
            .front()
            .is_some_and(|&t| now.duration_since(t) >= Duration::from_secs(1))
        {
            cs.accepted.pop_front();
        }
        if cs.accepted.len() >= limit.requests_per_second as usize {
            cs.blocked_until = Some(now + limit.retry_after);
            return Some(retry(limit.retry_after));
        }
        cs.accepted.push_back(now);
    }
    None
}

/// The 500/503 of a faulty URL's first attempt (`None` for any other
/// request, and for a faulty URL that already failed once).
pub(super) fn server_error(config: &MockSiteConfig, state: &mut State, key: &str) -> Option<Reply> {
    let faults = config.server_errors?;
    if !fails_first(config.seed, faults.every_nth, key) {
        return None;
    }
    if state.failed_once.len() >= MAX_REMEMBERED_FAULTS {
        state.failed_once = HashSet::new();
    }
    if state
        .failed_once
        .insert(hash_str(config.seed ^ 0x0F1E_57A7, key))
    {
        let status = fault_status(config.seed, key);
        return Some(html(status, error_page(status)));
    }
    None
}

/// Whether this path-and-query is one of the faulty URLs.
pub(super) fn fails_first(seed: u64, every_nth: u32, key: &str) -> bool {
    every_nth > 0 && hash_str(seed ^ 0xFA17_FA17, key).is_multiple_of(u64::from(every_nth))
}

/// Which status a faulty URL fails with (fixed per URL).
fn fault_status(seed: u64, key: &str) -> u16 {
    if (hash_str(seed ^ 0x0050_0503, key) >> 17) & 1 == 0 {
        500
    } else {
        503
    }
}
