//! Signing in and out. The login form has its own CSRF token (a cookie set with the
//! page), since there is no session yet; logins are throttled by user and by address,
//! counted in the store so that every server process of it shares the count.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Form;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use creditcity_app::accounts::{self, SignIn};
use serde::{Deserialize, Serialize};

use super::see_other;
use crate::AppState;
use crate::auth::{Auth, LOGIN_COOKIE, Posted, SESSION_COOKIE, cookie, require, set_cookie};
use crate::error::WebError;
use crate::views::Page;

#[derive(Serialize)]
struct LoginView<'a> {
    login_csrf: &'a str,
    error: Option<&'a str>,
    username: &'a str,
    demo: bool,
}

pub async fn login_page(State(s): State<Arc<AppState>>, headers: HeaderMap) -> Result<Response, WebError> {
    if require(&s, &headers).await.is_ok() {
        return Ok(see_other("/"));
    }
    login_form(&s, "", None, StatusCode::OK).await
}

async fn login_form(s: &AppState, username: &str, error: Option<&str>, status: StatusCode) -> Result<Response, WebError> {
    let token = accounts::new_token()?;
    let body = LoginView { login_csrf: &token, error, username, demo: s.demo };
    let site = s.workspaces.site_name().await?;
    let page = Page { user: None, csrf: &token, city: &site, nav: "", title: "登录", flash: None, flash_kind: "", body: &body };
    let mut resp = (status, s.views.render("login.html", page)?).into_response();
    resp.headers_mut().append(header::SET_COOKIE, set_cookie(LOGIN_COOKIE, &token, 3600, s.secure_cookies));
    Ok(resp)
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    csrf: String,
}

pub async fn login(State(s): State<Arc<AppState>>, ConnectInfo(addr): ConnectInfo<SocketAddr>, headers: HeaderMap, Form(f): Form<LoginForm>) -> Result<Response, WebError> {
    // Login CSRF: the form must carry the token its page set as a cookie.
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or("");
    if expected.is_empty() || !accounts::same_token(expected, &f.csrf) {
        return login_form(&s, &f.username, Some("页面已过期,请重新登录。"), StatusCode::FORBIDDEN).await;
    }
    let ip = client_address(&s, addr, &headers);
    match s.workspaces.sign_in(&f.username, &f.password, &ip).await? {
        SignIn::Session(session) => {
            tracing::info!(username = %session.user.username, "signed in");
            let mut resp = see_other("/");
            let h = resp.headers_mut();
            h.append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, &session.token, accounts::SESSION_HOURS * 3600, s.secure_cookies));
            h.append(header::SET_COOKIE, set_cookie(LOGIN_COOKIE, "", 0, s.secure_cookies));
            Ok(resp)
        }
        SignIn::Throttled => {
            tracing::warn!(username = %f.username, %ip, "login throttled");
            let m = format!("登录失败次数过多,请 {} 分钟后再试。", accounts::LOGIN_WINDOW_MINUTES);
            login_form(&s, &f.username, Some(&m), StatusCode::TOO_MANY_REQUESTS).await
        }
        SignIn::Refused => {
            tracing::warn!(username = %f.username, %ip, "failed login");
            login_form(&s, &f.username, Some("用户名或密码不正确。"), StatusCode::UNAUTHORIZED).await
        }
    }
}

/// A form with nothing but its CSRF token (checked by `Posted`).
#[derive(Deserialize)]
pub struct Empty {}

pub async fn logout(State(s): State<Arc<AppState>>, Posted(auth, Empty {}): Posted<Auth, Empty>) -> Result<Response, WebError> {
    s.workspaces.logout(&auth.token).await?;
    let mut resp = see_other("/login");
    resp.headers_mut().append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", 0, s.secure_cookies));
    Ok(resp)
}

/// The client's address: the peer's, or behind a reverse proxy (`behind_proxy`) the
/// last address of `X-Forwarded-For`, which the proxy sets (a client cannot choose it).
pub fn client_address(s: &AppState, peer: SocketAddr, headers: &HeaderMap) -> String {
    if s.behind_proxy {
        let forwarded = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).map(str::trim).rfind(|v| !v.is_empty());
        if let Some(ip) = forwarded.and_then(|v| v.parse::<std::net::IpAddr>().ok()) {
            return ip.to_string();
        }
    }
    peer.ip().to_string()
}
