//! The comparison of cities (城市对比): the assessments of the cities the account may
//! see, side by side, by rubric edition and period — totals, gates, sections and rules
//! as heat maps, progress, rank — and the same as .xlsx. For the roles that see
//! everything; a unit's staff never see other cities.
//!
//! A cell of a city's served assessment links to that city's rule (through
//! `/cities/{id}`, which switches the session to the city); other periods' cells are
//! shown without links.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Response;
use creditcity_app::compare::{CityScore, Comparison, Group, RANKING};
use creditcity_store::{AssessmentId, CityId};
use creditcity_rubric::{GateStatus, format};
use serde::Serialize;

use super::{Spec, cached_at, cached_page, download, off_runtime};
use crate::AppState;
use crate::auth::{Auth, Overview};
use crate::error::WebError;

type Shared = State<Arc<AppState>>;

#[derive(Serialize)]
struct CompareView {
    today: String,
    served_city: String,
    /// Why the groups are ranked apart.
    notes: Vec<String>,
    ranking: &'static str,
    groups: Vec<GroupView>,
    unscored: Vec<UnscoredView>,
    /// Whether any city but the session's is shown (then the note on links is shown).
    others: bool,
    /// The section whose rules are shown.
    section: Option<String>,
}

#[derive(Serialize)]
struct GroupView {
    heading: String,
    sections: Vec<HeadView>,
    gates: Vec<HeadView>,
    cities: Vec<CityView>,
    /// The rules of the section asked for (`?section=ID`), cities × rules: one section
    /// a page, so that a province's page stays small.
    details: Vec<DetailView>,
}

#[derive(Serialize)]
struct HeadView {
    id: String,
    short: String,
    title: String,
    max: String,
}

#[derive(Serialize)]
struct CityView {
    city: String,
    served: bool,
    rank: u32,
    working: String,
    bonus: String,
    confirmed: String,
    confirmed_bonus: String,
    veto: bool,
    gates_passed: usize,
    gates_failed: usize,
    gates_undecided: usize,
    gates: Vec<GateCell>,
    sections: Vec<Cell>,
    tasks_accepted: usize,
    tasks_total: usize,
    overdue: usize,
    invalid: Vec<String>,
}

#[derive(Serialize)]
struct GateCell {
    id: String,
    status: &'static str,
    label: &'static str,
}

/// A heat-map cell: the points, their share of the maximum as a colour class, and —
/// for a served assessment — the path of the city's rule or section.
#[derive(Serialize)]
struct Cell {
    text: String,
    heat: &'static str,
    title: String,
    link: Option<String>,
}

#[derive(Serialize)]
struct DetailView {
    heading: String,
    rules: Vec<HeadView>,
    cities: Vec<DetailRow>,
}

#[derive(Serialize)]
struct DetailRow {
    city: String,
    served: bool,
    cells: Vec<Cell>,
}

#[derive(Serialize)]
struct UnscoredView {
    city: String,
    edition: String,
    period: String,
    reason: String,
}

/// The colour class of a share of the maximum, in tenths: `q0` (nothing, red) to `q10`
/// (full marks, green); `compare.html` styles them. Classes, not a style a cell: a
/// province's page has thousands of cells.
fn heat(score: f64, max: f64) -> &'static str {
    const CLASSES: [&str; 11] = ["q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9", "q10"];
    let share = if max > 0.0 { (score / max).clamp(0.0, 1.0) } else { 0.0 };
    CLASSES[(share * 10.0).round() as usize]
}

fn cell(score: f64, max: f64, title: String, link: Option<String>) -> Cell {
    Cell { text: format::points(score), heat: heat(score, max), title, link }
}

