//! The server's one source of time. Everything below `main` asks the [`Clock`] it was
//! handed: the system clock in production, a manual clock in tests (`--manual-clock`,
//! advanced through the edge's `POST /_weir/clock`), so schedules, job timeouts,
//! crawler windows and retention are tested in virtual milliseconds instead of waited
//! for.
//!
//! May depend on: `weir-model` (for wire timestamps). Must not depend on any other
//! Weir crate: everything else reads time through it.
//!
//! Request signatures are the exception: SigV4's `X-Amz-Date` is checked against the
//! system clock, because it is the client's real clock that is being judged.

#![warn(missing_docs)]

use std::sync::Arc;

use tokio::sync::watch;
use weir_model::Timestamp;

/// Milliseconds since the Unix epoch (the engine's `Millis`).
pub type Millis = i64;

/// Longest single sleep of the system clock; a sleep re-reads the clock at least this
/// often, so a wall-clock step (NTP) delays a deadline by at most this much.
const LONGEST_SLEEP_MS: Millis = 60_000;

/// A cheap-to-clone handle on the server's time.
#[derive(Clone)]
pub struct Clock {
    source: Arc<Source>,
}

enum Source {
    /// The operating system's wall clock.
    System,
    /// Virtual time that only moves when [`Clock::advance`] is called; sleepers are
    /// woken through the watch channel.
    Manual(watch::Sender<Millis>),
}

impl Clock {
    /// The operating system's clock.
    pub fn system() -> Self {
        Self {
            source: Arc::new(Source::System),
        }
    }

    /// A manual clock standing at `start` (milliseconds since the Unix epoch).
    pub fn manual(start: Millis) -> Self {
        Self {
            source: Arc::new(Source::Manual(watch::Sender::new(start))),
        }
    }

    /// Whether this is a manual (test) clock.
    pub fn is_manual(&self) -> bool {
        matches!(*self.source, Source::Manual(_))
    }

    /// Milliseconds since the Unix epoch, now.
    pub fn now_millis(&self) -> Millis {
        match &*self.source {
            Source::System => system_millis(),
            Source::Manual(now) => *now.borrow(),
        }
    }

    /// The current time as a wire timestamp.
    pub fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.now_millis())
    }

    /// Moves a manual clock forward by `by` milliseconds (never backwards) and wakes
    /// every sleeper whose deadline passed; returns the new time. `None` for the
    /// system clock, which cannot be moved.
    pub fn advance(&self, by: Millis) -> Option<Millis> {
        match &*self.source {
            Source::System => None,
            Source::Manual(now) => {
                let mut after = 0;
                now.send_modify(|t| {
                    *t = t.saturating_add(by.max(0));
                    after = *t;
                });
                Some(after)
            }
        }
    }

    /// Waits until the clock reads `deadline` or later. Cancel-safe.
    pub async fn sleep_until(&self, deadline: Millis) {
        match &*self.source {
            Source::System => loop {
                let now = system_millis();
                if now >= deadline {
                    return;
                }
                let wait = (deadline - now).min(LONGEST_SLEEP_MS) as u64;
                tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
            },
            Source::Manual(now) => {
                let mut watcher = now.subscribe();
                // The sender lives as long as `self`, so `changed` only fails if the
                // clock is dropped while we wait, which `&self` rules out.
                while *watcher.borrow_and_update() < deadline {
                    if watcher.changed().await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &*self.source {
            Source::System => f.write_str("Clock::System"),
            Source::Manual(now) => write!(f, "Clock::Manual({})", *now.borrow()),
        }
    }
}

fn system_millis() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_manual_sleeper_wakes_exactly_when_the_clock_passes_its_deadline() {
        let clock = Clock::manual(1_000);
        let sleeper = tokio::spawn({
            let clock = clock.clone();
            async move { clock.sleep_until(1_500).await }
        });
        clock.advance(499);
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished(), "woke before its deadline");
        assert_eq!(clock.advance(1), Some(1_500));
        sleeper
            .await
            .expect("the sleeper ends once the deadline is reached");
    }

    #[test]
    fn a_manual_clock_never_goes_backwards_and_the_system_clock_cannot_be_moved() {
        let clock = Clock::manual(10);
        assert_eq!(clock.advance(-5), Some(10));
        assert!(Clock::system().advance(5).is_none());
    }
}
