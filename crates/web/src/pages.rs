//! The handlers: authenticate, check the role and the object, call a use-case, render.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use creditcity_app::accounts::{self, Role, unit_rules, unit_tasks};
use creditcity_app::{Actor, AppError, ReviewState, SetValue, status};
use creditcity_rubric::{GateStatus, InputId, InputKind, Status, explain_gate, explain_rule, format};
use creditcity_store::{AuditFilter, Decision, TaskStatus, UnitRow};
use minijinja::{Value, context};
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::auth::{Auth, LOGIN_COOKIE, SESSION_COOKIE, cookie, require, set_cookie};
use crate::error::WebError;

type Shared = State<Arc<AppState>>;
type Q = Query<HashMap<String, String>>;

use creditcity_app::today;

/// Messages shown after a redirect; only these codes, never reflected text.
fn flash(q: &HashMap<String, String>) -> (Option<&'static str>, &'static str) {
    let text = match q.get("m").map(String::as_str) {
        Some("saved") => "已保存。",
        Some("nochange") => "没有修改。",
        Some("uploaded") => "已上传。",
        Some("submitted") => "已提交评审。",
        Some("reviewed") => "评审意见已记录。",
        Some("created") => "已创建。",
        Some("updated") => "已更新。",
        _ => return (None, ""),
    };
    (Some(text), "ok")
}

fn page(state: &AppState, auth: &Auth, name: &str, nav: &str, title: &str, flash: (Option<&str>, &str), extra: Value) -> Result<Response, WebError> {
    let ctx = context! {
        user => Value::from_serialize(auth.view()),
        csrf => &auth.csrf,
        city => &state.ws.assessment().city,
        nav => nav,
        title => title,
        flash => flash.0,
        flash_kind => flash.1,
        ..extra
    };
    Ok(state.views.render(name, ctx)?.into_response())
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}


