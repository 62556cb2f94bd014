//! Writing a crawl's findings into the Data Catalog, following the crawler's
//! SchemaChangePolicy, in the crawl's final transaction.
//!
//! - The crawler's database is created when missing (as Glue does).
//! - A new table is created (`TablesCreated`) with its partitions.
//! - An existing table whose schema changed (columns, partition keys, location,
//!   formats, SerDe, classification) is replaced when `UpdateBehavior` is
//!   `UPDATE_IN_DATABASE` (`TablesUpdated`; CreateTime, Owner, Description, Retention,
//!   tags and parameters the crawler does not set are kept) and left alone with `LOG`.
//!   Statistics alone (object count, size) changing is not a schema change.
//! - New partitions are always added (SchemaChangePolicy does not affect them);
//!   partitions whose folder vanished are removed only with `DELETE_FROM_DATABASE`.
//! - A table this crawler wrote earlier (`UPDATED_BY_CRAWLER` = its name) and did not
//!   find now is deleted (`DELETE_FROM_DATABASE`), marked with a
//!   `DEPRECATED_BY_CRAWLER` = epoch-milliseconds parameter (`DEPRECATE_IN_DATABASE`,
//!   the default), or left (`LOG`); the first two count as `TablesDeleted`. A
//!   deprecated table that reappears is updated and loses the mark.

use std::collections::BTreeMap;

use weir_model::Timestamp;
use weir_model::shapes::{
    Column, Crawler, Database, DatabaseInput, Partition, SerDeInfo, StorageDescriptor, Table,
};
use weir_store::Scope;

use super::scan::{Format, FoundTable};
use super::tables::{self, TableDoc};
use crate::protocol::ApiError;

/// Table parameter naming the crawler that last wrote the table.
pub const UPDATED_BY: &str = "UPDATED_BY_CRAWLER";
/// Table parameter marking a table whose data vanished (value: epoch milliseconds).
pub const DEPRECATED_BY: &str = "DEPRECATED_BY_CRAWLER";

const TEXT_INPUT: &str = "org.apache.hadoop.mapred.TextInputFormat";
const TEXT_OUTPUT: &str = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat";

/// What a crawl changed in the catalog.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Changes {
    /// Tables created.
    pub tables_created: u32,
    /// Tables updated.
    pub tables_updated: u32,
    /// Tables deleted or deprecated.
    pub tables_deleted: u32,
    /// Partitions added.
    pub partitions_added: u32,
    /// Partitions removed.
    pub partitions_deleted: u32,
}

/// Who is writing: the crawler and this crawl.
pub struct Writer<'a> {
    /// The crawler's definition (database, prefix, policy, role).
    pub crawler: &'a Crawler,
    /// The crawl id (`CRAWL_RUN_ID` parameter).
    pub crawl_id: &'a str,
    /// The account (CatalogId).
    pub account: &'a str,
    /// The time of the write.
    pub now: Timestamp,
}

