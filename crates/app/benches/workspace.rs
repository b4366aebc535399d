//! `status` and `score` on a store of 10 cities with full plans and 5,000 evidence
//! files (500 per city).
//!
//! Run: `cargo bench -p creditcity-app --bench workspace`
//! Set `CREDITCITY_BENCH_DIR=/some/dir` to keep the store there (to time the CLI on it).

use std::path::PathBuf;
use std::time::Instant;

use creditcity_app::{Actor, Workspace, init};
use creditcity_rubric::Rubric;
use creditcity_store::Location;

const CITIES: usize = 10;
const FILES_PER_CITY: usize = 500;

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("{e}"));
    runtime.block_on(run());
}

async fn run() {
    let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let plan = std::fs::read_to_string(examples.join("qingchuan-plan.toml")).unwrap_or_default();
    let inputs = std::fs::read_to_string(examples.join("qingchuan-complete.toml")).unwrap_or_default();
    let keep = std::env::var_os("CREDITCITY_BENCH_DIR").map(PathBuf::from);
    let temp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = keep.clone().unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let location = Location::at(&dir.join("creditcity.db"));
    let rubric = Rubric::embedded_2019().unwrap_or_else(|e| panic!("{e}"));
    let who = Actor("bench".to_owned());
    let files = dir.join("files");
    std::fs::create_dir_all(&files).unwrap_or_else(|e| panic!("{e}"));

    let started = Instant::now();
    for c in 0..CITIES {
        let city = format!("示范市{c:02}");
        init(&location, &rubric, &city, "2019", &who).await.unwrap_or_else(|e| panic!("{e}"));
        let ws = Workspace::open(&location, rubric.clone(), Some(&city)).await.unwrap_or_else(|e| panic!("{e}"));
        ws.import_plan(&plan, &who).await.unwrap_or_else(|e| panic!("{e}"));
        ws.import_inputs(&inputs, "qingchuan-complete.toml", Some("市信用办"), &who).await.unwrap_or_else(|e| panic!("{e}"));
        for f in 0..FILES_PER_CITY {
            let rule = &rubric.rules[f % rubric.rules.len()];
            let item = (f / rubric.rules.len()) % rule.evidence.len() + 1;
            let path = files.join(format!("{c}-{f}.pdf"));
            std::fs::write(&path, format!("%PDF-1.4 city {c} file {f} {}", "x".repeat(f % 200))).unwrap_or_default();
            ws.attach(&path, &rule.id, Some(item as i64), None, None, &who).await.unwrap_or_else(|e| panic!("{e}"));
        }
        ws.close().await;
    }
    println!("built {CITIES} cities, {} evidence files in {:.1} s", CITIES * FILES_PER_CITY, started.elapsed().as_secs_f64());

    let ws = Workspace::open(&location, rubric.clone(), Some("示范市05")).await.unwrap_or_else(|e| panic!("{e}"));
    let mut status = Vec::new();
    let mut scores = Vec::new();
    let mut open = Vec::new();
    for _ in 0..30 {
        let t = Instant::now();
        let w = Workspace::open(&location, rubric.clone(), Some("示范市05")).await.unwrap_or_else(|e| panic!("{e}"));
        open.push(t.elapsed());
        w.close().await;
        let t = Instant::now();
        let p = ws.progress("2019-03-01").await.unwrap_or_else(|e| panic!("{e}"));
        status.push(t.elapsed());
        assert_eq!(p.sections.len(), 12);
        let t = Instant::now();
        let s = ws.scores().await.unwrap_or_else(|e| panic!("{e}"));
        scores.push(t.elapsed());
        assert!(s.working.1.total > 80.0);
    }
    for (name, mut v) in [("open store + select assessment", open), ("status (progress)", status), ("score (working + confirmed)", scores)] {
        v.sort();
        println!("{name:<32} median {:>8.2} ms   p90 {:>8.2} ms", v[v.len() / 2].as_secs_f64() * 1e3, v[v.len() * 9 / 10].as_secs_f64() * 1e3);
    }
    if let Some(k) = keep {
        println!("store kept at {}", k.display());
    }
}
