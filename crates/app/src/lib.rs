//! Use-cases of the evaluation workspace: what the credit office, the units and the
//! evaluators do, as plain functions over the store and the rubric.
//!
//! The CLI and (later) the web application call these; neither holds business rules
//! or SQL of its own. Every refusal is an [`AppError`] that names the field and the
//! problem, and a refused change leaves the store as it was.

pub mod accounts;
mod workspaces;
mod admin;
pub mod data;
pub mod clock;
pub mod compare;
mod errors;
mod evidence;
pub mod files;
pub mod gaps;
mod maintenance;
pub mod package;
pub mod plan;
mod review;
mod snapshot;
pub mod status;
pub mod timeline;
mod validation;
pub mod values;
mod workbooks;
mod writing;

pub use errors::{AppError, CellProblem, Result, describe_io};
pub(crate) use errors::invalid;
pub use maintenance::{BrokenAssessment, CheckReport, MigrationReport, migrate, restore};
pub use snapshot::{Plan, Scores, Snapshot};
pub use workspaces::{SignedIn, Workspaces};
pub use validation::{InvalidRule, invalid_rules, validate_stored};
use creditcity_store::{EvidenceId, UnitId};
use writing::PendingJob;

use creditcity_rubric::{Assessment, Entry, InputErrors, Meta, RawValue, Rubric, Scorecard, score};
use creditcity_store::{AssessmentRow, AuditFilter, AuditRow, CurrentValue, ImportSummary, Location, Store, StoreError, TaskRow, UnitRow, ValueRow};
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
    /// Shared with the write batches, which run on tasks of their own.
    rubric: std::sync::Arc<Rubric>,
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

/// One value to set, as typed.
#[derive(Debug, Clone, Default)]
pub struct SetValue {
    pub key: String,
    pub text: String,
    pub unit: Option<String>,
    pub source: Option<String>,
    pub source_ref: String,
    pub note: String,
    pub evidence_ids: Vec<EvidenceId>,
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
        Self::on(store, rubric, assessment)
    }

    /// The workspace of one assessment of an opened store.
    pub(crate) fn on(store: Store, rubric: Rubric, assessment: AssessmentRow) -> Result<Self> {
        if assessment.rubric_edition != rubric.edition {
            return Err(invalid(
                "rubric",
                format!("评估 {} 按 {} 版细则建立,当前细则为 {} 版", assessment.id, assessment.rubric_edition, rubric.edition),
            ));
        }
        Ok(Self {
            store,
            rubric: std::sync::Arc::new(rubric),
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

    pub(crate) async fn unit_id(&self, name: &str) -> Result<UnitId> {
        unit_id_in(&*self.plan().await?, name)
    }

    /// Imports a plan file (units and tasks); all or nothing.
    pub async fn import_plan(&self, text: &str, actor: &Actor) -> Result<ImportSummary> {
        let known: Vec<String> = self.units().await?.into_iter().map(|u| u.name).collect();
        let plan = plan::parse(text, &self.rubric, &known).map_err(AppError::Plan)?;
        Ok(self.store.import_plan(&self.assessment, &plan, &actor.0).await?)
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
        // A what-if is checked like a value set for real; what the stored values already
        // break stays theirs (left out and named, as everywhere) rather than failing the plan.
        let stored = self.current_entries(false).await?;
        let known = self.rubric.validate(Meta::default(), stored).err().map(|e| e.0).unwrap_or_default();
        if let Err(InputErrors(errs)) = self.rubric.validate(Meta::default(), entries.clone()) {
            let new: Vec<_> = errs.into_iter().filter(|e| !known.contains(e)).collect();
            if !new.is_empty() {
                return Err(AppError::Inputs(InputErrors(new)));
            }
        }
        let (a, _) = validate_stored(&self.rubric, &Meta::default(), entries);
        let card = score(&self.rubric, &a);
        let gap_plan = self.gap_plan_of(&a, &card).await?;
        Ok((gap_plan, card))
    }

    /// The gap plan of an assessment already scored, with the failing records that
    /// lower it.
    async fn gap_plan_of(&self, a: &Assessment, card: &Scorecard) -> Result<gaps::GapPlan> {
        let plan = self.plan().await?;
        let mut gap_plan = gaps::plan(&self.rubric, a, card, &plan.tasks, &plan.units);
        gap_plan.records = self.record_fixes(&gap_plan).await?;
        Ok(gap_plan)
    }

    /// The snapshot's gap plan with the failing records that lower it (the report's).
    pub async fn stored_gap_plan(&self, snap: &Snapshot) -> Result<gaps::GapPlan> {
        let mut gap_plan = snap.gap_plan(&self.rubric).clone();
        gap_plan.records = self.record_fixes(&gap_plan).await?;
        Ok(gap_plan)
    }

    /// The fixes of failing records that would raise a gap plan, ranked.
    async fn record_fixes(&self, gap_plan: &gaps::GapPlan) -> Result<Vec<gaps::RecordFix>> {
        let plan = self.plan().await?;
        let units = &plan.units;
        let counts: Vec<(String, String, u64)> = self
            .store
            .problem_feed_counts(self.assessment.id)
            .await?
            .into_iter()
            .map(|(feeds, unit_id, written, n)| {
                let unit = unit_id
                    .and_then(|id| units.iter().find(|u| u.id == id))
                    .map_or_else(|| written.map_or_else(|| "未注明单位".to_owned(), |w| format!("{w}(未匹配单位)")), |u| u.name.clone());
                (feeds, unit, u64::try_from(n).unwrap_or(0))
            })
            .collect();
        Ok(gaps::record_fixes(&self.rubric, gap_plan, &counts))
    }
}

/// Where a value came from, as people read it: "文件 · 2019年统计公报" or just "说明".
pub fn provenance(kind: SourceKind, reference: &str) -> String {
    if reference.trim().is_empty() { kind.label().to_owned() } else { format!("{} · {}", kind.label(), reference.trim()) }
}

fn describe(all: &[AssessmentRow]) -> String {
    all.iter().map(|a| format!("{} {} {}", a.id, a.city, a.period)).collect::<Vec<_>>().join(";")
}

/// The id of the unit of `plan` named `name`; an error listing some that exist if none is.
pub(crate) fn unit_id_in(plan: &snapshot::Plan, name: &str) -> Result<UnitId> {
    let units = &plan.units;
    units.iter().find(|u| u.name == name).map(|u| u.id).ok_or_else(|| {
        let names: Vec<&str> = units.iter().map(|u| u.name.as_str()).take(8).collect();
        invalid("unit", format!("没有单位“{name}”(现有:{}{})", names.join("、"), if units.len() > 8 { "…" } else { "" }))
    })
}
