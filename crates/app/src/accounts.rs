//! Accounts, roles, sessions and who may do what.
//!
//! Passwords are hashed with Argon2id; a session is a random 256-bit token of which the
//! store keeps only the SHA-256, with its own CSRF token. Repeated failed logins are
//! throttled per account and per client address.

use creditcity_store::{CityId, ProvinceId, UnitId};
use std::collections::BTreeSet;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use creditcity_rubric::{InputId, Rubric};
use creditcity_store::{NewUser, Store, TaskRow, UnitRow, UserChange, UserRow};
use sha2::{Digest, Sha256};

use crate::{AppError, Result};

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 信用办: runs the campaign, administers everything.
    Admin,
    /// A responsible unit's staff: only their own unit's tasks, inputs and evidence.
    Unit,
    /// 评估专家: reviews, judged scores.
    Evaluator,
    /// Read-only.
    Viewer,
    /// 省信用办: every city of its province, read-only.
    Province,
}

impl Role {
    pub const ALL: [Self; 5] = [Self::Admin, Self::Unit, Self::Evaluator, Self::Viewer, Self::Province];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Unit => "unit",
            Self::Evaluator => "evaluator",
            Self::Viewer => "viewer",
            Self::Province => "province",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Admin => "信用办管理员",
            Self::Unit => "责任单位",
            Self::Evaluator => "评估专家",
            Self::Viewer => "只读",
            Self::Province => "省信用办",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Sees the whole campaign of a city it may see: dashboard, rubric with every value,
    /// all units.
    pub fn sees_everything(self) -> bool {
        matches!(self, Self::Admin | Self::Evaluator | Self::Viewer | Self::Province)
    }

    /// May look at more than one city (and switch between them).
    pub fn spans_cities(self) -> bool {
        matches!(self, Self::Evaluator | Self::Province)
    }

    pub fn reviews(self) -> bool {
        matches!(self, Self::Admin | Self::Evaluator)
    }

    pub fn administers(self) -> bool {
        self == Self::Admin
    }
}

/// A signed-in account.
#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub unit_id: Option<UnitId>,
    pub unit: Option<String>,
    /// A credit office's, viewer's or unit member's city.
    pub city_id: Option<CityId>,
    /// A province office's province.
    pub province_id: Option<ProvinceId>,
}

impl User {
    pub(crate) fn from_row(row: &UserRow) -> Option<Self> {
        Some(Self {
            id: row.id,
            username: row.username.clone(),
            display_name: row.display_name.clone(),
            role: Role::parse(&row.role)?,
            unit_id: row.unit_id,
            unit: row.unit.clone(),
            city_id: row.city_id,
            province_id: row.province_id,
        })
    }
}

/// A new session: the token goes in the cookie, the CSRF token in every form.
#[derive(Clone)]
pub struct Session {
    pub token: String,
    pub csrf: String,
    pub user: User,
}

/// Hashes a password with Argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?).map_err(|e| invalid("password", e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| invalid("password", e.to_string()))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::getrandom(&mut buf).map_err(|e| invalid("random", e.to_string()))?;
    Ok(buf)
}

/// A fresh random token (256 bits, hex).
pub fn new_token() -> Result<String> {
    random_token()
}

fn random_token() -> Result<String> {
    Ok(creditcity_store::blobs::hex(&random_bytes::<32>()?))
}

pub(crate) fn token_hash(token: &str) -> String {
    creditcity_store::blobs::hex(&Sha256::digest(token.as_bytes()))
}

fn invalid(field: &str, problem: impl Into<String>) -> AppError {
    AppError::Invalid { field: field.to_owned(), problem: problem.into() }
}

/// Checks a new password's strength: at least 10 characters.
pub fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < 10 {
        return Err(invalid("password", "密码至少 10 个字符"));
    }
    Ok(())
}

