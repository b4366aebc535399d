//! A real deployment from the README, without the demo: `init`, `plan import`, the
//! first administrator from `user add`, `serve`; then the server and the CLI, separate
//! processes, write the same store at the same moment, round after round. Whatever the
//! interleaving, the store never holds a part above its whole, and nothing goes down.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use super::workspace::{cc, example, ok};

pub(super) const PASSWORD: &str = "race-password-1";

/// `creditcity user add` with the password on standard input, as a script would.
pub(super) fn add_user(dir: &Path, args: &[&str]) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_creditcity"))
        .args(["user", "add"])
        .args(args)
        .current_dir(dir)
        .env("CREDITCITY_USER", "测试员")
        .env_remove("CREDITCITY_STORE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    if let Some(mut stdin) = child.stdin.take() {
        writeln!(stdin, "{PASSWORD}").unwrap_or_else(|e| panic!("{e}"));
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    assert!(out.status.success(), "user add {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// The server as its own process; killed when dropped.
pub(super) struct Server {
    child: Child,
    pub(super) base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &Path) -> Result<Server, String> {
    serve_with(dir, &[])
}

/// `serve` with more arguments (another store).
pub(super) fn serve_with(dir: &Path, args: &[&str]) -> Result<Server, String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_creditcity"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .current_dir(dir)
        .env_remove("CREDITCITY_STORE")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let mut lines = BufReader::new(stderr).lines();
    let mut seen = Vec::new();
    while let Some(Ok(line)) = lines.next() {
        if let Some(at) = line.find("http://") {
            let base = line[at..].split_whitespace().next().unwrap_or_default().trim_end_matches('/').to_owned();
            // Keep draining stderr so the server never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines.by_ref() {});
            return Ok(Server { child, base });
        }
        seen.push(line);
    }
    let _ = child.kill();
    Err(format!("the server did not start:\n{}", seen.join("\n")))
}

/// A browser, as far as the test needs one: cookies and the CSRF token.
pub(super) struct Browser {
    base: String,
    agent: ureq::Agent,
    cookies: HashMap<String, String>,
    csrf: String,
}

impl Browser {
    pub(super) fn new(base: &str) -> Self {
        Self { base: base.to_owned(), agent: ureq::AgentBuilder::new().redirects(0).build(), cookies: HashMap::new(), csrf: String::new() }
    }

    /// The same browser (its cookies, its session) asking another server.
    pub(super) fn at(&self, base: &str) -> Self {
        Self { base: base.to_owned(), agent: ureq::AgentBuilder::new().redirects(0).build(), cookies: self.cookies.clone(), csrf: self.csrf.clone() }
    }

    fn send(&mut self, req: ureq::Request, form: Option<&[(&str, &str)]>) -> (u16, String, Option<String>) {
        let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let req = req.set("cookie", &cookie);
        let result = match form {
            Some(f) => req.send_form(f),
            None => req.call(),
        };
        let resp = match result {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("request failed: {e}"),
        };
        for set in resp.all("set-cookie") {
            let kv = set.split(';').next().unwrap_or_default();
            if let Some((k, v)) = kv.split_once('=') {
                if v.is_empty() { self.cookies.remove(k) } else { self.cookies.insert(k.to_owned(), v.to_owned()) };
            }
        }
        let status = resp.status();
        let location = resp.header("location").map(str::to_owned);
        let body = resp.into_string().unwrap_or_default();
        let marker = "name=\"csrf\" value=\"";
        if let Some(at) = body.find(marker).map(|i| i + marker.len()) {
            if let Some(end) = body[at..].find('"') {
                body[at..at + end].clone_into(&mut self.csrf);
            }
        }
        (status, body, location)
    }

    pub(super) fn get(&mut self, path: &str) -> (u16, String, Option<String>) {
        let req = self.agent.get(&format!("{}{path}", self.base));
        self.send(req, None)
    }

    pub(super) fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> (u16, String, Option<String>) {
        let csrf = self.csrf.clone();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        let req = self.agent.post(&format!("{}{path}", self.base));
        self.send(req, Some(&all))
    }

    pub(super) fn login(&mut self, username: &str) {
        self.login_with(username, PASSWORD);
    }

    pub(super) fn login_with(&mut self, username: &str, password: &str) {
        self.get("/login");
        let (status, body, _) = self.post("/login", &[("username", username), ("password", password)]);
        assert_eq!(status, 303, "login of {username}: {body}");
    }
}

fn value(dir: &Path, key: &str) -> f64 {
    let out = ok(dir, &["export-inputs"]);
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{key} = ")))
        .and_then(|v| v.split('#').next())
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .unwrap_or_else(|| panic!("{key} not in the exported inputs:\n{out}"))
}

#[test]
fn server_and_cli_writing_at_once_never_store_a_broken_relation() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    // The README's non-demo path.
    ok(d, &["init", "--city", "青川市"]);
    ok(d, &["plan", "import", &example("qingchuan-plan.toml")]);
    let refused = cc(d, &["serve", "--listen", "127.0.0.1:0"]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("user add") && stderr.contains("--role admin"), "serve without accounts must say how to make one: {stderr}");
    add_user(d, &["wang", "--role", "admin"]);
    add_user(d, &["renhang", "--role", "unit", "--unit", "人行青川市中心支行"]);
    ok(d, &["set", "s7.cases_pending_prior", "400"]);
    ok(d, &["set", "s7.cases_received", "400"]);
    ok(d, &["set", "s7.cases_closed", "0"]);

    let server = serve(d).unwrap_or_else(|e| panic!("{e}"));
    let mut admin = Browser::new(&server.base);
    admin.login("wang");
    let (status, body, _) = admin.get("/");
    assert_eq!(status, 200, "the first administrator signs in and sees the dashboard: {body}");
    let mut unit = Browser::new(&server.base);
    unit.login("renhang");
    let (_, _, to) = unit.get("/unit");
    let unit_page = to.unwrap_or_else(|| panic!("/unit should lead to the unit's page"));
    unit.get(&unit_page);
    let form = format!("{unit_page}/inputs");

    let rounds = 12;
    let (mut web_won, mut cli_won) = (0, 0);
    for round in 0..rounds {
        ok(d, &["set", "s7.cases_closed", "0"]);
        ok(d, &["set", "s7.cases_received", "400"]);
        unit.get(&unit_page);
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
        let b = barrier.clone();
        let dir_path = d.to_path_buf();
        let cli = std::thread::spawn(move || {
            b.wait();
            cc(&dir_path, &["set", "s7.cases_received", "0"])
        });
        barrier.wait();
        let (status, body, _) = unit.post(&form, &[("v:s7.cases_closed", "700"), ("source", "document"), ("source_ref", "法院统计表")]);
        let cli_out = cli.join().unwrap_or_else(|_| panic!("the CLI thread panicked"));
        let web_ok = status == 303;
        let cli_ok = cli_out.status.success();
        assert!(web_ok || status == 422, "round {round}: the form answered {status}: {body}");
        assert!(cli_ok || cli_out.status.code() == Some(1), "round {round}: the CLI failed: {}", String::from_utf8_lossy(&cli_out.stderr));
        // Exactly one of the two may win: each is valid alone, together they break 7.2a's relation.
        assert!(web_ok != cli_ok, "round {round}: web {status}, cli {:?}", cli_out.status);
        if web_ok { web_won += 1 } else { cli_won += 1 }
        let closed = value(d, "s7.cases_closed");
        let whole = value(d, "s7.cases_pending_prior") + value(d, "s7.cases_received");
        assert!(closed <= whole, "round {round}: closed {closed} > pending + received {whole}");
        let check = cc(d, &["check"]);
        assert!(check.status.success(), "round {round}: {}", String::from_utf8_lossy(&check.stderr));
        let (status, _, _) = admin.get("/");
        assert_eq!(status, 200, "round {round}: the dashboard stays up");
    }
    assert_eq!(web_won + cli_won, rounds);
}

