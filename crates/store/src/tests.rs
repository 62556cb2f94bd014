//! The store conformance suite: one function per behaviour, run against every backend.

use std::collections::BTreeMap;

use crate::{
    Heard, JobRunRecord, Kind, LogEventCursor, LogEventRange, LogEventRecord, PartitionRecord,
    Record, RunCursor, RunRecord, Scope, Setting, Store, StoreError, StoreExt,
};

fn scope(account: &str) -> Scope {
    Scope {
        account: account.into(),
        region: "us-east-1".into(),
    }
}

fn record(name: &str, doc: &str) -> Record {
    let mut tags = BTreeMap::new();
    tags.insert("team".to_string(), "line\nbreak \\ back".to_string());
    Record {
        name: name.into(),
        parent: Some("parent".into()),
        doc: doc.into(),
        version: 3,
        tags,
    }
}

/// Runs every behaviour check against `store`.
fn conformance_suite(store: &dyn Store) {
    resources_are_scoped_and_unique(store);
    listing_pages_in_name_order(store);
    failed_write_keeps_nothing(store);
    panicking_write_keeps_nothing_and_the_store_stays_usable(store);
    concurrent_writes_each_see_the_ones_before(store);
    queued_writes_commit_or_fail_each_alone(store);
    reads_see_every_acknowledged_write_and_never_go_back(store);
    runs_page_newest_first(store);
    job_runs_and_meta(store);
    partitions_are_rows_of_their_table(store);
    log_events_page_from_either_end(store);
    concurrent_writers_check_then_act_exactly(&[store]);
    text_with_nul_round_trips(store);
}

/// NUL is text like any other character: Weir's reserved owner of direct job runs
/// starts with it, and a client's log message may contain it.
fn text_with_nul_round_trips(store: &dyn Store) {
    let s = scope("131313131313");
    let run = RunRecord {
        workflow: "\u{0}job\u{0}j".into(),
        run_id: "wr_nul".into(),
        started_ms: 1,
        status: "RUNNING".into(),
        doc: "{}".into(),
        version: 1,
    };
    let event = LogEventRecord {
        sequence: 0,
        timestamp_ms: 1,
        ingestion_ms: 1,
        message: "before\0after".into(),
    };
    store
        .write(|tx| {
            tx.put_run(&s, &run)?;
            tx.put_log_events(&s, "/g", "s\0", std::slice::from_ref(&event))
        })
        .expect("write text with NUL");
    let got = store
        .read(|tx| tx.get_run(&s, &run.workflow, "wr_nul"))
        .expect("get run");
    assert_eq!(got, Some(run));
    let events = store
        .read(|tx| tx.list_log_events(&s, "/g", "s\0", &LogEventRange::default(), 10))
        .expect("list log events");
    assert_eq!(events, vec![event]);
}

fn resources_are_scoped_and_unique(store: &dyn Store) {
    let a = scope("111111111111");
    let b = scope("222222222222");
    let inserted: bool = store
        .write(|tx| tx.insert(&a, Kind::Workflow, &record("wf", "{}")))
        .expect("insert");
    assert!(inserted);
    let again: bool = store
        .write(|tx| tx.insert(&a, Kind::Workflow, &record("wf", "{\"x\":1}")))
        .expect("insert again");
    assert!(!again, "a taken name is not inserted twice");
    let other = store
        .read(|tx| tx.get(&b, Kind::Workflow, "wf"))
        .expect("get");
    assert_eq!(other, None, "another account never sees the resource");
    let other_kind = store.read(|tx| tx.get(&a, Kind::Job, "wf")).expect("get");
    assert_eq!(other_kind, None, "kinds are separate name spaces");
    let got = store
        .read(|tx| tx.get(&a, Kind::Workflow, "wf"))
        .expect("get")
        .expect("present");
    assert_eq!(got, record("wf", "{}"), "document and tags round-trip");
    let updated = store
        .write(|tx| tx.update(&a, Kind::Workflow, &record("missing", "{}")))
        .expect("update");
    assert!(!updated, "updating a missing resource changes nothing");
    assert!(
        store
            .write(|tx| tx.delete(&a, Kind::Workflow, "wf"))
            .expect("delete")
    );
    assert!(
        !store
            .write(|tx| tx.delete(&a, Kind::Workflow, "wf"))
            .expect("delete")
    );
}

