//! Scorecards rendered as a terminal report and as the JSON of spec §6.

use creditcity_app::gaps::Target;
use creditcity_rubric::{
    Assessment, GateStatus, Rubric, Scorecard, Status, explain_gate, explain_rule, format,
};
use serde::Serialize;

use crate::text::{pad, pad_left, width, wrap};

/// The JSON document `score --format json` prints (spec §6, with more fields).
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    pub rubric: &'a str,
    pub rubric_version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<&'a str>,
    pub total: f64,
    pub bonus: f64,
    pub grand_total: f64,
    pub veto: bool,
    pub sections: Vec<SectionReport<'a>>,
    pub rules: Vec<RuleReport<'a>>,
    pub gates: Vec<GateReport<'a>>,
}

#[derive(Debug, Serialize)]
pub struct SectionReport<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub score: f64,
    pub max: f64,
    pub bonus: bool,
}

#[derive(Debug, Serialize)]
pub struct RuleReport<'a> {
    pub id: &'a str,
    pub section: &'a str,
    pub title: &'a str,
    pub score: f64,
    pub max: f64,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hi: Option<u8>,
    /// Who scores or supplies the rule, when the rubric says so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<&'a str>,
    pub explanation: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Structured targets, cheapest first: `{input, current, required, delta, unit, gain, …}`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Target>,
    /// Inputs holding history this period cannot change (本期无法补救).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fixed: Vec<&'a str>,
    /// Points already earned by the inputs present, for an incomplete rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earned: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct GateReport<'a> {
    pub id: &'a str,
    pub hi: u8,
    pub title: &'a str,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<&'a str>,
    pub explanation: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Target>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fixed: Vec<&'a str>,
}

/// Builds the report: the scorecard with every explanation rendered.
pub fn report<'a>(rubric: &'a Rubric, a: &'a Assessment, card: &Scorecard) -> Report<'a> {
    let key = |id: creditcity_rubric::InputId| rubric.input(id).key.as_str();
    let rules = rubric
        .rules
        .iter()
        .zip(&card.rules)
        .map(|(rule, result)| {
            let e = explain_rule(rubric, rule, a, result);
            RuleReport {
                id: &rule.id,
                section: &rubric.section_of(rule).id,
                title: &rule.title,
                score: result.score,
                max: result.max,
                status: result.status().as_str(),
                missing: result.missing.iter().map(|id| key(*id)).collect(),
                hi: rule.hi,
                source: rule.source(),
                explanation: e.text,
                target: e.target,
                targets: e.alternatives.iter().map(|x| Target::new(rubric, x)).collect(),
                fixed: e.fixed.iter().map(|id| key(*id)).collect(),
                earned: e.earned,
            }
        })
        .collect();
    let gates = rubric
        .gates
        .iter()
        .zip(&card.gates)
        .map(|(gate, result)| {
            let e = explain_gate(rubric, gate, a, result);
            GateReport {
                id: &gate.id,
                hi: gate.hi,
                title: &gate.title,
                status: result.status.as_str(),
                missing: result.missing.iter().map(|id| key(*id)).collect(),
                explanation: e.text,
                target: e.target,
                targets: e.alternatives.iter().map(|x| Target::new(rubric, x)).collect(),
                fixed: e.fixed.iter().map(|id| key(*id)).collect(),
            }
        })
        .collect();
    let sections = rubric
        .sections
        .iter()
        .zip(&card.sections)
        .map(|(s, score)| SectionReport { id: &s.id, title: &s.title, score: *score, max: s.max, bonus: s.bonus })
        .collect();
    Report {
        rubric: &rubric.edition,
        rubric_version: &rubric.version,
        city: a.meta.city.as_deref(),
        period: a.meta.period.as_deref(),
        total: card.total,
        bonus: card.bonus,
        grand_total: card.grand_total,
        veto: card.veto,
        sections,
        rules,
        gates,
    }
}

