//! Benchmarks of `creditcity-data` (a plain `main`, not timed tests).
//!
//! ```text
//! cargo bench -p creditcity-data --bench data                                # everything below
//! cargo bench -p creditcity-data --bench data -- --uscc [RUNS]               # the code check only
//! cargo bench -p creditcity-data --bench data -- --codes-file FILE           # one code per line
//! cargo bench -p creditcity-data --bench data -- --generate KIND ROWS FILE   # write a dataset
//! cargo bench -p creditcity-data --bench data -- --check KIND FILE           # check + derive
//! ```
//! `benches/stdnum_compare.sh` compares the code check with python-stdnum on the same
//! million codes; `benches/rss.sh` measures peak memory on a 10M-row file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use creditcity_data::code::check_uscc;
use creditcity_data::generate::{CityProfile, Generator, make_uscc};
use creditcity_data::{DatasetKind, Datasets, Input, check, derive};
use std::hint::black_box;
use std::io::BufRead;
use std::path::Path;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args.first().map(String::as_str) {
        Some("--uscc") => {
            let codes = codes(1_000_000);
            for _ in 0..args.get(1).map_or(1, |n| n.parse().expect("runs")) {
                uscc(&codes);
            }
        }
        Some("--codes-file") => codes_file(Path::new(&args[1])),
        Some("--generate") => {
            let kind = DatasetKind::from_id(&args[1]).expect("dataset kind");
            generate(kind, args[2].parse().expect("rows"), Path::new(&args[3]));
        }
        Some("--parse-only") => parse_only(Path::new(&args[1])),
        Some("--check") => {
            let kind = DatasetKind::from_id(&args[1]).expect("dataset kind");
            check_file(kind, Path::new(&args[2]));
        }
        _ => all(),
    }
}

fn codes(n: u64) -> Vec<String> {
    let regions = ["510802", "510821", "110108", "440300"];
    (0..n)
        .map(|i| {
            let c = make_uscc(
                if i % 10 == 3 { "92" } else { "91" },
                regions[(i % 4) as usize],
                i * 7919 + 13,
            );
            if i % 20 == 0 {
                let mut c = c;
                c.pop();
                c.push('0');
                c
            } else {
                c
            }
        })
        .collect()
}

/// The codes as the importer sees them: `&str` cells of one contiguous text (the reader's
/// 64 KiB buffer of CSV records), here one column of codes separated by commas, read in
/// order. Checking a `Vec<String>` adds a pointer chase a code to scattered heap strings,
/// which the importer does not do; [`time_codes`] measures both.
struct Column {
    text: String,
    cells: Vec<(u32, u32)>,
}

impl Column {
    fn of(codes: &[String]) -> Column {
        let mut text = String::with_capacity(codes.len() * 19);
        let mut cells = Vec::with_capacity(codes.len());
        for c in codes {
            cells.push((text.len() as u32, (text.len() + c.len()) as u32));
            text.push_str(c);
            text.push(',');
        }
        Column { text, cells }
    }
}

