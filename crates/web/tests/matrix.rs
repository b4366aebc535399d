//! Roles × routes × objects (other units', and another assessment's): every forbidden
//! combination is refused and a refused request changes nothing. Every route of the
//! router (`creditcity_web::ROUTES`) must appear here, or `every_route_is_in_the_matrix`
//! fails.

use std::collections::BTreeSet;

use crate::harness::{App, Client, spawn_app, unit_id};

const ROLES: [&str; 5] = ["xinyongban", "renhang", "shangwu", "zhuanjia", "guest"];

struct Ids {
    pboc: i64,
    commerce: i64,
}

struct GetCase {
    route: &'static str,
    path: String,
    /// [admin, renhang, shangwu, evaluator, viewer]; 303 = sent elsewhere.
    expected: [u16; 5],
    /// Answers without signing in.
    public: bool,
}

fn get_table(ids: &Ids) -> Vec<GetCase> {
    let case = |route: &'static str, path: String, expected: [u16; 5]| GetCase { route, path, expected, public: false };
    let (pboc, commerce) = (ids.pboc, ids.commerce);
    vec![
        case("/", "/".into(), [200, 303, 303, 200, 200]),
        GetCase { route: "/login", path: "/login".into(), expected: [303; 5], public: true },
        GetCase { route: "/healthz", path: "/healthz".into(), expected: [200; 5], public: true },
        case("/rules", "/rules".into(), [200, 403, 403, 200, 200]),
        case("/rules/{id}", "/rules/7.2a".into(), [200, 403, 403, 200, 200]),
        case("/rules/{id}", "/rules/99.9".into(), [404, 403, 403, 404, 404]),
        case("/gaps", "/gaps".into(), [200, 403, 403, 200, 200]),
        case("/gaps", "/gaps?k0=s10.jrp_cases&v0=3000".into(), [200, 403, 403, 200, 200]),
        case("/report", "/report".into(), [200, 403, 403, 200, 200]),
        case("/export/scores.xlsx", "/export/scores.xlsx".into(), [200, 403, 403, 200, 200]),
        case("/export/evidence.zip", "/export/evidence.zip".into(), [200, 403, 403, 200, 403]),
        case("/review", "/review".into(), [200, 403, 403, 200, 403]),
        case("/admin", "/admin".into(), [200, 403, 403, 403, 403]),
        case("/audit", "/audit".into(), [200, 403, 403, 200, 200]),
        // Other cities' scores: the overview roles only, never a unit's staff.
        case("/compare", "/compare".into(), [200, 403, 403, 200, 200]),
        case("/compare.xlsx", "/compare.xlsx".into(), [200, 403, 403, 200, 200]),
        case("/unit", "/unit".into(), [303; 5]),
        case("/units/{id}", format!("/units/{pboc}"), [200, 200, 403, 200, 200]),
        case("/units/{id}", format!("/units/{commerce}"), [200, 403, 200, 200, 200]),
        case("/units/{id}/template.xlsx", format!("/units/{pboc}/template.xlsx"), [200, 200, 403, 200, 200]),
        // Evidence 1 and 2 belong to 人行, 3 to 市商务局.
        case("/evidence/{id}", "/evidence/1".into(), [200, 200, 403, 200, 200]),
        case("/evidence/{id}", "/evidence/3".into(), [200, 403, 200, 200, 200]),
        case("/evidence/{id}", "/evidence/999".into(), [404, 404, 404, 404, 404]),
        // The city's records: the overview roles see them all; a unit is sent to its own.
        case("/data", "/data".into(), [200, 303, 303, 200, 200]),
        case("/data/imports/{id}", "/data/imports/999".into(), [404, 403, 403, 403, 403]),
        case("/data/problems", "/data/problems?input=s8.decisions_reported".into(), [200; 5]),
        case("/data/problems", format!("/data/problems?input=s8.decisions_reported&unit={commerce}"), [200, 403, 200, 200, 200]),
        case("/data/problems", format!("/data/problems?input=s8.decisions_reported&unit={pboc}"), [200, 200, 403, 200, 200]),
        case("/data/problems", "/data/problems?input=s1.judged".into(), [404; 5]),
        case("/units/{id}/problems.xlsx", format!("/units/{pboc}/problems.xlsx"), [200, 200, 403, 200, 200]),
        case("/units/{id}/problems.xlsx", format!("/units/{commerce}/problems.xlsx"), [200, 403, 200, 200, 200]),
        GetCase { route: "/api/openapi.json", path: "/api/openapi.json".into(), expected: [200; 5], public: true },
        // The cities an account may see: its own for these roles (the demo has one city).
        case("/cities", "/cities".into(), [200; 5]),
        case("/cities/{id}", "/cities/1".into(), [303; 5]),
        case("/cities/{id}", "/cities/999".into(), [404; 5]),
    ]
}

