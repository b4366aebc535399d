//! `spawn_app`: the demo store in a temporary directory, served on 127.0.0.1:0 from a
//! thread of its own; and a small HTTP client that keeps cookies and CSRF tokens.

use std::collections::HashMap;
use std::net::SocketAddr;

use creditcity_app::Workspace;
use creditcity_rubric::Rubric;
use creditcity_store::Location;

pub struct App {
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    pub location: Location,
}

impl App {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn client(&self) -> Client {
        Client { base: format!("http://{}", self.addr), // A connection a refusal closed early is never reused (no stale keep-alive).
            agent: ureq::AgentBuilder::new().redirects(0).max_idle_connections(0).build(), cookies: HashMap::new(), csrf: String::new() }
    }

    /// A client signed in as one of the demo accounts.
    pub fn as_user(&self, username: &str) -> Client {
        self.as_user_with(username, creditcity_web::demo::PASSWORD)
    }

    /// A client signed in with this password.
    pub fn as_user_with(&self, username: &str, password: &str) -> Client {
        let mut c = self.client();
        let r = c.login(username, password);
        assert_eq!(r.status, 303, "login of {username} failed: {}", r.body);
        c.refresh_csrf();
        c
    }

    /// The number of audit entries: a refused request must not change it.
    pub fn audit_len(&self) -> usize {
        self.with_store(|store| async move { store.audit(&creditcity_store::AuditFilter::default()).await.map(|a| a.len()) })
    }

