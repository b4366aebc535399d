//! Explanations in Chinese, with the actual numbers, and what would raise the score.
//!
//! Rendering is separate from scoring so that the engine stays cheap; every number
//! here comes from the same functions the engine uses, and every target is found by
//! scoring what-ifs with the engine itself, so that a target, applied, reaches what
//! it promises. Targets are data first ([`Alternative`]: which input, from what, to
//! what, for how many points); the text target is rendered from that data.
//!
//! Numbers are shown by [`crate::format`] (half up). Where a quantity is shown and
//! then used in shown arithmetic, it gets as many decimals as it takes for the shown
//! arithmetic to give the shown result, and for the shown value not to meet a
//! threshold that the verdict says it misses. Each such piece of arithmetic is also
//! returned as data ([`Arithmetic`]) so that tests can check it.

use crate::assessment::{Assessment, Value};
use crate::engine::{self, EPS, GateResult, RuleResult, band_index, eval, line_at, score_rule, shortfall, steps, term_count};
use crate::format::{self, round_half_up};
use crate::model::{
    Band, BandValue, Better, Bound, Condition, Denominator, Gate, InputId, InputKind, Measure, MeasureForm, Op, Rate,
    Rubric, Rule, Scoring,
};

/// Why a rule scored what it did, and what would raise it.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    pub text: String,
    /// `None` at full marks (or a passed gate).
    pub target: Option<String>,
    /// What would raise the score (or pass the gate), one input at a time, cheapest
    /// first. Empty at full marks and where nothing this period can change.
    pub alternatives: Vec<Alternative>,
    /// Inputs the score depends on that hold history this period cannot change.
    pub fixed: Vec<InputId>,
    /// Points already earned by the inputs present, for a rule still incomplete.
    pub earned: Option<f64>,
    /// Every piece of arithmetic the text shows, as shown.
    pub arithmetic: Vec<Arithmetic>,
}

/// `expr = result`, both exactly as the text shows them: evaluating `expr` and
/// rounding half up to the decimals of `result` gives `result`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arithmetic {
    pub expr: String,
    pub result: String,
}

/// How a required value bounds the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    AtLeast,
    AtMost,
    Below,
    Above,
}

impl Relation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AtLeast => "at_least",
            Self::AtMost => "at_most",
            Self::Below => "below",
            Self::Above => "above",
        }
    }

    fn word(self) -> &'static str {
        match self {
            Self::AtLeast => "达到",
            Self::AtMost => "不超过",
            Self::Below => "低于",
            Self::Above => "高于",
        }
    }
}

/// One way to raise a rule's score or to pass a gate: move one input.
#[derive(Debug, Clone, PartialEq)]
pub struct Alternative {
    pub input: InputId,
    /// The input's value now (1/0 for a bool, the number of items for a list or table).
    pub current: f64,
    /// The value it must reach (in the direction of `relation`).
    pub required: f64,
    pub relation: Relation,
    /// `required − current`.
    pub delta: f64,
    /// Points this change alone adds to the rule (0 for a gate's own alternatives).
    pub gain: f64,
    /// It reaches full marks (for a gate: it meets that condition).
    pub full: bool,
    /// It passes this gate (the gate before the rule: less than full marks takes).
    pub gate: Option<String>,
    /// With this change alone, `gate` passes (its other conditions already hold); when
    /// false, the change meets one of the gate's conditions and others remain.
    pub gate_passes: bool,
    /// The gain assumes this precondition is met too (8.2a's connection to the national
    /// system, without which the halls score nothing).
    pub after: Option<InputId>,
    /// The size of the change, for ordering: items, 万元, percentage points; 1 for a yes/no.
    pub cost: f64,
    /// For list and table inputs: what the items are (`第 11–20 个`).
    pub note: Option<String>,
    /// For a gate's own alternatives: the index of the condition this change meets.
    /// Alternatives of one condition are either-or; every failing condition must be met.
    pub condition: Option<usize>,
}

/// Explains one rule's result.
pub fn explain_rule(rubric: &Rubric, rule: &Rule, a: &Assessment, result: &RuleResult) -> Explanation {
    let mut ctx = Ctx::new(rubric, a);
    if !result.missing.is_empty() {
        let names: Vec<String> = result.missing.iter().map(|id| label_with_key(rubric, *id)).collect();
        let earned = ctx.earned(rule);
        let mut text = format!("缺少 {} 项输入,暂计 0.00 分:{}", names.len(), names.join("、"));
        if let Some((points, what)) = &earned {
            text.push_str(&format!(";已填报的部分已得 {} 分({what}),填报齐全后计入", format::points(*points)));
        }
        return Explanation {
            text,
            target: Some(format!("填报:{}", names.join("、"))),
            alternatives: Vec::new(),
            fixed: Vec::new(),
            earned: earned.map(|(p, _)| p),
            arithmetic: ctx.arithmetic,
        };
    }
    let text = ctx.rule_text(rule, result.score);
    let below = result.score < rule.max - EPS;
    let (alternatives, fixed) = if below { ctx.rule_alternatives(rule, result.score) } else { (Vec::new(), Vec::new()) };
    let target = below.then(|| ctx.rule_target(rule, result.score, &alternatives, &fixed));
    Explanation { text, target, alternatives, fixed, earned: None, arithmetic: ctx.arithmetic }
}

/// Explains one gate's result.
pub fn explain_gate(rubric: &Rubric, gate: &Gate, a: &Assessment, result: &GateResult) -> Explanation {
    let mut ctx = Ctx::new(rubric, a);
    let mut parts = Vec::new();
    let mut targets = Vec::new();
    let mut alternatives = Vec::new();
    let mut fixed = Vec::new();
    for (index, c) in gate.conditions.iter().enumerate() {
        let holds = engine::condition_holds(c, a);
        parts.push(ctx.condition_text(c, holds));
        if holds == Some(false) {
            let (alts, fx) = ctx.condition_alternatives(gate, c);
            targets.push(ctx.condition_target(c, &alts, &fx));
            alternatives.extend(alts.into_iter().map(|mut x| {
                x.condition = Some(index);
                x
            }));
            fixed.extend(fx);
        }
    }
    if !result.missing.is_empty() {
        let names: Vec<String> = result.missing.iter().map(|id| label_with_key(rubric, *id)).collect();
        targets.push(format!("填报:{}", names.join("、")));
    }
    sort_alternatives(&mut alternatives);
    let target = (result.status != engine::GateStatus::Passed && !targets.is_empty()).then(|| targets.join(";并且"));
    Explanation { text: parts.join(";"), target, alternatives, fixed, earned: None, arithmetic: ctx.arithmetic }
}

fn label_with_key(rubric: &Rubric, id: InputId) -> String {
    let input = rubric.input(id);
    format!("{}({})", input.label, input.key)
}

fn sort_alternatives(alts: &mut [Alternative]) {
    alts.sort_by(|x, y| x.cost.total_cmp(&y.cost).then_with(|| y.gain.total_cmp(&x.gain)));
}

// ----- showing numbers ---------------------------------------------------------------

/// How a quantity is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Percent,
    Plain,
    Count,
    Money,
}

impl Style {
    fn base(self, x: f64) -> u32 {
        match self {
            Self::Percent => format::percent_decimals(x),
            Self::Plain => format::plain_decimals(x),
            Self::Count | Self::Money => 0,
        }
    }

    fn text(self, x: f64, d: u32) -> String {
        match self {
            Self::Percent => format::percent_at(x, d),
            Self::Plain => format::plain_at(x, d),
            Self::Count => format::count(x),
            Self::Money => format::money(x),
        }
    }

    /// The number the text shows, back in the quantity's own scale.
    fn shown(self, x: f64, d: u32) -> f64 {
        match self {
            Self::Percent => round_half_up(x * 100.0, d) / 100.0,
            Self::Plain => round_half_up(x, d),
            Self::Count => round_half_up(x, 0),
            Self::Money => round_half_up(x, 2),
        }
    }

