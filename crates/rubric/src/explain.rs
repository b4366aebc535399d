//! Explanations in Chinese, with the actual numbers, and what full marks would take.
//!
//! Rendering is separate from scoring so that the engine stays cheap; every number
//! here comes from the same functions the engine uses.

use crate::assessment::{Assessment, Value};
use crate::engine::{
    self, EPS, GateResult, RuleResult, band_index, eval, line_at, shortfall, steps, term_count,
};
use crate::format;
use crate::model::{
    Band, BandValue, Better, Bound, Condition, Denominator, Gate, InputId, InputKind, Measure,
    MeasureForm, Op, Rate, Rubric, Rule, Scoring,
};

/// Why a rule scored what it did, and what would raise it to full marks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub text: String,
    /// `None` at full marks.
    pub target: Option<String>,
}

/// Explains one rule's result.
pub fn explain_rule(rubric: &Rubric, rule: &Rule, a: &Assessment, result: &RuleResult) -> Explanation {
    if !result.missing.is_empty() {
        let names: Vec<String> = result.missing.iter().map(|id| label_with_key(rubric, *id)).collect();
        return Explanation {
            text: format!("缺少 {} 项输入,暂计 0 分:{}", names.len(), names.join("、")),
            target: Some(format!("填报:{}", names.join("、"))),
        };
    }
    let ctx = Ctx { rubric, a };
    let text = ctx.rule_text(rule, result.score);
    let target = (result.score < rule.max - EPS).then(|| ctx.rule_target(rule));
    Explanation { text, target }
}

/// Explains one gate's result.
pub fn explain_gate(rubric: &Rubric, gate: &Gate, a: &Assessment, result: &GateResult) -> Explanation {
    let ctx = Ctx { rubric, a };
    let mut parts = Vec::new();
    let mut targets = Vec::new();
    for c in &gate.conditions {
        let holds = engine::condition_holds(c, a);
        let (text, target) = ctx.condition(c, holds);
        parts.push(text);
        if holds == Some(false) {
            targets.extend(target);
        }
    }
    if !result.missing.is_empty() {
        let names: Vec<String> = result.missing.iter().map(|id| label_with_key(rubric, *id)).collect();
        targets.push(format!("填报:{}", names.join("、")));
    }
    let target = (!targets.is_empty()).then(|| targets.join(";"));
    Explanation { text: parts.join(";"), target }
}

fn label_with_key(rubric: &Rubric, id: InputId) -> String {
    let input = rubric.input(id);
    format!("{}({})", input.label, input.key)
}

/// The direction a measure must move for full marks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    Up,
    Down,
}

/// A goal on a measure: reach `value` (or pass it, when `strict`) in direction `dir`.
#[derive(Clone, Copy)]
struct Goal {
    value: f64,
    strict: bool,
    dir: Dir,
}

struct Ctx<'a> {
    rubric: &'a Rubric,
    a: &'a Assessment,
}

