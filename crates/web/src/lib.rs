//! The web application: the credit office runs the campaign, each unit does its own
//! part, evaluators review. Server-rendered HTML in Chinese, no JavaScript framework.
//!
//! Only this crate knows HTTP and HTML. Every handler takes an authenticated extractor
//! (`Auth`, or one of the role extractors in `auth`), every POST takes a form extractor
//! that checks the session's CSRF token before the handler runs, handlers call a
//! use-case of `creditcity-app` and render. Templates escape all output.

mod api;
mod auth;
mod cache;
mod gzip;
pub mod config;
pub mod demo;
pub mod error;
mod imports;
mod linger;
mod pages;
pub mod report;
mod spool;
mod views;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue};
use axum::routing::{MethodRouter, get, post};
use creditcity_app::Workspaces;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use config::Config;
pub use error::WebError;

/// What every handler shares.
pub struct AppState {
    /// Every city's workspace; a request works in the one its session looks at.
    pub workspaces: Workspaces,
    pub views: views::Views,
    /// Behind a reverse proxy: the client's address is the proxy's `X-Forwarded-For`.
    pub behind_proxy: bool,
    pub demo: bool,
    pub max_upload: u64,
    /// The largest dataset file accepted.
    pub max_dataset: u64,
    pub secure_cookies: bool,
    /// The live progress of the dataset imports this process runs.
    imports: imports::Live,
    /// Derived page data and rendered pieces, valid for one version of the store.
    cache: cache::Cache,
}

/// Every route of the application: (method, path). The router is built from this list,
/// and the authorization matrix test checks that it covers every entry.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/rules"),
    ("GET", "/rules/{id}"),
    ("GET", "/gaps"),
    ("GET", "/report"),
    ("GET", "/export/scores.xlsx"),
    ("GET", "/export/evidence.zip"),
    ("GET", "/evidence/{id}"),
    ("GET", "/unit"),
    ("GET", "/units/{id}"),
    ("POST", "/units/{id}/inputs"),
    ("POST", "/units/{id}/evidence"),
    ("POST", "/units/{id}/tasks/{code}/submit"),
    ("GET", "/units/{id}/template.xlsx"),
    ("POST", "/units/{id}/template"),
    ("GET", "/review"),
    ("POST", "/review/group"),
    ("POST", "/review/judged/{key}"),
    ("POST", "/review/{kind}/{id}"),
    ("GET", "/admin"),
    ("POST", "/admin/users"),
    ("POST", "/admin/users/{name}/password"),
    ("POST", "/admin/users/{name}/active"),
    ("POST", "/admin/units"),
    ("POST", "/admin/tasks/{code}"),
    ("GET", "/audit"),
    ("GET", "/compare"),
    ("GET", "/compare.xlsx"),
    ("GET", "/data"),
    ("POST", "/data/import"),
    ("GET", "/data/imports/{id}"),
    ("GET", "/data/problems"),
    ("GET", "/units/{id}/problems.xlsx"),
    ("POST", "/api/v1/datasets/{kind}"),
    ("GET", "/api/openapi.json"),
    ("GET", "/cities"),
    ("GET", "/cities/{id}"),
    ("GET", "/healthz"),
];

