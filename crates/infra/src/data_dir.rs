//! The data folder of the embedded defaults (key files, the SQLite database): nobody's to read but the service's
//! user, whatever the umask.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// The SQLite database file of the data folder `dir`.
#[must_use]
pub fn sqlite_file(dir: &Path) -> PathBuf {
    dir.join("pbx.db")
}

/// Creates the folder `dir` and its missing parents with mode 0700 (an existing folder keeps its mode: the operator
/// chose it).
///
/// # Errors
/// When a folder cannot be created.
pub fn create(dir: &Path) -> anyhow::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).with_context(|| format!("creating the data folder {}", dir.display()))
}

/// Makes the SQLite database `file` private before SQLite opens it: created empty with mode 0600 when missing
/// (SQLite gives its `-wal` and `-shm` files the database file's mode), or brought to 0600 with its `-wal` and
/// `-shm` when an earlier release left them readable by others (0644 under the usual umask).
///
/// # Errors
/// When the file cannot be created or its mode changed.
pub fn private_sqlite_file(file: &Path) -> anyhow::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(file).with_context(|| format!("creating {}", file.display()))?;
    #[cfg(unix)]
    for suffix in ["", "-wal", "-shm"] {
        use std::os::unix::fs::PermissionsExt;
        let path = PathBuf::from(format!("{}{suffix}", file.display()));
        let Ok(metadata) = fs::metadata(&path) else { continue };
        if metadata.permissions().mode() & 0o077 != 0 {
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600))
                .with_context(|| format!("making {} private (mode 0600)", path.display()))?;
            tracing::info!(path = %path.display(), "made private (mode 0600)");
        }
    }
    Ok(())
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::database::sqlite_url;
    use crate::{Database, PoolSettings};

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[tokio::test]
    async fn the_folder_and_every_database_file_are_private() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data").join("pbx");
        create(&dir).unwrap();
        assert_eq!((mode(&dir), mode(dir.parent().unwrap())), (0o700, 0o700));
        private_sqlite_file(&sqlite_file(&dir)).unwrap();
        let db = Database::connect(&sqlite_url(&dir), &PoolSettings::default()).await.unwrap();
        db.migrate().await.unwrap();
        for name in ["pbx.db", "pbx.db-wal", "pbx.db-shm"] {
            assert_eq!(mode(&dir.join(name)), 0o600, "{name}");
        }
        db.close().await.unwrap();
    }

    #[test]
    fn files_an_earlier_release_left_readable_are_made_private() {
        let dir = tempfile::tempdir().unwrap();
        let file = sqlite_file(dir.path());
        for name in ["pbx.db", "pbx.db-wal"] {
            fs::write(dir.path().join(name), b"").unwrap();
            fs::set_permissions(dir.path().join(name), fs::Permissions::from_mode(0o644)).unwrap();
        }
        private_sqlite_file(&file).unwrap();
        assert_eq!((mode(&file), mode(&dir.path().join("pbx.db-wal"))), (0o600, 0o600));
    }
}