impl Ctx<'_> {
    fn label(&self, id: InputId) -> &str {
        &self.rubric.input(id).label
    }

    fn is_true(&self, id: InputId) -> bool {
        self.a.bool(id).unwrap_or(false)
    }

    /// An input's value as people write it: 1,200 件, 98.5%, 3,000,000 元.
    fn input_value(&self, id: InputId) -> String {
        let input = self.rubric.input(id);
        let Some(x) = self.a.number(id) else { return "—".to_owned() };
        with_unit(&Self::number_as(input.kind, x), input.unit.as_deref())
    }

    fn number_as(kind: InputKind, x: f64) -> String {
        match kind {
            InputKind::Count => format::count(x),
            InputKind::Ratio => format::percent(x),
            InputKind::Amount => format::money(x),
            InputKind::Number if x.fract() == 0.0 => format::count(x),
            _ => format::plain(x),
        }
    }

    /// A measure's value in its own terms.
    fn measure_value(&self, m: &Measure, x: f64) -> String {
        match &m.form {
            MeasureForm::Input(id) => {
                let input = self.rubric.input(*id);
                with_unit(&Self::number_as(input.kind, x), input.unit.as_deref())
            }
            MeasureForm::Ratio { .. } => match &m.unit {
                Some(unit) => with_unit(&format::plain(x), Some(unit)),
                None => format::percent(x),
            },
            MeasureForm::Gap { whole, .. } => with_unit(&format::count(x), self.rubric.input(*whole).unit.as_deref()),
            MeasureForm::Growth { .. } => format::percent(x),
            MeasureForm::Mean(_) | MeasureForm::Sum(_) => with_unit(&format::plain(x), m.unit.as_deref()),
        }
    }

    /// `label = formula = value`.
    fn measure_formula(&self, m: &Measure) -> String {
        let Some(x) = eval(m, self.a) else { return format!("{} 缺少输入", m.label) };
        let value = self.measure_value(m, x);
        let formula = match &m.form {
            MeasureForm::Input(_) => return format!("{} = {value}", m.label),
            MeasureForm::Ratio { numerator, denominator } => {
                let num = self.terms(numerator);
                let den = match denominator {
                    Denominator::Inputs(ids) => self.terms(ids),
                    Denominator::Constant(c) => format::plain(*c),
                };
                format!("{num} ÷ {den}")
            }
            MeasureForm::Gap { whole, part } => format!("{} − {}", self.bare(*whole), self.bare(*part)),
            MeasureForm::Growth { current, previous } => {
                let (cur, prev) = (self.a.number(*current).unwrap_or(0.0), self.a.number(*previous).unwrap_or(0.0));
                if prev <= 0.0 {
                    let verdict = if cur > 0.0 { "视为大幅增长" } else { "视为无增长" };
                    return format!("{}:上期为 0,本期为 {},{verdict}", m.label, self.input_value(*current));
                }
                format!("({} − {}) ÷ {}", format::count(cur), format::count(prev), format::count(prev))
            }
            MeasureForm::Mean(id) => match self.a.value(*id) {
                Some(Value::List(items)) => {
                    let parts: Vec<String> = items.iter().map(|x| format::plain(*x)).collect();
                    format!("({}) ÷ {}", parts.join(" + "), items.len())
                }
                _ => String::new(),
            },
            MeasureForm::Sum(parts) => parts
                .iter()
                .map(|p| eval(p, self.a).map_or_else(|| "—".to_owned(), format::plain))
                .collect::<Vec<_>>()
                .join(" + "),
        };
        format!("{} = {formula} = {value}", m.label)
    }

    /// A number as written in a formula, without its unit.
    fn bare(&self, id: InputId) -> String {
        let input = self.rubric.input(id);
        self.a.number(id).map_or_else(|| "—".to_owned(), |x| Self::number_as(input.kind, x))
    }

    fn terms(&self, ids: &[InputId]) -> String {
        let parts: Vec<String> = ids.iter().map(|id| self.bare(*id)).collect();
        if parts.len() == 1 { parts.join("") } else { format!("({})", parts.join(" + ")) }
    }

    fn rule_text(&self, rule: &Rule, score: f64) -> String {
        let max = rule.max;
        let got = format::points(score);
        match &rule.scoring {
            Scoring::Judged { .. } => format!("评估专家酌情计分 {got} 分(最高 {} 分)", format::plain(max)),
            Scoring::Flags { items, all_bonus } => self.flags_text(items, *all_bonus, &got),
            Scoring::AnyOf { inputs } => {
                let yes: Vec<&str> = inputs.iter().filter(|id| self.is_true(**id)).map(|id| self.label(*id)).collect();
                if yes.is_empty() {
                    format!("均未开展:{},得 0 分", self.labels(inputs))
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
                    format!("存在:{},得 0 分", yes.join("、"))
                }
            }
            Scoring::Tally { per, terms } => {
                let mut parts = Vec::new();
                let mut n = 0.0;
                for t in terms {
                    let c = term_count(t, self.a).unwrap_or(0.0);
                    n += c;
                    let unit = self.rubric.input(t.input).unit.as_deref().unwrap_or("");
                    let mut part = format!("{} {} {unit}", self.label(t.input), format::plain(c));
                    if let (Some(floor), Some(Value::Table(entries))) = (t.at_least, self.a.value(t.input)) {
                        part = format!(
                            "{}:达到 {} {unit}的 {} 项(共填报 {} 项)",
                            self.label(t.input),
                            format::plain(floor),
                            format::plain(c),
                            entries.len()
                        );
                    }
                    if let Some(cap) = t.cap {
                        part.push_str(&format!("(最多计 {})", format::plain(cap)));
                    }
                    parts.push(part);
                }
                let raw = per * n;
                let tail = if raw > max + EPS {
                    format!("{} × {} = {},超过上限,得 {got} 分", format::plain(*per), format::plain(n), format::plain(raw))
                } else {
                    format!("{} × {} = {got} 分", format::plain(*per), format::plain(n))
                };
                if parts.len() == 1 {
                    format!("{};{tail}", parts[0])
                } else {
                    format!("{},合计 {};{tail}", parts.join(" + "), format::plain(n))
                }
            }
            Scoring::Proportional { measure, rate } => {
                let formula = self.measure_formula(measure);
                let m = eval(measure, self.a).unwrap_or(0.0);
                match rate {
                    Rate::FullAt(full) if m >= full - EPS => {
                        format!("{formula},达到 {},得满分 {got} 分", self.measure_value(measure, *full))
                    }
                    Rate::FullAt(full) => format!(
                        "{formula},低于 {},得 {} × {} ÷ {} = {got} 分",
                        self.measure_value(measure, *full),
                        format::plain(max),
                        self.measure_value(measure, m),
                        self.measure_value(measure, *full)
                    ),
                    Rate::Scale(k) => {
                        let raw = k * m;
                        let shown = if (k - 1.0).abs() < EPS {
                            self.measure_value(measure, m)
                        } else {
                            format!("{} × {}", format::plain(*k), self.measure_value(measure, m))
                        };
                        if (k - 1.0).abs() < EPS && raw > max + EPS {
                            return format!("{formula},超过上限,得 {got} 分");
                        }
                        if raw > max + EPS {
                            format!("{formula},{shown} = {},超过上限,得 {got} 分", format::plain(raw))
                        } else {
                            format!("{formula},得 {shown} = {got} 分")
                        }
                    }
                }
            }
            Scoring::Deduction { measure, better, full, per, step, per_step, requires } => {
                if let Some(flag) = requires {
                    if !self.is_true(*flag) {
                        return format!("尚未{},本项得 0 分", self.label(*flag));
                    }
                }
                let formula = self.measure_formula(measure);
                let m = eval(measure, self.a).unwrap_or(0.0);
                let short = shortfall(m, *better, *full);
                if short <= EPS {
                    return format!("{formula},得满分 {got} 分");
                }
                let n = steps(short, *step, *per_step);
                let per_what = self.step_text(measure, *step);
                let versus = match (better, matches!(measure.form, MeasureForm::Gap { .. }) || *full == 0.0) {
                    (_, true) => String::new(),
                    (Better::Higher, false) => format!(",比 {} 低 {}", self.measure_value(measure, *full), self.measure_value(measure, short)),
                    (Better::Lower, false) => format!(",比 {} 高 {}", self.measure_value(measure, *full), self.measure_value(measure, short)),
                };
                let whole_steps = if *per_step { format!("(按整步计 {} 步)", format::plain(n)) } else { String::new() };
                format!(
                    "{formula}{versus},每{per_what}减 {} 分{whole_steps},得 {} − {} × {} = {got} 分",
                    format::plain(*per),
                    format::plain(max),
                    format::plain(*per),
                    format::plain(n)
                )
            }
            Scoring::Bands { measure, bands, per_step } => {
                let formula = self.measure_formula(measure);
                let m = eval(measure, self.a).unwrap_or(0.0);
                let i = band_index(bands, m);
                let condition = self.band_condition(measure, bands, i);
                match bands.get(i).map(|b| b.value) {
                    Some(BandValue::Line { x0, y0, x1, y1, step }) => {
                        let step = step.filter(|_| *per_step);
                        let dy = y1 - y0;
                        let sign = if dy < 0.0 { "−" } else { "+" };
                        let shown_x = match step {
                            Some(s) => format!("{} 步 × {}", format::plain(((m - x0) / s + EPS).floor()), self.measure_value(measure, s)),
                            None => format!("({} − {})", self.measure_value(measure, m), self.measure_value(measure, x0)),
                        };
                        let raw = line_at(x0, y0, x1, y1, step, m);
                        let capped = if raw > rule.max + EPS { ",超过上限" } else { "" };
                        let over = match step {
                            Some(_) => String::new(),
                            None => format!(" ÷ {}", self.measure_value(measure, x1 - x0)),
                        };
                        format!(
                            "{formula},{condition},得 {} {sign} {} × {shown_x}{over}{capped} = {got} 分",
                            format::plain(y0),
                            format::plain(dy.abs())
                        )
                    }
                    _ => format!("{formula},{condition},得 {got} 分"),
                }
            }
        }
    }

    fn labels(&self, ids: &[InputId]) -> String {
        ids.iter().map(|id| self.label(*id)).collect::<Vec<_>>().join("、")
    }

    /// `1 个`, `1%`, `0.01%`: the size of one step, for "每…减 … 分".
    fn step_text(&self, m: &Measure, step: f64) -> String {
        match &m.form {
            MeasureForm::Gap { whole, .. } => {
                format!(" {} {}", format::plain(step), self.rubric.input(*whole).unit.as_deref().unwrap_or(""))
            }
            _ => format!(" {} ", self.measure_value(m, step)),
        }
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
        let v = |x: f64| self.measure_value(m, x);
        match (lower, upper) {
            (None, Some(Bound::Until(u))) => format!("低于 {}", v(u)),
            (None, Some(Bound::Through(u))) => format!("不超过 {}", v(u)),
            (Some(l), Some(u)) => format!("在 {} 与 {} 之间", v(l.value()), v(u.value())),
            (Some(Bound::Until(l)), None) => format!("不低于 {}", v(l)),
            (Some(Bound::Through(l)), None) => format!("超过 {}", v(l)),
            (None, None) => String::new(),
        }
    }

    // ----- targets -------------------------------------------------------------

    fn rule_target(&self, rule: &Rule) -> String {
        let max = rule.max;
        match &rule.scoring {
            Scoring::Judged { .. } => format!("酌情计分项:补齐佐证材料,由评估专家判定(最高 {} 分)", format::plain(max)),
            Scoring::Flags { items, all_bonus } => {
                let names = short_labels(&items.iter().map(|(id, _)| self.label(*id)).collect::<Vec<_>>());
                let no: Vec<String> = items
                    .iter()
                    .zip(names)
                    .filter(|((id, _), _)| !self.is_true(*id))
                    .map(|((_, p), name)| format!("{name}(+{} 分)", format::plain(*p)))
                    .collect();
                let bonus = all_bonus.map_or_else(String::new, |b| format!(";全部具备另加 {} 分", format::plain(b)));
                format!("还需:{}{bonus}", no.join("、"))
            }
            Scoring::AnyOf { inputs } => format!("开展以下任一项即可得满分:{}", self.labels(inputs)),
            Scoring::NoneOf { inputs } => {
                let yes: Vec<&str> = inputs.iter().filter(|id| self.is_true(**id)).map(|id| self.label(*id)).collect();
                format!("需消除以下情形:{}", yes.join("、"))
            }
            Scoring::Tally { per, terms } => {
                let n = engine::tally(terms, self.a).unwrap_or(0.0);
                let need = format::count((max / per - n - EPS).ceil().max(1.0));
                Self::templated(rule, &need, || format!("还需再计 {need} 项"))
            }
            Scoring::Proportional { measure, rate } => {
                let goal = match rate {
                    Rate::FullAt(f) => *f,
                    Rate::Scale(k) => max / k,
                };
                self.measure_target(rule, measure, Goal { value: goal, strict: false, dir: Dir::Up })
            }
            Scoring::Deduction { measure, better, full, step, per_step, requires, .. } => {
                let goal = match (better, per_step) {
                    (Better::Higher, false) => Goal { value: *full, strict: false, dir: Dir::Up },
                    (Better::Higher, true) => Goal { value: full - step, strict: true, dir: Dir::Up },
                    (Better::Lower, false) => Goal { value: *full, strict: false, dir: Dir::Down },
                    (Better::Lower, true) => Goal { value: full + step, strict: true, dir: Dir::Down },
                };
                let prefix = match requires {
                    Some(flag) if !self.is_true(*flag) => format!("先{}", self.label(*flag)),
                    _ => String::new(),
                };
                let m = eval(measure, self.a).unwrap_or(0.0);
                let rest = if reaches(m, goal) { String::new() } else { self.measure_target(rule, measure, goal) };
                match (prefix.is_empty(), rest.is_empty()) {
                    (false, false) => format!("{prefix};{rest}"),
                    (false, true) => full_marks(&prefix),
                    _ => rest,
                }
            }
            Scoring::Bands { measure, bands, per_step } => match full_marks_goal(bands, max, *per_step) {
                Some(goal) => self.measure_target(rule, measure, goal),
                None => "本项按现有分档无法得满分".to_owned(),
            },
        }
    }

    /// The rule's own phrase for the amount, or a generic one, then "可得满分".
    fn templated(rule: &Rule, amount: &str, generic: impl FnOnce() -> String) -> String {
        let text = match &rule.target {
            Some(t) if t.contains("{n}") => t.replace("{n}", amount),
            _ => generic(),
        };
        full_marks(&text)
    }

    fn measure_target(&self, rule: &Rule, m: &Measure, goal: Goal) -> String {
        if let Some(Lever { input, amount, whole, increase }) = self.lever(m, goal) {
            let input = self.rubric.input(input);
            let unit = input.unit.as_deref().unwrap_or("");
            let verb = if increase { "再增加" } else { "减少" };
            let amount = if whole { format::count(amount) } else { fmt_amount(input.kind, amount) };
            return Self::templated(rule, &amount, || format!("{}{verb} {amount} {unit}", input.label));
        }
        let verb = match (goal.dir, goal.strict) {
            (Dir::Up, false) => "需达到",
            (Dir::Up, true) => "需超过",
            (Dir::Down, false) => "需不高于",
            (Dir::Down, true) => "需低于",
        };
        match &rule.target {
            Some(t) if !t.contains("{n}") => full_marks(t),
            _ => full_marks(&format!("{}{verb} {}", m.label, self.measure_value(m, goal.value))),
        }
    }

    /// Which input to move, and by how much, for the measure to meet the goal.
    fn lever(&self, m: &Measure, goal: Goal) -> Option<Lever> {
        let whole_of = |id: InputId| self.rubric.input(id).kind == InputKind::Count;
        match &m.form {
            MeasureForm::Ratio { numerator, denominator } => {
                let lever = *numerator.first()?;
                let num = engine::sum(numerator, self.a)?;
                let den = match denominator {
                    Denominator::Inputs(ids) => engine::sum(ids, self.a)?,
                    Denominator::Constant(c) => *c,
                };
                let whole = whole_of(lever);
                let target = needed(goal, goal.value * den, whole);
                Some(Lever { input: lever, amount: (target - num).abs(), whole, increase: target > num })
            }
            MeasureForm::Gap { part, whole: total } => {
                let gap = eval(m, self.a)?;
                let allowed = needed(goal, goal.value, whole_of(*total));
                // A smaller gap means a larger part: the part moves against the goal.
                Some(Lever { input: *part, amount: (gap - allowed).max(0.0), whole: whole_of(*part), increase: goal.dir == Dir::Down })
            }
            MeasureForm::Growth { current, previous } => {
                let cur = self.a.number(*current)?;
                let prev = self.a.number(*previous)?;
                let whole = whole_of(*current);
                let allowed = if prev > 0.0 { needed(goal, prev * (1.0 + goal.value), whole) } else { 0.0 };
                Some(Lever { input: *current, amount: (cur - allowed).abs(), whole, increase: allowed > cur })
            }
            MeasureForm::Input(id) if whole_of(*id) => {
                let v = self.a.number(*id)?;
                let target = needed(goal, goal.value, true);
                Some(Lever { input: *id, amount: (target - v).abs(), whole: true, increase: target > v })
            }
            _ => None,
        }
    }

    fn condition(&self, c: &Condition, holds: Option<bool>) -> (String, Option<String>) {
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
                (format!("{}:{value}({verdict})", self.label(*id)), Some(format!("需{}", self.label(*id))))
            }
            Condition::Compare { measure, op, value } => {
                let sign = match op {
                    Op::AtLeast => "≥",
                    Op::AtMost => "≤",
                    Op::Below => "<",
                };
                let formula = if holds.is_some() { self.measure_formula(measure) } else { measure.label.clone() };
                let text = format!("{formula},要求 {sign} {}({verdict})", self.measure_value(measure, *value));
                let goal = match op {
                    Op::AtLeast => Goal { value: *value, strict: false, dir: Dir::Up },
                    Op::AtMost => Goal { value: *value, strict: false, dir: Dir::Down },
                    Op::Below => Goal { value: *value, strict: true, dir: Dir::Down },
                };
                let target = match self.lever(measure, goal) {
                    Some(Lever { input, amount, whole, increase }) => {
                        let input = self.rubric.input(input);
                        let verb = if increase { "再增加" } else { "减少" };
                        let amount = if whole { format::count(amount) } else { fmt_amount(input.kind, amount) };
                        format!("{}{verb} {amount} {}", input.label, input.unit.as_deref().unwrap_or("")).trim_end().to_owned()
                    }
                    None => format!("{}需{}{}", measure.label, op_word(*op), self.measure_value(measure, *value)),
                };
                (text, Some(target))
            }
        }
    }
}