    /// Runs `f` on the store, from a thread and runtime of its own; any error panics.
    pub fn with_store<T, F, Fut>(&self, f: F) -> T
    where
        T: Send + 'static,
        F: FnOnce(creditcity_store::Store) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<T, creditcity_store::StoreError>>,
    {
        let location = self.location.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("{e}"));
            rt.block_on(async {
                let store = creditcity_store::Store::open(&location).await.unwrap_or_else(|e| panic!("cannot open the store: {e}"));
                let out = f(store.clone()).await.unwrap_or_else(|e| panic!("store: {e}"));
                store.close().await;
                out
            })
        })
        .join()
        .unwrap_or_else(|_| panic!("the store thread panicked"))
    }

    /// Runs `f` on 青川市's workspace, from a thread and runtime of its own.
    pub fn with_workspace<T, F, Fut>(&self, f: F) -> T
    where
        T: Send + 'static,
        F: FnOnce(Workspace) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = (Workspace, T)>,
    {
        self.with_workspace_of("青川市", f)
    }

    /// Runs `f` on a city's workspace, from a thread and runtime of its own.
    pub fn with_workspace_of<T, F, Fut>(&self, city: &str, f: F) -> T
    where
        T: Send + 'static,
        F: FnOnce(Workspace) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = (Workspace, T)>,
    {
        let (location, city) = (self.location.clone(), city.to_owned());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("{e}"));
            rt.block_on(async {
                let rubric = Rubric::embedded_2019().unwrap_or_else(|e| panic!("{e}"));
                let ws = Workspace::open(&location, rubric, Some(&city)).await.unwrap_or_else(|e| panic!("{e}"));
                let (ws, out) = f(ws).await;
                ws.close().await;
                out
            })
        })
        .join()
        .unwrap_or_else(|_| panic!("the workspace thread panicked"))
    }

    /// Runs `f` on every city's workspaces of the store (what is store-wide: provinces,
    /// accounts), from a thread and runtime of its own.
    pub fn with_all<T, F, Fut>(&self, f: F) -> T
    where
        T: Send + 'static,
        F: FnOnce(creditcity_app::Workspaces) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = (creditcity_app::Workspaces, T)>,
    {
        let location = self.location.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("{e}"));
            rt.block_on(async {
                let rubric = Rubric::embedded_2019().unwrap_or_else(|e| panic!("{e}"));
                let all = creditcity_app::Workspaces::open(&location, rubric, None).await.unwrap_or_else(|e| panic!("{e}"));
                let (all, out) = f(all).await;
                all.close().await;
                out
            })
        })
        .join()
        .unwrap_or_else(|_| panic!("the store thread panicked"))
    }

    /// Puts every city of the store in 示范省 and signs in as its province office
    /// (`sheng`), which sees them all, read-only.
    pub fn province_office(&self) -> Client {
        self.with_all(|all| async move {
            let who = creditcity_app::Actor("test".to_owned());
            for c in all.cities().await.unwrap_or_else(|e| panic!("{e}")) {
                all.set_province(c.id, "示范省", &who).await.unwrap_or_else(|e| panic!("{e}"));
            }
            all.create_province_user("sheng", "省信用办", "0123456789ab", "示范省", &who).await.unwrap_or_else(|e| panic!("{e}"));
            (all, ())
        });
        self.as_user_with("sheng", "0123456789ab")
    }

    /// A new API token of a machine account (as `creditcity token add NAME`).
    pub fn api_token(&self, name: &str) -> String {
        let name = name.to_owned();
        self.with_workspace(move |ws| async move {
            let (_, token) = ws.create_api_token(&name, &creditcity_app::Actor("test".to_owned())).await.unwrap_or_else(|e| panic!("{e}"));
            (ws, token)
        })
    }

    /// Revokes an API token (as `creditcity token revoke NAME`).
    pub fn revoke_api_token(&self, name: &str) {
        let name = name.to_owned();
        self.with_workspace(move |ws| async move {
            ws.revoke_api_token(&name, &creditcity_app::Actor("test".to_owned())).await.unwrap_or_else(|e| panic!("{e}"));
            (ws, ())
        });
    }

    /// A second city in the same store (临江市, the same plan with task T1.1 renamed
    /// LJ1.1, one evidence file): objects that belong to another assessment.
    pub fn second_city(&self) -> OtherCity {
        let location = self.location.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("{e}"));
            rt.block_on(async {
                let rubric = Rubric::embedded_2019().unwrap_or_else(|e| panic!("{e}"));
                let who = creditcity_app::Actor("test".to_owned());
                creditcity_app::init(&location, &rubric, "临江市", "2019", &who).await.unwrap_or_else(|e| panic!("{e}"));
                let ws = Workspace::open(&location, rubric, Some("临江市")).await.unwrap_or_else(|e| panic!("{e}"));
                let plan = include_str!("../../../examples/qingchuan-plan.toml").replacen("code = \"T1.1\"", "code = \"LJ1.1\"", 1);
                ws.import_plan(&plan, &who).await.unwrap_or_else(|e| panic!("{e}"));
                let units = ws.units().await.unwrap_or_else(|e| panic!("{e}"));
                let pboc = units.iter().find(|u| u.name == "人行青川市中心支行").unwrap_or_else(|| panic!("no 人行 in 临江市's plan"));
                let e = ws
                    .attach_reader("临江执结统计.pdf", &mut b"%PDF-1.4 linjiang".as_slice(), "7.2a", Some(1), Some("T7.2"), Some(&pboc.name), &who)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                let import = ws.start_import_job(creditcity_data::DatasetKind::Licences, "临江许可.csv", 64, 2, &who).await.unwrap_or_else(|e| panic!("{e}"));
                let other = OtherCity { city: ws.assessment().city_id.0, unit: pboc.id.0, evidence: e.id.0, task: "LJ1.1".to_owned(), import };
                ws.close().await;
                other
            })
        })
        .join()
        .unwrap_or_else(|_| panic!("could not create the second city"))
    }
}

/// Objects of another assessment than the one served.
pub struct OtherCity {
    pub city: i64,
    pub unit: i64,
    pub evidence: i64,
    /// A task code that only the other assessment has.
    pub task: String,
    /// A dataset import of the other assessment.
    pub import: i64,
}

/// The demo store, loaded once per test process (it imports a small city's datasets)
/// and copied for each test.
fn demo_template() -> &'static std::path::Path {
    static TEMPLATE: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
            let location = Location::at(&dir.path().join("creditcity.db"));
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap_or_else(|e| panic!("{e}"));
                rt.block_on(async {
                    let rubric = Rubric::embedded_2019().unwrap_or_else(|e| panic!("{e}"));
                    creditcity_web::demo::load(&location, &rubric).await.unwrap_or_else(|e| panic!("the demo did not load: {e}"));
                });
            })
            .join()
            .unwrap_or_else(|_| panic!("the demo did not load"));
            dir
        })
        .path()
}

