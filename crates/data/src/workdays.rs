//! Working days of the Chinese government calendar, 2015–2026, from the State Council's
//! yearly holiday notices (国务院办公厅关于…年部分节假日安排的通知), with the make-up
//! working days on weekends (调休). A date outside the table is an error, never a guess.
//!
//! Each year below cites its notice: document number, date issued, and the page on the
//! central government's site (www.gov.cn) where it was published. The days were read from
//! those notices; the table is cross-checked at test time against the `chinesecalendar`
//! Python package (`tests/workdays.rs`).

use crate::date::Date;
use std::sync::OnceLock;

/// A notice that set (or changed) a year's arrangement.
#[derive(Clone, Copy, Debug)]
pub struct Notice {
    /// The year whose days it arranges.
    pub year: i32,
    /// Title as issued.
    pub title: &'static str,
    /// Document number, e.g. 国办发明电〔2018〕15号.
    pub number: &'static str,
    /// Date issued (YYYY-MM-DD).
    pub issued: &'static str,
    /// Where it was published.
    pub url: &'static str,
    /// Days off on weekdays or weekends (inclusive spans, as the notice writes them).
    pub days_off: &'static [(&'static str, &'static str)],
    /// Weekend days that are working days (调休上班).
    pub days_worked: &'static [&'static str],
    /// Days that this notice turns back from worked to off (a change notice).
    pub days_no_longer_worked: &'static [&'static str],
}

/// The first and last year the table covers.
pub const FIRST_YEAR: i32 = 2015;
pub const LAST_YEAR: i32 = 2026;

