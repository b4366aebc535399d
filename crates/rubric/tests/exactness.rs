//! Issue 9: explanations a credit office can trust, and targets a program can use.
//!
//! Each defect of the issue is reproduced here from an example city with a one-line
//! change (or from a small fragment), then the laws behind them are checked on random
//! valid assessments: shown arithmetic gives the shown result, no shown value crosses
//! the threshold its verdict denies, full marks are exactly the maximum.

use creditcity_rubric::assessment::{Meta, RawValue};
use creditcity_rubric::explain::{Alternative, Relation};
use creditcity_rubric::{Assessment, Explanation, Status, explain_gate, explain_rule, score, testkit};
use proptest::prelude::*;

use crate::rubric;

const EXAMPLE: &str = include_str!("../../../examples/qingchuan-complete.toml");

/// The example city with one value changed (`key = value` as in the file).
fn example_with(key: &str, value: &str) -> Assessment {
    let r = rubric();
    let a = r.parse_assessment(EXAMPLE).unwrap_or_else(|e| panic!("{e}"));
    let mut entries = a.entries(r);
    let raw = RawValue::parse_toml(value).unwrap_or_else(|e| panic!("{value}: {e}"));
    match entries.iter_mut().find(|e| e.key == key) {
        Some(e) => e.value = raw,
        None => entries.push(creditcity_rubric::Entry { key: key.to_owned(), value: raw, line: None }),
    }
    r.validate(a.meta.clone(), entries).unwrap_or_else(|e| panic!("{key} = {value}: {e}"))
}

fn fragment(text: &str) -> Assessment {
    rubric().parse_assessment(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn rule(a: &Assessment, id: &str) -> (f64, Explanation) {
    let r = rubric();
    let card = score(r, a);
    let i = r.rules.iter().position(|x| x.id == id).unwrap_or_else(|| panic!("no rule {id}"));
    (card.rules[i].score, explain_rule(r, &r.rules[i], a, &card.rules[i]))
}

fn gate(a: &Assessment, id: &str) -> Explanation {
    let r = rubric();
    let card = score(r, a);
    let i = r.gates.iter().position(|x| x.id == id).unwrap_or_else(|| panic!("no gate {id}"));
    explain_gate(r, &r.gates[i], a, &card.gates[i])
}

fn key(alt: &Alternative) -> &str {
    &rubric().input(alt.input).key
}

fn target(e: &Explanation) -> &str {
    e.target.as_deref().unwrap_or("")
}

// ----- floors --------------------------------------------------------------------

#[test]
fn floors_are_said_like_caps() {
    for (rule_id, key, value, shown) in [
        ("8.2b", "s8.units_connected", "89", "4 − 0.5 × 9 = −0.50,低于下限 0 分,得 0.00 分"),
        ("8.1a", "s8.code_conversion_rate", "0.9", "1 − 0.2 × 10 = −1.00,低于下限 0 分,得 0.00 分"),
        ("8.1b", "s8.code_error_rate", "0.0015", "1 − 0.1 × 15 = −0.50,低于下限 0 分,得 0.00 分"),
        ("8.2c", "s8.decisions_reported", "300000", "低于下限 0 分,得 0.00 分"),
        ("3.2", "s3.gov_dishonesty_events", "5", "2 − 0.5 × 5 = −0.50,低于下限 0 分,得 0.00 分"),
    ] {
        let (_, e) = rule(&example_with(key, value), rule_id);
        assert!(e.text.contains(shown), "{rule_id}: {}", e.text);
    }
}

// ----- raw floats, precisions, rounding ----------------------------------------------

#[test]
fn no_raw_float_leaks_into_the_text() {
    let (_, e) = rule(&example_with("s8.decisions_reported", "428516"), "8.2c");
    assert!(!has_long_decimals(&e.text), "{}", e.text);
    let (_, e) = rule(&example_with("s8.code_conversion_rate", "0.99999"), "8.1a");
    assert!(!has_long_decimals(&e.text), "{}", e.text);
    assert!(e.text.contains("= 99.999%,比 100% 低 0.001%"), "{}", e.text);
}

/// Ten or more decimals in a row: a float printed as is.
fn has_long_decimals(text: &str) -> bool {
    text.split('.').skip(1).any(|rest| rest.chars().take_while(char::is_ascii_digit).count() >= 10)
}

#[test]
fn one_quantity_has_one_precision() {
    // 8.2c: the shortfall "低 x%" and the steps "0.2 × x" are the same number.
    let (_, e) = rule(&example_with("s8.decisions_reported", "423124"), "8.2c");
    let low = between(&e.text, "低 ", "%").unwrap_or_else(|| panic!("{}", e.text));
    assert!(e.text.contains(&format!("0.2 × {low} =")), "{}", e.text);
}

fn between<'t>(text: &'t str, start: &str, end: &str) -> Option<&'t str> {
    let i = text.find(start)? + start.len();
    let j = text[i..].find(end)? + i;
    Some(&text[i..j])
}

