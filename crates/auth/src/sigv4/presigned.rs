//! Query-string SigV4 (presigned URLs): the signature, credential, date and expiry
//! are query parameters, the payload is never signed, and the URL is valid from its
//! `X-Amz-Date` (less the allowed skew) until `X-Amz-Expires` seconds later.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use subtle::ConstantTimeEq;

use super::canonical::{CanonicalRequest, Location, SignedHeaders};
use super::signing_key::SigningKey;
use super::{
    ALGORITHM, AuthError, Authorization, Policy, SCOPE_TERMINATOR, SignedRequest, SigningRules,
    UNSIGNED_PAYLOAD, VerifiedPrincipal, check_scope, parse_amz_date, quote, signed_path,
};
use crate::credentials::CredentialRegistry;

/// Longest validity a presigned URL may declare: seven days.
pub const MAX_EXPIRES_SECS: u64 = 604_800;

/// The query parameters that carry the signature rather than being signed.
pub(super) const AUTH_PARAMS: [&str; 7] = [
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
    let key = credentials.signing_keys().get(
        credential.access_key_id(),
        credential.secret_access_key(),
        date,
        region,
        service,
    );
    let signed = QuerySignature {
        authorization: &authorization,
        amz_date: &amz_date,
        expires,
        token: token.as_deref(),
    };
    let expected = signed.signature(request, query, policy.rules, &key)?;
    if bool::from(expected.as_slice().ct_eq(signature.as_bytes())) {
        Ok(VerifiedPrincipal {
            access_key: credential.access_key_id().to_owned(),
            account: credential.account_id().to_owned(),
            region: region.to_owned(),
        })
    } else {
        Err(AuthError::mismatch())
    }
}

/// The query parameters of a presigned URL that its signature covers besides the
/// URL's own.
pub(super) struct QuerySignature<'a> {
    /// Credential scope, signed headers and signature.
    pub authorization: &'a Authorization<'a>,
    /// `X-Amz-Date`.
    pub amz_date: &'a str,
    /// `X-Amz-Expires`, in seconds.
    pub expires: u64,
    /// `X-Amz-Security-Token`, when sent.
    pub token: Option<&'a str>,
}

impl QuerySignature<'_> {
    /// The hex signature of `request` (whose query string is `query`) signed with `key`:
    /// the URL as it was before signing (every parameter but the signature's, as sent),
    /// with the signer's own parameters added, and an unsigned payload.
    pub(super) fn signature(
        &self,
        request: &SignedRequest<'_>,
        query: &str,
        rules: SigningRules,
        key: &SigningKey,
    ) -> Result<[u8; 64], AuthError> {
        let auth = self.authorization;
        let headers =
            SignedHeaders::collect(request.headers, &auth.signed_headers, Location::Query)?;
        let mut signed_names = String::new();
        headers.write_names(&mut signed_names);
        let credential = format!(
            "{}/{}/{}/{}/{SCOPE_TERMINATOR}",
            auth.access_key, auth.date, auth.region, auth.service
        );
        let expires = self.expires.to_string();
        let mut added = vec![
            ("X-Amz-Date", self.amz_date),
            ("X-Amz-Expires", expires.as_str()),
            ("X-Amz-Algorithm", ALGORITHM),
            ("X-Amz-Credential", credential.as_str()),
            ("X-Amz-SignedHeaders", signed_names.as_str()),
        ];
        if let Some(token) = self.token {
            added.push(("X-Amz-Security-Token", token));
        }
        let unsigned = query
            .split('&')
            .filter(|pair| {
                let name = pair.split_once('=').map_or(*pair, |(name, _)| name);
                !AUTH_PARAMS.contains(&name)
            })
            .flat_map(form_pairs);
        let canonical = CanonicalRequest {
            method: request.method,
            path: signed_path(request.uri)?,
            query: unsigned.chain(
                added
                    .into_iter()
                    .map(|(name, value)| (Cow::Borrowed(name), Cow::Borrowed(value))),
            ),
            payload_hash: UNSIGNED_PAYLOAD,
            rules,
        };
        Ok(key.sign_request(
            self.amz_date,
            [auth.date, auth.region, auth.service],
            &canonical.hash(&headers),
        ))
    }
}

/// The decoded `name=value` pairs of a query string.
fn form_pairs(query: &str) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    form_urlencoded::parse(query.as_bytes())
}
