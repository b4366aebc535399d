//! Hand-computed small datasets: every derived input, exactly, with its counts.

use crate::common::{code, individual, kinds, ok, settings};
use creditcity_data::generate::make_uscc;
use creditcity_data::{
    Checked, DatasetKind as D, Datasets, Derivation, DerivedValue, Detail, InputKey as K,
    ProblemKind as P, derive,
};

fn wrong(c: &str) -> String {
    let mut s = c.to_string();
    let last = s.pop().unwrap_or('0');
    s.push(if last == '1' { '2' } else { '1' });
    s
}

fn register() -> String {
    let (c1, c2, c4, c5, c8, c9, c10, c11, c12) = (
        code(1),
        wrong(&code(2)),
        code(4),
        code(5),
        code(8),
        code(9),
        code(10),
        code(11),
        code(12),
    );
    let i7 = individual(7);
    format!(
        "名称,统一社会信用代码,主体类别,登记状态,成立日期,注销日期,经营异常,失联,公共信用综合评价,信用报告提交日期\n\
         甲公司,{c1},法人,存续,2010-01-01,,否,否,,\n\
         乙公司,{c2},法人,存续,2012-05-05,,否,否,,\n\
         丙商店,00000000000000000X,个体工商户,存续,2015-01-01,,否,否,,\n\
         丁公司,{c4},法人,注销,2005-01-01,2018-06-01,否,否,,\n\
         戊公司,{c5},法人,存续,2019-01-10,,否,否,,\n\
         己分公司,{c1},非法人组织,存续,2011-01-01,,否,否,,\n\
         庚商店,{i7},个体工商户,存续,2016-02-02,,否,否,差,2019-03-01\n\
         甲公司,{c8},法人,存续,2013-03-03,,否,否,,\n\
         辛公司,{c9},法人,吊销,2009-09-09,,否,否,,\n\
         壬公司,{c10},法人,存续,2009-09-09,,是,否,,\n\
         癸公司,{c11},法人,存续,2009-09-09,,否,是,,\n\
         子公司,{c12},法人,存续,2009-09-09,,否,否,差,\n"
    )
}

fn lists() -> String {
    let (c1, c9, c10, c11, c13, c14, c15, c16, c17, i7) = (
        code(1),
        code(9),
        code(10),
        code(11),
        code(13),
        code(14),
        code(15),
        code(16),
        code(17),
        individual(7),
    );
    format!(
        "统一社会信用代码,名称,名单类型,领域,认定日期,认定单位,移出日期,移出原因,修复培训日期,信用报告提交日期\n\
         {c1},甲公司,黑名单,市场监管,2018-01-01,市市场监管局,2019-01-20,整改,2019-01-05,\n\
         {c9},辛公司,黑名单,税务,2018-02-01,市税务局,,,,\n\
         {c10},壬公司,黑名单,税务,2018-02-01,市税务局,,,,\n\
         {c11},癸公司,黑名单,税务,2018-02-01,市税务局,,,,\n\
         {c13},丑公司,黑名单,环境保护,2018-03-01,青川市市场监督管理局,2018-10-01,期满,,\n\
         {c14},寅公司,黑名单,安全生产,2018-11-11,市市场监管局,2019-02-01,其他,,2019-02-02\n\
         {c15},卯公司,红名单,市场监管,2018-05-05,市市场监管局,,,,\n\
         {c16},辰公司,红名单,市场监管,2019-01-05,市市场监管局,,,,\n\
         {c17},巳公司,黑名单,市场监管,2019-01-05,市市场监管局,,,,\n\
         {i7},庚商店,黑名单,市场监管,2018-06-06,市市场监管局,,,2019-03-10,\n"
    )
}

fn commitments() -> String {
    let (c1, c9, c14, c20, c21, i7) = (
        code(1),
        code(9),
        code(14),
        code(20),
        code(21),
        individual(7),
    );
    format!(
        "统一社会信用代码,承诺类型,承诺日期,事项,受理单位\n\
         {c1},主动公示型,2019-01-02,,市市场监管局\n\
         {c20},行业自律型,2019-03-15,,市税务局\n\
         {c21},主动承诺型,2018-12-14,,市税务局\n\
         {c1},信用修复型,2019-02-02,,市市场监管局\n\
         {c1},信用修复型,2019-02-03,,市市场监管局\n\
         {c14},信用修复型,2019-03-16,,市市场监管局\n\
         {i7},信用修复型,2019-01-01,,市市场监管局\n\
         {c9},信用修复型,2019-01-01,,市市场监管局\n"
    )
}

