//! What the database itself guarantees, on both backends: the same cases on a SQLite
//! file and on a PostgreSQL database (`CREDITCITY_TEST_PG`; the PostgreSQL half fails,
//! saying how to start a server, when it is not set).

use crate::{AssessmentId, AuditFilter, CurrentValue, Location, NewValue, SourceKind, Store, ValueJob};

async fn open(location: &Location) -> Store {
    Store::open(location).await.unwrap_or_else(|e| panic!("{e}"))
}

macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
                    super::$case(crate::Location::at(&dir.path().join("t.db"))).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $case() {
                    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
                    super::$case(crate::testing::postgres_location(dir.path(), "t")).await;
                }
            )*
        }
    };
}

on_both_backends!(
    the_audit_log_is_append_only,
    the_database_refuses_words_the_application_does_not_know,
    the_copy_knows_every_table_and_column,
    two_stores_on_one_database_never_both_pass_a_check,
    a_snapshot_reads_the_history_with_only_the_current_values_detailed,
    what_another_process_commits_reaches_every_session_read_after_it,
    a_batch_answers_the_rows_a_read_after_it_shows,
);

async fn the_audit_log_is_append_only(location: Location) {
    let store = open(&location).await;
    store.create_assessment("青川市", "2019", "p", "t").await.unwrap_or_else(|e| panic!("{e}"));
    for bad in ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"] {
        assert!(sqlx::query(bad).execute(&store.pool).await.is_err(), "the database accepted: {bad}");
    }
    assert_eq!(store.audit(&AuditFilter::default()).await.map(|a| a.len()).ok(), Some(2));
}

async fn the_database_refuses_words_the_application_does_not_know(location: Location) {
    let store = open(&location).await;
    let a = store.create_assessment("青川市", "2019", "p", "t").await.unwrap_or_else(|e| panic!("{e}"));
    let v = value(a.id, "s7.cases_closed", "700");
    store.set_values(&[v], "t").await.unwrap_or_else(|e| panic!("{e}"));
    for bad in [
        "UPDATE input_values SET review_state = 'maybe'",
        "UPDATE input_values SET source_kind = 'rumour'",
        "INSERT INTO input_values (assessment_id, input_key, value_json, source_kind, set_by, set_at) VALUES (1, 's7.cases_closed', '1', 'note', 'a', 'y')",
        "INSERT INTO users (username, display_name, password_hash, role, created_at) VALUES ('u', 'u', 'h', 'root', 'x')",
        "INSERT INTO users (username, display_name, password_hash, role, created_at) VALUES ('u', 'u', 'h', 'unit', 'x')",
        "DELETE FROM assessments",
    ] {
        assert!(sqlx::query(bad).execute(&store.pool).await.is_err(), "the database accepted: {bad}");
    }
}

async fn the_copy_knows_every_table_and_column(location: Location) {
    let store = open(&location).await;
    let mut schema = store.schema_columns().await.unwrap_or_else(|e| panic!("{e}"));
    schema.sort();
    assert_eq!(schema, crate::copy::copied_columns(), "copy.rs's TABLES must list every table and column of the schema");
}

