//! The campaign as a whole: the dashboard (totals, a chart of the scores over time,
//! sections, gates, rules made invalid by stored values, units), the rules, one rule,
//! and the gap plan with its what-ifs. For the roles that see everything.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use creditcity_app::timeline::DayScore;
use creditcity_app::{AppError, ReviewState, Snapshot};
use creditcity_rubric::{Assessment, GateStatus, InputId, Rubric, Scorecard, Status, explain_gate, format};
use creditcity_store::{EvidenceId, TaskStatus, UnitId};
use serde::Serialize;

use super::{Spec, cached_page, cached_page_at, flash, page, see_other, snapshot};
use crate::AppState;
use crate::auth::{Auth, Overview};
use crate::error::WebError;
use crate::views::{self, LabelGroup, group_labels};

type Shared = State<Arc<AppState>>;

#[derive(Serialize)]
struct DashboardView {
    working_total: String,
    working_bonus: String,
    confirmed_total: String,
    veto: bool,
    gates_passed: usize,
    gates_failed: usize,
    gates_incomplete: usize,
    tasks_done: usize,
    tasks_total: usize,
    overdue: usize,
    sections: Vec<SectionBar>,
    gates: Vec<GateView>,
    at_stake: Vec<AtStake>,
    units: Vec<UnitProgressView>,
    chart: Chart,
    invalid: Vec<InvalidView>,
}

#[derive(Serialize)]
struct SectionBar {
    label: String,
    score: String,
    max: String,
    max_width: f64,
    score_width: f64,
}

/// A gate with its status, explanation and (unless passed) what passing takes.
#[derive(Serialize)]
pub struct GateView {
    id: String,
    title: String,
    status: &'static str,
    status_label: &'static str,
    explanation: String,
    target: Option<String>,
    /// The gate's inputs that come from the records: their formula and failing records.
    records: Vec<GateRecord>,
}

/// An input of a gate derived from the city's records.
#[derive(Serialize)]
pub struct GateRecord {
    key: String,
    label: String,
    formula: String,
    failing: i64,
}

#[derive(Serialize)]
struct AtStake {
    id: String,
    title: String,
    score: String,
    max: String,
    target: Option<String>,
}

#[derive(Serialize)]
struct UnitProgressView {
    id: UnitId,
    name: String,
    tasks: [usize; 5],
    overdue: usize,
}

/// A rule that stored values make invalid, and why: left out of the score.
#[derive(Serialize)]
pub struct InvalidView {
    rule: String,
    title: String,
    reasons: Vec<String>,
}

/// The working and the confirmed score over the campaign, as an inline SVG drawn by
/// the template from these coordinates (no script: the CSP allows none).
#[derive(Serialize)]
struct Chart {
    working: String,
    confirmed: String,
    dots: Vec<Dot>,
    first: String,
    last: String,
    last_x: f64,
    ticks: Vec<Tick>,
}

#[derive(Serialize)]
struct Dot {
    x: f64,
    working_y: f64,
    confirmed_y: f64,
    title: String,
}

#[derive(Serialize)]
struct Tick {
    y: f64,
    label: u32,
}

const CHART_LEFT: f64 = 40.0;
const CHART_RIGHT: f64 = 540.0;
const CHART_TOP: f64 = 10.0;
const CHART_BOTTOM: f64 = 170.0;

