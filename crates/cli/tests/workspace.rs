//! The workspace from the command line: the README's walk-through, refusals, and a
//! store that survives being killed in the middle of writes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_creditcity")
}

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// Runs creditcity in `dir` (the store is `dir/creditcity.db`).
pub(crate) fn cc(dir: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .current_dir(dir)
        .env("CREDITCITY_USER", "测试员")
        .env_remove("CREDITCITY_STORE")
        .env_remove("CREDITCITY_ASSESSMENT")
        .output()
        .unwrap_or_else(|e| panic!("cannot run creditcity: {e}"))
}

pub(crate) fn ok(dir: &Path, args: &[&str]) -> String {
    let o = cc(dir, args);
    assert!(o.status.success(), "creditcity {args:?} failed:\n{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn refused(dir: &Path, args: &[&str]) -> String {
    let o = cc(dir, args);
    assert_eq!(o.status.code(), Some(1), "creditcity {args:?} should be refused");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub(crate) fn example(name: &str) -> String {
    examples().join(name).to_string_lossy().into_owned()
}

#[test]
fn the_readme_walk_through() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    ok(d, &["init", "--city", "青川市"]);
    ok(d, &["plan", "import", &example("qingchuan-plan.toml")]);
    ok(d, &["set", "--file", &example("qingchuan-complete.toml"), "--unit", "市信用办"]);
    let out = ok(d, &["set", "s7.cases_closed", "700", "--unit", "人行青川市中心支行", "--source", "document", "--ref", "法院统计表"]);
    assert!(out.contains("s7.cases_closed = 700"), "{out}");
    std::fs::write(d.join("执结统计.pdf"), b"%PDF-1.4 statistics").unwrap_or_else(|e| panic!("{e}"));
    let out = ok(d, &["attach", "执结统计.pdf", "--rule", "7.2a", "--item", "1", "--task", "T7.2"]);
    assert!(out.contains("application/pdf"), "{out}");
    ok(d, &["task", "submit", "T7.2"]);
    ok(d, &["review", "input", "s7.cases_closed", "accept", "--comment", "与法院口径一致"]);
    ok(d, &["review", "evidence", "1", "return", "--comment", "缺盖章页"]);
    let status = ok(d, &["status", "--as-of", "2019-03-01"]);
    assert!(status.contains("七、金融生态环境建设") && status.contains("人行青川市中心支行"), "{status}");
    let history = ok(d, &["history", "s7.cases_closed"]);
    assert!(history.contains("2 次填报") && history.contains("法院统计表") && history.contains("已通过"), "{history}");
    let audit = ok(d, &["audit", "--entity", "evidence"]);
    assert!(audit.contains("缺盖章页"), "{audit}");
    // The store's score equals the score of its exported inputs.
    ok(d, &["export-inputs", "--out", "exported.toml"]);
    let from_store = ok(d, &["score", "--format", "json"]);
    let from_file = ok(d, &["score", "exported.toml", "--format", "json"]);
    assert_eq!(from_store, from_file);
    let confirmed = ok(d, &["score", "--confirmed", "--format", "json"]);
    assert_ne!(confirmed, from_store);
    // The gap plan, what-ifs, the workbooks, the evidence package and the report.
    let gaps = ok(d, &["gaps"]);
    assert!(gaps.contains("可争取") && gaps.contains("本单位可争取的分数"), "{gaps}");
    let what_if = ok(d, &["gaps", "--what-if", "s10.jrp_cases=3000"]);
    assert!(what_if.contains("假设(s10.jrp_cases = 3000)") && what_if.contains("未改动存储"), "{what_if}");
    ok(d, &["export", "template", "--unit", "人行青川市中心支行", "--out", "人行.xlsx"]);
    assert!(ok(d, &["import", "人行.xlsx", "--unit", "人行青川市中心支行"]).contains("导入 0 项"), "an unfilled template changes nothing");
    ok(d, &["export", "scores", "--out", "评分表.xlsx"]);
    assert!(ok(d, &["export", "evidence", "--out", "迎检材料.zip"]).contains("项佐证材料"));
    ok(d, &["report", "--out", "自评报告.html"]);
    let report = std::fs::read_to_string(d.join("自评报告.html")).unwrap_or_else(|e| panic!("{e}"));
    assert!(report.contains("社会信用体系建设示范城市创建自评报告") && report.contains("失分分析与争取计划"));
    for f in ["人行.xlsx", "评分表.xlsx", "迎检材料.zip"] {
        assert!(std::fs::read(d.join(f)).is_ok_and(|b| b.starts_with(b"PK")), "{f} is a zip-based file");
    }
    // Backup and restore reproduce the scores.
    ok(d, &["backup", "backup"]);
    let listing = |dir: &Path| -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{e}"))
            .filter_map(Result::ok)
            .filter(|e| e.path().is_file())
            .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap_or_default()))
            .collect();
        files.sort();
        files
    };
    let backup_before = listing(&d.join("backup"));
    ok(d, &["--store", "restored.db", "restore", "backup"]);
    assert!(listing(&d.join("backup")) == backup_before, "restoring only reads the backup (it may sit on read-only media)");
    assert_eq!(ok(d, &["--store", "restored.db", "score", "--format", "json"]), from_store);
    assert!(ok(d, &["--store", "restored.db", "check"]).contains("存储完好"));
}

