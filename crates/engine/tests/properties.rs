//! Property tests over random workflows (random DAGs of triggers, random AND/ANY, random awaited
//! states, random per-attempt outcomes, random event interleavings), checked against the
//! independent reference model in `common::sim`.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::sim::{Fates, Final, Rng, Sim, random_snapshot, reachable, reference_fixpoint};
use proptest::prelude::*;
use weir_engine::*;

const T0: Millis = 1_700_000_000_000;

fn final_of(node: &NodeState) -> Option<Final> {
    match node.latest() {
        Latest::None => None,
        Latest::Job(a) => Some(Final::Job(a.state)),
        Latest::Crawl(c) => Some(Final::Crawl(c.state)),
    }
}

fn bucket_counts(run: &WorkflowRun) -> RunStatistics {
    let s = run.statistics();
    assert_eq!(s.total as usize, run.nodes().len());
    assert!(s.attempted() <= s.total);
    let attempted = run.nodes().iter().filter(|n| n.attempted()).count();
    assert_eq!(s.attempted() as usize, attempted);
    assert_eq!(s.running, 0);
    s
}

/// Checks a finished run against the reference outcome: fired triggers, started nodes, the
/// final state of every started node, one `RunFinished`.
fn check_against_reference(
    sim: &Sim<'_>,
    fates: &Fates,
    fired: &BTreeSet<String>,
    started: &BTreeSet<NodeRef>,
) {
    let run = &sim.run;
    assert_eq!(
        run.status(),
        RunStatus::Completed,
        "§4.3: the run completes"
    );
    assert_eq!(
        sim.finished,
        [RunStatus::Completed],
        "RunFinished exactly once"
    );
    let names: Vec<&str> = run
        .fired_triggers()
        .iter()
        .map(|f| f.trigger_name.as_str())
        .collect();
    let unique: BTreeSet<String> = names.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        unique.len(),
        names.len(),
        "§4.3: a trigger fires at most once"
    );
    assert_eq!(&unique, fired, "§5.3: fires iff the predicate holds");
    for n in run.nodes() {
        if started.contains(&n.node) {
            assert!(!n.copied);
            assert_eq!(
                final_of(n),
                Some(fates.final_state(&n.node)),
                "{:?}",
                n.node
            );
        }
    }
    bucket_counts(run);
}