fn licences() -> String {
    let (c1, c20, c21, i7) = (code(1), code(20), code(21), individual(7));
    format!(
        "行政相对人名称,行政相对人类别,统一社会信用代码,许可决定文书号,许可类别,许可决定日期,有效期自,有效期至,许可机关,数据来源单位,公示日期\n\
         甲公司,法人及非法人组织,{c1},许1,普通,2019-01-07,2019-01-07,2099-12-31,市审批局,市市场监管局,2019-01-16\n\
         子午公司,法人及非法人组织,{c20},许2,普通,2019-01-07,2019-01-07,2022-01-06,市审批局,市市场监管局,2019-01-18\n\
         张三,自然人,,许3,普通,2019-01-30,2019-01-30,2020-01-30,市审批局,市税务局,2019-02-13\n\
         庚商店,个体工商户,{i7},许4,登记,2019-03-01,2019-03-01,2099/12/31,市审批局,市税务局,\n\
         未申公司,法人及非法人组织,{c21},许5,普通,2018-11-01,2018-11-01,2019-11-01,市审批局,市税务局,2018-11-05\n"
    )
}

fn penalties() -> String {
    let (c1, c20) = (code(1), code(20));
    format!(
        "CF_XDR_MC,CF_XDR_LB,CF_XDR_SHXYM,CF_WSH,CF_WFXW,CF_CFLB,CF_JDRQ,CF_CFJG,CF_SJLY,公示日期\n\
         甲公司,法人,{c1},罚1,违法,罚款,2019-02-01,市监局,市市场监管局,2019-03-20\n\
         子午公司,法人,{c20},罚2,违法,警告;罚款,20190215,市监局,市市场监管局,2019/02/20\n"
    )
}

const APPROVAL_ITEMS: &str = "事项名称,实行审批替代型承诺,接受容缺受理型承诺,属于国发〔2018〕35号19项,实施单位\n\
    事项一,是,是,是,市市场监管局\n\
    事项二,是,否,否,市市场监管局\n\
    事项三,否,是,否,市税务局\n";

fn cases() -> String {
    let (c1, c14, c20) = (code(1), code(14), code(20));
    format!(
        "统一社会信用代码,实施部门,奖惩措施,实施效果\n\
         {c1},市市场监管局、市税务局,限制参与政府采购,已整改\n\
         {c14},市市场监管局,限制参与政府采购,已整改\n\
         {c20},市市场监管局;市税务局,限制参与政府采购,\n"
    )
}

struct City {
    checked: Vec<Checked>,
}

impl City {
    fn new() -> City {
        City {
            checked: vec![
                ok(D::Register, &register()),
                ok(D::Lists, &lists()),
                ok(D::Commitments, &commitments()),
                ok(D::Licences, &licences()),
                ok(D::Penalties, &penalties()),
                ok(D::ApprovalItems, APPROVAL_ITEMS),
                ok(D::Cases, &cases()),
            ],
        }
    }

    fn derive(&self) -> Derivation {
        let mut d = Datasets::default();
        for c in &self.checked {
            d.add(c);
        }
        derive(&d, &settings())
    }

    fn get(&self, kind: D) -> &Checked {
        self.checked
            .iter()
            .find(|c| c.kind == kind)
            .unwrap_or_else(|| panic!("{kind:?}"))
    }
}

fn value(d: &Derivation, key: K) -> DerivedValue {
    d.get(key).map_or_else(
        || panic!("{} not derived: {:?}", key.key(), d.not_derived),
        |x| x.value,
    )
}

fn count(d: &Derivation, key: K) -> u64 {
    match value(d, key) {
        DerivedValue::Count(n) => n,
        DerivedValue::Ratio { .. } => panic!("{} is a ratio", key.key()),
    }
}

