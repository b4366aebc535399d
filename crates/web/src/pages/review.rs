//! The evaluators' queue: values and evidence grouped by rule or by unit, the evidence
//! beside the values it supports, filtered by section, unit and state; a whole group
//! accepted (or returned, with its comment) at once, each item its own review and audit
//! entry; submitted tasks; judged scores with their justification.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use creditcity_app::{Actor, AppError, ReviewState, Snapshot};
use creditcity_rubric::model::Scoring;
use creditcity_rubric::{InputKind, format};
use creditcity_store::{Decision, EvidenceId, TaskStatus};
use serde::{Deserialize, Serialize};

use super::{cached, flash, framed, page, see_other, snapshot, with_status};
use crate::AppState;
use crate::auth::{Posted, Reviewer};
use crate::error::WebError;
use crate::views::{self, CSRF_SLOT, Page};

type Shared = State<Arc<AppState>>;

/// Everything that may be reviewed, computed once per store version.
struct Queue {
    inputs: Vec<InputItem>,
    files: Vec<FileItem>,
    tasks: Vec<TaskItem>,
    judged: Vec<JudgedItem>,
    sections: Vec<Choice>,
    units: Vec<String>,
}

#[derive(Serialize, Clone)]
struct InputItem {
    rule: String,
    rule_title: String,
    section: String,
    key: String,
    label: String,
    value: String,
    unit: Option<String>,
    source: String,
    set_by: String,
    set_at: String,
    state: &'static str,
    state_label: &'static str,
    /// The evidence of the same rule (not returned): what supports this value.
    evidence: Vec<Link>,
}

#[derive(Serialize, Clone)]
struct Link {
    id: EvidenceId,
    name: String,
    state: &'static str,
}

#[derive(Serialize, Clone)]
struct FileItem {
    id: EvidenceId,
    name: String,
    size: String,
    rule: String,
    rule_title: String,
    section: String,
    item: Option<i64>,
    item_text: Option<String>,
    unit: Option<String>,
    by: String,
    at: String,
    state: &'static str,
    state_label: &'static str,
}

#[derive(Serialize, Clone)]
struct TaskItem {
    code: String,
    title: String,
    lead: String,
}

#[derive(Serialize, Clone)]
struct JudgedItem {
    rule: String,
    title: String,
    max: String,
    key: String,
    value: Option<String>,
    note: Option<String>,
}

#[derive(Serialize, Clone)]
struct Choice {
    value: String,
    label: String,
}

