//! CloudWatch Logs as a service of the edge: `POST /` with `X-Amz-Target:
//! Logs_20140328.<Operation>`, signing name `logs`, and the one dispatch of its
//! operations.

use axum::response::Response;
use futures_util::future::BoxFuture;
use http::Method;
use http::request::Parts;
use serde_json::Value;
use weir_edge::aws_json;
use weir_edge::{Rejection, Service, VerifiedRequest};
use weir_store::Scope;

use crate::Logs;
use crate::operations;
use crate::protocol::{self, LogsError};

/// The CloudWatch Logs service over a [`Logs`] handle.
pub struct LogsService {
    logs: Logs,
}

impl LogsService {
    /// The service answering for `logs`.
    pub fn new(logs: Logs) -> Self {
        Self { logs }
    }
}

/// Runs operation `name` (one of [`protocol::OPERATIONS`]).
async fn dispatch(
    logs: &Logs,
    scope: &Scope,
    name: &'static str,
    body: &[u8],
) -> Result<Value, LogsError> {
    match name {
        "CreateLogGroup" => operations::create_log_group(logs, scope, body).await,
        "CreateLogStream" => operations::create_log_stream(logs, scope, body).await,
        "DeleteLogGroup" => operations::delete_log_group(logs, scope, body).await,
        "DeleteLogStream" => operations::delete_log_stream(logs, scope, body).await,
        "DeleteRetentionPolicy" => operations::delete_retention_policy(logs, scope, body).await,
        "DescribeLogGroups" => operations::describe_log_groups(logs, scope, body).await,
        "DescribeLogStreams" => operations::describe_log_streams(logs, scope, body).await,
        "FilterLogEvents" => operations::filter_log_events(logs, scope, body).await,
        "GetLogEvents" => operations::get_log_events(logs, scope, body).await,
        "PutLogEvents" => operations::put_log_events(logs, scope, body).await,
        "PutRetentionPolicy" => operations::put_retention_policy(logs, scope, body).await,
        other => Err(LogsError::UnknownOperation(format!(
            "The operation '{other}' is not served."
        ))),
    }
}

impl Service for LogsService {
    fn signing_name(&self) -> &'static str {
        "logs"
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
            let name = match protocol::operation_name(aws_json::target(&parts)) {
                Ok(name) => name,
                Err(error) => return protocol::error_response(&request_id, &error),
            };
            let scope = Scope {
                account: principal.account,
                region: principal.region,
            };
            let result = dispatch(&self.logs, &scope, name, &body)
                .await
                .and_then(|value| {
                    serde_json::to_vec(&value).map_err(|e| {
                        LogsError::Internal(format!("could not encode the {name} answer: {e}"))
                    })
                });
            match result {
                Ok(json) => aws_json::ok_response(&request_id, json),
                Err(error) => {
                    if matches!(error, LogsError::Internal(_)) {
                        tracing::error!(%error, "internal error");
                    } else {
                        tracing::debug!(code = error.code(), %error, "client error");
                    }
                    protocol::error_response(&request_id, &error)
                }
            }
        })
    }

    fn reject(&self, request_id: &str, rejection: &Rejection) -> Response {
        aws_json::rejection_response(&protocol::DIALECT, request_id, rejection)
    }
}
