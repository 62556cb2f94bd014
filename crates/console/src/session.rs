//! Console sessions: a signed, expiring cookie naming an access key and a region, and
//! the CSRF token every form of that session carries.
//!
//! The cookie is `1.<access key id, hex>.<region>.<expires, epoch ms>.<HMAC-SHA256, hex>`,
//! signed with a 256-bit key the server keeps in the store's settings
//! ([`SESSION_KEY_SETTING`]; made on first use), so sessions survive a restart and are
//! forged by no one without the data directory. Expiry is judged on the server's clock
//! (the manual clock in tests). The account is not in the cookie: it is looked up in the
//! credentials in force on every request, so a key removed from the credentials file
//! ends its sessions.
//!
//! The CSRF token of a session is an HMAC of the session's own signature: a page of the
//! session embeds it in its forms, a cross-site page cannot read it, and it dies with
//! the session. Without authentication (`--no-auth`) the one token is an HMAC of a fixed
//! label.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The setting holding the session key (64 hex digits).
pub const SESSION_KEY_SETTING: &str = "console/session-key";
/// Name of the session cookie.
pub const COOKIE_NAME: &str = "weir_console";
/// How long a session lasts after sign-in, in milliseconds (8 hours).
pub const SESSION_MS: i64 = 8 * 3_600_000;

type HmacSha256 = Hmac<Sha256>;

/// The server's session key.
#[derive(Clone)]
pub struct SessionKey([u8; 32]);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(<redacted>)")
    }
}

/// What a valid cookie says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The access key id that signed in.
    pub access_key: String,
    /// The region the pages show.
    pub region: String,
    /// When the session ends, epoch milliseconds on the server's clock.
    pub expires_ms: i64,
    /// The cookie's signature (hex), from which the CSRF token is derived.
    signature: String,
}

impl SessionKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        Self(rand::random())
    }

    /// The key as stored (hex).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// A stored key; `None` when the text is not 64 hex digits.
    pub fn from_hex(text: &str) -> Option<Self> {
        let bytes = hex::decode(text.trim()).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }

    fn mac(&self, parts: &[&[u8]]) -> HmacSha256 {
        // HMAC takes keys of any length; 32 bytes cannot fail.
        let mut mac = match HmacSha256::new_from_slice(&self.0) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC accepts keys of any length"),
        };
        for part in parts {
            mac.update(part);
            mac.update(b"\n");
        }
        mac
    }

    fn sign(&self, parts: &[&[u8]]) -> String {
        hex::encode(self.mac(parts).finalize().into_bytes())
    }

    fn verify(&self, parts: &[&[u8]], signature_hex: &str) -> bool {
        match hex::decode(signature_hex) {
            Ok(signature) => self.mac(parts).verify_slice(&signature).is_ok(),
            Err(_) => false,
        }
    }

    /// The cookie value of a session of `access_key` in `region` ending at `expires_ms`.
    pub fn issue(&self, access_key: &str, region: &str, expires_ms: i64) -> String {
        let payload = format!("1.{}.{region}.{expires_ms}", hex::encode(access_key));
        let signature = self.sign(&[b"session", payload.as_bytes()]);
        format!("{payload}.{signature}")
    }

    /// The claims of a cookie value signed with this key and not expired at `now_ms`.
    pub fn open(&self, cookie: &str, now_ms: i64) -> Option<Claims> {
        let mut parts = cookie.split('.');
        let (version, key_hex, region, expires, signature) = (
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
        );
        if parts.next().is_some() || version != "1" {
            return None;
        }
        let payload = format!("1.{key_hex}.{region}.{expires}");
        if !self.verify(&[b"session", payload.as_bytes()], signature) {
            return None;
        }
        let expires_ms: i64 = expires.parse().ok()?;
        if now_ms >= expires_ms || !weir_auth::sigv4::is_region_name(region) {
            return None;
        }
        let access_key = String::from_utf8(hex::decode(key_hex).ok()?).ok()?;
        Some(Claims {
            access_key,
            region: region.to_string(),
            expires_ms,
            signature: signature.to_string(),
        })
    }

    /// The CSRF token of a session (`None`: the one token of `--no-auth`).
    pub fn csrf_token(&self, claims: Option<&Claims>) -> String {
        match claims {
            Some(claims) => self.sign(&[b"csrf", claims.signature.as_bytes()]),
            None => self.sign(&[b"csrf-open"]),
        }
    }

    /// Whether `token` is the CSRF token of the session (compared in constant time).
    pub fn csrf_matches(&self, claims: Option<&Claims>, token: &str) -> bool {
        match claims {
            Some(claims) => self.verify(&[b"csrf", claims.signature.as_bytes()], token),
            None => self.verify(&[b"csrf-open"], token),
        }
    }

    /// The token of the sign-in form (no session yet; it only shows that the form was
    /// Weir's own page, which a cross-site page cannot read).
    pub fn sign_in_token(&self) -> String {
        self.sign(&[b"csrf-sign-in"])
    }

    /// Whether `token` is the sign-in form's token.
    pub fn sign_in_matches(&self, token: &str) -> bool {
        self.verify(&[b"csrf-sign-in"], token)
    }

    /// Whether `given` equals `expected`, compared in constant time (secret keys).
    pub fn same_secret(&self, given: &str, expected: &str) -> bool {
        let tag = self.sign(&[b"secret", expected.as_bytes()]);
        self.verify(&[b"secret", given.as_bytes()], &tag)
    }
}

