//! Checking every record of a dataset as it streams past, and keeping only what the
//! derivations need: counts, and compact indexes keyed by [`CodeKey`].

use crate::code::{self, CodeKey, CodeStatus};
use crate::date::{CellDate, Date, parse_cell};
use crate::derive::InputKey;
use crate::problem::{Detail, Feeds, Problem, ProblemKind, normalize_name};
use crate::read::{Record, RowIssue, RowSink};
use crate::schema::{
    self, ColumnMap, DatasetKind, DecisionColumns, approval, case, commitment, list, reg,
};
use crate::workdays::{Calendar, publication_deadline};
use crate::{FileError, PublicationBasis, Settings};
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// What one dataset contributes to the derivations.
#[derive(Clone, Debug)]
pub enum Facts {
    Register(RegisterFacts),
    Licences(DecisionFacts),
    Penalties(DecisionFacts),
    Lists(ListFacts),
    Commitments(CommitmentFacts),
    ApprovalItems(ApprovalFacts),
    Cases(CaseFacts),
}

/// Flags of a register entity that other datasets' derivations look up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools)] // independent facts of a register row, not a state machine
pub struct EntityFlags {
    /// 登记状态 吊销.
    pub revoked: bool,
    /// 经营异常 是.
    pub abnormal: bool,
    /// 失联 是.
    pub lost: bool,
    /// 公共信用综合评价 差.
    pub rated_poor: bool,
    /// Exists at the window's start.
    pub existing_at_start: bool,
    /// 信用报告提交日期.
    pub report: Option<Date>,
}

/// The register's counts (spec §5) and the flags of the entities that other datasets need.
#[derive(Clone, Debug, Default)]
pub struct RegisterFacts {
    /// Rows read.
    pub entities: u64,
    /// Entities existing at `start` (成立 ≤ start, not 注销/迁出 before start).
    pub existing_at_start: u64,
    /// Of those, entities holding a code that is not the placeholder.
    pub converted_at_start: u64,
    /// Of those, 个体工商户 (for the explanation).
    pub individual_at_start: u64,
    /// Entities not 注销/迁出 before `start` that hold a code (the error rate's denominator).
    pub with_code: u64,
    /// Of those, codes failing a check.
    pub wrong_codes: u64,
    /// Of those, valid codes already held by an earlier entity with another name.
    pub duplicate_codes: u64,
    /// 法人 + 非法人组织 existing at `end`.
    pub legal_at_end: u64,
    /// Entities with 成立日期 in the window.
    pub new_in_window: u64,
    /// Entities that are 吊销, 经营异常, 失联, rated 差, or have a report date.
    pub flagged: HashMap<CodeKey, EntityFlags>,
}

/// Licences or penalties.
#[derive(Clone, Debug, Default)]
pub struct DecisionFacts {
    /// Whether the file has the publication column the settings name.
    pub has_publication: bool,
    /// Decisions dated in the window.
    pub in_window: u64,
    /// Of those, published on or before `end`.
    pub reported: u64,
    /// Of those, published by the deadline.
    pub on_time: u64,
    /// Of those, published after the deadline.
    pub late: u64,
    /// Of those, whose lateness could not be decided (a date outside the working-day table).
    pub undecided: u64,
    /// Records published by `end` whose subject is a 法人/非法人组织 (any decision date).
    pub portal_records: u64,
}

/// Why an entity left a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemovalReason {
    Rectified,
    Repaired,
    Expired,
    Other,
}

/// One list entry, kept compactly.
#[derive(Clone, Copy, Debug)]
pub struct ListEntry {
    pub code: CodeKey,
    pub black: bool,
    pub decided: Date,
    pub removed: Option<Date>,
    pub reason: Option<RemovalReason>,
    pub trained: Option<Date>,
    pub report: Option<Date>,
    pub row: u64,
}

/// Red and black lists.
#[derive(Clone, Debug, Default)]
pub struct ListFacts {
    pub entries: Vec<ListEntry>,
    /// Entries of 法人/非法人组织 decided by `end`.
    pub portal_records: u64,
}

/// Commitments.
#[derive(Clone, Debug, Default)]
pub struct CommitmentFacts {
    /// 主动公示型 dated in the window.
    pub voluntary_in_window: u64,
    /// 行业自律型 dated in the window.
    pub self_discipline_in_window: u64,
    /// 信用修复型 commitments: code and date.
    pub repair: Vec<(CodeKey, Date)>,
    /// Commitments of 法人/非法人组织 dated by `end`.
    pub portal_records: u64,
}

/// The catalogue of approval items.
#[derive(Clone, Debug, Default)]
pub struct ApprovalFacts {
    pub total: u64,
    /// Items marked 实行审批替代型承诺 (and, when the column exists, 属于国发〔2018〕35号19项).
    pub substitution: u64,
    /// Whether the 国发〔2018〕35号 column was present.
    pub has_35_column: bool,
    pub tolerance: u64,
}

/// Joint reward and punishment cases.
#[derive(Clone, Debug, Default)]
pub struct CaseFacts {
    pub total: u64,
    /// Cases with two or more departments, a valid subject code and an effect.
    pub valid: u64,
}

/// A u64 hasher for keys that are already hashes (or exact codes).
#[derive(Default)]
pub(crate) struct KeyHasher(u64);
impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 = mix(self.0 ^ u64::from_le_bytes(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = mix(self.0 ^ n);
    }
    fn write_u128(&mut self, n: u128) {
        self.0 = mix(self.0 ^ (n as u64) ^ mix((n >> 64) as u64));
    }
}
type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<KeyHasher>>;

#[inline]
fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// What was first seen under a 64-bit key (a hash): a 32-bit tag and a row. Insert-only
/// open addressing with linear probing in one array, so a lookup usually costs one cache
/// miss (a general hash map costs two: control bytes and bucket). 16 bytes a slot, at
/// most 7/8 full: a 10M-row file needs 268 MB a table.
pub(crate) struct FirstSeen {
    slots: Vec<(u64, u64)>,
    len: usize,
}

impl FirstSeen {
    pub(crate) fn new() -> FirstSeen {
        FirstSeen {
            slots: vec![(0, 0); 1 << 12],
            len: 0,
        }
    }