/// Two pools on one database, as two server processes: each writer's check sees what
/// the other committed, so the relation "at most one of a and b" always holds.
async fn two_stores_on_one_database_never_both_pass_a_check(location: Location) {
    let first = open(&location).await;
    let second = open(&location).await;
    let a = first.create_assessment("青川市", "2019", "p", "t").await.unwrap_or_else(|e| panic!("{e}"));
    let at_most_one = |current: &[CurrentValue], job: &ValueJob| -> Result<(), String> {
        let set = |k: &str| current.iter().any(|c| c.key == k && c.value_json != "0") || job.values.iter().any(|v| v.key == k && v.value_json != "0");
        if set("a") && set("b") { Err("both".to_owned()) } else { Ok(()) }
    };
    let mut written = 0;
    for round in 0..20 {
        let (x, y) = if round % 2 == 0 { ("a", "b") } else { ("b", "a") };
        let jobs = |key: &str| vec![ValueJob { assessment_id: a.id, values: vec![value(a.id, key, "1")], actor: key.to_owned(), accept_with: None, skip_unchanged: false }];
        let (r1, r2) = tokio::join!(first.set_values_checked(jobs(x), at_most_one), second.set_values_checked(jobs(y), at_most_one));
        let results: Vec<_> = r1.unwrap_or_else(|e| panic!("{e}")).into_iter().chain(r2.unwrap_or_else(|e| panic!("{e}"))).collect();
        written += results.iter().filter(|r| r.is_ok()).count();
        let current = first.current_raw(a.id).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(!(current.iter().any(|c| c.key == "a" && c.value_json == "1") && current.iter().any(|c| c.key == "b" && c.value_json == "1")), "both stored");
        // Reset for the next round: both back to 0.
        for key in ["a", "b"] {
            if current.iter().any(|c| c.key == key && c.value_json == "1") {
                first.set_values(&[value(a.id, key, "0")], "reset").await.unwrap_or_else(|e| panic!("{e}"));
                written += 1;
            }
        }
    }
    // No write lost: every accepted write is a value and an audit entry.
    let values = first.all_values(a.id).await.unwrap_or_else(|e| panic!("{e}")).len();
    assert_eq!(values, written);
    let audit = first.audit(&AuditFilter { entity: Some("input".to_owned()), ..AuditFilter::default() }).await.unwrap_or_else(|e| panic!("{e}")).len();
    assert_eq!(audit, written);
}

