//! The datasets and their columns, and how a file's header row is matched to them: by
//! the Chinese name or the national field code (`XK_…`, `CF_…`), alone or together
//! (`行政相对人名称(XK_XDR_MC)`); extra columns are ignored and order is free.

use crate::FileError;

/// The seven datasets a city provides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DatasetKind {
    /// 市场主体名录
    Register,
    /// 行政许可
    Licences,
    /// 行政处罚
    Penalties,
    /// 红黑名单
    Lists,
    /// 信用承诺
    Commitments,
    /// 行政审批事项目录
    ApprovalItems,
    /// 联合奖惩案例
    Cases,
}

impl DatasetKind {
    pub const ALL: [DatasetKind; 7] = [
        DatasetKind::Register,
        DatasetKind::Licences,
        DatasetKind::Penalties,
        DatasetKind::Lists,
        DatasetKind::Commitments,
        DatasetKind::ApprovalItems,
        DatasetKind::Cases,
    ];

    /// The English id used on the command line and in URLs (`register`, `licences`, …).
    pub fn id(self) -> &'static str {
        match self {
            DatasetKind::Register => "register",
            DatasetKind::Licences => "licences",
            DatasetKind::Penalties => "penalties",
            DatasetKind::Lists => "lists",
            DatasetKind::Commitments => "commitments",
            DatasetKind::ApprovalItems => "approval_items",
            DatasetKind::Cases => "cases",
        }
    }

    /// The Chinese name.
    pub fn label(self) -> &'static str {
        match self {
            DatasetKind::Register => "市场主体名录",
            DatasetKind::Licences => "行政许可",
            DatasetKind::Penalties => "行政处罚",
            DatasetKind::Lists => "红黑名单",
            DatasetKind::Commitments => "信用承诺",
            DatasetKind::ApprovalItems => "行政审批事项目录",
            DatasetKind::Cases => "联合奖惩案例",
        }
    }

    pub fn from_id(id: &str) -> Option<DatasetKind> {
        DatasetKind::ALL.into_iter().find(|k| k.id() == id)
    }

    /// The columns of this dataset, required ones first in the spec's order.
    pub fn columns(self) -> &'static [Column] {
        match self {
            DatasetKind::Register => REGISTER,
            DatasetKind::Licences => LICENCES,
            DatasetKind::Penalties => PENALTIES,
            DatasetKind::Lists => LISTS,
            DatasetKind::Commitments => COMMITMENTS,
            DatasetKind::ApprovalItems => APPROVAL_ITEMS,
            DatasetKind::Cases => CASES,
        }
    }
}

/// A column of a dataset.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    /// The Chinese header name.
    pub name: &'static str,
    /// Other header names seen in exports.
    pub aliases: &'static [&'static str],
    /// The national field code, if any.
    pub code: Option<&'static str>,
    pub required: bool,
}

const fn req(name: &'static str, code: Option<&'static str>) -> Column {
    Column {
        name,
        aliases: &[],
        code,
        required: true,
    }
}
const fn opt(name: &'static str, code: Option<&'static str>) -> Column {
    Column {
        name,
        aliases: &[],
        code,
        required: false,
    }
}
const fn alias(mut c: Column, aliases: &'static [&'static str]) -> Column {
    c.aliases = aliases;
    c
}

// Column indices, by dataset. The arrays below are in this order.
pub(crate) mod reg {
    pub const NAME: usize = 0;
    pub const CODE: usize = 1;
    pub const CATEGORY: usize = 2;
    pub const STATUS: usize = 3;
    pub const FOUNDED: usize = 4;
    pub const OLD_NUMBER: usize = 5;
    pub const CLOSED: usize = 7;
    pub const ABNORMAL: usize = 8;
    pub const LOST: usize = 9;
    pub const RATING: usize = 10;
    pub const REPORT: usize = 11;
    pub const AUTHORITY: usize = 13;
}
static REGISTER: &[Column] = &[
    alias(req("名称", None), &["企业名称", "主体名称", "市场主体名称"]),
    req("统一社会信用代码", None),
    alias(req("主体类别", None), &["主体类型", "市场主体类别"]),
    alias(req("登记状态", None), &["经营状态"]),
    req("成立日期", None),
    alias(opt("原注册号", None), &["注册号"]),
    opt("组织机构代码", None),
    alias(opt("注销日期", None), &["注销/迁出日期"]),
    opt("经营异常", None),
    opt("失联", None),
    opt("公共信用综合评价", None),
    opt("信用报告提交日期", None),
    opt("所属区县", None),
    opt("登记机关", None),
];

