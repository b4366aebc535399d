//! The `creditcity` binary as people use it.

mod layering;
mod race;
mod report;
mod workspace;
