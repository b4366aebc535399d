//! Input values: every value ever set, the current one, and its history.

use crate::rows::AssessmentId;
use sqlx::{Any, Transaction};
use crate::{Decision, NewReview, NewValue, Result, ReviewState, ReviewTarget, Store, StoreError, VALUE_SELECT, ValueRow, json_str, now, write_audit};

impl Store {
    /// The current value of every input that has one.
    pub async fn current_values(&self, assessment_id: AssessmentId) -> Result<Vec<ValueRow>> {
        Ok(sqlx::query_as::<_, ValueRow>(&format!(
            "{VALUE_SELECT} WHERE v.assessment_id = $1 AND v.superseded_at IS NULL ORDER BY v.id"
        ))
        .bind(assessment_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The current values without provenance: the lean read that validation needs.
    pub async fn current_raw(&self, assessment_id: AssessmentId) -> Result<Vec<CurrentValue>> {
        let mut conn = self.pool.acquire().await?;
        current_raw_on(&mut conn, assessment_id).await
    }

    /// The current values of every assessment of the store, in one read: what the
    /// comparison of cities validates and scores. Ordered by assessment.
    pub async fn current_raw_all(&self) -> Result<Vec<(AssessmentId, CurrentValue)>> {
        let rows: Vec<(AssessmentId, String, String, String)> = sqlx::query_as(
            "SELECT assessment_id, input_key, value_json, review_state FROM input_values \
             WHERE superseded_at IS NULL ORDER BY assessment_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(a, key, value_json, state)| Ok((a, CurrentValue { key, value_json, review_state: ReviewState::parse_stored(&state)? })))
            .collect()
    }

    /// Every value every input has had, oldest first: the campaign's history.
    pub async fn all_values(&self, assessment_id: AssessmentId) -> Result<Vec<ValueRow>> {
        Ok(sqlx::query_as::<_, ValueRow>(&format!("{VALUE_SELECT} WHERE v.assessment_id = $1 ORDER BY v.id"))
            .bind(assessment_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// [`Store::all_values`] as a snapshot reads it: only the current values carry their
    /// unit's name and their evidence count (the superseded ones: none and 0), which
    /// spares two lookups per row of a long history.
    pub async fn all_values_current_detailed(&self, assessment_id: AssessmentId) -> Result<Vec<ValueRow>> {
        history_on(&self.pool, assessment_id).await
    }

    /// What a snapshot of an assessment is computed from (`all_values_current_detailed`,
    /// `plan_version_of`, `evidence`, `reviews`), read on one connection: taken from the
    /// pool once, and tested once as it goes back (a round trip), not once a read.
    pub async fn snapshot_reads(&self, assessment_id: AssessmentId) -> Result<SnapshotReads> {
        let mut c = self.pool.acquire().await?;
        let history = history_on(&mut *c, assessment_id).await?;
        let plan_version = crate::cities::plan_version_on(&mut *c, assessment_id).await?;
        let evidence = crate::evidence::evidence_on(&mut *c, assessment_id).await?;
        let reviews = crate::reviews::reviews_on(&mut *c, assessment_id).await?;
        Ok(SnapshotReads { history, plan_version, evidence, reviews })
    }

    /// Every value an input has had, oldest first.
    pub async fn value_history(&self, assessment_id: AssessmentId, key: &str) -> Result<Vec<ValueRow>> {
        Ok(sqlx::query_as::<_, ValueRow>(&format!(
            "{VALUE_SELECT} WHERE v.assessment_id = $1 AND v.input_key = $2 ORDER BY v.id"
        ))
        .bind(assessment_id)
        .bind(key)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Sets input values in one transaction: each current value (if any) is
    /// superseded, never overwritten. Returns the new rows. No check: see
    /// [`Store::set_values_checked`] for writes that must keep relations between values.
    pub async fn set_values(&self, values: &[NewValue], actor: &str) -> Result<Vec<ValueRow>> {
        let job = ValueJob { assessment_id: values.first().map_or(AssessmentId(0), |v| v.assessment_id), values: values.to_vec(), actor: actor.to_owned(), accept_with: None, skip_unchanged: false };
        let mut results = self.set_values_checked(vec![job], |_, _| Ok::<(), std::convert::Infallible>(())).await?;
        match results.pop() {
            Some(Ok(rows)) => Ok(rows),
            Some(Err(JobError::Store(e))) => Err(e),
            Some(Err(JobError::Refused(never))) => match never {},
            None => Ok(Vec::new()),
        }
    }

    /// Writes several independent changes of values in one transaction (group commit),
    /// each all-or-nothing on its own.
    ///
    /// `check` sees the values current *inside* the write transaction, which holds the
    /// store's write lock: a change is validated against what is committed, whichever
    /// process wrote it, and nobody can write in between. A change that `check` refuses,
    /// or that fails in the database, is rolled back to its savepoint and the others
    /// go on. Changes of one batch see each other in order.
    pub async fn set_values_checked<E>(
        &self,
        jobs: Vec<ValueJob>,
        mut check: impl FnMut(&[CurrentValue], &ValueJob) -> std::result::Result<(), E>,
    ) -> Result<Vec<std::result::Result<Vec<ValueRow>, JobError<E>>>> {
        let assessments: Vec<AssessmentId> = jobs.iter().map(|j| j.assessment_id).collect();
        let single = jobs.len() == 1;
        let mut tx = self.value_write_tx(&assessments).await?;
        let mut current: std::collections::HashMap<AssessmentId, Vec<CurrentValue>> = std::collections::HashMap::new();
        let mut outcomes: Vec<std::result::Result<Vec<ValueRow>, JobError<E>>> = Vec::with_capacity(jobs.len());
        // Where the newest row of each input written by this batch is in `outcomes`.
        let mut newest: std::collections::HashMap<(AssessmentId, String), (usize, usize)> = std::collections::HashMap::new();
        for job in &jobs {
            let state = match current.entry(job.assessment_id) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => e.insert(current_raw_on(&mut tx, job.assessment_id).await?),
            };
            if let Err(e) = check(state, job) {
                outcomes.push(Err(JobError::Refused(e)));
                continue;
            }
            // A form's save writes only what differs from the committed value.
            let changed;
            let job = if job.skip_unchanged {
                let values: Vec<NewValue> =
                    job.values.iter().filter(|v| !state.iter().any(|c| c.key == v.key && c.value_json == v.value_json)).cloned().collect();
                if values.is_empty() {
                    outcomes.push(Ok(Vec::new()));
                    continue;
                }
                changed = ValueJob { values, ..job.clone() };
                &changed
            } else {
                job
            };
            // A batch of one needs no savepoint: if its write fails, nothing is committed.
            let written = if single {
                write_job(&mut tx, job).await
            } else {
                let mut savepoint = sqlx::Acquire::begin(&mut tx).await?;
                let written = write_job(&mut savepoint, job).await;
                if written.is_ok() { savepoint.commit().await? } else { savepoint.rollback().await? }
                written
            };
            match written {
                Ok(mut rows) => {
                    for i in 0..rows.len() {
                        let (key, set_at) = (rows[i].input_key.clone(), rows[i].set_at.clone());
                        state.retain(|c| c.key != key);
                        state.push(CurrentValue { key: key.clone(), value_json: rows[i].value_json.clone(), review_state: rows[i].review_state });
                        // A row written before in this batch, for the same input, is
                        // superseded by this one (as a read after the batch shows it).
                        let earlier = match newest.insert((job.assessment_id, key), (outcomes.len(), i)) {
                            Some((o, r)) if o == outcomes.len() => rows.get_mut(r),
                            Some((o, r)) => match outcomes.get_mut(o) {
                                Some(Ok(before)) => before.get_mut(r),
                                _ => None,
                            },
                            None => None,
                        };
                        if let Some(row) = earlier {
                            row.superseded_at = Some(set_at);
                        }
                    }
                    outcomes.push(Ok(rows));
                }
                Err(e) => outcomes.push(Err(JobError::Store(e))),
            }
        }
        if single && outcomes.iter().any(std::result::Result::is_err) {
            tx.rollback().await?;
            return Ok(outcomes.into_iter().map(|o| o.map(|_| Vec::new())).collect());
        }
        tx.commit().await?;
        Ok(outcomes)
    }
}

/// What [`Store::snapshot_reads`] returns.
#[derive(Debug, Clone)]
pub struct SnapshotReads {
    /// Every value ever set, oldest first (see [`Store::all_values_current_detailed`]).
    pub history: Vec<ValueRow>,
    /// See [`Store::plan_version_of`].
    pub plan_version: i64,
    pub evidence: Vec<crate::EvidenceRow>,
    pub reviews: Vec<crate::ReviewRow>,
}

/// [`Store::all_values_current_detailed`] on a connection or the pool.
async fn history_on<'e>(e: impl sqlx::Executor<'e, Database = Any>, assessment_id: AssessmentId) -> Result<Vec<ValueRow>> {
    Ok(sqlx::query_as::<_, ValueRow>(
        "SELECT v.id, v.input_key, v.value_json, v.unit_id, \
         CASE WHEN v.superseded_at IS NULL THEN (SELECT u.name FROM units u WHERE u.id = v.unit_id) END AS unit, \
         v.source_kind, v.source_ref, v.note, v.set_by, v.set_at, v.superseded_at, v.review_state, \
         CASE WHEN v.superseded_at IS NULL THEN (SELECT COUNT(*) FROM input_evidence ie WHERE ie.input_value_id = v.id) ELSE 0 END AS evidence_count \
         FROM input_values v WHERE v.assessment_id = $1 ORDER BY v.id",
    )
    .bind(assessment_id)
    .fetch_all(e)
    .await?)
}

/// One change of values: a unit's form, a file, a command.
#[derive(Debug, Clone)]
pub struct ValueJob {
    pub assessment_id: AssessmentId,
    pub values: Vec<NewValue>,
    pub actor: String,
    /// Accept the new values as they are written, with this comment: an evaluator's
    /// own judged score is reviewed in the same transaction that records it.
    pub accept_with: Option<String>,
    /// A form's save: values equal to the committed ones (compared inside the write
    /// transaction) are not written again.
    pub skip_unchanged: bool,
}

/// Why one change of a batch was not written.
#[derive(Debug)]
pub enum JobError<E> {
    /// The check refused it.
    Refused(E),
    /// The database refused it (the other changes of the batch are kept).
    Store(StoreError),
}

/// A current value, as validation needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentValue {
    pub key: String,
    pub value_json: String,
    pub review_state: ReviewState,
}

pub(crate) async fn current_raw_on(conn: &mut sqlx::AnyConnection, assessment_id: AssessmentId) -> Result<Vec<CurrentValue>> {
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT input_key, value_json, review_state FROM input_values WHERE assessment_id = $1 AND superseded_at IS NULL")
            .bind(assessment_id)
            .fetch_all(&mut *conn)
            .await?;
    let mut current: Vec<CurrentValue> =
        rows.into_iter().map(|(key, value_json, state)| Ok(CurrentValue { key, value_json, review_state: ReviewState::parse_stored(&state)? })).collect::<Result<_>>()?;
    // By key, byte for byte (whatever the database's collation): validation reports
    // problems in this order.
    current.sort_by(|x, y| x.key.cmp(&y.key));
    Ok(current)
}

/// Writes a job's values (and, with `accept_with`, their acceptance): the new rows, as
/// a read after the job would return them.
pub(crate) async fn write_job(tx: &mut Transaction<'_, Any>, job: &ValueJob) -> Result<Vec<ValueRow>> {
    let mut rows = write_values(tx, &job.values, &job.actor).await?;
    if let Some(comment) = &job.accept_with {
        for row in &mut rows {
            let review = NewReview {
                assessment_id: job.assessment_id,
                target: ReviewTarget::Input,
                target_id: row.id,
                decision: Decision::Accept,
                comment: comment.clone(),
            };
            crate::reviews::write_review(tx, &review, &job.actor).await?;
            row.review_state = Decision::Accept.state();
        }
    }
    Ok(rows)
}

async fn write_values(tx: &mut Transaction<'_, Any>, values: &[NewValue], actor: &str) -> Result<Vec<ValueRow>> {
    let at = now();
    let mut rows = Vec::with_capacity(values.len());
    for v in values {
        // Supersede the current value (if any) and learn what it was, in one statement.
        let before: Option<(i64, String)> = sqlx::query_as(
            "UPDATE input_values SET superseded_at = $1 WHERE assessment_id = $2 AND input_key = $3 AND superseded_at IS NULL RETURNING id, value_json",
        )
        .bind(&at)
        .bind(v.assessment_id)
        .bind(&v.key)
        .fetch_optional(&mut **tx)
        .await?;
        // With the unit's name: the new row whole, without reading it again.
        let (id, unit): (i64, Option<String>) = sqlx::query_as(
            "INSERT INTO input_values (assessment_id, input_key, value_json, unit_id, source_kind, source_ref, note, set_by, set_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id, (SELECT u.name FROM units u WHERE u.id = unit_id) AS unit",
        )
        .bind(v.assessment_id)
        .bind(&v.key)
        .bind(&v.value_json)
        .bind(v.unit_id)
        .bind(v.source_kind.as_str())
        .bind(&v.source_ref)
        .bind(&v.note)
        .bind(actor)
        .bind(&at)
        .fetch_one(&mut **tx)
        .await?;
        for evidence in &v.evidence_ids {
            sqlx::query("INSERT INTO input_evidence (input_value_id, evidence_id) VALUES ($1, $2)")
                .bind(id)
                .bind(evidence)
                .execute(&mut **tx)
                .await?;
        }
        let after = format!(
            "{{\"value\":{},\"source\":{},\"ref\":{},\"note\":{}}}",
            v.value_json,
            json_str(v.source_kind.as_str()),
            json_str(&v.source_ref),
            json_str(&v.note)
        );
        let before_json = before.map(|(_, value)| format!("{{\"value\":{value}}}"));
        write_audit(tx, actor, "set", Some(v.assessment_id), "input", &v.key, before_json.as_deref(), Some(&after)).await?;
        rows.push(ValueRow {
            id,
            input_key: v.key.clone(),
            value_json: v.value_json.clone(),
            unit_id: v.unit_id,
            unit,
            source_kind: v.source_kind,
            source_ref: v.source_ref.clone(),
            note: v.note.clone(),
            set_by: actor.to_owned(),
            set_at: at.clone(),
            superseded_at: None,
            review_state: ReviewState::Pending,
            evidence_count: v.evidence_ids.len() as i64,
        });
    }
    Ok(rows)
}