/// What a new account belongs to, by its role: a credit office's or viewer's city, a
/// unit member's unit, the cities an evaluator reviews, a province office's province.
#[derive(Debug, Clone)]
pub enum Belongs<'a> {
    City(CityId),
    Unit(&'a UnitRow),
    Evaluates(Vec<CityId>),
    Province(ProvinceId),
}

pub(crate) async fn create_user(store: &Store, username: &str, display_name: &str, password: &str, role: Role, belongs: Belongs<'_>, actor: &str) -> Result<User> {
    let username = username.trim();
    if username.is_empty() || username.len() > 64 || !username.chars().all(|c| c.is_alphanumeric() || "._-".contains(c)) {
        return Err(invalid("username", "用户名须为 1–64 个字母、数字或 . _ -"));
    }
    check_password(password)?;
    let (mut unit_id, mut city_id, mut province_id, mut evaluates) = (None, None, None, Vec::new());
    match (role, belongs) {
        (Role::Unit, Belongs::Unit(u)) => unit_id = Some(u.id),
        (Role::Unit, _) => return Err(invalid("unit", "责任单位账号须指定所属单位")),
        (_, Belongs::Unit(_)) => return Err(invalid("unit", "只有责任单位账号属于单位")),
        (Role::Admin | Role::Viewer, Belongs::City(c)) => city_id = Some(c),
        (Role::Evaluator, Belongs::Evaluates(cities)) if !cities.is_empty() => evaluates = cities,
        (Role::Evaluator, Belongs::City(c)) => evaluates = vec![c],
        (Role::Evaluator, _) => return Err(invalid("city", "评估专家账号须指定负责评估的城市")),
        (Role::Province, Belongs::Province(p)) => province_id = Some(p),
        (Role::Province, _) => return Err(invalid("province", "省信用办账号须指定所属省份(--province 省名)")),
        (Role::Admin | Role::Viewer, _) => return Err(invalid("city", "信用办和只读账号须属于一个城市")),
    }
    let row = store
        .create_user(
            &NewUser {
                username: username.to_owned(),
                display_name: if display_name.trim().is_empty() { username.to_owned() } else { display_name.trim().to_owned() },
                password_hash: hash_off_runtime(password).await?,
                role: role.as_str().to_owned(),
                unit_id,
                city_id,
                province_id,
                evaluates,
            },
            actor,
        )
        .await?;
    User::from_row(&row).ok_or_else(|| invalid("role", "unknown role"))
}

pub(crate) async fn set_password(store: &Store, username: &str, password: &str, actor: &str) -> Result<()> {
    check_password(password)?;
    let change = UserChange { password_hash: Some(hash_off_runtime(password).await?), ..UserChange::default() };
    Ok(store.update_user(username, &change, actor).await?)
}

pub(crate) async fn set_active(store: &Store, username: &str, active: bool, actor: &str) -> Result<()> {
    let change = UserChange { active: Some(active), ..UserChange::default() };
    Ok(store.update_user(username, &change, actor).await?)
}

/// How long a session lasts.
pub const SESSION_HOURS: i64 = 12;

/// Signs in; the same answer (and about the same time) for an unknown user as for a
/// wrong password.
pub(crate) async fn login(store: &Store, username: &str, password: &str) -> Result<Option<Session>> {
    let row = store.user_by_name(username.trim()).await?;
    let dummy = dummy_hash();
    let hash = row.as_ref().filter(|r| r.active == 1).map_or(dummy.as_str(), |r| r.password_hash.as_str()).to_owned();
    // Argon2 is deliberately slow: it runs off the async runtime, so that a burst of
    // logins does not hold up every other request.
    let password = password.to_owned();
    let verified = tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.unwrap_or(false);
    let ok = verified && row.as_ref().is_some_and(|r| r.active == 1);
    let Some(user) = row.filter(|_| ok).as_ref().and_then(User::from_row) else { return Ok(None) };
    let token = random_token()?;
    let csrf = random_token()?;
    let expires = time::OffsetDateTime::now_utc() + time::Duration::hours(SESSION_HOURS);
    store.create_session(&token_hash(&token), user.id, &csrf, &stamp(expires)).await?;
    Ok(Some(Session { token, csrf, user }))
}

