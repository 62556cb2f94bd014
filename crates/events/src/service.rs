//! EventBridge as a service of the edge: `POST /` with `X-Amz-Target:
//! AWSEvents.<Operation>`, and the one dispatch of its operations.

use axum::response::Response;
use futures_util::future::BoxFuture;
use http::Method;
use http::request::Parts;
use serde_json::Value;
use weir_edge::aws_json;
use weir_edge::{Rejection, Service, VerifiedRequest};
use weir_store::Scope;

use crate::protocol::{self, EventsError};
use crate::{EventBus, put_events, rules};

/// The EventBridge service over an [`EventBus`].
pub struct EventsService {
    bus: EventBus,
}

impl EventsService {
    /// The service answering for `bus`.
    pub fn new(bus: EventBus) -> Self {
        Self { bus }
    }
}

/// Runs operation `name` (one of [`protocol::OPERATIONS`]).
async fn dispatch(
    bus: &EventBus,
    scope: &Scope,
    name: &'static str,
    body: &[u8],
) -> Result<Value, EventsError> {
    match name {
        "PutRule" => rules::put_rule(bus, scope, body).await,
        "DescribeRule" => rules::describe_rule(bus, scope, body).await,
        "ListRules" => rules::list_rules(bus, scope, body).await,
        "DeleteRule" => rules::delete_rule(bus, scope, body).await,
        "EnableRule" => rules::set_state(bus, scope, body, "ENABLED").await,
        "DisableRule" => rules::set_state(bus, scope, body, "DISABLED").await,
        "PutTargets" => rules::put_targets(bus, scope, body).await,
        "ListTargetsByRule" => rules::list_targets(bus, scope, body).await,
        "RemoveTargets" => rules::remove_targets(bus, scope, body).await,
        "TagResource" | "UntagResource" | "ListTagsForResource" => {
            rules::tags(bus, scope, body, name).await
        }
        "PutEvents" => put_events::put_events(bus, scope, body).await,
        other => Err(EventsError::UnknownOperation(format!(
            "The operation '{other}' is not served."
        ))),
    }
}

impl Service for EventsService {
    fn signing_name(&self) -> &'static str {
        "events"
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
            let result = dispatch(&self.bus, &scope, name, &body)
                .await
                .and_then(|value| {
                    serde_json::to_vec(&value).map_err(|e| {
                        EventsError::Internal(format!("could not encode the {name} answer: {e}"))
                    })
                });
            match result {
                Ok(json) => aws_json::ok_response(&request_id, json),
                Err(error) => {
                    if matches!(error, EventsError::Internal(_)) {
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
