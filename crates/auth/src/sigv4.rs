//! AWS Signature Version 4 verification (glue-api.md §1.6), as a pure function.
//!
//! [`verify`] takes the request as received (method, URI, headers, raw body bytes),
//! the credentials registry and the current time, and returns the
//! [`VerifiedPrincipal`] or an [`AuthError`]. It reads no clock and does no I/O.
//!
//! The steps, each a small function below:
//! 1. [`parse_authorization`]: `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
//! 2. [`check_scope`]: `<date>/<region>/<service>/aws4_request` — the service must be
//!    the expected one (`glue`), the date that of `X-Amz-Date`, the region any
//!    well-formed region name (it becomes the request's region).
//! 3. [`check_clock_skew`]: `X-Amz-Date` within ± the allowed skew of `now`.
//! 4. The access key is looked up; a configured session token must be sent (and only then).
//! 5. The canonical request is written from exactly the signed headers, with their
//!    values as received, and the payload hash (`canonical`), then signed with the
//!    signing key of the looked-up secret for the scope, derived once per
//!    (secret, date, region, service) and cached (`signing_key`). The result is
//!    what `aws-sigv4` (the signer of aws-sdk-rust, whose canonical form botocore
//!    shares) computes for the same request: its tests hold the two equal.
//! 6. The two signatures are compared in constant time.

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, Uri};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::credentials::{Credential, CredentialRegistry};
use canonical::{CanonicalRequest, Location, SignedHeaders};

mod canonical;
mod payload;
mod presigned;
mod signing_key;

pub use payload::{
    ChunkSigner, Payload, STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER,
};
pub(crate) use signing_key::{SigningKey, SigningKeyCache};

/// The only signing algorithm accepted.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The signing name of AWS Glue: the service every credential scope must name.
pub const SERVICE: &str = "glue";
/// The last element of every credential scope.
pub const SCOPE_TERMINATOR: &str = "aws4_request";
/// Header carrying the signature.
pub const AUTHORIZATION_HEADER: &str = "authorization";
/// Header carrying the signing time, `YYYYMMDD'T'HHMMSS'Z'`.
pub const DATE_HEADER: &str = "x-amz-date";
/// Header carrying the session token of temporary credentials.
pub const SECURITY_TOKEN_HEADER: &str = "x-amz-security-token";
/// Header that, when present, replaces the body hash in the canonical request.
pub const CONTENT_SHA256_HEADER: &str = "x-amz-content-sha256";
/// Header that must be among the signed ones.
pub const HOST_HEADER: &str = "host";
/// The `x-amz-content-sha256` value of a request whose body is not signed.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// Default allowed difference between `X-Amz-Date` and the server clock, either way.
pub const DEFAULT_MAX_CLOCK_SKEW: Duration = Duration::from_secs(300);

/// Message of MissingAuthenticationTokenException, as AWS sends it.
pub const MISSING_TOKEN_MESSAGE: &str = "Missing Authentication Token";
/// Message of UnrecognizedClientException, as AWS sends it.
pub const UNRECOGNIZED_CLIENT_MESSAGE: &str =
    "The security token included in the request is invalid.";
/// Message of InvalidSignatureException for a signature mismatch, as AWS sends it.
pub const SIGNATURE_MISMATCH_MESSAGE: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// Longest piece of client input quoted back in an error message.
const QUOTE_LIMIT: usize = 64;

/// Who sent a request, and where it acts: the result of a successful verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedPrincipal {
    /// The access key id that signed the request.
    pub access_key: String,
    /// The account of that key: every resource the request touches lives in it.
    pub account: String,
    /// The region of the credential scope: every resource the request touches lives in it.
    pub region: String,
}

