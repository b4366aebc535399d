//! A city's input values: parsed from an assessment file (or built by a program),
//! validated against a rubric, and held as an [`Assessment`] the engine can trust.
//!
//! Validation reports every problem at once; each names the key, the value and the
//! constraint. Missing inputs are not errors: the rules that need them are incomplete.

use std::collections::HashSet;
use std::fmt;

use toml::de::{DeTable, DeValue};

use crate::format;
use crate::load::line_of;
use crate::model::{Denominator, InputId, InputKind, Measure, MeasureForm, Rubric, Scoring};

/// A validated input value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    Number(f64),
    List(Vec<f64>),
    /// Name → count, in the order given.
    Table(Vec<(String, f64)>),
}

/// A value as it arrives from a file, a form or a spreadsheet, before validation.
#[derive(Debug, Clone, PartialEq)]
pub enum RawValue {
    Bool(bool),
    Integer(i64),
    Float(f64),
    String(String),
    Array(Vec<RawValue>),
    Table(Vec<(String, RawValue)>),
    /// Anything else (a date, say), kept as its text for the error message.
    Other(String),
}

impl fmt::Display for RawValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bool(b) => write!(f, "{b}"),
            Self::Integer(i) => write!(f, "{i}"),
            Self::Float(x) => write!(f, "{x}"),
            Self::String(s) => write!(f, "{s:?}"),
            Self::Array(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Self::Table(entries) => {
                f.write_str("{ ")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k:?} = {v}")?;
                }
                f.write_str(" }")
            }
            Self::Other(s) => f.write_str(s),
        }
    }
}

impl RawValue {
    /// Parses one TOML value (`0.018`, `true`, `[1, 2]`, `{ "信易贷" = 5 }`).
    pub fn parse_toml(text: &str) -> Result<Self, String> {
        DeValue::parse(text).map(|v| raw(v.get_ref())).map_err(|e| e.message().trim().to_owned())
    }

    /// The value as TOML text, as an assessment file writes it.
    pub fn to_toml(&self) -> String {
        match self {
            Self::Bool(b) => b.to_string(),
            Self::Integer(i) => i.to_string(),
            Self::Float(x) if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 => format!("{x:.1}"),
            Self::Float(x) => format!("{x}"),
            Self::String(s) | Self::Other(s) => toml_string(s),
            Self::Array(items) => format!("[{}]", items.iter().map(Self::to_toml).collect::<Vec<_>>().join(", ")),
            Self::Table(entries) => {
                let body: Vec<String> = entries.iter().map(|(k, v)| format!("{} = {}", toml_string(k), v.to_toml())).collect();
                if body.is_empty() { "{}".to_owned() } else { format!("{{ {} }}", body.join(", ")) }
            }
        }
    }
}

fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The `[assessment]` table: who and what the values are about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta {
    pub city: Option<String>,
    /// The rubric edition the values were written for.
    pub rubric: Option<String>,
    pub period: Option<String>,
    pub as_of: Option<String>,
}

/// Validated values of one city's assessment, indexed like [`Rubric::inputs`].
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub meta: Meta,
    values: Vec<Option<Value>>,
    /// The same values flattened for the engine's hot path: a number, 1/0 for a
    /// bool, the length of a list or table, NaN when absent. Kept in step by `put`.
    scalars: Vec<f64>,
}

impl Assessment {
    /// An assessment with no value yet.
    pub fn empty(rubric: &Rubric, meta: Meta) -> Self {
        let n = rubric.inputs.len();
        Self { meta, values: vec![None; n], scalars: vec![f64::NAN; n] }
    }

    fn put(&mut self, id: InputId, value: Value) {
        let i = id.index();
        self.scalars[i] = match &value {
            Value::Bool(b) => f64::from(u8::from(*b)),
            Value::Number(x) => *x,
            Value::List(items) => items.len() as f64,
            Value::Table(entries) => entries.len() as f64,
        };
        self.values[i] = Some(value);
    }

    /// Replaces one value, unchecked: for what-if searches inside the crate, which
    /// only move a value within its valid range.
    pub(crate) fn replace(&mut self, id: InputId, value: Value) {
        if id.index() < self.values.len() {
            self.put(id, value);
        }
    }

    pub fn value(&self, id: InputId) -> Option<&Value> {
        self.values.get(id.index()).and_then(Option::as_ref)
    }

