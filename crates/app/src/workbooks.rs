//! Excel round-trips: unit templates out, filled templates in (every problem by cell), and the score sheet.

use creditcity_store::SourceKind;

use crate::writing::file_source;
use creditcity_rubric::InputKind;
use creditcity_store::{ReviewState};

use crate::{Actor, AppError, CellProblem, Result, SetValue, Workspace, accounts, invalid, provenance, today, values};

impl Workspace {
    /// The Excel template of a unit (its inputs, tasks and evidence checklist) or, without
    /// a unit, of the whole city.
    pub async fn export_template(&self, unit: Option<&str>) -> Result<Vec<u8>> {
        use creditcity_excel::{ChecklistRow, InputRow, Template, TaskRow as XTask, Validation};
        let plan = self.plan().await?;
        let unit_row = match unit {
            Some(name) => Some(plan.units.iter().find(|u| u.name == name).cloned().ok_or_else(|| invalid("unit", format!("没有单位“{name}”")))?),
            None => None,
        };
        let (inputs, rules): (std::collections::BTreeSet<creditcity_rubric::InputId>, std::collections::BTreeSet<String>) = match &unit_row {
            Some(u) => (accounts::unit_inputs(&self.rubric, &plan.tasks, u), accounts::unit_rules(&plan.tasks, u)),
            None => (
                (0..self.rubric.inputs.len())
                    .filter_map(|i| self.rubric.inputs.get(i).and_then(|x| self.rubric.input_id(&x.key)))
                    .filter(|id| !matches!(self.rubric.input(*id).kind, InputKind::Judged { .. }))
                    .collect(),
                self.rubric.rules.iter().map(|r| r.id.clone()).collect(),
            ),
        };
        let current = self.store.current_values(self.assessment.id).await?;
        let mut rows: Vec<(usize, InputRow)> = Vec::new();
        for (rule, id) in accounts::input_rows(&self.rubric, &inputs, &rules) {
            let input = self.rubric.input(id);
            let row = current.iter().find(|v| v.input_key == input.key);
            let validation = match input.kind {
                InputKind::Bool => Validation::YesNo,
                InputKind::Count => match input.max {
                    Some(hi) => Validation::WholeBetween(i32::from(input.positive), hi as i32),
                    None => Validation::WholeAtLeast(i32::from(input.positive)),
                },
                InputKind::Ratio => Validation::DecimalBetween(0.0, 1.0),
                InputKind::Amount => Validation::DecimalAtLeast(0.0),
                InputKind::Number => Validation::DecimalAtLeast(input.min.unwrap_or(0.0)),
                InputKind::Judged { .. } | InputKind::List { .. } | InputKind::Table => Validation::None,
            };
            let mut hint = values::hint(input);
            if !input.at_most.is_empty() {
                let wholes: Vec<&str> = input.at_most.iter().map(|w| self.rubric.input(*w).label.as_str()).collect();
                hint.push_str(&format!(";不超过 {}", wholes.join(" + ")));
            }
            rows.push((rule.section, InputRow {
                key: input.key.clone(),
                rule: rule.id.clone(),
                label: input.label.clone(),
                unit_of_measure: input.unit.clone().unwrap_or_default(),
                hint,
                validation,
                current: row.map(|v| values::display_json(&v.value_json)).unwrap_or_default(),
                source: row.map(|v| provenance(v.source_kind, &v.source_ref)).unwrap_or_default(),
            }));
        }
        // A unit fills one sheet; the credit office one sheet per section.
        let sheets: Vec<(String, Vec<InputRow>)> = if unit_row.is_some() {
            vec![(creditcity_excel::INPUT_SHEET.to_owned(), rows.into_iter().map(|(_, r)| r).collect())]
        } else {
            self.rubric
                .sections
                .iter()
                .enumerate()
                .filter_map(|(i, sec)| {
                    let mine: Vec<InputRow> = rows.iter().filter(|(s, _)| *s == i).map(|(_, r)| r.clone()).collect();
                    (!mine.is_empty()).then(|| (creditcity_rubric::format::section_heading(&sec.id, &sec.title), mine))
                })
                .collect()
        };
        let tasks: Vec<XTask> = plan
            .tasks
            .iter()
            .filter(|t| unit_row.as_ref().is_none_or(|u| accounts::unit_tasks(std::slice::from_ref(*t), u).len() == 1))
            .map(|t| XTask {
                code: t.code.clone(),
                title: t.title.clone(),
                rules: t.rules.join("、"),
                due: t.due_date.clone().unwrap_or_default(),
                status: t.status.label().to_owned(),
            })
            .collect();
        let evidence = self.store.evidence(self.assessment.id).await?;
        let checklist: Vec<ChecklistRow> = self
            .rubric
            .rules
            .iter()
            .filter(|r| rules.contains(&r.id))
            .flat_map(|r| {
                let evidence = &evidence;
                r.evidence.iter().enumerate().map(move |(i, text)| ChecklistRow {
                    rule: r.id.clone(),
                    item: i + 1,
                    text: text.clone(),
                    files: evidence
                        .iter()
                        .filter(|e| e.rule_id == r.id && e.item == Some(i as i64 + 1))
                        .map(|e| e.original_name.clone())
                        .collect::<Vec<_>>()
                        .join("、"),
                })
            })
            .collect();
        let title = format!("{} · {}", self.assessment.city, unit.unwrap_or("全市"));
        creditcity_excel::write_template(&Template { title, sheets, tasks, checklist }).map_err(|e| invalid("template", e.to_string()))
    }

