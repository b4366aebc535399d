//! The handlers, by area: each takes an authenticated extractor (and, for a POST, a
//! CSRF-checked form), checks the object, calls a use-case of `creditcity-app`, renders.
//! Page data derived from the store is computed once per store version (`cached`).

pub mod admin;
pub mod audit;
pub mod cities;
pub mod compare;
pub mod dashboard;
pub mod data;
pub mod exports;
pub mod review;
pub mod session;
pub mod units;

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use creditcity_app::Snapshot;
use serde::Serialize;

use crate::AppState;
use crate::auth::Auth;
use crate::error::WebError;
use crate::views::{CSRF_SLOT, Content, NoBody, Page};

pub use dashboard::gates_json;

/// Messages shown after a redirect; only these codes, never reflected text.
pub fn flash(q: &HashMap<String, String>) -> (Option<&'static str>, &'static str) {
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

/// Renders a page in the frame every signed-in page shares.
pub fn page<T: Serialize>(state: &AppState, auth: &Auth, name: &str, nav: &str, title: &str, flash: (Option<&str>, &str), body: &T) -> Result<Response, WebError> {
    let ctx = Page { user: Some(auth.view()), csrf: &auth.csrf, city: &auth.ws.assessment().city, nav, title, flash: flash.0, flash_kind: flash.1, body };
    Ok(state.views.render(name, ctx)?.into_response())
}

/// A response with another status (a form shown again with its errors).
pub fn with_status(mut resp: Response, status: StatusCode) -> Response {
    *resp.status_mut() = status;
    resp
}

/// Which page a cached page is, and where it sits in the navigation.
pub struct Spec<'a> {
    pub template: &'static str,
    pub nav: &'static str,
    pub title: &'a str,
    /// The cache key: the page, its object and whatever else changes its content.
    pub key: String,
}

/// A page whose content is the same for everyone who may see it with the same `key`
/// (but for the CSRF token of its forms): `compute` builds its view and the content is
/// rendered once per store version; each request only frames it.
pub async fn cached_page<T, F>(s: &Arc<AppState>, auth: &Auth, spec: Spec<'_>, flash: (Option<&str>, &str), compute: F) -> Result<Response, WebError>
where
    T: Serialize,
    F: FnOnce(&AppState, &Snapshot) -> Result<T, WebError> + Send + 'static,
{
    let snap = snapshot(auth).await?;
    cached_page_at(s, auth, &snap, spec, flash, compute).await
}

/// [`cached_page`] at a snapshot the handler already holds (one read of the store's
/// version a request, not two).
pub async fn cached_page_at<T, F>(s: &Arc<AppState>, auth: &Auth, snap: &Arc<Snapshot>, spec: Spec<'_>, flash: (Option<&str>, &str), compute: F) -> Result<Response, WebError>
where
    T: Serialize,
    F: FnOnce(&AppState, &Snapshot) -> Result<T, WebError> + Send + 'static,
{
    let (template, nav, title, user) = (spec.template, spec.nav, spec.title.to_owned(), auth.view());
    let city = auth.ws.assessment().city.clone();
    let content: Arc<Content> = cached(s, auth, snap, format!("html:{}", spec.key), move |s, snap| {
        let body = compute(s, snap)?;
        let page = Page { user: Some(user), csrf: CSRF_SLOT, city: &city, nav, title: &title, flash: None, flash_kind: "", body: &body };
        s.views.render_content(template, page)
    })
    .await?;
    framed(s, auth, nav, spec.title, flash, &content)
}

/// Content rendered with [`CSRF_SLOT`] for the token, in the frame of every signed-in
/// page, with this session's token.
pub fn framed(s: &AppState, auth: &Auth, nav: &str, title: &str, flash: (Option<&str>, &str), content: &Content) -> Result<Response, WebError> {
    let page = Page { user: Some(auth.view()), csrf: CSRF_SLOT, city: &auth.ws.assessment().city, nav, title, flash: flash.0, flash_kind: flash.1, body: &NoBody {} };
    s.views.frame(&page, content, &auth.csrf, auth.gzip)
}

pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// The snapshot of today (Beijing time) of the city the request works in.
pub async fn snapshot(auth: &Auth) -> Result<Arc<Snapshot>, WebError> {
    Ok(auth.ws.snapshot_at(auth.version, &creditcity_app::today()).await?)
}

/// Data derived from the snapshot of the request's city, computed once per version of
/// that city and day (off the async runtime) and shared by every request until it
/// changes.
pub async fn cached<T, F>(s: &Arc<AppState>, auth: &Auth, snap: &Arc<Snapshot>, key: String, compute: F) -> Result<Arc<T>, WebError>
where
    T: Send + Sync + 'static,
    F: FnOnce(&AppState, &Snapshot) -> Result<T, WebError> + Send + 'static,
{
    let (state, snapshot) = (s.clone(), snap.clone());
    cached_with(s, auth, snap, key, async move { tokio::task::spawn_blocking(move || compute(&state, &snapshot)).await? }).await
}

/// A file to download, named in UTF-8.
pub fn download(bytes: Vec<u8>, content_type: &'static str, name: &str) -> Response {
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let disposition = format!("attachment; filename*=UTF-8''{}", percent_encode(name));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")));
    resp
}

pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// `cached` for data that needs the store as well as the snapshot: `compute` runs only
/// when the entry is missing or stale. Entries are the request's city's: its
/// assessment is part of the key.
pub async fn cached_with<T, Fut>(s: &AppState, auth: &Auth, snap: &Snapshot, key: String, compute: Fut) -> Result<Arc<T>, WebError>
where
    T: Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<T, WebError>>,
{
    let key = format!("a{}:{key}", auth.ws.assessment().id);
    cached_at(s, key, snap.version, &snap.today, compute).await
}

/// An entry kept under `key` for one `version` (and day).
pub async fn cached_at<T, Fut>(s: &AppState, key: String, version: i64, today: &str, compute: Fut) -> Result<Arc<T>, WebError>
where
    T: Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<T, WebError>>,
{
    if let Some(v) = s.cache.get::<T>(&key, version, today) {
        return Ok(v);
    }
    let lock = s.cache.computing(&key);
    let _computing = lock.lock().await;
    if let Some(v) = s.cache.get::<T>(&key, version, today) {
        return Ok(v);
    }
    let value = Arc::new(compute.await?);
    s.cache.put(key, version, today, value.clone());
    Ok(value)
}

/// Runs a use-case that is mostly CPU or file work (a workbook, a zip, the report) on
/// the blocking pool, so that it does not hold up the async runtime.
pub async fn off_runtime<T, F, Fut>(s: &Arc<AppState>, work: F) -> Result<T, WebError>
where
    T: Send + 'static,
    F: FnOnce(Arc<AppState>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<T, WebError>>,
{
    let state = s.clone();
    tokio::task::spawn_blocking(move || tokio::runtime::Handle::current().block_on(work(state))).await?
}
