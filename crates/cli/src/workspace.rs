//! The workspace commands: thin wrappers that call `creditcity-app` and print.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use creditcity_app::{Actor, AppError, SetValue, Workspace};
use creditcity_rubric::{Rubric, format};
use creditcity_store::{AuditFilter, Decision, Location, StoreError, TaskStatus};

use crate::text::{pad, pad_left};

/// A failure with its exit code: 1 for input a person can fix, 5 for the store.
pub struct Failure {
    pub code: u8,
    pub message: String,
    pub hint: Option<String>,
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        let code = match &e {
            AppError::Store(StoreError::Db(_) | StoreError::Migrate(_) | StoreError::Io(_) | StoreError::Corrupt(_)) => 5,
            _ => 1,
        };
        let hint = match &e {
            AppError::Store(StoreError::NotFound(m)) if m.starts_with("no store") => {
                Some("create one with `creditcity init --city 城市名`, or point to it with --store".to_owned())
            }
            AppError::Inputs(_) => Some("键与单位见 `creditcity rubric show 规则编号`;比率可写作 0.018 或 1.8%".to_owned()),
            _ => None,
        };
        let message = match e {
            AppError::Inputs(errors) => format!(
                "{} 处输入错误,未保存任何改动:\n{}",
                errors.0.len(),
                errors.0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n")
            ),
            AppError::Plan(m) => format!("计划文件有错误,未导入任何内容:\n{m}"),
            AppError::Cells(problems) => format!(
                "表格有 {} 处错误,未导入任何内容:\n{}",
                problems.len(),
                problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n")
            ),
            other => other.to_string(),
        };
        Self { code, message, hint }
    }
}

pub struct Context {
    pub location: Location,
    pub assessment: Option<String>,
    pub actor: Actor,
    pub rubric: Rubric,
}

impl Context {
    pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Failure { code: 5, message: format!("cannot start the runtime: {e}"), hint: None })
    }

    pub async fn open(&self) -> Result<Workspace, Failure> {
        Ok(Workspace::open(&self.location, self.rubric.clone(), self.assessment.as_deref()).await?)
    }
}

pub fn read(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| Failure { code: 4, message: format!("cannot read {}: {e}", path.display()), hint: None })
}

pub async fn init(ctx: &Context, city: &str, period: &str) -> Result<String, Failure> {
    let row = creditcity_app::init(&ctx.location, &ctx.rubric, city, period, &ctx.actor).await?;
    Ok(format!(
        "已创建评估 {}:{} · {} 版细则 · {}\n存储:{}(佐证材料目录 {})\n下一步:creditcity plan import 计划文件\n",
        row.id,
        row.city,
        row.rubric_edition,
        row.period,
        ctx.location.db.display(),
        ctx.location.evidence.display()
    ))
}

pub async fn plan_import(ctx: &Context, file: &Path) -> Result<String, Failure> {
    let text = read(file)?;
    let ws = ctx.open().await?;
    let s = ws.import_plan(&text, &ctx.actor).await?;
    ws.close().await;
    Ok(format!("已导入计划 {}:新增 {} 个单位、{} 项任务\n", file.display(), s.units_added, s.tasks_added))
}

pub async fn plan_show(ctx: &Context) -> Result<String, Failure> {
    let ws = ctx.open().await?;
    let tasks = ws.tasks().await?;
    let units = ws.units().await?;
    ws.close().await;
    let mut out = String::new();
    for t in &tasks {
        let status = TaskStatus::parse(&t.status).map_or(t.status.as_str(), |s| s.label());
        let others: Vec<&str> =
            t.participating_unit_ids.iter().filter_map(|id| units.iter().find(|u| u.id == *id)).map(|u| u.name.as_str()).collect();
        let _ = writeln!(
            out,
            "{}{}{}{} 规则 {} · 牵头 {}{}",
            pad(&t.code, 24),
            pad(&t.title, 34),
            pad(status, 8),
            pad(t.due_date.as_deref().unwrap_or("—"), 12),
            t.rules.join("、"),
            t.lead_unit,
            if others.is_empty() { String::new() } else { format!(" · 配合 {}", others.join("、")) }
        );
    }
    if tasks.is_empty() {
        out.push_str("(尚无任务;用 creditcity plan import 导入计划)\n");
    }
    Ok(out)
}

pub struct SetArgs {
    pub key: Option<String>,
    pub value: Option<String>,
    pub file: Option<PathBuf>,
    pub unit: Option<String>,
    pub source: Option<String>,
    pub source_ref: Option<String>,
    pub note: Option<String>,
    pub evidence: Vec<i64>,
}

