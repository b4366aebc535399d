//! The `creditcity` binary as people use it.

mod report;
mod workspace;
