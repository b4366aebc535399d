//! The cases on PostgreSQL: each store a new database on the server of
//! `CREDITCITY_TEST_PG`; without it every case fails, saying how to start one.

use std::path::Path;

use creditcity_store::Location;

/// A new database on the test server, its files in `dir/NAME.files`.
fn location(dir: &Path, name: &str) -> Location {
    creditcity_store::testing::postgres_location(dir, name)
}

#[path = "cases.rs"]
mod cases;
