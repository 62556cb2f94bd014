//! Scenario tests of driver input: rejected events, crash recovery, job concurrency and
//! missing jobs, crawlers, repeated starts of a node, persistence.

mod common;

use common::*;
use weir_engine::*;

use JobOutcome as O;
use JobRunState as S;

fn two_step() -> WorkflowSnapshot {
    snapshot(vec![
        start_trigger("t_start", vec![job("J1")]),
        when(
            "t_next",
            Logical::And,
            vec![on_job("J1", S::Failed)],
            vec![job("J2")],
        ),
    ])
}

/// Impossible events are error values, and leave the state unchanged.
#[test]
fn impossible_events_are_rejected() {
    let mut run = WorkflowRun::start(two_step(), "wr_x", T0).unwrap();
    let s = start_of(&drain(&mut run), "J1");
    let before = run.clone();
    assert_eq!(
        run.handle_job_started(T0, "jr_nope", facts(0)),
        Err(EventError::UnknownJobRun("jr_nope".into()))
    );
    assert!(matches!(
        run.handle_crawl_ended(
            T0,
            "nope",
            CrawlEnded {
                outcome: CrawlOutcome::Succeeded,
                error_message: None,
                ended_at: T0
            }
        ),
        Err(EventError::UnknownCrawl(_))
    ));
    assert_eq!(run, before);
    run.handle_job_started(T0, &s.job_run_id, facts(0)).unwrap();
    let before = run.clone();
    assert!(matches!(
        run.handle_job_started(T0, &s.job_run_id, facts(0)),
        Err(EventError::UnexpectedEvent { .. })
    ));
    assert!(matches!(
        run.handle_job_missing(T0, &s.job_run_id, "gone"),
        Err(EventError::UnexpectedEvent { .. })
    ));
    assert_eq!(run, before);
    run.handle_job_ended(T0, &s.job_run_id, ended(O::Succeeded, T0))
        .unwrap();
    let _ = drain(&mut run);
    let before = run.clone();
    assert!(matches!(
        run.handle_job_ended(T0, &s.job_run_id, ended(O::Failed, T0)),
        Err(EventError::AlreadyTerminal { .. })
    ));
    assert_eq!(run, before);
}

/// Durable before acknowledged: what `recover` lists after a reload is exactly what is still
/// outstanding, with the same deterministic ids (§6.3).
#[test]
fn recovery_lists_outstanding_effects() {
    let mut run = WorkflowRun::start(two_step(), "wr_rec", T0).unwrap();
    let e = drain(&mut run);
    // Crash after commit, before executing: reload and recover.
    let reloaded: WorkflowRun =
        serde_json::from_str(&serde_json::to_string(&run).unwrap()).unwrap();
    assert_eq!(reloaded, run);
    assert_eq!(reloaded.recover(), e);
    assert_eq!(reloaded.pending_starts(), starts(&e));
    // Re-starting the same workflow run id derives the same job run ids.
    let mut again = WorkflowRun::start(two_step(), "wr_rec", T0).unwrap();
    assert_eq!(drain(&mut again), e);

    let s = start_of(&e, "J1");
    run.handle_job_started(T0 + 1, &s.job_run_id, facts(0))
        .unwrap();
    assert!(
        run.recover().is_empty(),
        "a confirmed start is not re-issued"
    );
    run.handle_stop(T0 + 2).unwrap();
    let kills = drain(&mut run);
    assert_eq!(run.recover(), kills);
    run.handle_job_ended(T0 + 3, &s.job_run_id, ended(O::Stopped, T0 + 3))
        .unwrap();
    let fin = drain(&mut run);
    assert_eq!(run.recover(), fin);
    assert_eq!(finished(&fin), Some(RunStatus::Stopped));
}

/// §4.7 last bullet: a start refused for job concurrency is a FAILED attempt (not retried).
#[test]
fn concurrency_rejection_fails_attempt() {
    let mut run = WorkflowRun::start(two_step(), "wr_c", T0).unwrap();
    let s = start_of(&drain(&mut run), "J1");
    run.handle_job_rejected(T0 + 5, &s.job_run_id, "Concurrent runs exceeded for J1")
        .unwrap();
    let a = run.job_run(&s.job_run_id).unwrap();
    assert_eq!(a.state, S::Failed);
    assert_eq!(
        a.error_message.as_deref(),
        Some("Concurrent runs exceeded for J1")
    );
    assert_eq!(a.completed_on, Some(T0 + 5));
    assert_eq!(started_names(&drain(&mut run)), ["J2"]);
}

/// §6.3 ERROR: the job no longer exists; ERROR satisfies no supported condition.
#[test]
fn missing_job_is_error() {
    let mut run = WorkflowRun::start(two_step(), "wr_m", T0).unwrap();
    let s = start_of(&drain(&mut run), "J1");
    run.handle_job_missing(
        T0 + 1,
        &s.job_run_id,
        "Failed to start job run due to missing metadata.",
    )
    .unwrap();
    assert_eq!(finished(&drain(&mut run)), Some(RunStatus::Completed));
    let st = run.statistics();
    assert_eq!((st.total, st.errored, st.attempted()), (2, 1, 1));
}

