//! Pages of what crawls and blueprints made: a crawler's crawl history, the catalog's
//! databases, their tables and a table's columns and partitions, the blueprints and
//! their runs. Read through the Glue operation handlers, as every page is.

use std::fmt::Write as _;

use weir_glue::App;
use weir_model::operations as ops;
use weir_model::shapes::{self, Column};

use super::access::Viewer;
use super::actions::call;
use super::html::{self, escape, link, segment, time};
use weir_resources::ApiError;

/// Most partitions a table page lists.
const PARTITIONS_SHOWN: i32 = 200;

fn crumbs(section: (&str, &str), rest: &[(String, String)]) -> Vec<(String, String)> {
    let mut out = vec![
        ("/console".to_string(), "Workflows".to_string()),
        (section.0.to_string(), section.1.to_string()),
    ];
    out.extend_from_slice(rest);
    out
}

fn columns_table(body: &mut String, class: &str, columns: &[Column]) {
    let _ = write!(
        body,
        "<table class=\"{class}\"><tr><th>Column</th><th>Type</th><th>Comment</th></tr>"
    );
    for column in columns {
        let _ = write!(
            body,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            escape(column.name.as_deref().unwrap_or_default()),
            escape(column.r#type.as_deref().unwrap_or_default()),
            escape(column.comment.as_deref().unwrap_or_default()),
        );
    }
    body.push_str("</table>\n");
}

/// `/console/crawlers/{name}`: a crawler's targets and its crawls, newest first, with
/// what each changed in the catalog.
pub(super) async fn crawler(app: &App, viewer: &Viewer, name: String) -> Result<String, ApiError> {
    let crawler = call::<ops::GetCrawler>(
        app,
        &viewer.scope,
        shapes::GetCrawlerRequest {
            name: Some(name.clone()),
        },
    )
    .await?
    .crawler
    .unwrap_or_default();
    let crawls = call::<ops::ListCrawls>(
        app,
        &viewer.scope,
        shapes::ListCrawlsRequest {
            crawler_name: Some(name.clone()),
            max_results: Some(100),
            ..Default::default()
        },
    )
    .await?
    .crawls
    .unwrap_or_default();
    let mut body = String::from("<table class=\"facts\">");
    let database = crawler.database_name.clone().unwrap_or_default();
    let _ = write!(
        body,
        "<tr><th>State</th><td>{}</td></tr><tr><th>Database</th><td>{}</td></tr>",
        escape(crawler.state.as_ref().map_or("", |s| s.as_str())),
        link(
            &format!("/console/databases/{}", segment(&database)),
            &database
        ),
    );
    for target in crawler
        .targets
        .as_ref()
        .and_then(|t| t.s3_targets.as_ref())
        .into_iter()
        .flatten()
    {
        let _ = write!(
            body,
            "<tr><th>S3 target</th><td><code>{}</code></td></tr>",
            escape(target.path.as_deref().unwrap_or_default())
        );
    }
    body.push_str("</table>\n<h2>Crawls</h2>\n");
    if crawls.is_empty() {
        body.push_str("<p class=\"muted\">No crawls yet.</p>");
    } else {
        body.push_str(
            "<table class=\"crawls\"><tr><th>Crawl</th><th>State</th><th>Started</th>\
             <th>Ended</th><th>Summary</th><th>Error</th></tr>",
        );
        for crawl in &crawls {
            let _ = write!(
                body,
                "<tr><td><code>{}</code></td><td class=\"state\">{}</td><td>{}</td><td>{}</td>\
                 <td class=\"msg\">{}</td><td class=\"msg\">{}</td></tr>",
                escape(crawl.crawl_id.as_deref().unwrap_or_default()),
                escape(crawl.state.as_ref().map_or("", |s| s.as_str())),
                time(crawl.start_time.map(|t| t.as_millis())),
                time(crawl.end_time.map(|t| t.as_millis())),
                escape(crawl.summary.as_deref().unwrap_or_default()),
                escape(crawl.error_message.as_deref().unwrap_or_default()),
            );
        }
        body.push_str("</table>\n");
    }
    let here = (
        format!("/console/crawlers/{}", segment(&name)),
        name.clone(),
    );
    Ok(html::page(
        &format!("Crawler {name}"),
        &crumbs(("/console/crawlers", "Crawlers"), &[here]),
        &body,
        Some(&viewer.frame()),
    ))
}

/// `/console/databases`: the catalog's databases.
pub(super) async fn databases(app: &App, viewer: &Viewer) -> Result<String, ApiError> {
    let databases = call::<ops::GetDatabases>(
        app,
        &viewer.scope,
        shapes::GetDatabasesRequest {
            max_results: Some(100),
            ..Default::default()
        },
    )
    .await?
    .database_list
    .unwrap_or_default();
    let mut body = String::new();
    if databases.is_empty() {
        body.push_str("<p class=\"muted\">No databases.</p>");
    } else {
        body.push_str("<table class=\"databases\"><tr><th>Database</th><th>Created</th></tr>");
        for database in &databases {
            let name = database.name.as_deref().unwrap_or_default();
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td></tr>",
                link(&format!("/console/databases/{}", segment(name)), name),
                time(database.create_time.map(|t| t.as_millis())),
            );
        }
        body.push_str("</table>\n");
    }
    Ok(html::page(
        "Catalog",
        &crumbs(("/console/databases", "Catalog"), &[]),
        &body,
        Some(&viewer.frame()),
    ))
}

