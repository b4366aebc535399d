//! Files the user asked for (exports, reports): written beside their target and renamed
//! into place only once complete and on disk, so a failure (a full disk, a failed final
//! flush) never leaves a partial file under the name the user will open.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{AppError, Result};

/// Writes `path` through `fill`, atomically: all of it, or nothing under that name.
pub fn write_atomically<T>(path: &Path, fill: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> Result<T>) -> Result<T> {
    let tmp = partial_name(path);
    let write_err = |source| AppError::FileWrite { path: path.to_path_buf(), source };
    let file = std::fs::File::create(&tmp).map_err(write_err)?;
    let mut writer = std::io::BufWriter::new(file);
    let result = fill(&mut writer).and_then(|value| {
        // The final flush is where a full disk shows itself: check it, never drop it.
        writer.flush().map_err(write_err)?;
        let file = writer.into_inner().map_err(|e| write_err(e.into_error()))?;
        file.sync_all().map_err(write_err)?;
        Ok(value)
    });
    match result {
        Ok(value) => {
            std::fs::rename(&tmp, path).map_err(write_err)?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                // Make the rename itself durable; a directory that cannot be opened is no error.
                if let Ok(d) = std::fs::File::open(dir) {
                    let _ = d.sync_all();
                }
            }
            Ok(value)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Writes bytes to `path` atomically.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically(path, |w| w.write_all(bytes).map_err(|source| AppError::FileWrite { path: path.to_path_buf(), source }))
}

/// Reads a file of the user's, as text; the error names the file and says why in Chinese.
pub fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| AppError::FileRead { path: path.to_path_buf(), source })
}

/// Reads a file of the user's, as bytes.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| AppError::FileRead { path: path.to_path_buf(), source })
}

fn partial_name(path: &Path) -> PathBuf {
    let name = path.file_name().map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.partial-{}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_nothing_under_the_name() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let out = dir.path().join("迎检材料.zip");
        std::fs::write(&out, b"the previous package").unwrap_or_else(|e| panic!("{e}"));
        let failed = write_atomically(&out, |w| {
            w.write_all(b"half of a package").map_err(|source| AppError::FileWrite { path: out.clone(), source })?;
            Err::<(), _>(AppError::FileWrite { path: out.clone(), source: std::io::Error::from(std::io::ErrorKind::StorageFull) })
        });
        assert!(matches!(failed, Err(AppError::FileWrite { .. })), "{failed:?}");
        assert_eq!(std::fs::read(&out).unwrap_or_default(), b"the previous package", "the old file is untouched");
        let left: Vec<_> = std::fs::read_dir(dir.path()).into_iter().flatten().flatten().map(|e| e.file_name()).collect();
        assert_eq!(left.len(), 1, "no partial file is left behind: {left:?}");
        write_file(&out, b"the new package").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(std::fs::read(&out).unwrap_or_default(), b"the new package");
    }
}
