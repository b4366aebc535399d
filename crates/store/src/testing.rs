//! Stores for tests on either backend. The PostgreSQL suites take their server from
//! `CREDITCITY_TEST_PG` (a URL of a server where they may create databases) and fail,
//! never skip, without it.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::Location;

/// What to run when `CREDITCITY_TEST_PG` is missing.
pub const HOW_TO_START: &str = "CREDITCITY_TEST_PG is not set: the PostgreSQL test suite needs a PostgreSQL server \
     where it may create databases. Start a throwaway one with\n    eval \"$(bash .ci/pg-start)\"\n\
     (it prints CREDITCITY_TEST_PG=postgres://…; stop it with `bash .ci/pg-stop`), or run the whole CI with `bash .ci/run`.";

/// The test server's URL.
///
/// # Panics
/// When `CREDITCITY_TEST_PG` is not set: a PostgreSQL suite fails, saying how to start
/// a server ([`HOW_TO_START`]), rather than skip.
pub fn server_url() -> String {
    match std::env::var("CREDITCITY_TEST_PG") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!("{HOW_TO_START}"),
    }
}

/// A URL of a database that does not exist yet on the test server (the store creates
/// it), unique to this process and call.
pub fn fresh_database_url() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let base = server_url();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let name = format!("creditcity_t{}_{}_{nanos}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    with_database(&base, &name)
}

/// A new PostgreSQL store's location on the test server, its files in `dir/NAME.files`.
pub fn postgres_location(dir: &Path, name: &str) -> Location {
    Location::postgres(&fresh_database_url(), &dir.join(format!("{name}.files")))
}

/// The URL with another database name.
pub fn with_database(url: &str, name: &str) -> String {
    let (main, query) = url.split_once('?').map_or((url, None), |(m, q)| (m, Some(q)));
    let authority_start = main.find("://").map_or(0, |i| i + 3);
    let path_start = main[authority_start..].find('/').map_or(main.len(), |i| authority_start + i);
    let mut out = format!("{}/{name}", &main[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn another_database_keeps_the_server_and_the_options() {
        assert_eq!(super::with_database("postgres://u:p@h:5/postgres", "x"), "postgres://u:p@h:5/x");
        assert_eq!(super::with_database("postgres://h/db?sslmode=disable", "x"), "postgres://h/x?sslmode=disable");
        assert_eq!(super::with_database("postgres://h", "x"), "postgres://h/x");
    }
}
