//! The workflow run state machine: lifecycle, trigger firing and completion (glue-api.md §4.3).

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::Millis;
use crate::attempt::{CrawlAttempt, CrawlState, JobAttempt, JobRunState, Predecessor};
use crate::effect::{Effect, StartJob};
use crate::error::SnapshotError;
use crate::ids::{crawl_id, job_run_id};
use crate::node::{Latest, NodeState};
use crate::snapshot::{Action, Condition, Logical, NodeRef, TriggerKind, WorkflowSnapshot};
use crate::stats::RunStatistics;
use crate::tracking::{Positions, Tracking};

/// `WorkflowRunStatus` (glue-api.md §4.3).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunStatus {
    /// Work is running or can still be started.
    Running,
    /// Nothing runs and nothing can fire any more (also when nodes failed).
    Completed,
    /// A stop was requested; waiting for kills to be confirmed (§4.5).
    Stopping,
    /// Stopped: every attempt is terminal.
    Stopped,
    /// The run could not start (e.g. `Concurrent runs exceeded for workflow: <name>.`).
    Error,
}

impl RunStatus {
    /// The wire spelling (`RUNNING`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "RUNNING",
            RunStatus::Completed => "COMPLETED",
            RunStatus::Stopping => "STOPPING",
            RunStatus::Stopped => "STOPPED",
            RunStatus::Error => "ERROR",
        }
    }

    /// Whether the status is final (COMPLETED, STOPPED or ERROR).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            RunStatus::Completed | RunStatus::Stopped | RunStatus::Error
        )
    }
}

/// A trigger that fired in this run (at most once per run, glue-api.md §4.3).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct FiredTrigger {
    /// Trigger name.
    pub trigger_name: String,
    /// When it fired.
    pub fired_on: Millis,
    /// Latest job runs of the satisfied job conditions (empty for the start trigger).
    pub predecessor_runs: Vec<Predecessor>,
}

/// One workflow run: the persisted state of the orchestration core.
///
/// Methods come in four kinds (the quinn-proto shape): getters (`&self`), input handlers
/// `handle_*(now, …)`, the constructors [`WorkflowRun::start`] / [`WorkflowRun::resume`] /
/// [`WorkflowRun::rejected`], and pollers [`WorkflowRun::poll_effect`] and
/// [`WorkflowRun::poll_timeout`]. After every constructor or handler, drain `poll_effect` to
/// `None`, commit the state together with the drained effects, then execute them.
///
/// The effect queue is not serialized: persist only a drained run. [`WorkflowRun::recover`]
/// re-derives every effect that may still be outstanding from the persisted state.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct WorkflowRun {
    pub(crate) run_id: String,
    pub(crate) previous_run_id: Option<String>,
    pub(crate) snapshot: WorkflowSnapshot,
    pub(crate) status: RunStatus,
    pub(crate) error_message: Option<String>,
    pub(crate) started_on: Millis,
    pub(crate) completed_on: Option<Millis>,
    pub(crate) nodes: Vec<NodeState>,
    pub(crate) fired: Vec<FiredTrigger>,
    #[serde(skip)]
    pub(crate) effects: VecDeque<Effect>,
    /// Where nodes and job attempts sit in `nodes`, and which attempts changed (not
    /// persisted).
    #[serde(skip)]
    pub(crate) tracking: Tracking,
}

impl WorkflowRun {
    /// Starts a run: RUNNING, then fires the start trigger (every action becomes a `StartJob`
    /// or `StartCrawl` effect, glue-api.md §4.3). A workflow without a start trigger, or whose
    /// start trigger has no action, completes at once (a `RunFinished` effect).
    pub fn start(
        snapshot: WorkflowSnapshot,
        run_id: impl Into<String>,
        now: Millis,
    ) -> Result<Self, SnapshotError> {
        snapshot.validate()?;
        let mut run = Self::empty(snapshot, run_id.into(), now);
        if let Some(i) = run
            .snapshot
            .triggers
            .iter()
            .position(|t| t.kind == TriggerKind::Start)
        {
            run.fire(i, Vec::new(), now);
        }
        run.maybe_finish(now);
        Ok(run)
    }

