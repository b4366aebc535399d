//! Several server processes on one PostgreSQL store (the deployment): two
//! `creditcity serve` and the CLI write conflicting values at the same moment, round
//! after round. The store never holds a part above its whole, and no write that was
//! answered as done is missing from the values or the audit log. Needs
//! `CREDITCITY_TEST_PG` (fails, saying how to start a server, without it).

use std::path::Path;
use std::process::Output;

use super::race::{Browser, add_user, serve_with};
use super::workspace::{cc, example};

/// `creditcity ARGS --store URL --files DIR`.
fn pg(dir: &Path, store: &[&str], args: &[&str]) -> Output {
    let all: Vec<&str> = args.iter().chain(store.iter()).copied().collect();
    cc(dir, &all)
}

fn pg_ok(dir: &Path, store: &[&str], args: &[&str]) -> String {
    let o = pg(dir, store, args);
    assert!(o.status.success(), "creditcity {args:?} failed:\n{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn value(dir: &Path, store: &[&str], key: &str) -> f64 {
    let out = pg_ok(dir, store, &["export-inputs"]);
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{key} = ")))
        .and_then(|v| v.split('#').next())
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .unwrap_or_else(|| panic!("{key} not in the exported inputs:\n{out}"))
}

/// (values ever stored, audit entries of inputs) of the s7 keys.
fn counts(location: &creditcity_store::Location) -> (usize, usize) {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("{e}")).block_on(async {
        let store = creditcity_store::Store::open_existing(location).await.unwrap_or_else(|e| panic!("{e}"));
        let assessment = store.assessments().await.unwrap_or_else(|e| panic!("{e}")).remove(0).id;
        let values = store.all_values(assessment).await.unwrap_or_else(|e| panic!("{e}"));
        let audit = store
            .audit(&creditcity_store::AuditFilter { entity: Some("input".to_owned()), ..creditcity_store::AuditFilter::default() })
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        store.close().await;
        let s7 = values.iter().filter(|v| v.input_key.starts_with("s7.")).count();
        (s7, audit.iter().filter(|a| a.entity_id.starts_with("s7.")).count())
    })
}

/// A new PostgreSQL store (its files in `d/files`) with 青川市 and its plan: the store's
/// URL and files directory, for `--store` and `--files`.
fn qingchuan_on_postgres(d: &Path) -> (String, String) {
    let url = creditcity_store::testing::fresh_database_url();
    let files = d.join("files").to_string_lossy().into_owned();
    let store = ["--store", url.as_str(), "--files", files.as_str()];
    pg_ok(d, &store, &["init", "--city", "青川市"]);
    pg_ok(d, &store, &["plan", "import", &example("qingchuan-plan.toml")]);
    (url, files)
}

#[test]
fn two_servers_and_the_cli_on_one_postgres_store_never_store_a_broken_relation_nor_lose_a_write() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    let (url, files_arg) = qingchuan_on_postgres(d);
    let store = ["--store", url.as_str(), "--files", files_arg.as_str()];
    let location = creditcity_store::Location::postgres(&url, Path::new(&files_arg));
    add_user(d, &[&store[..], &["renhang", "--role", "unit", "--unit", "人行青川市中心支行"]].concat());
    pg_ok(d, &store, &["set", "s7.cases_pending_prior", "400"]);
    pg_ok(d, &store, &["set", "s7.cases_received", "400"]);
    pg_ok(d, &store, &["set", "s7.cases_closed", "0"]);
    let mut writes = 3;

    let servers = [serve_with(d, &store).unwrap_or_else(|e| panic!("{e}")), serve_with(d, &store).unwrap_or_else(|e| panic!("{e}"))];
    let mut browsers: Vec<Browser> = servers.iter().map(|s| Browser::new(&s.base)).collect();
    let mut pages = Vec::new();
    for b in &mut browsers {
        b.login("renhang");
        let (_, _, to) = b.get("/unit");
        let page = to.unwrap_or_else(|| panic!("/unit should lead to the unit's page"));
        b.get(&page);
        pages.push(page);
    }

    let rounds = 10;
    for round in 0..rounds {
        pg_ok(d, &store, &["set", "s7.cases_closed", "0"]);
        pg_ok(d, &store, &["set", "s7.cases_received", "400"]);
        writes += 2;
        for (b, page) in browsers.iter_mut().zip(&pages) {
            b.get(page);
        }
        // Server 1 closes 700 cases, server 2 says none were received, the CLI closes
        // 650: each valid alone; 700 or 650 closed with none received is not.
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(3));
        let (b, dir_path, store_owned) = (barrier.clone(), d.to_path_buf(), store.map(str::to_owned));
        let cli = std::thread::spawn(move || {
            b.wait();
            let store: Vec<&str> = store_owned.iter().map(String::as_str).collect();
            pg(&dir_path, &store, &["set", "s7.cases_closed", "650"])
        });
        let [first, second] = &mut browsers[..] else { unreachable!() };
        let (page1, page2) = (format!("{}/inputs", pages[0]), format!("{}/inputs", pages[1]));
        let b2 = barrier.clone();
        let (web1, web2) = std::thread::scope(|s| {
            let h = s.spawn(|| {
                b2.wait();
                second.post(&page2, &[("v:s7.cases_received", "0"), ("source", "document"), ("source_ref", "法院统计表")]).0
            });
            barrier.wait();
            let w1 = first.post(&page1, &[("v:s7.cases_closed", "700"), ("source", "document"), ("source_ref", "法院统计表")]).0;
            (w1, h.join().unwrap_or_else(|_| panic!("server 2's writer panicked")))
        });
        let cli_out = cli.join().unwrap_or_else(|_| panic!("the CLI thread panicked"));
        let cli_ok = cli_out.status.success();
        assert!(matches!(web1, 303 | 422) && matches!(web2, 303 | 422), "round {round}: the forms answered {web1} and {web2}");
        assert!(cli_ok || cli_out.status.code() == Some(1), "round {round}: the CLI failed: {}", String::from_utf8_lossy(&cli_out.stderr));
        let won = [web1 == 303, web2 == 303, cli_ok];
        assert!(won.iter().any(|w| *w), "round {round}: somebody always wins");
        assert!(!(won[1] && (won[0] || won[2])), "round {round}: none received and cases closed both stored ({won:?})");
        writes += won.iter().filter(|w| **w).count();
        let closed = value(d, &store, "s7.cases_closed");
        let whole = value(d, &store, "s7.cases_pending_prior") + value(d, &store, "s7.cases_received");
        assert!(closed <= whole, "round {round}: closed {closed} > pending + received {whole}");
        let (values, audit) = counts(&location);
        assert_eq!((values, audit), (writes, writes), "round {round}: every write answered as done is stored and audited, no more");
    }
    let check = pg(d, &store, &["check"]);
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
}

