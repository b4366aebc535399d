//! The comparison of cities on a real store, each case on a SQLite file and on a
//! PostgreSQL database (`CREDITCITY_TEST_PG`; `eval "$(bash .ci/pg-start)"` starts one,
//! and the PostgreSQL half fails without it): exact totals and ranks, editions never
//! ranked together, a broken city scored around its broken values.

use std::path::PathBuf;

use calamine::Reader as _;

use creditcity_app::compare::{self, Comparison, EDITIONS_APART};
use creditcity_app::{Actor, Workspace, init};
use creditcity_rubric::{GateStatus, Rubric, Scorecard, score};
use creditcity_store::{Decision, Location};

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn rubric() -> Rubric {
    Rubric::embedded_2019().unwrap_or_else(|e| panic!("{e}"))
}

/// The 2019 rubric under another edition's name: the same rules, another edition.
fn other_edition() -> Rubric {
    let text = include_str!("../../../rubrics/2019.toml").replacen("edition = \"2019\"", "edition = \"2021试行\"", 1);
    Rubric::parse(&text, "2021.toml").unwrap_or_else(|e| panic!("{e}"))
}

fn who() -> Actor {
    Actor("信用办".to_owned())
}

fn example(name: &str) -> String {
    std::fs::read_to_string(examples().join(name)).unwrap_or_else(|e| panic!("{e}"))
}

/// The engine's scorecard of an example file, the reference every total is checked against.
fn file_card(name: &str) -> Scorecard {
    let r = rubric();
    score(&r, &r.parse_assessment(&example(name)).unwrap_or_else(|e| panic!("{e}")))
}

/// A city with the plan (optional) and the values of an example file.
async fn city(location: &Location, rubric: &Rubric, name: &str, inputs: &str, plan: bool) -> Workspace {
    init(location, rubric, name, "2019", &who()).await.unwrap_or_else(|e| panic!("{e}"));
    let ws = Workspace::open(location, rubric.clone(), Some(name)).await.unwrap_or_else(|e| panic!("{e}"));
    if plan {
        ws.import_plan(&example("qingchuan-plan.toml"), &who()).await.unwrap_or_else(|e| panic!("{e}"));
    }
    // The files name their own city; the values are what matters here.
    let text = example(inputs).replace("city = \"青川市\"", &format!("city = \"{name}\"")).replace("city = \"临江市\"", &format!("city = \"{name}\""));
    ws.import_inputs(&text, inputs, plan.then_some("市信用办"), &who()).await.unwrap_or_else(|e| panic!("{e}"));
    ws
}

async fn run(location: &Location, rubrics: &[Rubric], today: &str) -> Comparison {
    compare::compare(location, rubrics, today).await.unwrap_or_else(|e| panic!("{e}"))
}

