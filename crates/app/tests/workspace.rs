//! The workspace's use-cases on both backends: the same cases (`workspace/cases.rs`) on
//! SQLite files and on PostgreSQL databases. The PostgreSQL half needs a server
//! (`CREDITCITY_TEST_PG`; `eval "$(bash .ci/pg-start)"` starts one) and fails without it.

// The same cases compiled twice, once per backend, on purpose.
#![allow(clippy::duplicate_mod)]

#[path = "workspace/sqlite.rs"]
mod sqlite;

#[path = "workspace/postgres.rs"]
mod postgres;
