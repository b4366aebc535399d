//! Who is asking, as axum extractors, so that no handler can forget to check:
//! `Auth` (signed in, else to the login page), `Overview`, `Reviewer` and `Admin`
//! (signed in with that role, else 403), and `Posted` / `Uploaded` (a form whose CSRF
//! token is the session's, checked before the handler runs).

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Multipart, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use creditcity_app::accounts::{Role, User, same_token};
use creditcity_app::{SignedIn, Workspace};
use creditcity_store::UnitId;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::WebError;
use crate::views::UserView;

pub const SESSION_COOKIE: &str = "cc_session";
pub const LOGIN_COOKIE: &str = "cc_login";

/// A signed-in request, with the workspace of the city the session looks at (one the
/// account may see, checked on every request).
pub struct Auth {
    pub user: User,
    pub csrf: String,
    pub token: String,
    pub ws: Arc<Workspace>,
    /// The workspace's version, read with the session.
    pub version: Option<i64>,
    /// The request takes a gzip body (`Accept-Encoding`).
    pub gzip: bool,
}

impl Auth {
    pub fn view(&self) -> UserView {
        UserView {
            display_name: self.user.display_name.clone(),
            role_label: self.user.role.label(),
            spans_cities: self.user.role.spans_cities(),
            unit: self.user.unit.clone(),
            unit_id: self.user.unit_id,
            sees_everything: self.user.role.sees_everything(),
            reviews: self.user.role.reviews(),
            administers: self.user.role.administers(),
        }
    }

    /// May see this unit's page: its own members, and the roles that see everything.
    pub fn may_see_unit(&self, unit_id: UnitId) -> bool {
        self.user.role.sees_everything() || (self.user.role == Role::Unit && self.user.unit_id == Some(unit_id))
    }

    /// May change this unit's inputs, evidence and tasks: its own members and the admin.
    pub fn may_edit_unit(&self, unit_id: UnitId) -> bool {
        self.user.role == Role::Admin || (self.user.role == Role::Unit && self.user.unit_id == Some(unit_id))
    }

    /// The unit of this city with this id: another city's unit is not found.
    pub async fn unit(&self, unit_id: UnitId) -> Result<creditcity_store::UnitRow, WebError> {
        self.ws.plan().await?.units.iter().find(|u| u.id == unit_id).cloned().ok_or(WebError::NotFound)
    }
}

pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The signed-in user, or `Unauthenticated`.
pub async fn require(state: &AppState, headers: &HeaderMap) -> Result<Auth, WebError> {
    let Some(token) = cookie(headers, SESSION_COOKIE).filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())) else {
        return Err(WebError::Unauthenticated);
    };
    match state.workspaces.session(token).await? {
        Some(SignedIn { user, csrf, workspace: Some(ws), version }) => {
            Ok(Auth { user, csrf, token: token.to_owned(), ws, version, gzip: crate::gzip::accepted(headers) })
        }
        Some(SignedIn { workspace: None, .. }) => Err(WebError::NoCity),
        None => Err(WebError::Unauthenticated),
    }
}

impl FromRequestParts<Arc<AppState>> for Auth {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, WebError> {
        require(state, &parts.headers).await
    }
}

/// An extractor that is a signed-in user with some right.
pub trait Signed: Sized {
    fn auth(&self) -> &Auth;
}

impl Signed for Auth {
    fn auth(&self) -> &Auth {
        self
    }
}

macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, $allowed:expr) => {
        $(#[$doc])*
        pub struct $name(pub Auth);

        impl Signed for $name {
            fn auth(&self) -> &Auth {
                &self.0
            }
        }

        impl FromRequestParts<Arc<AppState>> for $name {
            type Rejection = WebError;

            async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, WebError> {
                let auth = require(state, &parts.headers).await?;
                let allowed: fn(Role) -> bool = $allowed;
                if allowed(auth.user.role) { Ok(Self(auth)) } else { Err(WebError::Forbidden) }
            }
        }
    };
}

role_extractor!(
    /// A role that sees the whole campaign (credit office, evaluators, viewers).
    Overview,
    Role::sees_everything
);
role_extractor!(
    /// A role that reviews (credit office, evaluators).
    Reviewer,
    Role::reviews
);
role_extractor!(
    /// The administrator (credit office).
    Admin,
    Role::administers
);

/// A url-encoded form posted by `A`, its `csrf` field checked against the session's
/// token before the handler sees it; the form itself is `T`.
pub struct Posted<A, T>(pub A, pub T);

impl<A, T> FromRequest<Arc<AppState>> for Posted<A, T>
where
    A: FromRequestParts<Arc<AppState>, Rejection = WebError> + Signed + Send,
    T: DeserializeOwned + Send,
{
    type Rejection = WebError;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, WebError> {
        let (mut parts, body) = req.into_parts();
        let who = A::from_request_parts(&mut parts, state).await?;
        let urlencoded = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !urlencoded {
            return Err(WebError::BadRequest("请通过页面上的表单提交。".to_owned()));
        }
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state).await.map_err(|e| unreadable(&e))?;
        let fields: Vec<(String, String)> = parse_form(bytes.clone()).await?;
        let provided = fields.iter().find(|(k, _)| k == "csrf").map_or("", |(_, v)| v.as_str());
        if !same_token(provided, &who.auth().csrf) {
            tracing::warn!(user = %who.auth().user.username, "refused: CSRF token missing or wrong");
            return Err(WebError::Forbidden);
        }
        Ok(Self(who, parse_form(bytes).await?))
    }
}