/// Why a request was not authenticated. Converted to the wire by `From<AuthError> for
/// ApiError`; every variant is a 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization` header: MissingAuthenticationTokenException.
    #[error("{MISSING_TOKEN_MESSAGE}")]
    MissingToken,
    /// A malformed `Authorization` header or a missing/malformed `X-Amz-Date`:
    /// IncompleteSignatureException.
    #[error("{0}")]
    Incomplete(String),
    /// Unknown access key, or a session token that does not match the key's:
    /// UnrecognizedClientException.
    #[error("{UNRECOGNIZED_CLIENT_MESSAGE}")]
    UnrecognizedClient,
    /// Mismatching signature, expired or future date, wrong scope:
    /// InvalidSignatureException.
    #[error("{0}")]
    InvalidSignature(String),
    /// A presigned URL used after its `X-Amz-Expires`.
    #[error("Request has expired")]
    Expired,
}

impl AuthError {
    fn mismatch() -> Self {
        AuthError::InvalidSignature(SIGNATURE_MISMATCH_MESSAGE.into())
    }
}

/// The parts of a received request that a signature covers.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    /// The HTTP method (`POST` for every Glue operation).
    pub method: &'a str,
    /// The request target as received (path and query).
    pub uri: &'a Uri,
    /// All received headers.
    pub headers: &'a HeaderMap,
    /// The raw body bytes, exactly as received.
    pub body: &'a [u8],
}

/// What a signature must satisfy besides matching.
#[derive(Debug, Clone, Copy)]
pub struct Policy<'a> {
    /// The service the credential scope must name ([`SERVICE`] in the server).
    pub service: &'a str,
    /// Allowed difference between `X-Amz-Date` and `now`, in both directions.
    pub max_clock_skew: Duration,
    /// The service's variations of SigV4.
    pub rules: SigningRules,
}

impl Default for Policy<'_> {
    fn default() -> Self {
        Self {
            service: SERVICE,
            max_clock_skew: DEFAULT_MAX_CLOCK_SKEW,
            rules: SigningRules::default(),
        }
    }
}

/// The variations of SigV4 a service signs by (the default is that of every service
/// but S3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SigningRules {
    /// The URI path is canonicalized as sent, percent-encoded once and not normalized
    /// (S3's rule); otherwise it is normalized and encoded twice.
    pub literal_path: bool,
    /// Query-string signatures (presigned URLs, `X-Amz-Signature`) are accepted when
    /// the request has no `Authorization` header.
    pub presigned_urls: bool,
}

/// Where the body of a request stands when its signature is verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyState<'a> {
    /// Read whole: its hash is checked against the signature now.
    Read(&'a [u8]),
    /// Still to be read: what the reader must check is returned as a [`Payload`].
    Deferred,
}

/// A parsed `Authorization` header (borrowing from it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization<'a> {
    /// The access key id of the credential.
    pub access_key: &'a str,
    /// `YYYYMMDD` of the credential scope.
    pub date: &'a str,
    /// Region of the credential scope.
    pub region: &'a str,
    /// Service of the credential scope.
    pub service: &'a str,
    /// Terminator of the credential scope (must be `aws4_request`).
    pub terminator: &'a str,
    /// The signed header names, in the order given.
    pub signed_headers: Vec<&'a str>,
    /// The hex signature.
    pub signature: &'a str,
}

/// Verifies the SigV4 signature of `request` against `credentials` at time `now`.
pub fn verify(
    request: &SignedRequest<'_>,
    credentials: &CredentialRegistry,
    policy: &Policy<'_>,
    now: SystemTime,
) -> Result<VerifiedPrincipal, AuthError> {
    verify_body(
        request,
        BodyState::Read(request.body),
        credentials,
        policy,
        now,
    )
    .map(|(principal, _)| principal)
}

