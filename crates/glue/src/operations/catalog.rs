//! Data Catalog operations: databases, tables and (crawler-found) partitions.
//! Storage and naming rules are in [`weir_catalog::tables`]; filters in
//! [`weir_catalog::expression`].
//!
//! Errors follow AWS: a missing database is `EntityNotFoundException: Database <d> not
//! found.`, a missing table `Table <t> not found.`, a taken name
//! `AlreadyExistsException`. `CatalogId`, when given, must be the caller's account
//! (another account's catalog is "not found"). DeleteDatabase deletes its tables.

use std::collections::BTreeMap;

use weir_model::operations::{
    BatchDeleteTable, CreateDatabase, CreateTable, DeleteDatabase, DeleteTable, GetDatabase,
    GetDatabases, GetPartitions, GetTable, GetTables, UpdateDatabase, UpdateTable,
};
use weir_model::shapes::{
    BatchDeleteTableRequest, BatchDeleteTableResponse, CreateDatabaseRequest,
    CreateDatabaseResponse, CreateTableRequest, CreateTableResponse, Database, DatabaseAttributes,
    DeleteDatabaseRequest, DeleteDatabaseResponse, DeleteTableRequest, DeleteTableResponse,
    ErrorDetail, GetDatabaseRequest, GetDatabaseResponse, GetDatabasesRequest,
    GetDatabasesResponse, GetPartitionsRequest, GetPartitionsResponse, GetTableRequest,
    GetTableResponse, GetTablesRequest, GetTablesResponse, Table, TableAttributes, TableError,
    UpdateDatabaseRequest, UpdateDatabaseResponse, UpdateTableRequest, UpdateTableResponse,
};
use weir_store::{Kind, Scope};

use super::{Handle, RequestContext};
use weir_catalog::expression::{NamePattern, Predicate};
use weir_catalog::tables::{self, TableDoc, fold};
use weir_resources::pagination::name_page;
use weir_resources::{ApiError, OrApiError};
use weir_resources::{stored, tags};

/// Page size of GetDatabases/GetTables when MaxResults is absent (the model's maximum).
const CATALOG_PAGE_MAX: usize = 100;
/// Page size of GetPartitions when MaxResults is absent (the model's maximum).
const PARTITIONS_PAGE_MAX: usize = 1000;
/// Partitions read per index range while filling a GetPartitions page.
const PARTITION_BATCH: usize = 512;

/// The segment (of `segments`) a partition belongs to: a stable hash of its key
/// (FNV-1a), so every segment is one filter over the same key-ordered ranges.
fn segment_of(key: &str, segments: u64) -> u64 {
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    hash % segments.max(1)
}

/// The (case-folded) database name of a request, after checking its CatalogId: the
/// catalog is the caller's account; another CatalogId names nothing (not found).
pub(super) fn database_in_catalog(
    scope: &Scope,
    catalog_id: Option<&str>,
    database: Option<&str>,
) -> Result<String, ApiError> {
    let database = fold(database.unwrap_or_default());
    match catalog_id {
        Some(id) if id != scope.account => Err(ApiError::EntityNotFound(
            tables::database_not_found(&database),
        )),
        _ => Ok(database),
    }
}

fn limit(max_results: Option<i32>, default: usize) -> usize {
    max_results.map_or(default, |n| usize::try_from(n).unwrap_or(1))
}

impl Handle for CreateDatabase {
    async fn handle(
        ctx: &RequestContext,
        input: CreateDatabaseRequest,
    ) -> Result<CreateDatabaseResponse, ApiError> {
        let database_input = input.database_input.unwrap_or_default();
        let name = database_in_catalog(
            &ctx.scope,
            input.catalog_id.as_deref(),
            database_input.name.as_deref(),
        )?;
        tables::check_database_name(&name)?;
        let tags = input.tags.unwrap_or_default();
        tags::check(&tags)?;
        let database =
            tables::new_database(database_input, &ctx.scope.account, ctx.app.clock().now());
        let scope = ctx.scope.clone();
        let created = ctx
            .app
            .write(move |tx| tables::put_database(tx, &scope, &database, tags, true))
            .await?;
        if !created {
            return Err(ApiError::AlreadyExists("Database already exists.".into()));
        }
        Ok(CreateDatabaseResponse::default())
    }
}

