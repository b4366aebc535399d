//! Excel round-trips with the responsible units: a template per unit (its inputs with
//! their rules, units, allowed ranges as cell validation, yes/no drop-downs, current
//! values and sources; its tasks; its evidence checklist), and the reading of a filled
//! template back, cell by cell.
//!
//! This crate knows spreadsheets, not the rubric: it writes and reads plain rows. The
//! use-cases (`creditcity-app`) validate what is read and map problems back to cells.

use std::io::Cursor;

use calamine::{Data, Reader, open_workbook_from_rs};
use rust_xlsxwriter::{DataValidation, DataValidationRule, Format, Workbook};

/// The sheet the values are filled in.
pub const INPUT_SHEET: &str = "填报";
/// The header of the key column and of the column to fill.
pub const KEY_HEADER: &str = "键";
pub const VALUE_HEADER: &str = "填报值";

/// One input row of a template.
#[derive(Debug, Clone, Default)]
pub struct InputRow {
    pub key: String,
    pub rule: String,
    pub label: String,
    pub unit_of_measure: String,
    /// A sentence saying what is allowed.
    pub hint: String,
    pub validation: Validation,
    pub current: String,
    pub source: String,
}

/// What Excel itself should allow in the value cell.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum Validation {
    #[default]
    None,
    YesNo,
    WholeAtLeast(i32),
    WholeBetween(i32, i32),
    DecimalBetween(f64, f64),
    DecimalAtLeast(f64),
}

#[derive(Debug, Clone, Default)]
pub struct TaskRow {
    pub code: String,
    pub title: String,
    pub rules: String,
    pub due: String,
    pub status: String,
}

#[derive(Debug, Clone, Default)]
pub struct ChecklistRow {
    pub rule: String,
    pub item: usize,
    pub text: String,
    pub files: String,
}

/// A template for one unit (or the whole city).
#[derive(Debug, Clone, Default)]
pub struct Template {
    pub title: String,
    /// Sheets of inputs: one (`填报`) for a unit, one per section for the city.
    pub sheets: Vec<(String, Vec<InputRow>)>,
    pub tasks: Vec<TaskRow>,
    pub checklist: Vec<ChecklistRow>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExcelError {
    #[error("无法生成工作簿:{0}")]
    Write(String),
    /// A workbook of a known format that could not be read (damaged, encrypted…).
    #[error("无法读取这个 {format} 工作簿:{problem}")]
    Read { format: &'static str, problem: String },
    /// Not a workbook at all: what it looks like instead.
    #[error("这不是工作簿(.xlsx、.xls 或 .ods),而是{0};请在 Excel 或 WPS 中另存为 .xlsx 后再导入")]
    NotAWorkbook(&'static str),
    #[error("工作表“{sheet}”:{problem}")]
    Layout { sheet: String, problem: String },
}

/// The spreadsheet formats read: what WPS and Excel save by default today (.xlsx),
/// what older offices still send (.xls, Excel 97–2003), and LibreOffice's (.ods).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkbookFormat {
    Xlsx,
    Xls,
    Ods,
}

impl WorkbookFormat {
    pub fn name(self) -> &'static str {
        match self {
            Self::Xlsx => ".xlsx",
            Self::Xls => ".xls",
            Self::Ods => ".ods",
        }
    }

    /// The format of a file from its first bytes, or what it is instead.
    pub fn sniff(bytes: &[u8]) -> Result<Self, ExcelError> {
        const OLE2: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        if bytes.starts_with(OLE2) {
            return Ok(Self::Xls);
        }
        if bytes.starts_with(b"PK\x03\x04") {
            // An OpenDocument file stores its media type uncompressed, first.
            let head = &bytes[..bytes.len().min(128)];
            if head.windows(46).any(|w| w == b"application/vnd.oasis.opendocument.spreadsheet") {
                return Ok(Self::Ods);
            }
            if head.windows(38).any(|w| w.starts_with(b"application/vnd.oasis.opendocument")) {
                return Err(ExcelError::NotAWorkbook("OpenDocument 文本或演示文稿"));
            }
            let is_xlsx = bytes.windows(3).any(|w| w == b"xl/");
            let is_docx = bytes.windows(5).any(|w| w == b"word/");
            return match (is_xlsx, is_docx) {
                (true, _) => Ok(Self::Xlsx),
                (false, true) => Err(ExcelError::NotAWorkbook("Word 文档(.docx)")),
                (false, false) => Err(ExcelError::NotAWorkbook("ZIP 压缩包")),
            };
        }
        let looks_like = if bytes.is_empty() {
            "空文件"
        } else if bytes.starts_with(b"%PDF") {
            "PDF 文件"
        } else if bytes.starts_with(&[0x89, b'P', b'N', b'G']) || bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            "图片"
        } else if std::str::from_utf8(&bytes[..bytes.len().min(4096)]).is_ok() {
            "文本文件(如 CSV)"
        } else {
            "无法识别的文件"
        };
        Err(ExcelError::NotAWorkbook(looks_like))
    }
}

