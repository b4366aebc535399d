//! The city's own records: read a dataset, check every record, derive the rubric's
//! inputs, and list every problem with its row, column and owning unit.
//!
//! Pure: no database, no network. A file comes in as an [`Input`] (a path, a reader or
//! bytes; CSV in UTF-8 / UTF-8 with BOM / GB18030, or .xlsx) and is streamed row by row —
//! nothing holds a whole file.
//!
//! - [`check`]: one dataset ([`DatasetKind`]) → [`Checked`]: the rows read, the
//!   [`Problem`]s, and the [`Facts`] the derivations need; or a [`FileError`] for a file
//!   that must change nothing (not the declared dataset, a missing required column, empty,
//!   undecodable, or another city's records).
//! - [`derive()`]: the checked datasets ([`Datasets`]) → [`Derivation`]: each input of spec
//!   §5 ([`InputKey`]) with its value, its counts and a Chinese formula, and the inputs
//!   that could not be derived and why.
//! - [`code`]: USCC and organization code checks. [`workdays`]: the State Council's
//!   working-day calendar. [`date`]: dates as records write them.
//! - [`generate`]: realistic datasets for a city with a known share of every problem.
//!
//! ```
//! use creditcity_data::{check, derive, DatasetKind, Datasets, Input, Settings, Window};
//! use creditcity_data::date::Date;
//!
//! let csv = "名称,统一社会信用代码,主体类别,登记状态,成立日期\n\
//!            青川示例有限公司,91510802MA62P5XK3L,法人,存续,2015-03-02\n";
//! let today = Date::new(2019, 3, 20).unwrap();
//! let settings = Settings::new(Window::edition_2019(), today, "5108");
//! let register = check(DatasetKind::Register, Input::bytes(csv.as_bytes()), &settings).unwrap();
//! let mut datasets = Datasets::default();
//! datasets.add(&register);
//! assert!(register.problems.is_empty());
//! let derivation = derive(&datasets, &settings);
//! assert_eq!(derivation.values.len(), 4); // the register alone gives four inputs
//! for d in &derivation.values {
//!     println!("{} = {} ({})", d.key.key(), d.value.as_f64(), d.formula);
//! }
//! ```
//!
//! Invariants: no panics on any input (`unwrap`, `expect`, `panic!` are denied; the
//! readers are fuzzed with arbitrary bytes); a malformed row is a problem, never a crash
//! and never a silent drop; every problem keeps its original row.

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::float_cmp,
    clippy::todo,
    clippy::unimplemented
)]

mod check;
pub mod code;
pub mod date;
mod derive;
mod facts;
pub mod generate;
mod problem;
mod read;
mod schema;
pub mod workdays;

pub use check::{
    ApprovalFacts, CaseFacts, CommitmentFacts, DecisionFacts, EntityFlags, Facts, ListEntry,
    ListFacts, RegisterFacts, RemovalReason,
};
pub use derive::{Datasets, Derivation, Derived, DerivedValue, InputKey, NotDerived, Part, derive};
pub use problem::{Detail, Feeds, Problem, ProblemKind, Unit, Units, normalize_name};
pub use read::{Encoding, Input, ReadSeek};
pub use schema::{Column, DatasetKind};

use date::Date;
use std::path::PathBuf;

pub(crate) use check::hash_str;

/// The assessment window: `start` is the stock date (存量), `end` the cutoff.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: Date,
    pub end: Date,
}

impl Window {
    /// 2018-12-15 .. 2019-03-15, the 2019 edition's window.
    pub fn edition_2019() -> Window {
        Window {
            start: Date::from_days(17_880),
            end: Date::from_days(17_970),
        }
    }

    /// Whether a day is in the window (both ends included).
    pub fn contains(&self, d: Date) -> bool {
        self.start <= d && d <= self.end
    }
}

/// Which timestamp counts as publication.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PublicationBasis {
    /// 公示日期: the date published on the credit portal (default).
    #[default]
    PublicationDate,
    /// 上传时间 (or 上报时间 / 报送时间): when the record was uploaded.
    UploadTime,
}

/// Everything a check or derivation depends on besides the file.
#[derive(Clone, Debug)]
pub struct Settings {
    pub window: Window,
    /// Dates after this are problems.
    pub today: Date,
    /// The city's administrative division code prefix (e.g. `5108`): a file most of whose
    /// valid codes are registered outside it is refused.
    pub city_prefix: String,
    pub publication: PublicationBasis,
    /// Whether the decision day itself counts as the first of the 7 working days (when it
    /// is a working day). Default: no.
    pub count_decision_day: bool,
    /// The workspace's units, for matching the unit named in each record. Empty: no
    /// matching and no unknown-unit problems.
    pub units: Units,
}

