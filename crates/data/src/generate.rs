//! Realistic datasets for a city, deterministic from a seed, with a known share of every
//! problem kind; each generator returns what a correct check must find (problem counts
//! by kind, and the derived values). Used by the tests (small, hand-checkable sizes), the
//! demo, and the benchmarks (millions of rows, written straight to a file).
//!
//! Every row is either clean or carries exactly one injected fault, so the expected
//! problem counts are exact. Clean rows use unique names, codes and decision numbers.

use crate::code::{self, CodeKey};
use crate::date::Date;
use crate::derive::{DerivedValue, InputKey};
use crate::problem::{ProblemKind, Unit, Units};
use crate::schema::DatasetKind;
use crate::workdays::{Calendar, publication_deadline};
use crate::{Settings, Window};
use std::collections::{BTreeMap, HashSet};
use std::io::{self, Write};
use std::path::Path;

/// A city: its name, division prefix, districts and units.
#[derive(Clone, Debug)]
pub struct CityProfile {
    pub name: String,
    /// Administrative division prefix (4 digits: the prefecture).
    pub prefix: String,
    /// District names and their 6-digit division codes.
    pub districts: Vec<(String, String)>,
    /// Unit names as the workspace knows them, with an alias records sometimes use.
    pub units: Vec<(String, String)>,
}

impl CityProfile {
    /// 青川市 (fictional), division prefix 5108, with units of `examples/qingchuan-plan.toml`.
    pub fn qingchuan() -> CityProfile {
        let districts = [
            ("青川区", "510802"),
            ("龙泉县", "510821"),
            ("石门县", "510822"),
            ("白沙市", "510881"),
        ];
        let units = [
            ("市市场监管局", "青川市市场监督管理局"),
            ("市生态环境局", "青川市生态环境局"),
            ("市交通局", "青川市交通运输局"),
            ("市住建局", "青川市住房和城乡建设局"),
            ("市卫健委", "青川市卫生健康委员会"),
            ("市公安局", "青川市公安局"),
            ("市税务局", "国家税务总局青川市税务局"),
            ("市人社局", "青川市人力资源和社会保障局"),
            ("市农业农村局", "青川市农业农村局"),
            ("市商务局", "青川市商务局"),
            ("市文旅广电局", "青川市文化广电旅游局"),
            ("市应急管理局", "青川市应急管理局"),
            ("市综合执法局", "青川市综合行政执法局"),
            ("市营商局", "青川市营商环境建设局"),
            ("市信用办", "青川市社会信用体系建设领导小组办公室"),
        ];
        CityProfile {
            name: "青川市".into(),
            prefix: "5108".into(),
            districts: districts
                .iter()
                .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
                .collect(),
            units: units
                .iter()
                .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
                .collect(),
        }
    }

    /// The workspace units (name + alias) for [`Settings::units`].
    pub fn units(&self) -> Units {
        Units::new(
            self.units
                .iter()
                .map(|(n, a)| Unit {
                    name: n.clone(),
                    aliases: vec![a.clone()],
                })
                .collect(),
        )
    }
}

/// What a correct check of a generated dataset finds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Expected {
    pub rows: u64,
    pub problems: BTreeMap<ProblemKind, u64>,
    /// Derived values this dataset determines (with the datasets generated before it).
    pub values: BTreeMap<InputKey, DerivedValue>,
}

impl Expected {
    fn problem(&mut self, kind: ProblemKind) {
        *self.problems.entry(kind).or_default() += 1;
    }

    pub fn problem_count(&self) -> u64 {
        self.problems.values().sum()
    }
}

/// Row counts for a whole city.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    pub entities: u64,
    pub licences: u64,
    pub penalties: u64,
    pub list_entries: u64,
    pub commitments: u64,
    pub approval_items: u64,
    pub cases: u64,
}

impl Sizes {
    /// A typical prefecture-level city (spec §7): 0.3M entities, 0.5M decisions.
    pub fn typical() -> Sizes {
        Sizes {
            entities: 300_000,
            licences: 300_000,
            penalties: 200_000,
            list_entries: 6_000,
            commitments: 40_000,
            approval_items: 420,
            cases: 300,
        }
    }

    /// A small city for the demo.
    pub fn demo() -> Sizes {
        Sizes {
            entities: 30_000,
            licences: 30_000,
            penalties: 20_000,
            list_entries: 1_200,
            commitments: 4_000,
            approval_items: 420,
            cases: 60,
        }
    }
}

/// What a correct check of a generated city finds, by dataset, and the derived values.
#[derive(Clone, Debug, Default)]
pub struct CityExpected {
    pub datasets: BTreeMap<DatasetKind, Expected>,
    pub values: BTreeMap<InputKey, DerivedValue>,
}

/// SplitMix64: small, fast, deterministic.
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p && p > 0.0
    }
    fn day_between(&mut self, a: Date, b: Date) -> Date {
        let span = (b.days() - a.days()).max(0) as u64;
        a.add_days(self.below(span + 1) as i32)
    }
}

const USCC_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WORDS: [&str; 12] = [
    "恒信", "蜀川", "嘉禾", "天府", "锦程", "康泰", "鑫源", "华通", "益民", "宏达", "青山", "绿源",
];

