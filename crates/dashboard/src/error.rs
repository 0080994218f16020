//! [`DashboardError`].

use std::net::SocketAddr;

/// Why a dashboard could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DashboardError {
    /// The address is not loopback and no token was given.
    #[error(
        "binding the dashboard to {addr} exposes it beyond this machine: give it a token \
         (--dashboard-token, or the SOFLEET_DASHBOARD_TOKEN environment variable) or bind \
         127.0.0.1"
    )]
    TokenRequired {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// The token is unusable (empty, too long, or with characters a URL would mangle).
    #[error(
        "the dashboard token is not usable: {reason}; use 8 to 256 characters from A-Z a-z 0-9 - _ ."
    )]
    BadToken {
        /// What is wrong with it.
        reason: String,
    },
    /// No port could be bound.
    #[error("cannot serve the dashboard on {addr}: {message}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's reason (after trying the next ports when busy).
        message: String,
    },
    /// [`Dashboard::serve`](crate::Dashboard::serve) was called outside a tokio runtime.
    #[error("the dashboard needs a tokio runtime: call Dashboard::serve from async code")]
    NoRuntime,
}