/// The snapshot's read of the history is the full history, row for row, except that a
/// superseded value carries no evidence count (its unit's name neither).
async fn a_snapshot_reads_the_history_with_only_the_current_values_detailed(location: Location) {
    let store = open(&location).await;
    let a = store.create_assessment("青川市", "2019", "p", "t").await.unwrap_or_else(|e| panic!("{e}"));
    let new = crate::NewEvidence { assessment_id: a.id, rule_id: "7.3".into(), item: Some(1), task_id: None, unit_id: None, original_name: "案件.pdf".into() };
    let e = store.add_evidence(&new, &mut &b"%PDF-1.4"[..], 1 << 20, "t").await.unwrap_or_else(|e| panic!("{e}"));
    for json in ["700", "710"] {
        let mut v = value(a.id, "s7.cases_closed", json);
        v.evidence_ids = vec![e.id];
        store.set_values(&[v, value(a.id, "s7.cases_received", json)], "t").await.unwrap_or_else(|e| panic!("{e}"));
    }
    let full = store.all_values(a.id).await.unwrap_or_else(|e| panic!("{e}"));
    let lean = store.all_values_current_detailed(a.id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(full.len(), 4);
    assert_eq!(full.iter().map(|v| v.evidence_count).collect::<Vec<_>>(), [1, 0, 1, 0], "evidence linked to the values of cases_closed");
    assert_eq!(lean.iter().map(|v| v.evidence_count).collect::<Vec<_>>(), [0, 0, 1, 0], "only the current value's count is read");
    for (f, l) in full.iter().zip(&lean) {
        if f.superseded_at.is_none() {
            assert_eq!(f, l);
        } else {
            let mut expected = f.clone();
            expected.evidence_count = 0;
            expected.unit = None;
            assert_eq!(&expected, l);
        }
    }
}

/// A session read by one server after another server committed a change sees the
/// change, whatever this server kept (on PostgreSQL sessions are kept in the process
/// while nothing is committed): the city's and the store's versions move with a value,
/// the session's city moves with its choice, a session signed out elsewhere or of an
/// account disabled elsewhere is gone, an expired one too.
async fn what_another_process_commits_reaches_every_session_read_after_it(location: Location) {
    let here = open(&location).await;
    let there = open(&location).await;
    let a = here.create_assessment("青川市", "2019", "p", "t").await.unwrap_or_else(|e| panic!("{e}"));
    let b = here.create_assessment("绵州市", "2019", "p", "t").await.unwrap_or_else(|e| panic!("{e}"));
    let (pingshen, other) = two_evaluators(&there, &[a.city_id, b.city_id]).await;
    let later = "2999-01-01T00:00:00.000Z";
    there.create_session("s1", pingshen, "c1", later).await.unwrap_or_else(|e| panic!("{e}"));
    there.create_session("s2", other, "c2", later).await.unwrap_or_else(|e| panic!("{e}"));
    let read = |token: &'static str| session_of(&here, token);
    let version = || async { here.version().await.unwrap_or_else(|e| panic!("{e}")) };
    // PostgreSQL: until the fence is calm again, sessions are read, not served kept
    // (`fence.rs`); the reads after this wait may be served from the process.
    let calm = || async {
        if let Some(f) = &here.fence {
            while f.busy() {
                tokio::time::sleep(crate::fence::BUSY / 4).await;
            }
        }
    };
    let first = read("s1").await.unwrap_or_else(|| panic!("the session was not found"));
    let store_version = version().await;
    assert_eq!((first.city_id, first.assessment_id), (Some(a.city_id), Some(a.id)), "an evaluator looks at the first city assigned");
    calm().await;
    assert_eq!(read("s1").await.map(|s| s.version), Some(first.version), "nothing changed");
    // A sign-in elsewhere changes no city: what the comparison of cities keeps holds.
    there.create_session("s0", other, "c0", later).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(version().await, store_version, "a sign-in moved the store's version");

    there.set_values(&[value(a.id, "s7.cases_closed", "700")], "t").await.unwrap_or_else(|e| panic!("{e}"));
    let now = read("s1").await.unwrap_or_else(|| panic!("the session was lost"));
    assert!(now.version > first.version, "the city's version did not move with a value written elsewhere");
    assert!(version().await > store_version, "the store's version did not move with a value written elsewhere");

    there.set_session_city("s1", b.city_id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read("s1").await.and_then(|s| s.assessment_id), Some(b.id), "the city chosen elsewhere was not seen");

    there.delete_session("s1").await.unwrap_or_else(|e| panic!("{e}"));
    assert!(read("s1").await.is_none(), "a session signed out elsewhere was still served");
    assert!(read("s2").await.is_some());
    there.update_user("other", &crate::UserChange { password_hash: None, active: Some(false) }, "t").await.unwrap_or_else(|e| panic!("{e}"));
    assert!(read("s2").await.is_none(), "a session of an account disabled elsewhere was still served");

    there.create_session("s3", pingshen, "c3", &crate::now()).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(read("s3").await.is_none(), "an expired session was served");

    // A session read (and kept) while live is not served once it has expired, whether
    // anything was committed since or not.
    let soon = time::OffsetDateTime::now_utc() + time::Duration::milliseconds(1500);
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    there.create_session("s4", pingshen, "c4", &soon.format(&f).unwrap_or_else(|e| panic!("{e}"))).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(read("s4").await.is_some(), "a live session was not found");
    calm().await;
    assert!(read("s4").await.is_some(), "a live session was not found");
    tokio::time::sleep(std::time::Duration::from_millis(1700)).await;
    assert!(read("s4").await.is_none(), "a session was served after it expired");

    there.create_session("s5", pingshen, "c5", later).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(read("s5").await.is_some());
    there.update_user("pingshen", &crate::UserChange { password_hash: Some("h2".into()), active: None }, "t").await.unwrap_or_else(|e| panic!("{e}"));
    assert!(read("s5").await.is_none(), "a session was served after its account's password changed elsewhere");
}

/// PostgreSQL draws audit ids before commit: a write to one city can commit after a
/// later id of another city's write, so the newest id does not move with it. The
/// store's version does.
#[tokio::test]
async fn the_store_version_moves_with_a_commit_that_drew_an_older_audit_id() {
    let (_dir, location, store, a) = postgres_city().await;
    let other = open(&location).await;
    let b = store.create_assessment("绵州市", "2019", "p", "t").await.unwrap_or_else(|e| panic!("{e}"));
    let newest = || async { sqlx::query_scalar::<_, i64>("SELECT MAX(id) FROM audit_log").fetch_one(&store.pool).await.unwrap_or_else(|e| panic!("{e}")) };
    // Another process's write of city a draws its audit id and waits before committing.
    let mut slow = other.value_write_tx(&[a]).await.unwrap_or_else(|e| panic!("{e}"));
    crate::write_audit(&mut slow, "t", "set", Some(a), "input", "s7.cases_closed", None, Some("1")).await.unwrap_or_else(|e| panic!("{e}"));
    // Meanwhile city b's write draws a later id and commits.
    store.set_values(&[value(b.id, "s7.cases_closed", "700")], "t").await.unwrap_or_else(|e| panic!("{e}"));
    let before = store.version().await.unwrap_or_else(|e| panic!("{e}"));
    let id = newest().await;
    slow.commit().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(newest().await, id, "the case this test is about: the newest audit id stayed");
    let after = store.version().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(after > before, "a commit was not seen: what the comparison of cities kept would be stale");
}

/// While commits come faster than the fence's rounds, every session asked for is read
/// with the round's snapshot, kept or not (`fence.rs`): what another process changes is
/// seen by the next read, and a session kept meanwhile is not served once something was
/// committed after it, however calm the database is by then.
#[tokio::test]
async fn while_commits_come_fast_sessions_are_read_at_once_and_never_served_stale() {
    let (_dir, location, here, a) = postgres_city().await;
    let there = open(&location).await;
    let city = here.assessment(a).await.unwrap_or_else(|e| panic!("{e}")).city_id;
    let (pingshen, other) = two_evaluators(&there, &[city]).await;
    let later = "2999-01-01T00:00:00.000Z";
    there.create_session("s1", pingshen, "c1", later).await.unwrap_or_else(|e| panic!("{e}"));
    there.create_session("s2", other, "c2", later).await.unwrap_or_else(|e| panic!("{e}"));
    let read = |token: &'static str| session_of(&here, token);
    let fence = here.fence.as_ref().unwrap_or_else(|| panic!("a PostgreSQL store has a fence"));
    // Rounds that find a new snapshot (a commit; the first round, on a new connection,
    // does too) make the fence busy for a while (a slow machine may need a few tries).
    let mut busy = false;
    for n in 0..20 {
        there.set_values(&[value(a, "s7.cases_closed", &(700 + n).to_string())], "t").await.unwrap_or_else(|e| panic!("{e}"));
        assert!(read("s1").await.is_some());
        if fence.busy() {
            busy = true;
            break;
        }
    }
    assert!(busy, "rounds that found commits did not make the fence busy: the case of this test was not reached");
    assert!(read("s2").await.is_some(), "a live session was not found while busy");
    // Signed out elsewhere: the next read, busy or not, does not find it.
    there.delete_session("s1").await.unwrap_or_else(|e| panic!("{e}"));
    assert!(read("s1").await.is_none(), "a session signed out elsewhere was served");
    // s2 was kept while busy; its account is disabled elsewhere; then all is calm.
    there.update_user("other", &crate::UserChange { password_hash: None, active: Some(false) }, "t").await.unwrap_or_else(|e| panic!("{e}"));
    tokio::time::sleep(crate::fence::BUSY * 3).await;
    assert!(!fence.busy(), "no round was made, yet the fence stayed busy");
    assert!(read("s2").await.is_none(), "a session kept while busy was served after its account was disabled elsewhere");
}

/// Requests asking at once share the fence's rounds (`fence.rs`): each is answered with
/// its own session — its account, its city, that city's assessment on its edition —
/// never another's, whether its session was read with the snapshot or kept, while
/// another process keeps committing; a session signed out meanwhile is gone for all.
#[tokio::test]
async fn sessions_asked_for_at_once_each_get_their_own() {
    let (_dir, location, here, a) = postgres_city().await;
    let there = open(&location).await;
    let b = here.create_assessment("绵州市", "2019", "p", "t").await.unwrap_or_else(|e| panic!("{e}"));
    let c = here.create_assessment("绵州市", "2021", "p", "t").await.unwrap_or_else(|e| panic!("{e}"));
    let city_a = here.assessment(a).await.unwrap_or_else(|e| panic!("{e}")).city_id;
    let later = "2999-01-01T00:00:00.000Z";
    let mut expected = Vec::new();
    for i in 0..12 {
        let city = if i % 2 == 0 { city_a } else { b.city_id };
        let name = format!("office{i}");
        let user = crate::NewUser { username: name.clone(), display_name: name.clone(), password_hash: "h".into(), role: "admin".into(), unit_id: None, city_id: Some(city), province_id: None, evaluates: Vec::new() };
        there.create_user(&user, "t").await.unwrap_or_else(|e| panic!("{e}"));
        let id = there.user_by_name(&name).await.unwrap_or_else(|e| panic!("{e}")).map_or_else(|| panic!("no {name}"), |u| u.id);
        there.create_session(&format!("t{i}"), id, &format!("c{i}"), later).await.unwrap_or_else(|e| panic!("{e}"));
        // Odd sessions look at 绵州市 on two editions: its 2019 and its 2021 assessment.
        let (edition, assessment) = match i % 4 {
            1 => ("2019", b.id),
            3 => ("2021", c.id),
            _ => ("2019", a),
        };
        expected.push((format!("t{i}"), edition, name, format!("c{i}"), assessment));
    }
    // The fence reads them itself (no fallback to a read of its own by each request).
    let fence = here.fence.as_ref().unwrap_or_else(|| panic!("a PostgreSQL store has a fence"));
    let first = fence.session("t0", "2019").await.unwrap_or_else(|e| panic!("the fence's round failed: {e}"));
    assert_eq!(first.map(|s| s.user.username), Some("office0".to_owned()));
    for round in 0..8 {
        if round % 2 == 1 {
            // Another process commits between the bursts: kept copies are read again, with
            // the snapshot (the fence busy) or after it (the fence calm by then).
            there.set_values(&[value(a, "s7.cases_closed", &(700 + round).to_string())], "t").await.unwrap_or_else(|e| panic!("{e}"));
        }
        if round >= 4 {
            while fence.busy() {
                tokio::time::sleep(crate::fence::BUSY / 4).await;
            }
        }
        let burst: Vec<_> = expected.iter().cycle().take(60).map(|(token, edition, ..)| at_once(&here, token, edition)).collect();
        for (answer, (token, _, name, csrf, assessment)) in burst.into_iter().zip(expected.iter().cycle()) {
            let s = answer.await.unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|| panic!("round {round}: {token} was not found"));
            assert_eq!((&s.user.username, &s.csrf, s.assessment_id), (name, csrf, Some(*assessment)), "round {round}: {token} was answered with another's session");
            if *assessment == a {
                assert_eq!(s.version, here.version_of(a).await.unwrap_or_else(|e| panic!("{e}")), "round {round}: {token}'s city version is stale");
            }
        }
    }
    there.delete_session("t5").await.unwrap_or_else(|e| panic!("{e}"));
    let answers: Vec<_> = (0..24).map(|i| at_once(&here, if i % 2 == 0 { "t5" } else { "t4" }, "2019")).collect();
    for (i, answer) in answers.into_iter().enumerate() {
        let found = answer.await.unwrap_or_else(|e| panic!("{e}")).is_some();
        assert_eq!(found, i % 2 == 1, "a session signed out elsewhere was served, or a live one lost ({i})");
    }
}

