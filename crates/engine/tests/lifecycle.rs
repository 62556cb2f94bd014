//! Scenario tests of the run lifecycle, predicates, retries, timeouts and stop.
//! Each test cites the glue-api.md section whose rule it checks.

mod common;

use common::*;
use weir_engine::*;

use JobOutcome as O;
use JobRunState as S;

fn diamond(join: Logical) -> WorkflowSnapshot {
    snapshot(vec![
        start_trigger("t_start", vec![job("J1")]),
        when(
            "t_fan",
            Logical::And,
            vec![on_job("J1", S::Succeeded)],
            vec![job("J2"), job("J3")],
        ),
        when(
            "t_join",
            join,
            vec![on_job("J2", S::Succeeded), on_job("J3", S::Succeeded)],
            vec![job("J4")],
        ),
    ])
}

/// §4.3 start + progress, §5.3 AND, §4.4 statistics: J1 → (J2, J3) → J4.
#[test]
fn diamond_with_and_join_completes_with_statistics() {
    let mut run = WorkflowRun::start(diamond(Logical::And), "wr_d", T0).unwrap();
    assert_eq!(run.status(), RunStatus::Running);
    let e = drain(&mut run);
    assert_eq!(started_names(&e), ["J1"]);
    let j1 = start_of(&e, "J1");
    assert_eq!(j1.trigger_name.as_deref(), Some("t_start"));
    assert_eq!(j1.attempt, 0);
    assert!(j1.job_run_id.starts_with("jr_") && j1.job_run_id.len() == 67);
    assert_eq!(run.statistics().total, 4);
    assert_eq!(run.statistics().running, 1);

    let e = run_job(&mut run, &j1, O::Succeeded, T0 + MIN);
    assert_eq!(started_names(&e), ["J2", "J3"]);
    let (j2, j3) = (start_of(&e, "J2"), start_of(&e, "J3"));
    assert_eq!(j2.predecessor_runs[0].run_id, j1.job_run_id);

    let e = run_job(&mut run, &j2, O::Succeeded, T0 + 2 * MIN);
    assert!(e.is_empty(), "AND join waits for J3: {e:?}");
    assert!(!run.has_fired("t_join"));
    let e = run_job(&mut run, &j3, O::Succeeded, T0 + 3 * MIN);
    let j4 = start_of(&e, "J4");
    let preds: Vec<_> = j4.predecessor_runs.iter().map(|p| &p.job_name).collect();
    assert_eq!(preds, ["J2", "J3"]);

    let e = run_job(&mut run, &j4, O::Succeeded, T0 + 4 * MIN);
    assert_eq!(finished(&e), Some(RunStatus::Completed));
    assert_eq!(run.status(), RunStatus::Completed);
    assert_eq!(run.completed_on(), Some(T0 + 4 * MIN));
    let s = run.statistics();
    assert_eq!((s.total, s.succeeded, s.attempted()), (4, 4, 4));
    assert_eq!(run.fired_triggers().len(), 3);
}

/// §5.3 ANY: the join fires on the first finisher only, and at most once per run (§4.3).
#[test]
fn any_join_fires_once_on_first_finisher() {
    let mut run = WorkflowRun::start(diamond(Logical::Any), "wr_any", T0).unwrap();
    let j1 = start_of(&drain(&mut run), "J1");
    let e = run_job(&mut run, &j1, O::Succeeded, T0 + 1);
    let (j2, j3) = (start_of(&e, "J2"), start_of(&e, "J3"));
    let e = run_job(&mut run, &j3, O::Succeeded, T0 + 2);
    let j4 = start_of(&e, "J4");
    assert_eq!(j4.predecessor_runs.len(), 1);
    assert_eq!(j4.predecessor_runs[0].run_id, j3.job_run_id);
    let e = run_job(&mut run, &j2, O::Succeeded, T0 + 3);
    assert!(e.is_empty(), "ANY join must not fire twice: {e:?}");
    let e = run_job(&mut run, &j4, O::Succeeded, T0 + 4);
    assert_eq!(finished(&e), Some(RunStatus::Completed));
    assert_eq!(run.node(&jobref("J4")).unwrap().job_runs.len(), 1);
}

