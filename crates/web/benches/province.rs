//! Province: 300 cities (about China's prefecture-level count), each with the example
//! plan and the values of one of the two example cities, in one province, copied from a
//! SQLite store into PostgreSQL and served by two server processes on that database
//! (issue 11). Driven by wrk on loopback:
//!
//! a. `/compare` as the province office, 50 connections (the cold first request of each
//!    server timed apart), asking for gzip as browsers do and, apart, for a plain body;
//! b. every city page (`/`, `/rules`, `/rules/7.2a`, `/gaps`, `/units/{id}`, `/review`,
//!    `/audit`, `/report`, `/data`, `/admin`) as one city's credit office, 50 connections,
//!    asking for gzip as browsers do (so does every read of part c; `PROVINCE_GZIP=0`:
//!    plain),
//!    on PostgreSQL and on the SQLite store it was copied from (one process each), with
//!    the ratio PostgreSQL / SQLite;
//! c. 200 concurrent clients across the two servers: on each, readers (the credit offices
//!    of 100 cities, every city page in turn) and writers (the 人行 unit member of every
//!    city posting its form with a new `s7.cases_received`), reads and writes timed
//!    apart, once flat out (no pause between a client's requests) and once with think
//!    time; then the writes answered "saved" are counted against the new values and the
//!    new audit entries in the database: none may be lost.
//!
//! Every measurement runs `PROVINCE_ROUNDS` times (default 2), each reported with the
//! load average of the machine before and after it. It is a benchmark: it asserts no
//! time, only that nothing failed and no write was lost.
//!
//! Run (needs `wrk` and a PostgreSQL server; `.ci/pg-start` starts a throwaway one):
//!
//! ```text
//! eval "$(bash .ci/pg-start)"
//! cargo build --release -p creditcity            # the servers: target/release/creditcity
//! CREDITCITY_BIN=target/release/creditcity cargo bench -p creditcity-web --bench province
//! bash .ci/pg-stop
//! ```
//!
//! `.ci/pg-start`'s server is a test server: it runs with `fsync=off` and
//! `synchronous_commit=off`, so a commit waits for no disk and part c's writes are
//! faster than on a durable server (docs/deploy.md's settings); point
//! `CREDITCITY_TEST_PG` at a durable server to time them as deployed.
//!
//! `CREDITCITY_BIN` names the `creditcity` binary the servers run (`creditcity --store …
//! --files … serve --listen …`); without it the bench runs its servers as processes of
//! its own executable (the same `Workspaces::open` + `creditcity_web::state` + `serve`,
//! but with the system allocator: the `creditcity` binary uses mimalloc, so give it to
//! measure what ships).
//! `CREDITCITY_BENCH_CITIES` (default 300), `PROVINCE_SECONDS` (each run, default 8),
//! `PROVINCE_ROUNDS` (default 2), `PROVINCE_PARTS` (the parts to run, default `abc`),
//! `PROVINCE_GZIP=0` (the reads of parts b and c ask for
//! plain bodies), `PROVINCE_WRITERS` (writer connections of the 100 of
//! each server, default 20), `PROVINCE_THINK_MS` (mean pause between a client's
//! requests in the think-time run, default 500), `PROVINCE_KEEP=DIR` keeps the SQLite
//! store, the server logs and the wrk scripts in DIR (the PostgreSQL database is kept
//! with its cluster either way).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use creditcity_app::accounts::Role;
use creditcity_app::{Actor, Workspace, Workspaces, init};
use creditcity_rubric::Rubric;
use creditcity_store::{AssessmentId, AuditFilter, CityId, Location, Store, UnitId};

use common::scrape;

const PASSWORD: &str = "bench-password";
const PROVINCE: &str = "示范省";
/// The unit whose member writes (its tasks include rule 7.3's bank cases).
const WRITER_UNIT: &str = "人行青川市中心支行";
/// The input the writers set.
const KEY: &str = "s7.cases_received";
/// The city whose pages are measured one by one (the midway values: gaps, reviews).
const PAGE_CITY: usize = 1;
/// Clients of part c: the credit offices of this many cities read, the unit members of
/// these cities write.
const CLIENT_CITIES: usize = 200;
/// Connections of each server in part c (two servers: 200 concurrent clients).
const PER_SERVER: usize = 100;
/// Connections of the runs of part a and b.
const CONNECTIONS: usize = 50;