impl Handle for UpdateDatabase {
    async fn handle(
        ctx: &RequestContext,
        input: UpdateDatabaseRequest,
    ) -> Result<UpdateDatabaseResponse, ApiError> {
        let now = ctx.app.clock().now();
        let name = database_in_catalog(
            &ctx.scope,
            input.catalog_id.as_deref(),
            input.name.as_deref(),
        )?;
        let database_input = input.database_input.unwrap_or_default();
        if fold(database_input.name.as_deref().unwrap_or_default()) != name {
            return Err(ApiError::InvalidInput(
                "Renaming a database is not supported: DatabaseInput.Name must equal Name.".into(),
            ));
        }
        let scope = ctx.scope.clone();
        let account = ctx.scope.account.clone();
        ctx.app
            .write(move |tx| {
                let current = tables::require_database(tx, &scope, &name)?;
                let mut database = tables::new_database(database_input, &account, now);
                database.create_time = current.value.create_time;
                tables::put_database(tx, &scope, &database, current.tags, false)?;
                Ok(())
            })
            .await?;
        Ok(UpdateDatabaseResponse::default())
    }
}

impl Handle for DeleteDatabase {
    async fn handle(
        ctx: &RequestContext,
        input: DeleteDatabaseRequest,
    ) -> Result<DeleteDatabaseResponse, ApiError> {
        let name = database_in_catalog(
            &ctx.scope,
            input.catalog_id.as_deref(),
            input.name.as_deref(),
        )?;
        let scope = ctx.scope.clone();
        ctx.app
            .write(move |tx| {
                tables::require_database(tx, &scope, &name)?;
                for table in tx.list_children(&scope, Kind::Table, &name)? {
                    tx.delete_partitions(&scope, &table.name)?;
                    tx.delete(&scope, Kind::Table, &table.name)?;
                }
                tx.delete(&scope, Kind::Database, &name)?;
                Ok(())
            })
            .await?;
        Ok(DeleteDatabaseResponse::default())
    }
}

impl Handle for GetDatabase {
    async fn handle(
        ctx: &RequestContext,
        input: GetDatabaseRequest,
    ) -> Result<GetDatabaseResponse, ApiError> {
        let name = database_in_catalog(
            &ctx.scope,
            input.catalog_id.as_deref(),
            input.name.as_deref(),
        )?;
        let scope = ctx.scope.clone();
        let found = ctx
            .app
            .read(move |tx| tables::require_database(tx, &scope, &name))
            .await?;
        Ok(GetDatabaseResponse {
            database: Some(found.value),
        })
    }
}