/// The notices, in order; a later notice for the same year changes the earlier one.
pub static NOTICES: &[Notice] = &[
    Notice {
        year: 2015,
        title: "国务院办公厅关于2015年部分节假日安排的通知",
        number: "国办发明电〔2014〕28号",
        issued: "2014-12-16",
        url: "http://www.gov.cn/zhengce/content/2014-12/16/content_9302.htm",
        days_off: &[
            ("2015-01-01", "2015-01-03"),
            ("2015-02-18", "2015-02-24"),
            ("2015-04-05", "2015-04-06"),
            ("2015-05-01", "2015-05-01"),
            ("2015-06-20", "2015-06-20"),
            ("2015-06-22", "2015-06-22"),
            ("2015-09-27", "2015-09-27"),
            ("2015-10-01", "2015-10-07"),
        ],
        days_worked: &["2015-01-04", "2015-02-15", "2015-02-28", "2015-10-10"],
        days_no_longer_worked: &[],
    },
    Notice {
        year: 2015,
        title: "国务院关于中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日调休放假的通知",
        number: "国发明电〔2015〕1号",
        issued: "2015-05-13",
        url: "http://www.gov.cn/zhengce/content/2015-05/13/content_9742.htm",
        days_off: &[("2015-09-03", "2015-09-05")],
        days_worked: &["2015-09-06"],
        days_no_longer_worked: &[],
    },
    Notice {
        year: 2016,
        title: "国务院办公厅关于2016年部分节假日安排的通知",
        number: "国办发明电〔2015〕18号",
        issued: "2015-12-10",
        url: "http://www.gov.cn/zhengce/content/2015-12/10/content_10394.htm",
        days_off: &[
            ("2016-01-01", "2016-01-01"),
            ("2016-02-07", "2016-02-13"),
            ("2016-04-04", "2016-04-04"),
            ("2016-05-01", "2016-05-02"),
            ("2016-06-09", "2016-06-11"),
            ("2016-09-15", "2016-09-17"),
            ("2016-10-01", "2016-10-07"),
        ],
        days_worked: &[
            "2016-02-06",
            "2016-02-14",
            "2016-06-12",
            "2016-09-18",
            "2016-10-08",
            "2016-10-09",
        ],
        days_no_longer_worked: &[],
    },
    Notice {
        year: 2017,
        title: "国务院办公厅关于2017年部分节假日安排的通知",
        number: "国办发明电〔2016〕17号",
        issued: "2016-12-01",
        url: "http://www.gov.cn/zhengce/content/2016-12/01/content_5141603.htm",
        days_off: &[
            ("2017-01-01", "2017-01-02"),
            ("2017-01-27", "2017-02-02"),
            ("2017-04-02", "2017-04-04"),
            ("2017-05-01", "2017-05-01"),
            ("2017-05-28", "2017-05-30"),
            ("2017-10-01", "2017-10-08"),
        ],
        days_worked: &[
            "2017-01-22",
            "2017-02-04",
            "2017-04-01",
            "2017-05-27",
            "2017-09-30",
        ],
        days_no_longer_worked: &[],
    },
    Notice {
        year: 2018,
        title: "国务院办公厅关于2018年部分节假日安排的通知",
        number: "国办发明电〔2017〕12号",
        issued: "2017-11-30",
        url: "http://www.gov.cn/zhengce/content/2017-11/30/content_5243579.htm",
        days_off: &[
            ("2018-01-01", "2018-01-01"),
            ("2018-02-15", "2018-02-21"),
            ("2018-04-05", "2018-04-07"),
            ("2018-04-29", "2018-05-01"),
            ("2018-06-18", "2018-06-18"),
            ("2018-09-24", "2018-09-24"),
            ("2018-10-01", "2018-10-07"),
        ],
        days_worked: &[
            "2018-02-11",
            "2018-02-24",
            "2018-04-08",
            "2018-04-28",
            "2018-09-29",
            "2018-09-30",
        ],
        days_no_longer_worked: &[],
    },
    Notice {
        year: 2019,
        title: "国务院办公厅关于2019年部分节假日安排的通知",
        number: "国办发明电〔2018〕15号",
        issued: "2018-12-04",
        url: "https://www.gov.cn/zhengce/zhengceku/2018-12/06/content_5346276.htm",
        // 元旦 runs from 30 December 2018, with Saturday 29 December 2018 worked.
        days_off: &[
            ("2018-12-30", "2019-01-01"),
            ("2019-02-04", "2019-02-10"),
            ("2019-04-05", "2019-04-05"),
            ("2019-05-01", "2019-05-01"),
            ("2019-06-07", "2019-06-07"),
            ("2019-09-13", "2019-09-13"),
            ("2019-10-01", "2019-10-07"),
        ],
        days_worked: &[
            "2018-12-29",
            "2019-02-02",
            "2019-02-03",
            "2019-09-29",
            "2019-10-12",
        ],
        days_no_longer_worked: &[],
    },
    Notice {
        year: 2019,
        title: "国务院办公厅关于调整2019年劳动节假期安排的通知",
        number: "国办发明电〔2019〕3号",
        issued: "2019-03-22",
        url: "http://www.gov.cn/zhengce/content/2019-03/22/content_5375877.htm",
        days_off: &[("2019-05-01", "2019-05-04")],
        days_worked: &["2019-04-28", "2019-05-05"],
        days_no_longer_worked: &[],
    },
    Notice {
        year: 2020,
        title: "国务院办公厅关于2020年部分节假日安排的通知",
        number: "国办发明电〔2019〕16号",
        issued: "2019-11-21",
        url: "http://www.gov.cn/zhengce/content/2019-11/21/content_5454164.htm",
        days_off: &[
            ("2020-01-01", "2020-01-01"),
            ("2020-01-24", "2020-01-30"),
            ("2020-04-04", "2020-04-06"),
            ("2020-05-01", "2020-05-05"),
            ("2020-06-25", "2020-06-27"),
            ("2020-10-01", "2020-10-08"),
        ],
        days_worked: &[
            "2020-01-19",
            "2020-02-01",
            "2020-04-26",
            "2020-05-09",
            "2020-06-28",
            "2020-09-27",
            "2020-10-10",
        ],
        days_no_longer_worked: &[],
    },
    Notice {
        year: 2020,
        title: "国务院办公厅关于延长2020年春节假期的通知",
        number: "国办发明电〔2020〕1号",
        issued: "2020-01-26",
        url: "http://www.gov.cn/zhengce/content/2020-01/27/content_5472352.htm",
        // The Spring Festival extended to Sunday 2 February; Saturday 1 February no longer worked.
        days_off: &[("2020-01-31", "2020-02-02")],
        days_worked: &[],
        days_no_longer_worked: &["2020-02-01"],
    },
    Notice {
        year: 2021,
        title: "国务院办公厅关于2021年部分节假日安排的通知",
        number: "国办发明电〔2020〕27号",
        issued: "2020-11-25",
        url: "http://www.gov.cn/zhengce/content/2020-11/25/content_5564127.htm",
        days_off: &[
            ("2021-01-01", "2021-01-03"),
            ("2021-02-11", "2021-02-17"),
            ("2021-04-03", "2021-04-05"),
            ("2021-05-01", "2021-05-05"),
            ("2021-06-12", "2021-06-14"),
            ("2021-09-19", "2021-09-21"),
            ("2021-10-01", "2021-10-07"),
        ],
        days_worked: &[
            "2021-02-07",
            "2021-02-20",
            "2021-04-25",
            "2021-05-08",
            "2021-09-18",
            "2021-09-26",
            "2021-10-09",
        ],
        days_no_longer_worked: &[],
    },
    Notice {
        year: 2022,
        title: "国务院办公厅关于2022年部分节假日安排的通知",
        number: "国办发明电〔2021〕11号",
        issued: "2021-10-25",
        url: "http://www.gov.cn/zhengce/content/2021-10/25/content_5644835.htm",
        days_off: &[
            ("2022-01-01", "2022-01-03"),
            ("2022-01-31", "2022-02-06"),
            ("2022-04-03", "2022-04-05"),
            ("2022-04-30", "2022-05-04"),
            ("2022-06-03", "2022-06-05"),
            ("2022-09-10", "2022-09-12"),
            ("2022-10-01", "2022-10-07"),
        ],
        days_worked: &[
            "2022-01-29",
            "2022-01-30",
            "2022-04-02",
            "2022-04-24",
            "2022-05-07",
            "2022-10-08",
            "2022-10-09",
        ],
        days_no_longer_worked: &[],
    },
    Notice {
        year: 2023,
        title: "国务院办公厅关于2023年部分节假日安排的通知",
        number: "国办发明电〔2022〕16号",
        issued: "2022-12-08",
        url: "http://www.gov.cn/zhengce/content/2022-12/08/content_5730844.htm",
        days_off: &[
            ("2022-12-31", "2023-01-02"),
            ("2023-01-21", "2023-01-27"),
            ("2023-04-05", "2023-04-05"),
            ("2023-04-29", "2023-05-03"),
            ("2023-06-22", "2023-06-24"),
            ("2023-09-29", "2023-10-06"),
        ],
        days_worked: &[
            "2023-01-28",
            "2023-01-29",
            "2023-04-23",
            "2023-05-06",
            "2023-06-25",
            "2023-10-07",
            "2023-10-08",
        ],
        days_no_longer_worked: &[],
    },
    Notice {
        year: 2024,
        title: "国务院办公厅关于2024年部分节假日安排的通知",
        number: "国办发明电〔2023〕7号",
        issued: "2023-10-25",
        url: "https://www.gov.cn/zhengce/content/202310/content_6911527.htm",
        days_off: &[
            ("2024-01-01", "2024-01-01"),
            ("2024-02-10", "2024-02-17"),
            ("2024-04-04", "2024-04-06"),
            ("2024-05-01", "2024-05-05"),
            ("2024-06-10", "2024-06-10"),
            ("2024-09-15", "2024-09-17"),
            ("2024-10-01", "2024-10-07"),
        ],
        days_worked: &[
            "2024-02-04",
            "2024-02-18",
            "2024-04-07",
            "2024-04-28",
            "2024-05-11",
            "2024-09-14",
            "2024-09-29",
            "2024-10-12",
        ],
        days_no_longer_worked: &[],
    },
    Notice {
        year: 2025,
        title: "国务院办公厅关于2025年部分节假日安排的通知",
        number: "国办发明电〔2024〕12号",
        issued: "2024-11-12",
        url: "https://www.gov.cn/zhengce/content/202411/content_6986382.htm",
        days_off: &[
            ("2025-01-01", "2025-01-01"),
            ("2025-01-28", "2025-02-04"),
            ("2025-04-04", "2025-04-06"),
            ("2025-05-01", "2025-05-05"),
            ("2025-05-31", "2025-06-02"),
            ("2025-10-01", "2025-10-08"),
        ],
        days_worked: &[
            "2025-01-26",
            "2025-02-08",
            "2025-04-27",
            "2025-09-28",
            "2025-10-11",
        ],
        days_no_longer_worked: &[],
    },
    Notice {
        year: 2026,
        title: "国务院办公厅关于2026年部分节假日安排的通知",
        number: "国办发明电〔2025〕7号",
        issued: "2025-11-04",
        url: "https://www.gov.cn/zhengce/content/202511/content_7047090.htm",
        days_off: &[
            ("2026-01-01", "2026-01-03"),
            ("2026-02-15", "2026-02-23"),
            ("2026-04-04", "2026-04-06"),
            ("2026-05-01", "2026-05-05"),
            ("2026-06-19", "2026-06-21"),
            ("2026-09-25", "2026-09-27"),
            ("2026-10-01", "2026-10-07"),
        ],
        days_worked: &[
            "2026-01-04",
            "2026-02-14",
            "2026-02-28",
            "2026-05-09",
            "2026-09-20",
            "2026-10-10",
        ],
        days_no_longer_worked: &[],
    },
];