/// A valid USCC: authority/type `at` (e.g. `91`), 6-digit region, an organization code
/// body derived from `seq` (unique per `seq`).
pub fn make_uscc(at: &str, region: &str, seq: u64) -> String {
    let mut body = [b'0'; 8];
    let mut n = seq;
    for c in body.iter_mut().rev() {
        *c = USCC_ALPHABET[(n % 31) as usize];
        n /= 31;
    }
    // Organization code check character.
    let weights = [3u32, 7, 9, 10, 5, 8, 4, 2];
    let mut sum = 0;
    for (i, &c) in body.iter().enumerate() {
        let v = if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c - b'A') + 10
        };
        sum += v * weights[i];
    }
    let org = match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        d => char::from(b'0' + d as u8),
    };
    let mut s = String::with_capacity(18);
    s.push_str(at);
    s.push_str(region);
    s.push_str(std::str::from_utf8(&body).unwrap_or("00000000"));
    s.push(org);
    let uw = [
        1u32, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let mut sum = 0;
    for (i, c) in s.bytes().enumerate() {
        let v = USCC_ALPHABET.iter().position(|&a| a == c).unwrap_or(0) as u32;
        sum += v * uw[i];
    }
    s.push(char::from(USCC_ALPHABET[((31 - sum % 31) % 31) as usize]));
    s
}

/// The same code with a wrong check character.
fn corrupt_check(code: &str) -> String {
    let mut b = code.as_bytes().to_vec();
    if let Some(last) = b.last_mut() {
        *last = if *last == b'1' { b'2' } else { b'1' };
    }
    String::from_utf8(b).unwrap_or_default()
}

#[derive(Clone, Copy, Debug)]
struct SampleEntity {
    key: CodeKey,
    seq: u64,
    legal: bool,
    flagged_out: bool,
}

/// Writes the datasets of a city. Generate the register before the lists, and the lists
/// before the commitments: later datasets refer to earlier ones' entities.
pub struct Generator {
    profile: CityProfile,
    rng: Rng,
    share: f64,
    window: Window,
    today: Date,
    calendar: &'static Calendar,
    sample: Vec<SampleEntity>,
    operating: HashSet<CodeKey>,
    /// Register entities rated 差 existing at start, and those with a report date (by code).
    poor: HashSet<CodeKey>,
    register_reports: HashSet<CodeKey>,
    next_seq: u64,
}

fn fmt_date(d: Date, style: u64) -> String {
    let (y, m, dd) = d.ymd();
    match style % 4 {
        0 | 1 => format!("{y:04}-{m:02}-{dd:02}"),
        2 => format!("{y:04}/{m:02}/{dd:02}"),
        _ => format!("{y:04}{m:02}{dd:02}"),
    }
}

impl Generator {
    /// `problem_share`: the share of rows carrying one fault (0.0–1.0), spread evenly over
    /// the kinds each dataset can have.
    pub fn new(profile: CityProfile, seed: u64, problem_share: f64) -> Generator {
        let window = Window::edition_2019();
        Generator {
            profile,
            rng: Rng(seed),
            share: problem_share,
            window,
            today: window.end.add_days(5),
            calendar: Calendar::official(),
            sample: Vec::new(),
            operating: HashSet::new(),
            poor: HashSet::new(),
            register_reports: HashSet::new(),
            next_seq: 1,
        }
    }

    /// Settings that match the generated data: the 2019 window, today = 2019-03-20, the
    /// city's prefix and units.
    pub fn settings(&self) -> Settings {
        let mut s = Settings::new(self.window, self.today, &self.profile.prefix);
        s.units = self.profile.units();
        s
    }

    fn fault<T: Copy>(&mut self, kinds: &[T]) -> Option<T> {
        if self.rng.chance(self.share) {
            Some(kinds[self.rng.below(kinds.len() as u64) as usize])
        } else {
            None
        }
    }

    fn unit_name(&mut self) -> String {
        let i = self.rng.below(self.profile.units.len() as u64) as usize;
        let (name, alias) = &self.profile.units[i];
        if self.rng.chance(0.3) {
            alias.clone()
        } else {
            name.clone()
        }
    }

    fn region(&mut self) -> (usize, String) {
        let i = self.rng.below(self.profile.districts.len() as u64) as usize;
        (i, self.profile.districts[i].1.clone())
    }

    fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// 市场主体名录.
    pub fn register(&mut self, out: impl Write, rows: u64) -> io::Result<Expected> {
        use ProblemKind as P;
        let mut out = io::BufWriter::with_capacity(1 << 16, out);
        writeln!(
            out,
            "名称,统一社会信用代码,主体类别,登记状态,成立日期,原注册号,注销日期,经营异常,失联,公共信用综合评价,信用报告提交日期,所属区县,登记机关"
        )?;
        let w = self.window;
        let mut e = Expected {
            rows,
            ..Expected::default()
        };
        let (
            mut existing,
            mut converted,
            mut with_code,
            mut wrong,
            mut dup,
            mut legal_end,
            mut new,
        ) = (0u64, 0, 0, 0, 0, 0, 0);
        let kinds = [
            P::WrongCode,
            P::PlaceholderCode,
            P::MissingField,
            P::BadDate,
            P::UnknownCategory,
            P::CodeTwoNames,
            P::NameTwoCodes,
            P::FutureDate,
        ];
        let mut clean_legal: Vec<(String, String)> = Vec::new();
        let since = Date::new(2000, 1, 1).unwrap_or(w.start);
        for i in 0..rows {
            let seq = self.seq();
            let (region_i, region) = self.region();
            let roll = self.rng.below(100);
            let (category, at) = if roll < 80 {
                ("法人", "91")
            } else if roll < 88 {
                ("非法人组织", "91")
            } else {
                ("个体工商户", "92")
            };
            let legal = category != "个体工商户";
            let word = WORDS[(i % WORDS.len() as u64) as usize];
            let mut name = if legal {
                format!("青川{word}{seq}有限公司")
            } else {
                format!("青川{word}{seq}商店")
            };
            let mut code_cell = make_uscc(at, &region, seq);
            let mut founded = if self.rng.chance(0.03) {
                self.rng.day_between(w.start, w.end)
            } else {
                self.rng.day_between(since, w.start.add_days(-20))
            };
            let status_roll = self.rng.below(100);
            let (mut status, mut closed) = if status_roll < 4 {
                (
                    "注销",
                    Some(self.rng.day_between(founded.succ(), w.start.add_days(-1))),
                )
            } else if status_roll < 6 {
                ("吊销", None)
            } else {
                ("存续", None)
            };
            let mut abnormal = self.rng.chance(0.03);
            let mut lost = self.rng.chance(0.01);
            let mut rating = match self.rng.below(100) {
                0..=1 => "差",
                2..=40 => "良",
                41..=60 => "优",
                61..=70 => "中",
                _ => "",
            };
            let mut report = rating == "差" && self.rng.chance(0.5);
            let mut report_cell = if report {
                fmt_date(self.rng.day_between(w.start, w.end), i)
            } else {
                String::new()
            };
            let mut founded_cell = fmt_date(founded, i);
            let mut founded_ok = true;
            let mut name_ok = true;
            let mut status_known = true;
            let mut code_kind = 'v'; // v valid, w wrong, p placeholder
            let fault = self.fault(&kinds);
            match fault {
                Some(P::WrongCode) => {
                    code_cell = corrupt_check(&code_cell);
                    code_kind = 'w';
                }
                Some(P::PlaceholderCode) => {
                    code_cell = code::PLACEHOLDER.to_string();
                    code_kind = 'p';
                }
                Some(P::MissingField) => {
                    name = String::new();
                    name_ok = false;
                }
                Some(P::BadDate) => {
                    founded_cell = "2018-13-45".into();
                    founded_ok = false;
                }
                Some(P::UnknownCategory) => {
                    status = "正常";
                    status_known = false;
                }
                Some(P::FutureDate) => {
                    founded = self.today.add_days(30);
                    founded_cell = fmt_date(founded, i);
                    status = "存续";
                    closed = None;
                }
                Some(P::CodeTwoNames) if !clean_legal.is_empty() => {
                    let j = self.rng.below(clean_legal.len() as u64) as usize;
                    code_cell.clone_from(&clean_legal[j].1);
                    // The second holder carries no flags: the first holder's flags stay the code's.
                    (abnormal, lost, rating, report, report_cell) =
                        (false, false, "", false, String::new());
                    if status == "吊销" {
                        status = "存续";
                    }
                }
                Some(P::NameTwoCodes) if !clean_legal.is_empty() && legal => {
                    let j = self.rng.below(clean_legal.len() as u64) as usize;
                    name.clone_from(&clean_legal[j].0);
                }
                _ => {}
            }
            let fault = match fault {
                Some(P::CodeTwoNames) if clean_legal.is_empty() => None,
                Some(P::NameTwoCodes) if clean_legal.is_empty() || !legal => None,
                f => f,
            };
            if let Some(f) = fault {
                e.problem(f);
            }
            let _ = status_known;
            let gone = status == "注销";
            let exists_at =
                |d: Date| founded_ok && founded <= d && (!gone || closed.is_some_and(|c| c >= d));
            let at_start = exists_at(w.start);
            let has_code = code_kind != 'p';
            if at_start {
                existing += 1;
                if has_code {
                    converted += 1;
                }
            }
            if exists_at(w.end) && legal {
                legal_end += 1;
            }
            if founded_ok && w.contains(founded) {
                new += 1;
            }
            let in_pop = !gone || closed.is_some_and(|c| c >= w.start);
            if has_code && in_pop {
                with_code += 1;
                if code_kind == 'w' {
                    wrong += 1;
                }
                if fault == Some(P::CodeTwoNames) {
                    dup += 1;
                }
            }
            {
                let key = CodeKey::of(&code_cell);
                if has_code && rating == "差" && at_start {
                    self.poor.insert(key);
                }
                if has_code && report {
                    self.register_reports.insert(key);
                }
            }
            if fault.is_none() && legal && name_ok && clean_legal.len() < 100_000 {
                clean_legal.push((name.clone(), code_cell.clone()));
            }
            if fault.is_none() && self.sample.len() < 200_000 {
                self.sample.push(SampleEntity {
                    key: CodeKey::of(&code_cell),
                    seq,
                    legal,
                    flagged_out: abnormal || lost || status == "吊销",
                });
            }
            let old_number = if legal {
                String::new()
            } else {
                format!("5108{seq:011}")
            };
            let closed_cell = closed.map(|c| fmt_date(c, i)).unwrap_or_default();
            let district = &self.profile.districts[region_i].0;
            writeln!(
                out,
                "{name},{code_cell},{category},{status},{founded_cell},{old_number},{closed_cell},{},{},{rating},{report_cell},{district},青川市市场监督管理局",
                if abnormal { "是" } else { "否" },
                if lost { "是" } else { "否" },
            )?;
        }
        out.flush()?;
        e.values.insert(
            InputKey::CodeConversionRate,
            DerivedValue::Ratio {
                numerator: converted,
                denominator: existing,
            },
        );
        e.values.insert(
            InputKey::CodeErrorRate,
            DerivedValue::Ratio {
                numerator: wrong + dup,
                denominator: with_code,
            },
        );
        e.values
            .insert(InputKey::LegalEntities, DerivedValue::Count(legal_end));
        e.values
            .insert(InputKey::NewMarketEntities, DerivedValue::Count(new));
        Ok(e)
    }

