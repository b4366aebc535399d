//! Administration: units, tasks and the assessments of the store, checked as a plan file is.

use creditcity_store::UnitId;
use creditcity_store::AssessmentRow;

use crate::{Actor, Result, Workspace, invalid, plan};

impl Workspace {
    /// Adds a unit to the city (the administration page), checked as a plan's units are.
    pub async fn add_unit(&self, name: &str, kind: &str, actor: &Actor) -> Result<()> {
        let problems = plan::check_unit(name, kind);
        if !problems.is_empty() {
            return Err(invalid("unit", problems.join(";")));
        }
        if self.units().await?.iter().any(|u| u.name == name.trim()) {
            return Err(invalid("name", format!("单位“{}”已存在", name.trim())));
        }
        let unit = creditcity_store::PlanUnit { name: name.trim().to_owned(), kind: kind.to_owned(), parent: None, contact: String::new(), aliases: Vec::new() };
        Ok(self.store.add_unit(&self.assessment, &unit, &actor.0).await?)
    }

    /// Changes a task's lead unit and deadline (empty: none), checked as in a plan file.
    pub async fn update_task(&self, code: &str, lead_unit_id: UnitId, due: &str, actor: &Actor) -> Result<()> {
        let due = due.trim();
        let due = if due.is_empty() { None } else { Some(plan::check_date(due).map(|_| due).map_err(|m| invalid("due", m))?) };
        let plan = self.plan().await?;
        if !plan.tasks.iter().any(|t| t.code == code) {
            return Err(invalid("task", format!("没有任务 {code}")));
        }
        if !plan.units.iter().any(|u| u.id == lead_unit_id) {
            return Err(invalid("lead", format!("本城市没有单位 {lead_unit_id}")));
        }
        Ok(self.store.update_task(self.assessment.id, code, due, lead_unit_id, &actor.0).await?)
    }

    /// The assessments of this workspace's city (for the administration page).
    pub async fn city_assessments(&self) -> Result<Vec<AssessmentRow>> {
        Ok(self.store.assessments_of_city(self.assessment.city_id).await?)
    }
}
