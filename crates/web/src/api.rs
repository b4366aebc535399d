//! The HTTP API of the city's platform: `POST /api/v1/datasets/{kind}` with an API token
//! (`Authorization: Bearer cc_…`, created by `creditcity token add NAME`), the file as
//! the raw request body; JSON in and out, errors as `{"error": {"message", "field"}}`
//! in Chinese. The API route reads no cookie and the session routes read no token: a
//! token reaches this route only, a session never reaches it. `GET /api/openapi.json`
//! describes it, without signing in (it holds no data).

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::body::{Bytes, HttpBody};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use creditcity_app::{AppError, Workspace};
use creditcity_app::accounts::ApiClient;
use serde::Serialize;

use crate::AppState;
use crate::error::WebError;

/// The OpenAPI 3.0 description of the API, written by hand.
pub const OPENAPI: &str = include_str!("openapi.json");

/// The machine account of a request: its `Authorization: Bearer cc_…` header, live and
/// with the scope datasets:import. Cookies are never read.
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<(ApiClient, Arc<Workspace>), ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::unauthorized("缺少接口令牌:请在请求头中提供 Authorization: Bearer cc_…(由管理员用 creditcity token add 创建)"));
    };
    let token = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).map(str::trim).unwrap_or_default();
    match state.workspaces.api_client(token).await {
        Ok(Some((client, Some(ws)))) => Ok((client, ws)),
        Ok(Some((client, None))) => {
            tracing::warn!(client = %client.name, "refused: the token's city has no assessment on the served rubric");
            Err(ApiError { status: StatusCode::FORBIDDEN, message: "接口令牌所属城市没有本版细则的评估".to_owned(), field: None })
        }
        Ok(None) => {
            tracing::warn!("refused: API token unknown, revoked or malformed");
            Err(ApiError::unauthorized("接口令牌无效或已吊销"))
        }
        Err(e) => Err(ApiError::from(WebError::App(e))),
    }
}

/// Reads and drops up to 1 MiB of a refused request's body, so that a client that sends
/// its whole file before reading the answer gets the answer rather than a broken pipe.
async fn drain(body: Body) {
    let mut left: usize = 1024 * 1024;
    let mut body = std::pin::pin!(body);
    while left > 0 {
        match std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
            Some(Ok(frame)) => left = left.saturating_sub(frame.data_ref().map_or(0, Bytes::len)),
            _ => break,
        }
    }
}

/// An error of the API, as JSON: `{"error": {"message": "…", "field": "…"}}`.
pub struct ApiError {
    status: StatusCode,
    message: String,
    field: Option<String>,
}

