//! PostgreSQL: whether anything at all was committed since a moment, for the price of a
//! share of one small query, so that what a request reads every time (its session) can
//! be kept in the process and still never be stale after another process writes.
//!
//! The fence is the database server's current snapshot (`pg_current_snapshot()`: the
//! transactions finished and those still running). Two snapshots written alike see
//! exactly the same commits, so while the fence reads alike nothing was committed, by
//! this process or any other. A request asks the fence after it arrived; every request
//! that asked while a round was on its way shares the next round, on a connection of
//! the fence's own (no pool, no round trips to hand a connection back): under load one
//! statement answers many requests. Each different snapshot the fence reads is a new
//! *epoch* of the process (a number that only grows), which is what kept entries are
//! kept under.
//!
//! A request that asks for its session has it read by the round itself, in the
//! snapshot's own statement (`accounts::SESSIONS_AT_SNAPSHOT`), unless a copy is kept
//! under the current epoch; if the round then finds a new snapshot, the kept copies of
//! the round's other sessions are read again at once, on the same connection. While
//! commits come fast (the latest round, ended within [`BUSY`], found a new snapshot) a
//! kept copy would hardly survive the round, so every session asked for is read with
//! the snapshot. A session read after a snapshot is kept under that snapshot's epoch:
//! it is served again only if a later round finds the very same snapshot, that is,
//! nothing committed since the snapshot, so nothing the read could have missed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use sqlx::{AnyConnection, Connection, Row};
use tokio::sync::{mpsc, oneshot};

use crate::{Result, SessionRow, StoreError};

/// What a request asks a round for.
enum Ask {
    /// The round's epoch.
    Epoch(oneshot::Sender<std::result::Result<i64, String>>),
    /// A session as of the round's snapshot or later.
    Session { token_hash: String, edition: String, reply: oneshot::Sender<std::result::Result<Option<SessionRow>, String>> },
}

/// The fence of one store (shared by its clones) and what is kept under its epochs.
pub(crate) struct Fence {
    url: String,
    /// The round task's queue; a new task is started when there is none (first use, or
    /// its runtime ended).
    queue: Mutex<Option<mpsc::UnboundedSender<Ask>>>,
    kept: Arc<Kept>,
    /// The store's version (`Store::version`) read at an epoch or later.
    version: Mutex<Option<(i64, i64)>>,
    /// Held while the store's version is read, so that the requests that find a new
    /// epoch wait for one read instead of each making it.
    pub(crate) reading_version: tokio::sync::Mutex<()>,
    /// Set by `close`: no round task is started again.
    closed: std::sync::atomic::AtomicBool,
}

/// What the rounds have seen, and the sessions they read.
#[derive(Default)]
struct Kept {
    seen: Mutex<Seen>,
    sessions: Mutex<HashMap<String, CachedSession>>,
}

#[derive(Default)]
struct Seen {
    snapshot: String,
    epoch: i64,
    /// When the latest round ended, and whether it started a new epoch.
    last: Option<(std::time::Instant, bool)>,
}

/// How long after a round that found a new snapshot the next round reads every session
/// asked for, kept or not.
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
        f.debug_struct("Fence").field("epoch", &self.kept.seen.lock().unwrap_or_else(PoisonError::into_inner).epoch).finish_non_exhaustive()
    }
}

impl Fence {
    pub(crate) fn new(url: &str) -> Self {
        Self { url: url.to_owned(), queue: Mutex::new(None), kept: Arc::default(), version: Mutex::new(None), reading_version: tokio::sync::Mutex::new(()), closed: std::sync::atomic::AtomicBool::new(false) }
    }

    /// The epoch of a snapshot taken after this call began: equal to an earlier answer
    /// only if nothing was committed in between.
    pub(crate) async fn epoch(&self) -> Result<i64> {
        let (tx, rx) = oneshot::channel();
        self.ask(Ask::Epoch(tx))?;
        answer(rx).await
    }