fn size_label(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / 1_048_576.0)
    } else if bytes >= 1024 {
        format!("{:.0} KB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

// ----- sign in and out ----------------------------------------------------------------

pub async fn login_page(State(s): Shared, headers: HeaderMap) -> Result<Response, WebError> {
    if require(&s, &headers).await.is_ok() {
        return Ok(see_other("/"));
    }
    login_form(&s, "", None, StatusCode::OK)
}

fn login_form(s: &AppState, username: &str, error: Option<&str>, status: StatusCode) -> Result<Response, WebError> {
    let token = accounts::new_token()?;
    let html = s.views.render(
        "login.html",
        context! { title => "登录", user => Value::from(()), csrf => &token, login_csrf => &token, city => &s.ws.assessment().city,
                   nav => "", flash => Value::from(()), flash_kind => "", error => error, username => username, demo => s.demo },
    )?;
    let mut resp = (status, html).into_response();
    resp.headers_mut().append(header::SET_COOKIE, set_cookie(LOGIN_COOKIE, &token, 3600, s.secure_cookies));
    Ok(resp)
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    csrf: String,
}

pub async fn login(State(s): Shared, ConnectInfo(addr): ConnectInfo<SocketAddr>, headers: HeaderMap, Form(f): Form<LoginForm>) -> Result<Response, WebError> {
    // Login CSRF: the form must carry the token its page set as a cookie.
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or("");
    if expected.is_empty() || !accounts::same_token(expected, &f.csrf) {
        return login_form(&s, &f.username, Some("页面已过期,请重新登录。"), StatusCode::FORBIDDEN);
    }
    let user_key = format!("user:{}", f.username.trim());
    let ip_key = format!("ip:{}", addr.ip());
    if !s.throttle.allowed(&user_key) || !s.ip_throttle.allowed(&ip_key) {
        tracing::warn!(username = %f.username, ip = %addr.ip(), "login throttled");
        return login_form(&s, &f.username, Some("登录失败次数过多,请 15 分钟后再试。"), StatusCode::TOO_MANY_REQUESTS);
    }
    if let Some(session) = s.ws.login(&f.username, &f.password).await? {
        s.throttle.succeeded(&user_key);
        tracing::info!(username = %session.user.username, "signed in");
        let mut resp = see_other("/");
        let h = resp.headers_mut();
        h.append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, &session.token, accounts::SESSION_HOURS * 3600, s.secure_cookies));
        h.append(header::SET_COOKIE, set_cookie(LOGIN_COOKIE, "", 0, s.secure_cookies));
        Ok(resp)
    } else {
        s.throttle.failed(&user_key);
        s.ip_throttle.failed(&ip_key);
        tracing::warn!(username = %f.username, ip = %addr.ip(), "failed login");
        login_form(&s, &f.username, Some("用户名或密码不正确。"), StatusCode::UNAUTHORIZED)
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn logout(State(s): Shared, headers: HeaderMap, Form(f): Form<CsrfForm>) -> Result<Response, WebError> {
    let auth = require(&s, &headers).await?;
    auth.check_csrf(&f.csrf)?;
    s.ws.logout(&auth.token).await?;
    let mut resp = see_other("/login");
    resp.headers_mut().append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", 0, s.secure_cookies));
    Ok(resp)
}

// ----- dashboard and rubric -----------------------------------------------------------

pub async fn dashboard(State(s): Shared, headers: HeaderMap, Query(q): Q) -> Result<Response, WebError> {
    let auth = require(&s, &headers).await?;
    if !auth.user.role.sees_everything() {
        return match auth.user.unit_id {
            Some(u) => Ok(see_other(&format!("/units/{u}"))),
            None => Err(WebError::Forbidden),
        };
    }
    let r = s.ws.rubric();
    let snap = s.ws.snapshot(&today()).await?;
    let (scores, progress) = (&snap.scores, &snap.progress);
    let (a, card) = &scores.working;
    let sections: Vec<_> = r
        .sections
        .iter()
        .zip(&card.sections)
        .map(|(sec, score)| {
            let label = if sec.bonus { "附加项".to_owned() } else { format::section_heading(&sec.id, &sec.title) };
            let label: String = label.chars().take(11).collect();
            json!({ "label": label, "score": format::points(*score), "max": format::plain(sec.max),
                    "max_width": (sec.max * 14.0).round(), "score_width": (score * 14.0).round() })
        })
        .collect();
    let gates = gates_json(r, a, card);
    let mut ranked: Vec<_> = r.rules.iter().zip(&card.rules).filter(|(_, res)| res.lost() > 1e-9).collect();
    ranked.sort_by(|x, y| y.1.lost().total_cmp(&x.1.lost()));
    let at_stake: Vec<_> = ranked
        .iter()
        .take(10)
        .map(|(rule, res)| {
            let e = explain_rule(r, rule, a, res);
            json!({ "id": rule.id, "title": rule.title, "score": format::points(res.score), "max": format::plain(rule.max), "target": e.target })
        })
        .collect();
    let units_all = &snap.units;
    let units: Vec<_> = progress
        .units
        .iter()
        .filter(|u| u.tasks.iter().sum::<usize>() > 0)
        .filter_map(|u| units_all.iter().find(|x| x.name == u.name).map(|x| json!({ "id": x.id, "name": u.name, "tasks": u.tasks, "overdue": u.overdue })))
        .collect();
    let tasks = &snap.tasks;
    let count = |st: GateStatus| card.gates.iter().filter(|g| g.status == st).count();
    let extra = Value::from_serialize(json!({
        "working_total": format::points(card.total), "working_bonus": format::points(card.bonus),
        "confirmed_total": format::points(scores.confirmed.1.total), "veto": card.veto,
        "gates_passed": count(GateStatus::Passed), "gates_failed": count(GateStatus::Failed), "gates_incomplete": count(GateStatus::Incomplete),
        "tasks_done": tasks.iter().filter(|t| t.status == "accepted").count(), "tasks_total": tasks.len(), "overdue": progress.overdue.len(),
        "sections": sections, "gates": gates, "at_stake": at_stake, "units": units,
    }));
    page(&s, &auth, "dashboard.html", "dashboard", "总览", flash(&q), extra)
}

/// Every gate with its status, explanation and (unless passed) what passing takes.
pub(crate) fn gates_json(r: &creditcity_rubric::Rubric, a: &creditcity_rubric::Assessment, card: &creditcity_rubric::Scorecard) -> Vec<serde_json::Value> {
    r.gates
        .iter()
        .zip(&card.gates)
        .map(|(g, res)| {
            let e = explain_gate(r, g, a, res);
            json!({ "id": g.id, "title": g.title, "status": res.status.as_str(), "status_label": res.status.label(), "explanation": e.text,
                    "target": if res.status == GateStatus::Passed { None } else { e.target } })
        })
        .collect()
}

pub async fn rules(State(s): Shared, headers: HeaderMap) -> Result<Response, WebError> {
    let auth = require(&s, &headers).await?;
    auth.require_overview()?;
    let r = s.ws.rubric();
    let snap = s.ws.snapshot(&today()).await?;
    let evidence = &snap.evidence;
    let card = &snap.scores.working.1;
    let sections: Vec<_> = r
        .sections
        .iter()
        .enumerate()
        .map(|(i, sec)| {
            let rules: Vec<_> = r.rules[sec.rules.clone()]
                .iter()
                .zip(&card.rules[sec.rules.clone()])
                .map(|(rule, res)| {
                    let with = (1..=rule.evidence.len())
                        .filter(|n| evidence.iter().any(|e| e.rule_id == rule.id && e.item == Some(*n as i64) && e.review_state != ReviewState::Returned))
                        .count();
                    json!({ "id": rule.id, "title": rule.title, "hi": rule.hi, "score": format::points(res.score), "max": format::plain(rule.max),
                            "status": res.status().as_str(), "status_label": if res.status() == Status::Scored { "已计分" } else { "待填报" },
                            "evidence_with": with, "evidence_items": rule.evidence.len() })
                })
                .collect();
            json!({ "heading": if sec.bonus { sec.title.clone() } else { format::section_heading(&sec.id, &sec.title) },
                    "score": format::points(card.sections.get(i).copied().unwrap_or(0.0)), "max": format::plain(sec.max), "rules": rules })
        })
        .collect();
    page(&s, &auth, "rules.html", "rules", "评估指标", (None, ""), Value::from_serialize(json!({ "sections": sections })))
}

pub async fn rule(State(s): Shared, headers: HeaderMap, Path(id): Path<String>) -> Result<Response, WebError> {
    let auth = require(&s, &headers).await?;
    auth.require_overview()?;
    let r = s.ws.rubric();
    let Some(index) = r.rules.iter().position(|x| x.id == id) else { return Err(WebError::NotFound) };
    let rule = &r.rules[index];
    let snap = s.ws.snapshot(&today()).await?;
    let (a, card) = &snap.scores.working;
    let e = explain_rule(r, rule, a, &card.rules[index]);
    let current = &snap.current;
    let mut inputs = Vec::new();
    for id in &rule.inputs {
        let input = r.input(*id);
        let row = current.iter().find(|v| v.input_key == input.key);
        let history = snap.history_counts.get(&input.key).copied().unwrap_or(0);
        inputs.push(json!({
            "key": input.key, "label": input.label, "unit_of_measure": input.unit,
            "value": row.map(|v| creditcity_app::values::display_json(&v.value_json)), "unit": row.and_then(|v| v.unit.clone()),
            "source": row.map(|v| v.source_kind.label()), "source_ref": row.map(|v| v.source_ref.clone()),
            "set_by": row.map(|v| v.set_by.clone()), "set_at": row.map(|v| v.set_at.clone()), "note": row.map(|v| v.note.clone()).filter(|n| !n.is_empty()),
            "review_state": row.map(|v| v.review_state.as_str()), "review_label": row.map(|v| v.review_state.label()), "history": history,
        }));
    }
    let evidence = &snap.evidence;
    let file = |e: &creditcity_store::EvidenceRow| {
        json!({ "id": e.id, "name": e.original_name, "unit": e.unit, "size": size_label(e.size), "review_state": e.review_state.as_str(),
                "review_label": e.review_state.label(), "image": e.media_type.starts_with("image/") })
    };
    let checklist: Vec<_> = rule
        .evidence
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let files: Vec<_> = evidence.iter().filter(|e| e.rule_id == rule.id && e.item == Some(i as i64 + 1)).map(file).collect();
            json!({ "text": text, "files": files })
        })
        .collect();
    let loose: Vec<_> = evidence.iter().filter(|e| e.rule_id == rule.id && e.item.is_none()).map(file).collect();
    let sec = r.section_of(rule);
    let extra = Value::from_serialize(json!({
        "rule": { "id": rule.id, "title": rule.title, "hi": rule.hi, "standard": rule.standard, "detail": rule.detail },
        "section": format::section_heading(&sec.id, &sec.title), "score": format::points(card.rules[index].score), "max": format::plain(rule.max),
        "explanation": e.text, "target": e.target, "inputs": inputs, "checklist": checklist, "loose": loose,
    }));
    page(&s, &auth, "rule.html", "rules", &format!("{} {}", rule.id, rule.title), (None, ""), extra)
}

