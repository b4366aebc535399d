//! The web application over HTTP: a real server on port 0 with a fresh store per test.

#![allow(clippy::result_large_err)]

mod api;
mod browser;
mod compare;
mod data;
mod harness;
mod matrix;
mod pages;
mod report;
