//! The city's own records (datasets): imported, checked record by record, derived into
//! the rubric's inputs, and every problem routed to the unit that owns the record.
//!
//! An import is one transaction with the values it derives: the previous dataset of the
//! kind, its problems and its values stay as they were until the new ones are complete.
//! The file is kept by content (like evidence), so every derivation can be reproduced.
//! Deriving takes the other kinds' facts kept with their current datasets when those were
//! checked with the same settings, and re-reads their stored files otherwise.

use creditcity_store::UnitId;
use std::collections::HashMap;
use std::path::Path;

use creditcity_data::date::Date;
use creditcity_data::{DatasetKind, Datasets, Input, InputKey, Settings, Unit, Units, Window};
use creditcity_rubric::RawValue;
use creditcity_store::{DatasetRow, JobError, NewDataset, NewProblem, NewValue, ProblemFilter, ProblemRow, SourceKind, StoreError, UnitRow, ValueJob, ValueRow};

use crate::writing::check_change;
use crate::{Actor, AppError, Result, Workspace, invalid, sanitize_name, values};

/// The largest dataset file accepted: 2 GiB (a large city's five million records).
pub const MAX_DATASET_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// What an import did.
#[derive(Debug, Clone)]
pub struct DataImport {
    pub kind: DatasetKind,
    pub dataset_id: i64,
    pub rows: u64,
    pub problems: usize,
    /// Inputs set from the records, with how each was computed.
    pub derived: Vec<DerivedInput>,
    /// Derived inputs whose value was typed by hand and is kept (it overrides the records).
    pub overridden: Vec<DerivedInput>,
    /// Inputs that could not be derived yet, and why.
    pub not_derived: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DerivedInput {
    pub key: String,
    pub value: f64,
    /// Chinese: the formula with the counts.
    pub formula: String,
}

/// The datasets of an assessment and what they decide.
#[derive(Debug, Clone)]
pub struct DataStatus {
    pub division: Option<String>,
    pub datasets: Vec<DatasetRow>,
    /// Problem counts: (dataset kind, problem kind, unit name or None, count).
    pub counts: Vec<(String, String, Option<String>, i64)>,
    /// Derived inputs and where their current value comes from.
    pub inputs: Vec<DerivedState>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DerivedState {
    pub key: String,
    pub label: String,
    /// The current value as stored (JSON), if any.
    pub value: Option<String>,
    /// Whether the current value comes from the records (else typed by hand: an override).
    pub from_records: bool,
    /// The formula with the counts, for a value from the records.
    pub formula: String,
}

impl Workspace {
    /// The city's administrative division code (`5108`…), which tells its records from
    /// another city's.
    pub async fn division(&self) -> Result<Option<String>> {
        Ok(self.store.division_code(self.assessment.city_id).await?)
    }

    /// Sets the division code: 4 (prefecture) or 6 digits, as in GB/T 2260.
    pub async fn set_division(&self, code: &str, actor: &Actor) -> Result<()> {
        let code = code.trim();
        if !(code.len() == 4 || code.len() == 6) || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("division", format!("“{code}”应为 4 位或 6 位行政区划代码,如 5108")));
        }
        Ok(self.store.set_division_code(self.assessment.city_id, code, &actor.0).await?)
    }

    /// The settings records are checked with: the edition's window, today in Beijing,
    /// the city's division code and its units (with the other names records use).
    async fn data_settings(&self) -> Result<(Settings, Vec<UnitRow>)> {
        let window = match self.assessment.rubric_edition.as_str() {
            "2019" => Window::edition_2019(),
            other => return Err(invalid("rubric", format!("{other} 版细则没有规定的数据窗口"))),
        };
        let Some(division) = self.division().await? else {
            return Err(invalid(
                "division",
                "尚未设置本市行政区划代码,无法判断记录是否属于本市;先运行 creditcity city --division 5108(以本市代码为准)",
            ));
        };
        let today = crate::clock::today();
        let parse = |from: usize, to: usize| today.get(from..to).and_then(|s| s.parse::<u32>().ok()).unwrap_or(1);
        let today = Date::new(i32::try_from(parse(0, 4)).unwrap_or(2019), parse(5, 7), parse(8, 10))
            .ok_or_else(|| invalid("today", format!("无法识别今天的日期 {today}")))?;
        let units = self.units().await?;
        let mut settings = Settings::new(window, today, &division);
        settings.units = Units::new(
            units
                .iter()
                .map(|u| Unit { name: u.name.clone(), aliases: u.aliases.lines().map(str::trim).filter(|a| !a.is_empty()).map(str::to_owned).collect() })
                .collect(),
        );
        Ok((settings, units))
    }

