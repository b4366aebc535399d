//! Each problem kind on a small inline dataset: row, column, unit, message.

use crate::common::{code, kinds, ok, only, run, settings};
use creditcity_data::date::{BadDate, CellDate, Date, parse_cell};
use creditcity_data::{DatasetKind as D, Detail, Input, ProblemKind as P, Window, check};

const LICENCE_HEADER: &str = "行政相对人名称,行政相对人类别,统一社会信用代码,许可决定文书号,许可类别,许可决定日期,有效期自,有效期至,许可机关,数据来源单位,公示日期\n";

fn licence(row: &str) -> String {
    format!("{LICENCE_HEADER}{row}\n")
}

#[test]
fn date_forms_accepted_and_refused() {
    let d = |y, m, dd| CellDate::Day(Date::new(y, m, dd).unwrap_or_else(|| panic!("date")));
    assert_eq!(parse_cell("2019/01/31"), Ok(d(2019, 1, 31)));
    assert_eq!(parse_cell("2019-1-3"), Ok(d(2019, 1, 3)));
    assert_eq!(parse_cell("20190131"), Ok(d(2019, 1, 31)));
    assert_eq!(parse_cell("2019-01-31 08:30:00"), Ok(d(2019, 1, 31)));
    assert_eq!(parse_cell("2019/01/31 8:30"), Ok(d(2019, 1, 31)));
    assert_eq!(parse_cell("20190131 083000"), Ok(d(2019, 1, 31)));
    assert_eq!(parse_cell("2019-01-31T08:30:00Z"), Ok(d(2019, 1, 31)));
    assert_eq!(parse_cell("2019年1月31日"), Ok(d(2019, 1, 31)));
    assert_eq!(parse_cell("2099/12/31"), Ok(CellDate::LongTerm));
    assert_eq!(parse_cell("长期"), Ok(CellDate::LongTerm));
    for bad in [
        "2019-02-29",
        "2019-13-01",
        "31/01/2019",
        "2019-01",
        "明天",
        "2019-01-31 上午",
        "201901311",
    ] {
        assert_eq!(parse_cell(bad), Err(BadDate), "{bad}");
    }
}

#[test]
fn missing_required_field_names_its_column() {
    let c = ok(
        D::Licences,
        &licence(&format!(
            "甲公司,法人及非法人组织,{},许1,普通,2019-01-07,2019-01-07,2020-01-07,,市市场监管局,2019-01-08",
            code(1)
        )),
    );
    assert_eq!(kinds(&c), vec![(2, P::MissingField)]);
    assert_eq!(c.problems[0].column, Some("许可机关"));
    assert_eq!(c.problems[0].unit_name.as_deref(), Some("市市场监管局"));
    assert!(c.problems[0].message.contains("许可机关为空"));
}

#[test]
fn unparseable_date_says_how_to_write_it() {
    let c = ok(
        D::Licences,
        &licence(&format!(
            "甲公司,法人,{},许1,普通,2019-01-07,2019-01-07,2019年2月30日,机关,市税务局,2019-01-08",
            code(1)
        )),
    );
    assert_eq!(kinds(&c), vec![(2, P::BadDate)]);
    assert_eq!(c.problems[0].column, Some("有效期至"));
    assert!(
        c.problems[0].message.contains("2019/01/31"),
        "{}",
        c.problems[0].message
    );
}

#[test]
fn date_order_problems() {
    let c = ok(
        D::Licences,
        &licence(&format!(
            "甲公司,法人,{},许1,普通,2019-01-07,2019-02-07,2019-01-07,机关,市税务局,2019-01-06",
            code(1)
        )),
    );
    assert_eq!(kinds(&c), vec![(2, P::DateOrder), (2, P::DateOrder)]);
    assert_eq!(c.problems[0].column, Some("有效期自"));
    assert_eq!(c.problems[1].column, Some("公示日期"));
    assert!(c.problems[1].message.contains("公示不能先于决定"));
}

#[test]
fn future_dates_are_problems_but_long_term_validity_is_not() {
    let c = ok(
        D::Licences,
        &licence(&format!(
            "甲公司,法人,{},许1,普通,2018-01-07,2018-01-07,2099-12-31,机关,市税务局,2019-04-01",
            code(1)
        )),
    );
    assert_eq!(kinds(&c), vec![(2, P::FutureDate)]);
    assert!(c.problems[0].message.contains("晚于今天(2019-03-20)"));
}

#[test]
fn category_not_in_its_list() {
    let c = ok(
        D::Licences,
        &licence(&format!(
            "甲公司,法人,{},许1,临时,2018-01-07,2018-01-07,2020-01-01,机关,市税务局,2018-01-08",
            code(1)
        )),
    );
    assert_eq!(kinds(&c), vec![(2, P::UnknownCategory)]);
    assert!(c.problems[0].message.contains("应为:普通、特许"));
    let c = ok(
        D::Licences,
        &licence(&format!(
            "甲公司,企业,{},许1,普通,2018-01-07,2018-01-07,2020-01-01,机关,市税务局,2018-01-08",
            code(1)
        )),
    );
    assert_eq!(kinds(&c), vec![(2, P::UnknownCategory)]);
}

