//! The SigV4 signing key of a (secret, date, region, service), derived by four HMACs,
//! and a small cache of the keys derived lately: every request of a client signs with
//! the same key until the date or its region changes.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{ALGORITHM, SCOPE_TERMINATOR};

type HmacSha256 = Hmac<Sha256>;

/// Keys kept by a [`SigningKeyCache`]: enough for every key of a deployment in a few
/// regions on two dates (around midnight UTC); the oldest is dropped first.
const CACHE_CAPACITY: usize = 64;

/// A signing key, its HMAC state keyed once: signing a string costs only its own
/// hashing.
#[derive(Clone)]
pub struct SigningKey {
    mac: HmacSha256,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

impl SigningKey {
    /// Derives the key of `secret` for the scope `date/region/service/aws4_request`.
    pub fn derive(secret: &str, date: &str, region: &str, service: &str) -> Self {
        let mut seed = Vec::with_capacity(4 + secret.len());
        seed.extend_from_slice(b"AWS4");
        seed.extend_from_slice(secret.as_bytes());
        let mut key = hmac(&seed, date.as_bytes());
        for part in [region, service, SCOPE_TERMINATOR] {
            key = hmac(&key, part.as_bytes());
        }
        Self::from_bytes(&key)
    }

    /// A key from its bytes.
    fn from_bytes(key: &[u8]) -> Self {
        Self { mac: keyed(key) }
    }

    /// A key that no signature matches (a chunk signer not yet completed).
    pub(super) fn unset() -> Self {
        Self::from_bytes(&[])
    }

    /// The lower-case hex HMAC-SHA256 of the concatenation of `parts`.
    pub fn sign(&self, parts: &[&[u8]]) -> [u8; 64] {
        let mut mac = self.mac.clone();
        for part in parts {
            mac.update(part);
        }
        let mut hex = [0u8; 64];
        // 32 bytes always fit in 64 hex digits: encoding cannot fail.
        let _ = hex::encode_to_slice(mac.finalize().into_bytes(), &mut hex);
        hex
    }

    /// The hex signature of a string to sign of the request form of SigV4:
    /// `AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex SHA-256 of the canonical request>`.
    pub(super) fn sign_request(
        &self,
        amz_date: &str,
        scope: [&str; 3],
        canonical_request_hash: &[u8; 64],
    ) -> [u8; 64] {
        let [date, region, service] = scope;
        self.sign(&[
            ALGORITHM.as_bytes(),
            b"\n",
            amz_date.as_bytes(),
            b"\n",
            date.as_bytes(),
            b"/",
            region.as_bytes(),
            b"/",
            service.as_bytes(),
            b"/",
            SCOPE_TERMINATOR.as_bytes(),
            b"\n",
            canonical_request_hash,
        ])
    }
}

fn keyed(key: &[u8]) -> HmacSha256 {
    match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC takes keys of any length.
        Err(_) => unreachable!("HMAC-SHA256 accepts every key length"),
    }
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = keyed(key);
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The signing keys derived lately, by access key, secret and scope: a key is found
/// only for the very secret it was derived from. Bounded by [`CACHE_CAPACITY`].
#[derive(Default)]
pub struct SigningKeyCache {
    /// Oldest first. The lock is held only to look up or add one entry.
    entries: Mutex<VecDeque<CachedKey>>,
}

struct CachedKey {
    access_key: String,
    secret: String,
    date: String,
    region: String,
    service: String,
    key: SigningKey,
}

impl SigningKeyCache {
    /// The key of `secret` (of `access_key`) for `date/region/service`, derived on
    /// first use.
    pub fn get(
        &self,
        access_key: &str,
        secret: &str,
        date: &str,
        region: &str,
        service: &str,
    ) -> SigningKey {
        let found = self.lock().iter().find_map(|entry| {
            (entry.access_key == access_key
                && entry.secret == secret
                && entry.date == date
                && entry.region == region
                && entry.service == service)
                .then(|| entry.key.clone())
        });
        if let Some(key) = found {
            return key;
        }
        let key = SigningKey::derive(secret, date, region, service);
        let mut entries = self.lock();
        if entries.len() >= CACHE_CAPACITY {
            entries.pop_front();
        }
        entries.push_back(CachedKey {
            access_key: access_key.to_owned(),
            secret: secret.to_owned(),
            date: date.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
            key: key.clone(),
        });
        key
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<CachedKey>> {
        // The entries are complete values: a panic elsewhere cannot leave one half-made.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A copy starts empty: keys are derived again on demand.
impl Clone for SigningKeyCache {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl std::fmt::Debug for SigningKeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyCache")
            .field("entries", &self.lock().len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's example key derivation ("Examples of how to derive a signing key for
    /// Signature Version 4"), checked by signing the empty string with both.
    #[test]
    fn derived_key_is_the_published_one() {
        let key = SigningKey::derive(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        );
        let published =
            hex::decode("f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d")
                .expect("hex");
        assert_eq!(
            key.sign(&[b"text"]),
            SigningKey::from_bytes(&published).sign(&[b"text"])
        );
    }

    #[test]
    fn cache_returns_the_key_of_the_same_secret_only() {
        let cache = SigningKeyCache::default();
        let sign = |secret: &str, region: &str| {
            cache
                .get("AKID", secret, "20260101", region, "glue")
                .sign(&[b"x"])
        };
        let alice = sign("alice-secret", "us-east-1");
        assert_eq!(sign("alice-secret", "us-east-1"), alice);
        assert_ne!(sign("other-secret", "us-east-1"), alice);
        assert_ne!(sign("alice-secret", "eu-west-1"), alice);
        assert_eq!(
            alice,
            SigningKey::derive("alice-secret", "20260101", "us-east-1", "glue").sign(&[b"x"])
        );
        for index in 0..2 * CACHE_CAPACITY {
            sign("alice-secret", &format!("region-{index}"));
        }
        assert_eq!(cache.lock().len(), CACHE_CAPACITY);
        assert_eq!(sign("alice-secret", "us-east-1"), alice);
    }
}
