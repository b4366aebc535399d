//! The plan file (任务分解): units and tasks as TOML, validated against the rubric.
//!
//! ```toml
//! [[units]]
//! name = "市信用办"
//! kind = "市直部门"
//!
//! [[tasks]]
//! code = "T7.2"
//! title = "法治环境"
//! rules = ["7.2a", "7.2b", "7.2c"]
//! lead = "人行青川市中心支行"
//! units = ["市发改委(市金融发展局)"]
//! due = "2019-03-01"
//! description = "…"
//! ```

use std::collections::HashSet;

use creditcity_rubric::Rubric;
use creditcity_store::{PlanData, PlanTask, PlanUnit};
use serde::Deserialize;
use toml::Spanned;

/// The kinds of unit a plan may name.
pub const UNIT_KINDS: [&str; 4] = ["市直部门", "县市区政府", "中直单位", "其他"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    #[serde(default)]
    units: Vec<Spanned<RawUnit>>,
    #[serde(default)]
    tasks: Vec<Spanned<RawTask>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUnit {
    name: String,
    kind: String,
    parent: Option<String>,
    #[serde(default)]
    contact: String,
    /// Other names the city's records use for the unit (数据来源单位, 认定单位…).
    #[serde(default)]
    aliases: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTask {
    code: String,
    title: String,
    rules: Vec<String>,
    lead: String,
    #[serde(default)]
    units: Vec<String>,
    due: Option<String>,
    #[serde(default)]
    description: String,
}

/// One problem in a plan file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanIssue {
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for PlanIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "第 {l} 行:{}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Parses and checks a plan; every problem at once, each with its line.
/// The longest unit name accepted, in characters.
pub const UNIT_NAME_MAX: usize = 60;

/// What is wrong with a unit's name and kind, wherever the unit comes from (a plan
/// file, the administration page): nothing when it is fine.
pub fn check_unit(name: &str, kind: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let n = name.trim().chars().count();
    if n == 0 {
        problems.push("单位名称不能为空".to_owned());
    } else if n > UNIT_NAME_MAX {
        problems.push(format!("单位名称“{name}”有 {n} 个字,最多 {UNIT_NAME_MAX} 个"));
    }
    if !UNIT_KINDS.contains(&kind) {
        problems.push(format!("单位“{}”的类型“{kind}”不在 {} 之中", name.trim(), UNIT_KINDS.join("、")));
    }
    problems
}

/// Checks a date as YYYY-MM-DD; the message says what was given and what is expected.
pub fn check_date(text: &str) -> Result<time::Date, String> {
    time::Date::parse(text, time::macros::format_description!("[year]-[month]-[day]")).map_err(|_| format!("“{text}”应为 YYYY-MM-DD 日期"))
}

pub fn parse(text: &str, rubric: &Rubric, known_units: &[String]) -> Result<PlanData, Vec<PlanIssue>> {
    let line_of = |offset: usize| text.as_bytes()[..offset.min(text.len())].split(|&b| b == b'\n').count();
    let raw: RawPlan = toml::from_str(text).map_err(|e| {
        vec![PlanIssue { line: e.span().map(|s| line_of(s.start)), message: e.message().trim().to_owned() }]
    })?;
    let mut issues = Vec::new();
    let mut names: HashSet<String> = known_units.iter().cloned().collect();
    let mut units = Vec::new();
    for spanned in raw.units {
        let line = Some(line_of(spanned.span().start));
        let u = spanned.into_inner();
        for message in check_unit(&u.name, &u.kind) {
            issues.push(PlanIssue { line, message });
        }
        if let Some(p) = &u.parent {
            if !names.contains(p) {
                issues.push(PlanIssue { line, message: format!("单位“{}”的上级“{p}”须先列出", u.name) });
            }
        }
        if !names.insert(u.name.clone()) && !known_units.contains(&u.name) {
            issues.push(PlanIssue { line, message: format!("单位“{}”重复", u.name) });
        }
        units.push(PlanUnit { name: u.name, kind: u.kind, parent: u.parent, contact: u.contact, aliases: u.aliases });
    }
    let mut codes = HashSet::new();
    let mut tasks = Vec::new();
    for spanned in raw.tasks {
        let line = Some(line_of(spanned.span().start));
        let t = spanned.into_inner();
        if !codes.insert(t.code.clone()) {
            issues.push(PlanIssue { line, message: format!("任务编号 {} 重复", t.code) });
        }
        if t.rules.is_empty() {
            issues.push(PlanIssue { line, message: format!("任务 {} 没有关联任何评分规则", t.code) });
        }
        for rule in &t.rules {
            if rubric.rule(rule).is_none() {
                issues.push(PlanIssue { line, message: format!("任务 {} 关联的规则 {rule} 不在 {} 版细则中", t.code, rubric.edition) });
            }
        }
        for unit in std::iter::once(&t.lead).chain(&t.units) {
            if !names.contains(unit) {
                issues.push(PlanIssue { line, message: format!("任务 {} 的责任单位“{unit}”未在 [[units]] 中列出", t.code) });
            }
        }
        if let Some(due) = &t.due {
            if let Err(message) = check_date(due) {
                issues.push(PlanIssue { line, message: format!("任务 {} 的期限{message}", t.code) });
            }
        }
        tasks.push(PlanTask {
            code: t.code,
            title: t.title,
            description: t.description,
            lead_unit: t.lead,
            units: t.units,
            rules: t.rules,
            due_date: t.due,
        });
    }
    if issues.is_empty() { Ok(PlanData { units, tasks }) } else { Err(issues) }
}
