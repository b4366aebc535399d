//! Reading a rubric file: TOML → raw structs → a validated [`Rubric`].
//!
//! Every problem is collected before answering; each names the file, the line and
//! the key it is about. Nothing here touches the file system: callers pass the text
//! and the name to show in errors.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::Deserialize;
use toml::Spanned;

use crate::model::{
    Band, BandValue, Better, Bound, Condition, Denominator, Gate, Input, InputId, InputKind,
    KeyDomain, Measure, MeasureForm, Op, Rate, Rubric, Rule, Scoring, Section, Term,
    dedup_in_order,
};

/// The rubric of the 2019 edition, embedded in the binary.
pub const EMBEDDED_2019: &str = include_str!("../../../rubrics/2019.toml");
/// The name shown for the embedded rubric in errors.
pub const EMBEDDED_2019_NAME: &str = "rubrics/2019.toml";

/// One problem in a rubric file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RubricIssue {
    pub line: Option<usize>,
    /// The key or id the problem is about (`sections[3].rules[1].max`, `s7.npl_ratio`).
    pub key: String,
    pub message: String,
}

/// A rubric file that could not be loaded; lists every problem found.
#[derive(Debug, Clone, thiserror::Error)]
pub struct RubricError {
    pub file: String,
    pub issues: Vec<RubricIssue>,
}

impl fmt::Display for RubricError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, issue) in self.issues.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            match issue.line {
                Some(line) => write!(f, "{}:{line}: {}: {}", self.file, issue.key, issue.message)?,
                None => write!(f, "{}: {}: {}", self.file, issue.key, issue.message)?,
            }
        }
        Ok(())
    }
}

impl Rubric {
    /// The embedded 2019 edition.
    pub fn embedded_2019() -> Result<Self, RubricError> {
        Self::parse(EMBEDDED_2019, EMBEDDED_2019_NAME)
    }

    /// Parses and validates a rubric from its TOML text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Self, RubricError> {
        let raw: RawRubric = toml::from_str(text).map_err(|e| RubricError {
            file: file.to_owned(),
            issues: vec![RubricIssue {
                line: e.span().map(|s| line_of(text, s.start)),
                key: "(syntax)".to_owned(),
                message: e.message().trim().to_owned(),
            }],
        })?;
        let mut builder = Builder { text, issues: Vec::new(), index: HashMap::new(), kinds: Vec::new() };
        let rubric = builder.build(raw);
        if builder.issues.is_empty() {
            Ok(rubric)
        } else {
            builder.issues.sort_by_key(|i| i.line.unwrap_or(usize::MAX));
            Err(RubricError { file: file.to_owned(), issues: builder.issues })
        }
    }
}

/// Every proper prefix of the declared keys (`s4`, `s4.production`).
fn key_prefixes(index: &HashMap<String, InputId>) -> HashSet<String> {
    let mut out = HashSet::new();
    for key in index.keys() {
        for (i, c) in key.char_indices() {
            if c == '.' {
                out.insert(key[..i].to_owned());
            }
        }
    }
    out
}

/// The 1-based line of a byte offset.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end].split(|&b| b == b'\n').count()
}

// ----- raw, as written in the file ------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRubric {
    edition: String,
    version: String,
    title: String,
    baseline_date: String,
    cutoff_date: String,
    total_max: f64,
    bonus_max: f64,
    #[serde(default)]
    key_domains: Vec<RawKeyDomain>,
    inputs: Ordered<Spanned<RawInput>>,
    sections: Vec<Spanned<RawSection>>,
    #[serde(default)]
    gates: Vec<Spanned<RawGate>>,
}

