//! Scoring files: reports, JSON, exit codes.

use std::path::PathBuf;
use std::process::{Command, Output};

use creditcity::render;
use creditcity_rubric::{Rubric, format, score, testkit};
use proptest::prelude::*;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_creditcity"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("cannot run creditcity: {e}"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn rubric() -> Rubric {
    Rubric::embedded_2019().unwrap_or_else(|e| panic!("{e}"))
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("creditcity-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
    path
}

#[test]
fn the_complete_example_report() {
    let o = run(&["score", "examples/qingchuan-complete.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    insta::assert_snapshot!("qingchuan_complete", stdout(&o));
}

#[test]
fn the_midway_example_report() {
    let o = run(&["score", "examples/linjiang-midway.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    insta::assert_snapshot!("linjiang_midway", stdout(&o));
}

#[test]
fn json_follows_the_contract() {
    let o = run(&["score", "examples/linjiang-midway.toml", "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["rubric"], "2019");
    for key in ["total", "bonus", "grand_total"] {
        assert!(v[key].is_f64(), "{key} is a number");
    }
    assert!(v["veto"].is_boolean());
    let r = rubric();
    let rules = v["rules"].as_array().unwrap_or_else(|| panic!("rules is an array"));
    let ids: Vec<&str> = rules.iter().filter_map(|x| x["id"].as_str()).collect();
    let expected: Vec<&str> = r.rules.iter().map(|x| x.id.as_str()).collect();
    assert_eq!(ids, expected, "every rule exactly once, in order");
    for rule in rules {
        assert!(rule["score"].is_f64() && rule["max"].is_f64());
        match rule["status"].as_str() {
            Some("scored") => assert!(rule.get("missing").is_none()),
            Some("incomplete") => assert!(!rule["missing"].as_array().is_none_or(Vec::is_empty)),
            other => panic!("status {other:?}"),
        }
    }
    let gates = v["gates"].as_array().unwrap_or_else(|| panic!("gates is an array"));
    let ids: Vec<&str> = gates.iter().filter_map(|x| x["id"].as_str()).collect();
    assert_eq!(ids, ["G1", "G2", "G3", "G4", "G5", "G6", "G7", "G8", "G9", "G10"]);
    let g10 = &gates[9];
    assert_eq!(g10["status"], "incomplete");
    assert_eq!(g10["missing"], serde_json::json!(["s3.monitoring_rank_ok"]));
    assert_eq!(v["veto"], true);
    // Full precision: the sum of the rules, not a rounded figure.
    let sum: f64 = rules.iter().filter(|x| x["section"] != "B").filter_map(|x| x["score"].as_f64()).sum();
    assert!((v["total"].as_f64().unwrap_or(-1.0) - sum).abs() < 1e-9);
}

#[test]
fn json_carries_structured_targets_and_exact_full_marks() {
    let o = run(&["score", "examples/linjiang-midway.toml", "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(!text.contains("99999999") && !text.contains("00000001"), "float noise in the JSON");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let rules = v["rules"].as_array().unwrap_or_else(|| panic!("rules"));
    let by_id = |id: &str| rules.iter().find(|x| x["id"] == id).unwrap_or_else(|| panic!("no {id}"));
    // Every scored rule below its maximum says what raises it, as data, or that it cannot.
    for rule in rules {
        let (score, max) = (rule["score"].as_f64().unwrap_or(-1.0), rule["max"].as_f64().unwrap_or(-1.0));
        let judged = matches!(rule["id"].as_str(), Some("1.1" | "3.1b" | "8.2f" | "B"));
        if rule["status"] == "scored" && score < max && !judged {
            let has = rule["targets"].as_array().is_some_and(|t| !t.is_empty()) || rule["fixed"].as_array().is_some_and(|f| !f.is_empty());
            assert!(has, "{}: no structured target", rule["id"]);
        }
        if score >= max {
            assert_eq!(score.to_bits(), max.to_bits(), "{}", rule["id"]);
        }
    }
    // 10.6: the gate before full marks; both, cheapest first.
    let t = by_id("10.6")["targets"].as_array().cloned().unwrap_or_default();
    assert_eq!(t[0]["input"], "s10.blacklist_exited");
    assert_eq!((t[0]["delta"].as_f64(), t[0]["gate"].as_str()), (Some(98.0), Some("G7")));
    assert_eq!((t[1]["delta"].as_f64(), t[1]["full"].as_bool()), (Some(386.0), Some(true)));
    for key in ["input", "current", "required", "delta", "unit", "gain"] {
        assert!(t[0].get(key).is_some(), "{key} missing");
    }
    // 3.3b depends on history only.
    assert_eq!(by_id("3.3b")["fixed"], serde_json::json!(["s3.monitoring_scores"]));
    assert!(by_id("3.3b").get("targets").is_none());
    // Gates carry theirs: G9 names both commitment inputs of its first condition.
    let gates = v["gates"].as_array().unwrap_or_else(|| panic!("gates"));
    let g9: Vec<&str> = gates[8]["targets"].as_array().into_iter().flatten().filter_map(|x| x["input"].as_str()).collect();
    assert!(g9.contains(&"s10.voluntary_commitments") && g9.contains(&"s10.self_discipline_commitments"), "{g9:?}");
    assert_eq!(by_id("7.1a")["source"], "由人民银行评分");
}

#[test]
fn rubric_show_says_when_the_source_has_no_detail() {
    let o = run(&["rubric", "show", "8.2c"]);
    assert!(stdout(&o).contains("评分细则:\n  原文无评分细则"), "{}", stdout(&o));
    let o = run(&["rubric", "show", "3.3b"]);
    assert!(stdout(&o).contains("根据中经网信息考核") && stdout(&o).contains("历史数据"), "{}", stdout(&o));
}

#[test]
fn invalid_input_exits_1_and_names_every_key() {
    let path = temp_file("bad.toml", "[s7]\nnpl_ratio = 1.8\n[s8]\nhalls_connected = 12\nhalls_total = 10\nunits_totl = 3\n");
    let o = run(&["score", path.to_str().unwrap_or_default()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty(), "nothing is scored from invalid input");
    let err = stderr(&o);
    for key in ["s7.npl_ratio", "s8.halls_connected", "s8.units_totl"] {
        assert!(err.contains(key), "{key} not named in:\n{err}");
    }
    assert!(err.contains("s8.units_total"), "suggests the closest key:\n{err}");
    assert!(err.starts_with("错误:"), "{err}");
    assert!(err.contains("line 2"), "{err}");
}

#[test]
fn an_unreadable_file_exits_4() {
    let o = run(&["score", "examples/no-such-city.toml"]);
    assert_eq!(o.status.code(), Some(4));
    let err = stderr(&o);
    assert!(err.contains("no-such-city.toml") && err.contains("不存在"), "{err}");
}

#[test]
fn a_broken_rubric_exits_3_with_file_line_and_key() {
    let text = std::fs::read_to_string(root().join("rubrics/2019.toml")).unwrap_or_else(|e| panic!("{e}"));
    let path = temp_file("broken-rubric.toml", &text.replacen("max = 22", "max = 21", 1));
    let p = path.to_str().unwrap_or_default();
    let o = run(&["rubric", "check", p]);
    assert_eq!(o.status.code(), Some(3));
    let err = stderr(&o);
    assert!(err.contains(&format!("{p}:")) && err.contains("sections.10.max"), "{err}");
    // The same rubric is refused by `score --rubric`.
    let o = run(&["score", "examples/qingchuan-complete.toml", "--rubric", p]);
    assert_eq!(o.status.code(), Some(3));
}

#[test]
fn the_shipped_rubric_checks() {
    let o = run(&["rubric", "check", "rubrics/2019.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("54 条评分规则"), "{}", stdout(&o));
}

#[test]
fn rubric_show_prints_text_inputs_and_evidence() {
    let o = run(&["rubric", "show", "7.2a"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for needle in ["金融案件执结率", "s7.cases_closed", "≤ s7.cases_pending_prior + s7.cases_received", "佐证材料", "[1]"] {
        assert!(out.contains(needle), "{needle} missing from:\n{out}");
    }
    let o = run(&["rubric", "show"]);
    assert!(stdout(&o).contains("10.8") && stdout(&o).contains("G10"));
    let o = run(&["rubric", "show", "9.9"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("9.9"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The text report shows, for every rule and the totals, the JSON's numbers.
    #[test]
    fn text_and_json_agree(a in testkit::assessment(&rubric())) {
        let r = rubric();
        let card = score(&r, &a);
        let report = render::report(&r, &a, &card);
        let text = render::text(&r, &report);
        let json: serde_json::Value = serde_json::from_str(&render::json(&report)).unwrap_or_else(|e| panic!("{e}"));
        let mut rest = text.as_str();
        for rule in json["rules"].as_array().into_iter().flatten() {
            let id = rule["id"].as_str().unwrap_or_default();
            // A score short of full marks is never shown as full marks.
            let cell = format!("{} / ", format::points_below(rule["score"].as_f64().unwrap_or(-1.0), rule["max"].as_f64().unwrap_or(-1.0)));
            let at = rest.find(&format!("  {id} ")).unwrap_or_else(|| panic!("rule {id} not in the text"));
            let line = rest[at..].lines().next().unwrap_or_default();
            prop_assert!(line.contains(&cell), "rule {}: text line {:?} lacks {}", id, line, cell);
            rest = &rest[at..];
        }
        let totals = format!("总分 {} / 100", format::points(json["total"].as_f64().unwrap_or(-1.0)));
        prop_assert!(text.contains(&totals));
        let veto = json["veto"].as_bool().unwrap_or(false);
        prop_assert_eq!(text.contains("一票否决:是"), veto);
    }
}
