//! The self-assessment report (自评报告) as a printable HTML page: cover, summary with the
//! totals and the gates, a chart of sections against their maxima, every rule with its
//! explanation and evidence index, and the gap plan. `to_pdf` prints it with headless
//! Chromium, which embeds the (Debian `fonts-noto-cjk`) Chinese fonts it uses.

use std::path::Path;
use std::process::Command;

use creditcity_app::{ReviewState, Snapshot, Workspace};
use creditcity_rubric::{GateStatus, format};
use serde::Serialize;

use crate::error::WebError;

/// The templates of the report, compiled once a process.
static VIEWS: std::sync::OnceLock<Result<crate::views::Views, String>> = std::sync::OnceLock::new();

/// Renders the report of the workspace's current values.
pub async fn html(ws: &Workspace) -> Result<String, WebError> {
    let snap = ws.snapshot(&creditcity_app::today()).await?;
    html_of(ws, &snap).await
}

/// Renders the report of a snapshot of the workspace (the one a page request holds).
pub async fn html_of(ws: &Workspace, snap: &Snapshot) -> Result<String, WebError> {
    let r = ws.rubric();
    let (a, card) = &snap.scores.working;
    let gap_plan = ws.stored_gap_plan(snap).await?;
    let explained = snap.explanations(r);
    // Borrowed from the snapshot and the rubric wherever it can be: the report is
    // rendered again after every change of the city.
    let sections: Vec<SectionView<'_>> = r
        .sections
        .iter()
        .enumerate()
        .map(|(i, sec)| {
            let score = card.sections.get(i).copied().unwrap_or(0.0);
            let heading = format::section_heading(&sec.id, &sec.title);
            let rules = r.rules[sec.rules.clone()]
                .iter()
                .zip(&card.rules[sec.rules.clone()])
                .zip(&explained[sec.rules.clone()])
                .map(|((rule, res), e)| {
                    let evidence = rule
                        .evidence
                        .iter()
                        .enumerate()
                        .map(|(n, text)| {
                            let files: Vec<&str> = snap
                                .evidence
                                .iter()
                                .filter(|x| x.rule_id == rule.id && x.item == Some(n as i64 + 1) && x.review_state != ReviewState::Returned)
                                .map(|x| x.original_name.as_str())
                                .collect();
                            EvidenceView { text, files: files.join("、") }
                        })
                        .collect();
                    RuleView { id: &rule.id, title: &rule.title, score: format::points(res.score), max: format::plain(rule.max), explanation: &e.text, target: e.target.as_deref(), evidence }
                })
                .collect();
            SectionView {
                short: heading.chars().take(14).collect(),
                heading,
                score: format::points(score),
                max: format::plain(sec.max),
                max_width: (sec.max * 16.0).round(),
                score_width: (score * 16.0).round(),
                rules,
            }
        })
        .collect();
    let failed: Vec<&str> = r.gates.iter().zip(&card.gates).filter(|(_, x)| x.status == GateStatus::Failed).map(|(g, _)| g.id.as_str()).collect();
    let gaps = gap_plan
        .gaps
        .iter()
        .map(|g| GapView { rule: &g.rule, title: &g.title, lost: format::points(g.lost), target: g.target.as_deref(), units: g.units.join("、"), deadline: g.deadline.as_deref() })
        .collect();
    let by_unit = gap_plan.by_unit.iter().map(|u| UnitGapView { unit: &u.unit, recoverable: format::points(u.recoverable), rules: u.rules.join("、") }).collect();
    let count = |st: GateStatus| card.gates.iter().filter(|g| g.status == st).count();
    let assessment = ws.assessment();
    let ctx = ReportView {
        city: &assessment.city,
        edition: &assessment.rubric_edition,
        period: &assessment.period,
        today: &snap.today,
        total: format::points(card.total),
        confirmed_total: format::points(snap.scores.confirmed.1.total),
        bonus: format::points(card.bonus),
        grand_total: format::points(card.grand_total),
        veto: card.veto,
        failed_gates: failed.join("、"),
        gates_passed: count(GateStatus::Passed),
        gates_incomplete: count(GateStatus::Incomplete),
        sections,
        gates: crate::pages::gates_json(r, a, card),
        gaps,
        by_unit,
        recoverable: format::points(gap_plan.gaps.iter().map(|g| g.lost).sum::<f64>()),
    };
    let views = VIEWS.get_or_init(crate::views::Views::new).as_ref().map_err(|e| WebError::Internal(e.clone()))?;
    Ok(views.render("report.html", ctx)?.0)
}

