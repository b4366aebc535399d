//! The comparison of cities on the web, as the province office sees it: each city's
//! served assessment links to its rules, other periods' do not, another edition is
//! never ranked with them, and the workbook opens. A city's own office sees its city
//! alone.

use calamine::Reader as _;
use creditcity_rubric::Rubric;

use crate::harness::{App, spawn_app};

/// The demo's period: a city of the same period and edition is ranked with 青川市.
const PERIOD: &str = "2018年12月15日至2019年3月15日";

/// A city without values, in the served city's period, on the 2019 edition or (with
/// `other_edition`) on another one (the 2019 rubric renamed), for which this server
/// has no rubric.
fn city(app: &App, name: &str, other_edition: bool) {
    let (location, name) = (app.location.clone(), name.to_owned());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("{e}"));
        rt.block_on(async {
            let text = include_str!("../../../rubrics/2019.toml");
            let text = if other_edition { text.replacen("edition = \"2019\"", "edition = \"2021试行\"", 1) } else { text.to_owned() };
            let rubric = Rubric::parse(&text, "rubric.toml").unwrap_or_else(|e| panic!("{e}"));
            creditcity_app::init(&location, &rubric, &name, PERIOD, &creditcity_app::Actor("test".to_owned())).await.unwrap_or_else(|e| panic!("{e}"));
        });
    })
    .join()
    .unwrap_or_else(|_| panic!("could not create the city"));
}

