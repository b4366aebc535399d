//! The audit log, and the check of the whole store.

use super::*;

impl Store {

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

}
