//! The evidence package evaluators ask for (迎检材料): a zip with one folder per section
//! and rule, files named by checklist item, and an index workbook (索引.xlsx) listing
//! every required item with its file, hash, unit and review state, and the items still
//! missing.

use std::io::{Seek, Write};

use creditcity_excel::IndexRow;
use creditcity_rubric::Rubric;
use creditcity_store::{Blobs, EvidenceRow, ReviewState};
use zip::write::SimpleFileOptions;

use crate::{AppError, Result};

/// Counts of what the package holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackageSummary {
    pub files: usize,
    pub items: usize,
    pub items_missing: usize,
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
    let mut index = Vec::new();
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
                    index.push(IndexRow { rule: rule.id.clone(), item_no: i as u32 + 1, item: item.clone(), ..IndexRow::default() });
                }
                for e in mine {
                    let name = format!("{n}-{}-{}-{}", safe(item, 24), e.id, safe(&e.original_name, 60));
                    if e.review_state != ReviewState::Returned {
                        let bytes = blobs.read(&e.sha256).map_err(AppError::Store)?;
                        zip.start_file(format!("{rule_dir}/{name}"), options).map_err(zerr)?;
                        zip.write_all(&bytes).map_err(ioerr)?;
                        files += 1;
                    }
                    index.push(IndexRow {
                        rule: rule.id.clone(),
                        item_no: i as u32 + 1,
                        item: item.clone(),
                        file: e.original_name.clone(),
                        sha256: e.sha256.clone(),
                        unit: e.unit.clone().unwrap_or_else(|| "—".to_owned()),
                        review: e.review_state.label().to_owned(),
                    });
                }
            }
        }
    }
    let summary = format!("共 {items} 项佐证材料,已有文件 {} 项,缺 {missing} 项;打包文件 {files} 个(已退回的不打包)。", items - missing);
    let index = creditcity_excel::write_evidence_index(&format!("{city} 迎检材料索引"), &index, &summary)?;
    zip.start_file(format!("{root}/索引.xlsx"), options).map_err(zerr)?;
    zip.write_all(&index).map_err(ioerr)?;
    zip.finish().map_err(zerr)?;
    Ok(PackageSummary { files, items, items_missing: missing })
}
