//! `creditcity compare` on a store of two cities (and a third on another edition): the
//! text table, the JSON, the workbook, and the exit codes.

use std::path::Path;

use calamine::Reader as _;
use creditcity::text::width;

use crate::workspace::{cc, example, ok};

/// 青川市 (plan, complete values) and 临江市 (midway values, no plan), period 2019.
fn two_cities(d: &Path) {
    ok(d, &["init", "--city", "青川市", "--period", "2019"]);
    ok(d, &["init", "--city", "临江市", "--period", "2019"]);
    ok(d, &["--assessment", "青川市", "plan", "import", &example("qingchuan-plan.toml")]);
    ok(d, &["--assessment", "青川市", "set", "--file", &example("qingchuan-complete.toml")]);
    ok(d, &["--assessment", "临江市", "set", "--file", &example("linjiang-midway.toml")]);
}

/// The total and bonus `score FILE --format json` gives an example file.
fn file_totals(d: &Path, name: &str) -> (f64, f64) {
    let v: serde_json::Value = serde_json::from_str(&ok(d, &["score", &example(name), "--format", "json"])).unwrap_or_else(|e| panic!("{e}"));
    (v["total"].as_f64().unwrap_or(f64::NAN), v["bonus"].as_f64().unwrap_or(f64::NAN))
}

#[test]
fn text_lists_both_cities_ranked_in_aligned_columns() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    two_cities(d);
    let out = ok(d, &["compare", "--as-of", "2030-01-01"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "2019 版细则 · 2019 · 2 个城市 · 截至 2030-01-01", "{out}");
    assert!(lines[1].starts_with("排名  城市") && lines[1].contains("工作得分") && lines[1].contains("逾期"), "{out}");
    let first: Vec<&str> = lines[2].split_whitespace().collect();
    let second: Vec<&str> = lines[3].split_whitespace().collect();
    // rank, city, working, bonus, confirmed, veto, gates, sections…, tasks, overdue
    assert_eq!(&first[..6], ["1", "青川市", "82.94", "6.50", "0.00", "否"], "{out}");
    assert_eq!(&second[..6], ["2", "临江市", "35.24", "0.00", "0.00", "是"], "{out}");
    assert_eq!(&first[first.len() - 2..], ["0/75", "75"], "every dated task is overdue in 2030: {out}");
    assert_eq!(&second[second.len() - 2..], ["0/0", "0"], "{out}");
    // Chinese takes two columns: every line of the table ends in the same column.
    assert_eq!(width(lines[1]), width(lines[2]), "{out}");
    assert_eq!(width(lines[2]), width(lines[3]), "{out}");
    assert!(out.contains("各部分满分:一 4 · 二 4") && out.contains("附加 10"), "{out}");
    assert!(out.contains("得分相同者并列"), "the ranking rule is stated: {out}");
}