fn chart(timeline: &[DayScore]) -> Chart {
    let day = |d: &str| time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).map(time::Date::to_julian_day).ok();
    let first = timeline.first().and_then(|d| day(&d.date)).unwrap_or(0);
    let last = timeline.last().and_then(|d| day(&d.date)).unwrap_or(first);
    let span = f64::from((last - first).max(1));
    let x = |d: &DayScore| {
        if timeline.len() < 2 { f64::midpoint(CHART_LEFT, CHART_RIGHT) } else { CHART_LEFT + f64::from(day(&d.date).unwrap_or(first) - first) / span * (CHART_RIGHT - CHART_LEFT) }
    };
    let y = |score: f64| CHART_BOTTOM - score.clamp(0.0, 100.0) / 100.0 * (CHART_BOTTOM - CHART_TOP);
    let round = |v: f64| (v * 10.0).round() / 10.0;
    let line = |pick: fn(&DayScore) -> f64| timeline.iter().map(|d| format!("{},{}", round(x(d)), round(y(pick(d))))).collect::<Vec<_>>().join(" ");
    Chart {
        working: line(|d| d.working),
        confirmed: line(|d| d.confirmed),
        dots: timeline
            .iter()
            .map(|d| Dot {
                x: round(x(d)),
                working_y: round(y(d.working)),
                confirmed_y: round(y(d.confirmed)),
                title: format!("{}:工作得分 {},确认得分 {}", d.date, format::points(d.working), format::points(d.confirmed)),
            })
            .collect(),
        first: timeline.first().map(|d| d.date.clone()).unwrap_or_default(),
        last: timeline.last().map(|d| d.date.clone()).unwrap_or_default(),
        last_x: CHART_RIGHT,
        ticks: [0, 25, 50, 75, 100].into_iter().map(|t| Tick { y: round(y(f64::from(t))), label: t }).collect(),
    }
}

/// The invalid rules of a snapshot with their titles.
fn invalid_views(r: &Rubric, snap: &Snapshot) -> Vec<InvalidView> {
    snap.progress
        .invalid
        .iter()
        .map(|i| InvalidView { rule: i.rule_id.clone(), title: r.rule(&i.rule_id).map(|x| x.title.clone()).unwrap_or_default(), reasons: i.reasons.clone() })
        .collect()
}

fn dashboard_view(s: &AppState, snap: &Snapshot, failing: &HashMap<String, i64>) -> DashboardView {
    let r = s.workspaces.rubric();
    let (scores, progress) = (&snap.scores, &snap.progress);
    let (a, card) = &scores.working;
    let sections = r
        .sections
        .iter()
        .zip(&card.sections)
        .map(|(sec, score)| {
            let label = if sec.bonus { "附加项".to_owned() } else { format::section_heading(&sec.id, &sec.title) };
            SectionBar {
                label: label.chars().take(11).collect(),
                score: format::points(*score),
                max: format::plain(sec.max),
                max_width: (sec.max * 14.0).round(),
                score_width: (score * 14.0).round(),
            }
        })
        .collect();
    let explained = snap.explanations(r);
    let mut ranked: Vec<_> = r.rules.iter().zip(&card.rules).zip(explained).filter(|((_, res), _)| res.lost() > 1e-9).collect();
    ranked.sort_by(|x, y| y.0.1.lost().total_cmp(&x.0.1.lost()));
    let at_stake = ranked
        .iter()
        .take(10)
        .map(|((rule, res), e)| AtStake {
            id: rule.id.clone(),
            title: rule.title.clone(),
            score: format::points(res.score),
            max: format::plain(rule.max),
            target: e.target.clone(),
        })
        .collect();
    let units = progress
        .units
        .iter()
        .filter(|u| u.tasks.iter().sum::<usize>() > 0)
        .filter_map(|u| snap.plan.units.iter().find(|x| x.name == u.name).map(|x| UnitProgressView { id: x.id, name: u.name.clone(), tasks: u.tasks, overdue: u.overdue }))
        .collect();
    let count = |st: GateStatus| card.gates.iter().filter(|g| g.status == st).count();
    DashboardView {
        working_total: format::points(card.total),
        working_bonus: format::points(card.bonus),
        confirmed_total: format::points(scores.confirmed.1.total),
        veto: card.veto,
        gates_passed: count(GateStatus::Passed),
        gates_failed: count(GateStatus::Failed),
        gates_incomplete: count(GateStatus::Incomplete),
        tasks_done: snap.plan.tasks.iter().filter(|t| t.status == TaskStatus::Accepted).count(),
        tasks_total: snap.plan.tasks.len(),
        overdue: progress.overdue.len(),
        sections,
        gates: {
            let mut gates = gates_json(r, a, card);
            gate_records(r, snap, failing, &mut gates);
            gates
        },
        at_stake,
        units,
        chart: chart(&snap.timeline),
        invalid: invalid_views(r, snap),
    }
}

