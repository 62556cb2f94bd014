//! Table tests of the SigV4 verifier: published AWS test vectors (the SigV4 test
//! suite, as shipped in `aws-sigv4`'s `aws-signing-test-suite/v4`), then one good
//! request and each kind of bad one, all at a fixed `now`; then the signatures the
//! verifier expects, held equal to those `aws-sigv4` computes for generated requests.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use http::{HeaderMap, HeaderName, HeaderValue, Uri};
use proptest::prelude::*;

use super::presigned::{AUTH_PARAMS, QuerySignature};
use super::*;
use crate::credentials::{Credential, CredentialRegistry};

// ---- published vectors -------------------------------------------------------------

const VECTOR_KEY: &str = "AKIDEXAMPLE";
const VECTOR_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const VECTOR_TOKEN: &str = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";
/// `2015-08-30T12:36:00Z`, the signing time of every vector.
const VECTOR_TIME: u64 = 1_440_938_160;

/// (name, signed request as published, whether the key has the session token)
const VECTORS: &[(&str, &str, bool)] = &[
    (
        "get-vanilla",
        "GET / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\nAuthorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31\n\n",
        false,
    ),
    (
        "post-vanilla",
        "POST / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\nAuthorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b\n\n",
        false,
    ),
    (
        "post-vanilla-query",
        "POST /?Param1=value1 HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\nAuthorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11\n\n",
        false,
    ),
    (
        "get-vanilla-query-order-key-case",
        "GET /?Param2=value2&Param1=value1 HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\nAuthorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500\n\n",
        false,
    ),
    (
        "post-header-value-case",
        "POST / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:VALUE1\nX-Amz-Date:20150830T123600Z\nAuthorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, Signature=cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d\n\n",
        false,
    ),
    (
        "get-header-value-trim",
        "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1: value1\nMy-Header2: \"a   b   c\"\nX-Amz-Date:20150830T123600Z\nAuthorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;my-header2;x-amz-date, Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736\n\n",
        false,
    ),
    (
        "get-header-key-duplicate",
        "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:value2\nMy-Header1:value2\nMy-Header1:value1\nX-Amz-Date:20150830T123600Z\nAuthorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, Signature=c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea\n\n",
        false,
    ),
    (
        "post-x-www-form-urlencoded",
        "POST / HTTP/1.1\nContent-Type:application/x-www-form-urlencoded\nHost:example.amazonaws.com\nContent-Length:13\nX-Amz-Date:20150830T123600Z\nx-amz-content-sha256:9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e\nAuthorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date, Signature=d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b\n\nParam1=value1",
        false,
    ),
    (
        "post-sts-header-before",
        "POST / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Security-Token:AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==\nX-Amz-Date:20150830T123600Z\nAuthorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead\n\n",
        true,
    ),
];

/// A request parsed from the published text form.
struct Parsed {
    method: String,
    uri: Uri,
    headers: HeaderMap,
    body: Vec<u8>,
}

fn parse_vector(text: &str) -> Parsed {
    let (head, body) = text
        .split_once("\n\n")
        .expect("blank line after the headers");
    let mut lines = head.lines();
    let request_line = lines.next().expect("request line");
    let mut words = request_line.split(' ');
    let method = words.next().expect("method").to_owned();
    let uri: Uri = words.next().expect("target").parse().expect("uri");
    let mut headers = HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').expect("header line");
        headers.append(
            HeaderName::from_bytes(name.as_bytes()).expect("name"),
            // As an HTTP parser does: optional whitespace around the value is dropped.
            HeaderValue::from_str(value.trim_matches(' ')).expect("value"),
        );
    }
    Parsed {
        method,
        uri,
        headers,
        body: body.as_bytes().to_vec(),
    }
}

