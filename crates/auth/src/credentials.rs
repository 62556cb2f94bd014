//! The credentials registry: which access keys exist, their secrets, the account each
//! one acts in, and an optional session token.
//!
//! # File format
//!
//! `weir serve --credentials FILE` reads TOML, or JSON when the file name ends in
//! `.json`. Both hold one list, `credentials`, of key pairs:
//!
//! ```toml
//! [[credentials]]
//! access_key_id = "AKIAWEIRALICE0000001"
//! secret_access_key = "alice-secret"
//! account_id = "111111111111"
//!
//! [[credentials]]
//! access_key_id = "ASIAWEIRBOB000000001"
//! secret_access_key = "bob-secret"
//! account_id = "222222222222"
//! # Optional: clients must then send this value as X-Amz-Security-Token.
//! session_token = "bob-session-token"
//! ```
//!
//! ```json
//! {"credentials": [{"access_key_id": "AKIAWEIRALICE0000001",
//!                   "secret_access_key": "alice-secret",
//!                   "account_id": "111111111111"}]}
//! ```
//!
//! Rules: at least one entry; access key ids are unique, 1–128 characters of
//! `[A-Za-z0-9_-]`; secrets are non-empty; account ids are 12 digits; unknown fields
//! are errors (so a typo does not silently drop a setting). Several keys may share an
//! account; job scripts of an account receive the first of them (in file order).

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use serde::Deserialize;

use crate::sigv4::SigningKeyCache;

/// Access key id of the development credential pair (see [`CredentialRegistry::development`]).
pub const DEV_ACCESS_KEY: &str = "test";
/// Secret of the development credential pair.
pub const DEV_SECRET_KEY: &str = "test";

/// One configured key pair. `Debug` never prints the secret or the session token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    access_key_id: String,
    secret_access_key: String,
    account_id: String,
    session_token: Option<String>,
}

impl Credential {
    /// A key pair acting in `account_id`; `session_token`, when set, must accompany
    /// every request signed with it.
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        account_id: impl Into<String>,
        session_token: Option<String>,
    ) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            account_id: account_id.into(),
            session_token,
        }
    }

    /// The access key id (public: it appears in every `Authorization` header).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The secret access key.
    pub fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }

    /// The account every request signed with this key acts in.
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// The session token clients must send as `X-Amz-Security-Token`, if any.
    pub fn session_token(&self) -> Option<&str> {
        self.session_token.as_deref()
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("account_id", &self.account_id)
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Why a credentials file was refused.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// The file could not be read.
    #[error("cannot read the credentials file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O failure.
        source: std::io::Error,
    },
    /// The file is not valid TOML/JSON of the documented shape.
    #[error("cannot parse the credentials file {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// The parser's explanation.
        message: String,
    },
    /// The file parses but breaks a rule (duplicate key, bad account id, ...).
    #[error("invalid credentials configuration: {0}")]
    Invalid(String),
}

/// The access keys the server accepts; looked up once per request at the edge.
#[derive(Clone, Debug)]
pub struct CredentialRegistry {
    /// Entries in configuration order (the first of an account serves its job scripts).
    entries: Vec<Credential>,
    /// Index into `entries` by access key id.
    by_key: HashMap<String, usize>,
    /// The SigV4 signing keys of these secrets derived lately (a copy starts empty).
    signing_keys: SigningKeyCache,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileFormat {
    credentials: Vec<FileEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEntry {
    access_key_id: String,
    secret_access_key: String,
    account_id: String,
    #[serde(default)]
    session_token: Option<String>,
}

impl CredentialRegistry {
    /// A registry over `entries`, checked against the rules of the file format.
    pub fn new(entries: Vec<Credential>) -> Result<Self, CredentialsError> {
        if entries.is_empty() {
            return Err(CredentialsError::Invalid(
                "at least one credential is required".into(),
            ));
        }
        let mut by_key = HashMap::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            let key = entry.access_key_id();
            if key.is_empty()
                || key.len() > 128
                || !key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return Err(CredentialsError::Invalid(format!(
                    "access key id {key:?} must be 1-128 characters of A-Z, a-z, 0-9, '_' and '-'"
                )));
            }
            if entry.secret_access_key().is_empty() {
                return Err(CredentialsError::Invalid(format!(
                    "the secret access key of {key} is empty"
                )));
            }
            if !is_account_id(entry.account_id()) {
                return Err(CredentialsError::Invalid(format!(
                    "the account id of {key} must be 12 digits, not {:?}",
                    entry.account_id()
                )));
            }
            if entry
                .session_token()
                .is_some_and(|t| t.is_empty() || !t.bytes().all(|b| b.is_ascii_graphic()))
            {
                return Err(CredentialsError::Invalid(format!(
                    "the session token of {key} must be non-empty printable ASCII without spaces"
                )));
            }
            if by_key.insert(key.to_owned(), index).is_some() {
                return Err(CredentialsError::Invalid(format!(
                    "access key id {key} appears more than once"
                )));
            }
        }
        Ok(Self {
            entries,
            by_key,
            signing_keys: SigningKeyCache::default(),
        })
    }