pub async fn dashboard(State(s): Shared, auth: Auth, Query(q): Query<HashMap<String, String>>) -> Result<Response, WebError> {
    if !auth.user.role.sees_everything() {
        return match auth.user.unit_id {
            Some(u) => Ok(see_other(&format!("/units/{u}"))),
            None => Err(WebError::Forbidden),
        };
    }
    // The content differs only by whether the user may download the evidence package.
    let spec = Spec { template: "dashboard.html", nav: "dashboard", title: "总览", key: format!("dashboard:{}", auth.user.role.reviews()) };
    let snap = snapshot(&auth).await?;
    let failing = super::data::failing_counts(&s, &auth, &snap).await?;
    cached_page_at(&s, &auth, &snap, spec, flash(&q), move |s, snap| Ok(dashboard_view(s, snap, &failing))).await
}

/// Every gate with its status, explanation and (unless passed) what passing takes.
pub fn gates_json(r: &Rubric, a: &Assessment, card: &Scorecard) -> Vec<GateView> {
    r.gates
        .iter()
        .zip(&card.gates)
        .map(|(g, res)| {
            let e = explain_gate(r, g, a, res);
            GateView {
                id: g.id.clone(),
                title: g.title.clone(),
                status: res.status.as_str(),
                status_label: res.status.label(),
                explanation: e.text,
                target: if res.status == GateStatus::Passed { None } else { e.target },
                records: Vec::new(),
            }
        })
        .collect()
}

#[derive(Serialize)]
struct RulesView {
    sections: Vec<SectionRules>,
}

#[derive(Serialize)]
struct SectionRules {
    /// The section's id: the page's anchor `#s{id}` (the comparison of cities links to it).
    id: String,
    heading: String,
    score: String,
    max: String,
    rules: Vec<RuleRow>,
}

#[derive(Serialize)]
struct RuleRow {
    id: String,
    title: String,
    hi: Option<u8>,
    score: String,
    max: String,
    status: &'static str,
    status_label: &'static str,
    invalid: bool,
    evidence_with: usize,
    evidence_items: usize,
}

fn rules_view(s: &AppState, snap: &Snapshot) -> RulesView {
    let r = s.workspaces.rubric();
    let card = &snap.scores.working.1;
    // Checklist items with a file that was not returned, by rule.
    let mut with: HashMap<&str, std::collections::BTreeSet<i64>> = HashMap::new();
    for e in snap.evidence.iter().filter(|e| e.review_state != ReviewState::Returned) {
        if let Some(item) = e.item {
            with.entry(e.rule_id.as_str()).or_default().insert(item);
        }
    }
    let sections = r
        .sections
        .iter()
        .enumerate()
        .map(|(i, sec)| SectionRules {
            id: sec.id.clone(),
            heading: if sec.bonus { sec.title.clone() } else { format::section_heading(&sec.id, &sec.title) },
            score: format::points(card.sections.get(i).copied().unwrap_or(0.0)),
            max: format::plain(sec.max),
            rules: r.rules[sec.rules.clone()]
                .iter()
                .zip(&card.rules[sec.rules.clone()])
                .map(|(rule, res)| {
                    let n = rule.evidence.len() as i64;
                    RuleRow {
                        id: rule.id.clone(),
                        title: rule.title.clone(),
                        hi: rule.hi,
                        score: format::points(res.score),
                        max: format::plain(rule.max),
                        status: res.status().as_str(),
                        status_label: if res.status() == Status::Scored { "已计分" } else { "待填报" },
                        invalid: snap.progress.invalid.iter().any(|x| x.rule_id == rule.id),
                        evidence_with: with.get(rule.id.as_str()).map_or(0, |items| items.iter().filter(|i| (1..=n).contains(*i)).count()),
                        evidence_items: rule.evidence.len(),
                    }
                })
                .collect(),
        })
        .collect();
    RulesView { sections }
}

pub async fn rules(State(s): Shared, Overview(auth): Overview) -> Result<Response, WebError> {
    let spec = Spec { template: "rules.html", nav: "rules", title: "评估指标", key: "rules".to_owned() };
    cached_page(&s, &auth, spec, (None, ""), |s, snap| Ok(rules_view(s, snap))).await
}

