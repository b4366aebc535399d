//! Accounts and sessions.

use crate::rows::{AssessmentId, CityId, ProvinceId, UnitId};
use crate::{AssessmentRow, NewUser, SessionRow, PlanData, PlanUnit, Result, Store, StoreError, USER_SELECT, UserChange, UserRow, json_obj, json_str, now, write_audit};

impl Store {
    pub async fn create_user(&self, u: &NewUser, actor: &str) -> Result<UserRow> {
        let mut tx = self.write_tx().await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE username = $1").bind(&u.username).fetch_optional(&mut *tx).await?;
        if exists.is_some() {
            return Err(StoreError::Conflict(format!("用户名“{}”已存在", u.username)));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, display_name, password_hash, role, unit_id, city_id, province_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(&u.username)
        .bind(&u.display_name)
        .bind(&u.password_hash)
        .bind(&u.role)
        .bind(u.unit_id)
        .bind(u.city_id)
        .bind(u.province_id)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        for city in &u.evaluates {
            sqlx::query("INSERT INTO evaluator_cities (user_id, city_id) VALUES ($1, $2)").bind(id).bind(*city).execute(&mut *tx).await?;
        }
        let id_text = |x: Option<i64>| x.map(|x| x.to_string()).unwrap_or_default();
        let evaluates = u.evaluates.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
        let after = json_obj(&[
            ("username", &u.username),
            ("role", &u.role),
            ("unit", &id_text(u.unit_id.map(|x| x.0))),
            ("city", &id_text(u.city_id.map(|x| x.0))),
            ("province", &id_text(u.province_id.map(|x| x.0))),
            ("evaluates", &evaluates),
        ]);
        write_audit(&mut tx, actor, "create", None, "user", &u.username, None, Some(&after)).await?;
        tx.commit().await?;
        self.user_by_name(&u.username).await?.ok_or_else(|| StoreError::NotFound(u.username.clone()))
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<UserRow>> {
        Ok(sqlx::query_as::<_, UserRow>(&format!("{USER_SELECT} WHERE u.username = $1")).bind(username).fetch_optional(&self.pool).await?)
    }

    pub async fn users(&self) -> Result<Vec<UserRow>> {
        Ok(sqlx::query_as::<_, UserRow>(&format!("{USER_SELECT} ORDER BY u.id")).fetch_all(&self.pool).await?)
    }

    /// Changes a user's password hash or active flag.
    pub async fn update_user(&self, username: &str, change: &UserChange, actor: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let before: Option<i64> = sqlx::query_scalar("SELECT active FROM users WHERE username = $1").bind(username).fetch_optional(&mut *tx).await?;
        let Some(active) = before else {
            return Err(StoreError::NotFound(format!("没有用户“{username}”")));
        };
        if let Some(hash) = &change.password_hash {
            sqlx::query("UPDATE users SET password_hash = $1 WHERE username = $2").bind(hash).bind(username).execute(&mut *tx).await?;
            // A new password ends every session of the account.
            sqlx::query("DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = $1)").bind(username).execute(&mut *tx).await?;
        }
        let new_active = change.active.map_or(active, i64::from);
        sqlx::query("UPDATE users SET active = $1 WHERE username = $2").bind(new_active).bind(username).execute(&mut *tx).await?;
        if new_active == 0 {
            sqlx::query("DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = $1)").bind(username).execute(&mut *tx).await?;
        }
        let before = format!("{{\"active\":{active}}}");
        let after = format!("{{\"active\":{new_active},\"password_changed\":{}}}", change.password_hash.is_some());
        write_audit(&mut tx, actor, "update", None, "user", username, Some(&before), Some(&after)).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn create_session(&self, token_hash: &str, user_id: i64, csrf: &str, expires_at: &str) -> Result<()> {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(token_hash)
            .bind(user_id)
            .bind(csrf)
            .bind(now())
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The session's user, CSRF token and city, if the session exists, has not expired
    /// and its user is active. The city is the one the session chose if the account may
    /// see it, else the first the account may see: a credit office's or viewer's city,
    /// a unit member's unit's city, an evaluator's assigned cities, a province office's
    /// province's cities. With it comes that city's newest assessment on `edition`.
    ///
    /// PostgreSQL: the session is read by the fence's next round (`fence.rs`), together
    /// with every other session asked for meanwhile and the database's snapshot, and kept
    /// in the process while no round finds a commit since, by any process; its expiry is
    /// checked against the clock each time. If the fence fails, the session is read here
    /// and not kept.
    pub async fn session(&self, token_hash: &str, edition: &str) -> Result<Option<SessionRow>> {
        if let Some(f) = &self.fence {
            if let Ok(answer) = f.session(token_hash, edition).await {
                return Ok(answer);
            }
        }
        let row = sqlx::query(SESSION_SELECT).bind(token_hash).bind(now()).bind(edition).fetch_optional(&self.pool).await?;
        row.map(|r| session_at(&r, 0).map(|(session, _)| session)).transpose()
    }

    /// The session looks at this city from now on (whether it may is checked on every
    /// request: see [`Store::session`]).
    pub async fn set_session_city(&self, token_hash: &str, city: CityId) -> Result<()> {
        sqlx::query("UPDATE sessions SET city_id = $1 WHERE token_hash = $2").bind(city).bind(token_hash).execute(&self.pool).await?;
        Ok(())
    }

    /// A number that grows with every change of any city (every change writes an audit
    /// entry in its own transaction), in the order the changes were committed.
    ///
    /// SQLite writers commit one at a time: the newest audit id. PostgreSQL draws audit
    /// ids before commit and writes different cities' values in parallel, so the newest id
    /// can stay the same across a commit (an older id committed after it); each city's
    /// newest id cannot (one writer at a time per city, and every other writer excludes
    /// them all), so the number is the sum of every assessment's newest id and the newest
    /// store-wide one. It is read again only when the fence shows a commit since.
    pub async fn version(&self) -> Result<i64> {
        let Some(fence) = &self.fence else {
            return Ok(sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM audit_log").fetch_one(&self.pool).await?);
        };
        // Without an epoch (the fence failed) the version is read, not kept.
        let epoch = fence.epoch().await.ok();
        let _reading = match epoch {
            Some(epoch) => {
                if let Some(v) = fence.version(epoch) {
                    return Ok(v);
                }
                let reading = fence.reading_version.lock().await;
                if let Some(v) = fence.version(epoch) {
                    return Ok(v);
                }
                Some(reading)
            }
            None => None,
        };
        let v: i64 = sqlx::query_scalar(
            // PostgreSQL's SUM of BIGINT is NUMERIC.
            "SELECT CAST(COALESCE((SELECT SUM((SELECT MAX(l.id) FROM audit_log l WHERE l.assessment_id = a.id)) FROM assessments a), 0) \
                       + COALESCE((SELECT MAX(l.id) FROM audit_log l WHERE l.assessment_id IS NULL), 0) AS BIGINT)",
        )
        .fetch_one(&self.pool)
        .await?;
        if let Some(epoch) = epoch {
            fence.keep_version(epoch, v);
        }
        Ok(v)
    }

    /// A number that grows with every change of units or tasks (the plan).
    pub async fn plan_version(&self) -> Result<i64> {
        // Two maxima by index, the larger taken here: SQLite's two-argument MAX is
        // PostgreSQL's GREATEST.
        let (u, t): (i64, i64) = sqlx::query_as(
            "SELECT COALESCE((SELECT MAX(id) FROM audit_log WHERE entity = 'unit'), 0) AS u, \
                    COALESCE((SELECT MAX(id) FROM audit_log WHERE entity = 'task'), 0) AS t",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(u.max(t))
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&self.pool).await?;
        Ok(())
    }

    /// Adds a unit to a city.
    pub async fn add_unit(&self, assessment: &AssessmentRow, unit: &PlanUnit, actor: &str) -> Result<()> {
        let plan = PlanData { units: vec![unit.clone()], tasks: Vec::new() };
        let summary = self.import_plan(assessment, &plan, actor).await?;
        if summary.units_added == 0 {
            return Err(StoreError::Conflict(format!("单位“{}”已存在", unit.name)));
        }
        Ok(())
    }

    /// Changes a task's due date and lead unit.
    pub async fn update_task(&self, assessment_id: AssessmentId, code: &str, due_date: Option<&str>, lead_unit_id: UnitId, actor: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let before: Option<(Option<String>, i64)> = sqlx::query_as("SELECT due_date, lead_unit_id FROM tasks WHERE assessment_id = $1 AND code = $2")
            .bind(assessment_id)
            .bind(code)
            .fetch_optional(&mut *tx)
            .await?;
        let Some((due, lead)) = before else {
            return Err(StoreError::NotFound(format!("没有任务 {code}")));
        };
        sqlx::query("UPDATE tasks SET due_date = $1, lead_unit_id = $2 WHERE assessment_id = $3 AND code = $4")
            .bind(due_date)
            .bind(lead_unit_id)
            .bind(assessment_id)
            .bind(code)
            .execute(&mut *tx)
            .await?;
        let before = format!("{{\"due\":{},\"lead\":{lead}}}", due.as_deref().map_or_else(|| "null".to_owned(), json_str));
        let after = format!("{{\"due\":{},\"lead\":{lead_unit_id}}}", due_date.map_or_else(|| "null".to_owned(), json_str));
        write_audit(&mut tx, actor, "update", Some(assessment_id), "task", code, Some(&before), Some(&after)).await?;
        tx.commit().await?;
        Ok(())
    }

}

/// A machine account's token, as listed (never the token itself).
#[derive(Debug, Clone, sqlx::FromRow, PartialEq, Eq)]
pub struct ApiTokenRow {
    pub id: i64,
    pub name: String,
    /// The city whose datasets it pushes.
    pub city_id: Option<CityId>,
    pub scope: String,
    pub created_by: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl Store {
    /// Records a new API token by its hash.
    pub async fn create_api_token(&self, city: CityId, name: &str, token_hash: &str, scope: &str, actor: &str) -> Result<ApiTokenRow> {
        let mut tx = self.write_tx().await?;
        let at = now();
        let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM api_tokens WHERE name = $1").bind(name).fetch_optional(&mut *tx).await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!("已有名为“{name}”的接口令牌")));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (name, token_hash, scope, created_by, created_at, city_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(name)
        .bind(token_hash)
        .bind(scope)
        .bind(actor)
        .bind(&at)
        .bind(city)
        .fetch_one(&mut *tx)
        .await?;
        write_audit(&mut tx, actor, "create", None, "api_token", &id.to_string(), None, Some(&json_obj(&[("name", name), ("scope", scope)]))).await?;
        tx.commit().await?;
        self.api_tokens().await?.into_iter().find(|t| t.id == id).ok_or_else(|| StoreError::NotFound(format!("接口令牌 {id}")))
    }

    pub async fn api_tokens(&self) -> Result<Vec<ApiTokenRow>> {
        Ok(sqlx::query_as::<_, ApiTokenRow>(
            "SELECT id, name, city_id, scope, created_by, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// The live (not revoked) token with this hash; marks it used.
    pub async fn use_api_token(&self, token_hash: &str) -> Result<Option<ApiTokenRow>> {
        let row = sqlx::query_as::<_, ApiTokenRow>(
            "SELECT id, name, city_id, scope, created_by, created_at, last_used_at, revoked_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(r) = &row {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2").bind(now()).bind(r.id).execute(&self.pool).await?;
        }
        Ok(row)
    }

    pub async fn revoke_api_token(&self, name: &str, actor: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let id: Option<i64> = sqlx::query_scalar("SELECT id FROM api_tokens WHERE name = $1 AND revoked_at IS NULL")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(id) = id else {
            return Err(StoreError::NotFound(format!("没有有效的接口令牌“{name}”")));
        };
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2").bind(now()).bind(id).execute(&mut *tx).await?;
        write_audit(&mut tx, actor, "revoke", None, "api_token", &id.to_string(), None, Some(&json_obj(&[("name", name)]))).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Who a session is, from `sessions s`, `users u` and `units n` (`LEFT JOIN`): its
/// account, unit, city, CSRF token, and the city it sees. `active` is 1 by the
/// conditions of the queries that use it; its place carries the expiry.
macro_rules! session_columns {
    () => {
        "u.id, u.username, u.display_name, u.role, u.unit_id, n.name AS unit, s.expires_at, \
         COALESCE(u.city_id, n.city_id) AS city_id, u.province_id, s.csrf, \
         CASE u.role \
           WHEN 'unit' THEN n.city_id \
           WHEN 'evaluator' THEN COALESCE( \
             (SELECT e.city_id FROM evaluator_cities e WHERE e.user_id = u.id AND e.city_id = s.city_id), \
             (SELECT MIN(e.city_id) FROM evaluator_cities e WHERE e.user_id = u.id)) \
           WHEN 'province' THEN COALESCE( \
             (SELECT c.id FROM cities c WHERE c.id = s.city_id AND c.province_id = u.province_id), \
             (SELECT MIN(c.id) FROM cities c WHERE c.province_id = u.province_id)) \
           ELSE u.city_id END AS seen"
    };
}

/// With the city's assessment comes its version (see `version_of`): one round trip
/// for who is asking, where, and whether the city's caches still hold.
macro_rules! session_versions {
    () => {
        "COALESCE((SELECT MAX(l.id) FROM audit_log l WHERE l.assessment_id = y.assessment_id), 0) AS va, \
         COALESCE((SELECT MAX(l.id) FROM audit_log l WHERE l.assessment_id IS NULL), 0) AS vn"
    };
}

/// One session ($1: its token's hash, $2: now, $3: the rubric edition), its columns
/// read by [`session_at`] from the first. Each step materialized (both dialects know
/// `AS MATERIALIZED`): inlined, PostgreSQL's plan repeats the assessment's subquery,
/// with the city's, wherever its result is used, and costs twice as much a request.
const SESSION_SELECT: &str = concat!(
    "WITH x AS MATERIALIZED (SELECT ",
    session_columns!(),
    " FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN units n ON n.id = u.unit_id \
     WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active = 1), \
     y AS MATERIALIZED (SELECT x.*, (SELECT MAX(a.id) FROM assessments a WHERE a.city_id = x.seen AND a.rubric_edition = $3) AS assessment_id FROM x) \
     SELECT y.*, ",
    session_versions!(),
    " FROM y"
);

/// PostgreSQL, for the fence's round: the database's snapshot (column 0) and, in the
/// same statement (so read at that very snapshot), the sessions of a JSON array of
/// `{"t": token hash, "e": edition}` ($1) live at $2, each as its token's hash and
/// edition (columns 1, 2) and the columns of [`session_at`] from 3. Always one row at
/// least: the snapshot with NULLs when no session is found. Each token is looked up by
/// itself (`LATERAL … LIMIT 1`: a token is unique): joined whole, the planner takes the
/// array for 100 tokens and scans every session and every account.
pub(crate) const SESSIONS_AT_SNAPSHOT: &str = concat!(
    "WITH q AS MATERIALIZED (SELECT * FROM json_to_recordset($1::json) AS q(t text, e text)), \
     x AS MATERIALIZED (SELECT q.t AS token_hash, q.e AS edition, z.* FROM q CROSS JOIN LATERAL (SELECT ",
    session_columns!(),
    " FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN units n ON n.id = u.unit_id \
     WHERE s.token_hash = q.t AND s.expires_at > $2 AND u.active = 1 LIMIT 1) z), \
     y AS MATERIALIZED (SELECT x.*, (SELECT MAX(a.id) FROM assessments a WHERE a.city_id = x.seen AND a.rubric_edition = x.edition) AS assessment_id FROM x) \
     SELECT pg_current_snapshot()::text AS snapshot, y.token_hash, y.edition, y.id, y.username, y.display_name, y.role, y.unit_id, y.unit, y.expires_at, \
            y.city_id, y.province_id, y.csrf, y.seen, y.assessment_id, ",
    session_versions!(),
    " FROM (SELECT 1 AS one) o LEFT JOIN y ON true"
);

/// The session whose columns (as [`SESSION_SELECT`] has them) start at `at`, and when
/// it expires.
pub(crate) fn session_at(row: &sqlx::any::AnyRow, at: usize) -> Result<(SessionRow, String)> {
    use sqlx::Row as _;
    let user = UserRow {
        id: row.try_get(at)?,
        username: row.try_get(at + 1)?,
        display_name: row.try_get(at + 2)?,
        // A session never needs the password's hash: it is not read (nor kept).
        password_hash: String::new(),
        role: row.try_get(at + 3)?,
        unit_id: row.try_get::<Option<UnitId>, _>(at + 4)?,
        unit: row.try_get(at + 5)?,
        active: 1,
        city_id: row.try_get::<Option<CityId>, _>(at + 7)?,
        province_id: row.try_get::<Option<ProvinceId>, _>(at + 8)?,
    };
    let expires_at: String = row.try_get(at + 6)?;
    let (va, vn): (i64, i64) = (row.try_get(at + 12)?, row.try_get(at + 13)?);
    let session = SessionRow {
        user,
        csrf: row.try_get(at + 9)?,
        city_id: row.try_get::<Option<CityId>, _>(at + 10)?,
        assessment_id: row.try_get::<Option<AssessmentId>, _>(at + 11)?,
        version: va.max(vn),
    };
    Ok((session, expires_at))
}
