//! The self-assessment report (自评报告) as a printable HTML page: cover, summary with the
//! totals and the gates, a chart of sections against their maxima, every rule with its
//! explanation and evidence index, and the gap plan. `to_pdf` prints it with headless
//! Chromium, which embeds the (Debian `fonts-noto-cjk`) Chinese fonts it uses.

use std::path::Path;
use std::process::Command;

use creditcity_app::{ReviewState, Snapshot, Workspace};
use creditcity_rubric::{GateStatus, format};
use minijinja::Value;
use serde_json::json;

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
    let today = snap.today.clone();
    let r = ws.rubric();
    let (a, card) = &snap.scores.working;
    let gap_plan = ws.stored_gap_plan(snap).await?;
    let explained = snap.explanations(r);
    let sections: Vec<_> = r
        .sections
        .iter()
        .enumerate()
        .map(|(i, sec)| {
            let score = card.sections.get(i).copied().unwrap_or(0.0);
            let heading = format::section_heading(&sec.id, &sec.title);
            let rules: Vec<_> = r.rules[sec.rules.clone()]
                .iter()
                .zip(&card.rules[sec.rules.clone()])
                .zip(&explained[sec.rules.clone()])
                .map(|((rule, res), e)| {
                    let evidence: Vec<_> = rule
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
                            json!({ "text": text, "files": files.join("、") })
                        })
                        .collect();
                    json!({ "id": rule.id, "title": rule.title, "score": format::points(res.score), "max": format::plain(rule.max),
                            "explanation": e.text, "target": e.target, "evidence": evidence })
                })
                .collect();
            json!({ "heading": heading, "short": heading.chars().take(14).collect::<String>(), "score": format::points(score), "max": format::plain(sec.max),
                    "max_width": (sec.max * 16.0).round(), "score_width": (score * 16.0).round(), "rules": rules })
        })
        .collect();
    let gates = crate::pages::gates_json(r, a, card);
    let failed: Vec<&str> = r.gates.iter().zip(&card.gates).filter(|(_, x)| x.status == GateStatus::Failed).map(|(g, _)| g.id.as_str()).collect();
    let gaps: Vec<_> = gap_plan
        .gaps
        .iter()
        .map(|g| json!({ "rule": g.rule, "title": g.title, "lost": format::points(g.lost), "target": g.target, "units": g.units.join("、"), "deadline": g.deadline }))
        .collect();
    let by_unit: Vec<_> = gap_plan.by_unit.iter().map(|u| json!({ "unit": u.unit, "recoverable": format::points(u.recoverable), "rules": u.rules.join("、") })).collect();
    let count = |st: GateStatus| card.gates.iter().filter(|g| g.status == st).count();
    let ctx = Value::from_serialize(json!({
        "city": ws.assessment().city, "edition": ws.assessment().rubric_edition, "period": ws.assessment().period, "today": today,
        "total": format::points(card.total), "confirmed_total": format::points(snap.scores.confirmed.1.total), "bonus": format::points(card.bonus),
        "grand_total": format::points(card.grand_total), "veto": card.veto, "failed_gates": failed.join("、"),
        "gates_passed": count(GateStatus::Passed), "gates_incomplete": count(GateStatus::Incomplete),
        "sections": sections, "gates": gates, "gaps": gaps, "by_unit": by_unit,
        "recoverable": format::points(gap_plan.gaps.iter().map(|g| g.lost).sum::<f64>()),
    }));
    let views = VIEWS.get_or_init(crate::views::Views::new).as_ref().map_err(|e| WebError::Internal(e.clone()))?;
    Ok(views.render("report.html", ctx)?.0)
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
