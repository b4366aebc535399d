//! Rows read from the store and the inputs of its changes.

use sqlx::FromRow;

/// Ids of the things that are easy to confuse (a city's id passed where an
/// assessment's is meant answers the wrong city's units): each its own type.
macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, sqlx::Type, serde::Serialize, serde::Deserialize)]
        #[sqlx(transparent)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type! {
    /// A city (城市).
    CityId,
    /// An assessment: a city × rubric edition × period.
    AssessmentId,
    /// A responsible unit (责任单位) of a city.
    UnitId,
    /// An evidence item (佐证材料).
    EvidenceId,
    /// A province (省), which holds cities.
    ProvinceId,
}

// The names of units are read row by row (an index probe each), never joined: with
// the units of hundreds of cities in one PostgreSQL table, its planner would hash the
// whole table for a page's few rows.
pub(crate) const USER_SELECT: &str = "SELECT u.id, u.username, u.display_name, u.password_hash, u.role, u.unit_id, \
     (SELECT n.name FROM units n WHERE n.id = u.unit_id) AS unit, u.active, \
     COALESCE(u.city_id, (SELECT n.city_id FROM units n WHERE n.id = u.unit_id)) AS city_id, u.province_id \
     FROM users u";

pub(crate) const ASSESSMENT_SELECT: &str = "SELECT a.id, a.city_id, c.name AS city, a.rubric_edition, a.period, a.created_at \
     FROM assessments a JOIN cities c ON c.id = a.city_id";

pub(crate) const VALUE_SELECT: &str = "SELECT v.id, v.input_key, v.value_json, v.unit_id, (SELECT u.name FROM units u WHERE u.id = v.unit_id) AS unit, v.source_kind, v.source_ref, \
     v.note, v.set_by, v.set_at, v.superseded_at, v.review_state, \
     (SELECT COUNT(*) FROM input_evidence ie WHERE ie.input_value_id = v.id) AS evidence_count \
     FROM input_values v";

pub(crate) const EVIDENCE_SELECT: &str = "SELECT e.id, e.rule_id, e.item, e.task_id, e.unit_id, (SELECT u.name FROM units u WHERE u.id = e.unit_id) AS unit, e.sha256, e.original_name, \
     b.size, b.media_type, e.uploaded_by, e.uploaded_at, e.review_state \
     FROM evidence e JOIN blobs b ON b.sha256 = e.sha256";

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct AssessmentRow {
    pub id: AssessmentId,
    pub city_id: CityId,
    pub city: String,
    pub rubric_edition: String,
    pub period: String,
    pub created_at: String,
}

#[derive(Clone, FromRow, PartialEq, Eq)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: String,
    pub unit_id: Option<UnitId>,
    pub unit: Option<String>,
    pub active: i64,
    /// The city of a credit office's or viewer's account, or of a unit member's unit.
    pub city_id: Option<CityId>,
    /// The province of a province office's account.
    pub province_id: Option<ProvinceId>,
}

// The password hash stays out of logs.
impl std::fmt::Debug for UserRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRow").field("username", &self.username).field("role", &self.role).field("unit", &self.unit).finish_non_exhaustive()
    }
}

#[derive(Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: String,
    pub unit_id: Option<UnitId>,
    /// A credit office's or viewer's city.
    pub city_id: Option<CityId>,
    /// A province office's province.
    pub province_id: Option<ProvinceId>,
    /// The cities an evaluator reviews.
    pub evaluates: Vec<CityId>,
}

/// A change of an account: its password, or whether it may sign in. (Its role and what
/// it belongs to are fixed when it is created.)
#[derive(Clone, Default)]
pub struct UserChange {
    pub password_hash: Option<String>,
    pub active: Option<bool>,
}

/// A city with its province.
#[derive(Debug, Clone, FromRow, PartialEq, Eq, serde::Serialize)]
pub struct CityRow {
    pub id: CityId,
    pub name: String,
    pub province_id: Option<ProvinceId>,
    pub province: Option<String>,
}

/// A province.
#[derive(Debug, Clone, FromRow, PartialEq, Eq, serde::Serialize)]
pub struct ProvinceRow {
    pub id: ProvinceId,
    pub name: String,
}

