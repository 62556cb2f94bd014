//! Authentication at the edge: every API request is verified once, by the server's
//! HTTP edge, before anything else looks at it; what comes out is a
//! [`VerifiedPrincipal`] (access key, account, region), from which the request's
//! `Scope` is built. Handlers never see an unverified request.
//!
//! - [`sigv4`]: the pure SigV4 verifier (`now` is an argument; no clock reads).
//! - [`credentials`]: the registry of access keys, loaded from `--credentials FILE`
//!   (format documented there), or the development pair `test`/`test`.
//! - [`Authenticator`]: the configured policy — verify, or `--no-auth` — decided once
//!   at startup by [`Authenticator::for_listener`].
//!
//! May depend on: nothing of Weir (it is pure apart from reading the credentials file).
//! Must not know any service's wire format: each service maps [`AuthError`] to its own
//! error rendering.

#![warn(missing_docs)]

pub mod credentials;
pub mod sigv2;
pub mod sigv4;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

pub use credentials::{
    Credential, CredentialRegistry, CredentialsError, DEV_ACCESS_KEY, DEV_SECRET_KEY,
};
pub use sigv4::{
    AuthError, BodyState, ChunkSigner, DEFAULT_MAX_CLOCK_SKEW, Payload, SignedRequest,
    SigningRules, VerifiedPrincipal,
};

/// Access key reported for requests accepted without a signature under `--no-auth`.
pub const ANONYMOUS: &str = "anonymous";

/// Whether requests are verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// Every request must carry a valid SigV4 signature of a configured key.
    Verify,
    /// `--no-auth`: nothing is verified; requests act in the default account.
    Disabled,
}

/// Where the credentials in force came from (for the startup log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialSource {
    /// `--credentials FILE`.
    File,
    /// The development pair `test`/`test` (no file; loopback, or `--no-auth`).
    Development,
}

/// The authentication policy of a server, decided once at startup.
#[derive(Debug, Clone)]
pub struct Authenticator {
    mode: AuthMode,
    source: CredentialSource,
    credentials: Arc<CredentialRegistry>,
    max_clock_skew: Duration,
    default_account: String,
    default_region: String,
}

/// Why the server refuses to start with the given authentication options.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StartupRefused(pub String);

impl Authenticator {
    /// A policy from its parts (tests and embedders; the binary uses [`Self::for_listener`]).
    pub fn new(
        mode: AuthMode,
        credentials: CredentialRegistry,
        max_clock_skew: Duration,
        default_account: impl Into<String>,
        default_region: impl Into<String>,
    ) -> Self {
        Self {
            mode,
            source: CredentialSource::File,
            credentials: Arc::new(credentials),
            max_clock_skew,
            default_account: default_account.into(),
            default_region: default_region.into(),
        }
    }

    /// Decides the policy for a server listening on `listen`:
    /// - a credentials file → verify against it (`--no-auth` still turns verification off);
    /// - no file, `--no-auth` → nothing verified, the development pair serves job scripts;
    /// - no file, loopback address → verify against the development pair `test`/`test`
    ///   acting in `default_account`;
    /// - no file, any other address → refused: the well-known development pair must
    ///   never guard a server reachable from the network.
    pub fn for_listener(
        listen: SocketAddr,
        file: Option<CredentialRegistry>,
        no_auth: bool,
        max_clock_skew: Duration,
        default_account: &str,
        default_region: &str,
    ) -> Result<Self, StartupRefused> {
        let (mode, source, credentials) = match (file, no_auth) {
            (Some(registry), false) => (AuthMode::Verify, CredentialSource::File, registry),
            (Some(registry), true) => (
                AuthMode::Disabled,
                CredentialSource::File,
                registry.with_development_fallback(default_account),
            ),
            (None, true) => (
                AuthMode::Disabled,
                CredentialSource::Development,
                CredentialRegistry::development(default_account),
            ),
            (None, false) if listen.ip().is_loopback() => (
                AuthMode::Verify,
                CredentialSource::Development,
                CredentialRegistry::development(default_account),
            ),
            (None, false) => {
                return Err(StartupRefused(format!(
                    "refusing to listen on {listen} without configured credentials: the \
                     development credentials {DEV_ACCESS_KEY}/{DEV_SECRET_KEY} are only accepted \
                     on a loopback address. Pass --credentials FILE (see README, \
                     \"Authentication\"), or listen on 127.0.0.1."
                )));
            }
        };
        Ok(Self {
            mode,
            source,
            credentials: Arc::new(credentials),
            max_clock_skew,
            default_account: default_account.to_owned(),
            default_region: default_region.to_owned(),
        })
    }

