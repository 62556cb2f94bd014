//! Wall-clock time, read in one place.

use weir_model::Timestamp;

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The current time as a wire timestamp.
pub fn now() -> Timestamp {
    Timestamp::from_millis(now_millis())
}
