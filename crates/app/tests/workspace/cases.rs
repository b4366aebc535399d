//! The workspace as a credit office uses it, against a real store: run once on SQLite
//! files and once on PostgreSQL databases (`super::location` of each backend).

use std::path::{Path, PathBuf};

use super::location;

use creditcity_app::{Actor, AppError, SetValue, Workspace, init, restore};
use creditcity_rubric::{Rubric, score};
use creditcity_store::{AuditFilter, Decision, Location, StoreError};

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn rubric() -> Rubric {
    Rubric::embedded_2019().unwrap_or_else(|e| panic!("{e}"))
}

fn actor(name: &str) -> Actor {
    Actor(name.to_owned())
}

fn set(key: &str, text: &str) -> SetValue {
    SetValue { key: key.to_owned(), text: text.to_owned(), ..SetValue::default() }
}

/// A store with the example city, its plan and every value of the complete example.
async fn example_city(dir: &Path) -> (Location, Workspace) {
    let location = location(dir, "city");
    init(&location, &rubric(), "青川市", "2019", &actor("信用办")).await.unwrap_or_else(|e| panic!("{e}"));
    let ws = Workspace::open(&location, rubric(), None).await.unwrap_or_else(|e| panic!("{e}"));
    let plan = std::fs::read_to_string(examples().join("qingchuan-plan.toml")).unwrap_or_else(|e| panic!("{e}"));
    ws.import_plan(&plan, &actor("信用办")).await.unwrap_or_else(|e| panic!("{e}"));
    let inputs = std::fs::read_to_string(examples().join("qingchuan-complete.toml")).unwrap_or_else(|e| panic!("{e}"));
    ws.import_inputs(&inputs, "qingchuan-complete.toml", Some("市信用办"), &actor("信用办"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (location, ws)
}

async fn audit_len(ws: &Workspace) -> usize {
    ws.audit(AuditFilter::default()).await.map_or_else(|e| panic!("audit: {e}"), |a| a.len())
}

#[tokio::test]
async fn the_example_plan_covers_every_rule_and_names_its_units() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (_, ws) = example_city(dir.path()).await;
    let tasks = ws.tasks().await.unwrap_or_else(|e| panic!("{e}"));
    let units = ws.units().await.unwrap_or_else(|e| panic!("{e}"));
    for rule in &rubric().rules {
        assert!(tasks.iter().any(|t| t.rules.contains(&rule.id)), "no task for rule {}", rule.id);
    }
    // The 20 key domains of rule 2.2 each have a task with the seed's lead unit.
    let domain_tasks: Vec<_> = tasks.iter().filter(|t| t.rules == ["2.2"]).collect();
    assert_eq!(domain_tasks.len(), 20);
    assert_eq!(domain_tasks[10].lead_unit, "市中级人民法院");
    assert_eq!(domain_tasks[19].lead_unit, "市司法局");
    // Section 四's production domain: the seed's three units.
    let production = tasks.iter().find(|t| t.code == "T4.production").unwrap_or_else(|| panic!("no T4.production"));
    assert_eq!(production.lead_unit, "市应急管理局");
    let names: Vec<&str> = production
        .participating_unit_ids
        .iter()
        .filter_map(|id| units.iter().find(|u| u.id == *id))
        .map(|u| u.name.as_str())
        .collect();
    assert_eq!(names, ["市市场监管局", "市农业农村局", "各县市区政府"]);
}

#[tokio::test]
async fn the_store_scores_like_the_file_and_like_its_export() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (_, ws) = example_city(dir.path()).await;
    let r = rubric();
    let text = std::fs::read_to_string(examples().join("qingchuan-complete.toml")).unwrap_or_else(|e| panic!("{e}"));
    let from_file = score(&r, &r.parse_assessment(&text).unwrap_or_else(|e| panic!("{e}")));
    let scores = ws.scores().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(scores.working.1, from_file);
    let exported = ws.export_inputs().await.unwrap_or_else(|e| panic!("{e}"));
    let again = score(&r, &r.parse_assessment(&exported).unwrap_or_else(|e| panic!("{e}\n{exported}")));
    assert_eq!(again, from_file);
    // Nothing is accepted yet: the confirmed score has nothing to count.
    assert!(scores.confirmed.1.total.abs() < 1e-12);
}