    fn adjustable(self) -> bool {
        matches!(self, Self::Percent | Self::Plain)
    }
}

/// The side of `t` that `x` is on: −1, 0 or 1.
fn side(x: f64, t: f64) -> i8 {
    if (x - t).abs() <= 1e-12 * t.abs().max(1.0) {
        0
    } else if x < t {
        -1
    } else {
        1
    }
}

/// The fewest decimals from the usual ones for which `ok` holds (at most 12).
fn fit(style: Style, x: f64, ok: impl Fn(f64, u32) -> bool) -> u32 {
    let base = style.base(x);
    if !style.adjustable() {
        return base;
    }
    (base..=12).find(|d| ok(style.shown(x, *d), *d)).unwrap_or(12)
}

/// Decimals for `x` so that it is shown on its own side of every threshold.
fn apart(style: Style, x: f64, thresholds: &[f64]) -> u32 {
    fit(style, x, |s, _| thresholds.iter().all(|t| side(s, *t) == side(x, *t)))
}

/// The number of decimals a shown result carries (`0.88` → 2, `70%` → 0).
fn decimals_of(shown: &str) -> u32 {
    shown
        .trim_end_matches('%')
        .split_once('.')
        .map_or(0, |(_, f)| f.chars().take_while(char::is_ascii_digit).count() as u32)
}

/// `value` with its unit, a space between (no unit for points).
fn with_unit(value: &str, unit: Option<&str>) -> String {
    match unit {
        Some(u) if !u.is_empty() && u != "分" => format!("{value} {u}"),
        _ => value.to_owned(),
    }
}

/// Joins a phrase ending in Latin script to the next Chinese word with a space.
fn spaced(text: &str, next: &str) -> String {
    let text = text.trim_end();
    if text.chars().last().is_some_and(|c| c.is_ascii_alphanumeric() || c == '%') { format!("{text} {next}") } else { format!("{text}{next}") }
}

fn full_marks(text: &str) -> String {
    spaced(text, "可得满分")
}

/// `第 1、3、11–20 个`: numbers with runs collapsed.
fn number_runs(ns: &[i64]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < ns.len() {
        let mut j = i;
        while j + 1 < ns.len() && ns[j + 1] == ns[j] + 1 {
            j += 1;
        }
        parts.push(match j.cmp(&(i + 1)) {
            std::cmp::Ordering::Greater => format!("{}–{}", ns[i], ns[j]),
            std::cmp::Ordering::Equal => format!("{}、{}", ns[i], ns[j]),
            std::cmp::Ordering::Less => ns[i].to_string(),
        });
        i = j + 1;
    }
    format!("第 {} 个", parts.join("、"))
}

// ----- the context ------------------------------------------------------------------

/// Granularity of a what-if search on an input.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Grain {
    Whole,
    Cents,
    Real,
}

/// The direction an input must move.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Dir {
    Up,
    Down,
}

impl Dir {
    fn flip(self) -> Self {
        match self {
            Self::Up => Self::Down,
            Self::Down => Self::Up,
        }
    }
}

struct Ctx<'a> {
    rubric: &'a Rubric,
    a: &'a Assessment,
    /// A copy of the assessment for what-ifs; always restored after use.
    scratch: Assessment,
    arithmetic: Vec<Arithmetic>,
}

impl<'a> Ctx<'a> {
    fn new(rubric: &'a Rubric, a: &'a Assessment) -> Self {
        Self { rubric, a, scratch: a.clone(), arithmetic: Vec::new() }
    }

    fn label(&self, id: InputId) -> &str {
        &self.rubric.input(id).label
    }

    fn unit(&self, id: InputId) -> Option<&str> {
        self.rubric.input(id).unit.as_deref()
    }

    fn is_true(&self, id: InputId) -> bool {
        self.a.bool(id).unwrap_or(false)
    }

    fn record(&mut self, expr: &str, result: &str) {
        self.arithmetic.push(Arithmetic { expr: expr.to_owned(), result: result.to_owned() });
    }

    /// Points already earned by the inputs present, for an incomplete rule whose kind
    /// adds up parts: the true flags, a true alternative, the terms counted.
    fn earned(&self, rule: &Rule) -> Option<(f64, String)> {
        match &rule.scoring {
            Scoring::Flags { items, .. } => {
                let yes: Vec<(&str, f64)> =
                    items.iter().filter(|(id, _)| self.a.bool(*id) == Some(true)).map(|(id, p)| (self.label(*id), *p)).collect();
                if yes.is_empty() {
                    return None;
                }
                let sum = engine::snap(yes.iter().map(|(_, p)| p).sum());
                let what: Vec<String> = yes.iter().map(|(l, p)| format!("{l} {} 分", format::plain(*p))).collect();
                Some((sum, what.join("、")))
            }
            Scoring::AnyOf { inputs } => {
                let yes = inputs.iter().find(|id| self.a.bool(**id) == Some(true))?;
                Some((rule.max, format!("{}:是", self.label(*yes))))
            }
            Scoring::Tally { per, terms } => {
                let mut n = 0.0;
                let mut what = Vec::new();
                for t in terms {
                    if let Some(c) = term_count(t, self.a) {
                        n += c;
                        what.push(format!("{} 计 {}", self.label(t.input), format::plain(c)));
                    }
                }
                (n > 0.0).then(|| (engine::snap((per * n).min(rule.max)), what.join("、")))
            }
            _ => None,
        }
    }

    // ----- measures -----------------------------------------------------------------

    fn measure_style(&self, m: &Measure) -> Style {
        match &m.form {
            MeasureForm::Input(id) => match self.rubric.input(*id).kind {
                InputKind::Count => Style::Count,
                InputKind::Ratio => Style::Percent,
                InputKind::Amount => Style::Money,
                _ => Style::Plain,
            },
            MeasureForm::Ratio { .. } if m.unit.is_none() => Style::Percent,
            MeasureForm::Growth { .. } => Style::Percent,
            MeasureForm::Gap { .. } => Style::Count,
            _ => Style::Plain,
        }
    }

    fn measure_unit(&self, m: &Measure) -> Option<String> {
        match &m.form {
            MeasureForm::Input(id) => self.unit(*id).map(str::to_owned),
            MeasureForm::Gap { whole, .. } => self.unit(*whole).map(str::to_owned),
            _ => m.unit.clone(),
        }
    }

    /// A measure's value at `d` decimals, with its unit.
    fn mv(&self, m: &Measure, x: f64, d: u32) -> String {
        with_unit(&self.measure_style(m).text(x, d), self.measure_unit(m).as_deref())
    }

    /// An input's number as written in a formula, without its unit.
    fn bare(&self, id: InputId) -> String {
        let input = self.rubric.input(id);
        let Some(x) = self.a.number(id) else { return "—".to_owned() };
        match input.kind {
            InputKind::Count => format::count(x),
            InputKind::Ratio => format::percent(x),
            _ => format::exact(x),
        }
    }

    /// An input's value with its unit.
    fn input_value(&self, id: InputId) -> String {
        self.a.value(id).map_or_else(|| "—".to_owned(), |v| format::input_value(self.rubric.input(id), v))
    }

    fn terms(&self, ids: &[InputId]) -> String {
        let parts: Vec<String> = ids.iter().map(|id| self.bare(*id)).collect();
        if parts.len() == 1 { parts.join("") } else { format!("({})", parts.join(" + ")) }
    }