    /// Whether the input has a value.
    #[inline]
    pub fn has(&self, id: InputId) -> bool {
        self.scalars.get(id.index()).is_some_and(|x| !x.is_nan())
    }

    /// The value of a bool input.
    #[inline]
    pub fn bool(&self, id: InputId) -> Option<bool> {
        match self.value(id)? {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The value of a single-number input (count, ratio, amount, number, judged).
    #[inline]
    pub fn number(&self, id: InputId) -> Option<f64> {
        match self.value(id)? {
            Value::Number(_) => self.scalars.get(id.index()).copied(),
            _ => None,
        }
    }

    /// A bool or number input as a number, without checking its type: for the
    /// engine, whose rubric has checked every input's type when it was loaded.
    #[inline]
    pub(crate) fn scalar(&self, id: InputId) -> Option<f64> {
        let x = *self.scalars.get(id.index())?;
        if x.is_nan() { None } else { Some(x) }
    }

    /// How many inputs have a value.
    pub fn present(&self) -> usize {
        self.values.iter().filter(|v| v.is_some()).count()
    }

    /// The values as raw entries, in rubric order: what [`Rubric::validate`] takes
    /// back. For what-ifs (change some entries, validate again) and for export.
    pub fn entries(&self, rubric: &Rubric) -> Vec<Entry> {
        self.values()
            .map(|(id, v)| Entry { key: rubric.input(id).key.clone(), value: to_raw(rubric.input(id).kind, v), line: None })
            .collect()
    }

    /// Every present value with its id, in rubric order.
    pub fn values(&self) -> impl Iterator<Item = (InputId, &Value)> {
        self.values.iter().enumerate().filter_map(|(i, v)| v.as_ref().map(|v| (InputId(i), v)))
    }
}

/// One invalid input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The key as written (`s7.npl_ratio`, `assessment.rubric`).
    pub key: String,
    /// Line in the assessment file, when the value came from one.
    pub line: Option<usize>,
    /// What is wrong, with the value and the constraint.
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}: {}", self.key, self.message),
            None => write!(f, "{}: {}", self.key, self.message),
        }
    }
}

/// Every problem found in one assessment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InputErrors(pub Vec<InputError>);

impl fmt::Display for InputErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// One value to validate: its key, the raw value and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub value: RawValue,
    pub line: Option<usize>,
}

impl Rubric {
    /// Parses an assessment file (TOML with dotted keys) and validates it.
    pub fn parse_assessment(&self, text: &str) -> Result<Assessment, InputErrors> {
        let doc = DeTable::parse(text).map_err(|e| {
            InputErrors(vec![InputError {
                key: "(syntax)".to_owned(),
                line: e.span().map(|s| line_of(text, s.start)),
                message: format!("TOML 语法错误:{}", e.message().trim()),
            }])
        })?;
        let mut errors = Vec::new();
        let mut meta = Meta::default();
        let mut entries = Vec::new();
        let prefixes = &self.prefixes;
        for (key, value) in doc.get_ref() {
            let line = line_of(text, key.span().start);
            if key.get_ref() == "assessment" {
                read_meta(value, text, &mut meta, &mut errors);
            } else {
                flatten(self, prefixes, key.get_ref().to_string(), value, text, line, &mut entries, &mut errors);
            }
        }
        match self.validate(meta, entries) {
            Ok(a) if errors.is_empty() => Ok(a),
            Ok(_) => Err(InputErrors(errors)),
            Err(InputErrors(more)) => {
                errors.extend(more);
                errors.sort_by_key(|e| e.line.unwrap_or(usize::MAX));
                Err(InputErrors(errors))
            }
        }
    }

