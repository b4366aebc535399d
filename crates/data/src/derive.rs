//! The rubric inputs of spec §5, derived from checked datasets, each with the counts
//! behind it and a Chinese formula an explanation can show.

use crate::check::{
    ApprovalFacts, CaseFacts, CommitmentFacts, DecisionFacts, Facts, ListEntry, ListFacts,
    RegisterFacts, RemovalReason,
};
use crate::code::CodeKey;
use crate::schema::DatasetKind;
use crate::{Checked, Settings};
use std::collections::{HashMap, HashSet};

/// The derived inputs, named by their rubric keys ([`InputKey::key`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InputKey {
    CodeConversionRate,
    CodeErrorRate,
    DecisionsTotal,
    DecisionsReported,
    PortalRecords,
    LegalEntities,
    NewMarketEntities,
    VoluntaryCommitments,
    SelfDisciplineCommitments,
    SubstitutionItems,
    ToleranceItems,
    ApprovalItemsTotal,
    OperatingBlacklist,
    RepairCommitments,
    BlacklistExited,
    RepairTrained,
    ReportSubjectsTotal,
    ReportsSubmitted,
    OperatingRedBlackSubjects,
    JrpCases,
}

impl InputKey {
    pub const ALL: [InputKey; 20] = [
        InputKey::CodeConversionRate,
        InputKey::CodeErrorRate,
        InputKey::DecisionsTotal,
        InputKey::DecisionsReported,
        InputKey::PortalRecords,
        InputKey::LegalEntities,
        InputKey::NewMarketEntities,
        InputKey::VoluntaryCommitments,
        InputKey::SelfDisciplineCommitments,
        InputKey::SubstitutionItems,
        InputKey::ToleranceItems,
        InputKey::ApprovalItemsTotal,
        InputKey::OperatingBlacklist,
        InputKey::RepairCommitments,
        InputKey::BlacklistExited,
        InputKey::RepairTrained,
        InputKey::ReportSubjectsTotal,
        InputKey::ReportsSubmitted,
        InputKey::OperatingRedBlackSubjects,
        InputKey::JrpCases,
    ];

    /// The input's key in the rubric (`s8.code_conversion_rate`, …).
    pub fn key(self) -> &'static str {
        match self {
            InputKey::CodeConversionRate => "s8.code_conversion_rate",
            InputKey::CodeErrorRate => "s8.code_error_rate",
            InputKey::DecisionsTotal => "s8.decisions_total",
            InputKey::DecisionsReported => "s8.decisions_reported",
            InputKey::PortalRecords => "s8.portal_records",
            InputKey::LegalEntities => "s8.legal_entities",
            InputKey::NewMarketEntities => "s10.new_market_entities",
            InputKey::VoluntaryCommitments => "s10.voluntary_commitments",
            InputKey::SelfDisciplineCommitments => "s10.self_discipline_commitments",
            InputKey::SubstitutionItems => "s10.substitution_items",
            InputKey::ToleranceItems => "s10.tolerance_items",
            InputKey::ApprovalItemsTotal => "s10.approval_items_total",
            InputKey::OperatingBlacklist => "s10.operating_blacklist",
            InputKey::RepairCommitments => "s10.repair_commitments",
            InputKey::BlacklistExited => "s10.blacklist_exited",
            InputKey::RepairTrained => "s10.repair_trained",
            InputKey::ReportSubjectsTotal => "s10.report_subjects_total",
            InputKey::ReportsSubmitted => "s10.reports_submitted",
            InputKey::OperatingRedBlackSubjects => "s10.operating_red_black_subjects",
            InputKey::JrpCases => "s10.jrp_cases",
        }
    }

    /// The problems that lower (or raise) this input: its failing records.
    pub fn failing(self, problems: &[crate::Problem]) -> impl Iterator<Item = &crate::Problem> {
        problems.iter().filter(move |p| p.feeds.contains(self))
    }

    pub fn from_key(key: &str) -> Option<InputKey> {
        InputKey::ALL.into_iter().find(|k| k.key() == key)
    }

    /// The datasets the input is derived from (all needed).
    pub fn datasets(self) -> &'static [DatasetKind] {
        use DatasetKind as D;
        match self {
            InputKey::CodeConversionRate
            | InputKey::CodeErrorRate
            | InputKey::LegalEntities
            | InputKey::NewMarketEntities => &[D::Register],
            InputKey::DecisionsTotal | InputKey::DecisionsReported => &[D::Licences, D::Penalties],
            InputKey::PortalRecords => &[D::Licences, D::Penalties, D::Register],
            InputKey::VoluntaryCommitments | InputKey::SelfDisciplineCommitments => {
                &[D::Commitments]
            }
            InputKey::SubstitutionItems
            | InputKey::ToleranceItems
            | InputKey::ApprovalItemsTotal => &[D::ApprovalItems],
            InputKey::OperatingBlacklist
            | InputKey::BlacklistExited
            | InputKey::RepairTrained
            | InputKey::ReportSubjectsTotal
            | InputKey::ReportsSubmitted
            | InputKey::OperatingRedBlackSubjects => &[D::Lists, D::Register],
            InputKey::RepairCommitments => &[D::Lists, D::Register, D::Commitments],
            InputKey::JrpCases => &[D::Cases],
        }
    }
}

