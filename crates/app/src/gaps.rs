//! The gap plan: where the next points are. For every rule below its maximum and every
//! gate not passed: the points lost, what recovers them (the engine's structured
//! targets, cheapest first, and the text rendered from them), the responsible units,
//! their open tasks and the nearest deadline; ranked by the points one change can
//! still recover this period, and grouped by unit (本单位可争取的分数). Two short
//! lists answer the two questions of a campaign at once: the cheapest next points
//! (`cheapest`) and what lifts the veto (`veto`).

use creditcity_store::UnitId;
use std::collections::BTreeMap;

use creditcity_rubric::explain::Alternative;
use creditcity_rubric::{Assessment, Explanation, GateStatus, InputKind, Rubric, Scorecard, Scoring, Status, explain_gate, explain_rule};
use creditcity_store::{TaskRow, TaskStatus, UnitRow};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Gap {
    pub rule: String,
    pub title: String,
    pub section: String,
    pub score: f64,
    pub max: f64,
    /// Points recoverable: max − score.
    pub lost: f64,
    pub incomplete: bool,
    /// What full marks take, in the rule's own terms (rendered from `targets`).
    pub target: Option<String>,
    /// The structured targets: one input moved each, cheapest first.
    pub targets: Vec<Target>,
    /// Inputs this rule depends on that hold history (本期无法补救).
    pub fixed: Vec<String>,
    /// Points one change can still recover this period: the best gain among the
    /// targets; all that is lost for an incomplete or a judged rule; 0 when only
    /// history could change the score.
    pub recoverable: f64,
    /// Lead and participating units of the tasks that cover the rule.
    pub units: Vec<String>,
    /// Tasks not yet accepted: code, title, status label, due date.
    pub open_tasks: Vec<OpenTask>,
    /// The nearest due date among the open tasks.
    pub deadline: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OpenTask {
    pub code: String,
    pub title: String,
    pub status: String,
    pub due: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GateGap {
    pub gate: String,
    pub title: String,
    pub status: String,
    /// 未通过 / 待填报
    pub status_label: String,
    pub explanation: String,
    pub target: Option<String>,
    /// What meets each failed condition, one input moved each, cheapest first.
    pub targets: Vec<Target>,
    pub fixed: Vec<String>,
}

/// One structured target, as the gap plan, the web and `score --format json` show it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Target {
    /// The input key.
    pub input: String,
    pub label: String,
    pub current: f64,
    pub required: f64,
    /// `at_least`, `at_most`, `below`, `above`: how `required` bounds the input.
    pub relation: &'static str,
    pub delta: f64,
    pub unit: Option<String>,
    /// Points this change alone adds to the rule (0 for a gate).
    pub gain: f64,
    /// It reaches full marks (a gate: it meets that condition).
    pub full: bool,
    /// It meets a condition of this gate …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gate: Option<String>,
    /// … and with it alone the gate passes (its other conditions already hold).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gate_passes: Option<bool>,
    /// For a gate's targets: which of its conditions this one meets (0-based). Targets of
    /// one condition are alternatives (any one will do); every failing condition must be
    /// met for the gate to pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The gain assumes this input (a precondition) is set too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// The size of the change the ordering uses (items, 万元, percentage points; 1 for yes/no).
    pub cost: f64,
    /// The change as people read it: `190 → 288 户(+98)`, `99.6% → 100%`, `否 → 是`.
    pub change: String,
}

impl Target {
    pub fn new(rubric: &Rubric, a: &Alternative) -> Self {
        let input = rubric.input(a.input);
        let unit = if input.kind == InputKind::Bool { None } else { input.unit.clone() };
        let change = change_text(input, a);
        Self {
            input: input.key.clone(),
            label: input.label.clone(),
            current: a.current,
            required: a.required,
            relation: a.relation.as_str(),
            delta: a.delta,
            unit,
            gain: a.gain,
            full: a.full,
            gate: a.gate.clone(),
            gate_passes: a.gate.as_ref().map(|_| a.gate_passes),
            condition: a.condition,
            note: a.note.clone(),
            after: a.after.map(|id| rubric.input(id).key.clone()),
            cost: a.cost,
            change,
        }
    }
}

fn change_text(input: &creditcity_rubric::Input, a: &Alternative) -> String {
    use creditcity_rubric::{Relation, Value, format};
    let yes_no = |x: f64| if x > 0.5 { "是" } else { "否" };
    let word = match a.relation {
        Relation::Below => "低于 ",
        Relation::Above => "高于 ",
        Relation::AtLeast | Relation::AtMost => "",
    };
    match input.kind {
        InputKind::Bool => format!("{} → {}", yes_no(a.current), yes_no(a.required)),
        InputKind::Ratio => {
            // The current value never reads as the required one it misses.
            let mut d = format::percent_decimals(a.current);
            while d < 10 && format::percent_at(a.current, d) == format::percent_at(a.required, d) && (a.current - a.required).abs() > 1e-15 {
                d += 1;
            }
            format!("{} → {word}{}", format::percent_at(a.current, d), format::percent(a.required))
        }
        InputKind::Amount => {
            let sign = if a.delta >= 0.0 { "+" } else { "−" };
            format!("{} → {}({sign}{})", format::input_value(input, &Value::Number(a.current)), format::input_value(input, &Value::Number(a.required)), format::money_at_least(a.delta.abs()))
        }
        _ => {
            let unit = input.unit.as_deref().map_or_else(String::new, |u| format!(" {u}"));
            let sign = if a.delta >= 0.0 { "+" } else { "−" };
            format!("{} → {word}{}{unit}({sign}{})", format::plain(a.current), format::plain(a.required), format::plain(a.delta.abs()))
        }
    }
}

/// One step of the short lists: a target with the rule or gate it serves.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Step {
    /// Rule id, or gate id for a veto step.
    pub of: String,
    pub title: String,
    #[serde(flatten)]
    pub target: Target,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UnitGaps {
    pub unit: String,
    /// Sum of the points recoverable on the rules of its tasks.
    pub recoverable: f64,
    pub rules: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GapPlan {
    pub total: f64,
    pub bonus: f64,
    pub veto: bool,
    /// Ranked by points recoverable, most first.
    pub gaps: Vec<Gap>,
    pub gates: Vec<GateGap>,
    /// The cheapest next points: every target that gains points, by cost per point.
    pub cheapest: Vec<Step>,
    /// What lifts the veto: every target of a failed gate, cheapest first.
    pub lifts_veto: Vec<Step>,
    /// Ranked by points recoverable, most first.
    pub by_unit: Vec<UnitGaps>,
    /// Records to fix: for each input decided by the city's records, the failing records
    /// by unit and the points and gates that depend on them; most points first.
    pub records: Vec<RecordFix>,
}

/// A failed gate with its failing conditions, each with its routes.
pub type VetoRoutes<'p> = (&'p str, Vec<Vec<&'p Step>>);

/// The routes of one gate, by the condition they meet, while grouping.
type ByCondition<'p> = Vec<(Option<usize>, Vec<&'p Step>)>;

impl GapPlan {
    /// What lifts the veto, grouped: each failed gate (in `lifts_veto` order) with its
    /// failing conditions, each with its routes. Routes of one condition are
    /// alternatives; every condition must be met.
    pub fn veto_routes(&self) -> Vec<VetoRoutes<'_>> {
        let mut grouped: Vec<(&str, ByCondition<'_>)> = Vec::new();
        for s in &self.lifts_veto {
            let gate = if let Some(i) = grouped.iter().position(|(g, _)| *g == s.of) {
                i
            } else {
                grouped.push((&s.of, Vec::new()));
                grouped.len() - 1
            };
            let conditions = &mut grouped[gate].1;
            if let Some(c) = conditions.iter_mut().find(|(c, _)| *c == s.target.condition) {
                c.1.push(s);
            } else {
                conditions.push((s.target.condition, vec![s]));
            }
        }
        grouped.into_iter().map(|(g, cs)| (g, cs.into_iter().map(|(_, routes)| routes).collect())).collect()
    }
}

/// "Fix these N records": the failing records behind one derived input.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RecordFix {
    pub input: String,
    pub label: String,
    pub problems: u64,
    /// (unit, count), most first; records naming no known unit as 未匹配单位.
    pub by_unit: Vec<(String, u64)>,
    /// Rules below their max that read the input.
    pub rules: Vec<String>,
    /// Gates not passed that read the input.
    pub gates: Vec<String>,
    /// Points those rules can still recover.
    pub at_stake: f64,
}

