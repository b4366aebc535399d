//! The API of the city's platform: a token imports a dataset and gets JSON; without a
//! token, with a wrong or revoked one, the answer is 401 JSON and nothing changes; a token
//! reaches no other route and a session does not reach the API; the OpenAPI document
//! describes the route.

use creditcity_data::DatasetKind;
use creditcity_data::generate::CityProfile;

use crate::data::generated;
use crate::harness::{Client, spawn_app};

const ROUTE: &str = "/api/v1/datasets/licences";

fn push(c: &mut Client, path: &str, token: Option<&str>, body: &[u8]) -> (u16, serde_json::Value) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("content-type", "text/csv"), ("x-file-name", "%E8%AE%B8%E5%8F%AF.csv")];
    if let Some(a) = &auth {
        headers.push(("authorization", a.as_str()));
    }
    let r = c.send("POST", path, &headers, body);
    let json = serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", r.status, r.body));
    (r.status, json)
}

fn message(json: &serde_json::Value) -> &str {
    json["error"]["message"].as_str().unwrap_or_else(|| panic!("no error message: {json}"))
}

#[test]
fn a_token_imports_a_dataset_and_the_audit_names_the_client() {
    let app = spawn_app();
    let token = app.api_token("信用平台夜间推送");
    let (bytes, expected) = generated(CityProfile::qingchuan(), DatasetKind::Licences, 1500, 21);
    let mut c = app.client();
    let (status, json) = push(&mut c, ROUTE, Some(&token), &bytes);
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["kind"], "licences");
    assert_eq!(json["file_name"], "许可.csv", "the name from X-File-Name");
    assert_eq!(json["rows"], 1500);
    assert_eq!(json["problems"].as_u64(), Some(crate::data::known_problems(&expected)));
    let derived = json["derived"].as_array().unwrap_or_else(|| panic!("{json}"));
    let total = derived.iter().find(|d| d["key"] == "s8.decisions_total").unwrap_or_else(|| panic!("decisions_total not derived: {json}"));
    assert!(total["formula"].as_str().is_some_and(|f| f.contains("行政许可")), "{total}");
    let actors = app.with_store(|store| async move { store.audit(&creditcity_store::AuditFilter::default()).await.map(|a| a.into_iter().map(|e| e.actor).collect::<Vec<_>>()) });
    assert!(actors.iter().any(|a| a == "api:信用平台夜间推送"), "the audit names the API client: {actors:?}");
    // The credit office sees it in the history, pushed by the client.
    let data = app.as_user("xinyongban").get("/data").body;
    assert!(data.contains("api:信用平台夜间推送") && data.contains("许可.csv"));
}

#[test]
fn a_bad_file_through_the_api_is_a_json_error_naming_the_field_and_changes_nothing() {
    let app = spawn_app();
    let token = app.api_token("平台");
    let (penalties, _) = generated(CityProfile::qingchuan(), DatasetKind::Penalties, 100, 5);
    let mut c = app.client();
    let before = app.audit_len();
    let (status, json) = push(&mut c, ROUTE, Some(&token), &penalties);
    assert_eq!(status, 400, "{json}");
    assert!(message(&json).contains("这不是行政许可数据"), "{json}");
    assert_eq!(json["error"]["field"], "file");
    let (status, json) = push(&mut c, ROUTE, Some(&token), b"");
    assert_eq!(status, 400, "{json}");
    assert!(message(&json).contains("文件为空"), "{json}");
    let (status, json) = push(&mut c, "/api/v1/datasets/budget", Some(&token), b"a,b\n1,2\n");
    assert_eq!(status, 404, "{json}");
    assert_eq!(json["error"]["field"], "kind");
    assert!(message(&json).contains("不是数据集类型"), "{json}");
    assert_eq!(app.audit_len(), before, "a refused push wrote to the audit log");
}