/// Two server processes and the CLI on one PostgreSQL store share what a browser meets:
/// a session signed in on one server is served by the other and ends on both when it
/// signs out there; failed sign-ins on one throttle the account on the other; a page one
/// server has cached shows, at once, what the other server or the CLI wrote since.
#[test]
fn two_servers_share_sessions_throttling_and_never_serve_a_stale_page() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    let (url, files_arg) = qingchuan_on_postgres(d);
    let store = ["--store", url.as_str(), "--files", files_arg.as_str()];
    add_user(d, &[&store[..], &["wang", "--role", "admin"]].concat());
    add_user(d, &[&store[..], &["renhang", "--role", "unit", "--unit", "人行青川市中心支行"]].concat());
    pg_ok(d, &store, &["set", "s7.cases_received", "400"]);
    let [one, two] = [serve_with(d, &store).unwrap_or_else(|e| panic!("{e}")), serve_with(d, &store).unwrap_or_else(|e| panic!("{e}"))];

    // A session signed in on the first server is served by the second.
    let mut first = Browser::new(&one.base);
    first.login("renhang");
    let (_, _, to) = first.get("/unit");
    let page = to.unwrap_or_else(|| panic!("/unit should lead to the unit's page"));
    assert_eq!(first.get(&page).0, 200, "the unit's page");
    let mut second = first.at(&two.base);
    let (status, body, _) = second.get(&page);
    assert_eq!(status, 200, "the second server serves the first one's session: {body}");
    assert!(body.contains("value=\"400\"") && !body.contains("value=\"987\""), "the unit's page shows the stored value");

    // Each server has the page cached; a write on one shows on the other at once.
    let (status, _, _) = first.post(&format!("{page}/inputs"), &[("v:s7.cases_received", "987"), ("source", "document"), ("source_ref", "法院统计表")]);
    assert_eq!(status, 303, "the first server stores the value");
    let (_, body, _) = second.get(&page);
    assert!(body.contains("value=\"987\""), "the second server shows the first one's write at once:\n{body}");
    pg_ok(d, &store, &["set", "s7.cases_received", "654"]);
    for (b, name) in [(&mut first, "first"), (&mut second, "second")] {
        let (_, body, _) = b.get(&page);
        assert!(body.contains("value=\"654\""), "the {name} server shows the CLI's write at once:\n{body}");
    }

    // Signing out on the second server ends the session on the first too.
    let (status, _, to) = second.post("/logout", &[]);
    assert_eq!((status, to.as_deref()), (303, Some("/login")), "signed out");
    let (status, _, to) = first.get(&page);
    assert_eq!((status, to.as_deref()), (303, Some("/login")), "the first server no longer serves a session signed out on the second");

    // Failed sign-ins on the first server count on the second.
    let mut guess = Browser::new(&one.base);
    for _ in 0..creditcity_app::accounts::LOGIN_LIMIT_ACCOUNT {
        guess.get("/login");
        let (status, _, _) = guess.post("/login", &[("username", "wang"), ("password", "not-the-password")]);
        assert_eq!(status, 401, "a wrong password is refused");
    }
    let mut right = Browser::new(&two.base);
    right.get("/login");
    let (status, body, _) = right.post("/login", &[("username", "wang"), ("password", super::race::PASSWORD)]);
    assert_eq!(status, 429, "the second server throttles an account the first one saw guessed at: {body}");
    assert!(body.contains("登录失败次数过多"), "the page says why: {body}");
}