/// A derived value: a count, or a ratio kept as its two counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DerivedValue {
    Count(u64),
    Ratio { numerator: u64, denominator: u64 },
}

impl DerivedValue {
    /// The number the rubric takes (a ratio of 0/0 is 0).
    pub fn as_f64(self) -> f64 {
        match self {
            DerivedValue::Count(n) => n as f64,
            DerivedValue::Ratio {
                numerator,
                denominator,
            } => {
                if denominator == 0 {
                    0.0
                } else {
                    numerator as f64 / denominator as f64
                }
            }
        }
    }
}

/// A labelled count behind a derived value (`错码` 37).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    pub label: &'static str,
    pub count: u64,
}

/// One derived input.
#[derive(Clone, Debug)]
pub struct Derived {
    pub key: InputKey,
    pub value: DerivedValue,
    /// The counts behind the value, in the order the formula uses them.
    pub parts: Vec<Part>,
    /// The datasets it came from.
    pub datasets: Vec<DatasetKind>,
    /// Chinese: how the value was computed, with the numbers.
    pub formula: String,
}

/// An input that could not be derived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotDerived {
    pub key: InputKey,
    /// Chinese: what is missing.
    pub reason: String,
}

/// Every input derivable from the datasets at hand.
#[derive(Clone, Debug, Default)]
pub struct Derivation {
    pub values: Vec<Derived>,
    pub not_derived: Vec<NotDerived>,
}

impl Derivation {
    pub fn get(&self, key: InputKey) -> Option<&Derived> {
        self.values.iter().find(|d| d.key == key)
    }
}

/// The checked datasets, any of them absent.
#[derive(Clone, Copy, Debug, Default)]
pub struct Datasets<'a> {
    pub register: Option<&'a RegisterFacts>,
    pub licences: Option<&'a DecisionFacts>,
    pub penalties: Option<&'a DecisionFacts>,
    pub lists: Option<&'a ListFacts>,
    pub commitments: Option<&'a CommitmentFacts>,
    pub approval_items: Option<&'a ApprovalFacts>,
    pub cases: Option<&'a CaseFacts>,
}

impl<'a> Datasets<'a> {
    /// Add a checked dataset (replacing one of the same kind).
    pub fn add(&mut self, checked: &'a Checked) {
        self.add_facts(&checked.facts);
    }

    /// Add a dataset's facts (kept from an earlier check, see [`Facts::decode`]).
    pub fn add_facts(&mut self, facts: &'a Facts) {
        match facts {
            Facts::Register(f) => self.register = Some(f),
            Facts::Licences(f) => self.licences = Some(f),
            Facts::Penalties(f) => self.penalties = Some(f),
            Facts::Lists(f) => self.lists = Some(f),
            Facts::Commitments(f) => self.commitments = Some(f),
            Facts::ApprovalItems(f) => self.approval_items = Some(f),
            Facts::Cases(f) => self.cases = Some(f),
        }
    }

