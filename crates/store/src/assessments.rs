//! Cities and assessments.

use crate::rows::{AssessmentId, CityId};
use crate::{ASSESSMENT_SELECT, AssessmentRow, Result, Store, StoreError, json_obj, now, write_audit};

impl Store {
    /// Creates the city if needed, and the assessment (refused if it exists).
    pub async fn create_assessment(&self, city: &str, edition: &str, period: &str, actor: &str) -> Result<AssessmentRow> {
        let mut tx = self.write_tx().await?;
        let at = now();
        let city_id: CityId = if let Some(id) = sqlx::query_scalar::<_, CityId>("SELECT id FROM cities WHERE name = $1")
            .bind(city)
            .fetch_optional(&mut *tx)
            .await? { id } else {
            let id: CityId = sqlx::query_scalar("INSERT INTO cities (name, created_at) VALUES ($1, $2) RETURNING id")
                .bind(city)
                .bind(&at)
                .fetch_one(&mut *tx)
                .await?;
            write_audit(&mut tx, actor, "create", None, "city", &id.to_string(), None, Some(&json_obj(&[("name", city)]))).await?;
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
        let id: AssessmentId = sqlx::query_scalar(
            "INSERT INTO assessments (city_id, rubric_edition, period, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(city_id)
        .bind(edition)
        .bind(period)
        .bind(&at)
        .fetch_one(&mut *tx)
        .await?;
        let after = json_obj(&[("city", city), ("rubric", edition), ("period", period)]);
        write_audit(&mut tx, actor, "create", Some(id), "assessment", &id.to_string(), None, Some(&after)).await?;
        tx.commit().await?;
        self.assessment(id).await
    }

    pub async fn assessment(&self, id: AssessmentId) -> Result<AssessmentRow> {
        sqlx::query_as::<_, AssessmentRow>(&format!("{ASSESSMENT_SELECT} WHERE a.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no assessment {id}")))
    }

    pub async fn assessments(&self) -> Result<Vec<AssessmentRow>> {
        Ok(sqlx::query_as::<_, AssessmentRow>(&format!("{ASSESSMENT_SELECT} ORDER BY a.id")).fetch_all(&self.pool).await?)
    }

    /// The assessments of one city.
    pub async fn assessments_of_city(&self, city: CityId) -> Result<Vec<AssessmentRow>> {
        Ok(sqlx::query_as::<_, AssessmentRow>(&format!("{ASSESSMENT_SELECT} WHERE a.city_id = $1 ORDER BY a.id")).bind(city).fetch_all(&self.pool).await?)
    }

}