/// Column indices shared by licences and penalties (the arrays differ; see `decision_columns`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct DecisionColumns {
    pub name: usize,
    pub category: usize,
    pub code: usize,
    pub number: usize,
    pub kind: usize,
    pub decided: usize,
    pub unit: usize,
    pub published: usize,
    pub uploaded: usize,
    pub valid_from: Option<usize>,
    pub valid_to: Option<usize>,
    /// Other required columns that need only be non-empty (许可机关; 违法行为类型, 处罚机关).
    pub plain_required: &'static [usize],
}

pub(crate) const LICENCE_COLUMNS: DecisionColumns = DecisionColumns {
    name: 0,
    category: 1,
    code: 2,
    number: 3,
    kind: 4,
    decided: 5,
    valid_from: Some(6),
    valid_to: Some(7),
    unit: 9,
    published: 15,
    uploaded: 18,
    plain_required: &[8],
};
static LICENCES: &[Column] = &[
    req("行政相对人名称", Some("XK_XDR_MC")),
    req("行政相对人类别", Some("XK_XDR_LB")),
    req("统一社会信用代码", Some("XK_XDR_SHXYM")),
    req("许可决定文书号", Some("XK_WSH")),
    req("许可类别", Some("XK_XKLB")),
    req("许可决定日期", Some("XK_JDRQ")),
    req("有效期自", Some("XK_YXQZ")),
    req("有效期至", Some("XK_YXQZI")),
    req("许可机关", Some("XK_XKJG")),
    req("数据来源单位", Some("XK_LYDW")),
    opt("许可机关代码", Some("XK_XKJGDM")),
    opt("数据来源单位代码", Some("XK_LYDWDM")),
    opt("法定代表人", Some("XK_FRDB")),
    opt("证件号码", Some("XK_XDR_ZJHM")),
    opt("工商注册号", Some("XK_XDR_GSZC")),
    opt("公示日期", None),
    opt("上报状态", None),
    opt("错误原因", None),
    alias(opt("上传时间", None), &["上报时间", "报送时间"]),
];

pub(crate) const PENALTY_COLUMNS: DecisionColumns = DecisionColumns {
    name: 0,
    category: 1,
    code: 2,
    number: 3,
    kind: 5,
    decided: 6,
    valid_from: None,
    valid_to: None,
    unit: 8,
    published: 13,
    uploaded: 16,
    plain_required: &[4, 7],
};
static PENALTIES: &[Column] = &[
    req("行政相对人名称", Some("CF_XDR_MC")),
    req("行政相对人类别", Some("CF_XDR_LB")),
    req("统一社会信用代码", Some("CF_XDR_SHXYM")),
    req("处罚决定书文号", Some("CF_WSH")),
    req("违法行为类型", Some("CF_WFXW")),
    req("处罚类别", Some("CF_CFLB")),
    req("处罚决定日期", Some("CF_JDRQ")),
    req("处罚机关", Some("CF_CFJG")),
    req("数据来源单位", Some("CF_SJLY")),
    opt("罚款金额", Some("CF_NR_FK")),
    opt("没收金额", Some("CF_NR_WFFF")),
    opt("处罚机关代码", Some("CF_CFJGDM")),
    opt("数据来源单位代码", Some("CF_SJLYDM")),
    opt("公示日期", None),
    opt("上报状态", None),
    opt("错误原因", None),
    alias(opt("上传时间", None), &["上报时间", "报送时间"]),
];

pub(crate) mod list {
    pub const CODE: usize = 0;
    pub const NAME: usize = 1;
    pub const KIND: usize = 2;
    pub const DOMAIN: usize = 3;
    pub const DECIDED: usize = 4;
    pub const UNIT: usize = 5;
    pub const REMOVED: usize = 6;
    pub const REASON: usize = 7;
    pub const TRAINED: usize = 8;
    pub const REPORT: usize = 9;
}
static LISTS: &[Column] = &[
    req("统一社会信用代码", None),
    alias(req("名称", None), &["主体名称"]),
    req("名单类型", None),
    req("领域", None),
    req("认定日期", None),
    req("认定单位", None),
    opt("移出日期", None),
    opt("移出原因", None),
    opt("修复培训日期", None),
    opt("信用报告提交日期", None),
];

