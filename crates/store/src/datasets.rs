//! Datasets: imports of the city's own records, the problems found in them, and the
//! values derived from them, written together.

use crate::rows::{AssessmentId, CityId, UnitId};
use sqlx::{Any, Transaction};

use crate::values::{current_raw_on, write_job};
use crate::{CurrentValue, JobError, Result, Store, StoreError, ValueJob, now, write_audit};

/// An import to record.
#[derive(Debug, Clone)]
pub struct NewDataset {
    pub assessment_id: AssessmentId,
    /// `register`, `licences`, … (checked by the schema).
    pub kind: String,
    /// The file, already stored by content.
    pub sha256: String,
    pub size: u64,
    pub media_type: String,
    pub file_name: String,
    pub encoding: String,
    pub rows: u64,
    pub header_json: String,
    pub settings_json: String,
    /// What the dataset contributes to the derivations, as bytes (valid with
    /// `settings_json`); see [`Store::dataset_facts`].
    pub facts: Option<Vec<u8>>,
}

/// A problem of one record, routed to its unit.
#[derive(Debug, Clone)]
pub struct NewProblem {
    pub row: u64,
    pub column: Option<String>,
    pub kind: String,
    pub unit_id: Option<UnitId>,
    pub unit_name: Option<String>,
    pub message: String,
    /// The derived input keys it affects, comma separated.
    pub feeds: String,
    /// The original row's cells, as a JSON array.
    pub raw_json: String,
}

#[derive(Debug, Clone, sqlx::FromRow, PartialEq, Eq)]
pub struct DatasetRow {
    pub id: i64,
    pub kind: String,
    pub sha256: String,
    pub file_name: String,
    pub encoding: String,
    pub rows: i64,
    pub problems: i64,
    pub header_json: String,
    pub settings_json: String,
    pub imported_by: String,
    pub imported_at: String,
    pub superseded_at: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow, PartialEq, Eq)]
pub struct ProblemRow {
    pub id: i64,
    pub dataset_id: i64,
    pub dataset_kind: String,
    pub row_number: i64,
    pub column_name: Option<String>,
    pub kind: String,
    pub unit_id: Option<UnitId>,
    pub unit_name: Option<String>,
    pub message: String,
    pub feeds: String,
    pub raw_json: String,
}

/// Problems to list: of the current datasets, optionally one unit's, one kind's.
#[derive(Debug, Clone, Default)]
pub struct ProblemFilter {
    pub dataset_kind: Option<String>,
    pub unit_id: Option<UnitId>,
    /// Only problems whose record names no known unit.
    pub unrouted: bool,
    pub kind: Option<String>,
    /// Only problems that feed this derived input (its key, e.g. `s8.code_error_rate`).
    pub feeds: Option<String>,
    pub limit: Option<u32>,
}

const DATASET_COLUMNS: &str =
    "id, kind, sha256, file_name, encoding, rows, problems, header_json, settings_json, imported_by, imported_at, superseded_at";

