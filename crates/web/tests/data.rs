//! The city's records on the web: an upload derives values that the pages show; every
//! bad file is refused with a Chinese message and changes nothing; a unit sees and
//! downloads only its own problems; the demo's gates are decided from records.

use calamine::Reader as _;
use creditcity_data::DatasetKind;
use creditcity_data::generate::{CityProfile, Generator};

use crate::harness::{Client, spawn_app, unit_id};

/// A generated dataset of 青川市 (or of another city's profile).
pub fn generated(profile: CityProfile, kind: DatasetKind, rows: u64, seed: u64) -> (Vec<u8>, creditcity_data::generate::Expected) {
    let mut g = Generator::new(profile, seed, 0.05);
    let mut out = Vec::new();
    let expected = match kind {
        DatasetKind::Licences | DatasetKind::Penalties => g.decisions(kind, &mut out, rows),
        DatasetKind::Register => g.register(&mut out, rows),
        other => panic!("no generator wired for {other:?} in the tests"),
    }
    .unwrap_or_else(|e| panic!("{e}"));
    (out, expected)
}

/// The problems a check finds in a generated dataset today: the generator's own "today"
/// is 2019-03-20, so the dates it writes after that day are not in the future any more.
pub fn known_problems(expected: &creditcity_data::generate::Expected) -> u64 {
    expected.problems.iter().filter(|(k, _)| **k != creditcity_data::ProblemKind::FutureDate).map(|(_, n)| n).sum()
}

/// `1234567` as pages show counts: `1,234,567`.
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Uploads from the 数据 page and waits for the import: its finished page.
fn import(c: &mut Client, kind: &str, name: &str, bytes: &[u8]) -> String {
    let r = c.upload_dataset(kind, name, bytes, None);
    assert_eq!(r.status, 303, "the upload was not accepted: {}", r.body);
    let job = r.location.unwrap_or_else(|| panic!("no job page"));
    assert!(job.starts_with("/data/imports/"), "{job}");
    let page = c.import_result(&job);
    assert_eq!(page.status, 200);
    page.body
}

fn history_len(c: &mut Client) -> usize {
    let page = c.get("/data").body;
    let at = page.find("id=\"history\"").unwrap_or_else(|| panic!("no history on the data page"));
    page[at..].matches("<tr><td>").count()
}

#[test]
fn the_demo_decides_gates_from_records_and_explains_them() {
    let app = spawn_app();
    let mut admin = app.as_user("xinyongban");
    let page = admin.get("/").body;
    for gate in ["G1", "G2", "G5", "G6", "G7", "G8", "G9"] {
        let at = page.find(&format!("<b>{gate}</b>")).unwrap_or_else(|| panic!("no gate {gate}"));
        let row = &page[at..at + page[at..].find("</tr>").unwrap_or(0)];
        assert!(row.contains("由记录得出"), "{gate} is not decided from records: {row}");
    }
    assert!(page.contains("/data/problems?input=s8.code_conversion_rate"), "G1 links to its failing records");
    let data = admin.get("/data").body;
    for kind in DatasetKind::ALL {
        assert!(data.contains(&format!("id=\"dataset-{}\"", kind.id())), "{kind:?}");
    }
    assert!(!data.contains("未导入"), "every dataset of the demo is imported");
    assert!(data.contains("api:市信用平台"), "the demo's datasets were pushed by the platform");
    // The counts behind a ratio, and the records behind it.
    let rule = admin.get("/rules/8.1a").body;
    assert!(rule.contains("由记录得出") && rule.contains("已赋码主体"), "the counts behind the conversion rate");
    let list = admin.get("/data/problems?input=s8.code_conversion_rate");
    assert_eq!(list.status, 200);
    assert!(list.body.contains("无代码(占位码)") || list.body.contains("错码"), "the failing records are listed");
}

