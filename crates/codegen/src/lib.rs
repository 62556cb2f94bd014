//! Code generator for the `weir-model` crate.
//!
//! Reads the vendored botocore Glue model
//! (`crates/model/botocore/glue-2017-03-31.service-2.json.gz`) and produces
//! the checked-in generated sources of `crates/model`:
//!
//! * `src/shapes.rs` — one struct per structure shape reachable from the
//!   [`SERVED_OPERATIONS`], with serde attributes and generated
//!   `Validate` impls, and one enum per enum shape among them (a variant per
//!   model value, named by `text::variant_ident`, plus `Unknown(String)`);
//! * `src/operations.rs` — operation names, the `Operation` trait impls and the
//!   `with_served_operations!` macro, from which the server writes its dispatch;
//! * `src/schema.rs` — the input shapes of the served operations as data
//!   (members, types, constraints), from which the edge fuzzer builds bodies.
//!
//! Run `cargo run -p weir-codegen` to regenerate; the test in
//! `crates/codegen/tests/` fails when the checked-in files are stale.
//!
//! Depends on no Weir crate (it writes one); nothing depends on it.

mod model;
mod schema;
mod shapes;
mod text;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

pub use model::Model;

/// Operations Weir serves, grouped by area. This is the single source of the
/// list: `weir_model::operations::SERVED_OPERATIONS`, the
/// `weir_model::with_served_operations!` macro (the server's dispatch) and
/// `weir_model::schema::INPUTS` (the fuzzer) are generated from it.
pub const SERVED_OPERATIONS: &[&str] = &[
    // Workflows
    "CreateWorkflow",
    "UpdateWorkflow",
    "DeleteWorkflow",
    "GetWorkflow",
    "ListWorkflows",
    "BatchGetWorkflows",
    "StartWorkflowRun",
    "StopWorkflowRun",
    "ResumeWorkflowRun",
    "GetWorkflowRun",
    "GetWorkflowRuns",
    "GetWorkflowRunProperties",
    "PutWorkflowRunProperties",
    // Blueprints
    "CreateBlueprint",
    "UpdateBlueprint",
    "DeleteBlueprint",
    "GetBlueprint",
    "ListBlueprints",
    "BatchGetBlueprints",
    "StartBlueprintRun",
    "GetBlueprintRun",
    "GetBlueprintRuns",
    // Triggers
    "CreateTrigger",
    "UpdateTrigger",
    "DeleteTrigger",
    "GetTrigger",
    "GetTriggers",
    "ListTriggers",
    "BatchGetTriggers",
    "StartTrigger",
    "StopTrigger",
    // Jobs
    "CreateJob",
    "UpdateJob",
    "DeleteJob",
    "GetJob",
    "GetJobs",
    "ListJobs",
    "BatchGetJobs",
    "StartJobRun",
    "GetJobRun",
    "GetJobRuns",
    "BatchStopJobRun",
    "GetJobBookmark",
    "ResetJobBookmark",
    // Crawlers
    "CreateCrawler",
    "UpdateCrawler",
    "DeleteCrawler",
    "GetCrawler",
    "GetCrawlers",
    "ListCrawlers",
    "BatchGetCrawlers",
    "StartCrawler",
    "StopCrawler",
    "ListCrawls",
    "GetCrawlerMetrics",
    // Catalog
    "CreateDatabase",
    "UpdateDatabase",
    "DeleteDatabase",
    "GetDatabase",
    "GetDatabases",
    "CreateTable",
    "UpdateTable",
    "DeleteTable",
    "GetTable",
    "GetTables",
    "BatchDeleteTable",
    "GetPartitions",
    "GetPartition",
    "CreatePartition",
    "BatchCreatePartition",
    // Connections
    "CreateConnection",
    "GetConnection",
    "GetConnections",
    "UpdateConnection",
    "DeleteConnection",
    "BatchDeleteConnection",
    // Tags
    "TagResource",
    "UntagResource",
    "GetTags",
];

