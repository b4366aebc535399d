//! `creditcity compare`: every assessment of the store side by side, as a terminal
//! table and as JSON (the shape is documented in `docs/compare.md`).

use creditcity_app::compare::{CityScore, Comparison, Group, RANKING};
use creditcity_rubric::format;
use serde::Serialize;

use crate::text::{pad, pad_left};

#[derive(Debug, Serialize)]
pub struct CompareJson<'a> {
    pub today: &'a str,
    pub ranking: &'static str,
    pub groups: Vec<GroupJson<'a>>,
    pub unscored: Vec<UnscoredJson<'a>>,
    pub notes: &'a [String],
}

#[derive(Debug, Serialize)]
pub struct GroupJson<'a> {
    pub edition: &'a str,
    pub period: &'a str,
    pub total_max: f64,
    pub bonus_max: f64,
    pub sections: Vec<SectionHeadJson<'a>>,
    pub gates: Vec<GateHeadJson<'a>>,
    pub cities: Vec<CityJson<'a>>,
}

#[derive(Debug, Serialize)]
pub struct SectionHeadJson<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub max: f64,
    pub bonus: bool,
}

#[derive(Debug, Serialize)]
pub struct GateHeadJson<'a> {
    pub id: &'a str,
    pub title: &'a str,
}

#[derive(Debug, Serialize)]
pub struct CityJson<'a> {
    pub assessment: i64,
    pub city: &'a str,
    pub rank: u32,
    pub working: TotalsJson,
    pub confirmed: TotalsJson,
    pub gates: GatesJson<'a>,
    pub sections: Vec<SectionJson<'a>>,
    pub tasks: TasksJson,
    pub invalid_rules: Vec<InvalidJson<'a>>,
}

#[derive(Debug, Serialize)]
pub struct TotalsJson {
    pub total: f64,
    pub bonus: f64,
    pub grand_total: f64,
    pub veto: bool,
}

#[derive(Debug, Serialize)]
pub struct GatesJson<'a> {
    pub passed: usize,
    pub failed: usize,
    pub undecided: usize,
    /// Each gate's status: passed, failed or incomplete.
    pub by_gate: Vec<GateJson<'a>>,
}

#[derive(Debug, Serialize)]
pub struct GateJson<'a> {
    pub id: &'a str,
    pub status: &'static str,
}

#[derive(Debug, Serialize)]
pub struct SectionJson<'a> {
    pub id: &'a str,
    pub working: f64,
    pub confirmed: f64,
    pub max: f64,
}

#[derive(Debug, Serialize)]
pub struct TasksJson {
    pub total: usize,
    pub accepted: usize,
    pub submitted: usize,
    pub overdue: usize,
}

#[derive(Debug, Serialize)]
pub struct InvalidJson<'a> {
    pub rule: &'a str,
    pub reasons: &'a [String],
}

#[derive(Debug, Serialize)]
pub struct UnscoredJson<'a> {
    pub assessment: i64,
    pub city: &'a str,
    pub edition: &'a str,
    pub period: &'a str,
    pub reason: &'a str,
}

fn totals(t: creditcity_app::compare::Totals) -> TotalsJson {
    TotalsJson { total: t.total, bonus: t.bonus, grand_total: t.with_bonus(), veto: t.veto }
}

fn city_json<'a>(g: &'a Group, c: &'a CityScore) -> CityJson<'a> {
    let (passed, failed, undecided) = c.gate_counts();
    CityJson {
        assessment: c.assessment_id.0,
        city: &c.city,
        rank: c.rank,
        working: totals(c.working),
        confirmed: totals(c.confirmed),
        gates: GatesJson {
            passed,
            failed,
            undecided,
            by_gate: g.gates.iter().zip(&c.gates).map(|(h, s)| GateJson { id: &h.id, status: s.as_str() }).collect(),
        },
        sections: g
            .sections
            .iter()
            .zip(&c.sections)
            .map(|(h, s)| SectionJson { id: &h.id, working: s.working, confirmed: s.confirmed, max: h.max })
            .collect(),
        tasks: TasksJson { total: c.tasks.total, accepted: c.tasks.accepted, submitted: c.tasks.submitted, overdue: c.tasks.overdue },
        invalid_rules: c.invalid.iter().map(|i| InvalidJson { rule: &i.rule_id, reasons: &i.reasons }).collect(),
    }
}

