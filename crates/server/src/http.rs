//! The HTTP edge: one route for the Glue API (`POST /`), request ids, body limits,
//! error rendering and graceful shutdown. Everything after the edge sees decoded
//! operations only.

use std::future::Future;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use tokio::net::TcpListener;
use tracing::Instrument;
use weir_store::Scope;

use crate::app::App;
use crate::config::MAX_BODY_BYTES;
use crate::operations::{self, RequestContext};
use crate::protocol::{self, ApiError};
use crate::resources::ids;

/// The router of the whole server.
pub fn router(app: App) -> Router {
    Router::new()
        .route("/", post(api))
        .fallback(fallback)
        .with_state(app)
}

/// Serves `app` on `listener` until `shutdown` completes, then lets requests in
/// flight finish.
pub async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(app))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn api(State(app): State<App>, headers: HeaderMap, body: Body) -> Response {
    let request_id = ids::request_id();
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let operation = match protocol::operation_name(target.as_deref()) {
        Ok(name) => name.to_owned(),
        Err(error) => return error_response(&request_id, &error),
    };
    let span = tracing::info_span!("request", op = %operation, id = %request_id);
    async move {
        let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
            Ok(body) => body,
            Err(_) => {
                let error = ApiError::RequestTooLarge(format!(
                    "The request body is larger than the limit of {MAX_BODY_BYTES} bytes."
                ));
                return error_response(&request_id, &error);
            }
        };
        let ctx = RequestContext {
            scope: Scope {
                account: app.config().account.clone(),
                region: app.config().region.clone(),
            },
            app,
            request_id: request_id.clone(),
        };
        match operations::dispatch(&ctx, &operation, &body).await {
            Ok(json) => ok_response(&request_id, json),
            Err(error) => {
                if matches!(error, ApiError::Internal(_)) {
                    tracing::error!(%error, "internal error");
                } else {
                    tracing::debug!(code = error.code(), %error, "client error");
                }
                error_response(&request_id, &error)
            }
        }
    }
    .instrument(span)
    .await
}

async fn fallback() -> Response {
    let error = ApiError::UnknownOperation(
        "Weir serves the AWS Glue API with POST / and an X-Amz-Target header.".into(),
    );
    let mut response = error_response(&ids::request_id(), &error);
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}

fn ok_response(request_id: &str, json: Vec<u8>) -> Response {
    let mut response = (StatusCode::OK, json).into_response();
    set_common_headers(response.headers_mut(), request_id);
    response
}

/// Renders an error: status, `__type`/`Message` body and the matching
/// `x-amzn-ErrorType` header, all from the one mapping in [`ApiError`].
pub fn error_response(request_id: &str, error: &ApiError) -> Response {
    let mut response = (error.status(), error.body()).into_response();
    let headers = response.headers_mut();
    set_common_headers(headers, request_id);
    headers.insert(
        protocol::ERROR_TYPE_HEADER,
        HeaderValue::from_static(error.code()),
    );
    response
}

fn set_common_headers(headers: &mut HeaderMap, request_id: &str) {
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(protocol::JSON_CONTENT_TYPE),
    );
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(protocol::REQUEST_ID_HEADER, value);
    }
}
