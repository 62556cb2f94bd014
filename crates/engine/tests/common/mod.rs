//! Builders and a tiny fake driver shared by the integration tests.
#![allow(dead_code)]

pub mod sim;

use weir_engine::*;

pub const T0: Millis = 1_700_000_000_000;
pub const MIN: Millis = 60_000;

pub fn job(name: &str) -> Action {
    Action::Job {
        job_name: name.into(),
        arguments: [("--k".to_string(), name.to_string())].into(),
        timeout_minutes: None,
    }
}

pub fn job_with_timeout(name: &str, minutes: u32) -> Action {
    Action::Job {
        job_name: name.into(),
        arguments: Default::default(),
        timeout_minutes: Some(minutes),
    }
}

pub fn crawler(name: &str) -> Action {
    Action::Crawler {
        crawler_name: name.into(),
    }
}

pub fn on_job(name: &str, state: JobRunState) -> Condition {
    Condition::Job {
        job_name: name.into(),
        state,
    }
}

pub fn on_crawl(name: &str, state: CrawlState) -> Condition {
    Condition::Crawler {
        crawler_name: name.into(),
        state,
    }
}

pub fn start_trigger(name: &str, actions: Vec<Action>) -> TriggerSnapshot {
    TriggerSnapshot {
        name: name.into(),
        kind: TriggerKind::Start,
        logical: Logical::And,
        conditions: vec![],
        actions,
    }
}

pub fn when(
    name: &str,
    logical: Logical,
    conditions: Vec<Condition>,
    actions: Vec<Action>,
) -> TriggerSnapshot {
    TriggerSnapshot {
        name: name.into(),
        kind: TriggerKind::Conditional,
        logical,
        conditions,
        actions,
    }
}

pub fn snapshot(triggers: Vec<TriggerSnapshot>) -> WorkflowSnapshot {
    WorkflowSnapshot {
        workflow_name: "wf".into(),
        triggers,
    }
}

/// Drains every queued effect (step 2 of the driver loop).
pub fn drain(run: &mut WorkflowRun) -> Vec<Effect> {
    std::iter::from_fn(|| run.poll_effect()).collect()
}

pub fn starts(effects: &[Effect]) -> Vec<StartJob> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::StartJob(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

pub fn started_names(effects: &[Effect]) -> Vec<String> {
    starts(effects).into_iter().map(|s| s.job_name).collect()
}

pub fn facts(max_retries: u32) -> JobFacts {
    JobFacts {
        max_retries,
        timeout_minutes: None,
    }
}

pub fn ended(outcome: JobOutcome, at: Millis) -> JobEnded {
    JobEnded {
        outcome,
        error_message: None,
        ended_at: at,
    }
}

/// Confirms the start of `s` and ends it with `outcome` at `now`; returns the new effects.
pub fn run_job(
    run: &mut WorkflowRun,
    s: &StartJob,
    outcome: JobOutcome,
    now: Millis,
) -> Vec<Effect> {
    run.handle_job_started(now, &s.job_run_id, facts(0))
        .unwrap();
    assert!(drain(run).is_empty());
    run.handle_job_ended(now, &s.job_run_id, ended(outcome, now))
        .unwrap();
    drain(run)
}

/// The one start effect for `job` among `effects`.
pub fn start_of(effects: &[Effect], job: &str) -> StartJob {
    let mut found = starts(effects).into_iter().filter(|s| s.job_name == job);
    let s = found
        .next()
        .unwrap_or_else(|| panic!("no StartJob for {job}"));
    assert!(found.next().is_none(), "several StartJob for {job}");
    s
}

pub fn finished(effects: &[Effect]) -> Option<RunStatus> {
    effects.iter().find_map(|e| match e {
        Effect::RunFinished { status } => Some(*status),
        _ => None,
    })
}

pub fn uid(node: &NodeRef) -> String {
    node.unique_id("wf")
}

pub fn jobref(name: &str) -> NodeRef {
    NodeRef::Job(name.into())
}
