//! Who is asking: the session cookie, the CSRF token, and role checks.

use axum::http::{HeaderMap, HeaderValue, header};
use creditcity_app::accounts::{Role, User, same_token};

use crate::AppState;
use crate::error::WebError;
use crate::views::UserView;

pub const SESSION_COOKIE: &str = "cc_session";
pub const LOGIN_COOKIE: &str = "cc_login";

/// A signed-in request.
pub struct Auth {
    pub user: User,
    pub csrf: String,
    pub token: String,
}

impl Auth {
    pub fn view(&self) -> UserView {
        UserView {
            display_name: self.user.display_name.clone(),
            role_label: self.user.role.label(),
            unit: self.user.unit.clone(),
            unit_id: self.user.unit_id,
            sees_everything: self.user.role.sees_everything(),
            reviews: self.user.role.reviews(),
            administers: self.user.role.administers(),
        }
    }

    /// Refuses unless the role sees the whole campaign.
    pub fn require_overview(&self) -> Result<(), WebError> {
        if self.user.role.sees_everything() { Ok(()) } else { Err(WebError::Forbidden) }
    }

    pub fn require_reviewer(&self) -> Result<(), WebError> {
        if self.user.role.reviews() { Ok(()) } else { Err(WebError::Forbidden) }
    }

    pub fn require_admin(&self) -> Result<(), WebError> {
        if self.user.role.administers() { Ok(()) } else { Err(WebError::Forbidden) }
    }

    /// May see this unit's page: its own members, and the roles that see everything.
    pub fn may_see_unit(&self, unit_id: i64) -> bool {
        self.user.role.sees_everything() || (self.user.role == Role::Unit && self.user.unit_id == Some(unit_id))
    }

    /// May change this unit's inputs, evidence and tasks: its own members and the admin.
    pub fn may_edit_unit(&self, unit_id: i64) -> bool {
        self.user.role == Role::Admin || (self.user.role == Role::Unit && self.user.unit_id == Some(unit_id))
    }

    /// Checks the CSRF token of a state-changing request.
    pub fn check_csrf(&self, provided: &str) -> Result<(), WebError> {
        if same_token(provided, &self.csrf) { Ok(()) } else { Err(WebError::Forbidden) }
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
    match state.ws.session(token).await? {
        Some((user, csrf)) => Ok(Auth { user, csrf, token: token.to_owned() }),
        None => Err(WebError::Unauthenticated),
    }
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, path /, Secure when configured.
pub fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{name}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}"))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}