    /// The score sheet (.xlsx): every rule with its section, max, score, explanation,
    /// missing inputs, evidence present/required and responsible units; subtotals, gates
    /// and totals. `confirmed` scores accepted values only.
    pub async fn export_scores(&self, confirmed: bool) -> Result<Vec<u8>> {
        use creditcity_excel::{ScoreRow, ScoreSheet};
        let snap = self.snapshot(&today()).await?;
        let (a, card) = if confirmed { &snap.scores.confirmed } else { &snap.scores.working };
        let r = &self.rubric;
        let mut sections = Vec::new();
        for (i, sec) in r.sections.iter().enumerate() {
            let heading = creditcity_rubric::format::section_heading(&sec.id, &sec.title);
            let rows = r.rules[sec.rules.clone()]
                .iter()
                .zip(&card.rules[sec.rules.clone()])
                .map(|(rule, res)| {
                    let e = creditcity_rubric::explain_rule(r, rule, a, res);
                    let with = (1..=rule.evidence.len())
                        .filter(|n| snap.evidence.iter().any(|x| x.rule_id == rule.id && x.item == Some(*n as i64) && x.review_state != ReviewState::Returned))
                        .count();
                    let mut units: Vec<String> = Vec::new();
                    for t in snap.plan.tasks.iter().filter(|t| t.rules.contains(&rule.id)) {
                        for id in std::iter::once(t.lead_unit_id).chain(t.participating_unit_ids.iter().copied()) {
                            if let Some(u) = snap.plan.units.iter().find(|u| u.id == id) {
                                if !units.contains(&u.name) {
                                    units.push(u.name.clone());
                                }
                            }
                        }
                    }
                    ScoreRow {
                        section: sec.id.clone(),
                        id: rule.id.clone(),
                        title: rule.title.clone(),
                        max: rule.max,
                        score: res.score,
                        status: if res.missing.is_empty() { "已计分" } else { "待填报" }.to_owned(),
                        explanation: e.text,
                        target: e.target.unwrap_or_default(),
                        missing: res.missing.iter().map(|id| r.input(*id).key.clone()).collect::<Vec<_>>().join("、"),
                        evidence: format!("{with} / {}", rule.evidence.len()),
                        units: units.join("、"),
                    }
                })
                .collect();
            sections.push((heading, card.sections.get(i).copied().unwrap_or(0.0), sec.max, rows));
        }
        let gates = r
            .gates
            .iter()
            .zip(&card.gates)
            .map(|(g, res)| {
                let e = creditcity_rubric::explain_gate(r, g, a, res);
                (g.id.clone(), g.title.clone(), res.status.label().to_owned(), e.text)
            })
            .collect();
        let title = format!(
            "{} 社会信用体系建设示范城市评估评分表({} 版细则 · {}{})",
            self.assessment.city,
            self.assessment.rubric_edition,
            self.assessment.period,
            if confirmed { " · 确认得分" } else { " · 工作得分" }
        );
        let sheet = ScoreSheet { title, sections, gates, total: card.total, bonus: card.bonus, veto: card.veto };
        creditcity_excel::write_scores(&sheet).map_err(|e| invalid("scores", e.to_string()))
    }

