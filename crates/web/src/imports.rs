//! Dataset imports started from the 数据 page run in the background, so that a long
//! import shows its progress: the page of a job (`/data/imports/{id}`) reloads itself
//! while it runs and shows the rows read so far against the lines uploaded. Jobs live in
//! memory, in this process only; what an import did is in the store either way.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use creditcity_app::data::DataImport;

/// How many finished jobs are remembered.
const KEEP: usize = 64;

/// Where an import stands.
#[derive(Clone)]
pub enum State {
    Running,
    Done(Arc<DataImport>),
    /// Refused or failed, with the Chinese message the person reads.
    Failed(String),
}

pub struct Job {
    pub id: u64,
    pub assessment: creditcity_store::AssessmentId,
    pub kind: creditcity_data::DatasetKind,
    pub file_name: String,
    pub size: u64,
    /// Line feeds in the uploaded file: about the rows of a CSV; 0 for a workbook.
    pub lines: u64,
    pub started_by: String,
    pub started_at: String,
    /// Data rows checked so far.
    pub rows: AtomicU64,
    state: Mutex<State>,
}

impl Job {
    pub fn state(&self) -> State {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    pub fn finish(&self, state: State) {
        *self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = state;
    }
}

/// The jobs of this process, newest last.
#[derive(Default)]
pub struct Jobs {
    next: AtomicU64,
    jobs: Mutex<VecDeque<Arc<Job>>>,
}

/// What a new job is.
pub struct NewJob {
    /// The assessment it imports into: only that city's office sees the job.
    pub assessment: creditcity_store::AssessmentId,
    pub kind: creditcity_data::DatasetKind,
    pub file_name: String,
    pub size: u64,
    pub lines: u64,
    pub started_by: String,
}

impl Jobs {
    pub fn start(&self, new: NewJob) -> Arc<Job> {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let job = Arc::new(Job {
            id,
            assessment: new.assessment,
            kind: new.kind,
            file_name: new.file_name,
            size: new.size,
            lines: new.lines,
            started_by: new.started_by,
            started_at: creditcity_app::beijing_time(&now()),
            rows: AtomicU64::new(0),
            state: Mutex::new(State::Running),
        });
        let mut jobs = self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        jobs.push_back(job.clone());
        // Forget the oldest finished jobs; a running one is always kept.
        while jobs.len() > KEEP {
            match jobs.iter().position(|j| !matches!(j.state(), State::Running)) {
                Some(i) => {
                    jobs.remove(i);
                }
                None => break,
            }
        }
        job
    }

    /// The job `id` of this assessment (another city's job is not found).
    pub fn get(&self, id: u64, assessment: creditcity_store::AssessmentId) -> Option<Arc<Job>> {
        self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner).iter().find(|j| j.id == id && j.assessment == assessment).cloned()
    }
}

/// Now, as the store writes instants (UTC, RFC 3339), for [`creditcity_app::beijing_time`].
fn now() -> String {
    let t = time::OffsetDateTime::now_utc();
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
