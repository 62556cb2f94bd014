//! `GET /metrics`: the process-wide registry in the Prometheus text format.

use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderValue, header};
use weir_metrics::{CONTENT_TYPE, Metrics};

/// The `/metrics` route, for the binary to merge into the edge's pages.
pub fn routes() -> Router {
    Router::new().route("/metrics", get(serve))
}

async fn serve() -> Response {
    let mut response = Metrics::global().render().into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
