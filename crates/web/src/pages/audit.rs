//! The audit log, newest first: paged and filtered in SQL (`Workspace::audit_page`), so
//! a page never reads more than it shows. Older/newer links carry the way back.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Response;
use creditcity_store::AuditFilter;
use serde::{Deserialize, Serialize};

use super::{cached_with, framed, percent_encode};
use crate::AppState;
use crate::auth::Overview;
use crate::error::WebError;
use crate::views::{self, CSRF_SLOT, Page};

/// Entries on one page.
const PAGE: u32 = 100;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AuditQuery {
    entity: String,
    id: String,
    actor: String,
    /// Show entries older than this id (absent: from the newest).
    before: Option<i64>,
    /// The `before` of each newer page, comma-separated ("0" for the newest): the way back.
    trail: String,
}

#[derive(Serialize)]
struct AuditView {
    rows: Vec<Row>,
    total: u64,
    entity: String,
    id: String,
    actor: String,
    entities: [&'static str; 6],
    older: Option<String>,
    newer: Option<String>,
}

#[derive(Serialize)]
struct Row {
    at: String,
    actor: String,
    action: String,
    entity: String,
    entity_id: String,
    before: Option<String>,
    after: Option<String>,
}

pub async fn show(State(s): State<Arc<AppState>>, Overview(auth): Overview, Query(q): Query<AuditQuery>) -> Result<Response, WebError> {
    let snap = super::snapshot(&auth).await?;
    // One page of one filter, rendered once per store version.
    let key = format!("html:audit:{}\u{1f}{}\u{1f}{}\u{1f}{:?}\u{1f}{}", q.entity, q.id, q.actor, q.before, q.trail);
    let content = cached_with(&s, &auth, &snap, key, async {
        let view = audit_view(&auth.ws, q).await?;
        let page = Page { user: Some(auth.view()), csrf: CSRF_SLOT, city: &auth.ws.assessment().city, nav: "audit", title: "审计日志", flash: None, flash_kind: "", body: &view };
        s.views.render_content("audit.html", page)
    })
    .await?;
    framed(&s, &auth, "audit", "审计日志", (None, ""), &content)
}

async fn audit_view(ws: &creditcity_app::Workspace, q: AuditQuery) -> Result<AuditView, WebError> {
    let pick = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    let filter = AuditFilter { assessment_id: None, entity: pick(&q.entity), entity_id: pick(&q.id), actor: pick(&q.actor) };
    let found = ws.audit_page(filter, q.before, PAGE).await?;
    let trail: Vec<i64> = q.trail.split(',').filter_map(|t| t.parse().ok()).collect();
    let base = format!("/audit?entity={}&id={}&actor={}", percent_encode(q.entity.trim()), percent_encode(q.id.trim()), percent_encode(q.actor.trim()));
    let join = |t: &[i64]| t.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let older = found.next_before.map(|b| {
        let mut t = trail.clone();
        t.push(q.before.unwrap_or(0));
        format!("{base}&before={b}&trail={}", join(&t))
    });
    let newer = trail.split_last().map(|(last, rest)| {
        let before = if *last == 0 { String::new() } else { format!("&before={last}") };
        format!("{base}{before}&trail={}", join(rest))
    });
    Ok(AuditView {
        rows: found
            .rows
            .into_iter()
            .map(|r| Row { at: views::when(&r.at), actor: r.actor, action: r.action, entity: r.entity, entity_id: r.entity_id, before: r.before_json, after: r.after_json })
            .collect(),
        total: found.total,
        entity: q.entity,
        id: q.id,
        actor: q.actor,
        entities: ["assessment", "city", "unit", "task", "input", "evidence"],
        older,
        newer,
    })
}