#[test]
fn rounding_never_changes_the_arithmetic() {
    let (s, e) = rule(&example_with("s7.npl_ratio", "0.0236"), "7.1a");
    assert!(e.text.contains("= 2.36%") && e.text.contains("(2.36% − 2%) ÷ 3% = 1.76 分"), "{}", e.text);
    assert!((s - 1.76).abs() < 1e-9);
    let (_, e) = rule(&example_with("s8.code_error_rate", "0.0015"), "8.1b");
    assert!(e.text.contains("= 0.15%") && e.text.contains("× 15 ="), "{}", e.text);
    // 10.7: 31.25% × 2 = 0.625, half up is 0.63, and the rate is shown as it is.
    let (_, e) = rule(&fragment("s10.repair_trained = 5\ns10.operating_blacklist = 16"), "10.7");
    assert!(e.text.contains("= 31.25%,得 2 × 31.25% = 0.63 分"), "{}", e.text);
    let (_, e) = rule(&example_with("s3.monitoring_scores", "[85.125, 85.125, 85.125, 85.125, 85.125, 85.125]"), "3.3b");
    assert!(e.text.contains("85.125 + 85.125") && e.text.contains("= 85.13,得 0.01 × 85.13 = 0.85 分"), "{}", e.text);
}

// ----- thresholds -----------------------------------------------------------------

#[test]
fn no_value_is_rounded_onto_a_threshold_it_misses() {
    let e = gate(&example_with("s8.code_conversion_rate", "0.99999"), "G1");
    assert!(e.text.contains("= 99.999%,要求 ≥ 100%(未达标)"), "{}", e.text);
    let (_, e) = rule(&example_with("s7.amount_recovered", "330399000"), "7.2b");
    assert!(!e.text.contains("70%,低于 70%") && e.text.contains("= 69.9998%,低于 70%"), "{}", e.text);
    let (_, e) = rule(&example_with("s3.monitoring_scores", "[100, 100, 100, 100, 100, 99.99994]"), "3.3b");
    assert!(e.text.contains("= 99.99999,") && !e.text.contains("= 100,"), "{}", e.text);
    let (s, e) = rule(&fragment("s8.portal_records = 399999\ns8.legal_entities = 100000"), "8.2d");
    assert!(s < 2.0 && !e.text.contains("= 4 条/户") && e.text.contains("3.99999 条/户"), "{}", e.text);
    assert!(target(&e).contains("再公示 1 条"), "{e:?}");
}

#[test]
fn a_score_a_hair_below_max_has_a_target_and_does_not_read_as_max() {
    // 9.4 at 1.9999999998 of 2.
    let (s, e) = rule(&fragment("s9.credit_loans_yuan = 9999999990\nbase.operating_market_entities = 100000"), "9.4");
    assert!(s < 2.0, "{s}");
    assert!(!e.text.ends_with("2.00 分"), "{}", e.text);
    assert!(target(&e).starts_with("“信易贷”再放款"), "{e:?}");
}

