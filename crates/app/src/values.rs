//! Values as people type them and as the store keeps them.
//!
//! People type `0.018`, `1.8%`, `１．８％`, `true`, `是`, `[1, 2, 3]`; the store keeps
//! JSON. Both become the rubric's `RawValue`, which the rubric validates.

use creditcity_rubric::{InputKind, RawValue};

/// Full-width digits and signs to ASCII (`１２．５％` → `12.5%`).
pub fn normalize(text: &str) -> String {
    text.trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            '．' | '。' => '.',
            '％' => '%',
            '，' => ',',
            '－' | '−' => '-',
            '［' => '[',
            '］' => ']',
            c => c,
        })
        .collect::<String>()
        .replace(',', if text.contains('[') || text.contains('{') { "," } else { "" })
}

/// Reads a value typed for an input of `kind`.
pub fn parse_typed(kind: InputKind, text: &str) -> Result<RawValue, String> {
    let t = normalize(text);
    match kind {
        InputKind::Bool => match t.as_str() {
            "true" | "是" | "有" | "yes" | "y" => return Ok(RawValue::Bool(true)),
            "false" | "否" | "无" | "no" | "n" => return Ok(RawValue::Bool(false)),
            _ => {}
        },
        InputKind::Ratio => {
            if let Some(p) = t.strip_suffix('%') {
                // Shift the decimal point in the text, not the float: 1.8% is exactly 0.018.
                let x: f64 = format!("{}e-2", p.trim()).parse().map_err(|_| format!("“{text}”不是百分数"))?;
                return Ok(RawValue::Float(x));
            }
        }
        _ => {}
    }
    // The parser's own words are for a TOML file, not a form: say what the field takes.
    RawValue::parse_toml(&t).map_err(|_| format!("“{text}”不是有效的值:{}", expected(kind)))
}

/// What a field of this kind takes, with an example, as a form's error says it.
fn expected(kind: InputKind) -> &'static str {
    match kind {
        InputKind::Bool => "应填“是”或“否”",
        InputKind::Count => "应为非负整数,如 1200",
        InputKind::Ratio => "应为比例,如 0.85 或 85%",
        InputKind::Amount => "应为金额(元),如 1500000",
        InputKind::Number => "应为数字,如 12.5",
        InputKind::Judged { .. } => "应为分数,如 1.5",
        InputKind::List { .. } => "应为数字列表,如 [1, 2, 3]",
        InputKind::Table => "应为名称与数目的表,如 {信易贷 = 5}",
    }
}

/// The JSON the store keeps for a value.
pub fn to_json(v: &RawValue) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        RawValue::Bool(b) => J::Bool(*b),
        RawValue::Integer(i) => J::from(*i),
        RawValue::Float(x) => serde_json::Number::from_f64(*x).map_or(J::Null, J::Number),
        RawValue::String(s) | RawValue::Other(s) => J::String(s.clone()),
        RawValue::Array(items) => J::Array(items.iter().map(to_json).collect()),
        RawValue::Table(entries) => J::Object(entries.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
    }
}

/// A stored value back as a raw value.
pub fn from_json(j: &serde_json::Value) -> RawValue {
    use serde_json::Value as J;
    match j {
        J::Bool(b) => RawValue::Bool(*b),
        J::Number(n) => n.as_i64().map_or_else(|| RawValue::Float(n.as_f64().unwrap_or(f64::NAN)), RawValue::Integer),
        J::String(s) => RawValue::String(s.clone()),
        J::Array(items) => RawValue::Array(items.iter().map(from_json).collect()),
        J::Object(map) => RawValue::Table(map.iter().map(|(k, v)| (k.clone(), from_json(v))).collect()),
        J::Null => RawValue::Other("null".to_owned()),
    }
}

/// A stored value (JSON) as a person reads and types it: 是/否 for booleans, TOML for
/// the rest (`0.0236`, `[1, 2]`, `{ "信易贷" = 5 }`).
pub fn display_json(json: &str) -> String {
    match json {
        "true" => "是".to_owned(),
        "false" => "否".to_owned(),
        _ => serde_json::from_str::<serde_json::Value>(json).map_or_else(|_| json.to_owned(), |v| from_json(&v).to_toml()),
    }
}

/// A review state as people read it.
pub fn review_label(state: creditcity_store::ReviewState) -> &'static str {
    state.label()
}

/// What may be typed for an input, in a sentence (forms and templates).
pub fn hint(input: &creditcity_rubric::model::Input) -> String {
    let unit = input.unit.as_deref().map_or_else(String::new, |u| format!(",单位:{u}"));
    match input.kind {
        InputKind::Bool => "是 / 否".to_owned(),
        InputKind::Count => match input.max {
            Some(hi) => format!("{} 到 {} 的整数{unit}", i32::from(input.positive), creditcity_rubric::format::plain(hi)),
            None if input.positive => format!("正整数{unit}"),
            None => format!("非负整数{unit}"),
        },
        InputKind::Ratio => "0 到 1 的小数,或百分数如 1.8%".to_owned(),
        InputKind::Amount => "金额(元),不小于 0".to_owned(),
        InputKind::Number => format!("数字{unit}"),
        InputKind::Judged { max } => format!("酌情计分,0–{}", creditcity_rubric::format::plain(max)),
        InputKind::List { len: Some(n), .. } => format!("{n} 个数,如 [80, 81, …]"),
        InputKind::List { .. } => "数组,如 [1, 2, 3]".to_owned(),
        InputKind::Table => "表,如 { \"信易贷\" = 5 }".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_type_percentages_and_full_width_digits() {
        assert_eq!(parse_typed(InputKind::Ratio, "1.8%"), Ok(RawValue::Float(0.018)));
        assert_eq!(parse_typed(InputKind::Ratio, "１２．５％"), Ok(RawValue::Float(0.125)));
        assert_eq!(parse_typed(InputKind::Count, "1,200"), Ok(RawValue::Integer(1200)));
        assert_eq!(parse_typed(InputKind::Bool, "是"), Ok(RawValue::Bool(true)));
        assert_eq!(
            parse_typed(InputKind::List { integer: true, distinct: true, len: None }, "[1, 2, 3]"),
            Ok(RawValue::Array(vec![RawValue::Integer(1), RawValue::Integer(2), RawValue::Integer(3)]))
        );
        assert!(parse_typed(InputKind::Ratio, "abc%").is_err());
    }

    #[test]
    fn a_value_that_is_not_one_says_what_the_field_takes_in_chinese() {
        let e = parse_typed(InputKind::Count, "abc").err().unwrap_or_default();
        assert_eq!(e, "“abc”不是有效的值:应为非负整数,如 1200");
        let e = parse_typed(InputKind::Bool, "也许").err().unwrap_or_default();
        assert!(e.contains("应填“是”或“否”"), "{e}");
    }

    #[test]
    fn json_round_trips() {
        let v = RawValue::Table(vec![("信易贷".to_owned(), RawValue::Integer(5))]);
        assert_eq!(from_json(&to_json(&v)), v);
    }
}
