//! Error type of the mock site.

/// Errors of the mock site.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockSiteError {
    /// A [`MockSiteConfig`](crate::MockSiteConfig) field has an unusable value.
    #[error("invalid mock site configuration: `{field}`: {problem}")]
    InvalidConfig {
        /// The offending field.
        field: &'static str,
        /// What is wrong and what to do instead.
        problem: String,
    },
    /// The configured port could not be bound on 127.0.0.1.
    #[error(
        "cannot listen on 127.0.0.1:{port}: {source} (pick another port, or None for any free port)"
    )]
    Bind {
        /// The port asked for.
        port: u16,
        /// Why binding failed.
        source: std::io::Error,
    },
}