/// `/console/databases/{name}`: a database's tables.
pub(super) async fn database(app: &App, viewer: &Viewer, name: String) -> Result<String, ApiError> {
    let tables = call::<ops::GetTables>(
        app,
        &viewer.scope,
        shapes::GetTablesRequest {
            database_name: Some(name.clone()),
            max_results: Some(100),
            ..Default::default()
        },
    )
    .await?
    .table_list
    .unwrap_or_default();
    let mut body = String::new();
    if tables.is_empty() {
        body.push_str("<p class=\"muted\">No tables.</p>");
    } else {
        body.push_str(
            "<table class=\"tables\"><tr><th>Table</th><th>Classification</th><th>Location</th>\
             <th>Columns</th><th>Partition keys</th><th>Updated</th></tr>",
        );
        for table in &tables {
            let table_name = table.name.as_deref().unwrap_or_default();
            let sd = table.storage_descriptor.as_ref();
            let keys: Vec<&str> = table
                .partition_keys
                .iter()
                .flatten()
                .filter_map(|c| c.name.as_deref())
                .collect();
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td>\
                 <td>{}</td></tr>",
                link(
                    &format!(
                        "/console/databases/{}/tables/{}",
                        segment(&name),
                        segment(table_name)
                    ),
                    table_name
                ),
                escape(
                    table
                        .parameters
                        .as_ref()
                        .and_then(|p| p.get("classification"))
                        .map_or("", String::as_str)
                ),
                escape(sd.and_then(|s| s.location.as_deref()).unwrap_or_default()),
                sd.and_then(|s| s.columns.as_ref()).map_or(0, Vec::len),
                escape(&keys.join(", ")),
                time(table.update_time.map(|t| t.as_millis())),
            );
        }
        body.push_str("</table>\n");
    }
    let here = (
        format!("/console/databases/{}", segment(&name)),
        name.clone(),
    );
    Ok(html::page(
        &format!("Database {name}"),
        &crumbs(("/console/databases", "Catalog"), &[here]),
        &body,
        Some(&viewer.frame()),
    ))
}

/// `/console/databases/{database}/tables/{table}`: a table's columns, partition keys
/// and (the first [`PARTITIONS_SHOWN`]) partitions.
pub(super) async fn table(
    app: &App,
    viewer: &Viewer,
    database: String,
    name: String,
) -> Result<String, ApiError> {
    let table = call::<ops::GetTable>(
        app,
        &viewer.scope,
        shapes::GetTableRequest {
            database_name: Some(database.clone()),
            name: Some(name.clone()),
            ..Default::default()
        },
    )
    .await?
    .table
    .unwrap_or_default();
    let partitions = call::<ops::GetPartitions>(
        app,
        &viewer.scope,
        shapes::GetPartitionsRequest {
            database_name: Some(database.clone()),
            table_name: Some(name.clone()),
            max_results: Some(PARTITIONS_SHOWN),
            ..Default::default()
        },
    )
    .await?;
    let sd = table.storage_descriptor.clone().unwrap_or_default();
    let mut body = String::from("<table class=\"facts\">");
    for (label, value) in [
        ("Location", sd.location.as_deref()),
        (
            "Classification",
            table
                .parameters
                .as_ref()
                .and_then(|p| p.get("classification"))
                .map(String::as_str),
        ),
        ("Input format", sd.input_format.as_deref()),
        (
            "SerDe",
            sd.serde_info
                .as_ref()
                .and_then(|s| s.serialization_library.as_deref()),
        ),
    ] {
        let _ = write!(
            body,
            "<tr><th>{label}</th><td><code>{}</code></td></tr>",
            escape(value.unwrap_or_default())
        );
    }
    body.push_str("</table>\n<h2>Columns</h2>\n");
    columns_table(
        &mut body,
        "columns",
        sd.columns.as_deref().unwrap_or_default(),
    );
    let keys = table.partition_keys.clone().unwrap_or_default();
    if !keys.is_empty() {
        body.push_str("<h2>Partition keys</h2>\n");
        columns_table(&mut body, "partition-keys", &keys);
        let list = partitions.partitions.unwrap_or_default();
        let more = if partitions.next_token.is_some() {
            format!(" (the first {PARTITIONS_SHOWN})")
        } else {
            String::new()
        };
        let _ = write!(
            body,
            "<h2>Partitions{more}</h2>\n<table class=\"partitions\"><tr>"
        );
        for key in &keys {
            let _ = write!(
                body,
                "<th>{}</th>",
                escape(key.name.as_deref().unwrap_or_default())
            );
        }
        body.push_str("<th>Location</th></tr>");
        for partition in &list {
            body.push_str("<tr>");
            for value in partition.values.iter().flatten() {
                let _ = write!(body, "<td>{}</td>", escape(value));
            }
            let _ = write!(
                body,
                "<td><code>{}</code></td></tr>",
                escape(
                    partition
                        .storage_descriptor
                        .as_ref()
                        .and_then(|s| s.location.as_deref())
                        .unwrap_or_default()
                )
            );
        }
        body.push_str("</table>\n");
    }
    let rest = [
        (
            format!("/console/databases/{}", segment(&database)),
            database.clone(),
        ),
        (
            format!(
                "/console/databases/{}/tables/{}",
                segment(&database),
                segment(&name)
            ),
            name.clone(),
        ),
    ];
    Ok(html::page(
        &format!("Table {database}.{name}"),
        &crumbs(("/console/databases", "Catalog"), &rest),
        &body,
        Some(&viewer.frame()),
    ))
}

