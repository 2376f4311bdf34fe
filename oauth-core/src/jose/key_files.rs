//! The file operations a key directory is built on: private files written atomically,
//! bounded reads, and I/O errors that name their path.
//!
//! A write goes to a fresh temporary file in the same directory, is flushed to disk, and
//! is renamed over the target; the directory is then flushed too (on unix), so that after
//! a crash the target holds either its old contents or its new ones, never a mix.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::path::Path;

use ring::rand::{SecureRandom as _, SystemRandom};

use super::key_error::KeyError;

/// An I/O error as a [`KeyError`]: what was being done, where, and the error's kind.
pub(super) fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> KeyError {
    let path = path.display().to_string();
    move |error| KeyError::Io {
        action,
        path,
        kind: error.kind(),
    }
}

/// Creates the directory `path` (and its parents) if it is missing, mode 0700 on unix so
/// that only the owner can list the key files. An existing directory must not be writable
/// by group or others (on unix): whoever can write there could plant a manifest and a
/// key of their own, and tokens signed with it would verify.
pub(super) fn ensure_private_dir(path: &Path) -> Result<(), KeyError> {
    match fs::metadata(path) {
        Ok(metadata) if metadata.is_dir() => return refuse_shared(path, &metadata, 0o022),
        Ok(_) => {
            return Err(KeyError::Io {
                action: "use as a key directory",
                path: path.display().to_string(),
                kind: io::ErrorKind::NotADirectory,
            })
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(io_error("inspect", path)(error)),
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(path).map_err(io_error("create", path))
}

/// Reads the file at `path`, at most `limit + 1` bytes (so a caller can tell a file over
/// the limit), or `None` when there is no such file.
pub(super) fn read_bounded(path: &Path, limit: usize) -> Result<Option<Vec<u8>>, KeyError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(io_error("open", path)(error)),
    };
    let metadata = file.metadata().map_err(io_error("inspect", path))?;
    // Key files and the manifest are the owner's alone; one others may write is refused.
    refuse_shared(path, &metadata, 0o022)?;
    let mut contents = Vec::new();
    let cap = u64::try_from(limit).map_or(u64::MAX, |l| l.saturating_add(1));
    file.take(cap)
        .read_to_end(&mut contents)
        .map_err(io_error("read", path))?;
    Ok(Some(contents))
}

/// Writes `contents` to `dir/name` atomically, as a file only its owner can read (mode
/// 0600 on unix), replacing any file of that name.
pub(super) fn write_private_atomically(
    dir: &Path,
    name: &str,
    contents: &[u8],
) -> Result<(), KeyError> {
    let target = dir.join(name);
    let temp = dir.join(format!(".{name}.{}.tmp", random_suffix()?));
    let written = write_new_private(&temp, contents)
        .and_then(|()| fs::rename(&temp, &target).map_err(io_error("replace", &target)));
    if written.is_err() {
        // Best effort: a leftover temporary file is harmless, and the first error is the
        // one to report.
        let _ = fs::remove_file(&temp);
    }
    written?;
    sync_dir(dir)
}

/// Removes the file at `path`; one already gone is not an error.
pub(super) fn remove(path: &Path) -> Result<(), KeyError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(io_error("remove", path)(error)),
    }
}

fn write_new_private(path: &Path, contents: &[u8]) -> Result<(), KeyError> {
    let mut options = OpenOptions::new();
    // `create_new`: never write through a file (or a symlink) someone placed there.
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io_error("create", path))?;
    file.write_all(contents).map_err(io_error("write", path))?;
    file.sync_all().map_err(io_error("flush", path))
}

/// Flushes the directory entry of a rename to disk. Only unix can open a directory for
/// this; elsewhere the rename is left to the file system.
fn sync_dir(dir: &Path) -> Result<(), KeyError> {
    #[cfg(unix)]
    {
        let handle = File::open(dir).map_err(io_error("open", dir))?;
        match handle.sync_all() {
            Ok(()) => {}
            // Some file systems cannot flush a directory; the rename itself has happened.
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::InvalidInput | io::ErrorKind::Unsupported
                ) => {}
            Err(error) => return Err(io_error("flush", dir)(error)),
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// A random suffix, so that two writers (or a crashed one) never share a temporary file.
fn random_suffix() -> Result<String, KeyError> {
    let mut bytes = [0u8; 8];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| KeyError::Random)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Refuses `path` when its mode grants any of `bits` (unix; elsewhere nothing is checked).
fn refuse_shared(path: &Path, metadata: &fs::Metadata, bits: u32) -> Result<(), KeyError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if metadata.permissions().mode() & bits != 0 {
            return Err(KeyError::Io {
                action: "trust (writable by group or others)",
                path: path.display().to_string(),
                kind: io::ErrorKind::PermissionDenied,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = (path, metadata, bits);
    Ok(())
}