pub async fn gaps(State(s): Shared, headers: HeaderMap, Query(q): Q) -> Result<Response, WebError> {
    let auth = require(&s, &headers).await?;
    auth.require_overview()?;
    let mut what_if = Vec::new();
    let mut rows = Vec::new();
    for i in 0..5 {
        let key = q.get(&format!("k{i}")).map(|v| v.trim().to_owned()).unwrap_or_default();
        let value = q.get(&format!("v{i}")).map(|v| v.trim().to_owned()).unwrap_or_default();
        if !key.is_empty() {
            what_if.push((key.clone(), value.clone()));
        }
        rows.push(json!({ "key": key, "value": value }));
    }
    let (result, error) = match s.ws.gap_plan(&what_if).await {
        Ok(r) => (r, None),
        Err(AppError::Inputs(e)) => (s.ws.gap_plan(&[]).await?, Some(e.to_string())),
        Err(e) => return Err(e.into()),
    };
    let (plan, _) = result;
    let before = if what_if.is_empty() || error.is_some() {
        None
    } else {
        let (b, _) = s.ws.gap_plan(&[]).await?;
        Some(json!({ "total": format::points(b.total), "bonus": format::points(b.bonus), "veto": b.veto }))
    };
    let gaps: Vec<_> = plan
        .gaps
        .iter()
        .map(|g| json!({ "rule": g.rule, "title": g.title, "score": format::points(g.score), "max": format::plain(g.max), "lost": format::points(g.lost),
                         "target": g.target, "units": g.units.join("、"), "deadline": g.deadline,
                         "tasks": g.open_tasks.iter().map(|t| format!("{} {}({})", t.code, t.title, t.status)).collect::<Vec<_>>().join(";") }))
        .collect();
    let by_unit: Vec<_> = plan.by_unit.iter().map(|u| json!({ "unit": u.unit, "recoverable": format::points(u.recoverable), "rules": u.rules.join("、") })).collect();
    let extra = Value::from_serialize(json!({
        "what_if": rows, "error": error, "before": before, "total": format::points(plan.total), "bonus": format::points(plan.bonus), "veto": plan.veto,
        "recoverable": format::points(plan.gaps.iter().map(|g| g.lost).sum::<f64>()), "gaps": gaps, "gates": plan.gates, "by_unit": by_unit,
    }));
    page(&s, &auth, "gaps.html", "gaps", "失分分析", (None, ""), extra)
}

pub async fn report(State(s): Shared, headers: HeaderMap) -> Result<Response, WebError> {
    let auth = require(&s, &headers).await?;
    auth.require_overview()?;
    Ok(axum::response::Html(crate::report::html(&s.ws).await?).into_response())
}

fn download(bytes: Vec<u8>, content_type: &'static str, name: &str) -> Response {
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let disposition = format!("attachment; filename*=UTF-8''{}", percent_encode(name));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")));
    resp
}

