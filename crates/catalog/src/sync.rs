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
//!   A table's partitions are kept in values order; merging is linear in their number.
//! - A table this crawler wrote earlier (`UPDATED_BY_CRAWLER` = its name) and did not
//!   find now is deleted (`DELETE_FROM_DATABASE`), marked with a
//!   `DEPRECATED_BY_CRAWLER` = epoch-milliseconds parameter (`DEPRECATE_IN_DATABASE`,
//!   the default), or left (`LOG`); the first two count as `TablesDeleted`. A
//!   deprecated table that reappears is updated and loses the mark.

use std::collections::{BTreeMap, HashSet};
use std::hash::Hash;

use weir_model::Timestamp;
use weir_model::shapes::{
    Column, Crawler, Database, DatabaseInput, DeleteBehavior, Partition, SerDeInfo,
    StorageDescriptor, Table, UpdateBehavior,
};
use weir_store::{Kind, Record, Scope, Transaction};

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
/// whether it existed and its table records. A [`Plan`] is applied only while the
/// catalog still matches its basis.
#[derive(Debug, Clone, PartialEq)]
pub struct Basis {
    database: String,
    exists: bool,
    tables: Vec<Record>,
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
        Ok(Basis {
            exists: tx.get(scope, Kind::Database, &database)?.is_some(),
            tables: tx.list_children(scope, Kind::Table, &database)?,
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
    for table in found {
        let mut fresh = build(writer, &database, &format!("{prefix}{}", table.name), table);
        let table_name = fresh.table.name.clone().unwrap_or_default();
        let key = tables::table_key(&database, &table_name);
        seen.insert(table_name);
        let Some(existing) = catalog.get_mut(&key) else {
            let partitions = std::mem::take(&mut fresh.partitions);
            let merged = merge_partitions(Vec::new(), partitions, false, |p| &p.values);
            fresh.partitions = merged.partitions;
            changes.tables_created += 1;
            changes.partitions_added += merged.added;
            let record = tables::table_record(&database, &fresh, BTreeMap::new())?;
            writes.push(Write::Insert(Kind::Table, record));
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
        }
        let before = doc.partitions.len();
        let merged = merge_partitions(
            std::mem::take(&mut doc.partitions),
            fresh.partitions,
            delete == DeleteBehavior::DeleteFromDatabase,
            |p| &p.values,
        );
        let (added, removed) = (merged.added, merged.removed);
        doc.partitions = merged.partitions;
        changes.partitions_added += added;
        changes.partitions_deleted += removed;
        if (changed && update) || added > 0 || removed > 0 || before != doc.partitions.len() {
            let record = tables::table_record(&database, doc, existing.tags.clone())?;
            writes.push(Write::Update(Kind::Table, record));
        }
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
                Write::Insert(kind, record) => tx.insert(scope, kind, &record)?,
                Write::Update(kind, record) => tx.update(scope, kind, &record)?,
                Write::Delete(kind, name) => tx.delete(scope, kind, &name)?,
            };
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

/// A table's partitions after a crawl, and how many were added and removed.
#[derive(Debug)]
struct MergedPartitions<T> {
    partitions: Vec<T>,
    added: u32,
    removed: u32,
}

/// Adds the partitions of `found` missing from `current` and, when `remove`, drops the
/// ones not found; partitions are identified by `key`, and the result is in key order.
///
/// Linear in the partitions (plus sorting the added ones): both sides are indexed by
/// key in hash sets, and the added partitions are merged into the kept ones, which
/// are already in key order (a table written before that was guaranteed is sorted
/// once).
fn merge_partitions<T, K: Hash + Eq + Ord>(
    current: Vec<T>,
    found: Vec<T>,
    remove: bool,
    key: impl Fn(&T) -> &K,
) -> MergedPartitions<T> {
    let (keep, fresh): (Vec<bool>, Vec<bool>) = {
        let found_keys: HashSet<&K> = if remove {
            found.iter().map(&key).collect()
        } else {
            HashSet::new()
        };
        let keep = current
            .iter()
            .map(|p| !remove || found_keys.contains(key(p)))
            .collect();
        let mut known: HashSet<&K> = current.iter().map(&key).collect();
        let fresh = found.iter().map(|p| known.insert(key(p))).collect();
        (keep, fresh)
    };
    let before = current.len();
    let kept: Vec<T> = current
        .into_iter()
        .zip(keep)
        .filter_map(|(p, keep)| keep.then_some(p))
        .collect();
    let mut added: Vec<T> = found
        .into_iter()
        .zip(fresh)
        .filter_map(|(p, fresh)| fresh.then_some(p))
        .collect();
    let counts = (added.len(), before - kept.len());
    added.sort_by(|a, b| key(a).cmp(key(b)));
    let partitions = if kept.is_sorted_by(|a, b| key(a) <= key(b)) {
        merge_sorted(kept, added, &key)
    } else {
        let mut all = kept;
        all.extend(added);
        all.sort_by(|a, b| key(a).cmp(key(b)));
        all
    };
    MergedPartitions {
        partitions,
        added: u32::try_from(counts.0).unwrap_or(u32::MAX),
        removed: u32::try_from(counts.1).unwrap_or(u32::MAX),
    }
}

/// Merges two lists in `key` order into one; on equal keys `first`'s item comes first.
fn merge_sorted<T, K: Ord>(first: Vec<T>, second: Vec<T>, key: &impl Fn(&T) -> &K) -> Vec<T> {
    let mut out = Vec::with_capacity(first.len() + second.len());
    let mut first = first.into_iter().peekable();
    let mut second = second.into_iter().peekable();
    loop {
        let from_first = match (first.peek(), second.peek()) {
            (Some(a), Some(b)) => key(a) <= key(b),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return out,
        };
        out.extend(if from_first {
            first.next()
        } else {
            second.next()
        });
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::cmp::Ordering;
    use std::hash::{Hash, Hasher};

    thread_local! {
        /// Key comparisons and hashes made on this thread.
        static KEY_OPERATIONS: Cell<usize> = const { Cell::new(0) };
    }

    fn count() {
        KEY_OPERATIONS.with(|n| n.set(n.get() + 1));
    }

    /// A partition key that counts every comparison and hash made with it.
    #[derive(Debug, Clone)]
    struct Counted(Vec<String>);

    impl PartialEq for Counted {
        fn eq(&self, other: &Self) -> bool {
            count();
            self.0 == other.0
        }
    }
    impl Eq for Counted {}
    impl PartialOrd for Counted {
        fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Ord for Counted {
        fn cmp(&self, other: &Self) -> Ordering {
            count();
            self.0.cmp(&other.0)
        }
    }
    impl Hash for Counted {
        fn hash<H: Hasher>(&self, state: &mut H) {
            count();
            self.0.hash(state);
        }
    }

    /// A partition `year=…/day=…`, tagged with where it came from.
    fn partition(i: usize, origin: &'static str) -> (Counted, &'static str) {
        (
            Counted(vec![
                format!("{}", 2000 + i / 1000),
                format!("{:03}", i % 1000),
            ]),
            origin,
        )
    }

    #[test]
    fn twenty_thousand_partitions_merge_in_linear_key_operations() {
        const N: usize = 20_000;
        // Stored: partitions 0..N (in order); found: N/2..3N/2, shuffled by a stride.
        let current: Vec<_> = (0..N).map(|i| partition(i, "stored")).collect();
        let found: Vec<_> = (0..N)
            .map(|i| partition(N / 2 + (i * 7_919) % N, "found"))
            .collect();
        for remove in [false, true] {
            KEY_OPERATIONS.with(|n| n.set(0));
            let merged = merge_partitions(current.clone(), found.clone(), remove, |p| &p.0);
            let operations = KEY_OPERATIONS.with(Cell::get);
            // Hashing each key a few times and sorting the N/2 new ones; the quadratic
            // merge needed about N²/2 = 2·10^8.
            assert!(operations < 16 * 2 * N, "{operations} key operations");
            let first = if remove { N / 2 } else { 0 };
            let expected: Vec<_> = (first..N)
                .map(|i| partition(i, "stored"))
                .chain((N..N + N / 2).map(|i| partition(i, "found")))
                .collect();
            let keys = |v: &[(Counted, &str)]| -> Vec<(Vec<String>, String)> {
                v.iter()
                    .map(|(k, o)| (k.0.clone(), o.to_string()))
                    .collect()
            };
            assert_eq!(
                keys(&merged.partitions),
                keys(&expected),
                "remove: {remove}"
            );
            assert_eq!(merged.added, (N / 2) as u32);
            assert_eq!(merged.removed, if remove { (N / 2) as u32 } else { 0 });
        }
    }

    #[test]
    fn duplicates_among_the_found_partitions_are_added_once() {
        let current = vec![partition(1, "stored"), partition(3, "stored")];
        let found = vec![
            partition(2, "found"),
            partition(3, "found"),
            partition(2, "again"),
        ];
        let merged = merge_partitions(current, found, true, |p| &p.0);
        let origins: Vec<_> = merged.partitions.iter().map(|p| p.1).collect();
        assert_eq!(origins, ["found", "stored"]);
        assert_eq!((merged.added, merged.removed), (1, 1));
    }

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

    fn days(doc: &TableDoc) -> Vec<String> {
        let values = doc.partitions.iter().filter_map(|p| p.values.as_ref());
        values.flat_map(|v| v.iter().cloned()).collect()
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
        assert!(
            matches!(&plan.writes[..], [Write::Update(Kind::Table, record)] if record.name == "db/sales"),
            "one encoded table record to write: {:?}",
            plan.writes.len()
        );
        let changes = store
            .write(|tx| plan.write(tx, &scope, &writer, &again))
            .expect("write");
        assert_eq!(
            (changes.partitions_added, changes.partitions_deleted),
            (10_000, 10_000)
        );
        let expected: Vec<String> = (10_000..30_000).map(|d| format!("{d:05}")).collect();
        assert_eq!(days(&stored(&store)), expected);
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
        assert_eq!(days(&doc), ["00000", "00001", "00002", "00003", "00004"]);
    }
}