    /// A run that could not start, recorded directly as ERROR with `message` (glue-api.md §4.7:
    /// trigger-initiated starts beyond `MaxConcurrentRuns`). No effects.
    pub fn rejected(
        snapshot: WorkflowSnapshot,
        run_id: impl Into<String>,
        now: Millis,
        message: impl Into<String>,
    ) -> Self {
        let mut run = Self::empty(snapshot, run_id.into(), now);
        run.status = RunStatus::Error;
        run.error_message = Some(message.into());
        run.completed_on = Some(now);
        run
    }

    pub(crate) fn empty(snapshot: WorkflowSnapshot, run_id: String, now: Millis) -> Self {
        let nodes = snapshot
            .action_nodes()
            .into_iter()
            .map(|n| NodeState::new(n, &snapshot.workflow_name))
            .collect();
        WorkflowRun {
            run_id,
            previous_run_id: None,
            snapshot,
            status: RunStatus::Running,
            error_message: None,
            started_on: now,
            completed_on: None,
            nodes,
            fired: Vec::new(),
            effects: VecDeque::new(),
            tracking: Tracking::default(),
        }
    }

    // ----- getters -------------------------------------------------------------------------

    /// `WorkflowRunId`.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Workflow name.
    pub fn workflow_name(&self) -> &str {
        &self.snapshot.workflow_name
    }

    /// `PreviousRunId`: the run this one resumes (glue-api.md §4.6).
    pub fn previous_run_id(&self) -> Option<&str> {
        self.previous_run_id.as_deref()
    }

    /// The frozen trigger definitions (graph topology of the run view).
    pub fn snapshot(&self) -> &WorkflowSnapshot {
        &self.snapshot
    }

    /// `Status`.
    pub fn status(&self) -> RunStatus {
        self.status
    }

    /// `ErrorMessage` (only for ERROR runs).
    pub fn error_message(&self) -> Option<&str> {
        self.error_message.as_deref()
    }

    /// `StartedOn`.
    pub fn started_on(&self) -> Millis {
        self.started_on
    }

    /// `CompletedOn` (set on COMPLETED, STOPPED and ERROR).
    pub fn completed_on(&self) -> Option<Millis> {
        self.completed_on
    }

    /// Job and crawler nodes with their run details, in snapshot order.
    pub fn nodes(&self) -> &[NodeState] {
        &self.nodes
    }

    /// A node by reference.
    pub fn node(&self, node: &NodeRef) -> Option<&NodeState> {
        self.positions().node(node).map(|ni| &self.nodes[ni])
    }

    /// Triggers fired in this run, in firing order.
    pub fn fired_triggers(&self) -> &[FiredTrigger] {
        &self.fired
    }

    /// Whether the named trigger fired in this run.
    pub fn has_fired(&self, trigger: &str) -> bool {
        self.fired.iter().any(|f| f.trigger_name == trigger)
    }

    /// `Statistics` computed from the nodes (glue-api.md §4.4).
    pub fn statistics(&self) -> RunStatistics {
        RunStatistics::of(&self.nodes)
    }

    /// A job attempt of this run by `jr_` id.
    pub fn job_run(&self, id: &str) -> Option<&JobAttempt> {
        self.find_job(id).map(|(n, a)| &self.nodes[n].job_runs[a])
    }

    /// The job attempts changed or created since the last call, in node order, each
    /// once (a run loaded from its persisted form starts with none): what a driver that
    /// keeps one record per attempt writes again with the run. Attempts copied into a
    /// resumed run belong to the run it resumes and never change.
    pub fn take_changed_job_runs(&mut self) -> Vec<JobAttempt> {
        let changed = self.tracking.take_changed();
        changed
            .into_iter()
            .filter_map(|(ni, ai)| self.nodes.get(ni)?.job_runs.get(ai).cloned())
            .collect()
    }

    /// A crawl of this run by id.
    pub fn crawl(&self, id: &str) -> Option<&CrawlAttempt> {
        self.find_crawl(id).map(|(n, c)| &self.nodes[n].crawls[c])
    }

    // ----- pollers -------------------------------------------------------------------------

