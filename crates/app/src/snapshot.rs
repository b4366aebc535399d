//! What the pages of an assessment read: the scores, the plan and a snapshot of everything, computed once per change of the store.

use creditcity_rubric::{Assessment, Explanation, Meta, Rubric, Scorecard, explain_rule, score};
use creditcity_store::{CurrentValue, EvidenceRow, TaskRow, UnitRow, ValueRow};

use crate::validation::{InvalidRule, entries_of, invalid_rules, validate_stored};
use crate::{Result, Workspace, status, timeline};

/// The units and tasks of an assessment.
pub struct Plan {
    pub units: Vec<UnitRow>,
    pub tasks: Vec<TaskRow>,
}

/// Everything the pages of an assessment show, computed once per change of the store.
pub struct Snapshot {
    /// The store's version this was computed at.
    pub version: i64,
    /// The day progress was computed for.
    pub today: String,
    pub scores: Scores,
    pub progress: status::Progress,
    pub current: Vec<ValueRow>,
    /// The units and tasks, shared with [`Workspace::plan`] (read again only when the
    /// plan has changed).
    pub plan: std::sync::Arc<Plan>,
    pub evidence: Vec<EvidenceRow>,
    pub reviews: Vec<creditcity_store::ReviewRow>,
    pub history_counts: std::collections::HashMap<String, usize>,
    /// The working and confirmed score at the end of each day something changed.
    pub timeline: Vec<timeline::DayScore>,
    /// Every rule's explanation of the working score, made when first asked for.
    explanations: std::sync::OnceLock<Vec<Explanation>>,
    /// The gap plan of the working score, made when first asked for.
    gap_plan: std::sync::OnceLock<crate::gaps::GapPlan>,
}

impl Snapshot {
    /// Why each rule (in rubric order) scored what it did in the working score, and
    /// what would raise it: worked out once for all the pages that show it.
    pub fn explanations(&self, rubric: &Rubric) -> &[Explanation] {
        self.explanations.get_or_init(|| {
            let (a, card) = &self.scores.working;
            rubric.rules.iter().zip(&card.rules).map(|(rule, result)| explain_rule(rubric, rule, a, result)).collect()
        })
    }

    /// The gap plan of the working score (without the failing records, which
    /// [`Workspace::stored_gap_plan`] adds from the store), made once.
    pub fn gap_plan(&self, rubric: &Rubric) -> &crate::gaps::GapPlan {
        self.gap_plan.get_or_init(|| {
            let (a, card) = &self.scores.working;
            crate::gaps::plan_explained(rubric, a, card, &self.plan.tasks, &self.plan.units, Some(self.explanations(rubric)))
        })
    }
}

/// The two scores of an assessment.
pub struct Scores {
    /// All current values.
    pub working: (Assessment, Scorecard),
    /// Accepted values only.
    pub confirmed: (Assessment, Scorecard),
    /// Stored values that break a rule of the rubric and were left out of the score.
    pub problems: Vec<creditcity_rubric::InputError>,
    /// The rules those values touch.
    pub invalid: Vec<InvalidRule>,
}

/// The working and confirmed scores of stored current values: what every view of an
/// assessment scores, one city or many (`compare`).
pub(crate) fn scores_of(rubric: &Rubric, meta: &Meta, rows: &[CurrentValue]) -> Result<Scores> {
    let (working, problems) = validate_stored(rubric, meta, entries_of(rows, false)?);
    // Accepted values alone may break a relation (a part accepted, its whole not yet):
    // what cannot be validated is left out of the confirmed score, without a problem.
    let (confirmed, _) = validate_stored(rubric, meta, entries_of(rows, true)?);
    let working_card = score(rubric, &working);
    let confirmed_card = score(rubric, &confirmed);
    let invalid = invalid_rules(rubric, &problems);
    Ok(Scores { working: (working, working_card), confirmed: (confirmed, confirmed_card), problems, invalid })
}

impl Workspace {
    /// The assessment of the current values, and of the accepted ones.
    pub async fn scores(&self) -> Result<Scores> {
        let rows = self.store.current_raw(self.assessment.id).await?;
        scores_of(&self.rubric, &self.meta(), &rows)
    }