/// What a batch of changes answers for each change is what a read after the batch
/// shows of those rows: the unit's name, the review state of an accepted value, and a
/// row a later change of the same batch superseded, in the same job or another.
async fn a_batch_answers_the_rows_a_read_after_it_shows(location: Location) {
    let store = open(&location).await;
    let a = store.create_assessment("青川市", "2019", "p", "t").await.unwrap_or_else(|e| panic!("{e}"));
    let unit = crate::PlanUnit { name: "市人民银行".to_owned(), kind: "department".to_owned(), parent: None, contact: String::new(), aliases: Vec::new() };
    store.add_unit(&a, &unit, "t").await.unwrap_or_else(|e| panic!("{e}"));
    let unit_id = store.units(a.city_id).await.unwrap_or_else(|e| panic!("{e}")).first().map(|u| u.id);
    let job = |values: Vec<NewValue>, accept: bool| ValueJob {
        assessment_id: a.id,
        values,
        actor: "t".to_owned(),
        accept_with: accept.then(|| "评估专家酌情计分".to_owned()),
        skip_unchanged: false,
    };
    let of_unit = NewValue { unit_id, source_ref: "2025年报".to_owned(), note: "n".to_owned(), ..value(a.id, "s7.cases_received", "900") };
    let jobs = vec![
        job(vec![value(a.id, "s7.cases_closed", "700"), value(a.id, "s7.cases_closed", "710"), of_unit], false),
        job(vec![value(a.id, "s7.cases_closed", "720")], true),
        job(vec![value(a.id, "s7.cases_received", "950")], false),
    ];
    let answered = store.set_values_checked(jobs, |_, _| Ok::<(), std::convert::Infallible>(())).await.unwrap_or_else(|e| panic!("{e}"));
    let answered: Vec<crate::ValueRow> = answered.into_iter().flat_map(|o| o.unwrap_or_else(|e| panic!("{e:?}"))).collect();
    assert_eq!(answered.len(), 5);
    let read = store.all_values(a.id).await.unwrap_or_else(|e| panic!("{e}"));
    for row in &answered {
        let stored = read.iter().find(|r| r.id == row.id).unwrap_or_else(|| panic!("row {} was not stored", row.id));
        assert_eq!(row, stored, "answered differs from stored");
    }
    assert_eq!(answered.iter().filter(|r| r.superseded_at.is_none()).count(), 2, "one current row per input");
    assert_eq!(answered[2].unit.as_deref(), Some("市人民银行"));
    assert_eq!(answered[3].review_state, crate::ReviewState::Accepted);
}