pub async fn set(ctx: &Context, a: SetArgs) -> Result<String, Failure> {
    let ws = ctx.open().await?;
    let out = if let Some(file) = &a.file {
        let text = read(file)?;
        let n = ws.import_inputs(&text, &file.display().to_string(), a.unit.as_deref(), &ctx.actor).await?;
        format!("已从 {} 导入 {n} 项输入(来源记为该文件)\n", file.display())
    } else {
        let (Some(key), Some(value)) = (a.key, a.value) else {
            return Err(Failure { code: 2, message: "set needs KEY VALUE, or --file FILE".to_owned(), hint: None });
        };
        let item = SetValue {
            key,
            text: value,
            unit: a.unit,
            source: a.source,
            source_ref: a.source_ref.unwrap_or_default(),
            note: a.note.unwrap_or_default(),
            evidence_ids: a.evidence,
        };
        let rows = ws.set_values(std::slice::from_ref(&item), &ctx.actor).await?;
        let mut out = String::new();
        for r in rows {
            let _ = writeln!(out, "{} = {}(#{},{} · {})", r.input_key, r.value_json, r.id, r.unit.as_deref().unwrap_or("未指定单位"), r.set_at);
        }
        out
    };
    ws.close().await;
    Ok(out)
}

pub async fn attach(ctx: &Context, file: &Path, rule: &str, item: Option<i64>, task: Option<&str>, unit: Option<&str>) -> Result<String, Failure> {
    let ws = ctx.open().await?;
    let e = ws.attach(file, rule, item, task, unit, &ctx.actor).await?;
    let item_text = e.item.and_then(|i| {
        ws.rubric().rule(rule).and_then(|r| r.evidence.get(usize::try_from(i - 1).ok()?)).map(|t| format!("第 {i} 项:{t}"))
    });
    ws.close().await;
    Ok(format!(
        "已附佐证材料 #{}:{}({},{} 字节,SHA-256 {})\n规则 {rule}{}\n",
        e.id,
        e.original_name,
        e.media_type,
        e.size,
        &e.sha256[..16.min(e.sha256.len())],
        item_text.map_or_else(String::new, |t| format!(" · {t}"))
    ))
}

pub async fn review(ctx: &Context, target: &str, id: &str, decision: &str, comment: &str) -> Result<String, Failure> {
    let d = match decision {
        "accept" | "通过" => Decision::Accept,
        "return" | "退回" => Decision::Return,
        other => return Err(Failure { code: 1, message: format!("decision: “{other}”应为 accept 或 return"), hint: None }),
    };
    let ws = ctx.open().await?;
    ws.review(target, id, d, comment, &ctx.actor).await?;
    ws.close().await;
    Ok(format!("已{} {target} {id}\n", if d == Decision::Accept { "通过" } else { "退回" }))
}

pub async fn task(ctx: &Context, action: &str, code: &str) -> Result<String, Failure> {
    let to = match action {
        "start" => TaskStatus::InProgress,
        "submit" => TaskStatus::Submitted,
        other => return Err(Failure { code: 1, message: format!("task: “{other}”应为 start 或 submit"), hint: None }),
    };
    let ws = ctx.open().await?;
    ws.move_task(code, to, &ctx.actor).await?;
    ws.close().await;
    Ok(format!("任务 {code}:{}\n", to.label()))
}