    /// The development registry: the documented pair `test`/`test` acting in `account`.
    /// Used when no file is configured and the server listens on loopback only.
    pub fn development(account: &str) -> Self {
        let entry = Credential::new(DEV_ACCESS_KEY, DEV_SECRET_KEY, account, None);
        let by_key = HashMap::from([(DEV_ACCESS_KEY.to_owned(), 0)]);
        Self {
            entries: vec![entry],
            by_key,
            signing_keys: SigningKeyCache::default(),
        }
    }

    /// Reads a credentials file (TOML, or JSON for a `.json` name; format in the
    /// module documentation).
    pub fn load(path: &Path) -> Result<Self, CredentialsError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| CredentialsError::Read {
            path: shown.clone(),
            source,
        })?;
        let is_json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        Self::parse(&text, is_json).map_err(|error| match error {
            CredentialsError::Parse { message, .. } => CredentialsError::Parse {
                path: shown,
                message,
            },
            other => other,
        })
    }

    /// Parses the text of a credentials file (`json`: JSON, else TOML).
    pub fn parse(text: &str, json: bool) -> Result<Self, CredentialsError> {
        let parsed: FileFormat = if json {
            serde_json::from_str(text).map_err(|e| e.to_string())
        } else {
            toml::from_str(text).map_err(|e| e.to_string())
        }
        .map_err(|message| CredentialsError::Parse {
            path: String::new(),
            message,
        })?;
        Self::new(
            parsed
                .credentials
                .into_iter()
                .map(|e| {
                    Credential::new(
                        e.access_key_id,
                        e.secret_access_key,
                        e.account_id,
                        e.session_token,
                    )
                })
                .collect(),
        )
    }

    /// The credential of access key `access_key_id`, if configured.
    pub fn get(&self, access_key_id: &str) -> Option<&Credential> {
        self.by_key
            .get(access_key_id)
            .and_then(|&index| self.entries.get(index))
    }

    /// The first configured credential of `account` (what its job scripts receive).
    pub fn for_account(&self, account: &str) -> Option<&Credential> {
        self.entries.iter().find(|e| e.account_id() == account)
    }

    /// Whether some key acts in `account`.
    pub fn has_account(&self, account: &str) -> bool {
        self.for_account(account).is_some()
    }

    /// A copy with the development pair added for `account` unless that account
    /// already has a key or the key id `test` is taken (used with `--no-auth`, where
    /// nothing is verified but job scripts still need some credentials to sign with).
    pub fn with_development_fallback(mut self, account: &str) -> Self {
        if !self.has_account(account) && !self.by_key.contains_key(DEV_ACCESS_KEY) {
            self.by_key
                .insert(DEV_ACCESS_KEY.to_owned(), self.entries.len());
            self.entries.push(Credential::new(
                DEV_ACCESS_KEY,
                DEV_SECRET_KEY,
                account,
                None,
            ));
        }
        self
    }

    /// The configured credentials, in configuration order.
    pub fn iter(&self) -> impl Iterator<Item = &Credential> {
        self.entries.iter()
    }

    /// The SigV4 signing keys of these credentials derived lately.
    pub(crate) fn signing_keys(&self) -> &SigningKeyCache {
        &self.signing_keys
    }
}