fn main() {
    if let Ok(listen) = std::env::var("PROVINCE_SERVE_LISTEN") {
        serve_here(&listen);
        return;
    }
    let env_num = |name: &str, default: u64| std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default);
    let cities = env_num("CREDITCITY_BENCH_CITIES", 300) as usize;
    let seconds = env_num("PROVINCE_SECONDS", 8);
    let rounds = env_num("PROVINCE_ROUNDS", 2);
    let writers = env_num("PROVINCE_WRITERS", 20) as usize;
    let think = env_num("PROVINCE_THINK_MS", 500);
    let gzip = env_num("PROVINCE_GZIP", 1) != 0;
    let parts = std::env::var("PROVINCE_PARTS").unwrap_or_else(|_| "abc".into());
    assert!(cities >= CLIENT_CITIES, "CREDITCITY_BENCH_CITIES must be at least {CLIENT_CITIES}");
    assert!(writers > 0 && writers < PER_SERVER, "PROVINCE_WRITERS must be between 1 and {}", PER_SERVER - 1);
    let pg = std::env::var("CREDITCITY_TEST_PG").unwrap_or_else(|_| {
        panic!("CREDITCITY_TEST_PG is not set: start a throwaway PostgreSQL with eval \"$(bash .ci/pg-start)\"")
    });
    let _ = Command::new("wrk").arg("--version").output().unwrap_or_else(|e| panic!("cannot run wrk (apt-get install wrk): {e}"));

    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = std::env::var("PROVINCE_KEEP").map_or_else(|_| tmp.path().to_path_buf(), PathBuf::from);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let sqlite = Location::at(&dir.join("creditcity.db"));
    let files = dir.join("pg-files");
    let db_name = format!("creditcity_province_{}", std::process::id());
    let pg_url = format!("{}/{db_name}", pg.rsplit_once('/').map_or(pg.as_str(), |(base, _)| base));
    let postgres = Location::postgres(&pg_url, &files);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap_or_else(|e| panic!("{e}"));

    println!("machine: {} cores; load average at start: {}", std::thread::available_parallelism().map_or(1, std::num::NonZero::get), loadavg());
    let started = Instant::now();
    let city_rows = rt.block_on(build(&sqlite, cities));
    println!("SQLite store: {cities} cities (plan, values, a credit office and a unit member each) in one province, built in {:.1} s", started.elapsed().as_secs_f64());
    let started = Instant::now();
    rt.block_on(async {
        let from = Store::open(&sqlite).await.unwrap_or_else(|e| panic!("{e}"));
        let to = Store::open(&postgres).await.unwrap_or_else(|e| panic!("{e}"));
        let summary = from.copy_into(&to).await.unwrap_or_else(|e| panic!("{e}"));
        println!(
            "copied into PostgreSQL database {db_name} in {:.1} s: {} values, {} tasks, {} audit entries, {} accounts",
            started.elapsed().as_secs_f64(),
            summary.rows("input_values"),
            summary.rows("tasks"),
            summary.rows("audit_log"),
            summary.rows("users")
        );
        from.close().await;
        to.close().await;
    });

    let bin = std::env::var("CREDITCITY_BIN").ok().map(PathBuf::from);
    match &bin {
        Some(b) => println!("servers: {} serve", b.display()),
        None => println!("servers: processes of this bench's executable (Workspaces::open + creditcity_web::state + serve; set CREDITCITY_BIN to run `creditcity serve`)"),
    }
    let pg_store = pg_url.clone();
    let pg_a = &Server::start("pg-a", bin.as_deref(), &pg_store, Some(&files), &dir);
    let pg_b = &Server::start("pg-b", bin.as_deref(), &pg_store, Some(&files), &dir);
    let mut sqlite_server = Server::start("sqlite", bin.as_deref(), &sqlite.db.display(), None, &dir);
    let lite = &sqlite_server;
    println!("servers up: {} and {} on PostgreSQL, {} on SQLite", pg_a.base, pg_b.base, lite.base);

    // The province office signs in on each store; its first /compare is the cold one.
    let mut cold = Vec::new();
    let mut province = Vec::new();
    for s in [pg_a, pg_b, lite] {
        let cookie = login(&s.base, "sheng");
        let t = Instant::now();
        let body = get_ok(&s.base, "/compare", &cookie);
        cold.push((format!("{} ({} bytes of HTML)", s.name, body.len()), t.elapsed().as_secs_f64() * 1000.0));
        assert!(body.contains(&city_rows[cities - 1].name), "the comparison of {} lacks the last city", s.name);
        let t = Instant::now();
        let _ = get_ok(&s.base, "/compare", &cookie);
        cold.push((format!("{} (2nd request)", s.name), t.elapsed().as_secs_f64() * 1000.0));
        province.push(cookie);
    }
    for (name, ms) in &cold {
        println!("GET /compare first request after start, {name}: {ms:.0} ms");
    }

    // One city's credit office on each store (sessions live in the store: the SQLite
    // store has its own).
    let page_city = &city_rows[PAGE_CITY];
    let pages: Vec<String> = PAGES.iter().map(|p| p.replace("{unit}", &page_city.unit.to_string())).collect();
    let admin_pg = login(&pg_a.base, &page_city.admin);
    let admin_lite = login(&lite.base, &page_city.admin);
    for p in &pages {
        let _ = get_ok(&pg_a.base, p, &admin_pg);
        let _ = get_ok(&lite.base, p, &admin_lite);
    }

    let mut rows: Vec<Row> = Vec::new();
    for round in (1..=rounds).filter(|_| parts.contains('a')) {
        for (encoding, gzip) in [("gzip", true), ("plain", false)] {
            rows.push(wrk_run(&format!("GET /compare (province, {encoding}) PG r{round}"), &pg_a.base, "/compare", &province[0], &dir, seconds, gzip));
            rows.push(wrk_run(&format!("GET /compare (province, {encoding}) SQLite r{round}"), &lite.base, "/compare", &province[2], &dir, seconds, gzip));
        }
    }
    for round in (1..=rounds).filter(|_| parts.contains('b')) {
        for p in &pages {
            rows.push(wrk_run(&format!("GET {p} PG r{round}"), &pg_a.base, p, &admin_pg, &dir, seconds, gzip));
            rows.push(wrk_run(&format!("GET {p} SQLite r{round}"), &lite.base, p, &admin_lite, &dir, seconds, gzip));
        }
    }
    sqlite_server.stop();

    // Part c: the clients of 200 cities sign in (PostgreSQL sessions serve on both servers).
    let started = Instant::now();
    let clients = sign_in_clients(&pg_a.base, &city_rows[..CLIENT_CITIES]);
    println!("\n{} sessions signed in and every page of each reader visited on both servers in {:.1} s", clients.len() * 2, started.elapsed().as_secs_f64());
    for (s, half) in [(pg_a, 0), (pg_b, 1)] {
        warm(&s.base, &clients, half);
    }
    let count = || {
        let postgres = postgres.clone();
        let assessments: Vec<AssessmentId> = city_rows[..CLIENT_CITIES].iter().map(|c| c.assessment).collect();
        rt.block_on(async move {
            let store = Store::open(&postgres).await.unwrap_or_else(|e| panic!("{e}"));
            let mut values = 0;
            for a in assessments {
                values += store.value_history(a, KEY).await.unwrap_or_else(|e| panic!("{e}")).len();
            }
            let filter = AuditFilter { assessment_id: None, entity: Some("input".into()), entity_id: Some(KEY.into()), actor: None };
            let audits = store.audit(&filter).await.unwrap_or_else(|e| panic!("{e}")).len();
            store.close().await;
            (values, audits)
        })
    };
    let mut mixed = Vec::new();
    for (label, pause) in [("flat out", 0), ("think time", think)] {
        for round in (1..=rounds).filter(|_| parts.contains('c')) {
            let before = count();
            let m = mixed_run(&format!("{label} r{round}"), [pg_a, pg_b], &clients, writers, Pace { think_ms: pause, gzip }, &dir, seconds);
            let after = count();
            mixed.push((m, after.0 - before.0, after.1 - before.1));
        }
    }
    let t = Instant::now();
    let _ = get_ok(&pg_a.base, "/compare", &province[0]);
    let recompute = t.elapsed().as_secs_f64() * 1000.0;

    // Tables.
    println!("\n## a, b: one server, {CONNECTIONS} connections, wrk -t2, {seconds} s each\n");
    println!("| run | req/s | p50 ms | p99 ms | requests | errors | load before → after |\n|---|---|---|---|---|---|---|");
    for r in &rows {
        println!("| `{}` | {:.0} | {:.2} | {:.2} | {} | {} | {} → {} |", r.name, r.rps, r.p50, r.p99, r.requests, r.errors, r.load_before, r.load_after);
    }
    println!("\n## b: PostgreSQL / SQLite, by page and round (p50, p99: >1 is slower on PostgreSQL; req/s: SQLite / PostgreSQL)\n");
    println!("| page | round | p50 PG/SQLite | p99 PG/SQLite | req/s SQLite/PG |\n|---|---|---|---|---|");
    for round in 1..=rounds {
        for p in ["/compare (province, gzip)", "/compare (province, plain)"].into_iter().chain(pages.iter().map(String::as_str)) {
            let find = |b: &str| {
                let name = format!("GET {p} {b} r{round}");
                rows.iter().find(|r| r.name == name)
            };
            if let (Some(a), Some(b)) = (find("PG"), find("SQLite")) {
                println!("| `{p}` | {round} | {:.2} | {:.2} | {:.2} |", a.p50 / b.p50, a.p99 / b.p99, b.rps / a.rps);
            }
        }
    }
    println!("\n## c: {} clients across the two PostgreSQL servers ({} readers + {writers} writers on each), wrk -t1 per group, {seconds} s each\n", 2 * PER_SERVER, PER_SERVER - writers);
    println!("| run | reads/s | reads p50 ms | reads p99 ms | writes/s | writes p50 ms | writes p99 ms | saved | other | new values | new audit entries | lost | errors | load before → after |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut lost_total = 0;
    for (m, values, audits) in &mixed {
        let lost = m.saved.saturating_sub(*values as u64);
        lost_total += lost + (*values as u64).abs_diff(*audits as u64);
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.0} | {:.2} | {:.2} | {} | {} | {values} | {audits} | {lost} | {} | {} → {} |",
            m.name, m.reads_rps, m.reads_p50, m.reads_p99, m.writes_rps, m.writes_p50, m.writes_p99, m.saved, m.other, m.errors, m.load_before, m.load_after
        );
    }
    println!("\n(reads p50/p99: the worse of the two servers' readers; writes likewise; writes/s: answered saved per second; other: answered, but not \"saved\" — e.g. \"nochange\" for a value equal to the stored one)");
    println!("GET /compare after the writes (recomputed on PostgreSQL, {cities} cities): {recompute:.0} ms");
    println!("load average at the end: {}", loadavg());
    let check = rt.block_on(async {
        let store = Store::open(&postgres).await.unwrap_or_else(|e| panic!("{e}"));
        let check = store.check().await.map_or_else(|e| format!("FAILED: {e}"), |c| format!("{} values, {} files verified", c.values, c.files));
        store.close().await;
        check
    });
    println!("PostgreSQL store check: {check}");
    println!("lost writes (answered saved but not stored, or stored without their audit entry): {lost_total}");
    assert!(!check.starts_with("FAILED"), "{check}");
    assert_eq!(lost_total, 0, "writes lost");
    assert!(rows.iter().all(|r| r.errors == 0), "errors under load");
    assert!(mixed.iter().all(|(m, _, _)| m.errors == 0), "errors under load");
    // Every write sent either answered or was in flight when wrk stopped.
    for (m, values, _) in &mixed {
        assert!(*values as u64 <= m.saved + m.other + 2 * writers as u64, "{}: more writes stored than sent", m.name);
    }
}