/// A live session: its account, CSRF token, and the city it looks at (one the account
/// may see) with that city's assessment on the served edition, if it has one. Its
/// user's `password_hash` is empty: a session never reads it.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub user: UserRow,
    pub csrf: String,
    pub city_id: Option<CityId>,
    pub assessment_id: Option<AssessmentId>,
    /// That assessment's version now ([`crate::Store::version_of`]).
    pub version: i64,
}

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct UnitRow {
    pub id: UnitId,
    pub city_id: CityId,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<UnitId>,
    pub contact: String,
    /// Other names records use for the unit, one per line.
    pub aliases: String,
}

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct TaskRow {
    pub id: i64,
    pub code: String,
    pub title: String,
    pub description: String,
    pub lead_unit_id: UnitId,
    pub lead_unit: String,
    pub due_date: Option<String>,
    pub status: TaskStatus,
    #[sqlx(skip)]
    pub rules: Vec<String>,
    #[sqlx(skip)]
    pub participating_unit_ids: Vec<UnitId>,
}

/// A task's state, without its text: what counting progress across assessments needs.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct TaskState {
    pub assessment_id: AssessmentId,
    pub status: TaskStatus,
    pub due_date: Option<String>,
}

impl TaskRow {
    pub fn involves(&self, unit_id: UnitId) -> bool {
        self.lead_unit_id == unit_id || self.participating_unit_ids.contains(&unit_id)
    }
}

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct ValueRow {
    pub id: i64,
    pub input_key: String,
    pub value_json: String,
    pub unit_id: Option<UnitId>,
    pub unit: Option<String>,
    pub source_kind: SourceKind,
    pub source_ref: String,
    pub note: String,
    pub set_by: String,
    pub set_at: String,
    pub superseded_at: Option<String>,
    pub review_state: ReviewState,
    pub evidence_count: i64,
}

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct EvidenceRow {
    pub id: EvidenceId,
    pub rule_id: String,
    pub item: Option<i64>,
    pub task_id: Option<i64>,
    pub unit_id: Option<UnitId>,
    pub unit: Option<String>,
    pub sha256: String,
    pub original_name: String,
    pub size: i64,
    pub media_type: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
    pub review_state: ReviewState,
}

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct ReviewRow {
    pub id: i64,
    pub target_kind: ReviewTarget,
    pub target_id: i64,
    pub decision: Decision,
    pub comment: String,
    pub reviewer: String,
    pub at: String,
}

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub assessment_id: Option<AssessmentId>,
    pub entity: String,
    pub entity_id: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub assessment_id: Option<AssessmentId>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub actor: Option<String>,
}

/// A plan to import: units (parents first) and tasks.
#[derive(Debug, Clone, Default)]
pub struct PlanData {
    pub units: Vec<PlanUnit>,
    pub tasks: Vec<PlanTask>,
}