/// Structure members that are generated as `serde_json::Value`: stored and
/// echoed verbatim, neither typed nor validated.
///
/// `CodeGenConfigurationNodes` (the visual-editor DAG of a job) pulls in
/// 116 structure shapes (every visual transform/source/sink node) that Weir
/// never interprets; making it opaque shrinks the closure from 351 to 235
/// structures. No other subtree needed to be opaque: the rest of the closure
/// is moderate and all its patterns translate to the `regex` crate.
pub const OPAQUE_MEMBERS: &[(&str, &str)] = &[
    ("CreateJobRequest", "CodeGenConfigurationNodes"),
    ("Job", "CodeGenConfigurationNodes"),
    ("JobUpdate", "CodeGenConfigurationNodes"),
];

/// Members AWS documents and returns that the vendored botocore model lacks, added to
/// the model before generation: (structure, member, enum shape of the member, its
/// values, documentation). `Workflow.CreationStatus` is in the Glue API reference
/// ("The creation status of the workflow") but in no botocore release Weir vendors.
pub const DOCUMENTED_MEMBERS: &[(&str, &str, &str, &[&str], &str)] = &[(
    "Workflow",
    "CreationStatus",
    "WorkflowCreationStatus",
    &["CREATING", "CREATED", "CREATION_FAILED"],
    "<p>The creation status of the workflow.</p>",
)];

/// Path of the vendored botocore model, relative to `crates/model`.
pub const MODEL_PATH: &str = "botocore/glue-2017-03-31.service-2.json.gz";

/// Botocore release the vendored model comes from.
pub const BOTOCORE_VERSION: &str = "1.44.8";

/// `crates/model` in this checkout.
pub fn model_crate_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../model")
}

/// Reads and decompresses the vendored model.
pub fn read_vendored_model() -> Result<String> {
    let path = model_crate_dir().join(MODEL_PATH);
    let file = std::fs::File::open(&path).with_context(|| format!("opening {}", path.display()))?;
    let mut json = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut json)
        .with_context(|| format!("decompressing {}", path.display()))?;
    Ok(json)
}

/// Generates the files of `crates/model` (paths relative to that crate) from
/// the botocore model JSON text.
pub fn generate(model_json: &str) -> Result<Vec<(PathBuf, String)>> {
    let mut model: Model = serde_json::from_str(model_json).context("parsing botocore model")?;
    add_documented_members(&mut model)?;
    for op in SERVED_OPERATIONS {
        if model.operations.get(op).is_none() {
            bail!("served operation {op} is not in the model");
        }
    }
    let shapes_rs = shapes::generate_shapes(&model)?;
    let operations_rs = generate_operations(&model)?;
    let schema_rs = schema::generate_schema(&model)?;
    Ok(vec![
        (PathBuf::from("src/shapes.rs"), rustfmt(&shapes_rs)?),
        (PathBuf::from("src/operations.rs"), rustfmt(&operations_rs)?),
        (PathBuf::from("src/schema.rs"), rustfmt(&schema_rs)?),
    ])
}

/// Adds [`DOCUMENTED_MEMBERS`] to the model (each with a new enum shape, appended in
/// the model's order).
fn add_documented_members(model: &mut Model) -> Result<()> {
    for (structure, member, shape, values, doc) in DOCUMENTED_MEMBERS {
        if model.shapes.get(shape).is_some() {
            bail!("shape {shape} is already in the model");
        }
        let enum_shape: model::Shape =
            serde_json::from_value(serde_json::json!({"type": "string", "enum": values}))?;
        model.shapes.0.push(((*shape).to_string(), enum_shape));
        let target = model
            .shapes
            .0
            .iter_mut()
            .find(|(name, _)| name == structure)
            .with_context(|| format!("structure {structure} is not in the model"))?;
        if target.1.members.get(member).is_some() {
            bail!("{structure}.{member} is already in the model: remove it from the list");
        }
        let reference: model::ShapeRef =
            serde_json::from_value(serde_json::json!({"shape": shape, "documentation": doc}))?;
        target.1.members.0.push(((*member).to_string(), reference));
    }
    Ok(())
}

