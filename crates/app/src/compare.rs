//! The comparison of cities: every assessment of the store scored side by side — the
//! working and confirmed totals, the gates, each section against its maximum, the
//! progress of the plan and a rank — grouped by rubric edition and period.
//!
//! Cities on different rubric editions are never ranked together: the editions have
//! different sections, rules and maxima, so their points do not measure the same thing.
//! Two periods of one edition are ranked apart too (they are different campaigns).
//!
//! Scoring goes through the same path as one assessment's pages (`snapshot::scores_of`:
//! stored values validated without ever failing, then the engine), so a city whose
//! stored values break a relation is scored around them and the rules are named. The
//! store is read in three queries whatever the number of cities, and the cities are
//! scored on every core (the scoring part blocks: a server calls this off its async
//! runtime).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use creditcity_rubric::{GateStatus, Meta, Rubric};
use creditcity_store::{AssessmentId, AssessmentRow, CityId, CurrentValue, Location, Store, TaskState, TaskStatus};

use crate::snapshot::scores_of;
use crate::{InvalidRule, Result, Workspace, status};

/// Every assessment of the store, compared.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The Beijing day overdue tasks are counted from.
    pub today: String,
    /// One group per (rubric edition, period), by edition then period; ranks are
    /// within a group only.
    pub groups: Vec<Group>,
    /// Assessments that could not be scored (no rubric of their edition at hand, or
    /// values the store cannot read), with why.
    pub unscored: Vec<Unscored>,
    /// Why the groups are ranked apart (empty when there is at most one group).
    pub notes: Vec<String>,
}

