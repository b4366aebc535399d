//! Problems a record can have, each with its dataset, row, column, owning unit and a
//! Chinese message that says what is wrong and what is right; and the matching of the
//! unit names written in records to the workspace's units.

use crate::code::CodeError;
use crate::date::Date;
use crate::derive::InputKey;
use crate::schema::DatasetKind;
use std::collections::HashMap;
use std::sync::Arc;

/// The kinds of problem (spec §6, plus the two a file reader needs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProblemKind {
    /// A required field is empty.
    MissingField,
    /// A date that cannot be read.
    BadDate,
    /// Dates in the wrong order: 有效期自 after 有效期至, 公示 before 决定, 移出 before 认定.
    DateOrder,
    /// A date after today.
    FutureDate,
    /// A value not in its column's list (主体类别, 许可类别, 名单类型, …).
    UnknownCategory,
    /// A code that fails a check of GB 32100-2015 / GB 11714-1997.
    WrongCode,
    /// The placeholder `00000000000000000X` where a code is required.
    PlaceholderCode,
    /// A decision number that appears earlier in the same dataset.
    DuplicateDecision,
    /// A code already held by an entity with another name.
    CodeTwoNames,
    /// A name already holding another code.
    NameTwoCodes,
    /// A decision of the window not published by the window's end.
    Unpublished,
    /// Published after the 7th working day.
    LatePublication,
    /// A date the working-day table does not cover, so lateness cannot be decided.
    OutsideCalendar,
    /// The unit named in the record is not one of the workspace's units.
    UnknownUnit,
    /// A row that cannot be read as a record: too few cells, or bytes not in the file's encoding.
    MalformedRow,
}

impl ProblemKind {
    pub const ALL: [ProblemKind; 15] = [
        ProblemKind::MissingField,
        ProblemKind::BadDate,
        ProblemKind::DateOrder,
        ProblemKind::FutureDate,
        ProblemKind::UnknownCategory,
        ProblemKind::WrongCode,
        ProblemKind::PlaceholderCode,
        ProblemKind::DuplicateDecision,
        ProblemKind::CodeTwoNames,
        ProblemKind::NameTwoCodes,
        ProblemKind::Unpublished,
        ProblemKind::LatePublication,
        ProblemKind::OutsideCalendar,
        ProblemKind::UnknownUnit,
        ProblemKind::MalformedRow,
    ];

    /// A stable English id (for filters, URLs, the CLI's `--kind`).
    pub fn id(self) -> &'static str {
        match self {
            ProblemKind::MissingField => "missing_field",
            ProblemKind::BadDate => "bad_date",
            ProblemKind::DateOrder => "date_order",
            ProblemKind::FutureDate => "future_date",
            ProblemKind::UnknownCategory => "unknown_category",
            ProblemKind::WrongCode => "wrong_code",
            ProblemKind::PlaceholderCode => "placeholder_code",
            ProblemKind::DuplicateDecision => "duplicate_decision",
            ProblemKind::CodeTwoNames => "code_two_names",
            ProblemKind::NameTwoCodes => "name_two_codes",
            ProblemKind::Unpublished => "unpublished",
            ProblemKind::LatePublication => "late_publication",
            ProblemKind::OutsideCalendar => "outside_calendar",
            ProblemKind::UnknownUnit => "unknown_unit",
            ProblemKind::MalformedRow => "malformed_row",
        }
    }

    /// The Chinese label shown to users.
    pub fn label(self) -> &'static str {
        match self {
            ProblemKind::MissingField => "必填项为空",
            ProblemKind::BadDate => "日期无法识别",
            ProblemKind::DateOrder => "日期先后矛盾",
            ProblemKind::FutureDate => "日期晚于今天",
            ProblemKind::UnknownCategory => "类别不在规定范围",
            ProblemKind::WrongCode => "错码",
            ProblemKind::PlaceholderCode => "无代码(占位码)",
            ProblemKind::DuplicateDecision => "决定文书号重复",
            ProblemKind::CodeTwoNames => "重码(一码多名)",
            ProblemKind::NameTwoCodes => "一名多码",
            ProblemKind::Unpublished => "未公示",
            ProblemKind::LatePublication => "逾期公示",
            ProblemKind::OutsideCalendar => "日期超出工作日表",
            ProblemKind::UnknownUnit => "单位名称无法识别",
            ProblemKind::MalformedRow => "行格式错误",
        }
    }

    pub fn from_id(id: &str) -> Option<ProblemKind> {
        ProblemKind::ALL.into_iter().find(|k| k.id() == id)
    }
}