#[tokio::test]
async fn confirmed_scores_count_accepted_values_only() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (_, ws) = example_city(dir.path()).await;
    let reviewer = actor("评估专家");
    ws.review("input", "s7.npl_ratio", Decision::Accept, "与人行报表一致", &reviewer).await.unwrap_or_else(|e| panic!("{e}"));
    ws.review("input", "s7.major_risk", Decision::Return, "缺少说明材料", &reviewer).await.unwrap_or_else(|e| panic!("{e}"));
    let scores = ws.scores().await.unwrap_or_else(|e| panic!("{e}"));
    let rules = &rubric().rules;
    let i = rules.iter().position(|r| r.id == "7.1a").unwrap_or_else(|| panic!("no rule 7.1a"));
    let j = rules.iter().position(|r| r.id == "7.1b").unwrap_or_else(|| panic!("no rule 7.1b"));
    assert!((scores.confirmed.1.rules[i].score - scores.working.1.rules[i].score).abs() < 1e-12);
    assert!(scores.confirmed.1.rules[j].missing.len() == 1, "a returned value does not count");
    // A new value needs a new review: it is pending again.
    ws.set_values(&[set("s7.npl_ratio", "1.9%")], &actor("人行")).await.unwrap_or_else(|e| panic!("{e}"));
    let scores = ws.scores().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(scores.confirmed.1.rules[i].missing.len(), 1);
}

#[tokio::test]
async fn values_are_never_overwritten_silently() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (_, ws) = example_city(dir.path()).await;
    let item = SetValue {
        key: "s8.halls_connected".to_owned(),
        text: "13".to_owned(),
        unit: Some("市营商局".to_owned()),
        source: Some("document".to_owned()),
        source_ref: "青营商发〔2019〕3号".to_owned(),
        ..SetValue::default()
    };
    ws.set_values(&[item], &actor("李华")).await.unwrap_or_else(|e| panic!("{e}"));
    let history = ws.history("s8.halls_connected").await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].value_json, "14");
    assert!(history[0].superseded_at.is_some());
    assert_eq!(history[1].value_json, "13");
    assert_eq!(history[1].unit.as_deref(), Some("市营商局"));
    assert_eq!(history[1].source_ref, "青营商发〔2019〕3号");
    assert_eq!(history[1].set_by, "李华");
    let audit = ws
        .audit(AuditFilter { entity_id: Some("s8.halls_connected".to_owned()), ..AuditFilter::default() })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[1].before_json.as_deref(), Some("{\"value\":14}"));
}

