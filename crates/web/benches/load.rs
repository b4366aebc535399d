//! Load: the demo scaled to 10 cities, 60 units and 5,000 evidence files, served on
//! loopback, driven by wrk with 50 concurrent connections: every page people open
//! (signed in as the credit office, each requested once before its run) and 50 concurrent writers of a unit's form. Reports
//! requests per second and p50/p99 latency per page, then checks that no request failed
//! and no write was lost (every write answered "saved" is stored, with its audit entry).
//!
//! The served city holds the records of a typical city (0.3M entities, 0.5M decisions);
//! `LOAD_RECORDS=demo` keeps the demo's small one.
//!
//! Run: `cargo bench -p creditcity-web --bench load` (needs `wrk`: `apt-get install wrk`).
//! `LOAD_SECONDS` (default 6) sets the length of each run; `LOAD_PAGES` (comma-separated
//! paths) measures only those pages.

mod common;

use std::process::Command;

use common::scrape;
use std::time::Instant;

use creditcity_app::{Actor, Workspace, init};
use creditcity_rubric::Rubric;
use creditcity_store::{AuditFilter, Location, PlanUnit, Store};

const CITIES: usize = 10;
const FILES_PER_CITY: usize = 500;
const UNITS: usize = 60;

fn main() {
    let seconds: u64 = std::env::var("LOAD_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(6);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let location = Location::at(&dir.path().join("creditcity.db"));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap_or_else(|e| panic!("{e}"));
    let started = Instant::now();
    rt.block_on(build(&location, dir.path()));
    println!("store: {CITIES} cities, {UNITS} units in the served city, {} evidence files, built in {:.1} s", CITIES * FILES_PER_CITY, started.elapsed().as_secs_f64());

    let (tx, rx) = std::sync::mpsc::channel();
    let loc = location.clone();
    let server = rt.spawn(async move {
        let rubric = Rubric::embedded_2019().unwrap_or_else(|e| panic!("{e}"));
        let ws = creditcity_app::Workspaces::open(&loc, rubric, Some("青川市")).await.unwrap_or_else(|e| panic!("{e}"));
        let config = creditcity_web::Config { demo: true, ..creditcity_web::Config::default() };
        let state = creditcity_web::state(ws, &config).unwrap_or_else(|e| panic!("{e}"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
        let _ = tx.send(listener.local_addr().unwrap_or_else(|e| panic!("{e}")));
        let _ = creditcity_web::serve(state, listener).await;
    });
    let addr = rx.recv().unwrap_or_else(|e| panic!("{e}"));
    let base = format!("http://{addr}");
    let (admin_cookie, _) = login(&base, "xinyongban");
    let (unit_cookie, unit_csrf) = login(&base, "renhang");
    let unit_page = get_location(&base, "/", &unit_cookie);

    let only: Option<Vec<String>> = std::env::var("LOAD_PAGES").ok().map(|v| v.split(',').map(str::to_owned).collect());
    let mut rows = Vec::new();
    for path in PAGES {
        if only.as_ref().is_some_and(|o| !o.iter().any(|p| p == path)) {
            continue;
        }
        // One request first, so that the run measures the page, not its first computation
        // after the store was built.
        let warm = ureq::AgentBuilder::new().redirects(0).build().get(&format!("{base}{path}")).set("cookie", &admin_cookie).call();
        assert!(warm.as_ref().is_ok_and(|r| r.status() == 200), "GET {path} before the run: {warm:?}");
        rows.push(wrk(&format!("GET {path}"), &format!("{base}{path}"), &admin_cookie, None, seconds));
    }
    // 50 concurrent writers of one form; the script counts the writes answered "saved".
    let script = dir.path().join("post.lua");
    std::fs::write(
        &script,
        format!(
            r#"local threads = {{}}
function setup(thread) table.insert(threads, thread) end
saved = 0
other = 0
request = function()
  local body = "csrf={unit_csrf}&source=document&source_ref=load&v%3As7.cases_received=" .. (1000 + math.random(1, 100000000))
  return wrk.format("POST", "{unit_page}/inputs", {{["Cookie"] = "{unit_cookie}", ["Content-Type"] = "application/x-www-form-urlencoded"}}, body)
end
response = function(status, headers, body)
  local to = headers["Location"] or headers["location"] or ""
  if status == 303 and string.find(to, "m=saved", 1, true) then saved = saved + 1 else other = other + 1 end
end
done = function(summary, latency, requests)
  local s, o = 0, 0
  for _, t in ipairs(threads) do s = s + t:get("saved"); o = o + t:get("other") end
  io.write(string.format("SAVED %d OTHER %d\n", s, o))
end
"#
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let count = |location: &Location| {
        let location = location.clone();
        rt.block_on(async move {
            let store = Store::open(&location).await.unwrap_or_else(|e| panic!("{e}"));
            let assessments = store.assessments().await.unwrap_or_else(|e| panic!("{e}"));
            let a = assessments.into_iter().find(|a| a.city == "青川市").unwrap_or_else(|| panic!("no 青川市 in the store")).id;
            let values = store.value_history(a, "s7.cases_received").await.unwrap_or_else(|e| panic!("{e}")).len();
            let filter = AuditFilter { assessment_id: Some(a), entity: Some("input".into()), entity_id: Some("s7.cases_received".into()), actor: None };
            let audits = store.audit(&filter).await.unwrap_or_else(|e| panic!("{e}")).len();
            store.close().await;
            (values, audits)
        })
    };
    let (values_before, audits_before) = count(&location);
    let writers = wrk("POST {unit}/inputs (50 writers)", &format!("{base}{unit_page}/inputs"), &unit_cookie, Some(script.to_string_lossy().as_ref()), seconds);
    let saved = writers.saved.unwrap_or_else(|| panic!("the writers' script reported no count"));
    rows.push(writers);

    println!("\n{:<36}{:>10}{:>10}{:>10}{:>10}{:>8}", "50 connections, 2 threads", "req/s", "p50 ms", "p99 ms", "requests", "errors");
    for r in &rows {
        println!("{:<36}{:>10.0}{:>10.2}{:>10.2}{:>10}{:>8}", r.name, r.rps, r.p50, r.p99, r.requests, r.errors);
    }
    println!("\n| page | p50 ms | p99 ms | req/s |\n|---|---|---|---|");
    for r in &rows {
        println!("| `{}` | {:.2} | {:.2} | {:.0} |", r.name, r.p50, r.p99, r.rps);
    }
    server.abort();
    // No lost write: every write answered "saved" is a stored value with its audit entry.
    let (values, audits) = count(&location);
    let check = rt.block_on(async {
        let store = Store::open(&location).await.unwrap_or_else(|e| panic!("{e}"));
        let check = store.check().await.map_or_else(|e| format!("FAILED: {e}"), |c| format!("{} values, {} files verified", c.values, c.files));
        store.close().await;
        check
    });
    let (new_values, new_audits) = (values - values_before, audits - audits_before);
    println!("\nwrites answered saved: {saved}; new values of s7.cases_received stored: {new_values}; new audit entries: {new_audits}; store check: {check}");
    assert_eq!(new_values, new_audits, "a write without its audit entry");
    // wrk stops with up to one request per connection in flight: the server may store
    // those without wrk counting the answer. None answered "saved" may be missing.
    assert!(saved <= new_values as u64, "a write answered saved is not stored ({saved} answered saved, {new_values} stored)");
    assert!(new_values as u64 <= saved + CONNECTIONS, "more writes stored than sent");
    assert!(rows.iter().all(|r| r.errors == 0), "errors under load");
    assert!(!check.starts_with("FAILED"), "{check}");
}

/// Concurrent connections of every run.
const CONNECTIONS: u64 = 50;

/// Every page measured, as the credit office opens them.
const PAGES: [&str; 12] =
    ["/", "/rules", "/rules/7.2a", "/gaps", "/report", "/admin", "/audit", "/units/1", "/units/33", "/review", "/data", "/data/problems?input=s8.code_error_rate"];

async fn build(location: &Location, dir: &std::path::Path) {
    let rubric = Rubric::embedded_2019().unwrap_or_else(|e| panic!("{e}"));
    creditcity_web::demo::load(location, &rubric).await.unwrap_or_else(|e| panic!("{e}"));
    let plan = include_str!("../../../examples/qingchuan-plan.toml");
    let inputs = include_str!("../../../examples/qingchuan-complete.toml");
    let who = Actor("bench".to_owned());
    let files = dir.join("files");
    std::fs::create_dir_all(&files).unwrap_or_else(|e| panic!("{e}"));
    for c in 0..CITIES {
        let city = if c == 0 { "青川市".to_owned() } else { format!("示范市{c:02}") };
        if c > 0 {
            init(location, &rubric, &city, "2019", &who).await.unwrap_or_else(|e| panic!("{e}"));
        }
        let ws = Workspace::open(location, rubric.clone(), Some(&city)).await.unwrap_or_else(|e| panic!("{e}"));
        if c > 0 {
            ws.import_plan(plan, &who).await.unwrap_or_else(|e| panic!("{e}"));
            ws.import_inputs(inputs, "qingchuan-complete.toml", Some("市信用办"), &who).await.unwrap_or_else(|e| panic!("{e}"));
        } else {
            let have = ws.units().await.unwrap_or_else(|e| panic!("{e}")).len();
            for i in have..UNITS {
                let unit = PlanUnit { name: format!("市直部门{i:02}"), kind: "市直部门".to_owned(), parent: None, contact: String::new(), aliases: Vec::new() };
                ws.add_unit(&unit.name, &unit.kind, &creditcity_app::Actor("bench".to_owned())).await.unwrap_or_else(|e| panic!("{e}"));
            }
        }
        for f in 0..FILES_PER_CITY {
            let rule = &rubric.rules[f % rubric.rules.len()];
            let item = (f / rubric.rules.len()) % rule.evidence.len() + 1;
            let body = format!("%PDF-1.4 city {c} file {f} {}", "x".repeat(f % 300));
            ws.attach_reader(&format!("材料{f}.pdf"), &mut body.as_bytes(), &rule.id, Some(item as i64), None, None, &who)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
        ws.close().await;
    }
    // The served city's records at the size of a typical city (0.3M entities, 0.5M
    // decisions, spec §7) unless LOAD_RECORDS=demo keeps the demo's small city.
    if std::env::var("LOAD_RECORDS").as_deref() != Ok("demo") {
        let started = std::time::Instant::now();
        let ws = Workspace::open(location, rubric.clone(), Some("青川市")).await.unwrap_or_else(|e| panic!("{e}"));
        let records = dir.join("records");
        std::fs::create_dir_all(&records).unwrap_or_else(|e| panic!("{e}"));
        let path = records.clone();
        tokio::task::spawn_blocking(move || {
            use creditcity_data::generate::{CityProfile, Generator, Sizes};
            Generator::new(CityProfile::qingchuan(), 2019, 0.02).city(&path, &Sizes::typical())
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("{e}"));
        for kind in creditcity_data::DatasetKind::ALL {
            let file = records.join(format!("{}.csv", kind.id()));
            ws.import_dataset(kind.id(), &file, &who, Box::new(|_| {})).await.unwrap_or_else(|e| panic!("{e}"));
        }
        ws.close().await;
        println!("records of a typical city generated and imported in {:.1} s", started.elapsed().as_secs_f64());
    }
}

/// Signs in; returns the cookie header and the session's CSRF token.
fn login(base: &str, user: &str) -> (String, String) {
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    let page = agent.get(&format!("{base}/login")).call().unwrap_or_else(|e| panic!("{e}"));
    let login_cookie = page.header("set-cookie").and_then(|c| c.split(';').next()).unwrap_or_default().to_owned();
    let body = page.into_string().unwrap_or_default();
    let csrf = scrape(&body);
    let resp = match agent.post(&format!("{base}/login")).set("cookie", &login_cookie).send_form(&[("username", user), ("password", creditcity_web::demo::PASSWORD), ("csrf", &csrf)]) {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    let cookie = resp.all("set-cookie").into_iter().find(|c| c.starts_with("cc_session=")).and_then(|c| c.split(';').next()).unwrap_or_default().to_owned();
    assert!(!cookie.is_empty(), "login of {user} failed");
    let to = get_location(base, "/", &cookie);
    let page = agent.get(&format!("{base}{}", if to.is_empty() { "/" } else { &to })).set("cookie", &cookie).call().unwrap_or_else(|e| panic!("{e}"));
    let session_csrf = scrape(&page.into_string().unwrap_or_default());
    (cookie, session_csrf)
}

fn get_location(base: &str, path: &str, cookie: &str) -> String {
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    match agent.get(&format!("{base}{path}")).set("cookie", cookie).call() {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r.header("location").unwrap_or_default().to_owned(),
        Err(e) => panic!("{e}"),
    }
}

struct Row {
    name: String,
    rps: f64,
    p50: f64,
    p99: f64,
    requests: u64,
    errors: u64,
    /// Writes the script counted as saved.
    saved: Option<u64>,
}

fn wrk(name: &str, url: &str, cookie: &str, script: Option<&str>, seconds: u64) -> Row {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t2", &format!("-c{CONNECTIONS}"), &format!("-d{seconds}s"), "--latency", "-H", &format!("Cookie: {cookie}")]);
    if let Some(s) = script {
        cmd.args(["-s", s]);
    }
    let out = cmd.arg(url).output().unwrap_or_else(|e| panic!("cannot run wrk (apt-get install wrk): {e}"));
    let w = common::parse_wrk(&String::from_utf8_lossy(&out.stdout));
    Row { name: name.to_owned(), rps: w.rps, p50: w.p50, p99: w.p99, requests: w.requests, errors: w.errors, saved: w.saved.and_then(|n| n.first().copied()) }
}