/// A value read from a filled template, with its sheet and cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilledValue {
    pub sheet: String,
    pub key: String,
    /// The value as text (numbers written without float noise).
    pub text: String,
    /// The cell, as Excel names it (`G7`).
    pub cell: String,
    pub row: u32,
}

const HEADERS: [&str; 9] = ["键", "指标", "输入项", "单位", "要求", "当前值", "填报值", "来源", "文号或说明"];

/// Writes the template as .xlsx bytes.
pub fn write_template(t: &Template) -> Result<Vec<u8>, ExcelError> {
    let w = |e: rust_xlsxwriter::XlsxError| ExcelError::Write(e.to_string());
    let mut wb = Workbook::new();
    let header = Format::new().set_bold().set_background_color(0x00EE_F2F6).set_font_name("Noto Sans CJK SC");
    let body = Format::new().set_font_name("Noto Sans CJK SC").set_text_wrap();
    let fill = Format::new().set_font_name("Noto Sans CJK SC").set_background_color(0x00FF_F8E1).set_unlocked();
    for (name, inputs) in &t.sheets {
        let ws = wb.add_worksheet();
        ws.set_name(sheet_name(name)).map_err(w)?;
        for (c, h) in HEADERS.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *h, &header).map_err(w)?;
        }
        for (c, width) in [26.0, 7.0, 40.0, 8.0, 30.0, 14.0, 16.0, 12.0, 24.0].iter().enumerate() {
            ws.set_column_width(c as u16, *width).map_err(w)?;
        }
        ws.set_freeze_panes(1, 0).map_err(w)?;
        for (i, r) in inputs.iter().enumerate() {
            let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
            for (c, v) in [&r.key, &r.rule, &r.label, &r.unit_of_measure, &r.hint, &r.current].iter().enumerate() {
                ws.write_string_with_format(row, c as u16, v.as_str(), &body).map_err(w)?;
            }
            ws.write_blank(row, 6, &fill).map_err(w)?;
            ws.write_string_with_format(row, 7, &r.source, &body).map_err(w)?;
            let dv = match r.validation {
                Validation::None => None,
                Validation::YesNo => Some(DataValidation::new().allow_list_strings(&["是", "否"]).map_err(w)?),
                Validation::WholeAtLeast(lo) => Some(DataValidation::new().allow_whole_number(DataValidationRule::GreaterThanOrEqualTo(lo))),
                Validation::WholeBetween(lo, hi) => Some(DataValidation::new().allow_whole_number(DataValidationRule::Between(lo, hi))),
                Validation::DecimalBetween(lo, hi) => Some(DataValidation::new().allow_decimal_number(DataValidationRule::Between(lo, hi))),
                Validation::DecimalAtLeast(lo) => Some(DataValidation::new().allow_decimal_number(DataValidationRule::GreaterThanOrEqualTo(lo))),
            };
            if let Some(dv) = dv {
                let dv = dv.set_error_title("数值不符合要求").map_err(w)?.set_error_message(&r.hint).map_err(w)?;
                ws.add_data_validation(row, 6, row, 6, &dv).map_err(w)?;
            }
        }
    }
    let ws = wb.add_worksheet();
    ws.set_name("任务").map_err(w)?;
    for (c, h) in ["编号", "任务", "指标", "期限", "状态"].iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &header).map_err(w)?;
    }
    for (c, width) in [14.0, 40.0, 16.0, 12.0, 10.0].iter().enumerate() {
        ws.set_column_width(c as u16, *width).map_err(w)?;
    }
    for (i, r) in t.tasks.iter().enumerate() {
        let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
        for (c, v) in [&r.code, &r.title, &r.rules, &r.due, &r.status].iter().enumerate() {
            ws.write_string_with_format(row, c as u16, v.as_str(), &body).map_err(w)?;
        }
    }
    let ws = wb.add_worksheet();
    ws.set_name("佐证材料").map_err(w)?;
    for (c, h) in ["指标", "序号", "材料", "已上传文件"].iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &header).map_err(w)?;
    }
    for (c, width) in [8.0, 6.0, 60.0, 40.0].iter().enumerate() {
        ws.set_column_width(c as u16, *width).map_err(w)?;
    }
    for (i, r) in t.checklist.iter().enumerate() {
        let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
        ws.write_string_with_format(row, 0, &r.rule, &body).map_err(w)?;
        ws.write_number_with_format(row, 1, r.item as f64, &body).map_err(w)?;
        ws.write_string_with_format(row, 2, &r.text, &body).map_err(w)?;
        ws.write_string_with_format(row, 3, &r.files, &body).map_err(w)?;
    }
    wb.save_to_buffer().map_err(w)
}

