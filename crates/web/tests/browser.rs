//! In a real browser (headless Chromium through chromedriver): a unit member fills a
//! form with a bad value and sees the error, fixes it, uploads evidence, submits; an
//! evaluator returns it; the unit sees the return; the dashboard's score changes.
//! `SCREENSHOTS=DIR` also saves screenshots of the main pages there.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::spawn_app;

struct Driver {
    child: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.agent.delete(&format!("{}/session/{}", self.base, self.session)).call();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_or(9515, |a| a.port())
}

impl Driver {
    fn start() -> Self {
        let driver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".to_owned());
        let chrome = std::env::var("CHROME").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
        let port = free_port();
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {driver} (install chromium-driver; .ci/run does): {e}"));
        let base = format!("http://127.0.0.1:{port}");
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).build();
        let deadline = Instant::now() + Duration::from_secs(20);
        while agent.get(&format!("{base}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = std::env::temp_dir().join(format!("creditcity-chrome-{}-{port}", std::process::id()));
        let caps = json!({ "capabilities": { "alwaysMatch": { "browserName": "chrome", "goog:chromeOptions": {
            "binary": chrome,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1366,1000",
                     format!("--user-data-dir={}", profile.display())] } } } });
        let resp: Value = agent.post(&format!("{base}/session")).send_json(caps).and_then(|r| Ok(r.into_json()?)).unwrap_or_else(|e| panic!("no browser session: {e}"));
        let session = resp["value"]["sessionId"].as_str().unwrap_or_default().to_owned();
        assert!(!session.is_empty(), "no session: {resp}");
        Self { child, base, session, agent }
    }

    fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let r = match method {
            "GET" => self.agent.get(&url).call(),
            _ => self.agent.post(&url).send_json(body),
        };
        match r {
            Ok(r) => r.into_json::<Value>().map_or(Value::Null, |v| v["value"].clone()),
            Err(ureq::Error::Status(code, r)) => panic!("webdriver {path}: {code} {}", r.into_string().unwrap_or_default()),
            Err(e) => panic!("webdriver {path}: {e}"),
        }
    }

    fn go(&self, url: &str) {
        self.cmd("POST", "/url", json!({ "url": url }));
    }

    /// Finds an element, waiting up to 10 s for it (a click may still be navigating).
    fn find(&self, css: &str) -> String {
        let url = format!("{}/session/{}/element", self.base, self.session);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = self.agent.post(&url).send_json(json!({ "using": "css selector", "value": css })) {
                let v: Value = r.into_json().unwrap_or(Value::Null);
                if let Some(id) = v["value"].as_object().and_then(|o| o.values().next()).and_then(Value::as_str) {
                    return id.to_owned();
                }
            }
            assert!(Instant::now() < deadline, "no element {css} on:\n{}", self.page().chars().take(2000).collect::<String>());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the page contains `text`.
    fn wait_for_text(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.page().contains(text) {
            let page = self.page();
            let main = page.find("<main>").map_or(page.as_str(), |i| &page[i..]);
            assert!(Instant::now() < deadline, "the page never showed {text:?}:\n{}", main.chars().take(1500).collect::<String>());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn fill(&self, css: &str, text: &str) {
        let el = self.find(css);
        self.cmd("POST", &format!("/element/{el}/clear"), json!({}));
        self.cmd("POST", &format!("/element/{el}/value"), json!({ "text": text }));
    }

    fn click(&self, css: &str) {
        let el = self.find(css);
        self.cmd("POST", &format!("/element/{el}/click"), json!({}));
    }

    fn text(&self, css: &str) -> String {
        let el = self.find(css);
        self.cmd("GET", &format!("/element/{el}/text"), Value::Null).as_str().unwrap_or_else(|| panic!("no text of {css}")).to_owned()
    }

    fn page(&self) -> String {
        self.cmd("GET", "/source", Value::Null).as_str().unwrap_or_else(|| panic!("no page source")).to_owned()
    }

    fn login(&self, app_url: &str, user: &str) {
        self.go(&format!("{app_url}/login"));
        self.fill("input[name=username]", user);
        self.fill("input[name=password]", creditcity_web::demo::PASSWORD);
        self.click("form[action='/login'] button");
        // Signed in when the page has the sign-out form: only then navigate on.
        self.wait_for_text("action=\"/logout\"");
    }

    /// Signs out and waits for the login page, so that the next navigation does not race
    /// the redirect (which sets a fresh login token).
    fn logout(&self) {
        self.click("form[action='/logout'] button");
        self.wait_for_text("<h1>登录</h1>");
    }

    fn screenshot(&self, name: &str) {
        let Ok(dir) = std::env::var("SCREENSHOTS") else { return };
        let png = self.cmd("GET", "/screenshot", Value::Null);
        let data = png.as_str().unwrap_or_else(|| panic!("no screenshot of {name}"));
        let bytes = base64_decode(data);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{dir}: {e}"));
        std::fs::write(format!("{dir}/{name}.png"), bytes).unwrap_or_else(|e| panic!("{dir}/{name}.png: {e}"));
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|c| *c != b'=') {
        let Some(v) = T.iter().position(|x| *x == c) else { continue };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// The demo's working score (sections 8 and 10 partly from the generated records), and
/// after the unit's values of 7.2a.
const WORKING_BEFORE: &str = "37.35";
const WORKING_AFTER: &str = "38.34";
/// The demo's confirmed score (only accepted values), which the round trip leaves alone.
const CONFIRMED: &str = "2.21";

#[test]
fn a_campaign_round_trip_in_a_real_browser() {
    let app = spawn_app();
    let url = app.url("");
    let b = Driver::start();

    // The credit office's dashboard before.
    b.login(&url, "xinyongban");
    b.wait_for_text("创建进展总览");
    assert_eq!(b.text("#working-total"), WORKING_BEFORE, "the demo's working score");
    assert_eq!(b.text("#confirmed-total"), CONFIRMED, "the demo's confirmed score");
    b.screenshot("dashboard");
    b.go(&format!("{url}/rules/7.2a"));
    b.screenshot("rule");
    // The city's records: the datasets, and the records behind a gate's ratio.
    b.go(&format!("{url}/data"));
    b.wait_for_text("导入历史");
    b.screenshot("data");
    b.go(&format!("{url}/data/problems?input=s8.code_error_rate"));
    b.wait_for_text("失分记录");
    b.screenshot("records");
    b.go(&format!("{url}/admin"));
    b.screenshot("admin");
    b.logout();

    // A unit member: a bad value, the error next to the field, then the fix.
    b.login(&url, "renhang");
    b.wait_for_text("人行青川市中心支行 · 本单位任务");
    b.fill("#in-s7\\.cases_pending_prior", "abc");
    b.click("#save-inputs");
    b.screenshot("unit-error");
    let error = b.text(".field-error");
    assert!(error.contains("不是有效的值"), "{error}");
    b.fill("#in-s7\\.cases_pending_prior", "200");
    b.fill("#in-s7\\.cases_received", "800");
    b.fill("#in-s7\\.cases_closed", "790");
    b.click("#save-inputs");
    b.wait_for_text("已保存");
    // Evidence: a real file through the file input.
    let file = app.dir.path().join("法院执结统计.pdf");
    std::fs::write(&file, b"%PDF-1.4\n% court statistics\n").unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let select = b.find("#upload-target");
    b.cmd("POST", &format!("/element/{select}/click"), json!({}));
    b.cmd("POST", "/execute/sync", json!({ "script": "document.getElementById('upload-target').value = '7.2a:1';", "args": [] }));
    b.fill("#upload-file", &file.display().to_string());
    b.click("#upload");
    b.wait_for_text("法院执结统计.pdf");
    b.click("#submit-T7\\.2");
    b.wait_for_text("已提交评审");
    b.screenshot("unit");
    b.logout();

    // An evaluator returns the evidence with a reason.
    b.login(&url, "zhuanjia");
    // The evaluator of section 7 filters the queue to it.
    b.go(&format!("{url}/review?section=7"));
    b.wait_for_text("法院执结统计.pdf");
    b.screenshot("review");
    let page = b.page();
    let at = page.find("法院执结统计.pdf").unwrap_or_else(|| panic!("the upload is not in the queue"));
    let id: String = page[..at].rsplit("/evidence/").next().unwrap_or_else(|| panic!("no link to the upload")).chars().take_while(char::is_ascii_digit).collect();
    assert!(!id.is_empty(), "no id of the upload in the queue");
    b.fill(&format!("#comment-{id}"), "请补充法院盖章页");
    b.click(&format!("#return-{id}"));
    b.wait_for_text("评审意见已记录");
    b.logout();

    // The unit sees the return and why.
    b.login(&url, "renhang");
    b.wait_for_text("被退回的事项");
    assert!(b.page().contains("<b class=\"returned-reason\">请补充法院盖章页</b>"), "the unit sees the reason of the return");
    b.screenshot("unit-returned");
    b.logout();

    // The dashboard's score has moved by what 7.2a now earns: 790 closed of 200 pending
    // and 800 received (79%) scores 7.2a, and nothing else changed.
    b.login(&url, "xinyongban");
    b.wait_for_text("创建进展总览");
    assert_eq!(b.text("#working-total"), WORKING_AFTER, "the working score with the unit's new values");
    assert_eq!(b.text("#confirmed-total"), CONFIRMED, "the confirmed score: nothing new was accepted");
}