/// Ranks the record fixes: for each input, its failing records (from `counts`: the
/// inputs a problem feeds, comma separated; the unit; the count) against what the plan
/// says is at stake.
pub fn record_fixes(rubric: &Rubric, plan: &GapPlan, counts: &[(String, String, u64)]) -> Vec<RecordFix> {
    let mut by_input: std::collections::BTreeMap<&str, Vec<(&str, u64)>> = std::collections::BTreeMap::new();
    for (feeds, unit, n) in counts {
        for key in feeds.split(',').filter(|k| !k.is_empty()) {
            by_input.entry(key).or_default().push((unit.as_str(), *n));
        }
    }
    let mut out: Vec<RecordFix> = by_input
        .into_iter()
        .filter_map(|(key, units)| {
            let id = rubric.input_id(key)?;
            let reads = |inputs: &[creditcity_rubric::InputId]| inputs.contains(&id);
            let rules: Vec<&Gap> = plan.gaps.iter().filter(|g| rubric.rule(&g.rule).is_some_and(|r| reads(&r.inputs))).collect();
            let gates: Vec<String> = plan
                .gates
                .iter()
                .filter(|g| rubric.gates.iter().any(|x| x.id == g.gate && reads(&x.inputs)))
                .map(|g| g.gate.clone())
                .collect();
            let mut merged: Vec<(String, u64)> = Vec::new();
            for (unit, n) in units {
                match merged.iter_mut().find(|(u, _)| u == unit) {
                    Some(m) => m.1 += n,
                    None => merged.push((unit.to_owned(), n)),
                }
            }
            merged.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            Some(RecordFix {
                input: key.to_owned(),
                label: rubric.input(id).label.clone(),
                problems: merged.iter().map(|(_, n)| n).sum(),
                by_unit: merged,
                rules: rules.iter().map(|g| g.rule.clone()).collect(),
                gates,
                at_stake: rules.iter().map(|g| g.recoverable).sum(),
            })
        })
        .filter(|f| !f.rules.is_empty() || !f.gates.is_empty())
        .collect();
    // A failing gate vetoes the city: those first, then by points at stake.
    out.sort_by(|a, b| b.gates.len().min(1).cmp(&a.gates.len().min(1)).then(b.at_stake.total_cmp(&a.at_stake)).then(b.problems.cmp(&a.problems)));
    out
}