async fn two_cities_have_the_engines_exact_totals_and_are_ranked(_dir: &std::path::Path, location: Location) {
    let r = rubric();
    let qingchuan = city(&location, &r, "青川市", "qingchuan-complete.toml", true).await;
    let linjiang = city(&location, &r, "临江市", "linjiang-midway.toml", false).await;
    // One accepted value in 临江市: its confirmed score is that value's alone.
    linjiang.review("input", "s7.npl_ratio", Decision::Accept, "", &who()).await.unwrap_or_else(|e| panic!("{e}"));
    let confirmed_linjiang = linjiang.scores().await.unwrap_or_else(|e| panic!("{e}")).confirmed.1;
    assert!(confirmed_linjiang.total > 0.0, "the accepted value scores");

    let c = run(&location, std::slice::from_ref(&r), "2030-01-01").await;
    assert!(c.unscored.is_empty() && c.notes.is_empty(), "{c:?}");
    assert_eq!(c.groups.len(), 1);
    let g = &c.groups[0];
    assert_eq!((g.edition.as_str(), g.period.as_str()), ("2019", "2019"));
    assert_eq!(g.sections.len(), r.sections.len());
    assert_eq!(g.gates.len(), r.gates.len());
    let names: Vec<(&str, u32)> = g.cities.iter().map(|x| (x.city.as_str(), x.rank)).collect();
    assert_eq!(names, [("青川市", 1), ("临江市", 2)]);

    let (q, l) = (&g.cities[0], &g.cities[1]);
    let (qf, lf) = (file_card("qingchuan-complete.toml"), file_card("linjiang-midway.toml"));
    // Exactly the engine's numbers for the same values (82.94 + 6.50 and 35.24 + 0).
    assert_eq!((q.working.total, q.working.bonus, q.working.veto), (qf.total, qf.bonus, qf.veto));
    assert_eq!((l.working.total, l.working.bonus, l.working.veto), (lf.total, lf.bonus, lf.veto));
    assert_eq!(format!("{:.2} {:.2}", q.working.total, q.working.bonus), "82.94 6.50");
    assert_eq!(format!("{:.2}", l.working.total), "35.24");
    assert_eq!(q.sections.iter().map(|s| s.working).collect::<Vec<_>>(), qf.sections);
    assert_eq!(q.gates, qf.gates.iter().map(|x| x.status).collect::<Vec<_>>());
    assert_eq!(l.gates, lf.gates.iter().map(|x| x.status).collect::<Vec<_>>());
    let (passed, failed, undecided) = l.gate_counts();
    assert_eq!(passed + failed + undecided, r.gates.len());
    assert!(l.gates.contains(&GateStatus::Incomplete) || l.gates.contains(&GateStatus::Failed), "a midway city has gates to decide");
    // Confirmed: nothing accepted in 青川市; 临江市's one accepted value.
    assert_eq!((q.confirmed.total, q.confirmed.bonus), (0.0, 0.0));
    assert_eq!(l.confirmed.total.to_bits(), confirmed_linjiang.total.to_bits());
    assert_eq!(l.sections.iter().map(|s| s.confirmed).collect::<Vec<_>>(), confirmed_linjiang.sections);

    // Progress: the plan's tasks, overdue counted as the status page counts them.
    let progress = qingchuan.progress("2030-01-01").await.unwrap_or_else(|e| panic!("{e}"));
    let tasks = qingchuan.tasks().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(q.tasks.total, tasks.len());
    assert_eq!(q.tasks.overdue, progress.overdue.len());
    assert!(q.tasks.overdue > 0, "every dated task is overdue in 2030");
    assert_eq!((q.tasks.accepted, q.tasks.submitted), (0, 0));
    assert_eq!(l.tasks, compare::TaskProgress::default(), "临江市 has no plan");
    // Before any deadline, nothing is overdue.
    let early = run(&location, std::slice::from_ref(&r), "2000-01-01").await;
    assert_eq!(early.groups[0].cities[0].tasks.overdue, 0);

    // The workbook: a sheet of the group with both cities, and a sheet of notes.
    let bytes = compare::workbook(&c).unwrap_or_else(|e| panic!("{e}"));
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(book.sheet_names(), ["2019 版 2019", "说明"]);
    let sheet = book.worksheet_range("2019 版 2019").unwrap_or_else(|e| panic!("{e}"));
    let cell = |r: u32, c: u32| sheet.get_value((r, c)).map(ToString::to_string).unwrap_or_default();
    assert_eq!((cell(2, 0), cell(2, 1), cell(3, 0), cell(3, 1)), ("1".to_owned(), "青川市".to_owned(), "2".to_owned(), "临江市".to_owned()));
    assert_eq!(cell(2, 2).parse::<f64>().ok(), Some(q.working.total));

    // The served workspace compares the same store the same way.
    assert_eq!(qingchuan.compare("2030-01-01").await.unwrap_or_else(|e| panic!("{e}")), c);
    qingchuan.close().await;
    linjiang.close().await;
}

async fn equal_cities_share_a_rank(_dir: &std::path::Path, location: Location) {
    let r = rubric();
    for name in ["甲市", "乙市", "丙市"] {
        let file = if name == "乙市" { "linjiang-midway.toml" } else { "qingchuan-complete.toml" };
        city(&location, &r, name, file, false).await.close().await;
    }
    let c = run(&location, &[r], "2030-01-01").await;
    let names: Vec<(&str, u32)> = c.groups[0].cities.iter().map(|x| (x.city.as_str(), x.rank)).collect();
    // Ties by name (Unicode order) within a rank.
    assert_eq!(names, [("丙市", 1), ("甲市", 1), ("乙市", 3)]);
}