#[test]
fn published_aws_vectors_verify() {
    let now = UNIX_EPOCH + Duration::from_secs(VECTOR_TIME);
    let policy = Policy {
        service: "service",
        max_clock_skew: DEFAULT_MAX_CLOCK_SKEW,
        rules: SigningRules::default(),
    };
    for (name, text, with_token) in VECTORS {
        let token = with_token.then(|| VECTOR_TOKEN.to_owned());
        let registry = CredentialRegistry::new(vec![Credential::new(
            VECTOR_KEY,
            VECTOR_SECRET,
            "123456789012",
            token,
        )])
        .expect("registry");
        let parsed = parse_vector(text);
        let request = SignedRequest {
            method: &parsed.method,
            uri: &parsed.uri,
            headers: &parsed.headers,
            body: &parsed.body,
        };
        let principal =
            verify(&request, &registry, &policy, now).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(principal.access_key, VECTOR_KEY, "{name}");
        assert_eq!(principal.region, "us-east-1", "{name}");

        // The same request with the last signature digit changed must fail.
        let mut tampered = parsed.headers.clone();
        let auth = tampered
            .get(AUTHORIZATION_HEADER)
            .and_then(|v| v.to_str().ok())
            .expect("authorization")
            .to_owned();
        let last = if auth.ends_with('0') { "1" } else { "0" };
        let bad = format!("{}{last}", &auth[..auth.len() - 1]);
        tampered.insert(
            AUTHORIZATION_HEADER,
            HeaderValue::from_str(&bad).expect("value"),
        );
        let request = SignedRequest {
            headers: &tampered,
            ..request
        };
        assert_eq!(
            verify(&request, &registry, &policy, now),
            Err(AuthError::mismatch()),
            "{name} with a changed signature"
        );
    }
}

// ---- table of good and bad requests ---------------------------------------------------

const NOW: u64 = 1_767_225_600; // 2026-01-01T00:00:00Z
const BODY: &[u8] = br#"{"Name":"wf"}"#;

fn registry() -> CredentialRegistry {
    CredentialRegistry::new(vec![
        Credential::new("AKIDALICE", "alice-secret", "111111111111", None),
        Credential::new(
            "ASIABOB",
            "bob-secret",
            "222222222222",
            Some("bob-token".into()),
        ),
    ])
    .expect("registry")
}

/// How the client signs; each case changes one thing.
#[derive(Clone)]
struct Client {
    key: &'static str,
    secret: &'static str,
    token: Option<&'static str>,
    region: &'static str,
    service: &'static str,
    signed_at: SystemTime,
    body: Vec<u8>,
}

impl Default for Client {
    fn default() -> Self {
        Self {
            key: "AKIDALICE",
            secret: "alice-secret",
            token: None,
            region: "us-east-1",
            service: "glue",
            signed_at: UNIX_EPOCH + Duration::from_secs(NOW),
            body: BODY.to_vec(),
        }
    }
}

