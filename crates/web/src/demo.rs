//! `serve --demo`: the example city mid-campaign, with evidence, reviews and one
//! account per role, so that a newcomer sees a living campaign at once; and its own
//! records — generated datasets of a small city (青川市, division 5108) with a known share
//! of every problem kind, pushed by the city's platform — so that the gates the records
//! decide (G1, G2, G5, G6–G9) are explained down to the failing records.

use creditcity_app::accounts::Role;
use creditcity_app::{Actor, AppError, SetValue, Workspace, Workspaces, init};
use creditcity_rubric::Rubric;
use creditcity_store::{Decision, Location, Store, TaskStatus};

/// The password of every demo account.
pub const PASSWORD: &str = "demo-password";

const PLAN: &str = include_str!("../../../examples/qingchuan-plan.toml");
const MIDWAY: &str = include_str!("../../../examples/linjiang-midway.toml");

/// A one-page PDF, so that the evidence preview shows something real.
fn pdf(title: &str) -> Vec<u8> {
    let stream = format!("BT /F1 18 Tf 72 720 Td ({title}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes());
    out
}

/// The self-assessment without the inputs the records decide: those come from the
/// datasets (a value typed by hand would override them).
fn without_derived(text: &str) -> String {
    let mut section = String::new();
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let t = line.trim();
        if let Some(name) = t.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
            name.trim().clone_into(&mut section);
        } else if let Some((key, _)) = t.split_once('=') {
            let full = format!("{section}.{}", key.trim());
            if creditcity_data::InputKey::ALL.iter().any(|k| k.key() == full) {
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Rows of the demo's datasets: a small city (about 30,000 market entities).
fn demo_sizes() -> creditcity_data::generate::Sizes {
    creditcity_data::generate::Sizes::demo()
}

/// The city's records: generated datasets of 青川市 with 2% of rows carrying one known
/// problem each, imported as the city's platform pushes them (an API client).
async fn records(ws: &Workspace, office: &Actor) -> Result<(), AppError> {
    use creditcity_data::generate::{CityProfile, Generator};
    ws.set_division("5108", office).await?;
    let (client, _token) = ws.create_api_token("市信用平台", office).await?;
    let platform = creditcity_app::accounts::ApiClient { name: client.name, city_id: client.city_id }.actor();
    let dir = tempfile::tempdir().map_err(|source| AppError::FileWrite { path: std::env::temp_dir(), source })?;
    let path = dir.path().to_path_buf();
    tokio::task::spawn_blocking(move || Generator::new(CityProfile::qingchuan(), 2019, 0.02).city(&path, &demo_sizes()))
        .await
        .map_err(|e| AppError::Invalid { field: "demo".to_owned(), problem: e.to_string() })?
        .map_err(|source| AppError::FileWrite { path: dir.path().to_path_buf(), source })?;
    for kind in creditcity_data::DatasetKind::ALL {
        let file = dir.path().join(format!("{}.csv", kind.id()));
        ws.import_dataset(kind.id(), &file, &platform, Box::new(|_| {})).await?;
    }
    Ok(())
}

/// Loads the demo into `location` if it holds no assessment yet. Returns whether it did.
pub async fn load(location: &Location, rubric: &Rubric) -> Result<bool, AppError> {
    if location.exists().await? {
        let store = Store::open(location).await?;
        let has = !store.assessments().await?.is_empty();
        store.close().await;
        if has {
            return Ok(false);
        }
    }
    let office = Actor("xinyongban".to_owned());
    init(location, rubric, "青川市", "2018年12月15日至2019年3月15日", &office).await?;
    let ws = Workspace::open(location, rubric.clone(), None).await?;
    ws.import_plan(PLAN, &office).await?;
    ws.import_inputs(&without_derived(MIDWAY), "青川市中期自评.toml", Some("市信用办"), &office).await?;
    records(&ws, &office).await?;
    let units = ws.units().await?;
    let unit = |name: &str| units.iter().find(|u| u.name == name).cloned();
    for (username, name, role, unit_name) in [
        ("xinyongban", "王信用(信用办)", Role::Admin, None),
        ("renhang", "李金融(人行)", Role::Unit, Some("人行青川市中心支行")),
        ("shangwu", "赵商务(市商务局)", Role::Unit, Some("市商务局")),
        ("zhuanjia", "陈专家", Role::Evaluator, None),
        ("guest", "访客", Role::Viewer, None),
    ] {
        let u = unit_name.and_then(unit);
        ws.create_user(username, name, PASSWORD, role, u.as_ref(), &Actor("demo".to_owned())).await?;
    }
    let pboc = Actor("renhang".to_owned());
    ws.set_values(
        &[SetValue {
            key: "s7.cases_closed".to_owned(),
            text: "620".to_owned(),
            unit: Some("人行青川市中心支行".to_owned()),
            source: Some("document".to_owned()),
            source_ref: "市中院 2019 年 1–2 月金融案件统计表".to_owned(),
            ..SetValue::default()
        }],
        &pboc,
    )
    .await
    .or_else(|e| if matches!(e, AppError::Inputs(_)) { Ok(Vec::new()) } else { Err(e) })?;
    for (name, rule, item, task, unit_name, title) in [
        ("执结统计表.pdf", "7.2a", 1, "T7.2", "人行青川市中心支行", "Case statistics 2019"),
        ("不良贷款率报表.pdf", "7.1a", 1, "T7.1", "人行青川市中心支行", "NPL ratio report"),
        ("商务诚信分级监管制度.pdf", "4.4", 1, "T4.circulation", "市商务局", "Grading rules"),
    ] {
        let bytes = pdf(title);
        ws.attach_reader(name, &mut bytes.as_slice(), rule, Some(item), Some(task), Some(unit_name), &Actor("demo".to_owned())).await?;
    }
    let expert = Actor("zhuanjia".to_owned());
    ws.review("input", "s7.npl_ratio", Decision::Accept, "与人行报表一致", &expert).await?;
    ws.review("input", "s8.code_conversion_rate", Decision::Accept, "以服务中心数据为准", &expert).await?;
    ws.review("evidence", "2", Decision::Return, "缺少盖章页,请补充后重新上传", &expert).await?;
    // Deadlines around today, so the demo is a campaign in progress: most ahead, a few past.
    let today = time::OffsetDateTime::now_utc().date();
    let day = |offset: i64| {
        let d = today + time::Duration::days(offset);
        format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
    };
    for task in ws.tasks().await? {
        let offset = match task.due_date.as_deref() {
            Some("2019-02-15") => 10,
            Some("2019-03-10") => 40,
            _ => 24,
        };
        let offset = if matches!(task.code.as_str(), "T2.1" | "T3.3" | "T8.2") { -3 } else { offset };
        ws.update_task(&task.code, task.lead_unit_id, &day(offset), &Actor("demo".to_owned())).await?;
    }
    ws.move_task("T7.1", TaskStatus::Submitted, &pboc).await?;
    ws.move_task("T4.circulation", TaskStatus::InProgress, &Actor("shangwu".to_owned())).await?;
    ws.close().await;
    Ok(true)
}

const COMPLETE: &str = include_str!("../../../examples/qingchuan-complete.toml");

/// The demo's province.
pub const PROVINCE: &str = "示范省";

/// The other cities of `serve --demo --province`, each at its own stage: how many of
/// the rubric's parts it has filled in (of the complete example), how many of its tasks
/// are accepted, and whether its deadlines have passed.
const CITIES: [(&str, usize, usize, bool); 11] = [
    ("临江市", 11, 40, false),
    ("东山市", 10, 30, false),
    ("南溪市", 9, 25, true),
    ("西岭市", 8, 20, false),
    ("北川市", 7, 15, true),
    ("白河市", 6, 12, false),
    ("云台市", 5, 8, true),
    ("石门市", 4, 5, false),
    ("金沙市", 3, 2, true),
    ("平阳市", 1, 0, false),
    ("安宁市", 0, 0, false),
];

/// `serve --demo --province`: the demo city and eleven more cities of one province at
/// different stages of their campaigns, with a province office's account, an evaluator
/// assigned to three of them and a second city's credit office. Loads nothing into a
/// store that already holds an assessment; returns whether it loaded.
pub async fn load_province(location: &Location, rubric: &Rubric) -> Result<bool, AppError> {
    if !load(location, rubric).await? {
        return Ok(false);
    }
    let office = Actor("demo".to_owned());
    let period = "2018年12月15日至2019年3月15日";
    let today = time::OffsetDateTime::now_utc().date();
    let day = |offset: i64| {
        let d = today + time::Duration::days(offset);
        format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
    };
    for (name, parts, accepted_pct, late) in CITIES {
        init(location, rubric, name, period, &office).await?;
        let ws = Workspace::open(location, rubric.clone(), Some(name)).await?;
        // The example plan, its units named for this city (人行临江市中心支行, 临江区…).
        let stem = name.trim_end_matches('市');
        ws.import_plan(&PLAN.replace("青川", stem), &office).await?;
        if parts > 0 {
            let text = first_parts(&COMPLETE.replace("city = \"青川市\"", &format!("city = \"{name}\"")), parts);
            ws.import_inputs(&text, &format!("{name}自评.toml"), Some("市信用办"), &office).await?;
        }
        let tasks = ws.tasks().await?;
        let accept = tasks.len() * accepted_pct / 100;
        for (i, task) in tasks.iter().enumerate() {
            let offset = if late && i % 4 == 0 { -5 } else { 20 + i64::try_from(i % 30).unwrap_or(0) };
            ws.update_task(&task.code, task.lead_unit_id, &day(offset), &office).await?;
            if i < accept {
                ws.move_task(&task.code, TaskStatus::Submitted, &office).await?;
                ws.review("task", &task.code, Decision::Accept, "材料齐全", &office).await?;
            } else if i < accept + tasks.len() / 5 {
                ws.move_task(&task.code, TaskStatus::InProgress, &office).await?;
            }
        }
        if name == "临江市" {
            ws.create_user("linjiang", "周信用(临江市信用办)", PASSWORD, Role::Admin, None, &office).await?;
        }
        ws.close().await;
    }
    let all = Workspaces::open(location, rubric.clone(), None).await?;
    for city in all.cities().await? {
        all.set_province(city.id, PROVINCE, &office).await?;
        if ["临江市", "东山市"].contains(&city.name.as_str()) {
            all.assign_evaluator("zhuanjia", city.id, &office).await?;
        }
    }
    all.create_province_user("shengxinyongban", "吴省信", PASSWORD, PROVINCE, &office).await?;
    all.close().await;
    Ok(true)
}

/// The assessment header, the base figures and the first `parts` parts (s1, s2, …) of
/// an assessment file.
fn first_parts(text: &str, parts: usize) -> String {
    let mut seen: Vec<String> = Vec::new();
    let mut keep = true;
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if let Some(name) = line.trim().strip_prefix('[').and_then(|x| x.split(']').next()) {
            let part = name.trim().split('.').next().unwrap_or_default().to_owned();
            keep = if part.starts_with('s') && part[1..].bytes().all(|b| b.is_ascii_digit()) {
                if !seen.contains(&part) {
                    seen.push(part);
                }
                seen.len() <= parts
            } else {
                true
            };
        }
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}
