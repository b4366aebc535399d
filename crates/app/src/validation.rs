//! Stored values checked against the rubric without ever failing on them: what breaks a relation is left out of the score and named.

use creditcity_rubric::{Assessment, Entry, InputErrors, Meta, Rubric};
use creditcity_store::{CurrentValue, ReviewState, StoreError};

use crate::{Result, values};

/// Current values as validated entries; `accepted_only` keeps the accepted ones.
pub(crate) fn entries_of(rows: &[CurrentValue], accepted_only: bool) -> Result<Vec<Entry>> {
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        if accepted_only && row.review_state != ReviewState::Accepted {
            continue;
        }
        let json: serde_json::Value =
            serde_json::from_str(&row.value_json).map_err(|e| StoreError::Corrupt(format!("value of {}: {e}", row.key)))?;
        entries.push(Entry { key: row.key.clone(), value: values::from_json(&json), line: None });
    }
    Ok(entries)
}

/// The inputs an error is about: the keys it names and, for a part above its whole,
/// the wholes too.
pub(crate) fn keys_of(rubric: &Rubric, error: &creditcity_rubric::InputError) -> Vec<String> {
    let mut keys = Vec::new();
    for key in error.key.split(" + ") {
        keys.push(key.to_owned());
        if let Some(id) = rubric.input_id(key) {
            keys.extend(rubric.input(id).at_most.iter().map(|w| rubric.input(*w).key.clone()));
        }
    }
    keys
}

/// Validates what the store holds without ever failing on it: values that break a
/// rule of the rubric (a part above its whole, stored before that was checked, or
/// written behind the application's back) are left out and reported, so that
/// everything else can still be scored.
pub fn validate_stored(rubric: &Rubric, meta: &Meta, mut entries: Vec<Entry>) -> (Assessment, Vec<creditcity_rubric::InputError>) {
    let mut problems = Vec::new();
    // Each round leaves out at least one key, so this ends.
    for _ in 0..=rubric.inputs.len() {
        match rubric.validate(meta.clone(), entries.clone()) {
            Ok(a) => return (a, problems),
            Err(InputErrors(errs)) => {
                let bad: std::collections::HashSet<String> = errs.iter().flat_map(|e| keys_of(rubric, e)).collect();
                let before = entries.len();
                entries.retain(|e| !bad.contains(&e.key));
                problems.extend(errs);
                if entries.len() == before {
                    break;
                }
            }
        }
    }
    // Only errors outside the values (the wrong edition…) remain: score nothing stored.
    let meta = Meta { rubric: None, ..meta.clone() };
    (Assessment::empty(rubric, meta), problems)
}

/// The rules that read an input of a stored value that is invalid, with the reason.
pub fn invalid_rules(rubric: &Rubric, problems: &[creditcity_rubric::InputError]) -> Vec<InvalidRule> {
    let mut out: Vec<InvalidRule> = Vec::new();
    for p in problems {
        let keys = keys_of(rubric, p);
        for rule in &rubric.rules {
            if rule.inputs.iter().any(|i| keys.contains(&rubric.input(*i).key)) {
                let reason = format!("{}{}", p.key, p.message);
                match out.iter_mut().find(|r| r.rule_id == rule.id) {
                    Some(r) if !r.reasons.contains(&reason) => r.reasons.push(reason),
                    Some(_) => {}
                    None => out.push(InvalidRule { rule_id: rule.id.clone(), reasons: vec![reason] }),
                }
            }
        }
    }
    out
}

/// A rule that cannot be scored as stored, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRule {
    pub rule_id: String,
    pub reasons: Vec<String>,
}