/// Values written behind the application's back (an older version, a hand edit of the
/// database) that break a relation: everything else is still scored, the rules they
/// touch are named as invalid with the reason, `check` names what is broken, and the
/// dashboard stays up.
#[test]
fn a_broken_stored_state_is_named_and_never_takes_anything_down() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    ok(d, &["init", "--city", "青川市"]);
    ok(d, &["plan", "import", &example("qingchuan-plan.toml")]);
    ok(d, &["set", "--file", &example("qingchuan-complete.toml")]);
    add_user(d, &["wang", "--role", "admin"]);
    let healthy = ok(d, &["score", "--format", "json"]);
    // Closed 700 against pending + received of 400: the store API itself does not check.
    let location = creditcity_store::Location::at(&d.join("creditcity.db"));
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("{e}")).block_on(async {
        let store = creditcity_store::Store::open(&location).await.unwrap_or_else(|e| panic!("{e}"));
        let assessment = store.assessments().await.unwrap_or_else(|e| panic!("{e}")).remove(0).id;
        let value = |key: &str, json: &str| creditcity_store::NewValue {
            assessment_id: assessment,
            key: key.to_owned(),
            value_json: json.to_owned(),
            unit_id: None,
            source_kind: creditcity_store::SourceKind::Note,
            source_ref: String::new(),
            note: "written behind the application's back".to_owned(),
            evidence_ids: Vec::new(),
        };
        store
            .set_values(&[value("s7.cases_pending_prior", "200"), value("s7.cases_received", "200"), value("s7.cases_closed", "700")], "tester")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        store.close().await;
    });
    let score = ok(d, &["score", "--format", "json"]);
    assert_ne!(score, healthy, "the broken rule no longer scores");
    assert!(score.contains("\"total\""), "everything else is still scored: {score}");
    let status = ok(d, &["status"]);
    assert!(status.contains("无法计分的规则") && status.contains("7.2a") && status.contains("s7.cases_closed"), "{status}");
    let check = cc(d, &["check"]);
    assert_eq!(check.status.code(), Some(5), "check fails on a broken relation");
    let err = String::from_utf8_lossy(&check.stderr);
    assert!(err.contains("s7.cases_closed") && err.contains("7.2a"), "check names what is broken: {err}");
    let server = serve(d).unwrap_or_else(|e| panic!("{e}"));
    let mut admin = Browser::new(&server.base);
    admin.login("wang");
    let (status, body, _) = admin.get("/");
    assert_eq!(status, 200, "the dashboard stays up: {body}");
    let (status, _, _) = admin.get("/rules/7.2a");
    assert_eq!(status, 200, "the broken rule's page stays up");
    // Fixing one value repairs the store.
    ok(d, &["set", "s7.cases_closed", "300"]);
    assert!(cc(d, &["check"]).status.success());
}
