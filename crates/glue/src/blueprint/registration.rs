//! Registration of a blueprint archive (spec §9.3), run after CreateBlueprint or
//! UpdateBlueprint answered: copy the published archive to a location Weir owns, check
//! it ([`weir_blueprint::archive`]), then set the blueprint ACTIVE or FAILED.
//!
//! A registration only finishes the revision it was started for: when the blueprint
//! was deleted or registered again meanwhile, its result is dropped (and its copy
//! removed).

use std::io::Read;
use std::path::Path;

use weir_store::Scope;

use super::recovery::{self, Pending};
use super::{ActiveDefinition, StoredBlueprint, archive_location, archive_path, load, save};
use crate::app::App;
use weir_blueprint::archive::{self, MAX_COMPRESSED_BYTES};
use weir_model::shapes::BlueprintStatus;
use weir_resources::ApiError;
use weir_runner::locations;

/// What the checks found in a good archive.
struct Registered {
    /// Where the copy is, as stored (relative to the data directory).
    service_location: String,
    parameter_spec: String,
    layout_generator: String,
}

/// Copies and checks revision `revision` of blueprint `name`, then records the result.
pub async fn register(app: App, scope: Scope, name: String, revision: String, location: String) {
    let stored = archive_location(&scope, &name, &revision);
    let copy = archive_path(&app, &stored);
    let s3_dir = app.settings().s3_dir.clone();
    let target = copy.clone();
    let outcome =
        tokio::task::spawn_blocking(move || copy_and_check(&location, &s3_dir, &target, stored))
            .await
            .unwrap_or_else(|e| Err(format!("The registration task failed: {e}")));
    if outcome.is_err() {
        let _ = std::fs::remove_file(&copy);
    }
    let result = finish(&app, scope, name.clone(), revision, outcome).await;
    match result {
        Ok(true) => {}
        Ok(false) => {
            // Deleted or registered again meanwhile: this copy is nobody's.
            let _ = std::fs::remove_file(&copy);
        }
        Err(error) => tracing::error!(%error, blueprint = %name, "could not record a registration"),
    }
}

/// Copies the archive at `location` to `target` (the file of the stored location
/// `stored`) and checks it.
fn copy_and_check(
    location: &str,
    s3_dir: &Path,
    target: &Path,
    stored: String,
) -> Result<Registered, String> {
    let unable = |detail: &str| format!("Unable to access object at location {location}: {detail}");
    let source = locations::resolve(location, s3_dir).map_err(|e| unable(&e))?;
    let file = std::fs::File::open(&source).map_err(|e| unable(&e.to_string()))?;
    let metadata = file.metadata().map_err(|e| unable(&e.to_string()))?;
    if !metadata.is_file() {
        return Err(unable("not a file"));
    }
    if metadata.len() > MAX_COMPRESSED_BYTES {
        return Err(format!(
            "The blueprint archive at {location} is {} bytes; archives may be at most 1 MB \
             ({MAX_COMPRESSED_BYTES} bytes).",
            metadata.len()
        ));
    }
    copy_limited(file, target).map_err(|e| format!("Could not copy the archive: {e}"))?;
    let checked = archive::check(target, None)?;
    Ok(Registered {
        service_location: stored,
        parameter_spec: checked.parameter_spec.normalized_json(),
        layout_generator: checked.layout_generator,
    })
}

/// Copies at most [`MAX_COMPRESSED_BYTES`] + 1 bytes (the check then rejects a file
/// that grew between the size check and the copy).
fn copy_limited(source: std::fs::File, target: &Path) -> std::io::Result<()> {
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut output = std::fs::File::create(target)?;
    std::io::copy(&mut source.take(MAX_COMPRESSED_BYTES + 1), &mut output)?;
    output.sync_all()
}

/// Records the outcome; `false` when the revision is no longer current.
async fn finish(
    app: &App,
    scope: Scope,
    name: String,
    revision: String,
    outcome: Result<Registered, String>,
) -> Result<bool, ApiError> {
    app.write(move |tx| {
        let pending = Pending::registration(&scope, &name);
        let Some((mut blueprint, tags)) = load(tx, &scope, &name)? else {
            recovery::unmark(tx, &pending)?;
            return Ok(false);
        };
        if blueprint.revision != revision {
            // A newer registration is under way and still pending.
            return Ok(false);
        }
        apply(&mut blueprint, outcome);
        save(tx, &scope, &blueprint, tags)?;
        recovery::unmark(tx, &pending)?;
        Ok(true)
    })
    .await
}

fn apply(blueprint: &mut StoredBlueprint, outcome: Result<Registered, String>) {
    let wire = &mut blueprint.wire;
    match outcome {
        Ok(registered) => {
            wire.status = Some(BlueprintStatus::Active);
            wire.error_message = None;
            wire.parameter_spec = Some(registered.parameter_spec.clone());
            wire.blueprint_service_location = Some(registered.service_location.clone());
            blueprint.active = Some(ActiveDefinition {
                description: wire.description.clone(),
                last_modified_on: wire.last_modified_on.unwrap_or_default(),
                parameter_spec: registered.parameter_spec,
                blueprint_location: wire.blueprint_location.clone().unwrap_or_default(),
                service_location: registered.service_location,
                layout_generator: registered.layout_generator,
            });
        }
        Err(message) => {
            wire.status = Some(BlueprintStatus::Failed);
            wire.error_message = Some(message);
            wire.parameter_spec = None;
            wire.blueprint_service_location = None;
        }
    }
}