    fn has(&self, kind: DatasetKind) -> bool {
        match kind {
            DatasetKind::Register => self.register.is_some(),
            DatasetKind::Licences => self.licences.is_some(),
            DatasetKind::Penalties => self.penalties.is_some(),
            DatasetKind::Lists => self.lists.is_some(),
            DatasetKind::Commitments => self.commitments.is_some(),
            DatasetKind::ApprovalItems => self.approval_items.is_some(),
            DatasetKind::Cases => self.cases.is_some(),
        }
    }
}

/// `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn percent(num: u64, den: u64) -> String {
    if den == 0 {
        return "—".into();
    }
    let p = num as f64 * 100.0 / den as f64;
    let s = if p != 0.0 && p < 0.1 {
        format!("{p:.3}")
    } else {
        format!("{p:.2}")
    };
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

struct Builder<'a> {
    datasets: Datasets<'a>,
    out: Derivation,
}

impl Builder<'_> {
    fn available(&mut self, key: InputKey) -> bool {
        let missing: Vec<&str> = key
            .datasets()
            .iter()
            .filter(|k| !self.datasets.has(**k))
            .map(|k| k.label())
            .collect();
        if missing.is_empty() {
            true
        } else {
            self.out.not_derived.push(NotDerived {
                key,
                reason: format!("尚未导入:{}", missing.join("、")),
            });
            false
        }
    }

    fn count(&mut self, key: InputKey, n: u64, parts: Vec<Part>, formula: String) {
        self.push(key, DerivedValue::Count(n), parts, formula);
    }

    fn push(&mut self, key: InputKey, value: DerivedValue, parts: Vec<Part>, formula: String) {
        let mut datasets: Vec<DatasetKind> = key.datasets().to_vec();
        // Optional contributors.
        if key == InputKey::PortalRecords {
            if self.datasets.lists.is_some() {
                datasets.push(DatasetKind::Lists);
            }
            if self.datasets.commitments.is_some() {
                datasets.push(DatasetKind::Commitments);
            }
        }
        self.out.values.push(Derived {
            key,
            value,
            parts,
            datasets,
            formula,
        });
    }
}

fn part(label: &'static str, count: u64) -> Part {
    Part { label, count }
}

