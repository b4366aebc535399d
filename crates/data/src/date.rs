//! Calendar dates as records write them: `YYYY/MM/DD`, `YYYY-MM-DD`, `YYYYMMDD`, with or
//! without a time, and `2099/12/31` (or 长期) for "no end".

use std::fmt;

/// A day of the proleptic Gregorian calendar, stored as days since 1970-01-01.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i32);

impl Date {
    /// The date of a year, month and day, if it exists.
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        if !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
            || !(1..=9999).contains(&year)
        {
            return None;
        }
        // Howard Hinnant's days_from_civil.
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = month as i32;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i32 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some(Date(era * 146_097 + doe - 719_468))
    }

    /// Year, month and day.
    pub fn ymd(self) -> (i32, u32, u32) {
        let z = self.0 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
        let y = yoe + era * 400;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        (if m <= 2 { y + 1 } else { y }, m, d)
    }

    pub fn year(self) -> i32 {
        self.ymd().0
    }

    /// Days since 1970-01-01.
    pub fn days(self) -> i32 {
        self.0
    }

    pub fn from_days(days: i32) -> Date {
        Date(days)
    }

    /// The next day.
    #[must_use]
    pub fn succ(self) -> Date {
        Date(self.0 + 1)
    }

    #[must_use]
    pub fn add_days(self, n: i32) -> Date {
        Date(self.0 + n)
    }

    /// Monday = 0 … Sunday = 6.
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday (3).
        (self.0 + 3).rem_euclid(7) as u32
    }

    pub fn is_weekend(self) -> bool {
        self.weekday() >= 5
    }

    /// Parse `YYYY-MM-DD` (the only form used in settings and tests).
    pub fn parse_iso(s: &str) -> Option<Date> {
        match parse_cell(s) {
            Ok(CellDate::Day(d)) => Some(d),
            _ => None,
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// What a date cell holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellDate {
    /// A day.
    Day(Date),
    /// `2099/12/31` or 长期: no end (for 有效期至).
    LongTerm,
}

impl CellDate {
    pub fn day(self) -> Option<Date> {
        match self {
            CellDate::Day(d) => Some(d),
            CellDate::LongTerm => None,
        }
    }
}

/// A cell that is not a date in any accepted form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadDate;

/// Parse a date cell (surrounding whitespace ignored; the cell must not be empty).
/// Accepts `YYYY/MM/DD`, `YYYY-MM-DD`, `YYYY.MM.DD` and `YYYY年MM月DD日` with one- or
/// two-digit month and day, and `YYYYMMDD`; each optionally followed by a time
/// (`HH:MM[:SS[.fff]]`, after a space or `T`).
pub fn parse_cell(cell: &str) -> Result<CellDate, BadDate> {
    // Fast path: exactly `YYYY-MM-DD` or `YYYY/MM/DD`, the usual export.
    if let &[y1, y2, y3, y4, s1, m1, m2, s2, d1, d2] = cell.as_bytes() {
        let digits = [y1, y2, y3, y4, m1, m2, d1, d2];
        if s1 == s2 && (s1 == b'-' || s1 == b'/') && digits.iter().all(u8::is_ascii_digit) {
            let n = |a: u8, b: u8| u32::from(a - b'0') * 10 + u32::from(b - b'0');
            let year = (n(y1, y2) * 100 + n(y3, y4)) as i32;
            let date = Date::new(year, n(m1, m2), n(d1, d2)).ok_or(BadDate)?;
            return Ok(if date == LONG_TERM_DAY {
                CellDate::LongTerm
            } else {
                CellDate::Day(date)
            });
        }
    }
    let s = cell.trim();
    if s == "长期" {
        return Ok(CellDate::LongTerm);
    }
    let b = s.as_bytes();
    let (date, rest) = if b.len() >= 8
        && b[..8].iter().all(u8::is_ascii_digit)
        && (b.len() == 8 || !b[8].is_ascii_digit())
    {
        let y = num(&b[0..4]);
        let m = num(&b[4..6]);
        let d = num(&b[6..8]);
        (Date::new(y as i32, m, d), &s[8..])
    } else {
        let (y, r) = digits(s, 4, 4).ok_or(BadDate)?;
        let r = sep(r).ok_or(BadDate)?;
        let (m, r) = digits(r, 1, 2).ok_or(BadDate)?;
        let r = sep(r).ok_or(BadDate)?;
        let (d, r) = digits(r, 1, 2).ok_or(BadDate)?;
        let r = r.strip_prefix('日').unwrap_or(r);
        (Date::new(y as i32, m, d), r)
    };
    let date = date.ok_or(BadDate)?;
    if !rest.is_empty() && !is_time(rest) {
        return Err(BadDate);
    }
    if date == LONG_TERM_DAY {
        Ok(CellDate::LongTerm)
    } else {
        Ok(CellDate::Day(date))
    }
}

const LONG_TERM_DAY: Date = Date(47_481); // 2099-12-31

fn num(b: &[u8]) -> u32 {
    b.iter().fold(0, |n, &c| n * 10 + u32::from(c - b'0'))
}

fn digits(s: &str, min: usize, max: usize) -> Option<(u32, &str)> {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    if n < min || n > max {
        return None;
    }
    Some((num(&s.as_bytes()[..n]), &s[n..]))
}

fn sep(s: &str) -> Option<&str> {
    for p in ["/", "-", ".", "年", "月"] {
        if let Some(r) = s.strip_prefix(p) {
            return Some(r);
        }
    }
    None
}

fn is_time(rest: &str) -> bool {
    let t = rest
        .strip_prefix('T')
        .or_else(|| rest.strip_prefix(' '))
        .unwrap_or("");
    let t = t.trim_start();
    let t = t.strip_suffix('Z').unwrap_or(t);
    !t.is_empty()
        && t.as_bytes()[0].is_ascii_digit()
        && t.bytes()
            .all(|c| c.is_ascii_digit() || c == b':' || c == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_term_constant_is_2099_12_31() {
        assert_eq!(Date::new(2099, 12, 31), Some(LONG_TERM_DAY));
    }
}