    /// Validates raw values against this rubric. Every problem is reported.
    pub fn validate(&self, meta: Meta, entries: Vec<Entry>) -> Result<Assessment, InputErrors> {
        let mut errors = Vec::new();
        if let Some(edition) = &meta.rubric {
            if edition != &self.edition {
                errors.push(InputError {
                    key: "assessment.rubric".to_owned(),
                    line: None,
                    message: format!(
                        "= {edition:?}:此文件按 {edition} 版细则填写,但当前使用的是 {} 版细则(可用 --rubric 指定细则文件)",
                        self.edition
                    ),
                });
            }
        }
        let mut assessment = Assessment::empty(self, meta);
        let mut lines = vec![None; self.inputs.len()];
        let mut seen = HashSet::new();
        for entry in entries {
            let Some(id) = self.input_id(&entry.key) else {
                errors.push(unknown_key(self, &entry.key, entry.line));
                continue;
            };
            if !seen.insert(id) {
                errors.push(InputError { key: entry.key, line: entry.line, message: "重复填写".to_owned() });
                continue;
            }
            lines[id.index()] = entry.line;
            match self.check_value(id, &entry.value) {
                Ok(v) => assessment.put(id, v),
                Err(message) => errors.push(InputError {
                    key: entry.key,
                    line: entry.line,
                    message: format!("= {}:{message}", entry.value),
                }),
            }
        }
        self.check_relations(&assessment, &lines, &mut errors);
        if errors.is_empty() { Ok(assessment) } else { Err(InputErrors(errors)) }
    }

    /// Checks one value against its input's type and bounds (relations with other
    /// inputs are checked by [`Rubric::validate`]).
    pub fn check_value(&self, id: InputId, raw: &RawValue) -> Result<Value, String> {
        let input = self.input(id);
        let value = match input.kind {
            InputKind::Bool => match raw {
                RawValue::Bool(b) => Value::Bool(*b),
                _ => return Err("应为 true(是)或 false(否)".to_owned()),
            },
            InputKind::Count => Value::Number(count(raw)?),
            InputKind::Ratio => {
                let x = number(raw)?;
                if !(0.0..=1.0).contains(&x) {
                    let hint = if x > 1.0 && x <= 100.0 {
                        format!(";比率以小数填写,{x}% 应写作 {}", format::plain(x / 100.0))
                    } else {
                        String::new()
                    };
                    return Err(format!("应为 0 到 1 之间的比率{hint}"));
                }
                Value::Number(x)
            }
            InputKind::Amount => {
                let x = number(raw)?;
                if x < 0.0 {
                    return Err("金额(元)不能为负数".to_owned());
                }
                Value::Number(x)
            }
            InputKind::Number => Value::Number(number(raw)?),
            InputKind::Judged { max } => {
                let x = number(raw)?;
                if !(0.0..=max).contains(&x) {
                    return Err(format!("酌情计分应在 0 到 {} 分之间", format::plain(max)));
                }
                Value::Number(x)
            }
            InputKind::List { integer, distinct, len } => {
                let RawValue::Array(items) = raw else {
                    return Err("应为数组,如 [1, 2, 3]".to_owned());
                };
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let x = if integer { count(item) } else { number(item) }
                        .map_err(|m| format!("第 {} 项 {item}:{m}", i + 1))?;
                    out.push(x);
                }
                if let Some(n) = len {
                    if out.len() != n {
                        return Err(format!("应恰好有 {n} 项,实有 {} 项", out.len()));
                    }
                }
                if distinct {
                    let mut sorted = out.clone();
                    sorted.sort_by(f64::total_cmp);
                    if let Some(w) = sorted.windows(2).find(|w| w[0].total_cmp(&w[1]).is_eq()) {
                        return Err(format!("{} 重复出现,各项应互不相同", format::plain(w[0])));
                    }
                }
                for x in &out {
                    bounds(*x, input.min, input.max).map_err(|m| format!("{} {m}", format::plain(*x)))?;
                }
                Value::List(out)
            }
            InputKind::Table => {
                let RawValue::Table(entries) = raw else {
                    return Err("应为表,如 { \"信易贷\" = 6 }".to_owned());
                };
                let mut out = Vec::with_capacity(entries.len());
                for (name, v) in entries {
                    let x = count(v).map_err(|m| format!("“{name}” = {v}:{m}"))?;
                    out.push((name.clone(), x));
                }
                Value::Table(out)
            }
        };
        if let Value::Number(x) = value {
            if input.positive && x <= 0.0 {
                return Err("必须大于 0".to_owned());
            }
            bounds(x, input.min, input.max)?;
        }
        Ok(value)
    }

    /// Parts within their wholes, and denominators that are not zero.
    fn check_relations(&self, a: &Assessment, lines: &[Option<usize>], errors: &mut Vec<InputError>) {
        for (i, input) in self.inputs.iter().enumerate() {
            let Some(part) = a.number(InputId(i)) else { continue };
            if input.at_most.is_empty() {
                continue;
            }
            let wholes: Option<Vec<f64>> = input.at_most.iter().map(|w| a.number(*w)).collect();
            let Some(wholes) = wholes else { continue };
            let whole: f64 = wholes.iter().sum();
            if part > whole {
                let names: Vec<&str> = input.at_most.iter().map(|w| self.input(*w).key.as_str()).collect();
                let what = if names.len() == 1 { names[0].to_owned() } else { format!("{} 之和", names.join(" + ")) };
                errors.push(InputError {
                    key: input.key.clone(),
                    line: lines[i],
                    message: format!(
                        "= {}:不能大于 {what}({})",
                        format::plain(part),
                        format::plain(whole)
                    ),
                });
            }
        }
        let mut reported = HashSet::new();
        for rule in &self.rules {
            match &rule.scoring {
                Scoring::Proportional { measure, .. }
                | Scoring::Deduction { measure, .. }
                | Scoring::Bands { measure, .. } => self.check_denominators(measure, a, lines, errors, &mut reported),
                _ => {}
            }
        }
        for gate in &self.gates {
            for c in &gate.conditions {
                if let crate::model::Condition::Compare { measure, .. } = c {
                    self.check_denominators(measure, a, lines, errors, &mut reported);
                }
            }
        }
    }

    fn check_denominators(
        &self,
        m: &Measure,
        a: &Assessment,
        lines: &[Option<usize>],
        errors: &mut Vec<InputError>,
        reported: &mut HashSet<Vec<InputId>>,
    ) {
        match &m.form {
            MeasureForm::Ratio { denominator: Denominator::Inputs(den), .. } => {
                let values: Option<Vec<f64>> = den.iter().map(|d| a.number(*d)).collect();
                if let Some(values) = values {
                    if values.iter().sum::<f64>() <= 0.0 && reported.insert(den.clone()) {
                        let keys: Vec<&str> = den.iter().map(|d| self.input(*d).key.as_str()).collect();
                        errors.push(InputError {
                            key: keys.join(" + "),
                            line: lines[den[0].index()],
                            message: format!("= 0:是“{}”的分母,不能为 0", m.label),
                        });
                    }
                }
            }
            MeasureForm::Sum(parts) => {
                for p in parts {
                    self.check_denominators(p, a, lines, errors, reported);
                }
            }
            _ => {}
        }
    }
}

