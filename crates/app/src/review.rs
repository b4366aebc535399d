//! Reviews: an evaluator accepts or returns values, files and tasks; tasks move along their workflow.

use creditcity_store::{Decision, NewReview, ReviewTarget, TaskStatus};

use crate::{Actor, AppError, Result, Workspace, invalid};

impl Workspace {
    /// An evaluator accepts or returns an input's current value, an evidence item or a task.
    pub async fn review(&self, target: &str, id: &str, decision: Decision, comment: &str, actor: &Actor) -> Result<()> {
        self.review_all(&[(target.to_owned(), id.to_owned())], decision, comment, actor).await
    }

    /// Accepts or returns several objects at once (a group of the review queue): one
    /// transaction, all or none, each with its own review and audit entry. A return
    /// needs its comment.
    pub async fn review_all(&self, targets: &[(String, String)], decision: Decision, comment: &str, actor: &Actor) -> Result<()> {
        if decision == Decision::Return && comment.trim().is_empty() {
            return Err(invalid("comment", "退回须说明理由(--comment)"));
        }
        if targets.is_empty() {
            return Err(invalid("target", "没有选择要评审的对象"));
        }
        let mut current = None;
        let mut tasks = None;
        let mut reviews = Vec::with_capacity(targets.len());
        for (target, id) in targets {
            let (kind, target_id) = match target.as_str() {
                "input" => {
                    if current.is_none() {
                        current = Some(self.store.current_values(self.assessment.id).await?);
                    }
                    let rows = current.as_deref().unwrap_or_default();
                    let row = rows.iter().find(|r| r.input_key == *id).ok_or_else(|| invalid("input", format!("{id} 还没有值可评审")))?;
                    (ReviewTarget::Input, row.id)
                }
                "evidence" => {
                    let n: i64 = id.parse().map_err(|_| invalid("evidence", format!("“{id}”应为佐证材料编号")))?;
                    (ReviewTarget::Evidence, n)
                }
                "task" => {
                    if tasks.is_none() {
                        tasks = Some(self.tasks().await?);
                    }
                    let all = tasks.as_deref().unwrap_or_default();
                    // A code this city does not have is not found, as another city's evidence is.
                    let t = all.iter().find(|t| t.code == *id).ok_or_else(|| AppError::Store(creditcity_store::StoreError::NotFound(format!("没有任务 {id}"))))?;
                    (ReviewTarget::Task, t.id)
                }
                other => return Err(invalid("target", format!("“{other}”应为 input、evidence 或 task"))),
            };
            reviews.push(NewReview { assessment_id: self.assessment.id, target: kind, target_id, decision, comment: comment.trim().to_owned() });
        }
        Ok(self.store.review_all(&reviews, &actor.0).await?)
    }

    /// Moves a task along 未开始 → 进行中 → 已提交; review decides 已通过 / 已退回.
    pub async fn move_task(&self, code: &str, to: TaskStatus, actor: &Actor) -> Result<()> {
        let tasks = self.tasks().await?;
        let t = tasks.iter().find(|t| t.code == code).ok_or_else(|| invalid("task", format!("没有任务 {code}")))?;
        let from = t.status;
        let allowed = matches!(
            (from, to),
            (TaskStatus::NotStarted | TaskStatus::Returned, TaskStatus::InProgress)
                | (TaskStatus::NotStarted | TaskStatus::InProgress | TaskStatus::Returned, TaskStatus::Submitted)
        );
        if !allowed {
            return Err(invalid("task", format!("任务 {code} 当前为“{}”,不能改为“{}”", from.label(), to.label())));
        }
        Ok(self.store.set_task_status(self.assessment.id, code, to, &actor.0).await?)
    }
}