/// A valid sheet name: at most 31 characters, none of `[]:*?/\`.
pub fn sheet_name(name: &str) -> String {
    let cleaned: String = name.chars().map(|c| if "[]:*?/\\".contains(c) { '_' } else { c }).take(31).collect();
    if cleaned.trim().is_empty() { INPUT_SHEET.to_owned() } else { cleaned }
}

/// The Excel name of a cell (0-based row and column): (6, 6) → `G7`.
pub fn cell_name(row: u32, col: u32) -> String {
    let mut col = col + 1;
    let mut letters = Vec::new();
    while col > 0 {
        let rem = (col - 1) % 26;
        letters.push(char::from(b'A' + u8::try_from(rem).unwrap_or(0)));
        col = (col - 1) / 26;
    }
    letters.iter().rev().collect::<String>() + &(row + 1).to_string()
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) => s.trim().to_owned(),
        Data::Float(x) => {
            // 0.1 + 0.2 is written back as 0.3: at most 12 significant decimals.
            let s = format!("{x:.12}");
            let s = s.trim_end_matches('0').trim_end_matches('.');
            s.to_owned()
        }
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => if *b { "是" } else { "否" }.to_owned(),
        Data::DateTime(dt) => dt.to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
    }
}

/// Reads the filled values of a template: every sheet with a `键` and a `填报值` column
/// (found by name: columns may be reordered and others added), skipping empty value cells,
/// merged-away cells and empty trailing rows. A file that cannot be read is an error,
/// never a panic.
pub fn read_filled(bytes: &[u8]) -> Result<Vec<FilledValue>, ExcelError> {
    let format = WorkbookFormat::sniff(bytes)?;
    // The reader is a large third-party parser: hostile files must not bring us down.
    std::panic::catch_unwind(|| read_filled_inner(bytes, format))
        .unwrap_or_else(|_| Err(ExcelError::Read { format: format.name(), problem: "文件已损坏".to_owned() }))
}

fn read_filled_inner(bytes: &[u8], format: WorkbookFormat) -> Result<Vec<FilledValue>, ExcelError> {
    let read_error = |e: &dyn std::fmt::Display| ExcelError::Read { format: format.name(), problem: e.to_string() };
    let mut wb: calamine::Sheets<_> = match format {
        WorkbookFormat::Xlsx => calamine::Sheets::Xlsx(open_workbook_from_rs(Cursor::new(bytes)).map_err(|e: calamine::XlsxError| read_error(&e))?),
        WorkbookFormat::Xls => calamine::Sheets::Xls(open_workbook_from_rs(Cursor::new(bytes)).map_err(|e: calamine::XlsError| read_error(&e))?),
        WorkbookFormat::Ods => calamine::Sheets::Ods(open_workbook_from_rs(Cursor::new(bytes)).map_err(|e: calamine::OdsError| read_error(&e))?),
    };
    let mut out = Vec::new();
    let mut found = false;
    for sheet in wb.sheet_names() {
        let Ok(range) = wb.worksheet_range(&sheet) else { continue };
        let (top, left) = range.start().unwrap_or((0, 0));
        let mut header: Option<(usize, usize, usize)> = None;
        for (r, row) in range.rows().enumerate().take(20) {
            let find = |name: &str| row.iter().position(|c| cell_text(c) == name);
            if let (Some(k), Some(v)) = (find(KEY_HEADER), find(VALUE_HEADER)) {
                header = Some((r, k, v));
                break;
            }
        }
        let Some((header_row, key_col, value_col)) = header else { continue };
        found = true;
        for (r, row) in range.rows().enumerate().skip(header_row + 1) {
            let key = row.get(key_col).map(cell_text).unwrap_or_default();
            let text = row.get(value_col).map(cell_text).unwrap_or_default();
            if key.is_empty() || text.is_empty() {
                continue;
            }
            let abs_row = top + u32::try_from(r).unwrap_or(u32::MAX);
            let abs_col = left + u32::try_from(value_col).unwrap_or(u32::MAX);
            out.push(FilledValue { sheet: sheet.clone(), key, text, cell: cell_name(abs_row, abs_col), row: abs_row + 1 });
        }
    }
    if !found {
        return Err(ExcelError::Layout { sheet: INPUT_SHEET.to_owned(), problem: format!("没有一个工作表有“{KEY_HEADER}”和“{VALUE_HEADER}”两列的表头") });
    }
    Ok(out)
}

/// One line of the evidence package's index: a checklist item and one of its files, or
/// the item alone when it has none (`file` empty).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexRow {
    pub rule: String,
    pub item_no: u32,
    pub item: String,
    pub file: String,
    pub sha256: String,
    pub unit: String,
    pub review: String,
}