/// The pages of a city, as its credit office opens them.
const PAGES: [&str; 10] = ["/", "/rules", "/rules/7.2a", "/gaps", "/units/{unit}", "/review", "/audit", "/report", "/data", "/admin"];

struct City {
    name: String,
    assessment: AssessmentId,
    unit: UnitId,
    admin: String,
    member: String,
}

async fn build(location: &Location, cities: usize) -> Vec<City> {
    let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let read = |name: &str| std::fs::read_to_string(examples.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let plan = read("qingchuan-plan.toml");
    let inputs = [read("qingchuan-complete.toml"), read("linjiang-midway.toml")];
    let rubric = Rubric::embedded_2019().unwrap_or_else(|e| panic!("{e}"));
    let who = Actor("bench".to_owned());
    let mut out = Vec::new();
    let mut city_ids: Vec<CityId> = Vec::new();
    for c in 0..cities {
        let city = format!("示范市{c:03}");
        let row = init(location, &rubric, &city, "2019", &who).await.unwrap_or_else(|e| panic!("{e}"));
        let ws = Workspace::open(location, rubric.clone(), Some(&city)).await.unwrap_or_else(|e| panic!("{e}"));
        ws.import_plan(&plan, &who).await.unwrap_or_else(|e| panic!("{e}"));
        let text = inputs[c % 2].replace("city = \"青川市\"", &format!("city = \"{city}\"")).replace("city = \"临江市\"", &format!("city = \"{city}\""));
        ws.import_inputs(&text, "example.toml", Some("市信用办"), &who).await.unwrap_or_else(|e| panic!("{e}"));
        let unit = ws.units().await.unwrap_or_else(|e| panic!("{e}")).into_iter().find(|u| u.name == WRITER_UNIT).unwrap_or_else(|| panic!("no {WRITER_UNIT} in the plan"));
        let (admin, member) = (format!("admin{c:03}"), format!("unit{c:03}"));
        let (office, bank) = (format!("{city}信用办"), format!("{city}人行"));
        let (a, m) = tokio::join!(
            ws.create_user(&admin, &office, PASSWORD, Role::Admin, None, &who),
            ws.create_user(&member, &bank, PASSWORD, Role::Unit, Some(&unit), &who)
        );
        a.unwrap_or_else(|e| panic!("{e}"));
        m.unwrap_or_else(|e| panic!("{e}"));
        ws.close().await;
        city_ids.push(row.city_id);
        out.push(City { name: city, assessment: row.id, unit: unit.id, admin, member });
    }
    let all = Workspaces::open(location, rubric, None).await.unwrap_or_else(|e| panic!("{e}"));
    for id in city_ids {
        all.set_province(id, PROVINCE, &who).await.unwrap_or_else(|e| panic!("{e}"));
    }
    all.create_province_user("sheng", "示范省信用办", PASSWORD, PROVINCE, &who).await.unwrap_or_else(|e| panic!("{e}"));
    all.close().await;
    out
}

/// A server process on a store, stopped (SIGTERM, then SIGKILL) when dropped.
struct Server {
    name: String,
    base: String,
    child: Option<Child>,
    log: PathBuf,
}

impl Server {
    fn start(name: &str, bin: Option<&Path>, store: &str, files: Option<&Path>, dir: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).unwrap_or_else(|e| panic!("{e}")).port();
        let listen = format!("127.0.0.1:{port}");
        let log = dir.join(format!("server-{name}.log"));
        let out = std::fs::File::create(&log).unwrap_or_else(|e| panic!("{e}"));
        let err = out.try_clone().unwrap_or_else(|e| panic!("{e}"));
        let mut cmd = if let Some(b) = bin {
            let mut c = Command::new(b);
            c.args(["--store", store]);
            if let Some(f) = files {
                c.arg("--files").arg(f);
            }
            c.args(["serve", "--listen", &listen]);
            c
        } else {
            let mut c = Command::new(std::env::current_exe().unwrap_or_else(|e| panic!("{e}")));
            c.env("PROVINCE_SERVE_LISTEN", &listen).env("PROVINCE_SERVE_STORE", store);
            if let Some(f) = files {
                c.env("PROVINCE_SERVE_FILES", f);
            }
            c
        };
        let child = cmd.stdin(Stdio::null()).stdout(out).stderr(err).spawn().unwrap_or_else(|e| panic!("cannot start the {name} server: {e}"));
        let mut server = Self { name: name.to_owned(), base: format!("http://{listen}"), child: Some(child), log };
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            if ureq::get(&format!("{}/healthz", server.base)).timeout(Duration::from_secs(5)).call().is_ok_and(|r| r.status() == 200) {
                break;
            }
            let exited = server.child.as_mut().and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || Instant::now() > deadline {
                let log = std::fs::read_to_string(&server.log).unwrap_or_default();
                panic!("the {name} server did not start ({exited:?}):\n{log}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        server
    }

    fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Serves a store as `creditcity serve` does (when no `CREDITCITY_BIN` is given).
fn serve_here(listen: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into());
    tracing_subscriber::fmt().with_env_filter(filter).init();
    let store = std::env::var("PROVINCE_SERVE_STORE").unwrap_or_else(|e| panic!("{e}"));
    let files = std::env::var("PROVINCE_SERVE_FILES").ok().map(PathBuf::from);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap_or_else(|e| panic!("{e}"));
    rt.block_on(async {
        let location = Location::parse(&store, files.as_deref()).unwrap_or_else(|e| panic!("{e}"));
        let rubric = Rubric::embedded_2019().unwrap_or_else(|e| panic!("{e}"));
        let ws = Workspaces::open(&location, rubric, None).await.unwrap_or_else(|e| panic!("{e}"));
        let state = creditcity_web::state(ws, &creditcity_web::Config::default()).unwrap_or_else(|e| panic!("{e}"));
        let listener = tokio::net::TcpListener::bind(listen).await.unwrap_or_else(|e| panic!("{e}"));
        creditcity_web::serve(state, listener).await.unwrap_or_else(|e| panic!("{e}"));
    });
}

/// Signs in; returns the session cookie.
fn login(base: &str, user: &str) -> String {
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    let page = agent.get(&format!("{base}/login")).call().unwrap_or_else(|e| panic!("{e}"));
    let login_cookie = page.header("set-cookie").and_then(|c| c.split(';').next()).unwrap_or_default().to_owned();
    let csrf = scrape(&page.into_string().unwrap_or_default());
    let resp = match agent.post(&format!("{base}/login")).set("cookie", &login_cookie).send_form(&[("username", user), ("password", PASSWORD), ("csrf", &csrf)]) {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    let cookie = resp.all("set-cookie").into_iter().find(|c| c.starts_with("cc_session=")).and_then(|c| c.split(';').next()).unwrap_or_default().to_owned();
    assert!(!cookie.is_empty(), "login of {user} failed: {}", resp.status());
    cookie
}

/// GET that must answer 200; returns the body.
fn get_ok(base: &str, path: &str, cookie: &str) -> String {
    let agent = ureq::AgentBuilder::new().redirects(0).timeout(Duration::from_secs(120)).build();
    match agent.get(&format!("{base}{path}")).set("cookie", cookie).call() {
        Ok(r) if r.status() == 200 => r.into_string().unwrap_or_default(),
        Ok(r) | Err(ureq::Error::Status(_, r)) => panic!("GET {base}{path}: {} {:?}", r.status(), r.header("location")),
        Err(e) => panic!("GET {base}{path}: {e}"),
    }
}

/// The clients of part c: a city's credit office (reader) and unit member (writer).
struct Client {
    admin_cookie: String,
    member_cookie: String,
    member_csrf: String,
    pages: Vec<String>,
    unit_page: String,
}

fn sign_in_clients(base: &str, cities: &[City]) -> Vec<Client> {
    std::thread::scope(|s| {
        let handles: Vec<_> = cities
            .chunks(cities.len().div_ceil(4))
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|c| {
                            let admin_cookie = login(base, &c.admin);
                            let member_cookie = login(base, &c.member);
                            let unit_page = format!("/units/{}", c.unit);
                            let member_csrf = scrape(&get_ok(base, &unit_page, &member_cookie));
                            assert!(!member_csrf.is_empty(), "no CSRF token on {unit_page} for {}", c.member);
                            let pages = PAGES.iter().map(|p| p.replace("{unit}", &c.unit.to_string())).collect();
                            Client { admin_cookie, member_cookie, member_csrf, pages, unit_page }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|_| panic!("sign-in thread failed"))).collect()
    })
}

/// Visits every page of the readers of one server once (each must answer 200), so that
/// the runs measure pages served, not their first computation after the start.
fn warm(base: &str, clients: &[Client], half: usize) {
    let mine: Vec<&Client> = clients.iter().skip(half).step_by(2).collect();
    std::thread::scope(|s| {
        for chunk in mine.chunks(mine.len().div_ceil(4)) {
            s.spawn(move || {
                for c in chunk {
                    for p in &c.pages {
                        let _ = get_ok(base, p, &c.admin_cookie);
                    }
                }
            });
        }
    });
}

struct Row {
    name: String,
    rps: f64,
    p50: f64,
    p99: f64,
    requests: u64,
    errors: u64,
    saved: u64,
    other: u64,
    load_before: String,
    load_after: String,
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).unwrap_or_default()
}

/// One page, one account, one server: wrk -t2 -c50; `gzip`: asking for a compressed
/// body, as browsers do.
fn wrk_run(name: &str, base: &str, path: &str, cookie: &str, dir: &Path, seconds: u64, gzip: bool) -> Row {
    let script = dir.join("reads-one.lua");
    std::fs::write(&script, reads_script(&[(cookie.to_owned(), path.to_owned())], 0, gzip)).unwrap_or_else(|e| panic!("{e}"));
    let before = loadavg();
    let mut row = parse_wrk(name, &wrk_command(base, 2, CONNECTIONS, seconds, &script).output().unwrap_or_else(|e| panic!("wrk: {e}")).stdout);
    row.load_before = before;
    row.load_after = loadavg();
    eprintln!("{name}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, {} errors (load {} → {})", row.rps, row.p50, row.p99, row.errors, row.load_before, row.load_after);
    row
}

fn wrk_command(base: &str, threads: usize, connections: usize, seconds: u64, script: &Path) -> Command {
    let mut cmd = Command::new("wrk");
    cmd.args([format!("-t{threads}"), format!("-c{connections}"), format!("-d{seconds}s"), "--timeout".into(), "30s".into(), "--latency".into(), "-s".into()]);
    cmd.arg(script).arg(format!("{base}/"));
    cmd
}

fn lua_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A script sending GETs, each the next (cookie, path) of the list (each thread starting
/// elsewhere in it); with `think_ms`, each client pauses 0–2×`think_ms` before a request;
/// with `gzip`, each asks for a compressed body as browsers do.
fn reads_script(requests: &[(String, String)], think_ms: u64, gzip: bool) -> String {
    let encoding = if gzip { r#", ["Accept-Encoding"] = "gzip, deflate""# } else { "" };
    let list: Vec<String> = requests.iter().map(|(c, p)| format!("{{{}, {}}}", lua_string(c), lua_string(p))).collect();
    let delay = if think_ms > 0 { format!("delay = function() return math.random(0, {}) end\n", 2 * think_ms) } else { String::new() };
    format!(
        r#"local reqs = {{
{}
}}
local n = 0
function setup(thread) n = n + 1; thread:set("id", n) end
local i = 0
function init(args) math.randomseed(id * 7919); i = (id * 7919) % #reqs end
request = function()
  i = i % #reqs + 1
  local r = reqs[i]
  return wrk.format("GET", r[2], {{["Cookie"] = r[1]{encoding}}})
end
{delay}"#,
        list.join(",\n")
    )
}

/// A script posting a unit's form with a new value of `KEY`, each request the next unit
/// member's; counts the answers "saved".
fn writes_script(clients: &[&Client], think_ms: u64, salt: u64) -> String {
    let list: Vec<String> = clients.iter().map(|c| format!("{{{}, {}, {}}}", lua_string(&c.member_cookie), lua_string(&c.member_csrf), lua_string(&c.unit_page))).collect();
    let delay = if think_ms > 0 { format!("delay = function() return math.random(0, {}) end\n", 2 * think_ms) } else { String::new() };
    let key = KEY.replace('.', "%2E");
    format!(
        r#"local reqs = {{
{}
}}
local threads = {{}}
function setup(thread) table.insert(threads, thread); thread:set("id", #threads) end
local i = 0
saved = 0
other = 0
function init(args) math.randomseed(id * 104729 + {salt}); i = (id * 7919 + {salt}) % #reqs end
request = function()
  i = i % #reqs + 1
  local r = reqs[i]
  local body = "csrf=" .. r[2] .. "&source=document&source_ref=province-bench&v%3A{key}=" .. (1000 + math.random(1, 100000000))
  return wrk.format("POST", r[3] .. "/inputs", {{["Cookie"] = r[1], ["Content-Type"] = "application/x-www-form-urlencoded"}}, body)
end
response = function(status, headers, body)
  local to = headers["Location"] or headers["location"] or ""
  if status == 303 and string.find(to, "m=saved", 1, true) then saved = saved + 1 else other = other + 1 end
end
{delay}done = function(summary, latency, requests)
  local s, o = 0, 0
  for _, t in ipairs(threads) do s = s + t:get("saved"); o = o + t:get("other") end
  io.write(string.format("SAVED %d OTHER %d\n", s, o))
end
"#,
        list.join(",\n")
    )
}

