//! A unit's workspace: its tasks, the inputs it supplies (one form, validated with the
//! engine's messages), its evidence, what was returned and why, its Excel template. A
//! unit member reaches only their own unit; the credit office reaches every unit.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use creditcity_app::accounts::{self, unit_rules, unit_tasks};
use creditcity_app::{Actor, AppError, ReviewState, SetValue, Snapshot, status};
use creditcity_rubric::{InputId, InputKind, format};
use creditcity_store::{Decision, EvidenceId, ReviewTarget, TaskStatus, UnitId, UnitRow};
use serde::Serialize;

use super::{Spec, cached_page_at, download, flash, off_runtime, page, see_other, snapshot, with_status};
use crate::AppState;
use crate::auth::{Auth, Posted, Uploaded};
use crate::error::WebError;
use crate::views;

type Shared = State<Arc<AppState>>;

/// What a unit's page shows, the same for everyone who may see it.
#[derive(Serialize, Clone)]
struct UnitView {
    unit: UnitHead,
    gaps: Vec<UnitGap>,
    tasks: Vec<TaskView>,
    inputs: Vec<InputView>,
    checklist: Vec<ChecklistOption>,
    files: Vec<FileView>,
    returned: Vec<Returned>,
}

#[derive(Serialize, Clone)]
struct UnitHead {
    id: UnitId,
    name: String,
}

#[derive(Serialize, Clone)]
struct UnitGap {
    rule: String,
    title: String,
    lost: String,
    /// The inputs still missing, by label, grouped (instead of a target naming keys).
    missing: Vec<views::LabelGroup>,
    target: Option<String>,
}

#[derive(Serialize, Clone)]
struct TaskView {
    code: String,
    title: String,
    description: String,
    rules: Vec<String>,
    due: Option<String>,
    overdue: bool,
    status: &'static str,
    status_label: &'static str,
    can_submit: bool,
}

#[derive(Serialize, Clone)]
struct InputView {
    rule: String,
    key: String,
    label: String,
    hint: String,
    /// A 是/否 choice instead of a text box.
    boolean: bool,
    text: String,
    error: Option<String>,
    source: Option<String>,
    review_state: Option<&'static str>,
    review_label: Option<&'static str>,
}

#[derive(Serialize, Clone)]
struct ChecklistOption {
    rule: String,
    item: usize,
    text: String,
}

#[derive(Serialize, Clone)]
struct FileView {
    id: EvidenceId,
    name: String,
    size: String,
    rule: String,
    item: Option<i64>,
    by: String,
    at: String,
    review_state: &'static str,
    review_label: &'static str,
}

#[derive(Serialize, Clone)]
struct Returned {
    what: String,
    comment: String,
    reviewer: String,
    at: String,
}

/// The page: the unit's view and what this user may do with it.
#[derive(Serialize)]
struct UnitPage<'a> {
    #[serde(flatten)]
    view: &'a UnitView,
    records: &'a super::data::UnitRecordsView,
    can_edit: bool,
    can_browse: bool,
    max_upload: String,
}

