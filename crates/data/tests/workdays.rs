//! The working-day table: the spec's examples, deadlines, the table's edges, and a
//! cross-check of every day 2015–2026 against the `chinesecalendar` Python package.

use crate::common::day;
use creditcity_data::workdays::{Calendar, FIRST_YEAR, LAST_YEAR, NOTICES, publication_deadline};
use std::process::Command;

#[test]
fn spring_festival_2019_and_its_make_up_days() {
    let cal = Calendar::official();
    assert_eq!(
        cal.is_working_day(day("2019-02-02")),
        Ok(true),
        "Saturday worked"
    );
    assert_eq!(
        cal.is_working_day(day("2019-02-03")),
        Ok(true),
        "Sunday worked"
    );
    for d in 4..=10 {
        assert_eq!(
            cal.is_working_day(day(&format!("2019-02-{d:02}"))),
            Ok(false)
        );
    }
    assert_eq!(cal.is_working_day(day("2019-02-11")), Ok(true));
    assert_eq!(
        cal.is_working_day(day("2018-12-29")),
        Ok(true),
        "worked for 元旦 2019"
    );
    assert_eq!(cal.is_working_day(day("2018-12-31")), Ok(false));
}

#[test]
fn deadline_is_the_seventh_working_day_after_the_decision() {
    let cal = Calendar::official();
    // Monday 2019-01-07: 8,9,10,11,14,15,16 → Wednesday 16th.
    assert_eq!(
        publication_deadline(cal, day("2019-01-07"), false),
        Ok(day("2019-01-16"))
    );
    // Counting the decision day itself: the 6th working day after.
    assert_eq!(
        publication_deadline(cal, day("2019-01-07"), true),
        Ok(day("2019-01-15"))
    );
    // Over the Spring Festival: Wed 2019-01-30 → 31, 1 Feb, 2, 3 (make-up), 11, 12, 13.
    assert_eq!(
        publication_deadline(cal, day("2019-01-30"), false),
        Ok(day("2019-02-13"))
    );
    // A decision on a holiday: the day itself is not a working day either way.
    assert_eq!(
        publication_deadline(cal, day("2019-02-05"), true),
        publication_deadline(cal, day("2019-02-05"), false)
    );
}

#[test]
fn working_days_between_counts_the_delay() {
    let cal = Calendar::official();
    assert_eq!(
        cal.working_days_between(day("2019-01-16"), day("2019-01-18")),
        Ok(2)
    );
    assert_eq!(
        cal.working_days_between(day("2019-02-01"), day("2019-02-11")),
        Ok(3)
    );
    assert_eq!(
        cal.working_days_between(day("2019-02-11"), day("2019-02-01")),
        Ok(0)
    );
}

#[test]
fn dates_outside_the_table_are_errors_not_guesses() {
    let cal = Calendar::official();
    assert!(cal.is_working_day(day("2014-12-31")).is_err());
    assert!(cal.is_working_day(day("2027-01-04")).is_err());
    assert!(
        publication_deadline(cal, day("2026-12-28"), false).is_err(),
        "deadline runs into 2027"
    );
    assert!(publication_deadline(cal, day("2026-12-01"), false).is_ok());
}

#[test]
fn every_year_has_a_cited_notice() {
    for year in FIRST_YEAR..=LAST_YEAR {
        let n = NOTICES
            .iter()
            .find(|n| n.year == year && n.number.starts_with("国办发明电"));
        let n = n.unwrap_or_else(|| panic!("no 国办发明电 notice for {year}"));
        assert!(n.title.contains(&format!("{year}年")), "{}", n.title);
        assert!(n.number.ends_with('号') && n.issued.len() == 10 && n.url.contains("gov.cn"));
    }
}

/// Every day 2015–2026 as `chinesecalendar` sees it: `YYYY-MM-DD 1|0` (1 = working day).
fn chinesecalendar_days() -> Vec<(String, bool)> {
    let script = format!(
        "import datetime, chinese_calendar as cc\n\
         d = datetime.date({FIRST_YEAR}, 1, 1)\n\
         end = datetime.date({LAST_YEAR}, 12, 31)\n\
         out = []\n\
         while d <= end:\n\
         \x20   out.append(d.isoformat() + (' 1' if cc.is_workday(d) else ' 0'))\n\
         \x20   d += datetime.timedelta(days=1)\n\
         print('\\n'.join(out))\n"
    );
    let output = Command::new("python3").arg("-c").arg(&script).output();
    let output = match output {
        Ok(o) => o,
        Err(e) => panic!(
            "python3 is needed to cross-check the working-day table ({e}); install python3, then `pip install chinesecalendar`"
        ),
    };
    assert!(
        output.status.success(),
        "the cross-check needs the chinesecalendar package: run `pip install chinesecalendar` (python said: {})",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(d, w)| (d.to_string(), w == "1")))
        .collect()
}

#[test]
fn table_agrees_with_chinesecalendar_on_every_day() {
    let cal = Calendar::official();
    let days = chinesecalendar_days();
    assert_eq!(days.len(), 4383, "2015-01-01..2026-12-31 is 4,383 days");
    let mut disagreements = Vec::new();
    for (d, theirs) in &days {
        let ours = cal.is_working_day(day(d)).unwrap_or_else(|e| panic!("{e}"));
        if ours != *theirs {
            disagreements.push(format!("{d}: ours {ours}, chinesecalendar {theirs}"));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
