//! The checks, one public `async fn(Client, &Config)` each, grouped by theme.

mod collect;
mod failures;
mod graph;
mod progress;
mod submission;

pub use collect::*;
pub use failures::*;
pub use graph::*;
pub use progress::*;
pub use submission::*;