/// Signs a Glue request as aws-sdk-rust would; returns its headers and body.
fn signed(client: &Client) -> (HeaderMap, Vec<u8>) {
    let base = [
        ("host", "localhost:5599"),
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", "AWSGlue.GetWorkflow"),
    ];
    let identity = Credentials::new(
        client.key,
        client.secret,
        client.token.map(str::to_owned),
        None,
        "test",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(client.region)
        .name(client.service)
        .time(client.signed_at)
        .settings(SigningSettings::default())
        .build()
        .expect("params")
        .into();
    let request = SignableRequest::new(
        "POST",
        "http://localhost:5599/",
        base.iter().copied(),
        SignableBody::Bytes(&client.body),
    )
    .expect("signable");
    let (instructions, _) = sign(request, &params).expect("sign").into_parts();
    let mut headers = HeaderMap::new();
    for (name, value) in base.iter().copied().chain(instructions.headers()) {
        headers.append(
            HeaderName::from_bytes(name.as_bytes()).expect("name"),
            HeaderValue::from_str(value).expect("value"),
        );
    }
    (headers, client.body.clone())
}

type Tamper = fn(&mut HeaderMap, &mut Vec<u8>);

fn set(headers: &mut HeaderMap, name: &'static str, value: &str) {
    headers.insert(name, HeaderValue::from_str(value).expect("value"));
}

fn rewrite_authorization(headers: &mut HeaderMap, from: &str, to: &str) {
    let auth = headers
        .get(AUTHORIZATION_HEADER)
        .and_then(|v| v.to_str().ok())
        .expect("authorization")
        .replace(from, to);
    set(headers, AUTHORIZATION_HEADER, &auth);
}

/// `Ok(region)` or `Err((code, message fragment))`.
type Expected = Result<&'static str, (&'static str, &'static str)>;

#[test]
fn verifier_table() {
    let minutes = |m: u64| Duration::from_secs(m * 60);
    let now = UNIX_EPOCH + Duration::from_secs(NOW);
    let no_tamper: Tamper = |_, _| {};
    let cases: Vec<(&str, Client, Tamper, Expected)> = vec![
        ("good", Client::default(), no_tamper, Ok("us-east-1")),
        (
            "any region becomes the request's region",
            Client {
                region: "eu-west-3",
                ..Client::default()
            },
            no_tamper,
            Ok("eu-west-3"),
        ),
        (
            "four minutes old is within the skew",
            Client {
                signed_at: now - minutes(4),
                ..Client::default()
            },
            no_tamper,
            Ok("us-east-1"),
        ),
        (
            "four minutes ahead is within the skew",
            Client {
                signed_at: now + minutes(4),
                ..Client::default()
            },
            no_tamper,
            Ok("us-east-1"),
        ),
        (
            "session token sent and matching",
            Client {
                key: "ASIABOB",
                secret: "bob-secret",
                token: Some("bob-token"),
                ..Client::default()
            },
            no_tamper,
            Ok("us-east-1"),
        ),
        (
            "an unsigned extra header does not matter",
            Client::default(),
            |h, _| set(h, "user-agent", "something else"),
            Ok("us-east-1"),
        ),
        (
            "wrong secret",
            Client {
                secret: "not-the-secret",
                ..Client::default()
            },
            no_tamper,
            Err(("InvalidSignatureException", "does not match")),
        ),
        (
            "unknown access key",
            Client {
                key: "AKIDNOBODY",
                ..Client::default()
            },
            no_tamper,
            Err((
                "UnrecognizedClientException",
                "security token included in the request is invalid",
            )),
        ),
        (
            "no Authorization header",
            Client::default(),
            |h, _| {
                h.remove(AUTHORIZATION_HEADER);
            },
            Err((
                "MissingAuthenticationTokenException",
                "Missing Authentication Token",
            )),
        ),
        (
            "tampered body",
            Client::default(),
            |_, b| *b = br#"{"Name":"other"}"#.to_vec(),
            Err(("InvalidSignatureException", "does not match")),
        ),
        (
            "tampered signed header",
            Client::default(),
            |h, _| set(h, "x-amz-target", "AWSGlue.DeleteWorkflow"),
            Err(("InvalidSignatureException", "does not match")),
        ),
        (
            "signed header removed",
            Client::default(),
            |h, _| {
                h.remove("content-type");
            },
            Err(("InvalidSignatureException", "does not match")),
        ),
        (
            "twenty minutes old",
            Client {
                signed_at: now - minutes(20),
                ..Client::default()
            },
            no_tamper,
            Err((
                "InvalidSignatureException",
                "Signature expired: 20251231T234000Z is now earlier than 20251231T235500Z (20260101T000000Z - 5 min.)",
            )),
        ),
        (
            "twenty minutes ahead",
            Client {
                signed_at: now + minutes(20),
                ..Client::default()
            },
            no_tamper,
            Err((
                "InvalidSignatureException",
                "Signature not yet current: 20260101T002000Z is still later than 20260101T000500Z (20260101T000000Z + 5 min.)",
            )),
        ),
        (
            "scope of another service",
            Client {
                service: "s3",
                ..Client::default()
            },
            no_tamper,
            Err((
                "InvalidSignatureException",
                "Credential should be scoped to correct service: 'glue'.",
            )),
        ),
        (
            "scope date differs from X-Amz-Date",
            Client::default(),
            |h, _| rewrite_authorization(h, "/20260101/", "/20251231/"),
            Err((
                "InvalidSignatureException",
                "Date in Credential scope does not match",
            )),
        ),
        (
            "region that cannot be a region",
            Client {
                region: "Not_A_Region",
                ..Client::default()
            },
            no_tamper,
            Err(("InvalidSignatureException", "valid region")),
        ),
        (
            "bad scope terminator",
            Client::default(),
            |h, _| rewrite_authorization(h, "/aws4_request", "/aws5_request"),
            Err(("InvalidSignatureException", "terminator")),
        ),
        (
            "host not signed",
            Client::default(),
            |h, _| {
                rewrite_authorization(
                    h,
                    "SignedHeaders=content-type;host;",
                    "SignedHeaders=content-type;",
                )
            },
            Err((
                "InvalidSignatureException",
                "'Host' or ':authority' must be a 'SignedHeader'",
            )),
        ),
        (
            "missing X-Amz-Date",
            Client::default(),
            |h, _| {
                h.remove(DATE_HEADER);
            },
            Err(("IncompleteSignatureException", "X-Amz-Date")),
        ),
        (
            "malformed X-Amz-Date",
            Client::default(),
            |h, _| set(h, DATE_HEADER, "2026-01-01T00:00:00Z"),
            Err(("IncompleteSignatureException", "ISO-8601")),
        ),
        (
            "impossible X-Amz-Date",
            Client::default(),
            |h, _| set(h, DATE_HEADER, "20260230T000000Z"),
            Err(("IncompleteSignatureException", "ISO-8601")),
        ),
        (
            "Authorization without Signature",
            Client::default(),
            |h, _| {
                set(
                    h,
                    AUTHORIZATION_HEADER,
                    "AWS4-HMAC-SHA256 Credential=AKIDALICE/20260101/us-east-1/glue/aws4_request, SignedHeaders=host",
                )
            },
            Err((
                "IncompleteSignatureException",
                "requires 'Signature' parameter",
            )),
        ),
        (
            "Authorization of another scheme",
            Client::default(),
            |h, _| set(h, AUTHORIZATION_HEADER, "Bearer abc"),
            Err(("IncompleteSignatureException", "AWS4-HMAC-SHA256")),
        ),
        (
            "Credential with too few parts",
            Client::default(),
            |h, _| rewrite_authorization(h, "AKIDALICE/20260101/", "AKIDALICE/"),
            Err(("IncompleteSignatureException", "5 slash-separated parts")),
        ),
        (
            "signature in upper case",
            Client::default(),
            |h, _| {
                let auth = h
                    .get(AUTHORIZATION_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .expect("auth")
                    .to_owned();
                let (head, sig) = auth.split_once("Signature=").expect("signature");
                set(
                    h,
                    AUTHORIZATION_HEADER,
                    &format!("{head}Signature={}", sig.to_uppercase()),
                );
            },
            Err(("InvalidSignatureException", "does not match")),
        ),
        (
            "session token missing",
            Client {
                key: "ASIABOB",
                secret: "bob-secret",
                ..Client::default()
            },
            no_tamper,
            Err(("UnrecognizedClientException", "invalid")),
        ),
        (
            "session token wrong",
            Client {
                key: "ASIABOB",
                secret: "bob-secret",
                token: Some("stolen"),
                ..Client::default()
            },
            no_tamper,
            Err(("UnrecognizedClientException", "invalid")),
        ),
        (
            "session token sent for a key without one",
            Client {
                token: Some("bob-token"),
                ..Client::default()
            },
            no_tamper,
            Err(("UnrecognizedClientException", "invalid")),
        ),
        (
            "x-amz-content-sha256 not the body's hash",
            Client::default(),
            |h, _| set(h, CONTENT_SHA256_HEADER, &"0".repeat(64)),
            Err(("InvalidSignatureException", "x-amz-content-sha256")),
        ),
    ];
    let registry = registry();
    let policy = Policy::default();
    for (name, client, tamper, expected) in cases {
        let (mut headers, mut body) = signed(&client);
        tamper(&mut headers, &mut body);
        let uri = Uri::from_static("/");
        let request = SignedRequest {
            method: "POST",
            uri: &uri,
            headers: &headers,
            body: &body,
        };
        let result = verify(&request, &registry, &policy, now);
        match (expected, result) {
            (Ok(region), Ok(principal)) => {
                assert_eq!(principal.region, region, "{name}");
                assert_eq!(principal.access_key, client.key, "{name}");
                let account = registry.get(client.key).map(|c| c.account_id().to_owned());
                assert_eq!(Some(principal.account), account, "{name}");
            }
            (Err((code, fragment)), Err(error)) => {
                assert_eq!(wire_code(&error), code, "{name}: {error}");
                assert!(error.to_string().contains(fragment), "{name}: {error}");
            }
            (expected, got) => panic!("{name}: expected {expected:?}, got {got:?}"),
        }
    }
}

#[test]
fn amz_dates_round_trip() {
    for text in [
        "19700101T000000Z",
        "20000229T235959Z",
        "20260101T000000Z",
        "21000301T120000Z",
    ] {
        let time = parse_amz_date(text).expect(text);
        assert_eq!(format_amz_date(time), text);
    }
    assert_eq!(
        parse_amz_date("20150830T123600Z"),
        Ok(UNIX_EPOCH + Duration::from_secs(VECTOR_TIME))
    );
    for bad in [
        "",
        "20150830T123600",
        "20150830 123600Z",
        "2015083XT123600Z",
        "21000229T000000Z",
        "20151330T000000Z",
        "19691231T235959Z",
        "２0150830T123600Z",
    ] {
        assert!(parse_amz_date(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn region_names() {
    for good in ["us-east-1", "eu-west-3", "us-gov-west-1", "local"] {
        assert!(is_region_name(good), "{good}");
    }
    for bad in [
        "",
        "-",
        "us--east",
        "US-EAST-1",
        "us east",
        "us/east",
        "a:b",
        &"a".repeat(65),
    ] {
        assert!(!is_region_name(bad), "{bad}");
    }
}

/// The error code AWS's JSON services answer for each verification failure (the
/// server's `ApiError` renders them so, always with status 400).
fn wire_code(error: &AuthError) -> &'static str {
    match error {
        AuthError::MissingToken => "MissingAuthenticationTokenException",
        AuthError::Incomplete(_) => "IncompleteSignatureException",
        AuthError::UnrecognizedClient => "UnrecognizedClientException",
        AuthError::InvalidSignature(_) | AuthError::Expired => "InvalidSignatureException",
    }
}

/// The example of AWS's "Signature Calculations for the Authorization Header:
/// Transferring Payload in Multiple Chunks": 65 KiB of `a` in a 64 KiB and a 1 KiB chunk.
#[test]
fn chunk_signatures_chain_as_in_the_aws_example() {
    let key = SigningKey::derive(
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "20130524",
        "us-east-1",
        "s3",
    );
    let mut signer = ChunkSigner {
        key,
        amz_date: "20130524T000000Z".into(),
        scope: "20130524/us-east-1/s3/aws4_request".into(),
        previous: "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9".into(),
    };
    let hash = |data: &[u8]| hex::encode(Sha256::digest(data));
    signer
        .verify_chunk_hash(
            &hash(&[b'a'; 65536]),
            "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        )
        .expect("first chunk");
    let mut forged = signer.clone();
    assert!(
        forged
            .verify_chunk_hash(&hash(&[b'b'; 1024]), "00")
            .is_err()
    );
    signer
        .verify_chunk_hash(
            &hash(&[b'a'; 1024]),
            "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        )
        .expect("second chunk");
    signer
        .verify_chunk_hash(
            &hash(b""),
            "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
        )
        .expect("final chunk");
}

// ---- the verifier against aws-sigv4 -----------------------------------------------------

/// The signed headers as `aws-sigv4` receives them: each distinct listed name's values.
fn oracle_headers<'a>(
    headers: &'a HeaderMap,
    names: &[&'a str],
) -> Option<Vec<(&'a str, &'a str)>> {
    let mut pairs = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for &name in names {
        if seen.contains(&name) {
            continue;
        }
        seen.push(name);
        for value in headers.get_all(name) {
            pairs.push((name, value.to_str().ok()?));
        }
    }
    Some(pairs)
}

/// The settings of `rules`, for signing with every listed header.
fn oracle_settings(rules: SigningRules) -> SigningSettings {
    let mut settings = SigningSettings::default();
    settings.excluded_headers = None;
    if rules.literal_path {
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    }
    settings
}

/// What `aws-sigv4` signs for `request` in the `Authorization` header form (`None`
/// where it cannot sign it).
fn oracle_header_signature(
    request: &SignedRequest<'_>,
    authorization: &Authorization<'_>,
    secret: &str,
    signed_at: SystemTime,
    body: SignableBody<'_>,
    rules: SigningRules,
) -> Option<String> {
    let headers = oracle_headers(request.headers, &authorization.signed_headers)?;
    let path_and_query = request.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let uri = format!("http://weir.invalid{path_and_query}");
    let signable = SignableRequest::new(request.method, uri, headers.into_iter(), body).ok()?;
    let identity = Credentials::new(authorization.access_key, secret, None, None, "oracle").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(authorization.region)
        .name(authorization.service)
        .time(signed_at)
        .settings(oracle_settings(rules))
        .build()
        .ok()?
        .into();
    let (_, signature) = sign(signable, &params).ok()?.into_parts();
    Some(signature)
}

/// What `aws-sigv4` signs for the presigned URL `request` (query string `query`).
fn oracle_query_signature(
    request: &SignedRequest<'_>,
    query: &str,
    signed: &QuerySignature<'_>,
    secret: &str,
    rules: SigningRules,
) -> Option<String> {
    let auth = signed.authorization;
    let unsigned_query: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let name = pair.split_once('=').map_or(*pair, |(name, _)| name);
            !AUTH_PARAMS.contains(&name)
        })
        .collect();
    let path = request.uri.path();
    let uri = if unsigned_query.is_empty() {
        format!("http://weir.invalid{path}")
    } else {
        format!("http://weir.invalid{path}?{}", unsigned_query.join("&"))
    };
    let headers = oracle_headers(request.headers, &auth.signed_headers)?;
    let signable = SignableRequest::new(
        request.method,
        uri,
        headers.into_iter(),
        SignableBody::UnsignedPayload,
    )
    .ok()?;
    let identity = Credentials::new(
        auth.access_key,
        secret,
        signed.token.map(str::to_owned),
        None,
        "oracle",
    )
    .into();
    let mut settings = oracle_settings(rules);
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(signed.expires));
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(auth.region)
        .name(auth.service)
        .time(parse_amz_date(signed.amz_date).ok()?)
        .settings(settings)
        .build()
        .ok()?
        .into();
    let (_, signature) = sign(signable, &params).ok()?.into_parts();
    Some(signature)
}

/// Percent-encodes what a request target cannot hold raw (spaces, controls,
/// non-ASCII), leaving `%`, `+` and the rest as typed.
fn raw_target(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_graphic() && !b"#\"<>`{}|\\^".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn path_strategy() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        prop::sample::select(vec![
            "",
            ".",
            "..",
            "a",
            "b c",
            "%20",
            "%2F",
            "%2f",
            "+",
            "%",
            "%zz",
            "%25",
            "caf%C3%A9",
            "~-_.",
            "a%2Bb",
            "!$&'()*",
            ":@",
            ";=,",
            "a.b",
            "..a",
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z0-9 é✓%+._~=:-]{0,6}",
    ];
    (prop::collection::vec(segment, 0..5), any::<bool>()).prop_map(|(segments, trailing)| {
        let mut path = format!("/{}", segments.join("/"));
        if trailing {
            path.push('/');
        }
        raw_target(&path)
    })
}

fn query_strategy() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        prop::sample::select(vec![
            "",
            "a",
            "A",
            "b",
            "a b",
            "+",
            "%20",
            "%2B",
            "%",
            "%zz",
            "%ff",
            "é",
            "✓",
            "=",
            "a=b",
            "~-_.",
            "*",
            "X-Amz-Date",
            "x-id",
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z0-9 é%+._~-]{0,5}",
    ];
    let pair = (word.clone(), word, 0..3u8).prop_map(|(name, value, form)| match form {
        0 => name,
        1 => format!("{name}="),
        _ => format!("{name}={value}"),
    });
    prop::collection::vec(pair, 0..6).prop_map(|pairs| raw_target(&pairs.join("&")))
}

const HEADER_NAMES: [&str; 9] = [
    "host",
    "x-amz-date",
    "content-type",
    "x-amz-target",
    "my-header",
    "x-amz-meta-a",
    "x-amz-user-agent",
    "x-amz-checksum-mode",
    "x-amz-security-token",
];

fn headers_strategy() -> impl Strategy<Value = Vec<(&'static str, String)>> {
    let value = prop_oneof![
        prop::sample::select(vec![
            "",
            " ",
            "  a   b  ",
            "\ta\t",
            "a, b",
            "\"a   b   c\"",
            "20260101T000000Z"
        ])
        .prop_map(str::to_owned),
        "[ a-zA-Z0-9\t,;\"=/]{0,10}",
    ];
    prop::collection::vec((prop::sample::select(HEADER_NAMES.to_vec()), value), 0..8)
}

fn signed_names_strategy() -> impl Strategy<Value = Vec<&'static str>> {
    let mut names = HEADER_NAMES.to_vec();
    names.extend(["Host", "My-Header", "X-AMZ-DATE", "x-absent", "not a name"]);
    prop::collection::vec(prop::sample::select(names), 0..7)
}

/// A generated request and how it is signed.
#[derive(Debug, Clone)]
struct Generated {
    method: &'static str,
    target: String,
    headers: Vec<(&'static str, String)>,
    signed: Vec<&'static str>,
    body: Vec<u8>,
    /// 0: no `x-amz-content-sha256`; 1: the body's hash; 2: `UNSIGNED-PAYLOAD`.
    declared: u8,
    region: &'static str,
    service: &'static str,
    rules: SigningRules,
}

fn generated_strategy() -> impl Strategy<Value = Generated> {
    (
        prop::sample::select(vec![
            "GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS", "get", "X-CUSTOM",
        ]),
        path_strategy(),
        query_strategy(),
        headers_strategy(),
        signed_names_strategy(),
        prop::collection::vec(any::<u8>(), 0..40),
        0..3u8,
        prop::sample::select(vec!["us-east-1", "eu-west-3"]),
        prop::sample::select(vec!["glue", "s3", "service"]),
        (any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |(method, path, query, headers, signed, body, declared, region, service, rules)| {
                Generated {
                    method,
                    target: if query.is_empty() {
                        path
                    } else {
                        format!("{path}?{query}")
                    },
                    headers,
                    signed,
                    body,
                    declared,
                    region,
                    service,
                    rules: SigningRules {
                        literal_path: rules.0,
                        presigned_urls: rules.1,
                    },
                }
            },
        )
}

impl Generated {
    /// The credential scope and signed headers the client names.
    fn authorization(&self) -> Authorization<'_> {
        Authorization {
            access_key: "AKIDEXAMPLE",
            date: &ORACLE_DATE[..8],
            region: self.region,
            service: self.service,
            terminator: SCOPE_TERMINATOR,
            signed_headers: self.signed.clone(),
            signature: "",
        }
    }

    fn uri(&self) -> Option<Uri> {
        self.target.parse().ok()
    }

    fn header_map(&self) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in &self.headers {
            if let Ok(value) = HeaderValue::from_str(value) {
                map.append(*name, value);
            }
        }
        if self.declared == 1 {
            let hash = hex::encode(Sha256::digest(&self.body));
            map.insert(
                CONTENT_SHA256_HEADER,
                HeaderValue::from_str(&hash).expect("hex"),
            );
        } else if self.declared == 2 {
            map.insert(
                CONTENT_SHA256_HEADER,
                HeaderValue::from_static(UNSIGNED_PAYLOAD),
            );
        }
        map
    }
}

const ORACLE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const ORACLE_DATE: &str = "20260101T000000Z";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The `Authorization` form: the verifier's expected signature is `aws-sigv4`'s.
    #[test]
    fn header_signatures_equal_aws_sigv4(generated in generated_strategy()) {
        let Some(uri) = generated.uri() else {
            return Err(TestCaseError::reject("not a request target"));
        };
        let headers = generated.header_map();
        let request = SignedRequest {
            method: generated.method,
            uri: &uri,
            headers: &headers,
            body: &generated.body,
        };
        let authorization = generated.authorization();
        let (payload_hash, _) = payload(&request, BodyState::Read(&generated.body)).expect("payload");
        let key = SigningKey::derive(ORACLE_SECRET, authorization.date, generated.region, generated.service);
        let ours = header_signature(&request, &authorization, ORACLE_DATE, &payload_hash, generated.rules, &key)
            .ok()
            .map(|hex| String::from_utf8_lossy(&hex).into_owned());
        let body = match generated.declared {
            0 => SignableBody::Bytes(&generated.body),
            1 => SignableBody::Precomputed(payload_hash.into_owned()),
            _ => SignableBody::UnsignedPayload,
        };
        let signed_at = parse_amz_date(ORACLE_DATE).expect("date");
        let theirs = oracle_header_signature(&request, &authorization, ORACLE_SECRET, signed_at, body, generated.rules);
        prop_assert_eq!(ours, theirs);
    }

    /// Presigned URLs: the verifier's expected signature is `aws-sigv4`'s.
    #[test]
    fn query_signatures_equal_aws_sigv4(
        generated in generated_strategy(),
        expires in 1..=presigned::MAX_EXPIRES_SECS,
        token in prop::option::of("[A-Za-z0-9/+=]{1,12}"),
        auth_params in prop::sample::subsequence(AUTH_PARAMS.to_vec(), 0..=7),
    ) {
        // The signature's own parameters, as a signer appends them to the URL.
        let mut target = generated.target.clone();
        for (index, name) in auth_params.iter().enumerate() {
            target.push(if index == 0 && !target.contains('?') { '?' } else { '&' });
            target.push_str(&format!("{name}=v%2F{index}"));
        }
        let Ok(uri) = target.parse::<Uri>() else {
            return Err(TestCaseError::reject("not a request target"));
        };
        let query = uri.query().unwrap_or_default().to_owned();
        let headers = generated.header_map();
        let request = SignedRequest {
            method: generated.method,
            uri: &uri,
            headers: &headers,
            body: &generated.body,
        };
        let authorization = generated.authorization();
        let signed = QuerySignature {
            authorization: &authorization,
            amz_date: ORACLE_DATE,
            expires,
            token: token.as_deref(),
        };
        let key = SigningKey::derive(ORACLE_SECRET, authorization.date, generated.region, generated.service);
        let ours = signed
            .signature(&request, &query, generated.rules, &key)
            .ok()
            .map(|hex| String::from_utf8_lossy(&hex).into_owned());
        let theirs = oracle_query_signature(&request, &query, &signed, ORACLE_SECRET, generated.rules);
        prop_assert_eq!(ours, theirs);
    }
}