/// Verifies the SigV4 signature of `request` (whose `body` is ignored) with its body
/// in state `body`; returns the principal and what reading a deferred body must check.
pub fn verify_body(
    request: &SignedRequest<'_>,
    body: BodyState<'_>,
    credentials: &CredentialRegistry,
    policy: &Policy<'_>,
    now: SystemTime,
) -> Result<(VerifiedPrincipal, Payload), AuthError> {
    let Some(header) = request.headers.get(AUTHORIZATION_HEADER) else {
        if policy.rules.presigned_urls
            && let Some(query) = request.uri.query()
            && query.contains("X-Amz-Signature=")
        {
            return presigned::verify(request, query, credentials, policy, now)
                .map(|principal| (principal, Payload::Unsigned));
        }
        return Err(AuthError::MissingToken);
    };
    let header = header.to_str().map_err(|_| {
        AuthError::Incomplete("The Authorization header is not printable ASCII.".into())
    })?;
    let authorization = parse_authorization(header)?;
    let amz_date = request
        .headers
        .get(DATE_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            AuthError::Incomplete(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                    .into(),
            )
        })?;
    let signed_at = parse_amz_date(amz_date)?;
    check_scope(&authorization, amz_date, policy.service)?;
    check_clock_skew(signed_at, now, policy.max_clock_skew)?;
    let credential = credentials
        .get(authorization.access_key)
        .ok_or(AuthError::UnrecognizedClient)?;
    check_session_token(credential, request.headers)?;
    let (payload_hash, payload) = payload(request, body)?;
    let key = credentials.signing_keys().get(
        credential.access_key_id(),
        credential.secret_access_key(),
        authorization.date,
        authorization.region,
        authorization.service,
    );
    let expected = header_signature(
        request,
        &authorization,
        amz_date,
        &payload_hash,
        policy.rules,
        &key,
    )?;
    if !bool::from(
        expected
            .as_slice()
            .ct_eq(authorization.signature.as_bytes()),
    ) {
        return Err(AuthError::mismatch());
    }
    let payload = match payload {
        Payload::SignedChunks(_) => Payload::SignedChunks(ChunkSigner {
            key,
            amz_date: amz_date.to_owned(),
            scope: format!(
                "{}/{}/{}/{SCOPE_TERMINATOR}",
                authorization.date, authorization.region, authorization.service
            ),
            previous: authorization.signature.to_owned(),
        }),
        other => other,
    };
    Ok((
        VerifiedPrincipal {
            access_key: credential.access_key_id().to_owned(),
            account: credential.account_id().to_owned(),
            region: authorization.region.to_owned(),
        },
        payload,
    ))
}

/// Parses `AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request,
/// SignedHeaders=<h1>;<h2>, Signature=<hex>`.
pub fn parse_authorization(header: &str) -> Result<Authorization<'_>, AuthError> {
    let header = header.trim();
    let (algorithm, rest) = header.split_once(' ').unwrap_or((header, ""));
    if algorithm != ALGORITHM {
        return Err(AuthError::Incomplete(format!(
            "Unsupported Authorization algorithm '{}': only '{ALGORITHM}' is accepted.",
            quote(algorithm)
        )));
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let Some((key, value)) = part.trim().split_once('=') else {
            continue;
        };
        let slot = match key.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(value.trim());
        }
    }
    let mut missing = String::new();
    for (name, value) in [
        ("Credential", credential),
        ("Signature", signature),
        ("SignedHeaders", signed_headers),
    ] {
        if value.is_none_or(str::is_empty) {
            missing.push_str(&format!(
                "Authorization header requires '{name}' parameter. "
            ));
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(AuthError::Incomplete(missing.trim_end().to_owned()));
    };
    if !missing.is_empty() {
        return Err(AuthError::Incomplete(missing.trim_end().to_owned()));
    }
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key, date, region, service, terminator] = parts[..] else {
        return Err(AuthError::Incomplete(format!(
            "Credential should have 5 slash-separated parts \
             (<access key>/<date>/<region>/<service>/aws4_request), not '{}'.",
            quote(credential)
        )));
    };
    if access_key.is_empty() {
        return Err(AuthError::Incomplete(
            "Credential names no access key.".into(),
        ));
    }
    let signed_headers: Vec<&str> = signed_headers.split(';').collect();
    if signed_headers.iter().any(|h| h.is_empty()) {
        return Err(AuthError::Incomplete(format!(
            "SignedHeaders '{}' contains an empty header name.",
            quote(&signed_headers.join(";"))
        )));
    }
    Ok(Authorization {
        access_key,
        date,
        region,
        service,
        terminator,
        signed_headers,
        signature,
    })
}