/// The index of the evidence package (索引.xlsx): every checklist item with its files,
/// their SHA-256, unit and review state; items without a file marked 缺.
pub fn write_evidence_index(title: &str, rows: &[IndexRow], summary: &str) -> Result<Vec<u8>, ExcelError> {
    let w = |e: rust_xlsxwriter::XlsxError| ExcelError::Write(e.to_string());
    let font = "Noto Sans CJK SC";
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold().set_font_name(font);
    let header = bold.clone().set_background_color(0x00EE_F2F6).set_border(rust_xlsxwriter::FormatBorder::Thin);
    let body = Format::new().set_font_name(font).set_text_wrap().set_align(rust_xlsxwriter::FormatAlign::Top).set_border(rust_xlsxwriter::FormatBorder::Thin);
    let missing = body.clone().set_font_color(0x00B3_261E);
    let ws = wb.add_worksheet();
    ws.set_name("索引").map_err(w)?;
    ws.set_landscape();
    ws.set_paper_size(9);
    ws.write_string_with_format(0, 0, title, &bold.clone().set_font_size(14)).map_err(w)?;
    let headers = ["指标", "序号", "佐证材料", "文件", "SHA-256", "单位", "评审"];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(1, c as u16, *h, &header).map_err(w)?;
    }
    for (c, width) in [7.0, 5.0, 40.0, 30.0, 20.0, 22.0, 8.0].iter().enumerate() {
        ws.set_column_width(c as u16, *width).map_err(w)?;
    }
    ws.set_freeze_panes(2, 0).map_err(w)?;
    let mut r = 2u32;
    for row in rows {
        let format = if row.file.is_empty() { &missing } else { &body };
        ws.write_string_with_format(r, 0, &row.rule, format).map_err(w)?;
        ws.write_number_with_format(r, 1, f64::from(row.item_no), format).map_err(w)?;
        let file = if row.file.is_empty() { "缺" } else { row.file.as_str() };
        for (c, v) in [row.item.as_str(), file, &row.sha256, &row.unit, &row.review].iter().enumerate() {
            ws.write_string_with_format(r, c as u16 + 2, *v, format).map_err(w)?;
        }
        r += 1;
    }
    ws.write_string(r + 1, 0, summary).map_err(w)?;
    wb.save_to_buffer().map_err(w)
}

/// The problems of one dataset for the problem list: the file's own header, so that each
/// problem carries its original row as the unit's system exported it.
#[derive(Debug, Clone, Default)]
pub struct ProblemSheet {
    /// The dataset's name (市场主体名录…), the sheet's name.
    pub name: String,
    /// The file's header row.
    pub header: Vec<String>,
    pub rows: Vec<ProblemLine>,
}

#[derive(Debug, Clone, Default)]
pub struct ProblemLine {
    /// The row in the file (the header is row 1).
    pub row: u64,
    pub column: String,
    pub kind: String,
    pub unit: String,
    pub message: String,
    /// The original row's cells.
    pub raw: Vec<String>,
}