pub async fn status(ctx: &Context, today: &str) -> Result<String, Failure> {
    let ws = ctx.open().await?;
    let p = ws.progress(today).await?;
    let a = ws.assessment().clone();
    ws.close().await;
    let mut out = format!(
        "{} · {} 版细则 · {} · 截至 {today}\n工作得分 {} / 100(附加项 {})   确认得分 {} / 100   一票否决:{}\n\n",
        a.city,
        a.rubric_edition,
        a.period,
        format::points(p.working_total),
        format::points(p.working_bonus),
        format::points(p.confirmed_total),
        if p.veto { "是" } else { "否" }
    );
    out.push_str(&format!(
        "{}{}{}{}{}{}\n",
        pad("部分", 34),
        pad_left("工作得分", 10),
        pad_left("确认得分", 10),
        pad_left("缺少输入", 10),
        pad_left("佐证材料", 12),
        pad_left("待争取", 8)
    ));
    for s in &p.sections {
        let title = format::section_heading(&s.id, &s.title);
        out.push_str(&format!(
            "{}{}{}{}{}{}\n",
            pad(&title, 34),
            pad_left(&format!("{}/{}", format::points(s.working), format::plain(s.max)), 10),
            pad_left(&format::points(s.confirmed), 10),
            pad_left(&format!("{}/{}", s.inputs_missing, s.inputs), 10),
            pad_left(&format!("{}/{}", s.evidence_items_with_files, s.evidence_items), 12),
            pad_left(&format::points(s.points_at_stake), 8)
        ));
    }
    out.push_str(&format!(
        "\n{}{}{}{}{}{}{}{}\n",
        pad("责任单位", 26),
        pad_left("未开始", 7),
        pad_left("进行中", 7),
        pad_left("已提交", 7),
        pad_left("已退回", 7),
        pad_left("已通过", 7),
        pad_left("逾期", 6),
        pad_left("待争取分", 10)
    ));
    for u in p.units.iter().filter(|u| u.tasks.iter().sum::<usize>() > 0) {
        out.push_str(&format!(
            "{}{}{}{}{}{}{}{}\n",
            pad(&u.name, 26),
            pad_left(&u.tasks[0].to_string(), 7),
            pad_left(&u.tasks[1].to_string(), 7),
            pad_left(&u.tasks[2].to_string(), 7),
            pad_left(&u.tasks[3].to_string(), 7),
            pad_left(&u.tasks[4].to_string(), 7),
            pad_left(&u.overdue.to_string(), 6),
            pad_left(&format::points(u.points_at_stake), 10)
        ));
    }
    if !p.overdue.is_empty() {
        out.push_str(&format!("\n逾期任务 {} 项:\n", p.overdue.len()));
        for o in p.overdue.iter().take(20) {
            let status = TaskStatus::parse(&o.status).map_or(o.status.as_str(), |s| s.label());
            out.push_str(&format!("  {}{}{}期限 {} · {status}\n", pad(&o.code, 24), pad(&o.title, 30), pad(&o.lead_unit, 26), o.due_date));
        }
        if p.overdue.len() > 20 {
            out.push_str(&format!("  …另有 {} 项\n", p.overdue.len() - 20));
        }
    }
    Ok(out)
}

pub async fn history(ctx: &Context, key: &str) -> Result<String, Failure> {
    let ws = ctx.open().await?;
    let rows = ws.history(key).await?;
    let label = ws.rubric().input_id(key).map(|id| ws.rubric().input(id).label.clone()).unwrap_or_default();
    ws.close().await;
    let mut out = format!("{key}({label}):{} 次填报\n", rows.len());
    for r in &rows {
        let current = if r.superseded_at.is_none() { "当前" } else { "已被取代" };
        let _ = writeln!(
            out,
            "  #{} {} = {} · {} · {} · 来源 {} {} · 评审 {} · {current}{}",
            r.id,
            r.set_at,
            r.value_json,
            r.set_by,
            r.unit.as_deref().unwrap_or("—"),
            r.source_kind,
            r.source_ref,
            r.review_state,
            if r.note.is_empty() { String::new() } else { format!(" · 说明:{}", r.note) }
        );
    }
    Ok(out)
}

pub async fn audit(ctx: &Context, filter: AuditFilter) -> Result<String, Failure> {
    let ws = ctx.open().await?;
    let rows = ws.audit(filter).await?;
    ws.close().await;
    let mut out = String::new();
    for r in &rows {
        let _ = writeln!(
            out,
            "{} {} {} {} {} {} → {}",
            r.at,
            r.actor,
            r.action,
            r.entity,
            r.entity_id,
            r.before_json.as_deref().unwrap_or("—"),
            r.after_json.as_deref().unwrap_or("—")
        );
    }
    Ok(out)
}

pub async fn export_inputs(ctx: &Context, out: Option<&Path>) -> Result<String, Failure> {
    let ws = ctx.open().await?;
    let text = ws.export_inputs().await?;
    ws.close().await;
    match out {
        Some(path) => {
            std::fs::write(path, &text).map_err(|e| Failure { code: 4, message: format!("cannot write {}: {e}", path.display()), hint: None })?;
            Ok(format!("已导出到 {}\n", path.display()))
        }
        None => Ok(text),
    }
}

pub async fn backup(ctx: &Context, dir: &Path) -> Result<String, Failure> {
    let ws = ctx.open().await?;
    let s = ws.backup(dir).await?;
    ws.close().await;
    Ok(format!("已备份到 {}:数据库快照和 {} 个佐证材料文件({} 字节)\n", dir.display(), s.files, s.bytes))
}

