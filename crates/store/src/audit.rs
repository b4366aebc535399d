//! The audit log, and the check of the whole store.

use sqlx::Any;
use crate::{AuditFilter, AuditPage, AuditRow, CheckSummary, Result, Store, StoreError};

impl Store {
    /// Audit entries, oldest first; `entity`, `entity_id` and `actor` filter when given.
    pub async fn audit(&self, filter: &AuditFilter) -> Result<Vec<AuditRow>> {
        let (clause, binds) = audit_where(filter);
        let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit_log {clause} ORDER BY id");
        let mut q = sqlx::query_as::<_, AuditRow>(&sql);
        for b in &binds {
            q = b.bind_to(q);
        }
        Ok(q.fetch_all(&self.pool).await?)
    }

    /// One page of audit entries, newest first: those older than `before` (an entry id),
    /// at most `limit`; with the number of entries the filter matches in all.
    pub async fn audit_page(&self, filter: &AuditFilter, before: Option<i64>, limit: u32) -> Result<AuditPage> {
        let (clause, mut binds) = audit_where(filter);
        let total_sql = format!("SELECT COUNT(*) FROM audit_log {clause}");
        let mut count = sqlx::query_scalar::<_, i64>(&total_sql);
        for b in &binds {
            count = b.bind_to_scalar(count);
        }
        let total = count.fetch_one(&self.pool).await?;
        let mut clause = clause;
        if let Some(id) = before {
            binds.push(Bind::Int(id));
            clause = format!("{clause} {} id < ${}", if clause.is_empty() { "WHERE" } else { "AND" }, binds.len());
        }
        let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit_log {clause} ORDER BY id DESC LIMIT {}", limit.max(1) + 1);
        let mut q = sqlx::query_as::<_, AuditRow>(&sql);
        for b in &binds {
            q = b.bind_to(q);
        }
        let mut rows = q.fetch_all(&self.pool).await?;
        let more = rows.len() > limit.max(1) as usize;
        rows.truncate(limit.max(1) as usize);
        let next_before = if more { rows.last().map(|r| r.id) } else { None };
        Ok(AuditPage { rows, total: u64::try_from(total).unwrap_or(0), next_before })
    }

    /// Checks the database's integrity and every evidence file against its hash.
    pub async fn check(&self) -> Result<CheckSummary> {
        if self.dialect == crate::Dialect::Sqlite {
            let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check").fetch_all(&self.pool).await?;
            if integrity != ["ok"] {
                return Err(StoreError::Corrupt(format!("database: {}", integrity.join("; "))));
            }
            let dangling: Vec<(String, i64)> = sqlx::query_as("SELECT \"table\", rowid FROM pragma_foreign_key_check").fetch_all(&self.pool).await?;
            if let Some((table, row)) = dangling.first() {
                return Err(StoreError::Corrupt(format!("{} rows refer to missing rows (first: {table} {row})", dangling.len())));
            }
        }
        // PostgreSQL checks its pages itself and always enforces foreign keys.
        let currents: Vec<(String, i64)> = sqlx::query_as(
            "SELECT input_key, COUNT(*) FROM input_values WHERE superseded_at IS NULL GROUP BY assessment_id, input_key HAVING COUNT(*) > 1",
        )
        .fetch_all(&self.pool)
        .await?;
        if let Some((key, n)) = currents.first() {
            return Err(StoreError::Corrupt(format!("{key} has {n} current values")));
        }
        let partial: Vec<(i64, i64, i64)> = sqlx::query_as(
            "SELECT id, problems, n FROM (SELECT d.id, d.problems, (SELECT COUNT(*) FROM dataset_problems p WHERE p.dataset_id = d.id) AS n FROM datasets d) c \
             WHERE problems <> n",
        )
        .fetch_all(&self.pool)
        .await?;
        if let Some((id, said, found)) = partial.first() {
            return Err(StoreError::Corrupt(format!("数据集 {id} 记录有 {said} 处问题,实存 {found} 处")));
        }
        let hashes: Vec<String> = sqlx::query_scalar("SELECT sha256 FROM blobs").fetch_all(&self.pool).await?;
        for hash in &hashes {
            self.blobs.verify(hash)?;
        }
        let values: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM input_values").fetch_one(&self.pool).await?;
        let audit: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log").fetch_one(&self.pool).await?;
        Ok(CheckSummary { values: usize::try_from(values).unwrap_or(0), files: hashes.len(), audit_entries: usize::try_from(audit).unwrap_or(0) })
    }

}

const AUDIT_COLUMNS: &str = "id, at, actor, action, assessment_id, entity, entity_id, before_json, after_json";

/// A value bound to a placeholder of a query built from the filters present: a
/// `($1 IS NULL OR …)` form would keep SQLite from using the indexes.
enum Bind {
    Int(i64),
    Text(String),
}

impl Bind {
    fn bind_to<'q, O>(&'q self, q: sqlx::query::QueryAs<'q, Any, O, sqlx::any::AnyArguments<'q>>) -> sqlx::query::QueryAs<'q, Any, O, sqlx::any::AnyArguments<'q>> {
        match self {
            Self::Int(i) => q.bind(*i),
            Self::Text(s) => q.bind(s.as_str()),
        }
    }

    fn bind_to_scalar<'q, O>(
        &'q self,
        q: sqlx::query::QueryScalar<'q, Any, O, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::QueryScalar<'q, Any, O, sqlx::any::AnyArguments<'q>> {
        match self {
            Self::Int(i) => q.bind(*i),
            Self::Text(s) => q.bind(s.as_str()),
        }
    }
}

fn audit_where(filter: &AuditFilter) -> (String, Vec<Bind>) {
    let mut parts = Vec::new();
    let mut binds = Vec::new();
    if let Some(a) = filter.assessment_id {
        binds.push(Bind::Int(a.0));
        parts.push(format!("assessment_id = ${}", binds.len()));
    }
    for (column, value) in [("entity", &filter.entity), ("entity_id", &filter.entity_id), ("actor", &filter.actor)] {
        if let Some(v) = value {
            binds.push(Bind::Text(v.clone()));
            parts.push(format!("{column} = ${}", binds.len()));
        }
    }
    let clause = if parts.is_empty() { String::new() } else { format!("WHERE {}", parts.join(" AND ")) };
    (clause, binds)
}
