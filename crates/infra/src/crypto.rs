//! Secrets at rest: AES-256-GCM, a random nonce per value, the key id stored beside each value, and a keyring so
//! that keys can be rotated while the service runs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use anyhow::{Context, anyhow, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use sha2::{Digest, Sha256};

use crate::key_file;

const VERSION: &str = "v1";
const NONCE_LEN: usize = 12;
/// The file of the current key in a data folder; other keys sit beside it as `encryption.key.<key id>`.
pub const KEY_FILE: &str = "encryption.key";
/// The shortest time between two reloads of a key folder.
const RELOAD_EVERY: Duration = Duration::from_secs(5);

/// The id of a key: the first 8 hex digits of its SHA-256.
#[must_use]
pub fn key_id(key: &[u8]) -> String {
    Sha256::digest(key)[..4].iter().map(|b| format!("{b:02x}")).collect()
}

/// The id of the key a stored value was encrypted with.
#[must_use]
pub fn key_id_of(stored: &str) -> Option<&str> {
    let mut parts = stored.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(VERSION), Some(id), Some(_)) => Some(id),
        _ => None,
    }
}

#[derive(Clone)]
struct Keyring {
    current: String,
    keys: HashMap<String, Aes256Gcm>,
}

impl Keyring {
    fn new(current: &[u8], others: &[Vec<u8>]) -> anyhow::Result<Self> {
        let mut keys = HashMap::new();
        for key in others.iter().map(Vec::as_slice).chain([current]) {
            if key.len() != SecretCipher::KEY_LEN {
                bail!("an encryption key must be {} bytes, this one is {}", SecretCipher::KEY_LEN, key.len());
            }
            keys.insert(key_id(key), Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key)));
        }
        Ok(Self { current: key_id(current), keys })
    }

    /// The keys of a data folder: `encryption.key` (created when missing) and every `encryption.key.<id>`.
    fn from_dir(dir: &Path) -> anyhow::Result<Self> {
        let current = key_file::load_or_create(&dir.join(KEY_FILE), SecretCipher::KEY_LEN)?;
        let mut others = Vec::new();
        let prefix = format!("{KEY_FILE}.");
        for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if name.strip_prefix(&prefix).is_some_and(|id| id.len() == 8 && id.bytes().all(|b| b.is_ascii_hexdigit())) {
                others.push(key_file::load_or_create(&path, SecretCipher::KEY_LEN)?);
            }
        }
        Self::new(&current, &others)
    }
}

/// Where a keyring is reloaded from when a value names a key it does not hold (a rotation under way).
struct Reload {
    dir: PathBuf,
    last: Mutex<Option<Instant>>,
}

/// Encrypts with the current key and decrypts with any key of its keyring.
///
/// A stored value reads `v1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>`; the associated data (the owning record's
/// id) binds a value to its row, so that a ciphertext copied to another row does not decrypt.
#[derive(Clone)]
pub struct SecretCipher {
    keyring: Arc<RwLock<Keyring>>,
    reload: Option<Arc<Reload>>,
}

impl std::fmt::Debug for SecretCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretCipher").field("key_id", &self.key_id()).finish_non_exhaustive()
    }
}

impl SecretCipher {
    /// The length of a key, in bytes.
    pub const KEY_LEN: usize = 32;

    /// A cipher with one key.
    ///
    /// # Errors
    /// When `key` is not 32 bytes.
    pub fn new(key: &[u8]) -> anyhow::Result<Self> {
        Self::with_previous(key, &[])
    }

    /// A cipher that encrypts with `current` and also decrypts values of the `previous` keys.
    ///
    /// # Errors
    /// When a key is not 32 bytes.
    pub fn with_previous(current: &[u8], previous: &[Vec<u8>]) -> anyhow::Result<Self> {
        Ok(Self { keyring: Arc::new(RwLock::new(Keyring::new(current, previous)?)), reload: None })
    }

    /// The keys of the data folder `dir` (`encryption.key`, created on first start with mode 0600, and any
    /// `encryption.key.<id>` beside it); reloaded when a value names a key it does not hold.
    ///
    /// # Errors
    /// When the folder or a key file cannot be read.
    pub fn from_dir(dir: &Path) -> anyhow::Result<Self> {
        Ok(Self {
            keyring: Arc::new(RwLock::new(Keyring::from_dir(dir)?)),
            reload: Some(Arc::new(Reload { dir: dir.to_owned(), last: Mutex::new(None) })),
        })
    }

    /// This cipher with `new_key` as the current key, every key of this one still decrypting.
    ///
    /// # Errors
    /// When `new_key` is not 32 bytes.
    pub fn rotated_to(&self, new_key: &[u8]) -> anyhow::Result<Self> {
        let mut keyring = self.keyring.read().unwrap_or_else(PoisonError::into_inner).clone();
        let new = Keyring::new(new_key, &[])?;
        keyring.current.clone_from(&new.current);
        keyring.keys.extend(new.keys);
        Ok(Self { keyring: Arc::new(RwLock::new(keyring)), reload: None })
    }

    /// The id of the key new values are encrypted with.
    #[must_use]
    pub fn key_id(&self) -> String {
        self.keyring.read().unwrap_or_else(PoisonError::into_inner).current.clone()
    }

