//! The workspace store: cities, assessments, units, the plan, input values with their
//! history, evidence, reviews and the audit log.
//!
//! Only this crate speaks SQL. The SQL is portable (standard types, `$N` placeholders,
//! `RETURNING`) and runs through sqlx's `Any` driver on SQLite or PostgreSQL; the few
//! statements that differ are chosen by [`Dialect`]. The default deployment is one SQLite
//! file with the evidence directory beside it; `postgres://…` selects a PostgreSQL
//! database with the files in a directory the configuration names. Every change of
//! several rows is one transaction, and every change writes its audit entry in the same
//! transaction.

pub mod blobs;
pub mod testing;
mod accounts;
mod assessments;
mod audit;
mod backup;
mod copy;
#[cfg(test)]
mod backends;
mod cities;
mod datasets;
mod evidence;
mod fence;
mod plan;
mod reviews;
mod rows;
mod values;

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::ConnectOptions as _;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, AnyPool, Transaction};

pub use blobs::{BlobInfo, Blobs};
pub use rows::*;
pub use accounts::ApiTokenRow;
pub use datasets::{DatasetRow, ImportJobRow, NewDataset, NewImportJob, NewProblem, ProblemFilter, ProblemRow};
pub use values::{CurrentValue, JobError, SnapshotReads, ValueJob};
pub use copy::CopySummary;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("数据库:{0}")]
    Db(#[from] sqlx::Error),
    #[error("数据库结构升级:{0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("存储的文件:{0}")]
    Io(String),
    #[error("文件超过上限 {limit} 字节")]
    TooLarge { limit: u64 },
    /// There is no store there (nothing was created): a path, or a URL without password.
    #[error("{0} 处没有存储")]
    NoStore(String),
    /// The store's location is not usable as given.
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("存储已损坏:{0}")]
    Corrupt(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static PG_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The database of a store: a SQLite file (the default) or a PostgreSQL database.
#[derive(Clone, PartialEq, Eq)]
pub enum Db {
    File(PathBuf),
    /// A `postgres://` (or `postgresql://`) URL.
    Postgres(String),
}

impl Db {
    /// Is this text a PostgreSQL URL (else a file path)?
    pub fn is_url(text: &str) -> bool {
        text.starts_with("postgres://") || text.starts_with("postgresql://")
    }

    /// The database as shown to people: the path, or the URL without its password.
    pub fn display(&self) -> String {
        match self {
            Self::File(path) => path.display().to_string(),
            Self::Postgres(url) => redact(url),
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Self::File(_) => Dialect::Sqlite,
            Self::Postgres(_) => Dialect::Postgres,
        }
    }
}

// The URL's password stays out of logs and messages.
impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
            Self::Postgres(url) => f.debug_tuple("Postgres").field(&redact(url)).finish(),
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else { return url.to_owned() };
    let rest = &url[scheme_end..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match (authority.rfind('@'), authority.find(':')) {
        (Some(at), Some(colon)) if colon < at => format!("{}{}:***{}", &url[..scheme_end], &authority[..colon], &rest[at..]),
        _ => url.to_owned(),
    }
}

/// The SQL dialect of a store's database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// Where the store lives: the database and the directory of its evidence and dataset
/// files (content-addressed, by SHA-256).
#[derive(Debug, Clone)]
pub struct Location {
    pub db: Db,
    pub evidence: PathBuf,
    /// PostgreSQL: the connections of this process's pool ([`DEFAULT_POOL_SIZE`] unless
    /// configured: `CREDITCITY_POOL_SIZE`).
    pub pool_size: u32,
}

impl Location {
    /// `name.db` with `name.evidence/` beside it.
    pub fn at(db: &Path) -> Self {
        let evidence = db.with_extension("evidence");
        Self { db: Db::File(db.to_path_buf()), evidence, pool_size: DEFAULT_POOL_SIZE }
    }

    /// A PostgreSQL database with its files in `files`.
    pub fn postgres(url: &str, files: &Path) -> Self {
        Self { db: Db::Postgres(url.to_owned()), evidence: files.to_path_buf(), pool_size: DEFAULT_POOL_SIZE }
    }

    /// A store named by configuration: a `postgres://…` URL (which needs `files`, the
    /// directory of its files) or a SQLite file (its files beside it unless `files`
    /// names another directory).
    /// `CREDITCITY_POOL_SIZE`, when set, sizes a PostgreSQL store's pool (1–200).
    pub fn parse(store: &str, files: Option<&Path>) -> Result<Self> {
        let pool_size = match std::env::var("CREDITCITY_POOL_SIZE") {
            Ok(v) => pool_size(&v)?,
            Err(_) => DEFAULT_POOL_SIZE,
        };
        Ok(Self { pool_size, ..Self::parse_place(store, files)? })
    }

    fn parse_place(store: &str, files: Option<&Path>) -> Result<Self> {
        if Db::is_url(store) {
            let Some(files) = files else {
                return Err(StoreError::Config(
                    "PostgreSQL 存储须指定存放佐证材料和数据集文件的目录(--files 目录 或 CREDITCITY_FILES)".to_owned(),
                ));
            };
            Ok(Self::postgres(store, files))
        } else {
            let mut location = Self::at(Path::new(store));
            if let Some(files) = files {
                location.evidence = files.to_path_buf();
            }
            Ok(location)
        }
    }

    /// The file, if the store is a SQLite file.
    pub fn file(&self) -> Option<&Path> {
        match &self.db {
            Db::File(path) => Some(path),
            Db::Postgres(_) => None,
        }
    }

    /// Is there a store here (a file, or a PostgreSQL database with the schema)?
    pub async fn exists(&self) -> Result<bool> {
        match &self.db {
            Db::File(path) => Ok(path.exists()),
            Db::Postgres(url) => postgres_store_exists(&connection_url(url)).await,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    /// PostgreSQL: the connections write transactions begin on (`write_tx`,
    /// `value_write_tx`), apart from `pool`: a writer waits for its locks on its
    /// connection, and writers queued behind a long write (an import holds the store's
    /// lock) must not take every connection the reads need.
    pub(crate) writers: Option<AnyPool>,
    pub(crate) dialect: Dialect,
    pub(crate) blobs: Blobs,
    pub(crate) location: Location,
    /// PostgreSQL: whether anything was committed since (see `fence.rs`), and the
    /// sessions kept under it.
    pub(crate) fence: Option<std::sync::Arc<fence::Fence>>,
}

/// Now, as stored: RFC 3339 in UTC with milliseconds, so text order is time order.
pub fn now() -> String {
    let t = time::OffsetDateTime::now_utc();
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    t.format(&f).unwrap_or_default()
}

impl Store {
    /// Opens the store, creating it (and running migrations) if needed.
    pub async fn open(location: &Location) -> Result<Self> {
        // Boxed as `Send` here, where its lifetimes are concrete: the compiler cannot
        // prove sqlx's PostgreSQL connect futures `Send` for every lifetime, which a
        // caller's `tokio::spawn` of a future that opens a store would need.
        let open: std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self>> + Send + '_>> = Box::pin(Self::open_inner(location));
        open.await
    }

    async fn open_inner(location: &Location) -> Result<Self> {
        install_drivers();
        let (pool, writers, dialect, fence) = match &location.db {
            Db::File(path) => {
                let options = SqliteConnectOptions::from_str("sqlite:")?.filename(path).create_if_missing(true);
                migrate_sqlite(&options).await?;
                // The connection's settings as statements: the `Any` driver connects by URL.
                let any = AnyConnectOptions::from_url(&options.to_url_lossy())?;
                let pool = pool_options(SQLITE_POOL)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            for pragma in ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL", "PRAGMA foreign_keys = ON", "PRAGMA busy_timeout = 10000"] {
                                sqlx::query(pragma).execute(&mut *conn).await?;
                            }
                            Ok(())
                        })
                    })
                    .connect_with(any)
                    .await?;
                (pool, None, Dialect::Sqlite, None)
            }
            Db::Postgres(url) => {
                let url = &connection_url(url);
                migrate_postgres(url).await?;
                let size = location.pool_size.clamp(1, MAX_POOL_SIZE);
                let options = AnyConnectOptions::from_str(url)?;
                let pool = pool_options(size).acquire_timeout(std::time::Duration::from_secs(60)).connect_with(options.clone()).await?;
                let writers = pool_options(writer_pool_size(size)).acquire_timeout(std::time::Duration::from_secs(60)).connect_with(options).await?;
                (pool, Some(writers), Dialect::Postgres, Some(std::sync::Arc::new(fence::Fence::new(url))))
            }
        };
        std::fs::create_dir_all(&location.evidence).map_err(|e| blobs::io_error(&location.evidence, e))?;
        Ok(Self { pool, writers, dialect, blobs: Blobs::new(location.evidence.clone()), location: location.clone(), fence })
    }

    /// Opens an existing store; an error naming the store if there is none.
    pub async fn open_existing(location: &Location) -> Result<Self> {
        let exists: std::pin::Pin<Box<dyn std::future::Future<Output = Result<bool>> + Send + '_>> = Box::pin(location.exists());
        if !exists.await? {
            return Err(StoreError::NoStore(location.db.display()));
        }
        Self::open(location).await
    }

    /// A write transaction for values of these assessments only. SQLite: `BEGIN
    /// IMMEDIATE`, as every writer. PostgreSQL: the store's write lock shared (every
    /// other writer takes it exclusively, so nothing else writes meanwhile) and each
    /// assessment's own lock exclusively (in id order, so two writers never wait for
    /// each other): the values of different cities are written in parallel, those of
    /// one city one transaction at a time, each validated against what is committed.
    pub(crate) async fn value_write_tx(&self, assessments: &[AssessmentId]) -> Result<Transaction<'static, Any>> {
        match self.dialect {
            Dialect::Sqlite => Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?),
            Dialect::Postgres => {
                let mut ids: Vec<AssessmentId> = assessments.to_vec();
                ids.sort_unstable();
                ids.dedup();
                // The store's lock and the first assessment's in one statement, inside the
                // transaction (not in the statement that begins it: a wait cancelled or
                // failed there would leave no transaction for sqlx to roll back, and the
                // connection would go back to the pool holding the locks). The order of
                // the two does not matter (writers that take the store's lock exclusively
                // take no other); the assessments' own locks are taken in id order.
                let mut tx = self.writer_pool().begin().await?;
                let mut keys = ids.into_iter().map(|id| i32::try_from(id.0).unwrap_or(i32::MAX));
                match keys.next() {
                    Some(first) => {
                        sqlx::query("SELECT 1 FROM pg_advisory_xact_lock_shared($1), pg_advisory_xact_lock($2, $3)")
                            .bind(WRITE_LOCK)
                            .bind(VALUE_LOCK_CLASS)
                            .bind(first)
                            .execute(&mut *tx)
                            .await?;
                    }
                    None => {
                        sqlx::query("SELECT 1 FROM pg_advisory_xact_lock_shared($1)").bind(WRITE_LOCK).execute(&mut *tx).await?;
                    }
                }
                for key in keys {
                    sqlx::query("SELECT 1 FROM pg_advisory_xact_lock($1, $2)").bind(VALUE_LOCK_CLASS).bind(key).execute(&mut *tx).await?;
                }
                Ok(tx)
            }
        }
    }

    /// A write transaction that holds the store's write lock from its first statement,
    /// across processes: a deferred one that read first could fail, not wait, when
    /// another writer commits in between. SQLite: `BEGIN IMMEDIATE`. PostgreSQL: a
    /// transaction-scoped advisory lock that every writer takes, so that what a writer
    /// reads inside (READ COMMITTED: each statement sees every commit before it) is what
    /// is committed, and nobody commits a write in between.
    pub(crate) async fn write_tx(&self) -> Result<Transaction<'static, Any>> {
        match self.dialect {
            Dialect::Sqlite => Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?),
            Dialect::Postgres => {
                let mut tx = self.writer_pool().begin().await?;
                sqlx::query("SELECT 1 FROM pg_advisory_xact_lock($1)").bind(WRITE_LOCK).execute(&mut *tx).await?;
                Ok(tx)
            }
        }
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn blobs(&self) -> &Blobs {
        &self.blobs
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    pub async fn close(self) {
        if let Some(f) = &self.fence {
            f.close();
        }
        if let Some(w) = &self.writers {
            w.close().await;
        }
        self.pool.close().await;
    }

    /// Where write transactions begin (see `writers`).
    fn writer_pool(&self) -> &AnyPool {
        self.writers.as_ref().unwrap_or(&self.pool)
    }

}