#[test]
fn the_page_ranks_the_cities_links_each_served_one_and_explains_the_rest() {
    let app = spawn_app();
    city(&app, "临江市", false);
    city(&app, "河口市", true);
    // Another period of the same edition: a group of its own, and the page says why.
    app.second_city();
    let mut admin = app.province_office();
    let r = admin.get("/compare");
    assert_eq!(r.status, 200, "{}", r.body);
    // Attributes escape "/" as "&#x2f;" (read back as "/" by the browser).
    let body = &r.body.replace("&#x2f;", "/");
    assert!(body.contains(&format!("2019 版细则 · {PERIOD} · 2 个城市")), "the cities of this edition and period are ranked together");
    assert!(body.contains("2019 版细则 · 2019 · 1 个城市") && body.contains("不同评估期间"), "another period is ranked apart, and the page says why");
    // 青川市 (the demo's values) first, 临江市 (no values) second.
    let qingchuan = body.find("<td>青川市").unwrap_or_else(|| panic!("no 青川市 row"));
    let linjiang = body.find("<td>临江市").unwrap_or_else(|| panic!("no 临江市 row"));
    assert!(qingchuan < linjiang, "ranked by score");
    // 青川市's row holds the app's own comparison: working and confirmed totals, the
    // gates, the tasks accepted of all and those overdue.
    let expected = {
        let location = app.location.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("{e}"));
            let rubric = Rubric::embedded_2019().unwrap_or_else(|e| panic!("{e}"));
            let c = rt.block_on(creditcity_app::compare::compare(&location, &[rubric], &creditcity_app::today())).unwrap_or_else(|e| panic!("{e}"));
            c.groups.into_iter().flat_map(|g| g.cities).find(|x| x.city == "青川市" && x.rank == 1).unwrap_or_else(|| panic!("no 青川市 first"))
        })
        .join()
        .unwrap_or_else(|_| panic!("the comparison failed"))
    };
    let row = body[qingchuan..linjiang].split("</tr>").next().unwrap_or_default();
    let points = creditcity_rubric::format::points;
    let passed = expected.gates.iter().filter(|g| **g == creditcity_rubric::GateStatus::Passed).count();
    let failed = expected.gates.iter().filter(|g| **g == creditcity_rubric::GateStatus::Failed).count();
    for cell in [
        format!("<td class=\"num\">{}</td>", points(expected.working.total)),
        format!("<td class=\"num\">{}<div class=\"muted\">附加 {}</div></td>", points(expected.confirmed.total), points(expected.confirmed.bonus)),
        format!("{passed} 通过 · {failed} 未通过 · {} 待填报", expected.gates.len() - passed - failed),
        format!("<td class=\"num\">{} / {}</td>", expected.tasks.accepted, expected.tasks.total),
    ] {
        assert!(row.contains(&cell), "青川市's row lacks {cell}:\n{row}");
    }
    assert!(expected.confirmed.total > 0.0 && expected.confirmed.total < expected.working.total, "the demo has accepted some values, not all");
    assert!(expected.tasks.total > 0, "the demo has tasks");
    let overdue = if expected.tasks.overdue > 0 { format!("<span class=\"err\">{}</span>", expected.tasks.overdue) } else { "0".to_owned() };
    assert!(row.ends_with(&format!("<td class=\"num\">{overdue}</td>\n")) || row.ends_with(&format!("<td class=\"num\">{overdue}</td>")), "青川市's overdue tasks: {row}");
    // Links: each city's served (newest) assessment, its sections and rules once each:
    // 青川市 here, 临江市 in the other period (its newest); none for 临江市's older one.
    let rubric = Rubric::embedded_2019().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(body.matches("?next=%2Frules%23s").count(), 2 * rubric.sections.len());
    // A section's rules on a page of their own (a province's page stays small).
    assert_eq!(body.matches("?next=%2Frules%2F").count(), 0);
    let (mut all, mut qingchuan) = (0, 0);
    for section in &rubric.sections {
        let page = admin.get(&format!("/compare?section={}", section.id)).body.replace("&#x2f;", "/");
        all += page.matches("?next=%2Frules%2F").count();
        qingchuan += page.matches("href=\"/cities/1?next=%2Frules%2F").count();
    }
    assert_eq!(all, 2 * rubric.rules.len());
    assert_eq!(qingchuan, rubric.rules.len(), "青川市's rules");
    assert_eq!(admin.get("/compare?section=99").status, 404, "a section the rubric does not have");
    assert!(body.contains("点开一个城市的得分格"), "the page says what a cell opens");
    // A cell's link switches to the city and opens its rule.
    let r = admin.get("/cities/2?next=%2Frules%2F7.2a");
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/rules/7.2a")));
    assert!(admin.get("/rules/7.2a").body.contains("临江市"), "the rule page is 临江市's");
    // A city's own office compares its city alone.
    let own = app.as_user("xinyongban").get("/compare").body;
    assert!(own.contains("青川市") && !own.contains("<td>临江市"), "a city's office sees no other city");
    // The heat map: a colour by share of the maximum (临江市 has nothing: red).
    assert!(body.contains("<td class=\"h q0\""), "a red cell");
    assert!(body.contains(".q0{background:hsl(0,62%,90%)}"), "red styled");
    // The other edition: listed with why, never ranked.
    assert!(body.contains("未参与对比") && body.contains("河口市") && body.contains("没有 2021试行 版细则"), "the page says why 河口市 is not ranked");
    // The rules' anchors exist on the rules page.
    assert!(admin.get("/rules").body.contains("id=\"s1\""));
}

#[test]
fn the_workbook_has_the_cities() {
    let app = spawn_app();
    city(&app, "临江市", false);
    let mut viewer = app.province_office();
    let (status, bytes) = viewer.get_bytes("/compare.xlsx");
    assert_eq!(status, 200);
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap_or_else(|e| panic!("{e}"));
    let first = book.sheet_names()[0].clone();
    assert!(first.starts_with("2019 版"), "{first}");
    let sheet = book.worksheet_range(&first).unwrap_or_else(|e| panic!("{e}"));
    let cities: Vec<String> = (2..4).map(|r| sheet.get_value((r, 1)).map(ToString::to_string).unwrap_or_default()).collect();
    assert_eq!(cities, ["青川市", "临江市"]);
}

#[test]
fn city_names_are_escaped() {
    let app = spawn_app();
    city(&app, "<i>x</i>市", false);
    let body = app.province_office().get("/compare").body;
    assert!(body.contains("&lt;i&gt;x&lt;&#x2f;i&gt;市") || body.contains("&lt;i&gt;x&lt;/i&gt;市"), "escaped");
    assert!(!body.contains("<i>x</i>"));
}