    /// Whether requests are verified.
    pub fn mode(&self) -> AuthMode {
        self.mode
    }

    /// Where the credentials in force came from.
    pub fn source(&self) -> CredentialSource {
        self.source
    }

    /// The credentials registry (also the source of job scripts' credentials).
    pub fn credentials(&self) -> &Arc<CredentialRegistry> {
        &self.credentials
    }

    /// The allowed clock skew of `X-Amz-Date`, either way.
    pub fn max_clock_skew(&self) -> Duration {
        self.max_clock_skew
    }

    /// The account of unverified requests (`--no-auth`) and of the development pair.
    pub fn default_account(&self) -> &str {
        &self.default_account
    }

    /// Authenticates one request for the service whose signing name is `service`
    /// (`glue`, `s3`, …) at time `now` (pure: the caller reads the clock).
    ///
    /// Under [`AuthMode::Verify`] this is [`sigv4::verify`]; the credential scope must
    /// name `service`.
    /// Under [`AuthMode::Disabled`] every request is accepted in the default account,
    /// in the region of its credential scope when it has a parseable one, else in the
    /// default region.
    pub fn authenticate(
        &self,
        request: &SignedRequest<'_>,
        service: &str,
        now: SystemTime,
    ) -> Result<VerifiedPrincipal, AuthError> {
        match self.mode {
            AuthMode::Verify => sigv4::verify(
                request,
                &self.credentials,
                &sigv4::Policy {
                    service,
                    max_clock_skew: self.max_clock_skew,
                    rules: SigningRules::default(),
                },
                now,
            ),
            AuthMode::Disabled => Ok(self.unverified(request)),
        }
    }

    /// Authenticates the head of a request whose body is still to be read (its
    /// `body` is ignored), for `service` signing by `rules`; returns the principal and
    /// what reading the body must check ([`Payload`]).
    ///
    /// Under [`AuthMode::Disabled`] nothing is verified, but the body is still
    /// described: an `aws-chunked` body must be decoded and a declared hash holds.
    pub fn authenticate_head(
        &self,
        request: &SignedRequest<'_>,
        service: &str,
        rules: SigningRules,
        now: SystemTime,
    ) -> Result<(VerifiedPrincipal, Payload), AuthError> {
        match self.mode {
            AuthMode::Verify
                if rules.presigned_urls
                    && !request.headers.contains_key(sigv4::AUTHORIZATION_HEADER)
                    && request.uri.query().is_some_and(sigv2::is_presigned) =>
            {
                let query = request.uri.query().unwrap_or_default();
                sigv2::verify_query(request, query, &self.credentials, &self.default_region, now)
                    .map(|principal| (principal, Payload::Unsigned))
            }
            AuthMode::Verify => sigv4::verify_body(
                request,
                BodyState::Deferred,
                &self.credentials,
                &sigv4::Policy {
                    service,
                    max_clock_skew: self.max_clock_skew,
                    rules,
                },
                now,
            ),
            AuthMode::Disabled => {
                let payload = match request
                    .headers
                    .get(sigv4::CONTENT_SHA256_HEADER)
                    .and_then(|v| v.to_str().ok())
                {
                    Some(sigv4::STREAMING_SIGNED | sigv4::STREAMING_SIGNED_TRAILER) => {
                        Payload::UnsignedChunks
                    }
                    Some(declared) => Payload::declared(declared).unwrap_or(Payload::Unsigned),
                    None => Payload::Unsigned,
                };
                Ok((self.unverified(request), payload))
            }
        }
    }