fn build_queue(s: &AppState, snap: &Snapshot) -> Queue {
    let r = s.workspaces.rubric();
    let rule_of_input: HashMap<&str, &creditcity_rubric::Rule> = r.rules.iter().flat_map(|rule| rule.inputs.iter().map(move |i| (r.input(*i).key.as_str(), rule))).collect();
    let section = |rule: &creditcity_rubric::Rule| r.section_of(rule).id.clone();
    let inputs = snap
        .current
        .iter()
        .filter_map(|v| {
            let id = r.input_id(&v.input_key)?;
            let input = r.input(id);
            if matches!(input.kind, InputKind::Judged { .. }) {
                return None;
            }
            let rule = rule_of_input.get(v.input_key.as_str())?;
            let evidence = snap
                .evidence
                .iter()
                .filter(|e| e.rule_id == rule.id && e.review_state != ReviewState::Returned)
                .map(|e| Link { id: e.id, name: e.original_name.clone(), state: e.review_state.as_str() })
                .collect();
            Some(InputItem {
                rule: rule.id.clone(),
                rule_title: rule.title.clone(),
                section: section(rule),
                key: v.input_key.clone(),
                label: input.label.clone(),
                value: views::value(input, &v.value_json),
                unit: v.unit.clone(),
                source: views::source(None, v.source_kind, &v.source_ref),
                set_by: v.set_by.clone(),
                set_at: views::when(&v.set_at),
                state: v.review_state.as_str(),
                state_label: v.review_state.label(),
                evidence,
            })
        })
        .collect();
    let files = snap
        .evidence
        .iter()
        .filter_map(|e| {
            let rule = r.rule(&e.rule_id)?;
            Some(FileItem {
                id: e.id,
                name: e.original_name.clone(),
                size: views::size(e.size),
                rule: rule.id.clone(),
                rule_title: rule.title.clone(),
                section: section(rule),
                item: e.item,
                item_text: e.item.and_then(|i| rule.evidence.get(usize::try_from(i - 1).ok()?)).cloned(),
                unit: e.unit.clone(),
                by: e.uploaded_by.clone(),
                at: views::when(&e.uploaded_at),
                state: e.review_state.as_str(),
                state_label: e.review_state.label(),
            })
        })
        .collect();
    let tasks = snap
        .plan
        .tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Submitted)
        .map(|t| TaskItem { code: t.code.clone(), title: t.title.clone(), lead: t.lead_unit.clone() })
        .collect();
    let judged = r
        .rules
        .iter()
        .filter_map(|rule| match rule.scoring {
            Scoring::Judged { input } => {
                let input = r.input(input);
                let row = snap.current.iter().find(|v| v.input_key == input.key);
                Some(JudgedItem {
                    rule: rule.id.clone(),
                    title: rule.title.clone(),
                    max: format::plain(rule.max),
                    key: input.key.clone(),
                    value: row.map(|v| views::value(input, &v.value_json)),
                    note: row.map(|v| v.note.clone()).filter(|n| !n.is_empty()),
                })
            }
            _ => None,
        })
        .collect();
    let sections = r
        .sections
        .iter()
        .map(|sec| Choice { value: sec.id.clone(), label: if sec.bonus { sec.title.clone() } else { format::section_heading(&sec.id, &sec.title) } })
        .collect();
    let units = snap.plan.units.iter().map(|u| u.name.clone()).collect();
    Queue { inputs, files, tasks, judged, sections, units }
}

/// The queue's filters, from the query string (or the hidden fields of its forms).
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct Filter {
    section: String,
    unit: String,
    /// pending (default), returned, accepted, all
    state: String,
    /// rule (default) or unit
    by: String,
    /// The page of groups, from 0.
    page: usize,
}

impl Filter {
    fn state(&self) -> Option<ReviewState> {
        match self.state.as_str() {
            "all" => None,
            s => Some(ReviewState::parse(s).unwrap_or(ReviewState::Pending)),
        }
    }

    fn by_unit(&self) -> bool {
        self.by == "unit"
    }

    fn keeps(&self, section: &str, unit: Option<&str>, state: &str) -> bool {
        (self.section.is_empty() || self.section == section)
            && (self.unit.is_empty() || unit == Some(self.unit.as_str()))
            && self.state().is_none_or(|s| s.as_str() == state)
    }

    /// The query string that shows the queue again with these filters.
    fn query(&self) -> String {
        let pairs = [("section", &self.section), ("unit", &self.unit), ("state", &self.state), ("by", &self.by)];
        pairs.iter().filter(|(_, v)| !v.is_empty()).fold(String::new(), |mut q, (k, v)| {
            q.push_str(&format!("{k}={}&", super::percent_encode(v)));
            q
        })
    }
}

/// Groups on one page of the queue.
const GROUPS_PER_PAGE: usize = 10;

#[derive(Serialize)]
struct QueueView<'a> {
    filter: FilterView<'a>,
    groups: Vec<Group<'a>>,
    groups_total: usize,
    newer: Option<String>,
    older: Option<String>,
    inputs_shown: usize,
    files_shown: usize,
    tasks: &'a [TaskItem],
    judged: Vec<JudgedRow<'a>>,
}

#[derive(Serialize)]
struct FilterView<'a> {
    section: &'a str,
    unit: &'a str,
    state: &'a str,
    by: &'a str,
    sections: &'a [Choice],
    units: &'a [String],
    states: [(&'static str, &'static str); 4],
}

#[derive(Serialize)]
struct Group<'a> {
    heading: String,
    rule: Option<&'a str>,
    inputs: Vec<&'a InputItem>,
    files: Vec<&'a FileItem>,
    /// "input:KEY" and "evidence:ID" of every item of the group that is pending.
    pending: Vec<String>,
}