/// `/console/blueprints`: the registered blueprints (the first 25) and, for each, its
/// latest 25 runs.
pub(super) async fn blueprints(app: &App, viewer: &Viewer) -> Result<String, ApiError> {
    let names = call::<ops::ListBlueprints>(
        app,
        &viewer.scope,
        shapes::ListBlueprintsRequest {
            max_results: Some(25),
            ..Default::default()
        },
    )
    .await?
    .blueprints
    .unwrap_or_default();
    let mut body = String::new();
    if names.is_empty() {
        body.push_str("<p class=\"muted\">No blueprints.</p>");
    }
    for name in &names {
        let blueprint = call::<ops::GetBlueprint>(
            app,
            &viewer.scope,
            shapes::GetBlueprintRequest {
                name: Some(name.clone()),
                ..Default::default()
            },
        )
        .await?
        .blueprint
        .unwrap_or_default();
        let runs = call::<ops::GetBlueprintRuns>(
            app,
            &viewer.scope,
            shapes::GetBlueprintRunsRequest {
                blueprint_name: Some(name.clone()),
                max_results: Some(25),
                ..Default::default()
            },
        )
        .await?
        .blueprint_runs
        .unwrap_or_default();
        let _ = write!(
            body,
            "<h2 data-blueprint=\"{}\">{}</h2><p>Status: <span class=\"state\">{}</span>; \
             location <code>{}</code></p>",
            escape(name),
            escape(name),
            escape(blueprint.status.as_ref().map_or("", |s| s.as_str())),
            escape(blueprint.blueprint_location.as_deref().unwrap_or_default()),
        );
        if runs.is_empty() {
            body.push_str("<p class=\"muted\">No runs.</p>");
            continue;
        }
        body.push_str(
            "<table class=\"blueprint-runs\"><tr><th>Run</th><th>State</th><th>Workflow</th>\
             <th>Started</th><th>Completed</th><th>Error</th></tr>",
        );
        for run in &runs {
            let workflow = run.workflow_name.as_deref().unwrap_or_default();
            let _ = write!(
                body,
                "<tr><td><code>{}</code></td><td class=\"state\">{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td><td class=\"msg\">{}</td></tr>",
                escape(run.run_id.as_deref().unwrap_or_default()),
                escape(run.state.as_ref().map_or("", |s| s.as_str())),
                if workflow.is_empty() {
                    String::new()
                } else {
                    link(
                        &format!("/console/workflows/{}", segment(workflow)),
                        workflow,
                    )
                },
                time(run.started_on.map(|t| t.as_millis())),
                time(run.completed_on.map(|t| t.as_millis())),
                escape(run.error_message.as_deref().unwrap_or_default()),
            );
        }
        body.push_str("</table>\n");
    }
    Ok(html::page(
        "Blueprints",
        &crumbs(("/console/blueprints", "Blueprints"), &[]),
        &body,
        Some(&viewer.frame()),
    ))
}