    /// The (tag, row) first stored under `key`; stores (`tag`, `row`) if the key is new.
    #[inline]
    pub(crate) fn first_or_insert(&mut self, key: u64, tag: u32, row: u32) -> (u32, u32) {
        if (self.len + 1) * 8 > self.slots.len() * 7 {
            self.grow();
        }
        let key = key.max(1); // 0 marks an empty slot
        let payload = (u64::from(tag) << 32) | u64::from(row);
        let mask = self.slots.len() - 1;
        let mut i = (key as usize) & mask;
        loop {
            let (k, v) = self.slots[i];
            if k == 0 {
                self.slots[i] = (key, payload);
                self.len += 1;
                return (tag, row);
            }
            if k == key {
                return ((v >> 32) as u32, v as u32);
            }
            i = (i + 1) & mask;
        }
    }

    /// Loads the slot where `key` would start, so that a lookup a little later finds it
    /// in cache: a lookup in a large table is a cache miss, and this lets the miss
    /// overlap the work between.
    #[inline]
    pub(crate) fn touch(&self, key: u64) {
        let i = (key.max(1) as usize) & (self.slots.len() - 1);
        std::hint::black_box(self.slots[i].0);
    }

    #[cold]
    fn grow(&mut self) {
        let doubled = self.slots.len() * 2;
        let old = std::mem::replace(&mut self.slots, vec![(0, 0); doubled]);
        let mask = self.slots.len() - 1;
        for (k, v) in old {
            if k != 0 {
                let mut i = (k as usize) & mask;
                while self.slots[i].0 != 0 {
                    i = (i + 1) & mask;
                }
                self.slots[i] = (k, v);
            }
        }
    }
}

/// The per-row machinery shared by every dataset: cells, problems, the owning unit.
struct Rows<'s> {
    kind: DatasetKind,
    settings: &'s Settings,
    map: ColumnMap,
    problems: Vec<Problem>,
    row: u64,
    raw: Option<Arc<[String]>>,
    unit_name: Option<Arc<str>>,
    unit: Option<usize>,
    unit_cache: FastMap<String, (Arc<str>, Option<usize>)>,
    region_inside: u64,
    region_outside: u64,
    region_example: Option<String>,
}

impl<'s> Rows<'s> {
    fn new(kind: DatasetKind, settings: &'s Settings) -> Self {
        Rows {
            kind,
            settings,
            map: ColumnMap { index: Vec::new() },
            problems: Vec::new(),
            row: 0,
            raw: None,
            unit_name: None,
            unit: None,
            unit_cache: FastMap::default(),
            region_inside: 0,
            region_outside: 0,
            region_example: None,
        }
    }