pub(crate) mod commitment {
    pub const CODE: usize = 0;
    pub const KIND: usize = 1;
    pub const DATE: usize = 2;
    pub const UNIT: usize = 4;
}
static COMMITMENTS: &[Column] = &[
    req("统一社会信用代码", None),
    req("承诺类型", None),
    req("承诺日期", None),
    opt("事项", None),
    opt("受理单位", None),
];

pub(crate) mod approval {
    pub const NAME: usize = 0;
    pub const SUBSTITUTION: usize = 1;
    pub const TOLERANCE: usize = 2;
    pub const IN_35: usize = 3;
    pub const UNIT: usize = 4;
}
static APPROVAL_ITEMS: &[Column] = &[
    req("事项名称", None),
    req("实行审批替代型承诺", None),
    req("接受容缺受理型承诺", None),
    opt("属于国发〔2018〕35号19项", None),
    opt("实施单位", None),
];

pub(crate) mod case {
    pub const CODE: usize = 0;
    pub const DEPARTMENTS: usize = 1;
    pub const MEASURES: usize = 2;
    pub const EFFECT: usize = 3;
    pub const DATE: usize = 4;
}
static CASES: &[Column] = &[
    req("统一社会信用代码", None),
    req("实施部门", None),
    req("奖惩措施", None),
    req("实施效果", None),
    opt("日期", None),
];

/// Where each of a dataset's columns is in the file (`None`: absent).
#[derive(Clone, Debug)]
pub(crate) struct ColumnMap {
    pub index: Vec<Option<usize>>,
}

/// A header cell split into a name and a bracketed field code.
fn split_header(h: &str) -> (String, Option<String>) {
    let h: String = h
        .trim_start_matches('\u{FEFF}')
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let open = h.find(['(', '[', '\u{FF08}', '【']);
    match open {
        Some(i) => {
            let name = h[..i].to_string();
            let rest = &h[i..];
            let mut chars = rest.chars();
            chars.next();
            let inner: String = chars
                .take_while(|c| !matches!(c, ')' | ']' | '\u{FF09}' | '】'))
                .collect();
            (name, Some(inner))
        }
        None => (h, None),
    }
}

fn matches(col: &Column, name: &str, code: Option<&str>) -> bool {
    let by_name = !name.is_empty() && (col.name == name || col.aliases.contains(&name));
    let by_code = |c: &str| col.code.is_some_and(|k| k.eq_ignore_ascii_case(c));
    by_name || code.is_some_and(by_code) || by_code(name)
}

/// Map a header row to a dataset's columns.
pub(crate) fn map_columns(kind: DatasetKind, header: &[&str]) -> ColumnMap {
    let split: Vec<(String, Option<String>)> = header.iter().map(|h| split_header(h)).collect();
    let cols = kind.columns();
    let mut index = vec![None; cols.len()];
    for (ci, col) in cols.iter().enumerate() {
        index[ci] = split
            .iter()
            .position(|(n, c)| matches(col, n, c.as_deref()));
    }
    ColumnMap { index }
}

/// The columns a file must have to be read as `kind`, or the whole-file error.
pub(crate) fn resolve(kind: DatasetKind, header: &[&str]) -> Result<ColumnMap, FileError> {
    if header
        .iter()
        .all(|h| h.trim().trim_start_matches('\u{FEFF}').is_empty())
    {
        return Err(FileError::Empty);
    }
    let map = map_columns(kind, header);
    let missing: Vec<&'static str> = kind
        .columns()
        .iter()
        .zip(&map.index)
        .filter(|(c, i)| c.required && i.is_none())
        .map(|(c, _)| c.name)
        .collect();
    if missing.is_empty() {
        return Ok(map);
    }
    // Another kind whose required columns are all there: the file is that kind.
    let looks_like = DatasetKind::ALL
        .into_iter()
        .filter(|&k| k != kind)
        .filter(|&k| {
            let m = map_columns(k, header);
            k.columns()
                .iter()
                .zip(&m.index)
                .all(|(c, i)| !c.required || i.is_some())
        })
        .max_by_key(|&k| map_columns(k, header).index.iter().flatten().count());
    match looks_like {
        Some(other) => Err(FileError::WrongDataset {
            declared: kind,
            looks_like: other,
        }),
        None => Err(FileError::MissingColumns {
            dataset: kind,
            columns: missing,
        }),
    }
}
