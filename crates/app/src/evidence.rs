//! Evidence (佐证材料): files attached to a rule's checklist, read back, and packaged.

use creditcity_store::EvidenceId;
use std::io::Read as _;
use std::path::Path;

use creditcity_store::{EvidenceRow, NewEvidence, StoreError};

use crate::{ACCEPTED_TYPES, Actor, AppError, Result, Workspace, files, invalid, package, sanitize_name};

impl Workspace {
    /// An evidence item of this assessment and its bytes; `None` when it is not one.
    pub async fn evidence_file(&self, id: EvidenceId) -> Result<Option<(EvidenceRow, Vec<u8>)>> {
        let e = match self.store.evidence_item(id).await {
            Ok(e) => e,
            Err(StoreError::NotFound(_)) => return Ok(None),
            Err(other) => return Err(other.into()),
        };
        if !self.store.evidence(self.assessment.id).await?.iter().any(|x| x.id == e.id) {
            return Ok(None);
        }
        let blobs = self.store.blobs().clone();
        let sha = e.sha256.clone();
        let bytes = tokio::task::spawn_blocking(move || blobs.read(&sha))
            .await
            .map_err(|err| StoreError::Io(err.to_string()))??;
        Ok(Some((e, bytes)))
    }

    /// Attaches a file as evidence for a rule's checklist item (1-based), and a task.
    pub async fn attach(&self, path: &Path, rule_id: &str, item: Option<i64>, task: Option<&str>, unit: Option<&str>, actor: &Actor) -> Result<EvidenceRow> {
        self.check_item(rule_id, item)?;
        let meta = std::fs::metadata(path).map_err(|source| AppError::FileRead { path: path.to_path_buf(), source })?;
        if !meta.is_file() {
            return Err(invalid("file", format!("{} 不是文件", path.display())));
        }
        if meta.len() > self.max_evidence_bytes {
            return Err(invalid("file", format!("{} 有 {} 字节,超过上限 {} 字节", path.display(), meta.len(), self.max_evidence_bytes)));
        }
        let mut file = std::fs::File::open(path).map_err(|source| AppError::FileRead { path: path.to_path_buf(), source })?;
        let name = path.file_name().map_or_else(|| "file".to_owned(), |n| n.to_string_lossy().into_owned());
        self.attach_reader(&name, &mut file, rule_id, item, task, unit, actor).await
    }

    /// Attaches the content of `source` (an upload) under the name `name`. The content
    /// is bounded by the evidence limit and must be of an accepted type.
    #[allow(clippy::too_many_arguments)]
    pub async fn attach_reader(
        &self,
        name: &str,
        source: &mut (dyn std::io::Read + Send),
        rule_id: &str,
        item: Option<i64>,
        task: Option<&str>,
        unit: Option<&str>,
        actor: &Actor,
    ) -> Result<EvidenceRow> {
        self.check_item(rule_id, item)?;
        let task_id = match task {
            Some(code) => {
                let tasks = self.tasks().await?;
                let t = tasks.iter().find(|t| t.code == code).ok_or_else(|| invalid("task", format!("没有任务 {code}")))?;
                if !t.rules.iter().any(|r| r == rule_id) {
                    return Err(invalid("task", format!("任务 {code} 不涉及规则 {rule_id}(涉及 {})", t.rules.join("、"))));
                }
                Some(t.id)
            }
            None => None,
        };
        let unit_id = match unit {
            Some(u) => Some(self.unit_id(u).await?),
            None => None,
        };
        let name = sanitize_name(name);
        // Read at most one byte past the limit: enough to know it is too large.
        let mut bytes = Vec::new();
        std::io::Read::take(source, self.max_evidence_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| invalid("file", format!("{name}: {e}")))?;
        if bytes.len() as u64 > self.max_evidence_bytes {
            return Err(invalid("file", format!("{name} 超过上限 {} 字节", self.max_evidence_bytes)));
        }
        if bytes.is_empty() {
            return Err(invalid("file", format!("{name} 是空文件")));
        }
        let media_type = creditcity_store::blobs::sniff(&bytes[..bytes.len().min(8192)]);
        if !ACCEPTED_TYPES.contains(&media_type.as_str()) {
            return Err(invalid("file", format!("{name} 的类型 {media_type} 不在可接受的佐证材料类型之列(PDF、图片、Office 文档、文本、ZIP)")));
        }
        let new = NewEvidence { assessment_id: self.assessment.id, rule_id: rule_id.to_owned(), item, task_id, unit_id, original_name: name };
        Ok(self.store.add_evidence(&new, &mut bytes.as_slice(), self.max_evidence_bytes, &actor.0).await?)
    }

    /// The rule exists and has the checklist item.
    pub(crate) fn check_item(&self, rule_id: &str, item: Option<i64>) -> Result<()> {
        let rule = self.rubric.rule(rule_id).ok_or_else(|| invalid("rule", format!("没有规则 {rule_id}")))?;
        if let Some(i) = item {
            if i < 1 || i as usize > rule.evidence.len() {
                return Err(invalid("item", format!("规则 {rule_id} 的佐证材料清单有 {} 项,没有第 {i} 项", rule.evidence.len())));
            }
        }
        Ok(())
    }

    /// The evidence package (迎检材料) as a zip written to `out`.
    /// The evidence package in memory (a download).
    pub async fn export_evidence_bytes(&self) -> Result<(Vec<u8>, package::PackageSummary)> {
        let evidence = self.store.evidence(self.assessment.id).await?;
        let (rubric, city, blobs) = (self.rubric.clone(), self.assessment.city.clone(), self.store.blobs().clone());
        // Reading every file and compressing it is blocking work: off the async runtime.
        tokio::task::spawn_blocking(move || {
            let mut out = std::io::Cursor::new(Vec::new());
            let summary = package::write(&rubric, &city, &evidence, &blobs, &mut out)?;
            Ok((out.into_inner(), summary))
        })
        .await
        .map_err(|e| AppError::Package(zip::result::ZipError::Io(std::io::Error::other(e.to_string()))))?
    }

    /// Writes the evidence package to a file: complete and on disk, or not at all.
    pub async fn export_evidence_to(&self, path: &Path) -> Result<package::PackageSummary> {
        let evidence = self.store.evidence(self.assessment.id).await?;
        let (rubric, city, blobs, path) = (self.rubric.clone(), self.assessment.city.clone(), self.store.blobs().clone(), path.to_path_buf());
        tokio::task::spawn_blocking(move || files::write_atomically(&path, |w| package::write(&rubric, &city, &evidence, &blobs, w)))
            .await
            .map_err(|e| AppError::Package(zip::result::ZipError::Io(std::io::Error::other(e.to_string()))))?
    }

    pub async fn evidence(&self) -> Result<Vec<EvidenceRow>> {
        Ok(self.store.evidence(self.assessment.id).await?)
    }
}
