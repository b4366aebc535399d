//! The office's clock: China Standard Time (UTC+8, no daylight saving since 1991).
//!
//! The store keeps instants in UTC (RFC 3339 with milliseconds, so that text order is
//! time order); people see them, and count days, in Beijing time: a deadline is overdue
//! from 00:00 in Beijing, not eight hours later.

use time::{OffsetDateTime, UtcOffset};

/// UTC+8.
pub const BEIJING: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// Today's date in Beijing as YYYY-MM-DD: the day deadlines are counted from.
pub fn today() -> String {
    date_of(OffsetDateTime::now_utc())
}

/// The Beijing date of an instant, as YYYY-MM-DD.
pub fn date_of(t: OffsetDateTime) -> String {
    let d = t.to_offset(BEIJING).date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A stored instant (`2026-11-29T22:40:53.406Z`) as people read it: `2026-11-30 06:40`
/// in Beijing time. Text that is not an instant is shown as it is.
pub fn beijing_time(stored: &str) -> String {
    match OffsetDateTime::parse(stored, &time::format_description::well_known::Rfc3339) {
        Ok(t) => {
            let b = t.to_offset(BEIJING);
            format!("{} {:02}:{:02}", date_of(t), b.hour(), b.minute())
        }
        Err(_) => stored.to_owned(),
    }
}

/// The stored (UTC) instant at which a Beijing day ends: `2019-03-01` ends at
/// `2019-03-01T16:00:00.000Z`. Comparable as text with stored instants.
pub fn end_of_day_stored(date: &str) -> String {
    format!("{date}T16:00:00.000Z")
}

/// The Beijing date of a stored instant, as YYYY-MM-DD (the text's own date if it is
/// not an instant).
pub fn stored_date(stored: &str) -> String {
    OffsetDateTime::parse(stored, &time::format_description::well_known::Rfc3339)
        .map_or_else(|_| stored.chars().take(10).collect(), date_of)
}

/// Whole minutes since a stored instant, if it is one.
pub fn minutes_since(stored: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(stored, &time::format_description::well_known::Rfc3339).ok()?;
    Some((OffsetDateTime::now_utc() - t).whole_minutes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_instants_read_in_beijing_time() {
        assert_eq!(beijing_time("2026-11-29T22:40:53.406Z"), "2026-11-30 06:40");
        assert_eq!(beijing_time("2026-11-29T15:59:59.999Z"), "2026-11-29 23:59");
        assert_eq!(beijing_time("not a time"), "not a time");
    }

    #[test]
    fn a_beijing_day_turns_at_16_utc() {
        let before = OffsetDateTime::parse("2026-11-29T15:59:00Z", &time::format_description::well_known::Rfc3339).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let after = OffsetDateTime::parse("2026-11-29T16:00:00Z", &time::format_description::well_known::Rfc3339).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        assert_eq!(date_of(before), "2026-11-29");
        assert_eq!(date_of(after), "2026-11-30");
        assert_eq!(stored_date("2026-11-29T16:00:00.000Z"), "2026-11-30");
        assert!("2026-11-29T15:59:59.999Z" < end_of_day_stored("2026-11-29").as_str());
    }
}
