//! Criterion benchmarks for sofleet; the suites are the `[[bench]]` targets beside this file.