    /// What a score of this assessment is about.
    fn meta(&self) -> Meta {
        Meta {
            city: Some(self.assessment.city.clone()),
            rubric: Some(self.assessment.rubric_edition.clone()),
            period: Some(self.assessment.period.clone()),
            as_of: None,
        }
    }

    /// Units and tasks, read again only when the plan has changed.
    pub async fn plan(&self) -> Result<std::sync::Arc<Plan>> {
        self.plan_at(self.store.plan_version_of(self.assessment.id).await?).await
    }

    /// [`Workspace::plan`] at a plan version the caller has just read.
    async fn plan_at(&self, version: i64) -> Result<std::sync::Arc<Plan>> {
        let mut slot = self.plan.lock().await;
        if let Some((v, plan)) = slot.as_ref() {
            if *v == version {
                return Ok(plan.clone());
            }
        }
        let plan = std::sync::Arc::new(Plan { units: self.units().await?, tasks: self.tasks().await? });
        *slot = Some((version, plan.clone()));
        Ok(plan)
    }

    /// The current snapshot: recomputed only when the store has changed (by this
    /// process or another) or the day has turned.
    pub async fn snapshot(&self, today: &str) -> Result<std::sync::Arc<Snapshot>> {
        self.snapshot_at(None, today).await
    }

    /// [`Workspace::snapshot`] at a version the caller has just read (with its session),
    /// sparing a round trip to the store.
    pub async fn snapshot_at(&self, version: Option<i64>, today: &str) -> Result<std::sync::Arc<Snapshot>> {
        let version = match version {
            Some(v) => v,
            None => self.store.version_of(self.assessment.id).await?,
        };
        let mut slot = self.snapshot.lock().await;
        if let Some(s) = slot.as_ref().filter(|s| s.version == version && s.today == today) {
            return Ok(s.clone());
        }
        // Every value ever set, in one read: the current ones (not superseded), what
        // they score, how many each input has had, and the timeline all come from it;
        // with it, on the same connection, the plan's version, evidence and reviews.
        let creditcity_store::SnapshotReads { history, plan_version, evidence, reviews } = self.store.snapshot_reads(self.assessment.id).await?;
        let current: Vec<ValueRow> = history.iter().filter(|v| v.superseded_at.is_none()).cloned().collect();
        let mut raw: Vec<CurrentValue> =
            current.iter().map(|v| CurrentValue { key: v.input_key.clone(), value_json: v.value_json.clone(), review_state: v.review_state }).collect();
        // By key, as `Store::current_raw` returns them: problems are listed in one
        // order whichever path scores.
        raw.sort_by(|x, y| x.key.cmp(&y.key));
        let scores = scores_of(&self.rubric, &self.meta(), &raw)?;
        let mut history_counts = std::collections::HashMap::new();
        for v in &history {
            *history_counts.entry(v.input_key.clone()).or_insert(0) += 1;
        }
        let plan = self.plan_at(plan_version).await?;
        let mut progress = status::compute(&self.rubric, &scores.working.1, &scores.confirmed.1, &plan.units, &plan.tasks, &evidence, today);
        progress.invalid.clone_from(&scores.invalid);
        let timeline = timeline::compute(&self.rubric, &history, &reviews, today);
        let snapshot = std::sync::Arc::new(Snapshot {
            version,
            today: today.to_owned(),
            progress,
            current,
            reviews,
            timeline,
            history_counts,
            scores,
            plan,
            evidence,
            explanations: std::sync::OnceLock::new(),
            gap_plan: std::sync::OnceLock::new(),
        });
        *slot = Some(snapshot.clone());
        Ok(snapshot)
    }

    /// Progress by unit and by section, as of `today` (YYYY-MM-DD).
    pub async fn progress(&self, today: &str) -> Result<status::Progress> {
        let scores = self.scores().await?;
        self.progress_with(&scores, today).await
    }

    /// Progress, from scores already computed.
    pub async fn progress_with(&self, scores: &Scores, today: &str) -> Result<status::Progress> {
        let units = self.units().await?;
        let tasks = self.tasks().await?;
        let evidence = self.store.evidence(self.assessment.id).await?;
        let mut progress = status::compute(&self.rubric, &scores.working.1, &scores.confirmed.1, &units, &tasks, &evidence, today);
        progress.invalid.clone_from(&scores.invalid);
        Ok(progress)
    }
}
