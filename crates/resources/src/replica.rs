//! The processes serving one store (replicas), the work each owns, and the notices
//! they send each other.
//!
//! Every process draws an epoch when it starts ([`epoch`]); the work it takes on —
//! workflow and job runs, crawls, blueprint work — records that epoch as its owner. A
//! replica holds a lease among the store's settings (`replica/<name>`: its epoch and
//! when the lease ends on the server's clock) and renews it well before it ends
//! ([`renew`]). Work whose owner holds no lease is orphaned ([`is_orphan`]): a replica
//! whose renewal ended leases takes it over. A replica that finds its lease held by
//! another epoch was declared dead, or another process took its name, and must stop
//! acting at once ([`Renewal::Fenced`]). On a store one process owns (SQLite) there are
//! no leases: this process's epoch is the only holder, so everything an earlier process
//! left is orphaned at start.
//!
//! Replicas reach each other with [`Notice`]s sent in the transaction that makes them
//! true ([`send`]): what changed in a run another replica owns, an attempt to stop, a
//! crawl to cancel.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use weir_store::{Setting, Transaction};

use crate::ApiError;
use crate::stored::{self, Document};

/// Settings keys of the leases: `replica/<name>`.
const LEASE_PREFIX: &str = "replica/";

static EPOCH: LazyLock<String> = LazyLock::new(|| crate::ids::random_id("p"));

/// This process's epoch: a random id drawn at start, recorded as the owner of the work
/// this process takes on.
pub fn epoch() -> &'static str {
    &EPOCH
}

/// A replica's lease as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Lease {
    /// The epoch of the process holding it.
    epoch: String,
    /// When it ends unless renewed (milliseconds on the server's clock).
    expires_ms: i64,
}

impl Document for Lease {}

fn leases(tx: &mut dyn Transaction) -> Result<BTreeMap<String, Lease>, ApiError> {
    let mut found = BTreeMap::new();
    for (key, setting) in tx.list_meta(LEASE_PREFIX)? {
        let lease: Lease = stored::decode_document(&key, setting.version, &setting.value)?;
        let name = key.strip_prefix(LEASE_PREFIX).unwrap_or(&key).to_string();
        found.insert(name, lease);
    }
    Ok(found)
}

/// The epochs that hold a lease, this process's included: work owned by any other is
/// orphaned.
pub fn holders(tx: &mut dyn Transaction) -> Result<BTreeSet<String>, ApiError> {
    let mut epochs: BTreeSet<String> = leases(tx)?.into_values().map(|l| l.epoch).collect();
    epochs.insert(epoch().to_string());
    Ok(epochs)
}

/// Whether work owned by `owner` (`None`: stored before owners were recorded) has no
/// live owner among `holders`.
pub fn is_orphan(owner: Option<&str>, holders: &BTreeSet<String>) -> bool {
    owner.is_none_or(|owner| !holders.contains(owner))
}

/// The outcome of [`renew`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Renewal {
    /// The lease is renewed; `ended` are the epochs whose leases ended now (their work
    /// is orphaned and must be taken over).
    Renewed {
        /// Epochs that lost their lease.
        ended: Vec<String>,
    },
    /// Another process holds this replica's lease (`by`, its epoch; `None` when the
    /// lease was ended as expired): this process must stop acting.
    Fenced {
        /// The epoch holding the lease now.
        by: Option<String>,
    },
}

/// How [`renew`] treats the leases it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// At start: take this name's lease whoever held it (a restart of the same replica
    /// takes over its previous process's work at once).
    Start,
    /// Later: renew only a lease this process still holds.
    Renew,
}