/// The input to move for a goal: by `amount`, up when `increase`.
struct Lever {
    input: InputId,
    amount: f64,
    whole: bool,
    increase: bool,
}

fn op_word(op: Op) -> &'static str {
    match op {
        Op::AtLeast => "达到 ",
        Op::AtMost => "不高于 ",
        Op::Below => "低于 ",
    }
}

fn reaches(m: f64, goal: Goal) -> bool {
    match (goal.dir, goal.strict) {
        (Dir::Up, false) => m >= goal.value - EPS,
        (Dir::Up, true) => m > goal.value + EPS,
        (Dir::Down, false) => m <= goal.value + EPS,
        (Dir::Down, true) => m < goal.value - EPS,
    }
}

/// The value a quantity must take to meet the goal at `bound`: rounded to whole units
/// in the right direction for counts.
fn needed(goal: Goal, bound: f64, whole: bool) -> f64 {
    if !whole {
        return bound;
    }
    match (goal.dir, goal.strict) {
        (Dir::Up, false) => (bound - EPS).ceil(),
        (Dir::Up, true) => (bound + EPS).floor() + 1.0,
        (Dir::Down, false) => (bound + EPS).floor(),
        (Dir::Down, true) => (bound - EPS).ceil() - 1.0,
    }
}

fn fmt_amount(kind: InputKind, x: f64) -> String {
    match kind {
        InputKind::Amount => format::money((x * 100.0).ceil() / 100.0),
        InputKind::Ratio => format::percent(x),
        _ if (x - x.round()).abs() < EPS => format::count(x),
        _ => format::plain((x * 100.0).ceil() / 100.0),
    }
}