    fn unverified(&self, request: &SignedRequest<'_>) -> VerifiedPrincipal {
        let claimed = request
            .headers
            .get(sigv4::AUTHORIZATION_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| sigv4::parse_authorization(v).ok())
            .map(|a| (a.access_key.to_owned(), a.region.to_owned()));
        let (access_key, region) = match claimed {
            Some((key, region)) if sigv4::is_region_name(&region) => (key, region),
            Some((key, _)) => (key, self.default_region.clone()),
            None => (ANONYMOUS.to_owned(), self.default_region.clone()),
        };
        VerifiedPrincipal {
            access_key,
            account: self.default_account.clone(),
            region,
        }
    }
}

#[cfg(test)]
mod tests {
    use http::{HeaderMap, HeaderValue, Uri};

    use super::*;

    fn decide(listen: &str, file: bool, no_auth: bool) -> Result<Authenticator, StartupRefused> {
        let file = file.then(|| {
            CredentialRegistry::new(vec![Credential::new(
                "AKIDALICE",
                "s",
                "111111111111",
                None,
            )])
            .expect("registry")
        });
        Authenticator::for_listener(
            listen.parse().expect("addr"),
            file,
            no_auth,
            DEFAULT_MAX_CLOCK_SKEW,
            "123456789012",
            "us-east-1",
        )
    }

    #[test]
    fn startup_policy_table() {
        use AuthMode::{Disabled, Verify};
        use CredentialSource::{Development, File};
        // (listen, credentials file?, --no-auth?, expected mode and source or refusal)
        type Case = (
            &'static str,
            bool,
            bool,
            Option<(AuthMode, CredentialSource)>,
        );
        let cases: &[Case] = &[
            ("127.0.0.1:0", false, false, Some((Verify, Development))),
            ("[::1]:0", false, false, Some((Verify, Development))),
            ("0.0.0.0:5599", false, false, None),
            ("192.168.1.10:5599", false, false, None),
            ("0.0.0.0:5599", true, false, Some((Verify, File))),
            ("0.0.0.0:5599", false, true, Some((Disabled, Development))),
            ("127.0.0.1:0", true, true, Some((Disabled, File))),
        ];
        for (listen, file, no_auth, expected) in cases {
            let got = decide(listen, *file, *no_auth);
            match (expected, got) {
                (Some((mode, source)), Ok(auth)) => {
                    assert_eq!((auth.mode(), auth.source()), (*mode, *source), "{listen}");
                }
                (None, Err(refused)) => {
                    assert!(refused.0.contains("--credentials"), "{refused}");
                }
                (expected, got) => panic!("{listen} {file} {no_auth}: {expected:?} vs {got:?}"),
            }
        }
        let dev = decide("127.0.0.1:0", false, false).expect("dev");
        let pair = dev.credentials().get(DEV_ACCESS_KEY).expect("dev pair");
        assert_eq!(pair.account_id(), "123456789012");
        let file_no_auth = decide("127.0.0.1:0", true, true).expect("no-auth");
        assert!(file_no_auth.credentials().has_account("123456789012"));
    }

    #[test]
    fn no_auth_takes_the_region_of_the_scope_when_there_is_one() {
        let auth = decide("127.0.0.1:0", false, true).expect("no-auth");
        let uri = Uri::from_static("/");
        let mut headers = HeaderMap::new();
        let now = SystemTime::now();
        let principal = |headers: &HeaderMap| {
            auth.authenticate(
                &SignedRequest {
                    method: "POST",
                    uri: &uri,
                    headers,
                    body: b"",
                },
                sigv4::SERVICE,
                now,
            )
            .expect("accepted")
        };
        let anonymous = principal(&headers);
        assert_eq!(
            (
                anonymous.access_key.as_str(),
                anonymous.account.as_str(),
                anonymous.region.as_str()
            ),
            (ANONYMOUS, "123456789012", "us-east-1")
        );
        headers.insert(
            "authorization",
            HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=whoever/20260101/eu-north-1/glue/aws4_request, \
                 SignedHeaders=host, Signature=00",
            ),
        );
        let scoped = principal(&headers);
        assert_eq!(
            (scoped.access_key.as_str(), scoped.region.as_str()),
            ("whoever", "eu-north-1")
        );
        headers.insert("authorization", HeaderValue::from_static("garbage"));
        assert_eq!(principal(&headers).region, "us-east-1");
    }
}
