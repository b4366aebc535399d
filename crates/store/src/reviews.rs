//! Reviews: accept or return an input, a file or a task.

use crate::rows::AssessmentId;
use sqlx::{Any, Transaction};
use crate::{NewReview, Result, ReviewRow, ReviewTarget, Store, StoreError, json_str, now, write_audit};

impl Store {
    /// Records a review and sets the reviewed object's state, in one transaction.
    pub async fn review(&self, r: &NewReview, actor: &str) -> Result<()> {
        self.review_all(std::slice::from_ref(r), actor).await
    }

    /// Records several reviews in one transaction: all or none. Each gets its own
    /// review row and audit entry.
    pub async fn review_all(&self, reviews: &[NewReview], actor: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        for r in reviews {
            write_review(&mut tx, r, actor).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn reviews(&self, assessment_id: AssessmentId) -> Result<Vec<ReviewRow>> {
        reviews_on(&self.pool, assessment_id).await
    }

}

/// [`Store::reviews`] on a connection or the pool.
pub(crate) async fn reviews_on<'e>(e: impl sqlx::Executor<'e, Database = Any>, assessment_id: AssessmentId) -> Result<Vec<ReviewRow>> {
    Ok(sqlx::query_as::<_, ReviewRow>("SELECT id, target_kind, target_id, decision, comment, reviewer, at FROM reviews WHERE assessment_id = $1 ORDER BY id")
        .bind(assessment_id)
        .fetch_all(e)
        .await?)
}

/// Records one review inside a transaction: the object's state, the review, the audit entry.
pub(crate) async fn write_review(tx: &mut Transaction<'_, Any>, r: &NewReview, actor: &str) -> Result<()> {
    let at = now();
    let (table, state) = match r.target {
        ReviewTarget::Input => ("input_values", r.decision.state().as_str()),
        ReviewTarget::Evidence => ("evidence", r.decision.state().as_str()),
        ReviewTarget::Task => ("tasks", r.decision.task_status().as_str()),
    };
    let column = if matches!(r.target, ReviewTarget::Task) { "status" } else { "review_state" };
    let before: Option<String> = sqlx::query_scalar(&format!("SELECT {column} FROM {table} WHERE id = $1 AND assessment_id = $2"))
        .bind(r.target_id)
        .bind(r.assessment_id)
        .fetch_optional(&mut **tx)
        .await?;
    let Some(before) = before else {
        return Err(StoreError::NotFound(format!("没有要评审的对象 {} {}", r.target.as_str(), r.target_id)));
    };
    sqlx::query(&format!("UPDATE {table} SET {column} = $1 WHERE id = $2")).bind(state).bind(r.target_id).execute(&mut **tx).await?;
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
    .execute(&mut **tx)
    .await?;
    let after = format!("{{\"{column}\":{},\"comment\":{}}}", json_str(state), json_str(&r.comment));
    write_audit(
        tx,
        actor,
        r.decision.as_str(),
        Some(r.assessment_id),
        r.target.as_str(),
        &r.target_id.to_string(),
        Some(&format!("{{\"{column}\":{}}}", json_str(&before))),
        Some(&after),
    )
    .await
}
