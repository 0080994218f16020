//! Dask-style futures for Rust: submit, map, wait, as_completed and gather over pluggable backends.