fn listing_pages_in_name_order(store: &dyn Store) {
    let s = scope("333333333333");
    store
        .write(|tx| {
            for name in ["c", "a", "b", "d"] {
                tx.insert(&s, Kind::Trigger, &record(name, "{}"))?;
            }
            Ok::<_, StoreError>(())
        })
        .expect("insert");
    let first = store
        .read(|tx| tx.list(&s, Kind::Trigger, None, 3))
        .expect("list");
    let names: Vec<_> = first.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    let rest = store
        .read(|tx| tx.list(&s, Kind::Trigger, Some("c"), 3))
        .expect("list");
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].name, "d");
    let names = store
        .read(|tx| tx.list_names(&s, Kind::Trigger, None, 3))
        .expect("list names");
    assert_eq!(names, ["a", "b", "c"]);
    let names = store
        .read(|tx| tx.list_names(&s, Kind::Trigger, Some("b"), 3))
        .expect("list names");
    assert_eq!(names, ["c", "d"]);
    assert_eq!(
        store.read(|tx| tx.count(&s, Kind::Trigger)).expect("count"),
        4
    );
    let children = store
        .read(|tx| tx.list_children(&s, Kind::Trigger, "parent"))
        .expect("children");
    assert_eq!(children.len(), 4);
    let none = store
        .read(|tx| tx.list_children(&s, Kind::Trigger, "other"))
        .expect("children");
    assert!(none.is_empty());
    let everywhere = store.read(|tx| tx.list_all(Kind::Trigger)).expect("all");
    assert!(everywhere.iter().filter(|(scope, _)| scope == &s).count() == 4);
}

fn failed_write_keeps_nothing(store: &dyn Store) {
    let s = scope("444444444444");
    #[derive(Debug)]
    enum DomainError {
        No,
        Store,
    }
    impl From<StoreError> for DomainError {
        fn from(_: StoreError) -> Self {
            DomainError::Store
        }
    }
    let result: Result<(), DomainError> = store.write(|tx| {
        tx.insert(&s, Kind::Job, &record("j", "{}"))?;
        Err(DomainError::No)
    });
    assert!(
        matches!(result, Err(DomainError::No)),
        "the domain error comes back"
    );
    let got = store.read(|tx| tx.get(&s, Kind::Job, "j")).expect("get");
    assert_eq!(got, None, "the aborted insert was rolled back");
}

fn panicking_write_keeps_nothing_and_the_store_stays_usable(store: &dyn Store) {
    let s = scope("454545454545");
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        store.write(|tx| {
            tx.insert(&s, Kind::Job, &record("half-done", "{}"))?;
            if tx.count(&s, Kind::Job)? > 0 {
                panic!("a bug in a write closure");
            }
            Ok::<_, StoreError>(())
        })
    }));
    assert!(panicked.is_err(), "the panic reaches the caller");
    store
        .write(|tx| tx.insert(&s, Kind::Job, &record("after", "{}")))
        .expect("a write after the panicked one succeeds");
    let names: Vec<String> = store
        .read(|tx| tx.list(&s, Kind::Job, None, 10))
        .expect("list")
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(
        names,
        ["after"],
        "the panicked write's insert was rolled back"
    );
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        store.read(|tx| -> Result<(), StoreError> {
            tx.count(&s, Kind::Job)?;
            panic!("a bug in a read closure")
        })
    }));
    assert!(panicked.is_err());
    assert_eq!(store.read(|tx| tx.count(&s, Kind::Job)).expect("count"), 1);
}

