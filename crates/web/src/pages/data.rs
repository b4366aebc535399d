//! The city's own records: the 数据 page (each dataset's current import, the history of
//! imports, the problems by unit and kind, the inputs they decide, an upload form per
//! dataset for the credit office), the progress page of an import, the list of the
//! records behind a derived input, and a unit's problem list as .xlsx. A unit member sees
//! only the records of their own unit.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use creditcity_app::data::{DataStatus, UnitProblems};
use creditcity_app::{Actor, Snapshot};
use creditcity_data::{DatasetKind, InputKey, ProblemKind};
use creditcity_store::{DatasetRow, ProblemRow, UnitId};
use serde::Serialize;

use super::{Spec, cached_page_at, cached_with, download, off_runtime, page, see_other, snapshot};
use crate::AppState;
use crate::auth::{Admin, Auth, DatasetUpload};
use crate::error::WebError;
use creditcity_app::data::JobState;
use crate::views;

type Shared = State<Arc<AppState>>;

/// The most problems a list page shows; the workbook has them all.
const LIST_LIMIT: u32 = 100;
/// The worst records shown on a unit's page.
const WORST: usize = 20;

/// What the 数据 page reads from the store, once per store version.
struct DataBundle {
    status: DataStatus,
    history: Vec<DatasetRow>,
    failing: HashMap<String, i64>,
}

async fn bundle(s: &Arc<AppState>, auth: &Auth, snap: &Arc<Snapshot>) -> Result<Arc<DataBundle>, WebError> {
    cached_with(s, auth, snap, "data:bundle".to_owned(), async {
        Ok(DataBundle { status: auth.ws.data_status_of(snap).await?, history: auth.ws.data_history().await?, failing: auth.ws.failing_counts(None).await? })
    })
    .await
}

/// How many problems lower each derived input, over every unit: for the rule page and
/// the gates of the dashboard.
pub async fn failing_counts(s: &Arc<AppState>, auth: &Auth, snap: &Arc<Snapshot>) -> Result<Arc<HashMap<String, i64>>, WebError> {
    cached_with(s, auth, snap, "data:failing".to_owned(), async { Ok(auth.ws.failing_counts(None).await?) }).await
}

#[derive(Serialize)]
struct DataView {
    division: Option<String>,
    can_import: bool,
    max_upload: String,
    slots: Vec<Slot>,
    history: Vec<HistoryRow>,
    inputs: Vec<InputRow>,
    kinds: Vec<KindHead>,
    units: Vec<UnitCounts>,
    total_problems: i64,
}

/// A dataset kind: its current import, if any.
#[derive(Serialize)]
struct Slot {
    kind: &'static str,
    label: &'static str,
    current: Option<HistoryRow>,
}

#[derive(Serialize, Clone)]
struct HistoryRow {
    id: i64,
    label: String,
    file: String,
    encoding: &'static str,
    rows: String,
    problems: String,
    by: String,
    at: String,
    current: bool,
    superseded_at: Option<String>,
}

#[derive(Serialize)]
struct InputRow {
    key: String,
    label: String,
    value: Option<String>,
    from_records: bool,
    formula: String,
    failing: i64,
}

#[derive(Serialize)]
struct KindHead {
    id: &'static str,
    label: &'static str,
}

#[derive(Serialize)]
struct UnitCounts {
    id: Option<UnitId>,
    name: String,
    counts: Vec<i64>,
    total: i64,
}

/// A count as pages show it: `30,000`.
fn count(n: i64) -> String {
    creditcity_rubric::format::count(n as f64)
}

/// How the file was read, as stored (`Utf8`, `Gb18030`…), for people.
fn encoding_label(stored: &str) -> &'static str {
    match stored {
        "Utf8" => "UTF-8",
        "Utf8Bom" => "UTF-8(带 BOM)",
        "Gb18030" => "GB18030/GBK",
        "Xlsx" => "Excel 工作簿",
        _ => "",
    }
}

fn history_row(d: &DatasetRow) -> HistoryRow {
    HistoryRow {
        id: d.id,
        label: DatasetKind::from_id(&d.kind).map_or_else(|| d.kind.clone(), |k| k.label().to_owned()),
        file: d.file_name.clone(),
        encoding: encoding_label(&d.encoding),
        rows: count(d.rows),
        problems: count(d.problems),
        by: d.imported_by.clone(),
        at: views::when(&d.imported_at),
        current: d.superseded_at.is_none(),
        superseded_at: d.superseded_at.as_deref().map(views::when),
    }
}

