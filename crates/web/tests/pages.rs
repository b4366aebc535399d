//! What people see and do: forms validated with the engine's messages, uploads
//! bounded and typed, output escaped, sessions and login throttling.

use crate::harness::{Client, spawn_app, spawn_app_with, unit_id};

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
    // Refused with 400 or 413, or the connection closed before the whole body was sent.
    match c.try_upload(&path, "7.2b:1", "big.pdf", &vec![b'%'; 200 * 1024], None) {
        Ok(r) => assert!(r.status == 400 || r.status == 413, "an upload over the limit: {}", r.status),
        Err(e) => assert!(e.contains("Broken pipe") || e.contains("reset"), "an upload over the limit: {e}"),
    }
    let r = c.upload(&path, "7.2b:1", "tool.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff", None);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("类型"), "{}", r.body);
    assert_eq!(app.audit_len(), before);
}

/// One HTTP/1.1 exchange on a raw connection: the answer's head, up to its blank line.
fn read_head(stream: &mut std::net::TcpStream) -> std::io::Result<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if std::io::Read::read(stream, &mut byte)? == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed"));
        }
        head.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

#[test]
fn an_upload_refused_before_its_body_is_read_is_answered_and_the_connection_lives_on() {
    use std::io::{Read, Write};
    let app = spawn_app();
    let mut stream = std::net::TcpStream::connect(app.addr).unwrap_or_else(|e| panic!("{e}"));
    stream.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap_or_else(|e| panic!("{e}"));
    // A form whose session has ended: the server answers from the head alone.
    let body = vec![b'x'; 1024 * 1024];
    let head = format!(
        "POST /data/import HTTP/1.1\r\nhost: {}\r\ncontent-type: multipart/form-data; boundary=x\r\ncontent-length: {}\r\n\r\n",
        app.addr,
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    stream.write_all(&body[..4096]).unwrap_or_else(|e| panic!("{e}"));
    let answer = read_head(&mut stream).unwrap_or_else(|e| panic!("the refusal was not answered: {e}"));
    assert!(answer.starts_with("HTTP/1.1 303"), "{answer}");
    assert!(answer.to_lowercase().contains("location: /login"), "{answer}");
    let length: usize = answer
        .lines()
        .find_map(|l| l.to_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
        .unwrap_or(0);
    let mut rest = vec![0u8; length];
    stream.read_exact(&mut rest).unwrap_or_else(|e| panic!("{e}"));
    // The browser goes on sending what it had started: the server takes it all, and the
    // connection then serves the next request.
    stream.write_all(&body[4096..]).unwrap_or_else(|e| panic!("the rest of the body was refused: {e}"));
    stream.write_all(format!("GET /login HTTP/1.1\r\nhost: {}\r\n\r\n", app.addr).as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let next = read_head(&mut stream).unwrap_or_else(|e| panic!("the connection did not live on: {e}"));
    assert!(next.starts_with("HTTP/1.1 200"), "{next}");
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
    // The count is the store's: another server of it refuses the account too.
    let other = app.second_server();
    let mut there = Client::new(other.addr);
    let r = there.login("guest", creditcity_web::demo::PASSWORD);
    assert_eq!(r.status, 429, "another server lets a throttled account in");
}

/// Behind a reverse proxy (`behind_proxy`), the client's address is the proxy's
/// `X-Forwarded-For`: one address's failures do not lock out the others, which all
/// arrive from the proxy's address.
#[test]
fn behind_a_proxy_each_client_address_is_throttled_on_its_own() {
    let app = crate::harness::spawn_app_config(creditcity_web::Config { demo: true, behind_proxy: true, ..creditcity_web::Config::default() });
    let mut attacker = app.client();
    for i in 0..30 {
        let r = attacker.login_from("203.0.113.9", &format!("user{i}"), "wrong password");
        assert_eq!(r.status, 401);
    }
    assert_eq!(attacker.login_from("203.0.113.9", "guest", creditcity_web::demo::PASSWORD).status, 429, "the address is throttled");
    assert_eq!(app.client().login_from("198.51.100.7", "guest", creditcity_web::demo::PASSWORD).status, 303, "another address is not");
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
    // The structured targets: the cheapest next points and, per failed gate, what lifts the veto.
    assert!(page.contains("id=\"cheapest\"") && page.contains("最省力的得分"), "cheapest points listed");
    assert!(page.contains("id=\"lifts-veto\"") && page.contains("解除一票否决"), "what lifts the veto listed");
    // 300 of the demo's 591 operating-blacklist entities exited (from 119): G7 passes.
    let r = c.get("/gaps?k0=s10.blacklist_exited&v0=300");
    assert_eq!(r.status, 200);
    assert!(r.body.contains("(假设)") && r.body.contains("现为"), "a what-if shows before and after");
    let r = c.get("/gaps?k0=s10.blacklist_exitd&v0=600");
    assert!(r.body.contains("s10.blacklist_exited"), "a mistyped key is named with a suggestion");
    assert_eq!(app.audit_len(), before, "what-ifs save nothing");
}

/// Whether `text` holds a raw stored instant such as `2026-11-29T22:40`.
fn has_utc_instant(text: &str) -> bool {
    let b = text.as_bytes();
    (2..b.len().saturating_sub(3)).any(|i| b[i] == b'T' && b[i - 1].is_ascii_digit() && b[i - 2].is_ascii_digit() && b[i + 1].is_ascii_digit() && b[i + 2].is_ascii_digit() && b[i + 3] == b':')
}

#[test]
fn pages_show_beijing_time_and_never_none() {
    let app = spawn_app();
    let pboc = unit_id(&app, "人行青川市中心支行");
    let mut admin = app.as_user("xinyongban");
    let mut expert = app.as_user("zhuanjia");
    let r = admin.submit(&format!("/units/{pboc}/inputs"), &[("v:s7.npl_ratio", "1.7%"), ("source", "note"), ("source_ref", "")]);
    assert_eq!(r.status, 303, "{}", r.body);
    for path in ["/".to_owned(), "/rules/7.1a".to_owned(), "/rules/7.2a".to_owned(), format!("/units/{pboc}"), "/gaps".to_owned()] {
        let page = admin.get(&path).body;
        assert!(!has_utc_instant(&page), "{path} shows a raw UTC instant");
        assert!(!page.contains("None"), "{path} shows None");
    }
    let page = expert.get("/review").body;
    assert!(!has_utc_instant(&page) && !page.contains("None"), "the review queue shows a raw instant or None");
    // A value with no reference shows its kind of source only.
    let rule = admin.get("/rules/7.1a").body;
    assert!(rule.contains("说明<br>") || rule.contains("说明\n") || rule.contains("· 说明<"), "the source of a value without a reference");
    // The audit log's time column is Beijing time.
    let audit = admin.get("/audit").body;
    let cells: Vec<&str> = audit.split("<td class=\"muted code\">").skip(1).map(|c| c.split('<').next().unwrap_or_else(|| panic!("a cell"))).collect();
    assert!(!cells.is_empty(), "the audit log shows entries");
    for c in cells {
        assert!(c.len() == 16 && c.as_bytes()[10] == b' ' && c.as_bytes()[13] == b':', "not YYYY-MM-DD HH:MM: {c}");
    }
}

#[test]
fn the_audit_log_pages_both_ways() {
    let app = spawn_app();
    let mut admin = app.as_user("xinyongban");
    let first = admin.get("/audit").body;
    let total: usize = first.split("共 ").nth(1).and_then(|t| t.split(' ').next()).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("no total on the page"));
    assert!(total > 100, "the demo has more entries than a page: {total}");
    assert_eq!(first.matches("<td class=\"muted code\">").count(), 100, "one page, not the whole log");
    assert!(!first.contains("id=\"newer\""), "the newest page has no newer link");
    let older = href(&first, "older");
    let second = admin.get(&older).body;
    assert!(second.contains("id=\"newer\""));
    let shown = second.matches("<td class=\"muted code\">").count();
    assert_eq!(shown, (total - 100).min(100));
    let back = admin.get(&href(&second, "newer")).body;
    assert_eq!(rows(&back), rows(&first), "newer leads back to the first page");
    // Filters are applied in SQL and kept by the links.
    let filtered = admin.get("/audit?entity=evidence").body;
    assert!(filtered.contains("共 ") && !filtered.contains("<td>input "), "only evidence entries");
}

fn href(page: &str, id: &str) -> String {
    let at = page.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no link {id}"));
    let start = page[..at].rfind("href=\"").unwrap_or_else(|| panic!("no href for {id}")) + "href=\"".len();
    // Attribute values are HTML-escaped (minijinja escapes `/` too).
    page[start..].split('"').next().unwrap_or_else(|| panic!("an href")).replace("&#x2f;", "/").replace("&amp;", "&")
}

fn rows(page: &str) -> Vec<&str> {
    page.split("<tr>").filter(|r| r.contains("muted code")).collect()
}

#[test]
fn boolean_inputs_are_a_yes_no_choice() {
    let app = spawn_app();
    let commerce = unit_id(&app, "市商务局");
    let mut c = app.as_user("shangwu");
    let page = c.get(&format!("/units/{commerce}")).body;
    let at = page.find("<select name=\"v:s4.circulation.lists\"").unwrap_or_else(|| panic!("a 是/否 choice for a boolean input"));
    let select = &page[at..at + page[at..].find("</select>").unwrap_or_else(|| panic!("select"))];
    assert!(select.contains("<option value=\"是\">是</option>") && select.contains("<option value=\"否\" selected>否</option>"), "{select}");
    assert!(!page.contains("<input name=\"v:s4.circulation.lists\""), "no free-text box for a boolean");
    let r = c.submit(&format!("/units/{commerce}/inputs"), &[("v:s4.circulation.lists", "是"), ("source", "document"), ("source_ref", "商务发〔2019〕3号")]);
    assert_eq!(r.status, 303, "{}", r.body);
    let page = c.get(&format!("/units/{commerce}")).body;
    assert!(page.contains("<option value=\"是\" selected>是</option>"), "saved as 是");
}

#[test]
fn gap_rows_name_the_missing_inputs_by_label_grouped() {
    let app = spawn_app();
    let mut c = app.as_user("xinyongban");
    let page = c.get("/gaps").body;
    let at = page.find("<a href=\"/rules/5.3\">").unwrap_or_else(|| panic!("5.3 is a gap in the demo"));
    let row = &page[at..at + page[at..].find("</tr>").unwrap_or_else(|| panic!("row"))];
    assert!(row.contains("<b>认定红黑名单并归集</b>:医药卫生和计划生育领域、社会保障领域、劳动用工领域"), "{row}");
    assert!(!row.contains("s5."), "no raw keys in a gap row: {row}");
}

#[test]
fn the_dashboard_charts_both_scores_over_time() {
    let app = spawn_app();
    let mut c = app.as_user("xinyongban");
    let page = c.get("/").body;
    let at = page.find("<svg viewBox=\"0 0 560 200\"").unwrap_or_else(|| panic!("no chart"));
    let svg = &page[at..at + page[at..].find("</svg>").unwrap_or_else(|| panic!("svg"))];
    assert_eq!(svg.matches("<polyline points=\"").count(), 2, "the working and the confirmed score");
    assert!(svg.contains("工作得分") && svg.contains("确认得分"));
    assert!(!page.contains("<script"), "no script: the CSP allows none");
}

#[test]
fn stored_values_that_break_a_relation_are_shown_and_nothing_goes_down() {
    let app = spawn_app();
    // Written behind the application's back: closed cases above pending + received.
    app.with_store(|store| async move {
        let a = store.assessments().await?.into_iter().next().map_or_else(|| panic!("no assessment"), |a| a.id);
        let value = |key: &str, v: &str| creditcity_store::NewValue {
            assessment_id: a,
            key: key.to_owned(),
            value_json: v.to_owned(),
            unit_id: None,
            source_kind: creditcity_store::SourceKind::Note,
            source_ref: String::new(),
            note: String::new(),
            evidence_ids: Vec::new(),
        };
        store.set_values(&[value("s7.cases_pending_prior", "0"), value("s7.cases_received", "400"), value("s7.cases_closed", "700")], "outside").await
    });
    let pboc = unit_id(&app, "人行青川市中心支行");
    let mut c = app.as_user("xinyongban");
    let r = c.get("/");
    assert_eq!(r.status, 200, "the dashboard answers");
    assert!(r.body.contains("id=\"invalid-rules\"") && r.body.contains("<a href=\"/rules/7.2a\">7.2a</a>"), "the invalid rule is named");
    let rule = c.get("/rules/7.2a");
    assert_eq!(rule.status, 200);
    assert!(rule.body.contains("id=\"invalid\"") && rule.body.contains("s7.cases_closed"), "the rule page says why");
    assert!(c.get("/rules").body.contains("数据矛盾"));
    for path in ["/gaps".to_owned(), "/review".to_owned(), "/audit".to_owned(), format!("/units/{pboc}")] {
        assert_eq!(c.get(&path).status, 200, "{path}");
    }
}

#[test]
fn the_review_queue_groups_filters_and_decides_a_group_at_once() {
    let app = spawn_app();
    let mut expert = app.as_user("zhuanjia");
    let page = expert.get("/review?section=7").body;
    // Grouped by rule: 7.2a holds the value and the evidence beside it.
    let at = page.find("<a href=\"/rules/7.2a\">7.2a").unwrap_or_else(|| panic!("a group for 7.2a"));
    let group = &page[at..at + page[at..].find("class=\"card group\"").unwrap_or(page.len() - at)];
    assert!(group.contains("执结统计表.pdf"), "the evidence beside the value");
    assert!(!page.contains("<h2 style=\"margin-top:0\"><a href=\"/rules/8."), "filtered to section 7");
    let by_unit = expert.get("/review?by=unit&unit=%E5%B8%82%E5%95%86%E5%8A%A1%E5%B1%80").body;
    assert!(by_unit.contains("商务诚信分级监管制度.pdf") && !by_unit.contains("执结统计表.pdf"), "grouped and filtered by unit");
    // A group returned without a comment: refused, nothing written.
    let before = app.audit_len();
    let r = expert.submit("/review/group", &[("decision", "return"), ("t", "evidence:1"), ("t", "input:s7.cases_closed")]);
    assert_eq!(r.status, 400, "a return needs its comment");
    assert_eq!(app.audit_len(), before);
    // Accepted at once: an audit entry for each item.
    let form_end = page[at..].find("</form>").unwrap_or_else(|| panic!("the group's form"));
    let form = &page[at..at + form_end];
    let items: Vec<&str> = form.split("name=\"t\" value=\"").skip(1).map(|t| t.split('"').next().unwrap_or_else(|| panic!("a target"))).collect();
    assert!(items.len() >= 2, "the 7.2a group has several pending items: {items:?}");
    let mut fields: Vec<(&str, &str)> = items.iter().map(|t| ("t", *t)).collect();
    fields.push(("decision", "accept"));
    fields.push(("section", "7"));
    let r = expert.submit("/review/group", &fields);
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/review?section=7&m=reviewed"), "back to the same filters");
    assert_eq!(app.audit_len(), before + items.len(), "one audit entry per item");
    let after = expert.get("/review?section=7").body;
    assert!(!after.contains("action=\"/review/evidence/1\""), "accepted items leave the pending queue");
    assert!(expert.get("/review?section=7&state=accepted").body.contains("执结统计表.pdf"), "and show as accepted");
}

#[test]
fn the_admin_names_a_tasks_lead_unit_and_a_unit_of_no_plan_is_refused() {
    let app = spawn_app();
    let mut admin = app.as_user("xinyongban");
    let r = admin.submit("/admin/tasks/T7.2", &[("lead", "市商务局"), ("due", "2030-01-01")]);
    assert_eq!(r.status, 303, "{}", r.body);
    let page = admin.get("/admin").body;
    assert!(page.contains("action=\"&#x2f;admin&#x2f;tasks&#x2f;T7.2\"") || page.contains("action=\"/admin/tasks/T7.2\""), "the task form");
    let at = page.find("tasks&#x2f;T7.2\"").or_else(|| page.find("tasks/T7.2\"")).unwrap_or_else(|| panic!("T7.2's form"));
    assert!(page[at..].split("</form>").next().unwrap_or_else(|| panic!("form")).contains("value=\"市商务局\""), "the new lead");
    let before = app.audit_len();
    let r = admin.submit("/admin/tasks/T7.2", &[("lead", "不存在的单位"), ("due", "2030-01-01")]);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("没有这个单位"));
    assert_eq!(app.audit_len(), before);
}

/// Without `behind_proxy` a client cannot choose its address: `X-Forwarded-For` is
/// ignored, and its failures count against the address it connects from.
#[test]
fn a_forwarded_address_is_ignored_unless_behind_a_proxy() {
    let app = spawn_app();
    let mut attacker = app.client();
    for i in 0..30 {
        assert_eq!(attacker.login_from(&format!("203.0.113.{i}"), &format!("user{i}"), "wrong password").status, 401);
    }
    assert_eq!(attacker.login_from("198.51.100.7", "guest", creditcity_web::demo::PASSWORD).status, 429, "a forged address escaped the throttle");
}

/// What a browser gets when it says it takes gzip: the same page, compressed, with this
/// session's CSRF token in its forms; a client that does not say so gets it plain.
#[test]
fn pages_are_compressed_for_browsers_that_take_gzip() {
    use std::io::Read;
    let app = spawn_app();
    let mut admin = app.as_user("xinyongban");
    for path in ["/", "/rules", "/rules/7.2a", "/gaps", "/review", "/admin", "/audit", "/compare", "/report"] {
        let plain = admin.get(path);
        assert_eq!(plain.status, 200, "{path}");
        assert!(!plain.headers.contains_key("content-encoding"), "{path}: compressed though not asked");
        let (status, headers, bytes) = admin.get_raw(path, &[("accept-encoding", "gzip, deflate, br")]);
        assert_eq!(status, 200, "{path}");
        assert_eq!(headers.get("content-encoding").map(String::as_str), Some("gzip"), "{path}");
        assert_eq!(headers.get("vary").map(String::as_str), Some("accept-encoding"), "{path}");
        let mut page = String::new();
        flate2::read::GzDecoder::new(&bytes[..]).read_to_string(&mut page).unwrap_or_else(|e| panic!("{path}: not gzip: {e}"));
        assert_eq!(page, plain.body, "{path}: the compressed page differs");
        assert!(bytes.len() * 2 < page.len(), "{path}: {} bytes compressed of {}", bytes.len(), page.len());
        if page.contains("name=\"csrf\"") {
            assert!(page.contains(&format!("value=\"{}\"", admin.csrf)), "{path}: the session's CSRF token");
        }
        let (_, headers, bytes) = admin.get_raw(path, &[("accept-encoding", "gzip;q=0, identity")]);
        assert!(!headers.contains_key("content-encoding") && String::from_utf8(bytes).is_ok_and(|b| b == plain.body), "{path}: gzip refused, plain");
    }
}

/// The CSRF token never goes through the compressor (it is stored in the body as it is):
/// the size of a compressed page tells nothing about it (BREACH). Two sessions of one
/// account get bodies of the same size that differ only where the tokens are.
#[test]
fn a_compressed_page_does_not_depend_on_the_token() {
    let app = spawn_app();
    let (mut one, mut two) = (app.as_user("xinyongban"), app.as_user("xinyongban"));
    assert_ne!(one.csrf, two.csrf);
    for path in ["/review", "/admin", "/rules/7.2a"] {
        let (_, _, a) = one.get_raw(path, &[("accept-encoding", "gzip")]);
        let (_, _, b) = two.get_raw(path, &[("accept-encoding", "gzip")]);
        assert_eq!(a.len(), b.len(), "{path}: the size depends on the token");
        let spans = |bytes: &[u8], token: &str| -> Vec<std::ops::Range<usize>> {
            bytes.windows(token.len()).enumerate().filter(|(_, w)| *w == token.as_bytes()).map(|(at, _)| at..at + token.len()).collect()
        };
        let tokens = spans(&a, &one.csrf);
        assert!(!tokens.is_empty(), "{path}: the token is in the body as it is");
        assert_eq!(tokens, spans(&b, &two.csrf), "{path}: the tokens at the same places");
        // Besides the tokens only the trailer may differ: its CRC-32 (not compared).
        for i in (0..a.len() - 8).filter(|&i| a[i] != b[i]) {
            assert!(tokens.iter().any(|t| t.contains(&i)), "{path}: byte {i} differs outside the tokens");
        }
    }
}