/// The problem list a unit downloads (问题清单.xlsx): a sheet per dataset, each problem
/// with its row, column, kind and message, followed by the original row.
pub fn write_problems(title: &str, sheets: &[ProblemSheet]) -> Result<Vec<u8>, ExcelError> {
    let w = |e: rust_xlsxwriter::XlsxError| ExcelError::Write(e.to_string());
    let font = "Noto Sans CJK SC";
    let mut wb = Workbook::new();
    let header = Format::new().set_bold().set_font_name(font).set_background_color(0x00EE_F2F6).set_border(rust_xlsxwriter::FormatBorder::Thin);
    let original = header.clone().set_background_color(0x00F4_F4F4);
    let body = Format::new().set_font_name(font);
    let message = body.clone().set_font_color(0x00B3_261E);
    if sheets.is_empty() {
        let ws = wb.add_worksheet();
        ws.set_name("问题清单").map_err(w)?;
        ws.write_string(0, 0, title).map_err(w)?;
        ws.write_string(1, 0, "没有问题记录。").map_err(w)?;
    }
    for sheet in sheets {
        let ws = wb.add_worksheet();
        // Sheet names: at most 31 characters, none of []:*?/\
        let name: String = sheet.name.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect();
        ws.set_name(if name.is_empty() { "问题" } else { name.as_str() }).map_err(w)?;
        let fixed = ["行号", "列", "问题类型", "责任单位", "说明"];
        for (c, h) in fixed.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *h, &header).map_err(w)?;
        }
        for (c, h) in sheet.header.iter().enumerate() {
            ws.write_string_with_format(0, (fixed.len() + c) as u16, h, &original).map_err(w)?;
        }
        for (c, width) in [7.0, 14.0, 12.0, 20.0, 60.0].iter().enumerate() {
            ws.set_column_width(c as u16, *width).map_err(w)?;
        }
        ws.set_freeze_panes(1, 0).map_err(w)?;
        for (r, line) in sheet.rows.iter().enumerate() {
            let r = u32::try_from(r + 1).unwrap_or(u32::MAX);
            ws.write_number_with_format(r, 0, line.row as f64, &body).map_err(w)?;
            ws.write_string_with_format(r, 1, &line.column, &body).map_err(w)?;
            ws.write_string_with_format(r, 2, &line.kind, &body).map_err(w)?;
            ws.write_string_with_format(r, 3, &line.unit, &body).map_err(w)?;
            ws.write_string_with_format(r, 4, &line.message, &message).map_err(w)?;
            for (c, cell) in line.raw.iter().enumerate() {
                // Written as text: codes like 91510802… must not become numbers.
                ws.write_string_with_format(r, (fixed.len() + c) as u16, cell, &body).map_err(w)?;
            }
        }
    }
    wb.save_to_buffer().map_err(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::Xlsx;

    fn filled(bytes: &[u8]) -> Vec<(String, String, String)> {
        read_filled(bytes).unwrap_or_else(|e| panic!("{e}")).into_iter().map(|v| (v.key, v.text, v.cell)).collect()
    }

    #[test]
    fn xls_and_ods_workbooks_are_read_like_xlsx() {
        // Written by xlwt (Excel 97–2003, what WPS still saves by default in many offices)
        // and odfpy (LibreOffice's format): tests/fixtures/make.py.
        let expected = [
            ("s7.cases_received".to_owned(), "812".to_owned(), "C3".to_owned()),
            ("s7.npl_ratio".to_owned(), "1.8%".to_owned(), "C4".to_owned()),
            ("s7.major_risk".to_owned(), "否".to_owned(), "C5".to_owned()),
        ];
        assert_eq!(filled(include_bytes!("../tests/fixtures/filled.xls")), expected);
        assert_eq!(filled(include_bytes!("../tests/fixtures/filled.ods")), expected);
    }

    #[test]
    fn a_file_that_is_not_a_workbook_is_named_for_what_it_is() {
        let cases: [(&[u8], &str); 5] = [
            (b"%PDF-1.4 ...", "PDF 文件"),
            ("键,填报值\ns7.cases_received,812\n".as_bytes(), "文本文件(如 CSV)"),
            (b"", "空文件"),
            (&[0x89, b'P', b'N', b'G', 0, 0], "图片"),
            (b"PK\x03\x04\x14\0\0\0word/document.xml", "Word 文档(.docx)"),
        ];
        for (bytes, what) in cases {
            match read_filled(bytes) {
                Err(ExcelError::NotAWorkbook(w)) => assert_eq!(w, what),
                other => panic!("{what}: {other:?}"),
            }
        }
        // A damaged .xls names its format.
        let mut xls = include_bytes!("../tests/fixtures/filled.xls").to_vec();
        xls.truncate(600);
        match read_filled(&xls) {
            Err(e @ ExcelError::Read { format: ".xls", .. }) => assert!(e.to_string().contains(".xls"), "{e}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cells_are_named_as_excel_names_them() {
        assert_eq!(cell_name(0, 0), "A1");
        assert_eq!(cell_name(6, 6), "G7");
        assert_eq!(cell_name(0, 26), "AA1");
    }

    #[test]
    fn the_score_sheet_has_sections_rules_gates_and_totals() {
        let rule = ScoreRow { section: "7".into(), id: "7.2a".into(), title: "金融案件执结率".into(), max: 1.0, score: 0.875, status: "已计分".into(), ..ScoreRow::default() };
        let sheet = ScoreSheet {
            title: "青川市 评分表".into(),
            sections: vec![("七、金融生态环境建设".into(), 0.875, 10.0, vec![rule])],
            gates: vec![("G1".into(), "存量代码".into(), "通过".into(), "100%".into())],
            total: 0.875,
            bonus: 0.0,
            veto: false,
        };
        let bytes = write_scores(&sheet).unwrap_or_default();
        let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap_or_else(|e: calamine::XlsxError| panic!("{e}"));
        let range = wb.worksheet_range("评分表").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(range.get_value((0, 0)), Some(&Data::String("青川市 评分表".into())));
        assert_eq!(range.get_value((2, 0)), Some(&Data::String("七、金融生态环境建设".into())));
        assert_eq!(range.get_value((3, 1)), Some(&Data::String("7.2a".into())));
        assert_eq!(range.get_value((3, 4)), Some(&Data::Float(0.875)));
        let gates = wb.worksheet_range("硬指标").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(gates.get_value((1, 0)), Some(&Data::String("G1".into())));
    }

    #[test]
    fn merged_cells_and_empty_trailing_rows_are_read_as_people_mean_them() {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name(INPUT_SHEET).unwrap_or_else(|e| panic!("{e}"));
        // A merged title over the header, the header on the third row.
        ws.merge_range(0, 0, 1, 3, "人行青川市中心支行 填报表", &Format::new()).unwrap_or_else(|e| panic!("{e}"));
        ws.write_string(2, 0, VALUE_HEADER).unwrap_or_else(|e| panic!("{e}"));
        ws.write_string(2, 2, KEY_HEADER).unwrap_or_else(|e| panic!("{e}"));
        ws.write_number(3, 0, 812.0).unwrap_or_else(|e| panic!("{e}"));
        ws.write_string(3, 2, "s7.cases_received").unwrap_or_else(|e| panic!("{e}"));
        // A value merged over two rows counts once, for the key of its first row.
        ws.merge_range(4, 0, 5, 0, "0.1", &Format::new()).unwrap_or_else(|e| panic!("{e}"));
        ws.write_string(4, 2, "s7.npl_ratio").unwrap_or_else(|e| panic!("{e}"));
        ws.write_string(5, 2, "s7.major_risk").unwrap_or_else(|e| panic!("{e}"));
        // Empty trailing rows with stray formatting.
        for r in 6..40 {
            ws.write_blank(r, 0, &Format::new().set_bold()).unwrap_or_else(|e| panic!("{e}"));
        }
        let read = read_filled(&wb.save_to_buffer().unwrap_or_default()).unwrap_or_else(|e| panic!("{e}"));
        let got: Vec<(&str, &str, &str)> = read.iter().map(|v| (v.key.as_str(), v.text.as_str(), v.cell.as_str())).collect();
        assert_eq!(got, [("s7.cases_received", "812", "A4"), ("s7.npl_ratio", "0.1", "A5")]);
    }

    #[test]
    fn a_hostile_file_is_an_error_not_a_panic() {
        assert!(read_filled(b"not a workbook").is_err());
        assert!(read_filled(&[0x50, 0x4b, 0x03, 0x04, 0, 0, 0]).is_err());
        assert!(read_filled(&[]).is_err());
    }
}

/// One rule's line of the score sheet.
#[derive(Debug, Clone, Default)]
pub struct ScoreRow {
    pub section: String,
    pub id: String,
    pub title: String,
    pub max: f64,
    pub score: f64,
    pub status: String,
    pub explanation: String,
    pub target: String,
    pub missing: String,
    pub evidence: String,
    pub units: String,
}

/// The score sheet: rules grouped by section with subtotals, the gates and the totals.
#[derive(Debug, Clone, Default)]
pub struct ScoreSheet {
    pub title: String,
    /// (section heading, subtotal, max, rules)
    pub sections: Vec<(String, f64, f64, Vec<ScoreRow>)>,
    /// (id, title, status, explanation)
    pub gates: Vec<(String, String, String, String)>,
    pub total: f64,
    pub bonus: f64,
    pub veto: bool,
}

/// Writes the score sheet as .xlsx bytes, laid out for printing on A4 landscape.
pub fn write_scores(sheet: &ScoreSheet) -> Result<Vec<u8>, ExcelError> {
    let w = |e: rust_xlsxwriter::XlsxError| ExcelError::Write(e.to_string());
    let font = "Noto Sans CJK SC";
    let mut wb = Workbook::new();
    let title = Format::new().set_bold().set_font_size(14).set_font_name(font);
    let header = Format::new().set_bold().set_background_color(0x00EE_F2F6).set_font_name(font).set_border(rust_xlsxwriter::FormatBorder::Thin);
    let body = Format::new().set_font_name(font).set_text_wrap().set_align(rust_xlsxwriter::FormatAlign::Top).set_border(rust_xlsxwriter::FormatBorder::Thin);
    let num = body.clone().set_num_format("0.00");
    let section = Format::new().set_bold().set_font_name(font).set_background_color(0x00FB_E9E7).set_border(rust_xlsxwriter::FormatBorder::Thin);
    let section_num = section.clone().set_num_format("0.00");
    let ws = wb.add_worksheet();
    ws.set_name("评分表").map_err(w)?;
    ws.set_landscape();
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(1, 1).map_err(w)?;
    ws.write_string_with_format(0, 0, &sheet.title, &title).map_err(w)?;
    let headers = ["部分", "编号", "指标", "满分", "得分", "状态", "得分说明", "满分需要", "缺少输入", "佐证材料", "责任单位"];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(1, c as u16, *h, &header).map_err(w)?;
    }
    for (c, width) in [10.0, 7.0, 24.0, 7.0, 7.0, 8.0, 50.0, 30.0, 20.0, 10.0, 26.0].iter().enumerate() {
        ws.set_column_width(c as u16, *width).map_err(w)?;
    }
    ws.set_freeze_panes(2, 3).map_err(w)?;
    let mut row = 2u32;
    for (heading, subtotal, max, rules) in &sheet.sections {
        ws.merge_range(row, 0, row, 2, heading, &section).map_err(w)?;
        ws.write_number_with_format(row, 3, *max, &section_num).map_err(w)?;
        ws.write_number_with_format(row, 4, *subtotal, &section_num).map_err(w)?;
        for c in 5..headers.len() {
            ws.write_blank(row, c as u16, &section).map_err(w)?;
        }
        row += 1;
        for r in rules {
            ws.write_string_with_format(row, 0, &r.section, &body).map_err(w)?;
            ws.write_string_with_format(row, 1, &r.id, &body).map_err(w)?;
            ws.write_string_with_format(row, 2, &r.title, &body).map_err(w)?;
            ws.write_number_with_format(row, 3, r.max, &num).map_err(w)?;
            ws.write_number_with_format(row, 4, r.score, &num).map_err(w)?;
            for (c, v) in [&r.status, &r.explanation, &r.target, &r.missing, &r.evidence, &r.units].iter().enumerate() {
                ws.write_string_with_format(row, (c + 5) as u16, v.as_str(), &body).map_err(w)?;
            }
            row += 1;
        }
    }
    row += 1;
    ws.write_string_with_format(row, 2, "总分(满分 100)", &section).map_err(w)?;
    ws.write_number_with_format(row, 4, sheet.total, &section_num).map_err(w)?;
    ws.write_string_with_format(row + 1, 2, "附加项(满分 10)", &section).map_err(w)?;
    ws.write_number_with_format(row + 1, 4, sheet.bonus, &section_num).map_err(w)?;
    ws.write_string_with_format(row + 2, 2, "合计", &section).map_err(w)?;
    ws.write_number_with_format(row + 2, 4, sheet.total + sheet.bonus, &section_num).map_err(w)?;
    ws.write_string_with_format(row + 3, 2, "一票否决", &section).map_err(w)?;
    ws.write_string_with_format(row + 3, 4, if sheet.veto { "是" } else { "否" }, &section).map_err(w)?;

    let ws = wb.add_worksheet();
    ws.set_name("硬指标").map_err(w)?;
    ws.set_landscape();
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 0);
    for (c, h) in ["编号", "基础性硬指标", "状态", "说明"].iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &header).map_err(w)?;
    }
    for (c, width) in [6.0, 40.0, 10.0, 80.0].iter().enumerate() {
        ws.set_column_width(c as u16, *width).map_err(w)?;
    }
    ws.set_freeze_panes(1, 0).map_err(w)?;
    for (i, (id, t, status, explanation)) in sheet.gates.iter().enumerate() {
        let r = u32::try_from(i + 1).unwrap_or(u32::MAX);
        for (c, v) in [id, t, status, explanation].iter().enumerate() {
            ws.write_string_with_format(r, c as u16, v.as_str(), &body).map_err(w)?;
        }
    }
    wb.save_to_buffer().map_err(w)
}