/// Many threads write at once, as concurrent API calls do (a backend may commit them
/// together): every acknowledged write is there afterwards, a check-then-act limit
/// stays exact, and failing or panicking writers among them keep nothing and stop no one.
/// Writes handed over whole (`queue_write`, how async callers write): each is told its
/// own outcome once it is durable, a failed or panicking body keeps nothing and harms
/// no other, and bodies see the ones queued before them (a shared limit is exact).
/// A counter written 200 times, in turn by a blocking write and a queued one, while
/// four threads read it without pause (SQLite's readers keep their snapshots between
/// reads): a read after a write was acknowledged sees it, and no reader ever sees the
/// counter go back.
fn reads_see_every_acknowledged_write_and_never_go_back(store: &dyn Store) {
    const WRITES: u64 = 200;
    let s = scope("505050505050");
    let value = |tx: &mut dyn crate::Transaction| -> crate::StoreResult<u64> {
        Ok(tx
            .get(&s, Kind::Workflow, "counter")?
            .and_then(|record| record.doc.parse().ok())
            .unwrap_or(0))
    };
    store
        .write(|tx| {
            tx.insert(&s, Kind::Workflow, &record("counter", "0"))
                .map(drop)
        })
        .expect("insert the counter");
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|threads| {
        let readers: Vec<_> = (0..4)
            .map(|_| {
                threads.spawn(|| {
                    let mut last = 0;
                    let mut reads = 0u64;
                    while !done.load(std::sync::atomic::Ordering::SeqCst) {
                        let seen = store.read(|tx| value(tx)).expect("read the counter");
                        assert!(seen >= last, "a reader saw {seen} after {last}");
                        last = seen;
                        reads += 1;
                    }
                    reads
                })
            })
            .collect();
        for n in 1..=WRITES {
            let next = record("counter", &n.to_string());
            if n % 2 == 0 {
                store
                    .write(|tx| tx.update(&s, Kind::Workflow, &next).map(drop))
                    .expect("write the counter");
            } else {
                let (told, heard) = std::sync::mpsc::channel();
                let s = s.clone();
                store.queue_write(crate::QueuedWrite {
                    body: Box::new(move |tx| tx.update(&s, Kind::Workflow, &next).map(drop)),
                    done: Box::new(move |outcome| {
                        let _ = told.send(outcome);
                    }),
                });
                heard
                    .recv()
                    .expect("the queued write is answered")
                    .expect("write the counter");
            }
            for _ in 0..2 {
                let seen = store.read(|tx| value(tx)).expect("read the counter");
                assert_eq!(seen, n, "a read after write {n} was acknowledged");
            }
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        for reader in readers {
            assert!(reader.join().expect("reader thread") > 0);
        }
    });
}

fn queued_writes_commit_or_fail_each_alone(store: &dyn Store) {
    const WRITES: usize = 300;
    const LIMIT: u64 = 40;
    let s = scope("484848484848");
    let capped = scope("494949494949");
    let (told, outcomes) = std::sync::mpsc::channel();
    for i in 0..WRITES {
        let (s, capped) = (s.clone(), capped.clone());
        let told = told.clone();
        store.queue_write(crate::QueuedWrite {
            body: Box::new(move |tx| {
                tx.insert(&s, Kind::Job, &record(&format!("q{i}"), "{}"))?;
                match i % 10 {
                    3 => Err(StoreError::Aborted),
                    7 => panic!("a bug in a queued write"),
                    _ if tx.count(&capped, Kind::Job)? < LIMIT => {
                        tx.insert(&capped, Kind::Job, &record(&format!("c{i}"), "{}"))?;
                        Ok(())
                    }
                    _ => Ok(()),
                }
            }),
            done: Box::new(move |outcome| {
                let _ = told.send((i, outcome));
            }),
        });
    }
    drop(told);
    let mut heard: Vec<(usize, crate::StoreResult<()>)> = outcomes.iter().collect();
    heard.sort_by_key(|(i, _)| *i);
    assert_eq!(heard.len(), WRITES, "every write is answered once");
    for (i, outcome) in &heard {
        match i % 10 {
            3 => assert!(
                matches!(outcome, Err(StoreError::Aborted)),
                "{i}: {outcome:?}"
            ),
            7 => assert!(
                matches!(outcome, Err(StoreError::Panicked)),
                "{i}: {outcome:?}"
            ),
            _ => assert!(outcome.is_ok(), "{i}: {outcome:?}"),
        }
    }
    let (kept, limited) = store
        .read(|tx| Ok::<_, StoreError>((tx.count(&s, Kind::Job)?, tx.count(&capped, Kind::Job)?)))
        .expect("count");
    assert_eq!(
        kept,
        (WRITES - WRITES / 5) as u64,
        "failed bodies keep nothing"
    );
    assert_eq!(limited, LIMIT, "each body saw the ones queued before it");
}