fn data_view(s: &AppState, snap: &Snapshot, b: &DataBundle, can_import: bool) -> DataView {
    let r = s.workspaces.rubric();
    let slots = DatasetKind::ALL
        .iter()
        .map(|k| Slot { kind: k.id(), label: k.label(), current: b.status.datasets.iter().find(|d| d.kind == k.id()).map(history_row) })
        .collect();
    let inputs = b
        .status
        .inputs
        .iter()
        .map(|i| InputRow {
            key: i.key.clone(),
            label: i.label.clone(),
            value: i.value.as_deref().map(|v| r.input_id(&i.key).map_or_else(|| v.to_owned(), |id| views::value(r.input(id), v))),
            from_records: i.from_records,
            formula: i.formula.clone(),
            failing: b.failing.get(&i.key).copied().unwrap_or(0),
        })
        .collect();
    // Units × problem kinds: only the kinds that occur, units with most problems first.
    let mut kinds: Vec<ProblemKind> = Vec::new();
    let mut by_unit: BTreeMap<Option<String>, HashMap<&str, i64>> = BTreeMap::new();
    for (_, kind, unit, n) in &b.status.counts {
        if let Some(k) = ProblemKind::from_id(kind) {
            if !kinds.contains(&k) {
                kinds.push(k);
            }
        }
        *by_unit.entry(unit.clone()).or_default().entry(kind.as_str()).or_default() += n;
    }
    kinds.sort();
    let mut units: Vec<UnitCounts> = by_unit
        .into_iter()
        .map(|(unit, counts)| UnitCounts {
            id: unit.as_ref().and_then(|n| snap.plan.units.iter().find(|u| &u.name == n)).map(|u| u.id),
            name: unit.unwrap_or_else(|| "(记录未注明或无法识别的单位)".to_owned()),
            counts: kinds.iter().map(|k| counts.get(k.id()).copied().unwrap_or(0)).collect(),
            total: counts.values().sum(),
        })
        .collect();
    units.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.name.cmp(&b.name)));
    DataView {
        division: b.status.division.clone(),
        can_import,
        max_upload: views::size(i64::try_from(s.max_dataset).unwrap_or(i64::MAX)),
        slots,
        history: b.history.iter().map(history_row).collect(),
        inputs,
        kinds: kinds.iter().map(|k| KindHead { id: k.id(), label: k.label() }).collect(),
        total_problems: units.iter().map(|u| u.total).sum(),
        units,
    }
}

/// `GET /data`: the roles that see everything; a unit member is sent to the records of
/// their own unit.
pub async fn show(State(s): Shared, auth: Auth) -> Result<Response, WebError> {
    if !auth.user.role.sees_everything() {
        return match auth.user.unit_id {
            Some(id) => Ok(see_other(&format!("/units/{id}#records"))),
            None => Err(WebError::Forbidden),
        };
    }
    let can_import = auth.user.role.administers();
    let snap = snapshot(&auth).await?;
    let b = bundle(&s, &auth, &snap).await?;
    let spec = Spec { template: "data.html", nav: "data", title: "数据集", key: format!("data:{can_import}") };
    cached_page_at(&s, &auth, &snap, spec, (None, ""), move |s, snap| Ok(data_view(s, snap, &b, can_import))).await
}