pub async fn restore(ctx: &Context, dir: &Path) -> Result<String, Failure> {
    creditcity_app::restore(dir, &ctx.location).await?;
    Ok(format!("已从 {} 恢复到 {}\n", dir.display(), ctx.location.db.display()))
}

pub async fn check(ctx: &Context) -> Result<String, Failure> {
    let ws = ctx.open().await?;
    let s = ws.check().await?;
    ws.close().await;
    Ok(format!("存储完好:{} 条填报记录,{} 个佐证材料文件校验一致,{} 条审计记录\n", s.values, s.files, s.audit_entries))
}

pub async fn gaps(ctx: &Context, unit: Option<&str>, what_if: &[(String, String)], json: bool) -> Result<String, Failure> {
    let ws = ctx.open().await?;
    let (plan, _) = ws.gap_plan(what_if).await?;
    let before = if what_if.is_empty() { None } else { Some(ws.gap_plan(&[]).await?.0) };
    ws.close().await;
    if let Some(u) = unit {
        if !plan.by_unit.iter().any(|x| x.unit == u) && !plan.gaps.is_empty() {
            let known = ws_unit_hint(&plan);
            return Err(Failure { code: 1, message: format!("unit: “{u}”没有待争取的分数,或不是计划中的单位"), hint: Some(known) });
        }
    }
    let gaps: Vec<_> = plan.gaps.iter().filter(|g| unit.is_none_or(|u| g.units.iter().any(|x| x == u))).collect();
    if json {
        let cheapest: Vec<_> = plan.cheapest.iter().filter(|s| unit.is_none() || gaps.iter().any(|g| g.rule == s.of)).collect();
        let doc = serde_json::json!({ "total": plan.total, "bonus": plan.bonus, "veto": plan.veto, "gaps": gaps, "gates": plan.gates, "by_unit": plan.by_unit,
                                       "cheapest": cheapest, "lifts_veto": plan.lifts_veto,
                                       "before": before.as_ref().map(|b| serde_json::json!({ "total": b.total, "bonus": b.bonus, "veto": b.veto })) });
        return Ok(format!("{}\n", serde_json::to_string_pretty(&doc).unwrap_or_default()));
    }
    let mut out = String::new();
    if let Some(b) = &before {
        let _ = writeln!(
            out,
            "假设({}):总分 {} → {},附加项 {} → {},一票否决 {} → {}(未改动存储)\n",
            what_if.iter().map(|(k, v)| format!("{k} = {v}")).collect::<Vec<_>>().join(","),
            format::points(b.total),
            format::points(plan.total),
            format::points(b.bonus),
            format::points(plan.bonus),
            if b.veto { "是" } else { "否" },
            if plan.veto { "是" } else { "否" }
        );
    }
    let recoverable: f64 = gaps.iter().map(|g| g.recoverable).sum();
    let lost: f64 = gaps.iter().map(|g| g.lost).sum();
    let history = if lost - recoverable > 0.005 { format!(";另有 {} 分本期无法补救(历史数据)", format::points(lost - recoverable)) } else { String::new() };
    let _ = writeln!(
        out,
        "可争取 {} 分,共 {} 条规则{}{history}:\n",
        format::points(recoverable),
        gaps.len(),
        unit.map_or_else(String::new, |u| format!("({u})"))
    );
    for g in &gaps {
        let _ = writeln!(
            out,
            "{}{}{}  可争取 {}{}",
            pad(&g.rule, 7),
            pad(&g.title, 36),
            pad_left(&format!("{} / {}", format::points(g.score), format::plain(g.max)), 14),
            format::points(g.recoverable),
            g.deadline.as_ref().map_or_else(String::new, |d| format!(" · 期限 {d}"))
        );
        if let Some(t) = &g.target {
            let _ = writeln!(out, "       → {t}");
        }
        if !g.units.is_empty() {
            let _ = writeln!(out, "       责任单位:{}", g.units.join("、"));
        }
    }
    if unit.is_none() {
        if !plan.gates.is_empty() {
            out.push_str("\n未通过或待填报的基础性硬指标:\n");
            for g in &plan.gates {
                let _ = writeln!(out, "  {} {}({})", g.gate, g.title, g.status_label);
                if let Some(t) = &g.target {
                    let _ = writeln!(out, "       → {t}");
                }
            }
        }
        if !plan.lifts_veto.is_empty() {
            out.push_str("\n解除一票否决(每项一种做法,最省力的在前):\n");
            for s in plan.lifts_veto.iter().take(10) {
                let _ = writeln!(out, "  {} {}:{}", s.of, s.target.label, s.target.change);
            }
        }
        if !plan.cheapest.is_empty() {
            out.push_str("\n最省力的得分(每分所需改动最小的在前):\n");
            for s in plan.cheapest.iter().take(10) {
                let _ = writeln!(out, "  {} {}:{},得 {} 分", s.of, s.target.label, s.target.change, format::points(s.target.gain));
            }
        }
        out.push_str("\n本单位可争取的分数:\n");
        for u in plan.by_unit.iter().take(15) {
            let _ = writeln!(out, "  {}{}  {}", pad(&u.unit, 26), pad_left(&format::points(u.recoverable), 8), u.rules.join("、"));
        }
    }
    Ok(out)
}