#[test]
fn wrong_code_says_which_check_and_the_expected_character() {
    let c = ok(
        D::Licences,
        &licence(
            "甲公司,法人,91110000600037341N,许1,普通,2018-01-07,2018-01-07,2020-01-01,机关,市税务局,2018-01-08",
        ),
    );
    assert_eq!(kinds(&c), vec![(2, P::WrongCode)]);
    assert!(
        matches!(c.problems[0].detail, Some(Detail::Code(e)) if e.expected() == Some('L') && e.check_name() == "check")
    );
}

#[test]
fn placeholder_where_a_code_is_required() {
    let c = ok(
        D::Licences,
        &licence(
            "甲公司,法人,00000000000000000X,许1,普通,2018-01-07,2018-01-07,2020-01-01,机关,市税务局,2018-01-08",
        ),
    );
    assert_eq!(kinds(&c), vec![(2, P::PlaceholderCode)]);
    // A natural person needs no code: no problem.
    let c = ok(
        D::Licences,
        &licence("张三,自然人,,许1,普通,2018-01-07,2018-01-07,2020-01-01,机关,市税务局,2018-01-08"),
    );
    assert!(c.problems.is_empty(), "{:?}", c.problems);
}

#[test]
fn duplicate_decision_number_names_the_first_row() {
    let row = |n: &str| {
        format!(
            "甲公司,法人,{},{n},普通,2018-01-07,2018-01-07,2020-01-01,机关,市税务局,2018-01-08",
            code(1)
        )
    };
    let c = ok(
        D::Licences,
        &format!(
            "{LICENCE_HEADER}{}\n{}\n{}\n",
            row("许1"),
            row("许2"),
            row("许1")
        ),
    );
    assert_eq!(kinds(&c), vec![(4, P::DuplicateDecision)]);
    assert_eq!(c.problems[0].detail, Some(Detail::EarlierRow(2)));
}

#[test]
fn unknown_unit_and_alias() {
    let row = |u: &str| {
        format!(
            "甲公司,法人,{},许{u},普通,2018-01-07,2018-01-07,2020-01-01,机关,{u},2018-01-08",
            code(1)
        )
    };
    let c = ok(
        D::Licences,
        &format!(
            "{LICENCE_HEADER}{}\n{}\n{}\n",
            row("青川市市场监督管理局"),
            row(" 市税务局 "),
            row("市财政局")
        ),
    );
    assert_eq!(kinds(&c), vec![(4, P::UnknownUnit)]);
    assert_eq!(c.problems[0].unit, None);
    assert_eq!(c.problems[0].unit_name.as_deref(), Some("市财政局"));
    // Without units, no matching is done.
    let mut s = settings();
    s.units = creditcity_data::Units::default();
    let c = check(
        D::Licences,
        Input::bytes(format!("{LICENCE_HEADER}{}\n", row("市财政局")).as_bytes()),
        &s,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(c.problems.is_empty());
}

#[test]
fn lateness_outside_the_table_is_its_own_problem() {
    let mut s = settings();
    s.window = Window {
        start: crate::common::day("2014-12-01"),
        end: crate::common::day("2015-01-31"),
    };
    let csv = licence(&format!(
        "甲公司,法人,{},许1,普通,2014-12-20,2014-12-20,2020-01-01,机关,市税务局,2015-01-08",
        code(1)
    ));
    let c = check(D::Licences, Input::bytes(csv.as_bytes()), &s).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(kinds(&c), vec![(2, P::OutsideCalendar)]);
    assert!(c.problems[0].message.contains("不在工作日表范围内"));
}

#[test]
fn upload_time_can_be_the_publication_basis() {
    let header = LICENCE_HEADER.trim_end().to_string() + ",上传时间\n";
    let csv = format!(
        "{header}甲公司,法人,{},许1,普通,2019-01-07,2019-01-07,2020-01-01,机关,市税务局,2019-01-08,2019-01-25 10:00:00\n",
        code(1)
    );
    let c = ok(D::Licences, &csv);
    assert!(c.problems.is_empty());
    let mut s = settings();
    s.publication = creditcity_data::PublicationBasis::UploadTime;
    let c = check(D::Licences, Input::bytes(csv.as_bytes()), &s).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(kinds(&c), vec![(2, P::LatePublication)]);
    assert_eq!(c.problems[0].column, Some("上传时间"));
}

#[test]
fn short_row_is_malformed_and_still_checked() {
    let csv = format!("{LICENCE_HEADER}甲公司,法人,{}\n", code(1));
    let c = ok(D::Licences, &csv);
    assert_eq!(c.problems[0].kind, P::MalformedRow);
    assert!(c.problems[0].message.contains("只有 3 个单元格"));
    assert!(only(&c, P::MissingField).len() >= 6, "{:?}", kinds(&c));
}

#[test]
fn register_problem_messages() {
    let csv = format!(
        "名称,统一社会信用代码,主体类别,登记状态,成立日期,注销日期\n\
         甲公司,{},法人,正常,2010-01-01,\n\
         乙商店,00000000000000000X,个体工商户,存续,2010-01-01,\n\
         丙公司,{},法人,注销,2010-01-01,2009-01-01\n",
        code(1),
        code(2)
    );
    let c = ok(D::Register, &csv);
    assert_eq!(
        kinds(&c),
        vec![
            (2, P::UnknownCategory),
            (3, P::PlaceholderCode),
            (4, P::DateOrder)
        ]
    );
    assert!(c.problems[0].message.contains("存续、吊销、注销、迁出"));
    assert!(c.problems[1].message.contains("新旧代码映射"));
    let _ = run;
}
