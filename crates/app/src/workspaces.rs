//! Every city's workspace of one store, for a server that serves them all: which city a
//! session looks at (one its account may see), that city's assessment opened once and
//! shared, and what is store-wide (signing in, accounts, provinces).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use creditcity_rubric::Rubric;
use creditcity_store::{AssessmentId, AssessmentRow, CityId, CityRow, Location, ProvinceRow, Store, UserRow};

use crate::accounts::{self, ApiClient, Belongs, Role, SignIn, User};
use crate::compare::Comparison;
use crate::{AppError, Result, Workspace, invalid};

/// A signed-in session: its account, CSRF token, and the workspace of the city it
/// looks at (`None` when the account may see no city with an assessment on the served
/// edition).
#[derive(Clone)]
pub struct SignedIn {
    pub user: User,
    pub csrf: String,
    pub workspace: Option<Arc<Workspace>>,
    /// The workspace's version, read with the session (for `Workspace::snapshot_at`);
    /// `None` when it must be read apart (a pinned assessment).
    pub version: Option<i64>,
}

/// The workspaces of a store's cities, each opened once, on the served rubric.
pub struct Workspaces {
    store: Store,
    rubric: Rubric,
    max_evidence_bytes: u64,
    /// The assessment served for its city instead of the city's newest one.
    pinned: Option<AssessmentRow>,
    open: Mutex<HashMap<AssessmentId, Arc<Workspace>>>,
}

impl Workspaces {
    /// Opens the store. `pin` (an assessment's id or city) serves that assessment for
    /// its city; every other city is served at its newest assessment on `rubric`.
    pub async fn open(location: &Location, rubric: Rubric, pin: Option<&str>) -> Result<Self> {
        let store = Store::open_existing(location).await?;
        let all = store.assessments().await?;
        if !all.iter().any(|a| a.rubric_edition == rubric.edition) {
            let hint = if all.is_empty() { "存储中还没有评估;先运行 creditcity init --city 城市名".to_owned() } else { format!("存储中没有 {} 版细则的评估", rubric.edition) };
            return Err(invalid("assessment", hint));
        }
        let pinned = match pin {
            Some(s) => {
                let found = all.iter().find(|a| a.id.to_string() == s || a.city == s).cloned();
                let a = found.ok_or_else(|| invalid("assessment", format!("没有“{s}”的评估")))?;
                if a.rubric_edition != rubric.edition {
                    return Err(invalid("rubric", format!("评估 {} 按 {} 版细则建立,当前细则为 {} 版", a.id, a.rubric_edition, rubric.edition)));
                }
                Some(a)
            }
            None => None,
        };
        Ok(Self { store, rubric, max_evidence_bytes: crate::DEFAULT_MAX_EVIDENCE_BYTES, pinned, open: Mutex::new(HashMap::new()) })
    }

    #[must_use]
    pub fn with_max_evidence_bytes(mut self, limit: u64) -> Self {
        self.max_evidence_bytes = limit;
        self
    }

    pub fn rubric(&self) -> &Rubric {
        &self.rubric
    }

    pub(crate) fn store_ref(&self) -> &Store {
        &self.store
    }

    /// Every assessment of the store.
    pub async fn assessments(&self) -> Result<Vec<AssessmentRow>> {
        Ok(self.store.assessments().await?)
    }