pub(crate) fn unit_id(ids: &std::collections::HashMap<String, i64>, name: &str, task: &str) -> Result<i64> {
    ids.get(name).copied().ok_or_else(|| StoreError::NotFound(format!("任务 {task} 的责任单位“{name}”不在计划的单位列表中")))
}

/// Writes an audit entry in `tx`, which must hold the store's write locks: an entry of
/// an assessment under `write_tx` or that assessment's `value_write_tx`, an entry of no
/// assessment (`assessment_id` `None`) under `write_tx` only. `Store::version` counts on
/// it: each assessment's newest audit id, and the newest of no assessment, then grow in
/// commit order on PostgreSQL too.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn write_audit(
    tx: &mut Transaction<'_, Any>,
    actor: &str,
    action: &str,
    assessment_id: Option<AssessmentId>,
    entity: &str,
    entity_id: &str,
    before: Option<&str>,
    after: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, assessment_id, entity, entity_id, before_json, after_json) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(now())
    .bind(actor)
    .bind(action)
    .bind(assessment_id)
    .bind(entity)
    .bind(entity_id)
    .bind(before)
    .bind(after)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A JSON string literal.
pub fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub(crate) fn json_obj(fields: &[(&str, &str)]) -> String {
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("{}:{}", json_str(k), json_str(v))).collect();
    format!("{{{}}}", body.join(","))
}

