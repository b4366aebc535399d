//! PostgreSQL: whether anything at all was committed since a moment, for the price of a
//! share of one small query, so that what a request reads every time (its session) can
//! be kept in the process and still never be stale after another process writes.
//!
//! The fence is the database server's current snapshot (`pg_current_snapshot()`: the
//! transactions finished and those still running). Two snapshots written alike see
//! exactly the same commits, so while the fence reads alike nothing was committed, by
//! this process or any other. A request asks for the fence after it arrived; every
//! request that asked while a round was on its way shares the next round, on a
//! connection of the fence's own (no pool round trips): under load one small query
//! answers many requests. Each different snapshot the fence reads is a new *epoch* of
//! the process (a number that only grows), which is what cached entries are kept under.
//!
//! While commits come faster than rounds (the latest round, ended within [`BUSY`], found a
//! new snapshot), waiting for a round would almost always end in reading the session
//! anyway: a request then reads it at once, and keeps it under that latest round's epoch
//! (its snapshot was taken before the read began, so the entry is served only if a later
//! round finds the very same snapshot: nothing committed across the read). A request
//! after the window waits for a round again, so a calm database is found within [`BUSY`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use sqlx::{AnyConnection, Connection};
use tokio::sync::{mpsc, oneshot};

use crate::{Result, SessionRow, StoreError};

type Waiter = oneshot::Sender<std::result::Result<i64, String>>;

/// The fence of one store (shared by its clones) and what is kept under its epochs.
pub(crate) struct Fence {
    url: String,
    /// The round task's queue; a new task is started when there is none (first use, or
    /// its runtime ended).
    queue: Mutex<Option<mpsc::UnboundedSender<Waiter>>>,
    seen: Arc<Mutex<Seen>>,
    sessions: Mutex<HashMap<String, CachedSession>>,
    /// The store's version (`Store::version`) read at an epoch or later.
    version: Mutex<Option<(i64, i64)>>,
    /// Held while the store's version is read, so that the requests that find a new
    /// epoch wait for one read instead of each making it.
    pub(crate) reading_version: tokio::sync::Mutex<()>,
    /// Set by `close`: no round task is started again.
    closed: std::sync::atomic::AtomicBool,
}

#[derive(Default)]
struct Seen {
    snapshot: String,
    epoch: i64,
    /// When the latest round ended, and whether it started a new epoch.
    last: Option<(std::time::Instant, bool)>,
}

/// How long after a round that found a new snapshot requests read their sessions without
/// waiting for the next round.
pub(crate) const BUSY: std::time::Duration = std::time::Duration::from_millis(100);

struct CachedSession {
    epoch: i64,
    edition: String,
    expires_at: String,
    row: SessionRow,
}

/// At most this many sessions are kept (a few hundred bytes each).
const MAX_SESSIONS: usize = 16_384;

impl std::fmt::Debug for Fence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fence").field("epoch", &self.seen.lock().unwrap_or_else(PoisonError::into_inner).epoch).finish_non_exhaustive()
    }
}

impl Fence {
    pub(crate) fn new(url: &str) -> Self {
        Self { url: url.to_owned(), queue: Mutex::new(None), seen: Arc::default(), sessions: Mutex::new(HashMap::new()), version: Mutex::new(None), reading_version: tokio::sync::Mutex::new(()), closed: std::sync::atomic::AtomicBool::new(false) }
    }

    /// The epoch of a snapshot taken after this call began: equal to an earlier answer
    /// only if nothing was committed in between.
    pub(crate) async fn epoch(&self) -> Result<i64> {
        if self.closed.load(std::sync::atomic::Ordering::Acquire) {
            return Err(StoreError::Db(sqlx::Error::PoolClosed));
        }
        let (tx, rx) = oneshot::channel();
        {
            let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            let unsent = match queue.as_ref() {
                Some(q) => q.send(tx).err().map(|mpsc::error::SendError(tx)| tx),
                None => Some(tx),
            };
            if let Some(tx) = unsent {
                let (q, rounds) = mpsc::unbounded_channel();
                tokio::spawn(run(self.url.clone(), rounds, self.seen.clone()));
                // The receiver lives in the task just spawned: this send cannot fail.
                let _ = q.send(tx);
                *queue = Some(q);
            }
        }
        match rx.await {
            Ok(Ok(epoch)) => Ok(epoch),
            Ok(Err(e)) => Err(StoreError::Db(sqlx::Error::Io(std::io::Error::other(format!("无法读取数据库的当前快照:{e}"))))),
            // The task ended with its runtime before it answered: the next call starts another.
            Err(_) => Err(StoreError::Db(sqlx::Error::Io(std::io::Error::other("数据库快照的读取任务已结束")))),
        }
    }

    /// While the database is busy committing (see the module's note): the epoch of the
    /// latest round, whose snapshot was taken before this call.
    pub(crate) fn busy_epoch(&self) -> Option<i64> {
        if self.closed.load(std::sync::atomic::Ordering::Acquire) {
            return None;
        }
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        match seen.last {
            Some((at, true)) if at.elapsed() < BUSY => Some(seen.epoch),
            _ => None,
        }
    }

