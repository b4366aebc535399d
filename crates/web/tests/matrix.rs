//! Roles × routes × other units' objects: every forbidden combination is refused, and a
//! refused request changes nothing.

use crate::harness::{Client, spawn_app, unit_id};

const ROLES: [&str; 5] = ["xinyongban", "renhang", "shangwu", "zhuanjia", "guest"];

#[test]
fn every_role_reaches_exactly_its_pages() {
    let app = spawn_app();
    let pboc = unit_id(&app, "人行青川市中心支行");
    let commerce = unit_id(&app, "市商务局");
    let pboc_page = format!("/units/{pboc}");
    let commerce_page = format!("/units/{commerce}");
    let pboc_template = format!("/units/{pboc}/template.xlsx");
    // (path, [admin, renhang, shangwu, evaluator, viewer]) → expected status; 303 = sent elsewhere.
    let table: Vec<(&str, [u16; 5])> = vec![
        ("/", [200, 303, 303, 200, 200]),
        ("/rules", [200, 403, 403, 200, 200]),
        ("/rules/7.2a", [200, 403, 403, 200, 200]),
        ("/gaps", [200, 403, 403, 200, 200]),
        ("/report", [200, 403, 403, 200, 200]),
        ("/export/scores.xlsx", [200, 403, 403, 200, 200]),
        ("/export/evidence.zip", [200, 403, 403, 200, 403]),
        ("/gaps?k0=s10.jrp_cases&v0=3000", [200, 403, 403, 200, 200]),
        ("/review", [200, 403, 403, 200, 403]),
        ("/admin", [200, 403, 403, 403, 403]),
        ("/audit", [200, 403, 403, 200, 200]),
        (&pboc_page, [200, 200, 403, 200, 200]),
        (&commerce_page, [200, 403, 200, 200, 200]),
        // Evidence 1 and 2 belong to 人行, 3 to 市商务局.
        (&pboc_template, [200, 200, 403, 200, 200]),
        ("/evidence/1", [200, 200, 403, 200, 200]),
        ("/evidence/3", [200, 403, 200, 200, 200]),
        ("/evidence/999", [404, 404, 404, 404, 404]),
    ];
    let mut clients: Vec<Client> = ROLES.iter().map(|u| app.as_user(u)).collect();
    let mut anonymous = app.client();
    let mut failures = Vec::new();
    for (path, expected) in &table {
        for (who, (client, want)) in ROLES.iter().zip(clients.iter_mut().zip(expected)) {
            let got = client.get(path).status;
            if got != *want {
                failures.push(format!("{who} GET {path}: {got}, expected {want}"));
            }
        }
        let r = anonymous.get(path);
        if r.status != 303 || r.location.as_deref() != Some("/login") {
            failures.push(format!("anonymous GET {path}: {} to {:?}", r.status, r.location));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_forbidden_change_is_refused_and_changes_nothing() {
    let app = spawn_app();
    let pboc = unit_id(&app, "人行青川市中心支行");
    let commerce = unit_id(&app, "市商务局");
    let before = app.audit_len();
    let mut renhang = app.as_user("renhang");
    let mut shangwu = app.as_user("shangwu");
    let mut expert = app.as_user("zhuanjia");
    let mut guest = app.as_user("guest");
    let mut admin = app.as_user("xinyongban");
    let mut anonymous = app.client();
    let mut failures = Vec::new();
    let mut expect = |who: &str, status: u16, want: u16, what: &str| {
        if status != want {
            failures.push(format!("{who} {what}: {status}, expected {want}"));
        }
    };
    let commerce_inputs = format!("/units/{commerce}/inputs");
    let pboc_inputs = format!("/units/{pboc}/inputs");
    // Another unit's inputs, evidence and tasks.
    expect("renhang", renhang.submit(&commerce_inputs, &[("v:s4.circulation.records", "true")]).status, 403, "sets 商务局's input");
    expect("renhang", renhang.upload(&format!("/units/{commerce}/evidence"), "4.4:1", "x.pdf", b"%PDF-1.4 x", None).status, 403, "uploads for 商务局");
    expect("renhang", renhang.submit(&format!("/units/{commerce}/tasks/T4.circulation/submit"), &[]).status, 403, "submits 商务局's task");
    expect("renhang", renhang.upload(&format!("/units/{commerce}/template"), "", "t.xlsx", b"PK", None).status, 403, "imports 商务局's template");
    // Its own unit, but inputs and tasks that are not its own.
    expect("renhang", renhang.submit(&pboc_inputs, &[("v:s4.pricing.records", "true")]).status, 403, "sets an input of no task of its");
    expect("renhang", renhang.submit(&pboc_inputs, &[("v:s1.judged", "4")]).status, 403, "sets a judged score");
    expect("renhang", renhang.submit(&format!("/units/{pboc}/tasks/T1.1/submit"), &[]).status, 403, "submits a task it does not work on");
    expect("renhang", renhang.upload(&format!("/units/{pboc}/evidence"), "1.1:1", "x.pdf", b"%PDF-1.4 x", None).status, 403, "uploads for a rule of no task of its");
    // Reviews and administration.
    for (who, client) in [("renhang", &mut renhang), ("shangwu", &mut shangwu), ("guest", &mut guest)] {
        expect(who, client.submit("/review/input/s7.npl_ratio", &[("decision", "accept")]).status, 403, "reviews");
        expect(who, client.submit("/review/judged/s1.judged", &[("value", "4"), ("justification", "x")]).status, 403, "judges");
        expect(who, client.submit("/admin/users", &[("username", "mallory"), ("password", "0123456789ab"), ("role", "admin")]).status, 403, "creates a user");
    }
    expect("zhuanjia", expert.submit(&pboc_inputs, &[("v:s7.npl_ratio", "0.01")]).status, 403, "edits a unit's inputs");
    expect("zhuanjia", expert.submit("/admin/units", &[("name", "新单位"), ("kind", "市直部门")]).status, 403, "adds a unit");
    expect("guest", guest.submit(&pboc_inputs, &[("v:s7.npl_ratio", "0.01")]).status, 403, "edits a unit's inputs");
    // A missing or wrong CSRF token refuses even the admin.
    expect("admin", admin.post(&pboc_inputs, &[("v:s7.npl_ratio", "0.01")]).status, 403, "posts without a CSRF token");
    expect("admin", admin.post(&pboc_inputs, &[("csrf", "0".repeat(64).as_str()), ("v:s7.npl_ratio", "0.01")]).status, 403, "posts a wrong CSRF token");
    expect("admin", admin.upload(&format!("/units/{pboc}/evidence"), "7.2a:1", "x.pdf", b"%PDF-1.4 x", Some("bad")).status, 403, "uploads with a wrong token");
    // One session's token is not another's.
    let other = renhang.csrf.clone();
    expect("shangwu", shangwu.post(&format!("/units/{commerce}/inputs"), &[("csrf", other.as_str()), ("v:s4.circulation.records", "true")]).status, 403, "uses renhang's token");
    // Anonymous requests go to the login page and change nothing.
    let r = anonymous.post(&pboc_inputs, &[("v:s7.npl_ratio", "0.01")]);
    expect("anonymous", r.status, 303, "posts");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(app.audit_len(), before, "a refused request wrote to the audit log");
}