#[derive(Serialize)]
struct JudgedRow<'a> {
    #[serde(flatten)]
    item: &'a JudgedItem,
    error: Option<&'a String>,
}

fn queue_view<'a>(q: &'a Queue, filter: &'a Filter, errors: &'a HashMap<String, String>) -> QueueView<'a> {
    let inputs: Vec<&InputItem> = q.inputs.iter().filter(|i| filter.keeps(&i.section, i.unit.as_deref(), i.state)).collect();
    let files: Vec<&FileItem> = q.files.iter().filter(|f| filter.keeps(&f.section, f.unit.as_deref(), f.state)).collect();
    let mut groups: Vec<Group> = Vec::new();
    let mut group_of = |heading: String, rule: Option<&'a str>| -> usize {
        if let Some(i) = groups.iter().position(|g| g.heading == heading) {
            return i;
        }
        groups.push(Group { heading, rule, inputs: Vec::new(), files: Vec::new(), pending: Vec::new() });
        groups.len() - 1
    };
    let heading = |rule: &str, title: &str, unit: Option<&str>| -> (String, Option<String>) {
        if filter.by_unit() { (unit.unwrap_or("(未指定单位)").to_owned(), None) } else { (format!("{rule} {title}"), Some(rule.to_owned())) }
    };
    let mut order: Vec<(usize, bool, usize)> = Vec::new();
    for (n, &i) in inputs.iter().enumerate() {
        let (h, rule) = heading(&i.rule, &i.rule_title, i.unit.as_deref());
        let g = group_of(h, rule.map(|_| i.rule.as_str()));
        order.push((g, true, n));
    }
    for (n, &f) in files.iter().enumerate() {
        let (h, rule) = heading(&f.rule, &f.rule_title, f.unit.as_deref());
        let g = group_of(h, rule.map(|_| f.rule.as_str()));
        order.push((g, false, n));
    }
    for (g, is_input, n) in order {
        let group = &mut groups[g];
        if is_input {
            let i = inputs[n];
            if i.state == ReviewState::Pending.as_str() {
                group.pending.push(format!("input:{}", i.key));
            }
            group.inputs.push(i);
        } else {
            let f = files[n];
            if f.state == ReviewState::Pending.as_str() {
                group.pending.push(format!("evidence:{}", f.id));
            }
            group.files.push(f);
        }
    }
    let groups_total = groups.len();
    let last_page = groups_total.saturating_sub(1) / GROUPS_PER_PAGE;
    let page = filter.page.min(last_page);
    let groups: Vec<Group> = groups.into_iter().skip(page * GROUPS_PER_PAGE).take(GROUPS_PER_PAGE).collect();
    let link = |p: usize| format!("/review?{}page={p}", filter.query());
    QueueView {
        groups_total,
        newer: (page > 0).then(|| link(page - 1)),
        older: (page < last_page).then(|| link(page + 1)),
        filter: FilterView {
            section: &filter.section,
            unit: &filter.unit,
            state: if filter.state.is_empty() { "pending" } else { &filter.state },
            by: if filter.by_unit() { "unit" } else { "rule" },
            sections: &q.sections,
            units: &q.units,
            states: [("pending", "待评审"), ("returned", "已退回"), ("accepted", "已通过"), ("all", "全部")],
        },
        inputs_shown: inputs.len(),
        files_shown: files.len(),
        groups,
        tasks: &q.tasks,
        judged: q.judged.iter().map(|j| JudgedRow { item: j, error: errors.get(&j.key) }).collect(),
    }
}

/// The queue with the errors of a judged score just refused (not cached).
async fn show_with_errors(s: &Arc<AppState>, auth: &crate::auth::Auth, errors: &HashMap<String, String>, flash: (Option<&str>, &str)) -> Result<Response, WebError> {
    let snap = snapshot(auth).await?;
    let q = build_queue(s, &snap);
    let filter = Filter::default();
    let view = queue_view(&q, &filter, errors);
    Ok(with_status(page(s, auth, "review.html", "review", "评审队列", flash, &view)?, StatusCode::UNPROCESSABLE_ENTITY))
}