/// A POST and who may not make it: [admin, renhang, shangwu, evaluator, viewer], true =
/// must be refused (403 or 404) even with a valid CSRF token.
struct PostCase {
    route: &'static str,
    path: String,
    fields: Vec<(&'static str, String)>,
    refused: [bool; 5],
}

fn post_table(ids: &Ids) -> Vec<PostCase> {
    let (pboc, commerce) = (ids.pboc, ids.commerce);
    let case = |route: &'static str, path: String, fields: &[(&'static str, &str)], refused: [bool; 5]| PostCase {
        route,
        path,
        fields: fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
        refused,
    };
    let all = [true; 5];
    let not_admin = [false, true, true, true, true];
    vec![
        case("/units/{id}/inputs", format!("/units/{commerce}/inputs"), &[("v:s4.circulation.records", "是")], [false, true, false, true, true]),
        case("/units/{id}/inputs", format!("/units/{pboc}/inputs"), &[("v:s4.pricing.records", "是")], all),
        case("/units/{id}/inputs", format!("/units/{pboc}/inputs"), &[("v:s1.judged", "4")], all),
        case("/units/{id}/tasks/{code}/submit", format!("/units/{commerce}/tasks/T4.circulation/submit"), &[], [false, true, false, true, true]),
        case("/units/{id}/tasks/{code}/submit", format!("/units/{pboc}/tasks/T1.1/submit"), &[], all),
        case("/review/{kind}/{id}", "/review/input/s7.npl_ratio".into(), &[("decision", "accept")], [false, true, true, false, true]),
        case("/review/group", "/review/group".into(), &[("decision", "accept"), ("t", "input:s7.npl_ratio")], [false, true, true, false, true]),
        case("/review/judged/{key}", "/review/judged/s1.judged".into(), &[("value", "4"), ("justification", "x")], [false, true, true, false, true]),
        case("/admin/users", "/admin/users".into(), &[("username", "mallory"), ("password", "0123456789ab"), ("role", "admin")], not_admin),
        case("/admin/users/{name}/password", "/admin/users/guest/password".into(), &[("password", "0123456789ab")], not_admin),
        case("/admin/users/{name}/active", "/admin/users/guest/active".into(), &[("active", "false")], not_admin),
        case("/admin/units", "/admin/units".into(), &[("name", "新单位"), ("kind", "市直部门")], not_admin),
        case("/admin/tasks/{code}", "/admin/tasks/T7.2".into(), &[("lead", &pboc.to_string()), ("due", "2030-01-01")], not_admin),
    ]
}

fn refused(status: u16) -> bool {
    status == 403 || status == 404
}