/// The report as pretty JSON.
pub fn json(report: &Report<'_>) -> String {
    serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

const WIDTH: usize = 100;
const ID_COLS: usize = 7;
const TITLE_COLS: usize = 40;

fn score_cell(score: f64, max: f64) -> String {
    format!("{} / {}", pad_left(&format::points_below(score, max), 6), pad_left(&format::points(max), 6))
}

/// The report for a terminal: sections with subtotals, every rule with its reason,
/// the gates and the totals. Chinese is aligned by display width.
pub fn text(rubric: &Rubric, report: &Report<'_>) -> String {
    let mut out = String::new();
    let city = report.city.unwrap_or("(未命名城市)");
    let period = report.period.map_or_else(String::new, |p| format!(" · {p}"));
    out.push_str(&format!("{}\n{city}{period} · 细则版本 {}\n", rubric.title, report.rubric_version));
    out.push_str(&"═".repeat(WIDTH));
    out.push('\n');
    let indent = " ".repeat(ID_COLS + 2);
    for (section, sr) in rubric.sections.iter().zip(&report.sections) {
        let heading = format::section_heading(&section.id, &section.title);
        let cell = score_cell(sr.score, sr.max);
        out.push_str(&format!("\n{}{}\n", pad(&heading, WIDTH - width(&cell)), cell));
        out.push_str(&"─".repeat(WIDTH));
        out.push('\n');
        for rr in &report.rules[section.rules.clone()] {
            let mark = if rr.status == Status::Incomplete.as_str() { "  待填报" } else { "" };
            let hi = rr.hi.map_or_else(String::new, |h| format!(" ·{h}"));
            let title = format!("{}{hi}", rr.title);
            let cell = score_cell(rr.score, rr.max);
            let line = format!("  {}{}", pad(rr.id, ID_COLS), pad(&title, TITLE_COLS));
            out.push_str(&format!("{line}{}{cell}{mark}\n", " ".repeat(WIDTH.saturating_sub(width(&line) + width(&cell)))));
            for l in wrap(&rr.explanation, WIDTH - ID_COLS - 2) {
                out.push_str(&format!("{indent}{l}\n"));
            }
            if let Some(t) = &rr.target {
                for (i, l) in wrap(t, WIDTH - ID_COLS - 6).iter().enumerate() {
                    out.push_str(&format!("{indent}{} {l}\n", if i == 0 { "→" } else { " " }));
                }
            }
        }
    }
    out.push_str(&format!("\n基础性硬指标(一票否决)\n{}\n", "─".repeat(WIDTH)));
    for gr in &report.gates {
        let status = [GateStatus::Passed, GateStatus::Failed, GateStatus::Incomplete]
            .into_iter()
            .find(|x| x.as_str() == gr.status)
            .map_or("待填报", GateStatus::label);
        let line = format!("  {}{}", pad(gr.id, ID_COLS), pad(gr.title, WIDTH - ID_COLS - 12));
        out.push_str(&format!("{line}{}\n", pad_left(status, WIDTH.saturating_sub(width(&line)))));
        for l in wrap(&gr.explanation, WIDTH - ID_COLS - 2) {
            out.push_str(&format!("{indent}{l}\n"));
        }
        if gr.status != GateStatus::Passed.as_str() {
            if let Some(t) = &gr.target {
                for (i, l) in wrap(t, WIDTH - ID_COLS - 6).iter().enumerate() {
                    out.push_str(&format!("{indent}{} {l}\n", if i == 0 { "→" } else { " " }));
                }
            }
        }
    }
    out.push_str(&"═".repeat(WIDTH));
    out.push('\n');
    let failed: Vec<&str> = report.gates.iter().filter(|g| g.status == GateStatus::Failed.as_str()).map(|g| g.id).collect();
    let incomplete_gates = report.gates.iter().filter(|g| g.status == GateStatus::Incomplete.as_str()).count();
    let incomplete_rules = report.rules.iter().filter(|r| r.status == Status::Incomplete.as_str()).count();
    out.push_str(&format!(
        "总分 {} / {}    附加项 {} / {}    合计 {}\n",
        format::points(report.total),
        format::plain(rubric.total_max),
        format::points(report.bonus),
        format::plain(rubric.bonus_max),
        format::points(report.grand_total)
    ));
    let veto = if failed.is_empty() {
        if incomplete_gates > 0 { format!("一票否决:暂无(另有 {incomplete_gates} 项硬指标待填报)") } else { "一票否决:否,10 项基础性硬指标全部通过".to_owned() }
    } else {
        format!("一票否决:是(未通过:{})", failed.join("、"))
    };
    out.push_str(&veto);
    out.push('\n');
    if incomplete_rules > 0 {
        out.push_str(&format!("尚有 {incomplete_rules} 条评分规则缺少输入,暂按 0 分计\n"));
    }
    out
}