fn to_raw(kind: InputKind, v: &Value) -> RawValue {
    let whole = |x: f64| -> RawValue {
        if x.fract() == 0.0 && x.abs() < 9.0e15 { RawValue::Integer(x as i64) } else { RawValue::Float(x) }
    };
    match (kind, v) {
        (_, Value::Bool(b)) => RawValue::Bool(*b),
        (InputKind::Count, Value::Number(x)) => whole(*x),
        (_, Value::Number(x)) => RawValue::Float(*x),
        (InputKind::List { integer: true, .. }, Value::List(items)) => RawValue::Array(items.iter().map(|x| whole(*x)).collect()),
        (_, Value::List(items)) => RawValue::Array(items.iter().map(|x| RawValue::Float(*x)).collect()),
        (_, Value::Table(entries)) => RawValue::Table(entries.iter().map(|(k, x)| (k.clone(), whole(*x))).collect()),
    }
}

fn unknown_key(rubric: &Rubric, key: &str, line: Option<usize>) -> InputError {
    let hint = rubric
        .closest_key(key)
        .map_or_else(String::new, |k| format!(";是否应为 {k}?"));
    InputError { key: key.to_owned(), line, message: format!("不是本细则的输入项{hint}") }
}

fn read_meta(value: &toml::Spanned<DeValue<'_>>, text: &str, meta: &mut Meta, errors: &mut Vec<InputError>) {
    let DeValue::Table(table) = value.get_ref() else {
        errors.push(InputError {
            key: "assessment".to_owned(),
            line: Some(line_of(text, value.span().start)),
            message: "应为表 [assessment]".to_owned(),
        });
        return;
    };
    for (k, v) in table {
        let line = Some(line_of(text, k.span().start));
        let key = format!("assessment.{}", k.get_ref());
        let text_value = match v.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            DeValue::Datetime(d) => Some(d.to_string()),
            _ => None,
        };
        let slot = match k.get_ref().as_ref() {
            "city" => &mut meta.city,
            "rubric" => &mut meta.rubric,
            "period" => &mut meta.period,
            "as_of" => &mut meta.as_of,
            other => {
                errors.push(InputError {
                    key,
                    line,
                    message: format!("[assessment] 中没有 {other} 这一项(可用:city、rubric、period、as_of)"),
                });
                continue;
            }
        };
        match text_value {
            Some(s) => *slot = Some(s),
            None => errors.push(InputError { key, line, message: "应为字符串".to_owned() }),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn flatten(
    rubric: &Rubric,
    prefixes: &HashSet<String>,
    path: String,
    value: &toml::Spanned<DeValue<'_>>,
    text: &str,
    line: usize,
    entries: &mut Vec<Entry>,
    errors: &mut Vec<InputError>,
) {
    if rubric.input_id(&path).is_some() {
        entries.push(Entry { key: path, value: raw(value.get_ref()), line: Some(line) });
        return;
    }
    match value.get_ref() {
        DeValue::Table(table) if prefixes.contains(&path) => {
            for (k, v) in table {
                let line = line_of(text, k.span().start);
                flatten(rubric, prefixes, format!("{path}.{}", k.get_ref()), v, text, line, entries, errors);
            }
        }
        // Not a group of ours: report every leaf under it by its full key.
        DeValue::Table(table) if !table.is_empty() => {
            for (k, v) in table {
                let line = line_of(text, k.span().start);
                flatten(rubric, prefixes, format!("{path}.{}", k.get_ref()), v, text, line, entries, errors);
            }
        }
        _ if prefixes.contains(&path) => errors.push(InputError {
            key: path.clone(),
            line: Some(line),
            message: format!("是一组输入的前缀,不能直接赋值;应填写其下的键,如 {}", first_under(rubric, &path)),
        }),
        _ => errors.push(unknown_key(rubric, &path, Some(line))),
    }
}

fn first_under<'r>(rubric: &'r Rubric, prefix: &str) -> &'r str {
    rubric
        .inputs
        .iter()
        .map(|i| i.key.as_str())
        .find(|k| k.starts_with(prefix) && k[prefix.len()..].starts_with('.'))
        .unwrap_or("…")
}