/// Applies `found` to the crawler's database (module docs) and counts the changes.
pub fn apply(
    tx: &mut dyn weir_store::Transaction,
    scope: &Scope,
    writer: &Writer<'_>,
    found: &[FoundTable],
) -> Result<Changes, ApiError> {
    let crawler = writer.crawler;
    let name = crawler.name.clone().unwrap_or_default();
    let database = tables::fold(crawler.database_name.as_deref().unwrap_or_default());
    tables::check_database_name(&database)?;
    if tables::load_database(tx, scope, &database)?.is_none() {
        let input = DatabaseInput {
            name: Some(database.clone()),
            ..Default::default()
        };
        let created: Database = tables::new_database(input, writer.account, writer.now);
        tables::put_database(tx, scope, &created, BTreeMap::new(), true)?;
    }
    let policy = crawler.schema_change_policy.clone().unwrap_or_default();
    let update = policy.update_behavior.as_deref() != Some("LOG");
    let delete = policy
        .delete_behavior
        .clone()
        .unwrap_or_else(|| "DEPRECATE_IN_DATABASE".into());
    let prefix = tables::fold(crawler.table_prefix.as_deref().unwrap_or_default());
    let mut changes = Changes::default();
    let mut seen = Vec::new();
    for table in found {
        let fresh = build(writer, &database, &format!("{prefix}{}", table.name), table);
        let table_name = fresh.table.name.clone().unwrap_or_default();
        seen.push(table_name.clone());
        let Some(existing) = tables::load_table(tx, scope, &database, &table_name)? else {
            changes.tables_created += 1;
            changes.partitions_added += fresh.partitions.len() as u32;
            tables::put_table(tx, scope, &database, &fresh, BTreeMap::new(), true)?;
            continue;
        };
        let mut doc = existing.value;
        let changed = fingerprint(&doc.table) != fingerprint(&fresh.table)
            || param(&doc.table, DEPRECATED_BY).is_some();
        if changed && update {
            doc.table = merged(&doc.table, fresh.table.clone(), writer.now);
            changes.tables_updated += 1;
        }
        let before = doc.partitions.len();
        let (added, removed) = merge_partitions(
            &mut doc.partitions,
            fresh.partitions,
            delete == "DELETE_FROM_DATABASE",
        );
        changes.partitions_added += added;
        changes.partitions_deleted += removed;
        if (changed && update) || added > 0 || removed > 0 || before != doc.partitions.len() {
            tables::put_table(tx, scope, &database, &doc, existing.tags, false)?;
        }
    }
    for stored in tables::list_tables(tx, scope, &database)? {
        let mut doc = stored.value;
        let table_name = doc.table.name.clone().unwrap_or_default();
        let ours = param(&doc.table, UPDATED_BY) == Some(name.as_str());
        if !ours || seen.contains(&table_name) || param(&doc.table, DEPRECATED_BY).is_some() {
            continue;
        }
        match delete.as_str() {
            "DELETE_FROM_DATABASE" => {
                tables::delete_table(tx, scope, &database, &table_name)?;
                changes.tables_deleted += 1;
            }
            "DEPRECATE_IN_DATABASE" => {
                let stamp = writer.now.as_millis().to_string();
                doc.table
                    .parameters
                    .get_or_insert_with(BTreeMap::new)
                    .insert(DEPRECATED_BY.into(), stamp);
                tables::put_table(tx, scope, &database, &doc, stored.tags, false)?;
                changes.tables_deleted += 1;
            }
            _ => {}
        }
    }
    Ok(changes)
}

fn param<'t>(table: &'t Table, key: &str) -> Option<&'t str> {
    table.parameters.as_ref()?.get(key).map(String::as_str)
}

/// The parts of a table whose change makes it "updated".
fn fingerprint(table: &Table) -> impl PartialEq + use<> {
    let sd = table.storage_descriptor.clone().unwrap_or_default();
    let params = table.parameters.clone().unwrap_or_default();
    let pick = |k: &str| params.get(k).cloned();
    (
        sd.columns,
        table.partition_keys.clone(),
        sd.location,
        sd.input_format,
        sd.output_format,
        sd.serde_info,
        pick("classification"),
        pick("delimiter"),
        pick("skip.header.line.count"),
    )
}

/// The crawler's new version of `current`: what the crawler describes replaces it; what
/// users added (owner, description, retention, other parameters) stays.
fn merged(current: &Table, mut fresh: Table, now: Timestamp) -> Table {
    let mut parameters = current.parameters.clone().unwrap_or_default();
    parameters.remove(DEPRECATED_BY);
    parameters.extend(fresh.parameters.take().unwrap_or_default());
    let version = current
        .version_id
        .as_deref()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(0, |v| v + 1);
    Table {
        parameters: Some(parameters),
        create_time: current.create_time,
        update_time: Some(now),
        owner: current.owner.clone().or(fresh.owner),
        description: current.description.clone(),
        retention: current.retention.or(fresh.retention),
        version_id: Some(version.to_string()),
        ..fresh
    }
}

/// Adds the partitions of `found` missing from `current` and, when `remove`, drops the
/// ones not found; returns (added, removed).
fn merge_partitions(
    current: &mut Vec<Partition>,
    found: Vec<Partition>,
    remove: bool,
) -> (u32, u32) {
    let found_values: Vec<Option<Vec<String>>> = found.iter().map(|p| p.values.clone()).collect();
    let before = current.len();
    if remove {
        current.retain(|p| found_values.contains(&p.values));
    }
    let removed = (before - current.len()) as u32;
    let mut added = 0;
    for partition in found {
        if !current.iter().any(|p| p.values == partition.values) {
            current.push(partition);
            added += 1;
        }
    }
    current.sort_by(|a, b| a.values.cmp(&b.values));
    (added, removed)
}

