//! Glue as a service of the edge: `POST /` with `X-Amz-Target: AWSGlue.<Operation>`.

use axum::response::Response;
use futures_util::future::BoxFuture;
use http::Method;
use http::request::Parts;
use weir_edge::aws_json;
use weir_edge::{Rejection, Service, VerifiedRequest};
use weir_resources::ApiError;
use weir_store::Scope;

use crate::app::App;
use crate::operations::{self, RequestContext};
use crate::protocol;

/// The AWS Glue service over an [`App`].
pub struct GlueService {
    app: App,
}

impl GlueService {
    /// The service answering for `app`.
    pub fn new(app: App) -> Self {
        Self { app }
    }
}

impl Service for GlueService {
    fn signing_name(&self) -> &'static str {
        "glue"
    }

    fn serves(&self, parts: &Parts) -> bool {
        parts.method == Method::POST && parts.uri.path() == "/"
    }

    fn operation(&self, parts: &Parts) -> &'static str {
        protocol::operation_label(aws_json::target(parts))
    }

    fn call(&self, request: VerifiedRequest) -> BoxFuture<'_, Response> {
        Box::pin(async move {
            let VerifiedRequest {
                request_id,
                principal,
                parts,
                body,
                ..
            } = request;
            let operation = match protocol::operation_name(aws_json::target(&parts)) {
                Ok(name) => name.to_owned(),
                Err(error) => return protocol::error_response(&request_id, &error),
            };
            let ctx = RequestContext {
                scope: Scope {
                    account: principal.account,
                    region: principal.region,
                },
                app: self.app.clone(),
                request_id,
            };
            match operations::dispatch(&ctx, &operation, &body).await {
                Ok(json) => aws_json::ok_response(&ctx.request_id, json),
                Err(error) => {
                    if matches!(error, ApiError::Internal(_)) {
                        tracing::error!(%error, "internal error");
                    } else {
                        tracing::debug!(code = error.code(), %error, "client error");
                    }
                    protocol::error_response(&ctx.request_id, &error)
                }
            }
        })
    }

    fn reject(&self, request_id: &str, rejection: &Rejection) -> Response {
        aws_json::rejection_response(&protocol::DIALECT, request_id, rejection)
    }
}
