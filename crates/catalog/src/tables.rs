//! The stored Data Catalog, shared by the catalog operations and the crawler.
//!
//! - A database is a `Kind::Database` record named after the database, holding its
//!   `Database` wire form.
//! - A table is a `Kind::Table` record named `<database>/<table>` with the database as
//!   parent, holding its `Table` wire form plus a `WeirPartitions` member with its
//!   partitions (so a table and its partitions change in one write).
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
use weir_store::{Kind, Record, Scope, Transaction};

use weir_resources::stored::{self, Stored};
use weir_resources::{ApiError, OrApiError};

/// A stored table: its wire form and its partitions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableDoc {
    /// The table as GetTable answers it.
    #[serde(flatten)]
    pub table: Table,
    /// Its partitions (GetPartitions), in values order.
    #[serde(
        rename = "WeirPartitions",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub partitions: Vec<Partition>,
}

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
    fn table_documents_keep_the_wire_form_and_partitions() {
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
            partitions: vec![Partition {
                values: Some(vec!["2024".into()]),
                ..Default::default()
            }],
        };
        let text = serde_json::to_string(&doc).expect("encode");
        let wire: Table = serde_json::from_str(&text).expect("wire form");
        assert_eq!(wire, updated);
        let back: TableDoc = serde_json::from_str(&text).expect("decode");
        assert_eq!(back, doc);
        assert!(check_database_name("a/b").is_err());
    }
}
