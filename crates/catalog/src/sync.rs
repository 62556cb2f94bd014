//! Writing a crawl's findings into the Data Catalog, following the crawler's
//! SchemaChangePolicy. The changes are planned outside the crawl's final transaction
//! ([`plan`], from a [`Basis`] read before) and that transaction only applies them
//! ([`Plan::write`]), planning again only if the catalog changed in between.
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
//!   Partitions are records of their own: a plan writes only the partitions it adds
//!   and removes, found by hashing keys (linear in their number).
//! - A table this crawler wrote earlier (`UPDATED_BY_CRAWLER` = its name) and did not
//!   find now is deleted (`DELETE_FROM_DATABASE`), marked with a
//!   `DEPRECATED_BY_CRAWLER` = epoch-milliseconds parameter (`DEPRECATE_IN_DATABASE`,
//!   the default), or left (`LOG`); the first two count as `TablesDeleted`. A
//!   deprecated table that reappears is updated and loses the mark.

use std::collections::{BTreeMap, HashSet};

use weir_model::Timestamp;
use weir_model::shapes::{
    Column, Crawler, Database, DatabaseInput, DeleteBehavior, Partition, SerDeInfo,
    StorageDescriptor, Table, UpdateBehavior,
};
use weir_store::{Kind, PartitionRecord, Record, Scope, Transaction};

use super::tables::{self, TableDoc};
use weir_crawler::scan::{Format, FoundTable};
use weir_resources::ApiError;
use weir_resources::stored::{self, Stored};

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

