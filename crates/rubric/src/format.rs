//! Number formatting for explanations: points, percentages, counts and money.

/// Points with two decimals, as the rubric's scores are shown.
pub fn points(x: f64) -> String {
    // Half up, as people round, and blind to float noise: 0.7 ÷ 0.8 is 0.87499…, shown 0.88.
    format!("{:.2}", ((x * 100.0) + 1e-7).round() / 100.0)
}

/// A number as people read it: no trailing zeros, four decimals below 10, two
/// above, and the shortest exact form for tiny factors (`0.1`, `19`, `83.83`, `0.00002`).
pub fn plain(x: f64) -> String {
    if !x.is_finite() {
        return if x > 0.0 { "∞".to_owned() } else { x.to_string() };
    }
    if x != 0.0 && x.abs() < 0.001 {
        return format!("{x}");
    }
    let decimals = if x.abs() >= 10.0 { 2 } else { 4 };
    let s = format!("{x:.decimals$}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".to_owned() } else { s.to_owned() }
}

/// A fraction as a percentage: whole percentages bare (`80%`), others with one
/// decimal (`70.5%`), tiny ones with what it takes to show them (`0.004%`).
pub fn percent(x: f64) -> String {
    if !x.is_finite() {
        return plain(x);
    }
    let p = x * 100.0;
    if (p - p.round()).abs() < 1e-9 {
        return format!("{:.0}%", p.round());
    }
    if p.abs() >= 0.1 {
        return format!("{p:.1}%");
    }
    for decimals in 2..=6 {
        let scale = 10f64.powi(decimals);
        if ((p * scale).round() / scale - p).abs() < 1e-9 {
            return format!("{p:.prec$}%", prec = decimals as usize);
        }
    }
    format!("{p:.6}%")
}

/// A whole number with thousands separators (`12,345`).
pub fn count(x: f64) -> String {
    let n = x.round();
    let digits = format!("{:.0}", n.abs());
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0.0 { format!("-{out}") } else { out }
}

/// Money in yuan: separators, and cents only when there are any.
pub fn money(x: f64) -> String {
    let whole = x.trunc();
    let cents = ((x - whole) * 100.0).round();
    if cents.abs() < 0.5 {
        count(whole)
    } else {
        format!("{}.{:02.0}", count(whole), cents.abs())
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

    #[test]
    fn percent_shows_enough_decimals() {
        assert_eq!(percent(0.7), "70%");
        assert_eq!(percent(0.985), "98.5%");
        assert_eq!(percent(0.970_552), "97.1%");
        assert_eq!(percent(0.00005), "0.005%");
        assert_eq!(percent(1.0), "100%");
    }

    #[test]
    fn counts_and_money_have_separators() {
        assert_eq!(count(1_234_567.0), "1,234,567");
        assert_eq!(count(999.0), "999");
        assert_eq!(money(1_500_000.5), "1,500,000.50");
        assert_eq!(money(20.0), "20");
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
    fn points_round_half_up() {
        assert_eq!(points(0.875), "0.88");
        assert_eq!(points(0.7 / 0.8), "0.88");
        assert_eq!(points(2.0), "2.00");
    }

    #[test]
    fn plain_trims_zeros() {
        assert_eq!(plain(0.1), "0.1");
        assert_eq!(plain(19.0), "19");
        assert_eq!(plain(2.0 / 3.0), "0.6667");
        assert_eq!(plain(83.833_33), "83.83");
        assert_eq!(plain(0.000_02), "0.00002");
    }
}