fn unit_view(s: &AppState, snap: &Snapshot, unit: &UnitRow) -> UnitView {
    let r = s.workspaces.rubric();
    let tasks = &snap.plan.tasks;
    let mine = unit_tasks(tasks, unit);
    let rules = unit_rules(tasks, unit);
    let task_rows = mine
        .iter()
        .map(|t| {
            let st = t.status;
            TaskView {
                code: t.code.clone(),
                title: t.title.clone(),
                description: t.description.clone(),
                rules: t.rules.clone(),
                due: t.due_date.clone(),
                overdue: status::is_overdue(t, &snap.today),
                status: st.as_str(),
                status_label: st.label(),
                can_submit: matches!(st, TaskStatus::NotStarted | TaskStatus::InProgress | TaskStatus::Returned),
            }
        })
        .collect();
    let current: HashMap<&str, &creditcity_store::ValueRow> = snap.current.iter().map(|v| (v.input_key.as_str(), v)).collect();
    let ids = accounts::unit_inputs(r, tasks, unit);
    let inputs = accounts::input_rows(r, &ids, &rules)
        .into_iter()
        .map(|(rule, id)| {
            let input = r.input(id);
            let row = current.get(input.key.as_str());
            InputView {
                rule: rule.id.clone(),
                key: input.key.clone(),
                label: input.label.clone(),
                hint: creditcity_app::values::hint(input),
                boolean: input.kind == InputKind::Bool,
                text: row.map(|v| views::form_text(input, &v.value_json)).unwrap_or_default(),
                error: None,
                source: row.map(|v| views::source(v.unit.as_deref(), v.source_kind, &v.source_ref)),
                review_state: row.map(|v| v.review_state.as_str()),
                review_label: row.map(|v| v.review_state.label()),
            }
        })
        .collect();
    let checklist = r
        .rules
        .iter()
        .filter(|x| rules.contains(&x.id))
        .flat_map(|x| x.evidence.iter().enumerate().map(move |(i, t)| ChecklistOption { rule: x.id.clone(), item: i + 1, text: t.clone() }))
        .collect();
    let files = snap
        .evidence
        .iter()
        .filter(|e| e.unit_id == Some(unit.id))
        .map(|e| FileView {
            id: e.id,
            name: e.original_name.clone(),
            size: views::size(e.size),
            rule: e.rule_id.clone(),
            item: e.item,
            by: e.uploaded_by.clone(),
            at: views::when(&e.uploaded_at),
            review_state: e.review_state.as_str(),
            review_label: e.review_state.label(),
        })
        .collect();
    // What was returned, and why: the latest return of each object still returned.
    let mut latest: HashMap<(ReviewTarget, i64), &creditcity_store::ReviewRow> = HashMap::new();
    for rv in snap.reviews.iter().filter(|x| x.decision == Decision::Return) {
        latest.insert((rv.target_kind, rv.target_id), rv);
    }
    let returned_of = |what: String, rv: &creditcity_store::ReviewRow| Returned { what, comment: rv.comment.clone(), reviewer: rv.reviewer.clone(), at: views::when(&rv.at) };
    let responsible = |key: &str| r.input_id(key).is_some_and(|i| ids.contains(&i));
    let mut returned = Vec::new();
    for v in snap.current.iter().filter(|v| (v.unit_id == Some(unit.id) || responsible(&v.input_key)) && v.review_state == ReviewState::Returned) {
        if let Some(rv) = latest.get(&(ReviewTarget::Input, v.id)) {
            let label = r.input_id(&v.input_key).map_or(v.input_key.clone(), |i| r.input(i).label.clone());
            returned.push(returned_of(format!("数据 {label}"), rv));
        }
    }
    for e in snap.evidence.iter().filter(|e| e.unit_id == Some(unit.id) && e.review_state == ReviewState::Returned) {
        if let Some(rv) = latest.get(&(ReviewTarget::Evidence, e.id.0)) {
            returned.push(returned_of(format!("材料 {}", e.original_name), rv));
        }
    }
    for t in mine.iter().filter(|t| t.status == TaskStatus::Returned) {
        if let Some(rv) = latest.get(&(ReviewTarget::Task, t.id)) {
            returned.push(returned_of(format!("任务 {} {}", t.code, t.title), rv));
        }
    }
    let card = &snap.scores.working.1;
    let parent = unit.parent_id.and_then(|p| snap.plan.units.iter().find(|x| x.id == p)).map(|x| x.name.as_str());
    let gaps = snap
        .gap_plan(r)
        .gaps
        .iter()
        .filter(|g| g.units.contains(&unit.name) || parent.is_some_and(|p| g.units.iter().any(|u| u == p)))
        .cloned()
        .map(|g| {
            let missing = r.rules.iter().position(|x| x.id == g.rule).map_or_else(Vec::new, |i| super::dashboard::missing_groups(r, &card.rules[i].missing));
            UnitGap { rule: g.rule, title: g.title, lost: format::points(g.lost), target: if missing.is_empty() { g.target } else { None }, missing }
        })
        .collect();
    UnitView { unit: UnitHead { id: unit.id, name: unit.name.clone() }, gaps, tasks: task_rows, inputs, checklist, files, returned }
}

