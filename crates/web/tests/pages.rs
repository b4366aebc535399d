//! What people see and do: forms validated with the engine's messages, uploads
//! bounded and typed, output escaped, sessions and login throttling.

use crate::harness::{spawn_app, spawn_app_with, unit_id};

#[test]
fn a_bad_value_is_shown_next_to_its_field_and_nothing_is_saved() {
    let app = spawn_app();
    let pboc = unit_id(&app, "人行青川市中心支行");
    let mut c = app.as_user("renhang");
    let before = app.audit_len();
    let r = c.submit(&format!("/units/{pboc}/inputs"), &[("v:s7.npl_ratio", "180"), ("v:s7.cases_received", "800"), ("source", "document")]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("field-error") && r.body.contains("应为 0 到 1 之间的比率"), "{}", &r.body[..r.body.len().min(400)]);
    assert!(r.body.contains("value=\"180\""), "the typed value is kept in the form");
    assert_eq!(app.audit_len(), before, "nothing saved when any field is wrong");
    let r = c.submit(&format!("/units/{pboc}/inputs"), &[("v:s7.npl_ratio", "1.9%"), ("source", "document"), ("source_ref", "青银发〔2019〕12号")]);
    assert_eq!(r.status, 303);
    let page = c.get(&format!("/units/{pboc}")).body;
    assert!(page.contains("value=\"0.019\""), "saved as a fraction");
    assert!(page.contains("青银发〔2019〕12号"));
}

#[test]
fn uploads_are_bounded_and_checked_in_type() {
    let app = spawn_app_with(64 * 1024);
    let pboc = unit_id(&app, "人行青川市中心支行");
    let mut c = app.as_user("renhang");
    let path = format!("/units/{pboc}/evidence");
    let r = c.upload(&path, "7.2b:1", "受偿统计.pdf", b"%PDF-1.4 recovered amounts", None);
    assert_eq!(r.status, 303, "{}", r.body);
    let page = c.get(&format!("/units/{pboc}")).body;
    assert!(page.contains("受偿统计.pdf"));
    let before = app.audit_len();
    let r = c.upload(&path, "7.2b:1", "big.pdf", &vec![b'%'; 200 * 1024], None);
    assert!(r.status == 400 || r.status == 413, "an upload over the limit: {}", r.status);
    let r = c.upload(&path, "7.2b:1", "tool.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff", None);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("类型"), "{}", r.body);
    assert_eq!(app.audit_len(), before);
}

#[test]
fn evidence_is_served_inline_with_its_sniffed_type_and_no_sniffing() {
    let app = spawn_app();
    let mut c = app.as_user("xinyongban");
    let r = c.get("/evidence/1");
    assert_eq!(r.status, 200);
    assert_eq!(r.headers.get("content-type").and_then(|v| v.first()).map(String::as_str), Some("application/pdf"));
    assert_eq!(r.headers.get("x-content-type-options").and_then(|v| v.first()).map(String::as_str), Some("nosniff"));
    let disposition = r.headers.get("content-disposition").and_then(|v| v.first()).cloned().unwrap_or_default();
    assert!(disposition.starts_with("inline; filename*=UTF-8''%E6%89%A7"), "{disposition}");
}

#[test]
fn output_is_escaped() {
    let app = spawn_app();
    let mut admin = app.as_user("xinyongban");
    let r = admin.submit("/admin/units", &[("name", "<script>alert(1)</script>"), ("kind", "市直部门")]);
    assert_eq!(r.status, 303);
    let page = admin.get("/admin").body;
    assert!(!page.contains("<script>alert(1)</script>"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;"), "escaped, not dropped");
}

#[test]
fn sessions_are_httponly_strict_and_end_at_logout() {
    let app = spawn_app();
    let mut c = app.client();
    let r = c.login("zhuanjia", creditcity_web::demo::PASSWORD);
    let cookie = r.headers.get("set-cookie").into_iter().flatten().find(|v| v.starts_with("cc_session=")).cloned().unwrap_or_default();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    c.refresh_csrf();
    assert_eq!(c.get("/review").status, 200);
    assert_eq!(c.submit("/logout", &[]).status, 303);
    assert_eq!(c.get("/review").status, 303, "signed out");
}

#[test]
fn logins_are_throttled_after_repeated_failures() {
    let app = spawn_app();
    let mut c = app.client();
    for _ in 0..5 {
        assert_eq!(c.login("guest", "wrong password").status, 401);
    }
    let r = c.login("guest", creditcity_web::demo::PASSWORD);
    assert_eq!(r.status, 429, "the right password is refused while throttled");
    assert!(r.body.contains("15 分钟"));
    // Another account is not affected.
    assert_eq!(app.client().login("zhuanjia", creditcity_web::demo::PASSWORD).status, 303);
}

#[test]
fn an_evaluator_returns_and_the_unit_sees_why() {
    let app = spawn_app();
    let pboc = unit_id(&app, "人行青川市中心支行");
    let mut expert = app.as_user("zhuanjia");
    let r = expert.submit("/review/input/s7.amount_recovered", &[("decision", "return"), ("comment", "")]);
    assert_eq!(r.status, 400, "a return needs its reason");
    let r = expert.submit("/review/input/s7.amount_recovered", &[("decision", "return"), ("comment", "受偿金额与法院口径不一致")]);
    assert_eq!(r.status, 303);
    let mut unit = app.as_user("renhang");
    let page = unit.get(&format!("/units/{pboc}")).body;
    assert!(page.contains("受偿金额与法院口径不一致"), "the unit sees the reason");
    // Judged scores carry their justification.
    let r = expert.submit("/review/judged/s1.judged", &[("value", "3.5"), ("justification", "")]);
    assert_eq!(r.status, 422);
    let r = expert.submit("/review/judged/s1.judged", &[("value", "3.5"), ("justification", "文件齐全,机制健全")]);
    assert_eq!(r.status, 303);
    let mut admin = app.as_user("xinyongban");
    let rule = admin.get("/rules/1.1").body;
    assert!(rule.contains("文件齐全,机制健全") && rule.contains("3.50 / 4"), "the rule page shows the judged score and why");
}

#[test]
fn the_gap_page_ranks_losses_and_answers_what_ifs_without_saving() {
    let app = spawn_app();
    let mut c = app.as_user("xinyongban");
    let before = app.audit_len();
    let page = c.get("/gaps").body;
    assert!(page.contains("按可争取分数排序") && page.contains("本单位可争取的分数"));
    let r = c.get("/gaps?k0=s10.blacklist_exited&v0=600");
    assert_eq!(r.status, 200);
    assert!(r.body.contains("(假设)") && r.body.contains("现为"), "a what-if shows before and after");
    let r = c.get("/gaps?k0=s10.blacklist_exitd&v0=600");
    assert!(r.body.contains("s10.blacklist_exited"), "a mistyped key is named with a suggestion");
    assert_eq!(app.audit_len(), before, "what-ifs save nothing");
}
