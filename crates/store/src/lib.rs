//! The workspace store: cities, assessments, units, the plan, input values with their
//! history, evidence, reviews and the audit log.
//!
//! Only this crate speaks SQL. The SQL is portable (standard types, `$N` placeholders,
//! `RETURNING`); the default deployment is one SQLite file with the evidence directory
//! beside it. Every change of several rows is one transaction, and every change writes
//! its audit entry in the same transaction.

pub mod blobs;
mod accounts;
mod assessments;
mod audit;
mod backup;
mod datasets;
mod evidence;
mod plan;
mod reviews;
mod rows;
mod values;

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{SqlitePool, Sqlite, Transaction};

pub use blobs::{BlobInfo, Blobs};
pub use rows::*;
pub use accounts::ApiTokenRow;
pub use datasets::{DatasetRow, NewDataset, NewProblem, ProblemFilter, ProblemRow};
pub use values::{CurrentValue, JobError, ValueJob};

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("数据库:{0}")]
    Db(#[from] sqlx::Error),
    #[error("数据库结构升级:{0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("存储的文件:{0}")]
    Io(String),
    #[error("文件超过上限 {limit} 字节")]
    TooLarge { limit: u64 },
    /// There is no store at this path (nothing was created).
    #[error("{} 处没有存储", .0.display())]
    NoStore(PathBuf),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("存储已损坏:{0}")]
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
    pub(crate) pool: SqlitePool,
    pub(crate) blobs: Blobs,
    pub(crate) location: Location,
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
        migrate(&options).await?;
        let pool = SqlitePoolOptions::new().max_connections(16).connect_with(options).await?;
        std::fs::create_dir_all(&location.evidence).map_err(|e| blobs::io_error(&location.evidence, e))?;
        Ok(Self { pool, blobs: Blobs::new(location.evidence.clone()), location: location.clone() })
    }

    /// Opens an existing store; an error naming the path if there is none.
    pub async fn open_existing(location: &Location) -> Result<Self> {
        if !location.db.exists() {
            return Err(StoreError::NoStore(location.db.clone()));
        }
        Self::open(location).await
    }

    /// A write transaction that takes the write lock at once (`BEGIN IMMEDIATE`): a
    /// deferred one that read first could fail, not wait, when another writer commits
    /// in between. (PostgreSQL will use a plain `BEGIN`.)
    pub(crate) async fn write_tx(&self) -> Result<Transaction<'static, Sqlite>> {
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

}

