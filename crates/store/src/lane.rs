//! The fast lane: a few PostgreSQL connections kept aside for the short reads that
//! every request makes (who is asking, and whether the caches still hold).
//!
//! sqlx's pool tests every connection as it goes back to the pool, with a round trip
//! to the server; no option turns it off. For a request whose only read is its session
//! that doubles the round trips, and on a busy server the empty statements cost the
//! database as much CPU as the reads themselves. The lane holds connections taken out of
//! the pool (`PoolConnection::detach`, so the pool may open others in their place) and
//! hands them out without a test (when all stay busy for 100 ms, a read takes a pool
//! connection rather than wait longer): a connection goes back to the lane only when its read
//! succeeded, and one idle for a second or more is tested before use, as the pool does
//! (see `pool_options`). A read that fails, or a request cancelled mid-read, closes its
//! connection: whatever state it was left in is never reused.
//!
//! SQLite has no lane: its "round trip" is a message to a thread of this process.

use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Connection as _};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::{Result, StoreError};

/// The connections of the lane, at most (beside the pool's).
const SIZE: usize = 8;
/// How long a read waits for a busy lane before it takes a pool connection instead.
/// Under load a lane connection frees within a millisecond or so; falling back at once
/// would spend the pool's round trip on most reads.
const WAIT: Duration = Duration::from_millis(100);
/// A connection idle this long is tested before use.
const STALE: Duration = Duration::from_secs(1);

pub(crate) struct Lane {
    idle: Mutex<Vec<(AnyConnection, Instant)>>,
    permits: Semaphore,
}

impl std::fmt::Debug for Lane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lane").field("available", &self.permits.available_permits()).finish_non_exhaustive()
    }
}

impl Lane {
    pub(crate) fn new() -> Self {
        Self { idle: Mutex::new(Vec::with_capacity(SIZE)), permits: Semaphore::new(SIZE) }
    }

    /// A connection of the lane (the most recently used one, or one from the pool), or
    /// none when all of them stay busy for [`WAIT`]: the caller then reads on the pool
    /// rather than wait longer behind the lane's longer reads.
    async fn get<'a>(&'a self, pool: &AnyPool) -> Result<Option<LaneConn<'a>>> {
        let permit = match tokio::time::timeout(WAIT, self.permits.acquire()).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(_closed)) => return Err(StoreError::Db(sqlx::Error::PoolClosed)),
            Err(_waited) => return Ok(None),
        };
        loop {
            let popped = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
            let Some((mut conn, since)) = popped else {
                let conn = pool.acquire().await?.detach();
                return Ok(Some(LaneConn { conn: Some(conn), lane: self, _permit: permit }));
            };
            if since.elapsed() < STALE || conn.ping().await.is_ok() {
                return Ok(Some(LaneConn { conn: Some(conn), lane: self, _permit: permit }));
            }
            // The server ended it while it was idle: dropped, and the next one tried.
        }
    }

    /// Closes every idle connection; none is handed out after this.
    pub(crate) async fn close(&self) {
        self.permits.close();
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(PoisonError::into_inner));
        for (conn, _) in idle {
            let _ = conn.close().await;
        }
    }
}

pub(crate) struct LaneConn<'a> {
    conn: Option<AnyConnection>,
    lane: &'a Lane,
    _permit: SemaphorePermit<'a>,
}

/// A connection for a short read: from the lane on PostgreSQL, from the pool on
/// SQLite. Call [`Hot::release`] once the read has succeeded; dropped without it, a lane
/// connection is closed.
pub(crate) enum Hot<'a> {
    Lane(LaneConn<'a>),
    Pool(PoolConnection<Any>),
}

impl<'a> Hot<'a> {
    pub(crate) async fn get(lane: Option<&'a Lane>, pool: &AnyPool) -> Result<Self> {
        if let Some(lane) = lane {
            if let Some(conn) = lane.get(pool).await? {
                return Ok(Self::Lane(conn));
            }
        }
        Ok(Self::Pool(pool.acquire().await?))
    }

    /// The read succeeded: the connection serves the next one (unless the store has
    /// been closed meanwhile: then it is dropped).
    pub(crate) fn release(self) {
        if let Self::Lane(mut c) = self {
            if let Some(conn) = c.conn.take().filter(|_| !c.lane.permits.is_closed()) {
                c.lane.idle.lock().unwrap_or_else(PoisonError::into_inner).push((conn, Instant::now()));
            }
        }
    }
}

impl Deref for Hot<'_> {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        match self {
            // Taken only by `release`, which consumes the guard.
            Self::Lane(c) => c.conn.as_ref().unwrap_or_else(|| unreachable!("a released lane connection was used")),
            Self::Pool(c) => c,
        }
    }
}

impl DerefMut for Hot<'_> {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match self {
            Self::Lane(c) => c.conn.as_mut().unwrap_or_else(|| unreachable!("a released lane connection was used")),
            Self::Pool(c) => c,
        }
    }
}
