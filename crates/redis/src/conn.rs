//! Connections: URL parsing with password masking, (re)connecting on the crate's backoff
//! schedule (`backoff.rs`).

use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, ErrorKind, ServerErrorKind};

use crate::backoff::{Backoff, reconnect_backoff};
use crate::error::RedisError;

/// The URL with any password replaced by `***`, for logs and errors.
///
/// The URL is read with a real URL parser: a password is masked whatever it contains, and a
/// user name given without a password (`redis://secret@host`, which some Redis clients send
/// as the password) is masked too. A string that does not parse as a URL, or whose path,
/// query or fragment still holds an `@` (a password with a `/` or `?` in it cuts the
/// authority short), has everything between `://` (or its start) and its last `@` masked.
///
/// ```
/// use sofleet_redis::redact_url;
/// assert_eq!(redact_url("redis://:secret@host:1/0"), "redis://:***@host:1/0");
/// assert_eq!(redact_url("redis://user:p@ss@host"), "redis://user:***@host");
/// assert_eq!(redact_url("redis://:pa/ss@127.0.0.1:1"), "redis://***@127.0.0.1:1");
/// assert_eq!(redact_url("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
/// ```
pub fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return mask_to_last_at(url);
    };
    let stray_at = parsed.path().contains('@')
        || parsed.query().is_some_and(|q| q.contains('@'))
        || parsed.fragment().is_some_and(|f| f.contains('@'));
    if stray_at {
        return mask_to_last_at(url);
    }
    let masked = if parsed.password().is_some() {
        parsed.set_password(Some("***")).is_ok()
    } else if !parsed.username().is_empty() {
        parsed.set_username("***").is_ok()
    } else {
        true
    };
    if masked {
        parsed.into()
    } else {
        mask_to_last_at(url)
    }
}

/// Masks everything between `://` (or the start) and the last `@` of the whole string.
fn mask_to_last_at(url: &str) -> String {
    let Some(at) = url.rfind('@') else {
        return url.to_string();
    };
    let start = url.find("://").map_or(0, |i| i + 3).min(at);
    format!("{}***{}", &url[..start], &url[at..])
}

/// Parses a `redis://` or `rediss://` URL; `tls_ca_file` (PEM) replaces the built-in root
/// certificates for `rediss://` (a Redis server with a private CA).
pub(crate) fn open_client(
    url: &str,
    tls_ca_file: Option<&std::path::Path>,
    option: &'static str,
) -> Result<redis::Client, RedisError> {
    let invalid = |source| RedisError::InvalidUrl {
        url: redact_url(url),
        source,
    };
    match tls_ca_file {
        None => redis::Client::open(url).map_err(invalid),
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| RedisError::InvalidOption {
                option,
                message: format!("cannot read CA certificate file {}: {e}", path.display()),
            })?;
            redis::Client::build_with_tls(
                url,
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem),
                },
            )
            .map_err(|source| {
                if source.kind() == ErrorKind::InvalidClientConfig {
                    RedisError::InvalidOption {
                        option,
                        message: format!(
                            "{} is not a usable PEM CA certificate for {}: {source}",
                            path.display(),
                            redact_url(url)
                        ),
                    }
                } else {
                    invalid(source)
                }
            })
        }
    }
}

/// Whether an error means the connection is unusable (as opposed to Redis rejecting a command).
pub(crate) fn needs_reconnect(e: &redis::RedisError) -> bool {
    match e.kind() {
        ErrorKind::Server(ServerErrorKind::BusyLoading) => true,
        ErrorKind::Server(_) | ErrorKind::Extension => false,
        _ => true,
    }
}

/// Whether an error is Redis saying the consumer group (or its stream) does not exist.
pub(crate) fn is_nogroup(e: &redis::RedisError) -> bool {
    e.code() == Some("NOGROUP") || e.to_string().contains("NOGROUP")
}

/// A lazily (re)established multiplexed connection.
pub(crate) struct Link {
    client: redis::Client,
    config: AsyncConnectionConfig,
    conn: Option<MultiplexedConnection>,
}