/// The URL the store connects with: as given, but a server on this machine (loopback
/// or a Unix socket) is reached without TLS unless the URL asks (`sslmode=`) — the bytes
/// never leave the machine, and Debian's server offers TLS by default, which would cost
/// every request a share of the CPU for nothing. Another host keeps the driver's
/// default (`prefer`: encrypted when the server offers it).
fn connection_url(url: &str) -> String {
    let (main, query) = url.split_once('?').map_or((url, ""), |(m, q)| (m, q));
    if query.split('&').any(|kv| kv.starts_with("sslmode=")) {
        return url.to_owned();
    }
    let authority = main.split_once("://").map_or(main, |(_, rest)| rest);
    let authority = authority.split('/').next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host_port.starts_with('[') { host_port.split(']').next().map(|h| h.trim_start_matches('[')).unwrap_or_default() } else { host_port.split(':').next().unwrap_or_default() };
    let socket = query.split('&').any(|kv| kv.starts_with("host=/"));
    let local = socket || host.is_empty() || host == "localhost" || host == "::1" || host.starts_with("127.");
    if !local {
        return url.to_owned();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}sslmode=disable")
}

/// The advisory lock key every PostgreSQL writer takes (`write_tx`): "credcity" in ASCII.
const WRITE_LOCK: i64 = 0x6372_6564_6369_7479;