/// Renews (or, at start, takes) the lease of replica `name` until `now + lease_ms`, and
/// ends every other lease that expired before `now`.
pub fn renew(
    tx: &mut dyn Transaction,
    name: &str,
    take: Take,
    now: i64,
    lease_ms: i64,
) -> Result<Renewal, ApiError> {
    let found = leases(tx)?;
    let mut ended = Vec::new();
    match (take, found.get(name)) {
        (Take::Renew, None) => return Ok(Renewal::Fenced { by: None }),
        (Take::Renew, Some(own)) if own.epoch != epoch() => {
            return Ok(Renewal::Fenced {
                by: Some(own.epoch.clone()),
            });
        }
        (Take::Start, Some(previous)) if previous.epoch != epoch() => {
            ended.push(previous.epoch.clone());
        }
        _ => {}
    }
    for (held_by, lease) in found {
        if held_by != name && lease.expires_ms < now {
            tx.delete_meta(&format!("{LEASE_PREFIX}{held_by}"))?;
            ended.push(lease.epoch);
        }
    }
    let key = format!("{LEASE_PREFIX}{name}");
    let lease = Lease {
        epoch: epoch().to_string(),
        expires_ms: now.saturating_add(lease_ms),
    };
    let (value, version) = stored::encode_document(&key, &lease)?;
    tx.put_meta(&key, &Setting { value, version })?;
    Ok(Renewal::Renewed { ended })
}

/// Gives up replica `name`'s lease if this process holds it (a clean stop: the work it
/// leaves is orphaned at once instead of after the lease timeout).
pub fn release(tx: &mut dyn Transaction, name: &str) -> Result<(), ApiError> {
    let key = format!("{LEASE_PREFIX}{name}");
    if leases(tx)?.get(name).is_some_and(|l| l.epoch == epoch()) {
        tx.delete_meta(&key)?;
    }
    Ok(())
}

/// What one replica tells others through the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "notice", rename_all = "camelCase")]
pub enum Notice {
    /// A run the replica of epoch `to` owns changed elsewhere (stopped, say): its owner
    /// looks at it again and executes what it needs.
    #[serde(rename_all = "camelCase")]
    Run {
        /// The owner's epoch.
        to: String,
        /// The run's account.
        account: String,
        /// The run's region.
        region: String,
        /// The run's workflow (the reserved name of a direct job run).
        workflow: String,
        /// The run.
        run_id: String,
    },
    /// Stop attempt `job_run_id` of a run the replica of epoch `to` owns.
    #[serde(rename_all = "camelCase")]
    StopAttempt {
        /// The owner's epoch.
        to: String,
        /// The run's account.
        account: String,
        /// The run's region.
        region: String,
        /// The run's workflow.
        workflow: String,
        /// The run.
        run_id: String,
        /// The attempt.
        job_run_id: String,
    },
    /// Cancel crawl `crawl_id`, wherever it runs.
    #[serde(rename_all = "camelCase")]
    CancelCrawl {
        /// The crawl.
        crawl_id: String,
    },
}

impl Notice {
    /// Whether this process should act on it: it is addressed to this process's epoch,
    /// or to every replica.
    pub fn is_for_me(&self) -> bool {
        match self {
            Notice::Run { to, .. } | Notice::StopAttempt { to, .. } => to == epoch(),
            Notice::CancelCrawl { .. } => true,
        }
    }

    /// Decodes a message of the store's notices; `None` for one this build does not
    /// know (sent by a newer replica).
    pub fn parse(message: &str) -> Option<Self> {
        serde_json::from_str(message).ok()
    }
}

