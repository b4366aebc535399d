//! Use-cases of the evaluation workspace: what the credit office, the units and the
//! evaluators do, as plain functions over the store and the rubric.
//!
//! The CLI and (later) the web application call these; neither holds business rules
//! or SQL of its own. Every refusal is an [`AppError`] that names the field and the
//! problem, and a refused change leaves the store as it was.

pub mod accounts;
pub mod clock;
pub mod gaps;
pub mod package;
pub mod plan;
pub mod status;
pub mod timeline;
pub mod values;

use std::io::Read as _;
use std::path::Path;

use creditcity_rubric::{Assessment, Entry, InputErrors, InputKind, Meta, RawValue, Rubric, Scorecard, score};
use creditcity_store::{
    AssessmentRow, AuditFilter, AuditRow, BackupSummary, Decision, EvidenceRow, ImportSummary, Location, NewEvidence,
    CurrentValue, JobError, NewReview, NewValue, ReviewTarget, Store, StoreError, TaskRow, TaskStatus, UnitRow, ValueJob, ValueRow,
};
pub use creditcity_store::{ReviewState, SourceKind};

/// Types of evidence files accepted, as sniffed from their content.
pub const ACCEPTED_TYPES: [&str; 15] = [
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/bmp",
    "image/tiff",
    "text/plain",
    "application/zip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/msword",
    "application/vnd.ms-excel",
    "application/x-ole-storage",
];

/// A file name fit to show and to store: no path, no control characters, bounded.
fn sanitize_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let clean: String = base.chars().filter(|c| !c.is_control()).take(120).collect();
    if clean.trim().is_empty() { "file".to_owned() } else { clean }
}

/// Default limit of one evidence file: 50 MiB.
pub const DEFAULT_MAX_EVIDENCE_BYTES: u64 = 50 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Inputs(InputErrors),
    #[error("{field}: {problem}")]
    Invalid { field: String, problem: String },
    #[error("{0}")]
    Plan(String),
    /// Problems in a filled workbook, each with its sheet and cell.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Cells(Vec<CellProblem>),
}

/// One problem in a spreadsheet cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellProblem {
    pub sheet: String,
    pub cell: String,
    pub key: String,
    pub message: String,
}

impl std::fmt::Display for CellProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}!{} {}: {}", self.sheet, self.cell, self.key, self.message)
    }
}

pub type Result<T> = std::result::Result<T, AppError>;

fn invalid(field: impl Into<String>, problem: impl Into<String>) -> AppError {
    AppError::Invalid { field: field.into(), problem: problem.into() }
}

pub use clock::{beijing_time, today};

/// Who acts: recorded on every change.
#[derive(Debug, Clone)]
pub struct Actor(pub String);

/// Creates a store (if needed) and an assessment in it.
pub async fn init(location: &Location, rubric: &Rubric, city: &str, period: &str, actor: &Actor) -> Result<AssessmentRow> {
    if city.trim().is_empty() {
        return Err(invalid("city", "城市名称不能为空"));
    }
    let store = Store::open(location).await?;
    let row = store.create_assessment(city.trim(), &rubric.edition, period.trim(), &actor.0).await?;
    store.close().await;
    Ok(row)
}

/// A city's assessment opened for work.
pub struct Workspace {
    store: Store,
    rubric: Rubric,
    assessment: AssessmentRow,
    max_evidence_bytes: u64,
    /// Changes of values waiting to be written; whoever holds `writer` writes them
    /// all in one transaction (group commit).
    pending: std::sync::Mutex<Vec<PendingJob>>,
    writer: tokio::sync::Mutex<()>,
    /// The last snapshot, valid while the store's version has not moved.
    snapshot: tokio::sync::Mutex<Option<std::sync::Arc<Snapshot>>>,
    /// Units and tasks, valid while the plan's version has not moved.
    plan: tokio::sync::Mutex<Option<(i64, std::sync::Arc<Plan>)>>,
}

/// The units and tasks of an assessment.
pub struct Plan {
    pub units: Vec<UnitRow>,
    pub tasks: Vec<TaskRow>,
}

/// Everything the pages of an assessment show, computed once per change of the store.
pub struct Snapshot {
    /// The store's version this was computed at.
    pub version: i64,
    /// The day progress was computed for.
    pub today: String,
    pub scores: Scores,
    pub progress: status::Progress,
    pub current: Vec<ValueRow>,
    pub units: Vec<UnitRow>,
    pub tasks: Vec<TaskRow>,
    pub evidence: Vec<EvidenceRow>,
    pub reviews: Vec<creditcity_store::ReviewRow>,
    pub history_counts: std::collections::HashMap<String, usize>,
    /// The working and confirmed score at the end of each day something changed.
    pub timeline: Vec<timeline::DayScore>,
}

/// One value to set, as typed.
#[derive(Debug, Clone, Default)]
pub struct SetValue {
    pub key: String,
    pub text: String,
    pub unit: Option<String>,
    pub source: Option<String>,
    pub source_ref: String,
    pub note: String,
    pub evidence_ids: Vec<i64>,
}

/// The two scores of an assessment.
pub struct Scores {
    /// All current values.
    pub working: (Assessment, Scorecard),
    /// Accepted values only.
    pub confirmed: (Assessment, Scorecard),
    /// Stored values that break a rule of the rubric and were left out of the score.
    pub problems: Vec<creditcity_rubric::InputError>,
    /// The rules those values touch.
    pub invalid: Vec<InvalidRule>,
}

