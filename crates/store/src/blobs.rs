//! Evidence files on disk, stored once by content (SHA-256).
//!
//! A file is never partially written: it is copied to a temporary file in the same
//! directory while hashed, synced, checked against its size limit, renamed into place
//! (`ab/abcdef…`), and the directory synced. Readers verify the hash.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::StoreError;

/// A stored file's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    pub sha256: String,
    pub size: u64,
    /// Sniffed from the content, not trusted from the name.
    pub media_type: String,
}

/// The directory of evidence files.
#[derive(Debug, Clone)]
pub struct Blobs {
    dir: PathBuf,
}

impl Blobs {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the file with this hash lives.
    pub fn path_of(&self, sha256: &str) -> PathBuf {
        let (head, _) = sha256.split_at(2.min(sha256.len()));
        self.dir.join(head).join(sha256)
    }

    /// Copies `source` into the store; refuses it whole if it exceeds `limit` bytes.
    pub fn put(&self, source: &mut dyn Read, limit: u64) -> Result<BlobInfo, StoreError> {
        let tmp_dir = self.dir.join("tmp");
        fs::create_dir_all(&tmp_dir).map_err(|e| io_error(&tmp_dir, e))?;
        let mut tmp = tempfile_in(&tmp_dir)?;
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut head = Vec::with_capacity(8192);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = source.read(&mut buf).map_err(|e| io_error(&tmp.path, e))?;
            if n == 0 {
                break;
            }
            size += n as u64;
            if size > limit {
                drop(tmp);
                return Err(StoreError::TooLarge { limit });
            }
            if head.len() < 8192 {
                head.extend_from_slice(&buf[..n.min(8192 - head.len())]);
            }
            hasher.update(&buf[..n]);
            tmp.file.write_all(&buf[..n]).map_err(|e| io_error(&tmp.path, e))?;
        }
        tmp.file.sync_all().map_err(|e| io_error(&tmp.path, e))?;
        let sha256 = hex(&hasher.finalize());
        let media_type = sniff(&head);
        let target = self.path_of(&sha256);
        if target.exists() && self.verify(&sha256).is_ok() {
            // Stored already: duplicates are kept once.
            drop(tmp);
            return Ok(BlobInfo { sha256, size, media_type });
        }
        let parent = target.parent().unwrap_or(&self.dir).to_path_buf();
        fs::create_dir_all(&parent).map_err(|e| io_error(&parent, e))?;
        let tmp_path = tmp.keep();
        fs::rename(&tmp_path, &target).map_err(|e| io_error(&target, e))?;
        sync_dir(&parent)?;
        self.verify(&sha256)?;
        Ok(BlobInfo { sha256, size, media_type })
    }

    /// Reads a stored file and checks that its content still has its hash.
    pub fn read(&self, sha256: &str) -> Result<Vec<u8>, StoreError> {
        let path = self.path_of(sha256);
        let bytes = fs::read(&path).map_err(|e| io_error(&path, e))?;
        if hex(&Sha256::digest(&bytes)) == sha256 {
            Ok(bytes)
        } else {
            Err(StoreError::Corrupt(format!("{} does not match its SHA-256", path.display())))
        }
    }

    /// Checks a stored file's hash without keeping its content.
    pub fn verify(&self, sha256: &str) -> Result<(), StoreError> {
        let path = self.path_of(sha256);
        let mut file = File::open(&path).map_err(|e| io_error(&path, e))?;
        let mut hasher = Sha256::new();
        io::copy(&mut file, &mut hasher).map_err(|e| io_error(&path, e))?;
        if hex(&hasher.finalize()) == sha256 {
            Ok(())
        } else {
            Err(StoreError::Corrupt(format!("{} does not match its SHA-256", path.display())))
        }
    }
}

/// A temporary file removed on drop unless kept.
struct Temp {
    path: PathBuf,
    file: File,
    keep: bool,
}

impl Temp {
    fn keep(mut self) -> PathBuf {
        self.keep = true;
        self.path.clone()
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.keep {
            let _ = fs::remove_file(&self.path);
        }
    }
}

fn tempfile_in(dir: &Path) -> Result<Temp, StoreError> {
    for attempt in 0..100u32 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = dir.join(format!("upload-{}-{nanos}-{attempt}", std::process::id()));
        match fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => return Ok(Temp { path, file, keep: false }),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_error(&path, e)),
        }
    }
    Err(StoreError::Io(format!("cannot create a temporary file in {}", dir.display())))
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io_error(dir, e))
}

#[allow(clippy::needless_pass_by_value)] // used as `map_err(|e| io_error(path, e))`
pub(crate) fn io_error(path: &Path, e: io::Error) -> StoreError {
    StoreError::Io(format!("{}: {e}", path.display()))
}

/// Lower-case hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The media type of a file from its first bytes; text if it is valid UTF-8.
pub fn sniff(head: &[u8]) -> String {
    if let Some(kind) = infer::get(head) {
        return kind.mime_type().to_owned();
    }
    if head.is_empty() {
        return "application/octet-stream".to_owned();
    }
    // A cut in the middle of a UTF-8 sequence at the end of the head is still text.
    let text = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && e.valid_up_to() + 4 > head.len(),
    };
    if text { "text/plain".to_owned() } else { "application/octet-stream".to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_common_evidence_types() {
        assert_eq!(sniff(b"%PDF-1.7\n"), "application/pdf");
        assert_eq!(sniff(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]), "image/png");
        assert_eq!(sniff("会议纪要".as_bytes()), "text/plain");
        assert_eq!(sniff(&[0, 159, 146, 150]), "application/octet-stream");
    }

    #[test]
    fn duplicates_are_stored_once_and_limits_hold() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let blobs = Blobs::new(dir.path().join("evidence"));
        let a = blobs.put(&mut &b"same bytes"[..], 100).unwrap_or_else(|e| panic!("{e}"));
        let b = blobs.put(&mut &b"same bytes"[..], 100).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a, b);
        assert_eq!(blobs.read(&a.sha256).unwrap_or_default(), b"same bytes");
        let too_big = blobs.put(&mut &[7u8; 101][..], 100);
        assert!(matches!(too_big, Err(StoreError::TooLarge { limit: 100 })));
        // Nothing half-written is left behind.
        let leftovers = fs::read_dir(dir.path().join("evidence/tmp")).map_or(0, Iterator::count);
        assert_eq!(leftovers, 0);
    }
}