    /// The workspace of an assessment, opened once.
    pub async fn workspace(&self, id: AssessmentId) -> Result<Arc<Workspace>> {
        if let Some(ws) = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&id) {
            return Ok(ws.clone());
        }
        let row = self.store.assessment(id).await?;
        let ws = Arc::new(Workspace::on(self.store.clone(), self.rubric.clone(), row)?.with_max_evidence_bytes(self.max_evidence_bytes));
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(open.entry(id).or_insert(ws).clone())
    }

    /// The served workspace of a city: the pinned assessment, else its newest on the
    /// served rubric.
    pub async fn city(&self, city: CityId) -> Result<Option<Arc<Workspace>>> {
        if let Some(p) = self.pinned.as_ref().filter(|p| p.city_id == city) {
            return self.workspace(p.id).await.map(Some);
        }
        let newest = self.store.assessments().await?.into_iter().filter(|a| a.city_id == city && a.rubric_edition == self.rubric.edition).map(|a| a.id).max();
        match newest {
            Some(id) => self.workspace(id).await.map(Some),
            None => Ok(None),
        }
    }

    /// Signs in from a client `address`, throttled by account and by address (see
    /// [`accounts::LOGIN_LIMIT_ACCOUNT`]).
    pub async fn sign_in(&self, username: &str, password: &str, address: &str) -> Result<SignIn> {
        accounts::sign_in(&self.store, username, password, address).await
    }

    /// What the site is called before anyone signs in: the city, when the store holds
    /// one; the province, when all its cities are one province's.
    pub async fn site_name(&self) -> Result<String> {
        let cities = self.store.cities().await?;
        Ok(match cities.as_slice() {
            [one] => one.name.clone(),
            [first, ..] if first.province.is_some() && cities.iter().all(|c| c.province == first.province) => first.province.clone().unwrap_or_default(),
            _ => "社会信用体系建设示范城市评估".to_owned(),
        })
    }

    pub async fn logout(&self, token: &str) -> Result<()> {
        accounts::logout(&self.store, token).await
    }

    /// The session of a token, while it lives, with the workspace of the city it looks
    /// at: whether the account may see that city is checked here, on every request,
    /// against what is stored (another process may have changed it).
    pub async fn session(&self, token: &str) -> Result<Option<SignedIn>> {
        let Some(row) = self.store.session(&accounts::token_hash(token), &self.rubric.edition).await? else { return Ok(None) };
        let Some(user) = User::from_row(&row.user) else { return Ok(None) };
        let (workspace, version) = match (row.city_id, &self.pinned) {
            (Some(city), Some(p)) if p.city_id == city => (Some(self.workspace(p.id).await?), None),
            (_, _) => match row.assessment_id {
                Some(id) => (Some(self.workspace(id).await?), Some(row.version)),
                None => (None, None),
            },
        };
        Ok(Some(SignedIn { user, csrf: row.csrf, workspace, version }))
    }

    /// The cities an account may see, in order.
    pub async fn cities_of(&self, user: &User) -> Result<Vec<CityRow>> {
        self.cities_of_account(user.id).await
    }

    /// [`Workspaces::cities_of`] by the account's id.
    pub async fn cities_of_account(&self, user_id: i64) -> Result<Vec<CityRow>> {
        Ok(self.store.cities_of_user(user_id).await?)
    }

    /// The session looks at `city` from now on, if its account may see it.
    pub async fn switch_city(&self, token: &str, user: &User, city: CityId) -> Result<()> {
        if !self.cities_of(user).await?.iter().any(|c| c.id == city) {
            return Err(AppError::Store(creditcity_store::StoreError::NotFound(format!("没有城市 {city}"))));
        }
        Ok(self.store.set_session_city(&accounts::token_hash(token), city).await?)
    }

    /// The comparison of the cities an account may see.
    pub async fn compare(&self, user: &User, today: &str) -> Result<Comparison> {
        let cities: BTreeSet<CityId> = self.cities_of(user).await?.into_iter().map(|c| c.id).collect();
        crate::compare::compare_cities(&self.store, &self.rubric, &cities, today).await
    }

    /// A number that grows with every change of any city, in commit order, whichever
    /// process wrote it.
    pub async fn version(&self) -> Result<i64> {
        Ok(self.store.version().await?)
    }

    /// The machine account a presented token belongs to, if the token is live and may
    /// import datasets; with its city's workspace.
    pub async fn api_client(&self, token: &str) -> Result<Option<(ApiClient, Option<Arc<Workspace>>)>> {
        let token = token.trim();
        if !token.starts_with("cc_") || token.len() != 67 {
            return Ok(None);
        }
        let Some(t) = self.store.use_api_token(&accounts::token_hash(token)).await?.filter(|t| t.scope == accounts::API_SCOPE_DATASETS) else {
            return Ok(None);
        };
        let workspace = match t.city_id {
            Some(city) => self.city(city).await?,
            None => None,
        };
        Ok(Some((ApiClient { name: t.name, city_id: t.city_id }, workspace)))
    }

    /// Whether an active credit-office administrator exists: without one nobody can
    /// sign in to run a campaign (`creditcity user add NAME --role admin` makes the first).
    pub async fn has_active_admin(&self) -> Result<bool> {
        Ok(self.store.users().await?.iter().any(|u| u.active == 1 && u.role == Role::Admin.as_str()))
    }

    /// Every account of the store.
    pub async fn users(&self) -> Result<Vec<UserRow>> {
        Ok(self.store.users().await?)
    }

    pub async fn provinces(&self) -> Result<Vec<ProvinceRow>> {
        Ok(self.store.provinces().await?)
    }

    pub async fn cities(&self) -> Result<Vec<CityRow>> {
        Ok(self.store.cities().await?)
    }

    /// Places a city in a province (created if new).
    pub async fn set_province(&self, city: CityId, province: &str, actor: &crate::Actor) -> Result<ProvinceRow> {
        let p = province_name(province)?;
        let row = self.store.ensure_province(&p, &actor.0).await?;
        self.store.set_city_province(city, row.id, &actor.0).await?;
        Ok(row)
    }

    /// Creates a province office's account, of a province that holds cities already
    /// (`set_province`): a misspelt province is refused, not made anew and empty.
    pub async fn create_province_user(&self, username: &str, display_name: &str, password: &str, province: &str, actor: &crate::Actor) -> Result<User> {
        let p = province_name(province)?;
        let provinces = self.store.provinces().await?;
        let Some(row) = provinces.iter().find(|x| x.name == p).cloned() else {
            let known: Vec<&str> = provinces.iter().map(|x| x.name.as_str()).collect();
            let known = if known.is_empty() { "还没有省份".to_owned() } else { format!("现有:{}", known.join("、")) };
            return Err(invalid("province", format!("没有省份“{p}”({known});先用 creditcity --assessment 城市 city --province {p} 把城市归入该省")));
        };
        accounts::create_user(&self.store, username, display_name, password, Role::Province, Belongs::Province(row.id), &actor.0).await
    }

    /// Assigns a city to an evaluator.
    pub async fn assign_evaluator(&self, username: &str, city: CityId, actor: &crate::Actor) -> Result<()> {
        Ok(self.store.assign_evaluator(username, city, &actor.0).await?)
    }

    /// Changes any account's password (the operator of the store, from the CLI).
    pub async fn set_password(&self, username: &str, password: &str, actor: &crate::Actor) -> Result<()> {
        accounts::set_password(&self.store, username, password, &actor.0).await
    }

    pub async fn close(self) {
        self.store.close().await;
    }
}

fn province_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 40 || name.chars().any(char::is_control) {
        return Err(invalid("province", "省份名称须为 1–40 个字符"));
    }
    Ok(name.to_owned())
}