pub async fn queue(State(s): Shared, Reviewer(auth): Reviewer, Query(filter): Query<Filter>, Query(q): Query<HashMap<String, String>>) -> Result<Response, WebError> {
    let snap = snapshot(&auth).await?;
    // Each filter and page is rendered once per store version.
    let key = format!("html:review:{}page={}", filter.query(), filter.page);
    let (user, city) = (auth.view(), auth.ws.assessment().city.clone());
    let content = cached(&s, &auth, &snap, key, move |s, snap| {
        let (q, no_errors) = (build_queue(s, snap), HashMap::new());
        let view = queue_view(&q, &filter, &no_errors);
        let page = Page { user: Some(user), csrf: CSRF_SLOT, city: &city, nav: "review", title: "评审队列", flash: None, flash_kind: "", body: &view };
        s.views.render_content("review.html", page)
    })
    .await?;
    framed(&s, &auth, "review", "评审队列", flash(&q), &content)
}

fn decision(text: &str) -> Result<Decision, WebError> {
    match text {
        "accept" => Ok(Decision::Accept),
        "return" => Ok(Decision::Return),
        _ => Err(WebError::BadRequest("请选择通过或退回".to_owned())),
    }
}

#[derive(Deserialize)]
pub struct DecisionForm {
    decision: String,
    #[serde(default)]
    comment: String,
    #[serde(flatten)]
    filter: Filter,
}

pub async fn decide(Path((kind, id)): Path<(String, String)>, Posted(Reviewer(auth), f): Posted<Reviewer, DecisionForm>) -> Result<Response, WebError> {
    let decision = decision(&f.decision)?;
    if !matches!(kind.as_str(), "input" | "evidence" | "task") {
        return Err(WebError::NotFound);
    }
    auth.ws.review(&kind, &id, decision, f.comment.trim(), &Actor(auth.user.username.clone())).await?;
    Ok(see_other(&format!("/review?{}m=reviewed", f.filter.query())))
}

/// A whole group at once: `t` fields name the items ("input:KEY", "evidence:ID").
pub async fn decide_group(Posted(Reviewer(auth), fields): Posted<Reviewer, Vec<(String, String)>>) -> Result<Response, WebError> {
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map_or("", |(_, v)| v.as_str());
    let decision = decision(get("decision"))?;
    let mut targets = Vec::new();
    for (_, t) in fields.iter().filter(|(k, _)| k == "t") {
        match t.split_once(':') {
            Some((kind @ ("input" | "evidence"), id)) => targets.push((kind.to_owned(), id.to_owned())),
            _ => return Err(WebError::BadRequest("评审对象无效".to_owned())),
        }
    }
    auth.ws.review_all(&targets, decision, get("comment").trim(), &Actor(auth.user.username.clone())).await?;
    let filter = Filter { section: get("section").to_owned(), unit: get("unit").to_owned(), state: get("state").to_owned(), by: get("by").to_owned(), page: 0 };
    Ok(see_other(&format!("/review?{}m=reviewed", filter.query())))
}

#[derive(Deserialize)]
pub struct JudgedForm {
    value: String,
    #[serde(default)]
    justification: String,
}

pub async fn judged(State(s): Shared, Path(key): Path<String>, Posted(Reviewer(auth), f): Posted<Reviewer, JudgedForm>) -> Result<Response, WebError> {
    let r = s.workspaces.rubric();
    let judged = r.input_id(&key).is_some_and(|i| matches!(r.input(i).kind, InputKind::Judged { .. }));
    if !judged {
        return Err(WebError::NotFound);
    }
    let who = Actor(auth.user.username.clone());
    match auth.ws.set_judged(&key, f.value.trim(), f.justification.trim(), &who).await {
        Ok(_) => Ok(see_other("/review?m=saved")),
        Err(AppError::Inputs(errors)) => {
            let errs: HashMap<String, String> = errors.0.iter().map(|e| (e.key.clone(), e.message.clone())).collect();
            show_with_errors(&s, &auth, &errs, (Some("有错误,未保存。"), "err")).await
        }
        Err(other) => Err(other.into()),
    }
}
