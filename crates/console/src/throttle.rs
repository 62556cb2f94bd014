//! Failed sign-ins, counted per access key id on the server's clock: after
//! [`MAX_FAILURES`] failures within [`WINDOW_MS`], that key's sign-ins are refused
//! (429) until the window that began with its first failure has passed, so a secret
//! cannot be guessed at the speed of the network. A success clears the count. The
//! table holds at most [`MAX_KEYS`] keys; when full, expired entries are dropped first,
//! then the oldest.

use std::collections::HashMap;
use std::sync::Mutex;

/// Failures allowed within one window.
pub const MAX_FAILURES: u32 = 5;
/// Length of the window, in milliseconds.
pub const WINDOW_MS: i64 = 60_000;
/// Most access keys tracked at once.
const MAX_KEYS: usize = 10_000;
/// Longest access key id tracked as given (longer ones are tracked by their prefix).
const MAX_KEY_CHARS: usize = 128;

/// The failure counts.
#[derive(Default)]
pub struct SignInThrottle {
    failures: Mutex<HashMap<String, (i64, u32)>>,
}

impl SignInThrottle {
    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<String, (i64, u32)>> {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn key(access_key: &str) -> String {
        access_key.chars().take(MAX_KEY_CHARS).collect()
    }

    /// Milliseconds until `access_key` may try again, when it is locked out at `now`.
    pub fn locked_for(&self, access_key: &str, now: i64) -> Option<i64> {
        let table = self.table();
        let (since, count) = *table.get(&Self::key(access_key))?;
        let left = since.saturating_add(WINDOW_MS).saturating_sub(now);
        (count >= MAX_FAILURES && left > 0).then_some(left)
    }

    /// Records a failed sign-in of `access_key` at `now`.
    pub fn failed(&self, access_key: &str, now: i64) {
        let mut table = self.table();
        if table.len() >= MAX_KEYS {
            table.retain(|_, (since, _)| since.saturating_add(WINDOW_MS) > now);
            if table.len() >= MAX_KEYS
                && let Some(oldest) = table
                    .iter()
                    .min_by_key(|(_, (since, _))| *since)
                    .map(|(k, _)| k.clone())
            {
                table.remove(&oldest);
            }
        }
        let entry = table.entry(Self::key(access_key)).or_insert((now, 0));
        if entry.0.saturating_add(WINDOW_MS) <= now {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }

    /// A successful sign-in of `access_key`: its count starts again.
    pub fn succeeded(&self, access_key: &str) {
        self.table().remove(&Self::key(access_key));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_locked_after_its_failures_until_the_window_passes() {
        let throttle = SignInThrottle::default();
        for i in 0..MAX_FAILURES {
            assert_eq!(
                throttle.locked_for("AKID", 1_000),
                None,
                "after {i} failures"
            );
            throttle.failed("AKID", 1_000 + i64::from(i));
        }
        assert_eq!(throttle.locked_for("AKID", 2_000), Some(WINDOW_MS - 1_000));
        assert_eq!(throttle.locked_for("OTHER", 2_000), None, "per access key");
        assert_eq!(throttle.locked_for("AKID", 1_000 + WINDOW_MS), None);
        throttle.failed("AKID", 1_000 + WINDOW_MS);
        assert_eq!(
            throttle.locked_for("AKID", 1_000 + WINDOW_MS),
            None,
            "a new window"
        );
        throttle.succeeded("AKID");
        assert_eq!(throttle.locked_for("AKID", 1_000 + WINDOW_MS), None);
    }
}
