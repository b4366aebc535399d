//! Keeping the store sound: the check of everything it holds, backups and restores.

use std::path::Path;

use creditcity_rubric::Meta;
use creditcity_store::{AssessmentRow, BackupSummary, Location, Store};

use crate::validation::{InvalidRule, entries_of, invalid_rules, validate_stored};
use crate::{Result, Workspace};

impl Workspace {
    /// Checks the store: database integrity, one current value per input, evidence
    /// hashes, and the current values of every assessment of this rubric edition
    /// validated together (every relation of the rubric).
    pub async fn check(&self) -> Result<CheckReport> {
        let summary = self.store.check().await?;
        let mut broken = Vec::new();
        for a in self.store.assessments().await? {
            if a.rubric_edition != self.rubric.edition {
                continue;
            }
            let rows = self.store.current_raw(a.id).await?;
            let (_, problems) = validate_stored(&self.rubric, &Meta::default(), entries_of(&rows, false)?);
            if !problems.is_empty() {
                let invalid = invalid_rules(&self.rubric, &problems);
                broken.push(BrokenAssessment { assessment: a, problems, invalid });
            }
        }
        Ok(CheckReport { summary, broken })
    }

    pub async fn backup(&self, dir: &Path) -> Result<BackupSummary> {
        Ok(self.store.backup(dir).await?)
    }
}

/// Restores a backup directory into a new store.
/// Restores a backup directory into a new store.
pub async fn restore(backup: &Path, into: &Location) -> Result<()> {
    Store::restore(backup, into).await?.close().await;
    Ok(())
}

/// What `check` found.
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
