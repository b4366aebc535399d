//! The evidence package evaluators ask for (迎检材料): a zip with one folder per section
//! and rule, files named by checklist item, and an index page listing every required
//! item with its file, hash, unit and review state, and the items still missing.

use creditcity_store::ReviewState;
use std::fmt::Write as _;
use std::io::{Seek, Write};

use creditcity_rubric::Rubric;
use creditcity_store::{Blobs, EvidenceRow};
use zip::write::SimpleFileOptions;

use crate::{AppError, Result};

/// Counts of what the package holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackageSummary {
    pub files: usize,
    pub items: usize,
    pub items_missing: usize,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// A name safe in a zip path on every system: no separators or reserved characters.
fn safe(s: &str, max: usize) -> String {
    let cleaned: String = s.chars().map(|c| if "/\\:*?\"<>|".contains(c) || c.is_control() { '_' } else { c }).take(max).collect();
    cleaned.trim().trim_matches('.').to_owned()
}

/// Writes the package. Returned evidence is left out of the folders but listed.
pub fn write(rubric: &Rubric, city: &str, evidence: &[EvidenceRow], blobs: &Blobs, out: impl Write + Seek) -> Result<PackageSummary> {
    let zerr = AppError::Package;
    let ioerr = |e: std::io::Error| AppError::Package(zip::result::ZipError::Io(e));
    let mut zip = zip::ZipWriter::new(out);
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let root = format!("{}迎检材料", safe(city, 40));
    let mut index = format!(
        "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>{0}</title>\
         <style>body{{font-family:sans-serif}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;font-size:13px}}.missing{{color:#b3261e}}</style>\
         <h1>{0}</h1><table><tr><th>指标</th><th>#</th><th>佐证材料</th><th>文件</th><th>SHA-256</th><th>单位</th><th>评审</th></tr>",
        escape(&format!("{city} 迎检材料索引"))
    );
    let (mut files, mut items, mut missing) = (0, 0, 0);
    for section in &rubric.sections {
        let section_dir = safe(&creditcity_rubric::format::section_heading(&section.id, &section.title), 40);
        for rule in &rubric.rules[section.rules.clone()] {
            let rule_dir = format!("{root}/{section_dir}/{} {}", safe(&rule.id, 8), safe(&rule.title, 30));
            for (i, item) in rule.evidence.iter().enumerate() {
                items += 1;
                let n = i as i64 + 1;
                let mine: Vec<&EvidenceRow> = evidence.iter().filter(|e| e.rule_id == rule.id && e.item == Some(n)).collect();
                if mine.iter().all(|e| e.review_state == ReviewState::Returned) {
                    missing += 1;
                }
                if mine.is_empty() {
                    let _ = write!(
                        index,
                        "<tr class=\"missing\"><td>{}</td><td>{n}</td><td>{}</td><td colspan=\"4\">缺</td></tr>",
                        escape(&rule.id),
                        escape(item)
                    );
                }
                for e in mine {
                    let name = format!("{n}-{}-{}-{}", safe(item, 24), e.id, safe(&e.original_name, 60));
                    if e.review_state != ReviewState::Returned {
                        let bytes = blobs.read(&e.sha256).map_err(AppError::Store)?;
                        zip.start_file(format!("{rule_dir}/{name}"), options).map_err(zerr)?;
                        zip.write_all(&bytes).map_err(ioerr)?;
                        files += 1;
                    }
                    let _ = write!(
                        index,
                        "<tr><td>{}</td><td>{n}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                        escape(&rule.id),
                        escape(item),
                        escape(&e.original_name),
                        escape(&e.sha256),
                        escape(e.unit.as_deref().unwrap_or("—")),
                        e.review_state.label()
                    );
                }
            }
        }
    }
    let _ = write!(index, "</table><p>共 {items} 项佐证材料,已有文件 {} 项,缺 {missing} 项;打包文件 {files} 个(已退回的不打包)。</p></html>", items - missing);
    zip.start_file(format!("{root}/索引.html"), options).map_err(zerr)?;
    zip.write_all(index.as_bytes()).map_err(ioerr)?;
    zip.finish().map_err(zerr)?;
    Ok(PackageSummary { files, items, items_missing: missing })
}
