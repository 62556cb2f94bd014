//! A fake driver over random workflows: random DAGs of triggers, random per-attempt fates, a
//! random interleaving of events, and checks of the driver contract at every step.

use std::collections::{BTreeMap, BTreeSet};

use weir_engine::*;

/// xorshift64*: a tiny deterministic generator seeded by proptest.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<T: Clone>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())].clone()
    }
}

/// What happens to one attempt of a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    Succeeded,
    Failed,
    /// Job STOPPED / crawl CANCELLED.
    Stopped,
    /// Job timeout through the engine's timer.
    Timeout,
    /// Job/crawler missing → ERROR.
    Missing,
    /// Job concurrency exceeded → FAILED without retry.
    Rejected,
}

/// The final state a node reaches, as a condition would await it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Final {
    Job(JobRunState),
    Crawl(CrawlState),
}

/// Fates of every node for one run: `MaxRetries` and one fate per possible attempt.
#[derive(Clone, Debug)]
pub struct Fates {
    pub max_retries: BTreeMap<NodeRef, u32>,
    pub attempts: BTreeMap<NodeRef, Vec<Fate>>,
}

impl Fates {
    pub fn random(rng: &mut Rng, nodes: &[NodeRef]) -> Self {
        let mut max_retries = BTreeMap::new();
        let mut attempts = BTreeMap::new();
        for n in nodes {
            let retries = rng.below(3) as u32;
            let fates = (0..=retries)
                .map(|_| match (n, rng.below(16)) {
                    (_, 0..8) => Fate::Succeeded,
                    (_, 8..12) => Fate::Failed,
                    (_, 12) => Fate::Stopped,
                    (_, 13) => Fate::Missing,
                    (NodeRef::Job(_), 14) => Fate::Timeout,
                    (NodeRef::Job(_), _) => Fate::Rejected,
                    (NodeRef::Crawler(_), _) => Fate::Failed,
                })
                .collect();
            max_retries.insert(n.clone(), retries);
            attempts.insert(n.clone(), fates);
        }
        Fates {
            max_retries,
            attempts,
        }
    }

    /// The reference outcome of a node: retries only after a confirmed FAILED (§6.3).
    pub fn final_state(&self, node: &NodeRef) -> Final {
        let retries = self.max_retries[node];
        for (a, f) in self.attempts[node].iter().enumerate() {
            let j = match (node, f) {
                (NodeRef::Crawler(_), f) => {
                    return Final::Crawl(match f {
                        Fate::Succeeded => CrawlState::Succeeded,
                        Fate::Stopped => CrawlState::Cancelled,
                        Fate::Missing => CrawlState::Error,
                        _ => CrawlState::Failed,
                    });
                }
                (_, Fate::Failed) if (a as u32) < retries => continue,
                (_, Fate::Succeeded) => JobRunState::Succeeded,
                (_, Fate::Failed | Fate::Rejected) => JobRunState::Failed,
                (_, Fate::Stopped) => JobRunState::Stopped,
                (_, Fate::Timeout) => JobRunState::Timeout,
                (_, Fate::Missing) => JobRunState::Error,
            };
            return Final::Job(j);
        }
        unreachable!("the last attempt always ends the node")
    }
}