/// A hash of a password nobody has, to spend the same time on unknown users.
fn dummy_hash() -> &'static String {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("no one has this password").unwrap_or_default())
}

pub(crate) async fn logout(store: &Store, token: &str) -> Result<()> {
    Ok(store.delete_session(&token_hash(token)).await?)
}

async fn hash_off_runtime(password: &str) -> Result<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| invalid("password", e.to_string()))?
}

impl crate::Workspace {
    /// The accounts of this city: its credit office and viewers, its units' staff, the
    /// evaluators assigned to it.
    pub async fn users(&self) -> Result<Vec<UserRow>> {
        Ok(self.store.users_of_city(self.assessment.city_id).await?)
    }

    /// Creates an account of this city: a unit member's account names its unit; an
    /// evaluator's is assigned to this city.
    pub async fn create_user(
        &self,
        username: &str,
        display_name: &str,
        password: &str,
        role: Role,
        unit: Option<&UnitRow>,
        actor: &crate::Actor,
    ) -> Result<User> {
        let belongs = match unit {
            Some(u) if u.city_id != self.assessment.city_id => return Err(invalid("unit", format!("单位“{}”不属于{}", u.name, self.assessment.city))),
            Some(u) => Belongs::Unit(u),
            None => Belongs::City(self.assessment.city_id),
        };
        create_user(&self.store, username, display_name, password, role, belongs, &actor.0).await
    }

    /// Changes the password of an account of this city.
    pub async fn set_password(&self, username: &str, password: &str, actor: &crate::Actor) -> Result<()> {
        self.own_user(username).await?;
        set_password(&self.store, username, password, &actor.0).await
    }

    /// Lets an account of this city sign in, or not.
    pub async fn set_active(&self, username: &str, active: bool, actor: &crate::Actor) -> Result<()> {
        self.own_user(username).await?;
        set_active(&self.store, username, active, &actor.0).await
    }

    /// Refuses an account that is not this city's alone, as if it did not exist: an
    /// evaluator who also reviews another city is not this city's office's to reset or
    /// deactivate (that would reach the other city).
    async fn own_user(&self, username: &str) -> Result<()> {
        let missing = || AppError::Store(creditcity_store::StoreError::NotFound(format!("没有用户“{username}”")));
        let users = self.users().await?;
        let user = users.iter().find(|u| u.username == username).ok_or_else(missing)?;
        let cities = self.store.cities_of_user(user.id).await?;
        if cities.len() == 1 && cities[0].id == self.assessment.city_id {
            Ok(())
        } else {
            Err(missing())
        }
    }

    /// Creates an API token for a machine account (the city's platform): it can import
    /// datasets and nothing else. The token is returned once; only its hash is kept.
    pub async fn create_api_token(&self, name: &str, actor: &crate::Actor) -> Result<(creditcity_store::ApiTokenRow, String)> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
            return Err(invalid("name", "令牌名称须为 1–60 个字符"));
        }
        let token = format!("cc_{}", random_token()?);
        let row = self.store.create_api_token(self.assessment.city_id, name, &token_hash(&token), API_SCOPE_DATASETS, &actor.0).await?;
        Ok((row, token))
    }

    /// This city's API tokens.
    pub async fn api_tokens(&self) -> Result<Vec<creditcity_store::ApiTokenRow>> {
        Ok(self.store.api_tokens().await?.into_iter().filter(|t| t.city_id == Some(self.assessment.city_id)).collect())
    }

    /// Revokes one of this city's API tokens.
    pub async fn revoke_api_token(&self, name: &str, actor: &crate::Actor) -> Result<()> {
        if !self.api_tokens().await?.iter().any(|t| t.name == name.trim() && t.revoked_at.is_none()) {
            return Err(AppError::Store(creditcity_store::StoreError::NotFound(format!("没有有效的接口令牌“{}”", name.trim()))));
        }
        Ok(self.store.revoke_api_token(name.trim(), &actor.0).await?)
    }

}

