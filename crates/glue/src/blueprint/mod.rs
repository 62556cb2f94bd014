//! Blueprints (spec §9): registration of archives, parameter checking, the layout
//! generator run in Python, and the creation (and rollback) of the entities it lays out.
//!
//! # Where things live
//! - A registered blueprint is a [`Kind::Blueprint`] record holding a [`StoredBlueprint`]:
//!   the wire `Blueprint` as last changed by a request, the revision being registered,
//!   and the [`ActiveDefinition`] that runs use (the last archive that passed the checks).
//! - Registration copies the archive to `<data-dir>/blueprints/<account>/<region>/<name>/
//!   <revision>.zip`, where `<revision>` is random per CreateBlueprint/UpdateBlueprint, so
//!   later changes at `BlueprintLocation` change nothing. The copy is recorded relative to
//!   the data directory (which may be moved; see [`stored_location`] for the absolute
//!   paths earlier releases recorded); `BlueprintServiceLocation` answers its absolute
//!   path under the data directory the server runs on. Copies of earlier revisions stay
//!   until DeleteBlueprint removes the folder (a run may still be reading one).
//! - A blueprint run is a [`Kind::BlueprintRun`] record named `<blueprint>/<run id>` with
//!   parent = the blueprint, holding a [`StoredRun`]: the wire `BlueprintRun` plus every
//!   entity the run created so far (committed after each creation, for the rollback).
//!   Run ids are UUIDs. Its work folder is `<data-dir>/blueprint-runs/<run id>/` (the
//!   layout request and output, the generator's `stdout`/`stderr`; the extracted archive
//!   is removed when the run ends).
//!
//! # Decisions where AWS is silent
//! - Job and crawler names get the suffix `_<8 random lowercase hex digits>`, one suffix
//!   per run, chosen by the server (the library appends `_{suffix}`).
//! - Generated triggers carry no extra tag; the workflow's `BlueprintDetails` names the
//!   blueprint and run.
//! - `IncludeBlueprint` controls `BlueprintServiceLocation` (top level and in
//!   `LastActiveDefinition`); `IncludeParameterSpec` controls `ParameterSpec` likewise.
//! - `LastActiveDefinition` is shown while an update is in progress or after it failed,
//!   whenever an earlier archive passed the checks; runs use that definition meanwhile.
//! - The layout generator has [`LAYOUT_TIME_LIMIT`] to finish; then its process group is
//!   killed and the run fails.
//! - Work a stop interrupted ([`recovery`]): registrations are redone from
//!   `BlueprintLocation`; runs are rolled back and end FAILED.

pub mod entities;
pub mod recovery;
pub mod registration;
pub mod run;

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use weir_model::Timestamp;
use weir_model::shapes::{
    Blueprint, BlueprintDetails, BlueprintRun, BlueprintRunState, BlueprintStatus,
    LastActiveDefinition, WorkflowCreationStatus,
};
use weir_store::{Kind, Scope, Transaction};

use crate::app::App;
use weir_resources::ApiError;
use weir_resources::stored::{self, Document};

/// How long a layout generator may run before it is killed and the run fails.
pub const LAYOUT_TIME_LIMIT: Duration = Duration::from_secs(60);

/// The stored form of a blueprint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredBlueprint {
    /// The wire form, as the last request and registration left it.
    #[serde(rename = "Blueprint")]
    pub wire: Blueprint,
    /// The registration in progress or last finished; a finishing registration whose
    /// revision is no longer current changes nothing.
    #[serde(rename = "Revision")]
    pub revision: String,
    /// The definition runs use, if any archive passed the checks.
    #[serde(rename = "Active", default, skip_serializing_if = "Option::is_none")]
    pub active: Option<ActiveDefinition>,
}

/// A registered archive that passed the checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveDefinition {
    /// The blueprint's description when it was registered.
    #[serde(
        rename = "Description",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// When the registration was requested.
    #[serde(rename = "LastModifiedOn")]
    pub last_modified_on: Timestamp,
    /// The normalised parameter spec (spec §9.2).
    #[serde(rename = "ParameterSpec")]
    pub parameter_spec: String,
    /// Where the archive was published.
    #[serde(rename = "BlueprintLocation")]
    pub blueprint_location: String,
    /// The local copy Weir owns, relative to the data directory ([`stored_location`]).
    #[serde(rename = "BlueprintServiceLocation")]
    pub service_location: String,
    /// `layoutGenerator` of the archive.
    #[serde(rename = "LayoutGenerator")]
    pub layout_generator: String,
}

/// The kinds of entities a blueprint run creates, in creation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntityKind {
    /// The workflow.
    Workflow,
    /// A crawler.
    Crawler,
    /// A job.
    Job,
    /// A trigger.
    Trigger,
}

/// One entity a run created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Created {
    /// What it is.
    #[serde(rename = "Kind")]
    pub kind: EntityKind,
    /// Its name.
    #[serde(rename = "Name")]
    pub name: String,
}