    fn subject(&mut self) -> (String, &'static str, String) {
        if !self.sample.is_empty() && self.rng.chance(0.7) {
            let s = self.sample[self.rng.below(self.sample.len() as u64) as usize];
            let code = s.key.to_code().unwrap_or_default();
            let name = format!(
                "青川{}{}{}",
                WORDS[(s.seq % 12) as usize],
                s.seq,
                if s.legal { "有限公司" } else { "商店" }
            );
            return (
                name,
                if s.legal {
                    "法人及非法人组织"
                } else {
                    "个体工商户"
                },
                code,
            );
        }
        match self.rng.below(10) {
            0..=2 => (
                format!("张{}", self.rng.below(10_000)),
                "自然人",
                String::new(),
            ),
            3 => {
                let seq = self.seq();
                let (_, region) = self.region();
                (
                    format!("青川个体{seq}商店"),
                    "个体工商户",
                    make_uscc("92", &region, seq),
                )
            }
            _ => {
                let seq = self.seq();
                let (_, region) = self.region();
                (
                    format!("青川外联{seq}有限公司"),
                    "法人及非法人组织",
                    make_uscc("91", &region, seq),
                )
            }
        }
    }

    /// 行政许可 or 行政处罚 (`kind` must be one of the two).
    pub fn decisions(
        &mut self,
        kind: DatasetKind,
        out: impl Write,
        rows: u64,
    ) -> io::Result<Expected> {
        use ProblemKind as P;
        let licences = kind == DatasetKind::Licences;
        let mut out = io::BufWriter::with_capacity(1 << 16, out);
        if licences {
            writeln!(
                out,
                "行政相对人名称,行政相对人类别,统一社会信用代码,许可决定文书号,许可类别,许可决定日期,有效期自,有效期至,许可机关,数据来源单位,公示日期"
            )?;
        } else {
            writeln!(
                out,
                "行政相对人名称(CF_XDR_MC),行政相对人类别(CF_XDR_LB),统一社会信用代码(CF_XDR_SHXYM),处罚决定书文号(CF_WSH),违法行为类型(CF_WFXW),处罚类别(CF_CFLB),处罚决定日期(CF_JDRQ),处罚机关(CF_CFJG),数据来源单位(CF_SJLY),罚款金额(CF_NR_FK),公示日期"
            )?;
        }
        let w = self.window;
        let mut e = Expected {
            rows,
            ..Expected::default()
        };
        let mut kinds = vec![
            P::WrongCode,
            P::PlaceholderCode,
            P::MissingField,
            P::BadDate,
            P::UnknownCategory,
            P::DuplicateDecision,
            P::UnknownUnit,
            P::Unpublished,
            P::LatePublication,
            P::FutureDate,
            P::DateOrder,
        ];
        if !licences {
            kinds.retain(|k| *k != P::BadDate);
        }
        let (mut in_window, mut reported, mut portal) = (0u64, 0u64, 0u64);
        let mut numbers: Vec<String> = Vec::new();
        let early = Date::new(2018, 1, 1).unwrap_or(w.start);
        for i in 0..rows {
            let (name, mut category, mut code_cell) = self.subject();
            let seq = self.seq();
            let mut number = if licences {
                format!("青川许〔2019〕{seq}号")
            } else {
                format!("青川罚〔2019〕{seq}号")
            };
            let mut decided = if self.rng.chance(0.5) {
                self.rng.day_between(w.start, w.end.add_days(-15))
            } else {
                self.rng.day_between(early, w.start.add_days(-1))
            };
            let deadline = publication_deadline(self.calendar, decided, false).unwrap_or(decided);
            let mut published = Some(self.rng.day_between(decided, deadline));
            let mut unit = self.unit_name();
            let mut kind_cell = if licences {
                ["普通", "核准", "登记", "认可"][(i % 4) as usize]
            } else {
                ["警告", "罚款", "没收违法所得", "责令停产停业"][(i % 4) as usize]
            }
            .to_string();
            let mut valid_to_cell = fmt_date(decided.add_days(3 * 365), i);
            let mut valid_from_cell = fmt_date(decided, i);
            let mut authority = if licences {
                "青川市行政审批局"
            } else {
                "青川市市场监督管理局"
            }
            .to_string();
            let mut fault = self.fault(&kinds);
            if matches!(fault, Some(P::WrongCode | P::PlaceholderCode)) && code_cell.is_empty() {
                let seq = self.seq();
                code_cell = make_uscc("91", "510802", seq);
                category = "法人及非法人组织";
            }
            match fault {
                Some(P::WrongCode) => code_cell = corrupt_check(&code_cell),
                Some(P::PlaceholderCode) => {
                    code_cell = code::PLACEHOLDER.into();
                    category = "法人及非法人组织";
                }
                Some(P::MissingField) => authority = String::new(),
                Some(P::BadDate) => valid_to_cell = "2019/02/30".into(),
                Some(P::UnknownCategory) => {
                    kind_cell = if licences {
                        "临时".into()
                    } else {
                        "训诫".into()
                    }
                }
                Some(P::DuplicateDecision) if !numbers.is_empty() => {
                    let j = self.rng.below(numbers.len() as u64) as usize;
                    number.clone_from(&numbers[j]);
                }
                Some(P::UnknownUnit) => unit = "青川市某某管理处".into(),
                Some(P::Unpublished) => {
                    decided = self.rng.day_between(w.start, w.end.add_days(-15));
                    published = None;
                }
                Some(P::LatePublication) => {
                    decided = self.rng.day_between(w.start, w.end.add_days(-30));
                    let dl = publication_deadline(self.calendar, decided, false).unwrap_or(decided);
                    let late = 1 + self.rng.below(5) as u32;
                    published = self.calendar.nth_working_day_after(dl, late).ok();
                }
                Some(P::FutureDate) => {
                    decided = self.rng.day_between(early, w.start.add_days(-1));
                    published = Some(self.today.add_days(10));
                }
                Some(P::DateOrder) => {
                    if licences {
                        valid_from_cell = fmt_date(decided.add_days(10), i);
                        valid_to_cell = fmt_date(decided.add_days(5), i);
                    } else {
                        // Published the day before the decision: out of order, yet on time.
                        published = Some(decided.add_days(-1));
                    }
                }
                _ => {}
            }
            if fault == Some(P::DuplicateDecision) && numbers.len() == 1 && numbers[0] == number {
                // Fine: a duplicate of the only earlier number.
            }
            if fault == Some(P::DuplicateDecision) && numbers.is_empty() {
                fault = None;
            }
            if let Some(f) = fault {
                e.problem(f);
            }
            if fault.is_none() && numbers.len() < 100_000 {
                numbers.push(number.clone());
            }
            if licences && matches!(fault, Some(P::Unpublished | P::LatePublication)) {
                valid_from_cell = fmt_date(decided, i);
                valid_to_cell = fmt_date(decided.add_days(3 * 365), i);
            }
            let legal = category == "法人及非法人组织";
            let published_by_end = published.filter(|p| *p <= w.end);
            if published_by_end.is_some() && legal {
                portal += 1;
            }
            if w.contains(decided) {
                in_window += 1;
                if published_by_end.is_some() {
                    reported += 1;
                }
            }
            let decided_cell = fmt_date(decided, i + 1);
            let published_cell = published.map(|p| fmt_date(p, i + 2)).unwrap_or_default();
            if licences {
                writeln!(
                    out,
                    "{name},{category},{code_cell},{number},{kind_cell},{decided_cell},{valid_from_cell},{valid_to_cell},{authority},{unit},{published_cell}"
                )?;
            } else {
                let fine = self.rng.below(500);
                writeln!(
                    out,
                    "{name},{category},{code_cell},{number},违反《中华人民共和国产品质量法》,{kind_cell},{decided_cell},{authority},{unit},{fine},{published_cell}"
                )?;
            }
        }
        out.flush()?;
        e.values
            .insert(InputKey::DecisionsTotal, DerivedValue::Count(in_window));
        e.values
            .insert(InputKey::DecisionsReported, DerivedValue::Count(reported));
        e.values
            .insert(InputKey::PortalRecords, DerivedValue::Count(portal));
        Ok(e)
    }

