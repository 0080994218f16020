//! Connections: URL parsing with password masking, (re)connecting with backoff.

use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, ErrorKind, ServerErrorKind};

use crate::error::RedisError;

/// The URL with any password replaced by `***`, for logs and errors.
///
/// ```
/// assert_eq!(sofleet_redis::redact_url("redis://:secret@host:1/0"), "redis://:***@host:1/0");
/// ```
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let masked = match userinfo.find(':') {
                Some(colon) => format!("{}:***", &userinfo[..colon]),
                None => "***".to_string(),
            };
            format!("{}{masked}{}", &url[..scheme_end + 3], &rest[at..])
        }
        None => url.to_string(),
    }
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

    /// Connects, retrying with backoff for up to `total`.
    pub(crate) async fn connect_within(
        &mut self,
        total: Duration,
    ) -> redis::RedisResult<MultiplexedConnection> {
        let start = Instant::now();
        let mut backoff = Duration::from_millis(25);
        loop {
            match self.conn().await {
                Ok(c) => return Ok(c),
                Err(e) => {
                    self.note_error(&e);
                    // Wrong password or bad TLS setup will not fix itself: fail at once.
                    let fatal = matches!(
                        e.kind(),
                        ErrorKind::AuthenticationFailed | ErrorKind::InvalidClientConfig
                    ) || e.to_string().contains("WRONGPASS")
                        || e.to_string().contains("NOAUTH");
                    if fatal || start.elapsed() + backoff > total {
                        return Err(e);
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_millis(500));
                }
            }
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
        assert_eq!(
            redact_url("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
        assert_eq!(
            redact_url("redis://:secret@host:1/0"),
            "redis://:***@host:1/0"
        );
        assert_eq!(
            redact_url("rediss://user:p@ss@host/2"),
            "rediss://user:***@host/2"
        );
        assert_eq!(redact_url("not a url"), "not a url");
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