    fn column_name(&self, col: usize) -> &'static str {
        self.kind.columns().get(col).map_or("", |c| c.name)
    }

    fn has(&self, col: usize) -> bool {
        self.map.index.get(col).copied().flatten().is_some()
    }

    #[inline]
    fn cell<'r>(&self, rec: &Record<'r>, col: usize) -> &'r str {
        match self.map.index.get(col).copied().flatten() {
            Some(i) => fast_trim(rec.get(i).unwrap_or("")),
            None => "",
        }
    }

    /// Start a row: the malformed-row checks, then the owning unit from `unit_col`.
    fn begin(
        &mut self,
        row: u64,
        rec: &Record<'_>,
        issue: Option<RowIssue>,
        unit_col: Option<usize>,
        flag_unknown: bool,
    ) {
        self.row = row;
        self.raw = None;
        let name = unit_col.map_or("", |col| self.cell(rec, col));
        if name.is_empty() {
            self.unit_name = None;
            self.unit = None;
        }
        if let Some(col) = unit_col {
            if !name.is_empty() {
                // Rows of one unit usually come together: the previous row's unit first.
                let (name_arc, unit) = if self.unit_name.as_deref() == Some(name) {
                    (
                        self.unit_name.clone().unwrap_or_else(|| Arc::from(name)),
                        self.unit,
                    )
                } else if let Some(v) = self.unit_cache.get(name) {
                    v.clone()
                } else {
                    let v: (Arc<str>, Option<usize>) =
                        (Arc::from(name), self.settings.units.find(name));
                    self.unit_cache.insert(name.to_string(), v.clone());
                    v
                };
                self.unit_name = Some(name_arc);
                self.unit = unit;
                if unit.is_none() && flag_unknown && !self.settings.units.is_empty() {
                    self.push(
                        rec,
                        ProblemKind::UnknownUnit,
                        Some(col),
                        format!(
                            "{}“{name}”不是本市已登记的责任单位,请使用单位全称或在单位别名中补充",
                            self.column_name(col)
                        ),
                        None,
                        Feeds::NONE,
                    );
                }
            }
        }
        match issue {
            Some(RowIssue::BadBytes) => {
                self.push(
                    rec,
                    ProblemKind::MalformedRow,
                    None,
                    "本行有无法解码的字符(已显示为 \u{FFFD}),请检查文件编码".into(),
                    None,
                    Feeds::NONE,
                );
            }
            Some(RowIssue::Short { cells, header }) => {
                self.push(
                    rec,
                    ProblemKind::MalformedRow,
                    None,
                    format!("本行只有 {cells} 个单元格,表头有 {header} 列:本行不完整(可能有未闭合的引号或缺少分隔符)"),
                    None,
                    Feeds::NONE,
                );
            }
            Some(RowIssue::Long { cells, header }) => {
                self.push(
                    rec,
                    ProblemKind::MalformedRow,
                    None,
                    format!("本行有 {cells} 个单元格,多于表头的 {header} 列:可能有未加引号的逗号,各列已错位"),
                    None,
                    Feeds::NONE,
                );
            }
            None => {}
        }
    }

    fn push(
        &mut self,
        rec: &Record<'_>,
        kind: ProblemKind,
        col: Option<usize>,
        message: String,
        detail: Option<Detail>,
        feeds: Feeds,
    ) {
        let raw = self
            .raw
            .get_or_insert_with(|| rec.iter().map(str::to_string).collect::<Vec<_>>().into())
            .clone();
        self.problems.push(Problem {
            dataset: self.kind,
            row: self.row,
            column: col.map(|c| self.column_name(c)),
            kind,
            unit_name: self.unit_name.clone(),
            unit: self.unit,
            message,
            detail,
            feeds,
            raw,
        });
    }

    fn required<'r>(&mut self, rec: &Record<'r>, col: usize, feeds: Feeds) -> Option<&'r str> {
        let v = self.cell(rec, col);
        if v.is_empty() {
            self.missing(rec, col, feeds);
            None
        } else {
            Some(v)
        }
    }

    /// A required cell left empty.
    fn missing(&mut self, rec: &Record<'_>, col: usize, feeds: Feeds) {
        self.push(rec, ProblemKind::MissingField, Some(col), format!("{}为空,此项必填", self.column_name(col)), None, feeds);
    }

    /// A date cell: missing (when required), unreadable, or after today are problems.
    fn date(
        &mut self,
        rec: &Record<'_>,
        col: usize,
        required: bool,
        not_future: bool,
        feeds: Feeds,
    ) -> Option<CellDate> {
        let v = self.cell(rec, col);
        if v.is_empty() {
            if required {
                self.missing(rec, col, feeds);
            }
            return None;
        }
        if let Ok(d) = parse_cell(v) {
            {
                if let (true, CellDate::Day(day)) = (not_future, d) {
                    if day > self.settings.today {
                        self.push(
                            rec,
                            ProblemKind::FutureDate,
                            Some(col),
                            format!(
                                "{}“{v}”晚于今天({}),日期不可能在将来",
                                self.column_name(col),
                                self.settings.today
                            ),
                            None,
                            feeds,
                        );
                    }
                }
                Some(d)
            }
        } else {
            {
                self.push(
                    rec,
                    ProblemKind::BadDate,
                    Some(col),
                    format!("{}“{v}”无法识别为日期,应写作 2019/01/31、2019-01-31 或 20190131(长期写 2099/12/31)", self.column_name(col)),
                    None,
                    feeds,
                );
                None
            }
        }
    }

    fn day(
        &mut self,
        rec: &Record<'_>,
        col: usize,
        required: bool,
        feeds: Feeds,
    ) -> Option<Date> {
        self.date(rec, col, required, true, feeds)
            .and_then(CellDate::day)
    }

    /// A code cell. `required`: whether a code must be there (placeholder or empty is a problem).
    fn code(
        &mut self,
        rec: &Record<'_>,
        col: usize,
        required: bool,
        feeds_wrong: Feeds,
        feeds_missing: Feeds,
        individual: bool,
    ) -> CodeStatus {
        let v = self.cell(rec, col);
        let status = code::classify(v);
        match status {
            CodeStatus::Valid => {
                if let Some(r) = code::region(v) {
                    if r != "100000" {
                        if r.starts_with(self.settings.city_prefix.as_str()) {
                            self.region_inside += 1;
                        } else {
                            self.region_outside += 1;
                            if self.region_example.is_none() {
                                self.region_example = Some(r.to_string());
                            }
                        }
                    }
                }
            }
            CodeStatus::Wrong(e) => {
                self.push(
                    rec,
                    ProblemKind::WrongCode,
                    Some(col),
                    format!("{}“{v}”有误:{e}", self.column_name(col)),
                    Some(Detail::Code(e)),
                    feeds_wrong,
                );
            }
            CodeStatus::Placeholder if required => {
                let message = if individual {
                    format!(
                        "{}为占位码 {},个体工商户尚未赋码,应完成新旧代码映射",
                        self.column_name(col),
                        code::PLACEHOLDER
                    )
                } else {
                    format!(
                        "{}为占位码 {},此主体必须填写统一社会信用代码",
                        self.column_name(col),
                        code::PLACEHOLDER
                    )
                };
                self.push(
                    rec,
                    ProblemKind::PlaceholderCode,
                    Some(col),
                    message,
                    None,
                    feeds_missing,
                );
            }
            CodeStatus::Empty if required => {
                self.push(
                    rec,
                    ProblemKind::MissingField,
                    Some(col),
                    format!(
                        "{}为空,此主体必须填写统一社会信用代码",
                        self.column_name(col)
                    ),
                    None,
                    feeds_missing,
                );
            }
            CodeStatus::Placeholder | CodeStatus::Empty => {}
        }
        status
    }

    /// A value that must be one of `allowed` (index returned); empty is a missing field
    /// when `required`.
    fn category(
        &mut self,
        rec: &Record<'_>,
        col: usize,
        allowed: &[&str],
        required: bool,
        feeds: Feeds,
    ) -> Option<usize> {
        let v = self.cell(rec, col);
        if v.is_empty() {
            if required {
                self.missing(rec, col, feeds);
            }
            return None;
        }
        if let Some(i) = allowed.iter().position(|a| *a == v) {
            return Some(i);
        }
        self.push(
            rec,
            ProblemKind::UnknownCategory,
            Some(col),
            format!(
                "{}“{v}”不在规定范围内,应为:{}",
                self.column_name(col),
                allowed.join("、")
            ),
            None,
            feeds,
        );
        None
    }

    /// 是/否 (empty = 否 unless required).
    fn yes_no(&mut self, rec: &Record<'_>, col: usize, required: bool, feeds: Feeds) -> bool {
        let v = self.cell(rec, col);
        match v {
            "是" | "Y" | "y" | "1" | "TRUE" | "true" => true,
            "否" | "N" | "n" | "0" | "FALSE" | "false" => false,
            "" => {
                if required {
                    self.push(
                        rec,
                        ProblemKind::MissingField,
                        Some(col),
                        format!("{}为空,应填“是”或“否”", self.column_name(col)),
                        None,
                        feeds,
                    );
                }
                false
            }
            other => {
                self.push(
                    rec,
                    ProblemKind::UnknownCategory,
                    Some(col),
                    format!(
                        "{}“{other}”不在规定范围内,应为:是、否",
                        self.column_name(col)
                    ),
                    None,
                    feeds,
                );
                false
            }
        }
    }

    /// The whole-file check of spec §2: most valid codes' region outside the city.
    fn region_check(&self) -> Result<(), FileError> {
        let checked = self.region_inside + self.region_outside;
        if checked > 0 && self.region_outside * 2 > checked {
            return Err(FileError::OtherCity {
                prefix: self.settings.city_prefix.clone(),
                outside: self.region_outside,
                checked,
                example: self.region_example.clone().unwrap_or_default(),
            });
        }
        Ok(())
    }
}

/// `str::trim`, looking only at the first and last bytes when neither can belong to a
/// whitespace character (the usual case: letters, digits, CJK).
#[inline]
fn fast_trim(s: &str) -> &str {
    let b = s.as_bytes();
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return s;
    };
    // Lead bytes of whitespace: ASCII, U+0085/U+00A0 (C2), U+1680 (E1), U+2000–U+205F
    // (E2), U+3000 (E3).
    let may_start = matches!(first, b'\t'..=b'\r' | b' ' | 0xC2 | 0xE1 | 0xE2 | 0xE3);
    // Last bytes of whitespace: ASCII, or the last byte of one of the characters above.
    let may_end = match last {
        b'\t'..=b'\r' | b' ' => true,
        0x80..=0x8A | 0x9F | 0xA0 | 0xA8 | 0xA9 | 0xAF => {
            s.chars().next_back().is_some_and(char::is_whitespace)
        }
        _ => false,
    };
    if may_start || may_end { s.trim() } else { s }
}

