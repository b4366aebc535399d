//! Data-driven cases: `cases/*.toml`, each a fragment of an assessment and what the
//! rubric must make of it.

use creditcity_rubric::{GateStatus, Status, score};
use serde::Deserialize;

use crate::rubric;

#[derive(Deserialize)]
struct File<C> {
    case: Vec<C>,
}

#[derive(Deserialize)]
struct RuleCase {
    rule: String,
    inputs: String,
    score: Option<f64>,
    #[serde(default)]
    missing: Vec<String>,
}

#[derive(Deserialize)]
struct GateCase {
    gate: String,
    inputs: String,
    status: String,
    #[serde(default)]
    missing: Vec<String>,
}

#[derive(Deserialize)]
struct InvalidCase {
    name: String,
    inputs: String,
    keys: Vec<String>,
    says: Option<String>,
}

fn load<C: for<'de> Deserialize<'de>>(name: &str) -> Vec<C> {
    let path = format!("{}/tests/cases/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    toml::from_str::<File<C>>(&text).unwrap_or_else(|e| panic!("{path}: {e}")).case
}

#[test]
fn every_rule_case_scores_as_the_spec_says() {
    let rubric = rubric();
    let cases: Vec<RuleCase> = load("rules.toml");
    let mut failures = Vec::new();
    for case in &cases {
        let a = match rubric.parse_assessment(&case.inputs) {
            Ok(a) => a,
            Err(e) => {
                failures.push(format!("{} [{}]: inputs refused: {e}", case.rule, case.inputs));
                continue;
            }
        };
        let card = score(rubric, &a);
        let Some(i) = rubric.rules.iter().position(|r| r.id == case.rule) else {
            failures.push(format!("no rule {}", case.rule));
            continue;
        };
        let result = &card.rules[i];
        let missing: Vec<&str> = result.missing.iter().map(|id| rubric.input(*id).key.as_str()).collect();
        match case.score {
            Some(expected) => {
                // Full marks are exactly the maximum (no 0.9999999999999999); other
                // scores within the 10⁻⁹ grid the engine keeps them on.
                let at_max = (expected - result.max).abs() < 1e-12;
                let wrong = if at_max { result.score.to_bits() != result.max.to_bits() } else { (result.score - expected).abs() > 1e-9 };
                if result.status() != Status::Scored || wrong {
                    failures.push(format!(
                        "{} [{}]: expected {expected}, got {} ({:?}, missing {missing:?})",
                        case.rule, case.inputs, result.score, result.status()
                    ));
                }
            }
            None => {
                if result.status() != Status::Incomplete || result.score != 0.0 || missing != case.missing {
                    failures.push(format!(
                        "{} [{}]: expected incomplete with {:?}, got {:?} {} with {missing:?}",
                        case.rule, case.inputs, case.missing, result.status(), result.score
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} rule cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn every_rule_has_cases() {
    let cases: Vec<RuleCase> = load("rules.toml");
    let uncovered: Vec<&str> = rubric()
        .rules
        .iter()
        .filter(|r| !cases.iter().any(|c| c.rule == r.id))
        .map(|r| r.id.as_str())
        .collect();
    assert!(uncovered.is_empty(), "rules without a case: {uncovered:?}");
}

#[test]
fn every_gate_case_passes_or_fails_as_the_spec_says() {
    let rubric = rubric();
    let cases: Vec<GateCase> = load("gates.toml");
    let mut failures = Vec::new();
    for case in &cases {
        let a = match rubric.parse_assessment(&case.inputs) {
            Ok(a) => a,
            Err(e) => {
                failures.push(format!("{} [{}]: inputs refused: {e}", case.gate, case.inputs));
                continue;
            }
        };
        let card = score(rubric, &a);
        let Some(i) = rubric.gates.iter().position(|g| g.id == case.gate) else {
            failures.push(format!("no gate {}", case.gate));
            continue;
        };
        let result = &card.gates[i];
        let missing: Vec<&str> = result.missing.iter().map(|id| rubric.input(*id).key.as_str()).collect();
        if result.status.as_str() != case.status || missing != case.missing {
            failures.push(format!(
                "{} [{}]: expected {} missing {:?}, got {} missing {missing:?}",
                case.gate, case.inputs, case.status, case.missing, result.status.as_str()
            ));
        }
        let vetoed = card.gates.iter().any(|g| g.status == GateStatus::Failed);
        if card.veto != vetoed {
            failures.push(format!("{}: veto {} but gates say {vetoed}", case.gate, card.veto));
        }
    }
    assert!(failures.is_empty(), "{} of {} gate cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn every_gate_has_a_passing_and_a_failing_case() {
    let cases: Vec<GateCase> = load("gates.toml");
    for gate in &rubric().gates {
        for status in ["passed", "failed"] {
            assert!(
                cases.iter().any(|c| c.gate == gate.id && c.status == status),
                "gate {} has no {status} case",
                gate.id
            );
        }
    }
}

#[test]
fn invalid_inputs_are_refused_naming_every_key() {
    let rubric = rubric();
    let cases: Vec<InvalidCase> = load("invalid.toml");
    let mut failures = Vec::new();
    for case in &cases {
        match rubric.parse_assessment(&case.inputs) {
            Ok(_) => failures.push(format!("{}: accepted [{}]", case.name, case.inputs)),
            Err(errors) => {
                for key in &case.keys {
                    if !errors.0.iter().any(|e| e.key == *key || e.key.split(" + ").any(|k| k == key)) {
                        failures.push(format!("{}: no error names {key}: {errors}", case.name));
                    }
                }
                if errors.0.len() < case.keys.len() {
                    failures.push(format!("{}: expected {} errors, got {}", case.name, case.keys.len(), errors.0.len()));
                }
                if let Some(says) = &case.says {
                    if !errors.to_string().contains(says.as_str()) {
                        failures.push(format!("{}: the error does not say {says:?}: {errors}", case.name));
                    }
                }
                if errors.0.iter().any(|e| e.line.is_none()) && case.name != "wrong rubric edition" {
                    failures.push(format!("{}: an error has no line: {errors}", case.name));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} invalid cases misbehaved:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
