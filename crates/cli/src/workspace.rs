//! The workspace commands: thin wrappers that call `creditcity-app` and print.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use creditcity_app::{Actor, AppError, SetValue, Workspace};
use creditcity_rubric::{Rubric, format};
use creditcity_store::{AuditFilter, Decision, EvidenceId, Location, StoreError, TaskStatus};

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
            AppError::FileRead { .. } | AppError::FileWrite { .. } => 4,
            AppError::Store(StoreError::Db(_) | StoreError::Migrate(_) | StoreError::Io(_) | StoreError::Corrupt(_)) | AppError::Package(_) => 5,
            _ => 1,
        };
        let hint = match &e {
            AppError::Store(StoreError::NoStore(_)) => Some("先用 creditcity init --city 城市名 建立存储,或用 --store 指向已有的存储".to_owned()),
            AppError::Inputs(_) => Some("键与单位见 creditcity rubric show 规则编号;比率可写作 0.018 或 1.8%".to_owned()),
            AppError::Workbook(_) => Some("请导入由 creditcity export template 生成并填写的工作簿(.xlsx、.xls 或 .ods)".to_owned()),
            _ => None,
        };
        let message = match e {
            AppError::Inputs(errors) => format!(
                "{} 处输入错误,未保存任何改动:\n{}",
                errors.0.len(),
                errors.0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n")
            ),
            AppError::Plan(issues) => format!(
                "计划文件有 {} 处错误,未导入任何内容:\n{}",
                issues.len(),
                issues.iter().map(|i| format!("  {i}")).collect::<Vec<_>>().join("\n")
            ),
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
            .map_err(|e| Failure { code: 5, message: format!("无法启动运行时:{e}"), hint: None })
    }

    pub async fn open(&self) -> Result<Workspace, Failure> {
        Ok(Workspace::open(&self.location, self.rubric.clone(), self.assessment.as_deref()).await?)
    }

    /// Every city of the store: for what is store-wide (provinces, any account).
    pub async fn open_all(&self) -> Result<creditcity_app::Workspaces, Failure> {
        Ok(creditcity_app::Workspaces::open(&self.location, self.rubric.clone(), None).await?)
    }
}

