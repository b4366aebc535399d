//! Helpers shared by the test modules.

use creditcity_data::date::Date;
use creditcity_data::generate::make_uscc;
use creditcity_data::{
    Checked, DatasetKind, FileError, Input, Problem, ProblemKind, Settings, Unit, Units, Window,
    check,
};

pub fn day(s: &str) -> Date {
    Date::parse_iso(s).unwrap_or_else(|| panic!("bad test date {s}"))
}

/// The 2019 window, today = 2019-03-20, 青川市 (5108), with two units.
pub fn settings() -> Settings {
    let mut s = Settings::new(Window::edition_2019(), day("2019-03-20"), "5108");
    s.units = Units::new(vec![
        Unit {
            name: "市市场监管局".into(),
            aliases: vec!["青川市市场监督管理局".into()],
        },
        Unit {
            name: "市税务局".into(),
            aliases: vec![],
        },
    ]);
    s
}

/// A valid code of 青川区 numbered `n`.
pub fn code(n: u64) -> String {
    make_uscc("91", "510802", n)
}

/// A valid individual business code numbered `n`.
pub fn individual(n: u64) -> String {
    make_uscc("92", "510802", n)
}

pub fn run(kind: DatasetKind, csv: &str) -> Result<Checked, FileError> {
    check(kind, Input::bytes(csv.as_bytes()), &settings())
}

pub fn ok(kind: DatasetKind, csv: &str) -> Checked {
    run(kind, csv).unwrap_or_else(|e| panic!("{kind:?} refused: {e}"))
}

pub fn kinds(c: &Checked) -> Vec<(u64, ProblemKind)> {
    c.problems.iter().map(|p| (p.row, p.kind)).collect()
}

pub fn only(c: &Checked, kind: ProblemKind) -> Vec<&Problem> {
    c.problems.iter().filter(|p| p.kind == kind).collect()
}