/// Derive every input the datasets allow (spec §5); see `docs/datasets.md` for each rule.
pub fn derive(datasets: &Datasets<'_>, settings: &Settings) -> Derivation {
    let w = settings.window;
    let mut b = Builder {
        datasets: *datasets,
        out: Derivation::default(),
    };

    // Section 8: the register.
    if let (true, Some(r)) = (b.available(InputKey::CodeConversionRate), datasets.register) {
        let (n, d) = (r.converted_at_start, r.existing_at_start);
        let formula = format!(
            "存量代码转换率 = {} 已赋码主体 ÷ {} 存量主体({} 前成立且未注销、迁出)= {}",
            thousands(n),
            thousands(d),
            w.start,
            percent(n, d)
        );
        b.push(
            InputKey::CodeConversionRate,
            DerivedValue::Ratio {
                numerator: n,
                denominator: d,
            },
            vec![
                part("已赋码主体", n),
                part("未赋码主体", d - n),
                part("存量主体", d),
            ],
            formula,
        );
    }
    if let (true, Some(r)) = (b.available(InputKey::CodeErrorRate), datasets.register) {
        let n = r.wrong_codes + r.duplicate_codes;
        let formula = format!(
            "重错码率 = ({} 错码 + {} 重码) ÷ {} 有代码的主体 = {}",
            thousands(r.wrong_codes),
            thousands(r.duplicate_codes),
            thousands(r.with_code),
            percent(n, r.with_code)
        );
        b.push(
            InputKey::CodeErrorRate,
            DerivedValue::Ratio {
                numerator: n,
                denominator: r.with_code,
            },
            vec![
                part("错码", r.wrong_codes),
                part("重码", r.duplicate_codes),
                part("有代码的主体", r.with_code),
            ],
            formula,
        );
    }
    if let (true, Some(r)) = (b.available(InputKey::LegalEntities), datasets.register) {
        let formula = format!(
            "{} 时存续的法人和非法人组织 {} 户",
            w.end,
            thousands(r.legal_at_end)
        );
        b.count(
            InputKey::LegalEntities,
            r.legal_at_end,
            vec![part("法人和非法人组织", r.legal_at_end)],
            formula,
        );
    }
    if let (true, Some(r)) = (b.available(InputKey::NewMarketEntities), datasets.register) {
        let formula = format!(
            "{} 至 {} 成立的市场主体 {} 户",
            w.start,
            w.end,
            thousands(r.new_in_window)
        );
        b.count(
            InputKey::NewMarketEntities,
            r.new_in_window,
            vec![part("新增市场主体", r.new_in_window)],
            formula,
        );
    }

    // Section 8: licences and penalties.
    if let (true, Some(l), Some(p)) = (
        b.available(InputKey::DecisionsTotal),
        datasets.licences,
        datasets.penalties,
    ) {
        let n = l.in_window + p.in_window;
        let formula = format!(
            "{} 至 {} 作出的行政许可 {} 条 + 行政处罚 {} 条 = {} 条",
            w.start,
            w.end,
            thousands(l.in_window),
            thousands(p.in_window),
            thousands(n)
        );
        b.count(
            InputKey::DecisionsTotal,
            n,
            vec![part("行政许可", l.in_window), part("行政处罚", p.in_window)],
            formula,
        );
    }
    if let (true, Some(l), Some(p)) = (
        b.available(InputKey::DecisionsReported),
        datasets.licences,
        datasets.penalties,
    ) {
        if l.has_publication && p.has_publication {
            let n = l.reported + p.reported;
            let on_time = l.on_time + p.on_time;
            let late = l.late + p.late;
            let undecided = l.undecided + p.undecided;
            let total = l.in_window + p.in_window;
            let formula = format!(
                "截至 {} 已公示 {} 条(许可 {} + 处罚 {}),公示率 {};其中按期(7 个工作日内){} 条、逾期 {} 条{},及时率 {}",
                w.end,
                thousands(n),
                thousands(l.reported),
                thousands(p.reported),
                percent(n, total),
                thousands(on_time),
                thousands(late),
                if undecided > 0 {
                    format!("、无法判定 {} 条", thousands(undecided))
                } else {
                    String::new()
                },
                percent(on_time, n)
            );
            b.count(
                InputKey::DecisionsReported,
                n,
                vec![
                    part("已公示", n),
                    part("按期公示", on_time),
                    part("逾期公示", late),
                    part("无法判定是否逾期", undecided),
                    part("未公示", total - n),
                    part("行政许可、行政处罚信息总数", total),
                ],
                formula,
            );
        } else {
            let basis = match settings.publication {
                crate::PublicationBasis::PublicationDate => "公示日期",
                crate::PublicationBasis::UploadTime => "上传时间",
            };
            b.out.not_derived.push(NotDerived {
                key: InputKey::DecisionsReported,
                reason: format!("数据中没有“{basis}”列,无法判断是否已公示"),
            });
        }
    }
    if let (true, Some(l), Some(p), Some(r)) = (
        b.available(InputKey::PortalRecords),
        datasets.licences,
        datasets.penalties,
        datasets.register,
    ) {
        let lists = datasets.lists.map_or(0, |x| x.portal_records);
        let commitments = datasets.commitments.map_or(0, |x| x.portal_records);
        let n = l.portal_records + p.portal_records + lists + commitments;
        let formula = format!(
            "截至 {} 公示的法人和非法人组织信息:许可 {} + 处罚 {} + 红黑名单 {} + 信用承诺 {} = {} 条,户均 {:.2} 条(÷ {} 户)",
            w.end,
            thousands(l.portal_records),
            thousands(p.portal_records),
            thousands(lists),
            thousands(commitments),
            thousands(n),
            if r.legal_at_end == 0 {
                0.0
            } else {
                n as f64 / r.legal_at_end as f64
            },
            thousands(r.legal_at_end)
        );
        b.count(
            InputKey::PortalRecords,
            n,
            vec![
                part("行政许可", l.portal_records),
                part("行政处罚", p.portal_records),
                part("红黑名单", lists),
                part("信用承诺", commitments),
            ],
            formula,
        );
    }

    // Section 10: commitments and approval items.
    if let (true, Some(c)) = (
        b.available(InputKey::VoluntaryCommitments),
        datasets.commitments,
    ) {
        let formula = format!(
            "{} 至 {} 签署的主动公示型承诺 {} 份",
            w.start,
            w.end,
            thousands(c.voluntary_in_window)
        );
        b.count(
            InputKey::VoluntaryCommitments,
            c.voluntary_in_window,
            vec![part("主动公示型承诺", c.voluntary_in_window)],
            formula,
        );
    }
    if let (true, Some(c)) = (
        b.available(InputKey::SelfDisciplineCommitments),
        datasets.commitments,
    ) {
        let formula = format!(
            "{} 至 {} 签署的行业自律型承诺 {} 份",
            w.start,
            w.end,
            thousands(c.self_discipline_in_window)
        );
        b.count(
            InputKey::SelfDisciplineCommitments,
            c.self_discipline_in_window,
            vec![part("行业自律型承诺", c.self_discipline_in_window)],
            formula,
        );
    }
    if let (true, Some(a)) = (
        b.available(InputKey::SubstitutionItems),
        datasets.approval_items,
    ) {
        let n = a.substitution.min(19);
        let scope = if a.has_35_column {
            "属于国发〔2018〕35号19项且"
        } else {
            ""
        };
        let capped = if a.substitution > 19 {
            format!("(标记 {} 项,以 19 项为上限)", a.substitution)
        } else {
            String::new()
        };
        let formula = format!("{scope}实行审批替代型承诺的审批事项 {n} 项{capped}");
        b.count(
            InputKey::SubstitutionItems,
            n,
            vec![part("实行审批替代型承诺的事项", a.substitution)],
            formula,
        );
    }
    if let (true, Some(a)) = (
        b.available(InputKey::ToleranceItems),
        datasets.approval_items,
    ) {
        let formula = format!(
            "接受容缺受理型承诺的审批事项 {} 项(共 {} 项)",
            thousands(a.tolerance),
            thousands(a.total)
        );
        b.count(
            InputKey::ToleranceItems,
            a.tolerance,
            vec![part("接受容缺受理型承诺的事项", a.tolerance)],
            formula,
        );
    }
    if let (true, Some(a)) = (
        b.available(InputKey::ApprovalItemsTotal),
        datasets.approval_items,
    ) {
        let formula = format!("行政审批事项目录共 {} 项", thousands(a.total));
        b.count(
            InputKey::ApprovalItemsTotal,
            a.total,
            vec![part("审批事项", a.total)],
            formula,
        );
    }

    // Section 10: lists against the register.
    let lists_ok = datasets.lists.is_some() && datasets.register.is_some();
    if let (Some(l), Some(r)) = (
        datasets.lists.filter(|_| lists_ok),
        datasets.register.filter(|_| lists_ok),
    ) {
        let s = ListSummary::new(l, r, settings);
        if b.available(InputKey::OperatingBlacklist) {
            let formula = format!(
                "截至 {} 在黑名单上的主体 {} 户,除去吊销 {}、经营异常 {}、失联 {} 户后为 {} 户",
                w.start,
                thousands(s.black_at_start),
                thousands(s.excluded_revoked),
                thousands(s.excluded_abnormal),
                thousands(s.excluded_lost),
                thousands(s.operating.len() as u64)
            );
            b.count(
                InputKey::OperatingBlacklist,
                s.operating.len() as u64,
                vec![
                    part("黑名单主体", s.black_at_start),
                    part("吊销", s.excluded_revoked),
                    part("经营异常", s.excluded_abnormal),
                    part("失联", s.excluded_lost),
                ],
                formula,
            );
        }
        if b.available(InputKey::BlacklistExited) {
            let formula = format!(
                "在运营黑名单主体中,截至 {} 经整改或信用修复移出的 {} 户(共 {} 户,{})",
                w.end,
                thousands(s.exited),
                thousands(s.operating.len() as u64),
                percent(s.exited, s.operating.len() as u64)
            );
            b.count(
                InputKey::BlacklistExited,
                s.exited,
                vec![
                    part("经整改移出", s.exited),
                    part("在运营黑名单主体", s.operating.len() as u64),
                ],
                formula,
            );
        }
        if b.available(InputKey::RepairTrained) {
            let formula = format!(
                "在运营黑名单主体中,截至 {} 接受信用修复培训的 {} 户(共 {} 户,{})",
                w.end,
                thousands(s.trained),
                thousands(s.operating.len() as u64),
                percent(s.trained, s.operating.len() as u64)
            );
            b.count(
                InputKey::RepairTrained,
                s.trained,
                vec![
                    part("接受培训", s.trained),
                    part("在运营黑名单主体", s.operating.len() as u64),
                ],
                formula,
            );
        }
        if b.available(InputKey::ReportSubjectsTotal) {
            let formula = format!(
                "在运营黑名单主体 {} 户 ∪ 公共信用综合评价为“差”的主体 {} 户 = {} 户",
                thousands(s.operating.len() as u64),
                thousands(s.poor),
                thousands(s.report_subjects)
            );
            b.count(
                InputKey::ReportSubjectsTotal,
                s.report_subjects,
                vec![
                    part("在运营黑名单主体", s.operating.len() as u64),
                    part("评价为差的主体", s.poor),
                ],
                formula,
            );
        }
        if b.available(InputKey::ReportsSubmitted) {
            let formula = format!(
                "截至 {} 提交信用报告的 {} 户(共 {} 户,{})",
                w.end,
                thousands(s.reports),
                thousands(s.report_subjects),
                percent(s.reports, s.report_subjects)
            );
            b.count(
                InputKey::ReportsSubmitted,
                s.reports,
                vec![
                    part("提交信用报告", s.reports),
                    part("应提交主体", s.report_subjects),
                ],
                formula,
            );
        }
        if b.available(InputKey::OperatingRedBlackSubjects) {
            let n = s.red_at_start + s.operating.len() as u64;
            let formula = format!(
                "截至 {} 在红名单上的主体 {} 户 + 在运营黑名单主体 {} 户 = {} 户",
                w.start,
                thousands(s.red_at_start),
                thousands(s.operating.len() as u64),
                thousands(n)
            );
            b.count(
                InputKey::OperatingRedBlackSubjects,
                n,
                vec![
                    part("红名单主体", s.red_at_start),
                    part("在运营黑名单主体", s.operating.len() as u64),
                ],
                formula,
            );
        }
        if b.available(InputKey::RepairCommitments) {
            if let Some(c) = datasets.commitments {
                let n = c
                    .repair
                    .iter()
                    .filter(|(k, d)| *d <= w.end && s.operating.contains(k))
                    .map(|(k, _)| *k)
                    .collect::<HashSet<_>>()
                    .len() as u64;
                let formula = format!(
                    "截至 {} 签署信用修复型承诺的在运营黑名单主体 {} 户(共 {} 户,{})",
                    w.end,
                    thousands(n),
                    thousands(s.operating.len() as u64),
                    percent(n, s.operating.len() as u64)
                );
                b.count(
                    InputKey::RepairCommitments,
                    n,
                    vec![
                        part("签署修复承诺", n),
                        part("在运营黑名单主体", s.operating.len() as u64),
                    ],
                    formula,
                );
            }
        }
    } else {
        for key in [
            InputKey::OperatingBlacklist,
            InputKey::BlacklistExited,
            InputKey::RepairTrained,
            InputKey::ReportSubjectsTotal,
            InputKey::ReportsSubmitted,
            InputKey::OperatingRedBlackSubjects,
            InputKey::RepairCommitments,
        ] {
            b.available(key);
        }
    }

    if let (true, Some(c)) = (b.available(InputKey::JrpCases), datasets.cases) {
        let formula = format!(
            "有效联合奖惩案例(两个以上部门实施、有主体代码和实施效果){} 个(共 {} 个)",
            thousands(c.valid),
            thousands(c.total)
        );
        b.count(
            InputKey::JrpCases,
            c.valid,
            vec![part("有效案例", c.valid), part("案例总数", c.total)],
            formula,
        );
    }
    b.out.values.sort_by_key(|d| d.key);
    b.out.not_derived.sort_by_key(|d| d.key);
    b.out
}