    /// The session of a token's hash (see [`crate::Store::session`]) as of a snapshot
    /// taken after this call began.
    pub(crate) async fn session(&self, token_hash: &str, edition: &str) -> Result<Option<SessionRow>> {
        let (tx, rx) = oneshot::channel();
        self.ask(Ask::Session { token_hash: token_hash.to_owned(), edition: edition.to_owned(), reply: tx })?;
        answer(rx).await
    }

    /// Queues an ask for the next round, starting the round task if there is none.
    fn ask(&self, ask: Ask) -> Result<()> {
        // Checked under the queue's lock, which `close` takes after setting it: no task
        // is started once the store is closed.
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if self.closed.load(std::sync::atomic::Ordering::Acquire) {
            return Err(StoreError::Db(sqlx::Error::PoolClosed));
        }
        let unsent = match queue.as_ref() {
            Some(q) => q.send(ask).err().map(|mpsc::error::SendError(ask)| ask),
            None => Some(ask),
        };
        if let Some(ask) = unsent {
            let (q, rounds) = mpsc::unbounded_channel();
            tokio::spawn(run(self.url.clone(), rounds, self.kept.clone()));
            // The receiver lives in the task just spawned: this send cannot fail.
            let _ = q.send(ask);
            *queue = Some(q);
        }
        Ok(())
    }

    /// Whether the latest round found a new snapshot within [`BUSY`].
    #[cfg(test)]
    pub(crate) fn busy(&self) -> bool {
        self.kept.busy()
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

    /// Ends the round task (and closes its connection) once the queued rounds are done;
    /// none is started again.
    pub(crate) fn close(&self) {
        self.closed.store(true, std::sync::atomic::Ordering::Release);
        self.queue.lock().unwrap_or_else(PoisonError::into_inner).take();
        self.kept.sessions.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }
}

/// A round's answer to an ask.
async fn answer<T>(rx: oneshot::Receiver<std::result::Result<T, String>>) -> Result<T> {
    match rx.await {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(e)) => Err(StoreError::Db(sqlx::Error::Io(std::io::Error::other(format!("无法读取数据库的当前快照:{e}"))))),
        // The task ended with its runtime before it answered: the next ask starts another.
        Err(_) => Err(StoreError::Db(sqlx::Error::Io(std::io::Error::other("数据库快照的读取任务已结束")))),
    }
}

impl Kept {
    fn busy(&self) -> bool {
        matches!(self.seen.lock().unwrap_or_else(PoisonError::into_inner).last, Some((at, true)) if at.elapsed() < BUSY)
    }

    /// The session kept under this epoch (or a later one: read later still), if it is
    /// still live at `now`.
    fn session(&self, token_hash: &str, edition: &str, epoch: i64, now: &str) -> Option<SessionRow> {
        let sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        let s = sessions.get(token_hash)?;
        (s.epoch >= epoch && s.edition == edition && s.expires_at.as_str() > now).then(|| s.row.clone())
    }

    /// Keeps the sessions read at `epoch` or later (unless one read later is kept), and
    /// forgets those asked for and not found (signed out, expired, disabled).
    fn keep(&self, epoch: i64, asked: &[Key], read: &Read) {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        for key @ (token_hash, edition) in asked {
            if sessions.get(token_hash).is_some_and(|s| s.epoch > epoch) {
                continue;
            }
            let Some((row, expires_at)) = read.get(key) else {
                sessions.remove(token_hash);
                continue;
            };
            if sessions.len() >= MAX_SESSIONS {
                sessions.retain(|_, s| s.epoch >= epoch);
                if sessions.len() >= MAX_SESSIONS {
                    sessions.clear();
                }
            }
            sessions.insert(token_hash.clone(), CachedSession { epoch, edition: edition.clone(), expires_at: expires_at.clone(), row: row.clone() });
        }
    }
}