/// The cities of one rubric edition and period, ranked together.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub edition: String,
    pub period: String,
    pub total_max: f64,
    pub bonus_max: f64,
    /// The rubric's sections, in order (the 附加项 last, marked `bonus`).
    pub sections: Vec<SectionHead>,
    /// The rubric's gates (基础性硬指标), in order.
    pub gates: Vec<GateHead>,
    /// The rubric's rules, in order (each section owns a contiguous range).
    pub rules: Vec<RuleHead>,
    /// By rank, then city name.
    pub cities: Vec<CityScore>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SectionHead {
    pub id: String,
    pub title: String,
    pub max: f64,
    pub bonus: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RuleHead {
    pub id: String,
    pub title: String,
    pub max: f64,
    /// Index into [`Group::sections`].
    pub section: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateHead {
    pub id: String,
    pub title: String,
}

/// One city's line.
#[derive(Debug, Clone, PartialEq)]
pub struct CityScore {
    pub assessment_id: AssessmentId,
    pub city_id: CityId,
    pub city: String,
    /// 1 for the best of its group; equal scores share a rank (1, 1, 3).
    pub rank: u32,
    /// All current values.
    pub working: Totals,
    /// Accepted values only.
    pub confirmed: Totals,
    /// The working status of each gate, in [`Group::gates`] order.
    pub gates: Vec<GateStatus>,
    /// Each section's points, in [`Group::sections`] order.
    pub sections: Vec<SectionScore>,
    /// Each rule's working points, in [`Group::rules`] order.
    pub rules: Vec<f64>,
    pub tasks: TaskProgress,
    /// Rules that stored values make invalid (left out of the score), with why.
    pub invalid: Vec<InvalidRule>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Totals {
    /// Sections 1–11, out of [`Group::total_max`].
    pub total: f64,
    /// The 附加项, out of [`Group::bonus_max`].
    pub bonus: f64,
    /// A gate failed (一票否决).
    pub veto: bool,
}

impl Totals {
    pub fn with_bonus(self) -> f64 {
        self.total + self.bonus
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SectionScore {
    pub working: f64,
    pub confirmed: f64,
}

/// The plan's tasks of an assessment, as of [`Comparison::today`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskProgress {
    pub total: usize,
    /// Accepted by the credit office (已通过).
    pub accepted: usize,
    /// Submitted, waiting for review (已提交).
    pub submitted: usize,
    /// Past their date and neither submitted nor accepted.
    pub overdue: usize,
}

impl CityScore {
    /// Gates (passed, failed, undecided).
    pub fn gate_counts(&self) -> (usize, usize, usize) {
        let n = |s: GateStatus| self.gates.iter().filter(|g| **g == s).count();
        (n(GateStatus::Passed), n(GateStatus::Failed), n(GateStatus::Incomplete))
    }
}

/// An assessment left out of the comparison, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unscored {
    pub assessment_id: AssessmentId,
    pub city: String,
    pub edition: String,
    pub period: String,
    pub reason: String,
}

/// Why two groups are not ranked together, as people read it.
pub const EDITIONS_APART: &str =
    "不同版本的细则,部分、评分规则和分值都不相同,得分不可比:每个版本分别排名,不跨版本排名。";
pub const PERIODS_APART: &str = "同一版本细则的不同评估期间是不同的评估,分别排名。";
/// How a group is ranked, as every output says it.
pub const RANKING: &str =
    "排名:同一版本细则、同一评估期间内,按工作得分(含附加项)从高到低;得分相同者并列;一票否决另行标出。";

/// Compares every assessment of the store at `location` with the rubrics at hand (one
/// per edition; an assessment of another edition is listed as unscored).
pub async fn compare(location: &Location, rubrics: &[Rubric], today: &str) -> Result<Comparison> {
    let store = Store::open_existing(location).await?;
    let out = compare_on(&store, &rubrics.iter().collect::<Vec<_>>(), None, today).await;
    store.close().await;
    out
}

impl Workspace {
    /// Every assessment of this workspace's store compared, with this workspace's
    /// rubric (assessments of other editions are listed as unscored).
    pub async fn compare(&self, today: &str) -> Result<Comparison> {
        compare_on(&self.store, &[&self.rubric], None, today).await
    }
}

/// The assessments of `cities` compared, with `rubric`.
pub(crate) async fn compare_cities(store: &Store, rubric: &Rubric, cities: &BTreeSet<CityId>, today: &str) -> Result<Comparison> {
    compare_on(store, &[rubric], Some(cities), today).await
}

async fn compare_on(store: &Store, rubrics: &[&Rubric], only: Option<&BTreeSet<CityId>>, today: &str) -> Result<Comparison> {
    let mut assessments = store.assessments().await?;
    if let Some(only) = only {
        assessments.retain(|a| only.contains(&a.city_id));
    }
    let mut values: HashMap<AssessmentId, Vec<CurrentValue>> = HashMap::new();
    for (id, v) in store.current_raw_all().await? {
        values.entry(id).or_default().push(v);
    }
    let mut tasks: HashMap<AssessmentId, TaskProgress> = HashMap::new();
    for TaskState { assessment_id, status, due_date } in store.task_states_all().await? {
        let t = tasks.entry(assessment_id).or_default();
        t.total += 1;
        match status {
            TaskStatus::Accepted => t.accepted += 1,
            TaskStatus::Submitted => t.submitted += 1,
            _ => {}
        }
        if status::is_overdue_state(status, due_date.as_deref(), today) {
            t.overdue += 1;
        }
    }
    let empty = Vec::new();
    let mut unscored = Vec::new();
    let mut jobs: Vec<(&AssessmentRow, &Rubric, &[CurrentValue])> = Vec::with_capacity(assessments.len());
    for a in &assessments {
        match rubrics.iter().find(|r| r.edition == a.rubric_edition) {
            Some(r) => jobs.push((a, r, values.get(&a.id).unwrap_or(&empty))),
            None => unscored.push(unscored_row(a, format!("没有 {} 版细则,无法评分(可用 --edition 细则文件 提供)", a.rubric_edition))),
        }
    }
    let scored = score_all(&jobs);
    let mut groups: BTreeMap<(String, String), Group> = BTreeMap::new();
    for ((a, rubric, _), outcome) in jobs.iter().zip(scored) {
        let scores = match outcome {
            Ok(s) => s,
            Err(e) => {
                unscored.push(unscored_row(a, format!("存储的数值无法读取:{e}")));
                continue;
            }
        };
        let (_, w) = &scores.working;
        let (_, c) = &scores.confirmed;
        let city = CityScore {
            assessment_id: a.id,
            city_id: a.city_id,
            city: a.city.clone(),
            rank: 0,
            working: Totals { total: w.total, bonus: w.bonus, veto: w.veto },
            confirmed: Totals { total: c.total, bonus: c.bonus, veto: c.veto },
            gates: w.gates.iter().map(|g| g.status).collect(),
            sections: w.sections.iter().zip(&c.sections).map(|(w, c)| SectionScore { working: *w, confirmed: *c }).collect(),
            rules: w.rules.iter().map(|r| r.score).collect(),
            tasks: tasks.get(&a.id).copied().unwrap_or_default(),
            invalid: scores.invalid,
        };
        groups
            .entry((a.rubric_edition.clone(), a.period.clone()))
            .or_insert_with(|| Group {
                edition: rubric.edition.clone(),
                period: a.period.clone(),
                total_max: rubric.total_max,
                bonus_max: rubric.bonus_max,
                sections: rubric.sections.iter().map(|s| SectionHead { id: s.id.clone(), title: s.title.clone(), max: s.max, bonus: s.bonus }).collect(),
                gates: rubric.gates.iter().map(|g| GateHead { id: g.id.clone(), title: g.title.clone() }).collect(),
                rules: rubric
                    .rules
                    .iter()
                    .map(|r| RuleHead { id: r.id.clone(), title: r.title.clone(), max: r.max, section: r.section })
                    .collect(),
                cities: Vec::new(),
            })
            .cities
            .push(city);
    }
    let mut groups: Vec<Group> = groups.into_values().collect();
    for g in &mut groups {
        rank(&mut g.cities);
    }
    let mut notes = Vec::new();
    let editions: std::collections::BTreeSet<&str> = groups.iter().map(|g| g.edition.as_str()).collect();
    if editions.len() > 1 {
        notes.push(EDITIONS_APART.to_owned());
    }
    if groups.len() > editions.len() {
        notes.push(PERIODS_APART.to_owned());
    }
    unscored.sort_by_key(|u| u.assessment_id);
    Ok(Comparison { today: today.to_owned(), groups, unscored, notes })
}

fn unscored_row(a: &AssessmentRow, reason: String) -> Unscored {
    Unscored { assessment_id: a.id, city: a.city.clone(), edition: a.rubric_edition.clone(), period: a.period.clone(), reason }
}

/// Scores every assessment with [`scores_of`], on every core.
fn score_all(jobs: &[(&AssessmentRow, &Rubric, &[CurrentValue])]) -> Vec<Result<crate::Scores>> {
    let one = |(a, rubric, rows): &(&AssessmentRow, &Rubric, &[CurrentValue])| {
        let meta = Meta { city: Some(a.city.clone()), rubric: Some(a.rubric_edition.clone()), period: Some(a.period.clone()), as_of: None };
        scores_of(rubric, &meta, rows)
    };
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get).min(jobs.len());
    if threads <= 1 {
        return jobs.iter().map(one).collect();
    }
    let chunk = jobs.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = jobs.chunks(chunk).map(|part| s.spawn(move || part.iter().map(one).collect::<Vec<_>>())).collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    })
}

