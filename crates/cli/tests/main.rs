//! The `creditcity` binary as people use it.

mod compare;
mod data;
mod layering;
mod race;
mod race_pg;
mod report;
mod workspace;