fn branches() -> WorkflowSnapshot {
    snapshot(vec![
        start_trigger("t_start", vec![job("J1")]),
        when(
            "t_ok",
            Logical::And,
            vec![on_job("J1", S::Succeeded)],
            vec![job("OK")],
        ),
        when(
            "t_fail",
            Logical::And,
            vec![on_job("J1", S::Failed)],
            vec![job("ON_FAIL")],
        ),
    ])
}

/// §5.3: a condition watching FAILED is satisfied only when the job failed; §4.3 the run still
/// completes (COMPLETED even when nodes failed).
#[test]
fn failure_branch_runs_only_when_job_fails() {
    for (outcome, expect) in [(O::Succeeded, "OK"), (O::Failed, "ON_FAIL")] {
        let mut run = WorkflowRun::start(branches(), "wr_b", T0).unwrap();
        let j1 = start_of(&drain(&mut run), "J1");
        let e = run_job(&mut run, &j1, outcome, T0 + 1);
        assert_eq!(started_names(&e), [expect]);
        let next = start_of(&e, expect);
        let e = run_job(&mut run, &next, O::Succeeded, T0 + 2);
        assert_eq!(finished(&e), Some(RunStatus::Completed));
        let s = run.statistics();
        assert_eq!(s.total, 3);
        assert_eq!(s.attempted(), 2);
        assert_eq!(s.failed, u32::from(outcome == O::Failed));
    }
}

/// §4.3 completion with failed nodes and no follow-up: COMPLETED, not ERROR.
#[test]
fn failed_node_without_handler_completes() {
    let snap = snapshot(vec![
        start_trigger("t_start", vec![job("J1")]),
        when(
            "t_ok",
            Logical::And,
            vec![on_job("J1", S::Succeeded)],
            vec![job("J2")],
        ),
    ]);
    let mut run = WorkflowRun::start(snap, "wr_f", T0).unwrap();
    let j1 = start_of(&drain(&mut run), "J1");
    let e = run_job(&mut run, &j1, O::Failed, T0 + 1);
    assert_eq!(finished(&e), Some(RunStatus::Completed));
    let s = run.statistics();
    assert_eq!((s.total, s.failed, s.succeeded), (2, 1, 0));
}

/// §6.3 retries: Attempt 0..N with the PreviousRunId chain; §4.3 a node being retried is not
/// final, so downstream waits for the last attempt.
#[test]
fn retries_chain_previous_run_ids() {
    let mut run = WorkflowRun::start(branches(), "wr_r", T0).unwrap();
    let mut s = start_of(&drain(&mut run), "J1");
    let mut ids = vec![s.job_run_id.clone()];
    for attempt in 0..3u32 {
        assert_eq!(s.attempt, attempt);
        run.handle_job_started(T0, &s.job_run_id, facts(2)).unwrap();
        run.handle_job_ended(T0, &s.job_run_id, ended(O::Failed, T0))
            .unwrap();
        let e = drain(&mut run);
        if attempt < 2 {
            assert_eq!(started_names(&e), ["J1"], "retry expected");
            let next = start_of(&e, "J1");
            assert_eq!(next.previous_run_id.as_deref(), Some(s.job_run_id.as_str()));
            assert_eq!(next.trigger_name.as_deref(), Some("t_start"));
            assert!(!run.has_fired("t_fail"), "not final while retrying");
            ids.push(next.job_run_id.clone());
            s = next;
        } else {
            assert_eq!(started_names(&e), ["ON_FAIL"]);
        }
    }
    let runs = &run.node(&jobref("J1")).unwrap().job_runs;
    let attempts: Vec<_> = runs.iter().map(|a| a.attempt).collect();
    assert_eq!(attempts, [0, 1, 2]);
    let got: Vec<_> = runs.iter().map(|a| a.id.clone()).collect();
    assert_eq!(got, ids);
    assert_eq!(runs[0].previous_run_id, None);
    assert_eq!(runs[2].previous_run_id.as_deref(), Some(ids[1].as_str()));
    assert_eq!(run.statistics().failed, 1, "a node counts once");
}