/// The hash of a name as [`normalize_name`] would write it, without allocating when the
/// name needs no normalizing.
fn name_hash(name: &str) -> u64 {
    // Bytes that may start a character normalizing changes: ASCII whitespace and
    // lower-case letters, the lead bytes of other whitespace (C2, E1, E2, E3) and of the
    // full-width brackets (EF). CJK characters (E4–E9) never do.
    const MAY_NEED: [bool; 256] = {
        let mut t = [false; 256];
        let mut b = 0;
        while b < 256 {
            t[b] = matches!(b as u8, b'\t'..=b'\r' | b' ' | b'a'..=b'z' | 0xC2 | 0xE1 | 0xE2 | 0xE3 | 0xEF);
            b += 1;
        }
        t
    };
    let may_need = name.bytes().any(|b| MAY_NEED[usize::from(b)]);
    let needs = may_need
        && name.chars().any(|c| {
            c.is_whitespace() || c.is_ascii_lowercase() || c == '\u{FF08}' || c == '\u{FF09}'
        });
    if needs {
        hash_str(&normalize_name(name))
    } else {
        hash_str(name)
    }
}

pub(crate) fn hash_str(s: &str) -> u64 {
    let mut h = KeyHasher(0x9E37_79B9_7F4A_7C15);
    h.write(s.as_bytes());
    mix(h.0 ^ s.len() as u64)
}

/// A dataset checker: a [`RowSink`] that ends in [`Facts`] and problems.
pub(crate) trait Checker: RowSink {
    fn finish(self: Box<Self>) -> Result<(Facts, Vec<Problem>), FileError>;
}

pub(crate) fn checker(kind: DatasetKind, settings: &Settings) -> Box<dyn Checker + '_> {
    match kind {
        DatasetKind::Register => Box::new(RegisterChecker::new(settings)),
        DatasetKind::Licences => Box::new(DecisionChecker::new(
            kind,
            schema::LICENCE_COLUMNS,
            settings,
        )),
        DatasetKind::Penalties => Box::new(DecisionChecker::new(
            kind,
            schema::PENALTY_COLUMNS,
            settings,
        )),
        DatasetKind::Lists => Box::new(ListChecker {
            rows: Rows::new(kind, settings),
            facts: ListFacts::default(),
        }),
        DatasetKind::Commitments => Box::new(CommitmentChecker {
            rows: Rows::new(kind, settings),
            facts: CommitmentFacts::default(),
        }),
        DatasetKind::ApprovalItems => Box::new(ApprovalChecker {
            rows: Rows::new(kind, settings),
            facts: ApprovalFacts::default(),
        }),
        DatasetKind::Cases => Box::new(CaseChecker {
            rows: Rows::new(kind, settings),
            facts: CaseFacts::default(),
        }),
    }
}

fn header_into(rows: &mut Rows<'_>, header: &[&str]) -> Result<(), FileError> {
    rows.map = schema::resolve(rows.kind, header)?;
    Ok(())
}

fn is_legal_code(code: &str) -> bool {
    !code::is_individual_business(code)
}

// ---------------------------------------------------------------- register

const ENTITY_CATEGORIES: [&str; 3] = ["法人", "非法人组织", "个体工商户"];
const STATUSES: [&str; 4] = ["存续", "吊销", "注销", "迁出"];
const RATINGS: [&str; 4] = ["优", "良", "中", "差"];

struct RegisterChecker<'s> {
    rows: Rows<'s>,
    facts: RegisterFacts,
    /// 64-bit hash of a code → (32-bit hash of the normalized name, row) of its first
    /// holder. 16 bytes an entity keeps a 10M-row register well under 1 GB; a false
    /// duplicate needs two codes of one 64-bit hash (about 3 in a million for 10M codes).
    by_code: FirstSeen,
    /// 64-bit hash of a 法人/非法人组织's normalized name → (32-bit hash of its code, row).
    by_name: FirstSeen,
    /// Rows read ahead: (row, code hash, name hash, 法人/非法人组织).
    ahead: VecDeque<(u64, u64, u64, bool)>,
}

impl<'s> RegisterChecker<'s> {
    fn new(settings: &'s Settings) -> Self {
        RegisterChecker {
            rows: Rows::new(DatasetKind::Register, settings),
            facts: RegisterFacts::default(),
            by_code: FirstSeen::new(),
            by_name: FirstSeen::new(),
            ahead: VecDeque::new(),
        }
    }
}