/// Formats `code` with `rustfmt --edition 2024` (the same formatter
/// `cargo fmt` uses), so the checked-in files are stable under `cargo fmt`.
fn rustfmt(code: &str) -> Result<String> {
    let mut child = Command::new(std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".into()))
        .args(["--edition", "2024", "--emit", "stdout"])
        .current_dir(model_crate_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running rustfmt (is it installed? `rustup component add rustfmt`)")?;
    let mut stdin = child.stdin.take().context("rustfmt stdin")?;
    let input = code.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().context("waiting for rustfmt")?;
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("rustfmt writer panicked"))?
        .context("writing to rustfmt")?;
    if !out.status.success() {
        bail!("rustfmt failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    String::from_utf8(out.stdout).context("rustfmt output is not UTF-8")
}

fn generate_operations(model: &Model) -> Result<String> {
    let mut out = String::new();
    out.push_str(&format!(
        "//! Glue operations: names and the [`Operation`] trait.\n\
         //!\n\
         //! GENERATED by `weir-codegen` from botocore {BOTOCORE_VERSION} \
         `glue-2017-03-31` — do not edit; regenerate with `cargo run -p weir-codegen`.\n\
         //!\n\
         //! [`ALL_OPERATIONS`] lists every operation of the Glue model (to tell an\n\
         //! unknown operation from one Weir does not implement); [`SERVED_OPERATIONS`]\n\
         //! lists the ones Weir serves, each with a unit struct implementing\n\
         //! [`Operation`]; [`with_served_operations!`](crate::with_served_operations)\n\
         //! hands the same list to a macro, so that dispatch tables are written from it.\n\n"
    ));
    out.push_str("use crate::shapes;\n\n");
    let all: BTreeSet<&str> = model.operations.iter().map(|(k, _)| k.as_str()).collect();
    out.push_str("/// Every operation name in the Glue model, sorted.\n");
    out.push_str("pub const ALL_OPERATIONS: &[&str] = &[\n");
    for op in &all {
        out.push_str(&format!("    {op:?},\n"));
    }
    out.push_str("];\n\n");
    out.push_str("/// The operations Weir serves (each has a unit struct in this module).\n");
    out.push_str("pub const SERVED_OPERATIONS: &[&str] = &[\n");
    for op in SERVED_OPERATIONS {
        out.push_str(&format!("    {op:?},\n"));
    }
    out.push_str("];\n\n");
    out.push_str(
        "/// Invokes `$callback! { CreateWorkflow, UpdateWorkflow, … }` with every served\n\
         /// operation (the unit structs of [`operations`](crate::operations), in the order\n\
         /// of [`SERVED_OPERATIONS`]), so that a dispatch table is written from this one list.\n\
         #[macro_export]\n\
         macro_rules! with_served_operations {\n\
         \x20   ($callback:ident) => {\n\
         \x20       $callback! {\n",
    );
    for op in SERVED_OPERATIONS {
        out.push_str(&format!("            {op},\n"));
    }
    out.push_str("        }\n    };\n}\n\n");
    out.push_str(
        "/// A served Glue operation: its wire name and input/output shapes.\n\
         pub trait Operation {\n\
         /// The operation name as sent in `X-Amz-Target: AWSGlue.<NAME>`.\n\
         const NAME: &'static str;\n\
         /// The request shape (missing members deserialise as `None`; run [`crate::validate()`] on it).\n\
         type Input: serde::de::DeserializeOwned + crate::Validate + Default;\n\
         /// The response shape.\n\
         type Output: serde::Serialize;\n\
         }\n\n",
    );
    let mut seen = BTreeMap::new();
    for op in SERVED_OPERATIONS {
        if seen.insert(*op, ()).is_some() {
            bail!("{op} listed twice in SERVED_OPERATIONS");
        }
        let def = model.operations.get(op).expect("checked above");
        let input = def
            .input
            .as_ref()
            .map(|r| r.shape.clone())
            .unwrap_or_else(|| shapes::EMPTY_STRUCT.to_owned());
        let output = def
            .output
            .as_ref()
            .map(|r| r.shape.clone())
            .unwrap_or_else(|| shapes::EMPTY_STRUCT.to_owned());
        let doc = text::first_sentence(def.documentation.as_deref())
            .unwrap_or_else(|| format!("The {op} operation."));
        out.push_str(&format!(
            "/// `{op}`: {doc}\n\
             #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]\n\
             pub struct {op};\n\n\
             impl Operation for {op} {{\n\
             const NAME: &'static str = {op:?};\n\
             type Input = shapes::{input};\n\
             type Output = shapes::{output};\n\
             }}\n\n"
        ));
    }
    Ok(out)
}
