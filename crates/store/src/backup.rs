//! Backup and restore.

use std::path::Path;
use crate::{blobs, BackupSummary, Blobs, Location, Result, Store, StoreError};

impl Store {
    /// A consistent copy while the store is in use: a snapshot of the database
    /// (`VACUUM INTO`) and the evidence files it refers to (immutable, by hash).
    pub async fn backup(&self, dir: &Path) -> Result<BackupSummary> {
        if dir.exists() && std::fs::read_dir(dir).map_or(true, |mut d| d.next().is_some()) {
            return Err(StoreError::Conflict(format!("{} 已存在且不为空;请指定新的备份目录", dir.display())));
        }
        std::fs::create_dir_all(dir).map_err(|e| blobs::io_error(dir, e))?;
        let db = dir.join("creditcity.db");
        sqlx::query("VACUUM INTO $1").bind(db.to_string_lossy().as_ref()).execute(&self.pool).await?;
        // The snapshot says which files it needs: copy exactly those.
        let snapshot = Store::open(&Location { db: db.clone(), evidence: dir.join("evidence") }).await?;
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

    /// Restores a backup into a new store location (refused if one exists there).
    pub async fn restore(backup: &Path, into: &Location) -> Result<Store> {
        if into.db.exists() {
            return Err(StoreError::Conflict(format!("{} 已存在;恢复不会覆盖现有数据库", into.db.display())));
        }
        let source = Location { db: backup.join("creditcity.db"), evidence: backup.join("evidence") };
        if !source.db.exists() {
            return Err(StoreError::NotFound(format!("{} 不是 creditcity 备份(缺少 creditcity.db)", backup.display())));
        }
        let snapshot = Store::open(&source).await?;
        let hashes: Vec<String> = sqlx::query_scalar("SELECT sha256 FROM blobs").fetch_all(&snapshot.pool).await?;
        for hash in &hashes {
            snapshot.blobs.verify(hash)?;
        }
        snapshot.pool.close().await;
        if let Some(parent) = into.db.parent() {
            std::fs::create_dir_all(parent).map_err(|e| blobs::io_error(parent, e))?;
        }
        // Copy to a temporary name, then rename: a crash leaves no half-restored store.
        let tmp = into.db.with_extension("db.restoring");
        std::fs::copy(&source.db, &tmp).map_err(|e| blobs::io_error(&tmp, e))?;
        let target = Blobs::new(into.evidence.clone());
        for hash in &hashes {
            let to = target.path_of(hash);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(|e| blobs::io_error(parent, e))?;
            }
            std::fs::copy(snapshot.blobs.path_of(hash), &to).map_err(|e| blobs::io_error(&to, e))?;
        }
        std::fs::rename(&tmp, &into.db).map_err(|e| blobs::io_error(&into.db, e))?;
        Store::open(into).await
    }
}
