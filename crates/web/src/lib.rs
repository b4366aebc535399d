//! The web application: the credit office runs the campaign, each unit does its own
//! part, evaluators review. Server-rendered HTML in Chinese, no JavaScript framework.
//!
//! Only this crate knows HTTP and HTML. Every handler authenticates, checks the role and
//! the object (a unit member reaches only their own unit's tasks, inputs and evidence),
//! calls a use-case of `creditcity-app`, and renders. Templates escape all output.

mod auth;
pub mod config;
pub mod demo;
pub mod error;
mod pages;
pub mod report;
mod views;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue};
use axum::routing::{get, post};
use creditcity_app::Workspace;
use creditcity_app::accounts::Throttle;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use config::Config;
pub use error::WebError;

/// What every handler shares.
pub struct AppState {
    pub ws: Workspace,
    pub views: views::Views,
    pub throttle: Throttle,
    pub ip_throttle: Throttle,
    pub demo: bool,
    pub max_upload: u64,
    pub secure_cookies: bool,
}

/// All routes, with security headers and request logging.
pub fn router(state: Arc<AppState>) -> Router {
    let upload_limit = usize::try_from(state.max_upload).unwrap_or(usize::MAX).saturating_add(64 * 1024);
    let header = |name: &'static str, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(HeaderName::from_static(name), HeaderValue::from_static(value))
    };
    Router::new()
        .route("/", get(pages::dashboard))
        .route("/login", get(pages::login_page).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/rules", get(pages::rules))
        .route("/rules/{id}", get(pages::rule))
        .route("/gaps", get(pages::gaps))
        .route("/report", get(pages::report))
        .route("/export/scores.xlsx", get(pages::export_scores))
        .route("/export/evidence.zip", get(pages::export_evidence))
        .route("/evidence/{id}", get(pages::evidence_file))
        .route("/unit", get(pages::my_unit))
        .route("/units/{id}", get(pages::unit))
        .route("/units/{id}/inputs", post(pages::unit_inputs))
        .route("/units/{id}/evidence", post(pages::unit_upload).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/units/{id}/tasks/{code}/submit", post(pages::unit_submit))
        .route("/units/{id}/template.xlsx", get(pages::unit_template))
        .route("/units/{id}/template", post(pages::unit_template_import).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/review", get(pages::review))
        .route("/review/judged/{key}", post(pages::review_judged))
        .route("/review/{kind}/{id}", post(pages::review_decide))
        .route("/admin", get(pages::admin))
        .route("/admin/users", post(pages::admin_create_user))
        .route("/admin/users/{name}/password", post(pages::admin_password))
        .route("/admin/users/{name}/active", post(pages::admin_active))
        .route("/admin/units", post(pages::admin_add_unit))
        .route("/admin/tasks/{code}", post(pages::admin_task))
        .route("/audit", get(pages::audit))
        .route("/healthz", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(256 * 1024))
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

/// Builds the shared state for an opened workspace.
pub fn state(ws: Workspace, config: &Config) -> Result<Arc<AppState>, String> {
    Ok(Arc::new(AppState {
        ws: ws.with_max_evidence_bytes(config.max_upload_bytes),
        views: views::Views::new()?,
        throttle: Throttle::new(5, Duration::from_secs(15 * 60)),
        ip_throttle: Throttle::new(30, Duration::from_secs(15 * 60)),
        demo: config.demo,
        max_upload: config.max_upload_bytes,
        secure_cookies: config.secure_cookies,
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