fn concurrent_writes_each_see_the_ones_before(store: &dyn Store) {
    const THREADS: usize = 8;
    const WRITES: usize = 25;
    const LIMIT: u64 = 30;
    let s = scope("464646464646");
    let capped = scope("474747474747");
    #[derive(Debug)]
    enum Outcome {
        Full,
        Refused,
        Store,
    }
    impl From<StoreError> for Outcome {
        fn from(_: StoreError) -> Self {
            Outcome::Store
        }
    }
    let admitted = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|threads| {
        for thread in 0..THREADS {
            let admitted = &admitted;
            let (s, capped) = (&s, &capped);
            threads.spawn(move || {
                for write in 0..WRITES {
                    let name = format!("t{thread}-w{write}");
                    match write % 5 {
                        // A refused write: its insert must not survive.
                        3 => {
                            let refused: Result<(), Outcome> = store.write(|tx| {
                                tx.insert(s, Kind::Job, &record(&format!("{name}-refused"), "{}"))?;
                                Err(Outcome::Refused)
                            });
                            assert!(matches!(refused, Err(Outcome::Refused)));
                        }
                        // A panicking write: the panic reaches its caller only.
                        4 => {
                            let panicked =
                                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                    store.write(|tx| {
                                        tx.insert(
                                            s,
                                            Kind::Job,
                                            &record(&format!("{name}-panicked"), "{}"),
                                        )?;
                                        if tx.count(s, Kind::Job)? > 0 {
                                            panic!("a bug in a concurrent write closure");
                                        }
                                        Ok::<_, StoreError>(())
                                    })
                                }));
                            assert!(panicked.is_err());
                        }
                        _ => {
                            store
                                .write(|tx| tx.insert(s, Kind::Job, &record(&name, "{}")))
                                .expect("insert");
                            // Check-then-act against a limit shared by every thread.
                            let taken: Result<(), Outcome> = store.write(|tx| {
                                if tx.count(capped, Kind::Job)? >= LIMIT {
                                    return Err(Outcome::Full);
                                }
                                tx.insert(capped, Kind::Job, &record(&name, "{}"))?;
                                Ok(())
                            });
                            match taken {
                                Ok(()) => {
                                    admitted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                }
                                Err(Outcome::Full) => {}
                                Err(other) => panic!("unexpected outcome {other:?}"),
                            }
                        }
                    }
                }
            });
        }
    });
    let kept = store.read(|tx| tx.count(&s, Kind::Job)).expect("count");
    assert_eq!(
        kept,
        (THREADS * WRITES * 3 / 5) as u64,
        "every acknowledged insert is kept, no refused or panicked one"
    );
    let in_capped = store
        .read(|tx| tx.count(&capped, Kind::Job))
        .expect("count");
    assert_eq!(
        in_capped, LIMIT,
        "the limit is exact under concurrent writers"
    );
    assert_eq!(admitted.load(std::sync::atomic::Ordering::Relaxed), LIMIT);
}

fn runs_page_newest_first(store: &dyn Store) {
    let s = scope("555555555555");
    store
        .write(|tx| {
            for (i, status) in ["COMPLETED", "RUNNING", "COMPLETED", "STOPPING"]
                .iter()
                .enumerate()
            {
                tx.put_run(
                    &s,
                    &RunRecord {
                        workflow: "wf".into(),
                        run_id: format!("wr_{i}"),
                        started_ms: 1000 + i as i64 / 2,
                        status: status.to_string(),
                        doc: "{}".into(),
                        version: 1,
                    },
                )?;
            }
            Ok::<_, StoreError>(())
        })
        .expect("put runs");
    let page = store
        .read(|tx| tx.list_runs(&s, "wf", None, 3))
        .expect("list runs");
    let ids: Vec<_> = page.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(ids, ["wr_3", "wr_2", "wr_1"], "newest first, ties by id");
    let cursor = RunCursor {
        started_ms: page[2].started_ms,
        run_id: page[2].run_id.clone(),
    };
    let next = store
        .read(|tx| tx.list_runs(&s, "wf", Some(&cursor), 3))
        .expect("list runs");
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].run_id, "wr_0");
    let active = store
        .read(|tx| tx.count_runs_in_status(&s, "wf", &["RUNNING", "STOPPING"]))
        .expect("active");
    assert_eq!(active, 2);
    let everywhere = store
        .read(|tx| tx.all_runs_in_status(&["RUNNING"]))
        .expect("all");
    assert!(
        everywhere
            .iter()
            .any(|(sc, r)| sc == &s && r.run_id == "wr_1")
    );
    let purged = store
        .write(|tx| tx.purge_runs_before(1001, &["RUNNING", "STOPPING"]))
        .expect("purge");
    assert_eq!(purged, 1, "only the finished old run goes");
    assert_eq!(
        store.write(|tx| tx.delete_runs(&s, "wf")).expect("delete"),
        3
    );
}