impl RowSink for RegisterChecker<'_> {
    fn header(&mut self, header: &[&str]) -> Result<(), FileError> {
        header_into(&mut self.rows, header)
    }

    /// The two index lookups of a row are cache misses in a large register: the hashes
    /// of a batch of rows are worked out first, then [`RowSink::touch`] loads all their
    /// slots at once, so that the misses overlap.
    fn prefetch(&mut self, row: u64, rec: &Record<'_>) {
        let r = &self.rows;
        let (code, name) = (r.cell(rec, reg::CODE), r.cell(rec, reg::NAME));
        if code.len() == 18 && !name.is_empty() && !code.bytes().any(|b| b.is_ascii_lowercase())
        {
            let legal = ENTITY_CATEGORIES[..2].contains(&r.cell(rec, reg::CATEGORY));
            self.ahead
                .push_back((row, hash_str(code), name_hash(name), legal));
        }
    }

    fn touch(&mut self) {
        for &(_, code_hash, name_hash, legal) in &self.ahead {
            self.by_code.touch(code_hash);
            if legal {
                self.by_name.touch(name_hash);
            }
        }
    }

    fn row(&mut self, row: u64, rec: &Record<'_>, issue: Option<RowIssue>) {
        let r = &mut self.rows;
        let w = r.settings.window;
        r.begin(row, rec, issue, Some(reg::AUTHORITY), false);
        self.facts.entities += 1;
        let name = r.required(rec, reg::NAME, Feeds::NONE);
        let category = r.category(rec, reg::CATEGORY, &ENTITY_CATEGORIES, true, Feeds::NONE);
        // Valid codes are indexed by a hash of their (upper-case) text; the packed key is
        // only built for the few entities other datasets look up.
        let code_cell = r.cell(rec, reg::CODE);
        let upper;
        let code_text = if code_cell.bytes().any(|b| b.is_ascii_lowercase()) {
            upper = code_cell.to_ascii_uppercase();
            upper.as_str()
        } else {
            code_cell
        };
        // The hashes worked out by `prefetch` (the same cells, so the same hashes).
        while self.ahead.front().is_some_and(|a| a.0 < row) {
            self.ahead.pop_front();
        }
        let ahead = if self.ahead.front().is_some_and(|a| a.0 == row) {
            self.ahead.pop_front().map(|(_, code_hash, name_hash, _)| (code_hash, name_hash))
        } else {
            None
        };
        let hashes = name
            .filter(|_| code_text.len() == 18)
            .map(|name| ahead.unwrap_or_else(|| (hash_str(code_text), name_hash(name))));
        let status = r.category(rec, reg::STATUS, &STATUSES, true, Feeds::NONE);
        let founded = r.day(
            rec,
            reg::FOUNDED,
            true,
            Feeds::of(&[InputKey::CodeConversionRate, InputKey::NewMarketEntities]),
        );
        let gone = matches!(status, Some(2 | 3));
        let closed = if gone && r.has(reg::CLOSED) {
            let d = r.day(rec, reg::CLOSED, true, Feeds::NONE);
            if let (Some(c), Some(f)) = (d, founded) {
                if c < f {
                    r.push(
                        rec,
                        ProblemKind::DateOrder,
                        Some(reg::CLOSED),
                        format!("注销日期 {c} 早于成立日期 {f}"),
                        None,
                        Feeds::NONE,
                    );
                }
            }
            d
        } else {
            None
        };
        // Existing at a date: founded by then and not gone before it. A 注销/迁出 entity
        // without a readable 注销日期 is taken as gone.
        let exists_at =
            |d: Date| founded.is_some_and(|f| f <= d) && (!gone || closed.is_some_and(|c| c >= d));
        let at_start = exists_at(w.start);
        let at_end = exists_at(w.end);
        let in_error_population = !gone || closed.is_some_and(|c| c >= w.start);
        let individual = category == Some(2);
        let conversion = if at_start {
            Feeds::of(&[InputKey::CodeConversionRate])
        } else {
            Feeds::NONE
        };
        let error_feed = if in_error_population {
            Feeds::of(&[InputKey::CodeErrorRate])
        } else {
            Feeds::NONE
        };
        let status_code = r.code(rec, reg::CODE, true, error_feed, conversion, individual);
        let has_code = matches!(status_code, CodeStatus::Valid | CodeStatus::Wrong(_));
        if at_start {
            self.facts.existing_at_start += 1;
            if has_code {
                self.facts.converted_at_start += 1;
            }
            if individual {
                self.facts.individual_at_start += 1;
            }
        }
        if at_end && matches!(category, Some(0 | 1)) {
            self.facts.legal_at_end += 1;
        }
        if founded.is_some_and(|f| w.contains(f)) {
            self.facts.new_in_window += 1;
        }
        if has_code && in_error_population {
            self.facts.with_code += 1;
            if matches!(status_code, CodeStatus::Wrong(_)) {
                self.facts.wrong_codes += 1;
            }
        }
        if status_code == CodeStatus::Valid {
            if let (Some(name), Some((code_hash, name_hash))) = (name, hashes) {
                let (first_name, first_row) =
                    self.by_code
                        .first_or_insert(code_hash, name_hash as u32, row as u32);
                if first_name != name_hash as u32 {
                    if in_error_population {
                        self.facts.duplicate_codes += 1;
                    }
                    r.push(
                        rec,
                        ProblemKind::CodeTwoNames,
                        Some(reg::CODE),
                        format!("统一社会信用代码“{code_cell}”已由第 {first_row} 行的另一名称的主体持有(重码),一个代码只能对应一个主体"),
                        Some(Detail::EarlierRow(u64::from(first_row))),
                        error_feed,
                    );
                }
                if matches!(category, Some(0 | 1)) {
                    let (first_code, first_row) =
                        self.by_name
                            .first_or_insert(name_hash, code_hash as u32, row as u32);
                    if first_code != code_hash as u32 {
                        r.push(
                            rec,
                            ProblemKind::NameTwoCodes,
                            Some(reg::NAME),
                            format!(
                                "名称“{name}”在第 {first_row} 行对应另一个统一社会信用代码,本行为“{code_cell}”:一个主体只能有一个代码"
                            ),
                            Some(Detail::EarlierRow(u64::from(first_row))),
                            Feeds::NONE,
                        );
                    }
                }
            }
        }
        let abnormal = r.has(reg::ABNORMAL) && r.yes_no(rec, reg::ABNORMAL, false, Feeds::NONE);
        let lost = r.has(reg::LOST) && r.yes_no(rec, reg::LOST, false, Feeds::NONE);
        let rating = if r.has(reg::RATING) {
            r.category(rec, reg::RATING, &RATINGS, false, Feeds::NONE)
        } else {
            None
        };
        let report = if r.has(reg::REPORT) {
            r.day(rec, reg::REPORT, false, Feeds::NONE)
        } else {
            None
        };
        let flags = EntityFlags {
            revoked: status == Some(1),
            abnormal,
            lost,
            rated_poor: rating == Some(3),
            existing_at_start: at_start,
            report,
        };
        if has_code
            && (flags.revoked
                || flags.abnormal
                || flags.lost
                || flags.rated_poor
                || flags.report.is_some())
        {
            // Two rows with one code (a duplicate): the code carries both rows' flags.
            let f = self
                .facts
                .flagged
                .entry(CodeKey::of(code_cell))
                .or_default();
            f.revoked |= flags.revoked;
            f.abnormal |= flags.abnormal;
            f.lost |= flags.lost;
            f.rated_poor |= flags.rated_poor;
            f.existing_at_start |= flags.existing_at_start;
            f.report = f.report.max(flags.report);
        }
        // 原注册号 is read only so that a row with it is not mistaken for a malformed one.
        let _ = r.cell(rec, reg::OLD_NUMBER);
    }
}

impl Checker for RegisterChecker<'_> {
    fn finish(self: Box<Self>) -> Result<(Facts, Vec<Problem>), FileError> {
        self.rows.region_check()?;
        Ok((Facts::Register(self.facts), self.rows.problems))
    }
}

// ---------------------------------------------------------------- licences and penalties

const SUBJECT_CATEGORIES: [&str; 5] = [
    "法人及非法人组织",
    "法人",
    "非法人组织",
    "自然人",
    "个体工商户",
];
const LICENCE_KINDS: [&str; 6] = ["普通", "特许", "认可", "核准", "登记", "其他"];
const PENALTY_KINDS: [&str; 17] = [
    "警告",
    "通报批评",
    "罚款",
    "没收违法所得",
    "没收非法财物",
    "没收违法所得、没收非法财物",
    "暂扣许可证件",
    "降低资质等级",
    "吊销许可证件",
    "暂扣或者吊销许可证",
    "暂扣或者吊销执照",
    "限制开展生产经营活动",
    "责令停产停业",
    "责令关闭",
    "限制从业",
    "行政拘留",
    "其他",
];