// ----- exact full marks ------------------------------------------------------------

#[test]
fn full_marks_are_exactly_the_maximum_and_sums_add_up() {
    let mut text = String::new();
    for d in ["production", "circulation", "taxation", "pricing", "construction", "bidding", "transport", "ecommerce", "intermediary", "exhibition_advertising"] {
        for f in ["records", "disclosed", "lists", "graded"] {
            text.push_str(&format!("s4.{d}.{f} = true\n"));
        }
    }
    for g in ["lawyers", "notaries", "grassroots_legal_workers", "legal_aid_workers", "forensic_appraisers"] {
        text.push_str(&format!("s6.people.{g}.files = true\ns6.people.{g}.graded = true\n"));
    }
    let a = fragment(&text);
    let r = rubric();
    let card = score(r, &a);
    for id in ["4.1", "4.2", "4.3", "4.4", "6.1a"] {
        let i = r.rules.iter().position(|x| x.id == id).unwrap_or(usize::MAX);
        assert_eq!(card.rules[i].score.to_bits(), r.rules[i].max.to_bits(), "{id}: {}", card.rules[i].score);
    }
    let s4 = r.sections.iter().position(|s| s.id == "4").unwrap_or(usize::MAX);
    assert_eq!(card.sections[s4].to_bits(), 6.0f64.to_bits(), "{}", card.sections[s4]);
}

// ----- several inputs ---------------------------------------------------------------

#[test]
fn commitments_label_every_term_and_name_concrete_routes() {
    let a = fragment(
        "s10.voluntary_commitments = 1200\ns10.self_discipline_commitments = 300\ns10.new_market_entities = 2628\n\
         s10.substitution_items = 12\ns10.tolerance_items = 50\ns10.approval_items_total = 130\n\
         s10.repair_commitments = 140\ns10.operating_blacklist = 640",
    );
    let (_, e) = rule(&a, "10.1");
    for label in ["主动承诺型、行业自律型承诺覆盖率 = (1,200 + 300) ÷ 2,628 =", "审批替代型承诺事项覆盖率 = 12 ÷ 19 =", "容缺受理型承诺事项覆盖率 = 50 ÷ 130 =", "失信修复型承诺覆盖率 = 140 ÷ 640 ="] {
        assert!(e.text.contains(label), "{label}: {}", e.text);
    }
    let keys: std::collections::BTreeSet<&str> = e.alternatives.iter().filter(|x| x.full).map(key).collect();
    assert!(keys.contains("s10.repair_commitments") && keys.contains("s10.voluntary_commitments") && keys.contains("s10.self_discipline_commitments"), "{keys:?}");
    assert!(target(&e).contains("失信修复型承诺数再增加") && target(&e).contains("份"), "{e:?}");
    assert!(!target(&e).contains("覆盖率之和还需"), "{e:?}");
    // G9 has four conditions: one commitment type alone meets one, it does not pass G9.
    let g9: Vec<&Alternative> = e.alternatives.iter().filter(|x| x.gate.as_deref() == Some("G9")).collect();
    assert!(!g9.is_empty() && g9.iter().all(|x| !x.gate_passes), "{g9:?}");
    assert!(target(&e).contains("即满足 G9(一票否决项)的这一条件") && !target(&e).contains("即可通过 G9"), "{e:?}");
}

#[test]
fn g9_names_both_commitment_inputs() {
    let e = gate(&example_with("s10.voluntary_commitments", "8000"), "G9");
    let keys: Vec<&str> = e.alternatives.iter().map(key).collect();
    assert!(keys.contains(&"s10.voluntary_commitments") && keys.contains(&"s10.self_discipline_commitments"), "{keys:?}");
    assert!(target(&e).contains("主动承诺型信用承诺数再增加") && target(&e).contains("行业自律型信用承诺数再增加"), "{e:?}");
}