/// Sends `notice` to the other replicas once `tx` commits.
pub fn send(tx: &mut dyn Transaction, notice: &Notice) -> Result<(), ApiError> {
    let message = serde_json::to_string(notice)
        .map_err(|e| ApiError::Internal(format!("could not encode a notice: {e}")))?;
    Ok(tx.notify(&message)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_store::{SqliteStore, StoreExt};

    fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path()).expect("open");
        (dir, store)
    }

    fn put_lease(store: &SqliteStore, name: &str, epoch: &str, expires_ms: i64) {
        store
            .write(|tx| {
                let key = format!("{LEASE_PREFIX}{name}");
                let lease = Lease {
                    epoch: epoch.into(),
                    expires_ms,
                };
                let (value, version) = stored::encode_document(&key, &lease)?;
                tx.put_meta(&key, &Setting { value, version })?;
                Ok::<_, ApiError>(())
            })
            .expect("put lease");
    }

    fn renew_at(store: &SqliteStore, name: &str, take: Take, now: i64) -> Renewal {
        store
            .write(|tx| renew(tx, name, take, now, 1_000))
            .expect("renew")
    }

    #[test]
    fn expired_leases_end_and_their_work_is_orphaned() {
        let (_dir, store) = store();
        put_lease(&store, "b", "epoch-b", 5_000);
        put_lease(&store, "c", "epoch-c", 10_000);
        assert_eq!(
            renew_at(&store, "a", Take::Start, 4_000),
            Renewal::Renewed { ended: vec![] }
        );
        let holders = store.read(super::holders).expect("holders");
        assert!(!is_orphan(Some("epoch-b"), &holders));
        assert!(is_orphan(None, &holders));
        assert!(is_orphan(Some("gone"), &holders));
        // b's lease ended at 5,000; c's is still held.
        assert_eq!(
            renew_at(&store, "a", Take::Renew, 6_000),
            Renewal::Renewed {
                ended: vec!["epoch-b".into()]
            }
        );
        let holders = store.read(super::holders).expect("holders");
        assert!(is_orphan(Some("epoch-b"), &holders));
        assert!(!is_orphan(Some("epoch-c"), &holders));
        assert!(!is_orphan(Some(epoch()), &holders));
    }

    #[test]
    fn a_replica_whose_lease_another_process_holds_is_fenced() {
        let (_dir, store) = store();
        assert!(matches!(
            renew_at(&store, "a", Take::Start, 0),
            Renewal::Renewed { .. }
        ));
        // Another process started under the same name and took the lease.
        put_lease(&store, "a", "newer", 5_000);
        assert_eq!(
            renew_at(&store, "a", Take::Renew, 100),
            Renewal::Fenced {
                by: Some("newer".into())
            }
        );
        // Another replica ended the lease as expired.
        store
            .write(|tx| tx.delete_meta("replica/a"))
            .expect("delete");
        assert_eq!(
            renew_at(&store, "a", Take::Renew, 100),
            Renewal::Fenced { by: None }
        );
    }

    #[test]
    fn a_restart_takes_its_own_name_at_once_and_a_release_ends_the_lease() {
        let (_dir, store) = store();
        put_lease(&store, "a", "previous", 50_000);
        put_lease(&store, "b", "epoch-b", 50_000);
        assert_eq!(
            renew_at(&store, "a", Take::Start, 0),
            Renewal::Renewed {
                ended: vec!["previous".into()]
            }
        );
        let held = store.read(holders).expect("holders");
        assert!(is_orphan(Some("previous"), &held));
        assert!(!is_orphan(Some("epoch-b"), &held));
        store.write(|tx| release(tx, "a")).expect("release");
        store
            .write(|tx| release(tx, "b"))
            .expect("not ours to release");
        let held = store.read(holders).expect("holders");
        assert_eq!(held.len(), 2, "b's lease and this process: {held:?}");
    }

    #[test]
    fn notices_travel_as_json_and_are_addressed() {
        let notice = Notice::StopAttempt {
            to: epoch().into(),
            account: "1".into(),
            region: "r".into(),
            workflow: "w".into(),
            run_id: "wr_1".into(),
            job_run_id: "jr_1".into(),
        };
        let text = serde_json::to_string(&notice).expect("encode");
        assert_eq!(Notice::parse(&text), Some(notice.clone()));
        assert!(notice.is_for_me());
        let elsewhere = Notice::Run {
            to: "other".into(),
            account: "1".into(),
            region: "r".into(),
            workflow: "w".into(),
            run_id: "wr_1".into(),
        };
        assert!(!elsewhere.is_for_me());
        assert_eq!(Notice::parse("{\"notice\":\"fromTheFuture\"}"), None);
    }
}
