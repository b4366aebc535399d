//! The workspace store: cities, assessments, units, the plan, input values with their
//! history, evidence, reviews and the audit log.
//!
//! Only this crate speaks SQL. The SQL is portable (standard types, `$N` placeholders,
//! `RETURNING`); the default deployment is one SQLite file with the evidence directory
//! beside it. Every change of several rows is one transaction, and every change writes
//! its audit entry in the same transaction.

pub mod blobs;

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{FromRow, SqlitePool, Sqlite, Transaction};

pub use blobs::{BlobInfo, Blobs};

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("file: {0}")]
    Io(String),
    #[error("the file is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("damaged: {0}")]
    Corrupt(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Where the store lives: the database file and its evidence directory.
#[derive(Debug, Clone)]
pub struct Location {
    pub db: PathBuf,
    pub evidence: PathBuf,
}

impl Location {
    /// `name.db` with `name.evidence/` beside it.
    pub fn at(db: &Path) -> Self {
        let evidence = db.with_extension("evidence");
        Self { db: db.to_path_buf(), evidence }
    }
}

#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    blobs: Blobs,
    location: Location,
}

/// Now, as stored: RFC 3339 in UTC with milliseconds, so text order is time order.
pub fn now() -> String {
    let t = time::OffsetDateTime::now_utc();
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    t.format(&f).unwrap_or_default()
}