/// A random workflow: nodes `N0..Nn` (jobs or crawlers), a start trigger and conditional
/// triggers whose actions always come after their conditions (a DAG).
pub fn random_snapshot(rng: &mut Rng) -> WorkflowSnapshot {
    let n = 1 + rng.below(7);
    let nodes: Vec<NodeRef> = (0..n)
        .map(|i| {
            if rng.below(4) == 0 {
                NodeRef::Crawler(format!("C{i}"))
            } else {
                NodeRef::Job(format!("J{i}"))
            }
        })
        .collect();
    let action = |node: &NodeRef| match node {
        NodeRef::Job(j) => Action::Job {
            job_name: j.clone(),
            arguments: [("--node".to_string(), j.clone())].into(),
            timeout_minutes: None,
        },
        NodeRef::Crawler(c) => Action::Crawler {
            crawler_name: c.clone(),
        },
    };
    let mut start = vec![action(&nodes[0])];
    if n > 1 && rng.below(2) == 0 {
        start.push(action(&nodes[1 + rng.below(n - 1)]));
    }
    let mut triggers = vec![TriggerSnapshot {
        name: "start".into(),
        kind: TriggerKind::Start,
        logical: Logical::And,
        conditions: vec![],
        actions: start,
    }];
    if n > 1 {
        for k in 0..rng.below(7) {
            let pivot = 1 + rng.below(n - 1);
            let mut conds = BTreeSet::new();
            for _ in 0..1 + rng.below(3) {
                conds.insert(rng.below(pivot));
            }
            let mut acts = BTreeSet::new();
            for _ in 0..1 + rng.below(2) {
                acts.insert(pivot + rng.below(n - pivot));
            }
            let conditions = conds
                .into_iter()
                .map(|i| match &nodes[i] {
                    NodeRef::Job(j) => Condition::Job {
                        job_name: j.clone(),
                        state: match rng.below(8) {
                            0..4 => JobRunState::Succeeded,
                            4..6 => JobRunState::Failed,
                            6 => JobRunState::Stopped,
                            _ => JobRunState::Timeout,
                        },
                    },
                    NodeRef::Crawler(c) => Condition::Crawler {
                        crawler_name: c.clone(),
                        state: match rng.below(4) {
                            0..2 => CrawlState::Succeeded,
                            2 => CrawlState::Failed,
                            _ => CrawlState::Cancelled,
                        },
                    },
                })
                .collect();
            triggers.push(TriggerSnapshot {
                name: format!("t{k}"),
                kind: TriggerKind::Conditional,
                logical: if rng.below(2) == 0 {
                    Logical::And
                } else {
                    Logical::Any
                },
                conditions,
                actions: acts.into_iter().map(|i| action(&nodes[i])).collect(),
            });
        }
    }
    WorkflowSnapshot {
        workflow_name: "wf".into(),
        triggers,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    NotStarted,
    Started,
    Killed,
}

#[derive(Clone, Debug)]
struct Item {
    id: String,
    node: NodeRef,
    attempt: u32,
    phase: Phase,
}

/// The fake driver: executes effects, reports random interleavings of events.
pub struct Sim<'a> {
    pub run: WorkflowRun,
    pub now: Millis,
    pub finished: Vec<RunStatus>,
    pub started_ids: BTreeSet<String>,
    /// A stop was requested: no new start may appear any more (§4.5).
    pub stopped: bool,
    items: Vec<Item>,
    /// The driver's record of each job attempt, written from `take_changed_job_runs`.
    records: BTreeMap<String, JobAttempt>,
    fates: &'a Fates,
}

impl<'a> Sim<'a> {
    pub fn new(run: WorkflowRun, now: Millis, fates: &'a Fates) -> Self {
        let mut sim = Sim {
            run,
            now,
            finished: Vec::new(),
            started_ids: BTreeSet::new(),
            stopped: false,
            items: Vec::new(),
            records: BTreeMap::new(),
            fates,
        };
        sim.drain();
        sim
    }

    fn drain(&mut self) {
        self.check_records();
        while let Some(e) = self.run.poll_effect() {
            match e {
                Effect::StartJob(s) => {
                    assert!(!self.stopped, "§4.5: nothing starts after a stop");
                    assert!(
                        self.started_ids.insert(s.job_run_id.clone()),
                        "duplicate start"
                    );
                    self.items.push(Item {
                        id: s.job_run_id,
                        node: NodeRef::Job(s.job_name),
                        attempt: s.attempt,
                        phase: Phase::NotStarted,
                    });
                }
                Effect::StartCrawl {
                    crawler_name,
                    crawl_id,
                } => {
                    assert!(!self.stopped, "§4.5: nothing starts after a stop");
                    assert!(self.started_ids.insert(crawl_id.clone()), "duplicate crawl");
                    self.items.push(Item {
                        id: crawl_id,
                        node: NodeRef::Crawler(crawler_name),
                        attempt: 0,
                        phase: Phase::NotStarted,
                    });
                }
                Effect::KillJob { job_run_id, .. } => {
                    let item = self.items.iter_mut().find(|i| i.id == job_run_id);
                    let item = item.expect("kill of an unknown attempt");
                    assert_ne!(item.phase, Phase::Killed, "a second kill");
                    item.phase = Phase::Killed;
                }
                Effect::KillCrawl { crawl_id, .. } => {
                    assert!(self.stopped);
                    let item = self.items.iter_mut().find(|i| i.id == crawl_id);
                    let item = item.expect("kill of an unknown crawl");
                    assert_ne!(item.phase, Phase::Killed, "a second kill");
                    item.phase = Phase::Killed;
                }
                Effect::RunFinished { status } => self.finished.push(status),
            }
        }
    }