/// The first key of an assessment's own lock (`value_write_tx`; the second is its id):
/// "cc" in ASCII. Two-key advisory locks never collide with one-key ones.
const VALUE_LOCK_CLASS: i32 = 0x6363;

/// Connections a process keeps to a PostgreSQL store unless configured otherwise
/// (`CREDITCITY_POOL_SIZE`). A few per core of the database server: more only queue
/// inside it, each backend taking turns on the cores with the others. Measured with
/// part c of the province benchmark (two server processes and PostgreSQL on one 2-core
/// machine, 200 clients with think time, 15-second runs): reads p99 108–319 ms with 16
/// a process; 37–38 ms with 10, 31–57 with 8, 31–46 with 6, 37–40 with 4, at the same
/// throughput.
pub const DEFAULT_POOL_SIZE: u32 = 6;

/// The largest pool a process may ask for.
const MAX_POOL_SIZE: u32 = 200;

/// PostgreSQL: the write transactions of a process at once, beside a pool of `size`:
/// half as many, at least two (writes of different cities go on in parallel).
fn writer_pool_size(size: u32) -> u32 {
    (size / 2).max(2)
}

/// SQLite: readers at once (one writer at a time whatever the pool).
const SQLITE_POOL: u32 = 16;

/// A configured pool size (`CREDITCITY_POOL_SIZE`): 1–200.
fn pool_size(text: &str) -> Result<u32> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_POOL_SIZE).contains(n))
        .ok_or_else(|| StoreError::Config(format!("CREDITCITY_POOL_SIZE=“{text}”无效:应为 1 到 {MAX_POOL_SIZE} 的整数(每个进程与 PostgreSQL 的连接数)")))
}

