//! Integration tests of sofleet-analysis (one binary: linking polars is slow).

mod aggregates;
mod charts;
mod common;
mod dataset;
mod files;
mod frames;
mod report;
