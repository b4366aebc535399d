//! One error type for every handler: a status and a page; details go to the log only.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use creditcity_app::AppError;
use creditcity_store::StoreError;

#[derive(Debug)]
pub enum WebError {
    /// Not signed in: to the login page.
    Unauthenticated,
    Forbidden,
    NotFound,
    /// The request is wrong in a way the person can fix; the message says how.
    BadRequest(String),
    Internal(String),
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid { field, problem } => Self::BadRequest(format!("{field}: {problem}")),
            e @ (AppError::Inputs(_) | AppError::Cells(_) | AppError::Plan(_) | AppError::Workbook(_) | AppError::Store(StoreError::TooLarge { .. })) => {
                Self::BadRequest(e.to_string())
            }
            AppError::Store(StoreError::Conflict(m)) => Self::BadRequest(m),
            AppError::Store(StoreError::NotFound(_)) => Self::NotFound,
            AppError::Store(other) => Self::Internal(other.to_string()),
            e @ (AppError::FileRead { .. } | AppError::FileWrite { .. } | AppError::Package(_)) => Self::Internal(e.to_string()),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, heading, message) = match self {
            Self::Unauthenticated => return Redirect::to("/login").into_response(),
            Self::Forbidden => (StatusCode::FORBIDDEN, "无权访问", "您的账号无权查看或修改此内容。".to_owned()),
            Self::NotFound => (StatusCode::NOT_FOUND, "未找到", "没有这个页面或对象。".to_owned()),
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, "无法完成", m),
            Self::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, "出错了", "服务器内部错误,已记录。请稍后再试或联系信用办。".to_owned())
            }
        };
        (status, crate::views::error_page(heading, &message)).into_response()
    }
}