#[test]
fn register_inputs() {
    let d = City::new().derive();
    assert_eq!(
        value(&d, K::CodeConversionRate),
        DerivedValue::Ratio {
            numerator: 9,
            denominator: 10
        }
    );
    assert_eq!(
        value(&d, K::CodeErrorRate),
        DerivedValue::Ratio {
            numerator: 2,
            denominator: 10
        }
    );
    assert_eq!(count(&d, K::LegalEntities), 9);
    assert_eq!(count(&d, K::NewMarketEntities), 1);
    let err = d
        .get(K::CodeErrorRate)
        .map(|x| x.formula.clone())
        .unwrap_or_default();
    assert_eq!(err, "重错码率 = (1 错码 + 1 重码) ÷ 10 有代码的主体 = 20%");
    let parts: Vec<(&str, u64)> = d
        .get(K::CodeErrorRate)
        .map(|x| x.parts.iter().map(|p| (p.label, p.count)).collect())
        .unwrap_or_default();
    assert_eq!(parts, vec![("错码", 1), ("重码", 1), ("有代码的主体", 10)]);
}

#[test]
fn register_problems_are_exactly_the_faulty_rows() {
    let city = City::new();
    let reg = city.get(D::Register);
    assert_eq!(reg.rows, 12);
    assert_eq!(
        kinds(reg),
        vec![
            (3, P::WrongCode),
            (4, P::PlaceholderCode),
            (7, P::CodeTwoNames),
            (9, P::NameTwoCodes)
        ]
    );
    assert_eq!(reg.problems[2].detail, Some(Detail::EarlierRow(2)));
    assert!(reg.problems[2].feeds.contains(K::CodeErrorRate));
    assert!(reg.problems[1].feeds.contains(K::CodeConversionRate));
    assert_eq!(reg.problems[0].raw[0], "乙公司", "the original row is kept");
}

