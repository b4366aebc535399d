//! Administration (the credit office): accounts, units, the assessments in the store,
//! and the tasks' lead units and deadlines. Every write is a use-case of
//! `creditcity-app` with the same checks as from the CLI.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use creditcity_app::{Actor, Workspace};
use creditcity_app::accounts::Role;
use creditcity_store::{AssessmentId, UnitId};
use serde::{Deserialize, Serialize};

use super::{cached_with, flash, framed, see_other, snapshot};
use crate::AppState;
use crate::auth::{Admin, Posted};
use crate::error::WebError;
use crate::views::{CSRF_SLOT, Page};

type Shared = State<Arc<AppState>>;

#[derive(Serialize)]
struct AdminView {
    users: Vec<UserRow>,
    units: Vec<UnitRow>,
    assessments: Vec<AssessmentRow>,
    tasks: Vec<TaskRow>,
    roles: Vec<RoleChoice>,
    unit_kinds: [&'static str; 4],
}

#[derive(Serialize)]
struct UserRow {
    username: String,
    display_name: String,
    role: &'static str,
    unit: Option<String>,
    active: bool,
}

#[derive(Serialize)]
struct UnitRow {
    id: UnitId,
    name: String,
    kind: String,
}

#[derive(Serialize)]
struct AssessmentRow {
    id: AssessmentId,
    city: String,
    rubric_edition: String,
    period: String,
    current: bool,
}

#[derive(Serialize)]
struct TaskRow {
    code: String,
    title: String,
    rules: String,
    lead: String,
    due: Option<String>,
    status_label: &'static str,
}

#[derive(Serialize)]
struct RoleChoice {
    value: &'static str,
    label: &'static str,
}

pub async fn show(State(s): Shared, Admin(auth): Admin, Query(q): Query<HashMap<String, String>>) -> Result<Response, WebError> {
    let snap = snapshot(&auth).await?;
    // Rendered once per version of the city (accounts are audited, so they move it too).
    let content = cached_with(&s, &auth, &snap, "html:admin".to_owned(), async {
        let view = admin_view(&auth.ws, &snap).await?;
        let page = Page { user: Some(auth.view()), csrf: CSRF_SLOT, city: &auth.ws.assessment().city, nav: "admin", title: "管理", flash: None, flash_kind: "", body: &view };
        s.views.render_content("admin.html", page)
    })
    .await?;
    framed(&s, &auth, "admin", "管理", flash(&q), &content)
}

async fn admin_view(ws: &Workspace, snap: &creditcity_app::Snapshot) -> Result<AdminView, WebError> {
    let users = ws
        .users()
        .await?
        .into_iter()
        .map(|u| UserRow {
            role: Role::parse(&u.role).map_or("?", Role::label),
            active: u.active == 1,
            username: u.username,
            display_name: u.display_name,
            unit: u.unit,
        })
        .collect();
    let current = ws.assessment().id;
    let assessments = ws
        .city_assessments()
        .await?
        .into_iter()
        .map(|a| AssessmentRow { current: a.id == current, id: a.id, city: a.city, rubric_edition: a.rubric_edition, period: a.period })
        .collect();
    Ok(AdminView {
        users,
        units: snap.plan.units.iter().map(|u| UnitRow { id: u.id, name: u.name.clone(), kind: u.kind.clone() }).collect(),
        assessments,
        tasks: snap
            .plan
            .tasks
            .iter()
            .map(|t| TaskRow {
                code: t.code.clone(),
                title: t.title.clone(),
                rules: t.rules.join("、"),
                lead: t.lead_unit.clone(),
                due: t.due_date.clone(),
                status_label: t.status.label(),
            })
            .collect(),
        // A province office's account is the store operator's to create (CLI).
        roles: Role::ALL.iter().filter(|r| **r != Role::Province).map(|r| RoleChoice { value: r.as_str(), label: r.label() }).collect(),
        unit_kinds: creditcity_app::plan::UNIT_KINDS,
    })
}

#[derive(Deserialize)]
pub struct NewUserForm {
    username: String,
    #[serde(default)]
    display_name: String,
    password: String,
    role: String,
    #[serde(default)]
    unit: String,
}

pub async fn create_user(Posted(Admin(auth), f): Posted<Admin, NewUserForm>) -> Result<Response, WebError> {
    let role = Role::parse(&f.role).ok_or_else(|| WebError::BadRequest("角色无效".to_owned()))?;
    let unit = if f.unit.is_empty() {
        None
    } else {
        let id = UnitId(f.unit.parse().map_err(|_| WebError::BadRequest("单位无效".to_owned()))?);
        Some(auth.unit(id).await?)
    };
    auth.ws.create_user(&f.username, &f.display_name, &f.password, role, unit.as_ref(), &Actor(auth.user.username.clone())).await?;
    Ok(see_other("/admin?m=created"))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    password: String,
}

pub async fn password(Path(name): Path<String>, Posted(Admin(auth), f): Posted<Admin, PasswordForm>) -> Result<Response, WebError> {
    auth.ws.set_password(&name, &f.password, &Actor(auth.user.username.clone())).await?;
    Ok(see_other("/admin?m=updated"))
}

#[derive(Deserialize)]
pub struct ActiveForm {
    active: String,
}

pub async fn active(Path(name): Path<String>, Posted(Admin(auth), f): Posted<Admin, ActiveForm>) -> Result<Response, WebError> {
    if name == auth.user.username {
        return Err(WebError::BadRequest("不能停用自己的账号".to_owned()));
    }
    auth.ws.set_active(&name, f.active == "true", &Actor(auth.user.username.clone())).await?;
    Ok(see_other("/admin?m=updated"))
}

#[derive(Deserialize)]
pub struct UnitForm {
    name: String,
    kind: String,
}

pub async fn add_unit(Posted(Admin(auth), f): Posted<Admin, UnitForm>) -> Result<Response, WebError> {
    auth.ws.add_unit(&f.name, &f.kind, &Actor(auth.user.username.clone())).await?;
    Ok(see_other("/admin?m=created"))
}

#[derive(Deserialize)]
pub struct TaskForm {
    lead: String,
    #[serde(default)]
    due: String,
}

pub async fn task(Path(code): Path<String>, Posted(Admin(auth), f): Posted<Admin, TaskForm>) -> Result<Response, WebError> {
    // A task of this assessment (a code of another one is not found), led by a unit of it.
    if !auth.ws.plan().await?.tasks.iter().any(|t| t.code == code) {
        return Err(WebError::NotFound);
    }
    // The lead is named (the form offers the units' names) or given by id.
    let lead = match f.lead.trim().parse::<i64>() {
        Ok(id) => auth.unit(UnitId(id)).await?,
        Err(_) => auth.ws.plan().await?.units.iter().find(|u| u.name == f.lead.trim()).cloned().ok_or_else(|| WebError::BadRequest("没有这个单位,请从列表中选择牵头单位".to_owned()))?,
    };
    auth.ws.update_task(&code, lead.id, &f.due, &Actor(auth.user.username.clone())).await?;
    Ok(see_other("/admin?m=updated"))
}