#[test]
fn json_has_the_engines_exact_totals_ranks_gates_and_progress() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    two_cities(d);
    let v: serde_json::Value =
        serde_json::from_str(&ok(d, &["compare", "--format", "json", "--as-of", "2030-01-01"])).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["today"], "2030-01-01");
    let groups = v["groups"].as_array().unwrap_or_else(|| panic!("no groups: {v}"));
    assert_eq!(groups.len(), 1);
    let g = &groups[0];
    assert_eq!((g["edition"].as_str(), g["period"].as_str(), g["total_max"].as_f64()), (Some("2019"), Some("2019"), Some(100.0)));
    let cities = g["cities"].as_array().unwrap_or_else(|| panic!("no cities: {v}"));
    let (q, l) = (&cities[0], &cities[1]);
    assert_eq!((q["city"].as_str(), q["rank"].as_u64()), (Some("青川市"), Some(1)));
    assert_eq!((l["city"].as_str(), l["rank"].as_u64()), (Some("临江市"), Some(2)));
    let (qt, qb) = file_totals(d, "qingchuan-complete.toml");
    assert_eq!((q["working"]["total"].as_f64(), q["working"]["bonus"].as_f64()), (Some(qt), Some(qb)));
    assert_eq!(q["working"]["grand_total"].as_f64(), Some(qt + qb));
    let (lt, _) = file_totals(d, "linjiang-midway.toml");
    assert_eq!(l["working"]["total"].as_f64(), Some(lt));
    assert_eq!(l["working"]["veto"], true);
    assert_eq!(q["confirmed"]["total"].as_f64(), Some(0.0), "nothing accepted yet");
    let gates = &l["gates"];
    let n = |k: &str| gates[k].as_u64().unwrap_or(99);
    assert_eq!(n("passed") + n("failed") + n("undecided"), gates["by_gate"].as_array().map_or(0, |a| a.len() as u64));
    assert!(n("failed") > 0);
    assert_eq!(q["sections"].as_array().map(Vec::len), g["sections"].as_array().map(Vec::len));
    assert_eq!(q["sections"][0]["max"].as_f64(), Some(4.0));
    assert_eq!((q["tasks"]["total"].as_u64(), q["tasks"]["overdue"].as_u64()), (Some(75), Some(75)));
    assert!(v["unscored"].as_array().is_some_and(Vec::is_empty) && v["notes"].as_array().is_some_and(Vec::is_empty), "{v}");
}

#[test]
fn the_workbook_opens_and_has_the_cities() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    two_cities(d);
    let out = ok(d, &["compare", "-o", "对比.xlsx"]);
    assert!(out.starts_with("已导出城市对比 对比.xlsx(2 个城市"), "{out}");
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(d.join("对比.xlsx")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(book.sheet_names(), ["2019 版 2019", "说明"]);
    let sheet = book.worksheet_range("2019 版 2019").unwrap_or_else(|e| panic!("{e}"));
    let cell = |r: u32, c: u32| sheet.get_value((r, c)).map(ToString::to_string).unwrap_or_default();
    assert_eq!(cell(1, 0), "排名");
    assert_eq!([cell(2, 1), cell(3, 1)], ["青川市", "临江市"]);
    assert_eq!([cell(2, 0), cell(3, 0)], ["1", "2"]);
    let headers: Vec<String> = (0..40).map(|c| cell(1, c)).collect();
    assert!(headers.iter().any(|h| h.starts_with("一、贯彻落实")), "a column per section: {headers:?}");
    assert!(headers.iter().any(|h| h == "逾期任务"), "{headers:?}");
}

#[test]
fn another_edition_is_grouped_apart_and_says_why() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    two_cities(d);
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rubrics/2019.toml")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(d.join("2021.toml"), text.replacen("edition = \"2019\"", "edition = \"2021试行\"", 1)).unwrap_or_else(|e| panic!("{e}"));
    ok(d, &["--rubric", "2021.toml", "init", "--city", "河口市", "--period", "2019"]);
    // Without its rubric, the city is named with why, and not ranked.
    let out = ok(d, &["compare"]);
    assert!(out.contains("未参与对比") && out.contains("河口市(2021试行 版 · 2019):没有 2021试行 版细则"), "{out}");
    // With it: a group of its own, and the reason the groups are apart.
    let v: serde_json::Value = serde_json::from_str(&ok(d, &["compare", "--edition", "2021.toml", "--format", "json"])).unwrap_or_else(|e| panic!("{e}"));
    let editions: Vec<&str> = v["groups"].as_array().map(|g| g.iter().filter_map(|x| x["edition"].as_str()).collect()).unwrap_or_default();
    assert_eq!(editions, ["2019", "2021试行"]);
    assert_eq!(v["groups"][1]["cities"][0]["city"], "河口市");
    assert_eq!(v["groups"][1]["cities"][0]["rank"], 1);
    assert!(v["notes"][0].as_str().is_some_and(|n| n.contains("不跨版本排名")), "{v}");
    let out = ok(d, &["compare", "--edition", "2021.toml"]);
    assert!(out.contains("2021试行 版细则 · 2019 · 1 个城市") && out.contains("不跨版本排名"), "{out}");
}