#[test]
fn without_a_live_token_the_api_answers_401_and_a_token_reaches_nothing_else() {
    let app = spawn_app();
    let token = app.api_token("平台");
    let (bytes, _) = generated(CityProfile::qingchuan(), DatasetKind::Licences, 50, 9);
    let before = app.audit_len();
    let mut anonymous = app.client();
    let (status, json) = push(&mut anonymous, ROUTE, None, &bytes);
    assert_eq!(status, 401, "{json}");
    assert!(message(&json).contains("缺少接口令牌"), "{json}");
    let (status, json) = push(&mut anonymous, ROUTE, Some(&format!("cc_{}", "0".repeat(64))), &bytes);
    assert_eq!(status, 401, "{json}");
    assert!(message(&json).contains("无效或已吊销"), "{json}");
    // A signed-in session (cookies, even a CSRF token) does not reach the API.
    let mut admin = app.as_user("xinyongban");
    let csrf = admin.csrf.clone();
    let r = admin.send("POST", &format!("{ROUTE}?csrf={csrf}"), &[("content-type", "text/csv"), ("x-csrf-token", &csrf)], &bytes);
    assert_eq!(r.status, 401, "a session on the API route: {}", r.body);
    // The token reaches no page and no form.
    let auth = format!("Bearer {token}");
    for path in ["/", "/data", "/admin", "/rules/8.1a", "/data/problems?input=s8.code_error_rate", "/units/1/problems.xlsx", "/export/scores.xlsx", "/audit"] {
        let r = anonymous.send("GET", path, &[("authorization", &auth)], b"");
        assert_eq!((r.status, r.location.as_deref()), (303, Some("/login")), "the token reached GET {path}");
    }
    let r = anonymous.upload_dataset("licences", "x.csv", &bytes, Some("x"));
    assert_eq!(r.status, 303, "the upload form without a session");
    let r = anonymous.send("POST", "/data/import", &[("authorization", &auth), ("content-type", "multipart/form-data; boundary=x")], b"--x--\r\n");
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/login")), "the token reached POST /data/import");
    let r = anonymous.send("POST", "/admin/users", &[("authorization", &auth), ("content-type", "application/x-www-form-urlencoded")], b"username=m&password=0123456789ab&role=admin");
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/login")), "the token reached POST /admin/users");
    assert_eq!(app.audit_len(), before, "a refused request wrote to the audit log");
    // A revoked token is refused.
    let (status, _) = push(&mut anonymous, ROUTE, Some(&token), &bytes);
    assert_eq!(status, 200, "the live token works");
    app.revoke_api_token("平台");
    let after = app.audit_len();
    let (status, json) = push(&mut anonymous, ROUTE, Some(&token), &bytes);
    assert_eq!(status, 401, "{json}");
    assert_eq!(app.audit_len(), after);
}

#[test]
fn the_openapi_document_is_json_and_describes_the_route() {
    let app = spawn_app();
    let r = app.client().get("/api/openapi.json");
    assert_eq!(r.status, 200, "served without signing in");
    assert_eq!(r.headers.get("content-type").and_then(|v| v.first()).map(String::as_str), Some("application/json"));
    let doc: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}"));
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.0")));
    let post = &doc["paths"]["/api/v1/datasets/{kind}"]["post"];
    assert!(post.is_object(), "the route is described");
    let kinds: Vec<&str> = post["parameters"][0]["schema"]["enum"].as_array().into_iter().flatten().filter_map(serde_json::Value::as_str).collect();
    assert_eq!(kinds, DatasetKind::ALL.iter().map(|k| k.id()).collect::<Vec<_>>(), "every dataset kind, as the server knows them");
    for status in ["200", "400", "401", "413"] {
        assert!(post["responses"][status].is_object(), "response {status} described");
    }
    assert_eq!(doc["components"]["securitySchemes"]["apiToken"]["scheme"], "bearer");
    // Every route the document names is a route of the server.
    for path in doc["paths"].as_object().into_iter().flatten().map(|(p, _)| p) {
        assert!(creditcity_web::ROUTES.iter().any(|(_, r)| r == path), "{path} is not served");
    }
}