struct DecisionChecker<'s> {
    rows: Rows<'s>,
    cols: DecisionColumns,
    facts: DecisionFacts,
    numbers: FirstSeen,
    /// Rows read ahead: (row, hash of the decision number).
    ahead: VecDeque<(u64, u64)>,
    calendar: &'static Calendar,
}

impl<'s> DecisionChecker<'s> {
    fn new(kind: DatasetKind, cols: DecisionColumns, settings: &'s Settings) -> Self {
        DecisionChecker {
            rows: Rows::new(kind, settings),
            cols,
            facts: DecisionFacts::default(),
            numbers: FirstSeen::new(),
            ahead: VecDeque::new(),
            calendar: Calendar::official(),
        }
    }
}

impl RowSink for DecisionChecker<'_> {
    fn header(&mut self, header: &[&str]) -> Result<(), FileError> {
        header_into(&mut self.rows, header)?;
        let col = match self.rows.settings.publication {
            PublicationBasis::PublicationDate => self.cols.published,
            PublicationBasis::UploadTime => self.cols.uploaded,
        };
        self.facts.has_publication = self.rows.has(col);
        Ok(())
    }

    /// The number index lookup is a cache miss in a large file: the hashes of a batch of
    /// rows are worked out first, then [`RowSink::touch`] loads all their slots at once.
    fn prefetch(&mut self, row: u64, rec: &Record<'_>) {
        let number = self.rows.cell(rec, self.cols.number);
        if !number.is_empty() {
            self.ahead.push_back((row, hash_str(number)));
        }
    }

    fn touch(&mut self) {
        for &(_, h) in &self.ahead {
            self.numbers.touch(h);
        }
    }

    fn row(&mut self, row: u64, rec: &Record<'_>, issue: Option<RowIssue>) {
        let c = self.cols;
        let r = &mut self.rows;
        let w = r.settings.window;
        r.begin(row, rec, issue, Some(c.unit), true);
        // The hash worked out by `prefetch` (the same cell, so the same hash).
        while self.ahead.front().is_some_and(|a| a.0 < row) {
            self.ahead.pop_front();
        }
        let ahead = if self.ahead.front().is_some_and(|a| a.0 == row) {
            self.ahead.pop_front().map(|a| a.1)
        } else {
            None
        };
        let number_hash = {
            let number = r.cell(rec, c.number);
            (!number.is_empty()).then(|| ahead.unwrap_or_else(|| hash_str(number)))
        };
        let _ = r.required(rec, c.name, Feeds::NONE);
        let category = r.category(rec, c.category, &SUBJECT_CATEGORIES, true, Feeds::NONE);
        let needs_code = matches!(category, Some(0 | 1 | 2 | 4));
        let code_cell = r.cell(rec, c.code);
        let code_status = r.code(
            rec,
            c.code,
            needs_code,
            Feeds::NONE,
            Feeds::NONE,
            category == Some(4),
        );
        let legal = match category {
            Some(0..=2) => true,
            Some(_) => false,
            None => matches!(code_status, CodeStatus::Valid) && is_legal_code(code_cell),
        };
        let number = r.required(rec, c.number, Feeds::NONE);
        for &col in c.plain_required {
            let _ = r.required(rec, col, Feeds::NONE);
        }
        let kind_cell = r.cell(rec, c.kind);
        if kind_cell.is_empty() {
            let _ = r.required(rec, c.kind, Feeds::NONE);
        } else if !self_kind_ok(r.kind, kind_cell) {
            let allowed = if r.kind == DatasetKind::Licences {
                LICENCE_KINDS.join("、")
            } else {
                PENALTY_KINDS.join("、")
            };
            let name = r.column_name(c.kind);
            r.push(
                rec,
                ProblemKind::UnknownCategory,
                Some(c.kind),
                format!("{name}“{kind_cell}”不在规定范围内,应为:{allowed}"),
                None,
                Feeds::NONE,
            );
        }
        let window_feed = Feeds::of(&[InputKey::DecisionsTotal, InputKey::DecisionsReported]);
        let decided = r.day(rec, c.decided, true, window_feed);
        let in_window = decided.is_some_and(|d| w.contains(d));
        if let (Some(from_col), Some(to_col)) = (c.valid_from, c.valid_to) {
            let from = r.date(rec, from_col, true, false, Feeds::NONE);
            let to = r.date(rec, to_col, true, false, Feeds::NONE);
            if let (Some(CellDate::Day(f)), Some(CellDate::Day(t))) = (from, to) {
                if f > t {
                    r.push(
                        rec,
                        ProblemKind::DateOrder,
                        Some(from_col),
                        format!("有效期自 {f} 晚于有效期至 {t},应不晚于有效期至"),
                        None,
                        Feeds::NONE,
                    );
                }
            }
        }
        let pub_col = match r.settings.publication {
            PublicationBasis::PublicationDate => c.published,
            PublicationBasis::UploadTime => c.uploaded,
        };
        let reported_feed = if in_window {
            Feeds::of(&[InputKey::DecisionsReported])
        } else {
            Feeds::NONE
        };
        let published = if r.has(pub_col) {
            r.day(rec, pub_col, false, reported_feed)
        } else {
            None
        };
        if let (Some(p), Some(d)) = (published, decided) {
            if p < d {
                let name = r.column_name(pub_col);
                r.push(
                    rec,
                    ProblemKind::DateOrder,
                    Some(pub_col),
                    format!("{name} {p} 早于决定日期 {d},公示不能先于决定"),
                    None,
                    Feeds::NONE,
                );
            }
        }
        if let (Some(number), Some(h)) = (number, number_hash) {
            let (_, first) = self.numbers.first_or_insert(h, 0, row as u32);
            if first != row as u32 {
                let name = r.column_name(c.number);
                r.push(
                    rec,
                    ProblemKind::DuplicateDecision,
                    Some(c.number),
                    format!("{name}“{number}”与第 {first} 行重复,同一数据集中文书号应唯一"),
                    Some(Detail::EarlierRow(u64::from(first))),
                    Feeds::NONE,
                );
            }
        }
        let published_by_end = published.filter(|p| *p <= w.end);
        if published_by_end.is_some() && legal {
            self.facts.portal_records += 1;
        }
        if !(in_window && self.facts.has_publication) {
            if in_window {
                self.facts.in_window += 1;
            }
            return;
        }
        self.facts.in_window += 1;
        let Some(decided) = decided else { return };
        let deadline = publication_deadline(self.calendar, decided, r.settings.count_decision_day);
        match published_by_end {
            None => {
                let dl = deadline.ok();
                let when = dl.map_or(String::new(), |d| format!(",应于 {d} 前公示"));
                r.push(
                    rec,
                    ProblemKind::Unpublished,
                    Some(pub_col),
                    format!("决定日期 {decided},截至 {} 尚未公示{when}", w.end),
                    Some(Detail::Unpublished {
                        decided,
                        deadline: dl,
                    }),
                    Feeds::of(&[InputKey::DecisionsReported]),
                );
            }
            Some(p) => {
                self.facts.reported += 1;
                match deadline.and_then(|dl| Ok((dl, self.calendar.working_days_between(dl, p)?))) {
                    Ok((dl, late)) if p > dl => {
                        self.facts.late += 1;
                        r.push(
                            rec,
                            ProblemKind::LatePublication,
                            Some(pub_col),
                            format!("决定日期 {decided},应于 {dl}(第 7 个工作日)前公示,实际 {p} 公示,逾期 {late} 个工作日"),
                            Some(Detail::Late { decided, deadline: dl, published: p, working_days_late: late }),
                            Feeds::NONE,
                        );
                    }
                    Ok(_) => self.facts.on_time += 1,
                    Err(e) => {
                        self.facts.undecided += 1;
                        r.push(
                            rec,
                            ProblemKind::OutsideCalendar,
                            Some(c.decided),
                            format!("无法判断是否逾期公示:{e}"),
                            None,
                            Feeds::NONE,
                        );
                    }
                }
            }
        }
    }
}