impl Changes {
    /// Adds the changes of another part of the same crawl.
    pub fn add(&mut self, other: Changes) {
        self.tables_created += other.tables_created;
        self.tables_updated += other.tables_updated;
        self.tables_deleted += other.tables_deleted;
        self.partitions_added += other.partitions_added;
        self.partitions_deleted += other.partitions_deleted;
    }
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

/// The crawler's database as the catalog held it when a crawl's changes were planned:
/// whether it existed, its table records and the keys of their partitions. A [`Plan`]
/// is applied only while the catalog still matches its basis.
#[derive(Debug, Clone, PartialEq)]
pub struct Basis {
    database: String,
    exists: bool,
    tables: Vec<Record>,
    /// Partition keys by table record name, in key order.
    partitions: BTreeMap<String, Vec<String>>,
}

impl Basis {
    /// Reads the crawler's database (its folded DatabaseName) and the records of its
    /// tables.
    pub fn read(
        tx: &mut dyn Transaction,
        scope: &Scope,
        crawler: &Crawler,
    ) -> Result<Basis, ApiError> {
        let database = tables::fold(crawler.database_name.as_deref().unwrap_or_default());
        tables::check_database_name(&database)?;
        let tables = tx.list_children(scope, Kind::Table, &database)?;
        let mut partitions = BTreeMap::new();
        for table in &tables {
            partitions.insert(table.name.clone(), tx.partition_keys(scope, &table.name)?);
        }
        Ok(Basis {
            exists: tx.get(scope, Kind::Database, &database)?.is_some(),
            tables,
            partitions,
            database,
        })
    }
}

/// One store change of a [`Plan`], encoded already.
#[derive(Debug)]
enum Write {
    Insert(Kind, Record),
    Update(Kind, Record),
    Delete(Kind, String),
    /// A partition of the table named first.
    PutPartition(String, PartitionRecord),
    /// The partition (by key) of the table named first.
    DeletePartition(String, String),
    /// Every partition of a table.
    DeletePartitions(String),
}

/// A crawl's catalog changes, computed by [`plan`] from a [`Basis`] outside the write
/// transaction, so that [`Plan::write`] only checks the basis and applies them.
#[derive(Debug)]
pub struct Plan {
    basis: Basis,
    writes: Vec<Write>,
    changes: Changes,
}

/// Plans writing `found` into the catalog described by `basis` (module docs): decodes
/// the tables, merges partitions and encodes the new documents, without the store.
pub fn plan(writer: &Writer<'_>, basis: Basis, found: &[FoundTable]) -> Result<Plan, ApiError> {
    let crawler = writer.crawler;
    let name = crawler.name.clone().unwrap_or_default();
    let database = basis.database.clone();
    let mut writes = Vec::new();
    if !basis.exists {
        let input = DatabaseInput {
            name: Some(database.clone()),
            ..Default::default()
        };
        let created: Database = tables::new_database(input, writer.account, writer.now);
        let record = tables::database_record(&created, BTreeMap::new())?;
        writes.push(Write::Insert(Kind::Database, record));
    }
    // The tables by store key (`<database>/<table>`), kept current as the plan goes.
    let mut catalog: BTreeMap<String, Stored<TableDoc>> = basis
        .tables
        .iter()
        .map(|record| Ok((record.name.clone(), stored::decode(record.clone())?)))
        .collect::<Result<_, ApiError>>()?;
    let policy = crawler.schema_change_policy.clone().unwrap_or_default();
    let update = policy.update_behavior != Some(UpdateBehavior::Log);
    let delete = policy
        .delete_behavior
        .clone()
        .unwrap_or(DeleteBehavior::DeprecateInDatabase);
    let prefix = tables::fold(crawler.table_prefix.as_deref().unwrap_or_default());
    let mut changes = Changes::default();
    let mut seen = HashSet::new();
    let no_partitions = Vec::new();
    for table in found {
        let (fresh, partitions) =
            build(writer, &database, &format!("{prefix}{}", table.name), table);
        let table_name = fresh.table.name.clone().unwrap_or_default();
        let key = tables::table_key(&database, &table_name);
        seen.insert(table_name);
        let existing_keys = basis.partitions.get(&key).unwrap_or(&no_partitions);
        let remove = delete == DeleteBehavior::DeleteFromDatabase;
        let (added, removed) = partition_writes(&key, existing_keys, partitions, remove)?;
        changes.partitions_added += tally(added.len());
        changes.partitions_deleted += tally(removed.len());
        let Some(existing) = catalog.get_mut(&key) else {
            changes.tables_created += 1;
            let record = tables::table_record(&database, &fresh, BTreeMap::new())?;
            writes.push(Write::Insert(Kind::Table, record));
            writes.extend(added);
            let created = Stored {
                value: fresh,
                tags: BTreeMap::new(),
                parent: Some(database.clone()),
            };
            catalog.insert(key, created);
            continue;
        };
        let doc = &mut existing.value;
        let changed = fingerprint(&doc.table) != fingerprint(&fresh.table)
            || param(&doc.table, DEPRECATED_BY).is_some();
        if changed && update {
            doc.table = merged(&doc.table, fresh.table.clone(), writer.now);
            changes.tables_updated += 1;
            let record = tables::table_record(&database, doc, existing.tags.clone())?;
            writes.push(Write::Update(Kind::Table, record));
        }
        writes.extend(added);
        writes.extend(removed);
    }
    for (key, stored) in &mut catalog {
        let doc = &mut stored.value;
        let table_name = doc.table.name.clone().unwrap_or_default();
        let ours = param(&doc.table, UPDATED_BY) == Some(name.as_str());
        if !ours || seen.contains(&table_name) || param(&doc.table, DEPRECATED_BY).is_some() {
            continue;
        }
        match delete {
            DeleteBehavior::DeleteFromDatabase => {
                writes.push(Write::DeletePartitions(key.clone()));
                writes.push(Write::Delete(Kind::Table, key.clone()));
                changes.tables_deleted += 1;
            }
            DeleteBehavior::DeprecateInDatabase => {
                let stamp = writer.now.as_millis().to_string();
                doc.table
                    .parameters
                    .get_or_insert_with(BTreeMap::new)
                    .insert(DEPRECATED_BY.into(), stamp);
                let record = tables::table_record(&database, doc, stored.tags.clone())?;
                writes.push(Write::Update(Kind::Table, record));
                changes.tables_deleted += 1;
            }
            _ => {}
        }
    }
    Ok(Plan {
        basis,
        writes,
        changes,
    })
}

impl Plan {
    /// Applies the plan in the write transaction `tx` and returns what changed. If the
    /// catalog no longer matches the plan's basis (a catalog call in between), the plan
    /// is first made again, inside `tx`, from the current catalog (`writer` and `found`
    /// as given to [`plan`]).
    pub fn write(
        self,
        tx: &mut dyn Transaction,
        scope: &Scope,
        writer: &Writer<'_>,
        found: &[FoundTable],
    ) -> Result<Changes, ApiError> {
        let current = Basis::read(tx, scope, writer.crawler)?;
        let plan = if current == self.basis {
            self
        } else {
            plan(writer, current, found)?
        };
        for write in plan.writes {
            match write {
                Write::Insert(kind, record) => {
                    tx.insert(scope, kind, &record)?;
                }
                Write::Update(kind, record) => {
                    tx.update(scope, kind, &record)?;
                }
                Write::Delete(kind, name) => {
                    tx.delete(scope, kind, &name)?;
                }
                Write::PutPartition(table, partition) => {
                    tx.put_partition(scope, &table, &partition)?;
                }
                Write::DeletePartition(table, key) => {
                    tx.delete_partition(scope, &table, &key)?;
                }
                Write::DeletePartitions(table) => {
                    tx.delete_partitions(scope, &table)?;
                }
            }
        }
        Ok(plan.changes)
    }
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

/// The writes that add the partitions of `found` whose keys are not among `existing`
/// (each key once) and, when `remove`, delete the existing ones not found: (added,
/// removed). Linear in the partitions: the keys are hashed, never compared pairwise.
fn partition_writes(
    table: &str,
    existing: &[String],
    found: Vec<Partition>,
    remove: bool,
) -> Result<(Vec<Write>, Vec<Write>), ApiError> {
    let existing_keys: HashSet<&str> = existing.iter().map(String::as_str).collect();
    let mut found_keys: HashSet<String> = HashSet::new();
    let mut added = Vec::new();
    for partition in &found {
        let record = tables::partition_record(partition)?;
        // A folder found twice (it cannot be, but a key is written once either way).
        if !found_keys.insert(record.key.clone()) {
            continue;
        }
        if !existing_keys.contains(record.key.as_str()) {
            added.push(Write::PutPartition(table.to_string(), record));
        }
    }
    let removed = if remove {
        existing
            .iter()
            .filter(|key| !found_keys.contains(*key))
            .map(|key| Write::DeletePartition(table.to_string(), key.clone()))
            .collect()
    } else {
        Vec::new()
    };
    Ok((added, removed))
}

/// A count of writes as the crawl's statistics hold it.
fn tally(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The catalog form of a found table.
pub fn build(
    writer: &Writer<'_>,
    database: &str,
    name: &str,
    found: &FoundTable,
) -> (TableDoc, Vec<Partition>) {
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
    (TableDoc { table }, partitions)
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

#[cfg(test)]
mod tests {
    use super::*;

    // -- planning outside the write transaction ----------------------------------------

    use weir_crawler::scan::FoundPartition;
    use weir_model::shapes::SchemaChangePolicy;
    use weir_store::{SqliteStore, StoreExt};

    fn scope() -> Scope {
        Scope {
            account: "123456789012".into(),
            region: "us-east-1".into(),
        }
    }

    fn crawler(delete: DeleteBehavior) -> Crawler {
        Crawler {
            name: Some("lake".into()),
            database_name: Some("db".into()),
            role: Some("arn:aws:iam::123456789012:role/Crawl".into()),
            schema_change_policy: Some(SchemaChangePolicy {
                update_behavior: Some(UpdateBehavior::UpdateInDatabase),
                delete_behavior: Some(delete),
            }),
            ..Default::default()
        }
    }

    /// A table `sales` partitioned by `day`, with one partition per number.
    fn found(days: impl Iterator<Item = usize>) -> Vec<FoundTable> {
        vec![FoundTable {
            name: "sales".into(),
            location: "s3://lake/sales/".into(),
            format: Format::Json,
            header: false,
            quoted: false,
            columns: Vec::new(),
            partition_keys: vec!["day".into()],
            partitions: days
                .map(|d| FoundPartition {
                    values: vec![format!("{d:05}")],
                    location: format!("s3://lake/sales/day={d:05}/"),
                })
                .collect(),
            objects: 1,
            size: 1,
            records: 1,
        }]
    }

    fn writer<'a>(crawler: &'a Crawler, scope: &'a Scope) -> Writer<'a> {
        Writer {
            crawler,
            crawl_id: "crawl",
            account: &scope.account,
            now: Timestamp::from_millis(1_700_000_000_000),
        }
    }

    /// Plans `found` in a read transaction, then applies the plan in a write one.
    fn crawl(store: &SqliteStore, crawler: &Crawler, found: &[FoundTable]) -> Changes {
        let scope = scope();
        let writer = writer(crawler, &scope);
        let basis = store
            .read(|tx| Basis::read(tx, &scope, crawler))
            .expect("read");
        let plan = plan(&writer, basis, found).expect("plan");
        store
            .write(|tx| plan.write(tx, &scope, &writer, found))
            .expect("write")
    }

    fn stored(store: &SqliteStore) -> TableDoc {
        store
            .read(|tx| tables::load_table(tx, &scope(), "db", "sales"))
            .expect("read")
            .expect("table")
            .value
    }

    /// The stored partitions of `db.sales`, by their one value, in key order.
    fn days(store: &SqliteStore) -> Vec<String> {
        let records = store
            .read(|tx| tx.list_partitions(&scope(), "db/sales", None, usize::MAX))
            .expect("partitions");
        records
            .iter()
            .map(|r| tables::decode_partition(r).expect("decode"))
            .flat_map(|p| p.values.unwrap_or_default())
            .collect()
    }

    #[test]
    fn each_new_partition_is_written_once_and_vanished_ones_go_only_when_asked() {
        let partition = |value: &str| Partition {
            values: Some(vec![value.to_string()]),
            ..Default::default()
        };
        let existing = vec!["1".to_string(), "3".to_string()];
        let found = || vec![partition("2"), partition("3"), partition("2")];
        let keys = |writes: &[Write]| -> Vec<String> {
            writes
                .iter()
                .map(|w| match w {
                    Write::PutPartition(_, record) => format!("+{}", record.key),
                    Write::DeletePartition(_, key) => format!("-{key}"),
                    other => format!("{other:?}"),
                })
                .collect()
        };
        let (added, removed) = partition_writes("db/t", &existing, found(), true).expect("plan");
        assert_eq!(
            (keys(&added), keys(&removed)),
            (vec!["+2".into()], vec!["-1".into()])
        );
        let (added, removed) = partition_writes("db/t", &existing, found(), false).expect("plan");
        assert_eq!(keys(&added), ["+2"]);
        assert!(removed.is_empty());
    }

    #[test]
    fn twenty_thousand_partitions_are_merged_by_a_plan_the_writer_only_applies() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path()).expect("store");
        let crawler = crawler(DeleteBehavior::DeleteFromDatabase);
        let first = crawl(&store, &crawler, &found(0..20_000));
        assert_eq!((first.tables_created, first.partitions_added), (1, 20_000));
        // The second crawl finds 10 000 of them and 10 000 new ones (in reverse order).
        let again = found((10_000..30_000).rev());
        let scope = scope();
        let writer = writer(&crawler, &scope);
        let basis = store
            .read(|tx| Basis::read(tx, &scope, &crawler))
            .expect("read");
        let plan = plan(&writer, basis, &again).expect("plan");
        // The schema did not change: the table is not rewritten; only the partitions
        // that came and went are written, each encoded already.
        let puts = plan
            .writes
            .iter()
            .filter(|w| matches!(w, Write::PutPartition(table, _) if table == "db/sales"))
            .count();
        let deletes = plan
            .writes
            .iter()
            .filter(|w| matches!(w, Write::DeletePartition(table, _) if table == "db/sales"))
            .count();
        assert_eq!((puts, deletes, plan.writes.len()), (10_000, 10_000, 20_000));
        let changes = store
            .write(|tx| plan.write(tx, &scope, &writer, &again))
            .expect("write");
        assert_eq!(
            (changes.partitions_added, changes.partitions_deleted),
            (10_000, 10_000)
        );
        let expected: Vec<String> = (10_000..30_000).map(|d| format!("{d:05}")).collect();
        assert_eq!(days(&store), expected);
    }

    #[test]
    fn a_catalog_change_between_plan_and_write_is_planned_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path()).expect("store");
        let crawler = crawler(DeleteBehavior::DeprecateInDatabase);
        crawl(&store, &crawler, &found(0..3));
        let again = found(1..5);
        let scope = scope();
        let writer = writer(&crawler, &scope);
        let basis = store
            .read(|tx| Basis::read(tx, &scope, &crawler))
            .expect("read");
        let plan = plan(&writer, basis, &again).expect("plan");
        // An UpdateTable between the plan and the write.
        let mut edited = stored(&store);
        edited.table.description = Some("edited meanwhile".into());
        store
            .write(|tx| tables::put_table(tx, &scope, "db", &edited, BTreeMap::new(), false))
            .expect("edit");
        let changes = store
            .write(|tx| plan.write(tx, &scope, &writer, &again))
            .expect("write");
        assert_eq!(changes.partitions_added, 2);
        let doc = stored(&store);
        assert_eq!(doc.table.description.as_deref(), Some("edited meanwhile"));
        assert_eq!(days(&store), ["00000", "00001", "00002", "00003", "00004"]);
    }
}