#[derive(Serialize)]
struct RuleView {
    rule: RuleText,
    section: String,
    score: String,
    max: String,
    explanation: String,
    target: Option<String>,
    invalid: Option<Vec<String>>,
    inputs: Vec<RuleInput>,
    checklist: Vec<ChecklistItem>,
    loose: Vec<FileView>,
}

#[derive(Serialize)]
struct RuleText {
    id: String,
    title: String,
    hi: Option<u8>,
    standard: String,
    detail: String,
}

#[derive(Serialize)]
struct RuleInput {
    key: String,
    label: String,
    unit_of_measure: Option<String>,
    current: Option<CurrentView>,
    history: usize,
    /// For an input the city's records decide: the formula with its counts, and how
    /// many records lower it.
    records: Option<RecordsView>,
}

#[derive(Serialize)]
struct RecordsView {
    formula: Option<String>,
    failing: i64,
}

/// Whether an input can be derived from the city's records.
fn derivable(key: &str) -> bool {
    creditcity_data::InputKey::ALL.iter().any(|k| k.key() == key)
}

/// The formula of a value from the records (the counts behind it), if it is one.
fn records_formula(snap: &Snapshot, key: &str) -> Option<String> {
    snap.current.iter().find(|v| v.input_key == key && v.source_kind == creditcity_app::SourceKind::Dataset).map(|v| v.note.clone()).filter(|n| !n.is_empty())
}

/// The gates' inputs that come from the records, each with its formula and failing records.
fn gate_records(r: &Rubric, snap: &Snapshot, failing: &HashMap<String, i64>, gates: &mut [GateView]) {
    for (g, view) in r.gates.iter().zip(gates.iter_mut()) {
        for id in &g.inputs {
            let input = r.input(*id);
            if let Some(formula) = records_formula(snap, &input.key) {
                view.records.push(GateRecord { key: input.key.clone(), label: input.label.clone(), formula, failing: failing.get(&input.key).copied().unwrap_or(0) });
            }
        }
    }
}

#[derive(Serialize)]
struct CurrentView {
    value: String,
    source: String,
    set_by: String,
    set_at: String,
    note: Option<String>,
    review_state: &'static str,
    review_label: &'static str,
}

#[derive(Serialize)]
struct ChecklistItem {
    text: String,
    files: Vec<FileView>,
}

#[derive(Serialize)]
struct FileView {
    id: EvidenceId,
    name: String,
    unit: Option<String>,
    size: String,
    review_state: &'static str,
    review_label: &'static str,
    image: bool,
}

fn rule_view(r: &Rubric, snap: &Snapshot, index: usize, failing: &HashMap<String, i64>) -> RuleView {
    let rule = &r.rules[index];
    let card = &snap.scores.working.1;
    let e = &snap.explanations(r)[index];
    let inputs = rule
        .inputs
        .iter()
        .map(|id| {
            let input = r.input(*id);
            let row = snap.current.iter().find(|v| v.input_key == input.key);
            RuleInput {
                key: input.key.clone(),
                label: input.label.clone(),
                unit_of_measure: input.unit.clone(),
                current: row.map(|v| CurrentView {
                    value: views::value(input, &v.value_json),
                    source: views::source(v.unit.as_deref(), v.source_kind, &v.source_ref),
                    set_by: v.set_by.clone(),
                    set_at: views::when(&v.set_at),
                    note: Some(v.note.clone()).filter(|n| !n.is_empty()),
                    review_state: v.review_state.as_str(),
                    review_label: v.review_state.label(),
                }),
                history: snap.history_counts.get(&input.key).copied().unwrap_or(0),
                records: derivable(&input.key)
                    .then(|| RecordsView { formula: records_formula(snap, &input.key), failing: failing.get(&input.key).copied().unwrap_or(0) })
                    .filter(|x| x.formula.is_some() || x.failing > 0),
            }
        })
        .collect();
    let file = |e: &creditcity_store::EvidenceRow| FileView {
        id: e.id,
        name: e.original_name.clone(),
        unit: e.unit.clone(),
        size: views::size(e.size),
        review_state: e.review_state.as_str(),
        review_label: e.review_state.label(),
        image: e.media_type.starts_with("image/"),
    };
    let mine: Vec<_> = snap.evidence.iter().filter(|e| e.rule_id == rule.id).collect();
    let checklist = rule
        .evidence
        .iter()
        .enumerate()
        .map(|(i, text)| ChecklistItem { text: text.clone(), files: mine.iter().filter(|e| e.item == Some(i as i64 + 1)).map(|e| file(e)).collect() })
        .collect();
    let sec = r.section_of(rule);
    RuleView {
        rule: RuleText { id: rule.id.clone(), title: rule.title.clone(), hi: rule.hi, standard: rule.standard.clone(), detail: rule.detail_text().to_owned() },
        section: format::section_heading(&sec.id, &sec.title),
        score: format::points(card.rules[index].score),
        max: format::plain(rule.max),
        explanation: e.text.clone(),
        target: e.target.clone(),
        invalid: snap.progress.invalid.iter().find(|x| x.rule_id == rule.id).map(|x| x.reasons.clone()),
        inputs,
        checklist,
        loose: mine.iter().filter(|e| e.item.is_none()).map(|e| file(e)).collect(),
    }
}

