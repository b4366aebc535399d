//! One error type for every handler: a status and a Chinese page for the browser;
//! internal details go to the log only (`tracing::error!`), never to the page.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use creditcity_app::AppError;
use creditcity_store::StoreError;

#[derive(Debug)]
pub enum WebError {
    /// Not signed in: to the login page.
    Unauthenticated,
    Forbidden,
    /// Signed in, but the account may see no city that has an assessment on the served
    /// rubric.
    NoCity,
    NotFound,
    /// The request is wrong in a way the person can fix; the Chinese message says how.
    BadRequest(String),
    /// An upload over its limit; the Chinese message gives the limit.
    TooLarge(String),
    /// A use-case refused or failed: mapped to a status when answered.
    App(AppError),
    /// A template failed to render.
    Template(minijinja::Error),
    /// Work moved off the async runtime did not finish.
    Task(tokio::task::JoinError),
    /// Anything else that is the server's fault; the text goes to the log only.
    Internal(String),
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        Self::App(e)
    }
}

impl From<minijinja::Error> for WebError {
    fn from(e: minijinja::Error) -> Self {
        Self::Template(e)
    }
}

impl From<tokio::task::JoinError> for WebError {
    fn from(e: tokio::task::JoinError) -> Self {
        Self::Task(e)
    }
}

/// What the browser is told about an error of a use-case: (status, message), or
/// `None` when it is the server's fault.
pub fn app_message(e: &AppError) -> Option<(StatusCode, String)> {
    match e {
        AppError::Invalid { problem, .. } => Some((StatusCode::BAD_REQUEST, problem.clone())),
        AppError::Inputs(errors) => Some((StatusCode::BAD_REQUEST, errors.to_string())),
        AppError::Cells(_) | AppError::Plan(_) | AppError::Workbook(_) => Some((StatusCode::BAD_REQUEST, e.to_string())),
        AppError::Store(StoreError::Conflict(m)) => Some((StatusCode::BAD_REQUEST, m.clone())),
        AppError::Store(StoreError::NotFound(_)) => Some((StatusCode::NOT_FOUND, "没有这个页面或对象。".to_owned())),
        AppError::Store(StoreError::TooLarge { limit }) => Some((StatusCode::BAD_REQUEST, format!("文件超过上限 {limit} 字节"))),
        AppError::Store(_) | AppError::FileRead { .. } | AppError::FileWrite { .. } | AppError::Package(_) => None,
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        const INTERNAL: &str = "服务器内部错误,已记录。请稍后再试或联系信用办。";
        let (status, heading, message) = match self {
            Self::Unauthenticated => return Redirect::to("/login").into_response(),
            Self::Forbidden => (StatusCode::FORBIDDEN, "无权访问", "您的账号无权查看或修改此内容。".to_owned()),
            Self::NoCity => (StatusCode::FORBIDDEN, "没有可查看的城市", "您的账号尚未分配城市,或该城市尚未建立本版细则的评估。请联系信用办。".to_owned()),
            Self::NotFound => (StatusCode::NOT_FOUND, "未找到", "没有这个页面或对象。".to_owned()),
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, "无法完成", m),
            Self::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, "文件过大", m),
            Self::App(e) => {
                if let Some((status, m)) = app_message(&e) {
                    (status, if status == StatusCode::NOT_FOUND { "未找到" } else { "无法完成" }, m)
                } else {
                    tracing::error!(error = %e, "use-case failed");
                    (StatusCode::INTERNAL_SERVER_ERROR, "出错了", INTERNAL.to_owned())
                }
            }
            Self::Template(e) => {
                tracing::error!(error = %format!("{e:#}"), "template failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "出错了", INTERNAL.to_owned())
            }
            Self::Task(e) => {
                tracing::error!(error = %e, "background work failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "出错了", INTERNAL.to_owned())
            }
            Self::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, "出错了", INTERNAL.to_owned())
            }
        };
        (status, crate::views::error_page(heading, &message)).into_response()
    }
}