/// `links`: the assessment each city is served at (on the served edition): only its
/// cells link. `current`: the session's city, highlighted.
fn group_view(g: &Group, links: &HashMap<CityId, AssessmentId>, current: CityId, section: Option<&str>) -> GroupView {
    let short = |id: &str, title: &str, bonus: bool| {
        if bonus { "附加".to_owned() } else { format::section_heading(id, title).split('、').next().unwrap_or(id).to_owned() }
    };
    let sections: Vec<HeadView> = g
        .sections
        .iter()
        .map(|s| HeadView { id: s.id.clone(), short: short(&s.id, &s.title, s.bonus), title: s.title.clone(), max: format::plain(s.max) })
        .collect();
    let linked = |c: &CityScore| links.get(&c.city_id) == Some(&c.assessment_id);
    let to = |c: &CityScore, path: String| format!("/cities/{}?next={}", c.city_id, super::percent_encode(&path));
    let cities = g
        .cities
        .iter()
        .map(|c| {
            let (passed, failed, undecided) = c.gate_counts();
            let mine = linked(c);
            CityView {
                city: c.city.clone(),
                served: c.city_id == current && mine,
                rank: c.rank,
                working: format::points(c.working.total),
                bonus: format::points(c.working.bonus),
                confirmed: format::points(c.confirmed.total),
                confirmed_bonus: format::points(c.confirmed.bonus),
                veto: c.working.veto,
                gates_passed: passed,
                gates_failed: failed,
                gates_undecided: undecided,
                gates: g
                    .gates
                    .iter()
                    .zip(&c.gates)
                    .map(|(h, s)| GateCell {
                        id: h.id.clone(),
                        status: s.as_str(),
                        label: match s {
                            GateStatus::Passed => "✓",
                            GateStatus::Failed => "✗",
                            GateStatus::Incomplete => "?",
                        },
                    })
                    .collect(),
                sections: g
                    .sections
                    .iter()
                    .zip(&c.sections)
                    .map(|(h, s)| {
                        let title = format!("{} / {},确认 {}", format::points(s.working), format::plain(h.max), format::points(s.confirmed));
                        cell(s.working, h.max, title, mine.then(|| to(c, format!("/rules#s{}", h.id))))
                    })
                    .collect(),
                tasks_accepted: c.tasks.accepted,
                tasks_total: c.tasks.total,
                overdue: c.tasks.overdue,
                invalid: c.invalid.iter().map(|i| i.rule_id.clone()).collect(),
            }
        })
        .collect();
    let details = g
        .sections
        .iter()
        .enumerate()
        .filter(|(_, s)| section == Some(s.id.as_str()))
        .map(|(i, s)| {
            let rules: Vec<usize> = (0..g.rules.len()).filter(|r| g.rules[*r].section == i).collect();
            DetailView {
                heading: format!("{}({} 分)", if s.bonus { s.title.clone() } else { format::section_heading(&s.id, &s.title) }, format::plain(s.max)),
                rules: rules
                    .iter()
                    .map(|r| {
                        let h = &g.rules[*r];
                        HeadView { id: h.id.clone(), short: h.id.clone(), title: h.title.clone(), max: format::plain(h.max) }
                    })
                    .collect(),
                cities: g
                    .cities
                    .iter()
                    .map(|c| {
                        let mine = linked(c);
                        DetailRow {
                            city: c.city.clone(),
                            served: c.city_id == current && mine,
                            cells: rules
                                .iter()
                                .map(|r| {
                                    let h = &g.rules[*r];
                                    let score = c.rules.get(*r).copied().unwrap_or(0.0);
                                    let title = format!("{} {} / {}", h.id, format::points(score), format::plain(h.max));
                                    cell(score, h.max, title, mine.then(|| to(c, format!("/rules/{}", h.id))))
                                })
                                .collect(),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    GroupView {
        heading: format!("{} 版细则 · {} · {} 个城市", g.edition, g.period, g.cities.len()),
        sections,
        gates: g.gates.iter().map(|x| HeadView { id: x.id.clone(), short: x.id.clone(), title: x.title.clone(), max: String::new() }).collect(),
        cities,
        details,
    }
}

fn compare_view(s: &AppState, c: &Comparison, current: CityId, current_name: &str, section: Option<&str>) -> CompareView {
    let edition = &s.workspaces.rubric().edition;
    // Each city is served at its newest assessment on the served edition.
    let mut links: HashMap<CityId, AssessmentId> = HashMap::new();
    for city in c.groups.iter().filter(|g| &g.edition == edition).flat_map(|g| &g.cities) {
        let e = links.entry(city.city_id).or_insert(city.assessment_id);
        *e = (*e).max(city.assessment_id);
    }
    let groups: Vec<GroupView> = c.groups.iter().map(|g| group_view(g, &links, current, section)).collect();
    let shown: usize = c.groups.iter().map(|g| g.cities.len()).sum();
    CompareView {
        today: c.today.clone(),
        served_city: current_name.to_owned(),
        notes: c.notes.clone(),
        ranking: RANKING,
        groups,
        unscored: c
            .unscored
            .iter()
            .map(|u| UnscoredView { city: u.city.clone(), edition: u.edition.clone(), period: u.period.clone(), reason: u.reason.clone() })
            .collect(),
        others: shown > 1 || !c.unscored.is_empty(),
        section: section.map(str::to_owned),
    }
}

/// The comparison of the cities this account may see, at the store's version (any
/// city's change moves it, and so does any change of who may see which city: those are
/// audited too) and today, computed once per set of cities (off the async runtime) and
/// shared by the page and the workbook. A request whose entries hold asks the store
/// only for its version (on PostgreSQL, the fence's round unless something was
/// committed since: see `Store::version`).
async fn comparison(s: &Arc<AppState>, auth: &Auth) -> Result<(String, Arc<Comparison>), WebError> {
    let version = s.workspaces.version().await?;
    let today = creditcity_app::today();
    let user = auth.user.id;
    let cities = cached_at(s, format!("cities-of:{user}"), version, &today, async { Ok(s.workspaces.cities_of_account(user).await?) }).await?;
    let key = format!("compare:{}", cities.iter().map(|c| c.id.to_string()).collect::<Vec<_>>().join(","));
    let (user, t) = (auth.user.clone(), today.clone());
    let c = cached_at(s, key.clone(), version, &today, off_runtime(s, move |s| async move { Ok(s.workspaces.compare(&user, &t).await?) })).await?;
    Ok((format!("{key}@{version}"), c))
}

pub async fn show(State(s): Shared, Overview(auth): Overview, Query(q): Query<HashMap<String, String>>) -> Result<Response, WebError> {
    // Only a section of the rubric: the key of the cached page stays bounded.
    let section = match q.get("section") {
        Some(id) => Some(s.workspaces.rubric().sections.iter().find(|x| &x.id == id).map(|x| x.id.clone()).ok_or(WebError::NotFound)?),
        None => None,
    };
    let (key, c) = comparison(&s, &auth).await?;
    let (current, name) = (auth.ws.assessment().city_id, auth.ws.assessment().city.clone());
    let key = format!("{key}:{}", section.as_deref().unwrap_or(""));
    let spec = Spec { template: "compare.html", nav: "compare", title: "城市对比", key };
    cached_page(&s, &auth, spec, (None, ""), move |s, _| Ok(compare_view(s, &c, current, &name, section.as_deref()))).await
}

pub async fn xlsx(State(s): Shared, Overview(auth): Overview) -> Result<Response, WebError> {
    let (_, c) = comparison(&s, &auth).await?;
    let bytes = tokio::task::spawn_blocking(move || creditcity_app::compare::workbook(&c)).await??;
    Ok(download(bytes, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "城市对比.xlsx"))
}