#[test]
fn refusals_name_the_field_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    let err = refused(d, &["status"]);
    assert!(err.starts_with("错误:") && err.contains("没有存储") && err.contains("init"), "{err}");
    ok(d, &["init", "--city", "临江市"]);
    ok(d, &["plan", "import", &example("qingchuan-plan.toml")]);
    let before = ok(d, &["audit"]);
    assert!(refused(d, &["set", "s7.npl_ratio", "1.8"]).contains("s7.npl_ratio"));
    assert!(refused(d, &["set", "s7.npl_rato", "0.01"]).contains("s7.npl_ratio"));
    assert!(refused(d, &["set", "s7.npl_ratio", "0.01", "--unit", "火星局"]).contains("火星局"));
    assert!(refused(d, &["plan", "import", &example("qingchuan-plan.toml")]).contains("T1.1"));
    std::fs::write(d.join("x.pdf"), b"%PDF").unwrap_or_else(|e| panic!("{e}"));
    assert!(refused(d, &["attach", "x.pdf", "--rule", "99.9"]).contains("99.9"));
    assert!(refused(d, &["review", "input", "s7.npl_ratio", "accept"]).contains("s7.npl_ratio"));
    assert!(refused(d, &["init", "--city", "临江市"]).contains("临江市"));
    // Files that cannot be read exit 4 and say why, in Chinese.
    let missing = cc(d, &["attach", "没有这个文件.pdf", "--rule", "7.2a"]);
    assert_eq!(missing.status.code(), Some(4), "attach of a missing file exits 4");
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(err.contains("没有这个文件.pdf") && err.contains("不存在"), "{err}");
    std::fs::write(d.join("gbk.toml"), [0xC7, 0xE0, 0xB4, 0xA8, b'\n']).unwrap_or_else(|e| panic!("{e}"));
    let gbk = cc(d, &["set", "--file", "gbk.toml"]);
    assert_eq!(gbk.status.code(), Some(4));
    let err = String::from_utf8_lossy(&gbk.stderr);
    assert!(err.contains("gbk.toml") && err.contains("UTF-8") && !err.contains("stream did not contain"), "{err}");
    // A PDF given as a workbook is named for what it is.
    let err = refused(d, &["import", "x.pdf"]);
    assert!(err.contains("PDF") && err.contains(".xlsx"), "{err}");
    assert_eq!(ok(d, &["audit"]), before, "nothing was written");
}

#[test]
fn an_xls_workbook_from_wps_imports_like_xlsx() {
    for fixture in ["filled.xls", "filled.ods"] {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let d = dir.path();
        ok(d, &["init", "--city", "青川市"]);
        ok(d, &["plan", "import", &example("qingchuan-plan.toml")]);
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../excel/tests/fixtures").join(fixture);
        let out = ok(d, &["import", &path.to_string_lossy(), "--unit", "人行青川市中心支行"]);
        assert!(out.contains('3') || out.contains('2'), "{out}");
        let history = ok(d, &["history", "s7.cases_received"]);
        assert!(history.contains("812") && history.contains(fixture) && history.contains("SHA-256"), "{history}");
        assert!(!history.contains(&*env!("CARGO_MANIFEST_DIR")), "the importer's path is not recorded: {history}");
    }
}

