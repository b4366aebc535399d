//! Writing values: validated against what is committed, inside the write transaction, several changes to a commit.

use creditcity_rubric::{Entry, InputErrors, InputKind, Meta, RawValue, Rubric};
use creditcity_store::{CurrentValue, JobError, NewValue, SourceKind, StoreError, ValueJob, ValueRow};

use crate::validation::entries_of;
use crate::{Actor, AppError, Plan, Result, SetValue, Workspace, invalid, sanitize_name, values};

impl Workspace {
    /// The current values as validated entries (what the store holds now).
    pub(crate) async fn current_entries(&self, accepted_only: bool) -> Result<Vec<Entry>> {
        let rows = self.store.current_raw(self.assessment.id).await?;
        entries_of(&rows, accepted_only)
    }

    /// Sets values, each validated with the others (parts within wholes…); all or
    /// nothing. A judged (酌情) score needs a justification in `note`.
    pub async fn set_values(&self, items: &[SetValue], actor: &Actor) -> Result<Vec<ValueRow>> {
        self.set_values_with(items, actor, false, None).await
    }

    /// A form's save: like `set_values`, but a value equal to the committed one (as
    /// stored, so `1,208` and `1208` are the same) is not written again. Returns the
    /// values written; none when nothing changed.
    /// The units of the items are found in `plan`, read by the caller for this request
    /// (as [`Workspace::plan`] would read it again).
    pub async fn save_form(&self, plan: &Plan, items: &[SetValue], actor: &Actor) -> Result<Vec<ValueRow>> {
        self.set_values_with(items, actor, true, Some(plan)).await
    }

    /// `plan`: the units the items name, if the caller has read them; else they are read
    /// once for the batch.
    async fn set_values_with(&self, items: &[SetValue], actor: &Actor, skip_unchanged: bool, plan: Option<&Plan>) -> Result<Vec<ValueRow>> {
        let mut errors = Vec::new();
        let mut parsed = Vec::with_capacity(items.len());
        for item in items {
            let Some(id) = self.rubric.input_id(&item.key) else {
                let hint = self.rubric.closest_key(&item.key).map_or_else(String::new, |k| format!(";是否应为 {k}?"));
                errors.push(creditcity_rubric::InputError { key: item.key.clone(), line: None, message: format!("不是本细则的输入项{hint}") });
                continue;
            };
            let input = self.rubric.input(id);
            match values::parse_typed(input.kind, &item.text) {
                Ok(v) => parsed.push((item, v)),
                Err(message) => errors.push(creditcity_rubric::InputError { key: item.key.clone(), line: None, message }),
            }
            if matches!(input.kind, InputKind::Judged { .. }) && item.note.trim().is_empty() {
                errors.push(creditcity_rubric::InputError {
                    key: item.key.clone(),
                    line: None,
                    message: "酌情计分须附评分理由(--note)".to_owned(),
                });
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Inputs(InputErrors(errors)));
        }
        let mut rows = Vec::with_capacity(parsed.len());
        let mut typed = Vec::with_capacity(parsed.len());
        let evidence = if items.iter().any(|i| !i.evidence_ids.is_empty()) { self.store.evidence(self.assessment.id).await? } else { Vec::new() };
        let read;
        let plan = match plan {
            Some(p) => Some(p),
            None if parsed.iter().any(|(item, _)| item.unit.is_some()) => {
                read = self.plan().await?;
                Some(&*read)
            }
            None => None,
        };
        for (item, v) in parsed {
            let unit_id = match (&item.unit, plan) {
                (Some(u), Some(plan)) => Some(crate::unit_id_in(plan, u)?),
                (Some(u), None) => Some(self.unit_id(u).await?),
                (None, _) => None,
            };
            let source = match &item.source {
                Some(s) => SourceKind::parse(s).ok_or_else(|| invalid("source", format!("“{s}”应为 document、platform 或 note(文件、平台、说明)")))?,
                None => SourceKind::Note,
            };
            for id in &item.evidence_ids {
                if !evidence.iter().any(|e| e.id == *id) {
                    return Err(invalid("evidence", format!("本评估中没有佐证材料 {id}")));
                }
            }
            rows.push(NewValue {
                assessment_id: self.assessment.id,
                key: item.key.clone(),
                value_json: values::to_json(&v).to_string(),
                unit_id,
                source_kind: source,
                source_ref: item.source_ref.clone(),
                note: item.note.clone(),
                evidence_ids: item.evidence_ids.clone(),
            });
            typed.push((item.key.clone(), v));
        }
        self.write(ValueJob { assessment_id: self.assessment.id, values: rows, actor: actor.0.clone(), accept_with: None, skip_unchanged }, typed).await
    }