fn fresh_run(seed: u64) -> (WorkflowSnapshot, Fates, Rng) {
    let mut rng = Rng::new(seed);
    let snap = random_snapshot(&mut rng);
    let nodes = snap.action_nodes();
    let fates = Fates::random(&mut rng, &nodes);
    (snap, fates, rng)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// §4.3, §4.4, §5.3, §6.3 over random DAGs and outcomes.
    #[test]
    fn runs_match_reference_model(seed in any::<u64>()) {
        let (snap, fates, mut rng) = fresh_run(seed);
        let run = WorkflowRun::start(snap.clone(), "wr_p", T0).unwrap();
        let sim = Sim::new(run, T0, &fates).run_to_end(&mut rng);

        let start = snap.start_trigger().unwrap();
        let (fired, started) = reference_fixpoint(
            &snap,
            BTreeSet::from([start.name.clone()]),
            start.actions.iter().map(Action::node).collect(),
            &BTreeMap::new(),
            &fates,
        );
        check_against_reference(&sim, &fates, &fired, &started);
        let attempted: BTreeSet<NodeRef> =
            sim.run.nodes().iter().filter(|n| n.attempted()).map(|n| n.node.clone()).collect();
        prop_assert_eq!(attempted, started);
    }

    /// §4.6 over random DAGs, outcomes and selections: the resumed run re-executes exactly the
    /// restarted nodes and what re-fired triggers start downstream of them; everything outside
    /// the restarted nodes' downstream is copied unchanged; redundant selections are dropped.
    #[test]
    fn resume_matches_reference_model(seed in any::<u64>(), again in any::<bool>()) {
        let (snap, fates, mut rng) = fresh_run(seed);
        let run = WorkflowRun::start(snap.clone(), "wr_a", T0).unwrap();
        let mut prev = Sim::new(run, T0, &fates).run_to_end(&mut rng).run;
        let rounds = if again { 2 } else { 1 };
        for round in 0..rounds {
            let attempted: Vec<NodeRef> =
                prev.nodes().iter().filter(|n| n.attempted()).map(|n| n.node.clone()).collect();
            let mut selection: Vec<NodeRef> = Vec::new();
            for _ in 0..1 + rng.below(3) {
                selection.push(rng.pick(&attempted));
            }
            let ids: Vec<String> = selection.iter().map(|n| n.unique_id("wf")).collect();
            let new_fates = Fates::random(&mut rng, &snap.action_nodes());
            let run_id = format!("wr_b{round}");
            let resumed = WorkflowRun::resume(&prev, run_id.as_str(), &ids, T0 + 1_000_000).unwrap();

            // Independent expectations.
            let mut dedup: Vec<NodeRef> = Vec::new();
            for n in &selection {
                if !dedup.contains(n) { dedup.push(n.clone()); }
            }
            let restarted: Vec<NodeRef> = dedup
                .iter()
                .filter(|x| !dedup.iter().any(|y| y != *x && reachable(&snap, y).contains(*x)))
                .cloned()
                .collect();
            let expect_ids: Vec<String> = restarted.iter().map(|n| n.unique_id("wf")).collect();
            prop_assert_eq!(&resumed.node_ids, &expect_ids);
            let mut reset: BTreeSet<NodeRef> = restarted.iter().cloned().collect();
            for n in &restarted { reset.extend(reachable(&snap, n)); }
            let reset_triggers: BTreeSet<String> = snap
                .triggers
                .iter()
                .filter(|t| t.conditions.iter().any(|c| reset.contains(&c.node())))
                .map(|t| t.name.clone())
                .collect();
            let kept_fired: BTreeSet<String> = prev
                .fired_triggers()
                .iter()
                .map(|f| f.trigger_name.clone())
                .filter(|t| !reset_triggers.contains(t))
                .collect();
            let known: BTreeMap<NodeRef, Final> = prev
                .nodes()
                .iter()
                .filter(|n| !reset.contains(&n.node))
                .filter_map(|n| final_of(n).map(|f| (n.node.clone(), f)))
                .collect();
            let (fired, started) = reference_fixpoint(
                &snap,
                kept_fired,
                restarted.iter().cloned().collect(),
                &known,
                &new_fates,
            );

            prop_assert_eq!(resumed.run.previous_run_id(), Some(prev.run_id()));
            let sim = Sim::new(resumed.run, T0 + 1_000_000, &new_fates).run_to_end(&mut rng);
            check_against_reference(&sim, &new_fates, &fired, &started);
            for (old, new) in prev.nodes().iter().zip(sim.run.nodes()) {
                prop_assert_eq!(&old.node, &new.node);
                if reset.contains(&new.node) {
                    prop_assert!(!new.copied);
                    prop_assert_eq!(new.attempted(), started.contains(&new.node));
                    for a in &new.job_runs {
                        prop_assert!(!old.job_runs.iter().any(|o| o.id == a.id));
                    }
                } else {
                    prop_assert!(!started.contains(&new.node));
                    prop_assert_eq!(new.copied, old.attempted());
                    prop_assert_eq!(&new.job_runs, &old.job_runs);
                    prop_assert_eq!(&new.crawls, &old.crawls);
                }
            }
            prev = sim.run;
        }
    }

    /// §4.5 over random workflows stopped at a random moment: kills go out for everything in
    /// flight, nothing starts and no trigger fires afterwards, the run ends STOPPED with every
    /// attempt terminal (or the stop is refused because the run had already completed).
    #[test]
    fn stop_at_random_moment(seed in any::<u64>(), stop_after in 0usize..12) {
        let (snap, fates, mut rng) = fresh_run(seed);
        let run = WorkflowRun::start(snap, "wr_s", T0).unwrap();
        let mut sim = Sim::new(run, T0, &fates);
        for _ in 0..stop_after {
            if !sim.step(&mut rng) { break; }
        }
        let fired_before = sim.run.fired_triggers().len();
        let status_before = sim.run.status();
        let stop = sim.stop();
        prop_assert_eq!(stop.is_ok(), status_before == RunStatus::Running);
        let sim = sim.run_to_end(&mut rng);
        let run = &sim.run;
        if stop.is_ok() {
            prop_assert_eq!(run.status(), RunStatus::Stopped);
            prop_assert_eq!(&sim.finished, &[RunStatus::Stopped]);
            prop_assert_eq!(run.fired_triggers().len(), fired_before);
        } else {
            prop_assert_eq!(run.status(), RunStatus::Completed);
        }
        prop_assert!(run.completed_on().is_some());
        prop_assert!(run.nodes().iter().all(|n| !n.busy()));
        bucket_counts(run);
    }
}