    /// Imports a dataset file (CSV in UTF-8 / GB18030, or .xlsx): checks every record,
    /// stores the file and every problem, and sets the inputs the current datasets
    /// decide — all in one transaction. `progress` hears the rows read so far.
    pub async fn import_dataset(
        &self,
        kind: &str,
        path: &Path,
        actor: &Actor,
        progress: Box<dyn FnMut(u64) + Send>,
    ) -> Result<DataImport> {
        let name = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        self.import_dataset_inner(kind, path, &name, &path.display().to_string(), actor, progress).await
    }

    /// [`Workspace::import_dataset`] of a file received under another name (an upload
    /// spooled to a temporary file): the dataset is recorded, and errors are told, under
    /// `name`, never the temporary path.
    pub async fn import_dataset_named(
        &self,
        kind: &str,
        path: &Path,
        name: &str,
        actor: &Actor,
        progress: Box<dyn FnMut(u64) + Send>,
    ) -> Result<DataImport> {
        let shown = sanitize_name(name);
        self.import_dataset_inner(kind, path, name, &shown, actor, progress).await
    }

    async fn import_dataset_inner(
        &self,
        kind: &str,
        path: &Path,
        name: &str,
        shown: &str,
        actor: &Actor,
        progress: Box<dyn FnMut(u64) + Send>,
    ) -> Result<DataImport> {
        let kind = DatasetKind::from_id(kind).ok_or_else(|| {
            let kinds: Vec<String> = DatasetKind::ALL.iter().map(|k| format!("{}({})", k.id(), k.label())).collect();
            invalid("kind", format!("“{kind}”不是数据集类型;可用:{}", kinds.join("、")))
        })?;
        let (settings, units) = self.data_settings().await?;
        let file = path.to_path_buf();
        let file_name = sanitize_name(name);
        // Checking reads the whole file: blocking work, off the async runtime.
        let checked = {
            let settings = settings.clone();
            let mut progress = progress;
            tokio::task::spawn_blocking(move || {
                let input = Input::open(&file)?;
                creditcity_data::check_with_progress(kind, input, &settings, &mut progress)
            })
            .await
            .map_err(|e| invalid("file", e.to_string()))?
            .map_err(|e| data_file_error(shown, e))?
        };
        let blobs = self.store.blobs().clone();
        let file = path.to_path_buf();
        let blob = tokio::task::spawn_blocking(move || {
            let mut f = std::fs::File::open(&file).map_err(|source| AppError::FileRead { path: file.clone(), source })?;
            Ok::<_, AppError>(blobs.put(&mut f, MAX_DATASET_BYTES)?)
        })
        .await
        .map_err(|e| invalid("file", e.to_string()))??;
        // The other kinds' current datasets: their kept facts, or read again from their files.
        let settings_json = settings_json(&settings);
        let others = self.current_facts(&settings, &settings_json, Some(kind)).await?;
        let mut datasets = Datasets::default();
        for f in &others {
            datasets.add_facts(f);
        }
        datasets.add(&checked);
        let derivation = creditcity_data::derive(&datasets, &settings);
        let current = self.store.current_raw(self.assessment.id).await?;
        let current_values = self.store.current_values(self.assessment.id).await?;
        let mut job = ValueJob { assessment_id: self.assessment.id, values: Vec::new(), actor: actor.0.clone(), accept_with: None, skip_unchanged: false };
        let mut typed = Vec::new();
        let (mut derived, mut overridden) = (Vec::new(), Vec::new());
        let sources: HashMap<DatasetKind, String> = {
            let mut m: HashMap<DatasetKind, String> = others.iter().map(|f| (f.kind(), String::new())).collect();
            m.insert(kind, String::new());
            m
        };
        let stored = self.store.current_datasets(self.assessment.id).await?;
        for d in &derivation.values {
            let key = d.key.key();
            let Some(id) = self.rubric.input_id(key) else { continue };
            let raw = match d.value {
                creditcity_data::DerivedValue::Count(n) => RawValue::Integer(i64::try_from(n).unwrap_or(i64::MAX)),
                creditcity_data::DerivedValue::Ratio { .. } => RawValue::Float(d.value.as_f64()),
            };
            let input = DerivedInput { key: key.to_owned(), value: d.value.as_f64(), formula: d.formula.clone() };
            if current_values.iter().any(|v| v.input_key == key && v.source_kind != SourceKind::Dataset) {
                overridden.push(input);
                continue;
            }
            let value = self.rubric.check_value(id, &raw).map_err(|m| invalid(key, m))?;
            let _ = value;
            let unchanged = current.iter().any(|c| c.key == key && serde_json::from_str::<serde_json::Value>(&c.value_json).is_ok_and(|j| j == values::to_json(&raw)));
            let reference = d
                .datasets
                .iter()
                .filter(|k| sources.contains_key(k))
                .map(|k| {
                    if *k == kind {
                        format!("{} {file_name} SHA-256 {}", k.label(), &blob.sha256[..16])
                    } else {
                        stored.iter().find(|s| s.kind == k.id()).map_or_else(|| k.label().to_owned(), |s| format!("{} {} SHA-256 {}", k.label(), s.file_name, &s.sha256[..16.min(s.sha256.len())]))
                    }
                })
                .collect::<Vec<_>>()
                .join(";");
            derived.push(input);
            if unchanged {
                continue;
            }
            job.values.push(NewValue {
                assessment_id: self.assessment.id,
                key: key.to_owned(),
                value_json: values::to_json(&raw).to_string(),
                unit_id: None,
                source_kind: SourceKind::Dataset,
                source_ref: reference,
                note: d.formula.clone(),
                evidence_ids: Vec::new(),
            });
            typed.push((key.to_owned(), raw));
        }
        let unit_ids: Vec<UnitId> = units.iter().map(|u| u.id).collect();
        let problems: Vec<NewProblem> = checked
            .problems
            .iter()
            .map(|p| NewProblem {
                row: p.row,
                column: p.column.map(str::to_owned),
                kind: p.kind.id().to_owned(),
                unit_id: p.unit.and_then(|i| unit_ids.get(i).copied()),
                unit_name: p.unit_name.as_deref().map(str::to_owned),
                message: p.message.clone(),
                feeds: p.feeds.keys().map(InputKey::key).collect::<Vec<_>>().join(","),
                raw_json: serde_json::Value::from(p.raw.iter().map(|c| serde_json::Value::from(c.as_str())).collect::<Vec<_>>()).to_string(),
            })
            .collect();
        let dataset = NewDataset {
            assessment_id: self.assessment.id,
            kind: kind.id().to_owned(),
            sha256: blob.sha256.clone(),
            size: blob.size,
            media_type: blob.media_type.clone(),
            file_name,
            encoding: format!("{:?}", checked.encoding),
            rows: checked.rows,
            header_json: serde_json::Value::from(checked.header.iter().map(|c| serde_json::Value::from(c.as_str())).collect::<Vec<_>>()).to_string(),
            settings_json,
            facts: Some(checked.facts.encode()),
        };
        let rubric = &self.rubric;
        let outcome = self
            .store
            .import_dataset(&dataset, &problems, &job, &actor.0, |current, _| check_change(rubric, current, &typed))
            .await?;
        let dataset_id = match outcome {
            Ok(id) => id,
            Err(JobError::Refused(e)) => return Err(e),
            Err(JobError::Store(e)) => return Err(e.into()),
        };
        Ok(DataImport {
            kind,
            dataset_id,
            rows: checked.rows,
            problems: problems.len(),
            derived,
            overridden,
            not_derived: derivation.not_derived.iter().map(|n| (n.key.key().to_owned(), n.reason.clone())).collect(),
        })
    }

