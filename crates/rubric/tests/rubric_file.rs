//! Loading rubric files: the embedded edition, and errors that name file, line and key.

use creditcity_rubric::Rubric;
use creditcity_rubric::load::EMBEDDED_2019;

use crate::rubric;

#[test]
fn the_embedded_rubric_has_the_2019_shape() {
    let r = rubric();
    assert_eq!(r.edition, "2019");
    assert_eq!(r.baseline_date, "2018-12-15");
    assert_eq!(r.cutoff_date, "2019-03-15");
    assert_eq!(r.rules.len(), 54);
    assert_eq!(r.gates.len(), 10);
    assert_eq!(r.key_domains.len(), 20);
    let scored: Vec<&str> = r.sections.iter().filter(|s| !s.bonus).map(|s| s.id.as_str()).collect();
    assert_eq!(scored, ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"]);
    let total: f64 = r.sections.iter().filter(|s| !s.bonus).map(|s| s.max).sum();
    assert!((total - 100.0).abs() < 1e-9);
    assert!(r.rules.iter().all(|rule| !rule.evidence.is_empty() && !rule.standard.is_empty()));
}

#[test]
fn hard_indicator_tags_follow_the_spec() {
    let r = rubric();
    let expected = [
        ("2.1", 20), ("2.2", 20), ("3.1a", 19), ("3.1b", 19), ("3.2", 3), ("3.3a", 10), ("3.3b", 10),
        ("4.1", 19), ("5.4", 19), ("6.3", 19), ("8.1a", 1), ("8.1b", 2), ("8.2a", 4), ("8.2b", 13),
        ("8.2c", 5), ("8.2d", 14), ("8.2e", 14), ("9.1", 17), ("9.2", 18), ("9.3", 18), ("9.4", 18),
        ("10.1", 9), ("10.2", 12), ("10.3", 11), ("10.4", 16), ("10.5", 15), ("10.6", 7), ("10.7", 8),
        ("10.8", 6),
    ];
    for (id, hi) in expected {
        assert_eq!(r.rule(id).and_then(|rule| rule.hi), Some(hi), "rule {id}");
    }
    for id in ["1.1", "7.1a", "7.3c", "8.2f", "11.1a", "B"] {
        assert_eq!(r.rule(id).and_then(|rule| rule.hi), None, "rule {id}");
    }
}

fn errors_of(text: &str) -> String {
    match Rubric::parse(text, "edited.toml") {
        Ok(_) => panic!("an invalid rubric was accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_duplicate_rule_id_is_named_with_its_line() {
    let text = EMBEDDED_2019.replacen("id = \"7.2b\"", "id = \"7.2a\"", 1);
    let line = text.lines().position(|l| l.contains("title = \"金融案件标的额兑现率\"")).unwrap_or(0);
    let errors = errors_of(&text);
    assert!(errors.contains("edited.toml:"), "{errors}");
    assert!(errors.contains("rules.7.2a: duplicate rule id"), "{errors}");
    // The error points at the rule's table, a line or two above its title.
    assert!(errors.lines().any(|l| l.starts_with(&format!("edited.toml:{}:", line - 1))), "{errors}");
}

#[test]
fn an_undeclared_input_in_a_formula_is_named() {
    let text = EMBEDDED_2019.replacen("ratio = [\"s7.cases_closed\"]", "ratio = [\"s7.cases_settled\"]", 1);
    let errors = errors_of(&text);
    assert!(errors.contains("rules.7.2a: refers to `s7.cases_settled`, which is not declared in [inputs]"), "{errors}");
    // And the input that is no longer used is reported too: every problem at once.
    assert!(errors.contains("s7.cases_closed: declared but used by no rule or gate"), "{errors}");
}

#[test]
fn section_maxima_must_add_up() {
    let text = EMBEDDED_2019.replacen("id = \"6.2\"\nmax = 1\n", "id = \"6.2\"\nmax = 1.5\n", 1);
    let errors = errors_of(&text);
    assert!(errors.contains("sections.6.max: is 6, but the maxima of its rules sum to 6.5"), "{errors}");
    assert!(errors.contains("rules.6.2.scoring: the points of its items"), "{errors}");
}

#[test]
fn an_unknown_scoring_kind_is_named() {
    let text = EMBEDDED_2019.replacen("kind = \"tally\"", "kind = \"talley\"", 1);
    let errors = errors_of(&text);
    assert!(errors.contains("rules.2.2.scoring.kind: unknown kind `talley`"), "{errors}");
}

#[test]
fn an_input_of_the_wrong_type_for_its_use_is_named() {
    let text = EMBEDDED_2019.replacen(
        "\"s7.major_risk\" = { label = \"出现重大区域金融风险\", type = \"bool\", supplier = \"人民银行\" }",
        "\"s7.major_risk\" = { label = \"出现重大区域金融风险\", type = \"count\" }",
        1,
    );
    let errors = errors_of(&text);
    assert!(errors.contains("`s7.major_risk` is of type count, but here it must be bool"), "{errors}");
}

#[test]
fn syntax_errors_have_a_line() {
    let errors = errors_of("edition = \"2019\"\nversion = \n");
    assert!(errors.starts_with("edited.toml:2: (syntax):"), "{errors}");
}

#[test]
fn unknown_fields_are_refused() {
    let text = EMBEDDED_2019.replacen("bonus_max = 10", "bonus_max = 10\nbonus_min = 0", 1);
    let errors = errors_of(&text);
    assert!(errors.contains("bonus_min"), "{errors}");
}