impl ApiError {
    fn unauthorized(message: &str) -> Self {
        Self { status: StatusCode::UNAUTHORIZED, message: message.to_owned(), field: None }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: ErrorDetail { message: &self.message, field: self.field.as_deref() } };
        let mut resp = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

impl From<WebError> for ApiError {
    fn from(e: WebError) -> Self {
        const INTERNAL: &str = "服务器内部错误,已记录;未导入任何内容";
        let (status, message, field) = match e {
            WebError::BadRequest(m) => (StatusCode::BAD_REQUEST, m, None),
            WebError::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, m, Some("file".to_owned())),
            WebError::NotFound => (StatusCode::NOT_FOUND, "没有这个对象".to_owned(), None),
            WebError::Unauthenticated => (StatusCode::UNAUTHORIZED, "接口令牌无效或已吊销".to_owned(), None),
            WebError::Forbidden => (StatusCode::FORBIDDEN, "无权执行此操作".to_owned(), None),
            WebError::App(e) => {
                let field = match &e {
                    AppError::Invalid { field, .. } => Some(field.clone()),
                    _ => None,
                };
                if let Some((status, m)) = crate::error::app_message(&e) {
                    (status, m, field)
                } else {
                    tracing::error!(error = %e, "API use-case failed");
                    (StatusCode::INTERNAL_SERVER_ERROR, INTERNAL.to_owned(), None)
                }
            }
            other => {
                tracing::error!(error = ?other, "API request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, INTERNAL.to_owned(), None)
            }
        };
        Self { status, message, field }
    }
}

/// What an import did, as the API answers it.
#[derive(Serialize)]
pub struct ImportReply {
    pub dataset_id: i64,
    pub kind: &'static str,
    pub label: &'static str,
    pub file_name: String,
    pub rows: u64,
    pub problems: usize,
    /// Inputs set from the records, each with its formula (the counts behind it).
    pub derived: Vec<DerivedReply>,
    /// Inputs the records would set but whose value was typed by hand and is kept.
    pub overridden: Vec<DerivedReply>,
    /// Inputs that cannot be derived yet, and why.
    pub not_derived: Vec<NotDerivedReply>,
}

#[derive(Serialize)]
pub struct DerivedReply {
    pub key: String,
    pub value: f64,
    pub formula: String,
}

#[derive(Serialize)]
pub struct NotDerivedReply {
    pub key: String,
    pub reason: String,
}

impl ImportReply {
    pub fn new(r: &creditcity_app::data::DataImport, file_name: &str) -> Self {
        let derived = |list: &[creditcity_app::data::DerivedInput]| list.iter().map(|d| DerivedReply { key: d.key.clone(), value: d.value, formula: d.formula.clone() }).collect();
        Self {
            dataset_id: r.dataset_id,
            kind: r.kind.id(),
            label: r.kind.label(),
            file_name: file_name.to_owned(),
            rows: r.rows,
            problems: r.problems,
            derived: derived(&r.derived),
            overridden: derived(&r.overridden),
            not_derived: r.not_derived.iter().map(|(key, reason)| NotDerivedReply { key: key.clone(), reason: reason.clone() }).collect(),
        }
    }
}

/// The name a pushed file is recorded under: the `X-File-Name` header (percent-encoded
/// UTF-8), else `{kind}.csv`.
fn file_name(parts: &HeaderMap, kind: &str) -> String {
    parts
        .get("x-file-name")
        .and_then(|v| v.to_str().ok())
        .map(percent_decode)
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| format!("{kind}.csv"))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `POST /api/v1/datasets/{kind}`: imports the body as the dataset `kind`, answering
/// when the import is done (it is one transaction: all or nothing).
pub async fn import(State(s): State<Arc<AppState>>, Path(kind): Path<String>, headers: HeaderMap, body: Body) -> Result<Response, ApiError> {
    let (client, ws) = match authenticate(&s, &headers).await {
        Ok(c) => c,
        Err(e) => {
            drain(body).await;
            return Err(e);
        }
    };
    let Some(dataset) = creditcity_data::DatasetKind::from_id(&kind) else {
        drain(body).await;
        let kinds: Vec<String> = creditcity_data::DatasetKind::ALL.iter().map(|k| format!("{}({})", k.id(), k.label())).collect();
        return Err(ApiError { status: StatusCode::NOT_FOUND, message: format!("“{kind}”不是数据集类型;可用:{}", kinds.join("、")), field: Some("kind".to_owned()) });
    };
    let name = file_name(&headers, dataset.id());
    let spooled = crate::spool::body(body, ws.spool_parent(), s.max_dataset, name).await?;
    if spooled.size == 0 {
        return Err(ApiError { status: StatusCode::BAD_REQUEST, message: "文件为空:请求体中没有数据;未导入任何内容".to_owned(), field: Some("file".to_owned()) });
    }
    let actor = client.actor();
    let r = ws.import_dataset_named(dataset.id(), &spooled.path, &spooled.name, &actor, Box::new(|_| {})).await.map_err(WebError::App)?;
    tracing::info!(client = %client.name, kind = dataset.id(), rows = r.rows, problems = r.problems, "dataset pushed through the API");
    Ok(Json(ImportReply::new(&r, &spooled.name)).into_response())
}

/// `GET /api/openapi.json`.
pub async fn openapi() -> Response {
    let mut resp = OPENAPI.into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}