    /// The facts of the current datasets (but `except`): kept with each dataset when it
    /// was checked with these same settings, else checked again from its stored file.
    async fn current_facts(&self, settings: &Settings, settings_json: &str, except: Option<DatasetKind>) -> Result<Vec<creditcity_data::Facts>> {
        let rows = self.store.current_datasets(self.assessment.id).await?;
        let mut out = Vec::new();
        for row in rows {
            let Some(kind) = DatasetKind::from_id(&row.kind).filter(|k| Some(*k) != except) else { continue };
            let kept = self
                .store
                .dataset_facts(row.id)
                .await?
                .filter(|(_, valid_with)| valid_with == settings_json)
                .and_then(|(bytes, _)| creditcity_data::Facts::decode(&bytes))
                .filter(|f| f.kind() == kind);
            if let Some(facts) = kept {
                out.push(facts);
                continue;
            }
            let path = self.store.blobs().path_of(&row.sha256);
            let settings = settings.clone();
            let checked = tokio::task::spawn_blocking(move || {
                let input = Input::open(&path)?;
                creditcity_data::check(kind, input, &settings)
            })
            .await
            .map_err(|e| invalid("dataset", e.to_string()))?
            .map_err(|e| AppError::Store(StoreError::Corrupt(format!("{} {}:{e}", kind.label(), row.file_name))))?;
            out.push(checked.facts);
        }
        Ok(out)
    }