    /// An evaluator's judged (酌情) score: recorded and accepted in one transaction.
    pub async fn set_judged(&self, key: &str, text: &str, justification: &str, actor: &Actor) -> Result<Vec<ValueRow>> {
        let Some(id) = self.rubric.input_id(key).filter(|id| matches!(self.rubric.input(*id).kind, InputKind::Judged { .. })) else {
            return Err(invalid("key", format!("{key} 不是酌情计分项")));
        };
        let mut errors = Vec::new();
        let value = values::parse_typed(self.rubric.input(id).kind, text)
            .map_err(|message| errors.push(creditcity_rubric::InputError { key: key.to_owned(), line: None, message }))
            .ok();
        if justification.trim().is_empty() {
            errors.push(creditcity_rubric::InputError { key: key.to_owned(), line: None, message: "酌情计分须附评分理由".to_owned() });
        }
        let Some(value) = value.filter(|_| errors.is_empty()) else {
            return Err(AppError::Inputs(InputErrors(errors)));
        };
        let row = NewValue {
            assessment_id: self.assessment.id,
            key: key.to_owned(),
            value_json: values::to_json(&value).to_string(),
            unit_id: None,
            source_kind: SourceKind::Note,
            source_ref: String::new(),
            note: justification.trim().to_owned(),
            evidence_ids: Vec::new(),
        };
        let job = ValueJob { assessment_id: self.assessment.id, values: vec![row], actor: actor.0.clone(), accept_with: Some("评估专家酌情计分".to_owned()), skip_unchanged: false };
        self.write(job, vec![(key.to_owned(), value)]).await
    }

    /// Queues a change and makes sure it is written: the first writer to get the
    /// writer lock writes every queued change in one transaction, validating each
    /// against the values committed at that moment (by any process) and the changes
    /// before it in the batch. Whatever a change would break is refused, and only that
    /// change.
    pub(crate) async fn write(&self, job: ValueJob, typed: Vec<(String, RawValue)>) -> Result<Vec<ValueRow>> {
        let (reply, mut answer) = tokio::sync::oneshot::channel();
        self.pending.lock().map_err(|_| poisoned())?.push(PendingJob { job, typed, reply });
        let interrupted = || AppError::Store(StoreError::Conflict("写入被中断,请重试".to_owned()));
        // Wait for the writer lock or for the answer, whichever comes first: a change
        // written in another's batch leaves the queue at once instead of waiting its turn
        // for a lock it no longer needs.
        tokio::select! {
            biased;
            result = &mut answer => return result.map_err(|_| interrupted())?,
            _writer = self.writer.lock() => {
                let batch = std::mem::take(&mut *self.pending.lock().map_err(|_| poisoned())?);
                if !batch.is_empty() {
                    self.write_batch(batch).await;
                }
            }
        }
        answer.await.map_err(|_| interrupted())?
    }

    /// Writes a batch on a task of its own: a request that goes away (its client hung
    /// up) never cuts a transaction short, nor the answers of the others in the batch.
    async fn write_batch(&self, batch: Vec<PendingJob>) {
        let (store, rubric) = (self.store.clone(), self.rubric.clone());
        let _ = tokio::spawn(write_batch(store, rubric, batch)).await;
    }