/// The handler of one entry of [`ROUTES`].
fn handler(method: &str, path: &str, upload_limit: usize, dataset_limit: usize) -> MethodRouter<Arc<AppState>> {
    use pages::{admin, audit, cities, compare, dashboard, data, exports, review, session, units};
    let upload = DefaultBodyLimit::max(upload_limit);
    // Datasets are streamed to disk and bounded while they stream (`spool`).
    let dataset = DefaultBodyLimit::max(dataset_limit);
    match (method, path) {
        ("GET", "/") => get(dashboard::dashboard),
        ("GET", "/login") => get(session::login_page),
        ("POST", "/login") => post(session::login),
        ("POST", "/logout") => post(session::logout),
        ("GET", "/rules") => get(dashboard::rules),
        ("GET", "/rules/{id}") => get(dashboard::rule),
        ("GET", "/gaps") => get(dashboard::gaps),
        ("GET", "/report") => get(exports::report),
        ("GET", "/export/scores.xlsx") => get(exports::scores),
        ("GET", "/export/evidence.zip") => get(exports::evidence_package),
        ("GET", "/evidence/{id}") => get(exports::evidence_file),
        ("GET", "/unit") => get(units::my_unit),
        ("GET", "/units/{id}") => get(units::unit),
        ("POST", "/units/{id}/inputs") => post(units::inputs),
        ("POST", "/units/{id}/evidence") => post(units::upload).layer(upload),
        ("POST", "/units/{id}/tasks/{code}/submit") => post(units::submit),
        ("GET", "/units/{id}/template.xlsx") => get(units::template),
        ("POST", "/units/{id}/template") => post(units::template_import).layer(upload),
        ("GET", "/review") => get(review::queue),
        ("POST", "/review/group") => post(review::decide_group),
        ("POST", "/review/judged/{key}") => post(review::judged),
        ("POST", "/review/{kind}/{id}") => post(review::decide),
        ("GET", "/admin") => get(admin::show),
        ("POST", "/admin/users") => post(admin::create_user),
        ("POST", "/admin/users/{name}/password") => post(admin::password),
        ("POST", "/admin/users/{name}/active") => post(admin::active),
        ("POST", "/admin/units") => post(admin::add_unit),
        ("POST", "/admin/tasks/{code}") => post(admin::task),
        ("GET", "/audit") => get(audit::show),
        ("GET", "/compare") => get(compare::show),
        ("GET", "/compare.xlsx") => get(compare::xlsx),
        ("GET", "/data") => get(data::show),
        ("POST", "/data/import") => post(data::import).layer(dataset),
        ("GET", "/data/imports/{id}") => get(data::job),
        ("GET", "/data/problems") => get(data::problems),
        ("GET", "/units/{id}/problems.xlsx") => get(data::unit_xlsx),
        ("POST", "/api/v1/datasets/{kind}") => post(api::import).layer(dataset),
        ("GET", "/api/openapi.json") => get(api::openapi),
        ("GET", "/cities") => get(cities::list),
        ("GET", "/cities/{id}") => get(cities::switch),
        ("GET", "/healthz") => get(|| async { "ok\n" }),
        // A route listed without a handler is a programming error that every test hits.
        _ => unreachable!("no handler for {method} {path}"),
    }
}

/// All routes, with security headers and request logging.
pub fn router(state: Arc<AppState>) -> Router {
    let upload_limit = usize::try_from(state.max_upload).unwrap_or(usize::MAX).saturating_add(64 * 1024);
    let dataset_limit = usize::try_from(state.max_dataset).unwrap_or(usize::MAX).saturating_add(64 * 1024);
    let header = |name: &'static str, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(HeaderName::from_static(name), HeaderValue::from_static(value))
    };
    let mut router = Router::new();
    for (method, path) in ROUTES {
        router = router.route(path, handler(method, path, upload_limit, dataset_limit));
    }
    // A refused upload's client still gets its answer: see `linger`.
    let most = upload_limit as u64;
    router
        .layer(DefaultBodyLimit::max(256 * 1024))
        .layer(axum::middleware::from_fn(move |request, next| linger::linger(most, request, next)))
        .layer(header("x-content-type-options", "nosniff"))
        .layer(header("x-frame-options", "DENY"))
        .layer(header("referrer-policy", "same-origin"))
        .layer(header(
            "content-security-policy",
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Builds the shared state for an opened store.
pub fn state(workspaces: Workspaces, config: &Config) -> Result<Arc<AppState>, String> {
    Ok(Arc::new(AppState {
        workspaces: workspaces.with_max_evidence_bytes(config.max_upload_bytes),
        views: views::Views::new()?,
        behind_proxy: config.behind_proxy,
        demo: config.demo,
        max_upload: config.max_upload_bytes,
        max_dataset: config.max_dataset_bytes,
        secure_cookies: config.secure_cookies,
        imports: imports::Live::default(),
        cache: cache::Cache::default(),
    }))
}

/// Serves until Ctrl-C or SIGTERM, then finishes the requests in flight.
pub async fn serve(state: Arc<AppState>, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown()).await
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down: finishing requests in flight");
}
