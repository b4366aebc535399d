//! The `creditcity` binary as people use it.

mod race;
mod report;
mod workspace;