pub fn read(path: &Path) -> Result<String, Failure> {
    Ok(creditcity_app::files::read_text(path)?)
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
        let status = t.status.label();
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
            return Err(Failure { code: 2, message: "set 需要“键 值”,或 --file 文件".to_owned(), hint: None });
        };
        let item = SetValue {
            key,
            text: value,
            unit: a.unit,
            source: a.source,
            source_ref: a.source_ref.unwrap_or_default(),
            note: a.note.unwrap_or_default(),
            evidence_ids: a.evidence.into_iter().map(EvidenceId).collect(),
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
    if !p.invalid.is_empty() {
        out.push_str(&format!("\n无法计分的规则 {} 条(存储中的值不符合细则的关系,已从得分中剔除):\n", p.invalid.len()));
        for r in &p.invalid {
            out.push_str(&format!("  {}:{}\n", r.rule_id, r.reasons.join(";")));
        }
    }
    if !p.overdue.is_empty() {
        out.push_str(&format!("\n逾期任务 {} 项:\n", p.overdue.len()));
        for o in p.overdue.iter().take(20) {
            let status = o.status.label();
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
            "  #{} {} = {} · {} · {} · 来源 {} · 评审 {} · {current}{}",
            r.id,
            r.set_at,
            r.value_json,
            r.set_by,
            r.unit.as_deref().unwrap_or("—"),
            creditcity_app::provenance(r.source_kind, &r.source_ref),
            r.review_state.label(),
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
    // The whole store, every city: no assessment to name.
    let ws = ctx.open_all().await?;
    let s = ws.backup(dir).await?;
    ws.close().await;
    Ok(format!("已备份到 {}:数据库快照和 {} 个佐证材料文件({} 字节)\n", dir.display(), s.files, s.bytes))
}

pub async fn restore(ctx: &Context, dir: &Path) -> Result<String, Failure> {
    creditcity_app::restore(dir, &ctx.location).await?;
    Ok(format!("已从 {} 恢复到 {}\n", dir.display(), ctx.location.db.display()))
}

pub async fn migrate(ctx: &Context, to: &Location) -> Result<String, Failure> {
    if to.file().is_some() && to.exists().await.map_err(creditcity_app::AppError::from)? {
        return Err(Failure { code: 1, message: format!("{} 已存在;迁移不会覆盖现有存储", to.db.display()), hint: None });
    }
    let report = creditcity_app::migrate(&ctx.location, to, &ctx.rubric).await?;
    let mut out = format!("已将 {} 迁移到 {}:\n", ctx.location.db.display(), to.db.display());
    for (table, rows) in &report.copied.tables {
        out.push_str(&format!("  {table}:{rows} 行\n"));
    }
    out.push_str(&format!("  文件:{} 个\n", report.copied.files));
    for (a, total) in &report.scored {
        out.push_str(&format!("评估 {}({} {}):两边得分相同,总分 {}\n", a.id, a.city, a.period, creditcity_rubric::format::points(*total)));
    }
    for a in &report.compared {
        out.push_str(&format!(
            "评估 {}({} {}):规则版本 {} 未载入,未计分;每条填报记录及审计记录两边相同\n",
            a.id, a.city, a.period, a.rubric_edition
        ));
    }
    Ok(out)
}

pub async fn check(ctx: &Context) -> Result<String, Failure> {
    // The whole store, every city: no assessment to name.
    let ws = ctx.open_all().await?;
    let report = ws.check().await?;
    ws.close().await;
    let s = report.summary;
    if report.broken.is_empty() {
        return Ok(format!("存储完好:{} 条填报记录,{} 个佐证材料文件校验一致,{} 条审计记录\n", s.values, s.files, s.audit_entries));
    }
    let mut message = String::from("存储中的当前值不符合细则的关系:");
    for b in &report.broken {
        let _ = write!(message, "\n  评估 {}({} {}):", b.assessment.id, b.assessment.city, b.assessment.period);
        for p in &b.problems {
            let _ = write!(message, "\n    {} {}", p.key, p.message);
        }
        let rules: Vec<&str> = b.invalid.iter().map(|r| r.rule_id.as_str()).collect();
        let _ = write!(message, "\n    受影响的规则:{}", rules.join("、"));
    }
    Err(Failure {
        code: 5,
        message,
        hint: Some("用 creditcity set 改正其中一个值(例如把部分改为不大于整体),再运行 creditcity check".to_owned()),
    })
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
                                       "cheapest": cheapest, "lifts_veto": plan.lifts_veto, "records": plan.records,
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
            // Every failed gate, each with its routes: either-or within a condition, all
            // of its failing conditions together.
            out.push_str("\n解除一票否决(每个未通过的硬指标;同一条件任选其一,各条件都须满足):\n");
            for (g, conditions) in plan.veto_routes() {
                let parts: Vec<String> = conditions
                    .iter()
                    .map(|routes| routes.iter().take(3).map(|s| format!("{} {}", s.target.label, s.target.change)).collect::<Vec<_>>().join(" 或 "))
                    .collect();
                let _ = writeln!(out, "  {g}:{}", parts.join(";并且 "));
            }
        }
        let records: Vec<_> = plan.records.iter().filter(|r| unit.is_none_or(|u| r.by_unit.iter().any(|(x, _)| x == u))).collect();
        if !records.is_empty() {
            out.push_str("\n修正记录(本市数据中的问题记录,修正后重新导入):\n");
            for r in records.iter().take(10) {
                let units: Vec<String> = r.by_unit.iter().take(5).map(|(u, n)| format!("{u} {n}")).collect();
                let stake = match (r.gates.is_empty(), r.at_stake > 0.005) {
                    (false, true) => format!("关系 {} 及 {} 分", r.gates.join("、"), format::points(r.at_stake)),
                    (false, false) => format!("关系 {}", r.gates.join("、")),
                    (true, _) => format!("关系 {} 分({})", format::points(r.at_stake), r.rules.join("、")),
                };
                let _ = writeln!(out, "  修正 {} 条记录({}):{stake};{}", r.problems, r.label, units.join("、"));
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
    creditcity_app::files::write_file(out, &bytes)?;
    Ok(format!("已导出 {}({} 字节):工作表“填报”中填写“填报值”一列后,用 creditcity import 导入\n", out.display(), bytes.len()))
}

pub async fn import_template(ctx: &Context, file: &Path, unit: Option<&str>) -> Result<String, Failure> {
    let bytes = creditcity_app::files::read_bytes(file)?;
    let ws = ctx.open().await?;
    let name = file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into_owned());
    let n = ws.import_template(&bytes, &name, unit, &ctx.actor).await?;
    ws.close().await;
    Ok(format!("已从 {} 导入 {n} 项有变化的数值(来源记为该文件及其 SHA-256)\n", file.display()))
}

/// `compare`: every assessment of the store, as text, JSON, or an .xlsx written to `out`.
pub async fn compare(location: &Location, rubrics: &[Rubric], today: &str, out: Option<&Path>, json: bool) -> Result<String, Failure> {
    let c = creditcity_app::compare::compare(location, rubrics, today).await?;
    if let Some(out) = out {
        let bytes = creditcity_app::compare::workbook(&c)?;
        creditcity_app::files::write_file(out, &bytes)?;
        let cities: usize = c.groups.iter().map(|g| g.cities.len()).sum();
        return Ok(format!("已导出城市对比 {}({cities} 个城市,{} 字节)\n", out.display(), bytes.len()));
    }
    Ok(if json { format!("{}\n", crate::compare::json(&c)) } else { crate::compare::text(&c) })
}

pub async fn export_scores(ctx: &Context, out: &Path, confirmed: bool) -> Result<String, Failure> {
    let ws = ctx.open().await?;
    let bytes = ws.export_scores(confirmed).await?;
    ws.close().await;
    creditcity_app::files::write_file(out, &bytes)?;
    Ok(format!("已导出评分表 {}({} 字节)\n", out.display(), bytes.len()))
}

pub async fn export_evidence(ctx: &Context, out: &Path) -> Result<String, Failure> {
    let ws = ctx.open().await?;
    // Written beside the target, renamed when complete and on disk: never a half-written package.
    let result = ws.export_evidence_to(out).await;
    ws.close().await;
    let s = result?;
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
    let html = creditcity_web::report::html(&ws).await.map_err(|e| Failure { code: 5, message: format!("生成报告失败:{e:?}"), hint: None })?;
    ws.close().await;
    creditcity_app::files::write_file(out, html.as_bytes())?;
    let mut said = format!("已生成自评报告 {}(可在浏览器中打开并打印)\n", out.display());
    if let Some(pdf) = pdf {
        creditcity_web::report::to_pdf(out, pdf).map_err(|m| Failure { code: 5, message: format!("PDF: {m}"), hint: None })?;
        said.push_str(&format!("已生成 PDF {}\n", pdf.display()));
    }
    Ok(said)
}

/// A new password: asked twice at a terminal, or one line of standard input.
pub fn read_new_password() -> Result<String, Failure> {
    use std::io::IsTerminal as _;
    let fail = |message: String| Failure { code: 1, message, hint: None };
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("新密码(至少 10 个字符):").map_err(|e| fail(format!("无法读取密码:{e}")))?;
        let again = rpassword::prompt_password("再输入一次:").map_err(|e| fail(format!("无法读取密码:{e}")))?;
        if first != again {
            return Err(fail("password: 两次输入的密码不一致,未作任何改动".to_owned()));
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map_err(|e| fail(format!("无法从标准输入读取密码:{e}")))?;
        let password = line.trim_end_matches(['\r', '\n']).to_owned();
        if password.is_empty() {
            return Err(Failure {
                code: 1,
                message: "password: 标准输入中没有密码".to_owned(),
                hint: Some("在终端中运行以输入密码,或通过管道提供一行密码:printf '%s\\n' \"$PASSWORD\" | creditcity user add …".to_owned()),
            });
        }
        Ok(password)
    }
}

/// The role of `user add`, and whether the account's place fits it (a province for a
/// province office, none for the others; a unit only for a unit member).
pub fn check_user_add(name: &str, role: &str, unit: Option<&str>, province: Option<&str>) -> Result<creditcity_app::accounts::Role, Failure> {
    use creditcity_app::accounts::Role;
    let Some(role) = Role::parse(role) else {
        let roles: Vec<String> = Role::ALL.iter().map(|r| format!("{}({})", r.as_str(), r.label())).collect();
        return Err(Failure { code: 1, message: format!("role: “{role}”不是角色;可用:{}", roles.join("、")), hint: None });
    };
    match (role, province, unit) {
        (Role::Province, None, _) => Err(Failure {
            code: 1,
            message: "province: 省信用办账号须指定省份".to_owned(),
            hint: Some(format!("creditcity user add {name} --role province --province 省名")),
        }),
        (Role::Province, Some(_), Some(_)) => Err(Failure { code: 1, message: "unit: 省信用办账号不属于单位".to_owned(), hint: None }),
        (Role::Province, Some(_), None) | (_, None, _) => Ok(role),
        (_, Some(_), _) => Err(Failure { code: 1, message: "province: 只有省信用办账号(--role province)属于省份".to_owned(), hint: None }),
    }
}

pub async fn user_add(ctx: &Context, name: &str, role: &str, unit: Option<&str>, province: Option<&str>, display_name: &str, password: &str) -> Result<String, Failure> {
    let role = check_user_add(name, role, unit, province)?;
    if let Some(p) = province {
        let all = ctx.open_all().await?;
        let user = all.create_province_user(name, display_name, password, p, &ctx.actor).await;
        all.close().await;
        let user = user?;
        return Ok(format!("已创建账号 {}({} · {})\n", user.username, user.role.label(), p.trim()));
    }
    let ws = ctx.open().await?;
    let unit_row = match unit {
        Some(u) => {
            let units = ws.units().await?;
            let Some(row) = units.into_iter().find(|x| x.name == u) else {
                ws.close().await;
                return Err(Failure { code: 1, message: format!("unit: 没有单位“{u}”"), hint: Some("单位名称见 creditcity plan show".to_owned()) });
            };
            Some(row)
        }
        None => None,
    };
    let user = ws.create_user(name, display_name, password, role, unit_row.as_ref(), &ctx.actor).await;
    let city = ws.assessment().city.clone();
    ws.close().await;
    let user = user?;
    let unit = user.unit.clone().map_or_else(String::new, |u| format!(" · {u}"));
    Ok(format!("已创建账号 {}({} · {city}{unit})\n", user.username, user.role.label()))
}

pub async fn user_passwd(ctx: &Context, name: &str, password: &str) -> Result<String, Failure> {
    let all = ctx.open_all().await?;
    let done = all.set_password(name, password, &ctx.actor).await;
    all.close().await;
    done?;
    Ok(format!("已更改 {name} 的密码\n"))
}

pub async fn user_assign(ctx: &Context, name: &str) -> Result<String, Failure> {
    let ws = ctx.open().await?;
    let (city_id, city) = (ws.assessment().city_id, ws.assessment().city.clone());
    ws.close().await;
    let all = ctx.open_all().await?;
    let done = all.assign_evaluator(name, city_id, &ctx.actor).await;
    all.close().await;
    done?;
    Ok(format!("评估专家 {name} 现在可以评估 {city}\n"))
}

pub async fn user_list(ctx: &Context) -> Result<String, Failure> {
    let all = ctx.open_all().await?;
    let result = async {
        let users = all.users().await?;
        let mut rows = Vec::with_capacity(users.len());
        for u in users {
            let cities = all.cities_of_account(u.id).await?;
            rows.push((u, cities));
        }
        Ok::<_, creditcity_app::AppError>(rows)
    }
    .await;
    all.close().await;
    let mut out = String::new();
    for (u, cities) in result? {
        let role = creditcity_app::accounts::Role::parse(&u.role).map_or_else(|| u.role.clone(), |r| r.label().to_owned());
        let seen: Vec<&str> = cities.iter().map(|c| c.name.as_str()).collect();
        let seen = if seen.len() > 4 { format!("{} 等 {} 个城市", seen[..3].join("、"), seen.len()) } else { seen.join("、") };
        let unit = u.unit.clone().map_or_else(String::new, |x| format!(" · {x}"));
        let _ = writeln!(out, "{} {} {} {seen}{unit}{}", pad(&u.username, 15), pad(&u.display_name, 22), pad(&role, 12), if u.active == 1 { "" } else { " (已停用)" });
    }
    Ok(out)
}

pub async fn city(ctx: &Context, division: Option<&str>, province: Option<&str>) -> Result<String, Failure> {
    let ws = ctx.open().await?;
    let city_id = ws.assessment().city_id;
    let result = async {
        if let Some(code) = division {
            ws.set_division(code, &ctx.actor).await?;
        }
        ws.division().await
    }
    .await;
    let city = ws.assessment().city.clone();
    ws.close().await;
    let division = result?;
    let mut out = match division {
        Some(code) => format!("{city}:行政区划代码 {code}\n"),
        None => format!("{city}:尚未设置行政区划代码(creditcity city --division 5108)\n"),
    };
    if let Some(p) = province {
        let all = ctx.open_all().await?;
        let done = all.set_province(city_id, p, &ctx.actor).await;
        all.close().await;
        let row = done?;
        let _ = writeln!(out, "{city} 属于 {}", row.name);
    }
    Ok(out)
}

pub async fn city_list(ctx: &Context) -> Result<String, Failure> {
    let all = ctx.open_all().await?;
    let cities = all.cities().await;
    all.close().await;
    let mut out = String::new();
    out.push_str("编号  城市            省份\n");
    for c in cities? {
        let _ = writeln!(out, "{} {} {}", pad(&c.id.to_string(), 5), pad(&c.name, 15), c.province.as_deref().unwrap_or("(未归属省份)"));
    }
    Ok(out)
}

pub async fn data_import(ctx: &Context, kind: &str, file: &Path, progress: Box<dyn FnMut(u64) + Send>) -> Result<String, Failure> {
    let ws = ctx.open().await?;
    let result = ws.import_dataset(kind, file, &ctx.actor, progress).await;
    ws.close().await;
    let r = result?;
    let mut out = format!(
        "已导入{} {}:{} 行,发现问题 {} 处(creditcity data problems 查看)\n",
        r.kind.label(),
        file.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        r.rows,
        r.problems
    );
    if !r.derived.is_empty() {
        out.push_str("由记录得出的输入:\n");
        for d in &r.derived {
            let _ = writeln!(out, "  {} = {}    {}", d.key, creditcity_rubric::format::plain(d.value), d.formula);
        }
    }
    for d in &r.overridden {
        let _ = writeln!(out, "  {} 保留手工填报值(记录得出 {},以手工值为准;要改用记录,先删除手工值)", d.key, creditcity_rubric::format::plain(d.value));
    }
    if !r.not_derived.is_empty() {
        out.push_str("尚不能得出:\n");
        for (key, why) in &r.not_derived {
            let _ = writeln!(out, "  {key}:{why}");
        }
    }
    Ok(out)
}

pub async fn data_status(ctx: &Context) -> Result<String, Failure> {
    let ws = ctx.open().await?;
    let status = ws.data_status().await;
    ws.close().await;
    let s = status?;
    let mut out = format!("行政区划代码:{}\n\n", s.division.as_deref().unwrap_or("未设置"));
    if s.datasets.is_empty() {
        out.push_str("尚未导入任何数据集(creditcity data import 类型 文件)\n");
    }
    for d in &s.datasets {
        let label = creditcity_data::DatasetKind::from_id(&d.kind).map_or(d.kind.as_str(), |k| k.label());
        let _ = writeln!(
            out,
            "{}{}{} 行  问题 {} 处  {}  {}",
            pad(label, 18),
            pad(&d.file_name, 24),
            d.rows,
            d.problems,
            creditcity_app::beijing_time(&d.imported_at),
            d.imported_by
        );
    }
    if !s.counts.is_empty() {
        out.push_str("\n问题(按数据集、类型、责任单位):\n");
        for (dataset, kind, unit, n) in &s.counts {
            let d = creditcity_data::DatasetKind::from_id(dataset).map_or(dataset.as_str(), |k| k.label());
            let k = creditcity_data::ProblemKind::from_id(kind).map_or(kind.as_str(), |k| k.label());
            let _ = writeln!(out, "  {}{}{}{n}", pad(d, 18), pad(k, 18), pad(unit.as_deref().unwrap_or("(未匹配单位)"), 26));
        }
    }
    out.push_str("\n可由记录得出的输入:\n");
    for i in &s.inputs {
        let from = match (&i.value, i.from_records) {
            (None, _) => "未填".to_owned(),
            (Some(v), true) => format!("{v}(记录得出)"),
            (Some(v), false) => format!("{v}(手工填报,优先于记录)"),
        };
        let _ = writeln!(out, "  {}{}{from}", pad(&i.key, 34), pad(&i.label, 30));
    }
    Ok(out)
}

pub async fn data_problems(ctx: &Context, unit: Option<&str>, kind: Option<&str>, dataset: Option<&str>, out: Option<&Path>, limit: u32) -> Result<String, Failure> {
    let ws = ctx.open().await?;
    let result = async {
        if let Some(path) = out {
            let bytes = ws.export_problems(unit, kind).await?;
            creditcity_app::files::write_file(path, &bytes)?;
        }
        ws.data_problems(unit, kind, dataset, Some(limit.saturating_add(1))).await
    }
    .await;
    ws.close().await;
    let rows = result?;
    let mut text = String::new();
    for p in rows.iter().take(limit as usize) {
        let d = creditcity_data::DatasetKind::from_id(&p.dataset_kind).map_or(p.dataset_kind.as_str(), |k| k.label());
        let _ = writeln!(
            text,
            "{d} 第 {} 行{}:{}({})",
            p.row_number,
            p.column_name.as_deref().map_or_else(String::new, |c| format!("「{c}」")),
            p.message,
            p.unit_name.as_deref().unwrap_or("未注明单位")
        );
    }
    if rows.len() > limit as usize {
        let _ = writeln!(text, "……仅列出前 {limit} 处(--limit 调整,-o 导出全部)");
    }
    if rows.is_empty() {
        text.push_str("没有问题记录\n");
    }
    if let Some(path) = out {
        let _ = writeln!(text, "已导出问题清单 {}", path.display());
    }
    Ok(text)
}

pub fn data_generate(dir: &Path, size: &str, seed: u64) -> Result<String, Failure> {
    use creditcity_data::generate::{CityProfile, Generator, Sizes};
    let sizes = match size {
        "demo" => Sizes::demo(),
        "typical" => Sizes::typical(),
        other => return Err(Failure { code: 2, message: format!("size: “{other}”应为 demo 或 typical"), hint: None }),
    };
    std::fs::create_dir_all(dir).map_err(|source| Failure::from(AppError::FileWrite { path: dir.to_path_buf(), source }))?;
    let expected = Generator::new(CityProfile::qingchuan(), seed, 0.02)
        .city(dir, &sizes)
        .map_err(|source| Failure::from(AppError::FileWrite { path: dir.to_path_buf(), source }))?;
    let rows: u64 = expected.datasets.values().map(|e| e.rows).sum();
    let problems: u64 = expected.datasets.values().map(creditcity_data::generate::Expected::problem_count).sum();
    Ok(format!(
        "已在 {} 生成青川市(行政区划代码 5108)的 {} 个数据集:共 {rows} 行,其中已知问题 {problems} 处\n导入:creditcity city --division 5108,然后 creditcity data import register {}/register.csv(其余同理)\n",
        dir.display(),
        expected.datasets.len(),
        dir.display()
    ))
}

pub async fn tokens(ctx: &Context, add: Option<&str>, revoke: Option<&str>) -> Result<String, Failure> {
    let ws = ctx.open().await?;
    let result = async {
        let mut out = String::new();
        if let Some(name) = add {
            let (row, token) = ws.create_api_token(name, &ctx.actor).await?;
            let _ = writeln!(out, "已为“{}”创建接口令牌(只能导入数据集),请立即保存,之后无法再次查看:\n{token}", row.name);
            return Ok(out);
        }
        if let Some(name) = revoke {
            ws.revoke_api_token(name, &ctx.actor).await?;
            let _ = writeln!(out, "已吊销接口令牌“{name}”");
            return Ok(out);
        }
        for t in ws.api_tokens().await? {
            let state = t.revoked_at.as_deref().map_or_else(|| "有效".to_owned(), |r| format!("已吊销 {}", creditcity_app::beijing_time(r)));
            let used = t.last_used_at.as_deref().map_or_else(|| "从未使用".to_owned(), |u| format!("最近使用 {}", creditcity_app::beijing_time(u)));
            let _ = writeln!(out, "{}{}{}{used}", pad(&t.name, 20), pad(&t.scope, 18), pad(&state, 26));
        }
        Ok::<_, AppError>(out)
    }
    .await;
    ws.close().await;
    Ok(result?)
}
