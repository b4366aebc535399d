//! The scoring engine: `score(&Rubric, &Assessment) -> Scorecard`.
//!
//! Pure and total: no I/O, no panics, no allocation beyond the result on a complete
//! assessment. Explanations are rendered separately by [`crate::explain`], so the
//! gap planner can score many what-ifs cheaply.

use crate::assessment::{Assessment, Value};
use crate::model::{
    Band, BandValue, Better, Condition, Denominator, Gate, InputId, Measure, MeasureForm, Rate,
    Rubric, Rule, Scoring, Term,
};

/// Tolerance for comparisons of computed fractions with thresholds.
pub(crate) const EPS: f64 = 1e-12;

/// Scores live on a grid of 10⁻¹² points: float noise (0.1 × 10 = 0.9999999999999999)
/// disappears, full marks are exactly the maximum, and sums of scores add up.
pub fn snap(x: f64) -> f64 {
    if x.is_finite() { (x * 1e12).round() / 1e12 } else { x }
}

/// The result of scoring one assessment.
#[derive(Debug, Clone, PartialEq)]
pub struct Scorecard {
    /// One per rule, in [`Rubric::rules`] order.
    pub rules: Vec<RuleResult>,
    /// Subtotal of each section, in [`Rubric::sections`] order.
    pub sections: Vec<f64>,
    /// One per gate, in [`Rubric::gates`] order.
    pub gates: Vec<GateResult>,
    /// Sum of the scored sections (at most `total_max`).
    pub total: f64,
    /// Sum of the bonus sections (at most `bonus_max`).
    pub bonus: f64,
    pub grand_total: f64,
    /// A baseline hard indicator failed.
    pub veto: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RuleResult {
    pub score: f64,
    pub max: f64,
    /// Inputs without a value; empty when the rule is scored.
    pub missing: Vec<InputId>,
}

impl RuleResult {
    pub fn status(&self) -> Status {
        if self.missing.is_empty() { Status::Scored } else { Status::Incomplete }
    }