/// One city's line of the comparison sheet.
#[derive(Debug, Clone, Default)]
pub struct CompareRow {
    pub city: String,
    pub rank: u32,
    pub total: f64,
    pub bonus: f64,
    pub confirmed_total: f64,
    pub confirmed_bonus: f64,
    pub veto: bool,
    /// "通过 10 · 未通过 1 · 待填报 2"
    pub gates_summary: String,
    /// Each gate's label (通过 / 未通过 / 待填报), in the order of [`CompareSheet::gates`].
    pub gates: Vec<String>,
    /// Each section's points, in the order of [`CompareSheet::sections`].
    pub sections: Vec<f64>,
    pub tasks_accepted: usize,
    pub tasks_total: usize,
    pub tasks_overdue: usize,
}

/// The cities of one rubric edition and period, ranked together.
#[derive(Debug, Clone, Default)]
pub struct CompareSheet {
    /// The sheet's name (cut to Excel's 31 characters, made unique).
    pub name: String,
    pub title: String,
    pub total_max: f64,
    pub bonus_max: f64,
    /// (heading, max) of each section.
    pub sections: Vec<(String, f64)>,
    /// Gate ids (G1…).
    pub gates: Vec<String>,
    pub rows: Vec<CompareRow>,
}

/// Writes the comparison of cities as .xlsx bytes: a sheet per group, cities ×
/// (rank, totals, gates, sections, progress), each section's column colour-scaled from
/// 0 (white) to its maximum (green); then a sheet of notes.
pub fn write_comparison(sheets: &[CompareSheet], notes: &[String]) -> Result<Vec<u8>, ExcelError> {
    use rust_xlsxwriter::{ConditionalFormat2ColorScale, ConditionalFormatType, FormatAlign, FormatBorder};
    let w = |e: rust_xlsxwriter::XlsxError| ExcelError::Write(e.to_string());
    let font = "Noto Sans CJK SC";
    let mut wb = Workbook::new();
    let title = Format::new().set_bold().set_font_size(14).set_font_name(font);
    let header = Format::new().set_bold().set_background_color(0x00EE_F2F6).set_font_name(font).set_border(FormatBorder::Thin).set_text_wrap().set_align(FormatAlign::Center);
    let body = Format::new().set_font_name(font).set_border(FormatBorder::Thin);
    let num = body.clone().set_num_format("0.00");
    let failed = body.clone().set_font_color(0x00B7_1C1C).set_bold();
    let mut used: Vec<String> = Vec::new();
    for (i, sheet) in sheets.iter().enumerate() {
        let mut name = sheet_name(&sheet.name);
        if used.contains(&name) {
            name = sheet_name(&format!("{} {}", i + 1, sheet.name));
        }
        used.push(name.clone());
        let ws = wb.add_worksheet();
        ws.set_name(&name).map_err(w)?;
        ws.set_landscape();
        ws.set_paper_size(9);
        ws.set_print_fit_to_pages(1, 0);
        ws.write_string_with_format(0, 0, &sheet.title, &title).map_err(w)?;
        let mut headers: Vec<String> = vec![
            "排名".into(),
            "城市".into(),
            format!("工作得分(满分 {})", sheet.total_max),
            format!("附加项(满分 {})", sheet.bonus_max),
            "确认得分".into(),
            "确认附加项".into(),
            "一票否决".into(),
            "硬指标".into(),
        ];
        let gates_at = headers.len();
        headers.extend(sheet.gates.iter().cloned());
        let sections_at = headers.len();
        headers.extend(sheet.sections.iter().map(|(h, max)| format!("{h}(满分 {max})")));
        let progress_at = headers.len();
        headers.extend(["任务已通过".to_owned(), "任务总数".to_owned(), "逾期任务".to_owned()]);
        ws.set_row_height(1, 60).map_err(w)?;
        for (c, h) in headers.iter().enumerate() {
            let col = u16::try_from(c).unwrap_or(u16::MAX);
            ws.write_string_with_format(1, col, h, &header).map_err(w)?;
            let width = if c == 1 { 14.0 } else if c == 7 { 26.0 } else if (gates_at..sections_at).contains(&c) { 7.0 } else { 10.0 };
            ws.set_column_width(col, width).map_err(w)?;
        }
        ws.set_freeze_panes(2, 2).map_err(w)?;
        let col = |c: usize| u16::try_from(c).unwrap_or(u16::MAX);
        for (r, city) in sheet.rows.iter().enumerate() {
            let row = u32::try_from(r + 2).unwrap_or(u32::MAX);
            ws.write_number_with_format(row, 0, f64::from(city.rank), &body).map_err(w)?;
            ws.write_string_with_format(row, 1, &city.city, &body).map_err(w)?;
            for (c, v) in [city.total, city.bonus, city.confirmed_total, city.confirmed_bonus].iter().enumerate() {
                ws.write_number_with_format(row, col(2 + c), *v, &num).map_err(w)?;
            }
            ws.write_string_with_format(row, 6, if city.veto { "是" } else { "否" }, if city.veto { &failed } else { &body }).map_err(w)?;
            ws.write_string_with_format(row, 7, &city.gates_summary, &body).map_err(w)?;
            for (g, label) in city.gates.iter().enumerate() {
                ws.write_string_with_format(row, col(gates_at + g), label, if label == "未通过" { &failed } else { &body }).map_err(w)?;
            }
            for (s, v) in city.sections.iter().enumerate() {
                ws.write_number_with_format(row, col(sections_at + s), *v, &num).map_err(w)?;
            }
            for (c, v) in [city.tasks_accepted, city.tasks_total, city.tasks_overdue].iter().enumerate() {
                ws.write_number_with_format(row, col(progress_at + c), *v as f64, &body).map_err(w)?;
            }
        }
        if !sheet.rows.is_empty() {
            let last = u32::try_from(sheet.rows.len() + 1).unwrap_or(u32::MAX);
            for (s, (_, max)) in sheet.sections.iter().enumerate() {
                let scale = ConditionalFormat2ColorScale::new()
                    .set_minimum(ConditionalFormatType::Number, 0)
                    .set_maximum(ConditionalFormatType::Number, *max)
                    .set_minimum_color(0x00FF_FFFF)
                    .set_maximum_color(0x0063_BE7B);
                ws.add_conditional_format(2, col(sections_at + s), last, col(sections_at + s), &scale).map_err(w)?;
            }
        }
    }
    let ws = wb.add_worksheet();
    ws.set_name("说明").map_err(w)?;
    ws.set_column_width(0, 100).map_err(w)?;
    let wrap = Format::new().set_font_name(font).set_text_wrap();
    for (i, note) in notes.iter().enumerate() {
        ws.write_string_with_format(u32::try_from(i).unwrap_or(u32::MAX), 0, note, &wrap).map_err(w)?;
    }
    wb.save_to_buffer().map_err(w)
}