    /// 红黑名单 (after the register: entries name its entities, each entity at most once).
    pub fn lists(&mut self, out: impl Write, rows: u64) -> io::Result<Expected> {
        use ProblemKind as P;
        let mut out = io::BufWriter::new(out);
        writeln!(
            out,
            "统一社会信用代码,名称,名单类型,领域,认定日期,认定单位,移出日期,移出原因,修复培训日期,信用报告提交日期"
        )?;
        let w = self.window;
        let mut e = Expected {
            rows,
            ..Expected::default()
        };
        let kinds = [
            P::WrongCode,
            P::MissingField,
            P::BadDate,
            P::UnknownCategory,
            P::DateOrder,
            P::UnknownUnit,
            P::FutureDate,
        ];
        let mut red = 0u64;
        let mut black_at_start = HashSet::new();
        let mut operating = HashSet::new();
        let mut exited = 0u64;
        let mut trained = 0u64;
        let mut reported: HashSet<CodeKey> = HashSet::new();
        let mut portal = 0u64;
        let mut used: HashSet<CodeKey> = HashSet::new();
        let early = Date::new(2016, 1, 1).unwrap_or(w.start);
        for i in 0..rows {
            // A register entity not used yet, or (rarely) an outside one.
            let ent = (0..4)
                .map(|_| self.rng.below(self.sample.len().max(1) as u64) as usize)
                .find_map(|j| {
                    self.sample
                        .get(j)
                        .copied()
                        .filter(|s| !used.contains(&s.key))
                });
            let (key, name, flagged_out, legal) = if let Some(s) = ent {
                used.insert(s.key);
                (
                    s.key,
                    format!("青川{}{}有限公司", WORDS[(s.seq % 12) as usize], s.seq),
                    s.flagged_out,
                    s.legal,
                )
            } else {
                let seq = self.seq();
                let c = make_uscc("91", &self.profile.districts[0].1, seq);
                (
                    CodeKey::of(&c),
                    format!("青川外联{seq}有限公司"),
                    false,
                    true,
                )
            };
            let mut code_cell = key.to_code().unwrap_or_default();
            let black = self.rng.chance(0.7);
            let mut kind_cell = if black { "黑名单" } else { "红名单" }.to_string();
            let mut domain = ["市场监管", "税务", "环境保护", "安全生产", "交通运输"]
                [(i % 5) as usize]
                .to_string();
            let decided = if self.rng.chance(0.85) {
                self.rng.day_between(early, w.start)
            } else {
                self.rng.day_between(w.start.succ(), w.end)
            };
            let mut decided_cell = fmt_date(decided, i);
            let mut decided_ok = true;
            let mut removed = if self.rng.chance(0.1) {
                Some(
                    self.rng
                        .day_between(decided, w.start.add_days(-1).max(decided)),
                )
            } else if self.rng.chance(0.35) {
                Some(self.rng.day_between(w.start.succ().max(decided), w.end))
            } else {
                None
            };
            let reason = ["整改", "信用修复", "期满", "其他", "整改"][self.rng.below(5) as usize];
            let trained_on = if black && self.rng.chance(0.5) {
                Some(self.rng.day_between(w.start, w.end))
            } else {
                None
            };
            let report = if black && self.rng.chance(0.6) {
                Some(self.rng.day_between(w.start, w.end))
            } else {
                None
            };
            let mut unit = self.unit_name();
            let mut kind_ok = true;
            let mut key = key;
            let fault = self.fault(&kinds);
            match fault {
                Some(P::WrongCode) => {
                    code_cell = corrupt_check(&code_cell);
                    key = CodeKey::of(&code_cell);
                }
                Some(P::MissingField) => domain = String::new(),
                Some(P::BadDate) => {
                    decided_cell = "2018年13月1日".into();
                    decided_ok = false;
                }
                Some(P::UnknownCategory) => {
                    kind_cell = "灰名单".into();
                    kind_ok = false;
                }
                Some(P::DateOrder) => removed = Some(decided.add_days(-3)),
                Some(P::UnknownUnit) => unit = "某某协会".into(),
                Some(P::FutureDate) => removed = Some(self.today.add_days(40)),
                _ => {}
            }
            if let Some(f) = fault {
                e.problem(f);
            }
            let kept = decided_ok && kind_ok;
            if kept {
                if decided <= w.end && legal {
                    portal += 1;
                }
                if report.is_some() {
                    reported.insert(key);
                }
                let on_start = decided <= w.start && removed.is_none_or(|r| r > w.start);
                if on_start && black {
                    black_at_start.insert(key);
                    // A wrong code does not find its register flags.
                    let out_flag = flagged_out && fault != Some(P::WrongCode);
                    if !out_flag {
                        operating.insert(key);
                        if removed.is_some_and(|r| r <= w.end)
                            && matches!(reason, "整改" | "信用修复")
                        {
                            exited += 1;
                        }
                        if trained_on.is_some() {
                            trained += 1;
                        }
                    }
                } else if on_start {
                    red += 1;
                }
            }
            let removed_cell = removed.map(|r| fmt_date(r, i)).unwrap_or_default();
            let reason_cell = if removed.is_some() { reason } else { "" };
            let trained_cell = trained_on.map(|d| fmt_date(d, i)).unwrap_or_default();
            let report_cell = report.map(|d| fmt_date(d, i)).unwrap_or_default();
            writeln!(
                out,
                "{code_cell},{name},{kind_cell},{domain},{decided_cell},{unit},{removed_cell},{reason_cell},{trained_cell},{report_cell}"
            )?;
        }
        out.flush()?;
        // Entities rated 差 in the register join the report subjects.
        let subjects: HashSet<CodeKey> = operating.union(&self.poor).copied().collect();
        let reports = subjects
            .iter()
            .filter(|k| reported.contains(k) || self.register_reports.contains(k))
            .count() as u64;
        let _ = black_at_start;
        e.values.insert(
            InputKey::OperatingBlacklist,
            DerivedValue::Count(operating.len() as u64),
        );
        e.values
            .insert(InputKey::BlacklistExited, DerivedValue::Count(exited));
        e.values
            .insert(InputKey::RepairTrained, DerivedValue::Count(trained));
        e.values.insert(
            InputKey::ReportSubjectsTotal,
            DerivedValue::Count(subjects.len() as u64),
        );
        e.values
            .insert(InputKey::ReportsSubmitted, DerivedValue::Count(reports));
        e.values.insert(
            InputKey::OperatingRedBlackSubjects,
            DerivedValue::Count(red + operating.len() as u64),
        );
        e.values
            .insert(InputKey::PortalRecords, DerivedValue::Count(portal));
        self.operating = operating;
        Ok(e)
    }

