//! Stack Overflow HTML (every markup era) to typed records. No I/O, no async.

mod model;
pub use model::*;
