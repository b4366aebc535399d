//! Units, tasks and the plan.

use crate::rows::{AssessmentId, CityId, UnitId};
use crate::{AssessmentRow, ImportSummary, PlanData, Result, Store, StoreError, TaskRow, TaskState, TaskStatus, UnitRow, json_obj, unit_id, write_audit};

impl Store {
    pub async fn units(&self, city_id: CityId) -> Result<Vec<UnitRow>> {
        Ok(sqlx::query_as::<_, UnitRow>(
            "SELECT id, city_id, name, kind, parent_id, contact, aliases FROM units WHERE city_id = $1 ORDER BY id",
        )
        .bind(city_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Imports a plan into an assessment in one transaction: units are added or kept
    /// by name; tasks must be new (a duplicate code refuses the whole plan).
    pub async fn import_plan(&self, assessment: &AssessmentRow, plan: &PlanData, actor: &str) -> Result<ImportSummary> {
        let mut tx = self.write_tx().await?;
        let mut summary = ImportSummary::default();
        let mut ids = std::collections::HashMap::new();
        for unit in &plan.units {
            let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM units WHERE city_id = $1 AND name = $2")
                .bind(assessment.city_id)
                .bind(&unit.name)
                .fetch_optional(&mut *tx)
                .await?;
            let id = if let Some(id) = existing {
                id
            } else {
                let parent = match &unit.parent {
                    Some(p) => Some(*ids.get(p).ok_or_else(|| {
                        StoreError::NotFound(format!("单位“{}”的上级单位“{p}”须在它之前列出", unit.name))
                    })?),
                    None => None,
                };
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO units (city_id, name, kind, parent_id, contact, aliases) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(assessment.city_id)
                .bind(&unit.name)
                .bind(&unit.kind)
                .bind(parent)
                .bind(&unit.contact)
                .bind(unit.aliases.join("\n"))
                .fetch_one(&mut *tx)
                .await?;
                let after = json_obj(&[("name", &unit.name), ("kind", &unit.kind)]);
                write_audit(&mut tx, actor, "create", Some(assessment.id), "unit", &id.to_string(), None, Some(&after)).await?;
                summary.units_added += 1;
                id
            };
            ids.insert(unit.name.clone(), id);
        }
        for task in &plan.tasks {
            let dup: Option<i64> = sqlx::query_scalar("SELECT id FROM tasks WHERE assessment_id = $1 AND code = $2")
                .bind(assessment.id)
                .bind(&task.code)
                .fetch_optional(&mut *tx)
                .await?;
            if dup.is_some() {
                return Err(StoreError::Conflict(format!("任务 {} 已存在;计划未导入", task.code)));
            }
            let lead = unit_id(&ids, &task.lead_unit, &task.code)?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO tasks (assessment_id, code, title, description, lead_unit_id, due_date, status) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(assessment.id)
            .bind(&task.code)
            .bind(&task.title)
            .bind(&task.description)
            .bind(lead)
            .bind(&task.due_date)
            .bind(TaskStatus::NotStarted.as_str())
            .fetch_one(&mut *tx)
            .await?;
            for rule in &task.rules {
                sqlx::query("INSERT INTO task_rules (task_id, rule_id) VALUES ($1, $2)")
                    .bind(id)
                    .bind(rule)
                    .execute(&mut *tx)
                    .await?;
            }
            for unit in &task.units {
                let uid = unit_id(&ids, unit, &task.code)?;
                if uid != lead {
                    sqlx::query("INSERT INTO task_units (task_id, unit_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                        .bind(id)
                        .bind(uid)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            let after = json_obj(&[("code", &task.code), ("title", &task.title), ("lead", &task.lead_unit)]);
            write_audit(&mut tx, actor, "create", Some(assessment.id), "task", &task.code, None, Some(&after)).await?;
            summary.tasks_added += 1;
        }
        tx.commit().await?;
        Ok(summary)
    }

    pub async fn tasks(&self, assessment_id: AssessmentId) -> Result<Vec<TaskRow>> {
        let mut tasks = sqlx::query_as::<_, TaskRow>(
            "SELECT t.id, t.code, t.title, t.description, t.lead_unit_id, (SELECT u.name FROM units u WHERE u.id = t.lead_unit_id) AS lead_unit, \
             t.due_date, t.status, '' AS rules_csv, '' AS units_csv \
             FROM tasks t WHERE t.assessment_id = $1 ORDER BY t.id",
        )
        .bind(assessment_id)
        .fetch_all(&self.pool)
        .await?;
        let rules: Vec<(i64, String)> = sqlx::query_as(
            "SELECT r.task_id, r.rule_id FROM task_rules r JOIN tasks t ON t.id = r.task_id WHERE t.assessment_id = $1",
        )
        .bind(assessment_id)
        .fetch_all(&self.pool)
        .await?;
        let units: Vec<(i64, UnitId)> = sqlx::query_as(
            "SELECT p.task_id, p.unit_id FROM task_units p JOIN tasks t ON t.id = p.task_id WHERE t.assessment_id = $1",
        )
        .bind(assessment_id)
        .fetch_all(&self.pool)
        .await?;
        let index: std::collections::HashMap<i64, usize> = tasks.iter().enumerate().map(|(i, t)| (t.id, i)).collect();
        for (task, rule) in rules {
            if let Some(&i) = index.get(&task) {
                tasks[i].rules.push(rule);
            }
        }
        for (task, unit) in units {
            if let Some(&i) = index.get(&task) {
                tasks[i].participating_unit_ids.push(unit);
            }
        }
        Ok(tasks)
    }

    /// The status and due date of every task of every assessment, in one read: the
    /// progress columns of the comparison of cities.
    pub async fn task_states_all(&self) -> Result<Vec<TaskState>> {
        Ok(sqlx::query_as::<_, TaskState>("SELECT assessment_id, status, due_date FROM tasks ORDER BY assessment_id, id")
            .fetch_all(&self.pool)
            .await?)
    }

    /// Moves a task to a new status.
    pub async fn set_task_status(&self, assessment_id: AssessmentId, code: &str, status: TaskStatus, actor: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let before: Option<(i64, String)> = sqlx::query_as("SELECT id, status FROM tasks WHERE assessment_id = $1 AND code = $2")
            .bind(assessment_id)
            .bind(code)
            .fetch_optional(&mut *tx)
            .await?;
        let Some((id, before)) = before else {
            return Err(StoreError::NotFound(format!("没有任务 {code}")));
        };
        sqlx::query("UPDATE tasks SET status = $1 WHERE id = $2").bind(status.as_str()).bind(id).execute(&mut *tx).await?;
        write_audit(
            &mut tx,
            actor,
            "status",
            Some(assessment_id),
            "task",
            code,
            Some(&json_obj(&[("status", &before)])),
            Some(&json_obj(&[("status", status.as_str())])),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

}
