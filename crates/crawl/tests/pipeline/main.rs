//! The whole pipeline as executor tasks against the mock site (offline, 127.0.0.1), one test
//! binary in themed modules over shared helpers (`common`).

mod common;
mod full;
mod politeness;
mod rerun;