/// Answers every ask queued before a round's statement is sent, one round at a time,
/// until the store is closed or dropped.
async fn run(url: String, mut rounds: mpsc::UnboundedReceiver<Ask>, kept: Arc<Kept>) {
    let mut conn: Option<AnyConnection> = None;
    while let Some(first) = rounds.recv().await {
        let mut asks = vec![first];
        while let Ok(a) = rounds.try_recv() {
            asks.push(a);
        }
        round(&url, &mut conn, &kept, asks).await;
    }
    if let Some(c) = conn {
        let _ = c.close().await;
    }
}

/// How long a round may take to connect or to read: a connection the network dropped
/// without a word (a firewall's idle timeout, a host gone) fails the round instead of
/// holding every request that waits for it.
const ROUND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A session asked for: (token hash, edition).
type Key = (String, String);

/// A round's sessions by what was asked: each with when it expires.
type Read = HashMap<Key, (SessionRow, String)>;

/// One round: the snapshot with the sessions to read, then (if the snapshot moved) the
/// kept sessions again; every ask answered.
async fn round(url: &str, conn: &mut Option<AnyConnection>, kept: &Kept, asks: Vec<Ask>) {
    // The clock is read once every ask has arrived: a session that expired while its
    // request waited is not served.
    let now = crate::now();
    let before = kept.seen.lock().unwrap_or_else(PoisonError::into_inner).epoch;
    let busy = kept.busy();
    let mut wanted: Vec<Key> = Vec::new();
    let mut later: Vec<Key> = Vec::new();
    for ask in &asks {
        if let Ask::Session { token_hash, edition, .. } = ask {
            let key = (token_hash.clone(), edition.clone());
            if wanted.contains(&key) || later.contains(&key) {
                continue;
            }
            if !busy && kept.session(token_hash, edition, before, &now).is_some() {
                later.push(key);
            } else {
                wanted.push(key);
            }
        }
    }
    let first = snapshot_round(url, conn, &wanted, &now).await;
    let (epoch, mut read) = match first {
        Ok((snapshot, fresh, read)) => {
            let mut seen = kept.seen.lock().unwrap_or_else(PoisonError::into_inner);
            let moved = fresh || seen.snapshot != snapshot;
            if moved {
                seen.snapshot = snapshot;
                seen.epoch += 1;
            }
            seen.last = Some((std::time::Instant::now(), moved));
            (seen.epoch, read)
        }
        Err(e) => {
            // A failing fence is not a busy database: the next round reads what it must.
            kept.seen.lock().unwrap_or_else(PoisonError::into_inner).last = None;
            for ask in asks {
                let _ = match ask {
                    Ask::Epoch(reply) => reply.send(Err(e.clone())).is_ok(),
                    Ask::Session { reply, .. } => reply.send(Err(e.clone())).is_ok(),
                };
            }
            return;
        }
    };
    kept.keep(epoch, &wanted, &read);
    // The kept copies hold if the snapshot did not move (taken now: a later `keep` may
    // drop entries to make room); else they are read again, after the snapshot: kept
    // under its epoch (see the module's note).
    let mut stale: Vec<Key> = Vec::new();
    for key in later {
        match kept.session(&key.0, &key.1, epoch, &now) {
            Some(row) => {
                read.insert(key, (row, String::new()));
            }
            None => stale.push(key),
        }
    }
    let mut failed = None;
    if !stale.is_empty() {
        match sessions_round(conn, &stale, &now).await {
            Ok(again) => {
                kept.keep(epoch, &stale, &again);
                read.extend(again);
            }
            Err(e) => failed = Some(e),
        }
    }
    for ask in asks {
        let _ = match ask {
            Ask::Epoch(reply) => reply.send(Ok(epoch)).is_ok(),
            Ask::Session { token_hash, edition, reply } => {
                let key = (token_hash, edition);
                let answer = match &failed {
                    Some(e) if stale.contains(&key) => Err(e.clone()),
                    _ => Ok(read.get(&key).map(|(row, _)| row.clone())),
                };
                reply.send(answer).is_ok()
            }
        };
    }
}

