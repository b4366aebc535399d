//! Keeping the store sound: the check of everything it holds, backups and restores.

use std::path::Path;

use creditcity_rubric::Meta;
use creditcity_store::{AssessmentRow, BackupSummary, Location, Store};

use crate::validation::{InvalidRule, entries_of, invalid_rules, validate_stored};
use crate::{Result, Workspace};

impl Workspace {
    /// Checks the whole store (see [`check_store`]).
    pub async fn check(&self) -> Result<CheckReport> {
        check_store(&self.store, &self.rubric).await
    }

    /// A consistent copy of the whole store and its files (every city).
    pub async fn backup(&self, dir: &Path) -> Result<BackupSummary> {
        Ok(self.store.backup(dir).await?)
    }
}

impl crate::Workspaces {
    /// Checks the whole store (see [`check_store`]): every city, without naming one.
    pub async fn check(&self) -> Result<CheckReport> {
        check_store(self.store_ref(), self.rubric()).await
    }

    /// A consistent copy of the whole store and its files (every city).
    pub async fn backup(&self, dir: &Path) -> Result<BackupSummary> {
        Ok(self.store_ref().backup(dir).await?)
    }
}

/// Checks the store: database integrity, one current value per input, evidence hashes,
/// and the current values of every assessment of this rubric edition validated
/// together (every relation of the rubric).
async fn check_store(store: &Store, rubric: &creditcity_rubric::Rubric) -> Result<CheckReport> {
    let summary = store.check().await?;
    let mut broken = Vec::new();
    for a in store.assessments().await? {
        if a.rubric_edition != rubric.edition {
            continue;
        }
        let rows = store.current_raw(a.id).await?;
        let (_, problems) = validate_stored(rubric, &Meta::default(), entries_of(&rows, false)?);
        if !problems.is_empty() {
            let invalid = invalid_rules(rubric, &problems);
            broken.push(BrokenAssessment { assessment: a, problems, invalid });
        }
    }
    Ok(CheckReport { summary, broken })
}

/// Restores a backup directory into a new store.
pub async fn restore(backup: &Path, into: &Location) -> Result<()> {
    Store::restore(backup, into).await?.close().await;
    Ok(())
}

/// What `check` found.
/// Copies a whole store into a new one (`creditcity migrate --to`): every row of every
/// table (values with their history, reviews, the audit log, evidence and dataset
/// records, accounts, sessions, tokens) from one snapshot, and every file it names. The
/// target must be empty. Then every assessment of this rubric edition is scored on both,
/// working and confirmed, and its audit log compared; an assessment of another edition
/// (which this rubric cannot score) has its every value ever set and its audit log
/// compared instead: what it scores follows from them alone. A difference fails the
/// migration (the target is left for inspection; the source is never changed).
pub async fn migrate(from: &Location, to: &Location, rubric: &creditcity_rubric::Rubric) -> Result<MigrationReport> {
    let source = Store::open_existing(from).await?;
    let target = Store::open(to).await?;
    let copied = source.copy_into(&target).await;
    let assessments = source.assessments().await;
    let compared = match (&copied, &assessments) {
        (Ok(_), Ok(all)) => compare_other_editions(&source, &target, all, &rubric.edition).await,
        _ => Ok(Vec::new()),
    };
    source.close().await;
    target.close().await;
    let copied = copied?;
    let compared = compared?;
    let mut scored = Vec::new();
    for a in assessments? {
        if a.rubric_edition != rubric.edition {
            continue;
        }
        let selector = a.id.to_string();
        let before = Workspace::open(from, rubric.clone(), Some(&selector)).await?;
        let after = Workspace::open(to, rubric.clone(), Some(&selector)).await?;
        let (b, t) = (before.scores().await?, after.scores().await?);
        let same = b.working.1 == t.working.1 && b.confirmed.1 == t.confirmed.1 && before.audit(creditcity_store::AuditFilter::default()).await? == after.audit(creditcity_store::AuditFilter::default()).await?;
        before.close().await;
        after.close().await;
        if !same {
            return Err(creditcity_store::StoreError::Corrupt(format!("评估 {}({})迁移后的得分或历史与原存储不同", a.id, a.city)).into());
        }
        scored.push((a, t.working.1.total));
    }
    Ok(MigrationReport { copied, scored, compared })
}

/// The assessments of another edition than `edition`, each with every value ever set
/// and its audit log the same in both stores; the first that differs fails.
async fn compare_other_editions(source: &Store, target: &Store, all: &[AssessmentRow], edition: &str) -> Result<Vec<AssessmentRow>> {
    let mut compared = Vec::new();
    for a in all.iter().filter(|a| a.rubric_edition != edition) {
        let filter = creditcity_store::AuditFilter { assessment_id: Some(a.id), ..creditcity_store::AuditFilter::default() };
        let same = source.all_values(a.id).await? == target.all_values(a.id).await? && source.audit(&filter).await? == target.audit(&filter).await?;
        if !same {
            return Err(creditcity_store::StoreError::Corrupt(format!("评估 {}({})迁移后的填报记录或历史与原存储不同", a.id, a.city)).into());
        }
        compared.push(a.clone());
    }
    Ok(compared)
}

/// What `migrate` copied, each assessment's (identical) working total, and the
/// assessments of other rubric editions found identical value by value.
#[derive(Debug)]
pub struct MigrationReport {
    pub copied: creditcity_store::CopySummary,
    pub scored: Vec<(AssessmentRow, f64)>,
    pub compared: Vec<AssessmentRow>,
}

/// What `check` found.
#[derive(Debug)]
pub struct CheckReport {
    pub summary: creditcity_store::CheckSummary,
    /// Assessments whose current values break a rule of the rubric.
    pub broken: Vec<BrokenAssessment>,
}

#[derive(Debug)]
pub struct BrokenAssessment {
    pub assessment: AssessmentRow,
    pub problems: Vec<creditcity_rubric::InputError>,
    pub invalid: Vec<InvalidRule>,
}