/// §6.3: a retry that succeeds satisfies SUCCEEDED; STOPPED is never retried.
#[test]
fn retry_success_and_no_retry_on_stopped() {
    let mut run = WorkflowRun::start(branches(), "wr_r2", T0).unwrap();
    let s = start_of(&drain(&mut run), "J1");
    run.handle_job_started(T0, &s.job_run_id, facts(1)).unwrap();
    run.handle_job_ended(T0, &s.job_run_id, ended(O::Failed, T0))
        .unwrap();
    let retry = start_of(&drain(&mut run), "J1");
    let e = run_job(&mut run, &retry, O::Succeeded, T0 + 1);
    assert_eq!(started_names(&e), ["OK"]);

    let mut run = WorkflowRun::start(branches(), "wr_r3", T0).unwrap();
    let s = start_of(&drain(&mut run), "J1");
    run.handle_job_started(T0, &s.job_run_id, facts(3)).unwrap();
    run.handle_job_ended(T0, &s.job_run_id, ended(O::Stopped, T0))
        .unwrap();
    let e = drain(&mut run);
    assert_eq!(finished(&e), Some(RunStatus::Completed), "{e:?}");
    assert_eq!(run.statistics().stopped, 1);
}

/// §6.3 TIMEOUT with timers as data: poll_timeout → handle_timeout → KillJob; the outcome is
/// TIMEOUT once the kill is confirmed, never retried, and fires TIMEOUT conditions.
#[test]
fn timeout_kills_and_records_timeout() {
    let snap = snapshot(vec![
        start_trigger("t_start", vec![job_with_timeout("J1", 2)]),
        when(
            "t_to",
            Logical::And,
            vec![on_job("J1", S::Timeout)],
            vec![job("AFTER")],
        ),
    ]);
    let mut run = WorkflowRun::start(snap, "wr_t", T0).unwrap();
    let s = start_of(&drain(&mut run), "J1");
    assert_eq!(s.timeout_minutes, Some(2));
    assert_eq!(
        run.poll_timeout(),
        None,
        "no deadline before the start is confirmed"
    );
    let t1 = T0 + 1_000;
    let f = JobFacts {
        max_retries: 5,
        timeout_minutes: s.timeout_minutes,
    };
    run.handle_job_started(t1, &s.job_run_id, f).unwrap();
    assert_eq!(run.poll_timeout(), Some(t1 + 2 * MIN));

    run.handle_timeout(t1 + MIN); // early call: harmless
    assert!(drain(&mut run).is_empty());
    run.handle_timeout(t1 + 2 * MIN);
    let e = drain(&mut run);
    assert_eq!(
        e,
        [Effect::KillJob {
            job_run_id: s.job_run_id.clone(),
            job_name: "J1".into()
        }]
    );
    assert_eq!(run.poll_timeout(), None);
    run.handle_timeout(t1 + 3 * MIN); // repeated call: no second kill
    assert!(drain(&mut run).is_empty());
    assert_eq!(run.job_run(&s.job_run_id).unwrap().state, S::Running);
    assert!(matches!(&run.recover()[..], [Effect::KillJob { .. }]));

    let t2 = t1 + 2 * MIN + 500;
    run.handle_job_ended(t2, &s.job_run_id, ended(O::Stopped, t2))
        .unwrap();
    let a = run.job_run(&s.job_run_id).unwrap();
    assert_eq!(a.state, S::Timeout);
    assert_eq!(a.completed_on, Some(t2));
    assert!(a.error_message.is_some());
    let e = drain(&mut run);
    assert_eq!(
        started_names(&e),
        ["AFTER"],
        "no retry on TIMEOUT; branch fires"
    );
    assert_eq!(run.statistics().timeout, 1);
}

