//! What leaves the application as files: the printable report, the score sheet
//! (.xlsx), the evidence package (.zip) and single evidence files. Report HTML is
//! rendered once per store version; workbooks and zips are built off the async runtime.

use creditcity_store::EvidenceId;
use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::body::Bytes;
use axum::response::{IntoResponse, Response};
use creditcity_app::accounts::Role;

use super::{cached_with, download, off_runtime, percent_encode, snapshot};
use crate::AppState;
use crate::auth::{Auth, Overview, Reviewer};
use crate::error::WebError;

type Shared = State<Arc<AppState>>;

pub async fn report(State(s): Shared, Overview(auth): Overview) -> Result<Response, WebError> {
    let snap = snapshot(&auth).await?;
    // Kept as shared bytes, plain and compressed once: each request answers the same
    // buffer without copying it.
    let (ws, at) = (auth.ws.clone(), snap.clone());
    let report: Arc<(Bytes, Bytes)> = cached_with(&s, &auth, &snap, "report".to_owned(), off_runtime(&s, |_| async move {
        let html = crate::report::html_of(&ws, &at).await?;
        let gzip = crate::gzip::join([&crate::gzip::Deflated::new(html.as_bytes(), crate::gzip::CACHED)]);
        Ok((Bytes::from(html), Bytes::from(gzip)))
    }))
    .await?;
    let body = if auth.gzip { &report.1 } else { &report.0 };
    Ok(crate::gzip::html_response(Bytes::clone(body), auth.gzip))
}

pub async fn scores(State(s): Shared, Overview(auth): Overview, Query(q): Query<HashMap<String, String>>) -> Result<Response, WebError> {
    let confirmed = q.get("confirmed").is_some_and(|v| v == "1");
    let ws = auth.ws.clone();
    let bytes = off_runtime(&s, move |_| async move { Ok(ws.export_scores(confirmed).await?) }).await?;
    Ok(download(bytes, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", &format!("{} 评分表.xlsx", auth.ws.assessment().city)))
}

pub async fn evidence_package(Reviewer(auth): Reviewer) -> Result<Response, WebError> {
    // Reading and compressing every file already runs off the async runtime.
    let (bytes, _) = auth.ws.export_evidence_bytes().await?;
    Ok(download(bytes, "application/zip", &format!("{} 迎检材料.zip", auth.ws.assessment().city)))
}

pub async fn evidence_file(auth: Auth, Path(id): Path<EvidenceId>) -> Result<Response, WebError> {
    let Some((e, bytes)) = auth.ws.evidence_file(id).await? else {
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