fn job_runs_and_meta(store: &dyn Store) {
    let s = scope("666666666666");
    let run = JobRunRecord {
        job: "j".into(),
        run_id: "jr_1".into(),
        started_ms: 5,
        state: "RUNNING".into(),
        owner_workflow: "wf".into(),
        owner_run_id: "wr_1".into(),
        doc: "{}".into(),
        version: 1,
    };
    store.write(|tx| tx.put_job_run(&s, &run)).expect("put");
    let mut done = run.clone();
    done.state = "SUCCEEDED".into();
    done.version = 2;
    store.write(|tx| tx.put_job_run(&s, &done)).expect("put");
    let got = store
        .read(|tx| tx.get_job_run(&s, "j", "jr_1"))
        .expect("get")
        .expect("present");
    assert_eq!(got.state, "SUCCEEDED", "a put replaces the state");
    assert_eq!(got.version, 2, "and the document's version");
    let running = store
        .read(|tx| tx.count_job_runs_in_state(&s, Some("j"), &["RUNNING", "SUCCEEDED"], None))
        .expect("running");
    assert_eq!(running, 1);
    let others = store
        .read(|tx| tx.count_job_runs_in_state(&s, Some("j"), &["SUCCEEDED"], Some("jr_1")))
        .expect("others");
    assert_eq!(others, 0, "the excepted job run is not counted");
    let in_account = store
        .read(|tx| tx.count_job_runs_in_state(&s, None, &["SUCCEEDED"], None))
        .expect("account");
    assert_eq!(in_account, 1, "the account's count covers its jobs");
    let elsewhere = Scope {
        region: "eu-west-1".into(),
        ..s.clone()
    };
    let in_other_region = store
        .read(|tx| tx.count_job_runs_in_state(&elsewhere, None, &["SUCCEEDED"], None))
        .expect("other region");
    assert_eq!(in_other_region, 0, "another region's runs are not counted");
    let others_in_account = store
        .read(|tx| tx.count_job_runs_in_state(&s, None, &["SUCCEEDED"], Some("jr_1")))
        .expect("others in account");
    assert_eq!(others_in_account, 0, "nor the excepted one");
    assert_eq!(
        store
            .read(|tx| tx.list_job_runs(&s, "j", None, 10))
            .expect("list")
            .len(),
        1
    );
    assert_eq!(store.read(|tx| tx.get_meta("k")).expect("meta"), None);
    let setting = |value: &str, version| Setting {
        value: value.into(),
        version,
    };
    store
        .write(|tx| {
            tx.put_meta("k", &setting("v", 1))?;
            tx.put_meta("p/a", &setting("a", 1))?;
            tx.put_meta("p/b", &setting("b", 2))?;
            tx.put_meta("q", &setting("q", 1))
        })
        .expect("put meta");
    assert_eq!(
        store.read(|tx| tx.get_meta("k")).expect("meta"),
        Some(setting("v", 1))
    );
    let listed = store.read(|tx| tx.list_meta("p/")).expect("list meta");
    assert_eq!(
        listed,
        vec![
            ("p/a".to_string(), setting("a", 1)),
            ("p/b".to_string(), setting("b", 2))
        ]
    );
    assert!(store.write(|tx| tx.delete_meta("p/a")).expect("delete"));
    assert!(!store.write(|tx| tx.delete_meta("p/a")).expect("delete"));
    assert_eq!(store.read(|tx| tx.list_meta("p/")).expect("list").len(), 1);
}

fn partitions_are_rows_of_their_table(store: &dyn Store) {
    let s = scope("999999999999");
    let other = scope("999999999998");
    let partition = |key: &str, version| PartitionRecord {
        key: key.into(),
        doc: format!("{{\"k\":\"{key}\"}}"),
        version,
    };
    store
        .write(|tx| {
            for key in ["b", "a", "c"] {
                tx.put_partition(&s, "db/t", &partition(key, 1))?;
            }
            tx.put_partition(&s, "db/u", &partition("a", 1))?;
            tx.put_partition(&other, "db/t", &partition("z", 1))?;
            // An upsert replaces the document and its version.
            tx.put_partition(&s, "db/t", &partition("b", 2))
        })
        .expect("put partitions");
    let keys = |after: Option<&str>, limit| {
        store
            .read(|tx| tx.list_partitions(&s, "db/t", after, limit))
            .expect("list")
            .into_iter()
            .map(|p| p.key)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        keys(None, 10),
        ["a", "b", "c"],
        "key order, one table, one scope"
    );
    assert_eq!(keys(Some("a"), 1), ["b"], "pages strictly after the cursor");
    assert_eq!(
        store
            .read(|tx| tx.partition_keys(&s, "db/t"))
            .expect("keys"),
        ["a", "b", "c"]
    );
    assert_eq!(
        store
            .read(|tx| tx.get_partition(&s, "db/t", "b"))
            .expect("get"),
        Some(partition("b", 2))
    );
    assert!(
        store
            .write(|tx| tx.delete_partition(&s, "db/t", "a"))
            .expect("delete")
    );
    assert_eq!(
        store
            .write(|tx| tx.delete_partitions(&s, "db/t"))
            .expect("delete all"),
        2
    );
    assert!(keys(None, 10).is_empty());
    let untouched = store
        .read(|tx| tx.list_partitions(&s, "db/u", None, 10))
        .expect("list");
    assert_eq!(untouched.len(), 1, "other tables keep theirs");
}

