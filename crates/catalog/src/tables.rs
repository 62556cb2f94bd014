//! The stored Data Catalog, shared by the catalog operations and the crawler.
//!
//! - A database is a `Kind::Database` record named after the database, holding its
//!   `Database` wire form.
//! - A table is a `Kind::Table` record named `<database>/<table>` with the database as
//!   parent, holding its `Table` wire form ([`TableDoc`], format 2).
//! - Each partition is a partition record of its table, keyed by its values
//!   ([`partition_key`], which orders partitions as their values order), holding its
//!   `Partition` wire form: a crawl writes only the partitions it adds or removes, and
//!   GetPartitions reads index ranges.
//! - Format 1 (releases before partitions were records) kept the partitions inside the
//!   table document (`WeirPartitions`); [`upgrade_tables`] moves them out when Weir
//!   starts, through the frozen decoder of that format.
//!
//! Names are case-insensitive and stored lowercased, as Glue folds them for Hive
//! compatibility; a database name may not contain `/` (it would make table keys
//! ambiguous).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use weir_model::Timestamp;
use weir_model::shapes::{
    DataLakePrincipal, Database, DatabaseInput, Partition, Permission, PrincipalPermissions, Table,
    TableInput,
};
use weir_store::{Kind, PartitionRecord, Record, Scope, Transaction};

use weir_resources::stored::{self, Document, Stored};
use weir_resources::{ApiError, OrApiError};

/// A stored table (format 2): its wire form. Its partitions are records of their own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TableDoc {
    /// The table as GetTable answers it.
    pub table: Table,
}

impl Document for TableDoc {
    const VERSION: u32 = 2;

    fn upgrade(version: u32, _text: &str) -> Result<Self, String> {
        // Format 1 holds partitions too: decoding it here would drop them. Weir moves
        // them out at start-up ([`upgrade_tables`]) before anything reads a table.
        Err(format!(
            "a table document of format {version} must be upgraded at start-up first"
        ))
    }
}

/// Format 1 of a table document, frozen: the table with its partitions inside.
#[derive(Debug, Deserialize)]
struct TableDocV1 {
    #[serde(flatten)]
    table: Table,
    #[serde(rename = "WeirPartitions", default)]
    partitions: Vec<Partition>,
}

/// Separates the values inside a [`partition_key`]; it sorts before every character a
/// value (a folder name) can hold, so keys order as the value lists do.
const VALUE_SEPARATOR: char = '\u{1}';

/// The catalog form of a database or table name: lowercased.
pub fn fold(name: &str) -> String {
    name.to_lowercase()
}

/// The store key of a table.
pub fn table_key(database: &str, table: &str) -> String {
    format!("{database}/{table}")
}

/// EntityNotFoundException text for a missing database.
pub fn database_not_found(name: &str) -> String {
    format!("Database {name} not found.")
}

/// EntityNotFoundException text for a missing table.
pub fn table_not_found(name: &str) -> String {
    format!("Table {name} not found.")
}

/// Rejects database names that cannot be stored unambiguously.
pub fn check_database_name(name: &str) -> Result<(), ApiError> {
    if name.contains('/') {
        return Err(ApiError::InvalidInput(format!(
            "Database name {name} is invalid: it may not contain '/'."
        )));
    }
    Ok(())
}

/// A new database from a DatabaseInput, with the defaults Glue reports.
pub fn new_database(input: DatabaseInput, account: &str, now: Timestamp) -> Database {
    Database {
        name: input.name.as_deref().map(fold),
        description: input.description,
        location_uri: input.location_uri,
        parameters: Some(input.parameters.unwrap_or_default()),
        create_time: Some(now),
        create_table_default_permissions: Some(
            input
                .create_table_default_permissions
                .unwrap_or_else(default_permissions),
        ),
        target_database: input.target_database,
        catalog_id: Some(account.to_string()),
        federated_database: input.federated_database,
    }
}

/// `[{Principal: IAM_ALLOWED_PRINCIPALS, Permissions: [ALL]}]`, Glue's default.
fn default_permissions() -> Vec<PrincipalPermissions> {
    vec![PrincipalPermissions {
        principal: Some(DataLakePrincipal {
            data_lake_principal_identifier: Some("IAM_ALLOWED_PRINCIPALS".into()),
        }),
        permissions: Some(vec![Permission::All]),
    }]
}