/// Checks the credential scope against `X-Amz-Date` and the expected service, and
/// that `host` is signed.
pub fn check_scope(
    authorization: &Authorization<'_>,
    amz_date: &str,
    service: &str,
) -> Result<(), AuthError> {
    if authorization.terminator != SCOPE_TERMINATOR {
        return Err(AuthError::InvalidSignature(format!(
            "Credential should be scoped with a valid terminator: '{SCOPE_TERMINATOR}', not '{}'.",
            quote(authorization.terminator)
        )));
    }
    if authorization.service != service {
        return Err(AuthError::InvalidSignature(format!(
            "Credential should be scoped to correct service: '{service}'. "
        )));
    }
    if !is_region_name(authorization.region) {
        return Err(AuthError::InvalidSignature(format!(
            "Credential should be scoped to a valid region, not '{}'. ",
            quote(authorization.region)
        )));
    }
    let http_date = amz_date.get(..8).unwrap_or(amz_date);
    if authorization.date != http_date {
        return Err(AuthError::InvalidSignature(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
             from HTTP: '{}' != '{http_date}', from '{amz_date}'.",
            quote(authorization.date)
        )));
    }
    if !authorization.signed_headers.contains(&HOST_HEADER) {
        return Err(AuthError::InvalidSignature(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".into(),
        ));
    }
    Ok(())
}

/// Checks that `signed_at` is within `max_skew` of `now`, in either direction; the
/// messages are AWS's.
pub fn check_clock_skew(
    signed_at: SystemTime,
    now: SystemTime,
    max_skew: Duration,
) -> Result<(), AuthError> {
    if signed_at + max_skew < now {
        return Err(AuthError::InvalidSignature(format!(
            "Signature expired: {} is now earlier than {} ({} - {}.)",
            format_amz_date(signed_at),
            format_amz_date(now - max_skew),
            format_amz_date(now),
            describe_skew(max_skew),
        )));
    }
    if signed_at > now + max_skew {
        return Err(AuthError::InvalidSignature(format!(
            "Signature not yet current: {} is still later than {} ({} + {}.)",
            format_amz_date(signed_at),
            format_amz_date(now + max_skew),
            format_amz_date(now),
            describe_skew(max_skew),
        )));
    }
    Ok(())
}

fn describe_skew(skew: Duration) -> String {
    let secs = skew.as_secs();
    if secs > 0 && secs.is_multiple_of(60) {
        format!("{} min", secs / 60)
    } else {
        format!("{secs} sec")
    }
}

/// A key configured with a session token needs it in `X-Amz-Security-Token`; a key
/// without one must not receive one.
fn check_session_token(credential: &Credential, headers: &HeaderMap) -> Result<(), AuthError> {
    let sent = headers.get(SECURITY_TOKEN_HEADER).map(|v| v.as_bytes());
    let ok = match (credential.session_token(), sent) {
        (None, None) => true,
        (Some(expected), Some(sent)) => bool::from(expected.as_bytes().ct_eq(sent)),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(AuthError::UnrecognizedClient)
    }
}

/// The hex signature of `request` in the `Authorization` header form of SigV4, signed
/// at `amz_date` with `key` over `payload_hash`.
fn header_signature(
    request: &SignedRequest<'_>,
    authorization: &Authorization<'_>,
    amz_date: &str,
    payload_hash: &str,
    rules: SigningRules,
    key: &SigningKey,
) -> Result<[u8; 64], AuthError> {
    let headers = SignedHeaders::collect(
        request.headers,
        &authorization.signed_headers,
        Location::Header { amz_date },
    )?;
    let canonical = CanonicalRequest {
        method: request.method,
        path: signed_path(request.uri)?,
        query: form_urlencoded::parse(request.uri.query().unwrap_or_default().as_bytes()),
        payload_hash,
        rules,
    };
    Ok(key.sign_request(
        amz_date,
        [
            authorization.date,
            authorization.region,
            authorization.service,
        ],
        &canonical.hash(&headers),
    ))
}