/// The suite runs on SQLite, or with `CREDITCITY_WEB_STORE=postgres` on PostgreSQL (a
/// new database of `CREDITCITY_TEST_PG` per test, the demo copied into it whole): the
/// store of a test, on the backend under test.
fn on_the_backend_under_test(sqlite: Location, dir: &std::path::Path) -> Location {
    match std::env::var("CREDITCITY_WEB_STORE").as_deref() {
        Ok("postgres") => {
            let pg = creditcity_store::testing::postgres_location(dir, "web");
            let target = pg.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("{e}"));
                rt.block_on(async {
                    let from = creditcity_store::Store::open_existing(&sqlite).await.unwrap_or_else(|e| panic!("{e}"));
                    let to = creditcity_store::Store::open(&target).await.unwrap_or_else(|e| panic!("{e}"));
                    from.copy_into(&to).await.unwrap_or_else(|e| panic!("copying the demo into PostgreSQL: {e}"));
                    from.close().await;
                    to.close().await;
                });
            })
            .join()
            .unwrap_or_else(|_| panic!("could not copy the demo into PostgreSQL"));
            pg
        }
        Ok("sqlite") | Err(_) => sqlite,
        Ok(other) => panic!("CREDITCITY_WEB_STORE = {other:?}: sqlite or postgres"),
    }
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("{}: {e}", to.display()));
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let entry = entry.unwrap_or_else(|e| panic!("{e}"));
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap_or_else(|e| panic!("{e}")).is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            match std::fs::copy(entry.path(), &target) {
                Ok(_) => {}
                // SQLite's -shm and -wal files go when its last connection closes: one
                // that vanished was checkpointed into the database.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && ["-shm", "-wal"].iter().any(|x| entry.file_name().to_string_lossy().ends_with(x)) => {}
                Err(e) => panic!("{}: {e}", target.display()),
            }
        }
    }
}

/// Serves the demo from a fresh store; `max_upload` bounds evidence files.
pub fn spawn_app_with(max_upload: u64) -> App {
    spawn_app_config(creditcity_web::Config { max_upload_bytes: max_upload, demo: true, ..creditcity_web::Config::default() })
}

/// A copy of the demo store, on the backend under test, in a directory of its own.
pub fn demo_store() -> (tempfile::TempDir, Location) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    copy_dir(demo_template(), dir.path());
    let location = on_the_backend_under_test(Location::at(&dir.path().join("creditcity.db")), dir.path());
    (dir, location)
}

/// Serves a copy of the demo store with this configuration.
pub fn spawn_app_config(config: creditcity_web::Config) -> App {
    let (dir, location) = demo_store();
    let addr = serve_at(&location, config);
    App { addr, dir, location }
}

/// A server on `location`, on a thread and runtime of its own: its address.
fn serve_at(location: &Location, config: creditcity_web::Config) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    let loc = location.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap_or_else(|e| panic!("{e}"));
        rt.block_on(async move {
            let rubric = Rubric::embedded_2019().unwrap_or_else(|e| panic!("{e}"));
            let ws = creditcity_app::Workspaces::open(&loc, rubric, None).await.unwrap_or_else(|e| panic!("{e}"));
            let state = creditcity_web::state(ws, &config).unwrap_or_else(|e| panic!("{e}"));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
            let _ = tx.send(listener.local_addr().unwrap_or_else(|e| panic!("{e}")));
            let _ = creditcity_web::serve(state, listener).await;
        });
    });
    rx.recv_timeout(std::time::Duration::from_secs(120)).unwrap_or_else(|e| panic!("the server did not start: {e}"))
}

impl App {
    /// Another server on the same store, sharing nothing in memory with the first (as a
    /// second process behind the proxy would): a client of it.
    pub fn second_server(&self) -> App2 {
        App2 { addr: serve_at(&self.location, creditcity_web::Config { demo: true, ..creditcity_web::Config::default() }) }
    }
}

/// A second server of an [`App`]'s store.
pub struct App2 {
    pub addr: SocketAddr,
}