/// Ranks a group by working total plus 附加项, highest first; equal cities share a rank
/// (1, 1, 3). A failed gate is shown beside the rank, not folded into it: mid-campaign a
/// city with a gate already failed is not behind one that has entered nothing. Sorts
/// the cities by rank, then name.
fn rank(cities: &mut [CityScore]) {
    // Scores live on a 10⁻⁹ grid; compare them at 10⁻⁶, so that sums equal on paper
    // (80.1 + 5.2 and 80.2 + 5.1) are equal whatever the rounding of their addition.
    let key = |c: &CityScore| -((c.working.with_bonus() * 1e6).round() as i64);
    cities.sort_by(|a, b| key(a).cmp(&key(b)).then_with(|| a.city.cmp(&b.city)).then_with(|| a.assessment_id.cmp(&b.assessment_id)));
    let mut previous = None;
    let mut current = 0u32;
    for (i, c) in cities.iter_mut().enumerate() {
        let k = key(c);
        if previous != Some(k) {
            current = u32::try_from(i + 1).unwrap_or(u32::MAX);
            previous = Some(k);
        }
        c.rank = current;
    }
}

/// The comparison as an .xlsx workbook: a sheet per edition and period, cities ×
/// (rank, totals, gates, sections as a heat map, progress).
pub fn workbook(c: &Comparison) -> Result<Vec<u8>> {
    use creditcity_excel::{CompareRow, CompareSheet};
    let sheets: Vec<CompareSheet> = c
        .groups
        .iter()
        .map(|g| CompareSheet {
            name: format!("{} 版 {}", g.edition, g.period),
            title: format!("{} 版细则 · {} · {} 个城市 · 截至 {}", g.edition, g.period, g.cities.len(), c.today),
            total_max: g.total_max,
            bonus_max: g.bonus_max,
            sections: g
                .sections
                .iter()
                .map(|s| (creditcity_rubric::format::section_heading(&s.id, &s.title), s.max))
                .collect(),
            gates: g.gates.iter().map(|x| x.id.clone()).collect(),
            rows: g
                .cities
                .iter()
                .map(|city| {
                    let (passed, failed, undecided) = city.gate_counts();
                    CompareRow {
                        city: city.city.clone(),
                        rank: city.rank,
                        total: city.working.total,
                        bonus: city.working.bonus,
                        confirmed_total: city.confirmed.total,
                        confirmed_bonus: city.confirmed.bonus,
                        veto: city.working.veto,
                        gates_summary: format!("通过 {passed} · 未通过 {failed} · 待填报 {undecided}"),
                        gates: city.gates.iter().map(|s| s.label().to_owned()).collect(),
                        sections: city.sections.iter().map(|s| s.working).collect(),
                        tasks_accepted: city.tasks.accepted,
                        tasks_total: city.tasks.total,
                        tasks_overdue: city.tasks.overdue,
                    }
                })
                .collect(),
        })
        .collect();
    let mut notes = c.notes.clone();
    notes.push(RANKING.to_owned());
    for u in &c.unscored {
        notes.push(format!("{}({} 版 · {}):{}", u.city, u.edition, u.period, u.reason));
    }
    Ok(creditcity_excel::write_comparison(&sheets, &notes)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn city(name: &str, total: f64, bonus: f64, veto: bool) -> CityScore {
        CityScore {
            assessment_id: AssessmentId(0),
            city_id: CityId(0),
            city: name.to_owned(),
            rank: 0,
            working: Totals { total, bonus, veto },
            confirmed: Totals { total: 0.0, bonus: 0.0, veto: false },
            gates: Vec::new(),
            sections: Vec::new(),
            rules: Vec::new(),
            tasks: TaskProgress::default(),
            invalid: Vec::new(),
        }
    }

    #[test]
    fn ties_share_a_rank_and_a_veto_does_not_move_it() {
        let mut cities = vec![
            city("丙", 80.1, 5.2, false),
            city("甲", 90.0, 0.0, true),
            city("乙", 80.2, 5.1, false),
            city("丁", 70.0, 0.0, false),
        ];
        rank(&mut cities);
        let got: Vec<(&str, u32)> = cities.iter().map(|c| (c.city.as_str(), c.rank)).collect();
        assert_eq!(got, vec![("甲", 1), ("丙", 2), ("乙", 2), ("丁", 4)]);
    }
}