#[test]
fn an_upload_replaces_the_dataset_derives_values_and_keeps_the_old_one_in_the_history() {
    let app = spawn_app();
    let mut admin = app.as_user("xinyongban");
    let before = history_len(&mut admin);
    let (bytes, expected) = generated(CityProfile::qingchuan(), DatasetKind::Licences, 3000, 7);
    let page = import(&mut admin, "licences", "行政许可-3月.csv", &bytes);
    assert!(page.contains("id=\"import-done\""), "{page}");
    assert!(page.contains("已导入:3000 行"), "{page}");
    assert!(page.contains(&format!("发现问题记录 {} 条", known_problems(&expected))), "the known problems: {page}");
    assert!(page.contains("s8.decisions_total"), "the derived inputs are listed");
    let Some(creditcity_data::DerivedValue::Count(licences)) = expected.values.get(&creditcity_data::InputKey::DecisionsTotal) else { panic!("no expected total") };
    let licences = thousands(*licences);
    assert!(page.contains(&format!("行政许可 {licences} 条")), "the formula with the new count ({licences}): {page}");
    let data = admin.get("/data").body;
    assert_eq!(history_len(&mut admin), before + 1, "one more import in the history");
    assert!(data.contains("行政许可-3月.csv") && data.contains("已被替代"), "the new file is current and the old one stays");
    let rule = admin.get("/rules/8.2c").body;
    assert!(rule.contains(&format!("行政许可 {licences} 条")), "the rule page shows the counts of the new import");
}

#[test]
fn every_bad_file_is_refused_in_chinese_and_changes_nothing() {
    let app = spawn_app();
    let mut admin = app.as_user("xinyongban");
    let (licences, _) = generated(CityProfile::qingchuan(), DatasetKind::Licences, 200, 11);
    let (penalties, _) = generated(CityProfile::qingchuan(), DatasetKind::Penalties, 200, 12);
    let missing = String::from_utf8(licences.clone()).unwrap_or_else(|e| panic!("{e}")).replacen("许可机关", "发证部门", 1).into_bytes();
    let mut elsewhere = CityProfile::qingchuan();
    elsewhere.name = "临安市".into();
    elsewhere.prefix = "3301".into();
    elsewhere.districts = vec![("上城区".into(), "330102".into()), ("西湖区".into(), "330106".into())];
    let (other_city, _) = generated(elsewhere, DatasetKind::Licences, 200, 13);
    let utf16: Vec<u8> = [0xFF, 0xFE].into_iter().chain("行政相对人名称,统一社会信用代码\n".encode_utf16().flat_map(u16::to_le_bytes)).collect();
    let before_audit = app.audit_len();
    let before = history_len(&mut admin);
    for (what, bytes, message) in [
        ("another dataset", penalties.as_slice(), "这不是行政许可数据:表头与行政处罚相符"),
        ("a missing column", missing.as_slice(), "行政许可缺少必需的列:许可机关"),
        ("another city", other_city.as_slice(), "数据不属于本市"),
        ("an empty file", b"".as_slice(), "文件为空"),
        ("an undecodable file", utf16.as_slice(), "编码无法识别"),
    ] {
        let page = import(&mut admin, "licences", "许可.csv", bytes);
        assert!(page.contains("id=\"import-error\""), "{what} was not refused: {page}");
        assert!(page.contains("未能导入,没有改变任何内容") && page.contains(message), "{what}: expected “{message}” in {page}");
        assert!(page.contains("未导入任何内容"), "{what}");
    }
    assert_eq!(app.audit_len(), before_audit, "a refused file wrote to the audit log");
    assert_eq!(history_len(&mut admin), before, "a refused file is not in the history");
    // No file, or a kind that is not a dataset: refused at once.
    let r = admin.upload_dataset("budget", "x.csv", &licences, None);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("不是数据集类型"));
}