/// Codes a second checking `codes` `rounds` times, wall clock and on CPU (the machine may
/// be shared); `column`: the codes as `&str` slices of one text, as in the importer,
/// instead of one heap `String` each. Each code gets [`check_uscc`]'s full answer, the
/// failed check of a wrong code included (`black_box` keeps it from being dropped), as
/// the importer needs it for the problem's message.
fn time_codes(codes: &[String], rounds: u32, column: bool) -> (f64, Option<f64>) {
    let col = Column::of(if column { codes } else { &[] });
    let mut valid = 0u64;
    let cpu = cpu_secs();
    let t = Instant::now();
    for _ in 0..rounds {
        if column {
            let text = col.text.as_str();
            for &(a, b) in &col.cells {
                // The reader's cells are slices at offsets it found; `get` is its bound check.
                let c = text.get(a as usize..b as usize).unwrap_or("");
                valid += u64::from(black_box(check_uscc(black_box(c))).is_ok());
            }
        } else {
            for c in codes {
                valid += u64::from(black_box(check_uscc(black_box(c))).is_ok());
            }
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu.zip(cpu_secs()).map(|(a, b)| b - a);
    black_box(valid);
    let n = codes.len() as f64 * f64::from(rounds);
    (n / secs, cpu.map(|c| n / c))
}

/// The USCC check on a million codes (5% with a wrong check character, 10% individual
/// businesses), 30 rounds after 2 of warm-up, both ways the codes may be held.
fn uscc(codes: &[String]) {
    let on_cpu = |c: Option<f64>| c.map_or_else(|| "?".into(), |c| format!("{:.1}M", c / 1e6));
    time_codes(codes, 2, true);
    let (rate, cpu) = time_codes(codes, 30, true);
    println!(
        "USCC check: {:.1}M codes/s (on CPU {}; one core, 1M codes × 30 rounds, &str cells of one text as the importer reads them)",
        rate / 1e6,
        on_cpu(cpu)
    );
    time_codes(codes, 2, false);
    let (rate, cpu) = time_codes(codes, 30, false);
    println!(
        "USCC check: {:.1}M codes/s (on CPU {}; the same codes as a Vec<String>, one heap string a code)",
        rate / 1e6,
        on_cpu(cpu)
    );
}

fn codes_file(path: &Path) {
    let file = std::fs::File::open(path).expect("codes file");
    let codes: Vec<String> = std::io::BufReader::new(file)
        .lines()
        .map(|l| l.expect("line"))
        .collect();
    let valid = codes.iter().filter(|c| check_uscc(c).is_ok()).count();
    let rate = time_codes(&codes, 20, true).0;
    println!(
        "rust: {} codes, {valid} valid, {:.1}M codes/s",
        codes.len(),
        rate / 1e6
    );
}

fn generate(kind: DatasetKind, rows: u64, path: &Path) {
    let mut g = Generator::new(CityProfile::qingchuan(), 2019, 0.01);
    let file = std::fs::File::create(path).expect("create");
    let t = Instant::now();
    match kind {
        DatasetKind::Register => g.register(file, rows),
        DatasetKind::Licences | DatasetKind::Penalties => g.decisions(kind, file, rows),
        DatasetKind::Lists => g.lists(file, rows),
        DatasetKind::Commitments => g.commitments(file, rows),
        DatasetKind::ApprovalItems => g.approval_items(file, rows),
        DatasetKind::Cases => g.cases(file, rows),
    }
    .expect("generate");
    eprintln!(
        "generated {rows} {} rows in {:.1} s",
        kind.id(),
        t.elapsed().as_secs_f64()
    );
}

/// CPU time of this thread so far (Linux: /proc/thread-self/schedstat, nanoseconds on
/// a CPU), to tell the work from the waiting on a shared machine; `None` elsewhere.
fn cpu_secs() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

fn check_file(kind: DatasetKind, path: &Path) -> f64 {
    let settings = Generator::new(CityProfile::qingchuan(), 0, 0.0).settings();
    let bytes = std::fs::metadata(path).map_or(0, |m| m.len());
    let cpu = cpu_secs();
    let t = Instant::now();
    let c = check(kind, Input::open(path).expect("open"), &settings).expect("check");
    let mut d = Datasets::default();
    d.add(&c);
    let derivation = derive(&d, &settings);
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu.zip(cpu_secs()).map(|(a, b)| b - a);
    println!(
        "{:<10} {:>10} rows  {:>7.1} MB  {:>6.2} s  {:>6.2}M rows/s  (on CPU {})  {:>6} problems  {} values",
        kind.id(),
        c.rows,
        bytes as f64 / 1e6,
        secs,
        c.rows as f64 / secs / 1e6,
        cpu.map_or_else(
            || "?".into(),
            |cpu| format!("{cpu:.2} s, {:.2}M rows/s", c.rows as f64 / cpu / 1e6)
        ),
        c.problems.len(),
        derivation.values.len()
    );
    secs
}

/// The floor: CSV parsing and UTF-8 validation alone, without any check.
fn parse_only(path: &Path) {
    let t = Instant::now();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .expect("open");
    let mut rec = csv::StringRecord::new();
    let mut rows = 0u64;
    while rdr.read_record(&mut rec).expect("read") {
        rows += black_box(rec.len() as u64) / rec.len().max(1) as u64;
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "parse only {rows:>10} rows  {secs:>6.2} s  {:>6.2}M rows/s",
        rows as f64 / secs / 1e6
    );
}

fn all() {
    uscc(&codes(1_000_000));

    let dir = tempfile::tempdir().expect("tempdir");
    let register = dir.path().join("register.csv");
    let licences = dir.path().join("licences.csv");
    let half_licences = dir.path().join("licences-0.3M.csv");
    let half_penalties = dir.path().join("penalties-0.2M.csv");
    generate(DatasetKind::Register, 1_000_000, &register);
    generate(DatasetKind::Licences, 1_000_000, &licences);
    generate(DatasetKind::Licences, 300_000, &half_licences);
    generate(DatasetKind::Penalties, 200_000, &half_penalties);
    println!("floor (csv crate + UTF-8 validation, no checks):");
    parse_only(&register);
    parse_only(&licences);
    println!("check + derive from CSV (one core; 3 runs each, the machine may be shared):");
    for _ in 0..3 {
        check_file(DatasetKind::Register, &register);
    }
    for _ in 0..3 {
        check_file(DatasetKind::Licences, &licences);
    }
    // A typical city's year of decisions: 0.3M licences + 0.2M penalties, checked and
    // derived together (s8.decisions_total, s8.decisions_reported, on-time rate).
    let settings = Generator::new(CityProfile::qingchuan(), 0, 0.0).settings();
    let t = Instant::now();
    let l = check(
        DatasetKind::Licences,
        Input::open(&half_licences).expect("open"),
        &settings,
    )
    .expect("check");
    let p = check(
        DatasetKind::Penalties,
        Input::open(&half_penalties).expect("open"),
        &settings,
    )
    .expect("check");
    let mut d = Datasets::default();
    d.add(&l);
    d.add(&p);
    let derivation = derive(&d, &settings);
    let secs = t.elapsed().as_secs_f64();
    let reported = derivation
        .get(creditcity_data::InputKey::DecisionsReported)
        .map(|x| x.formula.clone())
        .unwrap_or_default();
    println!(
        "0.5M decisions (0.3M licences + 0.2M penalties) end to end, read + check + derive, no store: {secs:.2} s"
    );
    println!("  {reported}");
}
