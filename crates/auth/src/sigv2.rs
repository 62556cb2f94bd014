//! Query-string signatures of the older scheme (AWS signature version 2,
//! `AWSAccessKeyId`, `Expires`, `Signature`), which S3 still accepts and which boto3
//! generates by default for presigned URLs in us-east-1: an HMAC-SHA1 of the method,
//! `Content-MD5`, `Content-Type`, the expiry, the `x-amz-*` headers and the path
//! with its signed sub-resources.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

use crate::credentials::CredentialRegistry;
use crate::sigv4::{AuthError, SIGNATURE_MISMATCH_MESSAGE, SignedRequest, VerifiedPrincipal};

/// The query parameter naming the access key of a version 2 signature.
pub const ACCESS_KEY_PARAM: &str = "AWSAccessKeyId";

/// Query parameters that are part of the signed resource.
const SIGNED_SUBRESOURCES: [&str; 34] = [
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "defaultObjectAcl",
    "delete",
    "inventory",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "partNumber",
    "policy",
    "replication",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "select",
    "select-type",
    "storageClass",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
];

/// Whether `query` carries a version 2 query-string signature.
pub fn is_presigned(query: &str) -> bool {
    query
        .split('&')
        .any(|pair| pair.starts_with("AWSAccessKeyId="))
        && query.split('&').any(|pair| pair.starts_with("Signature="))
}

/// Verifies the version 2 query-string signature of `request`; the principal acts in
/// `region` (the scheme names none).
pub fn verify_query(
    request: &SignedRequest<'_>,
    query: &str,
    credentials: &CredentialRegistry,
    region: &str,
    now: SystemTime,
) -> Result<VerifiedPrincipal, AuthError> {
    let param = |name: &str| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let missing = |name: &str| {
        AuthError::Incomplete(format!(
            "Query-string authentication requires the {name} parameter."
        ))
    };
    let access_key = param(ACCESS_KEY_PARAM).ok_or_else(|| missing(ACCESS_KEY_PARAM))?;
    let signature = param("Signature").ok_or_else(|| missing("Signature"))?;
    let expires = param("Expires").ok_or_else(|| missing("Expires"))?;
    let expires_at: u64 = expires
        .parse()
        .map_err(|_| AuthError::Incomplete("Expires must be a number of seconds.".into()))?;
    if UNIX_EPOCH + Duration::from_secs(expires_at) < now {
        return Err(AuthError::Expired);
    }
    let credential = credentials
        .get(&access_key)
        .ok_or(AuthError::UnrecognizedClient)?;
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .trim()
    };
    let mut amz_headers: Vec<(String, String)> = request
        .headers
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("x-amz-"))
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).trim().to_owned(),
            )
        })
        .collect();
    amz_headers.sort();
    let mut subresources: Vec<(String, Option<String>)> = query
        .split('&')
        .filter_map(|pair| {
            let (name, value) = match pair.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (pair, None),
            };
            SIGNED_SUBRESOURCES.contains(&name).then(|| {
                let value = value.map(|v| {
                    percent_encoding::percent_decode_str(v)
                        .decode_utf8_lossy()
                        .into_owned()
                });
                (name.to_owned(), value)
            })
        })
        .collect();
    subresources.sort();
    let mut resource = request.uri.path().to_owned();
    if !subresources.is_empty() {
        let pairs: Vec<String> = subresources
            .into_iter()
            .map(|(name, value)| match value {
                Some(value) => format!("{name}={value}"),
                None => name,
            })
            .collect();
        resource.push('?');
        resource.push_str(&pairs.join("&"));
    }
    let mut string_to_sign = format!(
        "{}\n{}\n{}\n{expires}\n",
        request.method,
        header("content-md5"),
        header("content-type"),
    );
    for (name, value) in &amz_headers {
        string_to_sign.push_str(&format!("{name}:{value}\n"));
    }
    string_to_sign.push_str(&resource);
    let mut mac = Hmac::<Sha1>::new_from_slice(credential.secret_access_key().as_bytes())
        .map_err(|_| AuthError::InvalidSignature(SIGNATURE_MISMATCH_MESSAGE.into()))?;
    mac.update(string_to_sign.as_bytes());
    let expected = BASE64.encode(mac.finalize().into_bytes());
    if bool::from(expected.as_bytes().ct_eq(signature.as_bytes())) {
        Ok(VerifiedPrincipal {
            access_key: credential.access_key_id().to_owned(),
            account: credential.account_id().to_owned(),
            region: region.to_owned(),
        })
    } else {
        Err(AuthError::InvalidSignature(
            SIGNATURE_MISMATCH_MESSAGE.into(),
        ))
    }
}
