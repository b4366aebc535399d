//! The `creditcity` command line: rendering of scorecards for the terminal and for
//! machines. `main.rs` parses arguments and does the I/O; everything here is a
//! function of data, so tests can call it directly.

pub mod render;
pub mod text;