struct Mixed {
    name: String,
    reads_rps: f64,
    reads_p50: f64,
    reads_p99: f64,
    writes_rps: f64,
    writes_p50: f64,
    writes_p99: f64,
    saved: u64,
    other: u64,
    errors: u64,
    load_before: String,
    load_after: String,
}

/// Part c: on each server, readers (the credit offices of half the client cities, every
/// page in turn) and writers (every client city's unit member), four wrk processes at once.
/// How the clients of part c ask: the mean pause before each request, and gzip or not.
#[derive(Clone, Copy)]
struct Pace {
    think_ms: u64,
    gzip: bool,
}

fn mixed_run(name: &str, servers: [&Server; 2], clients: &[Client], writers: usize, pace: Pace, dir: &Path, seconds: u64) -> Mixed {
    let Pace { think_ms, gzip } = pace;
    let mut children = Vec::new();
    for (half, s) in servers.iter().enumerate() {
        let reads: Vec<(String, String)> =
            clients.iter().skip(half).step_by(2).flat_map(|c| c.pages.iter().map(|p| (c.admin_cookie.clone(), p.clone()))).collect();
        let r = dir.join(format!("mixed-reads-{half}.lua"));
        std::fs::write(&r, reads_script(&reads, think_ms, gzip)).unwrap_or_else(|e| panic!("{e}"));
        let all: Vec<&Client> = clients.iter().collect();
        let w = dir.join(format!("mixed-writes-{half}.lua"));
        // A seed of its own for every run and server: a value that repeats one written
        // before to the same city would be answered "nochange" (correctly, not stored).
        let nonce = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| u64::from(d.subsec_nanos()) + d.as_secs() % 100_000 * 1_000_000_000);
        std::fs::write(&w, writes_script(&all, think_ms, nonce + 97 * half as u64)).unwrap_or_else(|e| panic!("{e}"));
        children.push(("reads", wrk_command(&s.base, 1, PER_SERVER - writers, seconds, &r).stdout(Stdio::piped()).spawn().unwrap_or_else(|e| panic!("wrk: {e}"))));
        children.push(("writes", wrk_command(&s.base, 1, writers, seconds, &w).stdout(Stdio::piped()).spawn().unwrap_or_else(|e| panic!("wrk: {e}"))));
    }
    let before = loadavg();
    let outs: Vec<(&str, Row)> = children.into_iter().map(|(k, c)| (k, parse_wrk(k, &c.wait_with_output().unwrap_or_else(|e| panic!("wrk: {e}")).stdout))).collect();
    let after = loadavg();
    let of = |kind: &'static str| outs.iter().filter(move |(k, _)| *k == kind).map(|(_, r)| r);
    let worst = |kind: &'static str, f: fn(&Row) -> f64| of(kind).map(f).fold(0.0, f64::max);
    let m = Mixed {
        name: name.to_owned(),
        reads_rps: of("reads").map(|r| r.rps).sum(),
        reads_p50: worst("reads", |r| r.p50),
        reads_p99: worst("reads", |r| r.p99),
        writes_rps: of("writes").map(|r| r.saved).sum::<u64>() as f64 / seconds as f64,
        writes_p50: worst("writes", |r| r.p50),
        writes_p99: worst("writes", |r| r.p99),
        saved: of("writes").map(|r| r.saved).sum(),
        other: of("writes").map(|r| r.other).sum(),
        errors: outs.iter().map(|(_, r)| r.errors).sum(),
        load_before: before,
        load_after: after,
    };
    for (k, r) in &outs {
        eprintln!("  {name} {k}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, {} requests, {} errors, saved {} other {}", r.rps, r.p50, r.p99, r.requests, r.errors, r.saved, r.other);
    }
    eprintln!("{name}: reads p99 {:.2} ms, writes p99 {:.2} ms, {} saved (load {} → {})", m.reads_p99, m.writes_p99, m.saved, m.load_before, m.load_after);
    m
}

fn parse_wrk(name: &str, stdout: &[u8]) -> Row {
    let text = String::from_utf8_lossy(stdout);
    let w = common::parse_wrk(&text);
    if w.requests == 0 {
        eprintln!("{name}: wrk printed:\n{text}");
    }
    let saved = w.saved.unwrap_or_default();
    Row {
        name: name.to_owned(),
        rps: w.rps,
        p50: w.p50,
        p99: w.p99,
        requests: w.requests,
        errors: w.errors,
        saved: saved.first().copied().unwrap_or(0),
        other: saved.get(1).copied().unwrap_or(0),
        load_before: String::new(),
        load_after: String::new(),
    }
}