impl Link {
    /// A link whose commands time out after `response_timeout`.
    pub(crate) fn new(client: redis::Client, response_timeout: Duration) -> Self {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(response_timeout));
        Link {
            client,
            config,
            conn: None,
        }
    }

    /// The current connection, connecting first if there is none.
    pub(crate) async fn conn(&mut self) -> redis::RedisResult<MultiplexedConnection> {
        if let Some(c) = &self.conn {
            return Ok(c.clone());
        }
        let c = self
            .client
            .get_multiplexed_async_connection_with_config(&self.config)
            .await?;
        // A fresh connection to a server that is still loading its dataset answers LOADING.
        redis::cmd("PING").query_async::<()>(&mut c.clone()).await?;
        self.conn = Some(c.clone());
        Ok(c)
    }

    /// Drops the connection if `e` means it is broken, so the next [`Link::conn`] reconnects.
    pub(crate) fn note_error(&mut self, e: &redis::RedisError) {
        if needs_reconnect(e) {
            self.conn = None;
        }
    }

    /// Connects, retrying on the [`reconnect_backoff`] schedule for up to `total` (a wrong
    /// password or TLS setup fails at once).
    pub(crate) async fn connect_within(
        &mut self,
        total: Duration,
    ) -> redis::RedisResult<MultiplexedConnection> {
        let start = Instant::now();
        let mut backoff = Backoff::new(reconnect_backoff());
        loop {
            let e = match self.conn().await {
                Ok(c) => return Ok(c),
                Err(e) => e,
            };
            self.note_error(&e);
            // Wrong password or bad TLS setup will not fix itself: fail at once.
            let fatal = matches!(
                e.kind(),
                ErrorKind::AuthenticationFailed | ErrorKind::InvalidClientConfig
            ) || e.to_string().contains("WRONGPASS")
                || e.to_string().contains("NOAUTH");
            let delay = backoff.next_delay();
            if fatal || start.elapsed() + delay > total {
                return Err(e);
            }
            tokio::time::sleep(delay).await;
        }
    }
}

/// Creates the consumer group (and the stream) if missing. Reading starts at `0` so that jobs
/// added before the group existed are delivered too.
pub(crate) async fn ensure_group(
    conn: &mut MultiplexedConnection,
    stream: &str,
    group: &str,
) -> redis::RedisResult<()> {
    let r: redis::RedisResult<()> = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(stream)
        .arg(group)
        .arg("0")
        .arg("MKSTREAM")
        .query_async(conn)
        .await;
    match r {
        Err(e) if e.code() == Some("BUSYGROUP") || e.to_string().contains("BUSYGROUP") => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked() {
        let cases = [
            ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
            ("redis://127.0.0.1:6379/2", "redis://127.0.0.1:6379/2"),
            ("redis://:secret@host:1/0", "redis://:***@host:1/0"),
            // Username and password: the user name stays.
            ("rediss://user:pw@host/2", "rediss://user:***@host/2"),
            // '@' in the password: the URL parser splits at the last '@' of the authority.
            ("rediss://user:p@ss@host/2", "rediss://user:***@host/2"),
            // ':' in the password.
            ("redis://:a:b:c@host:6379", "redis://:***@host:6379"),
            // '/' in the password cuts the authority short: masked up to the last '@'.
            ("redis://:pa/ss@127.0.0.1:1", "redis://***@127.0.0.1:1"),
            ("redis://u:1/ss@host/0", "redis://***@host/0"),
            ("redis://:p?w#x@host", "redis://***@host"),
            // Percent-encoded and non-ASCII passwords.
            ("redis://:pa%2Fss@host:1", "redis://:***@host:1"),
            ("redis://:pässwörd@host", "redis://:***@host"),
            // A user name alone may be a password for some clients.
            ("redis://secret@host:6379", "redis://***@host:6379"),
            // IPv6 hosts.
            ("redis://:pw@[::1]:6379/0", "redis://:***@[::1]:6379/0"),
            ("redis://[::1]:6379", "redis://[::1]:6379"),
            // Not URLs at all.
            ("not a url", "not a url"),
            ("redis://:pw@host:notaport", "redis://***@host:notaport"),
            ("::pw@host", "***@host"),
            ("redis://:pw@", "redis://***@"),
        ];
        for (input, expected) in cases {
            assert_eq!(redact_url(input), expected, "redact_url({input:?})");
        }
        for secret in ["secret", "pa/ss", "pässwörd", "pa%2Fss", "p?w#x"] {
            let url = format!("redis://user:{secret}@h:1");
            assert!(!redact_url(&url).contains(secret), "{url}");
        }
    }

    #[test]
    fn bad_urls_are_typed_errors() {
        let err = open_client("http://:pw@localhost", None, "x").unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, RedisError::InvalidUrl { .. }), "{msg}");
        assert!(!msg.contains("pw@"), "password leaked: {msg}");
        assert!(open_client("rediss://localhost:6380", None, "x").is_ok());
        assert!(open_client("redis://:pw@localhost:6379/1", None, "x").is_ok());
        let missing = std::path::Path::new("/nonexistent/ca.pem");
        let err = open_client(
            "rediss://localhost",
            Some(missing),
            "RedisOptions::tls_ca_file",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("RedisOptions::tls_ca_file"),
            "{err}"
        );
    }
}
