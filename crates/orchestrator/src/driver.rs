//! The driver: the one task that owns what happens to runs between API calls.
//!
//! It is fed a closed set of [`Event`]s — a transition committed, a job attempt ended,
//! a crawl ended, an attempt must be launched or its kill answered — and owns the
//! timer queue (one queue of run deadlines, one sleep on the server's clock, not a
//! task per deadline) and the retries of transitions that failed. Work that waits on
//! the store or on a process runs in tasks it spawns; every such task reports back
//! with an event, and a failed transition is sent back to the driver after a backoff,
//! so no event is lost while the server lives. After a crash, [`super::recovery`]
//! derives every outstanding event from the persisted runs.
//!
//! A run has at most one transition of the driver's in flight: the events of that run
//! that arrive meanwhile wait in its queue and are applied together, in arrival order,
//! by the next one (see [`super::apply`]). A fan-in of n jobs ending at once is then a
//! few transitions of the run, not n transitions queued one behind the other on the
//! store's writer, each loading and rewriting the whole run.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use tokio::sync::mpsc;
use weir_engine::{Effect, JobEnded, Millis, StartJob};

use super::Orchestrator;
use super::crawl::CrawlResult;
use super::stored_run::RunKey;

/// First delay before a failed transition is tried again; doubled per failure.
const FIRST_RETRY: Duration = Duration::from_millis(50);
/// Longest delay between two tries of a failed transition.
const LAST_RETRY: Duration = Duration::from_secs(30);

/// Everything the driver reacts to.
#[derive(Debug, Clone)]
pub(crate) enum Event {
    /// A transition of `key` committed: execute its effects, arm its next deadline.
    Committed {
        /// The run.
        key: RunKey,
        /// Effects to execute, in order.
        effects: Vec<Effect>,
        /// The run's earliest deadline after the transition.
        deadline: Option<Millis>,
    },
    /// Confirm and start an attempt the runner has reserved.
    Launch {
        /// The run.
        key: RunKey,
        /// The attempt.
        start: StartJob,
    },
    /// A job attempt ended (exited, was stopped, or could not start).
    JobEnded {
        /// The run.
        key: RunKey,
        /// The attempt.
        job_run_id: String,
        /// How it ended.
        ended: JobEnded,
    },
    /// The earliest deadline of a run passed: fire its timeouts.
    Timeout {
        /// The run.
        key: RunKey,
    },
    /// A kill reached no process of this runner: end the attempt if it never started.
    KillUnlaunched {
        /// The run.
        key: RunKey,
        /// The attempt.
        job_run_id: String,
    },
    /// A crawl of a run ended (or could not start).
    CrawlEnded {
        /// The run.
        key: RunKey,
        /// The crawl.
        crawl_id: String,
        /// The crawler.
        crawler: String,
        /// What happened.
        result: CrawlResult,
    },
    /// An event whose transition failed, to be applied again after a backoff.
    Retry {
        /// The event.
        event: Box<Event>,
        /// How many times it failed so far (at least 1).
        failures: u32,
    },
    /// The backoff of a [`Event::Retry`] passed: queue the event with its run's.
    RetryDue {
        /// The event.
        event: Box<Event>,
        /// How many times it failed so far (at least 1).
        failures: u32,
    },
    /// The driver's transition of a run ended (committed or failed): apply the events
    /// that arrived for the run meanwhile.
    Applied {
        /// The run.
        key: RunKey,
    },
}

impl Event {
    /// The run whose transition applies this event; `None` for the events the driver
    /// handles itself.
    fn run(&self) -> Option<&RunKey> {
        match self {
            Event::Launch { key, .. }
            | Event::JobEnded { key, .. }
            | Event::Timeout { key }
            | Event::KillUnlaunched { key, .. }
            | Event::CrawlEnded { key, .. } => Some(key),
            Event::Committed { .. }
            | Event::Retry { .. }
            | Event::RetryDue { .. }
            | Event::Applied { .. } => None,
        }
    }
}

/// An event waiting for its run's transition, with how many times it failed so far.
pub(crate) type Queued = (Event, u32);

/// The sending half, held by the orchestrator and every task it spawns.
pub(crate) type Events = mpsc::UnboundedSender<Event>;

