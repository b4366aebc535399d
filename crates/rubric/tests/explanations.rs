//! The reasons and targets a credit office reads.

use creditcity_rubric::{explain_gate, explain_rule, score};

use crate::rubric;

/// (explanation, target) of one rule on an assessment fragment.
fn explain(rule_id: &str, inputs: &str) -> (String, Option<String>) {
    let rubric = rubric();
    let a = rubric.parse_assessment(inputs).unwrap_or_else(|e| panic!("{inputs}: {e}"));
    let card = score(rubric, &a);
    let i = rubric.rules.iter().position(|r| r.id == rule_id).unwrap_or_else(|| panic!("no rule {rule_id}"));
    let e = explain_rule(rubric, &rubric.rules[i], &a, &card.rules[i]);
    (e.text, e.target)
}

#[test]
fn enforcement_rate_shows_the_numbers_and_the_cases_still_needed() {
    let (text, target) =
        explain("7.2a", "s7.cases_closed = 700\ns7.cases_pending_prior = 200\ns7.cases_received = 800");
    assert_eq!(text, "金融案件执结率 = 700 ÷ (200 + 800) = 70%,低于 80%,得 1 × 70% ÷ 80% = 0.88 分");
    assert_eq!(target.as_deref(), Some("再执结 100 件可得满分"));
}

#[test]
fn halls_not_connected_say_how_many_more_to_connect() {
    let (text, target) =
        explain("8.2a", "s8.jrp_system_connected = true\ns8.halls_connected = 10\ns8.halls_total = 12");
    assert_eq!(text, "未接入的政务服务大厅 = 12 − 10 = 2 个,每增加 1 个减 1 分,得 3 − 1 × 2 = 1.00 分");
    assert_eq!(target.as_deref(), Some("再有 2 个政务服务大厅接入可得满分,并通过 G4"));
}

#[test]
fn halls_without_the_national_system_score_nothing_and_say_why() {
    let (text, target) =
        explain("8.2a", "s8.jrp_system_connected = false\ns8.halls_connected = 12\ns8.halls_total = 12");
    assert!(text.starts_with("尚未与国家平台联合奖惩系统对接"), "{text}");
    assert_eq!(target.as_deref(), Some("先与国家平台联合奖惩系统对接并嵌入政务服务大厅或业务系统可得满分"));
}

#[test]
fn full_marks_have_no_target() {
    let (text, target) = explain("3.2", "s3.gov_dishonesty_events = 0");
    assert_eq!(text, "未整改到位及新增的政府失信事件 = 0 件,得满分 2.00 分");
    assert_eq!(target, None);
}

#[test]
fn piecewise_rules_name_their_band() {
    let (text, target) = explain("7.1a", "s7.npl_ratio = 0.035");
    assert_eq!(text, "地区不良贷款率 = 3.5%,在 2% 与 5% 之间,得 2 − 2 × (3.5% − 2%) ÷ 3% = 1.00 分");
    assert_eq!(target.as_deref(), Some("地区不良贷款率需不超过 2% 可得满分"));
    let (text, _) = explain("9.1", "s9.residents_with_score = 400000\nbase.registered_population = 1000000");
    assert!(text.contains("不超过 50%,得 0.00 分"), "{text}");
}

#[test]
fn resident_scores_target_counts_people() {
    let (_, target) = explain("9.1", "s9.residents_with_score = 700000\nbase.registered_population = 1000000");
    assert_eq!(target.as_deref(), Some("再有 300,000 名户籍人口拥有个人诚信分可得满分"));
}

#[test]
fn growth_from_zero_is_explained() {
    let (text, target) = explain("7.2c", "s7.fundraising_cases_current = 3\ns7.fundraising_cases_previous = 0");
    assert!(text.contains("上期为 0,本期为 3 件"), "{text}");
    // Cases that already happened cannot be undone: say so, and the limit honestly.
    assert_eq!(target.as_deref(), Some("本期无法补救(历史数据):满分要求报告期非法集资发案数不超过 0 件,实际 3 件"));
}

#[test]
fn flags_list_what_is_missing() {
    let (text, target) = explain(
        "11.2a",
        "s11.task_division = true\ns11.responsible_units_defined = false\ns11.progress_requirements = true",
    );
    assert!(text.contains("未具备:明确责任单位(0.3 分)"), "{text}");
    assert_eq!(target.as_deref(), Some("还需:明确责任单位(+0.3 分)"));
}

#[test]
fn domain_flags_name_the_domains() {
    let inputs = "[s4]\nproduction.lists = true\ncirculation.lists = true\ntaxation.lists = true\npricing.lists = false\n\
        construction.lists = true\nbidding.lists = true\ntransport.lists = true\necommerce.lists = true\n\
        intermediary.lists = true\nexhibition_advertising.lists = false";
    let (text, target) = explain("4.3", inputs);
    assert_eq!(text, "10 项中已具备 8 项,每项 0.2 分;未具备:价格领域、会展广告领域;得 1.60 分");
    assert_eq!(target.as_deref(), Some("还需:价格领域(+0.2 分)、会展广告领域(+0.2 分)"));
}

#[test]
fn tallies_count_and_cap() {
    let (text, target) = explain("2.2", "s2.key_domains = [1, 2, 3]\ns2.other_domains = 5");
    assert!(text.contains("专项治理领域数 5 个,最多计 3,计 3"), "{text}");
    assert!(text.ends_with("0.1 × 6 = 0.60 分"), "{text}");
    assert_eq!(target.as_deref(), Some("再开展 14 个领域的专项治理(尚未开展的:第 4–20 个)可得满分"));
}

#[test]
fn missing_inputs_are_named_with_their_keys() {
    let (text, target) = explain("8.2d", "s8.legal_entities = 1000");
    assert_eq!(text, "缺少 1 项输入,暂计 0.00 分:信用门户网站公示的法人和非法人组织信息条数(s8.portal_records)");
    assert_eq!(target.as_deref(), Some("填报:信用门户网站公示的法人和非法人组织信息条数(s8.portal_records)"));
}

#[test]
fn failed_gates_say_what_passing_takes() {
    let rubric = rubric();
    let a = rubric
        .parse_assessment("s10.blacklist_exited = 190\ns10.operating_blacklist = 960")
        .unwrap_or_else(|e| panic!("{e}"));
    let card = score(rubric, &a);
    let i = rubric.gates.iter().position(|g| g.id == "G7").unwrap_or(usize::MAX);
    let e = explain_gate(rubric, &rubric.gates[i], &a, &card.gates[i]);
    assert_eq!(e.text, "经整改退出黑名单比例 = 190 ÷ 960 = 19.79%,要求 ≥ 30%(未达标)");
    // 30% of 960 is 288: 98 more.
    assert_eq!(e.target.as_deref(), Some("经整改后退出黑名单的主体数再增加 98 户"));
}

#[test]
fn gate_targets_move_the_part_up_when_a_gap_must_close() {
    let rubric = rubric();
    let a = rubric
        .parse_assessment("s8.jrp_system_connected = true\ns8.halls_connected = 9\ns8.halls_total = 11")
        .unwrap_or_else(|e| panic!("{e}"));
    let card = score(rubric, &a);
    let i = rubric.gates.iter().position(|g| g.id == "G4").unwrap_or(usize::MAX);
    let e = explain_gate(rubric, &rubric.gates[i], &a, &card.gates[i]);
    assert_eq!(e.target.as_deref(), Some("已接入信用信息共享平台和信用门户网站的政务服务大厅数再增加 2 个"));
}
