//! The cases on SQLite files.

use std::path::Path;

use creditcity_store::Location;

/// A new store `NAME.db` in `dir`, its files beside it.
fn location(dir: &Path, name: &str) -> Location {
    Location::at(&dir.join(format!("{name}.db")))
}

#[path = "cases.rs"]
mod cases;
