//! Files: encodings, .xlsx, headers by name or field code, and every whole-file error.

use crate::common::{code, kinds, ok, run, settings};
use creditcity_data::generate::{CityProfile, Generator};
use creditcity_data::{DatasetKind as D, Encoding, FileError, Input, ProblemKind as P, check};

fn register_csv(rows: u64) -> (Vec<u8>, creditcity_data::generate::Expected) {
    let mut g = Generator::new(CityProfile::qingchuan(), 7, 0.05);
    let mut buf = Vec::new();
    let e = g.register(&mut buf, rows).unwrap_or_else(|e| panic!("{e}"));
    (buf, e)
}

fn checked_counts(c: &creditcity_data::Checked) -> std::collections::BTreeMap<P, u64> {
    let mut m = std::collections::BTreeMap::new();
    for p in &c.problems {
        *m.entry(p.kind).or_default() += 1;
    }
    m
}

#[test]
fn utf8_bom_and_gb18030_read_the_same() {
    // Over 1 MiB, so the encoding is decided on a sample and the decoder streams across buffers.
    let (utf8, expected) = register_csv(20_000);
    assert!(utf8.len() > 1 << 20);
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(&utf8);
    let text = String::from_utf8(utf8.clone()).unwrap_or_default();
    let (gb, _, unmappable) = encoding_rs::GB18030.encode(&text);
    assert!(!unmappable);
    let s = settings();
    let mut results = Vec::new();
    for (bytes, enc) in [
        (&utf8[..], Encoding::Utf8),
        (&bom[..], Encoding::Utf8Bom),
        (&gb[..], Encoding::Gb18030),
    ] {
        let c =
            check(D::Register, Input::bytes(bytes), &s).unwrap_or_else(|e| panic!("{enc:?}: {e}"));
        assert_eq!(c.encoding, enc);
        assert_eq!(c.rows, 20_000);
        assert_eq!(checked_counts(&c), expected.problems, "{enc:?}");
        results.push(
            c.problems
                .iter()
                .map(|p| (p.row, p.kind, p.raw.to_vec()))
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(results[0], results[1]);
    assert_eq!(results[0], results[2], "GB18030 decodes to the same cells");
}

#[test]
fn gbk_header_is_detected_in_a_small_file() {
    let csv = format!(
        "名称,统一社会信用代码,主体类别,登记状态,成立日期\n甲公司,{},法人,存续,2010-01-01\n",
        code(1)
    );
    let (gbk, _, _) = encoding_rs::GBK.encode(&csv);
    let c = check(D::Register, Input::bytes(&gbk), &settings()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.encoding, Encoding::Gb18030);
    assert!(c.problems.is_empty());
}

#[test]
fn xlsx_is_read_by_header_names_with_dates_and_numbers() {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let fmt = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    let headers = [
        "备注",
        "成立日期",
        "名称",
        "统一社会信用代码",
        "主体类别",
        "登记状态",
    ];
    for (i, h) in headers.iter().enumerate() {
        ws.write_string(0, i as u16, *h)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let date =
        rust_xlsxwriter::ExcelDateTime::from_ymd(2010, 1, 1).unwrap_or_else(|e| panic!("{e}"));
    ws.write_number(1, 0, 12.0)
        .unwrap_or_else(|e| panic!("{e}"));
    ws.write_datetime_with_format(1, 1, &date, &fmt)
        .unwrap_or_else(|e| panic!("{e}"));
    ws.write_string(1, 2, "甲公司")
        .unwrap_or_else(|e| panic!("{e}"));
    ws.write_string(1, 3, code(1))
        .unwrap_or_else(|e| panic!("{e}"));
    ws.write_string(1, 4, "法人")
        .unwrap_or_else(|e| panic!("{e}"));
    ws.write_string(1, 5, "存续")
        .unwrap_or_else(|e| panic!("{e}"));
    // Row 3 left empty; row 4 has a bad date.
    ws.write_string(3, 1, "2010-02-30")
        .unwrap_or_else(|e| panic!("{e}"));
    ws.write_string(3, 2, "乙公司")
        .unwrap_or_else(|e| panic!("{e}"));
    ws.write_string(3, 3, code(2))
        .unwrap_or_else(|e| panic!("{e}"));
    ws.write_string(3, 4, "法人")
        .unwrap_or_else(|e| panic!("{e}"));
    ws.write_string(3, 5, "存续")
        .unwrap_or_else(|e| panic!("{e}"));
    let bytes = wb.save_to_buffer().unwrap_or_else(|e| panic!("{e}"));
    let c = check(D::Register, Input::bytes(&bytes), &settings()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.encoding, Encoding::Xlsx);
    assert_eq!(c.rows, 2);
    assert_eq!(
        kinds(&c),
        vec![(4, P::BadDate)],
        "the sheet's own row number"
    );
    if let creditcity_data::Facts::Register(f) = &c.facts {
        assert_eq!(f.existing_at_start, 1, "the Excel date was read");
    }
    // Also through a file path.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("名录.xlsx");
    std::fs::write(&path, &bytes).unwrap_or_else(|e| panic!("{e}"));
    let input = Input::open(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        check(D::Register, input, &settings()).map(|c| c.rows).ok(),
        Some(2)
    );
}

#[test]
fn headers_by_field_code_in_any_order_with_extra_columns() {
    let csv = format!(
        "备注,XK_XDR_SHXYM,许可决定文书号(XK_WSH),XK_XDR_LB,行政相对人名称,XK_XKLB,XK_JDRQ,XK_YXQZ,XK_YXQZI,XK_XKJG,数据来源单位【XK_LYDW】,公示日期\n\
         x,{},许1,法人,甲公司,普通,2019-01-07,2019-01-07,2020-01-07,机关,市税务局,2019-01-08\n",
        code(1)
    );
    let c = ok(D::Licences, &csv);
    assert!(c.problems.is_empty(), "{:?}", kinds(&c));
}

#[test]
fn a_file_of_another_dataset_says_which_it_looks_like() {
    let csv = format!(
        "统一社会信用代码,承诺类型,承诺日期\n{},主动公示型,2019-01-01\n",
        code(1)
    );
    match run(D::Register, &csv) {
        Err(FileError::WrongDataset {
            declared: D::Register,
            looks_like: D::Commitments,
        }) => {}
        other => panic!("{other:?}"),
    }
    let lic = "行政相对人名称,行政相对人类别,统一社会信用代码,许可决定文书号,许可类别,许可决定日期,有效期自,有效期至,许可机关,数据来源单位\n甲,法人,,1,普通,2019-01-01,2019-01-01,2019-01-01,机关,单位\n";
    let err = run(D::Penalties, lic)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(
        err,
        "这不是行政处罚数据:表头与行政许可相符,请确认导入的数据集类型"
    );
}

#[test]
fn a_missing_required_column_is_named() {
    let csv = format!(
        "名称,统一社会信用代码,主体类别,成立日期\n甲公司,{},法人,2010-01-01\n",
        code(1)
    );
    match run(D::Register, &csv) {
        Err(FileError::MissingColumns { columns, .. }) => assert_eq!(columns, vec!["登记状态"]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn empty_files_are_refused() {
    for csv in [
        "",
        "\n\n  \n",
        "名称,统一社会信用代码,主体类别,登记状态,成立日期\n",
        ",,,\n",
    ] {
        match run(D::Register, csv) {
            Err(FileError::Empty) => {}
            other => panic!("{csv:?}: {other:?}"),
        }
    }
    match check(D::Register, Input::bytes(b"\xEF\xBB\xBF"), &settings()) {
        Err(FileError::Empty) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn undecodable_files_are_refused() {
    let mut bytes = "名称,统一社会信用代码\n".as_bytes().to_vec();
    bytes.extend_from_slice(b"\xFF\xFE\xFF,x\n");
    for (b, what) in [
        (bytes, "GB18030"),
        (b"\xFF\xFEa\0b\0".to_vec(), "UTF-16"),
        (b"a,b\0c\n".to_vec(), "二进制"),
    ] {
        match check(D::Register, Input::Csv(Box::new(&b[..])), &settings()) {
            Err(FileError::Undecodable(m)) => assert!(m.contains(what), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn another_citys_file_is_refused() {
    let other = |n| creditcity_data::generate::make_uscc("91", "110108", n);
    let csv = format!(
        "名称,统一社会信用代码,主体类别,登记状态,成立日期\n甲,{},法人,存续,2010-01-01\n乙,{},法人,存续,2010-01-01\n丙,{},法人,存续,2010-01-01\n",
        other(1),
        other(2),
        code(3)
    );
    match run(D::Register, &csv) {
        Err(FileError::OtherCity {
            outside: 2,
            checked: 3,
            example,
            ..
        }) => assert_eq!(example, "110108"),
        other => panic!("{other:?}"),
    }
    // A minority from elsewhere is normal (a penalty on a visiting company).
    let csv = format!(
        "名称,统一社会信用代码,主体类别,登记状态,成立日期\n甲,{},法人,存续,2010-01-01\n乙,{},法人,存续,2010-01-01\n丙,{},法人,存续,2010-01-01\n",
        other(1),
        code(2),
        code(3)
    );
    assert!(run(D::Register, &csv).is_ok());
}

#[test]
fn a_bad_byte_after_the_sample_is_a_malformed_row() {
    let (mut utf8, _) = register_csv(12_000);
    assert!(utf8.len() > 1 << 20);
    let rows_before = utf8.split(|&b| b == b'\n').count() as u64 - 1;
    utf8.extend_from_slice(
        format!(
            "坏\u{0}公司,{},法人,存续,2010-01-01,,,否,否,,,,\n",
            code(999_999)
        )
        .as_bytes(),
    );
    let n = utf8.len();
    utf8[n - 60] = 0xFF;
    let c = check(D::Register, Input::bytes(&utf8), &settings()).unwrap_or_else(|e| panic!("{e}"));
    let bad: Vec<_> = c
        .problems
        .iter()
        .filter(|p| p.kind == P::MalformedRow)
        .collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].row, rows_before + 1);
}

#[test]
fn a_missing_file_names_its_path() {
    let err = Input::open(std::path::Path::new("/nonexistent/名录.csv"))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("/nonexistent/名录.csv"), "{err}");
}

#[test]
fn a_title_row_above_the_header_is_skipped_and_rows_keep_their_numbers() {
    let csv = format!(
        "行政许可信息表,,,,\n名称,统一社会信用代码,主体类别,登记状态,成立日期\n甲公司,{},法人,存续,2010-13-01\n",
        code(1)
    );
    let c = ok(D::Register, &csv);
    assert_eq!(c.rows, 1);
    assert_eq!(kinds(&c), vec![(3, P::BadDate)], "row 3 of the file");
    assert_eq!(c.header[0], "名称");
    // A title alone is an empty file; a wrong header under a title is still refused.
    assert!(matches!(run(D::Register, "名录\n"), Err(FileError::Empty)));
    assert!(matches!(
        run(D::Register, "名录\n名称,代码\n甲,1\n"),
        Err(FileError::MissingColumns { .. })
    ));
}

#[test]
fn extra_non_empty_cells_are_a_malformed_row_but_trailing_commas_are_not() {
    let csv = format!(
        "名称,统一社会信用代码,主体类别,登记状态,成立日期\n甲公司,{},法人,存续,2010-01-01,,\n乙,公司,{},法人,存续,2010-01-01\n",
        code(1),
        code(2)
    );
    let c = ok(D::Register, &csv);
    let malformed: Vec<u64> = c
        .problems
        .iter()
        .filter(|p| p.kind == P::MalformedRow)
        .map(|p| p.row)
        .collect();
    assert_eq!(malformed, vec![3]);
    assert!(
        c.problems
            .iter()
            .any(|p| p.row == 3 && p.message.contains("多于表头"))
    );
}