/// The path a signature covers: that of an origin-form target (`/` when empty); a
/// target of another form (`*`) cannot have been signed.
fn signed_path(uri: &Uri) -> Result<&str, AuthError> {
    let path = uri.path_and_query().map_or("/", |pq| pq.path());
    if path.starts_with('/') {
        Ok(path)
    } else {
        Err(AuthError::mismatch())
    }
}

/// The payload hash the signature covers: `x-amz-content-sha256` when sent (then it
/// must be the hash of a read body, or `UNSIGNED-PAYLOAD`), else the hash of the body
/// bytes; and what the reader of a deferred body must check.
fn payload<'a>(
    request: &SignedRequest<'a>,
    body: BodyState<'a>,
) -> Result<(Cow<'a, str>, Payload), AuthError> {
    let Some(declared) = request.headers.get(CONTENT_SHA256_HEADER) else {
        return match body {
            BodyState::Read(bytes) => Ok((
                Cow::Owned(hex::encode(Sha256::digest(bytes))),
                Payload::Unsigned,
            )),
            BodyState::Deferred => Err(AuthError::Incomplete(
                "Missing required header for this request: x-amz-content-sha256".into(),
            )),
        };
    };
    let declared = declared.to_str().map_err(|_| AuthError::mismatch())?;
    if declared == UNSIGNED_PAYLOAD {
        return Ok((Cow::Borrowed(UNSIGNED_PAYLOAD), Payload::Unsigned));
    }
    let BodyState::Read(bytes) = body else {
        let payload = Payload::declared(declared)?;
        return Ok((Cow::Borrowed(declared), payload));
    };
    let actual = hex::encode(Sha256::digest(bytes));
    if !declared.eq_ignore_ascii_case(&actual) {
        return Err(content_sha256_mismatch());
    }
    Ok((Cow::Borrowed(declared), Payload::Unsigned))
}

/// The error of a body whose SHA-256 is not the one `x-amz-content-sha256` declared.
pub fn content_sha256_mismatch() -> AuthError {
    AuthError::InvalidSignature(
        "The provided 'x-amz-content-sha256' header does not match what was computed.".into(),
    )
}

/// Whether `region` looks like a region name: lower-case letters and digits in
/// hyphen-separated groups, at most 64 characters (it ends up in ARNs).
pub fn is_region_name(region: &str) -> bool {
    !region.is_empty()
        && region.len() <= 64
        && region.split('-').all(|g| {
            !g.is_empty()
                && g.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// Parses `YYYYMMDD'T'HHMMSS'Z'` (UTC).
pub fn parse_amz_date(text: &str) -> Result<SystemTime, AuthError> {
    let invalid = || {
        AuthError::Incomplete(format!(
            "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
            quote(text)
        ))
    };
    let bytes = text.as_bytes();
    if bytes.len() != 16 || bytes[8] != b'T' || bytes[15] != b'Z' {
        return Err(invalid());
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = text.get(range)?;
        if digits.bytes().all(|b| b.is_ascii_digit()) {
            digits.parse().ok()
        } else {
            None
        }
    };
    let fields = (
        number(0..4),
        number(4..6),
        number(6..8),
        number(9..11),
        number(11..13),
        number(13..15),
    );
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = fields
    else {
        return Err(invalid());
    };
    if year < 1970
        || !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return Err(invalid());
    }
    let days = days_from_civil(i64::from(year), month, day);
    let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    let secs = u64::try_from(secs).map_err(|_| invalid())?;
    Ok(UNIX_EPOCH + Duration::from_secs(secs))
}

/// Formats a time as `YYYYMMDD'T'HHMMSS'Z'` (UTC); times before 1970 print as 1970.
pub fn format_amz_date(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    let rest = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

/// Client input quoted in a message, cut to a bounded length.
fn quote(text: &str) -> Cow<'_, str> {
    if text.chars().count() <= QUOTE_LIMIT {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(format!(
            "{}...",
            text.chars().take(QUOTE_LIMIT).collect::<String>()
        ))
    }
}

#[cfg(test)]
mod tests;
