//! Key files: random bytes created once, readable by the service's user only.

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The bytes of the base64 key file at `path`, created with `len` random bytes (file mode 0600) when it does not
/// exist yet.
///
/// # Errors
/// When the file cannot be read or created, or holds something other than `len` base64-encoded bytes.
pub fn load_or_create(path: &Path, len: usize) -> anyhow::Result<Vec<u8>> {
    match fs::read_to_string(path) {
        Ok(text) => decode(&text, len).with_context(|| format!("reading the key file {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(path, len),
        Err(e) => Err(e).with_context(|| format!("reading the key file {}", path.display())),
    }
}

/// Decodes `len` bytes from base64 text (surrounding whitespace ignored).
///
/// # Errors
/// When the text is not base64 or does not hold exactly `len` bytes.
pub fn decode(text: &str, len: usize) -> anyhow::Result<Vec<u8>> {
    let bytes = STANDARD.decode(text.trim()).context("the key is not valid base64")?;
    if bytes.len() != len {
        bail!("the key must be {len} bytes, it is {}", bytes.len());
    }
    Ok(bytes)
}

/// `len` random bytes from the operating system.
///
/// # Errors
/// When the operating system's random source fails.
pub fn random(len: usize) -> anyhow::Result<Vec<u8>> {
    use aes_gcm::aead::rand_core::RngCore;
    let mut bytes = vec![0u8; len];
    aes_gcm::aead::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| anyhow::anyhow!("the operating system's random source failed: {e}"))?;
    Ok(bytes)
}

fn options() -> fs::OpenOptions {
    let mut options = fs::OpenOptions::new();
    options.write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

fn write(file: &mut fs::File, key: &[u8]) -> std::io::Result<()> {
    file.write_all(STANDARD.encode(key).as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

/// Writes `key` to a new key file at `path` (mode 0600).
///
/// # Errors
/// When the file exists already or cannot be written.
pub fn write_new(path: &Path, key: &[u8]) -> anyhow::Result<()> {
    let mut file =
        options().create_new(true).open(path).with_context(|| format!("creating the key file {}", path.display()))?;
    write(&mut file, key).with_context(|| format!("writing the key file {}", path.display()))
}

/// Replaces the key file at `path` with `key` atomically (a temporary file renamed over it).
///
/// # Errors
/// When the file cannot be written or renamed.
pub fn replace(path: &Path, key: &[u8]) -> anyhow::Result<()> {
    let temporary = path.with_extension("tmp");
    let _ = fs::remove_file(&temporary);
    write_new(&temporary, key)?;
    fs::rename(&temporary, path).with_context(|| format!("replacing the key file {}", path.display()))
}

fn create(path: &Path, len: usize) -> anyhow::Result<Vec<u8>> {
    if let Some(parent) = path.parent() {
        crate::data_dir::create(parent)?;
    }
    let bytes = random(len)?;
    match write_new(path, &bytes) {
        Ok(()) => {
            tracing::info!(path = %path.display(), "created a new key file");
            Ok(bytes)
        }
        // Another process created it first: use theirs.
        Err(_) if path.exists() => load_or_create(path, len),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_created_once_with_mode_0600_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/encryption.key");
        let first = load_or_create(&path, 32).unwrap();
        assert_eq!(first.len(), 32);
        assert_eq!(load_or_create(&path, 32).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn a_key_of_the_wrong_size_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("short.key");
        fs::write(&path, STANDARD.encode([1u8; 16])).unwrap();
        let err = load_or_create(&path, 32).unwrap_err();
        assert!(format!("{err:#}").contains("must be 32 bytes"), "{err:#}");
    }
}