/// What an API token may do: import datasets, nothing else.
pub const API_SCOPE_DATASETS: &str = "datasets:import";

/// A machine account signed in with its token: it pushes one city's datasets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiClient {
    pub name: String,
    pub city_id: Option<CityId>,
}

impl ApiClient {
    /// How it appears in the audit log.
    pub fn actor(&self) -> crate::Actor {
        crate::Actor(format!("api:{}", self.name))
    }
}

/// Compares two tokens in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Failed sign-ins allowed within [`LOGIN_WINDOW_MINUTES`]: per account, and per
/// client address. Counted in the store, so every server process of it sees them.
pub const LOGIN_LIMIT_ACCOUNT: i64 = 5;
pub const LOGIN_LIMIT_ADDRESS: i64 = 30;
pub const LOGIN_WINDOW_MINUTES: i64 = 15;

/// How a sign-in went.
pub enum SignIn {
    Session(Session),
    /// Unknown user, wrong password or inactive account: the same answer for each.
    Refused,
    /// Too many failures for the account or the address within the window.
    Throttled,
}

/// Signs in, throttled by account and by client address across every process of the
/// store.
pub(crate) async fn sign_in(store: &Store, username: &str, password: &str, address: &str) -> Result<SignIn> {
    let now = time::OffsetDateTime::now_utc();
    let since = stamp(now - time::Duration::minutes(LOGIN_WINDOW_MINUTES));
    let account = format!("user:{}", username.trim());
    let addr = format!("ip:{address}");
    if store.login_failures(&account, &since).await? >= LOGIN_LIMIT_ACCOUNT || store.login_failures(&addr, &since).await? >= LOGIN_LIMIT_ADDRESS {
        return Ok(SignIn::Throttled);
    }
    if let Some(session) = login(store, username, password).await? {
        store.clear_login_failures(&account).await?;
        Ok(SignIn::Session(session))
    } else {
        store.record_login_failure(&[&account, &addr], &since).await?;
        Ok(SignIn::Refused)
    }
}

/// An instant as the store writes them.
fn stamp(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    t.format(&f).unwrap_or_default()
}

/// The tasks a unit works on: led or joined by it, or by its parent group.
pub fn unit_tasks<'t>(tasks: &'t [TaskRow], unit: &UnitRow) -> Vec<&'t TaskRow> {
    tasks.iter().filter(|t| t.involves(unit.id) || unit.parent_id.is_some_and(|p| t.involves(p))).collect()
}

/// The rules of a unit's tasks.
pub fn unit_rules(tasks: &[TaskRow], unit: &UnitRow) -> BTreeSet<String> {
    unit_tasks(tasks, unit).iter().flat_map(|t| t.rules.iter().cloned()).collect()
}

/// The inputs a unit may set: those of the rules of its tasks (judged scores excepted:
/// those are the evaluators').
pub fn unit_inputs(rubric: &Rubric, tasks: &[TaskRow], unit: &UnitRow) -> BTreeSet<InputId> {
    let rules = unit_rules(tasks, unit);
    rubric
        .rules
        .iter()
        .filter(|r| rules.contains(&r.id))
        .flat_map(|r| r.inputs.iter().copied())
        .filter(|id| !matches!(rubric.input(*id).kind, creditcity_rubric::InputKind::Judged { .. }))
        .collect()
}

/// The inputs among `inputs` used by the rules among `rules`, each once with the first of
/// those rules that uses it, in rubric order: the rows of a unit's form or template.
pub fn input_rows<'r>(rubric: &'r Rubric, inputs: &BTreeSet<InputId>, rules: &BTreeSet<String>) -> Vec<(&'r creditcity_rubric::Rule, InputId)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for rule in rubric.rules.iter().filter(|r| rules.contains(&r.id)) {
        for id in rule.inputs.iter().filter(|i| inputs.contains(i)) {
            if seen.insert(*id) {
                out.push((rule, *id));
            }
        }
    }
    out
}
