//! Dataset imports started from the 数据 page run in the background, so that a long
//! import shows its progress: the page of a job (`/data/imports/{id}`) reloads itself
//! while it runs and shows the rows read so far against the lines uploaded. Jobs are
//! recorded in the store (`Workspace::start_import_job`), so the job page of any server
//! of the store shows where an import stands and how it ended. This process keeps the
//! live row count of the jobs it runs; on PostgreSQL it is also written to the store
//! twice a second (on SQLite the import holds the only write lock until it commits).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The live row counts of the imports this process runs.
#[derive(Default)]
pub struct Live {
    rows: Mutex<HashMap<i64, Arc<AtomicU64>>>,
}

impl Live {
    /// The counter of a job that starts now.
    pub fn start(&self, id: i64) -> Arc<AtomicU64> {
        self.rows.lock().unwrap_or_else(std::sync::PoisonError::into_inner).entry(id).or_default().clone()
    }

    /// Rows checked so far by a job of this process, if it runs here.
    pub fn rows(&self, id: i64) -> Option<u64> {
        self.rows.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&id).map(|c| c.load(Ordering::Relaxed))
    }

    /// The job ended (its outcome is in the store).
    pub fn end(&self, id: i64) {
        self.rows.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&id);
    }
}
