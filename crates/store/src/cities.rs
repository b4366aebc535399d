//! Provinces, the cities they hold, and which cities an account may see.

use crate::rows::{AssessmentId, CityId, CityRow, ProvinceId, ProvinceRow};
use crate::{Result, Store, StoreError, USER_SELECT, UserRow, json_obj, now, write_audit};

const CITY_SELECT: &str = "SELECT c.id, c.name, c.province_id, p.name AS province FROM cities c LEFT JOIN provinces p ON p.id = c.province_id";

impl Store {
    /// Every city, in the order they were created.
    pub async fn cities(&self) -> Result<Vec<CityRow>> {
        Ok(sqlx::query_as::<_, CityRow>(&format!("{CITY_SELECT} ORDER BY c.id")).fetch_all(&self.pool).await?)
    }

    pub async fn city_by_name(&self, name: &str) -> Result<Option<CityRow>> {
        Ok(sqlx::query_as::<_, CityRow>(&format!("{CITY_SELECT} WHERE c.name = $1")).bind(name).fetch_optional(&self.pool).await?)
    }

    /// The cities an account may see: a credit office's or viewer's city, a unit
    /// member's unit's city, an evaluator's assigned cities, a province office's
    /// province's cities.
    pub async fn cities_of_user(&self, user_id: i64) -> Result<Vec<CityRow>> {
        Ok(sqlx::query_as::<_, CityRow>(&format!(
            "{CITY_SELECT} WHERE c.id IN ( \
               SELECT COALESCE(u.city_id, n.city_id) FROM users u LEFT JOIN units n ON n.id = u.unit_id WHERE u.id = $1 \
               UNION SELECT e.city_id FROM evaluator_cities e WHERE e.user_id = $1 \
               UNION SELECT c2.id FROM cities c2 JOIN users u2 ON u2.province_id = c2.province_id WHERE u2.id = $1) \
             ORDER BY c.id"
        ))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The accounts of a city: its credit office and viewers, its units' staff, the
    /// evaluators assigned to it.
    pub async fn users_of_city(&self, city: CityId) -> Result<Vec<UserRow>> {
        Ok(sqlx::query_as::<_, UserRow>(&format!(
            "{USER_SELECT} WHERE u.city_id = $1 \
             OR (u.city_id IS NULL AND u.unit_id IN (SELECT n.id FROM units n WHERE n.city_id = $1)) \
             OR u.id IN (SELECT e.user_id FROM evaluator_cities e WHERE e.city_id = $1) ORDER BY u.id"
        ))
        .bind(city)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn provinces(&self) -> Result<Vec<ProvinceRow>> {
        Ok(sqlx::query_as::<_, ProvinceRow>("SELECT id, name FROM provinces ORDER BY id").fetch_all(&self.pool).await?)
    }

    /// The province of this name, created if it does not exist yet.
    pub async fn ensure_province(&self, name: &str, actor: &str) -> Result<ProvinceRow> {
        let mut tx = self.write_tx().await?;
        let found: Option<ProvinceRow> = sqlx::query_as("SELECT id, name FROM provinces WHERE name = $1").bind(name).fetch_optional(&mut *tx).await?;
        if let Some(p) = found {
            return Ok(p);
        }
        let id: ProvinceId = sqlx::query_scalar("INSERT INTO provinces (name, created_at) VALUES ($1, $2) RETURNING id")
            .bind(name)
            .bind(now())
            .fetch_one(&mut *tx)
            .await?;
        write_audit(&mut tx, actor, "create", None, "province", &id.to_string(), None, Some(&json_obj(&[("name", name)]))).await?;
        tx.commit().await?;
        Ok(ProvinceRow { id, name: name.to_owned() })
    }

    /// Places a city in a province.
    pub async fn set_city_province(&self, city: CityId, province: ProvinceId, actor: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let before: Option<Option<ProvinceId>> = sqlx::query_scalar("SELECT province_id FROM cities WHERE id = $1").bind(city).fetch_optional(&mut *tx).await?;
        let Some(before) = before else {
            return Err(StoreError::NotFound(format!("没有城市 {city}")));
        };
        sqlx::query("UPDATE cities SET province_id = $1 WHERE id = $2").bind(province).bind(city).execute(&mut *tx).await?;
        let b = before.map(|p| format!("{{\"province\":{p}}}"));
        write_audit(&mut tx, actor, "update", None, "city", &city.to_string(), b.as_deref(), Some(&format!("{{\"province\":{province}}}"))).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Assigns a city to an evaluator (nothing changes if it already is).
    pub async fn assign_evaluator(&self, username: &str, city: CityId, actor: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let user: Option<(i64, String)> = sqlx::query_as("SELECT id, role FROM users WHERE username = $1").bind(username).fetch_optional(&mut *tx).await?;
        let Some((user_id, role)) = user else {
            return Err(StoreError::NotFound(format!("没有用户“{username}”")));
        };
        if role != "evaluator" {
            return Err(StoreError::Conflict(format!("“{username}”不是评估专家账号")));
        }
        let has: Option<i64> = sqlx::query_scalar("SELECT user_id FROM evaluator_cities WHERE user_id = $1 AND city_id = $2")
            .bind(user_id)
            .bind(city)
            .fetch_optional(&mut *tx)
            .await?;
        if has.is_none() {
            sqlx::query("INSERT INTO evaluator_cities (user_id, city_id) VALUES ($1, $2)").bind(user_id).bind(city).execute(&mut *tx).await?;
            write_audit(&mut tx, actor, "assign", None, "user", username, None, Some(&format!("{{\"city\":{city}}}"))).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A number that grows with every change of this assessment, of its city's plan, or
    /// of anything outside every assessment (accounts, cities): the newest audit entry
    /// among them. Caches of one city stay valid while other cities change.
    pub async fn version_of(&self, assessment: AssessmentId) -> Result<i64> {
        let (a, none): (i64, i64) = sqlx::query_as(
            "SELECT COALESCE((SELECT MAX(id) FROM audit_log WHERE assessment_id = $1), 0) AS a, \
                    COALESCE((SELECT MAX(id) FROM audit_log WHERE assessment_id IS NULL), 0) AS n",
        )
        .bind(assessment)
        .fetch_one(&self.pool)
        .await?;
        Ok(a.max(none))
    }

    /// [`Store::version_of`] for units and tasks only: the newest change of the city's
    /// units, made under any of its assessments (a plan imported into another period
    /// adds units to the city), and of this assessment's tasks. Each maximum is one
    /// step of `audit_by_assessment_kind`.
    pub async fn plan_version_of(&self, assessment: AssessmentId) -> Result<i64> {
        plan_version_on(&self.pool, assessment).await
    }

    /// Failed sign-ins under `key` since `since` (an instant as stored).
    pub async fn login_failures(&self, key: &str, since: &str) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE key = $1 AND at > $2").bind(key).bind(since).fetch_one(&self.pool).await?)
    }

    /// Records a failed sign-in under each key; forgets failures older than `forget`.
    pub async fn record_login_failure(&self, keys: &[&str], forget: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let at = now();
        for key in keys {
            sqlx::query("INSERT INTO login_failures (key, at) VALUES ($1, $2)").bind(*key).bind(&at).execute(&mut *tx).await?;
        }
        sqlx::query("DELETE FROM login_failures WHERE at < $1").bind(forget).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Forgets the failed sign-ins under `key` (after a successful one).
    pub async fn clear_login_failures(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_failures WHERE key = $1").bind(key).execute(&self.pool).await?;
        Ok(())
    }

    /// Whether this connection to the database is encrypted (TLS): PostgreSQL reached
    /// with `sslmode=require` or `verify-full`; never for a SQLite file.
    pub async fn encrypted(&self) -> Result<bool> {
        match self.dialect {
            crate::Dialect::Sqlite => Ok(false),
            crate::Dialect::Postgres => {
                Ok(sqlx::query_scalar::<_, bool>("SELECT COALESCE((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)").fetch_one(&self.pool).await?)
            }
        }
    }
}

/// [`Store::plan_version_of`] on a connection or the pool.
pub(crate) async fn plan_version_on<'e>(e: impl sqlx::Executor<'e, Database = sqlx::Any>, assessment: AssessmentId) -> Result<i64> {
    let (u, t): (i64, i64) = sqlx::query_as(
        "SELECT COALESCE((SELECT MAX(m) FROM ( \
                  SELECT (SELECT MAX(l.id) FROM audit_log l WHERE l.assessment_id = o.id AND l.entity = 'unit') AS m \
                  FROM assessments o WHERE o.city_id = (SELECT a.city_id FROM assessments a WHERE a.id = $1)) units), 0) AS u, \
                COALESCE((SELECT MAX(id) FROM audit_log WHERE assessment_id = $1 AND entity = 'task'), 0) AS t",
    )
    .bind(assessment)
    .fetch_one(e)
    .await?;
    Ok(u.max(t))
}