#[test]
fn key_domains_show_what_was_entered_and_what_can_still_count() {
    let (_, e) = rule(&fragment("s2.key_domains = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\ns2.other_domains = 13"), "2.2");
    assert!(e.text.contains("专项治理领域数 13 个,最多计 3,计 3"), "{}", e.text);
    assert!(target(&e).contains("再开展 7 个领域的专项治理(尚未开展的:第 11–20 个)"), "{e:?}");
    assert!(!e.alternatives.iter().any(|x| key(x) == "s2.other_domains"), "{e:?}");
}

// ----- next steps and the gate before the rule ----------------------------------------

#[test]
fn the_gate_comes_before_full_marks() {
    let (_, e) = rule(&fragment("s10.blacklist_exited = 190\ns10.operating_blacklist = 960"), "10.6");
    let g7 = e.alternatives.iter().find(|x| x.gate.as_deref() == Some("G7")).unwrap_or_else(|| panic!("{e:?}"));
    assert!(g7.gate_passes, "G7 has one condition: {g7:?}");
    assert_eq!((g7.current, g7.required, g7.delta), (190.0, 288.0, 98.0));
    let full = e.alternatives.iter().find(|x| x.full).unwrap_or_else(|| panic!("{e:?}"));
    assert_eq!((full.required, full.delta), (576.0, 386.0));
    assert_eq!(e.alternatives[0].gate.as_deref(), Some("G7"), "cheapest first: {e:?}");
    assert!(target(&e).contains("再有 386 户") && target(&e).contains("98") && target(&e).contains("G7"), "{e:?}");
}

#[test]
fn a_precondition_comes_first_and_the_rest_is_still_said() {
    let (_, e) = rule(&fragment("s8.jrp_system_connected = false\ns8.halls_connected = 5\ns8.halls_total = 8"), "8.2a");
    assert_eq!(target(&e), "先与国家平台联合奖惩系统对接并嵌入政务服务大厅或业务系统,并再有 3 个政务服务大厅接入可得满分");
    let halls = e.alternatives.iter().find(|x| key(x) == "s8.halls_connected").unwrap_or_else(|| panic!("{e:?}"));
    assert!(halls.full && halls.after.is_some_and(|id| rubric().input(id).key == "s8.jrp_system_connected"), "{halls:?}");
}

#[test]
fn next_steps_show_where_the_first_points_are() {
    // 9.1: nothing up to 50%, then 1.5 at once.
    let (_, e) = rule(&fragment("s9.residents_with_score = 300000\nbase.registered_population = 1000000"), "9.1");
    let first = e.alternatives.iter().find(|x| !x.full).unwrap_or_else(|| panic!("{e:?}"));
    assert_eq!(first.required.to_bits(), 500_001f64.to_bits(), "{first:?}");
    assert!(first.gain >= 1.5, "{first:?}");
    // 8.2b: the first 7 units connected gain nothing (the floor), the 8th gains 0.5.
    let (_, e) = rule(&fragment("s8.units_connected = 5\ns8.units_total = 20"), "8.2b");
    let first = e.alternatives.iter().find(|x| !x.full).unwrap_or_else(|| panic!("{e:?}"));
    assert_eq!((first.required, first.gain), (13.0, 0.5));
    assert!(target(&e).contains("本项可得 0.50 分"), "{e:?}");
}

// ----- fixed history --------------------------------------------------------------------

#[test]
fn history_is_never_a_target() {
    let (_, e) = rule(&example_with("s3.monitoring_scores", "[70, 80, 90, 85, 88, 90]"), "3.3b");
    assert!(e.alternatives.is_empty() && target(&e).starts_with("本期无法补救(历史数据)"), "{e:?}");
    let (_, e) = rule(&example_with("s7.fundraising_cases_current", "12"), "7.2c");
    assert!(e.alternatives.is_empty(), "{e:?}");
    assert_eq!(target(&e), "本期无法补救(历史数据):满分要求报告期非法集资发案数不超过 9 件,实际 12 件");
    let e = gate(&example_with("s3.monitoring_rank_ok", "false"), "G10");
    assert!(e.alternatives.is_empty() && target(&e).contains("本期无法补救(历史数据)"), "{e:?}");
}