pub async fn my_unit(auth: Auth) -> Response {
    match auth.user.unit_id {
        Some(id) => see_other(&format!("/units/{id}")),
        None => see_other("/"),
    }
}

pub async fn unit(State(s): Shared, auth: Auth, Path(id): Path<UnitId>, Query(q): Query<HashMap<String, String>>) -> Result<Response, WebError> {
    if !auth.may_see_unit(id) {
        return Err(WebError::Forbidden);
    }
    let (can_edit, can_browse) = (auth.may_edit_unit(id), auth.user.role.sees_everything());
    let max_upload = views::size(i64::try_from(s.max_upload).unwrap_or(i64::MAX));
    let snap = snapshot(&auth).await?;
    let title = snap.plan.units.iter().find(|u| u.id == id).map(|u| u.name.clone()).ok_or(WebError::NotFound)?;
    let spec = Spec { template: "unit.html", nav: "unit", title: &title, key: format!("unit:{id}:{can_edit}:{can_browse}") };
    let records = super::data::unit_records(&s, &auth, &snap, id).await?;
    cached_page_at(&s, &auth, &snap, spec, flash(&q), move |s, snap| {
        let unit = snap.plan.units.iter().find(|u| u.id == id).ok_or(WebError::NotFound)?;
        let view = unit_view(s, snap, unit);
        Ok(OwnedUnitPage { view, records, can_edit, can_browse, max_upload })
    })
    .await
}

/// [`UnitPage`] that owns its view, for content rendered once and cached.
#[derive(Serialize)]
struct OwnedUnitPage {
    #[serde(flatten)]
    view: UnitView,
    records: Arc<super::data::UnitRecordsView>,
    can_edit: bool,
    can_browse: bool,
    max_upload: String,
}

fn render(s: &AppState, auth: &Auth, view: &UnitView, records: &super::data::UnitRecordsView, flash: (Option<&str>, &str), status: StatusCode) -> Result<Response, WebError> {
    let body = UnitPage {
        view,
        records,
        can_edit: auth.may_edit_unit(view.unit.id),
        can_browse: auth.user.role.sees_everything(),
        max_upload: views::size(i64::try_from(s.max_upload).unwrap_or(i64::MAX)),
    };
    Ok(with_status(page(s, auth, "unit.html", "unit", &view.unit.name, flash, &body)?, status))
}