#[test]
fn an_upload_over_the_limit_is_refused_while_it_streams() {
    let app = crate::harness::spawn_app_config(creditcity_web::Config { max_dataset_bytes: 16 * 1024, demo: true, ..creditcity_web::Config::default() });
    let mut admin = app.as_user("xinyongban");
    let before = app.audit_len();
    let (bytes, _) = generated(CityProfile::qingchuan(), DatasetKind::Licences, 2000, 3);
    assert!(bytes.len() > 64 * 1024);
    let r = admin.upload_dataset("licences", "大文件.csv", &bytes, None);
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.body.contains("文件超过上限"), "{}", r.body);
    assert_eq!(app.audit_len(), before);
    // Nothing is left spooled beside the store.
    let leftovers: Vec<_> = std::fs::read_dir(app.dir.path()).unwrap_or_else(|e| panic!("{e}")).filter_map(Result::ok).filter(|e| e.file_name().to_string_lossy().starts_with(".upload-")).collect();
    assert!(leftovers.is_empty(), "spooled uploads left behind: {leftovers:?}");
}

/// The unit cell of every row of a problem list page.
fn listed_units(page: &str) -> Vec<String> {
    let at = page.find("id=\"problems\"").unwrap_or_else(|| panic!("no problem list"));
    page[at..]
        .split("<tr>")
        .skip(1)
        .filter_map(|row| row.split("<td class=\"unit\">").nth(1).and_then(|c| c.split("</td>").next()).map(str::to_owned))
        .collect()
}

#[test]
fn a_unit_sees_and_downloads_only_its_own_records() {
    let app = spawn_app();
    let commerce = unit_id(&app, "市商务局");
    let pboc = unit_id(&app, "人行青川市中心支行");
    let mut shangwu = app.as_user("shangwu");
    let r = shangwu.get("/data");
    assert_eq!((r.status, r.location.as_deref()), (303, Some(format!("/units/{commerce}#records").as_str())));
    let page = shangwu.get(&format!("/units/{commerce}")).body;
    assert!(page.contains("本单位数据问题记录") && page.contains("id=\"worst-records\""), "the unit's records on its page");
    // The failing records of an input: only the unit's own, even when asked for all.
    let list = shangwu.get("/data/problems?input=s8.decisions_reported");
    assert_eq!(list.status, 200);
    let units = listed_units(&list.body);
    assert!(!units.is_empty(), "市商务局 has late or unpublished decisions in the demo");
    assert!(units.iter().all(|u| u == "市商务局"), "another unit's record leaked: {units:?}");
    assert_eq!(shangwu.get(&format!("/data/problems?input=s8.decisions_reported&unit={pboc}")).status, 403);
    let mut admin = app.as_user("xinyongban");
    let all = listed_units(&admin.get("/data/problems?input=s8.decisions_reported").body);
    assert!(all.iter().any(|u| u != "市商务局"), "the credit office sees every unit's");
    // The workbook: only the unit's problems, each with its original row.
    let (status, bytes) = shangwu.get_bytes(&format!("/units/{commerce}/problems.xlsx"));
    assert_eq!(status, 200);
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap_or_else(|e| panic!("{e}"));
    let mut rows = 0;
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).unwrap_or_else(|e| panic!("{e}"));
        let mut lines = range.rows();
        let header: Vec<String> = lines.next().map(|h| h.iter().map(ToString::to_string).collect()).unwrap_or_default();
        assert_eq!(header.get(..5), Some(&["行号", "列", "问题类型", "责任单位", "说明"].map(String::from)[..]), "{name}");
        assert!(header.len() > 5, "{name}: the original row's columns follow");
        for line in lines {
            rows += 1;
            assert_eq!(line[3].to_string(), "市商务局", "{name}: another unit's problem in 市商务局's workbook");
            assert!(line.iter().skip(5).any(|c| !c.to_string().is_empty()), "{name}: the original row is there");
        }
    }
    assert!(rows > 0, "the workbook lists the unit's problems");
    let (status, _) = shangwu.get_bytes(&format!("/units/{pboc}/problems.xlsx"));
    assert_eq!(status, 403, "another unit's workbook");
}

