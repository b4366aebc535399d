//! The gap plan: where the next points are. For every rule below its maximum and every
//! gate not passed: the points lost, what recovers them (the engine's target), the
//! responsible units, their open tasks and the nearest deadline; ranked by points
//! recoverable and grouped by unit (本单位可争取的分数).

use std::collections::BTreeMap;

use creditcity_rubric::{Assessment, GateStatus, Rubric, Scorecard, Status, explain_gate, explain_rule};
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
    /// What full marks take, in the rule's own terms.
    pub target: Option<String>,
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

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct GateGap {
    pub gate: String,
    pub title: String,
    pub status: String,
    /// 未通过 / 待填报
    pub status_label: String,
    pub explanation: String,
    pub target: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UnitGaps {
    pub unit: String,
    /// Sum of the points lost on the rules of its tasks.
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
    /// Ranked by points recoverable, most first.
    pub by_unit: Vec<UnitGaps>,
}

/// Computes the gap plan of a scored assessment. Pure: no store, no I/O.
pub fn plan(rubric: &Rubric, a: &Assessment, card: &Scorecard, tasks: &[TaskRow], units: &[UnitRow]) -> GapPlan {
    let unit_name = |id: i64| units.iter().find(|u| u.id == id).map(|u| u.name.clone());
    let mut gaps = Vec::new();
    for (rule, result) in rubric.rules.iter().zip(&card.rules) {
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
            .filter(|t| t.status != TaskStatus::Accepted.as_str())
            .map(|t| OpenTask {
                code: t.code.clone(),
                title: t.title.clone(),
                status: TaskStatus::parse(&t.status).map_or_else(|| t.status.clone(), |s| s.label().to_owned()),
                due: t.due_date.clone(),
            })
            .collect();
        let deadline = open_tasks.iter().filter_map(|t| t.due.clone()).min();
        let e = explain_rule(rubric, rule, a, result);
        gaps.push(Gap {
            rule: rule.id.clone(),
            title: rule.title.clone(),
            section: rubric.section_of(rule).id.clone(),
            score: result.score,
            max: rule.max,
            lost: result.lost(),
            incomplete: result.status() == Status::Incomplete,
            target: e.target,
            units: names,
            open_tasks,
            deadline,
        });
    }
    // Most points first; then the nearer deadline; then rubric order (stable sort).
    gaps.sort_by(|x, y| y.lost.total_cmp(&x.lost).then_with(|| x.deadline.cmp(&y.deadline)));
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
            }
        })
        .collect();
    let mut by_unit: BTreeMap<String, UnitGaps> = BTreeMap::new();
    for g in &gaps {
        for u in &g.units {
            let entry = by_unit.entry(u.clone()).or_insert_with(|| UnitGaps { unit: u.clone(), recoverable: 0.0, rules: Vec::new() });
            entry.recoverable += g.lost;
            entry.rules.push(g.rule.clone());
        }
    }
    let mut by_unit: Vec<UnitGaps> = by_unit.into_values().collect();
    by_unit.sort_by(|x, y| y.recoverable.total_cmp(&x.recoverable));
    GapPlan { total: card.total, bonus: card.bonus, veto: card.veto, gaps, gates, by_unit }
}