#[test]
fn exit_codes_follow_the_contract() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    assert_eq!(cc(d, &["compare"]).status.code(), Some(1), "no store yet");
    two_cities(d);
    assert_eq!(cc(d, &["compare", "--as-of", "30/01/2030"]).status.code(), Some(2));
    assert_eq!(cc(d, &["compare", "--format", "yaml"]).status.code(), Some(2));
    std::fs::write(d.join("bad.toml"), "edition = \n").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cc(d, &["compare", "--edition", "bad.toml"]).status.code(), Some(3));
    assert_eq!(cc(d, &["compare", "--edition", "missing.toml"]).status.code(), Some(4));
    let o = cc(d, &["compare", "-o", "no/such/dir/x.xlsx"]);
    assert_eq!(o.status.code(), Some(4), "{}", String::from_utf8_lossy(&o.stderr));
}

/// `serve --demo --province`, as the README and docs/deploy.md start it: twelve cities of
/// one province at different stages of their campaigns; the province office ranks them
/// all, a city's office sees its own, the evaluator its three.
#[test]
fn the_province_demo_holds_twelve_cities_at_different_stages() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    let server = super::race::serve_with(d, &["--demo", "--province"]).unwrap_or_else(|e| panic!("{e}"));
    let mut province = super::race::Browser::new(&server.base);
    province.login_with("shengxinyongban", "demo-password");
    let (status, page, _) = province.get("/compare");
    assert_eq!(status, 200, "{page}");
    let v: serde_json::Value = serde_json::from_str(&ok(d, &["compare", "--format", "json"])).unwrap_or_else(|e| panic!("{e}"));
    let groups = v["groups"].as_array().unwrap_or_else(|| panic!("no groups: {v}"));
    assert_eq!(groups.len(), 1, "one rubric, one period: one ranking");
    let cities = groups[0]["cities"].as_array().unwrap_or_else(|| panic!("no cities: {v}"));
    assert_eq!(cities.len(), 12, "{v}");
    for c in cities {
        let name = c["city"].as_str().unwrap_or_default();
        assert!(page.contains(name), "the province office's comparison lists {name}");
    }
    let ranks: Vec<u64> = cities.iter().filter_map(|c| c["rank"].as_u64()).collect();
    assert_eq!(ranks, (1..=12).collect::<Vec<_>>(), "ranked 1 to 12");
    // Different stages: totals, accepted tasks and overdue tasks all vary.
    let distinct = |f: &dyn Fn(&serde_json::Value) -> String| cities.iter().map(f).collect::<std::collections::BTreeSet<_>>().len();
    assert!(distinct(&|c| c["working"]["total"].to_string()) >= 8, "working totals: {v}");
    assert!(distinct(&|c| c["tasks"]["accepted"].to_string()) >= 5, "accepted tasks: {v}");
    assert!(cities.iter().any(|c| c["tasks"]["overdue"].as_u64() > Some(0)), "some city is late: {v}");
    assert!(cities.iter().any(|c| c["working"]["total"].as_f64() == Some(0.0)), "some city has just started: {v}");

    let seen = |user: &str| {
        let mut b = super::race::Browser::new(&server.base);
        b.login_with(user, "demo-password");
        let (_, page, _) = b.get("/compare");
        cities.iter().filter_map(|c| c["city"].as_str()).filter(|n| page.contains(*n)).count()
    };
    let status = ok(d, &["--assessment", "临江市", "status"]);
    assert!(status.contains("人行临江市中心支行") && !status.contains("青川"), "临江市's units are named for 临江市:\n{status}");
    assert_eq!(seen("linjiang"), 1, "a city's office sees its own city");
    assert_eq!(seen("zhuanjia"), 3, "the evaluator sees the three cities assigned");
}