    /// The datasets, their problem counts and the derived inputs' current values.
    pub async fn data_status(&self) -> Result<DataStatus> {
        let units = self.units().await?;
        let current = self.store.current_values(self.assessment.id).await?;
        self.data_status_with(&units, &current).await
    }

    /// [`Workspace::data_status`] with the units and current values of a snapshot.
    pub async fn data_status_of(&self, snap: &crate::Snapshot) -> Result<DataStatus> {
        self.data_status_with(&snap.plan.units, &snap.current).await
    }

    async fn data_status_with(&self, units: &[UnitRow], current: &[ValueRow]) -> Result<DataStatus> {
        let name = |id: Option<UnitId>| id.and_then(|i| units.iter().find(|u| u.id == i)).map(|u| u.name.clone());
        let counts = self
            .store
            .problem_counts(self.assessment.id)
            .await?
            .into_iter()
            .map(|(dataset, kind, unit, n)| (dataset, kind, name(unit), n))
            .collect();
        let inputs = InputKey::ALL
            .iter()
            .filter_map(|k| {
                let id = self.rubric.input_id(k.key())?;
                let v = current.iter().find(|v| v.input_key == k.key());
                Some(DerivedState {
                    key: k.key().to_owned(),
                    label: self.rubric.input(id).label.clone(),
                    value: v.map(|v| v.value_json.clone()),
                    from_records: v.is_some_and(|v| v.source_kind == SourceKind::Dataset),
                    formula: v.filter(|v| v.source_kind == SourceKind::Dataset).map(|v| v.note.clone()).unwrap_or_default(),
                })
            })
            .collect();
        Ok(DataStatus { division: self.division().await?, datasets: self.store.current_datasets(self.assessment.id).await?, counts, inputs })
    }

    /// Problems of the current datasets: of one unit (by name), one problem kind, one
    /// dataset kind; at most `limit`.
    pub async fn data_problems(&self, unit: Option<&str>, kind: Option<&str>, dataset: Option<&str>, limit: Option<u32>) -> Result<Vec<ProblemRow>> {
        let unit_id = match unit {
            Some(u) => Some(self.unit_id(u).await?),
            None => None,
        };
        if let Some(k) = kind {
            if creditcity_data::ProblemKind::from_id(k).is_none() {
                let kinds: Vec<String> = creditcity_data::ProblemKind::ALL.iter().map(|k| format!("{}({})", k.id(), k.label())).collect();
                return Err(invalid("kind", format!("“{k}”不是问题类型;可用:{}", kinds.join("、"))));
            }
        }
        if let Some(d) = dataset {
            if DatasetKind::from_id(d).is_none() {
                return Err(invalid("dataset", format!("“{d}”不是数据集类型")));
            }
        }
        let filter = ProblemFilter {
            dataset_kind: dataset.map(str::to_owned),
            unit_id,
            unrouted: false,
            kind: kind.map(str::to_owned),
            feeds: None,
            limit,
        };
        Ok(self.store.problems(self.assessment.id, &filter).await?)
    }