/// A table from a TableInput (CreateTable), or its replacement (UpdateTable: pass the
/// current table as `previous` to keep its creation time and bump its version).
pub fn table_from_input(
    input: TableInput,
    database: &str,
    account: &str,
    now: Timestamp,
    previous: Option<&Table>,
) -> Table {
    let version = previous
        .and_then(|t| t.version_id.as_deref())
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(0, |v| v + 1);
    Table {
        name: input.name.as_deref().map(fold),
        database_name: Some(database.to_string()),
        description: input.description,
        owner: input.owner,
        create_time: Some(previous.and_then(|t| t.create_time).unwrap_or(now)),
        update_time: Some(now),
        last_access_time: input.last_access_time,
        last_analyzed_time: input.last_analyzed_time,
        retention: Some(input.retention.unwrap_or(0)),
        storage_descriptor: input.storage_descriptor,
        partition_keys: Some(input.partition_keys.unwrap_or_default()),
        view_original_text: input.view_original_text,
        view_expanded_text: input.view_expanded_text,
        table_type: input.table_type,
        parameters: input.parameters,
        created_by: previous.and_then(|t| t.created_by.clone()),
        is_registered_with_lake_formation: Some(false),
        target_table: input.target_table,
        catalog_id: Some(account.to_string()),
        version_id: Some(version.to_string()),
        federated_table: input.federated_table,
        ..Table::default()
    }
}

/// The database `name` (already folded), if it exists.
pub fn load_database(
    tx: &mut dyn Transaction,
    scope: &Scope,
    name: &str,
) -> Result<Option<Stored<Database>>, ApiError> {
    stored::load::<Database>(tx, scope, Kind::Database, name)
}

/// The database `name` (already folded), or EntityNotFoundException.
pub fn require_database(
    tx: &mut dyn Transaction,
    scope: &Scope,
    name: &str,
) -> Result<Stored<Database>, ApiError> {
    load_database(tx, scope, name)?.or_not_found(|| database_not_found(name))
}

/// Inserts (`insert`) or replaces a database; false when the insert found the name
/// taken or the replace found it missing.
pub fn put_database(
    tx: &mut dyn Transaction,
    scope: &Scope,
    database: &Database,
    tags: BTreeMap<String, String>,
    insert: bool,
) -> Result<bool, ApiError> {
    let record = database_record(database, tags)?;
    Ok(if insert {
        tx.insert(scope, Kind::Database, &record)?
    } else {
        tx.update(scope, Kind::Database, &record)?
    })
}

/// The store record of a database.
pub fn database_record(
    database: &Database,
    tags: BTreeMap<String, String>,
) -> Result<Record, ApiError> {
    let name = database.name.clone().unwrap_or_default();
    stored::record(&name, None, database, tags)
}

/// The store record of a table of `database`.
pub fn table_record(
    database: &str,
    doc: &TableDoc,
    tags: BTreeMap<String, String>,
) -> Result<Record, ApiError> {
    let name = doc.table.name.clone().unwrap_or_default();
    stored::record(
        &table_key(database, &name),
        Some(database.to_string()),
        doc,
        tags,
    )
}

/// The table `name` of `database` (both folded), if it exists.
pub fn load_table(
    tx: &mut dyn Transaction,
    scope: &Scope,
    database: &str,
    name: &str,
) -> Result<Option<Stored<TableDoc>>, ApiError> {
    stored::load::<TableDoc>(tx, scope, Kind::Table, &table_key(database, name))
}

/// Inserts (`insert`) or replaces a table of `database`; false as for [`put_database`].
pub fn put_table(
    tx: &mut dyn Transaction,
    scope: &Scope,
    database: &str,
    doc: &TableDoc,
    tags: BTreeMap<String, String>,
    insert: bool,
) -> Result<bool, ApiError> {
    let record = table_record(database, doc, tags)?;
    Ok(if insert {
        tx.insert(scope, Kind::Table, &record)?
    } else {
        tx.update(scope, Kind::Table, &record)?
    })
}

/// Deletes a table; false when it did not exist.
pub fn delete_table(
    tx: &mut dyn Transaction,
    scope: &Scope,
    database: &str,
    name: &str,
) -> Result<bool, ApiError> {
    Ok(tx.delete(scope, Kind::Table, &table_key(database, name))?)
}

/// Deletes a table and its partitions; false when it did not exist.
pub fn delete_table_and_partitions(
    tx: &mut dyn Transaction,
    scope: &Scope,
    database: &str,
    name: &str,
) -> Result<bool, ApiError> {
    tx.delete_partitions(scope, &table_key(database, name))?;
    delete_table(tx, scope, database, name)
}

/// The store key of the partition with `values`: the values joined by a separator that
/// sorts first, so that keys order as the value lists do.
pub fn partition_key(values: &[String]) -> String {
    values.join(&VALUE_SEPARATOR.to_string())
}

/// The partition record of `partition` (keyed by its values).
pub fn partition_record(partition: &Partition) -> Result<PartitionRecord, ApiError> {
    let key = partition_key(partition.values.as_deref().unwrap_or_default());
    let (doc, version) = stored::encode_document(&key, partition)?;
    Ok(PartitionRecord { key, doc, version })
}

/// Decodes a partition record.
pub fn decode_partition(record: &PartitionRecord) -> Result<Partition, ApiError> {
    stored::decode_document(&record.key, record.version, &record.doc)
}