fn ws_unit_hint(plan: &creditcity_app::gaps::GapPlan) -> String {
    let names: Vec<&str> = plan.by_unit.iter().map(|u| u.unit.as_str()).take(10).collect();
    format!("有待争取分数的单位:{}", names.join("、"))
}

pub async fn export_template(ctx: &Context, unit: Option<&str>, out: &Path) -> Result<String, Failure> {
    let ws = ctx.open().await?;
    let bytes = ws.export_template(unit).await?;
    ws.close().await;
    std::fs::write(out, &bytes).map_err(|e| Failure { code: 4, message: format!("cannot write {}: {e}", out.display()), hint: None })?;
    Ok(format!("已导出 {}({} 字节):工作表“填报”中填写“填报值”一列后,用 creditcity import 导入\n", out.display(), bytes.len()))
}

pub async fn import_template(ctx: &Context, file: &Path, unit: Option<&str>) -> Result<String, Failure> {
    let bytes = std::fs::read(file).map_err(|e| Failure { code: 4, message: format!("cannot read {}: {e}", file.display()), hint: None })?;
    let ws = ctx.open().await?;
    let name = file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into_owned());
    let n = ws.import_template(&bytes, &name, unit, &ctx.actor).await?;
    ws.close().await;
    Ok(format!("已从 {} 导入 {n} 项有变化的数值(来源记为该文件及其 SHA-256)\n", file.display()))
}

pub async fn export_scores(ctx: &Context, out: &Path, confirmed: bool) -> Result<String, Failure> {
    let ws = ctx.open().await?;
    let bytes = ws.export_scores(confirmed).await?;
    ws.close().await;
    std::fs::write(out, &bytes).map_err(|e| Failure { code: 4, message: format!("cannot write {}: {e}", out.display()), hint: None })?;
    Ok(format!("已导出评分表 {}({} 字节)\n", out.display(), bytes.len()))
}

pub async fn export_evidence(ctx: &Context, out: &Path) -> Result<String, Failure> {
    let ws = ctx.open().await?;
    // Written beside the target, renamed when complete: never a half-written package.
    let tmp = out.with_extension("zip.partial");
    let file = std::fs::File::create(&tmp).map_err(|e| Failure { code: 4, message: format!("cannot write {}: {e}", tmp.display()), hint: None })?;
    let result = ws.export_evidence(std::io::BufWriter::new(file)).await;
    ws.close().await;
    let s = match result {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e.into());
        }
    };
    std::fs::rename(&tmp, out).map_err(|e| Failure { code: 4, message: format!("cannot write {}: {e}", out.display()), hint: None })?;
    Ok(format!(
        "已导出迎检材料 {}:{} 项佐证材料中 {} 项已有文件、{} 项缺;打包 {} 个文件\n",
        out.display(),
        s.items,
        s.items - s.items_missing,
        s.items_missing,
        s.files
    ))
}

pub async fn report(ctx: &Context, out: &Path, pdf: Option<&Path>) -> Result<String, Failure> {
    let ws = ctx.open().await?;
    let html = creditcity_web::report::html(&ws).await.map_err(|e| Failure { code: 5, message: format!("report: {e:?}"), hint: None })?;
    ws.close().await;
    std::fs::write(out, &html).map_err(|e| Failure { code: 4, message: format!("cannot write {}: {e}", out.display()), hint: None })?;
    let mut said = format!("已生成自评报告 {}(可在浏览器中打开并打印)\n", out.display());
    if let Some(pdf) = pdf {
        creditcity_web::report::to_pdf(out, pdf).map_err(|m| Failure { code: 5, message: format!("PDF: {m}"), hint: None })?;
        said.push_str(&format!("已生成 PDF {}\n", pdf.display()));
    }
    Ok(said)
}
