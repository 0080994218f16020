//! The options of this crate and their one set of checks.
//!
//! * `client.rs`: [`RedisOptions`] of a [`RedisBackend`](crate::RedisBackend);
//! * `worker.rs`: [`WorkerOptions`] of [`run_worker`](crate::run_worker);
//! * here: the defaults a client and its workers must agree on, and [`Checks`], which both
//!   options structs (and [`RateBudget`](crate::RateBudget)'s namespace) run before
//!   connecting. Both structs are `#[non_exhaustive]` with public fields, built from a
//!   constructor with defaults; durations are [`std::time::Duration`]s.

mod client;
mod worker;

use std::time::Duration;

pub use client::RedisOptions;
pub use worker::{ReadyHook, WorkerOptions};

use crate::error::RedisError;

/// Default namespace (key prefix) shared by clients and workers.
pub const DEFAULT_NAMESPACE: &str = "sofleet";
/// Default consumer group name of the workers.
pub const DEFAULT_GROUP: &str = "workers";
/// Default limit on a job's payload plus inputs, and on a result: 16 MiB.
pub const DEFAULT_MAX_PAYLOAD_BYTES: usize = 16 << 20;
/// Smallest accepted `max_payload_bytes` of a client or worker.
const MIN_PAYLOAD_BYTES: u64 = 1024;
/// Most source addresses a worker publishes.
const MAX_ADDRESSES: usize = 64;
/// Longest source address a worker publishes, in bytes.
const MAX_ADDRESS_BYTES: usize = 100;

/// Which options struct a shared check is about (it names the option in its error).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Owner {
    /// [`RedisOptions`].
    Client,
    /// [`WorkerOptions`].
    Worker,
}

/// `RedisOptions::$field` or `WorkerOptions::$field`, as a `&'static str`.
macro_rules! option_name {
    ($owner:expr, $field:literal) => {
        match $owner {
            Owner::Client => concat!("RedisOptions::", $field),
            Owner::Worker => concat!("WorkerOptions::", $field),
        }
    };
}

/// The checks of an options struct, in order; [`done`](Self::done) gives the first failure as
/// [`RedisError::InvalidOption`] naming the option and what it must be.
#[must_use]
pub(crate) struct Checks(Result<(), RedisError>);

impl Checks {
    /// What a client and its workers both set: namespace and group (names), the batch size
    /// (at least 1) and the payload limit (at least 1024 bytes).
    pub(crate) fn shared(
        owner: Owner,
        namespace: &str,
        group: &str,
        batch_size: usize,
        max_payload_bytes: usize,
    ) -> Self {
        Checks(Ok(()))
            .name(option_name!(owner, "namespace"), namespace)
            .name(option_name!(owner, "group"), group)
            .at_least(option_name!(owner, "batch_size"), batch_size as u64, 1)
            .at_least(
                option_name!(owner, "max_payload_bytes"),
                max_payload_bytes as u64,
                MIN_PAYLOAD_BYTES,
            )
    }

    /// A namespace, group or consumer name: 1 to 100 characters from `[A-Za-z0-9_.-]`.
    pub(crate) fn name(self, option: &'static str, value: &str) -> Self {
        self.then(|| validate_name(option, value))
    }

    /// A list of source addresses: at most 64, each 1 to 100 characters without whitespace
    /// or control characters (an IP address, `host:port`...).
    pub(crate) fn addresses(self, option: &'static str, addresses: &[String]) -> Self {
        self.then(|| {
            let invalid = |message: String| Err(RedisError::InvalidOption { option, message });
            if addresses.len() > MAX_ADDRESSES {
                return invalid(format!(
                    "must hold at most {MAX_ADDRESSES} addresses, not {}",
                    addresses.len()
                ));
            }
            match addresses.iter().find(|a| {
                a.is_empty()
                    || a.len() > MAX_ADDRESS_BYTES
                    || a.chars().any(|c| c.is_whitespace() || c.is_control())
            }) {
                Some(bad) => invalid(format!(
                    "{bad:?} is not a valid address: use 1 to {MAX_ADDRESS_BYTES} characters \
                     without spaces, e.g. 10.0.0.7"
                )),
                None => Ok(()),
            }
        })
    }

