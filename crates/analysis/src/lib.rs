//! Polars frames, aggregates, files and charts over crawled Stack Overflow records.
