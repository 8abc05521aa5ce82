//! Credentials: generating keys with the OS CSPRNG, digesting them for storage, comparing in
//! constant time. Keys carry 128–256 random bits, so a fast digest is as safe as a slow hash here.

use rand::{rngs::OsRng, TryRngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The three keys of a user, shown once at creation.
#[derive(Debug, Clone)]
pub struct IssuedKeys {
    pub access_key: String,
    pub secret_key: String,
    pub api_key: String,
}

impl IssuedKeys {
    pub fn generate() -> std::io::Result<IssuedKeys> {
        Ok(IssuedKeys {
            access_key: format!("u$r{}", random_hex(16)?),
            secret_key: random_hex(32)?,
            api_key: format!("ak_{}", random_hex(32)?),
        })
    }
}

fn random_hex(bytes: usize) -> std::io::Result<String> {
    let mut buf = vec![0u8; bytes];
    OsRng
        .try_fill_bytes(&mut buf)
        .map_err(|e| std::io::Error::other(format!("OS random source failed: {e}")))?;
    Ok(hex::encode(buf))
}

pub fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Constant-time comparison of a presented key with a stored digest.
pub fn matches(presented: &str, stored: &[u8]) -> bool {
    let d = digest(presented);
    stored.len() == d.len() && bool::from(d.as_slice().ct_eq(stored))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_the_documented_shapes_and_differ() {
        let a = IssuedKeys::generate().unwrap();
        let b = IssuedKeys::generate().unwrap();
        assert!(a.api_key.starts_with("ak_") && a.api_key.len() == 67);
        assert!(a.api_key[3..].chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(a.secret_key.len(), 64);
        assert_ne!(a.api_key, b.api_key);
        assert!(matches(&a.secret_key, &digest(&a.secret_key)));
        assert!(!matches(&b.secret_key, &digest(&a.secret_key)));
    }
}