/// A date the table does not cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{date} 不在工作日表范围内(已收录 {FIRST_YEAR}–{LAST_YEAR} 年国务院办公厅节假日安排通知)")]
pub struct OutsideCalendar {
    pub date: Date,
}

/// The working-day calendar: one bit a day from [`FIRST_YEAR`]-01-01 to [`LAST_YEAR`]-12-31.
#[derive(Debug)]
pub struct Calendar {
    first: Date,
    working: Vec<bool>,
    /// Working days up to and including each day (prefix sums), for O(1) counting.
    cumulative: Vec<u32>,
}

impl Calendar {
    /// The calendar built from [`NOTICES`] (built once).
    pub fn official() -> &'static Calendar {
        static CAL: OnceLock<Calendar> = OnceLock::new();
        CAL.get_or_init(|| Calendar::from_notices(NOTICES))
    }

    fn from_notices(notices: &[Notice]) -> Calendar {
        let first = Date::new(FIRST_YEAR, 1, 1).unwrap_or(Date::from_days(0));
        let last = Date::new(LAST_YEAR, 12, 31).unwrap_or(first);
        let n = (last.days() - first.days() + 1) as usize;
        let mut working: Vec<bool> = (0..n)
            .map(|i| !first.add_days(i as i32).is_weekend())
            .collect();
        let mut set = |d: Option<Date>, v: bool| {
            if let Some(d) = d {
                let i = d.days() - first.days();
                if i >= 0 && (i as usize) < n {
                    working[i as usize] = v;
                }
            }
        };
        for notice in notices {
            for &(from, to) in notice.days_off {
                if let (Some(a), Some(b)) = (Date::parse_iso(from), Date::parse_iso(to)) {
                    let mut d = a;
                    while d <= b {
                        set(Some(d), false);
                        d = d.succ();
                    }
                }
            }
            for &d in notice.days_worked {
                set(Date::parse_iso(d), true);
            }
            for &d in notice.days_no_longer_worked {
                set(Date::parse_iso(d), false);
            }
        }
        let mut cumulative = Vec::with_capacity(n);
        let mut c = 0u32;
        for &w in &working {
            c += u32::from(w);
            cumulative.push(c);
        }
        Calendar {
            first,
            working,
            cumulative,
        }
    }

    fn index(&self, d: Date) -> Result<usize, OutsideCalendar> {
        let i = d.days() - self.first.days();
        if i < 0 || i as usize >= self.working.len() {
            Err(OutsideCalendar { date: d })
        } else {
            Ok(i as usize)
        }
    }

    /// Whether a day is a working day.
    pub fn is_working_day(&self, d: Date) -> Result<bool, OutsideCalendar> {
        Ok(self.working[self.index(d)?])
    }

    /// The `n`th working day after `d` (`d` itself not counted), `n` ≥ 1.
    pub fn nth_working_day_after(&self, d: Date, n: u32) -> Result<Date, OutsideCalendar> {
        let i = self.index(d)?;
        let target = self.cumulative[i] + n;
        // The cumulative count is non-decreasing: find the first day that reaches it.
        let j = self.cumulative.partition_point(|&c| c < target);
        if j >= self.working.len() {
            let beyond = Date::new(LAST_YEAR + 1, 1, 1).unwrap_or(d);
            return Err(OutsideCalendar { date: beyond });
        }
        Ok(self.first.add_days(j as i32))
    }

    /// Working days in `(from, to]`: how many working days `to` is after `from`
    /// (0 when `to` ≤ `from`).
    pub fn working_days_between(&self, from: Date, to: Date) -> Result<u32, OutsideCalendar> {
        let a = self.index(from)?;
        let b = self.index(to)?;
        Ok(self.cumulative[b].saturating_sub(self.cumulative[a]))
    }
}

/// The publication deadline of a decision: the 7th working day after the decision day
/// (the decision day not counted), or, with `count_decision_day`, the 7th working day
/// counting the decision day itself when it is a working day.
pub fn publication_deadline(
    cal: &Calendar,
    decided: Date,
    count_decision_day: bool,
) -> Result<Date, OutsideCalendar> {
    if count_decision_day && cal.is_working_day(decided)? {
        cal.nth_working_day_after(decided, 6)
    } else {
        cal.nth_working_day_after(decided, 7)
    }
}