    /// The session kept under this epoch (or a later one: read later still), if it is
    /// still live at `now`.
    pub(crate) fn session(&self, token_hash: &str, edition: &str, epoch: i64, now: &str) -> Option<SessionRow> {
        let sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        let s = sessions.get(token_hash)?;
        (s.epoch >= epoch && s.edition == edition && s.expires_at.as_str() > now).then(|| s.row.clone())
    }

    /// Keeps a session read at `epoch` or later (unless one read later is kept).
    pub(crate) fn keep_session(&self, token_hash: &str, edition: &str, epoch: i64, expires_at: String, row: &SessionRow) {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        if sessions.get(token_hash).is_some_and(|s| s.epoch > epoch) {
            return;
        }
        if sessions.len() >= MAX_SESSIONS {
            sessions.retain(|_, s| s.epoch >= epoch);
            if sessions.len() >= MAX_SESSIONS {
                sessions.clear();
            }
        }
        sessions.insert(token_hash.to_owned(), CachedSession { epoch, edition: edition.to_owned(), expires_at, row: row.clone() });
    }

    /// The store's version kept under this epoch or a later one.
    pub(crate) fn version(&self, epoch: i64) -> Option<i64> {
        self.version.lock().unwrap_or_else(PoisonError::into_inner).filter(|(e, _)| *e >= epoch).map(|(_, v)| v)
    }

    /// Keeps the store's version read at `epoch` or later.
    pub(crate) fn keep_version(&self, epoch: i64, version: i64) {
        let mut kept = self.version.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.is_none_or(|(e, _)| e <= epoch) {
            *kept = Some((epoch, version));
        }
    }

    /// Forgets a session the database no longer has (signed out, expired, disabled).
    pub(crate) fn forget_session(&self, token_hash: &str) {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner).remove(token_hash);
    }

    /// Ends the round task (and closes its connection) once the queued rounds are done;
    /// none is started again.
    pub(crate) fn close(&self) {
        self.closed.store(true, std::sync::atomic::Ordering::Release);
        self.queue.lock().unwrap_or_else(PoisonError::into_inner).take();
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }
}

/// Answers every waiter queued before a round's query is sent with that round's epoch,
/// one round at a time, until the store is closed or dropped.
async fn run(url: String, mut rounds: mpsc::UnboundedReceiver<Waiter>, seen: Arc<Mutex<Seen>>) {
    let mut conn: Option<AnyConnection> = None;
    while let Some(first) = rounds.recv().await {
        let mut waiters = vec![first];
        while let Ok(w) = rounds.try_recv() {
            waiters.push(w);
        }
        let answer = round(&url, &mut conn, &seen).await;
        if answer.is_err() {
            // A failing fence is not a busy database: requests wait for the next round
            // (and read their sessions without keeping them while rounds fail).
            seen.lock().unwrap_or_else(PoisonError::into_inner).last = None;
        }
        for w in waiters {
            let _ = w.send(answer.clone());
        }
    }
    if let Some(c) = conn {
        let _ = c.close().await;
    }
}

/// How long a round may take to connect or to read the snapshot: a connection the
/// network dropped without a word (a firewall's idle timeout, a host gone) fails the
/// round instead of holding every request that waits for it.
const ROUND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// One snapshot read; a connection the server ended is replaced once. A new connection
/// always starts a new epoch: the server behind it may be another (a failover, a
/// restore) whose snapshots read alike over other data.
async fn round(url: &str, conn: &mut Option<AnyConnection>, seen: &Mutex<Seen>) -> std::result::Result<i64, String> {
    async fn read(c: &mut AnyConnection) -> std::result::Result<String, String> {
        match tokio::time::timeout(ROUND_TIMEOUT, sqlx::query_scalar::<_, String>("SELECT pg_current_snapshot()::text").fetch_one(c)).await {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(_) => Err(format!("no answer in {} s", ROUND_TIMEOUT.as_secs())),
        }
    }
    let kept = match conn.as_mut() {
        Some(c) => read(c).await.ok(),
        None => None,
    };
    let mut fresh = false;
    let snapshot = if let Some(s) = kept {
        s
    } else {
        *conn = None;
        let connected = tokio::time::timeout(ROUND_TIMEOUT, AnyConnection::connect(url)).await;
        let c = match connected {
            Ok(c) => conn.insert(c.map_err(|e| e.to_string())?),
            Err(_) => return Err(format!("no connection in {} s", ROUND_TIMEOUT.as_secs())),
        };
        fresh = true;
        match read(c).await {
            Ok(s) => s,
            Err(e) => {
                *conn = None;
                return Err(e);
            }
        }
    };
    let mut seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
    let moved = fresh || seen.snapshot != snapshot;
    if moved {
        seen.snapshot = snapshot;
        seen.epoch += 1;
    }
    seen.last = Some((std::time::Instant::now(), moved));
    Ok(seen.epoch)
}