impl App2 {
    pub fn as_user(&self, username: &str) -> Client {
        let mut c = Client::new(self.addr);
        let r = c.login(username, creditcity_web::demo::PASSWORD);
        assert_eq!(r.status, 303, "login of {username} failed: {}", r.body);
        c.refresh_csrf();
        c
    }
}

pub fn spawn_app() -> App {
    spawn_app_with(creditcity_app::DEFAULT_MAX_EVIDENCE_BYTES)
}

pub struct Reply {
    pub status: u16,
    pub body: String,
    pub location: Option<String>,
    pub headers: HashMap<String, Vec<String>>,
}

pub struct Client {
    base: String,
    agent: ureq::Agent,
    cookies: HashMap<String, String>,
    pub csrf: String,
}

impl Client {
    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn finish(&mut self, result: Result<ureq::Response, ureq::Error>) -> Reply {
        let resp = match result {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("request failed: {e}"),
        };
        let mut headers: HashMap<String, Vec<String>> = HashMap::new();
        for name in resp.headers_names() {
            headers.insert(name.to_lowercase(), resp.all(&name).iter().map(|s| (*s).to_owned()).collect());
        }
        for set in headers.get("set-cookie").cloned().unwrap_or_default() {
            if let Some((kv, _)) = set.split_once(';').or(Some((set.as_str(), ""))) {
                if let Some((k, v)) = kv.split_once('=') {
                    if v.is_empty() { self.cookies.remove(k) } else { self.cookies.insert(k.to_owned(), v.to_owned()) };
                }
            }
        }
        let status = resp.status();
        let location = resp.header("location").map(str::to_owned);
        let body = resp.into_string().unwrap_or_else(|e| panic!("cannot read the response: {e}"));
        if let Some(token) = scrape_csrf(&body) {
            self.csrf = token;
        }
        Reply { status, body, location, headers }
    }

    pub fn get(&mut self, path: &str) -> Reply {
        let req = self.agent.get(&format!("{}{path}", self.base)).set("cookie", &self.cookie_header());
        let r = req.call();
        self.finish(r)
    }

