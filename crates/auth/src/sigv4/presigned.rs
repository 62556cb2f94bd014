//! Query-string SigV4 (presigned URLs): the signature, credential, date and expiry
//! are query parameters, the payload is never signed, and the URL is valid from its
//! `X-Amz-Date` (less the allowed skew) until `X-Amz-Expires` seconds later.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use subtle::ConstantTimeEq;

use super::{
    ALGORITHM, AuthError, Authorization, PLACEHOLDER_AUTHORITY, Policy, SignedRequest,
    VerifiedPrincipal, apply_rules, check_scope, parse_amz_date, quote,
};
use crate::credentials::CredentialRegistry;

/// Longest validity a presigned URL may declare: seven days.
pub const MAX_EXPIRES_SECS: u64 = 604_800;

/// The query parameters that carry the signature rather than being signed.
const AUTH_PARAMS: [&str; 7] = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Security-Token",
    "X-Amz-Signature",
];

/// Verifies the query-string signature of `request`.
pub(super) fn verify(
    request: &SignedRequest<'_>,
    query: &str,
    credentials: &CredentialRegistry,
    policy: &Policy<'_>,
    now: SystemTime,
) -> Result<VerifiedPrincipal, AuthError> {
    let param = |name: &str| -> Option<Cow<'_, str>> {
        form_pairs(query).find(|(k, _)| k == name).map(|(_, v)| v)
    };
    let missing = |name: &str| {
        AuthError::Incomplete(format!(
            "Query-string authentication requires the {name} parameter."
        ))
    };
    let algorithm = param("X-Amz-Algorithm").ok_or_else(|| missing("X-Amz-Algorithm"))?;
    if algorithm != ALGORITHM {
        return Err(AuthError::Incomplete(format!(
            "X-Amz-Algorithm only supports '{ALGORITHM}', not '{}'.",
            quote(&algorithm)
        )));
    }
    let credential = param("X-Amz-Credential").ok_or_else(|| missing("X-Amz-Credential"))?;
    let amz_date = param("X-Amz-Date").ok_or_else(|| missing("X-Amz-Date"))?;
    let expires = param("X-Amz-Expires").ok_or_else(|| missing("X-Amz-Expires"))?;
    let signed_headers =
        param("X-Amz-SignedHeaders").ok_or_else(|| missing("X-Amz-SignedHeaders"))?;
    let signature = param("X-Amz-Signature").ok_or_else(|| missing("X-Amz-Signature"))?;
    let token = param("X-Amz-Security-Token");
    let expires: u64 = expires
        .parse()
        .ok()
        .filter(|secs| (1..=MAX_EXPIRES_SECS).contains(secs))
        .ok_or_else(|| {
            AuthError::Incomplete(format!(
                "X-Amz-Expires must be a number of seconds from 1 to {MAX_EXPIRES_SECS}."
            ))
        })?;
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key, date, region, service, terminator] = parts[..] else {
        return Err(AuthError::Incomplete(format!(
            "Credential should have 5 slash-separated parts, not '{}'.",
            quote(&credential)
        )));
    };
    let authorization = Authorization {
        access_key,
        date,
        region,
        service,
        terminator,
        signed_headers: signed_headers.split(';').collect(),
        signature: &signature,
    };
    let signed_at = parse_amz_date(&amz_date)?;
    check_scope(&authorization, &amz_date, policy.service)?;
    if signed_at > now + policy.max_clock_skew {
        return Err(AuthError::InvalidSignature(
            "Request is not valid yet".into(),
        ));
    }
    if signed_at + Duration::from_secs(expires) < now {
        return Err(AuthError::Expired);
    }
    let credential = credentials
        .get(access_key)
        .ok_or(AuthError::UnrecognizedClient)?;
    let token_ok = match (credential.session_token(), token.as_deref()) {
        (None, None) => true,
        (Some(expected), Some(sent)) => bool::from(expected.as_bytes().ct_eq(sent.as_bytes())),
        _ => false,
    };
    if !token_ok {
        return Err(AuthError::UnrecognizedClient);
    }
    // The URL as it was before signing: every parameter but the signature's, as sent.
    let unsigned_query: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let name = pair.split_once('=').map_or(*pair, |(name, _)| name);
            !AUTH_PARAMS.contains(&name)
        })
        .collect();
    let path = request.uri.path();
    let uri = if unsigned_query.is_empty() {
        format!("http://{PLACEHOLDER_AUTHORITY}{path}")
    } else {
        format!(
            "http://{PLACEHOLDER_AUTHORITY}{path}?{}",
            unsigned_query.join("&")
        )
    };
    let mut headers: Vec<(&str, &str)> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for &name in &authorization.signed_headers {
        if seen.contains(&name) {
            continue;
        }
        seen.push(name);
        for value in request.headers.get_all(name) {
            let value = value.to_str().map_err(|_| AuthError::mismatch())?;
            headers.push((name, value));
        }
    }
    let signable = SignableRequest::new(
        request.method,
        uri,
        headers.into_iter(),
        SignableBody::UnsignedPayload,
    )
    .map_err(|_| AuthError::mismatch())?;
    let identity = Credentials::new(
        access_key,
        credential.secret_access_key(),
        token.as_deref().map(str::to_owned),
        None,
        "weir-verifier",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.excluded_headers = None;
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(expires));
    apply_rules(&mut settings, policy.rules);
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(signed_at)
        .settings(settings)
        .build()
        .map_err(|_| AuthError::mismatch())?
        .into();
    let (_, expected) = sign(signable, &params)
        .map_err(|_| AuthError::mismatch())?
        .into_parts();
    if bool::from(expected.as_bytes().ct_eq(signature.as_bytes())) {
        Ok(VerifiedPrincipal {
            access_key: credential.access_key_id().to_owned(),
            account: credential.account_id().to_owned(),
            region: region.to_owned(),
        })
    } else {
        Err(AuthError::mismatch())
    }
}

/// The decoded `name=value` pairs of a query string.
fn form_pairs(query: &str) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    form_urlencoded::parse(query.as_bytes())
}