#[tokio::test]
async fn a_form_save_writes_only_what_differs_from_the_stored_value() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (_, ws) = example_city(dir.path()).await;
    let history = |key: &'static str| {
        let ws = &ws;
        async move { ws.history(key).await.unwrap_or_else(|e| panic!("{e}")).len() }
    };
    let (civil, total) = (history("s3.civil_servants_with_file").await, history("s3.civil_servants_total").await);
    // The stored 15820 typed as the form shows it (with a thousands separator, full-width
    // digits): the same value, nothing written, no audit entry.
    let before = audit_len(&ws).await;
    let plan = ws.plan().await.unwrap_or_else(|e| panic!("{e}"));
    let written = ws
        .save_form(&plan, &[set("s3.civil_servants_with_file", "15,820"), set("s3.civil_servants_total", "１６３００")], &actor("组织部"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(written.is_empty(), "unchanged values were written again: {written:?}");
    assert_eq!(audit_len(&ws).await, before);
    // One field changed: only that one gets a new version.
    let written = ws
        .save_form(&plan, &[set("s3.civil_servants_with_file", "15,900"), set("s3.civil_servants_total", "16,300")], &actor("组织部"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(written.iter().map(|v| v.input_key.as_str()).collect::<Vec<_>>(), ["s3.civil_servants_with_file"]);
    assert_eq!(history("s3.civil_servants_with_file").await, civil + 1);
    assert_eq!(history("s3.civil_servants_total").await, total);
    assert_eq!(audit_len(&ws).await, before + 1);
    // set_values (the CLI's `set`) records a value again even when it is equal.
    ws.set_values(&[set("s3.civil_servants_total", "16300")], &actor("组织部")).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(history("s3.civil_servants_total").await, total + 1);
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (_, ws) = example_city(dir.path()).await;
    let before_scores = ws.scores().await.unwrap_or_else(|e| panic!("{e}")).working.1;
    let before_audit = audit_len(&ws).await;
    let who = actor("李华");

    // Unknown key, with a suggestion.
    let e = ws.set_values(&[set("s8.halls_conected", "3")], &who).await.err();
    assert!(matches!(&e, Some(AppError::Inputs(errs)) if errs.to_string().contains("s8.halls_connected")), "{e:?}");
    // Invalid value.
    let e = ws.set_values(&[set("s7.npl_ratio", "180")], &who).await.err();
    assert!(matches!(&e, Some(AppError::Inputs(errs)) if errs.0[0].key == "s7.npl_ratio"), "{e:?}");
    // A whole made smaller than its stored part.
    let e = ws.set_values(&[set("s8.halls_total", "10")], &who).await.err();
    assert!(matches!(&e, Some(AppError::Inputs(errs)) if errs.0[0].key == "s8.halls_connected"), "{e:?}");
    // One bad value in a batch refuses the batch.
    let e = ws.set_values(&[set("s8.halls_total", "20"), set("s7.npl_ratio", "x")], &who).await.err();
    assert!(matches!(e, Some(AppError::Inputs(_))));
    // Unknown unit.
    let mut item = set("s7.npl_ratio", "0.02");
    item.unit = Some("市不存在局".to_owned());
    let e = ws.set_values(&[item], &who).await.err();
    assert!(matches!(&e, Some(AppError::Invalid { field, .. }) if field == "unit"), "{e:?}");
    // A judged score without its justification.
    let e = ws.set_values(&[set("s1.judged", "4")], &who).await.err();
    assert!(matches!(&e, Some(AppError::Inputs(errs)) if errs.to_string().contains("理由")), "{e:?}");
    // A duplicate task: the whole plan is refused.
    let plan = std::fs::read_to_string(examples().join("qingchuan-plan.toml")).unwrap_or_else(|e| panic!("{e}"));
    let e = ws.import_plan(&plan, &who).await.err();
    assert!(matches!(&e, Some(AppError::Store(StoreError::Conflict(m))) if m.contains("T1.1")), "{e:?}");
    // A plan naming an unknown rule and an unknown unit.
    let bad = "[[tasks]]\ncode = \"X1\"\ntitle = \"x\"\nrules = [\"12.1\"]\nlead = \"火星局\"\n";
    let e = ws.import_plan(bad, &who).await.err();
    let text = e.as_ref().map(ToString::to_string).unwrap_or_default();
    assert!(matches!(&e, Some(AppError::Plan(_))) && text.contains("12.1") && text.contains("火星局") && text.contains("第 1 行"), "{e:?}");
    // A file over the limit.
    let big = dir.path().join("big.pdf");
    std::fs::write(&big, vec![b'%'; 2048]).unwrap_or_else(|e| panic!("{e}"));
    let ws = ws.with_max_evidence_bytes(1024);
    let e = ws.attach(&big, "7.2a", Some(1), None, None, &who).await.err();
    assert!(matches!(&e, Some(AppError::Invalid { field, .. }) if field == "file"), "{e:?}");
    // An item the checklist does not have.
    let e = ws.attach(&big, "7.2a", Some(9), None, None, &who).await.err();
    assert!(matches!(&e, Some(AppError::Invalid { field, .. }) if field == "item"), "{e:?}");

    assert_eq!(audit_len(&ws).await, before_audit, "nothing was written");
    assert_eq!(ws.scores().await.unwrap_or_else(|e| panic!("{e}")).working.1, before_scores);
    assert!(ws.evidence().await.unwrap_or_else(|e| panic!("{e}")).is_empty());
}

#[tokio::test]
async fn evidence_is_stored_once_by_content_and_reviewed() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (location, ws) = example_city(dir.path()).await;
    let a = dir.path().join("执结统计.pdf");
    let b = dir.path().join("执结统计(副本).pdf");
    std::fs::write(&a, b"%PDF-1.4 \xe6\x89\xa7\xe7\xbb\x93").unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&b, b"%PDF-1.4 \xe6\x89\xa7\xe7\xbb\x93").unwrap_or_else(|e| panic!("{e}"));
    let who = actor("人行");
    let e1 = ws.attach(&a, "7.2a", Some(1), Some("T7.2"), Some("人行青川市中心支行"), &who).await.unwrap_or_else(|e| panic!("{e}"));
    let e2 = ws.attach(&b, "7.2a", Some(1), None, None, &who).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(e1.sha256, e2.sha256);
    assert_eq!(e1.media_type, "application/pdf");
    assert_eq!(e2.original_name, "执结统计(副本).pdf");
    let files: Vec<_> = walk(&location.evidence)
        .into_iter()
        .filter(|p| p.parent().and_then(Path::file_name).is_some_and(|n| n != "tmp"))
        .collect();
    assert_eq!(files.len(), 1, "stored once: {files:?}");
    let (_, stored) = ws.evidence_file(e1.id).await.unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|| panic!("evidence {} not found", e1.id));
    assert_eq!(stored, std::fs::read(&a).unwrap_or_else(|e| panic!("{e}")));
    ws.review("evidence", &e1.id.to_string(), Decision::Return, "缺盖章页", &actor("评估专家")).await.unwrap_or_else(|e| panic!("{e}"));
    let p = ws.progress("2019-03-01").await.unwrap_or_else(|e| panic!("{e}"));
    let s7 = p.sections.iter().find(|s| s.id == "7").unwrap_or_else(|| panic!("no section 7"));
    assert_eq!(s7.evidence_items_with_files, 1, "the copy still covers item 1 of 7.2a");
    assert!(ws.review("evidence", &e2.id.to_string(), Decision::Return, " ", &actor("评估专家")).await.is_err(), "a return needs a reason");
}