/// `creditcity migrate --to postgres://…` carries a SQLite store whole: values with
/// their history, reviews, the audit log, evidence, datasets and accounts; both score
/// the same, an assessment of a rubric edition not loaded is compared value by value,
/// the copy passes `check`, its accounts sign in, and a second migration into it is
/// refused.
#[test]
fn a_sqlite_store_migrates_whole_to_postgres_and_scores_the_same() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    let ok = |args: &[&str]| super::workspace::ok(d, args);
    ok(&["init", "--city", "青川市"]);
    ok(&["plan", "import", &example("qingchuan-plan.toml")]);
    ok(&["set", "--file", &example("qingchuan-complete.toml")]);
    ok(&["set", "s10.jrp_cases", "250"]);
    ok(&["review", "input", "s10.jrp_cases", "accept"]);
    let file = d.join("平台截图.png");
    std::fs::write(&file, [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]).unwrap_or_else(|e| panic!("{e}"));
    ok(&["attach", &file.to_string_lossy(), "--rule", "8.2b", "--item", "1"]);
    ok(&["city", "--division", "5108"]);
    ok(&["data", "generate", "gen", "--size", "demo"]);
    ok(&["data", "import", "licences", "gen/licences.csv"]);
    add_user(d, &["wang", "--role", "admin"]);
    // A city on an edition this binary does not carry.
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rubrics/2019.toml")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(d.join("2021.toml"), text.replacen("edition = \"2019\"", "edition = \"2021试行\"", 1)).unwrap_or_else(|e| panic!("{e}"));
    ok(&["--rubric", "2021.toml", "init", "--city", "河口市"]);
    ok(&["--rubric", "2021.toml", "--assessment", "河口市", "set", "s7.cases_received", "12"]);
    let url = creditcity_store::testing::fresh_database_url();
    let files = d.join("pg-files");
    let files_arg = files.to_string_lossy().into_owned();
    let out = ok(&["migrate", "--to", &url, "--to-files", &files_arg]);
    assert!(out.contains("青川市") && out.contains("两边得分相同"), "{out}");
    assert!(out.contains("河口市") && out.contains("规则版本 2021试行 未载入") && out.contains("两边相同"), "the other edition's city is compared, and says how: {out}");
    let store = ["--store", url.as_str(), "--files", files_arg.as_str()];
    for args in [
        &["--assessment", "青川市", "score", "--format", "json"][..],
        &["--assessment", "青川市", "export-inputs"],
        &["--assessment", "青川市", "history", "s10.jrp_cases"],
        &["--assessment", "青川市", "audit"],
        &["--assessment", "青川市", "status"],
        &["--assessment", "青川市", "data", "status"],
        &["--rubric", "2021.toml", "--assessment", "河口市", "export-inputs"],
        &["user", "list"],
    ] {
        assert_eq!(pg_ok(d, &store, args), ok(args), "creditcity {args:?} differs after the migration");
    }
    let history = pg_ok(d, &store, &["--assessment", "青川市", "history", "s10.jrp_cases"]);
    assert!(history.contains("评审 已通过"), "the review came along: {history}");
    assert!(pg_ok(d, &store, &["check"]).contains("存储完好"));
    // The accounts came with their passwords.
    let server = serve_with(d, &store).unwrap_or_else(|e| panic!("{e}"));
    let mut b = Browser::new(&server.base);
    b.login("wang");
    let again = cc(d, &["migrate", "--to", &url, "--to-files", &files_arg]);
    assert!(!again.status.success(), "a second migration into a non-empty store is refused");
}

/// The store and its files named by `CREDITCITY_STORE` and `CREDITCITY_FILES` alone, as
/// docs/deploy.md's environment file names them for every command.
#[test]
fn the_environment_names_a_postgres_store_for_every_command() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    let url = creditcity_store::testing::fresh_database_url();
    let files = d.join("files");
    let run = |env: &[(&str, &str)], args: &[&str]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_creditcity"));
        c.args(args).current_dir(d).env("CREDITCITY_USER", "测试员").env_remove("CREDITCITY_STORE").env_remove("CREDITCITY_FILES").env_remove("CREDITCITY_ASSESSMENT");
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap_or_else(|e| panic!("{e}"))
    };
    let both = [("CREDITCITY_STORE", url.as_str()), ("CREDITCITY_FILES", files.to_str().unwrap_or_default())];
    for args in [&["init", "--city", "青川市"][..], &["set", "s7.cases_received", "321"]] {
        let o = run(&both, args);
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    }
    let out = run(&both, &["export-inputs"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("s7.cases_received = 321"), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(!d.join("creditcity.db").exists(), "nothing went to the default SQLite file");
    // A PostgreSQL store without its files directory is refused, naming what is missing.
    let o = run(&both[..1], &["export-inputs"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("CREDITCITY_FILES"), "{err}");
}
