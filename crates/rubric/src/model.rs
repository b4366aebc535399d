//! The rubric's domain model: sections, rules, inputs, scoring kinds and gates.
//!
//! These types are built once, validated, by [`crate::load`]; the engine reads them
//! and never has to re-check a reference. Input references are [`InputId`]s, indices
//! into [`Rubric::inputs`], so scoring is a walk over vectors without lookups by name.

use std::collections::HashMap;
use std::ops::Range;

/// Index of an input in [`Rubric::inputs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InputId(pub(crate) usize);

impl InputId {
    pub fn index(self) -> usize {
        self.0
    }
}

/// A rubric edition, validated.
#[derive(Debug, Clone)]
pub struct Rubric {
    pub edition: String,
    pub version: String,
    pub title: String,
    /// 2018-12-15 in the 2019 edition: the reference date of stocks (存量).
    pub baseline_date: String,
    /// 2019-03-15 in the 2019 edition: the cut-off date of the evaluation window.
    pub cutoff_date: String,
    pub total_max: f64,
    pub bonus_max: f64,
    pub key_domains: Vec<KeyDomain>,
    pub inputs: Vec<Input>,
    pub sections: Vec<Section>,
    /// All rules in rubric order; each section owns a contiguous range.
    pub rules: Vec<Rule>,
    pub gates: Vec<Gate>,
    pub(crate) index: HashMap<String, InputId>,
    /// Every proper prefix of a declared key (`s4`, `s4.production`).
    pub(crate) prefixes: std::collections::HashSet<String>,
}

impl Rubric {
    /// The input declared under `key`, if any.
    pub fn input_id(&self, key: &str) -> Option<InputId> {
        self.index.get(key).copied()
    }

    pub fn input(&self, id: InputId) -> &Input {
        &self.inputs[id.0]
    }

    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    pub fn section_of(&self, rule: &Rule) -> &Section {
        &self.sections[rule.section]
    }

    /// The declared input key closest to `key`, for "did you mean" hints.
    pub fn closest_key(&self, key: &str) -> Option<&str> {
        self.inputs
            .iter()
            .map(|i| (strsim::jaro_winkler(key, &i.key), i.key.as_str()))
            .filter(|(sim, _)| *sim > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, k)| k)
    }
}

/// One of the key domains of rule 2.2 (20 in the 2019 edition).
#[derive(Debug, Clone)]
pub struct KeyDomain {
    pub number: u32,
    pub name: String,
    /// The name was reconstructed, not read from a primary text.
    pub reconstructed: bool,
}

/// A declared input: one key of a city's assessment file.
#[derive(Debug, Clone)]
pub struct Input {
    pub key: String,
    pub label: String,
    pub unit: Option<String>,
    pub kind: InputKind,
    /// Must be strictly greater than zero.
    pub positive: bool,
    /// Must not exceed the sum of these inputs (a part of its whole).
    pub at_most: Vec<InputId>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// History this period cannot change (past monitoring scores, cases that already
    /// happened, last year's ranking, stocks at the baseline date): shown as such and
    /// never offered as a target.
    pub fixed: bool,
    /// Who supplies the number when it is not the city's own units (中经网 for the
    /// national monitoring, 全国组织机构统一社会信用代码服务中心, 人民银行).
    pub supplier: Option<String>,
}

impl Input {
    /// Who supplies this number, when the rubric names someone other than the city.
    pub fn supplier(&self) -> Option<&str> {
        self.supplier.as_deref()
    }

    /// History that this period cannot change.
    pub fn is_fixed(&self) -> bool {
        self.fixed
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum InputKind {
    Bool,
    /// A non-negative integer.
    Count,
    /// A fraction in [0, 1].
    Ratio,
    /// Money in yuan, non-negative.
    Amount,
    /// Any finite number, within `min`/`max` when given.
    Number,
    /// An evaluator's discretionary score within the max of the rule that uses it.
    Judged { max: f64 },
    /// A list of numbers.
    List { integer: bool, distinct: bool, len: Option<usize> },
    /// A table of names to non-negative counts.
    Table,
}

impl InputKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Bool => "bool",
            Self::Count => "count",
            Self::Ratio => "ratio",
            Self::Amount => "amount",
            Self::Number => "number",
            Self::Judged { .. } => "judged",
            Self::List { .. } => "list",
            Self::Table => "table",
        }
    }

    /// Holds a single number a measure can use.
    pub fn is_scalar_number(self) -> bool {
        matches!(self, Self::Count | Self::Ratio | Self::Amount | Self::Number)
    }
}