fn log_events_page_from_either_end(store: &dyn Store) {
    let s = scope("888888888888");
    let other = scope("888888888889");
    let event = |sequence: u64| LogEventRecord {
        sequence,
        timestamp_ms: 1_000 + (sequence as i64) * 10,
        ingestion_ms: 5_000,
        message: format!("line {sequence}"),
    };
    store
        .write(|tx| -> Result<(), StoreError> {
            let first: Vec<_> = (0..50).map(event).collect();
            tx.put_log_events(&s, "/g", "a", &first)?;
            tx.put_log_events(&s, "/g", "b", &[event(0), event(1)])?;
            tx.put_log_events(&other, "/g", "a", &[event(0)])
        })
        .expect("put log events");
    let read = |range: LogEventRange, limit| {
        store
            .read(|tx| tx.list_log_events(&s, "/g", "a", &range, limit))
            .expect("list log events")
            .iter()
            .map(|e| e.sequence)
            .collect::<Vec<_>>()
    };
    assert_eq!(read(LogEventRange::default(), 3), vec![0, 1, 2]);
    let newest = LogEventRange {
        newest_first: true,
        ..LogEventRange::default()
    };
    assert_eq!(read(newest.clone(), 2), vec![49, 48]);
    let window = LogEventRange {
        from_sequence: Some(10),
        below_sequence: Some(20),
        start_ms: Some(1_150),
        end_ms: Some(1_180),
        newest_first: false,
    };
    assert_eq!(read(window, 100), vec![15, 16, 17]);
    let below = LogEventRange {
        below_sequence: Some(5),
        ..newest
    };
    assert_eq!(read(below, 100), vec![4, 3, 2, 1, 0]);

    let scan_in = |stream: Option<&str>, after: Option<LogEventCursor>, limit| {
        store
            .read(|tx| {
                let (start, end) = (Some(1_000), Some(1_020));
                tx.scan_log_events(&s, "/g", stream, after.as_ref(), start, end, limit)
            })
            .expect("scan log events")
            .into_iter()
            .map(|(stream, e)| (stream, e.sequence))
            .collect::<Vec<_>>()
    };
    let in_time_order = vec![
        ("a".to_string(), 0),
        ("b".to_string(), 0),
        ("a".to_string(), 1),
        ("b".to_string(), 1),
    ];
    let scan = |after, limit| scan_in(None, after, limit);
    assert_eq!(scan(None, 10), in_time_order);
    let cursor = LogEventCursor {
        timestamp_ms: 1_000,
        stream: "b".into(),
        sequence: 0,
    };
    assert_eq!(scan(Some(cursor.clone()), 10), in_time_order[2..].to_vec());
    let only_b = vec![("b".to_string(), 0), ("b".to_string(), 1)];
    assert_eq!(scan_in(Some("b"), None, 10), only_b);
    assert_eq!(scan_in(Some("b"), Some(cursor), 10), only_b[1..].to_vec());

    let purged = store
        .write(|tx| tx.delete_log_events_before(&s, "/g", 1_010))
        .expect("purge");
    assert_eq!(purged, 2, "event 0 of each stream");
    let deleted = store
        .write(|tx| tx.delete_log_events(&s, "/g", Some("b")))
        .expect("delete stream events");
    assert_eq!(deleted, 1);
    let deleted = store
        .write(|tx| tx.delete_log_events(&s, "/g", None))
        .expect("delete group events");
    assert_eq!(deleted, 49);
    let kept = store
        .read(|tx| tx.list_log_events(&other, "/g", "a", &LogEventRange::default(), 10))
        .expect("other scope");
    assert_eq!(kept, vec![event(0)], "other scopes keep their events");
}