#[tokio::test]
async fn status_counts_tasks_overdue_and_points_at_stake() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (_, ws) = example_city(dir.path()).await;
    let who = actor("人行");
    ws.move_task("T7.2", creditcity_store::TaskStatus::Submitted, &who).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(ws.move_task("T7.2", creditcity_store::TaskStatus::InProgress, &who).await.is_err(), "submitted work awaits review");
    ws.review("task", "T7.2", Decision::Return, "执结数与法院口径不一致", &actor("评估专家")).await.unwrap_or_else(|e| panic!("{e}"));
    ws.move_task("T7.2", creditcity_store::TaskStatus::InProgress, &who).await.unwrap_or_else(|e| panic!("{e}"));
    let p = ws.progress("2019-02-20").await.unwrap_or_else(|e| panic!("{e}"));
    // Due 2019-02-15 and not submitted: T2.1, T3.1, T3.3, T8.1, T8.2, T11.1, T11.2.
    assert_eq!(p.overdue.len(), 7, "{:?}", p.overdue);
    let pboc = p.units.iter().find(|u| u.name == "人行青川市中心支行").unwrap_or_else(|| panic!("no unit"));
    assert_eq!(pboc.tasks[1], 1, "T7.2 in progress again");
    let s9 = p.sections.iter().find(|s| s.id == "9").unwrap_or_else(|| panic!("no section 9"));
    assert!((s9.points_at_stake - (14.0 - s9.working)).abs() < 1e-9);
    assert_eq!(s9.inputs_missing, 0);
}