fn raw(v: &DeValue<'_>) -> RawValue {
    match v {
        DeValue::Boolean(b) => RawValue::Bool(*b),
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => RawValue::Integer(n),
            Err(_) => RawValue::Other(i.to_string()),
        },
        DeValue::Float(f) => match f.as_str().replace('_', "").parse::<f64>() {
            Ok(x) => RawValue::Float(x),
            Err(_) => RawValue::Other(f.to_string()),
        },
        DeValue::String(s) => RawValue::String(s.to_string()),
        DeValue::Datetime(d) => RawValue::Other(d.to_string()),
        DeValue::Array(items) => RawValue::Array(items.iter().map(|i| raw(i.get_ref())).collect()),
        DeValue::Table(t) => RawValue::Table(t.iter().map(|(k, v)| (k.get_ref().to_string(), raw(v.get_ref()))).collect()),
    }
}

fn number(raw: &RawValue) -> Result<f64, String> {
    let x = match raw {
        RawValue::Integer(i) => *i as f64,
        RawValue::Float(x) => *x,
        RawValue::String(_) => return Err("应为数字,不是字符串(去掉引号)".to_owned()),
        _ => return Err("应为数字".to_owned()),
    };
    if x.is_finite() { Ok(x) } else { Err("应为有限的数字(不能是 nan 或 inf)".to_owned()) }
}

fn count(raw: &RawValue) -> Result<f64, String> {
    let x = number(raw)?;
    if x < 0.0 || x.fract() != 0.0 {
        return Err("应为非负整数".to_owned());
    }
    Ok(x)
}

fn bounds(x: f64, min: Option<f64>, max: Option<f64>) -> Result<(), String> {
    match (min, max) {
        (Some(lo), Some(hi)) if !(lo..=hi).contains(&x) => {
            Err(format!("应在 {} 到 {} 之间", format::plain(lo), format::plain(hi)))
        }
        (Some(lo), None) if x < lo => Err(format!("不能小于 {}", format::plain(lo))),
        (None, Some(hi)) if x > hi => Err(format!("不能大于 {}", format::plain(hi))),
        _ => Ok(()),
    }
}