#[derive(Debug, Clone)]
pub struct Section {
    pub id: String,
    pub title: String,
    pub max: f64,
    /// The 附加项, counted in `bonus` rather than `total`.
    pub bonus: bool,
    /// 评估内容
    pub content: String,
    /// The headline criteria in 【】.
    pub criteria: String,
    pub rules: Range<usize>,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    /// Index into [`Rubric::sections`].
    pub section: usize,
    pub max: f64,
    /// Number of the demonstration-city hard indicator (1–20) this rule serves.
    pub hi: Option<u8>,
    pub title: String,
    /// 评分标准
    pub standard: String,
    /// 评分细则; empty where the source has none (see [`Rule::detail_text`]).
    pub detail: String,
    /// Who scores or supplies the rule (`由人民银行评分`, `根据中经网信息考核`), when
    /// the source says so.
    pub source: Option<String>,
    /// 佐证材料: the checklist of evidence items.
    pub evidence: Vec<String>,
    /// How the rule says what full marks take, with `{n}` for the amount.
    pub target: Option<String>,
    pub scoring: Scoring,
    /// Every input the scoring reads, in declaration order, without duplicates.
    pub inputs: Vec<InputId>,
}

impl Rule {
    /// Who scores or supplies this rule, when the source says so.
    pub fn source(&self) -> Option<&str> {
        self.source.as_deref()
    }

    /// The 评分细则, or `原文无评分细则` where the source has none.
    pub fn detail_text(&self) -> &str {
        if self.detail.trim().is_empty() { NO_DETAIL } else { &self.detail }
    }
}

/// Shown where the source gives no 评分细则 for a rule.
pub const NO_DETAIL: &str = "原文无评分细则";

/// How a rule turns inputs into points. A small set of kinds that can each explain
/// themselves and compute what full marks take.
#[derive(Debug, Clone)]
pub enum Scoring {
    /// 酌情计分: the evaluator's score is the rule's score.
    Judged { input: InputId },
    /// Each true item adds its points; `all_bonus` is added when every item is true.
    Flags { items: Vec<(InputId, f64)>, all_bonus: Option<f64> },
    /// Full marks when any item is true.
    AnyOf { inputs: Vec<InputId> },
    /// Full marks when every item is false (none of the listed faults happened).
    NoneOf { inputs: Vec<InputId> },
    /// `per` points for each counted thing, capped at the rule's max.
    Tally { per: f64, terms: Vec<Term> },
    /// Points in proportion to a measure, capped at the rule's max.
    Proportional { measure: Measure, rate: Rate },
    /// Full marks less `per` for each `step` the measure falls short of `full`.
    Deduction {
        measure: Measure,
        better: Better,
        full: f64,
        per: f64,
        step: f64,
        per_step: bool,
        /// A precondition: without it the rule scores 0.
        requires: Option<InputId>,
    },
    /// A piecewise function of a measure.
    Bands { measure: Measure, bands: Vec<Band>, per_step: bool },
}

/// One counted term of a [`Scoring::Tally`].
#[derive(Debug, Clone)]
pub struct Term {
    pub input: InputId,
    /// Count at most this many.
    pub cap: Option<f64>,
    /// For a table: count the entries with at least this value.
    pub at_least: Option<f64>,
}