/// The pool of either backend, of at most `max` connections.
fn pool_options(max: u32) -> AnyPoolOptions {
    // sqlx tests every connection as it goes back to the pool (a round trip), and by
    // default once more as it is taken out. The second test is kept for a connection that
    // has been idle for a second or more: one the server dropped meanwhile (a restart, a
    // failover) is replaced unseen instead of failing the request that draws it. A
    // connection handed back within the second was tested then, and taking it out without
    // another round trip saves a third of the round trips of a request that reads once.
    AnyPoolOptions::new().max_connections(max).test_before_acquire(false).before_acquire(|conn, meta| {
        Box::pin(async move {
            if meta.idle_for >= std::time::Duration::from_secs(1) {
                sqlx::Connection::ping(conn).await?;
            }
            Ok(true)
        })
    })
}

fn install_drivers() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(sqlx::any::install_default_drivers);
}

/// Runs the migrations on a connection of its own with foreign keys off: rebuilding a
/// table (to add a CHECK constraint) drops and renames parent tables, which foreign key
/// enforcement would take for deleting their rows. Migrations that rebuild tables check
/// every reference themselves before they commit.
async fn migrate_sqlite(options: &SqliteConnectOptions) -> Result<()> {
    use sqlx::Connection as _;
    let unchecked = options.clone().foreign_keys(false);
    let mut conn = sqlx::SqliteConnection::connect_with(&unchecked).await?;
    SQLITE_MIGRATOR.run_direct(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

/// Creates the database if there is none, then runs the PostgreSQL migrations (the same
/// versions as SQLite's) on a connection of their own; sqlx holds an advisory lock
/// while it migrates, so servers starting together do not migrate twice.
async fn migrate_postgres(url: &str) -> Result<()> {
    use sqlx::Connection as _;
    use sqlx::migrate::MigrateDatabase as _;
    if !sqlx::Postgres::database_exists(url).await.map_err(|e| pg_unreachable(url, &e))? {
        if let Err(e) = sqlx::Postgres::create_database(url).await {
            // Another process may have created it in between.
            if !sqlx::Postgres::database_exists(url).await? {
                return Err(e.into());
            }
        }
    }
    let mut conn = sqlx::PgConnection::connect(url).await?;
    PG_MIGRATOR.run_direct(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

async fn postgres_store_exists(url: &str) -> Result<bool> {
    use sqlx::Connection as _;
    use sqlx::migrate::MigrateDatabase as _;
    if !sqlx::Postgres::database_exists(url).await.map_err(|e| pg_unreachable(url, &e))? {
        return Ok(false);
    }
    let mut conn = sqlx::PgConnection::connect(url).await?;
    let found: Option<String> = sqlx::query_scalar("SELECT to_regclass('cities')::text").fetch_one(&mut conn).await?;
    conn.close().await?;
    Ok(found.is_some())
}

fn pg_unreachable(url: &str, e: &sqlx::Error) -> StoreError {
    StoreError::Config(format!("无法连接 PostgreSQL {}:{e}", redact(url)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_on_this_machine_is_reached_without_tls_unless_the_url_asks() {
        assert_eq!(connection_url("postgres://u:p@127.0.0.1:5432/db"), "postgres://u:p@127.0.0.1:5432/db?sslmode=disable");
        assert_eq!(connection_url("postgres://localhost/db?application_name=x"), "postgres://localhost/db?application_name=x&sslmode=disable");
        assert_eq!(connection_url("postgres://u@[::1]:5432/db"), "postgres://u@[::1]:5432/db?sslmode=disable");
        assert_eq!(connection_url("postgres:///db?host=/run/postgresql"), "postgres:///db?host=/run/postgresql&sslmode=disable");
        assert_eq!(connection_url("postgres://u@127.0.0.1/db?sslmode=require"), "postgres://u@127.0.0.1/db?sslmode=require");
        assert_eq!(connection_url("postgres://u:p@db.example/db"), "postgres://u:p@db.example/db");
        assert_eq!(connection_url("postgres://u:p@10.0.0.5:5432/db"), "postgres://u:p@10.0.0.5:5432/db");
    }

    #[test]
    fn a_configured_pool_size_is_checked() {
        assert_eq!(pool_size("3").ok(), Some(3));
        assert_eq!(pool_size(" 12 ").ok(), Some(12));
        for bad in ["0", "x", "201", "", "-4"] {
            let e = pool_size(bad).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(e.contains("CREDITCITY_POOL_SIZE") && e.contains("1 到 200"), "{bad}: {e}");
        }
    }

    async fn pool(db: &Path) -> sqlx::SqlitePool {
        let options = SqliteConnectOptions::from_str("sqlite:")
            .unwrap_or_else(|e| panic!("{e}"))
            .filename(db)
            .create_if_missing(true)
            .foreign_keys(true);
        sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect_with(options).await.unwrap_or_else(|e| panic!("{e}"))
    }

    /// A store made by the first four migrations, with a row in every table, upgrades to
    /// the checked schema with nothing lost; afterwards the database refuses what the
    /// application does not know.
    #[tokio::test]
    async fn an_existing_store_upgrades_to_check_constraints_with_nothing_lost() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let db = dir.path().join("old.db");
        let old = sqlx::migrate::Migrator { migrations: std::borrow::Cow::Owned(SQLITE_MIGRATOR.migrations[..4].to_vec()), ..sqlx::migrate::Migrator::DEFAULT };
        let p = pool(&db).await;
        old.run(&p).await.unwrap_or_else(|e| panic!("{e}"));
        for sql in [
            "INSERT INTO cities (id, name, created_at) VALUES (1, '青川市', 'x')",
            "INSERT INTO assessments (id, city_id, rubric_edition, period, created_at) VALUES (1, 1, '2019', 'p', 'x')",
            "INSERT INTO units (id, city_id, name, kind) VALUES (1, 1, '市信用办', '市直部门')",
            "INSERT INTO tasks (id, assessment_id, code, title, description, lead_unit_id, status) VALUES (1, 1, 'T1', 't', 'd', 1, 'submitted')",
            "INSERT INTO input_values (id, assessment_id, input_key, value_json, unit_id, source_kind, set_by, set_at) VALUES (1, 1, 's7.cases_closed', '700', 1, 'document', 'a', 'x')",
            "INSERT INTO blobs (sha256, size, media_type, stored_at) VALUES ('ab', 1, 'application/pdf', 'x')",
            "INSERT INTO evidence (id, assessment_id, rule_id, task_id, unit_id, sha256, original_name, uploaded_by, uploaded_at) VALUES (1, 1, '7.2a', 1, 1, 'ab', 'f.pdf', 'a', 'x')",
            "INSERT INTO input_evidence (input_value_id, evidence_id) VALUES (1, 1)",
            "INSERT INTO reviews (assessment_id, target_kind, target_id, decision, comment, reviewer, at) VALUES (1, 'input', 1, 'accept', 'ok', 'e', 'x')",
            "INSERT INTO users (id, username, display_name, password_hash, role, unit_id, created_at) VALUES (1, 'renhang', 'r', 'h', 'unit', 1, 'x')",
            "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES ('t', 1, 'c', 'x', 'y')",
        ] {
            sqlx::query(sql).execute(&p).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        p.close().await;
        let options = SqliteConnectOptions::from_str("sqlite:").unwrap_or_else(|e| panic!("{e}")).filename(&db).foreign_keys(true);
        migrate_sqlite(&options).await.unwrap_or_else(|e| panic!("upgrade: {e}"));
        let p = pool(&db).await;
        for (table, n) in [("tasks", 1), ("input_values", 1), ("evidence", 1), ("input_evidence", 1), ("reviews", 1), ("users", 1), ("sessions", 1)] {
            let count: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&p).await.unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(count, n, "{table} kept its rows");
        }
        let fk: i64 = sqlx::query_scalar("SELECT foreign_keys FROM pragma_foreign_keys").fetch_one(&p).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fk, 1, "foreign keys are on again after the upgrade");
        for bad in [
            "UPDATE input_values SET review_state = 'maybe' WHERE id = 1",
            "UPDATE input_values SET source_kind = 'rumour' WHERE id = 1",
            "UPDATE evidence SET review_state = 'lost' WHERE id = 1",
            "UPDATE tasks SET status = 'done' WHERE id = 1",
            "UPDATE users SET role = 'root' WHERE id = 1",
            "UPDATE users SET unit_id = NULL WHERE id = 1",
            "INSERT INTO input_values (assessment_id, input_key, value_json, source_kind, set_by, set_at) VALUES (1, 's7.cases_closed', '1', 'note', 'a', 'y')",
            "DELETE FROM units WHERE id = 1",
        ] {
            assert!(sqlx::query(bad).execute(&p).await.is_err(), "the database accepted: {bad}");
        }
        p.close().await;
    }

    /// A reference that points nowhere (written with enforcement off, by hand) stops the
    /// upgrade instead of being carried into the checked schema.
    #[tokio::test]
    async fn an_upgrade_refuses_a_store_with_dangling_references() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let db = dir.path().join("old.db");
        let old = sqlx::migrate::Migrator { migrations: std::borrow::Cow::Owned(SQLITE_MIGRATOR.migrations[..4].to_vec()), ..sqlx::migrate::Migrator::DEFAULT };
        let options = SqliteConnectOptions::from_str("sqlite:").unwrap_or_else(|e| panic!("{e}")).filename(&db).create_if_missing(true).foreign_keys(false);
        let p = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await.unwrap_or_else(|e| panic!("{e}"));
        old.run(&p).await.unwrap_or_else(|e| panic!("{e}"));
        sqlx::query("INSERT INTO input_evidence (input_value_id, evidence_id) VALUES (41, 99)").execute(&p).await.unwrap_or_else(|e| panic!("{e}"));
        p.close().await;
        let err = migrate_sqlite(&options).await.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("dangling reference"), "{err}");
    }
}