/// The catalog form of a found table.
pub fn build(writer: &Writer<'_>, database: &str, name: &str, found: &FoundTable) -> TableDoc {
    let crawler = writer.crawler;
    let name = tables::fold(name);
    let mut parameters = BTreeMap::from([
        (
            "classification".to_string(),
            found.format.classification().to_string(),
        ),
        ("compressionType".into(), "none".into()),
        ("typeOfData".into(), "file".into()),
        ("objectCount".into(), found.objects.to_string()),
        ("sizeKey".into(), found.size.to_string()),
        ("recordCount".into(), found.records.to_string()),
        (
            "averageRecordSize".into(),
            found
                .size
                .checked_div(found.records)
                .unwrap_or(0)
                .to_string(),
        ),
        (UPDATED_BY.into(), crawler.name.clone().unwrap_or_default()),
        ("CRAWL_RUN_ID".into(), writer.crawl_id.to_string()),
        ("CrawlerSchemaDeserializerVersion".into(), "1.0".into()),
        ("CrawlerSchemaSerializerVersion".into(), "1.0".into()),
    ]);
    let (input, output, serde) = match found.format {
        Format::Csv { delimiter } => {
            let delimiter = (delimiter as char).to_string();
            parameters.insert("delimiter".into(), delimiter.clone());
            parameters.insert("areColumnsQuoted".into(), found.quoted.to_string());
            parameters.insert("columnsOrdered".into(), "true".into());
            if found.header {
                parameters.insert("skip.header.line.count".into(), "1".into());
            }
            let serde = if found.quoted {
                serde(
                    "org.apache.hadoop.hive.serde2.OpenCSVSerde",
                    &[("separatorChar", &delimiter), ("quoteChar", "\"")],
                )
            } else {
                serde(
                    "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                    &[("field.delim", &delimiter)],
                )
            };
            (TEXT_INPUT, TEXT_OUTPUT, serde)
        }
        Format::Json => {
            let paths: Vec<&str> = found.columns.iter().map(|(n, _)| n.as_str()).collect();
            let serde = serde(
                "org.openx.data.jsonserde.JsonSerDe",
                &[("paths", &paths.join(","))],
            );
            (TEXT_INPUT, TEXT_OUTPUT, serde)
        }
        Format::Parquet => (
            "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            serde(
                "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                &[("serialization.format", "1")],
            ),
        ),
    };
    let columns: Vec<Column> = found
        .columns
        .iter()
        .map(|(n, t)| column(n, &t.to_string()))
        .collect();
    let descriptor = |location: &str| StorageDescriptor {
        columns: Some(columns.clone()),
        location: Some(location.to_string()),
        input_format: Some(input.to_string()),
        output_format: Some(output.to_string()),
        compressed: Some(false),
        number_of_buckets: Some(-1),
        serde_info: Some(serde.clone()),
        bucket_columns: Some(Vec::new()),
        sort_columns: Some(Vec::new()),
        parameters: Some(parameters.clone()),
        stored_as_sub_directories: Some(false),
        ..Default::default()
    };
    let role = crawler.role.as_deref().unwrap_or_default();
    let role_name = role.rsplit('/').next().unwrap_or(role);
    let partitions = found
        .partitions
        .iter()
        .map(|p| Partition {
            values: Some(p.values.clone()),
            database_name: Some(database.to_string()),
            table_name: Some(name.clone()),
            creation_time: Some(writer.now),
            storage_descriptor: Some(descriptor(&p.location)),
            catalog_id: Some(writer.account.to_string()),
            ..Default::default()
        })
        .collect();
    let table = Table {
        name: Some(name.clone()),
        database_name: Some(database.to_string()),
        owner: Some("owner".into()),
        create_time: Some(writer.now),
        update_time: Some(writer.now),
        retention: Some(0),
        storage_descriptor: Some(descriptor(&found.location)),
        partition_keys: Some(
            found
                .partition_keys
                .iter()
                .map(|k| column(k, "string"))
                .collect(),
        ),
        table_type: Some("EXTERNAL_TABLE".into()),
        parameters: Some(parameters.clone()),
        created_by: Some(format!(
            "arn:aws:sts::{}:assumed-role/{role_name}/AWS-Crawler",
            writer.account
        )),
        is_registered_with_lake_formation: Some(false),
        catalog_id: Some(writer.account.to_string()),
        version_id: Some("0".into()),
        ..Default::default()
    };
    TableDoc { table, partitions }
}

fn column(name: &str, kind: &str) -> Column {
    Column {
        name: Some(name.to_string()),
        r#type: Some(kind.to_string()),
        ..Default::default()
    }
}

fn serde(library: &str, parameters: &[(&str, &str)]) -> SerDeInfo {
    SerDeInfo {
        serialization_library: Some(library.to_string()),
        parameters: Some(
            parameters
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
        ..Default::default()
    }
}