async fn different_editions_are_never_ranked_together(dir: &std::path::Path, location: Location) {
    let (r2019, r2021) = (rubric(), other_edition());
    city(&location, &r2019, "青川市", "qingchuan-complete.toml", false).await.close().await;
    city(&location, &r2019, "临江市", "linjiang-midway.toml", false).await.close().await;
    // The best values of all, on the other edition: first of its own group, not of 青川市's.
    let text = example("qingchuan-complete.toml").replace("rubric = \"2019\"", "rubric = \"2021试行\"");
    std::fs::write(dir.join("hekou.toml"), &text).unwrap_or_else(|e| panic!("{e}"));
    init(&location, &r2021, "河口市", "2019", &who()).await.unwrap_or_else(|e| panic!("{e}"));
    let ws = Workspace::open(&location, r2021.clone(), Some("河口市")).await.unwrap_or_else(|e| panic!("{e}"));
    let text = text.replace("city = \"青川市\"", "city = \"河口市\"");
    ws.import_inputs(&text, "hekou.toml", None, &who()).await.unwrap_or_else(|e| panic!("{e}"));
    ws.close().await;

    let c = run(&location, &[r2019.clone(), r2021.clone()], "2030-01-01").await;
    assert!(c.unscored.is_empty(), "{:?}", c.unscored);
    let groups: Vec<(&str, Vec<(&str, u32)>)> =
        c.groups.iter().map(|g| (g.edition.as_str(), g.cities.iter().map(|x| (x.city.as_str(), x.rank)).collect())).collect();
    assert_eq!(groups, [("2019", vec![("青川市", 1), ("临江市", 2)]), ("2021试行", vec![("河口市", 1)])]);
    assert_eq!(c.groups[1].cities[0].working.total.to_bits(), c.groups[0].cities[0].working.total.to_bits(), "scored with its own edition");
    assert_eq!(c.notes, [EDITIONS_APART]);

    // Without the other edition's rubric, its city is listed with why, never ranked.
    let c = run(&location, &[r2019], "2030-01-01").await;
    assert_eq!(c.groups.len(), 1);
    assert_eq!(c.groups[0].cities.len(), 2);
    assert_eq!(c.unscored.len(), 1);
    assert_eq!(c.unscored[0].city, "河口市");
    assert!(c.unscored[0].reason.contains("没有 2021试行 版细则"), "{}", c.unscored[0].reason);
}

async fn a_city_with_broken_stored_values_is_scored_around_them(_dir: &std::path::Path, location: Location) {
    let r = rubric();
    city(&location, &r, "青川市", "qingchuan-complete.toml", false).await.close().await;
    city(&location, &r, "临江市", "qingchuan-complete.toml", false).await.close().await;
    break_city(&location, "临江市").await;
    let c = run(&location, &[r], "2030-01-01").await;
    let g = &c.groups[0];
    let names: Vec<(&str, u32)> = g.cities.iter().map(|x| (x.city.as_str(), x.rank)).collect();
    assert_eq!(names, [("青川市", 1), ("临江市", 2)], "the broken rule no longer scores");
    let broken = &g.cities[1];
    assert!(broken.working.total > 0.0, "everything else still scores");
    assert!(broken.invalid.iter().any(|i| i.rule_id == "7.2a" && i.reasons.iter().any(|r| r.contains("s7.cases_closed"))), "{:?}", broken.invalid);
    assert!(g.cities[0].invalid.is_empty());
}

/// Closed 700 against pending + received of 400, written with the store's unchecked API.
async fn break_city(location: &Location, name: &str) {
    let store = creditcity_store::Store::open(location).await.unwrap_or_else(|e| panic!("{e}"));
    let assessment = store.assessments().await.unwrap_or_else(|e| panic!("{e}")).into_iter().find(|a| a.city == name).map(|a| a.id);
    let assessment = assessment.unwrap_or_else(|| panic!("no {name}"));
    let value = |key: &str, json: &str| creditcity_store::NewValue {
        assessment_id: assessment,
        key: key.to_owned(),
        value_json: json.to_owned(),
        unit_id: None,
        source_kind: creditcity_store::SourceKind::Note,
        source_ref: String::new(),
        note: "written behind the application's back".to_owned(),
        evidence_ids: Vec::new(),
    };
    store
        .set_values(&[value("s7.cases_pending_prior", "200"), value("s7.cases_received", "200"), value("s7.cases_closed", "700")], "tester")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    store.close().await;
}

/// Each case as a test on both backends.
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
                    super::$case(dir.path(), creditcity_store::Location::at(&dir.path().join("c.db"))).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $case() {
                    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
                    super::$case(dir.path(), creditcity_store::testing::postgres_location(dir.path(), "compare")).await;
                }
            )*
        }
    };
}

on_both_backends!(two_cities_have_the_engines_exact_totals_and_are_ranked, equal_cities_share_a_rank, different_editions_are_never_ranked_together, a_city_with_broken_stored_values_is_scored_around_them);
