//! What the edge hands requests to: a [`Service`] per AWS service, chosen by [`Routes`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::HeaderMap;
use http::request::Parts;
use weir_auth::sigv4::{AUTHORIZATION_HEADER, AuthError, parse_authorization};
use weir_auth::{Payload, SigningRules, VerifiedPrincipal};

/// Header naming the operation of an awsJson request (`AWSGlue.GetWorkflow`).
pub const TARGET_HEADER: &str = "x-amz-target";

/// A request the edge admitted and verified: what a service serves.
pub struct VerifiedRequest {
    /// The id answered in the service's request-id header and logged with the request.
    pub request_id: String,
    /// Who signed the request; its account and region are the scope it acts in.
    pub principal: VerifiedPrincipal,
    /// Method, URI and headers as received.
    pub parts: Parts,
    /// The body, as received, when the service takes it [`BodyMode::Buffered`]; empty
    /// when it takes it streamed.
    pub body: Bytes,
    /// The unread body, when the service takes it [`BodyMode::Streamed`].
    pub stream: Option<StreamedBody>,
}

/// A body the edge did not read: the service reads it, bounded as it sees fit, and
/// must apply the [`Payload`] check the signature asks for before it acts on it.
pub struct StreamedBody {
    /// The body, as it arrives on the connection.
    pub body: axum::body::Body,
    /// What the signature says the body must satisfy.
    pub payload: Payload,
}

/// How a service takes the bodies of its requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyMode {
    /// Read whole by the edge within its size and time limits, and verified with the
    /// signature (the awsJson services).
    Buffered,
    /// Handed over unread after the signature of the head is verified by `rules`
    /// (S3: objects of any size, streamed).
    Streamed {
        /// The service's variations of SigV4.
        rules: SigningRules,
    },
}

/// Why the edge answered a request itself instead of handing it to its service. The
/// service renders it in its own protocol ([`Service::reject`]); the `Display` text is
/// the message, the same for every service.
#[derive(Debug)]
pub enum Rejection {
    /// The in-flight bound was reached; the request was shed unread.
    Throttled,
    /// The body is larger than the edge accepts.
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body did not arrive within the edge's body timeout.
    BodyTimeout {
        /// The timeout.
        after: Duration,
    },
    /// The body could not be read from the connection.
    BodyUnreadable(String),
    /// The signature did not verify.
    Unauthenticated(AuthError),
    /// The method or path is not one the service serves.
    NotServed,
    /// The handling panicked (a bug); logged with the request id.
    Internal,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::Throttled => f.write_str("Rate exceeded"),
            Rejection::TooLarge { limit } => write!(
                f,
                "The request body is larger than the limit of {limit} bytes."
            ),
            Rejection::BodyTimeout { after } => write!(
                f,
                "The request body was not received within {} seconds.",
                after.as_secs_f64()
            ),
            Rejection::BodyUnreadable(error) => {
                write!(f, "The request body could not be read: {error}")
            }
            Rejection::Unauthenticated(error) => write!(f, "{error}"),
            Rejection::NotServed => f.write_str("The request names no operation of this service."),
            Rejection::Internal => f.write_str("An internal error occurred."),
        }
    }
}

/// The error code a service answered with, attached to its response as an extension so
/// that the edge counts errors by code whatever the protocol writes on the wire.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCode(pub &'static str);

/// One AWS service behind the edge.
pub trait Service: Send + Sync + 'static {
    /// The signing name its credential scopes carry (`glue`, `s3`, …).
    fn signing_name(&self) -> &'static str;

    /// Whether the service serves this method and path at all; when not, the edge
    /// answers [`Rejection::NotServed`] before reading the body.
    fn serves(&self, parts: &Parts) -> bool;

    /// The operation a request names, as a bounded metrics label (`unknown` when it
    /// names none of this service's).
    fn operation(&self, parts: &Parts) -> &'static str;

    /// How the service takes the body of this request; buffered unless it says so.
    fn body_mode(&self, _parts: &Parts) -> BodyMode {
        BodyMode::Buffered
    }

    /// Serves one verified request. Errors are answered in the service's protocol with
    /// an [`ErrorCode`] extension; a panic is contained by the edge.
    fn call(&self, request: VerifiedRequest) -> BoxFuture<'_, Response>;

    /// Renders a rejection of the edge in the service's protocol.
    fn reject(&self, request_id: &str, rejection: &Rejection) -> Response;
}