impl Store {
    /// Records an import in one transaction: the dataset (superseding the previous one of
    /// its kind), every problem, and the values derived from it, which `check` validates
    /// against the values committed inside the transaction (as any write of values).
    /// All or nothing: a refused value, a failing row or a killed process leaves the
    /// previous dataset, its problems and its values as they were.
    pub async fn import_dataset<E>(
        &self,
        dataset: &NewDataset,
        problems: &[NewProblem],
        values: &ValueJob,
        actor: &str,
        check: impl FnOnce(&[CurrentValue], &ValueJob) -> std::result::Result<(), E>,
    ) -> Result<std::result::Result<i64, JobError<E>>> {
        let mut tx = self.write_tx().await?;
        let current = current_raw_on(&mut tx, dataset.assessment_id).await?;
        if let Err(e) = check(&current, values) {
            return Ok(Err(JobError::Refused(e)));
        }
        let at = now();
        crate::evidence::record_blob(&mut tx, &dataset.sha256, dataset.size, &dataset.media_type, &at).await?;
        let before: Option<i64> =
            sqlx::query_scalar("SELECT id FROM datasets WHERE assessment_id = $1 AND kind = $2 AND superseded_at IS NULL")
                .bind(dataset.assessment_id)
                .bind(&dataset.kind)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(id) = before {
            sqlx::query("UPDATE datasets SET superseded_at = $1 WHERE id = $2").bind(&at).bind(id).execute(&mut *tx).await?;
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO datasets (assessment_id, kind, sha256, file_name, encoding, rows, problems, header_json, settings_json, imported_by, imported_at, facts) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind(dataset.assessment_id)
        .bind(&dataset.kind)
        .bind(&dataset.sha256)
        .bind(&dataset.file_name)
        .bind(&dataset.encoding)
        .bind(i64::try_from(dataset.rows).unwrap_or(i64::MAX))
        .bind(i64::try_from(problems.len()).unwrap_or(i64::MAX))
        .bind(&dataset.header_json)
        .bind(&dataset.settings_json)
        .bind(actor)
        .bind(&at)
        .bind(dataset.facts.as_deref())
        .fetch_one(&mut *tx)
        .await?;
        insert_problems(&mut tx, id, problems).await?;
        let after = format!(
            "{{\"kind\":{},\"file\":{},\"sha256\":{},\"rows\":{},\"problems\":{}}}",
            crate::json_str(&dataset.kind),
            crate::json_str(&dataset.file_name),
            crate::json_str(&dataset.sha256),
            dataset.rows,
            problems.len()
        );
        let before_json = before.map(|b| format!("{{\"dataset\":{b}}}"));
        write_audit(&mut tx, actor, "import", Some(dataset.assessment_id), "dataset", &id.to_string(), before_json.as_deref(), Some(&after)).await?;
        if !values.values.is_empty() {
            write_job(&mut tx, values).await?;
        }
        tx.commit().await?;
        Ok(Ok(id))
    }

    /// The current dataset of each kind imported for an assessment.
    pub async fn current_datasets(&self, assessment_id: AssessmentId) -> Result<Vec<DatasetRow>> {
        Ok(sqlx::query_as::<_, DatasetRow>(&format!(
            "SELECT {DATASET_COLUMNS} FROM datasets WHERE assessment_id = $1 AND superseded_at IS NULL ORDER BY kind"
        ))
        .bind(assessment_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The facts kept with a dataset and the settings they are valid with, if any.
    pub async fn dataset_facts(&self, dataset_id: i64) -> Result<Option<(Vec<u8>, String)>> {
        let row: Option<(Option<Vec<u8>>, String)> = sqlx::query_as("SELECT facts, settings_json FROM datasets WHERE id = $1")
            .bind(dataset_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.and_then(|(facts, settings)| facts.map(|f| (f, settings))))
    }

    /// Every import, newest first.
    pub async fn dataset_history(&self, assessment_id: AssessmentId) -> Result<Vec<DatasetRow>> {
        Ok(sqlx::query_as::<_, DatasetRow>(&format!("SELECT {DATASET_COLUMNS} FROM datasets WHERE assessment_id = $1 ORDER BY id DESC"))
            .bind(assessment_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Problems of the current datasets, in dataset and row order.
    pub async fn problems(&self, assessment_id: AssessmentId, filter: &ProblemFilter) -> Result<Vec<ProblemRow>> {
        let mut sql = String::from(
            "SELECT p.id, p.dataset_id, d.kind AS dataset_kind, p.row_number, p.column_name, p.kind, p.unit_id, p.unit_name, p.message, p.feeds, p.raw_json \
             FROM dataset_problems p JOIN datasets d ON d.id = p.dataset_id \
             WHERE d.assessment_id = $1 AND d.superseded_at IS NULL",
        );
        let mut n = 1;
        let mut texts = Vec::new();
        if let Some(k) = &filter.dataset_kind {
            n += 1;
            sql.push_str(&format!(" AND d.kind = ${n}"));
            texts.push(k.clone());
        }
        if let Some(k) = &filter.kind {
            n += 1;
            sql.push_str(&format!(" AND p.kind = ${n}"));
            texts.push(k.clone());
        }
        if let Some(key) = &filter.feeds {
            // `feeds` is a comma-separated list of input keys.
            n += 1;
            let find = match self.dialect {
                crate::Dialect::Sqlite => "instr",
                crate::Dialect::Postgres => "strpos",
            };
            sql.push_str(&format!(" AND {find}(',' || p.feeds || ',', ',' || ${n} || ',') > 0"));
            texts.push(key.clone());
        }
        let unit_param = filter.unit_id.map(|_| {
            n += 1;
            n
        });
        if let Some(p) = unit_param {
            sql.push_str(&format!(" AND p.unit_id = ${p}"));
        }
        if filter.unrouted {
            sql.push_str(" AND p.unit_id IS NULL");
        }
        sql.push_str(" ORDER BY d.kind, p.row_number, p.id");
        if let Some(limit) = filter.limit {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        let mut q = sqlx::query_as::<_, ProblemRow>(&sql).bind(assessment_id);
        for t in &texts {
            q = q.bind(t.as_str());
        }
        if let Some(u) = filter.unit_id {
            q = q.bind(u);
        }
        Ok(q.fetch_all(&self.pool).await?)
    }

    /// Problem counts of the current datasets by (dataset kind, problem kind, unit); within
    /// a kind the unit with the most first, in the same order on either backend.
    pub async fn problem_counts(&self, assessment_id: AssessmentId) -> Result<Vec<(String, String, Option<UnitId>, i64)>> {
        Ok(sqlx::query_as(
            "SELECT d.kind, p.kind, p.unit_id, COUNT(*) FROM dataset_problems p JOIN datasets d ON d.id = p.dataset_id \
             WHERE d.assessment_id = $1 AND d.superseded_at IS NULL GROUP BY d.kind, p.kind, p.unit_id ORDER BY d.kind, p.kind, COUNT(*) DESC, p.unit_id IS NULL, p.unit_id",
        )
        .bind(assessment_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Problem counts of the current datasets by the inputs they feed and their unit:
    /// (feeds, unit id, unit name as written, count).
    pub async fn problem_feed_counts(&self, assessment_id: AssessmentId) -> Result<Vec<(String, Option<UnitId>, Option<String>, i64)>> {
        Ok(sqlx::query_as(
            "SELECT p.feeds, p.unit_id, MIN(p.unit_name), COUNT(*) FROM dataset_problems p JOIN datasets d ON d.id = p.dataset_id \
             WHERE d.assessment_id = $1 AND d.superseded_at IS NULL AND p.feeds <> '' GROUP BY p.feeds, p.unit_id",
        )
        .bind(assessment_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The city's administrative division code (e.g. `5108`), if set.
    pub async fn division_code(&self, city_id: CityId) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT division_code FROM cities WHERE id = $1").bind(city_id).fetch_one(&self.pool).await?)
    }

    pub async fn set_division_code(&self, city_id: CityId, code: &str, actor: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let before: Option<String> = sqlx::query_scalar("SELECT division_code FROM cities WHERE id = $1")
            .bind(city_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("没有城市 {city_id}")))?;
        sqlx::query("UPDATE cities SET division_code = $1 WHERE id = $2").bind(code).bind(city_id).execute(&mut *tx).await?;
        let b = before.map(|b| format!("{{\"division_code\":{}}}", crate::json_str(&b)));
        let a = format!("{{\"division_code\":{}}}", crate::json_str(code));
        write_audit(&mut tx, actor, "update", None, "city", &city_id.to_string(), b.as_deref(), Some(&a)).await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn insert_problems(tx: &mut Transaction<'_, Any>, dataset_id: i64, problems: &[NewProblem]) -> Result<()> {
    // Many rows a statement: a city's import can carry tens of thousands of problems.
    const PER_STATEMENT: usize = 500;
    for chunk in problems.chunks(PER_STATEMENT) {
        let mut sql = String::from(
            "INSERT INTO dataset_problems (dataset_id, row_number, column_name, kind, unit_id, unit_name, message, feeds, raw_json) VALUES ",
        );
        for i in 0..chunk.len() {
            let b = i * 9;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})", b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9));
        }
        let mut q = sqlx::query(&sql);
        for p in chunk {
            q = q
                .bind(dataset_id)
                .bind(i64::try_from(p.row).unwrap_or(i64::MAX))
                .bind(p.column.as_deref())
                .bind(p.kind.as_str())
                .bind(p.unit_id)
                .bind(p.unit_name.as_deref())
                .bind(p.message.as_str())
                .bind(p.feeds.as_str())
                .bind(p.raw_json.as_str());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// A dataset import started from the web.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportJobRow {
    pub id: i64,
    pub assessment_id: AssessmentId,
    pub kind: String,
    pub file_name: String,
    pub size: i64,
    pub lines: i64,
    pub rows: i64,
    /// `running`, `done` or `failed`.
    pub state: String,
    /// What a finished import did (JSON of the application's own shape).
    pub result_json: Option<String>,
    /// Why it failed, as the person reads it.
    pub message: Option<String>,
    pub started_by: String,
    pub started_at: String,
    pub updated_at: String,
}

/// What a new import job is.
pub struct NewImportJob<'a> {
    pub assessment_id: AssessmentId,
    pub kind: &'a str,
    pub file_name: &'a str,
    pub size: i64,
    pub lines: i64,
    pub started_by: &'a str,
}

impl Store {
    pub async fn create_import_job(&self, job: &NewImportJob<'_>) -> Result<i64> {
        let at = now();
        Ok(sqlx::query_scalar(
            "INSERT INTO import_jobs (assessment_id, kind, file_name, size, lines, state, started_by, started_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 'running', $6, $7, $7) RETURNING id",
        )
        .bind(job.assessment_id)
        .bind(job.kind)
        .bind(job.file_name)
        .bind(job.size)
        .bind(job.lines)
        .bind(job.started_by)
        .bind(&at)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Records how many rows a running import has checked. On SQLite the import holds
    /// the database's only write lock until it commits, so this does nothing there.
    pub async fn set_import_job_rows(&self, id: i64, rows: i64) -> Result<()> {
        if matches!(self.dialect, crate::Dialect::Postgres) {
            sqlx::query("UPDATE import_jobs SET rows = $1, updated_at = $2 WHERE id = $3 AND state = 'running'").bind(rows).bind(now()).bind(id).execute(&self.pool).await?;
        }
        Ok(())
    }

    /// Ends a job: `done` with what it did, or `failed` with why.
    pub async fn finish_import_job(&self, id: i64, rows: i64, result_json: Option<&str>, message: Option<&str>) -> Result<()> {
        let state = if message.is_some() { "failed" } else { "done" };
        sqlx::query("UPDATE import_jobs SET state = $1, rows = $2, result_json = $3, message = $4, updated_at = $5 WHERE id = $6")
            .bind(state)
            .bind(rows)
            .bind(result_json)
            .bind(message)
            .bind(now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The job `id` of this assessment (another assessment's job is not found).
    pub async fn import_job(&self, id: i64, assessment_id: AssessmentId) -> Result<Option<ImportJobRow>> {
        Ok(sqlx::query_as::<_, ImportJobRow>(
            "SELECT id, assessment_id, kind, file_name, size, lines, rows, state, result_json, message, started_by, started_at, updated_at \
             FROM import_jobs WHERE id = $1 AND assessment_id = $2",
        )
        .bind(id)
        .bind(assessment_id)
        .fetch_optional(&self.pool)
        .await?)
    }
}
