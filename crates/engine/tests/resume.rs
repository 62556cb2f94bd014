//! Scenario tests of ResumeWorkflowRun (glue-api.md §4.6).

mod common;

use common::*;
use weir_engine::*;

use JobOutcome as O;
use JobRunState as S;

/// J1 → (J2, J4); J2 → J3 (on SUCCEEDED).
fn chain() -> WorkflowSnapshot {
    snapshot(vec![
        start_trigger("t_start", vec![job("J1")]),
        when(
            "t_fan",
            Logical::And,
            vec![on_job("J1", S::Succeeded)],
            vec![job("J2"), job("J4")],
        ),
        when(
            "t_mid",
            Logical::And,
            vec![on_job("J2", S::Succeeded)],
            vec![job("J3")],
        ),
    ])
}

/// The original run: J1 ok, J2 FAILED, J4 ok, J3 never runs; COMPLETED.
fn failed_middle() -> WorkflowRun {
    let mut run = WorkflowRun::start(chain(), "wr_orig", T0).unwrap();
    let j1 = start_of(&drain(&mut run), "J1");
    let e = run_job(&mut run, &j1, O::Succeeded, T0 + 1);
    let (j2, j4) = (start_of(&e, "J2"), start_of(&e, "J4"));
    assert!(run_job(&mut run, &j2, O::Failed, T0 + 2).is_empty());
    let e = run_job(&mut run, &j4, O::Succeeded, T0 + 3);
    assert_eq!(finished(&e), Some(RunStatus::Completed));
    run
}

/// §4.6: upstream not re-run, selected + downstream re-run, the rest copied, redundant
/// downstream selections dropped, PreviousRunId set, and a resumed run can be resumed again.
#[test]
fn resume_failed_middle_job() {
    let orig = failed_middle();
    let ids = vec![uid(&jobref("J3")), uid(&jobref("J2"))];
    // J3 was never attempted in the original run: validation refuses it even next to J2.
    assert_eq!(
        WorkflowRun::resume(&orig, "wr_r1", &ids, T0 + 10).unwrap_err(),
        ResumeError::NotAttempted(uid(&jobref("J3")))
    );
    let resumed = WorkflowRun::resume(&orig, "wr_r1", &[uid(&jobref("J2"))], T0 + 10).unwrap();
    assert_eq!(resumed.node_ids, [uid(&jobref("J2"))]);
    let mut run = resumed.run;
    assert_eq!(run.previous_run_id(), Some("wr_orig"));
    assert_eq!(run.run_id(), "wr_r1");
    assert_eq!(run.status(), RunStatus::Running);
    assert_eq!(run.started_on(), T0 + 10);

    // Upstream J1 and unrelated J4 are copied with their run details.
    for name in ["J1", "J4"] {
        let n = run.node(&jobref(name)).unwrap();
        assert!(n.copied);
        assert_eq!(n.job_runs, orig.node(&jobref(name)).unwrap().job_runs);
    }
    assert!(run.has_fired("t_start") && run.has_fired("t_fan"));
    assert!(!run.has_fired("t_mid"));

    let e = drain(&mut run);
    assert_eq!(started_names(&e), ["J2"]);
    let j2 = start_of(&e, "J2");
    let old_j2 = &orig.node(&jobref("J2")).unwrap().job_runs[0];
    assert_ne!(j2.job_run_id, old_j2.id);
    assert_eq!(j2.attempt, 0);
    assert_eq!(j2.trigger_name.as_deref(), Some("t_fan"));
    assert_eq!(j2.arguments, old_j2.arguments);
    assert_eq!(j2.predecessor_runs, old_j2.predecessor_runs);
    let n2 = run.node(&jobref("J2")).unwrap();
    assert!(
        !n2.copied && n2.job_runs.len() == 1,
        "old J2 details replaced"
    );

    let j3 = start_of(&run_job(&mut run, &j2, O::Succeeded, T0 + 11), "J3");
    let e = run_job(&mut run, &j3, O::Succeeded, T0 + 12);
    assert_eq!(finished(&e), Some(RunStatus::Completed));
    let s = run.statistics();
    assert_eq!((s.total, s.succeeded, s.failed), (4, 4, 0));

    // Resume the resumed run: select J1 (upstream of everything) and J3 (redundant).
    let again = WorkflowRun::resume(
        &run,
        "wr_r2",
        &[uid(&jobref("J3")), uid(&jobref("J1"))],
        T0 + 20,
    )
    .unwrap();
    assert_eq!(
        again.node_ids,
        [uid(&jobref("J1"))],
        "J3 is downstream of J1"
    );
    let mut run2 = again.run;
    assert_eq!(run2.previous_run_id(), Some("wr_r1"));
    assert!(
        run2.nodes()
            .iter()
            .all(|n| !n.copied && !n.attempted() || n.node == jobref("J1"))
    );
    assert_eq!(
        run2.fired_triggers().len(),
        1,
        "only the start trigger keeps its status"
    );
    assert_eq!(started_names(&drain(&mut run2)), ["J1"]);

    // Resume the resumed run from J3 only: J1, J2, J4 copied (J2 from wr_r1).
    let r3 = WorkflowRun::resume(&run, "wr_r3", &[uid(&jobref("J3"))], T0 + 30).unwrap();
    assert_eq!(
        r3.run.node(&jobref("J2")).unwrap().job_runs,
        run.node(&jobref("J2")).unwrap().job_runs
    );
    assert!(
        r3.run.has_fired("t_mid"),
        "J3's own trigger is upstream of it"
    );
}