    /// `label = formula = value`, the value at `d` decimals; records the arithmetic.
    fn measure_formula(&mut self, m: &Measure, d: u32) -> String {
        let Some(x) = eval(m, self.a) else { return format!("{} 缺少输入", m.label) };
        let style = self.measure_style(m);
        let shown = style.text(x, d);
        let value = with_unit(&shown, self.measure_unit(m).as_deref());
        let expr = match &m.form {
            MeasureForm::Input(_) => return format!("{} = {value}", m.label),
            MeasureForm::Ratio { numerator, denominator } => {
                let den = match denominator {
                    Denominator::Inputs(ids) => self.terms(ids),
                    Denominator::Constant(c) => format::plain(*c),
                };
                format!("{} ÷ {den}", self.terms(numerator))
            }
            MeasureForm::Gap { whole, part } => format!("{} − {}", self.bare(*whole), self.bare(*part)),
            MeasureForm::Growth { current, previous } => {
                let prev = self.a.number(*previous).unwrap_or(0.0);
                if prev <= 0.0 {
                    let cur = self.a.number(*current).unwrap_or(0.0);
                    let verdict = if cur > 0.0 { "视为大幅增长" } else { "视为无增长" };
                    return format!("{}:上期为 0,本期为 {},{verdict}", m.label, self.input_value(*current));
                }
                let (c, p) = (self.bare(*current), self.bare(*previous));
                format!("({c} − {p}) ÷ {p}")
            }
            MeasureForm::Mean(id) => match self.a.value(*id) {
                Some(Value::List(items)) if !items.is_empty() => {
                    let parts: Vec<String> = items.iter().map(|x| format::exact(*x)).collect();
                    format!("({}) ÷ {}", parts.join(" + "), items.len())
                }
                _ => return format!("{} = {value}", m.label),
            },
            MeasureForm::Sum(parts) => {
                // Each term labelled with its own fraction, at the precision of the sum.
                let mut shown_parts = Vec::new();
                let mut lines = Vec::new();
                let mut rounded_sum = 0.0;
                for p in parts {
                    let px = eval(p, self.a).unwrap_or(0.0);
                    let ps = format::plain_at(px, d);
                    rounded_sum += round_half_up(px, d);
                    let pf = self.sum_part_formula(p);
                    self.record(&pf, &ps);
                    lines.push(format!("{} = {pf} = {ps}", p.label));
                    shown_parts.push(ps);
                }
                let expr = shown_parts.join(" + ");
                // Where no precision makes the rounded terms add up to the rounded sum
                // (1/3 + 1/3 + 1/3), the sum shown is the sum of the terms shown.
                let (shown, value) = if format::plain_at(rounded_sum, d) == shown {
                    (shown, value)
                } else {
                    let s = format::plain_at(rounded_sum, d);
                    let v = with_unit(&s, self.measure_unit(m).as_deref());
                    (s, v)
                };
                self.record(&expr, &shown);
                return format!("{};{} = {expr} = {value}", lines.join(";"), m.label);
            }
        };
        self.record(&expr, &shown);
        format!("{} = {expr} = {value}", m.label)
    }

    fn sum_part_formula(&self, p: &Measure) -> String {
        match &p.form {
            MeasureForm::Ratio { numerator, denominator } => {
                let den = match denominator {
                    Denominator::Inputs(ids) => self.terms(ids),
                    Denominator::Constant(c) => format::plain(*c),
                };
                format!("{} ÷ {den}", self.terms(numerator))
            }
            MeasureForm::Input(id) => self.bare(*id),
            _ => "—".to_owned(),
        }
    }

    /// Decimals for a Sum measure so that the shown parts add up to the shown sum.
    fn sum_decimals(&self, parts: &[Measure], x: f64, extra: &[f64]) -> u32 {
        let values: Vec<f64> = parts.iter().map(|p| eval(p, self.a).unwrap_or(0.0)).collect();
        (4..=12)
            .find(|d| {
                let sum: f64 = values.iter().map(|v| round_half_up(*v, *d)).sum();
                format::fixed(sum, *d) == format::fixed(x, *d)
                    && extra.iter().all(|t| side(round_half_up(x, *d), *t) == side(x, *t))
            })
            .unwrap_or(12)
    }

    // ----- rule texts ---------------------------------------------------------------

    fn rule_text(&mut self, rule: &Rule, score: f64) -> String {
        let max = rule.max;
        let got = format::points_below(score, max);
        match &rule.scoring {
            Scoring::Judged { .. } => format!("评估专家酌情计分 {got} 分(最高 {} 分)", format::plain(max)),
            Scoring::Flags { items, all_bonus } => self.flags_text(items, *all_bonus, &got),
            Scoring::AnyOf { inputs } => {
                let yes: Vec<&str> = inputs.iter().filter(|id| self.is_true(**id)).map(|id| self.label(*id)).collect();
                if yes.is_empty() {
                    format!("均未开展:{},得 {got} 分", self.labels(inputs))
                } else {
                    format!("已开展:{},有其一即可,得 {got} 分", yes.join("、"))
                }
            }
            Scoring::NoneOf { inputs } => {
                let yes: Vec<&str> = inputs.iter().filter(|id| self.is_true(**id)).map(|id| self.label(*id)).collect();
                if yes.is_empty() {
                    if inputs.len() == 1 {
                        format!("{}:否,得 {got} 分", self.label(inputs[0]))
                    } else {
                        format!("所列 {} 种情形均为“否”,得 {got} 分", inputs.len())
                    }
                } else {
                    format!("存在:{},得 {got} 分", yes.join("、"))
                }
            }
            Scoring::Tally { per, terms } => self.tally_text(rule, *per, terms, &got),
            Scoring::Proportional { measure, rate } => self.proportional_text(rule, measure, *rate, &got),
            Scoring::Deduction { measure, better, full, per, step, per_step, requires } => {
                if let Some(flag) = requires {
                    if !self.is_true(*flag) {
                        return format!("尚未{},本项得 {got} 分", self.label(*flag));
                    }
                }
                self.deduction_text(rule, measure, *better, *full, *per, *step, *per_step, &got)
            }
            Scoring::Bands { measure, bands, per_step } => self.bands_text(rule, measure, bands, *per_step, &got),
        }
    }

    fn tally_text(&mut self, rule: &Rule, per: f64, terms: &[crate::model::Term], got: &str) -> String {
        let mut parts = Vec::new();
        let mut n = 0.0;
        for t in terms {
            let c = term_count(t, self.a).unwrap_or(0.0);
            n += c;
            let unit = self.unit(t.input).unwrap_or("");
            let mut part = match (t.at_least, self.a.value(t.input)) {
                (Some(floor), Some(Value::Table(entries))) => format!(
                    "{}:达到 {} {unit}的 {} 项(共填报 {} 项)",
                    self.label(t.input),
                    format::plain(floor),
                    format::count(c),
                    format::count(entries.len() as f64)
                ),
                (_, Some(Value::Number(x))) => with_unit(&format!("{} {}", self.label(t.input), format::count(*x)), Some(unit)),
                _ => with_unit(&format!("{} {}", self.label(t.input), format::count(c)), Some(unit)),
            };
            if let Some(cap) = t.cap {
                let entered = self.a.number(t.input).unwrap_or(c);
                if entered > cap + EPS {
                    part.push_str(&format!(",最多计 {},计 {}", format::plain(cap), format::plain(c)));
                } else {
                    part.push_str(&format!("(最多计 {})", format::plain(cap)));
                }
            }
            parts.push(part);
        }
        let raw = engine::snap(per * n);
        let expr = format!("{} × {}", format::plain(per), format::plain(n));
        let tail = if raw > rule.max + EPS {
            let shown = format::points(raw);
            self.record(&expr, &shown);
            format!("{expr} = {shown},超过上限,得 {got} 分")
        } else {
            self.record(&expr, got);
            format!("{expr} = {got} 分")
        };
        if parts.len() == 1 {
            format!("{};{tail}", parts[0])
        } else {
            format!("{},合计 {};{tail}", parts.join(";"), format::plain(n))
        }
    }

