//! The stored key of a PBX instance: what the uniqueness rule and the instance lookup compare.

use pbx_domain::InstanceId;
use sha2::{Digest, Sha256};

/// SHA-256 (64 hex digits) of the instance id's normal form ([`InstanceId::normal_form`]: NFKC, case folded).
///
/// A hash rather than the normal form itself: NFKC can make a 64-character id up to 18 times longer (U+FDFA), and
/// MySQL caps an index entry at 3,072 bytes; a fixed 64 characters fit every backend's unique index.
pub(crate) fn instance_key(instance_id: &str) -> String {
    use std::fmt::Write;
    let digest = Sha256::digest(InstanceId::normal_form(instance_id).as_bytes());
    digest.iter().fold(String::with_capacity(64), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_instance_share_a_key_of_64_hex_digits() {
        let key = instance_key("0123abcdef");
        assert_eq!(key.len(), 64);
        assert!(key.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(instance_key("0123ABCDEF"), key);
        assert_eq!(instance_key("０１２３ａｂｃｄｅｆ"), key);
        assert_ne!(instance_key("0123abcdee"), key);
        assert_eq!(instance_key(&"\u{fdfa}".repeat(64)).len(), 64, "fixed length whatever the expansion");
    }
}