#[test]
fn every_route_is_in_the_matrix() {
    // The routes do not depend on the ids.
    let ids = Ids { pboc: 0, commerce: 0 };
    let mut covered: BTreeSet<(&str, &str)> = get_table(&ids).iter().map(|c| ("GET", c.route)).collect();
    covered.extend(post_table(&ids).iter().map(|c| ("POST", c.route)));
    // Covered by the tests of CSRF and of uploads below.
    covered.extend([("POST", "/login"), ("POST", "/logout"), ("POST", "/units/{id}/evidence"), ("POST", "/units/{id}/template"), ("POST", "/data/import")]);
    // Covered by `the_api_takes_tokens_only_and_tokens_reach_only_the_api` below.
    covered.insert(("POST", "/api/v1/datasets/{kind}"));
    let routes: BTreeSet<(&str, &str)> = creditcity_web::ROUTES.iter().copied().collect();
    let missing: Vec<_> = routes.difference(&covered).collect();
    assert!(missing.is_empty(), "routes missing from the authorization matrix: {missing:?}");
    let stale: Vec<_> = covered.difference(&routes).collect();
    assert!(stale.is_empty(), "the matrix names routes the router does not have: {stale:?}");
}

#[test]
fn every_role_reaches_exactly_its_pages() {
    let app = spawn_app();
    let ids = Ids { pboc: unit_id(&app, "人行青川市中心支行"), commerce: unit_id(&app, "市商务局") };
    let mut clients: Vec<Client> = ROLES.iter().map(|u| app.as_user(u)).collect();
    let mut anonymous = app.client();
    let mut failures = Vec::new();
    for case in get_table(&ids) {
        for (who, (client, want)) in ROLES.iter().zip(clients.iter_mut().zip(case.expected)) {
            let got = client.get(&case.path).status;
            if got != want {
                failures.push(format!("{who} GET {}: {got}, expected {want}", case.path));
            }
        }
        let r = anonymous.get(&case.path);
        if !case.public && (r.status != 303 || r.location.as_deref() != Some("/login")) {
            failures.push(format!("anonymous GET {}: {} to {:?}", case.path, r.status, r.location));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_forbidden_change_is_refused_and_changes_nothing() {
    let app = spawn_app();
    let ids = Ids { pboc: unit_id(&app, "人行青川市中心支行"), commerce: unit_id(&app, "市商务局") };
    let mut clients: Vec<Client> = ROLES.iter().map(|u| app.as_user(u)).collect();
    let before = app.audit_len();
    let mut failures = Vec::new();
    for case in post_table(&ids) {
        let fields: Vec<(&str, &str)> = case.fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        for (who, (client, must_refuse)) in ROLES.iter().zip(clients.iter_mut().zip(case.refused)) {
            if must_refuse {
                let got = client.submit(&case.path, &fields).status;
                if !refused(got) {
                    failures.push(format!("{who} POST {}: {got}, expected a refusal", case.path));
                }
            }
        }
    }
    // Uploads for another unit, or for a rule of no task of the unit's.
    let renhang = &mut clients[1];
    let commerce = ids.commerce;
    let pboc = ids.pboc;
    for (path, target) in [(format!("/units/{commerce}/evidence"), "4.4:1"), (format!("/units/{pboc}/evidence"), "1.1:1"), (format!("/units/{commerce}/template"), "")] {
        let got = renhang.upload(&path, target, "x.pdf", b"%PDF-1.4 x", None).status;
        if !refused(got) {
            failures.push(format!("renhang uploads to {path} ({target}): {got}"));
        }
    }
    // Dataset imports: the credit office only.
    for (who, client) in ROLES.iter().zip(clients.iter_mut()).skip(1) {
        let got = client.upload_dataset("licences", "x.csv", b"a,b\n1,2\n", None).status;
        if !refused(got) {
            failures.push(format!("{who} imports a dataset: {got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(app.audit_len(), before, "a refused request wrote to the audit log");
}

#[test]
fn every_post_without_the_sessions_csrf_token_is_refused() {
    let app = spawn_app();
    let ids = Ids { pboc: unit_id(&app, "人行青川市中心支行"), commerce: unit_id(&app, "市商务局") };
    let mut admin = app.as_user("xinyongban");
    let renhang = app.as_user("renhang");
    let before = app.audit_len();
    let mut failures = Vec::new();
    let mut expect = |what: String, status: u16| {
        if status != 403 {
            failures.push(format!("{what}: {status}, expected 403"));
        }
    };
    let others = renhang.csrf.clone();
    for case in post_table(&ids) {
        let fields: Vec<(&str, &str)> = case.fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        expect(format!("admin POST {} without a token", case.path), admin.post(&case.path, &fields).status);
        let mut wrong = vec![("csrf", "0".repeat(64))];
        wrong.extend(case.fields.iter().cloned());
        let wrong: Vec<(&str, &str)> = wrong.iter().map(|(k, v)| (*k, v.as_str())).collect();
        expect(format!("admin POST {} with a wrong token", case.path), admin.post(&case.path, &wrong).status);
        let mut stolen = vec![("csrf", others.clone())];
        stolen.extend(case.fields.iter().cloned());
        let stolen: Vec<(&str, &str)> = stolen.iter().map(|(k, v)| (*k, v.as_str())).collect();
        expect(format!("admin POST {} with another session's token", case.path), admin.post(&case.path, &stolen).status);
    }
    for path in [format!("/units/{}/evidence", ids.pboc), format!("/units/{}/template", ids.pboc)] {
        expect(format!("admin uploads to {path} with a wrong token"), admin.upload(&path, "7.2a:1", "x.pdf", b"%PDF-1.4 x", Some("bad")).status);
    }
    expect("admin imports a dataset with a wrong token".to_owned(), admin.upload_dataset("licences", "x.csv", b"a,b\n1,2\n", Some("bad")).status);
    expect("admin imports a dataset with another session's token".to_owned(), admin.upload_dataset("licences", "x.csv", b"a,b\n1,2\n", Some(&others)).status);
    expect("admin signs out without a token".to_owned(), admin.post("/logout", &[]).status);
    let mut fresh = app.client();
    fresh.get("/login");
    expect("a login with another page's token".to_owned(), fresh.post("/login", &[("username", "guest"), ("password", creditcity_web::demo::PASSWORD), ("csrf", "0")]).status);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(app.audit_len(), before, "a refused request wrote to the audit log");
    // Still signed in: the refused sign-out did nothing.
    assert_eq!(admin.get("/admin").status, 200);
    // Anonymous requests go to the login page and change nothing.
    let r = app.client().post(&format!("/units/{}/inputs", ids.pboc), &[("v:s7.npl_ratio", "0.01")]);
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/login")));
}

#[test]
fn objects_of_another_assessment_are_refused_and_change_nothing() {
    let app: App = spawn_app();
    let other = app.second_city();
    app.with_workspace_of("临江市", |ws| async move {
        let who = creditcity_app::Actor("test".to_owned());
        ws.create_user("ljguest", "临江只读", "0123456789ab", creditcity_app::accounts::Role::Viewer, None, &who).await.unwrap_or_else(|e| panic!("{e}"));
        (ws, ())
    });
    let pboc = unit_id(&app, "人行青川市中心支行");
    let mut admin = app.as_user("xinyongban");
    let mut expert = app.as_user("zhuanjia");
    let mut renhang = app.as_user("renhang");
    let before = app.audit_len();
    let mut failures = Vec::new();
    // Every route tried here with another city's object.
    let mut tried: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut check = |route: (&'static str, &'static str), what: &str, status: u16| {
        tried.insert(route);
        if !refused(status) {
            failures.push(format!("{what} ({} {}): {status}, expected a refusal", route.0, route.1));
        }
    };
    let (city, unit, evidence, task, import) = (other.city, other.unit, other.evidence, other.task.as_str(), other.import);
    for (who, c) in [("admin", &mut admin), ("zhuanjia", &mut expert), ("renhang", &mut renhang)] {
        check(("GET", "/units/{id}"), &format!("{who} GET its unit page"), c.get(&format!("/units/{unit}")).status);
        check(("GET", "/units/{id}/template.xlsx"), &format!("{who} GET its template"), c.get(&format!("/units/{unit}/template.xlsx")).status);
        check(("GET", "/evidence/{id}"), &format!("{who} GET its evidence"), c.get(&format!("/evidence/{evidence}")).status);
        check(("GET", "/data/imports/{id}"), &format!("{who} GET its dataset import"), c.get(&format!("/data/imports/{import}")).status);
        check(("GET", "/units/{id}/problems.xlsx"), &format!("{who} downloads its unit's problems"), c.get(&format!("/units/{unit}/problems.xlsx")).status);
        check(("GET", "/cities/{id}"), &format!("{who} switches to it"), c.get(&format!("/cities/{city}?next=/")).status);
    }
    check(("POST", "/units/{id}/inputs"), "admin sets its unit's inputs", admin.submit(&format!("/units/{unit}/inputs"), &[("v:s7.npl_ratio", "0.01")]).status);
    check(("POST", "/units/{id}/evidence"), "admin uploads for its unit", admin.upload(&format!("/units/{unit}/evidence"), "7.2a:1", "x.pdf", b"%PDF-1.4 x", None).status);
    check(("POST", "/units/{id}/template"), "admin imports a template for its unit", admin.upload(&format!("/units/{unit}/template"), "", "t.xlsx", b"PK", None).status);
    check(("POST", "/units/{id}/tasks/{code}/submit"), "admin submits its unit's task", admin.submit(&format!("/units/{unit}/tasks/T7.2/submit"), &[]).status);
    check(("POST", "/admin/tasks/{code}"), "admin edits its task", admin.submit(&format!("/admin/tasks/{task}"), &[("lead", &pboc.to_string()), ("due", "2030-01-01")]).status);
    check(("POST", "/admin/tasks/{code}"), "admin makes its unit a lead", admin.submit("/admin/tasks/T7.2", &[("lead", &unit.to_string()), ("due", "2030-01-01")]).status);
    check(("POST", "/admin/users"), "admin gives an account its unit", admin.submit("/admin/users", &[("username", "lj"), ("password", "0123456789ab"), ("role", "unit"), ("unit", &unit.to_string())]).status);
    check(("POST", "/admin/users/{name}/password"), "admin resets its account's password", admin.submit("/admin/users/ljguest/password", &[("password", "0123456789ab")]).status);
    check(("POST", "/admin/users/{name}/active"), "admin deactivates its account", admin.submit("/admin/users/ljguest/active", &[("active", "false")]).status);
    check(("POST", "/review/{kind}/{id}"), "zhuanjia reviews its evidence", expert.submit(&format!("/review/evidence/{evidence}"), &[("decision", "accept")]).status);
    check(("POST", "/review/{kind}/{id}"), "admin reviews its task", admin.submit(&format!("/review/task/{task}"), &[("decision", "accept")]).status);
    check(("POST", "/review/{kind}/{id}"), "zhuanjia reviews its task", expert.submit(&format!("/review/task/{task}"), &[("decision", "accept")]).status);
    check(("POST", "/review/group"), "zhuanjia reviews its evidence in a group", expert.submit("/review/group", &[("decision", "accept"), ("t", &format!("evidence:{evidence}"))]).status);
    check(("GET", "/data/problems"), "zhuanjia lists its unit's records", expert.get(&format!("/data/problems?input=s8.decisions_reported&unit={unit}")).status);
    check(("GET", "/data/problems"), "renhang lists its unit's records", renhang.get(&format!("/data/problems?input=s8.decisions_reported&unit={unit}")).status);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(app.audit_len(), before, "a refused request wrote to the audit log");
    // Every route that names an object was tried, but those whose parameter names none
    // of a city's: a rule or an input of the rubric, the same in every city, and a kind
    // of dataset (the API's token belongs to one city: `the_api_takes_tokens_only…`).
    let city_free = [("GET", "/rules/{id}"), ("POST", "/review/judged/{key}"), ("POST", "/api/v1/datasets/{kind}")];
    let untried: Vec<_> = creditcity_web::ROUTES.iter().filter(|r| r.1.contains('{') && !tried.contains(*r) && !city_free.contains(*r)).collect();
    assert!(untried.is_empty(), "routes naming an object never tried with another city's: {untried:?}");
}

#[test]
fn the_api_takes_tokens_only_and_tokens_reach_only_the_api() {
    let app = spawn_app();
    let ids = Ids { pboc: unit_id(&app, "人行青川市中心支行"), commerce: unit_id(&app, "市商务局") };
    let token = app.api_token("平台");
    app.api_token("已吊销");
    let revoked = {
        let t = app.api_token("将吊销");
        app.revoke_api_token("将吊销");
        t
    };
    let mut clients: Vec<Client> = ROLES.iter().map(|u| app.as_user(u)).collect();
    let before = app.audit_len();
    let mut failures = Vec::new();
    let csv: &[u8] = b"a,b\n1,2\n";
    // Every session, whatever its role, is refused by the API route.
    for (who, c) in ROLES.iter().zip(clients.iter_mut()) {
        let csrf = c.csrf.clone();
        let got = c.send("POST", "/api/v1/datasets/licences", &[("content-type", "text/csv"), ("x-csrf-token", &csrf)], csv).status;
        if got != 401 {
            failures.push(format!("{who}'s session POST /api/v1/datasets/licences: {got}, expected 401"));
        }
    }
    // No token, a revoked one, a malformed one: 401.
    let mut machine = app.client();
    for (what, header) in [("no token", None), ("a revoked token", Some(format!("Bearer {revoked}"))), ("a malformed token", Some("Bearer cc_x".to_owned())), ("a session id as token", Some(format!("Bearer {}", "a".repeat(64))))] {
        let mut headers = vec![("content-type", "text/csv")];
        if let Some(h) = &header {
            headers.push(("authorization", h.as_str()));
        }
        let got = machine.send("POST", "/api/v1/datasets/licences", &headers, csv).status;
        if got != 401 {
            failures.push(format!("{what}: {got}, expected 401"));
        }
    }
    // A live token reaches no other route: every GET of the matrix and every POST.
    let auth = format!("Bearer {token}");
    for case in get_table(&ids).iter().filter(|c| !c.public) {
        let r = machine.send("GET", &case.path, &[("authorization", &auth)], b"");
        if (r.status, r.location.as_deref()) != (303, Some("/login")) {
            failures.push(format!("the token GET {}: {} {:?}", case.path, r.status, r.location));
        }
    }
    for case in post_table(&ids) {
        let body: String = case.fields.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
        let r = machine.send("POST", &case.path, &[("authorization", &auth), ("content-type", "application/x-www-form-urlencoded")], body.as_bytes());
        if (r.status, r.location.as_deref()) != (303, Some("/login")) {
            failures.push(format!("the token POST {}: {} {:?}", case.path, r.status, r.location));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(app.audit_len(), before, "a refused request wrote to the audit log");
}

/// Two cities of one province in one store, served by one server: each account reaches
/// exactly the cities it may see, by every route, and a refused request writes nothing.
#[test]
fn each_account_sees_exactly_its_cities() {
    use creditcity_app::Actor;
    let app: App = spawn_app();
    let other = app.second_city();
    let pboc = unit_id(&app, "人行青川市中心支行");
    let (qingchuan, linjiang) = app.with_all(|all| async move {
        let who = Actor("test".to_owned());
        let cities = all.cities().await.unwrap_or_else(|e| panic!("{e}"));
        let id = |name: &str| cities.iter().find(|c| c.name == name).map_or_else(|| panic!("no {name}"), |c| c.id);
        let (q, l) = (id("青川市"), id("临江市"));
        for c in [q, l] {
            all.set_province(c, "示范省", &who).await.unwrap_or_else(|e| panic!("{e}"));
        }
        all.create_province_user("sheng", "省信用办", "0123456789ab", "示范省", &who).await.unwrap_or_else(|e| panic!("{e}"));
        (all, (q, l))
    });
    app.with_workspace_of("临江市", |ws| async move {
        ws.create_user("lj", "临江信用办", "0123456789ab", creditcity_app::accounts::Role::Admin, None, &Actor("test".to_owned())).await.unwrap_or_else(|e| panic!("{e}"));
        (ws, ())
    });
    let mut lj = app.as_user_with("lj", "0123456789ab");
    let mut sheng = app.as_user_with("sheng", "0123456789ab");
    let mut expert = app.as_user("zhuanjia");
    let mut renhang = app.as_user("renhang");
    let mut admin = app.as_user("xinyongban");
    let before = app.audit_len();
    let mut failures = Vec::new();
    let mut want = |what: &str, got: u16, expected: u16| {
        if got != expected {
            failures.push(format!("{what}: {got}, expected {expected}"));
        }
    };

    // 临江市's credit office: its own city only.
    let home = lj.get("/");
    want("lj GET /", home.status, 200);
    assert!(home.body.contains("临江市") && !home.body.contains("青川市 ·"), "lj's dashboard is 临江市's");
    want("lj GET 青川市's unit", lj.get(&format!("/units/{pboc}")).status, 404);
    want("lj GET 青川市's evidence", lj.get("/evidence/1").status, 404);
    want("lj GET 青川市's unit records", lj.get(&format!("/units/{pboc}/problems.xlsx")).status, 404);
    want("lj switches to 青川市", lj.get(&format!("/cities/{qingchuan}")).status, 404);
    want("lj GET its own unit", lj.get(&format!("/units/{}", other.unit)).status, 200);
    want("lj changes 青川市's guest's password", lj.submit("/admin/users/guest/password", &[("password", "0123456789ab")]).status, 404);
    want("lj deactivates 青川市's admin", lj.submit("/admin/users/xinyongban/active", &[("active", "false")]).status, 404);
    want("lj sets 青川市's unit's inputs", lj.submit(&format!("/units/{pboc}/inputs"), &[("v:s7.npl_ratio", "0.01")]).status, 404);
    want("lj reviews 青川市's evidence", lj.submit("/review/evidence/1", &[("decision", "accept")]).status, 404);
    let admin_page = lj.get("/admin").body;
    assert!(!admin_page.contains("xinyongban") && !admin_page.contains("renhang"), "lj's admin page lists 青川市's accounts");
    let audit = lj.get("/audit").body;
    assert!(audit.contains("test") && !audit.contains("renhang") && !audit.contains("zhuanjia"), "lj's audit log shows 青川市's entries");

    // 青川市's accounts never reach 临江市.
    for (who, c) in [("xinyongban", &mut admin), ("zhuanjia", &mut expert), ("renhang", &mut renhang)] {
        want(&format!("{who} switches to 临江市"), c.get(&format!("/cities/{linjiang}")).status, 404);
        let got = c.get(&format!("/units/{}", other.unit)).status;
        want(&format!("{who} GET 临江市's unit (refused)"), if refused(got) { 404 } else { got }, 404);
    }
    want("renhang GET /compare", renhang.get("/compare").status, 403);

    // The province office: both cities, read-only.
    let compare = sheng.get("/compare?section=7");
    want("sheng GET /compare", compare.status, 200);
    assert!(compare.body.contains("青川市") && compare.body.contains("临江市"), "the province compares its two cities");
    assert!(compare.body.replace("&#x2f;", "/").contains(&format!("/cities/{linjiang}?next=%2Frules%2F7.2a")), "a cell opens 临江市's rule");
    want("sheng GET /cities", sheng.get("/cities").status, 200);
    let ids = Ids { pboc, commerce: unit_id(&app, "市商务局") };
    for case in post_table(&ids) {
        let fields: Vec<(&str, &str)> = case.fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let got = sheng.submit(&case.path, &fields).status;
        want(&format!("sheng POST {} (refused)", case.path), if refused(got) { 403 } else { got }, 403);
    }
    let r = sheng.get(&format!("/cities/{linjiang}?next=/rules/7.2a"));
    want("sheng switches to 临江市", r.status, 303);
    assert_eq!(r.location.as_deref(), Some("/rules/7.2a"));
    let page = sheng.get("/");
    assert!(page.body.contains("临江市"), "after switching, the province sees 临江市");
    want("sheng GET 临江市's unit", sheng.get(&format!("/units/{}", other.unit)).status, 200);
    want("sheng GET 青川市's unit while in 临江市", sheng.get(&format!("/units/{pboc}")).status, 404);
    want("sheng sets 临江市's inputs", sheng.submit(&format!("/units/{}/inputs", other.unit), &[("v:s7.npl_ratio", "0.01")]).status, 403);
    want("sheng goes elsewhere after switching", sheng.get(&format!("/cities/{qingchuan}?next=//evil.example/")).location.map_or(0, |l| u16::from(l == "/")), 1);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(app.audit_len(), before, "a refused request wrote to the audit log");

    // An evaluator assigned to 临江市 from elsewhere (another process, the CLI) may
    // switch at once: what an account may see is read on every request.
    app.with_all(move |all| async move {
        all.assign_evaluator("zhuanjia", linjiang, &Actor("test".to_owned())).await.unwrap_or_else(|e| panic!("{e}"));
        (all, ())
    });
    assert_eq!(expert.get(&format!("/cities/{linjiang}")).status, 303);
    assert_eq!(expert.get(&format!("/units/{}", other.unit)).status, 200);
    let r = expert.submit(&format!("/review/evidence/{}", other.evidence), &[("decision", "accept")]);
    assert_eq!(r.status, 303, "the evaluator reviews in its new city");
    // An evaluator of two cities is neither city office's to reset or deactivate: that
    // would reach into the other city.
    let before = app.audit_len();
    assert_eq!(lj.submit("/admin/users/zhuanjia/password", &[("password", "0123456789ab")]).status, 404);
    assert_eq!(lj.submit("/admin/users/zhuanjia/active", &[("active", "false")]).status, 404);
    assert_eq!(admin.submit("/admin/users/zhuanjia/active", &[("active", "false")]).status, 404);
    assert_eq!(app.audit_len(), before, "a refused request wrote to the audit log");
    assert_eq!(expert.get("/").status, 200, "the evaluator is still signed in");

    // A city of another province is not the province office's.
    let location = app.location.clone();
    let hekou = app.with_all(move |all| async move {
        let who = Actor("test".to_owned());
        let rubric = creditcity_rubric::Rubric::embedded_2019().unwrap_or_else(|e| panic!("{e}"));
        creditcity_app::init(&location, &rubric, "河口市", "2019", &who).await.unwrap_or_else(|e| panic!("{e}"));
        let id = all.cities().await.unwrap_or_else(|e| panic!("{e}")).into_iter().find(|c| c.name == "河口市").map_or_else(|| panic!("no 河口市"), |c| c.id);
        all.set_province(id, "邻省", &who).await.unwrap_or_else(|e| panic!("{e}"));
        (all, id)
    });
    let before = app.audit_len();
    assert_eq!(sheng.get(&format!("/cities/{hekou}?next=/")).status, 404, "the province office switches to another province's city");
    assert!(!sheng.get("/cities").body.contains("河口市"), "the province office's cities list another province's city");
    let compare = sheng.get("/compare");
    assert!(compare.body.contains("临江市") && !compare.body.contains("河口市"), "the province office's comparison holds another province's city");
    assert_eq!(app.audit_len(), before, "a refused request wrote to the audit log");
}