pub(crate) fn unit_id(ids: &std::collections::HashMap<String, i64>, name: &str, task: &str) -> Result<i64> {
    ids.get(name).copied().ok_or_else(|| StoreError::NotFound(format!("任务 {task} 的责任单位“{name}”不在计划的单位列表中")))
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn write_audit(
    tx: &mut Transaction<'_, Sqlite>,
    actor: &str,
    action: &str,
    assessment_id: Option<AssessmentId>,
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

pub(crate) fn json_obj(fields: &[(&str, &str)]) -> String {
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("{}:{}", json_str(k), json_str(v))).collect();
    format!("{{{}}}", body.join(","))
}

/// Runs the migrations on a connection of its own with foreign keys off: rebuilding a
/// table (to add a CHECK constraint) drops and renames parent tables, which foreign key
/// enforcement would take for deleting their rows. Migrations that rebuild tables check
/// every reference themselves before they commit.
async fn migrate(options: &SqliteConnectOptions) -> Result<()> {
    use sqlx::Connection as _;
    let unchecked = options.clone().foreign_keys(false);
    let mut conn = sqlx::SqliteConnection::connect_with(&unchecked).await?;
    MIGRATOR.run_direct(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn pool(db: &Path) -> SqlitePool {
        let options = SqliteConnectOptions::from_str("sqlite:")
            .unwrap_or_else(|e| panic!("{e}"))
            .filename(db)
            .create_if_missing(true)
            .foreign_keys(true);
        SqlitePoolOptions::new().max_connections(1).connect_with(options).await.unwrap_or_else(|e| panic!("{e}"))
    }

    /// A store made by the first four migrations, with a row in every table, upgrades to
    /// the checked schema with nothing lost; afterwards the database refuses what the
    /// application does not know.
    #[tokio::test]
    async fn an_existing_store_upgrades_to_check_constraints_with_nothing_lost() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let db = dir.path().join("old.db");
        let old = sqlx::migrate::Migrator { migrations: std::borrow::Cow::Owned(MIGRATOR.migrations[..4].to_vec()), ..sqlx::migrate::Migrator::DEFAULT };
        let p = pool(&db).await;
        old.run(&p).await.unwrap_or_else(|e| panic!("{e}"));
        for sql in [
            "INSERT INTO cities (id, name, created_at) VALUES (1, '青川市', 'x')",
            "INSERT INTO assessments (id, city_id, rubric_edition, period, created_at) VALUES (1, 1, '2019', 'p', 'x')",
            "INSERT INTO units (id, city_id, name, kind) VALUES (1, 1, '市信用办', '市直部门')",
            "INSERT INTO tasks (id, assessment_id, code, title, description, lead_unit_id, status) VALUES (1, 1, 'T1', 't', 'd', 1, 'submitted')",
            "INSERT INTO input_values (id, assessment_id, input_key, value_json, unit_id, source_kind, set_by, set_at) VALUES (1, 1, 's7.cases_closed', '700', 1, 'document', 'a', 'x')",
            "INSERT INTO blobs (sha256, size, media_type, stored_at) VALUES ('ab', 1, 'application/pdf', 'x')",
            "INSERT INTO evidence (id, assessment_id, rule_id, task_id, unit_id, sha256, original_name, uploaded_by, uploaded_at) VALUES (1, 1, '7.2a', 1, 1, 'ab', 'f.pdf', 'a', 'x')",
            "INSERT INTO input_evidence (input_value_id, evidence_id) VALUES (1, 1)",
            "INSERT INTO reviews (assessment_id, target_kind, target_id, decision, comment, reviewer, at) VALUES (1, 'input', 1, 'accept', 'ok', 'e', 'x')",
            "INSERT INTO users (id, username, display_name, password_hash, role, unit_id, created_at) VALUES (1, 'renhang', 'r', 'h', 'unit', 1, 'x')",
            "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES ('t', 1, 'c', 'x', 'y')",
        ] {
            sqlx::query(sql).execute(&p).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        p.close().await;
        let options = SqliteConnectOptions::from_str("sqlite:").unwrap_or_else(|e| panic!("{e}")).filename(&db).foreign_keys(true);
        migrate(&options).await.unwrap_or_else(|e| panic!("upgrade: {e}"));
        let p = pool(&db).await;
        for (table, n) in [("tasks", 1), ("input_values", 1), ("evidence", 1), ("input_evidence", 1), ("reviews", 1), ("users", 1), ("sessions", 1)] {
            let count: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&p).await.unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(count, n, "{table} kept its rows");
        }
        let fk: i64 = sqlx::query_scalar("SELECT foreign_keys FROM pragma_foreign_keys").fetch_one(&p).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fk, 1, "foreign keys are on again after the upgrade");
        for bad in [
            "UPDATE input_values SET review_state = 'maybe' WHERE id = 1",
            "UPDATE input_values SET source_kind = 'rumour' WHERE id = 1",
            "UPDATE evidence SET review_state = 'lost' WHERE id = 1",
            "UPDATE tasks SET status = 'done' WHERE id = 1",
            "UPDATE users SET role = 'root' WHERE id = 1",
            "UPDATE users SET unit_id = NULL WHERE id = 1",
            "INSERT INTO input_values (assessment_id, input_key, value_json, source_kind, set_by, set_at) VALUES (1, 's7.cases_closed', '1', 'note', 'a', 'y')",
            "DELETE FROM units WHERE id = 1",
        ] {
            assert!(sqlx::query(bad).execute(&p).await.is_err(), "the database accepted: {bad}");
        }
        p.close().await;
    }

    /// A reference that points nowhere (written with enforcement off, by hand) stops the
    /// upgrade instead of being carried into the checked schema.
    #[tokio::test]
    async fn an_upgrade_refuses_a_store_with_dangling_references() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let db = dir.path().join("old.db");
        let old = sqlx::migrate::Migrator { migrations: std::borrow::Cow::Owned(MIGRATOR.migrations[..4].to_vec()), ..sqlx::migrate::Migrator::DEFAULT };
        let options = SqliteConnectOptions::from_str("sqlite:").unwrap_or_else(|e| panic!("{e}")).filename(&db).create_if_missing(true).foreign_keys(false);
        let p = SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await.unwrap_or_else(|e| panic!("{e}"));
        old.run(&p).await.unwrap_or_else(|e| panic!("{e}"));
        sqlx::query("INSERT INTO input_evidence (input_value_id, evidence_id) VALUES (41, 99)").execute(&p).await.unwrap_or_else(|e| panic!("{e}"));
        p.close().await;
        let err = migrate(&options).await.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("dangling reference"), "{err}");
    }
}
