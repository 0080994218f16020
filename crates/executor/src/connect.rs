//! One string picks the backend: [`Client::connect`] (`"threads:4"`, `"tokio"`,
//! `"redis://host:6379"`), or the `SOFLEET_BACKEND` environment variable with
//! [`Client::from_env`].
//!
//! The threads and tokio backends are built in. Other backends register a
//! [`BackendConnector`] for their URL schemes with [`register_backend!`](crate::register_backend)
//! (the `sofleet-redis` crate registers `redis://` and `rediss://`), so linking the crate is
//! what makes its scheme work: with the umbrella `sofleet` crate, enabling its `redis` feature.

use std::fmt;
use std::num::NonZeroUsize;

use futures::future::BoxFuture;

use crate::backend::{Backend, BackendError};
use crate::client::Client;
use crate::threads::ThreadsBackend;
use crate::tokio_backend::TokioBackend;

/// The environment variable [`Client::from_env`] reads.
pub const BACKEND_ENV: &str = "SOFLEET_BACKEND";

/// The most threads `threads:N` accepts.
pub const MAX_THREADS: usize = 4096;

/// Connects a backend given by a URL: `connect(url)` returns the backend, ready to use.
pub type ConnectFn = fn(String) -> BoxFuture<'static, Result<Box<dyn Backend>, BackendError>>;

/// How [`Client::connect`] builds a backend for some URL schemes; registered by the crate that
/// provides the backend with [`register_backend!`](crate::register_backend).
pub struct BackendConnector {
    schemes: &'static [&'static str],
    form: &'static str,
    connect: ConnectFn,
    on_tokio: bool,
}

impl BackendConnector {
    /// A connector for URLs whose scheme is one of `schemes` (`"redis"` for `redis://…`);
    /// `form` shows the accepted form in errors (`"redis://[:PASSWORD@]HOST[:PORT][/DB]"`).
    pub const fn new(
        schemes: &'static [&'static str],
        form: &'static str,
        connect: ConnectFn,
    ) -> Self {
        BackendConnector {
            schemes,
            form,
            connect,
            on_tokio: false,
        }
    }

    /// Marks the backend as running on tokio: [`Client::connect`] then fails with
    /// [`ConnectError::NoRuntime`] outside a tokio runtime instead of calling it.
    pub const fn on_tokio(mut self) -> Self {
        self.on_tokio = true;
        self
    }

    /// The URL schemes it connects.
    pub fn schemes(&self) -> &'static [&'static str] {
        self.schemes
    }

    /// The accepted form, for messages.
    pub fn form(&self) -> &'static str {
        self.form
    }
}

impl fmt::Debug for BackendConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.form)
    }
}

inventory::collect!(BackendConnector);

/// Registers a [`BackendConnector`] in the binary, so [`Client::connect`] accepts its
/// schemes.
///
/// ```
/// use sofleet_executor::{Backend, BackendConnector, BackendError, Client, ThreadsBackend};
/// use sofleet_executor::register_backend;
///
/// // `pool://N`: a made-up scheme for N threads.
/// fn pool(url: String) -> futures::future::BoxFuture<'static, Result<Box<dyn Backend>, BackendError>> {
///     Box::pin(async move {
///         let n: usize = url["pool://".len()..]
///             .parse()
///             .map_err(|e| BackendError::new(format!("pool://N needs a number: {e}")))?;
///         Ok(Box::new(ThreadsBackend::new(n)) as Box<dyn Backend>)
///     })
/// }
/// register_backend!(BackendConnector::new(&["pool"], "pool://THREADS", pool));
///
/// let client = futures::executor::block_on(Client::connect("pool://2")).unwrap();
/// assert_eq!(client.backend_name(), "threads");
/// ```
#[macro_export]
macro_rules! register_backend {
    ($connector:expr) => {
        $crate::__private::inventory::submit! { $connector }
    };
}

/// Why [`Client::connect`] or [`Client::from_env`] could not make a client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The spec names no backend this binary has.
    #[error("unknown backend `{spec}`{hint}; accepted forms: {accepted}")]
    UnknownSpec {
        /// The spec given (with any password masked).
        spec: String,
        /// Why, when there is more to say (e.g. a missing cargo feature).
        hint: String,
        /// Every accepted form, comma-separated.
        accepted: String,
    },
    /// The backend needs a tokio runtime and there is none on this thread.
    #[error(
        "backend `{spec}` needs a tokio runtime: call Client::connect from async code inside one ({detail})"
    )]
    NoRuntime {
        /// The spec given (with any password masked).
        spec: String,
        /// What tokio said.
        detail: String,
    },
    /// The backend could not be reached or set up.
    #[error("cannot connect backend `{spec}`: {source}")]
    Backend {
        /// The spec given (with any password masked).
        spec: String,
        /// The backend's error.
        #[source]
        source: BackendError,
    },
    /// `SOFLEET_BACKEND` is not valid UTF-8.
    #[error("{BACKEND_ENV} is not valid UTF-8: set it to one of: {accepted}")]
    NotUnicode {
        /// Every accepted form.
        accepted: String,
    },
}

