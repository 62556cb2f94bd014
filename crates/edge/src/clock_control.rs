//! The test-only clock control of the edge: `POST /_weir/clock` moves the server's
//! manual clock (`--manual-clock`). Routed only when the server runs on one, which it
//! does only on loopback listeners.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use serde::{Deserialize, Serialize};
use weir_clock::{Clock, Millis};

/// Body of `POST /_weir/clock`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AdvanceRequest {
    /// Milliseconds to move the manual clock forward (0 reads it).
    #[serde(default)]
    advance_ms: Millis,
}

/// Answer of `POST /_weir/clock`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ClockReading {
    /// The manual clock after the call, in milliseconds since the Unix epoch.
    now_ms: Millis,
}

/// `POST /_weir/clock` (`{"advanceMs": N}` → `{"nowMs": T}`), routed only when the
/// server runs on a manual clock (`--manual-clock`, loopback listeners only).
pub fn routes<S: Clone + Send + Sync + 'static>(clock: Clock) -> Router<S> {
    Router::new()
        .route("/_weir/clock", post(advance))
        .with_state(clock)
}

async fn advance(
    State(clock): State<Clock>,
    Json(request): Json<AdvanceRequest>,
) -> Json<ClockReading> {
    let now_ms = clock
        .advance(request.advance_ms)
        .unwrap_or_else(|| clock.now_millis());
    Json(ClockReading { now_ms })
}