impl Store {
    /// Opens the store, creating it (and running migrations) if needed.
    pub async fn open(location: &Location) -> Result<Self> {
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(&location.db)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(10));
        let pool = SqlitePoolOptions::new().max_connections(16).connect_with(options).await?;
        MIGRATOR.run(&pool).await?;
        std::fs::create_dir_all(&location.evidence).map_err(|e| blobs::io_error(&location.evidence, e))?;
        Ok(Self { pool, blobs: Blobs::new(location.evidence.clone()), location: location.clone() })
    }

    /// Opens an existing store; an error naming the path if there is none.
    pub async fn open_existing(location: &Location) -> Result<Self> {
        if !location.db.exists() {
            return Err(StoreError::NotFound(format!("no store at {}", location.db.display())));
        }
        Self::open(location).await
    }

    /// A write transaction that takes the write lock at once (`BEGIN IMMEDIATE`): a
    /// deferred one that read first could fail, not wait, when another writer commits
    /// in between. (PostgreSQL will use a plain `BEGIN`.)
    async fn write_tx(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    pub fn blobs(&self) -> &Blobs {
        &self.blobs
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    pub async fn close(self) {
        self.pool.close().await;
    }

    // ----- cities and assessments ---------------------------------------------------

    /// Creates the city if needed, and the assessment (refused if it exists).
    pub async fn create_assessment(&self, city: &str, edition: &str, period: &str, actor: &str) -> Result<AssessmentRow> {
        let mut tx = self.write_tx().await?;
        let at = now();
        let city_id: i64 = if let Some(id) = sqlx::query_scalar::<_, i64>("SELECT id FROM cities WHERE name = $1")
            .bind(city)
            .fetch_optional(&mut *tx)
            .await? { id } else {
            let id: i64 = sqlx::query_scalar("INSERT INTO cities (name, created_at) VALUES ($1, $2) RETURNING id")
                .bind(city)
                .bind(&at)
                .fetch_one(&mut *tx)
                .await?;
            audit(&mut tx, actor, "create", None, "city", &id.to_string(), None, Some(&json_obj(&[("name", city)]))).await?;
            id
        };
        let exists: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM assessments WHERE city_id = $1 AND rubric_edition = $2 AND period = $3",
        )
        .bind(city_id)
        .bind(edition)
        .bind(period)
        .fetch_optional(&mut *tx)
        .await?;
        if exists.is_some() {
            return Err(StoreError::Conflict(format!("{city} 已有 {edition} 版、期间“{period}”的评估")));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO assessments (city_id, rubric_edition, period, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(city_id)
        .bind(edition)
        .bind(period)
        .bind(&at)
        .fetch_one(&mut *tx)
        .await?;
        let after = json_obj(&[("city", city), ("rubric", edition), ("period", period)]);
        audit(&mut tx, actor, "create", Some(id), "assessment", &id.to_string(), None, Some(&after)).await?;
        tx.commit().await?;
        self.assessment(id).await
    }

    pub async fn assessment(&self, id: i64) -> Result<AssessmentRow> {
        sqlx::query_as::<_, AssessmentRow>(&format!("{ASSESSMENT_SELECT} WHERE a.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no assessment {id}")))
    }

    pub async fn assessments(&self) -> Result<Vec<AssessmentRow>> {
        Ok(sqlx::query_as::<_, AssessmentRow>(&format!("{ASSESSMENT_SELECT} ORDER BY a.id")).fetch_all(&self.pool).await?)
    }

    // ----- units and the plan -------------------------------------------------------

    pub async fn units(&self, city_id: i64) -> Result<Vec<UnitRow>> {
        Ok(sqlx::query_as::<_, UnitRow>(
            "SELECT id, city_id, name, kind, parent_id, contact FROM units WHERE city_id = $1 ORDER BY id",
        )
        .bind(city_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Imports a plan into an assessment in one transaction: units are added or kept
    /// by name; tasks must be new (a duplicate code refuses the whole plan).
    pub async fn import_plan(&self, assessment: &AssessmentRow, plan: &PlanData, actor: &str) -> Result<ImportSummary> {
        let mut tx = self.write_tx().await?;
        let mut summary = ImportSummary::default();
        let mut ids = std::collections::HashMap::new();
        for unit in &plan.units {
            let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM units WHERE city_id = $1 AND name = $2")
                .bind(assessment.city_id)
                .bind(&unit.name)
                .fetch_optional(&mut *tx)
                .await?;
            let id = if let Some(id) = existing {
                id
            } else {
                let parent = match &unit.parent {
                    Some(p) => Some(*ids.get(p).ok_or_else(|| {
                        StoreError::NotFound(format!("单位“{}”的上级单位“{p}”须在它之前列出", unit.name))
                    })?),
                    None => None,
                };
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO units (city_id, name, kind, parent_id, contact) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(assessment.city_id)
                .bind(&unit.name)
                .bind(&unit.kind)
                .bind(parent)
                .bind(&unit.contact)
                .fetch_one(&mut *tx)
                .await?;
                let after = json_obj(&[("name", &unit.name), ("kind", &unit.kind)]);
                audit(&mut tx, actor, "create", Some(assessment.id), "unit", &id.to_string(), None, Some(&after)).await?;
                summary.units_added += 1;
                id
            };
            ids.insert(unit.name.clone(), id);
        }
        for task in &plan.tasks {
            let dup: Option<i64> = sqlx::query_scalar("SELECT id FROM tasks WHERE assessment_id = $1 AND code = $2")
                .bind(assessment.id)
                .bind(&task.code)
                .fetch_optional(&mut *tx)
                .await?;
            if dup.is_some() {
                return Err(StoreError::Conflict(format!("任务 {} 已存在;计划未导入", task.code)));
            }
            let lead = unit_id(&ids, &task.lead_unit, &task.code)?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO tasks (assessment_id, code, title, description, lead_unit_id, due_date, status) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(assessment.id)
            .bind(&task.code)
            .bind(&task.title)
            .bind(&task.description)
            .bind(lead)
            .bind(&task.due_date)
            .bind(TaskStatus::NotStarted.as_str())
            .fetch_one(&mut *tx)
            .await?;
            for rule in &task.rules {
                sqlx::query("INSERT INTO task_rules (task_id, rule_id) VALUES ($1, $2)")
                    .bind(id)
                    .bind(rule)
                    .execute(&mut *tx)
                    .await?;
            }
            for unit in &task.units {
                let uid = unit_id(&ids, unit, &task.code)?;
                if uid != lead {
                    sqlx::query("INSERT INTO task_units (task_id, unit_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                        .bind(id)
                        .bind(uid)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            let after = json_obj(&[("code", &task.code), ("title", &task.title), ("lead", &task.lead_unit)]);
            audit(&mut tx, actor, "create", Some(assessment.id), "task", &task.code, None, Some(&after)).await?;
            summary.tasks_added += 1;
        }
        tx.commit().await?;
        Ok(summary)
    }

    pub async fn tasks(&self, assessment_id: i64) -> Result<Vec<TaskRow>> {
        let mut tasks = sqlx::query_as::<_, TaskRow>(
            "SELECT t.id, t.code, t.title, t.description, t.lead_unit_id, u.name AS lead_unit, t.due_date, t.status, \
             '' AS rules_csv, '' AS units_csv \
             FROM tasks t JOIN units u ON u.id = t.lead_unit_id WHERE t.assessment_id = $1 ORDER BY t.id",
        )
        .bind(assessment_id)
        .fetch_all(&self.pool)
        .await?;
        let rules: Vec<(i64, String)> = sqlx::query_as(
            "SELECT r.task_id, r.rule_id FROM task_rules r JOIN tasks t ON t.id = r.task_id WHERE t.assessment_id = $1",
        )
        .bind(assessment_id)
        .fetch_all(&self.pool)
        .await?;
        let units: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT p.task_id, p.unit_id FROM task_units p JOIN tasks t ON t.id = p.task_id WHERE t.assessment_id = $1",
        )
        .bind(assessment_id)
        .fetch_all(&self.pool)
        .await?;
        let index: std::collections::HashMap<i64, usize> = tasks.iter().enumerate().map(|(i, t)| (t.id, i)).collect();
        for (task, rule) in rules {
            if let Some(&i) = index.get(&task) {
                tasks[i].rules.push(rule);
            }
        }
        for (task, unit) in units {
            if let Some(&i) = index.get(&task) {
                tasks[i].participating_unit_ids.push(unit);
            }
        }
        Ok(tasks)
    }

    /// Moves a task to a new status.
    pub async fn set_task_status(&self, assessment_id: i64, code: &str, status: TaskStatus, actor: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let before: Option<(i64, String)> = sqlx::query_as("SELECT id, status FROM tasks WHERE assessment_id = $1 AND code = $2")
            .bind(assessment_id)
            .bind(code)
            .fetch_optional(&mut *tx)
            .await?;
        let Some((id, before)) = before else {
            return Err(StoreError::NotFound(format!("没有任务 {code}")));
        };
        sqlx::query("UPDATE tasks SET status = $1 WHERE id = $2").bind(status.as_str()).bind(id).execute(&mut *tx).await?;
        audit(
            &mut tx,
            actor,
            "status",
            Some(assessment_id),
            "task",
            code,
            Some(&json_obj(&[("status", &before)])),
            Some(&json_obj(&[("status", status.as_str())])),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    // ----- input values -------------------------------------------------------------

    /// The current value of every input that has one.
    pub async fn current_values(&self, assessment_id: i64) -> Result<Vec<ValueRow>> {
        Ok(sqlx::query_as::<_, ValueRow>(&format!(
            "{VALUE_SELECT} WHERE v.assessment_id = $1 AND v.superseded_at IS NULL ORDER BY v.id"
        ))
        .bind(assessment_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The current values as (key, JSON value, review state), without provenance: the
    /// lean read that validation needs.
    pub async fn current_raw(&self, assessment_id: i64) -> Result<Vec<(String, String, String)>> {
        Ok(sqlx::query_as("SELECT input_key, value_json, review_state FROM input_values WHERE assessment_id = $1 AND superseded_at IS NULL")
            .bind(assessment_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Every value an input has had, oldest first.
    pub async fn value_history(&self, assessment_id: i64, key: &str) -> Result<Vec<ValueRow>> {
        Ok(sqlx::query_as::<_, ValueRow>(&format!(
            "{VALUE_SELECT} WHERE v.assessment_id = $1 AND v.input_key = $2 ORDER BY v.id"
        ))
        .bind(assessment_id)
        .bind(key)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Sets input values in one transaction: each current value (if any) is
    /// superseded, never overwritten. Returns the new rows.
    pub async fn set_values(&self, values: &[NewValue], actor: &str) -> Result<Vec<ValueRow>> {
        let mut tx = self.write_tx().await?;
        let at = now();
        let mut ids = Vec::with_capacity(values.len());
        for v in values {
            let before: Option<(i64, String)> = sqlx::query_as(
                "SELECT id, value_json FROM input_values WHERE assessment_id = $1 AND input_key = $2 AND superseded_at IS NULL",
            )
            .bind(v.assessment_id)
            .bind(&v.key)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((id, _)) = &before {
                sqlx::query("UPDATE input_values SET superseded_at = $1 WHERE id = $2").bind(&at).bind(id).execute(&mut *tx).await?;
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO input_values (assessment_id, input_key, value_json, unit_id, source_kind, source_ref, note, set_by, set_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            )
            .bind(v.assessment_id)
            .bind(&v.key)
            .bind(&v.value_json)
            .bind(v.unit_id)
            .bind(&v.source_kind)
            .bind(&v.source_ref)
            .bind(&v.note)
            .bind(actor)
            .bind(&at)
            .fetch_one(&mut *tx)
            .await?;
            for evidence in &v.evidence_ids {
                sqlx::query("INSERT INTO input_evidence (input_value_id, evidence_id) VALUES ($1, $2)")
                    .bind(id)
                    .bind(evidence)
                    .execute(&mut *tx)
                    .await?;
            }
            let after = format!(
                "{{\"value\":{},\"source\":{},\"ref\":{},\"note\":{}}}",
                v.value_json,
                json_str(&v.source_kind),
                json_str(&v.source_ref),
                json_str(&v.note)
            );
            let before_json = before.map(|(_, value)| format!("{{\"value\":{value}}}"));
            audit(&mut tx, actor, "set", Some(v.assessment_id), "input", &v.key, before_json.as_deref(), Some(&after)).await?;
            ids.push(id);
        }
        tx.commit().await?;
        let mut rows = Vec::with_capacity(ids.len());
        for id in ids {
            rows.push(sqlx::query_as::<_, ValueRow>(&format!("{VALUE_SELECT} WHERE v.id = $1")).bind(id).fetch_one(&self.pool).await?);
        }
        Ok(rows)
    }

    // ----- evidence -------------------------------------------------------------------

    /// Stores the file's content (once per hash) and records it as evidence.
    pub async fn add_evidence(&self, e: &NewEvidence, source: &mut (dyn std::io::Read + Send), limit: u64, actor: &str) -> Result<EvidenceRow> {
        let blob = self.blobs.put(source, limit)?;
        let mut tx = self.write_tx().await?;
        let at = now();
        sqlx::query("INSERT INTO blobs (sha256, size, media_type, stored_at) VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING")
            .bind(&blob.sha256)
            .bind(i64::try_from(blob.size).unwrap_or(i64::MAX))
            .bind(&blob.media_type)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO evidence (assessment_id, rule_id, item, task_id, unit_id, sha256, original_name, uploaded_by, uploaded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(e.assessment_id)
        .bind(&e.rule_id)
        .bind(e.item)
        .bind(e.task_id)
        .bind(e.unit_id)
        .bind(&blob.sha256)
        .bind(&e.original_name)
        .bind(actor)
        .bind(&at)
        .fetch_one(&mut *tx)
        .await?;
        let after = format!(
            "{{\"rule\":{},\"item\":{},\"name\":{},\"sha256\":{},\"size\":{},\"type\":{}}}",
            json_str(&e.rule_id),
            e.item.map_or_else(|| "null".to_owned(), |i| i.to_string()),
            json_str(&e.original_name),
            json_str(&blob.sha256),
            blob.size,
            json_str(&blob.media_type)
        );
        audit(&mut tx, actor, "attach", Some(e.assessment_id), "evidence", &id.to_string(), None, Some(&after)).await?;
        tx.commit().await?;
        self.evidence_item(id).await
    }

    pub async fn evidence_item(&self, id: i64) -> Result<EvidenceRow> {
        sqlx::query_as::<_, EvidenceRow>(&format!("{EVIDENCE_SELECT} WHERE e.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("没有佐证材料 {id}")))
    }

    pub async fn evidence(&self, assessment_id: i64) -> Result<Vec<EvidenceRow>> {
        Ok(sqlx::query_as::<_, EvidenceRow>(&format!("{EVIDENCE_SELECT} WHERE e.assessment_id = $1 ORDER BY e.id"))
            .bind(assessment_id)
            .fetch_all(&self.pool)
            .await?)
    }

    // ----- reviews --------------------------------------------------------------------

    /// Records a review and sets the reviewed object's state, in one transaction.
    pub async fn review(&self, r: &NewReview, actor: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let at = now();
        let (table, state) = match r.target {
            ReviewTarget::Input => ("input_values", r.decision.state()),
            ReviewTarget::Evidence => ("evidence", r.decision.state()),
            ReviewTarget::Task => ("tasks", r.decision.task_status().as_str()),
        };
        let column = if matches!(r.target, ReviewTarget::Task) { "status" } else { "review_state" };
        let before: Option<String> = sqlx::query_scalar(&format!("SELECT {column} FROM {table} WHERE id = $1 AND assessment_id = $2"))
            .bind(r.target_id)
            .bind(r.assessment_id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(before) = before else {
            return Err(StoreError::NotFound(format!("没有要评审的对象 {} {}", r.target.as_str(), r.target_id)));
        };
        sqlx::query(&format!("UPDATE {table} SET {column} = $1 WHERE id = $2")).bind(state).bind(r.target_id).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO reviews (assessment_id, target_kind, target_id, decision, comment, reviewer, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(r.assessment_id)
        .bind(r.target.as_str())
        .bind(r.target_id)
        .bind(r.decision.as_str())
        .bind(&r.comment)
        .bind(actor)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        let after = format!("{{\"{column}\":{},\"comment\":{}}}", json_str(state), json_str(&r.comment));
        audit(
            &mut tx,
            actor,
            r.decision.as_str(),
            Some(r.assessment_id),
            r.target.as_str(),
            &r.target_id.to_string(),
            Some(&format!("{{\"{column}\":{}}}", json_str(&before))),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn reviews(&self, assessment_id: i64) -> Result<Vec<ReviewRow>> {
        Ok(sqlx::query_as::<_, ReviewRow>(
            "SELECT id, target_kind, target_id, decision, comment, reviewer, at FROM reviews WHERE assessment_id = $1 ORDER BY id",
        )
        .bind(assessment_id)
        .fetch_all(&self.pool)
        .await?)
    }

    // ----- audit ----------------------------------------------------------------------

    /// Audit entries, newest last; `entity` and `actor` filter when given.
    pub async fn audit(&self, filter: &AuditFilter) -> Result<Vec<AuditRow>> {
        Ok(sqlx::query_as::<_, AuditRow>(
            "SELECT id, at, actor, action, assessment_id, entity, entity_id, before_json, after_json FROM audit_log \
             WHERE ($1 IS NULL OR assessment_id = $1) AND ($2 IS NULL OR entity = $2) AND ($3 IS NULL OR actor = $3) \
             AND ($4 IS NULL OR entity_id = $4) ORDER BY id",
        )
        .bind(filter.assessment_id)
        .bind(&filter.entity)
        .bind(&filter.actor)
        .bind(&filter.entity_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Checks the database's integrity and every evidence file against its hash.
    pub async fn check(&self) -> Result<CheckSummary> {
        let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check").fetch_all(&self.pool).await?;
        if integrity != ["ok"] {
            return Err(StoreError::Corrupt(format!("database: {}", integrity.join("; "))));
        }
        let dangling: Vec<(String, i64)> = sqlx::query_as("SELECT \"table\", rowid FROM pragma_foreign_key_check").fetch_all(&self.pool).await?;
        if let Some((table, row)) = dangling.first() {
            return Err(StoreError::Corrupt(format!("{} rows refer to missing rows (first: {table} {row})", dangling.len())));
        }
        let currents: Vec<(String, i64)> = sqlx::query_as(
            "SELECT input_key, COUNT(*) FROM input_values WHERE superseded_at IS NULL GROUP BY assessment_id, input_key HAVING COUNT(*) > 1",
        )
        .fetch_all(&self.pool)
        .await?;
        if let Some((key, n)) = currents.first() {
            return Err(StoreError::Corrupt(format!("{key} has {n} current values")));
        }
        let hashes: Vec<String> = sqlx::query_scalar("SELECT sha256 FROM blobs").fetch_all(&self.pool).await?;
        for hash in &hashes {
            self.blobs.verify(hash)?;
        }
        let values: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM input_values").fetch_one(&self.pool).await?;
        let audit: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log").fetch_one(&self.pool).await?;
        Ok(CheckSummary { values: usize::try_from(values).unwrap_or(0), files: hashes.len(), audit_entries: usize::try_from(audit).unwrap_or(0) })
    }

    // ----- accounts and sessions ------------------------------------------------------

    pub async fn create_user(&self, u: &NewUser, actor: &str) -> Result<UserRow> {
        let mut tx = self.write_tx().await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE username = $1").bind(&u.username).fetch_optional(&mut *tx).await?;
        if exists.is_some() {
            return Err(StoreError::Conflict(format!("用户名“{}”已存在", u.username)));
        }
        sqlx::query(
            "INSERT INTO users (username, display_name, password_hash, role, unit_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&u.username)
        .bind(&u.display_name)
        .bind(&u.password_hash)
        .bind(&u.role)
        .bind(u.unit_id)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        let after = json_obj(&[("username", &u.username), ("role", &u.role), ("unit", &u.unit_id.map(|x| x.to_string()).unwrap_or_default())]);
        audit(&mut tx, actor, "create", None, "user", &u.username, None, Some(&after)).await?;
        tx.commit().await?;
        self.user_by_name(&u.username).await?.ok_or_else(|| StoreError::NotFound(u.username.clone()))
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<UserRow>> {
        Ok(sqlx::query_as::<_, UserRow>(&format!("{USER_SELECT} WHERE u.username = $1")).bind(username).fetch_optional(&self.pool).await?)
    }

    pub async fn users(&self) -> Result<Vec<UserRow>> {
        Ok(sqlx::query_as::<_, UserRow>(&format!("{USER_SELECT} ORDER BY u.id")).fetch_all(&self.pool).await?)
    }

    /// Changes a user's password hash, role, unit or active flag.
    pub async fn update_user(&self, username: &str, change: &UserChange, actor: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let before: Option<(String, Option<i64>, i64)> = sqlx::query_as("SELECT role, unit_id, active FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(&mut *tx)
            .await?;
        let Some((role, unit, active)) = before else {
            return Err(StoreError::NotFound(format!("没有用户“{username}”")));
        };
        if let Some(hash) = &change.password_hash {
            sqlx::query("UPDATE users SET password_hash = $1 WHERE username = $2").bind(hash).bind(username).execute(&mut *tx).await?;
            // A new password ends every session of the account.
            sqlx::query("DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = $1)").bind(username).execute(&mut *tx).await?;
        }
        let new_role = change.role.clone().unwrap_or_else(|| role.clone());
        let new_unit = change.unit_id.unwrap_or(unit);
        let new_active = change.active.map_or(active, i64::from);
        sqlx::query("UPDATE users SET role = $1, unit_id = $2, active = $3 WHERE username = $4")
            .bind(&new_role)
            .bind(new_unit)
            .bind(new_active)
            .bind(username)
            .execute(&mut *tx)
            .await?;
        if new_active == 0 {
            sqlx::query("DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = $1)").bind(username).execute(&mut *tx).await?;
        }
        let before = format!("{{\"role\":{},\"unit\":{},\"active\":{active}}}", json_str(&role), unit.map_or_else(|| "null".to_owned(), |u| u.to_string()));
        let after = format!(
            "{{\"role\":{},\"unit\":{},\"active\":{new_active},\"password_changed\":{}}}",
            json_str(&new_role),
            new_unit.map_or_else(|| "null".to_owned(), |u| u.to_string()),
            change.password_hash.is_some()
        );
        audit(&mut tx, actor, "update", None, "user", username, Some(&before), Some(&after)).await?;
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

    /// The session's user and CSRF token, if the session exists, has not expired and
    /// its user is active.
    pub async fn session(&self, token_hash: &str) -> Result<Option<(UserRow, String)>> {
        type Row = (i64, String, String, String, String, Option<i64>, Option<String>, i64, String);
        let row: Option<Row> = sqlx::query_as(
            "SELECT u.id, u.username, u.display_name, u.password_hash, u.role, u.unit_id, n.name, u.active, s.csrf \
             FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN units n ON n.id = u.unit_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active = 1",
        )
        .bind(token_hash)
        .bind(now())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id, username, display_name, password_hash, role, unit_id, unit, active, csrf)| {
            (UserRow { id, username, display_name, password_hash, role, unit_id, unit, active }, csrf)
        }))
    }

    /// A number that grows with every change of the workspace: the newest audit entry
    /// (every change writes one in its own transaction).
    pub async fn version(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM audit_log").fetch_one(&self.pool).await?)
    }

    /// A number that grows with every change of units or tasks (the plan).
    pub async fn plan_version(&self) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT MAX(COALESCE((SELECT MAX(id) FROM audit_log WHERE entity = 'unit'), 0), \
                        COALESCE((SELECT MAX(id) FROM audit_log WHERE entity = 'task'), 0))",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    /// How many values each input has had.
    pub async fn history_counts(&self, assessment_id: i64) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as("SELECT input_key, COUNT(*) FROM input_values WHERE assessment_id = $1 GROUP BY input_key")
            .bind(assessment_id)
            .fetch_all(&self.pool)
            .await?)
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
    pub async fn update_task(&self, assessment_id: i64, code: &str, due_date: Option<&str>, lead_unit_id: i64, actor: &str) -> Result<()> {
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
        audit(&mut tx, actor, "update", Some(assessment_id), "task", code, Some(&before), Some(&after)).await?;
        tx.commit().await?;
        Ok(())
    }

    // ----- backup and restore ---------------------------------------------------------

    /// A consistent copy while the store is in use: a snapshot of the database
    /// (`VACUUM INTO`) and the evidence files it refers to (immutable, by hash).
    pub async fn backup(&self, dir: &Path) -> Result<BackupSummary> {
        if dir.exists() && std::fs::read_dir(dir).map_or(true, |mut d| d.next().is_some()) {
            return Err(StoreError::Conflict(format!("{} 已存在且不为空;请指定新的备份目录", dir.display())));
        }
        std::fs::create_dir_all(dir).map_err(|e| blobs::io_error(dir, e))?;
        let db = dir.join("creditcity.db");
        sqlx::query("VACUUM INTO $1").bind(db.to_string_lossy().as_ref()).execute(&self.pool).await?;
        // The snapshot says which files it needs: copy exactly those.
        let snapshot = Store::open(&Location { db: db.clone(), evidence: dir.join("evidence") }).await?;
        let hashes: Vec<String> = sqlx::query_scalar("SELECT sha256 FROM blobs ORDER BY sha256").fetch_all(&snapshot.pool).await?;
        snapshot.pool.close().await;
        let target = Blobs::new(dir.join("evidence"));
        let mut bytes = 0u64;
        for hash in &hashes {
            let from = self.blobs.path_of(hash);
            let to = target.path_of(hash);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(|e| blobs::io_error(parent, e))?;
            }
            bytes += std::fs::copy(&from, &to).map_err(|e| blobs::io_error(&from, e))?;
            target.verify(hash)?;
        }
        Ok(BackupSummary { files: hashes.len(), bytes })
    }

    /// Restores a backup into a new store location (refused if one exists there).
    pub async fn restore(backup: &Path, into: &Location) -> Result<Store> {
        if into.db.exists() {
            return Err(StoreError::Conflict(format!("{} 已存在;恢复不会覆盖现有数据库", into.db.display())));
        }
        let source = Location { db: backup.join("creditcity.db"), evidence: backup.join("evidence") };
        if !source.db.exists() {
            return Err(StoreError::NotFound(format!("{} 不是 creditcity 备份(缺少 creditcity.db)", backup.display())));
        }
        let snapshot = Store::open(&source).await?;
        let hashes: Vec<String> = sqlx::query_scalar("SELECT sha256 FROM blobs").fetch_all(&snapshot.pool).await?;
        for hash in &hashes {
            snapshot.blobs.verify(hash)?;
        }
        snapshot.pool.close().await;
        if let Some(parent) = into.db.parent() {
            std::fs::create_dir_all(parent).map_err(|e| blobs::io_error(parent, e))?;
        }
        // Copy to a temporary name, then rename: a crash leaves no half-restored store.
        let tmp = into.db.with_extension("db.restoring");
        std::fs::copy(&source.db, &tmp).map_err(|e| blobs::io_error(&tmp, e))?;
        let target = Blobs::new(into.evidence.clone());
        for hash in &hashes {
            let to = target.path_of(hash);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(|e| blobs::io_error(parent, e))?;
            }
            std::fs::copy(snapshot.blobs.path_of(hash), &to).map_err(|e| blobs::io_error(&to, e))?;
        }
        std::fs::rename(&tmp, &into.db).map_err(|e| blobs::io_error(&into.db, e))?;
        Store::open(into).await
    }
}

fn unit_id(ids: &std::collections::HashMap<String, i64>, name: &str, task: &str) -> Result<i64> {
    ids.get(name).copied().ok_or_else(|| StoreError::NotFound(format!("任务 {task} 的责任单位“{name}”不在计划的单位列表中")))
}

#[allow(clippy::too_many_arguments)]
async fn audit(
    tx: &mut Transaction<'_, Sqlite>,
    actor: &str,
    action: &str,
    assessment_id: Option<i64>,
    entity: &str,
    entity_id: &str,
    before: Option<&str>,
    after: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, assessment_id, entity, entity_id, before_json, after_json) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(now())
    .bind(actor)
    .bind(action)
    .bind(assessment_id)
    .bind(entity)
    .bind(entity_id)
    .bind(before)
    .bind(after)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A JSON string literal.
pub fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_obj(fields: &[(&str, &str)]) -> String {
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("{}:{}", json_str(k), json_str(v))).collect();
    format!("{{{}}}", body.join(","))
}

// ----- rows and inputs --------------------------------------------------------------

const USER_SELECT: &str = "SELECT u.id, u.username, u.display_name, u.password_hash, u.role, u.unit_id, n.name AS unit, u.active \
     FROM users u LEFT JOIN units n ON n.id = u.unit_id";

const ASSESSMENT_SELECT: &str = "SELECT a.id, a.city_id, c.name AS city, a.rubric_edition, a.period, a.created_at \
     FROM assessments a JOIN cities c ON c.id = a.city_id";

const VALUE_SELECT: &str = "SELECT v.id, v.input_key, v.value_json, v.unit_id, u.name AS unit, v.source_kind, v.source_ref, \
     v.note, v.set_by, v.set_at, v.superseded_at, v.review_state, \
     (SELECT COUNT(*) FROM input_evidence ie WHERE ie.input_value_id = v.id) AS evidence_count \
     FROM input_values v LEFT JOIN units u ON u.id = v.unit_id";

const EVIDENCE_SELECT: &str = "SELECT e.id, e.rule_id, e.item, e.task_id, e.unit_id, u.name AS unit, e.sha256, e.original_name, \
     b.size, b.media_type, e.uploaded_by, e.uploaded_at, e.review_state \
     FROM evidence e JOIN blobs b ON b.sha256 = e.sha256 LEFT JOIN units u ON u.id = e.unit_id";

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct AssessmentRow {
    pub id: i64,
    pub city_id: i64,
    pub city: String,
    pub rubric_edition: String,
    pub period: String,
    pub created_at: String,
}

#[derive(Clone, FromRow, PartialEq, Eq)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: String,
    pub unit_id: Option<i64>,
    pub unit: Option<String>,
    pub active: i64,
}

// The password hash stays out of logs.
impl std::fmt::Debug for UserRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRow").field("username", &self.username).field("role", &self.role).field("unit", &self.unit).finish_non_exhaustive()
    }
}

#[derive(Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: String,
    pub unit_id: Option<i64>,
}

#[derive(Clone, Default)]
pub struct UserChange {
    pub password_hash: Option<String>,
    pub role: Option<String>,
    pub unit_id: Option<Option<i64>>,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct UnitRow {
    pub id: i64,
    pub city_id: i64,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<i64>,
    pub contact: String,
}

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct TaskRow {
    pub id: i64,
    pub code: String,
    pub title: String,
    pub description: String,
    pub lead_unit_id: i64,
    pub lead_unit: String,
    pub due_date: Option<String>,
    pub status: String,
    #[sqlx(skip)]
    pub rules: Vec<String>,
    #[sqlx(skip)]
    pub participating_unit_ids: Vec<i64>,
}

impl TaskRow {
    pub fn involves(&self, unit_id: i64) -> bool {
        self.lead_unit_id == unit_id || self.participating_unit_ids.contains(&unit_id)
    }
}

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct ValueRow {
    pub id: i64,
    pub input_key: String,
    pub value_json: String,
    pub unit_id: Option<i64>,
    pub unit: Option<String>,
    pub source_kind: String,
    pub source_ref: String,
    pub note: String,
    pub set_by: String,
    pub set_at: String,
    pub superseded_at: Option<String>,
    pub review_state: String,
    pub evidence_count: i64,
}

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct EvidenceRow {
    pub id: i64,
    pub rule_id: String,
    pub item: Option<i64>,
    pub task_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub unit: Option<String>,
    pub sha256: String,
    pub original_name: String,
    pub size: i64,
    pub media_type: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
    pub review_state: String,
}

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct ReviewRow {
    pub id: i64,
    pub target_kind: String,
    pub target_id: i64,
    pub decision: String,
    pub comment: String,
    pub reviewer: String,
    pub at: String,
}

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub assessment_id: Option<i64>,
    pub entity: String,
    pub entity_id: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub assessment_id: Option<i64>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub actor: Option<String>,
}

/// A plan to import: units (parents first) and tasks.
#[derive(Debug, Clone, Default)]
pub struct PlanData {
    pub units: Vec<PlanUnit>,
    pub tasks: Vec<PlanTask>,
}

#[derive(Debug, Clone)]
pub struct PlanUnit {
    pub name: String,
    pub kind: String,
    pub parent: Option<String>,
    pub contact: String,
}

#[derive(Debug, Clone)]
pub struct PlanTask {
    pub code: String,
    pub title: String,
    pub description: String,
    pub lead_unit: String,
    pub units: Vec<String>,
    pub rules: Vec<String>,
    pub due_date: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub units_added: usize,
    pub tasks_added: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckSummary {
    pub values: usize,
    pub files: usize,
    pub audit_entries: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupSummary {
    pub files: usize,
    pub bytes: u64,
}

#[derive(Debug, Clone)]
pub struct NewValue {
    pub assessment_id: i64,
    pub key: String,
    pub value_json: String,
    pub unit_id: Option<i64>,
    pub source_kind: String,
    pub source_ref: String,
    pub note: String,
    pub evidence_ids: Vec<i64>,
}

#[derive(Debug, Clone)]
pub struct NewEvidence {
    pub assessment_id: i64,
    pub rule_id: String,
    pub item: Option<i64>,
    pub task_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub original_name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewTarget {
    Input,
    Evidence,
    Task,
}

impl ReviewTarget {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Input => "input",
            Self::Evidence => "evidence",
            Self::Task => "task",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Accept,
    Return,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Return => "return",
        }
    }

    /// The review state an input or evidence item takes.
    pub fn state(self) -> &'static str {
        match self {
            Self::Accept => "accepted",
            Self::Return => "returned",
        }
    }

    pub fn task_status(self) -> TaskStatus {
        match self {
            Self::Accept => TaskStatus::Accepted,
            Self::Return => TaskStatus::Returned,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewReview {
    pub assessment_id: i64,
    pub target: ReviewTarget,
    pub target_id: i64,
    pub decision: Decision,
    pub comment: String,
}

/// 未开始 → 进行中 → 已提交 → 已退回 / 已通过
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    NotStarted,
    InProgress,
    Submitted,
    Returned,
    Accepted,
}

impl TaskStatus {
    pub const ALL: [Self; 5] = [Self::NotStarted, Self::InProgress, Self::Submitted, Self::Returned, Self::Accepted];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotStarted => "not_started",
            Self::InProgress => "in_progress",
            Self::Submitted => "submitted",
            Self::Returned => "returned",
            Self::Accepted => "accepted",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::NotStarted => "未开始",
            Self::InProgress => "进行中",
            Self::Submitted => "已提交",
            Self::Returned => "已退回",
            Self::Accepted => "已通过",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s || t.label() == s)
    }
}