#[tokio::test]
async fn backup_while_in_use_restores_the_same_scores_history_and_files() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (_, ws) = example_city(dir.path()).await;
    let file = dir.path().join("平台截图.png");
    std::fs::write(&file, [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]).unwrap_or_else(|e| panic!("{e}"));
    let e = ws.attach(&file, "8.2b", Some(1), None, None, &actor("信息中心")).await.unwrap_or_else(|e| panic!("{e}"));
    // Writes go on while the backup runs.
    let backup_dir = dir.path().join("backup");
    let writer = async {
        for i in 0..40 {
            ws.set_values(&[set("s10.jrp_cases", &(200 + i).to_string())], &actor("信用办")).await.unwrap_or_else(|e| panic!("{e}"));
        }
    };
    let (summary, ()) = tokio::join!(ws.backup(&backup_dir), writer);
    let summary = summary.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary.files, 1);
    // The backup's database is its one file: no log beside it holds any of it.
    let log = backup_dir.join("creditcity.db-wal");
    assert!(std::fs::metadata(&log).map_or(true, |m| m.len() == 0), "the backup left part of its database in {}", log.display());
    let restored_at = location(dir.path(), "restored");
    restore(&backup_dir, &restored_at).await.unwrap_or_else(|e| panic!("{e}"));
    let back = Workspace::open(&restored_at, rubric(), None).await.unwrap_or_else(|e| panic!("{e}"));
    // The snapshot is one consistent state: its history ends with its current value.
    let history = back.history("s10.jrp_cases").await.unwrap_or_else(|e| panic!("{e}"));
    let current: Vec<_> = history.iter().filter(|h| h.superseded_at.is_none()).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(history.last().map(|h| h.id), current.first().map(|h| h.id));
    let (_, stored) = back.evidence_file(e.id).await.unwrap_or_else(|err| panic!("{err}")).unwrap_or_else(|| panic!("evidence {} not found", e.id));
    assert_eq!(stored, std::fs::read(&file).unwrap_or_else(|err| panic!("{err}")));
    // Restoring a backup taken when no one writes gives the same scores and history.
    let quiet = dir.path().join("quiet");
    ws.backup(&quiet).await.unwrap_or_else(|e| panic!("{e}"));
    let again_at = location(dir.path(), "again");
    restore(&quiet, &again_at).await.unwrap_or_else(|e| panic!("{e}"));
    let again = Workspace::open(&again_at, rubric(), None).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.scores().await.map(|s| s.working.1).ok(), ws.scores().await.map(|s| s.working.1).ok());
    assert_eq!(again.history("s10.jrp_cases").await.ok(), ws.history("s10.jrp_cases").await.ok());
    assert_eq!(audit_len(&again).await, audit_len(&ws).await);
    // Restore never overwrites a store.
    assert!(restore(&quiet, &again_at).await.is_err());
    // A backup never goes into a non-empty directory.
    assert!(ws.backup(&quiet).await.is_err());
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

#[tokio::test]
async fn the_gap_plan_ranks_what_can_be_recovered_and_what_if_changes_nothing_stored() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (_, ws) = example_city(dir.path()).await;
    let before_audit = audit_len(&ws).await;
    let (plan, card) = ws.gap_plan(&[]).await.unwrap_or_else(|e| panic!("{e}"));
    // The complete example loses 17.06 points of 100 and 3.50 of the bonus.
    let lost: f64 = plan.gaps.iter().map(|g| g.lost).sum();
    assert!((lost - (100.0 - card.total) - (10.0 - card.bonus)).abs() < 1e-9);
    let order: Vec<&str> = plan.gaps.iter().take(4).map(|g| g.rule.as_str()).collect();
    assert_eq!(order, ["9.2", "B", "10.5", "9.1"]);
    assert!(plan.gaps.windows(2).all(|w| w[0].recoverable >= w[1].recoverable));
    let cases = &plan.gaps[2];
    assert_eq!(cases.target.as_deref(), Some("再形成 1,766 个有效的联合奖惩案例可得满分"));
    assert_eq!(cases.units, ["各县市区政府", "市信用办"]);
    assert_eq!(cases.open_tasks.iter().map(|t| t.code.as_str()).collect::<Vec<_>>(), ["T10.3"]);
    assert_eq!(cases.deadline.as_deref(), Some("2019-02-28"));
    assert!(plan.gates.is_empty(), "the complete example passes every gate");
    let office = plan.by_unit.iter().find(|u| u.unit == "市信用办").unwrap_or_else(|| panic!("no 市信用办"));
    assert!(office.rules.contains(&"10.5".to_owned()));
    // What if the 1,766 cases were there, and 90 blacklisted subjects fewer had left?
    let (after, after_card) = ws
        .gap_plan(&[("s10.jrp_cases".to_owned(), "2052".to_owned()), ("s10.blacklist_exited".to_owned(), "300".to_owned())])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!after.gaps.iter().any(|g| g.rule == "10.5"), "10.5 at full marks");
    assert!(after_card.veto, "300 of 1,208 is below 30%: G7 fails");
    assert_eq!(after.gates.iter().map(|g| g.gate.as_str()).collect::<Vec<_>>(), ["G7"]);
    assert!(ws.gap_plan(&[("s10.jrp_casez".to_owned(), "1".to_owned())]).await.is_err());
    assert_eq!(audit_len(&ws).await, before_audit, "a what-if writes nothing");
    assert_eq!(ws.scores().await.unwrap_or_else(|e| panic!("{e}")).working.1, card);
}