/// Moves the partitions of every table stored in format 1 into partition records and
/// rewrites the table in format 2; returns how many tables it upgraded. Run at
/// start-up, before anything reads a table; idempotent.
pub fn upgrade_tables(tx: &mut dyn Transaction) -> Result<usize, ApiError> {
    let mut upgraded = 0;
    for (scope, record) in tx.list_all(Kind::Table)? {
        if record.version != 1 {
            continue;
        }
        let old: TableDocV1 = serde_json::from_str(&record.doc).map_err(|e| {
            ApiError::Internal(format!(
                "stored table '{}' (format 1) is unreadable: {e}",
                record.name
            ))
        })?;
        for partition in &old.partitions {
            tx.put_partition(&scope, &record.name, &partition_record(partition)?)?;
        }
        let doc = TableDoc { table: old.table };
        let rewritten = stored::record(&record.name, record.parent, &doc, record.tags)?;
        tx.update(&scope, Kind::Table, &rewritten)?;
        upgraded += 1;
    }
    Ok(upgraded)
}

/// Every table of `database`, in name order.
pub fn list_tables(
    tx: &mut dyn Transaction,
    scope: &Scope,
    database: &str,
) -> Result<Vec<Stored<TableDoc>>, ApiError> {
    tx.list_children(scope, Kind::Table, database)?
        .into_iter()
        .map(stored::decode::<TableDoc>)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_documents_keep_the_wire_form() {
        let input = TableInput {
            name: Some("Sales".into()),
            ..Default::default()
        };
        let now = Timestamp::from_millis(1_700_000_000_000);
        let table = table_from_input(input.clone(), "db", "123456789012", now, None);
        assert_eq!(table.name.as_deref(), Some("sales"));
        assert_eq!(table.version_id.as_deref(), Some("0"));
        let later = Timestamp::from_millis(1_700_000_001_000);
        let updated = table_from_input(input, "db", "123456789012", later, Some(&table));
        assert_eq!(updated.version_id.as_deref(), Some("1"));
        assert_eq!(updated.create_time, Some(now));
        assert_eq!(updated.update_time, Some(later));
        let doc = TableDoc {
            table: updated.clone(),
        };
        let text = serde_json::to_string(&doc).expect("encode");
        let wire: Table = serde_json::from_str(&text).expect("wire form");
        assert_eq!(wire, updated);
        let back: TableDoc = serde_json::from_str(&text).expect("decode");
        assert_eq!(back, doc);
        assert!(check_database_name("a/b").is_err());
    }

    #[test]
    fn partition_keys_order_as_their_values() {
        let lists: Vec<Vec<String>> = vec![
            vec!["a".into(), "b".into()],
            vec!["a".into()],
            vec!["ab".into()],
            vec!["a".into(), "a".into()],
            vec!["2024".into(), "01".into()],
            vec!["2023".into(), "12".into()],
        ];
        let mut by_values = lists.clone();
        by_values.sort();
        let mut by_key = lists;
        by_key.sort_by_key(|values| partition_key(values));
        assert_eq!(by_key, by_values);
    }

    #[test]
    fn format_1_tables_move_their_partitions_out_at_upgrade() {
        use weir_store::{SqliteStore, StoreExt};
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path()).expect("store");
        let scope = Scope {
            account: "123456789012".into(),
            region: "us-east-1".into(),
        };
        // As the release before partition records wrote it.
        let v1 = r#"{"Name":"sales","DatabaseName":"db","Description":"kept",
            "WeirPartitions":[{"Values":["2024","02"]},{"Values":["2024","01"]}]}"#;
        let record = Record {
            name: "db/sales".into(),
            parent: Some("db".into()),
            doc: v1.into(),
            version: 1,
            tags: BTreeMap::from([("team".to_string(), "data".to_string())]),
        };
        store
            .write(|tx| tx.insert(&scope, Kind::Table, &record))
            .expect("insert");
        let refused = store.read(|tx| load_table(tx, &scope, "db", "sales"));
        assert!(
            refused.is_err(),
            "format 1 is never read as if it had no partitions"
        );
        assert_eq!(store.write(upgrade_tables).expect("upgrade"), 1);
        assert_eq!(store.write(upgrade_tables).expect("again"), 0, "idempotent");
        let table = store
            .read(|tx| load_table(tx, &scope, "db", "sales"))
            .expect("read")
            .expect("table");
        assert_eq!(table.value.table.description.as_deref(), Some("kept"));
        assert_eq!(table.tags.get("team").map(String::as_str), Some("data"));
        let partitions = store
            .read(|tx| tx.list_partitions(&scope, "db/sales", None, 10))
            .expect("partitions");
        let values: Vec<Vec<String>> = partitions
            .iter()
            .map(|p| {
                decode_partition(p)
                    .expect("decode")
                    .values
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(values, [["2024", "01"], ["2024", "02"]]);
    }
}