    /// Points below the maximum.
    pub fn lost(&self) -> f64 {
        (self.max - self.score).max(0.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Scored,
    Incomplete,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scored => "scored",
            Self::Incomplete => "incomplete",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct GateResult {
    pub status: GateStatus,
    pub missing: Vec<InputId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateStatus {
    Passed,
    /// A condition fails (whatever else is missing): the city is vetoed.
    Failed,
    /// No condition fails, but some cannot be checked yet.
    Incomplete,
}

impl GateStatus {
    /// As the UI shows it: 通过 / 未通过 / 待填报.
    pub fn label(self) -> &'static str {
        match self {
            Self::Passed => "通过",
            Self::Failed => "未通过",
            Self::Incomplete => "待填报",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Incomplete => "incomplete",
        }
    }
}

/// Scores every rule and gate of `rubric` on `assessment`.
pub fn score(rubric: &Rubric, assessment: &Assessment) -> Scorecard {
    let rules: Vec<RuleResult> = rubric.rules.iter().map(|r| score_rule(r, assessment)).collect();
    let mut sections = Vec::with_capacity(rubric.sections.len());
    let (mut total, mut bonus) = (0.0, 0.0);
    for section in &rubric.sections {
        let sum: f64 = rules[section.rules.clone()].iter().map(|r| r.score).sum();
        let sum = snap(sum).min(section.max);
        if section.bonus { bonus += sum } else { total += sum }
        sections.push(sum);
    }
    let total = snap(total).min(rubric.total_max);
    let bonus = snap(bonus).min(rubric.bonus_max);
    let gates: Vec<GateResult> = rubric.gates.iter().map(|g| check_gate(g, assessment)).collect();
    let veto = gates.iter().any(|g| g.status == GateStatus::Failed);
    Scorecard { rules, sections, gates, total, bonus, grand_total: snap(total + bonus), veto }
}

/// Scores one rule.
pub fn score_rule(rule: &Rule, a: &Assessment) -> RuleResult {
    if rule.inputs.iter().all(|id| a.has(*id)) {
        let score = raw_score(rule, a).unwrap_or(0.0);
        return RuleResult { score: clamp(score, rule.max), max: rule.max, missing: Vec::new() };
    }
    let missing = rule.inputs.iter().copied().filter(|id| !a.has(*id)).collect();
    RuleResult { score: 0.0, max: rule.max, missing }
}

/// Clamped to [0, max] and snapped to the score grid.
pub(crate) fn clamp(x: f64, max: f64) -> f64 {
    if x.is_nan() { 0.0 } else { snap(x.clamp(0.0, max)).clamp(0.0, max) }
}

/// The rule's score before clamping; `None` only if an input is missing.
fn raw_score(rule: &Rule, a: &Assessment) -> Option<f64> {
    let max = rule.max;
    Some(match &rule.scoring {
        Scoring::Judged { input } => a.scalar(*input)?,
        Scoring::Flags { items, all_bonus } => {
            let mut sum = 0.0;
            let mut all = true;
            for (id, points) in items {
                if a.scalar(*id)? == 0.0 { all = false } else { sum += points }
            }
            if all { sum + all_bonus.unwrap_or(0.0) } else { sum }
        }
        Scoring::AnyOf { inputs } => {
            if any_true(inputs, a)? { max } else { 0.0 }
        }
        Scoring::NoneOf { inputs } => {
            if any_true(inputs, a)? { 0.0 } else { max }
        }
        Scoring::Tally { per, terms } => per * tally(terms, a)?,
        Scoring::Proportional { measure, rate } => {
            let m = eval(measure, a)?;
            match rate {
                Rate::FullAt(full) => max * m / full,
                Rate::Scale(k) => k * m,
            }
        }
        Scoring::Deduction { measure, better, full, per, step, per_step, requires } => {
            if let Some(flag) = requires {
                if a.scalar(*flag)? == 0.0 {
                    return Some(0.0);
                }
            }
            let m = eval(measure, a)?;
            max - per * steps(shortfall(m, *better, *full), *step, *per_step)
        }
        Scoring::Bands { measure, bands, per_step } => band_score(bands, eval(measure, a)?, *per_step),
    })
}

fn any_true(inputs: &[InputId], a: &Assessment) -> Option<bool> {
    let mut any = false;
    for id in inputs {
        any |= a.scalar(*id)? != 0.0;
    }
    Some(any)
}

/// How far `m` falls short of `full` in the direction that matters.
pub(crate) fn shortfall(m: f64, better: Better, full: f64) -> f64 {
    match better {
        Better::Higher => (full - m).max(0.0),
        Better::Lower => (m - full).max(0.0),
    }
}

/// Shortfall in steps: pro rata by default, whole steps in per-step mode.
pub(crate) fn steps(shortfall: f64, step: f64, per_step: bool) -> f64 {
    let s = shortfall / step;
    if per_step { (s + EPS).floor() } else { s }
}

/// The count of one tally: capped counts, list lengths, table entries over a floor.
pub(crate) fn tally(terms: &[Term], a: &Assessment) -> Option<f64> {
    let mut sum = 0.0;
    for t in terms {
        sum += term_count(t, a)?;
    }
    Some(sum)
}

pub(crate) fn term_count(t: &Term, a: &Assessment) -> Option<f64> {
    let n = match a.value(t.input)? {
        Value::Number(x) => *x,
        Value::List(items) => items.len() as f64,
        Value::Table(entries) => {
            entries.iter().filter(|(_, v)| t.at_least.is_none_or(|floor| *v >= floor)).count() as f64
        }
        Value::Bool(b) => f64::from(u8::from(*b)),
    };
    Some(t.cap.map_or(n, |cap| n.min(cap)))
}

/// The band that holds `m`: the first whose upper bound admits it, else the last.
pub(crate) fn band_index(bands: &[Band], m: f64) -> usize {
    bands
        .iter()
        .position(|b| b.upper.is_none_or(|u| u.contains(m)))
        .unwrap_or(bands.len().saturating_sub(1))
}

pub(crate) fn band_score(bands: &[Band], m: f64, per_step: bool) -> f64 {
    let Some(band) = bands.get(band_index(bands, m)) else { return 0.0 };
    match band.value {
        BandValue::Points(p) => p,
        BandValue::Line { x0, y0, x1, y1, step } => line_at(x0, y0, x1, y1, step.filter(|_| per_step), m),
    }
}

/// The line through (x0, y0) and (x1, y1) at `x`; with a step, `x` is first taken
/// down to the last whole step from x0.
pub(crate) fn line_at(x0: f64, y0: f64, x1: f64, y1: f64, step: Option<f64>, x: f64) -> f64 {
    let x = match step {
        Some(s) => x0 + (((x - x0) / s) + EPS).floor() * s,
        None => x,
    };
    y0 + (y1 - y0) * (x - x0) / (x1 - x0)
}

/// The value of a measure; `None` if an input is missing.
pub fn eval(m: &Measure, a: &Assessment) -> Option<f64> {
    Some(match &m.form {
        MeasureForm::Input(id) => a.scalar(*id)?,
        MeasureForm::Ratio { numerator, denominator } => {
            let num = sum(numerator, a)?;
            let den = match denominator {
                Denominator::Inputs(ids) => sum(ids, a)?,
                Denominator::Constant(c) => *c,
            };
            if den > 0.0 { num / den } else { 0.0 }
        }
        MeasureForm::Gap { whole, part } => (a.scalar(*whole)? - a.scalar(*part)?).max(0.0),
        MeasureForm::Growth { current, previous } => growth(a.scalar(*current)?, a.scalar(*previous)?),
        MeasureForm::Mean(id) => match a.value(*id)? {
            Value::List(items) if !items.is_empty() => items.iter().sum::<f64>() / items.len() as f64,
            _ => 0.0,
        },
        MeasureForm::Sum(parts) => {
            let mut total = 0.0;
            for p in parts {
                total += eval(p, a)?;
            }
            total
        }
    })
}

/// (current − previous) ÷ previous, with 0 → 0 as no growth and n → ∞ from 0.
pub(crate) fn growth(current: f64, previous: f64) -> f64 {
    if previous > 0.0 {
        (current - previous) / previous
    } else if current > 0.0 {
        f64::INFINITY
    } else {
        0.0
    }
}

pub(crate) fn sum(ids: &[InputId], a: &Assessment) -> Option<f64> {
    let mut s = 0.0;
    for id in ids {
        s += a.scalar(*id)?;
    }
    Some(s)
}

/// Whether one condition holds; `None` if an input is missing.
pub fn condition_holds(c: &Condition, a: &Assessment) -> Option<bool> {
    match c {
        Condition::Flag(id) => a.scalar(*id).map(|x| x != 0.0),
        Condition::Compare { measure, op, value } => {
            let m = eval(measure, a)?;
            // Tolerate rounding in computed fractions (0.1 + 0.2 is 0.3 here), relative
            // to the threshold so that a small one (重错码率 < 0.01%) keeps its meaning.
            let tol = 1e-12 * value.abs();
            Some(match op {
                crate::model::Op::AtLeast => m >= value - tol,
                crate::model::Op::AtMost => m <= value + tol,
                crate::model::Op::Below => m < value - tol,
            })
        }
    }
}

fn check_gate(gate: &Gate, a: &Assessment) -> GateResult {
    let missing: Vec<InputId> = gate.inputs.iter().copied().filter(|id| !a.has(*id)).collect();
    let mut failed = false;
    let mut unknown = false;
    for c in &gate.conditions {
        match condition_holds(c, a) {
            Some(false) => failed = true,
            Some(true) => {}
            None => unknown = true,
        }
    }
    let status = if failed {
        GateStatus::Failed
    } else if unknown {
        GateStatus::Incomplete
    } else {
        GateStatus::Passed
    };
    GateResult { status, missing }
}