pub async fn rule(State(s): Shared, Overview(auth): Overview, Path(id): Path<String>) -> Result<Response, WebError> {
    let r = s.workspaces.rubric();
    let Some(index) = r.rules.iter().position(|x| x.id == id) else { return Err(WebError::NotFound) };
    let rule = &r.rules[index];
    let title = format!("{} {}", rule.id, rule.title);
    let spec = Spec { template: "rule.html", nav: "rules", title: &title, key: format!("rule:{index}") };
    let snap = snapshot(&auth).await?;
    let failing = super::data::failing_counts(&s, &auth, &snap).await?;
    cached_page_at(&s, &auth, &snap, spec, (None, ""), move |s, snap| Ok(rule_view(s.workspaces.rubric(), snap, index, &failing))).await
}

#[derive(Serialize)]
struct GapsView {
    what_if: Vec<WhatIf>,
    error: Option<String>,
    before: Option<Before>,
    total: String,
    bonus: String,
    veto: bool,
    recoverable: String,
    gaps: Vec<GapRow>,
    gates: Vec<creditcity_app::gaps::GateGap>,
    by_unit: Vec<UnitGapRow>,
    /// What lifts the veto: each failed gate with its routes (either-or within a
    /// condition, every condition together).
    lifts_veto: Vec<VetoRow>,
    /// The cheapest next points, from the structured targets.
    cheapest: Vec<StepRow>,
}

#[derive(Serialize)]
struct VetoRow {
    gate: String,
    /// One entry a condition; each lists its alternatives.
    conditions: Vec<Vec<String>>,
}

#[derive(Serialize)]
struct StepRow {
    of: String,
    label: String,
    change: String,
    gain: String,
}

#[derive(Serialize, Clone)]
struct WhatIf {
    key: String,
    value: String,
}

#[derive(Serialize)]
struct Before {
    total: String,
    bonus: String,
    veto: bool,
}

#[derive(Serialize)]
struct GapRow {
    rule: String,
    title: String,
    score: String,
    max: String,
    lost: String,
    /// The inputs still missing, labelled and grouped; when there are any they say
    /// what to do instead of the engine's target (which names raw keys).
    missing: Vec<LabelGroup>,
    target: Option<String>,
    units: String,
    deadline: Option<String>,
    tasks: String,
}

#[derive(Serialize)]
struct UnitGapRow {
    unit: String,
    recoverable: String,
    rules: String,
}

/// The inputs a rule still lacks, by label, grouped.
pub fn missing_groups(r: &Rubric, missing: &[InputId]) -> Vec<LabelGroup> {
    group_labels(missing.iter().map(|id| r.input(*id).label.as_str()))
}