fn self_kind_ok(kind: DatasetKind, v: &str) -> bool {
    if kind == DatasetKind::Licences {
        LICENCE_KINDS.contains(&v) || v.starts_with("其他")
    } else {
        v.split(['、', ';', '\u{FF1B}', ',', '\u{FF0C}'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .all(|p| PENALTY_KINDS.contains(&p) || p.starts_with("其他"))
    }
}

impl Checker for DecisionChecker<'_> {
    fn finish(self: Box<Self>) -> Result<(Facts, Vec<Problem>), FileError> {
        self.rows.region_check()?;
        let facts = if self.rows.kind == DatasetKind::Licences {
            Facts::Licences(self.facts)
        } else {
            Facts::Penalties(self.facts)
        };
        Ok((facts, self.rows.problems))
    }
}

// ---------------------------------------------------------------- lists

const LIST_KINDS: [&str; 2] = ["红名单", "黑名单"];
const REMOVAL_REASONS: [&str; 4] = ["整改", "信用修复", "期满", "其他"];

struct ListChecker<'s> {
    rows: Rows<'s>,
    facts: ListFacts,
}

impl RowSink for ListChecker<'_> {
    fn header(&mut self, header: &[&str]) -> Result<(), FileError> {
        header_into(&mut self.rows, header)
    }

    fn row(&mut self, row: u64, rec: &Record<'_>, issue: Option<RowIssue>) {
        let r = &mut self.rows;
        let w = r.settings.window;
        r.begin(row, rec, issue, Some(list::UNIT), true);
        let feeds = Feeds::of(&[
            InputKey::OperatingBlacklist,
            InputKey::OperatingRedBlackSubjects,
        ]);
        let code_cell = r.cell(rec, list::CODE);
        let status = r.code(rec, list::CODE, true, feeds, feeds, false);
        let _ = r.required(rec, list::NAME, Feeds::NONE);
        let kind = r.category(rec, list::KIND, &LIST_KINDS, true, feeds);
        let _ = r.required(rec, list::DOMAIN, Feeds::NONE);
        let _ = r.required(rec, list::UNIT, Feeds::NONE);
        let decided = r.day(rec, list::DECIDED, true, feeds);
        let removed = if r.has(list::REMOVED) {
            r.day(
                rec,
                list::REMOVED,
                false,
                Feeds::of(&[InputKey::BlacklistExited]),
            )
        } else {
            None
        };
        let reason = if r.has(list::REASON) {
            r.category(
                rec,
                list::REASON,
                &REMOVAL_REASONS,
                false,
                Feeds::of(&[InputKey::BlacklistExited]),
            )
            .map(|i| match i {
                0 => RemovalReason::Rectified,
                1 => RemovalReason::Repaired,
                2 => RemovalReason::Expired,
                _ => RemovalReason::Other,
            })
        } else {
            None
        };
        let trained = if r.has(list::TRAINED) {
            r.day(
                rec,
                list::TRAINED,
                false,
                Feeds::of(&[InputKey::RepairTrained]),
            )
        } else {
            None
        };
        let report = if r.has(list::REPORT) {
            r.day(
                rec,
                list::REPORT,
                false,
                Feeds::of(&[InputKey::ReportsSubmitted]),
            )
        } else {
            None
        };
        if let (Some(d), Some(x)) = (decided, removed) {
            if x < d {
                r.push(
                    rec,
                    ProblemKind::DateOrder,
                    Some(list::REMOVED),
                    format!("移出日期 {x} 早于认定日期 {d},应不早于认定日期"),
                    None,
                    Feeds::NONE,
                );
            }
        }
        let (Some(kind), Some(decided)) = (kind, decided) else {
            return;
        };
        if !matches!(status, CodeStatus::Valid | CodeStatus::Wrong(_)) {
            return;
        }
        if decided <= w.end && is_legal_code(code_cell) {
            self.facts.portal_records += 1;
        }
        self.facts.entries.push(ListEntry {
            code: CodeKey::of(code_cell),
            black: kind == 1,
            decided,
            removed,
            reason,
            trained,
            report,
            row,
        });
    }
}

impl Checker for ListChecker<'_> {
    fn finish(self: Box<Self>) -> Result<(Facts, Vec<Problem>), FileError> {
        self.rows.region_check()?;
        Ok((Facts::Lists(self.facts), self.rows.problems))
    }
}

// ---------------------------------------------------------------- commitments

/// 主动公示型 is also written 主动承诺型 (the rubric's word); both are the first kind.
const COMMITMENT_KINDS: [&str; 6] = [
    "主动公示型",
    "行业自律型",
    "审批替代型",
    "容缺受理型",
    "信用修复型",
    "主动承诺型",
];

struct CommitmentChecker<'s> {
    rows: Rows<'s>,
    facts: CommitmentFacts,
}