/// The stored form of a blueprint run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredRun {
    /// The wire form.
    #[serde(rename = "Run")]
    pub wire: BlueprintRun,
    /// The entities created so far, in creation order.
    #[serde(rename = "Created", default)]
    pub created: Vec<Created>,
}

impl Document for StoredBlueprint {}

impl Document for StoredRun {}

/// `Workflow.CreationStatus` of a workflow with `details`: CREATING while the
/// blueprint run that made it is still creating its entities, CREATION_FAILED while
/// that run rolls back, CREATED otherwise (and for every workflow no blueprint made).
pub fn workflow_creation_status(
    tx: &mut dyn Transaction,
    scope: &Scope,
    details: Option<&BlueprintDetails>,
) -> Result<WorkflowCreationStatus, ApiError> {
    let Some((Some(blueprint), Some(run_id))) =
        details.map(|d| (d.blueprint_name.as_deref(), d.run_id.as_deref()))
    else {
        return Ok(WorkflowCreationStatus::Created);
    };
    let run =
        stored::load::<StoredRun>(tx, scope, Kind::BlueprintRun, &run_key(blueprint, run_id))?;
    Ok(creation_status_of(
        run.and_then(|r| r.value.wire.state).as_ref(),
    ))
}

/// The creation status of a blueprint-made workflow whose run is in `state`.
fn creation_status_of(state: Option<&BlueprintRunState>) -> WorkflowCreationStatus {
    match state {
        Some(BlueprintRunState::Running) => WorkflowCreationStatus::Creating,
        Some(BlueprintRunState::RollingBack | BlueprintRunState::Failed) => {
            WorkflowCreationStatus::CreationFailed
        }
        _ => WorkflowCreationStatus::Created,
    }
}

/// The record name of a blueprint run.
pub fn run_key(blueprint: &str, run_id: &str) -> String {
    format!("{blueprint}/{run_id}")
}

/// The EntityNotFoundException message for a missing blueprint.
pub fn not_found(name: &str) -> String {
    format!("Blueprint {name} does not exist.")
}

/// The folder, under the data directory, holding the archive copies of all blueprints.
const ARCHIVES_DIR: &str = "blueprints";

/// The folder holding the archive copies of blueprint `name` in `scope`.
pub fn blueprint_dir(app: &App, scope: &Scope, name: &str) -> PathBuf {
    data_dir(app).join(archive_dir(scope, name))
}

/// The location of the copy of revision `revision` of blueprint `name` in `scope`, as
/// stored: `blueprints/<account>/<region>/<name>/<revision>.zip`, relative to the data
/// directory.
pub fn archive_location(scope: &Scope, name: &str, revision: &str) -> String {
    format!("{}/{revision}.zip", archive_dir(scope, name))
}

fn archive_dir(scope: &Scope, name: &str) -> String {
    format!("{ARCHIVES_DIR}/{}/{}/{name}", scope.account, scope.region)
}

/// The stored form of an archive copy's location, from what a document holds.
///
/// Weir records an archive copy relative to the data directory
/// ([`archive_location`]), so a data directory can be moved (or restored elsewhere)
/// whole. Earlier releases recorded the copy's absolute path instead; such a path is
/// migrated when it is read: if it ends in the layout every copy is made in,
/// `blueprints/<account>/<region>/<name>/<revision>.zip` (five plain components, the
/// last ending in `.zip`), those five components are the relative location, which is
/// then found under the current data directory, whatever directory the path named
/// before. Any other absolute path was not made by a registration and is kept as it is.
/// A relative location is kept as it is.
pub fn stored_location(location: &str) -> String {
    let path = Path::new(location);
    if !path.is_absolute() {
        return location.to_string();
    }
    // The last five components, each a plain name.
    let mut parts = Vec::with_capacity(5);
    for component in path.components().rev().take(5) {
        match component {
            Component::Normal(part) => match part.to_str() {
                Some(part) => parts.push(part),
                None => return location.to_string(),
            },
            _ => return location.to_string(),
        }
    }
    parts.reverse();
    match parts.as_slice() {
        [dir, account, region, name, file] if *dir == ARCHIVES_DIR && file.ends_with(".zip") => {
            format!("{dir}/{account}/{region}/{name}/{file}")
        }
        _ => location.to_string(),
    }
}

/// The file of an archive copy recorded as `location` (relative to the data directory,
/// or an absolute path of an earlier release, see [`stored_location`]).
pub fn archive_path(app: &App, location: &str) -> PathBuf {
    data_dir(app).join(stored_location(location))
}

/// The work folder of a blueprint run.
pub fn run_dir(app: &App, run_id: &str) -> PathBuf {
    data_dir(app).join("blueprint-runs").join(run_id)
}

