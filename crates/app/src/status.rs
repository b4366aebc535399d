//! Progress of a campaign: by unit (tasks by state, overdue) and by section (inputs
//! missing, evidence items with and without files, points at stake).

use creditcity_store::ReviewState;
use creditcity_rubric::{Rubric, Scorecard};
use creditcity_store::{EvidenceRow, TaskRow, TaskStatus, UnitRow};

#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub units: Vec<UnitProgress>,
    pub sections: Vec<SectionProgress>,
    pub overdue: Vec<Overdue>,
    pub working_total: f64,
    pub confirmed_total: f64,
    pub working_bonus: f64,
    pub veto: bool,
    /// Rules that stored values make invalid (left out of the score), with why.
    pub invalid: Vec<crate::InvalidRule>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UnitProgress {
    pub name: String,
    pub kind: String,
    /// Tasks led or joined, by [`TaskStatus::ALL`] order.
    pub tasks: [usize; 5],
    pub overdue: usize,
    /// Points still lost on the rules of its tasks.
    pub points_at_stake: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SectionProgress {
    pub id: String,
    pub title: String,
    pub max: f64,
    pub working: f64,
    pub confirmed: f64,
    pub inputs: usize,
    pub inputs_missing: usize,
    pub evidence_items: usize,
    pub evidence_items_with_files: usize,
    pub points_at_stake: f64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overdue {
    pub code: String,
    pub title: String,
    pub lead_unit: String,
    pub due_date: String,
    pub status: TaskStatus,
}

/// Whether a task is past its date without having been submitted or accepted.
pub fn is_overdue(task: &TaskRow, today: &str) -> bool {
    is_overdue_state(task.status, task.due_date.as_deref(), today)
}

/// [`is_overdue`] of a task's status and due date (YYYY-MM-DD, Beijing days).
pub fn is_overdue_state(status: TaskStatus, due_date: Option<&str>, today: &str) -> bool {
    let open = !matches!(status, TaskStatus::Submitted | TaskStatus::Accepted);
    open && due_date.is_some_and(|d| d < today)
}

#[allow(clippy::too_many_arguments)]
pub fn compute(
    rubric: &Rubric,
    working: &Scorecard,
    confirmed: &Scorecard,
    units: &[UnitRow],
    tasks: &[TaskRow],
    evidence: &[EvidenceRow],
    today: &str,
) -> Progress {
    let lost = |rule_id: &str| -> f64 {
        rubric.rules.iter().zip(&working.rules).find(|(r, _)| r.id == rule_id).map_or(0.0, |(_, res)| res.lost())
    };
    let unit_progress = units
        .iter()
        .map(|u| {
            let mine: Vec<&TaskRow> =
                tasks.iter().filter(|t| t.involves(u.id) || u.parent_id.is_some_and(|p| t.involves(p))).collect();
            let mut by_state = [0usize; 5];
            for t in &mine {
                let s = t.status;
                if let Some(i) = TaskStatus::ALL.iter().position(|x| *x == s) {
                    by_state[i] += 1;
                }
            }
            let mut rules: Vec<&str> = mine.iter().flat_map(|t| t.rules.iter().map(String::as_str)).collect();
            rules.sort_unstable();
            rules.dedup();
            UnitProgress {
                name: u.name.clone(),
                kind: u.kind.clone(),
                tasks: by_state,
                overdue: mine.iter().filter(|t| is_overdue(t, today)).count(),
                points_at_stake: rules.iter().map(|r| lost(r)).sum(),
            }
        })
        .collect();
    let sections = rubric
        .sections
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let rules = &rubric.rules[s.rules.clone()];
            let results = &working.rules[s.rules.clone()];
            let mut inputs: Vec<_> = rules.iter().flat_map(|r| r.inputs.iter().copied()).collect();
            inputs.sort_unstable();
            inputs.dedup();
            let mut missing: Vec<_> = results.iter().flat_map(|r| r.missing.iter().copied()).collect();
            missing.sort_unstable();
            missing.dedup();
            let items: usize = rules.iter().map(|r| r.evidence.len()).sum();
            let with_files: usize = rules
                .iter()
                .map(|r| {
                    (1..=r.evidence.len())
                        .filter(|&n| {
                            evidence.iter().any(|e| {
                                e.rule_id == r.id && e.item == Some(n as i64) && e.review_state != ReviewState::Returned
                            })
                        })
                        .count()
                })
                .sum();
            SectionProgress {
                id: s.id.clone(),
                title: s.title.clone(),
                max: s.max,
                working: working.sections.get(i).copied().unwrap_or(0.0),
                confirmed: confirmed.sections.get(i).copied().unwrap_or(0.0),
                inputs: inputs.len(),
                inputs_missing: missing.len(),
                evidence_items: items,
                evidence_items_with_files: with_files,
                points_at_stake: results.iter().map(creditcity_rubric::RuleResult::lost).sum(),
            }
        })
        .collect();
    let overdue = tasks
        .iter()
        .filter(|t| is_overdue(t, today))
        .map(|t| Overdue {
            code: t.code.clone(),
            title: t.title.clone(),
            lead_unit: t.lead_unit.clone(),
            due_date: t.due_date.clone().unwrap_or_default(),
            status: t.status,
        })
        .collect();
    Progress {
        units: unit_progress,
        sections,
        overdue,
        working_total: working.total,
        confirmed_total: confirmed.total,
        working_bonus: working.bonus,
        veto: working.veto,
        invalid: Vec::new(),
    }
}