/// The snapshot and, at that snapshot, the sessions `wanted`; whether the connection is
/// new (a new connection always starts a new epoch: the server behind it may be another
/// — a failover, a restore — whose snapshots read alike over other data). A connection
/// the server ended is replaced once.
async fn snapshot_round(url: &str, conn: &mut Option<AnyConnection>, wanted: &[Key], now: &str) -> std::result::Result<(String, bool, Read), String> {
    if let Some(c) = conn.as_mut() {
        if let Ok(r) = snapshot_read(c, wanted, now).await {
            return Ok((r.0, false, r.1));
        }
    }
    *conn = None;
    let c = match tokio::time::timeout(ROUND_TIMEOUT, AnyConnection::connect(url)).await {
        Ok(c) => conn.insert(c.map_err(|e| e.to_string())?),
        Err(_) => return Err(format!("no connection in {} s", ROUND_TIMEOUT.as_secs())),
    };
    match snapshot_read(c, wanted, now).await {
        Ok((snapshot, read)) => Ok((snapshot, true, read)),
        Err(e) => {
            *conn = None;
            Err(e)
        }
    }
}

async fn snapshot_read(c: &mut AnyConnection, wanted: &[Key], now: &str) -> std::result::Result<(String, Read), String> {
    if wanted.is_empty() {
        let snapshot = timed(sqlx::query_scalar::<_, String>("SELECT pg_current_snapshot()::text").fetch_one(c)).await?;
        return Ok((snapshot, HashMap::new()));
    }
    let rows = timed(sqlx::query(crate::accounts::SESSIONS_AT_SNAPSHOT).bind(asked_json(wanted)).bind(now).fetch_all(&mut *c)).await?;
    let snapshot: String = rows.first().ok_or("no row")?.try_get(0).map_err(|e| e.to_string())?;
    Ok((snapshot, sessions_of(&rows, wanted)?))
}

/// The sessions `wanted`, without the snapshot.
async fn sessions_round(conn: &mut Option<AnyConnection>, wanted: &[Key], now: &str) -> std::result::Result<Read, String> {
    let c = conn.as_mut().ok_or("no connection")?;
    let rows = timed(sqlx::query(crate::accounts::SESSIONS_AT_SNAPSHOT).bind(asked_json(wanted)).bind(now).fetch_all(&mut *c)).await;
    match rows {
        Ok(rows) => sessions_of(&rows, wanted),
        Err(e) => {
            *conn = None;
            Err(e)
        }
    }
}

async fn timed<T>(query: impl std::future::Future<Output = std::result::Result<T, sqlx::Error>>) -> std::result::Result<T, String> {
    match tokio::time::timeout(ROUND_TIMEOUT, query).await {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => Err(format!("no answer in {} s", ROUND_TIMEOUT.as_secs())),
    }
}

/// `[{"t": token hash, "e": edition}, …]`.
fn asked_json(wanted: &[Key]) -> String {
    let items: Vec<String> = wanted.iter().map(|(t, e)| format!("{{\"t\":{},\"e\":{}}}", crate::json_str(t), crate::json_str(e))).collect();
    format!("[{}]", items.join(","))
}

/// The rows of [`crate::accounts::SESSIONS_AT_SNAPSHOT`] by the ask they answer.
fn sessions_of(rows: &[sqlx::any::AnyRow], wanted: &[Key]) -> std::result::Result<Read, String> {
    let mut read = HashMap::new();
    for row in rows {
        let Some(token_hash) = row.try_get::<Option<String>, _>(1).map_err(|e| e.to_string())? else { continue };
        let edition: String = row.try_get(2).map_err(|e| e.to_string())?;
        let key = (token_hash, edition);
        if wanted.contains(&key) {
            read.insert(key, crate::accounts::session_at(row, 3).map_err(|e| e.to_string())?);
        }
    }
    Ok(read)
}