/// `text` + 可得满分, with a space after a trailing number or unit in Latin script.
fn full_marks(text: &str) -> String {
    let text = text.trim_end();
    if text.chars().last().is_some_and(|c| c.is_ascii()) {
        format!("{text} 可得满分")
    } else {
        format!("{text}可得满分")
    }
}

fn with_unit(value: &str, unit: Option<&str>) -> String {
    match unit {
        Some(u) if !u.is_empty() && u != "分" => format!("{value} {u}"),
        _ => value.to_owned(),
    }
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

/// Where the bands give full marks: a goal on the measure, if they ever do.
fn full_marks_goal(bands: &[Band], max: f64, per_step: bool) -> Option<Goal> {
    let gives_max = |b: &Band| match b.value {
        BandValue::Points(p) => p >= max - EPS,
        BandValue::Line { y0, y1, .. } => y0.max(y1) >= max - EPS || (y1 - y0).abs() > EPS,
    };
    let first = bands.first()?;
    if matches!(first.value, BandValue::Points(p) if p >= max - EPS) {
        // Full marks at the low end: walk up while the bands still give max.
        let mut goal = match first.upper? {
            Bound::Until(u) => Goal { value: u, strict: true, dir: Dir::Down },
            Bound::Through(u) => Goal { value: u, strict: false, dir: Dir::Down },
        };
        for b in &bands[1..] {
            match b.value {
                BandValue::Points(p) if p >= max - EPS => {
                    goal = match b.upper {
                        Some(Bound::Until(u)) => Goal { value: u, strict: true, dir: Dir::Down },
                        Some(Bound::Through(u)) => Goal { value: u, strict: false, dir: Dir::Down },
                        None => return None,
                    };
                }
                BandValue::Line { x0, y0, x1, y1, .. } if y1 < y0 => {
                    // A falling line still at max where it starts extends the region.
                    let x_max = x0 + (max - y0) * (x1 - x0) / (y1 - y0);
                    if x_max >= goal.value - EPS {
                        goal = Goal { value: x_max, strict: false, dir: Dir::Down };
                    }
                    break;
                }
                _ => break,
            }
        }
        return Some(goal);
    }
    let last = bands.last()?;
    if !gives_max(last) {
        return None;
    }
    let lower = bands.len().checked_sub(2).and_then(|j| bands[j].upper);
    match last.value {
        BandValue::Points(_) => Some(match lower? {
            Bound::Until(l) => Goal { value: l, strict: false, dir: Dir::Up },
            Bound::Through(l) => Goal { value: l, strict: true, dir: Dir::Up },
        }),
        BandValue::Line { x0, y0, x1, y1, step } => {
            if y1 <= y0 {
                return None;
            }
            let mut x = x0 + (max - y0) * (x1 - x0) / (y1 - y0);
            if let (true, Some(s)) = (per_step, step) {
                x = x0 + ((x - x0) / s - EPS).ceil() * s;
            }
            Some(Goal { value: x, strict: false, dir: Dir::Up })
        }
    }
}