    fn proportional_text(&mut self, rule: &Rule, measure: &Measure, rate: Rate, got: &str) -> String {
        let max = rule.max;
        let m = eval(measure, self.a).unwrap_or(0.0);
        let style = self.measure_style(measure);
        let res_d = decimals_of(got);
        match rate {
            Rate::FullAt(full) => {
                if m >= full - EPS {
                    let d = apart(style, m, &[full]);
                    let formula = self.measure_formula(measure, d);
                    return format!("{formula},达到 {},得满分 {got} 分", self.mv(measure, full, style.base(full)));
                }
                let d = fit(style, m, |s, _| {
                    side(s, full) == side(m, full) && format::fixed_grouped(max * s / full, res_d) == got
                });
                let formula = self.measure_formula(measure, d);
                let expr = format!("{} × {} ÷ {}", format::plain(max), style.text(m, d), style.text(full, style.base(full)));
                self.record(&expr, got);
                format!("{formula},低于 {},得 {expr} = {got} 分", self.mv(measure, full, style.base(full)))
            }
            Rate::Scale(k) => {
                let raw = engine::snap(k * m);
                let full_at = max / k;
                if let MeasureForm::Sum(parts) = &measure.form {
                    let d = self.sum_decimals(parts, m, &[full_at]);
                    let formula = self.measure_formula(measure, d);
                    if (k - 1.0).abs() < EPS {
                        return if raw > max + EPS {
                            format!("{formula},超过上限 {},得 {got} 分", format::plain(max))
                        } else {
                            format!("{formula},得 {got} 分")
                        };
                    }
                    let expr = format!("{} × {}", format::plain(k), format::plain_at(m, d));
                    let shown = format::points_below(raw, max);
                    self.record(&expr, &shown);
                    return format!("{formula},{expr} = {shown},得 {got} 分");
                }
                let over = raw > max + EPS;
                let shown_raw = if over { format::points(raw) } else { got.to_owned() };
                let rd = decimals_of(&shown_raw);
                let d = fit(style, m, |s, _| side(s, full_at) == side(m, full_at) && format::fixed_grouped(k * s, rd) == shown_raw);
                let formula = self.measure_formula(measure, d);
                let expr = format!("{} × {}", format::plain(k), style.text(m, d));
                self.record(&expr, &shown_raw);
                if over {
                    format!("{formula},{expr} = {shown_raw},超过上限,得 {got} 分")
                } else {
                    format!("{formula},得 {expr} = {got} 分")
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn deduction_text(
        &mut self,
        rule: &Rule,
        measure: &Measure,
        better: Better,
        full: f64,
        per: f64,
        step: f64,
        per_step: bool,
        got: &str,
    ) -> String {
        let max = rule.max;
        let m = eval(measure, self.a).unwrap_or(0.0);
        let style = self.measure_style(measure);
        let short = shortfall(m, better, full);
        if short <= EPS {
            let d = style.base(m);
            let formula = self.measure_formula(measure, d);
            return format!("{formula},得满分 {got} 分");
        }
        let raw = engine::snap(max - per * steps(short, step, per_step));
        let floor = raw < -EPS;
        let shown_raw = if floor { format::points(raw) } else { got.to_owned() };
        let rd = decimals_of(&shown_raw);
        let is_gap = matches!(measure.form, MeasureForm::Gap { .. });
        // The shortfall in steps, as shown: from the shortfall at the shown precision.
        let n_of = |s_short: f64| if per_step { (s_short / step + EPS).floor() } else { s_short / step };
        let d = fit(style, m, |s, d| {
            let s_short = style.shown(short, d);
            side(s, full) == side(m, full)
                && s_short > 0.0
                && format::fixed_grouped(max - per * round_half_up(n_of(s_short), d + 4), rd) == shown_raw
        });
        let formula = self.measure_formula(measure, d);
        let s_short = style.shown(short, d);
        let n = round_half_up(n_of(s_short), d + 4);
        let versus = match (better, is_gap || full == 0.0) {
            (_, true) => String::new(),
            (Better::Higher, false) => format!(",比 {} 低 {}", self.mv(measure, full, style.base(full)), self.mv(measure, short, d)),
            (Better::Lower, false) => format!(",比 {} 高 {}", self.mv(measure, full, style.base(full)), self.mv(measure, short, d)),
        };
        let step_shown = self.mv(measure, step, style.base(step));
        let worse = match (better, is_gap) {
            (_, true) | (Better::Lower, false) => "增加",
            (Better::Higher, false) => "降低",
        };
        let whole_steps = if per_step { format!("(按整步计 {} 步)", format::plain(n)) } else { String::new() };
        let expr = format!("{} − {} × {}", format::plain(max), format::plain(per), format::exact(n));
        self.record(&expr, &shown_raw);
        let each = spaced(&format!("每{worse} {step_shown}"), &format!("减 {} 分", format::plain(per)));
        let tail = if floor { format!("{expr} = {shown_raw},低于下限 0 分,得 {got} 分") } else { format!("{expr} = {got} 分") };
        format!("{formula}{versus},{each}{whole_steps},得 {tail}")
    }

    fn bands_text(&mut self, rule: &Rule, measure: &Measure, bands: &[Band], per_step: bool, got: &str) -> String {
        let m = eval(measure, self.a).unwrap_or(0.0);
        let style = self.measure_style(measure);
        let i = band_index(bands, m);
        let bounds: Vec<f64> = bands.iter().filter_map(|b| b.upper.map(Bound::value)).collect();
        if let Some(BandValue::Line { x0, y0, x1, y1, step }) = bands.get(i).map(|b| b.value) {
            {
                let step = step.filter(|_| per_step);
                let raw = engine::snap(line_at(x0, y0, x1, y1, step, m));
                let over = raw > rule.max + EPS;
                let shown_raw = if over || raw < -EPS { format::points(raw) } else { got.to_owned() };
                let rd = decimals_of(&shown_raw);
                let dy = y1 - y0;
                let sign = if dy < 0.0 { "−" } else { "+" };
                let width = x1 - x0;
                let d = fit(style, m, |s, _| {
                    bounds.iter().all(|t| side(s, *t) == side(m, *t))
                        && format::fixed_grouped(line_at(x0, y0, x1, y1, step, s), rd) == shown_raw
                });
                let formula = self.measure_formula(measure, d);
                let condition = self.band_condition(measure, bands, i);
                let expr = match step {
                    Some(s) => {
                        let k = ((m - x0) / s + EPS).floor();
                        format!("{} {sign} {} × {} × {} ÷ {}", format::plain(y0), format::plain(dy.abs()), format::plain(k), style.text(s, style.base(s)), style.text(width, style.base(width)))
                    }
                    None => format!(
                        "{} {sign} {} × ({} − {}) ÷ {}",
                        format::plain(y0),
                        format::plain(dy.abs()),
                        style.text(m, d),
                        style.text(x0, style.base(x0)),
                        style.text(width, style.base(width))
                    ),
                };
                self.record(&expr, &shown_raw);
                if over {
                    format!("{formula},{condition},得 {expr} = {shown_raw},超过上限,得 {got} 分")
                } else {
                    format!("{formula},{condition},得 {expr} = {got} 分")
                }
            }
        } else {
            {
                let d = apart(style, m, &bounds);
                let formula = self.measure_formula(measure, d);
                let condition = self.band_condition(measure, bands, i);
                format!("{formula},{condition},得 {got} 分")
            }
        }
    }

    fn labels(&self, ids: &[InputId]) -> String {
        ids.iter().map(|id| self.label(*id)).collect::<Vec<_>>().join("、")
    }

    fn flags_text(&self, items: &[(InputId, f64)], all_bonus: Option<f64>, got: &str) -> String {
        if let [(id, _)] = items {
            let yes = if self.is_true(*id) { "是" } else { "否" };
            return format!("{}:{yes},得 {got} 分", self.label(*id));
        }
        let names = short_labels(&items.iter().map(|(id, _)| self.label(*id)).collect::<Vec<_>>());
        let uniform = items.windows(2).all(|w| (w[0].1 - w[1].1).abs() < EPS);
        let (mut yes, mut no) = (Vec::new(), Vec::new());
        for ((id, points), name) in items.iter().zip(&names) {
            let shown = if uniform { name.clone() } else { format!("{name}({} 分)", format::plain(*points)) };
            if self.is_true(*id) { yes.push(shown) } else { no.push(shown) }
        }
        let mut text = if uniform {
            format!("{} 项中已具备 {} 项,每项 {} 分", items.len(), yes.len(), format::plain(items[0].1))
        } else if yes.is_empty() {
            "均未具备".to_owned()
        } else {
            format!("已具备:{}", yes.join("、"))
        };
        if !no.is_empty() && (uniform || !yes.is_empty()) {
            text.push_str(&format!(";未具备:{}", no.join("、")));
        }
        if let Some(bonus) = all_bonus {
            if no.is_empty() {
                text.push_str(&format!(";全部具备,另加 {} 分", format::plain(bonus)));
            }
        }
        format!("{text};得 {got} 分")
    }

    fn band_condition(&self, m: &Measure, bands: &[Band], i: usize) -> String {
        let lower = i.checked_sub(1).and_then(|j| bands[j].upper);
        let upper = bands.get(i).and_then(|b| b.upper);
        let style = self.measure_style(m);
        let v = |x: f64| self.mv(m, x, style.base(x));
        match (lower, upper) {
            (None, Some(Bound::Until(u))) => format!("低于 {}", v(u)),
            (None, Some(Bound::Through(u))) => format!("不超过 {}", v(u)),
            (Some(l), Some(u)) => format!("在 {} 与 {} 之间", v(l.value()), v(u.value())),
            (Some(Bound::Until(l)), None) => format!("不低于 {}", v(l)),
            (Some(Bound::Through(l)), None) => format!("超过 {}", v(l)),
            (None, None) => String::new(),
        }
    }

    // ----- gate texts ---------------------------------------------------------------

    fn condition_text(&mut self, c: &Condition, holds: Option<bool>) -> String {
        let verdict = match holds {
            Some(true) => "达标",
            Some(false) => "未达标",
            None => "缺少输入",
        };
        match c {
            Condition::Flag(id) => {
                let value = match self.a.bool(*id) {
                    Some(true) => "是",
                    Some(false) => "否",
                    None => "未填报",
                };
                format!("{}:{value}({verdict})", self.label(*id))
            }
            Condition::Compare { measure, op, value } => {
                let sign = match op {
                    Op::AtLeast => "≥",
                    Op::AtMost => "≤",
                    Op::Below => "<",
                };
                let style = self.measure_style(measure);
                let formula = match eval(measure, self.a) {
                    Some(x) if holds.is_some() => {
                        let d = match &measure.form {
                            MeasureForm::Sum(parts) => self.sum_decimals(parts, x, &[*value]),
                            _ => apart(style, x, &[*value]),
                        };
                        self.measure_formula(measure, d)
                    }
                    _ => measure.label.clone(),
                };
                format!("{formula},要求 {sign} {}({verdict})", self.mv(measure, *value, style.base(*value)))
            }
        }
    }

    // ----- alternatives -------------------------------------------------------------

    /// The inputs a measure moves with, and the direction each must go for the measure
    /// to go `dir`.
    fn measure_levers(m: &Measure, dir: Dir, out: &mut Vec<(InputId, Dir)>) {
        match &m.form {
            MeasureForm::Input(id) | MeasureForm::Mean(id) => out.push((*id, dir)),
            MeasureForm::Ratio { numerator, .. } => out.extend(numerator.iter().map(|id| (*id, dir))),
            MeasureForm::Gap { part, .. } => out.push((*part, dir.flip())),
            MeasureForm::Growth { current, .. } => out.push((*current, dir)),
            MeasureForm::Sum(parts) => parts.iter().for_each(|p| Self::measure_levers(p, dir, out)),
        }
    }

    fn rule_levers(rule: &Rule) -> Vec<(InputId, Dir)> {
        let mut out = Vec::new();
        match &rule.scoring {
            Scoring::Judged { input } => out.push((*input, Dir::Up)),
            Scoring::Flags { items, .. } => out.extend(items.iter().map(|(id, _)| (*id, Dir::Up))),
            Scoring::AnyOf { inputs } => out.extend(inputs.iter().map(|id| (*id, Dir::Up))),
            Scoring::NoneOf { inputs } => out.extend(inputs.iter().map(|id| (*id, Dir::Down))),
            Scoring::Tally { terms, .. } => out.extend(terms.iter().map(|t| (t.input, Dir::Up))),
            Scoring::Proportional { measure, .. } => Self::measure_levers(measure, Dir::Up, &mut out),
            Scoring::Deduction { measure, better, requires, .. } => {
                out.extend(requires.iter().map(|id| (*id, Dir::Up)));
                let dir = if *better == Better::Higher { Dir::Up } else { Dir::Down };
                Self::measure_levers(measure, dir, &mut out);
            }
            Scoring::Bands { measure, bands, .. } => {
                // Full marks at the low end (a rate to bring down) or at the high end.
                let low_end_full = matches!(bands.first().map(|b| b.value), Some(BandValue::Points(p)) if p >= rule.max - EPS);
                Self::measure_levers(measure, if low_end_full { Dir::Down } else { Dir::Up }, &mut out);
            }
        }
        let mut seen = std::collections::HashSet::new();
        out.retain(|(id, _)| seen.insert(*id));
        out
    }

    /// The score of `rule` with `id` set to `x` (a number input).
    fn score_with(&mut self, rule: &Rule, id: InputId, value: Value) -> f64 {
        let old = self.scratch.value(id).cloned();
        self.scratch.replace(id, value);
        let s = score_rule(rule, &self.scratch).score;
        if let Some(v) = old {
            self.scratch.replace(id, v);
        }
        s
    }

    fn holds_with(&mut self, c: &Condition, id: InputId, value: Value) -> bool {
        let old = self.scratch.value(id).cloned();
        self.scratch.replace(id, value);
        let h = engine::condition_holds(c, &self.scratch) == Some(true);
        if let Some(v) = old {
            self.scratch.replace(id, v);
        }
        h
    }

    /// The range an input may take: from its floor to its ceiling, given the values
    /// of the wholes it is part of. `None` for an unbounded ceiling.
    fn range(&self, id: InputId) -> (f64, Option<f64>) {
        let input = self.rubric.input(id);
        let lo = input.min.unwrap_or(0.0).max(if input.positive { 1.0 } else { 0.0 });
        let mut hi = input.max;
        if input.kind == InputKind::Ratio {
            hi = Some(hi.map_or(1.0, |h| h.min(1.0)));
        }
        if !input.at_most.is_empty() {
            let whole: Option<f64> = input.at_most.iter().map(|w| self.a.number(*w)).sum();
            if let Some(w) = whole {
                hi = Some(hi.map_or(w, |h| h.min(w)));
            }
        }
        (lo, hi)
    }

    fn grain(&self, id: InputId) -> Grain {
        match self.rubric.input(id).kind {
            InputKind::Count => Grain::Whole,
            InputKind::Amount | InputKind::Number => Grain::Cents,
            _ => Grain::Real,
        }
    }

    /// The value of `id` nearest to `current` in direction `dir` for which `ok` holds,
    /// searched within the input's range; `None` if no value in range does. With
    /// [`Grain::Real`] the value is a round number where one works.
    fn solve(&mut self, id: InputId, dir: Dir, ok: &mut dyn FnMut(&mut Self, f64) -> bool) -> Option<(f64, Relation)> {
        let current = self.a.number(id)?;
        let (lo, hi) = self.range(id);
        let grain = self.grain(id);
        let q = match grain {
            Grain::Whole => 1.0,
            Grain::Cents => 0.01,
            Grain::Real => 0.0,
        };
        if grain == Grain::Real {
            let end = match dir {
                Dir::Up => hi.unwrap_or(1.0),
                Dir::Down => lo,
            };
            if !ok(self, end) {
                return None;
            }
            let (mut bad, mut good) = (current, end);
            for _ in 0..200 {
                let mid = f64::midpoint(bad, good);
                if ok(self, mid) { good = mid } else { bad = mid }
            }
            // A round number at the boundary, when one meets the goal (2%, not 1.9999…%).
            for d in 2..=10 {
                let r = round_half_up(good, d);
                if (r - good).abs() <= 1e-9 && ok(self, r) {
                    let rel = if dir == Dir::Up { Relation::AtLeast } else { Relation::AtMost };
                    return Some((r, rel));
                }
                if (r - good).abs() <= 1e-9 && !ok(self, r) {
                    let rel = if dir == Dir::Up { Relation::Above } else { Relation::Below };
                    return Some((r, rel));
                }
            }
            let rel = if dir == Dir::Up { Relation::AtLeast } else { Relation::AtMost };
            return Some((good, rel));
        }
        // Whole units (or cents): search over steps of `q`.
        let to_steps = |x: f64| (x / q).round();
        let cur = to_steps(current);
        match dir {
            Dir::Up => {
                let mut top = if let Some(h) = hi {
                    (h / q + EPS).floor()
                } else {
                    let mut t = (cur * 2.0).max(cur + 1.0);
                    while !ok(self, t * q) && t < 1e15 {
                        t *= 4.0;
                    }
                    t
                };
                top = top.max(cur);
                if !ok(self, top * q) {
                    return None;
                }
                let (mut bad, mut good) = (cur, top);
                if ok(self, cur * q) {
                    return Some((cur * q, Relation::AtLeast));
                }
                while good - bad > 1.0 {
                    let mid = f64::midpoint(bad, good).floor();
                    if ok(self, mid * q) { good = mid } else { bad = mid }
                }
                Some((round_half_up(good * q, 2), Relation::AtLeast))
            }
            Dir::Down => {
                let bottom = (lo / q - EPS).ceil().min(cur);
                if !ok(self, bottom * q) {
                    return None;
                }
                if ok(self, cur * q) {
                    return Some((cur * q, Relation::AtMost));
                }
                let (mut good, mut bad) = (bottom, cur);
                while bad - good > 1.0 {
                    let mid = f64::midpoint(bad, good).ceil();
                    if ok(self, mid * q) { good = mid } else { bad = mid }
                }
                Some((round_half_up(good * q, 2), Relation::AtMost))
            }
        }
    }

    fn cost(&self, id: InputId, delta: f64) -> f64 {
        match self.rubric.input(id).kind {
            InputKind::Bool => 1.0,
            InputKind::Amount => delta.abs() / 1e4,
            InputKind::Ratio => delta.abs() * 100.0,
            _ => delta.abs(),
        }
    }

    fn alternative(&self, id: InputId, current: f64, required: f64, relation: Relation, gain: f64, full: bool) -> Alternative {
        // On the score grid, so that JSON never shows 0.0040000000000000036.
        let delta = engine::snap(required - current);
        let cost = engine::snap(self.cost(id, delta));
        Alternative { input: id, current, required, relation, delta, gain: engine::snap(gain), full, gate: None, gate_passes: false, after: None, cost, note: None, condition: None }
    }

    /// Alternatives for a rule below its maximum, and the fixed inputs it depends on.
    fn rule_alternatives(&mut self, rule: &Rule, score: f64) -> (Vec<Alternative>, Vec<InputId>) {
        let max = rule.max;
        let mut alts = Vec::new();
        let mut fixed = Vec::new();
        // An unmet precondition is assumed met while the other inputs are searched, so
        // that their targets say what full marks take once it is met.
        let pre = match &rule.scoring {
            Scoring::Deduction { requires: Some(flag), .. } if !self.is_true(*flag) => Some(*flag),
            _ => None,
        };
        if let Some(flag) = pre {
            self.scratch.replace(flag, Value::Bool(true));
        }
        for (id, dir) in Self::rule_levers(rule) {
            let input = self.rubric.input(id);
            let before = alts.len();
            if input.fixed {
                // Only history that the score actually depends on now.
                fixed.push(id);
                continue;
            }
            match (input.kind, self.a.value(id).cloned()) {
                (InputKind::Bool, Some(Value::Bool(b))) => {
                    let want = dir == Dir::Up;
                    if b == want {
                        continue;
                    }
                    let s = self.score_with(rule, id, Value::Bool(want));
                    let gain = s - score;
                    let needed = matches!(rule.scoring, Scoring::NoneOf { .. })
                        || matches!(&rule.scoring, Scoring::Deduction { requires: Some(r), .. } if *r == id);
                    if gain > EPS || needed {
                        let (cur, req) = if want { (0.0, 1.0) } else { (1.0, 0.0) };
                        let rel = if want { Relation::AtLeast } else { Relation::AtMost };
                        alts.push(self.alternative(id, cur, req, rel, gain, s >= max));
                    }
                }
                (InputKind::List { .. }, Some(Value::List(items))) => self.list_alternative(rule, id, &items, score, &mut alts),
                (InputKind::Table, Some(Value::Table(entries))) => self.table_alternative(rule, id, &entries, score, &mut alts),
                (kind, Some(Value::Number(current))) if kind.is_scalar_number() => {
                    self.number_alternatives(rule, id, dir, current, score, &mut alts);
                }
                // A judged score: full marks are the evaluator's to give; the structured
                // target says how far the score is from them.
                (InputKind::Judged { max: judged_max }, Some(Value::Number(current))) if current < judged_max - EPS => {
                    let gain = self.score_with(rule, id, Value::Number(judged_max)) - score;
                    alts.push(self.alternative(id, current, judged_max, Relation::AtLeast, gain, true));
                }
                _ => {}
            }
            if let Some(flag) = pre.filter(|f| *f != id) {
                alts[before..].iter_mut().for_each(|a| a.after = Some(flag));
            }
        }
        if let Some(flag) = pre {
            self.scratch.replace(flag, Value::Bool(false));
        }
        sort_alternatives(&mut alts);
        (alts, fixed)
    }

    fn number_alternatives(&mut self, rule: &Rule, id: InputId, dir: Dir, current: f64, score: f64, alts: &mut Vec<Alternative>) {
        let max = rule.max;
        let (lo, hi) = self.range(id);
        let extreme = match dir {
            Dir::Up => hi.unwrap_or(1e15),
            Dir::Down => lo,
        };
        let best = self.score_with(rule, id, Value::Number(extreme));
        if best <= score {
            return;
        }
        let Some((required, relation)) = self.solve(id, dir, &mut |c, x| c.score_with(rule, id, Value::Number(x)) >= best) else {
            return;
        };
        if (required - current).abs() < EPS {
            // Already there: only a precondition is missing.
            return;
        }
        let at = self.reaching(id, required, relation);
        let gain = self.score_with(rule, id, Value::Number(at)) - score;
        alts.push(self.alternative(id, current, required, relation, gain, best >= max));
        // The first points, where the first units gain nothing.
        if let Some((first, rel)) = self.solve(id, dir, &mut |c, x| c.score_with(rule, id, Value::Number(x)) > score) {
            let grain = if self.grain(id) == Grain::Whole { 1.0 } else { 0.01 };
            let at = self.reaching(id, first, rel);
            let gain = self.score_with(rule, id, Value::Number(at)) - score;
            // Only a jump is a step of its own (9.1's 50%, 8.2b's floor), not a linear creep.
            if (first - current).abs() > grain + EPS && (first - required).abs() > EPS && gain >= 0.01 - EPS {
                alts.push(self.alternative(id, current, first, rel, gain, false));
            }
        }
        // The gate before the rule: a failed gate that the same input passes sooner.
        let rubric = self.rubric;
        for gate in &rubric.gates {
            for c in &gate.conditions {
                let Condition::Compare { measure, op, .. } = c else { continue };
                let mut levers = Vec::new();
                let gdir = if *op == Op::AtLeast { Dir::Up } else { Dir::Down };
                Self::measure_levers(measure, gdir, &mut levers);
                if !levers.iter().any(|(l, d)| *l == id && *d == dir) || engine::condition_holds(c, self.a) != Some(false) {
                    continue;
                }
                if let Some((g, rel)) = self.solve(id, dir, &mut |ctx, x| ctx.holds_with(c, id, Value::Number(x))) {
                    if (g - required).abs() > EPS && ((dir == Dir::Up && g < required) || (dir == Dir::Down && g > required)) {
                        let at = self.reaching(id, g, rel);
                        let gain = self.score_with(rule, id, Value::Number(at)) - score;
                        let mut alt = self.alternative(id, current, g, rel, gain, false);
                        alt.gate = Some(gate.id.clone());
                        alt.gate_passes = self.gate_passes_with(gate, id, at);
                        alts.push(alt);
                    } else if (dir == Dir::Up && g > required + EPS) || (dir == Dir::Down && g < required - EPS) {
                        // The gate asks for more than full marks: its own route, never
                        // claimed by the full-marks one.
                        let at = self.reaching(id, g, rel);
                        let gain = self.score_with(rule, id, Value::Number(at)) - score;
                        let mut alt = self.alternative(id, current, g, rel, gain, true);
                        alt.gate = Some(gate.id.clone());
                        alt.gate_passes = self.gate_passes_with(gate, id, at);
                        alts.push(alt);
                    } else {
                        let at = self.reaching(id, required, relation);
                        // Only a condition that holds at full marks is met by them.
                        if self.holds_with(c, id, Value::Number(at)) {
                            let passes = self.gate_passes_with(gate, id, at);
                            if let Some(full) = alts.iter_mut().find(|a| a.input == id && a.full && a.gate.is_none()) {
                                full.gate = Some(gate.id.clone());
                                full.gate_passes = passes;
                            }
                        }
                    }
                }
            }
        }
    }

    /// Whether every condition of `gate` holds with `id` set to `x`.
    fn gate_passes_with(&mut self, gate: &Gate, id: InputId, x: f64) -> bool {
        gate.conditions.iter().all(|c| self.holds_with(c, id, Value::Number(x)))
    }

    /// A value that meets `required` under `relation` (strict bounds: just past it).
    fn reaching(&self, id: InputId, required: f64, relation: Relation) -> f64 {
        let tiny = if self.grain(id) == Grain::Real { 1e-12 } else { 0.0 };
        match relation {
            Relation::AtLeast | Relation::AtMost => required,
            Relation::Above => required + tiny,
            Relation::Below => required - tiny,
        }
    }

    fn list_alternative(&mut self, rule: &Rule, id: InputId, items: &[f64], score: f64, alts: &mut Vec<Alternative>) {
        let input = self.rubric.input(id);
        let (lo, hi) = (input.min.unwrap_or(1.0) as i64, input.max.unwrap_or(0.0) as i64);
        let open: Vec<i64> = (lo..=hi).filter(|n| !items.iter().any(|x| (*x - *n as f64).abs() < EPS)).collect();
        if open.is_empty() {
            return;
        }
        let with = |k: usize| {
            let mut v = items.to_vec();
            v.extend(open.iter().take(k).map(|n| *n as f64));
            Value::List(v)
        };
        let best = self.score_with(rule, id, with(open.len()));
        if best <= score {
            return;
        }
        let k = (1..=open.len()).find(|k| self.score_with(rule, id, with(*k)) >= best).unwrap_or(open.len());
        let n = items.len() as f64;
        let mut alt = self.alternative(id, n, n + k as f64, Relation::AtLeast, best - score, best >= rule.max);
        alt.note = Some(format!("尚未开展的:{}", number_runs(&open)));
        alts.push(alt);
    }

    fn table_alternative(&mut self, rule: &Rule, id: InputId, entries: &[(String, f64)], score: f64, alts: &mut Vec<Alternative>) {
        let Scoring::Tally { terms, .. } = &rule.scoring else { return };
        let floor = terms.iter().find(|t| t.input == id).and_then(|t| t.at_least).unwrap_or(1.0);
        let counted = entries.iter().filter(|(_, v)| *v >= floor).count();
        let with = |k: usize| {
            let mut v = entries.to_vec();
            v.extend((0..k).map(|i| (format!("\u{0}new{i}"), floor)));
            Value::Table(v)
        };
        let limit = 1000;
        let Some(k) = (1..=limit).find(|k| self.score_with(rule, id, with(*k)) >= rule.max) else { return };
        let gain = self.score_with(rule, id, with(k)) - score;
        let mut alt = self.alternative(id, counted as f64, (counted + k) as f64, Relation::AtLeast, gain, true);
        let short = entries.len() - counted;
        if short > 0 {
            alt.note = Some(format!("已填报但不足 {} 个案例的领域 {short} 个", format::plain(floor)));
        }
        alts.push(alt);
    }

    fn condition_alternatives(&mut self, gate: &Gate, c: &Condition) -> (Vec<Alternative>, Vec<InputId>) {
        let mut alts = Vec::new();
        let mut fixed = Vec::new();
        match c {
            Condition::Flag(id) => {
                if self.rubric.input(*id).fixed {
                    fixed.push(*id);
                } else if self.a.bool(*id) == Some(false) {
                    let mut alt = self.alternative(*id, 0.0, 1.0, Relation::AtLeast, 0.0, true);
                    alt.gate = Some(gate.id.clone());
                    alt.gate_passes = gate.conditions.iter().all(|o| self.holds_with(o, *id, Value::Bool(true)));
                    alts.push(alt);
                }
            }
            Condition::Compare { measure, op, .. } => {
                let dir = if *op == Op::AtLeast { Dir::Up } else { Dir::Down };
                let mut levers = Vec::new();
                Self::measure_levers(measure, dir, &mut levers);
                for (id, d) in levers {
                    if self.rubric.input(id).fixed {
                        fixed.push(id);
                        continue;
                    }
                    let Some(current) = self.a.number(id) else { continue };
                    if let Some((required, rel)) = self.solve(id, d, &mut |ctx, x| ctx.holds_with(c, id, Value::Number(x))) {
                        let mut alt = self.alternative(id, current, required, rel, 0.0, true);
                        alt.gate = Some(gate.id.clone());
                        alt.gate_passes = self.gate_passes_with(gate, id, self.reaching(id, required, rel));
                        alts.push(alt);
                    }
                }
            }
        }
        (alts, fixed)
    }

    // ----- targets as text ----------------------------------------------------------

    /// One alternative as a phrase: `再执结 100 件`, `失信修复型承诺数再增加 2,107 份`.
    fn phrase(&self, rule: Option<&Rule>, alt: &Alternative, primary: bool) -> String {
        let input = self.rubric.input(alt.input);
        let amount = match input.kind {
            InputKind::Bool => {
                return if alt.required > 0.5 { format!("需{}", input.label) } else { format!("需消除:{}", input.label) };
            }
            InputKind::Ratio if alt.required == 0.0 && alt.relation == Relation::AtMost => {
                return format!("{}需降至 0", input.label);
            }
            InputKind::Ratio => {
                return format!("{}需{} {}", input.label, alt.relation.word(), format::percent(alt.required));
            }
            InputKind::Amount if input.unit.as_deref().is_none_or(|u| u == "元") => format::money_at_least(alt.delta.abs()),
            InputKind::Amount | InputKind::Number => with_unit(&format::plain_at((alt.delta.abs() * 100.0).ceil() / 100.0, 2), input.unit.as_deref()),
            _ => with_unit(&format::count(alt.delta.abs()), input.unit.as_deref()),
        };
        let template = rule.and_then(|r| r.target.as_deref()).filter(|t| primary && t.contains("{n}"));
        let mut text = match template {
            Some(t) => {
                // The template's own unit follows {n}: give it the bare number.
                let bare = match input.kind {
                    InputKind::Amount => amount.clone(),
                    InputKind::Number => format::plain_at((alt.delta.abs() * 100.0).ceil() / 100.0, 2),
                    _ => format::count(alt.delta.abs()),
                };
                t.replace("{n}", &bare)
            }
            None if alt.delta > 0.0 => format!("{}再增加 {amount}", input.label),
            None => format!("{}减少 {amount}", input.label),
        };
        if let Some(note) = &alt.note {
            text.push_str(&format!("({note})"));
        }
        text
    }

    /// The fixed inputs of a rule or gate below its best, as a sentence.
    fn fixed_text(&mut self, rule: Option<&Rule>, fixed: &[InputId]) -> String {
        let mut parts = Vec::new();
        for id in fixed {
            let input = self.rubric.input(*id);
            // An honest limit where one exists ("报告期不超过 4 件").
            let limit = match (rule, self.a.number(*id)) {
                (Some(rule), Some(_)) => {
                    let dir = Self::rule_levers(rule).iter().find(|(l, _)| l == id).map(|(_, d)| *d);
                    dir.and_then(|d| {
                        self.solve(*id, d, &mut |c, x| c.score_with(rule, *id, Value::Number(x)) >= rule.max).map(|(req, rel)| {
                            format!(
                                "满分要求{}{} {},实际 {}",
                                input.label,
                                rel.word(),
                                with_unit(&format::count(req), input.unit.as_deref()),
                                self.input_value(*id)
                            )
                        })
                    })
                }
                _ => None,
            };
            let what = match self.a.bool(*id) {
                Some(b) => format!("{}为“{}”", input.label, if b { "是" } else { "否" }),
                None => input.label.clone(),
            };
            parts.push(limit.unwrap_or(what));
        }
        format!("本期无法补救(历史数据):{}", parts.join("、"))
    }

    fn rule_target(&mut self, rule: &Rule, score: f64, alts: &[Alternative], fixed: &[InputId]) -> String {
        let max = rule.max;
        match &rule.scoring {
            Scoring::Judged { .. } => {
                return format!("酌情计分项:补齐佐证材料,由评估专家判定(最高 {} 分)", format::plain(max));
            }
            Scoring::Flags { items, all_bonus } => {
                let names = short_labels(&items.iter().map(|(id, _)| self.label(*id)).collect::<Vec<_>>());
                let no: Vec<String> = items
                    .iter()
                    .zip(names)
                    .filter(|((id, _), _)| !self.is_true(*id) && !self.rubric.input(*id).fixed)
                    .map(|((_, p), name)| format!("{name}(+{} 分)", format::plain(*p)))
                    .collect();
                let bonus = all_bonus.map_or_else(String::new, |b| format!(";全部具备另加 {} 分", format::plain(b)));
                let mut text = if no.is_empty() { String::new() } else { format!("还需:{}{bonus}", no.join("、")) };
                if !fixed.is_empty() && items.iter().any(|(id, _)| fixed.contains(id) && !self.is_true(*id)) {
                    let f = self.fixed_text(None, fixed);
                    text = if text.is_empty() { f } else { format!("{text};{f}") };
                }
                return text;
            }
            Scoring::AnyOf { inputs } => return format!("开展以下任一项即可得满分:{}", self.labels(inputs)),
            Scoring::NoneOf { inputs } => {
                let yes: Vec<&str> = inputs.iter().filter(|id| self.is_true(**id)).map(|id| self.label(*id)).collect();
                return format!("需消除以下情形:{}", yes.join("、"));
            }
            _ => {}
        }
        // The rule's own phrase ({n}) is about its main quantity, not a precondition.
        let levers = Self::rule_levers(rule);
        let movable = |id: &InputId| !self.rubric.input(*id).fixed;
        let primary = levers
            .iter()
            .find(|(id, _)| movable(id) && self.rubric.input(*id).kind != InputKind::Bool)
            .or_else(|| levers.iter().find(|(id, _)| movable(id)))
            .map(|(id, _)| *id);
        let mut sentences = Vec::new();
        // A precondition comes first: nothing else scores without it.
        if let Scoring::Deduction { requires: Some(flag), .. } = &rule.scoring {
            if !self.is_true(*flag) {
                let rest: Vec<String> = alts
                    .iter()
                    .filter(|a| a.input != *flag && a.full)
                    .map(|a| self.phrase(Some(rule), a, Some(a.input) == primary))
                    .collect();
                let first = format!("先{}", self.label(*flag));
                return if rest.is_empty() { full_marks(&first) } else { format!("{first},并{}", full_marks(&join_or(&rest))) };
            }
        }
        let full: Vec<&Alternative> = alts.iter().filter(|a| a.full && a.gate.is_none()).collect();
        match full.as_slice() {
            [] => {}
            [one] => sentences.push(full_marks(&self.phrase(Some(rule), one, Some(one.input) == primary))),
            many => {
                let ps: Vec<String> = many.iter().map(|a| self.phrase(Some(rule), a, Some(a.input) == primary)).collect();
                sentences.push(format!("可得满分的途径(任选其一):{}", join_or(&ps)));
            }
        }
        for a in alts.iter().filter(|a| !a.full || a.gate.is_some()) {
            let p = self.phrase(Some(rule), a, Some(a.input) == primary);
            let new = format::points_below(engine::snap(score + a.gain), max);
            let s = match &a.gate {
                Some(g) if a.full && a.gate_passes => spaced(&p, &format!("可得满分,并通过 {g}")),
                Some(g) if a.full => spaced(&p, &format!("可得满分,并满足 {g} 的这一条件")),
                Some(g) if a.gate_passes => format!("{p},即可通过 {g}(一票否决项),本项得 {new} 分"),
                Some(g) => format!("{p},即满足 {g}(一票否决项)的这一条件,本项得 {new} 分"),
                None if a.gain > EPS => format!("{p},本项可得 {new} 分"),
                None => continue,
            };
            sentences.push(s);
        }
        if !fixed.is_empty() && (sentences.is_empty() || alts.iter().all(|a| !a.full)) {
            sentences.push(self.fixed_text(Some(rule), fixed));
        }
        if sentences.is_empty() {
            "本期无法仅凭一项输入得满分,需多项同时改进".to_owned()
        } else {
            sentences.join(";")
        }
    }

    fn condition_target(&mut self, c: &Condition, alts: &[Alternative], fixed: &[InputId]) -> String {
        let mut ps: Vec<String> = alts.iter().map(|a| self.phrase(None, a, false)).collect();
        if !fixed.is_empty() {
            ps.push(self.fixed_text(None, fixed));
        }
        if ps.is_empty() {
            return match c {
                Condition::Flag(id) => format!("需{}", self.label(*id)),
                Condition::Compare { measure, .. } => format!("{}需达标", measure.label),
            };
        }
        join_or(&ps)
    }
}

/// Phrases joined with “;或”, a space before one that starts with a number.
fn join_or(ps: &[String]) -> String {
    let mut out = String::new();
    for (i, p) in ps.iter().enumerate() {
        if i > 0 {
            out.push_str(";或");
            if p.chars().next().is_some_and(|c| c.is_ascii()) {
                out.push(' ');
            }
        }
        out.push_str(p);
    }
    out
}

/// Labels of a group of flags, shortened to what differs: `生产领域:建立信用记录`,
/// `流通领域:建立信用记录` → `生产领域`, `流通领域`.
fn short_labels(labels: &[&str]) -> Vec<String> {
    let suffixes: Vec<Option<&str>> = labels.iter().map(|l| l.split_once(':').map(|(_, s)| s)).collect();
    let same = suffixes.first().copied().flatten().is_some() && suffixes.windows(2).all(|w| w[0] == w[1]);
    labels
        .iter()
        .map(|l| if same { l.split_once(':').map_or(*l, |(p, _)| p).to_owned() } else { (*l).to_owned() })
        .collect()
}