/// The lists read against the register at the window's dates.
struct ListSummary {
    operating: HashSet<CodeKey>,
    black_at_start: u64,
    excluded_revoked: u64,
    excluded_abnormal: u64,
    excluded_lost: u64,
    exited: u64,
    trained: u64,
    poor: u64,
    report_subjects: u64,
    reports: u64,
    red_at_start: u64,
}

impl ListSummary {
    fn new(lists: &ListFacts, register: &RegisterFacts, settings: &Settings) -> ListSummary {
        let w = settings.window;
        let on_at_start =
            |e: &ListEntry| e.decided <= w.start && e.removed.is_none_or(|r| r > w.start);
        let mut black: HashMap<CodeKey, Vec<&ListEntry>> = HashMap::new();
        let mut red: HashSet<CodeKey> = HashSet::new();
        for e in &lists.entries {
            if on_at_start(e) {
                if e.black {
                    black.entry(e.code).or_default().push(e);
                } else {
                    red.insert(e.code);
                }
            }
        }
        let black_at_start = black.len() as u64;
        let (mut revoked, mut abnormal, mut lost) = (0, 0, 0);
        let mut operating = HashSet::new();
        for code in black.keys() {
            // One reason each, in the order the rubric names them.
            match register.flagged.get(code) {
                Some(f) if f.abnormal => abnormal += 1,
                Some(f) if f.revoked => revoked += 1,
                Some(f) if f.lost => lost += 1,
                _ => {
                    operating.insert(*code);
                }
            }
        }
        let trained_codes: HashSet<CodeKey> = lists
            .entries
            .iter()
            .filter(|e| e.trained.is_some_and(|t| t <= w.end))
            .map(|e| e.code)
            .collect();
        let mut exited = 0;
        let mut trained = 0;
        for code in &operating {
            let entries = black.get(code).map_or(&[][..], Vec::as_slice);
            if entries.iter().any(|e| {
                e.removed.is_some_and(|r| r <= w.end)
                    && matches!(
                        e.reason,
                        Some(RemovalReason::Rectified | RemovalReason::Repaired)
                    )
            }) {
                exited += 1;
            }
            if trained_codes.contains(code) {
                trained += 1;
            }
        }
        let poor_set: HashSet<CodeKey> = register
            .flagged
            .iter()
            .filter(|(_, f)| f.rated_poor && f.existing_at_start)
            .map(|(k, _)| *k)
            .collect();
        let subjects: HashSet<CodeKey> = operating.union(&poor_set).copied().collect();
        let mut list_reports: HashMap<CodeKey, bool> = HashMap::new();
        for e in &lists.entries {
            if e.report.is_some_and(|d| d <= w.end) {
                list_reports.insert(e.code, true);
            }
        }
        let reports = subjects
            .iter()
            .filter(|k| {
                list_reports.contains_key(k)
                    || register
                        .flagged
                        .get(k)
                        .is_some_and(|f| f.report.is_some_and(|d| d <= w.end))
            })
            .count() as u64;
        ListSummary {
            black_at_start,
            excluded_revoked: revoked,
            excluded_abnormal: abnormal,
            excluded_lost: lost,
            exited,
            trained,
            poor: poor_set.len() as u64,
            report_subjects: subjects.len() as u64,
            reports,
            red_at_start: red.len() as u64,
            operating,
        }
    }
}