/// A filled template as a person leaves it: columns reordered, an extra column, rows in
/// another order, numbers typed as text, full-width digits and percent signs, empty rows.
fn filled_workbook(rows: &[(&str, &str)]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("填报").unwrap_or_else(|e| panic!("{e}"));
    for (c, h) in ["备注", "填报值", "输入项", "键"].iter().enumerate() {
        ws.write_string(1, c as u16, *h).unwrap_or_else(|e| panic!("{e}"));
    }
    ws.write_string(0, 0, "人行青川市中心支行 填报表").unwrap_or_else(|e| panic!("{e}"));
    for (i, (key, value)) in rows.iter().enumerate() {
        let r = (i + 2) as u32;
        ws.write_string(r, 3, *key).unwrap_or_else(|e| panic!("{e}"));
        match value.parse::<f64>() {
            Ok(x) if !value.contains('.') || value.len() < 8 => ws.write_number(r, 1, x).map(|_| ()),
            _ => ws.write_string(r, 1, *value).map(|_| ()),
        }
        .unwrap_or_else(|e| panic!("{e}"));
        ws.write_string(r, 0, "已核对").unwrap_or_else(|e| panic!("{e}"));
    }
    wb.save_to_buffer().unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn an_excel_template_round_trips_and_a_broken_one_changes_nothing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (_, ws) = example_city(dir.path()).await;
    let unit = "人行青川市中心支行";
    let template = ws.export_template(Some(unit)).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(&template[..2], b"PK", "an .xlsx");
    // The exported template reads back with nothing filled in.
    assert_eq!(ws.import_template(&template, "模板.xlsx", Some(unit), &actor("人行")).await.unwrap_or_else(|e| panic!("{e}")), 0);
    let who = actor("人行");
    let filled = filled_workbook(&[
        ("s7.cases_received", "８１２"),
        ("s7.npl_ratio", "２．５％"),
        ("s7.major_risk", "否"),
        ("s7.amount_recovered", "320000000"),
        ("s7.cases_closed", "650"),
        ("s9.credit_loans_yuan", "13,000,000,000"),
    ]);
    let n = ws.import_template(&filled, "人行填报.xlsx", Some(unit), &who).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(n, 5, "s7.major_risk was already 否");
    let current = ws.current_raw().await.unwrap_or_else(|e| panic!("{e}"));
    let value = |k: &str| current.iter().find(|c| c.key == k).map_or_else(|| panic!("{k} has no value"), |c| c.value_json.clone());
    assert_eq!(value("s7.cases_received"), "812");
    assert_eq!(value("s7.npl_ratio"), "0.025");
    assert_eq!(value("s7.cases_closed"), "650");
    assert_eq!(value("s9.credit_loans_yuan"), "13000000000");
    let history = ws.history("s7.npl_ratio").await.unwrap_or_else(|e| panic!("{e}"));
    let last = history.last().unwrap_or_else(|| panic!("no history"));
    assert!(last.source_kind == creditcity_app::SourceKind::File && last.source_ref.starts_with("人行填报.xlsx (SHA-256 "), "{last:?}");
    assert_eq!(last.set_by, "人行");

    // A broken file: every problem by cell, and nothing applied.
    let before = audit_len(&ws).await;
    let broken = filled_workbook(&[
        ("s7.cases_received", "900"),
        ("s7.npl_ratio", "250%"),
        ("s7.cases_pending_prior", "十二"),
        ("s4.pricing.records", "是"),
        ("s7.npl_rato", "0.01"),
    ]);
    let e = ws.import_template(&broken, "错误.xlsx", Some(unit), &who).await.err();
    let Some(AppError::Cells(problems)) = e else { panic!("expected cell problems, got {e:?}") };
    let at: Vec<(&str, &str)> = problems.iter().map(|p| (p.cell.as_str(), p.key.as_str())).collect();
    assert_eq!(at, [("B4", "s7.npl_ratio"), ("B5", "s7.cases_pending_prior"), ("B6", "s4.pricing.records"), ("B7", "s7.npl_rato")]);
    assert!(problems.iter().all(|p| p.sheet == "填报"));
    // Relations are checked too, and reported at the cell of the value that breaks them.
    let e = ws.import_template(&filled_workbook(&[("s7.cases_closed", "5000")]), "x.xlsx", Some(unit), &who).await.err();
    let Some(AppError::Cells(problems)) = e else { panic!("expected cell problems, got {e:?}") };
    assert_eq!(problems[0].cell, "B3");
    assert!(ws.import_template(b"PK\x03\x04 not really", "bad.xlsx", Some(unit), &who).await.is_err(), "a hostile file is an error");
    assert_eq!(audit_len(&ws).await, before, "nothing applied");
}