impl Settings {
    /// Defaults: publication = 公示日期, decision day not counted, no units.
    pub fn new(window: Window, today: Date, city_prefix: &str) -> Settings {
        Settings {
            window,
            today,
            city_prefix: city_prefix.to_string(),
            publication: PublicationBasis::PublicationDate,
            count_decision_day: false,
            units: Units::default(),
        }
    }
}

/// A file that cannot be taken: nothing of it may be used.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("无法打开文件 {path}:{source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("读取文件出错:{0}")]
    Io(#[from] std::io::Error),
    #[error("文件为空:没有表头或没有数据行")]
    Empty,
    #[error("文件编码无法识别:{0}。请另存为 UTF-8 或 GB18030/GBK 编码的 CSV,或 .xlsx")]
    Undecodable(String),
    #[error("这不是{}数据:表头与{}相符,请确认导入的数据集类型", .declared.label(), .looks_like.label())]
    WrongDataset {
        declared: DatasetKind,
        looks_like: DatasetKind,
    },
    #[error("{}缺少必需的列:{}", .dataset.label(), .columns.join("、"))]
    MissingColumns {
        dataset: DatasetKind,
        columns: Vec<&'static str>,
    },
    #[error(
        "数据不属于本市:{checked} 个有效代码中有 {outside} 个的登记管理机关行政区划码(第 3–8 位,如 {example})不以本市区划码 {prefix} 开头"
    )]
    OtherCity {
        prefix: String,
        outside: u64,
        checked: u64,
        example: String,
    },
    #[error("无法读取 .xlsx 文件:{0}")]
    Xlsx(String),
    #[error("CSV 格式错误:{0}")]
    Csv(String),
}

/// A checked dataset.
#[derive(Clone, Debug)]
pub struct Checked {
    pub kind: DatasetKind,
    /// Data rows read (the header not counted).
    pub rows: u64,
    pub encoding: Encoding,
    /// The header row as written, for showing a problem's original row with its columns.
    pub header: Vec<String>,
    /// Every problem, in row order.
    pub problems: Vec<Problem>,
    pub facts: Facts,
}

/// Read and check one dataset.
///
/// Whole-file errors ([`FileError`]) mean nothing of the file may be used. Everything
/// else — every row problem — is in [`Checked::problems`].
pub fn check(
    kind: DatasetKind,
    input: Input<'_>,
    settings: &Settings,
) -> Result<Checked, FileError> {
    check_with_progress(kind, input, settings, &mut |_| {})
}

/// [`check`], calling `progress` with the number of data rows read so far every
/// [`PROGRESS_EVERY`] rows and once at the end. (For progress in bytes, wrap the reader
/// given to [`Input`] in a counting reader.)
pub fn check_with_progress(
    kind: DatasetKind,
    input: Input<'_>,
    settings: &Settings,
    progress: &mut dyn FnMut(u64),
) -> Result<Checked, FileError> {
    let checker = check::checker(kind, settings);
    let mut sink = Capture {
        checker,
        header: Vec::new(),
        rows: 0,
        progress,
    };
    let stats = read::drive(input, &mut sink)?;
    (sink.progress)(sink.rows);
    let header = sink.header;
    let (facts, problems) = sink.checker.finish()?;
    Ok(Checked {
        kind,
        rows: stats.rows,
        encoding: stats.encoding,
        header,
        problems,
        facts,
    })
}

/// How often [`check_with_progress`] reports.
pub const PROGRESS_EVERY: u64 = 65_536;

/// Keeps the header and counts rows on the way to a checker.
struct Capture<'s, 'p> {
    checker: Box<dyn check::Checker + 's>,
    header: Vec<String>,
    rows: u64,
    progress: &'p mut dyn FnMut(u64),
}

impl read::RowSink for Capture<'_, '_> {
    fn header(&mut self, header: &[&str]) -> Result<(), FileError> {
        self.header = header
            .iter()
            .map(|h| h.trim_start_matches('\u{FEFF}').to_string())
            .collect();
        self.checker.header(header)
    }

    fn row(&mut self, row: u64, record: &read::Record<'_>, issue: Option<read::RowIssue>) {
        self.rows += 1;
        if self.rows % PROGRESS_EVERY == 0 {
            (self.progress)(self.rows);
        }
        self.checker.row(row, record, issue);
    }

    fn prefetch(&mut self, row: u64, record: &read::Record<'_>) {
        self.checker.prefetch(row, record);
    }

    fn touch(&mut self) {
        self.checker.touch();
    }
}