impl Workspace {
    /// Opens the store and selects an assessment: by id or city name, or the only one.
    pub async fn open(location: &Location, rubric: Rubric, selector: Option<&str>) -> Result<Self> {
        let store = Store::open_existing(location).await?;
        let all = store.assessments().await?;
        let assessment = match selector {
            Some(s) => all
                .iter()
                .find(|a| a.id.to_string() == s || a.city == s)
                .cloned()
                .ok_or_else(|| invalid("assessment", format!("没有“{s}”的评估;现有:{}", describe(&all))))?,
            None => match all.as_slice() {
                [one] => one.clone(),
                [] => return Err(invalid("assessment", "存储中还没有评估;先运行 creditcity init --city 城市名")),
                _ => return Err(invalid("assessment", format!("存储中有多个评估,请用 --assessment 指定:{}", describe(&all)))),
            },
        };
        if assessment.rubric_edition != rubric.edition {
            return Err(invalid(
                "rubric",
                format!("评估 {} 按 {} 版细则建立,当前细则为 {} 版", assessment.id, assessment.rubric_edition, rubric.edition),
            ));
        }
        Ok(Self {
            store,
            rubric,
            assessment,
            max_evidence_bytes: DEFAULT_MAX_EVIDENCE_BYTES,
            pending: std::sync::Mutex::new(Vec::new()),
            writer: tokio::sync::Mutex::new(()),
            snapshot: tokio::sync::Mutex::new(None),
            plan: tokio::sync::Mutex::new(None),
        })
    }

    #[must_use]
    pub fn with_max_evidence_bytes(mut self, limit: u64) -> Self {
        self.max_evidence_bytes = limit;
        self
    }

    pub fn rubric(&self) -> &Rubric {
        &self.rubric
    }

    pub fn assessment(&self) -> &AssessmentRow {
        &self.assessment
    }

    pub async fn close(self) {
        self.store.close().await;
    }

    /// Adds a unit to the city (the administration page), checked as a plan's units are.
    pub async fn add_unit(&self, name: &str, kind: &str, actor: &Actor) -> Result<()> {
        let problems = plan::check_unit(name, kind);
        if !problems.is_empty() {
            return Err(invalid("unit", problems.join(";")));
        }
        if self.units().await?.iter().any(|u| u.name == name.trim()) {
            return Err(invalid("name", format!("单位“{}”已存在", name.trim())));
        }
        let unit = creditcity_store::PlanUnit { name: name.trim().to_owned(), kind: kind.to_owned(), parent: None, contact: String::new() };
        Ok(self.store.add_unit(&self.assessment, &unit, &actor.0).await?)
    }

    /// Changes a task's lead unit and deadline (empty: none), checked as in a plan file.
    pub async fn update_task(&self, code: &str, lead_unit_id: i64, due: &str, actor: &Actor) -> Result<()> {
        let due = due.trim();
        let due = if due.is_empty() { None } else { Some(plan::check_date(due).map(|_| due).map_err(|m| invalid("due", m))?) };
        let plan = self.plan().await?;
        if !plan.tasks.iter().any(|t| t.code == code) {
            return Err(invalid("task", format!("没有任务 {code}")));
        }
        if !plan.units.iter().any(|u| u.id == lead_unit_id) {
            return Err(invalid("lead", format!("本城市没有单位 {lead_unit_id}")));
        }
        Ok(self.store.update_task(self.assessment.id, code, due, lead_unit_id, &actor.0).await?)
    }

    /// Every assessment of the store (for the administration page).
    pub async fn assessments(&self) -> Result<Vec<AssessmentRow>> {
        Ok(self.store.assessments().await?)
    }

    /// An evidence item of this assessment and its bytes; `None` when it is not one.
    pub async fn evidence_file(&self, id: i64) -> Result<Option<(EvidenceRow, Vec<u8>)>> {
        let e = match self.store.evidence_item(id).await {
            Ok(e) => e,
            Err(StoreError::NotFound(_)) => return Ok(None),
            Err(other) => return Err(other.into()),
        };
        if !self.store.evidence(self.assessment.id).await?.iter().any(|x| x.id == e.id) {
            return Ok(None);
        }
        let blobs = self.store.blobs().clone();
        let sha = e.sha256.clone();
        let bytes = tokio::task::spawn_blocking(move || blobs.read(&sha))
            .await
            .map_err(|err| StoreError::Io(err.to_string()))??;
        Ok(Some((e, bytes)))
    }

    /// The current values without provenance, as validation reads them.
    pub async fn current_raw(&self) -> Result<Vec<CurrentValue>> {
        Ok(self.store.current_raw(self.assessment.id).await?)
    }

    pub async fn units(&self) -> Result<Vec<UnitRow>> {
        Ok(self.store.units(self.assessment.city_id).await?)
    }

    pub async fn tasks(&self) -> Result<Vec<TaskRow>> {
        Ok(self.store.tasks(self.assessment.id).await?)
    }

    async fn unit_id(&self, name: &str) -> Result<i64> {
        let plan = self.plan().await?;
        let units = &plan.units;
        units.iter().find(|u| u.name == name).map(|u| u.id).ok_or_else(|| {
            let names: Vec<&str> = units.iter().map(|u| u.name.as_str()).take(8).collect();
            invalid("unit", format!("没有单位“{name}”(现有:{}{})", names.join("、"), if units.len() > 8 { "…" } else { "" }))
        })
    }