/// The data directory as an absolute path (service locations must not depend on the
/// server's working directory).
fn data_dir(app: &App) -> PathBuf {
    let dir = &app.settings().data_dir;
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone())
}

/// A resource's tags.
pub type Tags = BTreeMap<String, String>;

/// Reads a blueprint and its tags; archive locations come back in their stored form
/// (relative, [`stored_location`]), so the next save records them so.
pub fn load(
    tx: &mut dyn Transaction,
    scope: &Scope,
    name: &str,
) -> Result<Option<(StoredBlueprint, Tags)>, ApiError> {
    Ok(
        stored::load::<StoredBlueprint>(tx, scope, Kind::Blueprint, name)?.map(|s| {
            let mut blueprint = s.value;
            if let Some(location) = blueprint.wire.blueprint_service_location.as_mut() {
                *location = stored_location(location);
            }
            if let Some(active) = blueprint.active.as_mut() {
                active.service_location = stored_location(&active.service_location);
            }
            (blueprint, s.tags)
        }),
    )
}

/// Writes a blueprint (insert or replace) keeping `tags`.
pub fn save(
    tx: &mut dyn Transaction,
    scope: &Scope,
    blueprint: &StoredBlueprint,
    tags: Tags,
) -> Result<(), ApiError> {
    let name = blueprint.wire.name.clone().unwrap_or_default();
    let record = stored::record(&name, None, blueprint, tags)?;
    if !tx.update(scope, Kind::Blueprint, &record)? {
        tx.insert(scope, Kind::Blueprint, &record)?;
    }
    Ok(())
}

/// The wire form answered by GetBlueprint/BatchGetBlueprints; archive copies are
/// shown by their absolute path under the data directory the server runs on.
pub fn render(
    app: &App,
    stored: &StoredBlueprint,
    include_blueprint: bool,
    include_spec: bool,
) -> Blueprint {
    let shown = |location: &str| archive_path(app, location).display().to_string();
    let mut wire = stored.wire.clone();
    wire.blueprint_service_location = wire.blueprint_service_location.as_deref().map(shown);
    wire.last_active_definition = match &stored.active {
        Some(active)
            if matches!(
                wire.status,
                Some(BlueprintStatus::Updating | BlueprintStatus::Failed)
            ) =>
        {
            Some(LastActiveDefinition {
                description: active.description.clone(),
                last_modified_on: Some(active.last_modified_on),
                parameter_spec: Some(active.parameter_spec.clone()),
                blueprint_location: Some(active.blueprint_location.clone()),
                blueprint_service_location: Some(shown(&active.service_location)),
            })
        }
        _ => None,
    };
    if !include_spec {
        wire.parameter_spec = None;
        if let Some(last) = wire.last_active_definition.as_mut() {
            last.parameter_spec = None;
        }
    }
    if !include_blueprint {
        wire.blueprint_service_location = None;
        if let Some(last) = wire.last_active_definition.as_mut() {
            last.blueprint_service_location = None;
        }
    }
    wire
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workflow_is_creating_while_its_blueprint_run_creates_it() {
        use BlueprintRunState as S;
        use WorkflowCreationStatus as C;
        assert_eq!(creation_status_of(Some(&S::Running)), C::Creating);
        assert_eq!(creation_status_of(Some(&S::RollingBack)), C::CreationFailed);
        assert_eq!(creation_status_of(Some(&S::Succeeded)), C::Created);
        assert_eq!(creation_status_of(None), C::Created);
    }

    fn scope() -> Scope {
        Scope {
            account: "123456789012".into(),
            region: "us-east-1".into(),
        }
    }

    #[test]
    fn archive_copies_are_recorded_relative_to_the_data_directory() {
        let location = archive_location(&scope(), "bp", "0123abcd");
        assert_eq!(
            location,
            "blueprints/123456789012/us-east-1/bp/0123abcd.zip"
        );
        assert_eq!(stored_location(&location), location);
    }

    #[test]
    fn absolute_locations_of_earlier_releases_are_re_rooted() {
        let old = "/srv/old place/weir-data/blueprints/123456789012/us-east-1/bp/0123abcd.zip";
        assert_eq!(
            stored_location(old),
            "blueprints/123456789012/us-east-1/bp/0123abcd.zip"
        );
        assert_eq!(
            stored_location("/blueprints/111111111111/eu-west-1/a.b-c/r.zip"),
            "blueprints/111111111111/eu-west-1/a.b-c/r.zip"
        );
    }

    #[test]
    fn other_absolute_locations_are_kept() {
        for other in [
            "/srv/archives/bp.zip",
            "/srv/blueprints/123456789012/us-east-1/bp/r.tar",
            "/srv/blueprints/123456789012/us-east-1/bp/../r.zip",
            "/srv/stuff/123456789012/us-east-1/bp/r.zip",
            "/us-east-1/bp/r.zip",
            "/",
        ] {
            assert_eq!(stored_location(other), other);
        }
    }
}
