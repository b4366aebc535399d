//! Time to score one parsed assessment in-process (target: under 2 µs, since the
//! gap planner scores many what-ifs), and, for scale, to parse and to explain.
//!
//! Run: `cargo bench -p creditcity-rubric --bench score`

use std::hint::black_box;
use std::time::{Duration, Instant};

use creditcity_rubric::{Rubric, explain_gate, explain_rule, score};

/// Median time per call over `batches` batches of `per_batch` calls.
fn measure(name: &str, per_batch: u32, batches: usize, mut f: impl FnMut()) -> Duration {
    for _ in 0..per_batch {
        f();
    }
    let mut times: Vec<Duration> = (0..batches)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..per_batch {
                f();
            }
            start.elapsed() / per_batch
        })
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "{name:<44} median {:>10.3} µs   (min {:.3} µs, {batches} × {per_batch} calls)",
        median.as_secs_f64() * 1e6,
        times[0].as_secs_f64() * 1e6
    );
    median
}

fn main() {
    let rubric = Rubric::embedded_2019().unwrap_or_else(|e| panic!("{e}"));
    let text = include_str!("../../../examples/qingchuan-complete.toml");
    let midway = include_str!("../../../examples/linjiang-midway.toml");
    let complete = rubric.parse_assessment(text).unwrap_or_else(|e| panic!("{e}"));
    let partial = rubric.parse_assessment(midway).unwrap_or_else(|e| panic!("{e}"));

    measure("score (complete city, 54 rules + 10 gates)", 20_000, 25, || {
        black_box(score(black_box(&rubric), black_box(&complete)));
    });
    measure("score (midway city, 17 rules incomplete)", 20_000, 25, || {
        black_box(score(black_box(&rubric), black_box(&partial)));
    });
    measure("parse + validate the complete city file", 200, 15, || {
        black_box(rubric.parse_assessment(black_box(text)).ok());
    });
    let card = score(&rubric, &complete);
    measure("explain every rule and gate (Chinese text)", 500, 15, || {
        for (rule, result) in rubric.rules.iter().zip(&card.rules) {
            black_box(explain_rule(&rubric, rule, &complete, result));
        }
        for (gate, result) in rubric.gates.iter().zip(&card.gates) {
            black_box(explain_gate(&rubric, gate, &complete, result));
        }
    });
    measure("load + validate the embedded rubric", 50, 11, || {
        black_box(Rubric::embedded_2019().ok());
    });
}
