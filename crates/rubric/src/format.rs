//! How numbers are shown: the one place that rounds and writes units.
//!
//! One rule everywhere: 四舍五入 (round half up, away from zero), blind to float
//! noise (0.7 ÷ 0.8 is 0.87499… in binary and is shown 0.88). Negative numbers take
//! the minus sign `−` (U+2212), large numbers take thousands separators, money reads
//! in 元, 万元 or 亿元 as a person would write it. Amounts a target asks for are the
//! one exception to half up: they round up ([`money_at_least`]), so that meeting the
//! shown amount is always enough.

use crate::assessment::Value;
use crate::model::{Input, InputKind};

/// `x` rounded half up (away from zero) to `decimals` places. Ties that float
/// arithmetic put a hair below .5 (87.49999999999999) still round up.
pub fn round_half_up(x: f64, decimals: u32) -> f64 {
    if !x.is_finite() {
        return x;
    }
    let p = 10f64.powi(decimals.min(15) as i32);
    let y = x.abs() * p;
    // A few units in the last place: enough for float noise, too little to matter.
    let r = (y + y * 2e-15 + 0.5).floor();
    let out = r / p;
    if x < 0.0 { -out } else { out }
}

/// `x` rounded half up to `decimals` places, written with exactly that many
/// decimals and the minus sign `−`. No separators.
pub fn fixed(x: f64, decimals: u32) -> String {
    if !x.is_finite() {
        return infinite(x);
    }
    let r = round_half_up(x, decimals);
    let body = match units_of(r.abs(), decimals) {
        // The digits of a whole number of units, the point put in: what `{:.N}` writes,
        // without its slow path for decimals that have no short binary form.
        Some(units) => {
            let digits = format!("{units:0>width$}", width = decimals as usize + 1);
            let (int, frac) = digits.split_at(digits.len() - decimals as usize);
            if frac.is_empty() { int.to_owned() } else { format!("{int}.{frac}") }
        }
        None => format!("{:.prec$}", r.abs(), prec = decimals as usize),
    };
    if r < 0.0 && body.chars().any(|c| c.is_ascii_digit() && c != '0') { format!("−{body}") } else { body }
}

/// `r` (already rounded to `decimals` places, not negative) as a whole number of
/// 10^−decimals, when that number is below 2^51: there `r × 10^decimals` lands within
/// a quarter of a unit of it, so rounding finds the digits `{:.N}` writes.
fn units_of(r: f64, decimals: u32) -> Option<u64> {
    if decimals > 9 {
        return None;
    }
    let units = (r * 10f64.powi(decimals as i32)).round();
    (units < 2f64.powi(51)).then_some(units as u64)
}

/// [`fixed`] with thousands separators, as scores and results are shown.
pub fn fixed_grouped(x: f64, decimals: u32) -> String {
    group(&fixed(x, decimals))
}

fn infinite(x: f64) -> String {
    if x > 0.0 { "∞".to_owned() } else if x < 0.0 { "−∞".to_owned() } else { "—".to_owned() }
}

/// Trailing zeros (and a trailing point) removed: `2.50` → `2.5`, `3.00` → `3`.
fn trim(s: &str) -> String {
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_owned() } else { s.to_owned() }
}