/// Writers on every store of `stores` (one store, or several on one database as
/// replicas have) race to start runs of a workflow limited to 2 concurrent runs, each
/// checking the count then inserting in one write: exactly 2 start.
fn concurrent_writers_check_then_act_exactly(stores: &[&dyn Store]) {
    const LIMIT: u64 = 2;
    let s = scope("121212121212");
    let started = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|threads| {
        for attempt in 0..16 {
            let store = stores[attempt % stores.len()];
            let (s, started) = (&s, &started);
            threads.spawn(move || {
                let ran: bool = store
                    .write(|tx| {
                        if tx.count_runs_in_status(s, "limited", &["RUNNING"])? >= LIMIT {
                            return Ok::<_, StoreError>(false);
                        }
                        tx.put_run(
                            s,
                            &RunRecord {
                                workflow: "limited".into(),
                                run_id: format!("wr_{attempt:02}"),
                                started_ms: 1,
                                status: "RUNNING".into(),
                                doc: "{}".into(),
                                version: 1,
                            },
                        )?;
                        Ok(true)
                    })
                    .expect("write");
                if ran {
                    started.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            });
        }
    });
    assert_eq!(
        started.into_inner(),
        LIMIT,
        "the writes reported as starting"
    );
    let stored = stores[0]
        .read(|tx| tx.count_runs_in_status(&s, "limited", &["RUNNING"]))
        .expect("count");
    assert_eq!(stored, LIMIT, "the runs stored");
    stores[0]
        .write(|tx| tx.delete_runs(&s, "limited"))
        .expect("delete");
}

#[test]
fn sqlite_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = crate::SqliteStore::open(dir.path()).expect("open");
    conformance_suite(&store);
}

#[test]
fn after_a_checkpoint_the_database_file_alone_holds_every_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = tempfile::tempdir().expect("tempdir");
    let s = scope("888888888888");
    let store = crate::SqliteStore::open(dir.path()).expect("open");
    store
        .write(|tx| tx.insert(&s, Kind::Workflow, &record("checkpointed", "{}")))
        .expect("insert");
    // The readers keep their snapshots between reads: none may hold the log.
    for _ in 0..3 {
        let got = store
            .read(|tx| tx.get(&s, Kind::Workflow, "checkpointed"))
            .expect("get");
        assert!(got.is_some());
    }
    store.checkpoint().expect("checkpoint");
    let wal = std::fs::metadata(dir.path().join("weir.db-wal")).map_or(0, |m| m.len());
    assert_eq!(wal, 0, "the log is emptied");
    // Copied while the store is still open: the database file is complete by itself.
    std::fs::copy(dir.path().join("weir.db"), copy.path().join("weir.db")).expect("copy");
    let copied = crate::SqliteStore::open(copy.path()).expect("open the copy");
    let got = copied
        .read(|tx| tx.get(&s, Kind::Workflow, "checkpointed"))
        .expect("get");
    assert!(got.is_some());
    store
        .write(|tx| tx.insert(&s, Kind::Workflow, &record("after", "{}")))
        .expect("the store keeps working after a checkpoint");
}

#[test]
fn sqlite_keeps_data_across_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = scope("777777777777");
    {
        let store = crate::SqliteStore::open(dir.path()).expect("open");
        store
            .write(|tx| tx.insert(&s, Kind::Workflow, &record("kept", "{}")))
            .expect("insert");
    }
    let store = crate::SqliteStore::open(dir.path()).expect("reopen");
    let got = store
        .read(|tx| tx.get(&s, Kind::Workflow, "kept"))
        .expect("get");
    assert!(got.is_some());
}

/// A schema of its own in the test database named by `WEIR_TEST_POSTGRES_URL`, dropped
/// at the end, so tests run in parallel. `None` (the test is skipped, and says so) when
/// the variable is unset, unless `WEIR_TEST_POSTGRES_REQUIRED=1` (scripts/test.sh sets
/// both), when the test fails.
struct PostgresSchema {
    config: tokio_postgres::Config,
    name: String,
}

impl PostgresSchema {
    fn create(test: &str) -> Option<Self> {
        let Ok(url) = std::env::var("WEIR_TEST_POSTGRES_URL") else {
            assert!(
                std::env::var("WEIR_TEST_POSTGRES_REQUIRED").as_deref() != Ok("1"),
                "WEIR_TEST_POSTGRES_REQUIRED=1 but WEIR_TEST_POSTGRES_URL is not set"
            );
            eprintln!(
                "SKIPPED {test}: set WEIR_TEST_POSTGRES_URL to a PostgreSQL database \
                 (scripts/postgres.sh starts one)"
            );
            return None;
        };
        let config: tokio_postgres::Config = url.parse().expect("WEIR_TEST_POSTGRES_URL");
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!("{test}_{}_{nanos}", std::process::id());
        Self::admin(&config, &format!("CREATE SCHEMA {name}"));
        Some(Self { config, name })
    }