    /// Loads every value of an assessment file, with the file as their source.
    pub async fn import_inputs(&self, text: &str, file_name: &str, unit: Option<&str>, actor: &Actor) -> Result<usize> {
        let a = self.rubric.parse_assessment(text).map_err(AppError::Inputs)?;
        let source_ref = file_source(file_name, text.as_bytes());
        let items: Vec<SetValue> = a
            .entries(&self.rubric)
            .into_iter()
            .map(|e| SetValue {
                text: e.value.to_toml(),
                note: if matches!(self.rubric.input_id(&e.key).map(|id| self.rubric.input(id).kind), Some(InputKind::Judged { .. })) {
                    format!("自评(导入自 {})", sanitize_name(file_name))
                } else {
                    String::new()
                },
                key: e.key,
                unit: unit.map(str::to_owned),
                source: Some(SourceKind::File.as_str().to_owned()),
                source_ref: source_ref.clone(),
                evidence_ids: Vec::new(),
            })
            .collect();
        let n = items.len();
        self.set_values(&items, actor).await?;
        Ok(n)
    }
}

/// How an imported file is named as a source: its name (never the importer's path)
/// and the SHA-256 of its bytes, so the very file can be found again.
pub(crate) fn file_source(file_name: &str, bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!("{} (SHA-256 {})", sanitize_name(file_name), creditcity_store::blobs::hex(&sha2::Sha256::digest(bytes)))
}

/// A change of values waiting for the writer, with the values as validation reads them.
pub(crate) struct PendingJob {
    job: ValueJob,
    typed: Vec<(String, RawValue)>,
    reply: tokio::sync::oneshot::Sender<Result<Vec<ValueRow>>>,
}

pub(crate) fn poisoned() -> AppError {
    AppError::Store(StoreError::Conflict("写入队列不可用,请重试".to_owned()))
}

/// Validates the assessment as it would be after a change, against the values
/// committed now; refuses whatever the change breaks, including relations with values
/// stored earlier. Problems the stored values already had stay theirs.
pub(crate) fn check_change(rubric: &Rubric, current: &[CurrentValue], change: &[(String, RawValue)]) -> Result<()> {
    let before = entries_of(current, false)?;
    let mut after: Vec<Entry> = before.iter().filter(|e| !change.iter().any(|(k, _)| *k == e.key)).cloned().collect();
    after.extend(change.iter().map(|(key, value)| Entry { key: key.clone(), value: value.clone(), line: None }));
    // The state before the change is validated only when the state after it is not
    // valid (the rare case), to tell its own problems from the change's.
    if let Err(InputErrors(errs)) = rubric.validate(Meta::default(), after) {
        let known: Vec<creditcity_rubric::InputError> = rubric.validate(Meta::default(), before).err().map(|e| e.0).unwrap_or_default();
        let new: Vec<_> = errs.into_iter().filter(|e| !known.contains(e)).collect();
        if !new.is_empty() {
            return Err(AppError::Inputs(InputErrors(new)));
        }
    }
    Ok(())
}

async fn write_batch(store: creditcity_store::Store, rubric: std::sync::Arc<creditcity_rubric::Rubric>, batch: Vec<PendingJob>) {
    let (jobs, rest): (Vec<ValueJob>, Vec<_>) = batch.into_iter().map(|p| (p.job, (p.typed, p.reply))).unzip();
    let mut index = 0;
    let outcome = store
        .set_values_checked(jobs, |current, _job| {
            let result = check_change(&rubric, current, &rest[index].0);
            index += 1;
            result
        })
        .await;
    match outcome {
        Ok(results) => {
            for (result, (_, reply)) in results.into_iter().zip(rest) {
                let answer = match result {
                    Ok(rows) => Ok(rows),
                    Err(JobError::Refused(e)) => Err(e),
                    Err(JobError::Store(e)) => Err(AppError::Store(e)),
                };
                let _ = reply.send(answer);
            }
        }
        Err(e) => {
            let message = e.to_string();
            for (_, reply) in rest {
                let _ = reply.send(Err(AppError::Store(StoreError::Conflict(format!("未保存:{message}")))));
            }
        }
    }
}