/// Thousands separators in the integer part of a plain decimal string.
fn group(s: &str) -> String {
    let (sign, rest) = s.strip_prefix('−').map_or(("", s), |r| ("−", r));
    let (int, frac) = rest.split_once('.').map_or((rest, None), |(i, f)| (i, Some(f)));
    let mut out = String::with_capacity(int.len() + int.len() / 3 + 8);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

/// Points with two decimals, as the rubric's scores are shown: `0.88`, `2.00`.
pub fn points(x: f64) -> String {
    group(&fixed(x, 2))
}

/// Points with two decimals, or more when two decimals would show the maximum for a
/// score below it (`1.9999999998` of 2 is not `2.00`).
pub fn points_below(x: f64, max: f64) -> String {
    let mut d = 2;
    while d < 12 && x < max && round_half_up(x, d) >= max {
        d += 1;
    }
    group(&fixed(x, d))
}

/// How many decimals [`plain`] shows for `x`: two from 10 up, four below, and four
/// significant digits for tiny numbers (`0.0004904`).
pub fn plain_decimals(x: f64) -> u32 {
    let a = x.abs();
    if a >= 10.0 || a == 0.0 || !a.is_finite() {
        2
    } else if a >= 0.001 {
        4
    } else {
        ((-a.log10()).floor() as i32 + 4).clamp(4, 12) as u32
    }
}

/// A number as people read it: no trailing zeros, separators from 1,000 up.
pub fn plain(x: f64) -> String {
    plain_at(x, plain_decimals(x))
}

/// A number exactly as entered (the shortest decimal that reads back the same), with
/// separators and the minus sign `−`: for inputs shown inside a formula.
pub fn exact(x: f64) -> String {
    if !x.is_finite() {
        return infinite(x);
    }
    let s = format!("{}", x.abs());
    let s = group(&s);
    if x < 0.0 { format!("−{s}") } else { s }
}

/// [`plain`] with a given number of decimals (trailing zeros still removed).
pub fn plain_at(x: f64, decimals: u32) -> String {
    if !x.is_finite() {
        return infinite(x);
    }
    group(&trim(&fixed(x, decimals)))
}

/// How many decimals of a percentage [`percent`] shows: none for whole percentages,
/// up to two otherwise, two significant digits below 0.1%.
pub fn percent_decimals(x: f64) -> u32 {
    let p = (x * 100.0).abs();
    if !p.is_finite() || (p - p.round()).abs() < 1e-9 {
        0
    } else if p >= 0.1 {
        2
    } else {
        // Two significant digits below 0.1%: 0.012%, not 0.01%.
        ((-p.log10()).floor() as i32 + 2).clamp(2, 10) as u32
    }
}

/// A fraction as a percentage: `80%`, `70.5%`, `2.36%`, `0.005%`.
pub fn percent(x: f64) -> String {
    percent_at(x, percent_decimals(x))
}

/// A fraction as a percentage with at most `decimals` decimals of the percentage.
pub fn percent_at(x: f64, decimals: u32) -> String {
    if !x.is_finite() {
        return infinite(x);
    }
    format!("{}%", group(&trim(&fixed(x * 100.0, decimals))))
}

/// A whole number with thousands separators (`12,345`, `−3`).
pub fn count(x: f64) -> String {
    if !x.is_finite() {
        return infinite(x);
    }
    group(&fixed(x, 0))
}

/// Money in yuan: separators, and cents only when there are any.
pub fn money(x: f64) -> String {
    if !x.is_finite() {
        return infinite(x);
    }
    let cents = round_half_up(x, 2);
    if (cents - cents.round()).abs() < 1e-9 { count(cents) } else { group(&fixed(cents, 2)) }
}

/// Money as a person writes it, with its unit: `8,600 元`, `86.5 万元`, `57.8 亿元`.
/// From 10,000 yuan on in 万元, from 100,000,000 on in 亿元, with at most two decimals.
pub fn money_natural(yuan: f64) -> String {
    let (scale, unit) = money_scale(yuan);
    if unit == "元" { format!("{} 元", money(yuan)) } else { format!("{} {unit}", plain_at(yuan / scale, 2)) }
}

/// An amount a target asks for, rounded up in the unit it is shown in so that
/// meeting it is enough: 5,780,000,001 元 → `57.81 亿元`.
pub fn money_at_least(yuan: f64) -> String {
    let (scale, unit) = money_scale(yuan);
    let cents = 100.0;
    let v = ((yuan / scale) * cents - 1e-9).ceil() / cents;
    if unit == "元" { format!("{} 元", money(v)) } else { format!("{} {unit}", plain_at(v, 2)) }
}

fn money_scale(yuan: f64) -> (f64, &'static str) {
    let a = yuan.abs();
    if a >= 1e8 {
        (1e8, "亿元")
    } else if a >= 1e4 {
        (1e4, "万元")
    } else {
        (1.0, "元")
    }
}

/// A value with its unit, as the rubric's unit says: counts with separators
/// (`1,208 户`), money in yuan (`86,000,000 元`) or in 万元 when the unit is 万元
/// (`8,600 万元`), ratios as percentages (`85.5%`), booleans 是/否.
pub fn input_value(input: &Input, value: &Value) -> String {
    let unit = input.unit.as_deref().filter(|u| !u.is_empty());
    let with = |s: String| match unit {
        Some(u) if u != "分" || matches!(input.kind, InputKind::Judged { .. }) => format!("{s} {u}"),
        _ => s,
    };
    match value {
        Value::Bool(b) => (if *b { "是" } else { "否" }).to_owned(),
        Value::Number(x) => match input.kind {
            InputKind::Ratio => percent(*x),
            InputKind::Count => with(count(*x)),
            InputKind::Amount => match unit {
                Some("万元") => format!("{} 万元", plain_at(*x, 2)),
                Some(u) => format!("{} {u}", money(*x)),
                None => format!("{} 元", money(*x)),
            },
            _ if (x - x.round()).abs() < 1e-9 => with(count(*x)),
            _ => with(plain(*x)),
        },
        Value::List(items) => {
            let parts: Vec<String> = items.iter().map(|x| plain(*x)).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Table(entries) => {
            let parts: Vec<String> = entries.iter().map(|(k, v)| format!("{k}: {}", plain(*v))).collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

/// 1 → 一, 11 → 十一, as the rubric numbers its sections.
pub fn chinese_numeral(n: u32) -> String {
    const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        0..=9 => DIGITS[n as usize].to_owned(),
        10 => "十".to_owned(),
        11..=19 => format!("十{}", DIGITS[(n % 10) as usize]),
        20..=99 => {
            let ones = if n % 10 == 0 { String::new() } else { DIGITS[(n % 10) as usize].to_owned() };
            format!("{}十{ones}", DIGITS[(n / 10) as usize])
        }
        _ => n.to_string(),
    }
}

/// A section's heading as the rubric prints it: `三、政务诚信建设`; the bonus as is.
pub fn section_heading(id: &str, title: &str) -> String {
    match id.parse::<u32>() {
        Ok(n) => format!("{}、{title}", chinese_numeral(n)),
        Err(_) => title.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The whole-number path writes what `{:.N}` writes of the rounded value.
        #[test]
        fn fixed_writes_what_the_formatter_writes(x in -1.0e9_f64..1.0e9, decimals in 0_u32..6) {
            let r = round_half_up(x, decimals);
            let expected = format!("{:.prec$}", r.abs(), prec = decimals as usize);
            let written = fixed(x, decimals);
            proptest::prop_assert_eq!(written.trim_start_matches('−'), expected.as_str());
            proptest::prop_assert_eq!(written.starts_with('−'), r < 0.0 && expected.chars().any(|c| c.is_ascii_digit() && c != '0'));
        }
    }

    #[test]
    fn fixed_rounds_half_up_and_pads() {
        assert_eq!(fixed(2.675, 2), "2.68");
        assert_eq!(fixed(0.05, 1), "0.1");
        assert_eq!(fixed(-0.004, 2), "0.00");
        assert_eq!(fixed(-1.5, 0), "−2");
        assert_eq!(fixed(7.0, 3), "7.000");
        assert_eq!(fixed(0.001, 3), "0.001");
        // Beyond 2^51 units the formatter writes them (its own rounding of the exact value).
        let big = 36_000_000_000_000.016_f64;
        assert_eq!(fixed(big, 2), format!("{:.2}", round_half_up(big, 2)));
    }

    #[test]
    fn percent_shows_enough_decimals() {
        assert_eq!(percent(0.7), "70%");
        assert_eq!(percent(0.985), "98.5%");
        assert_eq!(percent(0.970_552), "97.06%");
        assert_eq!(percent(0.0236), "2.36%");
        assert_eq!(percent(0.00005), "0.005%");
        assert_eq!(percent(0.000_12), "0.012%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(-0.222), "−22.2%");
    }

    #[test]
    fn counts_and_money_have_separators() {
        assert_eq!(count(1_234_567.0), "1,234,567");
        assert_eq!(count(999.0), "999");
        assert_eq!(money(1_500_000.5), "1,500,000.50");
        assert_eq!(money(20.0), "20");
        assert_eq!(plain(100_000.0), "100,000");
        assert_eq!(money_natural(5_780_000_000.0), "57.8 亿元");
        assert_eq!(money_natural(865_000.0), "86.5 万元");
        assert_eq!(money_natural(8_600.0), "8,600 元");
        assert_eq!(money_at_least(5_780_000_001.0), "57.81 亿元");
    }

    #[test]
    fn numerals_follow_the_rubric() {
        assert_eq!(chinese_numeral(1), "一");
        assert_eq!(chinese_numeral(10), "十");
        assert_eq!(chinese_numeral(11), "十一");
        assert_eq!(chinese_numeral(20), "二十");
        assert_eq!(section_heading("3", "政务诚信建设"), "三、政务诚信建设");
        assert_eq!(section_heading("B", "附加项"), "附加项");
    }

    #[test]
    fn one_rounding_rule_half_up() {
        assert_eq!(points(0.875), "0.88");
        assert_eq!(points(0.7 / 0.8), "0.88");
        assert_eq!(points(2.0), "2.00");
        assert_eq!(points(0.0), "0.00");
        assert_eq!(plain(85.125), "85.13");
        assert_eq!(plain(0.625), "0.625");
        assert_eq!(plain_at(0.625, 2), "0.63");
        assert_eq!(percent(0.3125), "31.25%");
        assert_eq!(percent_at(0.3125, 1), "31.3%");
        assert_eq!(points(-0.5), "−0.50");
    }

    fn input(kind: InputKind, unit: Option<&str>) -> Input {
        Input {
            key: "k".to_owned(),
            label: "l".to_owned(),
            unit: unit.map(str::to_owned),
            kind,
            positive: false,
            at_most: Vec::new(),
            min: None,
            max: None,
            fixed: false,
            supplier: None,
        }
    }

    #[test]
    fn stored_values_read_as_their_unit_says() {
        let n = |x: f64| Value::Number(x);
        assert_eq!(input_value(&input(InputKind::Amount, Some("元")), &n(86_000_000.0)), "86,000,000 元");
        assert_eq!(input_value(&input(InputKind::Amount, Some("万元")), &n(8_600.0)), "8,600 万元");
        assert_eq!(input_value(&input(InputKind::Count, Some("户")), &n(1_208.0)), "1,208 户");
        assert_eq!(input_value(&input(InputKind::Ratio, None), &n(0.855)), "85.5%");
        assert_eq!(input_value(&input(InputKind::Bool, None), &Value::Bool(true)), "是");
        assert_eq!(input_value(&input(InputKind::Bool, None), &Value::Bool(false)), "否");
        assert_eq!(input_value(&input(InputKind::Number, Some("次")), &n(38_400.5)), "38,400.5 次");
        assert_eq!(input_value(&input(InputKind::Judged { max: 4.0 }, Some("分")), &n(3.5)), "3.5 分");
    }

    #[test]
    fn a_score_below_max_never_shows_as_max() {
        assert_eq!(points_below(1.999_999_999_8, 2.0), "1.9999999998");
        assert_eq!(points_below(1.5, 2.0), "1.50");
        assert_eq!(points_below(2.0, 2.0), "2.00");
    }

    #[test]
    fn plain_trims_zeros_and_never_leaks_raw_floats() {
        assert_eq!(plain(0.1), "0.1");
        assert_eq!(plain(19.0), "19");
        assert_eq!(plain(2.0 / 3.0), "0.6667");
        assert_eq!(plain(83.833_33), "83.83");
        assert_eq!(plain(0.000_02), "0.00002");
        assert_eq!(plain(0.000_490_412_436_859_877_2), "0.0004904");
        assert_eq!(plain(-3.0), "−3");
        assert_eq!(exact(85.125), "85.125");
        assert_eq!(exact(38_400.0), "38,400");
        assert_eq!(plain_at(2.0, 12), "2");
    }
}