    /// Writes the changed attempts into the records, as a driver does after a step, and
    /// checks that they then hold every attempt of the run as it is: no change is
    /// missed.
    fn check_records(&mut self) {
        for attempt in self.run.take_changed_job_runs() {
            self.records.insert(attempt.id.clone(), attempt);
        }
        let own = self.run.nodes().iter().filter(|n| !n.copied);
        for attempt in own.flat_map(|n| &n.job_runs) {
            assert_eq!(
                self.records.get(&attempt.id),
                Some(attempt),
                "a change of {} was not reported",
                attempt.id
            );
        }
    }

    /// What `recover` must list: exactly the outstanding starts and kills.
    fn check_recover(&self) {
        let mut expected: Vec<String> = self
            .items
            .iter()
            .filter(|i| i.phase != Phase::Started)
            .map(|i| i.id.clone())
            .collect();
        let mut got: Vec<String> = self
            .run
            .recover()
            .into_iter()
            .filter_map(|e| match e {
                Effect::StartJob(s) => Some(s.job_run_id),
                Effect::KillJob { job_run_id, .. } => Some(job_run_id),
                Effect::StartCrawl { crawl_id, .. } => Some(crawl_id),
                Effect::KillCrawl { crawl_id, .. } => Some(crawl_id),
                _ => None,
            })
            .collect();
        expected.sort();
        got.sort();
        assert_eq!(got, expected);
    }

    fn fate(&self, item: &Item) -> Fate {
        self.fates.attempts[&item.node][item.attempt as usize]
    }

    /// One random step; false when nothing is left.
    pub fn step(&mut self, rng: &mut Rng) -> bool {
        self.check_recover();
        if self.items.is_empty() {
            return false;
        }
        if rng.below(4) == 0 {
            let json = serde_json::to_string(&self.run).unwrap();
            let reloaded: WorkflowRun = serde_json::from_str(&json).unwrap();
            assert_eq!(reloaded, self.run);
            self.run = reloaded;
        }
        self.now += 1_000;
        let now = self.now;
        let i = rng.below(self.items.len());
        let item = self.items[i].clone();
        let fate = self.fate(&item);
        let mut done = true;
        let ended = |outcome| JobEnded {
            outcome,
            error_message: None,
            ended_at: now,
        };
        let res = match (&item.node, item.phase, fate) {
            (NodeRef::Job(_), Phase::NotStarted, Fate::Missing) => {
                self.run.handle_job_missing(now, &item.id, "missing")
            }
            (NodeRef::Job(_), Phase::NotStarted, Fate::Rejected) => {
                self.run.handle_job_rejected(now, &item.id, "concurrency")
            }
            (NodeRef::Job(_), Phase::NotStarted, f) => {
                done = false;
                self.items[i].phase = Phase::Started;
                let facts = JobFacts {
                    max_retries: self.fates.max_retries[&item.node],
                    timeout_minutes: (f == Fate::Timeout).then_some(1),
                };
                self.run.handle_job_started(now, &item.id, facts)
            }
            (NodeRef::Job(_), Phase::Started, Fate::Timeout) => {
                done = false;
                let deadline = self.run.job_run(&item.id).unwrap().deadline.unwrap();
                self.now = self.now.max(deadline);
                self.run.handle_timeout(self.now);
                Ok(())
            }
            (NodeRef::Job(_), Phase::Started, f) => self.run.handle_job_ended(
                now,
                &item.id,
                ended(match f {
                    Fate::Succeeded => JobOutcome::Succeeded,
                    Fate::Stopped => JobOutcome::Stopped,
                    _ => JobOutcome::Failed,
                }),
            ),
            (NodeRef::Job(_), Phase::Killed, f) => {
                // A kill may lose the race against a natural end (late outcome, §4.5).
                let outcome = match (rng.below(4), f) {
                    (0, Fate::Succeeded) => JobOutcome::Succeeded,
                    (0, Fate::Failed) => JobOutcome::Failed,
                    _ => JobOutcome::Stopped,
                };
                self.run.handle_job_ended(now, &item.id, ended(outcome))
            }
            (NodeRef::Crawler(_), Phase::Killed, _) => self.run.handle_crawl_ended(
                now,
                &item.id,
                CrawlEnded {
                    outcome: CrawlOutcome::Cancelled,
                    error_message: None,
                    ended_at: now,
                },
            ),
            (NodeRef::Crawler(_), Phase::NotStarted, Fate::Missing) => {
                self.run.handle_crawler_missing(now, &item.id, "missing")
            }
            (NodeRef::Crawler(_), Phase::NotStarted, _) => {
                done = false;
                self.items[i].phase = Phase::Started;
                self.run.handle_crawl_started(now, &item.id)
            }
            (NodeRef::Crawler(_), _, f) => self.run.handle_crawl_ended(
                now,
                &item.id,
                CrawlEnded {
                    outcome: match f {
                        Fate::Succeeded => CrawlOutcome::Succeeded,
                        Fate::Stopped => CrawlOutcome::Cancelled,
                        _ => CrawlOutcome::Failed,
                    },
                    error_message: None,
                    ended_at: now,
                },
            ),
        };
        res.unwrap_or_else(|e| panic!("driver event refused: {e}"));
        if done {
            self.items.remove(i);
        }
        self.drain();
        true
    }