/// §4.6 errors: not COMPLETED, unknown id, trigger node, never attempted, empty selection.
#[test]
fn resume_errors() {
    let orig = failed_middle();
    let mut running = WorkflowRun::start(chain(), "wr_run", T0).unwrap();
    let _ = drain(&mut running);
    let j1 = vec![uid(&jobref("J1"))];
    assert_eq!(
        WorkflowRun::resume(&running, "x", &j1, T0).unwrap_err(),
        ResumeError::IllegalState(RunStatus::Running)
    );
    running.handle_stop(T0).unwrap();
    assert!(matches!(
        WorkflowRun::resume(&running, "x", &j1, T0),
        Err(ResumeError::IllegalState(RunStatus::Stopping))
    ));
    let unknown = "wnode_0000".to_string();
    assert_eq!(
        WorkflowRun::resume(&orig, "x", std::slice::from_ref(&unknown), T0).unwrap_err(),
        ResumeError::UnknownNode(unknown)
    );
    let trig = node_unique_id("wf", NodeKind::Trigger, "t_mid");
    assert_eq!(
        WorkflowRun::resume(&orig, "x", std::slice::from_ref(&trig), T0).unwrap_err(),
        ResumeError::NotAJobOrCrawlerNode(trig)
    );
    let j3 = uid(&jobref("J3"));
    assert_eq!(
        WorkflowRun::resume(&orig, "x", std::slice::from_ref(&j3), T0).unwrap_err(),
        ResumeError::NotAttempted(j3)
    );
    assert_eq!(
        WorkflowRun::resume(&orig, "x", &[], T0).unwrap_err(),
        ResumeError::NoNodes
    );
    // Duplicated ids are restarted once.
    let r = WorkflowRun::resume(&orig, "x", &[j1[0].clone(), j1[0].clone()], T0).unwrap();
    assert_eq!(r.node_ids, j1);
}

/// §4.6: a downstream node whose trigger does not fire again in the resumed run shows no run
/// details (its old details described a run caused by replaced upstream results).
#[test]
fn resume_clears_downstream_that_does_not_refire() {
    let snap = snapshot(vec![
        start_trigger("t_start", vec![job("J1")]),
        when(
            "t_f",
            Logical::And,
            vec![on_job("J1", S::Failed)],
            vec![job("ALERT")],
        ),
        when(
            "t_ok",
            Logical::And,
            vec![on_job("J1", S::Succeeded)],
            vec![job("NEXT")],
        ),
    ]);
    let mut orig = WorkflowRun::start(snap, "wr_o", T0).unwrap();
    let j1 = start_of(&drain(&mut orig), "J1");
    let alert = start_of(&run_job(&mut orig, &j1, O::Failed, T0 + 1), "ALERT");
    let _ = run_job(&mut orig, &alert, O::Succeeded, T0 + 2);
    assert_eq!(orig.status(), RunStatus::Completed);

    let mut run = WorkflowRun::resume(&orig, "wr_n", &[uid(&jobref("J1"))], T0 + 5)
        .unwrap()
        .run;
    let j1 = start_of(&drain(&mut run), "J1");
    let next = start_of(&run_job(&mut run, &j1, O::Succeeded, T0 + 6), "NEXT");
    let _ = run_job(&mut run, &next, O::Succeeded, T0 + 7);
    assert_eq!(run.status(), RunStatus::Completed);
    assert!(!run.node(&jobref("ALERT")).unwrap().attempted());
    let s = run.statistics();
    assert_eq!((s.total, s.succeeded, s.attempted()), (3, 2, 2));
}

/// §4.6 "triggers downstream of restarted nodes are re-evaluated": a reset `ANY` trigger that an
/// unchanged (copied) upstream node already satisfies fires as soon as the resumed run starts,
/// even if its other, re-run branch never reaches it.
#[test]
fn resume_fires_reset_trigger_satisfied_by_copied_nodes() {
    let snap = snapshot(vec![
        start_trigger("t_start", vec![job("A"), job("B")]),
        when(
            "t_b",
            Logical::And,
            vec![on_job("B", S::Succeeded)],
            vec![job("C")],
        ),
        when(
            "t_any",
            Logical::Any,
            vec![on_job("A", S::Succeeded), on_job("C", S::Succeeded)],
            vec![job("D")],
        ),
    ]);
    let mut orig = WorkflowRun::start(snap, "wr_o", T0).unwrap();
    let e = drain(&mut orig);
    let (a, b) = (start_of(&e, "A"), start_of(&e, "B"));
    let d = start_of(&run_job(&mut orig, &a, O::Succeeded, T0 + 1), "D");
    assert!(run_job(&mut orig, &b, O::Failed, T0 + 2).is_empty());
    let _ = run_job(&mut orig, &d, O::Succeeded, T0 + 3);
    assert_eq!(orig.status(), RunStatus::Completed);

    let mut run = WorkflowRun::resume(&orig, "wr_n", &[uid(&jobref("B"))], T0 + 10)
        .unwrap()
        .run;
    let e = drain(&mut run);
    assert_eq!(started_names(&e), ["B", "D"]);
    let d = start_of(&e, "D");
    assert_eq!(
        d.predecessor_runs[0].run_id, a.job_run_id,
        "copied A fired t_any"
    );
    let b = start_of(&e, "B");
    assert!(run_job(&mut run, &b, O::Failed, T0 + 11).is_empty());
    let e = run_job(&mut run, &d, O::Succeeded, T0 + 12);
    assert_eq!(finished(&e), Some(RunStatus::Completed));
    assert!(!run.node(&jobref("C")).unwrap().attempted());
}