/// A store copied into PostgreSQL (`migrate --to`, `restore`) has the planner's
/// statistics at once: its first reads are planned for the rows it holds.
#[tokio::test]
async fn a_store_copied_into_postgres_is_analyzed() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let from = open(&Location::at(&dir.path().join("t.db"))).await;
    let a = from.create_assessment("青川市", "2019", "p", "t").await.unwrap_or_else(|e| panic!("{e}"));
    for n in 0..20 {
        from.set_values(&[value(a.id, "s7.cases_closed", &(700 + n).to_string())], "t").await.unwrap_or_else(|e| panic!("{e}"));
    }
    let to = open(&crate::testing::postgres_location(dir.path(), "t")).await;
    from.copy_into(&to).await.unwrap_or_else(|e| panic!("{e}"));
    let analyzed: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT tablename::text FROM pg_stats WHERE schemaname = current_schema() AND tablename IN ('input_values', 'audit_log') ORDER BY 1")
            .fetch_all(&to.pool)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(analyzed, ["audit_log", "input_values"], "the copied tables have no statistics");
}

/// Writers queued behind a long write of another process (an import holds the store's
/// lock) wait on connections of their own: however many, reads go on.
#[tokio::test]
async fn writers_waiting_for_the_store_lock_leave_the_reads_their_connections() {
    let (_dir, location, _first, _) = postgres_city().await;
    let small = Location { pool_size: 2, ..location.clone() };
    let store = open(&small).await;
    let other = open(&location).await;
    let mut cities = Vec::new();
    for n in 0..6 {
        cities.push(store.create_assessment(&format!("城市{n}"), "2019", "p", "t").await.unwrap_or_else(|e| panic!("{e}")).id);
    }
    let holder = other.write_tx().await.unwrap_or_else(|e| panic!("{e}"));
    let waiting: Vec<_> = cities
        .iter()
        .map(|a| {
            let (store, a) = (store.clone(), *a);
            tokio::spawn(async move { store.set_values(&[value(a, "s7.cases_closed", "1")], "u").await })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(waiting.iter().all(|w| !w.is_finished()), "a write went through while another process held the write lock");
    for a in &cities {
        let read = tokio::time::timeout(std::time::Duration::from_secs(10), store.assessment(*a)).await;
        assert!(read.is_ok_and(|r| r.is_ok()), "a read waited for a connection the queued writers held");
    }
    holder.rollback().await.unwrap_or_else(|e| panic!("{e}"));
    for w in waiting {
        assert_eq!(w.await.unwrap_or_else(|e| panic!("{e}")).map(|rows| rows.len()).ok(), Some(1), "a queued write was lost");
    }
}

/// Creates the evaluators `pingshen` and `other` of `cities`: their ids.
async fn two_evaluators(store: &Store, cities: &[crate::CityId]) -> (i64, i64) {
    let mut ids = Vec::new();
    for name in ["pingshen", "other"] {
        let user = crate::NewUser {
            username: name.into(),
            display_name: name.into(),
            password_hash: "h".into(),
            role: "evaluator".into(),
            unit_id: None,
            city_id: None,
            province_id: None,
            evaluates: cities.to_vec(),
        };
        store.create_user(&user, "t").await.unwrap_or_else(|e| panic!("{e}"));
        ids.push(store.user_by_name(name).await.unwrap_or_else(|e| panic!("{e}")).map_or_else(|| panic!("no {name}"), |u| u.id));
    }
    (ids[0], ids[1])
}

/// A session asked of the fence (a failed round is an error here, not a read of the
/// request's own), under way at once beside the others (a task of its own): its
/// answer when awaited.
fn at_once(store: &Store, token: &str, edition: &str) -> impl std::future::Future<Output = Result<Option<crate::SessionRow>, String>> {
    let (store, token, edition) = (store.clone(), token.to_owned(), edition.to_owned());
    let task = tokio::spawn(async move {
        let fence = store.fence.as_ref().ok_or("a PostgreSQL store has a fence")?;
        fence.session(&token, &edition).await.map_err(|e| e.to_string())
    });
    async move { task.await.map_err(|e| e.to_string())? }
}

/// The session of `token` on the 2019 edition, as a request resolves it.
async fn session_of(store: &Store, token: &str) -> Option<crate::SessionRow> {
    store.session(token, "2019").await.unwrap_or_else(|e| panic!("{e}"))
}

/// A new PostgreSQL store (its files in a temporary directory kept alive with it) with
/// one city's assessment, for the cases that run on PostgreSQL only.
async fn postgres_city() -> (tempfile::TempDir, Location, Store, AssessmentId) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let location = crate::testing::postgres_location(dir.path(), "t");
    let store = open(&location).await;
    let assessment = store.create_assessment("青川市", "2019", "p", "t").await.unwrap_or_else(|e| panic!("{e}")).id;
    (dir, location, store, assessment)
}

fn value(assessment_id: AssessmentId, key: &str, json: &str) -> NewValue {
    NewValue {
        assessment_id,
        key: key.to_owned(),
        value_json: json.to_owned(),
        unit_id: None,
        source_kind: SourceKind::Note,
        source_ref: String::new(),
        note: String::new(),
        evidence_ids: Vec::new(),
    }
}

/// A write given up while it waits for its locks (its request cancelled: the client
/// went away) leaves no lock behind: the connection it used goes back to the pool with
/// its transaction rolled back, and other writers, in this process or another, go on.
#[tokio::test]
async fn a_write_given_up_while_it_waits_for_its_locks_holds_none_of_them() {
    let (_dir, location, store, assessment) = postgres_city().await;
    let other = open(&location).await;
    // Another process holds the store's write lock (a plan import, say).
    let holder = other.write_tx().await.unwrap_or_else(|e| panic!("{e}"));
    let wait = std::time::Duration::from_millis(300);
    for _ in 0..3 {
        let given_up = tokio::time::timeout(wait, store.set_values(&[value(assessment, "s7.cases_closed", "1")], "u")).await;
        assert!(given_up.is_err(), "a write went through while another process held the write lock");
    }
    holder.rollback().await.unwrap_or_else(|e| panic!("{e}"));
    let limit = std::time::Duration::from_secs(20);
    for (who, writer) in [("another process", &other), ("this process", &store)] {
        let rows = tokio::time::timeout(limit, writer.set_values(&[value(assessment, "s7.cases_closed", "2")], "u"))
            .await
            .unwrap_or_else(|_| panic!("a write from {who} waited for the locks of the writes given up"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rows.len(), 1);
    }
    assert_eq!(store.value_history(assessment, "s7.cases_closed").await.map(|h| h.len()).ok(), Some(2), "a write given up was stored");
}

/// A connection the server ended while it sat in the pool (a restart, a failover, an
/// administrator's `pg_terminate_backend`) is replaced before a request draws it.
#[tokio::test]
async fn a_pooled_connection_the_postgres_server_ended_is_replaced_unseen() {
    let (_dir, location, store, assessment) = postgres_city().await;
    assert!(store.session("none", "2019").await.unwrap_or_else(|e| panic!("{e}")).is_none());
    // Hold several connections at once, so that the pool keeps more than one.
    let (a, b, c) = tokio::join!(store.assessments(), store.assessments(), store.assessments());
    for r in [a, b, c] {
        r.unwrap_or_else(|e| panic!("{e}"));
    }
    let (a, b, c) = tokio::join!(store.version_of(assessment), store.version_of(assessment), store.version_of(assessment));
    let version = a.unwrap_or_else(|e| panic!("{e}"));
    for r in [b, c] {
        assert_eq!(r.ok(), Some(version));
    }
    let other = open(&location).await;
    let ended: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()) t",
    )
    .fetch_one(&other.pool)
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(ended >= 1, "no connection of the store was ended");
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    for _ in 0..4 {
        // The session read's own connection (the fence's) was ended too.
        let session = store.session("none", "2019").await.unwrap_or_else(|e| panic!("a session read failed on a connection the server had ended: {e}"));
        assert!(session.is_none());
        let rows = store.assessments().await.unwrap_or_else(|e| panic!("a request drew a connection the server had ended: {e}"));
        assert_eq!(rows.len(), 1);
        let v = store.version_of(assessment).await.unwrap_or_else(|e| panic!("a request's first read drew a connection the server had ended: {e}"));
        assert_eq!(v, version);
    }
}

/// A PostgreSQL server on another host is reached over TLS: `sslmode=require` in the
/// URL encrypts the connection (the test server speaks TLS with a self-signed
/// certificate, as `.ci/pg-start` makes it); `sslmode=disable` does not.
#[tokio::test]
async fn a_postgres_store_is_reached_over_tls_when_the_url_asks() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for (mode, encrypted) in [("require", true), ("disable", false)] {
        let base = crate::testing::fresh_database_url();
        let url = format!("{base}{}sslmode={mode}", if base.contains('?') { '&' } else { '?' });
        let store = open(&Location::postgres(&url, &dir.path().join(mode))).await;
        assert_eq!(store.encrypted().await.ok(), Some(encrypted), "sslmode={mode}");
        store.create_assessment("青川市", "2019", "p", "t").await.unwrap_or_else(|e| panic!("sslmode={mode}: {e}"));
        store.close().await;
    }
    let sqlite = open(&Location::at(&dir.path().join("t.db"))).await;
    assert_eq!(sqlite.encrypted().await.ok(), Some(false));
}