    pub fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let req = self.agent.post(&format!("{}{path}", self.base)).set("cookie", &self.cookie_header());
        let r = req.send_form(fields);
        self.finish(r)
    }

    /// A form post with this session's CSRF token.
    pub fn submit(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let csrf = self.csrf.clone();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(path, &all)
    }

    pub fn upload(&mut self, path: &str, target: &str, name: &str, bytes: &[u8], csrf: Option<&str>) -> Reply {
        self.try_upload(path, target, name, bytes, csrf).unwrap_or_else(|e| panic!("request failed: {e}"))
    }

    /// [`Client::upload`], answering the transport's error (a server that refuses a
    /// body over its limit may close the connection before the client has sent it all).
    pub fn try_upload(&mut self, path: &str, target: &str, name: &str, bytes: &[u8], csrf: Option<&str>) -> Result<Reply, String> {
        let boundary = "----creditcity-test-boundary";
        let csrf = csrf.map_or_else(|| self.csrf.clone(), str::to_owned);
        let mut body = Vec::new();
        for (k, v) in [("csrf", csrf.as_str()), ("target", target)] {
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
        }
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = self
            .agent
            .post(&format!("{}{path}", self.base))
            .set("cookie", &self.cookie_header())
            .set("content-type", &format!("multipart/form-data; boundary={boundary}"));
        match req.send_bytes(&body) {
            Err(ureq::Error::Transport(e)) => Err(e.to_string()),
            r => Ok(self.finish(r)),
        }
    }

    /// Any request, with extra headers and a raw body, and this session's cookies.
    pub fn send(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        let mut req = self.agent.request(method, &format!("{}{path}", self.base)).set("cookie", &self.cookie_header());
        for (k, v) in headers {
            req = req.set(k, v);
        }
        let r = if method == "GET" { req.call() } else { req.send_bytes(body) };
        self.finish(r)
    }

    /// A download: its status and bytes.
    pub fn get_bytes(&mut self, path: &str) -> (u16, Vec<u8>) {
        let r = self.agent.get(&format!("{}{path}", self.base)).set("cookie", &self.cookie_header()).call();
        let resp = match r {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("request failed: {e}"),
        };
        let status = resp.status();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut resp.into_reader(), &mut bytes).unwrap_or_else(|e| panic!("{e}"));
        (status, bytes)
    }

    /// A GET with extra headers: its status, headers (lower-case names) and raw bytes.
    pub fn get_raw(&mut self, path: &str, extra: &[(&str, &str)]) -> (u16, HashMap<String, String>, Vec<u8>) {
        let mut req = self.agent.get(&format!("{}{path}", self.base)).set("cookie", &self.cookie_header());
        for (k, v) in extra {
            req = req.set(k, v);
        }
        let resp = match req.call() {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("request failed: {e}"),
        };
        let headers = resp.headers_names().iter().map(|n| (n.to_lowercase(), resp.header(n).unwrap_or("").to_owned())).collect();
        let status = resp.status();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut resp.into_reader(), &mut bytes).unwrap_or_else(|e| panic!("{e}"));
        (status, headers, bytes)
    }

    /// A dataset upload from the 数据 page's form (CSRF token first, as the form sends it).
    pub fn upload_dataset(&mut self, kind: &str, name: &str, bytes: &[u8], csrf: Option<&str>) -> Reply {
        let boundary = "----creditcity-test-boundary";
        let csrf = csrf.map_or_else(|| self.csrf.clone(), str::to_owned);
        let mut body = Vec::new();
        for (k, v) in [("csrf", csrf.as_str()), ("kind", kind)] {
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
        }
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let content_type = format!("multipart/form-data; boundary={boundary}");
        self.send("POST", "/data/import", &[("content-type", &content_type)], &body)
    }

    /// Waits for an import started from the page to finish; its page.
    pub fn import_result(&mut self, job: &str) -> Reply {
        for _ in 0..600 {
            let r = self.get(job);
            if !r.body.contains("id=\"progress\"") {
                return r;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("the import {job} did not finish in a minute");
    }

    pub fn login(&mut self, username: &str, password: &str) -> Reply {
        self.get("/login");
        let csrf = self.csrf.clone();
        self.post("/login", &[("username", username), ("password", password), ("csrf", &csrf)])
    }

    /// A client of the server at `addr`.
    pub fn new(addr: SocketAddr) -> Self {
        Client { base: format!("http://{addr}"), agent: ureq::AgentBuilder::new().redirects(0).max_idle_connections(0).build(), cookies: HashMap::new(), csrf: String::new() }
    }

    /// Signs in through a proxy that says the client is at `address`.
    pub fn login_from(&mut self, address: &str, username: &str, password: &str) -> Reply {
        self.get("/login");
        let body = format!("username={}&password={}&csrf={}", crate::harness::form_encode(username), crate::harness::form_encode(password), self.csrf);
        self.send("POST", "/login", &[("content-type", "application/x-www-form-urlencoded"), ("x-forwarded-for", address)], body.as_bytes())
    }

    /// Loads a page to pick up this session's CSRF token.
    pub fn refresh_csrf(&mut self) {
        let r = self.get("/");
        if r.status == 303 {
            if let Some(to) = r.location {
                self.get(&to);
            }
        }
    }
}

fn scrape_csrf(body: &str) -> Option<String> {
    let at = body.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    let end = body[at..].find('"')?;
    Some(body[at..at + end].to_owned()).filter(|t| !t.is_empty())
}

/// The id of a unit as the admin page lists it.
pub fn unit_id(app: &App, name: &str) -> i64 {
    let mut admin = app.as_user("xinyongban");
    let page = admin.get("/admin").body;
    let needle = format!("\">{name}</a>");
    let at = page.find(&needle).unwrap_or_else(|| panic!("unit {name} not on the admin page"));
    let start = page[..at].rfind("/units/").map_or_else(|| panic!("no link to unit {name}"), |i| i + "/units/".len());
    page[start..at].parse().unwrap_or_else(|e| panic!("{e}"))
}

/// `application/x-www-form-urlencoded` for one value.
pub fn form_encode(v: &str) -> String {
    v.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}
