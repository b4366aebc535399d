//! Laws of the engine, on random valid assessments.

use creditcity_rubric::assessment::{Entry, Meta, RawValue};
use creditcity_rubric::load::EMBEDDED_2019;
use creditcity_rubric::{GateStatus, Rubric, Status, explain_gate, explain_rule, score, testkit};
use proptest::prelude::*;

use crate::rubric;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn scores_stay_within_their_maxima_and_add_up(a in testkit::assessment(rubric())) {
        let r = rubric();
        let card = score(r, &a);
        for (rule, result) in r.rules.iter().zip(&card.rules) {
            prop_assert!(result.score >= 0.0 && result.score <= rule.max, "{} scored {}", rule.id, result.score);
            if result.status() == Status::Incomplete {
                prop_assert!(result.score == 0.0);
            }
        }
        let mut total = 0.0;
        for (section, subtotal) in r.sections.iter().zip(&card.sections) {
            let sum: f64 = card.rules[section.rules.clone()].iter().map(|x| x.score).sum();
            prop_assert!((sum - subtotal).abs() < 1e-9, "section {}", section.id);
            if !section.bonus { total += subtotal }
        }
        prop_assert!((card.total - total).abs() < 1e-9);
        prop_assert!(card.total <= 100.0 && card.bonus <= 10.0);
        prop_assert!((card.grand_total - card.total - card.bonus).abs() < 1e-9);
        prop_assert_eq!(card.veto, card.gates.iter().any(|g| g.status == GateStatus::Failed));
        // Every explanation renders without panicking, and only full marks lack a target.
        for (rule, result) in r.rules.iter().zip(&card.rules) {
            let e = explain_rule(r, rule, &a, result);
            prop_assert!(!e.text.is_empty());
            prop_assert_eq!(e.target.is_none(), result.score >= rule.max - 1e-9 && result.missing.is_empty(), "{}: {:?}", rule.id, e);
        }
        for (gate, result) in r.gates.iter().zip(&card.gates) {
            let e = explain_gate(r, gate, &a, result);
            prop_assert!(!e.text.is_empty());
        }
    }

    #[test]
    fn more_of_a_good_thing_never_lowers_a_score(
        a in testkit::assessment(rubric()),
        which in 0usize..GOOD.len(),
        step in 1u32..500,
    ) {
        let r = rubric();
        let before = score(r, &a);
        let (key, better) = GOOD[which];
        let mut entries = a.entries(r);
        let Some(entry) = entries.iter_mut().find(|e| e.key == key) else { return Ok(()) };
        entry.value = improve(&entry.value, better, step);
        let Ok(after) = r.validate(Meta::default(), entries) else { return Ok(()) };
        let after = score(r, &after);
        for ((rule, b), c) in r.rules.iter().zip(&before.rules).zip(&after.rules) {
            prop_assert!(c.score >= b.score - 1e-9, "{} fell from {} to {} when {key} improved", rule.id, b.score, c.score);
        }
        for ((gate, b), c) in r.gates.iter().zip(&before.gates).zip(&after.gates) {
            prop_assert!(!(b.status == GateStatus::Passed && c.status == GateStatus::Failed), "{} failed when {key} improved", gate.id);
        }
    }

    #[test]
    fn the_rubric_loader_never_panics(text in ".{0,400}") {
        let _ = Rubric::parse(&text, "random.toml");
    }

    #[test]
    fn the_rubric_loader_never_panics_on_a_damaged_rubric(cut in 0usize..EMBEDDED_2019.len(), len in 0usize..200, with in "[\\[\\]={}\"0-9a-z.\n -]{0,6}") {
        let mut text = EMBEDDED_2019.as_bytes().to_vec();
        let end = (cut + len).min(text.len());
        text.splice(cut..end, with.bytes());
        let _ = Rubric::parse(&String::from_utf8_lossy(&text), "damaged.toml");
    }

    #[test]
    fn the_assessment_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = rubric().parse_assessment(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn the_assessment_parser_never_panics_on_plausible_files(
        lines in proptest::collection::vec(("(s[0-9]{1,2}|base|bonus|assessment)(\\.[a-z_]{1,12}){0,2}", "(-?[0-9]{1,6}(\\.[0-9]{1,3})?|true|false|\"x\"|\\[[0-9, ]{0,9}\\]|nan|inf|\\{ a = [0-9] \\})"), 0..20)
    ) {
        let text: String = lines.iter().fold(String::new(), |acc, (k, v)| acc + &format!("{k} = {v}\n"));
        let _ = rubric().parse_assessment(&text);
    }
}