/// `POST /data/import`: the credit office uploads a dataset; the import runs in the
/// background and its page shows the progress.
pub async fn import(State(s): Shared, DatasetUpload { who: Admin(auth), kind, file }: DatasetUpload<Admin>) -> Result<Response, WebError> {
    let Some(dataset) = DatasetKind::from_id(&kind) else {
        return Err(WebError::BadRequest(format!("“{kind}”不是数据集类型;请在数据集页面选择。")));
    };
    let file = file.ok_or_else(|| WebError::BadRequest("请选择要导入的文件。".to_owned()))?;
    let name = if file.name.trim().is_empty() { format!("{}.csv", dataset.id()) } else { file.name.clone() };
    let actor = Actor(auth.user.username.clone());
    let id = auth.ws.start_import_job(dataset, &name, file.size, file.lines, &actor).await?;
    let counter = s.imports.start(id);
    let (ws, state) = (auth.ws.clone(), s.clone());
    tokio::spawn(async move {
        let c = counter.clone();
        let progress = Box::new(move |rows: u64| c.store(rows, Ordering::Relaxed));
        // The count goes to the store twice a second, for the other servers' job pages.
        let ticker = {
            let (ws, c) = (ws.clone(), counter.clone());
            tokio::spawn(async move {
                let mut last = 0;
                loop {
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    let n = c.load(Ordering::Relaxed);
                    if n != last {
                        let _ = ws.import_job_progress(id, n).await;
                        last = n;
                    }
                }
            })
        };
        let done = ws.import_dataset_named(dataset.id(), &file.path, &name, &actor, progress).await;
        ticker.abort();
        // The spooled file goes now, whatever happened.
        drop(file);
        let message = done.as_ref().err().map(|e| {
            crate::error::app_message(e).map_or_else(
                || {
                    tracing::error!(error = %e, "dataset import failed");
                    "服务器内部错误,已记录;未导入任何内容。".to_owned()
                },
                |(_, m)| m,
            )
        });
        let outcome = match (&done, &message) {
            (Ok(r), _) => Ok(r),
            (Err(_), m) => Err(m.as_deref().unwrap_or_default()),
        };
        if let Err(e) = ws.finish_import_job(id, outcome).await {
            tracing::error!(error = %e, job = id, "the import's outcome could not be recorded");
        }
        state.imports.end(id);
    });
    Ok(see_other(&format!("/data/imports/{id}")))
}

#[derive(Serialize)]
struct JobView {
    id: i64,
    label: &'static str,
    file: String,
    size: String,
    by: String,
    at: String,
    running: bool,
    rows: u64,
    /// The lines of the uploaded CSV (about its rows), for the bar; 0 when unknown.
    lines: u64,
    percent: Option<u64>,
    error: Option<String>,
    result: Option<JobResult>,
}

#[derive(Serialize)]
struct JobResult {
    rows: u64,
    problems: usize,
    derived: Vec<DerivedView>,
    overridden: Vec<DerivedView>,
    not_derived: Vec<(String, String)>,
}

#[derive(Serialize)]
struct DerivedView {
    key: String,
    label: String,
    value: String,
    formula: String,
}

/// `GET /data/imports/{id}`: where an import of this city stands, started on any server
/// of the store; reloads itself while it runs.
pub async fn job(State(s): Shared, Admin(auth): Admin, Path(id): Path<i64>) -> Result<Response, WebError> {
    let job = auth.ws.import_job(id).await?.ok_or(WebError::NotFound)?;
    let r = s.workspaces.rubric();
    let rows = job.rows.max(s.imports.rows(id).unwrap_or(0));
    let lines = job.lines.saturating_sub(1);
    let derived = |list: &[creditcity_app::data::DerivedInput]| {
        list.iter()
            .map(|d| {
                let input = r.input_id(&d.key).map(|i| r.input(i));
                DerivedView {
                    key: d.key.clone(),
                    label: input.map_or_else(|| d.key.clone(), |i| i.label.clone()),
                    value: input.map_or_else(|| creditcity_rubric::format::plain(d.value), |i| views::value(i, &serde_json::json!(d.value).to_string())),
                    formula: d.formula.clone(),
                }
            })
            .collect()
    };
    let running = matches!(job.state, JobState::Running);
    let view = JobView {
        id: job.id,
        label: job.kind.label(),
        file: job.file_name.clone(),
        size: views::size(i64::try_from(job.size).unwrap_or(i64::MAX)),
        by: job.started_by.clone(),
        at: creditcity_app::beijing_time(&job.started_at),
        running,
        rows,
        lines,
        percent: (lines > 0 && running).then(|| (rows * 100 / lines).min(99)),
        error: match &job.state {
            JobState::Failed(m) => Some(m.clone()),
            JobState::Interrupted => Some("导入所在的服务器在完成前停止了;未导入任何内容,请重新上传。".to_owned()),
            _ => None,
        },
        result: match &job.state {
            JobState::Done(d) => Some(JobResult { rows: d.rows, problems: d.problems, derived: derived(&d.derived), overridden: derived(&d.overridden), not_derived: d.not_derived.clone() }),
            _ => None,
        },
    };
    let title = format!("导入{}", job.kind.label());
    page(&s, &auth, "data_job.html", "data", &title, (None, ""), &view)
}