impl Client {
    /// A client over the backend named by `spec`, the way Dask's `Client(...)` takes a cluster
    /// address:
    ///
    /// - `threads` (one thread per core) or `threads:N`: [`ThreadsBackend`];
    /// - `tokio`: [`TokioBackend`] on the current tokio runtime;
    /// - a URL whose scheme a linked backend registered, e.g. `redis://HOST:6379` with the
    ///   `sofleet-redis` crate (the `redis` feature of the `sofleet` crate).
    ///
    /// A bad spec fails with [`ConnectError::UnknownSpec`] listing the accepted forms.
    ///
    /// ```
    /// use sofleet_executor::Client;
    /// use sofleet_executor::conformance_free_example::Double;
    ///
    /// let client = futures::executor::block_on(Client::connect("threads:2")).unwrap();
    /// assert_eq!(client.submit(Double { x: 21 }).result().unwrap(), 42);
    ///
    /// let err = futures::executor::block_on(Client::connect("thread:2")).unwrap_err();
    /// assert!(err.to_string().contains("threads:N"), "{err}");
    /// ```
    pub async fn connect(spec: &str) -> Result<Client, ConnectError> {
        let spec = spec.trim();
        let shown = mask_password(spec);
        if spec == "threads" {
            let n = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
            return Ok(Client::new(ThreadsBackend::new(n)));
        }
        if let Some(n) = spec.strip_prefix("threads:") {
            return match n.parse::<usize>() {
                Ok(n) if (1..=MAX_THREADS).contains(&n) => Ok(Client::new(ThreadsBackend::new(n))),
                _ => Err(unknown(
                    shown,
                    format!(" (threads:N takes a number of threads from 1 to {MAX_THREADS})"),
                )),
            };
        }
        if spec == "tokio" {
            return TokioBackend::try_new()
                .map(Client::new)
                .map_err(|e| ConnectError::NoRuntime {
                    spec: shown,
                    detail: e.to_string(),
                });
        }
        let Some((scheme, _)) = spec.split_once("://") else {
            return Err(unknown(shown, String::new()));
        };
        let scheme = scheme.to_ascii_lowercase();
        let Some(connector) =
            inventory::iter::<BackendConnector>().find(|c| c.schemes.contains(&scheme.as_str()))
        else {
            let hint = if scheme.starts_with("redis") {
                " (this program was built without the Redis backend: enable the `redis` \
                 feature of the `sofleet` crate, or link `sofleet-redis`)"
                    .to_owned()
            } else {
                String::new()
            };
            return Err(unknown(shown, hint));
        };
        if connector.on_tokio && tokio::runtime::Handle::try_current().is_err() {
            return Err(ConnectError::NoRuntime {
                spec: shown,
                detail: format!("{scheme}:// backends run on tokio"),
            });
        }
        match (connector.connect)(spec.to_owned()).await {
            Ok(backend) => Ok(Client {
                shared: crate::scheduler::Shared::new(backend),
            }),
            Err(source) => Err(ConnectError::Backend {
                spec: shown,
                source,
            }),
        }
    }

    /// [`Client::connect`] with the spec in `SOFLEET_BACKEND`, or `threads` when it is unset:
    /// the same program runs on a laptop's threads or on a fleet by changing one variable.
    pub async fn from_env() -> Result<Client, ConnectError> {
        match std::env::var(BACKEND_ENV) {
            Ok(spec) if !spec.trim().is_empty() => Client::connect(&spec).await,
            Ok(_) | Err(std::env::VarError::NotPresent) => Client::connect("threads").await,
            Err(std::env::VarError::NotUnicode(_)) => Err(ConnectError::NotUnicode {
                accepted: accepted_forms(),
            }),
        }
    }
}

fn unknown(spec: String, hint: String) -> ConnectError {
    ConnectError::UnknownSpec {
        spec,
        hint,
        accepted: accepted_forms(),
    }
}

/// Every form [`Client::connect`] accepts in this binary.
pub fn accepted_forms() -> String {
    let mut forms = vec!["threads", "threads:N", "tokio"];
    forms.extend(inventory::iter::<BackendConnector>().map(|c| c.form));
    forms.join(", ")
}

/// `spec` with the password of a `scheme://user:password@host` URL replaced by `***`.
fn mask_password(spec: &str) -> String {
    let Some((scheme, rest)) = spec.split_once("://") else {
        return spec.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => {
            let user = authority[..at].split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{}", &rest[at + 1..])
        }
        None => spec.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            mask_password("redis://:s3cret@h:6379/0"),
            "redis://:***@h:6379/0"
        );
        assert_eq!(mask_password("redis://u:p@h"), "redis://u:***@h");
        assert_eq!(mask_password("redis://h:6379"), "redis://h:6379");
        assert_eq!(mask_password("threads:4"), "threads:4");
    }

    #[test]
    fn bad_specs_list_the_accepted_forms_and_never_the_password() {
        for spec in [
            "threads:0",
            "threads:x",
            "threads:100000",
            "thread",
            "",
            "redis://:pw@h",
        ] {
            let err = futures::executor::block_on(Client::connect(spec)).unwrap_err();
            let text = err.to_string();
            assert!(text.contains("threads, threads:N, tokio"), "{spec}: {text}");
            assert!(!text.contains("pw@"), "{text}");
        }
        let err = futures::executor::block_on(Client::connect("redis://:pw@h")).unwrap_err();
        assert!(err.to_string().contains("`redis` feature"), "{err}");
    }

    #[test]
    fn tokio_needs_a_runtime() {
        let err = futures::executor::block_on(Client::connect("tokio")).unwrap_err();
        assert!(matches!(err, ConnectError::NoRuntime { .. }), "{err}");
    }
}