#[tokio::test]
async fn the_evidence_package_has_a_folder_per_rule_and_an_index_of_what_is_missing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (_, ws) = example_city(dir.path()).await;
    let who = actor("人行");
    let a = dir.path().join("执结统计.pdf");
    std::fs::write(&a, b"%PDF-1.4 stats").unwrap_or_else(|e| panic!("{e}"));
    let b = dir.path().join("旧版统计.pdf");
    std::fs::write(&b, b"%PDF-1.4 old").unwrap_or_else(|e| panic!("{e}"));
    let kept = ws.attach(&a, "7.2a", Some(1), None, Some("人行青川市中心支行"), &who).await.unwrap_or_else(|e| panic!("{e}"));
    let old = ws.attach(&b, "7.2b", Some(1), None, None, &who).await.unwrap_or_else(|e| panic!("{e}"));
    ws.review("evidence", &old.id.to_string(), Decision::Return, "版本过旧", &actor("专家")).await.unwrap_or_else(|e| panic!("{e}"));
    let (bytes, s) = ws.export_evidence_bytes().await.unwrap_or_else(|e| panic!("{e}"));
    let items: usize = rubric().rules.iter().map(|r| r.evidence.len()).sum();
    assert_eq!((s.files, s.items, s.items_missing), (1, items, items - 1));
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<String> = zip.file_names().filter_map(Result::ok).map(std::borrow::Cow::into_owned).collect();
    let file = names.iter().find(|n| n.ends_with("执结统计.pdf")).unwrap_or_else(|| panic!("not packed: {names:?}"));
    assert!(file.starts_with("青川市迎检材料/七、金融生态环境建设/7.2a 金融案件执结率/1-"), "{file}");
    assert!(!names.iter().any(|n| n.ends_with("旧版统计.pdf")), "a returned file is not packed");
    let mut index = Vec::new();
    std::io::Read::read_to_end(&mut zip.by_name("青川市迎检材料/索引.xlsx").unwrap_or_else(|e| panic!("{e}")), &mut index).unwrap_or_else(|e| panic!("{e}"));
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(index)).unwrap_or_else(|e: calamine::XlsxError| panic!("{e}"));
    let range = calamine::Reader::worksheet_range(&mut wb, "索引").unwrap_or_else(|e| panic!("{e}"));
    let rows: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(ToString::to_string).collect()).collect();
    let kept_row = rows.iter().find(|r| r.get(4) == Some(&kept.sha256)).unwrap_or_else(|| panic!("the kept file is indexed: {rows:?}"));
    assert_eq!(kept_row.get(5).map(String::as_str), Some("人行青川市中心支行"));
    assert!(rows.iter().any(|r| r.get(3).map(String::as_str) == Some("旧版统计.pdf") && r.get(6).map(String::as_str) == Some("已退回")), "a returned file is listed as such");
    assert!(rows.iter().any(|r| r.get(3).map(String::as_str) == Some("缺")), "missing items are listed");
}

#[tokio::test]
async fn the_city_template_has_a_sheet_per_section_and_reads_back_from_any_sheet() {
    use calamine::Reader as _;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (_, ws) = example_city(dir.path()).await;
    let bytes = ws.export_template(None).await.unwrap_or_else(|e| panic!("{e}"));
    let wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap_or_else(|e: calamine::XlsxError| panic!("{e}"));
    let names = wb.sheet_names();
    assert_eq!(names.first().map(String::as_str), Some("二、弘扬社会主义核心价值观情况"), "section 一 has only a judged score: no sheet");
    assert!(names.contains(&"十、信用监管".to_owned()) && names.contains(&"任务".to_owned()) && names.contains(&"佐证材料".to_owned()), "{names:?}");
    // A workbook with values on two section sheets imports both, cells named by sheet.
    let mut book = rust_xlsxwriter::Workbook::new();
    for (name, key, value) in [("七、金融生态环境建设", "s7.npl_ratio", "3%"), ("十、信用监管", "s10.jrp_cases", "-5")] {
        let sheet = book.add_worksheet();
        sheet.set_name(name).unwrap_or_else(|e| panic!("{e}"));
        sheet.write_string(0, 0, "键").unwrap_or_else(|e| panic!("{e}"));
        sheet.write_string(0, 1, "填报值").unwrap_or_else(|e| panic!("{e}"));
        sheet.write_string(1, 0, key).unwrap_or_else(|e| panic!("{e}"));
        sheet.write_string(1, 1, value).unwrap_or_else(|e| panic!("{e}"));
    }
    let e = ws.import_template(&book.save_to_buffer().unwrap_or_else(|e| panic!("{e}")), "全市.xlsx", None, &actor("信用办")).await.err();
    let Some(AppError::Cells(problems)) = e else { panic!("expected a cell problem, got {e:?}") };
    assert_eq!(problems.len(), 1);
    assert_eq!((problems[0].sheet.as_str(), problems[0].cell.as_str()), ("十、信用监管", "B2"));
}

