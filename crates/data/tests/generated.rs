//! Generated cities: a correct check finds exactly the injected problems and derives
//! exactly the generator's values.

use creditcity_data::generate::{CityProfile, Generator, Sizes};
use creditcity_data::{DatasetKind, Datasets, Facts, Input, ProblemKind, check, derive};
use std::collections::BTreeMap;

#[test]
fn a_generated_city_is_checked_and_derived_exactly() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut g = Generator::new(CityProfile::qingchuan(), 42, 0.08);
    let sizes = Sizes {
        entities: 6_000,
        licences: 4_000,
        penalties: 3_000,
        list_entries: 800,
        commitments: 2_000,
        approval_items: 120,
        cases: 80,
    };
    let expected = g.city(dir.path(), &sizes).unwrap_or_else(|e| panic!("{e}"));
    let settings = g.settings();
    let mut checked = Vec::new();
    for kind in DatasetKind::ALL {
        let path = dir.path().join(format!("{}.csv", kind.id()));
        let input = Input::open(&path).unwrap_or_else(|e| panic!("{e}"));
        let c = check(kind, input, &settings).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        let mut found: BTreeMap<ProblemKind, u64> = BTreeMap::new();
        for p in &c.problems {
            *found.entry(p.kind).or_default() += 1;
        }
        let want = &expected.datasets[&kind];
        assert_eq!(c.rows, want.rows, "{kind:?}");
        assert_eq!(found, want.problems, "{kind:?}");
        checked.push(c);
    }
    // Every kind the generator can inject shows up at this size.
    let all: std::collections::BTreeSet<ProblemKind> = expected
        .datasets
        .values()
        .flat_map(|e| e.problems.keys().copied())
        .collect();
    assert!(all.len() >= 12, "{all:?}");
    let mut d = Datasets::default();
    for c in &checked {
        d.add(c);
    }
    let derivation = derive(&d, &settings);
    assert!(
        derivation.not_derived.is_empty(),
        "{:?}",
        derivation.not_derived
    );
    for (key, value) in &expected.values {
        let got = derivation.get(*key).map(|x| x.value);
        assert_eq!(got, Some(*value), "{}", key.key());
    }
    assert_eq!(expected.values.len(), 20);
    // Facts kept as bytes and read back derive exactly the same, formulas included;
    // bytes of another layout, cut short or with a byte more are refused.
    let kept: Vec<Facts> = checked
        .iter()
        .map(|c| {
            let bytes = c.facts.encode();
            assert!(Facts::decode(&bytes[..bytes.len() - 1]).is_none());
            let mut longer = bytes.clone();
            longer.push(0);
            assert!(Facts::decode(&longer).is_none());
            let mut other = bytes.clone();
            other[3] = other[3].wrapping_add(1);
            assert!(Facts::decode(&other).is_none());
            let back = Facts::decode(&bytes).unwrap_or_else(|| panic!("{:?}", c.kind));
            assert_eq!(back.encode(), bytes, "{:?}", c.kind);
            back
        })
        .collect();
    let mut k = Datasets::default();
    for f in &kept {
        k.add_facts(f);
    }
    let again = derive(&k, &settings);
    assert_eq!(again.values.len(), derivation.values.len());
    for (a, b) in again.values.iter().zip(&derivation.values) {
        assert_eq!((a.key, a.value, &a.formula), (b.key, b.value, &b.formula));
    }
}

#[test]
fn generation_is_deterministic() {
    let run = |seed| {
        let mut g = Generator::new(CityProfile::qingchuan(), seed, 0.1);
        let mut buf = Vec::new();
        let e = g.register(&mut buf, 500).unwrap_or_else(|e| panic!("{e}"));
        (buf, e)
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1).0, run(2).0);
}