/// Structured facts behind a problem, for pages and exports that show more than the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Detail {
    /// The failed code check.
    Code(CodeError),
    /// An earlier row of the same dataset that this one conflicts with.
    EarlierRow(u64),
    /// A late publication.
    Late {
        decided: Date,
        deadline: Date,
        published: Date,
        working_days_late: u32,
    },
    /// A decision not published by the window's end.
    Unpublished {
        decided: Date,
        deadline: Option<Date>,
    },
}

/// One problem of one record.
#[derive(Clone, Debug)]
pub struct Problem {
    pub dataset: DatasetKind,
    /// The row as the user sees it in the file: the header is row 1 (CSV: record number;
    /// .xlsx: the sheet's row number).
    pub row: u64,
    /// The column's Chinese header name, when the problem is in one cell.
    pub column: Option<&'static str>,
    pub kind: ProblemKind,
    /// The owning unit's name as written in the record (数据来源单位 / 认定单位 /
    /// 实施单位 / 受理单位), if the record names one.
    pub unit_name: Option<Arc<str>>,
    /// The index of that unit in the caller's [`Units`] list, when it matched.
    pub unit: Option<usize>,
    /// What is wrong and what is right, in Chinese.
    pub message: String,
    pub detail: Option<Detail>,
    /// The derived inputs this problem lowers or raises.
    pub feeds: Feeds,
    /// The original row's cells, shared by every problem of the row.
    pub raw: Arc<[String]>,
}

/// A set of derived inputs (a bit per [`InputKey`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Feeds(pub u32);

impl Feeds {
    pub const NONE: Feeds = Feeds(0);

    pub fn of(keys: &[InputKey]) -> Feeds {
        Feeds(keys.iter().fold(0, |b, k| b | (1 << *k as u32)))
    }

    pub fn contains(self, key: InputKey) -> bool {
        self.0 & (1 << key as u32) != 0
    }

    pub fn keys(self) -> impl Iterator<Item = InputKey> {
        InputKey::ALL.into_iter().filter(move |k| self.contains(*k))
    }
}

/// A workspace unit as the caller knows it: its name and the other names records use.
#[derive(Clone, Debug)]
pub struct Unit {
    pub name: String,
    pub aliases: Vec<String>,
}

/// The units records are matched against: exact name first, then aliases; names are
/// compared after trimming, removing inner spaces and folding full-width brackets.
#[derive(Clone, Debug, Default)]
pub struct Units {
    list: Vec<Unit>,
    exact: HashMap<String, usize>,
    alias: HashMap<String, usize>,
}

impl Units {
    pub fn new(units: Vec<Unit>) -> Units {
        let mut exact = HashMap::new();
        let mut alias = HashMap::new();
        for (i, u) in units.iter().enumerate() {
            exact.entry(normalize_name(&u.name)).or_insert(i);
        }
        for (i, u) in units.iter().enumerate() {
            for a in &u.aliases {
                alias.entry(normalize_name(a)).or_insert(i);
            }
        }
        Units {
            list: units,
            exact,
            alias,
        }
    }

    /// The index of the unit a record's name refers to.
    pub fn find(&self, name: &str) -> Option<usize> {
        if let Some(&i) = self.exact.get(name) {
            return Some(i);
        }
        let n = normalize_name(name);
        self.exact.get(&n).or_else(|| self.alias.get(&n)).copied()
    }

    pub fn get(&self, index: usize) -> Option<&Unit> {
        self.list.get(index)
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// A name as compared: trimmed, inner whitespace removed, full-width brackets folded,
/// ASCII letters upper-cased.
pub fn normalize_name(name: &str) -> String {
    name.trim()
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '\u{FF08}' => '(',
            '\u{FF09}' => ')',
            c => c.to_ascii_uppercase(),
        })
        .collect()
}