/// The dashboard's chart: the working and the confirmed score at the end of each Beijing
/// day, replayed from the history of values and reviews.
#[test]
fn the_timeline_replays_history_day_by_day_in_beijing_time() {
    use creditcity_store::{ReviewRow, ReviewState, SourceKind, ValueRow};
    let value = |id: i64, json: &str, set_at: &str, superseded_at: Option<&str>| ValueRow {
        id,
        input_key: "s1.judged".to_owned(),
        value_json: json.to_owned(),
        unit_id: None,
        unit: None,
        source_kind: SourceKind::Note,
        source_ref: String::new(),
        note: "酌情".to_owned(),
        set_by: "专家".to_owned(),
        set_at: set_at.to_owned(),
        superseded_at: superseded_at.map(str::to_owned),
        review_state: ReviewState::Pending,
        evidence_count: 0,
    };
    // Set at 23:30 Beijing on the 1st (15:30 UTC), accepted on the 2nd, replaced on the 3rd.
    let history = [
        value(1, "3", "2026-11-01T15:30:00.000Z", Some("2026-11-03T02:00:00.000Z")),
        value(2, "4", "2026-11-03T02:00:00.000Z", None),
    ];
    let reviews = [ReviewRow {
        id: 1,
        target_kind: creditcity_store::ReviewTarget::Input,
        target_id: 1,
        decision: Decision::Accept,
        comment: "ok".to_owned(),
        reviewer: "专家".to_owned(),
        at: "2026-11-02T01:00:00.000Z".to_owned(),
    }];
    let days = creditcity_app::timeline::compute(&rubric(), &history, &reviews, "2026-11-05");
    let got: Vec<(&str, f64, f64)> = days.iter().map(|d| (d.date.as_str(), d.working, d.confirmed)).collect();
    assert_eq!(got, [("2026-11-01", 3.0, 0.0), ("2026-11-02", 3.0, 3.0), ("2026-11-03", 4.0, 0.0), ("2026-11-05", 4.0, 0.0)]);
}

/// A unit belongs to its city, whichever of the city's assessments it was added under:
/// the served assessment's plan (and every page built on it) sees a unit added while
/// working on another period, the next time its snapshot is built.
#[tokio::test]
async fn a_unit_added_under_another_period_of_the_city_reaches_the_plan() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (location, ws) = example_city(dir.path()).await;
    let today = creditcity_app::today();
    let before = ws.snapshot(&today).await.unwrap_or_else(|e| panic!("{e}")).plan.units.len();
    let other = init(&location, &rubric(), "青川市", "2020", &actor("信用办")).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(other.city_id, ws.assessment().city_id, "one city, two periods");
    let ws2 = Workspace::open(&location, rubric(), Some(&other.id.to_string())).await.unwrap_or_else(|e| panic!("{e}"));
    ws2.add_unit("市新设局", "市直部门", &actor("信用办")).await.unwrap_or_else(|e| panic!("{e}"));
    // A change of the served assessment moves its version: the snapshot is built again.
    ws.set_values(&[set("s7.cases_received", "1234")], &actor("人行")).await.unwrap_or_else(|e| panic!("{e}"));
    let snap = ws.snapshot(&today).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(snap.plan.units.len(), before + 1, "the new unit is in the plan");
    assert!(snap.plan.units.iter().any(|u| u.name == "市新设局"));
    assert!(ws.plan().await.unwrap_or_else(|e| panic!("{e}")).units.iter().any(|u| u.name == "市新设局"));
}