#[test]
fn a_units_records_are_escaped_and_gone_after_the_fixed_import() {
    let app = spawn_app();
    let commerce = unit_id(&app, "市商务局");
    let mut admin = app.as_user("xinyongban");
    let header = "行政相对人名称,行政相对人类别,统一社会信用代码,许可决定文书号,许可类别,许可决定日期,有效期自,有效期至,许可机关,数据来源单位,公示日期\n";
    let good = "青川示例有限公司,法人及非法人组织,91510802MA62P5XK3L,青川许〔2019〕1号,普通,2019-01-07,2019-01-07,2022-01-06,青川市行政审批局,市商务局,2019-01-08\n";
    // Three problems in one record: a wrong code, an unknown category, a date that does not exist.
    let bad = "<script>alert(1)</script>,法人及非法人组织,91510802MA62P5XK3X,青川许〔2019〕2号,乱填,2019-13-45,2019-01-07,2022-01-06,青川市行政审批局,市商务局,2019-01-08\n";
    let page = import(&mut admin, "licences", "许可.csv", format!("{header}{good}{bad}").as_bytes());
    assert!(page.contains("id=\"import-done\""), "{page}");
    let mut shangwu = app.as_user("shangwu");
    let unit = shangwu.get(&format!("/units/{commerce}")).body;
    assert!(unit.contains("2019-13-45"), "the bad record is among the unit's worst: {}", &unit[unit.find("id=\"records\"").unwrap_or(0)..]);
    assert!(!unit.contains("<script>alert(1)</script>") && unit.contains("&lt;script&gt;alert(1)&lt;"), "escaped, not dropped");
    // Fixed in the unit's own system, pushed again: gone.
    let page = import(&mut admin, "licences", "许可-更正.csv", format!("{header}{good}").as_bytes());
    assert!(page.contains("id=\"import-done\""), "{page}");
    let unit = shangwu.get(&format!("/units/{commerce}")).body;
    assert!(!unit.contains("2019-13-45") && !unit.contains("&lt;script&gt;"), "the fixed record is gone");
}

/// An import started on one server is seen, with how it ended, from another server of
/// the same store (which shares nothing in memory with the first); another city's
/// office never sees it.
#[test]
fn an_import_is_seen_from_every_server_of_the_store_and_by_no_other_city() {
    let app = spawn_app();
    let other = app.second_server();
    let (bytes, _) = generated(CityProfile::qingchuan(), DatasetKind::Licences, 300, 5);
    let mut admin = app.as_user("xinyongban");
    let r = admin.upload_dataset("licences", "许可.csv", &bytes, None);
    assert_eq!(r.status, 303, "{}", r.body);
    let job = r.location.unwrap_or_else(|| panic!("no job page"));
    let here = admin.import_result(&job).body;
    assert!(here.contains("已导入:300 行"), "{here}");
    let mut there = other.as_user("xinyongban");
    let page = there.import_result(&job);
    assert_eq!(page.status, 200, "the other server knows the job");
    assert!(page.body.contains("许可.csv") && page.body.contains("已导入:300 行"), "the other server shows how it ended: {}", page.body);
    assert_eq!(here.split("id=\"import-done\"").nth(1).map(|x| x.split("</main>").next()), page.body.split("id=\"import-done\"").nth(1).map(|x| x.split("</main>").next()), "the same outcome on both servers");
    // A city whose office is not 青川市's: the job is not found.
    app.second_city();
    app.with_workspace_of("临江市", |ws| async move {
        ws.create_user("lj", "临江信用办", "0123456789ab", creditcity_app::accounts::Role::Admin, None, &creditcity_app::Actor("test".to_owned())).await.unwrap_or_else(|e| panic!("{e}"));
        (ws, ())
    });
    assert_eq!(app.as_user_with("lj", "0123456789ab").get(&job).status, 404);
}
