//! Large uploads (datasets) streamed to a file beside the store, never held in memory:
//! a page's multipart form and the API's raw body both end up as a [`Spooled`] file,
//! bounded in size, with its lines counted on the way (the progress page's estimate of
//! the rows to come).

use std::path::PathBuf;

use axum::body::{Body, Bytes, HttpBody};
use tokio::io::AsyncWriteExt;

use crate::error::WebError;
use crate::views;

/// An uploaded file on disk, in a directory of its own that is removed when this is
/// dropped (after the import, or when the request fails).
pub struct Spooled {
    /// Kept for its `Drop`: removes the directory and the file.
    _dir: tempfile::TempDir,
    pub path: PathBuf,
    /// The name the sender gave it (sanitized by the use-case).
    pub name: String,
    pub size: u64,
    /// Line feeds in the file: for a CSV, about its rows (quoted line breaks aside).
    pub lines: u64,
}

/// Writes chunks to a fresh file, refusing once `limit` bytes are passed.
pub struct Spool {
    dir: tempfile::TempDir,
    path: PathBuf,
    file: tokio::fs::File,
    size: u64,
    lines: u64,
    limit: u64,
}

impl Spool {
    pub async fn new(parent: PathBuf, limit: u64) -> Result<Self, WebError> {
        let dir = tempfile::Builder::new().prefix(".upload-").tempdir_in(&parent).map_err(|e| WebError::Internal(format!("{}: {e}", parent.display())))?;
        let path = dir.path().join("upload");
        let file = tokio::fs::File::create(&path).await.map_err(|e| WebError::Internal(format!("{}: {e}", path.display())))?;
        Ok(Self { dir, path, file, size: 0, lines: 0, limit })
    }

    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), WebError> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(too_large(self.limit));
        }
        // Once over each byte of an upload: not worth another crate.
        #[allow(clippy::naive_bytecount)]
        let lines = chunk.iter().filter(|b| **b == b'\n').count() as u64;
        self.lines += lines;
        self.file.write_all(chunk).await.map_err(|e| WebError::Internal(format!("{}: {e}", self.path.display())))
    }

    pub async fn finish(mut self, name: String) -> Result<Spooled, WebError> {
        self.file.flush().await.map_err(|e| WebError::Internal(format!("{}: {e}", self.path.display())))?;
        drop(self.file);
        Ok(Spooled { _dir: self.dir, path: self.path, name, size: self.size, lines: self.lines })
    }
}

pub fn too_large(limit: u64) -> WebError {
    WebError::TooLarge(format!("文件超过上限 {}(可在配置 max_dataset_bytes 中调整);未导入任何内容。", views::size(i64::try_from(limit).unwrap_or(i64::MAX))))
}

/// A raw request body to a file.
pub async fn body(body: Body, parent: PathBuf, limit: u64, name: String) -> Result<Spooled, WebError> {
    let mut spool = Spool::new(parent, limit).await?;
    let mut body = std::pin::pin!(body);
    while let Some(frame) = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
        let frame = frame.map_err(|e| {
            tracing::warn!(error = %e, "upload body could not be read");
            WebError::BadRequest("上传中断,请重试;未导入任何内容。".to_owned())
        })?;
        if let Ok(data) = frame.into_data() {
            let data: Bytes = data;
            spool.write(&data).await?;
        }
    }
    spool.finish(name).await
}