impl RowSink for CommitmentChecker<'_> {
    fn header(&mut self, header: &[&str]) -> Result<(), FileError> {
        header_into(&mut self.rows, header)
    }

    fn row(&mut self, row: u64, rec: &Record<'_>, issue: Option<RowIssue>) {
        let r = &mut self.rows;
        let w = r.settings.window;
        let unit_col = r.has(commitment::UNIT).then_some(commitment::UNIT);
        r.begin(row, rec, issue, unit_col, true);
        let kind = r.cell(rec, commitment::KIND);
        let feeds = match kind {
            "主动公示型" | "主动承诺型" => Feeds::of(&[InputKey::VoluntaryCommitments]),
            "行业自律型" => Feeds::of(&[InputKey::SelfDisciplineCommitments]),
            "信用修复型" => Feeds::of(&[InputKey::RepairCommitments]),
            _ => Feeds::NONE,
        };
        let code_cell = r.cell(rec, commitment::CODE);
        let status = r.code(rec, commitment::CODE, true, feeds, feeds, false);
        let kind = r.category(rec, commitment::KIND, &COMMITMENT_KINDS, true, Feeds::NONE);
        let date = r.day(rec, commitment::DATE, true, feeds);
        let (Some(kind), Some(date)) = (kind, date) else {
            return;
        };
        let has_code = matches!(status, CodeStatus::Valid | CodeStatus::Wrong(_));
        if has_code && date <= w.end && is_legal_code(code_cell) {
            self.facts.portal_records += 1;
        }
        if w.contains(date) {
            match kind {
                0 | 5 => self.facts.voluntary_in_window += 1,
                1 => self.facts.self_discipline_in_window += 1,
                _ => {}
            }
        }
        if kind == 4 && has_code {
            self.facts.repair.push((CodeKey::of(code_cell), date));
        }
    }
}

impl Checker for CommitmentChecker<'_> {
    fn finish(self: Box<Self>) -> Result<(Facts, Vec<Problem>), FileError> {
        self.rows.region_check()?;
        Ok((Facts::Commitments(self.facts), self.rows.problems))
    }
}

// ---------------------------------------------------------------- approval items

struct ApprovalChecker<'s> {
    rows: Rows<'s>,
    facts: ApprovalFacts,
}

impl RowSink for ApprovalChecker<'_> {
    fn header(&mut self, header: &[&str]) -> Result<(), FileError> {
        header_into(&mut self.rows, header)?;
        self.facts.has_35_column = self.rows.has(approval::IN_35);
        Ok(())
    }

    fn row(&mut self, row: u64, rec: &Record<'_>, issue: Option<RowIssue>) {
        let r = &mut self.rows;
        let unit_col = r.has(approval::UNIT).then_some(approval::UNIT);
        r.begin(row, rec, issue, unit_col, true);
        let _ = r.required(
            rec,
            approval::NAME,
            Feeds::of(&[InputKey::ApprovalItemsTotal]),
        );
        let substitution = r.yes_no(
            rec,
            approval::SUBSTITUTION,
            true,
            Feeds::of(&[InputKey::SubstitutionItems]),
        );
        let tolerance = r.yes_no(
            rec,
            approval::TOLERANCE,
            true,
            Feeds::of(&[InputKey::ToleranceItems]),
        );
        let in_35 = !self.facts.has_35_column
            || r.yes_no(
                rec,
                approval::IN_35,
                false,
                Feeds::of(&[InputKey::SubstitutionItems]),
            );
        self.facts.total += 1;
        if substitution && in_35 {
            self.facts.substitution += 1;
        }
        if tolerance {
            self.facts.tolerance += 1;
        }
    }
}

impl Checker for ApprovalChecker<'_> {
    fn finish(self: Box<Self>) -> Result<(Facts, Vec<Problem>), FileError> {
        Ok((Facts::ApprovalItems(self.facts), self.rows.problems))
    }
}

// ---------------------------------------------------------------- cases

struct CaseChecker<'s> {
    rows: Rows<'s>,
    facts: CaseFacts,
}

impl RowSink for CaseChecker<'_> {
    fn header(&mut self, header: &[&str]) -> Result<(), FileError> {
        header_into(&mut self.rows, header)
    }

    fn row(&mut self, row: u64, rec: &Record<'_>, issue: Option<RowIssue>) {
        let r = &mut self.rows;
        r.begin(row, rec, issue, None, false);
        let feeds = Feeds::of(&[InputKey::JrpCases]);
        self.facts.total += 1;
        let status = r.code(rec, case::CODE, true, feeds, feeds, false);
        let departments: HashSet<&str> = r
            .cell(rec, case::DEPARTMENTS)
            .split(['、', ';', '\u{FF1B}', ',', '\u{FF0C}'])
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .collect();
        if departments.is_empty() {
            let _ = r.required(rec, case::DEPARTMENTS, feeds);
        } else if departments.len() < 2 {
            r.push(
                rec,
                ProblemKind::MissingField,
                Some(case::DEPARTMENTS),
                "实施部门只有 1 个:有效的联合奖惩案例须由两个以上部门实施(多个部门以“、”或“;”分隔)"
                    .into(),
                None,
                feeds,
            );
        }
        let _ = r.required(rec, case::MEASURES, Feeds::NONE);
        let effect = r.required(rec, case::EFFECT, feeds).is_some();
        if r.has(case::DATE) {
            let _ = r.day(rec, case::DATE, false, Feeds::NONE);
        }
        if status == CodeStatus::Valid && departments.len() >= 2 && effect {
            self.facts.valid += 1;
        }
    }
}

impl Checker for CaseChecker<'_> {
    fn finish(self: Box<Self>) -> Result<(Facts, Vec<Problem>), FileError> {
        self.rows.region_check()?;
        Ok((Facts::Cases(self.facts), self.rows.problems))
    }
}

#[cfg(test)]
mod tests {
    use super::{FirstSeen, mix};

    #[test]
    fn first_seen_keeps_the_first_value_across_growth() {
        let mut t = FirstSeen::new();
        for i in 1..100_000u64 {
            assert_eq!(
                t.first_or_insert(mix(i), i as u32, i as u32),
                (i as u32, i as u32)
            );
        }
        for i in 1..100_000u64 {
            assert_eq!(t.first_or_insert(mix(i), 7, 7), (i as u32, i as u32), "{i}");
        }
        // Key 0 (mix(0) is 0, so none above) is stored as 1 and found again.
        assert_eq!(t.first_or_insert(0, 1, 2), (1, 2));
        assert_eq!(t.first_or_insert(0, 3, 4), (1, 2));
        assert!(t.slots.len() * 7 >= t.len * 8);
    }
}