#[derive(Serialize)]
struct ReportView<'a> {
    city: &'a str,
    edition: &'a str,
    period: &'a str,
    today: &'a str,
    total: String,
    confirmed_total: String,
    bonus: String,
    grand_total: String,
    veto: bool,
    failed_gates: String,
    gates_passed: usize,
    gates_incomplete: usize,
    sections: Vec<SectionView<'a>>,
    gates: Vec<crate::pages::dashboard::GateView>,
    gaps: Vec<GapView<'a>>,
    by_unit: Vec<UnitGapView<'a>>,
    recoverable: String,
}

#[derive(Serialize)]
struct SectionView<'a> {
    heading: String,
    short: String,
    score: String,
    max: String,
    max_width: f64,
    score_width: f64,
    rules: Vec<RuleView<'a>>,
}

#[derive(Serialize)]
struct RuleView<'a> {
    id: &'a str,
    title: &'a str,
    score: String,
    max: String,
    explanation: &'a str,
    target: Option<&'a str>,
    evidence: Vec<EvidenceView<'a>>,
}

#[derive(Serialize)]
struct EvidenceView<'a> {
    text: &'a str,
    files: String,
}

#[derive(Serialize)]
struct GapView<'a> {
    rule: &'a str,
    title: &'a str,
    lost: String,
    target: Option<&'a str>,
    units: String,
    deadline: Option<&'a str>,
}

#[derive(Serialize)]
struct UnitGapView<'a> {
    unit: &'a str,
    recoverable: String,
    rules: String,
}

/// Prints an HTML file to PDF with headless Chromium (`CHROME` names another binary).
/// Fails, saying what to install, without Chromium or without a CJK font.
///
/// The report's CSS asks for WenQuanYi Micro Hei (fonts-wqy-microhei), a TrueType face
/// that Chromium embeds as a CID font: crisp at any zoom, selectable and searchable.
/// Without it another CJK font is used (Noto CJK is CFF, embedded as Type 3 outlines:
/// still vector and searchable).
pub fn to_pdf(html: &Path, pdf: &Path) -> Result<(), String> {
    let chrome = std::env::var("CHROME").unwrap_or_else(|_| "chromium".to_owned());
    let fonts = Command::new("fc-list").arg(":lang=zh").output().map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
    if fonts.trim().is_empty() {
        return Err("没有安装中文字体,PDF 中的中文将无法显示(apt-get install fonts-wqy-microhei)".to_owned());
    }
    // Printed beside the target and renamed when complete: never a half-written PDF.
    let name = pdf.file_name().map_or_else(|| "report.pdf".into(), |n| n.to_string_lossy().into_owned());
    let partial = pdf.with_file_name(format!(".{name}.partial-{}.pdf", std::process::id()));
    let result = print(&chrome, html, &partial);
    match result {
        Ok(()) => std::fs::rename(&partial, pdf).map_err(|e| format!("无法写入 {}:{e}", pdf.display())),
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

fn print(chrome: &str, html: &Path, pdf: &Path) -> Result<(), String> {
    let profile = tempfile::tempdir().map_err(|e| format!("无法建立临时目录:{e}"))?;
    let html = std::fs::canonicalize(html).map_err(|e| format!("{}: {e}", html.display()))?;
    let out = Command::new(chrome)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-pdf-header-footer"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .map_err(|e| format!("无法运行 {chrome}(apt-get install chromium):{e}"))?;
    let ok = std::fs::metadata(pdf).is_ok_and(|m| m.len() > 0);
    if out.status.success() && ok {
        Ok(())
    } else {
        Err(format!("{chrome} 未能生成 PDF:{}", String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("")))
    }
}