    /// The problem list as a workbook (问题清单): a sheet per dataset, each problem with
    /// its row, column and message, then the original row.
    pub async fn export_problems(&self, unit: Option<&str>, kind: Option<&str>) -> Result<Vec<u8>> {
        let rows = self.data_problems(unit, kind, None, None).await?;
        let datasets = self.store.current_datasets(self.assessment.id).await?;
        let units = self.units().await?;
        let mut sheets: Vec<creditcity_excel::ProblemSheet> = Vec::new();
        for d in &datasets {
            let label = DatasetKind::from_id(&d.kind).map_or_else(|| d.kind.clone(), |k| k.label().to_owned());
            let header: Vec<String> = serde_json::from_str(&d.header_json).unwrap_or_default();
            let lines: Vec<creditcity_excel::ProblemLine> = rows
                .iter()
                .filter(|p| p.dataset_id == d.id)
                .map(|p| creditcity_excel::ProblemLine {
                    row: u64::try_from(p.row_number).unwrap_or(0),
                    column: p.column_name.clone().unwrap_or_default(),
                    kind: creditcity_data::ProblemKind::from_id(&p.kind).map_or_else(|| p.kind.clone(), |k| k.label().to_owned()),
                    unit: p
                        .unit_id
                        .and_then(|i| units.iter().find(|u| u.id == i))
                        .map_or_else(|| p.unit_name.clone().unwrap_or_default(), |u| u.name.clone()),
                    message: p.message.clone(),
                    raw: serde_json::from_str(&p.raw_json).unwrap_or_default(),
                })
                .collect();
            if !lines.is_empty() {
                sheets.push(creditcity_excel::ProblemSheet { name: label, header, rows: lines });
            }
        }
        let title = format!("{} 数据问题清单{}", self.assessment.city, unit.map_or_else(String::new, |u| format!("({u})")));
        Ok(creditcity_excel::write_problems(&title, &sheets)?)
    }
}

/// A unit's share of the problems: counts by kind and its worst records.
#[derive(Debug, Clone, Default)]
pub struct UnitProblems {
    /// (problem kind id, count), most frequent first.
    pub counts: Vec<(String, i64)>,
    pub total: i64,
    /// The records with the most problems first, then those that cost the most inputs.
    pub worst: Vec<RecordProblems>,
}

/// One record (a row of a dataset) and its problems.
#[derive(Debug, Clone)]
pub struct RecordProblems {
    pub dataset_kind: String,
    pub row: i64,
    /// The dataset's header, for reading `raw`.
    pub header: Vec<String>,
    pub raw: Vec<String>,
    pub problems: Vec<ProblemRow>,
    /// Derived inputs that these problems lower.
    pub feeds: Vec<String>,
}

impl Workspace {
    /// Where uploads are spooled before they are imported: the store's directory, on
    /// the same disk as its files (not a small in-memory /tmp).
    pub fn spool_parent(&self) -> std::path::PathBuf {
        let blobs = self.store.blobs().dir();
        blobs.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or_else(|| Path::new(".")).to_path_buf()
    }

    /// Every import of the assessment, newest first (the superseded ones too).
    pub async fn data_history(&self) -> Result<Vec<DatasetRow>> {
        Ok(self.store.dataset_history(self.assessment.id).await?)
    }

    /// Problems of the current datasets that lower one derived input (its rubric key),
    /// optionally of one unit (by id); at most `limit`.
    pub async fn input_problems(&self, input: &str, unit_id: Option<UnitId>, limit: Option<u32>) -> Result<Vec<ProblemRow>> {
        if !InputKey::ALL.iter().any(|k| k.key() == input) {
            return Err(invalid("input", format!("“{input}”不是由记录得出的输入")));
        }
        let filter = ProblemFilter { unit_id, feeds: Some(input.to_owned()), limit, ..ProblemFilter::default() };
        Ok(self.store.problems(self.assessment.id, &filter).await?)
    }