/// Which problems a list shows.
#[derive(serde::Deserialize, Default)]
pub struct ProblemQuery {
    /// A derived input's key: the records that lower it.
    #[serde(default)]
    input: Option<String>,
    #[serde(default)]
    unit: Option<UnitId>,
}

#[derive(Serialize)]
struct ProblemsView {
    heading: String,
    formula: Option<String>,
    unit: Option<UnitLink>,
    rows: Vec<ProblemLine>,
    shown: usize,
    more: bool,
    total: i64,
    sees_everything: bool,
}

#[derive(Serialize)]
struct UnitLink {
    id: UnitId,
    name: String,
}

#[derive(Serialize)]
pub struct ProblemLine {
    dataset: String,
    row: i64,
    column: String,
    kind: &'static str,
    unit: String,
    message: String,
    cells: Vec<Cell>,
}

#[derive(Serialize)]
pub struct Cell {
    name: String,
    value: String,
}

fn cells(header: &[String], raw: &[String]) -> Vec<Cell> {
    raw.iter()
        .enumerate()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(i, v)| Cell { name: header.get(i).cloned().unwrap_or_else(|| format!("第 {} 列", i + 1)), value: v.clone() })
        .collect()
}

fn problem_line(p: &ProblemRow, headers: &HashMap<i64, Vec<String>>, unit: &str) -> ProblemLine {
    let raw: Vec<String> = serde_json::from_str(&p.raw_json).unwrap_or_default();
    ProblemLine {
        dataset: DatasetKind::from_id(&p.dataset_kind).map_or_else(|| p.dataset_kind.clone(), |k| k.label().to_owned()),
        row: p.row_number,
        column: p.column_name.clone().unwrap_or_default(),
        kind: ProblemKind::from_id(&p.kind).map_or("", ProblemKind::label),
        unit: unit.to_owned(),
        message: p.message.clone(),
        cells: cells(headers.get(&p.dataset_id).map_or(&[][..], Vec::as_slice), &raw),
    }
}

/// `GET /data/problems?input=KEY[&unit=ID]`: the records that lower a derived input. A
/// unit member sees only their own unit's (and may not ask for another's).
pub async fn problems(State(s): Shared, auth: Auth, Query(q): Query<ProblemQuery>) -> Result<Response, WebError> {
    let sees_everything = auth.user.role.sees_everything();
    let unit = if sees_everything {
        q.unit
    } else {
        let own = auth.user.unit_id.ok_or(WebError::Forbidden)?;
        if q.unit.is_some_and(|u| u != own) {
            return Err(WebError::Forbidden);
        }
        Some(own)
    };
    let input = q.input.clone().ok_or_else(|| WebError::BadRequest("请从指标或数据集页面的链接进入。".to_owned()))?;
    let Some(key) = InputKey::ALL.iter().find(|k| k.key() == input).copied() else { return Err(WebError::NotFound) };
    let snap = snapshot(&auth).await?;
    if let Some(u) = unit {
        if !snap.plan.units.iter().any(|x| x.id == u) {
            return Err(WebError::NotFound);
        }
    }
    let key_text = key.key().to_owned();
    let list = cached_with(&s, &auth, &snap, format!("data:problems:{key_text}:{unit:?}"), async {
        let rows = auth.ws.input_problems(&key_text, unit, Some(LIST_LIMIT + 1)).await?;
        let datasets = auth.ws.data_history().await?;
        let total = auth.ws.failing_counts(unit).await?.get(&key_text).copied().unwrap_or(0);
        Ok((rows, datasets, total))
    })
    .await?;
    let r = s.workspaces.rubric();
    let label = r.input_id(key.key()).map_or_else(|| key.key().to_owned(), |i| r.input(i).label.clone());
    let spec = Spec { template: "problems.html", nav: if sees_everything { "data" } else { "unit" }, title: &format!("{label} · 问题记录"), key: format!("problems:{}:{unit:?}:{sees_everything}", key.key()) };
    cached_page_at(&s, &auth, &snap, spec, (None, ""), move |_, snap| {
        let (rows, datasets, total) = &*list;
        let headers: HashMap<i64, Vec<String>> = datasets.iter().map(|d| (d.id, serde_json::from_str(&d.header_json).unwrap_or_default())).collect();
        let unit_name = |p: &ProblemRow| p.unit_id.and_then(|i| snap.plan.units.iter().find(|u| u.id == i)).map_or_else(|| p.unit_name.clone().unwrap_or_default(), |u| u.name.clone());
        let formula = snap.current.iter().find(|v| v.input_key == key.key() && v.source_kind == creditcity_app::SourceKind::Dataset).map(|v| v.note.clone());
        let lines: Vec<ProblemLine> = rows.iter().take(LIST_LIMIT as usize).map(|p| problem_line(p, &headers, &unit_name(p))).collect();
        Ok(ProblemsView {
            heading: label,
            formula,
            unit: unit.and_then(|u| snap.plan.units.iter().find(|x| x.id == u)).map(|u| UnitLink { id: u.id, name: u.name.clone() }),
            shown: lines.len(),
            more: rows.len() > LIST_LIMIT as usize,
            rows: lines,
            total: *total,
            sees_everything,
        })
    })
    .await
}