    /// Runs `sql` on a connection of its own.
    fn admin(config: &tokio_postgres::Config, sql: &str) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let (client, connection) = config
                .connect(tokio_postgres::NoTls)
                .await
                .expect("connect to WEIR_TEST_POSTGRES_URL");
            let connection = tokio::spawn(connection);
            client.batch_execute(sql).await.expect(sql);
            drop(client);
            let _ = connection.await;
        });
    }

    /// A store whose tables live in this schema.
    fn open(&self) -> crate::PostgresStore {
        let mut config = self.config.clone();
        config.options(format!("-c search_path={}", self.name));
        crate::PostgresStore::open_config(config).expect("open the PostgreSQL store")
    }
}

impl Drop for PostgresSchema {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            Self::admin(&self.config, &format!("DROP SCHEMA {} CASCADE", self.name));
        }
    }
}

#[test]
fn postgres_passes_the_conformance_suite() {
    let Some(schema) = PostgresSchema::create("conformance") else {
        return;
    };
    conformance_suite(&schema.open());
}

#[test]
fn postgres_writers_of_several_stores_on_one_database_check_then_act_exactly() {
    let Some(schema) = PostgresSchema::create("replicas") else {
        return;
    };
    let (first, second, third) = (schema.open(), schema.open(), schema.open());
    concurrent_writers_check_then_act_exactly(&[&first, &second, &third]);
}

#[test]
fn postgres_keeps_data_across_reopen() {
    let Some(schema) = PostgresSchema::create("reopen") else {
        return;
    };
    let s = scope("777777777777");
    schema
        .open()
        .write(|tx| tx.insert(&s, Kind::Workflow, &record("kept", "{}")))
        .expect("insert");
    let got = schema
        .open()
        .read(|tx| tx.get(&s, Kind::Workflow, "kept"))
        .expect("get");
    assert_eq!(got, Some(record("kept", "{}")));
}

#[test]
fn a_postgres_url_that_is_not_one_is_refused() {
    let refused = crate::PostgresStore::open("postgres://[not a host");
    assert!(matches!(refused, Err(StoreError::InvalidUrl(_))));
}

#[test]
fn postgres_notices_reach_every_listener_of_the_schema_only_once_committed() {
    let Some(schema) = PostgresSchema::create("notices") else {
        return;
    };
    let Some(other_schema) = PostgresSchema::create("notices_other") else {
        return;
    };
    let (listening, sending, elsewhere) = (schema.open(), schema.open(), other_schema.open());
    assert!(sending.shared());
    let (heard, hear) = std::sync::mpsc::channel();
    let forward = std::sync::Mutex::new(heard);
    let listens = listening
        .listen(Box::new(move |notice| {
            let _ = forward.lock().map(|sender| sender.send(notice));
        }))
        .expect("listen");
    assert!(listens);
    let deadline = std::time::Duration::from_secs(30);
    assert_eq!(hear.recv_timeout(deadline), Ok(Heard::Listening));
    let refused: Result<(), StoreError> = sending.write(|tx| {
        tx.notify("rolled back")?;
        Err(StoreError::Internal("the body failed".into()))
    });
    assert!(refused.is_err());
    elsewhere
        .write(|tx| tx.notify("another schema"))
        .expect("notify in another schema");
    sending
        .write(|tx| {
            tx.notify("first")?;
            tx.notify("second")
        })
        .expect("notify");
    assert_eq!(
        hear.recv_timeout(deadline),
        Ok(Heard::Message("first".into()))
    );
    assert_eq!(
        hear.recv_timeout(deadline),
        Ok(Heard::Message("second".into()))
    );
    // Nothing else arrived before them: the rolled-back notice and the other schema's
    // were never delivered (notices of one sender arrive in commit order).
    assert!(hear.try_recv().is_err());
}

#[test]
fn an_sqlite_store_is_not_shared_and_has_no_notices() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = crate::SqliteStore::open(dir.path()).expect("open");
    assert!(!store.shared());
    assert!(!store.listen(Box::new(|_| {})).expect("listen"));
    store
        .write(|tx| tx.notify("nobody to tell"))
        .expect("a notice on a store of one process is dropped");
}