    /// The next effect to execute, oldest first. Drain to `None` after every call that takes
    /// `&mut self`, commit, then execute (durable before acknowledged).
    #[must_use]
    pub fn poll_effect(&mut self) -> Option<Effect> {
        self.effects.pop_front()
    }

    /// The start effect of a WAITING attempt, for the driver to launch it again when its
    /// job has a free run slot (job run queuing).
    pub fn waiting_start(&self, job_run_id: &str) -> Option<StartJob> {
        self.nodes
            .iter()
            .flat_map(|n| &n.job_runs)
            .find(|a| a.id == job_run_id && a.state == JobRunState::Waiting)
            .map(start_job_effect)
    }

    /// The earliest armed deadline (a running attempt's timeout, a waiting one's limit). Call
    /// [`WorkflowRun::handle_timeout`] when it passes; `None` = no timer needed.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Millis> {
        self.nodes
            .iter()
            .flat_map(|n| &n.job_runs)
            .filter(|a| {
                (a.state == JobRunState::Running && !a.timed_out) || a.state == JobRunState::Waiting
            })
            .filter_map(|a| a.deadline)
            .min()
    }

    /// Crash recovery: every effect that may still be outstanding according to the persisted
    /// state, all idempotent: `StartJob` for attempts still STARTING, `StartCrawl` for crawls
    /// not confirmed started, `KillJob`/`KillCrawl` for unconfirmed kills, `RunFinished` for a
    /// finished run. Executing them again after a restart neither loses nor duplicates work.
    pub fn recover(&self) -> Vec<Effect> {
        let mut out = Vec::new();
        for n in &self.nodes {
            for a in &n.job_runs {
                if a.kill_pending() {
                    out.push(Effect::KillJob {
                        job_run_id: a.id.clone(),
                        job_name: a.job_name.clone(),
                    });
                } else if a.state == JobRunState::Starting {
                    out.push(Effect::StartJob(start_job_effect(a)));
                }
            }
            for c in &n.crawls {
                match c.state {
                    CrawlState::Cancelling => out.push(Effect::KillCrawl {
                        crawler_name: c.crawler_name.clone(),
                        crawl_id: c.id.clone(),
                    }),
                    CrawlState::Running if !c.confirmed => out.push(Effect::StartCrawl {
                        crawler_name: c.crawler_name.clone(),
                        crawl_id: c.id.clone(),
                    }),
                    _ => {}
                }
            }
        }
        if matches!(self.status, RunStatus::Completed | RunStatus::Stopped) {
            out.push(Effect::RunFinished {
                status: self.status,
            });
        }
        out
    }

    /// The `StartJob` effects among [`WorkflowRun::recover`]: attempts the driver must
    /// (idempotently) ensure are started.
    pub fn pending_starts(&self) -> Vec<StartJob> {
        self.recover()
            .into_iter()
            .filter_map(|e| match e {
                Effect::StartJob(s) => Some(s),
                _ => None,
            })
            .collect()
    }

    // ----- internals -----------------------------------------------------------------------

    pub(crate) fn positions(&self) -> &Positions {
        self.tracking.positions(&self.nodes)
    }

    /// Attempt `ai` of node `ni`, to change it (recorded as changed).
    pub(crate) fn job_run_mut(&mut self, ni: usize, ai: usize) -> &mut JobAttempt {
        self.tracking.job_run_changed(ni, ai);
        &mut self.nodes[ni].job_runs[ai]
    }

    pub(crate) fn find_job(&self, id: &str) -> Option<(usize, usize)> {
        self.positions().job_run(id)
    }

    pub(crate) fn find_crawl(&self, id: &str) -> Option<(usize, usize)> {
        self.nodes
            .iter()
            .enumerate()
            .find_map(|(ni, n)| n.crawls.iter().position(|c| c.id == id).map(|ci| (ni, ci)))
    }

    /// Fires trigger `ti`: records it and starts each action.
    fn fire(&mut self, ti: usize, predecessor_runs: Vec<Predecessor>, now: Millis) {
        let trigger = self.snapshot.triggers[ti].clone();
        self.fired.push(FiredTrigger {
            trigger_name: trigger.name.clone(),
            fired_on: now,
            predecessor_runs: predecessor_runs.clone(),
        });
        for action in &trigger.actions {
            let (arguments, timeout) = match action {
                Action::Job {
                    arguments,
                    timeout_minutes,
                    ..
                } => (arguments.clone(), *timeout_minutes),
                Action::Crawler { .. } => Default::default(),
            };
            let start = NodeStart {
                trigger_name: Some(trigger.name.clone()),
                predecessor_runs: predecessor_runs.clone(),
                arguments,
                timeout_minutes: timeout,
            };
            if let Some(ni) = self.positions().node(&action.node()) {
                self.start_node(ni, start, now);
            }
        }
    }

    /// Starts node `ni` anew (a new sequence, attempt 0). A node already started in this run
    /// gets one more job run / crawl in its list. Copied (resumed) details are dropped first.
    pub(crate) fn start_node(&mut self, ni: usize, start: NodeStart, now: Millis) {
        let run_id = self.run_id.clone();
        let node = &mut self.nodes[ni];
        if node.copied {
            node.copied = false;
            node.job_runs.clear();
            node.crawls.clear();
            self.tracking.job_runs_removed(ni);
        }
        let sequence = node.starts;
        node.starts += 1;
        match node.node.clone() {
            NodeRef::Job(job_name) => {
                let attempt = JobAttempt {
                    id: job_run_id(&run_id, &job_name, sequence, 0),
                    job_name,
                    sequence,
                    attempt: 0,
                    previous_run_id: None,
                    trigger_name: start.trigger_name,
                    predecessor_runs: start.predecessor_runs,
                    started_on: now,
                    last_modified_on: now,
                    completed_on: None,
                    state: JobRunState::Starting,
                    error_message: None,
                    arguments: start.arguments,
                    action_timeout_minutes: start.timeout_minutes,
                    timeout_minutes: start.timeout_minutes,
                    max_retries: None,
                    deadline: None,
                    timed_out: false,
                };
                self.effects
                    .push_back(Effect::StartJob(start_job_effect(&attempt)));
                self.tracking
                    .job_run_added(&attempt.id, ni, node.job_runs.len());
                node.job_runs.push(attempt);
            }
            NodeRef::Crawler(crawler_name) => {
                let crawl = CrawlAttempt {
                    id: crawl_id(&run_id, &crawler_name, sequence),
                    crawler_name,
                    sequence,
                    trigger_name: start.trigger_name,
                    started_on: now,
                    completed_on: None,
                    state: CrawlState::Running,
                    error_message: None,
                    confirmed: false,
                };
                self.effects.push_back(Effect::StartCrawl {
                    crawler_name: crawl.crawler_name.clone(),
                    crawl_id: crawl.id.clone(),
                });
                node.crawls.push(crawl);
            }
        }
    }

    /// Starts the retry of a FAILED attempt when attempts are left (glue-api.md §6.3).
    pub(crate) fn maybe_retry(&mut self, ni: usize, ai: usize, now: Millis) {
        if self.status != RunStatus::Running {
            return;
        }
        let run_id = self.run_id.clone();
        let failed = &self.nodes[ni].job_runs[ai];
        if failed.state != JobRunState::Failed || failed.attempt >= failed.max_retries.unwrap_or(0)
        {
            return;
        }
        let attempt = JobAttempt {
            id: job_run_id(
                &run_id,
                &failed.job_name,
                failed.sequence,
                failed.attempt + 1,
            ),
            attempt: failed.attempt + 1,
            previous_run_id: Some(failed.id.clone()),
            started_on: now,
            last_modified_on: now,
            completed_on: None,
            state: JobRunState::Starting,
            error_message: None,
            timeout_minutes: failed.action_timeout_minutes,
            max_retries: None,
            deadline: None,
            timed_out: false,
            ..failed.clone()
        };
        self.effects
            .push_back(Effect::StartJob(start_job_effect(&attempt)));
        let runs = &mut self.nodes[ni].job_runs;
        self.tracking.job_run_added(&attempt.id, ni, runs.len());
        runs.push(attempt);
    }

    fn predicate(&self, ti: usize) -> Option<Vec<Predecessor>> {
        let t = &self.snapshot.triggers[ti];
        let positions = self.positions();
        let watched = |c: &Condition| positions.watched(c).map(|ni| &self.nodes[ni]);
        let holds = |c: &Condition| watched(c).is_some_and(|n| n.satisfies(c));
        // An AND stops at its first unmet condition: a join over n jobs is then not
        // checked in full (n node look-ups) at every one of its n jobs' ends.
        if t.logical == Logical::And && !t.conditions.iter().all(holds) {
            return None;
        }
        let satisfied: Vec<&Condition> = t.conditions.iter().filter(|c| holds(c)).collect();
        let ok = match t.logical {
            Logical::And => satisfied.len() == t.conditions.len(),
            Logical::Any => !satisfied.is_empty(),
        };
        if !ok || t.conditions.is_empty() {
            return None;
        }
        let mut preds: Vec<Predecessor> = Vec::new();
        for c in satisfied {
            if let Some(Latest::Job(a)) = watched(c).map(NodeState::latest)
                && !preds.iter().any(|p| p.run_id == a.id)
            {
                preds.push(Predecessor {
                    job_name: a.job_name.clone(),
                    run_id: a.id.clone(),
                });
            }
        }
        Some(preds)
    }

    /// glue-api.md §4.3 "Progress": node `ni` reached a final outcome; evaluate every un-fired
    /// conditional trigger watching it, in snapshot order. Only while RUNNING (§4.5).
    pub(crate) fn evaluate(&mut self, ni: usize, now: Millis) {
        if self.status != RunStatus::Running || !self.nodes[ni].is_final() {
            return;
        }
        let node = self.nodes[ni].node.clone();
        for ti in 0..self.snapshot.triggers.len() {
            let t = &self.snapshot.triggers[ti];
            if t.kind != TriggerKind::Conditional || !t.watches(&node) || self.has_fired(&t.name) {
                continue;
            }
            if let Some(preds) = self.predicate(ti) {
                self.fire(ti, preds, now);
            }
        }
    }

    /// Evaluates every un-fired conditional trigger once, in snapshot order (used when a
    /// resumed run starts: reset triggers may already be satisfied by copied nodes). One pass
    /// suffices: firing only starts nodes, which can only make conditions unsatisfied.
    pub(crate) fn evaluate_all(&mut self, now: Millis) {
        for ti in 0..self.snapshot.triggers.len() {
            let t = &self.snapshot.triggers[ti];
            if t.kind != TriggerKind::Conditional || self.has_fired(&t.name) {
                continue;
            }
            if let Some(preds) = self.predicate(ti) {
                self.fire(ti, preds, now);
            }
        }
    }

    /// RUNNING → COMPLETED / STOPPING → STOPPED once no attempt is in flight (§4.3, §4.5).
    /// While RUNNING every un-fired trigger has been evaluated against the current final
    /// outcomes, so "nothing in flight" also means "nothing can fire any more".
    pub(crate) fn maybe_finish(&mut self, now: Millis) {
        if self.nodes.iter().any(NodeState::busy) {
            return;
        }
        let next = match self.status {
            RunStatus::Running => RunStatus::Completed,
            RunStatus::Stopping => RunStatus::Stopped,
            _ => return,
        };
        self.status = next;
        self.completed_on = Some(now);
        self.effects.push_back(Effect::RunFinished { status: next });
    }
}

/// What a node start carries over from the firing trigger's action.
#[derive(Clone, Debug, Default)]
pub(crate) struct NodeStart {
    pub(crate) trigger_name: Option<String>,
    pub(crate) predecessor_runs: Vec<Predecessor>,
    pub(crate) arguments: std::collections::BTreeMap<String, String>,
    pub(crate) timeout_minutes: Option<u32>,
}

pub(crate) fn start_job_effect(a: &JobAttempt) -> StartJob {
    StartJob {
        job_run_id: a.id.clone(),
        job_name: a.job_name.clone(),
        attempt: a.attempt,
        previous_run_id: a.previous_run_id.clone(),
        arguments: a.arguments.clone(),
        timeout_minutes: a.action_timeout_minutes,
        trigger_name: a.trigger_name.clone(),
        predecessor_runs: a.predecessor_runs.clone(),
    }
}
