//! The layering of ARCHITECTURE.md, kept true by a test: only `store` speaks SQL, only
//! `web` knows HTTP and HTML, only the binary prints, the rubric crate does no I/O.

use std::path::{Path, PathBuf};

fn crates() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `.rs` file under `dir`, recursively.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())).flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out
}

/// The crates of the workspace, by directory name.
fn crate_dirs() -> Vec<(String, PathBuf)> {
    let mut dirs: Vec<(String, PathBuf)> = std::fs::read_dir(crates())
        .unwrap_or_else(|e| panic!("{e}"))
        .flatten()
        .filter(|e| e.path().join("Cargo.toml").exists())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 6, "the workspace's crates: {dirs:?}");
    dirs
}

/// Lines of `src/` (tests and benches are free) that contain `needle`, outside comments.
fn uses(dir: &Path, needle: &str) -> Vec<String> {
    let mut hits = Vec::new();
    for file in sources(&dir.join("src")) {
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        // Unit-test modules at the end of a file are not the crate's code.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (n, line) in code.lines().enumerate() {
            let trimmed = line.trim_start();
            if trimmed.starts_with("//") {
                continue;
            }
            if line.contains(needle) {
                hits.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    hits
}

/// The `[dependencies]` table of a crate's manifest (not dev-dependencies).
fn dependencies(dir: &Path) -> String {
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap_or_else(|e| panic!("{e}"));
    let start = manifest.find("[dependencies]").map_or(manifest.len(), |i| i + "[dependencies]".len());
    let rest = &manifest[start..];
    rest[..rest.find("\n[").unwrap_or(rest.len())].to_owned()
}

#[test]
fn only_the_store_speaks_sql() {
    for (name, dir) in crate_dirs().into_iter().filter(|(n, _)| n != "store") {
        assert!(!dependencies(&dir).contains("sqlx"), "crate {name} depends on sqlx");
        let hits: Vec<String> = ["sqlx::", "SELECT ", "INSERT INTO", "UPDATE ", "DELETE FROM"].iter().flat_map(|n| uses(&dir, n)).collect();
        assert!(hits.is_empty(), "SQL outside the store:\n{}", hits.join("\n"));
    }
}

#[test]
fn only_the_web_knows_http_and_html() {
    for (name, dir) in crate_dirs().into_iter().filter(|(n, _)| n != "web") {
        let deps = dependencies(&dir);
        for http in ["axum", "tower", "hyper", "minijinja"] {
            assert!(!deps.lines().any(|l| l.trim_start().starts_with(http)), "crate {name} depends on {http}");
        }
        let hits: Vec<String> = ["axum::", "<html", "<table", "<div", "<td", "<br>", "<p>"].iter().flat_map(|n| uses(&dir, n)).collect();
        assert!(hits.is_empty(), "HTTP or HTML outside the web crate:\n{}", hits.join("\n"));
    }
}

#[test]
fn only_the_binary_prints() {
    for (name, dir) in crate_dirs() {
        let hits: Vec<String> = ["println!", "print!(", "eprintln!", "eprint!(", "dbg!("]
            .iter()
            .flat_map(|n| uses(&dir, n))
            .filter(|h| !h.contains(&format!("cli{}src{}main.rs", std::path::MAIN_SEPARATOR, std::path::MAIN_SEPARATOR)))
            .collect();
        assert!(hits.is_empty(), "crate {name} prints outside the binary's main.rs:\n{}", hits.join("\n"));
    }
}

#[test]
fn the_rubric_crate_does_no_io() {
    let dir = crates().join("rubric");
    let hits: Vec<String> = ["std::fs", "std::net", "std::process", "tokio", "File::"].iter().flat_map(|n| uses(&dir, n)).collect();
    assert!(hits.is_empty(), "I/O in the pure rubric crate:\n{}", hits.join("\n"));
}