    /// 信用承诺 (after the lists: 信用修复型 commitments come from blacklisted entities).
    pub fn commitments(&mut self, out: impl Write, rows: u64) -> io::Result<Expected> {
        use ProblemKind as P;
        let mut out = io::BufWriter::new(out);
        writeln!(out, "统一社会信用代码,承诺类型,承诺日期,事项,受理单位")?;
        let w = self.window;
        let mut e = Expected {
            rows,
            ..Expected::default()
        };
        let kinds = [
            P::WrongCode,
            P::PlaceholderCode,
            P::MissingField,
            P::BadDate,
            P::UnknownCategory,
            P::UnknownUnit,
            P::FutureDate,
        ];
        let operating: Vec<CodeKey> = {
            let mut v: Vec<CodeKey> = self.operating.iter().copied().collect();
            v.sort();
            v
        };
        let (mut voluntary, mut discipline, mut portal) = (0u64, 0u64, 0u64);
        let mut repair: HashSet<CodeKey> = HashSet::new();
        let early = Date::new(2018, 1, 1).unwrap_or(w.start);
        for i in 0..rows {
            let roll = self.rng.below(100);
            let type_cell_base = match roll {
                0..=54 => "主动公示型",
                55..=79 => "行业自律型",
                80..=87 => "审批替代型",
                88..=94 => "容缺受理型",
                _ => "信用修复型",
            };
            let (mut code_cell, legal) = if type_cell_base == "信用修复型" && !operating.is_empty()
            {
                (
                    operating[self.rng.below(operating.len() as u64) as usize]
                        .to_code()
                        .unwrap_or_default(),
                    true,
                )
            } else if !self.sample.is_empty() {
                let s = self.sample[self.rng.below(self.sample.len() as u64) as usize];
                (s.key.to_code().unwrap_or_default(), s.legal)
            } else {
                let seq = self.seq();
                (make_uscc("91", "510802", seq), true)
            };
            let legal = legal && !code::is_individual_business(&code_cell);
            let mut type_cell = type_cell_base.to_string();
            let mut date = if self.rng.chance(0.6) {
                self.rng.day_between(w.start, w.end)
            } else {
                self.rng.day_between(early, w.start.add_days(-1))
            };
            let mut date_cell = fmt_date(date, i);
            let mut date_ok = true;
            let mut unit = self.unit_name();
            let mut has_code = true;
            let mut type_ok = true;
            let fault = self.fault(&kinds);
            match fault {
                Some(P::WrongCode) => code_cell = corrupt_check(&code_cell),
                Some(P::PlaceholderCode) => {
                    code_cell = code::PLACEHOLDER.into();
                    has_code = false;
                }
                Some(P::MissingField) => {
                    date_cell = String::new();
                    date_ok = false;
                }
                Some(P::BadDate) => {
                    date_cell = "2019-02-29".into();
                    date_ok = false;
                }
                Some(P::UnknownCategory) => {
                    type_cell = "其他型".into();
                    type_ok = false;
                }
                Some(P::UnknownUnit) => unit = "某某服务中心".into(),
                Some(P::FutureDate) => {
                    date = self.today.add_days(3);
                    date_cell = fmt_date(date, i);
                }
                _ => {}
            }
            if let Some(f) = fault {
                e.problem(f);
            }
            if date_ok && type_ok {
                if has_code && date <= w.end && legal {
                    portal += 1;
                }
                if w.contains(date) {
                    match type_cell.as_str() {
                        "主动公示型" => voluntary += 1,
                        "行业自律型" => discipline += 1,
                        _ => {}
                    }
                }
                if type_cell == "信用修复型" && has_code && date <= w.end {
                    let k = CodeKey::of(&code_cell);
                    if self.operating.contains(&k) {
                        repair.insert(k);
                    }
                }
            }
            writeln!(
                out,
                "{code_cell},{type_cell},{date_cell},企业投资项目备案,{unit}"
            )?;
        }
        out.flush()?;
        e.values.insert(
            InputKey::VoluntaryCommitments,
            DerivedValue::Count(voluntary),
        );
        e.values.insert(
            InputKey::SelfDisciplineCommitments,
            DerivedValue::Count(discipline),
        );
        e.values.insert(
            InputKey::RepairCommitments,
            DerivedValue::Count(repair.len() as u64),
        );
        e.values
            .insert(InputKey::PortalRecords, DerivedValue::Count(portal));
        Ok(e)
    }