/// The value of cookie `name` in a `Cookie` header, if present.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then_some(value)
    })
}

/// The `Set-Cookie` header of a session cookie (`None`: one that clears it).
pub fn set_cookie(value: Option<&str>) -> String {
    match value {
        Some(value) => format!(
            "{COOKIE_NAME}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={}",
            SESSION_MS / 1000
        ),
        None => format!("{COOKIE_NAME}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_round_trip_and_expire() {
        let key = SessionKey::generate();
        let cookie = key.issue("AKID.with.dots", "eu-west-1", 1_000);
        let claims = key.open(&cookie, 999).expect("valid");
        assert_eq!(claims.access_key, "AKID.with.dots");
        assert_eq!(claims.region, "eu-west-1");
        assert!(key.open(&cookie, 1_000).is_none(), "expired");
        let other = SessionKey::generate();
        assert!(other.open(&cookie, 0).is_none(), "another key");
        let reissued = SessionKey::from_hex(&key.to_hex()).expect("hex");
        assert!(reissued.open(&cookie, 0).is_some());
    }

    #[test]
    fn tampered_cookies_are_refused() {
        let key = SessionKey::generate();
        let cookie = key.issue("test", "us-east-1", 10_000);
        let longer = cookie.replace(".10000.", ".99999.");
        let region = cookie.replace("us-east-1", "eu-west-1");
        for bad in [
            longer.as_str(),
            region.as_str(),
            "",
            "1.2.3",
            "1.74657374.us-east-1.10000.zz",
            "é.é.é.é.é",
        ] {
            assert!(key.open(bad, 0).is_none(), "{bad}");
        }
        assert!(key.open(&format!("{cookie}.x"), 0).is_none());
    }

    #[test]
    fn csrf_tokens_belong_to_their_session() {
        let key = SessionKey::generate();
        let a = key.open(&key.issue("a", "us-east-1", 10), 0).expect("a");
        let b = key.open(&key.issue("b", "us-east-1", 10), 0).expect("b");
        let token = key.csrf_token(Some(&a));
        assert!(key.csrf_matches(Some(&a), &token));
        assert!(!key.csrf_matches(Some(&b), &token));
        assert!(!key.csrf_matches(None, &token));
        assert!(!key.csrf_matches(Some(&a), ""));
        assert!(key.csrf_matches(None, &key.csrf_token(None)));
        assert!(key.sign_in_matches(&key.sign_in_token()));
        assert!(!key.csrf_matches(None, &key.sign_in_token()));
    }

    #[test]
    fn secrets_and_cookies_are_compared_and_parsed() {
        let key = SessionKey::generate();
        assert!(key.same_secret("test", "test"));
        assert!(!key.same_secret("tes", "test"));
        assert_eq!(
            cookie_value("a=1; weir_console=x.y; b=2", COOKIE_NAME),
            Some("x.y")
        );
        assert_eq!(cookie_value("weir_consolex=1", COOKIE_NAME), None);
        assert!(set_cookie(Some("v")).contains("HttpOnly; SameSite=Strict"));
        assert!(set_cookie(None).contains("Max-Age=0"));
    }
}
