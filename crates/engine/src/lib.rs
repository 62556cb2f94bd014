//! The deterministic orchestration core of Weir: the state machine that decides what an AWS Glue
//! workflow run does.
//!
//! # Contract
//!
//! This crate performs no I/O, reads no clock and draws no random numbers: the same inputs give
//! the same states, effects and ids (sans-IO, in the style of `quinn-proto` and `raft-rs`).
//! It knows nothing of SQL, HTTP or the JSON wire format, and depends on no other Weir
//! crate (every other crate may depend on it). Time comes in as `now: Millis`
//! (epoch milliseconds) on every call that needs it; the driver must never pass a `now`
//! earlier than the one before.
//!
//! A [`WorkflowRun`] is the whole persisted state of one workflow run (it and every type inside
//! it derive `Serialize, Deserialize, Clone, Debug, PartialEq`). Its methods come in four kinds:
//!
//! * constructors: [`WorkflowRun::start`], [`WorkflowRun::resume`], [`WorkflowRun::rejected`];
//! * input handlers `handle_*(now, …)`: what happened to attempts, timers, stop requests;
//! * pollers: [`WorkflowRun::poll_effect`] (what to do) and [`WorkflowRun::poll_timeout`]
//!   (when to call [`WorkflowRun::handle_timeout`]);
//! * getters for the server's views: [`WorkflowRun::nodes`], [`WorkflowRun::statistics`],
//!   [`WorkflowRun::status`], [`WorkflowRun::fired_triggers`], …
//!
//! # The driver loop
//!
//! 1. Build a [`WorkflowSnapshot`] of the workflow's triggers (frozen for the run, glue-api.md
//!    §4.2) and call [`WorkflowRun::start`] (or [`WorkflowRun::resume`]).
//! 2. After **every** constructor or `handle_*` call, drain [`WorkflowRun::poll_effect`] to
//!    `None`.
//! 3. Commit the new state and the drained effects in one transaction. **Durable before
//!    acknowledged**: execute no effect and answer no API call before that commit. The effect
//!    queue is not serialized; persist only a drained run.
//! 4. Execute the effects ([`Effect`]): start/kill job attempts and crawls, report the end of
//!    the run. Feed what happens back as events (`handle_job_started`, `handle_job_ended`,
//!    `handle_crawl_ended`, …) and go to 2.
//! 5. Arm one timer at [`WorkflowRun::poll_timeout`]; when it passes, call
//!    [`WorkflowRun::handle_timeout`] and go to 2. Early or repeated calls are harmless.
//! 6. After a crash, load the run and execute [`WorkflowRun::recover`]: every effect that may
//!    still be outstanding, all idempotent (`StartJob` is keyed by its deterministic `jr_` id).
//!    A crash between 3 and 4 therefore loses nothing; a crash after 4 repeats nothing,
//!    because the driver starts an id at most once and every kill is answered once.
//!
//! Impossible events (unknown id, event for a terminal attempt, a second "started") return an
//! [`EventError`] and leave the state unchanged; the engine never panics on driver input.
//!
//! ```
//! use weir_engine::*;
//!
//! // J1 --(T2: J1 SUCCEEDED)--> J2
//! let snapshot = WorkflowSnapshot {
//!     workflow_name: "wf".into(),
//!     triggers: vec![
//!         TriggerSnapshot {
//!             name: "T1".into(),
//!             kind: TriggerKind::Start,
//!             logical: Logical::And,
//!             conditions: vec![],
//!             actions: vec![Action::Job { job_name: "J1".into(), arguments: Default::default(), timeout_minutes: None }],
//!         },
//!         TriggerSnapshot {
//!             name: "T2".into(),
//!             kind: TriggerKind::Conditional,
//!             logical: Logical::And,
//!             conditions: vec![Condition::Job { job_name: "J1".into(), state: JobRunState::Succeeded }],
//!             actions: vec![Action::Job { job_name: "J2".into(), arguments: Default::default(), timeout_minutes: Some(5) }],
//!         },
//!     ],
//! };
//! let mut now: Millis = 1_700_000_000_000;
//! let mut run = WorkflowRun::start(snapshot, "wr_1", now).unwrap();
//! let mut store = Vec::new(); // a fake durable store: (state, effects) per commit
//! let mut started = Vec::new();
//! loop {
//!     // 2. drain, 3. commit, 4. execute
//!     let effects: Vec<Effect> = std::iter::from_fn(|| run.poll_effect()).collect();
//!     store.push((run.clone(), effects.clone()));
//!     let mut progressed = false;
//!     for effect in effects {
//!         now += 1_000;
//!         match effect {
//!             Effect::StartJob(s) => {
//!                 run.handle_job_started(now, &s.job_run_id, JobFacts { max_retries: 0, timeout_minutes: s.timeout_minutes }).unwrap();
//!                 started.push(s.job_name.clone());
//!                 let ended = JobEnded { outcome: JobOutcome::Succeeded, error_message: None, ended_at: now };
//!                 run.handle_job_ended(now, &s.job_run_id, ended).unwrap();
//!                 progressed = true;
//!             }
//!             Effect::RunFinished { status } => assert_eq!(status, RunStatus::Completed),
//!             other => panic!("unexpected {other:?}"),
//!         }
//!     }
//!     if !progressed { break; }
//! }
//! assert_eq!(started, ["J1", "J2"]);
//! assert_eq!(run.status(), RunStatus::Completed);
//! let stats = run.statistics();
//! assert_eq!((stats.total, stats.succeeded), (2, 2));
//! assert!(run.recover().iter().all(|e| matches!(e, Effect::RunFinished { .. })));
//! // What was committed can be reloaded and continues identically.
//! let json = serde_json::to_string(&run).unwrap();
//! assert_eq!(serde_json::from_str::<WorkflowRun>(&json).unwrap(), run);
//! ```
//!
//! # Decisions (the spec leaves these open; see glue-api.md §11)
//!
//! * **Start** (§4.3): the start trigger fires when the run is created; a workflow without a
//!   start trigger, or whose start trigger has no actions, completes immediately. A run that
//!   could not start is built with [`WorkflowRun::rejected`] (status ERROR, §4.7).
//! * **Progress** (§4.3, §5.3): when a node's latest attempt becomes terminal (after retries:
//!   a retry is created in the same step as the failure, so a node being retried is never
//!   final), every un-fired CONDITIONAL trigger watching it is evaluated in snapshot order.
//!   A condition holds iff the node's *latest* attempt (the most recently created one) ended in
//!   exactly the awaited state; AND = all, ANY = at least one. A trigger fires at most once per
//!   run. `PredecessorRuns` = the latest job runs of the satisfied job conditions.
//! * **A node started twice** in one run (two triggers start it) gets a new job run (next
//!   `sequence`, attempt 0) appended to its list, even if the first is still running.
//! * **Completion** (§4.3): RUNNING → COMPLETED when no attempt is in flight; since every
//!   trigger is re-evaluated whenever a watched node's outcome changes, nothing can fire then.
//!   COMPLETED also when nodes failed. `RunFinished` is emitted once.
//! * **Statistics** (§4.4): [`RunStatistics`]; `total` counts every job/crawler node of the
//!   snapshot, the buckets count each node once by its latest attempt; `waiting` is always 0.
//! * **Job facts** (§4.2: jobs are not frozen): [`Effect::StartJob`] carries the action's
//!   arguments and timeout; the driver reads the job definition when it launches the attempt,
//!   merges arguments (§6.2) and reports `MaxRetries` and the effective timeout in
//!   [`JobFacts`] with [`WorkflowRun::handle_job_started`]. Each retry reads them afresh.
//!   Recorded `arguments` are the action's; the driver merges defaults when it displays them.
//! * **Ids** (§4.2, §6.3): [`node_unique_id`] (`wnode_`…), [`job_run_id`] (`jr_`…) and
//!   [`crawl_id`] are SHA-256 based and deterministic, so recovery re-derives the same ids.
//! * **Retries** (§6.3): only a FAILED attempt whose start was confirmed (facts known) and whose
//!   `attempt < MaxRetries` is retried: attempt+1, `PreviousRunId` = the failed id, same
//!   trigger, arguments and predecessors. STOPPED, TIMEOUT and ERROR are never retried, nor is
//!   anything once the run is stopping.
//! * **Timeouts** are timers as data: the deadline is armed at `handle_job_started`
//!   (`now + timeout`). [`WorkflowRun::handle_timeout`] emits `KillJob` and marks the attempt;
//!   TIMEOUT is recorded when the driver confirms the kill with `handle_job_ended` (whatever
//!   outcome it reports), so nothing downstream starts while the process may still be alive.
//! * **Job concurrency** (§4.7): decided by the driver; it reports
//!   [`WorkflowRun::handle_job_rejected`] → FAILED with the message, not retried.
//!   A deleted job is reported with [`WorkflowRun::handle_job_missing`] → ERROR (§6.3).
//! * **Stop** (§4.5): [`WorkflowRun::handle_stop`] on a RUNNING run → STOPPING, every attempt in
//!   flight goes STOPPING (crawls CANCELLING) with a kill effect; late outcomes are recorded as
//!   reported but start nothing; STOPPED when the last one is terminal. Any other status →
//!   [`StopError`] (`IllegalWorkflowStateException`). Every kill must be answered by exactly
//!   one end event, also for an attempt that never started.
//! * **Resume** (§4.6): see [`WorkflowRun::resume`]. Selected nodes downstream of another
//!   selected node are dropped. The *reset set* is the restarted nodes plus everything
//!   downstream of them; reset nodes start with no run details (they are re-run if their
//!   triggers fire again), every other node is copied with its details and original ids
//!   ([`NodeState::copied`]). Triggers watching a reset node forget that they fired, the others
//!   keep their status; right after the restarted nodes start, every un-fired trigger is
//!   evaluated once, so a reset `ANY` trigger already satisfied by a copied node fires. The
//!   resumed run keeps the original snapshot, and can itself be resumed.
//! * **Persistence**: all state types derive serde; node lists are `Vec`s (no map with
//!   non-string keys), so any serde format (JSON included) round-trips a run exactly.
//! * **Not here**: run properties, job definitions, argument merging, workflow-level
//!   `MaxConcurrentRuns` and run ids (`wr_…` need randomness) belong to the driver.

#![warn(missing_docs, unreachable_pub)]

mod attempt;
mod effect;
mod error;
mod events;
mod ids;
mod node;
mod resume;
mod run;
mod snapshot;
mod stats;
mod tracking;

pub use attempt::{
    CrawlAttempt, CrawlEnded, CrawlOutcome, CrawlState, JobAttempt, JobEnded, JobFacts, JobOutcome,
    JobRunState, MINUTE_MS, Predecessor,
};
pub use effect::{Effect, StartJob};
pub use error::{EventError, ResumeError, SnapshotError, StopError};
pub use ids::{NodeKind, crawl_id, job_run_id, node_unique_id};
pub use node::{Latest, NodeState};
pub use resume::Resumed;
pub use run::{FiredTrigger, RunStatus, WorkflowRun};
pub use snapshot::{
    Action, Condition, Logical, NodeRef, TriggerKind, TriggerSnapshot, WorkflowSnapshot,
};
pub use stats::RunStatistics;

/// Milliseconds since the Unix epoch: the only notion of time the engine knows.
pub type Millis = i64;
