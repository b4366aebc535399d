//! The city's records from the command line: generated datasets imported, inputs derived
//! with their provenance, problems routed to units, bad files refused without a trace,
//! hand-typed values kept as overrides, and an import killed half-way leaving the
//! previous state whole.

use std::path::Path;

use super::workspace::{cc, example, ok};

fn refused(dir: &Path, args: &[&str]) -> String {
    let o = cc(dir, args);
    assert_eq!(o.status.code(), Some(1), "creditcity {args:?} should be refused: {}", String::from_utf8_lossy(&o.stdout));
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn datasets_decide_inputs_and_route_problems_to_units() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    ok(d, &["init", "--city", "青川市"]);
    ok(d, &["plan", "import", &example("qingchuan-plan.toml")]);
    ok(d, &["data", "generate", "gen", "--size", "demo"]);
    let err = refused(d, &["data", "import", "register", "gen/register.csv"]);
    assert!(err.contains("行政区划代码") && err.contains("--division"), "{err}");
    // Another city's records are refused whole.
    ok(d, &["city", "--division", "1101"]);
    let err = refused(d, &["data", "import", "register", "gen/register.csv"]);
    assert!(err.contains("不属于本市") && err.contains("1101"), "{err}");
    ok(d, &["city", "--division", "5108"]);
    let before = ok(d, &["audit"]);
    // The wrong kind, an empty file, a missing column: refused, nothing stored.
    let err = refused(d, &["data", "import", "licences", "gen/register.csv"]);
    assert!(err.contains("行政许可") && err.contains("市场主体名录"), "{err}");
    std::fs::write(d.join("empty.csv"), b"").unwrap_or_else(|e| panic!("{e}"));
    assert!(refused(d, &["data", "import", "register", "empty.csv"]).contains("为空"));
    std::fs::write(d.join("cols.csv"), "名称,统一社会信用代码,主体类别\n甲,91510802MA62P5XK3L,法人\n").unwrap_or_else(|e| panic!("{e}"));
    let err = refused(d, &["data", "import", "register", "cols.csv"]);
    assert!(err.contains("缺少必需的列") && err.contains("成立日期"), "{err}");
    assert!(refused(d, &["data", "import", "budget", "gen/register.csv"]).contains("register"));
    assert_eq!(ok(d, &["audit"]), before, "refused files leave no trace");

    // A value typed by hand for a derived input overrides the records.
    ok(d, &["set", "s10.jrp_cases", "5", "--source", "document", "--ref", "联合奖惩案例汇编"]);
    for kind in ["register", "licences", "penalties", "lists", "commitments", "approval_items", "cases"] {
        let out = ok(d, &["data", "import", kind, &format!("gen/{kind}.csv")]);
        assert!(out.contains("已导入"), "{out}");
    }
    let status = ok(d, &["data", "status"]);
    assert!(status.contains("s8.code_error_rate") && status.contains("记录得出"), "{status}");
    assert!(status.contains("s10.jrp_cases") && status.contains("手工填报,优先于记录"), "{status}");
    let history = ok(d, &["history", "s8.decisions_total"]);
    assert!(history.contains("数据集") && history.contains("licences.csv") && history.contains("SHA-256"), "{history}");
    // The gates decided by the records are scored from them.
    let score = ok(d, &["score", "--format", "json"]);
    for gate in ["\"G1\"", "\"G2\"", "\"G5\""] {
        assert!(score.contains(gate), "{gate} in {score}");
    }
    // A unit's problems, and the list it downloads.
    let mine = ok(d, &["data", "problems", "--unit", "市交通局", "--limit", "5"]);
    assert!(mine.contains("第") && mine.contains("市交通局") && !mine.contains("没有问题记录"), "{mine}");
    ok(d, &["data", "problems", "--unit", "市交通局", "-o", "问题清单.xlsx"]);
    let bytes = std::fs::read(d.join("问题清单.xlsx")).unwrap_or_else(|e| panic!("{e}"));
    assert!(bytes.starts_with(b"PK"), "an .xlsx");
    let wrong = ok(d, &["data", "problems", "--kind", "wrong_code", "--limit", "3"]);
    assert!(wrong.contains("统一社会信用代码"), "{wrong}");
    // The gap plan ranks fixing the failing records among its actions.
    let gaps = ok(d, &["gaps"]);
    let fix = gaps.lines().find(|l| l.contains("统一社会信用代码重错码率") && l.contains("修正")).unwrap_or_else(|| panic!("{gaps}"));
    assert!(fix.contains("G2") && fix.contains("市市场监管局"), "{fix}");
    assert!(ok(d, &["check"]).contains("存储完好"));
}

/// SIGKILL in the middle of an import, at several moments: the store opens consistent
/// and holds either the previous import whole or the new one whole.
#[test]
fn an_import_killed_half_way_leaves_the_previous_state_whole() {
    use std::os::unix::process::CommandExt as _;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    ok(d, &["init", "--city", "青川市"]);
    ok(d, &["plan", "import", &example("qingchuan-plan.toml")]);
    ok(d, &["city", "--division", "5108"]);
    ok(d, &["data", "generate", "a", "--size", "demo", "--seed", "1"]);
    ok(d, &["data", "generate", "b", "--size", "demo", "--seed", "2"]);
    ok(d, &["data", "import", "register", "a/register.csv"]);
    ok(d, &["data", "import", "licences", "a/licences.csv"]);
    ok(d, &["data", "import", "penalties", "a/penalties.csv"]);
    let first = ok(d, &["history", "s8.decisions_total"]);
    assert!(first.contains("1 次填报"), "licences and penalties decide s8.decisions_total: {first}");
    for (round, millis) in [150u64, 500, 1000, 2000, 3500].into_iter().enumerate() {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_creditcity"))
            .args(["data", "import", "licences", "b/licences.csv"])
            .current_dir(d)
            .env_remove("CREDITCITY_STORE")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        std::thread::sleep(std::time::Duration::from_millis(millis));
        let _ = child.kill();
        let finished = child.wait().is_ok_and(|s| s.success());
        let check = cc(d, &["check"]);
        assert!(check.status.success(), "round {round}: {}", String::from_utf8_lossy(&check.stderr));
        let status = ok(d, &["data", "status"]);
        let history = ok(d, &["history", "s8.decisions_total"]);
        if finished {
            assert!(history.lines().count() > first.lines().count(), "round {round}: the new import's value is in the history: {history}");
        } else {
            // Killed: either it had not committed (the first import stands) or it had (the
            // second stands whole); never a dataset without its problems or values.
            assert!(history == first || history.lines().count() > first.lines().count(), "round {round}: {history}");
        }
        assert!(status.contains("行政许可"), "round {round}: {status}");
    }
}

#[test]
fn api_tokens_are_shown_once_listed_without_their_secret_and_revoked() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    ok(d, &["init", "--city", "青川市"]);
    let out = ok(d, &["token", "add", "信用平台"]);
    let token = out.split_whitespace().find(|w| w.starts_with("cc_")).unwrap_or_else(|| panic!("no token in {out}"));
    assert_eq!(token.len(), 67, "{token}");
    let list = ok(d, &["token", "list"]);
    assert!(list.contains("信用平台") && list.contains("datasets:import") && list.contains("有效") && !list.contains(token), "{list}");
    assert!(refused(d, &["token", "add", "信用平台"]).contains("已有"));
    ok(d, &["token", "revoke", "信用平台"]);
    assert!(ok(d, &["token", "list"]).contains("已吊销"));
}