    /// How many problems of the current datasets lower each derived input (by key),
    /// over every unit or of one unit.
    pub async fn failing_counts(&self, unit_id: Option<UnitId>) -> Result<HashMap<String, i64>> {
        let mut out: HashMap<String, i64> = HashMap::new();
        for (feeds, unit, _, n) in self.store.problem_feed_counts(self.assessment.id).await? {
            if unit_id.is_some() && unit != unit_id {
                continue;
            }
            for key in feeds.split(',').filter(|k| !k.is_empty()) {
                *out.entry(key.to_owned()).or_default() += n;
            }
        }
        Ok(out)
    }

    /// One unit's problems: counts by kind, and its `worst` worst records (those with the
    /// most problems first, then those whose problems lower the most inputs).
    pub async fn unit_problems(&self, unit_id: UnitId, worst: usize) -> Result<UnitProblems> {
        let filter = ProblemFilter { unit_id: Some(unit_id), ..ProblemFilter::default() };
        let rows = self.store.problems(self.assessment.id, &filter).await?;
        let datasets = self.store.current_datasets(self.assessment.id).await?;
        let mut counts: HashMap<&str, i64> = HashMap::new();
        let mut records: HashMap<(i64, i64), Vec<&ProblemRow>> = HashMap::new();
        for p in &rows {
            *counts.entry(p.kind.as_str()).or_default() += 1;
            records.entry((p.dataset_id, p.row_number)).or_default().push(p);
        }
        let mut counts: Vec<(String, i64)> = counts.into_iter().map(|(k, n)| (k.to_owned(), n)).collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut ranked: Vec<Ranked<'_>> = records
            .into_iter()
            .map(|(at, ps)| {
                let mut feeds: Vec<String> = ps.iter().flat_map(|p| p.feeds.split(',')).filter(|k| !k.is_empty()).map(str::to_owned).collect();
                feeds.sort();
                feeds.dedup();
                (at, ps, feeds)
            })
            .collect();
        ranked.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| b.2.len().cmp(&a.2.len())).then_with(|| a.0.cmp(&b.0)));
        let worst = ranked
            .into_iter()
            .take(worst)
            .map(|((dataset_id, row), ps, feeds)| {
                let d = datasets.iter().find(|d| d.id == dataset_id);
                RecordProblems {
                    dataset_kind: ps.first().map_or_else(String::new, |p| p.dataset_kind.clone()),
                    row,
                    header: d.and_then(|d| serde_json::from_str(&d.header_json).ok()).unwrap_or_default(),
                    raw: ps.first().and_then(|p| serde_json::from_str(&p.raw_json).ok()).unwrap_or_default(),
                    problems: ps.into_iter().cloned().collect(),
                    feeds,
                }
            })
            .collect();
        Ok(UnitProblems { total: i64::try_from(rows.len()).unwrap_or(i64::MAX), counts, worst })
    }
}

/// A record in the ranking of a unit's worst: (dataset id and row, its problems, the
/// inputs they lower).
type Ranked<'p> = ((i64, i64), Vec<&'p ProblemRow>, Vec<String>);

/// The settings a dataset was checked with, as kept with it: its facts are valid only
/// with these (the units only route problems, they change no fact).
fn settings_json(settings: &Settings) -> String {
    serde_json::json!({
        "window": [settings.window.start.to_string(), settings.window.end.to_string()],
        "today": settings.today.to_string(),
        "division": settings.city_prefix,
        "publication": format!("{:?}", settings.publication),
        "count_decision_day": settings.count_decision_day,
    })
    .to_string()
}

fn data_file_error(shown: &str, e: creditcity_data::FileError) -> AppError {
    match e {
        creditcity_data::FileError::Open { path, source } => AppError::FileRead { path, source },
        other => invalid("file", format!("{shown}:{other};未导入任何内容")),
    }
}

