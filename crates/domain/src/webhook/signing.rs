//! Standard Webhooks 1.0 signatures: the signing secret, the `webhook-signature` header, and its check — which a
//! receiver reuses.

/// A webhook's signing secret: the key of Standard Webhooks 1.0, written `whsec_<base64 of the key>`.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(Vec<u8>);

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret([REDACTED])")
    }
}

/// The prefix of a written secret.
const SECRET_PREFIX: &str = "whsec_";

impl SigningSecret {
    /// A secret of the key `key` (the service makes them of 32 random bytes).
    #[must_use]
    pub fn from_key(key: Vec<u8>) -> Self {
        Self(key)
    }

    /// Reads a written secret (`whsec_…`; the prefix may be left off, as the spec's libraries allow).
    ///
    /// # Errors
    /// [`SecretFormat`] when the rest is not base64 of 24 to 64 bytes.
    pub fn parse(written: &str) -> Result<Self, SecretFormat> {
        use base64::Engine;
        let encoded = written.strip_prefix(SECRET_PREFIX).unwrap_or(written);
        let key = base64::engine::general_purpose::STANDARD.decode(encoded).map_err(|_| SecretFormat)?;
        if (24..=64).contains(&key.len()) { Ok(Self(key)) } else { Err(SecretFormat) }
    }

    /// The secret as shown once to its owner: `whsec_<base64>`.
    #[must_use]
    pub fn expose(&self) -> String {
        use base64::Engine;
        format!("{SECRET_PREFIX}{}", base64::engine::general_purpose::STANDARD.encode(&self.0))
    }

    /// The key's bytes (to store them encrypted).
    #[must_use]
    pub fn key(&self) -> &[u8] {
        &self.0
    }

    /// The signature of a delivery: `v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`.
    #[must_use]
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        use base64::Engine;
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// A written secret that is not `whsec_` and base64 of 24 to 64 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a signing secret is whsec_ and the base64 of 24 to 64 bytes")]
pub struct SecretFormat;

/// The `webhook-signature` header of a delivery: one signature a secret, space-separated (the current secret, then
/// the previous one while it still signs).
#[must_use]
pub fn signature_header(secrets: &[&SigningSecret], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets.iter().map(|secret| secret.sign(id, timestamp, body)).collect::<Vec<_>>().join(" ")
}

/// Whether `header` (a `webhook-signature`) holds a `v1` signature of the delivery by `secret`: what a receiver
/// checks (with its own check of the timestamp's age). Compared in constant time.
#[must_use]
pub fn verify(secret: &SigningSecret, header: &str, id: &str, timestamp: i64, body: &[u8]) -> bool {
    use base64::Engine;
    use hmac::Mac;
    header.split(' ').filter_map(|entry| entry.strip_prefix("v1,")).any(|signature| {
        let Ok(signature) = base64::engine::general_purpose::STANDARD.decode(signature) else { return false };
        let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.key()) else { return false };
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        mac.verify_slice(&signature).is_ok()
    })
}