    /// A number of at least `min`.
    pub(crate) fn at_least(self, option: &'static str, value: u64, min: u64) -> Self {
        self.require(option, value >= min, &format!("at least {min}"))
    }

    /// A duration of at least `min` (said in milliseconds).
    pub(crate) fn at_least_ms(self, option: &'static str, value: Duration, min: Duration) -> Self {
        let what = format!("at least {} ms", min.as_millis());
        self.require(option, value >= min, &what)
    }

    /// `ok`, or the option "must be {what}".
    pub(crate) fn require(self, option: &'static str, ok: bool, what: &str) -> Self {
        self.then(|| {
            if ok {
                Ok(())
            } else {
                Err(RedisError::InvalidOption {
                    option,
                    message: format!("must be {what}"),
                })
            }
        })
    }

    /// The first failed check, if any.
    pub(crate) fn done(self) -> Result<(), RedisError> {
        self.0
    }

    fn then(self, check: impl FnOnce() -> Result<(), RedisError>) -> Self {
        Checks(self.0.and_then(|()| check()))
    }
}

/// Checks a namespace, group or consumer name: 1-100 characters from `[A-Za-z0-9_.-]`.
pub(crate) fn validate_name(option: &'static str, value: &str) -> Result<(), RedisError> {
    let ok = !value.is_empty()
        && value.len() <= 100
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(RedisError::InvalidOption {
            option,
            message: format!(
                "{value:?} is not a valid name: use 1 to 100 characters from A-Z, a-z, 0-9, '_', '-' and '.'"
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated() {
        assert!(validate_name("x", "sofleet").is_ok());
        assert!(validate_name("x", "a.b-c_1").is_ok());
        let err = validate_name("RedisOptions::namespace", "bad name*").unwrap_err();
        assert!(err.to_string().contains("RedisOptions::namespace"), "{err}");
        assert!(validate_name("x", "").is_err());
        assert!(validate_name("x", &"a".repeat(101)).is_err());
    }

    #[test]
    fn addresses_are_bounded() {
        let check = |list: &[&str]| {
            let list: Vec<String> = list.iter().map(|a| a.to_string()).collect();
            Checks(Ok(()))
                .addresses("WorkerOptions::addresses", &list)
                .done()
        };
        assert!(check(&[]).is_ok());
        assert!(check(&["127.0.0.2", "::1", "proxy.example:3128"]).is_ok());
        for bad in ["", "10.0.0.1 10.0.0.2", "a\nb", &"1".repeat(101)] {
            let err = check(&["10.0.0.1", bad]).unwrap_err().to_string();
            assert!(
                err.starts_with("invalid option WorkerOptions::addresses: "),
                "{err}"
            );
        }
        let many = vec!["10.0.0.1"; 65];
        let err = check(&many).unwrap_err().to_string();
        assert!(
            err.ends_with("must hold at most 64 addresses, not 65"),
            "{err}"
        );
    }

    #[test]
    fn shared_checks_name_their_owner_and_stop_at_the_first_failure() {
        let err = Checks::shared(Owner::Worker, "ns", "g", 0, 512)
            .done()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid option WorkerOptions::batch_size: must be at least 1"
        );
        let err = Checks::shared(Owner::Client, "ns", "g", 1, 512)
            .at_least_ms("x", Duration::ZERO, Duration::from_millis(1))
            .done()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid option RedisOptions::max_payload_bytes: must be at least 1024"
        );
        let err = Checks::shared(Owner::Client, "ns", "g", 1, 1024)
            .at_least_ms(
                "RedisOptions::marker_ttl",
                Duration::ZERO,
                Duration::from_millis(300),
            )
            .done()
            .unwrap_err();
        assert!(
            err.to_string().ends_with("must be at least 300 ms"),
            "{err}"
        );
        assert!(
            Checks::shared(Owner::Client, "ns", "g", 1, 1024)
                .done()
                .is_ok()
        );
    }
}