/// §5.3 crawler conditions (CrawlState) and crawler actions; §4.4 crawl buckets.
#[test]
fn crawler_nodes() {
    let snap = snapshot(vec![
        start_trigger("t_start", vec![crawler("C1")]),
        when(
            "t_after",
            Logical::And,
            vec![on_crawl("C1", CrawlState::Succeeded)],
            vec![job("J1"), crawler("C2")],
        ),
    ]);
    let mut run = WorkflowRun::start(snap, "wr_cr", T0).unwrap();
    let e = drain(&mut run);
    let Some(Effect::StartCrawl {
        crawler_name,
        crawl_id,
    }) = e.first().cloned()
    else {
        panic!("{e:?}")
    };
    assert_eq!(crawler_name, "C1");
    assert_eq!(run.recover(), e);
    run.handle_crawl_started(T0 + 1, &crawl_id).unwrap();
    assert!(run.recover().is_empty());
    let c = CrawlEnded {
        outcome: CrawlOutcome::Succeeded,
        error_message: None,
        ended_at: T0 + 2,
    };
    run.handle_crawl_ended(T0 + 2, &crawl_id, c).unwrap();
    let e = drain(&mut run);
    assert_eq!(e.len(), 2);
    let j1 = start_of(&e, "J1");
    assert!(
        j1.predecessor_runs.is_empty(),
        "crawls are not job predecessors"
    );
    let c2 = e
        .iter()
        .find_map(|e| match e {
            Effect::StartCrawl { crawl_id, .. } => Some(crawl_id.clone()),
            _ => None,
        })
        .unwrap();
    run.handle_crawler_missing(T0 + 3, &c2, "Crawler with name C2 does not exist")
        .unwrap();
    let e = run_job(&mut run, &j1, O::Succeeded, T0 + 4);
    assert_eq!(finished(&e), Some(RunStatus::Completed));
    let s = run.statistics();
    assert_eq!((s.total, s.succeeded, s.errored), (3, 2, 1));
}

/// A node started by two triggers in one run gets a second job run (next sequence); the
/// latest one drives predicates.
#[test]
fn node_started_twice_gets_two_job_runs() {
    let snap = snapshot(vec![
        start_trigger("t_start", vec![job("A"), job("B")]),
        when(
            "t_a",
            Logical::And,
            vec![on_job("A", S::Succeeded)],
            vec![job("X")],
        ),
        when(
            "t_b",
            Logical::And,
            vec![on_job("B", S::Succeeded)],
            vec![job("X")],
        ),
        when(
            "t_x",
            Logical::And,
            vec![on_job("X", S::Succeeded)],
            vec![job("Y")],
        ),
    ]);
    let mut run = WorkflowRun::start(snap, "wr_2", T0).unwrap();
    let e = drain(&mut run);
    let (a, b) = (start_of(&e, "A"), start_of(&e, "B"));
    let x1 = start_of(&run_job(&mut run, &a, O::Succeeded, T0 + 1), "X");
    let x2 = start_of(&run_job(&mut run, &b, O::Succeeded, T0 + 2), "X");
    assert_ne!(x1.job_run_id, x2.job_run_id);
    let runs = &run.node(&jobref("X")).unwrap().job_runs;
    assert_eq!(runs.iter().map(|r| r.sequence).collect::<Vec<_>>(), [0, 1]);
    assert_eq!(runs[1].trigger_name.as_deref(), Some("t_b"));
    // The older run ends first: the node's latest run (x2) is still running.
    assert!(run_job(&mut run, &x1, O::Succeeded, T0 + 3).is_empty());
    let y = start_of(&run_job(&mut run, &x2, O::Succeeded, T0 + 4), "Y");
    assert_eq!(y.predecessor_runs[0].run_id, x2.job_run_id);
    let e = run_job(&mut run, &y, O::Succeeded, T0 + 5);
    assert_eq!(finished(&e), Some(RunStatus::Completed));
    assert_eq!(run.statistics().succeeded, 4);
}

/// §4.1 snapshot invariants; §4.7 a run that could not start is recorded as ERROR.
#[test]
fn snapshot_validation_and_rejected_runs() {
    let two_starts = snapshot(vec![
        start_trigger("a", vec![job("J")]),
        start_trigger("b", vec![job("J")]),
    ]);
    assert_eq!(
        WorkflowRun::start(two_starts, "wr", T0).unwrap_err(),
        SnapshotError::SeveralStartTriggers
    );
    let dup = snapshot(vec![
        start_trigger("a", vec![job("J")]),
        when("a", Logical::And, vec![on_job("J", S::Failed)], vec![]),
    ]);
    assert!(matches!(
        WorkflowRun::start(dup, "wr", T0),
        Err(SnapshotError::DuplicateTrigger(_))
    ));
    let empty = snapshot(vec![when("c", Logical::Any, vec![], vec![job("J")])]);
    assert!(matches!(
        WorkflowRun::start(empty, "wr", T0),
        Err(SnapshotError::NoConditions(_))
    ));

    let mut run = WorkflowRun::rejected(
        two_step(),
        "wr_err",
        T0,
        "Concurrent runs exceeded for workflow: wf.",
    );
    assert!(drain(&mut run).is_empty());
    assert_eq!(run.status(), RunStatus::Error);
    assert_eq!(run.completed_on(), Some(T0));
    assert!(run.error_message().unwrap().contains("Concurrent"));
    assert_eq!(run.statistics().attempted(), 0);
    assert!(run.recover().is_empty());
}

/// §4.2: graph ids are `wnode_` + 64 hex and edges follow conditions and actions.
#[test]
fn graph_ids_and_edges() {
    let snap = two_step();
    let j1 = jobref("J1").unique_id("wf");
    let t = node_unique_id("wf", NodeKind::Trigger, "t_next");
    assert!(j1.starts_with("wnode_") && j1.len() == 70);
    assert!(snap.edges().contains(&(j1.clone(), t.clone())));
    assert!(snap.edges().contains(&(t, jobref("J2").unique_id("wf"))));
    let run = WorkflowRun::start(snap, "wr", T0).unwrap();
    assert_eq!(run.nodes()[0].unique_id, j1);
}
