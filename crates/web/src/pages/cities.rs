//! The cities an account may see (an evaluator's assigned cities, a province office's
//! province), and switching the session to one of them. Whether the account may see a
//! city is checked again on every request (`Workspaces::session`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use creditcity_store::CityId;
use serde::Serialize;

use super::{page, see_other};
use crate::AppState;
use crate::auth::Auth;
use crate::error::WebError;

type Shared = State<Arc<AppState>>;

#[derive(Serialize)]
struct CitiesView {
    cities: Vec<CityView>,
    /// The account's role (`province`, `evaluator`, …): what the page says about it.
    role: &'static str,
}

#[derive(Serialize)]
struct CityView {
    id: CityId,
    name: String,
    province: Option<String>,
    /// Has an assessment on the served rubric (else it cannot be opened).
    served: bool,
    period: String,
    current: bool,
}

pub async fn list(State(s): Shared, auth: Auth) -> Result<Response, WebError> {
    let assessments = s.workspaces.assessments().await?;
    let edition = &s.workspaces.rubric().edition;
    let current = auth.ws.assessment().city_id;
    let cities = s
        .workspaces
        .cities_of(&auth.user)
        .await?
        .into_iter()
        .map(|c| {
            let newest = assessments.iter().filter(|a| a.city_id == c.id && &a.rubric_edition == edition).max_by_key(|a| a.id);
            CityView { served: newest.is_some(), period: newest.map(|a| a.period.clone()).unwrap_or_default(), current: c.id == current, id: c.id, name: c.name, province: c.province }
        })
        .collect();
    let view = CitiesView { cities, role: auth.user.role.as_str() };
    page(&s, &auth, "cities.html", "cities", "可查看的城市", (None, ""), &view)
}

/// `GET /cities/{id}?next=/rules/7.2a`: the session looks at that city from now on (if
/// the account may see it; else 404), then goes to `next` (a path of this site) or
/// the dashboard. A GET, so that the comparison's cells can be plain links: the
/// session cookie is `SameSite=Strict`, so no other site can switch it.
pub async fn switch(State(s): Shared, auth: Auth, Path(id): Path<CityId>, Query(q): Query<HashMap<String, String>>) -> Result<Response, WebError> {
    s.workspaces.switch_city(&auth.token, &auth.user, id).await?;
    let next = q.get("next").map(String::as_str).filter(|n| local_path(n)).unwrap_or("/");
    Ok(see_other(next))
}

/// A path of this site: `/…`, never `//host` or `/\host` (which browsers read as another
/// site), no control characters.
fn local_path(p: &str) -> bool {
    p.starts_with('/') && !p.starts_with("//") && !p.starts_with("/\\") && !p.chars().any(char::is_control) && p.len() <= 512
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_paths_of_this_site_are_followed() {
        assert!(local_path("/rules/7.2a"));
        assert!(local_path("/rules#s3"));
        assert!(!local_path("//evil.example/"));
        assert!(!local_path("/\\evil.example"));
        assert!(!local_path("https://evil.example/"));
        assert!(!local_path("/a\nSet-Cookie: x"));
    }
}