    /// Imports a filled template: every problem is listed by sheet and cell, and nothing
    /// is applied if anything is wrong. Values are recorded with the file and its hash as
    /// their source. Returns how many values changed.
    pub async fn import_template(&self, bytes: &[u8], file_name: &str, unit: Option<&str>, actor: &Actor) -> Result<usize> {
        let filled = creditcity_excel::read_filled(bytes)?;
        let plan = self.plan().await?;
        let allowed = match unit {
            Some(name) => {
                let u = plan.units.iter().find(|u| u.name == name).ok_or_else(|| invalid("unit", format!("没有单位“{name}”")))?;
                Some(accounts::unit_inputs(&self.rubric, &plan.tasks, u))
            }
            None => None,
        };
        let current = self.store.current_raw(self.assessment.id).await?;
        let source_ref = file_source(file_name, bytes);
        let mut problems = Vec::new();
        let mut items = Vec::new();
        let mut cells = std::collections::HashMap::new();
        for f in &filled {
            let problem = |message: String| CellProblem { sheet: f.sheet.clone(), cell: f.cell.clone(), key: f.key.clone(), message };
            let Some(id) = self.rubric.input_id(&f.key) else {
                problems.push(problem("不是本细则的输入项".to_owned()));
                continue;
            };
            if allowed.as_ref().is_some_and(|a| !a.contains(&id)) || matches!(self.rubric.input(id).kind, InputKind::Judged { .. }) {
                problems.push(problem("此输入项不由本单位填报".to_owned()));
                continue;
            }
            if cells.insert(f.key.clone(), (f.sheet.clone(), f.cell.clone())).is_some() {
                problems.push(problem("同一输入项填了两次".to_owned()));
                continue;
            }
            let value = match values::parse_typed(self.rubric.input(id).kind, &f.text) {
                Ok(v) => v,
                Err(m) => {
                    problems.push(problem(m));
                    continue;
                }
            };
            if let Err(m) = self.rubric.check_value(id, &value) {
                problems.push(problem(format!("“{}”:{m}", f.text)));
                continue;
            }
            let unchanged = current.iter().any(|c| c.key == f.key && serde_json::from_str::<serde_json::Value>(&c.value_json).is_ok_and(|j| values::from_json(&j) == value));
            if unchanged {
                continue;
            }
            items.push(SetValue {
                key: f.key.clone(),
                text: value.to_toml(),
                unit: unit.map(str::to_owned),
                source: Some(SourceKind::File.as_str().to_owned()),
                source_ref: source_ref.clone(),
                note: String::new(),
                evidence_ids: Vec::new(),
            });
        }
        if !problems.is_empty() {
            return Err(AppError::Cells(problems));
        }
        if items.is_empty() {
            return Ok(0);
        }
        match self.set_values(&items, actor).await {
            Ok(rows) => Ok(rows.len()),
            Err(AppError::Inputs(errors)) => Err(AppError::Cells(
                errors
                    .0
                    .into_iter()
                    .map(|e| {
                        let (sheet, cell) = e
                            .key
                            .split(" + ")
                            .find_map(|k| cells.get(k).cloned())
                            .unwrap_or_else(|| (creditcity_excel::INPUT_SHEET.to_owned(), "—".to_owned()));
                        CellProblem { sheet, cell, key: e.key, message: e.message }
                    })
                    .collect(),
            )),
            Err(other) => Err(other),
        }
    }
}