/// Computes the gap plan of a scored assessment. Pure: no store, no I/O.
pub fn plan(rubric: &Rubric, a: &Assessment, card: &Scorecard, tasks: &[TaskRow], units: &[UnitRow]) -> GapPlan {
    plan_explained(rubric, a, card, tasks, units, None)
}

/// [`plan`] with every rule's explanation already at hand (`explained`, in rubric
/// order, of the same assessment), as a snapshot keeps them.
pub fn plan_explained(rubric: &Rubric, a: &Assessment, card: &Scorecard, tasks: &[TaskRow], units: &[UnitRow], explained: Option<&[Explanation]>) -> GapPlan {
    let unit_name = |id: UnitId| units.iter().find(|u| u.id == id).map(|u| u.name.clone());
    let mut gaps = Vec::new();
    for (index, (rule, result)) in rubric.rules.iter().zip(&card.rules).enumerate() {
        if result.lost() <= 1e-9 {
            continue;
        }
        let covering: Vec<&TaskRow> = tasks.iter().filter(|t| t.rules.contains(&rule.id)).collect();
        let mut names: Vec<String> = Vec::new();
        for t in &covering {
            for id in std::iter::once(t.lead_unit_id).chain(t.participating_unit_ids.iter().copied()) {
                if let Some(n) = unit_name(id) {
                    if !names.contains(&n) {
                        names.push(n);
                    }
                }
            }
        }
        let open_tasks: Vec<OpenTask> = covering
            .iter()
            .filter(|t| t.status != TaskStatus::Accepted)
            .map(|t| OpenTask {
                code: t.code.clone(),
                title: t.title.clone(),
                status: t.status.label().to_owned(),
                due: t.due_date.clone(),
            })
            .collect();
        let deadline = open_tasks.iter().filter_map(|t| t.due.clone()).min();
        let computed;
        let e = if let Some(e) = explained.and_then(|all| all.get(index)) {
            e
        } else {
            computed = explain_rule(rubric, rule, a, result);
            &computed
        };
        let targets: Vec<Target> = e.alternatives.iter().map(|x| Target::new(rubric, x)).collect();
        let judged = matches!(rule.scoring, Scoring::Judged { .. });
        let recoverable = if result.status() == Status::Incomplete || judged {
            result.lost()
        } else {
            targets.iter().map(|t| t.gain).fold(0.0, f64::max)
        };
        gaps.push(Gap {
            rule: rule.id.clone(),
            title: rule.title.clone(),
            section: rubric.section_of(rule).id.clone(),
            score: result.score,
            max: rule.max,
            lost: result.lost(),
            incomplete: result.status() == Status::Incomplete,
            target: e.target.clone(),
            targets,
            fixed: e.fixed.iter().map(|id| rubric.input(*id).key.clone()).collect(),
            recoverable,
            units: names,
            open_tasks,
            deadline,
        });
    }
    // Most points recoverable first; then the cheaper first step; then the nearer
    // deadline; then rubric order (stable sort).
    let first_cost = |g: &Gap| g.targets.first().map_or(f64::INFINITY, |t| t.cost);
    gaps.sort_by(|x, y| {
        y.recoverable
            .total_cmp(&x.recoverable)
            .then_with(|| first_cost(x).total_cmp(&first_cost(y)))
            .then_with(|| x.deadline.cmp(&y.deadline))
    });
    let mut cheapest: Vec<Step> = gaps
        .iter()
        .flat_map(|g| g.targets.iter().filter(|t| t.gain > 1e-9).map(|t| Step { of: g.rule.clone(), title: g.title.clone(), target: t.clone() }))
        .collect();
    cheapest.sort_by(|x, y| (x.target.cost / x.target.gain).total_cmp(&(y.target.cost / y.target.gain)));
    let gates = rubric
        .gates
        .iter()
        .zip(&card.gates)
        .filter(|(_, r)| r.status != GateStatus::Passed)
        .map(|(g, r)| {
            let e = explain_gate(rubric, g, a, r);
            GateGap {
                gate: g.id.clone(),
                title: g.title.clone(),
                status: r.status.as_str().to_owned(),
                status_label: r.status.label().to_owned(),
                explanation: e.text,
                target: e.target,
                targets: e.alternatives.iter().map(|x| Target::new(rubric, x)).collect(),
                fixed: e.fixed.iter().map(|id| rubric.input(*id).key.clone()).collect(),
            }
        })
        .collect::<Vec<GateGap>>();
    let mut lifts_veto: Vec<Step> = gates
        .iter()
        .filter(|g| g.status == GateStatus::Failed.as_str())
        .flat_map(|g| g.targets.iter().map(|t| Step { of: g.gate.clone(), title: g.title.clone(), target: t.clone() }))
        .collect();
    lifts_veto.sort_by(|x, y| x.target.cost.total_cmp(&y.target.cost));
    let mut by_unit: BTreeMap<String, UnitGaps> = BTreeMap::new();
    for g in &gaps {
        for u in &g.units {
            let entry = by_unit.entry(u.clone()).or_insert_with(|| UnitGaps { unit: u.clone(), recoverable: 0.0, rules: Vec::new() });
            entry.recoverable += g.recoverable;
            entry.rules.push(g.rule.clone());
        }
    }
    let mut by_unit: Vec<UnitGaps> = by_unit.into_values().collect();
    by_unit.sort_by(|x, y| y.recoverable.total_cmp(&x.recoverable));
    GapPlan { total: card.total, bonus: card.bonus, veto: card.veto, gaps, gates, cheapest, lifts_veto, by_unit, records: Vec::new() }
}