    /// Encrypts `plaintext` with the current key, bound to `associated` (the owning record's id).
    ///
    /// # Errors
    /// Only if the cipher fails, which AES-GCM does not for inputs of this size.
    pub fn encrypt(&self, plaintext: &[u8], associated: &[u8]) -> anyhow::Result<String> {
        let keyring = self.keyring.read().unwrap_or_else(PoisonError::into_inner);
        let cipher = keyring.keys.get(&keyring.current).ok_or_else(|| anyhow!("the current key is missing"))?;
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = cipher
            .encrypt(&nonce, Payload { msg: plaintext, aad: associated })
            .map_err(|_| anyhow!("encryption failed"))?;
        let mut bytes = Vec::with_capacity(NONCE_LEN + sealed.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        Ok(format!("{VERSION}:{}:{}", keyring.current, STANDARD_NO_PAD.encode(bytes)))
    }

    /// The key `id`, reloading the key folder once if it is not held yet.
    fn key(&self, id: &str) -> anyhow::Result<Aes256Gcm> {
        if let Some(key) = self.keyring.read().unwrap_or_else(PoisonError::into_inner).keys.get(id) {
            return Ok(key.clone());
        }
        if let Some(reload) = &self.reload {
            let mut last = reload.last.lock().unwrap_or_else(PoisonError::into_inner);
            if last.is_none_or(|at| at.elapsed() >= RELOAD_EVERY) {
                *last = Some(Instant::now());
                let mut keyring = Keyring::from_dir(&reload.dir)?;
                // Keep encrypting with the key this process started with until it restarts.
                keyring.current = self.key_id();
                if keyring.keys.contains_key(&keyring.current) {
                    let key = keyring.keys.get(id).cloned();
                    *self.keyring.write().unwrap_or_else(PoisonError::into_inner) = keyring;
                    if let Some(key) = key {
                        tracing::info!(key_id = id, "loaded a new encryption key");
                        return Ok(key);
                    }
                }
            }
        }
        bail!("the value was encrypted with key {id}, which this service does not hold")
    }

    /// Decrypts a value made by [`SecretCipher::encrypt`] with any key of the keyring.
    ///
    /// # Errors
    /// When the value is malformed, its key is unknown, or it was tampered with.
    pub fn decrypt(&self, stored: &str, associated: &[u8]) -> anyhow::Result<Vec<u8>> {
        let Some(id) = key_id_of(stored) else { bail!("not an encrypted value") };
        let body = stored.splitn(3, ':').nth(2).unwrap_or_default();
        let cipher = self.key(id)?;
        let bytes = STANDARD_NO_PAD.decode(body).context("the encrypted value is not base64")?;
        if bytes.len() < NONCE_LEN {
            bail!("the encrypted value is truncated");
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: associated })
            .map_err(|_| anyhow!("the encrypted value does not authenticate (wrong key or tampered)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher(byte: u8) -> SecretCipher {
        SecretCipher::new(&[byte; 32]).unwrap()
    }

    #[test]
    fn round_trips_and_hides_the_plaintext() {
        let stored = cipher(7).encrypt(b"ABCDEF", b"row-1").unwrap();
        assert!(stored.starts_with(&format!("v1:{}:", cipher(7).key_id())));
        assert_eq!(key_id_of(&stored), Some(cipher(7).key_id().as_str()));
        assert!(!stored.contains("ABCDEF"));
        assert_eq!(cipher(7).decrypt(&stored, b"row-1").unwrap(), b"ABCDEF");
    }

    #[test]
    fn each_value_gets_its_own_nonce() {
        assert_ne!(cipher(7).encrypt(b"same", b"r").unwrap(), cipher(7).encrypt(b"same", b"r").unwrap());
    }

    #[test]
    fn another_key_another_row_or_a_tampered_value_does_not_decrypt() {
        let stored = cipher(7).encrypt(b"secret", b"row-1").unwrap();
        assert!(cipher(8).decrypt(&stored, b"row-1").is_err(), "another key");
        assert!(cipher(7).decrypt(&stored, b"row-2").is_err(), "another row");
        let mut tampered = stored.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(cipher(7).decrypt(std::str::from_utf8(&tampered).unwrap(), b"row-1").is_err(), "tampered");
        assert!(cipher(7).decrypt("plain text", b"row-1").is_err(), "not encrypted");
    }

    #[test]
    fn a_rotated_cipher_encrypts_with_the_new_key_and_reads_both() {
        let old = cipher(7);
        let before = old.encrypt(b"old", b"r").unwrap();
        let rotated = old.rotated_to(&[9; 32]).unwrap();
        assert_eq!(rotated.key_id(), key_id(&[9; 32]));
        let after = rotated.encrypt(b"new", b"r").unwrap();
        assert_eq!(rotated.decrypt(&before, b"r").unwrap(), b"old");
        assert_eq!(rotated.decrypt(&after, b"r").unwrap(), b"new");
        assert!(old.decrypt(&after, b"r").is_err(), "the old cipher alone does not know the new key");
        let previous = SecretCipher::with_previous(&[9; 32], &[vec![7; 32]]).unwrap();
        assert_eq!(previous.decrypt(&before, b"r").unwrap(), b"old");
    }

    #[test]
    fn a_key_folder_is_reloaded_when_a_value_names_a_new_key() {
        let dir = tempfile::tempdir().unwrap();
        let running = SecretCipher::from_dir(dir.path()).unwrap();
        let started_with = running.key_id();
        // Another process adds a key and writes with it.
        let new_key = [5u8; 32];
        std::fs::write(
            dir.path().join(format!("{KEY_FILE}.{}", key_id(&new_key))),
            base64::engine::general_purpose::STANDARD.encode(new_key),
        )
        .unwrap();
        let written = SecretCipher::new(&new_key).unwrap().encrypt(b"rotated", b"r").unwrap();
        assert_eq!(running.decrypt(&written, b"r").unwrap(), b"rotated");
        assert_eq!(running.key_id(), started_with, "it keeps encrypting with its own key until restarted");
    }

    #[test]
    fn keys_must_be_32_bytes() {
        assert!(SecretCipher::new(&[0; 16]).is_err());
    }
}