// ----- formatting and incomplete rules -----------------------------------------------------

#[test]
fn an_incomplete_rule_says_what_is_already_earned() {
    let (s, e) = rule(&fragment("s11.assessment_notice = true"), "11.2b");
    assert!(s == 0.0 && e.earned == Some(0.5), "{e:?}");
    assert!(e.text.contains("已得 0.50 分"), "{}", e.text);
}

#[test]
fn money_reads_in_natural_units() {
    let (_, e) = rule(&fragment("s9.credit_loans_yuan = 4220000000\nbase.operating_market_entities = 100000"), "9.4");
    assert!(e.text.contains("42,200 元/户"), "{}", e.text);
    assert_eq!(target(&e), "“信易贷”再放款 57.8 亿元可得满分");
}

/// Formatting laws every explanation keeps: one score format, the minus sign,
/// single spaces, separators.
fn formatting_problems(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    if text.contains("得 0 分") || text.contains("计 0 分") {
        out.push("a score without decimals".to_owned());
    }
    if text.contains("  ") {
        out.push("a double space".to_owned());
    }
    let chars: Vec<char> = text.chars().collect();
    for w in chars.windows(2) {
        if w[0] == '-' && w[1].is_ascii_digit() {
            out.push("an ASCII hyphen as minus".to_owned());
        }
    }
    // Five digits in a row before any decimal point: a missing thousands separator.
    let mut run = 0;
    let mut after_point = false;
    for c in &chars {
        if c.is_ascii_digit() {
            run += 1;
            if run >= 5 && !after_point {
                out.push("a large number without separators".to_owned());
                break;
            }
        } else {
            after_point = *c == '.';
            run = 0;
        }
    }
    out
}

// ----- laws on random cities ---------------------------------------------------------------

/// Evaluates a formula as the text writes it: numbers (with separators, `%`, `−`),
/// `+ − × ÷` and parentheses.
fn evaluate(expr: &str) -> Option<f64> {
    let tokens: Vec<char> = expr.chars().filter(|c| *c != ' ' && *c != ',').collect();
    let mut p = Parser { t: &tokens, i: 0 };
    let v = p.sum()?;
    (p.i == tokens.len()).then_some(v)
}

struct Parser<'a> {
    t: &'a [char],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.t.get(self.i).copied()
    }
    fn sum(&mut self) -> Option<f64> {
        let mut v = self.product()?;
        while let Some(c @ ('+' | '−')) = self.peek() {
            self.i += 1;
            let r = self.product()?;
            v = if c == '+' { v + r } else { v - r };
        }
        Some(v)
    }
    fn product(&mut self) -> Option<f64> {
        let mut v = self.atom()?;
        while let Some(c @ ('×' | '÷')) = self.peek() {
            self.i += 1;
            let r = self.atom()?;
            v = if c == '×' { v * r } else { v / r };
        }
        Some(v)
    }
    fn atom(&mut self) -> Option<f64> {
        match self.peek()? {
            '(' => {
                self.i += 1;
                let v = self.sum()?;
                (self.peek()? == ')').then_some(())?;
                self.i += 1;
                Some(v)
            }
            '−' => {
                self.i += 1;
                Some(-self.atom()?)
            }
            _ => {
                let start = self.i;
                while self.peek().is_some_and(|c| c.is_ascii_digit() || c == '.') {
                    self.i += 1;
                }
                let n: f64 = self.t[start..self.i].iter().collect::<String>().parse().ok()?;
                if self.peek() == Some('%') {
                    self.i += 1;
                    return Some(n / 100.0);
                }
                Some(n)
            }
        }
    }
}