fn gaps_view(r: &Rubric, plan: &creditcity_app::gaps::GapPlan, card: &Scorecard, what_if: Vec<WhatIf>, error: Option<String>, before: Option<Before>) -> GapsView {
    let gaps = plan
        .gaps
        .iter()
        .map(|g| {
            let missing = r.rules.iter().position(|x| x.id == g.rule).map_or_else(Vec::new, |i| missing_groups(r, &card.rules[i].missing));
            GapRow {
                rule: g.rule.clone(),
                title: g.title.clone(),
                score: format::points(g.score),
                max: format::plain(g.max),
                lost: format::points(g.lost),
                target: if missing.is_empty() { g.target.clone() } else { None },
                missing,
                units: g.units.join("、"),
                deadline: g.deadline.clone(),
                tasks: g.open_tasks.iter().map(|t| format!("{} {}({})", t.code, t.title, t.status)).collect::<Vec<_>>().join(";"),
            }
        })
        .collect();
    GapsView {
        what_if,
        error,
        before,
        total: format::points(plan.total),
        bonus: format::points(plan.bonus),
        veto: plan.veto,
        recoverable: format::points(plan.gaps.iter().map(|g| g.recoverable).sum::<f64>()),
        gaps,
        gates: plan.gates.clone(),
        lifts_veto: veto_rows(plan),
        cheapest: plan
            .cheapest
            .iter()
            .take(12)
            .map(|s| StepRow { of: s.of.clone(), label: s.target.label.clone(), change: s.target.change.clone(), gain: format::points(s.target.gain) })
            .collect(),
        by_unit: plan.by_unit.iter().map(|u| UnitGapRow { unit: u.unit.clone(), recoverable: format::points(u.recoverable), rules: u.rules.join("、") }).collect(),
    }
}

fn veto_rows(plan: &creditcity_app::gaps::GapPlan) -> Vec<VetoRow> {
    plan.veto_routes()
        .into_iter()
        .map(|(gate, conditions)| VetoRow {
            gate: gate.to_owned(),
            conditions: conditions
                .iter()
                .map(|routes| routes.iter().take(3).map(|s| format!("{}:{}", s.target.label, s.target.change)).collect())
                .collect(),
        })
        .collect()
}

/// The gap plan of the stored values (computed from the snapshot, so that it answers
/// even when some stored values are invalid).
fn current_gaps(s: &AppState, snap: &Snapshot) -> (creditcity_app::gaps::GapPlan, Scorecard) {
    (snap.gap_plan(s.workspaces.rubric()).clone(), snap.scores.working.1.clone())
}

const WHAT_IF_ROWS: usize = 5;

pub async fn gaps(State(s): Shared, Overview(auth): Overview, Query(q): Query<HashMap<String, String>>) -> Result<Response, WebError> {
    let mut what_if = Vec::new();
    let mut rows = Vec::new();
    for i in 0..WHAT_IF_ROWS {
        let key = q.get(&format!("k{i}")).map(|v| v.trim().to_owned()).unwrap_or_default();
        let value = q.get(&format!("v{i}")).map(|v| v.trim().to_owned()).unwrap_or_default();
        if !key.is_empty() {
            what_if.push((key.clone(), value.clone()));
        }
        rows.push(WhatIf { key, value });
    }
    if what_if.is_empty() {
        let spec = Spec { template: "gaps.html", nav: "gaps", title: "失分分析", key: "gaps".to_owned() };
        return cached_page(&s, &auth, spec, (None, ""), move |s, snap| {
            let (plan, card) = current_gaps(s, snap);
            Ok(gaps_view(s.workspaces.rubric(), &plan, &card, rows, None, None))
        })
        .await;
    }
    let snap = snapshot(&auth).await?;
    let r = s.workspaces.rubric();
    let view = match auth.ws.gap_plan(&what_if).await {
        Ok((plan, card)) => {
            let (b, _) = current_gaps(&s, &snap);
            let before = Before { total: format::points(b.total), bonus: format::points(b.bonus), veto: b.veto };
            gaps_view(r, &plan, &card, rows, None, Some(before))
        }
        Err(AppError::Inputs(e)) => {
            let (plan, card) = current_gaps(&s, &snap);
            gaps_view(r, &plan, &card, rows, Some(e.to_string()), None)
        }
        Err(e) => return Err(e.into()),
    };
    page(&s, &auth, "gaps.html", "gaps", "失分分析", (None, ""), &view)
}