    /// 行政审批事项目录.
    pub fn approval_items(&mut self, out: impl Write, rows: u64) -> io::Result<Expected> {
        use ProblemKind as P;
        let mut out = io::BufWriter::new(out);
        writeln!(
            out,
            "事项名称,实行审批替代型承诺,接受容缺受理型承诺,属于国发〔2018〕35号19项,实施单位"
        )?;
        let mut e = Expected {
            rows,
            ..Expected::default()
        };
        let kinds = [P::MissingField, P::UnknownCategory, P::UnknownUnit];
        let (mut substitution, mut tolerance) = (0u64, 0u64);
        for i in 0..rows {
            let in_35 = i < 17;
            let mut name = format!("青川市审批事项{}", i + 1);
            let sub = in_35;
            let tol = self.rng.chance(0.85);
            let mut tol_cell = if tol { "是" } else { "否" }.to_string();
            let mut unit = self.unit_name();
            let fault = self.fault(&kinds);
            match fault {
                Some(P::MissingField) => name = String::new(),
                Some(P::UnknownCategory) => tol_cell = "可以".into(),
                Some(P::UnknownUnit) => unit = "某某窗口".into(),
                _ => {}
            }
            if let Some(f) = fault {
                e.problem(f);
            }
            if sub {
                substitution += 1;
            }
            if tol && fault != Some(P::UnknownCategory) {
                tolerance += 1;
            }
            let yn = |b: bool| if b { "是" } else { "否" };
            writeln!(out, "{name},{},{tol_cell},{},{unit}", yn(sub), yn(in_35))?;
        }
        out.flush()?;
        e.values.insert(
            InputKey::SubstitutionItems,
            DerivedValue::Count(substitution.min(19)),
        );
        e.values
            .insert(InputKey::ToleranceItems, DerivedValue::Count(tolerance));
        e.values
            .insert(InputKey::ApprovalItemsTotal, DerivedValue::Count(rows));
        Ok(e)
    }