/// Writers are killed with SIGKILL in the middle of writes, three times over; the store
/// must open consistent, with every acknowledged write, and multi-row writes whole.
#[test]
fn a_store_killed_mid_write_opens_consistent_with_every_acknowledged_write() {
    use std::os::unix::process::CommandExt as _;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    ok(d, &["init", "--city", "青川市"]);
    ok(d, &["plan", "import", &example("qingchuan-plan.toml")]);
    let file = example("linjiang-midway.toml");
    let entries = ok(d, &["set", "--file", &file]);
    let per_file: usize = entries.split_whitespace().find_map(|w| w.parse().ok()).unwrap_or_else(|| panic!("no count in {entries}"));
    assert!(per_file > 100, "{entries}");
    let mut acked: Vec<u32> = Vec::new();
    let mut next = 1u32;
    for round in 0..3u32 {
        // Each iteration: one single-row write, and every third a whole file in one transaction.
        let script = format!(
            "i={next}; while [ $i -lt {} ]; do \
               \"$BIN\" set s10.jrp_cases $i >/dev/null && echo ack $i || exit 1; \
               if [ $((i % 3)) -eq 0 ]; then \"$BIN\" set --file \"$FILE\" >/dev/null || exit 1; fi; \
               i=$((i+1)); done",
            next + 1000
        );
        let mut child = Command::new("sh")
            .args(["-c", &script])
            .env("BIN", bin())
            .env("FILE", &file)
            .env("CREDITCITY_USER", "写入者")
            .current_dir(d)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        let mut lines = BufReader::new(stdout).lines();
        let target = 8 + round * 5;
        let mut seen = 0;
        while let Some(Ok(line)) = lines.next() {
            if let Some(n) = line.strip_prefix("ack ").and_then(|n| n.parse().ok()) {
                acked.push(n);
                next = n + 1;
                seen += 1;
            }
            if seen >= target {
                break;
            }
        }
        // A few milliseconds into the next write, kill the whole group.
        std::thread::sleep(std::time::Duration::from_millis(7 + 11 * u64::from(round)));
        let killed = Command::new("kill").args(["-s", "KILL", "--", &format!("-{}", child.id())]).status();
        assert!(killed.is_ok_and(|s| s.success()), "kill failed");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while child.try_wait().ok().flatten().is_none() {
            assert!(std::time::Instant::now() < deadline, "the writer survived SIGKILL");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        next += 1; // the value in flight may or may not have landed
    }
    assert!(acked.len() >= 20, "acknowledged {acked:?}");
    let check = ok(d, &["check"]);
    assert!(check.contains("存储完好"), "{check}");
    let history = ok(d, &["history", "s10.jrp_cases"]);
    let stored: Vec<u32> = history
        .lines()
        .skip(1)
        .filter_map(|l| l.split(" = ").nth(1)?.split_whitespace().next()?.parse().ok())
        .collect();
    for n in &acked {
        assert!(stored.contains(n), "acknowledged value {n} lost; stored {stored:?}");
    }
    assert!(stored.windows(2).all(|w| w[0] < w[1]), "history out of order: {stored:?}");
    let audit = ok(d, &["audit", "--entity", "input", "--id", "s10.jrp_cases"]);
    assert_eq!(audit.lines().count(), stored.len(), "one audit entry per stored value");
    // Whole files or nothing: the rows from the file come in multiples of its size.
    let all = ok(d, &["audit", "--entity", "input", "--actor", "写入者"]);
    let from_file = all.lines().filter(|l| l.contains("linjiang-midway.toml")).count();
    assert_eq!(from_file % per_file, 0, "{from_file} rows from the file, not a multiple of {per_file}");
}

/// A province's accounts from the command line: cities placed in a province, a
/// province office, an evaluator assigned to two cities, and who sees what in
/// `user list`; wrong combinations are refused, naming the field.
#[test]
fn a_province_and_its_accounts_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    ok(d, &["init", "--city", "青川市"]);
    ok(d, &["init", "--city", "临江市"]);
    assert!(ok(d, &["--assessment", "青川市", "city", "--province", "示范省"]).contains("青川市 属于 示范省"));
    ok(d, &["--assessment", "临江市", "city", "--province", "示范省"]);
    let list = ok(d, &["city", "--list"]);
    assert!(list.contains("青川市") && list.contains("临江市") && list.matches("示范省").count() == 2, "{list}");
    crate::race::add_user(d, &["sheng", "--role", "province", "--province", "示范省"]);
    crate::race::add_user(d, &["--assessment", "临江市", "lj", "--role", "admin"]);
    crate::race::add_user(d, &["--assessment", "青川市", "expert", "--role", "evaluator"]);
    assert!(ok(d, &["--assessment", "临江市", "user", "assign", "expert"]).contains("expert 现在可以评估 临江市"));
    let users = ok(d, &["user", "list"]);
    let line = |name: &str| users.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("no {name} in {users}")).to_owned();
    assert!(line("sheng").contains("省信用办") && line("sheng").contains("青川市、临江市"), "{users}");
    assert!(line("lj").contains("临江市") && !line("lj").contains("青川市"), "{users}");
    assert!(line("expert").contains("青川市、临江市"), "{users}");
    // A province office without its province, a province for another role, a city
    // office assigned as an evaluator: refused, naming the field.
    let e = refused(d, &["user", "add", "x", "--role", "province"]);
    assert!(e.contains("province"), "{e}");
    let e = refused(d, &["--assessment", "青川市", "user", "add", "y", "--role", "admin", "--province", "示范省"]);
    assert!(e.contains("province"), "{e}");
    let e = refused(d, &["--assessment", "青川市", "user", "assign", "lj"]);
    assert!(e.contains("评估专家"), "{e}");
    // A misspelt province is refused, not made anew and empty.
    let mut child = Command::new(bin())
        .args(["user", "add", "z", "--role", "province", "--province", "示范省份"])
        .current_dir(d)
        .env_remove("CREDITCITY_STORE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    if let Some(mut stdin) = child.stdin.take() {
        std::io::Write::write_all(&mut stdin, b"0123456789ab\n").unwrap_or_else(|e| panic!("{e}"));
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && e.contains("没有省份“示范省份”") && e.contains("示范省"), "{e}");
    // What is the whole store's needs no city named, however many it holds.
    assert!(ok(d, &["check"]).contains("存储完好"));
    assert!(ok(d, &["backup", "bk"]).contains("已备份到"));
}
