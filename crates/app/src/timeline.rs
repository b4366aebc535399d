//! The campaign over time: the working and the confirmed score at the end of each day
//! on which something changed, replayed from the values' history and the reviews.
//!
//! Nothing is stored for it: every value ever set stays in the store with the instant it
//! was set and superseded, and every review with its instant, so any past day's scores
//! can be computed again exactly.

use creditcity_store::{Decision, ReviewTarget};
use std::collections::{BTreeSet, HashMap};

use creditcity_rubric::{Entry, Meta, Rubric, score};
use creditcity_store::{ReviewRow, ValueRow};

use crate::clock::{end_of_day_stored, stored_date};
use crate::{validate_stored, values};

/// The scores at the end of one day (Beijing time).
#[derive(Debug, Clone, PartialEq)]
pub struct DayScore {
    /// YYYY-MM-DD
    pub date: String,
    pub working: f64,
    pub confirmed: f64,
}

/// The scores at the end of every day on which a value was set or reviewed, and of
/// `today`, oldest first.
pub fn compute(rubric: &Rubric, history: &[ValueRow], reviews: &[ReviewRow], today: &str) -> Vec<DayScore> {
    let mut days: BTreeSet<String> = history.iter().map(|v| stored_date(&v.set_at)).collect();
    days.extend(reviews.iter().filter(|r| r.target_kind == ReviewTarget::Input).map(|r| stored_date(&r.at)));
    days.retain(|d| d.as_str() <= today);
    if !history.is_empty() {
        days.insert(today.to_owned());
    }
    // The reviews of each value, oldest first (ids grow with time).
    let mut reviews_of: HashMap<i64, Vec<&ReviewRow>> = HashMap::new();
    for r in reviews.iter().filter(|r| r.target_kind == ReviewTarget::Input) {
        reviews_of.entry(r.target_id).or_default().push(r);
    }
    let parsed: Vec<(&ValueRow, Option<Entry>)> = history
        .iter()
        .map(|v| {
            let entry = serde_json::from_str::<serde_json::Value>(&v.value_json)
                .ok()
                .map(|json| Entry { key: v.input_key.clone(), value: values::from_json(&json), line: None });
            (v, entry)
        })
        .collect();
    let meta = Meta::default();
    days.into_iter()
        .map(|date| {
            let cutoff = end_of_day_stored(&date);
            let mut working = Vec::new();
            let mut confirmed = Vec::new();
            for (v, entry) in &parsed {
                let Some(entry) = entry else { continue };
                let current = v.set_at.as_str() < cutoff.as_str() && v.superseded_at.as_deref().is_none_or(|s| s >= cutoff.as_str());
                if !current {
                    continue;
                }
                working.push(entry.clone());
                let accepted = reviews_of
                    .get(&v.id)
                    .and_then(|rs| rs.iter().rev().find(|r| r.at.as_str() < cutoff.as_str()))
                    .is_some_and(|r| r.decision == Decision::Accept);
                if accepted {
                    confirmed.push(entry.clone());
                }
            }
            let (w, _) = validate_stored(rubric, &meta, working);
            let (c, _) = validate_stored(rubric, &meta, confirmed);
            DayScore { date, working: score(rubric, &w).total, confirmed: score(rubric, &c).total }
        })
        .collect()
}