    /// 联合奖惩案例.
    pub fn cases(&mut self, out: impl Write, rows: u64) -> io::Result<Expected> {
        use ProblemKind as P;
        let mut out = io::BufWriter::new(out);
        writeln!(out, "统一社会信用代码,实施部门,奖惩措施,实施效果,日期")?;
        let w = self.window;
        let mut e = Expected {
            rows,
            ..Expected::default()
        };
        let kinds = [P::WrongCode, P::MissingField, P::BadDate];
        let mut valid = 0u64;
        for i in 0..rows {
            let mut code_cell = match self
                .sample
                .get(self.rng.below(self.sample.len().max(1) as u64) as usize)
            {
                Some(s) => s.key.to_code().unwrap_or_default(),
                None => make_uscc("91", "510802", self.next_seq + 1),
            };
            let mut departments = "市市场监管局、市税务局".to_string();
            let mut date_cell = fmt_date(self.rng.day_between(w.start, w.end), i);
            let fault = self.fault(&kinds);
            match fault {
                Some(P::WrongCode) => code_cell = corrupt_check(&code_cell),
                Some(P::MissingField) => departments = "市市场监管局".into(),
                Some(P::BadDate) => date_cell = "20190231".into(),
                _ => {}
            }
            if let Some(f) = fault {
                e.problem(f);
            }
            if !matches!(fault, Some(P::WrongCode | P::MissingField)) {
                valid += 1;
            }
            writeln!(
                out,
                "{code_cell},{departments},限制参与政府采购,已完成整改并缴纳罚款,{date_cell}"
            )?;
        }
        out.flush()?;
        e.values
            .insert(InputKey::JrpCases, DerivedValue::Count(valid));
        Ok(e)
    }

    /// Write all seven datasets of a city to `dir` (`register.csv`, `licences.csv`, …).
    pub fn city(&mut self, dir: &Path, sizes: &Sizes) -> io::Result<CityExpected> {
        let file = |name: &str| std::fs::File::create(dir.join(format!("{name}.csv")));
        let mut x = CityExpected::default();
        let reg = self.register(file("register")?, sizes.entities)?;
        let lic = self.decisions(DatasetKind::Licences, file("licences")?, sizes.licences)?;
        let pen = self.decisions(DatasetKind::Penalties, file("penalties")?, sizes.penalties)?;
        let lists = self.lists(file("lists")?, sizes.list_entries)?;
        let com = self.commitments(file("commitments")?, sizes.commitments)?;
        let app = self.approval_items(file("approval_items")?, sizes.approval_items)?;
        let cases = self.cases(file("cases")?, sizes.cases)?;
        let mut values: BTreeMap<InputKey, DerivedValue> = BTreeMap::new();
        let mut portal = 0u64;
        for e in [&reg, &lic, &pen, &lists, &com, &app, &cases] {
            for (k, v) in &e.values {
                if *k == InputKey::PortalRecords {
                    if let DerivedValue::Count(n) = v {
                        portal += n;
                    }
                } else if let (Some(DerivedValue::Count(a)), DerivedValue::Count(b)) =
                    (values.get(k).copied(), v)
                {
                    values.insert(*k, DerivedValue::Count(a + b));
                } else {
                    values.insert(*k, *v);
                }
            }
        }
        values.insert(InputKey::PortalRecords, DerivedValue::Count(portal));
        x.values = values;
        for (kind, e) in [
            (DatasetKind::Register, reg),
            (DatasetKind::Licences, lic),
            (DatasetKind::Penalties, pen),
            (DatasetKind::Lists, lists),
            (DatasetKind::Commitments, com),
            (DatasetKind::ApprovalItems, app),
            (DatasetKind::Cases, cases),
        ] {
            x.datasets.insert(kind, e);
        }
        Ok(x)
    }
}
