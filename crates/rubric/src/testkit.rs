//! Generators of valid assessments for property tests (feature `testkit`).

use proptest::prelude::*;

use crate::assessment::{Entry, Meta, RawValue};
use crate::model::{InputKind, Rubric};
use crate::{Assessment, InputId};

/// A strategy for one raw value of `kind`, valid on its own (relations between
/// inputs are fixed afterwards by [`fix_relations`]).
fn value(rubric: &Rubric, id: InputId) -> BoxedStrategy<RawValue> {
    let input = rubric.input(id);
    let lo = input.min.unwrap_or(0.0);
    match input.kind {
        InputKind::Bool => any::<bool>().prop_map(RawValue::Bool).boxed(),
        InputKind::Count => {
            let hi = input.max.map_or(20_000, |m| m as i64);
            let lo = i64::from(input.positive);
            prop_oneof![lo..=hi.min(30), lo..=hi].prop_map(RawValue::Integer).boxed()
        }
        // Ends, anywhere, and a hair from the thresholds the rubric uses (100%, 2%, 5%,
        // 0.01%), where rounding for display is most likely to mislead.
        InputKind::Ratio => prop_oneof![
            Just(0.0),
            Just(1.0),
            0.0..=1.0f64,
            (1e-9..1e-4f64).prop_map(|e| 1.0 - e),
            prop::sample::select(vec![0.02, 0.05, 0.0001]).prop_flat_map(|t| (-1e-6..1e-6f64).prop_map(move |e| (t + e).clamp(0.0, 1.0))),
        ]
        .prop_map(RawValue::Float)
        .boxed(),
        InputKind::Amount => (1.0..1.0e10f64).prop_map(RawValue::Float).boxed(),
        InputKind::Number => (lo..input.max.unwrap_or(1.0e6)).prop_map(RawValue::Float).boxed(),
        InputKind::Judged { max } => (0.0..=max).prop_map(RawValue::Float).boxed(),
        InputKind::List { integer: true, distinct: true, .. } => {
            let hi = input.max.unwrap_or(20.0) as i64;
            proptest::collection::btree_set(lo as i64..=hi, 0..=(hi - lo as i64 + 1) as usize)
                .prop_map(|s| RawValue::Array(s.into_iter().map(RawValue::Integer).collect()))
                .boxed()
        }
        InputKind::List { len, .. } => {
            let hi = input.max.unwrap_or(100.0);
            let n = len.unwrap_or(3);
            proptest::collection::vec(lo..=hi, n)
                .prop_map(|v| RawValue::Array(v.into_iter().map(RawValue::Float).collect()))
                .boxed()
        }
        InputKind::Table => proptest::collection::btree_map("[a-z]{1,6}", 0i64..12, 0..25)
            .prop_map(|m| RawValue::Table(m.into_iter().map(|(k, v)| (k, RawValue::Integer(v))).collect()))
            .boxed(),
    }
}

/// Entries for a random assessment: each input present with probability ~0.85.
pub fn entries(rubric: &Rubric) -> impl Strategy<Value = Vec<Entry>> + use<> {
    let parts: Vec<_> = (0..rubric.inputs.len())
        .map(|i| {
            let id = InputId(i);
            let key = rubric.input(id).key.clone();
            (proptest::bool::weighted(0.85), value(rubric, id))
                .prop_map(move |(present, v)| present.then(|| Entry { key: key.clone(), value: v, line: None }))
        })
        .collect();
    let rubric = rubric.clone();
    parts.prop_map(move |entries| {
        let mut entries: Vec<Entry> = entries.into_iter().flatten().collect();
        fix_relations(&rubric, &mut entries);
        entries
    })
}

/// Brings parts within their wholes and denominators above zero.
pub fn fix_relations(rubric: &Rubric, entries: &mut [Entry]) {
    let number = |v: &RawValue| match v {
        RawValue::Integer(i) => Some(*i as f64),
        RawValue::Float(x) => Some(*x),
        _ => None,
    };
    for i in 0..entries.len() {
        let Some(id) = rubric.input_id(&entries[i].key) else { continue };
        let input = rubric.input(id);
        if input.at_most.is_empty() {
            continue;
        }
        let whole: Option<f64> = input
            .at_most
            .iter()
            .map(|w| entries.iter().find(|e| e.key == rubric.input(*w).key).and_then(|e| number(&e.value)))
            .sum();
        let (Some(whole), Some(part)) = (whole, number(&entries[i].value)) else { continue };
        if part > whole {
            entries[i].value = match entries[i].value {
                RawValue::Integer(_) => RawValue::Integer(whole as i64),
                _ => RawValue::Float(whole),
            };
        }
    }
}

/// A random valid assessment (entries that fail validation are skipped by the caller).
pub fn assessment(rubric: &Rubric) -> impl Strategy<Value = Assessment> + use<> {
    let r = rubric.clone();
    entries(rubric).prop_filter_map("relations between inputs", move |e| r.validate(Meta::default(), e).ok())
}