#[derive(Debug, Clone)]
pub struct PlanUnit {
    pub name: String,
    pub kind: String,
    pub parent: Option<String>,
    pub contact: String,
    /// Other names records use for the unit.
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct PlanTask {
    pub code: String,
    pub title: String,
    pub description: String,
    pub lead_unit: String,
    pub units: Vec<String>,
    pub rules: Vec<String>,
    pub due_date: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub units_added: usize,
    pub tasks_added: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckSummary {
    pub values: usize,
    pub files: usize,
    pub audit_entries: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupSummary {
    pub files: usize,
    pub bytes: u64,
}

#[derive(Debug, Clone)]
pub struct NewValue {
    pub assessment_id: AssessmentId,
    pub key: String,
    pub value_json: String,
    pub unit_id: Option<UnitId>,
    pub source_kind: SourceKind,
    pub source_ref: String,
    pub note: String,
    pub evidence_ids: Vec<EvidenceId>,
}

#[derive(Debug, Clone)]
pub struct NewEvidence {
    pub assessment_id: AssessmentId,
    pub rule_id: String,
    pub item: Option<i64>,
    pub task_id: Option<i64>,
    pub unit_id: Option<UnitId>,
    pub original_name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReviewTarget {
    Input,
    Evidence,
    Task,
}

impl ReviewTarget {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Input => "input",
            Self::Evidence => "evidence",
            Self::Task => "task",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Accept,
    Return,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Return => "return",
        }
    }

    /// The review state an input or evidence item takes.
    pub fn state(self) -> ReviewState {
        match self {
            Self::Accept => ReviewState::Accepted,
            Self::Return => ReviewState::Returned,
        }
    }

    pub fn task_status(self) -> TaskStatus {
        match self {
            Self::Accept => TaskStatus::Accepted,
            Self::Return => TaskStatus::Returned,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewReview {
    pub assessment_id: AssessmentId,
    pub target: ReviewTarget,
    pub target_id: i64,
    pub decision: Decision,
    pub comment: String,
}

/// 未开始 → 进行中 → 已提交 → 已退回 / 已通过
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    NotStarted,
    InProgress,
    Submitted,
    Returned,
    Accepted,
}

impl TaskStatus {
    pub const ALL: [Self; 5] = [Self::NotStarted, Self::InProgress, Self::Submitted, Self::Returned, Self::Accepted];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotStarted => "not_started",
            Self::InProgress => "in_progress",
            Self::Submitted => "submitted",
            Self::Returned => "returned",
            Self::Accepted => "accepted",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::NotStarted => "未开始",
            Self::InProgress => "进行中",
            Self::Submitted => "已提交",
            Self::Returned => "已退回",
            Self::Accepted => "已通过",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s || t.label() == s)
    }
}

/// Where a value or an evidence item stands in review (评审状态).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReviewState {
    /// 待评审
    Pending,
    /// 已通过
    Accepted,
    /// 已退回
    Returned,
}

impl ReviewState {
    pub const ALL: [Self; 3] = [Self::Pending, Self::Accepted, Self::Returned];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Returned => "returned",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "待评审",
            Self::Accepted => "已通过",
            Self::Returned => "已退回",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// A stored state; anything else means the database was changed behind our back.
    pub(crate) fn parse_stored(s: &str) -> crate::Result<Self> {
        Self::parse(s).ok_or_else(|| crate::StoreError::Corrupt(format!("unknown review state {s:?}")))
    }
}

/// Where a value came from (来源).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// A document: a report, a notice, a statistics table.
    Document,
    /// The credit information sharing platform or another system.
    Platform,
    /// A note: an estimate, a phone call, an evaluator's judgment.
    Note,
    /// An assessment file or workbook imported as a whole.
    File,
    /// Derived from the city's own records (a dataset).
    Dataset,
}

impl SourceKind {
    pub const ALL: [Self; 5] = [Self::Document, Self::Platform, Self::Note, Self::File, Self::Dataset];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Document => "document",
            Self::Platform => "platform",
            Self::Note => "note",
            Self::File => "file",
            Self::Dataset => "dataset",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Document => "文件",
            Self::Platform => "平台",
            Self::Note => "说明",
            Self::File => "导入文件",
            Self::Dataset => "数据集",
        }
    }

    /// Accepts the English name or the Chinese label.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s || k.label() == s)
    }
}

/// A page of the audit log, newest first.
#[derive(Debug, Clone)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    /// Entries the filter matches in all pages.
    pub total: u64,
    /// The `before` of the next (older) page, if there is one.
    pub next_before: Option<i64>,
}

/// The closed vocabularies are TEXT in both dialects: each word is its `as_str`, and a
/// stored word the application does not know is a decoding error.
macro_rules! text_enum {
    ($($name:ident { $($variant:ident),* $(,)? }),* $(,)?) => {$(
        impl sqlx::Type<sqlx::Any> for $name {
            fn type_info() -> sqlx::any::AnyTypeInfo {
                <str as sqlx::Type<sqlx::Any>>::type_info()
            }

            fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
                <str as sqlx::Type<sqlx::Any>>::compatible(ty)
            }
        }

        impl<'q> sqlx::Encode<'q, sqlx::Any> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut <sqlx::Any as sqlx::Database>::ArgumentBuffer<'q>,
            ) -> std::result::Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<'q, sqlx::Any>>::encode_by_ref(&self.as_str(), buf)
            }
        }

        impl<'r> sqlx::Decode<'r, sqlx::Any> for $name {
            fn decode(value: <sqlx::Any as sqlx::Database>::ValueRef<'r>) -> std::result::Result<Self, sqlx::error::BoxDynError> {
                let word = <&str as sqlx::Decode<'r, sqlx::Any>>::decode(value)?;
                [$(Self::$variant),*]
                    .into_iter()
                    .find(|v| v.as_str() == word)
                    .ok_or_else(|| format!("invalid value {word:?} for enum {}", stringify!($name)).into())
            }
        }
    )*};
}

text_enum! {
    ReviewTarget { Input, Evidence, Task },
    Decision { Accept, Return },
    TaskStatus { NotStarted, InProgress, Submitted, Returned, Accepted },
    ReviewState { Pending, Accepted, Returned },
    SourceKind { Document, Platform, Note, File, Dataset },
}