#[test]
fn decision_inputs_and_lateness() {
    let city = City::new();
    let d = city.derive();
    assert_eq!(count(&d, K::DecisionsTotal), 6);
    assert_eq!(count(&d, K::DecisionsReported), 4);
    let rep = d
        .get(K::DecisionsReported)
        .map(|x| {
            x.parts
                .iter()
                .map(|p| (p.label, p.count))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    assert!(
        rep.contains(&("按期公示", 3))
            && rep.contains(&("逾期公示", 1))
            && rep.contains(&("未公示", 2)),
        "{rep:?}"
    );
    let lic = city.get(D::Licences);
    assert_eq!(
        kinds(lic),
        vec![(3, P::LatePublication), (5, P::Unpublished)]
    );
    assert_eq!(
        lic.problems[0].detail,
        Some(Detail::Late {
            decided: crate::common::day("2019-01-07"),
            deadline: crate::common::day("2019-01-16"),
            published: crate::common::day("2019-01-18"),
            working_days_late: 2
        })
    );
    assert!(
        lic.problems[0].message.contains("逾期 2 个工作日"),
        "{}",
        lic.problems[0].message
    );
    assert_eq!(lic.problems[0].unit, Some(0));
    let pen = city.get(D::Penalties);
    assert_eq!(kinds(pen), vec![(2, P::Unpublished)]);
}

#[test]
fn portal_records_count_legal_subjects_across_datasets() {
    let d = City::new().derive();
    // Licences 3 + penalties 1 + list entries 9 + commitments 6.
    assert_eq!(count(&d, K::PortalRecords), 19);
    let parts = d
        .get(K::PortalRecords)
        .map(|x| x.parts.iter().map(|p| p.count).collect::<Vec<_>>())
        .unwrap_or_default();
    assert_eq!(parts, vec![3, 1, 9, 6]);
}

#[test]
fn blacklist_inputs() {
    let d = City::new().derive();
    assert_eq!(count(&d, K::OperatingBlacklist), 3);
    let parts = d
        .get(K::OperatingBlacklist)
        .map(|x| x.parts.iter().map(|p| p.count).collect::<Vec<_>>())
        .unwrap_or_default();
    assert_eq!(
        parts,
        vec![6, 1, 1, 1],
        "6 on the blacklist at start, minus one each 吊销, 经营异常, 失联"
    );
    assert_eq!(count(&d, K::BlacklistExited), 1);
    assert_eq!(count(&d, K::RepairTrained), 2);
    assert_eq!(count(&d, K::ReportSubjectsTotal), 4);
    assert_eq!(count(&d, K::ReportsSubmitted), 2);
    assert_eq!(count(&d, K::OperatingRedBlackSubjects), 4);
    assert_eq!(count(&d, K::RepairCommitments), 2);
}

#[test]
fn commitment_approval_and_case_inputs() {
    let city = City::new();
    let d = city.derive();
    assert_eq!(count(&d, K::VoluntaryCommitments), 1);
    assert_eq!(count(&d, K::SelfDisciplineCommitments), 1);
    assert_eq!(count(&d, K::SubstitutionItems), 1);
    assert_eq!(count(&d, K::ToleranceItems), 2);
    assert_eq!(count(&d, K::ApprovalItemsTotal), 3);
    assert_eq!(count(&d, K::JrpCases), 1);
    assert_eq!(
        kinds(city.get(D::Cases)),
        vec![(3, P::MissingField), (4, P::MissingField)]
    );
    assert!(d.not_derived.is_empty(), "{:?}", d.not_derived);
    assert_eq!(d.values.len(), 20);
}

#[test]
fn the_window_is_a_parameter() {
    let mut s = settings();
    s.window.start = crate::common::day("2019-01-11");
    let reg = creditcity_data::check(
        D::Register,
        creditcity_data::Input::bytes(register().as_bytes()),
        &s,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut d = Datasets::default();
    d.add(&reg);
    let out = derive(&d, &s);
    // 戊公司, founded 2019-01-10, is now part of the stock and no longer new.
    assert_eq!(
        value(&out, K::CodeConversionRate),
        DerivedValue::Ratio {
            numerator: 10,
            denominator: 11
        }
    );
    assert_eq!(count(&out, K::NewMarketEntities), 0);
}

#[test]
fn missing_datasets_are_named() {
    let reg = ok(D::Register, &register());
    let mut d = Datasets::default();
    d.add(&reg);
    let out = derive(&d, &settings());
    assert_eq!(out.values.len(), 4);
    let why = out
        .not_derived
        .iter()
        .find(|n| n.key == K::OperatingBlacklist)
        .map(|n| n.reason.clone())
        .unwrap_or_default();
    assert_eq!(why, "尚未导入:红黑名单");
}

#[test]
fn every_derived_key_is_an_input_of_the_2019_rubric() {
    let rubric = creditcity_rubric::Rubric::embedded_2019().unwrap_or_else(|e| panic!("{e}"));
    for key in K::ALL {
        assert!(
            rubric.input_id(key.key()).is_some(),
            "{} is not in rubrics/2019.toml",
            key.key()
        );
    }
}

#[test]
fn substitution_items_are_capped_at_19() {
    let mut csv = String::from("事项名称,实行审批替代型承诺,接受容缺受理型承诺\n");
    for i in 0..25 {
        csv.push_str(&format!("事项{i},是,否\n"));
    }
    let c = ok(D::ApprovalItems, &csv);
    let mut d = Datasets::default();
    d.add(&c);
    let out = derive(&d, &settings());
    assert_eq!(count(&out, K::SubstitutionItems), 19);
    let f = out
        .get(K::SubstitutionItems)
        .map(|x| x.formula.clone())
        .unwrap_or_default();
    assert!(f.contains("标记 25 项"), "{f}");
    let _ = make_uscc;
}

#[test]
fn failing_records_of_an_input() {
    let city = City::new();
    let reg = city.get(D::Register);
    let rows: Vec<u64> = K::CodeErrorRate
        .failing(&reg.problems)
        .map(|p| p.row)
        .collect();
    assert_eq!(rows, vec![3, 7], "the wrong code and the duplicate");
    let rows: Vec<u64> = K::CodeConversionRate
        .failing(&reg.problems)
        .map(|p| p.row)
        .collect();
    assert_eq!(rows, vec![4], "the placeholder");
    let lic = city.get(D::Licences);
    let rows: Vec<u64> = K::DecisionsReported
        .failing(&lic.problems)
        .map(|p| p.row)
        .collect();
    assert_eq!(rows, vec![5], "the unpublished licence");
}

#[test]
fn header_and_progress() {
    let mut calls = Vec::new();
    let csv = register();
    let c = creditcity_data::check_with_progress(
        D::Register,
        creditcity_data::Input::bytes(csv.as_bytes()),
        &settings(),
        &mut |n| calls.push(n),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(calls, vec![12]);
    assert_eq!(c.header[0], "名称");
    assert_eq!(c.header.len(), 10);
}
