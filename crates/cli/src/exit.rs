//! How a command fails: one clear sentence, a hint, and an exit code that
//! tells usage errors, network failures and partial results apart.

use std::fmt;
use std::process::ExitCode;

/// Why a command did not fully succeed.
#[derive(Debug)]
pub enum Failure {
    /// Bad input or environment (unreadable file, unwritable output…): exit 1.
    Input(anyhow::Error),
    /// The arguments make no sense together: exit 2 (like clap's own errors).
    Usage(String),
    /// The site could not be reached at all: exit 3.
    Network(anyhow::Error),
    /// The job finished but some items failed (and were recorded): exit 4.
    Partial(String),
}

impl Failure {
    /// The process exit code for this failure.
    pub fn code(&self) -> u8 {
        match self {
            Failure::Input(_) => 1,
            Failure::Usage(_) => 2,
            Failure::Network(_) => 3,
            Failure::Partial(_) => 4,
        }
    }

    /// Prints the failure on stderr and returns its exit code.
    pub fn report(self) -> ExitCode {
        eprintln!("{self}");
        ExitCode::from(self.code())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Input(e) => write!(f, "error: {e:#}"),
            Failure::Usage(msg) => write!(f, "error: {msg}\n\nFor more information, try '--help'."),
            Failure::Network(e) => write!(f, "network error: {e:#}"),
            Failure::Partial(msg) => write!(f, "partial result: {msg}"),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Input(e)
    }
}

/// Result of a command.
pub type CmdResult = Result<(), Failure>;
