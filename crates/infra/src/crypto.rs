//! Secrets at rest: AES-256-GCM, a random nonce per value, the key id stored beside each value.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use anyhow::{Context, anyhow, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use sha2::{Digest, Sha256};

const VERSION: &str = "v1";
const NONCE_LEN: usize = 12;

/// Encrypts and decrypts secret values with one 256-bit key.
///
/// A stored value reads `v1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>`; the key id (the first 8 hex digits of
/// the key's SHA-256) tells which key a value needs, and the associated data (the owning record's id) binds a value
/// to its row, so that a ciphertext copied to another row does not decrypt.
#[derive(Clone)]
pub struct SecretCipher {
    cipher: Aes256Gcm,
    key_id: String,
}

impl std::fmt::Debug for SecretCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretCipher").field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

impl SecretCipher {
    /// The length of a key, in bytes.
    pub const KEY_LEN: usize = 32;

    /// A cipher over `key`.
    ///
    /// # Errors
    /// When `key` is not 32 bytes.
    pub fn new(key: &[u8]) -> anyhow::Result<Self> {
        if key.len() != Self::KEY_LEN {
            bail!("an encryption key must be {} bytes, this one is {}", Self::KEY_LEN, key.len());
        }
        let digest = Sha256::digest(key);
        let key_id = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        Ok(Self { cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key)), key_id })
    }

    /// The id of the key, as stored beside each value.
    #[must_use]
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Encrypts `plaintext`, bound to `associated` (the owning record's id).
    ///
    /// # Errors
    /// Only if the cipher fails, which AES-GCM does not for inputs of this size.
    pub fn encrypt(&self, plaintext: &[u8], associated: &[u8]) -> anyhow::Result<String> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(&nonce, Payload { msg: plaintext, aad: associated })
            .map_err(|_| anyhow!("encryption failed"))?;
        let mut bytes = Vec::with_capacity(NONCE_LEN + sealed.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        Ok(format!("{VERSION}:{}:{}", self.key_id, STANDARD_NO_PAD.encode(bytes)))
    }

    /// Decrypts a value made by [`SecretCipher::encrypt`] with the same key and associated data.
    ///
    /// # Errors
    /// When the value is malformed, was made with another key, or was tampered with.
    pub fn decrypt(&self, stored: &str, associated: &[u8]) -> anyhow::Result<Vec<u8>> {
        let mut parts = stored.splitn(3, ':');
        let (Some(VERSION), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
            bail!("not an encrypted value");
        };
        if key_id != self.key_id {
            bail!("the value was encrypted with key {key_id}, not with the configured key {}", self.key_id);
        }
        let bytes = STANDARD_NO_PAD.decode(body).context("the encrypted value is not base64")?;
        if bytes.len() < NONCE_LEN {
            bail!("the encrypted value is truncated");
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        self.cipher
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
    fn keys_must_be_32_bytes() {
        assert!(SecretCipher::new(&[0; 16]).is_err());
    }
}
