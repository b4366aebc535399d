//! Backup and restore.

use std::path::Path;
use crate::{blobs, BackupSummary, Blobs, Db, Dialect, Location, Result, Store, StoreError};

impl Store {
    /// A consistent copy while the store is in use: a snapshot of the database and the
    /// evidence files it refers to (immutable, by hash). The snapshot is a SQLite file
    /// whatever the store: `VACUUM INTO` for SQLite; for PostgreSQL every table copied
    /// from one REPEATABLE READ transaction into a new SQLite store (`copy_into`), so a
    /// backup restores into either backend.
    pub async fn backup(&self, dir: &Path) -> Result<BackupSummary> {
        if dir.exists() && std::fs::read_dir(dir).map_or(true, |mut d| d.next().is_some()) {
            return Err(StoreError::Conflict(format!("{} 已存在且不为空;请指定新的备份目录", dir.display())));
        }
        std::fs::create_dir_all(dir).map_err(|e| blobs::io_error(dir, e))?;
        let db = dir.join("creditcity.db");
        let at = Location { db: Db::File(db.clone()), evidence: dir.join("evidence"), pool_size: crate::DEFAULT_POOL_SIZE };
        let snapshot = match self.dialect {
            Dialect::Sqlite => {
                sqlx::query("VACUUM INTO $1").bind(db.to_string_lossy().as_ref()).execute(&self.pool).await?;
                // The snapshot says which files it needs: copy exactly those.
                Store::open(&at).await?
            }
            Dialect::Postgres => {
                let snapshot = Store::open(&at).await?;
                self.copy_into(&snapshot).await?;
                // Everything into the database file itself: a backup is that one file (a
                // write-ahead log left beside it, were a connection still open when the
                // pool closed, would not be copied with it).
                let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(&snapshot.pool).await?;
                if busy != 0 {
                    snapshot.pool.close().await;
                    return Err(StoreError::Io(format!("{}:备份数据库未能写入完整(检查点被占用),请重试", db.display())));
                }
                snapshot
            }
        };
        let hashes: Vec<String> = sqlx::query_scalar("SELECT sha256 FROM blobs ORDER BY sha256").fetch_all(&snapshot.pool).await?;
        snapshot.pool.close().await;
        let target = Blobs::new(dir.join("evidence"));
        let mut bytes = 0u64;
        for hash in &hashes {
            let from = self.blobs.path_of(hash);
            let to = target.path_of(hash);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(|e| blobs::io_error(parent, e))?;
            }
            bytes += std::fs::copy(&from, &to).map_err(|e| blobs::io_error(&from, e))?;
            target.verify(hash)?;
        }
        Ok(BackupSummary { files: hashes.len(), bytes })
    }

    /// Restores a backup into a new store location (refused if one exists there): a
    /// SQLite file is copied whole and renamed into place; a PostgreSQL database is
    /// created (or must be empty) and filled from the backup in one transaction. The
    /// backup itself is only read (it may sit on read-only media): its database is
    /// copied first, and the copy is opened (and migrated, for an older backup).
    pub async fn restore(backup: &Path, into: &Location) -> Result<Store> {
        if into.exists().await? && into.file().is_some() {
            return Err(StoreError::Conflict(format!("{} 已存在;恢复不会覆盖现有数据库", into.db.display())));
        }
        let backed_up = backup.join("creditcity.db");
        if !backed_up.exists() {
            return Err(StoreError::NotFound(format!("{} 不是 creditcity 备份(缺少 creditcity.db)", backup.display())));
        }
        // The working copy: beside the SQLite target (renamed into place at the end), or
        // in a temporary directory for PostgreSQL.
        let scratch = tempfile::tempdir().map_err(|e| blobs::io_error(&std::env::temp_dir(), e))?;
        let copy = match &into.db {
            Db::File(into_db) => {
                if let Some(parent) = into_db.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(|e| blobs::io_error(parent, e))?;
                }
                into_db.with_extension("db.restoring")
            }
            Db::Postgres(_) => scratch.path().join("creditcity.db"),
        };
        std::fs::copy(&backed_up, &copy).map_err(|e| blobs::io_error(&copy, e))?;
        // A backup made before its log was folded into the file has it beside: it is part
        // of the database.
        let log = backup.join("creditcity.db-wal");
        if log.exists() {
            let to = format!("{}-wal", copy.display());
            std::fs::copy(&log, &to).map_err(|e| blobs::io_error(&log, e))?;
        }
        let source = Location { db: Db::File(copy.clone()), evidence: backup.join("evidence"), pool_size: crate::DEFAULT_POOL_SIZE };
        let snapshot = Store::open(&source).await?;
        let hashes: Vec<String> = sqlx::query_scalar("SELECT sha256 FROM blobs").fetch_all(&snapshot.pool).await?;
        for hash in &hashes {
            snapshot.blobs.verify(hash)?;
        }
        let Db::File(into_db) = &into.db else {
            // PostgreSQL: the copy refuses a database that holds anything.
            let target = Store::open(into).await?;
            let copied = snapshot.copy_into(&target).await;
            snapshot.pool.close().await;
            copied?;
            return Ok(target);
        };
        // A crash from here on leaves the `.restoring` file, never a half-restored store.
        snapshot.pool.close().await;
        let target = Blobs::new(into.evidence.clone());
        for hash in &hashes {
            let to = target.path_of(hash);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(|e| blobs::io_error(parent, e))?;
            }
            std::fs::copy(snapshot.blobs.path_of(hash), &to).map_err(|e| blobs::io_error(&to, e))?;
        }
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", copy.display()));
        }
        std::fs::rename(&copy, into_db).map_err(|e| blobs::io_error(into_db, e))?;
        Store::open(into).await
    }
}