    /// Requests a stop (§4.5) and executes the kills it produces.
    pub fn stop(&mut self) -> Result<(), StopError> {
        self.now += 1_000;
        self.run.handle_stop(self.now)?;
        self.stopped = true;
        self.drain();
        Ok(())
    }

    /// Drives the run until nothing is in flight.
    pub fn run_to_end(mut self, rng: &mut Rng) -> Self {
        let mut steps = 0;
        while self.step(rng) {
            steps += 1;
            assert!(steps < 10_000, "the run does not terminate");
        }
        self
    }
}

/// Reference model of §4.3/§5.3: the least set of fired triggers closed under "a trigger
/// fires iff its predicate holds on the final outcomes of the nodes started so far".
/// `known` gives the final outcome of nodes that count from the start (copied nodes of a
/// resumed run), `fresh` the outcome of nodes once they are started.
pub fn reference_fixpoint(
    snap: &WorkflowSnapshot,
    mut fired: BTreeSet<String>,
    mut started: BTreeSet<NodeRef>,
    known: &BTreeMap<NodeRef, Final>,
    fresh: &Fates,
) -> (BTreeSet<String>, BTreeSet<NodeRef>) {
    loop {
        let mut changed = false;
        for t in &snap.triggers {
            if t.kind != TriggerKind::Conditional || fired.contains(&t.name) {
                continue;
            }
            let holds = |c: &Condition| {
                let n = c.node();
                let fin = if started.contains(&n) {
                    Some(fresh.final_state(&n))
                } else {
                    known.get(&n).copied()
                };
                match (c, fin) {
                    (Condition::Job { state, .. }, Some(Final::Job(s))) => *state == s,
                    (Condition::Crawler { state, .. }, Some(Final::Crawl(s))) => *state == s,
                    _ => false,
                }
            };
            let ok = match t.logical {
                Logical::And => t.conditions.iter().all(holds),
                Logical::Any => t.conditions.iter().any(holds),
            };
            if ok {
                fired.insert(t.name.clone());
                started.extend(t.actions.iter().map(Action::node));
                changed = true;
            }
        }
        if !changed {
            return (fired, started);
        }
    }
}

/// Nodes reachable from `from` through triggers (condition → actions), computed independently
/// of the engine.
pub fn reachable(snap: &WorkflowSnapshot, from: &NodeRef) -> BTreeSet<NodeRef> {
    let mut out = BTreeSet::new();
    let mut todo = vec![from.clone()];
    while let Some(n) = todo.pop() {
        for t in &snap.triggers {
            if t.conditions.iter().any(|c| c.node() == n) {
                for a in &t.actions {
                    if out.insert(a.node()) {
                        todo.push(a.node());
                    }
                }
            }
        }
    }
    out
}