pub async fn inputs(State(s): Shared, Path(id): Path<UnitId>, Posted(auth, fields): Posted<Auth, Vec<(String, String)>>) -> Result<Response, WebError> {
    if !auth.may_edit_unit(id) {
        return Err(WebError::Forbidden);
    }
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map_or("", |(_, v)| v.as_str());
    let plan = auth.ws.plan().await?;
    let unit = plan.units.iter().find(|u| u.id == id).cloned().ok_or(WebError::NotFound)?;
    let r = s.workspaces.rubric();
    let allowed: Vec<InputId> = accounts::unit_inputs(r, &plan.tasks, &unit).into_iter().collect();
    let mut typed = HashMap::new();
    let mut items = Vec::new();
    for (name, value) in &fields {
        let Some(key) = name.strip_prefix("v:") else { continue };
        if !r.input_id(key).is_some_and(|i| allowed.contains(&i)) {
            return Err(WebError::Forbidden);
        }
        let text = value.trim();
        typed.insert(key.to_owned(), text.to_owned());
        if text.is_empty() {
            continue;
        }
        items.push(SetValue {
            key: key.to_owned(),
            text: text.to_owned(),
            unit: Some(unit.name.clone()),
            source: Some(get("source").to_owned()).filter(|x| !x.is_empty()),
            source_ref: get("source_ref").chars().take(200).collect(),
            note: String::new(),
            evidence_ids: Vec::new(),
        });
    }
    if items.is_empty() {
        return Ok(see_other(&format!("/units/{id}?m=nochange")));
    }
    // Every filled field is sent; what equals the committed value is left as it is.
    match auth.ws.save_form(&plan, &items, &Actor(auth.user.username.clone())).await {
        Ok(written) if written.is_empty() => Ok(see_other(&format!("/units/{id}?m=nochange"))),
        Ok(_) => Ok(see_other(&format!("/units/{id}?m=saved"))),
        Err(AppError::Inputs(errors)) => {
            let mut by_key: HashMap<String, String> = HashMap::new();
            for e in &errors.0 {
                by_key.entry(e.key.clone()).or_default().push_str(&e.message);
            }
            let others: Vec<String> = errors.0.iter().filter(|e| !typed.contains_key(&e.key)).map(ToString::to_string).collect();
            let note = if others.is_empty() { "有错误,未保存任何修改;请按提示更正。".to_owned() } else { format!("有错误,未保存任何修改:{}", others.join(";")) };
            let snap = snapshot(&auth).await?;
            let mut view = unit_view(&s, &snap, &unit);
            for i in &mut view.inputs {
                if let Some(t) = typed.get(&i.key) {
                    i.text.clone_from(t);
                }
                i.error = by_key.get(&i.key).cloned();
            }
            let records = super::data::unit_records(&s, &auth, &snap, unit.id).await?;
            render(&s, &auth, &view, &records, (Some(note.as_str()), "err"), StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn upload(Path(id): Path<UnitId>, Uploaded { who: auth, target, file }: Uploaded<Auth>) -> Result<Response, WebError> {
    if !auth.may_edit_unit(id) {
        return Err(WebError::Forbidden);
    }
    let unit = auth.unit(id).await?;
    let (rule, item) = target.split_once(':').ok_or_else(|| WebError::BadRequest("请选择清单项".to_owned()))?;
    let item: i64 = item.parse().map_err(|_| WebError::BadRequest("清单项无效".to_owned()))?;
    let plan = auth.ws.plan().await?;
    if !unit_rules(&plan.tasks, &unit).contains(rule) {
        return Err(WebError::Forbidden);
    }
    let (name, bytes) = file.ok_or_else(|| WebError::BadRequest("请选择文件".to_owned()))?;
    let task = unit_tasks(&plan.tasks, &unit).into_iter().find(|t| t.rules.iter().any(|x| x == rule)).map(|t| t.code.clone());
    auth.ws.attach_reader(&name, &mut bytes.as_ref(), rule, Some(item), task.as_deref(), Some(&unit.name), &Actor(auth.user.username.clone())).await?;
    Ok(see_other(&format!("/units/{id}?m=uploaded")))
}

pub async fn template(State(s): Shared, auth: Auth, Path(id): Path<UnitId>) -> Result<Response, WebError> {
    if !auth.may_see_unit(id) {
        return Err(WebError::Forbidden);
    }
    let unit = auth.unit(id).await?;
    let (name, ws) = (unit.name.clone(), auth.ws.clone());
    // Writing a workbook is CPU work: off the async runtime.
    let bytes = off_runtime(&s, move |_| async move { Ok(ws.export_template(Some(&name)).await?) }).await?;
    Ok(download(bytes, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", &format!("{} 填报模板.xlsx", unit.name)))
}

pub async fn template_import(Path(id): Path<UnitId>, Uploaded { who: auth, file, .. }: Uploaded<Auth>) -> Result<Response, WebError> {
    if !auth.may_edit_unit(id) {
        return Err(WebError::Forbidden);
    }
    let unit = auth.unit(id).await?;
    let (name, bytes) = file.ok_or_else(|| WebError::BadRequest("请选择文件".to_owned()))?;
    auth.ws.import_template(&bytes, &name, Some(&unit.name), &Actor(auth.user.username.clone())).await?;
    Ok(see_other(&format!("/units/{id}?m=saved")))
}

pub async fn submit(Path((id, code)): Path<(UnitId, String)>, Posted(auth, super::session::Empty {}): Posted<Auth, super::session::Empty>) -> Result<Response, WebError> {
    if !auth.may_edit_unit(id) {
        return Err(WebError::Forbidden);
    }
    let unit = auth.unit(id).await?;
    let plan = auth.ws.plan().await?;
    if !unit_tasks(&plan.tasks, &unit).iter().any(|t| t.code == code) {
        return Err(WebError::Forbidden);
    }
    auth.ws.move_task(&code, TaskStatus::Submitted, &Actor(auth.user.username.clone())).await?;
    Ok(see_other(&format!("/units/{id}?m=submitted")))
}