pub async fn export_scores(State(s): Shared, headers: HeaderMap, Query(q): Q) -> Result<Response, WebError> {
    let auth = require(&s, &headers).await?;
    auth.require_overview()?;
    let confirmed = q.get("confirmed").is_some_and(|v| v == "1");
    let bytes = s.ws.export_scores(confirmed).await?;
    Ok(download(bytes, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", &format!("{} 评分表.xlsx", s.ws.assessment().city)))
}

pub async fn export_evidence(State(s): Shared, headers: HeaderMap) -> Result<Response, WebError> {
    let auth = require(&s, &headers).await?;
    auth.require_reviewer()?;
    let (bytes, _) = s.ws.export_evidence_bytes().await?;
    Ok(download(bytes, "application/zip", &format!("{} 迎检材料.zip", s.ws.assessment().city)))
}

pub async fn evidence_file(State(s): Shared, headers: HeaderMap, Path(id): Path<i64>) -> Result<Response, WebError> {
    let auth = require(&s, &headers).await?;
    let Some((e, bytes)) = s.ws.evidence_file(id).await? else {
        return Err(WebError::NotFound);
    };
    let allowed = auth.user.role.sees_everything() || (auth.user.role == Role::Unit && e.unit_id.is_some() && e.unit_id == auth.user.unit_id);
    if !allowed {
        return Err(WebError::Forbidden);
    }
    let inline = ["application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "text/plain"].contains(&e.media_type.as_str());
    let content_type = if e.media_type == "text/plain" { "text/plain; charset=utf-8".to_owned() } else if inline { e.media_type.clone() } else { "application/octet-stream".to_owned() };
    let disposition = format!("{}; filename*=UTF-8''{}", if inline { "inline" } else { "attachment" }, percent_encode(&e.original_name));
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_str(&content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=300"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"));
    Ok(resp)
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

// ----- a unit's workspace ----------------------------------------------------------------

pub async fn my_unit(State(s): Shared, headers: HeaderMap) -> Result<Response, WebError> {
    let auth = require(&s, &headers).await?;
    match auth.user.unit_id {
        Some(id) => Ok(see_other(&format!("/units/{id}"))),
        None => Ok(see_other("/")),
    }
}

/// The unit, read fresh from the store: for changes, which need no snapshot.
async fn unit_fresh(s: &AppState, id: i64) -> Result<UnitRow, WebError> {
    s.ws.plan().await?.units.iter().find(|u| u.id == id).cloned().ok_or(WebError::NotFound)
}

async fn unit_of(s: &AppState, id: i64) -> Result<UnitRow, WebError> {
    s.ws.snapshot(&today()).await?.units.iter().find(|u| u.id == id).cloned().ok_or(WebError::NotFound)
}

pub async fn unit(State(s): Shared, headers: HeaderMap, Path(id): Path<i64>, Query(q): Q) -> Result<Response, WebError> {
    let auth = require(&s, &headers).await?;
    if !auth.may_see_unit(id) {
        return Err(WebError::Forbidden);
    }
    let unit = unit_of(&s, id).await?;
    unit_page(&s, &auth, &unit, &HashMap::new(), &HashMap::new(), flash(&q), StatusCode::OK).await
}

async fn unit_page(
    s: &AppState,
    auth: &Auth,
    unit: &UnitRow,
    typed: &HashMap<String, String>,
    errors: &HashMap<String, String>,
    flash: (Option<&str>, &str),
    status: StatusCode,
) -> Result<Response, WebError> {
    let r = s.ws.rubric();
    let today = today();
    let snap = s.ws.snapshot(&today).await?;
    let tasks = &snap.tasks;
    let mine = unit_tasks(tasks, unit);
    let rules = unit_rules(tasks, unit);
    let task_rows: Vec<_> = mine
        .iter()
        .map(|t| {
            let st = TaskStatus::parse(&t.status).unwrap_or(TaskStatus::NotStarted);
            json!({ "code": t.code, "title": t.title, "description": t.description, "rules": t.rules, "due": t.due_date,
                    "overdue": status::is_overdue(t, &today), "status": st.as_str(), "status_label": st.label(),
                    "can_submit": matches!(st, TaskStatus::NotStarted | TaskStatus::InProgress | TaskStatus::Returned) })
        })
        .collect();
    let current = &snap.current;
    let ids = accounts::unit_inputs(r, tasks, unit);
    let inputs: Vec<_> = accounts::input_rows(r, &ids, &rules)
        .into_iter()
        .map(|(rule, id)| {
            let input = r.input(id);
            let row = current.iter().find(|v| v.input_key == input.key);
            let text = typed.get(&input.key).cloned().or_else(|| row.map(|v| creditcity_app::values::display_json(&v.value_json))).unwrap_or_default();
            json!({
                "rule": rule.id, "key": input.key, "label": input.label, "hint": creditcity_app::values::hint(input), "text": text,
                "error": errors.get(&input.key), "source": row.map(|v| v.unit.as_ref().map_or_else(|| creditcity_app::provenance(v.source_kind, &v.source_ref), |u| format!("{u} · {}", creditcity_app::provenance(v.source_kind, &v.source_ref)))),
                "review_state": row.map(|v| v.review_state.as_str()), "review_label": row.map(|v| v.review_state.label()),
            })
        })
        .collect();
    let checklist: Vec<_> = r
        .rules
        .iter()
        .filter(|x| rules.contains(&x.id))
        .flat_map(|x| x.evidence.iter().enumerate().map(move |(i, t)| json!({ "rule": x.id, "item": i + 1, "text": t })))
        .collect();
    let evidence = &snap.evidence;
    let files: Vec<_> = evidence
        .iter()
        .filter(|e| e.unit_id == Some(unit.id))
        .map(|e| json!({ "id": e.id, "name": e.original_name, "size": size_label(e.size), "rule": e.rule_id, "item": e.item,
                         "by": e.uploaded_by, "at": e.uploaded_at, "review_state": e.review_state.as_str(), "review_label": e.review_state.label() }))
        .collect();
    // What was returned, and why: the latest return of each object still returned.
    let reviews = &snap.reviews;
    let mut returned = Vec::new();
    let latest = |kind: &str, id: i64| reviews.iter().rev().find(|x| x.target_kind == kind && x.target_id == id && x.decision == "return");
    let responsible = |key: &str| r.input_id(key).is_some_and(|i| ids.contains(&i));
    for v in current.iter().filter(|v| (v.unit_id == Some(unit.id) || responsible(&v.input_key)) && v.review_state == ReviewState::Returned) {
        if let Some(rv) = latest("input", v.id) {
            let label = r.input_id(&v.input_key).map_or(v.input_key.clone(), |i| r.input(i).label.clone());
            returned.push(json!({ "what": format!("数据 {label}"), "comment": rv.comment, "reviewer": rv.reviewer, "at": rv.at }));
        }
    }
    for e in evidence.iter().filter(|e| e.unit_id == Some(unit.id) && e.review_state == ReviewState::Returned) {
        if let Some(rv) = latest("evidence", e.id) {
            returned.push(json!({ "what": format!("材料 {}", e.original_name), "comment": rv.comment, "reviewer": rv.reviewer, "at": rv.at }));
        }
    }
    for t in mine.iter().filter(|t| t.status == "returned") {
        if let Some(rv) = latest("task", t.id) {
            returned.push(json!({ "what": format!("任务 {} {}", t.code, t.title), "comment": rv.comment, "reviewer": rv.reviewer, "at": rv.at }));
        }
    }
    let (a, card) = &snap.scores.working;
    let gap_plan = creditcity_app::gaps::plan(r, a, card, tasks, &snap.units);
    let my_gaps: Vec<_> = gap_plan
        .gaps
        .iter()
        .filter(|g| g.units.contains(&unit.name) || unit.parent_id.is_some_and(|p| snap.units.iter().any(|x| x.id == p && g.units.contains(&x.name))))
        .map(|g| json!({ "rule": g.rule, "title": g.title, "lost": format::points(g.lost), "target": g.target }))
        .collect();
    let extra = Value::from_serialize(json!({
        "gaps": my_gaps,
        "unit": { "id": unit.id, "name": unit.name }, "tasks": task_rows, "inputs": inputs, "checklist": checklist, "files": files,
        "returned": returned, "can_edit": auth.may_edit_unit(unit.id), "can_browse": auth.user.role.sees_everything(),
        "max_upload": size_label(i64::try_from(s.max_upload).unwrap_or(i64::MAX)),
    }));
    let mut resp = page(s, auth, "unit.html", "unit", &unit.name, flash, extra)?;
    *resp.status_mut() = status;
    Ok(resp)
}

pub async fn unit_inputs(State(s): Shared, headers: HeaderMap, Path(id): Path<i64>, Form(fields): Form<Vec<(String, String)>>) -> Result<Response, WebError> {
    let auth = require(&s, &headers).await?;
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map_or("", |(_, v)| v.as_str());
    auth.check_csrf(get("csrf"))?;
    if !auth.may_edit_unit(id) {
        return Err(WebError::Forbidden);
    }
    let unit = unit_fresh(&s, id).await?;
    let r = s.ws.rubric();
    let plan = s.ws.plan().await?;
    let allowed: Vec<InputId> = accounts::unit_inputs(r, &plan.tasks, &unit).into_iter().collect();
    let current = s.ws.current_raw().await?;
    let mut typed = HashMap::new();
    let mut items = Vec::new();
    for (name, value) in &fields {
        let Some(key) = name.strip_prefix("v:") else { continue };
        if !r.input_id(key).is_some_and(|i| allowed.contains(&i)) {
            return Err(WebError::Forbidden);
        }
        let text = value.trim();
        typed.insert(key.to_owned(), text.to_owned());
        let before = current.iter().find(|c| c.key == key).map(|c| creditcity_app::values::display_json(&c.value_json)).unwrap_or_default();
        if text.is_empty() || text == before {
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
    match s.ws.set_values(&items, &Actor(auth.user.username.clone())).await {
        Ok(_) => Ok(see_other(&format!("/units/{id}?m=saved"))),
        Err(AppError::Inputs(errors)) => {
            let mut by_key: HashMap<String, String> = HashMap::new();
            for e in &errors.0 {
                by_key.entry(e.key.clone()).or_default().push_str(&e.message);
            }
            let others: Vec<String> = errors.0.iter().filter(|e| !typed.contains_key(&e.key)).map(ToString::to_string).collect();
            let note = if others.is_empty() { "有错误,未保存任何修改;请按提示更正。".to_owned() } else { format!("有错误,未保存任何修改:{}", others.join(";")) };
            unit_page(&s, &auth, &unit, &typed, &by_key, (Some(note.as_str()), "err"), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(other) => Err(other.into()),
    }
}

/// A multipart form: its CSRF token, its target field and its file.
struct Upload {
    csrf: String,
    target: String,
    file: Option<(String, axum::body::Bytes)>,
}

async fn read_upload(mut multipart: Multipart) -> Result<Upload, WebError> {
    let mut upload = Upload { csrf: String::new(), target: String::new(), file: None };
    while let Some(field) = multipart.next_field().await.map_err(|e| WebError::BadRequest(format!("上传中断或过大:{e}")))? {
        match field.name() {
            Some("csrf") => upload.csrf = field.text().await.map_err(|e| WebError::BadRequest(e.to_string()))?,
            Some("target") => upload.target = field.text().await.map_err(|e| WebError::BadRequest(e.to_string()))?,
            Some("file") => {
                let name = field.file_name().unwrap_or("file").to_owned();
                let bytes = field.bytes().await.map_err(|e| WebError::BadRequest(format!("文件过大或上传中断:{e}")))?;
                upload.file = Some((name, bytes));
            }
            _ => {}
        }
    }
    Ok(upload)
}

pub async fn unit_upload(State(s): Shared, headers: HeaderMap, Path(id): Path<i64>, multipart: Multipart) -> Result<Response, WebError> {
    let auth = require(&s, &headers).await?;
    let Upload { csrf, target, file } = read_upload(multipart).await?;
    auth.check_csrf(&csrf)?;
    if !auth.may_edit_unit(id) {
        return Err(WebError::Forbidden);
    }
    let unit = unit_of(&s, id).await?;
    let (rule, item) = target.split_once(':').ok_or_else(|| WebError::BadRequest("请选择清单项".to_owned()))?;
    let item: i64 = item.parse().map_err(|_| WebError::BadRequest("清单项无效".to_owned()))?;
    let snap = s.ws.snapshot(&today()).await?;
    let tasks = &snap.tasks;
    if !unit_rules(tasks, &unit).contains(rule) {
        return Err(WebError::Forbidden);
    }
    let (name, bytes) = file.ok_or_else(|| WebError::BadRequest("请选择文件".to_owned()))?;
    let task = unit_tasks(tasks, &unit).into_iter().find(|t| t.rules.iter().any(|x| x == rule)).map(|t| t.code.clone());
    s.ws.attach_reader(&name, &mut bytes.as_ref(), rule, Some(item), task.as_deref(), Some(&unit.name), &Actor(auth.user.username.clone())).await?;
    Ok(see_other(&format!("/units/{id}?m=uploaded")))
}

pub async fn unit_template(State(s): Shared, headers: HeaderMap, Path(id): Path<i64>) -> Result<Response, WebError> {
    let auth = require(&s, &headers).await?;
    if !auth.may_see_unit(id) {
        return Err(WebError::Forbidden);
    }
    let unit = unit_of(&s, id).await?;
    let bytes = s.ws.export_template(Some(&unit.name)).await?;
    Ok(download(bytes, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", &format!("{} 填报模板.xlsx", unit.name)))
}

pub async fn unit_template_import(State(s): Shared, headers: HeaderMap, Path(id): Path<i64>, multipart: Multipart) -> Result<Response, WebError> {
    let auth = require(&s, &headers).await?;
    let Upload { csrf, file, .. } = read_upload(multipart).await?;
    auth.check_csrf(&csrf)?;
    if !auth.may_edit_unit(id) {
        return Err(WebError::Forbidden);
    }
    let unit = unit_fresh(&s, id).await?;
    let (name, bytes) = file.ok_or_else(|| WebError::BadRequest("请选择文件".to_owned()))?;
    s.ws.import_template(&bytes, &name, Some(&unit.name), &Actor(auth.user.username.clone())).await?;
    Ok(see_other(&format!("/units/{id}?m=saved")))
}

pub async fn unit_submit(State(s): Shared, headers: HeaderMap, Path((id, code)): Path<(i64, String)>, Form(f): Form<CsrfForm>) -> Result<Response, WebError> {
    let auth = require(&s, &headers).await?;
    auth.check_csrf(&f.csrf)?;
    if !auth.may_edit_unit(id) {
        return Err(WebError::Forbidden);
    }
    let unit = unit_of(&s, id).await?;
    let snap = s.ws.snapshot(&today()).await?;
    if !unit_tasks(&snap.tasks, &unit).iter().any(|t| t.code == code) {
        return Err(WebError::Forbidden);
    }
    s.ws.move_task(&code, TaskStatus::Submitted, &Actor(auth.user.username.clone())).await?;
    Ok(see_other(&format!("/units/{id}?m=submitted")))
}

// ----- evaluators ------------------------------------------------------------------------

pub async fn review(State(s): Shared, headers: HeaderMap, Query(q): Q) -> Result<Response, WebError> {
    let auth = require(&s, &headers).await?;
    auth.require_reviewer()?;
    review_page(&s, &auth, &HashMap::new(), flash(&q), StatusCode::OK).await
}

async fn review_page(s: &AppState, auth: &Auth, errors: &HashMap<String, String>, flash: (Option<&str>, &str), status: StatusCode) -> Result<Response, WebError> {
    let r = s.ws.rubric();
    let rule_of = |id: InputId| r.rules.iter().find(|x| x.inputs.contains(&id)).map(|x| x.id.clone()).unwrap_or_default();
    let snap = s.ws.snapshot(&today()).await?;
    let current = &snap.current;
    let inputs: Vec<_> = current
        .iter()
        .filter(|v| v.review_state == ReviewState::Pending)
        .filter_map(|v| {
            let id = r.input_id(&v.input_key)?;
            if matches!(r.input(id).kind, InputKind::Judged { .. }) {
                return None;
            }
            Some(json!({ "rule": rule_of(id), "key": v.input_key, "label": r.input(id).label, "value": creditcity_app::values::display_json(&v.value_json),
                         "unit": v.unit, "source": v.source_kind.label(), "source_ref": v.source_ref, "set_by": v.set_by, "set_at": v.set_at }))
        })
        .collect();
    let files: Vec<_> = snap
        .evidence
        .iter()
        .filter(|e| e.review_state == ReviewState::Pending)
        .map(|e| {
            let item_text = r.rule(&e.rule_id).and_then(|x| x.evidence.get(usize::try_from(e.item.unwrap_or(0) - 1).ok()?)).cloned();
            json!({ "id": e.id, "name": e.original_name, "size": size_label(e.size), "rule": e.rule_id, "item": e.item, "item_text": item_text, "unit": e.unit, "by": e.uploaded_by })
        })
        .collect();
    let tasks: Vec<_> = snap.tasks.iter().filter(|t| t.status == "submitted").map(|t| json!({ "code": t.code, "title": t.title, "lead": t.lead_unit })).collect();
    let judged: Vec<_> = r
        .rules
        .iter()
        .filter_map(|rule| match rule.scoring {
            creditcity_rubric::model::Scoring::Judged { input } => {
                let key = &r.input(input).key;
                let row = current.iter().find(|v| &v.input_key == key);
                Some(json!({ "rule": rule.id, "title": rule.title, "max": format::plain(rule.max), "key": key,
                             "value": row.map(|v| creditcity_app::values::display_json(&v.value_json)), "note": row.map(|v| v.note.clone()), "error": errors.get(key) }))
            }
            _ => None,
        })
        .collect();
    let extra = Value::from_serialize(json!({ "inputs": inputs, "files": files, "tasks": tasks, "judged": judged }));
    let mut resp = page(s, auth, "review.html", "review", "评审队列", flash, extra)?;
    *resp.status_mut() = status;
    Ok(resp)
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    csrf: String,
    decision: String,
    #[serde(default)]
    comment: String,
}

pub async fn review_decide(State(s): Shared, headers: HeaderMap, Path((kind, id)): Path<(String, String)>, Form(f): Form<DecisionForm>) -> Result<Response, WebError> {
    let auth = require(&s, &headers).await?;
    auth.check_csrf(&f.csrf)?;
    auth.require_reviewer()?;
    let decision = match f.decision.as_str() {
        "accept" => Decision::Accept,
        "return" => Decision::Return,
        _ => return Err(WebError::BadRequest("decision: 应为通过或退回".to_owned())),
    };
    if !matches!(kind.as_str(), "input" | "evidence" | "task") {
        return Err(WebError::NotFound);
    }
    s.ws.review(&kind, &id, decision, f.comment.trim(), &Actor(auth.user.username.clone())).await?;
    Ok(see_other("/review?m=reviewed"))
}

#[derive(Deserialize)]
pub struct JudgedForm {
    #[serde(default)]
    csrf: String,
    value: String,
    #[serde(default)]
    justification: String,
}

pub async fn review_judged(State(s): Shared, headers: HeaderMap, Path(key): Path<String>, Form(f): Form<JudgedForm>) -> Result<Response, WebError> {
    let auth = require(&s, &headers).await?;
    auth.check_csrf(&f.csrf)?;
    auth.require_reviewer()?;
    let r = s.ws.rubric();
    let judged = r.input_id(&key).is_some_and(|i| matches!(r.input(i).kind, InputKind::Judged { .. }));
    if !judged {
        return Err(WebError::NotFound);
    }
    let who = Actor(auth.user.username.clone());
    match s.ws.set_judged(&key, f.value.trim(), f.justification.trim(), &who).await {
        Ok(_) => Ok(see_other("/review?m=saved")),
        Err(AppError::Inputs(errors)) => {
            let errs: HashMap<String, String> = errors.0.iter().map(|e| (e.key.clone(), e.message.clone())).collect();
            review_page(&s, &auth, &errs, (Some("有错误,未保存。"), "err"), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(other) => Err(other.into()),
    }
}

// ----- administration --------------------------------------------------------------------

pub async fn admin(State(s): Shared, headers: HeaderMap, Query(q): Q) -> Result<Response, WebError> {
    let auth = require(&s, &headers).await?;
    auth.require_admin()?;
    let users: Vec<_> = s
        .ws
        .users()
        .await?
        .iter()
        .map(|u| json!({ "username": u.username, "display_name": u.display_name, "role": Role::parse(&u.role).map_or("?", Role::label), "unit": u.unit, "active": u.active == 1 }))
        .collect();
    let snap = s.ws.snapshot(&today()).await?;
    let units: Vec<_> = snap.units.iter().map(|u| json!({ "id": u.id, "name": u.name, "kind": u.kind })).collect();
    let current = s.ws.assessment().id;
    let assessments: Vec<_> = s
        .ws
        .assessments()
        .await?
        .iter()
        .map(|a| json!({ "id": a.id, "city": a.city, "rubric_edition": a.rubric_edition, "period": a.period, "current": a.id == current }))
        .collect();
    let tasks: Vec<_> = snap
        .tasks
        .iter()
        .map(|t| json!({ "code": t.code, "title": t.title, "rules": t.rules.join("、"), "lead_id": t.lead_unit_id, "due": t.due_date,
                         "status_label": TaskStatus::parse(&t.status).map_or("?", TaskStatus::label) }))
        .collect();
    let roles: Vec<_> = Role::ALL.iter().map(|r| json!({ "value": r.as_str(), "label": r.label() })).collect();
    let extra = Value::from_serialize(json!({ "users": users, "units": units, "assessments": assessments, "tasks": tasks, "roles": roles,
                                             "unit_kinds": creditcity_app::plan::UNIT_KINDS }));
    page(&s, &auth, "admin.html", "admin", "管理", flash(&q), extra)
}

#[derive(Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    csrf: String,
    username: String,
    #[serde(default)]
    display_name: String,
    password: String,
    role: String,
    #[serde(default)]
    unit: String,
}

pub async fn admin_create_user(State(s): Shared, headers: HeaderMap, Form(f): Form<NewUserForm>) -> Result<Response, WebError> {
    let auth = require(&s, &headers).await?;
    auth.check_csrf(&f.csrf)?;
    auth.require_admin()?;
    let role = Role::parse(&f.role).ok_or_else(|| WebError::BadRequest("role: 角色无效".to_owned()))?;
    let unit = if f.unit.is_empty() {
        None
    } else {
        let id: i64 = f.unit.parse().map_err(|_| WebError::BadRequest("unit: 单位无效".to_owned()))?;
        Some(unit_of(&s, id).await?)
    };
    s.ws.create_user(&f.username, &f.display_name, &f.password, role, unit.as_ref(), &Actor(auth.user.username.clone())).await?;
    Ok(see_other("/admin?m=created"))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    password: String,
}

pub async fn admin_password(State(s): Shared, headers: HeaderMap, Path(name): Path<String>, Form(f): Form<PasswordForm>) -> Result<Response, WebError> {
    let auth = require(&s, &headers).await?;
    auth.check_csrf(&f.csrf)?;
    auth.require_admin()?;
    s.ws.set_password(&name, &f.password, &Actor(auth.user.username.clone())).await?;
    Ok(see_other("/admin?m=updated"))
}

#[derive(Deserialize)]
pub struct ActiveForm {
    #[serde(default)]
    csrf: String,
    active: String,
}

pub async fn admin_active(State(s): Shared, headers: HeaderMap, Path(name): Path<String>, Form(f): Form<ActiveForm>) -> Result<Response, WebError> {
    let auth = require(&s, &headers).await?;
    auth.check_csrf(&f.csrf)?;
    auth.require_admin()?;
    if name == auth.user.username {
        return Err(WebError::BadRequest("不能停用自己的账号".to_owned()));
    }
    s.ws.set_active(&name, f.active == "true", &Actor(auth.user.username.clone())).await?;
    Ok(see_other("/admin?m=updated"))
}

#[derive(Deserialize)]
pub struct UnitForm {
    #[serde(default)]
    csrf: String,
    name: String,
    kind: String,
}

pub async fn admin_add_unit(State(s): Shared, headers: HeaderMap, Form(f): Form<UnitForm>) -> Result<Response, WebError> {
    let auth = require(&s, &headers).await?;
    auth.check_csrf(&f.csrf)?;
    auth.require_admin()?;
    s.ws.add_unit(&f.name, &f.kind, &Actor(auth.user.username.clone())).await?;
    Ok(see_other("/admin?m=created"))
}

#[derive(Deserialize)]
pub struct TaskForm {
    #[serde(default)]
    csrf: String,
    lead: i64,
    #[serde(default)]
    due: String,
}

pub async fn admin_task(State(s): Shared, headers: HeaderMap, Path(code): Path<String>, Form(f): Form<TaskForm>) -> Result<Response, WebError> {
    let auth = require(&s, &headers).await?;
    auth.check_csrf(&f.csrf)?;
    auth.require_admin()?;
    let lead = unit_of(&s, f.lead).await?;
    s.ws.update_task(&code, lead.id, &f.due, &Actor(auth.user.username.clone())).await?;
    Ok(see_other("/admin?m=updated"))
}

// ----- audit -----------------------------------------------------------------------------

pub async fn audit(State(s): Shared, headers: HeaderMap, Query(q): Q) -> Result<Response, WebError> {
    let auth = require(&s, &headers).await?;
    auth.require_overview()?;
    let pick = |k: &str| q.get(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let filter = AuditFilter { assessment_id: None, entity: pick("entity"), entity_id: pick("id"), actor: pick("actor") };
    let all = s.ws.audit(filter).await?;
    let rows: Vec<_> = all
        .iter()
        .rev()
        .take(300)
        .map(|r| json!({ "at": r.at, "actor": r.actor, "action": r.action, "entity": r.entity, "entity_id": r.entity_id, "before": r.before_json, "after": r.after_json }))
        .collect();
    let extra = Value::from_serialize(json!({
        "rows": rows, "total": all.len(), "entity": pick("entity").unwrap_or_default(), "id": pick("id").unwrap_or_default(),
        "actor": pick("actor").unwrap_or_default(), "entities": ["assessment", "city", "unit", "task", "input", "evidence"],
    }));
    page(&s, &auth, "audit.html", "audit", "审计日志", (None, ""), extra)
}
