//! Evidence files and their records.

use crate::rows::{AssessmentId, EvidenceId};
use sqlx::{Any, Transaction};

use crate::{EVIDENCE_SELECT, EvidenceRow, NewEvidence, Result, Store, StoreError, json_str, now, write_audit};

impl Store {
    /// Stores the file's content (once per hash) and records it as evidence.
    pub async fn add_evidence(&self, e: &NewEvidence, source: &mut (dyn std::io::Read + Send), limit: u64, actor: &str) -> Result<EvidenceRow> {
        let blob = self.blobs.put(source, limit)?;
        let mut tx = self.write_tx().await?;
        let at = now();
        record_blob(&mut tx, &blob.sha256, blob.size, &blob.media_type, &at).await?;
        let id: EvidenceId = sqlx::query_scalar(
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
        write_audit(&mut tx, actor, "attach", Some(e.assessment_id), "evidence", &id.to_string(), None, Some(&after)).await?;
        tx.commit().await?;
        self.evidence_item(id).await
    }

    pub async fn evidence_item(&self, id: EvidenceId) -> Result<EvidenceRow> {
        sqlx::query_as::<_, EvidenceRow>(&format!("{EVIDENCE_SELECT} WHERE e.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("没有佐证材料 {id}")))
    }

    pub async fn evidence(&self, assessment_id: AssessmentId) -> Result<Vec<EvidenceRow>> {
        evidence_on(&self.pool, assessment_id).await
    }

}

/// [`Store::evidence`] on a connection or the pool.
pub(crate) async fn evidence_on<'e>(e: impl sqlx::Executor<'e, Database = Any>, assessment_id: AssessmentId) -> Result<Vec<EvidenceRow>> {
    Ok(sqlx::query_as::<_, EvidenceRow>(&format!("{EVIDENCE_SELECT} WHERE e.assessment_id = $1 ORDER BY e.id")).bind(assessment_id).fetch_all(e).await?)
}

/// Records a stored file (once per hash): evidence and datasets alike.
pub(crate) async fn record_blob(tx: &mut Transaction<'_, Any>, sha256: &str, size: u64, media_type: &str, at: &str) -> Result<()> {
    sqlx::query("INSERT INTO blobs (sha256, size, media_type, stored_at) VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING")
        .bind(sha256)
        .bind(i64::try_from(size).unwrap_or(i64::MAX))
        .bind(media_type)
        .bind(at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