fn round_half_up(x: f64, d: u32) -> f64 {
    let p = 10f64.powi(d as i32);
    let y = x.abs() * p;
    let r = (y + y * 2e-15 + 0.5).floor() / p;
    if x < 0.0 { -r } else { r }
}

/// Whether `expr`, evaluated, rounds half up to the shown `result`.
fn reproduces(expr: &str, result: &str) -> bool {
    let Some(v) = evaluate(expr) else { return false };
    let r = result.replace(',', "").replace('−', "-");
    let (num, pct) = r.strip_suffix('%').map_or((r.as_str(), false), |n| (n, true));
    let d = num.split_once('.').map_or(0, |(_, f)| f.len() as u32);
    let Ok(shown) = num.parse::<f64>() else { return false };
    let v = if pct { v * 100.0 } else { v };
    (round_half_up(v, d) - shown).abs() <= 0.5 * 10f64.powi(-(d as i32)) * 1e-6 + 1e-12
}

/// A shown number (`70%`, `3.99999 条/户`, `1,208 户`) as a plain value.
fn shown_number(s: &str) -> Option<f64> {
    let s = s.trim().replace(',', "").replace('−', "-");
    let num: String = s.chars().take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '-').collect();
    let v: f64 = num.parse().ok()?;
    Some(if s[num.len()..].trim_start().starts_with('%') { v / 100.0 } else { v })
}

/// Every `= V,要求 OP T(verdict)` of a gate: the shown V and T agree with the verdict.
fn gate_verdicts_hold(text: &str) -> Result<(), String> {
    for part in text.split(';') {
        let Some((head, rest)) = part.rsplit_once(",要求 ") else { continue };
        let Some(v) = head.rsplit_once(" = ").and_then(|(_, v)| shown_number(v)) else { continue };
        let (op, rest) = rest.split_at(rest.char_indices().nth(1).map_or(0, |(i, _)| i));
        let Some((t, verdict)) = rest.trim().split_once('(') else { continue };
        let Some(t) = shown_number(t) else { continue };
        let holds = match op.trim() {
            "≥" => v >= t,
            "≤" => v <= t,
            "<" => v < t,
            _ => continue,
        };
        let says = verdict.starts_with("达标");
        if holds != says {
            return Err(format!("shown {v} {op} {t} is {holds}, verdict says {verdict}: {part}"));
        }
    }
    Ok(())
}