/// A TOML table read as a list, keeping the order of the file (inputs are shown
/// to people in the order the rubric file declares them).
struct Ordered<T>(Vec<(String, T)>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Ordered<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Visitor<T> {
            type Value = Ordered<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, T>()? {
                    out.push((k, v));
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(Visitor(std::marker::PhantomData))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeyDomain {
    number: u32,
    name: String,
    #[serde(default)]
    reconstructed: bool,
}

// The flags are the file's own switches (positive, integer, distinct, fixed).
#[allow(clippy::struct_excessive_bools)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInput {
    label: String,
    unit: Option<String>,
    #[serde(rename = "type")]
    kind: Spanned<String>,
    #[serde(default)]
    positive: bool,
    #[serde(default)]
    at_most: Vec<Spanned<String>>,
    min: Option<f64>,
    max: Option<f64>,
    #[serde(default)]
    integer: bool,
    #[serde(default)]
    distinct: bool,
    len: Option<usize>,
    #[serde(default)]
    fixed: bool,
    supplier: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    id: Spanned<String>,
    title: String,
    max: Spanned<f64>,
    #[serde(default)]
    bonus: bool,
    #[serde(default)]
    content: String,
    #[serde(default)]
    criteria: String,
    #[serde(default)]
    rules: Vec<Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    max: Spanned<f64>,
    hi: Option<Spanned<u8>>,
    title: String,
    #[serde(default)]
    standard: String,
    #[serde(default)]
    detail: String,
    source: Option<String>,
    #[serde(default)]
    evidence: Vec<String>,
    target: Option<String>,
    scoring: Spanned<RawScoring>,
}

/// All fields of all kinds; which ones a kind needs is checked when building.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScoring {
    kind: Spanned<String>,
    input: Option<Spanned<String>>,
    #[serde(default)]
    inputs: Vec<Spanned<String>>,
    #[serde(default)]
    items: Vec<RawFlag>,
    all_bonus: Option<f64>,
    per: Option<f64>,
    #[serde(default)]
    terms: Vec<RawTerm>,
    measure: Option<RawMeasure>,
    full_at: Option<f64>,
    scale: Option<f64>,
    better: Option<Spanned<String>>,
    full: Option<f64>,
    step: Option<f64>,
    #[serde(default)]
    per_step: bool,
    requires: Option<Spanned<String>>,
    #[serde(default)]
    bands: Vec<RawBand>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlag {
    input: Spanned<String>,
    points: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTerm {
    input: Spanned<String>,
    cap: Option<f64>,
    at_least: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeasure {
    label: String,
    unit: Option<String>,
    input: Option<Spanned<String>>,
    ratio: Option<Vec<Spanned<String>>>,
    over: Option<Vec<Spanned<String>>>,
    over_constant: Option<f64>,
    whole: Option<Spanned<String>>,
    part: Option<Spanned<String>>,
    growth: Option<Spanned<String>>,
    previous: Option<Spanned<String>>,
    mean: Option<Spanned<String>>,
    sum: Option<Vec<RawMeasure>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBand {
    until: Option<f64>,
    through: Option<f64>,
    points: Option<f64>,
    line: Option<[[f64; 2]; 2]>,
    step: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGate {
    id: Spanned<String>,
    hi: u8,
    title: String,
    all: Vec<RawCondition>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCondition {
    flag: Option<Spanned<String>>,
    measure: Option<RawMeasure>,
    at_least: Option<f64>,
    at_most: Option<f64>,
    below: Option<f64>,
}

// ----- validation -----------------------------------------------------------------

const EPS: f64 = 1e-9;

struct Builder<'t> {
    text: &'t str,
    issues: Vec<RubricIssue>,
    index: HashMap<String, InputId>,
    kinds: Vec<InputKind>,
}

/// What a reference to an input must be.
#[derive(Clone, Copy)]
enum Want {
    Bool,
    Scalar,
    Judged,
    List,
    Countable,
}

impl Builder<'_> {
    fn issue(&mut self, offset: Option<usize>, key: impl Into<String>, message: impl Into<String>) {
        self.issues.push(RubricIssue {
            line: offset.map(|o| line_of(self.text, o)),
            key: key.into(),
            message: message.into(),
        });
    }

    fn build(&mut self, raw: RawRubric) -> Rubric {
        if raw.edition.trim().is_empty() {
            self.issue(None, "edition", "must not be empty");
        }
        let key_domains = self.key_domains(raw.key_domains);

        // Inputs first: every other part refers to them by key.
        let mut inputs = Vec::with_capacity(raw.inputs.0.len());
        let mut input_spans = Vec::with_capacity(raw.inputs.0.len());
        for (key, spanned) in &raw.inputs.0 {
            self.index.insert(key.clone(), InputId(inputs.len()));
            input_spans.push(spanned.span().start);
            inputs.push(Input {
                key: key.clone(),
                label: String::new(),
                unit: None,
                kind: InputKind::Bool,
                positive: false,
                at_most: Vec::new(),
                min: None,
                max: None,
                fixed: false,
                supplier: None,
            });
        }
        for (i, (key, spanned)) in raw.inputs.0.into_iter().enumerate() {
            let at = spanned.span().start;
            inputs[i] = self.input(key, spanned.into_inner(), at);
        }
        self.kinds = inputs.iter().map(|i| i.kind).collect();
        for input in &inputs {
            for whole in &input.at_most {
                if inputs[whole.0].kind != input.kind {
                    let at = input_spans[self.index[&input.key].0];
                    self.issue(Some(at), &input.key, format!(
                        "at_most refers to `{}` of type {}, but this input is of type {}",
                        inputs[whole.0].key, inputs[whole.0].kind.name(), input.kind.name()));
                }
            }
        }

        let mut sections = Vec::new();
        let mut rules = Vec::new();
        let mut used: HashSet<InputId> = HashSet::new();
        let mut rule_ids: HashSet<String> = HashSet::new();
        let mut section_ids: HashSet<String> = HashSet::new();
        let mut judged_users: HashMap<InputId, Vec<String>> = HashMap::new();
        let (mut total, mut bonus) = (0.0, 0.0);
        for spanned in raw.sections {
            let at = spanned.span().start;
            let s = spanned.into_inner();
            let sid = s.id.get_ref().clone();
            if !section_ids.insert(sid.clone()) {
                self.issue(Some(s.id.span().start), format!("sections.{sid}"), "duplicate section id");
            }
            let smax = *s.max.get_ref();
            if !(smax > 0.0 && smax.is_finite()) {
                self.issue(Some(s.max.span().start), format!("sections.{sid}.max"), "must be a positive number");
            }
            if s.rules.is_empty() {
                self.issue(Some(at), format!("sections.{sid}"), "a section needs at least one rule");
            }
            let start = rules.len();
            let mut sum = 0.0;
            for rspanned in s.rules {
                let rat = rspanned.span().start;
                let id_at = rspanned.get_ref().id.span().start;
                let rule = self.rule(rspanned.into_inner(), sections.len(), rat);
                if !rule_ids.insert(rule.id.clone()) {
                    self.issue(Some(id_at), format!("rules.{}", rule.id), "duplicate rule id");
                }
                if let Scoring::Judged { input } = rule.scoring {
                    judged_users.entry(input).or_default().push(rule.id.clone());
                    inputs[input.0].kind = InputKind::Judged { max: rule.max };
                }
                used.extend(rule.inputs.iter().copied());
                sum += rule.max;
                rules.push(rule);
            }
            if (sum - smax).abs() > EPS && start < rules.len() {
                self.issue(Some(s.max.span().start), format!("sections.{sid}.max"), format!(
                    "is {smax}, but the maxima of its rules sum to {sum}"));
            }
            if s.bonus { bonus += smax } else { total += smax }
            sections.push(Section {
                id: sid,
                title: s.title,
                max: smax,
                bonus: s.bonus,
                content: s.content,
                criteria: s.criteria,
                rules: start..rules.len(),
            });
        }
        if (total - raw.total_max).abs() > EPS {
            self.issue(None, "total_max", format!(
                "is {}, but the maxima of the scored sections sum to {total}", raw.total_max));
        }
        if (bonus - raw.bonus_max).abs() > EPS {
            self.issue(None, "bonus_max", format!(
                "is {}, but the maxima of the bonus sections sum to {bonus}", raw.bonus_max));
        }
        for (input, users) in &judged_users {
            if users.len() > 1 {
                self.issue(Some(input_spans[input.0]), &inputs[input.0].key, format!(
                    "a judged input belongs to one rule, but rules {} all use it", users.join(", ")));
            }
        }

        let mut gates = Vec::new();
        let mut gate_ids = HashSet::new();
        for spanned in raw.gates {
            let g = spanned.into_inner();
            let gid = g.id.get_ref().clone();
            if !gate_ids.insert(gid.clone()) {
                self.issue(Some(g.id.span().start), format!("gates.{gid}"), "duplicate gate id");
            }
            let gate = self.gate(g);
            used.extend(gate.inputs.iter().copied());
            gates.push(gate);
        }

        for (i, input) in inputs.iter().enumerate() {
            if !used.contains(&InputId(i)) {
                self.issue(Some(input_spans[i]), &input.key, "declared but used by no rule or gate");
            }
            if matches!(input.kind, InputKind::Judged { .. }) && !judged_users.contains_key(&InputId(i)) {
                self.issue(Some(input_spans[i]), &input.key, "a judged input must be the input of a judged rule");
            }
        }

        Rubric {
            edition: raw.edition,
            version: raw.version,
            title: raw.title,
            baseline_date: raw.baseline_date,
            cutoff_date: raw.cutoff_date,
            total_max: raw.total_max,
            bonus_max: raw.bonus_max,
            key_domains,
            inputs,
            sections,
            rules,
            gates,
            prefixes: key_prefixes(&self.index),
            index: std::mem::take(&mut self.index),
        }
    }

    fn key_domains(&mut self, raw: Vec<RawKeyDomain>) -> Vec<KeyDomain> {
        let mut out: Vec<KeyDomain> = Vec::with_capacity(raw.len());
        for (i, d) in raw.into_iter().enumerate() {
            if d.number as usize != i + 1 {
                self.issue(None, format!("key_domains[{i}].number"), format!(
                    "is {}, but key domains must be numbered 1, 2, 3 … in order", d.number));
            }
            out.push(KeyDomain { number: d.number, name: d.name, reconstructed: d.reconstructed });
        }
        out
    }

    fn input(&mut self, key: String, raw: RawInput, at: usize) -> Input {
        let kind = match raw.kind.get_ref().as_str() {
            "bool" => InputKind::Bool,
            "count" => InputKind::Count,
            "ratio" => InputKind::Ratio,
            "amount" => InputKind::Amount,
            "number" => InputKind::Number,
            "judged" => InputKind::Judged { max: 0.0 },
            "list" => InputKind::List { integer: raw.integer, distinct: raw.distinct, len: raw.len },
            "table" => InputKind::Table,
            other => {
                self.issue(Some(raw.kind.span().start), &key, format!(
                    "unknown type `{other}`; expected one of bool, count, ratio, amount, number, judged, list, table"));
                InputKind::Number
            }
        };
        if !matches!(kind, InputKind::List { .. }) && (raw.integer || raw.distinct || raw.len.is_some()) {
            self.issue(Some(at), &key, "integer, distinct and len apply to lists only");
        }
        if let (Some(lo), Some(hi)) = (raw.min, raw.max) {
            if lo > hi {
                self.issue(Some(at), &key, format!("min {lo} is greater than max {hi}"));
            }
        }
        if raw.label.trim().is_empty() {
            self.issue(Some(at), &key, "label must not be empty");
        }
        let mut at_most = Vec::new();
        for whole in &raw.at_most {
            if whole.get_ref() == &key {
                self.issue(Some(whole.span().start), &key, "at_most refers to the input itself");
            } else if let Some(id) = self.resolve(whole, &key) {
                at_most.push(id);
            }
        }
        Input {
            key,
            label: raw.label,
            unit: raw.unit,
            kind,
            positive: raw.positive,
            at_most,
            min: raw.min,
            max: raw.max,
            fixed: raw.fixed,
            supplier: raw.supplier,
        }
    }

    fn resolve(&mut self, key: &Spanned<String>, owner: &str) -> Option<InputId> {
        let id = self.index.get(key.get_ref()).copied();
        if id.is_none() {
            self.issue(Some(key.span().start), owner, format!("refers to `{}`, which is not declared in [inputs]", key.get_ref()));
        }
        id
    }

    fn resolve_as(&mut self, key: &Spanned<String>, owner: &str, want: Want) -> Option<InputId> {
        let id = self.resolve(key, owner)?;
        let kind = self.kinds.get(id.0).copied()?;
        let ok = match want {
            Want::Bool => kind == InputKind::Bool,
            Want::Scalar => kind.is_scalar_number(),
            Want::Judged => matches!(kind, InputKind::Judged { .. }),
            Want::List => matches!(kind, InputKind::List { .. }),
            Want::Countable => matches!(kind, InputKind::Count | InputKind::List { .. } | InputKind::Table),
        };
        if !ok {
            let expected = match want {
                Want::Bool => "bool",
                Want::Scalar => "count, ratio, amount or number",
                Want::Judged => "judged",
                Want::List => "list",
                Want::Countable => "count, list or table",
            };
            self.issue(Some(key.span().start), owner, format!(
                "`{}` is of type {}, but here it must be {expected}", key.get_ref(), kind.name()));
        }
        Some(id)
    }

    fn rule(&mut self, r: RawRule, section: usize, at: usize) -> Rule {
        let id = r.id.get_ref().clone();
        let owner = format!("rules.{id}");
        let max = *r.max.get_ref();
        if !(max > 0.0 && max.is_finite()) {
            self.issue(Some(r.max.span().start), format!("{owner}.max"), "must be a positive number");
        }
        let hi = r.hi.map(|h| {
            let v = *h.get_ref();
            if !(1..=20).contains(&v) {
                self.issue(Some(h.span().start), format!("{owner}.hi"), format!("is {v}, but hard indicators are numbered 1–20"));
            }
            v
        });
        if r.evidence.is_empty() {
            self.issue(Some(at), &owner, "a rule needs at least one evidence item");
        }
        let scoring_at = r.scoring.span().start;
        let scoring = self.scoring(r.scoring.into_inner(), &owner, max, scoring_at);
        let mut inputs = Vec::new();
        scoring.collect_inputs(&mut inputs);
        dedup_in_order(&mut inputs);
        Rule {
            id,
            section,
            max,
            hi,
            title: r.title,
            standard: r.standard,
            detail: r.detail,
            source: r.source,
            evidence: r.evidence,
            target: r.target,
            scoring,
            inputs,
        }
    }

    fn need<T>(&mut self, v: Option<T>, owner: &str, field: &str, kind: &str, at: usize) -> Option<T> {
        if v.is_none() {
            self.issue(Some(at), format!("{owner}.scoring.{field}"), format!("is required by kind `{kind}`"));
        }
        v
    }

    fn positive(&mut self, v: f64, owner: &str, field: &str, at: usize) {
        if !(v > 0.0 && v.is_finite()) {
            self.issue(Some(at), format!("{owner}.scoring.{field}"), format!("is {v}, but must be a positive number"));
        }
    }

    fn scoring(&mut self, s: RawScoring, owner: &str, max: f64, at: usize) -> Scoring {
        let kind = s.kind.get_ref().clone();
        let placeholder = Scoring::Flags { items: Vec::new(), all_bonus: None };
        match kind.as_str() {
            "judged" => match self.need(s.input.as_ref(), owner, "input", &kind, at).and_then(|k| self.resolve_as(k, owner, Want::Judged)) {
                Some(input) => Scoring::Judged { input },
                None => placeholder,
            },
            "flags" => {
                if s.items.is_empty() {
                    self.issue(Some(at), format!("{owner}.scoring.items"), "kind `flags` needs at least one item");
                }
                let mut items = Vec::new();
                let mut sum = 0.0;
                for f in &s.items {
                    self.positive(f.points, owner, "items.points", at);
                    sum += f.points;
                    if let Some(id) = self.resolve_as(&f.input, owner, Want::Bool) {
                        items.push((id, f.points));
                    }
                }
                sum += s.all_bonus.unwrap_or(0.0);
                if (sum - max).abs() > EPS {
                    self.issue(Some(at), format!("{owner}.scoring"), format!(
                        "the points of its items (and all_bonus) sum to {sum}, but the rule's max is {max}"));
                }
                Scoring::Flags { items, all_bonus: s.all_bonus }
            }
            "any_of" | "none_of" => {
                if s.inputs.is_empty() {
                    self.issue(Some(at), format!("{owner}.scoring.inputs"), format!("kind `{kind}` needs at least one input"));
                }
                let inputs: Vec<_> = s.inputs.iter().filter_map(|k| self.resolve_as(k, owner, Want::Bool)).collect();
                if kind == "any_of" { Scoring::AnyOf { inputs } } else { Scoring::NoneOf { inputs } }
            }
            "tally" => {
                let per = self.need(s.per, owner, "per", &kind, at).unwrap_or(1.0);
                self.positive(per, owner, "per", at);
                if s.terms.is_empty() {
                    self.issue(Some(at), format!("{owner}.scoring.terms"), "kind `tally` needs at least one term");
                }
                let terms = s.terms.iter().filter_map(|t| {
                    let input = self.resolve_as(&t.input, owner, Want::Countable)?;
                    Some(Term { input, cap: t.cap, at_least: t.at_least })
                }).collect();
                Scoring::Tally { per, terms }
            }
            "proportional" => {
                let measure = self.need(s.measure, owner, "measure", &kind, at).and_then(|m| self.measure(m, owner, at));
                let rate = match (s.full_at, s.scale) {
                    (Some(f), None) => { self.positive(f, owner, "full_at", at); Rate::FullAt(f) }
                    (None, Some(k)) => { self.positive(k, owner, "scale", at); Rate::Scale(k) }
                    _ => {
                        self.issue(Some(at), format!("{owner}.scoring"), "kind `proportional` needs exactly one of full_at or scale");
                        Rate::Scale(1.0)
                    }
                };
                match measure { Some(measure) => Scoring::Proportional { measure, rate }, None => placeholder }
            }
            "deduction" => {
                let measure = self.need(s.measure, owner, "measure", &kind, at).and_then(|m| self.measure(m, owner, at));
                let better = match s.better.as_ref().map(|b| b.get_ref().as_str()) {
                    Some("higher") => Better::Higher,
                    Some("lower") => Better::Lower,
                    Some(other) => {
                        self.issue(Some(at), format!("{owner}.scoring.better"), format!("is `{other}`; expected `higher` or `lower`"));
                        Better::Higher
                    }
                    None => { self.need::<()>(None, owner, "better", &kind, at); Better::Higher }
                };
                let full = self.need(s.full, owner, "full", &kind, at).unwrap_or(0.0);
                let per = self.need(s.per, owner, "per", &kind, at).unwrap_or(1.0);
                let step = self.need(s.step, owner, "step", &kind, at).unwrap_or(1.0);
                self.positive(per, owner, "per", at);
                self.positive(step, owner, "step", at);
                let requires = s.requires.as_ref().and_then(|k| self.resolve_as(k, owner, Want::Bool));
                match measure {
                    Some(measure) => Scoring::Deduction { measure, better, full, per, step, per_step: s.per_step, requires },
                    None => placeholder,
                }
            }
            "bands" => {
                let measure = self.need(s.measure, owner, "measure", &kind, at).and_then(|m| self.measure(m, owner, at));
                let bands = self.bands(&s.bands, owner, at, s.per_step);
                match measure { Some(measure) => Scoring::Bands { measure, bands, per_step: s.per_step }, None => placeholder }
            }
            other => {
                self.issue(Some(s.kind.span().start), format!("{owner}.scoring.kind"), format!(
                    "unknown kind `{other}`; expected one of judged, flags, any_of, none_of, tally, proportional, deduction, bands"));
                placeholder
            }
        }
    }

    fn bands(&mut self, raw: &[RawBand], owner: &str, at: usize, per_step: bool) -> Vec<Band> {
        let key = format!("{owner}.scoring.bands");
        if raw.is_empty() {
            self.issue(Some(at), &key, "kind `bands` needs at least one band");
        }
        let mut out = Vec::with_capacity(raw.len());
        let mut last_bound = f64::NEG_INFINITY;
        for (i, b) in raw.iter().enumerate() {
            let is_last = i + 1 == raw.len();
            let upper = match (b.until, b.through) {
                (Some(u), None) => Some(Bound::Until(u)),
                (None, Some(t)) => Some(Bound::Through(t)),
                (None, None) => None,
                (Some(_), Some(_)) => {
                    self.issue(Some(at), format!("{key}[{i}]"), "has both until and through");
                    None
                }
            };
            match upper {
                None if !is_last => self.issue(Some(at), format!("{key}[{i}]"), "only the last band may be without until/through"),
                Some(_) if is_last => self.issue(Some(at), format!("{key}[{i}]"), "the last band must be without until/through (it extends to +∞)"),
                Some(bound) => {
                    if bound.value() <= last_bound {
                        self.issue(Some(at), format!("{key}[{i}]"), "bounds must increase from band to band");
                    }
                    last_bound = bound.value();
                }
                None => {}
            }
            let value = match (b.points, b.line) {
                (Some(p), None) => BandValue::Points(p),
                (None, Some([[x0, y0], [x1, y1]])) => {
                    if (x1 - x0).abs() < EPS {
                        self.issue(Some(at), format!("{key}[{i}].line"), "the two points must differ in x");
                    }
                    if per_step && b.step.is_none() {
                        self.issue(Some(at), format!("{key}[{i}].step"), "per_step needs the size of a step");
                    }
                    if let Some(s) = b.step { self.positive(s, owner, "bands.step", at) }
                    BandValue::Line { x0, y0, x1, y1, step: b.step }
                }
                _ => {
                    self.issue(Some(at), format!("{key}[{i}]"), "needs exactly one of points or line");
                    BandValue::Points(0.0)
                }
            };
            out.push(Band { upper, value });
        }
        out
    }

    fn measure(&mut self, m: RawMeasure, owner: &str, at: usize) -> Option<Measure> {
        let key = format!("{owner}.measure");
        let forms = [m.input.is_some(), m.ratio.is_some(), m.whole.is_some(), m.growth.is_some(), m.mean.is_some(), m.sum.is_some()]
            .iter().filter(|b| **b).count();
        if forms != 1 {
            self.issue(Some(at), &key, "needs exactly one of input, ratio, whole, growth, mean or sum");
            return None;
        }
        let form = if let Some(k) = &m.input {
            MeasureForm::Input(self.resolve_as(k, owner, Want::Scalar)?)
        } else if let Some(num) = &m.ratio {
            let numerator: Vec<_> = num.iter().filter_map(|k| self.resolve_as(k, owner, Want::Scalar)).collect();
            if numerator.len() != num.len() || num.is_empty() {
                if num.is_empty() { self.issue(Some(at), &key, "ratio needs at least one numerator input"); }
                return None;
            }
            let denominator = match (&m.over, m.over_constant) {
                (Some(over), None) if !over.is_empty() => {
                    let d: Vec<_> = over.iter().filter_map(|k| self.resolve_as(k, owner, Want::Scalar)).collect();
                    if d.len() != over.len() { return None; }
                    Denominator::Inputs(d)
                }
                (None, Some(c)) if c > 0.0 && c.is_finite() => Denominator::Constant(c),
                _ => {
                    self.issue(Some(at), &key, "ratio needs exactly one of over (inputs) or over_constant (a positive number)");
                    return None;
                }
            };
            MeasureForm::Ratio { numerator, denominator }
        } else if let Some(w) = &m.whole {
            let Some(p) = &m.part else {
                self.issue(Some(at), &key, "whole needs part");
                return None;
            };
            MeasureForm::Gap { whole: self.resolve_as(w, owner, Want::Scalar)?, part: self.resolve_as(p, owner, Want::Scalar)? }
        } else if let Some(c) = &m.growth {
            let Some(p) = &m.previous else {
                self.issue(Some(at), &key, "growth needs previous");
                return None;
            };
            MeasureForm::Growth { current: self.resolve_as(c, owner, Want::Scalar)?, previous: self.resolve_as(p, owner, Want::Scalar)? }
        } else if let Some(k) = &m.mean {
            MeasureForm::Mean(self.resolve_as(k, owner, Want::List)?)
        } else {
            let parts = m.sum.unwrap_or_default();
            if parts.is_empty() {
                self.issue(Some(at), &key, "sum needs at least one measure");
                return None;
            }
            let parts: Vec<_> = parts.into_iter().filter_map(|p| self.measure(p, owner, at)).collect();
            MeasureForm::Sum(parts)
        };
        Some(Measure { label: m.label, unit: m.unit, form })
    }

    fn gate(&mut self, g: RawGate) -> Gate {
        let gid = g.id.get_ref().clone();
        let at = g.id.span().start;
        let owner = format!("gates.{gid}");
        if !(1..=20).contains(&g.hi) {
            self.issue(Some(at), format!("{owner}.hi"), format!("is {}, but hard indicators are numbered 1–20", g.hi));
        }
        if g.all.is_empty() {
            self.issue(Some(at), &owner, "a gate needs at least one condition");
        }
        let mut conditions = Vec::new();
        for c in g.all {
            if let Some(flag) = &c.flag {
                if c.measure.is_some() || c.at_least.is_some() || c.at_most.is_some() || c.below.is_some() {
                    self.issue(Some(flag.span().start), &owner, "a flag condition takes no measure or comparison");
                }
                if let Some(id) = self.resolve_as(flag, &owner, Want::Bool) {
                    conditions.push(Condition::Flag(id));
                }
                continue;
            }
            let cmp = match (c.at_least, c.at_most, c.below) {
                (Some(v), None, None) => Some((Op::AtLeast, v)),
                (None, Some(v), None) => Some((Op::AtMost, v)),
                (None, None, Some(v)) => Some((Op::Below, v)),
                _ => None,
            };
            let Some((op, value)) = cmp else {
                self.issue(Some(at), &owner, "a condition needs exactly one of at_least, at_most or below");
                continue;
            };
            let Some(raw) = c.measure else {
                self.issue(Some(at), &owner, "a condition needs a flag or a measure");
                continue;
            };
            if let Some(measure) = self.measure(raw, &owner, at) {
                conditions.push(Condition::Compare { measure, op, value });
            }
        }
        let mut inputs = Vec::new();
        for c in &conditions {
            match c {
                Condition::Flag(id) => inputs.push(*id),
                Condition::Compare { measure, .. } => measure.collect_inputs(&mut inputs),
            }
        }
        dedup_in_order(&mut inputs);
        Gate { id: gid, hi: g.hi, title: g.title, conditions, inputs }
    }
}
