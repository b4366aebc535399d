//! `compare` on a store of 300 cities, each with the example plan (its tasks) and the
//! values of one of the two example cities: the province page's read.
//!
//! Run: `cargo bench -p creditcity-app --bench compare` (release), or, to spare a
//! shared machine the release build, `cargo bench -p creditcity-app --bench compare --profile dev`.
//! `CREDITCITY_BENCH_CITIES=N` changes the number of cities.

use std::path::PathBuf;
use std::time::Instant;

use creditcity_app::{Actor, Workspace, compare, init};
use creditcity_rubric::Rubric;
use creditcity_store::Location;

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("{e}"));
    runtime.block_on(run());
}

async fn run() {
    let cities: usize = std::env::var("CREDITCITY_BENCH_CITIES").ok().and_then(|n| n.parse().ok()).unwrap_or(300);
    let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let read = |name: &str| std::fs::read_to_string(examples.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let plan = read("qingchuan-plan.toml");
    let inputs = [read("qingchuan-complete.toml"), read("linjiang-midway.toml")];
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let location = Location::at(&dir.path().join("creditcity.db"));
    let rubric = Rubric::embedded_2019().unwrap_or_else(|e| panic!("{e}"));
    let who = Actor("bench".to_owned());

    let started = Instant::now();
    for c in 0..cities {
        let city = format!("示范市{c:03}");
        init(&location, &rubric, &city, "2019", &who).await.unwrap_or_else(|e| panic!("{e}"));
        let ws = Workspace::open(&location, rubric.clone(), Some(&city)).await.unwrap_or_else(|e| panic!("{e}"));
        ws.import_plan(&plan, &who).await.unwrap_or_else(|e| panic!("{e}"));
        let text = inputs[c % 2].replace("city = \"青川市\"", &format!("city = \"{city}\"")).replace("city = \"临江市\"", &format!("city = \"{city}\""));
        ws.import_inputs(&text, "example.toml", Some("市信用办"), &who).await.unwrap_or_else(|e| panic!("{e}"));
        ws.close().await;
    }
    println!("built {cities} cities (plan and values each) in {:.1} s", started.elapsed().as_secs_f64());

    let today = creditcity_app::today();
    // Cold: opening the store, three reads, scoring every city.
    let mut cold = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let c = compare::compare(&location, std::slice::from_ref(&rubric), &today).await.unwrap_or_else(|e| panic!("{e}"));
        cold.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(c.groups[0].cities.len(), cities);
    }
    // Warm: the served workspace's open pool (what GET /compare does on a new store version).
    let ws = Workspace::open(&location, rubric.clone(), Some("示范市000")).await.unwrap_or_else(|e| panic!("{e}"));
    let mut warm = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let _ = ws.compare(&today).await.unwrap_or_else(|e| panic!("{e}"));
        warm.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    ws.close().await;
    // For contrast: the naive way, one workspace opened and scored per city.
    let t = Instant::now();
    for c in 0..cities {
        let w = Workspace::open(&location, rubric.clone(), Some(&format!("示范市{c:03}"))).await.unwrap_or_else(|e| panic!("{e}"));
        let _ = w.progress(&today).await.unwrap_or_else(|e| panic!("{e}"));
        w.close().await;
    }
    let naive = t.elapsed().as_secs_f64() * 1000.0;
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!("compare, {cities} cities, {threads} threads: cold (open store) median {:.0} ms, warm median {:.0} ms (min {:.0} ms)", median(&mut cold), median(&mut warm), warm[0]);
    println!("naive (open a workspace and compute progress per city): {naive:.0} ms");
}
