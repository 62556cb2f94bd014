//! Blueprint work interrupted by a stop or crash of the server.
//!
//! Every registration in progress (CREATING/UPDATING) and every run in progress
//! (RUNNING/ROLLING_BACK) is listed in one server-wide setting, written in the same
//! transaction as the state it belongs to, so a restarted server finds it whatever the
//! account and region. Each entry names the epoch of the process doing the work; the
//! work of a process that holds no replica lease (an earlier process of this server, a
//! replica that died) is taken over by [`recover`]: it registers such blueprints again
//! from their `BlueprintLocation`, and fails such runs: what the run had recorded as
//! created is deleted (as in any rollback) and the run ends FAILED.

use serde::{Deserialize, Serialize};
use weir_model::shapes::{BlueprintRunState, BlueprintStatus};
use weir_store::{Kind, Scope, Setting, Transaction};

use super::{StoredRun, registration, run, run_key};
use crate::app::App;
use weir_resources::ApiError;
use weir_resources::replica;
use weir_resources::stored::{self, Document};

/// The setting holding the list of pending blueprint work.
const PENDING_KEY: &str = "blueprint-pending";

/// One registration (`run_id` none) or run in progress; two entries are the same work
/// whichever process does it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    /// Account of the blueprint.
    pub account: String,
    /// Region of the blueprint.
    pub region: String,
    /// The blueprint.
    pub blueprint: String,
    /// The run, for a run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// The epoch of the process doing it ([`replica::epoch`]; none in entries written
    /// before replicas, which any process takes over).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<String>,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (&self.account, &self.region, &self.blueprint, &self.run_id)
            == (
                &other.account,
                &other.region,
                &other.blueprint,
                &other.run_id,
            )
    }
}

impl Eq for Pending {}

impl Pending {
    /// The registration of `blueprint` in `scope`.
    pub fn registration(scope: &Scope, blueprint: &str) -> Self {
        Self {
            account: scope.account.clone(),
            region: scope.region.clone(),
            blueprint: blueprint.to_string(),
            run_id: None,
            epoch: Some(replica::epoch().to_string()),
        }
    }

    /// Run `run_id` of `blueprint` in `scope`.
    pub fn run(scope: &Scope, blueprint: &str, run_id: &str) -> Self {
        Self {
            run_id: Some(run_id.to_string()),
            ..Self::registration(scope, blueprint)
        }
    }

    fn scope(&self) -> Scope {
        Scope {
            account: self.account.clone(),
            region: self.region.clone(),
        }
    }
}

/// The stored list of pending work, a server-wide setting.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(transparent)]
struct PendingWork(Vec<Pending>);

impl Document for PendingWork {}

fn read(tx: &mut dyn Transaction) -> Result<Vec<Pending>, ApiError> {
    let Some(setting) = tx.get_meta(PENDING_KEY)? else {
        return Ok(Vec::new());
    };
    let work: PendingWork = stored::decode_document(PENDING_KEY, setting.version, &setting.value)?;
    Ok(work.0)
}

fn write(tx: &mut dyn Transaction, pending: &[Pending]) -> Result<(), ApiError> {
    let (value, version) = stored::encode_document(PENDING_KEY, &PendingWork(pending.to_vec()))?;
    Ok(tx.put_meta(PENDING_KEY, &Setting { value, version })?)
}

/// Lists `entry` as in progress (inside the caller's transaction).
pub fn mark(tx: &mut dyn Transaction, entry: Pending) -> Result<(), ApiError> {
    let mut pending = read(tx)?;
    if !pending.contains(&entry) {
        pending.push(entry);
        write(tx, &pending)?;
    }
    Ok(())
}

/// Removes `entry` from the work in progress (inside the caller's transaction).
pub fn unmark(tx: &mut dyn Transaction, entry: &Pending) -> Result<(), ApiError> {
    let mut pending = read(tx)?;
    let before = pending.len();
    pending.retain(|p| p != entry);
    if pending.len() != before {
        write(tx, &pending)?;
    }
    Ok(())
}

/// Takes over the work of processes that hold no replica lease: resumes their
/// registrations and fails their runs (after rolling back what they created). Call at
/// start-up, before serving, and whenever leases ended. Returns how many entries were
/// taken over.
pub async fn recover(app: &App) -> Result<usize, ApiError> {
    let pending = app
        .write(|tx| {
            let holders = replica::holders(tx)?;
            let mut all = read(tx)?;
            let mut orphaned = Vec::new();
            for entry in &mut all {
                if replica::is_orphan(entry.epoch.as_deref(), &holders) {
                    entry.epoch = Some(replica::epoch().to_string());
                    orphaned.push(entry.clone());
                }
            }
            if !orphaned.is_empty() {
                write(tx, &all)?;
            }
            Ok(orphaned)
        })
        .await?;
    let count = pending.len();
    for entry in pending {
        let scope = entry.scope();
        match entry.run_id.clone() {
            None => resume_registration(app, scope, entry).await?,
            Some(run_id) => fail_run(app, scope, entry, run_id).await?,
        }
    }
    Ok(count)
}

async fn resume_registration(app: &App, scope: Scope, entry: Pending) -> Result<(), ApiError> {
    let (tx_scope, name) = (scope.clone(), entry.blueprint.clone());
    let current = app
        .write(move |tx| {
            let current = super::load(tx, &tx_scope, &name)?.map(|(b, _)| b);
            let busy = current.as_ref().is_some_and(|b| {
                matches!(
                    b.wire.status,
                    Some(BlueprintStatus::Creating | BlueprintStatus::Updating)
                )
            });
            if !busy {
                unmark(tx, &entry)?;
                return Ok(None);
            }
            Ok(current)
        })
        .await?;
    if let Some(blueprint) = current {
        let location = blueprint
            .wire
            .blueprint_location
            .clone()
            .unwrap_or_default();
        let name = blueprint.wire.name.clone().unwrap_or_default();
        tracing::info!(blueprint = %name, "registering an interrupted blueprint again");
        tokio::spawn(registration::register(
            app.clone(),
            scope,
            name,
            blueprint.revision,
            location,
        ));
    }
    Ok(())
}

async fn fail_run(app: &App, scope: Scope, entry: Pending, run_id: String) -> Result<(), ApiError> {
    let (tx_scope, key) = (scope.clone(), run_key(&entry.blueprint, &run_id));
    let stored = app
        .read(move |tx| {
            Ok(
                stored::load::<StoredRun>(tx, &tx_scope, Kind::BlueprintRun, &key)?
                    .map(|s| s.value),
            )
        })
        .await?;
    let interrupted = stored.filter(|run| {
        matches!(
            run.wire.state,
            Some(BlueprintRunState::Running | BlueprintRunState::RollingBack)
        )
    });
    let Some(interrupted) = interrupted else {
        return app.write(move |tx| unmark(tx, &entry)).await;
    };
    tracing::info!(run = %run_id, "rolling back a blueprint run interrupted by a restart");
    let message = interrupted.wire.error_message.clone().unwrap_or_else(|| {
        "Weir stopped while this blueprint run was in progress; what it had created was \
         removed."
            .into()
    });
    run::roll_back_and_fail(
        app,
        &scope,
        &entry.blueprint,
        &run_id,
        message,
        interrupted.created,
    )
    .await
}