/// The slope of a [`Scoring::Proportional`] rule, in the form the rubric states it.
#[derive(Debug, Clone, Copy)]
pub enum Rate {
    /// Full marks when the measure reaches this value ("≥ 80% 得1分").
    FullAt(f64),
    /// Points per unit of the measure ("计分公式为 … × 5").
    Scale(f64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
}

/// A named quantity computed from inputs.
#[derive(Debug, Clone)]
pub struct Measure {
    pub label: String,
    pub unit: Option<String>,
    pub form: MeasureForm,
}

#[derive(Debug, Clone)]
pub enum MeasureForm {
    /// The value of one input.
    Input(InputId),
    /// Σ numerators ÷ (Σ denominators, or a constant).
    Ratio { numerator: Vec<InputId>, denominator: Denominator },
    /// whole − part (e.g. halls not connected).
    Gap { whole: InputId, part: InputId },
    /// (current − previous) ÷ previous; 0 when both are 0, +∞ when only previous is 0.
    Growth { current: InputId, previous: InputId },
    /// The mean of a list input.
    Mean(InputId),
    /// The sum of other measures.
    Sum(Vec<Measure>),
}

#[derive(Debug, Clone)]
pub enum Denominator {
    Inputs(Vec<InputId>),
    Constant(f64),
}

/// One piece of a [`Scoring::Bands`] function: it applies below `upper`.
#[derive(Debug, Clone)]
pub struct Band {
    /// `None` for the last band, which extends to +∞.
    pub upper: Option<Bound>,
    pub value: BandValue,
}

#[derive(Debug, Clone, Copy)]
pub enum Bound {
    /// The band holds values strictly below this.
    Until(f64),
    /// The band holds values up to and including this.
    Through(f64),
}

impl Bound {
    pub fn value(self) -> f64 {
        match self {
            Self::Until(v) | Self::Through(v) => v,
        }
    }

    pub fn contains(self, x: f64) -> bool {
        match self {
            Self::Until(v) => x < v,
            Self::Through(v) => x <= v,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub enum BandValue {
    Points(f64),
    /// The line through (x0, y0) and (x1, y1), extended; `step` for whole-step mode.
    Line { x0: f64, y0: f64, x1: f64, y1: f64, step: Option<f64> },
}

/// A baseline hard indicator: every condition must hold, or the city is vetoed.
#[derive(Debug, Clone)]
pub struct Gate {
    pub id: String,
    pub hi: u8,
    pub title: String,
    pub conditions: Vec<Condition>,
    pub inputs: Vec<InputId>,
}

#[derive(Debug, Clone)]
pub enum Condition {
    /// The input must be true.
    Flag(InputId),
    Compare { measure: Measure, op: Op, value: f64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    AtLeast,
    AtMost,
    Below,
}

impl Op {
    pub fn holds(self, x: f64, threshold: f64) -> bool {
        match self {
            Self::AtLeast => x >= threshold,
            Self::AtMost => x <= threshold,
            Self::Below => x < threshold,
        }
    }
}

impl Measure {
    /// Every input this measure reads, appended to `out` (duplicates kept).
    pub(crate) fn collect_inputs(&self, out: &mut Vec<InputId>) {
        match &self.form {
            MeasureForm::Input(id) | MeasureForm::Mean(id) => out.push(*id),
            MeasureForm::Ratio { numerator, denominator } => {
                out.extend(numerator);
                if let Denominator::Inputs(d) = denominator {
                    out.extend(d);
                }
            }
            MeasureForm::Gap { whole, part } => out.extend([*part, *whole]),
            MeasureForm::Growth { current, previous } => out.extend([*current, *previous]),
            MeasureForm::Sum(parts) => parts.iter().for_each(|m| m.collect_inputs(out)),
        }
    }
}

impl Scoring {
    pub(crate) fn collect_inputs(&self, out: &mut Vec<InputId>) {
        match self {
            Self::Judged { input } => out.push(*input),
            Self::Flags { items, .. } => out.extend(items.iter().map(|(id, _)| *id)),
            Self::AnyOf { inputs } | Self::NoneOf { inputs } => out.extend(inputs),
            Self::Tally { terms, .. } => out.extend(terms.iter().map(|t| t.input)),
            Self::Proportional { measure, .. } | Self::Bands { measure, .. } => {
                measure.collect_inputs(out);
            }
            Self::Deduction { measure, requires, .. } => {
                out.extend(requires);
                measure.collect_inputs(out);
            }
        }
    }
}

/// Removes later duplicates, keeping first-seen order.
pub(crate) fn dedup_in_order(ids: &mut Vec<InputId>) {
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(*id));
}