/// Whether `text` is an AWS account id (12 digits).
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = r#"
[[credentials]]
access_key_id = "AKIDALICE"
secret_access_key = "alice-secret"
account_id = "111111111111"

[[credentials]]
access_key_id = "AKIDBOB"
secret_access_key = "bob-secret"
account_id = "222222222222"
session_token = "bob-token"
"#;

    #[test]
    fn toml_and_json_files_parse_to_the_same_registry() {
        let toml = CredentialRegistry::parse(TWO, false).expect("toml");
        let json = CredentialRegistry::parse(
            r#"{"credentials": [
                {"access_key_id": "AKIDALICE", "secret_access_key": "alice-secret",
                 "account_id": "111111111111"},
                {"access_key_id": "AKIDBOB", "secret_access_key": "bob-secret",
                 "account_id": "222222222222", "session_token": "bob-token"}]}"#,
            true,
        )
        .expect("json");
        for registry in [&toml, &json] {
            let bob = registry.get("AKIDBOB").expect("bob");
            assert_eq!(bob.account_id(), "222222222222");
            assert_eq!(bob.session_token(), Some("bob-token"));
            assert_eq!(
                registry
                    .for_account("111111111111")
                    .map(Credential::access_key_id),
                Some("AKIDALICE")
            );
            assert!(registry.get("test").is_none());
        }
    }

    #[test]
    fn invalid_files_are_refused_with_a_reason() {
        let cases: &[(&str, &str)] = &[
            ("credentials = []", "at least one"),
            (
                "[[credentials]]\naccess_key_id = \"A\"\nsecret_access_key = \"s\"\naccount_id = \"12\"",
                "12 digits",
            ),
            (
                "[[credentials]]\naccess_key_id = \"A/B\"\nsecret_access_key = \"s\"\naccount_id = \"111111111111\"",
                "access key id",
            ),
            (
                "[[credentials]]\naccess_key_id = \"A\"\nsecret_access_key = \"\"\naccount_id = \"111111111111\"",
                "empty",
            ),
            (
                "[[credentials]]\naccess_key_id = \"A\"\nsecret_access_key = \"s\"\naccount_id = \"111111111111\"\n[[credentials]]\naccess_key_id = \"A\"\nsecret_access_key = \"t\"\naccount_id = \"111111111111\"",
                "more than once",
            ),
            (
                "[[credentials]]\naccess_key_id = \"A\"\nsecret_key = \"s\"\naccount_id = \"111111111111\"",
                "unknown field",
            ),
            ("not toml at all [", "parse"),
        ];
        for (text, expected) in cases {
            let error = CredentialRegistry::parse(text, false).expect_err(text);
            let message = error.to_string();
            assert!(message.contains(expected), "{text:?}: {message}");
        }
    }

    #[test]
    fn debug_output_redacts_secrets() {
        let registry = CredentialRegistry::parse(TWO, false).expect("toml");
        let shown = format!("{registry:?}");
        assert!(
            !shown.contains("alice-secret") && !shown.contains("bob-token"),
            "{shown}"
        );
        assert!(shown.contains("AKIDALICE"));
    }

    #[test]
    fn development_fallback_adds_the_dev_pair_only_when_needed() {
        let registry = CredentialRegistry::parse(TWO, false).expect("toml");
        let same = registry.clone().with_development_fallback("111111111111");
        assert!(same.get(DEV_ACCESS_KEY).is_none());
        let added = registry.with_development_fallback("123456789012");
        let dev = added.get(DEV_ACCESS_KEY).expect("dev pair");
        assert_eq!(dev.account_id(), "123456789012");
        assert_eq!(
            CredentialRegistry::development("123456789012")
                .get("test")
                .map(Credential::secret_access_key),
            Some("test")
        );
    }
}