impl Handle for GetDatabases {
    async fn handle(
        ctx: &RequestContext,
        input: GetDatabasesRequest,
    ) -> Result<GetDatabasesResponse, ApiError> {
        if input
            .catalog_id
            .as_deref()
            .is_some_and(|id| id != ctx.scope.account)
        {
            return Ok(GetDatabasesResponse {
                database_list: Some(Vec::new()),
                next_token: None,
            });
        }
        let limit = limit(input.max_results, CATALOG_PAGE_MAX);
        let scope = ctx.scope.clone();
        let app = ctx.app.clone();
        let context = format!("GetDatabases/{}/{}", scope.account, scope.region);
        let names_only = input
            .attributes_to_get
            .is_some_and(|a| a.iter().all(|x| *x == DatabaseAttributes::Name));
        let page = ctx
            .app
            .read(move |tx| {
                name_page(
                    app.tokens(),
                    &context,
                    input.next_token.as_deref(),
                    limit,
                    |after, n| tx.list(&scope, Kind::Database, after, n),
                    |record| record.name.as_str(),
                )
            })
            .await?;
        let databases = page
            .items
            .into_iter()
            .map(|record| {
                stored::decode::<Database>(record).map(|s| {
                    if names_only {
                        Database {
                            name: s.value.name,
                            ..Default::default()
                        }
                    } else {
                        s.value
                    }
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(GetDatabasesResponse {
            database_list: Some(databases),
            next_token: page.next_token,
        })
    }
}

impl Handle for CreateTable {
    async fn handle(
        ctx: &RequestContext,
        input: CreateTableRequest,
    ) -> Result<CreateTableResponse, ApiError> {
        let now = ctx.app.clock().now();
        let database = database_in_catalog(
            &ctx.scope,
            input.catalog_id.as_deref(),
            input.database_name.as_deref(),
        )?;
        let table_input = input.table_input.unwrap_or_default();
        if table_input.name.as_deref().is_none_or(str::is_empty) {
            return Err(ApiError::InvalidInput(
                "TableInput.Name is required.".into(),
            ));
        }
        let scope = ctx.scope.clone();
        let account = ctx.scope.account.clone();
        let created = ctx
            .app
            .write(move |tx| {
                tables::require_database(tx, &scope, &database)?;
                let table = tables::table_from_input(table_input, &database, &account, now, None);
                let doc = TableDoc { table };
                tables::put_table(tx, &scope, &database, &doc, BTreeMap::new(), true)
            })
            .await?;
        if !created {
            return Err(ApiError::AlreadyExists("Table already exists.".into()));
        }
        Ok(CreateTableResponse::default())
    }
}

impl Handle for UpdateTable {
    async fn handle(
        ctx: &RequestContext,
        input: UpdateTableRequest,
    ) -> Result<UpdateTableResponse, ApiError> {
        let now = ctx.app.clock().now();
        let database = database_in_catalog(
            &ctx.scope,
            input.catalog_id.as_deref(),
            input.database_name.as_deref(),
        )?;
        let table_input = input.table_input.unwrap_or_default();
        let name = fold(table_input.name.as_deref().unwrap_or_default());
        if let Some(named) = input.name.as_deref()
            && fold(named) != name
        {
            return Err(ApiError::InvalidInput(
                "Renaming a table is not supported: TableInput.Name must equal Name.".into(),
            ));
        }
        let scope = ctx.scope.clone();
        let account = ctx.scope.account.clone();
        let expected_version = input.version_id;
        ctx.app
            .write(move |tx| {
                tables::require_database(tx, &scope, &database)?;
                let current = tables::load_table(tx, &scope, &database, &name)?
                    .or_not_found(|| tables::table_not_found(&name))?;
                if let Some(expected) = expected_version
                    && current.value.table.version_id.as_deref() != Some(expected.as_str())
                {
                    return Err(ApiError::ConcurrentModification(format!(
                        "Table {name} is at version {}, not {expected}.",
                        current.value.table.version_id.as_deref().unwrap_or("0")
                    )));
                }
                let table = tables::table_from_input(
                    table_input,
                    &database,
                    &account,
                    now,
                    Some(&current.value.table),
                );
                let doc = TableDoc { table };
                tables::put_table(tx, &scope, &database, &doc, current.tags, false)?;
                Ok(())
            })
            .await?;
        Ok(UpdateTableResponse::default())
    }
}

impl Handle for DeleteTable {
    async fn handle(
        ctx: &RequestContext,
        input: DeleteTableRequest,
    ) -> Result<DeleteTableResponse, ApiError> {
        let database = database_in_catalog(
            &ctx.scope,
            input.catalog_id.as_deref(),
            input.database_name.as_deref(),
        )?;
        let name = fold(input.name.as_deref().unwrap_or_default());
        let scope = ctx.scope.clone();
        ctx.app
            .write(move |tx| {
                tables::require_database(tx, &scope, &database)?;
                if !tables::delete_table_and_partitions(tx, &scope, &database, &name)? {
                    return Err(ApiError::EntityNotFound(tables::table_not_found(&name)));
                }
                Ok(())
            })
            .await?;
        Ok(DeleteTableResponse::default())
    }
}

impl Handle for BatchDeleteTable {
    async fn handle(
        ctx: &RequestContext,
        input: BatchDeleteTableRequest,
    ) -> Result<BatchDeleteTableResponse, ApiError> {
        let database = database_in_catalog(
            &ctx.scope,
            input.catalog_id.as_deref(),
            input.database_name.as_deref(),
        )?;
        let names = input.tables_to_delete.unwrap_or_default();
        let scope = ctx.scope.clone();
        let errors = ctx
            .app
            .write(move |tx| {
                tables::require_database(tx, &scope, &database)?;
                let mut errors = Vec::new();
                for name in names {
                    if !tables::delete_table_and_partitions(tx, &scope, &database, &fold(&name))? {
                        errors.push(TableError {
                            error_detail: Some(ErrorDetail {
                                error_code: Some("EntityNotFoundException".into()),
                                error_message: Some(tables::table_not_found(&name)),
                            }),
                            table_name: Some(name),
                        });
                    }
                }
                Ok(errors)
            })
            .await?;
        Ok(BatchDeleteTableResponse {
            errors: Some(errors),
        })
    }
}

impl Handle for GetTable {
    async fn handle(
        ctx: &RequestContext,
        input: GetTableRequest,
    ) -> Result<GetTableResponse, ApiError> {
        let database = database_in_catalog(
            &ctx.scope,
            input.catalog_id.as_deref(),
            input.database_name.as_deref(),
        )?;
        let name = fold(input.name.as_deref().unwrap_or_default());
        let scope = ctx.scope.clone();
        let found = ctx
            .app
            .read(move |tx| {
                tables::require_database(tx, &scope, &database)?;
                tables::load_table(tx, &scope, &database, &name)?
                    .or_not_found(|| tables::table_not_found(&name))
            })
            .await?;
        Ok(GetTableResponse {
            table: Some(found.value.table),
        })
    }
}

impl Handle for GetTables {
    async fn handle(
        ctx: &RequestContext,
        input: GetTablesRequest,
    ) -> Result<GetTablesResponse, ApiError> {
        let database = database_in_catalog(
            &ctx.scope,
            input.catalog_id.as_deref(),
            input.database_name.as_deref(),
        )?;
        let pattern = input
            .expression
            .as_deref()
            .map(NamePattern::new)
            .transpose()?;
        let limit = limit(input.max_results, CATALOG_PAGE_MAX);
        let context = format!(
            "GetTables/{}/{}/{database}",
            ctx.scope.account, ctx.scope.region
        );
        let after = ctx
            .app
            .tokens()
            .cursor(&context, input.next_token.as_deref())?;
        let scope = ctx.scope.clone();
        let mut matching: Vec<Table> = ctx
            .app
            .read(move |tx| {
                tables::require_database(tx, &scope, &database)?;
                Ok(tables::list_tables(tx, &scope, &database)?
                    .into_iter()
                    .map(|s| s.value.table)
                    .filter(|t| {
                        let name = t.name.as_deref().unwrap_or_default();
                        after.as_deref().is_none_or(|a| name > a)
                            && pattern.as_ref().is_none_or(|p| p.matches(name))
                    })
                    .collect())
            })
            .await?;
        let next_token = if matching.len() > limit {
            matching.truncate(limit);
            matching.last().map(|t| {
                ctx.app
                    .tokens()
                    .issue(&context, t.name.as_deref().unwrap_or_default())
            })
        } else {
            None
        };
        if let Some(attributes) = input.attributes_to_get {
            for table in &mut matching {
                *table = Table {
                    name: table.name.take(),
                    table_type: if attributes.contains(&TableAttributes::TableType) {
                        table.table_type.take()
                    } else {
                        None
                    },
                    ..Default::default()
                };
            }
        }
        Ok(GetTablesResponse {
            table_list: Some(matching),
            next_token,
        })
    }
}

impl Handle for GetPartitions {
    async fn handle(
        ctx: &RequestContext,
        input: GetPartitionsRequest,
    ) -> Result<GetPartitionsResponse, ApiError> {
        let database = database_in_catalog(
            &ctx.scope,
            input.catalog_id.as_deref(),
            input.database_name.as_deref(),
        )?;
        let name = fold(input.table_name.as_deref().unwrap_or_default());
        let predicate = input
            .expression
            .as_deref()
            .filter(|e| !e.trim().is_empty())
            .map(Predicate::parse)
            .transpose()?;
        let limit = limit(input.max_results, PARTITIONS_PAGE_MAX);
        let context = format!(
            "GetPartitions/{}/{}/{database}/{name}",
            ctx.scope.account, ctx.scope.region
        );
        let mut after = ctx
            .app
            .tokens()
            .cursor(&context, input.next_token.as_deref())?;
        let (segment, segments) = input.segment.map_or((0, 1), |s| {
            let total = s.total_segments.unwrap_or(1).max(1) as u64;
            (s.segment_number.unwrap_or(0).max(0) as u64, total)
        });
        let scope = ctx.scope.clone();
        let table = ctx
            .app
            .read({
                let (scope, database, name) = (scope.clone(), database.clone(), name.clone());
                move |tx| {
                    tables::require_database(tx, &scope, &database)?;
                    tables::load_table(tx, &scope, &database, &name)?
                        .or_not_found(|| tables::table_not_found(&name))
                }
            })
            .await?
            .value
            .table;
        let keys: Vec<String> = table
            .partition_keys
            .iter()
            .flatten()
            .filter_map(|c| c.name.as_deref().map(fold))
            .collect();
        let table_key = tables::table_key(&database, &name);
        // Index ranges of the table's partitions, in key order, until a page and one
        // more partition of this segment that the expression accepts are found.
        let mut partitions = Vec::new();
        let mut last_key = None;
        let mut more = false;
        'scan: loop {
            let batch = {
                let (scope, table_key, from) = (scope.clone(), table_key.clone(), after.clone());
                ctx.app
                    .read(move |tx| {
                        Ok(tx.list_partitions(
                            &scope,
                            &table_key,
                            from.as_deref(),
                            PARTITION_BATCH,
                        )?)
                    })
                    .await?
            };
            let exhausted = batch.len() < PARTITION_BATCH;
            for record in batch {
                after = Some(record.key.clone());
                if segment_of(&record.key, segments) != segment {
                    continue;
                }
                let partition = tables::decode_partition(&record)?;
                let values = partition.values.clone().unwrap_or_default();
                if predicate.as_ref().is_some_and(|p| !p.holds(&keys, &values)) {
                    continue;
                }
                if partitions.len() == limit {
                    more = true;
                    break 'scan;
                }
                last_key = Some(record.key);
                partitions.push(partition);
            }
            if exhausted {
                break;
            }
        }
        let next_token = match (more, last_key) {
            (true, Some(last)) => Some(ctx.app.tokens().issue(&context, &last)),
            _ => None,
        };
        if input.exclude_column_schema == Some(true) {
            for partition in &mut partitions {
                if let Some(sd) = partition.storage_descriptor.as_mut() {
                    sd.columns = None;
                }
            }
        }
        Ok(GetPartitionsResponse {
            partitions: Some(partitions),
            next_token,
        })
    }
}