/// The routing table: which service a request is for.
///
/// In order: the `X-Amz-Target` prefix of an awsJson request; else the signing name of
/// its credential scope (the `Authorization` header or a presigned URL's
/// `X-Amz-Credential`, or `s3` for a version 2 presigned URL); else the fallback
/// service.
#[derive(Clone)]
pub struct Routes {
    by_target: Vec<(&'static str, Arc<dyn Service>)>,
    by_signing_name: Vec<Arc<dyn Service>>,
    fallback: Arc<dyn Service>,
}

impl Routes {
    /// A table whose every request goes to `fallback` until more services are added.
    pub fn new(fallback: Arc<dyn Service>) -> Self {
        Self {
            by_target: Vec::new(),
            by_signing_name: Vec::new(),
            fallback,
        }
    }

    /// Adds an awsJson service: requests whose `X-Amz-Target` starts with
    /// `target_prefix` (`AWSGlue.`), or signed for its signing name.
    pub fn json(mut self, target_prefix: &'static str, service: Arc<dyn Service>) -> Self {
        self.by_target.push((target_prefix, service.clone()));
        self.by_signing_name.push(service);
        self
    }

    /// Adds a REST service, chosen by the signing name of its requests.
    pub fn rest(mut self, service: Arc<dyn Service>) -> Self {
        self.by_signing_name.push(service);
        self
    }

    /// The service `headers` and `query` address.
    pub fn route(&self, headers: &HeaderMap, query: Option<&str>) -> &Arc<dyn Service> {
        if let Some(target) = headers.get(TARGET_HEADER).and_then(|v| v.to_str().ok())
            && let Some((_, service)) = self
                .by_target
                .iter()
                .find(|(prefix, _)| target.starts_with(prefix))
        {
            return service;
        }
        if let Some(name) = signing_name(headers, query)
            && let Some(service) = self
                .by_signing_name
                .iter()
                .find(|service| service.signing_name() == name)
        {
            return service;
        }
        &self.fallback
    }
}

/// The service named by the credential scope of a request, if it has a parseable one.
fn signing_name<'a>(headers: &'a HeaderMap, query: Option<&'a str>) -> Option<&'a str> {
    if let Some(header) = headers
        .get(AUTHORIZATION_HEADER)
        .and_then(|v| v.to_str().ok())
    {
        return parse_authorization(header).ok().map(|a| a.service);
    }
    let query = query?;
    // A version 2 presigned URL names no service: only S3 still accepts them.
    if weir_auth::sigv2::is_presigned(query) {
        return Some("s3");
    }
    // A presigned URL: X-Amz-Credential=<key>%2F<date>%2F<region>%2F<service>%2Faws4_request.
    let credential = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("X-Amz-Credential="))?;
    let mut scope = credential.split("%2F").flat_map(|part| part.split('/'));
    scope.nth(3)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Named(&'static str);

    impl Service for Named {
        fn signing_name(&self) -> &'static str {
            self.0
        }
        fn serves(&self, _: &Parts) -> bool {
            true
        }
        fn operation(&self, _: &Parts) -> &'static str {
            "unknown"
        }
        fn call(&self, _: VerifiedRequest) -> BoxFuture<'_, Response> {
            Box::pin(async { Response::default() })
        }
        fn reject(&self, _: &str, _: &Rejection) -> Response {
            Response::default()
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, http::HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn requests_route_by_target_then_signing_name_then_fallback() {
        let routes = Routes::new(Arc::new(Named("glue")))
            .json("AWSEvents.", Arc::new(Named("events")))
            .rest(Arc::new(Named("s3")));
        let route = |h: &HeaderMap, q: Option<&str>| routes.route(h, q).signing_name();
        assert_eq!(
            route(&headers(&[("x-amz-target", "AWSEvents.PutRule")]), None),
            "events"
        );
        let s3 = "AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/s3/aws4_request, \
                  SignedHeaders=host, Signature=00";
        assert_eq!(route(&headers(&[("authorization", s3)]), None), "s3");
        let presigned = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20260101%2F\
                         us-east-1%2Fs3%2Faws4_request&X-Amz-Signature=00";
        assert_eq!(route(&HeaderMap::new(), Some(presigned)), "s3");
        assert_eq!(route(&HeaderMap::new(), None), "glue");
        assert_eq!(route(&headers(&[("x-amz-target", "Nope.X")]), None), "glue");
        assert_eq!(
            route(&headers(&[("authorization", "garbage")]), None),
            "glue"
        );
    }
}