#[derive(Clone, Copy)]
enum Better {
    Higher,
    Lower,
    True,
    False,
}

/// Inputs where more (or less, or true, or false) is unambiguously better.
const GOOD: &[(&str, Better)] = &[
    ("s2.other_domains", Better::Higher),
    ("s3.civil_servants_with_file", Better::Higher),
    ("s3.gov_dishonesty_events", Better::Lower),
    ("s3.monitoring_extended", Better::True),
    ("s4.pricing.graded", Better::True),
    ("s6.people.notaries.files", Better::True),
    ("s7.npl_ratio", Better::Lower),
    ("s7.major_risk", Better::False),
    ("s7.cases_closed", Better::Higher),
    ("s7.amount_recovered", Better::Higher),
    ("s7.fundraising_cases_current", Better::Lower),
    ("s7.mandates_lending", Better::False),
    ("s8.code_conversion_rate", Better::Higher),
    ("s8.code_error_rate", Better::Lower),
    ("s8.jrp_system_connected", Better::True),
    ("s8.halls_connected", Better::Higher),
    ("s8.units_connected", Better::Higher),
    ("s8.decisions_reported", Better::Higher),
    ("s8.portal_records", Better::Higher),
    ("s8.portal_daily_clicks", Better::Higher),
    ("s9.residents_with_score", Better::Higher),
    ("s9.departments_with_tolerance", Better::Higher),
    ("s9.credit_loans_yuan", Better::Higher),
    ("s10.voluntary_commitments", Better::Higher),
    ("s10.substitution_items", Better::Higher),
    ("s10.tolerance_items", Better::Higher),
    ("s10.repair_commitments", Better::Higher),
    ("s10.unit_records_linked", Better::Higher),
    ("s10.jrp_domains", Better::Higher),
    ("s10.jrp_embedded_domains", Better::Higher),
    ("s10.jrp_cases", Better::Higher),
    ("s10.blacklist_exited", Better::Higher),
    ("s10.repair_trained", Better::Higher),
    ("s10.reports_submitted", Better::Higher),
    ("s11.progress_requirements", Better::True),
    ("bonus.judged", Better::Higher),
];

fn improve(v: &RawValue, better: Better, step: u32) -> RawValue {
    let step = f64::from(step);
    match (v, better) {
        (RawValue::Integer(i), Better::Higher) => RawValue::Integer(i + i64::from(step as u32)),
        (RawValue::Integer(i), Better::Lower) => RawValue::Integer((i - i64::from(step as u32)).max(0)),
        // Ratios and judged scores: move a fraction of the way to the better end.
        (RawValue::Float(x), Better::Higher) if *x <= 1.0 => RawValue::Float(x + (1.0 - x) * step / 500.0),
        (RawValue::Float(x), Better::Higher) => RawValue::Float(x * (1.0 + step / 100.0)),
        (RawValue::Float(x), Better::Lower) => RawValue::Float(x * (1.0 - step / 500.0)),
        (RawValue::Bool(_), Better::True) => RawValue::Bool(true),
        (RawValue::Bool(_), Better::False) => RawValue::Bool(false),
        (other, _) => other.clone(),
    }
}

#[test]
fn entries_round_trip_through_validation() {
    let r = rubric();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/qingchuan-complete.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let a = r.parse_assessment(&text).unwrap_or_else(|e| panic!("{e}"));
    let again = r.validate(a.meta.clone(), a.entries(r)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(a, again);
    let _: Vec<Entry> = a.entries(r);
}