/// The driver task's state.
pub(crate) struct Driver {
    orchestrator: Orchestrator,
    events: mpsc::UnboundedReceiver<Event>,
    /// Run deadlines, earliest first (`(deadline, run)`); a stale entry fires harmlessly.
    deadlines: BTreeSet<(Millis, RunKey)>,
    /// The earliest deadline queued per run, so each is queued once.
    armed: HashMap<RunKey, Millis>,
    /// The runs with a transition of the driver's in flight, and the events that arrived
    /// for each meanwhile (applied together by its next transition).
    in_flight: HashMap<RunKey, Vec<Queued>>,
}

impl Driver {
    /// A driver for `orchestrator` fed by `events`.
    pub(crate) fn new(orchestrator: Orchestrator, events: mpsc::UnboundedReceiver<Event>) -> Self {
        Self {
            orchestrator,
            events,
            deadlines: BTreeSet::new(),
            armed: HashMap::new(),
            in_flight: HashMap::new(),
        }
    }

    /// Runs until `shutdown` completes or every sender is gone.
    pub(crate) async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        let clock = self.orchestrator.clock().clone();
        tokio::pin!(shutdown);
        loop {
            let next = self.deadlines.first().map(|(at, _)| *at);
            let sleep = async {
                match next {
                    Some(at) => clock.sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                () = &mut shutdown => return,
                event = self.events.recv() => match event {
                    Some(event) => self.handle(event),
                    None => return,
                },
                () = sleep => self.fire_due(clock.now_millis()),
            }
        }
    }

    fn handle(&mut self, event: Event) {
        let orchestrator = self.orchestrator.clone();
        match event {
            Event::Committed {
                key,
                effects,
                deadline,
            } => {
                let finished = effects
                    .iter()
                    .any(|e| matches!(e, Effect::RunFinished { .. }));
                if finished {
                    // A finished run has no deadline left: forget its queued one rather
                    // than wake up for it (up to days later) to find nothing to do.
                    if let Some(at) = self.armed.remove(&key) {
                        self.deadlines.remove(&(at, key.clone()));
                    }
                } else if let Some(deadline) = deadline {
                    self.arm(key.clone(), deadline);
                }
                for effect in effects {
                    orchestrator.execute(&key, effect);
                }
            }
            Event::Retry { event, failures } => {
                let delay = FIRST_RETRY
                    .saturating_mul(1 << failures.saturating_sub(1).min(16))
                    .min(LAST_RETRY);
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    orchestrator.send(Event::RetryDue { event, failures });
                });
            }
            Event::RetryDue { event, failures } => self.queue(*event, failures),
            Event::Applied { key } => match self.in_flight.remove(&key) {
                Some(waiting) if !waiting.is_empty() => {
                    self.in_flight.insert(key.clone(), Vec::new());
                    tokio::spawn(async move { orchestrator.apply(key, waiting).await });
                }
                _ => {}
            },
            event => self.queue(event, 0),
        }
    }

    /// Applies `event` now if no transition of its run is in flight, else queues it
    /// for the next one.
    fn queue(&mut self, event: Event, failures: u32) {
        let Some(key) = event.run().cloned() else {
            return;
        };
        if let Some(waiting) = self.in_flight.get_mut(&key) {
            waiting.push((event, failures));
            return;
        }
        self.in_flight.insert(key.clone(), Vec::new());
        let orchestrator = self.orchestrator.clone();
        tokio::spawn(async move { orchestrator.apply(key, vec![(event, failures)]).await });
    }

    fn arm(&mut self, key: RunKey, deadline: Millis) {
        if self.armed.get(&key).is_some_and(|&armed| armed <= deadline) {
            return;
        }
        self.armed.insert(key.clone(), deadline);
        self.deadlines.insert((deadline, key));
    }

    fn fire_due(&mut self, now: Millis) {
        while let Some((at, _)) = self.deadlines.first()
            && *at <= now
        {
            let Some((at, key)) = self.deadlines.pop_first() else {
                break;
            };
            if self.armed.get(&key) == Some(&at) {
                self.armed.remove(&key);
            }
            self.handle(Event::Timeout { key });
        }
    }
}