/// §4.5: stop mid-run kills what runs, starts nothing new, records late outcomes without
/// firing, then STOPPED with CompletedOn; stopping a non-running run is an error.
#[test]
fn stop_mid_run() {
    let snap = snapshot(vec![
        start_trigger("t_start", vec![job("J1"), job("J2"), crawler("C1")]),
        when(
            "t_next",
            Logical::Any,
            vec![
                on_job("J1", S::Succeeded),
                on_crawl("C1", CrawlState::Succeeded),
            ],
            vec![job("J3")],
        ),
    ]);
    let mut run = WorkflowRun::start(snap, "wr_s", T0).unwrap();
    let e = drain(&mut run);
    let (j1, j2) = (start_of(&e, "J1"), start_of(&e, "J2"));
    let crawl = e
        .iter()
        .find_map(|e| match e {
            Effect::StartCrawl { crawl_id, .. } => Some(crawl_id.clone()),
            _ => None,
        })
        .unwrap();
    run.handle_job_started(T0 + 1, &j1.job_run_id, facts(3))
        .unwrap();
    run.handle_crawl_started(T0 + 1, &crawl).unwrap();
    // J2 is still STARTING when the stop arrives.
    run.handle_stop(T0 + 10).unwrap();
    assert_eq!(run.status(), RunStatus::Stopping);
    let e = drain(&mut run);
    assert_eq!(e.len(), 3, "{e:?}");
    assert!(
        e.iter()
            .all(|e| matches!(e, Effect::KillJob { .. } | Effect::KillCrawl { .. }))
    );
    assert_eq!(run.job_run(&j2.job_run_id).unwrap().state, S::Stopping);
    assert_eq!(run.crawl(&crawl).unwrap().state, CrawlState::Cancelling);
    assert_eq!(
        run.handle_stop(T0 + 11),
        Err(StopError {
            status: RunStatus::Stopping
        })
    );

    // A late success is recorded but fires nothing.
    run.handle_job_ended(T0 + 12, &j1.job_run_id, ended(O::Succeeded, T0 + 12))
        .unwrap();
    run.handle_job_ended(T0 + 13, &j2.job_run_id, ended(O::Stopped, T0 + 13))
        .unwrap();
    assert!(drain(&mut run).is_empty());
    assert!(!run.has_fired("t_next"));
    let c = CrawlEnded {
        outcome: CrawlOutcome::Cancelled,
        error_message: None,
        ended_at: T0 + 14,
    };
    run.handle_crawl_ended(T0 + 14, &crawl, c).unwrap();
    assert_eq!(finished(&drain(&mut run)), Some(RunStatus::Stopped));
    assert_eq!(run.status(), RunStatus::Stopped);
    assert_eq!(run.completed_on(), Some(T0 + 14));
    let s = run.statistics();
    assert_eq!(
        (s.total, s.succeeded, s.stopped, s.attempted()),
        (4, 1, 2, 3)
    );
    assert!(run.handle_stop(T0 + 15).is_err());
}

/// §4.3: a workflow without a start trigger completes at once; §4.5 stopping it afterwards is
/// `IllegalWorkflowStateException`.
#[test]
fn stop_of_completed_run_is_illegal() {
    let mut run = WorkflowRun::start(snapshot(vec![]), "wr_e", T0).unwrap();
    assert_eq!(finished(&drain(&mut run)), Some(RunStatus::Completed));
    assert_eq!(run.statistics().total, 0);
    assert_eq!(
        run.handle_stop(T0).unwrap_err(),
        StopError {
            status: RunStatus::Completed
        }
    );
}
