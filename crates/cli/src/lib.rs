//! The `creditcity` command line: rendering of scorecards for the terminal and for
//! machines, and the thin workspace commands over `creditcity-app`. `main.rs`
//! parses arguments; the business rules live in `creditcity-app`.

pub mod compare;
pub mod render;
pub mod text;
pub mod workspace;