async fn parse_form<T: DeserializeOwned>(bytes: Bytes) -> Result<T, WebError> {
    let req = Request::builder()
        .method(Method::POST)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(bytes))
        .map_err(|e| WebError::Internal(e.to_string()))?;
    axum::Form::<T>::from_request(req, &()).await.map(|f| f.0).map_err(|e| {
        tracing::warn!(error = %e, "form refused");
        WebError::BadRequest("表单内容不完整或格式不对,请在页面上重新填写。".to_owned())
    })
}

fn unreadable(e: &dyn std::fmt::Display) -> WebError {
    tracing::warn!(error = %e, "request body could not be read");
    WebError::BadRequest("上传中断或超过大小上限,请重试。".to_owned())
}

/// A multipart form (a file upload) posted by `A`, read whole, its CSRF token checked.
pub struct Uploaded<A> {
    pub who: A,
    /// The `target` field (a checklist item), empty if absent.
    pub target: String,
    /// The file: its name and bytes.
    pub file: Option<(String, Bytes)>,
}

impl<A> FromRequest<Arc<AppState>> for Uploaded<A>
where
    A: FromRequestParts<Arc<AppState>, Rejection = WebError> + Signed + Send,
{
    type Rejection = WebError;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, WebError> {
        let (mut parts, body) = req.into_parts();
        let who = A::from_request_parts(&mut parts, state).await?;
        let mut multipart = Multipart::from_request(Request::from_parts(parts, body), state).await.map_err(|e| unreadable(&e))?;
        let (mut csrf, mut target, mut file) = (String::new(), String::new(), None);
        while let Some(field) = multipart.next_field().await.map_err(|e| unreadable(&e))? {
            match field.name() {
                Some("csrf") => csrf = field.text().await.map_err(|e| unreadable(&e))?,
                Some("target") => target = field.text().await.map_err(|e| unreadable(&e))?,
                Some("file") => {
                    let name = field.file_name().unwrap_or("file").to_owned();
                    file = Some((name, field.bytes().await.map_err(|e| unreadable(&e))?));
                }
                _ => {}
            }
        }
        if !same_token(&csrf, &who.auth().csrf) {
            tracing::warn!(user = %who.auth().user.username, "refused: CSRF token missing or wrong");
            return Err(WebError::Forbidden);
        }
        Ok(Self { who, target, file })
    }
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, path /, Secure when configured.
pub fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{name}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}"))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A dataset posted from a page by `A`: a multipart form with `csrf`, `kind` and `file`,
/// the file streamed to disk as it arrives (bounded by the dataset limit), the CSRF
/// token checked before the handler sees anything.
pub struct DatasetUpload<A> {
    pub who: A,
    /// The declared dataset kind (`register`, `licences`, …), empty if absent.
    pub kind: String,
    /// The file, unless none was chosen.
    pub file: Option<crate::spool::Spooled>,
}

impl<A> FromRequest<Arc<AppState>> for DatasetUpload<A>
where
    A: FromRequestParts<Arc<AppState>, Rejection = WebError> + Signed + Send,
{
    type Rejection = WebError;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, WebError> {
        let (mut parts, body) = req.into_parts();
        let who = A::from_request_parts(&mut parts, state).await?;
        let limit = state.max_dataset;
        let mut multipart = Multipart::from_request(Request::from_parts(parts, body), state).await.map_err(|e| unreadable(&e))?;
        let (mut csrf, mut kind, mut file) = (String::new(), String::new(), None);
        while let Some(mut field) = multipart.next_field().await.map_err(|e| upload_error(&e, limit))? {
            match field.name() {
                Some("csrf") => csrf = field.text().await.map_err(|e| unreadable(&e))?,
                Some("kind") => kind = field.text().await.map_err(|e| unreadable(&e))?,
                Some("file") => {
                    // Nothing is spooled for a session that is not the form's.
                    if !same_token(&csrf, &who.auth().csrf) {
                        break;
                    }
                    let name = field.file_name().unwrap_or_default().to_owned();
                    let mut spool = crate::spool::Spool::new(who.auth().ws.spool_parent(), limit).await?;
                    while let Some(chunk) = field.chunk().await.map_err(|e| upload_error(&e, limit))? {
                        spool.write(&chunk).await?;
                    }
                    let spooled = spool.finish(name).await?;
                    if !(spooled.name.is_empty() && spooled.size == 0) {
                        file = Some(spooled);
                    }
                }
                _ => {}
            }
        }
        if !same_token(&csrf, &who.auth().csrf) {
            tracing::warn!(user = %who.auth().user.username, "refused: CSRF token missing or wrong");
            return Err(WebError::Forbidden);
        }
        Ok(Self { who, kind, file })
    }
}

/// A multipart stream that failed: over the limit, or cut off.
fn upload_error(e: &axum::extract::multipart::MultipartError, limit: u64) -> WebError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        return crate::spool::too_large(limit);
    }
    unreadable(e)
}
