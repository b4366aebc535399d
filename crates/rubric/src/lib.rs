//! The rubric as data and the engine that scores a city against it.
//!
//! - [`Rubric`]: an edition loaded and validated from TOML ([`Rubric::parse`]),
//!   the 2019 edition embedded ([`Rubric::embedded_2019`]).
//! - [`Assessment`]: a city's values, validated against a rubric
//!   ([`Rubric::parse_assessment`], [`Rubric::validate`]).
//! - [`score`]: the pure engine, `(&Rubric, &Assessment) -> Scorecard`.
//! - [`explain_rule`], [`explain_gate`]: the reason for every point in Chinese, and
//!   what full marks would take.
//!
//! No I/O, and no panics on any input.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::float_cmp, clippy::todo, clippy::unimplemented)]

pub mod assessment;
pub mod engine;
pub mod explain;
pub mod format;
pub mod load;
pub mod model;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use assessment::{Assessment, Entry, InputError, InputErrors, Meta, RawValue, Value};
pub use engine::{GateResult, GateStatus, RuleResult, Scorecard, Status, score};
pub use explain::{Alternative, Arithmetic, Explanation, Relation, explain_gate, explain_rule};
pub use load::{RubricError, RubricIssue};
pub use model::{Input, InputId, InputKind, Rubric, Rule, Scoring, Section};