/// `= V,低于 T` and `= V,达到 T` of proportional rules agree with the shown V.
fn rule_verdicts_hold(text: &str) -> Result<(), String> {
    for (word, below) in [(",低于 ", true), (",达到 ", false), (",不低于 ", false)] {
        let Some((head, rest)) = text.split_once(word) else { continue };
        let Some(v) = head.rsplit_once(" = ").and_then(|(_, v)| shown_number(v)) else { continue };
        let Some(t) = shown_number(rest.split([',', ';']).next().unwrap_or("")) else { continue };
        if (v < t) != below {
            return Err(format!("shown {v} vs {t} contradicts “{word}”: {text}"));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    #[test]
    fn shown_arithmetic_gives_the_shown_result_and_no_value_crosses_its_threshold(a in testkit::assessment(rubric())) {
        let r = rubric();
        let card = score(r, &a);
        for (rule, result) in r.rules.iter().zip(&card.rules) {
            let e = explain_rule(r, rule, &a, result);
            for x in &e.arithmetic {
                prop_assert!(reproduces(&x.expr, &x.result), "{}: {} = {} in {}", rule.id, x.expr, x.result, e.text);
                prop_assert!(e.text.contains(&x.expr) && e.text.contains(&x.result), "{}: not in the text: {x:?}", rule.id);
            }
            prop_assert!(rule_verdicts_hold(&e.text).is_ok(), "{}: {:?}", rule.id, rule_verdicts_hold(&e.text));
            let problems = formatting_problems(&e.text);
            prop_assert!(problems.is_empty(), "{}: {problems:?} in {}", rule.id, e.text);
            if let Some(t) = &e.target {
                let problems = formatting_problems(t);
                prop_assert!(problems.is_empty(), "{}: {problems:?} in {t}", rule.id);
            }
            // Full marks are exactly the maximum; anything else is shown below it.
            if result.score >= rule.max - 1e-9 {
                prop_assert_eq!(result.score.to_bits(), rule.max.to_bits(), "{} scored {}", rule.id, result.score);
            }
            prop_assert_eq!(e.target.is_none(), result.score.to_bits() == rule.max.to_bits() && result.status() == Status::Scored);
            // Fixed history is never a target.
            prop_assert!(e.alternatives.iter().all(|x| !r.input(x.input).fixed), "{}: {:?}", rule.id, e.alternatives);
        }
        for (gate, result) in r.gates.iter().zip(&card.gates) {
            let e = explain_gate(r, gate, &a, result);
            prop_assert!(gate_verdicts_hold(&e.text).is_ok(), "{}: {:?}", gate.id, gate_verdicts_hold(&e.text));
            for x in &e.arithmetic {
                prop_assert!(reproduces(&x.expr, &x.result), "{}: {} = {}", gate.id, x.expr, x.result);
            }
            prop_assert!(e.alternatives.iter().all(|x| !r.input(x.input).fixed), "{}", gate.id);
        }
        let sum: f64 = card.sections.iter().zip(&r.sections).filter(|(_, s)| !s.bonus).map(|(x, _)| *x).sum();
        prop_assert!((sum - card.total).abs() < 1e-9);
    }

    #[test]
    fn every_full_marks_alternative_applied_reaches_full_marks(a in testkit::assessment(rubric())) {
        let r = rubric();
        let card = score(r, &a);
        for (i, (rule, result)) in r.rules.iter().zip(&card.rules).enumerate() {
            if result.status() != Status::Scored || result.score >= rule.max {
                continue;
            }
            let e = explain_rule(r, rule, &a, result);
            for alt in e.alternatives.iter().filter(|x| x.full && matches!(x.relation, Relation::AtLeast | Relation::AtMost)) {
                let input = r.input(alt.input);
                let mut entries = a.entries(r);
                let Some(entry) = entries.iter_mut().find(|x| x.key == input.key) else { continue };
                entry.value = match (&entry.value, input.kind) {
                    (RawValue::Bool(_), _) => RawValue::Bool(alt.required > 0.5),
                    (RawValue::Integer(_), _) | (RawValue::Float(_), creditcity_rubric::InputKind::Count) => RawValue::Integer(alt.required as i64),
                    (RawValue::Float(_), _) => RawValue::Float(alt.required),
                    _ => continue,
                };
                // A target that assumes a precondition is applied with it.
                if let Some(pre) = alt.after {
                    if let Some(e) = entries.iter_mut().find(|x| x.key == r.input(pre).key) {
                        e.value = RawValue::Bool(true);
                    }
                }
                let Ok(after) = r.validate(Meta::default(), entries) else { continue };
                let s = score(r, &after).rules[i].score;
                prop_assert_eq!(s.to_bits(), rule.max.to_bits(), "{}: {} → {} gives {}", rule.id, input.key, alt.required, s);
            }
        }
    }
}

#[test]
fn the_checker_itself_catches_wrong_arithmetic_and_verdicts() {
    assert!(reproduces("2 − 2 × (2.36% − 2%) ÷ 3%", "1.76"));
    assert!(!reproduces("2 − 2 × (2.4% − 2%) ÷ 3%", "1.76"));
    assert!(reproduces("2 × 31.25%", "0.63"));
    assert!(!reproduces("2 × 31.2%", "0.63"));
    assert!(reproduces("4 − 0.5 × 9", "−0.50"));
    assert!(reproduces("700 ÷ (200 + 800)", "70%"));
    assert!(gate_verdicts_hold("G = 1 ÷ 1 = 100%,要求 ≥ 100%(未达标)").is_err());
    assert!(rule_verdicts_hold("x = 70%,低于 70%,得").is_err());
    assert!(!formatting_problems("得 0 分").is_empty());
    assert!(!formatting_problems("增长 -22.2%").is_empty());
    assert!(!formatting_problems("每 1 件  减").is_empty());
    assert!(!formatting_problems("100000 元/户").is_empty());
}

// ----- found in review: a hair short of a threshold is short -----------------------

#[test]
fn a_hair_short_of_a_threshold_is_short_and_said_so() {
    // 330,399,999.84 ÷ 472,000,000 = 69.99999997%: not 70%, not full marks.
    let a = example_with("s7.amount_recovered", "330_399_999.84");
    let (score, e) = rule(&a, "7.2b");
    assert!(score < 1.0, "{score}");
    assert!(e.text.contains("低于 70%") && !e.text.contains("得满分"), "{}", e.text);
    assert!(target(&e).contains("0.17 元"), "{}", target(&e));
    // 99.99999991% is not the 100% G1 asks for.
    let a = example_with("s8.code_conversion_rate", "0.9999999991");
    let g = gate(&a, "G1");
    assert!(g.text.contains("未达标"), "{}", g.text);
    // A money target is enough when met: 100 元 more gives 100,000 元/户 exactly.
    let a = example_with("s9.credit_loans_yuan", "18_639_999_900");
    let (score, e) = rule(&a, "9.4");
    assert!(score < 2.0 && target(&e).contains("100 元"), "{score} {}", target(&e));
}

#[test]
fn full_marks_of_a_rule_never_claim_a_gate_condition_they_do_not_meet() {
    // 10.1 reaches full marks with 1,279 more voluntary commitments, but G9's coverage
    // condition needs 1,488: the full-marks route must not claim G9's condition.
    let a = example_with("s10.voluntary_commitments", "8000");
    let (_, e) = rule(&a, "10.1");
    for alt in &e.alternatives {
        if alt.gate.as_deref() == Some("G9") {
            let r = rubric();
            let gate = &r.gates[r.gates.iter().position(|g| g.id == "G9").unwrap_or_else(|| panic!("G9"))];
            let mut entries = a.entries(r);
            let k = key(alt).to_owned();
            entries.retain(|x| x.key != k);
            entries.push(creditcity_rubric::Entry { key: k.clone(), value: RawValue::Integer(alt.required.ceil() as i64), line: None });
            let after = r.validate(a.meta.clone(), entries).unwrap_or_else(|e| panic!("{e}"));
            let holds = gate.conditions.iter().any(|c| {
                creditcity_rubric::engine::condition_holds(c, &after) == Some(true)
                    && creditcity_rubric::engine::condition_holds(c, &a) == Some(false)
            });
            assert!(holds, "{k} → {} is said to meet a G9 condition it does not meet: {}", alt.required, target(&e));
        }
    }
}

#[test]
fn every_scored_rule_below_max_has_a_structured_target_or_names_its_fixed_history() {
    let r = rubric();
    for text in [EXAMPLE, include_str!("../../../examples/linjiang-midway.toml")] {
        let a = r.parse_assessment(text).unwrap_or_else(|e| panic!("{e}"));
        let card = score(r, &a);
        for (rule, result) in r.rules.iter().zip(&card.rules) {
            if result.score >= rule.max || !result.missing.is_empty() {
                continue;
            }
            let e = explain_rule(r, rule, &a, result);
            assert!(!e.alternatives.is_empty() || !e.fixed.is_empty(), "{} at {} of {}: no structured target", rule.id, result.score, rule.max);
        }
    }
    // A judged score's target is the rest of its maximum.
    let a = example_with("s1.judged", "3.5");
    let (_, e) = rule(&a, "1.1");
    assert!(e.alternatives.iter().any(|x| key(x) == "s1.judged" && (x.required - 4.0).abs() < 1e-12 && (x.gain - 0.5).abs() < 1e-9), "{:?}", e.alternatives);
}