/// The JSON document `compare --format json` prints.
pub fn json(c: &Comparison) -> String {
    let doc = CompareJson {
        today: &c.today,
        ranking: RANKING,
        groups: c
            .groups
            .iter()
            .map(|g| GroupJson {
                edition: &g.edition,
                period: &g.period,
                total_max: g.total_max,
                bonus_max: g.bonus_max,
                sections: g.sections.iter().map(|s| SectionHeadJson { id: &s.id, title: &s.title, max: s.max, bonus: s.bonus }).collect(),
                gates: g.gates.iter().map(|x| GateHeadJson { id: &x.id, title: &x.title }).collect(),
                cities: g.cities.iter().map(|x| city_json(g, x)).collect(),
            })
            .collect(),
        unscored: c
            .unscored
            .iter()
            .map(|u| UnscoredJson { assessment: u.assessment_id.0, city: &u.city, edition: &u.edition, period: &u.period, reason: &u.reason })
            .collect(),
        notes: &c.notes,
    };
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// The short column name of a section: its Chinese numeral, or 附加 for the bonus.
fn section_column(id: &str, title: &str, bonus: bool) -> String {
    if bonus {
        return "附加".to_owned();
    }
    let heading = format::section_heading(id, title);
    heading.split('、').next().unwrap_or(id).to_owned()
}

/// The terminal table: a block per edition and period.
pub fn text(c: &Comparison) -> String {
    let mut out = String::new();
    if c.groups.is_empty() && c.unscored.is_empty() {
        return "存储中还没有评估;先运行 creditcity init --city 城市名\n".to_owned();
    }
    for g in &c.groups {
        out.push_str(&format!("{} 版细则 · {} · {} 个城市 · 截至 {}\n", g.edition, g.period, g.cities.len(), c.today));
        let mut header = format!(
            "{}{}{}{}{}{}{}",
            pad_left("排名", 4),
            "  ",
            pad("城市", 12),
            pad_left("工作得分", 9),
            pad_left("附加项", 8),
            pad_left("确认得分", 9),
            pad_left("否决", 5),
        );
        header.push_str(&pad_left("硬指标 通过/否/待", 19));
        for s in &g.sections {
            header.push_str(&pad_left(&section_column(&s.id, &s.title, s.bonus), 7));
        }
        header.push_str(&pad_left("任务 通过/总", 14));
        header.push_str(&pad_left("逾期", 6));
        out.push_str(header.trim_end());
        out.push('\n');
        for city in &g.cities {
            let (passed, failed, undecided) = city.gate_counts();
            let mut line = format!(
                "{}{}{}{}{}{}{}",
                pad_left(&city.rank.to_string(), 4),
                "  ",
                pad(&city.city, 12),
                pad_left(&format::points(city.working.total), 9),
                pad_left(&format::points(city.working.bonus), 8),
                pad_left(&format::points(city.confirmed.total), 9),
                pad_left(if city.working.veto { "是" } else { "否" }, 5),
            );
            line.push_str(&pad_left(&format!("{passed}/{failed}/{undecided}"), 19));
            for s in &city.sections {
                line.push_str(&pad_left(&format::points(s.working), 7));
            }
            line.push_str(&pad_left(&format!("{}/{}", city.tasks.accepted, city.tasks.total), 14));
            line.push_str(&pad_left(&city.tasks.overdue.to_string(), 6));
            out.push_str(&line);
            out.push('\n');
        }
        let maxima: Vec<String> =
            g.sections.iter().map(|s| format!("{} {}", section_column(&s.id, &s.title, s.bonus), format::plain(s.max))).collect();
        out.push_str(&format!("各部分满分:{}\n", maxima.join(" · ")));
        for city in g.cities.iter().filter(|x| !x.invalid.is_empty()) {
            let rules: Vec<&str> = city.invalid.iter().map(|i| i.rule_id.as_str()).collect();
            out.push_str(&format!("{}:存储的数值违反细则,规则 {} 未计分(见 creditcity status)\n", city.city, rules.join("、")));
        }
        out.push('\n');
    }
    if !c.unscored.is_empty() {
        out.push_str("未参与对比\n");
        for u in &c.unscored {
            out.push_str(&format!("  {}({} 版 · {}):{}\n", u.city, u.edition, u.period, u.reason));
        }
        out.push('\n');
    }
    for note in &c.notes {
        out.push_str(note);
        out.push('\n');
    }
    out.push_str(RANKING);
    out.push('\n');
    out
}