    /// Imports a plan file (units and tasks); all or nothing.
    pub async fn import_plan(&self, text: &str, actor: &Actor) -> Result<ImportSummary> {
        let known: Vec<String> = self.units().await?.into_iter().map(|u| u.name).collect();
        let plan = plan::parse(text, &self.rubric, &known).map_err(|issues| {
            AppError::Plan(
                issues
                    .iter()
                    .map(|i| i.line.map_or_else(|| i.message.clone(), |l| format!("line {l}: {}", i.message)))
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
        })?;
        Ok(self.store.import_plan(&self.assessment, &plan, &actor.0).await?)
    }

    /// The current values as validated entries (what the store holds now).
    async fn current_entries(&self, accepted_only: bool) -> Result<Vec<Entry>> {
        let rows = self.store.current_raw(self.assessment.id).await?;
        entries_of(&rows, accepted_only)
    }

    /// Sets values, each validated with the others (parts within wholes…); all or
    /// nothing. A judged (酌情) score needs a justification in `note`.
    pub async fn set_values(&self, items: &[SetValue], actor: &Actor) -> Result<Vec<ValueRow>> {
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
        for (item, v) in parsed {
            let unit_id = match &item.unit {
                Some(u) => Some(self.unit_id(u).await?),
                None => None,
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
        self.write(ValueJob { assessment_id: self.assessment.id, values: rows, actor: actor.0.clone(), accept_with: None }, typed).await
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
        let job = ValueJob { assessment_id: self.assessment.id, values: vec![row], actor: actor.0.clone(), accept_with: Some("评估专家酌情计分".to_owned()) };
        self.write(job, vec![(key.to_owned(), value)]).await
    }

    /// Queues a change and makes sure it is written: the first writer to get the
    /// writer lock writes every queued change in one transaction, validating each
    /// against the values committed at that moment (by any process) and the changes
    /// before it in the batch. Whatever a change would break is refused, and only that
    /// change.
    async fn write(&self, job: ValueJob, typed: Vec<(String, RawValue)>) -> Result<Vec<ValueRow>> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.pending.lock().map_err(|_| poisoned())?.push(PendingJob { job, typed, reply });
        {
            let _writer = self.writer.lock().await;
            let batch = std::mem::take(&mut *self.pending.lock().map_err(|_| poisoned())?);
            if !batch.is_empty() {
                self.write_batch(batch).await;
            }
        }
        answer.await.map_err(|_| AppError::Store(StoreError::Conflict("写入被中断,请重试".to_owned())))?
    }

    async fn write_batch(&self, batch: Vec<PendingJob>) {
        let (jobs, rest): (Vec<ValueJob>, Vec<_>) = batch.into_iter().map(|p| (p.job, (p.typed, p.reply))).unzip();
        let rubric = &self.rubric;
        let mut index = 0;
        let outcome = self
            .store
            .set_values_checked(jobs, |current, _job| {
                let result = check_change(rubric, current, &rest[index].0);
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

    /// The assessment of the current values, and of the accepted ones.
    pub async fn scores(&self) -> Result<Scores> {
        let meta = Meta {
            city: Some(self.assessment.city.clone()),
            rubric: Some(self.assessment.rubric_edition.clone()),
            period: Some(self.assessment.period.clone()),
            as_of: None,
        };
        let rows = self.store.current_raw(self.assessment.id).await?;
        let (working, problems) = validate_stored(&self.rubric, &meta, entries_of(&rows, false)?);
        // Accepted values alone may break a relation (a part accepted, its whole not yet):
        // what cannot be validated is left out of the confirmed score, without a problem.
        let (confirmed, _) = validate_stored(&self.rubric, &meta, entries_of(&rows, true)?);
        let working_card = score(&self.rubric, &working);
        let confirmed_card = score(&self.rubric, &confirmed);
        let invalid = invalid_rules(&self.rubric, &problems);
        Ok(Scores { working: (working, working_card), confirmed: (confirmed, confirmed_card), problems, invalid })
    }

    /// Attaches a file as evidence for a rule's checklist item (1-based), and a task.
    pub async fn attach(&self, path: &Path, rule_id: &str, item: Option<i64>, task: Option<&str>, unit: Option<&str>, actor: &Actor) -> Result<EvidenceRow> {
        self.check_item(rule_id, item)?;
        let meta = std::fs::metadata(path).map_err(|e| invalid("file", format!("{}: {e}", path.display())))?;
        if !meta.is_file() {
            return Err(invalid("file", format!("{} 不是文件", path.display())));
        }
        if meta.len() > self.max_evidence_bytes {
            return Err(invalid("file", format!("{} 有 {} 字节,超过上限 {} 字节", path.display(), meta.len(), self.max_evidence_bytes)));
        }
        let mut file = std::fs::File::open(path).map_err(|e| invalid("file", format!("{}: {e}", path.display())))?;
        let name = path.file_name().map_or_else(|| "file".to_owned(), |n| n.to_string_lossy().into_owned());
        self.attach_reader(&name, &mut file, rule_id, item, task, unit, actor).await
    }

    /// Attaches the content of `source` (an upload) under the name `name`. The content
    /// is bounded by the evidence limit and must be of an accepted type.
    #[allow(clippy::too_many_arguments)]
    pub async fn attach_reader(
        &self,
        name: &str,
        source: &mut (dyn std::io::Read + Send),
        rule_id: &str,
        item: Option<i64>,
        task: Option<&str>,
        unit: Option<&str>,
        actor: &Actor,
    ) -> Result<EvidenceRow> {
        self.check_item(rule_id, item)?;
        let task_id = match task {
            Some(code) => {
                let tasks = self.tasks().await?;
                let t = tasks.iter().find(|t| t.code == code).ok_or_else(|| invalid("task", format!("没有任务 {code}")))?;
                if !t.rules.iter().any(|r| r == rule_id) {
                    return Err(invalid("task", format!("任务 {code} 不涉及规则 {rule_id}(涉及 {})", t.rules.join("、"))));
                }
                Some(t.id)
            }
            None => None,
        };
        let unit_id = match unit {
            Some(u) => Some(self.unit_id(u).await?),
            None => None,
        };
        let name = sanitize_name(name);
        // Read at most one byte past the limit: enough to know it is too large.
        let mut bytes = Vec::new();
        std::io::Read::take(source, self.max_evidence_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| invalid("file", format!("{name}: {e}")))?;
        if bytes.len() as u64 > self.max_evidence_bytes {
            return Err(invalid("file", format!("{name} 超过上限 {} 字节", self.max_evidence_bytes)));
        }
        if bytes.is_empty() {
            return Err(invalid("file", format!("{name} 是空文件")));
        }
        let media_type = creditcity_store::blobs::sniff(&bytes[..bytes.len().min(8192)]);
        if !ACCEPTED_TYPES.contains(&media_type.as_str()) {
            return Err(invalid("file", format!("{name} 的类型 {media_type} 不在可接受的佐证材料类型之列(PDF、图片、Office 文档、文本、ZIP)")));
        }
        let new = NewEvidence { assessment_id: self.assessment.id, rule_id: rule_id.to_owned(), item, task_id, unit_id, original_name: name };
        Ok(self.store.add_evidence(&new, &mut bytes.as_slice(), self.max_evidence_bytes, &actor.0).await?)
    }

    /// The rule exists and has the checklist item.
    fn check_item(&self, rule_id: &str, item: Option<i64>) -> Result<()> {
        let rule = self.rubric.rule(rule_id).ok_or_else(|| invalid("rule", format!("没有规则 {rule_id}")))?;
        if let Some(i) = item {
            if i < 1 || i as usize > rule.evidence.len() {
                return Err(invalid("item", format!("规则 {rule_id} 的佐证材料清单有 {} 项,没有第 {i} 项", rule.evidence.len())));
            }
        }
        Ok(())
    }

    /// An evaluator accepts or returns an input's current value, an evidence item or a task.
    pub async fn review(&self, target: &str, id: &str, decision: Decision, comment: &str, actor: &Actor) -> Result<()> {
        self.review_all(&[(target.to_owned(), id.to_owned())], decision, comment, actor).await
    }

    /// Accepts or returns several objects at once (a group of the review queue): one
    /// transaction, all or none, each with its own review and audit entry. A return
    /// needs its comment.
    pub async fn review_all(&self, targets: &[(String, String)], decision: Decision, comment: &str, actor: &Actor) -> Result<()> {
        if decision == Decision::Return && comment.trim().is_empty() {
            return Err(invalid("comment", "退回须说明理由(--comment)"));
        }
        if targets.is_empty() {
            return Err(invalid("target", "没有选择要评审的对象"));
        }
        let mut current = None;
        let mut tasks = None;
        let mut reviews = Vec::with_capacity(targets.len());
        for (target, id) in targets {
            let (kind, target_id) = match target.as_str() {
                "input" => {
                    if current.is_none() {
                        current = Some(self.store.current_values(self.assessment.id).await?);
                    }
                    let rows = current.as_deref().unwrap_or_default();
                    let row = rows.iter().find(|r| r.input_key == *id).ok_or_else(|| invalid("input", format!("{id} 还没有值可评审")))?;
                    (ReviewTarget::Input, row.id)
                }
                "evidence" => {
                    let n: i64 = id.parse().map_err(|_| invalid("evidence", format!("“{id}”应为佐证材料编号")))?;
                    (ReviewTarget::Evidence, n)
                }
                "task" => {
                    if tasks.is_none() {
                        tasks = Some(self.tasks().await?);
                    }
                    let all = tasks.as_deref().unwrap_or_default();
                    let t = all.iter().find(|t| t.code == *id).ok_or_else(|| invalid("task", format!("没有任务 {id}")))?;
                    (ReviewTarget::Task, t.id)
                }
                other => return Err(invalid("target", format!("“{other}”应为 input、evidence 或 task"))),
            };
            reviews.push(NewReview { assessment_id: self.assessment.id, target: kind, target_id, decision, comment: comment.trim().to_owned() });
        }
        Ok(self.store.review_all(&reviews, &actor.0).await?)
    }

    /// Moves a task along 未开始 → 进行中 → 已提交; review decides 已通过 / 已退回.
    pub async fn move_task(&self, code: &str, to: TaskStatus, actor: &Actor) -> Result<()> {
        let tasks = self.tasks().await?;
        let t = tasks.iter().find(|t| t.code == code).ok_or_else(|| invalid("task", format!("没有任务 {code}")))?;
        let from = TaskStatus::parse(&t.status).unwrap_or(TaskStatus::NotStarted);
        let allowed = matches!(
            (from, to),
            (TaskStatus::NotStarted | TaskStatus::Returned, TaskStatus::InProgress)
                | (TaskStatus::NotStarted | TaskStatus::InProgress | TaskStatus::Returned, TaskStatus::Submitted)
        );
        if !allowed {
            return Err(invalid("task", format!("任务 {code} 当前为“{}”,不能改为“{}”", from.label(), to.label())));
        }
        Ok(self.store.set_task_status(self.assessment.id, code, to, &actor.0).await?)
    }

    pub async fn history(&self, key: &str) -> Result<Vec<ValueRow>> {
        if self.rubric.input_id(key).is_none() {
            let hint = self.rubric.closest_key(key).map_or_else(String::new, |k| format!(";是否应为 {k}?"));
            return Err(invalid("key", format!("{key} 不是本细则的输入项{hint}")));
        }
        Ok(self.store.value_history(self.assessment.id, key).await?)
    }

    /// A page of the audit log of this assessment, newest first (see [`Store::audit_page`]).
    pub async fn audit_page(&self, mut filter: AuditFilter, before: Option<i64>, limit: u32) -> Result<creditcity_store::AuditPage> {
        filter.assessment_id = Some(self.assessment.id);
        Ok(self.store.audit_page(&filter, before, limit).await?)
    }

    pub async fn audit(&self, mut filter: AuditFilter) -> Result<Vec<AuditRow>> {
        filter.assessment_id = Some(self.assessment.id);
        Ok(self.store.audit(&filter).await?)
    }

    /// The current values as an assessment file that `creditcity score FILE` accepts.
    pub async fn export_inputs(&self) -> Result<String> {
        let rows = self.store.current_values(self.assessment.id).await?;
        let mut out = format!(
            "# {} · {} 版细则 · {}\n# 由 creditcity export-inputs 导出;每项注明单位、来源和评审状态。\n\nassessment.city = {}\nassessment.rubric = {}\nassessment.period = {}\n\n",
            self.assessment.city,
            self.assessment.rubric_edition,
            self.assessment.period,
            RawValue::String(self.assessment.city.clone()).to_toml(),
            RawValue::String(self.assessment.rubric_edition.clone()).to_toml(),
            RawValue::String(self.assessment.period.clone()).to_toml(),
        );
        for input in &self.rubric.inputs {
            let Some(row) = rows.iter().find(|r| r.input_key == input.key) else { continue };
            let json: serde_json::Value = serde_json::from_str(&row.value_json)
                .map_err(|e| StoreError::Corrupt(format!("value of {}: {e}", row.input_key)))?;
            let unit = row.unit.as_deref().unwrap_or("—");
            let comment = format!("{} · {unit} · {} · {}", input.label, provenance(row.source_kind, &row.source_ref), row.review_state.label())
                .replace('\n', " ");
            out.push_str(&format!("{} = {}  # {comment}\n", input.key, values::from_json(&json).to_toml()));
        }
        Ok(out)
    }

    /// The gap plan of the current values, or — with `what_if` — of hypothetical ones:
    /// the store is not touched. Returns the plan and the what-if assessment's scorecard.
    pub async fn gap_plan(&self, what_if: &[(String, String)]) -> Result<(gaps::GapPlan, Scorecard)> {
        let mut entries = self.current_entries(false).await?;
        let mut errors = Vec::new();
        for (key, text) in what_if {
            let Some(id) = self.rubric.input_id(key) else {
                let hint = self.rubric.closest_key(key).map_or_else(String::new, |k| format!(";是否应为 {k}?"));
                errors.push(creditcity_rubric::InputError { key: key.clone(), line: None, message: format!("不是本细则的输入项{hint}") });
                continue;
            };
            match values::parse_typed(self.rubric.input(id).kind, text) {
                Ok(v) => {
                    entries.retain(|e| &e.key != key);
                    entries.push(Entry { key: key.clone(), value: v, line: None });
                }
                Err(message) => errors.push(creditcity_rubric::InputError { key: key.clone(), line: None, message }),
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Inputs(InputErrors(errors)));
        }
        let a = self.rubric.validate(Meta::default(), entries).map_err(AppError::Inputs)?;
        let card = score(&self.rubric, &a);
        let plan = self.plan().await?;
        Ok((gaps::plan(&self.rubric, &a, &card, &plan.tasks, &plan.units), card))
    }

    /// The Excel template of a unit (its inputs, tasks and evidence checklist) or, without
    /// a unit, of the whole city.
    pub async fn export_template(&self, unit: Option<&str>) -> Result<Vec<u8>> {
        use creditcity_excel::{ChecklistRow, InputRow, Template, TaskRow as XTask, Validation};
        let plan = self.plan().await?;
        let unit_row = match unit {
            Some(name) => Some(plan.units.iter().find(|u| u.name == name).cloned().ok_or_else(|| invalid("unit", format!("没有单位“{name}”")))?),
            None => None,
        };
        let (inputs, rules): (std::collections::BTreeSet<creditcity_rubric::InputId>, std::collections::BTreeSet<String>) = match &unit_row {
            Some(u) => (accounts::unit_inputs(&self.rubric, &plan.tasks, u), accounts::unit_rules(&plan.tasks, u)),
            None => (
                (0..self.rubric.inputs.len())
                    .filter_map(|i| self.rubric.inputs.get(i).and_then(|x| self.rubric.input_id(&x.key)))
                    .filter(|id| !matches!(self.rubric.input(*id).kind, InputKind::Judged { .. }))
                    .collect(),
                self.rubric.rules.iter().map(|r| r.id.clone()).collect(),
            ),
        };
        let current = self.store.current_values(self.assessment.id).await?;
        let mut rows: Vec<(usize, InputRow)> = Vec::new();
        for (rule, id) in accounts::input_rows(&self.rubric, &inputs, &rules) {
            let input = self.rubric.input(id);
            let row = current.iter().find(|v| v.input_key == input.key);
            let validation = match input.kind {
                InputKind::Bool => Validation::YesNo,
                InputKind::Count => match input.max {
                    Some(hi) => Validation::WholeBetween(i32::from(input.positive), hi as i32),
                    None => Validation::WholeAtLeast(i32::from(input.positive)),
                },
                InputKind::Ratio => Validation::DecimalBetween(0.0, 1.0),
                InputKind::Amount => Validation::DecimalAtLeast(0.0),
                InputKind::Number => Validation::DecimalAtLeast(input.min.unwrap_or(0.0)),
                InputKind::Judged { .. } | InputKind::List { .. } | InputKind::Table => Validation::None,
            };
            let mut hint = values::hint(input);
            if !input.at_most.is_empty() {
                let wholes: Vec<&str> = input.at_most.iter().map(|w| self.rubric.input(*w).label.as_str()).collect();
                hint.push_str(&format!(";不超过 {}", wholes.join(" + ")));
            }
            rows.push((rule.section, InputRow {
                key: input.key.clone(),
                rule: rule.id.clone(),
                label: input.label.clone(),
                unit_of_measure: input.unit.clone().unwrap_or_default(),
                hint,
                validation,
                current: row.map(|v| values::display_json(&v.value_json)).unwrap_or_default(),
                source: row.map(|v| provenance(v.source_kind, &v.source_ref)).unwrap_or_default(),
            }));
        }
        // A unit fills one sheet; the credit office one sheet per section.
        let sheets: Vec<(String, Vec<InputRow>)> = if unit_row.is_some() {
            vec![(creditcity_excel::INPUT_SHEET.to_owned(), rows.into_iter().map(|(_, r)| r).collect())]
        } else {
            self.rubric
                .sections
                .iter()
                .enumerate()
                .filter_map(|(i, sec)| {
                    let mine: Vec<InputRow> = rows.iter().filter(|(s, _)| *s == i).map(|(_, r)| r.clone()).collect();
                    (!mine.is_empty()).then(|| (creditcity_rubric::format::section_heading(&sec.id, &sec.title), mine))
                })
                .collect()
        };
        let tasks: Vec<XTask> = plan
            .tasks
            .iter()
            .filter(|t| unit_row.as_ref().is_none_or(|u| accounts::unit_tasks(std::slice::from_ref(*t), u).len() == 1))
            .map(|t| XTask {
                code: t.code.clone(),
                title: t.title.clone(),
                rules: t.rules.join("、"),
                due: t.due_date.clone().unwrap_or_default(),
                status: TaskStatus::parse(&t.status).map_or_else(|| t.status.clone(), |s| s.label().to_owned()),
            })
            .collect();
        let evidence = self.store.evidence(self.assessment.id).await?;
        let checklist: Vec<ChecklistRow> = self
            .rubric
            .rules
            .iter()
            .filter(|r| rules.contains(&r.id))
            .flat_map(|r| {
                let evidence = &evidence;
                r.evidence.iter().enumerate().map(move |(i, text)| ChecklistRow {
                    rule: r.id.clone(),
                    item: i + 1,
                    text: text.clone(),
                    files: evidence
                        .iter()
                        .filter(|e| e.rule_id == r.id && e.item == Some(i as i64 + 1))
                        .map(|e| e.original_name.clone())
                        .collect::<Vec<_>>()
                        .join("、"),
                })
            })
            .collect();
        let title = format!("{} · {}", self.assessment.city, unit.unwrap_or("全市"));
        creditcity_excel::write_template(&Template { title, sheets, tasks, checklist }).map_err(|e| invalid("template", e.to_string()))
    }

    /// The evidence package (迎检材料) as a zip written to `out`.
    pub async fn export_evidence(&self, out: impl std::io::Write + std::io::Seek) -> Result<package::PackageSummary> {
        let evidence = self.store.evidence(self.assessment.id).await?;
        package::write(&self.rubric, &self.assessment.city, &evidence, self.store.blobs(), out)
    }

    /// The score sheet (.xlsx): every rule with its section, max, score, explanation,
    /// missing inputs, evidence present/required and responsible units; subtotals, gates
    /// and totals. `confirmed` scores accepted values only.
    pub async fn export_scores(&self, confirmed: bool) -> Result<Vec<u8>> {
        use creditcity_excel::{ScoreRow, ScoreSheet};
        let snap = self.snapshot(&today()).await?;
        let (a, card) = if confirmed { &snap.scores.confirmed } else { &snap.scores.working };
        let r = &self.rubric;
        let mut sections = Vec::new();
        for (i, sec) in r.sections.iter().enumerate() {
            let heading = creditcity_rubric::format::section_heading(&sec.id, &sec.title);
            let rows = r.rules[sec.rules.clone()]
                .iter()
                .zip(&card.rules[sec.rules.clone()])
                .map(|(rule, res)| {
                    let e = creditcity_rubric::explain_rule(r, rule, a, res);
                    let with = (1..=rule.evidence.len())
                        .filter(|n| snap.evidence.iter().any(|x| x.rule_id == rule.id && x.item == Some(*n as i64) && x.review_state != ReviewState::Returned))
                        .count();
                    let mut units: Vec<String> = Vec::new();
                    for t in snap.tasks.iter().filter(|t| t.rules.contains(&rule.id)) {
                        for id in std::iter::once(t.lead_unit_id).chain(t.participating_unit_ids.iter().copied()) {
                            if let Some(u) = snap.units.iter().find(|u| u.id == id) {
                                if !units.contains(&u.name) {
                                    units.push(u.name.clone());
                                }
                            }
                        }
                    }
                    ScoreRow {
                        section: sec.id.clone(),
                        id: rule.id.clone(),
                        title: rule.title.clone(),
                        max: rule.max,
                        score: res.score,
                        status: if res.missing.is_empty() { "已计分" } else { "待填报" }.to_owned(),
                        explanation: e.text,
                        target: e.target.unwrap_or_default(),
                        missing: res.missing.iter().map(|id| r.input(*id).key.clone()).collect::<Vec<_>>().join("、"),
                        evidence: format!("{with} / {}", rule.evidence.len()),
                        units: units.join("、"),
                    }
                })
                .collect();
            sections.push((heading, card.sections.get(i).copied().unwrap_or(0.0), sec.max, rows));
        }
        let gates = r
            .gates
            .iter()
            .zip(&card.gates)
            .map(|(g, res)| {
                let e = creditcity_rubric::explain_gate(r, g, a, res);
                (g.id.clone(), g.title.clone(), res.status.label().to_owned(), e.text)
            })
            .collect();
        let title = format!(
            "{} 社会信用体系建设示范城市评估评分表({} 版细则 · {}{})",
            self.assessment.city,
            self.assessment.rubric_edition,
            self.assessment.period,
            if confirmed { " · 确认得分" } else { " · 工作得分" }
        );
        let sheet = ScoreSheet { title, sections, gates, total: card.total, bonus: card.bonus, veto: card.veto };
        creditcity_excel::write_scores(&sheet).map_err(|e| invalid("scores", e.to_string()))
    }

    /// Imports a filled template: every problem is listed by sheet and cell, and nothing
    /// is applied if anything is wrong. Values are recorded with the file and its hash as
    /// their source. Returns how many values changed.
    pub async fn import_template(&self, bytes: &[u8], file_name: &str, unit: Option<&str>, actor: &Actor) -> Result<usize> {
        let filled = creditcity_excel::read_filled(bytes).map_err(|e| invalid("file", e.to_string()))?;
        let plan = self.plan().await?;
        let allowed = match unit {
            Some(name) => {
                let u = plan.units.iter().find(|u| u.name == name).ok_or_else(|| invalid("unit", format!("没有单位“{name}”")))?;
                Some(accounts::unit_inputs(&self.rubric, &plan.tasks, u))
            }
            None => None,
        };
        let current = self.store.current_raw(self.assessment.id).await?;
        let source_ref = file_source(file_name, bytes);
        let mut problems = Vec::new();
        let mut items = Vec::new();
        let mut cells = std::collections::HashMap::new();
        for f in &filled {
            let problem = |message: String| CellProblem { sheet: f.sheet.clone(), cell: f.cell.clone(), key: f.key.clone(), message };
            let Some(id) = self.rubric.input_id(&f.key) else {
                problems.push(problem("不是本细则的输入项".to_owned()));
                continue;
            };
            if allowed.as_ref().is_some_and(|a| !a.contains(&id)) || matches!(self.rubric.input(id).kind, InputKind::Judged { .. }) {
                problems.push(problem("此输入项不由本单位填报".to_owned()));
                continue;
            }
            if cells.insert(f.key.clone(), (f.sheet.clone(), f.cell.clone())).is_some() {
                problems.push(problem("同一输入项填了两次".to_owned()));
                continue;
            }
            let value = match values::parse_typed(self.rubric.input(id).kind, &f.text) {
                Ok(v) => v,
                Err(m) => {
                    problems.push(problem(m));
                    continue;
                }
            };
            if let Err(m) = self.rubric.check_value(id, &value) {
                problems.push(problem(format!("“{}”:{m}", f.text)));
                continue;
            }
            let unchanged = current.iter().any(|c| c.key == f.key && serde_json::from_str::<serde_json::Value>(&c.value_json).is_ok_and(|j| values::from_json(&j) == value));
            if unchanged {
                continue;
            }
            items.push(SetValue {
                key: f.key.clone(),
                text: value.to_toml(),
                unit: unit.map(str::to_owned),
                source: Some(SourceKind::File.as_str().to_owned()),
                source_ref: source_ref.clone(),
                note: String::new(),
                evidence_ids: Vec::new(),
            });
        }
        if !problems.is_empty() {
            return Err(AppError::Cells(problems));
        }
        if items.is_empty() {
            return Ok(0);
        }
        match self.set_values(&items, actor).await {
            Ok(rows) => Ok(rows.len()),
            Err(AppError::Inputs(errors)) => Err(AppError::Cells(
                errors
                    .0
                    .into_iter()
                    .map(|e| {
                        let (sheet, cell) = e
                            .key
                            .split(" + ")
                            .find_map(|k| cells.get(k).cloned())
                            .unwrap_or_else(|| (creditcity_excel::INPUT_SHEET.to_owned(), "—".to_owned()));
                        CellProblem { sheet, cell, key: e.key, message: e.message }
                    })
                    .collect(),
            )),
            Err(other) => Err(other),
        }
    }

    /// Units and tasks, read again only when the plan has changed.
    pub async fn plan(&self) -> Result<std::sync::Arc<Plan>> {
        let version = self.store.plan_version().await?;
        let mut slot = self.plan.lock().await;
        if let Some((v, plan)) = slot.as_ref() {
            if *v == version {
                return Ok(plan.clone());
            }
        }
        let plan = std::sync::Arc::new(Plan { units: self.units().await?, tasks: self.tasks().await? });
        *slot = Some((version, plan.clone()));
        Ok(plan)
    }

    /// The current snapshot: recomputed only when the store has changed (by this
    /// process or another) or the day has turned.
    pub async fn snapshot(&self, today: &str) -> Result<std::sync::Arc<Snapshot>> {
        let version = self.store.version().await?;
        let mut slot = self.snapshot.lock().await;
        if let Some(s) = slot.as_ref().filter(|s| s.version == version && s.today == today) {
            return Ok(s.clone());
        }
        let scores = self.scores().await?;
        let units = self.units().await?;
        let tasks = self.tasks().await?;
        let evidence = self.store.evidence(self.assessment.id).await?;
        let mut progress = status::compute(&self.rubric, &scores.working.1, &scores.confirmed.1, &units, &tasks, &evidence, today);
        progress.invalid.clone_from(&scores.invalid);
        let reviews = self.store.reviews(self.assessment.id).await?;
        let history = self.store.all_values(self.assessment.id).await?;
        let timeline = timeline::compute(&self.rubric, &history, &reviews, today);
        let snapshot = std::sync::Arc::new(Snapshot {
            version,
            today: today.to_owned(),
            progress,
            current: self.store.current_values(self.assessment.id).await?,
            reviews,
            timeline,
            history_counts: self
                .store
                .history_counts(self.assessment.id)
                .await?
                .into_iter()
                .map(|(k, n)| (k, usize::try_from(n).unwrap_or(0)))
                .collect(),
            scores,
            units,
            tasks,
            evidence,
        });
        *slot = Some(snapshot.clone());
        Ok(snapshot)
    }

    /// Progress by unit and by section, as of `today` (YYYY-MM-DD).
    pub async fn progress(&self, today: &str) -> Result<status::Progress> {
        let scores = self.scores().await?;
        self.progress_with(&scores, today).await
    }

    /// Progress, from scores already computed.
    pub async fn progress_with(&self, scores: &Scores, today: &str) -> Result<status::Progress> {
        let units = self.units().await?;
        let tasks = self.tasks().await?;
        let evidence = self.store.evidence(self.assessment.id).await?;
        let mut progress = status::compute(&self.rubric, &scores.working.1, &scores.confirmed.1, &units, &tasks, &evidence, today);
        progress.invalid.clone_from(&scores.invalid);
        Ok(progress)
    }

    pub async fn evidence(&self) -> Result<Vec<EvidenceRow>> {
        Ok(self.store.evidence(self.assessment.id).await?)
    }

    /// Checks the store: database integrity, one current value per input, evidence
    /// hashes, and the current values of every assessment of this rubric edition
    /// validated together (every relation of the rubric).
    pub async fn check(&self) -> Result<CheckReport> {
        let summary = self.store.check().await?;
        let mut broken = Vec::new();
        for a in self.store.assessments().await? {
            if a.rubric_edition != self.rubric.edition {
                continue;
            }
            let rows = self.store.current_raw(a.id).await?;
            let (_, problems) = validate_stored(&self.rubric, &Meta::default(), entries_of(&rows, false)?);
            if !problems.is_empty() {
                let invalid = invalid_rules(&self.rubric, &problems);
                broken.push(BrokenAssessment { assessment: a, problems, invalid });
            }
        }
        Ok(CheckReport { summary, broken })
    }

    pub async fn backup(&self, dir: &Path) -> Result<BackupSummary> {
        Ok(self.store.backup(dir).await?)
    }
}

/// Restores a backup directory into a new store.
pub async fn restore(backup: &Path, into: &Location) -> Result<()> {
    Store::restore(backup, into).await?.close().await;
    Ok(())
}

/// Where a value came from, as people read it: "文件 · 2019年统计公报" or just "说明".
pub fn provenance(kind: SourceKind, reference: &str) -> String {
    if reference.trim().is_empty() { kind.label().to_owned() } else { format!("{} · {}", kind.label(), reference.trim()) }
}

/// How an imported file is named as a source: its name (never the importer's path)
/// and the SHA-256 of its bytes, so the very file can be found again.
fn file_source(file_name: &str, bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!("{} (SHA-256 {})", sanitize_name(file_name), creditcity_store::blobs::hex(&sha2::Sha256::digest(bytes)))
}

/// A change of values waiting for the writer, with the values as validation reads them.
struct PendingJob {
    job: ValueJob,
    typed: Vec<(String, RawValue)>,
    reply: tokio::sync::oneshot::Sender<Result<Vec<ValueRow>>>,
}

fn poisoned() -> AppError {
    AppError::Store(StoreError::Conflict("写入队列不可用,请重试".to_owned()))
}

/// Current values as validated entries; `accepted_only` keeps the accepted ones.
fn entries_of(rows: &[CurrentValue], accepted_only: bool) -> Result<Vec<Entry>> {
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        if accepted_only && row.review_state != ReviewState::Accepted {
            continue;
        }
        let json: serde_json::Value =
            serde_json::from_str(&row.value_json).map_err(|e| StoreError::Corrupt(format!("value of {}: {e}", row.key)))?;
        entries.push(Entry { key: row.key.clone(), value: values::from_json(&json), line: None });
    }
    Ok(entries)
}

/// Validates the assessment as it would be after a change, against the values
/// committed now; refuses whatever the change breaks, including relations with values
/// stored earlier. Problems the stored values already had stay theirs.
fn check_change(rubric: &Rubric, current: &[CurrentValue], change: &[(String, RawValue)]) -> Result<()> {
    let before = entries_of(current, false)?;
    let mut after = before.clone();
    for (key, value) in change {
        after.retain(|e| &e.key != key);
        after.push(Entry { key: key.clone(), value: value.clone(), line: None });
    }
    if let Err(InputErrors(errs)) = rubric.validate(Meta::default(), after) {
        let known: Vec<creditcity_rubric::InputError> = rubric.validate(Meta::default(), before).err().map(|e| e.0).unwrap_or_default();
        let new: Vec<_> = errs.into_iter().filter(|e| !known.contains(e)).collect();
        if !new.is_empty() {
            return Err(AppError::Inputs(InputErrors(new)));
        }
    }
    Ok(())
}

/// The inputs an error is about: the keys it names and, for a part above its whole,
/// the wholes too.
fn keys_of(rubric: &Rubric, error: &creditcity_rubric::InputError) -> Vec<String> {
    let mut keys = Vec::new();
    for key in error.key.split(" + ") {
        keys.push(key.to_owned());
        if let Some(id) = rubric.input_id(key) {
            keys.extend(rubric.input(id).at_most.iter().map(|w| rubric.input(*w).key.clone()));
        }
    }
    keys
}

/// Validates what the store holds without ever failing on it: values that break a
/// rule of the rubric (a part above its whole, stored before that was checked, or
/// written behind the application's back) are left out and reported, so that
/// everything else can still be scored.
pub fn validate_stored(rubric: &Rubric, meta: &Meta, mut entries: Vec<Entry>) -> (Assessment, Vec<creditcity_rubric::InputError>) {
    let mut problems = Vec::new();
    // Each round leaves out at least one key, so this ends.
    for _ in 0..=rubric.inputs.len() {
        match rubric.validate(meta.clone(), entries.clone()) {
            Ok(a) => return (a, problems),
            Err(InputErrors(errs)) => {
                let bad: std::collections::HashSet<String> = errs.iter().flat_map(|e| keys_of(rubric, e)).collect();
                let before = entries.len();
                entries.retain(|e| !bad.contains(&e.key));
                problems.extend(errs);
                if entries.len() == before {
                    break;
                }
            }
        }
    }
    // Only errors outside the values (the wrong edition…) remain: score nothing stored.
    let meta = Meta { rubric: None, ..meta.clone() };
    (Assessment::empty(rubric, meta), problems)
}

/// The rules that read an input of a stored value that is invalid, with the reason.
pub fn invalid_rules(rubric: &Rubric, problems: &[creditcity_rubric::InputError]) -> Vec<InvalidRule> {
    let mut out: Vec<InvalidRule> = Vec::new();
    for p in problems {
        let keys = keys_of(rubric, p);
        for rule in &rubric.rules {
            if rule.inputs.iter().any(|i| keys.contains(&rubric.input(*i).key)) {
                let reason = format!("{}{}", p.key, p.message);
                match out.iter_mut().find(|r| r.rule_id == rule.id) {
                    Some(r) if !r.reasons.contains(&reason) => r.reasons.push(reason),
                    Some(_) => {}
                    None => out.push(InvalidRule { rule_id: rule.id.clone(), reasons: vec![reason] }),
                }
            }
        }
    }
    out
}

/// What `check` found.
#[derive(Debug)]
pub struct CheckReport {
    pub summary: creditcity_store::CheckSummary,
    /// Assessments whose current values break a rule of the rubric.
    pub broken: Vec<BrokenAssessment>,
}

#[derive(Debug)]
pub struct BrokenAssessment {
    pub assessment: AssessmentRow,
    pub problems: Vec<creditcity_rubric::InputError>,
    pub invalid: Vec<InvalidRule>,
}

/// A rule that cannot be scored as stored, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRule {
    pub rule_id: String,
    pub reasons: Vec<String>,
}

fn describe(all: &[AssessmentRow]) -> String {
    all.iter().map(|a| format!("{} {} {}", a.id, a.city, a.period)).collect::<Vec<_>>().join(";")
}