/// What a finished import did, as a job keeps it for every server to show.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ImportOutcome {
    pub rows: u64,
    pub problems: usize,
    pub derived: Vec<DerivedInput>,
    pub overridden: Vec<DerivedInput>,
    pub not_derived: Vec<(String, String)>,
}

impl From<&DataImport> for ImportOutcome {
    fn from(d: &DataImport) -> Self {
        Self { rows: d.rows, problems: d.problems, derived: d.derived.clone(), overridden: d.overridden.clone(), not_derived: d.not_derived.clone() }
    }
}

/// Where an import started from the web stands.
#[derive(Debug, Clone, PartialEq)]
pub enum JobState {
    Running,
    Done(ImportOutcome),
    /// Refused or failed, with the Chinese message the person reads.
    Failed(String),
    /// Its server stopped before it ended: nothing of it was stored (an import is one
    /// transaction).
    Interrupted,
}

/// A dataset import started from the web, as any server of the store sees it.
#[derive(Debug, Clone)]
pub struct ImportJob {
    pub id: i64,
    pub kind: DatasetKind,
    pub file_name: String,
    pub size: u64,
    pub lines: u64,
    /// Rows checked so far (on PostgreSQL; on SQLite only when it ended).
    pub rows: u64,
    pub started_by: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub state: JobState,
}

/// A running job not heard of for this long ended with its server.
const JOB_SILENCE_MINUTES: i64 = 30;

impl Workspace {
    /// Records a new import job of this assessment; returns its id.
    pub async fn start_import_job(&self, kind: DatasetKind, file_name: &str, size: u64, lines: u64, actor: &Actor) -> Result<i64> {
        let job = creditcity_store::NewImportJob {
            assessment_id: self.assessment.id,
            kind: kind.id(),
            file_name,
            size: i64::try_from(size).unwrap_or(i64::MAX),
            lines: i64::try_from(lines).unwrap_or(i64::MAX),
            started_by: &actor.0,
        };
        Ok(self.store.create_import_job(&job).await?)
    }

    /// Records a running job's progress (seen by every server on PostgreSQL).
    pub async fn import_job_progress(&self, id: i64, rows: u64) -> Result<()> {
        Ok(self.store.set_import_job_rows(id, i64::try_from(rows).unwrap_or(i64::MAX)).await?)
    }

    /// Ends a job with what the import did, or why it failed.
    pub async fn finish_import_job(&self, id: i64, outcome: std::result::Result<&DataImport, &str>) -> Result<()> {
        match outcome {
            Ok(d) => {
                let json = serde_json::to_string(&ImportOutcome::from(d)).map_err(|e| invalid("job", e.to_string()))?;
                Ok(self.store.finish_import_job(id, i64::try_from(d.rows).unwrap_or(i64::MAX), Some(&json), None).await?)
            }
            Err(message) => Ok(self.store.finish_import_job(id, 0, None, Some(message)).await?),
        }
    }

    /// The job `id` of this assessment, if it is one.
    pub async fn import_job(&self, id: i64) -> Result<Option<ImportJob>> {
        let Some(row) = self.store.import_job(id, self.assessment.id).await? else { return Ok(None) };
        let Some(kind) = DatasetKind::from_id(&row.kind) else { return Ok(None) };
        let silent = crate::clock::minutes_since(&row.updated_at).is_some_and(|m| m > JOB_SILENCE_MINUTES);
        let state = match row.state.as_str() {
            "done" => match row.result_json.as_deref().map(serde_json::from_str::<ImportOutcome>) {
                Some(Ok(outcome)) => JobState::Done(outcome),
                _ => JobState::Failed("导入已完成,但结果记录无法读取;请在数据集页面查看。".to_owned()),
            },
            "failed" => JobState::Failed(row.message.unwrap_or_default()),
            _ if silent => JobState::Interrupted,
            _ => JobState::Running,
        };
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(Some(ImportJob {
            id: row.id,
            kind,
            file_name: row.file_name,
            size: count(row.size),
            lines: count(row.lines),
            rows: count(row.rows),
            started_by: row.started_by,
            started_at: row.started_at,
            state,
        }))
    }
}
