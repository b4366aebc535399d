//! Tests of `creditcity-data`: one binary, a module per concern.

mod codes;
mod common;
mod derive;
mod fuzz;
mod generated;
mod problems;
mod read;
mod uscc_reference;
mod workdays;
