//! Delivery through a real store: matching, batching by size in the accepting
//! transaction, the window, and the exactly-once accounting of event ids.

use std::collections::BTreeMap;

use serde_json::json;
use weir_model::shapes::{
    Action, EventBatchingCondition, Trigger, TriggerState, TriggerType, Workflow,
};
use weir_orchestrator::stored_run::{self, StartingBatch};
use weir_resources::stored;
use weir_store::{Kind, Scope, SqliteStore, StoreExt, Transaction};

use super::{Event, Fired, deliver_in, expire_in};
use crate::batch::PendingBatch;
use crate::rules::{Rule, Target};

fn scope() -> Scope {
    Scope {
        account: "123456789012".into(),
        region: "us-east-1".into(),
    }
}

fn put(
    tx: &mut dyn Transaction,
    kind: Kind,
    name: &str,
    parent: Option<&str>,
    doc: &impl stored::Document,
) {
    let record =
        stored::record(name, parent.map(str::to_string), doc, BTreeMap::new()).expect("encodes");
    assert!(tx.insert(&scope(), kind, &record).expect("inserts"));
}

/// A workflow `name` whose EVENT trigger batches `size` events in `window` seconds,
/// and a rule sending it the events of `source`.
fn setup(tx: &mut dyn Transaction, name: &str, source: &str, size: i32, window: i32) {
    put(
        tx,
        Kind::Workflow,
        name,
        None,
        &Workflow {
            name: Some(name.into()),
            ..Default::default()
        },
    );
    let trigger = format!("{name}-start");
    put(
        tx,
        Kind::Trigger,
        &trigger,
        Some(name),
        &Trigger {
            name: Some(trigger.clone()),
            workflow_name: Some(name.into()),
            r#type: Some(TriggerType::Event),
            state: Some(TriggerState::Created),
            actions: Some(vec![Action {
                job_name: Some("job".into()),
                ..Default::default()
            }]),
            event_batching_condition: Some(EventBatchingCondition {
                batch_size: Some(size),
                batch_window: Some(window),
            }),
            ..Default::default()
        },
    );
    put(
        tx,
        Kind::EventRule,
        name,
        None,
        &Rule {
            name: name.into(),
            event_pattern: Some(json!({"source": [source]}).to_string()),
            schedule_expression: None,
            state: "ENABLED".into(),
            description: None,
            role_arn: None,
            targets: vec![Target {
                id: Some("wf".into()),
                arn: Some(format!(
                    "arn:aws:glue:us-east-1:123456789012:workflow/{name}"
                )),
                role_arn: None,
                input: None,
                input_path: None,
                other: Default::default(),
            }],
        },
    );
}

fn events(source: &str, count: usize) -> Vec<Event> {
    (0..count)
        .map(|i| {
            Event::new(
                &scope(),
                source,
                "Thing",
                Vec::new(),
                json!({"n": i}),
                1_000,
            )
        })
        .collect()
}

fn event_ids_of_runs(
    tx: &mut dyn Transaction,
    workflow: &str,
) -> Vec<(Vec<String>, Option<StartingBatch>)> {
    let mut runs = tx.list_runs(&scope(), workflow, None, 100).expect("lists");
    runs.reverse();
    runs.iter()
        .map(|record| {
            let run = stored_run::decode(record).expect("decodes");
            let ids = run.properties[stored_run::EVENT_IDS_PROPERTY].clone();
            let ids = ids
                .trim_start_matches('[')
                .trim_end_matches(']')
                .split(", ")
                .map(str::to_string)
                .collect();
            (ids, run.starting_batch)
        })
        .collect()
}

#[test]
fn events_fill_batches_and_every_accepted_event_lands_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path()).expect("store");
    store
        .write(|tx| {
            setup(tx, "sized", "app.a", 3, 60);
            setup(tx, "other", "app.b", 100, 5);
            Ok::<_, weir_resources::ApiError>(())
        })
        .expect("setup");
    let first = events("app.a", 7);
    let unmatched = events("app.c", 2);
    let windowed = events("app.b", 2);
    let all: Vec<Event> = first
        .iter()
        .chain(&unmatched)
        .chain(&windowed)
        .cloned()
        .collect();
    let delivered = store
        .write(|tx| deliver_in(tx, &scope(), &all, 1_000))
        .expect("delivers");
    assert_eq!(delivered.run_ids().count(), 2);
    let ids = |events: &[Event]| events.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
    store
        .read(|tx| {
            // Both runs started at the same instant: their order in the history is
            // their ids'.
            let mut runs = event_ids_of_runs(tx, "sized");
            runs.sort_by(|a, b| a.0.cmp(&b.0));
            let mut expected = vec![
                (ids(&first[0..3]), Some(StartingBatch::Size(3))),
                (ids(&first[3..6]), Some(StartingBatch::Size(3))),
            ];
            expected.sort_by(|a, b| a.0.cmp(&b.0));
            assert_eq!(runs, expected);
            let pending = stored::load::<PendingBatch>(tx, &scope(), Kind::EventBatch, "sized")?
                .expect("one event pending")
                .value;
            assert_eq!(pending.event_ids, ids(&first[6..]));
            assert!(event_ids_of_runs(tx, "other").is_empty());
            Ok::<_, weir_resources::ApiError>(())
        })
        .expect("reads");

    // The window of the other batch: early, nothing; at its deadline, the run.
    let early = store
        .write(|tx| expire_in(tx, &scope(), "other", 5_999))
        .expect("fires");
    assert!(matches!(early, Fired::Later(6_000)));
    let fired = store
        .write(|tx| expire_in(tx, &scope(), "other", 6_000))
        .expect("fires");
    assert!(matches!(fired, Fired::Started(_)));
    store
        .read(|tx| {
            let runs = event_ids_of_runs(tx, "other");
            assert_eq!(runs, vec![(ids(&windowed), Some(StartingBatch::Window(5)))]);
            assert!(tx.get(&scope(), Kind::EventBatch, "other")?.is_none());
            Ok::<_, weir_resources::ApiError>(())
        })
        .expect("reads");
    let again = store
        .write(|tx| expire_in(tx, &scope(), "other", 7_000))
        .expect("fires");
    assert!(matches!(again, Fired::Nothing));
}

#[test]
fn a_failed_delivery_transaction_keeps_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path()).expect("store");
    store
        .write(|tx| {
            setup(tx, "sized", "app.a", 2, 60);
            Ok::<_, weir_resources::ApiError>(())
        })
        .expect("setup");
    let batch = events("app.a", 3);
    let failed: Result<(), weir_resources::ApiError> = store.write(|tx| {
        let _ = deliver_in(tx, &scope(), &batch, 1_000)?;
        Err(weir_resources::ApiError::Internal(
            "the commit failed".into(),
        ))
    });
    assert!(failed.is_err());
    store
        .read(|tx| {
            assert!(event_ids_of_runs(tx, "sized").is_empty());
            assert!(tx.get(&scope(), Kind::EventBatch, "sized")?.is_none());
            Ok::<_, weir_resources::ApiError>(())
        })
        .expect("reads");
}