/// What a unit's page shows of its records.
#[derive(Serialize, Clone)]
pub struct UnitRecordsView {
    pub total: i64,
    pub counts: Vec<KindCount>,
    pub worst: Vec<WorstRecord>,
    pub imported: bool,
}

#[derive(Serialize, Clone)]
pub struct KindCount {
    pub label: &'static str,
    pub count: i64,
}

#[derive(Serialize, Clone)]
pub struct WorstRecord {
    pub dataset: String,
    pub row: i64,
    pub costs: Vec<String>,
    pub problems: Vec<WorstProblem>,
    pub cells: Vec<(String, String)>,
}

#[derive(Serialize, Clone)]
pub struct WorstProblem {
    pub column: String,
    pub kind: &'static str,
    pub message: String,
}

/// A unit's problems (counts by kind, worst records), once per store version.
pub async fn unit_records(s: &Arc<AppState>, auth: &Auth, snap: &Arc<Snapshot>, unit_id: UnitId) -> Result<Arc<UnitRecordsView>, WebError> {
    let ws = auth.ws.clone();
    cached_with(s, auth, snap, format!("data:unit:{unit_id}"), async move {
        let p: UnitProblems = ws.unit_problems(unit_id, WORST).await?;
        let imported = !ws.data_history().await?.is_empty();
        let r = ws.rubric();
        let label = |key: &str| r.input_id(key).map_or_else(|| key.to_owned(), |i| r.input(i).label.clone());
        Ok(UnitRecordsView {
            total: p.total,
            imported,
            counts: p.counts.iter().map(|(k, n)| KindCount { label: ProblemKind::from_id(k).map_or("其他", ProblemKind::label), count: *n }).collect(),
            worst: p
                .worst
                .iter()
                .map(|w| WorstRecord {
                    dataset: DatasetKind::from_id(&w.dataset_kind).map_or_else(|| w.dataset_kind.clone(), |k| k.label().to_owned()),
                    row: w.row,
                    costs: w.feeds.iter().map(|k| label(k)).collect(),
                    problems: w
                        .problems
                        .iter()
                        .map(|p| WorstProblem { column: p.column_name.clone().unwrap_or_default(), kind: ProblemKind::from_id(&p.kind).map_or("", ProblemKind::label), message: p.message.clone() })
                        .collect(),
                    cells: cells(&w.header, &w.raw).into_iter().map(|c| (c.name, c.value)).collect(),
                })
                .collect(),
        })
    })
    .await
}

/// `GET /units/{id}/problems.xlsx`: the unit's own problems, every one, with the original
/// rows; only to those who may see the unit.
pub async fn unit_xlsx(State(s): Shared, auth: Auth, Path(id): Path<UnitId>) -> Result<Response, WebError> {
    if !auth.may_see_unit(id) {
        return Err(WebError::Forbidden);
    }
    let unit = auth.ws.plan().await?.units.iter().find(|u| u.id == id).cloned().ok_or(WebError::NotFound)?;
    let (name, ws) = (unit.name.clone(), auth.ws.clone());
    let bytes = off_runtime(&s, move |_| async move { Ok(ws.export_problems(Some(&name), None).await?) }).await?;
    Ok(download(bytes, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", &format!("{} 数据问题清单.xlsx", unit.name)))
}
